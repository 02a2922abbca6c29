"""Parallel-line assays of binary outcomes (scurve.analysis.parallel).

Reference: the budworm data (Collett 1991) as MASS (Venables & Ripley, 4th
ed., section 7.2) prints R's ``glm(cbind(dead, 20 - dead) ~ sex + ldose - 1,
binomial)``: sexF -3.4732 (0.4685), sexM -2.3724 (0.3855), ldose 1.0642
(0.1311), residual deviance 6.757 on 9 df; with separate slopes 4.994 on 8
df. The relative potency is checked against statsmodels' GLM with a group
indicator (its covariance, Fieller's interval computed here from it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import scurve
from scurve.analysis import parallel
from scurve.errors import InputError, OptionError

BUDWORM = Path(__file__).parents[1] / "data" / "budworm.csv"


@pytest.fixture(scope="module")
def lines():
    return scurve.fit(
        BUDWORM, "sigmoid", x="ldose", y="dead", trials="total", by="sex",
        share="scale",
    )  # fmt: skip


def test_budworm_as_mass_prints(lines):
    female, male = lines[("F",)], lines[("M",)]
    assert female.table.loc["intercept", "value"] == pytest.approx(-3.4732, abs=5e-5)
    assert male.table.loc["intercept", "value"] == pytest.approx(-2.3724, abs=5e-5)
    assert female.table.loc["slope", "value"] == pytest.approx(1.0642, abs=5e-5)
    assert male.table.loc["slope", "value"] == pytest.approx(1.0642, abs=5e-5)
    assert female.table.loc["intercept", "stderr"] == pytest.approx(0.4685, abs=5e-5)
    assert male.table.loc["intercept", "stderr"] == pytest.approx(0.3855, abs=5e-5)
    assert female.table.loc["slope", "stderr"] == pytest.approx(0.1311, abs=5e-5)
    assert female.joint.chisqr == pytest.approx(6.757, abs=5e-4)
    assert female.joint.nfree == 9


def test_parallelism_is_the_likelihood_ratio(lines):
    test = parallel.parallelism(lines)
    assert test["deviance_common"] == pytest.approx(6.757, abs=5e-4)
    assert test["deviance_separate"] == pytest.approx(4.994, abs=5e-4)
    assert test["df"] == 1
    assert test["chi2"] == pytest.approx(1.763, abs=5e-4)
    assert test["p_value"] == pytest.approx(stats.chi2.sf(test["chi2"], 1))


def _statsmodels_reference():
    sm = pytest.importorskip("statsmodels.api")
    data = pd.read_csv(BUDWORM)
    male = (data["sex"] == "M").to_numpy(float)
    design = np.column_stack([1 - male, male, data["ldose"]])
    counts = np.column_stack([data["dead"], data["total"] - data["dead"]])
    glm = sm.GLM(counts, design, family=sm.families.Binomial()).fit()
    return glm.params, glm.cov_params()


def test_relative_potency_as_statsmodels(lines):
    (b_f, b_m, slope), cov = _statsmodels_reference()
    # M = (intercept_M - intercept_F) / slope: males reach each probability
    # M log2-doses lower than females
    a, b = b_m - b_f, slope
    ga = np.array([-1.0, 1.0, 0.0])
    gb = np.array([0.0, 0.0, 1.0])
    vaa, vbb, vab = ga @ cov @ ga, gb @ cov @ gb, ga @ cov @ gb
    m = a / b
    se = math.sqrt(vaa / b**2 - 2 * a * vab / b**3 + a**2 * vbb / b**4)
    q = stats.norm.ppf(0.975)
    # Fieller's roots of (a - rho b)^2 = q^2 (vaa - 2 rho vab + rho^2 vbb)
    quad = [b**2 - q**2 * vbb, -2 * (a * b - q**2 * vab), a**2 - q**2 * vaa]
    lo, hi = sorted(np.roots(quad).real)

    table = parallel.relative_potency(lines[("F",)], lines[("M",)])
    assert table.loc["delta", "value"] == pytest.approx(m, rel=1e-6)
    assert table.loc["delta", "stderr"] == pytest.approx(se, rel=1e-4)
    assert table.loc["delta", "lower"] == pytest.approx(m - q * se, rel=1e-4)
    assert table.loc["fieller", "lower"] == pytest.approx(lo, rel=1e-4)
    assert table.loc["fieller", "upper"] == pytest.approx(hi, rel=1e-4)

    potency = parallel.relative_potency(lines[("F",)], lines[("M",)], base=2)
    assert potency.loc["fieller", "value"] == pytest.approx(2**m, rel=1e-6)
    assert potency.loc["fieller", "lower"] == pytest.approx(2**lo, rel=1e-4)
    assert potency.loc["fieller", "upper"] == pytest.approx(2**hi, rel=1e-4)
    assert potency.loc["delta", "stderr"] == pytest.approx(
        2**m * math.log(2) * se, rel=1e-4
    )


def test_fieller_is_unbounded_for_a_slope_not_significant():
    assert parallel.fieller(1.0, 0.1, 0.01, 0.01, 0.0, 1.96) == (-math.inf, math.inf)


def test_relative_potency_needs_one_parallel_fit():
    separate = scurve.fit(BUDWORM, "sigmoid", x="ldose", y="dead", trials="total",
                          by="sex")  # fmt: skip
    with pytest.raises(InputError, match="parallel-line fit"):
        parallel.relative_potency(separate[("F",)], separate[("M",)])
    with pytest.raises(InputError, match="share='scale'"):
        parallel.parallelism(separate)
    least_squares = scurve.fit(BUDWORM, "sigmoid", x="ldose", y="dead", by="sex",
                               share="scale")  # fmt: skip
    with pytest.raises(InputError, match="binomial fit"):
        parallel.relative_potency(least_squares[("F",)], least_squares[("M",)])
    with pytest.raises(InputError, match="share='scale'"):
        parallel.parallelism(least_squares)


@pytest.mark.parametrize("base", [1.0, 0.0, -2.0, math.nan])
def test_relative_potency_refuses_a_bad_base(lines, base):
    with pytest.raises(OptionError, match="base"):
        parallel.relative_potency(lines[("F",)], lines[("M",)], base=base)
