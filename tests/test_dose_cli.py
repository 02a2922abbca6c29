"""``scurve fit --model hill`` with --ec and --log-dose; ``predict --y`` on a
saved dose-response fit; the dose-response refusals and their exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.analysis import dose
from scurve.cli import main
from scurve.inference.likelihoods import Binomial
from scurve.io import InputError

ROOT = Path(__file__).resolve().parents[1]
RYEGRASS = ROOT / "data" / "ryegrass.csv"
SALBA = ROOT / "data" / "S.alba.csv"
RYE = ("--model", "hill", "--x", "conc", "--y", "rootl")
RYE_DATA = pd.read_csv(RYEGRASS)


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def test_ec_columns_match_the_api():
    code, out, _ = run("fit", RYEGRASS, *RYE, "--ec", "10,50,90", "--format", "csv")
    assert code == 0
    row = pd.read_csv(io.StringIO(out)).iloc[0]
    result = scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl")
    table = dose.ec(result, [10, 50, 90])  # delta on the dose scale, as drc
    for p in (10, 50, 90):
        expected = table.loc[f"IC{p}"]
        for suffix, col in (("", "value"), ("_lower", "lower"), ("_upper", "upper")):
            assert row[f"ic{p}{suffix}"] == pytest.approx(expected[col], rel=1e-9)
    # on the log-dose scale, ic50 is the fit's own ec50 row
    code, out, _ = run(
        "fit", RYEGRASS, *RYE, "--ec", "50", "--ec-ci", "log", "--format", "csv"
    )
    row = pd.read_csv(io.StringIO(out)).iloc[0]
    assert row["ic50_lower"] == pytest.approx(result.table.loc["ec50", "lower"])


def test_ec_report_labels_a_falling_curve_ic():
    code, out, _ = run("fit", RYEGRASS, *RYE, "--ec", "10")
    assert code == 0
    assert "  ic10 " in out
    assert "  ec10 " not in out


def test_ec_in_json_and_groups():
    args = ("--x", "Dose", "--y", "DryMatter", "--by", "Herbicide")
    code, out, _ = run(
        "fit", SALBA, "--model", "hill", *args, "--share", "bottom,top",
        "--ec", "50", "--format", "json",
    )  # fmt: skip
    assert code == 0
    groups = json.loads(out)["groups"]
    assert [sorted(g["derived"]) for g in groups] == [["ec50", "ic50"]] * 2
    for g in groups:
        assert g["derived"]["ic50"]["value"] == pytest.approx(
            g["derived"]["ec50"]["value"], rel=1e-9
        )


def test_ec_and_log_dose_only_for_dose_models():
    for option, message in (
        (
            ("--ec", "50"),
            "'--ec': ECx needs a dose-response fit (hill, hill5, weibull2), "
            "not sigmoid",
        ),
        (("--log-dose",), "'--log-dose': log_dose is an option of hill, hill5"),
    ):
        code, out, err = run(
            "fit", RYEGRASS, "--model", "sigmoid", "--x", "conc", "--y", "rootl",
            *option,
        )  # fmt: skip
        assert code == 2
        assert out == ""
        assert message in err
        assert len(err.strip().splitlines()) == 1
    code, _, err = run("fit", RYEGRASS, *RYE, "--ec", "0,50")
    assert code == 2
    assert "ECx needs 0 < x < 100, got 0" in err


def test_log_dose_column(tmp_path):
    frame = pd.read_csv(RYEGRASS)
    frame = frame[frame["conc"] > 0].assign(logc=lambda d: np.log10(d["conc"]))
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    code, out, _ = run(
        "fit", path, "--model", "hill", "--x", "logc", "--y", "rootl",
        "--log-dose", "--format", "json",
    )  # fmt: skip
    assert code == 0
    group = json.loads(out)["groups"][0]
    assert group["options"] == {"log_dose": True}
    linear = scurve.fit(frame, model="hill", x="conc", y="rootl")
    assert group["derived"]["ec50"]["value"] == pytest.approx(
        linear.params["ec50"].value, rel=1e-6
    )


def test_predict_y_inverts_a_saved_hill_fit(tmp_path):
    saved = tmp_path / "rye.json"
    assert run("fit", RYEGRASS, *RYE, "-o", saved)[0] == 0
    code, out, _ = run("predict", saved, "--y", "2,4,9", "--format", "json")
    assert code == 0
    points = json.loads(out)["points"]
    result = scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl")
    expected = result.model.inverse(np.array([2.0, 4.0]), result.params)
    assert [p["x"] for p in points[:2]] == pytest.approx(expected, rel=1e-9)
    assert all(p["x_lower"] < p["x"] < p["x_upper"] for p in points[:2])
    assert points[2]["x"] is None  # 9 cm is above the top plateau


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("2,1\n2,1.1\n2,1.2\n2,1.3\n", "all doses are equal (2)"),
        ("0,1\n1,1.1\n2,1.2\n4,1.3\n8,1.5\n16,1.8\n", "EC50 > 16 (the highest dose)"),
    ],
    ids=["one-dose", "no-midpoint"],
)
def test_refusals_exit_1_with_one_line(tmp_path, rows, message):
    path = tmp_path / "d.csv"
    path.write_text("dose,resp\n" + rows)
    code, _, err = run("fit", path, "--model", "hill", "--x", "dose", "--y", "resp")
    assert code == 1
    assert message in err
    assert len(err.strip().splitlines()) == 1


def test_negative_dose_is_an_input_error_naming_file_column_and_row(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("dose,resp\n0,1\n1,1.1\n-1,1.1\n2,1.2\n4,1.3\n")
    code, _, err = run("fit", path, "--model", "hill", "--x", "dose", "--y", "resp")
    assert code == 2
    assert "d.csv: x column 'dose', row 4: -1 is negative" in err
    assert len(err.strip().splitlines()) == 1
    with pytest.raises(InputError, match="row 4: -1 is negative"):
        scurve.fit(path, model="hill", x="dose", y="resp")


def test_negative_log_doses_are_fine(tmp_path):
    treated = RYE_DATA[RYE_DATA["conc"] > 0]
    logc = np.log10(treated["conc"].to_numpy()) - 2
    frame = pd.DataFrame({"logc": logc, "rootl": treated["rootl"]})
    path = tmp_path / "log.csv"
    frame.to_csv(path, index=False)
    assert (frame["logc"] < 0).all()
    code, out, _ = run("fit", path, *RYE[:2], "--x", "logc", "--y", "rootl",
                       "--log-dose", "--format", "csv")  # fmt: skip
    assert code == 0
    assert pd.read_csv(io.StringIO(out))["status"].iloc[0] == "ok"


SELENIUM = ROOT / "data" / "selenium.csv"
QUANTAL = ("--model", "hill", "--x", "conc", "--y", "dead", "--trials", "total")


def test_quantal_from_the_command_line_is_fit_quantal_per_group():
    code, out, _ = run("fit", SELENIUM, *QUANTAL, "--by", "type",
                       "--ec", "10", "--format", "csv")  # fmt: skip
    assert code == 0
    table = pd.read_csv(io.StringIO(out))
    data = pd.read_csv(SELENIUM)
    assert table["type"].tolist() == [1, 2, 3, 4]
    for _, row in table.iterrows():
        g = data[data["type"] == row["type"]]
        direct = dose.fit_quantal(g["conc"], g["dead"], g["total"])
        for name in ("ec50", "hill", "bottom"):
            assert row[name] == pytest.approx(direct.params[name].value, rel=1e-9)
        assert row["ec50_lower"] == pytest.approx(direct.table.loc["ec50", "lower"])
        ec10 = dose.ec(direct, [10], ci="log").iloc[0]["value"]
        assert row["ec10"] == pytest.approx(ec10, rel=1e-9)
        assert row["ec10"] < row["ec50"]
    code, out, _ = run("fit", SELENIUM, *QUANTAL, "--by", "type", "--format", "json")
    groups = json.loads(out)["groups"]
    # group keys are labels, written back as read (text)
    assert [g["group"]["type"] for g in groups] == ["1", "2", "3", "4"]
    assert groups[1]["params"]["hill"]["value"] == pytest.approx(table["hill"][1])
    code, out, _ = run("fit", SELENIUM, *QUANTAL, "--by", "type")
    assert code == 0
    assert "type=4  hill" in out
    assert "ec50" in out


def test_quantal_api_with_arrays_and_a_table():
    data = pd.read_csv(SELENIUM)
    g = data[data["type"] == 2]
    single = scurve.fit(g, "hill", x="conc", y="dead", trials="total")
    arrays = scurve.fit(x=g["conc"], y=g["dead"], trials=g["total"], model="hill")
    assert isinstance(single.likelihood, Binomial)
    assert single.params["ec50"].value == pytest.approx(
        arrays.params["ec50"].value, rel=1e-12
    )
    with pytest.raises(scurve.FitError, match="need a curve that is a probability"):
        scurve.fit(g, "logistic", x="conc", y="dead", trials="total")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("0,10,2\n1,10,3\n2,4,5\n", "q.csv: trials column 'n', row 4: 4 is "
         "less than the 5 responders"),
        ("0,10,2\n1,10,3.5\n2,10,5\n", "q.csv: y column 'k', row 3: 3.5 is not "
         "a whole number"),
        ("0,10,2\n1,9.5,3\n2,10,5\n", "q.csv: trials column 'n', row 3: 9.5 is "
         "not a whole number"),
        ("0,10,2\n1,0,0\n2,10,5\n", "q.csv: trials column 'n', row 3: 0 is not "
         "positive"),
        ("0,10,-2\n1,10,3\n2,10,5\n", "q.csv: y column 'k', row 2: -2 is negative"),
    ],
    ids=["trials-below-responders", "fractional-responders", "fractional-trials",
         "no-trials", "negative-responders"],
)  # fmt: skip
def test_bad_counts_exit_2_naming_the_row(tmp_path, rows, message):
    path = tmp_path / "q.csv"
    path.write_text("dose,n,k\n" + rows)
    code, _, err = run("fit", path, "--model", "hill", "--x", "dose", "--y", "k",
                       "--trials", "n")  # fmt: skip
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ("--model", "logistic"),
            "'--trials': quantal data need a curve that is a probability "
            "(sigmoid, hill, hill5, weibull2), not logistic",
        ),
        (
            ("--model", "hill", "--weights", "total"),
            "'--weights': trials weight the binomial likelihood",
        ),
    ],
)
def test_trials_usage_errors_exit_2(extra, message):
    code, _, err = run("fit", SELENIUM, "--x", "conc", "--y", "dead",
                       "--trials", "total", *extra)  # fmt: skip
    assert code == 2
    assert message in err
