r"""drc's covariance from the full Hessian of the sum of squares, over stacks.

R's drc reports :math:`2 s^2 H^{-1}`, :math:`H` the Hessian of the residual
sum of squares, where lmfit reports :math:`s^2 (J^T J)^{-1}`; the two differ
in the third digit on ordinary dose-response data. A model that asks for it
(``covariance = "hessian"``) gets it on every path: the Hessian comes from
the model's derivatives (:func:`derivative_hessian`) where it has them and
no parameter lies within a step of a bound, else from central differences
of the sum of squares (:func:`numeric_hessian`), the steps being
:data:`HESSIAN_STEP` standard errors (from :math:`J^T J`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from scurve.core import stacked

__all__ = [
    "HESSIAN_STEP",
    "derivative_hessian",
    "hessian_covariance",
    "near_bound",
    "numeric_hessian",
    "stack_hessian_covariance",
]

#: ``jacobian(values)`` -> the Jacobian ``(b, n, k)`` of the weighted
#: residuals of a stack of ``(b, k)`` parameter vectors.
Jacobian = Callable[[NDArray[np.float64]], NDArray[np.float64]]

#: The steps of the Hessians of the sums of squares, relative to the
#: standard errors from J'J: small enough that the differences' truncation
#: error stays below the printed digits (about 1e-7 of H), large enough that
#: rounding does too.
HESSIAN_STEP = 1e-3


def numeric_hessian(
    rss: Callable[[NDArray[np.float64]], NDArray[np.float64]],
    values: NDArray[np.float64],
    steps: NDArray[np.float64],
) -> NDArray[np.float64]:
    r"""The Hessian of sums of squares by central differences, over a stack:
    `rss` evaluates each row of a ``(b, k)`` array of parameter vectors;
    `steps` (``(b, k)``) are the :math:`h_i`; a row whose steps are not all
    finite and positive gets NaN.

    .. math:: H_{ii} \approx \frac{S(\theta + h_i e_i) - 2 S(\theta)
              + S(\theta - h_i e_i)}{h_i^2}, \quad
              H_{ij} \approx \frac{S_{++} - S_{+-} - S_{-+} + S_{--}}
              {4 h_i h_j}

    For models without derivatives, or a parameter within a step of its
    bound (the step is clipped there); :func:`derivative_hessian` is the
    better where it applies.
    """
    b, k = values.shape
    good = np.all(np.isfinite(steps) & (steps > 0), axis=1)
    steps = np.where(good[:, None], steps, 1.0)
    hess = np.empty((b, k, k))

    def shifted(offsets: dict[int, float]) -> NDArray[np.float64]:
        trial = values.copy()
        for i, sign in offsets.items():
            trial[:, i] += sign * steps[:, i]
        return rss(trial)

    centre = rss(values)
    known = {(i, sign): shifted({i: sign}) for i in range(k) for sign in (1.0, -1.0)}
    for i in range(k):
        for j in range(i, k):
            hi, hj = steps[:, i], steps[:, j]
            if i == j:
                value = (known[i, 1.0] - 2 * centre + known[i, -1.0]) / hi**2
            else:
                value = (
                    shifted({i: 1.0, j: 1.0})
                    - shifted({i: 1.0, j: -1.0})
                    - shifted({i: -1.0, j: 1.0})
                    + shifted({i: -1.0, j: -1.0})
                ) / (4 * hi * hj)
            hess[:, i, j] = hess[:, j, i] = value
    hess[~good] = np.nan
    return hess


def derivative_hessian(
    jacobian: Jacobian,
    values: NDArray[np.float64],
    steps: NDArray[np.float64],
    residuals: NDArray[np.float64],
    linear: Sequence[int] = (),
    centre: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    r"""The Hessian of sums of squares :math:`S = \sum_n r_n^2` from the
    residuals' derivatives, over a stack of ``(b, k)`` parameter vectors
    `values` with `residuals` ``(b, n)`` there:

    .. math:: H = 2 J^T J + 2 M, \quad
              M_{ij} = \sum_n r_n \frac{\partial^2 r_n}
              {\partial\theta_i \partial\theta_j}
              \approx \sum_n r_n \frac{\partial_i r_n|_{\theta + h_j e_j}
              - \partial_i r_n|_{\theta - h_j e_j}}{2 h_j}

    (:math:`M` made symmetric). `jacobian(values)` is :math:`J`, ``(b, n,
    k)``, analytic (the model's partials); `centre`, if given, is its value
    at `values`. Along the `linear` columns (the model's ``linear_params``)
    the residuals are linear: :math:`\partial^2 r / \partial\beta_l
    \partial\beta_m = 0`, and the mixed terms come from the other columns'
    differences, so only those are differenced: 4 Jacobians for the 4PL (1
    more without `centre`).

    Differencing the exact first derivatives, not :math:`S`, the truncation
    error is :math:`O(h^2)` in the curve's third derivatives and rounding is
    :math:`O(\epsilon / h)`, not :math:`O(\epsilon / h^2)`: with steps of
    :data:`HESSIAN_STEP` standard errors, H agrees with the closed-form
    Hessian of the 4PL to about 1e-7, where central second differences of
    :math:`S` with 10x those steps are 1e-5 off. A row whose steps are not
    all finite and positive gets NaN.
    """
    b, k = values.shape
    good = np.all(np.isfinite(steps) & (steps > 0), axis=1)
    steps = np.where(good[:, None], steps, 1.0)
    jac = jacobian(values) if centre is None else centre
    lin = np.isin(np.arange(k), list(linear))
    second = np.zeros((b, k, k))  # column j: d(J^T r)/d theta_j, r held
    for j in np.flatnonzero(~lin):
        pulls = []
        for sign in (1.0, -1.0):
            trial = values.copy()
            trial[:, j] += sign * steps[:, j]
            pulls.append((residuals[:, None, :] @ jacobian(trial))[:, 0, :])
        second[:, :, j] = (pulls[0] - pulls[1]) / (2 * steps[:, j, None])
    # the linear columns' entries are their rows' (transposed); the others'
    # the mean of both differences
    second += second.transpose(0, 2, 1)
    second *= np.where(lin[:, None] | lin[None, :], 1.0, 0.5)
    hess = 2 * (jac.transpose(0, 2, 1) @ jac + second)
    hess[~good] = np.nan
    return hess


def near_bound(
    values: NDArray[np.float64],
    steps: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
) -> NDArray[np.bool_]:
    """Which rows of a ``(b, k)`` stack of parameter vectors have a parameter
    within its step of a bound: their Hessian is taken by
    :func:`numeric_hessian` (the step clipped at the bound), the others' by
    :func:`derivative_hessian`. A NaN step is near nothing."""
    with np.errstate(invalid="ignore"):
        return np.any((values - steps < lower) | (values + steps > upper), axis=1)


def hessian_covariance(
    hess: NDArray[np.float64],
    covar: NDArray[np.float64],
    usable: NDArray[np.bool_],
    dispersion: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    r"""drc's covariance :math:`2 s^2 H^{-1}` of a stack of curves, from the
    Hessians `hess` (``(b, k, k)``) of their sums of squares;
    `dispersion` is :math:`s^2`, the residual variance (1 for a likelihood
    with a known scale).

    Curves that are not `usable`, whose Hessian is not finite or not
    positive definite keep `covar`; returns the covariances and which
    curves got the Hessian's.
    """
    k = hess.shape[1]
    usable = usable & np.all(np.isfinite(hess), axis=(1, 2))
    hess = np.where(usable[:, None, None], hess, np.eye(k))
    low, positive = stacked.cholesky(hess)  # positive definite: every pivot > 0
    usable = usable & positive
    new = 2 * np.asarray(dispersion)[:, None, None] * stacked.cholesky_inverse(low)
    return np.where(usable[:, None, None], new, covar), usable


def stack_hessian_covariance(
    *,
    values: NDArray[np.float64],
    covar: NDArray[np.float64],
    usable: NDArray[np.bool_],
    dispersion: NDArray[np.float64],
    lower: NDArray[np.float64],
    upper: NDArray[np.float64],
    rss: Callable[[NDArray[np.float64], NDArray[np.intp]], NDArray[np.float64]],
    jacobian: Callable[[NDArray[np.float64], NDArray[np.intp]], NDArray[np.float64]]
    | None = None,
    residuals: NDArray[np.float64] | None = None,
    linear: Sequence[int] = (),
    centre: NDArray[np.float64] | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The covariance :math:`2 s^2 H^{-1}` of each curve of a stack, where it
    can be had (:func:`hessian_covariance`); the others keep `covar`.

    Parameters
    ----------
    values : ndarray, shape (b, k)
        The fitted (varied) parameters; `lower`, `upper` their bounds.
    covar : ndarray, shape (b, k, k)
        The covariance from :math:`J^T J`, whose standard errors set the
        steps.
    usable : ndarray of bool
        The curves to try (a covariance to start from, residual degrees of
        freedom).
    dispersion : ndarray
        :math:`s^2` of each curve.
    rss : callable
        ``rss(values, rows)``: the sums of squares of the curves `rows` at
        parameter vectors `values` (clipped to the bounds by the caller).
    jacobian : callable, optional
        ``jacobian(values, rows)``: the Jacobian ``(len(rows), n, k)`` of
        the residuals from the model's derivatives; None (no derivatives, or
        residuals that are not the curve's) differences `rss`.
    residuals : ndarray, shape (b, n), optional
        The residuals at `values` (model - data, weighted), with `jacobian`.
    linear : sequence of int
        The columns of the model's linear parameters.
    centre : ndarray, shape (b, n, k), optional
        The Jacobian at `values`, if known.
    """
    with np.errstate(invalid="ignore"):
        steps = HESSIAN_STEP * np.sqrt(np.einsum("bjj->bj", covar))
    if jacobian is None:
        near = np.ones(len(values), dtype=bool)
    else:
        near = near_bound(values, steps, lower, upper)
    hess = np.full(covar.shape, np.nan)
    for rows in (np.flatnonzero(~near), np.flatnonzero(near)):
        if rows.size == 0:
            continue
        if near[rows[0]]:
            hess[rows] = numeric_hessian(
                lambda trial, rows=rows: rss(trial, rows), values[rows], steps[rows]
            )
        else:
            assert jacobian is not None
            assert residuals is not None
            hess[rows] = derivative_hessian(
                lambda trial, rows=rows: jacobian(trial, rows),
                values[rows],
                steps[rows],
                residuals[rows],
                linear,
                None if centre is None else centre[rows],
            )
    return hessian_covariance(hess, covar, usable, dispersion)
