r"""The lmfit path: one curve at a time, minimized by lmfit.

For what the vectorized path does not do: a likelihood other than plain
least squares (binomial data, a robust loss, a model's own estimator,
priors), profile intervals, models whose curve does not broadcast over a
stack, and the few curves the vectorized path cannot finish. lmfit's
``leastsq`` (MINPACK) minimizes the likelihood's objective residuals, or
``least_squares`` with a robust loss (the scale re-estimated from the
residuals until it settles); the curve then goes, as a stack of one, through
the same :func:`~scurve.inference.summary.summarize` as every other.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lmfit
import numpy as np
from numpy.typing import NDArray

from scurve.fitters.options import FitOptions
from scurve.inference.intervals import profile_interval
from scurve.inference.likelihoods import TUNING, Likelihood, Robust, robust_scale
from scurve.inference.summary import Fitted
from scurve.models.base import SCurveModel

__all__ = ["Single", "fit_single"]


@dataclass
class Single:
    """One curve fitted by lmfit: the stack of one to summarize, the
    evaluations it took, and what the likelihood adds (a robust fit's loss,
    scale and flagged points)."""

    fitted: Fitted
    nfev: int
    extras: dict[str, Any] = field(default_factory=dict)


def _objective(
    model: SCurveModel,
    likelihood: Likelihood,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64] | None,
) -> Callable[[lmfit.Parameters], NDArray[np.float64]]:
    names = model.curve_params

    def residual(params: lmfit.Parameters) -> NDArray[np.float64]:
        values = {n: params[n].value for n in names}
        return likelihood.residual(model, values, x, y, w)

    return residual


def _minimize(
    model: SCurveModel,
    likelihood: Likelihood,
    residual: Callable[[lmfit.Parameters], NDArray[np.float64]],
    params: lmfit.Parameters,
    max_nfev: int | None,
) -> tuple[lmfit.minimizer.MinimizerResult, dict[str, Any]]:
    """lmfit's minimization of `residual` from `params`; for a robust loss,
    repeated with the scale re-estimated from the residuals until it
    settles (at most 10 rounds, 0.1% change)."""
    if not isinstance(likelihood, Robust):
        minimizer = lmfit.Minimizer(
            residual, params, max_nfev=max_nfev, **model.solver_options
        )
        return minimizer.minimize(method="leastsq"), {}
    options = {
        k: v for k, v in model.solver_options.items() if k in ("xtol", "ftol", "gtol")
    }
    nvarys = sum(p.vary and not p.expr for p in params.values())
    start = residual(params)
    scale = robust_scale(start, nvarys) or float(np.sqrt(np.mean(start**2))) or 1.0
    loss = likelihood.loss
    for _ in range(10):
        f_scale = TUNING[loss] * scale
        minimizer = lmfit.Minimizer(
            residual, params, max_nfev=max_nfev, loss=loss, f_scale=f_scale, **options
        )
        out = minimizer.minimize(method="least_squares")
        params = out.params
        new = robust_scale(out.residual, out.nvarys)
        if not math.isfinite(new) or new <= 0 or abs(new - scale) <= 1e-3 * scale:
            break
        scale = new
    return out, {"loss": loss, "scale": scale, "f_scale": TUNING[loss] * scale}


def _residual_jacobian(
    residual: Callable[[lmfit.Parameters], NDArray[np.float64]],
    params: lmfit.Parameters,
    names: list[str],
) -> NDArray[np.float64]:
    """d residual / d parameter by central differences (steps of 1e-5 of
    the larger of the value and lmfit's standard error)."""
    trial = params.copy()
    columns = []
    for name in names:
        v = trial[name].value
        base = abs(v)
        if trial[name].stderr and math.isfinite(trial[name].stderr):
            base = max(base, float(trial[name].stderr))
        h = 1e-5 * (base or 1.0)
        side = []
        for step in (h, -h):
            trial[name].value = v + step
            trial.update_constraints()
            side.append(residual(trial))
        trial[name].value = v
        columns.append((side[0] - side[1]) / (2 * h))
    trial.update_constraints()
    return np.column_stack(columns)


def fit_single(
    model: SCurveModel,
    likelihood: Likelihood,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64] | None,
    options: FitOptions,
) -> Single:
    """Fit one curve (checked points) with lmfit.

    Raises
    ------
    FitError
        Data the model's self-start refuses.
    """
    params = options.params(model, x, y)
    names = model.curve_params
    start = np.array([[params[n].value for n in names]], dtype=np.float64)
    residual = _objective(model, likelihood, x, y, w)
    with np.errstate(all="ignore"):
        out, robust = _minimize(model, likelihood, residual, params, options.max_nfev)
    varied = np.array(
        [i for i, n in enumerate(names) if out.params[n].vary], dtype=np.intp
    )
    fitted_names = [names[i] for i in varied]
    k = len(varied)
    covar = None
    if out.covar is not None and list(out.var_names) == fitted_names:
        covar = np.array(out.covar, dtype=np.float64)
    if robust:
        with np.errstate(all="ignore"):
            jac = _residual_jacobian(residual, out.params, fitted_names)
            sandwich = likelihood.sandwich(  # type: ignore[attr-defined]
                np.asarray(out.residual), jac, robust["f_scale"]
            )
        if sandwich is not None:
            covar = sandwich
    has = covar is not None
    values = np.array([[out.params[n].value for n in names]], dtype=np.float64)
    lower = np.array([[out.params[n].min for n in fitted_names]], dtype=np.float64)
    upper = np.array([[out.params[n].max for n in fitted_names]], dtype=np.float64)
    with np.errstate(all="ignore"):
        fit = np.asarray(
            model.function(x, **{n: values[0, i] for i, n in enumerate(names)}),
            dtype=np.float64,
        )
    fit = np.broadcast_to(fit, x.shape)
    weights = np.ones_like(y) if w is None else w
    objective = float(np.dot(out.residual, out.residual))
    best = out.params

    def profile(c: int, name: str, level: float, stderr: float) -> tuple[float, float]:
        trial = best.copy()
        trial[name].stderr = stderr
        return profile_interval(
            lambda p: residual(p), trial, name, level, nfree=int(out.nfree)
        )

    extras: dict[str, Any] = {}
    if robust:
        points = likelihood.points(  # type: ignore[attr-defined]
            x, y, fit, w, robust["scale"], robust["f_scale"]
        )
        extras = {"robust": robust, "points": points}
    fitted = Fitted(
        model=model,
        likelihood=likelihood,
        varied=varied,
        values=values,
        lower=lower,
        upper=upper,
        covar=covar[None] if has else np.full((1, k, k), math.nan),
        has=np.array([has]),
        x=x[None],
        y=y[None],
        w=weights[None],
        mask=np.ones((1, x.size), dtype=bool),
        fit=fit[None],
        objective=np.array([objective]),
        success=np.array([bool(out.success)]),
        aborted=np.array([bool(getattr(out, "aborted", False))]),
        why=[str(out.message or "")],
        nfev=np.array([int(out.nfev)]),
        start=start,
        profile=profile,
    )
    return Single(fitted, int(out.nfev), extras)
