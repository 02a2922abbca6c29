"""Platt and temperature calibration (scurve.analysis.calibration,
``scurve calibrate``, ``scurve predict CAL.json``)."""

from __future__ import annotations

import hashlib
import json

import mpmath
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.analysis.calibration import SigmoidCalibrator
from scurve.cli import main

sklearn_datasets = pytest.importorskip("sklearn.datasets")
sklearn_calibration = pytest.importorskip("sklearn.calibration")


@pytest.fixture(scope="module")
def cancer():
    """A score on the breast-cancer data: minus the standardized mean radius."""
    X, y = sklearn_datasets.load_breast_cancer(return_X_y=True)
    f = -(X[:, 0] - X[:, 0].mean()) / X[:, 0].std()
    return f, y


def test_platt_a_b_as_scikit_learn(cancer):
    f, y = cancer
    a, b = sklearn_calibration._sigmoid_calibration(f, y)
    ours = scurve.calibrate(f, y)
    assert ours.a_ == pytest.approx(a, rel=1e-6)
    assert ours.b_ == pytest.approx(b, rel=1e-6)
    reference = sklearn_calibration._SigmoidCalibration().fit(f, y)
    np.testing.assert_allclose(
        ours.predict_proba(f)[:, 1], reference.predict(f), rtol=1e-6
    )


def test_report_improves_loss_and_bins_every_score(cancer):
    f, y = cancer
    report = scurve.calibrate(f * 5 + 3, y).report(f * 5 + 3, y)
    assert report["log_loss_after"] < report["log_loss_before"]
    assert report["brier_after"] < report["brier_before"]
    assert report["reliability"]["count"].sum() == y.size
    assert len(report["reliability"]) == 10


def test_temperature_is_a_scale_only(cancer):
    f, y = cancer
    cal = scurve.calibrate(f, y, method="temperature")
    assert cal.b_ == 0
    assert cal.temperature > 0
    assert cal.predict_proba([0.0])[0, 1] == 0.5


def test_bce_against_mpmath_for_huge_scores():
    z = np.array([-1e4, -700.0, -40.0, -1e-8, 0.0, 37.0, 800.0, 1e4])
    for y in (0.0, 1.0, 0.3):
        got = scurve.binary_cross_entropy(z, y)
        with mpmath.workdps(60):
            # -y log sigma(z) - (1 - y) log(1 - sigma(z)), each log taken of
            # log1p(exp(.)) so that neither side cancels nor rounds away
            ref = [
                float(y * mpmath.log1p(mpmath.exp(-mpmath.mpf(v)))
                      + (1 - y) * mpmath.log1p(mpmath.exp(mpmath.mpf(v))))
                for v in z
            ]  # fmt: skip
        np.testing.assert_allclose(got, ref, rtol=5e-16, atol=0)


def test_calibration_handles_scores_of_any_size():
    f = np.array([1e4, -1e4, 3e3, -2.0, 5.0, -7.0])
    cal = scurve.calibrate(f, [1, 0, 1, 0, 1, 0])
    assert np.isfinite([cal.a_, cal.b_]).all()
    assert np.all(np.isfinite(cal.predict_proba(f)))


@pytest.mark.parametrize(
    ("scores", "labels", "message"),
    [
        ([0.1, 0.2], [0, 2], "label at row 2 is 2, not 0 or 1"),
        ([0.1, np.inf], [0, 1], "score at row 2 is inf, not a finite number"),
        ([0.1, 0.2], [1, 1], "every label is 1: calibration needs both classes"),
        ([0.1], [0, 1], "1 scores but 2 labels"),
    ],
)
def test_bad_inputs_are_named(scores, labels, message):
    with pytest.raises(scurve.InputError, match=message):
        scurve.calibrate(scores, labels)


def test_unknown_method_is_an_option_error():
    with pytest.raises(scurve.OptionError, match="method"):
        scurve.calibrate([0.0, 1.0], [0, 1], method="isotonic")


def test_fits_into_scikit_learn_style(cancer):
    f, y = cancer
    cal = SigmoidCalibrator().fit(f, y)
    assert cal.predict_proba(f).shape == (y.size, 2)
    np.testing.assert_allclose(cal.predict_proba(f).sum(axis=1), 1.0)
    assert set(cal.predict(f)) <= {0, 1}


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_cli_calibrate_then_predict(tmp_path, cancer):
    f, y = cancer
    data = tmp_path / "scores.csv"
    pd.DataFrame({"score": f, "label": y}).to_csv(data, index=False)
    saved = tmp_path / "cal.json"
    runner = CliRunner()
    result = runner.invoke(
        main, ["calibrate", str(data), "--score", "score", "--label", "label",
               "-o", str(saved)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Brier" in result.output
    assert "log loss" in result.output
    stored = json.loads(saved.read_text())
    a, _b = sklearn_calibration._sigmoid_calibration(f, y)
    assert stored["a"] == pytest.approx(a, rel=1e-6)
    result = runner.invoke(main, ["predict", str(saved), "--x", "0", "--format",
                                  "json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    p = json.loads(result.output)["points"][0]["p"]
    assert p == pytest.approx(1 / (1 + np.exp(stored["b"])), rel=1e-12)
    # the output exists now: refused without --force, untouched
    before = digest(saved)
    result = runner.invoke(
        main, ["calibrate", str(data), "--score", "score", "--label", "label",
               "-o", str(saved)],
    )  # fmt: skip
    assert result.exit_code == 2
    assert digest(saved) == before


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("score,label\n0.1,0\n0.2,3\n", "label at row 2 is 3, not 0 or 1"),
        ("score,label\n0.1,1\n0.2,1\n", "every label is 1"),
        ("score,label\n0.1,0\n,1\n", "row 2 has no score or no label"),
        ("score,label\n0.1,0\nabc,1\n", "score column 'score'"),
        ("scores,label\n0.1,0\n0.2,1\n", "no score column 'score'"),
    ],
)
def test_cli_refuses_bad_data(tmp_path, rows, message):
    data = tmp_path / "scores.csv"
    data.write_text(rows)
    out = tmp_path / "cal.json"
    result = CliRunner().invoke(
        main, ["calibrate", str(data), "--score", "score", "--label", "label",
               "-o", str(out)],
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert result.output.startswith("Error:")
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()


def _scores_file(tmp_path, cancer):
    f, y = cancer
    data = tmp_path / "scores.csv"
    pd.DataFrame({"score": f, "label": y}).to_csv(data, index=False)
    return data


def calibrate_cli(data, *extra):
    return CliRunner().invoke(
        main, ["calibrate", str(data), "--score", "score", "--label", "label",
               *map(str, extra)],
    )  # fmt: skip


def test_cli_plot_draws_the_reliability_diagram(tmp_path, cancer):
    data = _scores_file(tmp_path, cancer)
    figure = tmp_path / "reliability.svg"
    result = calibrate_cli(data, "--plot", figure, "--title", "Cancer scores")
    assert result.exit_code == 0, result.output
    svg = figure.read_text()
    assert "Cancer scores" in svg
    assert "perfect calibration" in svg
    assert "before" in svg
    assert "after" in svg
    assert f"wrote {figure}" in result.output


def test_reliability_before_is_of_the_raw_scores(cancer):
    f, y = cancer
    report = scurve.calibrate(f, y).report(f, y)
    before = report["reliability_before"]
    p = 1 / (1 + np.exp(-f))  # scores outside [0, 1]: log-odds
    assert before["count"].sum() == y.size
    expected = np.bincount(np.minimum((p * 10).astype(int), 9), minlength=10)
    np.testing.assert_array_equal(before["count"], expected)


@pytest.mark.parametrize(
    ("extra", "message", "code"),
    [
        (["--plot", "{out}/fig.xyz"], "'--plot'", 2),
        (["--title", "T"], "--title is for the figure: give --plot FILE", 2),
        (["--plot", "{out}/scores.csv"], "scores.csv", 2),
        (["--plot", "{out}/cal.png", "-o", "{out}/cal.png"], "cal.png", 2),
        (["--plot", "{out}/exists.png"], "exists.png", 2),
        (["--plot", "{out}/no/such/dir/fig.png"], "fig.png", 2),
    ],
)
def test_cli_plot_refuses_before_any_work(tmp_path, cancer, extra, message, code):
    data = _scores_file(tmp_path, cancer)
    existing = tmp_path / "exists.png"
    existing.write_bytes(b"keep")
    before = {p.name: digest(p) for p in tmp_path.iterdir()}
    result = calibrate_cli(data, *(e.format(out=tmp_path) for e in extra))
    assert result.exit_code == code, result.output
    assert message in result.output
    assert "Traceback" not in result.output
    assert {p.name: digest(p) for p in tmp_path.iterdir()} == before
