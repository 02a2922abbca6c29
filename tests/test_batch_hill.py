"""hill and hill5 on the fast path: drc's Hessian covariance, vectorized,
and issue 8's equivalence test (on 400 seeded 4PL curves, 8 doses x 3
replicates) against the lmfit path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from scurve.fitters.engine import fit_groups
from scurve.inference import hessian
from scurve.models import get_model

DOSES = np.repeat(10.0 ** np.linspace(-3, 3, 8), 3)


def four_pl(name: str, n: int, seed: int) -> dict[tuple, tuple]:
    model = get_model(name)
    rng = np.random.default_rng(seed)
    groups = {}
    for i in range(n):
        true = {"bottom": rng.uniform(0, 10), "top": rng.uniform(90, 110)}
        true |= {"log_ec50": rng.uniform(-1, 1)}
        true |= {"hill": rng.choice([-1, 1]) * rng.uniform(0.5, 2)}
        if name == "hill5":
            true["asymmetry"] = rng.uniform(0.5, 2)
        y = model.function(DOSES, **true) + rng.normal(0, 5, DOSES.size)
        groups[(f"c{i}",)] = (DOSES, y, None)
    return groups


@pytest.fixture(scope="module")
def equivalence() -> tuple[pd.DataFrame, pd.DataFrame]:
    model = get_model("hill")
    groups = four_pl("hill", 400, seed=8)
    fast = fit_groups(model, groups, ["curve"]).table
    slow = fit_groups(model, groups, ["curve"], engine="lmfit").table
    return fast, slow


def test_issue_8_equivalence_on_400_4pl_curves(
    equivalence: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    fast, slow = equivalence
    # the fast path fitted (nearly) all of them itself
    one_by_one = fast["message"].str.contains("one by one")
    assert one_by_one.mean() < 0.05
    # the same verdicts, but for curves whose parameters are not
    # identifiable (a slope steeper than the doses resolve): the lmfit path
    # stops where the correlation rounds to 1 (singular), the fast path
    # where the sum of squares stops falling (not_converged, "creeps along a
    # valley"); neither reports estimates for them
    unidentified = {"singular", "not_converged"}
    differ = fast["status"] != slow["status"]
    assert differ.mean() <= 0.02
    assert fast["status"][differ].isin(unidentified).all()
    assert slow["status"][differ].isin(unidentified).all()
    rss = (fast["rss"] - slow["rss"]) / slow["rss"]
    assert (rss <= 1e-6).mean() >= 0.995
    same = (fast["status"] == "ok") & (rss.abs() <= 1e-6)
    assert same.sum() >= 350
    for p in ("bottom", "top", "log_ec50", "hill", "ec50"):
        # within 1e-4 relative, or 1e-4 of a standard error where the value
        # is near 0 (a bottom of 0.04 +- 5.3: the two optimizers stop 1e-5
        # apart on that flat direction, the fast path at the lower RSS)
        gap = np.abs(fast[p][same] - slow[p][same])
        allowed = 1e-4 * np.maximum(np.abs(slow[p][same]), slow[f"{p}_stderr"][same])
        assert (gap <= allowed).all(), p


def test_hessian_standard_errors_and_mapped_ec50_interval_match(
    equivalence: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    fast, slow = equivalence
    ok = (fast["status"] == "ok") & ~fast["message"].str.contains("one by one")
    assert ok.sum() >= 350
    # drc's 2 s^2 H^-1, not lmfit's s^2 (J'J)^-1 (which differs in the
    # third digit): the finite-difference Hessians of both paths agree to
    # their truncation error
    for p in ("bottom", "top", "log_ec50", "hill", "ec50"):
        np.testing.assert_allclose(
            fast[f"{p}_stderr"][ok], slow[f"{p}_stderr"][ok], rtol=2e-3
        )
    # ec50's interval is log_ec50's mapped through 10**v: asymmetric
    for end in ("lower", "upper"):
        np.testing.assert_allclose(
            fast[f"ec50_{end}"][ok], slow[f"ec50_{end}"][ok], rtol=1e-3
        )
    mapped = 10 ** fast["log_ec50_upper"][ok]
    np.testing.assert_allclose(fast["ec50_upper"][ok], mapped, rtol=1e-12)


def test_hill5_takes_the_fast_path_with_the_lmfit_table() -> None:
    model = get_model("hill5")
    groups = four_pl("hill5", 40, seed=9)
    fits = fit_groups(model, groups, ["curve"])
    assert not fits.table["message"].str.contains("one by one").any()
    fast = fits.table
    slow = fit_groups(model, groups, ["curve"], engine="lmfit").table
    # the same verdicts, but where the fast path finds the sum of squares no
    # longer falling while the parameters move (a steep 5PL whose slope and
    # asymmetry trade off): not_converged, where lmfit stops somewhere on
    # that valley
    differ = fast["status"] != slow["status"]
    assert fast["status"][differ].isin(["not_converged", "singular"]).all()
    # where the fast path went further down the valley (a lower sum of
    # squares, the slope still growing) than where lmfit stopped and called
    # it ok, its verdict is the honest one; other differences are rare
    further = differ & (fast["rss"] <= slow["rss"])
    assert (differ & ~further).sum() <= 2
    ok = (fast["status"] == "ok") & ~fast["message"].str.contains("one by one")
    assert ok.sum() >= 20
    rss = (fast["rss"] - slow["rss"]) / slow["rss"]
    assert (rss[ok] <= 1e-6).all()
    same = ok & (rss.abs() <= 1e-7)
    assert same.sum() >= 15
    for p in ("log_ec50", "hill", "asymmetry"):
        # within 1e-3 relative, or 1e-2 standard errors (log_ec50 near 0)
        gap = np.abs(fast[p][same] - slow[p][same])
        allowed = 1e-3 * np.abs(slow[p][same]) + 1e-2 * slow[f"{p}_stderr"][same]
        assert (gap <= allowed).all()
        # a steep 5PL's valley is flat: where along it each optimizer stops
        # (hill 8.99 or 9.00, +- 6.9, the fast path's sum of squares the
        # lower) moves the Hessian's standard errors by up to 2%
        np.testing.assert_allclose(
            fast[f"{p}_stderr"][same], slow[f"{p}_stderr"][same], rtol=3e-2
        )


def test_hessian_covariance_of_a_quadratic_is_exact() -> None:
    """S(theta) = (theta - m)' A (theta - m) + c has H = 2A, so the covariance
    is s^2 A^-1 whatever the steps; a Hessian that is not positive definite
    or not finite, or a curve not usable, keeps its covariance."""
    rng = np.random.default_rng(1)
    b, k = 30, 3
    root = rng.normal(size=(b, k, k))
    a = np.einsum("bij,bkj->bik", root, root) + np.eye(k)
    m = rng.normal(size=(b, k))

    def rss(theta: np.ndarray) -> np.ndarray:
        d = theta - m
        return np.einsum("bi,bij,bj->b", d, a, d) + 5.0

    start = np.broadcast_to(np.eye(k), (b, k, k)).copy()
    usable = np.ones(b, dtype=bool)
    usable[0] = False  # kept as given
    s2 = rng.uniform(0.5, 2.0, b)
    steps = np.full((b, k), 0.05)
    hess = hessian.numeric_hessian(rss, m + 0.1, steps)
    hess[2] = np.diag([1.0, -1.0, 1.0])  # indefinite: kept as given
    hess[3, 0, 0] = np.nan  # not finite: kept
    cov, used = hessian.hessian_covariance(hess, start, usable, s2)
    kept = [0, 2, 3]
    assert used.tolist() == [k not in kept for k in range(b)]
    expected = s2[:, None, None] * np.linalg.inv(a)
    np.testing.assert_allclose(cov[used], expected[used], rtol=1e-6)
    np.testing.assert_array_equal(cov[kept], start[kept])
    # alone, as the lmfit path asks: the same
    one, alone = hessian.hessian_covariance(hess[1:2], start[1:2], usable[1:2], s2[1:2])
    assert alone.all()
    np.testing.assert_allclose(one[0], expected[1], rtol=1e-6)


def _closed_form_4pl_hessian(x, y, w, values):
    """The Hessian of sum (w (f - y))^2 for the 4PL, from its closed-form
    second derivatives (U' = U(1-U), U'' = U'(1-2U); z = h (ln x - e ln 10))."""
    b, t, e, h = (values[:, i : i + 1] for i in range(4))
    ln10 = np.log(10.0)
    with np.errstate(divide="ignore"):
        lx = np.log(x)
    z_h = np.where(np.isfinite(lx), lx - e * ln10, 0.0)
    z = np.where(np.isfinite(lx), h * z_h, -np.sign(h) * np.inf)
    u = 1 / (1 + np.exp(-z))
    u1, s = u * (1 - u), t - b
    u2 = u1 * (1 - 2 * u)
    z_e = -h * ln10
    r = w * (b + s * u - y)
    jac = w[:, :, None] * np.stack([1 - u, u, s * u1 * z_e, s * u1 * z_h], axis=2)
    second = np.zeros((len(x), 4, 4))
    terms = {
        (0, 2): -u1 * z_e,
        (0, 3): -u1 * z_h,
        (1, 2): u1 * z_e,
        (1, 3): u1 * z_h,
        (2, 2): s * u2 * z_e**2,
        (3, 3): s * u2 * z_h**2,
        (2, 3): s * (u2 * z_e * z_h - u1 * ln10),
    }
    for (i, j), d2 in terms.items():
        second[:, i, j] = second[:, j, i] = np.sum(r * w * d2, axis=1)
    return 2 * (np.einsum("bni,bnj->bij", jac, jac) + second)


@pytest.mark.parametrize("name", ["hill", "hill5"])
def test_the_hessian_from_the_derivatives(name: str) -> None:
    """:func:`derivative_hessian` over a weighted stack of curves (with zero
    doses), away from their minima so that every term of sum r d2f counts:
    the 4PL's equals its closed form to 1e-8 (relative to the diagonal),
    where central differences of S with steps of 1% are 1e-5 off; the
    5PL's equals those differences at their best (1e-5) and its own with
    10x the steps to 1e-7 (the differences of the derivatives converge); the
    plateaus' block is 2 sum (w df/dbottom)^2, exactly."""
    model = get_model(name)
    rng = np.random.default_rng(4)
    b = 25
    x = np.tile(np.repeat([0.0, 0.01, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0], 3), (b, 1))
    truth = {
        "bottom": rng.uniform(0, 10, (b, 1)),
        "top": rng.uniform(50, 100, (b, 1)),
        "log_ec50": rng.uniform(-1, 1, (b, 1)),
        "hill": rng.uniform(-3, 3, (b, 1)),
        "asymmetry": rng.uniform(0.5, 2, (b, 1)),
    }
    names = list(model.curve_params)
    y = model.function(x, **{n: truth[n] for n in names})
    y = y + rng.normal(0, 3, y.shape)
    w = rng.uniform(0.5, 2, y.shape)
    values = np.hstack([truth[n] for n in names]) * rng.uniform(0.95, 1.05, (b, 1))

    def residuals(trial: np.ndarray) -> np.ndarray:
        cols = {n: trial[:, k : k + 1] for k, n in enumerate(names)}
        return w * (model.function(x, **cols) - y)

    def rss(trial: np.ndarray) -> np.ndarray:
        return np.sum(residuals(trial) ** 2, axis=1)

    def jacobian(trial: np.ndarray) -> np.ndarray:
        d = model.partials(x, **{n: trial[:, k : k + 1] for k, n in enumerate(names)})
        return np.stack([w * d[n] for n in names], axis=-1)

    columns = [i for i, n in enumerate(names) if n in model.linear_params]
    assert columns == [0, 1]
    steps = 1e-5 * (np.abs(values) + 0.1)
    hess = hessian.derivative_hessian(
        jacobian, values, steps, residuals(values), columns
    )
    scale = np.sqrt(np.abs(np.einsum("bii->bi", hess)))
    scale = scale[:, :, None] * scale[:, None, :]
    if name == "hill":
        exact = _closed_form_4pl_hessian(x, y, w, values)
        np.testing.assert_allclose(hess / scale, exact / scale, rtol=0, atol=1e-8)
        coarse = hessian.numeric_hessian(rss, values, 1000 * steps)
        assert np.max(np.abs(coarse - exact) / scale) > 1e-6  # not a tautology
    else:
        # S's differences are at best 1e-5 off; the derivatives' converge
        plain = hessian.numeric_hessian(rss, values, 100 * steps)
        np.testing.assert_allclose(hess / scale, plain / scale, rtol=0, atol=5e-5)
        wider = hessian.derivative_hessian(
            jacobian, values, 10 * steps, residuals(values), columns
        )
        np.testing.assert_allclose(hess / scale, wider / scale, rtol=0, atol=1e-7)
    # the same with the Jacobian at the centre given
    again = hessian.derivative_hessian(
        jacobian, values, steps, residuals(values), columns, jacobian(values)
    )
    np.testing.assert_array_equal(again, hess)
    # bottom's own: 2 sum (w df/dbottom)^2, df/dbottom = f at bottom 1, top 0
    unit = {n: values[:, k : k + 1] for k, n in enumerate(names)}
    unit |= {"bottom": np.ones((b, 1)), "top": np.zeros((b, 1))}
    exact_bottom = 2 * np.sum((w * model.function(x, **unit)) ** 2, axis=1)
    np.testing.assert_allclose(hess[:, 0, 0], exact_bottom, rtol=1e-12)


def test_hill5_at_its_asymmetry_bound_is_finished_on_the_fast_path() -> None:
    """5PL curves whose asymmetry runs into its bound (1000): the transform's
    slope vanishes there and the fit stalls; stalled on the bound with the
    other parameters at their minimum is converged (at_bound), as lmfit
    says, with lmfit's values, not a refit one by one."""
    model = get_model("hill5")
    rng = np.random.default_rng(0)
    groups = {}
    for i in range(150):
        true = {
            "bottom": rng.uniform(0, 10),
            "top": rng.uniform(90, 110),
            "log_ec50": rng.uniform(-1, 1),
            "hill": rng.uniform(0.5, 2),
            "asymmetry": rng.uniform(0.5, 2),
        }
        clean = model.function(DOSES, **true)
        noise = 0.03 * np.abs(clean).mean() * rng.normal(size=DOSES.size)
        groups[(f"c{i}",)] = (DOSES, clean + noise, None)
    fast = fit_groups(model, groups, ["curve"]).table
    assert not fast["message"].str.contains("one by one").any()
    bound = fast["message"].str.contains("asymmetry is at its upper bound")
    assert bound.sum() >= 3
    hit = [key for key, b in zip(groups, bound, strict=True) if b]
    slow = fit_groups(model, {k: groups[k] for k in hit}, ["curve"], engine="lmfit")
    slow = slow.table.set_index("curve")
    fast = fast[bound].set_index("curve")
    assert (slow["status"] == "at_bound").all()
    assert (fast["rss"] <= slow["rss"] * (1 + 1e-9)).all()
    for p in ("bottom", "top", "log_ec50", "hill"):
        gap = np.abs(fast[p] - slow[p])
        assert (gap <= 1e-4 * np.maximum(np.abs(slow[p]), 1.0)).all(), p


def test_hill5_parked_on_its_asymmetry_bound_is_finished_on_the_fast_path() -> None:
    """5PL curves that reach the asymmetry bound (1000) and stay there while
    steps are still taken (50 iterations that move nothing: the second
    pass's "stalled") are converged there, at_bound, with lmfit's values,
    when the other parameters are at their minimum; not refitted one by one.
    Three SYNTHETIC curves, each the i-th of a seeded run (8 doses x 3,
    parameters uniform in the ranges below, 3% noise) in which they are."""
    model = get_model("hill5")
    x = np.repeat(10.0 ** np.linspace(-3, 3, 8), 3)
    ranges = {
        "bottom": (0, 10),
        "top": (90, 110),
        "log_ec50": (-1, 1),
        "hill": (0.5, 2),
        "asymmetry": (0.5, 2),
    }
    rng = np.random.default_rng(0)
    groups = {}
    for i in range(2151):
        true = {p: rng.uniform(*r) for p, r in ranges.items()}
        noise = rng.normal(size=x.size)
        if i in (1896, 2024, 2150):
            clean = model.function(x, **true)
            groups[(i,)] = (x, clean + 0.03 * np.abs(clean).mean() * noise, None)
    fast = fit_groups(model, groups, ["curve"]).table.set_index("curve")
    slow = fit_groups(model, groups, ["curve"], engine="lmfit").table.set_index("curve")
    assert not fast["message"].str.contains("one by one").any()
    assert (fast["status"] == "at_bound").all()
    assert (slow["status"] == "at_bound").all()
    np.testing.assert_allclose(fast["asymmetry"], 1000.0, rtol=1e-6)
    assert (fast["rss"] <= slow["rss"] * (1 + 1e-9)).all()
    for p in ("bottom", "top", "log_ec50", "hill"):
        gap = np.abs(fast[p] - slow[p])
        assert (gap <= 1e-4 * np.maximum(np.abs(slow[p]), 1.0)).all(), p


@pytest.mark.parametrize("engine", ["vectorized", "lmfit"])
def test_a_bound_far_from_the_solution_leaves_the_standard_errors(engine: str) -> None:
    """drc's Hessian is taken from the derivatives unless a parameter lies
    within a step (1e-3 standard errors) of a bound: a bound far from every
    curve's solution (the slope within [-100, 100]) changes no standard
    error beyond the solutions' own differences (1e-5), on either path.
    Differences of the sum of squares, which any bound used to force, were
    up to 2e-3 off on these curves, whose EC50s near the top dose leave
    the parameters strongly correlated."""
    model = get_model("hill")
    rng = np.random.default_rng(4)
    groups = {}
    for i in range(60 if engine == "vectorized" else 20):
        true = {"bottom": rng.uniform(0, 10), "top": rng.uniform(90, 110)}
        true |= {"log_ec50": rng.uniform(1.5, 2.5), "hill": rng.uniform(0.5, 2)}
        y = model.function(DOSES, **true) + rng.normal(0, 5, DOSES.size)
        groups[(f"c{i}",)] = (DOSES, y, None)
    free = fit_groups(model, groups, ["curve"], engine=engine).table
    bounded = fit_groups(
        model, groups, ["curve"], engine=engine, bounds={"hill": (-100.0, 100.0)}
    ).table
    ok = (free["status"] == "ok") & (bounded["status"] == "ok")
    assert ok.sum() >= 0.9 * len(groups)
    assert not bounded["message"].str.contains("one by one").any()
    for p in ("bottom", "top", "log_ec50", "hill", "ec50"):
        np.testing.assert_allclose(
            bounded[f"{p}_stderr"][ok], free[f"{p}_stderr"][ok], rtol=1e-5, err_msg=p
        )
