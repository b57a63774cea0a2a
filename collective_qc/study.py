"""Resumable parameter studies: ``Study(config, out_dir).run()`` and ``cqc study CONFIG.toml --out DIR``.

One TOML file fully specifies a study. A *point* is one size N together with one value of
every swept key; each combination of swept values also has its single-site baseline point
(:meth:`Model.single_site`, SPEC section 5), computed once and shared by the sizes.

Config schema
-------------
::

    [study]                      # required
    name = "xxz-scaling"         # optional (default: the config file's stem, else "study")
    model = "xxz-ring"           # required: a catalog name with a size parameter (`cqc models`)
    sizes = [3, 4, 6, 8]         # required: values of the model's size parameter (N, or Lx for square-lattice)
    drive = 0.5                  # charging amplitude lambda (default 0.5); a list is swept
    seed = 0                     # study seed, integer >= 0 (default 0)

    [params]                     # optional: model parameters (not the size); a list value is swept
    J = [0.1, 0.3]
    Delta = 0.5

    [run]                        # optional: options of collective_qc.charge(); a list value is swept
    t_max = 20                   # number > 0
    n_times = 201                # integer >= 2
    method = "auto"              # auto | closed | exact | trajectories
    initial = "ground"           # ground | product
    protocol = "constant"        # constant | on-off:TAU
    dephasing = 0.0              # number >= 0
    relaxation = 0.0             # number >= 0
    ntraj = 500                  # integer >= 2 (trajectory runs)
    symmetry = true              # momentum/parity blocks on uniform rings

    [plots]                      # optional
    timeseries = [{N = 8, J = 0.3}]  # one E(t), P(t), C_Q(t) figure per table, drawing every point that
                                     # matches it (keys: the size parameter, drive, [params], [run] keys);
                                     # default: the largest size of every combination

Swept lists form a cartesian product (order: drive, then [params], then [run], as written).
Unknown sections or keys, wrong types, unknown models or parameters and models that cannot be
built at some point are refused with an :class:`~collective_qc.errors.InputError` naming the key,
before anything is computed or written.

Seeds: point p runs with ``SeedSequence([seed, crc32(canonical JSON of p's definition)])``, so its
trajectories depend only on the study seed and the point itself, not on execution order or workers.

Output directory
----------------
``study.json`` (manifest: config, its SHA-256, package versions, point ids and seeds),
``points/<id>.json`` + ``points/<id>.npz`` (one finished point: definition, figures, metadata;
time series), written atomically by the main process as each point finishes; ``table.csv`` (one
row per point, canonical order: swept values, n_sites, per-site figures, Gamma ratios and standard
errors where present, method, seed), ``timings.csv`` (wall time per point: kept out of table.csv so
that the table is a pure function of the config), ``timeseries.h5`` (one group per point) and
``plots/*.png``. A rerun loads finished points and computes only the rest; a rerun with another
config, or into a non-study directory, or over a corrupted manifest or point file, is refused and
nothing is overwritten (``overwrite=True`` / ``--force`` discards an existing study's own files).

Executors: ``run(executor)`` takes any object with ``submit(fn, *args)`` returning
``concurrent.futures`` or ``dask.distributed`` futures; :func:`run_point` is a top-level function
of plain data (a point dict) returning plain data, so a ``distributed.Client`` can be plugged in.
"""

from __future__ import annotations

import concurrent.futures as cf
import hashlib
import io
import itertools
import json
import math
import os
import shutil
import sys
import time
import warnings
import zipfile
import zlib

import numpy as np

from .api import METHODS
from .errors import InputError

__all__ = ["Study", "load_config", "run_point", "format_table"]

FORMAT = 1
MANIFEST = "study.json"
STUDY_FILES = (MANIFEST, "points", "table.csv", "timings.csv", "timeseries.h5", "plots")
SECTIONS = {"study": ("name", "model", "sizes", "drive", "seed"), "params": None, "run": None, "plots": ("timeseries",)}
RUN_OPTIONS = {  # key -> (kind, allowed values or check)
    "t_max": ("number", "positive"), "n_times": ("int", 2), "method": ("str", METHODS),
    "initial": ("str", ("ground", "product")), "protocol": ("str", None), "dephasing": ("number", "nonneg"),
    "relaxation": ("number", "nonneg"), "ntraj": ("int", 2), "symmetry": ("bool", None),
}
FIGURES = ("tau_c", "energy_max", "power_max", "average_power_max", "capacitance_at_tau_c")
ARRAYS = ("times", "energy", "power", "capacitance", "energy_stderr", "power_stderr", "capacitance_stderr")
FIG_COLS = ("tau_c", "energy_max_per_site", "power_max_per_site", "average_power_max_per_site",
            "capacitance_at_tau_c_per_site")
GAMMA_COLS = ("gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy", "gamma_average_power")


def _canon(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def load_config(path) -> dict:
    """Read and validate a TOML study config; returns the parsed dict (raises InputError)."""
    try:
        import tomllib
    except ModuleNotFoundError:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    try:
        with open(path, "rb") as fh:
            cfg = tomllib.load(fh)
    except FileNotFoundError:
        raise InputError(f"study config {str(path)!r} does not exist") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"study config {str(path)!r} is not valid TOML: {exc}") from None
    _Spec(cfg)
    return cfg


def _value(key: str, v, kind: str, check=None):
    """One scalar config value, type-checked strictly (TOML types, no strings for numbers)."""
    where = f"config key {key!r}"
    if kind == "bool":
        if not isinstance(v, bool):
            raise InputError(f"{where} must be true or false, got {v!r}")
        return v
    if kind == "str":
        if not isinstance(v, str):
            raise InputError(f"{where} must be a string, got {v!r}")
        if isinstance(check, tuple) and v not in check:
            raise InputError(f"{where} must be one of {', '.join(map(repr, check))}, got {v!r}")
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind == "int" and not isinstance(v, int)):
        raise InputError(f"{where} must be {'an integer' if kind == 'int' else 'a number'}, got {v!r}")
    if not math.isfinite(v):
        raise InputError(f"{where} must be finite, got {v!r}")
    v = int(v) if kind == "int" else float(v)
    if (check == "positive" and v <= 0) or (check == "nonneg" and v < 0) or (kind == "int" and v < (check or 0)):
        bound = {"positive": "> 0", "nonneg": ">= 0"}.get(check, f">= {check or 0}")
        raise InputError(f"{where} must be {bound}, got {v!r}")
    return v


def _values(key: str, v, parse) -> list:
    """A scalar -> [value]; a list -> swept values (non-empty, no duplicates)."""
    if not isinstance(v, list):
        return [parse(key, v)]
    if not v:
        raise InputError(f"config key {key!r}: an empty list sweeps nothing")
    out = [parse(key, x) for x in v]
    if len({_canon(x) for x in out}) != len(out):
        raise InputError(f"config key {key!r} lists a value twice: {v!r}")
    return out


def _param_parser(cls):
    known = {p.name: p for p in cls.params}

    def parse(key, v):
        p = known[key.split(".", 1)[1]]
        kind = {bool: "bool", str: "str", int: "int"}.get(p.type, "number")
        return p.parse(_value(key, v, kind), cls.name)

    return parse


class _Spec:
    """A validated config: swept keys, combinations, points (plain dicts) in canonical order."""

    def __init__(self, cfg: dict, name: str | None = None):
        from .registry import get_model

        if not isinstance(cfg, dict):
            raise InputError(f"a study config is a table of sections, got {type(cfg).__name__}")
        for sec, val in cfg.items():
            if sec not in SECTIONS:
                raise InputError(f"unknown config section [{sec}] (sections: {', '.join(SECTIONS)})")
            if not isinstance(val, dict):
                raise InputError(f"config section [{sec}] must be a table, got {val!r}")
            allowed = SECTIONS[sec] or (RUN_OPTIONS if sec == "run" else None)
            for key in val if allowed is not None else ():
                if key not in allowed:
                    raise InputError(f"unknown config key '{sec}.{key}' (known: {', '.join(allowed)})")
        st = cfg.get("study")
        if st is None:
            raise InputError("config section [study] is missing (it needs model and sizes)")
        for key in ("model", "sizes"):
            if key not in st:
                raise InputError(f"config key 'study.{key}' is missing")
        self.name = _value("study.name", st.get("name", name or "study"), "str")
        model = _value("study.model", st["model"], "str")
        cls = self.cls = get_model(model)
        self.model = cls.name
        self.size_param = cls.size_param
        if self.size_param is None:
            raise InputError(f"config key 'study.model': model {model!r} has no size parameter to sweep")
        if not isinstance(st["sizes"], list) or not st["sizes"]:
            raise InputError(f"config key 'study.sizes' must be a non-empty list of integers, got {st['sizes']!r}")
        self.sizes = sorted(set(_values("study.sizes", st["sizes"], lambda k, v: _value(k, v, "int", 1))))
        self.seed = _value("study.seed", st.get("seed", 0), "int", 0)
        swept = [("study", "study.drive", _values("study.drive", st.get("drive", 0.5),
                                                   lambda k, v: _value(k, v, "number")))]
        known = set(cls.param_names())
        for key, v in cfg.get("params", {}).items():
            if key == self.size_param:
                raise InputError(f"config key 'params.{key}' is the size parameter; set it with study.sizes")
            if key not in known:
                raise InputError(f"unknown config key 'params.{key}': model {self.model!r} has parameters "
                                 f"{', '.join(sorted(known - {self.size_param}))}")
            swept.append(("params", f"params.{key}", _values(f"params.{key}", v, _param_parser(cls))))
        for key, v in cfg.get("run", {}).items():
            kind, check = RUN_OPTIONS[key]
            swept.append(("run", f"run.{key}", _values(f"run.{key}", v, lambda k, x, a=kind, c=check:
                                                         _value(k, x, a, c))))
        self.swept = [(sec, key, vals) for sec, key, vals in swept if len(vals) > 1]
        taken = {self.size_param, "point", "role", "n_sites", "method", "seed", *FIG_COLS, *GAMMA_COLS}
        self.columns = {}  # swept config key -> table column
        for sec, key, _ in self.swept:
            col = key.split(".", 1)[1]
            self.columns[key] = col if col not in taken else f"{sec}_{col}"
            taken.add(self.columns[key])
        self.combos, self.points = [], []
        for choice in itertools.product(*(vals for _, _, vals in swept)):
            base = {"model": self.model, "drive": None, "params": {}, "run": {}}
            for (sec, key, _), v in zip(swept, choice):
                if sec == "study":
                    base["drive"] = v
                else:
                    base[sec][key.split(".", 1)[1]] = v
            values = {self.columns[key]: v for (_, key, vals), v in zip(swept, choice) if len(vals) > 1}
            points = [self._point(base, None)] + [self._point(base, n) for n in self.sizes]
            self.combos.append({"values": values, "baseline": points[0]["id"], "points": [p["id"] for p in points]})
            self.points += points
        self.by_id = {p["id"]: p for p in self.points}
        self.combo_of = {pid: c for c in self.combos for pid in c["points"]}
        self.timeseries = self._plot_specs(cfg.get("plots", {}).get("timeseries"))

    def _point(self, base: dict, n: int | None) -> dict:
        from .graph import validate_graph
        from .protocols import parse_protocol
        from .registry import make_model

        role = "baseline" if n is None else "size"
        params = dict(base["params"]) if n is None else {**base["params"], self.size_param: n}
        definition = {"model": base["model"], "role": role, "params": params, "drive": base["drive"],
                      "run": base["run"]}
        canon = _canon(definition)
        label = "base" if n is None else f"{self.size_param}{n}"
        desc = ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"
        try:
            m = make_model(self.model, params)
            if n is None:
                m = m.single_site()
            validate_graph(m.graph())
            parse_protocol(base["run"].get("protocol"))
        except InputError as exc:
            raise InputError(f"config point {label} ({self.model}, {desc}): {exc}") from None
        run = base["run"]
        if run.get("method") == "closed" and (run.get("dephasing", 0) > 0 or run.get("relaxation", 0) > 0):
            raise InputError("config key 'run.method': 'closed' is for noise-free runs; use exact, "
                             "trajectories or auto with dephasing/relaxation")
        seed = int(np.random.SeedSequence([self.seed, zlib.crc32(canon.encode())]).generate_state(1)[0])
        return {"id": f"{label}-{hashlib.sha256(canon.encode()).hexdigest()[:12]}", "definition": definition,
                "size": n, "seed": seed}

    def _plot_specs(self, specs) -> list[dict]:
        if specs is None:
            return [{self.size_param: self.sizes[-1]}]
        if not isinstance(specs, list) or not all(isinstance(s, dict) and s for s in specs):
            raise InputError(f"config key 'plots.timeseries' must be a list of tables like "
                             f"{{{self.size_param} = {self.sizes[-1]}}}, got {specs!r}")
        keys = set().union(*(self._lookup(p) for p in self.points if p["size"] is not None))
        for spec in specs:
            for key in spec:
                if key not in keys:
                    raise InputError(f"config key 'plots.timeseries': unknown key {key!r} "
                                     f"(use {', '.join(sorted(keys))})")
            if not self.select(spec):
                raise InputError(f"config key 'plots.timeseries': {spec!r} matches no point of the study")
        return specs

    def values(self, point: dict) -> dict:
        """Swept values of a point (columns) and its size."""
        return {self.size_param: point["size"], **self.combo_of[point["id"]]["values"]}

    def _lookup(self, point: dict) -> dict:
        d = point["definition"]
        return {"drive": d["drive"], **d["run"], **d["params"], **self.values(point)}

    def select(self, spec: dict) -> list[dict]:
        """The size points whose size, parameters, drive and run options match every key of `spec`."""
        return [p for p in self.points if p["size"] is not None
                and all(k in self._lookup(p) and _same(self._lookup(p)[k], v) for k, v in spec.items())]


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0) or a == b
    return a == b


def _json_safe(obj):
    def default(o):
        if isinstance(o, (np.floating, np.integer, np.bool_)):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        return str(o)

    return json.loads(json.dumps(obj, default=default))


def run_point(point: dict, progress=None) -> dict:
    """Charge one point (plain dict from ``Study.points``); returns plain data (dicts, floats, arrays).

    Top-level and free of global state, so any executor (processes, dask workers) can run it.
    """
    from .api import charge
    from .registry import make_model

    d = point["definition"]
    m = make_model(d["model"], d["params"])
    if d["role"] == "baseline":
        m = m.single_site()
    t0 = time.perf_counter()
    res = charge(m, d["drive"], **d["run"], seed=point["seed"], progress=progress)
    wall = time.perf_counter() - t0
    arrays = {k: np.asarray(getattr(res, k), dtype=float) for k in ARRAYS if getattr(res, k) is not None}
    names = sorted(res.observables)
    for k, name in enumerate(names):
        arrays[f"obs_{k}"] = np.asarray(res.observables[name])
        if res.observables_stderr is not None:
            arrays[f"obs_{k}_stderr"] = np.asarray(res.observables_stderr[name])
    scalars = {k: getattr(res, k) for k in ("n_sites", *FIGURES, "model", "params", "method", "drive")}
    return {"id": point["id"], "scalars": _json_safe(scalars), "observables": names,
            "metadata": _json_safe(res.metadata), "arrays": arrays, "wall_time_s": wall, "environment": _environment()}


def _versions() -> dict:
    import numba
    import quspin
    import scipy

    from . import __version__
    return {"collective_qc": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "quspin": getattr(quspin, "__version__", "unknown"), "numba": numba.__version__}


def _environment() -> dict:
    """Thread settings: the last bits of some results depend on them (parallel reductions)."""
    return {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")} | {"cpu_count": os.cpu_count()}


def _write_atomic(path: str, data: bytes) -> None:
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


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (float, np.floating)):
        return repr(float(v))  # shortest string that reads back to the same float
    return str(v)


class Study:
    """A resumable sweep over sizes and swept parameters (schema in the module docstring).

    Parameters
    ----------
    config : dict or path to a TOML file
    out_dir : path
        Study directory (created; an existing one must be this study's or empty).
    overwrite : bool
        Discard an existing study's files in `out_dir` (config changed, corrupted files) and start over.
    progress : bool
        tqdm bars on stderr (over points; per trajectory run when points run in-process).
    log : callable(str), optional
        Receives one-line progress notes.

    Examples
    --------
    >>> rows = Study("studies/configs/xxz_scaling.toml", "out/xxz").run()   # doctest: +SKIP
    """

    def __init__(self, config, out_dir, *, overwrite: bool = False, progress: bool = False, log=None):
        name = None
        if not isinstance(config, dict):
            name = os.path.splitext(os.path.basename(str(config)))[0]
            config = load_config(config)
        self.config = config
        self.spec = _Spec(config, name)
        self.config_hash = _sha256(_canon(config).encode())
        self.out_dir = os.path.abspath(os.fspath(out_dir))
        self.overwrite = overwrite
        self.progress = progress
        self.log = log or (lambda msg: None)
        self.loaded, self.computed, self.timings = 0, 0, {}

    @property
    def points(self) -> list[dict]:
        """Points in canonical order (per combination: the baseline, then the sizes ascending)."""
        return list(self.spec.points)

    def _path(self, *parts) -> str:
        return os.path.join(self.out_dir, *parts)

    # --- directory, manifest and point files -------------------------------------------------
    def _manifest(self) -> dict:
        return {"kind": "collective_qc.study", "format": FORMAT, "name": self.spec.name, "config": self.config,
                "config_hash": self.config_hash, "versions": _versions(), "environment": _environment(),
                "seed": self.spec.seed,
                "points": [{"id": p["id"], "seed": p["seed"], "definition": p["definition"]} for p in self.points]}

    def _prepare_dir(self) -> None:
        d = self.out_dir
        if os.path.exists(d) and not os.path.isdir(d):
            raise InputError(f"study directory {d!r} exists and is not a directory")
        entries = sorted(os.listdir(d)) if os.path.isdir(d) else []
        if entries and MANIFEST not in entries:
            shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
            raise InputError(f"{d!r} is not a study directory (no {MANIFEST}; it holds {shown}); "
                             f"choose a new or empty directory")
        if MANIFEST in entries:
            try:
                self._check_manifest()
                return
            except InputError:
                if not self.overwrite:
                    raise
            self._discard()
        try:
            os.makedirs(self._path("points"), exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot create study directory {d!r}: {exc.strerror}") from None
        _write_atomic(self._path(MANIFEST), json.dumps(self._manifest(), indent=1).encode())

    def _discard(self) -> None:
        """Remove this study's own files (never anything else) from the study directory."""
        self.log(f"overwrite: discarding the study files in {self.out_dir}")
        for name in STUDY_FILES:
            p = self._path(name)
            if os.path.isdir(p):
                shutil.rmtree(p)
            elif os.path.exists(p):
                os.remove(p)

    def _check_manifest(self) -> None:
        path = self._path(MANIFEST)
        try:
            with open(path, "rb") as fh:
                man = json.loads(fh.read())
            ok = (isinstance(man, dict) and man.get("kind") == "collective_qc.study"
                  and man.get("config_hash") == _sha256(_canon(man["config"]).encode()))
        except (OSError, ValueError, KeyError, TypeError):
            ok = False
        if not ok:
            raise InputError(f"study manifest {path!r} is corrupted; restore it, use another directory, "
                             f"or rerun with --force to start over")
        if man["config_hash"] != self.config_hash:
            raise InputError(f"{self.out_dir!r} holds study {man.get('name')!r} made with a different config "
                             f"(hash {man['config_hash'][:12]} != {self.config_hash[:12]}); use another "
                             f"directory, or --force to discard it")
        if man.get("format") != FORMAT:
            raise InputError(f"study manifest {path!r} has format {man.get('format')!r}, expected {FORMAT}")
        now = _versions()
        changed = {k: (v, now.get(k)) for k, v in (man.get("versions") or {}).items() if now.get(k) != v}
        if changed:
            warnings.warn(f"study {self.spec.name!r} resumed with other package versions {changed}; each point "
                          f"file records the versions that computed it", stacklevel=3)
        os.makedirs(self._path("points"), exist_ok=True)

    def _persist(self, point: dict, out: dict) -> None:
        buf = io.BytesIO()
        np.savez(buf, **out["arrays"])
        data = buf.getvalue()
        base = self._path("points", point["id"])
        _write_atomic(base + ".npz", data)
        rec = {"format": FORMAT, "finished": True, "id": point["id"], "definition": point["definition"],
               "seed": point["seed"], "scalars": out["scalars"], "observables": out["observables"],
               "wall_time_s": out["wall_time_s"], "versions": _versions(), "environment": out.get("environment"),
               "metadata": out["metadata"],
               "arrays": {"file": point["id"] + ".npz", "sha256": _sha256(data), "keys": sorted(out["arrays"])}}
        _write_atomic(base + ".json", json.dumps(rec, indent=1).encode())

    def _load(self, point: dict) -> dict | None:
        """A finished point's record with its arrays; None if not finished; InputError if corrupted."""
        path = self._path("points", point["id"] + ".json")
        if not os.path.exists(path):
            return None
        try:
            with open(path, "rb") as fh:
                rec = json.loads(fh.read())
            why = "its definition or seed does not match the config"
            if rec.get("definition") != point["definition"] or rec.get("seed") != point["seed"]:
                raise ValueError(why)
            if rec.get("finished") is not True:
                raise ValueError("it is not marked finished")
            with open(self._path("points", rec["arrays"]["file"]), "rb") as fh:
                data = fh.read()
            if _sha256(data) != rec["arrays"]["sha256"]:
                raise ValueError("its time-series file does not match its checksum")
            with np.load(io.BytesIO(data)) as z:
                rec["arrays"] = {k: z[k] for k in z.files}
            rec["scalars"]["n_sites"]  # noqa: B018  (required keys)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise InputError(f"point file {path!r} is corrupted ({exc}); delete it to recompute that point, "
                             f"or rerun with --force to start over") from None
        return rec

    # --- running ---------------------------------------------------------------------------
    def run(self, executor=None) -> list[dict]:
        """Compute the unfinished points, then write table.csv, timings.csv, timeseries.h5 and plots.

        Parameters
        ----------
        executor : None or object with ``submit(fn, *args)`` -> future
            None: in-process, one point after the other. Otherwise every unfinished point is
            submitted as ``submit(run_point, point)`` and persisted here as its future completes.

        Returns
        -------
        list of dict
            The table rows (canonical order); the same as table.csv plus ``wall_time_s``.
        """
        self._prepare_dir()
        try:
            records = {p["id"]: self._load(p) for p in self.points}
        except InputError:
            if not self.overwrite:
                raise
            self._discard()
            self._prepare_dir()
            records = dict.fromkeys(self.spec.by_id)
        todo = [p for p in self.points if records[p["id"]] is None]
        self.loaded, self.computed = len(self.points) - len(todo), 0
        self.log(f"study {self.spec.name!r}: {len(self.points)} points, {self.loaded} finished before, "
                 f"{len(todo)} to compute")
        errors = []
        from tqdm import tqdm

        with tqdm(total=len(self.points), initial=self.loaded, desc=f"study {self.spec.name}", unit="point",
                  file=sys.stderr, disable=None if self.progress else True) as bar:
            for point, out, exc in self._execute(todo, executor):
                if exc is not None:
                    errors.append((point["id"], exc))
                else:
                    self._persist(point, out)
                    self.computed += 1
                bar.update(1)
        if errors:
            pid, exc = errors[0]
            msg = f"{len(errors)} of {len(todo)} points failed (finished ones are saved); {pid}: {exc}"
            raise (InputError(msg) if isinstance(exc, InputError) else RuntimeError(msg)) from exc
        records = {p["id"]: self._load(p) for p in self.points}
        rows = self._table(records)
        self._write_outputs(rows, records)
        return rows

    def _execute(self, todo, executor):
        if executor is None:
            for point in todo:
                try:
                    yield point, run_point(point, progress=self._inner_progress(point)), None
                except Exception as exc:  # noqa: BLE001 - reported after the other points
                    yield point, None, exc
            return
        futures = {executor.submit(run_point, p): p for p in todo}
        for fut in _as_completed(list(futures)):
            try:
                yield futures[fut], fut.result(), None
            except Exception as exc:  # noqa: BLE001
                yield futures[fut], None, exc

    def _inner_progress(self, point):
        """A second tqdm bar for one in-process run (time samples or trajectories), terminals only."""
        if not self.progress or not sys.stderr.isatty():
            return None
        from tqdm import tqdm

        state = {}

        def update(done, total):
            if "bar" not in state:
                state["bar"] = tqdm(total=total, desc=point["id"], file=sys.stderr, leave=False, position=1)
            state["bar"].update(done - state["bar"].n)
            if done >= total:
                state["bar"].close()
                state.pop("bar")

        return update

    # --- outputs ---------------------------------------------------------------------------
    def _result(self, rec):
        from .results import ChargeResult

        a, s = rec["arrays"], rec["scalars"]
        obs = {n: a[f"obs_{k}"] for k, n in enumerate(rec["observables"])}
        obs_err = {n: a[f"obs_{k}_stderr"] for k, n in enumerate(rec["observables"]) if f"obs_{k}_stderr" in a}
        return ChargeResult(**{k: a.get(k) for k in ARRAYS}, **s, metadata=rec["metadata"], observables=obs,
                            observables_stderr=obs_err or None)

    def _table(self, records) -> list[dict]:
        from .compare import make_row

        results = {pid: self._result(rec) for pid, rec in records.items()}
        errs = any(r.energy_stderr is not None for r in results.values())
        rows = []
        for combo in self.spec.combos:
            base = results[combo["baseline"]]
            for pid in combo["points"]:
                p = self.spec.by_id[pid]
                r = make_row(results[pid], base)
                row = {"point": pid, "role": p["definition"]["role"], **self.spec.values(p),
                       "n_sites": r["n_sites"]}
                for col in (*FIG_COLS, *GAMMA_COLS):
                    row[col] = r.get(col) if (p["size"] is not None or col in FIG_COLS) else None
                    if errs:
                        row[col + "_stderr"] = r.get(col + "_stderr") if row[col] is not None else None
                units = records[pid]["metadata"].get("units") or {}
                row.update(method=r["method"], energy_unit=units.get("energy"), time_unit=units.get("time"),
                           seed=p["seed"], wall_time_s=records[pid]["wall_time_s"])
                rows.append(row)
        self.timings = {r["point"]: r["wall_time_s"] for r in rows}
        return rows

    def _write_outputs(self, rows, records) -> None:
        import csv

        def table(cols, rs):
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\n")
            w.writerow(cols)
            for r in rs:
                w.writerow([_cell(r[c]) for c in cols])
            return buf.getvalue().encode()

        cols = [c for c in rows[0] if c != "wall_time_s"]
        _write_atomic(self._path("table.csv"), table(cols, rows))
        _write_atomic(self._path("timings.csv"), table(["point", "n_sites", "wall_time_s"], rows))
        self._write_h5(records)
        self.plot_files = self._write_plots(rows, records)

    def _write_h5(self, records) -> None:
        import h5py

        path = self._path("timeseries.h5")
        tmp = self._path(f".timeseries.h5.{os.getpid()}.tmp")
        with h5py.File(tmp, "w") as f:
            f.attrs.update(study=self.spec.name, model=self.spec.model, config=_canon(self.config),
                           config_hash=self.config_hash, size_param=self.spec.size_param)
            for p in self.points:
                rec = records[p["id"]]
                s, units = rec["scalars"], rec["metadata"].get("units", {})
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
                for k, v in rec["arrays"].items():
                    ds = g.create_dataset(k, data=v)
                    ds.attrs["units"] = unit.get(k.removesuffix("_stderr"), "")
                for k, name in enumerate(rec["observables"]):
                    g[f"obs_{k}"].attrs["name"] = name
        os.replace(tmp, path)

    def _write_plots(self, rows, records) -> list[str]:
        from . import plots

        sp = self.spec
        os.makedirs(self._path("plots"), exist_ok=True)
        by_id = {r["point"]: r for r in rows}
        groups = []
        for c in sp.combos:
            groups.append({"label": _label(c["values"]) or sp.model, "baseline": by_id[c["baseline"]],
                           "rows": [by_id[pid] for pid in c["points"][1:]]})
        files = [plots.per_site_vs_n(groups, self._path("plots", "per_site.png"), title=sp.name),
                 plots.gammas_vs_n(groups, self._path("plots", "gammas.png"), title=sp.name)]
        for k, spec in enumerate(sp.timeseries):
            curves = []
            for p in sp.select(spec):
                rec = records[p["id"]]
                vals = {**sp.values(p)}
                combo = sp.combo_of[p["id"]]
                base = {"label": "single site" + (f" ({_label(combo['values'])})" if combo["values"] else ""),
                        **records[combo["baseline"]]["arrays"]}
                curves.append({"label": _label(vals), **rec["arrays"], "baseline": base,
                               "n_sites": rec["scalars"]["n_sites"], "units": rec["metadata"].get("units", {})})
            name = "timeseries.png" if len(sp.timeseries) == 1 else f"timeseries-{k + 1}.png"
            files.append(plots.timeseries(curves, self._path("plots", name), title=f"{sp.name}: {_label(spec)}"))
        return files


def _label(values: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in values.items())


def _as_completed(futures):
    """``concurrent.futures.as_completed`` for stdlib futures, ``distributed.as_completed`` for dask ones."""
    if all(isinstance(f, cf.Future) for f in futures):
        return cf.as_completed(futures)
    from distributed import as_completed

    return as_completed(futures)


def format_table(rows: list[dict], size_param: str = "N") -> str:
    """A printable advantage table of study rows (per-site figures and Gamma; +- standard errors)."""
    skip = {"point", "role", "n_sites", "method", "seed", "wall_time_s", "energy_unit", "time_unit", size_param,
            *FIG_COLS, *GAMMA_COLS}
    swept = [c for c in rows[0] if c not in skip and not c.endswith("_stderr")] if rows else []

    def f(x, w=9):
        return f"{'-':>{w}}" if x is None else (f"{x:{w}.4g}" if isinstance(x, float) else f"{x!s:>{w}}")

    width = {c: max(9, len(c), *(len(str(r[c])) for r in rows)) for c in swept}
    head = [f"{size_param:>5}", *(f"{c:>{width[c]}}" for c in swept), f"{'N_sites':>7}", f"{'tau_c':>9}",
            f"{'E_max/N':>9}", f"{'P_max/N':>9}", f"{'C_Q*/N':>9}", f"{'G_P':>9}", f"{'G_tau':>9}",
            f"{'G_C':>9}", f"{'G_E':>9}", f"{'method':>12}"]
    lines = [" ".join(head)]
    for r in rows:
        size = "base" if r["role"] == "baseline" else r[size_param]
        cells = [f"{size!s:>5}", *(f(r[c], width[c]) for c in swept), f"{r['n_sites']:7d}",
                 *(f(r[c]) for c in ("tau_c", "energy_max_per_site", "power_max_per_site",
                                     "capacitance_at_tau_c_per_site", *GAMMA_COLS[:4])), f"{r['method']:>12}"]
        if r.get("gamma_power_stderr") is not None:
            cells.append("  +-" + " ".join(f(r.get(c + "_stderr"), 7) for c in GAMMA_COLS[:4]))
        lines.append(" ".join(cells))
    units = sorted({(r.get("energy_unit"), r.get("time_unit")) for r in rows if r.get("energy_unit")})
    if units:
        lines.append("units: " + "; ".join(f"energy {e}, time {t}" for e, t in units))
    return "\n".join(lines)
