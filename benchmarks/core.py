"""Throughput of scurve's stable primitives, as ratios to scipy.special.expit.

Run ``python benchmarks/core.py`` (see benchmarks/README.md). Every function is
timed on the same 10^7 float64 values (uniform on [-30, 30], seeded), in
repeats that interleave all functions with the scipy baseline, so that a slow
moment of the machine hits every function alike; the best repeat of each is
kept. Also times ``scurve --help`` as a fresh process.

This is a report: the exit status is 0 whatever the figures; each target is
marked PASS or MISS.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.special

import scurve

#: Time per call at most this many times scipy.special.expit's (None: no target).
TARGETS: dict[str, float | None] = {
    "expit": 1.25,
    "log_expit": 3.0,
    "softplus": 3.0,
    "logcosh": 3.0,
    "log1m_expit": None,
    "expit_prime": None,
    "logit": None,
    "softplus_inv": None,
}
HELP_TARGET_S = 0.150
HEAVY = ("scipy", "pandas", "lmfit", "matplotlib")


def best_times(
    cases: dict[str, tuple[Callable[[np.ndarray], object], np.ndarray]],
    repeats: int,
) -> dict[str, float]:
    """Best wall time of each case over `repeats` interleaved rounds.

    The order of the cases rotates from round to round so that none is
    always first (cold) or last.
    """
    for function, argument in cases.values():
        function(argument)  # warm-up: lazy imports, page faults
    names = list(cases)
    best = dict.fromkeys(names, float("inf"))
    for round_ in range(repeats):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            function, argument = cases[name]
            start = time.perf_counter()
            function(argument)
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def scurve_command() -> list[str]:
    """The installed ``scurve`` script of this interpreter, else ``-m scurve``."""
    script = Path(sys.executable).with_name("scurve")
    if script.exists():
        return [str(script)]
    found = shutil.which("scurve")
    return [found] if found else [sys.executable, "-m", "scurve"]


def wall_times(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Wall times of `runs` fresh processes of each command, interleaved."""
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, command in commands.items():
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            times[name].append(time.perf_counter() - start)
    return times


def heavy_imports_for_help() -> list[str]:
    """Heavy packages loaded by importing scurve.cli and building its help."""
    probe = (
        "import sys, click, scurve.cli as c\n"
        "ctx = click.Context(c.main, info_name='scurve')\n"
        "c.main.get_help(ctx)\n"
        f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    )
    return out.stdout.split()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10**7, help="values per call")
    parser.add_argument("--repeats", type=int, default=7, help="rounds (>= 7)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--help-runs", type=int, default=10)
    args = parser.parse_args()

    x = np.random.default_rng(args.seed).uniform(-30.0, 30.0, args.size)
    # logit and softplus_inv get the same draws mapped into their domains.
    p = scurve.expit(x)
    y = scurve.softplus(x)
    cases: dict[str, tuple[Callable[[np.ndarray], object], np.ndarray]] = {
        "scipy expit": (scipy.special.expit, x),
    }
    for name in TARGETS:
        argument = {"logit": p, "softplus_inv": y}.get(name, x)
        cases[name] = (getattr(scurve, name), argument)
    best = best_times(cases, args.repeats)
    baseline = best.pop("scipy expit")

    print(
        f"scurve core: {args.size:,} float64 values uniform on [-30, 30] "
        f"(seed {args.seed}), best of {args.repeats} interleaved rounds, "
        f"{os.cpu_count()} CPUs, numpy {np.__version__}, scipy {scipy.__version__}"
    )
    print(
        f"baseline scipy.special.expit: {baseline * 1e3:.1f} ms "
        f"({args.size / baseline / 1e6:.0f} M values/s)\n"
    )
    print(f"{'function':<14}{'ms':>8}{'M/s':>8}{'ratio':>8}  target")
    for name, seconds in best.items():
        ratio = seconds / baseline
        target = TARGETS[name]
        if target is None:
            verdict = "(for information)"
        else:
            verdict = f"<= {target:g}x  {'PASS' if ratio <= target else 'MISS'}"
        print(
            f"{name:<14}{seconds * 1e3:8.1f}{args.size / seconds / 1e6:8.0f}"
            f"{ratio:7.2f}x  {verdict}"
        )

    command = [*scurve_command(), "--help"]
    times = wall_times(
        {
            "help": command,
            "python startup": [sys.executable, "-c", "pass"],
            "import numpy": [sys.executable, "-c", "import numpy"],
        },
        args.help_runs,
    )
    median = statistics.median(times.pop("help"))
    verdict = "PASS" if median <= HELP_TARGET_S else "MISS"
    print(
        f"\n`{' '.join(command)}`: median {median * 1e3:.0f} ms of "
        f"{args.help_runs} runs; target <= {HELP_TARGET_S * 1e3:.0f} ms  {verdict}"
    )
    for what, seconds in times.items():
        print(f"  for scale, {what}: median {statistics.median(seconds) * 1e3:.0f} ms")
    heavy = heavy_imports_for_help()
    print(
        "heavy modules imported for --help: "
        + (" ".join(heavy) + "  MISS" if heavy else "none  PASS")
    )


if __name__ == "__main__":
    main()
