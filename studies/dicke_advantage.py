"""Dicke quantum battery: the sqrt(N) collective power advantage of Ferraro et al., PRL 120, 117702 (2018).

H = omega_c a^dag a + omega J_z + lambda 2 J_x (a + a^dag), omega = omega_c = 1 (resonance), lambda = --drives
(Ferraro's lambda' = lambda / omega_c). Initial state: all N spins down and N photons in the cavity.
Collective charger: N spins in one cavity (collective spin j = N/2, exact for this symmetric state).
Parallel charger: N copies of one spin in its own cavity with one photon (``Model.single_site()``).
Figure of merit: the maximal average power max_tau E(tau)/tau (sampled on a fine grid), and the
ratio Gamma_N = P_avg^collective / P_avg^parallel, fitted to a power law N^alpha (log-log) for N >= --fit-min.
The first-maximum figures (tau_c, E_max, P_max, C_Q*) are reported too. Tavis-Cummings (rotating-wave
coupling J_+ a + J_- a^dag) is run with the same parameters for contrast.

Two couplings by default: lambda = 0.05 (Ferraro's weak-coupling case) and 0.3 (ultrastrong: lambda sqrt(N) > 1).

Usage: python studies/dicke_advantage.py [--out DIR] [--quick] [--drives 0.05,0.3] [--nmax 30]
Writes dicke_advantage.{csv,json} and PNG figures to studies/out/dicke_advantage/.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
import warnings

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import collective_qc as cqc  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "dicke_advantage"


def sweep(model, sizes, drive, t_max, n_times, log):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t0 = time.perf_counter()
        comp = cqc.compare(model, sizes, drive=drive, t_max=t_max, n_times=n_times)
        dt = time.perf_counter() - t0
    for w in caught:
        log(f"  WARNING ({model}): {w.message}")
    base = comp.baseline
    rows = []
    for r in comp.rows:
        res = comp.results[r["n_sites"]]
        cut = res.metadata.get("cutoff") or {}
        cav = cut.get("cavity", {})
        rows.append({"model": model, "N": r["n_sites"], "drive": drive,
                     "tau_c": r["tau_c"], "E_max_per_site": r["energy_max_per_site"],
                     "P_max_per_site": r["power_max_per_site"], "C_star_per_site": r["capacitance_at_tau_c_per_site"],
                     "avgP_max_per_site": r["average_power_max_per_site"],
                     "t_of_avgP_max": _t_avg(res),
                     "gamma_average_power": r["gamma_average_power"], "gamma_power": r["gamma_power"],
                     "gamma_tau": r["gamma_tau"], "gamma_energy": r["gamma_energy"],
                     "gamma_capacitance": r["gamma_capacitance"],
                     "gamma_Emax_over_tau": (None if r["tau_c"] is None or base.tau_c is None else
                                             (res.energy_max / res.tau_c)
                                             / (r["n_sites"] * base.energy_max / base.tau_c)),
                     "n_max": cav.get("n_max"), "top_fock_population": cav.get("top_population_max"),
                     "cutoff_converged": cav.get("converged"),
                     "cutoff_status": ("exact (excitations conserved)" if cav.get("exact_by_conservation") else
                                       f"top Fock pop. {cav.get('top_population_max', float('nan')):.1e}"),
                     "dim": res.metadata["dim"],
                     "sector": (res.metadata.get("sector") or {}).get("label")})
    log(f"  {model}: N = {sizes[0]}..{sizes[-1]} in {dt:.1f} s; parallel unit: tau_c = {base.tau_c:.4f}, "
        f"E_max = {base.energy_max:.4f}, max E/t = {base.average_power_max:.5f}")
    return rows, comp


def _t_avg(res):
    t = res.times
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = np.where(t > 0, res.energy / np.where(t > 0, t, 1), -np.inf)
    return float(t[int(np.argmax(avg))])


def fit(rows, key, nmin):
    pts = [(r["N"], r[key]) for r in rows if r["N"] >= nmin and r[key] is not None and r[key] > 0]
    n, g = np.log([p[0] for p in pts]), np.log([p[1] for p in pts])
    (alpha, c), cov = np.polyfit(n, g, 1, cov=True)
    return float(alpha), float(np.sqrt(cov[0, 0])), float(np.exp(c))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", NAME))
    ap.add_argument("--quick", action="store_true", help="N <= 16, coarser grid, weak drive only")
    ap.add_argument("--drives", default=None,
                    help="comma-separated lambda = omega_c lambda' values (default 0.05,0.3; --quick: 0.05)")
    ap.add_argument("--nmax", type=int, default=None)
    ap.add_argument("--fit-min", type=int, default=4)
    a = ap.parse_args(argv)
    nmax = a.nmax or (16 if a.quick else 30)
    drives = [float(x) for x in (a.drives or ("0.05" if a.quick else "0.05,0.3")).split(",")]
    sizes = [n for n in (1, 2, 3, 4, 5, 6, 8, 10, 12, 14, 16, 20, 24, 30, 40, 50) if n <= nmax]
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    n_times = 801 if a.quick else 2001
    rows, fits, comps, windows = [], {}, {}, {}
    for drive in drives:
        t_max = 1.25 * np.pi / (2 * drive)  # past the parallel unit's first maximum pi/(2 lambda)
        windows[drive] = t_max
        print(f"drive lambda = {drive}, omega = omega_c = 1, t in [0, {t_max:.1f}] ({n_times} samples)")
        for model in ("dicke", "tavis-cummings"):
            rr, comp = sweep(model, sizes, drive, t_max, n_times, print)
            rows += rr
            comps[(drive, model)] = (rr, comp)
            for key in ("gamma_average_power", "gamma_power", "gamma_tau", "gamma_Emax_over_tau"):
                try:
                    fits[f"{model}:{drive}:{key}"] = dict(zip(("alpha", "alpha_stderr", "prefactor"),
                                                              fit(rr, key, a.fit_min)))
                except Exception:  # too few points
                    fits[f"{model}:{drive}:{key}"] = None
    with open(os.path.join(a.out, f"{NAME}.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(a.out, f"{NAME}.json"), "w") as fh:
        json.dump({"drives": drives, "t_max": {str(k): v for k, v in windows.items()}, "n_times": n_times,
                   "fit_min_N": a.fit_min, "fits": fits, "rows": rows}, fh, indent=1, default=str)

    # figure 1: Gamma vs N, log-log, with fits (rows: drives, columns: models)
    fig, axes = plt.subplots(len(drives), 2, figsize=(12, 4.4 * len(drives)), squeeze=False)
    for i, drive in enumerate(drives):
        for ax, model in zip(axes[i], ("dicke", "tavis-cummings")):
            rr, _ = comps[(drive, model)]
            n = np.array([r["N"] for r in rr])
            for key, lab, mk in (("gamma_average_power", r"$\Gamma$: max$_\tau$ E/$\tau$ ratio", "o"),
                                 ("gamma_Emax_over_tau", r"$E_{max}/\tau_c$ ratio", "s"),
                                 ("gamma_power", r"$\Gamma_P$ (instantaneous P$_{max}$)", "^"),
                                 ("gamma_tau", r"$\Gamma_\tau = \tau_c(1)/\tau_c(N)$", "v")):
                y = np.array([np.nan if r[key] is None else r[key] for r in rr])
                f = fits.get(f"{model}:{drive}:{key}")
                lab2 = lab + (f": fit N^{f['alpha']:.3f}" if f else "")
                ax.loglog(n, y, marker=mk, ls="", ms=5, label=lab2)
                if f and key == "gamma_average_power":
                    nn = np.linspace(a.fit_min, n.max(), 50)
                    ax.loglog(nn, f["prefactor"] * nn ** f["alpha"], "-", lw=0.8, color="C0")
            ax.loglog(n, np.sqrt(n), "k--", lw=0.8, label=r"$\sqrt{N}$")
            ax.axhline(1, color="gray", lw=0.6)
            ax.set_xlabel("N (two-level sites)")
            ax.set_ylabel("collective / parallel")
            ax.set_title(f"{model}: lambda = {drive}, N photons vs N x (1 atom + 1 photon); fit N >= {a.fit_min}",
                         fontsize=9)
            ax.legend(fontsize=7)
            ax.grid(True, which="both", lw=0.3, alpha=0.5)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{NAME}_gamma.png"), dpi=110)
    plt.close(fig)

    # figure 2: E(t)/N for a few N, both models, with the parallel unit
    fig, axes = plt.subplots(len(drives), 2, figsize=(12, 4.0 * len(drives)), squeeze=False)
    for i, drive in enumerate(drives):
        for ax, model in zip(axes[i], ("dicke", "tavis-cummings")):
            comp = comps[(drive, model)][1]
            ax.plot(comp.baseline.times, comp.baseline.energy, "k-", lw=1.5, label="parallel (per site)")
            for k, n in enumerate([s for s in (2, 4, 10, 30) if s in comp.results]):
                res = comp.results[n]
                ax.plot(res.times, res.energy / n, lw=1.0, color=f"C{k}", label=f"collective N = {n}")
                if res.tau_c is not None:
                    ax.axvline(res.tau_c, color=f"C{k}", lw=0.5, ls=":")
            ax.set_xlabel("t [1/omega0]")
            ax.set_ylabel("E(t)/N [omega0]")
            ax.set_title(f"{model}, lambda = {drive}: stored energy per site (dotted: tau_c)", fontsize=9)
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{NAME}_energy.png"), dpi=110)
    plt.close(fig)

    print(f"{'model':>15} {'lambda':>6} {'N':>3} {'tau_c':>7} {'E_max/N':>8} {'maxE/t/N':>9} {'G_avgP':>7} {'G_P':>6} "
          f"{'G_tau':>6} {'n_max':>5} cutoff")
    for r in rows:
        if r["N"] in (1, 2, 4, 8, 16, 30, 50):
            print(f"{r['model']:>15} {r['drive']:6.3g} {r['N']:3d} {r['tau_c']:7.3f} {r['E_max_per_site']:8.4f} "
                  f"{r['avgP_max_per_site']:9.5f} {r['gamma_average_power']:7.3f} {r['gamma_power']:6.3f} "
                  f"{r['gamma_tau']:6.3f} {r['n_max']:5d} {r['cutoff_status']}")
    for k, f in fits.items():
        if f:
            print(f"  fit {k}: Gamma ~ {f['prefactor']:.3f} N^({f['alpha']:.3f} +- {f['alpha_stderr']:.3f})")
    print(f"wrote {a.out}/  ({time.perf_counter() - t0:.1f} s)")


if __name__ == "__main__":
    main()
