"""Population growth models: the Verhulst ODE, recovery, derived quantities."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from scurve.core.special import logit
from scurve.fitters.engine import fit_curve
from scurve.models import get_model

T = np.arange(0.0, 25.0)
TRUTH = {
    "logistic": {"K": 100.0, "r": 0.5, "t0": 10.0, "N_min": 0.0},
    "gompertz": {"A": 100.0, "mu_m": 12.0, "lag": 5.0, "N_min": 0.0},
    "richards": {"K": 100.0, "r": 0.5, "t0": 10.0, "nu": 2.0, "N_min": 0.0},
}


@pytest.mark.parametrize("K", [1.0, 3.5e8])
@pytest.mark.parametrize("r", [0.05, 0.7, 3.0])
@pytest.mark.parametrize("n0_fraction", [1e-6, 0.01, 0.5, 0.99])
def test_closed_form_solves_the_verhulst_ode(K, r, n0_fraction):
    # dN/dt = r N (1 - N/K), N(0) = N0, against an accurate numerical solution
    n0 = n0_fraction * K
    t_end = 30.0 / r
    t = np.linspace(0.0, t_end, 61)
    sol = solve_ivp(
        lambda _, n: r * n * (1 - n / K),
        (0.0, t_end),
        [n0],
        t_eval=t,
        rtol=1e-13,
        atol=1e-300,
        method="DOP853",
    )
    t0 = -logit(n0 / K) / r  # midpoint from N(0) (NUMERICS d5)
    closed = get_model("logistic").function(t, K=K, r=r, t0=t0, N_min=0.0)
    np.testing.assert_allclose(closed, sol.y[0], rtol=1e-9, atol=0)


def noisy(name, t, rel=0.02, seed=0, **overrides):
    model = get_model(name)
    truth = {**TRUTH[name], **overrides}
    y = model.function(t, **truth)
    rng = np.random.default_rng(seed)
    return model, truth, y * (1 + rel * rng.normal(size=t.size))


@pytest.mark.parametrize("name", sorted(TRUTH))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_parameters_recovered_without_starting_values(name, seed):
    model, truth, y = noisy(name, T, seed=seed)
    result = fit_curve(model, T, y)
    assert result.status == "ok", result.message
    for p, value in truth.items():
        if p == "N_min":
            assert result.params[p].value == 0.0  # fixed unless baseline=True
            continue
        est, se = result.params[p].value, result.params[p].stderr
        # 5 standard errors: a false alarm has probability below 1e-6
        assert abs(est - value) < 5 * se, (p, est, se, value)


def test_early_phase_only_still_fits():
    # data that stop before the midpoint: the self-start must not need K
    model, truth, y = noisy("logistic", T[:9], rel=0.01)
    result = fit_curve(model, T[:9], y)
    assert result.converged
    assert abs(result.params["r"].value - truth["r"]) < 0.05
    assert 60 < result.params["K"].value < 160


def test_counts_in_hundreds_of_millions():
    model, _, y = noisy("logistic", T, rel=0.01, K=3.2e8, r=0.3, t0=12.0)
    result = fit_curve(model, T, y)
    assert result.status == "ok"
    assert result.params["K"].value == pytest.approx(3.2e8, rel=0.05)


def test_optical_density_with_a_fitted_baseline():
    model = get_model("logistic", baseline=True)
    truth = {"K": 1.2, "r": 0.6, "t0": 10.0, "N_min": 0.05}
    y = model.function(T, **truth) + np.random.default_rng(4).normal(0, 0.005, T.size)
    result = fit_curve(model, T, y)
    assert result.status == "ok"
    assert result.params["N_min"].vary
    assert abs(result.params["N_min"].value - 0.05) < 5 * result.params["N_min"].stderr
    assert result.to_dict()["options"] == {"baseline": True}
    assert get_model("logistic", **result.to_dict()["options"]).label == model.label


def test_logistic_derived_quantities_are_their_definitions():
    model, _, y = noisy("logistic", T, seed=3)
    result = fit_curve(model, T, y)
    v = {k: p.value for k, p in result.params.items()}
    assert v["doubling_time"] == pytest.approx(math.log(2) / v["r"])
    assert v["max_rate"] == pytest.approx(v["r"] * v["K"] / 4)
    assert v["N0"] == pytest.approx(model.function(0.0, v["K"], v["r"], v["t0"], 0.0))
    # lag time: the tangent at t0 reaches the baseline there
    slope = v["r"] * v["K"] / 4
    assert model.function(v["t0"], v["K"], v["r"], v["t0"], 0.0) - slope * (
        v["t0"] - v["lag_time"]
    ) == pytest.approx(0.0, abs=1e-9)
    # the delta-method stderr of ln2/r is ln2 se(r) / r^2
    se_r = result.params["r"].stderr
    assert result.params["doubling_time"].stderr == pytest.approx(
        math.log(2) * se_r / v["r"] ** 2, rel=1e-6
    )


@pytest.mark.parametrize(("name", "rate", "when"), [
    ("gompertz", "mu_m", "t_inflection"),
    ("richards", "max_rate", "t_inflection"),
])  # fmt: skip
def test_maximum_rate_and_inflection_match_the_curve(name, rate, when):
    model = get_model(name)
    params = model.make_params(**TRUTH[name])
    params.update_constraints()
    t = np.linspace(0, 25, 200001)
    slope = np.gradient(model.eval(params, x=t), t)
    assert slope.max() == pytest.approx(params[rate].value, rel=1e-6)
    assert t[slope.argmax()] == pytest.approx(params[when].value, abs=2e-4)


def test_richards_with_nu_one_is_the_logistic():
    t = np.linspace(-20, 40, 301)
    logistic = get_model("logistic").function(t, K=7.0, r=0.4, t0=10.0, N_min=0.5)
    richards = get_model("richards").function(
        t, K=7.0, r=0.4, t0=10.0, nu=1.0, N_min=0.5
    )
    np.testing.assert_allclose(richards, logistic, rtol=4e-16)


def test_logistic_inverse_round_trips():
    model, _, y = noisy("logistic", T)
    result = fit_curve(model, T, y)
    times = np.array([3.0, 10.0, 17.5])
    np.testing.assert_allclose(
        model.inverse(result.predict(times), result.params), times, rtol=1e-12
    )


@pytest.mark.parametrize("name", sorted(TRUTH))
def test_comparison_prefers_the_generating_model(name):
    from scurve.api import compare

    _, _, y = noisy(name, T, rel=0.005, seed=5)
    fits = {other: fit_curve(get_model(other), T, y) for other in TRUTH}
    table = compare(fits)
    assert table.index[0] == name or (
        # Richards nests the logistic: a tie within 2 AIC units is no preference
        {name, table.index[0]} == {"logistic", "richards"}
        and table.loc[name, "delta_aic"] < 2
    )


def test_shared_capacity_across_groups_keeps_derived_quantities_per_group():
    # derived quantities are not curve parameters: a joint fit must not pass
    # them to the curve (it did, with TypeError, before curve_params)
    from scurve.fitters.engine import fit_groups

    model = get_model("logistic")
    groups = {}
    for i, t0 in enumerate((9.0, 11.0)):
        _, _, y = noisy("logistic", T, seed=10 + i, t0=t0)
        groups[(f"well{i}",)] = (T, y, None)
    fits = fit_groups(model, groups, ["well"], share=["K"])
    table = fits.table
    assert list(table["status"]) == ["ok", "ok"]
    assert table["K"].nunique() == 1
    assert table["doubling_time"].notna().all()
    assert table.loc[0, "t0"] < table.loc[1, "t0"]
    assert model.curve_params == ["K", "r", "t0", "N_min"]


def test_gompertz_at_zero_amplitude_is_its_baseline() -> None:
    """A = 0 is the bound a fit to a flat well can reach: the curve is its
    limit N_min there (it once raised ZeroDivisionError inside lmfit)."""
    model = get_model("gompertz")
    t = np.array([0.0, 1.0, 5.0, 24.0])
    flat = model.function(t, A=0.0, mu_m=2004.3, lag=5.0, N_min=0.25)
    np.testing.assert_array_equal(flat, np.full(t.size, 0.25))
    stacked = model.function(
        np.stack([t, t]), A=np.array([[0.0], [2.0]]), mu_m=1.0, lag=3.0, N_min=0.0
    )
    np.testing.assert_array_equal(stacked[0], 0.0)
    np.testing.assert_array_equal(
        stacked[1], model.function(t, A=2.0, mu_m=1.0, lag=3.0, N_min=0.0)
    )
