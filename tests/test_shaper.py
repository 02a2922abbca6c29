"""The softclip model: static curves and devices fitted back to known settings."""

from __future__ import annotations

import numpy as np
import pytest

from scurve.audio import Waveshaper
from scurve.audio.device import align, fit_device
from scurve.errors import FitError
from scurve.fitters.engine import fit_curve
from scurve.models import REGISTRY, get_model
from scurve.models.shaper import SoftclipModel

CURVES = ["algebraic", "arctan", "cubic", "erf", "gudermannian", "hard_clip", "tanh"]


def test_registered() -> None:
    assert REGISTRY["softclip"] is SoftclipModel
    model = get_model("softclip", shape="erf")
    assert model.label == "softclip(erf)"
    assert model.options == {"shape": "erf"}
    with pytest.raises(KeyError, match="no odd form"):
        SoftclipModel("gompertz")


@pytest.mark.parametrize("curve", CURVES)
def test_static_curve_recovered_from_noisy_samples(curve: str) -> None:
    rng = np.random.default_rng(42)
    x = rng.uniform(-1, 1, 3000)
    model = SoftclipModel(curve)
    truth = {"drive_db": 10.0, "bias": 0.2, "output_db": -6.0, "offset": 0.01}
    y = model.function(x, **truth) + rng.normal(0, 2e-3, x.size)
    result = fit_curve(model, x, y)
    v = result.params.valuesdict()
    assert v["drive_db"] == pytest.approx(10.0, abs=0.15)
    assert v["bias"] == pytest.approx(0.2, abs=0.01)
    assert v["output_db"] == pytest.approx(-6.0, abs=0.05)
    assert v["offset"] == pytest.approx(0.01, abs=1e-3)
    # the truth lies within the reported 95% intervals (or very close)
    table = result.table
    for name, value in truth.items():
        lo, hi = table.loc[name, "lower"], table.loc[name, "upper"]
        assert lo - 0.05 * abs(value) <= value <= hi + 0.05 * abs(value)


def dry_signal(rate: int, seconds: float, seed: int = 0) -> np.ndarray:
    """A rising-level two-tone riff: covers the curve from quiet to loud."""
    rng = np.random.default_rng(seed)
    n = np.arange(int(rate * seconds))
    envelope = np.linspace(0.05, 1.0, n.size)
    phases = rng.uniform(0, 6, 2)
    low = 0.6 * np.sin(2 * np.pi * 110 * n / rate + phases[0])
    high = 0.3 * np.sin(2 * np.pi * 173 * n / rate + phases[1])
    return envelope * (low + high)


@pytest.mark.parametrize(
    ("curve", "drive_db", "bias", "output_db"),
    [("tanh", 12.0, 0.15, -3.0), ("arctan", 18.0, -0.2, 0.0), ("cubic", 6.0, 0.0, 2.0)],
)
def test_device_recovered_with_delay_and_noise(
    curve, drive_db, bias, output_db
) -> None:
    rate = 48000
    dry = dry_signal(rate, 1.5)
    # rendered oversampled, without the DC blocker, whose phase at 110 Hz
    # (2.6 degrees) would add 3 samples to the delay found
    device = Waveshaper(curve, drive_db=drive_db, bias=bias, output_db=output_db,
                        quality="standard", dc_block=False)  # fmt: skip
    rendered = device(dry, rate)
    delay = 123
    rng = np.random.default_rng(9)
    wet = np.concatenate([np.zeros(delay), rendered])[: dry.size]
    wet = 0.5 * wet + rng.normal(0, 1e-3, dry.size)  # recorded 6 dB lower, noisy
    fit = fit_device(dry, wet, rate)
    assert fit.best == curve
    assert fit.lag == delay
    assert fit.polarity == 1
    got = fit.settings
    assert got["drive_db"] == pytest.approx(drive_db, abs=0.3)
    assert got["bias"] == pytest.approx(bias, abs=0.02)
    assert got["output_db"] == pytest.approx(output_db - 6.02, abs=0.1)
    assert fit.table.index[0] == curve
    assert fit.shaper.curve == curve


def test_inverting_device_and_lead() -> None:
    rate = 48000
    dry = dry_signal(rate, 1.0, seed=1)
    wet = -Waveshaper("erf", drive_db=9.0)(dry, rate)
    wet = wet[40:]  # the recording starts late: it leads
    lag, polarity, d, w = align(dry, wet, 1000)
    assert (lag, polarity) == (-40, -1)
    np.testing.assert_allclose(w, Waveshaper("erf", drive_db=9.0)(dry, rate)[40:],
                               atol=1e-12)  # fmt: skip
    assert d.size == w.size
    fit = fit_device(dry, wet, rate, curves=["erf", "tanh"])
    assert fit.best == "erf"
    assert fit.settings["drive_db"] == pytest.approx(9.0, abs=0.1)


def test_silent_recording_fails() -> None:
    with pytest.raises(FitError, match="silent"):
        fit_device(dry_signal(8000, 0.5), np.zeros(4000), 8000)
