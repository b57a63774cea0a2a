"""The xarray view of a finished study (:meth:`collective_qc.study.Study.to_xarray`).

The per-result and per-table views (:func:`collective_qc.analysis.frames.result_frame`,
:func:`collective_qc.analysis.frames.rows_frame`, ...) are in :mod:`collective_qc.analysis.frames`; this module
lays a study's rows and stored time series out over its swept coordinates. xarray is optional
(``pip install "collective-qc[frames]"``), imported only when the view is asked for.
"""

from __future__ import annotations

import numpy as np

from ..analysis.frames import SERIES, column_array, require
from ..core.units import Units

__all__ = ["study_dataset"]


def study_dataset(spec, rows: list[dict], curves: dict, units: Units):
    """An xarray Dataset of a finished study over its swept coordinates.

    Dimensions: the swept axes (e.g. ``J``; a ``[sweep] zip`` group is one dimension named by its
    first column, the other columns of the group being coordinates along it), then the size
    parameter (e.g. ``N``), and ``times`` when every point has the same sample times. `curves`:
    table point id -> its arrays (:func:`collective_qc.study.outputs.point_curves`; a disordered
    study's means over realisations). Variables over (swept..., N): every table column
    (figures per site, Gammas, standard errors, ``n_sites``, ``method``, ``seed``, ...); over
    (swept...): the single-site baseline's columns (but the Gammas) as ``baseline_<column>``; with a shared time grid
    also ``energy``, ``power``, ``capacitance`` (totals, and ``*_stderr``) over (swept..., N, times)
    and ``baseline_energy``, ... Each variable has a ``units`` attribute (from `units`, the study's
    :class:`~collective_qc.core.units.Units`).
    """
    xr = require("xarray", "Study.to_xarray()")
    size = spec.size_param
    dims = [spec.columns[ax.keys[0]] for ax in spec.axes]
    coords = {spec.columns[ax.keys[0]]: list(ax.entries[0][2]) for ax in spec.axes}
    coords.update({spec.columns[key]: (spec.columns[ax.keys[0]], list(vals)) for ax in spec.axes
                   for _, key, vals in ax.entries[1:]})
    coords[size] = list(spec.sizes)
    shape = tuple(len(coords[d]) for d in dims)
    by_id = {r["point"]: r for r in rows}
    skip = {"point", "role", size, "wall_time_s", *(spec.columns[key] for _, key, _ in spec.swept)}
    columns = [c for c in rows[0] if c not in skip]
    data = {}
    for role, prefix, extra in (("size", "", (size,)), ("baseline", "baseline_", ())):
        full = shape + ((len(spec.sizes),) if extra else ())
        grid = _grid(spec, by_id, role, len(spec.sizes))
        for col in columns if role == "size" else [c for c in columns if not c.startswith("gamma")]:
            values = [by_id[pid][col] if pid else None for pid in grid]
            data[prefix + col] = ([*dims, *extra], column_array(values, col).reshape(full), _attrs(units, col))
        _series(data, curves, grid, full, units, (prefix, [*dims, *extra]))
    times = _shared_times(curves)
    if times is not None:
        coords["times"] = times
    ds = xr.Dataset({k: v for k, v in data.items() if times is not None or "times" not in v[0]}, coords=coords)
    ds[size].attrs["long_name"] = "size parameter of the model"
    if times is not None:
        ds["times"].attrs["units"] = units.time
    ds.attrs.update(study=spec.name, model=spec.model, size_param=size)
    return ds


def _attrs(units: Units, col: str) -> dict:
    from .ensembles import stat_unit

    u = stat_unit(units, col)  # units.of, and the statistics columns of a disordered study
    return {"units": u} if u else {}


def _grid(spec, by_id, role: str, n_sizes: int) -> list:
    """Point ids laid out over the swept grid (and the sizes for ``role`` "size"), flattened."""
    per = n_sizes if role == "size" else 1
    grid = [None] * (int(np.prod([len(ax) for ax in spec.axes], dtype=int)) * per)
    for combo in spec.combos:
        flat = 0
        for ax in spec.axes:
            v = tuple(combo["values"][spec.columns[key]] for key in ax.keys)
            flat = flat * len(ax) + next(i for i, x in enumerate(ax.choices) if x == v)
        if role == "baseline":
            grid[flat] = combo["baseline"]
        else:
            for k, pid in enumerate(combo["points"][1:]):
                grid[flat * n_sizes + k] = pid if pid in by_id else None
    return grid


def _shared_times(curves: dict):
    """The sample times when every point has the same ones, else None."""
    ts = [c["times"] for c in curves.values()]
    first = ts[0]
    return first if all(t.shape == first.shape and np.array_equal(t, first) for t in ts) else None


def _series(data: dict, curves: dict, grid: list, lead: tuple, units: Units, where) -> None:
    """E(t), P(t), C_Q(t) (and standard errors) of the points of `grid` as variables over (..., times)."""
    prefix, dims = where
    names = [k for k in (*SERIES, *(s + "_stderr" for s in SERIES))
             if all(k in curves[pid] for pid in grid if pid)]
    for k in names:
        n_t = len(next(curves[pid]["times"] for pid in grid if pid))
        arr = np.full((len(grid), n_t), np.nan)
        for i, pid in enumerate(grid):
            if pid and curves[pid][k].shape == (n_t,):
                arr[i] = curves[pid][k]
        data[prefix + k] = ([*dims, "times"], arr.reshape(lead + (n_t,)), _attrs(units, k))
