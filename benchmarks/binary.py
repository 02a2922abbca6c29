"""Binary outcomes at scale: the binomial ``sigmoid`` (logistic regression)
against statsmodels, and grouped quantal curves.

Run ``python benchmarks/binary.py`` (see benchmarks/README.md). Two
workloads, as issue 23 sets them, each timed in the same run:

* One logistic regression on ``--rows`` (default 1,000,000) seeded 0/1 rows
  (x ~ N(0, 1), true intercept -0.5 and slope 1.5) through
  ``scurve.fit(table, "sigmoid", trials=1)``, against statsmodels'
  ``Logit`` on the same rows (skipped, and said so, without statsmodels);
  the two must agree on the coefficients. Target: no slower than
  statsmodels.
* ``--curves`` (default 100,000) grouped quantal curves of 8 doses each (20
  trials a dose, seeded centers and scales) through ``scurve.fit(...,
  by="curve", trials="n")``. When that would take too long to time whole,
  ``--sample`` curves are timed and the rate reported as such. Target:
  >= 20,000 curves/s.

This is a report: the exit status is 0 whatever the figures; each target is
marked PASS or MISS.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

import scurve
from scurve.analysis import binary

#: Grouped quantal curves a second (issue 23).
CURVES_PER_S_TARGET = 20_000
#: scurve's single large fit at most this many times statsmodels' Logit.
LOGIT_RATIO_TARGET = 1.0


def bernoulli_rows(rows: int, seed: int = 23) -> pd.DataFrame:
    """Seeded 0/1 outcomes on x ~ N(0, 1), logit = -0.5 + 1.5 x."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    y = (rng.random(rows) < 1 / (1 + np.exp(0.5 - 1.5 * x))).astype(np.float64)
    return pd.DataFrame({"x": x, "y": y})


def quantal_curves(curves: int, seed: int = 23) -> pd.DataFrame:
    """`curves` quantal curves, 8 doses on [-2, 2], 20 trials a dose."""
    rng = np.random.default_rng(seed)
    center = np.repeat(rng.normal(0.0, 0.5, curves), 8)
    scale = np.repeat(rng.uniform(0.3, 0.8, curves), 8)
    x = np.tile(np.linspace(-2.0, 2.0, 8), curves)
    p = 1 / (1 + np.exp(-(x - center) / scale))
    return pd.DataFrame(
        {
            "curve": np.repeat(np.arange(curves), 8),
            "x": x,
            "k": rng.binomial(20, p),
            "n": 20,
        }
    )


def timed(run):
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def large_fit(rows: int) -> None:
    table = bernoulli_rows(rows)
    print(f"1. logistic regression on {rows:,} 0/1 rows")
    fitted, ours = timed(lambda: scurve.fit(table, "sigmoid", x="x", y="y", trials=1))
    coef = binary.coefficients(fitted)
    b0, b1 = coef.loc["intercept", "value"], coef.loc["slope", "value"]
    print(f"   scurve.fit          {ours:8.2f} s  intercept {b0:.6f} slope {b1:.6f}")
    try:
        import statsmodels.api as sm
    except ImportError:
        print("   statsmodels is not installed: no baseline, no verdict")
        return
    design = sm.add_constant(table["x"].to_numpy())
    logit, theirs = timed(lambda: sm.Logit(table["y"].to_numpy(), design).fit(disp=0))
    s0, s1 = logit.params
    print(f"   statsmodels Logit   {theirs:8.2f} s  intercept {s0:.6f} slope {s1:.6f}")
    agree = abs(b0 - s0) < 1e-4 * (1 + abs(s0)) and abs(b1 - s1) < 1e-4 * (1 + abs(s1))
    print(f"   coefficients agree to 1e-4: {agree}")
    ratio = ours / theirs
    print(
        f"   scurve / statsmodels = {ratio:.1f}x (target <= "
        f"{LOGIT_RATIO_TARGET:g}x): {verdict(ratio <= LOGIT_RATIO_TARGET)}"
    )


def grouped(curves: int, sample: int) -> None:
    timed_curves = min(curves, sample)
    table = quantal_curves(timed_curves)
    print(f"2. grouped quantal curves, 8 doses each ({curves:,} asked)")
    fits, seconds = timed(
        lambda: scurve.fit(table, "sigmoid", x="x", y="k", trials="n", by="curve")
    )
    status = pd.Series([f.status for f in fits.values()]).value_counts().to_dict()
    rate = timed_curves / seconds
    note = "" if timed_curves == curves else f" (timed on {timed_curves:,} curves)"
    print(f"   {timed_curves:,} curves in {seconds:.2f} s: {rate:,.0f} curves/s{note}")
    print(f"   status: {status}")
    if timed_curves < curves:
        print(f"   all {curves:,} at this rate: about {curves / rate / 60:.0f} min")
    print(
        f"   target >= {CURVES_PER_S_TARGET:,} curves/s: "
        f"{verdict(rate >= CURVES_PER_S_TARGET)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--curves", type=int, default=100_000)
    parser.add_argument(
        "--sample", type=int, default=200,
        help="time at most this many of the curves (default 200)",
    )  # fmt: skip
    args = parser.parse_args()
    large_fit(args.rows)
    grouped(args.curves, args.sample)


if __name__ == "__main__":
    main()
