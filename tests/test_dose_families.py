"""The dose-response families of drc on the core's unit curves (issue 21,
item 1): LL.4 (logistic), LN.4 (erf), W1.4 (gompertz), W2.4 (cloglog).

drc's printed outputs for LN.4/W1.4/W2.4 are not in its help pages, so the
reference is drc's own formula for each family (``R/llogistic.R``,
``R/lnormal.R``, ``R/weibull1.R``, ``R/weibull2.R``) fitted here by an
independent least-squares solver, with drc's standard errors: the full
Hessian of the residual sum of squares, ``2 s^2 H^-1``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, special

import scurve
from scurve.analysis import dose

RYEGRASS = pd.read_csv("data/ryegrass.csv")
X = RYEGRASS["conc"].to_numpy(float)
Y = RYEGRASS["rootl"].to_numpy(float)


def _u(z: np.ndarray, family: str) -> np.ndarray:
    """drc's unit curves of b (log x - log e), as drc writes them."""
    return {
        "LL.4": lambda: 1 / (1 + np.exp(z)),
        "LN.4": lambda: special.ndtr(z),
        "W1.4": lambda: np.exp(-np.exp(z)),
        "W2.4": lambda: 1 - np.exp(-np.exp(z)),
    }[family]()


def _drc(p: np.ndarray, family: str) -> np.ndarray:
    b, c, d, e = p
    with np.errstate(divide="ignore"):
        z = b * (np.log(X) - math.log(e))
    return c + (d - c) * _u(z, family)


def _drc_fit(family: str, start: list[float]) -> tuple[np.ndarray, np.ndarray, float]:
    """drc's estimates, standard errors (full Hessian) and RSS, independently."""
    fit = optimize.least_squares(
        lambda p: _drc(p, family) - Y, start, xtol=1e-15, ftol=1e-15, gtol=1e-15
    )
    p = fit.x

    def rss(q: np.ndarray) -> float:
        return float(np.sum((_drc(q, family) - Y) ** 2))

    h = 1e-4 * np.maximum(np.abs(p), 1e-2)
    hess = np.empty((4, 4))
    for i in range(4):
        for j in range(4):
            ei, ej = np.eye(4)[i] * h[i], np.eye(4)[j] * h[j]
            plus = rss(p + ei + ej) + rss(p - ei - ej)
            minus = rss(p + ei - ej) + rss(p - ei + ej)
            hess[i, j] = (plus - minus) / (4 * h[i] * h[j])
    s2 = rss(p) / (Y.size - 4)
    se = np.sqrt(np.diag(2 * s2 * np.linalg.inv(hess)))
    return p, se, rss(p)


#: family -> (shape, hill per drc b, drc's e as a relative ICx level, start)
FAMILIES = {
    "LL.4": ("logistic", -1.0, 50.0, [2.0, 0.5, 7.8, 3.0]),
    "LN.4": ("erf", 1 / math.sqrt(2), 50.0, [-2.0, 0.5, 7.8, 3.0]),
    "W1.4": ("gompertz", -1.0, 100 * (1 - math.exp(-1)), [2.0, 0.5, 7.8, 3.0]),
    "W2.4": ("cloglog", 1.0, 100 * math.exp(-1), [-2.0, 0.5, 7.8, 3.0]),
}


@pytest.mark.parametrize("family", list(FAMILIES))
def test_ryegrass_family_matches_drc_formula(family: str) -> None:
    """Estimates to 5 digits, standard errors to 3, the same RSS; drc's e is
    the ICx at the level where drc's z is 0 (``dose.ec``, delta on the dose
    scale, drc's ``ED``)."""
    shape, per_b, e_level, start = FAMILIES[family]
    (b, c, d, e), (se_b, se_c, se_d, se_e), rss = _drc_fit(family, start)
    fit = scurve.fit(x=X, y=Y, model="hill", shape=shape)
    p = fit.params
    assert fit.status == "ok"
    assert fit.chisqr == pytest.approx(rss, rel=1e-7)
    assert fit.chisqr <= rss * (1 + 1e-9)
    assert p["bottom"].value == pytest.approx(c, rel=1e-5)
    assert p["top"].value == pytest.approx(d, rel=1e-5)
    assert p["hill"].value == pytest.approx(b * per_b, rel=1e-5)
    assert p["bottom"].stderr == pytest.approx(se_c, rel=1e-3)
    assert p["top"].stderr == pytest.approx(se_d, rel=1e-3)
    assert p["hill"].stderr == pytest.approx(se_b * abs(per_b), rel=1e-3)
    drc_e = dose.ec(fit, [e_level]).iloc[0]
    assert drc_e["value"] == pytest.approx(e, rel=1e-5)
    assert drc_e["stderr"] == pytest.approx(se_e, rel=1e-3)


def test_ll4_matches_drc_printed() -> None:
    """drc's printed ``summary(drm(rootl ~ conc, data = ryegrass, fct =
    LL.4()))``: b 2.98222 (0.46506), c 0.48141 (0.21219), d 7.79296
    (0.18857), e 3.05795 (0.18573)."""
    fit = scurve.fit(x=X, y=Y, model="hill")
    p = fit.params
    assert -p["hill"].value == pytest.approx(2.98222, abs=1e-5)
    assert p["hill"].stderr == pytest.approx(0.46506, abs=1e-5)
    assert p["bottom"].value == pytest.approx(0.48141, abs=1e-5)
    assert p["bottom"].stderr == pytest.approx(0.21219, abs=1e-5)
    assert p["top"].stderr == pytest.approx(0.18857, abs=1e-5)
    assert p["ec50"].value == pytest.approx(3.05795, abs=1e-5)
    assert p["ec50"].stderr == pytest.approx(0.18573, abs=1e-5)


@pytest.mark.parametrize("shape", ["logistic", "erf", "gompertz", "cloglog"])
@pytest.mark.parametrize("sign", [1.0, -1.0])
def test_ecx_through_the_unit_inverse(shape: str, sign: float) -> None:
    """Every ECx of every shape is the dose where the curve is x% of the
    way from the zero-dose response to the other plateau."""
    model = scurve.MODELS["hill"](shape=shape)
    rng = np.random.default_rng(21)
    x = np.repeat([0.0, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0], 3)
    truth = {"bottom": 1.0, "top": 9.0, "log_ec50": 0.5, "hill": 1.2 * sign}
    y = model.function(x, **truth) + rng.normal(0, 0.05, x.size)
    fit = scurve.fit(x=x, y=y, model=model)
    v = {k: fit.params[k].value for k in truth}
    zero = v["top"] if sign < 0 else v["bottom"]
    other = v["bottom"] if sign < 0 else v["top"]
    table = dose.ec(fit, [10, 50, 90])
    for level, value in zip([10, 50, 90], table["value"], strict=True):
        at = model.function(np.array([value]), **v)[0]
        assert at == pytest.approx(zero + level / 100 * (other - zero), rel=1e-9)
    assert table["value"].iloc[1] == pytest.approx(fit.params["ec50"].value)
    assert fit.params["log_ec50"].value == pytest.approx(0.5, abs=0.03)
    assert fit.params["hill"].value == pytest.approx(1.2 * sign, rel=0.1)


@pytest.mark.parametrize("shape", ["erf", "gompertz", "cloglog"])
def test_families_on_both_paths_and_shared(shape: str) -> None:
    """The vectorized path and lmfit agree for every family; --share fits it."""
    frame = pd.concat([RYEGRASS.assign(g=i) for i in range(2)])
    common = dict(model="hill", shape=shape, x="conc", y="rootl", by="g")
    fast = scurve.fit(frame, engine="vectorized", **common)
    slow = scurve.fit(frame, engine="lmfit", **common)
    for key in fast:
        for name in ("bottom", "top", "log_ec50", "hill"):
            assert fast[key].params[name].value == pytest.approx(
                slow[key].params[name].value, rel=1e-6
            )
            assert fast[key].params[name].stderr == pytest.approx(
                slow[key].params[name].stderr, rel=1e-4
            )
    joint = scurve.fit(frame, share=["bottom", "top"], **common)
    assert joint[(0,)].params["hill"].value == pytest.approx(
        slow[(0,)].params["hill"].value, rel=1e-5
    )
