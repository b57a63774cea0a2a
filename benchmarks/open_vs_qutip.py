"""Benchmark (on request): open XXZ ring against QuTiP 5 in the same process.

- trajectories (ours, with C_Q) vs qutip.mcsolve (map="parallel", 2 cpus) at N = 10,
  J = 0.3, Delta = 0.5, lambda = 0.5, gamma = 0.05, kappa = 0.02, t in [0, 20] (201 points),
  200 trajectories;
- exact density-matrix solver (ours, with C_Q) vs qutip.mesolve (E only) at N = 8.
Usage: python benchmarks/open_vs_qutip.py [--n-traj-model 10] [--n-exact 8] [--ntraj 200]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import collective_qc as cqc


def qutip_model(n, J=0.3, delta=0.5, gamma=0.05, kappa=0.02):
    import qutip as qt

    sx, sy, sz = qt.sigmax(), qt.sigmay(), qt.sigmaz()
    sm = qt.Qobj(np.array([[0, 0], [1, 0]]))

    def op(o, i):
        return qt.tensor([o if k == i else qt.qeye(2) for k in range(n)])

    hb = sum(0.5 * op(sz, i) for i in range(n))
    for i in range(n):
        j = (i + 1) % n
        hb += J * (op(sx, i) * op(sx, j) + op(sy, i) * op(sy, j) + delta * op(sz, i) * op(sz, j))
    v = sum(op(sx, i) for i in range(n))
    c_ops = [np.sqrt(gamma) * op(sz, i) for i in range(n)] + [np.sqrt(kappa) * op(sm, i) for i in range(n)]
    w, u = np.linalg.eigh(hb.full())
    psi0 = qt.Qobj(u[:, 0], dims=[[2] * n, [1] * n])
    return hb, v, c_ops, psi0, w[0]


def main():
    import qutip as qt

    ap = argparse.ArgumentParser()
    ap.add_argument("--n-traj-model", type=int, default=10)
    ap.add_argument("--n-exact", type=int, default=8)
    ap.add_argument("--ntraj", type=int, default=200)
    a = ap.parse_args()
    times = np.linspace(0, 20, 201)
    kw = dict(drive=0.5, times=times, dephasing=0.05, relaxation=0.02)

    n = a.n_exact
    cqc.charge("xxz-ring", params={"N": 3}, method="exact", **kw)  # warm imports
    t0 = time.perf_counter()
    ours = cqc.charge("xxz-ring", params={"N": n}, method="exact", **kw)
    t_ours = time.perf_counter() - t0
    hb, v, c_ops, psi0, e0 = qutip_model(n)
    t0 = time.perf_counter()
    ref = qt.mesolve(hb + 0.5 * v, psi0, times, c_ops, e_ops=[hb], options={"atol": 1e-10, "rtol": 1e-8})
    t_ref = time.perf_counter() - t0
    dev = np.max(np.abs(ours.energy - (np.array(ref.expect[0]) - e0)))
    print(f"exact N={n}: ours {t_ours:.2f} s (E, P, C_Q) | mesolve {t_ref:.2f} s (E) | "
          f"speed-up x{t_ref / t_ours:.2f} | max|dE| = {dev:.2e} | E(20) = {ours.energy[-1]:.5f}", flush=True)

    n = a.n_traj_model
    cqc.charge("xxz-ring", params={"N": 3}, method="trajectories", ntraj=4, **kw)  # numba compile/cache
    t0 = time.perf_counter()
    ours = cqc.charge("xxz-ring", params={"N": n}, method="trajectories", ntraj=a.ntraj, seed=1, **kw)
    t_ours = time.perf_counter() - t0
    hb, v, c_ops, psi0, e0 = qutip_model(n)
    t0 = time.perf_counter()
    ref = qt.mcsolve(hb + 0.5 * v, psi0, times, c_ops, e_ops=[hb], ntraj=a.ntraj,
                     options={"map": "parallel", "num_cpus": 2, "progress_bar": False})
    t_ref = time.perf_counter() - t0
    e_ref = np.array(ref.expect[0]) - e0
    print(f"trajectories N={n}, {a.ntraj} traj: ours {t_ours:.2f} s (E, P, C_Q with errors) | mcsolve {t_ref:.2f} s "
          f"(E) | speed-up x{t_ref / t_ours:.2f} | E(20) ours {ours.energy[-1]:.4f} +- "
          f"{ours.energy_stderr[-1]:.4f}, mcsolve {e_ref[-1]:.4f}", flush=True)


if __name__ == "__main__":
    main()
