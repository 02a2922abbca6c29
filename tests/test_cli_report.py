"""The command line's Report: one-line warnings and errors, counts, exit codes."""

from __future__ import annotations

import errno
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from scurve.cli import main
from scurve.cli.report import (
    MAX_REPORTED,
    OneLineErrorGroup,
    OutputError,
    Report,
    output_errors,
)
from scurve.errors import FitError, InputError

ROOT = Path(__file__).resolve().parents[1]


def test_a_report_with_nothing_wrong_exits_0(capsys: pytest.CaptureFixture) -> None:
    report = Report()
    with report.catching("data.csv"):
        report.warn("data.csv: dropped 1 row")
        report.wrote("out.csv")
    assert report.return_code == 0
    assert (report.finished, report.warned) == (1, 1)
    assert capsys.readouterr().err == (
        "Warning: data.csv: dropped 1 row\nwrote out.csv\n"
    )


@pytest.mark.parametrize(
    ("error", "code", "line"),
    [
        (InputError("data.csv: no column 'x'"), 2, "Error: data.csv: no column 'x'"),
        (
            click.BadParameter("no such parameter", param_hint="'--fix'"),
            2,
            "Error: Invalid value for '--fix': no such parameter",
        ),
        (click.UsageError("give one of --x and --y"), 2, "Error: give one of --x"),
        (FitError("3 points for 4 free parameters"), 1, "Error: data.csv: 3 points"),
        (OutputError("could not write 'o.csv': disk full"), 1, "Error: could not"),
        (OSError(errno.EACCES, "Permission denied", "in.wav"), 1, "Error: in.wav: P"),
    ],
)
def test_what_stops_the_work_is_one_line_and_its_exit_code(
    capsys: pytest.CaptureFixture, error: Exception, code: int, line: str
) -> None:
    report = Report()
    after = []

    def work() -> None:
        raise error

    with report.catching("data.csv"):
        work()
        after.append("never")  # the block ends at the error
    assert after == []
    assert report.return_code == code
    err = capsys.readouterr().err
    assert err.startswith(line)
    assert len(err.splitlines()) == 1


def test_an_input_error_outranks_a_failure() -> None:
    report = Report()
    report.fail("a fit failed")
    assert report.return_code == 1
    report.refuse("a bad value")
    assert report.return_code == 2


def test_warnings_are_said_once_each_in_one_line(
    capsys: pytest.CaptureFixture,
) -> None:
    import warnings

    report = Report()
    with report.warnings():
        warnings.warn("two\n   lines", stacklevel=1)
        warnings.warn("two lines", stacklevel=1)
        report.warn("two lines")
    assert capsys.readouterr().err == "Warning: two lines\n"
    assert report.return_code == 0


def test_fits_are_reported_up_to_a_limit_and_failures_exit_1(
    capsys: pytest.CaptureFixture,
) -> None:
    report = Report()
    problems = [
        ((f"g{i}",), "failed" if i % 2 else "at_bound", "why") for i in range(30)
    ]
    report.fits("d.csv", ["g"], iter(problems), count=30, failed=15, total=40)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == MAX_REPORTED + 1
    assert lines[0] == "Warning: d.csv: group g=g0: at_bound: why"
    assert lines[1] == "Error: d.csv: group g=g1: failed: why"
    assert lines[-1] == (
        "Warning: d.csv: 20 more fits are not ok; see the status column"
    )
    assert report.return_code == 1
    assert (report.finished, report.failed) == (25, 15)


def test_a_joint_fit_says_its_status_once(capsys: pytest.CaptureFixture) -> None:
    report = Report()
    problems = [(("a",), "singular", "no errors"), (("b",), "singular", "no errors")]
    report.fits("d.csv", ["g"], iter(problems), count=2, failed=0, total=2, joint=True)
    assert capsys.readouterr().err == "Warning: d.csv: joint fit: singular: no errors\n"
    assert report.return_code == 0


@pytest.mark.parametrize(
    ("error", "kind", "message"),
    [
        (
            OSError(errno.ENOSPC, "No space left"),
            OutputError,
            "could not write 'o.csv'",
        ),
        (ImportError("plotting needs matplotlib"), OutputError, "needs matplotlib"),
        (InputError("o.csv: exists"), InputError, "exists"),  # refused before writing
    ],
)
def test_output_errors_name_the_file(
    error: Exception, kind: type[Exception], message: str
) -> None:
    def write() -> None:
        raise error

    with pytest.raises(kind, match=message), output_errors("o.csv"):
        write()


def test_the_group_makes_usage_errors_one_line() -> None:
    @click.group(cls=OneLineErrorGroup)
    def group() -> None:
        pass

    @group.command()
    @click.option("--n", type=int, required=True)
    def count(n: int) -> None:
        pass

    result = CliRunner().invoke(group, ["count", "--n", "many"], prog_name="g")
    assert result.exit_code == 2
    assert result.stderr == (
        "Error: Invalid value for '--n': 'many' is not a valid integer. "
        "(see 'g count --help')\n"
    )


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["eval", "tanh", "0"], 0),
        (["fit", "data/ryegrass.csv", "--model", "hill", "--x", "conc", "--y",
          "rootl", "--bounds", "top=0:7", "--init", "top=6.9"], 0),  # at_bound
        (["fit", "-", "--model", "sigmoid", "--x", "x", "--y", "y"], 1),
        (["fit", "data/ryegrass.csv", "--model", "sigmoid", "--x", "conc",
          "--y", "nope"], 2),
        (["eval", "tanh", "--form", "even", "0"], 2),
    ],
)  # fmt: skip
def test_exit_codes_of_commands_as_documented(args: list[str], code: int) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "scurve", *args],
        input="x,y\n1,2\n2,3\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    if code:
        assert done.stderr.startswith("Error: ")
    assert main.epilog is not None
    assert f"{code}  " in main.epilog
