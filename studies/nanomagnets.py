"""Molecular nanomagnets as quantum capacitors: giant spins (Mn12-ac, Fe8) versus exchange clusters (V15, Cr8).

Each catalog molecule is charged from the ground state of its published spin Hamiltonian (with the
catalog's default Zeeman field B_z = 1 T, g = 2) by the transverse field lambda V, V = sum_i 2 S^x_i, at a
drive that is a stated fraction f of the molecule's ZERO-FIELD gap Delta_0 (first level above the
(quasi-)degenerate ground level of H_B at omega = 0): lambda = f Delta_0, f = --fractions (0.05, 0.2).
Because V has matrix elements up to 2S, the effective Rabi coupling lambda |<1|V|0>| can be much larger
than lambda; it is reported (``rabi_over_gap``: lambda |<1|V|0>| / (E_1 - E_0) at the run's field).

Reported in the model's physical units (metadata['units']: K or meV; time hbar/K = 7.6382 ps,
hbar/meV = 0.65821 ps), converted also to kelvin and picoseconds: E_max, tau_c, P_max, C_Q* = dE/dlambda
at tau_c (dimensionless: energy per energy), and per site (per magnetic ion) for the clusters, with
the cluster's single-ion baseline (``single_site()``: one ion with the same single-ion and Zeeman terms,
no exchange) and Gamma = cluster / (N x single ion).

Usage: python studies/nanomagnets.py [--out DIR] [--quick] [--fractions 0.05,0.2]
Writes nanomagnets.{csv,json} and PNG figures to studies/out/nanomagnets/.
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
import scipy.sparse.linalg as spla  # noqa: E402

import collective_qc as cqc  # noqa: E402
from collective_qc.analysis.advantage import gammas  # noqa: E402
from collective_qc.physics.graph import validate_graph  # noqa: E402
from collective_qc.physics.operators import build_operators  # noqa: E402
from collective_qc.physics.registry import make_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "nanomagnets"
MOLECULES = [("mn12-ac", "giant spin S=10"), ("fe8", "giant spin S=10"),
             ("v15-triangle", "cluster 3 x s=1/2"), ("cr8-ring", "cluster 8 x s=3/2")]
TO_K = {"K": 1.0, "meV": 11.60452}  # energy unit -> kelvin
TO_PS = {"hbar/K": 7.6382, "hbar/meV": 0.65821}  # time unit -> picoseconds
DEGENERATE = 1e-6  # relative tolerance for the (quasi-)degenerate ground level


def spectrum(model, k=40):
    """Lowest eigenvalues and eigenvectors of H_B, plus the operators."""
    ops = build_operators(validate_graph(model.graph()))
    H = ops.H_B
    if H.shape[0] <= 4096:
        w, v = np.linalg.eigh(H.toarray())
    else:
        # Lanczos with a fixed start vector (reproducible), eigenpairs checked by their residuals
        v0 = np.random.default_rng(0).standard_normal(H.shape[0])
        for ncv in (None, 4 * k):
            w, v = spla.eigsh(H, k=k, which="SA", tol=1e-12, v0=v0, ncv=ncv)
            o = np.argsort(w)
            w, v = w[o], v[:, o]
            resid = np.linalg.norm(H @ v[:, :8] - v[:, :8] * w[:8], axis=0).max()
            if resid < 1e-8:
                break
        else:
            raise RuntimeError(f"eigsh eigenpairs not converged (residual {resid:.1e})")
    return w, v, ops


def gap_and_coupling(model):
    """Gap E_1 - E_0 above the (quasi-)degenerate ground level, and |<1|V|0>| (largest singular value of the
    block of V between the two levels, so independent of the basis chosen inside degenerate levels)."""
    w, v, ops = spectrum(model)
    scale = max(1.0, abs(w[0]), abs(w[-1] - w[0]))
    g0 = np.flatnonzero(w - w[0] < DEGENERATE * scale)
    above = np.flatnonzero(w - w[0] >= DEGENERATE * scale)
    e1 = w[above[0]]
    g1 = np.flatnonzero(np.abs(w - e1) < DEGENERATE * scale)
    block = v[:, g1].conj().T @ (ops.V @ v[:, g0])
    return float(e1 - w[0]), float(np.linalg.norm(block, 2)), len(g0)  # largest singular value: basis-independent


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", NAME))
    ap.add_argument("--quick", action="store_true", help="one drive fraction (0.1), coarser grid")
    ap.add_argument("--fractions", default=None, help="drive lambda as fractions of the zero-field gap")
    a = ap.parse_args(argv)
    fractions = [float(x) for x in (a.fractions or ("0.1" if a.quick else "0.05,0.2")).split(",")]
    n_times = 201 if a.quick else 401
    os.makedirs(a.out, exist_ok=True)
    t0 = time.perf_counter()
    rows, curves = [], {}
    for name, kind in MOLECULES:
        model = make_model(name)
        zf = make_model(name, {"omega": 0.0})
        gap0, _, deg0 = gap_and_coupling(zf)
        gap_b, vme_b, deg_b = gap_and_coupling(model)
        eu, tu = model.energy_unit, model.time_unit
        for f in fractions:
            lam = f * gap0
            t_max = 12.0 * np.pi / gap0  # ~6 periods of the zero-field gap
            tic = time.perf_counter()
            res = cqc.charge(model, drive=lam, t_max=t_max, n_times=n_times)
            wall = time.perf_counter() - tic
            single = model.single_site()
            base = res if single is model else cqc.charge(single, drive=lam, t_max=t_max, n_times=n_times)
            g = gammas(res, base) if base is not res else {}
            n = res.n_sites
            row = {
                "molecule": name, "kind": kind, "n_sites": n, "energy_unit": eu, "time_unit": tu,
                "zero_field_gap": gap0, "zero_field_ground_degeneracy": deg0,
                "omega_Bz_1T": model.values["omega"], "gap_at_1T": gap_b, "ground_degeneracy_at_1T": deg_b,
                "max_V_element_01": vme_b, "fraction": f, "drive_lambda": lam,
                "rabi_over_gap": lam * vme_b / gap_b,
                "tau_c": res.tau_c, "tau_c_ps": None if res.tau_c is None else res.tau_c * TO_PS[tu],
                "E_max": res.energy_max, "E_max_K": None if res.energy_max is None else res.energy_max * TO_K[eu],
                "E_max_over_gap0": None if res.energy_max is None else res.energy_max / gap0,
                "P_max": res.power_max, "P_max_K_per_ps": res.power_max * TO_K[eu] / TO_PS[tu],
                "C_star": res.capacitance_at_tau_c,
                "E_max_per_site": res.per_site["energy_max"], "C_star_per_site": res.per_site["capacitance_at_tau_c"],
                "P_max_per_site": res.per_site["power_max"],
                "single_ion_tau_c": base.tau_c, "single_ion_E_max": base.energy_max,
                "single_ion_C_star": base.capacitance_at_tau_c, "single_ion_P_max": base.power_max,
                "gamma_energy": g.get("gamma_energy"), "gamma_tau": g.get("gamma_tau"),
                "gamma_power": g.get("gamma_power"), "gamma_capacitance": g.get("gamma_capacitance"),
                "method": res.method, "initial_members": res.metadata["initial"]["members"],
                "symmetry_block": str(res.metadata.get("symmetry_block")), "wall_s": wall,
            }
            rows.append(row)
            curves[(name, f)] = (res.times * TO_PS[tu], res.energy * TO_K[eu], res.capacitance, res.tau_c,
                                 None if base is res else n * base.energy * TO_K[eu])
            print(f"{name:13s} f={f:<5} lambda={lam:.4g} {eu}  Delta0={gap0:.4g} {eu}  "
                  f"tau_c={_f(res.tau_c)} {tu} ({_f(row['tau_c_ps'])} ps)  E_max={_f(res.energy_max)} {eu} "
                  f"(={_f(row['E_max_over_gap0'])} Delta0)  C*={_f(res.capacitance_at_tau_c)}"
                  + (f"  per ion E_max={_f(row['E_max_per_site'])}, single ion {_f(base.energy_max)}; "
                     f"G_E={_f(g.get('gamma_energy'))} G_tau={_f(g.get('gamma_tau'))}" if g else "")
                  + f"  [{wall:.1f} s]", flush=True)

    with open(os.path.join(a.out, f"{NAME}.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(a.out, f"{NAME}.json"), "w") as fh:
        json.dump({"fractions": fractions, "rows": rows, "conversions": {"to_K": TO_K, "to_ps": TO_PS}}, fh,
                  indent=1, default=str)

    # figure 1: E(t) and C_Q(t) in physical units (kelvin, ps), one column per molecule
    fig, axes = plt.subplots(2, len(MOLECULES), figsize=(4.2 * len(MOLECULES), 7))
    for j, (name, kind) in enumerate(MOLECULES):
        for k, f in enumerate(fractions):
            t, e, c, tau, e_single = curves[(name, f)]
            tau_ps = None if tau is None else tau * TO_PS[make_model(name).time_unit]
            floor = 1e-5 * max(np.max(e), 1e-300)
            axes[0, j].plot(t, np.maximum(e, floor), color=f"C{k}", lw=1.2, label=f"lambda = {f} Delta0")
            if e_single is not None:
                axes[0, j].plot(t, np.maximum(e_single, floor), color=f"C{k}", lw=0.8, ls="--",
                                label=f"N x single ion, {f} Delta0")
            axes[1, j].plot(t, c, color=f"C{k}", lw=1.2, label=f"lambda = {f} Delta0")
            if tau_ps is not None:
                axes[0, j].axvline(tau_ps, color=f"C{k}", lw=0.6, ls=":")
        axes[0, j].set_title(f"{name} ({kind})", fontsize=9)
        axes[0, j].set_ylabel("E(t) [K]")
        axes[1, j].set_ylabel("C_Q(t) = dE/dlambda")
        axes[1, j].set_xlabel("t [ps]")
        axes[0, j].set_yscale("log")
        axes[0, j].legend(fontsize=7)
    fig.suptitle("catalog nanomagnets at B_z = 1 T, transverse drive lambda = f x zero-field gap "
                 "(dotted: tau_c); energy in kelvin (log scale)", fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{NAME}_dynamics.png"), dpi=110)
    plt.close(fig)

    # figure 2: bar chart of E_max/Delta0, tau_c [ps], |C*|, per molecule and fraction; clusters: per ion vs single ion
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    labels = [m for m, _ in MOLECULES]
    x = np.arange(len(labels))
    wdt = 0.8 / (2 * len(fractions))
    for k, f in enumerate(fractions):
        sel = [next(r for r in rows if r["molecule"] == m and r["fraction"] == f) for m in labels]
        off = (2 * k - len(fractions) + 0.5) * wdt
        axes[0].bar(x + off, [r["E_max_K"] or 0 for r in sel], wdt, color=f"C{k}", label=f"molecule, f = {f}")
        axes[0].bar(x + off + wdt, [(r["single_ion_E_max"] or 0) * TO_K[r["energy_unit"]] * r["n_sites"]
                                    for r in sel], wdt, color=f"C{k}", alpha=0.4, hatch="//",
                    label=f"N x single ion, f = {f}")
        axes[1].bar(x + off, [r["tau_c_ps"] or 0 for r in sel], wdt, color=f"C{k}", label=f"molecule, f = {f}")
        axes[1].bar(x + off + wdt, [(r["single_ion_tau_c"] or 0) * TO_PS[r["time_unit"]] for r in sel], wdt,
                    color=f"C{k}", alpha=0.4, hatch="//", label=f"single ion, f = {f}")
        axes[2].bar(x + off, [abs(r["C_star"] or 0) for r in sel], wdt, color=f"C{k}", label=f"molecule, f = {f}")
        axes[2].bar(x + off + wdt, [abs(r["single_ion_C_star"] or 0) * r["n_sites"] for r in sel], wdt,
                    color=f"C{k}", alpha=0.4, hatch="//", label=f"N x single ion, f = {f}")
    for ax, lab in zip(axes, ("E_max [K] (log)", "tau_c [ps] (log)", "|C_Q(tau_c)| (log)")):
        ax.set_xticks(x)
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel(lab)
        ax.legend(fontsize=6)
    axes[0].set_title("stored energy (giant spins: the single 'ion' is the molecule)", fontsize=9)
    axes[1].set_title("charging time", fontsize=9)
    axes[2].set_title("quantum capacitance at tau_c", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(a.out, f"{NAME}_summary.png"), dpi=110)
    plt.close(fig)
    print(f"wrote {a.out}/  ({time.perf_counter() - t0:.1f} s)")


def _f(x):
    return "undefined" if x is None else f"{x:.4g}"


if __name__ == "__main__":
    main()
