"""The command line's shared parameter types and options.

The registries (curves, models) are read on first use, so that building the
help does not import them (the model registry imports lmfit). Parameter
types only parse: whether a value suits a model is the model's to say
(:mod:`scurve.cli.checks`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from scurve.core.shapes import Shape

__all__ = [
    "FORMATS",
    "FORMS",
    "Assignment",
    "Blank",
    "BoundsAssignment",
    "LaunchTime",
    "Level",
    "Number",
    "NumberList",
    "OutputFile",
    "PlotDestination",
    "Prior",
    "RegistryChoice",
    "by_option",
    "data_argument",
    "data_label",
    "decimal_option",
    "easylinear_options",
    "encoding_option",
    "force_option",
    "form_option",
    "format_option",
    "level_option",
    "log_y_option",
    "model_registry",
    "names",
    "nan_option",
    "option_errors",
    "reading_options",
    "shape_registry",
    "sheet_option",
    "weights_kind_option",
    "weights_option",
    "well_options",
    "x_option",
    "y_option",
]

FORMS = ("native", "odd", "unit")
#: How a command prints its results (``--format``).
FORMATS = ("table", "csv", "json")
WEIGHTS_KINDS = ("sigma", "variance", "weight")


def shape_registry() -> Mapping[str, Shape]:
    """:data:`scurve.core.shapes.REGISTRY`, imported on first use."""
    from scurve.core.shapes import REGISTRY

    return REGISTRY


def model_registry() -> Mapping[str, Callable[..., Any]]:
    """:data:`scurve.models.REGISTRY`, imported on first use (it loads lmfit)."""
    from scurve.models import REGISTRY

    return REGISTRY


def data_label(path: str | os.PathLike[str]) -> str:
    """How messages name an input: its path as given, ``<stdin>`` for ``-``."""
    text = os.fspath(path)
    return "<stdin>" if text == "-" else text


def names(values: Iterable[str]) -> list[str]:
    """``("bottom,top", "scale")`` -> ``["bottom", "top", "scale"]``."""
    split = (n.strip() for v in values for n in v.split(","))
    return list(dict.fromkeys(n for n in split if n))


# ------------------------------------------------------------------ types


class RegistryChoice(click.Choice):
    """``click.Choice(sorted(REGISTRY))`` with the registry read on first use.

    Spellings are normalized, so ``hard-clip`` and ``Hard_Clip`` both mean
    ``hard_clip``. With a `metavar`, help shows it instead of the choices,
    so that ``--help`` does not import the registry.
    """

    def __init__(
        self,
        registry: Callable[[], Mapping[str, Any]],
        name: str,
        metavar: str | None = None,
    ) -> None:
        # click.Choice.__init__ would read the registry now, at import time.
        self.case_sensitive = False
        self.registry = registry
        self.name = name
        self.metavar = metavar

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(sorted(self.registry()))

    def normalize_choice(self, choice: Any, ctx: click.Context | None) -> str:
        return super().normalize_choice(choice, ctx).replace("-", "_")

    def get_metavar(self, param: click.Parameter, ctx: click.Context) -> str | None:
        return self.metavar or super().get_metavar(param, ctx)

    def get_missing_message(
        self, param: click.Parameter, ctx: click.Context | None
    ) -> str:
        return f"Choose from {', '.join(self.choices)}."


class Number(click.ParamType):
    """A real number; ``-1`` works as an argument, ``nan`` and ``inf`` too."""

    name = "number"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        try:
            return float(value)
        except (TypeError, ValueError):
            hint = " (an unknown option?)" if str(value).startswith("--") else ""
            self.fail(f"{value!r} is not a number{hint}", param, ctx)


class Level(click.ParamType):
    """A confidence level: a number strictly between 0 and 1 (not NaN, which
    click's ``FloatRange`` lets through)."""

    name = "level"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float:
        from scurve.errors import OptionError
        from scurve.inference.intervals import check_level

        try:
            return check_level(value)
        except OptionError as exc:
            self.fail(exc.reason, param, ctx)


class NumberList(click.ParamType):
    """Numbers separated by commas or spaces: ``0,1,2.5`` or ``"0 1 2.5"``."""

    name = "numbers"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[float, ...]:
        if isinstance(value, tuple):
            return value
        parts = str(value).replace(",", " ").split()
        if not parts:
            self.fail(f"expected numbers such as 0,1,2.5, got {value!r}", param, ctx)
        return tuple(Number().convert(part, param, ctx) for part in parts)


class Assignment(click.ParamType):
    """``NAME=VALUE`` with a numeric value, as ``("NAME", VALUE)``."""

    name = "name=value"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, float]:
        if isinstance(value, tuple):  # already converted (a default)
            return value
        name, sep, number = str(value).partition("=")
        name = name.strip()
        if sep and name:
            try:
                return name, float(number)
            except ValueError:
                pass
        self.fail(f"expected NAME=NUMBER such as nu=0.5, got {value!r}", param, ctx)


class BoundsAssignment(click.ParamType):
    """``NAME=LOW:HIGH`` as ``("NAME", (LOW, HIGH))``; an empty end is unbounded."""

    name = "name=low:high"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, tuple[float, float]]:
        if isinstance(value, tuple):  # already converted (a default)
            return value
        name, sep, rest = str(value).partition("=")
        low, colon, high = rest.partition(":")
        name = name.strip()
        if sep and colon and name:
            try:
                lo = float(low) if low.strip() else -math.inf
                hi = float(high) if high.strip() else math.inf
            except ValueError:
                pass
            else:
                if lo < hi:
                    return name, (lo, hi)
                self.fail(f"{name}: need LOW < HIGH, got {value!r}", param, ctx)
        self.fail(
            f"expected NAME=LOW:HIGH such as top=0:10 (an empty end is unbounded), "
            f"got {value!r}",
            param,
            ctx,
        )


class Blank(click.ParamType):
    """``min``, a finite number, or the name of a column."""

    name = "min|col|value"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str | float:
        if not isinstance(value, str):
            return value
        if value.strip() == "min":
            return "min"
        try:
            number = float(value)
        except ValueError:
            return value  # a column
        if not math.isfinite(number):
            self.fail(f"{value} is not a finite number", param, ctx)
        return number


class LaunchTime(click.ParamType):
    """A number (a time on the x axis) or ``fit``."""

    name = "x|fit"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> float | str:
        if not isinstance(value, str) or value == "fit":
            return value
        try:
            return float(value)
        except ValueError:
            self.fail(f"expected a number or 'fit', got {value!r}", param, ctx)


class Prior(click.ParamType):
    """``NAME=MEAN:SD``, a Gaussian prior, as ``("NAME", (MEAN, SD))``
    (:func:`scurve.models.diffusion.parse_prior`)."""

    name = "name=mean:sd"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, tuple[float, float]]:
        if isinstance(value, tuple):
            return value
        from scurve.models.diffusion import parse_prior

        try:
            return parse_prior(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


class OutputFile(click.ParamType):
    """The name of a file to write: not ``-`` (standard output), nor a
    directory (a name ending in ``/``: :func:`scurve.io.output_file`).
    Whether it may be written is checked with the command's other outputs
    and inputs (:func:`scurve.io.check_outputs`)."""

    name = "file"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> Path:
        from scurve.io import InputError, output_file

        if isinstance(value, Path):
            return value
        if value == "-":
            self.fail("'-' (standard output) is not a file: name one", param, ctx)
        try:
            return output_file(value)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class PlotDestination(click.ParamType):
    """Where ``--plot`` draws: a file, or a directory (existing, or a name
    ending in ``/``) for one file per group; not empty, nor ``-``."""

    name = "target"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> str:
        text = os.fspath(value)
        if text in ("", "-"):
            what = "an empty name" if not text else "'-' (standard output)"
            self.fail(f"{what} is not a file: name one", param, ctx)
        return text


# ------------------------------------------------------------------ options


def format_option(what: str, default: str | None = "table", **kws: Any) -> Any:
    """``--format table|csv|json``: how the command prints `what` on stdout."""
    kws.setdefault("show_default", True)
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=default,
        help=f"How to print {what}: aligned for people, CSV, or JSON.",
        **kws,
    )


form_option = click.option(
    "--form",
    type=click.Choice(FORMS),
    default="native",
    show_default=True,
    help="Which form of each shape: 'odd' has range (-1, 1) and slope 1 at 0, "
    "'unit' has range (0, 1), 'native' is the shape's conventional form.",
)
force_option = click.option(
    "--force",
    is_flag=True,
    default=False,
    show_default=True,
    help="Overwrite existing output files (never an input).",
)
data_argument = click.argument(
    "data", type=click.Path(path_type=Path, allow_dash=True, dir_okay=True)
)
x_option = click.option(
    "--x", "x", required=True, metavar="COL", help="Column of the independent variable."
)
y_option = click.option(
    "--y", "y", required=True, metavar="COL", help="Column of the response."
)
by_option = click.option(
    "--by",
    "by",
    multiple=True,
    default=(),
    show_default=True,
    metavar="COL",
    help="Group key column: one fit per group; repeat, or separate by commas "
    "(--by drug,cell), for several keys.",
)
weights_option = click.option(
    "--weights",
    default=None,
    show_default=True,
    metavar="COL",
    help="Column of per-point uncertainties (see --weights-kind).",
)
weights_kind_option = click.option(
    "--weights-kind",
    type=click.Choice(WEIGHTS_KINDS),
    default="sigma",
    show_default=True,
    help="What --weights holds: standard deviations, variances, or weights "
    "proportional to 1/variance.",
)
nan_option = click.option(
    "--nan",
    type=click.Choice(("drop", "error")),
    default="drop",
    show_default=True,
    help="Rows with a missing or infinite x, y or weight: drop them (counted "
    "on stderr), or stop with an error (exit 2).",
)
level_option = click.option(
    "--level",
    type=Level(),
    default=0.95,
    show_default=True,
    help="Confidence level of intervals.",
)
sheet_option = click.option(
    "--sheet",
    default=None,
    show_default="the first",
    metavar="NAME|N",
    help="The sheet of an Excel workbook DATA (.xlsx): its name, or its "
    "position counted from 1.",
)
encoding_option = click.option(
    "--encoding",
    default=None,
    show_default="UTF-8, or UTF-16/32 by its byte-order mark",
    metavar="NAME",
    help="The encoding of a text DATA, e.g. cp1252 (Excel's CSV on Windows), "
    "latin-1, utf-16. Text that is not UTF-8 is refused, naming this option.",
)
decimal_option = click.option(
    "--decimal",
    type=click.Choice((".", ",")),
    default=None,
    show_default="a comma in a ;- or tab-delimited DATA with numbers like 1,5",
    help="The decimal separator of the numbers of a text DATA.",
)


log_y_option = click.option(
    "--log-y",
    is_flag=True,
    default=False,
    show_default=True,
    help="Fit on the log scale (residuals log y - log f(x)): for responses "
    "spanning decades; statistics are then on that scale, bands multiplicative.",
)
_window_option = click.option(
    "--window",
    type=float,
    default=None,
    show_default="5",
    metavar="H",
    help="easylinear: points in each window on ln y (growthrates' h).",
)
_quota_option = click.option(
    "--quota",
    type=float,
    default=None,
    show_default="0.95",
    metavar="Q",
    help="easylinear: windows whose slope is at least Q of the steepest are joined.",
)
_wells_option = click.option(
    "--wells",
    multiple=True,
    default=(),
    show_default="the columns named like wells",
    metavar="A1:H12,COL,...",
    help="With --wide: the wells to use, rectangular ranges of wells and/or "
    "column names, comma-separated or repeated.",
)
_exclude_option = click.option(
    "--exclude",
    multiple=True,
    default=(),
    show_default=True,
    metavar="COL",
    help="With --wide: a column to leave out; repeatable.",
)


def easylinear_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--window`` and ``--quota``: easylinear's (checked by the API)."""
    return _window_option(_quota_option(command))


def well_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--wells`` and ``--exclude``: which columns of a --wide plate."""
    return _wells_option(_exclude_option(command))


def reading_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """``--sheet``, ``--encoding`` and ``--decimal``: how DATA is read."""
    return sheet_option(encoding_option(decimal_option(command)))


@contextmanager
def option_errors() -> Iterator[None]:
    """An option the API refuses (:class:`~scurve.errors.OptionError`,
    ``sheet: ...``) as click's usage error naming the flag (``Invalid value
    for '--sheet': ...``)."""
    from scurve.errors import OptionError

    try:
        yield
    except OptionError as exc:
        flag = "--" + exc.option.replace("_", "-")
        raise click.BadParameter(exc.reason, param_hint=f"'{flag}'") from None
