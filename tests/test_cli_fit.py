"""``scurve fit``, ``models``, ``compare`` and ``predict``: results, files, errors."""

from __future__ import annotations

import csv
import io
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.cli import main, output
from scurve.inference.statistics import STAT_COLUMNS
from scurve.models import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
RYEGRASS = ROOT / "data" / "ryegrass.csv"
SALBA = ROOT / "data" / "S.alba.csv"
HEAVY = ("scipy", "pandas", "lmfit", "matplotlib")
RYE = ("--model", "sigmoid", "--x", "conc", "--y", "rootl")
ALBA = ("--model", "sigmoid", "--x", "Dose", "--y", "DryMatter", "--by", "Herbicide")
PARAMS = ("bottom", "top", "center", "scale")


def run(*args: str | Path, input: str | None = None) -> tuple[int, str, str]:
    """Run ``scurve ARGS`` in-process: exit code, stdout, stderr."""
    result = CliRunner().invoke(
        main, [str(a) for a in args], input=input, prog_name="scurve"
    )
    # Every outcome, error or not, must end in SystemExit: never a traceback.
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


def write_csv(path: Path, header: str, rows: list[tuple]) -> Path:
    with path.open("w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(header.split(","))
        writer.writerows(rows)
    return path


def curve_rows(
    seed: int = 1, groups: tuple[str, ...] = ("a", "b"), centers: tuple = (4.0, 6.0)
) -> list[tuple]:
    """Noisy logistic data, 3 replicates at 11 doses, per group."""
    rng = np.random.default_rng(seed)
    x = np.repeat(np.linspace(0, 10, 11), 3)
    rows = []
    for group, center in zip(groups, centers, strict=True):
        y = 1 + 4 * scurve.expit(1.5 * (x - center)) + rng.normal(0, 0.1, x.size)
        rows += [(group, float(a), float(b)) for a, b in zip(x, y, strict=True)]
    return rows


@pytest.fixture
def groups_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "curves.csv", "g,x,y", curve_rows())


@pytest.fixture(autouse=True)
def _in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run in `tmp_path`, so that messages name short relative paths."""
    monkeypatch.chdir(tmp_path)


def result_columns(keys: list[str]) -> list[str]:
    names = [f"{p}{s}" for p in PARAMS for s in ("", "_stderr", "_lower", "_upper")]
    tail = [*STAT_COLUMNS, "converged", "status", "message"]
    return [*keys, "model", *names, *tail]


# ---------------------------------------------------------------- real data


def test_fit_ryegrass_prints_the_fit() -> None:
    code, out, err = run("fit", RYEGRASS, *RYE)
    assert code == 0, err
    assert err == ""
    lines = out.strip().splitlines()
    assert lines[0] == "sigmoid  (95% intervals, delta method)"
    assert lines[1].split() == ["value", "stderr", "lower", "upper"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:6]}
    expected = scurve.fit(RYEGRASS, x="conc", y="rootl")
    for name in PARAMS:
        assert float(rows[name][0]) == pytest.approx(
            expected.params[name].value, rel=1e-3
        )
        lower, upper = expected.table.loc[name, ["lower", "upper"]]
        assert float(rows[name][2]) == pytest.approx(lower, rel=1e-3)
        assert float(rows[name][3]) == pytest.approx(upper, rel=1e-3)
    assert 3.0 < float(rows["center"][0]) < 3.2  # drc: log ED50 ~ 3.06 mM
    stats = dict(item.split("=") for item in lines[6].split())
    assert int(stats["n"]) == 24
    assert lines[7].startswith("  status: ok (")


def test_fit_csv_has_the_group_table_columns() -> None:
    code, out, _ = run("fit", SALBA, *ALBA, "--format", "csv")
    assert code == 0
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns) == result_columns(["Herbicide"])
    expected = scurve.fit(SALBA, x="Dose", y="DryMatter", by="Herbicide").table
    pd.testing.assert_frame_equal(frame, expected, check_dtype=False)


def test_fit_salba_by_herbicide() -> None:
    code, out, _ = run("fit", SALBA, *ALBA, "--format", "csv")
    assert code == 0
    centers = pd.read_csv(io.StringIO(out)).set_index("Herbicide")["center"]
    fits = scurve.fit(SALBA, x="Dose", y="DryMatter", by="Herbicide")
    for herbicide, approx in (("Bentazone", 30.66), ("Glyphosate", 59.11)):
        assert centers[herbicide] == pytest.approx(approx, rel=1e-3)
        assert centers[herbicide] == pytest.approx(
            fits[herbicide].params["center"].value, rel=1e-9
        )


def test_fit_salba_shared_plateaus() -> None:
    code, out, err = run(
        "fit", SALBA, *ALBA, "--share", "bottom,top", "--format", "csv"
    )
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out)).set_index("Herbicide")
    assert frame["bottom"].nunique() == 1
    assert frame["top"].nunique() == 1
    assert frame.loc["Glyphosate", "center"] != frame.loc["Bentazone", "center"]
    joint = scurve.fit(
        SALBA, x="Dose", y="DryMatter", by="Herbicide", share=["bottom", "top"]
    ).table.set_index("Herbicide")
    for name in ("bottom", "top", "center", "center_stderr"):
        assert frame[name].to_numpy() == pytest.approx(joint[name].to_numpy())
    # the joint fit has the residual degrees of freedom of both curves
    assert (frame["dof"] == 68 - 6).all()


def test_fit_shape_option_changes_the_curve() -> None:
    code, out, _ = run("fit", RYEGRASS, *RYE, "--shape", "erf", "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["model"] == "sigmoid(erf)"
    (group,) = document["groups"]
    assert group["options"] == {"shape": "erf"}
    expected = scurve.fit(RYEGRASS, x="conc", y="rootl", shape="erf")
    assert group["params"]["center"]["value"] == pytest.approx(
        expected.params["center"].value, rel=1e-9
    )


def test_fit_fix_init_bounds() -> None:
    code, out, _ = run(
        "fit",
        RYEGRASS,
        *RYE,
        "--fix",
        "bottom=0",
        "--init",
        "center=2",
        "--bounds",
        "top=0:",
        "--format",
        "json",
    )
    assert code == 0
    params = json.loads(out)["groups"][0]["params"]
    assert params["bottom"] == {
        "value": 0.0,
        "stderr": 0.0,
        "lower": 0.0,
        "upper": 0.0,
        "vary": False,
    }
    assert params["top"]["vary"] is True


def test_fit_weights_change_the_fit(tmp_path: Path) -> None:
    rows = [(x, y, 0.1 if x < 5 else 1.0) for _, x, y in curve_rows()[:33]]
    data = write_csv(tmp_path / "w.csv", "x,y,sd", rows)
    plain = json.loads(
        run(
            "fit",
            data,
            "--model",
            "sigmoid",
            "--x",
            "x",
            "--y",
            "y",
            "--format",
            "json",
        )[1]
    )
    code, out, _ = run(
        "fit", data, "--model", "sigmoid", "--x", "x", "--y", "y",
        "--weights", "sd", "--format", "json",
    )  # fmt: skip
    assert code == 0
    weighted = json.loads(out)
    expected = scurve.fit(data, x="x", y="y", weights="sd")
    center = weighted["groups"][0]["params"]["center"]["value"]
    assert center == pytest.approx(expected.params["center"].value, rel=1e-9)
    assert center != plain["groups"][0]["params"]["center"]["value"]


def test_fit_reads_stdin() -> None:
    code, out, _ = run("fit", "-", *RYE, "--format", "csv", input=RYEGRASS.read_text())
    assert code == 0
    assert pd.read_csv(io.StringIO(out))["n"].tolist() == [24]


def test_fit_at_bound_is_a_warning_not_a_failure() -> None:
    code, out, err = run(
        "fit", RYEGRASS, *RYE, "--bounds", "top=0:5", "--init", "top=4.9"
    )
    assert code == 0
    assert "at_bound" in out
    assert err.startswith("Warning: ")
    assert "top is at its upper bound 5" in err
    assert len(err.strip().splitlines()) == 1


def test_fit_profile_intervals(groups_csv: Path) -> None:
    code, out, _ = run(
        "fit", groups_csv, "--model", "sigmoid", "--x", "x", "--y", "y",
        "--by", "g", "--ci", "profile", "--level", "0.9", "--format", "json",
    )  # fmt: skip
    assert code == 0
    groups = json.loads(out)["groups"]
    assert {g["ci"] for g in groups} == {"profile"}
    assert {g["level"] for g in groups} == {0.9}
    center = groups[0]["params"]["center"]
    assert center["lower"] < center["value"] < center["upper"]


# ---------------------------------------------------------------- JSON and predict


def test_fit_json_schema_and_file(tmp_path: Path) -> None:
    out_path = tmp_path / "res.json"
    code, out, err = run("fit", SALBA, *ALBA, "-o", out_path)
    assert code == 0
    assert out == ""  # with -o, stdout stays quiet unless --format is given
    assert f"wrote {out_path}" in err
    document = json.loads(out_path.read_text())
    assert document["model"] == "sigmoid"
    assert document["shared"] == []
    assert [g["group"] for g in document["groups"]] == [
        {"Herbicide": "Glyphosate"},
        {"Herbicide": "Bentazone"},
    ]
    group = document["groups"][0]
    assert set(group["params"]) == set(PARAMS)
    assert set(group["params"]["center"]) == {
        "value",
        "stderr",
        "lower",
        "upper",
        "vary",
    }
    assert set(STAT_COLUMNS) <= set(group["stats"])
    assert group["status"] == "ok"
    assert group["converged"] is True
    assert group["name"] == "sigmoid"
    assert group["covariance"]["names"] == list(PARAMS)
    assert np.array(group["covariance"]["matrix"]).shape == (4, 4)
    # the same document on stdout
    code, out, _ = run("fit", SALBA, *ALBA, "--format", "json")
    assert json.loads(out) == document


def test_fit_single_json_is_one_group_without_keys() -> None:
    code, out, _ = run("fit", RYEGRASS, *RYE, "--format", "json")
    assert code == 0
    document = json.loads(out)
    assert document["model"] == "sigmoid"
    (group,) = document["groups"]
    assert group["group"] == {}
    expected = scurve.fit(RYEGRASS, x="conc", y="rootl").to_dict()
    assert group["params"] == expected["params"]


def predict_json(*args: str | Path) -> dict:
    code, out, err = run("predict", *args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_predict_round_trips_a_single_fit(tmp_path: Path) -> None:
    saved = tmp_path / "rye.json"
    assert run("fit", RYEGRASS, *RYE, "-o", saved)[0] == 0
    xs = [0.0, 1.0, 3.0, 10.0, 30.0]
    points = predict_json(saved, "--x", ",".join(map(str, xs)))["points"]
    result = scurve.fit(RYEGRASS, x="conc", y="rootl")
    fit, lower, upper = result.band(np.array(xs))
    assert [p["x"] for p in points] == xs
    assert [p["y"] for p in points] == pytest.approx(fit, rel=1e-9)
    assert [p["y_lower"] for p in points] == pytest.approx(lower, rel=1e-6)
    assert [p["y_upper"] for p in points] == pytest.approx(upper, rel=1e-6)
    # and back: the x at which the curve reaches those y
    ys = [p["y"] for p in points[1:4]]
    back = predict_json(saved, "--y", ",".join(map(repr, ys)))["points"]
    assert [p["x"] for p in back] == pytest.approx(xs[1:4], rel=1e-6)
    assert all(p["x_lower"] < p["x"] < p["x_upper"] for p in back)


def test_predict_round_trips_shared_groups(tmp_path: Path) -> None:
    saved = tmp_path / "alba.json"
    code, _, _ = run("fit", SALBA, *ALBA, "--share", "bottom,top", "-o", saved)
    assert code == 0
    points = predict_json(saved, "--x", "10", "--x", "50,100")["points"]
    fits = scurve.fit(
        SALBA, x="Dose", y="DryMatter", by="Herbicide", share=["bottom", "top"]
    )
    for herbicide in ("Glyphosate", "Bentazone"):
        mine = [p for p in points if p["Herbicide"] == herbicide]
        fit, lower, upper = fits[herbicide].band(np.array([10.0, 50.0, 100.0]))
        assert [p["y"] for p in mine] == pytest.approx(fit, rel=1e-9)
        assert [p["y_lower"] for p in mine] == pytest.approx(lower, rel=1e-6)
        assert [p["y_upper"] for p in mine] == pytest.approx(upper, rel=1e-6)


def test_predict_table_and_out_of_range_inverse(tmp_path: Path) -> None:
    saved = tmp_path / "rye.json"
    run("fit", RYEGRASS, *RYE, "-o", saved)
    code, out, _ = run("predict", saved, "--y", "4", "--y", "100")
    assert code == 0
    header, inside, outside = out.strip().splitlines()
    assert header.split() == ["y", "x", "x_lower", "x_upper"]
    assert 3 < float(inside.split()[1]) < 4
    assert outside.split()[1:] == ["nan", "nan", "nan"]
    document = predict_json(saved, "--y", "100")
    assert document["points"][0]["x"] is None  # NaN is null in JSON


def test_predict_reports_a_failed_group_and_exits_1(tmp_path: Path) -> None:
    rows = [*curve_rows(), ("lonely", 1.0, 2.0)]
    data = write_csv(tmp_path / "d.csv", "g,x,y", rows)
    saved = tmp_path / "d.json"
    run("fit", data, "--model", "sigmoid", "--x", "x", "--y", "y", "--by", "g",
        "-o", saved)  # fmt: skip
    code, out, err = run("predict", saved, "--x", "5")
    assert code == 1
    assert [line.split()[0] for line in out.strip().splitlines()] == ["g", "a", "b"]
    assert "group g=lonely: no fitted curve (failed: 1 points" in one_line_error(err)


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--x", "1"], "missing.json: no such file"),
        ("x,y\n1,2\n", ["--x", "1"], "not JSON (line 1"),
        ("[1, 2]", ["--x", "1"], 'a list, not a saved fit (no "groups")'),
        (
            '{"model": "nope", "shared": [], "groups": [{"group": {}, "name": '
            '"nope", "status": "ok", "converged": true, "params": {}}]}',
            ["--x", "1"],
            '"name" is "nope", not a model of scurve',
        ),
        ("{}", [], "give one of --x and --y"),
        ("{}", ["--x", "1", "--y", "2"], "give one of --x and --y"),
        ("{}", ["--x", "abc"], "'abc' is not a number"),
    ],
)
def test_predict_bad_input_exits_2(
    tmp_path: Path, content: str | None, args: list[str], message: str
) -> None:
    path = tmp_path / "missing.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run("predict", path, *args)
    assert code == 2
    assert out == ""
    assert message in one_line_error(err)


# ---------------------------------------------------------------- outputs


@pytest.mark.parametrize("suffix", [".csv", ".tsv"])
def test_fit_writes_a_table(tmp_path: Path, suffix: str) -> None:
    target = tmp_path / f"out{suffix}"
    code, out, _ = run("fit", SALBA, *ALBA, "-o", target)
    assert code == 0
    assert out == ""
    frame = pd.read_csv(target, sep="\t" if suffix == ".tsv" else ",")
    assert list(frame.columns) == result_columns(["Herbicide"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_fit_prints_and_writes_with_format(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    code, out, _ = run("fit", RYEGRASS, *RYE, "-o", target, "--format", "csv")
    assert code == 0
    assert out == target.read_text()


@pytest.mark.parametrize("spelling", ["data.csv", "./data.csv", "sub/../data.csv"])
def test_output_equal_to_input_is_refused(tmp_path: Path, spelling: str) -> None:
    (tmp_path / "sub").mkdir()
    data = tmp_path / "data.csv"
    data.write_bytes(RYEGRASS.read_bytes())
    before = data.read_bytes()
    code, out, err = run("fit", "data.csv", *RYE, "-o", spelling, "--force")
    assert code == 2
    assert out == ""
    assert "is an input file; refusing to overwrite it" in one_line_error(err)
    assert data.read_bytes() == before


def test_existing_output_needs_force(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("precious\n")
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", target)
    assert code == 2
    assert "exists; use --force to overwrite" in one_line_error(err)
    assert target.read_text() == "precious\n"
    code, _, _ = run("fit", RYEGRASS, *RYE, "-o", target, "--force")
    assert code == 0
    assert target.read_text().startswith("model,bottom,")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("option", ["-o", "--plot"])
def test_a_pipe_or_device_is_not_replaced(tmp_path: Path, option: str) -> None:
    # The atomic rename would put a regular file where /dev/null was.
    pipe = tmp_path / "pipe.csv"
    os.mkfifo(pipe)
    code, _, err = run("fit", RYEGRASS, *RYE, option, pipe, "--force")
    assert code == 2
    assert "not a regular file (a device or a pipe)" in one_line_error(err)
    assert pipe.is_fifo()


def test_output_in_a_missing_directory_is_refused_before_fitting(
    tmp_path: Path,
) -> None:
    code, _, err = run("fit", RYEGRASS, *RYE, "-o", tmp_path / "no" / "out.csv")
    assert code == 2
    assert "does not exist" in one_line_error(err)


def test_failing_write_leaves_the_old_output_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.csv"
    target.write_text("old results\n")

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)  # as the file is finished
    code, out, err = run("fit", RYEGRASS, *RYE, "-o", target, "--force")
    assert code == 1
    assert out == ""
    assert "could not write" in one_line_error(err)
    assert "No space left on device" in err
    assert target.read_text() == "old results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ("--x", "x", "--y", "y"), "data.csv: no such file"),
        ("", ("--x", "x", "--y", "y"), "data.csv: the file is empty"),
        ("x,y\n", ("--x", "x", "--y", "y"), "data.csv: no data rows"),
        (
            "Dose,y\n1,2\n",
            ("--x", "dose", "--y", "y"),
            "data.csv: no x column 'dose' (did you mean 'Dose'?); "
            "the columns are: Dose, y",
        ),
        (
            "x,y\n1,2\n2,3\n3,abc\n",
            ("--x", "x", "--y", "y"),
            "data.csv: y column 'y', row 4: 'abc' is not a number",
        ),
        (
            "x,y,g\n1,2,a\n",
            ("--x", "x", "--y", "y", "--by", "group"),
            "no group column 'group'",
        ),
        (
            "x,y,s\n1,2,0\n",
            ("--x", "x", "--y", "y", "--weights", "s"),
            "weights column 's', row 2: 0 is not positive",
        ),
    ],
)
def test_bad_input_is_one_line_with_exit_code_2(
    tmp_path: Path, content: str | None, args: tuple[str, ...], message: str
) -> None:
    if content is not None:
        (tmp_path / "data.csv").write_text(content)
    code, out, err = run("fit", "data.csv", "--model", "sigmoid", *args)
    assert code == 2
    assert out == ""
    assert message in one_line_error(err)


def test_nan_and_inf_rows_are_dropped_and_counted(tmp_path: Path) -> None:
    text = RYEGRASS.read_text().splitlines()
    text[3] = "NaN,0"
    text[5] = "7.1,inf"
    text.append(",1")
    (tmp_path / "data.csv").write_text("\n".join(text) + "\n")
    code, out, err = run("fit", "data.csv", *RYE, "--format", "csv")
    assert code == 0
    assert err.strip() == (
        "Warning: data.csv: dropped 3 rows with missing or infinite values "
        "(first: row 4, column 'rootl')"
    )
    assert pd.read_csv(io.StringIO(out))["n"].tolist() == [24 + 1 - 3]
    code, out, err = run("fit", "data.csv", *RYE, "--nan", "error")
    assert code == 2
    assert out == ""
    assert one_line_error(err) == (
        "Error: data.csv: y column 'rootl', row 4: missing value"
    )


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([(1, 2), (2, 3), (3, 5)], "data.csv: 3 points for 4 free parameters"),
        ([(x, 2.5) for x in range(8)], "data.csv: y is constant (2.5)"),
        ([(3, y) for y in range(8)], "data.csv: all x are equal (3)"),
    ],
)
def test_a_single_curve_that_cannot_be_fitted_exits_1(
    tmp_path: Path, rows: list[tuple], message: str
) -> None:
    write_csv(tmp_path / "data.csv", "x,y", rows)
    code, out, err = run("fit", "data.csv", "--model", "sigmoid", "--x", "x",
                         "--y", "y")  # fmt: skip
    assert code == 1
    assert out == ""
    assert one_line_error(err).startswith(f"Error: {message}")


def test_a_group_with_one_point_fails_alone(tmp_path: Path) -> None:
    rows = [*curve_rows(), ("lonely", 1.0, 2.0)]
    write_csv(tmp_path / "data.csv", "g,x,y", rows)
    target = tmp_path / "out.csv"
    code, out, err = run(
        "fit", "data.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
        "--by", "g", "-o", target, "--format", "csv",
    )  # fmt: skip
    assert code == 1
    frame = pd.read_csv(io.StringIO(out)).set_index("g")
    assert frame["status"].to_dict() == {"a": "ok", "b": "ok", "lonely": "failed"}
    assert frame.loc["lonely", "message"].startswith("1 points for 4 free")
    assert math.isnan(frame.loc["lonely", "center"])
    assert frame.loc["a", "center"] == pytest.approx(4.0, abs=0.2)
    assert frame.loc["b", "center"] == pytest.approx(6.0, abs=0.2)
    assert pd.read_csv(target).equals(frame.reset_index())  # rows still written
    (line,) = [x for x in err.splitlines() if not x.startswith("wrote")]
    assert line.startswith("Error: data.csv: group g=lonely: failed: 1 points")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--fix", "nope=1"), "Invalid value for '--fix': sigmoid has no parameter"),
        (("--init", "ec50=1"), "Invalid value for '--init': sigmoid has no"),
        (("--bounds", "hill=0:1"), "Invalid value for '--bounds': sigmoid has no"),
        (("--bounds", "top=5:1"), "top: need LOW < HIGH"),
        (("--bounds", "top=1"), "expected NAME=LOW:HIGH"),
        (("--fix", "top"), "expected NAME=NUMBER"),
        (("--fix", "top=inf"), "top=inf is not a finite number"),
        (("--share", "top"), "--share needs groups: give --by as well"),
        (("--by", "conc", "--share", "tops"), "'--share': sigmoid has no parameter"),
        (("--shape", "squiggle"), "Invalid value for '--shape'"),
        (("--level", "1.5"), "Invalid value for '--level'"),
        (("--ci", "bootstrap"), "Invalid value for '--ci'"),
        (("--format", "xml"), "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    code, out, err = run("fit", RYEGRASS, *RYE, *args)
    assert code == 2
    assert out == ""
    assert message in one_line_error(err)


def test_unknown_model_exits_2() -> None:
    code, _, err = run("fit", RYEGRASS, "--model", "hil", "--x", "conc", "--y", "y")
    assert code == 2
    assert "Invalid value for '--model': 'hil' is not" in one_line_error(err)


# ---------------------------------------------------------------- progress, help


def test_progress_bar_only_on_a_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = tuple("abcdefg")
    rows = curve_rows(groups=names, centers=tuple(np.linspace(3, 7, len(names))))
    write_csv(tmp_path / "many.csv", "g,x,y", rows)
    args = ("fit", "many.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
            "--by", "g", "--ci", "none")  # fmt: skip
    code, _, err = run(*args)
    assert code == 0
    assert err == ""
    monkeypatch.setattr(output, "stderr_is_terminal", lambda: True)
    code, out, err = run(*args)
    assert code == 0
    assert "fitting 7 groups" in err
    assert [
        line.split("  ")[0] for line in out.splitlines() if line.startswith("g=")
    ] == [f"g={n}" for n in names]


def test_fit_help_documents_exit_codes_and_columns() -> None:
    code, out, _ = run("fit", "--help")
    assert code == 0
    assert "Exit codes" in out
    assert "1  the work could not be finished" in out
    assert "NAME_stderr" in out
    assert '"covariance"' in out


@pytest.mark.parametrize("command", ["fit", "models", "compare", "predict"])
def test_command_help_imports_nothing_heavy(command: str) -> None:
    probe = (
        "import sys\n"
        "import scurve.cli\n"
        f"sys.argv = ['scurve', {command!r}, '--help']\n"
        "try:\n"
        "    scurve.cli.main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        f"print('HEAVY:', *[m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:"


def test_python_m_scurve_fit_wall_time(record_property: object) -> None:
    """Measured and reported (``-rP`` shows it), not asserted: it depends on
    the machine, and mostly on importing lmfit and scipy."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "scurve", "fit", str(RYEGRASS), *RYE],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    wall = time.perf_counter() - start
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("sigmoid")
    record_property("scurve_fit_wall_seconds", round(wall, 3))  # type: ignore[operator]
    print(f"python -m scurve fit data/ryegrass.csv: {wall:.2f} s wall")


# ---------------------------------------------------------------- plots


def test_plot_one_file_for_a_single_fit(tmp_path: Path) -> None:
    target = tmp_path / "fit.png"
    code, out, err = run("fit", RYEGRASS, *RYE, "--plot", target)
    assert code == 0, err
    assert target.read_bytes().startswith(b"\x89PNG")
    assert f"wrote {target}" in err
    assert out.startswith("sigmoid")


def test_plot_groups_overlaid_with_one_legend(tmp_path: Path) -> None:
    target = tmp_path / "groups.svg"
    code, _, err = run("fit", SALBA, *ALBA, "--share", "bottom,top", "--plot", target)
    assert code == 0, err
    svg = target.read_text()  # text stays text in SVG
    assert ">Herbicide<" in svg  # the legend's title
    assert ">Bentazone<" in svg


def test_plot_one_png_per_group_in_a_directory(tmp_path: Path) -> None:
    rows = [*curve_rows(groups=("a/1", "b 2")), ("lonely", 1.0, 2.0)]
    write_csv(tmp_path / "data.csv", "g,x,y", rows)
    code, _, err = run(
        "fit", "data.csv", "--model", "sigmoid", "--x", "x", "--y", "y",
        "--by", "g", "--plot", "plots/",
    )  # fmt: skip
    assert code == 1  # the lonely group failed, and has no plot
    files = sorted(p.name for p in (tmp_path / "plots").iterdir())
    assert files == ["a_1.png", "b_2.png"]
    assert "wrote 2 plots to plots/" in err


def test_plot_refuses_existing_files_before_fitting(tmp_path: Path) -> None:
    target = tmp_path / "fit.png"
    target.write_bytes(b"old")
    code, out, err = run("fit", RYEGRASS, *RYE, "--plot", target)
    assert code == 2
    assert out == ""
    assert "exists; use --force to overwrite" in one_line_error(err)
    assert target.read_bytes() == b"old"


def test_plot_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("fit", RYEGRASS, *RYE, "--plot", tmp_path / "fit.xyz")
    assert code == 2
    assert "Invalid value for '--plot'" in one_line_error(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


# ---------------------------------------------------------------- models


def test_models_lists_the_registry() -> None:
    code, out, _ = run("models")
    assert code == 0
    for name, factory in REGISTRY.items():
        assert f"{name}\n  formula:" in out
        assert factory().formula in out
    assert "shape=logistic" in out


def test_models_json_describes_each_model() -> None:
    code, out, _ = run("models", "--format", "json")
    assert code == 0
    entries = json.loads(out)
    assert [e["name"] for e in entries] == list(REGISTRY)
    (sigmoid,) = [e for e in entries if e["name"] == "sigmoid"]
    assert list(sigmoid["parameters"]) == list(PARAMS)
    assert sigmoid["parameters"]["top"] == {"min": "-inf", "max": "inf"}
    assert sigmoid["options"] == {"shape": "logistic"}
    assert sigmoid["derived"] == {}


# ---------------------------------------------------------------- compare


def test_compare_ranks_models_per_group() -> None:
    code, out, err = run(
        "compare", SALBA, "--models", "sigmoid,sigmoid:erf", "--models",
        "sigmoid:gompertz", "--x", "Dose", "--y", "DryMatter", "--by", "Herbicide",
        "--format", "csv",
    )  # fmt: skip
    assert code == 0, err
    frame = pd.read_csv(io.StringIO(out))
    assert list(frame.columns) == [
        "Herbicide", "model", "n", "k", "rss", "aic", "aicc", "bic",
        "delta_aic", "aic_weight", "status",
    ]  # fmt: skip
    for herbicide, part in frame.groupby("Herbicide"):
        assert sorted(part["model"]) == [
            "sigmoid",
            "sigmoid(erf)",
            "sigmoid(gompertz)",
        ]
        assert part["aic_weight"].sum() == pytest.approx(1.0)
        assert part["aic"].is_monotonic_increasing
        assert part["delta_aic"].iloc[0] == 0
        expected = scurve.fit(
            SALBA, x="Dose", y="DryMatter", by="Herbicide", shape="erf"
        )[herbicide].stats["aic"]
        erf = part.set_index("model").loc["sigmoid(erf)", "aic"]
        assert erf == pytest.approx(expected, rel=1e-9)


def test_compare_single_curve_json() -> None:
    code, out, _ = run(
        "compare", RYEGRASS, "--models", "sigmoid:erf,sigmoid", "--x", "conc",
        "--y", "rootl", "--format", "json",
    )  # fmt: skip
    assert code == 0
    (group,) = json.loads(out)["groups"]
    assert group["group"] == {}
    assert group["models"][0]["model"] == "sigmoid"  # best AIC
    assert {m["k"] for m in group["models"]} == {5}


def test_compare_lists_a_failed_fit_last_and_exits_1(tmp_path: Path) -> None:
    rows = [*curve_rows(), ("lonely", 1.0, 2.0)]
    write_csv(tmp_path / "data.csv", "g,x,y", rows)
    code, out, err = run(
        "compare", "data.csv", "--models", "sigmoid,sigmoid:erf", "--x", "x",
        "--y", "y", "--by", "g", "--format", "csv",
    )  # fmt: skip
    assert code == 1
    frame = pd.read_csv(io.StringIO(out))
    lonely = frame[frame["g"] == "lonely"]
    assert lonely["status"].tolist() == ["failed", "failed"]
    assert lonely["aic"].isna().all()
    assert "group g=lonely: sigmoid: failed: 1 points" in err


@pytest.mark.parametrize(
    ("models", "message"),
    [
        ("sigmoid", "give at least two different models"),
        ("sigmoid,sigmoid:logistic", "give at least two different models"),
        ("sigmoid,nosuchmodel", "'nosuchmodel' is not"),
        ("sigmoid,sigmoid:squiggle", "'squiggle' is not"),
    ],
)
def test_compare_bad_models_exit_2(models: str, message: str) -> None:
    code, out, err = run(
        "compare", RYEGRASS, "--models", models, "--x", "conc", "--y", "rootl"
    )
    assert code == 2
    assert out == ""
    assert message in one_line_error(err)


def test_compare_prints_a_table_by_default() -> None:
    code, out, err = run(
        "compare", RYEGRASS, "--models", "sigmoid,sigmoid:erf", "--x", "conc",
        "--y", "rootl",
    )  # fmt: skip
    assert code == 0, err
    header, *rows = out.strip().splitlines()
    assert header.split()[:4] == ["model", "n", "k", "rss"]
    assert [r.split()[0] for r in rows] == ["sigmoid", "sigmoid(erf)"]
