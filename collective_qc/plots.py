"""Figure writers for studies (matplotlib, Agg backend: files only, never a screen).

- :func:`per_site_vs_n`: C_Q*/N, P_max/N, tau_c, E_max/N against N, one panel each, with the
  single-site (two-level) value of each combination as a horizontal line;
- :func:`gammas_vs_n`: Gamma_P, Gamma_tau, Gamma_C, Gamma_E against N on log-log axes with the
  fitted power-law exponent Gamma ~ N^b in the legend (fit over finite positive values, weighted
  by the standard errors when every point has one); error bars when standard errors are present;
- :func:`timeseries`: E(t)/N, P(t)/N, C_Q(t)/N of chosen points, with +-1 standard-error bands.

Inputs are plain rows (dicts with the keys of ``collective_qc.study`` tables) and arrays;
each function writes one PNG (atomically) and returns its path.
"""

from __future__ import annotations

import math
import os

import numpy as np

__all__ = ["per_site_vs_n", "gammas_vs_n", "timeseries", "power_law_fit"]

PER_SITE = (("capacitance_at_tau_c_per_site", r"$C_Q^*/N$"), ("power_max_per_site", r"$P_{\max}/N$"),
            ("tau_c", r"$\tau_c$"), ("energy_max_per_site", r"$E_{\max}/N$"))
GAMMAS = (("gamma_power", r"$\Gamma_P$"), ("gamma_tau", r"$\Gamma_\tau$"),
          ("gamma_capacitance", r"$\Gamma_C$"), ("gamma_energy", r"$\Gamma_E$"))


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> str:
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.tmp")
    fig.savefig(tmp, format="png", dpi=110)
    _plt().close(fig)
    os.replace(tmp, path)
    return path


def _num(x) -> float:
    return math.nan if x is None else float(x)


def _xy(rows, key):
    """n_sites, values and standard errors (nan where missing) of the rows that have `key`."""
    rows = [r for r in rows if r.get(key) is not None and math.isfinite(r[key])]
    n = np.array([r["n_sites"] for r in rows], dtype=float)
    y = np.array([r[key] for r in rows], dtype=float)
    e = np.array([_num(r.get(key + "_stderr")) for r in rows], dtype=float)
    return n, y, e


def power_law_fit(n, y, err=None) -> tuple[float, float] | None:
    """(b, a) of log y = a + b log n over finite positive values; None with fewer than two.

    Weighted by y/err (the error of log y) when every used point has a finite positive error.
    """
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(n) & np.isfinite(y) & (n > 0) & (y > 0)
    if np.count_nonzero(ok) < 2 or len(np.unique(n[ok])) < 2:
        return None
    w = None
    if err is not None:
        e = np.asarray(err, dtype=float)[ok]
        if np.all(np.isfinite(e) & (e > 0)):
            w = y[ok] / e
    b, a = np.polyfit(np.log(n[ok]), np.log(y[ok]), 1, w=w)
    return float(b), float(a)


def _colors(k: int):
    import matplotlib as mpl

    return mpl.colormaps["tab10"](np.arange(max(k, 1)) % 10)


def per_site_vs_n(groups: list[dict], path: str, title: str = "") -> str:
    """Per-site figures of merit against N; `groups`: [{"label", "rows", "baseline"}] (one per combination)."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), constrained_layout=True)
    colors = _colors(len(groups))
    for ax, (key, lab) in zip(axes.flat, PER_SITE):
        for g, c in zip(groups, colors):
            n, y, e = _xy(g["rows"], key)
            ax.errorbar(n, y, yerr=np.where(np.isfinite(e), e, 0.0) if np.any(np.isfinite(e)) else None,
                        fmt="o-", color=c, ms=4, capsize=2, label=g["label"])
        bases = {}  # one dashed line per distinct single-site value (black when all combinations share it)
        for g, c in zip(groups, colors):
            base = g["baseline"].get(key)
            if base is not None and math.isfinite(base):
                bases.setdefault(float(base), []).append((g["label"], c))
        for base, owners in bases.items():
            shared = len(bases) == 1
            ax.axhline(base, color="k" if shared else owners[0][1], ls="--", lw=1,
                       label="single site" + ("" if shared else f" ({', '.join(o[0] for o in owners)})"))
        ax.set_xlabel("N (sites)")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize="x-small")
    fig.suptitle(f"{title}: per-site figures of merit (dashed: two-level / single-site baseline)")
    return _save(fig, path)


def _plain_log_ticks(ax, sizes) -> None:
    """Log axes labelled with plain numbers: x ticks at the sizes, y labels without powers of ten."""
    import matplotlib.ticker as mt

    if sizes:
        ax.set_xticks(sizes)
    ax.xaxis.set_major_formatter(mt.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(mt.NullFormatter())
    lo, hi = ax.get_ylim()
    fmt = mt.FuncFormatter(lambda v, _: f"{v:.3g}")
    ax.yaxis.set_major_formatter(fmt)
    ax.yaxis.set_minor_formatter(fmt if hi / lo < 30 else mt.NullFormatter())


def gammas_vs_n(groups: list[dict], path: str, title: str = "") -> str:
    """Gamma ratios against N on log-log axes with fitted exponents Gamma ~ N^b."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), constrained_layout=True)
    colors = _colors(len(groups))
    for ax, (key, lab) in zip(axes.flat, GAMMAS):
        drawn = False
        for g, c in zip(groups, colors):
            n, y, e = _xy(g["rows"], key)
            keep = y > 0
            n, y, e = n[keep], y[keep], e[keep]
            if not len(n):
                continue
            fit = power_law_fit(n, y, e)
            label = f"{g['label']}: " + (f"N^{fit[0]:.3f}" if fit else "no fit")
            yerr = np.where(np.isfinite(e), e, 0.0) if np.any(np.isfinite(e)) else None
            ax.errorbar(n, y, yerr=yerr, fmt="o", color=c, ms=4, capsize=2, label=label)
            if fit:
                xs = np.geomspace(n.min(), n.max(), 50)
                ax.plot(xs, np.exp(fit[1]) * xs ** fit[0], "-", color=c, lw=1)
            drawn = True
        ax.axhline(1.0, color="k", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_ticks(ax, sorted({r["n_sites"] for g in groups for r in g["rows"]}))
        ax.set_xlabel("N (sites)")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3, which="both")
        if drawn:
            ax.legend(fontsize="x-small", title=f"{lab} ~ N^b", title_fontsize="x-small")
        else:
            ax.text(0.5, 0.5, "no positive finite values\n(undefined, or a negative ratio: see table.csv)",
                    transform=ax.transAxes, ha="center", va="center", fontsize="small")
    fig.suptitle(f"{title}: collective advantage (Gamma > 1: advantage)")
    return _save(fig, path)


def timeseries(curves: list[dict], path: str, title: str = "") -> str:
    """E(t)/N, P(t)/N, C_Q(t)/N panels; `curves`: [{"label", "times", "energy", "power", "capacitance",
    optional "*_stderr", "n_sites", "units", "baseline": {"label", "times", "energy", ...}}]."""
    plt = _plt()
    fig, axes = plt.subplots(3, 1, figsize=(7, 8), sharex=True, constrained_layout=True)
    colors = _colors(len(curves))
    units = curves[0].get("units", {}) if curves else {}
    eu, tu = units.get("energy", "omega0"), units.get("time", "1/omega0")
    names = (("energy", f"E(t)/N [{eu}]"), ("power", f"P(t)/N [{eu}/({tu})]"), ("capacitance", r"$C_Q(t)/N$"))
    for ax, (key, lab) in zip(axes, names):
        seen = set()
        for cur, c in zip(curves, colors):  # the single-site baselines (dashed), once each
            base = cur.get("baseline")
            if base is not None and base["label"] not in seen:
                seen.add(base["label"])
                ax.plot(base["times"], base[key], color=c, ls="--", lw=1, label=base["label"])
        for cur, c in zip(curves, colors):
            t, y = cur["times"], np.asarray(cur[key]) / cur["n_sites"]
            ax.plot(t, y, color=c, lw=1.2, label=cur["label"])
            err = cur.get(key + "_stderr")
            if err is not None:
                err = np.asarray(err) / cur["n_sites"]
                ax.fill_between(t, y - err, y + err, color=c, alpha=0.25, lw=0)
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    axes[-1].set_xlabel(f"t [{tu}]")
    if curves:
        axes[0].legend(fontsize="x-small")
    fig.suptitle(title)
    return _save(fig, path)
