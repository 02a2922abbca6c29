"""Issue 19, audio: bad input never writes a wrong sample, a wrong number or a
traceback (scurve shape, analyze, fit-shaper and the Python Waveshaper)."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from scurve.audio import (
    ShaperStream,
    Waveshaper,
    aliasing,
    analyze_file,
    estimate_fundamental,
    harmonic_levels,
    read_audio,
    render_file,
    soft_limit,
    spectrum,
    steady_tone,
    thd,
    thd_n,
)
from scurve.audio.device import fit_device
from scurve.audio.shaper import MAX_CHANNELS, SETTING_RANGES
from scurve.cli import main
from scurve.errors import FitError, InputError, OptionError

ROOT = Path(__file__).resolve().parents[1]
RATE = 48000


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, result.stdout, result.stderr


def sine(hz: float = 1000.0, seconds: float = 0.5, level: float = 0.5) -> np.ndarray:
    n = np.arange(int(seconds * RATE))
    return level * np.sin(2 * np.pi * hz * n / RATE)


def write(path: Path, data: np.ndarray, rate: int = RATE, **kws) -> Path:
    sf.write(path, data, rate, **kws)
    return path


def one_error(err: str) -> str:
    """The single stderr line, which must be an error."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("Error: "), err
    return lines[0]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


# ------------------------------------------------- case 2: analyze --plot


def test_analyze_plot_refuses_an_existing_file_and_the_input(tmp_path) -> None:
    source = write(tmp_path / "in.wav", sine(), subtype="PCM_16")
    taken = tmp_path / "taken.png"
    taken.write_bytes(b"keep me")
    before = snapshot(tmp_path)
    for target, message in [
        (taken, "taken.png: exists; use --force to overwrite"),
        (source, "in.wav: is an input file; refusing to overwrite it"),
        (tmp_path, "is a directory"),
    ]:
        code, text, err = run("analyze", source, "--plot", target)
        assert code == 2, err
        assert message in one_error(err)
        assert text == ""  # refused before any work
    code, _, err = run("analyze", source, "--plot", source, "--force")
    assert code == 2
    assert "is an input file" in one_error(err)
    assert snapshot(tmp_path) == before
    code, _, err = run("analyze", source, "--plot", taken, "--force")
    assert code == 0, err
    assert taken.read_bytes().startswith(b"\x89PNG")


def test_analyze_plot_refuses_a_device() -> None:
    code, _, err = run("analyze", ROOT / "data" / "demo_guitar.flac", "--plot",
                       "/dev/null", "--force")  # fmt: skip
    assert code == 2
    assert "not a regular file" in one_error(err)


# ------------------------------------------------- cases 8, 15: finite outputs


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--output-db", "1000"),
        ("--output-db", "7000"),
        ("--output-db", "-inf"),
        ("--drive-db", "1e6"),
        ("--drive-db", "7000"),
        ("--drive-db", "nan"),
        ("--bias", "inf"),
        ("--bias", "1e300"),
        ("--mix", "nan"),
    ],
)
def test_shape_refuses_settings_out_of_range(tmp_path, option, value) -> None:
    source = write(tmp_path / "in.wav", sine(seconds=0.1), subtype="FLOAT")
    code, text, err = run("shape", source, tmp_path / "out.wav", option, value)
    assert code == 2, err
    line = one_error(err)
    assert f"'{option}'" in line
    name = option[2:].replace("-", "_")
    low, high = SETTING_RANGES[name]
    assert f"[{low:g}, {high:g}]" in line
    assert text == ""
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


def test_the_ranges_are_in_the_help() -> None:
    code, text, _ = run("shape", "--help")
    assert code == 0
    flat = " ".join(text.split())
    for name, (low, high) in SETTING_RANGES.items():
        if name != "mix":
            assert f"{low:g} to {high:g}" in flat, name


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"drive_db": 7000}, r"drive_db: must be in \[-120, 120\] dB, got 7000"),
        ({"output_db": 1000.0}, r"output_db: must be in \[-120, 120\] dB"),
        ({"bias": 1e300}, r"bias: must be in \[-10, 10\]"),
        ({"drive_db": True}, "drive_db: must be a number, got True"),
        ({"drive_db": "x"}, "drive_db: must be a number, got 'x'"),
        ({"curve": 5}, "curve: must be a curve name, got 5"),
        ({"oversample": 4.0}, "oversample: must be one of 1, 2, 4, 8, 16, got 4.0"),
        ({"oversample": True}, "oversample: must be one of"),
        ({"dc_block": "no"}, "dc_block: must be true, false or null, got 'no'"),
        ({"quality": ["best"]}, "quality: must be one of draft, standard, best"),
        ({"antialias": {}}, "antialias: must be one of none, adaa1, adaa2"),
    ],
)
def test_waveshaper_names_the_setting_it_refuses(settings, message) -> None:
    with pytest.raises(OptionError, match=message) as caught:
        Waveshaper(**settings)
    assert caught.value.option == next(iter(settings))
    assert isinstance(caught.value, ValueError)


def test_every_setting_at_its_limits_renders_finite_samples() -> None:
    x = np.stack([sine(seconds=0.05, level=1.0), np.linspace(-1, 1, 2400)])
    for curve in ("tanh", "hard_clip", "algebraic"):
        for quality in ("draft", "best"):
            for drive in SETTING_RANGES["drive_db"]:
                for bias in SETTING_RANGES["bias"]:
                    shaper = Waveshaper(curve, drive_db=drive, bias=bias, mix=0.5,
                                        output_db=120.0, quality=quality)  # fmt: skip
                    assert np.all(np.isfinite(shaper(x, RATE)))


def test_a_render_that_would_write_infinite_samples_writes_nothing(tmp_path) -> None:
    loud = np.full((2400, 1), 0.5)
    loud[100:200] = 3e38  # finite in a FLOAT file, beyond it 60 dB louder
    source = write(tmp_path / "huge.wav", loud, subtype="FLOAT")
    before = snapshot(tmp_path)
    code, _, err = run("shape", source, tmp_path / "out.wav", "--mix", "0.5",
                       "--output-db", "60")  # fmt: skip
    assert code == 2
    line = one_error(err)
    assert "out.wav: the rendered sample at frame 100, channel 1 is beyond" in line
    assert "FLOAT" in line
    assert "nothing was written" in line
    assert snapshot(tmp_path) == before  # no output, no temporary file
    double = np.full((2400, 1), 0.5)
    double[7] = 1e303  # finite, and beyond float64 at +120 dB
    source = write(tmp_path / "huge64.wav", double, subtype="DOUBLE")
    with pytest.raises(InputError, match="frame 7, channel 1 is not finite"):
        render_file(source, tmp_path / "o.wav", Waveshaper(mix=0.5, output_db=120.0))
    assert not (tmp_path / "o.wav").exists()


# ------------------------------------------------- case 9: THD of a steady tone


def analyzed(tmp_path: Path, x: np.ndarray, name: str = "x.wav") -> dict:
    path = write(tmp_path / name, x, subtype="DOUBLE")
    code, text, err = run("analyze", path, "--format", "json")
    assert code == 0, err
    return json.loads(text)


def test_thd_of_a_sine_and_of_a_clipped_sine(tmp_path) -> None:
    from scipy.integrate import quad

    # a 997 Hz sine clipped at half its amplitude: odd harmonics b_n of
    # clip(2 sin t) (the aliases of those above Nyquist fall between them)
    edge = math.asin(0.5)

    def b(n: int) -> float:
        inside = quad(lambda t: 2 * math.sin(t) * math.sin(n * t), 0, edge)[0]
        flat = quad(lambda t: math.sin(n * t), edge, math.pi / 2)[0]
        return 4 / math.pi * (inside + flat)

    expected = math.sqrt(sum(b(n) ** 2 for n in range(3, 21, 2))) / b(1)
    clipped = np.clip(sine(997.0, 1.0, 2.0), -1, 1)
    report = analyzed(tmp_path, clipped)
    assert report["fundamental_hz"][0] == pytest.approx(997.0, abs=1e-3)
    assert report["thd_percent"][0] == pytest.approx(100 * expected, rel=1e-5)
    clean = analyzed(tmp_path, sine(1000.0, 1.0), "clean.wav")
    assert clean["fundamental_hz"][0] == pytest.approx(1000.0, abs=1e-3)
    assert clean["thd_percent"][0] < 1e-6


def noises() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(19)
    t = np.arange(RATE) / RATE
    return {
        "dc": np.full(RATE, 0.5),
        "silence": np.zeros(RATE),
        "white noise": rng.normal(0, 0.1, RATE),
        "chirp": 0.5 * np.sin(2 * np.pi * (100 * t + 2500 * t**2)),
        "two tones": 0.4
        * (np.sin(2 * np.pi * 1000 * t) + np.sin(2 * np.pi * 1500 * t)),
        "a tone that stops": np.where(t < 0.5, 0.5 * np.sin(2 * np.pi * 1000 * t), 0),
        "a low tone too short": 0.5 * np.sin(2 * np.pi * 30 * t),
    }


@pytest.mark.parametrize("name", list(noises()))
def test_no_steady_tone_no_thd(tmp_path, name) -> None:
    x = noises()[name]
    assert steady_tone(x, RATE) is None
    assert math.isnan(thd(x, RATE))
    assert math.isnan(thd_n(x, RATE))
    report = analyzed(tmp_path, x)
    assert report["fundamental_hz"] == [None]
    assert report["thd_percent"] == [None]
    assert report["thd_n_percent"] == [None]


def test_no_steady_tone_in_the_table_and_the_csv(tmp_path) -> None:
    path = write(tmp_path / "dc.wav", np.full(RATE, 0.5), subtype="PCM_16")
    code, text, err = run("analyze", path)
    assert code == 0, err
    row = text.splitlines()[-1]
    assert row.count("n/a (no steady tone)") == 3
    assert "6001" not in text  # the frequency it used to report
    code, text, _ = run("analyze", path, "--format", "csv")
    assert text.splitlines()[1].endswith(",0,,,")  # clipped 0, then empty cells


def test_music_has_no_thd() -> None:
    report = analyze_file(ROOT / "data" / "demo_guitar_device.flac")
    assert report.fundamental_hz == [None]
    assert report.thd_percent == [None]


def test_steady_tones_as_documented() -> None:
    t = np.arange(RATE) / RATE
    # a tone with an unrelated tone 20 dB down: the stronger is the tone
    weak = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.05 * np.sin(2 * np.pi * 1100 * t)
    assert steady_tone(weak, RATE) == pytest.approx(1000.0, abs=1e-3)
    assert thd(weak, RATE) < 1e-4
    # a biased hard clipper: a steady pulse wave, its fundamental weak
    pulse = Waveshaper("hard_clip", drive_db=40, bias=0.9, dc_block=False)(
        sine(200.0, 1.0), RATE
    )
    assert steady_tone(pulse, RATE) == pytest.approx(200.0, abs=1e-2)
    # a tone with its second harmonic is a distorted tone (THD 50 %)
    pair = np.sin(2 * np.pi * 500 * t) + 0.5 * np.sin(2 * np.pi * 1000 * t)
    assert thd(pair, RATE) == pytest.approx(0.5, rel=1e-6)
    # 30 Hz: 30 periods are too few, 40 enough
    low = 0.5 * np.sin(2 * np.pi * 30 * np.arange(int(40 / 30 * RATE)) / RATE)
    assert steady_tone(low, RATE) == pytest.approx(30.0, abs=1e-2)


def test_analysis_refuses_bad_rates_and_frequencies() -> None:
    x = sine()
    for call, message in [
        (lambda: spectrum(x, 0), "sample_rate must be a finite number > 0, got 0"),
        (lambda: thd(x, math.nan), "sample_rate must be a finite number > 0"),
        (lambda: thd(x, RATE, f0=-5.0), "f0 must be a finite frequency > 0"),
        (lambda: aliasing(x, RATE, 0.0), "f0 must be a finite frequency > 0"),
    ]:
        with pytest.raises(ValueError, match=message):
            call()


def test_analyze_at_a_rate_below_the_band(tmp_path) -> None:
    path = write(tmp_path / "slow.wav", sine()[:1000], rate=8)
    code, text, err = run("analyze", path, "--format", "json")
    assert code == 0, err
    assert json.loads(text)["thd_percent"] == [None]


# ------------------------------------------------- case 10: array layouts


def test_soundfile_layout_is_refused_naming_both(tmp_path) -> None:
    frames_channels = np.stack([sine(), sine(500.0)], axis=1)  # sf.read's layout
    assert frames_channels.shape == (24000, 2)
    message = (
        r"24000 channels of 2 samples\? audio is \(channels, samples\); "
        r"for soundfile's \(frames, channels\) pass channels_last=True"
    )
    with pytest.raises(ValueError, match=message):
        Waveshaper()(frames_channels, RATE)
    with pytest.raises(ValueError, match=message):
        fit_device(frames_channels, frames_channels, RATE)
    with pytest.raises(ValueError, match=r"channels_last=True"):
        Waveshaper().stream(2, RATE).process(frames_channels)
    for analyse in (thd, thd_n, steady_tone, spectrum):
        with pytest.raises(ValueError, match=r"one channel.*x\[:, c\]"):
            analyse(frames_channels, RATE)


def test_channels_last_renders_like_channels_first() -> None:
    frames_channels = np.stack([sine(), sine(500.0)], axis=1)
    shaper = Waveshaper("arctan", drive_db=12.0)
    out = shaper(frames_channels, RATE, channels_last=True)
    assert out.shape == frames_channels.shape
    np.testing.assert_array_equal(out, shaper(frames_channels.T, RATE).T)
    stream = shaper.stream(2, RATE, channels_last=True)
    streamed = np.concatenate([stream.process(frames_channels[:1000]),
                               stream.process(frames_channels[1000:]),
                               stream.flush()])  # fmt: skip
    np.testing.assert_allclose(streamed, out, atol=1e-12)
    assert isinstance(stream, ShaperStream)


def test_up_to_max_channels(tmp_path) -> None:
    many = np.zeros((MAX_CHANNELS + 1, 64))
    with pytest.raises(ValueError, match=f"at most {MAX_CHANNELS} channels"):
        Waveshaper()(many, RATE)
    assert Waveshaper()(many[:MAX_CHANNELS], RATE).shape == (MAX_CHANNELS, 64)


@pytest.mark.parametrize("rate", [np.int64(RATE), np.float32(RATE)])
def test_numpy_sample_rates_are_numbers(rate) -> None:
    assert Waveshaper()(sine(), rate).shape == (24000,)


@pytest.mark.parametrize("rate", [math.inf, math.nan, 0, -1, True, "48000"])
def test_bad_sample_rates(rate) -> None:
    with pytest.raises(ValueError, match="sample_rate must be a finite number > 0"):
        Waveshaper()(sine(), rate)


# ------------------------------------------------- case 11: output subtypes


def test_mp3_to_wav_becomes_pcm_24_and_says_so(tmp_path) -> None:
    source = tmp_path / "in.mp3"
    try:
        write(source, sine(), format="MP3", subtype="MPEG_LAYER_III")
    except sf.LibsndfileError:
        pytest.skip("this libsndfile writes no MP3")
    code, text, err = run("shape", source, tmp_path / "out.wav")
    assert code == 0, err
    assert err.strip() == (
        f"Warning: {tmp_path / 'out.wav'}: WAV cannot hold the input's subtype "
        "MPEG_LAYER_III; writing PCM_24 (choose with --subtype)"
    )
    assert sf.info(tmp_path / "out.wav").subtype == "PCM_24"
    assert "WAV PCM_24" in text


@pytest.mark.parametrize(
    ("source", "subtype", "target", "written"),
    [
        ("in.wav", "FLOAT", "out.flac", "PCM_24"),
        ("in.wav", "DOUBLE", "out.flac", "PCM_24"),
        ("in.ogg", "VORBIS", "out.wav", "PCM_24"),
        ("in.wav", "PCM_32", "out.ogg", "VORBIS"),
    ],
)
def test_a_subtype_the_output_cannot_hold(tmp_path, source, subtype, target, written):
    path = write(tmp_path / source, sine(), subtype=subtype)
    with pytest.warns(UserWarning, match=f"cannot hold the input's subtype {subtype}"):
        report = render_file(path, tmp_path / target, Waveshaper())
    assert report.subtype == written == sf.info(tmp_path / target).subtype


def test_a_subtype_the_output_holds_is_kept_without_a_word(tmp_path) -> None:
    path = write(tmp_path / "in.wav", sine(), subtype="PCM_16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert render_file(path, tmp_path / "o.flac", Waveshaper()).subtype == "PCM_16"


@pytest.mark.parametrize(
    ("channels", "rate", "target", "extra", "message"),
    [
        (1, RATE, "o.wav", ("--subtype", "MPEG_LAYER_III"),
         "o.wav: WAV files cannot hold subtype MPEG_LAYER_III; use one of"),
        (10, RATE, "o.flac", (), "o.flac: cannot write FLAC PCM_16 with 10 channels"),
        (1, 44100, "o.ogg", ("--subtype", "OPUS"),
         "o.ogg: cannot write OGG OPUS with 1 channel at 44100 Hz"),
    ],
)  # fmt: skip
def test_an_output_libsndfile_cannot_write(tmp_path, channels, rate, target, extra,
                                           message) -> None:  # fmt: skip
    source = write(tmp_path / "in.wav", np.tile(sine()[:4800, None], channels), rate,
                   subtype="PCM_16")  # fmt: skip
    code, _, err = run("shape", source, tmp_path / target, *extra)
    assert code == 2, err
    line = one_error(err)
    assert message in line
    assert "MPEG_LAYER_III" not in line.split("use one of")[-1]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]


# ------------------------------------------------- case 17: presets


@pytest.mark.parametrize(
    ("preset", "message"),
    [
        ({"curve": 5, "drive_db": "x"}, "curve: must be a curve name, got 5"),
        ({"drive_db": "x"}, "drive_db: must be a number, got 'x'"),
        ({"drive_db": True}, "drive_db: must be a number, got True"),
        ({"drive_db": 7000}, "drive_db: must be in [-120, 120] dB, got 7000"),
        ({"mix": None}, "mix: must be a number, got None"),
        ({"dc_block": "no"}, "dc_block: must be true, false or null, got 'no'"),
        ({"quality": ["best"]}, "quality: must be one of draft, standard, best"),
        ({"oversample": 4.0}, "oversample: must be one of 1, 2, 4, 8, 16, got 4.0"),
        ({"oversample": True}, "oversample: must be one of 1, 2, 4, 8, 16, got True"),
        ({"antialias": {}}, "antialias: must be one of none, adaa1, adaa2, got {}"),
        ({"colour": "red"}, "unknown preset keys ['colour']"),
        ([1, 2], "a preset is a JSON object of settings"),
    ],
)
def test_a_bad_preset_is_one_line_naming_file_and_key(tmp_path, preset, message):
    source = write(tmp_path / "in.wav", sine(seconds=0.1), subtype="PCM_16")
    path = tmp_path / "p.json"
    path.write_text(json.dumps(preset))
    code, _, err = run("shape", source, tmp_path / "o.wav", "--preset", path)
    assert code == 2, err
    assert one_error(err).startswith(f"Error: {path}: {message}")
    assert not (tmp_path / "o.wav").exists()


def test_an_option_overrides_a_preset_and_its_error_names_the_option(tmp_path):
    source = write(tmp_path / "in.wav", sine(seconds=0.1), subtype="PCM_16")
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"curve": "gudermannian"}))
    code, _, err = run("shape", source, tmp_path / "o.wav", "--preset", path,
                       "--antialias", "adaa2")  # fmt: skip
    assert code == 2
    assert "Invalid value for '--antialias': adaa2: curve 'gudermannian' has no " in (
        one_error(err)
    )


# ------------------------------------------------- truncated files


@pytest.mark.parametrize(("name", "subtype"), [("t.wav", "PCM_16"),
                                               ("t.aiff", "PCM_24")])  # fmt: skip
def test_a_truncated_file_is_warned_about(tmp_path, name, subtype) -> None:
    whole = write(tmp_path / f"whole{Path(name).suffix}",
                  np.stack([sine(), sine()], axis=1), subtype=subtype)  # fmt: skip
    data = whole.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: len(data) // 2])
    frames = sf.info(cut).frames
    assert 11000 < frames < 12000  # what libsndfile finds of the 24000 declared
    expected = f"{cut}: read {frames} of the 24000 frames its header declares"
    with pytest.warns(UserWarning, match=expected):
        read_audio(cut)
    code, _, err = run("shape", cut, tmp_path / "o.wav")
    assert code == 0
    assert err.startswith(f"Warning: {expected} (a truncated file?)")
    code, _, err = run("analyze", cut)
    assert code == 0
    assert err.startswith(f"Warning: {expected}")


def test_a_whole_file_is_not_warned_about(tmp_path) -> None:
    path = write(tmp_path / "whole.wav", sine(), subtype="PCM_16")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_audio(path)
        read_audio(path, 100)


# ------------------------------------------------- overshoot past full scale


def test_the_overshoot_figure() -> None:
    """The documented figure: a hard clipper at +40 dB, never past 1 itself,
    rendered at 48 kHz (best), overshoots to 1.28 on a 9 kHz sine."""
    shaper = Waveshaper("hard_clip", drive_db=40.0, quality="best")
    assert np.abs(shaper.transfer(np.linspace(-1, 1, 1001))).max() <= 1.0
    peak = np.abs(shaper(sine(9000.0, 0.25, 1.0), RATE)).max()
    assert peak == pytest.approx(1.28, abs=0.01)
    worst = np.abs(shaper(sine(15000.0, 0.25, 1.0), RATE)).max()
    assert worst == pytest.approx(1.3, abs=0.02)
    doc = " ".join(Waveshaper.__doc__.split())
    assert "1.28 at 9 kHz, and up to about 1.3 (+2.2 dB) from 5 to 19 kHz" in doc
    code, text, _ = run("shape", "--help")
    assert code == 0
    flat = " ".join(text.split())
    assert "overshoots full scale" in flat
    assert "up to about 1.3 (+2.2 dB)" in flat


def test_limit_and_normalize_on_an_overshooting_render(tmp_path) -> None:
    source = write(tmp_path / "in.wav", sine(9000.0, 0.25, 1.0), subtype="FLOAT")
    shaper = Waveshaper("hard_clip", drive_db=40.0, quality="best")
    plain = render_file(source, tmp_path / "plain.wav", shaper)
    assert plain.peak == pytest.approx(1.28, abs=0.01)
    limited = render_file(source, tmp_path / "lim.wav", shaper, limit=True)
    samples, _ = read_audio(tmp_path / "lim.wav")
    assert limited.clipped == 0
    assert limited.limited > 0
    assert np.abs(samples).max() < 1.0
    normal = render_file(source, tmp_path / "norm.wav", shaper, normalize=True)
    samples, _ = read_audio(tmp_path / "norm.wav")
    assert 20 * math.log10(np.abs(samples).max()) == pytest.approx(-1.0, abs=1e-6)
    assert normal.gain_db == pytest.approx(-1.0 - 20 * math.log10(plain.peak))


# ------------------------------------------------- fit-shaper


def device_files(
    tmp_path: Path,
    dry_channels: int,
    wet_channels: int,
    rate: int = RATE,
    wet_rate: int | None = None,
) -> tuple[Path, Path]:
    dry = sine(110.0, 0.5, 0.8) * np.linspace(0.1, 1, RATE // 2)
    wet = Waveshaper("tanh", drive_db=12.0)(dry, rate)
    d = write(tmp_path / "dry.wav", np.tile(dry[:, None], dry_channels), rate,
              subtype="FLOAT")  # fmt: skip
    w = write(tmp_path / "wet.wav", np.tile(wet[:, None], wet_channels),
              wet_rate or rate, subtype="FLOAT")  # fmt: skip
    return d, w


@pytest.mark.parametrize(("dry", "wet"), [(2, 8), (8, 2), (2, 3)])
def test_fit_shaper_channel_counts_must_match(tmp_path, dry, wet) -> None:
    d, w = device_files(tmp_path, dry, wet)
    code, text, err = run("fit-shaper", d, w, "--curve", "tanh")
    assert code == 2
    assert one_error(err) == (
        f"Error: {w}: {wet} channels, but {d} has {dry}; give both the same "
        "number of channels, or one of them mono"
    )
    assert text == ""


def test_fit_shaper_mono_against_channels_is_averaged_and_says_so(tmp_path) -> None:
    d, w = device_files(tmp_path, 1, 8)
    code, text, err = run("fit-shaper", d, w, "--curve", "tanh")
    assert code == 0, err
    assert err.strip() == (
        f"Warning: {w}: its 8 channels are averaged, fitted against mono {d}"
    )
    assert "best: tanh drive_db=12.000" in text


def test_fit_shaper_sample_rates_must_match(tmp_path) -> None:
    d, w = device_files(tmp_path, 1, 1, wet_rate=44100)
    code, _, err = run("fit-shaper", d, w)
    assert code == 2
    assert f"{w}: sample rate 44100 Hz differs from {d}'s 48000 Hz" in one_error(err)


def test_fit_shaper_refuses_files_too_short_to_fit(tmp_path) -> None:
    short = write(tmp_path / "short.wav", sine(seconds=0.002), subtype="PCM_16")
    code, _, err = run("fit-shaper", short, short)
    assert code == 2
    assert one_error(err) == (
        f"Error: {short}: 96 frames; fitting a device needs at least 1024"
    )


@pytest.mark.parametrize("value", ["inf", "nan", "1e400"])
def test_fit_shaper_max_lag_must_be_finite(tmp_path, value) -> None:
    d, w = device_files(tmp_path, 1, 1)
    code, _, err = run("fit-shaper", d, w, "--max-lag-ms", value)
    assert code == 2
    assert "Invalid value for '--max-lag-ms'" in one_error(err)


# ------------------------------------------------- other members of the classes


def test_shape_never_writes_over_its_preset(tmp_path) -> None:
    source = write(tmp_path / "in.wav", sine(seconds=0.1), subtype="PCM_16")
    preset = tmp_path / "p.wav"  # a JSON preset with an audio name
    preset.write_text(json.dumps({"drive_db": 6.0}))
    before = preset.read_bytes()
    code, _, err = run("shape", source, preset, "--preset", preset, "--force")
    assert code == 2
    assert "p.wav: is an input file; refusing to overwrite it" in one_error(err)
    assert preset.read_bytes() == before


def test_a_truncated_flac_is_refused_in_one_line(tmp_path) -> None:
    noise = np.random.default_rng(19).normal(0, 0.1, (24000, 2))
    whole = write(tmp_path / "whole.flac", noise, subtype="PCM_16").read_bytes()
    cut = tmp_path / "cut.flac"
    cut.write_bytes(whole[: len(whole) // 2])
    code, text, err = run("analyze", cut)
    assert code == 2
    assert one_error(err).startswith(f"Error: {cut}: cannot read past frame ")
    assert text == ""


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: render_file("in.wav", "o.wav", Waveshaper(), block_frames=0),
         "block_frames must be >= 1, got 0"),
        (lambda: soft_limit(np.ones(4), knee=1.0), r"knee must be in \[0, 1\)"),
        (lambda: soft_limit(np.ones(4), knee=math.nan), "knee must be in"),
    ],
)  # fmt: skip
def test_other_arguments_out_of_range(call, message) -> None:
    with pytest.raises(ValueError, match=message):
        call()


def test_fit_device_checks_what_the_command_checks() -> None:
    dry = sine(110.0, 0.2, 0.8)
    stereo = np.stack([dry, dry])
    with pytest.raises(ValueError, match="wet has 3 channels, dry 2; give both"):
        fit_device(stereo, np.stack([dry, dry, dry]), RATE)
    with pytest.raises(FitError, match="the dry signal has 100 frames; fitting"):
        fit_device(dry[:100], dry[:100], RATE)
    with pytest.raises(ValueError, match="max_lag_s must be a finite number"):
        fit_device(dry, dry, RATE, max_lag_s=math.inf)
    with pytest.raises(ValueError, match="sample_rate must be a finite number"):
        fit_device(dry, dry, 0)
    fitted = fit_device(stereo.T, dry, RATE, curves=["tanh"], channels_last=True)
    assert fitted.best == "tanh"


def test_analysis_without_a_tone_is_nan_not_a_number() -> None:
    silence = np.zeros(RATE)
    assert math.isnan(aliasing(silence, RATE, 1000.0))
    assert np.all(np.isnan(harmonic_levels(np.full(RATE, 0.5), RATE)))
    levels = harmonic_levels(sine(1000.0, 1.0), RATE, count=3)
    assert levels[0] == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(ValueError, match="band 20-20000 Hz lies below"):
        estimate_fundamental(sine()[:1000], 8)


def test_a_float32_render_beyond_float32_is_refused() -> None:
    loud = np.full(4800, 3e38, dtype=np.float32)
    with pytest.raises(ValueError, match="the rendered audio has 4800 NaN or inf"):
        Waveshaper(mix=0.0, output_db=6.0)(loud, RATE)
    assert Waveshaper(mix=0.0)(loud, RATE).dtype == np.float32
