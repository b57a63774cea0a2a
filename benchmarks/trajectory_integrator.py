"""Benchmark: quantum-trajectory integrators, fixed-step RK4 (old) against the adaptive
integrator (new: truncated Taylor exponential by default, or DOPRI5).

XXZ ring (drive 0.5, dephasing 0.05, relaxation 0.02), 100 trajectories, 201 sample times to
t = 20, same seed for both. Both kernels are compiled / loaded from the Numba cache by a tiny
warm-up first and then timed in this one process, interleaved per size, so the ratio old/new
is meaningful even on a shared machine. Prints wall times, ratio, right-hand-side evaluations
per unit time and max_t |E_new - E_old| / stderr (the two runs draw the same random numbers,
so the difference is the integration error, not sampling noise).
Usage: python benchmarks/trajectory_integrator.py [--sizes 8,10,12] [--ntraj 100] [--repeat 1]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from collective_qc.solvers._kernels import run_trajectories_adaptive, run_trajectories_taylor

import collective_qc as cqc
from collective_qc.solvers import trajectories as T

KW = dict(dephasing=0.05, relaxation=0.02, t_max=20, n_times=201, seed=1)


def run(n, ntraj, integrator, capture=None):
    """(wall time of charge, time inside the kernels, result)."""
    T.INTEGRATOR = integrator
    orig = T.run_batch
    in_kernel = [0.0]

    def wrapped(payload, keys, start=0):
        if capture is not None and not capture:
            capture.append((payload, keys))
        t = time.perf_counter()
        out = orig(payload, keys, start)
        in_kernel[0] += time.perf_counter() - t
        return out

    T.run_batch = wrapped
    try:
        t0 = time.perf_counter()
        r = cqc.charge("xxz-ring", 0.5, params={"N": n}, method="trajectories", ntraj=ntraj, **KW)
        return time.perf_counter() - t0, in_kernel[0], r
    finally:
        T.run_batch = orig
        T.INTEGRATOR = DEFAULT


DEFAULT = T.INTEGRATOR


def mean_nfev(payload, keys):
    """RHS evaluations per trajectory of the adaptive kernel (re-run on the first keys)."""
    n, nt, dim = len(keys), payload["nt"], len(payload["gam"])
    e, p, c = np.zeros((n, nt)), np.zeros((n, nt)), np.zeros((n, nt))
    jumps, nfev = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    kernel = run_trajectories_taylor if payload["integrator"] == "taylor" else run_trajectories_adaptive
    kernel(*payload["mats"], payload["gam"], payload["tgt"], payload["val"], payload["psi0s"],
                              payload["p0cum"], payload["drive"], payload["grid"], payload["fgrid"],
                              payload["sample_at"], np.ascontiguousarray(keys), payload["e0"], e, p, c, jumps,
                              payload["uniform_rate"], payload["dobs"], np.zeros((n, payload["dobs"].shape[0], nt)),
                              np.zeros((n, 0, 0), dtype=np.complex128), *payload["adaptive"], nfev)
    return float(nfev.mean()), dim


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="8,10,12")
    ap.add_argument("--ntraj", type=int, default=100)
    ap.add_argument("--new", default=DEFAULT, choices=[i for i in T.INTEGRATORS if i != "rk4"])
    ap.add_argument("--repeat", type=int, default=1, help="timings per size and integrator (best is kept)")
    a = ap.parse_args()
    for integ in ("rk4", a.new):  # compile or load both kernels before timing
        T.INTEGRATOR = integ
        cqc.charge("xxz-ring", 0.5, params={"N": 3}, method="trajectories", ntraj=2, dephasing=0.05,
                   relaxation=0.02, t_max=1, n_times=3)
    T.INTEGRATOR = DEFAULT
    t_end = KW["t_max"]
    print("wall: whole charge() call; kern: inside the trajectory kernels (best of --repeat)")
    print(f"{'N':>3} {'dim':>6} {'rk4 wall':>9} {'new wall':>9} {'old/new':>8} {'rk4 kern':>9} {'new kern':>9} "
          f"{'old/new':>8} {'rk4 fev/t':>10} {'new fev/t':>10} {'max|dE|/se':>11}   (new = {a.new})")
    for n in [int(s) for s in a.sizes.split(",")]:
        for integ in ("rk4", a.new):  # untimed: per-size set-up costs (basis, operators) off the clock
            T.INTEGRATOR = integ
            cqc.charge("xxz-ring", 0.5, params={"N": n}, method="trajectories", ntraj=2, dephasing=0.05,
                       relaxation=0.02, t_max=0.1, n_times=2)
        T.INTEGRATOR = DEFAULT
        t_old, t_new, k_old, k_new = np.inf, np.inf, np.inf, np.inf
        cap, cap_old = [], []
        for _ in range(a.repeat):
            dt, dk, r_old = run(n, a.ntraj, "rk4", cap_old)
            t_old, k_old = min(t_old, dt), min(k_old, dk)
            dt, dk, r_new = run(n, a.ntraj, a.new, cap)
            t_new, k_new = min(t_new, dt), min(k_new, dk)
        de = np.abs(r_new.energy - r_old.energy)[1:] / r_new.energy_stderr[1:]
        payload, keys = cap[0]
        nfev, dim = mean_nfev(payload, keys[: min(10, len(keys))])
        # RK4: 4 evaluations per grid step (jump location adds one step per jump)
        n_rk4 = 4 * (len(cap_old[0][0]["grid"]) - 1)
        print(f"{n:>3} {dim:>6} {t_old:>9.2f} {t_new:>9.2f} {t_old / t_new:>8.2f} {k_old:>9.2f} {k_new:>9.2f} "
              f"{k_old / k_new:>8.2f} {n_rk4 / t_end:>10.0f} {nfev / t_end:>10.0f} {de.max():>11.2e}", flush=True)


if __name__ == "__main__":
    main()
