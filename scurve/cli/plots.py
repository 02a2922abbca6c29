"""``--plot``: where figures go, checked before any work, and drawing them.

matplotlib is imported by :mod:`scurve.plotting` when a figure is drawn,
never to check a target or to print help.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

import click

from scurve.cli.report import Report, group_text, output_errors
from scurve.errors import InputError

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits

__all__ = ["PlotTargets", "draw_fits", "plot_errors", "plot_family", "plot_targets"]


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


def plot_family(report: Report, form: str, path: Path) -> None:
    """The curve family in `form` (``odd`` and ``unit`` for ``native``),
    written to `path`."""
    with plot_errors(path):
        from scurve import plotting

        forms = ("odd", "unit") if form == "native" else (form,)
        figure = plotting.plot_family(forms)  # type: ignore[arg-type]
        written = plotting.save_figure(figure, path, close=True)
    report.wrote(written)


# ------------------------------------------------------------------ fits


class PlotTargets:
    """Where ``scurve fit --plot`` draws: one file (`single`), or one PNG
    per group in a directory (`per_group`, in the order of the groups)."""

    def __init__(
        self, single: Path | None = None, per_group: Mapping[tuple, Path] | None = None
    ) -> None:
        self.single = single
        self.per_group = dict(per_group or {})


def _directory(target: str) -> Path | None:
    """`target` as a directory of per-group plots, or None for one file."""
    path = Path(target)
    if path.is_dir() or target.endswith(("/", os.sep)):
        return path
    return None


def _file_name(key: tuple, taken: set[str]) -> str:
    """A PNG file name made of the group's key values, unique in `taken`."""
    stem = re.sub(r"[^\w.-]+", "_", "_".join(str(v) for v in key)).strip("._")
    stem = stem or "group"
    name, i = f"{stem}.png", 2
    while name in taken:
        name, i = f"{stem}-{i}.png", i + 1
    taken.add(name)
    return name


def plot_targets(
    target: str | None,
    data: Path,
    groups: Callable[[], Sequence[tuple]],
    force: bool,
) -> PlotTargets:
    """Where ``--plot`` writes, checked before any fitting: an input file,
    or an existing file without --force, is refused (exit 2). `groups`
    gives the groups' key tuples in the order they are fitted (``[()]``
    for one curve, named after DATA in a directory).

    Raises
    ------
    scurve.errors.InputError
        A target that may not be written.
    """
    from scurve import io

    if target is None:
        return PlotTargets()
    directory = _directory(target)
    if directory is None:
        return PlotTargets(single=io.check_output(target, inputs=[data], force=force))
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{target}: is not a directory")
    if not directory.parent.is_dir():
        raise InputError(
            f"{target}: the directory {str(directory.parent)!r} does not exist"
        )
    taken: set[str] = set()
    stem = "fit" if os.fspath(data) == "-" else data.stem
    files = {key: directory / _file_name(key or (stem,), taken) for key in groups()}
    if directory.is_dir():
        for path in files.values():
            io.check_output(path, inputs=[data], force=force)
    return PlotTargets(per_group=files)


def draw_fits(
    report: Report,
    result: FitResult | GroupFits,
    targets: PlotTargets,
    *,
    x: str,
    y: str,
    plate: bool = False,
) -> None:
    """One figure (the fit, or a grid of the groups; with `plate`, a plate
    map when the groups are wells), or one PNG per group that has a curve.

    Axes are labelled with the column names; in a directory, each curve is
    labelled with its group.
    """
    from scurve.results.fit import FitResult

    if targets.single is not None:
        with plot_errors(targets.single):
            from scurve import plotting

            if isinstance(result, FitResult):
                axes = result.plot()
                axes.set(xlabel=x, ylabel=y)
                figure = axes.figure
            else:
                figure = result.plot(layout=_layout(result, plate))
                figure.supxlabel(x)
                figure.supylabel(y)
            plotting.save_figure(figure, targets.single, close=True)
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
            axes = cast("Axes", plotting.plot_fit(fitted, label=label))
            axes.set(xlabel=x, ylabel=y)
            plotting.save_figure(cast("Figure", axes.figure), path, close=True)
        written += 1
    plots = "plot" if written == 1 else "plots"
    report.note(f"wrote {written} {plots} to {directory}{os.sep}")


def _layout(fits: GroupFits, plate: bool) -> str:
    """A plate map for a wide table whose columns are all wells, else a grid."""
    from scurve.plotting import well_position

    wells = plate and all(
        len(key) == 1 and well_position(str(key[0])) is not None for key in fits
    )
    return "plate" if wells else "grid"
