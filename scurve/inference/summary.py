r"""From minimized curves to reported numbers: one rule for every path.

Whichever path minimized the curves (the vectorized Levenberg-Marquardt,
lmfit one curve at a time, a joint fit), it hands them here as a
:class:`Fitted` stack, and :func:`summarize` computes, for all of them at
once: the statistics of the likelihood, drc's Hessian covariance where the
model asks for it, derived quantities with their standard errors, the
verdict of each curve (:mod:`~scurve.inference.verdicts`), the test for a
flat curve, the model's own checks of a finished fit, and the intervals
(delta, mapped, profile) at a level. One curve is a stack of one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from scurve.inference import hessian, verdicts
from scurve.inference.derived import Expressions, derived_with_errors, mapped_ends
from scurve.inference.intervals import CI, log_scale_ends, t_quantiles
from scurve.inference.likelihoods import LeastSquares, Likelihood, Robust
from scurve.inference.statistics import STAT_NAMES, Stats
from scurve.models.base import SCurveModel

__all__ = ["Fitted", "HessianPoints", "Summary", "summarize"]

#: ``profile(curve, name, level, stderr)`` -> the profile interval of the
#: fitted parameter `name` of the `curve`-th curve of a stack, whose standard
#: error `stderr` sets the profile's first steps.
Profiler = Callable[[int, str, float, float], tuple[float, float]]


@dataclass
class HessianPoints:
    """The points the Hessian of each curve's sum of squares is taken over,
    where they are not the curves' own (the vectorized path's merged
    replicates: the same sums over the points, less a constant), with the
    residuals and exact Jacobian at the solution if known."""

    x: NDArray[np.float64]
    target: NDArray[np.float64]  # responses on the model's scale
    w: NDArray[np.float64]
    residuals: NDArray[np.float64] | None = None
    centre: NDArray[np.float64] | None = None


@dataclass
class Fitted:
    """A stack of curves after the minimizer, as arrays.

    Attributes
    ----------
    model, likelihood
        What was fitted, and how.
    varied : ndarray of int
        The places in ``model.curve_params`` of the fitted parameters.
    values : ndarray, shape (b, P)
        Every parameter of every curve (fixed ones at their values).
    lower, upper : ndarray, shape (b, k)
        The bounds of the fitted parameters.
    covar : ndarray, shape (b, k, k)
        The covariance of the fitted parameters the minimizer found
        (:math:`s^2 (J^T J)^{-1}`, or Huber's for a robust loss), NaN where
        `has` is False.
    has : ndarray of bool
        Which curves have one.
    x, y, w, mask : ndarray, shape (b, n)
        The points: weights 1 where none (trials for binomial data), padding
        masked out.
    fit : ndarray, shape (b, n)
        The curves at `x`.
    objective : ndarray, shape (b,)
        The minimized sums of squares (of the objective residuals).
    success, aborted : ndarray of bool
        The minimizer converged; it stopped at its limit of evaluations.
    why : sequence of str
        The minimizer's words where it did not converge.
    nfev : ndarray of int
        Function evaluations.
    start : ndarray, shape (b, P), optional
        Where the minimizer started.
    wandered : ndarray of bool
        Curves that did not converge but may be tested for a flat curve at
        their best point (a fit to noise that wanders off).
    creeping : ndarray of bool
        Curves that crept along a valley: not an optimum even where the
        covariance looks fine.
    dof : ndarray, optional
        The residual degrees of freedom, where they are not the curve's own
        (a joint fit's).
    joint_stats : dict, optional
        Statistics that are the joint fit's, not the group's (dof, loglik,
        aic, aicc, bic).
    hessian_points : HessianPoints, optional
        Where to take the Hessian, if not at the curves' own points.
    final_covariance : bool
        `covar` is final: no Hessian is taken (a joint fit's covariance).
    verdict : Verdicts, optional
        The statuses, where they are not each curve's own (a joint fit's,
        for every group; then neither the flat test nor the model's checks
        of a fit apply).
    profile : callable, optional
        The profile interval of a fitted parameter of one curve.
    offset : ndarray, optional
        The relative offset of each curve at its optimum (the convergence
        test's value, :func:`scurve.fitters.lm.relative_offset`), reported
        in the message of a good fit; NaN where not taken.
    """

    model: SCurveModel
    likelihood: Likelihood
    varied: NDArray[np.intp]
    values: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    covar: NDArray[np.float64]
    has: NDArray[np.bool_]
    x: NDArray[np.float64]
    y: NDArray[np.float64]
    w: NDArray[np.float64]
    mask: NDArray[np.bool_]
    fit: NDArray[np.float64]
    objective: NDArray[np.float64]
    success: NDArray[np.bool_]
    aborted: NDArray[np.bool_]
    why: Sequence[str]
    nfev: NDArray[np.int64]
    start: NDArray[np.float64] | None = None
    wandered: NDArray[np.bool_] | None = None
    creeping: NDArray[np.bool_] | None = None
    joint_stats: Stats | None = None
    hessian_points: HessianPoints | None = None
    final_covariance: bool = False
    verdict: verdicts.Verdicts | None = None
    profile: Profiler | None = field(default=None, repr=False)
    offset: NDArray[np.float64] | None = None

    @property
    def names(self) -> list[str]:
        return list(self.model.curve_params)

    @property
    def fitted_names(self) -> list[str]:
        names = self.names
        return [names[k] for k in self.varied]


@dataclass
class Summary:
    """The reported numbers of a stack of curves.

    ``quantities`` are the parameters, then the derived quantities;
    ``value``, ``stderr``, ``lower``, ``upper`` are ``(b, Q)``; a curve the
    model refused after its fit (``check_fit``) has status ``failed`` and
    NaN everywhere, a ``flat`` one NaN for its quantities.
    """

    quantities: list[str]
    value: NDArray[np.float64]
    stderr: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    stats: Stats
    converged: NDArray[np.bool_]
    status: NDArray[np.object_]
    message: NDArray[np.object_]
    covar: NDArray[np.float64]
    has: NDArray[np.bool_]
    objective: NDArray[np.float64]
    nfev: NDArray[np.int64]
    start: NDArray[np.float64]  # (b, P): where the minimizer started
    profiled: NDArray[np.bool_]  # (Q,): the intervals are profile ones


def _symbols(f: Fitted) -> dict[str, NDArray[np.float64]]:
    with np.errstate(invalid="ignore"):
        span = {
            "x_min": np.min(np.where(f.mask, f.x, np.inf), axis=1),
            "x_max": np.max(np.where(f.mask, f.x, -np.inf), axis=1),
        }
    return {n: f.values[:, k] for k, n in enumerate(f.names)} | span


def _fisher_covariance(f: Fitted, errorbars: NDArray) -> NDArray | None:
    """The inverse expected information of each curve (the likelihood's
    :meth:`~scurve.inference.likelihoods.Likelihood.information`), a curve
    whose information is singular keeping its covariance; None where the
    likelihood has none."""
    covar = f.covar.copy()
    fitted = [f.names[k] for k in f.varied]
    for c in np.flatnonzero(errorbars):
        m = f.mask[c]
        values = dict(zip(f.names, f.values[c], strict=True))
        info = f.likelihood.information(f.model, values, fitted, f.x[c][m], f.w[c][m])
        if info is None:
            return None
        try:
            covar[c] = np.linalg.inv(info)
        except np.linalg.LinAlgError:
            continue
    return covar


def _finish_covariance(f: Fitted, stats: Stats, errorbars: NDArray) -> NDArray:
    """drc's Hessian covariance, or the Fisher information's, for models
    that ask for it (a robust loss keeps Huber's)."""
    model, covar = f.model, f.covar
    if f.final_covariance or model.covariance not in ("hessian", "fisher"):
        return covar
    if model.covariance == "fisher" and len(f.varied):
        fisher = _fisher_covariance(f, errorbars)
        if fisher is not None:
            return fisher
    if isinstance(f.likelihood, Robust):
        return covar
    if not errorbars.any() or not len(f.varied):
        return covar
    names, varied = f.names, f.varied
    plain = type(f.likelihood) is LeastSquares and not model.penalized
    points = f.hessian_points
    if points is None:
        target = model.scale(f.y)
        points = HessianPoints(f.x, target, np.where(f.mask, f.w, 0.0))
    xs, ts, ws = points.x, points.target, points.w
    tiny = np.finfo(np.float64).tiny
    fitted = [names[k] for k in varied]

    def columns(trial: NDArray, rows: NDArray) -> dict[str, NDArray]:
        full = f.values[rows].copy()
        full[:, varied] = np.clip(trial, f.lower[rows], f.upper[rows])
        return {n: full[:, k : k + 1] for k, n in enumerate(names)}

    def rss(trial: NDArray, rows: NDArray) -> NDArray:
        if not plain:  # the likelihood's own objective, curve by curve
            out = np.empty(len(rows))
            for i, c in enumerate(rows):
                values = {
                    n: v[i, 0]
                    for n, v in columns(trial[i : i + 1], rows[i : i + 1]).items()
                }
                m = f.mask[c]
                r = f.likelihood.residual(
                    model, values, f.x[c][m], f.y[c][m], f.w[c][m]
                )
                out[i] = float(np.dot(r, r))
            return out
        curve = model.function(xs[rows], **columns(trial, rows))
        if model.log_y:
            curve = np.log(np.maximum(curve, tiny))
        r = ws[rows] * (curve - ts[rows])
        return np.einsum("bn,bn->b", r, r)

    partials = model.partials(xs[:1], **columns(f.values[:1, varied], np.arange(1)))
    derivatives = plain and not model.log_y and partials is not None
    jacobian = None
    residuals = None
    if derivatives:

        def jacobian(trial: NDArray, rows: NDArray) -> NDArray:
            d = model.partials(xs[rows], **columns(trial, rows))
            shape = xs[rows].shape
            jt = np.empty((len(rows), len(fitted), shape[1]))
            for j, name in enumerate(fitted):
                np.multiply(d[name], ws[rows], out=jt[:, j, :])
            return jt.transpose(0, 2, 1)

        residuals = points.residuals
        if residuals is None:
            curve = model.function(
                xs, **columns(f.values[:, varied], np.arange(len(xs)))
            )
            residuals = ws * (curve - ts)
    linear = [i for i, n in enumerate(fitted) if n in model.linear_params]
    usable = errorbars & (stats["dof"] > 0)
    with np.errstate(all="ignore"):
        covar, _ = hessian.stack_hessian_covariance(
            values=f.values[:, varied],
            covar=covar,
            usable=usable,
            dispersion=f.likelihood.dispersion(stats),
            lower=f.lower,
            upper=f.upper,
            rss=rss,
            jacobian=jacobian,
            residuals=residuals,
            linear=linear,
            centre=points.centre,
        )
    return covar


def summarize(
    f: Fitted, *, level: float, ci: CI, expressions: Expressions | None = None
) -> Summary:
    """The reported numbers of the curves `f` (see the module docstring).

    Parameters
    ----------
    f : Fitted
    level : float
        Confidence level of the intervals.
    ci : {"delta", "profile", "none"}
        ``profile`` needs ``f.profile``.
    expressions : Expressions, optional
        The model's derived quantities (made once per table by the caller).
    """
    model, like = f.model, f.likelihood
    names, varied = f.names, f.varied
    b, k = len(f.values), len(varied)
    expressions = expressions or Expressions(model)
    stats = like.statistics(model, f.y, f.fit, f.w, f.mask, k)
    if f.joint_stats is not None:
        stats = stats | f.joint_stats
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.einsum("bjj->bj", f.covar))
    errorbars = f.has & np.all(se > 0, axis=1)
    covar = _finish_covariance(f, stats, errorbars)
    with np.errstate(invalid="ignore"):
        se = np.sqrt(np.einsum("bjj->bj", covar))
    stderr = np.where(f.has[:, None], 0.0, math.nan) * np.ones((b, len(names)))
    stderr[:, varied] = np.where(f.has[:, None], se, math.nan)

    symbols = _symbols(f)
    fitted_names = f.fitted_names
    derived, derived_se = derived_with_errors(
        expressions, symbols, fitted_names, covar, f.has, errorbars
    )
    with np.errstate(invalid="ignore"):
        finite = (
            np.all(np.isfinite(f.values), axis=1)
            & np.all([np.isfinite(v) for v in derived.values()] or [True], axis=0)
            & np.all(np.isfinite(f.fit) | ~f.mask, axis=1)
        )
        scale = np.sum(np.where(f.mask, np.square(f.y), 0.0), axis=1)
    values_fitted = f.values[:, varied]
    verdict = f.verdict or verdicts.assess(
        names=fitted_names,
        values=values_fitted,
        lower=f.lower,
        upper=f.upper,
        finite=finite,
        success=f.success,
        why=f.why,
        aborted=f.aborted,
        covar=covar,
        has=f.has,
        errorbars=errorbars,
        exact=f.objective <= 1e-28 * scale,
        nfev=f.nfev,
        notes=model.bound_notes,
    )
    converged = verdict.converged.copy()
    status, message = verdict.status.copy(), verdict.message.copy()
    if f.offset is not None:
        for c in np.flatnonzero((status == "ok") & np.isfinite(f.offset)):
            message[c] += f" (relative offset {f.offset[c]:.1e})"
    if f.creeping is not None:
        for c in np.flatnonzero(f.creeping & (status == "ok")):
            # a valley the covariance does not show as singular: say so
            converged[c], status[c] = False, "not_converged"
            message[c] = (
                f"did not converge ({f.why[c]}); the values are the last iterate, "
                "not an optimum"
            )
    # the residual degrees of freedom of the objective: a penalized fit's
    # pseudo-observations (priors) count, as lmfit counts them
    dof = stats["dof"]
    if model.penalized and b:
        dof = dof + model.penalty({n: f.values[0, i] for i, n in enumerate(names)}).size
    testable = converged.copy() if f.verdict is None else np.zeros(b, dtype=bool)
    if f.wandered is not None:
        testable |= f.wandered & finite
    named = {n: f.values[:, i] for i, n in enumerate(names)}
    if testable.any():
        rows = np.flatnonzero(testable)
        flat = like.flat(
            model,
            {s: v[rows] for s, v in (stats | {"dof": dof}).items()},
            f.objective[rows],
            f.x[rows],
            f.y[rows],
            f.w[rows],
            f.mask[rows],
            {n: v[rows] for n, v in named.items()},
            k,
        )
        for c, why in zip(rows, flat, strict=True):
            if why:
                if not converged[c]:
                    why += f"; the fit did not converge ({f.why[c]})"
                status[c], message[c] = "flat", why
    refused = np.full(b, "", dtype=object)
    if converged.any() and f.verdict is None:
        rows = np.flatnonzero(converged)
        own = model.check_fit(
            f.x[rows], f.mask[rows], {n: v[rows] for n, v in named.items()}
        )
        held = like.check_fit(
            f.x[rows], f.y[rows], f.w[rows], f.mask[rows], f.fit[rows]
        )
        refused[rows] = np.where(own != "", own, held)

    # intervals
    quantities = names + list(derived)
    t = t_quantiles(level, np.full(b, math.inf) if like.known_dispersion else dof)
    value = (
        np.column_stack([f.values, *derived.values()]) if derived else f.values.copy()
    )
    stderr = np.column_stack([stderr, *derived_se.values()]) if derived else stderr
    lower, upper = (
        np.full((b, len(quantities)), math.nan),
        np.full((b, len(quantities)), math.nan),
    )
    profiled = np.zeros(len(quantities), dtype=bool)
    fixed = np.ones(len(names), dtype=bool)
    fixed[varied] = False
    if ci != "none":
        with np.errstate(invalid="ignore"):
            lower, upper = value - t[:, None] * stderr, value + t[:, None] * stderr
        for j, name in enumerate(derived, start=len(names)):
            deps = expressions.uses(name, fitted_names)
            if name in expressions.mapped and len(deps) == 1:
                i = names.index(deps[0])
                col = fitted_names.index(deps[0])
                half = t * stderr[:, i]
                with np.errstate(invalid="ignore"):
                    ends = [
                        np.clip(
                            f.values[:, i] + s * half, f.lower[:, col], f.upper[:, col]
                        )
                        for s in (-1.0, 1.0)
                    ]
                lower[:, j], upper[:, j] = mapped_ends(
                    expressions, symbols, name, deps[0], *ends
                )
            elif name in expressions.positive:
                lower[:, j], upper[:, j] = log_scale_ends(value[:, j], t * stderr[:, j])
        if ci == "profile" and f.profile is not None:
            profiled = _profiles(
                f, expressions, symbols, quantities, stderr, lower, upper, level,
                skip=status == "singular",
            )  # fmt: skip
    # a singular fit has no standard errors, and no intervals from them, of
    # anything estimated (whatever the method: a profile along a direction
    # the data do not determine closes nowhere, or anywhere)
    estimated = np.ones(len(quantities), dtype=bool)
    estimated[: len(names)] = ~fixed
    for c in np.flatnonzero(status == "singular"):
        for array in (stderr, lower, upper):
            array[c, estimated] = math.nan
    lower[:, : len(names)][:, fixed] = f.values[:, fixed]
    upper[:, : len(names)][:, fixed] = f.values[:, fixed]
    stderr[:, : len(names)][:, fixed] = 0.0

    # a curve refused after its fit reports nothing at all (a flat one no
    # quantities: the table's writers leave them out)
    blank = refused != ""
    for array in (value, stderr, lower, upper):
        array[blank] = math.nan
    for c in np.flatnonzero(refused != ""):
        converged[c], status[c], message[c] = False, "failed", refused[c]
        for s in STAT_NAMES:
            stats[s] = np.array(stats[s], dtype=np.float64)
            stats[s][c] = math.nan
    return Summary(
        quantities=quantities,
        value=value,
        stderr=stderr,
        lower=lower,
        upper=upper,
        stats=stats,
        converged=converged,
        status=status,
        message=message,
        covar=covar,
        has=f.has,
        objective=f.objective,
        nfev=np.asarray(f.nfev, dtype=np.int64),
        start=f.values.copy() if f.start is None else f.start,
        profiled=profiled,
    )


def _profiles(
    f: Fitted,
    expressions: Expressions,
    symbols: dict[str, NDArray[np.float64]],
    quantities: list[str],
    stderr: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    level: float,
    skip: NDArray[np.bool_],
) -> NDArray[np.bool_]:
    """Profile intervals in place of the delta ones: of each fitted
    parameter, and of each derived quantity of one fitted parameter (its
    profile interval mapped through the expression); the others keep the
    delta method's. Where a standard error is not finite, the delta ends
    stay (NaN); the curves to `skip` (singular) are not profiled."""
    assert f.profile is not None
    names, fitted = f.names, f.fitted_names
    profiled = np.zeros(len(quantities), dtype=bool)
    ends: dict[tuple[int, str], tuple[float, float]] = {}
    for c in np.flatnonzero(~skip):
        for j, name in enumerate(quantities):
            if j < len(names):
                dep = name if name in fitted else None
            else:
                deps = expressions.uses(name, fitted)
                dep = deps[0] if len(deps) == 1 else None
            if dep is None or not math.isfinite(stderr[c, j]):
                continue
            if (c, dep) not in ends:
                se = float(stderr[c, names.index(dep)])
                ends[c, dep] = f.profile(c, dep, level, se)
            lo, hi = ends[c, dep]
            if j < len(names):
                lower[c, j], upper[c, j] = lo, hi
            else:
                one = {s: v[c : c + 1] for s, v in symbols.items()}
                a, b = mapped_ends(
                    expressions, one, name, dep, np.array([lo]), np.array([hi])
                )
                lower[c, j], upper[c, j] = float(a[0]), float(b[0])
            profiled[j] = True
    return profiled
