"""``scurve potency``: relative potency (delta and Fieller) and the same-EC50
test from the command line, the numbers of ``dose.relative_potency`` and
``dose.same_ec50`` (issue 21, item 6)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
import scurve.models
from scurve.analysis import dose
from scurve.cli import main

ROOT = Path(__file__).resolve().parents[1]
SELENIUM = ROOT / "data" / "selenium.csv"
ALBA = ("--x", "dose", "--y", "response", "--by", "drug")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def two_drugs(tmp_path_factory):
    """Synthetic (seed 3): two falling 4PL curves, bottom 1, top 10, slope
    -1.5, EC50s 10**0.5 (A) and 10**0.9 (B), noise sd 0.3, doses in
    triplicate. (drc's S.alba, whose common-EC50 fit takes 12,000 steps at
    drc's tolerances, would make these tests slow.)"""
    model = scurve.models.get_model("hill")
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
    path = tmp_path_factory.mktemp("potency") / "two.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def alba(two_drugs):
    return scurve.fit(
        two_drugs, model="hill", x="dose", y="response", by="drug",
        share=["bottom", "top"],
    )  # fmt: skip


def test_potency_csv_is_relative_potency(alba, two_drugs):
    code, out, err = run("potency", two_drugs, *ALBA, "--share", "bottom,top",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    rows = pd.read_csv(io.StringIO(out))
    assert list(rows.columns) == [
        "group", "reference", "ec", "method", "value", "stderr", "lower", "upper",
    ]  # fmt: skip
    assert rows["group"].tolist() == ["drug=B"] * 2
    assert rows["reference"].tolist() == ["drug=A"] * 2
    keys = list(alba)
    expected = dose.relative_potency(alba[keys[0]], alba[keys[1]])
    for _, row in rows.iterrows():
        for col in ("value", "stderr", "lower", "upper"):
            assert row[col] == pytest.approx(expected.loc[row["method"], col], 1e-6)


def test_potency_table_names_the_test_and_json_carries_it(alba, two_drugs):
    code, out, _ = run("potency", two_drugs, *ALBA, "--share", "bottom,top")
    assert code == 0
    test = dose.same_ec50(alba)
    last = out.strip().splitlines()[-1]
    assert last.startswith("same EC50: F (extra sum of squares) = ")
    assert f"p = {test['p_value']:.4g}" in last
    code, doc, _ = run("potency", two_drugs, *ALBA, "--share", "bottom,top",
                       "--format", "json")  # fmt: skip
    document = json.loads(doc)
    assert document["same_ec50"]["F"] == pytest.approx(test["F"], rel=1e-6)
    assert document["potency"][0]["method"] == "delta"


def test_potency_of_a_parallel_quantal_assay():
    """Selenium forms 2-4 against form 1, a common slope: binomial, normal
    quantiles, the likelihood-ratio test of one EC50."""
    frame = pd.read_csv(SELENIUM)
    frame = frame[frame["conc"] > 0]
    fits = scurve.fit(
        frame, model="hill", x="conc", y="dead", trials="total", by="type",
        share="hill", fix={"bottom": 0, "top": 1},
    )  # fmt: skip
    code, out, err = run(
        "potency", SELENIUM, "--x", "conc", "--y", "dead", "--trials", "total",
        "--by", "type", "--share", "hill", "--fix", "bottom=0", "--fix", "top=1",
        "--format", "json",
    )  # fmt: skip
    assert code == 0, err
    document = json.loads(out)
    keys = list(fits)
    first = [r for r in document["potency"] if r["group"] == "type=2"]
    expected = dose.relative_potency(fits[keys[0]], fits[keys[1]])
    assert first[0]["value"] == pytest.approx(expected.loc["delta", "value"], 1e-6)
    assert first[1]["lower"] == pytest.approx(expected.loc["fieller", "lower"], 1e-5)
    assert document["same_ec50"]["test"] == "likelihood ratio (chi-square)"


def test_reference_names_the_group(two_drugs):
    code, out, _ = run("potency", two_drugs, *ALBA, "--share", "bottom,top",
                       "--reference", "B", "--format", "csv")  # fmt: skip
    assert code == 0
    rows = pd.read_csv(io.StringIO(out))
    assert rows["reference"].tolist() == ["drug=B"] * 2
    assert rows["group"].tolist() == ["drug=A"] * 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--reference", "nope"), "Invalid value for '--reference': no group 'nope' "
         "(the groups: A, B)"),
        (("--ec", "100"), "Invalid value for '--ec': ECx needs 0 < x < 100, got 100"),
        (("--model", "sigmoid"), "Invalid value for '--model': relative potency "
         "needs a dose-response fit"),
    ],
)  # fmt: skip
def test_potency_refuses_bad_options(args, message, two_drugs):
    code, out, err = run("potency", two_drugs, *ALBA, *args)
    assert (code, out) == (2, "")
    assert err.startswith(f"Error: {message}")
    assert len(err.strip().splitlines()) == 1


def test_potency_needs_two_groups(two_drugs):
    code, out, err = run("potency", two_drugs, "--x", "Dose", "--y", "DryMatter")
    assert (code, out) == (2, "")
    assert "Missing option '--by'" in err
