"""Quantal dose-response by binomial maximum likelihood (drc's type = "binomial").

Reference: with bottom 0 and top 1 (drc's LL.2) the model is the logistic
regression of the proportion on ln dose, so R's
``glm(cbind(dead, total - dead) ~ log(conc), family = binomial)`` gives the
same estimates and, the logit link being canonical, the same standard errors
(drc's finney71 example notes "complete agreement with results based on
'glm'"). The glm is computed here by iteratively reweighted least squares,
independently of scurve's fit.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from scurve.analysis import dose
from scurve.errors import FitError
from scurve.models.dose import HillModel

SELENIUM = pd.read_csv("data/selenium.csv")
EARTHWORMS = pd.read_csv("data/earthworms.csv")


def logistic_glm(log_dose, k, n):
    """IRLS logistic regression: coefficients, covariance, log-likelihood."""
    X = np.column_stack([np.ones_like(log_dose), log_dose])
    beta = np.zeros(2)
    for _ in range(100):
        p = 1 / (1 + np.exp(-(X @ beta)))
        info = X.T @ ((n * p * (1 - p))[:, None] * X)
        step = np.linalg.solve(info, X.T @ (k - n * p))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-14:
            break
    p = 1 / (1 + np.exp(-(X @ beta)))
    info = X.T @ ((n * p * (1 - p))[:, None] * X)
    log_choose = [math.lgamma(a + 1) - math.lgamma(b + 1) - math.lgamma(a - b + 1)
                  for a, b in zip(n, k, strict=True)]  # fmt: skip
    loglik = float(np.sum(log_choose + k * np.log(p) + (n - k) * np.log1p(-p)))
    return beta, np.linalg.inv(info), loglik


@pytest.mark.parametrize("form", [1, 2, 3, 4])
def test_two_parameter_fit_is_the_logistic_glm(form):
    g = SELENIUM[(SELENIUM["type"] == form) & (SELENIUM["conc"] > 0)]
    x, k, n = (g[c].to_numpy(float) for c in ("conc", "dead", "total"))
    if form == 3:  # 188 of 188 dead at the top dose: keep the fit finite
        x, k, n = x[:-1], k[:-1], n[:-1]
    result = dose.fit_quantal(x, k, n, fix={"bottom": 0, "top": 1})
    assert result.status == "ok", result.message
    beta, cov, loglik = logistic_glm(np.log(x), k, n)
    hill, se_hill = result.params["hill"].value, result.params["hill"].stderr
    assert hill == pytest.approx(beta[1], rel=1e-6)
    assert se_hill == pytest.approx(math.sqrt(cov[1, 1]), rel=1e-4)
    ld50 = math.exp(-beta[0] / beta[1])
    # delta SE of ln LD50 = -b0/b1 from the glm covariance
    grad = np.array([-1 / beta[1], beta[0] / beta[1] ** 2])
    se_ln = math.sqrt(grad @ cov @ grad)
    table = dose.ec(result, [50])
    assert table["value"].iloc[0] == pytest.approx(ld50, rel=1e-6)
    assert table["stderr"].iloc[0] == pytest.approx(ld50 * se_ln, rel=1e-4)
    # normal quantiles, as drc for binomial data
    half = table["upper"].iloc[0] - table["value"].iloc[0]
    assert half == pytest.approx(1.959964 * ld50 * se_ln, rel=1e-4)
    assert result.stats["loglik"] == pytest.approx(loglik, abs=1e-6)
    assert result.stats["aic"] == pytest.approx(-2 * loglik + 4, abs=1e-6)


def test_natural_response_in_the_controls():
    # earthworms: a response in the controls, falling with dose; top is free
    e = EARTHWORMS
    result = dose.fit_quantal(e["dose"], e["number"], e["total"], fix={"bottom": 0.0})
    assert result.status == "ok", result.message
    top = result.params["top"]
    controls = e[e["dose"] == 0]
    observed = controls["number"].sum() / controls["total"].sum()
    assert abs(top.value - observed) < 3 * top.stderr
    assert 0 <= top.value <= 1
    assert result.params["hill"].value < 0  # fewer migrate at higher doses


def test_seeded_recovery():
    rng = np.random.default_rng(11)
    x = np.repeat(np.geomspace(1, 1000, 7), 3)
    truth = {"bottom": 0.05, "top": 1.0, "log_ec50": 1.7, "hill": 1.8}
    p = HillModel().function(x, **truth)
    n = np.full(x.size, 40.0)
    k = rng.binomial(40, p).astype(float)
    result = dose.fit_quantal(x, k, n, fix={"top": 1.0})
    for name in ("bottom", "log_ec50", "hill"):
        est, se = result.params[name].value, result.params[name].stderr
        assert abs(est - truth[name]) < 5 * se, (name, est, se)


def test_refusals():
    with pytest.raises(
        FitError, match=r"trials < responders at point 2: 7 responders of 5"
    ):
        dose.fit_quantal([0, 1, 2], [1, 7, 3], [5, 5, 5])
    with pytest.raises(FitError, match=r"responders must be counts.*2\.5 at point 1"):
        dose.fit_quantal([0, 1, 2], [2.5, 1, 3], [5, 5, 5])
    g = SELENIUM[SELENIUM["type"] == 1]
    with pytest.raises(
        FitError, match=r"held at probability 0 at dose 0, where 3 of 151"
    ):
        dose.fit_quantal(g["conc"], g["dead"], g["total"], fix={"bottom": 0, "top": 1})
