"""Second antiderivatives of the odd curves and the ADAA kernels built on them."""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from scipy import integrate

from scurve.audio import adaa
from scurve.core.shapes import REGISTRY

mpmath.mp.dps = 40
# the references split at kinks; quad still warns about roundoff at 1e-14
pytestmark = pytest.mark.filterwarnings("ignore::scipy.integrate.IntegrationWarning")

# the exact odd curves (slope 1 at 0), for mpmath references
EXACT = {
    "tanh": mpmath.tanh,
    "arctan": lambda x: 2 / mpmath.pi * mpmath.atan(mpmath.pi * x / 2),
    "erf": lambda x: mpmath.erf(mpmath.sqrt(mpmath.pi) * x / 2),
    "algebraic": lambda x: x / mpmath.sqrt(1 + x * x),
    "hard_clip": lambda x: max(-1, min(1, x)),
    "cubic": lambda x: x - 4 * x**3 / 27 if abs(x) <= 1.5 else mpmath.sign(x),
}
KINKS = {"hard_clip": (1,), "cubic": (1.5,)}
POINTS = (1e-8, 1e-3, 0.1, 0.159, 0.16, 0.249, 0.25, 0.499, 0.5, 0.75, 1.0, 1.3,
          1.5, 2.0, 5.0, 12.0, 31.6, 400.0)  # fmt: skip


def f2_reference(name: str, x: float) -> float:
    """F2(x) = int_0^x (x - t) f(t) dt at 40 digits."""
    f = EXACT[name]
    x = mpmath.mpf(x)
    cuts = [mpmath.mpf(0)] + [mpmath.mpf(k) for k in KINKS.get(name, ()) if k < x]
    return float(mpmath.quad(lambda t: (x - t) * f(t), [*cuts, x]))


@pytest.mark.parametrize("name", sorted(EXACT))
def test_second_antiderivative_matches_mpmath(name: str) -> None:
    curve = REGISTRY[name].odd
    xs = np.array(POINTS)
    got = curve.second_antiderivative(xs)
    ref = np.array([f2_reference(name, x) for x in POINTS])
    rel = np.abs(got - ref) / np.abs(ref)
    worst = int(np.argmax(rel))
    assert rel[worst] < 1e-14, f"{name}: {rel[worst]:.2e} at x = {xs[worst]!r}"
    # odd, and F2(0) = 0
    np.testing.assert_array_equal(curve.second_antiderivative(-xs), -got)
    assert curve.second_antiderivative(0.0) == 0.0


@pytest.mark.parametrize("name", sorted(EXACT))
def test_second_antiderivative_differentiates_to_the_first(name: str) -> None:
    curve = REGISTRY[name].odd
    x = np.linspace(-6, 6, 241) + 0.013
    h = 1e-5
    slope = (
        curve.second_antiderivative(x + h) - curve.second_antiderivative(x - h)
    ) / (2 * h)
    np.testing.assert_allclose(slope, curve.antiderivative(x), rtol=1e-8, atol=1e-9)


@pytest.mark.parametrize("name", sorted(EXACT))
def test_second_antiderivative_edges(name: str) -> None:
    curve = REGISTRY[name].odd
    with np.errstate(all="raise"):
        y = curve.second_antiderivative(
            np.array([-np.inf, np.inf, np.nan, 1e300, -1e-300])
        )
    assert y[0] == -np.inf
    assert y[1] == np.inf
    assert np.isnan(y[2])
    assert np.isfinite(y[3])
    assert y[3] > 0
    assert y[4] <= 0
    assert curve.second_antiderivative(np.float32(0.5)).dtype == np.float32


def test_gudermannian_has_no_antiderivatives() -> None:
    odd = REGISTRY["gudermannian"].odd
    assert not odd.has_second_antiderivative
    with pytest.raises(NotImplementedError, match="second antiderivative"):
        odd.second_antiderivative(1.0)


def breaks(curve, a: float, b: float) -> list[float]:
    """Where a -> b crosses a kink of the curve, as fractions of the way."""
    kinks = adaa.KINKS.get(curve.name, ())
    return [(k - a) / (b - a) for k in kinks if b != a and 0 < (k - a) / (b - a) < 1]


def mean(curve, a: float, b: float, weight) -> float:
    """int_0^1 weight(s) f(a + s (b - a)) ds by adaptive quadrature."""

    def integrand(s: float) -> float:
        return weight(s) * float(curve.value(a + s * (b - a)))

    edges = [0.0, *sorted(breaks(curve, a, b)), 1.0]
    return sum(
        integrate.quad(integrand, lo, hi, epsabs=1e-16, epsrel=1e-14)[0]
        for lo, hi in itertools.pairwise(edges)
    )


def box(curve, a: float, b: float) -> float:
    return mean(curve, a, b, lambda s: 1.0)


def triangle(curve, a: float, b: float, c: float) -> float:
    """The triangle-weighted mean over a -> b -> c (rising, then falling)."""
    return mean(curve, a, b, lambda s: s) + mean(curve, b, c, lambda s: 1 - s)


STEPS = (0.0, 1e-12, 1e-7, 1e-4, 9.9e-3, 1.1e-2, 2.3e-2, 4e-2, 0.12, 0.7)


@pytest.mark.parametrize("name", sorted(EXACT))
def test_adaa1_is_the_mean_over_the_segment(name: str) -> None:
    curve = REGISTRY[name].odd
    worst = 0.0
    for start in (-3.7, -0.2, 0.0, 0.4, 0.999, 1.48, 25.0):
        for step in STEPS:
            y = adaa.adaa1(curve, np.array([[start + step]]), np.array([start]))
            ref = box(curve, start, start + step)
            worst = max(worst, abs(float(y[0, 0]) - ref))
    assert worst < 1e-11, f"{name}: {worst:.2e}"


@pytest.mark.parametrize("name", sorted(EXACT))
def test_adaa2_is_the_triangle_mean(name: str) -> None:
    curve = REGISTRY[name].odd
    worst = 0.0
    for start in (-3.7, -0.2, 0.0, 0.4, 0.999, 1.48, 25.0):
        for s1, s2 in zip(STEPS, reversed(STEPS), strict=True):
            a, b, c = start, start + s1, start + s1 - s2
            y = adaa.adaa2(curve, np.array([[c]]), np.array([[a, b]]))
            worst = max(worst, abs(float(y[0, 0]) - triangle(curve, a, b, c)))
    assert worst < 3e-10, f"{name}: {worst:.2e}"


def test_adaa2_has_no_null_at_a_third_of_the_rate() -> None:
    # on a linear stretch, the kernel is (1, 4, 1)/6: at fs/3 its gain is 1/2,
    # where the plain second-order form (1, 1, 1)/3 is 0
    n = np.arange(600)
    x = 0.2 * np.cos(2 * np.pi * n / 3)
    y = adaa.adaa2(REGISTRY["hard_clip"].odd, x[None, :], np.zeros((1, 2)))[0]
    gain = np.abs(np.fft.rfft(y[-300:]))[100] / np.abs(np.fft.rfft(x[-300:]))[100]
    assert gain == pytest.approx(0.5, abs=1e-12)


def test_adaa_stays_accurate_on_quiet_signals() -> None:
    # float32 divided differences would collapse here; float64 with the
    # quadrature fallback keeps a -200 dBFS sine intact
    curve = REGISTRY["tanh"].odd
    n = np.arange(2000)
    x = 1e-10 * np.sin(2 * np.pi * 1000 * n / 48000)
    y1 = adaa.adaa1(curve, x[None, :], np.zeros(1))[0]
    midpoints = (x + np.concatenate([[0.0], x[:-1]])) / 2
    np.testing.assert_allclose(y1, midpoints, rtol=1e-12, atol=1e-24)
    assert math.isclose(float(np.std(y1)), float(np.std(midpoints)), rel_tol=1e-9)
