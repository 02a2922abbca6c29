"""``scurve calibrate``: a classifier's scores calibrated by a fitted sigmoid
(Platt scaling, or temperature scaling), saved for ``scurve predict``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click

from scurve.cli.options import OutputFile, data_label, format_option
from scurve.cli.plots import FigureOptions, check_figure, look_options, plot_errors
from scurve.cli.report import Report, output_errors

__all__ = [
    "COMMANDS",
    "calibrate",
    "calibration_at",
    "is_calibration",
    "predict_calibrated",
]


def is_calibration(data: Any) -> bool:
    """Whether saved JSON data are a calibration (not fits)."""
    return isinstance(data, dict) and data.get("kind") == "calibration"


def calibration_at(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The calibration saved in the file `path`, or None when it holds
    something else (fits, for :func:`scurve.load`) or is standard input."""
    if os.fspath(path) == "-" or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError, RecursionError):
        return None  # scurve.load says what is wrong with it
    return data if is_calibration(data) else None


def predict_calibrated(data: dict[str, Any], scores: list[float]) -> list[dict]:
    """The calibrated probability of each score, as ``scurve predict`` rows."""
    from scurve.analysis.calibration import SigmoidCalibrator

    calibrator = SigmoidCalibrator.from_dict(data)
    p = calibrator.predict_proba(scores)[:, 1]
    return [{"x": f, "p": float(q)} for f, q in zip(scores, p, strict=True)]


def _text(summary: dict[str, Any]) -> str:
    from scurve.analysis.calibration import METHODS
    from scurve.cli import output

    lines = [
        f"{summary['method']}: {METHODS[summary['method']]}",
        f"  A = {summary['a']:.6g}  B = {summary['b']:.6g}  n = {summary['n']}",
        "                 before      after",
        f"  Brier     {summary['brier_before']:11.6g}{summary['brier_after']:11.6g}",
        f"  log loss  {summary['log_loss_before']:11.6g}"
        f"{summary['log_loss_after']:11.6g}",
        "reliability (10 bins of the calibrated probability):",
        output.frame_text(summary["reliability"]),
    ]
    return "\n".join(lines)


#: The report's reliability tables: after, before.
RELIABILITY = ("reliability", "reliability_before")


def _plot(
    report: Report, summary: dict[str, Any], path: Path, figure: FigureOptions
) -> None:
    """The reliability diagram, before and after, written to `path`."""
    with plot_errors(path):
        from scurve import plotting

        tables = {
            "before": summary["reliability_before"],
            "after": summary["reliability"],
        }
        drawn = plotting.plot_reliability(tables, **figure.look())
        written = plotting.save_figure(drawn.figure, path, close=True)
    report.wrote(written)


@click.command()
@click.argument("data", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--score", required=True, metavar="COL", help="The scores column.")
@click.option("--label", required=True, metavar="COL", help="The 0/1 outcomes column.")
@click.option(
    "--method",
    type=click.Choice(("platt", "temperature")),
    default="platt",
    show_default=True,
    help="Platt's sigmoid 1/(1 + exp(A f + B)) with smoothed targets (as "
    "scikit-learn's sigmoid calibration), or temperature scaling sigmoid(f/T).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Save the calibration as JSON, for 'scurve predict CAL.json --x ...'.",
)
@click.option(
    "--plot",
    "plot_path",
    type=OutputFile(),
    default=None,
    help="Also draw the reliability diagram (before and after) to this file; "
    "its extension (.png, .pdf, .svg) chooses the format.",
)
@click.option("--force", is_flag=True, help="Overwrite an existing output.")
@format_option("the calibration report")
@look_options
@click.pass_context
def calibrate(
    ctx: click.Context,
    data: Path,
    score: str,
    label: str,
    method: str,
    output: Path | None,
    plot_path: Path | None,
    force: bool,
    fmt: str,
    figure: FigureOptions,
) -> None:
    """Calibrate the scores of a classifier against 0/1 labels with a sigmoid.

    Prints A and B, the Brier score and the log loss before and after (scores
    in [0, 1] are taken as probabilities before, others as log-odds), and the
    reliability table.
    """
    import scurve
    from scurve import io
    from scurve.analysis.calibration import check_labels
    from scurve.cli import output as out

    report = Report()
    label_text = data_label(data)
    with report.catching(label_text):
        figure.check(None if plot_path is None else str(plot_path))
        check_figure(None if plot_path is None else str(plot_path))
        io.check_outputs([output, plot_path], inputs=[data], force=force)
        table = io.read_table(os.fspath(data))
        f = io.column(table, score, role="score column")
        y = io.column(table, label, role="label column")
        bad = f.isna() | y.isna()
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 1
            raise scurve.InputError(f"{label_text}: row {row} has no score or no label")
        check_labels(f, y, where=label_text)
        fitted = scurve.calibrate(f.to_numpy(), y.to_numpy(), method=method)
        summary = fitted.report(f.to_numpy(), y.to_numpy())
        if output is not None:
            with output_errors(output), io.atomic_write(output) as stream:
                json.dump(fitted.to_dict(), stream, indent=2)
            report.wrote(output)
        if plot_path is not None:
            _plot(report, summary, plot_path, figure)
        out.echo_format(
            fmt,
            table=lambda: _text(summary),
            csv=lambda: out.frame_csv(summary["reliability"]),
            json=lambda: out.json_text(
                {
                    **summary,
                    **{k: summary[k].to_dict("records") for k in RELIABILITY},
                }
            ),
        )
    ctx.exit(report.return_code)


#: The commands of this module, registered on the ``scurve`` group.
COMMANDS = (calibrate,)
