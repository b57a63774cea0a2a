"""The :class:`Study`: open the directory (lock, plan, checks), compute what is missing, write outputs."""

from __future__ import annotations

import contextlib
import os
import warnings

from ..core.errors import InputError, shown
from .compute import check_memory_all, environment, execute, raise_failures, versions
from .config import Spec, family, load_config
from .files import read_point
from .lock import DirLock
from .outputs import cutoff_note, plot_names, realisation_rows, table_rows, write_h5, write_plots, write_tables
from .points import canon, sha256
from .progress import StudyProgress
from .store import MANIFEST, OUTPUTS, Store

__all__ = ["Study", "open_study"]


class Study:
    """A resumable sweep over sizes and swept parameters (schema: :mod:`collective_qc.study`).

    Parameters
    ----------
    config : dict or path to a TOML file
    out_dir : path
        Study directory (created; an existing one must be a study directory or empty).
    overwrite : bool
        ``--force``: remove the files this study wrote (and only those) and start over.
    adopt : bool
        ``--adopt``: a directory whose manifest is gone or damaged is rebuilt from its intact point
        files (done automatically when the manifest is missing and every point file verifies).
    wait : bool
        Another run holds the directory: wait for it (default: refuse, naming its PID).
    progress : bool
        Progress on stderr: tqdm bars on a terminal, a status line every `progress_interval`
        seconds otherwise.
    log : callable(str), optional
        Receives one-line notes (what was loaded, removed, adopted, cleaned).

    Examples
    --------
    >>> rows = Study("studies/configs/xxz_scaling.toml", "out/xxz").run()   # doctest: +SKIP
    """

    def __init__(self, config, out_dir, *, overwrite: bool = False, adopt: bool = False, wait: bool = False,
                 progress: bool = False, log=None, progress_interval: float = 30.0):
        name = None
        if not isinstance(config, dict):
            name = os.path.splitext(os.path.basename(str(config)))[0]
            config = load_config(config)
        self.config = config
        self.spec = Spec(config, name)
        self.config_hash = sha256(canon(config))
        self.family_hash = sha256(canon(family(config)))
        if not isinstance(out_dir, (str, os.PathLike)) or not str(out_dir).strip():
            raise InputError(f"out_dir must name a study directory, got {shown(out_dir)}")
        self.out_dir = os.path.abspath(os.fspath(out_dir))
        self.overwrite, self.adopt, self.wait = overwrite, adopt, wait
        self.progress, self.progress_interval = progress, progress_interval
        self.log = log or (lambda msg: None)
        self.loaded, self.computed, self.timings, self.plot_files = 0, 0, {}, []

    def saved(self) -> int:
        """Number of this study's points whose files are in the directory (what a rerun will load,
        once it has verified them); counted after an interruption."""
        folder = os.path.join(self.out_dir, "points")
        return sum(all(os.path.exists(os.path.join(folder, f"{p['id']}.{ext}")) for ext in ("json", "npz"))
                   for p in self.points)

    @property
    def points(self) -> list[dict]:
        """The stored points in canonical order (per combination: the baseline, then the sizes
        ascending; in a disordered study each point's realisations, r ascending)."""
        return list(self.spec.points)

    def to_dataframe(self):
        """The study table (table.csv's rows, wall times included) as a pandas DataFrame read from the
        stored points: integer size column (the baseline row has its own size, ``role`` "baseline"),
        NaN where a number is undefined, units in ``attrs["units"]``; needs the ``frames`` extra."""
        from ..analysis.frames import require, rows_frame
        from .outputs import _units
        from .readback import load_records

        require("pandas", "Study.to_dataframe()")
        records = load_records(self)
        rows = table_rows(self.spec, records)
        return rows_frame(rows, _units(next(iter(records.values()))), "Study.to_dataframe()",
                          (self.spec.size_param, "n_sites", "seed"))

    def to_xarray(self):
        """The finished study as an xarray Dataset over its swept values and sizes (and ``times`` when
        shared): :func:`collective_qc.study.frames.study_dataset`; needs the ``frames`` extra."""
        from ..analysis.frames import require
        from .frames import study_dataset
        from .outputs import _units, point_curves
        from .readback import load_records

        require("xarray", "Study.to_xarray()")
        records = load_records(self)
        return study_dataset(self.spec, table_rows(self.spec, records), point_curves(self.spec, records),
                             _units(next(iter(records.values()))))

    def result(self, point):
        """The ChargeResult of one stored point, by id or HDF5 group name (``"N=4,J=0.2"``, ``"base"``; a
        realisation of a disordered study as ``"N=4,disorder_omega_width=0.5,r=2"`` or by its unit id)."""
        from .readback import load_result

        return load_result(self, point)

    def realised_graph(self, point):
        """The graph (``networkx.Graph``) one realisation of a disordered study charged, named as for
        :meth:`result`; its drawn values are those stored with the realisation (checked)."""
        from .readback import load_graph

        return load_graph(self, point)

    def _warn(self, msg: str) -> None:
        warnings.warn(msg, UserWarning, stacklevel=4)

    def _manifest(self) -> dict:
        return {"name": self.spec.name, "config": self.config, "config_hash": self.config_hash,
                "family_hash": self.family_hash, "versions": versions(), "environment": environment(),
                "seed": self.spec.seed,
                "points": [{"id": p["id"], "seed": p["seed"], "definition": p["definition"]} for p in self.points]}

    def _files(self) -> set:
        pts = {f"points/{p['id']}.{ext}" for p in self.points for ext in ("json", "npz")}
        tidy = {"points.csv"} if self.spec.disordered else set()
        return pts | set(OUTPUTS) | tidy | set(plot_names(self.spec))

    @contextlib.contextmanager
    def _open(self):
        """Create the directory if needed and hold its lock; a refused new directory is removed again."""
        d = self.out_dir
        if os.path.exists(d) and not os.path.isdir(d):
            raise InputError(f"study directory {d!r} exists and is not a directory")
        created = not os.path.exists(d)
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create study directory {d!r}: {exc.strerror}") from None
        with DirLock(d, wait=self.wait, log=self.log) as lock:
            try:
                yield lock, Store(d, log=self.log, warn=self._warn)
            except BaseException:
                if created:  # refused before writing anything: leave no trace (under the lock)
                    with contextlib.suppress(OSError):
                        os.rmdir(d)  # only if still empty
                raise

    def run(self, executor=None, *, plots_only: bool = False) -> list[dict]:
        """Compute the unfinished points, then write table.csv, timings.csv, timeseries.h5 and plots.

        Parameters
        ----------
        executor : None or object with ``submit(fn, *args)`` -> future
            None: in-process, one point after the other. Otherwise every unfinished point is
            submitted as ``submit(run_point, point)`` and persisted here as its future completes.
        plots_only : bool
            Redraw the plots from the stored points alone (every point must be finished).

        Returns
        -------
        list of dict
            The table rows (canonical order); the same as table.csv plus ``wall_time_s``.
        """
        with self._open() as (lock, store):
            plan = store.plan(self.family_hash, set(self.spec.by_id), force=self.overwrite, adopt=self.adopt)
            records = store.load(self.points, plan)
            todo = [p for p in self.points if records[p["id"]] is None]
            if plots_only and todo:
                raise InputError(f"--plots-only: {len(todo)} of {len(self.points)} points of this config are "
                                 f"not computed in {self.out_dir!r} (first: {todo[0]['id']}); run without "
                                 f"--plots-only to compute them")
            first: dict = {}  # one unit per point: its realisations share their graph's structure
            for p in todo:
                first.setdefault(p.get("point", p["id"]), p)
            first = list(first.values())
            check_memory_all(first)  # every point that would not fit, in one message
            check_points(first)  # then each point as charge() checks it (charger fit, norms, rates x times)
            self._describe(plan)
            store.commit(plan, self._manifest(), self._files())
            lock.note()
            self.loaded, self.computed = len(self.points) - len(todo), 0
            if not plots_only:
                self.log(f"study {self.spec.name!r}: {len(self.points)} points, {self.loaded} finished before, "
                         f"{len(todo)} to compute")
                self._compute(store, todo, executor, records)
                note = cutoff_note(self.spec, records, todo)  # one line for every doubled Fock cutoff
                if note:
                    self.log(f"study {self.spec.name!r}: {note}")
            units = realisation_rows(self.spec, records)
            rows = table_rows(self.spec, records, units)
            self.timings = {r["point"]: r["wall_time_s"] for r in rows}
            self._write_outputs(store, rows, records, plots_only, units)
        return rows

    def _write_outputs(self, store: Store, rows: list, records: dict, plots_only: bool, units=None) -> None:
        try:
            if not plots_only:
                write_tables(self.out_dir, rows, units)
                write_h5(self.out_dir, self.spec, self.config, self.config_hash, records, rows)
            self.plot_files = write_plots(self.out_dir, self.spec, rows, records, units)
            stale = sorted(f for f in store.own if f.startswith("plots/") and f not in plot_names(self.spec))
            store.remove(stale, "removed plots of an earlier config that this config does not draw")
        except OSError as exc:
            raise InputError(f"cannot write the outputs of study {self.spec.name!r} ({exc.strerror}: "
                             f"{exc.filename}); the computed points are saved, rerun to write them") from None

    def _compute(self, store: Store, todo: list, executor, records: dict) -> None:
        prog = StudyProgress(self.spec.name, len(self.points), self.loaded, enabled=self.progress,
                             interval=self.progress_interval)
        errors = []
        provenance = {"versions": versions()}
        try:
            for point, out, exc in execute(todo, executor, prog):
                if exc is not None:
                    errors.append((point["id"], exc))
                else:
                    store.persist(point, out, {**provenance, "environment": out.get("environment")})
                    records[point["id"]] = read_point(store.path("points"), point["id"])
                    self.computed += 1
                prog.point_done(point["id"])
        finally:
            prog.close()
        raise_failures(errors, len(todo))

    def _describe(self, plan) -> None:
        """One line on what opening the directory does beyond resuming."""
        prev = plan.previous
        if plan.kind == "adopt":
            self.log(f"{self.out_dir}: {MANIFEST} missing or damaged; adopted {len(plan.own - {MANIFEST}) // 2} "
                     f"intact point(s) from points/")
        if prev is not None and plan.kind == "resume":
            old = prev.get("config", {})
            if old.get("study", {}).get("sizes") != self.config["study"].get("sizes"):
                self.log(f"study {self.spec.name!r} extended: sizes {old.get('study', {}).get('sizes')} -> "
                         f"{self.config['study']['sizes']} (finished points are reused)")
            if old.get("plots") != self.config.get("plots"):
                self.log(f"study {self.spec.name!r}: [plots] changed; plots are redrawn from the stored points")


def check_points(points: list[dict]) -> None:
    """Check every point a run will compute exactly as ``charge`` will (options, charger fit,
    norms, memory, rates x times: :func:`collective_qc.api.check_charge`) before the first one runs;
    one InputError naming the first bad point and how many more are bad."""
    from ..api import check_charge
    from .realise import unit_model

    bad = []
    for p in points:
        d = p["definition"]
        try:
            check_charge(unit_model(p), d["drive"], **d["run"], seed=p["seed"])
        except InputError as exc:
            bad.append((p, exc))
    if bad:
        p, exc = bad[0]
        more = f" (and {len(bad) - 1} more points)" if len(bad) > 1 else ""
        raise type(exc)(f"config point {p['label']} ({p['id']}): {exc}{more}; nothing was computed") from None


def open_study(out_dir) -> Study:
    """The :class:`Study` of a finished (or partly finished) study directory, from its manifest.

    Parameters
    ----------
    out_dir : path
        A directory written by ``cqc study`` or :meth:`Study.run`.

    Returns
    -------
    Study
        Its config and name as run; :meth:`Study.to_dataframe`, :meth:`Study.to_xarray` and
        :meth:`Study.result` read the stored points (:meth:`Study.run` resumes it).

    Examples
    --------
    >>> st = open_study("results/dicke_advantage")          # doctest: +SKIP
    >>> st.to_xarray()["gamma_power"].sel(N=16)              # doctest: +SKIP
    """
    from .readback import read_manifest

    config, name = read_manifest(out_dir)
    st = Study(config, out_dir)
    if name:
        st.spec.name = name
    return st
