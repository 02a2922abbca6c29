"""``scurve fit``, ``compare`` and ``predict``: models fitted to tables.

Each command is thin: the options declared here, the steps in
:mod:`scurve.cli.fitsteps` (fit: check, read once, fit once, write, print,
report), :mod:`scurve.cli.ranking` (compare) and :mod:`scurve.cli.saved`
(predict), and the exit code from the command's
:class:`~scurve.cli.report.Report`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click

from scurve.cli import output
from scurve.cli.options import (
    Assignment,
    Blank,
    BoundsAssignment,
    LaunchTime,
    Level,
    NumberList,
    OutputFile,
    PlotDestination,
    Prior,
    RegistryChoice,
    by_option,
    data_argument,
    data_label,
    easylinear_options,
    force_option,
    format_option,
    level_option,
    log_y_option,
    model_registry,
    names,
    nan_option,
    option_errors,
    reading_options,
    shape_registry,
    weights_kind_option,
    weights_option,
    well_options,
    x_option,
)
from scurve.cli.plots import figure_options
from scurve.cli.report import EXIT_CODES, Report

if TYPE_CHECKING:
    from scurve.io import WeightsKind

__all__ = ["COMMANDS", "compare", "fit", "predict"]

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


# ------------------------------------------------------------------ fit


@click.command(name="fit", epilog=FIT_EPILOG)
@data_argument
@click.option(
    "--model",
    "model_name",
    required=True,
    type=RegistryChoice(
        lambda: {**model_registry(), "easylinear": None}, "model", metavar="NAME"
    ),
    help="The model to fit (see 'scurve models'), or easylinear: the maximum "
    "specific growth rate from the steepest straight stretch of ln y, no "
    "model (Hall et al. 2014, as R growthrates' fit_easylinear).",
)
@easylinear_options
@click.option(
    "--layout",
    type=click.Path(dir_okay=False),
    default=None,
    show_default=True,
    metavar="FILE",
    help="A plate layout: a table with a 'well' column and the strain, "
    "condition, replicate of each well; with --summary conditions the wells' "
    "estimates are pooled per condition (mean, sd, n); with "
    "--average-replicates each condition is fitted once; with --plot its "
    "conditions colour the wells.",
)
@click.option(
    "--average-replicates",
    is_flag=True,
    default=False,
    show_default=True,
    help="With --layout: average the replicate wells of each condition (the "
    "mean of their readings at each time), then fit one curve per condition, "
    "keyed by the layout's condition columns.",
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
    type=RegistryChoice(shape_registry, "shape"),
    default=None,
    show_default="the model's",
    help="The S-curve of a model that takes one (its options: 'scurve models'; "
    "the curves: 'scurve curves').",
)
@click.option(
    "--baseline",
    is_flag=True,
    default=False,
    show_default=True,
    help="Growth models: fit the baseline N_min too (optical densities that do "
    "not start from zero); otherwise it is 0.",
)
@log_y_option
@click.option(
    "--wide",
    is_flag=True,
    default=False,
    show_default=True,
    help="DATA is a plate-reader table: the --x column (time: numbers, or "
    "h:mm:ss / d.hh:mm:ss read as hours) and one column per well, each fitted "
    "as a group keyed 'well'. The wells are the columns named like wells (A1 "
    "... AF48, B07); others (a temperature) are left out, with a warning.",
)
@well_options
@click.option(
    "--blank",
    type=Blank(),
    default=None,
    show_default=True,
    metavar="min|COL|VALUE",
    help="Background correction before fitting: 'min' subtracts each group's "
    "smallest reading (growthcurver's default), COL a column of blank readings "
    "(with --wide, that well is not fitted), VALUE a constant.",
)
@click.option(
    "--summary",
    type=click.Choice(("growthcurver", "conditions")),
    default=None,
    show_default=True,
    help="Report growthcurver's SummarizeGrowthByPlate columns instead (sample, "
    "k, n0, r, t_mid, t_gen, auc_l, auc_e, sigma, note) for logistic fits; or, "
    "with --layout, each condition's mean, sd and n of every estimate.",
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
@reading_options
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    default=None,
    show_default=True,
    help="Also write the results here, atomically, in the format its extension "
    "names: .csv or .txt (CSV), .tsv, .json, .parquet or .pq, .xlsx (Excel); "
    ".csv.gz, .tsv.gz, .txt.gz, .json.gz gzip-compressed. Other extensions are "
    "refused.",
)
@force_option
@click.option(
    "--plot",
    "plot_target",
    type=PlotDestination(),
    default=None,
    show_default=True,
    metavar="FILE|DIR/",
    help="Draw the fit to FILE (.png, .pdf, .svg; up to four groups overlaid, "
    "more as a grid, --wide wells as a plate; see the figure options), or, for "
    "a directory (existing, or ending in /), one PNG per group named after "
    "its key; groups that failed get none.",
)
@format_option("the results", default=None, show_default="table, or none with -o")
@click.option(
    "--log-dose",
    is_flag=True,
    default=False,
    show_default=True,
    help="Dose-response models: the --x column holds log10 doses (Prism's 'X "
    "is log(concentration)').",
)
@click.option(
    "--ec",
    "ec_levels",
    type=NumberList(),
    default=None,
    show_default=True,
    metavar="X,...",
    help="Dose-response models: also report ECx for these percentages of the "
    "effect, e.g. 10,50,90, with --ec-ci intervals; columns ecX, ecX_stderr, "
    "ecX_lower, ecX_upper (icX when every curve falls).",
)
@click.option(
    "--ec-ci",
    "ec_ci",
    type=click.Choice(("delta", "log", "profile")),
    default=None,
    show_default="delta",
    help="With --ec: the ECx intervals: delta method on the dose scale (drc's "
    "ED default, and scurve.analysis.dose.ec's), delta on the log-dose scale "
    "mapped back (asymmetric, as ec50's), or profile likelihood (not with "
    "--share or --trials).",
)
@click.option(
    "--controls",
    default=None,
    show_default="a group whose doses are all zero",
    metavar="LEVEL",
    help="Dose-response models with --by: the group of zero-dose controls "
    "shared by every curve (drc's 'Control measurements detected'); its rows "
    "join each curve's fit. A group of only zero doses is taken as such "
    "without this option, with a warning.",
)
@click.option(
    "--normalize",
    is_flag=True,
    default=False,
    help="Dose-response models: fit the responses as percent of each curve's "
    "range, as Prism's Normalize: 100% the mean at zero dose (the controls; "
    "without them the higher end dose), 0% the mean at the other end dose.",
)
@click.option(
    "--trials",
    default=None,
    show_default=True,
    metavar="COL|N",
    help="Quantal data, --y counting the responders of COL trials (dead of "
    "total), or of N trials on every row (--trials 1: 0/1 outcomes); binomial "
    "maximum likelihood: hill (LD50 as ec50), or sigmoid as a binomial GLM "
    "(--shape logistic/erf/cloglog/gompertz/arctan: logit, probit, cloglog, "
    "log-log, cauchit; plateaus 0 and 1, rows intercept and slope).",
)
@click.option(
    "--free",
    multiple=True,
    metavar="PARAM",
    help="With --trials and --model sigmoid: fit this plateau rather than "
    "hold it (bottom: natural response, Abbott's correction; top: immunity).",
)
@click.option(
    "--starts",
    type=click.IntRange(0, 1000),
    default=0,
    show_default=True,
    metavar="N",
    help="N seeded random starts besides the self-start (a curve with two "
    "orientations also starts from its mirror image): each curve keeps the "
    "best fit, and its message says how many starts reached it.",
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
    help="Diffusion models: what --y holds: cumulative adopters, adoptions "
    "(sales) in the period ending at x, or the adoption rate at x.",
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
    type=LaunchTime(),
    default=None,
    show_default="one period before the first x",
    metavar="X|fit",
    help="Diffusion models: the launch time on the x axis, or 'fit' to estimate it.",
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
    type=Prior(),
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
@figure_options
@click.pass_context
def fit(ctx: click.Context, **options: Any) -> None:
    """Fit a model to DATA, per group with --by.

    DATA is a CSV or TSV file (delimiter sniffed, or Excel's sep= line; UTF-8,
    or UTF-16/32 with a byte-order mark, else --encoding), an Excel workbook
    (.xlsx, --sheet), Parquet, or - for standard input. The --by columns are
    read as text, as written (001, NA); only an empty key is missing (a group
    of its own, with a warning). An --x column of times h:mm:ss or d.hh:mm:ss
    (plate readers) is read as hours. Rows with missing or infinite values
    are dropped (counted on stderr) unless --nan error. The results go to
    stdout (--format) and/or to -o; outputs are checked before fitting:
    never an input (nor a file in an input directory, nor the file standard
    input reads), each output its own file, an existing file only with
    --force. A progress bar shows on stderr when more than a few groups are
    fitted on a terminal. Options a model does not take are refused by the
    model, naming the models that take them.
    """
    from scurve.cli import fitsteps  # the steps load when the command runs

    request = fitsteps.FitRequest(**options)
    report = Report()
    with report.catching(request.label):
        fitsteps.run(report, request)
    ctx.exit(report.return_code)


# ------------------------------------------------------------------ compare

COMPARE_EPILOG = f"""\b
Columns: the --by keys, model, n, k (free parameters + 1 for the variance),
  rss, aic, aicc, bic, delta_aic (from the best in its group), aic_weight,
  status; best first within each group. A fit that failed or did not
  converge is listed last without numbers, and does not count in the
  weights. No F test: the registered models are not nested in one another.
  JSON: {{"x": COL, "y": COL, "groups": [{{"group": {{KEY: VALUE}}, "models":
  [ROW...]}}]}}.
{EXIT_CODES}"""


@click.command(name="compare", epilog=COMPARE_EPILOG)
@data_argument
@click.option(
    "--models",
    "specs",
    required=True,
    multiple=True,
    metavar="MODEL[:SHAPE],...",
    help="The models to compare, comma-separated or repeated; MODEL:SHAPE "
    "picks the model's shape, e.g. sigmoid,sigmoid:erf,sigmoid:gompertz.",
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
@click.option(
    "--wide",
    is_flag=True,
    default=False,
    show_default=True,
    help="DATA is a plate-reader table: the --x column and one column per "
    "well, each compared as a group keyed 'well' (as 'scurve fit --wide').",
)
@well_options
@log_y_option
@click.option(
    "--side-by-side",
    is_flag=True,
    default=False,
    show_default=True,
    help="Growth models as R growthrates users compare them: one row per "
    "group, each model's mumax, lag, AICc and status side by side, and "
    "'best' (least AICc); --models among logistic, gompertz, richards, "
    "baranyi and easylinear (its mumax, lag and r2; no AICc).",
)
@easylinear_options
@click.option(
    "--share",
    multiple=True,
    default=(),
    metavar="NAME,...",
    help="With --by: also fit each model with these parameters common to "
    "every group and test it against the separate fits (F test; a "
    "likelihood-ratio test for quantal data), as drc's anova.",
)
@weights_option
@weights_kind_option
@nan_option
@reading_options
@format_option("the comparison")
@click.pass_context
def compare(
    ctx: click.Context,
    data: Path,
    specs: tuple[str, ...],
    x: str,
    y: str | None,
    by: tuple[str, ...],
    wide: bool,
    wells: tuple[str, ...],
    exclude: tuple[str, ...],
    log_y: bool,
    side_by_side: bool,
    window: int | None,
    quota: float | None,
    share: tuple[str, ...],
    weights: str | None,
    weights_kind: WeightsKind,
    nan: Literal["drop", "error"],
    sheet: str | None,
    encoding: str | None,
    decimal: str | None,
    fmt: str,
) -> None:
    """Compare models fitted to DATA by AIC, AICc and BIC (per group with --by).

    Each model is fitted as 'scurve fit' would (without intervals) to the
    table read once; the smallest AIC is best, and the Akaike weights,
    exp(-delta_aic/2) normalized over the set, weigh the evidence for each
    model (Burnham and Anderson, 2002). With --side-by-side, growth models
    and easylinear are put side by side per group instead.
    """
    from scurve import api
    from scurve.cli import ranking

    report = Report()
    label = data_label(data)
    with report.catching(label):
        keys = names(by)
        ranking.check_usage(
            y=y, keys=keys, wide=wide, wells=wells, exclude=exclude,
            side_by_side=side_by_side, easylinear=window is not None or quota
            is not None, weights=weights, share=share,
        )  # fmt: skip
        reading = {
            "x": x, "y": y or "y", "by": keys, "nan": nan, "wide": wide,
            "wells": wells or None, "exclude": exclude,
            "sheet": sheet, "encoding": encoding, "decimal": decimal,
        }  # fmt: skip
        if side_by_side:
            ranking.side_by_side(
                report, label, os.fspath(data), specs, reading, fmt=fmt,
                log_y=log_y, window=window, quota=quota,
            )  # fmt: skip
        else:
            models = ranking.model_specs(specs, log_y=log_y)
            # one read for every model: doses (x >= 0) if any model needs them
            reader = next((m for m in models if m.positive_x), models[0])
            with option_errors():
                selection = api.read(
                    os.fspath(data), reader, weights=weights,
                    weights_kind=weights_kind, **reading,
                )  # fmt: skip
            for note in selection.notes:
                report.warn(note)
            fits = ranking.fit_each(report, selection, models)
            ranked = ranking.rank(fits, selection.groups(), selection.keys)
            if share:
                with option_errors():
                    ranking.add_shared_tests(ranked, selection, models, names(share))
            output.echo_format(
                fmt,
                table=lambda: "\n".join(
                    [output.frame_text(ranked.frame), *ranked.tests]
                ),
                csv=lambda: output.frame_csv(ranked.frame),
                json=lambda: output.json_text(
                    {"x": x, "y": y or "value", "groups": ranked.groups}
                    | ({"shared_tests": ranked.shared} if share else {})
                ),
            )
            ranked.report_failures(report, label, selection.keys)
    ctx.exit(report.return_code)


# ------------------------------------------------------------------ predict

PREDICT_EPILOG = f"""\b
Columns with --x: the group keys, x, y, y_lower, y_upper; with --y: the
  group keys, y, x, x_lower, x_upper. The band is pointwise, by the delta
  method with the fit's covariance and t on its residual degrees of freedom
  (nan when the fit had no covariance); an inverse outside the curve's
  range is nan. JSON: {{"model": LABEL, "level": LEVEL or null for the
  fit's, "points": [ROW...]}} with the columns above; nan is null.
{EXIT_CODES}"""


@click.command(name="predict", epilog=PREDICT_EPILOG)
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
    type=Level(),
    default=None,
    show_default="the fit's level",
    help="Confidence level of the band.",
)
@click.option(
    "--interval",
    type=click.Choice(("confidence", "prediction")),
    default="confidence",
    show_default=True,
    help="With --x: a confidence band for the curve, or a prediction interval "
    "for a new observation (adds the fit's residual variance; for bass with "
    "--data per-period, a forecast of the sales in the periods ending at x).",
)
@format_option("the points")
@click.pass_context
def predict(
    ctx: click.Context,
    results: Path,
    xs: tuple[tuple[float, ...], ...],
    ys: tuple[tuple[float, ...], ...],
    level: float | None,
    interval: Literal["confidence", "prediction"],
    fmt: str,
) -> None:
    """Evaluate a saved fit at x, or invert it at y, with a confidence band.

    RESULTS.json is written by 'scurve fit DATA ... -o RESULTS.json' (or
    --format json) and read back by scurve.load; - reads it from stdin.
    It is checked against its model: a file that is not a saved fit, or one
    whose fit has lost its meaning (a parameter, option, statistic or
    covariance missing or not valid), is refused (exit 2), naming the group
    and the key. Every group is evaluated; a group whose fit failed or is
    flat has no curve and makes the exit code 1. --interval prediction needs
    each fit's residual sigma (not a quantal fit's).
    """
    import scurve
    from scurve.cli import saved
    from scurve.cli.calibrate import calibration_at, predict_calibrated

    report = Report()
    label = data_label(results)
    with report.catching(label):
        if bool(xs) == bool(ys):
            raise click.UsageError("give one of --x and --y")
        if interval == "prediction" and ys:
            raise click.UsageError("--interval prediction needs --x, not --y")
        values = [v for part in (ys or xs) for v in part]
        if any(math.isnan(v) for v in values):
            given, verb = ("--y", "invert") if ys else ("--x", "evaluate")
            raise click.BadParameter(
                f"nan is not a number to {verb} at", param_hint=f"'{given}'"
            )
        calibration = calibration_at(results)
        if calibration is not None:  # scurve calibrate -o: probabilities
            if ys:
                raise click.UsageError("a calibration is evaluated at --x scores")
            points = predict_calibrated(calibration, values)
            output.echo_format(
                fmt,
                table=lambda: output.frame_text(saved.points_frame(points)),
                csv=lambda: output.frame_csv(saved.points_frame(points)),
                json=lambda: output.json_text({"points": points}),
            )
            ctx.exit(report.return_code)
        fits = scurve.load(os.fspath(results), name=label)
        rows = saved.predict_rows(
            report, label, fits, values, bool(ys), interval, level
        )
        model = fits.model.label
        output.echo_format(
            fmt,
            table=lambda: output.frame_text(saved.points_frame(rows)) if rows else "",
            csv=lambda: output.frame_csv(saved.points_frame(rows)) if rows else "",
            json=lambda: output.json_text(
                {"model": model, "level": level, "points": rows}
            ),
        )
    ctx.exit(report.return_code)


#: The commands of this module, registered on the ``scurve`` group.
COMMANDS = (fit, compare, predict)
