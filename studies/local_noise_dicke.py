"""Collective batteries of N identical spin-1/2 sites under LOCAL dephasing, up to N = 10^2-10^3.

Every N-site run uses the permutation solver (Dicke-ladder blocks R_j, ``method="auto"`` picks it for
local noise on a collective node); gamma = 0 runs are closed (collective spin N/2, exact).

Systems (hbar = 1, energies in omega0, times in 1/omega0):

- ``a2a-free``: all-to-all, J = 0 (N independent two-level sites, H_B = sum_i (omega/2) sz_i, omega = 1),
  charged by lambda sum_i sx_i, lambda = 0.5, from |g...g>. Local noise keeps the sites independent, so
  Gamma = 1 exactly at every gamma: the check of the solver at large N.
- ``a2a-kac``: all-to-all XXZ, J = 1/N (Kac normalisation: the interaction energy per site stays O(1)),
  Delta = 0.5, same drive and initial state |g...g> (not the ground state of H_B: for J > 0 that is a
  degenerate mixture of spin N/2 - 1 multiplets).
- ``tavis-cummings`` and ``dicke``: Ferraro et al., PRL 120, 117702 (2018): omega = omega_c = 1, N photons,
  all spins down, lambda = omega_c lambda' with lambda' = 0.05 (weak coupling); collective representation,
  automatic Fock cutoff (checked in every run). Single-site baseline: one spin in its own cavity with
  one photon (``Model.single_site()``), the same dephasing.

Local dephasing: jumps sqrt(gamma) sz_i on every site, gamma in {0, 0.01, 0.05, 0.2} (--quick: {0, 0.05}).
Figures per point: tau_c (first maximum of E), E_max = E(tau_c), P_max = max_t P(t),
<P>_max = max_t E(t)/t (the average-power convention; totals and per site), Gamma_X = X(N) / (N X(1)),
Gamma_tau = tau_c(1) / tau_c(N) against the single site with the same noise
(``collective_qc.analysis.advantage.gammas``), and the exponents of P_max ~ N^alpha_P,
tau_c ~ N^alpha_tau, E_max ~ N^alpha_E, <P>_max ~ N^alpha_<P> (least squares on log-log axes over the
larger N; standard errors from the fit's covariance, i.e. deviations from a straight line, not sampling
noise) and the local slopes between neighbouring N.

Windows: all-to-all t in [0, 3.5]; cavities t in [0, 1.6 pi / (2 lambda sqrt N)] (1.6 x the closed
collective charging time); a run whose E(t) has no maximum in its window is rerun once in a window twice
as long (``window_extended`` in the table); tau_c stays undefined if there is still none.

Resume: every point is cached as JSON under OUT/points/ (keyed by its definition) and not recomputed.
``cqc study`` cannot express this sweep: its model parameters are fixed across the sizes of a combination
(no J = 1/N) and its window is one t_max for all sizes.

Usage: python studies/local_noise_dicke.py [--out DIR] [--quick]
Writes local_noise_dicke.{csv,json}, local_noise_dicke_fits.json and local_noise_dicke_<system>.png
into studies/out/local_noise_dicke/ (or --out DIR).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import time
import warnings
from types import SimpleNamespace

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter  # noqa: E402

import collective_qc as cqc  # noqa: E402
from collective_qc.analysis.advantage import gammas  # noqa: E402
from collective_qc.analysis.figures import FIGURES  # noqa: E402
from collective_qc.physics.registry import make_model  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "local_noise_dicke"
LAMBDA_CAVITY = 0.05  # Ferraro's weak coupling lambda' (omega_c = 1)
SYSTEMS = {
    "a2a-free": dict(model="all-to-all", drive=0.5, kac=False,
                     params=dict(omega=1.0, J=0.0, Delta=0.5, representation="collective")),
    "a2a-kac": dict(model="all-to-all", drive=0.5, kac=True,
                    params=dict(omega=1.0, Delta=0.5, representation="collective")),
    "tavis-cummings": dict(model="tavis-cummings", drive=LAMBDA_CAVITY, kac=False, params=dict(omega=1.0, omega_c=1.0)),
    "dicke": dict(model="dicke", drive=LAMBDA_CAVITY, kac=False, params=dict(omega=1.0, omega_c=1.0)),
}
# sizes with local noise (permutation solver) and the extra sizes run closed (gamma = 0) only
FULL = {"rates": [0.0, 0.01, 0.05, 0.2],
        "a2a-free": ([2, 4, 8, 16, 32, 64, 128], [256, 500]), "a2a-kac": ([2, 4, 8, 16, 32, 64, 128], [256, 500]),
        "tavis-cummings": ([2, 3, 4, 6, 8, 12, 16, 20, 24], [32, 48, 64]),
        "dicke": ([2, 3, 4, 6, 8, 10, 12], [16, 24, 32]),
        "fit_min": {"a2a-free": 16, "a2a-kac": 16, "tavis-cummings": 4, "dicke": 4}}
QUICK = {"rates": [0.0, 0.05],
         "a2a-free": ([2, 4, 8, 16, 32], []), "a2a-kac": ([2, 4, 8, 16, 32], []),
         "tavis-cummings": ([2, 4, 8], []), "dicke": ([2, 3, 4, 6], []),
         "fit_min": {"a2a-free": 8, "a2a-kac": 8, "tavis-cummings": 2, "dicke": 2}}
FIT = (("P", "P_max"), ("tau", "tau_c"), ("E", "E_max"), ("avgP", "avgP_max"))  # exponent name, table column
UNITS = {"tau_c": "1/omega0", "energy_max": "omega0", "power_max": "omega0^2", "average_power_max": "omega0^2",
         "capacitance_at_tau_c": "dimensionless"}


def definition(system: str, n: int | None, gamma: float) -> dict:
    """The run of one point: model, parameters, drive and options (n None: the single-site baseline).

    Parameters
    ----------
    system : str
        A key of ``SYSTEMS``.
    n : int or None
        Number of sites N; None for the model's single site.
    gamma : float
        Local dephasing rate (omega0).

    Returns
    -------
    dict
        ``model``, ``params``, ``drive`` (omega0), ``t_max`` (1/omega0), ``n_times``, ``gamma``, ``N``.
    """
    s = SYSTEMS[system]
    cavity = s["model"] != "all-to-all"
    size = 1 if n is None else n
    params = dict(s["params"], J=1.0 / size) if s["kac"] else dict(s["params"])
    if cavity:
        t_max = round(1.6 * math.pi / (2 * s["drive"] * math.sqrt(size)), 6)
        n_times = 401
    else:
        t_max, n_times = 3.5, 351
    return {"system": system, "model": s["model"], "N": size, "params": params, "drive": s["drive"],
            "gamma": gamma, "t_max": t_max, "n_times": n_times}


def _key(d: dict) -> str:
    digest = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]
    return f"{d['system']}_g{d['gamma']:g}_N{d['N']}_{digest}"


def _charge(d: dict, t_max: float):
    """One charge() call of a definition; returns (ChargeResult, warning texts)."""
    model = make_model(d["model"], {**d["params"], "N": d["N"]})
    if d["N"] == 1:
        model = model.single_site()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = cqc.charge(model, d["drive"], t_max=t_max, n_times=d["n_times"], dephasing=d["gamma"],
                         initial="product", method="auto")
    texts = sorted({str(w.message).splitlines()[0] for w in caught if "compiling kernels" not in str(w.message)})
    return res, texts


def compute_point(d: dict) -> dict:
    """Charge one point (rerun once in a doubled window when E(t) has no maximum in the first).

    Returns
    -------
    dict
        The definition plus ``figures`` (totals; None where not a result), ``why`` ({figure: reason}),
        ``method``, ``dim``, ``cutoff`` (cavity: n_max, top Fock population, converged), ``window_extended``,
        ``t_max_used`` (1/omega0), ``warnings`` and ``wall_s`` (s).
    """
    t0 = time.perf_counter()
    res, texts = _charge(d, d["t_max"])
    extended = False
    if res.tau_c is None and not res.not_charged:
        res, texts = _charge(d, 2 * d["t_max"])
        extended = True
    why = dict(res.undefined)
    figs = {f: (None if f in why or getattr(res, f) is None else float(getattr(res, f))) for f in FIGURES}
    cav = (res.metadata.get("cutoff") or {}).get("cavity") or {}
    keys = ("n_max", "top_population_max", "converged", "exact_by_conservation")
    cutoff = {k: cav.get(k) for k in keys} if cav else None
    return {**d, "figures": figs, "why": why, "method": res.method, "dim": res.metadata.get("dim"),
            "n_sites": res.n_sites, "cutoff": cutoff, "window_extended": extended,
            "t_max_used": float(res.times[-1]), "warnings": texts, "wall_s": time.perf_counter() - t0}


def point(d: dict, folder: str, log) -> dict:
    """The cached record of a point, computing and saving it (atomically) if it is not there yet."""
    path = os.path.join(folder, _key(d) + ".json")
    if os.path.exists(path):
        with open(path) as fh:
            rec = json.load(fh)
        log(f"  cached   {d['system']:15s} gamma={d['gamma']:<5g} N={d['N']:<4d} ({rec['method']})")
        return rec
    rec = compute_point(d)
    tmp = path + ".tmp"
    with open(tmp, "w") as fh:
        json.dump(rec, fh, indent=1)
    os.replace(tmp, path)
    f = rec["figures"]
    log(f"  computed {d['system']:15s} gamma={d['gamma']:<5g} N={d['N']:<4d} {rec['method']:11s} "
        f"dim={str(rec['dim']):<7} "
        f"{rec['wall_s']:7.1f} s  tau_c={_fmt(f['tau_c'])}  E_max/N={_fmt(f['energy_max'], d['N'])}  "
        f"P_max/N={_fmt(f['power_max'], d['N'])}" + ("  (window doubled)" if rec["window_extended"] else ""))
    for w in rec["warnings"]:
        log(f"    warning: {w}")
    return rec


def _fmt(x, n: int = 1) -> str:
    return "undef" if x is None else f"{x / n:.5g}"


def table_rows(records: list[dict]) -> list[dict]:
    """Rows per point: per-site figures and Gammas against the single site of the same system and rate."""
    base = {(r["system"], r["gamma"]): r for r in records if r["N"] == 1}
    rows = []
    for r in sorted(records, key=lambda r: (list(SYSTEMS).index(r["system"]), r["gamma"], r["N"])):
        b = base[(r["system"], r["gamma"])]
        g = gammas(SimpleNamespace(n_sites=r["N"], **r["figures"]), SimpleNamespace(n_sites=1, **b["figures"]),
                   r["why"], b["why"])
        f = r["figures"]
        cut = r["cutoff"] or {}
        rows.append({"system": r["system"], "gamma": r["gamma"], "N": r["N"], "method": r["method"], "dim": r["dim"],
                     "J": r["params"].get("J"), "drive": r["drive"], "tau_c": f["tau_c"],
                     "E_max": f["energy_max"], "P_max": f["power_max"], "avgP_max": f["average_power_max"],
                     "E_max_per_site": None if f["energy_max"] is None else f["energy_max"] / r["N"],
                     "P_max_per_site": f["power_max"] / r["N"],
                     "avgP_max_per_site": None if f["average_power_max"] is None else f["average_power_max"] / r["N"],
                     "C_star_per_site": (None if f["capacitance_at_tau_c"] is None
                                         else f["capacitance_at_tau_c"] / r["N"]),
                     "gamma_P": g["gamma_power"], "gamma_tau": g["gamma_tau"], "gamma_E": g["gamma_energy"],
                     "gamma_avgP": g["gamma_average_power"], "t_max": r["t_max_used"],
                     "window_extended": r["window_extended"], "n_max": cut.get("n_max"),
                     "top_fock_population": cut.get("top_population_max"), "wall_s": round(r["wall_s"], 2),
                     "undefined": "; ".join(f"{k}: {v}" for k, v in {**r["why"], **g["undefined"]}.items())})
    return rows


def fit_power(ns, ys) -> dict | None:
    """Least-squares line through (ln N, ln y): y = c N^alpha.

    Parameters
    ----------
    ns, ys : sequences
        Sizes and positive values (None values are dropped).

    Returns
    -------
    dict or None
        ``alpha``, ``alpha_err`` (standard error from s^2 (X^T X)^-1, s^2 = SSR / (n - 2)), ``c``,
        ``N_min``, ``N_max``, ``points``; None with fewer than three usable points.
    """
    pts = [(n, y) for n, y in zip(ns, ys) if y is not None and y > 0]
    if len(pts) < 3:
        return None
    x = np.log([p[0] for p in pts])
    y = np.log([p[1] for p in pts])
    a = np.vstack([x, np.ones_like(x)]).T
    coef, *_ = np.linalg.lstsq(a, y, rcond=None)
    resid = y - a @ coef
    s2 = float(resid @ resid) / (len(pts) - 2)
    cov = s2 * np.linalg.inv(a.T @ a)
    return {"alpha": float(coef[0]), "alpha_err": float(math.sqrt(cov[0, 0])), "c": float(math.exp(coef[1])),
            "N_min": int(pts[0][0]), "N_max": int(pts[-1][0]), "points": len(pts)}


def local_slopes(ns, ys) -> list:
    """d ln y / d ln N between neighbouring sizes: [[N_lo, N_hi, slope], ...] (None where undefined)."""
    out = []
    for (n0, y0), (n1, y1) in zip(zip(ns, ys), zip(ns[1:], ys[1:])):
        ok = y0 is not None and y1 is not None and y0 > 0 and y1 > 0
        out.append([n0, n1, math.log(y1 / y0) / math.log(n1 / n0) if ok else None])
    return out


def fits(rows: list[dict], cfg: dict) -> list[dict]:
    """Exponents per system and rate over N >= fit_min: on the sizes run with noise ("noisy range", the
    same for every rate) and, at gamma = 0, also over every size run ("extended")."""
    out = []
    for system in SYSTEMS:
        noisy = cfg[system][0]
        for gamma in cfg["rates"]:
            sel = [r for r in rows if r["system"] == system and r["gamma"] == gamma and r["N"] >= 2]
            windows = [("noisy range", [r for r in sel if cfg["fit_min"][system] <= r["N"] <= max(noisy)])]
            if gamma == 0 and cfg[system][1]:
                windows.append(("extended", [r for r in sel if r["N"] >= cfg["fit_min"][system]]))
            for label, pts in windows:
                entry = {"system": system, "gamma": gamma, "window": label}
                for short, key in FIT:
                    entry[f"alpha_{short}"] = fit_power([r["N"] for r in pts], [r[key] for r in pts])
                    entry[f"local_alpha_{short}"] = local_slopes([r["N"] for r in sel], [r[key] for r in sel])
                out.append(entry)
    return out


def plot_system(system: str, rows: list[dict], fit_rows: list[dict], path: str) -> None:
    """Log-log P_max, tau_c, E_max (totals) and Gamma_P, Gamma_tau, Gamma_E against N, one line per rate."""
    fig, axes = plt.subplots(2, 3, figsize=(14, 8))
    tops = [("P_max", "P", r"$P_{\max}$ [$\omega_0^2$]"), ("tau_c", "tau", r"$\tau_c$ [$1/\omega_0$]"),
            ("E_max", "E", r"$E_{\max}$ [$\omega_0$]")]
    bottoms = [("gamma_P", r"$\Gamma_P$"), ("gamma_tau", r"$\Gamma_\tau$"), ("gamma_E", r"$\Gamma_E$")]
    rates = sorted({r["gamma"] for r in rows if r["system"] == system})
    colors = plt.cm.viridis(np.linspace(0, 0.85, len(rates)))
    for gamma, color in zip(rates, colors):
        sel = [r for r in rows if r["system"] == system and r["gamma"] == gamma and r["N"] >= 2]
        ns = [r["N"] for r in sel]
        fit = next(f for f in fit_rows if f["system"] == system and f["gamma"] == gamma)
        for ax, (col, short, lab) in zip(axes[0], tops):
            ys = [r[col] for r in sel]
            ax.loglog([n for n, y in zip(ns, ys) if y], [y for y in ys if y], "o-", color=color, ms=4,
                      label=rf"$\gamma$ = {gamma:g}")
            f = fit[f"alpha_{short}"]
            if f:
                xx = np.geomspace(f["N_min"], f["N_max"], 20)
                ax.loglog(xx, f["c"] * xx ** f["alpha"], "--", color=color, lw=1,
                          label=rf"fit $\alpha$ = {f['alpha']:.3f}$\pm${f['alpha_err']:.3f}")
            ax.set_ylabel(lab)
        for ax, (col, lab) in zip(axes[1], bottoms):
            ys = [r[col] for r in sel]
            ax.loglog([n for n, y in zip(ns, ys) if y], [y for y in ys if y], "o-", color=color, ms=4,
                      label=rf"$\gamma$ = {gamma:g}")
            ax.set_ylabel(lab + " [dimensionless]")
    sizes = sorted({r["N"] for r in rows if r["system"] == system and r["N"] >= 2})
    for ax in axes.flat:
        _plain_log_axes(ax, sizes)
        ax.set_xlabel("N (sites)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"{system}: local dephasing sqrt(gamma) sz_i (gamma in omega0); Gamma against one site, same noise")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plain_log_axes(ax, sizes: list[int]) -> None:
    """Log axes labelled with plain numbers: x ticks at the sizes run (at most ~10), y minor ticks
    labelled only when the axis spans less than a decade."""
    step = max(1, len(sizes) // 10 + 1)
    ax.xaxis.set_major_locator(FixedLocator(sizes[::step]))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    lo, hi = ax.get_ylim()
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: f"{v:g}") if hi / lo < 10 else NullFormatter())


def plan(cfg: dict) -> list[dict]:
    """Every point's definition: per system and rate the single site, the noisy sizes, and at gamma = 0
    the extra closed sizes."""
    out = []
    for system in SYSTEMS:
        noisy, extra = cfg[system]
        for gamma in cfg["rates"]:
            sizes = noisy + (extra if gamma == 0 else [])
            out += [definition(system, None, gamma)] + [definition(system, n, gamma) for n in sizes]
    return out


def write_outputs(out: str, rows: list[dict], fit_rows: list[dict], meta: dict) -> None:
    """CSV and JSON of the rows, the fits' JSON and one figure per system."""
    with open(os.path.join(out, f"{NAME}.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(os.path.join(out, f"{NAME}.json"), "w") as fh:
        json.dump({"meta": meta, "units": UNITS, "rows": rows}, fh, indent=1)
    with open(os.path.join(out, f"{NAME}_fits.json"), "w") as fh:
        json.dump({"meta": meta, "fits": fit_rows}, fh, indent=1)
    for system in SYSTEMS:
        plot_system(system, rows, fit_rows, os.path.join(out, f"{NAME}_{system}.png"))


def print_fits(fit_rows: list[dict], log) -> None:
    """One line per system, rate and window: the three exponents with their standard errors."""
    def cell(f):
        return "   n/a        " if f is None else f"{f['alpha']:+.3f}({f['alpha_err']:.3f})"

    log("fitted exponents (totals ~ N^alpha; +- standard error of the log-log fit):")
    for f in fit_rows:
        win = f["alpha_P"] or f["alpha_E"] or {}
        log(f"  {f['system']:15s} gamma={f['gamma']:<5g} {f['window']:12s} N={win.get('N_min')}..{win.get('N_max')}  "
            f"alpha_P={cell(f['alpha_P'])}  alpha_tau={cell(f['alpha_tau'])}  alpha_E={cell(f['alpha_E'])}  "
            f"alpha_<P>={cell(f['alpha_avgP'])}")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=os.path.join(HERE, "out", NAME), help="output folder (created)")
    ap.add_argument("--quick", action="store_true", help="N <= 32 (cavities N <= 8), gamma in {0, 0.05}")
    a = ap.parse_args(argv)
    cfg = QUICK if a.quick else FULL
    folder = os.path.join(a.out, "points")
    os.makedirs(folder, exist_ok=True)
    t0 = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t0:7.1f} s] {msg}", flush=True)

    defs = plan(cfg)
    log(f"{len(defs)} points ({'quick' if a.quick else 'full'} run) -> {a.out}")
    records = [point(d, folder, log) for d in defs]
    rows = table_rows(records)
    fit_rows = fits(rows, cfg)
    meta = {"quick": a.quick, "rates": cfg["rates"], "sizes": {s: cfg[s] for s in SYSTEMS},
            "fit_min": cfg["fit_min"], "version": cqc.__version__, "wall_s": round(time.perf_counter() - t0, 1)}
    write_outputs(a.out, rows, fit_rows, meta)
    print_fits(fit_rows, log)
    log(f"done; wrote {NAME}.csv, {NAME}.json, {NAME}_fits.json and {len(SYSTEMS)} figures to {a.out}")


if __name__ == "__main__":
    main()
