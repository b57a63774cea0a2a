"""Benchmark (on request): exact Lindblad solver (E, P, C_Q) against QuTiP mesolve (E only).

Same process, same problem, warm (the first run of each is discarded), median of --repeat
runs, alternating the two solvers so that machine load affects both alike.

Cases: open XXZ ring (J = 0.3, Delta = 0.5, drive 0.5, dephasing 0.05 and relaxation 0.02 on
every site, |g...g>, t in [0, 20], 201 samples) at each N of --sizes; and --dicke: the explicit
Dicke model N = 4 with a cavity (n_max = 16, loss 0.05) and the same local noise.
--check also compares C_Q with a central finite difference of two tight mesolve runs.

Usage: python benchmarks/exact_vs_qutip.py [--sizes 6,7,8] [--repeat 3] [--dicke] [--check]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def setup(model, params, gamma, kappa):
    from collective_qc.physics.graph import validate_graph
    from collective_qc.physics.operators import build_operators
    from collective_qc.physics.registry import make_model
    from collective_qc.physics.states import initial_state

    m = make_model(model, params)
    ops = build_operators(validate_graph(m.graph()), dephasing=gamma, relaxation=kappa)
    return ops, initial_state(ops, "product")


def ours(ops, init, lam, times):
    from collective_qc.physics.protocols import Constant
    from collective_qc.solvers.contract import SolveProblem
    from collective_qc.solvers.lindblad import solve_lindblad

    return solve_lindblad(SolveProblem(ops, init.vectors, init.weights, lam, Constant(), times))


def mesolve(ops, init, lam, times, options=None):
    import qutip as qt

    H = qt.Qobj((ops.H0 + lam * ops.V).tocsr())
    c_ops = [qt.Qobj(j.matrix.tocsr()) for j in ops.jumps]
    psi = qt.Qobj(init.vectors[:, :1])
    out = qt.mesolve(H, psi, times, c_ops, e_ops=[qt.Qobj(ops.H_B.tocsr())], options=options)
    return np.asarray(out.expect[0]).real


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def case(label, ops, init, args):
    lam, times = 0.5, np.linspace(0.0, 20.0, 201)
    ours(ops, init, lam, times[:3])  # JIT warm-up
    mesolve(ops, init, lam, times[:3])
    t_ours, t_qt = [], []
    for _ in range(args.repeat):
        t, sol = timed(lambda: ours(ops, init, lam, times))
        t_ours.append(t)
        t, e_qt = timed(lambda: mesolve(ops, init, lam, times))
        t_qt.append(t)
    a, b = statistics.median(t_ours), statistics.median(t_qt)
    dev = np.max(np.abs(sol.energy + sol.e0 - e_qt))
    print(f"{label:28s} dim={ops.dim:5d}  ours (E,P,C_Q) {a:7.2f} s  mesolve (E) {b:7.2f} s  "
          f"ratio {b / a:6.1f}x  max|E - E_mesolve| = {dev:.1e}  [{sol.info['applications']} applications]",
          flush=True)
    if args.check:
        tight = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 10**6}
        h = 2e-4
        c_fd = (mesolve(ops, init, lam + h, times, tight) - mesolve(ops, init, lam - h, times, tight)) / (2 * h)
        err = np.max(np.abs(sol.capacitance - c_fd)) / np.max(np.abs(c_fd))
        print(f"{'':28s} C_Q vs central difference of tight mesolve: max rel. deviation {err:.1e}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="6,7,8")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dicke", action="store_true")
    ap.add_argument("--check", action="store_true")
    args = ap.parse_args()
    for n in [int(s) for s in args.sizes.split(",") if s]:
        ops, init = setup("xxz-ring", {"N": n, "J": 0.3, "Delta": 0.5}, 0.05, 0.02)
        case(f"xxz-ring N={n}", ops, init, args)
    if args.dicke:
        ops, init = setup("dicke", {"N": 4, "representation": "explicit", "n_max": 16, "kappa_c": 0.05},
                          0.05, 0.02)
        case("dicke N=4 explicit, cavity", ops, init, args)


if __name__ == "__main__":
    main()
