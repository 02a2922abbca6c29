"""The Baranyi-Roberts model (issue 24): growthrates' curve, a published
curve's fit, seeded recovery on both paths, and h0 at its bound."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scurve
from scurve.models import get_model

DATA = Path(__file__).resolve().parent.parent / "data"
HOURS = np.arange(0.0, 30.5, 1.0)


def documented_baranyi(t, y0, mumax, K, h0):
    """The equation as growthrates' help page (?grow_baranyi) prints it,
    evaluated literally."""
    a = t + 1 / mumax * np.log(
        np.exp(-mumax * t) + np.exp(-h0) - np.exp(-mumax * t - h0)
    )
    log_y = (
        np.log(y0)
        + mumax * a
        - np.log(1 + (np.exp(mumax * a) - 1) / np.exp(np.log(K) - np.log(y0)))
    )
    return np.exp(log_y)


@pytest.mark.parametrize(
    "truth",
    [
        {"y0": 0.01, "mumax": 0.5, "K": 0.1, "h0": 5.0},  # growthrates' example
        {"y0": 1e3, "mumax": 1.2, "K": 1e9, "h0": 0.3},
        {"y0": 0.02, "mumax": 0.05, "K": 0.9, "h0": 12.0},
    ],
)
def test_the_curve_is_growthrates_equation(truth):
    t = np.linspace(0.0, 30.0, 200)
    curve = get_model("baranyi").function(t, **truth)
    np.testing.assert_allclose(curve, documented_baranyi(t, **truth), rtol=1e-10)


def test_without_lag_the_curve_is_the_logistic():
    t = np.linspace(0.0, 40.0, 81)
    baranyi = get_model("baranyi").function(t, y0=0.01, mumax=0.4, K=0.8, h0=0.0)
    t0 = math.log(0.8 / 0.01 - 1) / 0.4  # the logistic through y0 at t = 0
    logistic = get_model("logistic").function(t, K=0.8, r=0.4, t0=t0, N_min=0.0)
    np.testing.assert_allclose(baranyi, logistic, rtol=1e-12)


def test_the_partials_are_finite_at_h0_zero():
    t = np.array([0.0, 1.0, 5.0, 50.0])
    d = get_model("baranyi").partials(t, y0=0.01, mumax=0.4, K=0.8, h0=0.0)
    for name, values in d.items():
        assert np.all(np.isfinite(values)), name
    # dB/dh0 at h0 = 0 is exp(-mu t) - 1: y's slope in h0 is negative after t = 0
    assert d["h0"][0] == 0.0
    assert np.all(d["h0"][1:3] < 0)


def test_a_published_curve_fitted_on_the_log_scale_as_r_fits_it():
    # growthrates' bactgrowth, strain D, replicate 1, no tetracycline (the
    # vignette's first curve; well A1 of data/bactgrowth_plate.csv), fitted
    # on the log scale within the vignette's box constraints by R 4.2.2's
    # nls(log(y) ~ baranyi(...), algorithm = "port", tol = 1e-12):
    # y0 0.01576826151, mumax 0.27198340303, K 0.09508026283,
    # h0 0.44699946076, standard errors 0.0009696, 0.0348543, 0.0023970,
    # 0.3440371, residual standard error 0.07672 on 27 df, rss 0.1589155123.
    plate = pd.read_csv(DATA / "bactgrowth_plate.csv")
    result = scurve.fit(
        x=plate["time"].to_numpy(float),
        y=plate["A1"].to_numpy(),
        model="baranyi",
        log_y=True,
    )
    assert result.status == "ok", result.message
    expect = {
        "y0": (0.01576826151, 0.0009696),
        "mumax": (0.27198340303, 0.0348543),
        "K": (0.09508026283, 0.0023970),
        "h0": (0.44699946076, 0.3440371),
    }
    for name, (value, stderr) in expect.items():
        assert result.params[name].value == pytest.approx(value, rel=2e-5), name
        assert result.params[name].stderr == pytest.approx(stderr, rel=2e-3), name
    assert result.stats["rss"] == pytest.approx(0.1589155123, rel=1e-7)
    assert result.params["lag"].value == pytest.approx(
        0.44699946076 / 0.27198340303, rel=5e-5
    )
    assert result.params["doubling_time"].value == pytest.approx(
        math.log(2) / 0.27198340303, rel=5e-5
    )


TRUTHS = [
    {"y0": 0.005, "mumax": 0.45, "K": 0.8, "h0": 2.5},
    {"y0": 2e3, "mumax": 0.9, "K": 3e8, "h0": 4.0},
    {"y0": 0.01, "mumax": 0.3, "K": 0.5, "h0": 1.5},
]


def _plate(truth, n_wells, seed, sd=0.03):
    """Seeded curves of one truth, log-normal noise of `sd` on ln y."""
    rng = np.random.default_rng(seed)
    y = get_model("baranyi").function(HOURS, **truth)
    columns = {"time": HOURS}
    for i in range(n_wells):
        columns[f"A{i + 1}"] = y * np.exp(sd * rng.normal(size=HOURS.size))
    return pd.DataFrame(columns)


@pytest.mark.parametrize("engine", ["vectorized", "lmfit"])
@pytest.mark.parametrize("case", range(len(TRUTHS)))
def test_seeded_curves_recovered_without_a_start_on_both_paths(engine, case):
    truth = TRUTHS[case]
    fits = scurve.fit(
        _plate(truth, 8, seed=case),
        "baranyi",
        x="time",
        wide=True,
        log_y=True,
        engine=engine,
        workers=1,
    )
    table = fits.table
    assert list(table["status"]) == ["ok"] * 8, list(table["message"])
    for name, value in {**truth, "lag": truth["h0"] / truth["mumax"]}.items():
        estimate, stderr = table[name].to_numpy(), table[f"{name}_stderr"].to_numpy()
        # each within 4 standard errors, and the plate's mean within 15 %
        assert np.all(np.abs(estimate - value) < 4 * stderr), (name, estimate)
        assert np.mean(estimate) == pytest.approx(value, rel=0.15), name


def test_both_paths_agree():
    plate = _plate(TRUTHS[0], 4, seed=7)
    a = scurve.fit(
        plate, "baranyi", x="time", wide=True, log_y=True, engine="vectorized"
    ).table
    b = scurve.fit(
        plate, "baranyi", x="time", wide=True, log_y=True, engine="lmfit"
    ).table
    for name in ("y0", "mumax", "K", "h0", "lag"):
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, err_msg=name)


def test_h0_at_its_bound_is_reported_with_the_reason():
    # a logistic curve with no lag: the best h0 is 0, on its bound
    t = np.linspace(0.0, 30.0, 31)
    t0 = math.log(0.5 / 0.05 - 1) / 0.4
    y = get_model("logistic").function(t, K=0.5, r=0.4, t0=t0, N_min=0.0)
    rng = np.random.default_rng(3)
    y = y * np.exp(0.01 * rng.normal(size=t.size))
    # the first points lower still: a lag below 0, which h0 >= 0 holds at 0
    y[:3] *= np.array([0.8, 0.9, 0.97])
    result = scurve.fit(x=t, y=y, model="baranyi", log_y=True)
    assert result.status == "at_bound"
    assert result.params["h0"].value == pytest.approx(0.0, abs=1e-9)
    assert (
        "h0 is at its lower bound 0 (no lag phase: the curve is the logistic)"
        in result.message
    )


def test_the_cli_fits_baranyi_on_the_log_scale(tmp_path):
    from click.testing import CliRunner

    from scurve.cli import main

    out = tmp_path / "fits.csv"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(DATA / "bactgrowth_plate.csv"),
            "--model",
            "baranyi",
            "--x",
            "time",
            "--wide",
            "--wells",
            "A1,A2",
            "--log-y",
            "--output",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert list(table["well"]) == ["A1", "A2"]
    assert table.loc[0, "mumax"] == pytest.approx(0.27198340303, rel=2e-5)
    assert {"lag", "doubling_time", "h0_stderr"} <= set(table.columns)


def test_h0_at_its_bound_in_a_joint_fit_says_why_under_its_group_name():
    # two wells with no lag, K shared: each well's own h0 (h0_g0, h0_g1 in
    # the joint fit) ends on its bound, and the message says what that means
    t = np.linspace(0.0, 30.0, 31)
    t0 = math.log(0.5 / 0.05 - 1) / 0.4
    base = get_model("logistic").function(t, K=0.5, r=0.4, t0=t0, N_min=0.0)
    columns = {"time": t}
    for i, well in enumerate(("A1", "A2")):
        rng = np.random.default_rng(10 + i)
        y = base * np.exp(0.01 * rng.normal(size=t.size))
        y[:3] *= np.array([0.8, 0.9, 0.97])
        columns[well] = y
    long = pd.DataFrame(columns).melt("time", var_name="well", value_name="od")
    fits = scurve.fit(
        long, "baranyi", x="time", y="od", by="well", log_y=True, share="K"
    )
    message = fits.table["message"].iloc[0]
    assert fits.table["status"].iloc[0] == "at_bound", message
    assert (
        "h0_g0 is at its lower bound 0 (no lag phase: the curve is the logistic)"
        in message
    )
