r"""Innovation diffusion: the Bass model, fitted three ways, and its forecasts.

A new product is adopted by innovators at a constant rate :math:`p` of those
who have not adopted yet, and by imitators at a rate :math:`q N/m` that grows
with the share already adopted (Bass 1969):

.. math:: \frac{dN}{dt} = \left(p + \frac{q}{m} N\right)(m - N),
          \qquad N(t) = m F(t),\quad
          F(t) = \frac{1 - e^{-(p+q)t}}{1 + (q/p)\,e^{-(p+q)t}}

with :math:`t` the time since launch and :math:`m` the market potential.
Adoptions per period are :math:`m\,[F(t) - F(t-\Delta)]`; the adoption rate
:math:`m f(t)` peaks at :math:`t^* = \ln(q/p)/(p+q)` when :math:`q > p`.

Three estimators give different answers on the same short series (they move
:math:`p` by a factor of about two on Bass's own products), so the model
takes ``estimator=``:

``"nls"`` (default)
    nonlinear least squares on the data as given, cumulative or per period
    (Srinivasan & Mason 1986); with ``adoptions="per-period"`` each value is
    modelled as the exact increment :math:`m[F(t) - F(t - \Delta)]`.
``"ols"``
    Bass's (1969) regression on the discrete analogue
    :math:`S_t = pm + (q - p)Y_{t-1} - (q/m)Y_{t-1}^2` (:math:`S_t` sales in
    period :math:`t`, :math:`Y_{t-1}` cumulative sales before it), solved
    for :math:`(m, p, q)`; standard errors are those of the regression
    carried to :math:`(m, p, q)` by the delta method. Also the self-start.
``"ml"``
    maximum likelihood with adoptions per period independent Poisson counts
    of mean :math:`m[F(t_i) - F(t_{i-1})]`: the limit of Schmittlein &
    Mahajan's (1982) multinomial likelihood when the population is large
    against the market potential. Covariances are scaled by the deviance
    per degree of freedom (quasi-Poisson), as sales are overdispersed.

Before launch, or with a few periods only, ``prior={"p": (mean, sd), ...}``
holds p and q near an analogous product's values (Gaussian priors as
penalty residuals) while m is estimated, its interval carrying the priors'
uncertainty.

The curve is evaluated by the core, :mod:`scurve.core.special`, in the stable
forms of NUMERICS.md (d7), re-exported here: :func:`bass_cdf` (``expm1``,
no cancellation at small :math:`t`), :func:`bass_survival` (:math:`1 - F`
through ``expit``/``log_expit``, exact in the tail), :func:`bass_pdf` and
:func:`bass_increment` (from whichever of :math:`F` and :math:`1 - F` is
small).

References
----------
.. [1] F. M. Bass, "A new product growth for model consumer durables",
   Management Science 15:215-227, 1969.
.. [2] V. Srinivasan, C. H. Mason, "Nonlinear least squares estimation of new
   product diffusion models", Marketing Science 5:169-178, 1986.
.. [3] D. C. Schmittlein, V. Mahajan, "Maximum likelihood estimation for an
   innovation diffusion model of new product acceptance", Marketing Science
   1:57-78, 1982.
.. [4] F. M. Bass, T. V. Krishnan, D. C. Jain, "Why the Bass model fits
   without decision variables", Marketing Science 13:203-223, 1994.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Literal

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core.special import bass_cdf, bass_increment, bass_pdf, bass_survival
from scurve.core.stacked import at, sorted_rows
from scurve.models.base import SCurveModel, no_messages

__all__ = [
    "BassGeneralizedModel",
    "BassModel",
    "bass_cdf",
    "bass_increment",
    "bass_pdf",
    "bass_survival",
    "parse_prior",
]

Adoptions = Literal["cumulative", "per-period", "rate"]
Estimator = Literal["nls", "ols", "ml"]

ADOPTIONS: tuple[str, ...] = ("cumulative", "per-period", "rate")
ESTIMATORS: tuple[str, ...] = ("nls", "ols", "ml")

#: Below this, p counts as zero in q/p (p = 0 has no innovators to start).
_TINY = float(np.finfo(np.float64).tiny)

#: The lower bound of p: positive, so that q/p in the derived quantities is
#: finite at the bound (a profile of p runs into it).
_P_MIN = 1e-300

# ---------------------------------------------------------------------- helpers


def _spacing(x: NDArray[np.float64]) -> float:
    """The length of one period: the most common gap between sorted x
    (1 when there is a single distinct x)."""
    steps = np.diff(np.unique(x))
    if steps.size == 0:
        return 1.0
    rounded = np.round(steps, 9)
    values, counts = np.unique(rounded, return_counts=True)
    return float(values[np.argmax(counts)])


def _spacings(xs: NDArray[np.float64], n: NDArray[np.intp]) -> NDArray[np.float64]:
    """:func:`_spacing` of many curves at once: `xs` holds each curve's x
    sorted ascending in its first ``n`` places (a row of a stack). Ties
    between equally common gaps go to the shortest, as there."""
    if xs.shape[1] < 2:
        return np.ones(xs.shape[0])
    steps = np.diff(np.where(np.arange(xs.shape[1]) < n[:, None], xs, 0.0), axis=1)
    real = np.arange(steps.shape[1]) < (n - 1)[:, None]
    distinct = real & (steps != 0)
    rounded = np.where(distinct, np.round(np.where(distinct, steps, 0.0), 9), np.inf)
    rounded = np.sort(rounded, axis=1)
    # the length of the run of equal gaps each place ends (sorted, so equal
    # gaps are neighbours); the first longest run is the smallest gap's
    place = np.arange(rounded.shape[1])
    new = np.ones(rounded.shape, dtype=bool)
    new[:, 1:] = rounded[:, 1:] != rounded[:, :-1]
    first = np.maximum.accumulate(np.where(new, place, 0), axis=1)
    runs = np.where(np.isfinite(rounded), place - first + 1, 0)
    best = np.argmax(runs, axis=1)
    common = np.take_along_axis(rounded, best[:, None], axis=1)[:, 0]
    return np.where(runs.max(axis=1, initial=0) > 0, common, 1.0)


def _share_name(share: float) -> str:
    """``t_50`` for 0.5, ``t_90`` for 0.9, ``t_2_5`` for 0.025."""
    text = f"{100 * share:g}".replace(".", "_")
    return f"t_{text}"


def _discrete_analogue(
    x: NDArray[np.float64], y: NDArray[np.float64], adoptions: str, period: float
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Sales per period :math:`S_t` and cumulative sales before the period
    :math:`Y_{t-1}`, in time order, from data of kind `adoptions`."""
    order = np.argsort(x, kind="stable")
    return _analogue_of_sorted(y[order], adoptions, period)


def _analogue_of_sorted(
    values: NDArray[np.float64], adoptions: str, period: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`_discrete_analogue` of responses already in time order, along
    the last axis (so of a stack of curves too, `period` then one per row
    as a column)."""
    if adoptions == "cumulative":
        sales = np.diff(values, prepend=0.0, axis=-1)
        before = values - sales
    else:
        sales = values * period if adoptions == "rate" else values
        before = np.cumsum(sales, axis=-1) - sales
    return sales, before


def _regression(
    sales: NDArray[np.float64], before: NDArray[np.float64], period: float
) -> tuple[float, float, float] | None:
    """Bass's (1969) OLS: (m, p, q) from :math:`S_t/\\Delta = a + bY + cY^2`,
    or None when the quadratic has no admissible root (c >= 0, no sales
    peak in sight)."""
    design = np.column_stack([np.ones_like(before), before, before * before])
    try:
        (a, b, c), *_ = np.linalg.lstsq(design, sales / period, rcond=None)
    except np.linalg.LinAlgError:
        return None
    m, p, q = _market(a, b, c)
    if not math.isfinite(m):
        return None
    return float(m), float(p), float(q)


def _market(a: Any, b: Any, c: Any) -> tuple[Any, Any, Any]:
    r"""(m, p, q) from the coefficients of Bass's regression
    :math:`S_t/\Delta = a + bY + cY^2`, elementwise: m is the root
    :math:`(-b - \sqrt{b^2 - 4ac})/(2c)`, p = a/m, q = -cm; NaN where the
    quadratic has no admissible root (c >= 0, no sales peak in sight)."""
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        disc = b * b - 4 * a * c
        m = (-b - np.sqrt(disc)) / (2 * c)
        p, q = a / m, -c * m
        found = (c < 0) & (disc > 0) & (a > 0)
        found &= (m > 0) & (p > 0) & (q >= 0) & np.isfinite(m)
    return (
        np.where(found, m, np.nan),
        np.where(found, p, np.nan),
        np.where(found, q, np.nan),
    )


def _regressions(
    sales: NDArray[np.float64],
    before: NDArray[np.float64],
    n: NDArray[np.intp],
    period: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`_regression` of each row of a stack (its first ``n`` places),
    NaN where that gives None: the per-curve start's own solver, so that
    the values are its, to the last bit."""
    out = np.full((len(n), 3), np.nan)
    for k, size in enumerate(n.tolist()):
        start = _regression(sales[k, :size], before[k, :size], float(period[k]))
        if start is not None:
            out[k] = start
    return out[:, 0], out[:, 1], out[:, 2]


#: The least starting q (on q's bound 0 the fit could not move it).
_Q_START_MIN = 1e-3

#: The parameters the self-start computes (others start at their hints).
_STARTED = ("m", "p", "q", "launch", "period")


def _profile_start(
    sales: NDArray[np.float64], before: NDArray[np.float64], period: float
) -> tuple[float, float, float]:
    """A start when the regression fails: for trial potentials m, a multiple
    of the sales so far, :math:`S_t/(\\Delta(m - Y_{t-1})) = p + q Y_{t-1}/m`
    is linear; keep the m whose line reproduces the sales best."""
    total = float(before[-1] + sales[-1]) if sales.size else 1.0
    total = total if total > 0 else 1.0
    best = (math.inf, 2 * total, 0.01, 0.3)
    for factor in (1.05, 1.2, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0):
        m = factor * total
        rate = sales / (period * (m - before))
        design = np.column_stack([np.ones_like(before), before / m])
        (p, q), *_ = np.linalg.lstsq(design, rate, rcond=None)
        p, q = max(float(p), 1e-6), max(float(q), 0.0)
        fitted = period * (p + q * before / m) * (m - before)
        score = float(np.sum((sales - fitted) ** 2))
        if score < best[0]:
            best = (score, m, p, q)
    return best[1], best[2], best[3]


def _above_sales(m: Any, p: Any, q: Any, total: Any) -> tuple[Any, Any]:
    """The regression's m, raised to 1.001 times the sales so far (`total`)
    where it falls short of them but its p and q are usable, and where the
    profile start is needed instead (no regression start, or a short m with
    q = 0); elementwise."""
    short = m < 1.001 * total
    raised = short & (np.minimum(p, q) > 0)
    profile = np.isnan(m) | (short & ~raised)
    return np.where(raised, 1.001 * total, m), profile


def _rt_plus_expm1(y: NDArray[np.float64]) -> NDArray[np.float64]:
    r""":math:`y + e^{-y} - 1` for :math:`y \ge 0`; below 0.05, where the
    direct sum cancels (it is about :math:`y^2/2` there), from its Taylor
    series :math:`\sum_{k \ge 2} (-y)^k/k!` (10 terms, 1e-17 relative)."""
    out = np.array(y + np.expm1(-y))
    small = y < 0.05
    if np.any(small):
        s = y[small]
        series = np.zeros_like(s)
        for k in range(11, 1, -1):
            series = (1.0 / math.factorial(k)) - s * series
        out[small] = s * s * series
    return out


def _bass_sensitivities(
    t: NDArray[np.float64], p: Any, q: Any, density: bool = False
) -> dict[str, NDArray[np.float64]]:
    r"""The Bass density :math:`f = F'` and the derivatives of the share
    :math:`F(t)` with respect to p and q, with those of f (in t, p and q)
    if `density`. All are 0 before launch and taken from the right at the
    launch itself, where f jumps from 0 to p (as :func:`bass_pdf`).

    With :math:`r = p + q`, :math:`E = e^{-rt}`, :math:`D = p + qE`, the
    survival :math:`g = 1 - F = rE/D` and :math:`h = rp/D`, so that
    :math:`f = gh`:

    .. math:: \frac{\partial F}{\partial p} = \frac{t f + q g c}{r}, \quad
              c = \frac{1 - E}{D}, \qquad
              \frac{\partial F}{\partial q} = f\,\frac{rt - (1 - E)}{r^2},

    .. math:: \frac{\partial f}{\partial t} = f (gq - h), \quad
              \frac{\partial f}{\partial p} = \frac{g (gq - h)}{D}
              + f\,\frac{2 + t (gq - h)}{r}, \quad
              \frac{\partial f}{\partial q} = f\,\frac{2F + t (gq - h)}{r}.

    Every term is a product or a sum of same-signed terms except
    :math:`gq - h = r(qE - p)/D`, which changes sign at the peak, and
    :math:`rt - (1 - E)`, taken from its series at small rt. f comes from the
    core's :func:`bass_pdf` (exact in the late tail, where E underflows) and
    g as f/h; the ratios are bounded (:math:`g \le 1`, :math:`h \le r`,
    :math:`c = F/p \le 1/p`), so none overflows for p down to its bound
    1e-300.
    """
    before = t < 0
    t = np.maximum(t, 0.0)
    p = np.maximum(p, _TINY)
    r = p + q
    rt = r * t
    f = np.where(before, 0.0, bass_pdf(t, p, q))
    d = p + q * np.exp(-rt)
    h = r * (p / d)
    g = f / h
    c = -np.expm1(-rt) / d
    out = {
        "f": f,
        "F_p": (t * f + q * g * c) / r,
        "F_q": f * (_rt_plus_expm1(rt) / (r * r)),
    }
    if density:
        tilt = g * q - h
        out["f_t"] = f * tilt
        out["f_p"] = np.where(before, 0.0, g * tilt / d + f * (2 + t * tilt) / r)
        out["f_q"] = f * (2 * (p * c) + t * tilt) / r
    return out


# ---------------------------------------------------------------------- model


class BassModel(SCurveModel):
    r"""The Bass (1969) diffusion model: market potential m, innovation p,
    imitation q.

    .. math:: N(x) = m\,F(x - \text{launch}), \qquad
              F(t) = \frac{1 - e^{-(p+q)t}}{1 + (q/p)\,e^{-(p+q)t}}

    Parameters
    ----------
    adoptions : {"cumulative", "per-period", "rate"}
        What the response is (``scurve fit --data``): cumulative adopters
        :math:`m F(t)`; adoptions (sales) in the period ending at x,
        :math:`m[F(t) - F(t - \Delta)]` with :math:`\Delta` the parameter
        ``period``; or the instantaneous adoption rate :math:`m f(t)` (what
        fitting the density at a point, as
        many spreadsheets and R scripts do, assumes).
    estimator : {"nls", "ols", "ml"}
        Nonlinear least squares (Srinivasan & Mason 1986, the default),
        Bass's (1969) OLS on the discrete analogue, or Poisson maximum
        likelihood (Schmittlein & Mahajan 1982); see the module docstring.
        ``ols`` and ``ml`` need counts (cumulative or per period) on equally
        spaced periods from launch (``ml`` allows gaps).
    launch : float, "fit" or None
        The launch time on the x axis (t = x - launch). None: one period
        before the first x (the first observation is period 1, as in Bass
        1969 and Srinivasan & Mason 1986), held fixed; a number: held there;
        ``"fit"``: estimated (nls only).
    period : float, optional
        The length :math:`\Delta` of one period in units of x; default the
        most common spacing of the data's x (1 for yearly data).
    share : float
        The share of m whose time of reaching is the derived ``t_NN``
        (default 0.5, ``t_50``).
    prior : mapping, optional
        Gaussian priors ``{name: (mean, sd)}`` on m, p or q (``scurve fit
        --prior p=0.03:0.01``), for pre-launch forecasts from an analogous
        product: p and q held near the analogue's values, m estimated from
        the first few periods, with the priors' uncertainty carried into m's
        interval. Each prior adds the pseudo-observation
        :math:`s_0(\theta - \mu)/\tau` to the residuals (the penalized
        least squares of a posterior mode), with :math:`s_0` the residual
        standard error of the fit of m alone at the prior means, so that the
        prior weighs as one observation of standard error :math:`\tau`
        (on the scale of the data, the residual scale). Estimator ``nls``
        only; a fixed value (``fix=``) is the limit :math:`\tau \to 0`.

    Notes
    -----
    Parameters: ``m`` >= 0, ``p`` >= 1e-300, ``q`` >= 0 (rates per unit of x),
    ``launch`` (fixed unless ``launch="fit"``) and, for per-period data,
    ``period`` (fixed). Derived, with standard errors and intervals:

    * ``t_peak`` = ln(q/p)/(p+q), the time from launch of the peak of the
      adoption rate (0 when q <= p: adoptions fall from launch on);
    * ``peak_time`` = launch + t_peak, the same on the x axis;
    * ``peak_rate`` = m (p+q)^2/(4q), the adoption rate at the peak (m p when
      q <= p), per unit of x;
    * ``peak_adopters`` = m (q-p)/(2q), the cumulative adopters at the peak;
    * ``t_NN`` = [ln(1 + s q/p) - ln(1 - s)]/(p+q), the time from launch at
      which the share s = NN/100 of m has adopted.

    Examples
    --------
    >>> import numpy as np
    >>> import scurve
    >>> years = np.arange(1.0, 16.0)
    >>> model = BassModel(adoptions="per-period")
    >>> sales = model.function(years, m=1e4, p=0.02, q=0.4, launch=0.0, period=1.0)
    >>> result = scurve.fit(x=years, y=np.round(sales), model=model)
    >>> round(result.params["q"].value, 2), round(float(result.params["t_peak"]), 1)
    (0.4, 7.1)
    """

    name = "bass"
    formula = "m * F(x - launch), F(t) = (1 - exp(-(p+q) t)) / (1 + q/p exp(-(p+q) t))"
    hints: ClassVar[dict[str, dict[str, float]]] = {
        "m": {"min": 0.0},
        "p": {"min": _P_MIN},
        "q": {"min": 0.0},
    }
    option_names: ClassVar[tuple[str, ...]] = (
        "adoptions",
        "estimator",
        "launch",
        "period",
        "share",
        "prior",
        "log_y",
    )

    def __init__(
        self,
        adoptions: Adoptions = "cumulative",
        estimator: Estimator = "nls",
        launch: float | Literal["fit"] | None = None,
        period: float | None = None,
        share: float = 0.5,
        prior: Mapping[str, tuple[float, float]] | None = None,
        **kws: Any,
    ) -> None:
        adoptions = str(adoptions).strip().lower().replace("_", "-")  # type: ignore[assignment]
        if adoptions not in ADOPTIONS:
            raise ValueError(
                f"adoptions must be one of {', '.join(ADOPTIONS)}, not {adoptions!r}"
            )
        estimator = str(estimator).strip().lower()  # type: ignore[assignment]
        if estimator not in ESTIMATORS:
            raise ValueError(
                f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}"
            )
        if estimator != "nls" and adoptions == "rate":
            raise ValueError(
                f"estimator {estimator!r} needs counts (cumulative or "
                "per-period adoptions), not rates"
            )
        if launch == "fit" and estimator != "nls":
            raise ValueError("launch='fit' needs estimator 'nls'")
        if launch is not None and launch != "fit" and not math.isfinite(launch):
            raise ValueError(f"launch must be a finite number or 'fit', not {launch}")
        if period is not None and not (math.isfinite(period) and period > 0):
            raise ValueError(f"period must be a positive number, not {period}")
        if not 0 < share < 1:
            raise ValueError(f"share must be between 0 and 1, not {share}")
        self.prior = _check_prior(prior)
        if self.prior and estimator != "nls":
            raise ValueError("prior needs estimator 'nls'")
        #: The residual scale the prior residuals are multiplied by (set by
        #: the self-start, see :meth:`guess`).
        self.prior_scale = 1.0
        self.adoptions: str = adoptions
        self.estimator: str = estimator
        self.launch = launch
        self.period = None if period is None else float(period)
        self.share = float(share)
        self.derived = self._derived_quantities()
        #: times from the launch, rates and counts: >= 0 (the peak at the
        #: launch where q <= p)
        self.positive_derived = frozenset(  # type: ignore[misc]
            {"t_peak", "peak_rate", "peak_adopters", _share_name(self.share)}
        )
        super().__init__(**kws)
        self.set_param_hint("launch", value=0.0, vary=launch == "fit")
        if self.adoptions == "per-period":
            self.set_param_hint("period", value=self.period or 1.0, vary=False)

    def _derived_quantities(self) -> dict[str, str]:
        # with s = max(q, p) the q <= p cases (peak at launch) need no branch,
        # so the expressions also evaluate over arrays (the batch engine)
        return {
            "t_peak": "log(maximum(q, p)/p)/(p+q)",
            "peak_time": "launch + t_peak",
            "peak_rate": "m*(p + maximum(q, p))**2/(4*maximum(q, p))",
            "peak_adopters": "m*(maximum(q, p) - p)/(2*maximum(q, p))",
            _share_name(self.share): (
                f"(log1p({self.share!r}*q/p) - log1p(-{self.share!r}))/(p+q)"
            ),
        }

    @property
    def likelihood(self) -> str:
        """``"least_squares"`` for ``nls``; ``"estimator"`` for Bass's OLS and
        the Poisson likelihood (:meth:`estimator_residuals`)."""
        return "least_squares" if self.estimator == "nls" else "estimator"

    @property
    def penalized(self) -> bool:
        """With priors, least squares has their penalty residuals."""
        return bool(self.prior)

    def penalty(self, values: Mapping[str, Any]) -> NDArray[np.float64]:
        """:math:`s_0 (\\theta - \\mu)/\\tau` per prior: Gaussian priors
        as pseudo-observations in the units of the data residuals."""
        return np.array(
            [
                self.prior_scale * (values[name] - mean) / sd
                for name, (mean, sd) in self.prior.items()
            ]
        )

    # -- identity ----------------------------------------------------------------

    @property
    def label(self) -> str:
        extras = [self.adoptions]
        if self.estimator != "nls":
            extras.append(self.estimator)
        extras += [f"{n}~N({m:g}, {sd:g})" for n, (m, sd) in self.prior.items()]
        return f"{self.name}({', '.join(extras)})" + self.log_suffix

    @property
    def options(self) -> dict[str, Any]:
        out: dict[str, Any] = dict(super().options)
        out.update(adoptions=self.adoptions, estimator=self.estimator)
        if self.launch is not None:
            out["launch"] = self.launch
        if self.period is not None:
            out["period"] = self.period
        if self.share != 0.5:
            out["share"] = self.share
        if self.prior:
            out["prior"] = {n: list(v) for n, v in self.prior.items()}
        return out

    # -- the curve -----------------------------------------------------------

    @property  # type: ignore[override]
    def function(self) -> Callable[..., NDArray[np.float64]]:
        """The curve for this kind of data (lmfit reads its parameters)."""
        return {
            "cumulative": self._cumulative,
            "per-period": self._per_period,
            "rate": self._rate,
        }[self.adoptions]

    def _cumulative(
        self, x: NDArray[np.float64], m: float, p: float, q: float, launch: float
    ) -> NDArray[np.float64]:
        """Cumulative adopters m F(x - launch)."""
        return m * bass_cdf(np.asarray(x, dtype=np.float64) - launch, p, q)

    def _per_period(
        self,
        x: NDArray[np.float64],
        m: float,
        p: float,
        q: float,
        launch: float,
        period: float,
    ) -> NDArray[np.float64]:
        """Adoptions in the period (x - period, x]: m [F(t) - F(t - period)]."""
        t = np.asarray(x, dtype=np.float64) - launch
        return m * bass_increment(t - period, t, p, q)

    def _rate(
        self, x: NDArray[np.float64], m: float, p: float, q: float, launch: float
    ) -> NDArray[np.float64]:
        """The adoption rate m f(x - launch)."""
        return m * bass_pdf(np.asarray(x, dtype=np.float64) - launch, p, q)

    def partials(  # type: ignore[override]
        self, x: NDArray[np.float64], **values: Any
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivatives of the curve for this kind of data with respect to
        m, p, q, launch (and period, for per-period data), with
        :math:`t = x - \text{launch}` and the derivatives of F and f of
        :func:`_bass_sensitivities`:

        * cumulative, :math:`N = mF(t)`: :math:`(F, mF_p, mF_q, -mf)`;
        * per-period, :math:`N = m[F(t) - F(t - \Delta)]`: the differences
          of the same at t and :math:`t - \Delta`, and
          :math:`\partial N/\partial\Delta = m f(t - \Delta)`;
        * rate, :math:`N = mf(t)`: :math:`(f, mf_p, mf_q, -mf_t)`.

        The estimator does not enter (it changes the residuals, not the
        curve; the fast path runs ``nls`` only). At the launch itself the
        curve has a kink and the launch derivative is the one from after it.
        """
        m = values["m"]
        t = np.asarray(x, dtype=np.float64) - values["launch"]
        p, q = values["p"], values["q"]
        end = _bass_sensitivities(t, p, q, density=self.adoptions == "rate")
        if self.adoptions == "cumulative":
            return {
                "m": bass_cdf(t, p, q),
                "p": m * end["F_p"],
                "q": m * end["F_q"],
                "launch": -m * end["f"],
            }
        if self.adoptions == "rate":
            return {
                "m": end["f"],
                "p": m * end["f_p"],
                "q": m * end["f_q"],
                "launch": -m * end["f_t"],
            }
        period = values["period"]
        start = _bass_sensitivities(t - period, p, q)
        return {
            "m": bass_increment(t - period, t, p, q),
            "p": m * (end["F_p"] - start["F_p"]),
            "q": m * (end["F_q"] - start["F_q"]),
            "launch": -m * (end["f"] - start["f"]),
            "period": m * start["f"],
        }

    def curves(
        self, x: ArrayLike, params: lmfit.Parameters
    ) -> dict[str, NDArray[np.float64]]:
        """Cumulative adopters, adoptions per period and the adoption rate at
        `x` for fitted `params`, whatever kind of data was fitted."""
        v = params.valuesdict()
        x = np.asarray(x, dtype=np.float64)
        period = v.get("period", self.period or 1.0)
        t = x - v["launch"]
        return {
            "cumulative": v["m"] * bass_cdf(t, v["p"], v["q"]),
            "per_period": v["m"] * bass_increment(t - period, t, v["p"], v["q"]),
            "rate": v["m"] * bass_pdf(t, v["p"], v["q"]),
        }

    def period_of(self, params: lmfit.Parameters, x: ArrayLike) -> float:
        """The period length: the ``period`` parameter of per-period fits,
        else the ``period`` option, else the spacing of `x`."""
        if "period" in params:
            return float(params["period"].value)
        return self._period_of(np.asarray(x, dtype=np.float64))

    # -- self-start -------------------------------------------------------------

    def _period_of(self, x: NDArray[np.float64]) -> float:
        return self.period if self.period is not None else _spacing(x)

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Self-start: Bass's OLS on the discrete analogue.

        When its quadratic has no admissible root (a series that has not
        reached its peak), m is chosen among multiples of the sales so far as
        the one whose straight line :math:`S_t/(m - Y_{t-1})` against
        :math:`Y_{t-1}/m` fits best, with p and q from that line. The sort,
        the period (the most common gap, per curve), the launch, the
        discrete analogue and the choice among the regression, m raised
        above the sales and the profile start are taken over the whole
        stack; Bass's regression (``lstsq``: a batched QR differs from it by
        up to 1e-8 relative on these ill-conditioned designs in :math:`1, Y,
        Y^2`) and the profile start, for the few curves that need it, curve
        by curve.

        With priors, the start is the prior means with m by least squares
        given them, and :attr:`prior_scale` is set from that fit (of the
        last curve: a model with priors is fitted one curve at a time). NaN
        for non-finite periods and sums and negative adoptions. Other
        parameters (the generalized model's ``beta_*``) get their hinted
        starts.
        """
        data = y
        count = data.shape[0]
        out = {name: np.full(count, np.nan) for name in self.curve_params}
        if count == 0:
            return out
        xs, ys, n = sorted_rows(x, data, mask)
        if self.period is None:
            period = _spacings(xs, n)
        else:
            period = np.full(count, self.period)
        if self.launch in (None, "fit"):
            launch = xs[:, 0] - period
        else:
            launch = np.full(count, float(self.launch))
        sales, before = _analogue_of_sorted(ys, self.adoptions, period[:, None])
        real = np.arange(xs.shape[1]) < n[:, None]
        with np.errstate(all="ignore"):
            finite = np.isfinite(sales / period[:, None]) & np.isfinite(before**2)
        usable = (n > 0) & (period > 0) & np.isfinite(period) & np.isfinite(launch)
        usable &= np.all(finite | ~real, axis=1)
        usable &= ~np.any(mask & (data < 0), axis=1)  # check_data's refusal
        rows = np.flatnonzero(usable)
        sales, before, n, period = sales[rows], before[rows], n[rows], period[rows]
        with np.errstate(all="ignore"):
            m, p, q = _regressions(sales, before, n, period)
            m, profile = _above_sales(m, p, q, at(before, n - 1) + at(sales, n - 1))
            for k in np.flatnonzero(profile):
                size = int(n[k])
                try:
                    m[k], p[k], q[k] = _profile_start(
                        sales[k, :size], before[k, :size], float(period[k])
                    )
                except np.linalg.LinAlgError:  # the per-curve start decides
                    m[k] = p[k] = q[k] = np.nan
        good = np.isfinite(m) & np.isfinite(p) & np.isfinite(q)
        found = rows[good]
        out["m"][found], out["p"][found] = m[good], p[good]
        # never start on q's bound 0, where the bound transform has no slope
        out["q"][found] = np.maximum(q[good], _Q_START_MIN)
        out["launch"][found] = launch[found]
        if "period" in out:
            out["period"][found] = period[good]
        hinted = [name for name in self.curve_params if name not in _STARTED]
        if hinted:
            params = self.make_params()
            for name in hinted:
                out[name][found] = params[name].value
        if self.prior:
            for c in found:
                row = {name: float(out[name][c]) for name in self.curve_params}
                started = self._prior_start(x[c][mask[c]], data[c][mask[c]], row)
                for name, value in started.items():
                    out[name][c] = value
        return out

    def _prior_start(
        self, x: NDArray[np.float64], y: NDArray[np.float64], values: dict[str, float]
    ) -> dict[str, float]:
        """Start at the prior means, with m by least squares given them, and
        set :attr:`prior_scale` to the residual standard error of that fit
        (p and q at the prior means, m alone estimated), on the scale the
        residuals are taken on (log y with ``log_y``)."""
        start = {**values, **{n: mean for n, (mean, _) in self.prior.items()}}
        unit = self.function(x, **{**start, "m": 1.0})
        m = float(np.dot(unit, y) / max(float(np.dot(unit, unit)), _TINY))
        if "m" not in self.prior:
            start["m"] = m if m > 0 else values["m"]
        observed = self.scale(y)
        residuals = observed - self.scale(start["m"] * unit)
        residuals = residuals[np.isfinite(residuals)]
        scale = math.sqrt(float(np.dot(residuals, residuals)) / max(y.size - 1, 1))
        # exact data leave no residual: keep the prior from vanishing entirely
        size = float(np.max(np.abs(observed[np.isfinite(observed)]), initial=1.0))
        self.prior_scale = max(scale, 1e-9 * size, _TINY)
        return start

    # -- estimators ----------------------------------------------------------------

    def estimator_residuals(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        values: Mapping[str, Any],
    ) -> NDArray[np.float64]:
        """The residuals the estimator minimizes the sum of squares of.

        ``ols``: Bass's regression residuals
        :math:`S_t - \\Delta[pm + (q-p)Y_{t-1} - (q/m)Y_{t-1}^2]`. ``ml``:
        Poisson deviance residuals
        :math:`\\operatorname{sign}(n_i - \\mu_i)
        \\sqrt{2[n_i \\ln(n_i/\\mu_i) - (n_i - \\mu_i)]}`, whose sum of
        squares is the deviance, so that least squares maximizes the
        likelihood.
        """
        if self.estimator == "ols":
            period = values.get("period", self.period or _spacing(x))
            sales, before = _discrete_analogue(x, y, self.adoptions, period)
            m, p, q = values["m"], values["p"], values["q"]
            m = max(m, _TINY)
            fitted = period * (p * m + (q - p) * before - (q / m) * before**2)
            return fitted - sales
        counts, expected = self._counts(x, y, values)
        deviance = 2 * (_relative_entropy(counts, expected) - (counts - expected))
        return np.sign(expected - counts) * np.sqrt(np.maximum(deviance, 0.0))

    def estimator_null(
        self,
        x: NDArray[np.float64],
        y: NDArray[np.float64],
        values: Mapping[str, Any],
    ) -> float:
        """The estimator's objective of a constant: the sum of squares of the
        sales per period about their mean (``ols``), the deviance of one
        Poisson mean (``ml``)."""
        if self.estimator == "ols":
            period = values.get("period", self.period or _spacing(x))
            target, _ = _discrete_analogue(x, y, self.adoptions, period)
            return float(np.sum((target - np.mean(target)) ** 2))
        target, _ = self._counts(x, y, values)
        mean = np.full_like(target, np.mean(target))
        return float(np.sum(2 * (_relative_entropy(target, mean) - target + mean)))

    def _counts(
        self, x: NDArray[np.float64], data: NDArray[np.float64], v: dict[str, float]
    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Adoptions per observed interval and their expectations under the
        model; for cumulative data the intervals run between successive
        observations (the first from launch)."""
        t = x - v["launch"]
        if self.adoptions == "per-period":
            counts = data
            expected = v["m"] * bass_increment(t - v["period"], t, v["p"], v["q"])
        else:
            order = np.argsort(t, kind="stable")
            counts = np.diff(data[order], prepend=0.0)
            ends = t[order]
            starts = np.concatenate([[0.0], ends[:-1]])
            expected = v["m"] * bass_increment(starts, ends, v["p"], v["q"])
        return counts, np.maximum(expected, _TINY)

    def check_data(
        self, x: NDArray[np.float64], y: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> NDArray[np.object_]:
        """Why each curve of a stack cannot be fitted with this estimator.

        All estimators need non-negative responses; ``ols`` needs one value
        per period from launch without gaps (its regressor is the running
        total), ``ml`` non-negative counts per interval.
        """
        out = no_messages(len(x))
        negative = mask & (y < 0)
        for c in np.flatnonzero(negative.any(axis=1)):
            i = int(np.argmax(negative[c]))
            out[c] = f"adoptions cannot be negative: y = {y[c, i]:g} at x = {x[c, i]:g}"
        if self.estimator == "nls":
            return out
        xs, ys, n = sorted_rows(x, y, mask)
        valid = np.arange(xs.shape[1] - 1) < (n - 1)[:, None]
        if self.adoptions == "cumulative":
            drops = valid & (np.diff(ys, axis=1) < 0)
            for c in np.flatnonzero(drops.any(axis=1) & (out == "")):
                i = int(np.argmax(drops[c])) + 1
                out[c] = (
                    "cumulative adopters must not decrease: "
                    f"{ys[c, i]:g} at x = {xs[c, i]:g} is below the "
                    f"{ys[c, i - 1]:g} before it"
                )
        if self.estimator == "ols":
            if self.period is None:
                period = _spacings(xs, n)
            else:
                period = np.full(len(x), self.period)
            steps = np.diff(np.where(np.isfinite(xs), xs, 0.0), axis=1)
            tolerance = 1e-9 * np.maximum(1.0, np.abs(period))
            gaps = valid & (np.abs(steps - period[:, None]) > tolerance[:, None])
            for c in np.flatnonzero(gaps.any(axis=1) & (out == "")):
                out[c] = (
                    "estimator 'ols' needs one value per period without gaps "
                    f"(period {period[c]:g}): the running total it regresses on "
                    "is wrong across a gap; use 'nls' or 'ml'"
                )
        return out


def _check_prior(
    prior: Mapping[str, Any] | None,
) -> dict[str, tuple[float, float]]:
    """The priors as ``{name: (mean, sd)}``; ValueError for a name other than
    m, p, q, or a mean or sd that is not a finite number (sd > 0)."""
    out: dict[str, tuple[float, float]] = {}
    for name, spec in (prior or {}).items():
        if name not in ("m", "p", "q"):
            raise ValueError(f"prior: no parameter {name!r} (m, p, q)")
        try:
            mean, sd = (float(v) for v in spec)
        except (TypeError, ValueError):
            raise ValueError(f"prior {name}: give (mean, sd), not {spec!r}") from None
        if not (math.isfinite(mean) and math.isfinite(sd) and sd > 0):
            raise ValueError(
                f"prior {name}: need a finite mean and sd > 0, got {mean:g}:{sd:g}"
            )
        out[name] = (mean, sd)
    return out


def parse_prior(text: str) -> tuple[str, tuple[float, float]]:
    """``"p=0.03:0.01"`` as ``("p", (0.03, 0.01))`` (``scurve fit --prior``).

    Examples
    --------
    >>> parse_prior("q = 0.38:0.1")
    ('q', (0.38, 0.1))
    """
    name, sep, rest = str(text).partition("=")
    mean, colon, sd = rest.partition(":")
    name = name.strip()
    if not (sep and colon and name):
        raise ValueError(f"expected NAME=MEAN:SD such as p=0.03:0.01, got {text!r}")
    try:
        spec = (float(mean), float(sd))
    except ValueError:
        raise ValueError(
            f"expected NAME=MEAN:SD such as p=0.03:0.01, got {text!r}"
        ) from None
    return name, _check_prior({name: spec})[name]


def _relative_entropy(
    counts: NDArray[np.float64], expected: NDArray[np.float64]
) -> NDArray[np.float64]:
    """:math:`n \\ln(n/\\mu)`, 0 where n = 0 (scipy's ``xlogy`` form)."""
    from scipy.special import xlogy

    return xlogy(counts, counts) - xlogy(counts, expected)


# ------------------------------------------------------------------ generalized


def _covariate_name(name: str) -> str:
    """``beta_price`` for ``price``; other characters become ``_``."""
    text = "".join(c if c.isalnum() else "_" for c in str(name)).strip("_")
    return f"beta_{text or 'x'}"


class BassGeneralizedModel(BassModel):
    r"""The Generalized Bass Model (Bass, Krishnan & Jain 1994): the Bass curve
    in an effective time that marketing effort stretches or shrinks.

    .. math:: N(x) = m\,F(X(x)), \qquad
              X(x) = t + \sum_j \beta_j \ln\frac{Z_j(x)}{Z_j(\text{launch})},
              \quad t = x - \text{launch}

    with :math:`Z_j` the covariates (price, advertising), so that the current
    effect :math:`x(t) = dX/dt = 1 + \sum_j \beta_j Z_j'(t)/Z_j(t)`
    multiplies the hazard of adoption; a price that falls 10% with
    :math:`\beta_{price} = -2` adds about 0.2 periods of diffusion. Per-period
    adoptions are :math:`m[F(X(x)) - F(X(x - \Delta))]`.

    Parameters
    ----------
    covariates : mapping, optional
        Covariate name -> ``(x, values)``: the covariate's positive values
        at those x, taken piecewise linear in between and constant beyond the
        ends (so a forecast holds the last value unless the series runs
        further: give planned prices past the data to forecast with them).
        Each adds a parameter ``beta_NAME``. Without covariates this is the
        Bass model.
    adoptions, launch, period
        As for :class:`BassModel`; ``adoptions="rate"`` is not offered.
    estimator : {"nls"}
        Nonlinear least squares only.

    Notes
    -----
    The Bass model's peak formulas do not hold in calendar time here, so no
    derived quantities are reported; the peak follows from the forecast.
    """

    name = "bass_generalized"
    formula = "m * F(X), X = x - launch + sum_j beta_j ln(Z_j(x) / Z_j(launch))"
    option_names: ClassVar[tuple[str, ...]] = (
        "covariates",
        "adoptions",
        "estimator",
        "launch",
        "period",
        "log_y",
    )

    #: No analytic derivatives (the fast path takes forward differences):
    #: the effective time is piecewise linear in the launch through the
    #: interpolated covariates, so Bass's :meth:`BassModel.partials` do not
    #: apply.
    partials = SCurveModel.partials

    def __init__(
        self,
        covariates: Mapping[str, Any] | None = None,
        adoptions: Adoptions = "cumulative",
        estimator: Estimator = "nls",
        launch: float | Literal["fit"] | None = None,
        period: float | None = None,
        **kws: Any,
    ) -> None:
        if str(estimator).strip().lower() != "nls":
            raise ValueError("bass_generalized is fitted by estimator 'nls' only")
        if str(adoptions).strip().lower() == "rate":
            raise ValueError("bass_generalized needs cumulative or per-period data")
        self.covariates: dict[str, tuple[NDArray[np.float64], NDArray[np.float64]]]
        self.covariates = {}
        for name, series in (covariates or {}).items():
            xs, zs = (np.asarray(part, dtype=np.float64) for part in series)
            if xs.ndim != 1 or xs.shape != zs.shape or xs.size == 0:
                raise ValueError(
                    f"covariate {name!r}: give (x, values) of one length, "
                    f"got shapes {xs.shape} and {zs.shape}"
                )
            bad = ~(np.isfinite(xs) & np.isfinite(zs) & (zs > 0))
            if bad.any():
                i = int(np.argmax(bad))
                raise ValueError(
                    f"covariate {name!r} must be positive and finite: "
                    f"{zs[i]:g} at x = {xs[i]:g}"
                )
            order = np.argsort(xs, kind="stable")
            self.covariates[str(name)] = (xs[order], zs[order])
        self.betas = {_covariate_name(n): n for n in self.covariates}
        if len(self.betas) != len(self.covariates):
            raise ValueError("two covariates have the same parameter name")
        super().__init__(adoptions=adoptions, launch=launch, period=period, **kws)
        for beta in self.betas:
            self.set_param_hint(beta, value=0.0)

    def _derived_quantities(self) -> dict[str, str]:
        return {}

    @property
    def label(self) -> str:
        names = ", ".join(self.covariates)
        return f"{self.name}({self.adoptions}{'; ' + names if names else ''})"

    @property
    def options(self) -> dict[str, Any]:
        out = super().options
        out.pop("estimator", None)
        out["covariates"] = {
            name: [xs.tolist(), zs.tolist()]
            for name, (xs, zs) in self.covariates.items()
        }
        return out

    @property  # type: ignore[override]
    def function(self) -> Callable[..., NDArray[np.float64]]:
        """The curve, with one ``beta_NAME`` parameter per covariate."""
        import inspect

        names = ["x", "m", "p", "q", "launch"]
        if self.adoptions == "per-period":
            names.append("period")
        names += list(self.betas)

        def curve(x: ArrayLike, **values: float) -> NDArray[np.float64]:
            return self._evaluate(np.asarray(x, dtype=np.float64), values)[
                "cumulative" if self.adoptions == "cumulative" else "per_period"
            ]

        kind = inspect.Parameter.POSITIONAL_OR_KEYWORD
        curve.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
            [inspect.Parameter(n, kind) for n in names]
        )
        return curve

    def effective_time(
        self, x: ArrayLike, values: dict[str, float]
    ) -> NDArray[np.float64]:
        """:math:`X(x)`, 0 before launch."""
        x = np.asarray(x, dtype=np.float64)
        launch = values["launch"]
        shift = np.zeros_like(x)
        for beta, name in self.betas.items():
            xs, zs = self.covariates[name]
            ratio = np.interp(x, xs, zs) / np.interp(launch, xs, zs)
            shift = shift + values[beta] * np.log(ratio)
        t = x - launch
        return np.where(t > 0, t + shift, 0.0)

    def _evaluate(
        self, x: NDArray[np.float64], values: dict[str, float]
    ) -> dict[str, NDArray[np.float64]]:
        period = values.get("period", self.period or 1.0)
        end = self.effective_time(x, values)
        start = self.effective_time(x - period, values)
        m, p, q = values["m"], values["p"], values["q"]
        return {
            "cumulative": m * bass_cdf(end, p, q),
            "per_period": m * bass_increment(start, end, p, q),
        }

    def curves(
        self, x: ArrayLike, params: lmfit.Parameters
    ) -> dict[str, NDArray[np.float64]]:
        """Cumulative adopters and adoptions per period at `x`."""
        return self._evaluate(np.asarray(x, dtype=np.float64), params.valuesdict())
