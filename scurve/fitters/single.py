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

from scurve.errors import FitError
from scurve.fitters import lm
from scurve.fitters.lm import (
    OFFSET_TOL,
    SAME_OPTIMUM,
    certified_covariance,
    polish,
)
from scurve.fitters.options import SEED, FitOptions, inside
from scurve.inference import verdicts
from scurve.inference.intervals import profile_interval
from scurve.inference.likelihoods import TUNING, Likelihood, Robust, robust_scale
from scurve.inference.summary import Fitted
from scurve.models.base import SCurveModel

__all__ = ["Single", "fit_single"]


@dataclass
class Single:
    """One curve fitted by lmfit: the stack of one to summarize, the
    evaluations it took, and what the likelihood adds (a robust fit's loss,
    scale and flagged points), and how many starts agreed (`note`)."""

    fitted: Fitted
    nfev: int
    extras: dict[str, Any] = field(default_factory=dict)
    note: str = ""


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


#: What lmfit and its expressions raise on numbers out of range: a curve or
#: residuals that are not finite (ValueError), an overflowing expression.
NUMERIC_TROUBLE = (ValueError, ArithmeticError, RuntimeError)


def _trouble(exc: Exception) -> str:
    """lmfit's words for numeric trouble, in a line of ours."""
    if "NaN values detected" in str(exc):
        return "the curve or its residuals are not finite (NaN) during the fit"
    return f"a number out of range during the fit ({type(exc).__name__})"


@dataclass
class _Try:
    """One start of a fit and where lmfit (and the test of its optimum) left
    it; `failure` says why it failed instead."""

    start: lmfit.Parameters
    out: Any = None
    robust: dict[str, Any] = field(default_factory=dict)
    offset: float = math.nan
    failure: str | None = None

    @property
    def clean(self) -> bool:
        """Converged to a point with a covariance that is not singular."""
        if self.failure is not None or not self.out.success:
            return False
        if self.out.covar is None:
            return False
        covar = np.array(self.out.covar, dtype=np.float64)[None]
        return not bool(verdicts.collinear(covar, np.array([True]))[0])

    def rank(self) -> tuple[int, float]:
        """Failed last, then not converged, then by the objective."""
        if self.failure is not None:
            return (2, math.inf)
        objective = float(self.out.chisqr)
        if not math.isfinite(objective):
            return (2, math.inf)
        return (0 if self.out.success else 1, objective)


def _best(tries: list[_Try]) -> _Try:
    """The best of the tries (:meth:`_Try.rank`), the first among those at
    the same optimum (:data:`SAME_OPTIMUM`)."""
    top = min(tries, key=_Try.rank)
    grade, objective = top.rank()
    for t in tries:
        g, o = t.rank()
        if g == grade and o <= objective + SAME_OPTIMUM * abs(objective):
            return t
    return top


def _attempt(
    model: SCurveModel,
    likelihood: Likelihood,
    residual: Callable[[lmfit.Parameters], NDArray[np.float64]],
    params: lmfit.Parameters,
    options: FitOptions,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    w: NDArray[np.float64] | None,
) -> _Try:
    """lmfit's fit from `params`, taken to the optimum and tested there
    (:func:`_certify`; not for a robust loss)."""
    with np.errstate(all="ignore"):
        try:
            out, robust = _minimize(
                model, likelihood, residual, params, options.max_nfev
            )
        except NUMERIC_TROUBLE as exc:
            return _Try(params, failure=_trouble(exc))
        offset = (
            _certify(residual, out, model.scale(y), w)
            if lm.CERTIFY and not robust
            else math.nan
        )
    return _Try(params, out, robust, offset)


def _starts(
    model: SCurveModel, options: FitOptions, params: lmfit.Parameters
) -> list[lmfit.Parameters]:
    """The starts of one curve: `params` (the self-start with the user's
    options), for a curve with two orientations (:attr:`SCurveModel.
    oriented`) its mirror image too, then ``options.starts`` seeded random
    ones about the first (each fitted parameter moved by a normal multiple
    of its size); each moved inside its bounds (:func:`inside`)."""
    found = [params]
    if model.oriented:
        values = model.flipped({n: params[n].value for n in model.curve_params})
        other = params.copy()
        for name in model.orientation:
            if other[name].vary and name not in options.init:
                lo, hi = other[name].min, other[name].max
                other[name].set(value=float(inside(values[name], lo, hi)))
        found.append(other)
    rng = np.random.default_rng(SEED)
    for _ in range(options.starts):
        trial = params.copy()
        for name in model.curve_params:
            p = trial[name]
            if p.vary and not p.expr:
                size = abs(p.value) or 1.0
                moved = p.value + size * rng.normal()
                p.set(value=float(inside(moved, p.min, p.max)))
        found.append(trial)
    return found


def _agreement(tries: list[_Try], chosen: _Try) -> str:
    """How many starts reached the chosen optimum (its sum of squares to
    1e-6, relative), in words; nothing for one start."""
    if len(tries) == 1:
        return ""
    best = float(chosen.out.chisqr)
    agreed = sum(
        t.failure is None
        and bool(t.out.success)
        and abs(float(t.out.chisqr) - best) <= 1e-6 * max(best, 1e-300)
        for t in tries
    )
    return f"{agreed} of {len(tries)} starts reached this optimum"


def _certify(
    residual: Callable[[lmfit.Parameters], NDArray[np.float64]],
    out: lmfit.minimizer.MinimizerResult,
    target: NDArray[np.float64],
    w: NDArray[np.float64] | None,
) -> float:
    """Take lmfit's converged fit `out` to the optimum (:func:`~scurve.
    fitters.lm.polish`) and test it there: returns the relative offset (0
    for a curve through every point, NaN for a fit lmfit did not finish,
    whose reason stands), and where it is above :data:`~scurve.fitters.lm.
    OFFSET_TOL`, marks `out` as not converged, with the value. `out` gets
    the new values and residuals if the point moved, and the covariance
    from the tested Jacobian (:func:`~scurve.fitters.lm.
    certified_covariance`)."""
    names = list(out.var_names)
    best = out.params
    start = np.array([[best[n].value for n in names]])
    lower = np.array([[best[n].min for n in names]])
    upper = np.array([[best[n].max for n in names]])
    trial = best.copy()

    def stacked(values: NDArray, rows: NDArray) -> NDArray:
        parts = []
        for row in values:
            for n, v in zip(names, row, strict=True):
                trial[n].value = float(v)
            parts.append(residual(trial))
        return np.array(parts)

    def held(values: NDArray, rows: NDArray) -> NDArray:
        return verdicts.at_bound(values, lower[rows], upper[rows])

    scale = target if w is None else w * target
    floor = 1e-26 * float(np.dot(scale, scale))
    if not out.chisqr > floor:  # through every point: nothing to gain
        return 0.0
    if not out.success:  # lmfit's own reason stands
        return math.nan
    try:
        done = polish(stacked, start, lower, upper, held=held, floor=floor)
    except NUMERIC_TROUBLE:
        return math.nan
    out.nfev += int(done.nfev[0])
    moved = bool(done.rss[0] < out.chisqr)
    if moved:
        for n, v in zip(names, done.x[0], strict=True):
            best[n].value = float(v)
        best.update_constraints()
        out.residual = done.r[0]
        out.chisqr = float(done.rss[0])
    k = len(names)
    old = np.full((1, k, k), np.nan) if out.covar is None else out.covar[None]
    n = np.array([float(done.r.shape[1])])
    covar, has = certified_covariance(done, n, old, np.array([out.covar is not None]))
    out.covar = covar[0] if has[0] else None
    offset = float(done.offset[0])
    if out.success and not offset <= OFFSET_TOL:
        out.success = False
        out.message = (
            f"the relative offset is {offset:.2g}, above {OFFSET_TOL:g}: "
            "not a stationary point of the sum of squares"
        )
    return offset


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
    residual = _objective(model, likelihood, x, y, w)
    tries: list[_Try] = []
    for trial in _starts(model, options, params):
        tries.append(_attempt(model, likelihood, residual, trial, options, x, y, w))
    if options.init and not tries[0].clean:  # the user's start: also the self-start
        own = FitOptions(fix=options.fix, bounds=options.bounds, trials=options.trials)
        for trial in _starts(model, own, own.params(model, x, y))[:2]:
            tries.append(_attempt(model, likelihood, residual, trial, options, x, y, w))
    chosen = _best(tries)
    if chosen.failure is not None:
        raise FitError(f"the fit failed: {chosen.failure}")
    out, robust, offset = chosen.out, chosen.robust, chosen.offset
    start = np.array([[chosen.start[n].value for n in names]], dtype=np.float64)
    note = _agreement(tries, chosen)
    out.nfev = sum(int(t.out.nfev) for t in tries if t.out is not None)
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
            lambda p: residual(p), trial, name, level, nfree=int(out.nfree),
            known_dispersion=likelihood.known_dispersion,
        )  # fmt: skip

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
        # stopped short of a stationary point (a fit to noise whose
        # parameters run off): still tested for a flat curve
        wandered=np.array([offset > OFFSET_TOL]),
        profile=profile,
        offset=np.array([offset]),
    )
    return Single(fitted, int(out.nfev), extras, note)
