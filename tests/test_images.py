"""Image tests (issue 22): a handful of figures compared with the baseline
images in ``tests/baseline/`` by pytest-mpl (``--mpl`` is in the pytest
configuration; tolerance in ``pyproject.toml``), so that no figure can
regress silently. Small figures at a low dpi, to stay fast.

Regenerate the baselines after an intended change, and look at them::

    python -m pytest tests/test_images.py --mpl-generate-path=tests/baseline
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import scurve
from scurve import plotting
from scurve.audio import Waveshaper

pytest.importorskip("matplotlib")
pytest.importorskip("pytest_mpl")

DATA = Path(__file__).resolve().parents[1] / "data"
SMALL = {"savefig_kwargs": {"dpi": 60}}


@pytest.mark.mpl_image_compare(**SMALL)
def test_image_dose_response_overlay():
    fits = scurve.fit(
        DATA / "S.alba.csv", "hill", x="Dose", y="DryMatter", by="Herbicide",
        share=["bottom", "top"],
    )  # fmt: skip
    return plotting.plot_groups(fits, ec=[50], size=(5.5, 3.2))


@pytest.mark.mpl_image_compare(**SMALL)
def test_image_dose_response_replicates():
    rye = scurve.fit(DATA / "ryegrass.csv", "hill", x="conc", y="rootl")
    ax, _ = plotting.plot_fit(
        rye, residuals=True, replicates="mean", size=(4.5, 3.8),
        xlabel="Ferulic acid (mM)", ylabel="Root length (cm)",
    )  # fmt: skip
    return ax.figure


@pytest.mark.mpl_image_compare(**SMALL)
def test_image_plate_strip():
    """SYNTHETIC: six wells that grow (logistic, seeded), one flat."""
    t = np.linspace(0.0, 24.0, 25)
    rng = np.random.default_rng(3)
    table = {"time": t}
    for i in range(1, 7):
        grow = 0.0 if i == 4 else 0.4 * scurve.expit(t - 8 - i / 2)
        table[f"B{i}"] = 0.05 + grow + rng.normal(0, 0.003, t.size)
    fits = scurve.fit(pd.DataFrame(table), "logistic", x="time", wide=True)
    return plotting.plot_groups(fits, layout="plate", ylabel="OD600")


@pytest.mark.mpl_image_compare(**SMALL)
def test_image_diffusion_adoption():
    table = pd.read_csv(DATA / "bass_durables.csv")
    dryers = table[table["product"] == "clothes dryers"]
    fit = scurve.fit(dryers, "bass", x="year", y="sales", adoptions="per-period")
    return plotting.plot_adoption(fit, 6, size=(6.5, 2.8))


@pytest.mark.mpl_image_compare(**SMALL)
def test_image_audio_transfer():
    return plotting.plot_transfer(
        [Waveshaper("tanh", drive_db=12.0, bias=0.2)], size=(6.0, 2.6)
    )
