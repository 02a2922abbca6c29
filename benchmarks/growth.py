"""A 96-well plate of growth curves: wells per second, scurve against plain lmfit.

Run ``python benchmarks/growth.py`` (see benchmarks/README.md). The plate is
growthcurver's example (``tests/reference/growthdata.csv``: 96 wells, 145
readings each; background-corrected by each well's minimum, as growthcurver
does). It is fitted with the logistic model

* through the API, ``scurve.fit(plate, "logistic", x="time", wide=True,
  blank="min")``, which returns every well's parameters, derived quantities
  (doubling time, area under the curve ...) with intervals, statistics and
  status;
* through the command line, ``scurve fit plate.csv --wide --blank min -o
  out.csv`` as a fresh process (so including Python's start and the imports of
  numpy, pandas, scipy and lmfit, printed for scale);
* and, as the baseline in the same run, one plain ``lmfit.Model`` fit per
  well in a loop, started from growthcurver's own rule (k = max, n0 = min
  positive reading, r from a straight line through the logit), with no
  derived quantities.

Rounds alternate the API and the loop so that a slow moment of the machine
hits both; the best round of each is kept. Target: the whole plate in under
1 s through the API. This is a report: the exit status is 0 whatever the
figures; each target is marked PASS or MISS.

A second part (issue 24) times a synthetic, seeded 384-well plate of
Baranyi curves (lag, log-normal noise): easylinear on every well (target:
well under 1 s), and the Baranyi model fitted on the log scale on the
vectorized path, in fits per second, beside two baselines timed in the same
run: the logistic on the same plate and path, and a plain per-well loop of
one ``scurve.fit`` call per well (the lmfit path), on a sample of wells.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import lmfit
import numpy as np
import pandas as pd
from core import scurve_command, wall_times

import scurve

PLATE = Path(__file__).resolve().parents[1] / "tests" / "reference" / "growthdata.csv"
#: Seconds for the whole plate through the API.
PLATE_TARGET = 1.0
#: Seconds for easylinear on a 384-well plate.
EASYLINEAR_TARGET = 1.0
#: Wells fitted one by one in the per-well loop (a sample of the plate).
LOOP_WELLS = 48


def growthcurver_logistic(t: np.ndarray, k: float, n0: float, r: float) -> np.ndarray:
    """growthcurver's N(t) = k / (1 + ((k - n0)/n0) exp(-r t)), written as
    plainly as a user's own script would."""
    return k / (1 + ((k - n0) / n0) * np.exp(-r * t))


def lmfit_loop(plate: pd.DataFrame) -> list[lmfit.model.ModelResult]:
    """One plain lmfit fit per well, as a user's loop over the columns."""
    model = lmfit.Model(growthcurver_logistic, independent_vars=["t"])
    t = plate["time"].to_numpy()
    results = []
    for well in plate.columns.drop("time"):
        y = plate[well].to_numpy()
        y = y - y.min()
        k, n0 = y.max(), y[y > 0].min()
        inside = (y > 0) & (y < k)
        r = np.polyfit(t[inside], np.log(y[inside] / (k - y[inside])), 1)[0]
        params = model.make_params(k=k, n0=n0, r=max(r, 1e-3))
        params["k"].min, params["n0"].min, params["r"].min = 0.0, 0.0, 0.0
        results.append(model.fit(y, params, t=t))
    return results


def api(plate: pd.DataFrame) -> scurve.GroupFits:
    fits = scurve.fit(plate, "logistic", x="time", wide=True, blank="min")
    fits.table  # noqa: B018 - what a user reads first
    return fits


def best_times(plate: pd.DataFrame, rounds: int) -> dict[str, float]:
    cases = {"api": lambda: api(plate), "lmfit loop": lambda: lmfit_loop(plate)}
    for case in cases.values():
        case()  # warm-up: lazy imports, caches
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(rounds):
        for name in list(cases)[:: 1 if i % 2 == 0 else -1]:
            start = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - start)
    return {name: min(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="timed rounds of each")
    parser.add_argument("--cli-runs", type=int, default=5)
    args = parser.parse_args()

    plate = pd.read_csv(PLATE)
    wells = plate.shape[1] - 1
    fits, loop = api(plate), lmfit_loop(plate)
    k_ours = fits.table["K"].to_numpy()
    k_loop = np.array([r.params["k"].value for r in loop])
    agree = float(np.max(np.abs(k_ours - k_loop) / k_loop))
    best = best_times(plate, args.rounds)
    baseline = best["lmfit loop"]

    print(
        f"growth plate: {wells} wells x {plate.shape[0]} readings "
        f"(growthcurver's growthdata), best of {args.rounds} alternating rounds, "
        f"{os.cpu_count()} CPUs, lmfit {lmfit.__version__}"
    )
    print(
        f"baseline, a plain lmfit.Model loop over the wells: {baseline:.3f} s, "
        f"{wells / baseline:.0f} wells/s (K agrees with scurve's to {agree:.1e})\n"
    )
    print(f"{'what':<34}{'s':>8}{'wells/s':>10}{'ratio':>8}  target")
    seconds = best["api"]
    verdict = "PASS" if seconds < PLATE_TARGET else "MISS"
    print(
        f"{'scurve.fit(wide=True) + table':<34}{seconds:8.3f}{wells / seconds:10.0f}"
        f"{baseline / seconds:7.2f}x  plate < {PLATE_TARGET:g} s  {verdict}"
    )

    command = scurve_command()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.csv"
        fit = [*command, "fit", str(PLATE), "--model", "logistic", "--x", "time"]
        fit += ["--wide", "--blank", "min", "-o", str(out), "--force"]
        imports = [sys.executable, "-c", "import lmfit, pandas, scipy.optimize"]
        runs = wall_times({"fit": fit, "imports": imports}, args.cli_runs)
    cli = statistics.median(runs["fit"])
    start_up = statistics.median(runs["imports"])
    print(
        f"{'scurve fit --wide (fresh process)':<34}{cli:8.3f}{wells / cli:10.0f}"
        f"{baseline / cli:7.2f}x  (for information; median of {args.cli_runs})"
    )
    print(
        f"  for scale: `import lmfit, pandas, scipy.optimize` alone takes "
        f"{start_up:.3f} s of it"
    )


def baranyi_plate(wells: int = 384, seed: int = 24) -> pd.DataFrame:
    """A seeded plate of Baranyi curves, readings every 20 minutes for 24 h,
    each well its own rate, lag and ceiling, noise of 3 % on ln y."""
    rng = np.random.default_rng(seed)
    hours = np.arange(73) / 3.0
    model = scurve.MODELS["baranyi"]()
    columns = {"time": hours}
    for i in range(wells):
        row, col = divmod(i, 24)
        truth = {
            "y0": rng.uniform(0.005, 0.02),
            "mumax": rng.uniform(0.3, 0.8),
            "K": rng.uniform(0.5, 1.5),
            "h0": rng.uniform(0.5, 4.0),
        }
        y = model.function(hours, **truth)
        columns[f"{'ABCDEFGHIJKLMNOP'[row]}{col + 1}"] = y * np.exp(
            0.03 * rng.normal(size=hours.size)
        )
    return pd.DataFrame(columns)


def per_well_loop(plate: pd.DataFrame, wells: int) -> None:
    """One scurve.fit per well, as a user's loop over the columns."""
    t = plate["time"].to_numpy()
    for well in plate.columns[1 : wells + 1]:
        scurve.fit(x=t, y=plate[well].to_numpy(), model="baranyi", log_y=True)


def growth_rates(rounds: int) -> None:
    """easylinear and Baranyi on a 384-well plate, with baselines."""
    plate = baranyi_plate()
    wells = plate.shape[1] - 1
    cases = {
        "easylinear": lambda: scurve.fit(plate, "easylinear", x="time", wide=True),
        "baranyi": lambda: scurve.fit(
            plate, "baranyi", x="time", wide=True, log_y=True, engine="vectorized",
            workers=1,
        ),
        "logistic": lambda: scurve.fit(
            plate, "logistic", x="time", wide=True, log_y=True, engine="vectorized",
            workers=1,
        ),
        "loop": lambda: per_well_loop(plate, LOOP_WELLS),
    }  # fmt: skip
    for case in cases.values():
        case()  # warm-up
    times: dict[str, list[float]] = {name: [] for name in cases}
    for i in range(rounds):
        for name in list(cases)[:: 1 if i % 2 == 0 else -1]:
            start = time.perf_counter()
            cases[name]()
            times[name].append(time.perf_counter() - start)
    best = {name: min(t) for name, t in times.items()}
    statuses = cases["baranyi"]().table["status"].value_counts().to_dict()
    print(
        f"\n384-well plate of seeded Baranyi curves ({plate.shape[0]} readings "
        f"each), best of {rounds} alternating rounds, one process"
    )
    seconds = best["easylinear"]
    verdict = "PASS" if seconds < EASYLINEAR_TARGET else "MISS"
    print(
        f"easylinear, every well: {seconds:.3f} s ({wells / seconds:.0f} wells/s)"
        f"  target < {EASYLINEAR_TARGET:g} s  {verdict}"
    )
    rate = {
        "baranyi": wells / best["baranyi"],
        "logistic": wells / best["logistic"],
        "loop": LOOP_WELLS / best["loop"],
    }
    print(f"{'what':<46}{'fits/s':>9}{'ratio':>9}")
    print(f"{'baranyi, vectorized, log y':<46}{rate['baranyi']:9.0f}{1:8.2f}x")
    print(
        f"{'baseline: logistic, same plate and path':<46}{rate['logistic']:9.0f}"
        f"{rate['baranyi'] / rate['logistic']:8.2f}x"
    )
    print(
        f"{'baseline: baranyi, one scurve.fit per well':<46}{rate['loop']:9.0f}"
        f"{rate['baranyi'] / rate['loop']:8.2f}x  ({LOOP_WELLS} wells)"
    )
    print(f"  baranyi statuses: {statuses}")


if __name__ == "__main__":
    main()
    growth_rates(rounds=3)
