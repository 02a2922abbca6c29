"""Robust dose-response fits (``loss=``, ``scurve fit --loss``): seeded
synthetic data with planted outliers recovered within brackets where least
squares fails, outliers flagged, interval coverage by simulation."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.cli import main
from scurve.errors import FitError
from scurve.inference.likelihoods import OUTLIER, Robust
from scurve.models import get_model

TRUTH = {"bottom": 1.0, "top": 9.0, "log_ec50": 0.5, "hill": 1.2}
DOSES = np.repeat([0, 0.3, 1, 3, 10, 30, 100], 3).astype(float)
PLANTED = [4, 10, 13]


def contaminated(seed: int = 1) -> np.ndarray:
    """The Hill curve plus N(0, 0.2) noise, three points moved by 5-7 units."""
    rng = np.random.default_rng(seed)
    y = get_model("hill").function(DOSES, **TRUTH) + rng.normal(0, 0.2, DOSES.size)
    y[PLANTED] += [6.0, -5.0, 7.0]
    return y


@pytest.mark.parametrize("loss", ["huber", "soft_l1", "cauchy"])
def test_robust_loss_recovers_the_curve_and_flags_the_outliers(loss):
    y = contaminated()
    result = scurve.fit(x=DOSES, y=y, model="hill", loss=loss)
    assert isinstance(result.likelihood, Robust)
    assert result.status == "ok", result.message
    v = result.params.valuesdict()
    assert abs(v["log_ec50"] - 0.5) < 0.03
    assert 1.1 < v["hill"] < 1.35
    assert abs(v["bottom"] - 1) < 0.2
    assert abs(v["top"] - 9) < 0.2
    # the truth inside the intervals
    table = result.table
    for name, value in TRUTH.items():
        assert table.loc[name, "lower"] < value < table.loc[name, "upper"], name
    points = result.points
    assert np.flatnonzero(points["outlier"]).tolist() == PLANTED
    assert result.n_outliers == 3
    assert (points["weight"][PLANTED] < 0.05).all()
    # the scale is the noise's (0.2), not inflated by the outliers
    assert 0.08 < result.scale < 0.3


def test_least_squares_fails_on_the_same_data():
    result = scurve.fit(x=DOSES, y=contaminated(), model="hill")
    v = result.params.valuesdict()
    # pulled to a step: the slope is far off and nothing is identifiable
    assert result.status != "ok" or abs(v["hill"] - 1.2) > 0.5
    assert abs(v["hill"] - 1.2) > 0.5


def test_clean_data_give_the_least_squares_answer():
    """Without outliers the Huber fit is within a standard error of least
    squares (0.12 on average), its standard errors within 25% (1.02 on
    average), and few points are flagged (1.5% in simulation: the scale is
    estimated from 21 points)."""
    rng = np.random.default_rng(11)
    mu = get_model("hill").function(DOSES, **TRUTH)
    flagged, scales, shifts, ratios = 0, [], [], []
    for _ in range(30):
        y = mu + rng.normal(0, 0.2, DOSES.size)
        plain = scurve.fit(x=DOSES, y=y, model="hill")
        robust = scurve.fit(x=DOSES, y=y, model="hill", loss="huber")
        flagged += robust.n_outliers
        scales.append(robust.scale)
        for name in TRUTH:
            se = plain.params[name].stderr
            shift = abs(robust.params[name].value - plain.params[name].value)
            shifts.append(shift / se)
            ratios.append(robust.params[name].stderr / se)
    assert max(shifts) < 1
    assert np.mean(shifts) < 0.2
    assert 0.75 < min(ratios) <= max(ratios) < 1.25
    assert np.mean(ratios) == pytest.approx(1, abs=0.05)
    assert flagged / (30 * DOSES.size) < 0.03
    assert 0.17 < np.mean(scales) < 0.22  # the noise's 0.2


def test_interval_coverage_by_simulation():
    """95% intervals of log EC50 under 10% gross contamination: the Huber
    sandwich covariance covers the truth about 95% of the time (seeded;
    measured 0.95 with 100 replicates)."""
    rng = np.random.default_rng(7)
    mu = get_model("hill").function(DOSES, **TRUTH)
    covered = fitted = 0
    for _ in range(60):
        y = mu + rng.normal(0, 0.3, DOSES.size)
        bad = rng.random(DOSES.size) < 0.1
        y[bad] += rng.choice([-1, 1], bad.sum()) * rng.uniform(3, 6, bad.sum())
        try:
            result = scurve.fit(x=DOSES, y=y, model="hill", loss="huber")
        except FitError:
            continue
        fitted += 1
        lo, hi = result.table.loc["log_ec50", ["lower", "upper"]]
        covered += lo <= 0.5 <= hi
    assert fitted >= 55
    assert 0.88 <= covered / fitted <= 1.0


def test_groups_take_the_lmfit_path_with_the_loss():
    frame = pd.DataFrame(
        {
            "dose": np.tile(DOSES, 2),
            "resp": np.concatenate([contaminated(1), contaminated(2)]),
            "plate": np.repeat(["a", "b"], DOSES.size),
        }
    )
    fits = scurve.fit(frame, "hill", x="dose", y="resp", by="plate", loss="cauchy")
    assert all(isinstance(fits[k].likelihood, Robust) for k in ("a", "b"))
    assert fits.table["outliers"].tolist() == [3, 3]
    assert fits.table["loss"].tolist() == ["cauchy", "cauchy"]
    assert (abs(fits.table["log_ec50"] - 0.5) < 0.05).all()
    assert fits.to_dict()["groups"][1]["robust"]["outliers"][0]["point"] == 5


def test_refusals():
    with pytest.raises(FitError, match="unknown loss 'l1'"):
        scurve.fit(x=DOSES, y=contaminated(), model="hill", loss="l1")
    with pytest.raises(FitError, match="profile intervals are not available"):
        scurve.fit(x=DOSES, y=contaminated(), model="hill", loss="huber", ci="profile")
    frame = pd.DataFrame({"d": np.tile(DOSES, 2), "r": np.tile(contaminated(), 2),
                          "g": np.repeat([1, 2], DOSES.size)})  # fmt: skip
    with pytest.raises(FitError, match="cannot be used with share"):
        scurve.fit(frame, "hill", x="d", y="r", by="g", share="top", loss="huber")


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def outlying_csv(tmp_path):
    path = tmp_path / "assay.csv"
    pd.DataFrame({"dose": DOSES, "resp": contaminated()}).to_csv(path, index=False)
    return path


def test_cli_loss_reports_the_outliers(outlying_csv):
    args = ("fit", outlying_csv, "--model", "hill", "--x", "dose", "--y", "resp")
    code, out, _ = run(*args, "--loss", "huber", "--format", "csv")
    assert code == 0
    row = pd.read_csv(io.StringIO(out)).iloc[0]
    api = scurve.fit(outlying_csv, "hill", x="dose", y="resp", loss="huber")
    assert row["log_ec50"] == pytest.approx(api.params["log_ec50"].value, rel=1e-12)
    assert row["loss"] == "huber"
    assert row["outliers"] == 3
    assert row["scale"] == pytest.approx(api.scale)
    code, out, _ = run(*args, "--loss", "huber", "--format", "json")
    robust = json.loads(out)["groups"][0]["robust"]
    assert [p["point"] for p in robust["outliers"]] == [i + 1 for i in PLANTED]
    assert all(abs(p["scaled"]) > OUTLIER for p in robust["outliers"])
    code, out, _ = run(*args, "--loss", "cauchy")
    assert code == 0
    assert "cauchy loss, scale" in out
    assert "3 outliers (|residual| > 3 scale): points 5 (x=0.3" in out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            ("--ci", "profile"),
            "'--ci': profile intervals are not available with a robust loss",
        ),
        (("--trials", "resp"), "a robust loss (huber) does not apply to quantal"),
        (("--loss", "l1"), "Invalid value for '--loss'"),
    ],
)
def test_cli_loss_usage_errors_exit_2(outlying_csv, extra, message):
    code, _, err = run("fit", outlying_csv, "--model", "hill", "--x", "dose",
                       "--y", "resp", "--loss", "huber", *extra)  # fmt: skip
    assert code == 2
    assert message in err
