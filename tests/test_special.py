"""Accuracy and behaviour of :mod:`scurve.core.special`.

Accuracy is measured in ULPs against the committed mpmath tables of
``tests/reference/`` (``make_reference.py``); the budgets are those of
NUMERICS.md section 1 and are not to be loosened to make a test pass.
"""

from __future__ import annotations

import importlib.util
import math
import warnings

import mpmath
import numpy as np
import pytest
import scipy.special
from ulp import REFERENCE_DIR, assert_ulp, load_table, ulp, ulp_error

from scurve.core import special

EPS = float(np.finfo(np.float64).eps)
LN2 = math.log(2.0)

UNARY = [
    special.expit,
    special.log_expit,
    special.log1m_expit,
    special.softplus,
    special.softplus_inv,
    special.logit,
    special.expit_prime,
    special.expit_prime2,
    special.logcosh,
]


def _bce_y(y):
    def bce(z):
        # y in z's floating dtype: the generic dtype tests are about z
        z = np.asarray(z)
        dtype = z.dtype if z.dtype.kind == "f" else np.float64
        return special.binary_cross_entropy(z, np.asarray(y, dtype=dtype))

    bce.__name__ = f"binary_cross_entropy(., y={y})"
    return bce


#: every public function as one of a real variable
FUNCTIONS = [*UNARY, _bce_y(0.3)]


def _id(f):
    return f.__name__


# ----------------------------------------------------------------- accuracy

# (table, column, function, budget in ULPs): NUMERICS.md section 1, targets 1-2
F64_CASES = [
    ("special_f64.npz", "expit", special.expit, 2),
    ("special_f64.npz", "log_expit", special.log_expit, 2),
    ("special_f64.npz", "log1m_expit", special.log1m_expit, 2),
    ("special_f64.npz", "softplus", special.softplus, 2),
    ("logit_f64.npz", "logit", special.logit, 2),
    ("special_f64.npz", "expit_prime", special.expit_prime, 4),
    ("special_f64.npz", "expit_prime2", special.expit_prime2, 4),
    ("special_f64.npz", "logcosh", special.logcosh, 4),
]


@pytest.mark.parametrize(
    ("table", "column", "func", "budget"), F64_CASES, ids=[c[1] for c in F64_CASES]
)
def test_float64_ulp(table, column, func, budget):
    x, ref, lo = load_table(table, column)
    assert_ulp(func(x), ref, x, budget, column, ref_lo=lo)


def test_float64_ulp_covers_subnormal_results():
    # the 2-ULP budget of expit and softplus includes subnormal outputs: the
    # table must actually contain some, or the claim is untested
    _, ref, _ = load_table("special_f64.npz", "expit")
    sub = (ref > 0) & (ref < np.finfo(np.float64).tiny)
    assert sub.sum() >= 20
    _, ref_sp, _ = load_table("special_f64.npz", "softplus")
    assert np.count_nonzero((ref_sp > 0) & (ref_sp < np.finfo(np.float64).tiny)) >= 20


def test_softplus_inv_ulp_away_from_root_abs_near_root():
    # softplus_inv has its zero at y = ln 2, where a relative bound is
    # meaningless: 4 ULP outside ln 2 +/- 0.05, an absolute 1 eps inside
    y, ref, lo = load_table("softplus_inv_f64.npz", "softplus_inv")
    near = np.abs(y - LN2) <= 0.05
    assert near.sum() > 500
    budget = np.where(near, EPS / ulp(ref, np.float64), 4.0)
    assert_ulp(special.softplus_inv(y), ref, y, budget, "softplus_inv", ref_lo=lo)


@pytest.mark.parametrize("y", [0.0, 1.0, 0.3, 0.5])
def test_binary_cross_entropy_ulp(y):
    z, ref, lo = load_table("special_f64.npz", f"binary_cross_entropy_y={y}")
    got = special.binary_cross_entropy(z, y)
    assert_ulp(got, ref, z, 4, f"binary_cross_entropy(z, y={y})", ref_lo=lo)


F32_CASES = [
    ("special_f32.npz", "expit", special.expit),
    ("special_f32.npz", "log_expit", special.log_expit),
    ("special_f32.npz", "log1m_expit", special.log1m_expit),
    ("special_f32.npz", "softplus", special.softplus),
    ("logit_f32.npz", "logit", special.logit),
]


@pytest.mark.parametrize(
    ("table", "column", "func"), F32_CASES, ids=[c[1] for c in F32_CASES]
)
def test_float32_ulp(table, column, func):
    x, ref, _ = load_table(table, column)
    x32 = x.astype(np.float32)
    assert np.array_equal(x32.astype(np.float64), x), "float32 table not float32"
    got = func(x32)
    assert got.dtype == np.float32
    assert_ulp(got, ref, x32, 3, column, dtype=np.float32)


# ------------------------------------------------- the tables and the helper


def _load_generator():
    path = REFERENCE_DIR / "make_reference.py"
    spec = importlib.util.spec_from_file_location("make_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("table", "column", "func", "params"),
    [
        ("special_f64.npz", "expit", "expit", ()),
        ("special_f64.npz", "logcosh", "logcosh", ()),
        ("special_f64.npz", "expit_prime2", "expit_prime2", ()),
        (
            "special_f64.npz",
            "binary_cross_entropy_y=0.3",
            "binary_cross_entropy",
            (0.3,),
        ),
        ("logit_f64.npz", "logit", "logit", ()),
        ("softplus_inv_f64.npz", "softplus_inv", "softplus_inv", ()),
        ("special_f32.npz", "log_expit", "log_expit", ()),
    ],
)
def test_tables_match_mpmath(table, column, func, params):
    # a spot check that the committed tables are what the generator computes
    gen = _load_generator()
    x, ref, _ = load_table(table, column)
    rows = np.random.default_rng(0).choice(x.size, 25, replace=False)
    f = gen.FUNCTIONS[func]
    for i in rows:
        with mpmath.workdps(gen.DPS):
            exact = f(mpmath.mpf(float(x[i])), *map(mpmath.mpf, params))
            assert gen._round_f64(exact) == ref[i], (column, x[i])


def test_tables_cover_the_handpicked_points():
    x, _, _ = load_table("special_f64.npz", "expit")
    for p in (745.13, 709.78, 88.72283935546875, 103.97208, 5e-324, 1e-300):
        assert p in x
        assert -p in x
    assert np.any((x == 0) & np.signbit(x))
    assert np.any((x == 0) & ~np.signbit(x))
    assert x.size >= 5000
    assert np.count_nonzero(np.abs(x) <= 750) >= 5000
    p, _, _ = load_table("logit_f64.npz", "logit")
    assert p.min() == 0
    assert p.max() == 1
    assert np.count_nonzero(np.abs(p - 0.5) < 1e-3) >= 300
    assert np.count_nonzero(p < 1e-100) >= 500
    assert np.count_nonzero(p > 1 - 1e-10) >= 200


@pytest.mark.parametrize(
    ("approx", "ref", "dtype", "expected"),
    [
        (1.0 + EPS, 1.0, np.float64, 1.0),
        (1.0 - EPS / 2, 1.0, np.float64, 0.5),  # measured in the ULP above 1
        (1e-323, 5e-324, np.float64, 1.0),  # subnormal spacing
        (5e-324, 0.0, np.float64, 1.0),
        (0.0, -0.0, np.float64, 0.0),
        (np.inf, np.inf, np.float64, 0.0),
        (np.nan, np.nan, np.float64, 0.0),
        (-np.inf, np.inf, np.float64, np.inf),
        (np.nan, 1.0, np.float64, np.inf),
        (1.0, np.nan, np.float64, np.inf),
        (1.0e300, np.inf, np.float64, np.inf),
        (float(np.nextafter(np.float32(1), np.float32(2))), 1.0, np.float32, 1.0),
        (np.finfo(np.float64).max, np.finfo(np.float64).max, np.float64, 0.0),
        (1.0 + 3 * EPS, 1.0 + EPS, np.float64, 2.0),
    ],
)
def test_ulp_error(approx, ref, dtype, expected):
    assert ulp_error(approx, ref, dtype) == expected


def test_ulp_error_uses_residual():
    # exact value 1 + eps/2 (a tie) rounds to 1; 1 + eps is then 0.5 ULP off
    assert ulp_error(1.0 + EPS, 1.0, np.float64, ref_lo=0.5) == 0.5
    assert ulp_error(1.0, 1.0, np.float64, ref_lo=0.5) == 0.5


def test_assert_ulp_names_worst_input():
    x = np.array([1.0, 2.0, 3.0])
    ref = np.array([1.0, 2.0, 3.0])
    got = np.array([1.0, 2.0 + 8 * EPS, 3.0])
    with pytest.raises(AssertionError, match=r"myfunc .* 4 ULP .* x = 2\.0"):
        assert_ulp(got, ref, x, 2, "myfunc")
    assert assert_ulp(got, ref, x, 4, "myfunc") == 4.0


# ---------------------------------------------------------------- behaviour


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(
    ("func", "x", "expected"),
    [
        (special.expit, np.inf, 1.0),
        (special.expit, -np.inf, 0.0),
        (special.log_expit, -np.inf, -np.inf),
        (special.log_expit, np.inf, 0.0),
        (special.log1m_expit, np.inf, -np.inf),
        (special.log1m_expit, -np.inf, 0.0),
        (special.softplus, np.inf, np.inf),
        (special.softplus, -np.inf, 0.0),
        (special.logit, 0.0, -np.inf),
        (special.logit, 1.0, np.inf),
        (special.logit, 0.5, 0.0),
        (special.softplus_inv, 0.0, -np.inf),
        (special.softplus_inv, np.inf, np.inf),
        (special.expit_prime, np.inf, 0.0),
        (special.expit_prime, -np.inf, 0.0),
        (special.expit_prime2, np.inf, 0.0),
        (special.expit_prime2, -np.inf, 0.0),
        (special.logcosh, np.inf, np.inf),
        (special.logcosh, -np.inf, np.inf),
        (special.expit, 0.0, 0.5),
        (special.expit_prime, 0.0, 0.25),
        (special.logcosh, 0.0, 0.0),
    ],
    ids=lambda v: getattr(v, "__name__", repr(v)),
)
def test_exact_values(func, x, expected, dtype):
    got = func(dtype(x))
    assert got.dtype == dtype
    assert got == expected


@pytest.mark.parametrize(
    ("z", "y", "expected"),
    [
        (np.inf, 1.0, 0.0),
        (-np.inf, 0.0, 0.0),
        (np.inf, 0.0, np.inf),
        (-np.inf, 1.0, np.inf),
        (800.0, 1.0, 0.0),
        (-800.0, 1.0, 800.0),
        (800.0, 0.0, 800.0),
        (0.0, 0.5, LN2),
    ],
)
def test_binary_cross_entropy_limits(z, y, expected):
    assert special.binary_cross_entropy(z, y) == expected


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("func", FUNCTIONS, ids=_id)
def test_nan_propagates(func, dtype):
    got = func(np.array([np.nan, 0.5, np.nan], dtype=dtype))
    assert np.isnan(got[[0, 2]]).all()
    assert not np.isnan(got[1])


@pytest.mark.parametrize(
    ("z", "y"), [(np.nan, 0.3), (0.0, np.nan), (np.nan, 0.0), (np.nan, 1.0)]
)
def test_binary_cross_entropy_nan(z, y):
    assert np.isnan(special.binary_cross_entropy(z, y))


@pytest.mark.parametrize(
    ("func", "x"),
    [
        (special.logit, -0.5),
        (special.logit, 1.5),
        (special.logit, -np.inf),
        (special.softplus_inv, -1.0),
        (special.softplus_inv, -np.inf),
    ],
)
def test_outside_domain_is_nan(func, x):
    assert np.isnan(func(x))


def _awkward(dtype):
    info = np.finfo(dtype)
    v = np.array(
        [
            *(0.0, -0.0, np.inf, -np.inf, np.nan, 0.25, 0.5, 1.0, 0.7, 2.0),
            *(info.smallest_subnormal, info.tiny, info.max, 745.2, 1e30),
            *(36.7, 710.0, 89.0, 104.0, 1e-30),
        ],
        dtype=dtype,
    )
    return np.concatenate([v, -v, np.linspace(-800, 800, 101).astype(dtype)])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("func", FUNCTIONS, ids=_id)
def test_no_floating_point_warnings(func, dtype):
    x = _awkward(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            got = func(x)
            func(x[3])  # scalar path
    assert got.shape == x.shape


@pytest.mark.parametrize("func", FUNCTIONS, ids=_id)
def test_dtypes(func):
    assert func(np.arange(3, dtype=np.float32) / 4).dtype == np.float32
    assert func(np.float32(0.25)).dtype == np.float32
    assert func(np.array([0, 1], dtype=np.int64)).dtype == np.float64
    assert func(np.array([0, 1], dtype=np.int8)).dtype == np.float64
    assert func([0, 1]).dtype == np.float64
    assert func(np.array([True, False])).dtype == np.float64


@pytest.mark.parametrize("func", FUNCTIONS, ids=_id)
@pytest.mark.parametrize("x", [0.25, 1, np.float64(0.25), np.float32(0.25)])
def test_scalar_in_scalar_out(func, x):
    got = func(x)
    assert isinstance(got, np.floating)
    assert np.ndim(got) == 0
    assert got == func(np.array([x]))[0]


@pytest.mark.parametrize("func", FUNCTIONS, ids=_id)
def test_zero_d_array_gives_scalar(func):
    got = func(np.array(0.25))
    assert isinstance(got, np.floating)


@pytest.mark.parametrize("func", FUNCTIONS, ids=_id)
@pytest.mark.parametrize(
    "make",
    [
        lambda a: a.reshape(7, -1),  # 2-D
        lambda a: a.reshape(7, -1).T,  # non-contiguous transpose
        lambda a: a[::3],  # strided
        lambda a: a.reshape(7, -1)[:, ::2],  # 2-D strided
        lambda a: np.zeros((0, 3)),  # empty
        lambda a: a.reshape(1, 1, -1),  # leading unit axes
    ],
    ids=["2d", "transposed", "strided", "2d-strided", "empty", "3d"],
)
def test_shapes_preserved(func, make):
    # 7 * BLOCK + 7 values: several blocks and a ragged last one
    n = 7 * (special.BLOCK + 1)
    base = np.linspace(-50, 50, n)
    if func is special.logit:
        base = (base + 51) / 102
    elif func is special.softplus_inv:
        base = np.abs(base)
    x = make(base)
    got = func(x)
    assert got.shape == x.shape
    flat = np.array([func(v) for v in x.reshape(-1)[:: max(1, x.size // 50)]])
    assert np.array_equal(
        got.reshape(-1)[:: max(1, x.size // 50)], flat, equal_nan=True
    )
    contiguous = func(np.ascontiguousarray(x).ravel())
    assert np.array_equal(got.reshape(-1), contiguous, equal_nan=True)
    assert not np.isnan(contiguous).any()


def test_larger_than_block_matches_blockwise():
    x = np.linspace(-40, 40, 3 * special.BLOCK + 5)
    whole = special.logcosh(x)
    pieces = np.concatenate([special.logcosh(c) for c in np.array_split(x, 9)])
    assert np.array_equal(whole, pieces)


def test_binary_cross_entropy_broadcasts():
    z = np.linspace(-5, 5, 3)[:, None]
    y = np.array([0.0, 0.25, 0.5, 1.0])
    got = special.binary_cross_entropy(z, y)
    assert got.shape == (3, 4)
    for i in range(3):
        for j in range(4):
            assert got[i, j] == special.binary_cross_entropy(z[i, 0], y[j])
    assert special.binary_cross_entropy(np.float32(1), np.float32(0.5)).dtype == (
        np.float32
    )


def test_binary_cross_entropy_python_float_y_keeps_float32():
    # as numpy's own ufuncs do (NEP 50): a Python float does not promote
    z = np.linspace(-3, 3, 5, dtype=np.float32)
    assert special.binary_cross_entropy(z, 0.3).dtype == np.float32


def test_expit_subnormal_tail_where_scipy_underflows():
    x = np.linspace(-744.9, -709.8, 2001)
    ours = special.expit(x)
    assert (scipy.special.expit(x) == 0).all()  # what the docstring claims
    assert (ours > 0).all()
    assert (ours < np.finfo(np.float64).tiny).all()
    assert np.all(np.diff(ours) >= 0)


def _mp(f, x):
    with mpmath.workdps(50):
        return float(f(mpmath.mpf(x)))


def _naive_torch_softplus(x):
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


# (naive form, stable function, x, exact value from mpmath): the failures
# that the docstrings of scurve.special describe
NAIVE = [
    (
        lambda x: np.log(scipy.special.expit(x)),
        special.log_expit,
        40.0,
        _mp(lambda x: -mpmath.log1p(mpmath.exp(-x)), 40.0),
    ),
    (
        lambda x: np.log(scipy.special.expit(x)),
        special.log_expit,
        -1000.0,
        -1000.0,
    ),
    (
        lambda x: np.log1p(-scipy.special.expit(x)),
        special.log1m_expit,
        37.0,
        _mp(lambda x: -mpmath.log1p(mpmath.exp(x)), 37.0),
    ),
    (lambda x: np.log(1 + np.exp(x)), special.softplus, 1000.0, 1000.0),
    (
        _naive_torch_softplus,
        special.softplus,
        20.5,
        _mp(lambda x: mpmath.log1p(mpmath.exp(x)), 20.5),
    ),
    (
        lambda x: scipy.special.expit(x) * (1 - scipy.special.expit(x)),
        special.expit_prime,
        40.0,
        _mp(lambda x: mpmath.exp(-x) / (1 + mpmath.exp(-x)) ** 2, 40.0),
    ),
    (
        lambda x: np.log(np.cosh(x)),
        special.logcosh,
        1000.0,
        _mp(lambda x: mpmath.log(mpmath.cosh(x)), 1000.0),
    ),
    (
        lambda p: np.log(p / (1 - p)),
        special.logit,
        0.5 + 2**-40,
        _mp(lambda p: mpmath.log(p / (1 - p)), 0.5 + 2**-40),
    ),
    (
        lambda z: -np.log(scipy.special.expit(z)),
        _bce_y(1.0),
        -800.0,
        800.0,
    ),
]


@pytest.mark.parametrize(
    ("naive", "stable", "x", "exact"),
    NAIVE,
    ids=[f"{c[1].__name__}({c[2]})" for c in NAIVE],
)
def test_naive_form_fails_where_documented(naive, stable, x, exact):
    with np.errstate(all="ignore"):
        bad = naive(np.float64(x))
    assert ulp_error(bad, exact, np.float64) > 1000
    assert ulp_error(stable(x), exact, np.float64) <= 2


def test_naive_log_of_expit_at_40_is_zero():
    assert np.log(scipy.special.expit(40.0)) == 0
    assert special.log_expit(40.0) != 0
    assert special.log_expit(40.0) == pytest.approx(-4.248354255291589e-18, rel=1e-15)
