"""Optimal charging of the XXZ ring: best E(tau)/N against tau and N, against the constant and bang-bang drives.

Battery: the catalog's ``xxz-ring`` (omega = 1, J = 0.3, Delta = 0.5), N = 3 ... 8, 10, 12 sites (a ring
needs N >= 3; odd N have a two-fold degenerate ground manifold, charged as its uniform mixture in the
full 2^N space, which is why N = 9, 11 are left out on a 2-core machine), from its ground state;
charger V = sum_i sx_i with lambda = 1 and |f| <= 1. For each (N, tau):

- optimal: :func:`collective_qc.design.optimize` (M = 20 free slices, 3 seeded starts, exact gradients);
- constant: f = 1 on [0, tau) (the paper's drive);
- bang-bang: the best single-switch drive f = +1 on [0, s), -1 on [s, tau), s scanned over the 20
  slice boundaries (s = tau is the constant drive), so that it is one of the optimiser's protocols;

closed (in the symmetry block of the ground state that ``charge`` uses) and, for N = 3, 4, 5, with
local dephasing gamma = 0.05 (exact Lindblad on the full 2^N space). Per-site E(tau)/N is compared
with the optimal single site (N = 1, a two-level site: Gamma = E_N / (N E_1)).

Usage: python studies/optimal_charging.py [--quick] [--out DIR]
Writes optimal_charging.csv, optimal_charging.json and PNG figures to studies/out/optimal_charging/;
finished points are kept in points/*.json and skipped on a rerun.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from collective_qc.design import optimize  # noqa: E402
from collective_qc.design.grape import evaluate, terminal_observable  # noqa: E402
from collective_qc.design.options import OptimizeOptions  # noqa: E402
from collective_qc.design.problem import build_dynamics  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "optimal_charging"
TAUS = (0.5, 1.0, 1.5, 2.0, 3.0)
CLOSED_N = (3, 4, 5, 6, 7, 8, 10, 12)  # odd N: a degenerate ground manifold, no block (2^N states)
OPEN_N = (3, 4, 5)  # d = 8, 16, 32: the Lindblad problem on the full 2^N space
GAMMA = 0.05
SLICES, STARTS = 20, 3
SWITCHES = SLICES  # the bang-bang switch on the optimiser's slice grid: bang-bang is one of its protocols


def bang_bang(dyn, tau: float) -> float:
    """Best single-switch drive +1 then -1, switch on one of SWITCHES slice boundaries."""
    A = terminal_observable(dyn, "energy")
    best = -np.inf
    for k in range(1, SWITCHES + 1):
        u = np.where(np.arange(SWITCHES) < k, 1.0, -1.0)
        best = max(best, evaluate(dyn, u, tau, A, grad=False)[0])
    return float(best)


def point(model: str, N: int | None, tau: float, gamma: float) -> dict:
    params = {} if N is None else {"N": N}
    t0 = time.perf_counter()
    res = optimize(model, tau, params=params, drive=1.0, slices=SLICES, starts=STARTS, seed=0, dephasing=gamma,
                   advantage=False)
    dyn, info = build_dynamics(model, OptimizeOptions(tau=tau, params=params, dephasing=gamma))
    return {"model": model, "N": N or 1, "tau": tau, "dephasing": gamma, "optimal": res.objective,
            "constant": res.constant_objective, "bang_bang": bang_bang(dyn, tau), "dim": info["dim"],
            "evaluations": res.evaluations, "amplitudes": res.amplitudes.tolist(),
            "seconds": time.perf_counter() - t0}


def run(out: str, quick: bool) -> list[dict]:
    taus = TAUS[:3] if quick else TAUS
    grid = [("two-level", None, t, g) for g in (0.0, GAMMA) for t in taus]
    grid += [("xxz-ring", n, t, 0.0) for n in (CLOSED_N[:4] if quick else CLOSED_N) for t in taus]
    grid += [("xxz-ring", n, t, GAMMA) for n in (OPEN_N[:1] if quick else OPEN_N) for t in taus]
    os.makedirs(os.path.join(out, "points"), exist_ok=True)
    rows = []
    for model, n, tau, g in grid:
        path = os.path.join(out, "points", f"{model}_N{n or 1}_tau{tau:g}_g{g:g}.json")
        if os.path.exists(path):
            with open(path) as fh:
                rows.append(json.load(fh))
            continue
        row = point(model, n, tau, g)
        with open(path + ".tmp", "w") as fh:
            json.dump(row, fh)
        os.replace(path + ".tmp", path)
        rows.append(row)
        print(f"{model} N = {row['N']} tau = {tau:g} gamma = {g:g}: optimal {row['optimal']:.6f}, constant "
              f"{row['constant']:.6f}, bang-bang {row['bang_bang']:.6f} ({row['seconds']:.1f} s)", flush=True)
    return rows


def write_table(rows: list[dict], out: str) -> None:
    single = {(r["tau"], r["dephasing"]): r["optimal"] for r in rows if r["model"] == "two-level"}
    for r in rows:
        r["gamma_optimal"] = r["optimal"] / (r["N"] * single[(r["tau"], r["dephasing"])])
    cols = ["model", "N", "tau", "dephasing", "optimal", "constant", "bang_bang", "gamma_optimal", "dim",
            "evaluations", "seconds"]
    with open(os.path.join(out, f"{NAME}.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out, f"{NAME}.json"), "w") as fh:
        json.dump({"units": {"E": "omega0", "tau": "1/omega0"}, "rows": rows}, fh, indent=1)


def plot(rows: list[dict], out: str) -> None:
    ring = [r for r in rows if r["model"] == "xxz-ring"]
    for g in sorted({r["dephasing"] for r in ring}):
        fig, axes = plt.subplots(1, 2, figsize=(11, 4))
        sel = [r for r in ring if r["dephasing"] == g]
        for n in sorted({r["N"] for r in sel}):
            pts = sorted((r for r in sel if r["N"] == n), key=lambda r: r["tau"])
            t = [r["tau"] for r in pts]
            line, = axes[0].plot(t, [r["optimal"] / n for r in pts], "o-", label=f"N = {n} optimal")
            axes[0].plot(t, [r["constant"] / n for r in pts], "--", c=line.get_color(), alpha=0.6)
            axes[0].plot(t, [r["bang_bang"] / n for r in pts], ":", c=line.get_color(), alpha=0.6)
        axes[0].set(xlabel="tau [1/omega0]", ylabel="E(tau)/N [omega0]",
                    title=f"XXZ ring, dephasing {g:g}: optimal (o-), bang-bang (:), constant (--)")
        axes[0].legend(fontsize=7, ncol=2)
        for tau in sorted({r["tau"] for r in sel}):
            pts = sorted((r for r in sel if r["tau"] == tau), key=lambda r: r["N"])
            axes[1].plot([r["N"] for r in pts], [r["optimal"] / r["N"] for r in pts], "o-", label=f"tau = {tau:g}")
        axes[1].set(xlabel="N [sites]", ylabel="optimal E(tau)/N [omega0]", title="per-site optimum against N")
        axes[1].legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(out, f"{NAME}_gamma{g:g}.png"), dpi=110)
        plt.close(fig)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", NAME))
    ap.add_argument("--quick", action="store_true", help="N = 3..6, tau <= 1.5, open N = 3 only")
    args = ap.parse_args(argv)
    rows = run(args.out, args.quick)
    write_table(rows, args.out)
    plot(rows, args.out)
    print(f"wrote {args.out}/{NAME}.csv, {NAME}.json and plots")


if __name__ == "__main__":
    main()
