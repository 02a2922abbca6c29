"""Fit results on stdout and in files, each serialization made at most once.

``scurve fit`` prints its results for people (:func:`fit_report`, from the
arrays of the :class:`~scurve.results.table.ResultTable`), as CSV (the
table's DataFrame) or as JSON (its document), and writes them with ``-o``.
Only what is asked for is made: ``-o fits.csv`` alone builds neither a JSON
document nor a report, and lets the table write itself
(:meth:`~scurve.results.table.ResultTable.write`).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scurve.cli import output
from scurve.cli.report import group_text
from scurve.inference.statistics import stats_text

if TYPE_CHECKING:
    import pandas as pd

    from scurve.results.table import ResultTable

__all__ = ["FitTable", "SummaryTable", "fit_report", "render"]

#: The statistics shown under each fit in the report for people.
REPORT_STATS = ("n", "dof", "rss", "rmse", "r2", "aic", "aicc", "bic")
_FIELDS = ("value", "stderr", "lower", "upper")


def _number(value: float | str | None) -> str:
    """A number of the report: 6 significant digits, nothing for NaN."""
    if value is None or isinstance(value, str):
        return value or ""
    return "" if math.isnan(value) else f"{value:.6g}"


def fit_report(table: ResultTable, note: str | None = None) -> str:
    """Results for people: per group a block of parameters and derived
    quantities (value, stderr, lower, upper), statistics and status; `note`
    (how ECx intervals were computed) joins the title's intervals.

    The wide one-row-per-group table is what ``--format csv`` and ``-o``
    give; this is the same numbers, made from the table's arrays (no JSON
    document is built for it).
    """
    blocks = []
    params = len(table.params)
    stats = {s: table.stats[s] for s in REPORT_STATS}
    for i, key in enumerate(table.groups):
        head = f"{group_text(table.keys, key)}  " if table.keys else ""
        title = f"{head}{table.model.label}"
        status, message = str(table.status[i]), str(table.message[i])
        if status == "failed" and math.isnan(table.stats["n"][i]):
            blocks.append(f"{title}\n  status: {status} ({message})")
            continue
        if table.ci != "none":
            more = f"; {note}" if note else ""
            title += f"  ({table.level:.0%} intervals, {table.ci} method{more})"
        elif note:
            title += f"  ({note})"
        flat = status == "flat"  # no curve in the data: no quantities
        names = [
            q if j < params or j not in table.aliases else str(table.aliases[j][i])
            for j, q in enumerate(table.quantities)
        ]
        width = max(map(len, names))
        lines = [title, f"  {'':{width}}  " + " ".join(f"{f:>12}" for f in _FIELDS)]
        arrays = (table.value, table.stderr, table.lower, table.upper)
        for j, name in enumerate(names):
            cells = (math.nan if flat else float(a[i, j]) for a in arrays)
            row = " ".join(f"{_number(v):>12}" for v in cells)
            lines.append(f"  {name:{width}}  {row}")
        lines.append("  " + stats_text({s: v[i] for s, v in stats.items()}, stats))
        robust = table.sections.get("robust", [None] * len(table))[i]
        if robust:
            lines.append(_robust_line(robust))
        hormesis = table.sections.get("hormesis_test", [None] * len(table))[i]
        if hormesis:
            lines.append(f"  hormesis test: {hormesis['text']}")
        glm = table.sections.get("glm", [None] * len(table))[i]
        if glm:
            lines.append(f"  {glm['text']}")
        lines.append(f"  status: {status} ({message})")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks)


def _robust_line(robust: dict[str, Any]) -> str:
    """A robust fit's loss, scale and outliers, in one line."""
    flagged = ", ".join(
        f"{p['point']} (x={_number(p['x'])}, scaled {p['scaled']:.3g})"
        for p in robust["outliers"]
    )
    return (
        f"  {robust['loss']} loss, scale {_number(robust['scale'])}: "
        f"{len(robust['outliers'])} outliers (|residual| > "
        f"{robust['threshold']:g} scale)" + (f": points {flagged}" if flagged else "")
    )


class FitTable:
    """A results table for stdout and ``-o``, serialized at most once each
    way: :attr:`frame` (CSV, table files) and :attr:`document` (JSON)."""

    def __init__(self, table: ResultTable, note: str | None = None) -> None:
        self.table = table
        self.note = note

    @cached_property
    def frame(self) -> pd.DataFrame:
        return self.table.frame()

    @cached_property
    def document(self) -> dict[str, Any]:
        return self.table.to_dict()

    def text(self) -> str:
        """The report for people (:func:`fit_report`)."""
        return fit_report(self.table, self.note)

    def write(
        self, path: Path, *, inputs: Sequence[str | os.PathLike[str]], force: bool
    ) -> Path:
        """Write `path` (in the format its extension names, atomically) from
        what is already made, else by the table itself."""
        from scurve import io

        json = io.table_format(path).kind == "json"
        if json and "document" in self.__dict__:
            return io.write_json(self.document, path, inputs=inputs, force=force)
        if not json and "frame" in self.__dict__:
            return io.write_table(self.frame, path, inputs=inputs, force=force)
        return self.table.write(path, inputs=inputs, force=force)


class SummaryTable:
    """A summary table (``--summary growthcurver``) for stdout and ``-o``:
    CSV and files from the frame, JSON as ``{"summary": KIND, "samples":
    [ROW...]}``."""

    def __init__(self, kind: str, frame: pd.DataFrame) -> None:
        self.kind = kind
        self.frame = frame

    @cached_property
    def document(self) -> dict[str, Any]:
        from scurve.io import jsonable

        samples = self.frame.to_dict("records")
        return jsonable({"summary": self.kind, "samples": samples})

    def text(self) -> str:
        """The table, aligned."""
        return output.frame_text(self.frame)

    def write(
        self, path: Path, *, inputs: Sequence[str | os.PathLike[str]], force: bool
    ) -> Path:
        """Write `path`: JSON for ``.json`` (``.json.gz``), else the table."""
        from scurve import io

        if io.table_format(path).kind == "json":
            return io.write_json(self.document, path, inputs=inputs, force=force)
        return io.write_table(self.frame, path, inputs=inputs, force=force)


def render(results: FitTable | SummaryTable, fmt: str) -> str:
    """`results` as `fmt` asks: ``table``, ``csv`` or ``json``."""
    if fmt == "json":
        return output.json_text(results.document)
    if fmt == "csv":
        return output.frame_csv(results.frame)
    return results.text()
