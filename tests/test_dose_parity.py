"""Dose-response at drc parity from the command line (issue 21): ECx
intervals with one truth (``--ec-ci``), shared zero-dose controls."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.analysis import dose
from scurve.cli import main

ROOT = Path(__file__).resolve().parents[1]
RYEGRASS = ROOT / "data" / "ryegrass.csv"
SALBA = ROOT / "data" / "S.alba.csv"
RYE = ("--model", "hill", "--x", "conc", "--y", "rootl")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


# ------------------------------------------------------------------ ECx intervals


def test_ec_default_is_drc_delta_on_the_dose_scale():
    """drc's ``ED(ryegrass.m1, c(10, 50, 90), interval = "delta")`` prints
    IC10 1.46371 (0.18677) 1.07411-1.85331; the table says so in its header."""
    code, out, _ = run("fit", RYEGRASS, *RYE, "--ec", "10,50,90")
    assert code == 0
    header = out.splitlines()[0]
    assert "ECx: delta method on the dose scale" in header
    line = next(row for row in out.splitlines() if row.startswith("  ic10 "))
    assert line.split()[1:] == ["1.46371", "0.186772", "1.07411", "1.85331"]


@pytest.mark.parametrize("method", ["delta", "log", "profile"])
def test_ec_ci_gives_the_numbers_of_dose_ec(method):
    code, out, _ = run(
        "fit", RYEGRASS, *RYE, "--ec", "10,50,90", "--ec-ci", method, "--format",
        "csv",
    )  # fmt: skip
    assert code == 0
    row = pd.read_csv(io.StringIO(out)).iloc[0]
    fitted = scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl")
    table = dose.ec(fitted, [10, 50, 90], ci=method)
    for p in (10, 50, 90):
        for suffix, col in (("", "value"), ("_lower", "lower"), ("_upper", "upper")):
            assert row[f"ic{p}{suffix}"] == pytest.approx(
                table.loc[f"IC{p}", col], rel=1e-6
            )
    code, text, _ = run("fit", RYEGRASS, *RYE, "--ec", "10", "--ec-ci", method)
    assert f"; ECx: {HEADERS[method]})" in text.splitlines()[0]


HEADERS = {
    "delta": "delta method on the dose scale",
    "log": "delta method on the log-dose scale, mapped back",
    "profile": "profile likelihood on the log-dose scale, mapped back",
}


def test_ec_log_keeps_the_old_numbers():
    code, out, _ = run("fit", RYEGRASS, *RYE, "--ec", "10", "--ec-ci", "log")
    assert code == 0
    line = next(row for row in out.splitlines() if row.startswith("  ic10 "))
    assert line.split()[3:] == ["1.12165", "1.91008"]


def test_table_csv_and_json_use_one_name():
    """A falling curve's ECx is icX in the table, the CSV and the JSON alike;
    curves of both directions are ecX everywhere."""
    code, table, _ = run("fit", RYEGRASS, *RYE, "--ec", "10")
    assert code == 0
    _, csv, _ = run("fit", RYEGRASS, *RYE, "--ec", "10", "--format", "csv")
    _, doc, _ = run("fit", RYEGRASS, *RYE, "--ec", "10", "--format", "json")
    assert "  ic10 " in table
    assert "ic10" in pd.read_csv(io.StringIO(csv)).columns
    assert "ec10" not in pd.read_csv(io.StringIO(csv)).columns
    assert "ic10" in json.loads(doc)["groups"][0]["derived"]


def test_ec_ci_is_refused_without_ec_and_for_other_values():
    code, out, err = run("fit", RYEGRASS, *RYE, "--ec-ci", "log")
    assert (code, out) == (2, "")
    assert "--ec-ci needs --ec" in err
    code, _, err = run("fit", RYEGRASS, *RYE, "--ec", "10", "--ec-ci", "fieller")
    assert code == 2
    assert "'fieller' is not one of 'delta', 'log', 'profile'" in err


def test_fit_help_names_the_ec_methods():
    code, out, _ = run("fit", "--help")
    assert code == 0
    flat = " ".join(out.split())
    assert "--ec-ci [delta|log|profile]" in flat
    assert "profile for single fits, else delta" not in flat


# ------------------------------------------------------------------ shared controls

ALBA = ("--model", "hill", "--x", "Dose", "--y", "DryMatter", "--by", "Herbicide")


@pytest.fixture
def controls_apart(tmp_path):
    """S.alba with every zero-dose row in a group of its own (drc's acidiq
    keeps its controls as level 999 of the mixture factor)."""
    frame = pd.read_csv(SALBA)
    frame.loc[frame["Dose"] == 0, "Herbicide"] = "999"
    path = tmp_path / "alba.csv"
    frame.to_csv(path, index=False)
    return path, frame


def test_a_zero_dose_group_is_every_curves_controls(controls_apart):
    path, frame = controls_apart
    before = path.read_bytes()
    code, out, err = run("fit", path, *ALBA, "--format", "csv")
    assert code == 0, err
    assert err.strip() == (
        f"Warning: {path}: group Herbicide=999 has only zero doses: its 16 rows "
        "are the controls of every curve (2 curves), as drc's"
    )
    rows = pd.read_csv(io.StringIO(out))
    assert rows["Herbicide"].tolist() == ["Glyphosate", "Bentazone"]
    controls = frame[frame["Herbicide"] == "999"]
    for _, row in rows.iterrows():
        own = frame[frame["Herbicide"] == row["Herbicide"]]
        both = pd.concat([own, controls])
        alone = scurve.fit(both, model="hill", x="Dose", y="DryMatter")
        assert row["ec50"] == pytest.approx(alone.params["ec50"].value, rel=1e-6)
        assert row["n"] == len(both)
    assert path.read_bytes() == before


def test_controls_names_the_control_group(controls_apart, tmp_path):
    path, _ = controls_apart
    code, out, _ = run("fit", path, *ALBA, "--controls", "999", "--format", "csv")
    assert code == 0
    assert pd.read_csv(io.StringIO(out))["Herbicide"].tolist() == [
        "Glyphosate",
        "Bentazone",
    ]
    code, out, err = run("fit", path, *ALBA, "--controls", "none")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "Error: Invalid value for '--controls': no group 'none' (the groups: 999, "
        "Glyphosate, Bentazone)"
    )
    code, out, err = run("fit", path, *ALBA, "--controls", "Bentazone")
    assert (code, out) == (2, "")
    assert err.strip() == (
        "Error: Invalid value for '--controls': group 'Bentazone' is not a control "
        "group: its doses are not all zero (they go up to 640)"
    )
    code, _, err = run("fit", path, "--model", "hill", "--x", "Dose", "--y",
                       "DryMatter", "--controls", "999")  # fmt: skip
    assert code == 2
    assert "--controls needs groups: give --by as well" in err
    sigmoid = ("--model", "sigmoid", "--x", "Dose", "--y", "DryMatter")
    code, _, err = run("fit", path, *sigmoid, "--by", "Herbicide", "--controls", "9")
    assert code == 2
    assert "controls is an option of dose-response models" in err


def test_controls_from_python(controls_apart):
    path, _ = controls_apart
    with pytest.warns(UserWarning, match="only zero doses"):
        auto = scurve.fit(path, model="hill", x="Dose", y="DryMatter", by="Herbicide")
    with pytest.warns(UserWarning, match="only zero doses"):
        named = scurve.fit(
            path, model="hill", x="Dose", y="DryMatter", by="Herbicide", controls="999"
        )
    assert list(auto) == list(named) == [("Glyphosate",), ("Bentazone",)]


# ------------------------------------------------------------------ quantal, shared


def test_quantal_common_slope_is_the_binomial_likelihood():
    """--trials with --share hill (Finney's parallel probit/logit lines, drc's
    ``pmodels = list(~1, ~type - 1)``): the joint binomial MLE, standard
    errors of dispersion 1 (not scaled by the deviance per degree of
    freedom: three times too large before). The joint path's information is
    J'J of the deviance residuals, within 6% of the observed Hessian here;
    the joint Hessian is issue 20's."""
    frame = pd.read_csv(ROOT / "data" / "selenium.csv")
    frame = frame[frame["conc"] > 0]
    fits = scurve.fit(
        frame, model="hill", x="conc", y="dead", trials="total", by="type",
        share="hill", fix={"bottom": 0, "top": 1},
    )  # fmt: skip
    keys = list(fits)
    x = frame["conc"].to_numpy(float)
    k = frame["dead"].to_numpy(float)
    n = frame["total"].to_numpy(float)
    group = frame["type"].to_numpy()

    def nll(p):
        out = 0.0
        for i, key in enumerate(keys):
            m = group == key[0]
            z = p[0] * (np.log(x[m]) - p[1 + i] * np.log(10))
            lost = k[m] * np.logaddexp(0, -z) + (n[m] - k[m]) * np.logaddexp(0, z)
            out += np.sum(lost)
        return out

    p = np.array(
        [fits[keys[0]].params["hill"].value]
        + [fits[key].params["log_ec50"].value for key in keys]
    )
    h, size = 1e-4, p.size
    hess = np.empty((size, size))
    for i in range(size):
        for j in range(size):
            a, b = np.eye(size)[i] * h, np.eye(size)[j] * h
            hess[i, j] = (
                nll(p + a + b) - nll(p + a - b) - nll(p - a + b) + nll(p - a - b)
            ) / (4 * h * h)
    se = np.sqrt(np.diag(np.linalg.inv(hess)))
    assert fits[keys[0]].params["hill"].stderr == pytest.approx(se[0], rel=0.06)
    for i, key in enumerate(keys):
        assert fits[key].params["log_ec50"].stderr == pytest.approx(se[1 + i], rel=0.06)


@pytest.fixture(scope="module")
def selenium_parallel():
    frame = pd.read_csv(ROOT / "data" / "selenium.csv")
    frame = frame[frame["conc"] > 0]
    fits = scurve.fit(
        frame, model="hill", x="conc", y="dead", trials="total", by="type",
        share="hill", fix={"bottom": 0, "top": 1},
    )  # fmt: skip
    return frame, fits


def _deviance(x, k, n, p):
    with np.errstate(divide="ignore", invalid="ignore"):
        a = np.where(k > 0, k * np.log(k / (n * p)), 0.0)
        b = np.where(n > k, (n - k) * np.log((n - k) / (n * (1 - p))), 0.0)
    return 2 * float(np.sum(a + b))


def test_quantal_relative_potency_uses_normal_quantiles(selenium_parallel):
    """Binomial data have a known dispersion: drc's EDcomp then takes the
    normal quantile (1.96), not Student's t, for delta and Fieller alike."""
    _, fits = selenium_parallel
    keys = list(fits)
    a, b = fits[keys[0]], fits[keys[1]]
    table = dose.relative_potency(a, b)
    joint = a.joint
    ia = joint.groups[a.key]["log_ec50"]
    ib = joint.groups[b.key]["log_ec50"]
    names = list(joint.names)
    cov = joint.covariance
    i, j = names.index(ia), names.index(ib)
    ratio = 10 ** (a.params["log_ec50"].value - b.params["log_ec50"].value)
    se = ratio * np.log(10) * np.sqrt(cov[i, i] + cov[j, j] - 2 * cov[i, j])
    z = 1.959963984540054
    row = table.loc["delta"]
    assert row["value"] == pytest.approx(ratio, rel=1e-9)
    assert row["stderr"] == pytest.approx(se, rel=1e-4)
    assert row["lower"] == pytest.approx(ratio - z * se, rel=1e-4)
    assert row["upper"] == pytest.approx(ratio + z * se, rel=1e-4)
    # Fieller on the two EC50s (doses), their variances by the delta method
    ea, eb = 10 ** a.params["log_ec50"].value, 10 ** b.params["log_ec50"].value
    g = np.log(10)
    vaa, vbb, vab = (
        (ea * g) ** 2 * cov[i, i],
        (eb * g) ** 2 * cov[j, j],
        (ea * eb * g * g * cov[i, j]),
    )
    q = z**2 * vbb / eb**2
    disc = vaa - 2 * ratio * vab + ratio**2 * vbb - q * (vaa - vab**2 / vbb)
    centre, half = ratio - q * vab / vbb, z / eb * np.sqrt(disc)
    fieller = table.loc["fieller"]
    assert fieller["lower"] == pytest.approx((centre - half) / (1 - q), rel=1e-4)
    assert fieller["upper"] == pytest.approx((centre + half) / (1 - q), rel=1e-4)


def test_quantal_same_ec50_is_a_likelihood_ratio_test(selenium_parallel):
    """For binomial data drc's ``anova`` compares deviances (chi-square):
    the reduced fit (one EC50, one slope) is one curve through the pooled
    data, and stays binomial."""
    frame, fits = selenium_parallel
    test = dose.same_ec50(fits)
    pooled = scurve.fit(
        frame, model="hill", x="conc", y="dead", trials="total",
        fix={"bottom": 0, "top": 1},
    )  # fmt: skip
    x, k, n = (frame[c].to_numpy(float) for c in ("conc", "dead", "total"))
    d0 = _deviance(x, k, n, pooled.predict(x))
    d1 = 0.0
    for key, one in fits.items():
        m = frame["type"].to_numpy() == key[0]
        d1 += _deviance(x[m], k[m], n[m], one.predict(x[m]))
    assert test["test"] == "likelihood ratio (chi-square)"
    assert test["chi2"] == pytest.approx(d0 - d1, rel=1e-5)
    assert test["df"] == 3
    assert test["p_value"] == pytest.approx(
        float(__import__("scipy").stats.chi2.sf(d0 - d1, 3)), rel=1e-4
    )


def test_relative_potency_refuses_quantal_against_continuous(selenium_parallel):
    _, fits = selenium_parallel
    rye = scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl")
    with pytest.raises(scurve.errors.InputError, match="quantal"):
        dose.relative_potency(fits[next(iter(fits))], rye)


def test_plots_of_shared_controls_are_the_curves(controls_apart, tmp_path):
    """--plot DIR/ plans one file per curve: the control group, whose rows
    join every curve, gets none (it used to get the first curve's plot, the
    last curve none, and a traceback)."""
    path, _ = controls_apart
    target = tmp_path / "plots"
    code, _, err = run("fit", path, *ALBA, "--plot", f"{target}/", "--format", "csv")
    assert code == 0, err
    assert sorted(p.name for p in target.iterdir()) == [
        "Bentazone.png",
        "Glyphosate.png",
    ]
    code, _, err = run("fit", path, *ALBA, "--controls", "999", "--plot",
                       f"{tmp_path / 'named'}/", "--format", "csv")  # fmt: skip
    assert code == 0, err
    assert len(list((tmp_path / "named").iterdir())) == 2


def test_ci_none_still_names_the_ecx_method():
    """--ci none drops the parameters' intervals, not the ECx ones: the
    header still says how those were computed."""
    code, out, _ = run("fit", RYEGRASS, *RYE, "--ec", "10", "--ci", "none")
    assert code == 0
    assert out.splitlines()[0] == "hill  (ECx: delta method on the dose scale)"
    line = next(row for row in out.splitlines() if row.startswith("  ic10 "))
    assert line.split()[3:] == ["1.07411", "1.85331"]
