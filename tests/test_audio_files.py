"""Audio files: render_file, analyze_file; scurve shape, analyze, fit-shaper."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from scurve.audio import Waveshaper, analyze_file, read_audio, render_file
from scurve.cli import main
from scurve.io import InputError

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo_guitar.flac"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert isinstance(result.exception, SystemExit | None), result.exception
    return result.exit_code, result.stdout, result.stderr


def tone(seconds: float = 0.5, rate: int = 48000, channels: int = 2) -> np.ndarray:
    """(frames, channels): a different sine on each channel, below full scale."""
    n = np.arange(int(seconds * rate))
    return np.stack(
        [(0.4 + 0.1 * c) * np.sin(2 * np.pi * (220 * (c + 1)) * n / rate)
         for c in range(channels)], axis=1)  # fmt: skip


def write(path: Path, data: np.ndarray, rate: int = 48000, **kws) -> Path:
    sf.write(path, data, rate, **kws)
    return path


# ---------------------------------------------------------------- layout


@pytest.mark.parametrize(
    ("name", "channels", "rate", "subtype"),
    [
        ("mono.wav", 1, 44100, "PCM_16"),
        ("stereo.flac", 2, 48000, "PCM_24"),
        ("quad.aiff", 4, 96000, "PCM_16"),
        ("stereo.wav", 2, 22050, "FLOAT"),
        ("stereo.ogg", 2, 48000, "VORBIS"),
    ],
)
def test_layout_is_kept(tmp_path, name, channels, rate, subtype) -> None:
    source = write(tmp_path / name, tone(0.3, rate, channels), rate, subtype=subtype)
    target = tmp_path / f"out{source.suffix}"
    report = render_file(source, target, Waveshaper("tanh", drive_db=6.0))
    info = sf.info(target)
    assert (info.channels, info.samplerate, info.subtype) == (channels, rate, subtype)
    assert info.frames == sf.info(source).frames
    assert report.clipped == 0


def test_subtype_and_format_can_change(tmp_path) -> None:
    source = write(tmp_path / "in.wav", tone(), subtype="PCM_16")
    render_file(source, tmp_path / "a.wav", Waveshaper(), subtype="PCM_24")
    assert sf.info(tmp_path / "a.wav").subtype == "PCM_24"
    render_file(source, tmp_path / "b.flac", Waveshaper())
    assert sf.info(tmp_path / "b.flac").format == "FLAC"
    with pytest.raises(InputError, match="cannot hold subtype FLOAT"):
        render_file(source, tmp_path / "c.flac", Waveshaper(), subtype="FLOAT")


def test_file_render_streams_like_memory(tmp_path) -> None:
    data = tone(1.0)
    source = write(tmp_path / "in.wav", data, subtype="DOUBLE")
    shaper = Waveshaper("arctan", drive_db=15.0, bias=0.2, mix=0.8)
    render_file(source, tmp_path / "out.wav", shaper, block_frames=1234)
    streamed, _ = read_audio(tmp_path / "out.wav")
    assert np.max(np.abs(streamed - shaper(data.T, 48000))) < 1e-6


def test_clipping_is_reported_and_bounded(tmp_path) -> None:
    source = write(tmp_path / "in.wav", tone(), subtype="PCM_16")
    loud = Waveshaper("tanh", drive_db=20.0, output_db=6.0)
    report = render_file(source, tmp_path / "clip.wav", loud)
    assert report.clipped > 1000
    assert report.peak == pytest.approx(10 ** (6 / 20), rel=1e-3)
    written, _ = read_audio(tmp_path / "clip.wav")
    assert np.max(np.abs(written)) <= 1.0
    normal = render_file(source, tmp_path / "norm.wav", loud, normalize=True)
    assert normal.clipped == 0
    assert 20 * np.log10(normal.peak) == pytest.approx(-1.0, abs=1e-6)
    limited = render_file(source, tmp_path / "lim.wav", loud, limit=True)
    assert limited.clipped == 0
    assert limited.limited > 0
    assert limited.peak < 1.0
    float_out = render_file(source, tmp_path / "f.wav", loud, subtype="FLOAT")
    assert float_out.clipped == 0  # float files hold the overs
    assert np.max(np.abs(read_audio(tmp_path / "f.wav")[0])) > 1.9


# ---------------------------------------------------------------- bad input


def test_bad_inputs(tmp_path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    corrupt = tmp_path / "corrupt.wav"
    corrupt.write_bytes(b"RIFF\x00\x01garbage" * 50)
    text = tmp_path / "notes.flac"
    text.write_text("not audio at all\n")
    silent = write(tmp_path / "zero.wav", np.zeros((0, 2)))
    nan = tone(0.2)
    nan[777, 1] = np.nan
    nan_file = write(tmp_path / "nan.wav", nan, subtype="FLOAT")
    good = write(tmp_path / "good.wav", tone())
    cases = [
        (empty, "the file is empty"),
        (corrupt, "not a readable audio file"),
        (text, "not a readable audio file"),
        (silent, "no audio frames"),
        (nan_file, "NaN or infinite sample at frame 777, channel 2"),
        (tmp_path / "missing.wav", "no such file"),
    ]
    for path, message in cases:
        out = tmp_path / "out.wav"
        with pytest.raises(InputError, match=message):
            render_file(path, out, Waveshaper())
        assert not out.exists()
    with pytest.raises(InputError, match=r"unsupported output format '\.mp4'"):
        render_file(good, tmp_path / "out.mp4", Waveshaper())
    with pytest.raises(InputError, match="is an input file"):
        render_file(good, good, Waveshaper(), force=True)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_cli_errors_exit_2_in_one_line(tmp_path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    good = write(tmp_path / "good.wav", tone())
    (tmp_path / "taken.wav").write_bytes(b"x")
    for args, message in [
        (("shape", empty, tmp_path / "o.wav"), "the file is empty"),
        (("shape", good, good), "refusing to overwrite"),
        (("shape", good, tmp_path / "taken.wav"), "use --force"),
        (("shape", good, tmp_path / "o.xyz"), "unsupported output format"),
        (("shape", good, tmp_path / "o.wav", "--curve", "gompertz"), "--curve"),
        (
            (
                "shape",
                good,
                tmp_path / "o.wav",
                "--curve",
                "gudermannian",
                "--antialias",
                "adaa2",
            ),
            "no second antiderivative",
        ),
        (("analyze", empty), "the file is empty"),
        (("fit-shaper", good, empty), "the file is empty"),
    ]:
        code, _, err = run(*args)
        assert code == 2, (args, err)
        assert message in err
        assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o.wav").exists()
    assert (tmp_path / "taken.wav").read_bytes() == b"x"


def test_help_imports_no_audio_stack() -> None:
    probe = (
        "import sys, scurve.cli\n"
        "sys.argv = ['scurve', 'shape', '--help']\n"
        "try:\n    scurve.cli.main()\nexcept SystemExit:\n    pass\n"
        "print('HEAVY:', *[m for m in ('numpy', 'scipy', 'soundfile') "
        "if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                          text=True, check=True, cwd=ROOT)  # fmt: skip
    assert "--drive-db" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:"


@pytest.mark.parametrize("command", ["shape", "analyze"])
def test_audio_commands_import_no_fitting_code(tmp_path, command) -> None:
    """``scurve shape`` and ``scurve analyze`` stand on the audio floor: a
    file shaped (with oversampling and the DC blocker) or measured loads
    neither lmfit, scipy.stats, scipy.optimize, pandas nor matplotlib."""
    source = write(tmp_path / "in.wav", tone(0.1))
    args = [command, str(source)]
    if command == "shape":
        args += [str(tmp_path / "out.wav"), "--bias", "0.2", "--quality", "best"]
    heavy = ("lmfit", "scipy.stats", "scipy.optimize", "pandas", "matplotlib")
    probe = (
        "import sys\n"
        "from scurve.cli import main\n"
        f"sys.argv = ['scurve', *{args!r}]\n"
        "try:\n    main()\nexcept SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        f"print('HEAVY:', *[m for m in {heavy!r} if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True,
                          text=True, cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:"


# ---------------------------------------------------------------- commands


def test_shape_and_analyze(tmp_path) -> None:
    source = write(tmp_path / "in.flac", tone(1.0), subtype="PCM_24")
    out = tmp_path / "out.flac"
    code, text, err = run("shape", source, out, "--curve", "tanh", "--drive-db", "18",
                          "--bias", "0.2", "--mix", "0.8", "--output-db", "-3",
                          "--quality", "best", "--oversample", "8",
                          "--antialias", "adaa2")  # fmt: skip
    assert code == 0, err
    assert "2 ch, 48000 Hz, FLAC PCM_24, 1.00 s" in text
    assert sf.info(out).frames == 48000
    code, text, err = run("analyze", out, "--format", "json")
    assert code == 0, err
    report = json.loads(text)
    assert report["channels"] == 2
    assert report["fundamental_hz"][0] == pytest.approx(220.0, abs=0.01)
    assert report["thd_percent"][0] > 5  # driven hard: strongly distorted
    expected = analyze_file(out)
    assert report["rms_dbfs"] == pytest.approx(expected.rms_dbfs)
    code, text, _ = run("analyze", source, "--plot", tmp_path / "spectrum.png")
    assert code == 0
    assert "thd_%" in text
    assert (tmp_path / "spectrum.png").stat().st_size > 0


def test_shape_reports_clipping(tmp_path) -> None:
    source = write(tmp_path / "in.wav", tone(), subtype="PCM_16")
    code, _, err = run("shape", source, tmp_path / "o.wav", "--drive-db", "20",
                       "--output-db", "6")  # fmt: skip
    assert code == 0
    assert "samples over full scale were clipped (peak +6.00 dBFS)" in err


def test_fit_shaper_preset_renders_like_the_device(tmp_path) -> None:
    rate = 48000
    n = np.arange(rate)
    envelope = np.linspace(0.05, 1.0, n.size)
    dry = envelope * (0.6 * np.sin(2 * np.pi * 110 * n / rate)
                      + 0.3 * np.sin(2 * np.pi * 165 * n / rate))  # fmt: skip
    device = Waveshaper("erf", drive_db=14.0, bias=0.1, output_db=-4.0, dc_block=False)
    wet = np.concatenate([np.zeros(25), device(dry, rate)])[: n.size]
    write(tmp_path / "dry.wav", dry, rate, subtype="FLOAT")
    write(tmp_path / "wet.wav", wet, rate, subtype="FLOAT")
    preset = tmp_path / "device.json"
    code, text, err = run("fit-shaper", tmp_path / "dry.wav", tmp_path / "wet.wav",
                          "--preset", preset)  # fmt: skip
    assert code == 0, err
    assert "lag 25 samples" in text
    assert "best: erf" in text
    settings = json.loads(preset.read_text())
    assert settings["drive_db"] == pytest.approx(14.0, abs=0.1)
    code, _, err = run("shape", tmp_path / "dry.wav", tmp_path / "copy.wav",
                       "--preset", preset, "--no-dc-block")  # fmt: skip
    assert code == 0, err
    copy, _ = read_audio(tmp_path / "copy.wav")
    assert np.max(np.abs(copy[0] - device(dry, rate))) < 5e-3


def test_demo_audio_is_what_the_script_makes() -> None:
    import runpy

    script = runpy.run_path(str(ROOT / "data" / "make_demo_audio.py"))
    rng = np.random.default_rng(7)
    dry = script["riff"](rng)
    stored, rate = read_audio(DEMO)
    assert rate == 44100
    assert sf.info(DEMO).subtype == "PCM_16"
    assert np.max(np.abs(stored[0] - dry)) <= 1 / 32768  # 16-bit rounding
    assert DEMO.stat().st_size < 300_000
    device = ROOT / "data" / "demo_guitar_device.flac"
    assert sf.info(device).frames == sf.info(DEMO).frames
    readme = (ROOT / "data" / "README.md").read_text()
    assert "demo_guitar.flac" in readme
    assert "demo_guitar_device.flac" in readme


def test_demo_device_is_recovered() -> None:
    dry, rate = read_audio(DEMO)
    wet, _ = read_audio(ROOT / "data" / "demo_guitar_device.flac")
    from scurve.audio.device import fit_device

    fit = fit_device(dry, wet, rate, curves=["arctan", "tanh", "algebraic"])
    assert fit.best == "arctan"
    assert fit.lag == 64
    assert fit.settings["drive_db"] == pytest.approx(15.0, abs=0.2)
    assert fit.settings["bias"] == pytest.approx(0.1, abs=0.01)
    assert fit.settings["output_db"] == pytest.approx(-4.0, abs=0.1)
