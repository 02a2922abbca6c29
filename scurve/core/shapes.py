r"""The S-curve family: each shape with its derivative, inverse and antiderivative.

Every shape is a :class:`Shape` in :data:`REGISTRY`, with up to two forms, each
a :class:`Curve`:

``odd``
    An odd function with range (-1, 1) and slope 1 at the origin: the form an
    audio waveshaper drives, so that ``drive_db`` means the same for all
    shapes. Present for the symmetric shapes.
``unit``
    A monotone function with range (0, 1), a cumulative distribution: the form
    that probabilities, dose-response and growth curves use. For an odd
    kernel :math:`K` (``tanh x``, ``(2/pi) atan x``, ...) it is
    :math:`(1 + K(x))/2`, written so that it does not cancel in the left tail
    (NUMERICS.md, d3).

``shape.native`` is the form the shape is usually written in (``tanh`` is odd,
``logistic`` is unit). The CLI, the plots, the audio renderer, the fitted
``sigmoid`` model and the tests all iterate over :data:`REGISTRY`, so a new
shape is one entry here.

Every function is vectorized as in :mod:`scurve.core.special`: float32 stays
float32, integers become float64, a scalar gives a numpy scalar, NaN gives NaN,
the limits at +/-inf are exact, and no floating-point warning is raised for any
input. Measured errors are asserted in ``tests/test_accuracy_shapes.py``.

References
----------
.. [1] J. Parker, V. Zavalishin, E. Le Bivic, "Reducing the aliasing of
   nonlinear waveshaping using continuous-time convolution", DAFx-16, 2016.
.. [2] F. J. Richards, "A flexible growth function for empirical use",
   J. Exp. Bot. 10:290-300, 1959.
.. [3] B. Gompertz, "On the nature of the function expressive of the law of
   human mortality", Phil. Trans. R. Soc. 115:513-583, 1825.
.. [4] M. Abramowitz, I. A. Stegun, "Handbook of Mathematical Functions",
   NBS, 1964, eq. 5.1.11 (the series of Ein).
.. [5] T. J. Dekker, "A floating-point technique for extending the available
   precision", Numer. Math. 18:224-242, 1971 (two-sum, double-doubles).
"""

from __future__ import annotations

import decimal
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from scurve.core import special
from scurve.core.special import as_float_array

__all__ = ["REGISTRY", "Curve", "Shape", "get"]

Form = Literal["odd", "unit"]
Result = NDArray[np.floating] | np.floating

_PI = math.pi
_SQRT_PI = math.sqrt(math.pi)
_EULER_GAMMA = 0.57721566490153286061
# Beyond this magnitude every scaled argument below saturates its function, so
# inputs are clamped here before scaling to avoid overflow (and its warning).
_HUGE = 1e300
# Beyond this, 1 + a**2 == a**2 in float64 and a**2 is still finite.
_SQUARE_SAFE = 1e150


def _scipy_special():
    import scipy.special

    return scipy.special


def _evaluate(func: Callable[..., np.ndarray], x: ArrayLike, params) -> Result:
    """Run a formula with the calling conventions of :mod:`scurve.core.special`.

    Narrower floats are evaluated in float64 (an exact widening) and rounded
    once at the end, so float32 results are within about half a float32 ULP and
    the formulas need no dtype-dependent thresholds.
    """
    a = as_float_array(x)
    wide = a.astype(np.float64) if a.dtype.itemsize < 8 else a
    with np.errstate(under="ignore"):
        r = np.asarray(func(np.atleast_1d(wide), **params))
    with np.errstate(over="ignore", under="ignore"):  # rounding to float32
        r = r.astype(a.dtype, copy=False)
    if a.ndim == 0 and r.shape == (1,):
        return r.reshape(())[()]
    return r


# ------------------------------------------------------------------ helpers


def _with_nan(x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Piecewise results built with comparisons lose NaN; put it back."""
    return np.where(np.isnan(x), np.nan, r)


def _recip_1p_square(a: np.ndarray) -> np.ndarray:
    """:math:`1/(1 + a^2)`, as :math:`(1/a)/a` once :math:`a^2` swamps 1."""
    a = np.abs(a)
    big = a > _SQUARE_SAFE
    small = np.where(big, 0.0, a)
    safe = np.where(big, a, 1.0)
    return np.where(big, 1 / safe / safe, 1 / (1 + small * small))


def _log1p_square(a: np.ndarray) -> np.ndarray:
    """:math:`\\log(1 + a^2)`, as :math:`2\\log|a|` once :math:`a^2` swamps 1."""
    a = np.abs(a)
    big = a > _SQUARE_SAFE
    small = np.where(big, 0.0, a)
    safe = np.where(big, a, 1.0)
    return np.where(big, 2 * np.log(safe), np.log1p(small * small))


def _sech(z: np.ndarray) -> np.ndarray:
    """:math:`\\operatorname{sech} z = 2e/(1 + e^2)` with :math:`e = e^{-|z|}`."""
    e = np.exp(-np.abs(z))
    return 2 * e / (1 + e * e)


def _with_limits(x: np.ndarray, f, at_minus_inf: float, at_plus_inf: float):
    """Evaluate `f` on the finite inputs and put in the exact limits at +/-inf."""
    r = f(np.where(np.isinf(x), 0.0, x))
    return np.where(x == np.inf, at_plus_inf, np.where(x == -np.inf, at_minus_inf, r))


def _symmetric_inverse(u: np.ndarray, lower: Callable[[np.ndarray], np.ndarray]):
    """Inverse of a unit form with :math:`U(-x) = 1 - U(x)`.

    ``lower(v)`` inverts on the lower half, v in [0, 1/2]; the upper half uses
    :math:`1 - u`, exact there (Sterbenz), so neither tail cancels. Outside
    [0, 1] the result is NaN.
    """
    inside, u = _unit_domain(u)
    upper = u > 0.5
    v = np.where(upper, 1 - u, u)
    # the ends map to +/-inf, and so do u within 1e-308 of them, correctly
    with np.errstate(divide="ignore", over="ignore"):
        x = lower(v)
    return np.where(inside, np.where(upper, -x, x), np.nan)


def _odd_inverse(y: np.ndarray, positive: Callable[[np.ndarray], np.ndarray]):
    """Inverse of an odd form from its inverse on [0, 1]; NaN outside [-1, 1]."""
    a = np.abs(y)
    inside = a <= 1
    with np.errstate(divide="ignore"):
        x = positive(np.where(inside, a, 0.0))
    return np.where(inside, np.copysign(x, y), np.nan)


# ------------------------------------------------------------------ odd forms
# Each odd form has slope 1 at the origin; antiderivatives satisfy F(0) = 0.


def _tanh(x):
    return np.tanh(x)


def _tanh_derivative(x):
    # sech^2 x = 4 sigma'(2x); x is clamped so that 2x cannot overflow
    return 4 * special.expit_prime(2 * np.clip(x, -_HUGE, _HUGE))


def _tanh_inverse(y):
    return _odd_inverse(y, np.arctanh)


def _logcosh(x):
    return special.logcosh(x)


def _arctan(x):
    return (2 / _PI) * np.arctan((_PI / 2) * np.clip(x, -_HUGE, _HUGE))


def _arctan_derivative(x):
    return _recip_1p_square((_PI / 2) * np.clip(x, -_HUGE, _HUGE))


def _arctan_inverse(y):
    # tan(pi/2) is finite in floating point: the ends are set to +/-inf
    def positive(a):
        return np.where(a == 1, np.inf, (2 / _PI) * np.tan((_PI / 2) * a))

    return _odd_inverse(y, positive)


# Taylor coefficients of z atan z - log1p(z^2)/2 = sum (-1)^(n+1) z^2n / (2n(2n-1)),
# divided by z^2; with (4/pi^2) z^2 = x^2 the antiderivative is x^2 P(z^2).
_ARCTAN_F_SERIES = tuple((-1) ** (n + 1) / (2 * n * (2 * n - 1)) for n in range(1, 13))


def _arctan_antiderivative(x):
    # (4/pi^2)(z atan z - log1p(z^2)/2), z = pi x / 2, written with x so that
    # the leading term stays finite for every finite x. The two terms cancel to
    # half near 0, so there (|z| < 0.25) the series is summed instead.
    z = (_PI / 2) * np.clip(x, -_HUGE, _HUGE)
    direct = x * ((2 / _PI) * np.arctan(z)) - (2 / _PI**2) * _log1p_square(z)
    zc = np.minimum(np.abs(z), 1.0)
    w = zc * zc
    series = np.zeros_like(w)
    for c in reversed(_ARCTAN_F_SERIES):
        series = series * w + c
    near = np.minimum(np.abs(x), 1.0)
    return np.where(np.abs(z) < 0.25, near * near * series, direct)


_ERF_SCALE = _SQRT_PI / 2


def _erf(x):
    return _scipy_special().erf(_ERF_SCALE * np.clip(x, -_HUGE, _HUGE))


# Double-double pi/2 and pi/4: scaling x by a rounded constant before an
# exponential would cost |z| ULP; with two_prod the argument stays exact.
_PI_2_HI, _PI_2_LO = 1.5707963267948966, 6.123233995736766e-17
_PI_4_HI, _PI_4_LO = 0.7853981633974483, 3.061616997868383e-17


def _square_dd(x, c_hi=1.0, c_lo=0.0):
    """``c x^2`` as a double-double (hi, lo) for a double-double constant c."""
    s_hi, s_lo = special.two_prod(x, x)
    t_hi, t_err = special.two_prod(np.full_like(s_hi, c_hi), s_hi)
    return t_hi, t_err + c_hi * s_lo + c_lo * s_hi


def _exp_neg_square(x, c_hi=1.0, c_lo=0.0):
    """:math:`e^{-c x^2}` with the argument carried exactly (|x| clamped at 1e3)."""
    hi, lo = _square_dd(np.clip(x, -1e3, 1e3), c_hi, c_lo)
    return special.exp_dd(-hi, -lo)


def _erf_derivative(x):
    # exp(-z^2), z = sqrt(pi) x / 2, i.e. exp(-(pi/4) x^2)
    return _exp_neg_square(x, _PI_4_HI, _PI_4_LO)


def _erf_inverse(y):
    return _odd_inverse(y, lambda a: _scipy_special().erfinv(a) / _ERF_SCALE)


def _erf_antiderivative(x):
    # (2/sqrt(pi)) (z erf z + expm1(-z^2)/sqrt(pi)) with z = sqrt(pi) x / 2
    z = _ERF_SCALE * np.clip(x, -1e10, 1e10)
    return x * _erf(x) + (2 / _PI) * np.expm1(-z * z)


def _algebraic(x):
    return _with_limits(x, lambda x: x / np.hypot(1, x), -1.0, 1.0)


def _algebraic_derivative(x):
    # (1 + x^2)^(-3/2); once x^2 swamps 1 it is |x|^-3, taken as r*r*r, r = 1/|x|
    a = np.abs(x)
    big = a > 1e100
    s = 1 + np.where(big, 0.0, a) ** 2
    r = 1 / np.where(big, a, 1.0)
    return np.where(big, r * r * r, 1 / (s * np.sqrt(s)))


def _algebraic_inverse(y):
    return _odd_inverse(y, lambda a: a / np.sqrt((1 - a) * (1 + a)))


def _algebraic_antiderivative(x):
    # hypot(1, x) - 1 = x^2 / (1 + hypot(1, x)), without cancellation near 0
    return _with_limits(x, lambda x: x * (x / (1 + np.hypot(1, x))), np.inf, np.inf)


def _gudermannian(x):
    # (2/pi) gd(z), gd z = 2 atan(tanh(z/2)), z = pi x / 2
    return (4 / _PI) * np.arctan(np.tanh((_PI / 4) * np.clip(x, -_HUGE, _HUGE)))


def _gudermannian_derivative(x):
    # sech(z) = 2e/(1 + e^2), e = exp(-|z|), z = pi x / 2 carried as (hi, lo)
    xc = np.clip(x, -1e3, 1e3)
    z_hi, z_err = special.two_prod(np.full_like(xc, _PI_2_HI), xc)
    z_lo = z_err + _PI_2_LO * xc
    e = special.exp_dd(-np.abs(z_hi), -np.sign(z_hi) * z_lo)
    return 2 * e / (1 + e * e)


def _gudermannian_inverse(y):
    # gd^-1(w) = 2 atanh(tan(w/2)), w = pi y / 2; the ends map to +/-inf exactly
    def positive(a):
        return np.where(a == 1, np.inf, (4 / _PI) * np.arctanh(np.tan((_PI / 4) * a)))

    return _odd_inverse(y, positive)


def _hard_clip(x):
    return np.clip(x, -1, 1)


def _hard_clip_derivative(x):
    return _with_nan(x, np.where(np.abs(x) < 1, 1.0, 0.0))


def _hard_clip_inverse(y):
    return _odd_inverse(y, lambda a: a)


def _hard_clip_antiderivative(x):
    a = np.abs(x)
    return np.where(a <= 1, 0.5 * np.minimum(a, 1) ** 2, a - 0.5)


_CUBIC_KNEE = 1.5


def _cubic(x):
    # x - 4x^3/27 = t (3 - t^2) / 2 with t = x / 1.5, exactly +/-1 at the knee
    t = np.clip(x, -_CUBIC_KNEE, _CUBIC_KNEE) / _CUBIC_KNEE
    return _with_nan(x, t * (3 - t * t) / 2)


def _cubic_derivative(x):
    # 1 - 4x^2/9 = (3 - 2a)(3 + 2a)/9, a = min(|x|, 3/2): exact at the knee
    a = np.minimum(np.abs(x), _CUBIC_KNEE)
    return _with_nan(x, (3 - 2 * a) * (3 + 2 * a) / 9)


def _cubic_inverse(y):
    # t (3 - t^2)/2 = sin(3 phi) with t = 2 sin(phi), so x = 3 sin(asin(y)/3);
    # the rail y = 1 is reached exactly at the knee x = 3/2
    def positive(a):
        return np.where(a == 1, _CUBIC_KNEE, 3 * np.sin(np.arcsin(a) / 3))

    return _odd_inverse(y, positive)


def _cubic_antiderivative(x):
    # x^2/2 - x^4/27 = (3/16) t^2 (6 - t^2) inside; |x| - 9/16 outside
    a = np.abs(x)
    t = np.minimum(a, _CUBIC_KNEE) / _CUBIC_KNEE
    return np.where(a <= _CUBIC_KNEE, (3 / 16) * t * t * (6 - t * t), a - 9 / 16)


# ------------------------------------------ second antiderivatives (odd forms)
# F2(x) = integral of F1 from 0 to x, the kernel of second-order anti-aliasing
# (ADAA2). Each F2 is odd and ~x^3/6 near 0, where the closed forms cancel, so
# there a Taylor series (coefficients of x^3, x^5, ... from mpmath) is summed;
# |x| is clamped at 1e150 (where x^2 is still finite) and +/-inf map to +/-inf.

_F2_CLAMP = 1e150
_LOGCOSH_F2_SERIES = (
    0.16666666666666666,
    -0.016666666666666666,
    0.0031746031746031746,
    -0.0007495590828924162,
    0.00019881353214686547,
    -5.6815612371167925e-05,
    1.71053716027261e-05,
    -5.352332305335729e-06,
    1.7252264355134092e-06,
    -5.693550339132201e-07,
    1.9153237069030535e-07,
    -6.546387313886139e-08,
    2.2676502947762058e-08,
    -7.94543006854117e-09,
    2.8115818831083384e-09,
    -1.0035291969796074e-09,
)
_ERF_F2_SERIES = (
    0.16666666666666666,
    -0.013089969389957472,
    0.0014686911311144878,
    -0.0001602093495799222,
    1.6014489135167174e-05,
    -1.4512788870586947e-06,
    1.1941094759245055e-07,
    -8.964755927004229e-09,
    6.176230561732904e-10,
    -3.926838208493887e-11,
    2.316146198469979e-12,
    -1.2733678793068123e-13,
)
_ALGEBRAIC_F2_SERIES = (
    0.16666666666666666,
    -0.025,
    0.008928571428571428,
    -0.004340277777777778,
    0.0024857954545454545,
    -0.0015775240384615385,
    0.00107421875,
    -0.000770120059742647,
    0.0005742123252467105,
    -0.00044159662155877975,
    0.0003482155177904212,
    -0.00028031349182128907,
    0.00022960150683367693,
    -0.00019086332156740385,
    0.0001606946029970723,
)
# z atan z - log1p(z^2)/2 integrated: sum (-1)^(n+1) z^(2n+1) / ((2n-1) 2n (2n+1))
_ARCTAN_F2_SERIES = tuple(
    (-1) ** (n + 1) / ((2 * n - 1) * (2 * n) * (2 * n + 1)) for n in range(1, 15)
)


def _odd_series(x, coefficients):
    """``sum c_k x^(2k+3)`` by Horner's rule in x^2."""
    w = x * x
    total = np.zeros_like(x)
    for c in reversed(coefficients):
        total = total * w + c
    return total * w * x


def _odd_f2(x, closed, series, near):
    """An odd F2 from its closed form on |x| >= near and its series inside."""

    def f(x):
        a = np.minimum(np.abs(x), _F2_CLAMP)
        inside = a < near
        small = np.where(inside, a, 0.0)
        large = np.where(inside, near, a)
        r = np.where(inside, _odd_series(small, series), closed(large))
        return np.copysign(r, x)

    return _with_limits(x, f, -np.inf, np.inf)


def _tanh_f2_closed(a):
    # a^2/2 - a log 2 + pi^2/24 + Li2(-e^(-2a))/2, Li2(-u) = spence(1 + u)
    li2 = _scipy_special().spence(1 + np.exp(-2 * a))
    return a * (0.5 * a - math.log(2)) + (_PI**2 / 24 + 0.5 * li2)


def _tanh_f2(x):
    return _odd_f2(x, _tanh_f2_closed, _LOGCOSH_F2_SERIES, 0.5)


def _arctan_f2_closed(a):
    # (8/pi^3) ((z^2 - 1) atan(z)/2 + z/2 - z log1p(z^2)/2), z = pi a / 2
    z = (_PI / 2) * a
    g = 0.5 * (z * z - 1) * np.arctan(z) + 0.5 * z * (1 - _log1p_square(z))
    return (8 / _PI**3) * g


def _arctan_f2(x):
    # the series is in z = pi x / 2, valid for |z| < 0.25
    def series(a):
        z = (_PI / 2) * a
        return (8 / _PI**3) * _odd_series(z, _ARCTAN_F2_SERIES)

    def f(x):
        a = np.minimum(np.abs(x), _F2_CLAMP)
        inside = a < 0.5 / _PI
        r = np.where(
            inside,
            series(np.where(inside, a, 0.0)),
            _arctan_f2_closed(np.where(inside, 1.0, a)),
        )
        return np.copysign(r, x)

    return _with_limits(x, f, -np.inf, np.inf)


def _erf_f2_closed(a):
    # (a^2/2 + 1/pi) erf(sqrt(pi) a/2) + (a/pi)(exp(-pi a^2/4) - 2)
    return (0.5 * a * a + 1 / _PI) * _erf(a) + (a / _PI) * (_erf_derivative(a) - 2)


def _erf_f2(x):
    return _odd_f2(x, _erf_f2_closed, _ERF_F2_SERIES, 0.5)


def _algebraic_f2_closed(a):
    # (a hypot(1, a) + asinh(a))/2 - a
    return 0.5 * (a * np.hypot(1, a) + np.arcsinh(a)) - a


def _algebraic_f2(x):
    return _odd_f2(x, _algebraic_f2_closed, _ALGEBRAIC_F2_SERIES, 0.25)


def _hard_clip_f2(x):
    # a^3/6 inside, a^2/2 - a/2 + 1/6 outside (a = |x|), odd
    def f(x):
        a = np.minimum(np.abs(x), _F2_CLAMP)
        inside = a <= 1
        t = np.minimum(a, 1.0)
        r = np.where(inside, t * t * t / 6, a * (a - 1) / 2 + 1 / 6)
        return np.copysign(r, x)

    return _with_limits(x, f, -np.inf, np.inf)


def _cubic_f2(x):
    # x^3/6 - x^5/135 inside; beyond the knee 81/160 + (a - 3/2)(a + 3/2 - 9/8)/2
    def f(x):
        a = np.minimum(np.abs(x), _F2_CLAMP)
        t = np.minimum(a, _CUBIC_KNEE)
        inside = a <= _CUBIC_KNEE
        outside = 81 / 160 + 0.5 * (a - _CUBIC_KNEE) * (a + _CUBIC_KNEE - 9 / 8)
        r = np.where(inside, t * t * t * (1 / 6 - t * t / 135), outside)
        return np.copysign(r, x)

    return _with_limits(x, f, -np.inf, np.inf)


# ------------------------------------------------------------------ unit forms
# Antiderivatives are anchored at F(-inf) = 0 where that integral converges.


def _expit(x):
    return special.expit(x)


def _expit_prime(x):
    return special.expit_prime(x)


def _logit(u):
    return special.logit(u)


def _softplus(x):
    return special.softplus(x)


def _tanh_unit(x):
    return special.expit(2 * np.clip(x, -_HUGE, _HUGE))


def _tanh_unit_derivative(x):
    return 2 * special.expit_prime(2 * np.clip(x, -_HUGE, _HUGE))


def _tanh_unit_inverse(u):
    return special.logit(u) / 2


def _tanh_unit_antiderivative(x):
    big = np.abs(x) > _HUGE
    return np.where(
        big, np.maximum(x, 0), special.softplus(2 * np.where(big, 0, x)) / 2
    )


def _arctan_unit(x):
    # 1/2 + atan(x)/pi = atan2(1, -x)/pi, which does not cancel for x << 0
    return np.arctan2(1, -x) / _PI


def _arctan_unit_derivative(x):
    return _recip_1p_square(x) / _PI


def _arctan_unit_inverse(u):
    # x = tan(pi (u - 1/2)): near 1/2 with u - 1/2 exact (Sterbenz), in the
    # tail as -1/tan(pi u), which keeps the relative accuracy of small u
    return _symmetric_inverse(
        u,
        lambda v: np.where(v < 0.25, -1 / np.tan(_PI * v), np.tan(_PI * (v - 0.5))),
    )


def _arctan_unit_antiderivative(x):
    # x (1/2 + atan(x)/pi) - log1p(x^2)/(2 pi); the Cauchy tail makes F(-inf)
    # diverge, so F(0) = 0 here
    def f(x):
        return x * (np.arctan2(1, -x) / _PI) - _log1p_square(x) / (2 * _PI)

    return _with_limits(x, f, -np.inf, np.inf)


def _erf_unit(x):
    # erfc(-x)/2; below -26 scipy's erfc underflows early (-27.2 < x < -26.55
    # gives 0 where the result is a subnormal), so there use the scaled form
    # erfcx(-x) exp(-x^2) / 2 with x^2 carried exactly
    sc = _scipy_special()
    deep = x < -26
    tail = (
        0.5
        * sc.erfcx(-np.where(deep, x, -26.0))
        * _exp_neg_square(np.where(deep, x, 0.0))
    )
    return np.where(deep, tail, 0.5 * sc.erfc(-x))


def _erf_unit_derivative(x):
    return _exp_neg_square(x) / _SQRT_PI


def _erf_unit_inverse(u):
    sc = _scipy_special()
    return _symmetric_inverse(
        u, lambda v: np.where(v < 0.25, -sc.erfcinv(2 * v), sc.erfinv(2 * v - 1))
    )


_IERFC_TERMS = 320


def _ierfc_tail(a):
    r"""Integrated complementary error function for a >= 1.

    :math:`\operatorname{ierfc}(a) = e^{-a^2}/\sqrt\pi - a\,\operatorname{erfc}(a)`.

    The two terms cancel like :math:`1/(2a^2)`; Laplace's continued fraction
    :math:`\sqrt\pi e^{a^2}\operatorname{erfc}(a) = 1/(a + T)`,
    :math:`T = \tfrac{1}{2}/(a + 1/(a + \tfrac{3}{2}/(a + \dots)))` gives
    :math:`\operatorname{ierfc}(a) = e^{-a^2} T / (\sqrt\pi (a + T))` with no
    cancellation; 320 terms converge to full precision for a >= 1.
    """
    a = np.minimum(a, 1e3)  # beyond, exp(-a^2) is 0 and so is the result
    t = np.zeros_like(a)
    for k in range(_IERFC_TERMS, 0, -1):
        t = (k / 2) / (a + t)
    return _exp_neg_square(a) * t / (_SQRT_PI * (a + t))


def _erf_unit_antiderivative(x):
    # (x erfc(-x) + exp(-x^2)/sqrt(pi)) / 2, the integrated normal CDF; for
    # x <= -1 it is ierfc(-x)/2 by the continued fraction (no cancellation)
    def f(x):
        direct = x * _erf_unit(x) + _exp_neg_square(x) / (2 * _SQRT_PI)
        tail = x <= -1
        if not tail.any():
            return direct
        return np.where(tail, 0.5 * _ierfc_tail(np.where(tail, -x, 1.0)), direct)

    return _with_limits(x, f, 0.0, np.inf)


def _algebraic_unit(x):
    # x >= 0: (1 + x/h)/2; x < 0: 0.5/h/(h - x), h = hypot(1, x) (NUMERICS d3)
    def f(x):
        h = np.hypot(1, x)
        # h - x is halved (exactly) so that it cannot overflow at x = -1e308
        lower = 0.25 / h / (0.5 * h - 0.5 * np.minimum(x, 0))
        return np.where(x >= 0, 0.5 * (1 + x / h), lower)

    return _with_limits(x, f, 0.0, 1.0)


def _algebraic_unit_derivative(x):
    return 0.5 * _algebraic_derivative(x)


def _algebraic_unit_inverse(u):
    # (2u - 1) / (2 sqrt(u (1 - u)))
    return _symmetric_inverse(u, lambda v: (v - 0.5) / np.sqrt(v * (1 - v)))


def _algebraic_unit_antiderivative(x):
    # (x + h)/2, and for x < 0 the exact 1/(h - x) = h + x
    h = np.hypot(1, x)
    return np.where(
        x >= 0,
        0.5 * np.maximum(x, 0) + 0.5 * h,
        0.25 / (0.5 * h - 0.5 * np.minimum(x, 0)),
    )


def _gudermannian_unit(x):
    # (2/pi) atan(e^x) = (2/pi) atan2(e^min(x,0), e^-max(x,0)): no overflow
    return (2 / _PI) * np.arctan2(np.exp(np.minimum(x, 0)), np.exp(-np.maximum(x, 0)))


def _gudermannian_unit_derivative(x):
    return _sech(x) / _PI


def _gudermannian_unit_inverse(u):
    # log(tan(pi v / 2)); near 1/2 it is 2 atanh(tan(pi (v - 1/2) / 2)), exact v - 1/2
    def lower(v):
        near = 2 * np.arctanh(np.tan((_PI / 2) * (v - 0.5)))
        return np.where(v < 0.25, np.log(np.tan((_PI / 2) * v)), near)

    return _symmetric_inverse(u, lower)


def _hard_clip_unit(x):
    return np.clip(0.5 * x + 0.5, 0, 1)


def _hard_clip_unit_derivative(x):
    return 0.5 * _hard_clip_derivative(x)


def _unit_domain(u):
    """(inside [0, 1], u with the outside replaced by 1/2) for safe arithmetic."""
    inside = (u >= 0) & (u <= 1)
    return inside, np.where(inside, u, 0.5)


def _hard_clip_unit_inverse(u):
    inside, v = _unit_domain(u)
    return np.where(inside, 2 * v - 1, np.nan)


def _hard_clip_unit_antiderivative(x):
    s = np.clip(x + 1, 0, 2)
    return np.where(x >= 1, x, s * s / 4)


def _cubic_unit(x):
    # (1 + x - 4x^3/27)/2 = (2/27) s^2 (9/2 - s), s = x + 3/2: no cancellation
    s = np.clip(x + _CUBIC_KNEE, 0, 2 * _CUBIC_KNEE)
    return _with_nan(x, (2 / 27) * s * s * (4.5 - s))


def _cubic_unit_derivative(x):
    return 0.5 * _cubic_derivative(x)


def _cubic_unit_lower_inverse(v):
    # v < 1/4: 2v - 1 = -cos(theta) gives s = x + 3/2 = (3 sqrt3 / 2) sin(d) +
    # 3 sin^2(d/2) with d = (2/3) asin(sqrt v): no cancellation in the tail.
    # 1/4 <= v <= 1/2: the odd inverse of 2v - 1, exact there (Sterbenz).
    d = (2 / 3) * np.arcsin(np.sqrt(np.minimum(v, 0.25)))
    tail = (1.5 * math.sqrt(3)) * np.sin(d) + 3 * np.sin(d / 2) ** 2 - _CUBIC_KNEE
    return np.where(v < 0.25, tail, _cubic_inverse(2 * v - 1))


def _cubic_unit_inverse(u):
    return _symmetric_inverse(u, _cubic_unit_lower_inverse)


def _cubic_unit_antiderivative(x):
    s = np.clip(x + _CUBIC_KNEE, 0, 2 * _CUBIC_KNEE)
    return np.where(x >= _CUBIC_KNEE, x, s**3 * (6 - s) / 54)


def _hard_sigmoid(x):
    return np.clip(x + 3, 0, 6) / 6


def _hard_sigmoid_derivative(x):
    return _with_nan(x, np.where(np.abs(x) < 3, 1 / 6, 0.0))


def _hard_sigmoid_inverse(u):
    # 3 (2u - 1): 2u - 1 is exact for u >= 1/4, where 6u - 3 is not
    inside, v = _unit_domain(u)
    return np.where(inside, 3 * (2 * v - 1), np.nan)


def _hard_sigmoid_antiderivative(x):
    s = np.clip(x + 3, 0, 6)
    return np.where(x >= 3, x, s * s / 12)


# the classic hard sigmoid, max(0, min(1, 0.2 x + 0.5)): (x + 2.5)/5 rounds
# twice (x + 2.5 is exact near the lower kink), 0.2 x + 0.5 three times
def _hard_sigmoid_classic(x):
    return np.clip(x + 2.5, 0, 5) / 5


def _hard_sigmoid_classic_derivative(x):
    return _with_nan(x, np.where(np.abs(x) < 2.5, 0.2, 0.0))


def _hard_sigmoid_classic_inverse(u):
    # 2.5 (2u - 1): 2u - 1 is exact for u >= 1/4, where 5u - 2.5 is not
    inside, v = _unit_domain(u)
    return np.where(inside, 2.5 * (2 * v - 1), np.nan)


def _hard_sigmoid_classic_antiderivative(x):
    s = np.clip(x + 2.5, 0, 5)
    return np.where(x >= 2.5, x, s * s / 10)


def _check_nu(nu: float) -> float:
    if not np.all(np.asarray(nu) > 0):
        raise ValueError(f"richards: nu must be > 0, got {nu!r}")
    return nu


def _richards(x, nu=1.0):
    # u = (1 + e^-x)^(-1/nu) (NUMERICS d8 with L = -x), factored for x < 0 as
    # e^(x/nu) (1 + e^x)^(-1/nu) so that the base lies in (1, 2]. The function
    # is well conditioned near x = 0, but the exponent -1/nu and the base are
    # rounded and then raised to a large power when nu is small (nu = 0.05:
    # 20x), so both, and x/nu, are carried as double-doubles (hi + lo).
    nu = _check_nu(nu)
    a = np.abs(x)
    near = a < 0.5
    # base = one + e exactly as b_hi + b_lo; near 0, e = 1 + expm1(-|x|)
    one = np.where(near, 2.0, 1.0)
    e = np.where(near, np.expm1(-a), np.exp(-a))
    b_hi = one + e
    b_lo = e - (b_hi - one)
    y_hi = -1 / nu
    p, p_err = special.two_prod(y_hi, nu)
    y_lo = -((1 + p) + p_err) / nu
    core = np.power(b_hi, y_hi) * (1 + y_hi * (b_lo / b_hi) + y_lo * np.log(b_hi))
    with np.errstate(over="ignore"):  # x/nu -> -inf is the limit u = 0
        q_hi = np.minimum(x, 0) / nu
    live = q_hi > -746
    q_safe = np.where(live, q_hi, 0.0)
    r_hi, r_err = special.two_prod(q_safe, nu)
    x_safe = np.where(live, np.minimum(x, 0), 0.0)
    q_lo = ((x_safe - r_hi) - r_err) / nu
    return special.exp_dd(q_hi, q_lo) * core


def _richards_derivative(x, nu=1.0):
    return _richards(x, nu) * special.expit(-x) / _check_nu(nu)


def _richards_inverse(u, nu=1.0):
    # x = -softplus_inv(-nu ln u), ln u = log1p(u - 1) near the top (exact u - 1)
    nu = _check_nu(nu)
    inside, v = _unit_domain(u)
    with np.errstate(divide="ignore"):
        log_u = np.where(v > 0.5, np.log1p(v - 1), np.log(v))
    return np.where(inside, -special.softplus_inv(-nu * log_u), np.nan)


def _gompertz(x):
    return np.exp(-np.exp(-np.maximum(x, -709.0)))


def _gompertz_derivative(x):
    xc = np.maximum(x, -709.0)
    return np.exp(-xc - np.exp(-xc))


def _gompertz_inverse(u):
    inside, v = _unit_domain(u)
    with np.errstate(divide="ignore"):
        minus_log_u = -np.where(v > 0.5, np.log1p(v - 1), np.log(v))
        x = -np.log(minus_log_u)
    return np.where(inside, x, np.nan)


def _gompertz_antiderivative(x):
    # E1(e^-x); for x > 30, E1(w) = -gamma - ln w + w + O(w^2) with w = e^-x
    xc = np.maximum(x, -709.0)
    big = xc > 30
    w = np.exp(-xc)
    return np.where(
        big,
        xc - _EULER_GAMMA + w,
        _scipy_special().exp1(np.where(big, 1.0, w)),
    )


# The complementary log-log curve U(x) = 1 - exp(-e^x), the CDF of the Gumbel
# minimum: the Weibull CDF in log time and the cloglog link of binomial GLMs.
# The Gompertz unit above is its mirror, gompertz(x) = 1 - cloglog(-x).

# Beyond x = 40, e^x > 2e17 and 1 - exp(-e^x) is 1 in float64.
_CLOGLOG_SATURATED = 40.0
# Beyond x = 6.625, U'(x) = exp(x - e^x) < e^-747 rounds to 0.
_CLOGLOG_DERIVATIVE_ZERO = 6.625
# E1(e^7) = E1(1097) underflows to 0: x + gamma is all of F beyond x = 7.
_CLOGLOG_E1_ZERO = 7.0
# e (hi, lo) as a double-double: the cloglog root is u = 1 - 1/e.
_E_HI, _E_LO = 2.718281828459045, 1.4456468917292502e-16
# e^x as a double-double on [0, 6.625]: x = n/32 + r, |r| <= 1/64, with
# e^(n/32) from a table and e^r = 1 + r + r^2/2! + ... + r^8/8! (the next term
# is below 1e-22)
_EXP_STEPS = 32
_EXP_TAYLOR = tuple(1 / math.factorial(k) for k in range(2, 9))
# Ein(w) = sum_{k>=1} (-1)^(k+1) w^k / (k k!) [4], for w = e^x <= 1: 20 terms
# leave 1/(21 * 21!) < 1e-21
_EIN_SERIES = tuple((-1) ** (k + 1) / (k * math.factorial(k)) for k in range(1, 21))


def _fast_two_sum(a, b):
    """``(s, e)`` with ``s = fl(a + b)`` and ``s + e == a + b`` exactly, for
    ``|a| >= |b|`` (Dekker [5])."""
    s = a + b
    return s, b - (s - a)


@functools.cache
def _exp_steps_table() -> tuple[np.ndarray, np.ndarray]:
    """:math:`e^{n/32}` for n = 0 ... 212 as double-doubles (hi, lo), from
    50-digit decimal arithmetic (float(Decimal) rounds correctly)."""
    context = decimal.Context(prec=50)
    hi, lo = [], []
    for n in range(int(_CLOGLOG_DERIVATIVE_ZERO * _EXP_STEPS) + 1):
        exact = context.exp(context.divide(n, _EXP_STEPS))
        hi.append(float(exact))
        lo.append(float(context.subtract(exact, decimal.Decimal(hi[-1]))))
    return np.array(hi), np.array(lo)


def _exp_double_double(x):
    """:math:`e^x` as (hi, lo) for 0 <= x <= 6.625, within about 1e-19 relative."""
    hi_table, lo_table = _exp_steps_table()
    n = np.rint(x * _EXP_STEPS)
    r = x - n / _EXP_STEPS  # exact: |r| <= 1/64 is a multiple of ulp(x)
    tail = np.zeros_like(r)
    for c in reversed(_EXP_TAYLOR):
        tail = tail * r + c
    tail = tail * r * r  # e^r - 1 - r
    one_r, one_r_err = _fast_two_sum(np.ones_like(r), r)
    step = n.astype(np.intp)
    t_hi, t_lo = hi_table[step], lo_table[step]
    p, p_err = special.two_prod(t_hi, one_r)
    return _fast_two_sum(p, p_err + t_hi * (one_r_err + tail) + t_lo * one_r)


def _cloglog(x):
    """The complementary log-log curve :math:`U(x) = 1 - e^{-e^x}`.

    Notes
    -----
    Evaluated as ``-expm1(-exp(x))``, whose condition number in ``exp(x)`` is
    at most 1; ``1 - exp(-exp(x))`` keeps half the digits at x = -18 and none
    below x = -37. Measured against mpmath: 1.49 ULP in float64 on
    [-750, 750] (42,000 points), 0.50 float32 ULP.

    Examples
    --------
    >>> import numpy as np
    >>> from scurve.core.shapes import REGISTRY
    >>> float(1 - np.exp(-np.exp(-40.0)))  # naive: all digits lost
    0.0
    >>> float(REGISTRY["cloglog"].unit(-40.0)) == float(np.exp(-40.0))
    True
    """
    return -np.expm1(-np.exp(np.minimum(x, _CLOGLOG_SATURATED)))


def _cloglog_derivative(x):
    """:math:`U'(x) = e^{x - e^x}`.

    Notes
    -----
    For x <= 0 as ``w exp(-w)`` with ``w = exp(x) <= 1``, whose rounding moves
    ``exp(-w)`` by at most eps/2. For x > 0, exp turns the absolute error of
    its argument :math:`x - e^x` into a relative one: rounding ``exp(x)`` and
    then ``x - exp(x)`` costs up to ulp(e^x) = 512 eps near x = 6.6 (measured
    899 ULP for ``exp(x - exp(x))``), so :math:`e^x` and :math:`x - e^x` are
    carried as double-doubles. Measured:
    1.92 ULP in float64 on [-750, 750], 0.50 float32 ULP; exactly 0 in both
    tails.
    """
    w = np.exp(np.minimum(x, 0))
    left = w * np.exp(-w)
    xr = np.where(x > 0, np.minimum(x, _CLOGLOG_DERIVATIVE_ZERO), 1.0)
    w_hi, w_lo = _exp_double_double(xr)
    t_hi, t_err = _fast_two_sum(-w_hi, xr)  # e^x > x
    return np.where(x > 0, special.exp_dd(t_hi, t_err - w_lo), left)


def _cloglog_inverse(u):
    r""":math:`U^{-1}(u) = \log(-\log(1 - u))`; NaN outside [0, 1].

    Notes
    -----
    ``log1p(-u)``, and for u > 1/2 ``log(1 - u)`` with ``1 - u`` exact
    (Sterbenz), so that u near 1 keeps all its digits. Near the root
    u = 1 - 1/e the outer log would turn the rounding of
    :math:`L = -\log(1 - u) \approx 1` into an error unbounded relative to
    x; there (1/2 <= u <= 0.8) x = ``log1p(L - 1)`` with
    :math:`L - 1 = -\log(e (1 - u))` = ``-log1p(d)`` and
    :math:`d = e (1 - u) - 1` formed exactly (e as a double-double, Sterbenz
    for the subtraction). Measured against mpmath at 20,000 u (log-uniform
    tails at 0 and 1, dense around the root): 2.19 ULP of x (0.57 units of the
    conditioning ulp(x) + ulp(u)/U'(x)).
    """
    inside, v = _unit_domain(u)
    with np.errstate(divide="ignore"):  # u = 0 and u = 1 map to -inf and inf
        minus_log_1mu = -np.where(v > 0.5, np.log(1 - v), np.log1p(-v))
        far = np.log(minus_log_1mu)
    near = (v >= 0.5) & (v <= 0.8)
    q = np.where(near, 1 - v, 0.5)
    p, p_err = special.two_prod(q, np.full_like(q, _E_HI))
    d = (p - 1) + (p_err + q * _E_LO)
    return np.where(inside, np.where(near, np.log1p(-np.log1p(d)), far), np.nan)


def _cloglog_antiderivative(x):
    r""":math:`F(x) = \int_{-\infty}^x U = \operatorname{Ein}(e^x)
    = x + \gamma + E_1(e^x)`, with F(-inf) = 0.

    Notes
    -----
    For w = e^x <= 1, x and :math:`E_1(w)` both grow like |x| and
    cancel, so the series of Ein [4] is summed (w times a polynomial: F = e^x
    to the last bit in the left tail). For w > 1, :math:`E_1(w) + \gamma`
    (``scipy.special.exp1``) adds to x without cancellation. The switch at
    x = 0 is measured: the series is <= 1.6 ULP up to it but 2.0 at x = 0.25
    and 10 at x = 1; ``exp1`` is up to 12 ULP off for w <= 1 (3.9 ULP in F
    just below x = 0) and <= 1.34 ULP in F beyond. For x > 7, :math:`E_1(e^x)`
    underflows to 0 and F = x + gamma. Measured: 1.58 ULP in float64 on
    [-750, 750], 0.50 float32 ULP.
    """
    w = np.exp(np.minimum(x, _CLOGLOG_E1_ZERO))
    small = w <= 1  # scipy's exp1 is 12 ULP off at w = 1 itself
    ws = np.where(small, w, 0.0)
    series = np.zeros_like(ws)
    for c in reversed(_EIN_SERIES):
        series = series * ws + c
    e1 = _scipy_special().exp1(np.where(small, 1.0, w))
    return np.where(small, ws * series, x + (e1 + _EULER_GAMMA))


# ------------------------------------------------------------------ objects


@dataclass(frozen=True, eq=False)
class Curve:
    """One form of a shape: a function with its derivative, inverse and integral.

    Parameters
    ----------
    name : str
        The shape's registry name.
    form : {"odd", "unit"}
        ``odd``: range (-1, 1), slope 1 at 0. ``unit``: range (0, 1).
    formula : str
        The function in plain text.
    value, derivative : callable
        Vectorized implementations.
    inverse, antiderivative : callable or None
        None where the inverse does not exist or the antiderivative is not
        elementary.
    params : mapping
        Shape parameters and their defaults (``{"nu": 1.0}`` for Richards).

    Examples
    --------
    >>> from scurve.core.shapes import REGISTRY
    >>> tanh = REGISTRY["tanh"].odd
    >>> float(tanh.derivative(0.0)), float(tanh.antiderivative(0.0))
    (1.0, 0.0)
    >>> bool(abs(tanh.inverse(tanh(0.5)) - 0.5) < 1e-15)
    True
    """

    name: str
    form: Form
    formula: str
    _value: Callable[..., np.ndarray] = field(repr=False)
    _derivative: Callable[..., np.ndarray] = field(repr=False)
    _inverse: Callable[..., np.ndarray] | None = field(default=None, repr=False)
    _antiderivative: Callable[..., np.ndarray] | None = field(default=None, repr=False)
    _second_antiderivative: Callable[..., np.ndarray] | None = field(
        default=None, repr=False
    )
    params: Mapping[str, float] = field(default_factory=dict)

    @property
    def qualname(self) -> str:
        """``name.form``, e.g. ``"tanh.unit"``."""
        return f"{self.name}.{self.form}"

    @property
    def range(self) -> tuple[float, float]:
        """The limits of the curve at -inf and +inf."""
        return (-1.0, 1.0) if self.form == "odd" else (0.0, 1.0)

    @property
    def has_inverse(self) -> bool:
        return self._inverse is not None

    @property
    def has_antiderivative(self) -> bool:
        return self._antiderivative is not None

    @property
    def has_second_antiderivative(self) -> bool:
        return self._second_antiderivative is not None

    def _call(self, impl, what: str, x: ArrayLike, params: dict[str, float]) -> Result:
        if impl is None:
            raise NotImplementedError(f"{self.qualname} has no elementary {what}")
        unknown = set(params) - set(self.params)
        if unknown:
            raise TypeError(
                f"{self.qualname} takes parameters {sorted(self.params) or 'none'}, "
                f"got {sorted(unknown)}"
            )
        return _evaluate(impl, x, {**self.params, **params})

    def value(self, x: ArrayLike, **params: float) -> Result:
        """The curve at `x`."""
        return self._call(self._value, "value", x, params)

    __call__ = value

    def derivative(self, x: ArrayLike, **params: float) -> Result:
        """The first derivative at `x`."""
        return self._call(self._derivative, "derivative", x, params)

    def inverse(self, y: ArrayLike, **params: float) -> Result:
        """The `x` at which the curve equals `y`; NaN outside the range.

        Raises
        ------
        NotImplementedError
            If the curve has no inverse.
        """
        return self._call(self._inverse, "inverse", y, params)

    def antiderivative(self, x: ArrayLike, **params: float) -> Result:
        """An antiderivative: ``F(0) = 0`` for odd forms, ``F(-inf) = 0`` for
        unit forms where that converges.

        Raises
        ------
        NotImplementedError
            If it is not elementary (Gudermannian, Richards).
        """
        return self._call(self._antiderivative, "antiderivative", x, params)

    def second_antiderivative(self, x: ArrayLike, **params: float) -> Result:
        """The antiderivative of :meth:`antiderivative`, with ``F2(0) = 0``
        (odd forms only): what second-order anti-aliasing needs.

        Raises
        ------
        NotImplementedError
            If the curve has none here.
        """
        return self._call(
            self._second_antiderivative, "second antiderivative", x, params
        )


@dataclass(frozen=True, eq=False)
class Shape:
    """A member of the S-curve family: its ``odd`` and ``unit`` forms.

    Calling a shape evaluates its ``native`` form.
    """

    name: str
    description: str
    unit: Curve
    odd: Curve | None = None
    native_form: Form = "odd"

    @property
    def native(self) -> Curve:
        """The form the shape is usually written in."""
        return self.odd if self.native_form == "odd" and self.odd else self.unit

    @property
    def symmetric(self) -> bool:
        """Whether the shape has an odd form (is point-symmetric)."""
        return self.odd is not None

    def form(self, which: Form | Literal["native"] = "native") -> Curve:
        """The ``"odd"``, ``"unit"`` or ``"native"`` form.

        Raises
        ------
        ValueError
            If the shape has no such form.
        """
        if which == "native":
            return self.native
        curve = {"odd": self.odd, "unit": self.unit}.get(which)
        if curve is None:
            raise ValueError(f"{self.name} has no {which!r} form")
        return curve

    def __call__(self, x: ArrayLike, **params: float) -> Result:
        return self.native(x, **params)


def _shape(
    name: str,
    description: str,
    unit: tuple,
    odd: tuple | None = None,
    native: Form = "odd",
    params: Mapping[str, float] | None = None,
) -> Shape:
    params = MappingProxyType(dict(params or {}))
    return Shape(
        name=name,
        description=description,
        unit=Curve(name, "unit", *unit, params=params),
        odd=Curve(name, "odd", *odd, params=params) if odd else None,
        native_form=native,
    )


_TANH_ODD = (_tanh, _tanh_derivative, _tanh_inverse, _logcosh, _tanh_f2)
_HARD_CLIP_ODD = (
    _hard_clip,
    _hard_clip_derivative,
    _hard_clip_inverse,
    _hard_clip_antiderivative,
    _hard_clip_f2,
)

_SHAPES = [
    _shape(
        "logistic",
        "Logistic sigmoid, the Verhulst and log-logistic curve",
        ("1/(1 + exp(-x))", _expit, _expit_prime, _logit, _softplus),
        ("2*sigma(2x) - 1 = tanh(x)", *_TANH_ODD),
        native="unit",
    ),
    _shape(
        "tanh",
        "Hyperbolic tangent, the classic soft clipper",
        (
            "(1 + tanh(x))/2 = sigma(2x)",
            _tanh_unit,
            _tanh_unit_derivative,
            _tanh_unit_inverse,
            _tanh_unit_antiderivative,
        ),
        ("tanh(x)", *_TANH_ODD),
    ),
    _shape(
        "arctan",
        "Arctangent: heavy (Cauchy) tails, gentle saturation",
        (
            "1/2 + atan(x)/pi",
            _arctan_unit,
            _arctan_unit_derivative,
            _arctan_unit_inverse,
            _arctan_unit_antiderivative,
        ),
        (
            "(2/pi)*atan(pi*x/2)",
            _arctan,
            _arctan_derivative,
            _arctan_inverse,
            _arctan_antiderivative,
            _arctan_f2,
        ),
    ),
    _shape(
        "erf",
        "Error function: the normal CDF, Gaussian-light tails",
        (
            "erfc(-x)/2",
            _erf_unit,
            _erf_unit_derivative,
            _erf_unit_inverse,
            _erf_unit_antiderivative,
        ),
        (
            "erf(sqrt(pi)*x/2)",
            _erf,
            _erf_derivative,
            _erf_inverse,
            _erf_antiderivative,
            _erf_f2,
        ),
    ),
    _shape(
        "algebraic",
        "Algebraic sigmoid x/sqrt(1 + x^2): cheap, slow approach to the rails",
        (
            "(1 + x/sqrt(1 + x^2))/2",
            _algebraic_unit,
            _algebraic_unit_derivative,
            _algebraic_unit_inverse,
            _algebraic_unit_antiderivative,
        ),
        (
            "x/sqrt(1 + x^2)",
            _algebraic,
            _algebraic_derivative,
            _algebraic_inverse,
            _algebraic_antiderivative,
            _algebraic_f2,
        ),
    ),
    _shape(
        "gudermannian",
        "Gudermannian gd(x) = atan(sinh(x)), the hyperbolic secant CDF",
        (
            "(2/pi)*atan(exp(x))",
            _gudermannian_unit,
            _gudermannian_unit_derivative,
            _gudermannian_unit_inverse,
        ),
        (
            "(2/pi)*gd(pi*x/2)",
            _gudermannian,
            _gudermannian_derivative,
            _gudermannian_inverse,
        ),
    ),
    _shape(
        "hard_clip",
        "Hard clipper clip(x, -1, 1): the limit of infinite drive",
        (
            "clip((x + 1)/2, 0, 1)",
            _hard_clip_unit,
            _hard_clip_unit_derivative,
            _hard_clip_unit_inverse,
            _hard_clip_unit_antiderivative,
        ),
        ("clip(x, -1, 1)", *_HARD_CLIP_ODD),
    ),
    _shape(
        "cubic",
        "Cubic soft clipper x - 4x^3/27, flat beyond |x| = 3/2",
        (
            "(1 + cubic(x))/2",
            _cubic_unit,
            _cubic_unit_derivative,
            _cubic_unit_inverse,
            _cubic_unit_antiderivative,
        ),
        (
            "x - 4*x**3/27 for |x| <= 3/2, else sign(x)",
            _cubic,
            _cubic_derivative,
            _cubic_inverse,
            _cubic_antiderivative,
            _cubic_f2,
        ),
    ),
    _shape(
        "hard_sigmoid",
        "Hard sigmoid relu6(x + 3)/6 (slope 1/6, kinks at +-3): PyTorch's "
        "Hardsigmoid, Keras 3, MobileNetV3; the classic 0.2x + 0.5 is "
        "hard_sigmoid_classic",
        (
            "relu6(x + 3)/6",
            _hard_sigmoid,
            _hard_sigmoid_derivative,
            _hard_sigmoid_inverse,
            _hard_sigmoid_antiderivative,
        ),
        ("clip(x, -1, 1)", *_HARD_CLIP_ODD),
        native="unit",
    ),
    _shape(
        "hard_sigmoid_classic",
        "Classic hard sigmoid max(0, min(1, 0.2x + 0.5)) (slope 1/5, kinks at "
        "+-2.5): Keras 2 (tf.keras before Keras 3), Theano, and most texts; "
        "PyTorch's relu6(x + 3)/6 is hard_sigmoid",
        (
            "max(0, min(1, 0.2*x + 0.5))",
            _hard_sigmoid_classic,
            _hard_sigmoid_classic_derivative,
            _hard_sigmoid_classic_inverse,
            _hard_sigmoid_classic_antiderivative,
        ),
        ("clip(x, -1, 1)", *_HARD_CLIP_ODD),
        native="unit",
    ),
    _shape(
        "richards",
        "Richards generalized logistic; nu = 1 is the logistic",
        ("(1 + exp(-x))**(-1/nu)", _richards, _richards_derivative, _richards_inverse),
        native="unit",
        params={"nu": 1.0},
    ),
    _shape(
        "gompertz",
        "Gompertz curve exp(-exp(-x)): fast start, slow approach to the top",
        (
            "exp(-exp(-x))",
            _gompertz,
            _gompertz_derivative,
            _gompertz_inverse,
            _gompertz_antiderivative,
        ),
        native="unit",
    ),
    _shape(
        "cloglog",
        "Complementary log-log 1 - exp(-exp(x)): the Weibull and Gompertz-mirror"
        " CDF, slow start, fast approach to the top",
        (
            "1 - exp(-exp(x))",
            _cloglog,
            _cloglog_derivative,
            _cloglog_inverse,
            _cloglog_antiderivative,
        ),
        native="unit",
    ),
]

#: Every shape by name. Iterate over this rather than naming shapes.
REGISTRY: Mapping[str, Shape] = MappingProxyType({s.name: s for s in _SHAPES})


def get(name: str) -> Shape:
    """Look up a shape by name (hyphens and case are forgiven: ``Hard-Clip``).

    Raises
    ------
    KeyError
        With the list of known shapes.
    """
    key = name.strip().lower().replace("-", "_")
    try:
        return REGISTRY[key]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown curve {name!r}; known curves: {known}") from None
