"""``scurve potency``: relative potency of dose-response curves, with delta
and Fieller intervals, and the test of one EC50 for all (drc's ``EDcomp``
and ``anova``; Prism's "Do the EC50s differ?").

Every group is compared with a reference group (the first, or
``--reference``) at one effect level (``--ec``, 50 by default): the ratio
of the reference's ECx to the group's, so that a potency above 1 is a group
more potent than the reference. Quantal data (``--trials``) are fitted by
binomial likelihood; a parallel-line assay shares the slope
(``--share hill``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scurve.cli import output
from scurve.cli.options import (
    Assignment,
    data_argument,
    data_label,
    format_option,
    level_option,
    names,
    option_errors,
    reading_options,
    x_option,
    y_option,
)
from scurve.cli.report import EXIT_CODES, Report, group_text

__all__ = ["COMMANDS", "potency"]

#: The columns of ``--format csv`` (and of the table), one row per group
#: and method.
COLUMNS = ("group", "reference", "ec", "method", "value", "stderr", "lower", "upper")


def _reference(fits: Any, reference: str | None) -> tuple:
    """The reference group's key: the first, or the one named."""
    keys = list(fits)
    if reference is None:
        return keys[0]
    for key in keys:
        if ", ".join(map(str, key)) == reference:
            return key
    known = ", ".join(", ".join(map(str, k)) for k in keys)
    raise click.BadParameter(
        f"no group {reference!r} (the groups: {known})", param_hint="'--reference'"
    )


def _rows(fits: Any, base: tuple, ec: float, level: float) -> list[dict[str, Any]]:
    from scurve.analysis.dose import relative_potency

    rows = []
    for key, fitted in fits.items():
        if key == base:
            continue
        table = relative_potency(fits[base], fitted, ec, level=level)
        for method, row in table.iterrows():
            rows.append(
                {
                    "group": group_text(fits.by, key),
                    "reference": group_text(fits.by, base),
                    "ec": ec,
                    "method": str(method),
                    **{f: float(row[f]) for f in COLUMNS[4:]},
                }
            )
    return rows


def _table_text(rows: list[dict[str, Any]]) -> str:
    cells = [[output.cell_text(r[c]) for c in COLUMNS] for r in rows]
    numeric = [c not in ("group", "reference", "method") for c in COLUMNS]
    return output.text_table(list(COLUMNS), cells, numeric=numeric)


def _test_line(test: dict[str, Any]) -> str:
    if "chi2" in test:
        stat = f"chi2 = {test['chi2']:.4g} on {test['df']:g} df"
    else:
        stat = f"F = {test['F']:.4g} on {test['df1']:g} and {test['df2']:g} df"
    name = test["test"].split(" (")[0] if "chi2" in test else test["test"]
    stat = stat.replace("F = ", "") if name.startswith("F") else stat
    return f"same EC50: {name} = {stat}, p = {test['p_value']:.4g}"


@click.command(name="potency", epilog=EXIT_CODES)
@data_argument
@click.option(
    "--model",
    "model_name",
    default="hill",
    show_default=True,
    metavar="NAME",
    help="A dose-response model of the Hill family (hill, hill5, weibull2).",
)
@x_option
@y_option
@click.option(
    "--by",
    "by",
    multiple=True,
    required=True,
    metavar="COL",
    help="The group key column: one curve per group (at least two).",
)
@click.option(
    "--reference",
    default=None,
    show_default="the first group",
    metavar="LEVEL",
    help="The group every other is compared with (comma-joined for several keys).",
)
@click.option(
    "--ec",
    type=float,
    default=50.0,
    show_default=True,
    metavar="X",
    help="The effect level (percent) whose doses are compared.",
)
@click.option(
    "--share",
    multiple=True,
    default=(),
    metavar="NAME,...",
    help="Parameters common to every group, fitted jointly (hill: a "
    "parallel-line assay).",
)
@click.option(
    "--fix",
    type=Assignment(),
    multiple=True,
    default=(),
    metavar="NAME=VALUE",
    help="Hold a parameter at a value; repeatable.",
)
@click.option(
    "--trials",
    default=None,
    metavar="COL|N",
    help="Quantal data: --y counts the responders of COL (or N) trials.",
)
@level_option
@reading_options
@format_option("the relative potencies")
def potency(
    data: Path,
    model_name: str,
    x: str,
    y: str,
    by: tuple[str, ...],
    reference: str | None,
    ec: float,
    share: tuple[str, ...],
    fix: tuple[tuple[str, float], ...],
    trials: str | None,
    level: float,
    sheet: str | None,
    encoding: str | None,
    decimal: str | None,
    fmt: str,
) -> None:
    """Relative potency of each group against a reference, with delta and
    Fieller intervals, and the test that every group has the same EC50.

    The potency of a group is the reference's ECx over the group's (above 1:
    more potent). Intervals: the delta method, and Fieller's (infinite when
    the group's ECx is not significantly above zero). The test compares a
    joint fit with one EC50 against separate EC50s: an extra-sum-of-squares
    F test, or a likelihood-ratio chi-square test for quantal data.
    """
    import scurve
    from scurve.analysis.dose import check_ec, same_ec50
    from scurve.errors import OptionError
    from scurve.models import get_model

    report = Report()
    with report.catching(data_label(data)):
        with option_errors():
            try:
                check_ec(get_model(model_name), ec)
            except OptionError as exc:
                option = "model" if "needs a dose-response" in exc.reason else "ec"
                reason = exc.reason.replace("ECx needs a", "relative potency needs a")
                raise OptionError(option, reason) from None
            except (KeyError, ValueError) as exc:
                raise OptionError("model", str(exc).strip("'\"")) from None
        shared = names(share) or None
        trial_count: Any = trials
        if trials is not None and trials.strip().isdigit():
            trial_count = int(trials)
        with option_errors():
            fits = scurve.fit(
                data, model=model_name, x=x, y=y, by=names(by), share=shared,
                fix=dict(fix), level=level, trials=trial_count, sheet=sheet,
                encoding=encoding, decimal=decimal,
            )  # fmt: skip
        base = _reference(fits, reference)
        if len(fits) < 2:
            raise click.BadParameter(
                f"one group ({group_text(fits.by, base)}): relative potency "
                "needs two", param_hint="'--by'",
            )  # fmt: skip
        failed = [k for k, f in fits.items() if f.status not in ("ok", "at_bound")]
        if failed:
            from scurve.errors import FitError

            key = failed[0]
            raise FitError(f"group {group_text(fits.by, key)}: {fits[key].message}")
        rows = _rows(fits, base, ec, level)
        test = same_ec50(fits)
        cells = [[r[c] for c in COLUMNS] for r in rows]
        output.echo_format(
            fmt,
            table=lambda: _table_text(rows) + "\n" + _test_line(test),
            csv=lambda: output.csv_text(COLUMNS, cells),
            json=lambda: output.json_text({"potency": rows, "same_ec50": test}),
        )
        report.done()
    click.get_current_context().exit(report.return_code)


COMMANDS = [potency]
