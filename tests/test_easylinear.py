"""easylinear (Hall et al. 2014, as growthrates' fit_easylinear): the
vignette's printed fit, a small curve by hand, its windows, a plate, and
the inputs it refuses."""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.analysis.easylinear import easylinear
from scurve.cli import main
from scurve.errors import OptionError

DATA = Path(__file__).resolve().parent.parent / "data"
PLATE = DATA / "bactgrowth_plate.csv"


def test_the_vignettes_first_curve():
    # growthrates' vignette (Introduction, "Easy Linear Method"):
    # fit_easylinear(dat$time, dat$value) on bactgrowth's D/0/1 (well A1)
    # prints coef y0 0.0180000, y0_lm 0.0123482, mumax 0.2048985,
    # lag 1.8392607, rsquared 0.9832876, the summary's slope standard error
    # 0.01336 and its window of six points (times 2 to 7).
    plate = pd.read_csv(PLATE)
    row = easylinear(plate["time"], plate["A1"]).iloc[0]
    assert row["status"] == "ok"
    assert row["mumax"] == pytest.approx(0.2048985, abs=5e-8)
    assert row["y0"] == pytest.approx(0.018, abs=1e-12)
    assert row["y0_lm"] == pytest.approx(0.0123482, abs=5e-8)
    assert row["lag"] == pytest.approx(1.8392607, abs=5e-8)
    assert row["r2"] == pytest.approx(0.9832876, abs=5e-8)
    assert row["mumax_stderr"] == pytest.approx(0.01336, abs=5e-6)
    assert (row["t_first"], row["t_last"], row["n"]) == (2.0, 7.0, 6)


def test_a_small_curve_by_hand():
    # ln y = 0, 0, 1, 2, 3, 3.5, 3.6 at t = 0..6, window 3, quota 0.9:
    # windows tried start at t = 0..3 (growthrates leaves out the last one,
    # t = 4..6), slopes 0.5, 1, 1, 0.75; the steepest is 1, and windows of
    # slope >= 0.9 start at t = 1 and 2: points t = 1..4, ln y = 0, 1, 2, 3,
    # a line of slope 1 through (1, 0): intercept -1, r2 1, lag from
    # ln y0 = 0: (0 - (-1)) / 1 = 1.
    t = np.arange(7.0)
    y = np.exp([0.0, 0.0, 1.0, 2.0, 3.0, 3.5, 3.6])
    row = easylinear(t, y, window=3, quota=0.9).iloc[0]
    assert row["mumax"] == pytest.approx(1.0, abs=1e-12)
    assert row["y0_lm"] == pytest.approx(math.exp(-1.0), rel=1e-12)
    assert row["lag"] == pytest.approx(1.0, abs=1e-12)
    assert row["r2"] == pytest.approx(1.0, abs=1e-12)
    assert (row["t_first"], row["t_last"], row["n"]) == (1.0, 4.0, 4)


def test_the_last_window_is_not_tried_as_in_growthrates():
    # the steepest window is the last one (t = 4..6); growthrates tries
    # windows starting at 1..N-h only, so the last is left out, and so here
    t = np.arange(7.0)
    y = np.exp([0.0, 0.1, 0.2, 0.3, 0.4, 2.0, 5.0])
    row = easylinear(t, y, window=3, quota=0.95).iloc[0]
    assert row["t_last"] == 5.0
    # slopes of windows 0..3: 0.1, 0.1, 0.1, 0.85: only window 3, t = 3..5
    assert row["mumax"] == pytest.approx(np.polyfit([3, 4, 5], [0.3, 0.4, 2.0], 1)[0])


def test_candidates_far_apart_take_every_point_between():
    # growthrates joins the first and the last window within the quota,
    # with everything between them, even a slower stretch
    t = np.arange(12.0)
    z = np.array([0, 1, 2, 3, 3.2, 3.4, 3.6, 4.6, 5.6, 6.6, 6.7, 6.8])
    row = easylinear(t, np.exp(z), window=3, quota=0.95).iloc[0]
    assert (row["t_first"], row["t_last"]) == (0.0, 9.0)


def test_a_plate_grouped_by_well_in_well_under_a_second():
    rng = np.random.default_rng(1)
    t = np.arange(0.0, 48.0, 0.5)
    lag = rng.uniform(2, 8, 384)
    mu = rng.uniform(0.2, 0.8, 384)
    z = np.log(0.01) + np.minimum(np.maximum(t[:, None] - lag, 0) * mu, 4.0)
    y = np.exp(z + 0.01 * rng.normal(size=z.shape))
    wells = [f"{'ABCDEFGHIJKLMNOP'[i // 24]}{i % 24 + 1}" for i in range(384)]
    plate = pd.DataFrame(y, columns=wells).assign(time=t)
    easylinear(t[:10], y[:10, 0])  # imports done
    start = time.perf_counter()
    table = scurve.fit(plate, "easylinear", x="time", wide=True)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, elapsed
    assert list(table["well"]) == wells
    assert np.all(table["status"] == "ok")
    np.testing.assert_allclose(table["mumax"], mu, rtol=0.05)
    # each well as one curve gives the same row
    one = easylinear(t, y[:, 100]).iloc[0]
    assert table.loc[100, "mumax"] == one["mumax"]
    assert table.loc[100, "lag"] == one["lag"]


def test_wells_that_cannot_be_fitted_say_why_and_the_others_are_fitted():
    t = np.arange(10.0)
    rising = np.exp(0.3 * t) * 0.01
    plate = pd.DataFrame(
        {
            "time": t,
            "A1": rising,
            "A2": np.where(t == 3, 0.0, rising),
            "A3": 0.5 - 0.01 * t,  # declining: no growing window
        }
    )
    table = scurve.fit(plate, "easylinear", x="time", wide=True).set_index("well")
    assert table.loc["A1", "status"] == "ok"
    assert table.loc["A2", "status"] == "failed"
    assert table.loc["A2", "message"] == (
        "easylinear needs positive values (it takes ln y): "
        "1 of 10 is 0 or below, first at time 3"
    )
    assert math.isnan(table.loc["A2", "mumax"])
    assert table.loc["A3", "status"] == "flat"
    assert table.loc["A3", "message"].startswith(
        "no growing window of 5 points: the steepest slope on ln y is -"
    )


def test_the_cli_reports_wells_that_failed_and_exits_1(tmp_path):
    # as for fitted models: the table is written, each well that is not ok
    # is named on stderr, and a failure (not a flat well) gives exit 1
    t = np.arange(10.0)
    rising = np.exp(0.3 * t) * 0.01
    plate = tmp_path / "plate.csv"
    pd.DataFrame({"time": t, "A1": rising, "A2": np.where(t == 3, 0.0, rising)}).to_csv(
        plate, index=False
    )
    out = tmp_path / "rates.csv"
    argv = ["fit", str(plate), "--model", "easylinear", "--x", "time", "--wide"]
    result = CliRunner().invoke(main, [*argv, "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "well=A2: failed: easylinear needs positive values" in result.output
    assert list(pd.read_csv(out)["status"]) == ["ok", "failed"]
    flat = tmp_path / "flat.csv"
    pd.DataFrame({"time": t, "A1": rising, "A2": 0.5 - 0.01 * t}).to_csv(
        flat, index=False
    )
    result = CliRunner().invoke(main, ["fit", str(flat), *argv[2:], "--format", "csv"])
    assert result.exit_code == 0, result.output
    assert "well=A2: flat: no growing window" in result.output


def test_duplicated_times_and_short_curves_are_refused_per_curve():
    row = easylinear([0, 1, 1, 2, 3, 4, 5], np.exp(np.arange(7.0))).iloc[0]
    assert row["status"] == "failed"
    assert row["message"] == "easylinear needs distinct times: time 1 appears 2 times"
    row = easylinear(np.arange(5.0), np.exp(np.arange(5.0))).iloc[0]
    assert row["status"] == "failed"
    assert (
        row["message"]
        == "a window of 5 points needs at least 6 points; the curve has 5"
    )


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"window": 1}, "window: must be a whole number of points, at least 2, not 1"),
        (
            {"window": 2.5},
            "window: must be a whole number of points, at least 2, not 2.5",
        ),
        ({"quota": 0.0}, "quota: must be in (0, 1], not 0"),
        ({"quota": 1.5}, "quota: must be in (0, 1], not 1.5"),
        ({"quota": math.nan}, "quota: must be in (0, 1], not nan"),
    ],
)
def test_options_out_of_range_are_refused(options, message):
    with pytest.raises(OptionError) as caught:
        easylinear(np.arange(10.0), np.exp(np.arange(10.0)), **options)
    assert str(caught.value) == message


def test_options_of_fitted_models_are_refused_with_easylinear():
    with pytest.raises(OptionError) as caught:
        scurve.fit(
            pd.read_csv(PLATE), "easylinear", x="time", wide=True, fix={"mumax": 1.0}
        )
    assert (
        str(caught.value)
        == "fix: easylinear fits no model: it takes only window and quota"
    )


def test_the_cli_writes_the_table(tmp_path):
    out = tmp_path / "rates.csv"
    result = CliRunner().invoke(
        main,
        [
            "fit",
            str(PLATE),
            "--model",
            "easylinear",
            "--x",
            "time",
            "--wide",
            "--window",
            "5",
            "--quota",
            "0.95",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out)
    assert len(table) == 72
    assert table.loc[0, "well"] == "A1"
    assert table.loc[0, "mumax"] == pytest.approx(0.2048985, abs=5e-8)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--window", "1"],
            "Error: Invalid value for '--window': "
            "must be a whole number of points, at least 2, not 1",
        ),
        (
            ["--quota", "2"],
            "Error: Invalid value for '--quota': must be in (0, 1], not 2",
        ),
        (
            ["--window", "4", "--model", "logistic"],
            "Error: --window and --quota are options of --model easylinear",
        ),
    ],
)
def test_the_cli_refuses_bad_options_in_one_line(tmp_path, args, message):
    before = PLATE.read_bytes()
    argv = ["fit", str(PLATE), "--model", "easylinear", "--x", "time", "--wide", *args]
    result = CliRunner().invoke(main, argv)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert PLATE.read_bytes() == before
