r"""Screens larger than memory, and larger than one machine.

Two ways to fit millions of curves on top of :func:`scurve.fit`, both giving
its results table (one row per group: the keys, ``model``, ``NAME``,
``NAME_stderr``, ``NAME_lower``, ``NAME_upper`` per parameter and derived
quantity, the statistics, ``converged``, ``status``, ``message``):

*Streaming* (:func:`fit_parquet`): a Parquet file or dataset directory is
read a batch of rows at a time with pyarrow (only the columns the fit
needs), cut into chunks of whole groups, and each chunk is fitted by
:func:`scurve.fit` (the vectorized fast path) and appended to the output
file. Memory grows with the chunk, not with the dataset. The rows of a group
must be contiguous, as screens write them (the chunk's last group, possibly
incomplete, is carried into the next); a group that reappears after its
chunk was closed is an input error. The output appears whole or not at all.

*Dask* (:func:`fit_dask`, which :func:`scurve.fit` calls for a Dask
DataFrame): the rows are shuffled on the keys so that every group is whole in
one partition, then each partition is fitted on a worker with
``workers=1``; the result is a lazy Dask DataFrame of the same table.

Dask and its distributed scheduler are optional (``pip install
'scurve[dask]'``); pyarrow, which reads and writes Parquet, is a dependency.

Examples
--------
A synthetic screen of 4PL curves, streamed 50 curves at a time:

>>> import pathlib, tempfile
>>> import pandas as pd
>>> from scurve import scale
>>> with tempfile.TemporaryDirectory() as tmp:
...     data = pathlib.Path(tmp) / "screen.parquet"
...     _ = scale.write_screen(data, 120, seed=1)
...     out = pathlib.Path(tmp) / "fits.csv"
...     done = scale.fit_parquet(data, "hill", x="dose", y="response",
...                              by=["drug", "cell"], output=out, chunk_curves=50)
...     table = pd.read_csv(done.output)
>>> done.groups, done.chunks, len(table)
(120, 3, 120)
"""

from __future__ import annotations

import contextlib
import dataclasses
import gzip
import numbers
import os
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from io import TextIOWrapper
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from scurve import io
from scurve.errors import FitError, InputError
from scurve.fitters.engine import fit_frame
from scurve.fitters.options import FitOptions
from scurve.inference.intervals import CI
from scurve.models.base import SCurveModel
from scurve.models.registry import get_model

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from numpy.typing import NDArray

__all__ = [
    "CHUNK_CURVES",
    "NO_DASK",
    "STREAM_ROWS",
    "Streamed",
    "TableWriter",
    "check_stream_output",
    "fit_dask",
    "fit_parquet",
    "import_dask",
    "parquet_rows",
    "screen",
    "stream_format",
    "write_dask",
    "write_screen",
]

#: Groups fitted per chunk when streaming: enough for the fast path to run at
#: full speed, small enough that a chunk of 8 x 3-point curves takes ~50 MB.
CHUNK_CURVES = 20_000
#: Rows read from the Parquet file at a time.
BATCH_ROWS = 1 << 16
#: ``scurve fit`` streams a Parquet input with more rows than this (per its
#: metadata) when the results go to a file (-o).
STREAM_ROWS = 1_000_000
#: Problem groups (status not ok) kept, with their messages, for the report.
KEEP_PROBLEMS = 10
NO_DASK = "fitting with Dask needs dask and distributed: pip install 'scurve[dask]'"
#: The output formats written chunk by chunk (:func:`scurve.io.table_format`
#: kinds; the text ones gzip-compressed too, as ``.csv.gz``).
STREAM_FORMATS = ("parquet", "csv", "tsv")

_DROPPED = re.compile(
    r"dropped (\d+) rows? with missing or infinite values \(first: (.*)\)$"
)


# ------------------------------------------------------------------ synthetic data


def screen(
    curves: int,
    *,
    seed: int = 0,
    start: int = 0,
    cells: int = 100,
) -> pd.DataFrame:
    r"""A SYNTHETIC dose-response screen: seeded 4PL curves, 8 doses x 3 replicates.

    Curve ``i`` (counted from `start`) is drug ``drug{i // cells}`` on cell
    line ``cell{i % cells}``, with

    .. math:: y = \text{bottom} + (\text{top} - \text{bottom})\,
              \sigma\bigl(\text{hill}\,\ln 10\,(\log_{10} x - \text{log\_ec50})\bigr)
              + \varepsilon

    at the doses :math:`10^{-3}, 10^{-2.43}, \dots, 10^{1}` (8 log-spaced),
    each three times, where bottom ~ U(0, 10), top ~ U(80, 100),
    log_ec50 ~ U(-2, 0), hill ~ U(0.5, 2.5) and the noise ε ~ N(0, 3²).
    Curve ``i`` depends only on `seed` and ``i``, so a dataset can be made
    piece by piece.

    Parameters
    ----------
    curves : int
        How many curves.
    seed : int
        The generator's seed.
    start : int
        The index of the first curve.
    cells : int
        Cell lines per drug.

    Returns
    -------
    pandas.DataFrame
        Columns ``drug``, ``cell``, ``dose``, ``response``; 24 rows per
        curve, the rows of each curve together.
    """
    import numpy as np
    import pandas as pd

    from scurve.core.special import expit

    index = np.arange(start, start + curves)
    dose = np.repeat(np.logspace(-3, 1, 8), 3)
    # one generator per block of 1000 curves, so that any slice is reproducible
    blocks = np.unique(index // 1000)
    draws = [np.random.default_rng([seed, b]) for b in blocks]
    params = np.concatenate([g.random((1000, 4)) for g in draws])
    noise = np.concatenate([g.normal(0.0, 3.0, (1000, dose.size)) for g in draws])
    rows = index - blocks[0] * 1000
    params, noise = params[rows], noise[rows]
    bottom, top = 10 * params[:, 0], 80 + 20 * params[:, 1]
    log_ec50, hill = -2 + 2 * params[:, 2], 0.5 + 2 * params[:, 3]
    z = hill[:, None] * np.log(10) * (np.log10(dose)[None, :] - log_ec50[:, None])
    response = bottom[:, None] + (top - bottom)[:, None] * expit(z) + noise
    return pd.DataFrame(
        {
            "drug": np.char.add("drug", (index // cells).astype(str)).repeat(dose.size),
            "cell": np.char.add("cell", (index % cells).astype(str)).repeat(dose.size),
            "dose": np.tile(dose, curves),
            "response": response.ravel(),
        }
    )


def write_screen(
    path: str | os.PathLike[str],
    curves: int,
    *,
    seed: int = 0,
    chunk_curves: int = 100_000,
    progress: Callable[[int], None] | None = None,
) -> Path:
    """Write :func:`screen` ``(curves, seed=seed)`` to a Parquet file, piece by piece.

    Never holds more than `chunk_curves` curves (one row group each);
    `progress` is called with the number of curves written. Returns the path.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    with io.atomic_write(path, "wb") as stream:  # whole, or not at all
        writer = None
        try:
            for begin in range(0, curves, chunk_curves):
                part = screen(min(chunk_curves, curves - begin), seed=seed, start=begin)
                table = pa.Table.from_pandas(part, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(stream, table.schema)
                writer.write_table(table)
                if progress is not None:
                    progress(begin + len(part) // 24)
        finally:
            if writer is not None:
                writer.close()
        if writer is None:  # no curves: an empty table, with its columns
            empty = pa.Table.from_pandas(screen(0, seed=seed), preserve_index=False)
            pq.write_table(empty, stream)
    return path


# ------------------------------------------------------------------ writing


class TableWriter:
    """Results tables appended one after another to one file, atomically.

    ``.parquet``/``.pq``: Parquet (one row group per table written, the
    schema of the first); ``.tsv``: tab-separated; ``.csv``, ``.txt``: CSV,
    as :func:`scurve.io.write_table` writes them; the text formats
    gzip-compressed with ``.gz`` after them (:data:`STREAM_FORMATS`). The
    file is written under a temporary name beside `path` and renamed into
    place by :meth:`close`; :meth:`abort` (or leaving the ``with`` block by
    an exception) removes it.

    Examples
    --------
    >>> import pathlib, tempfile, pandas as pd
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = pathlib.Path(tmp) / "out.csv"
    ...     with TableWriter(path) as out:
    ...         out.write(pd.DataFrame({"g": ["a"], "v": [1.5]}))
    ...         out.write(pd.DataFrame({"g": ["b"], "v": [2.0]}))
    ...     print(path.read_text(), end="")
    g,v
    a,1.5
    b,2.0
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        fmt = stream_format(self.path)
        self.parquet = fmt.kind == "parquet"
        self.sep = "\t" if fmt.kind == "tsv" else ","
        self.rows = 0
        self._tables = 0
        self._writer: Any = None
        self._schema: Any = None
        if self.parquet:
            try:
                import pyarrow.parquet  # noqa: F401
            except ImportError:
                message = io.NO_PYARROW.replace("reading", "writing")
                raise InputError(f"{self.path}: {message}") from None
        binary = self.parquet or fmt.gzip
        self._context = io.atomic_write(self.path, "wb" if binary else "w")
        self._stream = self._context.__enter__()
        self._packed: gzip.GzipFile | None = None
        if fmt.gzip:
            self._packed = gzip.GzipFile(
                filename=self.path.name, mode="wb", fileobj=self._stream
            )
            self._stream = TextIOWrapper(self._packed, encoding="utf-8", newline="")

    def write(self, table: pd.DataFrame) -> None:
        """Append `table` (the columns of the first table written)."""
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            if self._schema is None:
                arrow = pa.Table.from_pandas(table, preserve_index=False)
                self._schema = arrow.schema
                self._writer = pq.ParquetWriter(self._stream, self._schema)
            else:
                arrow = pa.Table.from_pandas(
                    table, schema=self._schema, preserve_index=False
                )
            self._writer.write_table(arrow)
        else:
            table.to_csv(
                self._stream,
                sep=self.sep,
                index=False,
                header=self._tables == 0,
                lineterminator="\n",
            )
        self._tables += 1
        self.rows += len(table)

    def close(self) -> Path:
        """Finish the file and move it into place; returns its path."""
        if self._writer is not None:
            self._writer.close()
        elif self.parquet:
            import pandas as pd

            pd.DataFrame().to_parquet(self._stream)
        if self._packed is not None:
            self._stream.close()  # and the gzip stream, not the file under it
        self._context.__exit__(None, None, None)
        return self.path

    def abort(self, exc: BaseException | None = None) -> None:
        """Remove the temporary file; `path` is left as it was."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
        if self._packed is not None:
            with contextlib.suppress(Exception):
                self._stream.close()
        exc = exc or RuntimeError("aborted")
        with contextlib.suppress(BaseException):
            self._context.__exit__(type(exc), exc, exc.__traceback__)

    def __enter__(self) -> TableWriter:
        return self

    def __exit__(self, kind: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None:
            self.close()
        else:
            self.abort(exc)


def stream_format(output: str | os.PathLike[str]) -> io.TableFormat:
    """The format of a results file written chunk by chunk
    (:data:`STREAM_FORMATS`).

    Raises
    ------
    scurve.errors.InputError
        A format that cannot be appended to (JSON, Excel), or none.
    """
    fmt = io.table_format(output)
    if fmt.kind not in STREAM_FORMATS:
        what = "an Excel workbook" if fmt.kind == "xlsx" else "JSON"
        raise InputError(
            f"{os.fspath(output)}: results written chunk by chunk go to .parquet, "
            f".csv or .tsv (.csv.gz and .tsv.gz compressed), not {what}"
        )
    return fmt


def check_stream_output(
    output: str | os.PathLike[str], inputs: Sequence[Any], force: bool
) -> Path:
    """:func:`scurve.io.check_output`, and a format that can be appended to
    (:func:`stream_format`)."""
    path = io.check_output(output, inputs=inputs, force=force)
    stream_format(output)
    return path


# ------------------------------------------------------------------ streaming


@dataclasses.dataclass
class Streamed:
    """What :func:`fit_parquet` did.

    Attributes
    ----------
    output : pathlib.Path
        The results file.
    groups, rows, chunks : int
        Groups fitted (rows of the results), rows read, chunks fitted.
    statuses : dict
        Status -> number of groups.
    problems : list of dict
        The first few groups whose status is not ``ok``: their keys,
        ``status`` and ``message``.
    notes : list of str
        Warnings, once each (dropped rows counted over the whole file).
    """

    output: Path
    groups: int = 0
    rows: int = 0
    chunks: int = 0
    statuses: dict[str, int] = dataclasses.field(default_factory=dict)
    problems: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    notes: list[str] = dataclasses.field(default_factory=list)

    @property
    def failed(self) -> int:
        """Groups that failed or did not converge."""
        return self.statuses.get("failed", 0) + self.statuses.get("not_converged", 0)


def _dataset(source: str | os.PathLike[str], label: str) -> Any:
    """The pyarrow dataset of a Parquet file or directory, with io's messages."""
    try:
        import pyarrow.dataset as ds
    except ImportError:
        raise InputError(f"{label}: {io.NO_PYARROW}") from None
    path = Path(source)
    if not path.exists():
        raise InputError(f"{label}: no such file")
    if path.is_dir() and not any(
        p.suffix.lower() in io.PARQUET_SUFFIXES or p.name == "_metadata"
        for p in path.rglob("*")
    ):
        raise InputError(f"{label}: a directory with no Parquet files in it")
    try:
        return ds.dataset(path, format="parquet", partitioning="hive")
    except PermissionError:
        raise InputError(f"{label}: permission denied") from None
    except (OSError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise InputError(f"{label}: not a readable Parquet file ({message})") from None


def parquet_rows(source: str | os.PathLike[str]) -> int:
    """The number of rows of a Parquet file or dataset, from its metadata.

    Raises
    ------
    scurve.errors.InputError
        Not a readable Parquet file or directory, or pyarrow is missing.
    """
    label = os.fspath(source)
    dataset = _dataset(source, label)
    try:
        return int(dataset.count_rows())
    except (OSError, ValueError) as exc:
        message = " ".join(str(exc).split())
        raise InputError(f"{label}: not a readable Parquet file ({message})") from None


def _key_hashes(keys: pd.DataFrame) -> NDArray[np.uint64]:
    """A 64-bit hash of each row's key values."""
    import pandas as pd

    return pd.util.hash_pandas_object(keys, index=False).to_numpy()


class _ClosedGroups:
    """Hashes of the groups already fitted, to catch a group that reappears.

    Kept as a few sorted arrays, merged when they grow numerous: 8 bytes per
    group (80 MB for 10^7 groups), a binary search per lookup. Two different
    keys with the same 64-bit hash (about 3 in 10^6 for 10^7 groups) would
    be reported as a reappearing group.
    """

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def seen(self, hashes: NDArray[np.uint64]) -> NDArray[np.bool_]:
        import numpy as np

        found = np.zeros(hashes.size, dtype=bool)
        for part in self.parts:
            where = np.searchsorted(part, hashes).clip(max=part.size - 1)
            found |= part[where] == hashes
        return found

    def add(self, hashes: NDArray[np.uint64]) -> None:
        import numpy as np

        self.parts.append(np.sort(hashes))
        if len(self.parts) > 16:
            merged = np.concatenate(self.parts)
            merged.sort()  # in place: no third copy (80 MB at 10^7 groups)
            self.parts = [merged]


def _group_text(keys: Sequence[str], values: Sequence[Any]) -> str:
    return ", ".join(f"{k}={v!r}" for k, v in zip(keys, values, strict=True))


def _chunks(
    batches: Iterator[pd.DataFrame],
    keys: list[str],
    chunk_curves: int,
    label: str,
) -> Iterator[tuple[pd.DataFrame, int]]:
    """Cut a stream of row batches into chunks of `chunk_curves` whole groups.

    Yields each chunk and its number of groups. Each batch carries its global
    row numbers as its index. A group that reappears after its rows ended is
    an :class:`~scurve.errors.InputError`.
    """
    import numpy as np
    import pandas as pd

    closed = _ClosedGroups()
    pending: pd.DataFrame | None = None
    starts = np.zeros(0, dtype=np.intp)

    def close(chunk: pd.DataFrame, runs: NDArray[np.intp]) -> tuple[pd.DataFrame, int]:
        heads = chunk[keys].iloc[runs]
        hashes = _key_hashes(heads)
        again = closed.seen(hashes)
        _, first = np.unique(hashes, return_index=True)
        repeated = np.ones(hashes.size, dtype=bool)
        repeated[first] = False
        bad = again | repeated
        if bad.any():
            i = int(np.argmax(bad))
            group = _group_text(keys, heads.iloc[i].tolist())
            raise InputError(
                f"{label}: the rows of group {group} appear again at row "
                f"{chunk.index[runs[i]]}, after other groups: fitting in chunks "
                f"needs each group's rows together; sort the data by "
                f"{', '.join(keys)}, or fit with Dask (scurve fit --dask), "
                "which shuffles"
            )
        closed.add(hashes)
        return chunk, runs.size

    for batch in batches:
        if not len(batch):
            continue
        new = io.run_starts(batch, keys)
        if pending is None or not len(pending):
            pending, starts = batch, new
        else:
            joint = pd.concat([pending[keys].iloc[-1:], batch[keys].iloc[:1]])
            continues = len(io.run_starts(joint, keys)) == 1
            shift = len(pending)
            new = new[1:] if continues else new
            pending = pd.concat([pending, batch])
            starts = np.concatenate([starts, new + shift])
        while len(starts) > chunk_curves:  # the last run may go on
            cut = starts[chunk_curves]
            yield close(pending.iloc[:cut], starts[:chunk_curves])
            pending, starts = pending.iloc[cut:], starts[chunk_curves:] - cut
    if pending is not None and len(pending):
        yield close(pending, starts)


def _batches(
    dataset: Any, columns: list[str], batch_rows: int
) -> Iterator[pd.DataFrame]:
    """The dataset's rows, `batch_rows` at a time, indexed by row number.

    File by file, in the dataset's order (that of :func:`pandas.read_parquet`),
    with :meth:`pyarrow.parquet.ParquetFile.iter_batches`, which holds about
    one row group (half the memory of a dataset scanner's read-ahead); the
    scanner when a column comes from the directory names (hive partitions).
    The files are opened without ``pre_buffer``: its cache keeps every row
    group read until the file is closed (pyarrow 26: 190 MB more per
    million curves read; without it the reader stays at about 30 MB).
    """
    import pandas as pd
    import pyarrow.parquet as pq

    def record_batches() -> Iterator[Any]:
        files = [pq.ParquetFile(name, pre_buffer=False) for name in dataset.files]
        if all(set(columns) <= set(f.schema_arrow.names) for f in files):
            for parquet in files:
                yield from parquet.iter_batches(batch_size=batch_rows, columns=columns)
        else:
            yield from dataset.to_batches(columns=columns, batch_size=batch_rows)

    offset = 0
    for record_batch in record_batches():
        frame = record_batch.to_pandas()
        frame.index = pd.RangeIndex(offset, offset + len(frame))
        offset += len(frame)
        yield frame


def _needed(x: str, y: str, keys: Sequence[str], weights: str | None) -> list[str]:
    return list(dict.fromkeys([*keys, x, y, *([weights] if weights else [])]))


def _check_columns(names: Sequence[str], label: str, **select: Any) -> None:
    """io.select on an empty table with these columns: the same messages for
    a missing column (with the columns listed) or a key named x, y."""
    import pandas as pd

    empty = pd.DataFrame({name: pd.Series(dtype=object) for name in names})
    empty.attrs["source"] = label
    io.select(empty, **select)


def _chunk_progress(
    progress: Callable[[int, int], None] | None, done: Streamed, rows: int, size: int
) -> Callable[[int], None] | None:
    """A chunk's per-group progress callback, as totals over the run (rows as
    many per group as the chunk has on average)."""
    if progress is None:
        return None
    groups_before, rows_before = done.groups, done.rows

    def report(n: int) -> None:
        progress(groups_before + n, rows_before + rows * min(n, size) // size)

    return report


def fit_parquet(
    source: str | os.PathLike[str],
    model: str | SCurveModel = "sigmoid",
    *,
    output: str | os.PathLike[str],
    x: str = "x",
    y: str = "y",
    by: str | Sequence[str],
    weights: str | None = None,
    weights_kind: Literal["sigma", "variance", "weight"] = "sigma",
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    ci: CI = "delta",
    level: float = 0.95,
    nan: Literal["drop", "error"] = "drop",
    chunk_curves: int = CHUNK_CURVES,
    batch_rows: int = BATCH_ROWS,
    progress: Callable[[int, int], None] | None = None,
    force: bool = False,
    workers: int | None = None,
    name: str | None = None,
    **model_options: Any,
) -> Streamed:
    """Fit every group of a Parquet file or dataset, streaming it in chunks.

    The results file holds exactly ``scurve.fit(whole_table, ...).table``
    (same rows, same order), but memory grows with `chunk_curves`, not with
    the dataset: rows are read `batch_rows` at a time (only the columns
    needed), cut into chunks of `chunk_curves` whole groups, each fitted by
    :func:`scurve.fit` and appended to `output`.

    Parameters
    ----------
    source : str or os.PathLike
        A Parquet file, or a directory of them (a dataset, read in the order
        pyarrow lists its files, as :func:`scurve.io.read_table` does).
    model, x, y, weights, weights_kind, fix, init, bounds, ci, level, nan, workers
        As for :func:`scurve.fit` (`workers`: processes for each chunk's fast
        path; None, the default, uses the cores).
    output : str or os.PathLike
        The results: ``.parquet`` or ``.pq`` Parquet, ``.tsv`` tab-separated,
        ``.csv`` or ``.txt`` CSV, the text ones gzip-compressed with ``.gz``
        after them (not JSON, nor Excel). Written under a temporary name and
        renamed into place at the end; an error or interruption leaves no
        output. Never an input file; an existing file only with `force`.
    by : str or sequence of str
        The group key column(s). The rows of each group must be contiguous.
    chunk_curves : int
        Groups fitted at a time.
    batch_rows : int
        Rows read at a time.
    progress : callable, optional
        Called as ``progress(groups_done, rows_done)`` after each group (rows
        counted exactly after each chunk, in proportion within it).
    name : str, optional
        What to call the input in messages (default: `source` as given).
    **model_options
        Passed to the model, as for :func:`scurve.fit`.

    Returns
    -------
    Streamed

    Raises
    ------
    scurve.errors.InputError
        An unreadable input, a missing or non-numeric column, a missing
        value with ``nan="error"``, a negative dose, ... named with its file,
        column and row (rows counted from 0 over the whole dataset, as in
        the DataFrame :func:`scurve.io.read_table` gives); a group whose
        rows are not together; an output that may not be written.
    scurve.FitError
        Options the model refuses.

    Notes
    -----
    Each chunk's dropped-row note is summed into one for the whole file.
    Groups are the runs of equal keys; rows with a missing key form a group,
    as in :func:`scurve.fit`.
    """
    import gc
    import warnings as _warnings

    label = name or os.fspath(source)
    keys = list(dict.fromkeys([by] if isinstance(by, str) else by))
    if not keys:
        raise FitError("streaming fits groups: give by=")
    if chunk_curves < 1 or batch_rows < 1:
        raise ValueError("chunk_curves and batch_rows must be >= 1")
    the_model = get_model(model, **model_options)
    dataset = _dataset(source, label)
    selection = {
        "x": x, "y": y, "by": keys, "weights": weights, "nan": nan,
        "weights_kind": weights_kind, "positive_x": the_model.positive_x,
    }  # fmt: skip
    options = FitOptions(
        fix=dict(fix or {}), init=dict(init or {}), bounds=dict(bounds or {}),
        ci=ci, level=level, workers=workers,
    )  # fmt: skip
    options.check(the_model)
    _check_columns(dataset.schema.names, label, **selection)
    path = check_stream_output(output, [source], force)
    done = Streamed(output=path)
    statuses: Counter[str] = Counter()
    dropped, first_dropped = 0, ""
    notes: dict[str, None] = {}
    batches = _batches(dataset, _needed(x, y, keys, weights), batch_rows)
    with TableWriter(path) as out:
        for chunk, size in _chunks(batches, keys, chunk_curves, label):
            chunk.attrs["source"] = label
            report = _chunk_progress(progress, done, len(chunk), size)
            with _warnings.catch_warnings(record=True) as caught:
                _warnings.simplefilter("always")
                fits = fit_table(
                    chunk, the_model, keys, selection, options, progress=report
                )
            for record in caught:
                text = str(record.message)
                if match := _DROPPED.search(text):
                    dropped += int(match[1])
                    first_dropped = first_dropped or match[2]
                else:
                    notes.setdefault(text)
            table = fits.table
            out.write(table)
            done.groups += len(table)
            done.rows += len(chunk)
            done.chunks += 1
            counts = table["status"].value_counts()
            statuses.update({str(k): int(v) for k, v in counts.items()})
            if len(done.problems) < KEEP_PROBLEMS:
                bad = table[table["status"] != "ok"].head(
                    KEEP_PROBLEMS - len(done.problems)
                )
                done.problems += bad[[*keys, "status", "message"]].to_dict("records")
            if progress is not None:
                progress(done.groups, done.rows)
            # a chunk's fits hold reference cycles (lmfit's parameters and
            # their expression interpreter): collected now, they do not add
            # to the next chunk's peak (over 2 million curves the peak grew
            # 142 MB without this, 77 MB with it)
            del fits, table
            gc.collect()
    if dropped:
        rows = "row" if dropped == 1 else "rows"
        notes = {
            f"{label}: dropped {dropped} {rows} with missing or infinite values "
            f"(first: {first_dropped})": None,
            **notes,
        }
    done.statuses = dict(statuses)
    done.notes = list(notes)
    for note in done.notes:
        warnings.warn(note, stacklevel=2)
    return done


def fit_table(
    frame: pd.DataFrame,
    model: SCurveModel,
    keys: list[str],
    selection: Mapping[str, Any],
    options: FitOptions,
    *,
    progress: Callable[[int], None] | None = None,
) -> Any:
    """Select the columns of a fit from a pandas table (:func:`scurve.io.
    select` with `selection`: x, y, by, weights, weights_kind, nan,
    positive_x) and fit every group: a chunk of a stream, a Dask partition.
    Notes of dropped rows are warnings, as :func:`scurve.fit` gives them."""
    chosen = io.select(frame, **selection)
    for note in chosen.notes:
        warnings.warn(note, stacklevel=2)
    return fit_frame(model, chosen.frame, keys, options, progress=progress)


# ------------------------------------------------------------------ Dask


def import_dask() -> Any:
    """dask.dataframe, or an ImportError saying how to install it."""
    try:
        import dask.dataframe as dd
        import distributed  # noqa: F401
    except ImportError:
        raise ImportError(NO_DASK) from None
    return dd


#: The column of a Dask table's rows that holds the partition they were in
#: before the shuffle (for messages that name a row).
_ORIGIN = "__scurve_partition__"


def _with_origin(
    part: pd.DataFrame, partition_info: dict[str, Any] | None = None
) -> pd.DataFrame:
    """`part` with its partition's number in column :data:`_ORIGIN`."""
    import numpy as np

    number = -1 if partition_info is None else int(partition_info["number"])
    return part.assign(**{_ORIGIN: np.full(len(part), number, dtype=np.int64)})


@dataclasses.dataclass(frozen=True)
class _Origins:
    """Where the rows of a shuffled partition were: the index label each had
    and the partition it was in (Dask's number, as ``get_partition``)."""

    labels: Any  # arrays, one entry per row
    partitions: Any

    def __call__(self, position: Any) -> str:
        if isinstance(position, numbers.Integral) and 0 <= position < len(self.labels):
            return (
                f"row {self.labels[position]} of partition {self.partitions[position]}"
            )
        return f"row {position}"


def _fit_partition(
    part: pd.DataFrame,
    *,
    model: SCurveModel,
    keys: list[str],
    empty: pd.DataFrame,
    label: str | None,
    selection: dict[str, Any],
    options: FitOptions,
) -> pd.DataFrame:
    """One partition's results table, in this process (``workers=1``)."""
    if not len(part):
        return empty
    part = part.copy(deep=False)
    if _ORIGIN in part.columns:  # messages name a row where it was
        origins = _Origins(part.index.to_numpy(), part[_ORIGIN].to_numpy())
        part = part.drop(columns=_ORIGIN).reset_index(drop=True)
        part.attrs["rows"] = origins
    if label:
        part.attrs["source"] = label
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # notes of dropped rows stay on workers
        table = fit_table(part, model, keys, selection, options).table
    if not len(table):
        return empty
    return table.astype(empty.dtypes.to_dict())


def _meta(
    frame: pd.DataFrame,
    model: SCurveModel,
    keys: list[str],
    selection: dict[str, Any],
    options: FitOptions,
) -> pd.DataFrame:
    """The results table's columns and types, from a fit of a one-row table.

    One row cannot be fitted: the fit fails and its row has every column of
    the table, numbers as float64; the keys keep the input's types.
    """
    import numpy as np

    sample = frame.head(1).copy()
    for column in sample.columns:
        if column not in keys:
            sample[column] = np.ones(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = fit_table(sample, model, keys, selection, options).table
    return table.iloc[:0].astype({k: frame[k].dtype for k in keys})


def fit_dask(
    data: Any,
    model: str | SCurveModel = "sigmoid",
    *,
    x: str = "x",
    y: str = "y",
    by: str | Sequence[str] | None = None,
    weights: str | None = None,
    weights_kind: Literal["sigma", "variance", "weight"] = "sigma",
    fix: Mapping[str, float] | None = None,
    init: Mapping[str, float] | None = None,
    bounds: Mapping[str, tuple[float, float]] | None = None,
    ci: CI = "delta",
    level: float = 0.95,
    nan: Literal["drop", "error"] = "drop",
    name: str | None = None,
    **model_options: Any,
) -> Any:
    """Fit every group of a Dask DataFrame on the workers; a lazy results table.

    :func:`scurve.fit` calls this for a Dask DataFrame. The rows are
    shuffled on the keys (``shuffle(on=keys)``), so that each group is whole
    in one partition wherever its rows were, then each partition is fitted
    by :func:`scurve.fit` with ``workers=1`` (Dask runs the partitions in
    parallel).

    Parameters
    ----------
    data : dask.dataframe.DataFrame
        The table.
    by : str or sequence of str
        Group key column(s); required.
    name : str, optional
        What to call the table in messages (e.g. its file).
    model, x, y, weights, weights_kind, fix, init, bounds, ci, level, nan
        As for :func:`scurve.fit` (each partition is fitted in one process:
        Dask runs them in parallel).
    **model_options
        As for :func:`scurve.fit`.

    Returns
    -------
    dask.dataframe.DataFrame
        Lazy; ``.compute()`` gives the rows of ``scurve.fit(data.compute(),
        ...).table``, grouped by partition (sort by the keys to compare).
        Its ``meta`` comes from a fit of a one-row table, so Dask guesses
        nothing.

    Raises
    ------
    ImportError
        Dask or distributed is missing (the message says
        ``pip install 'scurve[dask]'``).
    scurve.FitError
        No `by`, or options not available on Dask.
    scurve.errors.InputError
        A missing column (checked here); bad values are found on the
        workers, when the result is computed.
    """
    import pandas as pd

    import_dask()
    keys = [by] if isinstance(by, str) else list(dict.fromkeys(by or ()))
    if not keys:
        raise FitError("a Dask DataFrame is fitted group by group: give by=")
    the_model = get_model(model, **model_options)
    label = name
    columns = _needed(x, y, keys, weights)
    _check_columns(
        [str(c) for c in data.columns],
        label or "",
        x=x,
        y=y,
        by=keys,
        weights=weights,
        weights_kind=weights_kind,
    )
    options = FitOptions(
        fix=dict(fix or {}), init=dict(init or {}), bounds=dict(bounds or {}),
        ci=ci, level=level, workers=1,
    )  # fmt: skip
    options.check(the_model)
    selection = {
        "x": x, "y": y, "by": keys, "weights": weights, "weights_kind": weights_kind,
        "nan": nan, "positive_x": the_model.positive_x,
    }  # fmt: skip
    frame = data[columns]
    meta = _meta(frame._meta_nonempty, the_model, keys, selection, options)
    traced = frame.map_partitions(
        _with_origin, meta=frame._meta.assign(**{_ORIGIN: pd.Series(dtype="int64")})
    )
    shuffled = traced.shuffle(on=keys)
    return shuffled.map_partitions(
        _fit_partition,
        model=the_model,
        keys=keys,
        empty=meta,
        meta=meta,
        label=label,
        selection=selection,
        options=options,
        align_dataframes=False,
        enforce_metadata=False,
    )


def write_dask(
    results: Any,
    output: str | os.PathLike[str],
    *,
    client: Any = None,
    inputs: Sequence[Any] = (),
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Streamed:
    """Compute a lazy results table partition by partition into one file.

    Partitions are computed on `client` (the default Dask scheduler when
    None) and written in order as they arrive (:class:`TableWriter`: Parquet
    or CSV, atomically), so the client holds one partition at a time.
    `progress` is called as ``progress(partitions_done, groups_done)``.
    """
    import dask

    path = check_stream_output(output, inputs, force)
    done = Streamed(output=path)
    statuses: Counter[str] = Counter()
    parts = results.to_delayed()
    with TableWriter(path) as out:
        if client is not None:
            futures = client.compute(parts)
            tables = (f.result() for f in futures)
        else:
            tables = (dask.compute(p)[0] for p in parts)
        for i, table in enumerate(tables):
            out.write(table)
            done.groups += len(table)
            done.chunks += 1
            statuses.update(table["status"].astype(str).tolist())
            if len(done.problems) < KEEP_PROBLEMS and "status" in table:
                bad = table[table["status"] != "ok"]
                keys = list(table.columns[: list(table.columns).index("model")])
                done.problems += (
                    bad[[*keys, "status", "message"]]
                    .head(KEEP_PROBLEMS - len(done.problems))
                    .to_dict("records")
                )
            if progress is not None:
                progress(i + 1, done.groups)
            if client is not None:
                futures[i].release()
    done.statuses = dict(statuses)
    return done
