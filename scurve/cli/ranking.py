"""The steps of ``scurve compare``: the models fitted to the table read
once, ranked per group by :func:`scurve.compare`."""

from __future__ import annotations

import math
from dataclasses import dataclass
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


def model_specs(values: tuple[str, ...]) -> list[SCurveModel]:
    """``sigmoid,sigmoid:erf`` -> models (one per distinct label)."""
    param = click.Option(["--models"])
    models: dict[str, SCurveModel] = {}
    for spec in names(values):
        name, _, shape = spec.partition(":")
        name = RegistryChoice(model_registry, "model").convert(
            name.strip(), param, None
        )
        given: list[Given] = []
        if shape.strip():
            curve = RegistryChoice(shape_registry, "shape").convert(
                shape.strip(), param, None
            )
            given.append(("--models", "shape", curve))
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
    documents, failed = [], []
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
        documents.append({"group": group, "models": entries})
        rows += [group | entry for entry in entries]
    return Ranking(pd.DataFrame(rows), documents, failed)
