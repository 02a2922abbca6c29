"""Starts: both orientations of an asymmetric curve, starts inside the
bounds, and a seeded multi-start (issue 20, items 3 and 4).

R's ``example(SSweibull)`` fits ``weight ~ SSweibull(Time, Asym, Drop, lrc,
pwr)``, :math:`y = Asym - Drop\\,e^{-e^{lrc} t^{pwr}}`, to ChickWeight's
chick 6 (Time > 0) and prints Asym 158.5012, Drop 110.9971, lrc -5.9934,
pwr 2.6461 (R's ``SSweibull`` help page). On ln(Time) that is scurve's
``sigmoid --shape gompertz`` in its other orientation: bottom = Asym, top =
Asym - Drop, scale = -1/pwr, center = -lrc/pwr; its sum of squares is 29.72.
Before issue 20 the fit stopped in the first orientation at 102.3 with status
ok, and with ``bounds={"scale": (-inf, 0)}`` (asking for R's orientation)
the start was clipped to scale 0 and every Orange tree came out ``flat``.

The Orange trees' optima under ``scale <= 0`` are R's SSweibull ones, found
independently (scipy's Levenberg-Marquardt on the SSweibull form from 76
starts per tree, tolerances 1e-15): the sums of squares below.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.errors import OptionError

DATA = Path(__file__).resolve().parents[1] / "data"

R_SSWEIBULL_CHICK6 = {"Asym": 158.5012, "Drop": 110.9971, "lrc": -5.9934, "pwr": 2.6461}
SSWEIBULL_ORANGE_RSS = [163.7637, 273.4870, 146.5236, 357.4103, 226.5674]


def chick6() -> tuple[np.ndarray, np.ndarray]:
    data = pd.read_csv(DATA / "chickweight6.csv")
    return np.log(data["Time"].to_numpy(float)), data["weight"].to_numpy(float)


@pytest.mark.parametrize("bounds", [None, {"scale": (-np.inf, 0.0)}])
@pytest.mark.parametrize("engine", ["lmfit", "vectorized"])
def test_gompertz_reaches_r_ssweibull_optimum(engine: str, bounds: dict | None) -> None:
    x, y = chick6()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = scurve.fit(
            x=x, y=y, model="sigmoid", shape="gompertz", engine=engine, bounds=bounds
        )
    assert result.status == "ok", result.message
    assert result.chisqr == pytest.approx(29.72023, abs=1e-5)
    p = {n: result.params[n].value for n in ("bottom", "top", "center", "scale")}
    pwr = -1 / p["scale"]
    reached = {
        "Asym": p["bottom"],
        "Drop": p["bottom"] - p["top"],
        "lrc": -p["center"] * pwr,
        "pwr": pwr,
    }
    for name, value in R_SSWEIBULL_CHICK6.items():
        assert reached[name] == pytest.approx(value, abs=1.5e-4), name


def test_the_lmfit_path_says_both_orientations_agree_or_not() -> None:
    x, y = chick6()
    result = scurve.fit(x=x, y=y, model="sigmoid", shape="gompertz", engine="lmfit")
    assert "1 of 2 starts reached this optimum" in result.message


@pytest.mark.parametrize("engine", ["lmfit", "vectorized"])
def test_orange_under_bounds_reaches_ssweibull(engine: str) -> None:
    data = pd.read_csv(DATA / "orange.csv")
    data["log_age"] = np.log(data["age"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "divide by zero" from a start at 0
        fits = scurve.fit(
            data, "sigmoid", x="log_age", y="circumference", by="Tree",
            shape="gompertz", bounds={"scale": (-np.inf, 0.0)}, engine=engine,
        )  # fmt: skip
    table = fits.result_table.frame()
    assert list(table["status"]) == ["ok"] * 5
    assert table["rss"].to_numpy() == pytest.approx(SSWEIBULL_ORANGE_RSS, abs=1e-4)
    assert (table["scale"] < 0).all()


def test_a_start_beyond_a_bound_is_moved_inside_not_onto_it() -> None:
    from scurve.fitters.options import inside

    assert inside(0.38, -np.inf, 0.0) == pytest.approx(-0.38)
    assert inside(5.0, 0.0, 1.0) == 1.0
    assert inside(0.5, 0.0, 1.0) == 0.5
    assert inside(-2.0, 0.0, 1.0) == 0.0
    assert inside(-2.0, 1.0, np.inf) == pytest.approx(4.0)


def test_starts_are_seeded_and_counted() -> None:
    x, y = chick6()
    first = scurve.fit(x=x, y=y, model="sigmoid", shape="gompertz", starts=4)
    again = scurve.fit(x=x, y=y, model="sigmoid", shape="gompertz", starts=4)
    assert first.message == again.message
    assert " of 6 starts reached this optimum" in first.message
    assert first.chisqr == pytest.approx(29.72023, abs=1e-5)
    assert first.params["bottom"].value == again.params["bottom"].value


@pytest.mark.parametrize("starts", [-1, 1.5, True, 1001])
def test_starts_refused(starts: object) -> None:
    x, y = chick6()
    with pytest.raises(
        OptionError, match=r"starts.*must be a whole number from 0 to 1000"
    ):
        scurve.fit(x=x, y=y, model="sigmoid", starts=starts)  # type: ignore[arg-type]


def test_cli_starts(tmp_path: Path) -> None:
    from scurve.cli import main

    data = tmp_path / "chick.csv"
    x, y = chick6()
    pd.DataFrame({"lt": x, "w": y}).to_csv(data, index=False)
    out = tmp_path / "fit.json"
    runner = CliRunner()
    ok = runner.invoke(
        main, ["fit", str(data), "--model", "sigmoid", "--x", "lt", "--y", "w",
               "--shape", "gompertz",
               "--starts", "2", "-o", str(out)],
    )  # fmt: skip
    assert ok.exit_code == 0, ok.output
    assert "of 4 starts reached this optimum" in out.read_text()
    bad = runner.invoke(
        main, ["fit", str(data), "--model", "sigmoid", "--x", "lt", "--y", "w",
               "--starts", "-1"],
    )  # fmt: skip
    assert bad.exit_code == 2
    assert "Invalid value for '--starts'" in bad.output
