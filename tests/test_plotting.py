"""scurve.plotting: one line per curve, atomic figure files, lazy matplotlib."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from scurve import plotting
from scurve.core import shapes

plt = pytest.importorskip("matplotlib.pyplot")

FORMS = ("native", "odd", "unit")


@pytest.fixture(autouse=True)
def _close_figures() -> Iterator[None]:
    yield
    plt.close("all")


@pytest.mark.parametrize("form", FORMS)
def test_one_line_per_shape_in_registry_order(form: str) -> None:
    ax = plotting.plot_shapes(form=form)
    expected = [n for n, s in shapes.REGISTRY.items() if getattr(s, form) is not None]
    assert [line.get_label() for line in ax.get_lines()] == expected
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == expected
    assert form in ax.get_title()


def test_lines_are_the_curves_and_look_different() -> None:
    x = np.linspace(-3, 3, 61)
    ax = plotting.plot_shapes(form="unit", x=x)
    styles = set()
    for line, shape in zip(ax.get_lines(), shapes.REGISTRY.values(), strict=True):
        np.testing.assert_array_equal(line.get_xdata(), x)
        np.testing.assert_array_equal(line.get_ydata(), shape.unit.value(x))
        styles.add((line.get_color(), line.get_linestyle()))
    assert len(styles) == len(shapes.REGISTRY)


def test_derivatives() -> None:
    x = np.linspace(-2, 2, 9)
    ax = plotting.plot_shapes(["tanh", "arctan"], form="odd", x=x, derivative=True)
    tanh, arctan = ax.get_lines()
    np.testing.assert_array_equal(
        tanh.get_ydata(), shapes.REGISTRY["tanh"].odd.derivative(x)
    )
    np.testing.assert_array_equal(
        arctan.get_ydata(), shapes.REGISTRY["arctan"].odd.derivative(x)
    )
    assert ax.get_ylabel() == "f'(x)"


def test_draws_on_given_axes() -> None:
    fig, ax = plt.subplots()
    assert plotting.plot_shapes(["hard-clip", "logistic"], ax=ax) is ax
    assert [line.get_label() for line in ax.get_lines()] == ["hard_clip", "logistic"]
    assert fig.axes == [ax]


def test_a_single_name() -> None:
    ax = plotting.plot_shapes("gompertz")
    assert [line.get_label() for line in ax.get_lines()] == ["gompertz"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"names": ["no-such-curve"]}, "unknown curve 'no-such-curve'"),
        ({"names": ["gompertz"], "form": "odd"}, "gompertz has no 'odd' form"),
        ({"form": "even"}, "form must be"),
    ],
)
def test_bad_requests_raise_value_error(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        plotting.plot_shapes(**kwargs)


@pytest.mark.parametrize(
    ("suffix", "magic"), [(".png", b"\x89PNG"), (".pdf", b"%PDF"), (".svg", b"<")]
)
def test_save_figure_writes_the_format_of_the_extension(
    tmp_path: Path, suffix: str, magic: bytes
) -> None:
    ax = plotting.plot_shapes(["tanh"])
    target = tmp_path / f"tanh{suffix.upper()}"
    assert plotting.save_figure(ax.figure, target) == target
    assert target.read_bytes().startswith(magic)
    assert list(tmp_path.iterdir()) == [target]


def test_save_figure_gives_the_usual_permissions(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        target = plotting.save_figure(plotting.plot_shapes().figure, tmp_path / "f.png")
    finally:
        os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o644


def test_save_figure_leaves_no_partial_file_on_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fig = plotting.plot_shapes().figure
    target = tmp_path / "family.png"
    target.write_bytes(b"the previous figure")

    def fail_halfway(stream, **kwargs):
        stream.write(b"\x89PNG half a figure")
        raise RuntimeError("disk full")

    monkeypatch.setattr(fig, "savefig", fail_halfway)
    with pytest.raises(RuntimeError, match="disk full"):
        plotting.save_figure(fig, target)
    assert target.read_bytes() == b"the previous figure"
    assert list(tmp_path.iterdir()) == [target]


def test_save_figure_refuses_unknown_formats(tmp_path: Path) -> None:
    fig = plotting.plot_shapes(["erf"]).figure
    for name in ("family.xyz", "family"):
        with pytest.raises(ValueError, match=r"extensions .*\.png"):
            plotting.save_figure(fig, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_save_figure_into_a_missing_directory(tmp_path: Path) -> None:
    fig = plotting.plot_shapes(["erf"]).figure
    with pytest.raises(FileNotFoundError):
        plotting.save_figure(fig, tmp_path / "missing" / "erf.png")
    with pytest.raises(IsADirectoryError):
        plotting.save_figure(fig, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_matplotlib_says_how_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plotting.plot_shapes()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland only")
def test_matplotlib_is_imported_lazily_and_headless_on_agg() -> None:
    probe = (
        "import sys\n"
        "import scurve.plotting as p\n"
        "assert 'matplotlib' not in sys.modules\n"
        "p.plot_shapes(['tanh'])\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend().lower())\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")
    }
    proc = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "agg"
