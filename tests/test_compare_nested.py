"""``scurve compare --models hill,hill5`` prints the extra-sum-of-squares F
test of each nested pair (Prism's "compare models"; drc's ``anova``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.analysis import dose
from scurve.cli import main
from scurve.models import get_model

ROOT = Path(__file__).resolve().parents[1]
RYEGRASS = ROOT / "data" / "ryegrass.csv"
LETTUCE = ROOT / "data" / "lettuce.csv"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def test_hill_within_hill5_is_f_tested():
    code, out, err = run("compare", RYEGRASS, "--models", "hill,hill5", "--x",
                         "conc", "--y", "rootl")  # fmt: skip
    assert code == 0, err
    reduced = scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl", ci="none")
    full = scurve.fit(RYEGRASS, model="hill5", x="conc", y="rootl", ci="none")
    expected = scurve.f_test(reduced, full)
    line = out.strip().splitlines()[-1]
    assert line.startswith("F test: hill within hill5 (asymmetry = 1): F = ")
    assert (
        f"F = {expected['F']:.4g} on 1 and 19 df, p = {expected['p_value']:.4g}" in line
    )
    code, doc, _ = run("compare", RYEGRASS, "--models", "hill,hill5", "--x",
                       "conc", "--y", "rootl", "--format", "json")  # fmt: skip
    test = json.loads(doc)["groups"][0]["f_tests"][0]
    assert (test["reduced"], test["full"]) == ("hill", "hill5")
    assert test["p_value"] == pytest.approx(expected["p_value"], rel=1e-6)


def test_hill_within_brain_cousens_tests_hormesis():
    """drc's ``anova(lettuce.m1, lettuce.m2)`` for LL.4 against BC.5."""
    code, out, err = run("compare", LETTUCE, "--models", "hill,brain_cousens",
                         "--x", "conc", "--y", "weight")  # fmt: skip
    assert code == 0, err
    assert "F test: hill within brain_cousens (hormesis = 0): F = " in out


def test_models_that_do_not_nest_get_no_test():
    code, out, _ = run("compare", RYEGRASS, "--models", "hill,weibull2", "--x",
                       "conc", "--y", "rootl")  # fmt: skip
    assert code == 0
    assert "F test" not in out


@pytest.mark.parametrize(
    ("reduced", "full", "within"),
    [
        ("hill", "hill5", "asymmetry = 1"),
        ("hill", "brain_cousens", "hormesis = 0"),
        ("hill5", "hill", None),
        ("weibull2", "hill5", None),
        ("hill", "weibull2", None),
    ],
)
def test_nesting(reduced, full, within):
    assert dose.nesting(get_model(reduced), get_model(full)) == within
    log = dose.nesting(get_model("hill", log_dose=True), get_model("hill5"))
    assert log is None


# ------------------------------------------------------------------ shared vs separate


@pytest.fixture(scope="module")
def two_drugs(tmp_path_factory):
    """Synthetic (seed 3): two falling 4PL curves, bottom 1, top 10, slope
    -1.5, EC50s 10**0.5 (A) and 10**0.9 (B), noise sd 0.3, in triplicate."""
    model = get_model("hill")
    rng = np.random.default_rng(3)
    x = np.repeat([0, 0.1, 0.3, 1, 3, 10, 30, 100.0], 3)
    frame = pd.concat(
        pd.DataFrame({
            "dose": x,
            "response": model.function(x, 1.0, 10.0, log_ec50, -1.5)
            + rng.normal(0, 0.3, x.size),
            "drug": drug,
        })
        for drug, log_ec50 in (("A", 0.5), ("B", 0.9))
    )  # fmt: skip
    path = tmp_path_factory.mktemp("compare") / "two.csv"
    frame.to_csv(path, index=False)
    return path


def test_compare_share_tests_shared_against_separate(two_drugs):
    """drc's ``anova(m_shared, m_separate)``: common plateaus against four
    parameters per drug."""
    code, out, err = run("compare", two_drugs, "--models", "hill,hill5", "--x",
                         "dose", "--y", "response", "--by", "drug", "--share",
                         "bottom,top")  # fmt: skip
    assert code == 0, err
    separate = scurve.fit(two_drugs, model="hill", x="dose", y="response",
                          by="drug", ci="none")  # fmt: skip
    shared = scurve.fit(two_drugs, model="hill", x="dose", y="response",
                        by="drug", share=["bottom", "top"], ci="none")  # fmt: skip
    expected = dose.shared_test(separate, shared)
    rss1 = sum(f.chisqr for f in separate.values())
    assert expected["F"] == pytest.approx(
        ((shared.joint.chisqr - rss1) / 2) / (rss1 / 40), rel=1e-9
    )
    line = next(r for r in out.splitlines() if r.startswith("Shared test: hill,"))
    assert line == (
        f"Shared test: hill, bottom,top shared against separate: F = "
        f"{expected['F']:.4g} on 2 and 40 df, p = {expected['p_value']:.4g}"
    )
    assert any(r.startswith("Shared test: hill5, bottom,top") for r in out.splitlines())


def test_compare_share_needs_groups_and_known_parameters(two_drugs):
    code, out, err = run("compare", RYEGRASS, "--models", "hill,hill5", "--x",
                         "conc", "--y", "rootl", "--share", "top")  # fmt: skip
    assert (code, out) == (2, "")
    assert "--share needs groups: give --by as well" in err
    code, out, err = run("compare", two_drugs, "--models", "hill,sigmoid", "--x",
                         "dose", "--y", "response", "--by", "drug",
                         "--share", "log_ec50")  # fmt: skip
    assert (code, out) == (2, "")
    assert "sigmoid has no parameter 'log_ec50'" in err
