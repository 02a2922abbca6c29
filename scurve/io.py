"""Tables in, results out: reading columns with clear errors, writing atomically.

Every bad input becomes an :class:`InputError` whose one-line message names
the file, the column, the row and the value, e.g.
``data.csv: column 'dose', row 7: 'abc' is not a number``. Rows are counted
as in a text editor: the header is line 1, so the first data row of a text
file is row 2 (blank lines and quoted line breaks are accounted for). Rows of
a DataFrame or Parquet file are named by their index label.

Outputs are written atomically (:func:`atomic_write`): a crash, a full disk or
an exception leaves the previous file or none, never a half-written one.

pandas is imported on first use, so ``from scurve.io import InputError`` is
cheap enough for the command line.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime
import difflib
import gzip
import io
import json
import math
import os
import re
import secrets
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from scurve.errors import InputError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "InputError",
    "Selection",
    "atomic_write",
    "check_output",
    "column",
    "delimited_text",
    "jsonable",
    "number_text",
    "read_table",
    "read_text",
    "select",
    "split_groups",
    "subtract_blank",
    "weights_to_multipliers",
    "wide_to_long",
    "write_json",
    "write_table",
]

WeightsKind = Literal["sigma", "variance", "weight"]

PARQUET_SUFFIXES = (".parquet", ".pq")
#: How many characters of a text table the delimiter is guessed from.
SNIFF_CHARS = 64 * 1024
DELIMITERS = ",\t;| "
#: File signatures worth a hint when a "text" table is not text.
MAGIC_HINTS = {
    b"PAR1": "it looks like Parquet: give it the extension .parquet",
    b"PK\x03\x04": "it looks like a zip or Excel file: export it as CSV",
}
NO_PYARROW = (
    "reading Parquet needs pyarrow, a dependency of scurve: pip install pyarrow"
)


# ------------------------------------------------------------------ reading


def is_dask(data: Any) -> bool:
    """Whether `data` is a Dask DataFrame (checked without importing Dask,
    or :mod:`scurve.scale`, which fits it)."""
    module = type(data).__module__ or ""
    return module.split(".")[0] == "dask" and hasattr(data, "map_partitions")


def read_table(
    source: str | os.PathLike[str] | pd.DataFrame | IO[Any],
    *,
    name: str | None = None,
) -> pd.DataFrame:
    """Read a table from a CSV/TSV/Parquet file, standard input or a stream.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or file object
        A path; ``"-"`` for standard input; an open text or binary stream;
        or a DataFrame, returned as it is (with `name` recorded, if given).
        A path ending in ``.parquet`` or ``.pq``, or a directory, is read as
        Parquet; anything else as delimited text: UTF-8 (a byte-order mark is
        allowed, gzip-compressed too), delimiter ``.tsv`` → tab, otherwise
        guessed from the first 64 KiB among comma, tab, semicolon, ``|`` and
        runs of spaces, falling back to comma.
    name : str, optional
        What to call the table in messages. Default: the path as given,
        ``<stdin>``, or the stream's name.

    Returns
    -------
    pandas.DataFrame
        Columns named as written in the header (surrounding spaces and quotes
        removed), numbers parsed (surrounding spaces allowed, ``NA``, ``NaN``
        and empty cells are missing), surrounding spaces removed from text
        cells. ``df.attrs["source"]`` holds the name used in messages and,
        for text, ``df.attrs["lines"]`` the line number of each row.

    Raises
    ------
    InputError
        The file is missing, unreadable, empty, a header without rows, not
        UTF-8, has a row with the wrong number of fields, names a column
        twice, or is Parquet while pyarrow is missing. The message starts
        with the file's name.

    Examples
    --------
    >>> import io
    >>> from scurve.io import read_table
    >>> df = read_table(io.StringIO("dose; response\\n0; 1.5\\n10; 0.25\\n"))
    >>> df.columns.tolist(), df["response"].tolist()
    (['dose', 'response'], [1.5, 0.25])
    """
    import pandas as pd

    if isinstance(source, pd.DataFrame):
        if name is None:
            return source
        table = source.copy(deep=False)
        table.attrs["source"] = name
        return table
    if hasattr(source, "read"):
        label = name or str(getattr(source, "name", "<stream>"))
        return _read_text(source.read(), label)
    if not (isinstance(source, str) and source == "-"):
        path = Path(source)
        if path.is_dir() or path.suffix.lower() in PARQUET_SUFFIXES:
            return _read_parquet(path, name or str(source))
    label, data = _read_source(source, name)
    tab = ".tsv" in (s.lower() for s in Path(str(source)).suffixes)
    return _read_text(data, label, delimiter="\t" if tab else None)


def _read_source(source: str | os.PathLike[str], name: str | None) -> tuple[str, bytes]:
    """(label, bytes) of a file, or of standard input for ``"-"``."""
    if isinstance(source, str) and source == "-":
        stdin = getattr(sys.stdin, "buffer", sys.stdin)
        data = stdin.read()
        return name or "<stdin>", data.encode() if isinstance(data, str) else data
    label = name or os.fspath(source)
    try:
        return label, Path(source).read_bytes()
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except PermissionError:
        raise InputError(f"{label}: permission denied") from None
    except IsADirectoryError:
        raise InputError(f"{label}: is a directory, not a file") from None
    except OSError as exc:
        raise InputError(f"{label}: cannot read it ({exc.strerror or exc})") from None


def read_text(source: str | os.PathLike[str], *, name: str | None = None) -> str:
    """The text of a file (UTF-8, with or without BOM, maybe gzipped), or of
    standard input for ``"-"``.

    Raises
    ------
    InputError
        Missing, unreadable or not UTF-8, with the file's name first.
    """
    label, data = _read_source(source, name)
    return _decode(data, label)


def _unpacked(data: bytes | str, label: str) -> bytes:
    """The bytes of `data`: gunzipped, without a UTF-8 byte-order mark."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff").encode()
    if data.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{label}: a damaged gzip file ({exc})") from None
    return data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data


def _decode(data: bytes | str, label: str) -> str:
    """`data` as text: UTF-8, with or without a byte-order mark, maybe gzipped."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    raw = _unpacked(data, label)
    bom = len(data) - len(raw) if not data.startswith(b"\x1f\x8b") else 0
    data = raw
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        line = data.count(b"\n", 0, exc.start) + 1
        hint = next((h for m, h in MAGIC_HINTS.items() if data.startswith(m)), None)
        raise InputError(
            f"{label}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset "
            f"{offset}, line {line}); " + (hint or "save it as UTF-8")
        ) from None


def _sniff(text: str) -> str:
    """The delimiter of `text`: one of :data:`DELIMITERS`, comma if unsure.

    A space stands for any run of whitespace: columns aligned with a mix of
    spaces and tabs, which :class:`csv.Sniffer` does not recognize, are
    whitespace-delimited when every line has the same number of fields.
    """
    sample = text[:SNIFF_CHARS]
    if len(text) > SNIFF_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=DELIMITERS).delimiter
    except csv.Error:
        widths = {len(line.split()) for line in sample.splitlines() if line.strip()}
        return " " if len(widths) == 1 and widths.pop() > 1 else ","


def _records(text: str, delimiter: str) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of each non-blank record of `text`.

    Runs of spaces and tabs are one delimiter when `delimiter` is a space,
    and leading and trailing spaces never make a field, as in pandas.
    """
    space = delimiter == " "
    lines = (
        line.strip().replace("\t", " ") if space else line.strip()
        for line in io.StringIO(text, newline="")  # \n, \r\n or \r only
    )
    reader = csv.reader(lines, delimiter=delimiter, skipinitialspace=True)
    start = 1
    try:
        for fields in reader:
            if fields:
                yield start, fields
            start = reader.line_num + 1
    except csv.Error as exc:
        raise csv.Error(f"line {reader.line_num}: {exc}") from None


def _clean_name(name: str) -> str:
    return name.strip().strip("\"'").strip()


def _read_text(
    data: bytes | str, label: str, delimiter: str | None = None
) -> pd.DataFrame:
    """Parse a delimited text table; see :func:`read_table`."""
    import pandas as pd

    raw = _unpacked(data, label)
    if not raw.strip():
        raise InputError(f"{label}: the file is empty")
    head = raw[: 4 * SNIFF_CHARS].decode("utf-8", errors="ignore")
    delimiter = delimiter or _sniff(head)
    fast = _read_arrow(raw, delimiter, label)
    if fast is not None:
        return fast
    text = _decode(data, label)
    # One pass with the csv module checks the shape and numbers the rows as
    # an editor would; pandas' own parser then fills the columns.
    records = _records(text, delimiter)
    try:
        _, header = next(records)
        names = [_clean_name(f) for f in header]
        lines = []
        for line, fields in records:
            if len(fields) != len(names):
                raise InputError(
                    f"{label}: line {line} has {len(fields)} fields, "
                    f"the header has {len(names)}"
                )
            lines.append(line)
    except csv.Error as exc:
        raise InputError(f"{label}: {exc}") from None
    for i, col in enumerate(names):
        if col in names[:i]:
            raise InputError(
                f"{label}: the header names the column {col!r} twice "
                f"(fields {names.index(col) + 1} and {i + 1})"
            )
    if not lines:
        raise InputError(f"{label}: no data rows (only a header: {', '.join(names)})")
    try:
        table = pd.read_csv(
            io.StringIO(text),
            sep=r"\s+" if delimiter == " " else delimiter,
            skipinitialspace=True,
            header=0,
            names=names,
            low_memory=False,  # one type per column, not one per chunk
        )
    except ValueError as exc:  # pandas' ParserError is one
        message = " ".join(str(exc).split())
        raise InputError(f"{label}: cannot parse it as a table ({message})") from None
    for col in table.columns:
        if pd.api.types.is_string_dtype(table[col]):
            table[col] = table[col].str.strip()
    table.attrs["source"] = label
    n = len(table)
    if len(lines) == n:
        # A tuple, not an array: pandas compares attrs with == (concat).
        table.attrs["lines"] = range(2, n + 2) if lines[-1] == n + 1 else tuple(lines)
    return table


#: Cells read as missing, as pandas' ``read_csv`` reads them.
NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


def _read_arrow(raw: bytes, delimiter: str, label: str) -> pd.DataFrame | None:
    """The table of UTF-8 `raw` by pyarrow's CSV reader (in C, on every
    core: 2.4 million rows in under a second), or None where it cannot give
    what :func:`_read_text` gives, which then reads it with its checks: no
    pyarrow, runs of spaces as the delimiter, a row of the wrong length, a
    repeated column name, no rows, blank lines or newlines inside quotes (the
    rows' line numbers), or a column read as anything but numbers or text
    (dates, booleans: pandas reads them as text), an odd number of quotes
    (one not closed), bytes that are not UTF-8."""
    import pandas as pd

    if delimiter == " " or raw.count(b'"') % 2:
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    try:
        table = pacsv.read_csv(
            io.BytesIO(raw),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                null_values=list(NA_VALUES),
                strings_can_be_null=True,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    names = [_clean_name(name) for name in table.column_names]
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    rows = table.num_rows
    if len(set(names)) < len(names) or not rows or lines != rows + 1:
        return None
    columns = {}
    for name, column in zip(names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            column = pc.utf8_trim_whitespace(column)
        elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            if not pa.types.is_null(kind):  # an empty column is missing values
                return None
            column = pa.nulls(len(column), pa.float64())
        columns[name] = column
    frame = pa.table(columns).to_pandas(
        types_mapper={pa.string(): pd.StringDtype(na_value=float("nan"))}.get
    )
    frame.attrs["source"] = label
    frame.attrs["lines"] = range(2, table.num_rows + 2)
    return frame


def _read_parquet(path: Path, label: str) -> pd.DataFrame:
    """Read a Parquet file or dataset directory; see :func:`read_table`."""
    import pandas as pd

    if path.is_dir() and not any(
        p.suffix.lower() in PARQUET_SUFFIXES or p.name == "_metadata"
        for p in path.rglob("*")
    ):
        raise InputError(f"{label}: a directory with no Parquet files in it")
    if not path.exists():
        raise InputError(f"{label}: no such file")
    try:
        table = pd.read_parquet(path)
    except ImportError:
        raise InputError(f"{label}: {NO_PYARROW}") from None
    except PermissionError:
        raise InputError(f"{label}: permission denied") from None
    except (OSError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise InputError(f"{label}: not a readable Parquet file ({message})") from None
    table.attrs["source"] = label
    return table


# ------------------------------------------------------------------ columns


def _prefix(df: pd.DataFrame) -> str:
    """``"data.csv: "`` for a table read from a file, else nothing."""
    source = df.attrs.get("source")
    return f"{source}: " if source else ""


def _row(df: pd.DataFrame, label: Any) -> str:
    """``"row 7"``: the line number in the file, else the index label; a
    table that says where its rows came from (``df.attrs["rows"]``, a
    callable of the label, as a Dask partition does) says that."""
    where = df.attrs.get("rows")
    if callable(where):
        return where(label)
    lines = df.attrs.get("lines")
    if lines is not None and isinstance(label, Integral) and 0 <= label < len(lines):
        return f"row {lines[label]}"
    return f"row {label}"


def _did_you_mean(name: str, columns: Sequence[str]) -> str | None:
    """The column `name` was probably meant to be: same letters, or close."""
    by_lower = {c.lower(): c for c in reversed(columns)}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1)
    return by_lower[close[0]] if close else None


def column(
    df: pd.DataFrame, name: str, *, role: str = "column", numeric: bool = True
) -> pd.Series:
    """The column `name` of `df`, as float64 unless `numeric` is False.

    Parameters
    ----------
    df : pandas.DataFrame
        A table, typically from :func:`read_table` (which records the file
        name and line numbers that messages use).
    name : str
        The column's name, exactly as in the header.
    role : str, optional
        What the column is, as messages call it: ``"column"`` (default),
        ``"x column"``, ``"weights column"`` ...
    numeric : bool, optional
        Convert to float64 (default), or return the column as it is.

    Returns
    -------
    pandas.Series
        Float64 when `numeric`, with missing values as NaN; strings such as
        ``" 3.5"``, ``"1e-3"``, ``"NaN"``, ``"inf"``, ``"-inf"`` and ``""``
        (missing) are numbers.

    Raises
    ------
    InputError
        No such column (the message suggests a close name and lists them
        all), or, when `numeric`, a value that is not a number (the message
        names its row).

    Examples
    --------
    >>> import io
    >>> from scurve.io import column, read_table
    >>> df = read_table(io.StringIO("Dose,y\\n1,2\\n"), name="data.csv")
    >>> column(df, "dose")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    scurve.errors.InputError: data.csv: no column 'dose' (did you mean 'Dose'?); ...
    """
    import numpy as np
    import pandas as pd

    if name not in df.columns:
        columns = [str(c) for c in df.columns]
        guess = _did_you_mean(name, columns)
        hint = f" (did you mean {guess!r}?)" if guess else ""
        listed = ", ".join(columns) if columns else "(none)"
        raise InputError(
            f"{_prefix(df)}no {role} {name!r}{hint}; the columns are: {listed}"
        )
    values = df[name]
    if isinstance(values, pd.DataFrame):
        raise InputError(f"{_prefix(df)}the table has two columns named {name!r}")
    if not numeric:
        return values
    if values.dtype.kind in "iuf":  # also the nullable Int64, Float64
        return values.astype(np.float64)
    # Text (or objects): pandas converts most; each value it cannot is tried
    # with float(), which also takes " 3.5", "infinity"; "" is missing.
    # Booleans, dates and complex numbers are not numbers.
    converted = np.full(len(values), np.nan)
    if values.dtype.kind == "O":
        with contextlib.suppress(TypeError, ValueError):
            numbers = pd.to_numeric(values, errors="coerce")
            converted = np.asarray(numbers, dtype=np.float64).copy()
    for i in np.flatnonzero(np.isnan(converted) & values.notna().to_numpy()):
        value = values.iloc[i]
        text = value.strip() if isinstance(value, str) else value
        try:
            if isinstance(text, bool | np.bool_ | complex | np.complexfloating):
                raise TypeError
            converted[i] = float(text) if text != "" else np.nan
        except (TypeError, ValueError):
            row = _row(df, values.index[i])
            shown = repr(value) if isinstance(value, str) else str(value)
            raise InputError(
                f"{_prefix(df)}{role} {name!r}, {row}: {shown} is not a number"
            ) from None
    return pd.Series(converted, index=values.index, name=name)


# ------------------------------------------------------------------ selecting


@dataclass
class Selection:
    """The clean rows of a table, with the columns a fit needs.

    Attributes
    ----------
    frame : pandas.DataFrame
        Columns ``x``, ``y``, ``weights`` (the residual multipliers, see
        :func:`weights_to_multipliers`) and ``trials`` when asked for, then
        the group keys under their own names; only rows without missing or
        infinite values; the original index, and the table's ``attrs``.
    dropped : int
        How many rows were dropped for missing or infinite values.
    notes : list of str
        What the reader should know, e.g. ``"data.csv: dropped 3 rows with
        missing or infinite values (first: row 5, column 'dose')"``.
    keys : list of str
        The group key columns (none for one curve).
    """

    frame: pd.DataFrame
    dropped: int = 0
    notes: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)

    def groups(self) -> list[tuple]:
        """The groups' key tuples, in the order they are fitted (that of
        :func:`split_groups`); ``[()]`` for one curve."""
        if not self.keys:
            return [()]
        return _group_order(self.frame, self.keys)[0]


def weights_to_multipliers(
    values: ArrayLike, kind: WeightsKind = "sigma", *, where: str = "weights"
) -> np.ndarray:
    r"""Convert per-point uncertainties into lmfit's residual multipliers.

    lmfit minimizes :math:`\sum_i (m_i (y_i - f(x_i)))^2`, where :math:`m_i`
    is its ``weights`` argument. For a point with standard deviation
    :math:`\sigma_i` the right multiplier is :math:`m_i = 1/\sigma_i`, so

    ``"sigma"``
        the values are standard deviations :math:`\sigma_i`;
        :math:`m_i = 1/\sigma_i`.
    ``"variance"``
        the values are variances :math:`\sigma_i^2`;
        :math:`m_i = 1/\sqrt{\sigma_i^2}`.
    ``"weight"``
        the values are the weights :math:`w_i \propto 1/\sigma_i^2` of
        weighted least squares, :math:`\sum_i w_i (y_i - f(x_i))^2`, as R's
        ``nls(weights=)`` (inverse variances; ``1/y**2`` is GraphPad Prism's
        "weight by 1/Y^2"); :math:`m_i = \sqrt{w_i}`.

    Weights known only up to a factor are fine when the covariance is scaled
    by the reduced chi-square (lmfit's default, ``scale_covar=True``):
    standard errors then do not depend on the factor; the chi-square does.

    Parameters
    ----------
    values : array_like
        Finite, positive numbers.
    kind : {"sigma", "variance", "weight"}, optional
        What `values` are. Default ``"sigma"``.
    where : str, optional
        How messages name `values`, e.g. ``"data.csv: weights column 'sd'"``.

    Returns
    -------
    numpy.ndarray
        Float64 multipliers, one per value.

    Raises
    ------
    InputError
        A value that is not positive or not finite (a zero weight would still
        count as a point in the degrees of freedom: drop the row instead), or
        an unknown `kind`.

    Examples
    --------
    >>> from scurve.io import weights_to_multipliers
    >>> weights_to_multipliers([0.5, 2.0]).tolist()
    [2.0, 0.5]
    >>> weights_to_multipliers([4.0], "variance").tolist(), weights_to_multipliers(
    ...     [4.0], "weight").tolist()
    ([0.5], [2.0])
    """
    import numpy as np

    if kind not in ("sigma", "variance", "weight"):
        raise InputError(
            f"weights kind must be 'sigma', 'variance' or 'weight', not {kind!r}"
        )
    w = np.asarray(values, dtype=np.float64)
    bad = np.flatnonzero(~(np.isfinite(w) & (w > 0)))
    if bad.size:
        i = int(bad[0])
        raise InputError(
            f"{where}: item {i} is {w.flat[i]:g}; a {kind} must be finite and > 0"
        )
    if kind == "sigma":
        return 1.0 / w
    if kind == "variance":
        return 1.0 / np.sqrt(w)
    return np.sqrt(w)


#: Names of the key and value columns of a plate turned long.
WELL, VALUE = "well", "value"


def wide_to_long(df: pd.DataFrame, x: str, *, keep: Sequence[str] = ()) -> pd.DataFrame:
    """A plate-reader table (a time column, one column per well) as a long one.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per reading time: the `x` column, then one numeric column per
        well (any names).
    x : str
        The time (x) column.
    keep : sequence of str
        Columns that are not wells but are carried along on every row (a
        blank well subtracted per time point, say).

    Returns
    -------
    pandas.DataFrame
        Columns `x`, ``well`` (the well's column name, in the table's
        order), ``value`` and the `keep` columns; well by well.

    Raises
    ------
    InputError
        No `x` column, no well column, or a well with text in it (the message
        names the well and the row).

    Examples
    --------
    >>> import io
    >>> plate = read_table(io.StringIO("time,A1,A2\\n0,0.1,0.2\\n1,0.3,0.4\\n"))
    >>> long = wide_to_long(plate, "time")
    >>> long["well"].tolist(), long["value"].tolist()
    (['A1', 'A1', 'A2', 'A2'], [0.1, 0.3, 0.2, 0.4])
    """
    import pandas as pd

    times = column(df, x, role="time column")
    extra = {name: column(df, name, role="column") for name in keep}
    wells = [c for c in df.columns if c != x and c not in extra]
    if not wells:
        raise InputError(
            f"{_prefix(df)}a wide table needs well columns besides {x!r}: "
            f"it has only {', '.join(map(repr, df.columns))}"
        )
    parts = []
    for well in wells:
        values = column(df, str(well), role="well column")
        part = pd.DataFrame({x: times, WELL: str(well), VALUE: values, **extra})
        parts.append(part)
    long = pd.concat(parts, ignore_index=True)
    long.attrs.update(df.attrs)
    long.attrs.pop("lines", None)  # row numbers of the wide table no longer apply
    return long


def subtract_blank(
    df: pd.DataFrame, blank: str | float, y: str, keys: Sequence[str] = ()
) -> pd.DataFrame:
    """The table with its response column `y` background-corrected.

    Parameters
    ----------
    df : pandas.DataFrame
        A table with the response column `y` (and the `keys`).
    blank : "min", str or float
        ``"min"``: each group's smallest response (growthcurver's default
        background correction); a number: subtracted everywhere; any other
        string: the name of a column holding the blank reading of each row (a
        media-only well, measured at the same times).
    y : str
        The response column.
    keys : sequence of str
        The group columns (for ``"min"``).

    Returns
    -------
    pandas.DataFrame
        A copy with `y` as float64. Negative corrected values are kept: they
        are noise around zero, and clipping them would bias the fit.

    Raises
    ------
    InputError
        A missing column or text in `y` or the blank column.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"t": [0, 1, 0, 1], "od": [1.0, 3.0, 2.0, 5.0],
    ...                   "well": ["a", "a", "b", "b"]})
    >>> subtract_blank(f, "min", "od", ["well"])["od"].tolist()
    [0.0, 2.0, 0.0, 3.0]
    >>> subtract_blank(f, 0.5, "od")["od"].tolist()
    [0.5, 2.5, 1.5, 4.5]
    """
    values = column(df, y, role="y column")
    if isinstance(blank, str) and blank == "min":
        groups = [df[k] for k in keys]
        low = (
            values.groupby(groups, dropna=False).transform("min")
            if keys
            else values.min()
        )
    elif isinstance(blank, str):
        low = column(df, blank, role="blank column")
    else:
        low = float(blank)
    out = df.copy()
    out[y] = values - low
    return out


def select(
    df: pd.DataFrame,
    *,
    x: str,
    y: str,
    by: str | Sequence[str] | None = (),
    weights: str | None = None,
    trials: str | None = None,
    nan: Literal["drop", "error"] = "drop",
    positive_x: bool = False,
    weights_kind: WeightsKind = "sigma",
) -> Selection:
    """Pick and check the columns of a fit: x, y, group keys, weights, trials.

    Parameters
    ----------
    df : pandas.DataFrame
        The table, typically from :func:`read_table`.
    x, y : str
        Names of the numeric x and y columns.
    by : str or sequence of str, optional
        Group key columns, of any type. Rows with a missing key are kept (a
        group of their own).
    weights : str, optional
        A column of per-point uncertainties, of the kind `weights_kind` says;
        stored as the residual multiplier (:func:`weights_to_multipliers`).
    trials : str, optional
        A column of numbers of trials (binomial data); must be > 0. `y` then
        counts the responders: whole numbers from 0 to trials.
    nan : {"drop", "error"}, optional
        Rows with a missing or infinite x, y, weight or trials are dropped
        and counted in a note (default), or an error.
    positive_x : bool, optional
        Refuse negative x (doses); zero is allowed.
    weights_kind : {"sigma", "variance", "weight"}, optional
        What the `weights` column holds. Default ``"sigma"``.

    Returns
    -------
    Selection

    Raises
    ------
    InputError
        A missing or non-numeric column, a missing or infinite value when
        `nan` is ``"error"``, a negative x when `positive_x`, or a weight or
        trials value that is not positive (checked on the rows kept); with
        `trials`, counts that are not whole or responders above trials.

    Notes
    -----
    Too few points, all x equal and constant y are not errors here: the
    fitting engine reports them per group.

    Examples
    --------
    >>> import io
    >>> from scurve.io import read_table, select
    >>> df = read_table(io.StringIO("t,n\\n0,1\\n1,\\n2,4\\n"), name="g.csv")
    >>> sel = select(df, x="t", y="n")
    >>> sel.frame["y"].tolist()
    [1.0, 4.0]
    >>> print(*sel.notes)
    g.csv: dropped 1 row with missing or infinite values (first: row 3, column 'n')
    """
    import numpy as np
    import pandas as pd

    keys = list(dict.fromkeys([by] if isinstance(by, str) else by or ()))
    numbers = {"x": (x, "x column"), "y": (y, "y column")}
    if weights is not None:
        numbers["weights"] = (weights, "weights column")
    if trials is not None:
        numbers["trials"] = (trials, "trials column")
    for key in keys:
        if key in numbers:
            raise InputError(
                f"{_prefix(df)}cannot group by a column named {key!r}: "
                "the name is taken by the fitted data; rename the column"
            )
    frame = pd.DataFrame(
        {out: column(df, name, role=role) for out, (name, role) in numbers.items()}
    )
    for key in keys:
        frame[key] = column(df, key, role="group column", numeric=False)
    frame.attrs.update(df.attrs)

    finite = np.isfinite(frame[list(numbers)].to_numpy())
    keep = finite.all(axis=1)
    dropped = int(keep.size - keep.sum())
    notes = []
    if dropped:
        i = int(np.argmin(keep))
        out = list(numbers)[int(np.argmin(finite[i]))]
        name, role = numbers[out]
        row = _row(df, frame.index[i])
        if nan == "error":
            value = frame[out].iloc[i]
            what = "missing value" if np.isnan(value) else f"infinite value {value}"
            raise InputError(f"{_prefix(df)}{role} {name!r}, {row}: {what}")
        rows = "row" if dropped == 1 else "rows"
        notes.append(
            f"{_prefix(df)}dropped {dropped} {rows} with missing or infinite "
            f"values (first: {row}, column {name!r})"
        )
        frame = frame[keep]

    def first_bad(out: str, bad: np.ndarray) -> str:
        i = int(np.argmax(bad))
        name, role = numbers[out]
        value = frame[out].iloc[i]
        return f"{_prefix(df)}{role} {name!r}, {_row(df, frame.index[i])}: {value:g}"

    if positive_x and (bad := frame["x"].to_numpy() < 0).any():
        raise InputError(f"{first_bad('x', bad)} is negative; x must be >= 0")
    if weights is not None:
        if (bad := frame["weights"].to_numpy() <= 0).any():
            raise InputError(
                f"{first_bad('weights', bad)} is not positive; "
                f"a {weights_kind} must be > 0"
            )
        frame["weights"] = weights_to_multipliers(frame["weights"], weights_kind)
    if trials is not None and (bad := frame["trials"].to_numpy() <= 0).any():
        raise InputError(
            f"{first_bad('trials', bad)} is not positive; trials must be > 0"
        )
    if trials is not None:
        _check_counts(frame, first_bad)
    return Selection(frame=frame, dropped=dropped, notes=notes, keys=keys)


def _check_counts(frame: pd.DataFrame, first_bad: Callable[..., str]) -> None:
    """Binomial counts: whole trials, whole responders (y) in [0, trials]."""
    import numpy as np

    k, n = frame["y"].to_numpy(), frame["trials"].to_numpy()
    for out, values in (("trials", n), ("y", k)):
        if (bad := values != np.rint(values)).any():
            raise InputError(
                f"{first_bad(out, bad)} is not a whole number; with trials, "
                "the response counts responders of trials"
            )
    if (bad := k < 0).any():
        raise InputError(f"{first_bad('y', bad)} is negative; responders must be >= 0")
    if (bad := k > n).any():
        i = int(np.argmax(bad))
        raise InputError(
            f"{first_bad('trials', bad)} is less than the {k[i]:g} responders; "
            "trials must be >= responders"
        )


# ------------------------------------------------------------------ writing


def _create_temporary(path: Path) -> tuple[Path, int]:
    """Create a new hidden file beside `path`; return it and its descriptor.

    Made with ``os.open(..., 0o666)`` rather than :mod:`tempfile` so that the
    final file gets the umask's usual permissions, not 0o600.
    """
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        return tmp, fd


def _check_directory(path: str | os.PathLike[str]) -> None:
    """Refuse to write `path` when its directory does not exist."""
    parent = Path(path).parent
    if not parent.exists():
        raise InputError(
            f"{os.fspath(path)}: the directory {str(parent)!r} does not exist"
        )
    if not parent.is_dir():
        raise InputError(f"{os.fspath(path)}: {str(parent)!r} is not a directory")


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open `path` for writing so that it appears whole or not at all.

    The stream writes to a new temporary file beside `path`; when the
    ``with`` block ends normally the file is flushed, synced to disk and
    moved over `path` with :func:`os.replace` (atomic on POSIX and Windows).
    When the block raises, the temporary file is removed and `path` is left
    as it was.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write; its directory must exist.
    mode : {"w", "wb"}, optional
        Text (default) or binary.
    encoding : str, optional
        Of a text stream; default UTF-8. Ignored in binary mode.

    Yields
    ------
    file object
        The stream to write to.

    Raises
    ------
    InputError
        The directory of `path` does not exist, or is not a directory.
    OSError
        The file cannot be written (permissions, a directory in the way,
        a full disk ...).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from scurve.io import atomic_write
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     target = pathlib.Path(tmp) / "notes.txt"
    ...     with atomic_write(target) as stream:
    ...         _ = stream.write("all or nothing\\n")
    ...     target.read_text()
    'all or nothing\\n'
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb', not {mode!r}")
    _check_directory(path)
    path = Path(path)
    tmp, fd = _create_temporary(path)
    try:
        binary = mode == "wb"
        with os.fdopen(fd, mode, encoding=None if binary else encoding) as stream:
            yield stream
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def check_output(
    path: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    force: bool = False,
) -> Path:
    """Check that `path` may be written, before any work is done.

    Parameters
    ----------
    path : str or os.PathLike
        The output file.
    inputs : sequence of str or os.PathLike, optional
        The files read (``"-"``, standard input, is ignored). An output that
        is one of them, by any spelling, symbolic or hard link, is refused
        even with `force`.
    force : bool, optional
        Allow replacing an existing file.

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    InputError
        `path` is an input, a directory, a device or pipe, exists (unless
        `force`), or its directory does not exist.

    Examples
    --------
    >>> from scurve.io import check_output
    >>> check_output("results.csv", inputs=["./results.csv"])
    Traceback (most recent call last):
    ...
    scurve.errors.InputError: results.csv: is an input file; refusing to overwrite it
    """
    label = os.fspath(path)  # as the user spelled it
    path = Path(path)
    for source in inputs:
        if os.fspath(source) == "-":
            continue
        same = Path(source).resolve() == path.resolve()
        with contextlib.suppress(OSError):
            same = same or os.path.samefile(source, path)
        if same:
            raise InputError(f"{label}: is an input file; refusing to overwrite it")
    if path.is_dir():
        raise InputError(f"{label}: is a directory")
    if path.exists() and not path.is_file():
        # the atomic write renames a new file over the target, which would
        # replace a device such as /dev/null, or a pipe, by a regular file
        raise InputError(
            f"{label}: not a regular file (a device or a pipe); refusing to replace it"
        )
    if path.exists() and not force:
        raise InputError(f"{label}: exists; use --force to overwrite")
    _check_directory(label)
    return path


def jsonable(obj: Any) -> Any:
    """`obj` made of JSON types: NaN as None, infinities as "inf" and "-inf".

    numpy scalars and arrays become numbers and lists, dates ISO strings and
    paths strings; anything else JSON cannot hold is a TypeError.
    """
    if obj is None or isinstance(obj, str | bool | int):
        return obj
    if isinstance(obj, float):
        if math.isfinite(obj):
            return float(obj)
        return None if math.isnan(obj) else ("inf" if obj > 0 else "-inf")
    if isinstance(obj, Mapping):
        return {
            (k.tolist() if hasattr(k, "tolist") else k): jsonable(v)
            for k, v in obj.items()
        }
    if hasattr(obj, "tolist"):  # numpy scalars and arrays, pandas Series
        return jsonable(obj.tolist())
    if isinstance(obj, list | tuple):
        return [jsonable(v) for v in obj]
    if isinstance(obj, datetime.date | datetime.time):
        return obj.isoformat()
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    raise TypeError(f"{type(obj).__name__} cannot be written as JSON: {obj!r}")


def _dumps(obj: Any) -> str:
    return json.dumps(jsonable(obj), indent=2, allow_nan=False) + "\n"


def write_json(
    obj: Any,
    path: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    force: bool = False,
) -> Path:
    """Write `obj` as strict JSON (RFC 8259), atomically.

    NaN becomes ``null`` and the infinities the strings ``"inf"`` and
    ``"-inf"`` (strict JSON has neither); numpy scalars and arrays become
    numbers and lists; dates become ISO 8601 strings.

    Parameters
    ----------
    obj : object
        Dicts, lists, numbers, strings, None, numpy values.
    path : str or os.PathLike
        The file to write.
    inputs, force
        As for :func:`check_output`.

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    InputError
        As :func:`check_output`.
    TypeError
        A value JSON cannot hold.
    """
    path = check_output(path, inputs=inputs, force=force)
    text = _dumps(obj)
    with atomic_write(path) as stream:
        stream.write(text)
    return path


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    force: bool = False,
) -> Path:
    """Write a table, atomically, in the format its extension names.

    ``.tsv``: tab-separated; ``.json``: a list of records (one object per
    row, NaN as ``null``, infinities as ``"inf"``/``"-inf"``, numbers at
    full precision); ``.parquet`` or ``.pq``: Parquet (needs pyarrow);
    anything else: CSV. Text tables are UTF-8, without the index; missing
    values are empty cells and numbers keep every digit.

    Parameters
    ----------
    df : pandas.DataFrame
        The table.
    path : str or os.PathLike
        The file to write.
    inputs, force
        As for :func:`check_output`.

    Returns
    -------
    pathlib.Path
        `path`.

    Raises
    ------
    InputError
        As :func:`check_output`; or Parquet without pyarrow.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> from scurve.io import read_table, write_table
    >>> df = pd.DataFrame({"group": ["a", "b"], "ec50": [1.25, float("nan")]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     out = write_table(df, pathlib.Path(tmp) / "fits.json")
    ...     print(out.read_text().replace("\\n", "").replace("  ", ""))
    [{"group": "a","ec50": 1.25},{"group": "b","ec50": null}]
    """
    path = check_output(path, inputs=inputs, force=force)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        try:
            with atomic_write(path, "wb") as stream:
                df.to_parquet(stream)
        except ImportError:
            message = NO_PYARROW.replace("reading", "writing")
            raise InputError(f"{path}: {message}") from None
    elif suffix == ".json":
        records = df.astype(object).where(df.notna(), None).to_dict("records")
        text = _dumps(records)
        with atomic_write(path) as stream:
            stream.write(text)
    else:
        text = delimited_text(df, "\t" if suffix == ".tsv" else ",")
        with atomic_write(path) as stream:
            stream.write(text)
    return path


# ------------------------------------------------------------------ fast text


def number_text(
    values: ArrayLike,
    *,
    nan: str = "",
    infinities: tuple[str, str] = ("inf", "-inf"),
    whole: bool = False,
) -> Any:
    """Numbers as text, each in the fewest digits that read back as the same
    float (in C, by pyarrow: millions a second, where Python's ``repr`` does
    a few hundred thousand), as a pyarrow string array. NaN as `nan`, the
    infinities as `infinities` (+inf, -inf); with `whole`, integral floats
    keep a ``.0``, as Python writes them."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = np.asarray(values)
    if array.dtype.kind in "iub":
        return pc.cast(pa.array(array.astype(np.int64)), pa.string())
    array = array.astype(np.float64, copy=False)
    numbers = pa.array(array, from_pandas=True)  # NaN as missing
    text = pc.cast(numbers, pa.string())  # inf and -inf as such
    if whole:
        with np.errstate(invalid="ignore"):
            integral = (array == np.round(array)) & (np.abs(array) < 1e16)
        if integral.any():
            dotted = pc.binary_join_element_wise(text, ".0", "")
            text = pc.if_else(pa.array(integral), dotted, text)
    negative_zero = (array == 0) & np.signbit(array)
    if negative_zero.any():  # "-0" would read back as the integer 0
        text = pc.if_else(pa.array(negative_zero), "-0.0", text)
    if numbers.null_count:
        text = pc.fill_null(text, nan)
    if infinities != ("inf", "-inf") and np.isinf(array).any():
        text = pc.if_else(pa.array(np.isposinf(array)), infinities[0], text)
        text = pc.if_else(pa.array(np.isneginf(array)), infinities[1], text)
    return text


#: What JSON text escapes in an ASCII string: quotes, backslashes and
#: control characters (RE2 syntax).
_ESCAPED = r'["\\\x00-\x1f]'


def json_cells(values: Sequence[Any]) -> Any:
    """Each value as JSON text, ``json.dumps(jsonable(v))``, as a pyarrow
    string array: text and numbers in C (a column of 10^5 keys in a few
    milliseconds), anything else value by value."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        array = pa.array(values, from_pandas=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError):
        array = None
    if array is not None and array.null_count == 0:
        kind = array.type
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            plain = pc.all(pc.string_is_ascii(array)).as_py()
            if plain and not pc.any(pc.match_substring_regex(array, _ESCAPED)).as_py():
                return pc.binary_join_element_wise('"', array, '"', "")
            # escapes needed: each distinct value dumped once
            encoded = array.dictionary_encode()
            texts = [json.dumps(v) for v in encoded.dictionary.to_pylist()]
            return pa.array(texts, type=pa.string()).take(encoded.indices)
        if pa.types.is_integer(kind) and all(type(v) is not bool for v in values):
            return number_text(array.to_numpy())
        if pa.types.is_floating(kind) and all(type(v) is float for v in values):
            return number_text(
                array.to_numpy(), nan="null", infinities=('"inf"', '"-inf"'), whole=True
            )
    return pa.array([json.dumps(jsonable(v)) for v in values], type=pa.string())


def _quoted_cells(values: Any, sep: str) -> Any:
    """Text cells of a delimited table: empty for missing, quoted (quotes
    doubled) where a cell holds the delimiter, a quote or a line break."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:  # text as it is (missing as empty) in C; other objects by str()
        text = pc.fill_null(pa.array(values, type=pa.string(), from_pandas=True), "")
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        cells = [
            "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
            for v in values
        ]
        text = pa.array(cells, type=pa.string())
    special = pc.match_substring_regex(text, f'[{re.escape(sep)}"\n\r]')
    if not pc.any(special).as_py():
        return text
    quoted = pc.binary_join_element_wise(
        '"', pc.replace_substring(text, '"', '""'), '"', ""
    )
    return pc.if_else(special, quoted, text)


def delimited_text(df: pd.DataFrame, sep: str = ",") -> str:
    """A table as CSV (or TSV) text, as pandas writes it but in C for the
    numbers: no index, missing values as empty cells, numbers in the fewest
    digits that read back as the same float, booleans ``True``/``False``,
    text quoted only where it must be."""
    import pyarrow as pa
    import pyarrow.compute as pc

    header = sep.join(str(v) for v in _quoted_cells(list(df.columns), sep).to_pylist())
    if not len(df):
        return header + "\n"

    def cells(name: Any) -> Any:
        column = df[name]
        kind = column.dtype.kind
        if kind == "b":
            return pc.if_else(pa.array(column.to_numpy()), "True", "False")
        if kind in "iuf":
            return number_text(column.to_numpy(), whole=kind == "f")
        return _quoted_cells(column, sep)

    # the columns are formatted on every core (pyarrow lets go of the GIL)
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        columns = list(pool.map(cells, df.columns))
    rows = pc.binary_join_element_wise(*columns, sep)
    return header + "\n" + "\n".join(rows.to_pylist()) + "\n"


# ------------------------------------------------------------------ groups


def split_groups(
    frame: pd.DataFrame, keys: Sequence[str], columns: Sequence[str]
) -> dict[tuple, tuple[NDArray, ...]]:
    """Group key tuple -> the group's `columns` as arrays, in order of first
    appearance (``frame.groupby(keys, sort=False, dropna=False)``'s groups,
    without building a frame per group: one stable sort and a split, so
    that a screen of 10^5 groups is cut in well under a second). Where
    each group's rows are already together, as screens write them, the
    groups are those runs of rows, found by comparing neighbours, with no
    grouping or sort at all."""
    if not len(frame):
        return {}
    names, cuts, order = _group_order(frame, keys)
    return _cut(frame, columns, names, cuts, order)


def _group_order(
    frame: pd.DataFrame, keys: Sequence[str]
) -> tuple[list[tuple], NDArray[np.intp], NDArray[np.intp] | None]:
    """The groups' key tuples in order of first appearance, where their rows
    are cut, and the order of the rows (None: as they are, the groups being
    runs of rows)."""
    import numpy as np

    if not len(frame):
        return [], np.array([], dtype=np.intp), None
    runs = run_starts(frame, keys)
    names = _key_values(frame, keys, runs)
    # no key comes back (NaN keys, unequal to themselves in a set, are left
    # to groupby): the runs are the groups
    if len(set(names)) == len(names) and not any(frame[k].hasnans for k in keys):
        return names, runs[1:], None
    codes = frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    order = np.argsort(codes, kind="stable")
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    names = _key_values(frame, keys, order[np.concatenate([[0], cuts])])
    return names, cuts, order


def _key_values(
    frame: pd.DataFrame, keys: Sequence[str], rows: NDArray[np.intp]
) -> list[tuple]:
    """The keys of `rows` as tuples of Python values, column by column
    (``tolist`` converts in C)."""
    return list(zip(*(frame[k].iloc[rows].tolist() for k in keys), strict=True))


def _cut(
    frame: pd.DataFrame,
    columns: Sequence[str],
    names: list[tuple],
    cuts: NDArray[np.intp],
    order: NDArray[np.intp] | None,
) -> dict[tuple, tuple[NDArray, ...]]:
    """Key -> its slices of `columns`, the rows in `order` (None: as they
    are, copied) cut at `cuts` (np.split's views, at a fifth of its cost)."""
    bounds = list(zip([0, *cuts.tolist()], [*cuts.tolist(), len(frame)], strict=True))
    parts = []
    for c in columns:
        column = frame[c].to_numpy()
        column = column.copy() if order is None else column[order]
        parts.append([column[a:b] for a, b in bounds])
    return dict(zip(names, zip(*parts, strict=True), strict=True))


def run_starts(frame: pd.DataFrame, keys: Sequence[str]) -> NDArray[np.intp]:
    """The first row of each run of equal `keys` (missing values equal each
    other). Numbers, dates, categories and Arrow strings compare with their
    neighbours in bulk; Python objects and columns with missing values are
    compared through their codes (``pd.factorize``, a quarter as fast)."""
    import numpy as np
    import pandas as pd

    change = np.zeros(len(frame), dtype=bool)
    change[:1] = True
    for k in keys:
        column = frame[k]
        if column.dtype == object or column.hasnans:
            codes = pd.factorize(column, use_na_sentinel=False)[0]
            change[1:] |= codes[1:] != codes[:-1]
        else:
            values = column.array
            change[1:] |= np.asarray(values[1:] != values[:-1], dtype=bool)
    return np.flatnonzero(change)
