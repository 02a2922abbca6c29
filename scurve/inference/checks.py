"""What must hold of the data before a curve is fitted, said in plain words.

:func:`clean` makes one curve's points float arrays and refuses what no fit
can take (NaN, negative weights); :func:`refusals` gives, for every curve of
a stack, why it cannot be fitted by a model (too few points, constant data,
what the model itself refuses), or ``""``. Every path runs both; a curve
with a reason is not fitted, and a table of groups reports it as
``failed`` with that reason.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import attrgetter

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.errors import FitError
from scurve.models.base import SCurveModel

__all__ = ["MAGNITUDES", "binomial_points", "clean", "clean_many", "refusals"]

Points = tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64] | None]


def clean(x: ArrayLike, y: ArrayLike, weights: ArrayLike | None) -> Points:
    """One curve's points as float arrays, checked before anything looks at
    them.

    Points with weight 0 carry no information and are dropped, as R's
    ``nls``/``lm`` do, so that they count neither in the degrees of freedom
    nor in the log-likelihood.

    Raises
    ------
    FitError
        x and y not 1-D of one length, NaN or infinite points, weights of
        another shape or not finite and >= 0.
    """
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise FitError(
            f"x and y must be 1-D of one length, got {x.shape} and {y.shape}"
        )
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        raise FitError(f"{int(bad.sum())} points are NaN or infinite; drop them first")
    if weights is None:
        return x, y, None
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != y.shape:
        raise FitError(f"weights have shape {w.shape}, the data {y.shape}")
    bad_w = ~np.isfinite(w) | (w < 0)
    if bad_w.any():
        raise FitError(
            f"weights must be finite and >= 0: {int(bad_w.sum())} are NaN, "
            "infinite or negative"
        )
    keep = w > 0
    return x[keep], y[keep], w[keep]


def clean_many(
    groups: Mapping[tuple, tuple[ArrayLike, ArrayLike, ArrayLike | None]],
    keys: Sequence[tuple],
) -> tuple[dict[tuple, Points], dict[tuple, str]]:
    """:func:`clean` of each group of `keys`: the cleaned points, and the
    messages of the groups it refuses. Checked all at once where every group
    is two finite float arrays of one length without weights (a screen),
    else group by group."""
    data = [groups[key] for key in keys]
    xs, ys, ws = zip(*data, strict=True) if data else ((), (), ())
    arrays = xs + ys
    plain = (
        bool(data)
        and set(map(type, arrays)) == {np.ndarray}
        and set(map(id, ws)) == {id(None)}
        and set(map(attrgetter("dtype"), arrays)) == {np.dtype(np.float64)}
        and set(map(attrgetter("ndim"), arrays)) == {1}
        and list(map(len, xs)) == list(map(len, ys))
    )
    if plain and all(np.isfinite(np.concatenate(a)).all() for a in (xs, ys)):
        return dict(zip(keys, zip(xs, ys, ws, strict=True), strict=True)), {}
    if _positive_weights(xs, ys, ws):  # binomial trials: checked at once
        return dict(zip(keys, zip(xs, ys, ws, strict=True), strict=True)), {}
    cleaned, refused = {}, {}
    for key, group in zip(keys, data, strict=True):
        try:
            cleaned[key] = clean(*group)
        except FitError as exc:
            refused[key] = str(exc)
    return cleaned, refused


def _positive_weights(xs: Sequence, ys: Sequence, ws: Sequence) -> bool:
    """Every group three finite 1-D float arrays of one length, weights > 0
    (what :func:`clean` keeps as they are)."""
    arrays = (*xs, *ys, *ws)
    if not xs or set(map(type, arrays)) != {np.ndarray}:
        return False
    if set(map(attrgetter("dtype"), arrays)) != {np.dtype(np.float64)}:
        return False
    if set(map(attrgetter("ndim"), arrays)) != {1}:
        return False
    sizes = list(map(len, xs))
    if sizes != list(map(len, ys)) or sizes != list(map(len, ws)):
        return False
    x, y, w = (np.concatenate(a) for a in (xs, ys, ws))
    finite = np.isfinite(x).all() and np.isfinite(y).all() and np.isfinite(w).all()
    return bool(finite and np.all(w > 0))


def refusals(
    model: SCurveModel,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    mask: NDArray[np.bool_],
    nvarys: int,
) -> NDArray[np.object_]:
    """Why each curve of a stack cannot be fitted, or ``""``, the first
    reason in this order: no points; responses <= 0 on the log scale; data
    beyond the magnitudes a fit handles (:data:`MAGNITUDES`); what the model
    refuses (:meth:`~scurve.models.base.SCurveModel.check_data`);
    no more points than free parameters; all x equal; constant y."""
    b = len(x)
    out = np.full(b, "", dtype=object)
    n = mask.sum(axis=1)
    out[n == 0] = "no data points"
    if model.log_y:
        bad = mask & (y <= 0)
        for c in np.flatnonzero(bad.any(axis=1) & (out == "")):
            low = float(np.min(y[c][mask[c]]))
            out[c] = (
                f"log_y needs positive responses: {int(bad[c].sum())} of {n[c]} are "
                f"<= 0 (the smallest is {low:g})"
            )
    for c in _maybe_out_of_range(model, x, y, mask, out):
        out[c] = _out_of_range(model, x[c][mask[c]], y[c][mask[c]])
    todo = np.flatnonzero(out == "")
    if todo.size:
        own = model.check_data(x[todo], y[todo], mask[todo])
        for c, message in zip(todo, own, strict=True):
            if message:
                out[c] = message
    first_x = x[:, :1]
    first_y = y[:, :1]
    same_x = ~np.any(mask & (x != first_x), axis=1)
    same_y = ~np.any(mask & (y != first_y), axis=1)
    for c in np.flatnonzero(out == ""):
        if n[c] <= nvarys:
            out[c] = (
                f"{n[c]} points for {nvarys} free parameters: need at least "
                f"{nvarys + 1} to fit and estimate the error"
            )
        elif same_x[c]:
            out[c] = (
                f"all x are equal ({x[c, 0]:g}): the curve's shape is not determined"
            )
        elif same_y[c]:
            out[c] = f"y is constant ({y[c, 0]:g}): there is no S-curve to fit"
    return out


#: The magnitudes (largest absolute value) of x and y a fit handles: beyond
#: them sums of squares overflow or underflow. x on a log axis (doses) is
#: fitted on the log scale, at any magnitude.
MAGNITUDES = (1e-100, 1e100)


def _maybe_out_of_range(
    model: SCurveModel,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    mask: NDArray[np.bool_],
    out: NDArray[np.object_],
) -> NDArray[np.intp]:
    """The curves not yet refused whose data may be beyond
    :data:`MAGNITUDES` (:func:`_out_of_range` says), found for the stack at
    once."""
    low, high = MAGNITUDES
    suspect = np.zeros(len(x), dtype=bool)
    for axis, values in (("x", x), ("y", y)):
        if axis == "x" and model.log_x:
            continue
        size = np.max(np.where(mask, np.abs(values), 0.0), axis=1, initial=0.0)
        suspect |= (size != 0) & ~((low <= size) & (size <= high))
    return np.flatnonzero(suspect & (out == ""))


def _out_of_range(
    model: SCurveModel, x: NDArray[np.float64], y: NDArray[np.float64]
) -> str:
    """Why data of one curve are beyond :data:`MAGNITUDES`, or ``""``:
    tiny data are not constant, they are to be rescaled."""
    low, high = MAGNITUDES
    for axis, values in (("x", x), ("y", y)):
        if (axis == "x" and model.log_x) or not values.size:
            continue
        size = float(np.max(np.abs(values)))
        if size and not low <= size <= high:
            return (
                f"{axis} reaches {size:g} in magnitude, beyond the range a fit "
                f"handles ({low:g} to {high:g}): rescale {axis} (other units)"
            )
    return ""


def binomial_points(
    x: ArrayLike, responders: ArrayLike, trials: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Quantal data (k responders of n trials at each x) as the binomial
    likelihood takes them: x, the proportions k/n and n, the points with no
    trials dropped.

    Raises
    ------
    FitError
        Arrays of different lengths, counts that are not whole numbers >= 0
        (naming the first point), responders > trials.
    """
    k = np.asarray(responders, dtype=np.float64)
    n = np.asarray(trials, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    if not (k.shape == n.shape == x.shape):
        raise FitError("x, responders and trials must have one length")
    for name, counts in (("responders", k), ("trials", n)):
        bad = np.flatnonzero(
            ~np.isfinite(counts) | (counts < 0) | (counts != np.rint(counts))
        )
        if bad.size:
            i = int(bad[0])
            raise FitError(
                f"{name} must be counts (whole numbers >= 0): {counts[i]:g} "
                f"at point {i + 1}"
            )
    over = np.flatnonzero(k > n)
    if over.size:
        i = int(over[0])
        raise FitError(
            f"trials < responders at point {i + 1}: {k[i]:g} responders of "
            f"{n[i]:g} trials ({over.size} such points)"
        )
    keep = n > 0
    x, k, n = x[keep], k[keep], n[keep]
    return x, k / np.where(n > 0, n, 1.0), n
