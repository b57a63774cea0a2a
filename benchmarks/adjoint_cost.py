"""Benchmark: adjoint sensitivities of a closed N = 12 run with 100 parameters against the run alone.

Complete graph of 12 spin-1/2 sites (``all-to-all``, J = 0.3, Delta = 0.5), field charger, drive 0.5,
|g...g>, t in [0, 20] (201 samples), ``method="closed"``. The 100 parameters: omega@i (12 sites),
J@(i,j) (66 bonds), Delta@(0,j) and Delta@(1,j) for 18 bonds, and the globals J, Delta, omega, drive.
Times ``charge`` without sensitivities (the run with C_Q alone) and with the 100 sensitivities in
``sensitivity_mode="adjoint"``, each the median of --repeat warm runs (one warm-up run each first),
and prints the ratio (target <= 3). With --check, a few of the 100 are compared with forward mode.

With --exact: a density-matrix case instead, XXZ ring of N = 6 (J = 0.3, Delta = 0.5, dephasing 0.05,
method exact, t in [0, 10], 101 samples) with 23 parameters (omega@i, J@(i,i+1), Delta@(i,i+1), J, Delta,
omega, drive, dephasing): run alone, adjoint and forward mode (each the median of --repeat; forward
mode takes about a minute per run), and the largest relative difference between the two modes.

Usage: NUMBA_NUM_THREADS=1 OMP_NUM_THREADS=1 python benchmarks/adjoint_cost.py [--repeat 3] [--check] [--exact]
"""

from __future__ import annotations

import argparse
import statistics
import time

import collective_qc as cqc

N = 12
RUN = dict(drive=0.5, params={"N": N}, method="closed", initial="product")
CHECKED = ("J", "J@(3,7)", "omega@5", "Delta@(0,4)", "drive")


def names() -> list[str]:
    out = [f"omega@{i}" for i in range(N)]
    out += [f"J@({i},{j})" for i in range(N) for j in range(i + 1, N)]
    out += [f"Delta@({i},{j})" for i in (0, 1) for j in range(i + 1, i + 10)]
    return out + ["J", "Delta", "omega", "drive"]


EXACT_N = 6
EXACT = dict(drive=0.5, params={"N": EXACT_N, "J": 0.3, "Delta": 0.5}, method="exact", dephasing=0.05,
             initial="product", t_max=10.0, n_times=101)


def exact_names() -> list[str]:
    bonds = [(i, (i + 1) % EXACT_N) for i in range(EXACT_N)]
    out = [f"omega@{i}" for i in range(EXACT_N)] + [f"J@({i},{j})" for i, j in bonds]
    return out + [f"Delta@({i},{j})" for i, j in bonds] + ["J", "Delta", "omega", "drive", "dephasing"]


def timed(repeat: int, model="all-to-all", run=None, warm=True, **kwargs) -> tuple[float, object]:
    run = RUN if run is None else run
    if warm:
        cqc.charge(model, **run, **kwargs)  # warm-up
    walls, res = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = cqc.charge(model, **run, **kwargs)
        walls.append(time.perf_counter() - t0)
    return statistics.median(walls), res


def exact_case(repeat: int):
    """The density-matrix case: run alone, adjoint and forward mode, their agreement."""
    params = exact_names()
    run_s, base = timed(repeat, "xxz-ring", EXACT)
    adj_s, adj = timed(repeat, "xxz-ring", EXACT, sensitivities=params, sensitivity_mode="adjoint")
    fwd_s, fwd = timed(repeat, "xxz-ring", EXACT, warm=False, sensitivities=params, sensitivity_mode="forward")
    info = adj.metadata["sensitivity"]
    print(f"XXZ ring N = {EXACT_N}, dephasing 0.05, exact (dim {adj.metadata['dim']}), tau_c = {base.tau_c:.6g}, "
          f"{len(params)} parameters; {info['quadrature']}; {info['checkpoints']}")
    print(f"run alone {run_s:.2f} s; run + adjoint {adj_s:.2f} s; run + forward {fwd_s:.2f} s "
          f"(medians of {repeat}); forward / adjoint {fwd_s / adj_s:.1f}")
    worst = max(abs(adj.sensitivities[n][k] - fwd.sensitivities[n][k]) / max(abs(fwd.sensitivities[n][k]), 1e-300)
                for n in params for k in ("energy_max", "tau_c", "power_max", "capacitance_at_tau_c")
                if fwd.sensitivities[n][k] is not None and abs(fwd.sensitivities[n][k]) > 1e-9)
    print(f"largest relative difference adjoint - forward (|value| > 1e-9): {worst:.1e}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="compare a few sensitivities with forward mode")
    ap.add_argument("--exact", action="store_true", help="the density-matrix case (N = 6 ring with dephasing)")
    a = ap.parse_args()
    if a.exact:
        return exact_case(a.repeat)
    params = names()
    assert len(params) == 100, len(params)
    run_s, base = timed(a.repeat)
    adj_s, res = timed(a.repeat, sensitivities=params, sensitivity_mode="adjoint")
    info = res.metadata["sensitivity"]
    print(f"N = {N} complete graph, dim {res.metadata['dim']}, tau_c = {base.tau_c:.6g}, "
          f"t_p = {info['power_max_time']:.6g}")
    print(f"run with C_Q alone: {run_s:.2f} s (median of {a.repeat})")
    print(f"run + adjoint sensitivities of {len(params)} parameters: {adj_s:.2f} s (median of {a.repeat}); "
          f"sensitivity part {info['wall_time_s']:.2f} s; {info['quadrature']}")
    print(f"ratio: {adj_s / run_s:.2f} (target <= 3)")
    print(f"reproduces the run: {info['reproduces_run']}; "
          f"backward reconstruction {info['backward_reconstruction']:.1e}")
    if a.check:
        t0 = time.perf_counter()
        fwd = cqc.charge("all-to-all", **RUN, sensitivities=list(CHECKED), sensitivity_mode="forward")
        print(f"forward mode, {len(CHECKED)} parameters: {time.perf_counter() - t0:.1f} s")
        worst = 0.0
        for n in CHECKED:
            for key in ("energy_max", "tau_c", "power_max", "capacitance_at_tau_c"):
                x, y = res.sensitivities[n][key], fwd.sensitivities[n][key]
                err = abs(x - y) / max(abs(y), 1e-300)
                worst = max(worst, err)
                print(f"  d{key}/d{n}: adjoint {x:.10g}  forward {y:.10g}  relative difference {err:.1e}")
        print(f"largest relative difference: {worst:.1e}")


if __name__ == "__main__":
    main()
