"""Benchmark (on request, not in CI): the trajectory step methods side by side.

XXZ ring (J = 0.3, Delta = 0.5, lambda = 0.5, dephasing 0.05, relaxation 0.02, |g...g>), 201
samples to t = 20, the same seed for every integrator, so the runs draw the same random
numbers and their differences are integration errors, not sampling noise. All kernels are
compiled / loaded by a warm-up first, then timed interleaved in one process (median of
--repeats). Prints seconds per trajectory, operator products per trajectory (one product = the
augmented generator on (psi, phi): H0 and V on both; recording adds 3 single products per
sample) and max_t |E - E_rk4| / stderr.

Before this engine (main at 768baa7, truncated-Taylor steps, measured with that code on the
same problem with the ground-state start): 866 products per trajectory at N = 8, 1030 at N = 10.

Usage: python benchmarks/trajectory_integrator.py [--sizes 8,10,12] [--ntraj 20] [--repeats 3]
       [--integrators chebyshev,dopri5,rk4]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import collective_qc as cqc
from collective_qc.solvers.solution import SolverOptions

KW = dict(dephasing=0.05, relaxation=0.02, t_max=20, n_times=201, seed=1, initial="product")


def run(n, ntraj, integrator):
    t0 = time.perf_counter()
    r = cqc.charge("xxz-ring", 0.5, params={"N": n, "J": 0.3, "Delta": 0.5}, method="trajectories",
                   solver_options=SolverOptions(integrator=integrator, ntraj=ntraj, seed=1), **KW)
    return time.perf_counter() - t0, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="8,10,12")
    ap.add_argument("--ntraj", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--integrators", default="chebyshev,dopri5,rk4")
    a = ap.parse_args()
    names = a.integrators.split(",")
    print(f"{'N':>3} {'integrator':>10} {'s/traj':>8} {'products':>9} {'steps':>7} {'max|dE|/se vs rk4':>18}")
    for n in [int(s) for s in a.sizes.split(",")]:
        for name in names:  # warm: kernels, operators
            run(n, 2, name)
        times = {name: [] for name in names}
        res = {}
        for _ in range(a.repeats):
            for name in names:
                dt, res[name] = run(n, a.ntraj, name)
                times[name].append(dt / a.ntraj)
        ref = res.get("rk4")
        for name in names:
            r = res[name]
            info = r.metadata["trajectories"]
            dev = (np.max(np.abs(r.energy - ref.energy)[1:] / r.energy_stderr[1:]) if ref is not None
                   else float("nan"))
            print(f"{n:>3} {name:>10} {np.median(times[name]):>8.3f} {info['products']:>9.0f} {info['steps']:>7.0f} "
                  f"{dev:>18.1e}", flush=True)


if __name__ == "__main__":
    main()
