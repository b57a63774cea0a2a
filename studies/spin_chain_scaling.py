"""Collective advantage of spin-1/2 batteries: Ising, XXZ and Heisenberg couplings on chains, rings, complete graphs.

Every model is H_B = sum_i (omega0/2) sz_i + J sum_<ij> (Jx sx sx + Jy sy sy + Jz sz sz)/J (Pauli convention),
charged by the classical field V = sum_i sx_i with lambda = --drive from the ground state of H_B:

- Ising:       Jz = J, Jx = Jy = 0          (ising-chain, ising-ring, and the complete graph built here)
- XXZ:         Jx = Jy = J, Jz = J Delta    (xxz-chain, xxz-ring, all-to-all), Delta = --delta (0.5)
- Heisenberg:  the XXZ models with Delta = 1

Default J = -0.3 (ferromagnetic): the ground state of H_B is then |g...g> on chains and rings, the
many-body version of the paper's rho(0) = |g><g| (on the complete graph the fixed, unscaled J makes
the ground state a Dicke state; see the README). Gamma_X = X(N) / (N X(1)) against N independent
two-level capacitors (Gamma_tau = tau_c(1)/tau_c(N)), from collective_qc.compare.

Closed dynamics for N up to --nmax (12; 14 with --full), and with local dephasing gamma = --gamma
(exact Lindblad, method='exact') for N up to --nmax-noise (6). Window t in [0, 20], 201 samples.

Usage: python studies/spin_chain_scaling.py [--out DIR] [--quick] [--full] [--J -0.3] [--drive 0.5]
Writes spin_chain_scaling.{csv,json} and PNG figures to studies/out/spin_chain_scaling/.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import time

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402

import collective_qc as cqc  # noqa: E402
from collective_qc.physics.model import Model, Param  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "spin_chain_scaling"
GAMMAS = [("gamma_power", r"$\Gamma_P$"), ("gamma_tau", r"$\Gamma_\tau$"), ("gamma_capacitance", r"$\Gamma_C$"),
          ("gamma_energy", r"$\Gamma_E$"), ("gamma_average_power", r"$\Gamma_{\langle P\rangle}$")]


class IsingComplete(Model):
    """Ising model on the complete graph: H_B = sum_i (omega/2) sz_i + J sum_{i<j} sz_i sz_j (not in the catalog)."""

    name = "ising-complete"
    params = (Param("N", int, 6, "number of sites", "positive"), Param("omega", float, 1.0, "splitting"),
              Param("J", float, 0.3, "Ising coupling (Pauli convention)"))

    def graph(self) -> nx.Graph:
        v = self.values
        g = nx.Graph()
        for i in range(v["N"]):
            g.add_node(i, omega=v["omega"])
        for i, j in nx.complete_graph(v["N"]).edges:
            g.add_edge(i, j, Jz=v["J"])
        return g


def families(J, delta):
    """(interaction, geometry, model, params, smallest N)."""
    out = []
    for inter, d in [("Ising", None), ("XXZ", delta), ("Heisenberg", 1.0)]:
        for geo in ("chain", "ring", "complete"):
            if inter == "Ising":
                model = {"chain": "ising-chain", "ring": "ising-ring", "complete": IsingComplete}[geo]
                params = {"J": J}
            else:
                model = {"chain": "xxz-chain", "ring": "xxz-ring", "complete": "all-to-all"}[geo]
                params = {"J": J, "Delta": d}
            out.append((inter, geo, model, params, 3 if geo == "ring" else 2))
    return out


def run(fams, nmax, drive, noise, t_max, n_times, log):
    rows, curves = [], {}
    for inter, geo, model, params, nmin in fams:
        sizes = list(range(nmin, nmax + 1))
        t0 = time.perf_counter()
        opts = dict(t_max=t_max, n_times=n_times)
        if noise:
            opts.update(method="exact", dephasing=noise)
        comp = cqc.compare(model, sizes, drive=drive, params=params, **opts)
        dt = time.perf_counter() - t0
        for r in comp.rows:
            res = comp.results[r["n_sites"]]
            name = model if isinstance(model, str) else model.name
            rows.append({"interaction": inter, "geometry": geo, "model": name,
                         "J": params["J"], "Delta": params.get("Delta"), "drive": drive, "dephasing": noise,
                         "N": r["n_sites"], "method": r["method"],
                         "initial_members": res.metadata["initial"]["members"],
                         "tau_c": r["tau_c"], "E_max_per_site": r["energy_max_per_site"],
                         "P_max_per_site": r["power_max_per_site"],
                         "C_star_per_site": r["capacitance_at_tau_c_per_site"],
                         "avgP_max_per_site": r["average_power_max_per_site"],
                         **{k: r[k] for k, _ in GAMMAS}})
        last = comp.rows[-1]
        big = comp.results[last["n_sites"]]
        curves[(inter, geo)] = (big.n_sites, big.times, big.energy / big.n_sites)
        curves["two-level"] = (1, comp.baseline.times, comp.baseline.energy)
        log(f"  {inter:10s} {geo:8s} N={sizes[0]}..{sizes[-1]} ({dt:5.1f} s)  at N={last['n_sites']}: "
            + "  ".join(f"{k.replace('gamma_', 'G_')}={_f(last[k])}" for k, _ in GAMMAS))
    return rows, curves


def _f(x):
    return "  n/a" if x is None else f"{x:.3f}"


def _log_axes(ax, xticks):
    from matplotlib.ticker import (
        FixedLocator,
        FormatStrFormatter,
        MaxNLocator,
        NullFormatter,
        NullLocator,
        ScalarFormatter,
    )

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(xticks))
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(NullFormatter())
    lo, hi = ax.get_ylim()
    if hi / lo < 20:  # narrow range: evenly spaced labelled ticks (a log locator may label only one)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=7))
        ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot(rows, path, title):
    fig, axes = plt.subplots(2, 3, figsize=(13, 8))
    colors = {"Ising": "C0", "XXZ": "C1", "Heisenberg": "C2"}
    styles = {"chain": ("o", "-"), "ring": ("s", "--"), "complete": ("^", ":")}
    nmax = max(r["N"] for r in rows)
    xticks = [n for n in (2, 3, 4, 5, 6, 8, 10, 12, 14) if n <= nmax]
    for ax, (key, lab) in zip(axes.flat, GAMMAS):
        neg = False
        for inter in colors:
            for geo, (mk, ls) in styles.items():
                pts = [(r["N"], r[key]) for r in rows
                       if r["interaction"] == inter and r["geometry"] == geo and r[key] is not None]
                pos = [(n, g) for n, g in pts if g > 0]
                neg |= len(pos) < len(pts)
                if pos:
                    ax.plot(*zip(*pos), marker=mk, ls=ls, color=colors[inter], ms=4, lw=1.2, label=f"{inter} {geo}")
        _log_axes(ax, xticks)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_xlabel("N")
        ax.set_ylabel(lab + " (log scale)")
        ax.set_title(lab + (" (values <= 0 not shown)" if neg else ""), fontsize=10)
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    axes.flat[-1].axis("off")
    axes.flat[-1].legend(handles, labels, loc="center", fontsize=9, title="black line: Gamma = 1 (no advantage)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def plot_per_site(rows, curves, path, title):
    fig, axes = plt.subplots(2, 2, figsize=(12, 8))
    axes = axes.flat
    colors = {"Ising": "C0", "XXZ": "C1", "Heisenberg": "C2"}
    styles = {"chain": ("o", "-"), "ring": ("s", "--"), "complete": ("^", ":")}
    for ax, (key, lab) in zip(axes, [("tau_c", r"$\tau_c$ [1/omega0]"), ("E_max_per_site", "E_max / N [omega0]"),
                                     ("P_max_per_site", "P_max / N [omega0^2]")]):
        for inter in colors:
            for geo, (mk, ls) in styles.items():
                pts = [(r["N"], r[key]) for r in rows
                       if r["interaction"] == inter and r["geometry"] == geo and r[key] is not None]
                if pts:
                    ax.plot(*zip(*pts), marker=mk, ls=ls, color=colors[inter], ms=4, lw=1.2, label=f"{inter} {geo}")
        ax.set_xlabel("N")
        ax.set_ylabel(lab)
        ax.grid(True, lw=0.3, alpha=0.5)
    axes[0].legend(fontsize=7)
    ax = axes[3]
    n1, t1, e1 = curves["two-level"]
    ax.plot(t1, e1, "k-", lw=2, label="two-level capacitor (N = 1)")
    for inter in colors:
        for geo, (_mk, ls) in styles.items():
            if (inter, geo) in curves:
                n, t, e = curves[(inter, geo)]
                ax.plot(t, e, ls=ls, color=colors[inter], lw=1.0, label=f"{inter} {geo}, N = {n}")
    ax.set_xlim(0, 10)
    ax.set_xlabel("t [1/omega0]")
    ax.set_ylabel("E(t) / N [omega0]")
    ax.set_title("stored energy per site at the largest N (Heisenberg = two-level exactly)", fontsize=9)
    ax.legend(fontsize=6, ncol=2, loc="upper right")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", NAME))
    ap.add_argument("--quick", action="store_true", help="N <= 8 closed, N <= 5 with noise")
    ap.add_argument("--full", action="store_true", help="N <= 14 closed (several minutes)")
    ap.add_argument("--J", type=float, default=-0.3, help="coupling J (Pauli convention), default -0.3")
    ap.add_argument("--delta", type=float, default=0.5, help="XXZ anisotropy (default 0.5)")
    ap.add_argument("--drive", type=float, default=0.5)
    ap.add_argument("--gamma", type=float, default=0.05, help="dephasing rate of the noisy runs")
    ap.add_argument("--nmax", type=int, default=None)
    ap.add_argument("--nmax-noise", type=int, default=None)
    a = ap.parse_args(argv)
    nmax = a.nmax or (8 if a.quick else 14 if a.full else 12)
    nmax_noise = a.nmax_noise or (5 if a.quick else 6)
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    fams = families(a.J, a.delta)
    print(f"closed dynamics, J = {a.J}, Delta(XXZ) = {a.delta}, drive = {a.drive}, N <= {nmax}:")
    rows, curves = run(fams, nmax, a.drive, 0.0, 20.0, 201, print)
    print(f"dephasing gamma = {a.gamma} (exact Lindblad), N <= {nmax_noise}:")
    rows_noise, _ = run(fams, nmax_noise, a.drive, a.gamma, 20.0, 201, print)
    allrows = rows + rows_noise
    with open(os.path.join(a.out, f"{NAME}.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(allrows[0]))
        w.writeheader()
        w.writerows(allrows)
    with open(os.path.join(a.out, f"{NAME}.json"), "w") as fh:
        json.dump({"J": a.J, "Delta_xxz": a.delta, "drive": a.drive, "dephasing": a.gamma, "window": [0, 20, 201],
                   "rows": allrows}, fh, indent=1, default=lambda o: None if isinstance(o, float) and math.isnan(o)
                  else str(o))
    plot(rows, os.path.join(a.out, f"{NAME}_closed.png"),
         f"closed, ground state of H_B, J = {a.J}, Delta_XXZ = {a.delta}, drive = {a.drive}")
    plot(rows_noise, os.path.join(a.out, f"{NAME}_dephasing.png"),
         f"local dephasing gamma = {a.gamma} (exact Lindblad), J = {a.J}, drive = {a.drive}; "
         f"baseline: two-level capacitor with the same dephasing")
    plot_per_site(rows, curves, os.path.join(a.out, f"{NAME}_per_site.png"),
                  "closed: per-site figures of merit (two-level capacitor at N = 1)")
    print(f"wrote {a.out}/  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
