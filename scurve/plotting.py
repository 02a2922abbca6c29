"""Plots of S-curves and of fits; the only module of scurve that imports matplotlib.

:func:`plot_shapes` and :func:`plot_family` draw the curves of
:data:`scurve.shapes.REGISTRY`; :func:`plot_fit` draws one fit (data, curve,
band, residuals) and :func:`plot_groups` the fits of a table's groups.

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
import math
import os
import re
import sys
import textwrap
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import shapes
from scurve.io import atomic_write

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
    "plot_fit",
    "plot_forecast",
    "plot_groups",
    "plot_shapes",
    "plot_spectrum",
    "plot_transfer",
    "save_figure",
]

Form = Literal["native", "odd", "unit"]
Band = Literal["confidence", "prediction"]
Replicates = Literal["points", "mean"]

#: Default abscissae (start, stop, count): every curve of the family saturates.
DEFAULT_X = (-5.0, 5.0, 1001)

#: Points on the grid a fitted curve and its band are drawn on.
CURVE_POINTS = 400


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


def _linestyle(i: int) -> str:
    """The line style of the `i`-th of many curves drawn on one axes.

    The S-curve family and a table's groups outnumber the default colour
    cycle: once the colours run out, start again dashed (then dash-dot,
    dotted), so that no two curves look alike.
    """
    cycle = _matplotlib().rcParams["axes.prop_cycle"].by_key()
    n_colours = len(cycle.get("color", ())) or 1
    return ("-", "--", "-.", ":")[i // n_colours % 4]


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


def plot_shapes(
    names: str | Iterable[str] | None = None,
    form: Form = "native",
    x: ArrayLike | None = None,
    ax: Axes | None = None,
    derivative: bool = False,
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

    Returns
    -------
    matplotlib.axes.Axes
        The axes, with one line per curve and a legend naming them.

    Raises
    ------
    ValueError
        If a name is not in the registry, a named shape has no such `form`,
        or `form` is not one of the three.
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
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(8.0, 5.0), layout="constrained")
    for i, (name, curve) in enumerate(curves):
        ys = curve.derivative(xs) if derivative else curve.value(xs)
        ax.plot(xs, ys, label=name, linestyle=_linestyle(i))
    ax.set_xlabel("x")
    ax.set_ylabel("f'(x)" if derivative else "f(x)")
    what = "Derivatives of S-curves" if derivative else "S-curves"
    ax.set_title(f"{what}, {form} form")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small", loc="center left", bbox_to_anchor=(1.01, 0.5))
    return ax


def plot_family(
    forms: Iterable[Literal["odd", "unit"]] = ("odd", "unit"),
    x: ArrayLike | None = None,
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
    fig, axes = _pyplot().subplots(
        len(forms),
        2,
        figsize=(12.0, 4.0 * len(forms)),
        layout="constrained",
        squeeze=False,
    )
    for row, form in zip(axes, forms, strict=True):
        plot_shapes(form=form, x=x, ax=row[0])
        plot_shapes(form=form, x=x, ax=row[1], derivative=True)
        row[0].get_legend().remove()
    return fig


class _Drawn(NamedTuple):
    """What :func:`_draw_fit` put on the axes, for the caller's legend."""

    data: Artist
    curve: Line2D
    band: Artist | None
    notes: list[str]


def _check_choice(name: str, value: object, choices: tuple[object, ...]) -> None:
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {allowed}, not {value!r}")


def _response(result: FitResult) -> NDArray[np.float64]:
    """The fitted y (lmfit's ``data``)."""
    return np.asarray(result.data, dtype=np.float64)


def _replicate_means(
    x: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Distinct x, the mean y at each and its standard error (NaN for one point)."""
    ux, where, counts = np.unique(x, return_inverse=True, return_counts=True)
    means = np.bincount(where, weights=y) / counts
    squares = np.bincount(where, weights=(y - means[where]) ** 2)
    se = np.full(ux.shape, np.nan)
    many = counts > 1
    se[many] = np.sqrt(squares[many] / (counts[many] - 1) / counts[many])
    return ux, means, se


def _draw_points(
    ax: Axes,
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    replicates: Replicates,
    style: dict[str, Any],
) -> Artist:
    """The data as markers, or their means at each x with standard-error bars."""
    if replicates == "mean":
        ux, means, se = _replicate_means(x, y)
        return ax.errorbar(ux, means, yerr=se, capsize=2.5, **style)
    (line,) = ax.plot(x, y, **style)
    return line


def _draw_fit(
    ax: Axes,
    result: FitResult,
    *,
    band: Band | None,
    level: float | None,
    log_x: bool | None,
    replicates: Replicates,
    data_kw: dict[str, Any] | None,
    line_kw: dict[str, Any] | None,
    label: str | None,
    ax_resid: Axes | None = None,
) -> _Drawn:
    """Data, fitted curve and band of one fit on `ax`; residuals on `ax_resid`.

    The curve takes the next colour of the axes' cycle (unless `line_kw`
    names one); the band and the data take the curve's colour.
    """
    _check_choice("band", band, ("confidence", "prediction", None))
    _check_choice("replicates", replicates, ("points", "mean"))
    level = result.level if level is None else float(level)
    log_x = bool(result.model.log_x) if log_x is None else log_x
    x = np.asarray(result.x, dtype=np.float64)
    y = _response(result)
    notes = []
    shown = x > 0 if log_x else np.ones(x.shape, dtype=bool)
    if not shown.any():
        raise ValueError(
            "log_x: every x is <= 0 and cannot be drawn on a log axis; pass log_x=False"
        )
    if not shown.all():
        hidden = int(np.count_nonzero(~shown))
        points = "point" if hidden == 1 else "points"
        notes.append(f"{hidden} {points} at x ≤ 0 not shown (log axis)")
    x, y = x[shown], y[shown]
    if log_x:
        grid = np.geomspace(x.min(), x.max(), CURVE_POINTS)
    else:
        grid = np.linspace(x.min(), x.max(), CURVE_POINTS)

    if band is None:
        fitted, lower, upper = result.predict(grid), None, None
    else:
        fitted, lower, upper = result.band(grid, band, level)
    line_style = {"label": result.model.label if label is None else label}
    line_style.update({"zorder": 2, **(line_kw or {})})
    status = result.status
    if status != "ok":
        line_style["label"] = f"{line_style['label']} ({status})"
    (curve,) = ax.plot(grid, fitted, **line_style)
    colour = curve.get_color()

    band_artist = None
    if lower is not None and upper is not None:
        if np.isfinite(lower).any() and np.isfinite(upper).any():
            low, high = _band_limits(y, fitted)
            band_artist = ax.fill_between(
                grid,
                np.clip(lower, low, None),
                np.clip(upper, None, high),
                color=colour,
                alpha=0.2,
                linewidth=0,
                zorder=1,
                label=f"{level:.0%} {band} band",
            )
        else:
            notes.append(f"no {band} band: the fit has no covariance matrix")

    style = {
        "marker": "o",
        "markersize": 4,
        "linestyle": "none",
        "color": colour,
        "alpha": 0.8,
        "zorder": 3,
        "label": "data (mean ± SE)" if replicates == "mean" else "data",
        **(data_kw or {}),
    }
    data = _draw_points(ax, x, y, replicates, style)
    if ax_resid is not None:
        ax_resid.axhline(0.0, color=colour, linewidth=1, zorder=2)
        style["label"] = "_nolegend_"
        _draw_points(ax_resid, x, y - result.predict(x), replicates, style)
    for panel in (ax, ax_resid):
        if panel is not None and log_x:
            panel.set_xscale("log")
    return _Drawn(data, curve, band_artist, notes)


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


def _note(text: str) -> Line2D:
    """A legend entry that is only text."""
    from matplotlib.lines import Line2D

    return Line2D([], [], linestyle="none", label=text)


def _set_status_title(ax: Axes, label: str, result: FitResult, **title: Any) -> None:
    """Title `ax` with `label`; in red, with the status and why, unless the fit
    is ok."""
    status = result.status
    if status != "ok":
        why = textwrap.fill(f"{status}: {result.message}", width=70)
        label, title["color"] = f"{label}\n{why}", "C3"
    ax.set_title(label, **title)


def plot_fit(
    result: FitResult,
    ax: Axes | Sequence[Axes] | None = None,
    *,
    band: Band | None = "confidence",
    level: float | None = None,
    residuals: bool = False,
    log_x: bool | None = None,
    replicates: Replicates = "points",
    data_kw: dict[str, Any] | None = None,
    line_kw: dict[str, Any] | None = None,
    label: str | None = None,
) -> Axes | tuple[Axes, Axes]:
    """Draw a fit: the data, the fitted curve and its band; optionally residuals.

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
        The band's level. Default: the fit's level (0.95 unless asked).
    residuals : bool, optional
        Add a panel below, sharing x, of the residuals ``y - f(x)`` (not
        weighted) around a zero line. Default False.
    log_x : bool, optional
        Draw x on a log axis. Default: the model's ``log_x`` (dose-response
        models). The curve is then drawn on a geometric grid; points at
        x <= 0 (zero dose, controls) cannot be placed on a log axis, so they
        are left out of the plot, and a legend entry says how many were.
        They still count in the fit.
    replicates : {"points", "mean"}, optional
        Draw every point, or, at each distinct x, the mean response with an
        error bar of one standard error (none where x has one point).
        Default ``"points"``.
    data_kw, line_kw : dict, optional
        Keyword arguments for the data (:meth:`~matplotlib.axes.Axes.plot`,
        or :meth:`~matplotlib.axes.Axes.errorbar` for means) and the curve
        (:meth:`~matplotlib.axes.Axes.plot`), overriding the defaults.
    label : str, optional
        The curve's legend entry. Default: the model's label. When the
        fit's status is not ``"ok"`` it is appended in parentheses, and the
        title, in red, gives the status and why.

    Returns
    -------
    matplotlib.axes.Axes or tuple of Axes
        The fit's axes; with `residuals`, the pair ``(ax, ax_resid)``. The
        figure is ``ax.figure``.

    Raises
    ------
    ValueError
        If `band` or `replicates` is none of its choices, `ax` is not a
        pair when `residuals` is true (or a pair when it is false), or
        `log_x` is asked for while every x is <= 0.
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
    _matplotlib()
    from matplotlib.axes import Axes as AxesType

    if residuals:
        if ax is None:
            _, (ax, ax_resid) = _pyplot().subplots(
                2,
                1,
                sharex=True,
                height_ratios=(3, 1),
                figsize=(7.0, 6.0),
                layout="constrained",
            )
        elif isinstance(ax, AxesType) or len(ax) != 2:
            raise ValueError(
                "with residuals=True, ax must be a pair (axes for the fit, axes "
                "for the residuals) or None"
            )
        else:
            ax, ax_resid = ax
    else:
        ax_resid = None
        if ax is None:
            _, ax = _pyplot().subplots(figsize=(7.0, 4.5), layout="constrained")
        elif not isinstance(ax, AxesType):
            raise ValueError("ax must be one Axes (a pair only with residuals=True)")
    drawn = _draw_fit(
        ax,
        result,
        band=band,
        level=level,
        log_x=log_x,
        replicates=replicates,
        data_kw=data_kw,
        line_kw=line_kw,
        label=label,
        ax_resid=ax_resid,
    )
    handles = [drawn.data, drawn.curve]
    handles += [drawn.band] if drawn.band is not None else []
    handles += [_note(text) for text in drawn.notes]
    ax.legend(handles=handles, fontsize="small")
    _set_status_title(ax, result.model.label, result)
    ax.set_ylabel("y")
    ax.grid(True, alpha=0.3)
    if ax_resid is None:
        ax.set_xlabel("x")
        return ax
    ax_resid.set_xlabel("x")
    ax_resid.set_ylabel("residual")
    ax_resid.grid(True, alpha=0.3)
    return ax, ax_resid


def _group_name(keys: Sequence[str], key: tuple) -> str:
    """``"key=value"``, joined by commas for several key columns."""
    return ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True))


def plot_groups(
    fits: GroupFits,
    *,
    layout: Literal["overlay", "grid", "plate"] = "overlay",
    ax: Axes | None = None,
    ncols: int | None = None,
    band: Band | None = "confidence",
    level: float | None = None,
    log_x: bool | None = None,
    replicates: Replicates = "points",
    data_kw: dict[str, Any] | None = None,
    line_kw: dict[str, Any] | None = None,
) -> Figure:
    """Draw every group's fit: overlaid on one axes, or as small multiples.

    Parameters
    ----------
    fits : GroupFits
        Fits of one model to the groups of a table (:func:`scurve.fit` with
        ``by=``), independent or with shared parameters.
    layout : {"overlay", "grid"}, optional
        ``"overlay"``: every group on one axes, one colour per group (then
        dashed, dash-dot, dotted once the colour cycle runs out), labelled
        ``key=value``. ``"grid"``: one panel per group, in rows of `ncols`,
        with shared axes. ``"plate"``: a microplate map, one small panel per
        well at its row letter and column number (groups keyed ``A1``,
        ``B12``, ... ``P24``: 96- or 384-well plates, and any subset), with
        shared axes and no bands; a well whose fit is not ok gets a red
        title (e.g. a well that did not grow, status ``flat``). Default
        ``"overlay"``.
    ax : Axes, optional
        With ``layout="overlay"``, the axes to draw on. Default: a new pyplot
        figure. A grid always makes its own figure.
    ncols : int, optional
        Panels per row of a grid. Default: about the square root of the
        number of groups.
    band, level, log_x, replicates, data_kw, line_kw
        As in :func:`plot_fit`, for every group.

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ValueError
        If `layout` is none of its choices, there are no groups, `ax` is
        given for a grid, `ncols` is below 1, or a plate's group is not a
        well name.

    Notes
    -----
    A group that could not be fitted (its result is the
    :class:`~scurve.errors.FitError`) has no curve: in an overlay its
    legend entry says so and why; in a grid its panel is left empty, with
    the reason written in it. A group whose status is not ``"ok"`` has it
    in its legend entry (overlay) or its panel's red title (grid).

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
    ['strain=a', 'strain=b']
    """
    _check_choice("layout", layout, ("overlay", "grid", "plate"))
    if not len(fits):
        raise ValueError("there are no groups to plot")
    if ncols is not None and ncols < 1:
        raise ValueError(f"ncols must be at least 1, not {ncols}")
    if layout == "grid" and ax is not None:
        raise ValueError("ax is for layout='overlay'; a grid makes its own figure")
    draw = {
        "band": band,
        "level": level,
        "log_x": log_x,
        "replicates": replicates,
        "data_kw": data_kw,
    }
    shared = f", shared {', '.join(fits.shared)}" if fits.shared else ""
    title = f"{fits.model.label}{shared}"
    groups = [(_group_name(fits.by, key), res) for key, res in fits.items()]
    if layout == "overlay":
        return _overlay(ax, groups, title, draw, line_kw)
    if layout == "plate":
        return _plate(fits, title, draw, line_kw)
    return _grid(groups, ncols, title, draw, line_kw)


_WELL = re.compile(r"^([A-Pa-p])0*([1-9][0-9]?)$")


def well_position(name: str) -> tuple[int, int] | None:
    """Row and column (from 0) of a well named like ``A1``, ``h12`` or
    ``B07``; None for anything else.

    >>> well_position("B07"), well_position("H12"), well_position("blank")
    ((1, 6), (7, 11), None)
    """
    match = _WELL.match(str(name).strip())
    if match is None:
        return None
    return ord(match.group(1).upper()) - ord("A"), int(match.group(2)) - 1


def _plate(
    fits: GroupFits,
    title: str,
    draw: dict[str, Any],
    line_kw: dict[str, Any] | None,
) -> Figure:
    wells = {}
    for key, res in fits.items():
        name = ",".join(map(str, key))
        position = well_position(name) if len(key) == 1 else None
        if position is None:
            raise ValueError(
                f"layout='plate' needs groups named like wells (A1 ... P24), "
                f"not {name!r}"
            )
        wells[position] = (name, res)
    nrows = 8 if max(r for r, _ in wells) < 8 else 16
    ncols = 12 if max(c for _, c in wells) < 12 else 24
    # a fixed layout: the constrained one takes seconds for 96 panels
    fig, axes = _panels(
        nrows, ncols, (1.3, 1.1), gridspec_kw={"hspace": 0.35, "wspace": 0.08}
    )
    fig.subplots_adjust(left=0.04, right=0.99, bottom=0.05, top=0.93)
    small = {"markersize": 1.5, "color": "0.55", "zorder": 1}
    # no bands: invisible at this size, and slow on 96 axes that share limits
    draw = {**draw, "band": None, "data_kw": {**small, **(draw["data_kw"] or {})}}
    line_kw = {"color": "C3", "linewidth": 1.0, **(line_kw or {})}
    for (row, col), panel in np.ndenumerate(axes):
        panel.tick_params(labelsize="xx-small", length=2, pad=1)
        if (row, col) not in wells:
            panel.set_axis_off()
            continue
        name, res = wells[row, col]
        if not res.fitted:
            panel.set_title(f"{name}: failed", color="C3", fontsize="x-small", pad=2)
            continue
        _draw_fit(panel, res, label=None, line_kw=line_kw, **draw)
        bad = res.status != "ok"
        panel.set_title(
            f"{name}: {res.status}" if bad else name,
            color="C3" if bad else "black",
            fontsize="x-small",
            pad=2,
        )
    fig.suptitle(title)
    fig.supxlabel("x")
    fig.supylabel("y")
    return fig


def _overlay(
    ax: Axes | None,
    groups: list[tuple[str, FitResult]],
    title: str,
    draw: dict[str, Any],
    line_kw: dict[str, Any] | None,
) -> Figure:
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(8.0, 5.0), layout="constrained")
    handles: list[Artist] = []
    for i, (name, res) in enumerate(groups):
        if not res.fitted:
            handles.append(
                _note(textwrap.fill(f"{name}: failed, {res.message}", width=40))
            )
            continue
        drawn = _draw_fit(
            ax,
            res,
            label=name,
            line_kw={"linestyle": _linestyle(i), **(line_kw or {})},
            **{**draw, "data_kw": {"label": "_nolegend_", **(draw["data_kw"] or {})}},
        )
        handles.append(drawn.curve)
        handles += [_note(f"{name}: {text}") for text in drawn.notes]
    if draw["band"] is not None:
        title += f", with {draw['band']} bands"
    ax.set_title(title)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.grid(True, alpha=0.3)
    ax.legend(
        handles=handles,
        fontsize="small",
        loc="center left",
        bbox_to_anchor=(1.01, 0.5),
    )
    return ax.figure


def _panels(
    nrows: int, ncols: int, size: tuple[float, float], **figure: Any
) -> tuple[Figure, NDArray[np.object_]]:
    """A figure of `nrows` x `ncols` panels of `size` inches sharing axes."""
    width, height = size
    return _pyplot().subplots(
        nrows,
        ncols,
        sharex=True,
        sharey=True,
        squeeze=False,
        figsize=(1.0 + width * ncols, 1.0 + height * nrows),
        **figure,
    )


def _grid(
    groups: list[tuple[str, FitResult]],
    ncols: int | None,
    title: str,
    draw: dict[str, Any],
    line_kw: dict[str, Any] | None,
) -> Figure:
    n = len(groups)
    ncols = min(n, ncols or math.ceil(math.sqrt(n)))
    nrows = math.ceil(n / ncols)
    fig, axes = _panels(nrows, ncols, (3.0, 2.6), layout="constrained")
    panels = list(axes.flat)
    for extra in panels[n:]:
        extra.remove()
    legend: list[Artist] = []
    for i, (panel, (name, res)) in enumerate(zip(panels, groups, strict=False)):
        panel.grid(True, alpha=0.3)
        if i + ncols >= n:
            # the lowest panel of its column: its x tick labels are the column's
            panel.tick_params(labelbottom=True)
        if not res.fitted:
            panel.set_title(f"{name}: failed", color="C3", fontsize="medium")
            panel.text(
                0.5,
                0.5,
                textwrap.fill(res.message, width=30),
                transform=panel.transAxes,
                ha="center",
                va="center",
                fontsize="small",
                color="C3",
            )
            continue
        drawn = _draw_fit(panel, res, label=None, line_kw=line_kw, **draw)
        _set_status_title(panel, name, res, fontsize="medium")
        if drawn.notes:
            panel.legend(handles=[_note(t) for t in drawn.notes], fontsize="x-small")
        if not legend:
            legend = [drawn.data, drawn.curve]
            legend += [drawn.band] if drawn.band is not None else []
    if legend:
        fig.legend(
            handles=legend,
            loc="outside right upper",
            fontsize="small",
        )
    fig.suptitle(title)
    fig.supxlabel("x")
    fig.supylabel("y")
    return fig


def plot_forecast(
    result: FitResult,
    periods: int,
    ax: Axes | None = None,
    *,
    levels: Sequence[float] = (0.5, 0.8, 0.95),
    cumulative: bool = False,
    label: str | None = None,
) -> Axes:
    """A fan chart: the data, the fitted curve and the forecast of the next
    `periods` periods in nested prediction intervals.

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
        The title; default the model's label.

    Returns
    -------
    Axes
    """
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(8.0, 4.5), layout="constrained")
    column = "cumulative" if cumulative else "adoptions"
    model = result.model
    x = result.x
    order = np.argsort(x)
    observed = (
        model.adoptions == "cumulative"
        if cumulative
        else model.adoptions in ("per-period", "rate")
    )
    if observed:
        ax.plot(x, result.data, "o", color="C0", markersize=4, label="data")
    curves = model.curves(x[order], result.params)
    past = curves["cumulative" if cumulative else "per_period"]
    ax.plot(x[order], past, color="C0", label="fit")
    for i, level in enumerate(sorted(levels, reverse=True)):
        from scurve.analysis.diffusion import forecast

        table = forecast(result, periods, level=level)
        ax.fill_between(
            table["x"],
            table[f"{column}_lower"],
            table[f"{column}_upper"],
            color="C1",
            alpha=0.15 + 0.2 * i,
            linewidth=0,
            label=f"{level:.0%}",
        )
    ax.plot(table["x"], table[column], color="C1", label="forecast")
    ax.set_title(label or f"{model.label}: forecast")
    ax.set_xlabel("x")
    ax.set_ylabel("cumulative adopters" if cumulative else "adoptions per period")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def save_figure(
    fig: Figure, path: str | os.PathLike[str], *, close: bool = False, **savefig: Any
) -> Path:
    """Write `fig` to `path` atomically, in the format named by its extension.

    The figure is written with :func:`scurve.io.atomic_write`: to a temporary
    file in the same directory, flushed to disk, then moved over `path` with
    :func:`os.replace`; on any error the temporary file is removed and an
    existing `path` is left untouched.

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
        If the extension names no format matplotlib can write.
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
    fmt = path.suffix[1:].lower()
    formats = fig.canvas.get_supported_filetypes()
    if fmt not in formats:
        raise ValueError(
            f"cannot tell which format to write {str(path)!r} in: give it one "
            f"of the extensions {', '.join('.' + f for f in sorted(formats))}"
        )
    if not path.parent.is_dir():
        # An OSError, as documented (atomic_write would raise an InputError).
        raise FileNotFoundError(
            errno.ENOENT, os.strerror(errno.ENOENT), str(path.parent)
        )
    with atomic_write(path, "wb") as stream:
        fig.savefig(stream, format=fmt, **savefig)
    if close:
        _pyplot().close(fig)
    return path


# ------------------------------------------------------------------ audio


def plot_transfer(
    shapers: Any,
    x: ArrayLike | None = None,
    axes: Sequence[Axes] | None = None,
) -> Figure:
    """Transfer curves of waveshapers (left) and their slopes (right).

    Parameters
    ----------
    shapers : Waveshaper or sequence of Waveshaper
        :class:`scurve.audio.Waveshaper` objects; the static curve is drawn
        (no oversampling, no DC blocker), the slope by central differences.
    x : array_like, optional
        Input levels; default 1001 points on [-1, 1] (full scale).
    axes : pair of Axes, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from scurve.audio import Waveshaper
    >>> fig = plot_transfer([Waveshaper("tanh", drive_db=12.0)])
    >>> [line.get_label() for line in fig.axes[0].get_lines()]
    ['tanh +12 dB']
    """
    items = list(shapers) if isinstance(shapers, Sequence) else [shapers]
    xs = np.linspace(-1.0, 1.0, 1001) if x is None else np.asarray(x, float)
    if axes is None:
        _, axes = _pyplot().subplots(1, 2, figsize=(10.0, 4.0), layout="constrained")
    left, right = axes
    for i, shaper in enumerate(items):
        label = f"{shaper.curve} {shaper.drive_db:+g} dB"
        if shaper.bias:
            label += f", bias {shaper.bias:g}"
        ys = shaper.transfer(xs)
        style = {"label": label, "linestyle": _linestyle(i)}
        left.plot(xs, ys, **style)
        right.plot(xs, np.gradient(ys, xs), **style)
    left.set(xlabel="input", ylabel="output", title="Transfer curve")
    right.set(xlabel="input", ylabel="d output / d input", title="Slope (gain)")
    for ax in axes:
        ax.grid(True, alpha=0.3)
    left.legend(fontsize="small")
    return left.figure


def plot_spectrum(
    audio: ArrayLike,
    sample_rate: float,
    ax: Axes | None = None,
    label: str | None = None,
    window: str = "blackmanharris7",
    floor_db: float = -200.0,
) -> Axes:
    """The power spectrum of one channel, in dB relative to its peak.

    Parameters
    ----------
    audio : array_like
        One channel (1-D).
    sample_rate : float
    ax : Axes, optional
    label : str, optional
        Legend entry.
    window : str
        See :func:`scurve.audio.analysis.spectrum`.
    floor_db : float
        Levels below this are drawn at it.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.arange(4800) / 48000
    >>> ax = plot_spectrum(np.sin(2 * np.pi * 1000 * t), 48000, label="sine")
    >>> ax.get_xlabel()
    'frequency (Hz)'
    """
    from scurve.audio.analysis import spectrum

    s = spectrum(audio, sample_rate, window)  # type: ignore[arg-type]
    if ax is None:
        _, ax = _pyplot().subplots(figsize=(9.0, 4.0), layout="constrained")
    peak = float(np.max(s.power)) or 1.0
    level = 10 * np.log10(np.maximum(s.power / peak, 10 ** (floor_db / 10)))
    ax.plot(s.freqs[1:], level[1:], linewidth=0.7, label=label)
    ax.set_xscale("log")
    ax.set_xlim(20, sample_rate / 2)
    ax.set(xlabel="frequency (Hz)", ylabel="level (dB re peak)", title="Spectrum")
    ax.grid(True, alpha=0.3, which="both")
    if label is not None:
        ax.legend(fontsize="small")
    return ax
