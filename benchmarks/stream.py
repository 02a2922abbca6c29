"""Streaming a large Parquet screen: peak memory and curves per second.

For each N it writes a SYNTHETIC screen of N 4PL curves (scurve.scale.screen:
8 doses x 3 replicates, keys drug and cell; bottom ~ U(0, 10), top ~ U(80,
100), log_ec50 ~ U(-2, 0), hill ~ U(0.5, 2.5), noise N(0, 3^2), seed 0) to a
temporary directory, 100,000 curves at a time (never all in memory), then
fits it with ``scale.fit_parquet`` (model hill) in a CHILD process and prints
the child's peak resident memory (VmHWM, and the largest of its own worker
processes, ru_maxrss of its children) and its curves per second. Beside it,
for the smallest N, the baseline measured in the same run: a child that
reads the whole dataset with pandas and fits it with one ``scurve.fit``; the
ratio of the peaks is printed.

    python benchmarks/stream.py                      # N = 1e5 and 1e6
    python benchmarks/stream.py --curves 10000000    # the issue's 10^7 run

Targets (issue 8): peak resident memory < 2 GB at every N, and flat in N
(the largest N's peak within 1.5x the smallest's). Always exits 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIMIT_BYTES = 2 * 1024**3

CHILD = r"""
import json, resource, sys, time, warnings
from pathlib import Path

def peak_kib():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

mode, data, out, chunk = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
warnings.simplefilter("ignore")
import scurve
from scurve import scale
start = time.perf_counter()
last = [start]
def progress(groups, rows):
    now = time.perf_counter()
    if now - last[0] > 30:
        last[0] = now
        print(f"  ... {groups:,} curves, {groups / (now - start):,.0f}/s, "
              f"peak {peak_kib() / 1024:,.0f} MB", file=sys.stderr, flush=True)
if mode == "stream":
    done = scale.fit_parquet(data, "hill", x="dose", y="response",
                             by=["drug", "cell"], output=out, chunk_curves=chunk,
                             progress=progress)
    groups, ok = done.groups, done.statuses.get("ok", 0)
else:
    import pandas as pd
    table = pd.read_parquet(data)
    fits = scurve.fit(table, "hill", x="dose", y="response", by=["drug", "cell"])
    groups, ok = len(fits.table), int((fits.table["status"] == "ok").sum())
seconds = time.perf_counter() - start
children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"seconds": seconds, "groups": groups, "ok": ok,
                  "peak": peak_kib() * 1024, "children": children * 1024}))
"""


def child(mode: str, data: Path, out: Path, chunk: int) -> dict | None:
    """Run one fit in a fresh interpreter; its figures, or None (said why)
    if it died: the in-memory baseline of a screen larger than memory is
    killed by the system, which is what streaming is for."""
    run = subprocess.run(
        [sys.executable, "-c", CHILD, mode, str(data), str(out), str(chunk)],
        stdout=subprocess.PIPE,
        text=True,
        check=False,
    )
    if run.returncode != 0:
        how = (
            f"killed by signal {-run.returncode} (out of memory?)"
            if run.returncode < 0
            else f"exit status {run.returncode}"
        )
        print(f"  {mode} fit: the child process failed, {how}")
        return None
    return json.loads(run.stdout.strip().splitlines()[-1])


def make(path: Path, curves: int) -> float:
    """Write the synthetic screen; seconds taken."""
    from scurve import scale

    start = time.perf_counter()
    last = [start]

    def progress(done: int) -> None:
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"  ... wrote {done:,} curves", file=sys.stderr, flush=True)

    scale.write_screen(path, curves, seed=0, chunk_curves=100_000, progress=progress)
    return time.perf_counter() - start


def mb(n: float) -> str:
    return f"{n / 1024**2:,.0f} MB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--curves", type=int, nargs="+", default=[100_000, 1_000_000],
        help="sizes of the synthetic screens (default: 1e5 1e6)",
    )  # fmt: skip
    parser.add_argument(
        "--chunk-curves", type=int, default=20_000, help="curves per chunk"
    )
    parser.add_argument(
        "--baseline-curves", type=int, default=None,
        help="curves of the in-memory baseline (default: the smallest N; 0: none)",
    )  # fmt: skip
    args = parser.parse_args()
    sizes = sorted(args.curves)
    baseline_n = sizes[0] if args.baseline_curves is None else args.baseline_curves
    print(
        "SYNTHETIC 4PL screen (scurve.scale.screen, seed 0): 8 doses x 3 "
        "replicates per curve, model hill, chunks of "
        f"{args.chunk_curves:,} curves"
    )
    peaks = {}
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted({*sizes, *([baseline_n] if baseline_n else [])}):
            data = Path(tmp) / f"screen-{n}.parquet"
            made = make(data, n)
            size = data.stat().st_size
            print(f"N = {n:,}: wrote {mb(size)} of Parquet in {made:.1f} s")
            got = None
            if n in sizes:
                got = child(
                    "stream", data, Path(tmp) / "fits.parquet", args.chunk_curves
                )
            if got is not None:
                peaks[n] = got["peak"]
                verdict = "PASS" if got["peak"] < LIMIT_BYTES else "MISS"
                print(
                    f"  streamed: {got['groups'] / got['seconds']:,.0f} curves/s "
                    f"({got['seconds']:.1f} s, {got['ok']:,} of {got['groups']:,} "
                    f"ok); peak memory {mb(got['peak'])} (largest worker "
                    f"process {mb(got['children'])}): {verdict} (< 2 GB)"
                )
            base = None
            if n == baseline_n:
                base = child("memory", data, Path(tmp) / "unused", 0)
            if base is not None:
                print(
                    f"  baseline, pandas + one scurve.fit: "
                    f"{base['groups'] / base['seconds']:,.0f} curves/s "
                    f"({base['seconds']:.1f} s); peak memory {mb(base['peak'])}"
                )
                if n in peaks:
                    print(
                        f"  streamed peak / baseline peak: "
                        f"{peaks[n] / base['peak']:.2f}x"
                    )
            data.unlink()
            (Path(tmp) / "fits.parquet").unlink(missing_ok=True)
    if len(peaks) > 1 and {sizes[0], sizes[-1]} <= set(peaks):
        ratio = peaks[sizes[-1]] / peaks[sizes[0]]
        verdict = "PASS" if ratio < 1.5 else "MISS"
        print(
            f"peak memory at N = {sizes[-1]:,} / at N = {sizes[0]:,}: "
            f"{ratio:.2f}x: {verdict} (flat: < 1.5x)"
        )


if __name__ == "__main__":
    main()
