r"""The vectorized minimizer: Levenberg-Marquardt over a stack of curves at once.

Many small least-squares problems (one per curve) are solved in lockstep:
every iteration solves the damped normal equations of all active curves at
once (:func:`levenberg_marquardt`), each curve with its own damping, and a
curve leaves the lockstep when it has converged.

*Bounds* are those of lmfit, in its internal coordinates (the MINUIT
transforms, :class:`Bounds`): with lower bound :math:`a` and upper bound
:math:`b`,

.. math:: \theta = a + \tfrac{b-a}{2}(\sin u + 1), \qquad
          \theta = a - 1 + \sqrt{u^2 + 1}, \qquad
          \theta = b + 1 - \sqrt{u^2 + 1}

for two bounds, a lower or an upper bound, so that a fit that runs into a
bound stops exactly where lmfit's does, and the covariance is transformed
back with the same gradient :math:`d\theta/du`.

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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import stacked

__all__ = [
    "CENTRAL_STEP",
    "CERTIFY",
    "CREEP",
    "CREEP_WINDOW",
    "JACOBIAN_STEP",
    "LMFIT_FTOL",
    "MAX_ITERATIONS",
    "OFFSET_TOL",
    "POLISH_TOL",
    "RESUME_ITERATIONS",
    "SAME_OPTIMUM",
    "Bounds",
    "LMSolution",
    "Polished",
    "central_jacobian",
    "evaluation_budget",
    "jacobian_covariance",
    "levenberg_marquardt",
    "polish",
    "relative_offset",
]

#: lmfit's forward-difference step (relative): MINPACK's sqrt(epsfcn) with
#: lmfit's epsfcn = 1e-10. The same step gives the same Jacobian, hence the
#: same standard errors as the lmfit path (to about 1e-8, where a step of
#: sqrt(eps) would differ by its truncation error, about 1e-5).
JACOBIAN_STEP = 1e-5
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


# ---------------------------------------------------------------- bounds


@dataclass(frozen=True)
class Bounds:
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

    def take(self, rows: NDArray) -> Bounds:
        return Bounds(self.lower[rows], self.upper[rows])

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


def jacobian_covariance(
    jac: NDArray, u: NDArray, bnds: Bounds, rss: NDArray, n: NDArray
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


# ------------------------------------------------- the convergence test

#: The relative-offset criterion a fit must meet to count as converged
#: (Bates & Watts 1981): the part of the residuals in the span of the
#: Jacobian, relative to the part orthogonal to it; R's ``nls`` stops at
#: 1e-5, and so does the test here.
OFFSET_TOL = 1e-5

#: Directions of the Jacobian whose singular value is below this fraction
#: of the largest are not tested or stepped along: the data do not
#: determine them (the verdicts' :data:`~scurve.inference.verdicts.
#: MAX_CONDITION` of 1e12 on the correlation matrix is 1e-6 on J's singular
#: values), and rounding moves them at will.
RANK_CUTOFF = 1e-6

#: Where :func:`polish` aims, beyond the test: at 1e-7 the estimates are
#: within about 1e-7 standard errors of the optimum (NIST's certified
#: digits, 7 and more, on Rat42 and Rat43), and the sum of squares within
#: 1e-14 of its minimum, still above rounding (1e-8 would put it at 1e-16,
#: below: no step could be told to gain). A fit that rounding stops between
#: the two has converged.
POLISH_TOL = 1e-7

#: Starts whose sums of squares agree to this (relative) reached the same
#: optimum: the first of them is kept (a symmetric curve's mirror image is
#: the same curve, its parameters swapped).
SAME_OPTIMUM = 1e-9

#: Whether fits are taken to the optimum and tested there (:func:`polish`):
#: always, but for the benchmarks, which time the engine without it
#: (``--uncertified``) to measure what the test costs.
CERTIFY = True

#: Gauss-Newton steps of :func:`polish` per curve, and step halvings per step
#: (R's ``nls``: down to a factor 1/1024).
POLISH_STEPS = 100
POLISH_HALVINGS = 10

#: The relative step of the central differences of :func:`central_jacobian`:
#: the cube root of the machine epsilon, where truncation and rounding errors
#: meet (about 1e-10 of the derivative).
CENTRAL_STEP = 6e-6


def relative_offset(
    jac: NDArray[np.float64],
    r: NDArray[np.float64],
    free: NDArray[np.bool_],
    floor: ArrayLike = 0.0,
    constant: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    r"""Bates and Watts' relative-offset convergence criterion of each curve
    of a stack, over its `free` parameters (those on a bound held out):

    .. math:: c = \sqrt{\frac{\lVert Q_1^T r \rVert^2}
              {\lVert r \rVert^2 - \lVert Q_1^T r \rVert^2}}

    with :math:`Q_1` an orthonormal basis of the span of the free columns of
    the Jacobian `jac` (``(b, n, k)``; from the SVD of its columns scaled to
    norm 1, directions whose
    singular value is below :data:`RANK_CUTOFF` of the largest dropped, so a
    rank-deficient Jacobian is tested on the directions it has). 0 at a
    stationary point. `constant` is added to the sum of squares (the pure
    error of merged replicates); the denominator is at least `floor` (per
    curve): the sum of squares that rounding leaves in a curve through
    every point.

    References
    ----------
    D. M. Bates and D. G. Watts, "A relative offset orthogonality
    convergence criterion for nonlinear least squares", *Technometrics*
    23:179-183, 1981.
    """
    masked, _ = _unit_columns(np.where(free[:, None, :], jac, 0.0))
    with np.errstate(all="ignore"):
        u, s, _ = np.linalg.svd(masked, full_matrices=False)
    keep = s > RANK_CUTOFF * s[:, :1]
    along = np.einsum("bnk,bn->bk", u, r) * keep
    num = np.einsum("bk,bk->b", along, along)
    rss = np.einsum("bn,bn->b", r, r)
    rest = np.maximum(rss + constant - num, floor)
    with np.errstate(all="ignore"):
        offset = np.sqrt(num / rest)
    offset[num == 0] = 0.0
    offset[~np.isfinite(s).all(axis=1)] = np.inf
    return offset


def central_jacobian(
    residual: Callable[[NDArray, NDArray], NDArray],
    x: NDArray[np.float64],
    rows: NDArray[np.intp],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
) -> NDArray[np.float64]:
    """The Jacobian ``(b, n, k)`` of ``residual(x, rows)`` by central
    differences (steps of :data:`CENTRAL_STEP` of each value, at least
    absolute), one-sided (second order) where a step would cross a bound."""
    columns = []
    for j in range(x.shape[1]):
        h = CENTRAL_STEP * np.maximum(np.abs(x[:, j]), 1.0)
        up = x[:, j] + h <= upper[:, j]
        down = x[:, j] - h >= lower[:, j]
        sign = np.where(up, 1.0, -1.0)
        shifted = []
        for k in (1.0, -1.0, 2.0):
            trial = x.copy()
            trial[:, j] += np.where(up & down, k, abs(k) * sign) * h
            shifted.append(residual(trial, rows))
        centre = residual(x, rows) if not (up & down).all() else None
        both = (shifted[0] - shifted[1]) / (2 * h[:, None])
        if centre is None:
            columns.append(both)
            continue
        one = (
            sign[:, None]
            * (-3 * centre + 4 * shifted[0] - shifted[2])
            / (2 * h[:, None])
        )
        columns.append(np.where((up & down)[:, None], both, one))
    return np.stack(columns, axis=2)


@dataclass
class Polished:
    """Where :func:`polish` left each curve: `x`, its residuals `r` and
    their sum of squares `rss`, the relative offset there (`offset`, which
    :data:`OFFSET_TOL` must bound for a converged fit), the Jacobian it was
    tested with (`jacobian`, ``(b, n, k)``, zero in the columns a bound
    holds, `held`), and the residual evaluations spent (`nfev`)."""

    x: NDArray[np.float64]
    r: NDArray[np.float64]
    rss: NDArray[np.float64]
    offset: NDArray[np.float64]
    jacobian: NDArray[np.float64]
    held: NDArray[np.bool_]
    nfev: NDArray[np.int64]


def polish(
    residual: Callable[[NDArray, NDArray], NDArray],
    x: ArrayLike,
    lower: ArrayLike,
    upper: ArrayLike,
    *,
    jacobian: Callable[[NDArray, NDArray, NDArray], NDArray] | None = None,
    tol: float = POLISH_TOL,
    held: Callable[[NDArray, NDArray], NDArray] | None = None,
    floor: ArrayLike = 0.0,
    constant: ArrayLike = 0.0,
) -> Polished:
    r"""Gauss-Newton steps (with step halving, R's ``nls``), in the
    parameters themselves, from where a minimizer stopped until the relative
    offset (:func:`relative_offset`) is at most `tol`: the minimizer's
    tolerances stop it where the sum of squares no longer changes to ~1e-8,
    which on a flat optimum (Rat43) leaves the estimates 4 digits from it.

    `residual(x, rows)` gives the residuals ``(len(rows), n)`` of the curves
    `rows` at `x` ``(len(rows), k)``; `jacobian(x, r, rows)` their exact
    Jacobian (else :func:`central_jacobian`). `held(x, rows)` says which
    parameters a bound holds (left out of the test and the steps; by default
    none). `floor` and `constant` are :func:`relative_offset`'s; the
    returned `rss` leaves `constant` out. A step that would cross a bound
    is shortened to stay within it; a curve stops when no step (down to
    1/1024 of Gauss-Newton's) lowers its sum of squares, or after
    :data:`POLISH_STEPS` steps.
    """
    x = np.array(x, dtype=np.float64, ndmin=2)
    b, k = x.shape
    lower = np.broadcast_to(np.asarray(lower, dtype=np.float64), x.shape)
    upper = np.broadcast_to(np.asarray(upper, dtype=np.float64), x.shape)
    floor = np.broadcast_to(np.asarray(floor, dtype=np.float64), (b,))
    constant = np.broadcast_to(np.asarray(constant, dtype=np.float64), (b,))
    everyone = np.arange(b)
    r = residual(x, everyone)
    rss = np.einsum("bn,bn->b", r, r)
    offset = np.full(b, np.inf)
    jacobians = np.full((b, r.shape[1], k), np.nan)
    held_all = np.zeros((b, k), dtype=bool)
    nfev = np.ones(b, dtype=np.int64)
    active = everyone[np.isfinite(rss)]
    for _ in range(POLISH_STEPS + 1):
        if active.size == 0:
            break
        xa = x[active]
        if jacobian is None:
            jac = central_jacobian(residual, xa, active, lower[active], upper[active])
            nfev[active] += 2 * k
        else:
            jac = jacobian(xa, r[active], active)
            nfev[active] += k
        free = np.isfinite(jac).all(axis=1)
        if held is not None:
            free &= ~held(xa, active)
        jac = np.where(free[:, None, :], jac, 0.0)
        jacobians[active], held_all[active] = jac, ~free
        offset[active] = relative_offset(
            jac, r[active], free, floor[active], constant[active]
        )
        going = offset[active] > tol
        active, jac, xa = active[going], jac[going], xa[going]
        if active.size == 0:
            break
        with np.errstate(all="ignore"):
            step = _gauss_newton(jac, r[active])
        moved = np.zeros(active.size, dtype=bool)
        with np.errstate(all="ignore"):
            room = np.where(
                step > 0, (upper[active] - xa) / step, (lower[active] - xa) / step
            )
            factor = np.minimum(1.0, np.nanmin(np.where(step != 0, room, np.inf), 1))
        for _ in range(POLISH_HALVINGS + 1):
            trying = np.flatnonzero(~moved)
            if trying.size == 0:
                break
            rows = active[trying]
            trial = np.clip(
                xa[trying] + factor[trying, None] * step[trying],
                lower[rows],
                upper[rows],
            )
            with np.errstate(all="ignore"):
                rt = residual(trial, rows)
                rss_t = np.einsum("bn,bn->b", rt, rt)
            nfev[rows] += 1
            better = np.isfinite(rss_t) & (rss_t < rss[rows])
            took = rows[better]
            x[took], r[took], rss[took] = trial[better], rt[better], rss_t[better]
            moved[trying[better]] = True
            factor[trying[~better]] /= 2
        active = active[moved]
    return Polished(x, r, rss, offset, jacobians, held_all, nfev)


def _unit_columns(jac: NDArray[np.float64]) -> tuple[NDArray, NDArray]:
    """The Jacobians with every column scaled to norm 1 (a column below
    :data:`RANK_CUTOFF` of the largest set to 0), and the norms (1 for a zero
    column): the singular values of the scaled matrix
    are those of the parameters' correlation structure, whatever their
    units, which is what :data:`RANK_CUTOFF` is measured against."""
    norms = np.sqrt(np.einsum("bnk,bnk->bk", jac, jac))
    # a column vanishing against the largest (a rate where the curve is
    # flat, its amplitude 0) determines nothing: dropped, not blown up
    vanishing = norms <= RANK_CUTOFF * np.max(norms, axis=1, keepdims=True)
    norms = np.where(norms > 0, norms, 1.0)
    return np.where(vanishing[:, None, :], 0.0, jac / norms[:, None, :]), norms


def _gauss_newton(jac: NDArray[np.float64], r: NDArray[np.float64]) -> NDArray:
    """The least-squares steps ``-J^+ r`` of a stack, in the parameters
    scaled to unit columns (minimum norm where J is rank-deficient: singular
    values below :data:`RANK_CUTOFF` of the largest dropped)."""
    scaled, norms = _unit_columns(jac)
    u, s, vt = np.linalg.svd(scaled, full_matrices=False)
    keep = s > RANK_CUTOFF * s[:, :1]
    inv = np.where(keep, 1.0 / np.where(keep, s, 1.0), 0.0)
    coef = np.einsum("bnk,bn->bk", u, r) * inv
    return -np.einsum("bkj,bk->bj", vt, coef) / norms


def certified_covariance(
    done: Polished,
    n: NDArray[np.float64],
    covar: NDArray[np.float64],
    has: NDArray[np.bool_],
    constant: ArrayLike = 0.0,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The scaled covariance :math:`s^2 (J^T J)^{-1}` of the curves
    :func:`polish` left, from the Jacobian it tested them with (exact, or
    central differences: NIST's certified standard errors to 5 digits and
    more, where lmfit's forward differences in its internal coordinates
    lose 2 near a bound). A curve with a parameter held by a bound keeps
    the minimizer's `covar` (and `has`), whose internal coordinates say how
    the bound holds it. `n` are the curves' numbers of points, `constant`
    the pure error of merged replicates."""
    b, k = done.x.shape
    constant = np.broadcast_to(np.asarray(constant, dtype=np.float64), (b,))
    unbounded = Bounds(np.full((b, k), -np.inf), np.full((b, k), np.inf))
    _, new, usable = jacobian_covariance(
        done.jacobian, done.x, unbounded, done.rss + constant, n
    )
    usable &= np.isfinite(done.jacobian).all(axis=(1, 2))
    usable &= ~done.held.any(axis=1)
    return (
        np.where(usable[:, None, None], new, covar),
        np.where(usable, True, has),
    )
