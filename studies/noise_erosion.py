"""How local dephasing and relaxation erode the collective advantage Gamma as N grows.

Model: the complete-graph XX battery (``all-to-all``, J = -0.3, Delta = 0: H_B = sum_i sz_i/2 +
J sum_{i<j} (sx sx + sy sy)), which has a real closed-system advantage growing with N (Gamma_P,
Gamma_<P>, Gamma_tau > 1; see spin_chain_scaling). Charged by V = sum_i sx_i, lambda = 0.5, from the ground
state of H_B. Noise per site: dephasing sqrt(gamma) sz_i or relaxation sqrt(kappa) s-_i, rates in
--rates (0.01, 0.05, 0.2); each Gamma is against N two-level capacitors with the SAME noise
(collective_qc.compare). Exact Lindblad (method='exact') for N = 1..--nmax (6), and quantum trajectories
(200, with standard errors) at N = --traj-n (8) for dephasing 0.05 (skip with --no-traj). A control with
the charger off (drive 0) measures the energy the noise alone injects into the interacting H_B.
Window t in [0, 8] (161 samples): tau_c lies in [0.9, 2.4] for every run.

Usage: python studies/noise_erosion.py [--out DIR] [--quick] [--nmax 6] [--no-traj] [--J -0.3] [--delta 0]
Writes noise_erosion.{csv,json} and PNG figures to studies/out/noise_erosion/.
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
import numpy as np  # noqa: E402
from matplotlib.ticker import FixedLocator, FormatStrFormatter, MaxNLocator, NullFormatter, NullLocator  # noqa: E402

import collective_qc as cqc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "noise_erosion"
GAMMAS = [("gamma_power", r"$\Gamma_P$"), ("gamma_average_power", r"$\Gamma_{\langle P\rangle}$"),
          ("gamma_tau", r"$\Gamma_\tau$"), ("gamma_energy", r"$\Gamma_E$"), ("gamma_capacitance", r"$\Gamma_C$")]
WINDOW = dict(t_max=8.0, n_times=161)


def run(params, sizes, drive, kind, rate, log, **extra):
    opts = dict(WINDOW)
    if rate > 0:
        opts.update(method=extra.pop("method", "exact"), **{kind: rate})
    opts.update(extra)
    t0 = time.perf_counter()
    comp = cqc.compare("all-to-all", sizes, drive=drive, params=params, **opts)
    dt = time.perf_counter() - t0
    rows = []
    for r in comp.rows:
        row = {"noise": kind if rate > 0 else "closed", "rate": rate, "N": r["n_sites"], "method": r["method"],
               "tau_c": r["tau_c"], "E_max_per_site": r["energy_max_per_site"],
               "P_max_per_site": r["power_max_per_site"], "avgP_max_per_site": r["average_power_max_per_site"],
               "C_star_per_site": r["capacitance_at_tau_c_per_site"]}
        for k, _ in GAMMAS:
            row[k] = r[k]
            row[k + "_stderr"] = r.get(k + "_stderr")
        rows.append(row)
    last = comp.rows[-1]
    log(f"  {kind if rate > 0 else 'closed':10s} rate={rate:<5} N={sizes[0]}..{sizes[-1]} ({dt:5.1f} s)  "
        f"N={last['n_sites']}: " + "  ".join(f"{k.replace('gamma_', 'G_')}={_f(last[k])}" for k, _ in GAMMAS))
    return rows, comp


def _f(x):
    return "n/a" if x is None else f"{x:.3f}"


def _axes(ax, xticks):
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(FixedLocator(xticks))
    ax.xaxis.set_major_formatter(FormatStrFormatter("%d"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    lo, hi = ax.get_ylim()
    if hi / lo < 20:
        ax.yaxis.set_major_locator(MaxNLocator(nbins=7))
        ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.3g"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", NAME))
    ap.add_argument("--quick", action="store_true", help="N <= 5, two rates")
    ap.add_argument("--nmax", type=int, default=None, help="largest N of the exact runs (default 6)")
    ap.add_argument("--rates", default=None, help="comma-separated noise rates (default 0.01,0.05,0.2)")
    ap.add_argument("--no-traj", action="store_true",
                    help="skip the trajectory point at N = --traj-n (dephasing 0.05; ~1 min); --quick skips it too")
    ap.add_argument("--traj-n", type=int, default=8)
    ap.add_argument("--ntraj", type=int, default=200)
    ap.add_argument("--J", type=float, default=-0.3)
    ap.add_argument("--delta", type=float, default=0.0)
    ap.add_argument("--drive", type=float, default=0.5)
    a = ap.parse_args(argv)
    nmax = a.nmax or (5 if a.quick else 6)
    rates = [float(x) for x in (a.rates or ("0.05,0.2" if a.quick else "0.01,0.05,0.2")).split(",")]
    params = {"J": a.J, "Delta": a.delta}
    sizes = list(range(2, nmax + 1))
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    print(f"all-to-all J = {a.J}, Delta = {a.delta}, drive = {a.drive}, window {WINDOW}")
    rows, comps = [], {}
    closed_sizes = sorted(set(sizes + [8, 10]))
    rr, comps[("closed", 0.0)] = run(params, closed_sizes, a.drive, "closed", 0.0, print)
    rows += rr
    for kind in ("dephasing", "relaxation"):
        for rate in rates:
            rr, comps[(kind, rate)] = run(params, sizes, a.drive, kind, rate, print)
            rows += rr
    # control: the same noise with the charger OFF (drive 0): energy the bath alone puts into H_B. For N = 1
    # |g> is invariant (no bath heating); for the interacting ground state the local jumps do not commute
    # with the exchange, so dephasing (an infinite-temperature bath) and relaxation (towards |g...g>, an
    # excited state of the interacting H_B) both heat it.
    bath = {}
    for kind in ("dephasing", "relaxation"):
        for rate in rates:
            for n in sizes:
                res0 = cqc.charge("all-to-all", drive=0.0, params={**params, "N": n}, method="exact",
                                  **{kind: rate}, **WINDOW)
                bath[(kind, rate, n)] = res0
    for r in rows:
        key = (r["noise"], r["rate"], r["N"])
        if key in bath and r["method"] == "exact":
            res0 = bath[key]
            r["bath_power_t0_per_site"] = float(res0.power[0] / r["N"])
            if r["tau_c"] is not None:
                e_bath = float(np.interp(r["tau_c"], res0.times, res0.energy))
                e_max = r["E_max_per_site"] * r["N"]
                r["bath_energy_at_tau_c_over_E_max"] = e_bath / e_max
                base_e = comps[(r["noise"], r["rate"])].baseline.energy_max
                r["gamma_energy_net_of_bath"] = (e_max - e_bath) / (r["N"] * base_e)
    print("  bath-only control (drive 0): P_bath(t=0)/N at N = " + str(nmax) + ": " + ", ".join(
        f"{k[0]} {k[1]}: {bath[k].power[0] / nmax:.3f}" for k in bath if k[2] == nmax))
    if not (a.no_traj or a.quick):
        rr, comps[("dephasing-traj", 0.05)] = run(params, [a.traj_n], a.drive, "dephasing", 0.05, print,
                                                   method="trajectories", ntraj=a.ntraj, seed=1)
        for r in rr:
            r["noise"] = "dephasing"
        rows += rr
    with open(os.path.join(a.out, f"{NAME}.csv"), "w", newline="") as fh:
        fields = list(dict.fromkeys(k for r in rows for k in r))
        w = csv.DictWriter(fh, fieldnames=fields)
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(a.out, f"{NAME}.json"), "w") as fh:
        json.dump({"model": "all-to-all", "params": params, "drive": a.drive, "window": WINDOW, "rates": rates,
                   "rows": rows}, fh, indent=1, default=str)

    # figure 1: Gamma vs N (log-log); rows: dephasing, relaxation; columns: the Gammas
    fig, axes = plt.subplots(2, len(GAMMAS), figsize=(3.6 * len(GAMMAS), 7.2))
    xticks = [n for n in (2, 3, 4, 5, 6, 8, 10) if n <= max(closed_sizes)]
    for i, kind in enumerate(("dephasing", "relaxation")):
        for j, (key, lab) in enumerate(GAMMAS):
            ax = axes[i, j]
            cl = [(r["N"], r[key]) for r in rows if r["noise"] == "closed" and r[key] is not None and r[key] > 0]
            ax.plot(*zip(*cl), "k-o", ms=4, lw=1.5, label="closed")
            for k, rate in enumerate(rates):
                pts = [(r["N"], r[key], r[key + "_stderr"]) for r in rows
                       if r["noise"] == kind and r["rate"] == rate and r[key] is not None and r[key] > 0]
                exact = [p for p in pts if p[2] is None]
                traj = [p for p in pts if p[2] is not None]
                if exact:
                    ax.plot([p[0] for p in exact], [p[1] for p in exact], "o-", color=f"C{k}", ms=4, lw=1.2,
                            label=f"{'gamma' if kind == 'dephasing' else 'kappa'} = {rate}")
                if traj:
                    ax.errorbar([p[0] for p in traj], [p[1] for p in traj], yerr=[p[2] for p in traj], fmt="D",
                                color=f"C{k}", ms=5, capsize=3, label=f"trajectories, rate {rate}")
            ax.axhline(1.0, color="gray", lw=0.8, ls="--")
            _axes(ax, xticks)
            ax.set_xlabel("N")
            ax.set_title(f"{lab}, {kind}", fontsize=9)
            ax.grid(True, which="both", lw=0.3, alpha=0.5)
            if j == 0:
                ax.set_ylabel("Gamma (log scale)")
        axes[i, 0].legend(fontsize=7)
    fig.suptitle(f"complete-graph XX battery (J = {a.J}, Delta = {a.delta}, lambda = {a.drive}): collective "
                 f"advantage vs N under local noise (exact Lindblad; baseline: noisy two-level capacitor)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{NAME}_gamma.png"), dpi=110)
    plt.close(fig)

    # figure 2: E(t)/N at the largest exact N vs the noisy two-level capacitor, per noise and rate
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for ax, kind in zip(axes, ("dephasing", "relaxation")):
        comp = comps[("closed", 0.0)]
        res = comp.results[nmax]
        ax.plot(res.times, res.energy / nmax, "k-", lw=1.6, label=f"closed, N = {nmax}")
        ax.plot(comp.baseline.times, comp.baseline.energy, "k:", lw=1.2, label="closed two-level")
        for k, rate in enumerate(rates):
            c = comps[(kind, rate)]
            ax.plot(c.results[nmax].times, c.results[nmax].energy / nmax, "-", color=f"C{k}", lw=1.2,
                    label=f"rate {rate}, N = {nmax}")
            ax.plot(c.baseline.times, c.baseline.energy, ":", color=f"C{k}", lw=1.0, label=f"rate {rate}, two-level")
        ax.set_xlabel("t [1/omega0]")
        ax.set_title(f"{kind}: stored energy per site (solid: N = {nmax}, dotted: two-level)", fontsize=9)
        ax.legend(fontsize=7, ncol=2)
    axes[0].set_ylabel("E(t)/N [omega0]")
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{NAME}_energy.png"), dpi=110)
    plt.close(fig)

    # figure 3: the bath's share of the stored energy and the net Gamma_E
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for kind, mk in (("dephasing", "o"), ("relaxation", "s")):
        for k, rate in enumerate(rates):
            sel = [r for r in rows if r["noise"] == kind and r["rate"] == rate and "bath_power_t0_per_site" in r]
            ls = "-" if kind == "dephasing" else "--"
            lab = f"{kind} {rate}"
            axes[0].plot([r["N"] for r in sel], [r["bath_power_t0_per_site"] for r in sel], mk + ls, color=f"C{k}",
                         ms=4, label=lab)
            sel2 = [r for r in sel if r.get("bath_energy_at_tau_c_over_E_max") is not None]
            axes[1].plot([r["N"] for r in sel2], [r["bath_energy_at_tau_c_over_E_max"] for r in sel2], mk + ls,
                         color=f"C{k}", ms=4, label=lab)
            axes[2].plot([r["N"] for r in sel2], [r["gamma_energy_net_of_bath"] for r in sel2], mk + ls,
                         color=f"C{k}", ms=4, label=lab)
    cl = [(r["N"], r["gamma_energy"]) for r in rows if r["noise"] == "closed" and r["N"] <= nmax]
    axes[2].plot(*zip(*cl), "k-o", ms=4, label="closed")
    axes[0].set_ylabel("P_bath(t=0) / N [omega0^2]  (charger off)")
    axes[1].set_ylabel("E_bath(tau_c) / E_max  (charger off / on)")
    axes[2].set_ylabel("(E_max - E_bath(tau_c)) / (N E_max(1))")
    axes[0].set_title("power the noise alone injects at t = 0", fontsize=9)
    axes[1].set_title("share of E_max that the bath alone supplies by tau_c", fontsize=9)
    axes[2].set_title("Gamma_E net of bath heating (closed: black)", fontsize=9)
    for ax in axes:
        ax.set_xlabel("N")
        ax.grid(True, lw=0.3, alpha=0.5)
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{NAME}_bath_heating.png"), dpi=110)
    plt.close(fig)

    # summary: erosion at the largest N, Gamma(noisy)/Gamma(closed)
    print(f"erosion at N = {nmax}: Gamma(noisy) / Gamma(closed)")
    cl = {r["N"]: r for r in rows if r["noise"] == "closed"}[nmax]
    for kind in ("dephasing", "relaxation"):
        for rate in rates:
            r = next(x for x in rows if x["noise"] == kind and x["rate"] == rate and x["N"] == nmax)
            print(f"  {kind:10s} {rate:<5}: " + "  ".join(
                f"{k.replace('gamma_', 'G_')} {_f(r[k])} ({_f(None if r[k] is None or not cl[k] else r[k] / cl[k])})"
                for k, _ in GAMMAS)
                + f"  | bath share of E_max {_f(r.get('bath_energy_at_tau_c_over_E_max'))}, "
                  f"net G_E {_f(r.get('gamma_energy_net_of_bath'))}")
    print(f"wrote {a.out}/  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
