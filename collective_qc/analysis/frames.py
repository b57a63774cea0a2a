"""pandas and xarray views of results: :meth:`ChargeResult.to_dataframe`,
:meth:`Comparison.to_dataframe`, :meth:`Study.to_dataframe` and :meth:`Study.to_xarray` (whose
layout over a study's swept coordinates is :func:`collective_qc.study.frames.study_dataset`).

pandas and xarray are optional (``pip install "collective-qc[frames]"``); they are imported
only when a view is asked for, and a missing one is named in a one-line ImportError.

Every view carries the unit of each column or variable in ``attrs["units"]`` (a DataFrame: one
map column -> unit; an xarray variable: its own ``units`` attribute), with the strings of
:meth:`collective_qc.core.units.Units.of`, the same as the terminal, the JSON ``units`` map and
``timeseries.h5``. A number that is not a result (:mod:`collective_qc.analysis.verdict`: no maximum of
E(t) in the window, round-off, a run that does not charge, unresolved noise, a ratio of opposite
signs) is NaN, with its reason beside it: ``attrs["undefined"]`` of a result's frame, the
``undefined`` column of a comparison's or a study's rows ("column: reason | ...", as in
table.csv).

Examples
--------
>>> res = collective_qc.charge("xxz-chain", params={"N": 4})          # doctest: +SKIP
>>> res.to_dataframe()["energy"].max(), res.to_dataframe().attrs["units"]["energy"]   # doctest: +SKIP
(1.23, 'omega0')
"""

from __future__ import annotations

import importlib
import json

import numpy as np

from ..core.units import Units
from .figures import FIG_COLS, FIGURES, GAMMA_COLS
from .tables import join_reasons

__all__ = ["require", "result_frame", "comparison_frame", "rows_frame", "column_array"]

EXTRA = "frames"  # the optional extra of pyproject.toml that installs pandas, xarray and h5netcdf
SERIES = ("energy", "power", "capacitance")
TEXT_COLUMNS = ("undefined", "role", "method", "energy_unit", "time_unit", "charger", "failed")


def require(module: str, what: str):
    """Import `module` (pandas, xarray) or raise a one-line ImportError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"{what} needs {module}, an optional dependency: pip install "
                          f"\"collective-qc[{EXTRA}]\"") from None


def _units_of(columns, units: Units) -> dict:
    """column -> unit string (columns without a unit left out)."""
    return {c: units.of(c) for c in columns if units.of(c)}


def result_frame(res):
    """The time series of a :class:`~collective_qc.analysis.results.ChargeResult` as a pandas DataFrame.

    Index ``times`` (time unit); columns ``energy`` (energy unit), ``power`` (energy per time),
    ``capacitance`` (dimensionless), their ``*_stderr`` for trajectory runs, then every observable
    (and its ``*_stderr``). ``attrs``: ``units`` (column -> unit, ``times`` included), the figures of
    merit (None when not a result), ``undefined`` ({figure: reason}, :attr:`ChargeResult.undefined`),
    ``model``, ``params``, ``method``, ``drive``, ``n_sites``.
    """
    pd = require("pandas", "ChargeResult.to_dataframe()")
    cols = {k: np.asarray(getattr(res, k), dtype=float) for k in SERIES}
    for k in SERIES:
        err = getattr(res, k + "_stderr")
        if err is not None:
            cols[k + "_stderr"] = np.asarray(err, dtype=float)
    for name, series in (res.observables or {}).items():
        cols[name] = np.asarray(series)
        err = (res.observables_stderr or {}).get(name)
        if err is not None:
            cols[name + "_stderr"] = np.asarray(err)
    df = pd.DataFrame(cols, index=pd.Index(np.asarray(res.times, dtype=float), name="times"))
    units = res.units
    why = dict(getattr(res, "undefined", None) or {})  # figure -> reason it is not a result
    df.attrs.update(units=_units_of(["times", *cols], units), model=res.model, params=dict(res.params),
                    method=res.method, drive=res.drive, n_sites=res.n_sites,
                    figures={k: None if k in why else getattr(res, k) for k in FIGURES}, undefined=why)
    return df


def _int_column(df, col: str) -> None:
    """Integer dtype for a column of whole numbers (pandas' nullable Int64 where some are missing)."""
    if col in df and df[col].notna().all():
        df[col] = df[col].astype("int64")
    elif col in df:
        df[col] = df[col].astype("Int64")


def rows_frame(rows: list[dict], units: Units, what: str, int_columns=("n_sites", "seed")):
    """A DataFrame of table rows (dicts): None -> NaN in number columns; integer columns as int64;
    ``attrs["units"]`` maps each column with a unit to it."""
    pd = require("pandas", what)
    df = pd.DataFrame.from_records([{k: _plain(v) for k, v in r.items()} for r in rows])
    numeric = [c for c in (*FIG_COLS, *FIGURES, *GAMMA_COLS) if c in df]
    numeric += [c for c in df if c.endswith("_stderr")]
    for c in numeric:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype(float)
    for c in int_columns:
        _int_column(df, c)
    df.attrs["units"] = _units_of(df.columns, units)
    return df


def _plain(v):
    """A table cell for pandas: None stays None, dicts and lists become JSON text."""
    if isinstance(v, (dict, list, tuple)):
        return json.dumps(v, sort_keys=True)
    return v


def comparison_frame(cmp):
    """A :class:`~collective_qc.compare.Comparison` as a DataFrame: the single-site baseline row
    (``role`` "baseline", ``N`` its own size), then one row per size (``role`` "size").

    Columns: ``N`` (int), ``role``, ``n_sites``, the figures (totals and ``*_per_site``), every Gamma,
    standard errors of trajectory runs (``*_stderr``), method, charger and any note the row holds
    (``failed``); a number that is not a result is NaN, its reason in ``undefined`` ("column:
    reason | ...", as in table.csv). The baseline's Gammas are NaN (no ratio). ``attrs``:
    ``units``, ``model``, ``params``, ``options``.
    """
    from .statistics import make_row

    base = make_row(cmp.baseline, cmp.baseline)
    base = {k: (None if k.startswith("gamma") else v) for k, v in base.items()}
    rows = [{"N": cmp.baseline.n_sites, "role": "baseline", **base}]
    rows += [{"N": r["n_sites"], "role": "size", **r} for r in cmp.rows]
    for r in rows:  # {column: reason} -> the text of table.csv's ``undefined`` column
        why = r.get("undefined") or {}
        keep = [c for c in why if r.get(c) is None and not (r["role"] == "baseline" and c.startswith("gamma"))]
        r["undefined"] = join_reasons(why, keep)
    df = rows_frame(rows, cmp.baseline.units, "Comparison.to_dataframe()", ("N", "n_sites"))
    df.attrs.update(model=cmp.model, params=dict(cmp.params), options=cmp.to_dict()["options"])
    return df


def column_array(values: list, name: str = ""):
    """A numpy array for one column of table values: int64 (whole numbers), float64 (numbers, None
    -> NaN), int8 (booleans) or unicode strings (None -> ""; always for the text columns of
    :data:`TEXT_COLUMNS`, e.g. ``undefined`` when every value is a result); dicts and lists as JSON."""
    present = [v for v in values if v is not None]
    if name in TEXT_COLUMNS:
        return np.array(["" if v is None else str(_plain(v)) for v in values], dtype=str)
    if present and all(isinstance(v, (bool, np.bool_)) for v in present) and len(present) == len(values):
        return np.array(values, dtype=np.int8)
    if present and all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in present) \
            and len(present) == len(values):
        return np.array(values, dtype=np.int64)
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_))
           for v in present):
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    return np.array(["" if v is None else str(_plain(v)) for v in values], dtype=str)
