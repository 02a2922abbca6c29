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
}
OPTIONS = {"sigmoid": [{}, {"shape": "erf"}, {"shape": "arctan"}]}


def relative_gap(model, x: np.ndarray, values: dict[str, float]) -> float:
    """Largest gap between the partials and central differences, relative to
    the derivative's largest size over x."""
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


@pytest.mark.parametrize("name", list(CASES))
def test_partials_broadcast_over_a_stack_of_curves(name: str) -> None:
    model = get_model(name)
    x, sets = CASES[name]
    stack = {n: np.array([[s[n]] for s in sets]) for n in model.curve_params}
    together = model.partials(np.stack([x] * len(sets)), **stack)
    for k, values in enumerate(sets):
        alone = model.partials(x, **values)
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
    for name in ("hill", "hill5"):
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
    from scurve.fitting import SCurveModel

    defined = {
        name
        for name in REGISTRY
        if type(get_model(name)).partials is not SCurveModel.partials
    }
    assert defined <= set(CASES)
    assert {"hill", "hill5", "sigmoid"} <= defined
