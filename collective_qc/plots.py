"""Figure writers for studies (matplotlib, Agg backend: files only, never a screen).

- :func:`per_site_vs_n`: C_Q*/N, P_max/N, tau_c, E_max/N against N, one panel each, with the
  single-site value of each combination as a dashed horizontal line; every axis carries its unit;
- :func:`gammas_vs_n`: Gamma_P, Gamma_tau, Gamma_C, Gamma_E against N. Panels whose values are all
  positive use log-log axes with light reference slopes N^1/2 and N^1, and a power law
  Gamma ~ a N^b is drawn only where it describes the data (:func:`power_law_fit`: at least three
  sizes, residual within the errors or below 5 % rms; the legend reports b and the residual,
  else says "no power law"). A panel with a zero or negative value uses a linear (or symlog) axis
  and says the sign of the single-site baseline in its legend; a panel without any defined value
  says why instead of staying empty; every legend sits below its panel (never over the data);
- points that are not results (``undefined`` in the rows, :mod:`collective_qc.analysis.verdict`) are
  omitted, and the panel names them with the reason (legend line or title);
- :func:`timeseries`: E(t)/N, P(t)/N, C_Q(t)/N of chosen points with +-1 standard-error bands, and
  tau_c of every curve marked by a dotted vertical line;
- :func:`vs_disorder`: Gamma_P and tau_c against the disorder strength W per size, bands of +-1
  standard error over realisations; :func:`histograms`: tau_c and E_max/N over realisations.
- :func:`tornado`: normalised sensitivities theta dE_max/dtheta / E_max (and theta dtau_c/dtheta / tau_c)
  of one run as horizontal bars, largest on top (:mod:`collective_qc.sensitivity`).
- :func:`ensemble`: a disorder ensemble's mean E(t), P(t) with +-1 standard-error bands and the
  histograms of tau_c and E_max over its realisations.

Inputs are plain rows (dicts with the keys of ``collective_qc.study`` tables, optionally
``energy_unit``/``time_unit``) and arrays; each function writes one PNG (atomically) and returns
its path.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np

from .analysis.figures import GAMMAS as FIGURE_GAMMAS
from .core.units import DIMENSIONLESS, Units

__all__ = ["per_site_vs_n", "gammas_vs_n", "timeseries", "ensemble", "power_law_fit", "PowerLaw", "tornado"]

PER_SITE = (("capacitance_at_tau_c_per_site", r"$C_Q^*/N$"), ("power_max_per_site", r"$P_{\max}/N$"),
            ("tau_c", r"$\tau_c$"), ("energy_max_per_site", r"$E_{\max}/N$"))
GAMMAS = tuple((g.key, g.tex, g.figure) for g in FIGURE_GAMMAS[:4])  # the four panels
FIT_MIN_POINTS = 3
FIT_MAX_RMS = 0.05  # largest rms residual of log(Gamma) (about 5 %) of an acceptable fit without errors
FIT_MAX_CHI2 = 4.0  # largest chi^2 per degree of freedom of an acceptable weighted fit


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


@dataclass
class PowerLaw:
    """A fit log y = a + b log N: exponent ``b``, prefactor ``exp(a)``, the rms residual of log y,
    chi^2 per degree of freedom (weighted fits, else None) and whether it describes the data."""

    b: float
    a: float
    rms: float
    chi2: float | None
    points: int
    describes: bool

    def __iter__(self):  # (b, a), as older callers unpacked it
        return iter((self.b, self.a))

    def __getitem__(self, k):
        return (self.b, self.a)[k]

    def label(self) -> str:
        res = f"rms {100 * self.rms:.1f}%" + ("" if self.chi2 is None else f", chi2/dof {self.chi2:.2g}")
        if self.describes:
            return f"N^{self.b:.2f} ({res})"
        return f"no power law ({res})" if self.points >= FIT_MIN_POINTS else "too few sizes to fit"


def power_law_fit(n, y, err=None) -> PowerLaw | None:
    """Fit log y = a + b log n over finite positive values; None with fewer than two sizes.

    Weighted by y/err (the error of log y) when every used point has a finite positive error.
    The fit ``describes`` the data when it uses at least three sizes and its residual is
    within the errors (chi^2/dof <= 4 for weighted fits) or, without errors, the rms residual
    of log y is at most 5 % and at most a tenth of the spread of log y (R^2 >= 0.99).
    Saturating or zig-zag data fail this test.
    """
    n, y = np.asarray(n, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(n) & np.isfinite(y) & (n > 0) & (y > 0)
    if np.count_nonzero(ok) < 2 or len(np.unique(n[ok])) < 2:
        return None
    x, ly = np.log(n[ok]), np.log(y[ok])
    w = None
    if err is not None:
        e = np.asarray(err, dtype=float)[ok]
        if np.all(np.isfinite(e) & (e > 0)):
            w = y[ok] / e
    b, a = np.polyfit(x, ly, 1, w=w)
    resid = ly - (a + b * x)
    rms = float(np.sqrt(np.mean(resid ** 2)))
    pts = int(np.count_nonzero(ok))
    chi2 = float(np.sum((resid * w) ** 2) / (pts - 2)) if w is not None and pts > 2 else None
    spread = float(np.std(ly))
    if chi2 is not None:
        good = chi2 <= FIT_MAX_CHI2
    else:  # no errors: small residual, and small against the variation it explains (R^2 >= 0.99)
        good = rms <= FIT_MAX_RMS and (rms <= 0.1 * spread or rms < 1e-9)
    good = good and pts >= FIT_MIN_POINTS
    return PowerLaw(float(b), float(a), rms, chi2, pts, bool(good))


def _colors(k: int):
    import matplotlib as mpl

    return mpl.colormaps["tab10"](np.arange(max(k, 1)) % 10)


def _units(groups) -> Units:
    for g in groups:
        for r in [g.get("baseline") or {}, *g["rows"]]:
            if r.get("energy_unit"):
                return Units(r["energy_unit"], r.get("time_unit") or "")
    return Units()


def _errbar(e):
    return np.where(np.isfinite(e), e, 0.0) if np.any(np.isfinite(e)) else None


def per_site_vs_n(groups: list[dict], path: str, title: str = "") -> str:
    """Per-site figures of merit against N; `groups`: [{"label", "rows", "baseline"}] (one per combination)."""
    plt = _plt()
    u = _units(groups)
    fig, axes = plt.subplots(2, 2, figsize=(9, 7), constrained_layout=True)
    colors = _colors(len(groups))
    for ax, (key, lab) in zip(axes.flat, PER_SITE):
        drawn = False
        for g, c in zip(groups, colors):
            n, y, e = _xy(g["rows"], key)
            drawn |= bool(len(n))
            ax.errorbar(n, y, yerr=_errbar(e), fmt="o-", color=c, ms=4, capsize=2, label=g["label"])
        bases = {}  # one dashed line per distinct single-site value (black when all combinations share it)
        for g, c in zip(groups, colors):
            base = (g.get("baseline") or {}).get(key)
            if base is not None and math.isfinite(base):
                bases.setdefault(float(base), []).append((g["label"], c))
        for base, owners in bases.items():
            shared = len(bases) == 1
            color = "k" if shared else owners[0][1]
            ax.axhline(base, color=color, ls="--", lw=1,
                       label="single site" + ("" if shared else f" ({', '.join(o[0] for o in owners)})"))
            err = next((_num(g["baseline"].get(key + "_stderr")) for g in groups
                        if (g.get("baseline") or {}).get(key) == base), math.nan)
            if math.isfinite(err) and err > 0:  # +-1 standard error of a trajectory baseline
                ax.axhspan(base - err, base + err, color=color, alpha=0.12, lw=0)
        vals = [v for g in groups for v in _xy(g["rows"], key)[1]] + list(bases)
        if vals and min(vals) < 0 < max(vals):
            ax.axhline(0.0, color="k", lw=0.6)
        notes = omitted_notes(groups, key)
        if not drawn:
            _no_data(ax, [r for g in groups for r in g["rows"]], key, notes)
        elif notes:  # above the axes: never over the data
            ax.set_title("\n".join(notes), fontsize="xx-small")
        _integer_sizes(ax, sorted({r["n_sites"] for g in groups for r in g["rows"]}))
        ax.set_xlabel("N (sites)")
        ax.set_ylabel(f"{lab} [{u.of(key)}]")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize="x-small")
    fig.suptitle(f"{title}: per-site figures of merit (dashed: single-site baseline)")
    return _save(fig, path)


def _integer_sizes(ax, sizes) -> None:
    """x ticks at the sizes (N is an integer), or integer ticks when there are many sizes."""
    import matplotlib.ticker as mt

    if 0 < len(sizes) <= 12:
        ax.set_xticks(sizes)
    else:
        ax.xaxis.set_major_locator(mt.MaxNLocator(integer=True))


def _no_data(ax, rows, key, notes=()) -> None:
    """Explain an empty panel in the panel itself (with the reasons of the omitted points, if known)."""
    if notes:
        import textwrap

        why = "\n".join(textwrap.fill(" ".join(n.split()), 45) for n in notes)
    elif rows and all(r.get("tau_c") is None for r in rows) and key != "power_max_per_site":
        why = "undefined at every N:\nE(t) has no maximum in the time window\n(tau_c undefined; extend t_max)"
    else:
        why = "no defined value at any N\n(undefined figure or ratio: see table.csv)"
    ax.text(0.5, 0.5, why, transform=ax.transAxes, ha="center", va="center", fontsize="x-small")


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


def _reference_slopes(ax, n0: float, y0: float, n1: float) -> None:
    """Light guide lines y0 (N/n0)^s for s = 1/2 and 1 (the sqrt(N) and N scalings)."""
    xs = np.geomspace(n0, n1, 20)
    for s, ls, lab in ((0.5, ":", r"$\propto N^{1/2}$ (reference)"), (1.0, "-.", r"$\propto N$ (reference)")):
        ax.plot(xs, y0 * (xs / n0) ** s, color="0.6", ls=ls, lw=0.9, alpha=0.7, label=lab, zorder=0)


def _baseline_sign_note(groups, figure: str) -> str:
    """Legend text naming the sign of the single-site value that divides a Gamma."""
    signs, values = set(), []
    for g in groups:
        base = g.get("baseline") or {}
        v = base.get(figure, base.get(figure + "_per_site"))
        if v is not None and math.isfinite(v):
            signs.add("negative" if v < 0 else "positive")
            values.append(v)
    if signs == {"negative"}:
        val = f" ({values[0]:.3g})" if len(values) == 1 else ""
        return f"single-site value{val} < 0: Gamma < 0 where the N-site value is > 0"
    if "negative" in signs:
        return "some single-site values < 0 (sign of Gamma flips there)"
    return "single-site value > 0" if signs else "sign of the single-site value unknown"


def _gamma_panel(ax, groups, colors, key, lab, figure, sizes) -> None:
    series = []
    for g, c in zip(groups, colors):
        n, y, e = _xy(g["rows"], key)
        if len(n):
            series.append((g, c, n, y, e))
    if not series:
        _no_data(ax, [r for g in groups for r in g["rows"]], key, omitted_notes(groups, key))
        ax.set_xlabel("N (sites)")
        ax.set_ylabel(f"{lab} [{DIMENSIONLESS}]")
        return
    positive = all(np.all(y > 0) for *_, y, _e in series)
    for g, c, n, y, e in series:
        fit = power_law_fit(n, y, e) if positive else None
        label = g["label"] + (f": {fit.label()}" if fit else "")
        ax.errorbar(n, y, yerr=_errbar(e), fmt="o", color=c, ms=4, capsize=2, label=label)
        if fit and fit.describes:
            xs = np.geomspace(n.min(), n.max(), 50)
            ax.plot(xs, np.exp(fit.a) * xs ** fit.b, "-", color=c, lw=1)
    ax.axhline(1.0, color="k", ls=":", lw=0.8)
    if positive:
        n_all = np.concatenate([s[2] for s in series])
        first = min(series, key=lambda s: s[2].min())
        _reference_slopes(ax, first[2].min(), first[3][np.argmin(first[2])], n_all.max())
        ax.set_xscale("log")
        ax.set_yscale("log")
        _plain_log_ticks(ax, sizes)
        title = f"{lab} ~ N^b: fit drawn only where it describes the data"
    else:
        ys = np.concatenate([s[3] for s in series])
        span = np.max(np.abs(ys)) / max(np.min(np.abs(ys[ys != 0])), 1e-300) if np.any(ys != 0) else 1.0
        if span > 100:
            ax.set_yscale("symlog", linthresh=float(np.min(np.abs(ys[ys != 0]))))
        ax.axhline(0.0, color="k", lw=0.6)
        _integer_sizes(ax, sizes)
        title = f"signed values, linear axis; {_baseline_sign_note(groups, figure)}"
    ax.set_xlabel("N (sites)")
    ax.set_ylabel(f"{lab} [{DIMENSIONLESS}]")
    ax.grid(alpha=0.3, which="both")
    _legend_below(ax, groups, key, title)


def _legend_below(ax, groups, key, title: str) -> None:
    """The panel's legend under its axes (never over the data), with a line per reason for the
    points omitted because they are not results."""
    for text in omitted_notes(groups, key):
        ax.plot([], [], ls="none", label=text)
    ax.legend(fontsize="xx-small", title=title, title_fontsize="xx-small", loc="upper center",
              bbox_to_anchor=(0.5, -0.16), ncols=2, frameon=False)


def omitted_notes(groups, key) -> list[str]:
    """"omitted, not a result at N = ...: reason" lines for the rows of `groups` whose `key` is
    undefined (reasons from the rows' ``undefined`` cells, :mod:`collective_qc.analysis.verdict`)."""
    import textwrap

    from .analysis.tables import parse_reasons, short_reason

    by_reason: dict = {}
    for g in groups:
        for r in g["rows"]:
            if r.get(key) is None or not math.isfinite(r[key]):
                why = parse_reasons(r.get("undefined")).get(key) if isinstance(r.get("undefined"), str) \
                    else (r.get("undefined") or {}).get(key)
                if why:
                    by_reason.setdefault(short_reason(why), set()).add(r["n_sites"])
    return [textwrap.fill(f"omitted, not a result at N = {', '.join(map(str, sorted(ns)))}: {why}", 70)
            for why, ns in by_reason.items()]


def gammas_vs_n(groups: list[dict], path: str, title: str = "") -> str:
    """Gamma ratios against N (log-log with fits and reference slopes when positive, else linear)."""
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(10, 10), constrained_layout=True)
    colors = _colors(len(groups))
    sizes = sorted({r["n_sites"] for g in groups for r in g["rows"]})
    for ax, (key, lab, figure) in zip(axes.flat, GAMMAS):
        _gamma_panel(ax, groups, colors, key, lab, figure, sizes)
    fig.suptitle(f"{title}: collective advantage Gamma = N-site / (N x single-site) (Gamma > 1: advantage)")
    return _save(fig, path)


def _tau_c(cur: dict) -> float | None:
    if cur.get("tau_c") is not None:
        return float(cur["tau_c"])
    from .analysis.merit import figures_of_merit

    t = np.asarray(cur["times"], dtype=float)
    try:
        return figures_of_merit(t, np.asarray(cur["energy"]), np.asarray(cur["power"]),
                                np.asarray(cur["capacitance"])).tau_c
    except Exception:  # noqa: BLE001 - a marker is a courtesy; never fail a figure for it
        return None


def timeseries(curves: list[dict], path: str, title: str = "") -> str:
    """E(t)/N, P(t)/N, C_Q(t)/N panels with tau_c marked; `curves`: [{"label", "times", "energy", "power",
    "capacitance", optional "*_stderr", "tau_c", "n_sites", "units", "baseline": {"label", "times", ...}}]."""
    plt = _plt()
    fig, axes = plt.subplots(3, 1, figsize=(7, 8.5), sharex=True, constrained_layout=True)
    colors = _colors(len(curves))
    u = Units(**{k: v for k, v in (curves[0].get("units", {}) if curves else {}).items() if k in ("energy", "time")})
    names = (("energy", f"E(t)/N [{u.energy}]"), ("power", f"P(t)/N [{u.power}]"),
             ("capacitance", f"$C_Q(t)/N$ [{u.capacitance}]"))
    marks = []
    seen = set()
    for cur, c in zip(curves, colors):
        base = cur.get("baseline")
        if base is not None and base["label"] not in seen:
            seen.add(base["label"])
            marks.append((base, c, "--", 1))
    marks += [(cur, c, "-", cur["n_sites"]) for cur, c in zip(curves, colors)]
    for ax, (key, lab) in zip(axes, names):
        for cur, c, ls, n in marks:
            t, y = np.asarray(cur["times"]), np.asarray(cur[key]) / n
            ax.plot(t, y, color=c, ls=ls, lw=1 if ls == "--" else 1.2, label=cur["label"])
            err = cur.get(key + "_stderr")
            if err is not None and ls == "-":
                err = np.asarray(err) / n
                ax.fill_between(t, y - err, y + err, color=c, alpha=0.25, lw=0)
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
    for cur, c, _ls, _n in marks:
        tau = _tau_c(cur)
        if tau is not None:
            for ax in axes:
                ax.axvline(tau, color=c, ls=":", lw=1, alpha=0.8)
            axes[0].annotate(r"$\tau_c$", (tau, 1.0), xycoords=("data", "axes fraction"), xytext=(2, -10),
                             textcoords="offset points", color=c, fontsize="x-small")
    axes[-1].set_xlabel(f"t [{u.time}]")
    if curves:
        from matplotlib.lines import Line2D

        handles, labels = axes[0].get_legend_handles_labels()
        handles.append(Line2D([], [], color="0.3", ls=":", lw=1))
        labels.append(r"$\tau_c$ (first maximum of E)")
        axes[0].legend(handles, labels, fontsize="x-small")
    fig.suptitle(title)
    return _save(fig, path)


def ensemble(result: dict, path: str, title: str = "") -> str:
    """A disorder ensemble: mean E(t) and P(t) with +-1 standard-error bands (top), and histograms
    over realisations of tau_c and E_max (bottom), each axis with its unit.

    Parameters
    ----------
    result : dict
        :meth:`collective_qc.analysis.ensemble.EnsembleResult.to_dict` (or the same keys): ``times``,
        ``energy``, ``power``, their ``*_stderr`` (None for one realisation), ``units``
        ({"energy", "time", ...}), ``realisations`` (each with ``figures``: tau_c, energy_max,
        None where not a result) and, optionally, ``figures`` (the summaries: their means are marked).
    path : str
        PNG file to write.
    title : str
        Figure title.
    """
    plt = _plt()
    fig, axes = plt.subplots(2, 2, figsize=(10, 7.5), constrained_layout=True)
    u = Units(**{k: v for k, v in (result.get("units") or {}).items() if k in ("energy", "time")})
    t = np.asarray(result["times"], dtype=float)
    R = len(result.get("realisations") or [])
    for ax, key, lab in ((axes[0, 0], "energy", f"mean E(t) [{u.energy}]"),
                         (axes[0, 1], "power", f"mean P(t) [{u.power}]")):
        y = np.asarray(result[key], dtype=float)
        ax.plot(t, y, color="C0", lw=1.2, label=f"mean over R = {R}")
        err = result.get(key + "_stderr")
        if err is not None:
            err = np.asarray([_num(e) for e in err], dtype=float)
            ax.fill_between(t, y - err, y + err, color="C0", alpha=0.3, lw=0, label="+-1 standard error")
        ax.set_xlabel(f"t [{u.time}]")
        ax.set_ylabel(lab)
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    for ax, key, lab in ((axes[1, 0], "tau_c", rf"$\tau_c$ [{u.time}]"),
                         (axes[1, 1], "energy_max", rf"$E_{{\max}}$ [{u.energy}]")):
        _histogram(ax, result, key, lab, R)
    fig.suptitle(title)
    return _save(fig, path)


def _histogram(ax, result: dict, key: str, label: str, R: int) -> None:
    """Histogram of one figure over realisations (its mean marked), or a note when none is defined."""
    vals = np.array([_num((r.get("figures") or {}).get(key)) for r in result.get("realisations") or []], dtype=float)
    vals = vals[np.isfinite(vals)]
    ax.set_xlabel(label)
    ax.set_ylabel("realisations")
    if not vals.size:
        ax.text(0.5, 0.5, f"no realisation defines {label}", transform=ax.transAxes, ha="center", fontsize="small")
        return
    ax.hist(vals, bins=max(5, min(40, int(np.sqrt(vals.size)) + 1)), color="C1", alpha=0.8)
    mean = ((result.get("figures") or {}).get(key) or {}).get("mean")
    ax.axvline(float(np.mean(vals)) if mean is None else mean, color="k", ls="--", lw=1, label="mean")
    ax.set_title(f"{vals.size} of {R} realisations define it", fontsize="small")
    ax.legend(fontsize="x-small")
    ax.grid(alpha=0.3)


DISORDER_PANELS = (("gamma_power", r"$\Gamma_P$"), ("tau_c", r"$\tau_c$"))


def vs_disorder(groups: list[dict], path: str, xlabel: str, title: str = "") -> str:
    """Gamma_P and tau_c against the disorder strength W, one line per size (and other swept
    values), with +-1 standard-error bands over the realisations.

    Parameters
    ----------
    groups : list of dict
        ``{"label", "x": [W per row], "rows": [table rows of a disordered study]}``; the rows carry
        ``gamma_power`` (mean of the per-realisation ratios), ``gamma_power_stderr``,
        ``gamma_power_ratio_of_means``, ``tau_c``, ``tau_c_stderr``, ``energy_unit``, ``time_unit``.
    xlabel : str
        The label of W with its unit, e.g. ``"W of omega (uniform width) [omega0]"``.

    Notes
    -----
    The Gamma_P panel draws the mean of ratios (line and band) and the ratio of means (open
    markers, dashed); both are dimensionless.
    """
    plt = _plt()
    u = _units(groups)
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    colors = _colors(len(groups))
    for ax, (key, lab) in zip(axes, DISORDER_PANELS):
        for g, c in zip(groups, colors):
            x = np.array(g["x"], dtype=float)
            y = np.array([_num(r.get(key)) for r in g["rows"]])
            e = np.array([_num(r.get(key + "_stderr")) for r in g["rows"]])
            order = np.argsort(x)
            x, y, e = x[order], y[order], np.where(np.isfinite(e), e, 0.0)[order]
            ax.plot(x, y, "o-", color=c, ms=4, label=g["label"])
            ax.fill_between(x, y - e, y + e, color=c, alpha=0.2, lw=0)
            if key == "gamma_power":
                rom = np.array([_num(r.get("gamma_power_ratio_of_means")) for r in g["rows"]])[order]
                ax.plot(x, rom, "s--", mfc="none", color=c, ms=4, lw=0.8)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(f"{lab} [{u.of(key)}]")
        ax.grid(alpha=0.3)
    if any(g["rows"] for g in groups):
        from matplotlib.lines import Line2D

        handles, labels = axes[0].get_legend_handles_labels()
        handles += [Line2D([], [], color="0.3", marker="s", mfc="none", ls="--", lw=0.8)]
        labels += ["ratio of means"]
        axes[0].legend(handles, labels, fontsize="x-small", title="mean of ratios +- 1 s.e.",
                       title_fontsize="x-small")
    fig.suptitle(f"{title}: against disorder strength (bands: +-1 standard error over realisations)")
    return _save(fig, path)


HISTOGRAM_PANELS = (("tau_c", r"$\tau_c$"), ("energy_max_per_site", r"$E_{\max}/N$"))


def histograms(samples: list[dict], path: str, title: str = "") -> str:
    """Histograms of tau_c and E_max/N over disorder realisations, one outline per size.

    Parameters
    ----------
    samples : list of dict
        ``{"label", "tau_c": [values], "energy_max_per_site": [values], "energy_unit", "time_unit"}``
        (None for a realisation that does not define the figure: left out, counted in the legend).
    """
    plt = _plt()
    u = _units([{"rows": samples}])
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
    colors = _colors(len(samples))
    for ax, (key, lab) in zip(axes, HISTOGRAM_PANELS):
        values = [np.array([v for v in s[key] if v is not None and math.isfinite(v)], dtype=float) for s in samples]
        finite = [v for v in values if v.size]
        lo = min((v.min() for v in finite), default=0.0)
        hi = max((v.max() for v in finite), default=1.0)
        bins = np.linspace(lo, hi if hi > lo else lo + 1e-12 + abs(lo) * 1e-9, 21)
        for s, v, c in zip(samples, values, colors):
            missing = len(s[key]) - v.size
            note = f" ({missing} undefined)" if missing else ""
            ax.hist(v, bins=bins, histtype="step", color=c, lw=1.4, label=f"{s['label']}: {v.size} realisations{note}")
        ax.set_xlabel(f"{lab} [{u.of(key)}]")
        ax.set_ylabel("realisations [count]")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small")
    fig.suptitle(title)
    return _save(fig, path)


def tornado(sensitivities: dict, path: str, energy_max: float | None = None, tau_c: float | None = None,
            title: str = "") -> str:
    """Tornado chart of normalised sensitivities (elasticities, dimensionless): theta dE_max/dtheta / E_max
    (left panel) and theta dtau_c/dtheta / tau_c (right), one bar per parameter, largest |value| on top;
    each bar labelled with the parameter, its value and unit. A parameter whose figure is undefined is
    listed with "n/a".

    Parameters
    ----------
    sensitivities : dict
        ``ChargeResult.sensitivities`` (name -> record with ``value``, ``unit``, ``energy_max``, ``tau_c``).
    path : str
        PNG file to write.
    energy_max, tau_c : float, optional
        The run's E_max (energy units) and tau_c (time units): the normalisation.
    """
    plt = _plt()
    names = list(sensitivities)

    def elasticity(rec, key, ref):
        d = rec.get(key)
        return math.nan if d is None or not ref else rec["value"] * d / ref

    panels = (("energy_max", energy_max, r"$\theta\,\partial E_{\max}/\partial\theta\;/\;E_{\max}$"),
              ("tau_c", tau_c, r"$\theta\,\partial \tau_c/\partial\theta\;/\;\tau_c$"))
    vals = {k: [elasticity(sensitivities[n], k, ref) for n in names] for k, ref, _ in panels}
    order = sorted(range(len(names)), key=lambda i: np.nan_to_num(abs(vals["energy_max"][i]), nan=-1.0))
    fig, axes = plt.subplots(1, 2, figsize=(10, 1.2 + 0.45 * max(len(names), 1)), constrained_layout=True,
                             sharey=True)
    labels = [f"{names[i]} = {sensitivities[names[i]]['value']:g}"
              + (f" [{sensitivities[names[i]]['unit']}]" if sensitivities[names[i]].get("unit") else "")
              for i in order]
    for ax, (key, _ref, lab) in zip(axes, panels):
        v = np.array([vals[key][i] for i in order])
        ax.barh(range(len(order)), np.nan_to_num(v), color=np.where(v >= 0, "tab:red", "tab:blue"))
        for y, x in enumerate(v):
            if not np.isfinite(x):
                ax.annotate("n/a", (0, y), fontsize="x-small", va="center")
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_xlabel(lab + " (dimensionless)")
        ax.grid(axis="x", alpha=0.3)
    axes[0].set_yticks(range(len(order)), labels)
    fig.suptitle(title or "normalised sensitivities")
    return _save(fig, path)
