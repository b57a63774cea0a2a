"""Optimal charging against qutip-qoc (GRAPE of qutip-qtrl) on one closed problem.

Problem: the catalog's ``xxz-ring`` at its defaults (N = 6, omega = 1, J = 0.3, Delta = 0.5), drive
lambda = 1, |f| <= 1, M = 20 slices, maximise E(tau) = <H_B>(tau) - E(0) at tau = 2 from the ground
state, both codes started from f = 1/2 on every slice, L-BFGS-B with the same bounds, one start each.
Both work in the basis a charge run uses (the momentum-0, parity +1 block of the ring, 13 states:
``collective_qc.design.problem.build_dynamics``): the same dense H0, V, H_B and initial state.

How qutip-qoc expresses E(tau): its objectives are fidelities to a target. For a state vector the
fidelities (PSU/SU) are overlaps with a target state, which cannot express an expectation value. In
Liouville space the ``state_transfer`` objective is the trace-difference error
err = s ||vec(T) - vec(rho(tau))||^2 = s (||T||_F^2 + Tr rho^2 - 2 Tr[T rho(tau)]); with the target
T = H_B - E(0) (a Hermitian operator, not a state), s = 1 and a unitary evolution (Tr rho^2 = 1) this
is err = ||T||_F^2 + 1 - 2 E(tau), so minimising err maximises E(tau) exactly. qutip-qoc then
propagates 169 x 169 Liouvillian exponentials with their Frechet derivatives (qutip-qtrl GEN_MAT
dynamics), where collective_qc propagates the 13-state vector.

Timing: wall time of one complete optimisation from the same start (median of ``--repeats`` warm
runs in this process, after one untimed warm-up each). Both optima are re-evaluated with
collective_qc's propagator, and the script prints their relative difference and the speed ratio.
qutip-qoc 0.2.0 declares numpy < 2 but imports and runs with numpy 2 (installed with
``pip install --no-deps qutip-qoc qutip-qtrl``: its numpy pin would downgrade numpy below what
QuSpin needs).

Measured (2026-12-07, a 2-core machine shared with another job, load ~8; median of 5 warm runs):
collective_qc E(tau) = 1.950250827175 in 0.39 s (52 evaluations), qutip-qoc 0.2.0 E(tau) = 1.950250827174
in 71 s; relative difference 7e-13, slice values within 1.4e-5; ratio 180x. Second run (load ~6):
0.227 s against 33.6 s, ratio 148x.

Run: ``python benchmarks/optimize_vs_qoc.py [--tau 2] [--repeats 5]``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from collective_qc.design.grape import evaluate, terminal_observable
from collective_qc.design.optimize import Parametrisation, _run_start
from collective_qc.design.options import OptimizeOptions
from collective_qc.design.problem import build_dynamics


def ours(dyn, opts):
    par = Parametrisation(opts)
    x, F, hist, nfev = _run_start(dyn, opts, par, terminal_observable(dyn, "energy"),
                                  np.full(opts.slices, 0.5), opts.tau)
    return x, nfev


def qoc(dyn, opts):
    import qutip as qt
    from qutip_qoc import Objective, optimize_pulses

    E0 = float(np.real(np.trace(dyn.H_B @ dyn.rho0)))
    T = qt.Qobj(dyn.H_B - E0 * np.eye(dyn.H_B.shape[0]))
    H0 = qt.liouvillian(qt.Qobj(dyn.H0))
    Hc = qt.liouvillian(qt.Qobj(dyn.drive * dyn.V))
    psi0 = qt.Qobj(dyn.vectors[:, :1])
    obj = Objective(psi0, [H0, Hc], T)
    tlist = np.linspace(0.0, opts.tau, opts.slices)  # qutip-qoc: len(tlist) slices over tlist[-1]
    res = optimize_pulses(obj, {"ctrl": {"guess": np.full(opts.slices, 0.5), "bounds": [(-opts.f_max, opts.f_max)]}},
                          tlist, algorithm_kwargs={"alg": "GRAPE", "fid_err_targ": -1.0, "max_iter": opts.maxiter,
                                                   "min_grad": 1e-12, "max_wall_time": 3600,
                                                   "fid_params": {"scale_factor": 1.0}},
                          optimization_type="state_transfer")
    norm = float(np.real(np.trace(T.full() @ T.full())))
    return np.asarray(res.optimized_params[0], float), (norm + 1.0 - res.infidelity) / 2.0


def timed(fn, repeats):
    fn()  # warm-up
    walls, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t)
    return statistics.median(walls), walls, out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tau", type=float, default=2.0)
    ap.add_argument("--slices", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    opts = OptimizeOptions(tau=args.tau, drive=1.0, slices=args.slices, starts=1, maxiter=1000, gtol=1e-10)
    dyn, info = build_dynamics("xxz-ring", opts)
    A = terminal_observable(dyn, "energy")
    t_ours, w_ours, (u_ours, nfev) = timed(lambda: ours(dyn, opts), args.repeats)
    t_qoc, w_qoc, (u_qoc, E_qoc_reported) = timed(lambda: qoc(dyn, opts), args.repeats)
    E_ours = evaluate(dyn, u_ours, opts.tau, A, grad=False)[0]
    E_qoc = evaluate(dyn, u_qoc, opts.tau, A, grad=False)[0]
    print(f"xxz-ring N = 6 (block {info['block']}, {info['dim']} states), lambda = 1, |f| <= 1, "
          f"{opts.slices} slices, tau = {opts.tau:g}, start f = 0.5")
    print(f"collective_qc  E(tau) = {E_ours:.12f}  ({nfev} evaluations)  wall {t_ours * 1e3:.1f} ms "
          f"(median of {args.repeats}: {', '.join(f'{w * 1e3:.1f}' for w in w_ours)})")
    print(f"qutip-qoc      E(tau) = {E_qoc:.12f}  (its own figure {E_qoc_reported:.12f})  wall {t_qoc * 1e3:.1f} ms "
          f"(median of {args.repeats}: {', '.join(f'{w * 1e3:.1f}' for w in w_qoc)})")
    print(f"relative difference of the optima: {abs(E_ours - E_qoc) / abs(E_qoc):.2e}; "
          f"max |f_ours - f_qoc| = {np.max(np.abs(u_ours - u_qoc)):.2e}")
    print(f"speed ratio (qutip-qoc / collective_qc): {t_qoc / t_ours:.1f}x")
    return {"E_ours": E_ours, "E_qoc": E_qoc, "t_ours": t_ours, "t_qoc": t_qoc}


if __name__ == "__main__":
    main()
