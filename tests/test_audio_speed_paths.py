"""The fast paths of the Waveshaper: libsoxr oversampling in float32, each
channel on a thread of its own, streamed output bit for bit the one-shot's."""

from __future__ import annotations

from itertools import pairwise

import numpy as np
import pytest

from scurve.audio import Waveshaper

RATE = 48000


def noise(channels: int = 2, n: int = 30000) -> np.ndarray:
    return np.random.default_rng(5).normal(0, 0.3, (channels, n))


@pytest.mark.parametrize(
    ("settings", "resampler"),
    [
        ({}, "soxr"),  # standard tanh: 4x, no ADAA
        ({"quality": "best"}, "soxr"),  # 8x, tanh at 0 dB: no ADAA
        ({"quality": "best", "drive_db": 40.0}, "soxr"),  # ADAA2: a whole sample
        ({"curve": "arctan"}, "fir"),  # ADAA1: half a sample, the FIR path
        ({"oversample": 1}, "none"),
    ],
)
def test_the_resampler_of_each_setting(settings: dict, resampler: str) -> None:
    assert Waveshaper(**settings).stream(2, RATE).resampler == resampler


@pytest.mark.parametrize(
    "settings",
    [
        {"quality": "standard"},
        {"quality": "standard", "bias": 0.3, "mix": 0.7},  # the DC blocker
        {"quality": "best", "curve": "hard_clip", "bias": -0.2},
        {"quality": "draft", "curve": "cubic", "bias": 0.1},
    ],
)
def test_streaming_is_the_one_shot_bit_for_bit(settings: dict) -> None:
    shaper = Waveshaper(drive_db=18.0, **settings)
    x = noise()
    whole = shaper(x, RATE)
    stream = shaper.stream(2, RATE)
    edges = [0, 1, 700, 701, 5000, 17000, 29999, 30000]
    parts = [stream.process(x[:, a:b]) for a, b in pairwise(edges)]
    streamed = np.concatenate([*parts, stream.flush()], axis=-1)
    assert np.array_equal(streamed, whole)


def test_channels_in_parallel_are_each_channel_alone() -> None:
    shaper = Waveshaper("tanh", drive_db=24.0, bias=0.2)
    x = noise(3)
    together = shaper(x, RATE)
    for c in range(3):
        assert np.array_equal(together[c], shaper(x[c], RATE))


def test_a_flushed_stream_takes_no_more() -> None:
    stream = Waveshaper().stream(1, RATE)
    stream.process(np.zeros(100))
    stream.flush()
    with pytest.raises(ValueError, match="the stream was flushed"):
        stream.process(np.zeros(100))


def test_huge_samples_saturate_the_curve_without_nan() -> None:
    x = np.full((1, 4800), 0.25)
    x[0, 1000:1010] = 1e37  # beyond the float32 oversampler's range
    y = Waveshaper("tanh", drive_db=6.0, mix=0.5)(x, RATE)
    assert np.isfinite(y).all()
    assert y[0, 1005] == pytest.approx(0.5 * 1e37, rel=1e-6)


# ------------------------------------------------ best: ADAA only where needed


def coherent_aliasing(shaper: Waveshaper) -> float:
    """The issue's standard test, coherently sampled: 2489 periods of
    1244.5 Hz at amplitude 0.5 in 88200 samples at 44.1 kHz, after 0.25 s."""
    from scurve.audio import aliasing

    n = np.arange(88200 + 44100)
    y = shaper(0.5 * np.sin(2 * np.pi * 2489 * n / 88200), 44100)
    return aliasing(y[11025 : 11025 + 88200], 44100, 1244.5, window="rectangular")


@pytest.mark.parametrize("curve", ["tanh", "logistic", "erf", "gudermannian"])
def test_best_renders_smooth_curves_without_adaa(curve: str) -> None:
    # 8x through soxr VHQ alone: -151 dB at +30 dB; a full-scale input
    # (+36 dB into the curve) still -109 dB or less
    shaper = Waveshaper(curve, drive_db=30.0, quality="best")
    assert shaper.method == "none"
    assert coherent_aliasing(shaper) <= -140.0


@pytest.mark.parametrize(
    ("curve", "drive_db"),
    [("tanh", 40.0), ("logistic", 40.0), ("hard_clip", 30.0), ("cubic", 30.0),
     ("arctan", 30.0)],
)  # fmt: skip
def test_best_keeps_adaa_above_30_db_and_for_kinks(curve: str, drive_db: float) -> None:
    # without ADAA: tanh -90 dB at +40 dB, hard_clip -65, cubic -89, arctan -135
    shaper = Waveshaper(curve, drive_db=drive_db, quality="best")
    assert shaper.method == "adaa2"
    assert coherent_aliasing(shaper) <= -120.0
