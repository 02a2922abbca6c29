"""docs/make_gallery.py (issue 22): every figure kind of the gallery is made
from data/ and listed in docs/gallery.md; the committed gallery is complete."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("matplotlib")

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "docs" / "make_gallery.py"
PNG = b"\x89PNG\r\n\x1a\n"


def gallery():
    spec = importlib.util.spec_from_file_location("make_gallery", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


def test_the_script_draws_every_figure_kind(tmp_path: Path) -> None:
    module = gallery()
    written = module.main(tmp_path, dpi=30)
    names = {entry.name for entry in module.ENTRIES}
    assert {p.name for p in written} == {f"{n}.png" for n in names}
    for path in written:
        assert path.parent == tmp_path / "gallery"
        assert path.read_bytes()[:8] == PNG
    kinds = {name.split("_")[0] for name in names}
    assert kinds == {"dose", "growth", "diffusion", "audio", "shapes"}
    text = (tmp_path / "gallery.md").read_text()
    linked = re.findall(r"!\[[^]]*\]\(gallery/([\w.]+)\)", text)
    assert sorted(linked) == sorted(p.name for p in written)


def test_the_committed_gallery_is_complete() -> None:
    text = (ROOT / "docs" / "gallery.md").read_text()
    linked = re.findall(r"!\[[^]]*\]\(gallery/([\w.]+)\)", text)
    expected = {f"{entry.name}.png" for entry in gallery().ENTRIES}
    assert set(linked) == expected
    for name in expected:
        assert (ROOT / "docs" / "gallery" / name).read_bytes()[:8] == PNG
