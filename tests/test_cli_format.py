"""``--format table|csv|json`` on every command that prints results."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

from scurve.cli import main
from scurve.core import shapes
from scurve.models import REGISTRY

ROOT = Path(__file__).resolve().parents[1]
RYEGRASS = ROOT / "data" / "ryegrass.csv"
RYE = ("--x", "conc", "--y", "rootl")


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args], prog_name="scurve")
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def formats(*args: str | Path) -> dict[str, str]:
    """stdout of the command in each format (each must exit 0)."""
    out = {}
    for fmt in ("table", "csv", "json"):
        code, text, err = run(*args, "--format", fmt)
        assert code == 0, (fmt, err)
        out[fmt] = text
    return out


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def saved_fit(tmp_path: Path) -> Path:
    path = tmp_path / "rye.json"
    assert run("fit", RYEGRASS, "--model", "hill", *RYE, "-o", path)[0] == 0
    return path


@pytest.fixture
def tone(tmp_path: Path) -> Path:
    n = np.arange(4800)
    path = tmp_path / "tone.wav"
    sf.write(path, 0.5 * np.sin(2 * np.pi * 440 * n / 48000), 48000)
    return path


def test_curves() -> None:
    out = formats("curves")
    assert out["table"].startswith("name")
    table = rows(out["csv"])
    assert [r["name"] for r in table] == list(shapes.REGISTRY)
    assert list(table[0]) == [
        "name", "form", "formula", "range_low", "range_high", "params",
        "has_inverse", "has_antiderivative",
    ]  # fmt: skip
    richards = next(r for r in table if r["name"] == "richards")
    assert richards["params"] == "nu=1"
    assert [e["name"] for e in json.loads(out["json"])] == list(shapes.REGISTRY)


def test_eval() -> None:
    out = formats("eval", "tanh", "2", "0.5", "nan")
    assert out["table"].split("\n")[0].split() == [
        "x", "value", "derivative", "inverse", "antiderivative",
    ]  # fmt: skip
    outside, inside, nan = rows(out["csv"])
    assert outside["inverse"] == ""  # n/a: 2 is outside tanh's range
    assert float(inside["value"]) == float(np.tanh(0.5))  # full precision
    assert nan["value"] == "nan"
    points = json.loads(out["json"])["points"]
    assert (points[0]["inverse"], points[2]["value"]) == (None, "nan")


def test_models() -> None:
    out = formats("models")
    table = rows(out["csv"])
    assert [r["name"] for r in table] == list(REGISTRY)
    assert list(table[0]) == [
        "name", "model", "formula", "parameters", "derived", "options",
    ]  # fmt: skip
    hill = next(r for r in table if r["name"] == "hill")
    assert "log_ec50" in hill["parameters"]
    assert "ec50 = " in hill["derived"]
    assert [e["name"] for e in json.loads(out["json"])] == list(REGISTRY)


def test_fit_and_compare() -> None:
    out = formats("fit", RYEGRASS, "--model", "hill", *RYE)
    assert out["table"].startswith("hill  (95% intervals")
    (row,) = rows(out["csv"])
    assert row["status"] == "ok"
    assert json.loads(out["json"])["groups"][0]["name"] == "hill"
    out = formats("compare", RYEGRASS, "--models", "hill,sigmoid", *RYE)
    assert [r["model"] for r in rows(out["csv"])] == ["hill", "sigmoid"]
    assert len(json.loads(out["json"])["groups"][0]["models"]) == 2


def test_predict(saved_fit: Path) -> None:
    out = formats("predict", saved_fit, "--x", "1,3")
    assert out["table"].split("\n")[0].split() == ["x", "y", "y_lower", "y_upper"]
    table = rows(out["csv"])
    assert [float(r["x"]) for r in table] == [1.0, 3.0]
    points = json.loads(out["json"])["points"]
    assert [p["y"] for p in points] == pytest.approx([float(r["y"]) for r in table])


def test_shape_and_analyze(tone: Path, tmp_path: Path) -> None:
    outputs = {}
    for fmt in ("table", "csv", "json"):
        target = tmp_path / f"{fmt}.wav"
        code, outputs[fmt], err = run("shape", tone, target, "--format", fmt)
        assert code == 0, err
    assert outputs["table"].startswith(str(tmp_path / "table.wav"))
    (row,) = rows(outputs["csv"])
    assert (row["channels"], row["curve"], row["quality"]) == ("1", "tanh", "standard")
    assert json.loads(outputs["json"])["shaper"]["curve"] == "tanh"
    out = formats("analyze", tone)
    assert "thd_%" in out["table"]
    (channel,) = rows(out["csv"])
    assert float(channel["fundamental_hz"]) == pytest.approx(440, abs=1)
    assert json.loads(out["json"])["channels"] == 1


def test_fit_shaper(tmp_path: Path) -> None:
    rate = 48000
    n = np.arange(rate // 4)
    dry = np.linspace(0.05, 1.0, n.size) * np.sin(2 * np.pi * 110 * n / rate)
    wet = np.tanh(2 * dry)
    sf.write(tmp_path / "dry.wav", dry, rate, subtype="FLOAT")
    sf.write(tmp_path / "wet.wav", wet, rate, subtype="FLOAT")
    out = formats(
        "fit-shaper", tmp_path / "dry.wav", tmp_path / "wet.wav", "--curve", "tanh",
        "--curve", "erf",
    )  # fmt: skip
    assert "best: tanh" in out["table"]
    table = rows(out["csv"])
    assert table[0]["curve"] == "tanh"
    assert list(table[0]) == [
        "curve", "aicc", "rms_residual", "drive_db", "bias", "output_db",
    ]  # fmt: skip
    assert json.loads(out["json"])["best"] == "tanh"


@pytest.mark.parametrize(
    "args", [["curves"], ["models"], ["eval", "tanh", "0"], ["analyze", "x.wav"]]
)
def test_json_flag_is_gone(args: list[str]) -> None:
    code, out, err = run(*args, "--json")
    assert code == 2
    assert out == ""
    assert err.startswith("Error: ")
