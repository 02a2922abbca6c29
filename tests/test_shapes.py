"""Property tests of the S-curve family over the whole of ``shapes.REGISTRY``.

Every test is parametrized over the registry (each Shape, each of its forms),
so a new entry is tested without touching this file; shape parameters are
drawn from :data:`PARAM_STRATEGIES` (Richards: ``nu`` in 0.05..20).

Tolerances are scaled by the conditioning of the property (NUMERICS.md, §3):
a round trip through the inverse is allowed ``B * (ulp(x) + ulp(y)/f'(x))``,
with ``B`` the error budget of the curve in ULPs (:func:`budget`). The accuracy
itself is asserted against mpmath tables elsewhere; here the curves are checked
against themselves (symmetry, inverse, derivative, integral) and against the
sibling form of the same shape.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import mpmath
import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from scurve.core import shapes
from scurve.core.shapes import REGISTRY, Curve

EPS = float(np.finfo(np.float64).eps)
F64_MAX = float(np.finfo(np.float64).max)
BIG = float(np.nextafter(F64_MAX, 0))  # np.spacing(F64_MAX) is inf

# ------------------------------------------------------------------ the registry

ALL_CURVES: list[Curve] = [
    curve
    for shape in REGISTRY.values()
    for curve in (shape.odd, shape.unit)
    if curve is not None
]


def _params(curves: list[Curve]):
    return [pytest.param(c, id=c.qualname) for c in curves]


CURVES = _params(ALL_CURVES)
ODD = _params([c for c in ALL_CURVES if c.form == "odd"])
ODD_INVERTIBLE = _params([c for c in ALL_CURVES if c.form == "odd" and c.has_inverse])
# unit forms of point-symmetric shapes: U(-x) = 1 - U(x)
SYMMETRIC_UNIT = _params([s.unit for s in REGISTRY.values() if s.symmetric])
SYMMETRIC = [pytest.param(s, id=s.name) for s in REGISTRY.values() if s.symmetric]
SYMMETRIC_INVERTIBLE = [
    pytest.param(s, id=s.name)
    for s in REGISTRY.values()
    if s.symmetric and s.odd.has_inverse and s.unit.has_inverse
]
SHAPES = [pytest.param(s, id=s.name) for s in REGISTRY.values()]
INVERTIBLE = _params([c for c in ALL_CURVES if c.has_inverse])
INTEGRABLE = _params([c for c in ALL_CURVES if c.has_antiderivative])
ODD_INTEGRABLE = _params(
    [c for c in ALL_CURVES if c.has_antiderivative and c.form == "odd"]
)
NO_INVERSE = _params([c for c in ALL_CURVES if not c.has_inverse])
NO_ANTIDERIVATIVE = _params([c for c in ALL_CURVES if not c.has_antiderivative])

#: Strategies for shape parameters, by name. A new parameter needs an entry
#: (``test_every_parameter_has_a_strategy``).
PARAM_STRATEGIES: dict[str, st.SearchStrategy[float]] = {
    "nu": st.floats(0.05, 20.0),
}

#: Piecewise shapes that reach their rails at a finite x: the knee, per form.
#: Every other curve approaches its range only at +/-inf.
FINITE_RAILS: dict[str, dict[str, float]] = {
    "hard_clip": {"odd": 1.0, "unit": 1.0},
    "cubic": {"odd": 1.5, "unit": 1.5},
    "hard_sigmoid": {"odd": 1.0, "unit": 3.0},
    "hard_sigmoid_classic": {"odd": 1.0, "unit": 2.5},
}


def knee(curve: Curve) -> float | None:
    return FINITE_RAILS.get(curve.name, {}).get(curve.form)


def params_strategy(curve: Curve) -> st.SearchStrategy[dict[str, float]]:
    """The default parameters, or values drawn from :data:`PARAM_STRATEGIES`."""
    return st.fixed_dictionaries(
        {
            name: st.one_of(st.just(default), PARAM_STRATEGIES[name])
            for name, default in curve.params.items()
        }
    )


def methods(curve: Curve) -> dict[str, Callable]:
    """The curve's available methods, by name."""
    out = {"value": curve.value, "derivative": curve.derivative}
    if curve.has_inverse:
        out["inverse"] = curve.inverse
    if curve.has_antiderivative:
        out["antiderivative"] = curve.antiderivative
    return out


def budget(curve: Curve, x, params: dict[str, float]) -> np.ndarray:
    """Error budget in ULPs of `curve` at `x` (NUMERICS.md §1, with headroom).

    8 ULP by default (primitives measured <= 2, derivatives <= 4); erf-based
    shapes inherit scipy's erfc error, about ``2 x**2 + 20`` ULP in the tail;
    Richards is ``6 (1 + s)`` ULP with s the size of the rounded terms over
    nu (d8, §1.4): |x|/nu in the value, and (1 + |x|)/nu in the inverse, which
    rounds ``nu ln u``, about ln 2 at x = 0 however small nu is.
    """
    a = np.abs(np.where(np.isfinite(x), x, 0.0))
    b = np.full(np.shape(a), 8.0)
    if curve.name == "erf":
        b = 32 + 2 * np.minimum(a, 40.0) ** 2
    if "nu" in params:
        b = 8 * (1 + (1 + np.minimum(a, 1e300)) / params["nu"])
    return b


def ulp(a) -> np.ndarray:
    """Spacing of float64 at |a| (5e-324 for 0 and subnormals; finite at inf)."""
    return np.spacing(np.minimum(np.abs(np.asarray(a, dtype=np.float64)), BIG))


def report(mask, **columns) -> str:
    """The first failing entries of `columns`, for an assertion message."""
    i = np.flatnonzero(np.asarray(mask))[:5]
    return "; ".join(
        ", ".join(f"{k}={np.asarray(v)[j]!r}" for k, v in columns.items()) for j in i
    )


# ------------------------------------------------------------------ inputs

#: Branch points of the formulas and float64 thresholds (NUMERICS.md §2, §3).
INTERESTING_X = sorted(
    {
        s * v
        for s in (1.0, -1.0)
        for v in (
            0.0,
            5e-324,
            2.2250738585072014e-308,
            1e-300,
            1e-8,
            0.25,
            0.5,
            0.75,
            1.0,
            1.5,
            2.0,
            3.0,
            5.0,
            18.0,
            30.0,
            33.3,
            36.7,
            37.0,
            87.3,
            708.4,
            709.0,
            709.78,
            745.13,
            1e10,
            1e100,
            1e150,
            1e154,
            1e300,
            F64_MAX,
        )
    }
)

WHOLE = st.floats(allow_nan=True, allow_infinity=True)
FINITE = st.floats(allow_nan=False, allow_infinity=False)
MODERATE = st.floats(-60.0, 60.0)


@st.composite
def clusters(draw) -> np.ndarray:
    """Points packed around a centre, from 1 to 2**44 ULPs apart."""
    c = draw(st.one_of(st.sampled_from(INTERESTING_X), MODERATE))
    step = draw(st.sampled_from([1.0, 3.0, 64.0, 2.0**20, 2.0**32, 2.0**44]))
    n = draw(st.integers(1, 16))
    with np.errstate(over="ignore"):
        x = c + np.arange(-n, n + 1) * (step * ulp(c))
    return x[np.isfinite(x)]


def float_arrays(elements=None, max_size=24) -> st.SearchStrategy[np.ndarray]:
    elements = st.one_of(MODERATE, FINITE, st.sampled_from(INTERESTING_X)) | (
        elements if elements is not None else st.nothing()
    )
    return st.lists(elements, min_size=1, max_size=max_size).map(
        lambda v: np.array(v, dtype=np.float64)
    )


def x_arrays(whole: bool = False) -> st.SearchStrategy[np.ndarray]:
    extra = st.sampled_from([-np.inf, np.inf]) if whole else None
    return st.one_of(float_arrays(extra), clusters())


def y_values(curve: Curve) -> st.SearchStrategy[float]:
    """Points of the closed range, dense near both ends and the centre."""
    lo, hi = curve.range
    mid = (lo + hi) / 2
    near = st.floats(0.0, 1e-3)
    return st.one_of(
        st.floats(lo, hi),
        near.map(lambda t: lo + t),
        near.map(lambda t: hi - t),
        near.map(lambda t: mid + t),
        near.map(lambda t: mid - t),
        st.sampled_from([lo, hi, mid, lo + 5e-324, hi - EPS / 2, 0.25, 0.75]),
    ).filter(lambda y: lo <= y <= hi)


# ------------------------------------------------------------------ registry


@pytest.mark.parametrize("shape", SHAPES)
def test_registry_entry_is_consistent(shape):
    assert REGISTRY[shape.name] is shape
    assert shape.unit is not None
    assert shape.unit.form == "unit"
    assert shape.unit.range == (0.0, 1.0)
    assert shape.symmetric == (shape.odd is not None)
    forms = [c for c in (shape.odd, shape.unit) if c is not None]
    assert any(shape.native is c for c in forms)
    assert shape.form("native") is shape.native
    assert shape.form("unit") is shape.unit
    if shape.odd is None:
        with pytest.raises(ValueError, match="odd"):
            shape.form("odd")
    else:
        assert shape.form("odd") is shape.odd
        assert shape.odd.form == "odd"
        assert shape.odd.range == (-1.0, 1.0)
        assert dict(shape.odd.params) == dict(shape.unit.params)
    for c in forms:
        assert c.name == shape.name
        assert c.qualname == f"{shape.name}.{c.form}"
        assert isinstance(c.formula, str)
        assert c.formula
    x = np.linspace(-4, 4, 17)
    np.testing.assert_array_equal(shape(x), shape.native.value(x))


@pytest.mark.parametrize("curve", ODD)
def test_odd_form_is_zero_with_slope_one_at_origin(curve):
    # module docstring: slope 1 at the origin for every odd form, so that a
    # drive in dB means the same for all shapes (hard_sigmoid's odd form is
    # clip(x, -1, 1); only its unit form has the ML slope 1/6)
    assert curve.value(0.0) == 0.0
    assert abs(curve.derivative(0.0) - 1.0) <= 1e-15


@pytest.mark.parametrize("curve", SYMMETRIC_UNIT)
def test_symmetric_unit_form_is_one_half_at_origin(curve):
    assert curve.value(0.0) == 0.5
    assert curve.value(-0.0) == 0.5


@pytest.mark.parametrize("curve", CURVES)
def test_every_parameter_has_a_strategy(curve):
    assert set(curve.params) <= set(PARAM_STRATEGIES)


def test_finite_rails_table_names_real_curves():
    for name, forms in FINITE_RAILS.items():
        for form in forms:
            assert REGISTRY[name].form(form) is not None


# ------------------------------------------------------------------ lookup, errors


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Hard-Clip", "hard_clip"),
        ("hard_clip", "hard_clip"),
        ("  TANH ", "tanh"),
        ("Hard-Sigmoid", "hard_sigmoid"),
    ],
)
def test_get_forgives_case_hyphens_and_spaces(name, expected):
    assert shapes.get(name) is REGISTRY[expected]


def test_get_unknown_name_raises_key_error_listing_known_curves():
    with pytest.raises(KeyError) as info:
        shapes.get("sigmoidal-banana")
    message = str(info.value)
    assert "sigmoidal-banana" in message
    for name in REGISTRY:
        assert name in message


def test_missing_inverse_raises_not_implemented():
    # every registered curve has an inverse, so build one without
    tanh = REGISTRY["tanh"].odd
    curve = shapes.Curve("no_inverse", "odd", "tanh(x)", tanh._value, tanh._derivative)
    assert not curve.has_inverse
    with pytest.raises(NotImplementedError, match=r"no_inverse\.odd"):
        curve.inverse(0.5)
    for registered in NO_INVERSE:  # and any registered curve that lacks one
        with pytest.raises(NotImplementedError, match=registered.qualname):
            registered.inverse(0.5)


@pytest.mark.parametrize("curve", NO_ANTIDERIVATIVE)
def test_missing_antiderivative_raises_not_implemented(curve):
    with pytest.raises(NotImplementedError, match=curve.qualname):
        curve.antiderivative(0.5)


@pytest.mark.parametrize("curve", CURVES)
def test_unknown_parameter_raises_type_error(curve):
    for method in methods(curve).values():
        with pytest.raises(TypeError, match="bogus"):
            method(0.5, bogus=1.0)


@pytest.mark.parametrize("nu", [0.0, -0.0, -1.0, -np.inf, np.nan])
@pytest.mark.parametrize("method", ["value", "derivative", "inverse"])
def test_richards_nu_must_be_positive(method, nu):
    curve = REGISTRY["richards"].unit
    with pytest.raises(ValueError, match="nu"):
        getattr(curve, method)(0.5, nu=nu)


# ------------------------------------------------------------------ limits, range


@pytest.mark.parametrize("curve", CURVES)
@given(data=st.data())
def test_limits_at_infinity_are_exact(curve, data):
    p = data.draw(params_strategy(curve), label="params")
    lo, hi = curve.range
    inf = np.array([-np.inf, np.inf])
    assert curve.value(inf, **p).tolist() == [lo, hi]
    assert curve.derivative(inf, **p).tolist() == [0.0, 0.0]
    if curve.has_antiderivative:
        f_lo, f_hi = curve.antiderivative(inf, **p).tolist()
        assert f_hi == np.inf
        if curve.form == "odd":
            assert f_lo == np.inf  # F is even and grows like |x|
        else:
            # anchored at F(-inf) = 0 where the integral converges
            assert f_lo in (0.0, -np.inf)


@pytest.mark.parametrize("curve", ODD_INTEGRABLE)
def test_odd_antiderivative_vanishes_at_origin(curve):
    assert curve.antiderivative(0.0) == 0.0
    assert curve.antiderivative(-0.0) == 0.0


@pytest.mark.parametrize("curve", CURVES)
@given(data=st.data())
def test_range_and_nonnegative_slope(curve, data):
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(x_arrays(whole=True), label="x")
    lo, hi = curve.range
    v = curve.value(x, **p)
    bad = ~((lo <= v) & (v <= hi))
    assert not bad.any(), report(bad, x=x, value=v)
    d = curve.derivative(x, **p)
    bad = ~((d >= 0) & np.isfinite(d))
    assert not bad.any(), report(bad, x=x, derivative=d)


# ------------------------------------------------------------------ monotonicity


def assert_non_decreasing(x, v, slack, what):
    """v non-decreasing along x, allowing a dip of `slack` (rounding)."""
    assert not np.isnan(v).any(), report(np.isnan(v), x=x, **{what: v})
    with np.errstate(invalid="ignore"):  # inf - inf: equal infinities
        dips = np.diff(v) < -np.maximum(slack[:-1], slack[1:])
    assert not dips.any(), report(dips, x=x[:-1], x_next=x[1:], **{what: v[:-1]}) + (
        f" (next: {v[1:][dips][:5]})"
    )


@pytest.mark.parametrize("curve", CURVES)
@given(data=st.data())
def test_value_is_non_decreasing(curve, data):
    """Non-decreasing up to rounding: curves with a few ULP of error dip by an
    ULP between neighbouring inputs where the slope is below ulp(y)/ulp(x)
    (scipy's erf does), so a dip within the error budget is allowed."""
    p = data.draw(params_strategy(curve), label="params")
    x = np.sort(data.draw(x_arrays(whole=True), label="x"))
    v = curve.value(x, **p)
    assert_non_decreasing(x, v, budget(curve, x, p) * ulp(v), "value")


@pytest.mark.parametrize("curve", INVERTIBLE)
@given(data=st.data())
def test_inverse_is_non_decreasing(curve, data):
    p = data.draw(params_strategy(curve), label="params")
    y = np.sort(data.draw(st.lists(y_values(curve), min_size=2, max_size=24)))
    x = curve.inverse(y, **p)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slack = budget(curve, x, p) * (ulp(x) + ulp(y) / curve.derivative(x, **p))
    assert_non_decreasing(y, x, np.nan_to_num(slack, nan=np.inf), "inverse")


@pytest.mark.parametrize("curve", INTEGRABLE)
@given(data=st.data())
def test_antiderivative_is_monotone(curve, data):
    """F' = f >= 0 for unit forms; F is even and increasing in |x| for odd."""
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(x_arrays(whole=True), label="x")
    if curve.form == "odd":
        x = np.abs(x)
    x = np.sort(x)
    big = curve.antiderivative(x, **p)
    assert_non_decreasing(x, big, budget(curve, x, p) * ulp(big), "antiderivative")


# ------------------------------------------------------------------ symmetry


@pytest.mark.parametrize("curve", ODD)
@given(x=float_arrays(WHOLE))
def test_odd_form_is_exactly_odd(curve, x):
    np.testing.assert_array_equal(curve.value(-x), -curve.value(x))
    np.testing.assert_array_equal(curve.derivative(-x), curve.derivative(x))
    if curve.has_antiderivative:
        np.testing.assert_array_equal(curve.antiderivative(-x), curve.antiderivative(x))


@pytest.mark.parametrize("curve", ODD_INVERTIBLE)
@given(y=st.lists(WHOLE, min_size=1, max_size=24).map(np.array))
def test_odd_inverse_is_exactly_odd(curve, y):
    np.testing.assert_array_equal(curve.inverse(-y), -curve.inverse(y))


@pytest.mark.parametrize("curve", SYMMETRIC_UNIT)
@given(x=float_arrays(WHOLE))
def test_symmetric_unit_form_is_point_symmetric(curve, x):
    """U(-x) + U(x) = 1 within a few ULP of 1; U' is even."""
    s = curve.value(-x) + curve.value(x)
    bad = ~(np.abs(s - 1) <= 4 * EPS) & ~np.isnan(x)
    assert not bad.any(), report(bad, x=x, sum=s)
    d, d_neg = curve.derivative(x), curve.derivative(-x)
    bad = ~(np.abs(d - d_neg) <= 4 * ulp(d)) & ~np.isnan(x)
    assert not bad.any(), report(bad, x=x, derivative=d, at_minus_x=d_neg)


@pytest.mark.parametrize("shape", SYMMETRIC_INVERTIBLE)
def test_centre_maps_to_centre(shape):
    """The exact anchors U(0) = 1/2, K(0) = 0 invert exactly."""
    assert shape.odd.inverse(0.0) == 0.0
    assert shape.unit.inverse(0.5) == 0.0


@pytest.mark.parametrize("shape", SYMMETRIC)
@given(x=float_arrays())
def test_unit_form_is_rescaled_odd_form(shape, x):
    """U(x) = (1 + K(c x))/2 with c = 2 U'(0): the two forms are one shape."""
    unit, odd = shape.unit, shape.odd
    c = 2 * float(unit.derivative(0.0))
    with np.errstate(over="ignore"):
        cx = c * x
    expected = (1 + odd.value(cx)) / 2
    # rounding c x moves K by K'(cx) |cx| eps (0 where cx overflows: K is flat)
    finite = np.where(np.isinf(cx), 0.0, cx)
    moved = odd.derivative(finite) * np.abs(finite)
    tol = budget(unit, x, {}) * EPS * (1 + moved)
    err = np.abs(unit.value(x) - expected)
    bad = ~(err <= tol)
    assert not bad.any(), report(bad, x=x, unit=unit.value(x), odd_based=expected)


@pytest.mark.parametrize("shape", SYMMETRIC_INVERTIBLE)
@example(u=np.array([0.5, 0.5 + 2.0**-30, 0.5044391340073952, 0.75, 1 - 2.0**-53]))
@given(
    u=st.lists(st.floats(0.25, 1.0, exclude_max=True), min_size=1, max_size=24).map(
        np.array
    )
)
def test_unit_inverse_is_rescaled_odd_inverse(shape, u):
    """U^-1(u) = K^-1(2u - 1)/c, with 2u - 1 exact on [1/4, 1].

    The tolerance is conditioned on a = 2u - 1, not on u: near the centre x is
    tiny and must be accurate relative to itself, as K^-1(a) is.
    """
    unit, odd = shape.unit, shape.odd
    c = 2 * float(unit.derivative(0.0))
    a = 2 * u - 1
    x = unit.inverse(u)
    expected = odd.inverse(a) / c
    both_inf = np.isinf(x) & (x == expected)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        slope = unit.derivative(x)  # dU/dx; da/dx = 2 U'
        b = budget(unit, x, {})
        tol = b * (ulp(x) + ulp(expected) + ulp(a) / (2 * slope))
        bad = ~(np.abs(x - expected) <= tol) & ~both_inf
    assert not bad.any(), report(bad, u=u, inverse=x, odd_based=expected, tol=tol)


@given(x=float_arrays(st.sampled_from([-np.inf, np.inf])))
def test_richards_nu_1_is_the_logistic(x):
    nu = 1.0
    rich, logistic = REGISTRY["richards"].unit, REGISTRY["logistic"].unit
    for what in ("value", "derivative"):
        got = getattr(rich, what)(x, nu=nu)
        want = getattr(logistic, what)(x)
        bad = ~(np.abs(got - want) <= 4 * ulp(want))
        assert not bad.any(), what + ": " + report(bad, x=x, richards=got, want=want)
    # the inverse goes through ln u, which forgets u - 1/2 near the centre:
    # compare within the conditioning of the round trip, not in ULPs of x
    u = logistic.value(x)
    got, want = rich.inverse(u, nu=nu), logistic.inverse(u)
    both_inf = np.isinf(want) & (got == want)
    with np.errstate(over="ignore", divide="ignore"):
        tol = budget(rich, want, {"nu": nu}) * (
            ulp(want) + ulp(u) / logistic.derivative(want)
        )
    with np.errstate(invalid="ignore"):  # inf - inf where both_inf
        bad = ~(np.abs(got - want) <= tol) & ~both_inf
    assert not bad.any(), "inverse: " + report(bad, u=u, richards=got, want=want)


# ------------------------------------------------------------------ inverse


@pytest.mark.parametrize("curve", INVERTIBLE)
@given(data=st.data())
def test_inverse_of_value_round_trips(curve, data):
    """inverse(value(x)) = x within B (ulp(x) + ulp(y)/f'(x))."""
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(x_arrays(), label="x")
    lo, hi = curve.range
    y = curve.value(x, **p)
    slope = curve.derivative(x, **p)
    keep = (lo < y) & (y < hi) & (slope > 0)
    assume(keep.any())
    x, y, slope = x[keep], y[keep], slope[keep]
    back = curve.inverse(y, **p)
    with np.errstate(over="ignore"):
        tol = budget(curve, x, p) * (ulp(x) + ulp(y) / slope)
    bad = ~(np.abs(back - x) <= tol)
    assert not bad.any(), report(bad, x=x, y=y, inverse=back, tol=tol)


@pytest.mark.parametrize("curve", INVERTIBLE)
@given(data=st.data())
def test_value_of_inverse_round_trips(curve, data):
    """value(inverse(y)) = y within B (ulp(y) + f'(x) ulp(x)) on the range."""
    p = data.draw(params_strategy(curve), label="params")
    y = np.array(data.draw(st.lists(y_values(curve), min_size=1, max_size=24)))
    lo, hi = curve.range
    if knee(curve) is None:
        y = y[(lo < y) & (y < hi)]
        assume(y.size)
    x = curve.inverse(y, **p)
    # a preimage beyond the float range (the Cauchy tail of arctan.unit puts
    # U^-1(5e-324) at -6e322) is correctly rounded to +/-inf
    edge_lo, edge_hi = curve.value(np.array([-F64_MAX, F64_MAX]), **p)
    overflows = ((x == -np.inf) & (y <= edge_lo)) | ((x == np.inf) & (y >= edge_hi))
    bad = ~np.isfinite(x) & ~overflows
    assert not bad.any(), report(bad, y=y, inverse=x)
    y, x = y[~overflows], x[~overflows]
    assume(y.size)
    back = curve.value(x, **p)
    # the slope on either side of x: at a knee it is 0 on the flat side
    slope = np.maximum.reduce(
        [curve.derivative(np.nextafter(x, t), **p) for t in (-np.inf, 0.0, np.inf)]
    )
    tol = budget(curve, x, p) * (ulp(y) + slope * ulp(x))
    bad = ~(np.abs(back - y) <= tol)
    assert not bad.any(), report(bad, y=y, inverse=x, value=back, tol=tol)


@pytest.mark.parametrize("curve", INVERTIBLE)
@given(data=st.data())
def test_inverse_outside_range_is_nan(curve, data):
    p = data.draw(params_strategy(curve), label="params")
    lo, hi = curve.range
    outside = st.one_of(
        st.floats(max_value=lo, exclude_max=True),
        st.floats(min_value=hi, exclude_min=True),
        st.just(np.nan),
    )
    y = np.array(data.draw(st.lists(outside, min_size=1, max_size=24)))
    x = curve.inverse(y, **p)
    assert np.isnan(x).all(), report(~np.isnan(x), y=y, inverse=x)


@pytest.mark.parametrize("curve", INVERTIBLE)
@given(data=st.data())
def test_inverse_at_range_ends(curve, data):
    """+/-inf for the open ranges; the knee for the piecewise shapes."""
    p = data.draw(params_strategy(curve), label="params")
    lo, hi = curve.range
    x_lo, x_hi = curve.inverse(np.array([lo, hi]), **p).tolist()
    k = knee(curve)
    if k is None:
        assert (x_lo, x_hi) == (-np.inf, np.inf)
    else:
        # the smallest x on each rail, to rounding
        assert abs(x_hi - k) <= 2 * ulp(k), x_hi
        assert abs(x_lo + k) <= 2 * ulp(k), x_lo
        assert curve.value(np.array([x_lo, x_hi]), **p).tolist() == [lo, hi]


# ------------------------------------------------------------------ derivatives


def centred_difference(f: Callable, x: np.ndarray, h: float):
    """(f(x + h) - f(x - h)) / (2h) with the step actually taken, and its
    rounding error for values accurate to one ULP."""
    xp, xm = x + h, x - h
    step = xp - xm
    fp, fm = f(xp), f(xm)
    return (fp - fm) / step, (ulp(fp) + ulp(fm)) / step


def assert_derivative_matches(curve, f, df, x, p, what):
    """df == d/dx f by centred differences, at two steps (Richardson).

    The truncation error of the step-h difference is estimated by its
    distance from the step-2h one; rounding by the budget in ULPs of f.
    """
    k = knee(curve)
    if k is not None:
        x = x[np.abs(np.abs(x) - k) > 4 * H]
        assume(x.size)
    fd, round_h = centred_difference(f, x, H)
    fd2, round_2h = centred_difference(f, x, 2 * H)
    d = df(x)
    b = budget(curve, x, p)
    tol = 1e-11 * np.abs(d) + 2 * np.abs(fd2 - fd) + b * (round_h + round_2h)
    bad = ~(np.abs(fd - d) <= tol)
    assert not bad.any(), what + ": " + report(bad, x=x, exact=d, fd=fd, tol=tol)


H = 2.0**-16


@pytest.mark.parametrize("curve", CURVES)
@given(data=st.data())
def test_derivative_is_slope_of_value(curve, data):
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(float_arrays(MODERATE).map(lambda v: v[np.abs(v) <= 60]))
    assume(x.size)

    def f(t):
        return curve.value(t, **p)

    def df(t):
        return curve.derivative(t, **p)

    assert_derivative_matches(curve, f, df, x, p, "derivative")


@pytest.mark.parametrize("curve", INTEGRABLE)
@given(data=st.data())
def test_antiderivative_has_slope_value(curve, data):
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(float_arrays(MODERATE).map(lambda v: v[np.abs(v) <= 60]))
    assume(x.size)

    def big_f(t):
        return curve.antiderivative(t, **p)

    def f(t):
        return curve.value(t, **p)

    assert_derivative_matches(curve, big_f, f, x, p, "antiderivative")


# ------------------------------------------------------------------ NaN, warnings


@pytest.mark.parametrize("curve", CURVES)
@given(data=st.data())
def test_nan_in_nan_out(curve, data):
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(x_arrays(whole=True), label="x")
    where = data.draw(
        st.lists(st.booleans(), min_size=x.size, max_size=x.size).map(
            lambda b: np.array(b, dtype=bool)
        )
    )
    x = np.where(where, np.nan, x)
    for name, method in methods(curve).items():
        assert np.isnan(method(np.nan, **p)), name
        r = method(x, **p)
        assert np.isnan(r[where]).all(), f"{name}: {report(~np.isnan(r) & where, r=r)}"


#: Values of the whole float range that random draws rarely hit exactly.
_EXTREME_MAGNITUDES = (
    *(0.0, 5e-324, 1e-309, 2.2250738585072014e-308, 1e-45, 1.1754944e-38),
    *(0.5, 1.0, 1.0 - 2.0**-53, 1.0 + 2.0**-52, 3.0, 1e38, 3.4028235e38),
    *(3e307, 8.98846567431158e307, 1e308, F64_MAX, np.inf),
)
EXTREMES = [s * v for s in (1.0, -1.0) for v in _EXTREME_MAGNITUDES]


def arrays_of(dtype) -> st.SearchStrategy[np.ndarray]:
    """Arrays over the whole range of `dtype`, extremes and NaN included."""
    width = np.dtype(dtype).itemsize * 8
    with np.errstate(over="ignore"):
        extremes = np.unique(np.array(EXTREMES, dtype=dtype)).tolist()
    elements = st.one_of(
        st.floats(allow_nan=True, allow_infinity=True, width=width),
        st.sampled_from(extremes),
    )
    return hnp.arrays(dtype, st.integers(1, 32), elements=elements)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("curve", CURVES)
@given(data=st.data())
def test_no_floating_point_warnings_on_any_input(curve, dtype, data):
    """Every method on the whole float range (NaN, inf, subnormal, max)."""
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(arrays_of(dtype), label="x")
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        for method in methods(curve).values():
            method(x, **p)
            method(x[0], **p)


# ------------------------------------------------------------------ dtypes


@pytest.mark.parametrize("curve", CURVES)
def test_dtypes_and_shapes(curve):
    for name, method in methods(curve).items():
        x32 = np.array([-2.0, 0.25, 0.5, 3.0], dtype=np.float32)
        assert method(x32).dtype == np.float32, name
        assert method(np.array([-2, 0, 1, 3])).dtype == np.float64, name
        assert method(np.array([True, False])).dtype == np.float64, name

        for scalar, dtype in [
            (0.25, np.float64),
            (1, np.float64),
            (np.float32(0.25), np.float32),
            (np.float64(0.25), np.float64),
            (np.array(0.25), np.float64),
        ]:
            r = method(scalar)
            assert isinstance(r, np.floating), (name, scalar, type(r))
            assert not isinstance(r, np.ndarray), (name, scalar)
            assert r.dtype == dtype, (name, scalar, r.dtype)

        x2 = np.linspace(-3, 3, 12).reshape(3, 4) / 4
        r = method(x2)
        assert r.shape == (3, 4), name
        np.testing.assert_array_equal(r.ravel(), method(x2.ravel()))
        assert method(np.empty((0, 2))).shape == (0, 2), name
        assert method([0.25, 0.5]).shape == (2,), name


@pytest.mark.parametrize("curve", CURVES)
@given(data=st.data())
def test_float32_is_float64_rounded_once(curve, data):
    """Narrow floats are evaluated in float64 and rounded once (``_evaluate``)."""
    p = data.draw(params_strategy(curve), label="params")
    x = data.draw(arrays_of(np.float32), label="x")
    for name, method in methods(curve).items():
        got = method(x, **p)
        with np.errstate(over="ignore"):
            want = np.asarray(method(x.astype(np.float64), **p)).astype(np.float32)
        assert got.dtype == np.float32
        np.testing.assert_array_equal(got, want, err_msg=name)


# ------------------------------------------------------------------ cloglog

CLOGLOG = REGISTRY["cloglog"].unit
GOMPERTZ = REGISTRY["gompertz"].unit


@pytest.mark.parametrize("x", [-40.0, -100.0, -700.0, -745.0])
def test_cloglog_left_tail_is_exp_x_without_cancellation(x):
    """U(x) = 1 - exp(-e^x) = e^x (1 - e^x/2 + ...) is e^x to the ULP for
    x <= -40, where the naive form is 0; so is U'(x) = exp(x - e^x)."""
    e = math.exp(x)
    assert 1 - math.exp(-e) == 0.0  # what -expm1(-exp(x)) avoids
    for method in (CLOGLOG.value, CLOGLOG.derivative):
        got = float(method(x))
        assert abs(got - e) <= ulp(e), (method.__name__, got, e)


@pytest.mark.parametrize("x", [-40.0, -100.0, -700.0, -745.0, -1e300])
def test_cloglog_antiderivative_left_tail_is_exp_x(x):
    """F(x) = Ein(e^x) = e^x - e^2x/4 + ... -> e^x for x -> -inf, where x and
    E1(e^x) in x + gamma + E1(e^x) both grow like |x| and cancel."""
    e = math.exp(x)
    got = float(CLOGLOG.antiderivative(x))
    assert abs(got - e) <= ulp(e), (got, e)


@pytest.mark.parametrize("x", [-20.0, -15.0, -10.0])
def test_cloglog_antiderivative_follows_its_series(x):
    # Ein(w) = w - w^2/4 + w^3/18 - w^4/96 + ..., w = e^x <= 5e-5: the next
    # term is below 1e-22 relative
    w = math.exp(x)
    series = w * (1 - w / 4 + w * w / 18 - w**3 / 96)
    got = float(CLOGLOG.antiderivative(x))
    assert abs(got - series) <= 2 * ulp(series), (got, series)


def test_cloglog_is_the_gompertz_mirror():
    """gompertz(x) = 1 - cloglog(-x), and gompertz'(x) = cloglog'(-x).

    ``1 - cloglog(-x)`` is exact where cloglog(-x) >= 1/2 (Sterbenz) and
    rounds by eps/2 elsewhere, so the values agree within a few eps; the
    derivatives agree within gompertz's budget 2 (1 + |x| + e^-x) ULP
    (tests/test_accuracy_shapes.py) plus cloglog's 4.
    """
    x = np.concatenate(
        [np.linspace(-40, 40, 4001), [-745.0, -700.0, -0.0, 700.0, 745.0, 1e300]]
    )
    g = GOMPERTZ.value(x)
    mirrored = 1 - CLOGLOG.value(-x)
    bad = ~(np.abs(mirrored - g) <= 4 * EPS)
    assert not bad.any(), report(bad, x=x, gompertz=g, mirrored=mirrored)
    dg = GOMPERTZ.derivative(x)
    dc = CLOGLOG.derivative(-x)
    w = np.exp(np.minimum(-x, 700.0))
    tol = (2 * (1 + np.abs(x) + w) + 4) * ulp(dg)
    bad = ~(np.abs(dc - dg) <= tol)
    assert not bad.any(), report(bad, x=x, gompertz=dg, mirrored=dc)


@pytest.mark.parametrize(
    "u",
    [
        *(1 - 2.0**-53, 1 - 2.0**-30, 1 - 1e-10, 0.99, 0.9),
        *(0.6321205588285577, 0.632120558828557, 0.6321205588, 0.7, 0.5),
        *(0.3, 1e-10, 1e-300, 5e-324),
    ],
)
def test_cloglog_inverse_is_accurate_near_one_and_at_the_root(u):
    """x = log(-log(1 - u)) within 3 ULP of x itself: near u = 1 through the
    exact 1 - u, and near the root u = 1 - 1/e, where x is tiny, through
    d = e (1 - u) - 1 formed exactly."""
    with mpmath.workdps(60):
        exact = float(mpmath.log(-mpmath.log1p(-mpmath.mpf(u))))
    got = float(CLOGLOG.inverse(u))
    assert abs(got - exact) <= 3 * ulp(exact), (got, exact)
