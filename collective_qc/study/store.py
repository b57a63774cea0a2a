"""The study directory: manifest of own files, verified points, adoption, repairs, cleaning.

Layout: ``study.json`` (the manifest: config, the hash of its study-defining part, versions,
current points, and ``files``, every path the store has written or is about to write),
``points/<id>.json`` + ``points/<id>.npz`` (one finished point, see :mod:`.files`),
``table.csv``, ``timings.csv``, ``timeseries.h5``, ``plots/*.png``.

Rules: nothing outside ``files`` is ever removed or overwritten except temporary files named
``.<name>.<pid>.tmp`` (left by a killed run: removed on the next run, which holds the lock) and
point files the store can prove to be its own (their checksums verify). Opening a directory is
split into a read-only :meth:`Store.plan` (which may refuse: the directory is left untouched) and
:meth:`Store.commit` (repairs, cleaning, manifest), so that every refusal, including memory
refusals, comes before anything is written.
"""

from __future__ import annotations

import dataclasses
import json
import os

from ..core.errors import InputError
from .files import FORMAT, POINT_NAME, TMP_NAME, Corrupt, point_record, read_point, write_atomic
from .lock import NOTE
from .points import canon, sha256

__all__ = ["Store", "Plan", "MANIFEST", "OUTPUTS"]

MANIFEST = "study.json"
OUTPUTS = ("table.csv", "timings.csv", "timeseries.h5")


@dataclasses.dataclass
class Plan:
    """What opening the directory will do (decided read-only, carried out by :meth:`Store.commit`)."""

    kind: str  # "new" | "resume" | "adopt" | "discard"
    own: set = dataclasses.field(default_factory=set)  # files the store wrote (relative paths)
    remove: list = dataclasses.field(default_factory=list)  # own files to remove (--force)
    set_aside: list = dataclasses.field(default_factory=list)  # (path, reason) of unverifiable point files
    repairs: list = dataclasses.field(default_factory=list)  # (pid, Corrupt) of damaged points
    previous: dict | None = None  # the manifest found


class Store:
    """File operations of one study directory (the caller holds its :class:`~.lock.DirLock`)."""

    def __init__(self, out_dir: str, log=None, warn=None):
        self.dir = out_dir
        self.log = log or (lambda msg: None)
        self.warn = warn or self.log

    def path(self, *parts) -> str:
        return os.path.join(self.dir, *parts)

    # --- read-only: decide ---------------------------------------------------------------------
    def _manifest(self):
        """(manifest or None, why-not-usable or None); (None, None) when there is none."""
        try:
            with open(self.path(MANIFEST), "rb") as fh:
                man = json.loads(fh.read())
        except FileNotFoundError:
            return None, None
        except (OSError, ValueError, UnicodeDecodeError):
            return None, "is corrupted"
        if not isinstance(man, dict) or man.get("kind") != "collective_qc.study":
            return None, "is corrupted"
        if man.get("format") != FORMAT:
            return None, f"has format {man.get('format')!r} (an older collective_qc), expected {FORMAT}"
        given = man.pop("sha256", None)
        if given != sha256(canon(man)):
            return None, "is corrupted (does not match its checksum)"
        return man, None

    def plan(self, family_hash: str, ids: set, *, force: bool, adopt: bool) -> Plan:
        """Inspect the directory (no writes); refuse with an InputError, or say what to do."""
        entries = sorted(set(os.listdir(self.dir)) - {NOTE}) if os.path.isdir(self.dir) else []
        if not entries:
            return Plan("new")
        man, bad = self._manifest()
        where = self.path(MANIFEST)
        if man is not None:
            if man["family_hash"] != family_hash and not force:
                raise InputError(f"{self.dir!r} holds study {man.get('name')!r} made with a different config "
                                 f"(model, drive, seed, [params] or [run] changed; hash {man['family_hash'][:12]} "
                                 f"!= {family_hash[:12]}); use another directory, or --force to discard it")
            own = set(man["files"])
            if force:
                return Plan("discard", own=own, remove=sorted(own), previous=man)
            return Plan("resume", own=own, previous=man)
        if force and bad is not None and bad.startswith("has format"):
            return Plan("discard", own=self._format1_files(), remove=sorted(self._format1_files()))
        if bad is not None and not (force or adopt):
            raise InputError(f"study manifest {where!r} {bad}; rerun with --adopt to rebuild it from the "
                             f"intact point files, --force to start over, or use another directory")
        verified, unverified = self.survey()
        if not verified:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            what = f"{MANIFEST} {bad}" if bad else f"no {MANIFEST}"
            raise InputError(f"{self.dir!r} is not a study directory ({what}, no intact point files; it holds "
                             f"{shown}); choose a new or empty directory")
        if bad is None and unverified and not (force or adopt):
            raise InputError(f"{self.dir!r} has no {MANIFEST}; {len(verified)} point files verify but "
                             f"{unverified[0][0]!r} does not ({unverified[0][1]}); rerun with --adopt to "
                             f"adopt the intact ones, or use another directory")
        if bad is None and not (force or adopt) and not ids & set(verified):
            raise InputError(f"{self.dir!r} has no {MANIFEST}, and none of its {len(verified)} intact point files "
                             f"belongs to this config (another study?); rerun with --adopt to keep them here "
                             f"anyway, or use another directory")
        own = {f"points/{pid}.{ext}" for pid in verified for ext in ("json", "npz")}
        own |= {MANIFEST} if bad else set()
        if force:
            return Plan("discard", own=own, remove=sorted(own), set_aside=unverified)
        return Plan("adopt", own=own, set_aside=unverified)

    def _format1_files(self) -> set:
        """The files a format-1 study (collective_qc <= 0.1) wrote: its listed points and outputs."""
        with open(self.path(MANIFEST), "rb") as fh:
            man = json.loads(fh.read())
        pts = {f"points/{p['id']}.{e}" for p in man.get("points", []) for e in ("json", "npz")}
        folder = self.path("plots")
        figs = {f"plots/{n}" for n in (os.listdir(folder) if os.path.isdir(folder) else [])
                if n in ("per_site.png", "gammas.png") or (n.startswith("timeseries") and n.endswith(".png"))}
        return pts | figs | set(OUTPUTS) | {MANIFEST}

    def survey(self) -> tuple[list, list]:
        """Point ids whose files verify, and (path, reason) of point-named files that do not."""
        folder = self.path("points")
        names = sorted(os.listdir(folder)) if os.path.isdir(folder) else []
        verified, unverified = [], []
        for name in names:
            if not POINT_NAME.match(name) or not name.endswith(".json"):
                continue
            try:
                read_point(folder, name[:-5])
                verified.append(name[:-5])
            except Corrupt as exc:
                unverified.append((os.path.join(folder, name), exc.reason))
        for name in names:
            if POINT_NAME.match(name) and name.endswith(".npz") and name[:-4] not in verified:
                unverified.append((os.path.join(folder, name), "has no verified record"))
        return verified, unverified

    def load(self, points: list[dict], plan: Plan) -> dict:
        """``{id: {"record", "arrays"} or None}`` for `points`; damaged ones are added to ``plan.repairs``."""
        if plan.kind in ("new", "discard"):
            return dict.fromkeys(p["id"] for p in points)
        out = {}
        for p in points:
            try:
                out[p["id"]] = read_point(self.path("points"), p["id"])
            except Corrupt as exc:
                plan.repairs.append((p["id"], exc))
                out[p["id"]] = None
        return out

    # --- writes --------------------------------------------------------------------------------
    def commit(self, plan: Plan, manifest: dict, files: set) -> None:
        """Carry out `plan` (discard, set aside, repair, clean temp files) and write the manifest."""
        try:
            os.makedirs(self.path("points"), exist_ok=True)
            if plan.remove:
                self.remove(plan.remove, "--force: removed the study's own files")
                plan.own -= set(plan.remove)
            for path, reason in plan.set_aside:
                os.replace(path, path + ".unverified")
                self.warn(f"point file {path!r} {reason}: not this study's to reuse or delete; "
                          f"moved aside to {os.path.basename(path)}.unverified")
            for pid, exc in plan.repairs:
                mine = [f"points/{pid}.{e}" for e in ("json", "npz")]
                self.warn(f"point file {exc.file!r} is corrupted ({exc.reason}); recomputing point {pid} alone")
                self.remove([f for f in mine if f in plan.own], None)
                for f in mine:  # not provably ours: kept under another name
                    if f not in plan.own and os.path.exists(self.path(f)):
                        os.replace(self.path(f), self.path(f) + ".unverified")
                        self.warn(f"{f} was not written by this study; moved aside to {f}.unverified")
            self.clean_tmp()
            self.own = set(plan.own) | set(files) | {MANIFEST}
            self.write_manifest(manifest)
        except OSError as exc:
            raise InputError(f"study directory {self.dir!r} is not writable ({exc.strerror}: "
                             f"{exc.filename}); nothing was computed") from None

    def remove(self, rel: list, headline: str | None) -> None:
        gone = []
        for f in rel:
            if os.path.isabs(f) or ".." in f.split("/"):
                continue  # never outside the study directory
            try:
                os.remove(self.path(f))
                gone.append(f)
            except FileNotFoundError:
                pass
        if headline and gone:
            self.log(f"{headline} ({len(gone)}): {_short(gone)}")
        elif gone:
            self.log(f"removed {', '.join(gone)}")

    def clean_tmp(self) -> list[str]:
        """Remove temporary files left by a killed run (``.<name>.<pid>.tmp``); says which."""
        gone = []
        for sub in ("", "points", "plots"):
            folder = self.path(sub)
            for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
                if TMP_NAME.match(name) and os.path.isfile(os.path.join(folder, name)):
                    os.remove(os.path.join(folder, name))
                    gone.append(os.path.join(sub, name) if sub else name)
        if gone:
            self.log(f"removed {len(gone)} temporary file(s) left by an interrupted run: {_short(gone)}")
        return gone

    def write_manifest(self, manifest: dict) -> None:
        man = {**manifest, "format": FORMAT, "kind": "collective_qc.study", "files": sorted(self.own)}
        man["sha256"] = sha256(canon(man))
        write_atomic(self.path(MANIFEST), json.dumps(man, indent=1, sort_keys=True).encode())

    def persist(self, point: dict, out: dict, provenance: dict) -> None:
        """Write a finished point: its .npz, then its record (the record marks it finished)."""
        text, data = point_record(point, out, provenance)
        base = self.path("points", point["id"])
        try:
            write_atomic(base + ".npz", data)
            write_atomic(base + ".json", text)
        except OSError as exc:
            raise InputError(f"cannot write point file {exc.filename or base!r}: {exc.strerror}") from None


def _short(names: list[str], k: int = 6) -> str:
    return ", ".join(names[:k]) + (f", ... ({len(names) - k} more)" if len(names) > k else "")
