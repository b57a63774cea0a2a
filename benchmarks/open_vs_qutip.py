"""Benchmark (on request, not in CI): open XXZ ring, trajectories against QuTiP 5 mcsolve.

Problem: xxz-ring J = 0.3, Delta = 0.5, lambda = 0.5, dephasing 0.05 and relaxation 0.02 on
every site, |g...g> (initial="product"), t in [0, 20], 201 samples.

1. Side by side in one process at N = --n-qutip (10): ours (E, P, C_Q with standard errors)
   against qutip.mcsolve (E only, map="parallel", num_cpus=2), both warm (JIT cached / first run
   discarded), median of --repeats runs each; prints the ratio and checks that E agrees within
   5 combined standard errors at every sample. --rtol sets our relative tolerance there (ours
   default 1e-8; mcsolve runs at its own defaults, rtol 1e-6, atol 1e-8).
2. Reach table for --sizes: set-up seconds, seconds per trajectory (2 threads; from runs of 2
   and 2 + --reach-ntraj trajectories), extrapolated time for --ntraj trajectories, operator
   products per trajectory, and the process's peak resident memory after that size.
3. Optionally (--full N) a full run of --ntraj trajectories at size N: wall time (operators
   included) and the process's peak resident memory (the goal: N = 16, 200 trajectories in
   under 10 minutes on 2 cores).
4. Optionally (--exact N) the exact density-matrix solver against qutip.mesolve.

Usage: python benchmarks/open_vs_qutip.py [--n-qutip 10] [--ntraj 200] [--repeats 3]
       [--sizes 8,10,12,14,16] [--reach-ntraj 4] [--full 0] [--exact 0] [--rtol 1e-6]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

import collective_qc as cqc

KW = dict(drive=0.5, dephasing=0.05, relaxation=0.02, initial="product")
TIMES = np.linspace(0, 20, 201)


def qutip_model(n, J=0.3, delta=0.5, gamma=0.05, kappa=0.02):
    """H_B, V, collapse operators and |g...g> in QuTiP (sigma_z |g> = -|g>)."""
    import qutip as qt

    sx, sy, sz = qt.sigmax(), qt.sigmay(), qt.sigmaz()
    sm = qt.destroy(2).dag()  # |g> = basis(2, 1) -> sigma_- = |g><e| = |1><0|

    def op(o, i):
        return qt.tensor([o if k == i else qt.qeye(2) for k in range(n)])

    hb = sum(0.5 * op(sz, i) for i in range(n))
    for i in range(n):
        j = (i + 1) % n
        hb += J * (op(sx, i) * op(sx, j) + op(sy, i) * op(sy, j) + delta * op(sz, i) * op(sz, j))
    v = sum(op(sx, i) for i in range(n))
    c_ops = [np.sqrt(gamma) * op(sz, i) for i in range(n)] + [np.sqrt(kappa) * op(sm, i) for i in range(n)]
    psi0 = qt.tensor([qt.basis(2, 1)] * n)
    return hb, v, c_ops, psi0, qt.expect(hb, psi0)


def ours(n, ntraj, seed=1, rtol=None):
    """(seconds, result) of charge() with trajectories; rtol None: the default tolerances."""
    from collective_qc.solvers.solution import SolverOptions

    opts = SolverOptions(ntraj=ntraj, seed=seed) if rtol is None else SolverOptions(ntraj=ntraj, seed=seed, rtol=rtol)
    t0 = time.perf_counter()
    r = cqc.charge("xxz-ring", params={"N": n, "J": 0.3, "Delta": 0.5}, times=TIMES, method="trajectories",
                   solver_options=opts, **KW)
    return time.perf_counter() - t0, r


def mcsolve(n, ntraj, seed=1):
    import qutip as qt

    hb, v, c_ops, psi0, e0 = qutip_model(n)
    t0 = time.perf_counter()
    ref = qt.mcsolve(hb + 0.5 * v, psi0, TIMES, c_ops, e_ops=[hb], ntraj=ntraj, seeds=seed,
                     options={"map": "parallel", "num_cpus": 2, "progress_bar": False})
    dt = time.perf_counter() - t0
    std = getattr(ref, "std_expect", None)
    err = np.array(std[0]) / np.sqrt(ntraj) if std is not None else np.zeros(len(TIMES))
    return dt, np.real(np.array(ref.expect[0])) - e0, err


def side_by_side(n, ntraj, repeats, rtol=None):
    ours(n, 4, rtol=rtol)  # compile / load the kernels and build the operators once
    mcsolve(n, 4)
    t_o, t_q = [], []
    for _ in range(repeats):
        dt, r = ours(n, ntraj, rtol=rtol)
        t_o.append(dt)
        dq, e_q, se_q = mcsolve(n, ntraj)
        t_q.append(dq)
    se = np.sqrt(r.energy_stderr ** 2 + se_q ** 2)
    z = np.abs(r.energy - e_q)[1:] / se[1:]
    info = r.metadata["trajectories"]
    tol = "default tolerances" if rtol is None else f"rtol {rtol:g}"
    print(f"N={n}, {ntraj} trajectories, median of {repeats} warm runs: ours ({tol}) {np.median(t_o):.2f} s "
          f"(E, P, C_Q with errors; {info['integrator']}, {info['products']:.0f} products/trajectory) | "
          f"mcsolve {np.median(t_q):.2f} s (E) | ratio x{np.median(t_q) / np.median(t_o):.1f}")
    print(f"  all ours: {np.round(t_o, 2).tolist()} s; all mcsolve: {np.round(t_q, 2).tolist()} s")
    print(f"  E agreement: max |E_ours - E_mcsolve| / combined stderr = {z.max():.2f} "
          f"({'OK' if z.max() < 5 else 'FAIL'}: < 5 at every sample)", flush=True)


def reach(sizes, ntraj_reach, ntraj):
    """Per-trajectory seconds from two runs (2 and 2 + k trajectories) so that the per-size set-up
    (operators, spectral interval) is reported apart; k >= ntraj_reach, raised so that the second
    run lasts about 3 s (small sizes would otherwise time noise)."""
    print(f"{'N':>3} {'dim':>7} {'setup s':>8} {'s/traj':>8} {'t(' + str(ntraj) + ') est':>12} {'products':>9} "
          f"{'jumps':>6} {'peak RSS':>9}")
    for n in sizes:
        ours(n, 2)  # warm caches
        t_a, _ = ours(n, 2)
        t_one, _ = ours(n, 3)
        k = max(ntraj_reach, min(400, int(3.0 / max(t_one - t_a, 1e-3))))
        t_b, r = ours(n, 2 + k)
        per = max(t_b - t_a, 0.0) / k
        setup = max(t_a - 2 * per, 0.0)
        info = r.metadata["trajectories"]
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        print(f"{n:>3} {r.metadata['dim']:>7} {setup:>8.2f} {per:>8.4f} {(setup + per * ntraj) / 60:>10.2f} m "
              f"{info['products']:>9.0f} {info['mean_jumps']:>6.1f} {rss:>7.2f} G", flush=True)


def full(n, ntraj):
    ours(min(n, 8), 2)  # load the kernels
    dt, r = ours(n, ntraj)
    info = r.metadata["trajectories"]
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"full run N={n} (dim {r.metadata['dim']}), {ntraj} trajectories: {dt:.1f} s = {dt / 60:.2f} min "
          f"(operators included), {info['products']:.0f} products and {info['mean_jumps']:.1f} jumps per "
          f"trajectory, peak RSS {rss:.2f} GB, max stderr(E) {r.energy_stderr.max():.2e}", flush=True)


def exact(n):
    import qutip as qt

    cqc.charge("xxz-ring", params={"N": 3}, method="exact", times=TIMES, **KW)
    t0 = time.perf_counter()
    r = cqc.charge("xxz-ring", params={"N": n}, method="exact", times=TIMES, **KW)
    t_o = time.perf_counter() - t0
    hb, v, c_ops, psi0, e0 = qutip_model(n)
    t0 = time.perf_counter()
    ref = qt.mesolve(hb + 0.5 * v, psi0, TIMES, c_ops, e_ops=[hb], options={"atol": 1e-10, "rtol": 1e-8})
    t_q = time.perf_counter() - t0
    dev = np.max(np.abs(r.energy - (np.real(np.array(ref.expect[0])) - e0)))
    print(f"exact N={n}: ours {t_o:.2f} s (E, P, C_Q) | mesolve {t_q:.2f} s (E) | x{t_q / t_o:.2f} | "
          f"max|dE| = {dev:.1e}", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-qutip", type=int, default=10, help="size of the side-by-side run (0: skip)")
    ap.add_argument("--ntraj", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default="8,10,12,14,16", help="reach table sizes ('' to skip)")
    ap.add_argument("--reach-ntraj", type=int, default=4)
    ap.add_argument("--full", type=int, default=0, help="size of a full --ntraj run (0: skip)")
    ap.add_argument("--exact", type=int, default=0, help="size of the exact vs mesolve run (0: skip)")
    ap.add_argument("--rtol", type=float, default=None,
                    help="our relative tolerance in the side-by-side run (default: the solver's, 1e-8; "
                         "mcsolve runs at its defaults, rtol 1e-6 and atol 1e-8)")
    a = ap.parse_args()
    if a.n_qutip:
        side_by_side(a.n_qutip, a.ntraj, a.repeats, a.rtol)
    if a.sizes:
        reach([int(s) for s in a.sizes.split(",")], a.reach_ntraj, a.ntraj)
    if a.full:
        full(a.full, a.ntraj)
    if a.exact:
        exact(a.exact)


if __name__ == "__main__":
    main()
