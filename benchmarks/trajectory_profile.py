"""Benchmark (on request): where a trajectory's time goes, one thread, kernels only.

Problem of benchmarks/open_vs_qutip.py (open XXZ ring, J = 0.3, Delta = 0.5, lambda = 0.5,
dephasing 0.05, relaxation 0.02, |g...g>, t in [0, 20]). Prints, per size:

* ms per trajectory with 201 samples and with 2 samples (the difference is the recording of
  E, P, C_Q at 199 samples: dense output and three single products each);
* us per product of the augmented generator (the Chebyshev recurrence's product,
  ``kernels.chebyshev._product``, alone) and products per trajectory, hence the products' share;
  the rest is jump times, jumps and step overhead.

Times are minima of --repeats runs (the machine is shared; the minimum is the least disturbed).

Usage: python benchmarks/trajectory_profile.py [--sizes 10,14] [--ntraj 16] [--repeats 7]
"""

from __future__ import annotations

import argparse
import time

import numba
import numpy as np
from numba import njit

import collective_qc as cqc
from collective_qc.solvers import trajectories as T
from collective_qc.solvers.kernels.chebyshev import _product

KW = dict(drive=0.5, dephasing=0.05, relaxation=0.02, initial="product")


def payload(n):
    """The kernel payload charge() builds for size n (captured from a 2-trajectory run)."""
    seen = {}
    run_batch = T.run_batch

    def spy(p, keys, start=0):
        seen["p"] = p
        return run_batch(p, keys, start)

    T.run_batch = spy
    try:
        cqc.charge("xxz-ring", params={"N": n, "J": 0.3, "Delta": 0.5}, times=np.linspace(0, 20, 201),
                   method="trajectories", ntraj=2, seed=1, **KW)
    finally:
        T.run_batch = run_batch
    return seen["p"]


def with_samples(p, ns):
    """The payload with ns sample times in [0, 20] (recording cost scales with ns)."""
    q = dict(p)
    sched = list(p["sched"])
    sched[3] = np.linspace(0, 20, ns)
    sched[4] = np.ones(ns)
    q["sched"], q["nt"] = tuple(sched), ns
    return q


def per_trajectory(p, keys, repeats):
    T.run_batch(p, keys[:2])
    best = min(_timed(lambda: T.run_batch(p, keys)) for _ in range(repeats))
    return best / len(keys), T.run_batch(p, keys[:4])[3]


@njit
def _products(mats, gam, x, out, prev, n):
    for _ in range(n):
        _product(mats, gam, 0.5, 1.0, x, out, 2.0 / 14.0, 0.1 - 0.01j, prev, -1.0)


def per_product(p, repeats):
    gam = p["noise"][0]
    rng = np.random.default_rng(0)
    x, prev = (rng.standard_normal(2 * len(gam)) + 1j * rng.standard_normal(2 * len(gam)) for _ in range(2))
    out = np.empty_like(x)
    n = max(1, 2_000_000 // len(gam))
    _products(p["mats"], gam, x, out, prev, 1)
    return min(_timed(lambda: _products(p["mats"], gam, x, out, prev, n)) for _ in range(repeats)) / n


def _timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,14")
    ap.add_argument("--ntraj", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args()
    numba.set_num_threads(1)
    print(f"{'N':>3} {'ms/traj':>8} {'record %':>9} {'us/product':>11} {'products':>9} {'products %':>11} "
          f"{'rest %':>7}")
    for n in [int(s) for s in a.sizes.split(",")]:
        p = payload(n)
        keys = T.trajectory_keys(1, a.ntraj if n <= 12 else max(2, a.ntraj // 8))
        full, stats = per_trajectory(p, keys, a.repeats)
        bare, _ = per_trajectory(with_samples(p, 2), keys, a.repeats)
        prod = per_product(p, a.repeats)
        nprod = float(stats[:, 1].mean())
        rec, share = (full - bare) / full, nprod * prod / full
        print(f"{n:>3} {1e3 * full:>8.2f} {100 * rec:>8.0f}% {1e6 * prod:>11.1f} {nprod:>9.0f} {100 * share:>10.0f}% "
              f"{100 * (1 - rec - share):>6.0f}%", flush=True)


if __name__ == "__main__":
    main()
