"""Rows and curves of disordered studies: one realisation per row of ``points.csv``, one point per
row of ``table.csv``, and the mean curves of each point.

``points.csv`` (tidy, one row per point x realisation): ``point`` (the table point's id),
``realisation`` (r), ``unit`` (the stored unit's id), ``role``, the size, the swept values,
``n_sites``, the per-site figures, the Gammas of realisation r against realisation r of the
single-site baseline of the same combination (empty on baseline rows), trajectory standard
errors where the runs have them, ``undefined``, ``method``, ``seed`` (the unit's trajectory seed).

``table.csv`` of a disordered study (one row per point): ``realisations`` (R), then for every
per-site figure and every Gamma X its summary over the realisations
(:func:`collective_qc.analysis.ensemble.summary`): ``X`` (mean), ``X_stderr`` (standard error of
the mean, s / sqrt(n)), ``X_median``, ``X_q10``, ``X_q90``, ``X_n`` (realisations defining it);
the statistics of a Gamma are those of the ``points.csv`` column, i.e. of the per-realisation
ratios. Each Gamma is also given the two ways of
:func:`collective_qc.analysis.ensemble.two_way_gammas`: ``X_mean_of_ratios`` (+ ``_stderr``), the
mean of the per-realisation ratios, and ``X_ratio_of_means`` (+ ``_stderr``, jackknife over the
paired realisations), the Gamma of the averaged battery.
"""

from __future__ import annotations

import numpy as np

from ..analysis.ensemble import summary, two_way_gammas
from ..analysis.figures import FIGURES
from ..analysis.tables import join_reasons
from .points import FIG_COLS, GAMMA_COLS

__all__ = ["unit_rows", "ensemble_rows", "public", "mean_curves", "STATS", "TWO_WAYS", "stat_unit"]

# summary key -> column suffix
STATS = {"mean": "", "stderr": "_stderr", "median": "_median", "q10": "_q10", "q90": "_q90", "n": "_n"}
TWO_WAYS = ("mean_of_ratios", "ratio_of_means")
SERIES = ("energy", "power", "capacitance")


def _pair_rows(spec, results: dict, pid: str, base_pid: str) -> list[tuple]:
    """(unit id, make_row of realisation r against baseline realisation r) for each r."""
    from ..analysis.statistics import make_row

    base_units = spec.units_of[base_pid]
    return [(uid, make_row(results[uid], results[base_units[r]]))
            for r, uid in enumerate(spec.units_of[pid])]


def unit_rows(spec, results: dict) -> list[dict]:
    """The rows of points.csv (canonical order: per combination the baseline, then the sizes, each
    realisation ascending); ``results`` maps unit ids to ChargeResults."""
    errs = any(r.energy_stderr is not None for r in results.values())
    out = []
    for combo in spec.combos:
        for pid in combo["points"]:
            p = spec.by_id[pid]
            cols = (*FIG_COLS, *GAMMA_COLS) if p["size"] is not None else FIG_COLS
            for uid, r in _pair_rows(spec, results, pid, combo["baseline"]):
                u = spec.by_id[uid]
                row = {"point": pid, "realisation": u["realisation"], "unit": uid, "role": p["definition"]["role"],
                       **spec.values(p), "n_sites": r["n_sites"]}
                if p["size"] is None:
                    row[spec.size_param] = int(results[uid].params.get(spec.size_param, r["n_sites"]))
                for col in (*FIG_COLS, *GAMMA_COLS):
                    row[col] = r.get(col) if col in cols else None
                    if errs:
                        row[col + "_stderr"] = r.get(col + "_stderr") if row[col] is not None else None
                row["undefined"] = join_reasons(r["undefined"], cols)
                row.update(method=r["method"], seed=u["seed"], _figures={f: r.get(f) for f in FIGURES})
                out.append(row)
    return out


def ensemble_rows(spec, records: dict, units: list[dict]) -> list[dict]:
    """The table rows of a disordered study (one per point, canonical order) from its
    :func:`unit_rows`, plus ``wall_time_s`` (summed over the realisations)."""
    by_point: dict = {}
    for u in units:
        by_point.setdefault(u["point"], []).append(u)
    rows = []
    for combo in spec.combos:
        for pid in combo["points"]:
            p, us = spec.by_id[pid], by_point[pid]
            row = {"point": pid, "role": p["definition"]["role"], **{k: us[0][k] for k in spec.values(p)},
                   "n_sites": us[0]["n_sites"], "realisations": len(us)}
            size_point = p["size"] is not None
            why = {}
            for col in (*FIG_COLS, *GAMMA_COLS):
                s = summary([u[col] for u in us]) if size_point or col in FIG_COLS else dict.fromkeys(STATS)
                row.update({col + suffix: s[key] for key, suffix in STATS.items()})
                if s["n"] == 0:
                    why[col] = _reason(us, col)
            if size_point:
                base = [u["_figures"] for u in by_point[combo["baseline"]]]
                _two_ways(row, [u["_figures"] for u in us], base, us[0]["n_sites"])
            else:
                row.update({f"{g}_{way}{e}": None for g in GAMMA_COLS for way in TWO_WAYS for e in ("", "_stderr")})
            row["undefined"] = join_reasons(why, (*FIG_COLS, *GAMMA_COLS) if size_point else FIG_COLS)
            units_md = [records[spec.units_of[pid][0]]["record"]["result"]["metadata"].get("units") or {}]
            row.update(method="/".join(sorted({u["method"] for u in us})), energy_unit=units_md[0].get("energy"),
                       time_unit=units_md[0].get("time"), seed=p["seed"],
                       wall_time_s=sum(records[uid]["record"]["provenance"]["wall_time_s"]
                                       for uid in spec.units_of[pid]))
            rows.append(row)
    return rows


def _reason(us: list[dict], col: str) -> str:
    """Why a column has no value in any realisation: the first realisation's reason."""
    for u in us:
        for part in (u.get("undefined") or "").split(" | "):
            if part.startswith(col + ": "):
                return f"in none of {len(us)} realisations ({part[len(col) + 2:]})"
    return f"in none of {len(us)} realisations"


def _two_ways(row: dict, figs_n: list, figs_1: list, n_sites) -> None:
    """The Gammas as mean of ratios and ratio of means, with their standard errors."""
    two = two_way_gammas(figs_n, figs_1, n_sites)
    for g in GAMMA_COLS:
        mor, rom = two[g]["mean_of_ratios"], two[g]["ratio_of_means"]
        row.update({f"{g}_mean_of_ratios": mor["mean"], f"{g}_mean_of_ratios_stderr": mor["stderr"],
                    f"{g}_ratio_of_means": rom["value"], f"{g}_ratio_of_means_stderr": rom["stderr"]})


def public(rows: list[dict]) -> list[dict]:
    """points.csv rows without the private per-realisation figures."""
    return [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]


def mean_curves(spec, records: dict, pid: str) -> dict:
    """The curves of one disordered point: ``times``; ``energy``, ``power``, ``capacitance`` as means
    over its realisations and ``*_stderr`` (standard error of the mean, zero for one realisation);
    ``realisations``: {series: (R, times) array}; ``drawn``: {attribute: (R, targets) array};
    ``targets``: {attribute: node or edge labels}."""
    uids = spec.units_of[pid]
    arrays = [records[u]["arrays"] for u in uids]
    out = {"times": arrays[0]["times"], "realisations": {}}
    for k in SERIES:
        stack = np.stack([a[k] for a in arrays])
        out["realisations"][k] = stack
        out[k] = stack.mean(axis=0)
        out[k + "_stderr"] = (stack.std(axis=0, ddof=1) / np.sqrt(len(uids)) if len(uids) > 1
                              else np.zeros_like(out[k]))
    drawn = [records[u]["record"]["result"]["metadata"]["disorder"]["drawn"] for u in uids]
    out["drawn"] = {a: np.array([d[a]["values"] for d in drawn]) for a in drawn[0]}
    out["targets"] = {a: drawn[0][a]["targets"] for a in drawn[0]}
    return out


def stat_unit(units, col: str) -> str:
    """The unit of a table.csv column of a disordered study (counts ``*_n`` have none)."""
    if col.endswith("_n") or col == "realisations":
        return ""
    for suffix in ("_median", "_q10", "_q90", *(f"_{w}" for w in TWO_WAYS)):
        col = col.replace(suffix, "")
    return units.of(col)

