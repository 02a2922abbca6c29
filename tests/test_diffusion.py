"""The Bass model: stable curve, estimators, reference fits, recovery, edge cases."""

from __future__ import annotations

import math
from pathlib import Path

import mpmath
import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.integrate import solve_ivp

from scurve.errors import FitError
from scurve.fitters.engine import fit_curve
from scurve.models import get_model
from scurve.models.diffusion import (
    BassModel,
    bass_cdf,
    bass_increment,
    bass_pdf,
    bass_survival,
)

DATA = Path(__file__).resolve().parents[1] / "data"
EPS = np.finfo(np.float64).eps
TRUTH = {"m": 1e5, "p": 0.01, "q": 0.4}


def durables(product: str) -> pd.DataFrame:
    table = pd.read_csv(DATA / "bass_durables.csv")
    return table[table["product"] == product]


# ------------------------------------------------------------------ numerics

CASES = [  # (t, p, q): small t, tiny p, q << p, q = 0, the far tail
    (t, p, q)
    for p, q in [(0.03, 0.38), (1e-300, 0.5), (1e-6, 0.3), (0.5, 1e-12), (0.2, 0.0)]
    for t in [1e-12, 1e-3, 0.7, 10.0, 80.0, 400.0]
]


def _mp_cdf_survival_pdf(t: float, p: float, q: float) -> tuple[float, ...]:
    with mpmath.workdps(60):
        t_, p_, q_ = mpmath.mpf(t), mpmath.mpf(p), mpmath.mpf(q)
        r = p_ + q_
        e = mpmath.exp(-r * t_)
        den = p_ + q_ * e
        cdf = p_ * (1 - e) / den  # = (1 - E)/(1 + (q/p) E)
        survival = r * e / den  # 1 - F computed without cancellation
        pdf = p_ * r * r * e / den**2
        return float(cdf), float(survival), float(pdf)


@pytest.mark.parametrize(("t", "p", "q"), CASES)
def test_curve_against_mpmath_within_condition_scaled_ulps(t, p, q):
    # NUMERICS.md point 4: <= 6 (1 + s) ULP, s = r t + |ln(q/p)|
    ref_cdf, ref_surv, ref_pdf = _mp_cdf_survival_pdf(t, p, q)
    s = (p + q) * t + (abs(math.log(q / p)) if q > 0 else 0.0)
    budget = 6 * (1 + s) * EPS
    with np.errstate(all="raise"):
        got = (bass_cdf(t, p, q), bass_survival(t, p, q), bass_pdf(t, p, q))
    for name, value, ref in zip(
        ("cdf", "survival", "pdf"), got, (ref_cdf, ref_surv, ref_pdf), strict=True
    ):
        if ref == 0.0 or ref < 1e-300:
            assert float(value) < 1e-290, (name, t, p, q, value)
            continue
        rel = abs(float(value) - ref) / ref
        assert rel <= budget, (name, t, p, q, float(value), ref, rel / EPS)


def test_naive_forms_fail_where_the_stable_ones_do_not():
    t, p, q = 1e-12, 0.03, 0.38
    r = p + q
    naive = (1 - np.exp(-r * t)) / (1 + q / p * np.exp(-r * t))
    exact = _mp_cdf_survival_pdf(t, p, q)[0]
    assert abs(naive - exact) / exact > 1e-5  # cancellation
    assert abs(bass_cdf(t, p, q) - exact) / exact < 1e-14
    assert 1 - bass_cdf(200.0, p, q) == 0.0  # 1 - F rounds away...
    assert bass_survival(200.0, p, q) > 0  # ...the survival keeps it


def test_closed_form_solves_the_bass_ode():
    m, p, q = 5e4, 0.02, 0.45
    t = np.linspace(0.0, 40.0, 81)
    sol = solve_ivp(
        lambda _, n: (p + q * n / m) * (m - n),
        (0.0, 40.0),
        [0.0],
        t_eval=t,
        rtol=1e-12,
        atol=1e-9,
        method="DOP853",
    )
    np.testing.assert_allclose(m * bass_cdf(t, p, q), sol.y[0], rtol=1e-9, atol=1e-6)


def test_density_is_the_derivative_and_increments_telescope():
    p, q = 0.015, 0.55
    t = np.linspace(0.5, 30.0, 60)
    h = 1e-5
    numeric = bass_increment(t - h, t + h, p, q) / (2 * h)  # F or 1 - F
    np.testing.assert_allclose(bass_pdf(t, p, q), numeric, rtol=1e-8)
    edges = np.arange(0.0, 41.0)
    total = np.sum(bass_increment(edges[:-1], edges[1:], p, q))
    assert total == pytest.approx(bass_cdf(40.0, p, q), rel=1e-14)
    assert np.all(bass_pdf(np.array([-1.0, -1e-9]), p, q) == 0.0)
    assert np.all(bass_cdf(np.array([-5.0, 0.0]), p, q) == 0.0)


def test_peak_of_the_density():
    p, q = 0.03, 0.38
    t_star = math.log(q / p) / (p + q)
    assert float(bass_pdf(t_star, p, q)) == pytest.approx((p + q) ** 2 / (4 * q))
    assert float(bass_cdf(t_star, p, q)) == pytest.approx(0.5 - p / (2 * q))


# ------------------------------------------------------------------ reference


def test_rate_form_reproduces_the_printed_r_nls_output():
    # data/bass_nls_example.csv: R's nls() of the adoption rate m f(t) at
    # t = 1..10 prints M 6.80e+04 (3.13e+03), P 6.59e-03 (1.43e-03),
    # Q 6.38e-01 (4.14e-02), residual standard error 727 on 7 df.
    d = pd.read_csv(DATA / "bass_nls_example.csv")
    result = fit_curve(BassModel(adoptions="rate"), d["t"], d["sales"])
    assert result.status == "ok"
    t = result.table
    printed = {
        "m": (6.80e4, 3.13e3),
        "p": (6.59e-3, 1.43e-3),
        "q": (6.38e-1, 4.14e-2),
    }
    for name, (value, stderr) in printed.items():
        assert float(f"{t.loc[name, 'value']:.2e}") == value, name
        assert float(f"{t.loc[name, 'stderr']:.2e}") == stderr, name
    assert round(result.stats["sigma"]) == 727
    assert result.stats["dof"] == 7


def test_ols_is_bass_regression_with_delta_method_errors():
    # an independent computation: numpy least squares on S = a + bY + cY^2,
    # roots of the quadratic, covariance s^2 (X'X)^-1 carried to (m, p, q)
    d = durables("room air conditioners")
    sales = d["sales"].to_numpy(float)
    before = np.cumsum(sales) - sales
    X = np.column_stack([np.ones_like(before), before, before**2])
    coef, *_ = np.linalg.lstsq(X, sales, rcond=None)

    def mpq(abc):
        a, b, c = abc
        m = (-b - math.sqrt(b * b - 4 * a * c)) / (2 * c)
        return np.array([m, a / m, -c * m])

    resid = sales - X @ coef
    cov = resid @ resid / (len(sales) - 3) * np.linalg.inv(X.T @ X)
    jac = np.empty((3, 3))
    for j in range(3):
        h = 1e-6 * abs(coef[j])
        up, down = coef.copy(), coef.copy()
        up[j] += h
        down[j] -= h
        jac[:, j] = (mpq(up) - mpq(down)) / (2 * h)
    se = np.sqrt(np.diag(jac @ cov @ jac.T))

    result = fit_curve(
        BassModel(adoptions="per-period", estimator="ols"), d["t"], sales
    )
    got = result.table.loc[["m", "p", "q"]]
    np.testing.assert_allclose(got["value"], mpq(coef), rtol=1e-6)
    np.testing.assert_allclose(got["stderr"], se, rtol=1e-3)
    # Bass's OLS and NLS disagree on p by about a factor of two (issue 6)
    nls = fit_curve(BassModel(adoptions="per-period"), d["t"], sales)
    assert 1.5 < got.loc["p", "value"] / nls.params["p"].value < 2.5


def test_ml_maximizes_the_poisson_likelihood():
    d = durables("clothes dryers")
    t, sales = d["t"].to_numpy(float), d["sales"].to_numpy(float)
    result = fit_curve(BassModel(adoptions="per-period", estimator="ml"), t, sales)

    def nll(theta):
        m, p, q = theta
        mu = m * bass_increment(t - 1, t, p, q)
        return float(np.sum(mu - sales * np.log(mu)))

    start = [result.params[n].value * 1.1 for n in ("m", "p", "q")]
    direct = optimize.minimize(
        nll, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12}
    )
    ours = [result.params[n].value for n in ("m", "p", "q")]
    np.testing.assert_allclose(ours, direct.x, rtol=2e-4)
    assert nll(ours) <= direct.fun + 1e-6


@pytest.mark.parametrize("data", ["per-period", "cumulative"])
def test_data_kinds_give_one_answer_on_exact_data(data):
    t = np.arange(1.0, 21.0)
    model = BassModel(adoptions=data)
    values = model.curves(t, model.make_params(**TRUTH, launch=0.0, period=1.0))
    y = values["per_period" if data == "per-period" else "cumulative"]
    for estimator in ("nls", "ml"):
        res = fit_curve(BassModel(adoptions=data, estimator=estimator), t, y)
        for name, value in TRUTH.items():
            assert res.params[name].value == pytest.approx(value, rel=1e-6), (
                estimator,
                name,
            )


# ------------------------------------------------------------------ recovery


def simulate(seed, n=20, data="per-period", truth=TRUTH, noise="poisson", t=None):
    rng = np.random.default_rng(seed)
    t = np.arange(1.0, n + 1.0) if t is None else t
    per_period = truth["m"] * bass_increment(t - 1, t, truth["p"], truth["q"])
    if noise == "poisson":
        sales = rng.poisson(per_period).astype(float)
    else:
        sales = per_period * (1 + noise * rng.normal(size=t.size))
    return t, (np.cumsum(sales) if data == "cumulative" else sales)


@pytest.mark.parametrize("data", ["per-period", "cumulative"])
@pytest.mark.parametrize("estimator", ["nls", "ols", "ml"])
@pytest.mark.parametrize("seed", [0, 1])
def test_every_estimator_recovers_known_parameters(data, estimator, seed):
    t, y = simulate(seed, data=data, noise=0.05)
    result = fit_curve(BassModel(adoptions=data, estimator=estimator), t, y)
    assert result.converged, result.message
    # brackets: OLS on the discrete analogue carries a time-interval bias
    # (Srinivasan & Mason 1986), hence its wider bracket on p
    # (here it overstates p by 70-80%)
    width = {"m": 0.08, "q": 0.12, "p": 1.0 if estimator == "ols" else 0.25}
    for name, value in TRUTH.items():
        est = result.params[name].value
        assert abs(est / value - 1) < width[name], (name, est, value)


def test_t_peak_interval_covers_the_truth_at_the_nominal_rate():
    truth_t_peak = math.log(TRUTH["q"] / TRUTH["p"]) / (TRUTH["p"] + TRUTH["q"])
    hits, runs = 0, 150
    for seed in range(runs):
        t, y = simulate(seed, n=16, noise=0.08)
        res = fit_curve(BassModel(adoptions="per-period"), t, y)
        row = res.table.loc["t_peak"]
        hits += row["lower"] <= truth_t_peak <= row["upper"]
    # 95% nominal; with 150 runs a binomial 99.9% band is about [0.89, 0.995]
    assert 0.89 <= hits / runs <= 0.995, hits / runs


# ------------------------------------------------------------------ edge cases


def test_pre_peak_series_says_m_is_poorly_identified():
    t, y = simulate(3, n=6, noise=0.03)  # the peak is at t = 9
    early = fit_curve(BassModel(adoptions="per-period"), t, y)
    full = fit_curve(BassModel(adoptions="per-period"), *simulate(3, n=20, noise=0.03))
    assert early.converged
    spread = {
        name: res.params["m"].stderr / res.params["m"].value
        for name, res in (("early", early), ("full", full))
    }
    # a third of m or more against about 1%: the interval says so
    assert spread["early"] > 0.25
    assert spread["early"] > 10 * spread["full"]
    assert early.table.loc["m", "upper"] > 1.5 * TRUTH["m"]
    # its profile interval is open above (m = 1.6e14 still fits): no bound
    # (NaN or inf), or one far beyond the truth, never a made-up near one
    _, upper = early._profile("m", 0.95)
    assert not upper <= 100 * TRUTH["m"]


def test_pure_innovation_q_zero():
    truth = {"m": 2e4, "p": 0.15, "q": 0.0}
    t, y = simulate(4, n=15, truth=truth, noise=0.02)
    res = fit_curve(BassModel(adoptions="per-period"), t, y, fix={"q": 0.0})
    assert res.status == "ok"
    assert res.params["p"].value == pytest.approx(0.15, rel=0.05)
    assert res.params["m"].value == pytest.approx(2e4, rel=0.05)
    assert res.params["t_peak"].value == 0.0
    assert res.params["peak_rate"].value == pytest.approx(
        res.params["m"].value * res.params["p"].value
    )
    free = fit_curve(BassModel(adoptions="per-period"), t, y)
    assert free.params["q"].value < 0.03  # q free: found near zero


def test_quarterly_sales_with_seasonality():
    # quarterly per-period data with a seasonal factor: the exact per-period
    # form with period 0.25 (rates per year) recovers the yearly parameters
    t = np.arange(0.25, 15.01, 0.25)
    season = np.tile([1.25, 0.85, 0.8, 1.1], t.size // 4)
    per_quarter = TRUTH["m"] * bass_increment(t - 0.25, t, TRUTH["p"], TRUTH["q"])
    y = per_quarter * season * (1 + 0.03 * np.random.default_rng(5).normal(size=t.size))
    res = fit_curve(BassModel(adoptions="per-period"), t, y)
    assert res.params["period"].value == 0.25
    assert res.params["m"].value == pytest.approx(TRUTH["m"], rel=0.05)
    assert res.params["q"].value == pytest.approx(TRUTH["q"], rel=0.1)
    assert res.params["t_peak"].value == pytest.approx(math.log(40) / 0.41, abs=0.5)


def test_iphone_quarters_and_years_tell_one_story():
    d = pd.read_csv(DATA / "iphone_sales.csv")
    d = d[d["quarter_end"] > 2007.75]  # fiscal 2008 on, whole years
    quarterly = fit_curve(
        BassModel(adoptions="per-period", launch=2007.49), d["quarter_end"], d["sales"]
    )
    d = d.assign(year=np.ceil(d["quarter_end"] - 0.75 - 1e-9) + 0.75)  # fiscal
    years = d.groupby("year")["sales"].sum()
    yearly = fit_curve(
        BassModel(adoptions="per-period", launch=2007.49), years.index, years.to_numpy()
    )
    assert quarterly.params["period"].value == 0.25
    assert yearly.params["period"].value == 1.0
    for name in ("m", "peak_time"):
        a, b = quarterly.table.loc[name], yearly.table.loc[name]
        assert a["lower"] < b["value"] < a["upper"], name


def test_zeros_and_missing_periods():
    # reported from three periods before launch (zeros), Poisson counts with
    # a slow start (more zeros), three periods not reported
    truth = {"m": 3e3, "p": 0.0005, "q": 0.7}
    t, y = simulate(6, n=25, noise="poisson", truth=truth, t=np.arange(-2.0, 23.0))
    assert np.sum(y == 0) >= 4
    keep = np.ones(t.size, bool)
    keep[[8, 14, 15]] = False
    for estimator in ("nls", "ml"):
        model = BassModel(adoptions="per-period", estimator=estimator, launch=0.0)
        res = fit_curve(model, t[keep], y[keep])
        # nls stalls at a relative offset of 2e-5 (no Gauss-Newton step
        # lowers the sum of squares; R's nls would stop on its minFactor):
        # honestly not_converged under R's 1e-5 test, the values at the truth
        assert res.converged or (
            estimator == "nls" and "relative offset is 2e-05" in res.message
        ), res.message
        assert res.params["period"].value == 1.0
        assert res.params["m"].value == pytest.approx(3e3, rel=0.1)
        assert res.params["q"].value == pytest.approx(0.7, rel=0.15)
    with pytest.raises(FitError, match="without gaps"):
        fit_curve(BassModel(adoptions="per-period", estimator="ols"), t[keep], y[keep])


def test_tiny_innovation_fits_without_warnings():
    truth = {"m": 1e6, "p": 1e-5, "q": 0.9}
    t, y = simulate(7, n=30, truth=truth, noise=0.02)
    with np.errstate(all="raise"):
        res = fit_curve(BassModel(adoptions="per-period"), t, y)
    assert res.params["p"].value == pytest.approx(1e-5, rel=0.3)
    assert res.params["q"].value == pytest.approx(0.9, rel=0.05)


def test_launch_offset_on_a_calendar_axis():
    d = durables("color televisions")
    by_t = fit_curve(BassModel(adoptions="per-period"), d["t"], d["sales"])
    by_year = fit_curve(BassModel(adoptions="per-period"), d["year"], d["sales"])
    assert by_year.params["launch"].value == 1962.0
    for name in ("m", "p", "q", "t_peak"):
        assert by_year.params[name].value == pytest.approx(
            by_t.params[name].value, rel=1e-6
        )
    assert by_year.params["peak_time"].value == pytest.approx(
        1962.0 + by_t.params["t_peak"].value, rel=1e-9
    )
    fitted = fit_curve(
        BassModel(adoptions="cumulative", launch="fit"),
        d["year"],
        np.cumsum(d["sales"]),
    )
    assert fitted.params["launch"].vary
    assert 1960.0 < fitted.params["launch"].value < 1963.0


def test_share_option_names_its_time():
    model = get_model("bass", adoptions="per-period", share=0.9)
    assert "t_90" in model.derived
    d = durables("clothes dryers")
    res = fit_curve(model, d["t"], d["sales"])
    v = res.params
    assert bass_cdf(v["t_90"].value, v["p"].value, v["q"].value) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"adoptions": "weekly"}, "adoptions must be one of"),
        ({"estimator": "bayes"}, "estimator must be one of"),
        ({"adoptions": "rate", "estimator": "ml"}, "needs counts"),
        ({"launch": "fit", "estimator": "ols"}, "needs estimator 'nls'"),
        ({"period": -1.0}, "period must be a positive"),
        ({"share": 1.5}, "share must be between"),
    ],
)
def test_bad_options(options, message):
    with pytest.raises(ValueError, match=message):
        get_model("bass", **options)


def test_bad_data_is_a_fit_error():
    with pytest.raises(FitError, match="cannot be negative"):
        fit_curve(BassModel(adoptions="per-period"), [1, 2, 3, 4], [5, -1, 7, 8])
    with pytest.raises(FitError, match="must not decrease"):
        fit_curve(
            BassModel(adoptions="cumulative", estimator="ml"),
            [1, 2, 3, 4],
            [5, 9, 7, 12],
        )
