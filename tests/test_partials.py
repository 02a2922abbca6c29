"""Models' analytic derivatives (``SCurveModel.partials``, which the fast
path iterates with) against central differences of ``model.function``, at
points that include the awkward ones: zero dose, the plateaus, falling and
rising curves, over a stack of curves as the fast path calls them."""

from __future__ import annotations

import numpy as np
import pytest

from scurve.models import REGISTRY, get_model

# model (with options) -> (x, parameter sets)
CASES = {
    "hill": (
        np.array([0.0, 1e-3, 0.05, 0.3, 1.0, 3.0, 30.0, 1e3]),
        [
            {"bottom": 1.0, "top": 9.0, "log_ec50": 0.3, "hill": -1.4},
            {"bottom": -2.0, "top": 90.0, "log_ec50": -1.2, "hill": 2.7},
        ],
    ),
    "hill5": (
        np.array([0.0, 1e-3, 0.05, 0.3, 1.0, 3.0, 30.0, 1e3]),
        [
            {
                "bottom": 1.0,
                "top": 9.0,
                "log_ec50": 0.3,
                "hill": -1.4,
                "asymmetry": 0.4,
            },
            {
                "bottom": 0.0,
                "top": 50.0,
                "log_ec50": 0.0,
                "hill": 2.4,
                "asymmetry": 3.0,
            },
        ],
    ),
    "sigmoid": (
        np.linspace(-6.0, 6.0, 9),
        [
            {"bottom": 1.0, "top": 3.0, "center": 0.5, "scale": 1.5},
            {"bottom": 5.0, "top": -1.0, "center": -1.0, "scale": -0.7},
        ],
    ),
    # growth: both plateaus (z = -20 ... 95), the midpoint, a baseline
    "logistic": (
        np.array([-40.0, 0.0, 2.0, 9.5, 10.0, 13.0, 30.0, 200.0]),
        [
            {"K": 100.0, "r": 0.5, "t0": 10.0, "N_min": 0.0},
            {"K": 0.8, "r": 3.0, "t0": 2.0, "N_min": 0.05},
        ],
    ),
    # small A (a step nearly vertical at the lag: z up to 1e3), a steep one
    "gompertz": (
        np.array([0.0, 1.0, 2.0, 2.05, 3.0, 5.0, 8.0, 20.0, 60.0]),
        [
            {"A": 2.0, "mu_m": 0.4, "lag": 3.0, "N_min": 0.1},
            {"A": 0.02, "mu_m": 0.5, "lag": 2.0, "N_min": 0.0},
            {"A": 50.0, "mu_m": 5.0, "lag": 4.0, "N_min": 1.0},
        ],
    ),
    # nu = 1 (the logistic), near Gompertz (0.02) and far above 1 (30)
    "richards": (
        np.array([-30.0, -5.0, 0.0, 1.0, 4.0, 6.0, 10.0, 40.0]),
        [
            {"K": 10.0, "r": 0.8, "t0": 4.0, "nu": 1.0, "N_min": 0.0},
            {"K": 3.0, "r": 1.2, "t0": 4.0, "nu": 0.02, "N_min": 0.2},
            {"K": 3.0, "r": 0.5, "t0": 2.0, "nu": 30.0, "N_min": 0.0},
        ],
    ),
    # before launch (x = 0.25 with launch 0.3), launch offsets, q > p, q < p,
    # q / p = 180, q near 0, the saturated tail; never on the kink t = 0 or
    # t = period (``period`` is read by per-period data only)
    "bass": (
        np.array([0.25, 0.5, 1.5, 2.0, 5.0, 7.0, 10.0, 20.0, 60.0]),
        [
            {"m": 1e4, "p": 0.03, "q": 0.38, "launch": 0.0, "period": 1.0},
            {"m": 50.0, "p": 0.3, "q": 0.01, "launch": 0.3, "period": 1.0},
            {"m": 1e3, "p": 5e-3, "q": 0.9, "launch": -1.7, "period": 2.0},
            {"m": 5.0, "p": 0.05, "q": 1e-6, "launch": 0.3, "period": 0.5},
        ],
    ),
    # Baranyi: h0 at its bound 0 (the logistic), a long lag, y0 near K
    "baranyi": (
        np.array([0.0, 0.5, 2.0, 5.0, 8.0, 12.0, 20.0, 60.0]),
        [
            {"y0": 0.01, "mumax": 0.6, "K": 1.2, "h0": 0.0},
            {"y0": 0.02, "mumax": 0.3, "K": 0.9, "h0": 3.0},
            {"y0": 0.5, "mumax": 1.5, "K": 0.6, "h0": 0.4},
        ],
    ),
    # Brain-Cousens: with and without stimulation, falling (drc's b > 0)
    "brain_cousens": (
        np.array([0.0, 1e-3, 0.05, 0.3, 1.0, 3.0, 30.0, 1e3]),
        [
            {"bottom": 0.0, "top": 1.0, "log_xb": 0.0, "hill": -1.3, "hormesis": 1.6},
            {"bottom": 0.2, "top": 5.0, "log_xb": 0.7, "hill": -2.5, "hormesis": 0.0},
        ],
    ),
}
# the Hill family on the cloglog unit curve (drc's W2.4): the same points
CASES["weibull2"] = CASES["hill"]
OPTIONS = {
    "sigmoid": [{}, {"shape": "erf"}, {"shape": "arctan"}],
    "logistic": [{}, {"baseline": True}],
    "gompertz": [{}, {"baseline": True}],
    "richards": [{}, {"baseline": True}],
    "baranyi": [{}, {"log_y": True}],
    "bass": [
        {"adoptions": "cumulative"},
        {"adoptions": "per-period"},
        {"adoptions": "rate"},
        {"adoptions": "per-period", "estimator": "ml"},
        {"adoptions": "cumulative", "launch": "fit"},
    ],
}


def relative_gap(model, x: np.ndarray, values: dict[str, float]) -> float:
    """Largest gap between the partials and central differences, relative to
    the derivative's largest size over x (`values` may name more than the
    model's parameters)."""
    values = {n: values[n] for n in model.curve_params}
    exact = model.partials(x, **values)
    worst = 0.0
    for name in model.curve_params:
        h = 1e-6 * max(1.0, abs(values[name]))
        up, down = dict(values), dict(values)
        up[name] += h
        down[name] -= h
        numeric = (model.function(x, **up) - model.function(x, **down)) / (2 * h)
        size = np.max(np.abs(numeric)) + 1e-300
        gap = np.max(np.abs(np.broadcast_to(exact[name], numeric.shape) - numeric))
        worst = max(worst, gap / size)
    return worst


@pytest.mark.parametrize(
    ("name", "options"),
    [(n, o) for n in CASES for o in OPTIONS.get(n, [{}])],
)
def test_partials_match_central_differences(name: str, options: dict) -> None:
    model = get_model(name, **options)
    x, sets = CASES[name]
    for values in sets:
        assert relative_gap(model, x, values) < 1e-7, values


@pytest.mark.parametrize(
    ("name", "options"),
    [(n, o) for n in CASES for o in OPTIONS.get(n, [{}])],
)
def test_partials_broadcast_over_a_stack_of_curves(name: str, options: dict) -> None:
    model = get_model(name, **options)
    x, sets = CASES[name]
    stack = {n: np.array([[s[n]] for s in sets]) for n in model.curve_params}
    together = model.partials(np.stack([x] * len(sets)), **stack)
    for k, values in enumerate(sets):
        alone = model.partials(x, **{n: values[n] for n in model.curve_params})
        for n in model.curve_params:
            np.testing.assert_allclose(
                np.broadcast_to(together[n], (len(sets), x.size))[k],
                np.broadcast_to(alone[n], x.shape),
                rtol=1e-14,
                atol=0,
            )


def test_zero_dose_derivatives_are_their_limits() -> None:
    """At zero dose a Hill curve sits on a plateau: only that plateau's
    derivative is nonzero (no NaN from 0 * log 0)."""
    for name in ("hill", "hill5", "weibull2"):
        model = get_model(name)
        x, sets = CASES[name]
        for values in sets:
            d = model.partials(x[:1], **values)
            falling = values["hill"] < 0
            assert np.all(np.isfinite([np.ravel(v)[0] for v in d.values()]))
            assert float(np.ravel(d["top" if falling else "bottom"])[0]) == 1.0
            for n in model.curve_params:
                if n not in ("bottom", "top"):
                    assert float(np.ravel(d[n])[0]) == 0.0, (name, n)


def test_every_model_with_partials_is_checked_here() -> None:
    """Analytic derivatives are wrong quietly (the fast path would still
    converge, more slowly, or to a worse point): a model that defines them
    must have a case above."""
    from scurve.models.base import SCurveModel

    defined = {
        name
        for name in REGISTRY
        if type(get_model(name)).partials is not SCurveModel.partials
    }
    assert defined <= set(CASES)
    assert {"hill", "hill5", "sigmoid", "logistic", "gompertz", "richards"} <= defined
    assert "bass" in defined
    assert "bass_generalized" not in defined


def test_gompertz_at_zero_asymptote_takes_the_limits() -> None:
    """At A = 0 (its bound) the Gompertz curve is the constant N_min: the
    derivatives of mu_m and lag are 0 and that of A its limit from above,
    1 after the lag, 0 before it and exp(-e) at the lag (no NaN from inf * 0);
    A a hair above 0 gives the same numbers."""
    model = get_model("gompertz")
    x = np.array([0.0, 1.0, 2.0, 3.0, 50.0])
    for mu_m in (0.5, 0.0):
        at = model.partials(x, A=0.0, mu_m=mu_m, lag=2.0, N_min=0.3)
        near = model.partials(x, A=1e-12, mu_m=mu_m, lag=2.0, N_min=0.3)
        limit = [0.0, 0.0, np.exp(-np.e), 1.0, 1.0] if mu_m else [np.exp(-np.e)] * 5
        np.testing.assert_allclose(at["A"], limit, rtol=1e-15, atol=0)
        np.testing.assert_allclose(near["A"], limit, rtol=1e-12, atol=0)
        assert np.all(at["mu_m"] == 0.0)
        assert np.all(at["lag"] == 0.0)
        assert np.all(at["N_min"] == 1.0)


# the curves in mpmath, for derivatives by mpmath's own differences at 40 digits
def _mp_bass_share(t, p, q):
    mp = pytest.importorskip("mpmath")
    if t <= 0:
        return mp.mpf(0)
    e = mp.exp(-(p + q) * t)
    return (1 - e) / (1 + q / p * e)


def _mp_bass_density(t, p, q):
    mp = pytest.importorskip("mpmath")
    if t < 0:
        return mp.mpf(0)
    e = mp.exp(-(p + q) * t)
    return p * (p + q) ** 2 * e / (p + q * e) ** 2


def _mp_curve(name: str, options: dict):
    mp = pytest.importorskip("mpmath")
    if name == "gompertz":
        return lambda t, A, mu_m, lag, N_min: (
            N_min + A * mp.exp(-mp.exp(mu_m * mp.e / A * (lag - t) + 1))
        )
    if name == "richards":
        return lambda t, K, r, t0, nu, N_min: (
            N_min + K * (1 + mp.exp(-r * (t - t0))) ** (-1 / nu)
        )
    kind = options["adoptions"]
    if kind == "cumulative":
        return lambda t, m, p, q, launch: m * _mp_bass_share(t - launch, p, q)
    if kind == "rate":
        return lambda t, m, p, q, launch: m * _mp_bass_density(t - launch, p, q)
    return lambda t, m, p, q, launch, period: (
        m
        * (_mp_bass_share(t - launch, p, q) - _mp_bass_share(t - launch - period, p, q))
    )


# hard points: a near-vertical Gompertz step (A = 1e-3), Richards with nu far
# from 1, Bass with p at its bound 1e-300 (q/p = 5e299, the diffusion takes
# 1400 periods to take off) and with q = 0 (the derivative in q at the bound)
HARD = [
    (
        "gompertz",
        {},
        [0.0, 1.0, 2.0, 2.001, 2.003, 2.01, 3.0, 8.0],
        {"A": 1e-3, "mu_m": 0.5, "lag": 2.0, "N_min": 0.0},
    ),
    (
        "richards",
        {},
        [-30.0, -5.0, 0.0, 1.0, 4.0, 6.0, 10.0, 40.0],
        {"K": 3.0, "r": 1.2, "t0": 4.0, "nu": 0.02, "N_min": 0.2},
    ),
    (
        "richards",
        {},
        [-30.0, -5.0, 0.0, 1.0, 4.0, 6.0, 10.0, 40.0],
        {"K": 3.0, "r": 0.5, "t0": 2.0, "nu": 30.0, "N_min": 0.0},
    ),
    *[
        (
            "bass",
            {"adoptions": kind},
            [1.0, 100.0, 1000.0, 1380.0, 1400.0, 1500.0],
            {"m": 1.0, "p": 1e-300, "q": 0.5, "launch": 0.0, "period": 1.0},
        )
        for kind in ("cumulative", "per-period", "rate")
    ],
    *[
        (
            "bass",
            {"adoptions": kind},
            [0.5, 1.5, 3.0, 10.0, 40.0],
            {"m": 20.0, "p": 0.1, "q": 0.0, "launch": 0.2, "period": 1.0},
        )
        for kind in ("cumulative", "per-period", "rate")
    ],
]


@pytest.mark.parametrize(("name", "options", "x", "values"), HARD)
def test_partials_match_mpmath_at_hard_points(
    name: str, options: dict, x: list, values: dict
) -> None:
    """Within 1e-12 of the largest derivative over x (the rounding of ln(q/p)
    = 690 at p = 1e-300 costs about 1e-13), against mpmath's differences
    (a step relative to the parameter, so that p = 1e-300 stays positive)."""
    mp = pytest.importorskip("mpmath")
    model = get_model(name, **options)
    values = {n: values[n] for n in model.curve_params}
    curve = _mp_curve(name, options)
    exact = model.partials(np.array(x), **values)
    with mp.workdps(40):
        for n in model.curve_params:
            at = mp.mpf(values[n])
            step = abs(at) * mp.mpf("1e-15") if at else mp.mpf("1e-15")

            def along(v, t, n=n):
                return curve(t, **{**{k: mp.mpf(w) for k, w in values.items()}, n: v})

            ref = np.array(
                [
                    float(mp.diff(lambda v, t=t: along(v, mp.mpf(t)), at, h=step))
                    for t in x
                ]
            )
            got = np.broadcast_to(exact[n], ref.shape)
            gap = np.max(np.abs(got - ref))
            assert gap <= 1e-12 * np.max(np.abs(ref)), (n, got, ref)


@pytest.mark.parametrize(
    ("name", "options"),
    [(n, o) for n in CASES for o in OPTIONS.get(n, [{}])],
)
def test_a_curve_is_the_sum_of_its_linear_parameters_terms(
    name: str, options: dict
) -> None:
    """``linear_params``: f = sum_l beta_l df/dbeta_l, with nothing else (the
    Hessian of the fast path and the lmfit path leans on it); a model that
    declares none is skipped."""
    model = get_model(name, **options)
    if not model.linear_params:
        return
    x, sets = CASES[name]
    for values in sets:
        values = {n: values[n] for n in model.curve_params}
        d = model.partials(x, **values)
        terms = sum(values[n] * d[n] for n in model.linear_params)
        np.testing.assert_allclose(terms, model.function(x, **values), rtol=1e-13)


def test_the_dose_response_curves_declare_their_plateaus_linear() -> None:
    for name in ("hill", "hill5"):
        assert get_model(name).linear_params == ("bottom", "top")
