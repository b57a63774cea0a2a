"""Parallel vs global vs k-local charging of N spin-1/2 sites at matched operator norm.

Battery: N free sites, H_B = sum_i (omega/2) sz_i, initial state |g...g>. Chargers
(collective_qc.physics.chargers): the parallel field sum_i sx_i (norm N), the global charger
prod_i s+_i + h.c. and the k-local chargers sum_{|S|=k} prod_{i in S} s+_i + h.c., each
rescaled to the parallel field's norm N (``norm="field"``). Gamma_P = P_max(N) / (N P_max(1))
against N parallel single-site chargers of the same per-site norm (collective_qc.compare),
in two conventions: H = H_B + lambda V (the framework's default) and H = lambda V while
charging (battery off, Binder et al. 2015 / Campaioli et al. 2017). Each row carries the
rigorous bound Gamma_P <= |lambda| spread(V) spread(H_B) / (2 N P_max(1)) of its closed run
(collective_qc.analysis.bounds; = N for battery off: the extensive bound of Gyhm, Safranek and Rosa 2022);
a row above it would be a failed run and stops the study.

Parts: (A) Gamma_P vs N (closed), (B) Gamma_P vs k at fixed N (closed), (C) with local
dephasing (exact Lindblad) at small N. Figures on log-log axes with the bounds drawn in.

Usage: python studies/charger_scaling.py [--config FILE] [--out DIR] [--quick]
Writes charger_scaling.{csv,json} and PNG figures to studies/out/charger_scaling/.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402
import numpy as np  # noqa: E402

try:  # noqa: E402
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from collective_qc.compare import compare  # noqa: E402
from collective_qc.physics.model import Model, Param  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "charger_scaling"


class FreeSpins(Model):
    """N free spin-1/2 sites on a ring of zero couplings: H_B = sum_i (omega/2) sz_i (not in the catalog).

    The zero-coupling ring lets closed runs use momentum/parity blocks (every charger here is
    permutation invariant).
    """

    name = "free-spins"
    params = (Param("N", int, 4, "number of sites", "positive"), Param("omega", float, 1.0, "splitting omega"))

    def graph(self) -> nx.Graph:
        n = self.values["N"]
        g = nx.cycle_graph(n) if n >= 3 else nx.path_graph(n)
        for i in g.nodes:
            g.nodes[i]["omega"] = self.values["omega"]
        for u, v in g.edges:
            g.edges[u, v]["J"] = 0.0
        return g

    def ring_order(self):
        n = self.values["N"]
        return list(range(n)) if n >= 3 else None


def _rows(cmp, part, charger, convention, gamma=0.0):
    out = []
    for r in cmp.rows:
        if r.get("failed"):
            raise SystemExit(f"{part} {charger} {convention} N={r['n_sites']}: {r['failed']}")
        out.append({"part": part, "charger": charger, "convention": convention, "gamma": gamma,
                    "N": r["n_sites"], "k": _k(charger, r["n_sites"]), "gamma_power": r["gamma_power"],
                    "gamma_power_bound": r.get("gamma_power_bound"), "P_max": r["power_max"],
                    "E_max": r["energy_max"], "tau_c": r["tau_c"]})
    return out


def _k(charger, n):
    return {"field": 1, "global": n}.get(charger) or int(charger.split("=")[1])


def run(cfg: dict, quick: bool) -> list[dict]:
    b, c, ks, dp = cfg["battery"], cfg["closed"], cfg["k_sweep"], cfg["dephasing"]
    sizes = [n for n in c["sizes"] if not quick or n <= 6]
    model = FreeSpins(N=2, omega=b["omega"])
    rows = []
    for conv in c["conventions"]:
        times = np.linspace(0.0, c["t_max"], c["n_times"])
        for ch in c["chargers"]:
            ok = [n for n in sizes if _k(ch, n) <= n]
            cmp = compare(model, ok, b["drive"], times=times, method="closed", charger=ch, norm="field",
                          battery_off_while_charging=conv == "battery-off")
            rows += _rows(cmp, "A", ch, conv)
    n = min(ks["n"], 6) if quick else ks["n"]
    for k in [k for k in ks["ks"] if k <= n]:
        cmp = compare(model, [n], b["drive"], times=np.linspace(0.0, c["t_max"], c["n_times"]), method="closed",
                      charger=f"k-local:k={k}", norm="field")
        rows += _rows(cmp, "B", f"k-local:k={k}", "battery-on")
    times = np.linspace(0.0, dp["t_max"], dp["n_times"])
    for ch in dp["chargers"]:
        ok = [n for n in dp["sizes"] if _k(ch, n) <= n and (not quick or n <= 4)]
        cmp = compare(model, ok, b["drive"], times=times, method="exact", charger=ch, norm="field",
                      dephasing=dp["gamma"])
        rows += _rows(cmp, "C", ch, "battery-on", dp["gamma"])
    return rows


def plot(rows: list[dict], out: str) -> list[str]:
    files = []
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.6))
    for ax, (part, conv, title) in zip(axes, [("A", "battery-on", "closed, H = H_B + lambda V"),
                                              ("A", "battery-off", "closed, H = lambda V (battery off)"),
                                              ("C", "battery-on", "dephasing, exact Lindblad")], strict=True):
        sel = [r for r in rows if r["part"] == part and r["convention"] == conv]
        for ch in dict.fromkeys(r["charger"] for r in sel):
            pts = [(r["N"], r["gamma_power"]) for r in sel if r["charger"] == ch]
            ax.plot(*zip(*pts), "o-", label=ch)
        ns = np.array(sorted({r["N"] for r in sel}))
        ax.plot(ns, ns, "k--", lw=1, label="Gamma_P = N (extensive bound)")
        bound = sorted({(r["N"], r["gamma_power_bound"]) for r in sel if r["gamma_power_bound"] is not None})
        if bound and part == "A":
            bn = {}
            for n_, v in bound:
                bn[n_] = max(bn.get(n_, 0.0), v)
            ax.plot(list(bn), list(bn.values()), "k:", lw=1, label="speed-limit bound (largest over chargers)")
        ax.set(xscale="log", yscale="log", xlabel="N", ylabel="Gamma_P", title=title)
        ax.legend(fontsize=7)
    fig.tight_layout()
    files.append(os.path.join(out, "gamma_power_vs_N.png"))
    fig.savefig(files[-1], dpi=120)
    plt.close(fig)

    sel = [r for r in rows if r["part"] == "B"]
    if sel:
        fig, ax = plt.subplots(figsize=(5.5, 4.3))
        ax.plot([r["k"] for r in sel], [r["gamma_power"] for r in sel], "o-", label=f"k-local, N = {sel[0]['N']}")
        ax.plot([r["k"] for r in sel], [r["gamma_power_bound"] for r in sel], "k:", label="speed-limit bound")
        ax.plot([r["k"] for r in sel], [r["k"] for r in sel], "k--", lw=1, label="Gamma_P = k")
        ax.set(xscale="log", yscale="log", xlabel="k (sites per charging term)", ylabel="Gamma_P",
               title="matched norm, H = H_B + lambda V")
        ax.legend(fontsize=8)
        fig.tight_layout()
        files.append(os.path.join(out, "gamma_power_vs_k.png"))
        fig.savefig(files[-1], dpi=120)
        plt.close(fig)
    return files


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=os.path.join(HERE, "configs", "charger_scaling.toml"))
    ap.add_argument("--out", default=os.path.join(HERE, "out", NAME))
    ap.add_argument("--quick", action="store_true", help="N <= 6 (closed), N <= 4 (dephasing)")
    args = ap.parse_args(argv)
    with open(args.config, "rb") as fh:
        cfg = tomllib.load(fh)
    os.makedirs(args.out, exist_ok=True)
    t0 = time.perf_counter()
    rows = run(cfg, args.quick)
    with open(os.path.join(args.out, f"{NAME}.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(args.out, f"{NAME}.json"), "w") as fh:
        json.dump({"config": cfg, "rows": rows}, fh, indent=1)
    files = plot(rows, args.out)
    print(f"{'part':4} {'charger':12} {'convention':11} {'N':>3} {'k':>3} {'Gamma_P':>9} {'bound':>9}")
    for r in rows:
        print(f"{r['part']:4} {r['charger']:12} {r['convention']:11} {r['N']:3d} {r['k']:3d} "
              f"{r['gamma_power']:9.4f} {r['gamma_power_bound'] or float('nan'):9.4f}")
    print(f"wrote {args.out}: {NAME}.csv, {NAME}.json, {', '.join(os.path.basename(f) for f in files)} "
          f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
