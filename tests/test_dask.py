"""scurve.fit on a Dask DataFrame, against a real LocalCluster of two worker
processes: the single-process table, even when a worker is killed mid-run."""

from __future__ import annotations

import builtins
import os
import signal
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from test_scale import run, same_table

import scurve
from scurve import scale
from scurve.cli import screens

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

KEYS = ["drug", "cell"]
HILL = {"model": "hill", "x": "dose", "y": "response", "by": KEYS}


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    """Two single-threaded worker processes, as on a 2-core CI box."""
    with (
        distributed.LocalCluster(
            n_workers=2,
            processes=True,
            threads_per_worker=1,
            dashboard_address=None,
            worker_dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def screen(curves: int, seed: int) -> pd.DataFrame:
    """A synthetic screen with ragged groups and missing responses, its rows
    shuffled so that groups are spread over the partitions."""
    rng = np.random.default_rng(seed)
    frame = scale.screen(curves, seed=seed, cells=7)
    frame = frame[rng.random(len(frame)) > 0.2]
    frame.loc[frame.sample(5, random_state=seed).index, "response"] = np.nan
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def one_process(frame: pd.DataFrame) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scurve.fit(frame, **HILL).table


def by_keys(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(KEYS).reset_index(drop=True)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """Row for row after sorting by the keys (test_scale.same_table: a
    partition is fitted as a batch of its own)."""
    same_table(by_keys(got), by_keys(want))


def test_a_dask_frame_gives_the_single_process_table(client: Any) -> None:
    frame = screen(150, seed=1)
    data = dd.from_pandas(frame, npartitions=5)
    lazy = scurve.fit(data, **HILL)
    assert isinstance(lazy, dd.DataFrame)  # nothing computed yet
    assert list(lazy.columns) == list(one_process(frame).columns)
    got = lazy.compute()
    assert got[KEYS].value_counts().max() == 1  # every group once
    assert len(got) == 150
    assert_same(got, one_process(data.compute()))
    assert (got["status"] == "ok").sum() >= 140
    # the meta Dask was given is what the partitions hold
    pd.testing.assert_series_equal(lazy._meta.dtypes, got.dtypes)


def test_a_killed_worker_loses_and_duplicates_no_group(client: Any) -> None:
    frame = screen(480, seed=2)
    want = one_process(frame)
    data = dd.from_pandas(frame, npartitions=12)
    future = client.compute(scurve.fit(data, **HILL))
    pids = client.run(os.getpid)
    victim = None
    deadline = time.monotonic() + 20
    while victim is None and time.monotonic() < deadline:
        for worker, keys in client.processing().items():
            if any("_fit_partition" in str(k) for k in keys):
                victim = worker
                break
        else:
            time.sleep(0.01)
    assert victim is not None, "no fit started on a worker"
    os.kill(pids[victim], signal.SIGKILL)
    got = future.result(timeout=120)
    assert not future.cancelled()
    assert len(got) == len(want) == 480
    assert got[KEYS].value_counts().max() == 1
    assert_same(got, want)
    # the nanny replaced the worker: two again, one of them new
    client.wait_for_workers(2, timeout=60)
    assert victim not in client.run(os.getpid)


def test_options_dask_cannot_take_are_refused(client: Any) -> None:
    data = dd.from_pandas(screen(3, seed=3), npartitions=1)
    with pytest.raises(scurve.FitError, match="share: not available"):
        scurve.fit(data, **HILL, share="bottom")
    with pytest.raises(scurve.FitError, match="give by="):
        scurve.fit(data, "hill", x="dose", y="response")
    with pytest.raises(scurve.io.InputError, match="no y column 'Response'"):
        scurve.fit(data, "hill", x="dose", y="Response", by=KEYS)


def test_without_dask_the_message_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_dask(name: str, *args: Any, **kws: Any) -> Any:
        if name.split(".")[0] in ("dask", "distributed"):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kws)

    monkeypatch.setattr(builtins, "__import__", no_dask)
    with pytest.raises(ImportError) as caught:
        scale.import_dask()
    assert str(caught.value) == (
        "fitting with Dask needs dask and distributed: pip install 'scurve[dask]'"
    )


# ------------------------------------------------------------------ scurve fit --dask

CLI_HILL = ("--model", "hill", "--x", "dose", "--y", "response", "--by", "drug,cell")


def test_cli_fits_a_parquet_dataset_on_a_scheduler(client: Any, tmp_path: Path) -> None:
    frame = screen(60, seed=4)
    folder = tmp_path / "screen"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    out = tmp_path / "fits.parquet"
    address = client.scheduler.address
    code, _, stderr = run("fit", folder, *CLI_HILL, "--dask", address, "-o", out)
    assert code == 0, stderr
    assert f"wrote {out} (60 groups)" in stderr
    assert_same(pd.read_parquet(out), one_process(frame))


def test_cli_a_bad_scheduler_address_is_a_one_line_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.parquet"
    scale.screen(2).to_parquet(path)
    monkeypatch.setattr(screens, "CONNECT_TIMEOUT", 1)
    start = time.monotonic()
    code, _, stderr = run(
        "fit", path, *CLI_HILL, "--dask", "tcp://127.0.0.1:9", "-o", tmp_path / "o.csv"
    )
    assert time.monotonic() - start < 30  # a timeout, not a hang
    assert code == 2
    assert stderr.startswith(
        "Error: --dask tcp://127.0.0.1:9: cannot connect to a Dask scheduler there ("
    )
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()


def test_cli_without_dask_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.parquet"
    scale.screen(2).to_parquet(path)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import fails
    code, _, stderr = run(
        "fit", path, *CLI_HILL, "--dask", "local", "-o", tmp_path / "o.csv"
    )
    assert code == 2
    assert stderr == (
        "Error: fitting with Dask needs dask and distributed: "
        "pip install 'scurve[dask]'\n"
    )


def test_a_bad_row_is_named_by_its_partition(client: Any, tmp_path: Path) -> None:
    """After the shuffle a row's position means nothing: the message names
    the index label it had and the partition it was in (Dask's number, as
    ``get_partition``), for files whose index starts again in each."""
    frame = scale.screen(6, seed=3, cells=7)  # no missing values
    first, second = frame.iloc[:40], frame.iloc[40:].reset_index(drop=True)
    second.loc[7, "response"] = np.nan
    first.to_parquet(tmp_path / "a.parquet", index=False)
    second.to_parquet(tmp_path / "b.parquet", index=False)
    data = dd.read_parquet(str(tmp_path))
    assert data.get_partition(1).compute()["response"].isna().to_numpy()[7]
    with pytest.raises(scurve.io.InputError) as error:
        scurve.fit(data, **HILL, nan="error").compute()
    assert "y column 'response', row 7 of partition 1: missing value" in str(
        error.value
    )
    # a frame from pandas keeps its labels: the row as pandas shows it
    whole = pd.concat([first, second], ignore_index=True)
    lazy = scurve.fit(dd.from_pandas(whole, npartitions=3), **HILL, nan="error")
    with pytest.raises(scurve.io.InputError, match=r"row 47 of partition \d:"):
        lazy.compute()


def test_cli_a_bad_row_on_a_local_cluster_is_one_error_line(tmp_path: Path) -> None:
    """``--dask local`` in a real shell: the workers' log of the failed task
    (a traceback) stays off the terminal; the command prints its one error
    line, naming the row, and writes nothing."""
    import subprocess

    frame = scale.screen(4, seed=3, cells=7)
    frame.loc[5, "response"] = np.nan
    path = tmp_path / "s.parquet"
    frame.to_parquet(path, index=False)
    out = tmp_path / "o.csv"
    args = ["fit", "s.parquet", *CLI_HILL, "--nan", "error", "--dask", "local"]
    done = subprocess.run(
        [sys.executable, "-m", "scurve", *args, "-o", "o.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error")]
    assert errors == [
        "Error: s.parquet: y column 'response', row 5 of partition 0: missing value"
    ], done.stderr
    assert not out.exists()
