"""``--plot``: where figures go, checked before any work, and drawing them.

matplotlib is imported by :mod:`scurve.plotting` when a figure is drawn,
never to check a target or to print help.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import click

from scurve.cli.report import Report, group_text, output_errors
from scurve.errors import InputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits

__all__ = [
    "Dpi",
    "FigureOptions",
    "FigureSize",
    "PlotTargets",
    "check_figure",
    "draw_fits",
    "figure_options",
    "look_options",
    "plot_errors",
    "plot_family",
    "plot_file",
    "plot_targets",
]


@contextmanager
def plot_errors(path: str | os.PathLike[str]) -> Iterator[None]:
    """A figure that cannot be written: no matplotlib or an unwritable file
    (exit 1, :func:`~scurve.cli.report.output_errors`), or a file name whose
    extension names no format (a usage error of ``--plot``, exit 2)."""
    with output_errors(path):
        try:
            yield
        except InputError:
            raise
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--plot'") from None


# ------------------------------------------------------------------ options


class FigureSize(click.ParamType):
    """``W,H``: a figure's width and height in inches, e.g. ``3.5,2.5``."""

    name = "w,h"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        parts = str(value).replace("x", ",").split(",")
        try:
            width, height = (float(p) for p in parts)
        except ValueError:
            width = height = math.nan
        if not all(math.isfinite(v) and v > 0 for v in (width, height)):
            self.fail(
                f"expected W,H in inches, two positive numbers such as 3.5,2.5; "
                f"got {value!r}",
                param,
                ctx,
            )
        return width, height


class Dpi(click.ParamType):
    """Dots per inch: a positive number, at most :data:`MAX_DPI`."""

    name = "dpi"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            dpi = float(value)
        except (TypeError, ValueError):
            dpi = math.nan
        if not (math.isfinite(dpi) and 0 < dpi <= MAX_DPI):
            self.fail(
                f"expected a positive number of dots per inch, at most {MAX_DPI}; "
                f"got {value!r}",
                param,
                ctx,
            )
        return dpi


#: The finest resolution asked for (a 1 in figure is then 10000 pixels).
MAX_DPI = 10000


@dataclass(frozen=True)
class FigureOptions:
    """How a figure is drawn (the same names as :mod:`scurve.plotting`'s):
    None for the defaults."""

    xlabel: str | None = None
    ylabel: str | None = None
    title: str | None = None
    size: tuple[float, float] | None = None
    dpi: float | None = None
    log_x: bool | None = None
    replicates: str | None = None

    def given(self) -> list[str]:
        """The options given, as the command line spells them."""
        flags = {"log_x": "--log-x" if self.log_x else "--linear-x"}
        return [
            flags.get(f.name, "--" + f.name)
            for f in fields(self)
            if getattr(self, f.name) is not None
        ]

    def check(self, plot: str | None, flag: str = "--plot") -> None:
        """A usage error for options of a figure not drawn, or a raster
        image too large to draw (exit 2), before any work."""
        given = self.given()
        if given and plot is None:
            raise click.UsageError(
                f"{', '.join(given)} {'is' if len(given) == 1 else 'are'} for "
                f"the figure: give {flag} FILE as well"
            )
        if plot is None or self.size is None or self.dpi is None:
            return
        side = round(max(self.size) * self.dpi)
        raster = Path(plot).suffix[1:].lower() in ("png", "jpg", "jpeg", "tif", "tiff")
        if raster and side > MAX_PIXELS:
            raise click.BadParameter(
                f"{max(self.size):g} in at {self.dpi:g} dpi is {side} pixels, and "
                f"a raster image is at most {MAX_PIXELS} a side: lower --dpi or "
                f"--size, or write a .pdf or .svg",
                param_hint="'--dpi'",
            )

    def look(self) -> dict[str, Any]:
        """Labels, title, size and dpi, as :mod:`scurve.plotting` takes them."""
        names = ("xlabel", "ylabel", "title", "size", "dpi")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not None}

    def drawing(self) -> dict[str, Any]:
        """The look, and how a fit's data and axis are drawn."""
        extra = {"log_x": self.log_x, "replicates": self.replicates}
        return {**self.look(), **{k: v for k, v in extra.items() if v is not None}}


#: The largest side of a raster image (matplotlib's Agg).
MAX_PIXELS = 65535

_FIGURE_OPTIONS = dict(
    xlabel=click.option(
        "--xlabel",
        default=None,
        metavar="TEXT",
        help="The figure's x axis label, with units [default: the --x column].",
    ),
    ylabel=click.option(
        "--ylabel",
        default=None,
        metavar="TEXT",
        help="The figure's y axis label [default: the --y column].",
    ),
    title=click.option(
        "--title",
        default=None,
        metavar="TEXT",
        help="The figure's title; '' for none [default: the model].",
    ),
    size=click.option(
        "--size",
        type=FigureSize(),
        default=None,
        metavar="W,H",
        help="The figure's width and height in inches, e.g. 3.5,2.5 (a journal "
        "column) [default: the figure's].",
    ),
    dpi=click.option(
        "--dpi",
        type=Dpi(),
        default=None,
        metavar="N",
        help="Dots per inch of a PNG [default: 150]; PDF and SVG are vector.",
    ),
    log_x=click.option(
        "--log-x/--linear-x",
        "log_x",
        default=None,
        help="x on a log axis (zero doses left of the lowest, behind a break), "
        "or linear [default: log for dose-response models].",
    ),
    replicates=click.option(
        "--replicates",
        type=click.Choice(("points", "mean")),
        default=None,
        help="Draw every point, or the mean +/- SD at each x [default: points].",
    ),
)


def _folded(names: Sequence[str]) -> Callable[[Callable[..., Any]], Any]:
    """A decorator adding the figure options `names` to a command, handed to
    it as one ``figure`` argument (:class:`FigureOptions`)."""

    def decorate(command: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(command)
        def with_figure(*args: Any, **options: Any) -> Any:
            figure = FigureOptions(**{n: options.pop(n) for n in names})
            return command(*args, figure=figure, **options)

        for name in reversed(names):
            with_figure = _FIGURE_OPTIONS[name](with_figure)
        return with_figure

    return decorate


#: ``--xlabel``, ``--ylabel``, ``--title``, ``--size``, ``--dpi``,
#: ``--log-x/--linear-x``, ``--replicates``: a fit's figure.
figure_options = _folded([f.name for f in fields(FigureOptions)])
#: ``--xlabel``, ``--ylabel``, ``--title``, ``--size``, ``--dpi``: any figure.
look_options = _folded(["xlabel", "ylabel", "title", "size", "dpi"])


def plot_family(
    report: Report, form: str, path: Path, figure: FigureOptions | None = None
) -> None:
    """The curve family in `form` (``odd`` and ``unit`` for ``native``),
    written to `path`."""
    with plot_errors(path):
        from scurve import plotting

        forms = ("odd", "unit") if form == "native" else (form,)
        look = figure.look() if figure is not None else {}
        drawn = plotting.plot_family(forms, **look)  # type: ignore[arg-type]
        written = plotting.save_figure(drawn, path, close=True)
    report.wrote(written)


# ------------------------------------------------------------------ fits


#: Per-group file names longer than this (bytes, before ``.png``) are cut,
#: and a hash of the whole key added to keep them distinct (file systems
#: take names of 255 bytes at most).
MAX_STEM_BYTES = 100
#: Names Windows keeps for devices, whatever the extension.
RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL"]
    + [f"{d}{i}" for d in ("COM", "LPT") for i in range(1, 10)]
)


class PlotTargets:
    """Where ``scurve fit --plot`` draws: one file (`single`), or one PNG
    per group in `directory` (`per_group`, in the order of the groups)."""

    def __init__(
        self,
        single: Path | None = None,
        per_group: Mapping[tuple, Path] | None = None,
        directory: Path | None = None,
    ) -> None:
        self.single = single
        self.per_group = dict(per_group or {})
        self.directory = directory

    def outputs(self) -> list[Path]:
        """What to check before fitting (:func:`scurve.io.check_outputs`):
        the file; the per-group files of an existing directory; a directory
        to be made."""
        if self.single is not None:
            return [self.single]
        if self.directory is None:
            return []
        if self.directory.is_dir():
            return list(self.per_group.values())
        return [self.directory]


def _directory(target: str) -> Path | None:
    """`target` as a directory of per-group plots, or None for one file."""
    path = Path(target)
    if path.is_dir() or target.endswith(tuple(filter(None, ("/", os.sep, os.altsep)))):
        return path
    return None


def plot_file(target: str | None) -> str | None:
    """The one file ``--plot`` draws to, as given; None for none or a
    directory."""
    if target is None or _directory(target) is not None:
        return None
    return target


def check_figure(path: str | None) -> None:
    """A usage error of ``--plot`` when `path`'s extension names no figure
    format (exit 2), or an :class:`~scurve.cli.report.OutputError` without
    matplotlib (exit 1): found before any work."""
    if path is None:
        return
    with plot_errors(path):
        from scurve import plotting

        plotting.figure_format(path)


def _cut(text: str, size: int) -> str:
    """`text` cut to at most `size` bytes of UTF-8, at a character."""
    return text.encode("utf-8", "surrogatepass")[:size].decode("utf-8", "ignore")


def _file_name(key: tuple, taken: set[str]) -> str:
    """A PNG file name made of the group's key values, safe on every file
    system (only letters, digits, ``_``, ``-`` and ``.``; not a name Windows
    keeps; at most :data:`MAX_STEM_BYTES`, then a hash of the key), unique
    in `taken` ignoring case (as macOS and Windows compare names)."""
    text = "_".join(str(v) for v in key)
    stem = re.sub(r"[^\w.-]+", "_", text).strip("._") or "group"
    if stem.split(".")[0].upper() in RESERVED_NAMES:
        stem = f"_{stem}"
    if len(stem.encode("utf-8", "surrogatepass")) > MAX_STEM_BYTES:
        whole = "\x1f".join(str(v) for v in key).encode("utf-8", "surrogatepass")
        digest = hashlib.sha256(whole).hexdigest()[:10]
        stem = f"{_cut(stem, MAX_STEM_BYTES).rstrip('._')}-{digest}"
    name, i = f"{stem}.png", 2
    while name.casefold() in taken:
        name, i = f"{stem}-{i}.png", i + 1
    taken.add(name.casefold())
    return name


def plot_targets(
    target: str | None, data: Path, groups: Callable[[], Sequence[tuple]]
) -> PlotTargets:
    """Where ``--plot`` writes: one file, or one PNG per group in a
    directory (existing, or a name ending in ``/``). `groups` gives the
    groups' key tuples in the order they are fitted (``[()]`` for one curve,
    named after DATA in a directory). Checked with the command's other
    outputs (:meth:`PlotTargets.outputs`, :func:`scurve.io.check_outputs`).

    Raises
    ------
    scurve.errors.InputError
        The directory is a file.
    """
    if target is None:
        return PlotTargets()
    directory = _directory(target)
    if directory is None:
        return PlotTargets(single=Path(target))
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{target}: is not a directory")
    taken: set[str] = set()
    stem = "fit" if os.fspath(data) == "-" else data.stem
    files = {key: directory / _file_name(key or (stem,), taken) for key in groups()}
    return PlotTargets(per_group=files, directory=directory)


def draw_fits(
    report: Report,
    result: FitResult | GroupFits,
    targets: PlotTargets,
    *,
    x: str,
    y: str,
    plate: bool = False,
    figure: FigureOptions | None = None,
    ec: Sequence[float] | None = None,
    layout: str | os.PathLike[str] | None = None,
) -> None:
    """One figure (the fit; a diffusion fit's adoption and cumulative
    panels; groups overlaid, up to four, or a grid; with `plate`, a plate
    map when the groups are wells), or one PNG per group that has a curve.

    Axes are labelled with the column names unless `figure` says otherwise;
    `ec` levels are marked on dose-response curves; the conditions of a
    plate `layout` colour its wells. In a directory, each curve is labelled
    with its group.
    """
    from scurve.results.fit import FitResult

    figure = figure or FigureOptions()
    drawing = {"xlabel": x, "ylabel": y, **figure.drawing()}
    if targets.single is not None:
        with plot_errors(targets.single):
            from scurve import plotting

            if isinstance(result, FitResult):
                drawn = _draw_one(result, drawing, ec)
            else:
                options = {
                    **drawing,
                    "ec": ec or None,
                    "layout": _layout(result, plate),
                }
                if layout is not None:
                    options["conditions"] = _conditions(layout, result)
                drawn = plotting.plot_groups(result, **options)
            plotting.save_figure(drawn, targets.single, close=True)
        report.wrote(targets.single)
        return
    if not targets.per_group:
        return
    results = {(): result} if isinstance(result, FitResult) else result
    keys = [] if isinstance(result, FitResult) else result.by
    directory = next(iter(targets.per_group.values())).parent
    written = 0
    # both are in the order of the groups in DATA
    for (key, fitted), path in zip(
        results.items(), targets.per_group.values(), strict=True
    ):
        if not fitted.fitted:
            continue  # no curve; the failure is reported with the results
        with plot_errors(path):
            from scurve import plotting

            directory.mkdir(exist_ok=True)
            label = group_text(keys, key) or None
            drawn = _draw_one(fitted, {**drawing, "label": label}, ec)
            plotting.save_figure(drawn, path, close=True)
        written += 1
    plots = "plot" if written == 1 else "plots"
    report.note(f"wrote {written} {plots} to {directory}{os.sep}")


def _draw_one(
    result: FitResult, drawing: dict[str, Any], ec: Sequence[float] | None
) -> Figure:
    """One fit's figure: a diffusion fit's panels, or the fit."""
    from scurve import plotting

    if getattr(result.model, "adoptions", None) is not None:
        look = ("xlabel", "ylabel", "title", "size", "dpi")
        return plotting.plot_adoption(
            result, DIFFUSION_PERIODS, **{k: drawing[k] for k in look if k in drawing}
        )
    axes = cast("Axes", plotting.plot_fit(result, ec=ec or None, **drawing))
    return cast("Figure", axes.figure)


#: Periods forecast in the figure of a diffusion fit.
DIFFUSION_PERIODS = 5


def _conditions(layout: str | os.PathLike[str], fits: GroupFits) -> dict[str, str]:
    """Each well's condition in a plate layout: its describing columns'
    values, joined by commas (``WT, 10 mM``); wells matched by position
    (``A01`` is ``A1``)."""
    import scurve
    from scurve.io import well_position

    table = scurve.read_layout(layout)
    described = [
        c for c in table.columns if str(c).lower() not in ("well", "replicate")
    ]
    text = table[described].astype(str).agg(", ".join, axis=1)
    where = dict(zip(map(well_position, table["well"]), text, strict=True))
    names = [str(key[0]) for key in fits if len(key) == 1]
    return {n: where[well_position(n)] for n in names if well_position(n) in where}


def _layout(fits: GroupFits, plate: bool) -> str:
    """A plate map for a wide table whose columns are all wells; else up to
    four groups overlaid, more in a grid."""
    from scurve.plotting import well_position

    wells = plate and all(
        len(key) == 1 and well_position(str(key[0])) is not None for key in fits
    )
    if wells:
        return "plate"
    return "overlay" if len(fits) <= OVERLAID else "grid"


#: Groups drawn on one axes at most; more make a grid.
OVERLAID = 4
