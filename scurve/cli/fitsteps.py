"""The steps of ``scurve fit``: check, read once, fit once, write, print, report.

The options are checked where their rules live (the model's by the model,
the fit's by :class:`~scurve.api.FitOptions`: :mod:`scurve.cli.checks`),
the outputs before any work; then the table is read once
(:func:`scurve.api.read`), fitted once (:func:`scurve.fit`) and its results
serialized once each way they are asked for (:mod:`scurve.cli.tables`).
Large screens go to :mod:`scurve.cli.screens`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from scurve.cli import output, screens, tables
from scurve.cli.checks import Given, check_fit_options, model_with_options
from scurve.cli.options import data_label, names, option_errors
from scurve.cli.plots import (
    FigureOptions,
    PlotTargets,
    check_figure,
    draw_fits,
    plot_file,
    plot_targets,
)
from scurve.cli.report import FAILED, Report, output_errors

if TYPE_CHECKING:
    import pandas as pd

    from scurve.inference.intervals import CI
    from scurve.io import Selection, WeightsKind
    from scurve.models.base import SCurveModel
    from scurve.results.fit import FitResult
    from scurve.results.groups import GroupFits

__all__ = ["FitRequest", "run"]

#: Fits of more groups than this show a progress bar (on a terminal).
PROGRESS_MIN_GROUPS = 5


@dataclass(frozen=True)
class FitRequest:
    """The options of ``scurve fit``, as click parsed them."""

    data: Path
    model_name: str
    window: float | None
    quota: float | None
    layout: str | None
    average_replicates: bool
    x: str
    y: str | None
    by: tuple[str, ...]
    weights: str | None
    weights_kind: WeightsKind
    shape: str | None
    baseline: bool
    log_y: bool
    wide: bool
    wells: tuple[str, ...]
    exclude: tuple[str, ...]
    blank: str | float | None
    summary: str | None
    fix: tuple[tuple[str, float], ...]
    init: tuple[tuple[str, float], ...]
    bounds: tuple[tuple[str, tuple[float, float]], ...]
    share: tuple[str, ...]
    ci: CI
    level: float
    nan: Literal["drop", "error"]
    sheet: str | None
    encoding: str | None
    decimal: str | None
    output: Path | None
    force: bool
    plot_target: str | None
    fmt: str | None
    log_dose: bool
    ec_levels: tuple[float, ...] | None
    ec_ci: str | None
    controls: str | None
    normalize: bool
    trials: str | None
    free: tuple[str, ...]
    loss: str
    starts: int
    data_kind: str | None
    estimator: str | None
    launch: float | str | None
    covariates: tuple[str, ...]
    priors: tuple[tuple[str, tuple[float, float]], ...]
    chunk_curves: int | None
    dask_target: str | None
    figure: FigureOptions

    @property
    def label(self) -> str:
        """The data, as messages name it."""
        return data_label(self.data)

    @property
    def response(self) -> str:
        """The response column: --y, or the values of a wide table's wells."""
        from scurve.io import VALUE

        return VALUE if self.y is None else self.y

    @cached_property
    def keys(self) -> list[str]:
        """The --by columns, commas split."""
        return names(self.by)

    @cached_property
    def shared(self) -> list[str]:
        """The --share parameters, commas split."""
        return names(self.share)

    def reading(self) -> dict[str, str | None]:
        """How DATA is read: ``--sheet``, ``--encoding``, ``--decimal``."""
        return {"sheet": self.sheet, "encoding": self.encoding, "decimal": self.decimal}

    def model_options(self) -> list[Given]:
        """The model's options given, in the order of the command line."""
        given: list[Given] = [
            ("--shape", "shape", self.shape),
            ("--baseline", "baseline", self.baseline or None),
            ("--log-y", "log_y", self.log_y or None),
            ("--log-dose", "log_dose", self.log_dose or None),
            ("--data", "adoptions", self.data_kind),
            ("--estimator", "estimator", self.estimator),
            ("--launch", "launch", self.launch),
            ("--prior", "prior", dict(self.priors) or None),
        ]
        return [g for g in given if g[2] is not None]

    def fit_options(self) -> list[Given]:
        """The fit's options (:class:`~scurve.api.FitOptions` fields)."""
        return [
            ("--fix", "fix", dict(self.fix)),
            ("--init", "init", dict(self.init)),
            ("--bounds", "bounds", dict(self.bounds)),
            ("--share", "share", tuple(self.shared)),
            ("--ci", "ci", self.ci),
            ("--loss", "loss", self.loss),
            ("--trials", "trials", self.trials is not None),
            ("--starts", "starts", self.starts),
        ]

    def check_usage(self) -> None:
        """What the command line's options cannot be given together.

        Raises
        ------
        click.UsageError
        """
        if self.wide and (self.y is not None or self.keys):
            raise click.UsageError(
                "--wide fits every column but --x, grouped by well: drop --y and --by"
            )
        if not self.wide and self.y is None:
            raise click.UsageError("Missing option '--y'.")
        if not self.wide and (self.wells or self.exclude):
            raise click.UsageError(
                "--wells and --exclude choose the wells of --wide: give --wide"
            )
        if self.shared and not self.keys:
            raise click.UsageError("--share needs groups: give --by as well")
        if self.controls is not None and not self.keys:
            raise click.UsageError("--controls needs groups: give --by as well")
        if self.normalize and self.model_name == "easylinear":
            raise click.UsageError(
                "--normalize is an option of dose-response models, not of easylinear"
            )
        if self.summary and not (self.keys or self.wide):
            raise click.UsageError(
                f"--summary {self.summary} needs groups: --wide or --by"
            )
        if self.covariates and self.keys:
            raise click.UsageError("--covariate fits one curve: drop --by")
        given = self.window is not None or self.quota is not None
        if given and self.model_name != "easylinear":
            raise click.UsageError(
                "--window and --quota are options of --model easylinear"
            )
        self.figure.check(self.plot_target)
        self.check_layout()

    def check_layout(self) -> None:
        """--layout with what reads it: --summary conditions,
        --average-replicates (not both) or --plot.

        Raises
        ------
        click.UsageError
        """
        conditions = self.summary == "conditions"
        if self.layout is None:
            if conditions:
                raise click.UsageError("--summary conditions needs --layout FILE")
            if self.average_replicates:
                raise click.UsageError(
                    "--average-replicates needs --layout FILE (the conditions "
                    "of the wells)"
                )
            return
        if self.average_replicates and conditions:
            raise click.UsageError(
                "--average-replicates fits each condition once: there is no "
                "per-condition summary of its wells; drop --summary conditions"
            )
        if not (conditions or self.average_replicates or self.plot_target):
            raise click.UsageError(
                "--layout FILE is read by --summary conditions, "
                "--average-replicates or --plot: give one"
            )

    def plate_layout(self) -> dict[str, Any]:
        """The layout options of :func:`scurve.fit`: the layout when the
        fit reads it (--summary conditions, --average-replicates)."""
        if self.summary != "conditions" and not self.average_replicates:
            return {}
        return {"layout": self.layout, "average": self.average_replicates}

    def is_screen(self) -> bool:
        """Whether DATA is fitted as a large screen (:mod:`scurve.cli.screens`)."""
        others = {
            "--wide": self.wide,
            "--blank": self.blank is not None,
            "--summary": self.summary is not None,
            "--layout": self.layout is not None,
            "--share": bool(self.shared),
            "--plot": self.plot_target is not None,
            "--trials": self.trials is not None,
            "--loss": self.loss != "linear",
            "--starts": self.starts > 0,
            "--ec": self.ec_levels is not None,
            "--controls": self.controls is not None,
            "--normalize": self.normalize,
            "--covariate": bool(self.covariates),
            "--format": self.fmt is not None,
            "--sheet": self.sheet is not None,
            "--encoding": self.encoding is not None,
            "--decimal": self.decimal is not None,
        }
        return screens.is_screen(
            self.data,
            self.output,
            self.keys,
            dask=self.dask_target,
            chunk_curves=self.chunk_curves,
            others=others,
        )


def run(report: Report, request: FitRequest) -> None:
    """``scurve fit``: check, read once, fit once, write, print, report."""
    from scurve import api, io
    from scurve.errors import OptionError

    request.check_usage()
    if request.model_name == "easylinear":
        run_easylinear(report, request)
        return
    given = request.model_options()
    model = model_with_options(request.model_name, given)
    if request.covariates:  # the model's word on --covariate, before reading
        model_with_options(
            request.model_name, [*given, ("--covariate", "covariates", {})]
        )
    check_fit_options(model, request.fit_options())
    if request.ec_ci and not request.ec_levels:
        raise click.UsageError("--ec-ci needs --ec (the ECx levels)")
    if request.ec_levels:
        from scurve.analysis import binary
        from scurve.analysis.dose import check_ec, check_ec_ci

        try:
            check_ec(model, request.ec_levels, trials=request.trials is not None)
        except OptionError as exc:
            raise click.BadParameter(exc.reason, param_hint="'--ec'") from None
        try:
            if binary.covariate_ec(model):  # sigmoid's ECx, on its covariate
                binary.check_ec_ci(
                    request.ec_ci or "delta", trials=request.trials is not None
                )
            else:
                check_ec_ci(
                    request.ec_ci or "delta",
                    shared=bool(request.shared),
                    quantal=request.trials is not None,
                )
        except OptionError as exc:
            raise click.BadParameter(exc.reason, param_hint="'--ec-ci'") from None
    check_outputs(request, [request.output, plot_file(request.plot_target)])
    if request.is_screen():
        assert request.output is not None  # is_screen checked it
        screens.fit_screen(
            report, request.data, model, output_path=request.output,
            keys=request.keys, dask=request.dask_target,
            chunk_curves=request.chunk_curves, force=request.force, x=request.x,
            y=request.response, weights=request.weights,
            weights_kind=request.weights_kind,
            fix=dict(request.fix), init=dict(request.init),
            bounds=dict(request.bounds), ci=request.ci, level=request.level,
            nan=request.nan,
        )  # fmt: skip
        return
    source: Any = os.fspath(request.data)
    reading = request.reading()
    with option_errors():
        if request.covariates:  # read here: the covariates are columns of it
            source, reading = io.read_table(source, **reading), {}
        selection = api.read(
            source, model, x=request.x, y=request.response, by=request.keys,
            weights=request.weights, weights_kind=request.weights_kind,
            trials=request.trials, nan=request.nan, wide=request.wide,
            blank=request.blank, wells=request.wells or None,
            exclude=request.exclude, **reading,
        )  # fmt: skip
    with option_errors():  # --controls naming no control group, --normalize
        from scurve.analysis.dose import join_controls, normalize

        selection = join_controls(selection, model, request.controls)
        if request.normalize:
            selection = normalize(selection, model)
    for note in selection.notes:
        report.warn(note)
    if request.covariates:
        series = covariate_series(source, request.x, request.covariates)
        model = model_with_options(
            request.model_name, [*given, ("--covariate", "covariates", series)]
        )
    plots = plot_targets(request.plot_target, request.data, selection.groups)
    if plots.directory is not None:  # its files, named after the groups
        check_outputs(request, [request.output, *plots.outputs()])
    result = fit_selection(report, request, selection, model)
    put_results(report, request, result, plots, selection.keys)


def run_easylinear(report: Report, request: FitRequest) -> None:
    """``scurve fit --model easylinear``: the rates table (or its
    per-condition summary), written and printed as a summary table."""
    import scurve
    from scurve.analysis.easylinear import check_options

    options = {
        "window": 5 if request.window is None else request.window,
        "quota": 0.95 if request.quota is None else request.quota,
    }
    with option_errors():
        check_options(**options)
        options["window"] = int(options["window"])
    check_outputs(request, [request.output])
    with option_errors(), report.warnings():
        rates = scurve.fit(
            os.fspath(request.data), "easylinear", x=request.x, y=request.response,
            by=request.keys, nan=request.nan, wide=request.wide,
            blank=request.blank, wells=request.wells or None,
            exclude=request.exclude, weights=request.weights,
            fix=dict(request.fix), init=dict(request.init),
            bounds=dict(request.bounds), share=request.shared,
            trials=request.trials, loss=request.loss, **request.reading(),
            **request.plate_layout(), **options,
        )  # fmt: skip
    put_summary(report, request, rates, "easylinear")  # type: ignore[arg-type]
    keys = [c for c in rates.columns if c in (*request.keys, "well")]
    groups = list(rates[keys].itertuples(index=False, name=None))
    report_statuses(
        report, request, keys, groups, rates["status"].to_numpy(str),
        rates["message"].to_numpy(str),
    )  # fmt: skip


def report_statuses(
    report: Report,
    request: FitRequest,
    keys: list[str],
    groups: list[tuple],
    status: Any,
    message: Any,
) -> None:
    """The groups whose status is not ok, on stderr (:meth:`Report.fits`):
    a failure gives exit 1, a warning does not."""
    import numpy as np

    bad = np.flatnonzero(status != "ok")
    problems = ((groups[i], str(status[i]), str(message[i])) for i in bad)
    report.fits(
        request.label, keys, problems, count=len(bad),
        failed=int(np.isin(status[bad], FAILED).sum()), total=len(status),
        joint=bool(request.shared),
    )  # fmt: skip


def put_summary(
    report: Report, request: FitRequest, frame: pd.DataFrame, kind: str
) -> None:
    """Write -o and print --format of a table that is not a fit's (easylinear's
    rates, or their per-condition summary with --summary conditions)."""
    if request.summary == "conditions":
        frame, kind = frame.attrs["conditions"], "conditions"
    results = tables.SummaryTable(kind, frame)
    fmt = request.fmt or (None if request.output is not None else "table")
    if request.output is not None:
        with output_errors(request.output):
            results.write(request.output, inputs=[request.data], force=request.force)
        report.wrote(request.output)
    if fmt is not None:
        output.echo_text(tables.render(results, fmt))


def check_outputs(request: FitRequest, outputs: list[str | Path | None]) -> None:
    """Every output of the command, before any work: where they go
    (:func:`scurve.io.check_outputs`: never an input, nor inside an input
    directory, nor standard input's file; distinct; writable; existing only
    with --force), then the formats their extensions name."""
    from scurve import io

    io.check_outputs(outputs, inputs=[request.data], force=request.force)
    if request.output is not None:
        io.table_format(request.output)
    check_figure(plot_file(request.plot_target))


def covariate_series(
    table: pd.DataFrame, x: str, columns: tuple[str, ...]
) -> dict[str, tuple[Any, Any]]:
    """Each covariate column against x (``bass_generalized``'s
    ``covariates``), rows with a missing value dropped."""
    from scurve import io

    series = {}
    for name in columns:
        io.column(table, name, role="covariate column")  # its own message
        chosen = io.select(table, x=x, y=name, nan="drop").frame
        series[name] = (chosen["x"].to_numpy(), chosen["y"].to_numpy())
    return series


def fit_selection(
    report: Report, request: FitRequest, selection: Selection, model: SCurveModel
) -> FitResult | GroupFits:
    """The one fit of the command, with a progress bar on a terminal."""
    import scurve

    grouped = bool(selection.keys) and not request.shared
    total = len(selection.groups()) if grouped and output.stderr_is_terminal() else 0
    with (
        output.progress_bar(
            total, f"fitting {total} groups", minimum=PROGRESS_MIN_GROUPS
        ) as advance,
        report.warnings(),
        option_errors(),
    ):  # the controls are joined (run): the plots are planned for the curves
        return scurve.fit(
            selection, model, fix=dict(request.fix), init=dict(request.init),
            bounds=dict(request.bounds), share=request.shared, ci=request.ci,
            level=request.level, trials=request.trials, loss=request.loss,
            starts=request.starts, progress=advance,
            free=names(request.free) or None, **request.plate_layout(),
        )  # fmt: skip


def put_results(
    report: Report,
    request: FitRequest,
    result: FitResult | GroupFits,
    plots: PlotTargets,
    keys: list[str],
) -> None:
    """Write -o, print --format, draw --plot, then report the fits that are
    not ok; each serialization of the results is made once, if asked for."""

    fitted = result.result_table
    results: tables.FitTable | tables.SummaryTable = tables.FitTable(fitted)
    if request.summary:
        results = tables.SummaryTable(request.summary, summary_of(result, request))
    elif result.model.name == "brain_cousens":
        from scurve.analysis.dose import hormesis_table

        results = tables.FitTable(hormesis_table(result))
    if request.ec_levels:
        from scurve.analysis.binary import EC_NOTES, covariate_ec
        from scurve.analysis.dose import EC_METHODS, ec_table

        method = request.ec_ci or "delta"
        notes = EC_NOTES if covariate_ec(result.model) else EC_METHODS
        results = tables.FitTable(
            ec_table(result, request.ec_levels, ci=method),  # type: ignore[arg-type]
            note=f"ECx: {notes[method]}",
        )
    if isinstance(results, tables.FitTable):
        from scurve.analysis.binary import glm_table, is_binomial

        if is_binomial(result):  # R glm's statistics
            results = tables.FitTable(
                glm_table(results.table, result, ci=request.ci), note=results.note
            )
    fmt = request.fmt or (None if request.output is not None else "table")
    text = None if fmt is None else tables.render(results, fmt)
    if request.output is not None:
        with output_errors(request.output):
            results.write(request.output, inputs=[request.data], force=request.force)
        report.wrote(request.output)
    if text is not None:
        output.echo_text(text)
    draw_fits(
        report, result, plots, x=request.x, y=request.response, plate=request.wide,
        figure=request.figure, ec=request.ec_levels, layout=request.layout,
    )  # fmt: skip
    report_statuses(report, request, keys, fitted.groups, fitted.status, fitted.message)


def summary_of(result: FitResult | GroupFits, request: FitRequest) -> pd.DataFrame:
    """growthcurver's summary table of the fits, or their per-condition
    summary with --layout (a usage error of --summary for fits it does not
    summarize)."""
    import scurve

    if request.summary == "conditions":
        conditions = getattr(result, "conditions", None)
        if conditions is None:
            raise click.BadParameter(
                "the per-condition summary needs fits of wells (--wide)",
                param_hint="'--summary'",
            )
        return conditions
    try:
        return scurve.growthcurver_summary(result)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--summary'") from None
