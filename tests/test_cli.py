"""The ``scurve`` command line: output, JSON round trips, errors, start-up cost."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from scurve.cli import main
from scurve.core import shapes

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "pandas", "lmfit", "matplotlib")
FORMS = ("native", "odd", "unit")


def run(*args: str) -> tuple[int, str, str]:
    """Run ``scurve ARGS`` in-process: exit code, stdout, stderr."""
    result = CliRunner().invoke(main, list(args), prog_name="scurve")
    # Every outcome, error or not, must end in SystemExit: never a traceback.
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    return result.exit_code, result.stdout, result.stderr


def eval_json(*args: str) -> dict:
    code, out, err = run("eval", "--format", "json", *args)
    assert code == 0, err
    return json.loads(out)


def number(value: float | str | None) -> float | None:
    """A number from eval's JSON, where infinities and NaN are strings."""
    return float(value) if isinstance(value, str) else value


# ---------------------------------------------------------------- the group


def test_help_lists_commands_and_exit_codes() -> None:
    code, out, _ = run("--help")
    assert code == 0
    assert "curves" in out
    assert "eval" in out
    assert "Exit codes" in out
    assert "2  usage or input error" in out


def test_version() -> None:
    code, out, _ = run("--version")
    assert code == 0
    assert out.strip() == "scurve, version 0.1.0"


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "import scurve.cli\n"
        "sys.argv = ['scurve', '--help']\n"
        "try:\n"
        "    scurve.cli.main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        f"print('HEAVY:', *[m for m in {HEAVY!r} if m in sys.modules])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert "Commands:" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY:"


@pytest.mark.parametrize(
    "command",
    [
        pytest.param([sys.executable, "-m", "scurve"], id="python -m scurve"),
        pytest.param([sys.executable, "cli.py"], id="python cli.py"),
        pytest.param(
            [str(Path(sys.executable).with_name("scurve"))], id="console script"
        ),
    ],
)
def test_entry_points_agree(command: list[str]) -> None:
    if not Path(command[0]).exists():
        pytest.skip(f"{command[0]} is not installed")
    proc = subprocess.run(
        [*command, "eval", "--format", "json", "logistic", "-2", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    values = [p["value"] for p in json.loads(proc.stdout)["points"]]
    assert values == [float(shapes.REGISTRY["logistic"].native(x)) for x in (-2, 0)]


def test_entry_point_usage_error_is_one_line() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scurve", "eval", "no-such-curve", "1"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.startswith("Error: Invalid value for 'CURVE'")
    assert len(proc.stderr.strip().splitlines()) == 1


# ---------------------------------------------------------------- curves


def test_curves_table_lists_every_shape() -> None:
    code, out, err = run("curves")
    assert code == 0
    assert err == ""
    header, *rows = out.strip().splitlines()
    assert header.split()[:4] == ["name", "form", "formula", "range"]
    assert [row.split()[0] for row in rows] == list(shapes.REGISTRY)
    for row, shape in zip(rows, shapes.REGISTRY.values(), strict=True):
        assert shape.native.formula in row


@pytest.mark.parametrize("form", FORMS)
def test_curves_json_describes_the_registry(form: str) -> None:
    code, out, _ = run("curves", "--format", "json", "--form", form)
    assert code == 0
    entries = json.loads(out)
    assert [e["name"] for e in entries] == list(shapes.REGISTRY)
    for entry, shape in zip(entries, shapes.REGISTRY.values(), strict=True):
        curve = getattr(shape, form)
        if curve is None:
            assert entry["formula"] is None
            continue
        assert entry["form"] == curve.form
        assert entry["formula"] == curve.formula
        assert tuple(entry["range"]) == curve.range
        assert entry["params"] == dict(curve.params)
        assert entry["has_inverse"] is curve.has_inverse
        assert entry["has_antiderivative"] is curve.has_antiderivative


def test_curves_odd_form_marks_shapes_without_one() -> None:
    code, out, _ = run("curves", "--form", "odd")
    assert code == 0
    without = [name for name, s in shapes.REGISTRY.items() if s.odd is None]
    assert without  # richards, gompertz, cloglog
    for name in without:
        (row,) = [r for r in out.splitlines() if r.startswith(name + " ")]
        assert "(no such form)" in row


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<")])
def test_curves_plot_writes_the_figure(
    tmp_path: Path, suffix: str, magic: bytes
) -> None:
    target = tmp_path / f"family{suffix}"
    code, out, err = run("curves", "--plot", str(target))
    assert code == 0
    assert target.read_bytes().startswith(magic)
    assert f"wrote {target}" in err
    assert out.startswith("name")  # the table still goes to stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == [target.name]


def test_curves_plot_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    code, _, err = run("curves", "--plot", str(tmp_path / "family.xyz"))
    assert code == 2
    assert "'--plot'" in err
    assert list(tmp_path.iterdir()) == []


def test_curves_plot_to_a_missing_directory_exits_2(tmp_path: Path) -> None:
    # checked before any work, as scurve fit checks its outputs (issue 19)
    code, _, err = run("curves", "--plot", str(tmp_path / "missing" / "f.png"))
    assert code == 2
    assert err.startswith("Error: ")
    assert "f.png: the directory " in err
    assert err.strip().endswith("missing' does not exist")
    assert len(err.strip().splitlines()) == 1


def test_curves_plot_without_matplotlib_exits_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    code, out, err = run("curves", "--plot", str(tmp_path / "family.png"))
    assert code == 1
    assert out.startswith("name")
    assert "pip install matplotlib" in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- eval


def test_eval_logistic_at_zero_table() -> None:
    code, out, _ = run("eval", "logistic", "0")
    assert code == 0
    header, row = out.strip().splitlines()
    assert header.split() == ["x", "value", "derivative", "inverse", "antiderivative"]
    x, value, derivative, inverse, antiderivative = row.split()
    assert (float(x), float(value), float(derivative)) == (0.0, 0.5, 0.25)
    assert inverse == "-inf"  # logit(0)
    assert float(antiderivative) == pytest.approx(math.log(2), rel=1e-11)


def test_eval_logistic_at_zero_json() -> None:
    result = eval_json("logistic", "0")
    assert result["curve"] == "logistic"
    assert result["form"] == "unit"
    (point,) = result["points"]
    assert point == {
        "x": 0.0,
        "value": 0.5,
        "derivative": 0.25,
        "inverse": "-inf",
        "antiderivative": math.log(2),
    }
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize(
    "args",
    [
        ["tanh", "-1", "0", "1"],
        ["tanh", "--", "-1", "0", "1"],
        ["--form", "odd", "tanh", "-1.0", "0", "1e0"],
        ["tanh", "-1", "--form=odd", "0", "1"],
    ],
)
def test_eval_takes_negative_numbers(args: list[str]) -> None:
    result = eval_json(*args)
    assert [p["x"] for p in result["points"]] == [-1.0, 0.0, 1.0]
    assert [p["value"] for p in result["points"]] == [
        -math.tanh(1.0),
        0.0,
        math.tanh(1.0),
    ]


@pytest.mark.parametrize(
    ("name", "form"),
    [
        (name, form)
        for name, shape in shapes.REGISTRY.items()
        for form in FORMS
        if getattr(shape, form) is not None
    ],
)
def test_eval_agrees_with_the_api_and_inverse_recovers_x(name: str, form: str) -> None:
    curve = getattr(shapes.REGISTRY[name], form)
    xs = [-0.5, 0.25, 0.7]  # where every curve of the family is strictly monotone
    points = eval_json(name, "--form", form, *map(repr, xs))["points"]
    assert [p["value"] for p in points] == [float(curve.value(x)) for x in xs]
    assert [p["derivative"] for p in points] == [float(curve.derivative(x)) for x in xs]
    if curve.has_antiderivative:
        expected = [float(curve.antiderivative(x)) for x in xs]
        assert [p["antiderivative"] for p in points] == expected
    else:
        assert all(p["antiderivative"] is None for p in points)
    if curve.has_inverse:
        values = [repr(p["value"]) for p in points]
        back = eval_json(name, "--form", form, *values)["points"]
        assert [p["inverse"] for p in back] == pytest.approx(xs, rel=1e-12, abs=1e-15)


def test_eval_marks_what_is_not_available() -> None:
    (point,) = eval_json("gudermannian", "0.5")["points"]
    assert point["antiderivative"] is None  # not elementary
    points = eval_json("tanh", "2", "1", "-1", "nan")["points"]
    inverses = [number(p["inverse"]) for p in points]
    assert inverses[0] is None  # 2 lies outside tanh's range
    assert inverses[1:3] == [math.inf, -math.inf]
    assert points[3]["value"] == "nan"  # NaN in, NaN out: not "n/a"
    code, out, _ = run("eval", "tanh", "2")
    assert code == 0
    assert out.split()[-2] == "n/a"


def test_eval_accepts_hyphens_and_capitals() -> None:
    expected = eval_json("hard_clip", "0.5")
    assert eval_json("hard-clip", "0.5") == expected
    assert eval_json("Hard-Clip", "0.5") == expected


def test_eval_passes_parameters() -> None:
    richards = shapes.REGISTRY["richards"].unit
    result = eval_json("richards", "0.5", "--param", "nu=0.5")
    assert result["params"] == {"nu": 0.5}
    (point,) = result["points"]
    assert point["value"] == float(richards.value(0.5, nu=0.5))
    assert point["value"] != float(richards.value(0.5))
    assert point["inverse"] == pytest.approx(float(richards.inverse(0.5, nu=0.5)))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-curve", "1"], "Invalid value for 'CURVE'"),
        (["tanh", "abc"], "'abc' is not a number"),
        (["tanh", "1", "--jsn"], "unknown option?"),
        (["tanh"], "Missing argument 'X...'"),
        ([], "Missing argument 'CURVE'. Choose from algebraic, arctan"),
        (["richards", "1", "--param", "nu"], "expected NAME=NUMBER"),
        (["richards", "1", "--param", "nu=big"], "expected NAME=NUMBER"),
        (["richards", "1", "--param", "mu=1"], "no parameter 'mu'"),
        (["tanh", "1", "--param", "nu=1"], "its parameters: none"),
        (["richards", "1", "--param", "nu=-1"], "nu must be > 0"),
        (["gompertz", "--form", "odd", "1"], "gompertz has no 'odd' form"),
        (["tanh", "1", "--form", "even"], "Invalid value for '--form'"),
    ],
)
def test_eval_input_errors_are_one_line_with_exit_code_2(
    args: list[str], message: str
) -> None:
    code, out, err = run("eval", *args)
    assert code == 2
    assert out == ""
    assert err.startswith("Error: ")
    assert message in err
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err


@pytest.mark.parametrize("args", [["no-such-command"], ["--no-such-option"]])
def test_group_usage_errors_are_one_line(args: list[str]) -> None:
    code, _, err = run(*args)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
