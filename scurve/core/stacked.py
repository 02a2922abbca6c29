r"""Kernels over stacks of curves: what the vectorized engine and the models'
vectorized self-starts compute row by row, without a Python loop per curve.

A *stack* is a ``(b, n)`` array of b curves' points (padded, with a mask of
the real points) or a ``(b, p, p)`` array of b small matrices. The Cholesky
factorization here works element by element over the stack: a few dozen
array operations, where LAPACK pays a call per matrix (for stacks of at least
:data:`CHOLESKY_STACK` systems it is the faster).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "CHOLESKY_STACK",
    "at",
    "cholesky",
    "cholesky_inverse",
    "masked_line",
    "padded",
    "row_median",
    "solve",
    "sorted_rows",
    "substitute",
]


def cholesky(m: NDArray, least: float = 0.0) -> tuple[list[list[NDArray]], NDArray]:
    """The Cholesky factors of the symmetric matrices ``m`` (shape
    ``(n, p, p)``), element by element over the stack: a few dozen array
    operations, where LAPACK pays a call per matrix. Returns the lower
    factor as nested lists of ``(n,)`` arrays and which matrices have every
    pivot (before its square root) finite and above `least`; the others'
    factors are not to be used."""
    p = m.shape[1]
    mt = np.moveaxis(m, 0, -1)  # (p, p, n) views
    low = [[np.empty(0)] * p for _ in range(p)]
    good = np.ones(m.shape[0], dtype=bool)
    with np.errstate(all="ignore"):
        for j in range(p):
            pivot = mt[j, j] - _total(low[j][k] ** 2 for k in range(j))
            good &= pivot > least  # NaN too
            low[j][j] = np.sqrt(pivot)
            for i in range(j + 1, p):
                dot = _total(low[i][k] * low[j][k] for k in range(j))
                low[i][j] = (mt[i, j] - dot) / low[j][j]
    return low, good


def _total(terms: Iterable[NDArray]) -> NDArray | float:
    """``sum(terms, 0.0)`` without the addition of 0.0 (an array operation
    that changes nothing), in place into the first term, which must be a
    new array."""
    total: NDArray | float = 0.0
    for k, term in enumerate(terms):
        if k == 0:
            total = term
        else:
            total += term
    return total


def substitute(low: list[list[NDArray]], b: NDArray) -> NDArray:
    """``x`` with ``L L^T x = b`` for the factors `low` of :func:`cholesky`
    and right-hand sides `b` of shape ``(n, p)``."""
    p = b.shape[1]
    with np.errstate(all="ignore"):
        y: list[NDArray] = []
        for i in range(p):  # L y = b
            dot = _total(low[i][k] * y[k] for k in range(i))
            y.append((b[:, i] - dot) / low[i][i])
        x: list[NDArray] = [np.empty(0)] * p
        for i in reversed(range(p)):  # L^T x = y
            dot = _total(low[k][i] * x[k] for k in range(i + 1, p))
            x[i] = (y[i] - dot) / low[i][i]
    return np.stack(x, axis=1)


def cholesky_inverse(low: list[list[NDArray]]) -> NDArray:
    """The inverses ``(L L^T)^-1``, shape ``(n, p, p)``, from the factors of
    :func:`cholesky`, column by column."""
    p, n = len(low), low[0][0].shape[0]
    columns = [substitute(low, np.broadcast_to(e, (n, p))) for e in np.eye(p)]
    return np.stack(columns, axis=2)


#: Stacks of at least this many systems are solved by
#: :func:`cholesky`
#: (below it, its numpy calls cost more than LAPACK's per-matrix ones).
CHOLESKY_STACK = 256


def solve(m: NDArray, b: NDArray) -> NDArray:
    """``m[i]^-1 b[i]`` over a stack: Cholesky for large stacks of positive
    definite systems, LAPACK's LU for the rest, least squares one by one
    where that fails (a NaN somewhere)."""
    x = np.empty_like(b)
    rest = np.arange(len(b))
    if len(b) >= CHOLESKY_STACK:
        low, good = cholesky(m)
        x = substitute(low, b)
        rest = np.flatnonzero(~good)
    if rest.size:
        try:
            x[rest] = np.linalg.solve(m[rest], b[rest][:, :, None])[:, :, 0]
        except np.linalg.LinAlgError:
            x[rest] = [
                np.linalg.lstsq(mi, bi, rcond=None)[0]
                for mi, bi in zip(m[rest], b[rest], strict=True)
            ]
    return x


def sorted_rows(
    x: NDArray[np.float64], y: NDArray[np.float64], mask: NDArray[np.bool_]
) -> tuple[NDArray, NDArray, NDArray[np.intp]]:
    """Each row's points in ascending x (stable; padding last), and the
    number of points per row: the sort of a self-start, over a stack of
    curves (``(n_curves, n_points)``, `mask` False on padding)."""
    key = np.where(mask, x, np.inf)
    order = np.argsort(key, axis=1, kind="stable")
    xs = np.take_along_axis(key, order, axis=1)
    ys = np.take_along_axis(np.where(mask, y, 0.0), order, axis=1)
    return xs, ys, mask.sum(axis=1)


def at(values: NDArray, index: NDArray) -> NDArray:
    """``values[c, index[c]]`` for every row c."""
    return np.take_along_axis(values, np.asarray(index)[:, None], axis=1)[:, 0]


def row_median(xs: NDArray, n: NDArray) -> NDArray:
    """The median of each row's first ``n`` values, sorted ascending."""
    return (at(xs, (n - 1) // 2) + at(xs, n // 2)) / 2


def masked_line(
    x: NDArray[np.float64], z: NDArray[np.float64], ok: NDArray[np.bool_]
) -> tuple[NDArray, NDArray]:
    r"""Least-squares lines :math:`z = a x + b` through each row's points
    where `ok` (``np.polyfit(x[ok], z[ok], 1)`` row by row, in centred
    form: :math:`a = \sum (x - \bar x)(z - \bar z) / \sum (x - \bar
    x)^2`). Rows with fewer than two points or no spread in x give NaN."""
    with np.errstate(all="ignore"):
        count = ok.sum(axis=1)
        xm = np.sum(np.where(ok, x, 0.0), axis=1) / count
        zm = np.sum(np.where(ok, z, 0.0), axis=1) / count
        dx = np.where(ok, x - xm[:, None], 0.0)
        dz = np.where(ok, z - zm[:, None], 0.0)
        slope = np.sum(dx * dz, axis=1) / np.sum(dx * dx, axis=1)
        intercept = zm - slope * xm
    return slope, intercept


def padded(
    xs: Sequence[NDArray], ys: Sequence[NDArray], ws: Sequence[NDArray | None]
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Curves of different lengths as ``(b, longest)`` arrays: x, y, weights
    (1 where None) and the mask of real points; padding repeats each
    curve's first point, with weight 0. One scatter, not a loop."""
    lengths = np.fromiter(map(len, ys), dtype=np.intp, count=len(ys))
    size = int(lengths.max())
    if lengths.min() == size and all(weights is None for weights in ws):
        shape = (len(ys), size)  # a screen: no padding, no weights
        x, y = np.concatenate(xs).reshape(shape), np.concatenate(ys).reshape(shape)
        return x, y, np.ones(shape), np.ones(shape, dtype=bool)
    mask = np.arange(size) < lengths[:, None]
    starts = np.cumsum(lengths) - lengths
    firsts = np.minimum(starts, max(int(lengths.sum()) - 1, 0))
    flat_x, flat_y = np.concatenate(xs), np.concatenate(ys)
    x = np.repeat(flat_x[firsts][:, None], size, axis=1)
    y = np.repeat(flat_y[firsts][:, None], size, axis=1)
    x[mask], y[mask] = flat_x, flat_y
    w = np.zeros((len(ys), size))
    if all(weights is None for weights in ws):
        w[mask] = 1.0
    else:
        w[mask] = np.concatenate(
            [np.ones(n) if v is None else v for v, n in zip(ws, lengths, strict=True)]
        )
    return x, y, w, mask
