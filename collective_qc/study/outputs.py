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

from ..analysis.tables import cell, join_reasons, parse_reasons, text_table, undefined_notes
from ..core.units import JACKKNIFE_QUANTITIES
from .files import write_atomic
from .points import ARRAYS, FIG_COLS, GAMMA_COLS, canon

__all__ = ["table_rows", "realisation_rows", "point_curves", "write_tables", "write_h5", "group_names", "cutoff_note",
           "write_plots", "plot_names", "format_table"]


def _result(loaded):
    from ..analysis.results import ChargeResult

    a, res = loaded["arrays"], loaded["record"]["result"]
    obs = {n: a[f"obs_{k}"] for k, n in enumerate(res["observables"])}
    obs_err = {n: a[f"obs_{k}_stderr"] for k, n in enumerate(res["observables"]) if f"obs_{k}_stderr" in a}
    return ChargeResult(**{k: a.get(k) for k in ARRAYS}, **res["scalars"], metadata=res["metadata"],
                        observables=obs, observables_stderr=obs_err or None)


def realisation_rows(spec, records: dict) -> list[dict] | None:
    """The rows of points.csv (one per point x realisation, :func:`.ensembles.unit_rows`) of a
    disordered study; None for a study without disorder (it writes no points.csv)."""
    from .ensembles import unit_rows

    if not spec.disordered:
        return None
    return unit_rows(spec, {u["id"]: _result(records[u["id"]]) for u in spec.points})


def table_rows(spec, records: dict, units: list | None = None) -> list[dict]:
    """The table rows (canonical order) of the points of `spec`, plus ``wall_time_s``; a
    disordered study's rows summarise its realisations (:func:`.ensembles.ensemble_rows`, from
    `units`, its :func:`realisation_rows`, computed when not given)."""
    from ..analysis.statistics import make_row

    if spec.disordered:
        from .ensembles import ensemble_rows

        return ensemble_rows(spec, records, realisation_rows(spec, records) if units is None else units)
    results = {p["id"]: _result(records[p["id"]]) for p in spec.points}
    errs = any(r.energy_stderr is not None for r in results.values())
    rows = []
    for combo in spec.combos:
        base = results[combo["baseline"]]
        for pid in combo["points"]:
            p = spec.by_id[pid]
            r = make_row(results[pid], base)
            row = {"point": pid, "role": p["definition"]["role"], **spec.values(p), "n_sites": r["n_sites"]}
            if p["size"] is None:  # the baseline's own size (1 for Model.single_site), an integer in table.csv
                row[spec.size_param] = int(results[pid].params.get(spec.size_param, r["n_sites"]))
            cols = (*FIG_COLS, *GAMMA_COLS) if p["size"] is not None else FIG_COLS
            for col in (*FIG_COLS, *GAMMA_COLS):
                row[col] = r.get(col) if col in cols else None
                if errs:
                    row[col + "_stderr"] = r.get(col + "_stderr") if row[col] is not None else None
            row["undefined"] = join_reasons(r["undefined"], cols)
            units = records[pid]["record"]["result"]["metadata"].get("units") or {}
            row.update(method=r["method"], energy_unit=units.get("energy"), time_unit=units.get("time"),
                       seed=p["seed"], wall_time_s=records[pid]["record"]["provenance"]["wall_time_s"])
            rows.append(row)
    return rows


def point_curves(spec, records: dict) -> dict:
    """Table point id -> its curves: the stored arrays of a point, or for a disordered point the
    means over its realisations with standard errors (:func:`.ensembles.mean_curves`)."""
    from .ensembles import mean_curves

    if not spec.disordered:
        return {p["id"]: records[p["id"]]["arrays"] for p in spec.table_points}
    return {p["id"]: mean_curves(spec, records, p["id"]) for p in spec.table_points}


def first_record(spec, records: dict, pid: str) -> dict:
    """The stored record of a table point, or of its first realisation."""
    return records[spec.units_of[pid][0]]


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


def write_tables(out_dir: str, rows: list[dict], units: list[dict] | None = None) -> None:
    """table.csv (pure function of the config), timings.csv (wall time per point, summed over its
    realisations) and, for a disordered study, points.csv (`units`: one row per point x realisation)."""
    from .ensembles import public

    cols = [c for c in rows[0] if c != "wall_time_s"]
    write_atomic(os.path.join(out_dir, "table.csv"), _csv(cols, rows))
    write_atomic(os.path.join(out_dir, "timings.csv"), _csv(["point", "n_sites", "wall_time_s"], rows))
    if units is not None:
        units = public(units)
        write_atomic(os.path.join(out_dir, "points.csv"), _csv(list(units[0]), units))


def write_h5(out_dir: str, spec, config: dict, config_hash: str, records: dict, rows: list | None = None) -> None:
    """timeseries.h5, a netCDF4-compatible HDF5 file (``xarray.open_dataset(path, engine="h5netcdf")``
    reads it, ``group=NAME`` a point).

    Root: the table (:func:`table_rows` without wall times) over dimension ``point``, whose
    coordinate holds the readable group names; with a time grid shared by every point also
    ``energy``, ``power``, ``capacitance`` (and ``*_stderr``) over (point, times). One group per
    point, named by its size and swept values (``N=4,J=0.2``; ``base,J=0.2`` for the single-site
    baseline; :func:`group_names`), with ``times`` as a coordinate (dimension scale) of its series
    and the point id, definition, seed and units as attributes. Units: :meth:`Units.of`.
    A number that is not a result is NaN (an empty cell in table.csv); the dataset's ``undefined``
    attribute maps each such point's group name to the reason, and the group's ``undefined``
    attribute holds the row's reasons (the ``undefined`` column of table.csv).

    A disordered point's group holds the means over its realisations (``energy``, ``power``,
    ``capacitance``) with their standard errors (``*_stderr``), every realisation's curves
    (``energy_realisations``, ... over (``realisation``, ``times``)) and the drawn values
    (``disorder_<attribute>`` over (``realisation``, ``target_<attribute>``), the targets' labels
    in its ``targets`` attribute as JSON); the root series are the means.
    """
    import h5py

    rows = table_rows(spec, records) if rows is None else rows
    names = group_names(spec)
    curves = point_curves(spec, records)
    path = os.path.join(out_dir, "timeseries.h5")
    tmp = os.path.join(out_dir, f".timeseries.h5.{os.getpid()}.tmp")
    with h5py.File(tmp, "w", track_order=False) as f:
        f.attrs.update(study=spec.name, model=spec.model, config=canon(config), config_hash=config_hash,
                       size_param=spec.size_param, layout="netCDF4 (h5netcdf): root table over 'point', "
                       "one group per point")
        _h5_table(f, rows, names, curves, _units(first_record(spec, records, rows[0]["point"])))
        why = {r["point"]: r.get("undefined") for r in rows}
        for p in spec.table_points:
            g = f.create_group(names[p["id"]])
            _h5_point(g, p, spec, first_record(spec, records, p["id"]), curves[p["id"]])
            if why.get(p["id"]):
                g.attrs["undefined"] = why[p["id"]]
    os.replace(tmp, path)


def group_names(spec) -> dict:
    """point id -> readable, unique HDF5 group name: ``N=4`` or ``base``, then ``,col=value`` per
    swept column (``N=4,J=0.2``); a ``/`` in a value becomes ``|``; a name that would repeat gets
    its point id appended."""
    out, seen = {}, set()
    for p in spec.table_points:
        head = "base" if p["size"] is None else f"{spec.size_param}={p['size']}"
        vals = spec.combo_of[p["id"]]["values"]
        name = ",".join([head, *(f"{k}={_cell(v)}" for k, v in vals.items())]).replace("/", "|")
        if name in seen or name.startswith("."):
            name = f"{name},{p['id']}"
        seen.add(name)
        out[p["id"]] = name
    return out


def _units(record: dict):
    from ..core.units import units_of

    return units_of(record["record"]["result"]["metadata"].get("units") or {})


def _scale(g, name: str, data):
    ds = g.create_dataset(name, data=data, track_times=False)
    ds.make_scale(name)
    return ds


def _h5_table(f, rows: list, names: dict, curves: dict, units) -> None:
    """The study table at the root, over dimension ``point`` (+ shared time series)."""
    import h5py

    from ..analysis.frames import column_array
    from .ensembles import stat_unit

    point = _scale(f, "point", np.array([names[r["point"]] for r in rows], dtype=h5py.string_dtype()))
    point.attrs["long_name"] = "HDF5 group of the point"
    why = [parse_reasons(r.get("undefined")) for r in rows]
    for col in (c for c in rows[0] if c not in ("point", "wall_time_s")):
        arr = column_array([r[col] for r in rows], col)
        ds = f.create_dataset(col, data=arr.astype(h5py.string_dtype()) if arr.dtype.kind == "U" else arr,
                              track_times=False)
        ds.dims[0].attach_scale(point)
        if stat_unit(units, col):
            ds.attrs["units"] = stat_unit(units, col)
        reasons = {names[r["point"]]: w[col] for r, w in zip(rows, why) if col in w}
        if reasons:  # NaN entries that are not results, and why (group name -> reason)
            ds.attrs["undefined"] = json.dumps(reasons, sort_keys=True)
    f["point_id"] = np.array([r["point"] for r in rows], dtype=h5py.string_dtype())
    f["point_id"].dims[0].attach_scale(point)
    ts = [curves[r["point"]]["times"] for r in rows]
    if not all(t.shape == ts[0].shape and np.array_equal(t, ts[0]) for t in ts):
        return
    times = _scale(f, "times", ts[0])
    times.attrs["units"] = units.time
    for k in ("energy", "power", "capacitance", "energy_stderr", "power_stderr", "capacitance_stderr"):
        if all(k in curves[r["point"]] for r in rows):
            ds = f.create_dataset(k, data=np.stack([curves[r["point"]][k] for r in rows]), track_times=False)
            ds.dims[0].attach_scale(point)
            ds.dims[1].attach_scale(times)
            ds.attrs["units"] = units.of(k)


def _h5_point(g, p: dict, spec, loaded: dict, arrays: dict) -> None:
    """One point's group: attributes, ``times`` (dimension scale), series, jackknife, observables;
    for a disordered point (`loaded` its first realisation) the mean curves, the realisations'
    curves and the drawn values."""
    res = loaded["record"]["result"]
    s, units = res["scalars"], _units(loaded)
    g.attrs.update(point=p["id"], definition_hash=p["id"].rsplit("-", 1)[1], role=p["definition"]["role"],
                   model=s["model"], n_sites=s["n_sites"], method=s["method"], drive=s["drive"], seed=p["seed"],
                   energy_unit=units.energy, time_unit=units.time, params=json.dumps(s["params"]),
                   run=json.dumps(p["definition"]["run"]))
    for k, v in s["params"].items():
        g.attrs[f"param.{k}"] = v
    for k, v in p["definition"]["run"].items():
        g.attrs[f"run.{k}"] = v
    for k, v in spec.values(p).items():
        if v is not None:
            g.attrs[f"value.{k}"] = v
    times = _scale(g, "times", arrays["times"])
    times.attrs["units"] = units.time
    if "realisations" in arrays:
        _h5_ensemble(g, p, spec, arrays, times, units)
        return
    obs = {f"obs_{k}": name for k, name in enumerate(res["observables"])}
    for k in sorted(a for a in arrays if a not in ("times", "jackknife")):
        base = k.removesuffix("_stderr")
        name = obs.get(base, base).replace("/", "|") + k[len(base):]
        ds = g.create_dataset(name, data=arrays[k], track_times=False)
        ds.dims[0].attach_scale(times)
        ds.attrs["units"] = units.of(name)
        if base in obs:
            ds.attrs["name"] = obs[base] + k[len(base):]
    if "jackknife" in arrays:
        _h5_jackknife(g, arrays["jackknife"], times, units)


def _h5_ensemble(g, p: dict, spec, arrays: dict, times, units) -> None:
    """A disordered point's group: mean curves and standard errors over (times), every
    realisation's curves over (realisation, times), drawn values over (realisation, target)."""
    R = len(spec.units_of[p["id"]])
    g.attrs.update(realisations=R, disorder=json.dumps(p["definition"]["disorder"], sort_keys=True),
                   units_ids=json.dumps(spec.units_of[p["id"]]))
    real = _scale(g, "realisation", np.arange(R, dtype=np.int64))
    for k in ("energy", "power", "capacitance"):
        for name, data, dims in ((k, arrays[k], (times,)), (k + "_stderr", arrays[k + "_stderr"], (times,)),
                                 (k + "_realisations", arrays["realisations"][k], (real, times))):
            ds = g.create_dataset(name, data=data, track_times=False)
            for axis, scale in enumerate(dims):
                ds.dims[axis].attach_scale(scale)
            ds.attrs["units"] = units.of(k)
        g[k + "_stderr"].attrs["meaning"] = "standard error of the mean over the realisations"
    for attr, values in arrays["drawn"].items():
        tgt = _scale(g, f"target_{attr}", np.arange(values.shape[1], dtype=np.int64))
        ds = g.create_dataset(f"disorder_{attr}", data=values, track_times=False)
        ds.dims[0].attach_scale(real)
        ds.dims[1].attach_scale(tgt)
        ds.attrs["units"] = _attribute_unit(units, attr)
        ds.attrs["targets"] = json.dumps(arrays["targets"][attr])


def _attribute_unit(units, attr: str) -> str:
    """The unit of a drawn graph attribute: rates (gamma, kappa) in energy unit / hbar, the
    anisotropy Delta and the charger weight dimensionless, every other attribute an energy."""
    from ..core.units import rate_unit

    if attr in ("gamma", "kappa"):
        return rate_unit(units.energy, units.time)
    return "" if attr in ("Delta", "weight") else units.energy


def _h5_jackknife(g, jack, times, units) -> None:
    import h5py

    q = _scale(g, "quantity", np.array(JACKKNIFE_QUANTITIES, dtype=h5py.string_dtype()))
    grp = _scale(g, "group", np.arange(jack.shape[1], dtype=np.int64))
    ds = g.create_dataset("jackknife", data=jack, track_times=False)
    for axis, scale in enumerate((q, grp, times)):
        ds.dims[axis].attach_scale(scale)
    ds.attrs["units"] = ", ".join(f"{k} [{units.of(k)}]" for k in JACKKNIFE_QUANTITIES)
    ds.attrs["meaning"] = ("(quantity, group, times): E, P, C_Q averaged without trajectory group g "
                           "(index mod G), for delete-one-group jackknife errors")


def cutoff_note(spec, records: dict, points: list) -> str | None:
    """One line on the automatic Fock cutoffs doubled in `points` (labels: HDF5 group names, with
    ``,r=R`` for a realisation), or None (:func:`collective_qc.planning.cutoff.refinement_note`)."""
    from ..planning.cutoff import refinement_note

    names = group_names(spec)

    def label(p):
        return names[p["id"]] if "point" not in p else f"{names[p['point']]},r={p['realisation']}"

    return refinement_note({label(p): records[p["id"]]["record"]["result"]["metadata"]
                            for p in points if records.get(p["id"])})


def _disorder_axis(spec):
    """The swept disorder scale the disorder plots run along (the first one written), or None."""
    return next((key for sec, key, _ in spec.swept if sec == "disorder"), None)


def plot_names(spec) -> list[str]:
    """The files :func:`write_plots` writes (relative to the study directory)."""
    series = ["timeseries.png"] if len(spec.timeseries) == 1 else \
        [f"timeseries-{k + 1}.png" for k in range(len(spec.timeseries))]
    extra = []
    if spec.disordered:
        extra = (["disorder.png"] if _disorder_axis(spec) else []) + ["histograms.png"]
    return [f"plots/{n}" for n in ("per_site.png", "gammas.png", *series, *extra)]


def _label(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def write_plots(out_dir: str, spec, rows: list[dict], records: dict, units: list | None = None) -> list[str]:
    """per_site.png, gammas.png and the time-series figures of ``[plots] timeseries``; for a
    disordered study also disorder.png (when a disorder scale is swept) and histograms.png
    (:func:`disorder_plots`; `units`: its points.csv rows, computed when not given)."""
    from .. import plots

    os.makedirs(os.path.join(out_dir, "plots"), exist_ok=True)
    names = [os.path.join(out_dir, n) for n in plot_names(spec)]
    by_id = {r["point"]: r for r in rows}
    groups = [{"label": _label(c["values"]) or spec.model, "baseline": by_id[c["baseline"]],
               "rows": [by_id[pid] for pid in c["points"][1:]]} for c in spec.combos]
    files = [plots.per_site_vs_n(groups, names[0], title=spec.name),
             plots.gammas_vs_n(groups, names[1], title=spec.name)]
    curves = point_curves(spec, records)
    mean = f" (mean of {spec.realisations} realisations)" if spec.disordered else ""
    for k, sel in enumerate(spec.timeseries):
        drawn = []
        for p in spec.select(sel):
            rec = first_record(spec, records, p["id"])
            combo = spec.combo_of[p["id"]]
            base = {"label": "single site" + (f" ({_label(combo['values'])})" if combo["values"] else "") + mean,
                    **curves[combo["baseline"]]}
            drawn.append({"label": _label(spec.values(p)) + mean, **curves[p["id"]], "baseline": base,
                          "n_sites": rec["record"]["result"]["scalars"]["n_sites"],
                          "units": rec["record"]["result"]["metadata"].get("units", {})})
        files.append(plots.timeseries(drawn, names[2 + k], title=f"{spec.name}: {_label(sel)}"))
    if spec.disordered:
        units = realisation_rows(spec, records) if units is None else units
        files += disorder_plots(spec, rows, units, names[2 + len(spec.timeseries):])
    return files


def disorder_plots(spec, rows: list[dict], units: list[dict], paths: list[str]) -> list[str]:
    """disorder.png: Gamma_P and tau_c against the first swept disorder scale W, one line per size
    and value of the other swept keys; histograms.png: tau_c and E_max/N over the realisations of
    every size at the largest W, the other swept keys at their first combination's values."""
    from .. import plots

    key = _disorder_axis(spec)
    files = []
    col = spec.columns.get(key) if key else None
    if col:
        lines: dict = {}
        for r in rows:
            if r["role"] == "size":
                other = {k: v for k, v in spec.combo_of[r["point"]]["values"].items() if k != col}
                label = _label({spec.size_param: r[spec.size_param], **other})
                lines.setdefault(label, {"label": label, "x": [], "rows": []})
                lines[label]["x"].append(r[col])
                lines[label]["rows"].append(r)
        attr, param = key.split(".")[1:]
        dist = spec.dists[attr][0]
        unit = _attribute_unit(_units_of_rows(rows), attr)
        xlabel = f"W: {dist} {param} of {attr}" + (f" [{unit}]" if unit else " [dimensionless]")
        files.append(plots.vs_disorder(list(lines.values()), paths[0], xlabel, title=spec.name))
    first = spec.combos[0]["values"]
    strength = max((c["values"][col] for c in spec.combos), default=None) if col else None
    combo = next(c for c in spec.combos if all(c["values"].get(k) == v for k, v in first.items() if k != col)
                 and (col is None or c["values"][col] == strength))
    samples = []
    for pid in combo["points"][1:]:
        us = [u for u in units if u["point"] == pid]
        r0 = next(r for r in rows if r["point"] == pid)
        samples.append({"label": f"{spec.size_param}={spec.by_id[pid]['size']}", "tau_c": [u["tau_c"] for u in us],
                        "energy_max_per_site": [u["energy_max_per_site"] for u in us],
                        "energy_unit": r0["energy_unit"], "time_unit": r0["time_unit"]})
    title = f"{spec.name}: over {spec.realisations} disorder realisations" + (
        f" at {_label(combo['values'])}" if combo["values"] else "")
    files.append(plots.histograms(samples, paths[-1], title=title))
    return files


def _units_of_rows(rows: list[dict]):
    from ..core.units import Units

    r = next((r for r in rows if r.get("energy_unit")), {})
    return Units(r.get("energy_unit") or "omega0", r.get("time_unit") or "1/omega0")


def format_table(rows: list[dict], size_param: str = "N") -> str:
    """A printable advantage table of study rows: swept values, per-site figures and Gamma, with
    value(error) cells for trajectory rows (:func:`collective_qc.analysis.tables.cell`)."""
    skip = {"point", "role", "n_sites", "method", "seed", "wall_time_s", "energy_unit", "time_unit", size_param,
            "undefined", "realisations", *FIG_COLS, *GAMMA_COLS}
    stats = tuple(f"{c}_" for c in (*FIG_COLS, *GAMMA_COLS))  # tau_c_stderr, gamma_power_q10, ...
    swept = [c for c in rows[0] if c not in skip and not c.endswith("_stderr") and not c.startswith(stats)] \
        if rows else []
    figs = ("tau_c", "energy_max_per_site", "power_max_per_site", "capacitance_at_tau_c_per_site", *GAMMA_COLS[:4])
    head = [size_param, *swept, "N_sites", "tau_c", "E_max/N", "P_max/N", "C_Q*/N", "G_P", "G_tau", "G_C", "G_E",
            "method"]
    body = []
    for r in rows:
        size = "base" if r["role"] == "baseline" else r[size_param]
        body.append([str(size), *(cell(r[c]) for c in swept), str(r["n_sites"]),
                     *(cell(r.get(c), r.get(c + "_stderr")) for c in figs), str(r["method"])])
    lines = text_table(head, body)
    names = dict(zip(figs, head[len(swept) + 2:]))
    entries = [(("base" if b[0] == "base" else f"{size_param} = {b[0]}")
                + "".join(f", {c} = {v}" for c, v in zip(swept, b[1:1 + len(swept)])),
                parse_reasons(r.get("undefined"))) for r, b in zip(rows, body)]
    lines += undefined_notes(entries, names)
    if any(r["role"] == "baseline" for r in rows):
        lines.append("base: the single-site version each Gamma is measured against (its own Gammas are 1)")
    if rows and "realisations" in rows[0]:
        lines.append(f"x(e): mean over {rows[0]['realisations']} disorder realisations with one standard error e "
                     "in its last digits; Gammas: mean of the per-realisation ratios (table.csv also has the "
                     "ratio of means, medians and quantiles; points.csv every realisation)")
    elif any(r.get("gamma_power_stderr") is not None for r in rows):
        lines.append("x(e): value with one standard error e in its last digits (trajectory averages)")
    units = sorted({(r.get("energy_unit"), r.get("time_unit")) for r in rows if r.get("energy_unit")})
    if units:
        lines.append("units: " + "; ".join(f"energy {e}, time {t}" for e, t in units))
    return "\n".join(lines)
