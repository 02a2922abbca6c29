r"""The maximum specific growth rate by "easylinear": growth rates made easy.

Hall, Acar, Nandipati and Barlow's method (2014), as R growthrates'
``fit_easylinear`` computes it, with no model: on ln y, a straight line
through every window of ``h`` consecutive points; the steepest slope
:math:`b_{max}`; then one line through every point from the first window
whose slope is at least ``quota`` x :math:`b_{max}` to the last such
window (the points between them included). Its slope is ``mumax``, with
its standard error; the lag is where the line meets ln y of the first
point, :math:`\lambda = (\ln y_1 - a) / \mu_{max}`.

Windows are tried as growthrates tries them: starting at points
1 ... N - h, so the window that ends at the last point is never tried.
Differences from growthrates, chosen: the points of a curve are taken in
the order of time (growthrates takes them as given; they agree on data in
time order), and a curve it would stop on (a value of 0 or below,
duplicated times, too few points, no growing window) is a row with a
status and a message, the other curves being fitted.

Every curve of a plate is computed at once, over a stack (one curve is a
stack of one): a 384-well plate takes a few milliseconds.

References
----------
.. [1] B. G. Hall, H. Acar, A. Nandipati, M. Barlow, "Growth rates made
   easy", Mol. Biol. Evol. 31:232-238, 2014.
.. [2] T. Petzoldt, growthrates: Estimate Growth Rates from Experimental
   Data, R package, ``fit_easylinear``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core.stacked import masked_line
from scurve.errors import OptionError
from scurve.models.growth import window_lines

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["EASYLINEAR_COLUMNS", "check_options", "easylinear", "easylinear_stack"]

#: The columns of an easylinear table after the group keys, in order.
EASYLINEAR_COLUMNS = (
    "mumax",
    "mumax_stderr",
    "y0",
    "y0_lm",
    "lag",
    "doubling_time",
    "r2",
    "n",
    "t_first",
    "t_last",
    "status",
    "message",
)


def check_options(window: Any, quota: Any) -> None:
    """Refuse a window that is not a whole number of points of at least 2
    (growthrates' ``h``), or a quota outside (0, 1].

    Raises
    ------
    OptionError
        Naming ``window`` or ``quota``.
    """
    whole = isinstance(window, (int, np.integer)) or (
        isinstance(window, float) and window.is_integer()
    )
    if isinstance(window, bool) or not whole or window < 2:
        raise OptionError(
            "window",
            f"must be a whole number of points, at least 2, not {_shown(window)}",
        )
    if not (isinstance(quota, (int, float)) and 0 < quota <= 1):
        raise OptionError("quota", f"must be in (0, 1], not {_shown(quota)}")


def _shown(value: Any) -> str:
    """A number as ``%g`` writes it, anything else as its repr."""
    return f"{value:g}" if isinstance(value, (int, float)) else repr(value)


def _refusals(
    t: NDArray[np.float64], y: NDArray[np.float64], mask: NDArray[np.bool_], h: int
) -> NDArray[np.object_]:
    """Why each curve (sorted by time) cannot be fitted, or ``""``."""
    messages = np.full(len(t), "", dtype=object)
    count = mask.sum(axis=1)
    low = mask & ~(y > 0)
    same = mask[:, 1:] & mask[:, :-1] & (t[:, 1:] == t[:, :-1])
    for c in np.flatnonzero(low.any(axis=1) | same.any(axis=1) | (count <= h)):
        if low[c].any():
            bad = int(low[c].sum())
            verb = "is" if bad == 1 else "are"
            first = t[c, np.argmax(low[c])]
            messages[c] = (
                "easylinear needs positive values (it takes ln y): "
                f"{bad} of {count[c]} {verb} 0 or below, first at time {first:g}"
            )
        elif same[c].any():
            value = t[c, np.argmax(same[c])]
            times = int(np.sum(mask[c] & (t[c] == value)))
            messages[c] = (
                f"easylinear needs distinct times: time {value:g} appears {times} times"
            )
        else:
            messages[c] = (
                f"a window of {h} points needs at least {h + 1} points; "
                f"the curve has {count[c]}"
            )
    return messages


def easylinear_stack(
    t: NDArray[np.float64],
    y: NDArray[np.float64],
    mask: NDArray[np.bool_],
    window: int = 5,
    quota: float = 0.95,
) -> dict[str, NDArray[Any]]:
    """easylinear over a stack of curves (shape ``(b, n)``, `mask` False on
    padding, points in any order): the columns of
    :data:`EASYLINEAR_COLUMNS`, one value per curve.

    Raises
    ------
    OptionError
        A `window` or `quota` out of range (:func:`check_options`).
    """
    check_options(window, quota)
    h = int(window)
    order = np.argsort(np.where(mask, t, np.inf), axis=1, kind="stable")
    t, y, mask = (np.take_along_axis(a, order, axis=1) for a in (t, y, mask))
    b, n = t.shape
    out: dict[str, NDArray[Any]] = {
        c: np.full(b, math.nan) for c in EASYLINEAR_COLUMNS[:-2]
    }
    out["n"] = np.zeros(b, dtype=np.int64)
    out["status"] = np.full(b, "failed", dtype=object)
    out["message"] = _refusals(t, y, mask, h)
    good = out["message"] == ""
    if n <= h or not good.any():
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.log(np.where(mask & (y > 0), y, 1.0))
    lines = window_lines(t, z, mask, h)
    # growthrates tries windows 1 ... N - h: each needs the point after it
    from numpy.lib.stride_tricks import sliding_window_view

    tried = sliding_window_view(mask, h + 1, axis=1).all(axis=2)
    slopes = np.where(tried, lines["slope"][:, : n - h], -np.inf)
    steepest = slopes.max(axis=1)
    growing = good & (steepest > 0)
    for c in np.flatnonzero(good & ~growing):
        out["status"][c] = "flat"
        out["message"][c] = (
            f"no growing window of {h} points: the steepest slope on ln y is "
            f"{steepest[c]:.6g}"
        )
    within = slopes >= quota * steepest[:, None]
    first = np.argmax(within, axis=1)
    last = n - h - 1 - np.argmax(within[:, ::-1], axis=1) + h - 1
    index = np.arange(n)
    used = mask & (index >= first[:, None]) & (index <= last[:, None])
    slope, intercept = masked_line(t, z, used)
    count = used.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean_t = np.sum(np.where(used, t, 0.0), axis=1) / count
        sxx = np.sum(np.where(used, (t - mean_t[:, None]) ** 2, 0.0), axis=1)
        resid = np.where(used, z - (slope[:, None] * t + intercept[:, None]), 0.0)
        rss = np.sum(resid**2, axis=1)
        mean_z = np.sum(np.where(used, z, 0.0), axis=1) / count
        szz = np.sum(np.where(used, (z - mean_z[:, None]) ** 2, 0.0), axis=1)
        values = {
            "mumax": slope,
            "mumax_stderr": np.sqrt(rss / (count - 2) / sxx),
            "y0": y[:, 0],
            "y0_lm": np.exp(intercept),
            "lag": (z[:, 0] - intercept) / slope,
            "doubling_time": math.log(2) / slope,
            "r2": 1.0 - rss / szz,
            "t_first": t[index[None, :] == first[:, None]],
            "t_last": t[index[None, :] == last[:, None]],
        }
    for name, value in values.items():
        out[name] = np.where(growing, value, math.nan)
    out["y0"] = np.where(good, y[:, 0], math.nan)
    out["n"] = np.where(growing, count, 0)
    out["status"][growing] = "ok"
    out["message"][growing] = [
        f"a line through {k} points on ln y (windows of {h})" for k in count[growing]
    ]
    return out


def _frame(
    columns: dict[str, NDArray[Any]], keys: Sequence[str], groups: Sequence[tuple]
) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(
        {k: [g[i] for g in groups] for i, k in enumerate(keys)}
        | {c: columns[c] for c in EASYLINEAR_COLUMNS}
    )
    return frame


def easylinear(
    t: ArrayLike,
    y: ArrayLike,
    *,
    window: int = 5,
    quota: float = 0.95,
) -> pd.DataFrame:
    """easylinear on one curve: a table of one row (:data:`EASYLINEAR_COLUMNS`).

    Parameters
    ----------
    t, y : array_like
        Times and the population (counts, optical densities; positive).
    window : int
        Points in each window (growthrates' ``h``), at least 2.
    quota : float
        Windows whose slope is at least this fraction of the steepest are
        joined, with every point between them.

    Returns
    -------
    pandas.DataFrame
        ``mumax`` (per unit of t) and ``mumax_stderr``, ``y0`` (the first
        reading), ``y0_lm`` (the line at t = 0), ``lag``,
        ``doubling_time`` (ln 2 / mumax), ``r2`` of the line on ln y, ``n``
        points used from ``t_first`` to ``t_last``, ``status`` (ok, flat:
        no growing window, failed) and ``message``.

    Raises
    ------
    OptionError
        A `window` or `quota` out of range.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(10.0)
    >>> row = easylinear(t, 0.01 * np.exp(0.4 * np.maximum(t - 2, 0))).iloc[0]
    >>> round(float(row["mumax"]), 6), round(float(row["lag"]), 6)
    (0.4, 2.0)
    """
    t = np.asarray(t, dtype=np.float64).reshape(1, -1)
    y = np.asarray(y, dtype=np.float64).reshape(1, -1)
    columns = easylinear_stack(t, y, np.ones(t.shape, dtype=bool), window, quota)
    return _frame(columns, [], [()])


def easylinear_groups(
    groups: dict[tuple, tuple[NDArray, NDArray]],
    keys: Sequence[str],
    *,
    window: int = 5,
    quota: float = 0.95,
) -> pd.DataFrame:
    """easylinear on every group at once: ``{key: (t, y)}`` -> one row per
    group, the `keys` first (what ``scurve.fit(..., "easylinear")`` returns).
    """
    from scurve.core.stacked import padded

    check_options(window, quota)
    names = list(groups)
    if not names:
        return _frame({c: np.array([]) for c in EASYLINEAR_COLUMNS}, keys, [])
    ts = [np.asarray(groups[k][0], dtype=np.float64) for k in names]
    ys = [np.asarray(groups[k][1], dtype=np.float64) for k in names]
    t, y, _, mask = padded(ts, ys, [None] * len(names))
    return _frame(easylinear_stack(t, y, mask, window, quota), keys, names)
