"""The Bass kernels of the core (scurve.special) against mpmath at 60 digits.

NUMERICS.md point 4: composite model functions within 6 (1 + s) ULP, with
s = (p+q) t + |ln(q/p)| the summed size of the rounded terms inside the
exponentials. Failure messages print the worst input.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from scurve.core import special
from scurve.models import diffusion

EPS = float(np.finfo(np.float64).eps)
TINY = float(np.finfo(np.float64).tiny)

TIMES = np.concatenate([[0.0], np.geomspace(1e-12, 2e3, 23)])
PQ = [
    (p, q)
    for p in (1e-300, 1e-8, 1e-3, 0.03, 0.5)
    for q in (0.0, 1e-12, 0.1, 0.38, 1.5)
]


def _reference(t: float, p: float, q: float) -> tuple[float, float, float]:
    """(F, 1 - F, f) at the exact binary t, p, q, without cancellation."""
    with mpmath.workdps(60):
        t_, p_, q_ = mpmath.mpf(t), mpmath.mpf(p), mpmath.mpf(q)
        r = p_ + q_
        e = mpmath.exp(-r * t_)
        den = p_ + q_ * e
        cdf = -p_ * mpmath.expm1(-r * t_) / den  # 1 - e cancels (NUMERICS 1)
        survival = r * e / den  # 1 - F = (p+q) E / (p + q E)
        pdf = p_ * r * r * e / den**2
        return float(cdf), float(survival), float(pdf)


def _ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    spacing = np.spacing(np.maximum(np.abs(ref), TINY))
    return np.abs(got - ref) / spacing


@pytest.fixture(scope="module")
def grid() -> dict[str, np.ndarray]:
    t, p, q = (
        np.array(v)
        for v in zip(*[(t, p, q) for p, q in PQ for t in TIMES], strict=True)
    )
    refs = np.array([_reference(*row) for row in zip(t, p, q, strict=True)])
    s = (p + q) * t + np.where(q > 0, np.abs(np.log(np.where(q > 0, q, 1) / p)), 0)
    return {
        "t": t,
        "p": p,
        "q": q,
        "s": s,
        "cdf": refs[:, 0],
        "survival": refs[:, 1],
        "pdf": refs[:, 2],
    }


@pytest.mark.parametrize("name", ["cdf", "survival", "pdf"])
def test_kernels_within_the_condition_scaled_budget(grid, name):
    function = getattr(special, f"bass_{name}")
    with np.errstate(all="raise"):
        got = function(grid["t"], grid["p"], grid["q"])
    ulps = _ulps(got, grid[name])
    budget = 6 * (1 + grid["s"])
    worst = int(np.argmax(ulps / budget))
    assert np.all(ulps <= budget), (
        f"bass_{name}: {ulps[worst]:.3g} ULP (budget {budget[worst]:.3g}) at "
        f"t={grid['t'][worst]!r}, p={grid['p'][worst]!r}, q={grid['q'][worst]!r}"
    )


def test_increment_keeps_its_digits_early_and_late(grid):
    # periods of one unit: the increment of the reference, carried by the
    # condition number max(|a|, |b|)/|a - b| of the difference it is
    t, p, q = grid["t"], grid["p"], grid["q"]
    start = np.maximum(t - 1.0, 0.0)
    with np.errstate(all="raise"):
        got = special.bass_increment(start, t, p, q)
    ref, condition = [], []
    for a, b, pi, qi in zip(start, t, p, q, strict=True):
        fa, sa, _ = _reference(a, pi, qi)
        fb, sb, _ = _reference(b, pi, qi)
        exact = _increment_reference(a, b, pi, qi)
        ref.append(exact)
        # the difference the kernel takes: of F early, of 1 - F late
        big = max(sa, sb) if fb > 0.5 else max(fa, fb)
        condition.append(big / exact if exact > 0 else 1.0)
    ref, condition = np.array(ref), np.array(condition)
    relative = np.abs(got - ref) / np.maximum(np.abs(ref), TINY)
    budget = 12 * (1 + grid["s"]) * np.maximum(condition, 1.0) * EPS
    worst = int(np.argmax(relative / budget))
    assert np.all((relative <= budget) | (ref < 1e-300)), (
        f"{relative[worst] / EPS:.3g} eps at t={t[worst]!r}, p={p[worst]!r}, "
        f"q={q[worst]!r}"
    )
    assert np.all(got >= 0)


def _increment_reference(a: float, b: float, p: float, q: float) -> float:
    with mpmath.workdps(80):
        a_, b_, p_, q_ = (mpmath.mpf(v) for v in (a, b, p, q))
        r = p_ + q_

        def survival(t):
            e = mpmath.exp(-r * t)
            return r * e / (p_ + q_ * e)

        return float(survival(a_) - survival(b_))


def test_exact_values_limits_and_special_inputs():
    p, q = 0.03, 0.38
    assert special.bass_cdf(0.0, p, q) == 0.0
    assert special.bass_cdf(-3.0, p, q) == 0.0  # before launch
    assert special.bass_survival(-3.0, p, q) == 1.0
    assert special.bass_pdf(-1e-9, p, q) == 0.0
    assert special.bass_cdf(np.inf, p, q) == 1.0
    assert special.bass_survival(np.inf, p, q) == 0.0
    assert special.bass_pdf(np.inf, p, q) == 0.0
    for function in (special.bass_cdf, special.bass_survival, special.bass_pdf):
        assert np.isnan(function(np.nan, p, q))
        assert np.isnan(function(1.0, np.nan, q))
        assert isinstance(function(1.0, p, q), np.floating)  # scalar in, out
    # q = 0: pure innovation, the exponential distribution
    t = np.array([0.5, 3.0, 40.0])
    np.testing.assert_allclose(special.bass_cdf(t, 0.2, 0.0), -np.expm1(-0.2 * t))
    np.testing.assert_allclose(special.bass_pdf(t, 0.2, 0.0), 0.2 * np.exp(-0.2 * t))
    # peak of the density at ln(q/p)/(p+q), height (p+q)^2/(4q)
    t_star = math.log(q / p) / (p + q)
    assert special.bass_pdf(t_star, p, q) == pytest.approx((p + q) ** 2 / (4 * q))


def test_broadcasting_and_blocks():
    # more values than one block, p and q as columns
    t = np.linspace(0.0, 60.0, special.BLOCK + 7)
    p = np.array([[0.01], [0.05]])
    q = np.array([[0.4], [0.2]])
    got = special.bass_increment(t - 1, t, p, q)
    assert got.shape == (2, t.size)
    np.testing.assert_allclose(
        np.sum(special.bass_increment(t[:-1], t[1:], p, q), axis=1),
        special.bass_cdf(60.0, p[:, 0], q[:, 0]),
        rtol=1e-12,
    )


def test_the_model_module_uses_the_core():
    for name in ("bass_cdf", "bass_survival", "bass_pdf", "bass_increment"):
        assert getattr(diffusion, name) is getattr(special, name)
