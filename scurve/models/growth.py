r"""Population growth: the Verhulst logistic, with Gompertz, Richards and Baranyi.

Verhulst's logistic is the solution of :math:`dN/dt = rN(1 - N/K)`: a
population growing almost exponentially at rate :math:`r`, then slowing toward
the carrying capacity :math:`K`. Gompertz and Richards bend differently
toward the top; all three are evaluated through :mod:`scurve.core.shapes` and carry
a baseline ``N_min``, fixed at 0 unless the model is made with
``baseline=True`` (``scurve.fit(..., model="logistic", baseline=True)``), for
optical densities that do not start from zero.

References
----------
.. [1] P.-F. Verhulst, "Notice sur la loi que la population suit dans son
   accroissement", Corresp. Math. Phys. 10:113-121, 1838.
.. [2] M. H. Zwietering, I. Jongenburger, F. M. Rombouts, K. van 't Riet,
   "Modeling of the bacterial growth curve", Appl. Environ. Microbiol.
   56:1875-1881, 1990.
.. [3] F. J. Richards, "A flexible growth function for empirical use",
   J. Exp. Bot. 10:290-300, 1959.
.. [4] K. Sprouffske, A. Wagner, "Growthcurver: an R package for obtaining
   interpretable metrics from microbial growth curves", BMC Bioinformatics
   17:172, 2016.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import shapes, special
from scurve.core.stacked import masked_line
from scurve.models.base import SCurveModel

__all__ = [
    "BaranyiModel",
    "GompertzModel",
    "LogisticModel",
    "RichardsModel",
    "window_lines",
]

_LOGISTIC = shapes.REGISTRY["logistic"].unit
_GOMPERTZ = shapes.REGISTRY["gompertz"].unit
_RICHARDS = shapes.REGISTRY["richards"].unit

# Asymptotes tried by the self-start, as multiples of the highest response
# above the baseline: near 1 for data that saturate, larger for data that
# cover only the early, nearly exponential part of the curve.
_CAPACITY_CANDIDATES = (1.02, 1.1, 1.3, 1.7, 2.5, 4.0, 8.0)


def linearized_start(
    t: NDArray[np.float64],
    y: NDArray[np.float64],
    mask: NDArray[np.bool_],
    inverse: Callable[[NDArray[np.float64]], NDArray[np.float64]],
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Asymptotes, slopes, intercepts and baselines that straighten the data
    of each curve of a stack (shape ``(n_curves, n_points)``, `mask` False
    on padding).

    With a baseline ``b`` a little below the lowest response and a capacity
    ``K``, ``inverse((y - b)/K)`` is linear in t for the right curve: slope
    and intercept come from least squares, and K is the candidate (a
    multiple of the highest response) whose line fits best. Works unchanged
    for optical densities, counts in the hundreds of millions and data that
    stop before the curve bends.
    """
    high = np.max(np.where(mask, y, -np.inf), axis=1)
    low = np.min(np.where(mask, y, np.inf), axis=1)
    t_span = np.max(np.where(mask, t, -np.inf), axis=1) - np.min(
        np.where(mask, t, np.inf), axis=1
    )
    span = np.where(high - low == 0, 1.0, high - low)
    base = low - 0.01 * span
    rise = y - base[:, None]
    top = high - base
    best = np.full(y.shape[0], math.inf)
    capacity = top * 1.1
    slope = 1.0 / np.where(t_span == 0, 1.0, t_span)
    intercept = np.zeros(y.shape[0])
    for factor in _CAPACITY_CANDIDATES:
        candidate = factor * top
        u = rise / candidate[:, None]
        ok = mask & (u > 0) & (u < 1)
        spread = np.max(np.where(ok, t, -np.inf), axis=1) > np.min(
            np.where(ok, t, np.inf), axis=1
        )
        with np.errstate(all="ignore"):
            z = np.where(ok, inverse(np.where(ok, u, 0.5)), 0.0)
            a, b = masked_line(t, z, ok)
            resid = np.where(ok, z - (a[:, None] * t + b[:, None]), 0.0)
            score = np.sum(resid**2, axis=1) / ok.sum(axis=1) / a**2
        better = (ok.sum(axis=1) >= 3) & spread & (a > 0) & (score < best)
        best = np.where(better, score, best)
        capacity = np.where(better, candidate, capacity)
        slope = np.where(better, a, slope)
        intercept = np.where(better, b, intercept)
    return capacity, slope, intercept, base


class _GrowthModel(SCurveModel):
    """Shared parts: the baseline ``N_min``, fitted only with ``baseline=True``."""

    option_names: ClassVar[tuple[str, ...]] = ("baseline", "log_y")

    def __init__(self, baseline: bool = False, **kws: Any) -> None:
        self.baseline = bool(baseline)
        if self.baseline:  # a fitted baseline may be negative, and N with it
            self.positive_derived = frozenset(  # type: ignore[misc]
                q for q in self.positive_derived if "N_min" not in self.derived[q]
            )
        super().__init__(**kws)
        self.set_param_hint("N_min", value=0.0, vary=self.baseline)

    @property
    def options(self) -> dict[str, Any]:
        return {**super().options, **({"baseline": True} if self.baseline else {})}

    @property
    def label(self) -> str:
        name = f"{self.name}(baseline)" if self.baseline else self.name
        return name + self.log_suffix

    #: The unit curve whose inverse straightens the scaled data.
    straightened_by: ClassVar[shapes.Curve] = _LOGISTIC

    def starting_values(
        self, capacity: Any, slope: Any, intercept: Any, base: Any
    ) -> dict[str, Any]:
        """The model's parameters from the straight line of
        :func:`linearized_start` (floats, or arrays of curves)."""
        raise NotImplementedError

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Self-start: the inverse of :attr:`straightened_by` turns the scaled
        data into a line in t (:func:`linearized_start`); the baseline is
        fitted only with ``baseline=True``."""
        capacity, slope, intercept, base = linearized_start(
            x, y, mask, self.straightened_by.inverse
        )
        return self.starting_values(
            capacity, slope, intercept, base if self.baseline else 0.0 * base
        )


class LogisticModel(_GrowthModel):
    r"""Verhulst logistic growth.

    .. math:: N(t) = N_{min} + \frac{K}{1 + e^{-r (t - t_0)}}
              = N_{min} + K\,\sigma(r (t - t_0))

    Parameters ``K`` (carrying capacity above the baseline), ``r`` (intrinsic
    growth rate, per unit of t), ``t0`` (the midpoint and inflection time),
    ``N_min`` (baseline, fixed at 0 by default). Derived, with intervals:

    * ``N0`` = N(t_a), the level at the first observed time :math:`t_a`
      (not at t = 0, which calendar years put far outside the data);
    * ``doubling_time`` = ln 2 / r, of the early exponential phase;
    * ``max_rate`` = r K / 4, the slope at t0;
    * ``lag_time`` = t0 - 2/r, where the tangent at t0 meets the baseline;
    * ``auc``, the area under the curve over the observed times
      :math:`[t_a, t_b]`, in closed form through the core's softplus (the
      antiderivative of the logistic):

      .. math:: \int_{t_a}^{t_b} N\,dt = N_{min}(t_b - t_a)
                + \frac{K}{r}\left[\operatorname{softplus}(r(t_b - t_0))
                - \operatorname{softplus}(r(t_a - t_0))\right]

    R's ``SSlogis(t, Asym, xmid, scal)`` is this model with Asym = K,
    xmid = t0, scal = 1/r and no baseline.

    Examples
    --------
    >>> import numpy as np
    >>> import scurve
    >>> t = np.arange(0.0, 25.0)
    >>> model = LogisticModel()
    >>> y = model.function(t, K=100.0, r=0.5, t0=10.0, N_min=0.0)
    >>> result = scurve.fit(x=t, y=y * (1 + 0.01 * np.sin(t)), model=model)
    >>> bool(abs(result.params["doubling_time"].value - np.log(2) / 0.5) < 0.05)
    True
    """

    name = "logistic"
    formula = "N_min + K / (1 + exp(-r * (t - t0)))"
    hints: ClassVar[dict[str, dict[str, float]]] = {
        "K": {"min": 0.0},
        "r": {"min": 0.0},
    }
    derived: ClassVar[dict[str, str]] = {
        "N0": "N_min + K * expit(r * (x_min - t0))",
        "doubling_time": "log(2) / r",
        "max_rate": "r * K / 4",
        "lag_time": "t0 - 2 / r",
        "auc": "N_min * (x_max - x_min)"
        " + K * (softplus(r * (x_max - t0)) - softplus(r * (x_min - t0))) / r",
    }
    #: >= 0 as K and r are (N0 and auc only without a baseline, which may
    #: be negative: :meth:`_GrowthModel.__init__`).
    positive_derived: ClassVar[frozenset[str]] = frozenset(
        {"N0", "doubling_time", "max_rate", "auc"}
    )

    def function(  # type: ignore[override]
        self, x: NDArray[np.float64], K: float, r: float, t0: float, N_min: float
    ) -> NDArray[np.float64]:
        """N at times `x`."""
        return N_min + K * _LOGISTIC.value(r * (np.asarray(x, dtype=np.float64) - t0))

    def partials(  # type: ignore[override]
        self, x: NDArray[np.float64], K: Any, r: Any, t0: Any, N_min: Any
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivatives of N with respect to its parameters, from the
        core's logistic and its derivative :math:`\sigma'`
        (``shapes.REGISTRY["logistic"].unit``): with :math:`z = r(t - t_0)`,

        .. math:: \frac{\partial N}{\partial K} = \sigma(z), \quad
                  \frac{\partial N}{\partial r} = K \sigma'(z)(t - t_0), \quad
                  \frac{\partial N}{\partial t_0} = -K r \sigma'(z), \quad
                  \frac{\partial N}{\partial N_{min}} = 1.

        :math:`\sigma' = e^{-|z|}/(1 + e^{-|z|})^2` does not vanish early in
        the tails (NUMERICS.md d2), so the plateaus keep their small slopes.
        """
        dt = np.asarray(x, dtype=np.float64) - t0
        z = r * dt
        unit = _LOGISTIC.value(z)
        slope = K * _LOGISTIC.derivative(z)
        return {
            "K": unit,
            "r": slope * dt,
            "t0": -slope * r,
            "N_min": np.ones_like(unit),
        }

    def starting_values(
        self, capacity: Any, slope: Any, intercept: Any, base: Any
    ) -> dict[str, Any]:
        """The logit of the scaled data is linear in t, with slope r."""
        return {"K": capacity, "r": slope, "t0": -intercept / slope, "N_min": base}

    def inverse(self, y: ArrayLike, params: lmfit.Parameters) -> NDArray[np.float64]:
        """The time at which N equals `y` (NaN outside the curve's range)."""
        v = params.valuesdict()
        u = (np.asarray(y, dtype=np.float64) - v["N_min"]) / v["K"]
        return v["t0"] + _LOGISTIC.inverse(u) / v["r"]


class GompertzModel(_GrowthModel):
    r"""Gompertz growth in the form of Zwietering et al. (1990).

    .. math:: N(t) = N_{min} + A \exp\!\left(-\exp\!\left(
              \frac{\mu_m e}{A}(\lambda - t) + 1\right)\right)

    Parameters ``A`` (asymptote above the baseline), ``mu_m`` (the maximum
    growth rate, the slope at the inflection), ``lag`` (lag time
    :math:`\lambda`, where that tangent meets the baseline), ``N_min``.
    Derived: ``t_inflection`` = lag + A/(mu_m e).
    """

    name = "gompertz"
    formula = "N_min + A * exp(-exp(mu_m * e / A * (lag - t) + 1))"
    hints: ClassVar[dict[str, dict[str, float]]] = {
        "A": {"min": 0.0},
        "mu_m": {"min": 0.0},
    }
    derived: ClassVar[dict[str, str]] = {
        "t_inflection": "lag + A / (mu_m * exp(1))",
    }

    def function(  # type: ignore[override]
        self, x: NDArray[np.float64], A: float, mu_m: float, lag: float, N_min: float
    ) -> NDArray[np.float64]:
        """N at times `x`; exp(-exp(-z)) is the core's gompertz unit form.
        At A = 0 (its bound) the curve is its limit, the constant N_min."""
        x = np.asarray(x, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.divide(mu_m * math.e, A) * (x - lag) - 1
            n = N_min + A * _GOMPERTZ.value(z)
        return np.where(np.asarray(A) == 0, N_min + 0.0 * x, n)

    def partials(  # type: ignore[override]
        self, x: NDArray[np.float64], A: Any, mu_m: Any, lag: Any, N_min: Any
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivatives of N with respect to its parameters, from the
        core's Gompertz unit curve :math:`G(z) = \exp(-e^{-z})` and its
        derivative :math:`G'(z) = \exp(-z - e^{-z})`: with
        :math:`z = \frac{\mu_m e}{A}(t - \lambda) - 1`,

        .. math:: \frac{\partial N}{\partial A} = G(z) - (z + 1) G'(z), \quad
                  \frac{\partial N}{\partial \mu_m} = e (t - \lambda) G'(z),
                  \quad
                  \frac{\partial N}{\partial \lambda} = -\mu_m e\, G'(z), \quad
                  \frac{\partial N}{\partial N_{min}} = 1.

        At A = 0, where the curve is the constant :math:`N_{min}` whatever
        :math:`\mu_m` and :math:`\lambda`, their derivatives are 0 and that of
        A is its limit from above: 1 after the lag, 0 before it and
        :math:`e^{-e}` at :math:`t = \lambda` (where z = -1 for every A;
        everywhere if also :math:`\mu_m = 0`), never NaN from
        :math:`0 \cdot \infty`.
        """
        dt = np.asarray(x, dtype=np.float64) - lag
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            z = np.divide(mu_m * math.e, A) * dt - 1
            # t = lag at A = 0 (inf * 0), or mu_m = 0 too: z = -1 for all A > 0
            z = np.where(np.isnan(z), -1.0, z)
            unit = _GOMPERTZ.value(z)
            slope = _GOMPERTZ.derivative(z)
            # G' vanishes faster than z grows: 0 at z = +-inf, not inf * 0
            bend = np.where(np.isfinite(z), (z + 1) * slope, 0.0)
        flat = np.asarray(A) == 0
        return {
            "A": unit - bend,
            "mu_m": np.where(flat, 0.0, math.e * dt * slope),
            "lag": np.where(flat, 0.0, -(mu_m * math.e) * slope),
            "N_min": np.ones_like(unit),
        }

    straightened_by = _GOMPERTZ

    def starting_values(
        self, capacity: Any, slope: Any, intercept: Any, base: Any
    ) -> dict[str, Any]:
        """-log(-log(N/A)) is linear in t, with slope mu_m e / A."""
        return {
            "A": capacity,
            "mu_m": slope * capacity / math.e,
            "lag": -(intercept + 1) / slope,
            "N_min": base,
        }


class RichardsModel(_GrowthModel):
    r"""Richards' generalized logistic.

    .. math:: N(t) = N_{min} + K\left(1 + e^{-r (t - t_0)}\right)^{-1/\nu}

    ``nu`` = 1 is the logistic; as ``nu`` tends to 0 the curve tends to a
    Gompertz curve. Parameters ``K``, ``r``, ``t0`` (the midpoint only when
    nu = 1), ``nu`` > 0, ``N_min``. Derived:

    * ``t_inflection`` = t0 - ln(nu)/r;
    * ``max_rate`` = K r (1 + nu)^(-1/nu - 1), the slope there
      (r K / 4 at nu = 1).
    """

    name = "richards"
    formula = "N_min + K * (1 + exp(-r * (t - t0)))**(-1/nu)"
    hints: ClassVar[dict[str, dict[str, float]]] = {
        "K": {"min": 0.0},
        "r": {"min": 0.0},
        "nu": {"min": 1e-3, "max": 1e3, "value": 1.0},
    }
    derived: ClassVar[dict[str, str]] = {
        "t_inflection": "t0 - log(nu) / r",
        "max_rate": "K * r * (1 + nu) ** (-1 / nu - 1)",
    }
    positive_derived: ClassVar[frozenset[str]] = frozenset({"max_rate"})

    def function(  # type: ignore[override]
        self,
        x: NDArray[np.float64],
        K: float,
        r: float,
        t0: float,
        nu: float,
        N_min: float,
    ) -> NDArray[np.float64]:
        """N at times `x`, through the core's stable Richards form."""
        z = r * (np.asarray(x, dtype=np.float64) - t0)
        return N_min + K * _RICHARDS.value(z, nu=nu)

    def partials(  # type: ignore[override]
        self, x: NDArray[np.float64], K: Any, r: Any, t0: Any, nu: Any, N_min: Any
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivatives of N with respect to its parameters, from the
        core's stable Richards curve :math:`u = (1 + e^{-z})^{-1/\nu}` with
        :math:`z = r(t - t_0)`, its derivative
        :math:`u' = u\,\sigma(-z)/\nu` (NUMERICS.md d8) and
        :math:`\ln u = -\operatorname{softplus}(-z)/\nu`:

        .. math:: \frac{\partial N}{\partial K} = u, \quad
                  \frac{\partial N}{\partial r} = K u'(t - t_0), \quad
                  \frac{\partial N}{\partial t_0} = -K r u', \quad
                  \frac{\partial N}{\partial \nu} =
                  K u \frac{\operatorname{softplus}(-z)}{\nu^2}, \quad
                  \frac{\partial N}{\partial N_{min}} = 1.

        Early, where u underflows, the products are 0 (u times a finite
        softplus), the limits.
        """
        dt = np.asarray(x, dtype=np.float64) - t0
        z = r * dt
        unit = _RICHARDS.value(z, nu=nu)
        slope = K * unit * special.expit(-z) / nu  # the shape's derivative
        return {
            "K": unit,
            "r": slope * dt,
            "t0": -slope * r,
            "nu": K * unit * (special.softplus(-z) / (nu * nu)),
            "N_min": np.ones_like(unit),
        }

    def starting_values(
        self, capacity: Any, slope: Any, intercept: Any, base: Any
    ) -> dict[str, Any]:
        """From the logistic (nu = 1), whose logit is linear in t."""
        return {
            "K": capacity,
            "r": slope,
            "t0": -intercept / slope,
            "nu": np.ones_like(slope),
            "N_min": base,
        }


def window_lines(
    x: NDArray[np.float64],
    z: NDArray[np.float64],
    mask: NDArray[np.bool_],
    h: int,
) -> dict[str, NDArray[np.float64]]:
    r"""Least-squares lines through every window of `h` consecutive points
    of each curve of a stack (shape ``(b, n)``, `mask` False on padding, the
    points in the order given).

    Returns ``slope``, ``intercept``, ``se`` (the slope's standard error,
    :math:`\sqrt{s^2 / \sum (x - \bar x)^2}` on h - 2 degrees of freedom),
    ``r2`` and ``valid`` (every point of the window real), each of shape
    ``(b, n - h + 1)``: window ``i`` holds points ``i ... i + h - 1``. The
    sums are taken in centred form over each window, not by differences of
    running sums, so long clocks (seconds) lose no digits.
    """
    from numpy.lib.stride_tricks import sliding_window_view

    xs = sliding_window_view(x, h, axis=1)
    zs = sliding_window_view(z, h, axis=1)
    valid = sliding_window_view(mask, h, axis=1).all(axis=2)
    with np.errstate(all="ignore"):
        dx = xs - xs.mean(axis=2, keepdims=True)
        dz = zs - zs.mean(axis=2, keepdims=True)
        sxx = np.sum(dx * dx, axis=2)
        szz = np.sum(dz * dz, axis=2)
        slope = np.sum(dx * dz, axis=2) / sxx
        intercept = zs.mean(axis=2) - slope * xs.mean(axis=2)
        rss = np.maximum(szz - slope * slope * sxx, 0.0)
        se = np.sqrt(rss / (h - 2) / sxx)
        r2 = 1.0 - rss / szz
    return {
        "slope": np.where(valid, slope, np.nan),
        "intercept": intercept,
        "se": se,
        "r2": r2,
        "valid": valid,
    }


def _lag_terms(
    t: Any, mumax: Any, h0: Any
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    r"""Baranyi's adjusted time as :math:`B = \mu_{max} A(t)` with its
    derivatives in :math:`\mu_{max}` and :math:`h_0`.

    .. math:: B = \mu t - h_0 + \operatorname{softplus}(s), \quad
              s = \operatorname{softplus}^{-1}(h_0) - \mu t

    is Baranyi and Roberts' :math:`\mu A = \mu t + \ln(e^{-\mu t} + e^{-h_0}
    - e^{-\mu t - h_0})` without cancellation: the logarithm's argument is
    :math:`e^{-h_0}(1 + e^{s})`. At :math:`h_0 = 0`, :math:`s = -\infty`
    and :math:`B = \mu t` (no lag: the logistic); late, :math:`B \to
    \mu (t - h_0/\mu)`. Derivatives:
    :math:`\partial B/\partial\mu = t\,\sigma(-s)` and
    :math:`\partial B/\partial h_0 = (e^{-\mu t} - 1)\,\sigma(-s)`, written
    for :math:`t < 0` as :math:`-\operatorname{expm1}(\mu t) / (e^{\mu t} +
    \operatorname{expm1}(h_0))` so that neither side overflows.
    """
    mt = mumax * t
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s = special.softplus_inv(h0) - mt
        b = mt - h0 + special.softplus(s)
        late = special.expit(-s)
        by_h0 = np.where(
            mt >= 0,
            np.expm1(-np.maximum(mt, 0.0)) * late,
            -np.expm1(np.minimum(mt, 0.0))
            / (np.exp(np.minimum(mt, 0.0)) + np.expm1(h0)),
        )
    return b, t * late, by_h0


class BaranyiModel(SCurveModel):
    r"""The Baranyi-Roberts growth model (curvature 1), as R growthrates'
    ``grow_baranyi``.

    .. math:: \ln y = \ln y_0 + \mu_{max} A(t) - \ln\!\left(1 +
              \frac{e^{\mu_{max} A(t)} - 1}{K / y_0}\right), \quad
              A(t) = t + \frac{1}{\mu_{max}} \ln\!\left(e^{-\mu_{max} t}
              + e^{-h_0} - e^{-\mu_{max} t - h_0}\right)

    Parameters ``y0`` (the population at t = 0), ``mumax`` (the maximum
    specific growth rate, per unit of t), ``K`` (the carrying capacity)
    and ``h0`` = mumax x lag (the cells' initial physiological state).
    Derived: ``lag`` = h0 / mumax and ``doubling_time`` = ln 2 / mumax.
    At h0 = 0, its lower bound, there is no lag and the curve is the
    logistic of rate mumax through y0; a fit that ends there is
    ``at_bound`` and says so. Predictive microbiology fits it on the log
    scale (``log_y=True``, growthrates' ``transform = "log"``). It starts
    itself from the data: y0 and K from the lowest and highest readings,
    mumax from the steepest window of five points on ln y (as easylinear)
    and h0 from where that line meets ln y0.

    Evaluated as :math:`y = K\,\sigma(B - \ln(K/y_0 - 1))` with
    :math:`B = \mu_{max} A` from :func:`_lag_terms` (core softplus and
    expit), no :math:`e^{\mu t}` formed; K below y0 (a decline) takes
    :math:`\ln y = \ln K - \operatorname{log1p}((K/y_0 - 1) e^{-B})`.

    References
    ----------
    .. [1] J. Baranyi, T. A. Roberts, "A dynamic approach to predicting
       bacterial growth in food", Int. J. Food Microbiol. 23:277-294, 1994.
    .. [2] T. Petzoldt, growthrates: Estimate Growth Rates from Experimental
       Data, R package, ``grow_baranyi``.

    Examples
    --------
    >>> import numpy as np
    >>> model = BaranyiModel()
    >>> y = model.function(np.array([0.0, 100.0]), y0=0.01, mumax=0.5, K=1.0, h0=2.0)
    >>> [round(float(v), 6) for v in y]
    [0.01, 1.0]
    """

    name = "baranyi"
    formula = (
        "log(y) = log(y0) + mumax*A - log(1 + (exp(mumax*A) - 1) / (K/y0)), "
        "A = t + log(exp(-mumax*t) + exp(-h0) - exp(-mumax*t - h0)) / mumax"
    )
    hints: ClassVar[dict[str, dict[str, float]]] = {
        "y0": {"min": 0.0},
        "mumax": {"min": 0.0},
        "K": {"min": 0.0},
        "h0": {"min": 0.0},
    }
    derived: ClassVar[dict[str, str]] = {
        "lag": "h0 / mumax",
        "doubling_time": "log(2) / mumax",
    }
    #: What a parameter at its bound means for this curve.
    bound_notes: ClassVar[Mapping[str, str]] = {
        "h0": "no lag phase: the curve is the logistic",
    }

    def function(  # type: ignore[override]
        self, x: NDArray[np.float64], y0: float, mumax: float, K: float, h0: float
    ) -> NDArray[np.float64]:
        """y at times `x`."""
        b = _lag_terms(np.asarray(x, dtype=np.float64), mumax, h0)[0]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            excess = np.divide(K, y0) - 1.0
            rising = K * special.expit(b - np.log(np.maximum(excess, 0.0)))
            falling = K / (1.0 + excess * np.exp(-b))
        return np.where(excess > 0, rising, falling)

    def partials(  # type: ignore[override]
        self, x: NDArray[np.float64], y0: Any, mumax: Any, K: Any, h0: Any
    ) -> dict[str, NDArray[np.float64]]:
        r"""The derivatives of y with respect to its parameters: with
        :math:`e = e^{-B}` and :math:`g = y_0 + (K - y_0) e` (so that
        :math:`y = K y_0 / g`),

        .. math:: \frac{\partial y}{\partial y_0} = y\left(\frac{1}{y_0}
                  - \frac{1 - e}{g}\right), \quad
                  \frac{\partial y}{\partial K} = y\left(\frac{1}{K}
                  - \frac{e}{g}\right), \quad
                  \frac{\partial y}{\partial B} = y\,\frac{(K - y_0) e}{g},

        and :math:`\partial B/\partial\mu_{max}`, :math:`\partial B/
        \partial h_0` from :func:`_lag_terms` (finite at h0 = 0).
        """
        t = np.asarray(x, dtype=np.float64)
        b, b_mu, b_h0 = _lag_terms(t, mumax, h0)
        y = self.function(t, y0, mumax, K, h0)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            e = np.exp(-b)
            g = y0 + (K - y0) * e
            by_b = y * (K - y0) * e / g
            return {
                "y0": y * (1.0 / y0 - (1.0 - e) / g),
                "mumax": by_b * b_mu,
                "K": y * (1.0 / K - e / g),
                "h0": by_b * b_h0,
            }

    def start(
        self, y: NDArray[np.float64], x: NDArray[np.float64], mask: NDArray[np.bool_]
    ) -> dict[str, NDArray[np.float64]]:
        """Self-start on ln y: y0 the reading at the earliest time, K the
        highest, mumax the steepest slope of five consecutive points in
        time (three for short curves) and h0 = mumax x lag, the lag where
        that line meets ln y0 (0 if before the first reading)."""
        order = np.argsort(np.where(mask, x, np.inf), axis=1, kind="stable")
        t = np.take_along_axis(x, order, axis=1)
        ok = np.take_along_axis(mask, order, axis=1)
        positive = np.take_along_axis(y, order, axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = np.log(np.where(ok & (positive > 0), positive, np.nan))
            h = 5 if t.shape[1] >= 7 else min(3, t.shape[1])
            lines = window_lines(t, np.nan_to_num(z, nan=0.0), ok & ~np.isnan(z), h)
            slopes = np.where(np.isfinite(lines["slope"]), lines["slope"], -np.inf)
            best = np.argmax(slopes, axis=1)[:, None]
            mumax = np.take_along_axis(slopes, best, axis=1)[:, 0]
            intercept = np.take_along_axis(lines["intercept"], best, axis=1)[:, 0]
            first = np.argmax(np.isfinite(z), axis=1)[:, None]
            z0 = np.take_along_axis(z, first, axis=1)[:, 0]
            top = np.nanmax(z, axis=1)
            z0 = np.minimum(z0, top - 0.1)
            lag = np.maximum((z0 - intercept) / mumax, 0.0)
            fine = np.isfinite(mumax) & (mumax > 0)
        nan = np.full(len(y), np.nan)
        return {
            "y0": np.where(fine, np.exp(z0), nan),
            "mumax": np.where(fine, mumax, nan),
            "K": np.where(fine, np.exp(top), nan),
            "h0": np.where(fine, np.maximum(mumax * lag, 0.1), nan),
        }
