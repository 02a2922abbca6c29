"""Write the mpmath reference tables used by the accuracy tests.

Run from the repository root::

    python tests/reference/make_reference.py

Every reference value is computed with mpmath at the *exact binary value* of
its float64 (or float32) input -- ``mpmath.mpf(float)`` is exact -- at
:data:`DPS` significant digits (more for huge arguments), with formulas that do
not cancel (``tests/../shared/NUMERICS.md`` section 1: ``atan2(1, -x)/pi`` for
``1/2 + atan(x)/pi``, ``1 - F`` evaluated directly, ``log cosh`` near 0 as
``log1p(2 sinh^2(x/2))``, ``expm1`` wherever ``exp(t) - 1`` appears). As a
guard against a cancelling reference, each value is computed twice, at
:data:`DPS` and at ``DPS + 40`` digits, and the generator stops if the two
disagree beyond ``10**-(DPS - 15)`` relative.

Tables (``tests/reference/*.npz``): each file holds one input grid ``x`` and,
per function, ``<name>`` (the reference rounded to the nearest float64,
subnormals included) and, in float64 tables, ``<name>_lo`` (float32: the
rounding residual ``(exact - ref) / spacing(ref)`` in float64 ULPs, so that
tests measure the error against the exact value, not against the rounded
one). Float32 tables hold float32-representable inputs stored as float64.

The output is deterministic: seeded grids and fixed zip timestamps, so a
regeneration that changes nothing leaves the files byte-identical.
"""

from __future__ import annotations

import math
import sys
import time
import zipfile
from collections.abc import Callable
from multiprocessing import Pool
from pathlib import Path

import mpmath
import numpy as np
from mpmath import mp

HERE = Path(__file__).resolve().parent

#: Working precision (decimal digits) of the references.
DPS = 60
#: Extra digits of the verification pass.
CHECK_EXTRA_DPS = 40
PROCESSES = 2

F64 = np.float64
F32 = np.float32

# ------------------------------------------------------------------ references
# Each takes an exact mpf x (and exact mpf parameters) and returns an mpf.


def _sigma(x):
    return 1 / (1 + mp.exp(-x))


def _sigma_prime(x):
    e = mp.exp(-abs(x))
    return e / (1 + e) ** 2


def _softplus(x):
    return mp.log1p(mp.exp(x))


def _logcosh(x):
    if abs(x) < 1:
        return mp.log1p(2 * mp.sinh(x / 2) ** 2)
    return abs(x) + mp.log1p(mp.exp(-2 * abs(x))) - mp.log(2)


def _logit(p):
    if p == 0:
        return mp.ninf
    if p == 1:
        return mp.inf
    return mp.log(p) - mp.log1p(-p)


def _softplus_inv(y):
    if y == 0:
        return mp.ninf
    if y > 1:
        return y + mp.log(-mp.expm1(-y))
    return mp.log(mp.expm1(y))


def _bce(z, y):
    # y softplus(-z) + (1 - y) softplus(z) with the exact weights
    w = 1 - y
    return (y * _softplus(-z) if y else 0) + (w * _softplus(z) if w else 0)


def _expit_prime2(x):
    # sigma'' = sigma' (1 - 2 sigma) = -sigma' tanh(x/2)
    return -_sigma_prime(x) * mp.tanh(x / 2)


SPECIAL: dict[str, Callable] = {
    "expit": _sigma,
    "log_expit": lambda x: -mp.log1p(mp.exp(-x)),
    "log1m_expit": lambda x: -mp.log1p(mp.exp(x)),
    "softplus": _softplus,
    "expit_prime": _sigma_prime,
    "expit_prime2": _expit_prime2,
    "logcosh": _logcosh,
    "logit": _logit,
    "softplus_inv": _softplus_inv,
    "binary_cross_entropy": _bce,
}

# Shapes: the exact functions of the forms in scurve/core/shapes.py (its formulas).


def _arctan_odd(x):
    z = mp.pi * x / 2
    return 2 * mp.atan(z) / mp.pi


def _arctan_odd_d(x):
    z = mp.pi * x / 2
    return 1 / (1 + z * z)


def _arctan_odd_f(x):
    z = mp.pi * x / 2
    return 4 / mp.pi**2 * (z * mp.atan(z) - mp.log1p(z * z) / 2)


def _erf_odd(x):
    return mp.erf(mp.sqrt(mp.pi) * x / 2)


def _erf_odd_d(x):
    z = mp.sqrt(mp.pi) * x / 2
    return mp.exp(-z * z)


def _erf_odd_f(x):
    z = mp.sqrt(mp.pi) * x / 2
    sp = mp.sqrt(mp.pi)
    return 2 / sp * (z * mp.erf(z) + mp.expm1(-z * z) / sp)


def _hypot1(x):
    return mp.sqrt(1 + x * x)


def _algebraic_odd(x):
    return x / _hypot1(x)


def _algebraic_odd_d(x):
    return _hypot1(x) ** -3


def _algebraic_odd_f(x):
    # sqrt(1 + x^2) - 1 without cancellation
    return x * x / (_hypot1(x) + 1)


def _gd_odd(x):
    z = mp.pi * x / 2
    return 2 * mp.atan(mp.sinh(z)) / mp.pi


def _gd_odd_d(x):
    return mp.sech(mp.pi * x / 2)


def _clip_odd(x):
    return max(min(x, mp.mpf(1)), mp.mpf(-1))


def _clip_odd_d(x):
    return mp.mpf(1) if abs(x) < 1 else mp.mpf(0)


def _clip_odd_f(x):
    return x * x / 2 if abs(x) <= 1 else abs(x) - mp.mpf(1) / 2


_C = mp.mpf(3) / 2


def _cubic_odd(x):
    return x - 4 * x**3 / 27 if abs(x) <= _C else mp.sign(x)


def _cubic_odd_d(x):
    # 1 - 4x^2/9 = (1 - 2x/3)(1 + 2x/3): exact in mp either way
    return 1 - 4 * x * x / 9 if abs(x) <= _C else mp.mpf(0)


def _cubic_odd_f(x):
    return x * x / 2 - x**4 / 27 if abs(x) <= _C else abs(x) - mp.mpf(9) / 16


def _arctan_unit(x):
    return mp.atan2(1, -x) / mp.pi


def _arctan_unit_d(x):
    return 1 / (mp.pi * (1 + x * x))


def _arctan_unit_f(x):
    return x * _arctan_unit(x) - mp.log1p(x * x) / (2 * mp.pi)


def _erfc(t):
    # erfc(1e5) < 1e-4e9; mpmath's erfc raises OverflowError near t = 1e308
    if abs(t) > 100_000:
        return mp.mpf(0) if t > 0 else mp.mpf(2)
    return mp.erfc(t)


def _erf_unit(x):
    return _erfc(-x) / 2


def _erf_unit_d(x):
    return mp.exp(-x * x) / mp.sqrt(mp.pi)


def _erf_unit_f(x):
    # cancels by a factor 1/(2x^2) for x -> -inf: at most 21 bits at x = -750
    return (x * _erfc(-x) + mp.exp(-x * x) / mp.sqrt(mp.pi)) / 2


def _algebraic_unit(x):
    h = _hypot1(x)
    if x < 0:  # (1 - |x|/h)/2 = 1/(2 h (h + |x|))
        return 1 / (2 * h * (h - x))
    return (1 + x / h) / 2


def _algebraic_unit_d(x):
    return _hypot1(x) ** -3 / 2


def _algebraic_unit_f(x):
    h = _hypot1(x)
    if x < 0:  # (x + h)/2 = 1/(2 (h - x))
        return 1 / (2 * (h - x))
    return (x + h) / 2


def _gd_unit(x):
    return 2 * mp.atan(mp.exp(x)) / mp.pi


def _gd_unit_d(x):
    return mp.sech(x) / mp.pi


def _clip_unit(x):
    return max(min((x + 1) / 2, mp.mpf(1)), mp.mpf(0))


def _clip_unit_d(x):
    return mp.mpf(1) / 2 if abs(x) < 1 else mp.mpf(0)


def _clip_unit_f(x):
    if x <= -1:
        return mp.mpf(0)
    if x >= 1:
        return x
    return (x + 1) ** 2 / 4


def _cubic_unit(x):
    s = x + _C
    if s <= 0:
        return mp.mpf(0)
    if s >= 3:
        return mp.mpf(1)
    return 2 * s * s * (mp.mpf(9) / 2 - s) / 27


def _cubic_unit_d(x):
    s = x + _C
    return 2 * s * (3 - s) / 9 if 0 < s < 3 else mp.mpf(0)


def _cubic_unit_f(x):
    s = x + _C
    if s <= 0:
        return mp.mpf(0)
    if s >= 3:
        return x
    return s**3 * (6 - s) / 54


def _hsig_unit(x):
    return max(min(x + 3, mp.mpf(6)), mp.mpf(0)) / 6


def _hsig_unit_d(x):
    return mp.mpf(1) / 6 if abs(x) < 3 else mp.mpf(0)


def _hsig_unit_f(x):
    if x <= -3:
        return mp.mpf(0)
    if x >= 3:
        return x
    return (x + 3) ** 2 / 12


def _hsigc_unit(x):
    return max(min(x + mp.mpf(2.5), mp.mpf(5)), mp.mpf(0)) / 5


def _hsigc_unit_d(x):
    return mp.mpf(1) / 5 if abs(x) < mp.mpf(2.5) else mp.mpf(0)


def _hsigc_unit_f(x):
    if x <= -mp.mpf(2.5):
        return mp.mpf(0)
    if x >= mp.mpf(2.5):
        return x
    return (x + mp.mpf(2.5)) ** 2 / 10


def _richards(x, nu):
    return mp.exp(-mp.log1p(mp.exp(-x)) / nu)


def _richards_d(x, nu):
    return _richards(x, nu) * _sigma(-x) / nu


# exp(-t) < 1e-4300 for t > 1e4, far below the smallest subnormal (4.9e-324):
# cut there instead of asking mpmath for exp(-exp(1e300)).
_GOMPERTZ_CUT = 10_000


def _gompertz(x):
    t = mp.exp(-x)
    return mp.mpf(0) if t > _GOMPERTZ_CUT else mp.exp(-t)


def _gompertz_d(x):
    t = mp.exp(-x)
    return mp.mpf(0) if t > _GOMPERTZ_CUT else mp.exp(-x - t)


def _gompertz_f(x):
    t = mp.exp(-x)
    return mp.mpf(0) if t > _GOMPERTZ_CUT else mp.e1(t)


# cloglog is the mirror of gompertz, 1 - gompertz(-x): the same cut in w = e^x.


def _cloglog(x):
    w = mp.exp(x)
    return mp.mpf(1) if w > _GOMPERTZ_CUT else -mp.expm1(-w)


def _cloglog_d(x):
    w = mp.exp(x)
    return mp.mpf(0) if w > _GOMPERTZ_CUT else mp.exp(x - w)


def _cloglog_f(x):
    # Ein(w) = x + gamma + E1(w): x and E1 cancel for w < 1, so there
    # Ein(w) = w 2F2(1, 1; 2, 2; -w), summed by mpmath without cancellation
    w = mp.exp(x)
    if w > _GOMPERTZ_CUT:
        return x + mp.euler
    if w <= 1:
        return w * mp.hyp2f2(1, 1, 2, 2, -w)
    return x + mp.euler + mp.e1(w)


def _unit_tanh(x):
    return _sigma(2 * x)


def _unit_tanh_d(x):
    return 2 * _sigma_prime(2 * x)


def _unit_tanh_f(x):
    return _softplus(2 * x) / 2


SHAPES_ODD: dict[str, Callable] = {
    "tanh.odd.value": mp.tanh,
    "tanh.odd.derivative": lambda x: mp.sech(x) ** 2,
    "tanh.odd.antiderivative": _logcosh,
    "arctan.odd.value": _arctan_odd,
    "arctan.odd.derivative": _arctan_odd_d,
    "arctan.odd.antiderivative": _arctan_odd_f,
    "erf.odd.value": _erf_odd,
    "erf.odd.derivative": _erf_odd_d,
    "erf.odd.antiderivative": _erf_odd_f,
    "algebraic.odd.value": _algebraic_odd,
    "algebraic.odd.derivative": _algebraic_odd_d,
    "algebraic.odd.antiderivative": _algebraic_odd_f,
    "gudermannian.odd.value": _gd_odd,
    "gudermannian.odd.derivative": _gd_odd_d,
    "hard_clip.odd.value": _clip_odd,
    "hard_clip.odd.derivative": _clip_odd_d,
    "hard_clip.odd.antiderivative": _clip_odd_f,
    "cubic.odd.value": _cubic_odd,
    "cubic.odd.derivative": _cubic_odd_d,
    "cubic.odd.antiderivative": _cubic_odd_f,
}

SHAPES_UNIT: dict[str, Callable] = {
    "logistic.unit.value": _sigma,
    "logistic.unit.derivative": _sigma_prime,
    "logistic.unit.antiderivative": _softplus,
    "tanh.unit.value": _unit_tanh,
    "tanh.unit.derivative": _unit_tanh_d,
    "tanh.unit.antiderivative": _unit_tanh_f,
    "arctan.unit.value": _arctan_unit,
    "arctan.unit.derivative": _arctan_unit_d,
    "arctan.unit.antiderivative": _arctan_unit_f,
    "erf.unit.value": _erf_unit,
    "erf.unit.derivative": _erf_unit_d,
    "erf.unit.antiderivative": _erf_unit_f,
    "algebraic.unit.value": _algebraic_unit,
    "algebraic.unit.derivative": _algebraic_unit_d,
    "algebraic.unit.antiderivative": _algebraic_unit_f,
    "gudermannian.unit.value": _gd_unit,
    "gudermannian.unit.derivative": _gd_unit_d,
    "hard_clip.unit.value": _clip_unit,
    "hard_clip.unit.derivative": _clip_unit_d,
    "hard_clip.unit.antiderivative": _clip_unit_f,
    "cubic.unit.value": _cubic_unit,
    "cubic.unit.derivative": _cubic_unit_d,
    "cubic.unit.antiderivative": _cubic_unit_f,
    "hard_sigmoid.unit.value": _hsig_unit,
    "hard_sigmoid.unit.derivative": _hsig_unit_d,
    "hard_sigmoid.unit.antiderivative": _hsig_unit_f,
    "hard_sigmoid_classic.unit.value": _hsigc_unit,
    "hard_sigmoid_classic.unit.derivative": _hsigc_unit_d,
    "hard_sigmoid_classic.unit.antiderivative": _hsigc_unit_f,
    "gompertz.unit.value": _gompertz,
    "gompertz.unit.derivative": _gompertz_d,
    "gompertz.unit.antiderivative": _gompertz_f,
    "cloglog.unit.value": _cloglog,
    "cloglog.unit.derivative": _cloglog_d,
    "cloglog.unit.antiderivative": _cloglog_f,
    "richards.unit.value": _richards,
    "richards.unit.derivative": _richards_d,
}

#: Richards shape parameters tabulated (at the exact binary value of each float).
RICHARDS_NU = (0.05, 0.5, 1.0, 3.0)
#: Observed proportions tabulated for binary_cross_entropy.
BCE_Y = (0.0, 1.0, 0.3, 0.5)

FUNCTIONS: dict[str, Callable] = {**SPECIAL, **SHAPES_ODD, **SHAPES_UNIT}

# ------------------------------------------------------------------ grids


def _with_neighbours(points, dtype, steps=2):
    """Points, their negatives and their `steps` float neighbours each side."""
    pts = np.asarray(points, dtype=dtype)
    pts = np.concatenate([pts, -pts])
    out = [pts]
    up, down = pts.copy(), pts.copy()
    with np.errstate(over="ignore"):  # neighbours of the largest float are inf
        for _ in range(steps):
            up = np.nextafter(up, dtype(np.inf))
            down = np.nextafter(down, dtype(-np.inf))
            out += [up, down]
    return np.concatenate(out)


def _finish(parts, dtype, lo=-np.inf, hi=np.inf):
    """Sorted unique finite values of `dtype` in [lo, hi] (-0.0 kept), as float64."""
    x = np.concatenate([np.asarray(p, dtype=F64).astype(dtype) for p in parts])
    x = x[np.isfinite(x) & (x >= lo) & (x <= hi)]
    has_negzero = np.any((x == 0) & np.signbit(x))
    x = np.unique(x)  # -0.0 and 0.0 compare equal: unique keeps one
    if has_negzero:
        x = np.concatenate([x, np.array([-0.0], dtype=dtype)])
    return x.astype(F64)


def _log_uniform(rng, lo, hi, n):
    return np.exp(rng.uniform(np.log(lo), np.log(hi), n))


def grid_real_f64():
    """~6000 float64 inputs for the functions of one real variable."""
    rng = np.random.default_rng(20240601)
    picked = [
        0.0,
        *(745.1332191019412, 745.13, 744.4400719213812),  # 2^-1075, 2^-1074
        *(709.782712893384, 709.78, 708.3964185322641),  # log(max), log(tiny)
        *(88.72283935546875, 103.97208, 103.27893, 87.33654),  # float32 ends
        *(36.7368005696771, 37.0, 33.23, 33.3, 18.02, 18.0, 20.0, 30.0, 40.0),
        *(0.75, 0.7373, 1.0, 0.5, 2.0, math.log(2.0)),
        *(5e-324, 2.2250738585072014e-308, 1e-300, 1e-200, 1e-20, 1e-10, 1e-5),
        *(1e20, 1e100, 1.3e154, 1e300, 1.7976931348623157e308),
    ]
    mag = _log_uniform(rng, 1e-300, 1e3, 600)
    return _finish(
        [
            np.linspace(-750, 750, 2001),
            rng.uniform(-750, 750, 1800),
            rng.uniform(-40, 40, 1400),
            mag * rng.choice([-1.0, 1.0], mag.size),
            _with_neighbours(picked, F64),
        ],
        F64,
    )


def grid_logit_f64():
    """~6000 probabilities: log-uniform tails at both ends, uniform, near 1/2."""
    rng = np.random.default_rng(20240602)
    near_one = 1.0 - _log_uniform(rng, 1e-17, 0.5, 1500)  # the exact float 1 - q
    half = 0.5 + rng.uniform(-1e-3, 1e-3, 300)
    ulps = np.nextafter(0.5, 1.0) - 0.5
    picked = [
        *(0.0, 5e-324, 1e-320, 2.2250738585072014e-308, 1e-300, 0.25, 0.75),
        *(1.0, np.nextafter(1.0, 0.0), 1.0 - 2**-52),
        *(0.5 + ulps * np.arange(-40, 41)),
        *(0.5 + 2.0 ** -np.arange(2, 60)),
        *(0.5 - 2.0 ** -np.arange(2, 60)),
    ]
    return _finish(
        [
            _log_uniform(rng, 1e-300, 0.5, 2000),
            near_one,
            rng.uniform(0, 1, 1800),
            half,
            _with_neighbours(picked, F64, steps=2),
        ],
        F64,
        lo=0.0,
        hi=1.0,
    )


def grid_softplus_inv_f64():
    """~6000 y >= 0: [0, 750], log-uniform small y, dense around ln 2."""
    rng = np.random.default_rng(20240603)
    ln2 = math.log(2.0)
    steps = np.nextafter(ln2, 1.0) - ln2
    picked = [
        *(0.0, 5e-324, 1e-300, 1e-20, 1.0, 18.0, 33.3, 36.7, 700.0, 745.0),
        *(ln2 + steps * np.arange(-20, 21)),
    ]
    return _finish(
        [
            np.linspace(0, 750, 1201),
            rng.uniform(0, 750, 1200),
            _log_uniform(rng, 1e-300, 1.0, 1500),
            rng.uniform(0, 40, 800),
            ln2 + rng.uniform(-0.05, 0.05, 900),
            ln2 + _log_uniform(rng, 1e-16, 0.05, 300) * rng.choice([-1, 1], 300),
            _with_neighbours(picked, F64),
        ],
        F64,
        lo=0.0,
    )


def grid_real_f32():
    """~3000 float32 inputs."""
    rng = np.random.default_rng(20240604)
    picked = [
        0.0,
        *(88.72283935546875, 103.97208, 103.27893, 87.33654, 88.0, 104.0),
        *(16.6, 17.0, 9.0, 15.0, 0.75, 1.0, 0.5, math.log(2.0)),
        *(1e-45, 1.1754944e-38, 1e-30, 1e-10, 1e-4, 750.0, 1e30, 3.4028235e38),
    ]
    mag = _log_uniform(rng, 1e-44, 1e2, 400)
    return _finish(
        [
            np.linspace(-120, 120, 801),
            rng.uniform(-120, 120, 700),
            rng.uniform(-20, 20, 900),
            mag * rng.choice([-1.0, 1.0], mag.size),
            _with_neighbours(picked, F32),
        ],
        F32,
    )


def grid_logit_f32():
    """~3000 float32 probabilities."""
    rng = np.random.default_rng(20240605)
    ulps = float(np.nextafter(F32(0.5), F32(1)) - F32(0.5))
    near_one = (1 - _log_uniform(rng, 1e-8, 0.5, 700).astype(F32)).astype(F32)
    picked = [
        *(0.0, 1e-45, 1e-40, 1.1754944e-38, 1e-30, 0.25, 0.75, 1.0),
        *(0.5 + ulps * np.arange(-30, 31)),
    ]
    return _finish(
        [
            _log_uniform(rng, 1e-45, 0.5, 1000),
            near_one,
            rng.uniform(0, 1, 1100),
            0.5 + rng.uniform(-1e-3, 1e-3, 300),
            _with_neighbours(picked, F32),
        ],
        F32,
        lo=0.0,
        hi=1.0,
    )


def grid_shapes_f64():
    """~3000 float64 inputs: [-750, 750] sparse, [-10, 10] dense, kinks, extremes."""
    rng = np.random.default_rng(20240606)
    picked = [
        *(0.0, 1.0, 1.5, 3.0, 0.75, 0.5, 2.0, 5.0, 6.6, 26.5, 27.3),
        *(36.7, 40.0, 709.78, 745.13, 750.0),
        *(5e-324, 2.2250738585072014e-308, 1e-300, 1e-100, 1e-20, 1e-8),
        *(1e8, 1e20, 1.3e154, 1e300, 1.7976931348623157e308),
    ]
    return _finish(
        [
            np.linspace(-750, 750, 501),
            rng.uniform(-750, 750, 400),
            rng.uniform(-40, 40, 300),
            np.linspace(-10, 10, 801),
            rng.uniform(-10, 10, 800),
            _with_neighbours(picked, F64),
        ],
        F64,
    )


# ------------------------------------------------------------------ evaluation


def _round_f64(v) -> float:
    """The float64 nearest to the mpf `v`, subnormals rounded once, correctly."""
    if mp.isnan(v):
        return math.nan
    if mp.isinf(v):
        return math.inf if v > 0 else -math.inf
    if v == 0:
        return 0.0
    _, e = mp.frexp(v)  # |v| = m 2^e, 1/2 <= m < 1
    q = max(int(e) - 53, -1074)
    n = int(mp.nint(mp.ldexp(v, -q)))
    try:
        return math.ldexp(n, q)  # exact: |n| <= 2^53
    except OverflowError:
        return math.copysign(math.inf, n)


def _ulp(r: float) -> float:
    """float64 ULP of `r` as tests/ulp.py defines it (np.spacing without overflow)."""
    if r == 0:
        return 5e-324
    return max(math.ldexp(1.0, math.frexp(r)[1] - 53), 5e-324)


def _eval_one(f, x, params, dps):
    # Huge arguments get as many extra digits as they have integer digits, so
    # that exp(-x/nu) and the like see an argument that is still exact.
    extra = max(0, int(math.log10(abs(x)))) if x != 0 and math.isfinite(x) else 0
    with mp.workdps(dps + extra):
        return f(mp.mpf(x), *[mp.mpf(p) for p in params])


def _evaluate_chunk(task):
    """Worker: (name, params, xs) -> (ref, lo); checks two precisions agree."""
    name, params, xs = task
    f = FUNCTIONS[name]
    ref = np.empty(len(xs))
    lo = np.zeros(len(xs), dtype=F32)
    tol = mp.mpf(10) ** -(DPS - 15)
    for i, x in enumerate(xs):
        x = float(x)
        v = _eval_one(f, x, params, DPS)
        w = _eval_one(f, x, params, DPS + CHECK_EXTRA_DPS)
        r = _round_f64(w)
        with mp.workdps(DPS + CHECK_EXTRA_DPS):
            same = v == w or (mp.isfinite(w) and w != 0 and abs(v - w) <= tol * abs(w))
            # Far beyond the float64 range (exp(-z^2) at z = 1e20) only the
            # rounded value matters, and it is 0 or inf either way.
            if not same and (r == 0 or math.isinf(r)):
                far = abs(mp.log(abs(w), 2)) > 1100
                same = far and _round_f64(v) == r
            if not same:
                raise ArithmeticError(
                    f"{name}{params} at x={x!r}: reference cancels "
                    f"({mp.nstr(v, 20)} at {DPS} digits vs {mp.nstr(w, 20)})"
                )
            ref[i] = r
            if math.isfinite(r):
                lo[i] = float((w - mp.mpf(r)) / mp.mpf(_ulp(r)))
    return ref, lo


def tabulate(pool, x, columns):
    """columns: {key: (function name, params)} -> {key: ref, key_lo: lo}."""
    chunks = np.array_split(x, max(1, len(x) // 500))
    tasks, keys = [], []
    for key, (name, params) in columns.items():
        for c in chunks:
            tasks.append((name, params, c))
            keys.append(key)
    results = pool.map(_evaluate_chunk, tasks, chunksize=1)
    out: dict[str, np.ndarray] = {"x": x}
    for key in columns:
        parts = [r for k, r in zip(keys, results, strict=True) if k == key]
        out[key] = np.concatenate([p[0] for p in parts])
        out[key + "_lo"] = np.concatenate([p[1] for p in parts])
    return out


def save_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """np.savez_compressed with fixed timestamps, so output is byte-reproducible."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for key, arr in arrays.items():
            info = zipfile.ZipInfo(key + ".npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr))


def tables():
    """{file name: (grid, {key: (function, params)}, keep_lo)}."""
    real = {n: (n, ()) for n in SPECIAL if n not in ("logit", "softplus_inv")}
    del real["binary_cross_entropy"]
    for y in BCE_Y:
        real[f"binary_cross_entropy_y={y}"] = ("binary_cross_entropy", (y,))
    f32 = {n: (n, ()) for n in ("expit", "log_expit", "log1m_expit", "softplus")}
    richards = {
        f"{key}_nu={nu}": (key, (nu,))
        for nu in RICHARDS_NU
        for key in ("richards.unit.value", "richards.unit.derivative")
    }
    unit = {k: (k, ()) for k in SHAPES_UNIT if not k.startswith("richards")}
    return {
        "special_f64.npz": (grid_real_f64, real, True),
        "logit_f64.npz": (grid_logit_f64, {"logit": ("logit", ())}, True),
        "softplus_inv_f64.npz": (
            grid_softplus_inv_f64,
            {"softplus_inv": ("softplus_inv", ())},
            True,
        ),
        "special_f32.npz": (grid_real_f32, f32, False),
        "logit_f32.npz": (grid_logit_f32, {"logit": ("logit", ())}, False),
        "shapes_odd_f64.npz": (grid_shapes_f64, {k: (k, ()) for k in SHAPES_ODD}, True),
        "shapes_unit_f64.npz": (grid_shapes_f64, unit, True),
        "shapes_richards_f64.npz": (grid_shapes_f64, richards, True),
    }


def main(argv: list[str]) -> int:
    only = set(argv)
    start = time.perf_counter()
    total = 0
    with Pool(PROCESSES) as pool:
        for fname, (grid, columns, keep_lo) in tables().items():
            if only and fname not in only:
                continue
            t0 = time.perf_counter()
            x = grid()
            arrays = tabulate(pool, x, columns)
            if not keep_lo:
                arrays = {k: v for k, v in arrays.items() if not k.endswith("_lo")}
            arrays["dps"] = np.array(DPS)
            save_npz(HERE / fname, arrays)
            size = (HERE / fname).stat().st_size
            total += size
            print(
                f"{fname}: {x.size} points x {len(columns)} functions, "
                f"{size / 1024:.0f} KiB, {time.perf_counter() - t0:.1f} s",
                flush=True,
            )
    print(
        f"total {total / 1024:.0f} KiB in {time.perf_counter() - start:.1f} s "
        f"(mpmath {mpmath.__version__}, {DPS} digits)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
