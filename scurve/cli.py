"""The ``scurve`` command line: a thin layer over the public API.

Importing this module must stay cheap, because ``scurve --help`` pays for it:
numpy, json and :mod:`scurve.shapes` are imported when a command needs them,
:mod:`scurve.plotting` (hence matplotlib) only for ``--plot``. Neither scipy,
pandas, lmfit nor matplotlib is loaded to print help
(``tests/test_cli.py::test_help_imports_nothing_heavy``); numpy still is, as
long as ``scurve/__init__.py`` imports :mod:`scurve.special` eagerly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

import scurve

if TYPE_CHECKING:
    import numpy as np

    from scurve.shapes import Curve, Shape

__all__ = ["main"]

FORMS = ("native", "odd", "unit")
FORM_HELP = (
    "Which form of each shape: 'odd' has range (-1, 1) and slope 1 at 0, "
    "'unit' has range (0, 1), 'native' is the shape's conventional form."
)

EXIT_CODES = """\b
Exit codes:
  0  success
  1  the work could not be finished (a fit failed; a file could not be written)
  2  usage or input error (unknown curve, non-numeric X, bad --param ...)
"""

_NoArgsIsHelpError = getattr(click.exceptions, "NoArgsIsHelpError", ())


def _registry() -> Mapping[str, Shape]:
    """:data:`scurve.shapes.REGISTRY`, imported on first use."""
    from scurve.shapes import REGISTRY

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


class CurveChoice(click.Choice):
    """``click.Choice(sorted(REGISTRY))`` with the registry read on first use.

    Spellings are normalized, so ``hard-clip`` and ``Hard_Clip`` both mean
    ``hard_clip``.
    """

    name = "curve"

    def __init__(self) -> None:
        # click.Choice.__init__ would read the registry now, at import time.
        self.case_sensitive = False

    @property
    def choices(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(sorted(_registry()))

    def normalize_choice(self, choice: Any, ctx: click.Context | None) -> str:
        return super().normalize_choice(choice, ctx).replace("-", "_")

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
    header: Sequence[str], rows: Sequence[Sequence[str]], *, numeric: bool
) -> str:
    """Rows of text under a header, columns padded to their widest cell.

    Numeric tables are right-aligned so that digits line up; text tables are
    left-aligned.
    """
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(
            cell.rjust(w) if numeric else cell.ljust(w)
            for cell, w in zip(row, widths, strict=True)
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


def _plot_family(form: str, path: Path) -> None:
    """Draw the family in `form` and write it to `path` (atomically)."""
    try:
        from scurve import plotting

        forms = ("odd", "unit") if form == "native" else (form,)
        fig = plotting.plot_family(forms)  # type: ignore[arg-type]
        written = plotting.save_figure(fig, path)
    except ImportError as exc:
        raise click.ClickException(str(exc)) from None
    except ValueError as exc:
        raise InputError(f"Invalid value for '--plot': {exc}") from None
    except OSError as exc:
        raise click.ClickException(
            f"could not write {str(path)!r}: {exc.strerror or exc}"
        ) from None
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
@click.argument("curve_name", metavar="CURVE", type=CurveChoice())
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
