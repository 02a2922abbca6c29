r"""Intervals: delta (t-based, as R's drc), mapped, profile (as GraphPad Prism),
and pointwise bands for the curve.

``delta``
    value :math:`\pm\, t_{\nu}\,\mathrm{SE}`, with the normal quantile where
    the dispersion is known (binomial data, :math:`\nu = \infty`).
``mapped``
    a derived quantity of one parameter (``ec50`` = 10**log_ec50) gets that
    parameter's delta interval mapped through the (monotone) expression:
    asymmetric, and within the quantity's natural range.
``profile``
    where the objective, minimized over the other parameters, rises by
    :math:`s^2 F_{1,\nu}(\text{level})` (Bates & Watts 1988, ch. 6).

References
----------
.. [1] D. M. Bates, D. G. Watts, *Nonlinear Regression Analysis and Its
   Applications*, Wiley, 1988 (profile intervals, ch. 6).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.errors import OptionError

__all__ = [
    "CI",
    "LEVEL",
    "check_level",
    "curve_band",
    "dependencies",
    "log_scale_ends",
    "profile_interval",
    "t_quantiles",
]

#: Default confidence level of intervals and bands.
LEVEL = 0.95

CI = Literal["delta", "profile", "none"]


def check_level(level: Any, option: str = "level") -> float:
    """`level` as a confidence level: a number strictly between 0 and 1.

    Raises
    ------
    OptionError
        NaN, infinite, 0, 1, a percentage (95), anything not a number.
    """
    try:
        value = float(level)
    except (TypeError, ValueError):
        value = math.nan
    if not (math.isfinite(value) and 0.0 < value < 1.0):
        raise OptionError(option, f"must be between 0 and 1, got {level}")
    return value


def log_scale_ends(
    value: NDArray[np.float64], half: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The delta interval of a positive quantity taken on the log scale:
    ``value * exp(-+ half / value)`` for a `half` width (t times the
    standard error) on the quantity's own scale; it never crosses 0. At a
    value of 0 (its bound) the interval is ``[0, half]``; a negative value
    has none (NaN)."""
    value = np.asarray(value, dtype=np.float64)
    half = np.asarray(half, dtype=np.float64)
    with np.errstate(all="ignore"):
        ratio = half / value
        lower = np.where(value > 0, value * np.exp(-ratio), math.nan)
        upper = np.where(value > 0, value * np.exp(ratio), math.nan)
    lower = np.where(value == 0, 0.0, lower)
    upper = np.where(value == 0, half, upper)
    return lower, upper


def t_quantiles(level: float, dof: ArrayLike) -> NDArray[np.float64]:
    """The two-sided `level` quantile of Student's t on each `dof` (the
    normal's for an infinite dof; NaN where dof <= 0), computed once per
    distinct dof."""
    from scipy import stats

    dof = np.asarray(dof, dtype=np.float64)
    distinct, where = np.unique(dof, return_inverse=True)
    with np.errstate(invalid="ignore"):
        t = np.where(distinct > 0, stats.t.ppf(0.5 + level / 2, distinct), math.nan)
    return t[where].reshape(dof.shape)


def dependencies(expr: str, names: Iterable[str]) -> list[str]:
    """The `names` an expression uses (whole words)."""
    return [n for n in names if re.search(rf"\b{re.escape(n)}\b", expr)]


def profile_interval(
    residual: Callable[..., NDArray[np.float64]],
    params: Any,
    name: str,
    level: float,
    *,
    args: tuple = (),
    kws: Mapping[str, Any] | None = None,
    nfree: int,
    known_dispersion: bool = False,
) -> tuple[float, float]:
    r"""Profile-likelihood interval of one parameter of a least-squares fit.

    The interval is :math:`\{\theta: (S(\theta) - S_{min}) / s^2 \le
    F_{1,\nu}(\text{level})\}` where :math:`S(\theta)` is the residual sum of
    squares minimized over the other parameters with this one held at
    :math:`\theta`, and :math:`s^2 = S_{min}/\nu`. Each end is bracketed by
    stepping out in multiples of the standard error and found by Brent's
    method; an end that runs into a bound is that bound, one that never
    closes is infinite, and one where the profile jumps over the level (no
    root: an inner fit that failed) or is not finite is unknown (NaN),
    never a made-up bound.

    `residual(params, *args, **kws)` gives the residuals of lmfit
    Parameters `params` (at the optimum). With `known_dispersion` (a
    likelihood whose scale is known, the binomial: residuals whose sum of
    squares is the deviance) :math:`s^2 = 1` and the limit is
    :math:`\chi^2_1(\text{level})`, as ``MASS::confint.glm``.
    """
    import lmfit
    from scipy import optimize, stats

    kws = dict(kws or {})

    def rss(p: lmfit.Parameters) -> float:
        r = residual(p, *args, **kws)
        return float(np.dot(r, r))

    best = params.copy()
    s_min = rss(best)
    s2 = 1.0 if known_dispersion else s_min / nfree
    crit = (
        float(stats.chi2.ppf(level, 1))
        if known_dispersion
        else float(stats.f.ppf(level, 1, nfree))
    )
    v0 = best[name].value
    step0 = best[name].stderr or max(abs(v0) * 0.1, 1e-8)
    others = [n for n, p in best.items() if p.vary and not p.expr and n != name]
    cache: dict[float, float] = {}
    solved: dict[float, lmfit.Parameters] = {v0: best}

    def fit_at(v: float, start: lmfit.Parameters) -> tuple[float, lmfit.Parameters]:
        trial = start.copy()
        trial[name].set(value=v, vary=False)
        try:
            with np.errstate(all="ignore"):
                if others:
                    trial = lmfit.minimize(residual, trial, args=args, kws=kws)
                    trial = trial.params
                return rss(trial), trial
        except (ValueError, RuntimeError, ArithmeticError):
            return math.nan, trial  # an inner fit that cannot be made

    def excess(v: float) -> float:
        # the inner fit from the nearest point profiled (a warm start: where
        # the profile rises unevenly, a start from the optimum strays to
        # another valley: DNase run 3's gompertz mu_m); restarted from the
        # optimum too, the lower kept, when that fit fails or rises unevenly:
        # more than twice the quadratic rise of the delta method, z^2
        if v not in cache:
            near = min(solved, key=lambda u: abs(u - v))
            tries = [fit_at(v, solved[near])]
            z2 = ((v - v0) / step0) ** 2
            rise = (tries[0][0] - s_min) / s2
            if near != v0 and not (math.isfinite(rise) and rise <= 2 * z2 + crit):
                tries.append(fit_at(v, best))
            finite = [t for t in tries if math.isfinite(t[0])]
            if not finite:
                cache[v] = math.nan
                return cache[v]
            low, solved[v] = min(finite, key=lambda t: t[0])
            cache[v] = (low - s_min) / s2 - crit
        return cache[v]

    def root(a: float, b: float) -> float:
        # Brent's root of the excess between a and b; NaN where it is no
        # root (the excess jumps across 0: an inner fit that failed) or
        # Brent's method cannot bracket one (the excess not finite)
        try:
            end = optimize.brentq(excess, *sorted((a, b)), xtol=step0 * 1e-4)
        except (ValueError, RuntimeError, ArithmeticError):
            return math.nan
        return end if abs(excess(end)) <= 0.1 * crit else math.nan

    ends = []
    for sign in (-1.0, 1.0):
        bound = best[name].min if sign < 0 else best[name].max
        inner, step, end = v0, step0, None
        for _ in range(40):
            outer = v0 + sign * step
            if (sign < 0 and outer <= bound) or (sign > 0 and outer >= bound):
                outer = bound
                end = bound if excess(bound) <= 0 else root(inner, bound)
                break
            if math.isnan(excess(outer)):
                end = math.nan
                break
            if excess(outer) > 0:
                end = root(inner, outer)
                break
            inner, step = outer, step * 2
        ends.append(end if end is not None else sign * math.inf)
    return ends[0], ends[1]


def curve_band(
    evaluate: Callable[[Any], NDArray[np.float64]],
    params: Any,
    covar: NDArray[np.float64] | None,
    var_names: Sequence[str],
    dof: float,
    sigma: float,
    kind: Literal["confidence", "prediction"],
    level: float,
    log_y: bool = False,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Pointwise confidence or prediction band by the delta method.

    The confidence band is :math:`\\hat y \\pm t\\sqrt{g^T C g}` with
    :math:`g` the gradient of the curve in each varied parameter (a centred
    difference with a step of 1e-3 standard errors: the curve is smooth on
    that scale) and :math:`C` their covariance; the prediction band adds
    :math:`s^2` (for a new observation of unit weight) under the root. With
    `log_y` (a fit on the log scale, `sigma` in log units) the band is built
    for log y and returned exponentiated: multiplicative and always
    positive. `evaluate(params)` gives the curve for lmfit Parameters.
    """
    if kind not in ("confidence", "prediction"):
        raise ValueError(f"kind must be 'confidence' or 'prediction', not {kind!r}")
    if log_y:
        log_band = curve_band(
            lambda p: np.log(evaluate(p)), params, covar, var_names, dof, sigma,
            kind, level,
        )  # fmt: skip
        fit, lower, upper = (np.exp(b) for b in log_band)
        return fit, lower, upper
    fit = evaluate(params)
    if covar is None:
        nan = np.full_like(fit, np.nan)
        return fit, nan, nan
    grads = []
    for i, name in enumerate(var_names):
        h = 1e-3 * math.sqrt(covar[i, i]) or 1e-8 * max(1.0, abs(params[name].value))
        up, down = params.copy(), params.copy()
        up[name].value = params[name].value + h
        down[name].value = params[name].value - h
        up.update_constraints()
        down.update_constraints()
        grads.append((evaluate(up) - evaluate(down)) / (2 * h))
    g = np.array(grads)
    var = np.einsum("in,ij,jn->n", g, covar, g)
    if kind == "prediction":
        var = var + sigma**2
    half = float(t_quantiles(level, dof)) * np.sqrt(np.maximum(var, 0))
    return fit, fit - half, fit + half
