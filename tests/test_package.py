"""The package surface: lazy exports, version, light import."""

import importlib.metadata
import subprocess
import sys

import pytest

import scurve


def test_all_matches_lazy_exports() -> None:
    assert set(scurve.__all__) - {"__version__"} == set(scurve._EXPORTS)
    for name in scurve.__all__:
        assert getattr(scurve, name) is not None


def test_exports_are_the_core_objects() -> None:
    from scurve.core import shapes, special

    assert scurve.expit is special.expit
    assert scurve.SHAPES is shapes.REGISTRY


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        scurve.no_such_thing


def test_version_matches_metadata() -> None:
    assert scurve.__version__ == importlib.metadata.version("scurve")


def test_import_scurve_loads_no_numpy() -> None:
    code = "import sys, scurve; print('numpy' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"
