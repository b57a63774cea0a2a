"""Reading a study directory back: its manifest (for :func:`collective_qc.study.open_study`) and
the views behind :meth:`Study.to_dataframe`, :meth:`Study.to_xarray` and :meth:`Study.result`.

Everything is read from the verified point records (``points/<id>.json`` + ``.npz``), the same
source table.csv and timeseries.h5 are written from; nothing is computed, locked or written.
"""

from __future__ import annotations

import json
import os

from ..core.errors import InputError
from .files import Corrupt, read_point
from .store import MANIFEST

__all__ = ["read_manifest", "load_records", "load_unit", "load_result", "load_graph"]


def read_manifest(out_dir) -> tuple[dict, str | None]:
    """(config, name) of the study stored in `out_dir`, from its manifest (InputError naming the
    directory when it is not a study directory or the manifest cannot be read)."""
    path = os.path.join(os.fspath(out_dir), MANIFEST)
    try:
        with open(path, encoding="utf-8") as fh:
            manifest = json.load(fh)
        return manifest["config"], manifest.get("name")
    except FileNotFoundError:
        raise InputError(f"{os.fspath(out_dir)!r} is not a study directory (no {MANIFEST})") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError(f"cannot read the study manifest {path!r} ({exc}); rerun the study with --adopt") from None


def _read(study, pid):
    """The verified record of point `pid` of `study`, or None when it is not computed (InputError
    when its files are damaged)."""
    try:
        return read_point(os.path.join(study.out_dir, "points"), pid)
    except Corrupt as exc:
        raise InputError(f"study {study.spec.name!r}: point {pid} is damaged ({exc}); rerun the study "
                         f"to recompute it") from None


def load_records(study) -> dict:
    """point id -> verified record of every point of `study` (InputError naming the first missing or
    damaged one)."""
    records = {p["id"]: _read(study, p["id"]) for p in study.points}
    missing = [pid for pid, rec in records.items() if rec is None]
    if missing:
        raise InputError(f"study {study.spec.name!r}: {len(missing)} of {len(records)} points are not computed in "
                         f"{study.out_dir!r} (first: {missing[0]}); run the study to finish them")
    return records


def load_unit(study, point) -> tuple[dict, dict]:
    """(point or unit dict, verified record) of one stored point, named by its id or its readable
    group name (``N=4,J=0.2``, ``base``); a realisation of a disordered study by its unit id or
    ``<group name>,r=<index>`` (``N=4,disorder_omega_width=0.5,r=2``). InputError naming the point
    when it is unknown, an ensemble (a disordered point: name one realisation) or not computed."""
    from .outputs import group_names

    spec = study.spec
    names = group_names(spec)
    by_name = {v: k for k, v in names.items()}
    if spec.disordered:
        by_name.update({f"{names[u['point']]},r={u['realisation']}": u["id"] for u in spec.points})
    pid = point if point in spec.by_id else by_name.get(point)
    if pid is None:
        known = ", ".join(list(by_name)[:6]) + (", ..." if len(by_name) > 6 else "")
        raise InputError(f"study {spec.name!r} has no point {point!r} (points: {known})")
    if spec.disordered and pid in spec.units_of and spec.units_of[pid] != [pid]:
        raise InputError(f"study {spec.name!r}: point {point!r} is an ensemble of {len(spec.units_of[pid])} "
                         f"disorder realisations; name one as '{names[pid]},r=0' (table.csv holds the statistics)")
    rec = _read(study, pid)
    if rec is None:
        raise InputError(f"study {spec.name!r}: point {point!r} is not computed in {study.out_dir!r}")
    return spec.by_id[pid], rec


def load_result(study, point):
    """The :class:`~collective_qc.analysis.results.ChargeResult` of one stored point (named as for
    :func:`load_unit`)."""
    from .outputs import _result

    return _result(load_unit(study, point)[1])


def load_graph(study, point):
    """The realised graph (``networkx.Graph``) of one realisation of a disordered study (named as
    for :func:`load_unit`): the clean model's graph with the values stored in its record, drawn again
    from its streams and checked equal to them."""
    from .realise import realised_graph

    unit, rec = load_unit(study, point)
    disorder = rec["record"]["result"]["metadata"].get("disorder")
    if disorder is None:
        raise InputError(f"study {study.spec.name!r}: point {point!r} has no disorder; its graph is the model's")
    return realised_graph(unit, disorder["drawn"])
