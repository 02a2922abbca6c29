"""Bass on the command line and in forecasts: fit, predict, forecast, fan, GBM."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.cli import main
from scurve.fitters.engine import fit_curve
from scurve.models import get_model
from scurve.models.diffusion import BassGeneralizedModel, BassModel

ROOT = Path(__file__).resolve().parents[1]
DURABLES = ROOT / "data" / "bass_durables.csv"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def sales_csv(tmp_path: Path) -> Path:
    table = pd.read_csv(DURABLES)
    table = table[table["product"] == "room air conditioners"]
    path = tmp_path / "sales.csv"
    table[["year", "sales"]].to_csv(path, index=False)
    return path


@pytest.fixture
def price_csv(tmp_path: Path) -> tuple[Path, dict[str, float]]:
    # synthetic: a price cut from 100 to 60 in year 6, beta_price = -3
    t = np.arange(1.0, 16.0)
    price = np.where(t < 6, 100.0, 60.0)
    truth = {"m": 1e4, "p": 0.02, "q": 0.4, "beta_price": -3.0}
    model = BassGeneralizedModel({"price": (t + 2000, price)}, adoptions="per-period")
    params = model.make_params(**truth, launch=2000.0, period=1.0)
    noise = 1 + 0.02 * np.random.default_rng(1).normal(size=t.size)
    sales = model.eval(params, x=t + 2000) * noise
    path = tmp_path / "gbm.csv"
    pd.DataFrame({"year": t + 2000, "sales": sales, "price": price}).to_csv(
        path, index=False
    )
    return path, truth


def test_fit_per_period_prints_parameters_and_t_peak_with_intervals(sales_csv):
    code, out, _ = run(
        "fit", sales_csv, "--model", "bass", "--x", "year", "--y", "sales",
        "--data", "per-period",
    )  # fmt: skip
    assert code == 0
    expected = fit_curve(
        BassModel(adoptions="per-period"),
        *pd.read_csv(sales_csv).to_numpy().T,
    ).table
    lines = {line.split()[0]: line.split() for line in out.splitlines() if line}
    for name in ("m", "p", "q", "t_peak", "peak_time", "peak_rate"):
        value, _, lower, upper = map(float, lines[name][1:5])
        row = expected.loc[name]
        assert value == pytest.approx(row["value"], rel=1e-5)
        assert lower == pytest.approx(row["lower"], rel=1e-5)
        assert upper == pytest.approx(row["upper"], rel=1e-5)
        assert lower < value < upper
    assert "bass(per-period)" in out
    assert float(lines["launch"][1]) == 1948.0


@pytest.mark.parametrize("estimator", ["ols", "ml"])
def test_estimator_option(sales_csv, estimator, tmp_path):
    out_json = tmp_path / "fit.json"
    code, _, _ = run(
        "fit", sales_csv, "--model", "bass", "--x", "year", "--y", "sales",
        "--data", "per-period", "--estimator", estimator, "-o", out_json,
    )  # fmt: skip
    assert code == 0
    group = json.loads(out_json.read_text())["groups"][0]
    assert group["options"]["estimator"] == estimator
    d = pd.read_csv(sales_csv)
    direct = fit_curve(
        BassModel(adoptions="per-period", estimator=estimator), d["year"], d["sales"]
    )
    assert group["params"]["p"]["value"] == pytest.approx(
        direct.params["p"].value, rel=1e-6
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--model", "logistic", "--data", "per-period"),
            "Invalid value for '--data': adoptions is an option of bass",
        ),
        (("--model", "bass", "--data", "rate", "--estimator", "ml"), "needs counts"),
        (("--model", "bass", "--launch", "soon"), "a number or 'fit'"),
        (
            ("--model", "bass", "--covariate", "sales"),
            "covariates is an option of bass_generalized, not of bass",
        ),
        (
            ("--model", "bass-generalized", "--by", "year", "--covariate", "sales"),
            "--covariate fits one curve: drop --by",
        ),
        (
            ("--model", "bass-generalized", "--covariate", "price"),
            "no covariate column 'price'",
        ),
    ],
)
def test_usage_errors_are_one_line_exit_2(sales_csv, args, message):
    code, out, err = run("fit", sales_csv, "--x", "year", "--y", "sales", *args)
    assert code == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert out == ""


def test_bad_sales_exit_1(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"year": [1, 2, 3, 4, 5], "sales": [3, 5, -2, 9, 4]}).to_csv(
        path, index=False
    )
    code, _, err = run(
        "fit", path, "--model", "bass", "--x", "year", "--y", "sales",
        "--data", "per-period",
    )  # fmt: skip
    assert code == 1
    assert "cannot be negative: y = -2 at x = 3" in err


def test_forecast_matches_predict_with_prediction_intervals(sales_csv, tmp_path):
    out_json = tmp_path / "fit.json"
    run(
        "fit", sales_csv, "--model", "bass", "--x", "year", "--y", "sales",
        "--data", "per-period", "-o", out_json,
    )  # fmt: skip
    code, out, _ = run(
        "predict", out_json, "--x", "1962,1963,1964", "--interval", "prediction",
        "--format", "json",
    )  # fmt: skip
    assert code == 0
    points = json.loads(out)["points"]
    result = scurve.fit(sales_csv, "bass", x="year", y="sales", adoptions="per-period")
    table = scurve.forecast(result, 3)
    np.testing.assert_allclose(table["x"], [1962, 1963, 1964])
    np.testing.assert_allclose([p["y"] for p in points], table["adoptions"], rtol=1e-6)
    np.testing.assert_allclose(
        [p["y_upper"] for p in points], table["adoptions_upper"], rtol=1e-6
    )
    # the prediction interval is wider than the confidence band
    _, conf, _ = run("predict", out_json, "--x", "1962", "--format", "json")
    conf_point = json.loads(conf)["points"][0]
    assert conf_point["y_upper"] < points[0]["y_upper"]
    code, _, err = run("predict", out_json, "--y", "100", "--interval", "prediction")
    assert code == 2
    assert "needs --x" in err


def test_forecast_table_properties():
    d = pd.read_csv(DURABLES)
    d = d[d["product"] == "color televisions"]
    result = fit_curve(BassModel(adoptions="per-period"), d["year"], d["sales"])
    table = scurve.forecast(result, 6, level=0.9)
    assert list(table.columns) == [
        "x", "adoptions", "adoptions_lower", "adoptions_upper",
        "cumulative", "cumulative_lower", "cumulative_upper",
    ]  # fmt: skip
    assert np.all(table["adoptions_lower"] >= 0)
    assert np.all(table["adoptions_lower"] <= table["adoptions"])
    assert np.all(table["adoptions"] <= table["adoptions_upper"])
    # cumulative adopters grow by the forecast adoptions, toward m
    np.testing.assert_allclose(
        np.diff(table["cumulative"]), table["adoptions"][1:], rtol=1e-9
    )
    assert table["cumulative"].iloc[-1] < result.params["m"].value
    wider = scurve.forecast(result, 6, level=0.99)
    assert np.all(wider["adoptions_upper"] > table["adoptions_upper"])
    with pytest.raises(ValueError, match="positive integer"):
        scurve.forecast(result, 0)
    other = fit_curve(get_model("logistic"), np.arange(10.0), np.arange(10.0) ** 2)
    with pytest.raises(scurve.InputError, match="does not forecast"):
        scurve.forecast(other, 3)


def test_prediction_interval_coverage_one_step_ahead():
    # simulated per-period sales: the 90% interval of next year's sales
    # holds the realized value about 90% of the time
    hits, runs = 0, 40
    m, p, q = 5e4, 0.01, 0.45
    t = np.arange(1.0, 16.0)
    for seed in range(runs):
        rng = np.random.default_rng(100 + seed)
        truth = m * (
            BassModel(adoptions="per-period").function(
                t, m=1.0, p=p, q=q, launch=0.0, period=1.0
            )
        )
        sales = truth * (1 + 0.06 * rng.normal(size=t.size))
        fit = fit_curve(BassModel(adoptions="per-period"), t[:-1], sales[:-1])
        row = scurve.forecast(fit, 1, level=0.9).iloc[0]
        hits += row["adoptions_lower"] <= sales[-1] <= row["adoptions_upper"]
    assert 0.75 <= hits / runs <= 1.0, hits / runs


def test_fan_chart(tmp_path):
    from scurve.plotting import plot_forecast, save_figure

    d = pd.read_csv(DURABLES)
    d = d[d["product"] == "clothes dryers"]
    result = fit_curve(BassModel(adoptions="per-period"), d["year"], d["sales"])
    ax = plot_forecast(result, 8, levels=(0.5, 0.95))
    assert len(ax.collections) == 2  # one band per level
    fan = ax.collections[0].get_paths()[0].vertices
    assert fan[:, 0].max() == pytest.approx(1969.0)
    path = save_figure(ax.figure, tmp_path / "fan.png", close=True)
    assert path.stat().st_size > 1000


def test_generalized_bass_with_a_price_covariate(price_csv, tmp_path):
    path, truth = price_csv
    out_json = tmp_path / "gbm.json"
    code, out, _ = run(
        "fit", path, "--model", "bass-generalized", "--x", "year", "--y", "sales",
        "--data", "per-period", "--covariate", "price", "-o", out_json,
        "--format", "table",
    )  # fmt: skip
    assert code == 0
    assert "beta_price" in out
    group = json.loads(out_json.read_text())["groups"][0]
    for name, value in truth.items():
        entry = group["params"][name]
        assert entry["lower"] < value < entry["upper"], name
    # the JSON rebuilds the model, covariate included, for predict
    code, out, _ = run("predict", out_json, "--x", "2016", "--format", "json")
    assert code == 0
    table = pd.read_csv(path)
    gbm = BassGeneralizedModel(
        {"price": (table["year"], table["price"])}, adoptions="per-period"
    )
    direct = fit_curve(gbm, table["year"], table["sales"])
    assert json.loads(out)["points"][0]["y"] == pytest.approx(
        float(direct.predict([2016.0])[0]), rel=1e-6
    )
    # a plain Bass fit cannot follow the price cut
    plain = fit_curve(BassModel(adoptions="per-period"), table["year"], table["sales"])
    assert plain.stats["aic"] > direct.stats["aic"] + 10


def test_generalized_bass_without_covariates_is_bass():
    d = pd.read_csv(DURABLES)
    d = d[d["product"] == "room air conditioners"]
    a = fit_curve(BassGeneralizedModel(adoptions="per-period"), d["t"], d["sales"])
    b = fit_curve(BassModel(adoptions="per-period"), d["t"], d["sales"])
    for name in ("m", "p", "q"):
        assert a.params[name].value == pytest.approx(b.params[name].value, rel=1e-6)
    with pytest.raises(ValueError, match="positive and finite"):
        BassGeneralizedModel({"price": ([1, 2], [3, -1])})
    with pytest.raises(ValueError, match="nls"):
        BassGeneralizedModel({"price": ([1, 2], [3, 1])}, estimator="ml")


@pytest.mark.parametrize("estimator", ["nls", "ols", "ml"])
def test_groups_use_the_chosen_estimator(estimator):
    # one fit per product (the batch engine takes nls; ols and ml go one by
    # one, each with its own residuals) gives the single fits' estimates
    groups = scurve.fit(
        DURABLES, "bass", x="year", y="sales", by="product",
        adoptions="per-period", estimator=estimator,
    )  # fmt: skip
    table = pd.read_csv(DURABLES)
    for product, part in table.groupby("product"):
        single = fit_curve(
            BassModel(adoptions="per-period", estimator=estimator),
            part["year"],
            part["sales"],
        )
        row = groups.table.set_index("product").loc[product]
        for name in ("m", "p", "q", "t_peak"):
            assert row[name] == pytest.approx(single.params[name].value, rel=1e-4)
