"""The TOML schema of a study: reading, strict validation, swept combinations and points.

Everything here is checked before anything is computed or written: unknown sections and keys
(refused with a suggestion), wrong types, unknown models or parameters, and models that cannot be
built at some point raise an :class:`~collective_qc.core.errors.InputError` naming the key.
"""

from __future__ import annotations

import difflib
import math

from ..core.errors import InputError, shown
from ..physics.model import GRAPH_SITES_LIMIT
from ..planning.options import OPTIONS
from .axes import check_count, combinations, disorder_entries, make_axes, zip_groups
from .points import FIG_COLS, GAMMA_COLS, canon, make_point, make_unit

__all__ = ["load_config", "Spec", "SECTIONS", "RUN_OPTIONS", "MAX_POINTS"]

MAX_POINTS = 10_000  # most points (combinations x (sizes + baseline)) one study may hold

SECTIONS = {"study": ("name", "model", "sizes", "drive", "seed", "realisations"), "params": None, "run": None,
            "disorder": None, "sweep": ("zip",), "plots": ("timeseries",)}
RUN_OPTIONS = {k: o for k, o in OPTIONS.items() if k != "seed"}  # run.seed: the study's seed is study.seed
MOVED = {  # run options a study takes elsewhere (one way each), with the pointer given on refusal
    "seed": "a study seeds its points from 'study.seed' (point seeds derive from it and the point's content); "
            "set study.seed instead",
    "disorder": "a study draws disorder from its [disorder] section, one key per attribute, e.g. "
                "[disorder] omega = {dist = \"uniform\", width = [0.5, 1]} (a list sweeps the width); move it there",
    "realisations": "a study sets the number of disorder realisations with 'study.realisations' (not part of a "
                    "point's identity: raising it later computes only the new realisations); set it there",
}


def _hint(key: str, known) -> str:
    close = difflib.get_close_matches(key, list(known), n=2)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


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
    except IsADirectoryError:
        raise InputError(f"study config {str(path)!r} is a directory, not a TOML file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"study config {str(path)!r} is not valid TOML: {exc}") from None
    Spec(cfg)
    return cfg


def _value(key: str, v, kind: str, check=None):
    """One scalar config value, type-checked strictly (TOML types, no strings for numbers)."""
    where = f"config key {key!r}"
    if kind == "bool":
        if not isinstance(v, bool):
            raise InputError(f"{where} must be true or false, got {shown(v)}")
        return v
    if kind == "str":
        if not isinstance(v, str):
            raise InputError(f"{where} must be a string, got {shown(v)}")
        if isinstance(check, tuple) and v not in check:
            raise InputError(f"{where} must be one of {', '.join(map(repr, check))}, got {shown(v)}")
        return v
    if isinstance(v, bool) or not isinstance(v, (int, float)) or (kind == "int" and not isinstance(v, int)):
        raise InputError(f"{where} must be {'an integer' if kind == 'int' else 'a number'}, got {shown(v)}")
    if not math.isfinite(v):
        raise InputError(f"{where} must be finite, got {shown(v)}")
    v = int(v) if kind == "int" else float(v)
    if (check == "positive" and v <= 0) or (check == "nonneg" and v < 0) or (kind == "int" and v < (check or 0)):
        bound = {"positive": "> 0", "nonneg": ">= 0"}.get(check, f">= {check or 0}")
        raise InputError(f"{where} must be {bound}, got {shown(v)}")
    return v


def _values(key: str, v, parse, unique: bool = True) -> list:
    """A scalar -> [value]; a list -> swept values (non-empty; no duplicates when `unique`, else
    checked per axis by :func:`collective_qc.study.axes.make_axes`, since zipped lists may repeat)."""
    if not isinstance(v, list):
        return [parse(key, v)]
    if not v:
        raise InputError(f"config key {key!r}: an empty list sweeps nothing")
    out = [parse(key, x) for x in v]
    if unique and len({canon(x) for x in out}) != len(out):
        raise InputError(f"config key {key!r} lists a value twice: {v!r}")
    return out


def _param_parser(cls):
    known = {p.name: p for p in cls.params}

    def parse(key, v):
        p = known[key.split(".", 1)[1]]
        kind = {bool: "bool", str: "str", int: "int"}.get(p.type, "number")
        return p.parse(_value(key, v, kind), cls.name)

    return parse


def _check_sections(cfg) -> dict:
    if not isinstance(cfg, dict):
        raise InputError(f"a study config is a table of sections, got {type(cfg).__name__}")
    for sec, val in cfg.items():
        if sec not in SECTIONS:
            raise InputError(f"unknown config section [{sec}] (sections: {', '.join(SECTIONS)}){_hint(sec, SECTIONS)}")
        if not isinstance(val, dict):
            raise InputError(f"config section [{sec}] must be a table, got {shown(val)}")
        allowed = SECTIONS[sec] or (RUN_OPTIONS if sec == "run" else None)
        for key in val if allowed is not None else ():
            if sec == "run" and key in MOVED:
                raise InputError(f"config key 'run.{key}': {MOVED[key]}")
            if sec == "run" and key == "sensitivities":
                raise InputError("config key 'run.sensitivities': studies do not store sensitivities; compute them "
                                 "with charge(..., sensitivities=[...]) or cqc charge --sensitivity")
            if key not in allowed:
                raise InputError(f"unknown config key '{sec}.{key}' (known: {', '.join(allowed)})"
                                 f"{_hint(key, allowed)}")
    st = cfg.get("study")
    if st is None:
        raise InputError("config section [study] is missing (it needs model and sizes)")
    for key in ("model", "sizes"):
        if key not in st:
            raise InputError(f"config key 'study.{key}' is missing")
    return st


class Spec:
    """A validated config: swept keys, combinations, points (plain dicts) in canonical order.

    Attributes
    ----------
    table_points : list of dict
        The points of the table (one row each): per combination of swept values its single-site
        baseline point, then the sizes ascending.
    points : list of dict
        The stored units, what is computed and persisted: the table points themselves, or, with a
        ``[disorder]`` section, one unit per table point and realisation index r < R
        (:func:`collective_qc.study.points.make_unit`), realisations ascending.
    units_of : dict
        Table point id -> ids of its units.
    combos : list of dict
        ``{"values": {column: value}, "baseline": id, "points": [ids]}`` per combination (table point ids).
    axes : list of :class:`~collective_qc.study.axes.Axis`
        The independent swept axes (a ``[sweep] zip`` group is one axis), those of more than one value.
    timeseries : list of dict
        The ``[plots] timeseries`` selections.
    """

    def __init__(self, cfg: dict, name: str | None = None):
        from ..physics.registry import get_model

        st = _check_sections(cfg)
        self.name = _value("study.name", st.get("name", name or "study"), "str")
        model = _value("study.model", st["model"], "str")
        cls = self.cls = get_model(model)
        self.model = cls.name
        self.size_param = cls.size_param
        if self.size_param is None:
            raise InputError(f"config key 'study.model': model {model!r} has no size parameter to sweep")
        if not isinstance(st["sizes"], list) or not st["sizes"]:
            raise InputError(f"config key 'study.sizes' must be a non-empty list of integers, got {shown(st['sizes'])}")
        self.sizes = sorted(set(_values("study.sizes", st["sizes"], lambda k, v: _value(k, v, "int", 1))))
        self.seed = _value("study.seed", st.get("seed", 0), "int", 0)
        self.dists, disorder = disorder_entries(cfg.get("disorder"))
        self.realisations = _value("study.realisations", st.get("realisations", 1), "int", 1)
        if self.realisations > 1 and not self.dists:
            raise InputError(f"config key 'study.realisations' = {self.realisations} needs a [disorder] section "
                             "(without disorder every realisation is the same run)")
        swept = self._swept_keys(cfg, st, cls) + disorder
        axes = make_axes(swept, zip_groups(cfg.get("sweep"), [key for _, key, _ in swept]))
        check_count(axes, len(self.sizes), self.realisations if self.dists else 1, MAX_POINTS)
        self.axes = [ax for ax in axes if len(ax) > 1]
        self.swept = [e for ax in self.axes for e in ax.entries]
        taken = {self.size_param, "point", "role", "n_sites", "method", "seed", "realisation", "realisations",
                 *FIG_COLS, *GAMMA_COLS}
        self.columns = {}  # swept config key -> table column
        for sec, key, _ in self.swept:
            col = key.split(".", 1)[1] if sec != "disorder" else key.replace(".", "_")
            self.columns[key] = col if col not in taken else f"{sec}_{col}"
            taken.add(self.columns[key])
        self.combos, self.table_points, self.points, self.units_of = [], [], [], {}
        for choice in combinations(axes):
            self._combo(choice)
        self.by_id = {p["id"]: p for p in (*self.table_points, *self.points)}
        self.combo_of = {pid: c for c in self.combos for point in c["points"] for pid in (point,
                         *self.units_of[point])}
        self.timeseries = self._plot_specs(cfg.get("plots", {}).get("timeseries"))

    @property
    def disordered(self) -> bool:
        """Whether the study draws disorder (its points are ensembles of realisations)."""
        return bool(self.dists)

    def _swept_keys(self, cfg, st, cls) -> list:
        swept = [("study", "study.drive", _values("study.drive", st.get("drive", 0.5),
                                                   lambda k, v: _value(k, v, "number"), unique=False))]
        known = set(cls.param_names())
        for key, v in cfg.get("params", {}).items():
            if key == self.size_param:
                raise InputError(f"config key 'params.{key}' is the size parameter; set it with study.sizes")
            if key not in known:
                raise InputError(f"unknown config key 'params.{key}': model {self.model!r} has parameters "
                                 f"{', '.join(sorted(known - {self.size_param}))}{_hint(key, known)}")
            swept.append(("params", f"params.{key}", _values(f"params.{key}", v, _param_parser(cls), unique=False)))
        for key, v in cfg.get("run", {}).items():
            check = RUN_OPTIONS[key].check
            parse = lambda k, x, c=check: c(f"config key {k!r}", x)  # noqa: E731
            swept.append(("run", f"run.{key}", _values(f"run.{key}", v, parse, unique=False)))
        return swept

    def _combo(self, choice) -> None:
        base = {"model": self.model, "drive": None, "params": {}, "run": {}}
        disorder = {}
        for sec, key, v in choice:
            if sec == "study":
                base["drive"] = v
            elif sec == "disorder":
                attr = key.split(".")[1]
                disorder[attr] = {"dist": self.dists[attr][0], self.dists[attr][1]: v}
            else:
                base[sec][key.split(".", 1)[1]] = v
        if disorder:
            base["disorder"] = disorder
        run = base["run"]
        _check_method(run)
        _check_rates(disorder, run)
        values = {self.columns[key]: v for _, key, v in choice if key in self.columns}
        points = [make_point(base, self.size_param, n, self.seed) for n in (None, *self.sizes)]
        for p in points:
            _check_buildable(p, self.seed)
            units = [make_unit(p, r, self.seed) for r in range(self.realisations)] if disorder else [p]
            self.units_of[p["id"]] = [u["id"] for u in units]
            self.points += units
        self.combos.append({"values": values, "baseline": points[0]["id"], "points": [p["id"] for p in points]})
        self.table_points += points

    def _plot_specs(self, specs) -> list[dict]:
        if specs is None:
            return [{self.size_param: self.sizes[-1]}]
        if not isinstance(specs, list) or not all(isinstance(s, dict) and s for s in specs):
            raise InputError(f"config key 'plots.timeseries' must be a list of tables like "
                             f"{{{self.size_param} = {self.sizes[-1]}}}, got {shown(specs)}")
        keys = set().union(*(self._lookup(p) for p in self.table_points if p["size"] is not None))
        for spec in specs:
            for key in spec:
                if key not in keys:
                    raise InputError(f"config key 'plots.timeseries': unknown key {key!r} "
                                     f"(use {', '.join(sorted(keys))}){_hint(key, keys)}")
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
        """The size points (table points) whose size, parameters, drive and run options match every key
        of `spec`."""
        return [p for p in self.table_points if p["size"] is not None
                and all(k in self._lookup(p) and _same(self._lookup(p)[k], v) for k, v in spec.items())]


def _check_method(run: dict) -> None:
    """A named method that cannot take the run's uniform noise (closed with any rate of
    :data:`collective_qc.physics.operators.NOISE_RATES` > 0), refused before any point by the
    solver table's own reason."""
    from ..physics.operators import NOISE_RATES
    from ..solvers.contract import solver

    method = run.get("method", "auto")
    if method == "auto":
        return
    reason = solver(method).refusal(any((run.get(k) or 0) > 0 for k in NOISE_RATES))
    if reason:
        raise InputError(f"config key 'run.method': {reason}")


def _check_rates(disorder: dict, run: dict) -> None:
    """A drawn rate (gamma, kappa) whose distribution can go below zero around the run's uniform
    rate is refused before any point, naming its config key."""
    from ..physics.disorder import RATE_ATTRIBUTES, parse_disorder

    if not disorder:
        return
    dis = parse_disorder(disorder)
    for attr in RATE_ATTRIBUTES:
        if attr in disorder:
            try:
                dis.check_rates({k: run.get(k, 0.0) for k in RATE_ATTRIBUTES.values()})
            except InputError as exc:
                raise InputError(f"config key 'disorder.{attr}': {_strip(str(exc), attr)}") from None


def _strip(msg: str, attr: str) -> str:
    """A disorder message without its leading "disorder 'ATTR': " (the config key names it)."""
    head = f"disorder {attr!r}: "
    return msg[len(head):] if msg.startswith(head) else msg


def _check_buildable(point: dict, seed: int = 0) -> None:
    """The point's model and protocol are valid, its graph too where it is small enough to build,
    and a disordered point's first realisation can be drawn on it (InputError naming the point)."""
    from ..physics.protocols import parse_protocol
    from ..physics.registry import make_model

    d = point["definition"]
    desc = ", ".join(f"{k}={v}" for k, v in d["params"].items()) or "defaults"
    try:
        m = make_model(d["model"], d["params"])
        if point["size"] is None:
            m = m.single_site()
        m.size_estimate()  # validates the graph of a buildable model; a huge one is refused by the memory check
        parse_protocol(d["run"].get("protocol"))
    except InputError as exc:
        raise InputError(f"config point {point['label']} ({d['model']}, {desc}): {exc}") from None
    if d.get("disorder") and (m.site_count() or 0) <= GRAPH_SITES_LIMIT:
        _check_draw(point, m, seed)


def _check_draw(point: dict, m, seed: int) -> None:
    """Draw realisation 0 of a disordered point (cheap: its graph is small): attributes the graph
    cannot take (J on a bond given as Jx/Jy/Jz) and, on a size point, attributes with nothing to
    draw on (g without a boson mode) are refused naming the config key."""
    from ..physics.disorder import parse_disorder, realisation_rng

    d = point["definition"]
    dis = parse_disorder(d["disorder"])
    try:
        _, drawn = dis.realise(m.graph(), realisation_rng(seed, point["id"], 0), d["run"])
    except InputError as exc:
        attr = next((a for a in d["disorder"] if str(exc).startswith(f"disorder {a!r}")), "")
        raise InputError(f"config key 'disorder.{attr}' at point {point['label']} ({d['model']}): "
                         f"{_strip(str(exc), attr)}") from None
    graph = m.graph()
    for attr, what in drawn.items():
        ends = [t for target in what["targets"] for t in (target if isinstance(target, list) else [target])]
        if any((graph.nodes[n].get("sites") or 1) > 1 for n in ends if n in graph.nodes):
            raise InputError(f"config key 'disorder.{attr}': model {d['model']!r} holds its sites in one collective "
                             f"spin node, where one draw would shift every site alike; set params.representation "
                             f"= \"explicit\" (one node per site) to draw per site")
    missing = [a for a in d["disorder"] if a not in drawn]
    if point["size"] is not None and missing:
        raise InputError(f"config key 'disorder.{missing[0]}': model {d['model']!r} has no node or edge carrying "
                         f"{missing[0]!r} at point {point['label']} (nothing to draw)")


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=0.0) or a == b
    return a == b


def family(cfg: dict) -> dict:
    """The part of a config that must match for a directory to be extended (all but sizes, [plots], name).

    Points are addressed by content, so a study whose sizes, plots or number of realisations
    change reuses every finished point; a change of model, drive, seed, [params], [run],
    [disorder] or [sweep] makes another study.
    """
    out = {sec: dict(val) for sec, val in cfg.items() if sec != "plots"}
    st = out.get("study", {})
    for key in ("sizes", "name", "realisations"):
        st.pop(key, None)
    return out
