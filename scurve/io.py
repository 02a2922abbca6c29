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
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from numbers import Integral
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal

from scurve.errors import InputError, OptionError

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import ArrayLike, NDArray

__all__ = [
    "InputError",
    "Selection",
    "TableFormat",
    "atomic_write",
    "available_cores",
    "check_output",
    "check_outputs",
    "column",
    "delimited_text",
    "jsonable",
    "number_text",
    "output_file",
    "plate_wells",
    "read_table",
    "read_text",
    "select",
    "split_groups",
    "subtract_blank",
    "table_format",
    "weights_to_multipliers",
    "well_position",
    "wide_to_long",
    "write_json",
    "write_table",
    "write_text",
]

WeightsKind = Literal["sigma", "variance", "weight"]

PARQUET_SUFFIXES = (".parquet", ".pq")
#: Excel workbooks read (through openpyxl): the Office Open XML kinds.
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xltx", ".xltm")
#: Spreadsheets that are not read, by extension: what they are.
OTHER_WORKBOOKS = {
    ".xls": "an old Excel workbook (.xls)",
    ".xlsb": "a binary Excel workbook (.xlsb)",
    ".ods": "an OpenDocument spreadsheet (.ods)",
    ".numbers": "an Apple Numbers document (.numbers)",
}
#: How many characters of a text table the delimiter is guessed from.
SNIFF_CHARS = 64 * 1024
DELIMITERS = ",\t;| "
#: The signature of an old (OLE2) Office file: .xls, or an encrypted .xlsx.
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
#: File signatures worth a hint when a "text" table is not text.
MAGIC_HINTS = {
    b"PAR1": "it looks like Parquet: give it the extension .parquet",
    b"PK\x03\x04": "it looks like a zip or Excel file: export it as CSV",
    OLE2: "it looks like an old Excel workbook (.xls): save it as .xlsx or CSV",
}
#: Byte-order marks and the encodings they announce (UTF-32's first: its
#: little-endian mark begins with UTF-16's).
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
#: Excel's first line naming the delimiter, ``sep=;``.
_SEP_LINE = re.compile(rb"\Asep=([^\r\n])\r?\n", re.IGNORECASE)
#: A number written with a decimal comma (``1,5``, ``-2,5e-3``), or point.
_COMMA_NUMBER = r"[-+]?\d+,\d+(?:[eE][-+]?\d+)?"
_POINT_NUMBER = r"[-+]?\d*\.\d+(?:[eE][-+]?\d+)?"
NO_PYARROW = (
    "reading Parquet needs pyarrow, a dependency of scurve: pip install pyarrow"
)
NO_OPENPYXL = (
    "reading Excel workbooks needs openpyxl, a dependency of scurve: "
    "pip install openpyxl"
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
    text: Sequence[str] = (),
    sheet: str | int | None = None,
    encoding: str | None = None,
    decimal: str | None = None,
) -> pd.DataFrame:
    """Read a table from a CSV/TSV, Excel or Parquet file, standard input or
    a stream.

    Parameters
    ----------
    source : str, os.PathLike, pandas.DataFrame or file object
        A path; ``"-"`` for standard input; an open text or binary stream;
        or a DataFrame, returned as it is (with `name` recorded, if given).
        A path ending in ``.parquet`` or ``.pq``, or a directory, is read as
        Parquet; ``.xlsx`` (``.xlsm``, ``.xltx``, ``.xltm``) as an Excel
        workbook; ``.xls``, ``.xlsb``, ``.ods`` and ``.numbers`` are refused
        (save them as .xlsx or CSV); anything else as delimited text: gzip
        compressed or not, in UTF-8 unless a byte-order mark says UTF-16 or
        UTF-32 or `encoding` is given; delimiter ``.tsv`` → tab, or Excel's
        first line ``sep=;``, otherwise guessed from the first 64 KiB among
        comma, tab, semicolon, ``|`` and runs of spaces, falling back to
        comma.
    name : str, optional
        What to call the table in messages. Default: the path as given,
        ``<stdin>``, or the stream's name; a workbook's sheet is named too
        (``book.xlsx, sheet 'Data'``).
    text : sequence of str, optional
        Columns that are labels (group keys): read as text exactly as
        written (``001`` stays ``001``, ``NA`` is Namibia), missing only
        when empty. Ignored for Parquet and DataFrames, whose types are
        given; in a workbook, cells keep their own types.
    sheet : str or int, optional
        The sheet of a workbook: its name, or its position counted from 1
        as the tabs are (a name wins). Default: the first.
    encoding : str, optional
        The text's encoding (``cp1252``, ``latin-1``, ``utf-16`` ...), for
        a file that is neither UTF-8 nor marked by a byte-order mark. Text
        that is not UTF-8 is refused with a message naming the encoding to
        pass, never guessed.
    decimal : {".", ","}, optional
        The decimal separator of numbers. Default: a comma when the table
        is not comma-delimited and its first 64 KiB have numbers with a
        decimal comma (``1,5``) and none with a point, else a point. With a
        comma, a number with a point (``2.500``) is an error, not a
        thousands separator.

    Returns
    -------
    pandas.DataFrame
        Columns named as written in the header (surrounding spaces and quotes
        removed), numbers parsed (surrounding spaces allowed; in other
        columns than `text`, empty cells and ``NA``, ``NaN``, ``null``,
        ``#N/A`` ... (:data:`NA_VALUES`) are missing), surrounding spaces
        removed from text cells. ``df.attrs["source"]`` holds the name used
        in messages and, for text and workbooks, ``df.attrs["lines"]`` the
        line (sheet row) number of each row; ``df.attrs["decimal"]`` is
        ``","`` for a table with decimal commas.

    Raises
    ------
    InputError
        The file is missing, unreadable, empty, a header without rows, not
        UTF-8 (nor marked, nor in `encoding`), has a row with the wrong
        number of fields, names a column twice, is a workbook that is not
        read, has no sheet `sheet`, or is Parquet while pyarrow is missing.
        The message starts with the file's name.
    OptionError
        `sheet`, `encoding` or `decimal` given for a source they do not
        apply to, an unknown encoding, a decimal separator other than
        ``.`` and ``,``.

    Examples
    --------
    >>> import io
    >>> from scurve.io import read_table
    >>> df = read_table(io.StringIO("dose; response\\n0; 1.5\\n10; 0.25\\n"))
    >>> df.columns.tolist(), df["response"].tolist()
    (['dose', 'response'], [1.5, 0.25])
    >>> keys = read_table(io.StringIO("id;y\\n001;1,5\\nNA;2\\n"), text=["id"])
    >>> keys["id"].tolist(), keys["y"].tolist()
    (['001', 'NA'], [1.5, 2.0])
    """
    import pandas as pd

    _check_choices(encoding, decimal)
    if isinstance(source, pd.DataFrame):
        _refuse_options(
            "the data are a DataFrame, already read", sheet, encoding, decimal
        )
        if name is None:
            return source
        table = source.copy(deep=False)
        table.attrs["source"] = name
        return table
    options = {"text": text, "encoding": encoding, "decimal": decimal}
    if hasattr(source, "read"):
        label = name or str(getattr(source, "name", "<stream>"))
        _refuse_options(_NO_SHEETS.format(label), sheet)
        return _read_text(source.read(), label, **options)
    label = name or ("<stdin>" if source == "-" else os.fspath(source))
    kind = _kind(source)
    if kind == "parquet":
        given = f"{label} is Parquet: its columns have their own types"
        _refuse_options(given, None, encoding, decimal)
        _refuse_options(_NO_SHEETS.format(label), sheet)
        return _read_parquet(Path(source), label)
    if kind in OTHER_WORKBOOKS:
        raise InputError(
            f"{label}: {OTHER_WORKBOOKS[kind]} is not read; save it as .xlsx or CSV"
        )
    if kind == "excel":
        given = f"{label} is an Excel workbook: its cells have their own types"
        _refuse_options(given, None, encoding, decimal)
        return _read_excel(_read_source(source, name)[1], label, sheet, text)
    _refuse_options(_NO_SHEETS.format(label), sheet)
    label, data = _read_source(source, name)
    tab = ".tsv" in (s.lower() for s in Path(str(source)).suffixes)
    return _read_text(data, label, delimiter="\t" if tab else None, **options)


_NO_SHEETS = "{} is not an Excel workbook (.xlsx): it has no sheets"


def _kind(source: str | os.PathLike[str]) -> str:
    """How a path is read: ``"parquet"``, ``"excel"``, ``"text"``, or the
    extension of a workbook that is not read (:data:`OTHER_WORKBOOKS`)."""
    if isinstance(source, str) and source == "-":
        return "text"
    path = Path(source)
    suffix = path.suffix.lower()
    if path.is_dir() or suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    return suffix if suffix in OTHER_WORKBOOKS else "text"


def _check_choices(encoding: str | None, decimal: str | None) -> None:
    """An encoding Python knows, a decimal separator that is one."""
    if decimal is not None and decimal not in (".", ","):
        raise OptionError("decimal", f"must be '.' or ',', not {decimal!r}")
    if encoding is not None:
        try:
            b"x".decode(encoding)  # b"" would not look the encoding up
        except UnicodeDecodeError:
            pass  # a codec of text all the same (UTF-16 needs two bytes)
        except LookupError:
            raise OptionError(
                "encoding",
                f"{encoding!r} is not an encoding (e.g. utf-8, cp1252, latin-1, "
                "utf-16)",
            ) from None


def _refuse_options(reason: str, sheet: Any, *others: str | None) -> None:
    """Refuse the reading options given for a source they do not apply to:
    `sheet`, then `others` (encoding, decimal)."""
    for option, value in zip(
        ("sheet", "encoding", "decimal"), (sheet, *others), strict=False
    ):
        if value is not None:
            raise OptionError(option, reason)


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
    """The text of a file (UTF-8, or UTF-16/32 with a byte-order mark, maybe
    gzipped), or of standard input for ``"-"``.

    Raises
    ------
    InputError
        Missing, unreadable or not UTF-8, with the file's name first.
    """
    label, data = _read_source(source, name)
    return _decode(data, label)


def _unpacked(
    data: bytes | str, label: str, encoding: str | None = None
) -> tuple[bytes, int | None]:
    """The bytes of `data` in UTF-8 (gunzipped; decoded from `encoding`, or
    from the encoding its byte-order mark names; otherwise as they are, UTF-8
    being checked where they are decoded), and how many bytes of the file
    precede them (None when they were re-encoded: offsets are then not the
    file's).

    Raises
    ------
    InputError
        A damaged gzip file; bytes that are not `encoding`.
    """
    if isinstance(data, str):
        return data.removeprefix("\ufeff").encode(), None
    if data.startswith(b"\x1f\x8b"):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as exc:
            raise InputError(f"{label}: a damaged gzip file ({exc})") from None
    if encoding is None:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :], len(codecs.BOM_UTF8)
        encoding = next((code for bom, code in BOMS if data.startswith(bom)), None)
        if encoding is None:
            return data, 0
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data[: exc.start].decode(encoding, errors="replace").count("\n") + 1
        raise InputError(
            f"{label}: not {encoding} text (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}, line {line})"
        ) from None
    return text.removeprefix("\ufeff").encode(), None


def _decode(data: bytes | str, label: str) -> str:
    """`data` as text: UTF-8 (or UTF-16/32 by its byte-order mark), maybe
    gzipped."""
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    raw, skipped = _unpacked(data, label)
    return _utf8(raw, label, skipped)


def _utf8(raw: bytes, label: str, skipped: int | None) -> str:
    """UTF-8 `raw` as text; bytes that are not UTF-8, or NUL bytes (UTF-16
    without its mark), are refused with the encoding to pass, or a hint
    at what the file is. `skipped`: bytes of the file before `raw`."""
    hint = next((h for m, h in MAGIC_HINTS.items() if raw.startswith(m)), None)
    if hint and raw.startswith(b"PK\x03\x04") and b"xl/" in raw:
        hint = "it looks like an Excel workbook: give it the extension .xlsx"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = raw[exc.start : exc.start + 1]
        where = _where(raw, exc.start, skipped)
        if hint is None:
            try:
                where += f": {byte.decode('cp1252')!r} in cp1252"
                hint = (
                    "pass --encoding cp1252 if it is Windows text, or save it as UTF-8"
                )
            except UnicodeDecodeError:
                hint = "save it as UTF-8, or pass its encoding with --encoding"
        raise InputError(
            f"{label}: not UTF-8 text (byte 0x{byte[0]:02x} at {where}); {hint}"
        ) from None
    if "\x00" in text:
        where = _where(raw, raw.index(b"\x00"), skipped)
        hint = hint or "pass --encoding utf-16-le (or utf-16-be) if it is UTF-16"
        raise InputError(
            f"{label}: NUL bytes (first at {where}): not UTF-8 text; {hint}"
        )
    return text


def _where(raw: bytes, offset: int, skipped: int | None) -> str:
    """``offset 31, line 3`` of a byte of `raw` (the offset in the file when
    `skipped`, the bytes before `raw`, is known)."""
    line = raw.count(b"\n", 0, offset) + 1
    return (
        f"line {line}" if skipped is None else f"offset {skipped + offset}, line {line}"
    )


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


def _decimal_of(sample: str, delimiter: str) -> str:
    """``","`` when fields of `sample` delimited by `delimiter` (not a comma)
    are numbers with a decimal comma and none has a decimal point, else
    ``"."``."""
    if delimiter == ",":
        return "."
    edge = r"\s" if delimiter == " " else re.escape(delimiter)

    def field(number: str) -> re.Pattern[str]:
        return re.compile(rf"(?:^|{edge})[ \t]*{number}[ \t]*(?=\r?$|{edge})", re.M)

    sample = sample[:SNIFF_CHARS]
    comma = field(_COMMA_NUMBER).search(sample) is not None
    return "," if comma and field(_POINT_NUMBER).search(sample) is None else "."


def _sep_line(raw: bytes) -> tuple[bytes, str | None]:
    """Excel's first line ``sep=;``: the delimiter it names, and `raw` with
    the line left blank (so that lines keep their numbers)."""
    match = _SEP_LINE.match(raw)
    if match is None:
        return raw, None
    return b"\n" + raw[match.end() :], match.group(1).decode("latin-1")


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
    data: bytes | str,
    label: str,
    delimiter: str | None = None,
    *,
    text: Sequence[str] = (),
    encoding: str | None = None,
    decimal: str | None = None,
) -> pd.DataFrame:
    """Parse a delimited text table; see :func:`read_table`."""
    import pandas as pd

    raw, skipped = _unpacked(data, label, encoding)
    if not raw.strip():
        raise InputError(f"{label}: the file is empty")
    raw, named = _sep_line(raw)
    head = raw[: 4 * SNIFF_CHARS].decode("utf-8", errors="ignore")
    delimiter = named or delimiter or _sniff(head)
    decimal = decimal or _decimal_of(head, delimiter)
    keys = frozenset(text)
    if b"\x00" not in raw:
        fast = _read_arrow(raw, delimiter, label, text=keys, decimal=decimal)
        if fast is not None:
            return fast
    content = _utf8(raw, label, skipped)
    # One pass with the csv module checks the shape and numbers the rows as
    # an editor would; pandas' own parser then fills the columns.
    records = _records(content, delimiter)
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
            io.StringIO(content),
            sep=r"\s+" if delimiter == " " else delimiter,
            skipinitialspace=True,
            header=0,
            names=names,
            low_memory=False,  # one type per column, not one per chunk
            keep_default_na=False,
            na_values={n: [""] if n in keys else list(NA_VALUES) for n in names},
            dtype={n: str for n in names if n in keys},
            decimal=decimal,
        )
    except ValueError as exc:  # pandas' ParserError is one
        message = " ".join(str(exc).split())
        raise InputError(f"{label}: cannot parse it as a table ({message})") from None
    for col in table.columns:
        if pd.api.types.is_string_dtype(table[col]):
            cells = table[col].str.strip()
            missing = cells.isin(("",) if col in keys else NA_VALUES)
            table[col] = cells.mask(missing)
    _record(table, label, decimal)
    n = len(table)
    if len(lines) == n:
        # A tuple, not an array: pandas compares attrs with == (concat).
        table.attrs["lines"] = range(2, n + 2) if lines[-1] == n + 1 else tuple(lines)
    return table


def _record(table: pd.DataFrame, label: str, decimal: str = ".") -> None:
    """Note where `table` came from, and its decimal separator if a comma."""
    table.attrs["source"] = label
    if decimal == ",":
        table.attrs["decimal"] = decimal


#: Cells read as missing, as pandas' ``read_csv`` reads them, except in the
#: columns read as text (labels), where only empty cells are missing.
NA_VALUES = (
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
)  # fmt: skip


def _read_arrow(
    raw: bytes,
    delimiter: str,
    label: str,
    *,
    text: frozenset[str] = frozenset(),
    decimal: str = ".",
) -> pd.DataFrame | None:
    """The table of UTF-8 `raw` by pyarrow's CSV reader (in C, on every
    core: 2.4 million rows in under a second), or None where it cannot give
    what :func:`_read_text` gives, which then reads it with its checks: no
    pyarrow, runs of spaces as the delimiter, a row of the wrong length, a
    repeated column name, no rows, blank lines or newlines inside quotes (the
    rows' line numbers), or a column read as anything but numbers, text or
    times of day (dates, booleans: pandas reads them as text), an odd number
    of quotes (one not closed), bytes that are not UTF-8. The `text`
    columns are read as text, missing only when empty."""
    import pandas as pd

    if delimiter == " " or raw.count(b'"') % 2:
        return None
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    header = raw[: raw.find(b"\n") if b"\n" in raw else len(raw)]
    raw_names = next(csv.reader([header.decode("utf-8", "replace").rstrip("\r")],
                                delimiter=delimiter), [])  # fmt: skip
    as_text = {n: pa.string() for n in raw_names if _clean_name(n) in text}
    try:
        table = pacsv.read_csv(
            io.BytesIO(raw),
            parse_options=pacsv.ParseOptions(delimiter=delimiter),
            convert_options=pacsv.ConvertOptions(
                null_values=list(NA_VALUES),
                strings_can_be_null=False,  # text is missing by the rules below
                quoted_strings_can_be_null=False,
                column_types=as_text,
                decimal_point=decimal,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    names = [_clean_name(name) for name in table.column_names]
    lines = raw.count(b"\n") + (0 if raw.endswith(b"\n") else 1)
    rows = table.num_rows
    if len(set(names)) < len(names) or not rows or lines != rows + 1:
        return None
    missing = {True: pa.array([""]), False: pa.array(NA_VALUES)}
    columns = {}
    for name, column in zip(names, table.columns, strict=True):
        kind = column.type
        if pa.types.is_time(kind):  # 00:10:00: as text, hours for an x column
            column, kind = pc.cast(column, pa.string()), pa.string()
        if pa.types.is_string(kind) or pa.types.is_large_string(kind):
            column = pc.utf8_trim_whitespace(column)
            empty = pc.is_in(column, value_set=missing[name in text])
            if pc.any(empty).as_py():
                column = pc.if_else(empty, pa.scalar(None, kind), column)
        elif not (pa.types.is_integer(kind) or pa.types.is_floating(kind)):
            if not pa.types.is_null(kind):  # an empty column is missing values
                return None
            column = pa.nulls(len(column), pa.float64())
        columns[name] = column
    frame = pa.table(columns).to_pandas(
        types_mapper={pa.string(): pd.StringDtype(na_value=float("nan"))}.get
    )
    _record(frame, label, decimal)
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


def _read_excel(
    data: bytes, label: str, sheet: str | int | None, text: Sequence[str]
) -> pd.DataFrame:
    """A sheet of an .xlsx workbook (by openpyxl, cached formula values),
    rows numbered as the sheet numbers them; see :func:`read_table`."""
    try:
        import openpyxl
    except ImportError:
        raise InputError(f"{label}: {NO_OPENPYXL}") from None
    if not data.startswith(b"PK\x03\x04"):
        reason, hint = _not_zip(data)
        raise InputError(f"{label}: not a readable .xlsx workbook ({reason}){hint}")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # zipfile's, openpyxl's, XML parsers' errors
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"{label}: not a readable .xlsx workbook ({message})"
        ) from None
    try:
        title = _sheet_name(book.sheetnames, sheet, label)
        where = f"{label}, sheet {title!r}"
        worksheet = book[title]
        if not hasattr(worksheet, "iter_rows"):
            raise InputError(f"{where}: a chart, not a table")
        rows = enumerate(worksheet.iter_rows(values_only=True), start=1)
        return _sheet_table(rows, where, frozenset(text))
    finally:
        book.close()


def _not_zip(data: bytes) -> tuple[str, str]:
    """Why bytes named .xlsx are not a workbook, and a hint at what they are."""
    if data.startswith(OLE2):
        reason = "an old .xls workbook, or one with a password"
        return reason, "; save it as .xlsx (without a password) or CSV"
    try:
        data[:SNIFF_CHARS].decode("utf-8")
    except UnicodeDecodeError:
        return "not a zip file", ""
    return "not a zip file", "; is it CSV text? give it the extension .csv"


def _sheet_name(names: Sequence[str], sheet: str | int | None, label: str) -> str:
    """The sheet `sheet` names: a name, else a position counted from 1."""
    if sheet is None:
        return names[0]
    if isinstance(sheet, str) and sheet in names:
        return sheet
    listed = ", ".join(map(repr, names))
    number = str(sheet).strip()
    if isinstance(sheet, Integral) or number.isdigit():
        if 1 <= int(number) <= len(names):
            return names[int(number) - 1]
        raise InputError(
            f"{label}: no sheet {int(number)}; it has {len(names)}: {listed}"
        )
    guess = _did_you_mean(str(sheet), names)
    hint = f" (did you mean {guess!r}?)" if guess else ""
    raise InputError(f"{label}: no sheet {sheet!r}{hint}; the sheets are: {listed}")


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _sheet_table(
    rows: Iterator[tuple[int, tuple[Any, ...]]], where: str, text: frozenset[str]
) -> pd.DataFrame:
    """The table of a sheet's rows (number, values): the first row that is
    not blank is the header; blank rows are skipped."""
    import pandas as pd
    from openpyxl.utils import get_column_letter

    first = next(((n, row) for n, row in rows if not all(map(_blank, row))), None)
    if first is None:
        raise InputError(f"{where}: the sheet is empty")
    header = first[1]
    width = max(i for i, v in enumerate(header) if not _blank(v)) + 1
    names = [_clean_name("" if v is None else str(v)) for v in header[:width]]
    for i, col in enumerate(names):
        if col in names[:i]:
            raise InputError(
                f"{where}: the header names the column {col!r} twice (columns "
                f"{get_column_letter(names.index(col) + 1)} and "
                f"{get_column_letter(i + 1)})"
            )
    cells, lines = [], []
    for number, row in rows:
        if all(map(_blank, row)):
            continue
        beyond = next((i for i in range(width, len(row)) if not _blank(row[i])), None)
        if beyond is not None:
            raise InputError(
                f"{where}: row {number} has a value in column "
                f"{get_column_letter(beyond + 1)}, beyond the header's {width} columns"
            )
        cells.append(tuple(row[:width]) + (None,) * (width - len(row)))
        lines.append(number)
    if not cells:
        raise InputError(f"{where}: no data rows (only a header: {', '.join(names)})")
    columns = zip(*cells, strict=True)
    table = pd.DataFrame(
        {n: _sheet_column(c, n in text) for n, c in zip(names, columns, strict=True)}
    )
    _record(table, where)
    table.attrs["lines"] = tuple(lines)
    return table


def _sheet_column(values: Sequence[Any], label: bool) -> pd.Series:
    """A column of cells with their own types: numbers as numbers, text
    stripped (a label's missing only when empty, others' by
    :data:`NA_VALUES`), a mix as objects."""
    import numpy as np
    import pandas as pd

    missing = ("",) if label else NA_VALUES
    cells = [
        None if v is None or (isinstance(v, str) and v.strip() in missing)
        else v.strip() if isinstance(v, str) else v
        for v in values
    ]  # fmt: skip
    given = [v for v in cells if v is not None]
    if given and all(isinstance(v, str) for v in given):
        return pd.Series(cells, dtype=pd.StringDtype(na_value=np.nan))
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in given)
    if given and numbers:
        return pd.Series([np.nan if v is None else v for v in cells])
    return pd.Series(cells, dtype=object)


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
    df: pd.DataFrame,
    name: str,
    *,
    role: str = "column",
    numeric: bool = True,
    times: bool = False,
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
    times : bool, optional
        An x (time) column: when its first value is a time as plate readers
        write it, ``h:mm:ss`` or ``d.hh:mm:ss`` (BioTek Gen5, Tecan; a
        :class:`datetime.time` or :class:`datetime.timedelta` cell of a
        workbook), the column is read as hours; durations (``timedelta64``)
        are hours too.

    Returns
    -------
    pandas.Series
        Float64 when `numeric`, with missing values as NaN; strings such as
        ``" 3.5"``, ``"1e-3"``, ``"NaN"``, ``"inf"``, ``"-inf"`` and the
        missing-value tokens (:data:`NA_VALUES`: ``""``, ``"NA"`` ...) are
        numbers; in a table read with decimal commas (``df.attrs["decimal"]``
        is ``","``), ``"1,5"`` is 1.5 and ``"2.500"`` is not a number.

    Raises
    ------
    InputError
        No such column (the message suggests a close name and lists them
        all), or, when `numeric`, a value that is not a number (the message
        names its row, with a hint at a decimal comma), or, with `times`, a
        column mixing times and numbers (naming the first row of each).

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
    if times and values.dtype.kind == "m":  # durations
        hours = values.dt.total_seconds().to_numpy(dtype=np.float64) / 3600
        return pd.Series(hours, index=values.index, name=name)
    return _numbers(df, values, f"{_prefix(df)}{role} {name!r}", times=times)


#: A time of day or a duration as plate readers write it (BioTek Gen5,
#: Tecan): ``h:mm:ss`` or ``d.hh:mm:ss``, seconds maybe with a fraction.
_TIME = re.compile(r"(?:(\d+)\.)?(\d+):([0-5]\d):([0-5]\d(?:\.\d+)?)")


#: Excel's day 0, and the first day its serial numbers and dates part
#: (its 29 February 1900): openpyxl gives a time cell of a day or more in a
#: clock format (``h:mm:ss``, not ``[h]:mm:ss``) as a date in between.
_EXCEL_DAY_0 = datetime.datetime(1899, 12, 31)
_EXCEL_LEAP = datetime.datetime(1900, 3, 1)


def _hours(value: Any) -> float | None:
    """A time (``1.02:30:00``, a :class:`datetime.time` or
    :class:`datetime.timedelta` cell, a workbook's time of a day or more) in
    hours; None for anything else."""
    if isinstance(value, datetime.timedelta):  # also pandas' Timedelta
        return value.total_seconds() / 3600
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None and _EXCEL_DAY_0 <= value < _EXCEL_LEAP:
            return (value - _EXCEL_DAY_0).total_seconds() / 3600
        return None
    if isinstance(value, datetime.time):
        seconds = 3600 * value.hour + 60 * value.minute + value.second
        return (seconds + value.microsecond / 1e6) / 3600
    match = _TIME.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return None
    days, hours, minutes, seconds = match.groups()
    whole = 86400 * int(days or 0) + 3600 * int(hours) + 60 * int(minutes)
    return (whole + float(seconds)) / 3600


def _number(value: Any, comma: bool) -> float:
    """`value` as a number: text with surrounding spaces, ``infinity``, a
    missing-value token (:data:`NA_VALUES`: NaN), a decimal comma when
    `comma`. Booleans, dates and complex numbers are not numbers.

    Raises
    ------
    TypeError, ValueError
    """
    import numpy as np

    if isinstance(value, bool | np.bool_ | complex | np.complexfloating):
        raise TypeError(value)
    if isinstance(value, str):
        value = value.strip()
        if value in NA_VALUES:
            return math.nan
        if comma:
            if "." in value:
                raise ValueError(value)
            value = value.replace(",", ".")
    return float(value)


def _not_a_number(where: str, value: Any, comma: bool) -> str:
    """``'2.500' is not a number`` with a hint at the decimal separator."""
    shown = repr(value) if isinstance(value, str) else str(value)
    hint = ""
    text = value.strip() if isinstance(value, str) else None
    if text is not None and comma and "." in text:
        with contextlib.suppress(ValueError):
            float(text)
            hint = " (the decimal separator of this table is a comma)"
    elif text is not None and not comma and re.fullmatch(_COMMA_NUMBER, text):
        hint = " (a decimal comma? pass --decimal ,)"
    return f"{where}: {shown} is not a number{hint}"


def _numbers(
    df: pd.DataFrame, values: pd.Series, where: str, *, times: bool
) -> pd.Series:
    """Text (or objects) as float64; see :func:`column`. pandas converts
    most (not with a decimal comma: it would read ``2.500`` as 2.5); each
    value it cannot is converted by :func:`_number`. With `times`, a column
    whose first value is a time is read as hours, and a mix of times and
    numbers is an error."""
    import numpy as np
    import pandas as pd

    comma = df.attrs.get("decimal") == ","
    converted = np.full(len(values), np.nan)
    if values.dtype.kind == "O" and not comma:
        with contextlib.suppress(TypeError, ValueError):
            numbers = pd.to_numeric(values, errors="coerce")
            converted = np.asarray(numbers, dtype=np.float64).copy()
    given = values.notna().to_numpy()
    if times and given.any():
        first = int(np.argmax(given))
        if _hours(values.iloc[first]) is not None:
            return _times(df, values, where, first)
    for i in np.flatnonzero(np.isnan(converted) & given):
        value = values.iloc[i]
        try:
            converted[i] = _number(value, comma)
        except (TypeError, ValueError):
            row = _row(df, values.index[i])
            if times and isinstance(value, datetime.date):
                raise InputError(_a_date(f"{where}, {row}", value)) from None
            if times and _hours(value) is not None:
                first = int(np.argmax(given))
                shown = repr(value.strip()) if isinstance(value, str) else value
                raise InputError(
                    f"{where}, {row}: {shown} is a time, but "
                    f"{_row(df, values.index[first])} is a number "
                    f"({str(values.iloc[first]).strip()}): one format per column"
                ) from None
            raise InputError(_not_a_number(f"{where}, {row}", value, comma)) from None
    return pd.Series(converted, index=values.index, name=values.name)


def _times(df: pd.DataFrame, values: pd.Series, where: str, first: int) -> pd.Series:
    """A column of times (its value at `first` is one) in hours; a number
    or anything else among them is an error naming its row."""
    import numpy as np
    import pandas as pd

    hours = np.full(len(values), np.nan)
    for i in np.flatnonzero(values.notna().to_numpy()):
        value = values.iloc[i]
        hour = _hours(value)
        if hour is not None:
            hours[i] = hour
            continue
        row = _row(df, values.index[i])
        shown = repr(value) if isinstance(value, str) else str(value)
        try:
            if math.isnan(_number(value, df.attrs.get("decimal") == ",")):
                continue  # a missing-value token
        except (TypeError, ValueError):
            if isinstance(value, datetime.date):
                raise InputError(_a_date(f"{where}, {row}", value)) from None
            raise InputError(
                f"{where}, {row}: {shown} is not a number or a time (h:mm:ss or "
                "d.hh:mm:ss)"
            ) from None
        raise InputError(
            f"{where}, {row}: {shown} is a number, but "
            f"{_row(df, values.index[first])} is a time "
            f"({str(values.iloc[first]).strip()}): one format per column"
        )
    return pd.Series(hours, index=values.index, name=values.name)


def _a_date(where: str, value: Any) -> str:
    """A date (and time) where times since the start are read."""
    return (
        f"{where}: {value} is a date, not a time (h:mm:ss or d.hh:mm:ss): give "
        "times since the start"
    )


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


#: A well's name: its row, A to Z then AA to AF, and its column, 1 to 48
#: (maybe zero-padded): plates of 6 to 1536 wells.
_WELL = re.compile(r"([A-Za-z]{1,2})0*([1-9][0-9]?)")
#: The wells named in messages.
WELL_NAMES = "A1 ... AF48"


def well_position(name: Any) -> tuple[int, int] | None:
    """Row and column (from 0) of a well named like ``A1``, ``h12``,
    ``B07`` or ``AF48`` (plates up to 1536 wells: rows A to AF, columns 1
    to 48); None for anything else.

    Examples
    --------
    >>> from scurve.io import well_position
    >>> well_position("B07"), well_position("H12"), well_position("AF48")
    ((1, 6), (7, 11), (31, 47))
    >>> well_position("T° 600"), well_position("A49"), well_position("AG1")
    (None, None, None)
    """
    match = _WELL.fullmatch(str(name).strip())
    if match is None:
        return None
    letters, number = match.group(1).upper(), int(match.group(2))
    if len(letters) == 2 and letters[0] != "A":
        return None
    row = ord(letters[-1]) - ord("A") + (26 if len(letters) == 2 else 0)
    return (row, number - 1) if row < 32 and number <= 48 else None


def plate_wells(
    df: pd.DataFrame,
    x: str,
    *,
    wells: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] = (),
    keep: Sequence[str] = (),
) -> tuple[list[str], list[str]]:
    """The well columns of a plate-reader table, and notes on the columns
    left out.

    Parameters
    ----------
    df : pandas.DataFrame
        The wide table.
    x : str
        Its time column (never a well).
    wells : str or sequence of str, optional
        The wells to fit, comma-separated or as a sequence: a column's name,
        or a rectangular range of wells such as ``A1:H12`` (the columns
        named like wells inside it). Default: the columns named like wells
        (:func:`well_position`); the others are left out, with a note.
    exclude : str or sequence of str, optional
        Columns not fitted, comma-separated or as a sequence.
    keep : sequence of str, optional
        Columns carried along, not fitted (a blank well).

    Returns
    -------
    wells : list of str
        In the order of the table.
    notes : list of str
        ``"plate.csv: left out 1 column not named like wells (A1 ... AF48):
        'T° 600'; choose the wells with --wells"``.

    Raises
    ------
    InputError
        No well column, or a column of `wells` or `exclude` that the table
        does not have.
    OptionError
        An item of `wells` that is neither a column nor a range of wells, a
        range that matches no column, or the x column.
    """
    out = set(_items(exclude)) | set(keep) | {x}
    for name in _items(exclude):
        column(df, name, role="--exclude column", numeric=False)
    others = [str(c) for c in df.columns if str(c) not in out]
    if wells is not None:
        return _chosen_wells(df, x, _items(wells), others), []
    named = [c for c in others if well_position(c) is not None]
    left = [c for c in others if well_position(c) is None]
    if not named:
        detail = (
            f"none of {', '.join(map(repr, left))} is named like a well "
            f"({WELL_NAMES}); name them with --wells"
            if left
            else f"it has only {', '.join(map(repr, map(str, df.columns)))}"
        )
        raise InputError(
            f"{_prefix(df)}a wide table needs well columns besides {x!r}: {detail}"
        )
    if not left:
        return named, []
    count = f"{len(left)} column{'s' if len(left) > 1 else ''}"
    return named, [
        f"{_prefix(df)}left out {count} not named like wells ({WELL_NAMES}): "
        f"{', '.join(map(repr, left))}; choose the wells with --wells"
    ]


def _items(names: str | Sequence[str]) -> list[str]:
    """``"A1:H12,blank"`` or ``["A1:H12", "C3"]`` -> its items, stripped."""
    parts = [names] if isinstance(names, str) else list(names)
    return [
        item.strip() for part in parts for item in str(part).split(",") if item.strip()
    ]


def _chosen_wells(
    df: pd.DataFrame, x: str, items: Sequence[str], others: Sequence[str]
) -> list[str]:
    """The columns of `others` that `items` (names, ranges) choose."""
    chosen: set[str] = set()
    for item in items:
        if ":" not in item:
            column(df, item, role="--wells column", numeric=False)
            if item == x:
                raise OptionError("wells", f"{item!r} is the x column")
            chosen.add(item)
            continue
        ends = [well_position(end) for end in item.split(":")]
        if len(ends) != 2 or None in ends:
            raise OptionError(
                "wells", f"{item!r} is not a well (A1) or a range of wells (A1:H12)"
            )
        (r0, c0), (r1, c1) = ends  # type: ignore[misc]
        inside = [
            c
            for c in others
            if (at := well_position(c)) is not None
            and min(r0, r1) <= at[0] <= max(r0, r1)
            and min(c0, c1) <= at[1] <= max(c0, c1)
        ]
        if not inside:
            source = df.attrs.get("source") or "the table"
            raise OptionError("wells", f"{item} matches no column of {source}")
        chosen.update(inside)
    return [c for c in others if c in chosen]


def wide_to_long(
    df: pd.DataFrame,
    x: str,
    *,
    keep: Sequence[str] = (),
    wells: str | Sequence[str] | None = None,
    exclude: str | Sequence[str] = (),
) -> pd.DataFrame:
    """A plate-reader table (a time column, one column per well) as a long one.

    Parameters
    ----------
    df : pandas.DataFrame
        One row per reading time: the `x` column, then one numeric column per
        well, and maybe others (a temperature, as BioTek's ``T° 600``).
    x : str
        The time (x) column: numbers, or times ``h:mm:ss`` / ``d.hh:mm:ss``
        read as hours (:func:`column`).
    keep : sequence of str
        Columns that are not wells but are carried along on every row (a
        blank well subtracted per time point, say).
    wells, exclude : str or sequence of str, optional
        Which columns are wells (:func:`plate_wells`): by default those
        named like wells (``A1`` ... ``AF48``, ``B07``), the others left out
        with a note in ``attrs["notes"]``.

    Returns
    -------
    pandas.DataFrame
        Columns `x`, ``well`` (the well's column name, in the table's
        order), ``value`` and the `keep` columns; well by well.
        ``attrs["notes"]`` says which columns were left out.

    Raises
    ------
    InputError
        No `x` column, no well column, or a well with text in it (the message
        names the well and the row); see :func:`plate_wells`.

    Examples
    --------
    >>> import io
    >>> text = "time,A1,A2,Temp\\n0,0.1,0.2,37\\n1,0.3,0.4,37\\n"
    >>> plate = read_table(io.StringIO(text), name="plate.csv")
    >>> long = wide_to_long(plate, "time")
    >>> long["well"].tolist(), long["value"].tolist()
    (['A1', 'A1', 'A2', 'A2'], [0.1, 0.3, 0.2, 0.4])
    >>> print(*long.attrs["notes"])
    plate.csv: left out 1 column not named like wells (A1 ... AF48): 'Temp'; \
choose the wells with --wells
    """
    import pandas as pd

    times = column(df, x, role="time column", times=True)
    extra = {name: column(df, name, role="column") for name in keep}
    chosen, notes = plate_wells(df, x, wells=wells, exclude=exclude, keep=list(extra))
    import numpy as np

    # one frame, not one per well: a 384-well plate in milliseconds
    values = [column(df, well, role="well column") for well in chosen]
    count = len(chosen)

    def repeated(series: pd.Series) -> pd.Series:
        return pd.concat([series] * count, ignore_index=True)

    long = pd.DataFrame(
        {
            x: repeated(times),
            WELL: np.repeat(np.array(chosen, dtype=object), len(df)),
            VALUE: pd.concat(values, ignore_index=True),
            **{name: repeated(v) for name, v in extra.items()},
        }
    )
    long.attrs.update(df.attrs)
    long.attrs.pop("lines", None)  # row numbers of the wide table no longer apply
    long.attrs["notes"] = (*df.attrs.get("notes", ()), *notes)
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
        Names of the numeric x and y columns; x may hold plate-reader times
        (``h:mm:ss``, ``d.hh:mm:ss``), read as hours (see :func:`column`).
    by : str or sequence of str, optional
        Group key columns, of any type (read them as text:
        ``read_table(..., text=by)``). Rows with a missing (empty) key are
        kept, a group of their own, with a note.
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
        Its notes start with those of the table (``df.attrs["notes"]``:
        the columns a plate left out).

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
        {
            out: column(df, name, role=role, times=out == "x")
            for out, (name, role) in numbers.items()
        }
    )
    for key in keys:
        frame[key] = column(df, key, role="group column", numeric=False)
    frame.attrs.update(df.attrs)

    finite = np.isfinite(frame[list(numbers)].to_numpy())
    keep = finite.all(axis=1)
    dropped = int(keep.size - keep.sum())
    notes = list(df.attrs.get("notes", ()))
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
    notes += _empty_keys(frame, keys)
    return Selection(frame=frame, dropped=dropped, notes=notes, keys=keys)


def _empty_keys(frame: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """A note per group column with empty (missing) keys: their rows are
    fitted as one group, keyed as missing."""
    notes = []
    for key in keys:
        empty = int(frame[key].isna().sum())
        if empty:
            rows = "row" if empty == 1 else "rows"
            notes.append(
                f"{_prefix(frame)}group column {key!r}: {empty} {rows} with an "
                "empty key, fitted as one group keyed as missing"
            )
    return notes


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

#: The table formats :func:`write_table` writes, by extension.
TABLE_FORMATS = {
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "tsv",
    ".json": "json",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
}
#: The formats also written gzip-compressed, as ``.csv.gz`` ...
GZIP_FORMATS = ("csv", "tsv", "json")
TABLE_EXTENSIONS = (
    ".csv, .tsv, .txt, .json, .parquet, .pq, .xlsx, or gzip-compressed "
    ".csv.gz, .tsv.gz, .txt.gz, .json.gz"
)
_FORMAT_HINTS = {
    ".xls": "Excel 97-2003 is not written: use .xlsx",
    ".parquet.gz": "Parquet is compressed already",
    ".pq.gz": "Parquet is compressed already",
    ".xlsx.gz": "an Excel workbook is compressed already",
}
#: Rows and columns of an Excel sheet, at most.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
#: The longest file name, in bytes, most file systems take (NAME_MAX).
NAME_MAX = 255
#: Signals that end the process while a file is written: the temporary file
#: is removed first (Ctrl-C, SIGINT, raises KeyboardInterrupt, which does).
TERMINATING = ("SIGTERM", "SIGHUP")


@dataclass(frozen=True)
class TableFormat:
    """How a table file is written, as its extension says.

    Attributes
    ----------
    kind : {"csv", "tsv", "json", "parquet", "xlsx"}
    gzip : bool
        Compressed (the extension ends in ``.gz``).
    """

    kind: str
    gzip: bool = False


def table_format(path: str | os.PathLike[str]) -> TableFormat:
    """The format of a table file, from its extension (:data:`TABLE_FORMATS`,
    with ``.gz`` after a text format for gzip).

    Raises
    ------
    InputError
        No extension, or one naming no format written here; the message
        lists the extensions that are.

    Examples
    --------
    >>> from scurve.io import table_format
    >>> table_format("fits.csv.gz")
    TableFormat(kind='csv', gzip=True)
    >>> table_format("fits.xls")
    Traceback (most recent call last):
    ...
    scurve.errors.InputError: fits.xls: cannot write a table as '.xls': give it \
one of the extensions .csv, .tsv, .txt, .json, .parquet, .pq, .xlsx, or \
gzip-compressed .csv.gz, .tsv.gz, .txt.gz, .json.gz (Excel 97-2003 is not \
written: use .xlsx)
    """
    label = os.fspath(path)
    name = Path(path).name.lower()
    packed = name.endswith(".gz")
    suffix = Path(name.removesuffix(".gz")).suffix
    kind = TABLE_FORMATS.get(suffix)
    if kind is not None and (not packed or kind in GZIP_FORMATS):
        return TableFormat(kind, packed)
    shown = suffix + (".gz" if packed else "")
    if not shown:
        raise InputError(
            f"{label}: no extension to say the table's format: give it one of the "
            f"extensions {TABLE_EXTENSIONS}"
        )
    hint = _FORMAT_HINTS.get(shown)
    raise InputError(
        f"{label}: cannot write a table as {shown!r}: give it one of the extensions "
        f"{TABLE_EXTENSIONS}" + (f" ({hint})" if hint else "")
    )


def _create_temporary(path: Path) -> tuple[Path, int]:
    """Create a new hidden file beside `path`; return it and its descriptor.

    Made with ``os.open(..., 0o666)`` rather than :mod:`tempfile` so that the
    final file gets the umask's usual permissions, not 0o600. Its name is
    `path`'s, shortened if need be to stay within :data:`NAME_MAX` bytes.
    """
    while True:
        token = secrets.token_hex(4)
        name = path.name
        while len(os.fsencode(f".{name}.{token}.tmp")) > NAME_MAX:
            name = name[:-1]
        tmp = path.with_name(f".{name}.{token}.tmp")
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


# -- temporary files removed when the process is terminated


#: Temporary files being written by :func:`atomic_write` in this process.
_WRITING: dict[Path, None] = {}
#: The handlers :func:`_terminated` replaced, by signal number.
_REPLACED: dict[int, Any] = {}
_LOCK = threading.Lock()


def _terminated(signum: int, frame: Any) -> None:
    """A terminating signal while files are written: their temporary files
    are removed, then the signal does what it did before (by default, end
    the process, which still dies of the signal)."""
    for tmp in list(_WRITING):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    previous = _REPLACED.get(signum, signal.SIG_DFL)
    if callable(previous):
        previous(signum, frame)
        return
    signal.signal(signum, previous)
    signal.raise_signal(signum)


def _catch_terminating() -> None:
    """Install :func:`_terminated` for :data:`TERMINATING` (main thread only;
    a signal ignored, or handled outside Python, is left alone)."""
    for name in TERMINATING:
        signum = getattr(signal, name, None)
        if signum is None or signum in _REPLACED:
            continue
        current = signal.getsignal(signum)
        if current is None or current == signal.SIG_IGN:
            continue
        _REPLACED[signum] = current
        signal.signal(signum, _terminated)


def _release_terminating() -> None:
    """Put back the handlers :func:`_catch_terminating` replaced."""
    for signum, previous in _REPLACED.items():
        if signal.getsignal(signum) is _terminated:
            signal.signal(signum, previous)
    _REPLACED.clear()


@contextlib.contextmanager
def _removed_if_terminated(tmp: Path) -> Iterator[None]:
    """While the block runs, SIGTERM or SIGHUP removes `tmp` before the
    process ends. Signal handlers belong to the main thread: writes in
    other threads are covered only while the main thread writes too."""
    main = threading.current_thread() is threading.main_thread()
    with _LOCK:
        if main:
            _catch_terminating()
        _WRITING[tmp] = None
    try:
        yield
    finally:
        with _LOCK:
            _WRITING.pop(tmp, None)
            if main and not _WRITING:
                _release_terminating()


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str], mode: str = "w", *, encoding: str | None = "utf-8"
) -> Iterator[IO[Any]]:
    """Open `path` for writing so that it appears whole or not at all.

    The stream writes to a new temporary file beside `path`; when the
    ``with`` block ends normally the file is flushed, synced to disk and
    moved over `path` with :func:`os.replace` (atomic on POSIX and Windows).
    When the block raises (Ctrl-C too), the temporary file is removed and
    `path` is left as it was; SIGTERM and SIGHUP remove it too, before the
    process ends of them as it would have.

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
    with _removed_if_terminated(tmp):
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


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write `text` (UTF-8) to `path` atomically (:func:`atomic_write`),
    gzip-compressed when `path` ends in ``.gz``. Nothing is checked: see
    :func:`check_output`.

    Returns
    -------
    pathlib.Path
        `path`.
    """
    path = Path(path)
    if not path.name.lower().endswith(".gz"):
        with atomic_write(path) as stream:
            stream.write(text)
        return path
    with (
        atomic_write(path, "wb") as raw,
        gzip.GzipFile(filename=path.name, mode="wb", fileobj=raw) as packed,
    ):
        packed.write(text.encode("utf-8"))
    return path


# -- outputs checked before any work


def output_file(path: str | os.PathLike[str]) -> Path:
    """`path` as the name of a file to write.

    Raises
    ------
    InputError
        It is empty, or ends in a path separator: it names a directory.
    """
    text = os.fspath(path)
    if not text:
        raise InputError("an empty name is not a file: name one")
    if text.endswith(tuple(filter(None, ("/", os.sep, os.altsep)))):
        raise InputError(
            f"{text}: names a directory (it ends in {text[-1]!r}); give a file name"
        )
    return Path(text)


def _status(path: Path) -> os.stat_result | None:
    """`path`'s status (links followed), None when there is no such file."""
    try:
        return path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return None


def _same_file(status: os.stat_result, other: str | os.PathLike[str]) -> bool:
    with contextlib.suppress(OSError, ValueError):
        theirs = os.stat(other)
        return (status.st_dev, status.st_ino) == (theirs.st_dev, theirs.st_ino)
    return False


def _is_stdin(status: os.stat_result) -> bool:
    """Whether standard input reads the file of `status`."""
    try:
        theirs = os.fstat(sys.stdin.fileno())
    except (AttributeError, ValueError, OSError):  # closed, replaced, none
        return False
    return (status.st_dev, status.st_ino) == (theirs.st_dev, theirs.st_ino)


def _check_not_input(
    path: Path, label: str, inputs: Sequence[str | os.PathLike[str]]
) -> None:
    """Refuse an output that is an input: the same file by any spelling or
    link, standard input's file (input ``-``), or a file in an input
    directory (a Parquet dataset, whose every file is read as data)."""
    target = path.resolve()
    status = _status(path)
    for source in inputs:
        if os.fspath(source) == "-":
            if status is not None and _is_stdin(status):
                raise InputError(
                    f"{label}: is an input file (standard input reads it); "
                    "refusing to overwrite it"
                )
            continue
        given = Path(source)
        directory = given.is_dir()
        if target == given.resolve() or (
            status is not None and _same_file(status, given)
        ):
            what = "the input directory" if directory else "an input file"
            raise InputError(f"{label}: is {what}; refusing to overwrite it")
        if not directory:
            continue
        if target.is_relative_to(given.resolve()):
            raise InputError(
                f"{label}: is inside the input directory {os.fspath(source)!r}, "
                "whose files are read as data; write it elsewhere"
            )
        if status is not None and status.st_nlink > 1:  # a hard link into it?
            twin = next((p for p in given.rglob("*") if _same_file(status, p)), None)
            if twin is not None:
                raise InputError(
                    f"{label}: is an input file (the same file as {str(twin)!r}); "
                    "refusing to overwrite it"
                )


def _check_writable(path: Path, label: str, probed: set[Path]) -> None:
    """Create and remove a temporary file beside `path`, as
    :func:`atomic_write` will: a directory that cannot be written to is
    found now, not after the work. `probed`: directories already tried."""
    parent = path.parent
    if parent in probed:
        return
    try:
        tmp, fd = _create_temporary(path)
    except OSError as exc:
        raise InputError(
            f"{label}: cannot write in the directory {str(parent)!r} "
            f"({exc.strerror or exc})"
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        tmp.unlink()
    probed.add(parent)


def _check_output(
    path: str | os.PathLike[str],
    inputs: Sequence[str | os.PathLike[str]],
    force: bool,
    probed: set[Path],
) -> Path:
    label = os.fspath(path)  # as the user spelled it
    path = output_file(path)
    try:
        _check_not_input(path, label, inputs)
        if path.is_dir():
            raise InputError(f"{label}: is a directory")
        if path.exists() and not path.is_file():
            # the atomic write renames a new file over the target, which
            # would replace a device such as /dev/null, or a pipe, by a
            # regular file
            raise InputError(
                f"{label}: not a regular file (a device or a pipe); "
                "refusing to replace it"
            )
        if path.exists() and not force:
            raise InputError(f"{label}: exists; use --force to overwrite")
        _check_directory(label)
        _check_writable(path, label, probed)
    except OSError as exc:  # a name too long, a loop of links ...
        reason = exc.strerror or exc
        raise InputError(f"{label}: cannot be written ({reason})") from None
    return path


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
        The files and directories read; ``"-"`` is standard input. An output
        that is one of them (by any spelling, symbolic or hard link), the
        file standard input reads, or inside an input directory, is refused
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
        `path` is an input or inside an input directory, names a directory
        (an existing one, or it ends in ``/``), is a device or pipe, exists
        (unless `force`), its directory does not exist or cannot be written
        to (a temporary file is created and removed there to find out).

    See Also
    --------
    check_outputs : every output of a command, and that they are distinct.

    Examples
    --------
    >>> from scurve.io import check_output
    >>> check_output("results.csv", inputs=["./results.csv"])
    Traceback (most recent call last):
    ...
    scurve.errors.InputError: results.csv: is an input file; refusing to overwrite it
    """
    return _check_output(path, inputs, force, set())


def check_outputs(
    outputs: Iterable[str | os.PathLike[str] | None],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    force: bool = False,
) -> list[Path]:
    """Check every output of one command before any work: each may be
    written (:func:`check_output`: never an input, ...), and no two are the
    same file (by any spelling or link).

    Parameters
    ----------
    outputs : iterable of str, os.PathLike or None
        The files the command writes; None (an output not asked for) is
        skipped.
    inputs, force
        As for :func:`check_output`.

    Returns
    -------
    list of pathlib.Path
        The outputs, Nones left out.

    Raises
    ------
    InputError
        As :func:`check_output`, or one file given as two outputs.

    Examples
    --------
    >>> from scurve.io import check_outputs
    >>> check_outputs(["fits.csv", None, "./fits.csv"])
    Traceback (most recent call last):
    ...
    scurve.errors.InputError: ./fits.csv: the same file as the output 'fits.csv'; \
give each output its own name
    """
    probed: set[Path] = set()
    given = [p for p in outputs if p is not None]
    paths = [_check_output(p, inputs, force, probed) for p in given]
    seen: dict[Any, str] = {}
    for spelled, path in zip(given, paths, strict=True):
        label = os.fspath(spelled)
        keys: list[Any] = [os.path.normcase(path.resolve())]
        status = _status(path)
        if status is not None:
            keys.append((status.st_dev, status.st_ino))
        for key in keys:
            if key in seen:
                raise InputError(
                    f"{label}: the same file as the output {seen[key]!r}; "
                    "give each output its own name"
                )
        seen.update(dict.fromkeys(keys, label))
    return paths


# -- tables and documents


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
    """Write `obj` as strict JSON (RFC 8259), atomically; gzip-compressed
    for ``.json.gz``.

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
    return write_text(_dumps(obj), path)


def _write_excel(df: pd.DataFrame, path: Path) -> None:
    """`df` as the one sheet ("results") of an Excel workbook (openpyxl)."""
    rows, columns = df.shape
    if rows + 1 > EXCEL_MAX_ROWS or columns > EXCEL_MAX_COLUMNS:
        size = (
            f"{rows} rows and a header"
            if rows + 1 > EXCEL_MAX_ROWS
            else f"{columns} columns"
        )
        most = (
            f"{EXCEL_MAX_ROWS} rows"
            if rows + 1 > EXCEL_MAX_ROWS
            else f"{EXCEL_MAX_COLUMNS} columns"
        )
        raise InputError(
            f"{path}: {size} do not fit in an Excel sheet ({most} at most); "
            "write .csv or .parquet"
        )
    try:
        import openpyxl  # noqa: F401
    except ImportError:
        raise InputError(
            f"{path}: writing .xlsx needs openpyxl: pip install openpyxl"
        ) from None
    try:
        with atomic_write(path, "wb") as stream:
            df.to_excel(stream, sheet_name="results", index=False, engine="openpyxl")
    except (ValueError, TypeError) as exc:  # a value Excel cannot hold
        reason = " ".join(str(exc).split())
        raise InputError(
            f"{path}: cannot be written as Excel ({reason}); write .csv or .parquet"
        ) from None


def write_table(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    inputs: Sequence[str | os.PathLike[str]] = (),
    force: bool = False,
) -> Path:
    """Write a table, atomically, in the format its extension names
    (:func:`table_format`).

    ``.csv`` or ``.txt``: CSV; ``.tsv``: tab-separated; ``.json``: a list of
    records (one object per row, NaN as ``null``, infinities as
    ``"inf"``/``"-inf"``, numbers at full precision); ``.parquet`` or
    ``.pq``: Parquet; ``.xlsx``: an Excel workbook of one sheet,
    ``results`` (needs openpyxl); ``.csv.gz``, ``.tsv.gz``, ``.txt.gz``,
    ``.json.gz``: gzip-compressed. Any other extension is refused. Text
    tables are UTF-8, without the index; missing values are empty cells and
    numbers keep every digit.

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
        As :func:`check_output`; an extension naming no format written here;
        Parquet without pyarrow; a table too large for an Excel sheet.

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
    kind = table_format(path).kind
    if kind == "parquet":
        try:
            with atomic_write(path, "wb") as stream:
                df.to_parquet(stream)
        except ImportError:
            message = NO_PYARROW.replace("reading", "writing")
            raise InputError(f"{path}: {message}") from None
    elif kind == "xlsx":
        _write_excel(df, path)
    elif kind == "json":
        records = df.astype(object).where(df.notna(), None).to_dict("records")
        write_text(_dumps(records), path)
    else:
        write_text(delimited_text(df, "\t" if kind == "tsv" else ","), path)
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


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity where known)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1
