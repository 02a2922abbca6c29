"""Outputs that never lose data (issue 19, part A).

Never the input (a file of an input directory, standard input's file, a
link to an input), never half a file (SIGTERM and SIGHUP remove the
temporary file), every output of one command distinct, written in the
format its extension names (or refused before any work), and an output
that cannot be written found before the fit.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve import io, scale
from scurve.cli import main
from scurve.errors import InputError

ROOT = Path(__file__).resolve().parents[1]
RYEGRASS = ROOT / "data" / "ryegrass.csv"
SALBA = ROOT / "data" / "S.alba.csv"
RYE = ("--model", "hill", "--x", "conc", "--y", "rootl")
ALBA = ("--model", "hill", "--x", "Dose", "--y", "DryMatter", "--by", "Herbicide")
FORMATS = "give it one of the extensions .csv, .tsv, .txt, .json, .parquet, .pq"


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in `tmp_path`, so that messages name short relative paths."""
    monkeypatch.chdir(tmp_path)


def run(*args: str | Path) -> tuple[int, str, str]:
    """``scurve ARGS`` in this process: exit code, stdout, stderr."""
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def one_line_error(err: str) -> str:
    """The single line of an error report, checked to be one line."""
    assert err.startswith("Error: "), err
    assert len(err.strip().splitlines()) == 1, err
    assert "Traceback" not in err
    return err.strip()


def files(folder: Path | str = ".") -> dict[str, bytes]:
    """Every file under `folder` (hidden ones too) -> its bytes."""
    root = Path(folder)
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def no_fit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if the command gets as far as fitting."""

    def fit(*args: object, **kwargs: object) -> None:
        raise AssertionError("fitted before the outputs were checked")

    monkeypatch.setattr(scurve, "fit", fit)


@pytest.fixture
def dataset() -> Path:
    """ryegrass as a Parquet dataset: a directory of two files."""
    frame = pd.read_csv(RYEGRASS)
    Path("ds").mkdir()
    frame.iloc[:12].to_parquet("ds/part1.parquet")
    frame.iloc[12:].to_parquet("ds/part2.parquet")
    return Path("ds")


# ---------------------------------------------------------------- 1. input dirs


@pytest.mark.parametrize("force", [[], ["--force"]], ids=["", "force"])
@pytest.mark.parametrize(
    ("output", "message"),
    [
        ("ds/part1.parquet", "ds/part1.parquet: is inside the input directory 'ds'"),
        (
            "ds/results.parquet",
            "ds/results.parquet: is inside the input directory 'ds', whose files "
            "are read as data; write it elsewhere",
        ),
        ("ds/sub/results.csv", "ds/sub/results.csv: is inside the input directory"),
        ("./ds/../ds/new.csv", "is inside the input directory 'ds'"),
    ],
)
def test_an_output_inside_an_input_directory_is_refused(
    dataset: Path, output: str, message: str, force: list[str]
) -> None:
    Path("ds/sub").mkdir()
    before = files("ds")
    code, out, err = run("fit", dataset, *RYE, "-o", output, *force)
    assert code == 2
    assert out == ""
    assert message in one_line_error(err)
    assert files("ds") == before  # not overwritten, nothing joined the dataset


def test_a_link_into_an_input_directory_is_refused(dataset: Path) -> None:
    os.symlink("ds", "link")
    os.link("ds/part2.parquet", "hard.parquet")
    before = files("ds")
    code, _, err = run("fit", dataset, *RYE, "-o", "link/results.parquet")
    assert code == 2
    assert "link/results.parquet: is inside the input directory 'ds'" in err
    code, _, err = run("fit", dataset, *RYE, "-o", "hard.parquet", "--force")
    assert code == 2
    assert one_line_error(err) == (
        "Error: hard.parquet: is an input file (the same file as "
        "'ds/part2.parquet'); refusing to overwrite it"
    )
    assert files("ds") == before
    assert Path("hard.parquet").read_bytes() == before["part2.parquet"]


@pytest.mark.parametrize("target", ["ds/", "ds/plots/"])
def test_plots_inside_an_input_directory_are_refused(
    dataset: Path, target: str
) -> None:
    frame = pd.read_csv(SALBA)
    frame.to_parquet("ds/part1.parquet")
    Path("ds/part2.parquet").unlink()
    before = files("ds")
    code, _, err = run("fit", "ds", *ALBA, "--plot", target, "--force")
    assert code == 2
    assert "is inside the input directory 'ds'" in one_line_error(err)
    assert files("ds") == before


def test_streaming_into_an_input_directory_is_refused(dataset: Path) -> None:
    frame = scale.screen(2, seed=1)
    frame.to_parquet("ds/part1.parquet")
    Path("ds/part2.parquet").unlink()
    before = files("ds")
    code, _, err = run(
        "fit", "ds", "--model", "hill", "--x", "dose", "--y", "response",
        "--by", "drug,cell", "--chunk-curves", "1", "-o", "ds/fits.parquet",
    )  # fmt: skip
    assert code == 2
    assert "is inside the input directory 'ds'" in one_line_error(err)
    assert files("ds") == before


def test_check_output_api_refuses_an_input_directory(dataset: Path) -> None:
    with pytest.raises(InputError, match=r"^ds/x\.csv: is inside the input"):
        io.check_output("ds/x.csv", inputs=["ds"])
    with pytest.raises(InputError, match=r"^ds: is the input directory"):
        io.check_output("ds", inputs=["ds"], force=True)
    # beside the directory is fine
    assert io.check_output("ds.csv", inputs=["ds"]) == Path("ds.csv")


# ---------------------------------------------------------------- 3. distinct


@pytest.mark.parametrize(
    ("table", "plot"), [("same.png", "same.png"), ("x.csv", "./x.csv")]
)
def test_results_and_plot_in_one_file_are_refused_before_fitting(
    table: str, plot: str, no_fit
) -> None:
    code, out, err = run("fit", RYEGRASS, *RYE, "-o", table, "--plot", plot)
    assert code == 2
    assert out == ""
    assert one_line_error(err) == (
        f"Error: {plot}: the same file as the output '{table}'; give each output "
        "its own name"
    )
    assert files() == {}


def test_formats_are_checked_before_fitting(no_fit) -> None:
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", "x.csv", "--plot", "y.csv")
    assert code == 2
    assert "Invalid value for '--plot'" in one_line_error(err)
    assert "cannot tell which format to write 'y.csv'" in err
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", "x.png", "--plot", "y.png")
    assert code == 2
    assert f"x.png: cannot write a table as '.png': {FORMATS}" in one_line_error(err)
    assert files() == {}


def test_check_outputs_refuses_one_file_given_twice() -> None:
    with pytest.raises(InputError) as excinfo:
        io.check_outputs(["fits.csv", "./fits.csv"])
    assert str(excinfo.value) == (
        "./fits.csv: the same file as the output 'fits.csv'; give each output "
        "its own name"
    )
    Path("fits.csv").write_text("old\n")
    os.symlink("fits.csv", "sym.csv")
    os.link("fits.csv", "hard.csv")
    for other in ("sym.csv", "hard.csv", str(Path("fits.csv").resolve())):
        with pytest.raises(InputError, match="the same file as the output"):
            io.check_outputs(["fits.csv", None, other], force=True)
    assert io.check_outputs(["a.csv", None, "b.png"]) == [Path("a.csv"), Path("b.png")]
    assert Path("fits.csv").read_text() == "old\n"


def test_per_group_plot_names_are_distinct_ignoring_case() -> None:
    rows = pd.read_csv(SALBA)
    rows["Herbicide"] = rows["Herbicide"].map({"Glyphosate": "A", "Bentazone": "a"})
    rows.to_csv("data.csv", index=False)
    code, _, err = run("fit", "data.csv", *ALBA, "--plot", "plots/")
    assert code == 0, err
    assert sorted(os.listdir("plots")) == ["A.png", "a-2.png"]  # one on macOS too


# ---------------------------------------------------------------- 4. stdin


def test_standard_input_read_from_the_output_is_refused() -> None:
    Path("rye.csv").write_bytes(RYEGRASS.read_bytes())
    os.link("rye.csv", "linked.csv")
    for output in ("rye.csv", "linked.csv"):
        with open("rye.csv", "rb") as stdin:
            done = subprocess.run(
                [sys.executable, "-m", "scurve", "fit", "-", *RYE, "-o", output,
                 "--force"],
                stdin=stdin, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert one_line_error(done.stderr) == (
            f"Error: {output}: is an input file (standard input reads it); "
            "refusing to overwrite it"
        )
        assert Path("rye.csv").read_bytes() == RYEGRASS.read_bytes()


def test_standard_input_from_another_file_is_fine() -> None:
    Path("rye.csv").write_bytes(RYEGRASS.read_bytes())
    Path("out.csv").write_text("old\n")
    with open("rye.csv", "rb") as stdin:
        done = subprocess.run(
            [sys.executable, "-m", "scurve", "fit", "-", *RYE, "-o", "out.csv",
             "--force"],
            stdin=stdin, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert Path("out.csv").read_text().startswith("model,bottom,")


# ---------------------------------------------------------------- 16. names


def long_keys_csv() -> list[str]:
    frame = pd.read_csv(SALBA)
    keys = {"Bentazone": "k" * 300 + "1", "Glyphosate": "k" * 300 + "2"}
    frame["Herbicide"] = frame["Herbicide"].map(keys)
    frame.to_csv("long.csv", index=False)
    return list(keys.values())


def test_per_group_plots_of_long_keys_get_short_distinct_names() -> None:
    long_keys_csv()
    code, _, err = run("fit", "long.csv", *ALBA, "--plot", "plots/")
    assert code == 0, err
    names = sorted(os.listdir("plots"))
    assert len(names) == 2
    assert all(len(n.encode()) <= 140 and n.endswith(".png") for n in names)
    assert all(n.startswith("k" * 100) for n in names)
    assert "wrote 2 plots to plots/" in err


def test_per_group_plot_names_are_safe() -> None:
    frame = pd.read_csv(SALBA)
    keys = {"Bentazone": "é" * 200, "Glyphosate": 'a/b:c*?<>|"\\\x01 d'}
    frame["Herbicide"] = frame["Herbicide"].map(keys)
    frame.to_csv("odd.csv", index=False)
    code, _, err = run("fit", "odd.csv", *ALBA, "--plot", "plots/")
    assert code == 0, err
    names = sorted(os.listdir("plots"))
    assert "a_b_c_d.png" in names
    (other,) = (n for n in names if n != "a_b_c_d.png")
    assert other.startswith("é")
    assert len(other.encode()) <= 140


def test_a_long_output_name_is_written() -> None:
    # a legal name (252 bytes) whose temporary file's name would not be
    name = "k" * 248 + ".csv"
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", name)
    assert code == 0, err
    assert sorted(os.listdir()) == [name]


def test_a_name_too_long_is_refused_before_fitting(no_fit) -> None:
    name = "k" * 300 + ".csv"
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", name)
    assert code == 2
    assert one_line_error(err).endswith(
        f"{name}: cannot be written (File name too long)"
    )


def test_an_error_writing_a_plot_is_one_line_naming_the_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scurve import plotting

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(36, "File name too long")

    monkeypatch.setattr(plotting, "save_figure", fail)
    code, _, err = run("fit", SALBA, *ALBA, "--plot", "plots/")
    assert code == 1
    lines = err.strip().splitlines()
    assert lines[0] == (
        "Error: could not write 'plots/Glyphosate.png': File name too long"
    )
    assert "Traceback" not in err


# ---------------------------------------------------------------- extensions


def test_xlsx_is_a_workbook() -> None:
    assert run("fit", SALBA, *ALBA, "-o", "fits.csv")[0] == 0
    code, _, err = run("fit", SALBA, *ALBA, "-o", "fits.xlsx")
    assert code == 0, err
    assert Path("fits.xlsx").read_bytes().startswith(b"PK\x03\x04")
    sheets = pd.read_excel("fits.xlsx", sheet_name=None)
    assert list(sheets) == ["results"]
    expected = pd.read_csv("fits.csv")
    # whole numbers come back as integers from Excel, as 13.0 from CSV
    pd.testing.assert_frame_equal(sheets["results"], expected, check_dtype=False)


@pytest.mark.parametrize("plain", ["fits.csv", "fits.tsv", "fits.txt", "fits.json"])
def test_gz_is_gzip(plain: str) -> None:
    assert run("fit", SALBA, *ALBA, "-o", plain)[0] == 0
    code, _, err = run("fit", SALBA, *ALBA, "-o", plain + ".gz")
    assert code == 0, err
    packed = Path(plain + ".gz").read_bytes()
    assert packed.startswith(b"\x1f\x8b")
    unpacked = gzip.decompress(packed).decode()
    if plain.endswith(".json"):  # the saved fit, its document, loads back
        assert json.loads(unpacked) == json.loads(Path(plain).read_text())
        assert len(scurve.load(plain + ".gz")) == 2
    else:
        assert unpacked == Path(plain).read_text()


@pytest.mark.parametrize(
    "name",
    ["fits.xls", "fits.xlsb", "fits.ods", "fits.zip", "fits.png", "fits.feather",
     "fits.parquet.gz", "fits.xlsx.gz", "fits.dat"],
)  # fmt: skip
def test_formats_not_written_are_refused_before_fitting(name: str, no_fit) -> None:
    code, out, err = run("fit", RYEGRASS, *RYE, "-o", name)
    assert code == 2
    assert out == ""
    suffix = name[name.index(".") :]
    assert f"{name}: cannot write a table as '{suffix}': {FORMATS}" in one_line_error(
        err
    )
    assert files() == {}


def test_an_output_without_extension_is_refused(no_fit) -> None:
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", "fits")
    assert code == 2
    assert f"fits: no extension to say the table's format: {FORMATS}" in err
    assert files() == {}


def test_old_excel_gets_a_hint(no_fit) -> None:
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", "fits.xls")
    assert code == 2
    assert "(Excel 97-2003 is not written: use .xlsx)" in one_line_error(err)


@pytest.mark.parametrize("spelling", ["newdir/", "newdir//", "./newdir/"])
def test_an_output_ending_in_a_slash_is_refused(spelling: str, no_fit) -> None:
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", spelling)
    assert code == 2
    line = one_line_error(err)
    assert "Invalid value for '-o' / '--output'" in line
    assert f"{spelling}: names a directory (it ends in '/'); give a file name" in line
    assert files() == {}
    assert os.listdir() == []


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [("-o", "-", "'-' (standard output) is not a file: name one"),
     ("-o", "", "an empty name is not a file: name one"),
     ("--plot", "", "an empty name is not a file: name one"),
     ("--plot", "-", "'-' (standard output) is not a file: name one")],
)  # fmt: skip
def test_a_name_that_is_no_file_is_refused(
    option: str, value: str, reason: str, no_fit
) -> None:
    code, _, err = run("fit", RYEGRASS, *RYE, option, value)
    assert code == 2
    assert reason in one_line_error(err)
    assert os.listdir() == []


def test_an_existing_directory_is_refused(no_fit) -> None:
    Path("results").mkdir()
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", "results", "--force")
    assert code == 2
    assert "results: is a directory" in one_line_error(err)


def test_api_writes_what_the_extension_says() -> None:
    frame = pd.DataFrame({"group": ["001", "b"], "ec50": [1.5, float("nan")]})
    io.write_table(frame, "t.xlsx")
    back = pd.read_excel("t.xlsx", dtype={"group": str})
    pd.testing.assert_frame_equal(back, frame)
    io.write_table(frame, "t.csv.gz")
    assert (
        gzip.decompress(Path("t.csv.gz").read_bytes()) == b"group,ec50\n001,1.5\nb,\n"
    )
    io.write_json({"a": 1}, "d.json.gz")
    assert json.loads(gzip.decompress(Path("d.json.gz").read_bytes())) == {"a": 1}
    with pytest.raises(InputError, match=r"^t\.xls: cannot write a table as '\.xls'"):
        io.write_table(frame, "t.xls")
    fits = scurve.fit(pd.read_csv(RYEGRASS), "hill", x="conc", y="rootl")
    fits.result_table.write("fit.json.gz")
    assert scurve.load("fit.json.gz").params == pytest.approx(fits.params)


def test_a_table_too_large_for_excel_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(io, "EXCEL_MAX_ROWS", 2)
    frame = pd.DataFrame({"a": [1, 2, 3]})
    with pytest.raises(InputError) as excinfo:
        io.write_table(frame, "t.xlsx")
    assert str(excinfo.value) == (
        "t.xlsx: 3 rows and a header do not fit in an Excel sheet (2 rows at most); "
        "write .csv or .parquet"
    )
    assert os.listdir() == []


def test_streaming_writes_gzip_and_refuses_excel() -> None:
    frame = scale.screen(3, seed=2)
    frame.to_parquet("screen.parquet")
    args = ("--model", "hill", "--x", "dose", "--y", "response", "--by", "drug,cell")
    code, _, err = run("fit", "screen.parquet", *args, "--chunk-curves", "2", "-o",
                       "fits.csv.gz")  # fmt: skip
    assert code == 0, err
    back = pd.read_csv("fits.csv.gz")
    assert len(back) == 3
    assert Path("fits.csv.gz").read_bytes().startswith(b"\x1f\x8b")
    code, _, err = run("fit", "screen.parquet", *args, "--chunk-curves", "2", "-o",
                       "fits.xlsx")  # fmt: skip
    assert code == 2
    assert "results written chunk by chunk go to .parquet, .csv or .tsv" in (
        one_line_error(err)
    )
    assert not Path("fits.xlsx").exists()


# ---------------------------------------------------------------- unwritable


@pytest.fixture
def locked(monkeypatch: pytest.MonkeyPatch) -> Path:
    """A directory in which no file can be created (chmod does not stop
    root, who runs some CI containers: os.open is refused there)."""
    folder = Path("locked").resolve()
    folder.mkdir()
    real_open = os.open

    def refuse(path: str | os.PathLike[str], flags: int, *args: int) -> int:
        if flags & os.O_CREAT and Path(path).resolve().parent == folder:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", refuse)
    return folder


@pytest.mark.parametrize(
    "args",
    [("-o", "locked/fits.csv"), ("--plot", "locked/fit.png"),
     ("--plot", "locked/"), ("--plot", "locked/new/")],
)  # fmt: skip
def test_an_unwritable_directory_is_found_before_fitting(
    locked: Path, args: tuple[str, str], no_fit
) -> None:
    code, out, err = run("fit", SALBA, *ALBA, *args)
    assert code == 2
    assert out == ""
    line = one_line_error(err)
    assert "cannot write in the directory 'locked' (Permission denied)" in line
    assert list(locked.iterdir()) == []


def test_curves_plot_checks_its_output() -> None:
    Path("family.png").write_bytes(b"old")
    code, _, err = run("curves", "--plot", "family.png")
    assert code == 2
    assert "family.png: exists; use --force to overwrite" in one_line_error(err)
    assert Path("family.png").read_bytes() == b"old"
    code, _, err = run("curves", "--plot", "newdir/")
    assert code == 2
    assert "newdir/: names a directory" in one_line_error(err)
    code, _, err = run("curves", "--plot", "family.png", "--force")
    assert code == 0, err
    assert Path("family.png").read_bytes().startswith(b"\x89PNG")


# ---------------------------------------------------------------- half files


def test_write_screen_leaves_no_half_file(monkeypatch: pytest.MonkeyPatch) -> None:
    Path("screen.parquet").write_bytes(b"old")
    real = scale.screen
    calls = []

    def screen(*args: object, **kwargs: object) -> pd.DataFrame:
        calls.append(1)
        if len(calls) > 1:
            raise MemoryError("the second piece")
        return real(*args, **kwargs)

    monkeypatch.setattr(scale, "screen", screen)
    with pytest.raises(MemoryError):
        scale.write_screen("screen.parquet", 4, chunk_curves=2)
    assert files() == {"screen.parquet": b"old"}


SLOW_WRITER = """
import os, signal, sys, time
from pathlib import Path

from scurve import io

target, ready = Path(sys.argv[1]), Path(sys.argv[2])
with io.atomic_write(target) as stream:
    stream.write("half a table\\n")
    stream.flush()
    ready.touch()
    time.sleep(60)
"""

SLOW_FIT = """
import os, sys, time
from pathlib import Path

from scurve.cli import main

ready = Path(sys.argv[1])
fsync = os.fsync


def slow(fd):
    fsync(fd)
    ready.touch()
    time.sleep(60)


os.fsync = slow
main(sys.argv[2:])
"""


def interrupt(script: str, args: list[str], ready: Path, signum: int) -> int:
    """Run `script`, send `signum` once it is writing; its return code."""
    child = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.02)
        child.send_signal(signum)
        return child.wait(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stderr:
            child.stderr.close()


SIGNALS = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_a_terminated_write_leaves_no_temporary_file(signum: int) -> None:
    Path("out.csv").write_text("old\n")
    code = interrupt(SLOW_WRITER, ["out.csv", "ready"], Path("ready"), signum)
    assert code == -signum  # it still dies of the signal
    assert files() == {"out.csv": b"old\n", "ready": b""}


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_a_terminated_fit_leaves_the_old_results() -> None:
    Path("out.csv").write_text("old\n")
    args = ["ready", "fit", str(RYEGRASS), *RYE, "-o", "out.csv", "--force"]
    code = interrupt(SLOW_FIT, args, Path("ready"), signal.SIGTERM)
    assert code == -signal.SIGTERM
    assert files() == {"out.csv": b"old\n", "ready": b""}


def test_the_signal_handlers_are_restored() -> None:
    before = [signal.getsignal(s) for s in SIGNALS]
    with io.atomic_write("a.csv") as stream:
        stream.write("a\n")
        assert signal.getsignal(signal.SIGTERM) is not before[0]
        with io.atomic_write("b.csv") as inner:
            inner.write("b\n")
    assert [signal.getsignal(s) for s in SIGNALS] == before
    with pytest.raises(KeyboardInterrupt), io.atomic_write("c.csv"):
        raise KeyboardInterrupt
    assert [signal.getsignal(s) for s in SIGNALS] == before
    assert sorted(os.listdir()) == ["a.csv", "b.csv"]


def test_atomic_write_in_a_thread() -> None:
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with io.atomic_write("t.csv") as stream:
                stream.write("t\n")
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=write)
    worker.start()
    worker.join()
    assert errors == []
    assert Path("t.csv").read_text() == "t\n"
