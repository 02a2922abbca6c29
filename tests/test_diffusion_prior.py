"""Pre-launch forecasting from analogues: Gaussian priors on the Bass p and q."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import optimize

from scurve.cli import main
from scurve.fitters.engine import fit_curve
from scurve.models import get_model
from scurve.models.diffusion import BassModel, bass_increment, parse_prior

TRUTH = {"m": 1e5, "p": 0.01, "q": 0.4}
#: an analogous product's values: p 20% high, q 5% low, known to about 30%
ANALOGUE = {"p": (0.012, 0.004), "q": (0.38, 0.1)}


def early_sales(seed: int, periods: int = 5, noise: float = 0.05):
    """Synthetic: the first periods of a launch, well before the peak (t = 9)."""
    rng = np.random.default_rng(seed)
    t = np.arange(1.0, periods + 1.0)
    exact = TRUTH["m"] * bass_increment(t - 1, t, TRUTH["p"], TRUTH["q"])
    return t, exact * (1 + noise * rng.normal(size=t.size))


def test_prior_fit_is_the_penalized_least_squares_optimum():
    # independent: m alone at the prior means gives s0; then scipy minimizes
    # sum (y - curve)^2 + sum (s0 (theta - mu)/tau)^2 directly
    t, y = early_sales(0)
    model = BassModel(adoptions="per-period", prior=ANALOGUE)
    result = fit_curve(model, t, y)
    assert result.status == "ok"

    def curve(m, p, q):
        return m * bass_increment(t - 1, t, p, q)

    unit = curve(1.0, 0.012, 0.38)
    m0 = unit @ y / (unit @ unit)
    s0 = math.sqrt(np.sum((y - m0 * unit) ** 2) / (t.size - 1))
    assert model.prior_scale == pytest.approx(s0, rel=1e-12)

    def residuals(theta):
        m, p, q = theta
        penalty = [(p - 0.012) / 0.004, (q - 0.38) / 0.1]
        return np.concatenate([y - curve(m, p, q), s0 * np.array(penalty)])

    ours = np.array([result.params[n].value for n in ("m", "p", "q")])
    direct = optimize.least_squares(
        residuals, ours * [1.1, 0.9, 1.05], method="trf", x_scale="jac", xtol=1e-14
    )
    np.testing.assert_allclose(ours, direct.x, rtol=1e-5)
    assert np.sum(residuals(ours) ** 2) <= 2 * direct.cost * (1 + 1e-9)
    # the residual vector carries the two pseudo-observations
    assert result.residual.size == t.size + 2
    assert result.nfree == t.size + 2 - 3


def test_tight_priors_are_fixed_values_and_loose_priors_are_no_priors():
    t, y = early_sales(1)
    fixed = fit_curve(
        BassModel(adoptions="per-period"), t, y, fix={"p": 0.012, "q": 0.38}
    )
    tight = fit_curve(
        BassModel(
            adoptions="per-period", prior={"p": (0.012, 1e-7), "q": (0.38, 1e-6)}
        ),
        t,
        y,
    )
    assert tight.params["m"].value == pytest.approx(fixed.params["m"].value, rel=1e-5)
    # the same information on m; t quantiles differ by the 2 pseudo-points
    assert tight.params["m"].stderr == pytest.approx(fixed.params["m"].stderr, rel=0.05)
    # loose priors on a full history (where the data alone identify m)
    t, y = early_sales(1, periods=20)
    free = fit_curve(BassModel(adoptions="per-period"), t, y)
    loose = fit_curve(
        BassModel(adoptions="per-period", prior={"p": (0.012, 1e3), "q": (0.38, 1e4)}),
        t,
        y,
    )
    for name in ("m", "p", "q"):
        assert loose.params[name].value == pytest.approx(
            free.params[name].value, rel=1e-3
        )


def test_pre_launch_m_from_five_periods_and_an_analogue():
    # five periods before the peak: alone they hardly pin m down; with the
    # analogue's p and q the interval on m covers the truth and is far narrower
    covered, runs = 0, 16
    for seed in range(runs):
        t, y = early_sales(10 + seed)
        row = fit_curve(BassModel(adoptions="per-period", prior=ANALOGUE), t, y)
        covered += (
            row.table.loc["m", "lower"] <= TRUTH["m"] <= row.table.loc["m", "upper"]
        )
    assert covered >= runs - 2
    for seed in (10, 11, 12):  # seeds whose free fits converge quickly
        t, y = early_sales(seed)
        widths = []
        for prior in (None, ANALOGUE):
            row = fit_curve(BassModel(adoptions="per-period", prior=prior), t, y)
            widths.append(row.table.loc["m", "upper"] - row.table.loc["m", "lower"])
        assert widths[1] < 0.7 * widths[0], (seed, widths)


def test_priors_round_trip_through_options_and_are_checked():
    model = get_model("bass", adoptions="per-period", prior=ANALOGUE)
    again = get_model("bass", **model.options)
    assert again.prior == model.prior == {"p": (0.012, 0.004), "q": (0.38, 0.1)}
    assert "p~N(0.012, 0.004)" in again.label
    # the vectorized path's plain least squares would drop them
    assert again.penalized
    for prior, message in [
        ({"launch": (1.0, 1.0)}, "no parameter 'launch'"),
        ({"p": (0.01, 0.0)}, "sd > 0"),
        ({"q": (math.nan, 1.0)}, "finite mean"),
        ({"p": 0.01}, "give \\(mean, sd\\)"),
    ]:
        with pytest.raises(ValueError, match=message):
            BassModel(prior=prior)
    with pytest.raises(ValueError, match="needs estimator 'nls'"):
        BassModel(adoptions="per-period", estimator="ml", prior=ANALOGUE)
    assert parse_prior(" p = 0.03 : 0.01 ") == ("p", (0.03, 0.01))
    with pytest.raises(ValueError, match="NAME=MEAN:SD"):
        parse_prior("p=0.03")


@pytest.fixture
def early_csv(tmp_path: Path) -> Path:
    t, y = early_sales(2)
    path = tmp_path / "early.csv"
    pd.DataFrame({"year": 2000 + t, "sales": y}).to_csv(path, index=False)
    return path


def test_cli_prior_prints_m_with_its_interval(early_csv):
    args = ["fit", str(early_csv), "--model", "bass", "--x", "year", "--y", "sales"]
    args += ["--data", "per-period", "--prior", "p=0.012:0.004"]
    args += ["--prior", "q=0.38:0.1"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.stderr
    t, y = early_sales(2)
    expected = fit_curve(BassModel(adoptions="per-period", prior=ANALOGUE), t, y)
    line = next(r for r in result.stdout.splitlines() if r.split()[:1] == ["m"])
    value, _, lower, upper = map(float, line.split()[1:5])
    row = expected.table.loc["m"]
    assert value == pytest.approx(row["value"], rel=1e-5)
    assert (lower, upper) == pytest.approx((row["lower"], row["upper"]), rel=1e-5)
    assert "p~N(0.012, 0.004)" in result.stdout


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--prior", "p=0.01"], "NAME=MEAN:SD"),
        (["--prior", "k=1:2"], "no parameter 'k'"),
        (["--prior", "p=0.01:-1"], "sd > 0"),
        (["--prior", "p=0.01:0.1", "--estimator", "ols"], "needs estimator 'nls'"),
        (
            ["--model", "logistic", "--prior", "p=0.01:0.1"],
            "Invalid value for '--prior': prior is an option of bass, not of logistic",
        ),
    ],
)
def test_cli_bad_priors_exit_2_in_one_line(early_csv, extra, message):
    args = ["fit", str(early_csv), "--x", "year", "--y", "sales"]
    if "--model" not in extra:
        args += ["--model", "bass", "--data", "per-period"]
    result = CliRunner().invoke(main, args + extra)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
