"""Byte-level file helpers of the study store: atomic writes, reproducible .npz, point records.

Every file of a point is covered by a checksum: ``points/<id>.npz`` by the SHA-256 stored in
``points/<id>.json``, and the JSON record itself (scalars, metadata, definition, seed, the .npz
checksum) by the SHA-256 of its canonical form, stored in it as ``"sha256"``. Identical runs
write byte-identical .npz files (fixed zip timestamps) and equal ``result_sha256``; only the
record's ``provenance`` (wall time, versions, environment) may differ, and reproducibility
compares ``result_sha256``, never the provenance.
"""

from __future__ import annotations

import io
import json
import os
import re
import zipfile

import numpy as np

from .points import point_id, sha256

__all__ = ["FORMAT", "TMP_NAME", "write_atomic", "npz_bytes", "point_record", "read_point", "Corrupt"]

FORMAT = 2
TMP_NAME = re.compile(r"^\..+\.\d+\.tmp$")  # ".<name>.<pid>.tmp", as written by write_atomic and plots
POINT_NAME = re.compile(r"^[A-Za-z_][A-Za-z_0-9]*-[0-9a-f]{12}\.(json|npz)$")


class Corrupt(Exception):
    """A point file that fails verification: ``file`` (path) and ``reason`` (words)."""

    def __init__(self, file: str, reason: str):
        super().__init__(f"{file}: {reason}")
        self.file, self.reason = file, reason


def write_atomic(path: str, data: bytes) -> None:
    """Temp file in the same directory, fsync, os.replace: readers see the old file or the new one."""
    folder, base = os.path.split(path)
    tmp = os.path.join(folder, f".{base}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    try:
        fd = os.open(folder or ".", os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except OSError:  # pragma: no cover - platforms without directory fsync
        pass


def npz_bytes(arrays: dict) -> bytes:
    """An .npz archive (readable by ``np.load``) whose bytes depend only on the arrays."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key in sorted(arrays):
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            arr = io.BytesIO()
            np.lib.format.write_array(arr, np.ascontiguousarray(arrays[key]), allow_pickle=False)
            zf.writestr(info, arr.getvalue())
    return buf.getvalue()


def _record_digest(rec: dict) -> str:
    return sha256(json.dumps(rec, sort_keys=True, separators=(",", ":"), allow_nan=True))


def point_record(point: dict, out: dict, provenance: dict) -> tuple[bytes, bytes]:
    """(JSON bytes, .npz bytes) of a finished point; ``out`` is what ``run_point`` returned."""
    data = npz_bytes(out["arrays"])
    meta = dict(out["metadata"])
    charge_wall = meta.pop("wall_time_s", None)
    result = {"scalars": out["scalars"], "observables": out["observables"], "metadata": meta,
              "arrays": {"file": point["id"] + ".npz", "sha256": sha256(data), "keys": sorted(out["arrays"])}}
    rec = {"format": FORMAT, "finished": True, "id": point["id"], "definition": point["definition"],
           "seed": point["seed"], "result": result,
           "provenance": {"wall_time_s": out["wall_time_s"], "charge_wall_time_s": charge_wall, **provenance}}
    rec = json.loads(json.dumps(rec))  # the form a reader sees (tuples -> lists)
    rec["result_sha256"] = _record_digest({k: rec[k] for k in ("definition", "seed", "result")})
    rec["sha256"] = _record_digest(rec)
    return json.dumps(rec, indent=1, sort_keys=True).encode(), data


def _load_json(path: str) -> dict | None:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Corrupt(path, f"cannot be read ({exc.strerror})") from None
    try:
        rec = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise Corrupt(path, f"is not valid JSON ({exc})") from None
    if not isinstance(rec, dict):
        raise Corrupt(path, "is not a point record")
    return rec


def read_point(folder: str, pid: str) -> dict | None:
    """A verified finished point ``{"record", "arrays"}``; None if absent; :class:`Corrupt` if damaged."""
    path = os.path.join(folder, pid + ".json")
    rec = _load_json(path)
    if rec is None:
        return None
    if rec.get("format") != FORMAT:
        raise Corrupt(path, f"has format {rec.get('format')!r}, expected {FORMAT} (written by another version)")
    given = rec.pop("sha256", None)
    if given != _record_digest(rec):
        raise Corrupt(path, "does not match its checksum (edited or damaged)")
    try:
        ok = rec["id"] == pid == point_id(pid.rsplit("-", 1)[0], rec["definition"], rec["seed"])
        info, result = rec["result"]["arrays"], rec["result"]
        result["scalars"]["n_sites"]  # noqa: B018  (required keys)
    except (KeyError, TypeError):
        raise Corrupt(path, "lacks required fields") from None
    if not ok:
        raise Corrupt(path, "its definition and seed do not match its name")
    return {"record": rec, "arrays": _read_arrays(os.path.join(folder, pid + ".npz"), info)}


def _read_arrays(npz: str, info: dict) -> dict:
    try:
        with open(npz, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise Corrupt(npz, "is missing") from None
    except OSError as exc:
        raise Corrupt(npz, f"cannot be read ({exc.strerror})") from None
    if sha256(data) != info.get("sha256"):
        raise Corrupt(npz, "does not match its checksum (edited or damaged)")
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError, zipfile.BadZipFile) as exc:  # pragma: no cover - checksum passed
        raise Corrupt(npz, f"cannot be read ({exc})") from None
    if sorted(arrays) != sorted(info.get("keys", ())):
        raise Corrupt(npz, "does not hold the arrays its record lists")
    return arrays

