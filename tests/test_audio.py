"""The Waveshaper: transfer curves, alignment, aliasing, streaming, analysis."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest

from scurve.audio import (
    CURVES,
    Waveshaper,
    aliasing,
    estimate_fundamental,
    harmonic_levels,
    thd,
    thd_n,
)
from scurve.core.shapes import REGISTRY

FS = 44100
# the issue's test signal: 1244.5 Hz, amplitude 0.5, at 44.1 kHz; 2489
# periods fit 88200 samples exactly (coherent sampling)
TONE_HZ, PERIOD_SAMPLES = 1244.5, 88200


def issue_signal(seconds: float = 2.5) -> np.ndarray:
    n = np.arange(int(seconds * FS))
    return 0.5 * np.sin(2 * np.pi * 2489 * n / PERIOD_SAMPLES)


def measured_aliasing(shaper: Waveshaper) -> float:
    y = shaper(issue_signal(), FS)
    start = FS // 4  # past the filters' start-up, before their tail
    return aliasing(
        y[start : start + PERIOD_SAMPLES], FS, TONE_HZ, window="rectangular"
    )


# ---------------------------------------------------------------- curves


@pytest.mark.parametrize("curve", CURVES)
def test_transfer_is_the_core_curve(curve: str) -> None:
    shaper = Waveshaper(curve, drive_db=9.0, bias=0.25, mix=0.7, output_db=-2.0)
    x = np.linspace(-1, 1, 101)
    f = REGISTRY[curve].odd.value
    wet = f(10 ** (9 / 20) * x + 0.25) - f(0.25)
    expected = 10 ** (-2 / 20) * (0.7 * wet + 0.3 * x)
    np.testing.assert_allclose(shaper.transfer(x), expected, rtol=1e-15, atol=1e-16)


@pytest.mark.parametrize("curve", CURVES)
def test_plain_rendering_is_the_transfer_curve(curve: str) -> None:
    shaper = Waveshaper(curve, drive_db=6.0, bias=0.1, oversample=1,
                        antialias="none", dc_block=False)  # fmt: skip
    x = np.random.default_rng(7).uniform(-1, 1, (2, 500))
    np.testing.assert_allclose(shaper(x, FS), shaper.transfer(x), rtol=0, atol=1e-15)


@pytest.mark.parametrize("method", ["adaa1", "adaa2"])
@pytest.mark.parametrize("curve", ["tanh", "arctan", "erf", "algebraic", "cubic"])
def test_adaa_equals_the_plain_shaper_on_slow_signals(curve: str, method: str) -> None:
    n = np.arange(4800)
    x = 0.8 * np.sin(2 * np.pi * 30 * n / 48000)[None, :]
    settings = {"drive_db": 6.0, "oversample": 4, "dc_block": False}
    plain = Waveshaper(curve, antialias="none", **settings)(x, 48000)
    smooth = Waveshaper(curve, antialias=method, **settings)(x, 48000)
    inner = slice(200, -200)
    np.testing.assert_allclose(smooth[:, inner], plain[:, inner], rtol=0, atol=1e-6)


@pytest.mark.parametrize("quality", ["draft", "standard", "best"])
@pytest.mark.parametrize("method", [None, "none", "adaa1", "adaa2"])
def test_output_lines_up_with_the_input(quality: str, method: str | None) -> None:
    # at -40 dB drive the curve is linear: the output is the input times the
    # drive, sample for sample, with the input's length. ADAA's own kernel on
    # a line is known exactly at the oversampled rate R (delay removed):
    # (x[n] + x[n-1])/2 -> cos(pi f/R); (x[n] + 4x[n-1] + x[n-2])/6 ->
    # (2 + cos(2 pi f/R))/3. Half a sample off would cost 1e-2 at 9.3 kHz.
    rng = np.random.default_rng(3)
    n = np.arange(6000)
    shaper = Waveshaper("tanh", drive_db=-40.0, quality=quality, antialias=method)
    rate = 48000 * shaper.factor
    kernel = {
        "none": lambda f: 1.0,
        "adaa1": lambda f: math.cos(math.pi * f / rate),
        "adaa2": lambda f: (2 + math.cos(2 * math.pi * f / rate)) / 3,
    }[shaper.method]
    x = np.zeros(n.size)
    expected = np.zeros(n.size)
    for f in (97, 440, 1990, 5100, 9300):
        a, phase = rng.uniform(0.1, 0.3), rng.uniform(0, 6)
        x += a * np.sin(2 * np.pi * f * n / 48000 + phase)
        expected += kernel(f) * a * np.sin(2 * np.pi * f * n / 48000 + phase)
    y = shaper(x[None, :], 48000)[0] / 10 ** (-40 / 20)
    assert y.shape == x.shape
    inner = slice(500, -500)
    assert np.max(np.abs(y[inner] - expected[inner])) < 1e-4


def test_dtypes_and_layouts() -> None:
    shaper = Waveshaper("tanh", drive_db=12.0)
    x64 = 0.5 * np.sin(np.linspace(0, 200, 3000))
    x32 = x64.astype(np.float32)
    assert shaper(x64, FS).dtype == np.float64
    assert shaper(x32, FS).dtype == np.float32
    assert shaper(x64, FS).shape == (3000,)
    stereo = np.stack([x64, -x64])
    out = shaper(stereo, FS)
    assert out.shape == (2, 3000)
    np.testing.assert_allclose(out[0], -out[1], atol=1e-15)  # odd curve
    np.testing.assert_allclose(shaper(x32, FS), shaper(x64, FS), atol=1e-6)
    multi = np.tile(x64, (6, 1))
    assert shaper(multi, FS).shape == (6, 3000)


def test_bias_is_asymmetric_without_dc() -> None:
    n = np.arange(2 * 48000)
    x = 0.5 * np.sin(2 * np.pi * 1000 * n / 48000)
    biased = Waveshaper("tanh", drive_db=12.0, bias=0.4)(x, 48000)
    steady = biased[48000:]
    assert abs(float(np.mean(steady))) < 1e-3
    levels = harmonic_levels(steady, 48000, f0=1000.0, count=4)
    assert levels[1] > -30  # second harmonic: asymmetric clipping
    plain = Waveshaper("tanh", drive_db=12.0)(x, 48000)[48000:]
    assert harmonic_levels(plain, 48000, f0=1000.0, count=4)[1] < -120


# ---------------------------------------------------------------- aliasing


def test_aliasing_of_a_bare_tanh_is_pedalboards() -> None:
    # pedalboard's Distortion (a bare tanh) measures about -26 dB (issue 7)
    bare = Waveshaper("tanh", drive_db=30.0, oversample=1, antialias="none")
    assert measured_aliasing(bare) == pytest.approx(-28.0, abs=2.0)


@pytest.mark.parametrize(
    ("quality", "limit"),
    [("draft", -65.0), ("standard", -78.0), ("best", -98.0)],
)
def test_aliasing_below_target(quality: str, limit: float) -> None:
    # benchmark targets: standard <= -80 dB, best <= -100 dB (draft: none)
    assert measured_aliasing(Waveshaper("tanh", drive_db=30.0, quality=quality)) < limit


@pytest.mark.parametrize("curve", ["arctan", "algebraic", "hard_clip", "cubic"])
def test_antialiasing_helps_every_curve(curve: str) -> None:
    bare = measured_aliasing(Waveshaper(curve, drive_db=30.0, oversample=1,
                                        antialias="none"))  # fmt: skip
    standard = measured_aliasing(Waveshaper(curve, drive_db=30.0))
    assert standard < bare - 15


# ---------------------------------------------------------------- streaming


@pytest.mark.parametrize(
    "settings",
    [
        {"quality": "standard"},
        {"quality": "best", "bias": 0.3, "mix": 0.6, "output_db": -3.0},
        {"quality": "draft", "curve": "hard_clip", "drive_db": 20.0},
        {"oversample": 1, "antialias": "adaa2", "curve": "arctan"},
    ],
)
def test_streaming_equals_one_shot(settings: dict) -> None:
    settings = {"drive_db": 18.0, **settings}
    shaper = Waveshaper(**settings)
    rng = np.random.default_rng(11)
    x = rng.normal(0, 0.3, (2, 20000))
    whole = shaper(x, 48000)
    stream = shaper.stream(2, 48000)
    sizes = rng.integers(1, 3000, 40)
    edges = np.concatenate([[0], np.cumsum(sizes)])
    edges = edges[edges < x.shape[1]]
    parts = [stream.process(x[:, a:b]) for a, b in zip(edges, [*edges[1:], None],
                                                       strict=True)]  # fmt: skip
    parts.append(stream.flush())
    streamed = np.concatenate(parts, axis=-1)
    assert streamed.shape == whole.shape
    assert np.max(np.abs(streamed - whole)) < 1e-6


# ---------------------------------------------------------------- filters


@pytest.mark.parametrize("rate", [8000.0, 44100.0, 96000.0])
@pytest.mark.parametrize("factor", [2, 8])
@pytest.mark.parametrize("attenuation", [60.0, 120.0])
def test_lowpass_design_is_scipys(rate: float, factor: int, attenuation: float) -> None:
    """The Kaiser design written with numpy (rendering does not import
    scipy.signal, which loads scipy.optimize and scipy.stats) is scipy's."""
    signal = pytest.importorskip("scipy.signal")
    from scurve.audio.resample import band_edges, design_lowpass, kaiser_order

    passband, stopband = band_edges(rate)
    nyquist = factor * rate / 2
    width = (stopband - passband) / nyquist
    assert kaiser_order(attenuation, width) == signal.kaiserord(attenuation, width)
    taps, beta = signal.kaiserord(attenuation, width)
    taps += (1 - taps) % (2 * factor)
    expected = signal.firwin(taps, (passband + stopband) / 2,
                             window=("kaiser", beta), fs=2 * nyquist)  # fmt: skip
    got = design_lowpass(rate, factor, attenuation, parity=1, step=2 * factor)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-15)


@pytest.mark.parametrize("rate", [8000.0, 48000.0, 192000.0])
def test_dc_blocker_is_lfilter_block_by_block(rate: float) -> None:
    signal = pytest.importorskip("scipy.signal")
    from scurve.audio.shaper import DC_BLOCK_HZ, DCBlocker

    x = np.random.default_rng(3).normal(0.2, 1.0, (2, 200_000))
    r = math.exp(-2 * math.pi * DC_BLOCK_HZ / rate)
    expected, _ = signal.lfilter(
        np.array([1.0, -1.0]) * (1 + r) / 2, [1.0, -r], x, zi=np.zeros((2, 1))
    )
    blocker = DCBlocker(2, rate)
    edges = [0, 1, 2, 1000, 65_536, 65_537, 200_000]
    got = np.concatenate([blocker(x[:, a:b]) for a, b in pairwise(edges)], axis=-1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-13)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"curve": "gompertz"}, "no odd"),
        ({"curve": "nope"}, "unknown curve"),
        ({"mix": 1.5}, "mix: must be in"),
        ({"drive_db": math.nan}, r"drive_db: must be in \[-120, 120\] dB, got nan"),
        ({"oversample": 3}, "oversample: must be one of"),
        ({"antialias": "adaa3"}, "antialias: must be one of"),
        ({"quality": "ultra"}, "quality: must be one of"),
        ({"curve": "gudermannian", "antialias": "adaa1"}, "no antiderivative"),
    ],
)
def test_bad_settings(settings: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Waveshaper(**settings)


def test_gudermannian_presets_fall_back_to_oversampling() -> None:
    assert Waveshaper("gudermannian", quality="best").method == "none"
    assert Waveshaper("tanh", quality="best").method == "none"  # up to +30 dB
    assert Waveshaper("tanh", quality="best", drive_db=31.0).method == "adaa2"
    assert Waveshaper("arctan").method == "adaa1"


def test_nan_input_is_an_error() -> None:
    x = np.zeros((2, 100))
    x[1, 42] = np.nan
    with pytest.raises(ValueError, match="channel 2, sample 42"):
        Waveshaper()(x, FS)


def test_preset_round_trip(tmp_path) -> None:
    shaper = Waveshaper("erf", drive_db=7.5, bias=-0.1, quality="best", oversample=16)
    path = tmp_path / "preset.json"
    shaper.save(path)
    assert Waveshaper.load(path) == shaper


# ---------------------------------------------------------------- analysis


def test_thd_of_a_gently_driven_tanh() -> None:
    # tanh(a sin) = a sin - (a^3/3) sin^3 + ...: the third harmonic is a^3/12,
    # so THD = a^2/12 for small a
    a = 0.05
    x = issue_signal(2.0)[:PERIOD_SAMPLES]
    y = np.tanh(2 * a * x)
    assert thd(y, FS) == pytest.approx(a**2 / 12, rel=2e-3)
    levels = harmonic_levels(y, FS, count=3)
    assert levels[2] == pytest.approx(20 * math.log10(a**2 / 12), abs=0.02)
    assert estimate_fundamental(y, FS) == pytest.approx(TONE_HZ, abs=0.01)


def test_thd_n_counts_noise() -> None:
    rng = np.random.default_rng(5)
    n = np.arange(1 << 16)
    tone = np.sin(2 * np.pi * 1000 * n / 48000)
    noise = rng.normal(0, 1e-2, n.size)
    # white noise: 20 Hz - 20 kHz holds (20000 - 20)/24000 of its power
    in_band = 1e-4 * (20000 - 20) / 24000
    expected = math.sqrt(in_band / (0.5 + in_band))
    assert thd_n(tone + noise, 48000) == pytest.approx(expected, rel=0.03)
    # THD sees only the noise under the harmonics' main lobes
    assert thd(tone + noise, 48000) < 0.2 * expected
