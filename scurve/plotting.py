"""Plots of S-curves and of fits; the only module of scurve that imports matplotlib.

:func:`plot_shapes` and :func:`plot_family` draw the curves of
:data:`scurve.shapes.REGISTRY`; :func:`plot_fit` draws one fit (data, curve,
band, ECx markers, residuals), :func:`plot_groups` the fits of a table's
groups (overlaid, a grid, or a microplate), :func:`plot_adoption` and
:func:`plot_forecast` a diffusion fit with its forecast fan,
:func:`plot_transfer` and :func:`plot_spectrum` a waveshaper, and
:func:`plot_result` whichever of these suits a result.

Every figure wears one house style, the style sheet :data:`STYLE` shipped
with the package (print-size fonts, the Okabe-Ito palette, no chart junk),
applied with :func:`matplotlib.style.context` inside these functions only:
the user's own rcParams are never changed. Every function takes the same
options: ``xlabel``, ``ylabel``, ``title`` (None: the default, the column
names for axes; ``""``: none), ``size`` (width, height in inches) and
``dpi`` for a new figure.

On a log dose axis, zero-dose controls are drawn as drc and Prism draw them:
one dilution step left of the lowest dose, behind a break (``//``) in the
axis, at a tick labelled ``0``.

matplotlib is imported inside the functions, on first use, so that importing
scurve (and running ``scurve --help``) never pays for it, and scurve works
without it until a plot is asked for. When no display is available and no
backend has been chosen, the non-interactive Agg backend is selected; inside
Jupyter the notebook's own backend is left alone.

Figures are written atomically by :func:`save_figure`: a crash or a full disk
leaves either the previous file or none, never a half-written one.
"""

from __future__ import annotations

import errno
import functools
import math
import os
import sys
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import shapes
from scurve.io import WELL_NAMES, atomic_write, well_position

if TYPE_CHECKING:
    from types import ModuleType

    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from scurve.core.shapes import Curve
    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits

__all__ = [
    "ALERT",
    "STYLE",
    "figure_format",
    "house_style",
    "plot_adoption",
    "plot_family",
    "plot_fit",
    "plot_forecast",
    "plot_groups",
    "plot_reliability",
    "plot_result",
    "plot_shapes",
    "plot_spectrum",
    "plot_transfer",
    "save_figure",
    "well_position",
]

Form = Literal["native", "odd", "unit"]
Band = Literal["confidence", "prediction"]
Replicates = Literal["points", "mean"]
Size = tuple[float, float]

#: The house style sheet, shipped with the package.
STYLE = Path(__file__).with_name("scurve.mplstyle")

#: The colour of what went wrong (flat and failed wells): Okabe-Ito vermillion.
ALERT = "#D55E00"

#: Default abscissae (start, stop, count): every curve of the family saturates.
DEFAULT_X = (-5.0, 5.0, 1001)

#: Points on the grid a fitted curve and its band are drawn on.
CURVE_POINTS = 400

#: Legend entries longer than this are wrapped (characters).
LABEL_WIDTH = 40

#: The largest side of a raster image, in pixels (matplotlib's Agg).
MAX_PIXELS = 65535

#: Formats written as pixels (the others are vector: any size).
RASTER_FORMATS = frozenset(
    ["png", "jpg", "jpeg", "tif", "tiff", "webp", "raw", "rgba", "gif"]
)

#: What a fit's status means, in a legend of many panels.
STATUS_WORDS = {
    "at_bound": "a parameter at its bound",
    "singular": "parameters not determined",
    "flat": "no S-curve",
    "not_converged": "did not converge",
    "failed": "not fitted",
}

_F = TypeVar("_F", bound=Callable[..., Any])


def _matplotlib() -> ModuleType:
    """Import matplotlib, or raise an ImportError saying how to install it."""
    try:
        import matplotlib
    except ImportError as exc:
        raise ImportError(
            "plotting needs matplotlib, which is not installed; "
            "install it with 'pip install matplotlib'"
        ) from exc
    return matplotlib


def _no_display() -> bool:
    """True when no GUI window can open and nobody has chosen a backend."""
    if os.environ.get("MPLBACKEND") or "ipykernel" in sys.modules:
        return False
    if sys.platform in ("darwin", "win32"):
        return False
    return not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _pyplot() -> ModuleType:
    """matplotlib.pyplot, on the Agg backend when there is no display."""
    matplotlib = _matplotlib()
    if "matplotlib.pyplot" not in sys.modules and _no_display():
        matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


@contextmanager
def house_style() -> Iterator[None]:
    """The house style (:data:`STYLE`) for the duration of a ``with`` block;
    the rcParams are restored after it.

    >>> import matplotlib as mpl
    >>> with house_style():
    ...     mpl.rcParams["axes.spines.top"]
    False
    """
    _matplotlib()
    _pyplot()  # the backend is chosen outside the style's context
    import matplotlib.style

    with matplotlib.style.context(STYLE):
        yield


def _styled(func: _F) -> _F:
    """`func` run in the house style."""

    @functools.wraps(func)
    def styled(*args: Any, **kws: Any) -> Any:
        with house_style():
            return func(*args, **kws)

    return styled  # type: ignore[return-value]


# ------------------------------------------------------------------ options


def _check_size(size: object) -> Size | None:
    """`size` as (width, height) in inches, or a ValueError."""
    if size is None:
        return None
    pair: list[float] = []
    if not isinstance(size, str | bytes) and isinstance(size, Sequence | np.ndarray):
        try:
            pair = [float(v) for v in size]  # type: ignore[union-attr]
        except (TypeError, ValueError):
            pair = []
    if len(pair) != 2 or not all(math.isfinite(v) and v > 0 for v in pair):
        raise ValueError(
            f"size must be (width, height) in inches, two positive numbers; "
            f"got {size!r}"
        )
    return pair[0], pair[1]


def _check_dpi(dpi: object) -> float | None:
    """`dpi` as a positive number, or a ValueError."""
    if dpi is None:
        return None
    if isinstance(dpi, bool | str | bytes):
        value = math.nan
    else:
        try:
            value = float(dpi)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"dpi must be a positive number (dots per inch), got {dpi!r}")
    return value


def _no_size_for(ax: object, size: object, dpi: object) -> None:
    """A ValueError when `size` or `dpi` is given with axes to draw on."""
    if ax is not None and (size is not None or dpi is not None):
        raise ValueError(
            "size and dpi are for a new figure; to draw on ax, size its figure "
            "(ax.figure.set_size_inches, ax.figure.set_dpi)"
        )


def _freeze_ticks(ax: Axes) -> None:
    """Fix the house style's tick settings on `ax`: ticks are made when the
    figure is drawn, perhaps later, under other rcParams."""
    rc = _matplotlib().rcParams
    for axis, name in ((ax.xaxis, "xtick"), (ax.yaxis, "ytick")):
        for which in ("major", "minor"):
            axis.set_tick_params(
                which=which,
                labelsize=rc[f"{name}.labelsize"],
                length=rc[f"{name}.{which}.size"],
                width=rc[f"{name}.{which}.width"],
                pad=rc[f"{name}.{which}.pad"],
                direction=rc[f"{name}.direction"],
                color=rc[f"{name}.color"],
                labelcolor=rc[f"{name}.color"],
                labelfontfamily=rc["font.family"],
            )


def _figure(
    size: object,
    dpi: object,
    default: Size,
    nrows: int = 1,
    ncols: int = 1,
    **subplots: Any,
) -> tuple[Figure, NDArray[np.object_]]:
    """A new figure of `nrows` x `ncols` axes in the house style, `size`
    inches (default `default`) at `dpi`."""
    width, height = _check_size(size) or default
    rc = _matplotlib().rcParams
    subplots.setdefault("layout", "constrained")
    fig, axes = _pyplot().subplots(
        nrows,
        ncols,
        squeeze=False,
        figsize=(width, height),
        dpi=_check_dpi(dpi) or rc["figure.dpi"],
        **subplots,
    )
    for ax in axes.flat:
        _freeze_ticks(ax)
    return fig, axes


def _text(value: str | None, default: str) -> str:
    """An option's text: its default when None, none when empty."""
    return default if value is None else value


def _axis_names(result: FitResult | GroupFits) -> tuple[str, str]:
    """The names of x and y: the columns fitted (``x``, ``y`` for arrays)."""
    names = getattr(result, "axis_labels", None)
    return tuple(names) if names else ("x", "y")  # type: ignore[return-value]


def _linestyle(i: int) -> str:
    """The line style of the `i`-th of many curves drawn on one axes.

    The S-curve family and a table's groups outnumber the default colour
    cycle: once the colours run out, start again dashed (then dash-dot,
    dotted), so that no two curves look alike.
    """
    cycle = _matplotlib().rcParams["axes.prop_cycle"].by_key()
    n_colours = len(cycle.get("color", ())) or 1
    return ("-", "--", "-.", ":")[i // n_colours % 4]


def _colour(i: int) -> str:
    """The `i`-th colour of the house palette (cycling)."""
    colours = _matplotlib().rcParams["axes.prop_cycle"].by_key()["color"]
    return colours[i % len(colours)]


def _outside_legend(ax: Axes, handles: list[Any], **legend: Any) -> None:
    """A legend right of the axes: never over the data."""
    ax.legend(handles=handles, loc="center left", bbox_to_anchor=(1.02, 0.5), **legend)


# ------------------------------------------------------------------ S-curves


def _curves(names: str | Iterable[str] | None, form: Form) -> list[tuple[str, Curve]]:
    """(shape name, curve) pairs to draw, in registry order when `names` is None.

    Shapes without the requested form are skipped when `names` is None and
    rejected when they were asked for by name.
    """
    if form not in ("native", "odd", "unit"):
        raise ValueError(f"form must be 'native', 'odd' or 'unit', not {form!r}")
    if isinstance(names, str):
        names = [names]
    if names is None:
        chosen = [
            (name, getattr(shape, form)) for name, shape in shapes.REGISTRY.items()
        ]
        return [(name, curve) for name, curve in chosen if curve is not None]
    pairs = []
    for name in names:
        try:
            shape = shapes.get(name)
        except KeyError as exc:
            raise ValueError(exc.args[0]) from None
        pairs.append((shape.name, shape.form(form)))
    return pairs


@_styled
def plot_shapes(
    names: str | Iterable[str] | None = None,
    form: Form = "native",
    x: ArrayLike | None = None,
    ax: Axes | None = None,
    derivative: bool = False,
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Axes:
    """Draw S-curves of :data:`scurve.shapes.REGISTRY` on one set of axes.

    Parameters
    ----------
    names : str or iterable of str, optional
        Curves to draw, by registry name (``"hard-clip"`` is accepted for
        ``"hard_clip"``). Default: every curve that has the requested `form`.
    form : {"native", "odd", "unit"}, optional
        Which form of each shape to draw: ``"odd"`` has range (-1, 1) and
        slope 1 at 0, ``"unit"`` has range (0, 1), ``"native"`` is each
        shape's conventional form. Default ``"native"``.
    x : array_like, optional
        Abscissae. Default: 1001 points evenly spaced on [-5, 5].
    ax : matplotlib.axes.Axes, optional
        Axes to draw on. Default: new axes on a new pyplot figure.
    derivative : bool, optional
        Draw the derivatives instead of the curves. Default False.
    xlabel, ylabel, title : str, optional
        Default ``x``, ``f(x)`` (``f'(x)``) and what is drawn; ``""`` for none.
    size : (float, float), optional
        A new figure's width and height in inches.
    dpi : float, optional
        A new figure's resolution (dots per inch); default the house style's.

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one line per curve and a legend naming them.

    Raises
    ------
    ValueError
        If a name is not in the registry, a named shape has no such `form`,
        or `form` is not one of the three; a bad `size` or `dpi`, or either
        with `ax`.
    ImportError
        If matplotlib is not installed.

    See Also
    --------
    save_figure : write the figure (``ax.figure``) atomically.
    scurve.shapes.REGISTRY : the curves drawn.

    Examples
    --------
    >>> from scurve.plotting import plot_shapes
    >>> ax = plot_shapes(["logistic", "gompertz"], form="unit")
    >>> [line.get_label() for line in ax.get_lines()]
    ['logistic', 'gompertz']
    """
    curves = _curves(names, form)
    xs = np.linspace(*DEFAULT_X) if x is None else np.asarray(x, dtype=np.float64)
    _no_size_for(ax, size, dpi)
    if ax is None:
        _, axes = _figure(size, dpi, (5.5, 3.4))
        ax = axes[0, 0]
    for i, (name, curve) in enumerate(curves):
        ys = curve.derivative(xs) if derivative else curve.value(xs)
        ax.plot(xs, ys, label=name, linestyle=_linestyle(i))
    ax.set_xlabel(_text(xlabel, "x"))
    ax.set_ylabel(_text(ylabel, "f'(x)" if derivative else "f(x)"))
    what = "Derivatives of S-curves" if derivative else "S-curves"
    ax.set_title(_text(title, f"{what}, {form} form"))
    _outside_legend(ax, ax.get_lines()[-len(curves) :] if curves else [])
    return ax


@_styled
def plot_family(
    forms: Iterable[Literal["odd", "unit"]] = ("odd", "unit"),
    x: ArrayLike | None = None,
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Figure:
    """The whole family: one row per form, curves on the left, slopes on the right.

    Odd forms (range (-1, 1), slope 1 at 0) and unit forms (range (0, 1))
    live on different scales, so each gets its own row.

    Parameters
    ----------
    forms : iterable of {"odd", "unit"}, optional
        The rows, top to bottom. Default both.
    x : array_like, optional
        Abscissae. Default: 1001 points evenly spaced on [-5, 5].
    xlabel, ylabel : str, optional
        Every panel's x label and the left panels' y label (default ``x``,
        ``f(x)``, ``f'(x)``).
    title : str, optional
        The figure's title; default none.
    size, dpi
        As in :func:`plot_shapes`.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from scurve.plotting import plot_family
    >>> fig = plot_family()
    >>> [ax.get_title() for ax in fig.axes]  # doctest: +NORMALIZE_WHITESPACE
    ['S-curves, odd form', 'Derivatives of S-curves, odd form',
     'S-curves, unit form', 'Derivatives of S-curves, unit form']
    """
    forms = list(forms)
    fig, axes = _figure(size, dpi, (8.0, 3.0 * len(forms)), len(forms), 2)
    for row, form in zip(axes, forms, strict=True):
        plot_shapes(form=form, x=x, ax=row[0], xlabel=xlabel, ylabel=ylabel)
        plot_shapes(form=form, x=x, ax=row[1], derivative=True, xlabel=xlabel)
        row[0].get_legend().remove()
    if title:
        fig.suptitle(title)
    return fig


# ------------------------------------------------------------------ fits


class _Drawn(NamedTuple):
    """What :func:`_draw_fit` put on the axes, for the caller's legend."""

    data: Artist
    curve: Line2D
    band: Artist | None
    ec: Artist | None
    notes: list[str]


def _check_choice(name: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")


def _response(result: FitResult) -> NDArray[np.float64]:
    """The fitted y (lmfit's ``data``)."""
    return np.asarray(result.data, dtype=np.float64)


def _points(n: int, what: str) -> str:
    """``"1 point at x < 0"``, ``"3 points at x < 0"``."""
    return f"{n} {'point' if n == 1 else 'points'} at {what} not shown (log axis)"


def control_position(x: ArrayLike) -> float | None:
    """Where zero doses (controls) are drawn on a log dose axis: one
    dilution step left of the lowest positive dose (the median ratio of
    successive doses, between 2 and 10; 10 for a single dose), as drc's
    ``plot(..., broken = TRUE)``. None without zero or positive doses.

    >>> control_position([0, 0, 10, 20, 40, 80])
    5.0
    >>> control_position([0, 1, 10, 100]), control_position([1, 2]) is None
    (0.1, True)
    """
    x = np.asarray(x, dtype=np.float64)
    doses = np.unique(x[np.isfinite(x) & (x > 0)])
    if doses.size == 0 or not np.any(x == 0):
        return None
    step = 10.0
    if doses.size > 1:
        step = float(np.clip(np.median(doses[1:] / doses[:-1]), 2.0, 10.0))
    return float(doses[0] / step)


def _replicate_means(
    x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Distinct x, the mean y at each and its standard deviation (NaN for
    one point)."""
    ux, where, counts = np.unique(x, return_inverse=True, return_counts=True)
    means = np.bincount(where, weights=y) / counts
    squares = np.bincount(where, weights=(y - means[where]) ** 2)
    sd = np.full(ux.shape, np.nan)
    many = counts > 1
    sd[many] = np.sqrt(squares[many] / (counts[many] - 1))
    return ux, means, sd


def _draw_points(
    ax: Axes,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    replicates: Replicates,
    style: dict[str, Any],
    control: float | None,
) -> Artist:
    """The data as markers, or their means at each x with error bars of one
    standard deviation; zero doses at `control`."""
    if replicates == "mean":
        ux, means, sd = _replicate_means(x, y)
        shown = ux if control is None else np.where(ux == 0, control, ux)
        return ax.errorbar(shown, means, yerr=sd, capsize=2.5, **style)
    shown = x if control is None else np.where(x == 0, control, x)
    (line,) = ax.plot(shown, y, **style)
    return line


def _shown_x(
    x: NDArray[np.float64], log_x: bool, control: float | None
) -> tuple[NDArray[np.bool_], list[str]]:
    """Which points can be drawn on the x axis, and a note on the others."""
    if not log_x:
        return np.ones(x.shape, dtype=bool), []
    if not np.any(x > 0):
        raise ValueError(
            "log_x: every x is <= 0 and cannot be drawn on a log axis; pass log_x=False"
        )
    shown = (x > 0) | ((x == 0) & (control is not None))
    hidden = int(np.count_nonzero(~shown))
    if not hidden:
        return shown, []
    what = "x < 0" if control is not None else "x ≤ 0"
    return shown, [_points(hidden, what)]


def _draw_band(
    ax: Axes,
    result: FitResult,
    grid: NDArray[np.float64],
    y: NDArray[np.float64],
    band: Band,
    level: float,
    colour: str,
) -> tuple[Artist | None, list[str]]:
    """The band around the curve, cut one spread beyond data and curve."""
    fitted, lower, upper = result.band(grid, band, level)
    if not (np.isfinite(lower).any() and np.isfinite(upper).any()):
        return None, [f"no {band} band: the fit has no covariance matrix"]
    low, high = _band_limits(y, fitted)
    artist = ax.fill_between(
        grid,
        np.clip(lower, low, None),
        np.clip(upper, None, high),
        color=colour,
        alpha=0.18,
        linewidth=0,
        zorder=1,
        label=f"{level:.0%} {band} band",
    )
    return artist, []


def _draw_ec(
    ax: Axes, result: FitResult, marks: Sequence[float], level: float, colour: str
) -> Artist:
    """ECx markers on the curve, with their intervals (on the log-dose
    scale, as in the fit's table) as horizontal bars."""
    from scurve.analysis.dose import ec as ec_table

    table = ec_table(result, list(marks), ci="log", level=level)
    value = table["value"].to_numpy(dtype=np.float64)
    lower = np.nan_to_num(value - table["lower"].to_numpy(dtype=np.float64))
    upper = np.nan_to_num(table["upper"].to_numpy(dtype=np.float64) - value)
    return ax.errorbar(
        value,
        result.predict(value),
        xerr=np.vstack([lower, upper]),
        fmt="D",
        color=colour,
        markerfacecolor="white",
        markeredgecolor=colour,
        markeredgewidth=1.2,
        markersize=5,
        capsize=2.5,
        elinewidth=1.2,
        zorder=4,
        label=f"{', '.join(table.index)} ({level:.0%} CI)",
    )


def _draw_fit(
    ax: Axes,
    result: FitResult,
    *,
    band: Band | None,
    level: float | None,
    log_x: bool | None,
    log_y: bool | None = None,
    replicates: Replicates,
    data_kw: dict[str, Any] | None,
    line_kw: dict[str, Any] | None,
    label: str | None,
    control: float | None = None,
    ec: Sequence[float] | None = None,
    ax_resid: Axes | None = None,
) -> _Drawn:
    """Data, fitted curve, band and ECx markers of one fit on `ax`;
    residuals on `ax_resid`. Zero doses are drawn at `control` on a log x
    axis (see :func:`control_position`), the curve from the lowest positive
    dose.

    The curve takes the next colour of the axes' cycle (unless `line_kw`
    names one); the band and the data take the curve's colour.
    """
    _check_choice("band", band, ("confidence", "prediction", None))
    _check_choice("replicates", replicates, ("points", "mean"))
    level = result.level if level is None else float(level)
    log_x = bool(result.model.log_x) if log_x is None else bool(log_x)
    log_y = bool(getattr(result.model, "log_y", False)) if log_y is None else log_y
    x = np.asarray(result.x, dtype=np.float64)
    y = _response(result)
    control = control if log_x else None
    if log_x and control is None:
        control = control_position(x)
    shown, notes = _shown_x(x, log_x, control)
    if log_y:
        hidden = int(np.count_nonzero(shown & ~(y > 0)))
        shown &= y > 0
        notes += [_points(hidden, "y ≤ 0")] if hidden else []
    x, y = x[shown], y[shown]
    doses = x[x > 0] if log_x else x
    if log_x:
        grid = np.geomspace(doses.min(), doses.max(), CURVE_POINTS)
    else:
        grid = np.linspace(x.min(), x.max(), CURVE_POINTS)
    if label is not None and len(label) > LABEL_WIDTH:  # a key of many columns
        label = textwrap.fill(label, LABEL_WIDTH)
    line_style = {"label": result.model.label if label is None else label}
    line_style.update({"zorder": 2, **(line_kw or {})})
    if result.status != "ok":
        line_style["label"] = f"{line_style['label']} ({result.status})"
    fitted = result.predict(grid)
    if log_y:
        fitted = np.where(fitted > 0, fitted, np.nan)
    (curve,) = ax.plot(grid, fitted, **line_style)
    colour = curve.get_color()
    band_artist = None
    if band is not None:
        band_artist, more = _draw_band(ax, result, grid, y, band, level, colour)
        notes += more
    style = {
        "marker": "o",
        "markersize": 3.5,
        "linestyle": "none",
        "color": colour,
        "alpha": 0.75,
        "markeredgewidth": 0,
        "zorder": 3,
        "label": "data (mean ± SD)" if replicates == "mean" else "data",
        **(data_kw or {}),
    }
    data = _draw_points(ax, x, y, replicates, style, control)
    marks = None if not ec else _draw_ec(ax, result, ec, level, colour)
    if ax_resid is not None:
        ax_resid.axhline(0.0, color=colour, linewidth=1, zorder=2)
        style["label"] = "_nolegend_"
        _draw_points(ax_resid, x, y - result.predict(x), replicates, style, control)
    for panel in (ax, ax_resid):
        if panel is not None and log_x:
            panel.set_xscale("log")
    if log_y:
        ax.set_yscale("log")
    return _Drawn(data, curve, band_artist, marks, notes)


def _band_limits(
    y: NDArray[np.float64], fitted: NDArray[np.float64]
) -> tuple[float, float]:
    """How far a band is drawn: one spread of data and curve beyond them.

    A band far wider than the data (a poorly determined parameter) would
    otherwise set the y axis and squash data and curve into a line; cut, it
    runs flat along the plot's edge, which still says it is wide.
    """
    values = np.concatenate([y, fitted])
    values = values[np.isfinite(values)]
    if values.size == 0:
        return -math.inf, math.inf
    low, high = float(values.min()), float(values.max())
    spread = high - low
    if spread == 0:
        return -math.inf, math.inf
    return low - spread, high + spread


def _tick_text(value: float) -> str:
    """A dose as a tick label: plain numbers (``0.5``, ``10``, ``1000``),
    powers of ten beyond."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)) + 1e-9)
    if -3 <= exponent <= 4:
        return f"{value:g}"
    mantissa = value / 10**exponent
    if math.isclose(mantissa, 1.0):
        return f"$10^{{{exponent}}}$"
    return f"${mantissa:g}\\times10^{{{exponent}}}$"


@functools.cache
def _broken_locator() -> type:
    """The class of a log locator that leaves out ticks left of the lowest
    dose and adds one at the controls (made once matplotlib is imported)."""
    from matplotlib.ticker import Locator

    class BrokenLocator(Locator):
        def __init__(self, inner: Locator, control: float, lowest: float) -> None:
            self.inner, self.control, self.lowest = inner, control, lowest

        def set_axis(self, axis: Any) -> None:
            super().set_axis(axis)
            self.inner.set_axis(axis)

        def __call__(self) -> Sequence[float]:
            low, high = self.axis.get_view_interval()
            return self.tick_values(low, high)

        def tick_values(self, vmin: float, vmax: float) -> Sequence[float]:
            ticks = np.asarray(self.inner.tick_values(vmin, vmax), dtype=float)
            kept = ticks[ticks >= self.lowest * (1 - 1e-9)]
            if self.control is None:
                return kept
            return np.concatenate([[self.control], kept])

    return BrokenLocator


def _break_x(ax: Axes, control: float, lowest: float) -> None:
    """The log x axis of `ax` broken between the controls, drawn at
    `control` and labelled 0, and the `lowest` positive dose: ``//`` on the
    axis, no tick between."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter
    from matplotlib.transforms import blended_transform_factory

    broken = _broken_locator()
    ax.set_xscale("log")
    high = ax.dataLim.intervalx[1]
    subs = (1.0,) if high / max(lowest, 1e-300) > 200 else (1.0, 2.0, 5.0)
    ax.xaxis.set_major_locator(broken(LogLocator(subs=subs), control, lowest))
    ax.xaxis.set_minor_locator(broken(LogLocator(subs="auto"), None, lowest))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda v, _: "0" if math.isclose(v, control) else _tick_text(v))
    )
    ax.xaxis.set_minor_formatter(NullFormatter())
    middle = math.sqrt(control * lowest)
    spread = (lowest / control) ** 0.12
    where = [middle / spread, middle * spread]
    on_axis = blended_transform_factory(ax.transData, ax.transAxes)
    spine = ax.spines["bottom"]
    ax.plot(
        where,
        [0.0, 0.0],
        transform=on_axis,
        color=ax.get_facecolor(),
        linewidth=spine.get_linewidth() * 2.5,
        solid_capstyle="butt",
        clip_on=False,
        zorder=spine.get_zorder() + 0.1,
        gid="axis-break",
        label="_nolegend_",
        scalex=False,
        scaley=False,
    )
    ax.plot(
        where,
        [0.0, 0.0],
        transform=on_axis,
        linestyle="none",
        marker=[(-1.0, -2.0), (1.0, 2.0)],
        markersize=7,
        markeredgewidth=spine.get_linewidth(),
        color=spine.get_edgecolor(),
        clip_on=False,
        zorder=spine.get_zorder() + 0.2,
        gid="axis-break",
        label="_nolegend_",
        scalex=False,
        scaley=False,
    )


def _lowest_dose(results: Iterable[FitResult]) -> float:
    """The lowest positive x of `results`."""
    doses = [np.asarray(r.x, dtype=np.float64) for r in results]
    positive = np.concatenate([d[d > 0] for d in doses]) if doses else np.array([])
    return float(positive.min()) if positive.size else math.nan


def _note(text: str) -> Line2D:
    """A legend entry that is only text."""
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", marker="none", label=text)


def _band_entry(band: Band, level: float) -> Artist:
    """A grey legend entry for the bands of several colours."""
    from matplotlib.patches import Patch

    return Patch(
        facecolor="0.5", alpha=0.3, linewidth=0, label=f"{level:.0%} {band} band"
    )


def _set_status_title(ax: Axes, label: str, result: FitResult) -> None:
    """Title `ax` with `label`; in the alert colour, with the status and
    why, unless the fit is ok (or the title is empty)."""
    if label and result.status != "ok":
        why = textwrap.fill(f"{result.status}: {result.message}", width=60)
        ax.set_title(f"{label}\n{why}", color=ALERT)
        return
    ax.set_title(label)


def _fit_axes(
    ax: Axes | Sequence[Axes] | None, residuals: bool, size: object, dpi: object
) -> tuple[Axes, Axes | None]:
    """The axes of :func:`plot_fit`: given, or on a new figure."""
    from matplotlib.axes import Axes as AxesType

    _no_size_for(ax, size, dpi)
    if residuals:
        if ax is None:
            _, axes = _figure(
                size, dpi, (5.2, 4.2), 2, 1, sharex=True, height_ratios=(3, 1)
            )
            return axes[0, 0], axes[1, 0]
        if isinstance(ax, AxesType) or len(ax) != 2:
            raise ValueError(
                "with residuals=True, ax must be a pair (axes for the fit, axes "
                "for the residuals) or None"
            )
        return ax[0], ax[1]
    if ax is None:
        _, axes = _figure(size, dpi, (5.2, 3.3))
        return axes[0, 0], None
    if not isinstance(ax, AxesType):
        raise ValueError("ax must be one Axes (a pair only with residuals=True)")
    return ax, None


@_styled
def plot_fit(
    result: FitResult,
    ax: Axes | Sequence[Axes] | None = None,
    *,
    band: Band | None = "confidence",
    level: float | None = None,
    residuals: bool = False,
    log_x: bool | None = None,
    log_y: bool | None = None,
    replicates: Replicates = "points",
    ec: Sequence[float] | None = None,
    data_kw: dict[str, Any] | None = None,
    line_kw: dict[str, Any] | None = None,
    label: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Axes | tuple[Axes, Axes]:
    """Draw a fit: the data, the fitted curve and its band; optionally ECx
    markers and residuals.

    Parameters
    ----------
    result : FitResult
        A fit of :func:`scurve.fit`, or one group of a joint fit
        (``fits[key]`` of a :class:`~scurve.results.groups.GroupFits` with shared
        parameters).
    ax : Axes, or a pair of Axes when `residuals` is true, optional
        Where to draw: the fit's axes, or ``(axes for the fit, axes for the
        residuals)``. Default: a new pyplot figure.
    band : {"confidence", "prediction", None}, optional
        The pointwise band shaded around the curve (see
        :meth:`~scurve.results.fit.FitResult.band`), or None for none. A fit
        without a covariance matrix (status ``singular``, or a fit that did
        not converge) has no band, and the legend says so. A band much wider
        than the data is cut one spread of data and curve beyond them, so
        that it cannot squash them flat. Default ``"confidence"``.
    level : float, optional
        The band's (and the ECx intervals') level. Default: the fit's level
        (0.95 unless asked).
    residuals : bool, optional
        Add a panel below, sharing x, of the residuals ``y - f(x)`` (not
        weighted) around a zero line. Default False.
    log_x : bool, optional
        Draw x on a log axis. Default: the model's ``log_x`` (dose-response
        models). The curve is then drawn on a geometric grid from the lowest
        positive dose; zero doses (controls) are drawn one dilution step left
        of it, behind a break in the axis, at a tick labelled 0 (as drc's
        ``broken = TRUE``, see :func:`control_position`); negative x cannot
        be drawn, and the legend says how many points were left out (they
        still count in the fit).
    log_y : bool, optional
        Draw y on a log axis; default the model's ``log_y``. Points at
        y <= 0 are left out, and the legend says how many.
    replicates : {"points", "mean"}, optional
        Draw every point, or, at each distinct x, the mean response with an
        error bar of one standard deviation (none where x has one point).
        Default ``"points"``.
    ec : sequence of float, optional
        Mark these ECx (percentages, e.g. ``[10, 50]``) on the curve, with
        their intervals at `level` as horizontal bars (dose-response fits:
        :func:`scurve.analysis.dose.ec`, ``ci="log"``).
    data_kw, line_kw : dict, optional
        Keyword arguments for the data (:meth:`~matplotlib.axes.Axes.plot`,
        or :meth:`~matplotlib.axes.Axes.errorbar` for means) and the curve
        (:meth:`~matplotlib.axes.Axes.plot`), overriding the defaults.
    label : str, optional
        The curve's legend entry. Default: the model's label. When the
        fit's status is not ``"ok"`` it is appended in parentheses, and the
        title, in the alert colour, gives the status and why.
    xlabel, ylabel : str, optional
        Default the columns fitted (``x`` and ``y`` for arrays); ``""`` for
        none.
    title : str, optional
        Default the model's label; ``""`` for none.
    size : (float, float), optional
        A new figure's width and height in inches.
    dpi : float, optional
        A new figure's resolution; default the house style's (150).

    Returns
    -------
    matplotlib.axes.Axes or tuple of Axes
        The fit's axes; with `residuals`, the pair ``(ax, ax_resid)``. The
        figure is ``ax.figure``.

    Raises
    ------
    ValueError
        If `band` or `replicates` is none of its choices, `ax` is not a
        pair when `residuals` is true (or a pair when it is false),
        `log_x` is asked for while every x is <= 0, or `size` or `dpi` is
        bad or given with `ax`.
    scurve.errors.OptionError
        `ec` for a fit that is not dose-response, or a level not in (0, 100).
    ImportError
        If matplotlib is not installed.

    See Also
    --------
    plot_groups : every group of a table's fits.
    save_figure : write the figure (``ax.figure``) atomically.

    Notes
    -----
    Nothing is shown: pyplot is used only to create a new figure when `ax`
    is None, and never to show it.

    Examples
    --------
    >>> import numpy as np, scurve
    >>> from scurve.plotting import plot_fit
    >>> rng = np.random.default_rng(0)
    >>> x = np.repeat(np.linspace(0, 10, 11), 3)
    >>> y = 2 + 3 * scurve.expit(1.5 * (x - 4)) + rng.normal(0, 0.1, x.size)
    >>> ax, ax_resid = plot_fit(scurve.fit(x=x, y=y), residuals=True)
    >>> [t.get_text() for t in ax.get_legend().get_texts()]
    ['data', 'sigmoid', '95% confidence band']
    >>> ax_resid.get_ylabel()
    'residual'
    """
    ax, ax_resid = _fit_axes(ax, residuals, size, dpi)
    drawn = _draw_fit(
        ax,
        result,
        band=band,
        level=level,
        log_x=log_x,
        log_y=log_y,
        replicates=replicates,
        ec=ec,
        data_kw=data_kw,
        line_kw=line_kw,
        label=label,
        ax_resid=ax_resid,
    )
    log_x = bool(result.model.log_x) if log_x is None else log_x
    control = control_position(result.x) if log_x else None
    if control is not None:
        for panel in (ax, ax_resid):
            if panel is not None:
                _break_x(panel, control, _lowest_dose([result]))
    handles = [drawn.data, drawn.curve]
    handles += [a for a in (drawn.band, drawn.ec) if a is not None]
    handles += [_note(text) for text in drawn.notes]
    _outside_legend(ax, handles)
    _set_status_title(ax, _text(title, result.model.label), result)
    names = _axis_names(result)
    ax.set_ylabel(_text(ylabel, names[1]))
    if ax_resid is None:
        ax.set_xlabel(_text(xlabel, names[0]))
        return ax
    ax_resid.set_xlabel(_text(xlabel, names[0]))
    ax_resid.set_ylabel("residual")
    return ax, ax_resid


# ------------------------------------------------------------------ groups


def _group_name(key: tuple) -> str:
    """A group's key values, joined by commas for several key columns."""
    return ", ".join(str(v) for v in key)


class _Member(NamedTuple):
    """One group drawn in a panel: its name, its fit, and its colour and
    curve label (None: the panel's defaults)."""

    name: str
    result: FitResult
    colour: str | None = None
    label: str | None = None


def _by_condition(
    groups: list[tuple[str, FitResult]], conditions: Mapping[str, str]
) -> dict[str, list[tuple[str, FitResult]]]:
    """The groups of each condition, conditions in the order they first
    appear; a ValueError naming the groups that have none."""
    missing = [name for name, _ in groups if name not in conditions]
    if missing:
        raise ValueError(f"conditions: no condition for {', '.join(missing)}")
    found: dict[str, list[tuple[str, FitResult]]] = {}
    for name, res in groups:
        found.setdefault(str(conditions[name]), []).append((name, res))
    return found


def _count(members: Sequence[tuple[str, Any]]) -> str:
    """``"3 wells"`` (or groups, when they are not named like wells)."""
    wells = all(well_position(name) is not None for name, _ in members)
    noun = "well" if wells else "group"
    return f"{len(members)} {noun}{'' if len(members) == 1 else 's'}"


@_styled
def plot_groups(
    fits: GroupFits,
    *,
    layout: Literal["overlay", "grid", "plate"] = "overlay",
    ax: Axes | None = None,
    ncols: int | None = None,
    band: Band | None = "confidence",
    level: float | None = None,
    log_x: bool | None = None,
    log_y: bool | None = None,
    replicates: Replicates = "points",
    ec: Sequence[float] | None = None,
    conditions: Mapping[str, str] | None = None,
    data_kw: dict[str, Any] | None = None,
    line_kw: dict[str, Any] | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Figure:
    """Draw every group's fit: overlaid on one axes, or as small multiples.

    Parameters
    ----------
    fits : GroupFits
        Fits of one model to the groups of a table (:func:`scurve.fit` with
        ``by=``), independent or with shared parameters.
    layout : {"overlay", "grid", "plate"}, optional
        ``"overlay"``: every group on one axes, one colour per group (then
        dashed, dash-dot, dotted once the colour cycle runs out), with one
        legend, outside the axes, titled by the key columns. ``"grid"``: one
        panel per group, in rows of `ncols`, with shared axes that fit every
        panel's data and one legend. ``"plate"``: a microplate map, one
        small panel per well (groups keyed ``A1``, ``B12``, ... ``P24``) in
        the rows and columns that have wells, with shared axes, time tick
        labels on the outer panels and no bands; a well that did not grow
        (status ``flat``) or could not be fitted is marked in the alert
        colour. Default ``"overlay"``.
    ax : Axes, optional
        With ``layout="overlay"``, the axes to draw on. Default: a new pyplot
        figure. A grid or a plate always makes its own figure.
    ncols : int, optional
        Panels per row of a grid. Default: about the square root of the
        number of groups.
    band, level, log_x, log_y, replicates, ec, data_kw, line_kw
        As in :func:`plot_fit`, for every group. On a log x axis the
        controls of every group are drawn at one position.
    conditions : mapping, optional
        The condition of each group (``{"A1": "wild type", ...}``; names
        as the groups' key values): replicate wells of a condition are drawn
        in its colour, one legend entry each (overlay), in one panel per
        condition (grid), or coloured by condition (plate). Names of no
        group are ignored.
    xlabel, ylabel, title, size, dpi
        As in :func:`plot_fit` (the title is the figure's).

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `layout` is none of its choices, there are no groups, `ax` is
        given for a grid or a plate, `ncols` is below 1, a plate's group
        is not a well name, a group has no condition, or `size` or `dpi`
        is bad.

    Notes
    -----
    A group that could not be fitted (its result is the
    :class:`~scurve.errors.FitError`) has no curve: in an overlay its
    legend entry says so and why; in a grid its panel is left empty, with
    the reason written in it. A group whose status is not ``"ok"`` has it
    in its legend entry (overlay) or its panel's title (grid).

    See Also
    --------
    plot_fit : one fit, with its residuals.
    save_figure : write the figure atomically.

    Examples
    --------
    >>> import numpy as np, pandas as pd, scurve
    >>> from scurve.plotting import plot_groups
    >>> rng = np.random.default_rng(0)
    >>> x = np.tile(np.linspace(0, 10, 21), 2)
    >>> center = np.repeat([4.0, 6.0], 21)
    >>> table = pd.DataFrame({
    ...     "x": x,
    ...     "y": scurve.expit(x - center) + rng.normal(0, 0.02, x.size),
    ...     "strain": np.repeat(["a", "b"], 21),
    ... })
    >>> fig = plot_groups(scurve.fit(table, by="strain"), layout="grid")
    >>> [ax.get_title() for ax in fig.axes]
    ['a', 'b']
    """
    _check_choice("layout", layout, ("overlay", "grid", "plate"))
    if not len(fits):
        raise ValueError("there are no groups to plot")
    if ncols is not None and ncols < 1:
        raise ValueError(f"ncols must be at least 1, not {ncols}")
    if layout != "overlay" and ax is not None:
        raise ValueError(f"ax is for layout='overlay'; a {layout} makes its own figure")
    _no_size_for(ax, size, dpi)
    if layout == "plate":  # no bands: what a well's curve needs, quickly
        groups = [(_group_name(key), _Well.of(fits, key)) for key in fits]
    else:
        groups = [(_group_name(key), res) for key, res in fits.items()]
    fitted = [res for _, res in groups if res.fitted]
    log_x = bool(fits.model.log_x) if log_x is None else log_x
    everything = [np.asarray(r.x, dtype=np.float64) for r in fitted]
    control = None
    if log_x and everything:
        control = control_position(np.concatenate(everything))
    draw = {
        "band": band,
        "level": level,
        "log_x": log_x,
        "log_y": log_y,
        "replicates": replicates,
        "data_kw": data_kw,
        "control": control,
        "ec": ec,
    }
    shared = f", shared {', '.join(fits.shared)}" if fits.shared else ""
    names = _axis_names(fits)
    look = {
        "xlabel": _text(xlabel, names[0]),
        "ylabel": _text(ylabel, names[1]),
        "size": size,
        "dpi": dpi,
    }
    by = _by_condition(groups, conditions) if conditions is not None else None
    if layout == "plate":
        look["title"] = _text(title, f"{fits.model.label}{shared}")
        return _plate(fits, groups, by, draw, line_kw, look)
    if layout == "overlay":
        look["title"] = _text(title, f"{fits.model.label}{shared}")
        if by is not None:
            members = [
                [_Member(n, r, _colour(i), f"{c} ({_count(m)})") for n, r in m]
                for i, (c, m) in enumerate(by.items())
            ]
            entries = [m for group in members for m in group]
            legend_title = "condition"
        else:
            entries = [_Member(n, r) for n, r in groups]
            legend_title = ", ".join(fits.by)
        fig = _overlay(ax, entries, draw, line_kw, look, legend_title)
    else:
        look["title"] = _text(title, f"{fits.model.label}{shared}")
        if by is not None:
            panels = [
                (c, [_Member(n, r, _colour(i)) for n, r in m])
                for i, (c, m) in enumerate(by.items())
            ]
        else:
            panels = [(n, [_Member(n, r)]) for n, r in groups]
        fig = _grid(panels, ncols, draw, line_kw, look, fits.model.label)
    if control is not None:
        lowest = _lowest_dose(fitted)
        for panel in fig.axes:
            if panel.get_xscale() == "log":
                _break_x(panel, control, lowest)
    return fig


def _overlay(
    ax: Axes | None,
    members: list[_Member],
    draw: dict[str, Any],
    line_kw: dict[str, Any] | None,
    look: dict[str, Any],
    legend_title: str,
) -> Figure:
    if ax is None:
        _, axes = _figure(look["size"], look["dpi"], (6.2, 3.6))
        ax = axes[0, 0]
    handles: list[Any] = []
    labels: list[str] = []
    notes: list[str] = []
    band = marks = None
    data_kw = {"label": "_nolegend_", **(draw["data_kw"] or {})}
    for i, member in enumerate(members):
        res = member.result
        if not res.fitted:
            notes.append(textwrap.fill(f"{member.name}: failed, {res.message}", 40))
            continue
        style = {"linestyle": _linestyle(i)} if member.colour is None else {}
        style |= {"color": member.colour} if member.colour is not None else {}
        drawn = _draw_fit(
            ax,
            res,
            label=member.label or member.name,
            line_kw={**style, **(line_kw or {})},
            **{**draw, "data_kw": data_kw},
        )
        band = band or drawn.band
        marks = marks or drawn.ec
        if drawn.curve.get_label() not in labels:
            labels.append(drawn.curve.get_label())
            handles.append((drawn.data, drawn.curve))
        notes += [f"{member.name}: {text}" for text in drawn.notes]
    extra: list[Artist] = []
    if band is not None:
        extra.append(_band_entry(draw["band"], band_level(members, draw)))
    if marks is not None:
        extra.append(marks)
    extra += [_note(text) for text in notes]
    ax.legend(
        handles=handles + extra,
        labels=labels + [a.get_label() for a in extra],
        title=legend_title or None,
        loc="center left",
        bbox_to_anchor=(1.02, 0.5),
    )
    ax.set_title(look["title"])
    ax.set_xlabel(look["xlabel"])
    ax.set_ylabel(look["ylabel"])
    return ax.figure


def band_level(members: Sequence[_Member], draw: dict[str, Any]) -> float:
    """The level the bands of `members` were drawn at."""
    if draw["level"] is not None:
        return float(draw["level"])
    return float(members[0].result.level)


def _lowest_in_column(n: int, ncols: int, i: int) -> bool:
    """Whether panel `i` of `n` in rows of `ncols` has no panel below it."""
    return i + ncols >= n


def _grid(
    panels: list[tuple[str, list[_Member]]],
    ncols: int | None,
    draw: dict[str, Any],
    line_kw: dict[str, Any] | None,
    look: dict[str, Any],
    model_label: str,
) -> Figure:
    n = len(panels)
    ncols = min(n, ncols or math.ceil(math.sqrt(n)))
    nrows = math.ceil(n / ncols)
    default = (1.6 + 2.3 * ncols, 0.8 + 1.9 * nrows)
    fig, axes = _figure(
        look["size"], look["dpi"], default, nrows, ncols, sharex=True, sharey=True
    )
    flat = list(axes.flat)
    for extra in flat[n:]:
        extra.remove()
    legend: list[Artist] = []
    statuses: list[str] = []
    notes: list[str] = []
    for i, (panel, (name, members)) in enumerate(zip(flat, panels, strict=False)):
        if _lowest_in_column(n, ncols, i):
            panel.tick_params(labelbottom=True)
        status = "ok"
        for member in members:
            res = member.result
            if not res.fitted:
                status = "failed"
                if len(members) == 1:
                    _failed_text(panel, res.message)
                continue
            status = res.status if status == "ok" else status
            style = {"color": member.colour} if member.colour is not None else {}
            drawn = _draw_fit(
                panel,
                res,
                label=model_label,
                line_kw={**style, **(line_kw or {})},
                **draw,
            )
            notes += [f"{name}: {text}" for text in drawn.notes]  # never on data
            if not legend:
                legend = [drawn.data, drawn.curve]
                legend += [a for a in (drawn.band, drawn.ec) if a is not None]
        _panel_title(panel, name, status if len(members) == 1 else "ok")
        if status != "ok" and status not in statuses:
            statuses.append(status)
    words = [f"{s}: {STATUS_WORDS.get(s, s)}" for s in statuses]
    entries = [_note(textwrap.fill(t, LABEL_WIDTH)) for t in words + notes]
    if legend or entries:
        fig.legend(handles=legend + entries, loc="outside right upper")
    _figure_text(fig, look)
    return fig


def _failed_text(ax: Axes, message: str) -> None:
    """Why a group has no curve, written in its panel."""
    ax.text(
        0.5,
        0.5,
        textwrap.fill(message, width=30),
        transform=ax.transAxes,
        ha="center",
        va="center",
        fontsize="small",
        color=ALERT,
    )


def _panel_title(ax: Axes, name: str, status: str) -> None:
    """A panel's title: the group, and its status (short, in the alert
    colour) unless ok."""
    if status == "ok":
        ax.set_title(name)
    else:
        ax.set_title(f"{name}: {status}", color=ALERT)


def _figure_text(fig: Figure, look: dict[str, Any]) -> None:
    """The figure's title and axis labels, when not empty."""
    if look["title"]:
        fig.suptitle(look["title"])
    if look["xlabel"]:
        fig.supxlabel(look["xlabel"])
    if look["ylabel"]:
        fig.supylabel(look["ylabel"])


class _Well:
    """What a plate's panel draws of a group's fit (its points, curve and
    status), read from the fits' table without building a
    :class:`~scurve.results.fit.FitResult` (which takes a quarter of a
    second each; a plate has 96 or 384)."""

    def __init__(
        self, fits: GroupFits, key: tuple, values: dict[str, float], row: int
    ) -> None:
        table = fits.result_table
        points = fits.data(key)
        self.model = fits.model
        self.level = table.level
        self.status = str(table.status[row])
        self.message = str(table.message[row])
        self.fitted = not (
            self.status == "failed" and math.isnan(table.stats["n"][row])
        )
        empty = np.array([], dtype=np.float64)
        self.x = empty if points is None else np.asarray(points.x, np.float64)
        self.data = empty if points is None else np.asarray(points.y, np.float64)
        self._values = values

    @classmethod
    def of(cls, fits: GroupFits, key: tuple) -> _Well:
        table = fits.result_table
        row = table.index(key)
        names = fits.model.curve_params
        values = {n: float(table.value[row, i]) for i, n in enumerate(names)}
        return cls(fits, key, values, row)

    def predict(self, x: ArrayLike) -> NDArray[np.float64]:
        x = np.asarray(x, dtype=np.float64)
        return np.asarray(self.model.function(x, **self._values), dtype=np.float64)


def _row_name(row: int) -> str:
    """A plate row's letters: ``A`` ... ``Z``, then ``AA`` ... ``AF``."""
    return chr(ord("A") + row) if row < 26 else "A" + chr(ord("A") + row - 26)


def _wells(groups: list[tuple[str, FitResult]]) -> dict[tuple[int, int], str]:
    """Each group's plate position; a ValueError for a name that is not a well."""
    wells = {}
    for name, _ in groups:
        position = well_position(name) if "," not in name else None
        if position is None:
            raise ValueError(
                f"layout='plate' needs groups named like wells ({WELL_NAMES}), "
                f"not {name!r}"
            )
        wells[position] = name
    return wells


#: A plate's panel (inches) and margins (left, right, bottom, top).
PLATE_PANEL = (0.9, 0.7)
PLATE_MARGINS = (0.75, 0.15, 0.6, 0.75)


def _plate(
    fits: GroupFits,
    groups: list[tuple[str, FitResult]],
    by: dict[str, list[tuple[str, FitResult]]] | None,
    draw: dict[str, Any],
    line_kw: dict[str, Any] | None,
    look: dict[str, Any],
) -> Figure:
    """One small panel per well, in the rows and columns that have wells."""
    wells = _wells(groups)
    results = dict(groups)
    rows = sorted({r for r, _ in wells})
    cols = sorted({c for _, c in wells})
    left, right, bottom, top = PLATE_MARGINS
    width = left + right + PLATE_PANEL[0] * len(cols)
    height = bottom + top + PLATE_PANEL[1] * len(rows)
    # a fixed layout, and limits set alike rather than shared axes: both
    # cost time growing with the square of the panels (seconds for 96)
    fig, axes = _figure(
        look["size"], look["dpi"], (width, height), len(rows), len(cols),
        layout=None,
        gridspec_kw={"hspace": 0.12, "wspace": 0.08},
    )  # fmt: skip
    w, h = fig.get_size_inches()
    fig.subplots_adjust(
        left=left / w, right=1 - right / w, bottom=bottom / h, top=1 - top / h
    )
    colour = {}
    if by is not None:
        colour = {n: _colour(i) for i, (_, m) in enumerate(by.items()) for n, _ in m}
    small = {"markersize": 1.6, "color": "0.55", "alpha": 1.0, "zorder": 1}
    # no bands, no ECx: unreadable at this size, and slow on 96 axes
    draw = {**draw, "band": None, "ec": None}
    draw["data_kw"] = {**small, **(draw["data_kw"] or {})}
    statuses: list[str] = []
    lowest = {c: max(i for i, r in enumerate(rows) if (r, c) in wells) for c in cols}
    leftmost = {r: min(j for j, c in enumerate(cols) if (r, c) in wells) for r in rows}
    for (i, j), panel in np.ndenumerate(axes):
        row, col = rows[i], cols[j]
        if i == 0:
            panel.set_title(str(col + 1), fontsize="small", pad=3)
        if j == 0:
            panel.set_ylabel(
                _row_name(row), rotation=0, ha="right", va="center",
                fontweight="bold", labelpad=6,
            )  # fmt: skip
        if (row, col) not in wells:
            _blank(panel)
            continue
        name = wells[row, col]
        panel.set_label(name)
        panel.tick_params(
            labelbottom=lowest[col] == i, labelleft=leftmost[row] == j, labelsize=6.5
        )
        status = _draw_well(panel, results[name], draw, line_kw, colour.get(name))
        if status != "ok" and status not in statuses:
            statuses.append(status)
    from matplotlib.ticker import MaxNLocator

    _same_limits([axes[i, j] for i, j in np.ndindex(axes.shape)])
    for panel in axes.flat:
        panel.xaxis.set_major_locator(MaxNLocator(3))
        if panel.get_yscale() == "linear":
            panel.yaxis.set_major_locator(MaxNLocator(3))
    _plate_legend(fig, by, colour, statuses, fits.model.label)
    if look["title"]:
        fig.suptitle(look["title"], x=left / w, ha="left", y=1 - 0.08 / h, va="top")
    if look["xlabel"]:
        fig.supxlabel(look["xlabel"], y=0.05 / h, va="bottom")
    if look["ylabel"]:
        fig.supylabel(look["ylabel"], x=0.05 / w, ha="left")
    return fig


def _same_limits(panels: list[Axes]) -> None:
    """The limits of every panel those that fit all their data, with the
    usual margins (linear or log)."""
    drawn = [p for p in panels if p.has_data()]
    if not drawn:
        return
    for axis in ("x", "y"):
        log = getattr(drawn[0], f"get_{axis}scale")() == "log"
        spans = [getattr(p.dataLim, f"interval{axis}") for p in drawn]
        low = min(float(np.nanmin(s)) for s in spans)
        high = max(float(np.nanmax(s)) for s in spans)
        if log and low > 0:
            low, high = np.log10(low), np.log10(high)
        pad = 0.05 * (high - low) or 0.5
        low, high = low - pad, high + pad
        if log and low > -300:
            low, high = 10**low, 10**high
        for panel in panels:
            getattr(panel, f"set_{axis}lim")(low, high)
            if log:
                getattr(panel, f"set_{axis}scale")("log")


def _blank(ax: Axes) -> None:
    """A cell of the plate without a well: its header and row label stay."""
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.tick_params(
        which="both", bottom=False, left=False, labelbottom=False, labelleft=False
    )
    ax.patch.set_visible(False)


def _draw_well(
    ax: Axes,
    result: FitResult,
    draw: dict[str, Any],
    line_kw: dict[str, Any] | None,
    colour: str | None,
) -> str:
    """One well's data and curve; a well whose fit is not ok (it did not
    grow, could not be fitted ...) gets its status written in it and
    alert-coloured axes."""
    status = result.status if result.fitted else "failed"
    if result.fitted:
        style = {"color": colour or _colour(0), "linewidth": 1.0}
        if status == "flat":
            style["alpha"] = 0.0  # no S-curve to show: the data only
        _draw_fit(ax, result, label=None, line_kw={**style, **(line_kw or {})}, **draw)
    if status != "ok":
        ax.text(
            0.5, 0.82, status.replace("_", " "), transform=ax.transAxes,
            ha="center", va="top",
            color=ALERT, fontsize="small", fontweight="bold",
        )  # fmt: skip
        for spine in ax.spines.values():
            spine.set_edgecolor(ALERT)
    return status


def _plate_legend(
    fig: Figure,
    by: dict[str, list[tuple[str, FitResult]]] | None,
    colour: dict[str, str],
    statuses: list[str],
    model_label: str,
) -> None:
    """One legend above the plate: the conditions (or data and curve), then
    what the marked wells mean."""
    from matplotlib.lines import Line2D

    if by is not None:
        handles = [
            Line2D([], [], color=colour[m[0][0]], label=c) for c, m in by.items()
        ]
    else:
        handles = [
            Line2D([], [], marker="o", markersize=2, linestyle="none", color="0.55",
                   label="data"),
            Line2D([], [], color=_colour(0), linewidth=1.0, label=model_label),
        ]  # fmt: skip
    words = {"flat": "no growth"}
    handles += [_note(f"{s}: {words.get(s, STATUS_WORDS.get(s, s))}") for s in statuses]
    fig.legend(
        handles=handles,
        loc="upper right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=len(handles),
        borderaxespad=0.2,
    )


# ------------------------------------------------------------------ diffusion


def _diffusion_panel(
    ax: Axes,
    result: FitResult,
    periods: int,
    levels: Sequence[float],
    cumulative: bool,
) -> tuple[float, float]:
    """The data (when of this kind), the fitted curve, the forecast in a fan
    of nested intervals; returns the peak of adoptions (time, value) of the
    drawn curves."""
    from scurve.analysis.diffusion import forecast

    column = "cumulative" if cumulative else "adoptions"
    model = result.model
    x = np.asarray(result.x, dtype=np.float64)
    order = np.argsort(x)
    observed = (
        model.adoptions == "cumulative"
        if cumulative
        else model.adoptions in ("per-period", "rate")
    )
    if observed:
        ax.plot(
            x, result.data, "o", color="0.25", markersize=3.5, markeredgewidth=0,
            label="data", zorder=3,
        )  # fmt: skip
    curves = model.curves(x[order], result.params)
    past = curves["cumulative" if cumulative else "per_period"]
    fit_colour, fan_colour = _colour(0), _colour(1)
    ax.plot(x[order], past, color=fit_colour, label="fit", zorder=2)
    # the fan opens at the last fitted point
    start_x, start_y = [float(x[order][-1])], [float(past[-1])]
    table = None
    for i, level in enumerate(sorted(levels, reverse=True)):
        table = forecast(result, periods, level=level)
        ax.fill_between(
            np.concatenate([start_x, table["x"]]),
            np.concatenate([start_y, table[f"{column}_lower"]]),
            np.concatenate([start_y, table[f"{column}_upper"]]),
            color=fan_colour,
            alpha=0.15 + 0.15 * i,
            linewidth=0,
            label=f"{level:.0%} prediction",
        )
    if table is None:
        table = forecast(result, periods)
    ax.plot(
        np.concatenate([start_x, table["x"]]),
        np.concatenate([start_y, table[column]]),
        color=fan_colour,
        label="forecast",
        zorder=2,
    )
    ax.xaxis.set_major_locator(_integer_ticks())
    times = np.concatenate([x[order], table["x"].to_numpy(dtype=np.float64)])
    adoptions = np.concatenate(
        [curves["per_period"], table["adoptions"].to_numpy(dtype=np.float64)]
    )
    top = int(np.nanargmax(adoptions))
    return float(times[top]), float(adoptions[top])


def _integer_ticks() -> Any:
    """A locator of whole numbers (periods, years)."""
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(nbins="auto", integer=True)


def _mark_peak(ax: Axes, peak: tuple[float, float], on_curve: bool) -> None:
    """A dotted line at the peak's time; on the adoptions, a marker at it."""
    when, value = peak
    ax.axvline(
        when, color="0.4", linestyle=":", linewidth=0.9, gid="peak", zorder=1,
        label="_nolegend_",
    )  # fmt: skip
    if on_curve:
        ax.plot(
            [when], [value], marker="v", markersize=6, color="black",
            linestyle="none", gid="peak", zorder=4, label=f"peak {when:g}",
        )  # fmt: skip


def _diffusion_names(result: FitResult, ylabel: str | None) -> tuple[str, str]:
    """The x name and the adoptions' name of a diffusion fit."""
    x_name, y_name = _axis_names(result)
    return x_name, _text(ylabel, y_name if y_name != "y" else "adoptions")


@_styled
def plot_adoption(
    result: FitResult,
    periods: int,
    *,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Figure:
    """A diffusion fit in two panels: adoptions per period (left) and
    cumulative adopters (right), each with the data of its kind, the fitted
    curve, the forecast of the next `periods` periods in a fan of nested
    prediction intervals, and the peak of adoptions marked.

    Parameters
    ----------
    result : FitResult
        A fit of a model that forecasts (``bass``: :func:`scurve.forecast`).
    periods : int
        Periods to forecast.
    levels : sequence of float
        The intervals of the fan, the widest the palest.
    xlabel, ylabel : str, optional
        Default the columns fitted; the right panel's y label is
        ``cumulative`` and the left's.
    title, size, dpi
        As in :func:`plot_fit` (the title is the figure's; default none).

    Returns
    -------
    matplotlib.figure.Figure
    """
    fig, axes = _figure(size, dpi, (8.0, 3.2), 1, 2)
    adoption, cumulative = axes[0]
    x_name, y_name = _diffusion_names(result, ylabel)
    peak = _diffusion_panel(adoption, result, periods, levels, cumulative=False)
    _diffusion_panel(cumulative, result, periods, levels, cumulative=True)
    _mark_peak(adoption, peak, on_curve=True)
    _mark_peak(cumulative, peak, on_curve=False)
    adoption.set_ylabel(y_name)
    cumulative.set_ylabel(f"cumulative {y_name}" if y_name else "")
    for ax in (adoption, cumulative):
        ax.set_xlabel(_text(xlabel, x_name))
    fig.legend(
        handles=adoption.get_legend_handles_labels()[0], loc="outside right center"
    )
    if title:
        fig.suptitle(title)
    return fig


@_styled
def plot_forecast(
    result: FitResult,
    periods: int,
    ax: Axes | None = None,
    *,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    cumulative: bool = False,
    label: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Axes:
    """A fan chart: the data, the fitted curve and the forecast of the next
    `periods` periods in nested prediction intervals, the peak of adoptions
    marked.

    Parameters
    ----------
    result : FitResult
        A fit of a model that forecasts (``bass``:
        :func:`scurve.forecast`).
    ax : Axes, optional
        Where to draw; default a new pyplot figure.
    levels : sequence of float
        The intervals of the fan, the widest the palest.
    cumulative : bool
        Draw cumulative adopters instead of adoptions per period.
    label : str, optional
        The title (older name of `title`).
    xlabel, ylabel, title, size, dpi
        As in :func:`plot_fit`; the title's default is the model's label.

    Returns
    -------
    Axes
    """
    _no_size_for(ax, size, dpi)
    if ax is None:
        _, axes = _figure(size, dpi, (5.6, 3.4))
        ax = axes[0, 0]
    peak = _diffusion_panel(ax, result, periods, levels, cumulative)
    _mark_peak(ax, peak, on_curve=not cumulative)
    x_name, y_name = _diffusion_names(result, ylabel)
    ax.set_title(_text(title, label or f"{result.model.label}: forecast"))
    ax.set_xlabel(_text(xlabel, x_name))
    ax.set_ylabel(f"cumulative {y_name}" if cumulative and y_name else y_name)
    _outside_legend(ax, list(ax.get_legend_handles_labels()[0]))
    return ax


# ------------------------------------------------------------------ any result


@_styled
def plot_result(
    result: FitResult | GroupFits, *, periods: int = 5, **options: Any
) -> Figure:
    """The figure of a result's domain: a diffusion fit's adoption and
    cumulative panels with a `periods` forecast (:func:`plot_adoption`);
    another fit (:func:`plot_fit`); groups named like wells as a plate, up
    to four groups overlaid, more in a grid (:func:`plot_groups`; give
    ``layout`` to choose). `options` go to the function chosen.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from scurve.results.fit import FitResult

    if isinstance(result, FitResult):
        if getattr(result.model, "adoptions", None) is not None:
            return plot_adoption(result, periods, **options)
        drawn = plot_fit(result, **options)
        return drawn[0].figure if isinstance(drawn, tuple) else drawn.figure
    if "layout" not in options:
        names = [_group_name(key) for key in result]
        if all("," not in n and well_position(n) is not None for n in names):
            options["layout"] = "plate"
        else:
            options["layout"] = "overlay" if len(names) <= 4 else "grid"
    return plot_groups(result, **options)


# ------------------------------------------------------------------ files


def figure_format(path: str | os.PathLike[str]) -> str:
    """The format a figure is written in to `path`, named by its extension
    (``png``, ``pdf``, ``svg``, or any other format matplotlib writes).

    Raises
    ------
    ValueError
        An extension that names no such format (the message lists them).
    ImportError
        matplotlib is not installed (the message says how to install it).
    """
    _matplotlib()
    from matplotlib.backend_bases import FigureCanvasBase

    fmt = Path(path).suffix[1:].lower()
    formats = FigureCanvasBase.get_supported_filetypes()
    if fmt not in formats:
        raise ValueError(
            f"cannot tell which format to write {os.fspath(path)!r} in: give it "
            f"one of the extensions {', '.join('.' + f for f in sorted(formats))}"
        )
    return fmt


def _check_pixels(fig: Figure, fmt: str, dpi: Any) -> None:
    """A ValueError for a raster image too large for matplotlib to draw."""
    if fmt not in RASTER_FORMATS:
        return
    dots = fig.dpi if dpi in (None, "figure") else float(dpi)
    width, height = (round(v * dots) for v in fig.get_size_inches())
    if max(width, height) > MAX_PIXELS:
        raise ValueError(
            f"the figure would be {width} x {height} pixels, and a {fmt} image is "
            f"at most {MAX_PIXELS} a side: lower its size or dpi, or write a "
            f"vector format (.pdf, .svg)"
        )


def save_figure(
    fig: Figure, path: str | os.PathLike[str], *, close: bool = False, **savefig: Any
) -> Path:
    """Write `fig` to `path` atomically, in the format named by its extension.

    The figure is written with :func:`scurve.io.atomic_write`: to a temporary
    file in the same directory, flushed to disk, then moved over `path` with
    :func:`os.replace`; on any error the temporary file is removed and an
    existing `path` is left untouched. Raster images are written at the
    figure's dpi unless `savefig` gives one; vector formats (PDF, SVG) keep
    text as text, with fonts embedded.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure, e.g. ``ax.figure`` of :func:`plot_shapes`.
    path : str or os.PathLike
        Destination; its extension (``.png``, ``.pdf``, ``.svg``, or any other
        format matplotlib writes) chooses the format.
    close : bool, optional
        Close the figure after writing it (scripts writing many figures);
        default False, so that a notebook can still show it.
    **savefig
        Passed to :meth:`matplotlib.figure.Figure.savefig` (``dpi`` ...).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ValueError
        If the extension names no format matplotlib can write, or a raster
        image would be more than 65535 pixels a side.
    OSError
        If the file cannot be written (missing directory, permissions, a
        directory in the way ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from scurve.plotting import plot_shapes, save_figure
    >>> ax = plot_shapes(["tanh"])
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     save_figure(ax.figure, pathlib.Path(tmp) / "tanh.svg").stat().st_size > 0
    True
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{str(path)!r} is a directory")
    fmt = figure_format(path)
    savefig.setdefault("dpi", "figure")
    _check_pixels(fig, fmt, savefig["dpi"])
    if not path.parent.is_dir():
        # An OSError, as documented (atomic_write would raise an InputError).
        raise FileNotFoundError(
            errno.ENOENT, os.strerror(errno.ENOENT), str(path.parent)
        )
    with house_style(), atomic_write(path, "wb") as stream:
        fig.savefig(stream, format=fmt, **savefig)
    if close:
        _pyplot().close(fig)
    return path


# ------------------------------------------------------------------ audio


@_styled
def plot_transfer(
    shapers: Any,
    x: ArrayLike | None = None,
    axes: Sequence[Axes] | None = None,
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Figure:
    """Transfer curves of waveshapers (left) and their slopes (right), with
    the unity line (output = input; slope 1) for reference.

    Parameters
    ----------
    shapers : Waveshaper or sequence of Waveshaper
        :class:`scurve.audio.Waveshaper` objects; the static curve is drawn
        (no oversampling, no DC blocker) with its drive and bias, the slope
        by central differences. Legend entries name curve, drive and bias.
    x : array_like, optional
        Input levels; default 1001 points on [-1, 1] (full scale).
    axes : pair of Axes, optional
    xlabel, ylabel : str, optional
        Default ``input`` and ``output``.
    title, size, dpi
        As in :func:`plot_fit` (the title is the figure's; default none).

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from scurve.audio import Waveshaper
    >>> fig = plot_transfer([Waveshaper("tanh", drive_db=12.0)])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['unity', 'tanh +12 dB']
    """
    items = list(shapers) if isinstance(shapers, Sequence) else [shapers]
    xs = np.linspace(-1.0, 1.0, 1001) if x is None else np.asarray(x, float)
    _no_size_for(axes, size, dpi)
    if axes is None:
        _, grid = _figure(size, dpi, (7.0, 3.0), 1, 2)
        axes = list(grid[0])
    left, right = axes
    unity = {"color": "0.6", "linestyle": ":", "linewidth": 1.0, "gid": "unity"}
    left.plot(xs, xs, label="unity", **unity)
    right.axhline(1.0, label="unity", **unity)
    for i, shaper in enumerate(items):
        label = f"{shaper.curve} {shaper.drive_db:+g} dB"
        if shaper.bias:
            label += f", bias {shaper.bias:g}"
        ys = shaper.transfer(xs)
        style = {"label": label, "linestyle": _linestyle(i), "color": _colour(i)}
        left.plot(xs, ys, **style)
        right.plot(xs, np.gradient(ys, xs), **style)
    left.set(
        xlabel=_text(xlabel, "input"), ylabel=_text(ylabel, "output"),
        title="Transfer curve",
    )  # fmt: skip
    right.set(xlabel=_text(xlabel, "input"), ylabel="d output / d input", title="Slope")
    handles, labels = left.get_legend_handles_labels()
    order = [*range(1, len(handles)), 0]  # the shapers, then unity
    left.legend(
        [handles[k] for k in order], [labels[k] for k in order], loc="upper left"
    )
    if title:
        left.figure.suptitle(title)
    return left.figure


def _aliasing_floor(
    audio: ArrayLike,
    before: ArrayLike | None,
    sample_rate: float,
    window: str,
    f0: float | None,
) -> float:
    """The level of the strongest component in the audio band that is not
    a harmonic of the test tone, in dB re the peak."""
    from scurve.audio.analysis import estimate_fundamental, spectrum

    s = spectrum(audio, sample_rate, window)  # type: ignore[arg-type]
    if f0 is None:
        tone = s if before is None else spectrum(before, sample_rate, window)  # type: ignore[arg-type]
        if not np.any(tone.power[tone.band()] > 0):
            raise ValueError(
                "aliasing: no test tone to take f0 from (the signal is silent "
                "in 20 Hz-20 kHz); give f0"
            )
        f0 = estimate_fundamental(tone, sample_rate)
    inside = s.band() & ~s.harmonic_mask(f0)
    peak = float(np.max(s.power)) or 1.0
    other = float(np.max(s.power[inside])) if inside.any() else 0.0
    return 10 * math.log10(max(other, 1e-300) / peak)


@_styled
def plot_spectrum(
    audio: ArrayLike,
    sample_rate: float,
    ax: Axes | None = None,
    label: str | None = None,
    window: str = "blackmanharris7",
    floor_db: float = -200.0,
    *,
    before: ArrayLike | None = None,
    aliasing: bool = False,
    f0: float | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Axes:
    """The power spectrum of one channel, in dB relative to its peak;
    optionally the input's before it and the aliasing floor.

    Parameters
    ----------
    audio : array_like
        One channel (1-D): the output of a waveshaper, say.
    sample_rate : float
    ax : Axes, optional
    label : str, optional
        Legend entry; ``output`` when `before` is given.
    window : str
        See :func:`scurve.audio.analysis.spectrum`.
    floor_db : float
        Levels below this are drawn at it.
    before : array_like, optional
        The same channel before processing (the test tone), drawn first, in
        grey, labelled ``input``.
    aliasing : bool
        Mark the aliasing floor: a dashed line at the strongest component
        in 20 Hz-20 kHz that is not a harmonic of the test tone (its f0
        taken from `before`, else from `audio`), in the alert colour.
    f0 : float, optional
        The test tone's frequency, instead of finding it.
    xlabel, ylabel, title, size, dpi
        As in :func:`plot_fit`.

    Raises
    ------
    ValueError
        `aliasing` on silence without `f0`; a bad signal (see
        :func:`~scurve.audio.analysis.spectrum`), `size` or `dpi`.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(4800) / 48000
    >>> ax = plot_spectrum(np.sin(2 * np.pi * 1000 * t), 48000, label="sine")
    >>> ax.get_xlabel()
    'frequency (Hz)'
    """
    from scurve.audio.analysis import spectrum

    _no_size_for(ax, size, dpi)
    floor = (
        _aliasing_floor(audio, before, sample_rate, window, f0) if aliasing else None
    )
    if ax is None:
        _, axes = _figure(size, dpi, (6.2, 3.2))
        ax = axes[0, 0]
    signals = [(audio, label or ("output" if before is not None else None), None)]
    if before is not None:
        signals.insert(0, (before, "input", "0.55"))
    for signal, name, colour in signals:
        s = spectrum(signal, sample_rate, window)  # type: ignore[arg-type]
        peak = float(np.max(s.power)) or 1.0
        level = 10 * np.log10(np.maximum(s.power / peak, 10 ** (floor_db / 10)))
        style = {"color": colour} if colour else {}
        ax.plot(s.freqs[1:], level[1:], linewidth=0.7, label=name, **style)
    if floor is not None:
        ax.axhline(
            floor, color=ALERT, linestyle="--", linewidth=1.0, gid="aliasing-floor",
            label=f"aliasing floor {floor:.0f} dB",
        )  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlim(20, sample_rate / 2)
    ax.set(
        xlabel=_text(xlabel, "frequency (Hz)"),
        ylabel=_text(ylabel, "level (dB re peak)"),
        title=_text(title, "Spectrum"),
    )
    if any(name for _, name, _ in signals) or floor is not None:
        _outside_legend(ax, list(ax.get_legend_handles_labels()[0]))
    return ax


# ------------------------------------------------------------ calibration


@_styled
def plot_reliability(
    tables: Any,
    ax: Axes | None = None,
    *,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    size: Size | None = None,
    dpi: float | None = None,
) -> Axes:
    """The reliability diagram of calibrated probabilities: the observed
    frequency of each bin against its mean prediction, with the diagonal of
    perfect calibration; empty bins are left out.

    Parameters
    ----------
    tables : pandas.DataFrame or mapping of str to pandas.DataFrame
        Reliability tables (:func:`scurve.analysis.calibration.reliability`:
        columns ``predicted`` and ``observed``), e.g. ``{"before": ...,
        "after": ...}``; each is a line, labelled by its key.
    ax : Axes, optional
    xlabel, ylabel, title, size, dpi
        As in :func:`plot_fit`.

    Raises
    ------
    ValueError
        A table without columns ``predicted`` and ``observed``; a bad
        `size` or `dpi`.

    Examples
    --------
    >>> import numpy as np
    >>> from scurve.analysis.calibration import reliability
    >>> p = np.linspace(0.01, 0.99, 200)
    >>> ax = plot_reliability({"model": reliability(p, p > 0.5)})
    >>> [line.get_label() for line in ax.get_lines()]
    ['perfect calibration', 'model']
    """
    items = dict(tables) if isinstance(tables, Mapping) else {None: tables}
    for name, table in items.items():
        if not {"predicted", "observed"} <= set(getattr(table, "columns", ())):
            which = f" {name!r}" if name is not None else ""
            raise ValueError(
                f"reliability table{which} needs columns predicted and observed"
            )
    _no_size_for(ax, size, dpi)
    if ax is None:
        _, axes = _figure(size, dpi, (4.2, 4.0))
        ax = axes[0, 0]
    ax.plot(
        [0, 1], [0, 1], color="0.6", linestyle=":", linewidth=1.0,
        label="perfect calibration", gid="diagonal",
    )  # fmt: skip
    for i, (name, table) in enumerate(items.items()):
        shown = table[table["predicted"].notna()]
        ax.plot(
            shown["predicted"], shown["observed"], marker="o", color=_colour(i),
            linestyle=_linestyle(i), label=name,
        )  # fmt: skip
    ax.set(
        xlim=(0, 1), ylim=(0, 1), aspect="equal",
        xlabel=_text(xlabel, "mean predicted probability"),
        ylabel=_text(ylabel, "observed frequency"),
        title=_text(title, "Reliability"),
    )  # fmt: skip
    if any(name is not None for name in items):
        ax.legend(loc="upper left")
    return ax
