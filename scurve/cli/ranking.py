"""The steps of ``scurve compare``: the models fitted to the table read
once, ranked per group by :func:`scurve.compare`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import click

from scurve.cli.checks import Given, model_with_options
from scurve.cli.options import RegistryChoice, model_registry, names, shape_registry
from scurve.cli.report import FAILED, MAX_REPORTED, Report, group_text

if TYPE_CHECKING:
    import pandas as pd

    from scurve.io import Selection
    from scurve.models.base import SCurveModel
    from scurve.results.fit import FitResult

__all__ = ["COMPARE_COLUMNS", "Ranking", "fit_each", "model_specs", "rank"]

COMPARE_COLUMNS = ("n", "k", "rss", "aic", "aicc", "bic", "delta_aic", "aic_weight")


def check_usage(
    *,
    y: str | None,
    keys: list[str],
    wide: bool,
    wells: tuple[str, ...],
    exclude: tuple[str, ...],
    side_by_side: bool,
    easylinear: bool,
    weights: str | None,
    share: tuple[str, ...] = (),
) -> None:
    """What ``scurve compare``'s options cannot be given together.

    Raises
    ------
    click.UsageError
    """
    if wide and (y is not None or keys):
        raise click.UsageError(
            "--wide compares every column but --x, grouped by well: drop --y and --by"
        )
    if not wide and y is None:
        raise click.UsageError("Missing option '--y'.")
    if not wide and (wells or exclude):
        raise click.UsageError(
            "--wells and --exclude choose the wells of --wide: give --wide"
        )
    if easylinear and not side_by_side:
        raise click.UsageError(
            "--window and --quota are options of easylinear in --side-by-side"
        )
    if side_by_side and weights is not None:
        raise click.UsageError("--side-by-side takes no --weights")
    if share and not (keys or wide):
        raise click.UsageError("--share needs groups: give --by as well")
    if share and side_by_side:
        raise click.UsageError("--side-by-side takes no --share")


def side_by_side(
    report: Report,
    label: str,
    data: str,
    specs: tuple[str, ...],
    reading: dict[str, Any],
    *,
    fmt: str,
    log_y: bool,
    window: int | None,
    quota: float | None,
) -> None:
    """``scurve compare --side-by-side``: :func:`scurve.growth_comparison`
    printed; each fit that failed reported (exit 1)."""
    import scurve
    from scurve.analysis.growth import compared_models
    from scurve.cli import output
    from scurve.cli.options import option_errors
    from scurve.errors import OptionError

    models = names(specs)
    given = [s for s in models if s.strip().lower() == "easylinear"]
    if (window is not None or quota is not None) and not given:
        raise click.UsageError(
            "--window and --quota are options of easylinear in --side-by-side"
        )
    try:
        compared_models(models)
    except OptionError as exc:
        raise click.BadParameter(
            f"--side-by-side compares {exc.reason}", param_hint="'--models'"
        ) from None
    with option_errors(), report.warnings():
        table = scurve.growth_comparison(
            data, models=models, log_y=log_y,
            window=5 if window is None else window,
            quota=0.95 if quota is None else quota, **reading,
        )  # fmt: skip
    output.echo_format(
        fmt,
        table=lambda: output.frame_text(table),
        csv=lambda: output.frame_csv(table),
        json=lambda: output.json_text(
            {"x": reading["x"], "rows": table.to_dict("records")}
        ),
    )
    keys = list(table.columns[: _first_model_column(table)])
    failed = [
        (tuple(row[k] for k in keys), column[: -len("_status")], row[column])
        for _, row in table.iterrows()
        for column in table.columns
        if column.endswith("_status") and row[column] in FAILED
    ]
    for key, model, status in failed[:MAX_REPORTED]:
        report.fail(
            f"{label}: group {group_text(keys, key)}: {model}: {status}; "
            f"see the {model}_status column"
        )
    if len(failed) > MAX_REPORTED:
        report.fail(f"{label}: {len(failed) - MAX_REPORTED} more fits failed")


def _first_model_column(table: pd.DataFrame) -> int:
    """Where the group keys of a comparison table end."""
    from scurve.analysis.growth import COMPARED

    prefixes = tuple(f"{m}_" for m in COMPARED)
    return next(i for i, c in enumerate(table.columns) if str(c).startswith(prefixes))


def model_specs(values: tuple[str, ...], *, log_y: bool = False) -> list[SCurveModel]:
    """``sigmoid,sigmoid:erf`` -> models (one per distinct label), on the
    log scale with `log_y`."""
    param = click.Option(["--models"])
    models: dict[str, SCurveModel] = {}
    for spec in names(values):
        name, _, shape = spec.partition(":")
        if name.strip().lower() == "easylinear":
            raise click.BadParameter(
                "easylinear fits no model and has no AIC to rank: give --side-by-side",
                param_hint="'--models'",
            )
        name = RegistryChoice(model_registry, "model").convert(
            name.strip(), param, None
        )
        given: list[Given] = []
        if shape.strip():
            curve = RegistryChoice(shape_registry, "shape").convert(
                shape.strip(), param, None
            )
            given.append(("--models", "shape", curve))
        if log_y:
            given.append(("--log-y", "log_y", True))
        model = model_with_options(name, given)
        models.setdefault(model.label, model)
    if len(models) < 2:
        raise click.BadParameter(
            "give at least two different models, e.g. sigmoid,sigmoid:erf",
            param_hint="'--models'",
        )
    return list(models.values())


def fit_each(
    report: Report, selection: Selection, models: list[SCurveModel]
) -> dict[str, dict[tuple, FitResult | Exception]]:
    """Each model fitted to the selection (without intervals): model label
    -> group key -> its fit, or the error of a single curve not fitted."""
    import scurve
    from scurve.errors import FitError
    from scurve.results.fit import FitResult

    fits: dict[str, dict[tuple, FitResult | Exception]] = {}
    with report.warnings():
        for model in models:
            try:
                result = scurve.fit(selection, model, ci="none")
            except FitError as exc:  # a single curve that cannot be fitted
                fits[model.label] = {(): exc}
            else:
                fits[model.label] = (
                    {(): result} if isinstance(result, FitResult) else dict(result)
                )
    return fits


@dataclass
class Ranking:
    """The comparison: its table (best first in each group), its JSON
    groups, and the fits that failed as ``(key, model, status, why)``."""

    frame: pd.DataFrame
    groups: list[dict[str, Any]]
    failed: list[tuple[tuple, str, str, str]]
    #: The F tests of nested pairs, as lines for people.
    tests: list[str] = field(default_factory=list)
    #: Shared against separate fits (``--share``), one per model.
    shared: list[dict[str, Any]] = field(default_factory=list)

    def report_failures(self, report: Report, label: str, keys: list[str]) -> None:
        """The fits that failed, one error line each for the first
        :data:`~scurve.cli.report.MAX_REPORTED`, then how many more."""
        shown = self.failed[:MAX_REPORTED]
        for key, model, status, message in shown:
            where = label + (f": group {group_text(keys, key)}" if keys else "")
            report.fail(f"{where}: {model}: {status}: {message}")
        if len(self.failed) > len(shown):
            report.fail(
                f"{label}: {len(self.failed) - len(shown)} more fits failed; "
                "see the status column"
            )


def rank(
    fits: dict[str, dict[tuple, FitResult | Exception]],
    groups: list[tuple],
    keys: list[str],
) -> Ranking:
    """Per group, the models ranked by :func:`scurve.compare`; fits that
    failed or did not converge last, without numbers."""
    import pandas as pd

    import scurve
    from scurve.results.fit import FitResult

    rows: list[dict[str, Any]] = []
    documents, failed, lines = [], [], []
    for key in groups:
        of_group = {label: by_key[key] for label, by_key in fits.items()}
        good = {
            label: fitted
            for label, fitted in of_group.items()
            if isinstance(fitted, FitResult)
            and fitted.fitted
            and fitted.status not in FAILED
        }
        ranked = scurve.compare(good) if good else pd.DataFrame()
        entries = [
            {"model": label}
            | {c: float(ranked.loc[label, c]) for c in COMPARE_COLUMNS}
            | {"status": good[label].status}
            for label in ranked.index
        ]
        for label, fitted in of_group.items():
            if label in good:
                continue
            if isinstance(fitted, FitResult):
                status, why = fitted.status, fitted.message
            else:
                status, why = "failed", str(fitted)
            entries.append(
                {"model": label}
                | dict.fromkeys(COMPARE_COLUMNS, math.nan)
                | {"status": status}
            )
            failed.append((key, label, status, why))
        group = dict(zip(keys, key, strict=True))
        f_tests = nested_tests(good)
        documents.append({"group": group, "models": entries, "f_tests": f_tests})
        rows += [group | entry for entry in entries]
        head = f"group {group_text(keys, key)}: " if keys else ""
        lines += [f"F test: {head}{test_text(t)}" for t in f_tests]
    return Ranking(pd.DataFrame(rows), documents, failed, lines)


def nested_tests(fits: dict[str, FitResult]) -> list[dict[str, Any]]:
    """The extra-sum-of-squares F test of every pair of `fits` of which one
    model is nested in the other (:func:`scurve.analysis.dose.nesting`)."""
    import scurve
    from scurve.analysis.dose import nesting

    tests = []
    for small, reduced in fits.items():
        for big, full in fits.items():
            within = nesting(reduced.model, full.model)
            if within is not None:
                test = scurve.f_test(reduced, full)
                tests.append({"reduced": small, "full": big, "within": within, **test})
    return tests


def test_text(test: dict[str, Any]) -> str:
    """One F test in words."""
    return (
        f"{test['reduced']} within {test['full']} ({test['within']}): "
        f"F = {test['F']:.4g} on {test['df1']:g} and {test['df2']:g} df, "
        f"p = {test['p_value']:.4g}"
    )


def add_shared_tests(
    ranked: Ranking, selection: Selection, models: list[SCurveModel], share: list[str]
) -> None:
    """Each model fitted with `share` common to every group, tested against
    its separate fits (:func:`scurve.analysis.dose.shared_test`): a
    ``Shared test:`` line each, and the tests in :attr:`Ranking.shared`."""
    import scurve
    from scurve.analysis.dose import shared_test

    what = ",".join(share)
    for model in models:
        separate = scurve.fit(selection, model, ci="none")
        joint = scurve.fit(selection, model, share=share, ci="none")
        test = shared_test(separate, joint)  # type: ignore[arg-type]
        if "chi2" in test:
            stat = f"chi2 = {test['chi2']:.4g} on {test['df']:g} df"
        else:
            stat = f"F = {test['F']:.4g} on {test['df1']:g} and {test['df2']:g} df"
        ranked.tests.append(
            f"Shared test: {model.label}, {what} shared against separate: "
            f"{stat}, p = {test['p_value']:.4g}"
        )
        ranked.shared.append({"model": model.label, "shared": share, **test})
