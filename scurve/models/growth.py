r"""Population growth: the Verhulst logistic, with Gompertz and Richards.

Verhulst's logistic is the solution of :math:`dN/dt = rN(1 - N/K)`: a
population growing almost exponentially at rate :math:`r`, then slowing toward
the carrying capacity :math:`K`. Gompertz and Richards bend differently
toward the top; all three are evaluated through :mod:`scurve.shapes` and carry
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

from scurve import shapes
from scurve.fitting import SCurveModel

__all__ = ["GompertzModel", "LogisticModel", "RichardsModel"]

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
    inverse: Callable[[NDArray[np.float64]], NDArray[np.float64]],
) -> tuple[float, float, float, float]:
    """Asymptote, slope, intercept and baseline that straighten the data.

    With a baseline ``b`` a little below the lowest response and a capacity
    ``K``, ``inverse((y - b)/K)`` is linear in t for the right curve: slope
    and intercept come from least squares, and K is the candidate (a
    multiple of the highest response) whose line fits best. Works unchanged
    for optical densities, counts in the hundreds of millions and data that
    stop before the curve bends.
    """
    span = float(np.ptp(y)) or 1.0
    base = float(np.min(y)) - 0.01 * span
    rise = y - base
    best = (math.inf, float(np.max(rise)) * 1.1, 1.0 / (float(np.ptp(t)) or 1.0), 0.0)
    for factor in _CAPACITY_CANDIDATES:
        capacity = factor * float(np.max(rise))
        u = rise / capacity
        ok = (u > 0) & (u < 1)
        if np.count_nonzero(ok) < 3 or np.ptp(t[ok]) == 0:
            continue
        z = inverse(u[ok])
        slope, intercept = np.polyfit(t[ok], z, 1)
        if slope <= 0:
            continue
        resid = z - (slope * t[ok] + intercept)
        score = float(np.mean(resid**2)) / slope**2  # in units of t
        if score < best[0]:
            best = (score, capacity, float(slope), float(intercept))
    _, capacity, slope, intercept = best
    return capacity, slope, intercept, base


class _GrowthModel(SCurveModel):
    """Shared parts: the baseline ``N_min``, fitted only with ``baseline=True``."""

    def __init__(self, baseline: bool = False, **kws: Any) -> None:
        self.baseline = bool(baseline)
        super().__init__(**kws)
        self.set_param_hint("N_min", value=0.0, vary=self.baseline)

    @property
    def options(self) -> dict[str, Any]:
        return {"baseline": True} if self.baseline else {}

    @property
    def label(self) -> str:
        return f"{self.name}(baseline)" if self.baseline else self.name

    def _start(
        self, data: ArrayLike, x: ArrayLike, inverse: Callable
    ) -> tuple[float, float, float, float]:
        """The linearized start, with the baseline only if it is fitted."""
        t = np.asarray(x, dtype=np.float64)
        y = np.asarray(data, dtype=np.float64)
        capacity, slope, intercept, base = linearized_start(t, y, inverse)
        return capacity, slope, intercept, base if self.baseline else 0.0


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
    * ``lag_time`` = t0 - 2/r, where the tangent at t0 meets the baseline.

    R's ``SSlogis(t, Asym, xmid, scal)`` is this model with Asym = K,
    xmid = t0, scal = 1/r and no baseline.

    Examples
    --------
    >>> import numpy as np
    >>> from scurve.fitting import fit_curve
    >>> t = np.arange(0.0, 25.0)
    >>> model = LogisticModel()
    >>> y = model.function(t, K=100.0, r=0.5, t0=10.0, N_min=0.0)
    >>> result = fit_curve(model, t, y * (1 + 0.01 * np.sin(t)))
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
        "N0": "N_min + K / (1 + exp(r * t0))",
        "doubling_time": "log(2) / r",
        "max_rate": "r * K / 4",
        "lag_time": "t0 - 2 / r",
    }

    def function(  # type: ignore[override]
        self, x: NDArray[np.float64], K: float, r: float, t0: float, N_min: float
    ) -> NDArray[np.float64]:
        """N at times `x`."""
        return N_min + K * _LOGISTIC.value(r * (np.asarray(x, dtype=np.float64) - t0))

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """Self-start: the logit of the scaled data is linear in t (slope r)."""
        capacity, slope, intercept, base = self._start(data, x, _LOGISTIC.inverse)
        params = self.make_params(
            K=capacity, r=slope, t0=-intercept / slope, N_min=base
        )
        return lmfit.models.update_param_vals(params, self.prefix, **kws)

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
        """N at times `x`; exp(-exp(-z)) is the core's gompertz unit form."""
        z = mu_m * math.e / A * (np.asarray(x, dtype=np.float64) - lag) - 1
        return N_min + A * _GOMPERTZ.value(z)

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """Self-start: -log(-log(N/A)) is linear in t with slope mu_m e / A."""
        capacity, slope, intercept, base = self._start(data, x, _GOMPERTZ.inverse)
        mu_m = slope * capacity / math.e
        lag = -(intercept + 1) / slope
        params = self.make_params(A=capacity, mu_m=mu_m, lag=lag, N_min=base)
        return lmfit.models.update_param_vals(params, self.prefix, **kws)


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

    def guess(  # type: ignore[override]
        self, data: ArrayLike, x: ArrayLike, **kws: Any
    ) -> lmfit.Parameters:
        """Self-start from the logistic (nu = 1)."""
        capacity, slope, intercept, base = self._start(data, x, _LOGISTIC.inverse)
        params = self.make_params(
            K=capacity, r=slope, t0=-intercept / slope, nu=1.0, N_min=base
        )
        return lmfit.models.update_param_vals(params, self.prefix, **kws)
