r"""The vectorized path: many curves of one model fitted at once, in lockstep.

For independent least-squares fits of a model whose curve broadcasts over a
stack (``model.function(x2d, **{name: values[:, None]})`` evaluates every
curve at once): the curves are padded into ``(b, n)`` arrays (padding and
points of weight 0 carry weight 0), started by the model's vectorized
:meth:`~scurve.models.base.SCurveModel.start`, and minimized together by
:func:`~scurve.fitters.lm.levenberg_marquardt` in chunks of
:data:`CHUNK` curves, in worker processes for large fits. The per-call
overhead of lmfit (re-evaluating derived quantities and propagating
uncertainties on every residual call) is what dominates for small curves,
and it is gone here; what is reported comes from the same
:func:`~scurve.inference.summary.summarize` as on every path.

*Replicates* (points of a curve at one x) are merged for the minimizer into
one point at their weighted mean, of weight :math:`\sqrt{\sum w^2}`
(:func:`_replicates`): every sum over the points is the same, less a
constant, and a screen of 8 doses in triplicate costs a third as much per
iteration.

*The minimizer* uses the model's analytic derivatives where it has them,
else forward differences; the Jacobian at the solution is lmfit's forward
difference in the internal coordinates (its step :math:`10^{-5}|u|`), or the
exact one for unbounded fits, so that the standard errors are lmfit's. Its
tolerance is 1e-10 (tighter than lmfit's 1.5e-8, so that the vectorized
minimum is never the worse one), or the model's own where tighter. The few
curves that need more than :data:`~scurve.fitters.lm.MAX_ITERATIONS`
iterations go on, pooled from every chunk, in a second pass within lmfit's
own evaluation budget.

*Fallback*: a curve this path cannot finish (non-finite values, a stall) is
left to the lmfit path (:mod:`scurve.fitters.single`), and its message says
so. A model whose function does not broadcast is fitted by the lmfit path
altogether.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
from numpy.typing import NDArray

from scurve.core import stacked
from scurve.fitters import lm
from scurve.fitters.lm import (
    CREEP,
    CREEP_WINDOW,
    LMFIT_FTOL,
    MAX_ITERATIONS,
    OFFSET_TOL,
    RESUME_ITERATIONS,
    SAME_OPTIMUM,
    Bounds,
    LMSolution,
    certified_covariance,
    evaluation_budget,
    jacobian_covariance,
    levenberg_marquardt,
    polish,
)
from scurve.fitters.options import FitOptions, inside
from scurve.inference import verdicts
from scurve.inference.checks import Points, refusals
from scurve.inference.derived import Expressions
from scurve.inference.likelihoods import Likelihood
from scurve.inference.summary import Fitted, HessianPoints, Summary, summarize
from scurve.io import available_cores  # re-exported: benchmarks/batch.py
from scurve.models.base import SCurveModel

__all__ = [
    "CHUNK",
    "MIN_CHUNK",
    "PARALLEL_CURVES",
    "TAIL",
    "Vectorized",
    "available_cores",
    "fit_vectorized",
]

#: Curves fitted together in one lockstep chunk (bounds memory and keeps the
#: arrays in cache).
CHUNK = 4096


# ------------------------------------------------------------ the curves


@dataclass(slots=True)
class _Curve:
    """One curve, checked and started: its points, its start, the bounds of
    its parameters (the model's ``curve_params``, in order)."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    w: NDArray[np.float64] | None
    start: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    spent: int = 0  # evaluations used by a first pass (resumed curves)
    origin: NDArray[np.float64] | None = None  # the start of the first pass


@dataclass
class _Stack:
    """Curves as arrays: x, y, weights and mask, shape (b, longest), padding
    repeating each curve's first point with weight 0
    (:func:`scurve.core.stacked.padded`); their starts and bounds, shape (b,
    n_params)."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    w: NDArray[np.float64]
    mask: NDArray[np.bool_]
    start: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]


def _stack(curves: Sequence[_Curve]) -> _Stack:
    """The arrays of `curves`."""
    return _Stack(
        *stacked.padded(
            [c.x for c in curves], [c.y for c in curves], [c.w for c in curves]
        ),
        np.array([c.start for c in curves]),
        np.array([c.lower for c in curves]),
        np.array([c.upper for c in curves]),
    )


def _replicates(
    x: NDArray, target: NDArray, w: NDArray
) -> tuple[NDArray, NDArray, NDArray, NDArray] | None:
    r"""Each curve's points at one x merged into one, for the minimizer:
    ``(x, target, w, pure)`` with a column per distinct x (padding with
    weight 0 where a curve has fewer), or None where that is no fewer
    columns (some curve repeats no x).

    The sum of squares of a curve :math:`f` through points
    :math:`(x, y_k)` of weights :math:`w_k` at one x is

    .. math:: \sum_k w_k^2 (f - y_k)^2 = W (f - \bar y)^2
              + \sum_k w_k^2 (y_k - \bar y)^2, \qquad
              W = \sum_k w_k^2, \quad \bar y = \sum_k w_k^2 y_k / W,

    one point of weight :math:`\sqrt W` at the weighted mean, plus the
    replicates' pure error (`pure`, summed over the curve), which does not
    depend on the parameters. Every sum over the points (the sum of squares,
    :math:`J^T J`, :math:`J^T r`, the Hessian's :math:`\sum r \nabla^2 f`)
    is the same, to rounding, over as many points as there are distinct
    doses: a third of the work for 8 doses in triplicate. Padding (weight
    0, at a curve's first x) merges into that x and adds nothing."""
    b, n = x.shape
    if (x == x[:1]).all():  # one layout for all (a screen): sorted once
        order = np.argsort(x[0], kind="stable")
        xs = np.broadcast_to(x[0, order], (b, n))
        ts, w2 = target[:, order], w[:, order] ** 2
        layouts = xs[:1]
    else:
        order = np.argsort(x, axis=1, kind="stable")
        xs = np.take_along_axis(x, order, axis=1)
        ts = np.take_along_axis(target, order, axis=1)
        w2 = np.take_along_axis(w, order, axis=1) ** 2
        layouts = xs
    first = np.ones(layouts.shape, dtype=bool)  # the first point of each x
    np.not_equal(layouts[:, 1:], layouts[:, :-1], out=first[:, 1:])
    group = np.cumsum(first, axis=1) - 1  # within the curve
    k = int(group[:, -1].max()) + 1
    if k == n:
        return None
    first, group = np.broadcast_to(first, (b, n)), np.broadcast_to(group, (b, n))
    index = (group + (np.arange(b) * k)[:, None]).ravel()
    weight = np.bincount(index, w2.ravel(), b * k).reshape(b, k)
    total = np.bincount(index, (w2 * ts).ravel(), b * k).reshape(b, k)
    xm = np.repeat(xs[:, :1], k, axis=1)  # padding: the first x, weight 0
    tm = np.repeat(ts[:, :1], k, axis=1)
    where = index[first.ravel()]
    xm.ravel()[where], tm.ravel()[where] = xs[first], ts[first]
    np.divide(total, weight, out=tm, where=weight > 0)
    spread = ts - np.take_along_axis(tm, group, axis=1)
    pure = np.einsum("bn,bn->b", w2 * spread, spread)
    return xm, tm, np.sqrt(weight), pure


def _columns_t(
    d: Mapping[str, NDArray], names: Sequence[str], scale: Any, shape: tuple
) -> NDArray:
    """J^T, shape `shape` ``(b, len(names), n)``: the model's derivatives
    `d` of `names`, times `scale`, row by row."""
    jt = np.empty(shape)
    for j, name in enumerate(names):
        np.multiply(d[name], scale, out=jt[:, j, :])
    return jt


def broadcasts(model: SCurveModel, x: NDArray[np.float64], start: NDArray) -> bool:
    """Whether ``model.function`` evaluates a stack of curves at once: two
    rows with different parameter values against one call per row."""
    names = model.curve_params
    rows = np.stack([start, start * (1 + 1e-3) + 1e-3])
    x2 = np.stack([x, x])
    try:
        with np.errstate(all="ignore"):
            stacked_values = model.function(
                x2, **{n: rows[:, k : k + 1] for k, n in enumerate(names)}
            )
            single = np.stack(
                [
                    model.function(x, **dict(zip(names, row, strict=True)))
                    for row in rows
                ]
            )
    except Exception:  # any failure means: not vectorized
        return False
    return bool(
        np.shape(stacked_values) == single.shape
        and np.allclose(stacked_values, single, rtol=1e-12, atol=0, equal_nan=True)
    )


# ------------------------------------------------------------ one chunk

#: The words for why the minimizer stopped without converging.
_REASONS = {
    "creeping": (
        f"the sum of squares fell by less than {CREEP:g} (relative) over "
        f"{CREEP_WINDOW} iterations: the fit creeps along a valley, so some "
        "parameters are not identifiable from these data"
    ),
    "offset": (
        f"the relative offset stayed above {OFFSET_TOL:g}: not a stationary "
        "point of the sum of squares"
    ),
}


@dataclass
class _Solved:
    """A lockstep chunk after the fit: its summary, the minimizer's reason
    for stopping each curve, and where it left them (for a second pass)."""

    summary: Summary
    reason: NDArray[np.str_]
    values: NDArray[np.float64]
    refused: NDArray[np.bool_]


class _Solver:
    """The model, likelihood and options of a fit, and how to solve a chunk."""

    def __init__(
        self,
        model: SCurveModel,
        likelihood: Likelihood,
        options: FitOptions,
        varied: NDArray[np.intp],
    ) -> None:
        self.model, self.likelihood, self.options = model, likelihood, options
        self.varied = varied
        self.expressions = Expressions(model)

    def solve(
        self,
        curves: list[_Curve],
        *,
        max_iterations: int | None = None,
        spent: NDArray[np.int64] | None = None,
        stack: _Stack | None = None,
    ) -> _Solved:
        """Fit one lockstep chunk; `stack`, its arrays if made already.

        The first pass gives every curve `max_iterations` (default
        :data:`~scurve.fitters.lm.MAX_ITERATIONS`); the second, for the few
        that need more, is given `spent`, the evaluations each curve has
        used, and `max_iterations` more, within lmfit's own budget
        (:func:`~scurve.fitters.lm.evaluation_budget`), stopping curves that
        creep along a valley: a curve stopped there has not converged
        (status ``not_converged``), as on the lmfit path."""
        model, varied = self.model, self.varied
        names = list(model.curve_params)
        fitted = [names[k] for k in varied]
        stack = stack or _stack(curves)
        x, y, w, mask, start = stack.x, stack.y, stack.w, stack.mask, stack.start
        lower, upper = stack.lower[:, varied], stack.upper[:, varied]
        bnds = Bounds(lower.reshape(len(curves), -1), upper.reshape(len(curves), -1))
        target = model.scale(y)
        tiny = np.finfo(np.float64).tiny
        # the minimizer's points: replicates merged (the sums over the points
        # are the same, less the constant pure error), unless that saves no
        # column
        merged = _replicates(x, target, w)
        xl, tl, wl, pure = (x, target, w, None) if merged is None else merged

        def evaluate(values: NDArray, at: NDArray) -> NDArray:
            return model.function(
                at, **{n: values[:, k : k + 1] for k, n in enumerate(names)}
            )

        unbounded = bnds.none
        periodic = np.isfinite(lower) & np.isfinite(upper)  # fitted through sin u

        def full(u: NDArray, rows: NDArray) -> NDArray:
            values = start[rows].copy()
            values[:, varied] = u if unbounded else bnds.take(rows).to_external(u)
            return values

        plain = bool((wl == 1.0).all())  # no weights, no padding: w is 1

        def residual_at(values: NDArray, rows: NDArray) -> NDArray:
            f = evaluate(values, xl[rows])
            if model.log_y:
                f = np.log(np.maximum(f, tiny))
            r = f - tl[rows]
            return r if plain else np.multiply(wl[rows], r, out=r)

        def residual(u: NDArray, rows: NDArray) -> NDArray:
            return residual_at(full(u, rows), rows)

        def on_bound(u: NDArray, rows: NDArray) -> NDArray:
            """The parameters held by a bound: on it, and a step inward
            (1e-6, relative) does not lower the sum of squares."""
            values = full(u, rows)
            held = verdicts.at_bound(values[:, varied], lower[rows], upper[rows])
            r = residual_at(values, rows)
            rss = np.einsum("bn,bn->b", r, r)
            for j, k in enumerate(varied):
                on = np.flatnonzero(held[:, j])
                if on.size == 0:
                    continue
                value = values[on, k]
                hi, lo = upper[rows[on], j], lower[rows[on], j]
                inward = np.where(np.abs(value - hi) <= np.abs(value - lo), -1.0, 1.0)
                trial = values[on].copy()
                trial[:, k] += inward * 1e-6 * np.maximum(1.0, np.abs(value))
                moved = residual_at(trial, rows[on])
                held[on, j] = np.einsum("bn,bn->b", moved, moved) >= rss[on]
            return held

        def transposed(
            d: Mapping[str, NDArray], u: NDArray, rows: NDArray, scale: Any
        ) -> NDArray:
            """J^T in the internal coordinates from the model's derivatives
            `d` (times `scale`), row by row."""
            jt = _columns_t(d, fitted, scale, (len(rows), varied.size, xl.shape[1]))
            if not unbounded:
                jt *= bnds.take(rows).secant(u)[:, :, None]
            return jt

        def jacobian(u: NDArray, r: NDArray, rows: NDArray) -> NDArray:
            """The model's analytic derivatives, in the internal coordinates."""
            values = full(u, rows)
            columns = {n: values[:, k : k + 1] for k, n in enumerate(names)}
            d = model.partials(xl[rows], **columns)
            scale = 1.0 if plain else wl[rows]
            if model.log_y:  # d log f = df / f
                scale = scale / np.maximum(evaluate(values, xl[rows]), tiny)
            return transposed(d, u, rows, scale).transpose(0, 2, 1)

        def joint(u: NDArray, rows: NDArray) -> tuple[NDArray, NDArray]:
            """The residuals and J^T at once: the curve is the sum of its
            linear parameters times their derivatives (the 4PL's plateaus)."""
            values = full(u, rows)
            columns = {n: values[:, k : k + 1] for k, n in enumerate(names)}
            d = model.partials(xl[rows], **columns)
            f = sum(columns[n] * d[n] for n in model.linear_params)
            r = np.subtract(f, tl[rows], out=f)
            if not plain:
                r *= wl[rows]
            return r, transposed(d, u, rows, 1.0 if plain else wl[rows])

        analytic = (
            model.partials(
                x[:1], **{n: start[:1, k : k + 1] for k, n in enumerate(names)}
            )
            is not None
        )
        linear = analytic and not model.log_y and bool(model.linear_params)
        everyone = np.arange(len(curves))
        final = spent is not None
        with np.errstate(all="ignore"):
            u0 = bnds.to_internal(start[:, varied])
            # the model's own tolerance where tighter (hill's 1e-12, for
            # drc's digits); never looser than 1e-10 in the first pass. The
            # second takes the lmfit path's (the model's, or lmfit's 1.5e-8):
            # slow curves (a parameter near a bound, a shallow valley) then
            # stop where the lmfit path stops.
            own = model.solver_options.get("ftol")
            ftol = (own or LMFIT_FTOL) if final else min(1e-10, own or 1.0)

            def run(u: NDArray) -> LMSolution:
                return levenberg_marquardt(
                    residual,
                    u,
                    ftol=ftol,
                    xtol=ftol,
                    max_iterations=MAX_ITERATIONS
                    if max_iterations is None
                    else max_iterations,
                    max_nfev=evaluation_budget(varied.size) - spent if final else None,
                    creep=CREEP if final else 0.0,
                    jacobian=jacobian if analytic else None,
                    joint=joint if linear else None,
                    exact_at_solution=unbounded,
                    on_bound=None if unbounded else on_bound,
                    step_limit=None
                    if not periodic.any()
                    else np.where(periodic, 1.0, np.inf),
                    constant=pure,
                )

            sol = run(u0)
            if model.oriented and not final:
                _other_orientation(
                    sol, run, model, start, stack, varied, bnds, self.options
                )
            if final:
                sol.nfev += spent
            values = full(sol.x, everyone)
        n = mask.sum(axis=1).astype(np.float64)
        _, covar, has = jacobian_covariance(sol.jacobian, sol.x, bnds, sol.rss, n)

        def residual_ext(fitted_values: NDArray, rows: NDArray) -> NDArray:
            values = start[rows].copy()
            values[:, varied] = fitted_values
            return residual_at(values, rows)

        def jacobian_ext(fitted_values: NDArray, r: NDArray, rows: NDArray) -> NDArray:
            values = start[rows].copy()
            values[:, varied] = fitted_values
            columns = {n: values[:, k : k + 1] for k, n in enumerate(names)}
            d = model.partials(xl[rows], **columns)
            scale = 1.0 if plain else wl[rows]
            if model.log_y:
                scale = scale / np.maximum(evaluate(values, xl[rows]), tiny)
            shape = (len(rows), varied.size, xl.shape[1])
            return _columns_t(d, fitted, scale, shape).transpose(0, 2, 1)

        with np.errstate(all="ignore"):
            offset = _certify(
                sol, values, covar, has, residual_ext,
                jacobian_ext if analytic else None,
                lower, upper, n, pure, bnds, unbounded, varied,
                scale=np.einsum("bn,bn->b", w * target, w * target),
            )  # fmt: skip
            fit = evaluate(values, x)
        reason = sol.reason
        creeping = reason == "creeping"
        fitted_stack = Fitted(
            model=model,
            likelihood=self.likelihood,
            varied=varied,
            values=values,
            lower=lower,
            upper=upper,
            covar=covar,
            has=has,
            x=x,
            y=y,
            w=w,
            mask=mask,
            fit=fit,
            objective=sol.rss,
            success=sol.converged | creeping,
            aborted=final & (reason == "iteration limit"),
            why=[_REASONS.get(r, f"the fast path stopped: {r}") for r in reason],
            nfev=sol.nfev,
            start=np.array([c.start if c.origin is None else c.origin for c in curves]),
            wandered=np.isin(
                reason, ["iteration limit", "stalled", "creeping", "offset"]
            ),
            creeping=creeping,
            hessian_points=HessianPoints(
                xl,
                tl,
                wl,
                residuals=sol.residual,
                centre=sol.jacobian if unbounded else None,
            ),
            offset=offset,
        )
        with np.errstate(all="ignore"):
            summary = summarize(
                fitted_stack,
                level=self.options.level,
                ci=self.options.ci,
                expressions=self.expressions,
            )
        refused = np.isnan(summary.stats["n"])
        return _Solved(summary, reason, values, refused)


def _other_orientation(
    sol: LMSolution,
    run: Callable[[NDArray], LMSolution],
    model: SCurveModel,
    start: NDArray[np.float64],
    stack: _Stack,
    varied: NDArray[np.intp],
    bnds: Bounds,
    options: FitOptions,
) -> None:
    """Fit a chunk of a curve with two orientations again from the mirror
    image of its starts (:meth:`SCurveModel.flipped`, moved inside the
    bounds), and keep, curve by curve, the better (in place): a converged
    fit over one that is not, else the lower sum of squares."""
    names = list(model.curve_params)
    values = model.flipped({n: start[:, k] for k, n in enumerate(names)})
    other = start.copy()
    for name in model.orientation:
        k = names.index(name)
        if k in varied and name not in options.init:
            other[:, k] = inside(values[name], stack.lower[:, k], stack.upper[:, k])
    mirror = run(bnds.to_internal(other[:, varied]))
    # a clearly lower sum of squares (a symmetric curve's mirror image is
    # the same curve: the first start is kept)
    lower = mirror.rss < sol.rss * (1 - SAME_OPTIMUM)
    better = mirror.converged & (~sol.converged | lower)
    for name in ("x", "residual", "rss", "jacobian", "converged", "reason"):
        getattr(sol, name)[better] = getattr(mirror, name)[better]
    sol.nfev += mirror.nfev


def _certify(
    sol: LMSolution,
    values: NDArray[np.float64],
    covar: NDArray[np.float64],
    has: NDArray[np.bool_],
    residual: Callable[[NDArray, NDArray], NDArray],
    jacobian: Callable[[NDArray, NDArray, NDArray], NDArray] | None,
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    n: NDArray[np.float64],
    pure: NDArray[np.float64] | None,
    bnds: Bounds,
    unbounded: bool,
    varied: NDArray[np.intp],
    *,
    scale: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The lmfit path's test of an optimum, on the converged curves of a
    chunk, in place (returns each curve's relative offset, NaN where not
    tested): :func:`~scurve.fitters.lm.polish` takes them to the
    optimum and tests them there; those it moves get their new values,
    residuals and sums of squares, every tested one the certified
    covariance, and those whose relative offset stays above
    :data:`~scurve.fitters.lm.OFFSET_TOL` stop (reason ``offset``: not
    converged, as on the lmfit path)."""
    offset = np.full(len(sol.converged), np.nan)
    floor = 1e-26 * scale
    exact = sol.converged & ~(sol.rss > floor)  # through every point
    offset[exact] = 0.0
    rows = np.flatnonzero(sol.converged & ~exact)
    if rows.size == 0 or not lm.CERTIFY:
        return offset
    constant = 0.0 if pure is None else pure[rows]

    def some(fitted_values: NDArray, at: NDArray) -> NDArray:
        return residual(fitted_values, rows[at])

    def some_jacobian(fitted_values: NDArray, r: NDArray, at: NDArray) -> NDArray:
        assert jacobian is not None
        return jacobian(fitted_values, r, rows[at])

    def held(fitted_values: NDArray, at: NDArray) -> NDArray:
        return verdicts.at_bound(fitted_values, lower[rows[at]], upper[rows[at]])

    done = polish(
        some,
        values[rows][:, varied],
        lower[rows],
        upper[rows],
        jacobian=None if jacobian is None else some_jacobian,
        held=held,
        floor=floor[rows],
        constant=constant,
    )
    sol.nfev[rows] += done.nfev
    moved = done.rss + constant < sol.rss[rows]
    moving = rows[moved]
    values[np.ix_(moving, varied)] = done.x[moved]
    sol.residual[moving] = done.r[moved]
    sol.rss[moving] = done.rss[moved] + (0.0 if pure is None else pure[moving])
    sol.x[moving] = (
        done.x[moved] if unbounded else bnds.take(moving).to_internal(done.x[moved])
    )
    if unbounded:
        sol.jacobian[rows] = done.jacobian
    covar[rows], has[rows] = certified_covariance(
        done, n[rows], covar[rows], has[rows], constant
    )
    off = rows[~(done.offset <= OFFSET_TOL)]
    sol.converged[off] = False
    sol.reason[off] = "offset"
    offset[rows] = done.offset
    return offset


# ------------------------------------------------------------ the work


@dataclass
class _Settled:
    """Curves a chunk finished: its summary, their keys and rows in it."""

    summary: Summary
    keys: list[tuple]
    rows: list[int]


class _Part:
    """The vectorized path's work on some of the curves, in this process or
    in a forked worker: the starts, the lockstep fits in chunks, the second
    pass for the few that need more. What it cannot finish it leaves to the
    lmfit path (`fallback`, with why)."""

    def __init__(
        self,
        solver: _Solver,
        points: Mapping[tuple, Points],
        options: FitOptions,
    ) -> None:
        self.solver = solver
        self.model = solver.model
        self.points, self.options = points, options
        self.hints = self.model.make_params()  # the model's bounds
        params = self.model.make_params()
        options.apply(params)
        names = self.model.curve_params
        self.lower = np.array([params[n].min for n in names], dtype=np.float64)
        self.upper = np.array([params[n].max for n in names], dtype=np.float64)
        self.nvarys = len(solver.varied)
        # the keys last started together, and their arrays
        self.stacked: tuple[list[tuple], _Stack | None] = ([], None)
        self.curves: dict[tuple, _Curve] = {}
        self.refused: dict[tuple, str] = {}
        self.fallback: dict[tuple, str] = {}
        self.done = 0  # how many settled
        self.settled: list[_Settled] = []

    def start(self, keys: Sequence[tuple]) -> None:
        """Check and start the curves of `keys` not started yet, at once:
        the engine's and the model's checks (:func:`~scurve.inference.
        checks.refusals`), then the model's vectorized self-start, clipped to
        the model's bounds, then to the user's, with the user's starting and
        fixed values (as :meth:`FitOptions.params` does one curve)."""
        model, options = self.model, self.options
        names = list(model.curve_params)
        keys = [key for key in keys if key not in self.curves]
        if not keys:
            return
        parts = [self.points[key] for key in keys]
        x2, y2, w2, mask = stacked.padded(
            [p[0] for p in parts], [p[1] for p in parts], [None] * len(parts)
        )
        with np.errstate(all="ignore"):
            messages = refusals(model, x2, y2, mask, self.nvarys)
        ok = messages == ""
        for k in np.flatnonzero(~ok):
            self.refused[keys[k]] = str(messages[k])
        start = np.full((len(keys), len(names)), math.nan)
        rows = np.flatnonzero(ok)
        if rows.size:
            try:
                with np.errstate(all="ignore"):
                    guess = model.start(y2[rows], x2[rows], mask[rows])
            except Exception as exc:
                for k in rows:
                    self.fallback[keys[k]] = f"the self-start failed ({exc})"
                return
            for j, p in enumerate(names):
                if p in options.fix or p in options.init:
                    value = options.fix.get(p, options.init.get(p))
                    start[rows, j] = value
                else:
                    clipped = np.clip(guess[p], self.hints[p].min, self.hints[p].max)
                    start[rows, j] = inside(clipped, self.lower[j], self.upper[j])
        found = ok & np.all(np.isfinite(start), axis=1)
        for k in np.flatnonzero(ok & ~found):
            bad = [names[j] for j in np.flatnonzero(~np.isfinite(start[k]))]
            self.refused[keys[k]] = (
                f"the self-start found no value for {', '.join(bad)}"
            )
        out = []
        for k in np.flatnonzero(found):
            x, y, w = parts[k]
            self.curves[keys[k]] = _Curve(x, y, w, start[k], self.lower, self.upper)
            out.append(keys[k])
        if any(p[2] is not None for p in parts):
            self.stacked = (out, None)  # (the start takes no weights; the fit does)
            return
        if not found.all():
            x2, y2, w2, mask, start = (a[found] for a in (x2, y2, w2, mask, start))
        shape = start.shape
        bounds = np.broadcast_to(self.lower, shape), np.broadcast_to(self.upper, shape)
        self.stacked = (out, _Stack(x2, y2, w2, mask, start, *bounds))

    def run(
        self, chunks: Sequence[list[tuple]], advance: Callable[[int], None]
    ) -> dict[tuple, _Curve]:
        """Start and fit each chunk of keys in lockstep; `advance(n)` as n
        more are finished (fitted, or refused with a message). Returns the
        curves that need the second pass, to go on from where the first
        left them."""
        finished = self.done + len(self.refused)
        stragglers: dict[tuple, _Curve] = {}
        for chunk in chunks:
            self.start(chunk)
            members = [key for key in chunk if key in self.curves]
            if members:
                keys, stack = self.stacked
                solved = self.solver.solve(
                    [self.curves[key] for key in members],
                    stack=stack if keys == members else None,
                )
                place = {key: k for k, key in enumerate(members)}
                for key in self.settle(members, solved, final=False):
                    k = place[key]
                    curve = self.curves[key]
                    stragglers[key] = dataclasses.replace(
                        curve,
                        origin=curve.start,
                        start=solved.values[k].copy(),
                        spent=int(solved.summary.nfev[k]),
                    )
            now = self.done + len(self.refused)
            advance(now - finished)
            finished = now
        return stragglers

    def resume(self, stragglers: Mapping[tuple, _Curve]) -> None:
        """The second pass: the curves the first left at its iteration
        limit, together, going on within lmfit's evaluation budget."""
        self.curves |= stragglers
        same = list(stragglers)
        if not same:
            return
        solved = self.solver.solve(
            [self.curves[key] for key in same],
            max_iterations=RESUME_ITERATIONS,
            spent=np.array([self.curves[key].spent for key in same], dtype=np.int64),
        )
        self.settle(same, solved, final=True)

    def settle(self, chunk: list[tuple], solved: _Solved, final: bool) -> list[tuple]:
        """Keep the chunk's finished curves; return those that need the
        second pass (only from the first)."""
        summary = solved.summary
        status = np.asarray(summary.status)
        refused = solved.refused
        flat = status == "flat"
        failed = (status == "failed") & ~refused
        limit = np.isin(solved.reason, ["iteration limit", "creeping"])
        more = limit & ~flat & ~failed if not final else np.zeros(len(chunk), bool)
        # stopped short of a stationary point by the test of an optimum: the
        # lmfit path would stop there too (the same test)
        short = solved.reason == "offset"
        finished = summary.converged | flat | refused | (limit & final) | short
        # from the user's start to a singular point: the lmfit path tries
        # the self-start too
        given = bool(self.options.init) & (status == "singular")
        lost = ~more & (failed | ~finished | given)
        kept = ~more & ~lost
        for k in np.flatnonzero(lost):
            why = _why(solved.reason[k], status[k])
            if given[k]:
                why = "the fit from the given start is singular"
            self.fallback[chunk[k]] = why
        ks = np.flatnonzero(kept).tolist()
        self.adopt([_Settled(summary, [chunk[k] for k in ks], ks)])
        return [chunk[k] for k in np.flatnonzero(more)]

    def adopt(self, settled: list[_Settled]) -> None:
        """Keep settled curves."""
        self.done += sum(len(s.rows) for s in settled)
        self.settled += settled


def _why(reason: str, status: str) -> str:
    if reason == "iteration limit":
        return f"the fast path did not converge in {MAX_ITERATIONS} iterations"
    if reason == "non-finite" or status == "failed":
        return "the fast path met non-finite values"
    return "the fast path stalled"


#: Chunks at the end of a long fit that are cut in halves (:func:`_chunks`).
TAIL = 4

#: The fewest curves in a lockstep chunk when a fit is cut into several
#: (smaller chunks spend more on each iteration's overhead).
MIN_CHUNK = 512


def _chunks(members: list[tuple]) -> list[list[tuple]]:
    """Lockstep chunks of near-equal sizes: at most :data:`CHUNK` curves,
    and at least 8 chunks (for the workers of a pool to share) where that
    leaves :data:`MIN_CHUNK` curves in each; of more than 8, the last
    :data:`TAIL` are cut in halves, so that the workers, taking the next
    chunk as they finish one, also finish within half a chunk of each
    other. Never depending on the number of workers, so that neither do
    the results."""
    if not members:
        return []
    size = min(CHUNK, max(MIN_CHUNK, math.ceil(len(members) / 8)))
    count = math.ceil(len(members) / size)
    size = math.ceil(len(members) / count)
    chunks = [members[i : i + size] for i in range(0, len(members), size)]
    if len(chunks) <= 8 or size < 2 * MIN_CHUNK:
        return chunks
    tail = [half for chunk in chunks[-TAIL:] for half in _halves(chunk)]
    return chunks[:-TAIL] + tail


def _halves(chunk: list[tuple]) -> list[list[tuple]]:
    middle = (len(chunk) + 1) // 2
    return [chunk[:middle], chunk[middle:]]


#: Fewer curves than this are fitted in one process (a pool costs more).
PARALLEL_CURVES = 2 * 1024


def _workers(workers: int | None, n_curves: int) -> int:
    """Processes to use: `workers` (None: the available cores, for at least
    :data:`PARALLEL_CURVES` curves); 1 where processes cannot be forked or
    inside a worker."""
    import multiprocessing

    if workers is not None and workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    if workers is None:
        workers = available_cores() if n_curves >= PARALLEL_CURVES else 1
    if _JOB is not None or "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return workers


#: Bytes a pool worker's heap keeps beyond what it uses (glibc's
#: ``M_TOP_PAD``): a lockstep chunk allocates and frees arrays of ~1 MB at
#: every step, which glibc would otherwise hand back to the system and fault
#: in again, page by page (measured: 186,000 page faults and 0.33 s of
#: system time in the workers per 100,000 4PL curves; 26,000 and 0.08 s
#: with this).
WORKER_TOP_PAD = 64 * 1024 * 1024


def _worker_heap() -> bool:
    """A pool worker's initializer: pad its heap (:data:`WORKER_TOP_PAD`)
    where the C library is glibc; elsewhere nothing. Whether it did."""
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return False
    m_top_pad = -2  # malloc.h
    try:
        return ctypes.CDLL(None).mallopt(m_top_pad, WORKER_TOP_PAD) == 1
    except (OSError, AttributeError):
        return False


#: The work of a process pool, inherited by its forked workers (not pickled):
#: the part that holds the data, the chunks, and a counter of curves done, in
#: shared memory.
_JOB: tuple[_Part, list[list[tuple]], Any] | None = None


def _chunk_job(index: int) -> tuple[dict, dict, dict, list]:
    """A forked worker's task: start and fit the index-th chunk, counting
    the curves done in the shared counter; returns the curves refused and
    left to the lmfit path, the curves for the second pass, and the settled
    curves (summaries: arrays only; the parent has the data). The worker
    keeps nothing of it."""
    assert _JOB is not None
    part, chunks, counter = _JOB

    def advance(n: int) -> None:
        with counter.get_lock():
            counter.value += n

    stragglers = part.run([chunks[index]], advance)
    refused, fallback, settled = part.refused, part.fallback, part.settled
    part.done, part.refused, part.fallback, part.settled = 0, {}, {}, []
    for key in chunks[index]:
        part.curves.pop(key, None)
    return refused, fallback, stragglers, settled


@contextlib.contextmanager
def _frozen_objects() -> Iterator[None]:
    """The objects alive on entry out of the collector's sight (gc.freeze)
    until exit, unless the caller froze some already. A fit allocates enough
    to set off full collections, each visiting every object of the session
    (the groups among them): 3-6% of a fit's time. In forked workers those
    visits also touch, and so copy page by page, memory shared with the
    parent: 10% more."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _fit_parts(part: _Part, keys: list[tuple], workers: int) -> Iterator[int]:
    """Start and fit the curves of `keys` in lockstep chunks, here or in
    `workers` forked processes that take the next chunk as they finish one
    (the points are inherited, only the results travel back, each chunk's
    while the others are fitted); then the second pass, here. Yields the
    number of curves done so far.

    The chunks (:func:`_chunks`) and the second pass do not depend on the
    number of workers, so neither do the results, to the last bit."""
    points = part.points
    members = list(keys)
    lengths = np.fromiter(
        map(len, map(itemgetter(1), map(points.__getitem__, members))),
        dtype=np.intp,
        count=len(members),
    )
    if np.any(lengths[1:] < lengths[:-1]):  # by length, stably
        members = [members[i] for i in np.argsort(lengths, kind="stable")]
    chunks = _chunks(members)
    workers = min(workers, len(chunks))
    stragglers: dict[tuple, _Curve] = {}
    with _frozen_objects():
        if workers <= 1:
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n

            stragglers = part.run(chunks, advance)
        else:
            done = yield from _pooled(part, chunks, workers, stragglers)
        yield done
        if stragglers:  # in the chunks' order, whoever fitted them
            finished = part.done + len(part.refused)
            part.resume(stragglers)
            yield done + part.done + len(part.refused) - finished


def _pooled(
    part: _Part,
    chunks: list[list[tuple]],
    workers: int,
    stragglers: dict[tuple, _Curve],
) -> Iterator[int]:
    """Fit the `chunks` in a pool of `workers` forked processes, merging
    each chunk's results into `part` as it arrives (and its curves for the
    second pass into `stragglers`, at the end, in the chunks' order);
    yields the curves done so far, and returns their number."""
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    global _JOB
    context = multiprocessing.get_context("fork")
    counter = context.Value("q", 0)
    _JOB = (part, chunks, counter)
    try:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_worker_heap
        ) as pool:
            index = {pool.submit(_chunk_job, i): i for i in range(len(chunks))}
            waiting, late = set(index), {}
            while waiting:
                finished, waiting = wait(
                    waiting, timeout=0.25, return_when=FIRST_COMPLETED
                )
                for future in finished:
                    refused, fallback, more, settled = future.result()
                    part.adopt(settled)
                    part.refused |= refused
                    part.fallback |= fallback
                    late[index[future]] = more
                yield counter.value
        for i in sorted(late):
            stragglers |= late[i]
    finally:
        _JOB = None
    return counter.value


# ------------------------------------------------------------ the path


@dataclass
class Vectorized:
    """What the vectorized path did with its curves: the summaries of the
    settled ones (with their keys and rows), the curves refused (with
    why), and those left to the lmfit path (with why)."""

    settled: list[_Settled]
    refused: dict[tuple, str]
    fallback: dict[tuple, str]


def fit_vectorized(
    model: SCurveModel,
    likelihood: Likelihood,
    points: Mapping[tuple, Points],
    order: Sequence[tuple],
    options: FitOptions,
    varied: NDArray[np.intp],
    *,
    progress: Callable[[int], None] | None = None,
) -> Vectorized | None:
    """Fit the curves `order` (cleaned `points`) on the vectorized path.

    Returns None when the model's function does not broadcast over a stack
    of curves (then the lmfit path fits them one by one). `options.workers`
    processes (None: every available core, for at least
    :data:`PARALLEL_CURVES` curves; 1: this process only) start and fit the
    lockstep chunks; the pool is forked, so the data are not copied to it,
    and the results do not depend on the number of workers, to the last
    bit. This process fits the few curves that need a second pass.
    """
    solver = _Solver(model, likelihood, options, varied)
    part = _Part(solver, points, options)
    pending = iter(order)
    first = []
    for key in pending:  # the first curve that starts: the broadcast test
        first.append(key)
        part.start([key])
        if key in part.curves:
            curve = part.curves[key]
            if not broadcasts(model, curve.x, curve.start):
                return None
            break
    reported = 0

    def report(count: int) -> None:
        nonlocal reported
        if progress is not None:
            for n in range(reported + 1, count + 1):
                progress(n)
        reported = max(reported, count)

    rest = [key for key in first if key in part.curves] + list(pending)
    before = len(part.refused)
    workers = _workers(options.workers, len(rest))
    for done in _fit_parts(part, rest, workers):
        report(before + done)
    report(len(order) - len(part.fallback))
    return Vectorized(part.settled, part.refused, part.fallback)
