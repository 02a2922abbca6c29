"""``scurve fit`` on large screens: a Parquet input streamed, or fitted by Dask.

``scurve fit`` comes here when given ``--dask`` or ``--chunk-curves``, or a
Parquet input of more than :data:`scurve.scale.STREAM_ROWS` rows (by its
metadata) with ``-o`` and ``--by``; the work is :mod:`scurve.scale`'s.
Results go to the ``-o`` file only (Parquet, CSV or TSV, the text ones
gzip-compressed too, written chunk by chunk); the groups that are not ok are
reported as ``scurve fit`` reports them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scurve.cli import output
from scurve.cli.options import data_label
from scurve.cli.report import Report, output_errors
from scurve.errors import InputError

if TYPE_CHECKING:
    from scurve.models.base import SCurveModel
    from scurve.scale import Streamed

__all__ = ["CONNECT_TIMEOUT", "dask_client", "fit_screen", "is_screen"]

#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT = 10


def is_parquet(data: Path) -> bool:
    """A Parquet file or a directory (a dataset), by name, as io.read_table."""
    from scurve.io import PARQUET_SUFFIXES

    return data.is_dir() or data.suffix.lower() in PARQUET_SUFFIXES


def is_screen(
    data: Path,
    output: Path | None,
    keys: Sequence[str],
    *,
    dask: str | None,
    chunk_curves: int | None,
    others: Mapping[str, bool],
) -> bool:
    """Whether ``scurve fit`` fits DATA as a large screen: asked for with
    ``--dask`` or ``--chunk-curves``, or a Parquet input too large to read
    whole (more than :data:`scurve.scale.STREAM_ROWS` rows) fitted by groups
    into a table file, when no option of `others` (flag -> given) is given.

    Raises
    ------
    click.UsageError
        ``--dask`` or ``--chunk-curves`` with an option of `others`, or
        without ``--by`` and ``-o``.
    """
    named = [
        flag
        for flag, value in (("--dask", dask), ("--chunk-curves", chunk_curves))
        if value is not None
    ]
    given = [flag for flag, value in others.items() if value]
    if not named:
        return not given and _too_large(data, output, keys)
    if given:
        raise click.UsageError(f"{' and '.join(named)} cannot take {', '.join(given)}")
    if output is None or not keys:
        raise click.UsageError(f"{' and '.join(named)} needs --by and -o FILE")
    return True


def _too_large(data: Path, output: Path | None, keys: Sequence[str]) -> bool:
    """A Parquet input of more than STREAM_ROWS rows, by its metadata,
    fitted by groups into a table file that can be written chunk by chunk
    (-o, not JSON nor Excel); decided without importing pyarrow for
    anything but Parquet."""
    if output is None or not keys or os.fspath(data) == "-" or not is_parquet(data):
        return False
    if not data.exists():
        return False
    from scurve import scale

    try:
        scale.stream_format(output)
        return scale.parquet_rows(data) > scale.STREAM_ROWS
    except InputError:  # unreadable, or not streamed: the ordinary path says
        return False


def fit_screen(
    report: Report,
    data: Path,
    model: SCurveModel,
    *,
    output_path: Path,
    keys: list[str],
    dask: str | None,
    chunk_curves: int | None,
    force: bool,
    **options: Any,
) -> None:
    """Fit DATA by streaming it (or with Dask) into `output_path`, and report.

    `options` are those of :func:`scurve.scale.fit_parquet` (x, y, weights,
    weights_kind, fix, init, bounds, ci, level, nan).

    Raises
    ------
    scurve.errors.InputError
        DATA is not Parquet or not readable; a bad value (named by its row);
        an output that may not be written.
    """
    from scurve import scale

    label = data_label(data)
    if not is_parquet(data):
        raise InputError(
            f"{label}: --dask and --chunk-curves read Parquet (a .parquet file "
            "or a directory of them)"
        )
    rows = scale.parquet_rows(data)
    scale.check_stream_output(output_path, [data], force)  # before any cluster
    with report.warnings():
        if dask is not None:
            done = _fit_dask(data, model, output_path, keys, dask, force, options)
        else:
            chunk = chunk_curves or scale.CHUNK_CURVES
            done = _stream(data, model, output_path, keys, chunk, force, rows, options)
    report.wrote(output_path, f"{done.groups} groups")
    problems = (
        (tuple(p[k] for k in keys), p["status"], p["message"]) for p in done.problems
    )
    not_ok = sum(n for status, n in done.statuses.items() if status != "ok")
    report.fits(
        label, keys, problems, count=not_ok, failed=done.failed, total=done.groups
    )


def _stream(
    data: Path,
    model: SCurveModel,
    output_path: Path,
    keys: list[str],
    chunk_curves: int,
    force: bool,
    rows: int,
    options: Mapping[str, Any],
) -> Streamed:
    from scurve import scale

    with (
        output_errors(output_path),
        output.progress_bar(rows, f"fitting {rows} rows", minimum=0) as advance,
    ):
        return scale.fit_parquet(
            data,
            model,
            output=output_path,
            by=keys,
            chunk_curves=chunk_curves,
            force=force,
            name=data_label(data),
            progress=(
                None
                if advance is None
                else lambda groups, done: advance(done, f"{groups} groups")
            ),
            **options,
        )


def _fit_dask(
    data: Path,
    model: SCurveModel,
    output_path: Path,
    keys: list[str],
    target: str,
    force: bool,
    options: Mapping[str, Any],
) -> Streamed:
    from scurve import scale

    with dask_client(target) as client:
        import dask.dataframe as dd

        frame = dd.read_parquet(os.fspath(data))
        results = scale.fit_dask(
            frame, model, by=keys, name=data_label(data), **options
        )
        parts = results.npartitions
        with (
            output_errors(output_path),
            output.progress_bar(
                parts, f"fitting {parts} partitions on Dask", minimum=0
            ) as advance,
        ):
            return scale.write_dask(
                results,
                output_path,
                client=client,
                inputs=[data],
                force=force,
                progress=(
                    None
                    if advance is None
                    else lambda n, groups: advance(n, f"{groups} groups")
                ),
            )


@contextlib.contextmanager
def dask_client(target: str) -> Iterator[Any]:
    """A Dask client: a LocalCluster (one single-threaded worker process per
    core), closed at the end, for ``local``; else the scheduler at `target`.

    Raises
    ------
    scurve.errors.InputError
        Dask is not installed (saying how to install it), or no scheduler
        answers at `target` within :data:`CONNECT_TIMEOUT` seconds.
    """
    from scurve import scale

    try:
        scale.import_dask()
    except ImportError as exc:
        raise InputError(str(exc)) from None
    import distributed

    if target == "local":
        import logging

        with (
            distributed.LocalCluster(
                n_workers=os.cpu_count() or 1,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                # a failed task is the error the command reports, once: the
                # workers' own log of it (with its traceback) is not shown
                silence_logs=logging.CRITICAL,
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            yield client
        return
    try:
        client = distributed.Client(target, timeout=CONNECT_TIMEOUT)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(
            f"--dask {target}: cannot connect to a Dask scheduler there ({reason})"
        ) from None
    with client:
        yield client
