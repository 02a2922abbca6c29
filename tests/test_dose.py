"""The dose-response models on seeded synthetic data: the curve, recovery,
ECx, relative potency, inverse prediction and every refusal.

Design: 8 doses, log-spaced around the EC50 (3 decades), 3 replicates, and
(unless said otherwise) 3 zero-dose controls; Gaussian noise of sd 3% of
the span. Every fit starts from ``model.guess``. A fitted value must lie
within 5 standard errors of the truth (a miss has probability ~6e-7 per
check for near-normal estimates).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import scurve
from scurve.analysis import dose
from scurve.errors import FitError
from scurve.fitters.engine import fit_curve, fit_groups
from scurve.models import get_model

FAMILIES = {
    "rising": {"bottom": 2.0, "top": 10.0, "log_ec50": 0.5, "hill": 1.5},
    "falling": {"bottom": 2.0, "top": 10.0, "log_ec50": 0.5, "hill": -1.5},
    "shallow": {"bottom": 2.0, "top": 10.0, "log_ec50": -1.0, "hill": 0.7},
    "steep": {"bottom": 2.0, "top": 10.0, "log_ec50": 2.0, "hill": -5.0},
}
SPAN = 8.0


def doses(truth, controls=3, decades=3.0, steps=8, reps=3):
    centre = truth["log_ec50"]
    spread = decades / max(1.0, abs(truth["hill"]) / 1.5)
    x = 10 ** np.linspace(centre - spread / 2, centre + spread / 2, steps)
    return np.concatenate([np.zeros(controls), np.repeat(x, reps)])


def synthetic(truth, seed, model="hill", **design):
    m = get_model(model)
    x = doses(truth, **design)
    rng = np.random.default_rng(seed)
    y = m.function(x, **truth) + rng.normal(0, 0.03 * SPAN, x.size)
    return m, x, y


@pytest.mark.parametrize("family", sorted(FAMILIES))
@pytest.mark.parametrize("controls", [0, 3], ids=["no-zero-dose", "zero-dose"])
@pytest.mark.parametrize("seed", [0, 1])
def test_recovery(family, controls, seed):
    truth = FAMILIES[family]
    model, x, y = synthetic(truth, seed, controls=controls)
    result = fit_curve(model, x, y)
    assert result.status == "ok", result.message
    for name, value in truth.items():
        est, se = result.params[name].value, result.params[name].stderr
        assert abs(est - value) < 5 * se, (name, est, se, value)
    # no flipping: the sign of hill is the direction of the data
    assert np.sign(result.params["hill"].value) == np.sign(truth["hill"])


def test_hill5_recovers_its_asymmetry():
    truth = {**FAMILIES["falling"], "asymmetry": 0.4}
    model, x, y = synthetic(truth, 3, model="hill5", reps=6)
    result = fit_curve(model, x, y)
    assert result.status == "ok", result.message
    for name, value in truth.items():
        est, se = result.params[name].value, result.params[name].stderr
        assert abs(est - value) < 5 * se, (name, est, se, value)


def test_hill5_ec50_is_the_half_effect_dose_and_xb_is_drc_e():
    model = get_model("hill5")
    v = {"bottom": 1.0, "top": 5.0, "log_ec50": 0.3, "hill": 2.0, "asymmetry": 0.3}
    half = model.function(np.array([10 ** v["log_ec50"]]), **v)[0]
    assert half == pytest.approx(3.0, rel=1e-14)
    # drc LL.5: c + (d - c) / (1 + exp(b (log x - log e)))^f, b = -hill
    xb = 10 ** v["log_ec50"] * (2 ** (1 / v["asymmetry"]) - 1) ** (1 / v["hill"])
    x = np.geomspace(0.01, 100, 9)
    drc = 1.0 + 4.0 / (1 + np.exp(-v["hill"] * (np.log(x) - np.log(xb)))) ** 0.3
    np.testing.assert_allclose(model.function(x, **v), drc, rtol=1e-13)
    params = model.make_params(**v)
    params.update_constraints()
    assert params["xb"].value == pytest.approx(xb, rel=1e-13)


@pytest.mark.parametrize("hill", [-50.0, -4.0, 0.5, 4.0, 50.0])
def test_curve_never_overflows_and_takes_the_zero_dose_limit(hill):
    model = get_model("hill")
    x = np.concatenate([[0.0], np.geomspace(1e-300, 1e300, 2001)])
    with np.errstate(all="raise"):
        y = model.function(x, bottom=1.0, top=3.0, log_ec50=5.0, hill=hill)
    assert np.all(np.isfinite(y))
    assert y[0] == (1.0 if hill > 0 else 3.0)
    # the textbook x^h / (EC50^h + x^h) gives NaN (inf/inf) where x^h
    # overflows; elsewhere it agrees
    with np.errstate(all="ignore"):
        xh = x[1:] ** hill
        naive = 1.0 + 2.0 * xh / (1e5**hill + xh)
    ok = np.isfinite(naive)
    assert ok.all() == (abs(hill) * 300 < 308)
    np.testing.assert_allclose(y[1:][ok], naive[ok], rtol=1e-12)


def test_inverse_undoes_the_curve_in_both_dose_scales():
    v = {"bottom": 1.0, "top": 3.0, "log_ec50": 1.2, "hill": -2.5}
    x = np.geomspace(0.1, 1000, 13)
    for log_dose, xs in ((False, x), (True, np.log10(x))):
        model = get_model("hill", log_dose=log_dose)
        params = model.make_params(**v)
        y = model.function(xs, **v)
        np.testing.assert_allclose(model.inverse(y, params), xs, rtol=1e-10, atol=1e-12)
        assert np.isnan(model.inverse(np.array([0.5, 3.5]), params)).all()


def test_log_dose_fit_equals_the_linear_dose_fit():
    truth = FAMILIES["rising"]
    model, x, y = synthetic(truth, 5, controls=0)
    linear = fit_curve(model, x, y)
    logged = fit_curve(get_model("hill", log_dose=True), np.log10(x), y)
    for name in truth:
        assert logged.params[name].value == pytest.approx(
            linear.params[name].value, rel=1e-6, abs=1e-9
        )
    assert logged.model.options == {"log_dose": True}


def test_three_and_two_parameter_forms_are_fixes():
    truth = {"bottom": 0.0, "top": 1.0, "log_ec50": 0.5, "hill": 2.0}
    model, x, y = synthetic(truth, 2)
    three = fit_curve(model, x, y, fix={"bottom": 0.0})
    two = fit_curve(model, x, y, fix={"bottom": 0.0, "top": 1.0})
    assert three.nvarys == 3
    assert two.nvarys == 2
    assert abs(two.params["log_ec50"].value - 0.5) < 5 * two.params["log_ec50"].stderr


# ------------------------------------------------------------------ ECx


def test_ecx_definitions():
    truth = FAMILIES["rising"]
    model, x, y = synthetic(truth, 0)
    result = fit_curve(model, x, y)
    v = {n: result.params[n].value for n in model.curve_params}
    table = dose.ec(result, [10, 50, 90])
    assert list(table.index) == ["EC10", "EC50", "EC90"]
    ec50 = 10 ** v["log_ec50"]
    for p in (10, 50, 90):
        expected = ec50 * (p / (100 - p)) ** (1 / abs(v["hill"]))
        assert table.loc[f"EC{p}", "value"] == pytest.approx(expected, rel=1e-12)
        # x% of the way from the zero-dose response
        response = model.function(np.array([expected]), **v)[0]
        assert response == pytest.approx(
            v["bottom"] + p / 100 * (v["top"] - v["bottom"]), rel=1e-12
        )
    absolute = dose.ec(result, [4.0], kind="absolute")
    assert model.function(absolute["value"].to_numpy(), **v)[0] == pytest.approx(4.0)
    log = dose.ec(result, [10], ci="log").iloc[0]
    assert log["lower"] > 0
    assert log["upper"] - log["value"] > log["value"] - log["lower"]
    with pytest.raises(ValueError, match="0 < x < 100"):
        dose.ec(result, [100])


def test_ec50_interval_coverage():
    # 200 seeded data sets: the 95% ec50 interval (log scale, mapped) and
    # the delta interval of EC10 should cover the truth ~95% of the time;
    # binomial sd at 200 draws is 1.5%, so [0.90, 0.99] is > 3 sd wide
    truth = FAMILIES["falling"]
    ec10 = 10 ** truth["log_ec50"] * (10 / 90) ** (1 / 1.5)
    covered = np.zeros(2)
    n = 200
    for seed in range(n):
        model, x, y = synthetic(truth, 1000 + seed, reps=2)
        result = fit_curve(model, x, y)
        row = result.table.loc["ec50"]
        covered[0] += row["lower"] <= 10 ** truth["log_ec50"] <= row["upper"]
        e = dose.ec(result, [10]).iloc[0]
        covered[1] += e["lower"] <= ec10 <= e["upper"]
    rate = covered / n
    assert np.all((rate > 0.90) & (rate < 0.99)), rate


# ------------------------------------------------------------------ refusals


@pytest.mark.parametrize(
    ("x", "y", "message"),
    [
        (
            [0, 1, -2, 4],
            [1, 2, 3, 4],
            r"dose must be >= 0: 1 negative doses, the first -2",
        ),
        ([3, 3, 3, 3], [1, 2, 3, 4], r"all doses are equal \(3\)"),
        (
            [0, 1, 2, 4, 8, 16],
            [1, 5, 9, 5, 1.2, 1],
            r"not monotone in dose: the median goes from 1 to 9 at dose 2",
        ),
        (
            [0, 0, 1, 2, 4, 8, 16],
            [1, 1.02, 1.1, 1.2, 1.3, 1.5, 1.8],
            r"EC50 is not identifiable: no dose reaches the half-effect level.*"
            r"EC50 > 16 \(the highest dose\)",
        ),
        (
            [0, 0, 1, 2, 4, 8, 16],
            [10, 10.1, 3.0, 2.2, 2.05, 2.0, 2.02],
            r"EC50 is not identifiable: every positive dose is past the "
            r"half-effect level.*EC50 < 1 \(the lowest positive dose\)",
        ),
    ],
    ids=["negative", "all-equal", "not-monotone", "below-midpoint", "above-midpoint"],
)
def test_refusals_say_why(x, y, message):
    with pytest.raises(FitError, match=message):
        fit_curve(get_model("hill"), np.array(x, float), np.array(y, float))


# ------------------------------------------------------------------ potency


def parallel_groups(ratio, seed, hill=-2.0):
    """Two compounds with common plateaus and slope; A is `ratio` times
    less potent (its EC50 `ratio` times B's)."""
    model = get_model("hill")
    rng = np.random.default_rng(seed)
    groups = {}
    for name, log_ec50 in (("A", 1.0 + math.log10(ratio)), ("B", 1.0)):
        truth = {"bottom": 1.0, "top": 9.0, "log_ec50": log_ec50, "hill": hill}
        x = doses(truth, reps=4)
        y = model.function(x, **truth) + rng.normal(0, 0.2, x.size)
        groups[(name,)] = (x, y, None)
    return model, groups


def test_relative_potency_delta_and_fieller():
    model, groups = parallel_groups(3.0, seed=0)
    joint = fit_groups(model, groups, ["compound"], share=["bottom", "top"])
    rp = dose.relative_potency(joint["A"], joint["B"])
    a, b = (joint[k].table.loc["ec50", "value"] for k in "AB")
    assert rp.loc["delta", "value"] == pytest.approx(a / b, rel=1e-10)
    for method in ("delta", "fieller"):
        assert rp.loc[method, "lower"] < 3.0 < rp.loc[method, "upper"]
    # Fieller's interval is shifted up from the symmetric delta one
    assert rp.loc["fieller", "upper"] > rp.loc["delta", "upper"]
    # independent fits: the same ratio, no covariance between the compounds
    separate = fit_groups(model, groups, ["compound"])
    rp2 = dose.relative_potency(separate["A"], separate["B"])
    assert rp2.loc["delta", "value"] == pytest.approx(
        separate["A"].params["ec50"].value / separate["B"].params["ec50"].value
    )


def test_same_ec50_f_test():
    model, groups = parallel_groups(3.0, seed=1)
    joint = fit_groups(model, groups, ["compound"], share=["bottom", "top"])
    different = dose.same_ec50(joint)
    assert different["p_value"] < 1e-6
    assert different["df1"] == 1
    model, groups = parallel_groups(1.0, seed=2)
    joint = fit_groups(model, groups, ["compound"], share=["bottom", "top"])
    same = dose.same_ec50(joint)
    assert same["p_value"] > 0.01
    assert same["rss_common"] >= same["rss_separate"]


def test_s_alba_glyphosate_is_less_potent_than_bentazone():
    fits = scurve.fit(
        "data/S.alba.csv",
        model="hill",
        x="Dose",
        y="DryMatter",
        by="Herbicide",
        share=["bottom", "top"],
    )
    rp = dose.relative_potency(fits["Glyphosate"], fits["Bentazone"])
    assert rp.loc["fieller", "lower"] > 1.5
    assert dose.same_ec50(fits)["p_value"] < 1e-4


# ------------------------------------------------------------------ calibration


def test_inverse_prediction_of_unknowns():
    # an ELISA-like rising standard curve; unknowns at known concentrations
    truth = {"bottom": 0.05, "top": 2.0, "log_ec50": 1.5, "hill": 1.2}
    model = get_model("hill")
    rng = np.random.default_rng(7)
    x = np.repeat(10 ** np.linspace(-0.5, 3.5, 8), 2)
    y = model.function(x, **truth) + rng.normal(0, 0.02, x.size)
    result = fit_curve(model, x, y)
    known = np.array([5.0, 30.0, 200.0])
    measured = model.function(known, **truth)
    table = dose.inverse_predict(result, measured)
    wide = dose.inverse_predict(result, measured, replicates=1)
    for i, conc in enumerate(known):
        assert table.loc[i, "lower"] < conc < table.loc[i, "upper"]
        assert wide.loc[i, "stderr"] > table.loc[i, "stderr"]
    np.testing.assert_allclose(
        table["x"], result.model.inverse(measured, result.params), rtol=1e-12
    )
    outside = dose.inverse_predict(result, [3.0])
    assert math.isnan(outside.loc[0, "x"])
    assert "above the curve's range" in outside.loc[0, "note"]
