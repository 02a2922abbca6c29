"""Streaming a Parquet screen in chunks (scurve.scale.fit_parquet): the same
table as one fit of the whole, errors named as for small tables, atomic output."""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import scurve
from scurve import scale
from scurve.cli import main
from scurve.io import InputError

KEYS = ["drug", "cell"]
HILL = {"model": "hill", "x": "dose", "y": "response", "by": KEYS}


def ragged_screen(curves: int = 12, seed: int = 5) -> pd.DataFrame:
    """A synthetic screen with ragged groups (rows dropped at random, one
    group down to 3 rows, one to 1) and missing responses."""
    rng = np.random.default_rng(seed)
    frame = scale.screen(curves, seed=seed, cells=4)
    keep = rng.random(len(frame)) > 0.25
    keep[24:45] = False  # curve 1: three rows left
    keep[24 * 5 + 1 : 24 * 6] = False  # curve 5: one row, cannot be fitted
    frame = frame[keep].reset_index(drop=True)
    frame.loc[rng.choice(len(frame), 6, replace=False), "response"] = np.nan
    return frame


def same_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    """The same rows, in the same order, with the same keys, statuses and
    values.

    The fast path starts the first curve of each batch from the model's own
    guess and the others from its vectorized guess, so a curve's iterations
    (and its converged values, within the fit's tolerance) may differ with
    the batch it falls in. Values are compared as issue 8's equivalence
    test compares the fast path with lmfit: the residual sum of squares to
    1e-6 relative, estimates to 1e-4 relative on every curve; standard
    errors and intervals to 1e-2 on the curves whose parameters are
    determined (each standard error below 10 max(|value|, 1)): on a
    curve whose hill has a standard error of 550, the curvature at two
    nearby points of its flat optimum differs by 2%. Messages are compared
    with their evaluation counts masked.
    """
    assert list(got.columns) == list(want.columns)
    assert len(got) == len(want)
    exact = [*KEYS, "model", "converged", "status"]
    pd.testing.assert_frame_equal(
        got[exact].reset_index(drop=True),
        want[exact].reset_index(drop=True),
        check_dtype=False,
    )
    np.testing.assert_allclose(got["rss"], want["rss"], rtol=1e-6)
    numbers = [c for c in want.columns if want[c].dtype.kind == "f"]
    spread = [c for c in numbers if c.endswith(("_stderr", "_lower", "_upper"))]
    estimates = [c for c in numbers if c not in spread]
    np.testing.assert_allclose(
        got[estimates].to_numpy(), want[estimates].to_numpy(), rtol=1e-4, atol=1e-9
    )
    errors = [c for c in spread if c.endswith("_stderr")]
    values = want[[c.removesuffix("_stderr") for c in errors]].abs().clip(lower=1)
    determined = (want[errors].to_numpy() < 10 * values.to_numpy()).all(axis=1)
    assert determined.mean() > 0.7  # failed fits have no standard errors
    np.testing.assert_allclose(
        got.loc[determined, spread].to_numpy(),
        want.loc[determined, spread].to_numpy(),
        rtol=1e-2,
        atol=1e-9,
    )

    def masked(m: pd.Series) -> list[str]:
        return [re.sub(r"\d+ evaluations", "N evaluations", t) for t in m]

    assert masked(got["message"]) == masked(want["message"])


@pytest.fixture(scope="module")
def screen_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """The ragged screen as one Parquet file of several row groups, and the
    table of one fit of the whole of it."""
    path = tmp_path_factory.mktemp("screen") / "screen.parquet"
    pq.write_table(
        pa.Table.from_pandas(ragged_screen(), preserve_index=False),
        path,
        row_group_size=37,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = scurve.fit(path, **HILL).table
    return path, whole


@pytest.mark.parametrize("batch_rows", [1, 5, 23, 10_000])
@pytest.mark.parametrize("chunk_curves", [1, 2, 5, 100])
def test_streaming_equals_one_fit_of_the_whole(
    screen_file: tuple[Path, pd.DataFrame],
    tmp_path: Path,
    chunk_curves: int,
    batch_rows: int,
) -> None:
    # batch_rows=1 puts a batch boundary between every two rows, so groups
    # are split at every possible place; chunk_curves cuts chunks anywhere
    path, whole = screen_file
    out = tmp_path / "fits.parquet"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        done = scale.fit_parquet(
            path, **HILL, output=out, chunk_curves=chunk_curves, batch_rows=batch_rows
        )
    same_table(pd.read_parquet(out), whole)
    assert done.groups == len(whole) == 12
    assert done.chunks == -(-12 // chunk_curves)
    assert done.rows == pq.ParquetFile(path).metadata.num_rows
    assert done.statuses == whole["status"].value_counts().to_dict()
    assert done.failed == 2  # the curves left with 3 points and 1 point
    problems = whole[whole["status"] != "ok"]
    assert [(p["drug"], p["cell"], p["status"]) for p in done.problems] == list(
        problems[[*KEYS, "status"]].itertuples(index=False, name=None)
    )


def test_a_dataset_directory_streams_in_file_order(tmp_path: Path) -> None:
    frame = ragged_screen(curves=9, seed=8)
    folder = tmp_path / "screen"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        whole = scurve.fit(folder, **HILL).table
        scale.fit_parquet(folder, **HILL, output=tmp_path / "fits.csv", chunk_curves=4)
    got = pd.read_csv(tmp_path / "fits.csv", keep_default_na=False, na_values=[""])
    same_table(got, whole)


def test_tsv_output_and_the_dropped_rows_note_for_the_whole_file(
    screen_file: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, whole = screen_file
    with pytest.warns(UserWarning, match="dropped") as caught:
        scurve.fit(path, **HILL)
    (whole_note,) = [str(w.message) for w in caught if "dropped" in str(w.message)]
    with pytest.warns(UserWarning, match="dropped") as caught:
        scale.fit_parquet(path, **HILL, output=tmp_path / "f.tsv", chunk_curves=3)
    notes = [str(w.message) for w in caught if "dropped" in str(w.message)]
    assert notes == [whole_note]  # summed over the chunks, first row global
    assert re.search(
        r"dropped 6 rows .*\(first: row \d+, column 'response'\)", notes[0]
    )
    same_table(pd.read_csv(tmp_path / "f.tsv", sep="\t"), whole)


def write(frame: pd.DataFrame, path: Path, row_group_size: int = 50) -> Path:
    pq.write_table(
        pa.Table.from_pandas(frame, preserve_index=False),
        path,
        row_group_size=row_group_size,
    )
    return path


def message_of(call) -> str:  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(InputError) as caught:
            call()
    return str(caught.value)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("text", r"y column 'response', row 200: 'twelve' is not a number"),
        ("negative", r"x column 'dose', row 150: -1 is negative; x must be >= 0"),
        ("missing", r"y column 'response', row 130: missing value"),
    ],
)
def test_bad_values_are_named_by_their_global_row(
    tmp_path: Path, change: str, expected: str
) -> None:
    frame = scale.screen(10, seed=2)
    if change == "text":
        frame["response"] = frame["response"].map(repr)  # numbers as text
        # ('n/a' would be a missing value, as in CSV, and dropped with nan="drop")
        frame.loc[200, "response"] = "twelve"
    elif change == "negative":
        frame.loc[150, "dose"] = -1.0
    else:
        frame.loc[130, "response"] = np.nan
    path = write(frame, tmp_path / "bad.parquet")
    out = tmp_path / "fits.parquet"
    nan = "error" if change == "missing" else "drop"
    streamed = message_of(
        lambda: scale.fit_parquet(
            path, **HILL, nan=nan, output=out, chunk_curves=2, batch_rows=40
        )
    )
    small = message_of(lambda: scurve.fit(path, **HILL, nan=nan))
    assert streamed == small
    assert streamed == f"{path}: {expected}"
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left


def test_a_missing_column_is_named_before_any_work(tmp_path: Path) -> None:
    path = write(scale.screen(3), tmp_path / "s.parquet")
    streamed = message_of(
        lambda: scale.fit_parquet(
            path, "hill", x="Dose", y="response", by=KEYS, output=tmp_path / "o.csv"
        )
    )
    assert streamed == message_of(
        lambda: scurve.fit(path, "hill", x="Dose", y="response", by=KEYS)
    )
    assert "no x column 'Dose' (did you mean 'dose'?)" in streamed


def test_a_group_that_reappears_is_an_error_naming_it_and_its_row(
    tmp_path: Path,
) -> None:
    frame = scale.screen(6, seed=4)
    moved = frame.iloc[24:30]  # six rows of curve 1 ...
    frame = pd.concat([frame.drop(moved.index), moved], ignore_index=True)
    path = write(frame, tmp_path / "unsorted.parquet")
    out = tmp_path / "fits.parquet"
    for chunk_curves in (1, 2, 100):  # across chunks, and within one
        text = message_of(
            lambda c=chunk_curves: scale.fit_parquet(
                path, **HILL, output=out, chunk_curves=c, batch_rows=7
            )
        )
        assert text == (
            f"{path}: the rows of group drug='drug0', cell='cell1' appear again at "
            "row 138, after other groups: fitting in chunks needs each group's rows "
            "together; sort the data by drug, cell, or fit with Dask (scurve fit "
            "--dask), which shuffles"
        )
        assert not out.exists()


def test_missing_keys_form_one_group_as_in_a_fit_of_the_whole(tmp_path: Path) -> None:
    frame = scale.screen(4, seed=6)
    frame["cell"] = frame["cell"].astype(object)
    frame.loc[48:71, "cell"] = None
    path = write(frame, tmp_path / "s.parquet", row_group_size=10)
    whole = scurve.fit(path, **HILL).table
    scale.fit_parquet(path, **HILL, output=tmp_path / "o.parquet", chunk_curves=1)
    got = pd.read_parquet(tmp_path / "o.parquet")
    same_table(got, whole)
    assert got["cell"].isna().sum() == 1


def test_an_interrupted_run_leaves_no_output(tmp_path: Path) -> None:
    path = write(scale.screen(6, seed=1), tmp_path / "s.parquet")
    out = tmp_path / "fits.csv"
    out.write_text("previous results\n")

    def interrupt(groups: int, rows: int) -> None:
        if groups > 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        scale.fit_parquet(
            path, **HILL, output=out, chunk_curves=2, progress=interrupt, force=True
        )
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fits.csv", "s.parquet"]


def test_outputs_that_may_not_be_written(tmp_path: Path) -> None:
    path = write(scale.screen(2), tmp_path / "s.parquet")
    (tmp_path / "old.csv").write_text("x\n")
    cases = {
        path: "is an input file; refusing to overwrite it",
        tmp_path / "old.csv": "exists; use --force to overwrite",
        tmp_path / "fits.json": "results written chunk by chunk go to .parquet",
        tmp_path / "nowhere" / "f.csv": "does not exist",
    }
    for output, expected in cases.items():
        text = message_of(lambda o=output: scale.fit_parquet(path, **HILL, output=o))
        assert expected in text


def test_progress_counts_groups_across_chunks(tmp_path: Path) -> None:
    path = write(scale.screen(7, seed=3), tmp_path / "s.parquet")
    seen: list[int] = []
    scale.fit_parquet(
        path,
        **HILL,
        output=tmp_path / "o.parquet",
        chunk_curves=3,
        progress=lambda groups, rows: seen.append(groups),
    )
    assert seen[-1] == 7
    assert seen == sorted(seen)
    assert set(seen) == set(range(1, 8))


def test_parquet_rows_reads_the_metadata(tmp_path: Path) -> None:
    path = write(scale.screen(5), tmp_path / "s.parquet")
    assert scale.parquet_rows(path) == 120
    with pytest.raises(InputError, match="no such file"):
        scale.parquet_rows(tmp_path / "none.parquet")


def test_the_synthetic_screen_is_reproducible_piece_by_piece() -> None:
    whole = scale.screen(2500, seed=9)
    pieces = pd.concat(
        [scale.screen(700, seed=9, start=s) for s in (0, 700, 1400)]
        + [scale.screen(400, seed=9, start=2100)],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(pieces, whole)
    assert whole["drug"].nunique() == 25
    assert len(whole) == 2500 * 24


def test_closed_groups_find_every_hash_added() -> None:
    closed = scale._ClosedGroups()
    rng = np.random.default_rng(0)
    added = [rng.integers(0, 2**63, 50, dtype=np.uint64) for _ in range(40)]
    for hashes in added:
        assert not closed.seen(hashes).any()
        closed.add(hashes)
    assert len(closed.parts) <= 17
    assert all(closed.seen(h).all() for h in added)
    assert not closed.seen(np.array([1, 2, 3], dtype=np.uint64)).any()


# ------------------------------------------------------------------ scurve fit


def run(*args: str | Path) -> tuple[int, str, str]:
    """``scurve ARGS`` in this process: exit code, stdout, stderr."""
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


CLI_HILL = ("--model", "hill", "--x", "dose", "--y", "response", "--by", "drug,cell")


def test_cli_streams_with_chunk_curves(
    screen_file: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, whole = screen_file
    out = tmp_path / "fits.parquet"
    code, stdout, stderr = run("fit", path, *CLI_HILL, "--chunk-curves", 5, "-o", out)
    assert code == 1  # two groups with too few points failed, as scurve fit says
    assert stdout == ""
    same_table(pd.read_parquet(out), whole)
    lines = stderr.splitlines()
    assert f"wrote {out} (12 groups)" in lines
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 2
    assert errors[0].startswith(f"Error: {path}: group drug=drug0, cell=cell1: failed:")
    assert any("dropped 6 rows" in line for line in lines)


def test_cli_streams_large_parquet_inputs_by_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    frame = scale.screen(4, seed=4)
    moved = frame.iloc[24:30]
    path = write(pd.concat([frame.drop(moved.index), moved]), tmp_path / "u.parquet")
    # in memory, the unsorted rows of a group are simply gathered ...
    assert run("fit", path, *CLI_HILL, "-o", tmp_path / "a.csv")[0] == 0
    # ... streamed (more rows than STREAM_ROWS), they are an input error
    monkeypatch.setattr(scale, "STREAM_ROWS", 50)
    code, _, stderr = run("fit", path, *CLI_HILL, "-o", tmp_path / "b.csv")
    assert code == 2
    assert "appear again at row 90" in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not (tmp_path / "b.csv").exists()
    # options streaming cannot take keep the ordinary path
    code, _, _ = run(
        "fit", path, *CLI_HILL, "-o", tmp_path / "c.csv", "--format", "csv"
    )
    assert code == 0


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ("--chunk-curves", "5", "--share", "bottom"),
            "--chunk-curves cannot take --share",
        ),
        (("--chunk-curves", "5", "--loss", "huber"), "cannot take --loss"),
        (("--dask", "local", "--plot", "p.png"), "--dask cannot take --plot"),
    ],
)
def test_cli_large_screen_usage_errors(
    screen_file: tuple[Path, pd.DataFrame], tmp_path: Path, args: tuple, expected: str
) -> None:
    path, _ = screen_file
    code, _, stderr = run("fit", path, *CLI_HILL, *args, "-o", tmp_path / "o.csv")
    assert code == 2
    assert expected in stderr
    assert len(stderr.strip().splitlines()) == 1


def test_cli_chunk_curves_needs_output_and_parquet(
    screen_file: tuple[Path, pd.DataFrame], tmp_path: Path
) -> None:
    path, _ = screen_file
    code, _, stderr = run("fit", path, *CLI_HILL, "--chunk-curves", 5)
    assert (code, "--chunk-curves needs --by and -o FILE" in stderr) == (2, True)
    csv = tmp_path / "s.csv"
    csv.write_text("drug,cell,dose,response\na,b,1,2\n")
    code, _, stderr = run("fit", csv, *CLI_HILL, "--chunk-curves", 5, "-o", "o.csv")
    assert code == 2
    assert "--dask and --chunk-curves read Parquet" in stderr
