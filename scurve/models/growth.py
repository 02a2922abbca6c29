r"""Population growth: the Verhulst logistic, with Gompertz and Richards.

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
from collections.abc import Callable
from typing import Any, ClassVar

import lmfit
import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import shapes, special
from scurve.core.stacked import masked_line
from scurve.models.base import SCurveModel

__all__ = [
    "GompertzModel",
    "LogisticModel",
    "RichardsModel",
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

    * ``N0`` = N(0);
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
        "N0": "N_min + K * expit(-r * t0)",
        "doubling_time": "log(2) / r",
        "max_rate": "r * K / 4",
        "lag_time": "t0 - 2 / r",
        "auc": "N_min * (x_max - x_min)"
        " + K * (softplus(r * (x_max - t0)) - softplus(r * (x_min - t0))) / r",
    }

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
