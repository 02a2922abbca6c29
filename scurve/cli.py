"""The ``scurve`` command line: a thin layer over the public API.

Importing this module must stay cheap, because ``scurve --help`` pays for it:
numpy, json and :mod:`scurve.core.shapes` are imported when a command needs them,
:mod:`scurve.plotting` (hence matplotlib) only for ``--plot``. Neither scipy,
pandas, lmfit nor matplotlib is loaded to print help
(``tests/test_cli.py::test_help_imports_nothing_heavy``); numpy still is, as
long as ``scurve/__init__.py`` imports :mod:`scurve.core.special` eagerly.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import scurve

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

    from scurve.core.shapes import Curve, Shape
    from scurve.io import Selection
    from scurve.models.base import SCurveModel
    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits

__all__ = ["main"]

FORMS = ("native", "odd", "unit")
FORM_HELP = (
    "Which form of each shape: 'odd' has range (-1, 1) and slope 1 at 0, "
    "'unit' has range (0, 1), 'native' is the shape's conventional form."
)

EXIT_CODES = """\b
Exit codes:
  0  success; every fit has status ok, at_bound, singular or flat (the
     last three are warned about on stderr)
  1  the work could not be finished: a fit failed or did not converge (a
     group's row is still written, with its status and message; a single
     curve that cannot be fitted at all, e.g. with fewer points than
     parameters, writes nothing), or a file could not be written
  2  usage or input error (unknown curve or model, missing file or column,
     a value that is not a number, bad --param ...); nothing is written
"""

_NoArgsIsHelpError = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _registry() -> Mapping[str, Shape]:
    """:data:`scurve.shapes.REGISTRY`, imported on first use."""
    from scurve.core.shapes import REGISTRY

    return REGISTRY


class InputError(click.ClickException):
    """A usage or input error, reported as one line on stderr with exit code 2."""

    exit_code = 2


@contextmanager
def _one_line_usage_errors() -> Iterator[None]:
    """Turn click's usage errors (usage, hint and message) into one line."""
    try:
        yield
    except _NoArgsIsHelpError:
        raise
    except click.UsageError as exc:
        message = " ".join(exc.format_message().split())
        if exc.ctx is not None:
            message += f" (see '{exc.ctx.command_path} --help')"
        raise InputError(message) from None


class OneLineErrorGroup(click.Group):
    """A click group whose usage errors are one line on stderr, exit code 2."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        with _one_line_usage_errors():
            return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        with _one_line_usage_errors():
            return super().invoke(ctx)


class RegistryChoice(click.Choice):
    """``click.Choice(sorted(REGISTRY))`` with the registry read on first use.

    Spellings are normalized, so ``hard-clip`` and ``Hard_Clip`` both mean
    ``hard_clip``. With a `metavar`, help shows it instead of the choices,
    so that ``--help`` does not import the registry (the model registry
    imports lmfit).
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

    def get_metavar(
        self, param: click.Parameter, ctx: click.Context | None = None
    ) -> str | None:
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


@click.group(
    cls=OneLineErrorGroup,
    epilog=EXIT_CODES,
    context_settings={"max_content_width": 100},
)
@click.version_option(scurve.__version__, prog_name="scurve")
def main() -> None:
    """scurve: S-curves done right.

    One numerically stable sigmoid core for growth, dose-response, innovation
    diffusion and audio waveshaping. Results go to stdout, diagnostics to
    stderr.
    """


form_option = click.option(
    "--form",
    type=click.Choice(FORMS),
    default="native",
    show_default=True,
    help=FORM_HELP,
)
json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    default=False,
    show_default=True,
    help="Write JSON to stdout instead of a table.",
)


def _jsonable(data: Any) -> Any:
    """`data` with non-finite floats as the strings "inf", "-inf" and "nan".

    Strict JSON has no infinities or NaN, and null is reserved for "n/a".
    """
    if isinstance(data, dict):
        return {k: _jsonable(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_jsonable(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return "nan" if math.isnan(data) else ("inf" if data > 0 else "-inf")
    return data


def _echo_json(data: Any) -> None:
    import json

    click.echo(json.dumps(_jsonable(data), indent=2, allow_nan=False))


def _table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: bool | Sequence[bool],
) -> str:
    """Rows of text under a header, columns padded to their widest cell.

    Numeric columns are right-aligned so that digits line up; text columns
    are left-aligned. `numeric` is one flag for every column, or one each.
    """
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    right = [numeric] * len(header) if isinstance(numeric, bool) else list(numeric)
    lines = [
        "  ".join(
            cell.rjust(w) if r else cell.ljust(w)
            for cell, w, r in zip(row, widths, right, strict=True)
        ).rstrip()
        for row in [header, *rows]
    ]
    return "\n".join(lines)


def _describe(name: str, curve: Curve | None, form: str) -> dict[str, Any]:
    """One curve as JSON-able data; a shape without this form has nulls."""
    if curve is None:
        return {
            "name": name,
            "form": form,
            "formula": None,
            "range": None,
            "params": {},
            "has_inverse": False,
            "has_antiderivative": False,
        }
    return {
        "name": name,
        "form": curve.form,
        "formula": curve.formula,
        "range": [float(v) for v in curve.range],
        "params": {k: float(v) for k, v in curve.params.items()},
        "has_inverse": bool(curve.has_inverse),
        "has_antiderivative": bool(curve.has_antiderivative),
    }


def _curves_table(entries: Sequence[dict[str, Any]]) -> str:
    header = ["name", "form", "formula", "range", "params", "inverse", "antideriv."]
    rows = []
    for e in entries:
        if e["formula"] is None:
            rows.append([e["name"], e["form"], "(no such form)", "", "", "", ""])
            continue
        low, high = e["range"]
        params = " ".join(f"{k}={v:g}" for k, v in e["params"].items())
        yes_no = {True: "yes", False: "no"}
        rows.append(
            [
                e["name"],
                e["form"],
                e["formula"],
                f"({low:g}, {high:g})",
                params,
                yes_no[e["has_inverse"]],
                yes_no[e["has_antiderivative"]],
            ]
        )
    return _table(header, rows, numeric=False)


@main.command()
@form_option
@json_option
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    show_default=True,
    help="Also draw the family and its derivatives (odd and unit forms, or "
    "the one given by --form) to this file; its extension (.png, .pdf, .svg) "
    "chooses the format.",
)
def curves(form: str, as_json: bool, plot_path: Path | None) -> None:
    """List every S-curve: formula, range, inverse, antiderivative."""
    entries = [
        _describe(name, getattr(shape, form), form)
        for name, shape in _registry().items()
    ]
    if as_json:
        _echo_json(entries)
    else:
        click.echo(_curves_table(entries))
    if plot_path is not None:
        _plot_family(form, plot_path)


@contextmanager
def _plot_errors(path: str | Path) -> Iterator[None]:
    """Report a missing matplotlib or an unwritable file (exit 1), or an
    unknown figure format (a usage error, exit 2), in one line."""
    try:
        yield
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:
        raise InputError(f"Invalid value for '--plot': {exc}") from None
    except OSError as exc:
        raise click.ClickException(
            f"could not write {str(path)!r}: {exc.strerror or exc}"
        ) from None


def _plot_family(form: str, path: Path) -> None:
    """Draw the family in `form` and write it to `path` (atomically)."""
    with _plot_errors(path):
        from scurve import plotting

        forms = ("odd", "unit") if form == "native" else (form,)
        fig = plotting.plot_family(forms)  # type: ignore[arg-type]
        written = plotting.save_figure(fig, path, close=True)
    click.echo(f"wrote {written}", err=True)


def _curve_params(curve: Curve, assignments: Sequence[tuple[str, float]]) -> dict:
    """Check ``--param`` names against the curve's parameters."""
    params = dict(assignments)
    unknown = sorted(set(params) - set(curve.params))
    if unknown:
        known = ", ".join(curve.params) or "none"
        raise click.BadParameter(
            f"{curve.name} has no parameter {unknown[0]!r} (its parameters: {known})",
            param_hint="'--param'",
        )
    return params


def _evaluate(
    curve: Curve, numbers: Sequence[float], params: dict[str, float]
) -> dict[str, np.ndarray | None]:
    """Value, derivative, inverse (of `numbers` as y) and antiderivative.

    A column the curve does not have is None; an entry where the inverse is
    undefined (y outside the curve's closed range) is NaN.
    """
    import numpy as np

    xs = np.array(numbers, dtype=np.float64)
    columns: dict[str, np.ndarray | None] = {
        "value": np.asarray(curve.value(xs, **params), dtype=np.float64),
        "derivative": np.asarray(curve.derivative(xs, **params), dtype=np.float64),
        "inverse": None,
        "antiderivative": None,
    }
    if curve.has_inverse:
        low, high = (float(v) for v in curve.range)
        inside = (xs >= low) & (xs <= high)
        inverse = np.full_like(xs, np.nan)
        if inside.any():
            inverse[inside] = curve.inverse(xs[inside], **params)
        columns["inverse"] = inverse
    if curve.has_antiderivative:
        columns["antiderivative"] = np.asarray(
            curve.antiderivative(xs, **params), dtype=np.float64
        )
    return columns


def _cell(x: float, column: np.ndarray | None, i: int) -> float | None:
    """Entry `i` of a column, None where n/a (no such function, or NaN from a
    number that is not NaN: outside the inverse's domain)."""
    if column is None:
        return None
    v = float(column[i])
    return None if math.isnan(v) and not math.isnan(x) else v


@main.command(
    name="eval",
    context_settings={"ignore_unknown_options": True},
    epilog="Negative numbers work as they are: scurve eval tanh -1 0 1 "
    "(or after --: scurve eval tanh -- -1 0 1).",
)
@click.argument("curve_name", metavar="CURVE", type=RegistryChoice(_registry, "curve"))
@click.argument("xs", metavar="X...", nargs=-1, required=True, type=Number())
@form_option
@click.option(
    "--param",
    "assignments",
    type=Assignment(),
    multiple=True,
    default=(),
    show_default=True,
    metavar="NAME=VALUE",
    help="A shape parameter, e.g. --param nu=0.5 for richards; repeatable. "
    "Unset parameters keep their defaults (see 'scurve curves').",
)
@json_option
def eval_(
    curve_name: str,
    xs: tuple[float, ...],
    form: str,
    assignments: tuple[tuple[str, float], ...],
    as_json: bool,
) -> None:
    """Evaluate a curve and its derivative, inverse and integral at X.

    For each X: the value, the derivative, the inverse and the antiderivative
    of CURVE in the chosen form. The inverse column treats each X as a y
    value. "n/a" (null in JSON) marks a function the curve does not have, or
    an X outside the inverse's domain (the curve's range). In JSON,
    infinities and NaN are the strings "inf", "-inf" and "nan".
    """
    try:
        curve = _registry()[curve_name].form(form)  # type: ignore[arg-type]
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--form'") from None
    params = _curve_params(curve, assignments)
    try:
        columns = _evaluate(curve, xs, params)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--param'") from None
    points = [
        {"x": xi} | {k: _cell(xi, col, i) for k, col in columns.items()}
        for i, xi in enumerate(xs)
    ]
    if as_json:
        result = {
            "curve": curve_name,
            "form": curve.form,
            "formula": curve.formula,
            "params": dict(curve.params) | params,
            "points": points,
        }
        _echo_json(result)
        return
    header = ["x", "value", "derivative", "inverse", "antiderivative"]
    rows = [
        ["n/a" if p[k] is None else format(p[k], ".12g") for k in header]
        for p in points
    ]
    click.echo(_table(header, rows, numeric=True))


# ------------------------------------------------------------------ fitting

TABLE_FORMATS = ("table", "csv", "json")
WEIGHTS_KINDS = ("sigma", "variance", "weight")
#: Statuses that make ``scurve fit`` exit 1; the others are warnings.
FAILED = ("failed", "not_converged")
#: Fits of more groups than this show a progress bar (on a terminal).
PROGRESS_MIN_GROUPS = 5
#: Problem groups reported one line each on stderr; the rest are counted.
MAX_REPORTED = 10


def _models() -> Mapping[str, Callable[..., SCurveModel]]:
    """:data:`scurve.models.REGISTRY`, imported on first use (it loads lmfit)."""
    from scurve.models import REGISTRY

    return REGISTRY


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
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=0.95,
    show_default=True,
    help="Confidence level of intervals.",
)


def _data_label(data: Path) -> str:
    return "<stdin>" if str(data) == "-" else str(data)


def _check_output(path: str | Path, data: Path, force: bool) -> Path:
    """:func:`scurve.io.check_output` against the input file."""
    from scurve import io

    return io.check_output(path, inputs=[data], force=force)


@contextmanager
def _reported(label: str) -> Iterator[None]:
    """Bad input (exit 2) and a curve that cannot be fitted (exit 1), one line."""
    from scurve.errors import FitError
    from scurve.errors import InputError as BadInput

    try:
        yield
    except BadInput as exc:
        raise InputError(str(exc)) from None
    except FitError as exc:
        raise click.ClickException(f"{label}: {exc}") from None


def _load(
    data: Path,
    *,
    x: str,
    y: str,
    keys: Sequence[str],
    weights: str | None,
    weights_kind: str,
    nan: str,
    wide: bool = False,
    blank: str | float | None = None,
    trials: str | None = None,
    positive_x: bool = False,
) -> tuple[pd.DataFrame, Selection]:
    """Read DATA and check its columns; notes (dropped rows) go to stderr.

    A wide table (--wide) comes back long, its wells in the column ``well``
    (the blank well, if --blank names one, as a column beside them).
    """
    from scurve import io

    with _reported(_data_label(data)):
        table = io.read_table(str(data))
        if wide:
            keep = [blank] if isinstance(blank, str) and blank != "min" else []
            table = io.wide_to_long(table, x, keep=keep)
        selection = io.select(
            table,
            x=x,
            y=y,
            by=keys,
            weights=weights,
            nan=nan,  # type: ignore[arg-type]
            weights_kind=weights_kind,  # type: ignore[arg-type]
            trials=trials,
            positive_x=positive_x,
        )
    for note in selection.notes:
        click.echo(f"Warning: {note}", err=True)
    return table, selection


def _build_model(name: str, shape: str | None) -> SCurveModel:
    """The model `name`, on `shape` if given (a usage error if it has none)."""
    from scurve.models import get_model

    model = get_model(name)
    if shape is None:
        return model
    if "shape" not in model.options:
        raise click.BadParameter(
            f"the model {name!r} has no shape option", param_hint="'--shape'"
        )
    return get_model(name, shape=shape)


def _model_options(model: SCurveModel, *, baseline: bool, log_y: bool) -> SCurveModel:
    """`model` rebuilt with --baseline and --log-y (a usage error for a model
    without a baseline)."""
    import inspect

    from scurve.models import get_model

    if not (baseline or log_y):
        return model
    if baseline and "baseline" not in inspect.signature(type(model)).parameters:
        raise click.BadParameter(
            f"the model {model.name!r} has no baseline (the growth models have)",
            param_hint="'--baseline'",
        )
    extra: dict[str, bool] = {"log_y": True} if log_y else {}
    if baseline:
        extra["baseline"] = True
    return get_model(model.name, **{**model.options, **extra})


def _plate_keys(wide: bool, keys: list[str], y: str | None) -> tuple[list[str], str]:
    """The group keys and response column: a wide table's wells, or --by/--y."""
    from scurve.io import VALUE, WELL

    if not wide:
        if y is None:
            raise click.UsageError("Missing option '--y'.")
        return keys, y
    if y is not None or keys:
        raise click.UsageError(
            "--wide fits every column but --x, grouped by well: drop --y and --by"
        )
    return [WELL], VALUE


def _blank(text: str | None) -> str | float | None:
    """--blank as "min", a finite number, or a column name."""
    if text is None or text.strip() == "min":
        return None if text is None else "min"
    try:
        value = float(text)
    except ValueError:
        return text
    if not math.isfinite(value):
        raise click.BadParameter(
            f"{text} is not a finite number", param_hint="'--blank'"
        )
    return value


def _summary(result: Any, kind: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The --summary table and its JSON document."""
    import scurve
    from scurve.io import jsonable

    try:
        frame = scurve.growthcurver_summary(result)
    except ValueError as exc:
        raise click.UsageError(f"--summary growthcurver: {exc}") from None
    return frame, jsonable({"summary": kind, "samples": frame.to_dict("records")})


def _check_names(model: SCurveModel, option: str, names: Iterable[str]) -> None:
    """A usage error for a name that is not one of the model's parameters."""
    known = list(model.curve_params)
    for name in names:
        if name not in known:
            raise click.BadParameter(
                f"{model.label} has no parameter {name!r} "
                f"(its parameters: {', '.join(known)})",
                param_hint=f"'{option}'",
            )


def _names(values: Iterable[str]) -> list[str]:
    """``("bottom,top", "scale")`` -> ``["bottom", "top", "scale"]``."""
    names = (n.strip() for v in values for n in v.split(","))
    return list(dict.fromkeys(n for n in names if n))


def _stderr_is_terminal() -> bool:
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def _progress(total: int) -> Iterator[Callable[[int], None] | None]:
    """A progress callback drawing a bar on stderr, for more than a few groups
    on a terminal; None otherwise."""
    if total <= PROGRESS_MIN_GROUPS or not _stderr_is_terminal():
        yield None
        return
    with click.progressbar(
        length=total,
        label=f"fitting {total} groups",
        file=sys.stderr,
    ) as bar:

        def advance(done: int) -> None:
            bar.update(done - bar.pos)

        yield advance


def _echo_warnings(caught: Iterable[Any], known: Sequence[str]) -> None:
    """Warnings raised while fitting, once each, one line each; the notes
    already reported (`known`) are not repeated."""
    seen = set(known)
    for record in caught:
        text = " ".join(str(record.message).split())
        if text not in seen:
            seen.add(text)
            click.echo(f"Warning: {text}", err=True)


def _group_text(keys: Sequence[str], key: tuple) -> str:
    """``Herbicide=Bentazone``, comma-joined for several keys."""
    return ", ".join(f"{k}={v}" for k, v in zip(keys, key, strict=True))


def _as_groups(result: FitResult | GroupFits) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The results table and the JSON document.

    A single fit is one group with the key ``()``: a one-row table without
    key columns and ``{"group": {}, ...}`` in JSON.
    """
    table = result.result_table
    return table.frame(), table.to_dict()


def _cell_text(value: Any) -> str:
    """A cell of a human table: floats to 6 significant digits."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def _frame_table(frame: pd.DataFrame) -> str:
    """A DataFrame as aligned text: numbers right-aligned, text left."""
    header = [str(c) for c in frame.columns]
    rows = [
        [_cell_text(v) for v in record]
        for record in frame.astype(object).itertuples(index=False)
    ]
    numeric = [frame[c].dtype.kind in "iuf" for c in frame.columns]
    return _table(header, rows, numeric=numeric)


def _json_text(document: Any) -> str:
    """Strict JSON as the output files have it (NaN as null)."""
    import json

    from scurve.io import jsonable

    return json.dumps(jsonable(document), indent=2, allow_nan=False)


def _echo_frame(
    frame: pd.DataFrame,
    document: Any,
    fmt: str,
    report: Callable[[Any], str] | None = None,
) -> None:
    """Print results as JSON, CSV, or for people (`report`, default the table)."""
    if fmt == "json":
        click.echo(_json_text(document))
    elif fmt == "csv":
        click.echo(frame.to_csv(index=False, lineterminator="\n"), nl=False)
    else:
        click.echo(_frame_table(frame) if report is None else report(document))


def _number(v: Any) -> str:
    return "" if v is None else (v if isinstance(v, str) else f"{v:.6g}")


def _fit_report(document: dict[str, Any]) -> str:
    """Results for people: per group a block of parameters, statistics, status.

    The wide one-row-per-group table is what ``--format csv`` and ``-o`` give.
    """
    blocks = []
    for group in document["groups"]:
        key = ", ".join(f"{k}={v}" for k, v in group["group"].items())
        head = f"{key}  " if key else ""
        level = group.get("level")
        ci = group.get("ci")
        title = f"{head}{document['model']}"
        if level is not None and ci not in (None, "none"):
            title += f"  ({level:.0%} intervals, {ci} method)"
        lines = [title]
        quantities = {**group.get("params", {}), **group.get("derived", {})}
        if quantities:
            width = max(len(n) for n in quantities)
            lines.append(
                f"  {'':{width}}  {'value':>12} {'stderr':>12} {'lower':>12} "
                f"{'upper':>12}"
            )
            for name, q in quantities.items():
                cells = " ".join(
                    f"{_number(q.get(c)):>12}"
                    for c in ("value", "stderr", "lower", "upper")
                )
                lines.append(f"  {name:{width}}  {cells}")
        stats = group.get("stats") or {}
        shown = ("n", "dof", "rss", "rmse", "r2", "aic", "aicc", "bic")
        if stats:
            lines.append(
                "  " + "  ".join(f"{k}={_number(stats.get(k))}" for k in shown)
            )
        robust = group.get("robust")
        if robust:
            flagged = ", ".join(
                f"{p['point']} (x={_number(p['x'])}, scaled {p['scaled']:.3g})"
                for p in robust["outliers"]
            )
            lines.append(
                f"  {robust['loss']} loss, scale {_number(robust['scale'])}: "
                f"{len(robust['outliers'])} outliers (|residual| > "
                f"{robust['threshold']:g} scale)"
                + (f": points {flagged}" if flagged else "")
            )
        lines.append(f"  status: {group['status']} ({group['message']})")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


@contextmanager
def _write_errors(path: str | Path) -> Iterator[None]:
    """A file that cannot be written: exit 1 (bad paths were checked first)."""
    from scurve.errors import InputError as BadInput

    try:
        yield
    except BadInput as exc:
        raise InputError(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(
            f"could not write {str(path)!r}: {exc.strerror or exc}"
        ) from None


def _write_results(
    path: Path,
    frame: pd.DataFrame,
    document: dict[str, Any],
    *,
    inputs: Sequence[Path],
    force: bool,
) -> None:
    """``.json``: the JSON document; anything else: the table (io.write_table)."""
    from scurve import io

    with _write_errors(path):
        if path.suffix.lower() == ".json":
            io.write_json(document, path, inputs=inputs, force=force)
        else:
            io.write_table(frame, path, inputs=inputs, force=force)
    click.echo(f"wrote {path}", err=True)


def _plot_directory(target: str) -> Path | None:
    """`target` as a directory of per-group plots, or None for one file."""
    path = Path(target)
    if path.is_dir() or target.endswith(("/", os.sep)):
        return path
    return None


def _plot_file_name(key: tuple, taken: set[str]) -> str:
    """A PNG file name made of the group's key values, unique in `taken`."""
    import re

    stem = re.sub(r"[^\w.-]+", "_", "_".join(str(v) for v in key)).strip("._")
    stem = stem or "group"
    name, i = f"{stem}.png", 2
    while name in taken:
        name, i = f"{stem}-{i}.png", i + 1
    taken.add(name)
    return name


def _plot_targets(
    target: str | None, data: Path, group_keys: Sequence[tuple], force: bool
) -> tuple[Path | None, dict[tuple, Path]]:
    """Where --plot writes: ``(file, {})`` or ``(None, {group key: PNG file})``.

    Checked before any fitting: an input file, or an existing file without
    --force, is refused. A single fit (the key ``()``) in a directory is
    named after DATA.
    """
    from scurve import io

    if target is None:
        return None, {}
    directory = _plot_directory(target)
    with _reported(_data_label(data)):
        if directory is None:
            return _check_output(target, data, force), {}
        if directory.exists() and not directory.is_dir():
            raise io.InputError(f"{target}: is not a directory")
        if not directory.parent.is_dir():
            raise io.InputError(
                f"{target}: the directory {str(directory.parent)!r} does not exist"
            )
        taken: set[str] = set()
        stem = "fit" if str(data) == "-" else data.stem
        files = {
            key: directory / _plot_file_name(key or (stem,), taken)
            for key in group_keys
        }
        if directory.is_dir():
            for path in files.values():
                _check_output(path, data, force)
    return None, files


def _draw_plots(
    result: FitResult | GroupFits,
    single: Path | None,
    per_group: Mapping[tuple, Path],
    *,
    x: str,
    y: str,
    plate: bool = False,
) -> None:
    """One figure (the fit, or a grid of the groups; with `plate`, a plate
    map when the groups are wells), or one PNG per group.

    Axes are labelled with the column names; in a directory, each curve is
    labelled with its group.
    """
    from scurve.results.fit import FitResult

    if single is not None:
        with _plot_errors(single):
            from scurve import plotting

            if isinstance(result, FitResult):
                axes = result.plot()
                axes.set(xlabel=x, ylabel=y)
                figure = axes.figure
            else:
                figure = result.plot(layout=_group_layout(result, plate))
                figure.supxlabel(x)
                figure.supylabel(y)
            plotting.save_figure(figure, single, close=True)
        click.echo(f"wrote {single}", err=True)
        return
    if not per_group:
        return
    results = {(): result} if isinstance(result, FitResult) else result
    keys = [] if isinstance(result, FitResult) else result.by
    written = 0
    directory = next(iter(per_group.values())).parent
    # Both are in the order of the groups in DATA.
    for (key, res), path in zip(results.items(), per_group.values(), strict=True):
        if not res.fitted:
            continue  # no curve; the failure is reported with the results
        with _plot_errors(path):
            from scurve import plotting

            directory.mkdir(exist_ok=True)
            axes = plotting.plot_fit(res, label=_group_text(keys, key) or None)
            axes.set(xlabel=x, ylabel=y)
            plotting.save_figure(axes.figure, path, close=True)
        written += 1
    plots = "plot" if written == 1 else "plots"
    click.echo(f"wrote {written} {plots} to {directory}{os.sep}", err=True)


def _group_layout(fits: GroupFits, plate: bool) -> str:
    """A plate map for a wide table whose columns are all wells, else a grid."""
    from scurve.plotting import well_position

    wells = plate and all(
        len(key) == 1 and well_position(str(key[0])) is not None for key in fits
    )
    return "plate" if wells else "grid"


def _group_keys(selection: Selection, keys: Sequence[str]) -> list[tuple]:
    """The groups' key tuples in the order they are fitted; ``[()]`` for one fit."""
    if not keys:
        return [()]
    by = keys[0] if len(keys) == 1 else list(keys)
    groups = selection.frame.groupby(by, sort=False, dropna=False).groups
    return [k if isinstance(k, tuple) else (k,) for k in groups]


def _report_statuses(
    frame: pd.DataFrame, keys: Sequence[str], label: str, shared: bool
) -> bool:
    """One line on stderr per fit whose status is not ok; True if any failed.

    failed and not_converged are errors (exit 1); at_bound and singular are
    warnings. A joint fit (shared parameters) has one status, said once.
    """
    problems = frame[frame["status"] != "ok"]
    if shared:
        problems = problems.head(1)
    lines = []
    for record in problems.to_dict("records"):
        kind = "Error" if record["status"] in FAILED else "Warning"
        where = label
        if keys and not shared:
            key = tuple(record[k] for k in keys)
            where += f": group {_group_text(keys, key)}"
        elif shared:
            where += ": joint fit"
        lines.append(f"{kind}: {where}: {record['status']}: {record['message']}")
    for line in lines[:MAX_REPORTED]:
        click.echo(line, err=True)
    if len(lines) > MAX_REPORTED:
        click.echo(
            f"Warning: {label}: {len(lines) - MAX_REPORTED} more fits are not ok; "
            "see the status column",
            err=True,
        )
    return bool(problems["status"].isin(FAILED).any())


FIT_EPILOG = f"""\b
Output columns (one row per group; one row without --by):
  the --by keys, model, then NAME, NAME_stderr, NAME_lower, NAME_upper
  for each parameter and derived quantity, then n, dof, rss, rmse, r2, aic,
  aicc, bic, converged, status, message.
\b
JSON (--format json, or -o FILE.json):
  {{"model": LABEL, "shared": [NAME...], "groups": [{{"group": {{KEY: VALUE}},
  "name": MODEL, "options": {{"shape": ...}}, "params": {{NAME: {{"value",
  "stderr", "lower", "upper", "vary"}}}}, "derived": {{...}}, "stats": {{...}},
  "converged", "status", "message", "level", "ci", "covariance": {{"names":
  [...], "matrix": [[...]]}} or null}}]}}; a single fit is one group with
  "group": {{}}. NaN is null. 'scurve predict' reads this file.
\b
Status: ok; at_bound (a parameter at a bound: warning); singular (no
  standard errors: warning); flat (no S-curve in the data, e.g. a well that
  did not grow: warning, parameters not reported); not_converged and failed
  (errors).
{EXIT_CODES}"""


@main.command(name="fit", epilog=FIT_EPILOG)
@data_argument
@click.option(
    "--model",
    "model_name",
    required=True,
    type=RegistryChoice(_models, "model", metavar="NAME"),
    help="The model to fit (see 'scurve models').",
)
@x_option
@click.option(
    "--y",
    "y",
    default=None,
    show_default=True,
    metavar="COL",
    help="Column of the response (not with --wide).",
)
@by_option
@weights_option
@weights_kind_option
@click.option(
    "--shape",
    type=RegistryChoice(_registry, "shape"),
    default=None,
    show_default="logistic",
    help="The S-curve of the sigmoid model (see 'scurve curves').",
)
@click.option(
    "--baseline",
    is_flag=True,
    default=False,
    show_default=True,
    help="Growth models: fit the baseline N_min too (optical densities that do "
    "not start from zero); otherwise it is 0.",
)
@click.option(
    "--log-y",
    is_flag=True,
    default=False,
    show_default=True,
    help="Fit on the log scale (residuals log y - log f(x)): for responses "
    "spanning decades; statistics are then on that scale, bands multiplicative.",
)
@click.option(
    "--wide",
    is_flag=True,
    default=False,
    show_default=True,
    help="DATA is a plate-reader table: the --x column (time) and one column "
    "per well; every other column is fitted as a group keyed 'well'.",
)
@click.option(
    "--blank",
    default=None,
    show_default=True,
    metavar="min|COL|VALUE",
    help="Background correction before fitting: 'min' subtracts each group's "
    "smallest reading (growthcurver's default), COL a column of blank readings "
    "(with --wide, that well is not fitted), VALUE a constant.",
)
@click.option(
    "--summary",
    type=click.Choice(("growthcurver",)),
    default=None,
    show_default=True,
    help="Report growthcurver's SummarizeGrowthByPlate columns instead (sample, "
    "k, n0, r, t_mid, t_gen, auc_l, auc_e, sigma, note) for logistic fits.",
)
@click.option(
    "--fix",
    type=Assignment(),
    multiple=True,
    default=(),
    show_default=True,
    metavar="NAME=VALUE",
    help="Hold a parameter at a value; repeatable.",
)
@click.option(
    "--init",
    type=Assignment(),
    multiple=True,
    default=(),
    show_default=True,
    metavar="NAME=VALUE",
    help="A starting value overriding the self-start guess; repeatable.",
)
@click.option(
    "--bounds",
    type=BoundsAssignment(),
    multiple=True,
    default=(),
    show_default=True,
    metavar="NAME=LOW:HIGH",
    help="Bounds of a parameter, e.g. top=0: (an empty end is unbounded); repeatable.",
)
@click.option(
    "--share",
    multiple=True,
    default=(),
    show_default=True,
    metavar="NAME,...",
    help="With --by: parameters common to every group, fitted jointly "
    "(e.g. bottom,top).",
)
@click.option(
    "--ci",
    type=click.Choice(("delta", "profile", "none")),
    default="delta",
    show_default=True,
    help="Intervals: delta method (t-based), profile likelihood, or none.",
)
@level_option
@nan_option
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    show_default=True,
    help="Also write the results here, atomically: .json as JSON, .tsv "
    "tab-separated, .parquet Parquet, anything else CSV.",
)
@click.option(
    "--force",
    is_flag=True,
    default=False,
    show_default=True,
    help="Overwrite existing output files (never the input).",
)
@click.option(
    "--plot",
    "plot_target",
    type=click.Path(),
    default=None,
    show_default=True,
    metavar="FILE|DIR/",
    help="Draw the fit to FILE (.png, .pdf, .svg; groups as a grid), or, for "
    "a directory (existing, or ending in /), one PNG per group named after "
    "its key; groups that failed get none.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(TABLE_FORMATS),
    default=None,
    show_default="table, or none with -o",
    help="How to print the results on stdout.",
)
@click.option(
    "--log-dose",
    is_flag=True,
    default=False,
    show_default=True,
    help="hill, hill5: the --x column holds log10 doses (Prism's 'X is "
    "log(concentration)').",
)
@click.option(
    "--ec",
    "ec_levels",
    type=NumberList(),
    default=None,
    show_default=True,
    metavar="X,...",
    help="hill, hill5: also report ECx (ICx for a falling curve) for these "
    "percentages of the effect, e.g. 10,50,90, with --ci intervals (profile "
    "for single fits, else delta); columns ecX, ecX_stderr, ecX_lower, ecX_upper.",
)
@click.option(
    "--trials",
    default=None,
    show_default=True,
    metavar="COL",
    help="hill, hill5: quantal data, --y counting the responders of COL trials "
    "(dead of total); binomial maximum likelihood, LD50 as ec50.",
)
@click.option(
    "--loss",
    type=click.Choice(("linear", "soft_l1", "huber", "cauchy")),
    default="linear",
    show_default=True,
    help="Robust fitting: outliers are down-weighted (linear is least squares); "
    "columns loss, scale (robust residual scale s) and outliers (points with "
    "|residual| > 3 s, listed in the report and in JSON).",
)
@click.option(
    "--data",
    "data_kind",
    type=click.Choice(("cumulative", "per-period", "rate")),
    default=None,
    show_default="cumulative",
    help="bass: what --y holds: cumulative adopters, adoptions (sales) in the "
    "period ending at x, or the adoption rate at x.",
)
@click.option(
    "--estimator",
    type=click.Choice(("nls", "ols", "ml")),
    default=None,
    show_default="nls",
    help="bass: nonlinear least squares (Srinivasan & Mason 1986), Bass's "
    "(1969) OLS on the discrete analogue, or Poisson maximum likelihood "
    "(Schmittlein & Mahajan 1982).",
)
@click.option(
    "--launch",
    default=None,
    show_default="one period before the first x",
    metavar="X|fit",
    help="bass: the launch time on the x axis, or 'fit' to estimate it.",
)
@click.option(
    "--covariate",
    "covariates",
    multiple=True,
    default=(),
    show_default=True,
    metavar="COL",
    help="bass-generalized: a column of positive marketing-mix values (price, "
    "advertising) at each x, one parameter beta_COL each; repeatable.",
)
@click.option(
    "--prior",
    "priors",
    multiple=True,
    default=(),
    show_default=True,
    metavar="NAME=MEAN:SD",
    help="bass: a Gaussian prior on m, p or q, e.g. p=0.03:0.01 from an "
    "analogous product (pre-launch forecasts: m estimated, its interval "
    "carrying the priors' uncertainty); repeatable.",
)
@click.option(
    "--chunk-curves",
    type=click.IntRange(min=1),
    default=None,
    show_default="20000 when streaming",
    metavar="N",
    help="Large screens: stream the Parquet DATA, fitting N groups at a time "
    "(rows of a group must be together), into -o FILE (.parquet, .csv, .tsv). "
    "A Parquet DATA of more than 1,000,000 rows (by its metadata) with -o and "
    "--by streams without this option.",
)
@click.option(
    "--dask",
    "dask_target",
    default=None,
    show_default=True,
    metavar="local|ADDRESS",
    help="Large screens: fit the Parquet DATA with Dask, on a local cluster "
    "(one worker process per core) or the scheduler at ADDRESS (e.g. "
    "tcp://host:8786), into -o FILE; needs pip install 'scurve[dask]'.",
)
def fit_(
    data: Path,
    model_name: str,
    x: str,
    y: str | None,
    by: tuple[str, ...],
    weights: str | None,
    weights_kind: str,
    shape: str | None,
    baseline: bool,
    log_y: bool,
    wide: bool,
    blank: str | None,
    summary: str | None,
    fix: tuple[tuple[str, float], ...],
    init: tuple[tuple[str, float], ...],
    bounds: tuple[tuple[str, tuple[float, float]], ...],
    share: tuple[str, ...],
    ci: str,
    level: float,
    nan: str,
    output: Path | None,
    force: bool,
    plot_target: str | None,
    fmt: str | None,
    log_dose: bool = False,
    ec_levels: tuple[float, ...] | None = None,
    trials: str | None = None,
    loss: str = "linear",
    data_kind: str | None = None,
    estimator: str | None = None,
    launch: str | None = None,
    covariates: tuple[str, ...] = (),
    priors: tuple[str, ...] = (),
    chunk_curves: int | None = None,
    dask_target: str | None = None,
) -> None:
    """Fit a model to DATA, per group with --by.

    DATA is a CSV or TSV file (delimiter sniffed), Parquet, or - for standard
    input. Rows with missing or infinite values are dropped (counted on
    stderr) unless --nan error. The results go to stdout (--format) and/or to
    -o; outputs are checked before fitting: the input file is never
    overwritten, an existing file only with --force. A progress bar shows on
    stderr when more than a few groups are fitted on a terminal.
    """
    import warnings

    import scurve

    label = _data_label(data)
    keys = _names(by)
    shared = _names(share)
    if shared and not keys:
        raise click.UsageError("--share needs groups: give --by as well")
    model = _build_model(model_name, shape)
    model = _model_options(model, baseline=baseline, log_y=log_y)
    keys, y = _plate_keys(wide, keys, y)
    blank_value = _blank(blank)
    if summary and not keys:
        raise click.UsageError(f"--summary {summary} needs groups: --wide or --by")
    if log_dose or ec_levels:
        model = _dose_model(model, log_dose, ec_levels)
    if trials is not None:
        _check_trials(model, weights, wide, shared, ci)
    if loss != "linear":
        for given, option in ((trials, "--trials"), (shared, "--share"),
                              (ci == "profile", "--ci profile")):  # fmt: skip
            if given:
                raise click.UsageError(f"--loss {loss} cannot take {option}")
    if data_kind or estimator or launch:
        model = _diffusion_model(
            model, adoptions=data_kind, estimator=estimator, launch=launch
        )
    if priors:
        model = _prior_model(model, priors)
    fixed, starts, limits = dict(fix), dict(init), dict(bounds)
    for option, names in (
        ("--fix", fixed),
        ("--init", starts),
        ("--bounds", limits),
        ("--share", shared),
    ):
        _check_names(model, option, names)
    for option, values in (("--fix", fixed), ("--init", starts)):
        for name, value in values.items():
            if not math.isfinite(value):
                raise click.BadParameter(
                    f"{name}={value} is not a finite number", param_hint=f"'{option}'"
                )
    if output is not None:
        with _reported(label):
            _check_output(output, data, force)
    # large screens (scurve.cli_scale): streamed in chunks, or fitted by Dask
    large = {"--dask": dask_target, "--chunk-curves": chunk_curves}
    refused = {
        "--wide": wide, "--blank": blank, "--summary": summary, "--share": shared,
        "--plot": plot_target, "--trials": trials, "--loss": loss != "linear",
        "--ec": ec_levels, "--covariate": covariates, "--format": fmt,
    }  # fmt: skip
    if any(v is not None for v in large.values()) or (
        not any(refused.values()) and _large_input(data, output, keys)
    ):
        from scurve import cli_scale

        named = " and ".join(k for k, v in large.items() if v is not None)
        if named and (given := cli_scale.refused_options(refused)):
            raise click.UsageError(f"{named} cannot take {', '.join(given)}")
        if named and (output is None or not keys):
            raise click.UsageError(f"{named} needs --by and -o FILE")
        cli_scale.fit_large(
            data, model, output=output, keys=keys, dask=dask_target,
            chunk_curves=chunk_curves, force=force, x=x, y=y, weights=weights,
            weights_kind=weights_kind, fix=fixed, init=starts, bounds=limits,
            ci=ci, level=level, nan=nan,
        )  # fmt: skip
        return
    table, selection = _load(
        data,
        x=x,
        y=y,
        keys=keys,
        weights=weights,
        weights_kind=weights_kind,
        nan=nan,
        wide=wide,
        blank=blank_value,
        trials=trials,
        positive_x=model.positive_x,
    )
    if covariates or model.name == "bass_generalized":
        model = _covariate_model(model, table, x, list(covariates), label, keys)
    group_keys = _group_keys(selection, keys)
    plot_file, plot_files = _plot_targets(plot_target, data, group_keys, force)

    bar_groups = len(group_keys) if keys and not shared else 0
    with (
        _reported(label),
        _progress(bar_groups) as progress,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("always")
        result = scurve.fit(
            table,
            model,
            x=x,
            y=y,
            by=keys,
            weights=weights,
            weights_kind=weights_kind,  # type: ignore[arg-type]
            fix=fixed,
            init=starts,
            bounds=limits,
            share=shared,
            ci=ci,  # type: ignore[arg-type]
            level=level,
            nan=nan,  # type: ignore[arg-type]
            progress=progress,
            blank=blank_value,
            **({"trials": trials} if trials is not None else {}),
            **({"loss": loss} if loss != "linear" else {}),
        )
    _echo_warnings(caught, selection.notes)
    frame, document = _as_groups(result)
    report, tidy = _fit_report, frame
    if summary:
        with _reported(label):
            frame, document = _summary(result, summary)
        report = None
    if ec_levels:
        from scurve.analysis import dose

        with _reported(label):
            with_ec = dose.ec_table(result, ec_levels, ci=ci)
        frame, document = with_ec.frame(), with_ec.to_dict()
    if output is not None:
        _write_results(output, frame, document, inputs=[data], force=force)
    fmt = fmt or (None if output is not None else "table")
    if fmt is not None:
        _echo_frame(frame, document, fmt, report=report)
    _draw_plots(result, plot_file, plot_files, x=x, y=y, plate=wide)
    if _report_statuses(tidy, keys, label, bool(shared)):
        click.get_current_context().exit(1)


def _large_input(data: Path, output: Path | None, keys: Sequence[str]) -> bool:
    """A Parquet DATA large enough to stream (scurve.cli_scale.should_stream);
    decided without importing pyarrow for anything but Parquet."""
    if output is None or not keys or str(data) == "-":
        return False
    if not (data.is_dir() or data.suffix.lower() in (".parquet", ".pq")):
        return False
    from scurve import cli_scale

    return cli_scale.should_stream(data, output, keys)


def _dose_model(
    model: SCurveModel, log_dose: bool, ec_levels: tuple[float, ...] | None
) -> SCurveModel:
    """The dose-response model with --log-dose; a usage error for --log-dose or
    --ec on another model, or an ECx outside (0, 100)."""
    from scurve.models import get_model

    option = "--log-dose" if log_dose else "--ec"
    if "log_dose" not in type(model).option_names:
        raise click.BadParameter(
            f"only for the dose-response models (hill, hill5), not {model.label}",
            param_hint=f"'{option}'",
        )
    for level in ec_levels or ():
        if not 0 < level < 100:
            raise click.BadParameter(
                f"ECx needs 0 < x < 100, got {level:g}", param_hint="'--ec'"
            )
    if not log_dose:
        return model
    return get_model(model.name, **{**model.options, "log_dose": True})


def _check_trials(
    model: SCurveModel, weights: str | None, wide: bool, shared: list[str], ci: str
) -> None:
    """--trials: usage errors for what quantal fits do not take."""
    if not model.quantal:
        raise click.BadParameter(
            f"only for the dose-response models (hill, hill5), not {model.label}",
            param_hint="'--trials'",
        )
    for given, option in (
        (weights, "--weights"),
        (wide, "--wide"),
        (shared, "--share"),
        (ci == "profile", "--ci profile"),
    ):
        if given:
            raise click.UsageError(f"--trials (quantal data) cannot take {option}")


def _diffusion_model(model: SCurveModel, **given: str | None) -> SCurveModel:
    """The diffusion model with --data, --estimator and --launch; a usage error
    for another model or a combination the model refuses."""
    from scurve.models import get_model

    options = {k: v for k, v in given.items() if v is not None}
    flag = {"adoptions": "data"}.get(next(iter(options)), next(iter(options)))
    first = f"'--{flag}'"
    if "adoptions" not in model.options:
        raise click.BadParameter(
            f"only for the diffusion models (bass, bass-generalized), not "
            f"{model.label}",
            param_hint=first,
        )
    launch = options.get("launch")
    if launch is not None and launch != "fit":
        try:
            options["launch"] = float(launch)  # type: ignore[assignment]
        except ValueError:
            raise click.BadParameter(
                f"expected a number or 'fit', got {launch!r}", param_hint="'--launch'"
            ) from None
    try:
        return get_model(model.name, **{**model.options, **options})
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=first) from None


def _prior_model(model: SCurveModel, priors: tuple[str, ...]) -> SCurveModel:
    """bass with its --prior NAME=MEAN:SD; a usage error for other models."""
    from scurve.models import get_model
    from scurve.models.diffusion import parse_prior

    if model.name != "bass":
        raise click.BadParameter(
            f"only for bass, not {model.label}", param_hint="'--prior'"
        )
    try:
        prior = dict(parse_prior(text) for text in priors)
        return get_model(model.name, **{**model.options, "prior": prior})
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--prior'") from None


def _covariate_model(
    model: SCurveModel,
    table: pd.DataFrame,
    x: str,
    covariates: list[str],
    label: str,
    keys: list[str],
) -> SCurveModel:
    """bass-generalized with its --covariate columns read from the table."""
    from scurve import io
    from scurve.models import get_model

    if model.name != "bass_generalized":
        raise click.BadParameter(
            f"only for bass-generalized, not {model.label}", param_hint="'--covariate'"
        )
    if not covariates:
        raise click.UsageError("bass-generalized needs at least one --covariate COL")
    if keys:
        raise click.UsageError("--covariate fits one curve: drop --by")
    series = {}
    with _reported(label):
        for name in covariates:
            io.column(table, name, role="covariate column")  # its own message
            frame = io.select(table, x=x, y=name, nan="drop").frame
            series[name] = (frame["x"].to_numpy(), frame["y"].to_numpy())
        try:
            return get_model(model.name, **{**model.options, "covariates": series})
        except ValueError as exc:
            raise io.InputError(f"{label}: {exc}") from None


# ------------------------------------------------------------------ models


def _bounds_text(name: str, low: float, high: float) -> str:
    """``top``, ``top >= 0``, ``top <= 1`` or ``top in [0, 1]``."""
    if math.isinf(low) and math.isinf(high):
        return name
    if math.isinf(high):
        return f"{name} >= {low:g}"
    if math.isinf(low):
        return f"{name} <= {high:g}"
    return f"{name} in [{low:g}, {high:g}]"


def _model_entries() -> list[dict[str, Any]]:
    """Every registered model as JSON-able data (SCurveModel.describe())."""
    entries = []
    for name, factory in _models().items():
        model = factory()
        entries.append({"name": name, **model.describe(), "options": model.options})
    return entries


@main.command(name="models")
@json_option
def models_(as_json: bool) -> None:
    """List every model: formula, parameters with bounds, derived quantities.

    Options are what --shape (for sigmoid) changes; their values here are the
    defaults. Infinite bounds are "inf" and "-inf" in JSON.
    """
    entries = _model_entries()
    if as_json:
        _echo_json(entries)
        return
    blocks = []
    for e in entries:
        params = ", ".join(
            _bounds_text(n, b["min"], b["max"]) for n, b in e["parameters"].items()
        )
        derived = ", ".join(f"{k} = {v}" for k, v in e["derived"].items()) or "none"
        options = ", ".join(f"{k}={v}" for k, v in e["options"].items()) or "none"
        if "shape" in e["options"]:
            options += " (--shape: any curve of 'scurve curves')"
        lines = [
            ("formula", e["formula"]),
            ("parameters", params),
            ("derived", derived),
            ("options", options),
        ]
        blocks.append(
            "\n".join([e["name"], *(f"  {k + ':':<12} {v}" for k, v in lines)])
        )
    click.echo("\n\n".join(blocks))


# ------------------------------------------------------------------ compare

COMPARE_COLUMNS = (
    "n",
    "k",
    "rss",
    "aic",
    "aicc",
    "bic",
    "delta_aic",
    "aic_weight",
)


def _model_specs(values: Iterable[str]) -> list[SCurveModel]:
    """``sigmoid,sigmoid:erf`` -> models (one per distinct label)."""
    from scurve.models import get_model

    models: dict[str, SCurveModel] = {}
    for spec in _names(values):
        name, _, shape = spec.partition(":")
        param = click.Option(["--models"])
        name = RegistryChoice(_models, "model").convert(name.strip(), param, None)
        if shape.strip():
            shape = RegistryChoice(_registry, "shape").convert(
                shape.strip(), param, None
            )
            if "shape" not in get_model(name).options:
                raise click.BadParameter(
                    f"the model {name!r} has no shape ({spec!r})",
                    param_hint="'--models'",
                )
            model = get_model(name, shape=shape)
        else:
            model = get_model(name)
        models.setdefault(model.label, model)
    if len(models) < 2:
        raise click.BadParameter(
            "give at least two different models, e.g. sigmoid,sigmoid:erf",
            param_hint="'--models'",
        )
    return list(models.values())


COMPARE_EPILOG = f"""\b
Columns: the --by keys, model, n, k (free parameters + 1 for the variance),
  rss, aic, aicc, bic, delta_aic (from the best in its group), aic_weight,
  status; best first within each group. A fit that failed or did not
  converge is listed last without numbers, and does not count in the
  weights. No F test: the registered models are not nested in one another.
{EXIT_CODES}"""


@main.command(epilog=COMPARE_EPILOG)
@data_argument
@click.option(
    "--models",
    "specs",
    required=True,
    multiple=True,
    metavar="MODEL[:SHAPE],...",
    help="The models to compare, comma-separated or repeated; MODEL:SHAPE "
    "picks the sigmoid's shape, e.g. sigmoid,sigmoid:erf,sigmoid:gompertz.",
)
@x_option
@y_option
@by_option
@weights_option
@weights_kind_option
@nan_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(TABLE_FORMATS),
    default="table",
    show_default=True,
    help="How to print the comparison.",
)
def compare(
    data: Path,
    specs: tuple[str, ...],
    x: str,
    y: str,
    by: tuple[str, ...],
    weights: str | None,
    weights_kind: str,
    nan: str,
    fmt: str,
) -> None:
    """Compare models fitted to DATA by AIC, AICc and BIC (per group with --by).

    Each model is fitted as 'scurve fit' would (without intervals); the
    smallest AIC is best, and the Akaike weights, exp(-delta_aic/2)
    normalized over the set, weigh the evidence for each model (Burnham and
    Anderson, 2002).
    """
    import warnings

    import pandas as pd

    import scurve
    from scurve.api import compare as compare_fits
    from scurve.errors import FitError
    from scurve.results.fit import FitResult

    label = _data_label(data)
    keys = _names(by)
    models = _model_specs(specs)
    table, selection = _load(
        data, x=x, y=y, keys=keys, weights=weights, weights_kind=weights_kind, nan=nan
    )
    group_keys = _group_keys(selection, keys)
    per_model: dict[str, dict[tuple, FitResult | FitError]] = {}
    with _reported(label), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for model in models:
            try:
                result = scurve.fit(
                    table,
                    model,
                    x=x,
                    y=y,
                    by=keys,
                    weights=weights,
                    weights_kind=weights_kind,  # type: ignore[arg-type]
                    ci="none",
                    nan=nan,  # type: ignore[arg-type]
                )
            except FitError as exc:  # a single curve that cannot be fitted
                per_model[model.label] = {(): exc}
            else:
                per_model[model.label] = (
                    {(): result} if isinstance(result, FitResult) else dict(result)
                )
    _echo_warnings(caught, selection.notes)
    rows, groups, failed = [], [], []
    for key in group_keys:
        fits = {m: res[key] for m, res in per_model.items()}
        good = {
            m: r
            for m, r in fits.items()
            if isinstance(r, FitResult) and r.status not in FAILED and r.fitted
        }
        ranked = compare_fits(good) if good else pd.DataFrame()
        entries = [
            {"model": m, **{c: float(ranked.loc[m, c]) for c in COMPARE_COLUMNS}}
            | {"status": good[m].status}
            for m in ranked.index
        ]
        for m, r in fits.items():
            if m in good:
                continue
            status, why = (
                ("failed", str(r))
                if isinstance(r, Exception)
                else (
                    r.status,
                    r.message,
                )
            )
            entries.append(
                {"model": m, **dict.fromkeys(COMPARE_COLUMNS, math.nan)}
                | {"status": status}
            )
            where = label + (f": group {_group_text(keys, key)}" if keys else "")
            failed.append(f"Error: {where}: {m}: {status}: {why}")
        groups.append({"group": dict(zip(keys, key, strict=True)), "models": entries})
        rows += [dict(zip(keys, key, strict=True)) | e for e in entries]
    frame = pd.DataFrame(rows)
    _echo_frame(frame, {"x": x, "y": y, "groups": groups}, fmt)
    for line in failed[:MAX_REPORTED]:
        click.echo(line, err=True)
    if failed:
        click.get_current_context().exit(1)


# ------------------------------------------------------------------ predict


def _read_results(path: Path) -> tuple[str, dict[str, Any]]:
    """The JSON document of 'scurve fit -o FILE.json', checked for "groups"."""
    import json

    from scurve import io

    label = _data_label(path)
    try:
        text = io.read_text(path, name=label)
    except io.InputError as exc:
        raise InputError(str(exc)) from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            f"{label}: not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(document, dict) or not isinstance(document.get("groups"), list):
        raise InputError(
            f"{label}: not the JSON of 'scurve fit -o FILE.json' (no \"groups\" list)"
        )
    return label, document


def _json_number(value: Any) -> float:
    """A number of our JSON: null is NaN, "inf" and "-inf" are infinities."""
    return math.nan if value is None else float(value)


def _rebuild(
    group: dict[str, Any],
) -> tuple[SCurveModel, Any, np.ndarray | None, list[str], float]:
    """Model, lmfit Parameters, covariance (or None), its names, and dof."""
    import numpy as np

    from scurve.models import get_model

    model = get_model(group["name"], **(group.get("options") or {}))
    params = model.make_params()
    for name, entry in group["params"].items():
        if name not in params:
            raise KeyError(f"{model.label} has no parameter {name!r}")
        params[name].set(
            value=_json_number(entry["value"]), vary=bool(entry.get("vary", True))
        )
    params.update_constraints()
    covariance = group.get("covariance")
    names: list[str] = []
    matrix = None
    if covariance:
        names = [str(n) for n in covariance["names"]]
        matrix = np.array(
            [[_json_number(v) for v in row] for row in covariance["matrix"]]
        )
        if matrix.shape != (len(names), len(names)) or not set(names) <= set(params):
            raise ValueError("the covariance does not match the parameters")
    return model, params, matrix, names, _json_number(group["stats"]["dof"])


PREDICT_EPILOG = f"""\b
Columns with --x: the group keys, x, y, y_lower, y_upper; with --y: the
  group keys, y, x, x_lower, x_upper. The band is pointwise, by the delta
  method with the fit's covariance and t on its residual degrees of freedom
  (nan when the fit had no covariance); an inverse outside the curve's
  range is nan. JSON: {{"model": LABEL, "level": LEVEL or null for the
  fit's, "points": [ROW...]}} with the columns above; nan is null.
{EXIT_CODES}"""


@main.command(epilog=PREDICT_EPILOG)
@click.argument(
    "results",
    metavar="RESULTS.json",
    type=click.Path(path_type=Path, allow_dash=True, dir_okay=False),
)
@click.option(
    "--x",
    "xs",
    type=NumberList(),
    multiple=True,
    default=(),
    show_default=True,
    metavar="X,...",
    help="Evaluate the fitted curve at these x (comma-separated or repeated).",
)
@click.option(
    "--y",
    "ys",
    type=NumberList(),
    multiple=True,
    default=(),
    show_default=True,
    metavar="Y,...",
    help="Invert the curve: the x at which it reaches these y.",
)
@click.option(
    "--level",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    default=None,
    show_default="the fit's level",
    help="Confidence level of the band.",
)
@json_option
@click.option(
    "--interval",
    type=click.Choice(("confidence", "prediction")),
    default="confidence",
    show_default=True,
    help="With --x: a confidence band for the curve, or a prediction interval "
    "for a new observation (adds the fit's residual variance; for bass with "
    "--data per-period, a forecast of the sales in the periods ending at x).",
)
def predict(
    results: Path,
    xs: tuple[tuple[float, ...], ...],
    ys: tuple[tuple[float, ...], ...],
    level: float | None,
    as_json: bool,
    interval: str = "confidence",
) -> None:
    """Evaluate a saved fit at x, or invert it at y, with a confidence band.

    RESULTS.json is written by 'scurve fit DATA ... -o RESULTS.json' (or
    --format json); - reads it from stdin. Every group is evaluated; a group
    whose fit failed has no curve and makes the exit code 1.
    """
    import numpy as np
    import pandas as pd

    from scurve.inference.intervals import curve_band

    if bool(xs) == bool(ys):
        raise click.UsageError("give one of --x and --y")
    inverse = bool(ys)
    predictive = interval == "prediction"
    if predictive and inverse:
        raise click.UsageError("--interval prediction needs --x, not --y")
    given, solved = ("y", "x") if inverse else ("x", "y")
    values = np.array([v for part in (ys or xs) for v in part], dtype=np.float64)
    label, document = _read_results(results)
    rows, missing = [], []
    for i, group in enumerate(document["groups"]):
        keys = group.get("group") or {}
        where = f"{label}: group {_group_text(list(keys), tuple(keys.values()))}"
        if "params" not in group or not group["params"]:
            why = f"{group.get('status', 'failed')}: {group.get('message', '')}"
            missing.append(f"Error: {where}: no fitted curve ({why})")
            continue
        try:
            model, params, matrix, names, dof = _rebuild(group)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            message = exc.args[0] if exc.args else exc
            raise InputError(f"{label}: group {i + 1}: {message}") from None
        if inverse and not hasattr(model, "inverse"):
            raise InputError(f"{label}: the model {model.label} has no inverse")

        def evaluate(p: Any, model: SCurveModel = model) -> np.ndarray:
            if inverse:
                return np.asarray(model.inverse(values, p), dtype=np.float64)
            return np.asarray(model.eval(p, x=values), dtype=np.float64)

        band_level = level or _json_number(group.get("level")) or 0.95
        with np.errstate(invalid="ignore"):
            center, lower, upper = curve_band(
                evaluate,
                params,
                matrix,
                names,
                dof,
                _json_number(group["stats"].get("sigma")) if predictive else math.nan,
                "prediction" if predictive else "confidence",
                band_level,
                model.log_y and not inverse,
            )
        if matrix is None:
            click.echo(f"Warning: {where}: no covariance, so no band", err=True)
        for v, c, lo, hi in zip(values, center, lower, upper, strict=True):
            rows.append(
                keys
                | {
                    given: float(v),
                    solved: float(c),
                    f"{solved}_lower": float(lo),
                    f"{solved}_upper": float(hi),
                }
            )
    frame = pd.DataFrame(rows)
    if as_json:
        document = {"model": document.get("model"), "level": level, "points": rows}
        click.echo(_json_text(document))
    elif rows:
        click.echo(_frame_table(frame))
    for line in missing:
        click.echo(line, err=True)
    if missing:
        click.get_current_context().exit(1)


# ------------------------------------------------------------------ audio
# scurve shape / analyze / fit-shaper live in scurve/cli_audio.py and register
# themselves on `main` when imported (cheaply: no numpy until a command runs).
import scurve.cli_audio  # noqa: E402
