"""What scurve has: ``scurve curves``, ``scurve eval`` and ``scurve models``.

``curves`` and ``eval`` stand on the core (numpy, scipy.special); ``models``
reads the model registry (lmfit). JSON here writes NaN as the string
``"nan"`` (and infinities as ``"inf"``, ``"-inf"``): null means "no such
thing" (a form a shape does not have, a function a curve does not have).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scurve.cli import output
from scurve.cli.options import (
    Assignment,
    Number,
    OutputFile,
    RegistryChoice,
    force_option,
    form_option,
    format_option,
    model_registry,
    shape_registry,
)
from scurve.cli.plots import FigureOptions, look_options, plot_family
from scurve.cli.report import Report

if TYPE_CHECKING:
    import numpy as np

    from scurve.core.shapes import Curve

__all__ = ["COMMANDS", "curves", "eval_", "models"]


# ------------------------------------------------------------------ curves

CURVE_COLUMNS = (
    "name",
    "form",
    "formula",
    "range_low",
    "range_high",
    "params",
    "has_inverse",
    "has_antiderivative",
)


def describe(name: str, curve: Curve | None, form: str) -> dict[str, Any]:
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


def _params_text(params: dict[str, float]) -> str:
    return " ".join(f"{k}={v:g}" for k, v in params.items())


def curves_text(entries: list[dict[str, Any]]) -> str:
    """The curves for people, a row each."""
    header = ["name", "form", "formula", "range", "params", "inverse", "antideriv."]
    yes_no = {True: "yes", False: "no"}
    rows = []
    for e in entries:
        if e["formula"] is None:
            rows.append([e["name"], e["form"], "(no such form)", "", "", "", ""])
            continue
        low, high = e["range"]
        rows.append(
            [
                e["name"],
                e["form"],
                e["formula"],
                f"({low:g}, {high:g})",
                _params_text(e["params"]),
                yes_no[e["has_inverse"]],
                yes_no[e["has_antiderivative"]],
            ]
        )
    return output.text_table(header, rows, numeric=False)


def curves_csv(entries: list[dict[str, Any]]) -> str:
    """The curves as CSV, a row each (:data:`CURVE_COLUMNS`)."""
    rows = [
        [
            e["name"],
            e["form"],
            e["formula"],
            *(e["range"] or (None, None)),
            _params_text(e["params"]),
            e["has_inverse"],
            e["has_antiderivative"],
        ]
        for e in entries
    ]
    return output.csv_text(CURVE_COLUMNS, rows)


@click.command(
    name="curves",
    epilog="CSV (--format csv): one row per curve: "
    + ", ".join(CURVE_COLUMNS)
    + " (params as NAME=VALUE separated by spaces; empty for a shape without "
    "the form).",
)
@form_option
@format_option("the curves")
@click.option(
    "--plot",
    "plot_path",
    type=OutputFile(),
    default=None,
    show_default=True,
    help="Also draw the family and its derivatives (odd and unit forms, or "
    "the one given by --form) to this file; its extension (.png, .pdf, .svg) "
    "chooses the format.",
)
@force_option
@look_options
@click.pass_context
def curves(
    ctx: click.Context,
    form: str,
    fmt: str,
    plot_path: Path | None,
    force: bool,
    figure: FigureOptions,
) -> None:
    """List every S-curve: formula, range, inverse, antiderivative."""
    from scurve import io

    report = Report()
    with report.catching():
        figure.check(None if plot_path is None else str(plot_path))
        io.check_outputs([plot_path], force=force)
        entries = [
            describe(name, getattr(shape, form), form)
            for name, shape in shape_registry().items()
        ]
        output.echo_format(
            fmt,
            table=lambda: curves_text(entries),
            csv=lambda: curves_csv(entries),
            json=lambda: output.json_text(entries, nan="text"),
        )
        if plot_path is not None:
            plot_family(report, form, plot_path, figure)
    ctx.exit(report.return_code)


# ------------------------------------------------------------------ eval

EVAL_COLUMNS = ("x", "value", "derivative", "inverse", "antiderivative")


def curve_params(curve: Curve, assignments: tuple[tuple[str, float], ...]) -> dict:
    """``--param`` checked against the curve's parameters."""
    params = dict(assignments)
    unknown = sorted(set(params) - set(curve.params))
    if unknown:
        known = ", ".join(curve.params) or "none"
        raise click.BadParameter(
            f"{curve.name} has no parameter {unknown[0]!r} (its parameters: {known})",
            param_hint="'--param'",
        )
    return params


def evaluate(
    curve: Curve, numbers: tuple[float, ...], params: dict[str, float]
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


def points_text(points: list[dict[str, float | None]]) -> str:
    """The points for people: 12 significant digits, n/a where none."""
    rows = [
        ["n/a" if p[k] is None else format(p[k], ".12g") for k in EVAL_COLUMNS]
        for p in points
    ]
    return output.text_table(EVAL_COLUMNS, rows, numeric=True)


@click.command(
    name="eval",
    context_settings={"ignore_unknown_options": True},
    epilog="Negative numbers work as they are: scurve eval tanh -1 0 1 "
    "(or after --: scurve eval tanh -- -1 0 1). CSV (--format csv): one row "
    "per X: " + ", ".join(EVAL_COLUMNS) + " (empty where n/a).",
)
@click.argument(
    "curve_name", metavar="CURVE", type=RegistryChoice(shape_registry, "curve")
)
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
@format_option("the points")
@click.pass_context
def eval_(
    ctx: click.Context,
    curve_name: str,
    xs: tuple[float, ...],
    form: str,
    assignments: tuple[tuple[str, float], ...],
    fmt: str,
) -> None:
    """Evaluate a curve and its derivative, inverse and integral at X.

    For each X: the value, the derivative, the inverse and the antiderivative
    of CURVE in the chosen form. The inverse column treats each X as a y
    value. "n/a" (null in JSON) marks a function the curve does not have, or
    an X outside the inverse's domain (the curve's range). In JSON,
    infinities and NaN are the strings "inf", "-inf" and "nan".
    """
    report = Report()
    with report.catching():
        try:
            curve = shape_registry()[curve_name].form(form)  # type: ignore[arg-type]
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--form'") from None
        params = curve_params(curve, assignments)
        try:
            columns = evaluate(curve, xs, params)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--param'") from None
        points: list[dict[str, float | None]] = [
            {"x": xi, **{k: _cell(xi, col, i) for k, col in columns.items()}}
            for i, xi in enumerate(xs)
        ]
        document = {
            "curve": curve_name,
            "form": curve.form,
            "formula": curve.formula,
            "params": dict(curve.params) | params,
            "points": points,
        }
        output.echo_format(
            fmt,
            table=lambda: points_text(points),
            csv=lambda: output.csv_text(
                EVAL_COLUMNS, [[p[k] for k in EVAL_COLUMNS] for p in points]
            ),
            json=lambda: output.json_text(document, nan="text"),
        )
    ctx.exit(report.return_code)


# ------------------------------------------------------------------ models

MODEL_COLUMNS = ("name", "model", "formula", "parameters", "derived", "options")


def bounds_text(name: str, low: float, high: float) -> str:
    """``top``, ``top >= 0``, ``top <= 1`` or ``top in [0, 1]``."""
    if math.isinf(low) and math.isinf(high):
        return name
    if math.isinf(high):
        return f"{name} >= {low:g}"
    if math.isinf(low):
        return f"{name} <= {high:g}"
    return f"{name} in [{low:g}, {high:g}]"


def model_entries() -> list[dict[str, Any]]:
    """Every registered model as JSON-able data (``describe()``)."""
    entries = []
    for name, factory in model_registry().items():
        model = factory()
        entries.append({"name": name, **model.describe(), "options": model.options})
    return entries


def _model_fields(entry: dict[str, Any]) -> dict[str, str]:
    """A model's parameters (with bounds), derived quantities and options as
    text."""
    return {
        "parameters": ", ".join(
            bounds_text(n, b["min"], b["max"]) for n, b in entry["parameters"].items()
        ),
        "derived": ", ".join(f"{k} = {v}" for k, v in entry["derived"].items()),
        "options": ", ".join(f"{k}={v}" for k, v in entry["options"].items()),
    }


def models_text(entries: list[dict[str, Any]]) -> str:
    """A block per model: formula, parameters, derived, options."""
    blocks = []
    for e in entries:
        fields = _model_fields(e)
        options = fields["options"] or "none"
        if "shape" in e["options"]:
            options += " (--shape: any curve of 'scurve curves')"
        lines = [
            ("formula", e["formula"]),
            ("parameters", fields["parameters"]),
            ("derived", fields["derived"] or "none"),
            ("options", options),
        ]
        blocks.append(
            "\n".join([e["name"], *(f"  {k + ':':<12} {v}" for k, v in lines)])
        )
    return "\n\n".join(blocks)


def models_csv(entries: list[dict[str, Any]]) -> str:
    """A row per model (:data:`MODEL_COLUMNS`)."""
    rows = [
        [e["name"], e["model"], e["formula"], *_model_fields(e).values()]
        for e in entries
    ]
    return output.csv_text(MODEL_COLUMNS, rows)


@click.command(
    name="models",
    epilog="CSV (--format csv): one row per model: "
    + ", ".join(MODEL_COLUMNS)
    + " (parameters with their bounds, derived quantities and options as "
    "text, comma-separated).",
)
@format_option("the models")
@click.pass_context
def models(ctx: click.Context, fmt: str) -> None:
    """List every model: formula, parameters with bounds, derived quantities.

    Options are what --shape (for sigmoid) changes; their values here are the
    defaults. Infinite bounds are "inf" and "-inf" in JSON.
    """
    report = Report()
    with report.catching():
        entries = model_entries()
        output.echo_format(
            fmt,
            table=lambda: models_text(entries),
            csv=lambda: models_csv(entries),
            json=lambda: output.json_text(entries, nan="text"),
        )
    ctx.exit(report.return_code)


#: The commands of this module, registered on the ``scurve`` group.
COMMANDS = (curves, eval_, models)
