"""Disordered spin chains as quantum capacitors: does localisation protect the stored energy?

Two open chains of spin-1/2 sites (Pauli operators, hbar = 1, energies in omega0, times in
1/omega0), charged from the ground state of H_B by V = sum_i sx_i with lambda = 0.5, closed
dynamics (pure states):

- ``ising``: the interacting Ising chain of many-body-localised batteries (Rossini, Andolina and
  Polini, PRB 100, 115142 (2019)), registered by the plug-in ``studies/plugins/mbl_ising.py``:
  H_B = sum_i (omega_i/2) sz_i + sum_i (J sx_i sx_{i+1} + Jz sz_i sz_{i+1}), J = Jz = 0.25;
- ``xxz``: the standard MBL chain, ``xxz-chain`` with J = 0.25, Delta = 1 (Heisenberg),
  H_B = sum_i (omega_i/2) sz_i + J sum_i (sx sx + sy sy + sz sz)_{i,i+1}.

J = 0.25 in Pauli operators is an exchange of 1 = omega0 between spin operators (S = s/2), so
omega_i S^z_i + 1 x S_i.S_{i+1} is the usual MBL normalisation. The random fields are
omega_i = omega + h_i, omega = 1, h_i uniform in [-W, W]: the study's ``[disorder] omega`` with
``width = 2W`` (a box of full width 2W). W = 0 is the clean chain (its own study, one run).

Every (model, sizes) group is one resumable ``collective_qc.study`` directory under OUT/studies/:
each realisation is stored as it finishes, so the script can be stopped and rerun (a rerun
computes nothing new and rewrites the tables and plots). Tiers: N = 6, 8 with R = 100 realisations
(and the half-chain entanglement entropy), then N = 10, 12 and 14, each with R = 100 (a closed
N = 14 run takes ~3.5 s on one core; raising a tier's R later resumes its study). The thermal part
charges the Ising chain at N = 6 from Gibbs states at
T = 0.1, 0.5, 1, 2 (omega0) with the exact (density-matrix) solver.

The ergotropy is not sampled: charged unitarily from a passive state (the ground state, or a Gibbs
state of H_B), a state keeps its spectrum and starts passive, so its ergotropy is E(t) itself
(check_ergotropy measures |ergotropy - E| on a few realisations each run).

Part ``rossini``: the protocol of Rossini, Andolina and Polini as assumed in studies/README.md section 9
(their text was not available here): the battery is a uniform field, H_0 = h sum_i sy_i, charged by
switching on (lambda = 1) the disordered Ising chain H_1 = sum_i [J sx_i sx_{i+1} + Jz sz_i sz_{i+1} + h_i sz_i],
h_i uniform in [-W, W], from the ground state of H_0; the plug-in model ``mbl-charger-chain`` (the ``graph``
charger, random fields ``hx`` drawn by ``[disorder]``). Energies in J, times in 1/J, h = J = 1; Jz = 1
(interacting: ergodic at small W, MBL at large W) and Jz = 0 (Anderson localised). N = 8, 10, R = 100,
t <= 20 (401 samples). The histograms are of three optimal-time definitions per realisation: tau_c (first
maximum of E), the time of the largest E(t)/t (the largest average power) and of the largest E in the window.

Usage: python studies/disordered_chains.py [--out DIR] [--quick] [--parts ising,xxz,thermal,rossini] [--workers K]
Writes disordered_chains_{summary,units}.csv, disordered_chains.json and the figures
disordered_chains_{vs_W,tau_hist,entropy,thermal,rossini}.png to OUT (default studies/out/disordered_chains/).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import ProcessPoolExecutor

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import collective_qc as cqc  # noqa: E402
from collective_qc.study import Study, open_study  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
NAME = "disordered_chains"
PLUGIN = os.path.join(HERE, "plugins", "mbl_ising.py")
SEED = 2019
DRIVE = 0.5
MODELS = {"ising": ("mbl-ising-chain", {"omega": 1.0, "J": 0.25, "Jz": 0.25}),
          "xxz": ("xxz-chain", {"omega": 1.0, "J": 0.25, "Delta": 1.0})}
CLOSED_RUN = {"t_max": 10.0, "n_times": 201, "method": "closed"}
THERMAL_RUN = {"t_max": 10.0, "n_times": 201, "method": "exact", "initial": "thermal"}
FULL = {"W": [1.0, 2.0, 4.0, 6.0, 10.0],
        "tiers": [([6, 8], 100, True), ([10], 100, False), ([12], 100, False), ([14], 100, False)],
        "thermal": {"sizes": [6], "W": [1.0, 4.0, 10.0], "T": [0.1, 0.5, 1.0, 2.0], "R": 20}}
QUICK = {"W": [1.0, 4.0, 10.0], "tiers": [([6, 8], 10, True)],
         "thermal": {"sizes": [6], "W": [4.0], "T": [0.5, 2.0], "R": 4}}
ROSSINI_MODEL = ("mbl-charger-chain", {"h": 1.0, "J": 1.0})  # energies in J
ROSSINI_RUN = {"t_max": 20.0, "n_times": 401, "method": "closed"}
ROSSINI_DRIVE = 1.0
FULL["rossini"] = {"sizes": [8, 10], "R": 100, "phases": {"mbl": (1.0, [0.5, 2.0, 5.0, 10.0]), "al": (0.0, [2.0, 5.0])}}
QUICK["rossini"] = {"sizes": [6], "R": 10, "phases": {"mbl": (1.0, [0.5, 5.0]), "al": (0.0, [5.0])}}
OPTIMAL_TIMES = {"tau_c": "tau_c: first maximum of E", "t_avgP": "time of the largest E(t)/t",
                 "t_Emax": "time of the largest E in t <= 20"}
FIGS = {"tau_c": "tau_c [1/omega0]", "energy_max_per_site": "E_max/N [omega0]",
        "power_max_per_site": "P_max/N [omega0^2]", "average_power_max_per_site": "max E/t per site [omega0^2]"}
GAMMAS = {"gamma_power": "Gamma_P", "gamma_energy": "Gamma_E", "gamma_tau": "Gamma_tau"}


def study_configs(cfg: dict) -> list[dict]:
    """Every study of the run: per model the clean chain and one disordered study per tier; the thermal studies.

    Parameters
    ----------
    cfg : dict
        ``FULL`` or ``QUICK``: disorder half-widths ``W`` (omega0), ``tiers`` (sizes, R, entropy?), ``thermal``.

    Returns
    -------
    list of dict
        ``key`` (directory name), ``part`` (ising | xxz | thermal), ``model`` (ising | xxz), ``W`` (list or [0]),
        ``config`` (a ``collective_qc.study`` config dict).
    """
    out = []
    for short, (model, params) in MODELS.items():
        sizes = sorted({n for tier in cfg["tiers"] for n in tier[0]})
        run = dict(CLOSED_RUN, quantities=["entropy"])
        out.append(_entry(f"{short}_clean", short, short, model, params, sizes, 1, run, []))
        for tier_sizes, r, entropy in cfg["tiers"]:
            run = dict(CLOSED_RUN, **({"quantities": ["entropy"]} if entropy else {}))
            key = f"{short}_N{'-'.join(map(str, tier_sizes))}"  # R is not in the key: raising it resumes
            out.append(_entry(key, short, short, model, params, tier_sizes, r, run, cfg["W"]))
    th = cfg["thermal"]
    model, params = MODELS["ising"]
    run = dict(THERMAL_RUN, temperature=th["T"])
    out.append(_entry("thermal_clean", "thermal", "ising", model, params, th["sizes"], 1, run, []))
    key = f"thermal_N{'-'.join(map(str, th['sizes']))}"
    out.append(_entry(key, "thermal", "ising", model, params, th["sizes"], th["R"], run, th["W"]))
    return out + rossini_configs(cfg["rossini"])


def rossini_configs(ros: dict) -> list[dict]:
    """The studies of part ``rossini``: per phase (mbl: Jz = 1, al: Jz = 0) one study over its half-widths W,
    random charger fields ``hx`` uniform in [-W, W] (full width 2W), drive lambda = 1."""
    out = []
    model, params = ROSSINI_MODEL
    for phase, (jz, widths) in ros["phases"].items():
        key = f"rossini_{phase}_N{'-'.join(map(str, ros['sizes']))}"
        config = {"study": {"name": f"{NAME}-{key}", "model": model, "sizes": list(ros["sizes"]),
                            "drive": ROSSINI_DRIVE, "seed": SEED, "realisations": ros["R"]},
                  "params": {**params, "Jz": jz}, "run": dict(ROSSINI_RUN),
                  "disorder": {"hx": {"dist": "uniform", "width": [2.0 * w for w in widths]}}}
        out.append({"key": key, "part": "rossini", "model": f"rossini-{phase}", "W": list(widths), "config": config})
    return out


def _entry(key, part, short, model, params, sizes, r, run, widths) -> dict:
    config = {"study": {"name": f"{NAME}-{key}", "model": model, "sizes": list(sizes), "drive": DRIVE, "seed": SEED,
                        "realisations": r},
              "params": dict(params), "run": dict(run)}
    if widths:
        config["disorder"] = {"omega": {"dist": "uniform", "width": [2.0 * w for w in widths]}}
    return {"key": key, "part": part, "model": short, "W": list(widths) or [0.0], "config": config}


def run_studies(entries: list[dict], out: str, parts: set, log, executor=None) -> dict:
    """Run (or resume) every study whose part (ising | xxz | thermal) or key is in `parts` (on `executor`, a
    concurrent.futures pool, or in this process); returns {key: wall seconds of this call}."""
    walls = {}
    for e in entries:
        if e["part"] not in parts and e["key"] not in parts:
            continue
        t0 = time.perf_counter()
        st = Study(e["config"], os.path.join(out, "studies", e["key"]), log=log)
        st.run(executor)
        walls[e["key"]] = time.perf_counter() - t0
        log(f"  {e['key']:24s} computed {st.computed:5d}, loaded {st.loaded:5d} units in {walls[e['key']]:7.1f} s")
    return walls


def unit_rows(entry: dict, out: str) -> pd.DataFrame:
    """One row per unit (point x realisation) of one study: its points.csv (or table.csv when clean), the
    half-width W, and extras read from the stored curves: the entropy at tau_c, the time of the
    largest E in the window (t_Emax) and of the largest E(t)/t (t_avgP), in 1/omega0."""
    folder = os.path.join(out, "studies", entry["key"])
    clean = "disorder" not in entry["config"]
    df = pd.read_csv(os.path.join(folder, "table.csv" if clean else "points.csv"))
    if clean:
        df["realisation"] = 0
        df["unit"] = df["point"]
    df["W"], df["temperature"] = _half_width(entry, df), _temperature(entry, df)
    df["study"], df["model"], df["part"] = entry["key"], entry["model"], entry["part"]
    st = open_study(folder)
    extras = [_extras(st.result(u)) for u in df["unit"]]
    return pd.concat([df.reset_index(drop=True), pd.DataFrame(extras)], axis=1)


def _half_width(entry: dict, df: pd.DataFrame):
    """W = half the drawn box width (the swept column, or the config's one value; 0 for a clean study)."""
    if "disorder" not in entry["config"]:
        return 0.0
    attr = next(iter(entry["config"]["disorder"]))  # omega (battery fields) or hx (charger fields)
    if f"disorder_{attr}_width" in df:
        return df[f"disorder_{attr}_width"] / 2.0
    width = entry["config"]["disorder"][attr]["width"]
    return (width[0] if isinstance(width, list) else width) / 2.0


def _temperature(entry: dict, df: pd.DataFrame):
    """T of the run (the swept column, or the config's one value; 0 for ground-state runs), omega0."""
    if "temperature" in df:
        return df["temperature"]
    temp = entry["config"]["run"].get("temperature", 0.0)
    return temp[0] if isinstance(temp, list) else temp


def _extras(res) -> dict:
    """The half-chain entropy at tau_c (linear interpolation between samples), its largest value, the
    times of the largest E(t) and of the largest E(t)/t over the samples, and the mean and the standard
    deviation in time of E(t) over the second half of the window (its temporal fluctuations)."""
    t, e = np.asarray(res.times), np.asarray(res.energy)
    ratio = np.where(t > 0, e / np.where(t > 0, t, 1.0), -np.inf)
    late = t >= 0.5 * t[-1]  # the second half of the window: E(t) after the charge has spread
    out = {"t_Emax": float(t[np.argmax(e)]), "t_avgP": float(t[np.argmax(ratio)]),
           "E_late_mean": float(e[late].mean()), "E_late_std": float(e[late].std())}
    for name, key in (("entanglement_entropy", "entropy"),):
        series = res.observables.get(name)
        if series is None:
            continue
        series = np.asarray(series, dtype=float)
        if not np.isfinite(series).any():  # e.g. the half-chain entropy of one site
            continue
        out[f"{key}_max"] = float(np.nanmax(series))
        out[f"{key}_at_tau_c"] = float(np.interp(res.tau_c, t, series)) if res.tau_c is not None else np.nan
    return out


def table_frame(entry: dict, out: str) -> pd.DataFrame:
    """The size rows of one study's table.csv with W, T and the model: the ratio-of-means Gammas come from there
    (collective_qc.analysis.ensemble.two_way_gammas, jackknife errors); a clean study's Gammas are its single run's."""
    df = pd.read_csv(os.path.join(out, "studies", entry["key"], "table.csv"))
    df = df[df["role"] == "size"].copy()
    clean = "disorder" not in entry["config"]
    df["W"], df["temperature"] = _half_width(entry, df), _temperature(entry, df)
    df["part"], df["model"] = entry["part"], entry["model"]
    for gam in GAMMAS:
        if clean:
            df[f"{gam}_ratio_of_means"], df[f"{gam}_ratio_of_means_stderr"] = df[gam], np.nan
    gams = [f"{g}_ratio_of_means{s}" for g in GAMMAS for s in ("", "_stderr")]
    keep = ["part", "model", "N", "W", "temperature", *gams]
    return df[keep]


def summarise(units: pd.DataFrame, tables: pd.DataFrame) -> pd.DataFrame:
    """Per (part, model, N, W, T): realisations R, undefined tau_c (chain and baseline), mean and standard error
    of every figure and extra, the tau_c spread (std, q10, median, q90), and the Gammas two ways: the mean of the
    per-realisation ratios (``gamma_X``) and the ratio of the means (``gamma_X_ratio_of_means``, from table.csv)."""
    rows = []
    for (part, model, w, temp), grp in units.groupby(["part", "model", "W", "temperature"]):
        base = grp[grp["role"] == "baseline"].drop_duplicates("unit")  # the tiers share their baseline draws
        for n, g in grp[grp["role"] == "size"].groupby("N"):
            row = {"part": part, "model": model, "N": int(n), "W": w, "temperature": temp, "R": len(g),
                   "tau_c_undefined": int(g["tau_c"].isna().sum()),
                   "baseline_tau_c_undefined": int(base["tau_c"].isna().sum())}
            extra = [c for c in ("entropy_at_tau_c", "entropy_max", "t_Emax", "t_avgP", "E_late_mean", "E_late_std")
                     if c in g and g[c].notna().any()]
            for col in [*FIGS, *extra, *GAMMAS]:
                row[col], row[f"{col}_stderr"] = _mean_se(g[col])
            for col in [c for c in OPTIMAL_TIMES if c in g]:
                tau = g[col].dropna()
                row.update({f"{col}_std": float(tau.std(ddof=1)) if len(tau) > 1 else np.nan,
                            f"{col}_q10": float(tau.quantile(0.1)), f"{col}_median": float(tau.median()),
                            f"{col}_q90": float(tau.quantile(0.9))})
            for col in ("tau_c", "energy_max_per_site", "power_max_per_site"):
                row[f"baseline_{col}"], row[f"baseline_{col}_stderr"] = _mean_se(base[col])
            rows.append(row)
    summary = pd.DataFrame(rows).merge(tables, on=["part", "model", "N", "W", "temperature"], how="left")
    return summary.sort_values(["part", "model", "temperature", "N", "W"]).reset_index(drop=True)


def _mean_se(x) -> tuple[float, float]:
    """Mean and standard error s / sqrt(n) of the finite values (NaN when there are none)."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) == 0:
        return np.nan, np.nan
    return float(x.mean()), (float(x.std(ddof=1) / np.sqrt(len(x))) if len(x) > 1 else np.nan)


def check_ergotropy(run: dict, n: int, w: float = 4.0, runs: int = 3, **extra) -> float:
    """Largest |ergotropy(t) - E(t)| (omega0) over a few Ising realisations charged unitarily from a passive state
    (ground or Gibbs state of H_B). The state's spectrum is conserved and the initial state is its own passive
    state, so the ergotropy is E(t) itself; that is why the studies do not sample it."""
    model, params = MODELS["ising"]
    worst = 0.0
    for seed in range(runs):
        res = cqc.charge(model, DRIVE, params={**params, "N": n}, **run, **extra, quantities=["ergotropy"],
                         disorder={"omega": {"dist": "uniform", "width": 2.0 * w}}, seed=seed)
        worst = max(worst, float(np.max(np.abs(np.asarray(res.observables["ergotropy"]) - res.energy))))
    return worst


def _errorbar(ax, x, y, err, **kw):
    ax.errorbar(x, y, yerr=np.nan_to_num(err), capsize=2, ms=4, **kw)


def plot_vs_w(summary: pd.DataFrame, path: str) -> None:
    """Per model (rows): E_max/N, P_max/N, tau_c and Gamma_P, Gamma_E, Gamma_tau against W, one colour per N
    (+-1 standard error); single site dotted; Gammas: ratio of means solid, mean of ratios dashed."""
    ground = summary[~summary["part"].isin(["thermal", "rossini"])]
    sizes = sorted(ground["N"].unique())
    colors = dict(zip(sizes, plt.cm.viridis(np.linspace(0, 0.85, len(sizes)))))
    fig, axes = plt.subplots(len(MODELS), 6, figsize=(24, 4.2 * len(MODELS)), squeeze=False)
    for row, short in zip(axes, MODELS):
        sel = ground[ground["model"] == short]
        for n in sizes:
            g = sel[sel["N"] == n].sort_values("W")
            for ax, col in zip(row[:3], ("energy_max_per_site", "power_max_per_site", "tau_c")):
                _errorbar(ax, g["W"], g[col], g[f"{col}_stderr"], fmt="o-", color=colors[n], label=f"N = {n}")
            for ax, gam in zip(row[3:], GAMMAS):
                _errorbar(ax, g["W"], g[f"{gam}_ratio_of_means"], g[f"{gam}_ratio_of_means_stderr"], fmt="o-",
                          color=colors[n], label=f"N = {n}, ratio of means")
                ax.plot(g["W"], g[gam], "s--", color=colors[n], ms=3, lw=0.8, label=f"N = {n}, mean of ratios")
        base = sel[sel["N"] == sizes[0]].sort_values("W")
        for ax, col in zip(row[:3], ("energy_max_per_site", "power_max_per_site", "tau_c")):
            _errorbar(ax, base["W"], base[f"baseline_{col}"], base[f"baseline_{col}_stderr"], fmt="k:",
                      label="single site")
        labels = [FIGS["energy_max_per_site"], FIGS["power_max_per_site"], FIGS["tau_c"],
                  "Gamma_P [dimensionless]", "Gamma_E [dimensionless]", "Gamma_tau [dimensionless]"]
        for ax, lab in zip(row, labels):
            ax.set(xlabel="disorder W (omega_i in [1-W, 1+W]) [omega0]", ylabel=lab,
                   title=f"{short}: {lab.split(' [')[0]}")
            ax.grid(alpha=0.3)
        for ax, gam in zip(row[3:], GAMMAS):
            ax.axhline(1.0, color="grey", lw=0.8)
            _clip_mean_of_ratios(ax, sel, gam)
        row[0].legend(fontsize=7)
        row[3].legend(fontsize=6, ncol=2)
    fig.suptitle("Disordered chains charged from the ground state (closed, lambda = 0.5); means over realisations")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _clip_mean_of_ratios(ax, sel: pd.DataFrame, gam: str) -> None:
    """Scale a Gamma panel to the ratio of means; say so when a mean of per-realisation ratios is off scale (a
    heavy tail: single-site baselines with |omega_i| near 0 store almost nothing)."""
    rom = sel[f"{gam}_ratio_of_means"] + sel[f"{gam}_ratio_of_means_stderr"].fillna(0.0)
    top = max(2.0, 1.3 * float(np.nanmax(rom))) if rom.notna().any() else 2.0
    ax.set_ylim(0.0, top)
    off = sel[sel[gam] > top]
    if len(off):
        worst = off.loc[off[gam].idxmax()]
        ax.text(0.02, 0.02, f"mean of ratios off scale at {len(off)} points (up to {worst[gam]:.3g}, "
                f"N = {int(worst['N'])}, W = {worst['W']:g})", transform=ax.transAxes, fontsize=6, va="bottom")


def plot_tau_hist(units: pd.DataFrame, path: str) -> None:
    """Histograms (probability density) of tau_c at each W, per model: N = 8 (the tier with 100 realisations),
    the largest N, and the single site; the clean chain's tau_c as a vertical line."""
    ground = units[~units["part"].isin(["thermal", "rossini"])]
    ws = sorted(w for w in ground["W"].unique() if w > 0)
    big = int(ground["N"][ground["role"] == "size"].max())
    fig, axes = plt.subplots(len(MODELS), len(ws), figsize=(3.6 * len(ws), 3.4 * len(MODELS)), squeeze=False)
    for row, short in zip(axes, MODELS):
        sel = ground[ground["model"] == short]
        for ax, w in zip(row, ws):
            g = sel[sel["W"] == w]
            if g["tau_c"].notna().sum() == 0:  # this model's studies not run yet
                ax.set_axis_off()
                continue
            bins = np.linspace(0, max(1e-9, np.nanmax(g["tau_c"])) * 1.02, 26)
            for n, style in ((8, {"alpha": 0.6, "color": "C0"}), (big, {"histtype": "step", "color": "C3", "lw": 1.5})):
                tau = g[(g["role"] == "size") & (g["N"] == n)]["tau_c"].dropna()
                if len(tau):
                    ax.hist(tau, bins=bins, density=True, label=f"N = {n} ({len(tau)})", **style)
            tau1 = g[g["role"] == "baseline"].drop_duplicates("unit")["tau_c"].dropna()
            ax.hist(tau1, bins=bins, density=True, histtype="step", color="k", ls=":",
                    label=f"single site ({len(tau1)})")
            clean = sel[(sel["W"] == 0) & (sel["role"] == "size") & (sel["N"] == 8)]["tau_c"]
            if len(clean):
                ax.axvline(float(clean.iloc[0]), color="grey", lw=1, label="clean N = 8")
            ax.set(xlabel="tau_c [1/omega0]", ylabel="probability density [omega0]", title=f"{short}, W = {w:g}")
            ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_entropy(units: pd.DataFrame, summary: pd.DataFrame, path: str) -> None:
    """Half-chain entanglement entropy at tau_c against W (N = 6, 8; mean +- standard error), and E_max/N against
    it per realisation at N = 8, coloured by W."""
    sel = summary[~summary["part"].isin(["thermal", "rossini"])
                  & summary.get("entropy_at_tau_c", pd.Series(dtype=float)).notna()]
    fig, axes = plt.subplots(1, 1 + len(MODELS), figsize=(5.2 * (1 + len(MODELS)), 4.2))
    for short, marker in zip(MODELS, "os"):
        for n, color in zip(sorted(sel["N"].unique()), ("C0", "C1", "C2")):
            g = sel[(sel["model"] == short) & (sel["N"] == n)].sort_values("W")
            _errorbar(axes[0], g["W"], g["entropy_at_tau_c"], g["entropy_at_tau_c_stderr"], fmt=marker + "-",
                      color=color, label=f"{short}, N = {n}")
    axes[0].set(xlabel="disorder W [omega0]", ylabel="S(tau_c), half chain [nats]", title="entanglement at tau_c")
    axes[0].legend(fontsize=7)
    pts = units[(units["role"] == "size") & (units["N"] == 8) & units.get("entropy_at_tau_c", np.nan).notna()]
    for ax, short in zip(axes[1:], MODELS):
        g = pts[pts["model"] == short]
        sc = ax.scatter(g["entropy_at_tau_c"], g["energy_max_per_site"], c=g["W"], s=8, cmap="plasma")
        fig.colorbar(sc, ax=ax, label="W [omega0]")
        ax.set(xlabel="S(tau_c) [nats]", ylabel=FIGS["energy_max_per_site"], title=f"{short}, N = 8, per realisation")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_thermal(summary: pd.DataFrame, path: str) -> None:
    """Ising chain, N = 6: E_max/N, P_max/N, tau_c and Gamma_P, Gamma_E (ratio of means) against T, one line per
    W (+-1 standard error); T = 0 from the ground-state study (closed solver, its own realisations)."""
    th = summary[summary["part"] == "thermal"]
    n = int(th["N"].min())
    zero = summary[(summary["part"] == "ising") & (summary["N"] == n)]
    cols = ["energy_max_per_site", "power_max_per_site", "tau_c", "gamma_power_ratio_of_means",
            "gamma_energy_ratio_of_means"]
    labels = [FIGS["energy_max_per_site"], FIGS["power_max_per_site"], FIGS["tau_c"],
              "Gamma_P, ratio of means [dimensionless]", "Gamma_E, ratio of means [dimensionless]"]
    fig, axes = plt.subplots(1, len(cols), figsize=(5 * len(cols), 4.3))
    ws = sorted(th["W"].unique())
    for w, color in zip(ws, plt.cm.plasma(np.linspace(0, 0.8, len(ws)))):
        g = pd.concat([zero[zero["W"] == w], th[th["W"] == w]]).sort_values("temperature")
        for ax, col in zip(axes, cols):
            _errorbar(ax, g["temperature"], g[col], g[f"{col}_stderr"], fmt="o-", color=color, label=f"W = {w:g}")
    for ax, lab in zip(axes, labels):
        ax.set(xlabel="temperature T [omega0]", ylabel=lab, title=lab.split(" [")[0])
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(f"ising chain, N = {n}: Gibbs initial state (exact solver); T = 0 points from the ground-state study")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_rossini(units: pd.DataFrame, path: str) -> None:
    """Part rossini: histograms (probability density) of the optimal charging time over realisations, one column
    per (phase, W), one row per definition (OPTIMAL_TIMES), logarithmic time axes and bins (shared per row); the
    largest N filled, the smaller N as a step line."""
    sel = units[(units["part"] == "rossini") & (units["role"] == "size")]
    cases = [(m, w) for m in sorted(sel["model"].unique(), reverse=True)
             for w in sorted(sel[sel["model"] == m]["W"].unique())]
    sizes = sorted(sel["N"].unique())
    fig, axes = plt.subplots(len(OPTIMAL_TIMES), len(cases), figsize=(3.3 * len(cases), 2.9 * len(OPTIMAL_TIMES)),
                             squeeze=False)
    for row, (col, label) in zip(axes, OPTIMAL_TIMES.items()):
        vals = sel[col][sel[col] > 0]
        lo, top = (float(vals.min()), float(vals.max())) if len(vals) else (0.1, 1.0)
        bins = np.geomspace(lo / 1.05, top * 1.05, 41)  # times span two decades: logarithmic bins
        for ax, (model, w) in zip(row, cases):
            g = sel[(sel["model"] == model) & (sel["W"] == w)]
            for n in sizes:
                tau = g[g["N"] == n][col].dropna()
                style = {"alpha": 0.6, "color": "C0"} if n == sizes[-1] else {"histtype": "step", "color": "C3"}
                ax.hist(tau, bins=bins, density=True, label=f"N = {n} ({len(tau)})", **style)
            jz = "Jz = 1" if model.endswith("mbl") else "Jz = 0 (AL)"
            ax.set(xlabel=f"{label.split(':')[0]} [1/J]", ylabel="probability density [J]", title=f"{jz}, W = {w:g} J",
                   xscale="log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.legend(fontsize=6)
        row[0].annotate(label, (0.0, 1.18), xycoords="axes fraction", fontsize=8, weight="bold")
    fig.suptitle("Rossini et al. protocol (assumed): uniform-field battery charged by a disordered Ising chain, "
                 "lambda = 1, h = J = 1; optimal charging time over realisations")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def collect(entries: list[dict], out: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(units, tables) of every study that has outputs in OUT/studies (a part not run yet is left out)."""
    done = [e for e in entries if os.path.exists(os.path.join(out, "studies", e["key"], "table.csv"))]
    units = pd.concat([unit_rows(e, out) for e in done], ignore_index=True)
    tables = pd.concat([table_frame(e, out) for e in done], ignore_index=True)
    return units, tables


def report(summary: pd.DataFrame, log) -> None:
    """One line per model, N and W (and T): the means +- standard errors the README quotes."""
    def pm(row, col, scale=1.0):
        return f"{row[col] / scale:.4g}+-{row.get(col + '_stderr', np.nan) / scale:.2g}"

    for _, r in summary.iterrows():
        ent = f" S(tau_c)={pm(r, 'entropy_at_tau_c')}" if pd.notna(r.get("entropy_at_tau_c")) else ""
        log(f"  {r['part']:7s} {r['model']:5s} T={r['temperature']:<4g} N={r['N']:<3d} W={r['W']:<4g} R={r['R']:<4d}"
            f" undef={r['tau_c_undefined']}/{r['baseline_tau_c_undefined']}"
            f" E/N={pm(r, 'energy_max_per_site')} P/N={pm(r, 'power_max_per_site')} tau={pm(r, 'tau_c')}"
            f" [q10 {r['tau_c_q10']:.3g} med {r['tau_c_median']:.3g} q90 {r['tau_c_q90']:.3g}]"
            f" G_P={pm(r, 'gamma_power_ratio_of_means')} ({pm(r, 'gamma_power')})"
            f" G_E={pm(r, 'gamma_energy_ratio_of_means')} ({pm(r, 'gamma_energy')})"
            f" G_tau={pm(r, 'gamma_tau_ratio_of_means')} ({pm(r, 'gamma_tau')}){ent}")
        if r["part"] == "rossini":
            times = " ".join(f"{c} {r[c + '_q10']:.3g}/{r[c + '_median']:.3g}/{r[c + '_q90']:.3g}"
                             for c in OPTIMAL_TIMES)
            log(f"      optimal times q10/median/q90 [1/J]: {times}; E(t >= 10)/N {pm(r, 'E_late_mean', r['N'])},"
                f" its std in time /N {pm(r, 'E_late_std', r['N'])} [J]")


def write_outputs(out: str, units: pd.DataFrame, summary: pd.DataFrame, meta: dict) -> list[str]:
    """The CSVs, the JSON (meta and summary) and the four figures; returns the figure paths."""
    units.to_csv(os.path.join(out, f"{NAME}_units.csv"), index=False)
    summary.to_csv(os.path.join(out, f"{NAME}_summary.csv"), index=False)
    with open(os.path.join(out, f"{NAME}.json"), "w") as fh:
        json.dump({"meta": meta, "summary": json.loads(summary.to_json(orient="records"))}, fh, indent=1)
    figs = [os.path.join(out, f"{NAME}_{k}.png") for k in ("vs_W", "tau_hist", "entropy", "thermal", "rossini")]
    if (~summary["part"].isin(["thermal", "rossini"])).any():
        plot_vs_w(summary, figs[0])
        plot_tau_hist(units, figs[1])
        plot_entropy(units, summary, figs[2])
    if (summary["part"] == "thermal").any():
        plot_thermal(summary, figs[3])
    if (summary["part"] == "rossini").any():
        plot_rossini(units, figs[4])
    return [f for f in figs if os.path.exists(f)]


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=None, help="output folder (default studies/out/disordered_chains[_quick])")
    ap.add_argument("--quick", action="store_true", help="N = 6, 8, R = 10, W = 1, 4, 10; a small thermal part")
    ap.add_argument("--parts", default="ising,xxz,thermal,rossini",
                    help="comma-separated parts to compute (all are reported)")
    ap.add_argument("--workers", type=int, default=0, help="worker processes (0: run in this process)")
    a = ap.parse_args(argv)
    cfg = QUICK if a.quick else FULL
    out = a.out or os.path.join(HERE, "out", NAME + ("_quick" if a.quick else ""))
    os.makedirs(out, exist_ok=True)
    t0 = time.perf_counter()

    def log(msg):
        print(f"[{time.perf_counter() - t0:7.1f} s] {msg}", flush=True)

    cqc.load_plugin(PLUGIN)
    entries = study_configs(cfg)
    parts = {p.strip() for p in a.parts.split(",") if p.strip()}
    log(f"{len(entries)} studies ({'quick' if a.quick else 'full'} run, parts {sorted(parts)}) -> {out}")
    if a.workers > 0:
        with ProcessPoolExecutor(a.workers) as pool:
            walls = run_studies(entries, out, parts, log, pool)
    else:
        walls = run_studies(entries, out, parts, log)
    worst = {"ground, closed, N = 8": check_ergotropy(CLOSED_RUN, 8),
             "Gibbs T = 1, exact, N = 6": check_ergotropy(THERMAL_RUN, 6, temperature=1.0)}
    log(f"check: max |ergotropy - E| over 3 ising realisations at W = 4 [omega0]: {worst}")
    units, tables = collect(entries, out)
    summary = summarise(units, tables)
    meta = {"quick": a.quick, "W": cfg["W"], "tiers": cfg["tiers"], "thermal": cfg["thermal"], "models": MODELS,
            "drive": DRIVE, "seed": SEED, "closed_run": CLOSED_RUN, "thermal_run": THERMAL_RUN,
            "wall_s_this_call": {k: round(v, 1) for k, v in walls.items()}, "ergotropy_check": worst,
            "version": cqc.__version__}
    figs = write_outputs(out, units, summary, meta)
    report(summary, log)
    log(f"done in {time.perf_counter() - t0:.1f} s; wrote {NAME}_summary.csv, {NAME}_units.csv, {NAME}.json and "
        f"{len(figs)} figures to {out}")


if __name__ == "__main__":
    main()
