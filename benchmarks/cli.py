"""The ``scurve`` command line end to end, as fresh processes, against plain lmfit.

Run ``python benchmarks/cli.py`` (see benchmarks/README.md). Issue 18's
figures, each for what a user waits for (process start, imports, reading,
fitting, writing), printed as ratios to a plain lmfit loop timed in the same
run:

* ``scurve fit screen.csv --model hill --x dose --y response --by curve -o
  fits.csv`` (and ``-o fits.json``) on a SYNTHETIC screen, as one fresh
  process, in curves per second (best of ``--repeats`` runs; the output is
  removed before each). The screen: ``--curves`` 4PL curves (100,000: 2.4 M
  rows), each at 8 doses log-spaced from 0.01 to 100, 3 replicates, rows of a
  curve together; column ``curve`` ("c000001", ...), ``dose``, ``response``,
  with, per curve, bottom ~ N(0, 0.05²), top ~ N(1, 0.05²), log10 EC50 ~
  U(-1.5, 1.5) (inside the doses), hill slope ~ U(0.8, 3) with a random sign
  (rising or falling) and noise N(0, 0.05²) on every point; numpy's
  ``default_rng(--seed)``. It is written as CSV (pandas) to ``--workdir``
  (default a temporary directory); that is not timed. The CSV run must also be
  right: fits.csv must have one row per curve, and the median absolute error
  of its ``log_ec50`` against the truth must be under
  :data:`LOG_EC50_TOLERANCE` decades, or the figure is a MISS however fast.
* ``scurve.fit(table, "hill", x="dose", y="response", by="curve")`` on the
  same table already in memory (read back with pandas), in this process
  (after a small warm-up fit): the API's own rate, and the ratio CLI / API.
* The baseline: an ``lmfit.Model`` of the 4PL (defined here, as drc's LL.4
  in the model's sign convention) fitted curve by curve on the first
  ``--loop-curves`` curves, each started from a simple self-start (plateaus
  from the smallest and largest dose means, the slope's sign from the trend,
  log EC50 where the means cross their midpoint).
* ``scurve fit data/ryegrass.csv --model hill --x conc --y rootl`` (24 rows)
  as a fresh process: the median wall time of ``--single-runs`` runs,
  interleaved with runs of ``python -c "import numpy, scipy, pandas, lmfit"``
  and of the bare interpreter, printed for scale; PASS if within 5% of
  ``--single-reference`` seconds (default :data:`SINGLE_REFERENCE_S`, measured
  on 2026-12-07 before the engine's rebuild) or below.
* ``scurve shape IN.wav OUT.wav --curve tanh --drive-db 12`` on 1 s of seeded
  48 kHz stereo float noise (written with soundfile): the median wall time
  (interleaved with the runs above), and which of lmfit, scipy.stats,
  scipy.optimize, pandas and matplotlib the command's process imported
  (through ``from scurve.cli import main``, the console script's entry point,
  in a wrapper that lists ``sys.modules`` afterwards): the target is none.

This is a report: the exit status is 0 whatever the figures; each target is
marked PASS or MISS. ``--curves 2000 --loop-curves 50 --single-runs 3`` is a
quick look (under a minute even with today's CLI at about 200 curves/s).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import lmfit
import numpy as np
import pandas as pd
from core import scurve_command

#: Issue 18's targets, curves per second of the whole command.
CSV_TARGET = 20_000
JSON_TARGET = 10_000
#: The 24-row fit as a fresh process: median at most this much above the
#: reference (5%).
SINGLE_SLACK = 1.05
#: Median wall time of the 24-row fit (seconds) measured on 2026-12-07 on the
#: development machine (2 shared cores), before the engine's rebuild: 2.14 to
#: 2.37 s over four runs of this script (1.86 to 2.07 s for the imports alone).
SINGLE_REFERENCE_S = 2.20
#: The CLI's fits must get log10 EC50 right to this median error (decades; the
#: doses are 0.57 decades apart).
LOG_EC50_TOLERANCE = 0.1
#: Modules ``scurve shape`` must not import.
HEAVY = ("lmfit", "scipy.stats", "scipy.optimize", "pandas", "matplotlib")
DOSES = 10.0 ** np.linspace(-2.0, 2.0, 8)
REPLICATES = 3
RYEGRASS = Path(__file__).resolve().parents[1] / "data" / "ryegrass.csv"


def screen(curves: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The synthetic screen (long table) and its true parameters, per curve."""
    rng = np.random.default_rng(seed)
    truth = pd.DataFrame(
        {
            "curve": [f"c{i:06d}" for i in range(1, curves + 1)],
            "bottom": rng.normal(0.0, 0.05, curves),
            "top": rng.normal(1.0, 0.05, curves),
            "log_ec50": rng.uniform(-1.5, 1.5, curves),
            "hill": rng.uniform(0.8, 3.0, curves) * rng.choice([-1.0, 1.0], curves),
        }
    )
    points = DOSES.size * REPLICATES
    dose = np.tile(np.repeat(DOSES, REPLICATES), curves)
    each = {k: np.repeat(truth[k].to_numpy(), points) for k in truth.columns}
    response = four_pl(dose, each["bottom"], each["top"], each["log_ec50"],
                       each["hill"]) + rng.normal(0.0, 0.05, dose.size)  # fmt: skip
    table = pd.DataFrame({"curve": each["curve"], "dose": dose, "response": response})
    return table, truth


def four_pl(
    x: np.ndarray, bottom: float, top: float, log_ec50: float, hill: float
) -> np.ndarray:
    """drc's LL.4 as scurve's ``hill``: rising for hill > 0."""
    z = hill * math.log(10.0) * (np.log10(x) - log_ec50)
    return bottom + (top - bottom) / (1.0 + np.exp(-z))


def self_start(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Plateaus from the extreme dose means, slope sign from the trend, log EC50
    where the means cross their midpoint."""
    doses, where = np.unique(x, return_inverse=True)
    means = np.bincount(where, y) / np.bincount(where)
    low, high = means.min(), means.max()
    rising = means[-1] >= means[0]
    crossed = (means >= (low + high) / 2) == rising
    middle = np.log10(doses[np.argmax(crossed)])
    return {"bottom": low, "top": high, "log_ec50": middle,
            "hill": 1.0 if rising else -1.0}  # fmt: skip


def lmfit_loop(table: pd.DataFrame, truth: pd.DataFrame) -> tuple[float, float]:
    """Curves per second of a plain lmfit loop, and its median |log EC50 error|."""
    model = lmfit.Model(four_pl, independent_vars=["x"])
    groups = [
        (part["dose"].to_numpy(), part["response"].to_numpy())
        for _, part in table.groupby("curve", sort=False)
    ]
    start = time.perf_counter()
    found = []
    for x, y in groups:
        result = model.fit(y, model.make_params(**self_start(x, y)), x=x)
        found.append(result.params["log_ec50"].value)
    seconds = time.perf_counter() - start
    error = np.median(np.abs(np.array(found) - truth["log_ec50"].to_numpy()))
    return len(groups) / seconds, float(error)


def write_audio(path: Path, seed: int) -> None:
    """1 s of 48 kHz stereo float noise at -12 dBFS RMS."""
    import soundfile

    noise = np.random.default_rng(seed).normal(0.0, 0.25, (48_000, 2))
    soundfile.write(path, noise.astype(np.float32), 48_000, subtype="FLOAT")


def run_cli(command: list[str], output: Path) -> tuple[float, str]:
    """Wall time of one fresh process writing `output` (removed first), and
    what went wrong ("" if nothing)."""
    output.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode in (0, 1) and output.exists():  # 1: some fits failed
        return seconds, ""
    last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
    return seconds, f"exit {done.returncode}: {last}"


def check_fits(path: Path, truth: pd.DataFrame) -> tuple[float, str, str]:
    """Median |log EC50 error| of the CLI's results, the statuses, and what is
    wrong with them ("" if nothing)."""
    if path.suffix == ".json":
        groups = json.loads(path.read_text())["groups"]
        frame = pd.DataFrame(
            {
                "curve": [str(g["group"].get("curve")) for g in groups],
                "log_ec50": [
                    (g.get("params") or {}).get("log_ec50", {}).get("value")
                    for g in groups
                ],
                "status": [g["status"] for g in groups],
            }
        )
    else:
        frame = pd.read_csv(path, dtype={"curve": str})
    statuses = ", ".join(f"{k} {v}" for k, v in frame["status"].value_counts().items())
    if len(frame) != len(truth):
        return math.nan, statuses, f"{len(frame)} rows for {len(truth)} curves"
    found = frame.set_index("curve")["log_ec50"].astype(float)
    errors = (found.reindex(truth["curve"]).to_numpy() - truth["log_ec50"]).abs()
    error = float(np.nanmedian(errors)) if errors.notna().any() else math.nan
    if not error <= LOG_EC50_TOLERANCE:
        return error, statuses, f"median |log_ec50 error| {error:.3g} decades"
    return error, statuses, ""


def import_probe(argv: list[str]) -> tuple[dict[str, str], str]:
    """Heavy modules imported by running ``scurve`` with `argv` in a fresh
    process, through the console script's entry point, each with the scurve
    module that first pulled it in (from ``-X importtime``); and what went
    wrong ("" if nothing)."""
    probe = (
        "import sys\n"
        "from scurve.cli import main\n"
        f"sys.argv = ['scurve', *{argv!r}]\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    code = exc.code or 0\n"
        "else:\n"
        "    code = 0\n"
        f"print('\\nHEAVY', code, *(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", probe],
        capture_output=True,
        text=True,
        check=False,
    )
    last = (done.stdout.strip().splitlines() or [""])[-1].split()
    tree = [line for line in done.stderr.splitlines() if line.startswith("import ")]
    messages = [line for line in done.stderr.splitlines() if line not in tree]
    heavy = {name: importer(tree, name) for name in last[2:]}
    if last[:1] != ["HEAVY"] or last[1:2] != ["0"]:
        why = (messages or ["(no message)"])[-1]
        return heavy, f"the command failed: {why}"
    return heavy, ""


def importer(tree: list[str], name: str) -> str:
    """The nearest scurve module above `name` in ``-X importtime``'s tree
    (children are listed before their parent, indented two spaces deeper),
    with its cumulative import time."""
    rows = []
    for line in tree:
        *_, cumulative, module = line.split("|")
        depth = (len(module) - len(module.lstrip())) // 2
        rows.append((depth, module.strip(), cumulative.strip()))
    found = [i for i, row in enumerate(rows) if row[1] == name]
    if not found:
        return "?"
    depth = rows[found[0]][0]
    for level, module, cumulative in rows[found[0] + 1 :]:
        if level < depth:
            depth = level
            if module.split(".")[0] == "scurve":
                return f"{module}, {int(cumulative) / 1e3:,.0f} ms"
    return "not through scurve"


def interleaved(commands: dict[str, list[str]], runs: int) -> dict[str, list[float]]:
    """Wall times of `runs` fresh processes of each command, interleaved; a
    command that fails is dropped (its list holds the exit status and the
    last line of its stderr instead)."""
    times: dict[str, list] = {name: [] for name in commands}
    failed: set[str] = set()
    for _ in range(runs):
        for name, argv in commands.items():
            if name in failed:
                continue
            start = time.perf_counter()
            done = subprocess.run(argv, capture_output=True, text=True, check=False)
            if done.returncode != 0:
                last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
                times[name] = [f"exit {done.returncode}: {last}"]
                failed.add(name)
                continue
            times[name].append(time.perf_counter() - start)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--curves", type=int, default=100_000, help="in the screen")
    parser.add_argument("--repeats", type=int, default=1, help="best of, large runs")
    parser.add_argument("--loop-curves", type=int, default=500, help="lmfit loop")
    parser.add_argument("--single-runs", type=int, default=10, help="small runs")
    parser.add_argument(
        "--single-reference",
        type=float,
        default=SINGLE_REFERENCE_S,
        metavar="SECONDS",
        help="the 24-row fit's reference median (default: 2026-12-07's)",
    )
    parser.add_argument("--skip-json", action="store_true")
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-audio", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if args.workdir is None:
        with tempfile.TemporaryDirectory(prefix="scurve-bench-") as work:
            report(args, Path(work))
    else:
        args.workdir.mkdir(parents=True, exist_ok=True)
        report(args, args.workdir)


def report(args: argparse.Namespace, work: Path) -> None:
    """Every figure, then the summary table."""
    command = scurve_command()
    table, truth = screen(args.curves, args.seed)
    data = work / "screen.csv"
    table.to_csv(data, index=False)
    rows = f"{len(table):,}"
    print(
        f"scurve command line: {os.cpu_count()} CPUs, numpy {np.__version__}, "
        f"pandas {pd.__version__}, lmfit {lmfit.__version__}\nsynthetic screen: "
        f"{args.curves:,} 4PL curves x 8 doses x 3 replicates = {rows} rows "
        f"(seed {args.seed}), {data.stat().st_size / 1e6:.0f} MB of CSV; "
        f"large runs best of {args.repeats}\n"
    )
    summary: list[tuple[str, str, str, str]] = []

    loop_n = min(args.loop_curves, args.curves)
    loop_rows = loop_n * DOSES.size * REPLICATES
    loop_rate, loop_error = lmfit_loop(table.iloc[:loop_rows], truth.iloc[:loop_n])
    print(
        f"baseline, plain lmfit loop on {loop_n} curves: {loop_rate:,.0f} curves/s "
        f"(median |log_ec50 error| {loop_error:.3f})"
    )
    summary.append(("lmfit loop (baseline)", f"{loop_rate:,.0f}/s", "", ""))

    fit = [*command, "fit", str(data), "--model", "hill", "--x", "dose"]
    fit += ["--y", "response", "--by", "curve", "-o"]
    rates: dict[str, float] = {}
    cases = [("csv", CSV_TARGET)] + ([] if args.skip_json else [("json", JSON_TARGET)])
    for kind, target in cases:
        output = work / f"fits.{kind}"
        best, why = math.inf, ""
        for _ in range(args.repeats):
            seconds, why = run_cli([*fit, str(output)], output)
            if why:
                break
            best = min(best, seconds)
        figure = f"CLI -o fits.{kind}"
        if why:
            print(f"{figure}: {why}")
            summary.append((figure, "failed", f">= {target:,}/s", f"MISS ({why})"))
            continue
        error, statuses, wrong = check_fits(output, truth)
        rate = rates[kind] = args.curves / best
        print(
            f"{figure}: {rate:,.0f} curves/s = {rate / loop_rate:,.1f}x the lmfit "
            f"loop ({best:.2f} s; median |log_ec50 error| {error:.3f}; {statuses})"
        )
        verdict = "PASS" if rate >= target else "MISS"
        if wrong:
            verdict = f"MISS (wrong: {wrong})"
        summary.append((figure, f"{rate:,.0f}/s", f">= {target:,}/s", verdict))
        output.unlink(missing_ok=True)

    if not args.skip_api:
        summary += api_report(args, data, truth, loop_rate, rates)
    summary += small_runs(args, command, work)

    print(f"\n{'figure':<34}{'value':>14}  {'target':<16}verdict")
    for figure, value, target, verdict in summary:
        print(f"{figure:<34}{value:>14}  {target:<16}{verdict}")


def api_report(
    args: argparse.Namespace,
    data: Path,
    truth: pd.DataFrame,
    loop_rate: float,
    rates: dict[str, float],
) -> list[tuple[str, str, str, str]]:
    """``scurve.fit`` on the table in memory, in this process."""
    import scurve

    frame = pd.read_csv(data, dtype={"curve": str})
    scurve.fit(frame.iloc[:240], "hill", x="dose", y="response", by="curve")
    best = math.inf
    for _ in range(args.repeats):
        start = time.perf_counter()
        result = scurve.fit(frame, "hill", x="dose", y="response", by="curve")
        best = min(best, time.perf_counter() - start)
    found = result.table.set_index("curve")["log_ec50"].reindex(truth["curve"])
    error = float(np.nanmedian(np.abs(found.to_numpy() - truth["log_ec50"])))
    rate = args.curves / best
    print(
        f"API scurve.fit(table, 'hill', by='curve'): {rate:,.0f} curves/s = "
        f"{rate / loop_rate:,.1f}x the lmfit loop ({best:.2f} s; median "
        f"|log_ec50 error| {error:.3f})"
    )
    rows = [("API scurve.fit, in memory", f"{rate:,.0f}/s", "", "")]
    for kind, cli_rate in rates.items():
        print(f"  CLI -o fits.{kind} / API: {cli_rate / rate:.2f}")
        rows.append((f"CLI -o fits.{kind} / API", f"{cli_rate / rate:.2f}", "", ""))
    return rows


def small_runs(
    args: argparse.Namespace, command: list[str], work: Path
) -> list[tuple[str, str, str, str]]:
    """The 24-row fit and ``scurve shape`` as fresh processes, interleaved with
    the interpreter and the heavy imports for scale."""
    single = [*command, "fit", str(RYEGRASS), "--model", "hill", "--x", "conc"]
    commands = {
        "fit ryegrass (24 rows)": [*single, "--y", "rootl"],
        "import numpy, scipy, pandas, lmfit": [
            sys.executable, "-c", "import numpy, scipy, pandas, lmfit",
        ],
        "python -c pass": [sys.executable, "-c", "pass"],
    }  # fmt: skip
    shape_args: list[str] = []
    if not args.skip_audio:
        source, target = work / "in.wav", work / "out.wav"
        write_audio(source, args.seed)
        shape_args = ["shape", str(source), str(target), "--curve", "tanh"]
        shape_args += ["--drive-db", "12", "--force"]
        commands["shape 1 s 48 kHz stereo"] = [*command, *shape_args]
    rows = []
    medians = {}
    for name, times in interleaved(commands, args.single_runs).items():
        if times and isinstance(times[0], str):
            print(f"{name}: {times[0]}")
            rows.append((name, "failed", "", f"MISS ({times[0]})"))
        else:
            medians[name] = statistics.median(times)
    print(f"\nfresh processes, median of {args.single_runs} interleaved runs:")
    for name, seconds in medians.items():
        print(f"  {name:<36}{seconds * 1e3:>8.0f} ms")
    imports = medians.get("import numpy, scipy, pandas, lmfit")
    for name in ("fit ryegrass (24 rows)", "shape 1 s 48 kHz stereo"):
        if imports and name in medians:
            print(f"  {name} / the imports: {medians[name] / imports:.2f}")
    reference = args.single_reference
    if (single_s := medians.get("fit ryegrass (24 rows)")) is not None:
        ok = single_s <= reference * SINGLE_SLACK
        rows.append(
            (
                "fit ryegrass (24 rows), wall",
                f"{single_s * 1e3:,.0f} ms",
                f"<= {reference * SINGLE_SLACK * 1e3:,.0f} ms",
                "PASS" if ok else "MISS",
            )
        )
    if shape_args:
        if (shape_s := medians.get("shape 1 s 48 kHz stereo")) is not None:
            rows.append(("shape 1 s 48 kHz stereo, wall", f"{shape_s * 1e3:,.0f} ms",
                         "", ""))  # fmt: skip
        heavy, why = import_probe(shape_args)
        loaded = " ".join(heavy) or "none"
        print(f"  heavy modules imported by `scurve shape`: {loaded} {why}".rstrip())
        for module, through in heavy.items():
            print(f"    {module:<16}first imported under {through}")
        verdict = f"MISS ({', '.join(heavy)})" if heavy else "PASS"
        verdict = f"MISS ({why})" if why else verdict
        count = f"{len(heavy)} of {len(HEAVY)}"
        rows.append(("shape: heavy modules imported", count, "none", verdict))
    return rows


if __name__ == "__main__":
    main()
