"""Fisher scoring (IRLS) of the binomial sigmoid with plateaus at 0 and 1:
the ``glm`` path (scurve.fitters.glm) gives the lmfit path's estimates,
Fisher standard errors, deviance and statistics, one curve or many, and
says when the data are separated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scurve
from scurve.analysis import binary
from scurve.fitters.engine import fit_groups
from scurve.fitters.glm import SEPARATED
from scurve.fitters.options import FitOptions
from scurve.fitters.plan import plan
from scurve.inference.likelihoods import Binomial
from scurve.models.sigmoid import SigmoidModel

BEETLES = Path(__file__).parents[1] / "data" / "beetles.csv"
LINKED = ["logistic", "erf", "cloglog", "gompertz", "arctan"]
PLATEAUS = {"bottom": 0.0, "top": 1.0}
TOL = 1e-6


def _both(table, **kws):
    """The same binomial fit by the default (glm) and the lmfit path."""
    return [scurve.fit(table, "sigmoid", engine=e, **kws) for e in ("auto", "lmfit")]


def _same(ours, theirs):
    mine, ref = binary.coefficients(ours), binary.coefficients(theirs)
    cols = ["value", "stderr"]
    np.testing.assert_allclose(mine[cols], ref[cols], rtol=TOL)
    st, rst = binary.binary_statistics(ours), binary.binary_statistics(theirs)
    for name in ("deviance", "null_deviance", "loglik", "aic", "bic", "pearson_chi2"):
        assert st[name] == pytest.approx(rst[name], rel=TOL), name
    for name in ("center", "scale"):
        assert ours.params[name].stderr == pytest.approx(
            theirs.params[name].stderr, rel=TOL
        )
    assert ours.status == theirs.status == "ok"


def test_a_binomial_glm_is_planned_for_fisher_scoring():
    model = binary.binary_model(SigmoidModel("logistic"))
    options = FitOptions(fix=PLATEAUS, trials=True)
    route = plan(model, Binomial(), options, grouped=False)
    assert route.path == "glm"
    # freed plateaus, profile intervals, starts or lmfit: not a plain GLM
    for other in (
        FitOptions(fix={"top": 1.0}, trials=True),
        FitOptions(fix=PLATEAUS, trials=True, ci="profile"),
        FitOptions(fix=PLATEAUS, trials=True, init={"center": 1.0}),
        FitOptions(fix=PLATEAUS, trials=True, bounds={"scale": (0.0, 9.0)}),
        FitOptions(fix=PLATEAUS, trials=True, engine="lmfit"),
    ):
        assert plan(model, Binomial(), other, grouped=False).path == "lmfit"


@pytest.mark.parametrize("shape", LINKED)
def test_beetles_every_link_as_the_lmfit_path(shape):
    ours, theirs = _both(BEETLES, shape=shape, x="dose", y="killed", trials="exposed")
    _same(ours, theirs)
    assert "evaluations" in ours.message


def test_seeded_zero_one_rows_as_the_lmfit_path():
    rng = np.random.default_rng(5)
    x = rng.normal(size=2000)
    y = (rng.random(x.size) < 1 / (1 + np.exp(0.3 - 1.2 * x))).astype(float)
    table = pd.DataFrame({"x": x, "y": y})
    _same(*_both(table, x="x", y="y", trials=1))


def test_seeded_grouped_counts_probit_as_the_lmfit_path():
    rng = np.random.default_rng(11)
    x = np.linspace(-2, 3, 9)
    n = rng.integers(10, 40, x.size)
    k = rng.binomial(n, 1 / (1 + np.exp(-(x - 0.4) / 0.7)))
    table = pd.DataFrame({"x": x, "k": k, "n": n})
    _same(*_both(table, shape="erf", x="x", y="k", trials="n"))


def _quantal(curves: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = np.tile(np.linspace(-2, 2, 8), curves)
    center = np.repeat(rng.normal(0, 0.5, curves), 8)
    scale = np.repeat(rng.uniform(0.3, 0.8, curves), 8)
    p = 1 / (1 + np.exp(-(x - center) / scale))
    return pd.DataFrame(
        {"curve": np.repeat(np.arange(curves), 8), "x": x,
         "k": rng.binomial(20, p), "n": 20}
    )  # fmt: skip


def test_grouped_fits_equal_the_fits_one_by_one():
    table = _quantal(12)
    fits = scurve.fit(table, "sigmoid", x="x", y="k", trials="n", by="curve")
    for (key,), fitted in fits.items():
        one = table[table["curve"] == key]
        alone = scurve.fit(one, "sigmoid", x="x", y="k", trials="n", engine="lmfit")
        if alone.status != "ok":
            continue
        assert fitted.status == "ok"
        for name in ("center", "scale"):
            assert fitted.params[name].value == pytest.approx(
                alone.params[name].value, rel=TOL, abs=1e-7
            )
            assert fitted.params[name].stderr == pytest.approx(
                alone.params[name].stderr, rel=TOL
            )
        assert fitted.chisqr == pytest.approx(alone.chisqr, rel=TOL)


def test_separated_data_say_so():
    table = pd.DataFrame({"x": np.arange(8.0), "k": [0, 0, 0, 0, 5, 5, 5, 5], "n": 5})
    fitted = scurve.fit(table, "sigmoid", x="x", y="k", trials="n")
    assert fitted.status == "not_converged"
    assert "fitted probabilities numerically 0 or 1 occurred" in fitted.message
    assert SEPARATED in fitted.message


def test_separated_group_among_others_keeps_its_status():
    table = _quantal(3)
    table.loc[table["curve"] == 1, "k"] = [0, 0, 0, 0, 20, 20, 20, 20]
    fits = scurve.fit(table, "sigmoid", x="x", y="k", trials="n", by="curve")
    status = {key[0]: f.status for key, f in fits.items()}
    assert status[1] == "not_converged"
    assert "numerically 0 or 1" in fits[(1,)].message
    assert status[0] == status[2] == "ok"


def test_too_few_steps_is_not_converged():
    model = binary.binary_model(SigmoidModel("logistic"))
    x = np.linspace(-2, 2, 8)
    y = np.array([1, 2, 5, 9, 12, 15, 18, 19]) / 20
    fits = fit_groups(
        model, {(): (x, y, np.full(8, 20.0))}, [],
        FitOptions(fix=PLATEAUS, trials=True, max_nfev=2),
    )  # fmt: skip
    fitted = fits[()]
    assert fitted.status == "not_converged"
    assert "Fisher-scoring steps" in fitted.message


def test_a_refused_group_fails_and_the_others_are_fitted():
    table = _quantal(2)
    table.loc[table["curve"] == 0, "k"] = 7  # constant proportion
    fits = scurve.fit(table, "sigmoid", x="x", y="k", trials="n", by="curve")
    assert fits[(0,)].status == "failed"
    assert fits[(1,)].status == "ok"
