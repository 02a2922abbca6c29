"""The vectorized self-starts (``start``) and data checks (``check_data``).

A model's ``start`` of a stack must give each curve the start it has alone
(``guess``, a stack of one: to 1e-9 relative), on seeded synthetic curves,
ragged ones and ones the model refuses included, and ``check_data`` of a
stack must refuse exactly the curves it refuses alone; the vectorized path
then applies the user's fixed values, starting values and bounds as
:meth:`scurve.FitOptions.params` does, curve by curve.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from scurve.core import stacked
from scurve.errors import FitError
from scurve.fitters import vectorized
from scurve.fitters.engine import fit_groups
from scurve.fitters.options import FitOptions
from scurve.inference import checks
from scurve.inference.likelihoods import LeastSquares
from scurve.models import diffusion, get_model

DOSE_LAYOUTS = (
    np.repeat([0.0, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 3),
    np.repeat([0.1, 0.3, 1.0, 3.0, 10.0, 30.0], 2),
    np.array([1.0, 1.0, 1.0]),  # one dose: refused
    np.array([-1.0, 1.0, 2.0, 3.0]),  # a negative dose: refused
)


PRICES = (np.arange(0.0, 2100.0), 100 * 0.999 ** np.arange(0.0, 2100.0))


def bass_curve(rng: np.random.Generator, i: int, adoptions: str) -> tuple:
    """Seeded synthetic Bass sales (3% noise), of ragged lengths: yearly or
    quarterly from 0 or 1990, some at irregular times or out of order, some
    only before the peak (the self-start's profile start), some with a
    negative value (which check_data refuses)."""
    size = int(rng.integers(6, 30))
    step = (1.0, 0.25, 1.0)[i % 3]
    x = (1990.0 if i % 2 else 0.0) + step * np.arange(1.0, size + 1)
    if i % 5 == 0:  # irregular times, the most common gap taken as the period
        x = np.sort(rng.choice(np.arange(1.0, 40.0), size, replace=False))
    true = {"m": 10 ** rng.uniform(2, 6), "q": rng.uniform(0.2, 0.6)}
    true |= {"p": rng.uniform(0.003, 0.03), "launch": x[0] - step}
    if i % 4 == 1:  # no peak yet: a few periods at a small p
        x, true["p"] = x[:6], 0.002
    if adoptions == "per-period":
        true["period"] = step
    y = get_model("bass", adoptions=adoptions).function(x, **true)
    y = y * (1 + 0.03 * rng.normal(size=x.size))
    if i % 9 == 4:  # negative adoptions: refused
        y[1] = -y[1]
    order = rng.permutation(x.size) if i % 7 == 3 else np.arange(x.size)
    return x[order], y[order]


def curves(name: str, n: int, seed: int, **opts: object) -> list[tuple]:
    """Seeded noisy curves of each kind, some ragged, some flat, some
    bell-shaped (which the Hill self-start refuses); Bass's from
    :func:`bass_curve`."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        if name.startswith("bass"):
            x, y = bass_curve(rng, i, str(opts.get("adoptions", "cumulative")))
            out.append((x, np.full(x.size, 3.0) if i % 13 == 0 else y))
            continue
        if name.startswith("hill"):
            x = DOSE_LAYOUTS[i % 4] if i % 5 else rng.uniform(0.01, 10, 9)
            if opts.get("log_dose"):
                x = np.log10(np.where(x > 0, x, 1e-3))
            true = {"bottom": rng.uniform(0, 10), "top": rng.uniform(90, 110)}
            true |= {"log_ec50": rng.uniform(-1, 1)}
            true |= {"hill": rng.choice([-1, 1]) * rng.uniform(0.5, 2)}
            if name == "hill5":
                true["asymmetry"] = rng.uniform(0.5, 2)
            sd = 5.0
        elif name == "sigmoid":
            x = rng.uniform(-3, 3, rng.integers(5, 30))
            true = {"bottom": rng.uniform(0, 10), "top": rng.uniform(90, 110)}
            true |= {"center": rng.uniform(-1, 1)}
            true |= {"scale": rng.choice([-1, 1]) * rng.uniform(0.3, 1.2)}
            sd = 5.0
        else:
            x = np.sort(rng.uniform(0, 24, rng.integers(6, 40)))
            true = {
                "logistic": {"K": 1.0, "r": 0.5, "t0": 10.0},
                "richards": {"K": 1.0, "r": 0.5, "t0": 10.0, "nu": 1.5},
                "gompertz": {"A": 1.0, "mu_m": 0.15, "lag": 4.0},
            }[name] | {"N_min": 0.05}
            sd = 0.01
        y = get_model(name, **opts).function(x, **true)
        y = y + rng.normal(0, sd, x.size)
        if i % 11 == 0 and name.startswith("hill") and x.size >= 3:  # a bell
            y = np.where(np.arange(x.size) == x.size // 2, 300.0, 50.0)
        if i % 13 == 0:
            y = np.full(x.size, 3.0)
        out.append((x, y))
    return out


def stack(data: list[tuple]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    size = max(x.size for x, _ in data)
    x2, y2 = np.zeros((len(data), size)), np.zeros((len(data), size))
    mask = np.zeros((len(data), size), dtype=bool)
    for k, (x, y) in enumerate(data):
        x2[k, : x.size], y2[k, : x.size], mask[k, : x.size] = x, y, True
    return x2, y2, mask


CASES = [
    ("sigmoid", {}),
    ("sigmoid", {"shape": "erf"}),
    ("logistic", {}),
    ("logistic", {"baseline": True}),
    ("gompertz", {}),
    ("richards", {"baseline": True}),
    ("hill", {}),
    ("hill", {"log_dose": True}),
    ("hill5", {}),
    ("bass", {}),
    ("bass", {"adoptions": "per-period"}),
    ("bass", {"adoptions": "rate"}),
    ("bass", {"adoptions": "per-period", "launch": "fit"}),
    ("bass", {"adoptions": "per-period", "launch": 1989.0, "period": 1.0}),
    ("bass", {"adoptions": "rate", "launch": 0.5}),
    ("bass_generalized", {"adoptions": "per-period", "covariates": {"price": PRICES}}),
]


@pytest.mark.parametrize(("name", "opts"), CASES)
def test_the_start_of_a_stack_is_each_curve_s(name: str, opts: dict) -> None:
    model = get_model(name, **opts)
    data = curves(name, 120, seed=7, **opts)
    x2, y2, mask = stack(data)
    with np.errstate(all="ignore"):
        many = model.start(y2, x2, mask)
        refusals = model.check_data(x2, y2, mask)
    assert set(many) == set(model.curve_params)
    compared = refused = 0
    for k, (x, y) in enumerate(data):
        if np.ptp(y) == 0:  # refused before any start (y is constant)
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                one = model.guess(y, x)
        except FitError as exc:  # refused alone, and in the stack
            message = str(exc)
        else:
            message = ""
        if message:
            assert refusals[k] == message, k
            refused += 1
            continue
        assert refusals[k] == "", k
        for p, values in many.items():
            assert values[k] == pytest.approx(one[p].value, rel=1e-9, abs=1e-300), (
                k,
                p,
            )
        compared += 1
    assert compared >= 60
    if name.startswith("hill"):
        assert refused >= 20
    if name.startswith("bass"):
        assert refused >= 10
        assert profiled(model, data) >= 10


def profiled(model: object, data: list[tuple]) -> int:
    """How many of the curves Bass's regression gives no start for (the
    self-start falls back on its profile start)."""
    count = 0
    for x, y in data:
        period = model._period_of(x)
        sales, before = diffusion._discrete_analogue(x, y, model.adoptions, period)
        count += np.all(y >= 0) and diffusion._regression(sales, before, period) is None
    return count


def test_bass_periods_of_a_stack_are_those_of_each_curve() -> None:
    """The most common gap, ties to the shortest, over ragged rows with
    repeated x, irregular gaps and one distinct x."""
    rng = np.random.default_rng(4)
    rows = [
        np.sort(rng.choice(np.arange(0.0, 12.0, 0.5), rng.integers(1, 12)))
        for _ in range(300)
    ]
    rows += [
        np.array([1.0, 2.0, 2.0, 4.0, 6.0, 7.0]),
        np.array([3.0, 3.0]),
        np.array([0.1, 0.3, 0.6]),
    ]
    x2, _, mask = stack([(x, x) for x in rows])
    xs, _, n = stacked.sorted_rows(x2, x2, mask)
    spacings = diffusion._spacings(xs, n)
    assert [float(v) for v in spacings] == [diffusion._spacing(x) for x in rows]


def test_bass_estimators_start_as_nls_and_a_prior_at_its_mean() -> None:
    """Bass's OLS and ML start where nls does (Bass's regression); with a
    prior, p starts at the prior's mean."""
    data = curves("bass", 20, seed=2, adoptions="per-period")
    x2, y2, mask = stack(data)
    nls = get_model("bass", adoptions="per-period").start(y2, x2, mask)
    for estimator in ("ols", "ml"):
        other = get_model("bass", adoptions="per-period", estimator=estimator)
        many = other.start(y2, x2, mask)
        for p, values in nls.items():
            np.testing.assert_array_equal(many[p], values)
    prior = get_model("bass", adoptions="per-period", prior={"p": (0.01, 0.005)})
    many = prior.start(y2, x2, mask)
    found = np.isfinite(nls["m"])
    assert found.sum() >= 10
    assert (many["p"][found] == 0.01).all()


def test_masked_line_is_polyfit() -> None:
    rng = np.random.default_rng(3)
    x, z = rng.normal(size=(50, 9)), rng.normal(size=(50, 9))
    ok = rng.random((50, 9)) < 0.7
    ok[:, :2] = True
    slope, intercept = stacked.masked_line(x, z, ok)
    for k in range(50):
        a, b = np.polyfit(x[k, ok[k]], z[k, ok[k]], 1)
        assert slope[k] == pytest.approx(a, rel=1e-12)
        assert intercept[k] == pytest.approx(b, rel=1e-10, abs=1e-14)


@pytest.mark.parametrize(
    ("name", "kws"),
    [
        ("sigmoid", {"fix": {"bottom": 1.0}, "bounds": {"top": (0.0, 95.0)}}),
        ("sigmoid", {"init": {"center": 0.25}, "bounds": {"scale": (0.5, 2.0)}}),
        ("hill", {"bounds": {"hill": (-1.0, 3.0)}, "fix": {"top": 100.0}}),
        ("richards", {"init": {"nu": 2.0}, "bounds": {"K": (0.0, 0.9)}}),
        ("bass", {"fix": {"p": 0.01}, "bounds": {"q": (0.0, 0.5)}}),
        ("bass", {"init": {"m": 5e4}, "bounds": {"m": (0.0, 1e5)}}),
    ],
)
def test_starts_apply_fix_init_and_bounds_as_make_params(name: str, kws: dict) -> None:
    model = get_model(name)
    data = curves(name, 60, seed=11)
    groups = {(f"c{k}",): (x, y, None) for k, (x, y) in enumerate(data)}
    options = FitOptions(**kws)
    names = model.curve_params
    params = model.make_params()
    options.apply(params)
    varied = np.array([i for i, n in enumerate(names) if params[n].vary])
    solver = vectorized._Solver(model, LeastSquares(), options, varied)
    points = {key: (x, y, None) for key, (x, y, _) in groups.items()}
    part = vectorized._Part(solver, points, options)
    part.start(list(groups))
    started = part.curves
    assert len(started) >= 20
    # the arrays the fit takes: those of the curves kept, in their order
    keys, arrays = part.stacked
    assert keys == list(started)
    own = vectorized._stack(list(started.values()))
    for name in ("x", "y", "w", "mask", "start", "lower", "upper"):
        np.testing.assert_array_equal(getattr(arrays, name), getattr(own, name))
    for key, curve in started.items():
        x, y, _ = groups[key]
        one = options.params(model, x, y)
        np.testing.assert_allclose(
            curve.start, [one[n].value for n in names], rtol=1e-9, atol=1e-300
        )
        np.testing.assert_array_equal(curve.lower, [one[n].min for n in names])
        np.testing.assert_array_equal(curve.upper, [one[n].max for n in names])
    # every curve left out is one the per-curve start refuses, or whose start
    # is not finite, and says why
    for key in set(groups) - set(started):
        x, y, _ = groups[key]
        assert key in part.refused
        assert _refused(model, x, y, options)


def _refused(model: object, x: np.ndarray, y: np.ndarray, options: FitOptions) -> bool:
    mask = np.ones((1, x.size), dtype=bool)
    nvarys = sum(p not in options.fix for p in model.curve_params)
    if checks.refusals(model, x[None], y[None], mask, nvarys)[0]:
        return True
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            params = options.params(model, x, y)
    except FitError:
        return True
    return not all(np.isfinite(params[p].value) for p in model.curve_params)


@pytest.mark.parametrize("name", ["sigmoid", "hill", "bass"])
def test_the_table_of_a_stack_is_each_curve_s(name: str) -> None:
    """Curves fitted together in one stack (padded, ragged, merged
    replicates) and each alone: the same statuses and numbers, to the
    solver's precision (a flat direction moves by about 1e-6 relative)."""
    model = get_model(name)
    data = curves(name, 40, seed=5)
    groups = {(f"c{k}",): (x, y, None) for k, (x, y) in enumerate(data)}
    many = fit_groups(model, groups, ["curve"]).table
    one = pd.concat(
        [
            fit_groups(model, {key: group}, ["curve"]).table
            for key, group in groups.items()
        ],
        ignore_index=True,
    )
    assert list(many["status"]) == list(one["status"])

    # the same messages, but for the number of evaluations it took
    def words(table: pd.DataFrame) -> list[str]:
        return list(table["message"].str.replace(r"\d+ evaluations", "", regex=True))

    assert words(many) == words(one)
    good = (many["status"] == "ok").to_numpy()
    assert good.sum() >= 15
    numeric = many.select_dtypes("number").columns
    np.testing.assert_allclose(
        many[numeric].to_numpy(float)[good],
        one[numeric].to_numpy(float)[good],
        rtol=1e-5,
    )


@pytest.mark.parametrize(
    "odd",
    [
        None,  # a plain screen: the all-at-once check
        ("nan", (np.array([1.0, 2.0, 3.0]), np.array([1.0, np.nan, 3.0]), None)),
        ("inf dose", (np.array([1.0, np.inf, 3.0]), np.ones(3), None)),
        ("ints", (np.array([1, 2, 3]), np.array([1, 5, 9]), None)),
        ("list", ([1.0, 2.0, 3.0], [1.0, 5.0, 9.0], None)),
        ("weights", (np.arange(1.0, 5.0), np.arange(4.0), np.array([1, 0, 2, 1.0]))),
        ("lengths", (np.arange(1.0, 5.0), np.arange(3.0), None)),
        ("empty", (np.array([]), np.array([]), None)),
        ("2-D", (np.ones((2, 2)), np.ones((2, 2)), None)),
    ],
    ids=lambda odd: "plain" if odd is None else odd[0],
)
def test_screens_are_checked_as_each_group_is(odd: tuple | None) -> None:
    """The all-at-once check of a screen (:func:`checks.clean_many`) keeps
    exactly the groups, and the data, that the per-group check keeps."""
    rng = np.random.default_rng(5)
    groups = {(i,): (np.linspace(0, 1, 6), rng.normal(size=6), None) for i in range(5)}
    if odd is not None:
        groups[(2,)] = odd[1]
    kept, _ = checks.clean_many(groups, list(groups))
    expected = {}
    for key, group in groups.items():
        try:
            x, y, w = checks.clean(*group)
        except FitError:
            continue
        expected[key] = (x, y, w)
    assert list(kept) == list(expected)
    for key, (x, y, w) in expected.items():
        got = kept[key]
        assert got[0].dtype == got[1].dtype == np.float64
        np.testing.assert_array_equal(got[0], x)
        np.testing.assert_array_equal(got[1], y)
        assert (got[2] is None) == (w is None)
