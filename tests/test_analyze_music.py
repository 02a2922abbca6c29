"""Issue 25: ``scurve analyze`` for music: level over time, true peak (ITU-R
BS.1770-4), crest factor, an averaged spectrum, THD only for a steady tone."""

from __future__ import annotations

import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from scurve.audio import analyze_file
from scurve.audio.levels import (
    LEVEL_SECONDS,
    LevelMeter,
    average_spectrum,
    levels,
    third_octaves,
    true_peak,
)
from scurve.cli import main

RATE = 48000


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, result.stdout, result.stderr


def faded(x: np.ndarray, fade: int = 2400) -> np.ndarray:
    """`x` with raised-cosine fades in and out (no onset to ring)."""
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
    y = x.copy()
    y[:fade] *= ramp
    y[-fade:] *= ramp[::-1]
    return y


def sine(hz: float, seconds: float = 1.0, level: float = 0.5, phase: float = 0.0):
    n = np.arange(round(seconds * RATE))
    return level * np.sin(2 * np.pi * hz * n / RATE + phase)


def db(x: float) -> float:
    return 20 * math.log10(x)


def analyzed(tmp_path: Path, x: np.ndarray, name: str = "x.wav") -> dict:
    path = tmp_path / name
    sf.write(path, x.T if x.ndim == 2 else x, RATE, subtype="DOUBLE")
    code, text, err = run("analyze", path, "--format", "json")
    assert code == 0, err
    return json.loads(text)


# ------------------------------------------------------------------ true peak


def test_true_peak_of_a_quarter_rate_sine_between_its_samples() -> None:
    # fs/4 at 45 degrees: every sample is at 0.5 sin(45 deg) = 0.354, the
    # waveform peaks at 0.5 halfway between them (3.01 dB over the samples)
    x = faded(sine(RATE / 4, phase=math.pi / 4))
    assert np.max(np.abs(x)) == pytest.approx(0.5 / math.sqrt(2), rel=1e-9)
    assert db(true_peak(x, RATE)) == pytest.approx(db(0.5), abs=0.01)


@pytest.mark.parametrize(
    ("name", "x", "expected"),
    [
        ("fs/4 on its peaks", faded(sine(RATE / 4, phase=math.pi / 2)), 0.5),
        ("1 kHz", faded(sine(1000.0)), 0.5),
        ("DC, faded in and out", faded(np.full(RATE, -0.25)), 0.25),
        ("silence", np.zeros(RATE), 0.0),
    ],
)
def test_true_peak_where_the_samples_hold_it(name, x, expected) -> None:
    assert true_peak(x, RATE) == pytest.approx(expected, rel=2e-3, abs=1e-12)


def test_true_peak_is_never_below_the_sample_peak() -> None:
    x = np.random.default_rng(25).uniform(-0.9, 0.9, RATE // 4)
    assert true_peak(x, RATE) >= np.max(np.abs(x))


@pytest.mark.parametrize("rate", [44100, 88200, 96000, 192000])
def test_true_peak_at_other_rates(rate) -> None:
    # oversampled to at least 176.4 kHz (4x, 2x), then no more: at 192 kHz
    # the samples are taken as they are, as BS.1770-4 has it
    n = np.arange(rate)
    x = faded(0.5 * np.sin(2 * np.pi * n / 4 + math.pi / 4), rate // 20)
    expected = 0.5 / math.sqrt(2) if rate == 192000 else 0.5
    assert db(true_peak(x, rate)) == pytest.approx(db(expected), abs=0.01)


# ------------------------------------------------------------------ levels


def test_rms_peak_and_crest_factor_of_a_sine_and_a_square(tmp_path) -> None:
    report = analyzed(tmp_path, sine(1000.0))  # 1000 whole periods
    assert report["rms_dbfs"][0] == pytest.approx(db(0.5 / math.sqrt(2)), abs=1e-9)
    assert report["peak_dbfs"][0] == pytest.approx(db(0.5), abs=1e-9)
    assert report["crest_db"][0] == pytest.approx(db(math.sqrt(2)), abs=1e-9)
    square = 0.25 * np.sign(sine(1000.0, phase=0.1))
    report = analyzed(tmp_path, square, "square.wav")
    assert report["crest_db"][0] == pytest.approx(0.0, abs=1e-12)
    assert report["rms_dbfs"][0] == pytest.approx(db(0.25), abs=1e-12)


def test_silence_has_no_crest_factor(tmp_path) -> None:
    report = analyzed(tmp_path, np.zeros(RATE))
    assert report["crest_db"] == [None]
    assert report["true_peak_dbfs"] == ["-inf"]


def test_level_over_time_of_a_step(tmp_path) -> None:
    # a 1 kHz sine at 0.1 for 1 s, then at 0.5 for 1.05 s: 0.1 s windows,
    # the last one half as long; 2.05 s crosses the file blocks (65536)
    x = np.concatenate([sine(1000.0, 1.0, 0.1), sine(1000.0, 1.05, 0.5)])
    report = analyzed(tmp_path, x)
    assert report["level_seconds"] == LEVEL_SECONDS == 0.1
    rms = np.array(report["level_rms_dbfs"][0])
    peak = np.array(report["level_peak_dbfs"][0])
    assert len(rms) == 21
    assert rms[:10] == pytest.approx(db(0.1 / math.sqrt(2)), abs=1e-9)
    assert rms[10:] == pytest.approx(db(0.5 / math.sqrt(2)), abs=1e-9)
    assert peak[:10] == pytest.approx(db(0.1), abs=1e-6)
    assert peak[10:] == pytest.approx(db(0.5), abs=1e-6)
    whole = math.sqrt((0.01 / 2 * 1.0 + 0.25 / 2 * 1.05) / 2.05)
    assert report["rms_dbfs"][0] == pytest.approx(db(whole), abs=1e-9)


def test_levels_per_channel_and_streamed_as_one_shot() -> None:
    noise = np.random.default_rng(1).normal(0, 0.1, 62400)
    x = np.stack([sine(440.0, 1.3, 0.3), noise])
    whole = levels(x, RATE)
    meter = LevelMeter(2, RATE, x.shape[1])
    for start in range(0, x.shape[1], 7919):  # blocks of a prime length
        meter.feed(x[:, start : start + 7919])
    streamed = meter.result()
    assert streamed.window_rms.shape == (2, 13)
    np.testing.assert_array_equal(streamed.window_rms, whole.window_rms)
    np.testing.assert_array_equal(streamed.window_peak, whole.window_peak)
    np.testing.assert_array_equal(streamed.true_peak, whole.true_peak)
    for a, b in zip(streamed.spectra, whole.spectra, strict=True):
        np.testing.assert_array_equal(a.power, b.power)
    assert whole.rms[1] == pytest.approx(0.1, rel=0.02)


def test_levels_refuse_what_is_not_audio() -> None:
    with pytest.raises(ValueError, match="sample_rate must be a finite number > 0"):
        levels(np.zeros(100), 0)
    with pytest.raises(ValueError, match="the signal has NaN or infinite samples"):
        levels(np.array([0.0, math.nan, 0.0]), RATE)
    with pytest.raises(ValueError, match=r"\(samples,\) or \(channels, samples\)"):
        levels(np.zeros((2, 3, 4)), RATE)


# ------------------------------------------------------------ averaged spectrum


def test_average_spectrum_keeps_the_power() -> None:
    noise = np.random.default_rng(2).normal(0, 0.2, 4 * RATE)
    s = average_spectrum(noise, RATE)
    assert s.power.sum() == pytest.approx(0.04, rel=0.02)
    assert s.resolution == pytest.approx(RATE / 8192)
    tone = average_spectrum(sine(1000.0, 2.0), RATE)
    centres, power = third_octaves(tone)
    k = int(np.argmin(np.abs(centres - 1000)))
    assert 10 * math.log10(power[k]) == pytest.approx(db(0.5 / math.sqrt(2)), abs=0.01)
    assert len(centres) == 31
    assert centres[0] == pytest.approx(19.7, abs=0.1)
    assert centres[-1] == pytest.approx(20159, rel=1e-3)


def test_average_spectrum_of_a_short_signal() -> None:
    s = average_spectrum(sine(1000.0, 0.03), RATE)  # 1440 samples: 1024 a segment
    assert s.resolution == pytest.approx(RATE / 1024)
    with pytest.raises(ValueError, match="need at least 16 samples, got 15"):
        average_spectrum(np.zeros(15), RATE)


# ------------------------------------------------------------------ music


def music(seconds: float = 3.0) -> np.ndarray:
    """Chords that change every quarter second, plucked, with some noise."""
    rng = np.random.default_rng(25)
    t = np.arange(int(seconds * RATE)) / RATE
    x = 0.01 * rng.normal(size=t.size)
    for start in np.arange(0, seconds, 0.25):
        notes = 220 * 2 ** (rng.integers(0, 24, 3) / 12)
        on = t >= start
        envelope = np.where(on, np.exp(-6 * (t - start)), 0)
        for f in notes:
            x += 0.15 * envelope * np.sin(2 * np.pi * f * (t - start))
    return x


def test_music_gets_levels_and_a_spectrum_but_no_thd(tmp_path) -> None:
    x = music()
    report = analyzed(tmp_path, np.stack([x, 0.5 * x]))
    assert report["fundamental_hz"] == [None, None]
    assert report["thd_percent"] == [None, None]
    assert report["thd_n_percent"] == [None, None]
    assert len(report["level_rms_dbfs"][1]) == 30
    left, right = (np.array(c) for c in report["level_rms_dbfs"])
    assert left - right == pytest.approx(db(2), abs=1e-9)
    assert report["crest_db"][0] > 6  # plucked notes: peaks far above the RMS
    assert report["true_peak_dbfs"][0] >= report["peak_dbfs"][0]
    bands = report["spectrum_hz"]
    assert len(bands) == 31
    levels_db = np.array(report["spectrum_dbfs"][0])
    loud = bands[int(np.argmax(levels_db))]
    assert 200 <= loud <= 1000  # where the notes are
    assert np.array(report["spectrum_dbfs"][1]) == pytest.approx(
        levels_db - db(2), abs=1e-6
    )


def test_demo_music_through_analyze_file() -> None:
    demo = Path(__file__).parents[1] / "data" / "demo_guitar_device.flac"
    report = analyze_file(demo)
    assert report.thd_percent == [None]
    assert report.true_peak_dbfs[0] >= report.peak_dbfs[0]
    assert len(report.level_rms_dbfs[0]) == math.ceil(
        report.frames / (LEVEL_SECONDS * report.sample_rate)
    )


def test_too_short_for_a_spectrum(tmp_path) -> None:
    report = analyzed(tmp_path, sine(1000.0, 10 / RATE))
    assert report["spectrum_dbfs"] == [None]
    assert len(report["level_rms_dbfs"][0]) == 1


# ------------------------------------------------------------------ the command


def test_table_and_csv_have_true_peak_and_crest(tmp_path) -> None:
    path = tmp_path / "tp.wav"
    sf.write(path, faded(sine(RATE / 4, phase=math.pi / 4)), RATE, subtype="FLOAT")
    code, text, err = run("analyze", path)
    assert code == 0, err
    header, row = text.splitlines()[-2:]
    assert header.split()[:6] == [
        "channel", "peak_dbfs", "true_peak_dbfs", "rms_dbfs", "crest_db", "clipped",
    ]  # fmt: skip
    cells = row.split()
    assert cells[1:3] == ["-9.03", "-6.02"]  # the samples, the waveform between
    # the crest factor is the sample peak's: 0 dB but for the fades
    crest = float(cells[1]) - float(cells[3])
    assert float(cells[4]) == pytest.approx(crest, abs=0.011)
    code, text, err = run("analyze", path, "--format", "csv")
    (record,) = csv.DictReader(io.StringIO(text))
    assert float(record["true_peak_dbfs"]) == pytest.approx(-6.02, abs=0.01)
    assert float(record["crest_db"]) == pytest.approx(float(cells[4]), abs=0.005)


@pytest.mark.parametrize("kind", ["music", "tone"])
def test_plot_of_music_and_of_a_tone(tmp_path, kind) -> None:
    from scurve.cli.audio import analysis_figure

    x = music(1.0) if kind == "music" else sine(1000.0)
    path = tmp_path / "in.wav"
    sf.write(path, x, RATE, subtype="FLOAT")
    fig = analysis_figure(path, analyze_file(path))
    titles = [ax.get_title() for ax in fig.axes]
    if kind == "music":
        assert titles == ["Level over time", "Averaged spectrum"]
        assert fig.axes[0].get_xlabel() == "time (s)"
    else:
        assert titles == ["Spectrum"]
        assert any(
            line.get_gid() == "aliasing-floor" for line in fig.axes[0].get_lines()
        )
    code, _, err = run("analyze", path, "--plot", tmp_path / "a.png")
    assert code == 0, err
    assert (tmp_path / "a.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(("rate", "factor"), [(8, 4), (8000, 4), (48000, 4),
                                              (96000, 2), (192000, 1)])  # fmt: skip
def test_true_peak_oversamples_at_most_4x(rate, factor) -> None:
    from scurve.audio.levels import true_peak_factor

    assert true_peak_factor(rate) == factor
