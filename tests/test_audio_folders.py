"""``scurve shape IN... --out-dir DIR`` and ``scurve shape DIR OUTDIR``:
whole folders, files in parallel, a failed file reported and the rest done."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import soundfile as sf
from click.testing import CliRunner

from scurve.audio import Waveshaper
from scurve.cli import main


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write(path: Path, seconds: float = 0.2, rate: int = 48000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    n = np.arange(int(seconds * rate))
    x = 0.5 * np.sin(2 * np.pi * 440 * n / rate)
    subtype = "FLOAT" if path.suffix == ".wav" else "PCM_24"
    sf.write(path, np.stack([x, -x], axis=1), rate, subtype=subtype)
    return path


def digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def expected(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, always_2d=True)
    return Waveshaper("tanh", drive_db=12.0)(audio, rate, channels_last=True)


def test_a_folder_in_a_folder_out_with_a_corrupt_file(tmp_path) -> None:
    src = tmp_path / "in"
    write(src / "a.wav")
    write(src / "sub" / "b.flac")
    write(src / "sub" / "deep" / "c.wav")
    (src / "sub" / "bad.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEjunk" * 4)
    (src / "notes.txt").write_text("not audio\n")
    before = digest(src)
    code, out, err = run("shape", src, tmp_path / "out", "--drive-db", "12")
    assert code == 1
    lines = err.strip().splitlines()
    assert sum(line.startswith("Error:") for line in lines) == 2
    assert any("bad.wav: not a readable audio file" in line for line in lines)
    assert lines[-1].startswith("Error: 1 of 4 files failed:")
    assert lines[-1].endswith("sub/bad.wav")
    assert digest(src) == before  # inputs untouched, byte for byte
    made = sorted(str(p.relative_to(tmp_path / "out"))
                  for p in (tmp_path / "out").rglob("*") if p.is_file())  # fmt: skip
    assert made == ["a.wav", "sub/b.flac", "sub/deep/c.wav"]  # layout kept
    got, _ = sf.read(tmp_path / "out" / "sub" / "deep" / "c.wav", always_2d=True)
    np.testing.assert_allclose(got, expected(src / "sub" / "deep" / "c.wav"),
                               rtol=0, atol=1e-6)  # fmt: skip
    assert "sub/deep/c.wav" in out


def test_files_into_an_out_dir(tmp_path) -> None:
    a = write(tmp_path / "x" / "a.wav")
    b = write(tmp_path / "y" / "b.wav")
    code, out, err = run("shape", a, b, "--out-dir", tmp_path / "out")
    assert (code, err) == (0, "")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.wav", "b.wav"]
    assert out.count("\n") == 2


def test_two_inputs_of_one_name_are_refused(tmp_path) -> None:
    a = write(tmp_path / "x" / "a.wav")
    b = write(tmp_path / "y" / "a.wav")
    code, _, err = run("shape", a, b, "--out-dir", tmp_path / "out")
    assert code == 2
    assert err.startswith("Error: ")
    assert err.count("\n") == 1
    assert "a.wav" in err
    assert not any((tmp_path / "out").rglob("*.wav"))


def test_existing_outputs_stop_the_folder_before_any_work(tmp_path) -> None:
    src = tmp_path / "in"
    write(src / "a.wav")
    write(src / "b.wav")
    taken = write(tmp_path / "out" / "b.wav")
    before = taken.read_bytes()
    code, _, err = run("shape", src, tmp_path / "out")
    assert code == 2
    assert "use --force" in err
    assert err.count("\n") == 1
    assert not (tmp_path / "out" / "a.wav").exists()
    assert taken.read_bytes() == before


def test_out_dir_inside_the_input_folder_is_refused(tmp_path) -> None:
    src = tmp_path / "in"
    write(src / "a.wav")
    code, _, err = run("shape", src, src / "shaped")
    assert code == 2
    assert err.count("\n") == 1
    assert sorted(p.name for p in src.rglob("*")) == ["a.wav"]


def test_usage_errors(tmp_path) -> None:
    a = write(tmp_path / "a.wav")
    cases = [
        ((), "give IN and OUT"),
        ((a,), "give IN and OUT"),
        ((a, a, a), "give IN and OUT"),
        ((tmp_path / "empty", tmp_path / "out"), "no such file"),
    ]
    (tmp_path / "nothing").mkdir()
    cases.append(((tmp_path / "nothing", tmp_path / "out"), "no audio files"))
    for args, message in cases:
        code, _, err = run("shape", *args)
        assert code == 2, args
        assert err.startswith("Error: "), err
        assert err.count("\n") == 1, err
        assert message in err, err
