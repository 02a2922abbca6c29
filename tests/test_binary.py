"""Binary outcomes: sigmoid as a binomial GLM (scurve.analysis.binary).

Reference: Bliss's beetles (Dobson & Barnett, 3rd ed., Table 7.2), R glm's
printed coefficients, standard errors and deviances, reproduced by
statsmodels' GLM (which agrees with R to every printed digit).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.analysis import binary
from scurve.cli import main

BEETLES = Path(__file__).parents[1] / "data" / "beetles.csv"

#: R: glm(cbind(killed, exposed - killed) ~ dose, binomial(link)), printed.
R_GLM = {
    # shape: (intercept, se, slope, se, residual deviance, AIC)
    "logistic": (-60.717, 5.181, 34.270, 2.912, 11.232, 41.43),
    "erf": (-34.935, 2.648, 19.728, 1.487, 10.120, 40.32),
    "cloglog": (-39.572, 3.240, 22.041, 1.799, 3.446, 33.64),
}


def beetles(shape: str, **kws):
    return scurve.fit(
        BEETLES, "sigmoid", shape=shape, x="dose", y="killed", trials="exposed",
        **kws,
    )  # fmt: skip


@pytest.mark.parametrize("shape", sorted(R_GLM))
def test_beetles_as_r_glm_prints(shape):
    b0, se0, b1, se1, deviance, aic = R_GLM[shape]
    fitted = beetles(shape)
    table = binary.coefficients(fitted)
    assert table.loc["intercept", "value"] == pytest.approx(b0, abs=5e-4)
    assert table.loc["slope", "value"] == pytest.approx(b1, abs=5e-4)
    assert table.loc["intercept", "stderr"] == pytest.approx(se0, abs=5e-4)
    assert table.loc["slope", "stderr"] == pytest.approx(se1, abs=5e-4)
    st = binary.binary_statistics(fitted)
    assert st["deviance"] == pytest.approx(deviance, abs=5e-4)
    assert st["null_deviance"] == pytest.approx(284.202, abs=5e-4)
    assert st["aic"] == pytest.approx(aic, abs=5e-3)
    assert (st["df_residual"], st["df_null"]) == (6, 7)
    # the plateaus are held at 0 and 1 by default
    assert fitted.params["bottom"].value == 0
    assert not fitted.params["bottom"].vary
    assert fitted.params["top"].value == 1
    assert not fitted.params["top"].vary


def test_derived_rows_in_the_fit_table():
    table = beetles("logistic").table
    assert table.loc["intercept", "value"] == pytest.approx(-60.7175, abs=1e-4)
    assert table.loc["slope", "stderr"] == pytest.approx(2.9121, abs=1e-4)


statsmodels = pytest.importorskip("statsmodels.api")

LINKS = {
    "logistic": statsmodels.families.links.Logit,
    "erf": statsmodels.families.links.Probit,
    "cloglog": statsmodels.families.links.CLogLog,
    "arctan": statsmodels.families.links.Cauchy,
}


@pytest.mark.parametrize("shape", sorted(LINKS))
def test_seeded_bernoulli_as_statsmodels(shape):
    rng = np.random.default_rng(23)
    x = rng.normal(size=400)
    eta = -0.5 + 1.5 * x
    y = (rng.random(400) < LINKS[shape]().inverse(eta)).astype(float)
    fitted = scurve.fit(x=x, y=y, trials=1, model="sigmoid", shape=shape)
    ours = binary.coefficients(fitted)
    glm = statsmodels.GLM(
        y, statsmodels.add_constant(x),
        family=statsmodels.families.Binomial(LINKS[shape]()),
    ).fit()  # fmt: skip
    np.testing.assert_allclose(
        ours.loc[["intercept", "slope"], "value"], glm.params, rtol=1e-5
    )
    np.testing.assert_allclose(
        ours.loc[["intercept", "slope"], "stderr"], glm.bse, rtol=1e-4
    )
    st = binary.binary_statistics(fitted)
    assert st["deviance"] == pytest.approx(glm.deviance, rel=1e-8)
    assert st["pearson_chi2"] == pytest.approx(glm.pearson_chi2, rel=1e-5)
    assert np.isnan(st["gof_p"])  # 0/1 rows: no goodness-of-fit test


def test_issue_example_recovers_the_truth_not_least_squares():
    # the issue's 500 Bernoulli outcomes: least squares gave center 0.448
    rng = np.random.default_rng(5)
    x = rng.normal(size=500) * 2
    y = (rng.random(500) < scurve.expit(-0.5 + 1.5 * x)).astype(float)
    fitted = scurve.fit(x=x, y=y, trials=np.ones(500), model="sigmoid")
    glm = statsmodels.Logit(y, statsmodels.add_constant(x)).fit(disp=0)
    ours = binary.coefficients(fitted)
    np.testing.assert_allclose(
        ours.loc[["intercept", "slope"], "value"], glm.params, rtol=1e-6
    )


def test_profile_intervals_end_where_the_deviance_rises_by_chi2():
    fitted = beetles("logistic")
    table = binary.coefficients(fitted, ed=[50], ci="profile")
    lo, hi = table.loc["ed50", ["lower", "upper"]]
    wald = binary.coefficients(fitted, ed=[50]).loc["ed50"]
    assert lo < table.loc["ed50", "value"] < hi
    assert lo != pytest.approx(wald["lower"], abs=1e-6)
    # at an end, the slope's profile: deviance min over intercept = min + 3.84
    lo_slope = table.loc["slope", "lower"]
    best = binary.binary_statistics(fitted)["deviance"]
    refit = scurve.fit(
        BEETLES, "sigmoid", x="dose", y="killed", trials="exposed",
        fix={"scale": 1 / lo_slope},
    )  # fmt: skip
    rise = binary.binary_statistics(refit)["deviance"] - best
    assert rise == pytest.approx(3.841459, abs=1e-4)


def test_ed_levels_are_the_covariate_at_those_probabilities():
    fitted = beetles("cloglog")
    ed = binary.effective_dose(fitted, [10, 50, 90])
    p = fitted.model.eval(fitted.params, x=ed["value"].to_numpy())
    np.testing.assert_allclose(p, [0.1, 0.5, 0.9], rtol=1e-10)


def test_free_bottom_is_abbott():
    fitted = beetles("logistic", free="bottom")
    assert fitted.params["bottom"].vary
    assert 0 < fitted.params["bottom"].value < 1
    assert not fitted.params["top"].vary


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--free", "bottom"],
            "Invalid value for '--free': frees the plateaus of a "
            "binomial fit: give trials",
        ),
        (
            ["--trials", "exposed", "--free", "center"],
            "Invalid value for '--free': "
            "'center' is not a plateau: bottom or top can be freed",
        ),
        (
            ["--trials", "0"],
            "Invalid value for '--trials': 0 is neither a column "
            "nor a whole number > 0",
        ),
        (
            ["--trials", "2.5"],
            "Invalid value for '--trials': 2.5 is neither a "
            "column nor a whole number > 0",
        ),
        (
            ["--trials", "-1"],
            "Invalid value for '--trials': -1 is neither a "
            "column nor a whole number > 0",
        ),
        (["--trials", "nocol"], "no trials column 'nocol'"),
        (["--trials", "10"], "row 3: 10 is less than the 13 responders"),
    ],
)
def test_cli_refuses_bad_binary_options(args, message):
    before = digest(BEETLES)
    result = CliRunner().invoke(
        main, ["fit", str(BEETLES), "--model", "sigmoid", "--x", "dose", "--y",
               "killed", *args],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert digest(BEETLES) == before


def test_cli_fits_the_probit_glm():
    result = CliRunner().invoke(
        main, ["fit", str(BEETLES), "--model", "sigmoid", "--shape", "erf", "--x",
               "dose", "--y", "killed", "--trials", "exposed", "--format", "csv"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(__import__("io").StringIO(result.output))
    assert frame["intercept"].iloc[0] == pytest.approx(-34.935, abs=5e-4)
    assert frame["slope"].iloc[0] == pytest.approx(19.728, abs=5e-4)


# ------------------------------------------------------------ the command line


def cli_fit(*args: str):
    return CliRunner().invoke(
        main, ["fit", str(BEETLES), "--model", "sigmoid", "--x", "dose", "--y",
               "killed", "--trials", "exposed", *args],
    )  # fmt: skip


def cli_frame(*args: str) -> pd.DataFrame:
    result = cli_fit(*args, "--format", "csv")
    assert result.exit_code == 0, result.output
    return pd.read_csv(__import__("io").StringIO(result.output))


@pytest.mark.parametrize("shape", sorted(R_GLM))
def test_cli_standard_errors_are_r_glm_fisher(shape):
    # R's glm: the expected information (probit, cloglog differ from the
    # observed information in the third digit)
    _, se0, _, se1, _, _ = R_GLM[shape]
    frame = cli_frame("--shape", shape)
    assert frame["intercept_stderr"].iloc[0] == pytest.approx(se0, abs=5e-4)
    assert frame["slope_stderr"].iloc[0] == pytest.approx(se1, abs=5e-4)


def test_cli_prints_glm_statistics():
    result = cli_fit("--shape", "cloglog")
    assert result.exit_code == 0, result.output
    fitted = beetles("cloglog")
    st = binary.binary_statistics(fitted)
    line = next(s for s in result.output.splitlines() if "null deviance" in s)
    assert line.strip() == (
        f"deviance {st['deviance']:.6g} on 6 df, null deviance "
        f"{st['null_deviance']:.6g} on 7 df, Pearson chi2 "
        f"{st['pearson_chi2']:.6g}, goodness of fit p = {st['gof_p']:.3g}"
    )
    assert "null deviance 284.202 on 7 df" in line
    frame = cli_frame("--shape", "cloglog")
    assert frame["null_deviance"].iloc[0] == pytest.approx(284.202, abs=5e-4)
    assert frame["pearson_chi2"].iloc[0] == pytest.approx(st["pearson_chi2"])
    assert frame["gof_p"].iloc[0] == pytest.approx(st["gof_p"])


@pytest.mark.parametrize(("method", "levels"), [("delta", (10, 50, 90)),
                                              ("profile", (90,))])  # fmt: skip
def test_cli_ec_gives_the_covariate_at_those_probabilities(method, levels):
    marks = ",".join(map(str, levels))
    frame = cli_frame("--shape", "cloglog", "--ec", marks, "--ec-ci", method)
    ours = binary.effective_dose(beetles("cloglog"), levels, ci=method)
    for level, (_, row) in zip(levels, ours.iterrows(), strict=True):
        assert frame[f"ec{level}"].iloc[0] == pytest.approx(row["value"], rel=1e-9)
        assert frame[f"ec{level}_lower"].iloc[0] == pytest.approx(
            row["lower"], rel=1e-6
        )
        assert frame[f"ec{level}_upper"].iloc[0] == pytest.approx(
            row["upper"], rel=1e-6
        )


def test_cli_profile_intervals_of_a_binomial_fit():
    frame = cli_frame("--ci", "profile")
    ours = binary.coefficients(beetles("logistic"), ci="profile")
    for name in ("intercept", "slope", "center", "scale"):
        for end in ("lower", "upper"):
            assert frame[f"{name}_{end}"].iloc[0] == pytest.approx(
                ours.loc[name, end], rel=1e-4
            ), (name, end)
    # the slope's lower end: the deviance minimized over the intercept rises
    # there by the chi-square quantile (MASS's confint.glm)
    best = binary.binary_statistics(beetles("logistic"))["deviance"]
    held = beetles("logistic", fix={"scale": 1 / frame["slope_lower"].iloc[0]})
    rise = binary.binary_statistics(held)["deviance"] - best
    assert rise == pytest.approx(3.841459, abs=1e-3)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--ec", "0"], "Invalid value for '--ec': ECx needs 0 < x < 100, got 0"),
        (["--ec", "100"], "Invalid value for '--ec': ECx needs 0 < x < 100, got 100"),
        (["--ec", "50", "--ec-ci", "log"], "'--ec-ci': log ECx intervals are"),
    ],
)
def test_cli_refuses_bad_ec(args, message):
    before = digest(BEETLES)
    result = cli_fit(*args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert digest(BEETLES) == before


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("logistic", "ECx needs a dose-response fit (hill, hill5, weibull2), not"),
        ("sigmoid", "not sigmoid (or sigmoid with quantal data: trials)"),
    ],
)
def test_cli_refuses_ec_without_trials(model, message):
    result = CliRunner().invoke(
        main, ["fit", str(BEETLES), "--model", model, "--x", "dose", "--y",
               "killed", "--ec", "50"],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_profile_intervals_of_quantal_hill_are_of_the_deviance():
    # the other member of the class: hill on k of n, profiled on the
    # deviance with the chi-square limit (refused before issue 23)
    frame = pd.read_csv(BEETLES).assign(conc=lambda t: 10 ** t["dose"])
    kws = {"x": "conc", "y": "killed", "trials": "exposed",
           "fix": {"bottom": 0, "top": 1}}  # fmt: skip
    fitted = scurve.fit(frame, "hill", ci="profile", **kws)
    assert fitted.result_table.ci == "profile"
    lo = fitted.table.loc["hill", "lower"]
    held = scurve.fit(frame, "hill", **{**kws, "fix": {**kws["fix"], "hill": lo}})
    rise = held.result_table.stats["rss"][0] - fitted.result_table.stats["rss"][0]
    assert rise == pytest.approx(3.841459, abs=2e-3)
