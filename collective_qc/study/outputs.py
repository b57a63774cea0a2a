"""Study outputs, pure functions of the verified point records: table.csv, timings.csv,
timeseries.h5, plots/*.png (drawn by :mod:`collective_qc.plots`) and the printed table.

``table.csv``: one row per point, canonical order (swept values, n_sites, per-site figures,
Gamma ratios and standard errors where present, method, units, seed). Wall times go to
``timings.csv`` so that the table (and the HDF5 file) are byte-identical for identical configs.
"""

from __future__ import annotations

import io
import json
import os

import numpy as np

from ..tables import cell, text_table
from .files import write_atomic
from .points import ARRAYS, FIG_COLS, GAMMA_COLS, canon

__all__ = ["table_rows", "write_tables", "write_h5", "write_plots", "plot_names", "format_table"]


def _result(loaded):
    from ..results import ChargeResult

    a, res = loaded["arrays"], loaded["record"]["result"]
    obs = {n: a[f"obs_{k}"] for k, n in enumerate(res["observables"])}
    obs_err = {n: a[f"obs_{k}_stderr"] for k, n in enumerate(res["observables"]) if f"obs_{k}_stderr" in a}
    return ChargeResult(**{k: a.get(k) for k in ARRAYS}, **res["scalars"], metadata=res["metadata"],
                        observables=obs, observables_stderr=obs_err or None)


def table_rows(spec, records: dict) -> list[dict]:
    """The table rows (canonical order) of the points of `spec`, plus ``wall_time_s``."""
    from ..compare import make_row

    results = {pid: _result(records[pid]) for pid in spec.by_id}
    errs = any(r.energy_stderr is not None for r in results.values())
    rows = []
    for combo in spec.combos:
        base = results[combo["baseline"]]
        for pid in combo["points"]:
            p = spec.by_id[pid]
            r = make_row(results[pid], base)
            row = {"point": pid, "role": p["definition"]["role"], **spec.values(p), "n_sites": r["n_sites"]}
            for col in (*FIG_COLS, *GAMMA_COLS):
                row[col] = r.get(col) if (p["size"] is not None or col in FIG_COLS) else None
                if errs:
                    row[col + "_stderr"] = r.get(col + "_stderr") if row[col] is not None else None
            units = records[pid]["record"]["result"]["metadata"].get("units") or {}
            row.update(method=r["method"], energy_unit=units.get("energy"), time_unit=units.get("time"),
                       seed=p["seed"], wall_time_s=records[pid]["record"]["provenance"]["wall_time_s"])
            rows.append(row)
    return rows


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # shortest string that reads back to the same float
    return str(v)


def _csv(cols, rows) -> bytes:
    import csv

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([_cell(r[c]) for c in cols])
    return buf.getvalue().encode()


def write_tables(out_dir: str, rows: list[dict]) -> None:
    """table.csv (pure function of the config) and timings.csv (wall time per point)."""
    cols = [c for c in rows[0] if c != "wall_time_s"]
    write_atomic(os.path.join(out_dir, "table.csv"), _csv(cols, rows))
    write_atomic(os.path.join(out_dir, "timings.csv"), _csv(["point", "n_sites", "wall_time_s"], rows))


def write_h5(out_dir: str, spec, config: dict, config_hash: str, records: dict) -> None:
    """timeseries.h5: one group per point (arrays with units; definition and seed as attributes)."""
    import h5py

    path = os.path.join(out_dir, "timeseries.h5")
    tmp = os.path.join(out_dir, f".timeseries.h5.{os.getpid()}.tmp")
    with h5py.File(tmp, "w", track_order=False) as f:
        f.attrs.update(study=spec.name, model=spec.model, config=canon(config), config_hash=config_hash,
                       size_param=spec.size_param)
        for p in spec.points:
            res, arrays = records[p["id"]]["record"]["result"], records[p["id"]]["arrays"]
            s, units = res["scalars"], res["metadata"].get("units", {})
            eu, tu = units.get("energy", "omega0"), units.get("time", "1/omega0")
            g = f.create_group(p["id"])
            g.attrs.update(role=p["definition"]["role"], model=s["model"], n_sites=s["n_sites"],
                           method=s["method"], drive=s["drive"], seed=p["seed"], energy_unit=eu, time_unit=tu,
                           params=json.dumps(s["params"]), run=json.dumps(p["definition"]["run"]))
            for k, v in s["params"].items():
                g.attrs[f"param.{k}"] = v
            for k, v in p["definition"]["run"].items():
                g.attrs[f"run.{k}"] = v
            unit = {"times": tu, "energy": eu, "power": f"{eu}/({tu})", "capacitance": "1 (dE/dlambda)"}
            for k in sorted(arrays):
                ds = g.create_dataset(k, data=arrays[k], track_times=False)
                ds.attrs["units"] = unit.get(k.removesuffix("_stderr"), "")
                if k == "jackknife":
                    ds.attrs["units"] = f"E [{eu}], P [{eu}/({tu})], C_Q [1]"
                    ds.attrs["meaning"] = ("(3, G, n_times): E, P, C_Q averaged without trajectory group g "
                                           "(index mod G), for delete-one-group jackknife errors")
            for k, name in enumerate(res["observables"]):
                g[f"obs_{k}"].attrs["name"] = name
    os.replace(tmp, path)


def plot_names(spec) -> list[str]:
    """The files :func:`write_plots` writes (relative to the study directory)."""
    series = ["timeseries.png"] if len(spec.timeseries) == 1 else \
        [f"timeseries-{k + 1}.png" for k in range(len(spec.timeseries))]
    return [f"plots/{n}" for n in ("per_site.png", "gammas.png", *series)]


def _label(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def write_plots(out_dir: str, spec, rows: list[dict], records: dict) -> list[str]:
    """per_site.png, gammas.png and the time-series figures of ``[plots] timeseries``."""
    from .. import plots

    os.makedirs(os.path.join(out_dir, "plots"), exist_ok=True)
    names = [os.path.join(out_dir, n) for n in plot_names(spec)]
    by_id = {r["point"]: r for r in rows}
    groups = [{"label": _label(c["values"]) or spec.model, "baseline": by_id[c["baseline"]],
               "rows": [by_id[pid] for pid in c["points"][1:]]} for c in spec.combos]
    files = [plots.per_site_vs_n(groups, names[0], title=spec.name),
             plots.gammas_vs_n(groups, names[1], title=spec.name)]
    for k, sel in enumerate(spec.timeseries):
        curves = []
        for p in spec.select(sel):
            rec = records[p["id"]]
            combo = spec.combo_of[p["id"]]
            base = {"label": "single site" + (f" ({_label(combo['values'])})" if combo["values"] else ""),
                    **records[combo["baseline"]]["arrays"]}
            curves.append({"label": _label(spec.values(p)), **rec["arrays"], "baseline": base,
                           "n_sites": rec["record"]["result"]["scalars"]["n_sites"],
                           "units": rec["record"]["result"]["metadata"].get("units", {})})
        files.append(plots.timeseries(curves, names[2 + k], title=f"{spec.name}: {_label(sel)}"))
    return files


def format_table(rows: list[dict], size_param: str = "N") -> str:
    """A printable advantage table of study rows: swept values, per-site figures and Gamma, with
    value(error) cells for trajectory rows (:func:`collective_qc.tables.cell`)."""
    skip = {"point", "role", "n_sites", "method", "seed", "wall_time_s", "energy_unit", "time_unit", size_param,
            *FIG_COLS, *GAMMA_COLS}
    swept = [c for c in rows[0] if c not in skip and not c.endswith("_stderr")] if rows else []
    figs = ("tau_c", "energy_max_per_site", "power_max_per_site", "capacitance_at_tau_c_per_site", *GAMMA_COLS[:4])
    head = [size_param, *swept, "N_sites", "tau_c", "E_max/N", "P_max/N", "C_Q*/N", "G_P", "G_tau", "G_C", "G_E",
            "method"]
    body = []
    for r in rows:
        size = "base" if r["role"] == "baseline" else r[size_param]
        body.append([str(size), *(cell(r[c]) for c in swept), str(r["n_sites"]),
                     *(cell(r.get(c), r.get(c + "_stderr")) for c in figs), str(r["method"])])
    lines = text_table(head, body)
    if any(r.get("gamma_power_stderr") is not None for r in rows):
        lines.append("x(e): value with one standard error e in its last digits (trajectory averages)")
    units = sorted({(r.get("energy_unit"), r.get("time_unit")) for r in rows if r.get("energy_unit")})
    if units:
        lines.append("units: " + "; ".join(f"energy {e}, time {t}" for e, t in units))
    return "\n".join(lines)
