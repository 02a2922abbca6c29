"""``--normalize`` (``normalize=True``): responses as percent of the
curve's range, as Prism's Normalize: 100% the mean at zero dose (the
controls), or at whichever end dose has the larger mean without controls;
0% the mean at the other end dose."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import scurve
from scurve.cli import main

ROOT = Path(__file__).resolve().parents[1]
RYEGRASS = ROOT / "data" / "ryegrass.csv"
SALBA = ROOT / "data" / "S.alba.csv"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit) or result.exception is None, (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def percent(frame, x, y):
    """The reference: Prism's Normalize by hand."""
    means = frame.groupby(x)[y].mean()
    hundred = means.loc[0] if 0 in means.index else max(means.iloc[0], means.iloc[-1])
    zero = means.iloc[-1] if means.iloc[-1] != hundred else means.iloc[0]
    return 100 * (frame[y] - zero) / (hundred - zero)


def test_ryegrass_in_percent_of_control():
    frame = pd.read_csv(RYEGRASS)
    with pytest.warns(UserWarning, match="normalized to percent"):
        fitted = scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl", normalize=True)
    by_hand = frame.assign(rootl=percent(frame, "conc", "rootl"))
    expected = scurve.fit(by_hand, model="hill", x="conc", y="rootl")
    for name in ("bottom", "top", "ec50", "hill"):
        assert fitted.params[name].value == pytest.approx(
            expected.params[name].value, rel=1e-6
        )
    assert fitted.params["ec50"].value == pytest.approx(
        scurve.fit(RYEGRASS, model="hill", x="conc", y="rootl").params["ec50"].value,
        rel=1e-6,
    )  # a change of scale: the EC50 stays
    assert 95 < fitted.params["top"].value < 105


def test_every_group_is_normalized_on_its_own():
    code, out, err = run("fit", SALBA, "--model", "hill", "--x", "Dose", "--y",
                         "DryMatter", "--by", "Herbicide", "--normalize",
                         "--format", "csv")  # fmt: skip
    assert code == 0, err
    rows = pd.read_csv(io.StringIO(out)).set_index("Herbicide")
    frame = pd.read_csv(SALBA)
    for herbicide, group in frame.groupby("Herbicide"):
        by_hand = group.assign(DryMatter=percent(group, "Dose", "DryMatter"))
        alone = scurve.fit(by_hand, model="hill", x="Dose", y="DryMatter")
        assert rows.loc[herbicide, "top"] == pytest.approx(
            alone.params["top"].value, rel=1e-6
        )
    assert "normalized" in err


def test_normalize_refuses_what_it_cannot_scale(tmp_path):
    path = tmp_path / "flat.csv"
    pd.DataFrame({"dose": [0, 0, 1, 1, 10, 10], "y": [5.0] * 6}).to_csv(path)
    code, out, err = run("fit", path, "--model", "hill", "--x", "dose", "--y",
                         "y", "--normalize")  # fmt: skip
    assert (code, out) == (2, "")
    assert err.strip() == (
        "Error: Invalid value for '--normalize': the mean response is 5 at both "
        "ends of the doses (0 and 10): no range to call 0% and 100%"
    )
    code, _, err = run("fit", RYEGRASS, "--model", "logistic", "--x", "conc",
                       "--y", "rootl", "--normalize")  # fmt: skip
    assert code == 2
    assert "normalize is an option of dose-response models" in err


def test_normalize_with_trials_is_refused():
    frame = pd.read_csv(ROOT / "data" / "selenium.csv")
    with pytest.raises(scurve.errors.OptionError, match="quantal"):
        scurve.fit(frame, model="hill", x="conc", y="dead", trials="total",
                   by="type", normalize=True)  # fmt: skip
    assert np.isfinite(frame["dead"]).all()


def test_normalize_is_refused_where_it_cannot_apply(tmp_path):
    code, out, err = run("fit", RYEGRASS, "--model", "easylinear", "--x", "conc",
                         "--y", "rootl", "--normalize")  # fmt: skip
    assert (code, out) == (2, "")
    assert "--normalize is an option of dose-response models, not of easylinear" in err
    with pytest.raises(scurve.errors.OptionError, match="needs a table"):
        scurve.fit(x=[0, 1, 10], y=[1, 2, 3], model="hill", normalize=True)


def test_screens_refuse_normalize_and_controls(tmp_path):
    """Streamed screens (``--chunk-curves``, ``--dask``, large Parquet)
    neither normalize nor join controls: these options are refused there
    (they used to be ignored without a word)."""
    out = tmp_path / "fits.csv"
    for extra in (("--normalize",), ("--controls", "Glyphosate")):
        code, stdout, err = run("fit", SALBA, "--model", "hill", "--x", "Dose",
                                "--y", "DryMatter", "--by", "Herbicide",
                                "--chunk-curves", "10", "-o", out, *extra)  # fmt: skip
        assert (code, stdout) == (2, "")
        assert f"--chunk-curves cannot take {extra[0]}" in err
        assert not out.exists()
