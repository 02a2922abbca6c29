r"""The fast path: many curves of one model fitted at once, vectorized.

:func:`scurve.fit` with ``by=`` (and :func:`scurve.fitting.fit_groups`) comes
here for independent fits with delta or no intervals: all groups of a table
are fitted together, in lockstep, with the same results table as one lmfit
fit per group, at a fraction of the cost (the per-call overhead of lmfit,
re-evaluating derived quantities and propagating uncertainties on every
residual call, is what dominates for small curves).

How
---
The curves are padded into ``(n_curves, n_points)`` arrays; padding and
points of weight 0 carry weight 0. Each model function broadcasts:
``model.function(x2d, **{name: values[:, None]})`` evaluates every curve at
once. Replicates (points of a curve at one x) are merged for the minimizer
into one point at their weighted mean, of weight :math:`\sqrt{\sum w^2}`
(:func:`_replicates`): every sum over the points is the same, less a
constant, and a screen of 8 doses in triplicate costs a third as much per
iteration.

*Parameters and bounds* are those of the lmfit path, curve by curve: the
model's own self-start :meth:`~scurve.fitting.SCurveModel.guess`, then the
user's bounds, starting values and fixed values
(:func:`scurve.fitting.make_params`). Bounded parameters are fitted in
lmfit's internal coordinates (the MINUIT transforms): with lower bound
:math:`a` and upper bound :math:`b`,

.. math:: \theta = a + \tfrac{b-a}{2}(\sin u + 1), \qquad
          \theta = a - 1 + \sqrt{u^2 + 1}, \qquad
          \theta = b + 1 - \sqrt{u^2 + 1}

for two bounds, a lower or an upper bound, so that a fit that runs into a
bound stops exactly where lmfit's does, and the covariance is transformed
back with the same gradient :math:`d\theta/du`.

*The minimizer* is Levenberg–Marquardt with one damping factor per curve
(Marquardt's scaling by the running maximum of the Jacobian's column norms,
as MINPACK, and Nielsen's update of the damping). Every iteration solves the
damped normal equations of all active curves at once,

.. math:: (\hat J^T \hat J + \lambda_c I)\,\hat\delta = -\hat J^T r,

and a curve leaves the lockstep when its relative reduction of the residual
sum of squares, actual and predicted, falls below ``ftol`` (1e-10, tighter
than lmfit's 1.5e-8, so that the fast path's minimum is never the worse
one), or its scaled step below ``xtol``. The iterations use the model's
analytic derivatives where it has them (:meth:`~scurve.fitting.SCurveModel.
partials`: hill, hill5, sigmoid), else forward differences; the Jacobian
at the solution is always the forward difference in the internal
coordinates with lmfit's step :math:`10^{-5}|u|` (MINPACK's
:math:`\sqrt{\epsilon_{fcn}}|u|`), so that the standard errors are
lmfit's.

*Statistics* are those of the lmfit path, vectorized: the covariance is
:math:`(J^T J)^{-1}` at the solution, mapped to the parameters and scaled by
the reduced chi-square (lmfit's ``scale_covar``); delta intervals use t
quantiles; derived quantities are the model's expressions evaluated by the
same expression interpreter (lmfit's asteval, with the engine's symbols:
``softplus``, each curve's ``x_min`` and ``x_max``) on arrays, with
gradients by central differences (the step of the ``uncertainties``
package); AIC, AICc and BIC follow R's ``nls`` convention; statuses
``ok``, ``at_bound`` and ``singular`` are decided by the engine's own
assessment.

*Fallback*: a curve the fast path cannot finish (no convergence within the
iteration limit, non-finite values, a guess that raises) is fitted by the
lmfit path, and its ``message`` says so. A model whose function does not
broadcast is fitted by the lmfit path altogether.

*Results*: :attr:`GroupFits.results` gives a :class:`~scurve.fitting.FitResult`
per group, built on first access: an lmfit ``ModelResult`` whose optimizer is
this module's solution (same values, covariance and status as the table;
``fit_report``, bands, plots work as for any fit).

References
----------
.. [1] J. J. Moré, "The Levenberg-Marquardt algorithm: implementation and
   theory", Numerical Analysis, Lecture Notes in Mathematics 630, 1978.
.. [2] H. B. Nielsen, "Damping parameter in Marquardt's method", IMM
   technical report IMM-REP-1999-05, DTU, 1999.
.. [3] F. James, M. Roos, "Minuit", Comput. Phys. Commun. 10:343-367, 1975
   (the bound transforms).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from types import SimpleNamespace
from typing import Any

import lmfit
import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from scurve import fitting
from scurve.core import stacked
from scurve.fitting import CI, LEVEL, FitError, FitResult, GroupFits, SCurveModel

__all__ = [
    "BatchResults",
    "LMSolution",
    "fit_groups",
    "levenberg_marquardt",
]

#: The central-difference step (relative) of the ``uncertainties`` package,
#: which lmfit uses for derived quantities: sqrt(machine epsilon).
_STEP = math.sqrt(np.finfo(np.float64).eps)
#: lmfit's forward-difference step (relative): MINPACK's sqrt(epsfcn) with
#: lmfit's epsfcn = 1e-10. The same step gives the same Jacobian, hence the
#: same standard errors as the lmfit path (to about 1e-8, where a step of
#: sqrt(eps) would differ by its truncation error, about 1e-5).
JACOBIAN_STEP = 1e-5
#: Curves fitted together in one lockstep batch (bounds memory and keeps the
#: arrays in cache).
CHUNK = 4096
#: Levenberg-Marquardt iterations of the first pass. The few curves that
#: need more (about 1 in 100) go on, pooled from every chunk, in a second
#: pass of up to :data:`RESUME_ITERATIONS` more.
MAX_ITERATIONS = 40
RESUME_ITERATIONS = 250


#: lmfit's default relative tolerance on the sum of squares (``leastsq``).
LMFIT_FTOL = 1.5e-8

#: Iterations over which a resumed curve must reduce its sum of squares by
#: more than :data:`CREEP` (relative), or stop as ``creeping``.
CREEP_WINDOW = 50
CREEP = 1e-6


def evaluation_budget(nvarys: int) -> int:
    """lmfit's evaluation limit for ``leastsq``, ``2000 (n + 1)`` for `n`
    fitted parameters: where the lmfit path would give up, so does the
    fast path."""
    return 2000 * (nvarys + 1)


_Groups = Mapping[tuple, tuple[ArrayLike, ArrayLike, ArrayLike | None]]


# ---------------------------------------------------------------- bounds


@dataclass(frozen=True)
class _Bounds:
    """lmfit's (MINUIT) transforms between parameters and internal values,
    elementwise over ``(n_curves, n_params)`` arrays of lower/upper bounds."""

    lower: NDArray[np.float64]
    upper: NDArray[np.float64]

    @property
    def _kinds(self) -> tuple[NDArray, NDArray, NDArray]:
        lo, hi = np.isfinite(self.lower), np.isfinite(self.upper)
        return lo & ~hi, hi & ~lo, lo & hi

    def _finite(self) -> tuple[NDArray, NDArray]:
        return (
            np.where(np.isfinite(self.lower), self.lower, 0.0),
            np.where(np.isfinite(self.upper), self.upper, 0.0),
        )

    @property
    def none(self) -> bool:
        """No parameter is bounded: every transform is the identity."""
        return not (np.isfinite(self.lower).any() or np.isfinite(self.upper).any())

    def take(self, rows: NDArray) -> _Bounds:
        return _Bounds(self.lower[rows], self.upper[rows])

    def to_internal(self, value: NDArray) -> NDArray:
        only_lo, only_hi, both = self._kinds
        a, b = self._finite()
        with np.errstate(all="ignore"):
            u = np.where(only_lo, np.sqrt((value - a + 1.0) ** 2 - 1), value)
            u = np.where(only_hi, np.sqrt((b - value + 1.0) ** 2 - 1), u)
            u = np.where(both, np.arcsin(2 * (value - a) / (b - a) - 1), u)
        return np.where(np.abs(u) < 1e-15, 0.0, u)

    def to_external(self, u: NDArray) -> NDArray:
        only_lo, only_hi, both = self._kinds
        a, b = self._finite()
        root = np.sqrt(u * u + 1)
        value = np.where(only_lo, a - 1.0 + root, u)
        value = np.where(only_hi, b + 1 - root, value)
        value = np.where(both, a + (np.sin(u) + 1) * (b - a) / 2.0, value)
        # lmfit's Parameter.value setter clips to the bounds
        return np.clip(value, self.lower, self.upper)

    def secant(self, u: NDArray) -> NDArray:
        """The transforms' slope over lmfit's forward-difference step
        (:data:`JACOBIAN_STEP` :math:`|u|`), as a forward-difference
        Jacobian sees it: with the model's exact derivatives, the Jacobian
        in internal values is then a forward difference's, but for the
        model's own truncation error. On a bound, where the exact slope is 0
        and would trap the fit, it is not."""
        step = np.where(u == 0, JACOBIAN_STEP, JACOBIAN_STEP * np.abs(u))
        ahead = u + step
        return (self.to_external(ahead) - self.to_external(u)) / (ahead - u)

    def gradient(self, u: NDArray) -> NDArray:
        """d(parameter)/d(internal value), lmfit's ``scale_gradient``."""
        only_lo, only_hi, both = self._kinds
        a, b = self._finite()
        slope = u / np.sqrt(u * u + 1)
        grad = np.where(only_lo, slope, 1.0)
        grad = np.where(only_hi, -slope, grad)
        return np.where(both, np.cos(u) * (b - a) / 2.0, grad)


# ------------------------------------------------------------- the minimizer


@dataclass
class LMSolution:
    """Where :func:`levenberg_marquardt` left each curve.

    Attributes
    ----------
    x : ndarray, shape (n_curves, n_params)
        The solution.
    residual : ndarray, shape (n_curves, n_points)
    rss : ndarray, shape (n_curves,)
        Residual sum of squares.
    jacobian : ndarray, shape (n_curves, n_points, n_params)
        Jacobian at the solution, lmfit's forward difference or the exact one
        (see `exact_at_solution`); NaN for curves that did not converge.
    nfev : ndarray of int
        Residual evaluations per curve, those of the Jacobians included.
    converged : ndarray of bool
    reason : ndarray of str
        ``converged``, ``iteration limit``, ``stalled`` (no step reduces the
        sum of squares, yet the predicted reduction is not negligible),
        ``creeping`` (see `creep`) or ``non-finite`` (the start or the
        Jacobian is not finite).
    """

    x: NDArray[np.float64]
    residual: NDArray[np.float64]
    rss: NDArray[np.float64]
    jacobian: NDArray[np.float64]
    nfev: NDArray[np.int64]
    converged: NDArray[np.bool_]
    reason: NDArray[np.str_]


def _jacobian(
    residual: Callable[[NDArray, NDArray], NDArray],
    u: NDArray,
    r: NDArray,
    rows: NDArray,
) -> NDArray:
    """Forward differences with lmfit's step 1e-5 |u| (1e-5 at 0),
    divided by the step actually taken."""
    jt = np.empty((r.shape[0], u.shape[1], r.shape[1]))  # J^T, row by row
    for j in range(u.shape[1]):
        shifted = u.copy()
        step = JACOBIAN_STEP * np.abs(u[:, j])
        shifted[:, j] += np.where(step == 0, JACOBIAN_STEP, step)
        taken = shifted[:, j] - u[:, j]
        jt[:, j, :] = (residual(shifted, rows) - r) / taken[:, None]
    return jt.transpose(0, 2, 1)


def _damped_step(
    a: NDArray, g: NDArray, scale: NDArray, lam: NDArray
) -> tuple[NDArray, NDArray]:
    """Solve (A + lam D^2) d = -g in scaled variables; return d and the
    predicted reduction of the sum of squares, -(2 d.g + d.A.d), which is
    lam |D d|^2 - d.g since A d = -g - lam D^2 d (MINPACK's form)."""
    p = a.shape[1]
    inv = 1.0 / scale
    if len(a) < stacked.CHOLESKY_STACK:  # for LAPACK, matrix by matrix
        m = a * inv[:, :, None]
        m *= inv[:, None, :]
        np.einsum("bii->bi", m)[...] += lam[:, None]  # a view of the diagonals
    else:
        # entry by entry, into rows over the stack (what the elementwise
        # Cholesky reads; numpy broadcasting over (b, p, p) runs an inner
        # loop per matrix: 4x slower), the same products in the same order
        rows = np.empty((p, p, len(a)))
        for i in range(p):
            for j in range(i + 1):
                np.multiply(a[:, i, j], inv[:, i], out=rows[i, j])
                rows[i, j] *= inv[:, j]
                if j < i:
                    rows[j, i] = rows[i, j]
            rows[i, i] += lam
        m = np.moveaxis(rows, 2, 0)
    gh = g * inv
    dh = stacked.solve(m, -gh)
    predicted = lam * np.einsum("bi,bi->b", dh, dh) - np.einsum("bi,bi->b", dh, gh)
    return dh * inv, predicted


def _held(
    on_bound: Callable[[NDArray, NDArray], NDArray],
    x: NDArray,
    a: NDArray,
    g: NDArray,
    scale: NDArray,
    rss: NDArray,
    rows: NDArray,
    ftol: float,
) -> NDArray:
    """Which stalled curves `rows` sit at a bounded minimum: some parameter
    held by its bound, and the rest at their minimum (the Gauss-Newton gain
    of the others, with the held ones fixed, within lmfit's ftol)."""
    held = on_bound(x[rows], rows)
    p = held.shape[1]
    free = ~held
    a_free = np.where(free[:, :, None] & free[:, None, :], a[rows], 0.0)
    a_free += held[:, :, None] * np.eye(p)
    g_free = np.where(free, g[rows], 0.0)
    safe = np.where(scale[rows] > 0, scale[rows], 1.0)
    _, gain = _damped_step(a_free, g_free, safe, np.full(rows.size, 1e-12))
    return held.any(axis=1) & (gain <= max(ftol, LMFIT_FTOL) * rss[rows])


#: Why each curve of :func:`levenberg_marquardt` stopped (or not yet), by code.
_STOPS = np.array(
    ["running", "converged", "iteration limit", "non-finite", "stalled", "creeping"]
)
_RUNNING, _CONVERGED, _LIMIT, _NON_FINITE, _STALLED, _CREEPING = range(6)


def levenberg_marquardt(
    residual: Callable[[NDArray[np.float64], NDArray[np.intp]], NDArray[np.float64]],
    start: ArrayLike,
    *,
    ftol: float = 1e-10,
    xtol: float = 1e-10,
    max_iterations: int = MAX_ITERATIONS,
    max_nfev: ArrayLike | None = None,
    creep: float = 0.0,
    jacobian: Callable[[NDArray, NDArray, NDArray], NDArray] | None = None,
    joint: Callable[[NDArray, NDArray], tuple[NDArray, NDArray]] | None = None,
    on_bound: Callable[[NDArray, NDArray], NDArray] | None = None,
    step_limit: ArrayLike | None = None,
    exact_at_solution: bool = False,
    constant: ArrayLike | None = None,
) -> LMSolution:
    r"""Minimize many sums of squares at once, in lockstep.

    Parameters
    ----------
    residual : callable
        ``residual(x, rows)`` returns the residuals, shape
        ``(len(rows), n_points)``, of the curves numbered `rows` at
        parameters `x`, shape ``(len(rows), n_params)``. Padding points
        return 0.
    start : array_like, shape (n_curves, n_params)
    ftol, xtol : float
        A curve has converged when the actual and the predicted relative
        reductions of its sum of squares are both at most `ftol`, or its
        scaled step is at most `xtol` times its scaled parameters (MINPACK's
        tests).
    max_iterations : int
        Jacobians per curve before it is given up (``iteration limit``).
    max_nfev : int or array_like of int, optional
        Residual evaluations per curve (each, or one for all) before it is
        given up (``iteration limit`` too).
    creep : float
        With ``creep > 0``, a curve whose sum of squares falls by less than
        `creep` (relative) over :data:`CREEP_WINDOW` iterations stops with
        reason ``creeping`` if its parameters moved meanwhile (by more than
        1e-3, relative, in the fitted coordinates): it crawls along a valley
        of the sum of squares (parameters running off to infinity), where
        the minimizer would spend its whole budget without converging. If
        they did not move, it stops as ``stalled``.
    jacobian : callable, optional
        ``jacobian(x, r, rows)``, the Jacobian of the residuals (shape
        ``(len(rows), n_points, n_params)``) of the curves `rows` at `x`,
        where they are `r`: analytic derivatives to iterate with. Without
        it, forward differences (lmfit's step). Either counts as `n_params`
        evaluations (a forward difference's cost), so that the budgets are
        lmfit's. The Jacobian returned at the solution is the forward
        difference (lmfit's, which gives lmfit's standard errors), unless
        `exact_at_solution`.
    joint : callable, optional
        With `jacobian`, ``joint(x, rows)``: the residuals and their
        Jacobian, transposed (shape ``(len(rows), n_params, n_points)``), at
        once, for models whose derivatives do most of the curve's work (the
        4PL's, whose curve is its plateaus times their derivatives). Every
        evaluation then takes it in place of `residual`, and a step taken
        keeps its Jacobian: one pass over the points per step, not two.
    on_bound : callable, optional
        ``on_bound(x, rows)``, shape ``(len(rows), n_params)``: which
        parameters of the curves `rows` are held by a bound at `x` (on it,
        and a step inward does not lower the sum of squares). A curve that
        stalls there has converged if the other parameters are at their
        minimum (the Gauss-Newton gain without the held ones is within
        lmfit's ftol): the bound's transform has zero slope on the bound,
        so no step helps, and MINPACK, whose trust region then shrinks below
        ``xtol``, stops there too.
    step_limit : array_like, optional
        The largest step of each parameter (shape ``(n_params,)`` or
        ``(n_curves, n_params)``; inf for none): a longer step is shortened,
        keeping its direction (a parameter fitted through :math:`\sin u`
        moves at most a radian: near a bound the sine's slope vanishes, and
        an analytic Gauss-Newton step there would jump periods away).
    constant : array_like, optional
        Added to each curve's sum of squares (shape ``(n_curves,)``): the
        part that no parameter changes (the pure error of merged replicates,
        :func:`_replicates`), so that the relative tests (`ftol`) and the
        returned `rss` are those of the whole sum.
    exact_at_solution : bool
        With `jacobian`, return its Jacobian at the solution (computed anew
        only where the last one was taken elsewhere): the exact derivatives
        rather than lmfit's forward difference, whose relative error (about
        1e-5) the standard errors then lose; it saves `n_params`
        evaluations per curve. Not for bounded parameters, whose exact slope
        on a bound is 0 where lmfit's step spans a finite secant.

    Returns
    -------
    LMSolution

    Notes
    -----
    Each curve c has its own damping :math:`\lambda_c`: the step solves
    :math:`(J^T J + \lambda_c D^2)\delta = -J^T r` with :math:`D` the running
    maximum of the column norms of J (MINPACK's scaling). A step is taken if
    the gain ratio :math:`\rho` (actual over predicted reduction) exceeds
    1e-4; then :math:`\lambda_c` shrinks by :math:`\max(1/3, 1-(2\rho-1)^3)`,
    otherwise it grows by a factor that doubles on each refusal (Nielsen
    1999). Only curves whose last step was taken get a new Jacobian.

    Examples
    --------
    Two exponential decays :math:`y = e^{-kt}`, fitted together:

    >>> import numpy as np
    >>> t = np.linspace(0, 3, 7)
    >>> k_true = np.array([[0.5], [2.0]])
    >>> y = np.exp(-k_true * t)
    >>> sol = levenberg_marquardt(
    ...     lambda k, rows: np.exp(-k[:, :1] * t) - y[rows], np.ones((2, 1)))
    >>> np.round(sol.x[:, 0], 8).tolist(), sol.converged.tolist()
    ([0.5, 2.0], [True, True])
    """
    x = np.array(start, dtype=np.float64, ndmin=2)
    n_curves, p = x.shape

    def differences(u: NDArray, r: NDArray, rows: NDArray) -> NDArray:
        return _jacobian(residual, u, r, rows)

    iterate = differences if jacobian is None else jacobian
    limit = (
        None
        if step_limit is None
        else np.broadcast_to(np.asarray(step_limit, dtype=np.float64), x.shape)
    )
    everyone = np.arange(n_curves)
    if joint is None:
        r = residual(x, everyone)
        jac_t = np.full((n_curves, p, r.shape[1]), np.nan)  # the Jacobians, transposed
    else:  # each curve's Jacobian at x, always
        r, jac_t = joint(x, everyone)
    offset = 0.0 if constant is None else np.asarray(constant, dtype=np.float64)
    rss = np.einsum("bn,bn->b", r, r) + offset
    nfev = np.ones(n_curves, dtype=np.int64)
    a = np.zeros((n_curves, p, p))
    g = np.zeros((n_curves, p))
    scale = np.zeros((n_curves, p))
    lam = np.full(n_curves, 1e-3)
    grow = np.full(n_curves, 2.0)
    fresh = np.ones(n_curves, dtype=bool)  # needs a new Jacobian
    last_gain = np.full(n_curves, np.inf)  # Gauss-Newton gain at the last one
    jacobians = np.zeros(n_curves, dtype=np.int64)
    reason = np.full(n_curves, _RUNNING, dtype=np.int8)  # codes of _STOPS
    reason[~np.isfinite(rss)] = _NON_FINITE
    reason[rss == 0] = _CONVERGED
    budget = np.broadcast_to(
        np.iinfo(np.int64).max if max_nfev is None else np.asarray(max_nfev), n_curves
    )
    mark = rss.copy()  # the sum of squares CREEP_WINDOW Jacobians ago
    x_mark = x.copy()  # and the parameters
    while True:
        active = np.flatnonzero(reason == _RUNNING)
        spent = (jacobians[active] >= max_iterations) | (nfev[active] >= budget[active])
        reason[active[spent]] = _LIMIT
        active = active[~spent]
        if active.size == 0:
            break
        new = active[fresh[active]]
        if new.size and creep > 0:
            due = new[jacobians[new] % CREEP_WINDOW == 0]
            slow = due[
                (jacobians[due] > 0) & (mark[due] - rss[due] <= creep * rss[due])
            ]
            moved = np.abs(x[slow] - x_mark[slow]) > 1e-3 * (np.abs(x_mark[slow]) + 1)
            still = ~moved.any(axis=1)
            # parked on a bound with the others at their minimum: converged
            # there (as a stall in the damping is, below)
            parked = np.zeros(slow.size, dtype=bool)
            if on_bound is not None and still.any():
                parked[still] = _held(on_bound, x, a, g, scale, rss, slow[still], ftol)
            verdict = np.select([~still, parked], [_CREEPING, _CONVERGED], _STALLED)
            reason[slow] = verdict
            mark[due], x_mark[due] = rss[due], x[due]
            active = active[reason[active] == _RUNNING]
            new = new[reason[new] == _RUNNING]
        if new.size:
            jacobians[new] += 1
            r_new = r[new]
            if joint is None:
                jt = iterate(x[new], r_new, new).transpose(0, 2, 1)
            else:
                jt = jac_t[new]  # the step's own
            nfev[new] += p
            a_new = jt @ jt.transpose(0, 2, 1)  # J^T J (matmul: 5x einsum's)
            g_new = (jt @ r_new[:, :, None])[:, :, 0]
            norms = np.einsum("bjj->bj", a_new)  # squared, a view
            bad = ~np.isfinite(norms).all(axis=1)  # any NaN or inf in J
            if bad.any():
                reason[new[bad]] = _NON_FINITE
                jt[bad], a_new[bad], g_new[bad] = 0.0, 0.0, 0.0
            if joint is None:
                jac_t[new] = jt
            a[new], g[new] = a_new, g_new
            scale[new] = np.maximum(scale[new], np.sqrt(norms))
            fresh[new] = False
            new = new[~bad]
            active = active[reason[active] == _RUNNING]
        # the damped steps, and where there is a new Jacobian, the undamped
        # (Gauss-Newton) step of the linearized problem: converged where even
        # that would gain less than ftol. One stack of systems for both.
        stack = np.concatenate([new, active])
        safe_all = np.where(scale[stack] > 0, scale[stack], 1.0)
        damping = np.concatenate([np.full(new.size, 1e-12), lam[active]])
        steps, gains = _damped_step(a[stack], g[stack], safe_all, damping)
        gain = gains[: new.size]
        last_gain[new] = gain
        reason[new[gain <= ftol * rss[new]]] = _CONVERGED
        going = reason[active] == _RUNNING
        active = active[going]
        step, predicted = steps[new.size :][going], gains[new.size :][going]
        safe = safe_all[new.size :][going]
        if limit is not None:
            over = np.max(np.abs(step) / limit[active], axis=1)
            long = over > 1
            if long.any():
                step[long] /= over[long, None]
                d, rows = step[long], active[long]
                predicted[long] = -(
                    2 * np.einsum("bi,bi->b", d, g[rows])
                    + (d[:, None, :] @ a[rows] @ d[:, :, None])[:, 0, 0]
                )
        trial = x[active] + step
        if joint is None:
            r_trial = residual(trial, active)
        else:
            r_trial, jt_trial = joint(trial, active)
        rss_trial = np.einsum("bn,bn->b", r_trial, r_trial)
        if constant is not None:
            rss_trial += offset[active]
        nfev[active] += 1
        old = rss[active]
        actual = old - rss_trial
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(predicted > 0, actual / predicted, -1.0)
        take = np.isfinite(rss_trial) & (rho > 1e-4)
        # a nearly undamped step that gains nothing measurable: the minimum,
        # to the precision of the Jacobian (MINPACK's ftol test, but only
        # where the damping does not merely shorten the step)
        small = (np.abs(actual) <= ftol * old) & (predicted <= ftol * old)
        undamped = lam[active] <= 1e-2
        small &= undamped
        tiny_step = np.sqrt(np.sum((safe * step) ** 2, axis=1)) <= xtol * np.sqrt(
            np.sum((safe * x[active]) ** 2, axis=1)
        )
        tiny_step &= undamped
        # taken steps: move, relax the damping
        moved = active[take]
        x[moved], r[moved], rss[moved] = trial[take], r_trial[take], rss_trial[take]
        if joint is not None:
            jac_t[moved] = jt_trial[take]
        fresh[moved] = True
        lam[moved] *= np.maximum(1 / 3, 1 - (2 * rho[take] - 1) ** 3)
        grow[moved] = 2.0
        # refused steps: damp harder
        held = active[~take]
        lam[held] *= grow[held]
        grow[held] *= 2.0
        lam[active] = np.clip(lam[active], 1e-15, None)
        reason[active[small | tiny_step]] = _CONVERGED
        stalled = held[lam[held] > 1e16]
        # no step helps, and the last Jacobian promised a gain that lmfit's
        # own test would call converged (1.5e-8 of the sum of squares, about
        # what a forward difference resolves): the minimum, to the
        # Jacobian's precision (a tight ftol meets this)
        resolved = last_gain[stalled] <= max(ftol, LMFIT_FTOL) * rss[stalled]
        if on_bound is not None and stalled.size:
            resolved |= _held(on_bound, x, a, g, scale, rss, stalled, ftol)
        reason[stalled] = np.where(resolved, _CONVERGED, _STALLED)
    converged = reason == _CONVERGED
    # a creeping curve keeps its Jacobian too: its covariance says which
    # parameters are not identifiable
    kept = converged | (reason == _CREEPING)
    final = differences
    if jacobian is not None and exact_at_solution:
        final = jacobian
        if joint is not None:
            fresh[:] = False  # every Jacobian is at its curve's solution
    elif jacobian is not None:
        fresh[:] = True  # lmfit's forward differences, not the iterations'
    stale = np.flatnonzero(kept & fresh)  # no Jacobian at the solution yet
    jac_t[~kept] = np.nan
    if stale.size:
        jac_t[stale] = final(x[stale], r[stale], stale).transpose(0, 2, 1)
        bad = ~np.isfinite(jac_t[stale]).all(axis=(1, 2))
        reason[stale[bad]] = _NON_FINITE
        converged = reason == _CONVERGED
    jac = jac_t.transpose(0, 2, 1)
    return LMSolution(x, r, rss, jac, nfev, converged, _STOPS[reason])


# ------------------------------------------------- vectorized self-starts


# ------------------------------------------------------------ the curves


@dataclass(slots=True)
class _Curve:
    """One group, checked and started exactly as :func:`fitting.fit_curve`
    does it: its start, bounds and fitted parameters (the model's
    ``curve_params``, in order)."""

    x: NDArray[np.float64]
    y: NDArray[np.float64]
    w: NDArray[np.float64] | None
    start: NDArray[np.float64]
    lower: NDArray[np.float64]
    upper: NDArray[np.float64]
    vary: tuple[bool, ...]
    spent: int = 0  # evaluations used by a first pass (resumed curves)

    @classmethod
    def of(
        cls,
        model: SCurveModel,
        prepared: tuple[NDArray, NDArray, NDArray | None, lmfit.Parameters],
    ) -> _Curve:
        x, y, w, params = prepared
        ps = [params[n] for n in model.curve_params]
        return cls(
            x,
            y,
            w,
            np.array([p.value for p in ps], dtype=np.float64),
            np.array([p.min for p in ps], dtype=np.float64),
            np.array([p.max for p in ps], dtype=np.float64),
            tuple(bool(p.vary) for p in ps),
        )


def _prepare(
    model: SCurveModel,
    x: ArrayLike,
    y: ArrayLike,
    w: ArrayLike | None,
    fix: Mapping[str, float] | None,
    init: Mapping[str, float] | None,
    bounds: Mapping[str, tuple[float, float]] | None,
) -> tuple[NDArray, NDArray, NDArray | None, lmfit.Parameters]:
    """The checks and the start of :func:`scurve.fitting.fit_curve`, in its
    order, so that a group fails here with the same message."""
    x, y, w = fitting._clean_data(x, y, w)
    if y.size == 0:
        raise FitError("no data points")
    fitting._check_log_scale(model, y)
    params = fitting.make_params(model, x, y, fix=fix, init=init, bounds=bounds)
    nvarys = sum(p.vary and not p.expr for p in params.values())
    fitting._check_size(x, y, nvarys)
    return x, y, w, params


def _least_squares(model: SCurveModel) -> bool:
    """Whether the model is fitted as the fast path fits: (weighted) least
    squares of the curve, on the y or log-y scale, with lmfit's covariance
    and the engine's test for a flat curve. Models with their own residuals
    (likelihoods, estimators), a Hessian covariance or their own flat test
    are fitted one by one by the lmfit path.

    A model that has its own residuals for some options (Bass's estimators)
    says with ``fast_path`` True that, as configured, they are the plain
    least-squares residuals and its flat test the engine's."""
    if getattr(model, "covariance", "jacobian") not in ("jacobian", "hessian"):
        return False
    declared = getattr(model, "fast_path", None)
    if declared is not None:
        return bool(declared)
    return (
        type(model)._residual is SCurveModel._residual
        and getattr(model, "no_signal", None) is None
    )


def _without_derived(model: SCurveModel) -> SCurveModel:
    """A shallow copy of `model` whose parameters lack the derived
    quantities' expressions: the same self-start, without lmfit parsing
    every expression for every curve (half the cost of a guess)."""
    import copy

    if not model.derived:
        return model
    lean = copy.copy(model)
    lean.param_hints = {
        n: h for n, h in model.param_hints.items() if n not in model.derived
    }
    lean._param_names = [n for n in model.param_names if n not in model.derived]
    return lean


def _same_start(
    model: SCurveModel, full: lmfit.Parameters, lean: lmfit.Parameters
) -> bool:
    """Whether the lean copy's start equals the model's own."""
    fields = ("value", "min", "max", "vary", "expr")
    return all(
        n in lean and all(getattr(full[n], f) == getattr(lean[n], f) for f in fields)
        for n in model.curve_params
    )


def _broadcasts(model: SCurveModel, curve: _Curve) -> bool:
    """Whether ``model.function`` evaluates a stack of curves at once: two
    rows with different parameter values against one call per row."""
    names = model.curve_params
    values = curve.start
    rows = np.stack([values, values * (1 + 1e-3) + 1e-3])
    x2 = np.stack([curve.x, curve.x])
    try:
        with np.errstate(all="ignore"):
            stacked = model.function(
                x2, **{n: rows[:, k : k + 1] for k, n in enumerate(names)}
            )
            single = np.stack(
                [
                    model.function(curve.x, **dict(zip(names, row, strict=True)))
                    for row in rows
                ]
            )
    except Exception:  # any failure means: not vectorized
        return False
    return bool(
        np.shape(stacked) == single.shape
        and np.allclose(stacked, single, rtol=1e-12, atol=0, equal_nan=True)
    )


# ------------------------------------------------------------ expressions


class _Expressions:
    """The model's derived quantities, evaluated on arrays by the same
    interpreter (and symbols: ``softplus``, ``x_min``, ``x_max``, ...) as the
    lmfit path's parameters."""

    def __init__(self, model: SCurveModel, params: lmfit.Parameters) -> None:
        import copy

        self.exprs = dict(model.derived)
        self.mapped = frozenset(getattr(model, "mapped_intervals", ()))
        self.interpreter = copy.deepcopy(params)._asteval

    def __call__(self, symbols: Mapping[str, NDArray]) -> dict[str, NDArray]:
        import warnings

        table = self.interpreter.symtable
        table.update(symbols)
        shape = np.shape(next(iter(symbols.values())))
        out = {}
        with np.errstate(all="ignore"), warnings.catch_warnings():
            # asteval's own checks of exponents (nanmax of all-NaN arrays)
            warnings.simplefilter("ignore", RuntimeWarning)
            for name, expr in self.exprs.items():
                try:
                    value = self._eval(expr)
                except Exception:  # one curve's value refused: curve by curve
                    value = self._each(expr, table, shape)
                out[name] = np.broadcast_to(np.asarray(value, dtype=np.float64), shape)
                table[name] = out[name]
        return out

    def _eval(self, expr: str) -> Any:
        return self.interpreter.eval(expr, show_errors=False, raise_errors=True)

    def _each(self, expr: str, table: dict, shape: tuple[int, ...]) -> NDArray:
        """`expr` over the rows in parts, halving each part the interpreter
        refuses down to single rows, which get NaN (as lmfit refuses an
        exponent above 10,000 in ``10**log_ec50``): a few refused rows cost
        a few dozen evaluations, not one per row."""
        arrays = {n: v for n, v in table.items() if isinstance(v, np.ndarray)}
        arrays = {n: v for n, v in arrays.items() if v.shape == shape}
        flat = {n: v.reshape(-1) for n, v in arrays.items()}
        out = np.full(math.prod(shape), math.nan)
        parts = np.array_split(np.arange(out.size), 2 if out.size > 1 else 1)
        while parts:
            rows = parts.pop()
            table.update({n: v[rows] for n, v in flat.items()})
            try:
                out[rows] = self._eval(expr)
            except Exception:  # refused: halved, or NaN for one row
                if rows.size > 1:
                    parts += np.array_split(rows, 2)
        table.update(arrays)
        return out.reshape(shape)


# ------------------------------------------------------------ one batch


@dataclass
class _Solved:
    """A lockstep batch after the fit: arrays over its curves."""

    curves: list[_Curve]
    names: list[str]  # curve parameters, in order
    varied: NDArray[np.intp]  # their indices that are fitted
    values: NDArray  # (b, P)
    stderr: NDArray
    derived: dict[str, NDArray]  # name -> (b,)
    derived_stderr: dict[str, NDArray]
    stats: dict[str, NDArray]
    covar_raw: NDArray  # (b, p, p) unscaled, lmfit's int2ext; NaN if none
    covar: NDArray  # scaled by the reduced chi-square
    has_covar: NDArray  # (b,) bool
    nfev: NDArray
    lm_reason: NDArray
    status: list[str]
    message: list[str]
    converged: NDArray
    lower: NDArray  # (b, p) bounds of the fitted parameters
    upper: NDArray
    expressions: _Expressions
    symbols: dict[str, NDArray]  # parameter values and data spans
    suspects: NDArray  # (b,) bool: the model must check these one by one


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


def _clean_many(
    groups: _Groups, keys: Sequence[tuple]
) -> dict[tuple, tuple[NDArray, NDArray, NDArray | None]]:
    """:func:`scurve.fitting._clean_data` of each group of `keys` that it
    accepts and that has points: checked all at once where every group is
    two float arrays of one length without weights (a screen), else one by
    one."""
    data = [groups[key] for key in keys]
    xs, ys, ws = zip(*data, strict=True) if data else ((), (), ())
    # the checks run over the columns in C (map), not group by group
    arrays = xs + ys
    plain = (
        bool(data)
        and set(map(type, arrays)) == {np.ndarray}
        and set(map(id, ws)) == {id(None)}
        and set(map(attrgetter("dtype"), arrays)) == {np.dtype(np.float64)}
        and set(map(attrgetter("ndim"), arrays)) == {1}
        and list(map(len, xs)) == list(map(len, ys))
        and 0 not in map(len, xs)
    )
    if plain and all(np.isfinite(np.concatenate(a)).all() for a in (xs, ys)):
        return dict(zip(keys, zip(xs, ys, ws, strict=True), strict=True))
    cleaned = {}
    for key, group in zip(keys, data, strict=True):
        try:
            x, y, w = fitting._clean_data(*group)
        except Exception:  # the per-curve start says why
            continue
        if y.size:
            cleaned[key] = (x, y, w)
    return cleaned


def _statistics(
    model: SCurveModel,
    y: NDArray,
    fit: NDArray,
    w: NDArray,
    mask: NDArray,
    nvarys: int,
) -> dict[str, NDArray]:
    """:func:`scurve.fitting._statistics` over rows (weights 1 where none)."""
    jacobian = 0.0
    if model.log_y:
        jacobian = -np.sum(np.where(mask, model.scale(y), 0.0), axis=1)
        y, fit = model.scale(y), model.scale(fit)
    n = mask.sum(axis=1).astype(np.float64)
    dof = n - nvarys
    with np.errstate(all="ignore"):
        rss = np.sum(np.where(mask, (w * (y - fit)) ** 2, 0.0), axis=1)
        w2 = np.where(mask, w * w, 0.0)
        mean = np.sum(w2 * y, axis=1) / np.sum(w2, axis=1)
        tss = np.sum(np.where(mask, w2 * (y - mean[:, None]) ** 2, 0.0), axis=1)
        k = nvarys + 1
        logw = np.sum(np.where(mask, np.log(np.where(mask, w, 1.0)), 0.0), axis=1)
        loglik = np.where(
            rss > 0,
            -0.5 * n * (math.log(2 * math.pi) + np.log(rss / n) + 1) + logw + jacobian,
            math.inf,
        )
        aic = -2 * loglik + 2 * k
        return {
            "n": n,
            "dof": dof,
            "rss": rss,
            "rmse": np.sqrt(rss / n),
            "sigma": np.where(dof > 0, np.sqrt(rss / dof), math.nan),
            "r2": np.where(tss > 0, 1 - rss / tss, math.nan),
            "loglik": loglik,
            "aic": aic,
            "aicc": np.where(
                n - k - 1 > 0, aic + 2 * k * (k + 1) / (n - k - 1), math.nan
            ),
            "bic": -2 * loglik + k * np.log(n),
        }


def _covariance(
    jac: NDArray, u: NDArray, bnds: _Bounds, rss: NDArray, n: NDArray
) -> tuple[NDArray, NDArray, NDArray]:
    """lmfit's covariance: (J^T J)^-1 in internal values, mapped by the
    transforms' gradient (raw), then scaled by the reduced chi-square.

    None (here: ``has`` False, NaN) only when a column of J is exactly zero,
    as for MINPACK's triangular inverse; nearly dependent columns give a
    huge covariance that the assessment reports as not identifiable."""
    p = jac.shape[2]
    a = jac.transpose(0, 2, 1) @ jac
    norms = np.sqrt(np.einsum("bjj->bj", a))
    has = np.all(np.isfinite(a), axis=(1, 2)) & np.all(norms > 0, axis=1)
    safe = np.where(norms > 0, norms, 1.0)
    ah = np.where(
        has[:, None, None], a / (safe[:, :, None] * safe[:, None, :]), np.eye(p)
    )
    inv = np.empty_like(ah)
    rest = np.arange(len(ah))
    if len(ah) >= stacked.CHOLESKY_STACK:
        # well conditioned (every pivot of the unit-diagonal matrix above
        # 1e-6, so its smallest eigenvalue above 1e-24 / p^(p-1), far from
        # the floor below): the inverse by Cholesky, column by column
        low, good = stacked.cholesky(ah, least=1e-6)
        inv = stacked.cholesky_inverse(low)
        rest = np.flatnonzero(~good)
    if rest.size:  # lmfit's (MINPACK's) floor on the eigenvalues
        e, vecs = np.linalg.eigh(ah[rest])
        floor = e[:, -1:] * 1e-32
        e = np.where(e > floor, e, floor)
        inv[rest] = (vecs / e[:, None, :]) @ vecs.transpose(0, 2, 1)
    inv /= safe[:, :, None] * safe[:, None, :]
    grad = bnds.gradient(u)
    raw = inv * grad[:, :, None] * grad[:, None, :]
    raw[~has] = np.nan
    redchi = rss / np.maximum(1.0, n - p)
    return raw, raw * redchi[:, None, None], has


def _columns_t(
    d: Mapping[str, NDArray], names: Sequence[str], scale: Any, shape: tuple
) -> NDArray:
    """J^T, shape `shape` ``(b, len(names), n)``: the model's derivatives
    `d` of `names`, times `scale`, row by row."""
    jt = np.empty(shape)
    for j, name in enumerate(names):
        np.multiply(d[name], scale, out=jt[:, j, :])
    return jt


def _rss_hessian(
    model: SCurveModel,
    x: NDArray,
    target: NDArray,
    w: NDArray,
    values: NDArray,
    varied: NDArray,
    bnds: _Bounds,
    covar: NDArray,
    sol: LMSolution,
) -> NDArray:
    """The Hessians of the curves' sums of squares over their fitted
    parameters, as the lmfit path's
    :meth:`~scurve.fitting.FitResult._hessian_covariance` takes them, over a
    stack (steps of :data:`~scurve.fitting.HESSIAN_STEP` of the standard
    errors in `covar`): from the model's derivatives where no parameter is
    within a step of a bound (starting, where none is bounded, from the
    solution's own residuals and exact Jacobian, `sol`), else by central
    differences, clipped at the bound. `x`, `target` (on the model's scale)
    and `w` are the points the minimizer took (replicates merged: the pure
    error they leave out is a constant, with no second derivatives)."""
    names = list(model.curve_params)
    steps = fitting.HESSIAN_STEP * np.sqrt(np.einsum("bjj->bj", covar))
    fitted = [names[k] for k in varied]
    columns = fitting.linear_columns(model, fitted)
    near = np.full(len(values), columns is None)  # of a bound, or no derivatives
    if columns is not None and not bnds.none:
        near = fitting.near_bound(values[:, varied], steps, bnds.lower, bnds.upper)

    def part(rows: NDArray) -> NDArray:
        """The Hessians of the curves `rows`, all near a bound or none."""
        at, xs, ws = values[rows], x[rows], w[rows]
        lower, upper = bnds.lower[rows], bnds.upper[rows]

        def columns_at(trial: NDArray) -> dict[str, NDArray]:
            full_values = at.copy()
            full_values[:, varied] = np.clip(trial, lower, upper)
            return {n: full_values[:, k : k + 1] for k, n in enumerate(names)}

        def jacobian(trial: NDArray) -> NDArray:
            d = model.partials(xs, **columns_at(trial))
            shape = (xs.shape[0], varied.size, xs.shape[1])
            return _columns_t(d, fitted, ws, shape).transpose(0, 2, 1)

        def rss(trial: NDArray) -> NDArray:
            f = model.function(xs, **columns_at(trial))
            if model.log_y:
                f = np.log(np.maximum(f, np.finfo(np.float64).tiny))
            r = ws * (f - target[rows])
            return np.einsum("bn,bn->b", r, r)

        if near[rows[0]]:
            return fitting.numeric_hessian(rss, at[:, varied], steps[rows])
        # the exact Jacobian at the solution where it has it (no bounds)
        centre = sol.jacobian[rows] if bnds.none else None
        residual = sol.residual[rows]
        return fitting.derivative_hessian(
            jacobian, at[:, varied], steps[rows], residual, columns, centre
        )

    hess = np.empty((len(values), varied.size, varied.size))
    for rows in (np.flatnonzero(~near), np.flatnonzero(near)):
        if rows.size:
            hess[rows] = part(rows)
    return hess


def _collinear(covar: NDArray, has: NDArray) -> NDArray:
    """:func:`scurve.fitting._collinear`'s verdict (not its message), by row."""
    with np.errstate(all="ignore"):
        sd = np.sqrt(np.abs(np.einsum("bjj->bj", covar)))
        bad = ~np.all(np.isfinite(sd) & (sd > 0), axis=1)
        good = has & ~bad
        corr = np.where(
            good[:, None, None],
            covar / (sd[:, :, None] * sd[:, None, :]),
            np.eye(sd.shape[1]),
        )
    # most are far from it: the condition number is at most p tr(C^-1)
    # (the largest eigenvalue at most tr C = p, the smallest at least
    # 1 / tr(C^-1)); the eigenvalues of the others decide
    low, positive = stacked.cholesky(corr)
    with np.errstate(all="ignore"):
        bound = corr.shape[1] * np.einsum("bii->b", stacked.cholesky_inverse(low))
    far = positive & (2 * bound < fitting._MAX_CONDITION)
    ill = np.zeros(len(corr), dtype=bool)
    near = np.flatnonzero(~far)
    if near.size:
        eig = np.linalg.eigvalsh(corr[near])
        with np.errstate(divide="ignore"):
            ill[near] = (eig[:, 0] <= 0) | (
                eig[:, -1] / eig[:, 0] > fitting._MAX_CONDITION
            )
    return has & (bad | ill)


def _at_bound(values: NDArray, lower: NDArray, upper: NDArray) -> NDArray:
    """:func:`scurve.fitting._at_bound`'s test, elementwise."""
    hit = np.zeros(values.shape, dtype=bool)
    for bound in (lower, upper):
        finite = np.isfinite(bound)
        near = np.abs(values - bound) <= 1e-6 * np.maximum(1.0, np.abs(bound))
        hit |= finite & near
    return hit


def _solve(
    model: SCurveModel,
    curves: list[_Curve],
    template: lmfit.Parameters,
    *,
    max_iterations: int | None = None,
    spent: NDArray[np.int64] | None = None,
    stack: _Stack | None = None,
) -> _Solved:
    """Fit one lockstep batch (curves with the same fitted parameters);
    `template` is one curve's full parameters (for the derived quantities'
    expressions and symbols); `stack`, their arrays if made already.

    The first pass gives every curve `max_iterations` (default
    :data:`MAX_ITERATIONS`); the second, for the few that need more, is
    given `spent`, the evaluations each curve has used, and `max_iterations`
    more, within lmfit's own budget (:func:`evaluation_budget`), stopping
    curves that creep along a valley: a curve stopped there has not
    converged (status ``not_converged``), as on the lmfit path."""
    names = list(model.curve_params)
    varied = np.flatnonzero(curves[0].vary).astype(np.intp)
    fitted = [names[k] for k in varied]
    stack = stack or _stack(curves)
    x, y, w, mask, start = stack.x, stack.y, stack.w, stack.mask, stack.start
    lower, upper = stack.lower[:, varied], stack.upper[:, varied]
    bnds = _Bounds(lower.reshape(len(curves), -1), upper.reshape(len(curves), -1))
    target = model.scale(y)
    tiny = np.finfo(np.float64).tiny
    # the minimizer's points: replicates merged (the sums over the points are
    # the same, less the constant pure error), unless that saves no column
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
        """The parameters held by a bound: on it, and a step inward (1e-6,
        relative) does not lower the sum of squares."""
        values = full(u, rows)
        held = _at_bound(values[:, varied], lower[rows], upper[rows])
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
        """J^T in the internal coordinates from the model's derivatives `d`
        (times `scale`), row by row."""
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
        model.partials(x[:1], **{n: start[:1, k : k + 1] for k, n in enumerate(names)})
        is not None
    )
    everyone = np.arange(len(curves))
    with np.errstate(all="ignore"):
        u0 = bnds.to_internal(start[:, varied])
        # the model's own tolerance where tighter (hill's 1e-12, for drc's
        # digits); never looser than 1e-10 in the first pass. The second
        # takes the lmfit path's (the model's, or lmfit's 1.5e-8): slow
        # curves (a parameter near a bound, a shallow valley) then stop
        # where the lmfit path stops.
        own = getattr(model, "solver_options", {}).get("ftol")
        final = spent is not None
        ftol = (own or LMFIT_FTOL) if final else min(1e-10, own or 1.0)
        sol = levenberg_marquardt(
            residual,
            u0,
            ftol=ftol,
            xtol=ftol,
            max_iterations=MAX_ITERATIONS if max_iterations is None else max_iterations,
            max_nfev=evaluation_budget(varied.size) - spent if final else None,
            creep=CREEP if final else 0.0,
            jacobian=jacobian if analytic else None,
            joint=joint if fitting.linear_columns(model, names) else None,
            exact_at_solution=unbounded,
            on_bound=None if unbounded else on_bound,
            step_limit=None if not periodic.any() else np.where(periodic, 1.0, np.inf),
            constant=pure,
        )
        if final:
            sol.nfev += spent
        values = full(sol.x, everyone)
        fit = evaluate(values, x)
    st = _statistics(model, y, fit, w, mask, varied.size)
    raw, covar, has = _covariance(sol.jacobian, sol.x, bnds, sol.rss, st["n"])
    with np.errstate(invalid="ignore"):
        se_varied = np.sqrt(np.einsum("bjj->bj", covar))
    errorbars = has & np.all(se_varied > 0, axis=1)
    if getattr(model, "covariance", "jacobian") == "hessian":
        usable = errorbars & (st["dof"] > 0)
        with np.errstate(all="ignore"):
            hess = _rss_hessian(model, xl, tl, wl, values, varied, bnds, covar, sol)
            covar, _ = fitting.hessian_covariance(
                hess, covar, usable, st["rss"] / st["dof"]
            )
            se_varied = np.sqrt(np.einsum("bjj->bj", covar))
    stderr = np.where(has[:, None], 0.0, math.nan) * np.ones((len(curves), len(names)))
    stderr[:, varied] = np.where(has[:, None], se_varied, math.nan)

    # derived quantities and their delta-method standard errors
    expressions = _Expressions(model, template)
    span = {
        "x_min": np.min(np.where(mask, x, np.inf), axis=1),
        "x_max": np.max(np.where(mask, x, -np.inf), axis=1),
    }
    symbols = {n: values[:, k] for k, n in enumerate(names)} | span
    derived = expressions(symbols)
    grads = {d: np.zeros((len(curves), varied.size)) for d in derived}
    for j, k in enumerate(varied):
        h = _STEP * np.abs(values[:, k])
        h = np.where(h == 0, _STEP, h)
        up = expressions(symbols | {names[k]: values[:, k] + h})
        down = expressions(symbols | {names[k]: values[:, k] - h})
        with np.errstate(invalid="ignore", over="ignore"):  # inf - inf: NaN
            for d in derived:
                grads[d][:, j] = (up[d] - down[d]) / (2 * h)
    derived_stderr = {}
    for d, g in grads.items():
        with np.errstate(invalid="ignore"):
            se = np.sqrt(np.einsum("bi,bij,bj->b", g, covar, g))
        derived_stderr[d] = np.where(errorbars, se, np.where(has, 0.0, math.nan))

    # the verdict, as fitting._assess gives it
    finite = (
        np.all(np.isfinite(values), axis=1)
        & np.all([np.isfinite(v) for v in derived.values()] or [True], axis=0)
        & np.all(np.isfinite(fit) | ~mask, axis=1)
    )
    bound_hit = _at_bound(values[:, varied], lower, upper).any(axis=1)
    collinear = _collinear(covar, has)
    ok = finite & sol.converged & has & errorbars & ~collinear & ~bound_hit
    verdicts = []
    converged = ok.copy()
    for k in np.flatnonzero(~ok):
        verdict = _assess(
            names,
            values[k],
            varied,
            lower[k],
            upper[k],
            derived,
            k,
            sol,
            covar[k],
            has[k],
            errorbars[k],
            fit[k][mask[k]],
            curves[k].y,
            aborted=final and sol.reason[k] == "iteration limit",
        )
        converged[k] = verdict.converged
        verdicts.append((k, verdict.status, verdict.message))
    status_of = np.full(len(curves), "ok", dtype=object)
    message_of = np.array(
        [f"converged after {n} evaluations" for n in sol.nfev], dtype=object
    )
    for k, st_k, msg in verdicts:
        status_of[k], message_of[k] = st_k, msg
    # no S-curve in the data: flat, as the lmfit path says of a converged
    # fit; a fit that wandered off without converging (as fits to noise do)
    # but explains no more than a constant at its best point is flat too,
    # rather than handed to lmfit to wander for thousands of evaluations
    wandered = np.isin(sol.reason, ["iteration limit", "stalled", "creeping"])
    wandered &= finite
    for k in _flat_candidates(st, varied.size, converged | wandered):
        flat = fitting.no_signal(
            {"r2": float(st["r2"][k]), "dof": float(st["dof"][k])}, varied.size
        )
        if flat and not converged[k]:
            flat += f"; the fit did not converge ({sol.reason[k]})"
        if flat:
            status_of[k], message_of[k] = "flat", flat
    return _Solved(
        curves,
        names,
        varied,
        values,
        stderr,
        derived,
        derived_stderr,
        st,
        raw,
        covar,
        has,
        sol.nfev,
        sol.reason,
        list(status_of),
        list(message_of),
        converged,
        lower,
        upper,
        expressions,
        symbols,
        _check_suspects(model, x, mask, values),
    )


def _flat_candidates(
    st: Mapping[str, NDArray], nvarys: int, converged: NDArray
) -> NDArray[np.intp]:
    """Curves that :func:`scurve.fitting.no_signal` may call flat (its F test,
    vectorized; the function itself then words the verdict)."""
    if nvarys < 2:
        return np.array([], dtype=np.intp)
    r2, dof = st["r2"], st["dof"]
    with np.errstate(all="ignore"):
        f = r2 / (1 - r2) * dof / (nvarys - 1)
        p = np.where(f > 0, stats.f.sf(f, nvarys - 1, dof), 1.0)
    maybe = ~np.isfinite(r2) | ((r2 < 1) & (p > fitting.FLAT_P))
    return np.flatnonzero(converged & (dof > 0) & maybe)


_REASONS = {
    "creeping": (
        f"the sum of squares fell by less than {CREEP:g} (relative) over "
        f"{CREEP_WINDOW} iterations: the fit creeps along a valley, so some "
        "parameters are not identifiable from these data"
    )
}


def _assess(
    names: list[str],
    values: NDArray,
    varied: NDArray,
    lower: NDArray,
    upper: NDArray,
    derived: Mapping[str, NDArray],
    k: int,
    sol: LMSolution,
    covar: NDArray,
    has: bool,
    errorbars: bool,
    fit: NDArray,
    y: NDArray,
    aborted: bool = False,
) -> Any:
    """The engine's own assessment of one curve (for its exact message)."""
    params = {}
    bounds = dict(zip(varied.tolist(), zip(lower, upper, strict=True), strict=True))
    for i, name in enumerate(names):
        lo, hi = bounds.get(i, (-math.inf, math.inf))
        params[name] = SimpleNamespace(
            name=name,
            value=float(values[i]),
            vary=i in bounds,
            expr=None,
            min=lo,
            max=hi,
        )
    for name, value in derived.items():
        params[name] = SimpleNamespace(
            name=name,
            value=float(value[k]),
            vary=False,
            expr=name,
            min=-math.inf,
            max=math.inf,
        )
    why = _REASONS.get(sol.reason[k], f"the fast path stopped: {sol.reason[k]}")
    creeping = sol.reason[k] == "creeping"
    verdict = fitting._assess(
        params,  # type: ignore[arg-type]
        bool(sol.converged[k]) or creeping,
        why,
        bool(errorbars),
        covar if has else None,
        int(sol.nfev[k]),
        fit,
        aborted=aborted,
        exact=bool(sol.rss[k] <= 1e-28 * np.sum(np.square(y))),
    )
    if creeping and verdict.status == "ok":
        # a valley the covariance does not show as singular: say so (a
        # parameter that ran into its bound is at_bound, as on the lmfit path)
        return fitting._assess(
            params,  # type: ignore[arg-type]
            False,
            why,
            bool(errorbars),
            covar if has else None,
            int(sol.nfev[k]),
            fit,
        )
    return verdict


# ------------------------------------------------------------ results


class _SolvedFitResult(FitResult):
    """A :class:`~scurve.fitting.FitResult` whose optimizer is the fast path:
    lmfit's own bookkeeping (statistics, uncertainties, derived quantities)
    runs on the batch solution instead of on a MINPACK run."""

    _solution: dict[str, float]
    _solution_covar: NDArray[np.float64] | None
    _solution_nfev: int
    _solution_success: bool = True

    def leastsq(self, params: Any = None, max_nfev: Any = None, **kws: Any) -> Any:
        result = self.prepare_fit(params=params)
        result.method = "leastsq"
        for name, value in self._solution.items():
            result.params[name].value = value
        result.params.update_constraints()
        result.residual = self.userfcn(result.params, *self.userargs, **self.userkws)
        result.nfev = self._solution_nfev
        result._calculate_statistics()
        result.success = self._solution_success
        result.ier = 1 if result.success else 5
        result.message = (
            "Fit succeeded (scurve.batch, vectorized Levenberg-Marquardt)."
            if result.success
            else "The fast path stopped without converging."
        )
        result.errorbars = self._solution_covar is not None
        if result.errorbars:
            result.covar = np.array(self._solution_covar)
            self._calculate_uncertainties_correlations()
        else:
            result.message += " Could not estimate error-bars."
        return result


class BatchResults(Mapping):
    """Group key -> :class:`~scurve.fitting.FitResult` (or the
    :class:`~scurve.errors.FitError` of a group that could not be fitted),
    in the order of the groups.

    Curves fitted by the fast path get their ``FitResult`` on first access
    (about as costly as one lmfit evaluation of the uncertainties); the
    others were fitted by the lmfit path and are stored.
    """

    def __init__(
        self,
        model: SCurveModel,
        order: Sequence[tuple],
        stored: Mapping[tuple, FitResult | FitError],
        settled: Sequence[tuple[_Solved, list[tuple], list[int]]],
        level: float,
        ci: CI,
        options: tuple[Any, Any, Any] = (None, None, None),
        groups: _Groups | None = None,
    ) -> None:
        self.model = model
        self._options = options  # fix, init, bounds
        self._groups = groups  # the data of batches fitted in a worker
        self._order = list(order)
        self._stored = dict(stored)
        self._settled = settled
        self._level, self._ci = level, ci

    def __getitem__(self, key: tuple) -> FitResult | FitError:
        if key not in self._stored:
            batch, k = self._solved[key]
            self._stored[key] = self._result(batch, k, key)
        return self._stored[key]

    def __iter__(self) -> Iterator[tuple]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    @functools.cached_property
    def _solved(self) -> dict[tuple, tuple[_Solved, int]]:
        """Key -> (batch, number in it) of the fast path's curves, on first
        use (the table does not need it)."""
        return {
            key: (batch, k)
            for batch, keys, ks in self._settled
            for key, k in zip(keys, ks, strict=True)
        }

    def _result(self, batch: _Solved, k: int, key: tuple) -> FitResult:
        if batch.curves:
            curve = batch.curves[k]
            x, y, w = curve.x, curve.y, curve.w
        else:  # fitted in a worker: the data, checked again
            assert self._groups is not None
            x, y, w = fitting._clean_data(*self._groups[key])
        # the full start (with the derived quantities' expressions)
        params = _prepare(self.model, x, y, w, *self._options)[3]
        result = _SolvedFitResult(self.model, params, fcn_kws={"x": x})
        result._solution = {
            batch.names[i]: float(batch.values[k, i]) for i in batch.varied
        }
        result._solution_covar = batch.covar_raw[k] if batch.has_covar[k] else None
        result._solution_nfev = int(batch.nfev[k])
        result._solution_success = bool(batch.converged[k])
        result.level, result.ci = self._level, self._ci
        result.fit(data=y, weights=w)
        # the table's verdict (a flat curve that did not converge is flat)
        result.converged = bool(batch.converged[k])
        result.status, result.message = batch.status[k], batch.message[k]
        return result

    def table(self, key: tuple) -> pd.DataFrame | None:
        """The parameter table of a fast-path curve as ``FitResult.table``
        has it (None for the others)."""
        if key not in self._solved:
            return None
        batch, k = self._solved[key]
        return _curve_table(batch, k, self._level, self._ci)

    def document(self, key: tuple) -> dict[str, Any] | None:
        """``FitResult.to_dict()`` of a fast-path curve, from the batch
        (None for the others, whose result gives it)."""
        if key not in self._solved:
            return None
        batch, k = self._solved[key]
        names = [batch.names[i] for i in batch.varied]
        covariance = (names, batch.covar[k]) if batch.has_covar[k] else None
        return fitting._result_dict(
            self.model,
            covariance,
            _curve_table(batch, k, self._level, self._ci),
            {s: float(v[k]) for s, v in batch.stats.items()},
            bool(batch.converged[k]),
            batch.status[k],
            batch.message[k],
            self._level,
            self._ci,
        )


def _intervals(
    value: NDArray, stderr: NDArray, t: NDArray, ci: CI
) -> tuple[NDArray, NDArray]:
    if ci == "none":
        return np.full_like(value, math.nan), np.full_like(value, math.nan)
    return value - t * stderr, value + t * stderr


def _columns(
    batch: _Solved, level: float, ci: CI
) -> dict[str, tuple[NDArray, NDArray, NDArray, NDArray]]:
    """name -> (value, stderr, lower, upper) over the batch's curves, as
    :func:`scurve.fitting._interval_table` computes them."""
    dof, where = np.unique(batch.stats["dof"], return_inverse=True)
    with np.errstate(invalid="ignore"):  # a few distinct dof: one ppf each
        t = np.where(dof > 0, stats.t.ppf(0.5 + level / 2, dof), math.nan)[where]
    out = {}
    for i, name in enumerate(batch.names):
        value = batch.values[:, i]
        if i in batch.varied:
            se = batch.stderr[:, i]
            out[name] = (value, se, *_intervals(value, se, t, ci))
        else:
            out[name] = (value, np.zeros_like(value), value, value)
    varying = [batch.names[i] for i in batch.varied]
    mapped = set(batch.expressions.mapped)
    for name, value in batch.derived.items():
        se = batch.derived_stderr[name]
        lower, upper = _intervals(value, se, t, ci)
        deps = fitting._dependencies(batch.expressions.exprs[name], varying)
        if ci != "none" and name in mapped and len(deps) == 1:
            lower, upper = _mapped(batch, name, varying.index(deps[0]), t)
        out[name] = (value, se, lower, upper)
    return out


def _mapped(batch: _Solved, name: str, j: int, t: NDArray) -> tuple[NDArray, NDArray]:
    """The derived `name`'s range as its one parameter (the j-th fitted)
    spans its delta interval, clipped to its bounds as lmfit's value setter
    does (:func:`scurve.fitting._map_through`)."""
    i = batch.varied[j]
    dep = batch.names[i]
    half = t * batch.stderr[:, i]
    ends = [
        batch.expressions(
            batch.symbols
            | {
                dep: np.clip(
                    batch.values[:, i] + sign * half,
                    batch.lower[:, j],
                    batch.upper[:, j],
                )
            }
        )[name]
        for sign in (-1.0, 1.0)
    ]
    return np.minimum(*ends), np.maximum(*ends)


def _curve_table(batch: _Solved, k: int, level: float, ci: CI) -> pd.DataFrame:
    rows = {}
    varied = set(batch.varied.tolist())
    for i, (name, (v, se, lo, hi)) in enumerate(_columns(batch, level, ci).items()):
        param = i < len(batch.names)
        fixed = param and i not in varied
        rows[name] = {
            "value": float(v[k]),
            "stderr": float(se[k]),
            "lower": float(lo[k]),
            "upper": float(hi[k]),
            "vary": param and not fixed,
            "kind": "param" if param else "derived",
            "method": "fixed" if fixed else ("none" if ci == "none" else "delta"),
        }
    return pd.DataFrame.from_dict(rows, orient="index")


# ------------------------------------------------------------ groups


def fit_groups(
    model: SCurveModel,
    groups: _Groups,
    keys: Sequence[str],
    *,
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    ci: CI = "delta",
    level: float = LEVEL,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
) -> GroupFits | None:
    """Fit `model` to every group independently, on the fast path.

    The same arguments, results table and statuses as
    :func:`scurve.fitting.fit_groups` without ``share`` (which calls this
    for ``ci`` "delta" and "none"). Returns None when the model's function
    does not broadcast over a stack of curves (then the lmfit path fits
    them one by one).

    Curves that the fast path cannot finish are fitted by the lmfit path;
    their ``message`` ends with ``fitted one by one with lmfit (why)``.

    `workers` processes (None: every available core, for batches of at least
    :data:`PARALLEL_CURVES` curves; 1: this process only) start and fit the
    lockstep chunks; the pool is forked, so the data are not copied to it,
    and the table does not depend on the number of workers, to the last
    bit. This process fits the few curves that need a second pass, and the
    lmfit path's.
    """
    if ci not in ("delta", "none"):
        raise ValueError(f"the fast path gives delta or no intervals, not {ci!r}")
    if not _least_squares(model):
        return None
    keys = list(keys)
    order = list(groups)
    part = _Part(model, groups, (fix, init, bounds))
    pending = iter(order)
    for key in pending:  # the first curve that starts: the template
        part.start_one(key)
        if key in part.curves:
            if not _broadcasts(model, part.curves[key]):
                return None
            break
    refused = len(part.stored)  # before the first curve that starts
    reported = 0

    def report(count: int) -> None:
        nonlocal reported
        if progress is not None:
            for n in range(reported + 1, count + 1):
                progress(n)
        reported = max(reported, count)

    rest = list(pending)
    workers = _workers(workers, len(rest))
    table = _Table(model, order, level, ci)
    for done in _fit_parts(part, rest, workers):
        table.take(part.settled)  # as they come: while a pool still fits
        report(refused + done)
    table.take(part.settled)
    stored: dict[tuple, FitResult | FitError] = dict(part.stored)
    for key, why in part.fallback.items():
        x, y, w = groups[key]
        note = f"; fitted one by one with lmfit ({why})"
        try:
            res = fitting.fit_curve(
                model,
                x,
                y,
                weights=w,
                fix=fix,
                init=init,
                bounds=bounds,
                ci=ci,
                level=level,
            )
        except FitError as exc:
            stored[key] = FitError(f"{exc}{note}")
        else:
            res.message += note
            stored[key] = res
        report(reported + 1)
    results = BatchResults(
        model, order, stored, part.settled, level, ci, (fix, init, bounds), groups
    )
    return GroupFits(
        model,
        keys,
        results,
        table.frame(keys, results),
    )  # type: ignore[arg-type]


class _Part:
    """The fast path's work on some of the groups, in this process or in a
    forked worker: the self-starts, the lockstep fits in chunks, the second
    pass for the few that need more. What it cannot finish it leaves to the
    lmfit path (`fallback`, with why)."""

    def __init__(
        self,
        model: SCurveModel,
        groups: _Groups,
        options: tuple[Any, Any, Any],
    ) -> None:
        self.model, self.groups, self.options = model, groups, options
        self.template: lmfit.Parameters | None = None
        self.starter = _without_derived(model)
        self.hints = model.make_params()  # the model's bounds
        # the keys last started together, and their arrays
        self.stacked: tuple[list[tuple], _Stack | None] = ([], None)
        self.curves: dict[tuple, _Curve] = {}
        self.stored: dict[tuple, FitError] = {}
        self.fallback: dict[tuple, str] = {}
        # the curves fitted, batch by batch: (batch, keys, their numbers)
        self.done = 0  # how many
        self.settled: list[tuple[_Solved, list[tuple], list[int]]] = []

    def start_one(self, key: tuple) -> None:
        """The per-curve start (the model's guess and make_params)."""
        model = self.model
        x, y, w = self.groups[key]
        try:
            prepared = _prepare(self.starter, x, y, w, *self.options)
        except FitError as exc:
            self.stored[key] = exc
            return
        except Exception:  # the lmfit path meets it again and decides
            self.fallback[key] = "the self-start failed"
            return
        params = prepared[3]
        if self.template is None:
            self.template = _prepare(model, *prepared[:3], *self.options)[3]
            if not _same_start(model, self.template, params):
                self.starter = model
        if any(params[n].expr for n in model.curve_params):
            self.fallback[key] = "a parameter is an expression"
            return
        self.curves[key] = _Curve.of(model, prepared)

    def start(self, keys: Sequence[tuple]) -> None:
        """Start the curves of `keys` not started yet: vectorized where the
        model can, one by one otherwise (and where that says no)."""
        keys = [key for key in keys if key not in self.curves]
        if self.template is not None and callable(
            getattr(self.model, "guess_many", None)
        ):
            fix, init, _ = self.options
            started, stack = _start_many(
                self.model, keys, self.groups, self.template, fix, init, self.hints
            )
            self.curves |= started
            self.stacked = (list(started), stack)
        for key in keys:
            if key not in self.curves:
                self.start_one(key)

    def run(
        self, chunks: Sequence[list[tuple]], advance: Callable[[int], None]
    ) -> dict[tuple, _Curve]:
        """Start and fit each chunk of keys in lockstep (its curves sorted
        by size); `advance(n)` as n more are finished (fitted, or refused
        with a message). Returns the curves that need the second pass, to go
        on from where the first left them."""
        finished = self.done + len(self.stored)
        stragglers: dict[tuple, _Curve] = {}
        curves = self.curves
        for chunk in chunks:
            self.start(chunk)
            members = [key for key in chunk if key in curves]
            late: dict[tuple, _Curve] = {}
            for same in _by_vary(members, curves):
                keys, stack = self.stacked
                batch = _solve(
                    self.model,
                    [curves[key] for key in same],
                    self.template,
                    stack=stack if keys == same else None,
                )
                for key in self.settle(same, batch, final=False):
                    late[key] = _resumed(curves[key], batch, same.index(key))
            if late:  # in the chunk's order
                place = {key: i for i, key in enumerate(chunk)}
                stragglers |= sorted(late.items(), key=lambda kv: place[kv[0]])
            now = self.done + len(self.stored)
            advance(now - finished)
            finished = now
        return stragglers

    def resume(self, stragglers: Mapping[tuple, _Curve]) -> None:
        """The second pass: the curves the first left at its iteration
        limit, together, going on within lmfit's evaluation budget."""
        self.curves |= stragglers
        for same in _by_vary(list(stragglers), self.curves):
            batch = _solve(
                self.model,
                [self.curves[key] for key in same],
                self.template,
                max_iterations=RESUME_ITERATIONS,
                spent=np.array(
                    [self.curves[key].spent for key in same], dtype=np.int64
                ),
            )
            self.settle(same, batch, final=True)

    def settle(self, chunk: list[tuple], batch: _Solved, final: bool) -> list[tuple]:
        """Keep the chunk's finished curves; return those that need the
        second pass (only from the first)."""
        status = np.asarray(batch.status)
        flat, failed = status == "flat", status == "failed"
        limit = np.isin(batch.lm_reason, ["iteration limit", "creeping"])
        more = limit & ~flat & ~failed if not final else np.zeros(len(chunk), bool)
        finished = batch.converged | flat | (limit & final)
        lost = ~more & (failed | ~finished)
        check = ~more & ~lost & batch.converged & batch.suspects  # as fit_curve
        kept = ~more & ~lost & ~check
        for k in np.flatnonzero(lost):
            self.fallback[chunk[k]] = _why(batch.lm_reason[k], batch.status[k])
        for k in np.flatnonzero(check):
            try:
                _check_fit(self.model, batch, k)
            except FitError as exc:
                self.stored[chunk[k]] = exc
            except (AttributeError, KeyError, TypeError):
                self.fallback[chunk[k]] = "the model checks its fits on a FitResult"
            else:
                kept[k] = True
        ks = np.flatnonzero(kept).tolist()
        self.adopt([(batch, [chunk[k] for k in ks], ks)])
        return [chunk[k] for k in np.flatnonzero(more)]

    def adopt(self, settled: list[tuple[_Solved, list[tuple], list[int]]]) -> None:
        """Keep settled curves: batches, their keys and numbers in them."""
        self.done += sum(len(ks) for _, _, ks in settled)
        self.settled += settled


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


def _by_vary(keys: Sequence[tuple], curves: Mapping[tuple, _Curve]) -> list[list]:
    """`keys` grouped by which parameters their curves fit."""
    out: dict[tuple[bool, ...], list[tuple]] = {}
    for key in keys:
        out.setdefault(curves[key].vary, []).append(key)
    return list(out.values())


def _resumed(curve: _Curve, batch: _Solved, k: int) -> _Curve:
    """`curve`, to go on from where `batch` left it (its k-th curve)."""
    import dataclasses

    return dataclasses.replace(
        curve, start=batch.values[k].copy(), spent=int(batch.nfev[k])
    )


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where known)."""
    import os

    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


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
#: the part that started the first curve, the chunks, and a counter of curves
#: done, in shared memory.
_JOB: tuple[_Part, list[list[tuple]], Any] | None = None


def _chunk_job(index: int) -> tuple[dict, dict, dict, list]:
    """A forked worker's task: start and fit the index-th chunk, counting
    the curves done in the shared counter; returns the curves refused and
    left to the lmfit path, the curves for the second pass, and the settled
    curves batch by batch (:attr:`_Part.settled`, the batches without their
    curves and expressions: the parent has the data). The worker keeps
    nothing of it."""
    assert _JOB is not None
    part, chunks, counter = _JOB

    def advance(n: int) -> None:
        with counter.get_lock():
            counter.value += n

    stragglers = part.run([chunks[index]], advance)
    stored, fallback, settled = part.stored, part.fallback, part.settled
    part.done, part.stored, part.fallback, part.settled = 0, {}, {}, []
    for key in chunks[index]:
        part.curves.pop(key, None)
    for batch, _, _ in settled:
        batch.curves, batch.expressions = [], None  # type: ignore[assignment]
    return stored, fallback, stragglers, settled


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
    """Start and fit the curves of `keys` (and the first, already started in
    `part`) in lockstep chunks, here or in `workers` forked processes that
    take the next chunk as they finish one (the groups are inherited, only
    the results travel back, each chunk's while the others are fitted);
    then the second pass, here. Yields the number of curves done so far.

    The chunks (:func:`_chunks`) and the second pass do not depend on the
    number of workers, so neither do the results, to the last bit."""
    groups = part.groups
    members = list(part.curves) + keys
    lengths = np.fromiter(
        map(len, map(itemgetter(1), map(groups.__getitem__, members))),
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
            finished = part.done + len(part.stored)
            part.resume(stragglers)
            yield done + part.done + len(part.stored) - finished


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
    expressions = _Expressions(part.model, part.template)
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
                    stored, fallback, more, settled = future.result()
                    for batch, _, _ in settled:
                        batch.expressions = expressions
                    part.adopt(settled)
                    part.stored |= stored
                    part.fallback |= fallback
                    late[index[future]] = more
                yield counter.value
        for i in sorted(late):
            stragglers |= late[i]
    finally:
        _JOB = None
    return counter.value


def _start_many(
    model: SCurveModel,
    keys: Sequence[tuple],
    groups: _Groups,
    template: lmfit.Parameters,
    fix: Mapping[str, float] | None,
    init: Mapping[str, float] | None,
    hints: lmfit.Parameters,
) -> tuple[dict[tuple, _Curve], _Stack | None]:
    """The starts of many curves at once, through the model's vectorized
    self-start ``guess_many(data, x, mask)`` (values equal to its
    :meth:`~scurve.fitting.SCurveModel.guess`'s), with the semantics of
    :func:`scurve.fitting.make_params`: the guess is clipped to the model's
    bounds, then to the user's (`template`, one curve's parameters, holds
    them and the fixed and starting values, the same for every curve).

    Curves that any check of :func:`_prepare` would stop, or whose guess is
    not finite, are left out: the per-curve start gives their message.
    `hints` are the model's own parameters (its bounds). Returns the curves,
    and their arrays."""
    names = list(model.curve_params)
    cleaned = _clean_many(groups, keys)
    if not cleaned:
        return {}, None
    b = len(cleaned)
    x2, y2, w2, mask = stacked.padded(
        [x for x, _, _ in cleaned.values()],
        [y for _, y, _ in cleaned.values()],
        [None] * b,
    )
    n = mask.sum(axis=1)
    vary = tuple(bool(template[p].vary) for p in names)
    ok = n > sum(vary)
    ok &= np.any(mask & (x2 != x2[:, :1]), axis=1)
    ok &= np.any(mask & (y2 != y2[:, :1]), axis=1)
    if model.log_y:
        ok &= ~np.any(mask & (y2 <= 0), axis=1)
    try:
        with np.errstate(all="ignore"):
            guess = model.guess_many(y2, x2, mask)  # type: ignore[attr-defined]
    except Exception:  # the per-curve guess meets it again and decides
        return {}, None
    lower = np.array([template[p].min for p in names], dtype=np.float64)
    upper = np.array([template[p].max for p in names], dtype=np.float64)
    start = np.empty((b, len(names)))
    for j, p in enumerate(names):
        if p in (fix or {}) or p in (init or {}):
            start[:, j] = template[p].value
        else:
            value = np.clip(guess[p], hints[p].min, hints[p].max)
            start[:, j] = np.clip(value, lower[j], upper[j])
    ok &= np.all(np.isfinite(start), axis=1)
    out = {}
    for k, (key, (x, y, w)), row in zip(
        range(b), cleaned.items(), list(start), strict=True
    ):
        if ok[k]:
            out[key] = _Curve(x, y, w, row, lower, upper, vary)
    if any(w is not None for _, _, w in cleaned.values()):
        return out, None  # (the guess takes no weights; the fit does)
    arrays = (x2, y2, w2, mask, start)
    if not ok.all():
        arrays = tuple(a[ok] for a in arrays)
    shape = (len(out), len(names))
    bounds = np.broadcast_to(lower, shape), np.broadcast_to(upper, shape)
    return out, _Stack(*arrays, *bounds)


def _check_suspects(
    model: SCurveModel, x: NDArray, mask: NDArray, values: NDArray
) -> NDArray[np.bool_]:
    """The curves whose fit the model must check one by one: all, unless it
    has nothing to check or says which may fail (``check_suspects(x, mask,
    values)``, vectorized)."""
    count = len(x)
    if type(model).check_fit is SCurveModel.check_fit:
        return np.zeros(count, dtype=bool)
    suspects = getattr(model, "check_suspects", None)
    if suspects is None:
        return np.ones(count, dtype=bool)
    named = {n: values[:, i] for i, n in enumerate(model.curve_params)}
    return np.asarray(suspects(x, mask, named), dtype=bool)


def _check_fit(model: SCurveModel, batch: _Solved, k: int) -> None:
    """The model's own check of a converged fit
    (:meth:`~scurve.fitting.SCurveModel.check_fit`), given a view of the
    curve: ``x``, ``data``, ``params[name].value`` / ``.stderr``."""
    curve = batch.curves[k]
    params = {
        name: SimpleNamespace(
            name=name, value=float(batch.values[k, i]), stderr=float(batch.stderr[k, i])
        )
        for i, name in enumerate(batch.names)
    }
    view = SimpleNamespace(x=curve.x, data=curve.y, weights=curve.w, params=params)
    model.check_fit(view)  # type: ignore[arg-type]


def _why(reason: str, status: str) -> str:
    if reason == "iteration limit":
        return f"the fast path did not converge in {MAX_ITERATIONS} iterations"
    if reason == "non-finite" or status == "failed":
        return "the fast path met non-finite values"
    return "the fast path stalled"


class _Table:
    """The rows of :func:`scurve.fitting._tidy_row`, column by column, filled
    as the fast path settles its curves, batch by batch (:meth:`take`, while
    a pool is still fitting), then the other curves' one by one
    (:meth:`frame`)."""

    SUFFIXES = ("", "_stderr", "_lower", "_upper")

    def __init__(
        self, model: SCurveModel, order: list[tuple], level: float, ci: CI
    ) -> None:
        self.model, self.order, self.level, self.ci = model, order, level, ci
        self.names = list(model.curve_params) + list(model.derived)
        headers = [name + s for name in self.names for s in self.SUFFIXES]
        self.headers = headers + list(fitting.STAT_COLUMNS)
        self.taken = 0
        self.ready = False

    def _allocate(self) -> None:
        """The columns, on first use (when a pool has its work already)."""
        size = len(self.order)
        # one block for the numbers, which the table then holds as it is
        self.block = np.full((len(self.headers), size), math.nan)
        self.numbers = dict(zip(self.headers, self.block, strict=True))
        self.converged = np.zeros(size, dtype=bool)
        self.status = np.full(size, "failed", dtype=object)
        self.message = np.full(size, "", dtype=object)
        self.position = {key: i for i, key in enumerate(self.order)}
        self.filled = np.zeros(size, dtype=bool)
        self.ready = True

    def take(self, settled: Sequence[tuple[_Solved, list[tuple], list[int]]]) -> None:
        """The rows of the entries of `settled` (each: a batch, the keys and
        numbers in it of its settled curves) not taken yet."""
        if not self.ready:
            self._allocate()
        numbers, suffixes = self.numbers, self.SUFFIXES
        for batch, batch_keys, k_list in settled[self.taken :]:
            if not k_list:
                continue
            ks = np.array(k_list)
            rows = np.fromiter(
                map(self.position.__getitem__, batch_keys), np.intp, len(ks)
            )
            self.filled[rows] = True
            for name, cols in _columns(batch, self.level, self.ci).items():
                for s, col in zip(suffixes, cols, strict=True):
                    numbers[name + s][rows] = col[ks]
            for s in fitting.STAT_COLUMNS:
                numbers[s][rows] = batch.stats[s][ks]
            self.converged[rows] = batch.converged[ks]
            status = np.array(batch.status, dtype=object)[ks]
            self.status[rows] = status
            self.message[rows] = np.array(batch.message, dtype=object)[ks]
            flat = rows[status == "flat"]  # as _tidy_row: no curve, no values
            for name in self.names:
                for s in suffixes:
                    numbers[name + s][flat] = math.nan
        self.taken = len(settled)

    def frame(self, keys: list[str], results: BatchResults) -> pd.DataFrame:
        """The table: the rows taken, and the other groups' from `results`
        (fitted one by one, or refused)."""
        if not self.ready:
            self._allocate()
        model, order = self.model, self.order
        for i in np.flatnonzero(~self.filled):
            key = order[i]
            res = results[key]
            row = (
                fitting._tidy_row(
                    model, key, keys, None, None, False, "failed", str(res)
                )
                if isinstance(res, FitError)
                else res.row(key, keys)
            )
            for col, array in self.numbers.items():
                array[i] = row[col]
            self.converged[i] = row["converged"]
            self.status[i], self.message[i] = row["status"], row["message"]
        left: dict[str, Any] = {
            name: [key[j] for key in order] for j, name in enumerate(keys)
        }
        left["model"] = [model.label] * len(order)
        right = {
            "converged": self.converged,
            "status": self.status,
            "message": self.message,
        }
        return pd.concat(
            [
                pd.DataFrame(left),
                pd.DataFrame(self.block.T, columns=self.headers, copy=False),
                pd.DataFrame(right),
            ],
            axis=1,
        )
