"""Results on stdout (aligned for people, CSV, JSON) and progress on stderr.

Only the standard library and click here: the light commands (``curves``,
``eval``, ``shape``, ``analyze``) print through these without pandas; a
DataFrame is printed by :func:`frame_text` and :func:`frame_csv`, which
take one.
"""

from __future__ import annotations

import csv
import io
import json
import math
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "cell_text",
    "csv_text",
    "echo_format",
    "echo_text",
    "frame_csv",
    "frame_text",
    "json_text",
    "progress_bar",
    "stderr_is_terminal",
    "text_table",
]

#: Seconds between redraws of a progress bar (a callback per curve of a
#: screen of 10^5 must not cost a redraw each).
REDRAW_SECONDS = 0.1


def stderr_is_terminal() -> bool:
    """Whether stderr is a terminal (progress bars are drawn only there)."""
    isatty = getattr(sys.stderr, "isatty", None)
    return bool(isatty and isatty())


@contextmanager
def progress_bar(
    total: int, label: str, *, minimum: int = 1
) -> Iterator[Callable[..., None] | None]:
    """A progress bar on stderr for `total` steps, drawn on a terminal when
    there are more than `minimum`; yields ``advance(position, note="")``
    (redrawn at most every :data:`REDRAW_SECONDS` and at the end), or None
    when no bar is drawn."""
    if total <= minimum or not stderr_is_terminal():
        yield None
        return
    note = [""]
    last = [0.0]
    bar: Any
    with click.progressbar(
        length=total,
        label=label,
        file=sys.stderr,
        item_show_func=lambda _: note[0],
    ) as bar:

        def advance(position: int, text: str = "") -> None:
            now = time.monotonic()
            if position < total and now - last[0] < REDRAW_SECONDS:
                return
            last[0] = now
            note[0] = text
            bar.update(max(0, min(position, total) - bar.pos))

        yield advance


# ------------------------------------------------------------------ text


def cell_text(value: Any) -> str:
    """A cell for people: floats to 6 significant digits, NaN as ``nan``."""
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, float):
        return format(value, ".6g")
    return str(value)


def text_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    *,
    numeric: bool | Sequence[bool],
) -> str:
    """Rows of text under a header, columns padded to their widest cell.

    Numeric columns are right-aligned so that digits line up; text columns
    are left-aligned. `numeric` is one flag for every column, or one each.

    Examples
    --------
    >>> print(text_table(["x", "y"], [["1", "10"], ["20", "3"]], numeric=True))
     x   y
     1  10
    20   3
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


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Rows as CSV: numbers at full precision (``repr``, so NaN is ``nan``
    and infinities ``inf``), None as an empty cell.

    Examples
    --------
    >>> print(csv_text(["x", "note"], [[0.1, None], [float("inf"), "a, b"]]), end="")
    x,note
    0.1,
    inf,"a, b"
    """
    stream = io.StringIO()
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    return stream.getvalue()


def _strings_for_nonfinite(data: Any) -> Any:
    """`data` with non-finite floats as the strings "inf", "-inf", "nan"."""
    if isinstance(data, dict):
        return {k: _strings_for_nonfinite(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_strings_for_nonfinite(v) for v in data]
    if isinstance(data, float) and not math.isfinite(data):
        return "nan" if math.isnan(data) else ("inf" if data > 0 else "-inf")
    return data


def json_text(data: Any, *, nan: str = "null") -> str:
    """Strict JSON (RFC 8259), indented.

    `nan`: ``"null"`` writes NaN as null, as the result files have it
    (:func:`scurve.io.jsonable`: null is "not available"); ``"text"`` writes
    it as the string ``"nan"``, for documents in which null already means
    "no such thing" (``scurve eval``). Infinities are ``"inf"`` and
    ``"-inf"`` either way.
    """
    if nan == "text":
        data = _strings_for_nonfinite(data)
    else:
        from scurve.io import jsonable

        data = jsonable(data)
    return json.dumps(data, indent=2, allow_nan=False)


def echo_format(
    fmt: str,
    *,
    table: Callable[[], str],
    csv: Callable[[], str],
    json: Callable[[], str],
) -> None:
    """Print the results in `fmt`, made by the one of the three functions
    that `fmt` asks for (nothing for empty text)."""
    echo_text({"table": table, "csv": csv, "json": json}[fmt]())


def echo_text(text: str) -> None:
    """`text` on stdout, ending in one newline; nothing for empty text."""
    if text:
        click.echo(text, nl=not text.endswith("\n"))


# ------------------------------------------------------------------ DataFrames


def frame_text(frame: pd.DataFrame) -> str:
    """A DataFrame as aligned text: numbers right-aligned, text left."""
    header = [str(c) for c in frame.columns]
    rows = [
        [cell_text(v) for v in record]
        for record in frame.astype(object).itertuples(index=False)
    ]
    numeric = [frame[c].dtype.kind in "iuf" for c in frame.columns]
    return text_table(header, rows, numeric=numeric)


def frame_csv(frame: pd.DataFrame) -> str:
    """A DataFrame as CSV, as the result files have it."""
    return frame.to_csv(index=False, lineterminator="\n")
