"""Benchmark (on request): where trajectories become cheaper than the exact density matrix.

Open XXZ ring (J = 0.3, Delta = 0.5, drive 0.5, dephasing 0.05, relaxation 0.02, |g...g>,
t in [0, 20], 201 samples) through ``charge`` with method exact and trajectories (--ntraj,
default 500), one process, each warmed up first. ``method="auto"`` uses the exact solver while
dim <= EXACT_AUTO_DIM_PER_TRAJECTORY x ntraj (collective_qc/api.py); rerun this after a solver
changes and set the factor from the size where the two wall times cross.

Usage: python benchmarks/auto_crossover.py [--sizes 8,9,10] [--ntraj 500]
"""

from __future__ import annotations

import argparse
import time

import collective_qc as cqc


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="8,9,10")
    ap.add_argument("--ntraj", type=int, default=500)
    a = ap.parse_args()
    for n in [int(s) for s in a.sizes.split(",")]:
        for method in ("exact", "trajectories"):
            kw = dict(drive=0.5, params={"N": n, "J": 0.3, "Delta": 0.5}, t_max=20, n_times=201, dephasing=0.05,
                      relaxation=0.02, initial="product", method=method, ntraj=a.ntraj)
            cqc.charge("xxz-ring", **{**kw, "t_max": 0.2, "n_times": 3})  # JIT / cache warm-up
            t0 = time.perf_counter()
            r = cqc.charge("xxz-ring", **kw)
            dt = time.perf_counter() - t0
            err = "" if r.energy_stderr is None else \
                f"  max stderr E {r.energy_stderr.max():.1e}, C_Q {r.capacitance_stderr.max():.1e}"
            print(f"N={n:2d} dim={2 ** n:5d} {method:12s} {dt:7.1f} s  E(20)={r.energy[-1]:.5f}{err}", flush=True)


if __name__ == "__main__":
    main()
