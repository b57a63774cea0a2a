"""Benchmark (on request): speed of the reference runs under every thread setting of the environment.

The reference exact run (open XXZ ring N = 8, J = 0.3, Delta = 0.5, drive 0.5, dephasing 0.05,
relaxation 0.02 on every site, |g...g>, t in [0, 20], 201 samples; the problem of
benchmarks/exact_vs_qutip.py) is timed through ``collective_qc.charge`` in a fresh subprocess for
each of OMP_NUM_THREADS in {unset, 1, 2} x NUMBA_NUM_THREADS in {unset, 1, 2}: on a quiet machine,
and with a second CPU-bound process running (a Python busy loop, started and stopped here, not
pinned). Each cell is the median of --repeat warm runs (the first run, with compilation or cache
loading, is discarded). With --trajectories the trajectory reference (the same ring at N = 10,
200 trajectories, seed 1) is timed as well, in the same cells.

Prints markdown tables: seconds per cell (with the CPU seconds of the process: threads that
spin while they wait show as CPU time far above the work) and the ratio to the best cell of the
same condition; the first line gives the load average, as the tables are only as quiet as the
machine was.
Goal (issue 22): no setting more than 2.5x slower than the best one in the same condition.

Usage: python benchmarks/threads.py [--repeat 3] [--trajectories] [--conditions quiet,busy]
       [--omp unset,1,2] [--numba unset,1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

CHILD = r"""
import json, statistics, sys, time
import numpy as np
import collective_qc as cqc

kind, repeat = sys.argv[1], int(sys.argv[2])
if kind == "exact":
    kw = dict(params={"N": 8, "J": 0.3, "Delta": 0.5}, method="exact")
else:
    kw = dict(params={"N": 10, "J": 0.3, "Delta": 0.5}, method="trajectories", ntraj=200, seed=1)

def run():
    return cqc.charge("xxz-ring", drive=0.5, dephasing=0.05, relaxation=0.02, times=np.linspace(0, 20, 201), **kw)

t0 = time.perf_counter(); run(); first = time.perf_counter() - t0
walls, cpus = [], []
for _ in range(repeat):
    t0, c0 = time.perf_counter(), time.process_time()
    run()
    walls.append(time.perf_counter() - t0); cpus.append(time.process_time() - c0)
import numba
print(json.dumps({"first": first, "median": statistics.median(walls), "walls": walls,
                  "cpu": statistics.median(cpus),
                  "layer": numba.threading_layer(), "threads": numba.get_num_threads()}))
"""

BUSY = "while True:\n    pass\n"
SETTINGS_KEYS = ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")


def child_env(omp: str, numba: str) -> dict:
    """The parent's environment with the two thread variables set as asked ('unset' removes them)."""
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_KEYS + ("OMP_WAIT_POLICY",)}
    for key, value in zip(SETTINGS_KEYS, (omp, numba)):
        if value != "unset":
            env[key] = value
    return env


def measure(kind: str, omp: str, numba: str, repeat: int) -> dict:
    """Run the reference `kind` ("exact" or "trajectories") in a fresh subprocess; its JSON line."""
    out = subprocess.run([sys.executable, "-c", CHILD, kind, str(repeat)], env=child_env(omp, numba),
                         capture_output=True, text=True, timeout=3600)
    if out.returncode:
        raise RuntimeError(f"{kind} OMP={omp} NUMBA={numba} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def table(title: str, cells: dict, omps, numbas, fmt) -> str:
    """A markdown table, rows OMP_NUM_THREADS, columns NUMBA_NUM_THREADS."""
    lines = [f"**{title}**", "", "| OMP_NUM_THREADS \\ NUMBA_NUM_THREADS | " + " | ".join(numbas) + " |",
             "|---|" + "---:|" * len(numbas)]
    for o in omps:
        lines.append(f"| {o} | " + " | ".join(fmt(cells[o, n]) for n in numbas) + " |")
    return "\n".join(lines) + "\n"


def condition(kind: str, busy: bool, args) -> dict:
    """All cells of one condition (quiet, or with a busy loop running beside)."""
    loop = subprocess.Popen([sys.executable, "-c", BUSY]) if busy else None
    try:
        if loop:
            time.sleep(1.0)
        return {(o, n): measure(kind, o, n, args.repeat) for o in args.omp for n in args.numba}
    finally:
        if loop:
            loop.kill()
            loop.wait()


def report(kind: str, name: str, cells: dict, args) -> None:
    best = min(c["median"] for c in cells.values())
    worst = max(c["median"] for c in cells.values())
    print(table(f"{kind}, {name}: median seconds of {args.repeat} warm runs (CPU seconds; layer/threads)",
                cells, args.omp, args.numba,
                lambda c: f"{c['median']:.2f} ({c['cpu']:.2f}; {c['layer']}/{c['threads']})"))
    print(table(f"{kind}, {name}: ratio to the best cell ({best:.2f} s)", cells, args.omp, args.numba,
                lambda c: f"{c['median'] / best:.2f}"))
    verdict = "ok" if worst / best <= 2.5 else "FAILS the 2.5x goal"
    print(f"{kind}, {name}: worst / best = {worst / best:.2f} ({verdict})\n", flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--trajectories", action="store_true", help="also the trajectory reference")
    ap.add_argument("--conditions", default="quiet,busy")
    ap.add_argument("--omp", default="unset,1,2")
    ap.add_argument("--numba", default="unset,1,2")
    args = ap.parse_args()
    args.omp, args.numba = args.omp.split(","), args.numba.split(",")
    print(f"# Thread settings benchmark ({os.cpu_count()} CPUs, {len(os.sched_getaffinity(0))} usable, "
          f"load average before: {os.getloadavg()[0]:.2f})\n")
    kinds = ["exact"] + (["trajectories"] if args.trajectories else [])
    for kind in kinds:
        for name in args.conditions.split(","):
            report(kind, name, condition(kind, name == "busy", args), args)


if __name__ == "__main__":
    main()
