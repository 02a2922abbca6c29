"""Plate readers: wide tables, blanks, growthcurver's summary, no-growth wells,
fits on the log scale and the area under the curve."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.integrate import quad

import scurve
from scurve.cli import main
from scurve.errors import FitError
from scurve.io import InputError

GROWTHDATA = Path(__file__).parent / "reference" / "growthdata.csv"

# growthcurver 0.3.1 vignette, SummarizeGrowthByPlate(growthdata) (default
# bg_correct = "min"), as printed: k, n0, r, t_mid, t_gen, auc_l, auc_e, sigma.
GROWTHCURVER = {
    "A1": (0.3358696, 1.82e-05, 1.1186573, 8.779414, 0.6196242, 5.112115, 5.151667,
           0.0046860),
    "B1": (0.4041318, 1.54e-05, 1.0223886, 9.949513, 0.6779684, 5.678234, 5.718521,
           0.0044383),
    "C1": (0.3706032, 1.76e-05, 0.9865605, 10.090879, 0.7025896, 5.154747, 5.191147,
           0.0044099),
    "D1": (0.3819837, 1.95e-05, 1.0257106, 9.635499, 0.6757727, 5.486987, 5.538353,
           0.0054090),
    "E1": (0.3700136, 1.50e-05, 1.1968446, 8.447183, 0.5791455, 5.754740, 5.780758,
           0.0038871),
}  # fmt: skip
COLUMNS = ("k", "n0", "r", "t_mid", "t_gen", "auc_l", "auc_e", "sigma")


def printed_digits(value: float) -> float:
    """Half a unit in the last printed digit of `value` (7 significant)."""
    return 0.5 * 10.0 ** (math.floor(math.log10(abs(value))) - 6)


@pytest.fixture(scope="module")
def first_column() -> pd.DataFrame:
    """Wells A1-E1 of growthcurver's plate, fitted as growthcurver does."""
    plate = pd.read_csv(GROWTHDATA)[["time", *GROWTHCURVER]]
    fits = scurve.fit(plate, "logistic", x="time", wide=True, blank="min")
    return scurve.growthcurver_summary(fits).set_index("sample")


@pytest.mark.parametrize("well", list(GROWTHCURVER))
def test_growthcurver_plate_summary_reproduced(first_column, well):
    """growthcurver's printed table: k, r, t_mid, t_gen, auc_l, auc_e to 1e-6
    relative (R's nlsLM stops at its convergence tolerance, some 1e-7 short
    of the optimum in the 7th digit; auc_l is integrated numerically there),
    n0 to its 3 printed digits, sigma to its 5."""
    row = first_column.loc[well]
    printed = dict(zip(COLUMNS, GROWTHCURVER[well], strict=True))
    for name in ("k", "r", "t_mid", "t_gen", "auc_l", "auc_e"):
        assert row[name] == pytest.approx(printed[name], rel=1e-6), name
    assert round(row["n0"], 7) == pytest.approx(printed["n0"], abs=1e-12)
    assert round(row["sigma"], 7) == pytest.approx(printed["sigma"], abs=1e-12)
    assert row["note"] == ""


def test_growthcurver_single_well_standard_errors():
    """str(SummarizeGrowth(d$time, d$A1)$vals): k_se 0.000552, n0_se
    2.42e-06, r_se 0.0151 (3 significant digits), df 142."""
    plate = pd.read_csv(GROWTHDATA)
    od = plate["A1"] - plate["A1"].min()
    result = scurve.fit(x=plate["time"], y=od, model="logistic")
    table = result.table
    assert f"{table.loc['K', 'stderr']:.3g}" == "0.000552"
    assert f"{table.loc['N0', 'stderr']:.3g}" == "2.42e-06"
    assert f"{table.loc['r', 'stderr']:.3g}" == "0.0151"
    assert result.stats["dof"] == 142


def test_summary_from_the_command_line_matches_the_api(first_column, tmp_path):
    plate = pd.read_csv(GROWTHDATA)[["time", *GROWTHCURVER]]
    path = tmp_path / "plate.csv"
    plate.to_csv(path, index=False)
    out = tmp_path / "summary.csv"
    args = ["fit", str(path), "--model", "logistic", "--x", "time", "--wide"]
    args += ["--blank", "min", "--summary", "growthcurver", "-o", str(out)]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    written = pd.read_csv(out, keep_default_na=False).set_index("sample")
    assert list(written.columns) == [*list(COLUMNS), "note"]
    for name in COLUMNS:
        np.testing.assert_allclose(written[name], first_column[name], rtol=1e-9)
    run = CliRunner().invoke(main, [*args[:-2], "--format", "json"])
    document = json.loads(run.stdout)
    assert document["summary"] == "growthcurver"
    assert [s["sample"] for s in document["samples"]] == list(GROWTHCURVER)


def test_wide_tidy_table_has_a_row_per_well(tmp_path):
    plate = pd.read_csv(GROWTHDATA)[["time", "A1", "B1", "C1"]]
    path = tmp_path / "plate.csv"
    plate.to_csv(path, index=False)
    args = ["fit", str(path), "--model", "logistic", "--x", "time", "--wide"]
    run = CliRunner().invoke(main, [*args, "--baseline", "--format", "csv"])
    assert run.exit_code == 0, run.output
    table = pd.read_csv(__import__("io").StringIO(run.stdout))
    assert table["well"].tolist() == ["A1", "B1", "C1"]
    assert (table["model"] == "logistic(baseline)").all()
    assert {"auc", "auc_lower", "doubling_time", "N_min"} <= set(table.columns)


# -------------------------------------------------------------- synthetic plate

ROWS, COLS = "ABCDEFGH", range(1, 13)
NO_GROWTH = ("A1", "B6", "C12", "D3", "E9", "F4", "G7", "H12")


def synthetic_plate(seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A SYNTHETIC 96-well plate: 145 readings (every 10 min for 24 h) of
    OD = 0.05 + K / (1 + exp(-r (t - t0))) with K ~ U(0.2, 0.6), r ~ U(0.5,
    1.3) per h, t0 ~ U(6, 14) h, Gaussian reader noise (sd 0.003) plus 1%
    multiplicative noise; the wells in NO_GROWTH hold medium only (0.05 plus
    the same noise). Returns the wide table and the true parameters."""
    rng = np.random.default_rng(seed)
    t = np.arange(145) / 6.0
    columns, truth = {"time": t}, []
    for row in ROWS:
        for col in COLS:
            well = f"{row}{col}"
            if well in NO_GROWTH:
                od = np.full_like(t, 0.05)
            else:
                k, r, t0 = (
                    rng.uniform(0.2, 0.6),
                    rng.uniform(0.5, 1.3),
                    rng.uniform(6, 14),
                )
                od = 0.05 + k * scurve.expit(r * (t - t0))
                truth.append({"well": well, "K": k, "r": r, "t0": t0})
            noisy = od * (1 + 0.01 * rng.normal(size=t.size))
            columns[well] = noisy + 0.003 * rng.normal(size=t.size)
    return pd.DataFrame(columns), pd.DataFrame(truth).set_index("well")


@pytest.fixture(scope="module")
def plate_fits():
    plate, truth = synthetic_plate()
    fits = scurve.fit(plate, "logistic", x="time", wide=True, baseline=True)
    return plate, truth, fits


def test_synthetic_plate_parameters_recovered(plate_fits):
    _, truth, fits = plate_fits
    table = fits.table.set_index("well")
    grew = table.loc[truth.index]
    assert (grew["status"] == "ok").all(), grew["message"][grew["status"] != "ok"]
    np.testing.assert_allclose(grew["K"], truth["K"], rtol=0.03)
    np.testing.assert_allclose(grew["r"], truth["r"], rtol=0.08)
    np.testing.assert_allclose(grew["t0"], truth["t0"], atol=0.15)
    np.testing.assert_allclose(grew["N_min"], 0.05, atol=0.005)


def test_no_growth_wells_are_flagged_not_fitted(plate_fits):
    _, _, fits = plate_fits
    table = fits.table.set_index("well")
    flat = table.loc[list(NO_GROWTH)]
    assert (flat["status"] == "flat").all()
    assert flat["message"].str.startswith("no S-curve").all()
    assert flat[["K", "r", "t0", "doubling_time", "auc"]].isna().all().all()
    assert int((table["status"] == "flat").sum()) == len(NO_GROWTH)


def test_no_growth_wells_in_the_growthcurver_summary():
    plate, _ = synthetic_plate()
    fits = scurve.fit(plate, "logistic", x="time", wide=True, blank="min")
    summary = scurve.growthcurver_summary(fits).set_index("sample")
    notes = summary.loc[list(NO_GROWTH), "note"]
    assert notes.str.startswith("no growth: ").all()
    assert summary.loc[list(NO_GROWTH), "k"].isna().all()
    grew = summary.drop(index=list(NO_GROWTH))
    assert (grew["note"] == "").all(), grew["note"][grew["note"] != ""]


def test_no_growth_is_a_warning_on_the_command_line(tmp_path):
    plate, _ = synthetic_plate()
    path = tmp_path / "plate.csv"
    plate[["time", "A1", "A2"]].to_csv(path, index=False)
    run = CliRunner().invoke(
        main, ["fit", str(path), "--model", "logistic", "--x", "time", "--wide"]
    )
    assert run.exit_code == 0, run.output
    assert "Warning: " in run.stderr
    assert "group well=A1: flat: no S-curve" in run.stderr


def test_plate_plot_puts_each_well_in_its_place(plate_fits, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    _, _, fits = plate_fits
    fig = fits.plot(layout="plate")
    wells = {ax.get_label(): ax for ax in fig.axes if ax.get_label()}
    assert len(wells) == 96
    rows, cols = 8, 12
    a1, h12 = wells["A1"], wells["H12"]
    assert a1.get_subplotspec().get_geometry()[2] == 0
    assert h12.get_subplotspec().get_geometry()[2] == rows * cols - 1
    assert wells["B7"].get_subplotspec().get_geometry()[2] == 1 * cols + 6
    assert [t.get_text() for t in a1.texts] == ["flat"]  # A1 and H12 are blanks
    assert [a.get_title() for a in fig.axes[:cols]] == [str(c) for c in range(1, 13)]
    with pytest.raises(ValueError, match="named like wells"):
        scurve.fit(
            pd.DataFrame({"t": np.arange(9.0), "y": np.arange(9.0) ** 2, "g": "x"}),
            "logistic",
            x="t",
            y="y",
            by="g",
        ).plot(layout="plate")


def test_plate_plot_from_the_command_line(tmp_path):
    pytest.importorskip("matplotlib")
    plate, _ = synthetic_plate()
    path = tmp_path / "plate.csv"
    plate[["time", "A1", "A2", "B2"]].to_csv(path, index=False)
    png = tmp_path / "plate.png"
    args = ["fit", str(path), "--model", "logistic", "--x", "time", "--wide"]
    run = CliRunner().invoke(main, [*args, "--plot", str(png)])
    assert run.exit_code == 0, run.output
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------- blanks


def test_blank_column_value_and_min():
    t = np.linspace(0, 24, 73)
    drift = 0.04 + 0.001 * t  # media whose background creeps up
    grow = 0.5 * scurve.expit(0.8 * (t - 10))
    plate = pd.DataFrame({"time": t, "blank": drift, "W1": drift + grow})
    fits = scurve.fit(plate, "logistic", x="time", wide=True, blank="blank")
    assert list(fits.table["well"]) == ["W1"]  # the blank well is not fitted
    assert fits["W1"].params["K"].value == pytest.approx(0.5, rel=1e-6)
    assert fits["W1"].params["r"].value == pytest.approx(0.8, rel=1e-6)
    long = pd.DataFrame({"t": t, "od": 0.04 + grow})
    by_value = scurve.fit(long, "logistic", x="t", y="od", blank=0.04)
    assert by_value.params["K"].value == pytest.approx(0.5, rel=1e-6)
    by_min = scurve.fit(long, "logistic", x="t", y="od", blank="min")
    np.testing.assert_allclose(by_min.data, grow - grow.min(), atol=1e-15)


def test_wide_input_errors(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("time,A1,A2\n0,0.1,0.2\n1,0.3,oops\n")
    args = ["fit", str(bad), "--model", "logistic", "--x", "time", "--wide"]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 2
    assert "well column 'A2'" in run.stderr
    assert "oops" in run.stderr
    run = CliRunner().invoke(main, [*args, "--y", "A1"])
    assert run.exit_code == 2
    assert "drop --y" in run.stderr
    only_time = tmp_path / "t.csv"
    only_time.write_text("time\n0\n1\n")
    run = CliRunner().invoke(main, ["fit", str(only_time), *args[2:]])
    assert run.exit_code == 2
    assert "needs well columns" in run.stderr
    run = CliRunner().invoke(main, [*args, "--blank", "nope"])
    assert run.exit_code == 2
    assert "nope" in run.stderr
    run = CliRunner().invoke(
        main, ["fit", str(bad), "--model", "logistic", "--x", "time"]
    )
    assert run.exit_code == 2
    assert "Missing option '--y'" in run.stderr
    with pytest.raises(InputError, match="needs well columns"):
        scurve.fit(pd.DataFrame({"time": [0.0, 1.0]}), "logistic", x="time", wide=True)


def test_summary_needs_logistic_groups(tmp_path):
    plate, _ = synthetic_plate()
    path = tmp_path / "plate.csv"
    plate[["time", "A2", "A3"]].to_csv(path, index=False)
    args = ["fit", str(path), "--x", "time", "--wide", "--summary", "growthcurver"]
    run = CliRunner().invoke(main, [*args, "--model", "gompertz"])
    assert run.exit_code == 2
    assert "logistic" in run.stderr
    run = CliRunner().invoke(
        main, ["fit", str(path), "--model", "logistic", "--x", "time", "--y", "A2",
               "--summary", "growthcurver"],
    )  # fmt: skip
    assert run.exit_code == 2
    assert "needs groups" in run.stderr


# ------------------------------------------------------------- the log scale


def exponential_phase(seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """SYNTHETIC counts over five decades: logistic K = 1e9, r = 0.9, t0 = 20,
    with 10% log-normal noise."""
    t = np.linspace(0, 30, 31)
    clean = 1e9 * scurve.expit(0.9 * (t - 20))
    noise = np.exp(0.1 * np.random.default_rng(seed).normal(size=t.size))
    return t, clean * noise


def test_log_y_recovers_rate_over_decades():
    t, y = exponential_phase()
    log_fit = scurve.fit(x=t, y=y, model="logistic", log_y=True)
    assert log_fit.status == "ok"
    assert log_fit.model.label == "logistic (log y)"
    assert log_fit.params["r"].value == pytest.approx(0.9, rel=0.03)
    assert log_fit.params["K"].value == pytest.approx(1e9, rel=0.1)
    # the linear fit sees only the top decade: the early counts weigh nothing
    linear = scurve.fit(x=t, y=y, model="logistic")
    log_error = abs(log_fit.params["r"].value - 0.9)
    assert log_error < abs(linear.params["r"].value - 0.9)


def test_log_y_statistics_and_band_are_on_the_log_scale():
    t, y = exponential_phase()
    result = scurve.fit(x=t, y=y, model="logistic", log_y=True)
    resid = np.log(y) - np.log(result.best_fit)
    n = y.size
    assert result.stats["rss"] == pytest.approx(np.sum(resid**2), rel=1e-12)
    s2 = np.sum(resid**2) / n  # the log-normal likelihood of y itself
    loglik = -0.5 * n * (math.log(2 * math.pi * s2) + 1) - np.sum(np.log(y))
    assert result.stats["loglik"] == pytest.approx(loglik, rel=1e-12)
    fit, lower, upper = result.band(kind="prediction")
    assert np.all(lower > 0)
    np.testing.assert_allclose(fit / lower, upper / fit, rtol=1e-9)  # multiplicative
    assert np.mean((y >= lower) & (y <= upper)) > 0.85


def test_log_y_refuses_non_positive_responses():
    t, y = exponential_phase()
    y[3] = 0.0
    with pytest.raises(FitError, match="log_y needs positive responses: 1 of 31"):
        scurve.fit(x=t, y=y, model="logistic", log_y=True)


def test_log_y_from_the_command_line_round_trips_to_predict(tmp_path):
    t, y = exponential_phase()
    path = tmp_path / "counts.csv"
    pd.DataFrame({"t": t, "n": y}).to_csv(path, index=False)
    saved = tmp_path / "fit.json"
    args = ["fit", str(path), "--model", "logistic", "--x", "t", "--y", "n"]
    run = CliRunner().invoke(main, [*args, "--log-y", "-o", str(saved)])
    assert run.exit_code == 0, run.output
    document = json.loads(saved.read_text())
    assert document["groups"][0]["options"] == {"log_y": True}
    run = CliRunner().invoke(
        main, ["predict", str(saved), "--x", "10,20", "--format", "json"]
    )
    assert run.exit_code == 0, run.output
    points = json.loads(run.stdout)["points"]
    refit = scurve.fit(x=t, y=y, model="logistic", log_y=True)
    fit, lower, upper = refit.band(np.array([10.0, 20.0]))
    for point, c, lo, hi in zip(points, fit, lower, upper, strict=True):
        assert point["y"] == pytest.approx(c, rel=1e-9)
        assert point["y_lower"] == pytest.approx(lo, rel=1e-6)  # the same
        assert point["y_upper"] == pytest.approx(hi, rel=1e-6)  # multiplicative band
    run = CliRunner().invoke(main, [*args, "--baseline", "--model", "sigmoid"])
    assert run.exit_code == 2
    assert "'--baseline': baseline is an option of" in run.stderr


# ---------------------------------------------------------------------- auc


def test_auc_is_the_integral_over_the_observed_times():
    plate, _ = synthetic_plate()
    t = plate["time"].to_numpy()[12:]  # readings from 2 h on
    y = plate["B2"].to_numpy()[12:]
    result = scurve.fit(x=t, y=y, model="logistic", baseline=True)
    v = result.params.valuesdict()
    curve = {k: v[k] for k in result.model.curve_params}
    exact, _ = quad(lambda s: float(result.model.function(np.array(s), **curve)), 2, 24)
    assert v["auc"] == pytest.approx(exact, rel=1e-12)
    row = result.table.loc["auc"]
    assert row["lower"] < row["value"] < row["upper"]
    assert 0 < row["stderr"] < 0.01 * row["value"]


def test_auc_in_shared_fits_uses_each_groups_span():
    t = np.linspace(0, 20, 41)
    table = pd.concat(
        [
            pd.DataFrame({"t": t[:n], "n": 2 * scurve.expit(t[:n] - 8), "g": g})
            for n, g in ((41, "a"), (31, "b"))
        ]
    )  # fmt: skip
    fits = scurve.fit(table, "logistic", x="t", y="n", by="g", share="K")
    auc = fits.table.set_index("g")["auc"]
    for g, end in (("a", 20.0), ("b", 15.0)):
        exact, _ = quad(lambda s: 2 * float(scurve.expit(s - 8)), 0, end)
        assert auc[g] == pytest.approx(exact, rel=1e-6)
