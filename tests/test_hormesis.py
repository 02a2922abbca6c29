"""Hormesis: the Brain-Cousens curve (drc's BC.5, BC.4 with bottom fixed at
0), its maximal stimulation (drc's ``MAX``) and the test of f = 0, on drc's
``lettuce`` data (van Ewijk & Hoekstra 1993).

drc's help page prints no output for ``lettuce.m2``, so the reference here is
an independent fit of drc's own parametrization, :math:`c + (d - c + f x) /
(1 + \\exp(b (\\ln x - \\ln e)))`, by scipy, its standard errors from the
Hessian of the residual sum of squares (drc's), and the maximum by scipy's
bounded scalar minimizer (drc's ``MAX`` bisects the same slope)."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import optimize, stats

import scurve
from scurve.analysis import dose
from scurve.cli import main
from scurve.models import get_model
from scurve.models.dose import peak

ROOT = Path(__file__).resolve().parents[1]
LETTUCE = ROOT / "data" / "lettuce.csv"
BC = ("--model", "brain_cousens", "--x", "conc", "--y", "weight")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def drc_bc(p, x, bottom=None):
    """drc's BC.5 (b, c, d, e, f), or BC.4 (b, d, e, f) with c = `bottom`."""
    if bottom is None:
        b, c, d, e, f = p
    else:
        (b, d, e, f), c = p, bottom
    with np.errstate(divide="ignore"):
        return c + (d - c + f * x) / (1 + np.exp(b * (np.log(x) - np.log(e))))


@pytest.fixture(scope="module")
def reference():
    """BC.4 on lettuce by scipy in drc's parameters: estimates, Hessian
    standard errors (2 s^2 H^-1) and the maximum."""
    frame = pd.read_csv(LETTUCE)
    x, y = frame["conc"].to_numpy(float), frame["weight"].to_numpy(float)

    def rss(p):
        return float(np.sum((y - drc_bc(p, x, 0.0)) ** 2))

    fit = optimize.least_squares(
        lambda p: y - drc_bc(p, x, 0.0), [1.5, 1.0, 1.0, 1.0], xtol=1e-15,
        ftol=1e-15, gtol=1e-15,
    )  # fmt: skip
    p = fit.x
    k, h = p.size, 1e-4 * np.maximum(np.abs(p), 1e-2)
    hess = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            a, b = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (
                rss(p + a + b) - rss(p + a - b) - rss(p - a + b) + rss(p - a - b)
            ) / (4 * h[i] * h[j])
    s2 = rss(p) / (x.size - k)
    se = np.sqrt(np.diag(2 * s2 * np.linalg.inv(hess)))
    best = optimize.minimize_scalar(
        lambda lx: -drc_bc(p, np.exp(lx), 0.0), bounds=(-5, 3), method="bounded",
        options={"xatol": 1e-12},
    )  # fmt: skip
    return {"p": p, "se": se, "rss": rss(p), "max": (math.exp(best.x), -best.fun)}


@pytest.fixture(scope="module")
def bc4():
    return scurve.fit(
        LETTUCE, model="brain_cousens", x="conc", y="weight", fix={"bottom": 0}
    )


def test_bc4_matches_drc_s_parametrization(bc4, reference):
    b, d, e, f = reference["p"]
    got = bc4.params
    assert bc4.status == "ok"
    assert got["hill"].value == pytest.approx(-b, rel=1e-6)
    assert got["top"].value == pytest.approx(d, rel=1e-6)
    assert got["xb"].value == pytest.approx(e, rel=1e-5)
    assert got["hormesis"].value == pytest.approx(f, rel=1e-5)
    assert bc4.stats["rss"] == pytest.approx(reference["rss"], rel=1e-9)
    se_b, se_d, se_e, se_f = reference["se"]
    assert got["hill"].stderr == pytest.approx(se_b, rel=1e-3)
    assert got["top"].stderr == pytest.approx(se_d, rel=1e-3)
    assert got["xb"].stderr == pytest.approx(se_e, rel=1e-3)
    assert got["hormesis"].stderr == pytest.approx(se_f, rel=1e-3)


def test_maximal_stimulation_is_drc_s_max(bc4, reference):
    dose_max, response_max = reference["max"]
    got = bc4.params
    assert got["max_dose"].value == pytest.approx(dose_max, rel=1e-6)
    assert got["max_response"].value == pytest.approx(response_max, rel=1e-7)
    assert got["stimulation"].value == pytest.approx(
        response_max - got["top"].value, rel=1e-8
    )
    for name in ("max_dose", "max_response", "stimulation"):
        row = bc4.table.loc[name]
        assert row["stderr"] > 0
        assert row["lower"] < row["value"] < row["upper"]


def test_the_hormesis_table_tests_f_zero(bc4, reference):
    table = dose.hormesis(bc4)
    assert list(table.index) == ["hormesis", "max_dose", "max_response", "stimulation"]
    row = table.loc["hormesis"]
    f, se = reference["p"][3], reference["se"][3]
    assert row["value"] == pytest.approx(f, rel=1e-5)
    assert row["t"] == pytest.approx(f / se, rel=1e-3)
    assert row["p"] == pytest.approx(2 * stats.t.sf(abs(f / se), 10), rel=1e-2)
    assert row["p"] > 0.05  # drc: "hormesis effect only slightly significant"
    assert table.attrs["test"].startswith("hormesis (f) = 0: t = ")


def test_bc5_nests_the_hill_curve():
    """BC.5 with f = 0 is LL.4: its xb is the EC50, its RSS the Hill fit's."""
    frame = pd.read_csv(LETTUCE)
    bc = scurve.fit(
        frame, model="brain_cousens", x="conc", y="weight", fix={"hormesis": 0}
    )
    hill = scurve.fit(frame, model="hill", x="conc", y="weight")
    assert bc.stats["rss"] == pytest.approx(hill.stats["rss"], rel=1e-8)
    assert bc.params["xb"].value == pytest.approx(hill.params["ec50"].value, rel=1e-5)
    assert math.isnan(bc.params["max_dose"].value)


def test_seeded_hormesis_is_recovered():
    truth = {"bottom": 0.5, "top": 10.0, "log_xb": 0.3, "hill": -2.0, "hormesis": 4.0}
    model = get_model("brain_cousens")
    x = np.repeat([0.0, 0.1, 0.3, 1.0, 2.0, 4.0, 10.0, 30.0, 100.0], 4)
    rng = np.random.default_rng(21)
    y = model.function(x, **truth) + rng.normal(0, 0.2, x.size)
    fitted = scurve.fit(x=x, y=y, model="brain_cousens")
    for name, value in truth.items():
        p = fitted.params[name]
        assert abs(p.value - value) < 4 * p.stderr, name
    true_dose, true_max = peak(truth)
    row = fitted.table.loc["max_dose"]
    assert row["lower"] < true_dose < row["upper"]
    assert fitted.params["max_response"].value == pytest.approx(true_max, rel=0.05)


def test_peak_is_nan_without_stimulation():
    values = {"bottom": 0.0, "top": 1.0, "log_xb": 0.0, "hill": -2.0}
    dose_at, response = peak({**values, "hormesis": np.array([-1.0, 0.0, 1.0])})
    assert np.isnan(dose_at[:2]).all()
    assert np.isnan(response[:2]).all()
    assert dose_at[2] > 0
    assert response[2] > 1.0
    shallow, _ = peak({**values, "hill": -0.8, "hormesis": 1.0})
    assert np.isnan(shallow)


# ------------------------------------------------------------------ the command line


def test_fit_prints_the_stimulation_and_the_test(bc4):
    code, out, err = run("fit", LETTUCE, *BC, "--fix", "bottom=0")
    assert code == 0, err
    lines = out.splitlines()
    row = next(line for line in lines if line.startswith("  max_dose "))
    assert float(row.split()[1]) == pytest.approx(bc4.params["max_dose"].value, 1e-5)
    test = next(line for line in lines if line.startswith("  hormesis test: "))
    assert "hormesis (f) = 0" in test
    assert "p = 0.1" in test
    assert "no significant stimulation at the 5% level" in test
    code, doc, _ = run("fit", LETTUCE, *BC, "--fix", "bottom=0", "--format", "json")
    section = json.loads(doc)["groups"][0]["hormesis_test"]
    assert section["p"] == pytest.approx(dose.hormesis(bc4).loc["hormesis", "p"])
    code, csv, _ = run("fit", LETTUCE, *BC, "--fix", "bottom=0", "--format", "csv")
    frame = pd.read_csv(io.StringIO(csv))
    assert {"max_dose", "stimulation_lower", "hormesis_p"} <= set(frame.columns)


def test_hill_still_refuses_hormesis_and_points_to_brain_cousens(tmp_path):
    truth = {"bottom": 0.5, "top": 10.0, "log_xb": 0.3, "hill": -2.0, "hormesis": 30.0}
    x = np.repeat([0.0, 0.1, 0.3, 1.0, 2.0, 4.0, 10.0, 30.0, 100.0], 2)
    y = get_model("brain_cousens").function(x, **truth)
    path = tmp_path / "bell.csv"
    pd.DataFrame({"conc": x, "weight": y}).to_csv(path, index=False)
    code, _out, err = run("fit", path, "--model", "hill", "--x", "conc", "--y",
                         "weight")  # fmt: skip
    assert code == 1
    assert "hormesis or a bell shape?" in err
    assert "--model brain_cousens" in err


def test_hormesis_needs_a_brain_cousens_fit():
    fitted = scurve.fit(ROOT / "data" / "ryegrass.csv", model="hill", x="conc",
                        y="rootl")  # fmt: skip
    with pytest.raises(scurve.errors.InputError, match="needs a brain_cousens fit"):
        dose.hormesis(fitted)


def test_brain_cousens_refuses_negative_doses_and_too_few_doses(tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("conc,weight\n0,1\n0,1.1\n1,0.5\n1,0.4\n")
    code, _, err = run("fit", path, *BC)
    assert code == 1
    assert "2 distinct doses: a hormesis curve needs at least three" in err
    path.write_text("conc,weight\n-1,1\n0,1.1\n1,0.5\n2,0.4\n")
    code, _, err = run("fit", path, *BC)
    assert code == 2
    assert "conc" in err
    assert "-1" in err


def test_a_saved_brain_cousens_fit_loads_and_predicts(tmp_path, bc4):
    """The JSON with its hormesis_test section is a saved fit (refused as
    an unknown key before)."""
    path = tmp_path / "bc.json"
    code, _, err = run("fit", LETTUCE, *BC, "--fix", "bottom=0", "-o", path)
    assert code == 0, err
    loaded = scurve.load(path)
    assert loaded.params["max_dose"].value == pytest.approx(
        bc4.params["max_dose"].value, rel=1e-6
    )
    code, out, err = run("predict", path, "--x", "1")
    assert code == 0, err
    assert float(out.splitlines()[1].split()[1]) == pytest.approx(
        float(bc4.predict([1.0])[0]), rel=1e-5
    )


def test_shared_controls_join_hormesis_curves_too(tmp_path):
    """Every dose-response model takes shared zero-dose controls: lettuce's
    two controls as their own group, given to two copies of the curve."""
    frame = pd.read_csv(LETTUCE)
    dosed = frame[frame["conc"] > 0]
    parts = [frame[frame["conc"] == 0].assign(batch="ctrl")]
    parts += [dosed.assign(batch=name) for name in ("a", "b")]
    path = tmp_path / "batches.csv"
    pd.concat(parts).to_csv(path, index=False)
    code, out, err = run("fit", path, *BC, "--fix", "bottom=0", "--by", "batch",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert "group batch=ctrl has only zero doses" in err
    rows = pd.read_csv(io.StringIO(out))
    assert rows["batch"].tolist() == ["a", "b"]
    whole = scurve.fit(LETTUCE, model="brain_cousens", x="conc", y="weight",
                       fix={"bottom": 0})  # fmt: skip
    assert rows["hormesis"].tolist() == pytest.approx(
        [whole.params["hormesis"].value] * 2, rel=1e-6
    )
