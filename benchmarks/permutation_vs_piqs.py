"""Benchmark (on request, not in CI): the permutation solver against qutip.piqs + mesolve.

1. Side by side in one process at N = --n (40): all-to-all battery (omega = 1, J = 0.05,
   Delta = 0.5, ``representation="collective"``), charger V = sum_i sigma^x_i with lambda = 0.5,
   local dephasing 0.05 (sqrt(g) sigma^z_i) and relaxation 0.02 (sqrt(k) sigma^-_i) on every
   site, |g...g>, t in [0, 10], 101 samples.
   Ours: charge(method="permutation") -> E, P and C_Q = dE/dlambda (exact tangent), at the
   solver's default series_tol 1e-12.
   Reference: qutip.piqs in its Dicke basis, H_B = omega J_z + J (2 J_x^2 + 2 J_y^2 +
   2 Delta J_z^2) - J (2 + Delta) N/2 and V = 2 J_x from piqs.jspin(N); piqs's local dephasing
   acts with J_z^(n) = sigma^z/2 (rate 4 g), its local emission with sigma^- (rate k). piqs has
   no tangent, so its C_Q is a central difference (E(lambda + h) - E(lambda - h)) / 2h: the
   timed piqs run is the dissipator Dicke(...).lindbladian() + three Hamiltonian
   superoperators + three mesolve runs (lambda, lambda +- h).
   Both warm (one untimed run each first), median of --repeats runs, alternating the two codes
   so that the machine load affects both alike; E and C_Q are compared first (max differences
   printed), then the time ratio piqs/ours at tight mesolve tolerances (--tight) and at
   QuTiP's defaults (--loose).
2. Scaling (ours only, --sizes): Kac-normalised J = 1/N, Delta = 0.5, t in [0, 20], 201
   samples: local noise as above at N = 100 (target <= 30 s) and N = 200 (<= 3 min);
   collective emission 0.05 only (no local noise) at N = 1000 (<= 60 s). Each timed once
   (warm kernels); prints the solver's applications (result.metadata["solver"]), the state size
   sum_j (2j + 1)^2 (of the blocks propagated: one, j = N/2, without local noise), the cost
   per stored number and application, and the model applications x state size x (that cost in
   the fastest N = --n run) against the measured time. The solver propagates only an
   excitation window of that state (metadata "excitations": N = 200 stops at 128, N = 1000 with
   collective emission at 32), so the per-number cost printed is an average over numbers it
   never touches there. A pilot over a short window first projects each case's time; one
   projected beyond --budget seconds (default 1 h) is not run and its projection is printed
   instead. Measured (AMD EPYC, 2 cores): N = 40 166x piqs at rtol 1e-10 (75x at QuTiP's
   defaults); N = 100 11.6 s, N = 200 74 s, N = 1000 collective emission 9.2 s.
   --quick keeps only N = 100 (and one timed run per code in part 1 unless --repeats).

Thread settings (NUMBA_NUM_THREADS, OMP_NUM_THREADS, Numba's threads and threading layer), the
CPU and the load average after each part are printed; --json FILE writes every number. The
solver picks its own Numba thread count (collective_qc.core.runtime.run_policy: the usable
cores, at most NUMBA_NUM_THREADS): run with NUMBA_NUM_THREADS=1 to time one thread. On a shared
machine under load, two threads can be much slower than one (each operator application is one
short parallel loop that waits for a descheduled thread), so the single timings are printed
beside the medians.

Usage: python benchmarks/permutation_vs_piqs.py [--n 40] [--repeats 3] [--quick]
       [--sizes 100,200,c1000] [--tight 1e-10,1e-12] [--loose 1e-6,1e-8] [--h 1e-4]
       [--budget 3600] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import collective_qc as cqc
from collective_qc.physics.permutation import permutation_size

LAM, GAMMA, KAPPA, OMEGA, DELTA = 0.5, 0.05, 0.02, 1.0, 0.5
CASES = {  # scaling cases: (N, noise, target seconds)
    "100": (100, {"dephasing": GAMMA, "relaxation": KAPPA}, 30.0),
    "200": (200, {"dephasing": GAMMA, "relaxation": KAPPA}, 180.0),
    "c1000": (1000, {"collective_emission": 0.05}, 60.0),
}


def environment() -> dict:
    """Threads, CPU and load average of this process's machine."""
    import numba

    cpu = platform.processor() or "?"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "NUMBA_NUM_THREADS": os.environ.get("NUMBA_NUM_THREADS"),
            "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"), "numba_threads": numba.get_num_threads(),
            "load": os.getloadavg()}


def run_threads(r) -> dict:
    """Numba threading layer and the thread count the solver's run policy gives run `r`."""
    import numba

    from collective_qc.core.runtime import numba_threads

    return {"layer": numba.threading_layer(), "run_threads": numba_threads(r.metadata["solver"]["state_size"])}


def load() -> str:
    return "load avg " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def ours(n, J, noise, t_max, n_times, options=None):
    """(seconds, result) of one permutation run of the all-to-all battery (collective node)."""
    t0 = time.perf_counter()
    r = cqc.charge("all-to-all", params={"N": n, "J": J, "Delta": DELTA, "omega": OMEGA,
                                         "representation": "collective"},
                   drive=LAM, t_max=t_max, n_times=n_times, initial="product", method="permutation",
                   solver_options=options, **noise)
    return time.perf_counter() - t0, r


def piqs_model(n, J):
    """H_B, V (Dicke basis of qutip.piqs) and |g...g> = |N/2, -N/2><N/2, -N/2|."""
    from qutip import piqs

    jx, jy, jz = piqs.jspin(n)
    hb = OMEGA * jz + J * (2 * jx * jx + 2 * jy * jy + 2 * DELTA * jz * jz) - J * (2 + DELTA) * n / 2
    return hb, 2 * jx, piqs.dicke(n, n / 2, -n / 2)


def piqs_run(n, J, times, h, tol):
    """(seconds, E(t), C_Q(t) central difference) of piqs: the dissipator, three Liouvillians
    and three mesolve runs at lambda, lambda +- h; tol = (rtol, atol)."""
    import qutip as qt
    from qutip import piqs

    hb, v, rho0 = piqs_model(n, J)
    opts = {"rtol": tol[0], "atol": tol[1], "nsteps": 10**6, "progress_bar": False}
    t0 = time.perf_counter()
    diss = piqs.Dicke(n, emission=KAPPA, dephasing=4 * GAMMA).lindbladian()
    e = [np.real(qt.mesolve(diss + qt.liouvillian(hb + lam * v), rho0, times, e_ops=[hb], options=opts).expect[0])
         for lam in (LAM, LAM + h, LAM - h)]
    dt = time.perf_counter() - t0
    e0 = qt.expect(hb, rho0)
    return dt, e[0] - e0, (e[1] - e[2]) / (2 * h)


def compare(a):
    """Part 1: agreement, then the timing at --tight and --loose mesolve tolerances."""
    n, J, times = a.n, 0.05, np.linspace(0.0, 10.0, 101)
    noise = {"dephasing": GAMMA, "relaxation": KAPPA}
    from collective_qc.solvers.solution import SolverOptions

    _, r0 = ours(n, J, noise, 10.0, 101)  # compile the kernels, build the caches
    _, r1 = ours(n, J, noise, 10.0, 101, SolverOptions(series_tol=1e-14))
    conv = (np.max(np.abs(r1.energy - r0.energy)), np.max(np.abs(r1.capacitance - r0.capacitance)))
    out = {"N": n, "h": a.h, "load_before": os.getloadavg(), "ours_1e-14_vs_default": conv}
    print(f"== N={n} all-to-all (J={J}, Delta={DELTA}, lambda={LAM}, dephasing {GAMMA}, relaxation {KAPPA}), "
          f"|g...g>, t in [0, 10], 101 samples; {load()}")
    print(f"ours converged: series_tol 1e-14 vs default 1e-12 changes E by {conv[0]:.1e}, C_Q by {conv[1]:.1e} "
          "(so the differences below are mesolve's and the central difference's)")
    out["threads"] = run_threads(r0)
    print(f"ours runs with {out['threads']['run_threads']} Numba threads, layer {out['threads']['layer']}", flush=True)
    for label, tol in (("tight", a.tight), ("loose", a.loose)):
        piqs_run(n, J, times[:3], a.h, tol)  # warm QuTiP
        t_o, t_q = [], []
        for _ in range(a.repeats):
            dt, r = ours(n, J, noise, 10.0, 101)
            t_o.append(dt)
            dq, e_q, c_q = piqs_run(n, J, times, a.h, tol)
            t_q.append(dq)
        scale_e, scale_c = np.max(np.abs(e_q)), np.max(np.abs(c_q))
        de, dc = np.max(np.abs(r.energy - e_q)), np.max(np.abs(r.capacitance - c_q))
        mo, mq = statistics.median(t_o), statistics.median(t_q)
        s = r.metadata["solver"]
        print(f"[{label}: mesolve rtol {tol[0]:g}, atol {tol[1]:g}]  max|E_ours - E_piqs| = {de:.2e} "
              f"({de / scale_e:.1e} of max|E|), max|C_Q,ours - C_Q,piqs(central diff., h={a.h:g})| = {dc:.2e} "
              f"({dc / scale_c:.1e} of max|C_Q|)")
        print(f"  ours (E, P, C_Q exact tangent; series_tol {s['tolerance']:g}, {s['applications']} applications, "
              f"{s['steps']} steps, state size {s['state_size']}): median {mo:.3f} s  {np.round(t_o, 3).tolist()}")
        print(f"  piqs (dissipator + 3 Liouvillians + 3 mesolve for E and central-difference C_Q): "
              f"median {mq:.3f} s  {np.round(t_q, 3).tolist()}")
        print(f"  ratio piqs/ours = {mq / mo:.1f}x  ({'OK' if mq / mo >= 10 else 'BELOW'} the >= 10x goal); "
              f"{load()}", flush=True)
        out[label] = {"rtol": tol[0], "atol": tol[1], "ours_s": t_o, "piqs_s": t_q, "ratio": mq / mo,
                      "max_dE": de, "rel_dE": de / scale_e, "max_dC": dc, "rel_dC": dc / scale_c,
                      "solver": s, "load_after": os.getloadavg()}
    return out


def pilot(n, noise, budget):
    """Projected (seconds, applications) of a scaling case from runs over [0, t_p], t_p = 20/512
    doubled while the projection exceeds `budget` and the pilot covers < 4 steps (short pilots
    overestimate: each step pays the series' fixed order), up to t_p = 20/8. None: run it."""
    t_p = 20.0 / 512
    while True:
        wall, r = ours(n, 1.0 / n, noise, t_p, 3)
        s = r.metadata["solver"]
        proj = (wall * 20.0 / t_p, s["applications"] * 20.0 / t_p, t_p, s["steps"])
        if proj[0] <= budget:
            return None
        if s["steps"] >= 4 or t_p >= 20.0 / 8:
            return proj
        t_p *= 2


def scaling(keys, c_ref, budget):
    """Part 2: the scaling cases, each timed once (kernels warm); a case whose pilot projects
    more than `budget` seconds is not run, its projection printed instead."""
    rows = []
    print(f"== scaling (ours only): J = 1/N, Delta {DELTA}, lambda {LAM}, t in [0, 20], 201 samples; "
          f"model = applications x state size x {c_ref * 1e9:.1f} ns (fastest N=40 run)")
    print(f"{'case':>20} {'wall s':>9} {'target':>6} {'applications':>12} {'steps':>6} {'size':>9} "
          f"{'ns/(num app)':>12} {'model s':>9}  load")
    for key in keys:
        n, noise, target = CASES[key]
        label = f"N={n} " + ("local" if "dephasing" in noise else "coll. emis.")
        proj = pilot(n, noise, budget)
        if proj is not None:
            size = permutation_size(n, js=None if "dephasing" in noise else [n / 2])
            print(f"{label:>20} {'~' + format(proj[0], '.0f'):>9} {target:>6.0f} {'~' + format(proj[1], '.0f'):>12} "
                  f"{'':>6} {size:>9.0f} {proj[0] / (proj[1] * size) * 1e9:>12.1f} {proj[1] * size * c_ref:>9.0f}  "
                  f"NOT RUN: projected from a pilot over [0, {proj[2]:g}] ({proj[3]} steps) > --budget {budget:g} s; "
                  f"{load()}", flush=True)
            rows.append({"case": key, "N": n, "noise": noise, "projected_s": proj[0],
                         "projected_applications": proj[1], "pilot_t": proj[2], "state_size": size})
            continue
        wall, r = ours(n, 1.0 / n, noise, 20.0, 201)
        s = r.metadata["solver"]
        c = wall / (s["applications"] * s["state_size"])
        print(f"{label:>20} {wall:>9.2f} {target:>6.0f} {s['applications']:>12} {s['steps']:>6} "
              f"{s['state_size']:>9} {c * 1e9:>12.1f} {s['applications'] * s['state_size'] * c_ref:>9.2f}  "
              f"{'OK' if wall <= target else 'OVER'}; {load()}", flush=True)
        rows.append({"case": key, "N": n, "noise": noise, "wall_s": wall, "target_s": target, "solver": s,
                     "ns_per_number_application": c * 1e9, "E_final": float(r.energy[-1]),
                     "load_after": os.getloadavg()})
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40, help="size of the side-by-side run (0: skip)")
    ap.add_argument("--repeats", type=int, default=None, help="timed runs per code (default 3; 1 with --quick)")
    ap.add_argument("--sizes", default="100,200,c1000", help="scaling cases among 100, 200, c1000 ('' to skip)")
    ap.add_argument("--quick", action="store_true", help="scaling: N = 100 only")
    ap.add_argument("--tight", default="1e-10,1e-12", help="mesolve rtol,atol of the fair comparison")
    ap.add_argument("--loose", default="1e-6,1e-8", help="mesolve rtol,atol of the second timing (QuTiP's defaults)")
    ap.add_argument("--h", type=float, default=1e-4, help="lambda step of piqs's central difference")
    ap.add_argument("--budget", type=float, default=3600.0, help="run a scaling case only if projected below (s)")
    ap.add_argument("--json", default=None, help="write every number to this file")
    a = ap.parse_args()
    a.repeats = a.repeats or (1 if a.quick else 3)
    a.tight, a.loose = (tuple(float(x) for x in s.split(",")) for s in (a.tight, a.loose))
    env = environment()
    print(f"CPU {env['cpu']} ({env['cores']} cores); NUMBA_NUM_THREADS={env['NUMBA_NUM_THREADS']}, "
          f"OMP_NUM_THREADS={env['OMP_NUM_THREADS']}, Numba threads {env['numba_threads']}; {load()}", flush=True)
    out = {"environment": env}
    c_ref = None
    if a.n:
        out["compare"] = cmp = compare(a)
        s = cmp["tight"]["solver"]
        c_ref = min(cmp["tight"]["ours_s"] + cmp["loose"]["ours_s"]) / (s["applications"] * s["state_size"])
    keys = [k for k in a.sizes.split(",") if k]
    if a.quick:
        keys = [k for k in keys if k == "100"]
    if keys:
        if c_ref is None:
            wall, r = ours(40, 0.05, {"dephasing": GAMMA, "relaxation": KAPPA}, 10.0, 101)
            wall, r = ours(40, 0.05, {"dephasing": GAMMA, "relaxation": KAPPA}, 10.0, 101)
            c_ref = wall / (r.metadata["solver"]["applications"] * r.metadata["solver"]["state_size"])
        out["scaling"] = scaling(keys, c_ref, a.budget)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(out, f, indent=1, default=float)


if __name__ == "__main__":
    main()
