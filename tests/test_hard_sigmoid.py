"""The two hard sigmoids (issue 23, item 6): PyTorch's relu6(x + 3)/6
(``hard_sigmoid``) and the classic max(0, min(1, 0.2 x + 0.5)) of Keras 2
and Theano (``hard_sigmoid_classic``), each with derivative, inverse and
antiderivative. The mpmath tables (tests/test_accuracy_shapes.py) check
them to the ULP; here the definitions and the kinks."""

from __future__ import annotations

import numpy as np
import pytest

from scurve.core.shapes import REGISTRY

X = np.array([-10.0, -3.0, -2.5, -2.0, -1.0, 0.0, 0.3, 1.0, 2.5, 3.0, 10.0])


def classic(x):
    return np.maximum(0.0, np.minimum(1.0, 0.2 * x + 0.5))


def pytorch(x):
    return np.clip(x + 3, 0, 6) / 6


@pytest.mark.parametrize(
    ("name", "reference", "knee", "slope"),
    [("hard_sigmoid", pytorch, 3.0, 1 / 6),
     ("hard_sigmoid_classic", classic, 2.5, 0.2)],
)  # fmt: skip
def test_definitions_kinks_and_slopes(name, reference, knee, slope):
    curve = REGISTRY[name].unit
    np.testing.assert_allclose(curve(X), reference(X), rtol=1e-15, atol=1e-16)
    assert curve(np.array([-knee, knee])).tolist() == [0.0, 1.0]
    inside = np.abs(X) < knee
    d = curve.derivative(X)
    np.testing.assert_allclose(d[inside], slope, rtol=1e-15)
    assert np.all(d[~inside] == 0)
    u = np.array([0.0, 0.1, 0.5, 0.9, 1.0])
    np.testing.assert_allclose(curve(curve.inverse(u)), u, rtol=1e-15, atol=1e-16)
    assert curve.inverse(np.array([0.0, 1.0])).tolist() == [-knee, knee]
    # the antiderivative: F(x) = x past the upper knee, its integral below
    a, b = -knee - 1.0, 0.7
    grid = np.linspace(a, b, 200001)
    area = np.trapezoid(curve(grid), grid)
    assert curve.antiderivative(np.array([b]))[0] == pytest.approx(area, rel=1e-9)
    assert curve.antiderivative(np.array([knee + 2.0]))[0] == knee + 2.0


def test_the_two_differ_and_say_which_framework_is_which():
    assert REGISTRY["hard_sigmoid_classic"].unit(np.array([2.0]))[0] == 0.9
    assert REGISTRY["hard_sigmoid"].unit(np.array([2.0]))[0] == pytest.approx(5 / 6)
    text = REGISTRY["hard_sigmoid_classic"].description
    assert "Keras 2" in text
    assert "0.2x + 0.5" in text
    assert "PyTorch" in REGISTRY["hard_sigmoid"].description
