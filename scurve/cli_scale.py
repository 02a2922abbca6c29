"""``scurve fit`` for large screens: streaming a Parquet input, or Dask.

:mod:`scurve.cli` comes here (imported on first use) when ``scurve fit`` is
given ``--dask``, ``--chunk-curves``, or a Parquet input of more than
:data:`scurve.scale.STREAM_ROWS` rows with ``-o``; the work is done by
:mod:`scurve.scale`. Errors follow ``scurve fit``: one line on stderr, exit 2
for usage and input errors, 1 when a group failed or the output could not be
written.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from scurve import cli

if TYPE_CHECKING:
    from scurve.models.base import SCurveModel
    from scurve.scale import Streamed

#: Seconds to wait for a Dask scheduler before giving up.
CONNECT_TIMEOUT = 10


def is_parquet(data: Path) -> bool:
    """A Parquet file or a directory (a dataset), by name, as io.read_table."""
    from scurve.io import PARQUET_SUFFIXES

    return data.is_dir() or data.suffix.lower() in PARQUET_SUFFIXES


def refused_options(given: Mapping[str, Any]) -> list[str]:
    """The options among `given` (option name -> value) that are set."""
    return [option for option, value in given.items() if value]


def should_stream(data: Path, output: Path | None, keys: Sequence[str]) -> bool:
    """The automatic rule: a Parquet input of more than STREAM_ROWS rows, by
    its metadata, fitted by groups into a table file (-o, not JSON)."""
    from scurve import scale

    if output is None or not keys or str(data) == "-" or not is_parquet(data):
        return False
    if output.suffix.lower() == ".json" or not data.exists():
        return False
    try:
        return scale.parquet_rows(data) > scale.STREAM_ROWS
    except Exception:  # unreadable: the ordinary path reports it
        return False


@contextlib.contextmanager
def _bar(total: int, label: str) -> Iterator[Callable[[int, str], None] | None]:
    """A progress bar on stderr (on a terminal): ``advance(position, note)``."""
    if total <= 0 or not cli._stderr_is_terminal():
        yield None
        return
    note = [""]
    with click.progressbar(
        length=total,
        label=label,
        file=sys.stderr,
        item_show_func=lambda _: note[0],
    ) as bar:

        def advance(position: int, text: str) -> None:
            note[0] = text
            bar.update(max(0, min(position, total) - bar.pos))

        yield advance


@contextlib.contextmanager
def dask_client(target: str) -> Iterator[Any]:
    """A Dask client: a LocalCluster (one single-threaded worker process per
    core), closed at the end, for ``local``; else the scheduler at `target`."""
    from scurve import scale

    try:
        scale._import_dask()
    except ImportError as exc:
        raise cli.InputError(str(exc)) from None
    import distributed

    if target == "local":
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
        raise cli.InputError(
            f"--dask {target}: cannot connect to a Dask scheduler there ({reason})"
        ) from None
    with client:
        yield client


def fit_large(
    data: Path,
    model: SCurveModel,
    *,
    output: Path,
    keys: list[str],
    dask: str | None,
    chunk_curves: int | None,
    force: bool,
    **options: Any,
) -> None:
    """Fit DATA by streaming it (or with Dask) into `output`; report and exit.

    `options` are those of :func:`scurve.scale.fit_parquet` (x, y, weights,
    weights_kind, fix, init, bounds, ci, level, nan).
    """
    import warnings

    from scurve import scale

    label = cli._data_label(data)
    with cli._reported(label):
        if not is_parquet(data):
            raise cli.InputError(
                f"{label}: --dask and --chunk-curves read Parquet (a .parquet "
                "file or a directory of them)"
            )
        rows = scale.parquet_rows(data)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if dask is not None:
                done = _fit_dask(data, model, output, keys, dask, force, options)
            else:
                done = _stream(
                    data, model, output, keys, chunk_curves, force, rows, options
                )
    cli._echo_warnings(caught, ())
    click.echo(f"wrote {output} ({done.groups} groups)", err=True)
    if _report(done, keys, label):
        click.get_current_context().exit(1)


def _stream(
    data: Path,
    model: SCurveModel,
    output: Path,
    keys: list[str],
    chunk_curves: int | None,
    force: bool,
    rows: int,
    options: Mapping[str, Any],
) -> Streamed:
    from scurve import scale

    with (
        cli._write_errors(output),
        _bar(rows, f"fitting {rows} rows") as advance,
    ):
        return scale.fit_parquet(
            data,
            model,
            output=output,
            by=keys,
            chunk_curves=chunk_curves or scale.CHUNK_CURVES,
            force=force,
            name=cli._data_label(data),
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
    output: Path,
    keys: list[str],
    target: str,
    force: bool,
    options: Mapping[str, Any],
) -> Streamed:
    from scurve import scale

    label = cli._data_label(data)
    scale._dataset(data, label)  # io's messages for a bad input
    scale._check_stream_output(output, [data], force)
    with dask_client(target) as client:
        import dask.dataframe as dd

        frame = dd.read_parquet(str(data))
        results = scale.fit_dask(frame, model, by=keys, name=label, **options)
        parts = results.npartitions
        with (
            cli._write_errors(output),
            _bar(parts, f"fitting {parts} partitions on Dask") as advance,
        ):
            return scale.write_dask(
                results,
                output,
                client=client,
                inputs=[data],
                force=force,
                progress=(
                    None
                    if advance is None
                    else lambda n, groups: advance(n, f"{groups} groups")
                ),
            )


def _report(done: Streamed, keys: Sequence[str], label: str) -> bool:
    """Lines on stderr for the groups whose status is not ok, as ``scurve
    fit`` prints them; True if any failed or did not converge."""
    shown = done.problems[: cli.MAX_REPORTED]
    for problem in shown:
        kind = "Error" if problem["status"] in cli.FAILED else "Warning"
        key = tuple(problem[k] for k in keys)
        click.echo(
            f"{kind}: {label}: group {cli._group_text(keys, key)}: "
            f"{problem['status']}: {problem['message']}",
            err=True,
        )
    others = sum(n for status, n in done.statuses.items() if status != "ok")
    if others > len(shown):
        click.echo(
            f"Warning: {label}: {others - len(shown)} more fits are not ok; "
            "see the status column",
            err=True,
        )
    return done.failed > 0
