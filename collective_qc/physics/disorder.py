"""Disorder as data: graph attributes drawn per site or per bond from named distributions.

A disorder specification maps graph attributes (:mod:`collective_qc.physics.graph`) to
distributions around each node's or edge's own value mu (its value in the clean model):

========== ============ ==============================================================
name       parameter    value drawn
========== ============ ==============================================================
uniform    width W      mu + W (u - 1/2), u uniform in [0, 1): a box of full width W
normal     sigma        mu + sigma z, z standard normal
bimodal    width W      mu - W/2 or mu + W/2, each with probability 1/2
lognormal  sigma        mu exp(sigma z - sigma^2/2) (mean mu, sign of mu kept)
callable   (Python)     f(rng, mu) -> values, mu the array of clean values (one per target)
========== ============ ==============================================================

Attributes that can be drawn (the graph schema's numbers): on spin nodes ``omega``, ``D``, ``E``,
``B40``, ``B44``, ``weight`` (charger weight), the per-site rates ``gamma`` (dephasing) and
``kappa`` (relaxation), whose clean value is the run's uniform rate where the node has none, and
the ``graph`` charger's site fields ``hx``, ``hy``, ``hz``; on spin-spin edges ``J``, ``Delta``,
``Jx``, ``Jy``, ``Jz`` and the ``graph`` charger's couplings ``Jcx``, ``Jcy``, ``Jcz``; on
spin-boson edges ``g``. A charger attribute (h*, Jc*) draws a disordered *charger*: the run must
use the charger ``graph`` (:mod:`collective_qc.physics.chargers`), which reads them; any other
charger refuses a graph that carries them. Its clean value is 0 where the graph gives none. A rate must
stay >= 0 for every draw: only distributions whose support is non-negative are accepted for it
(uniform and bimodal with W/2 <= mu, lognormal), checked before anything runs.

Forms: ``{"omega": {"dist": "uniform", "width": 0.5}}`` (study TOML), ``{"omega": "uniform:0.5"}``
or the CLI's ``omega=uniform:0.5``, and ``{"omega": callable}`` from Python.

Seeding: a realisation is determined by (seed, point, index) alone. Each drawn attribute has
its own stream, ``numpy.random.default_rng([seed, point, index, crc32(attribute)])``, and draws
one value per target in the graph's node (or edge) order, so adding a disordered attribute does
not change the others' draws, and no worker count or order changes any number.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import networkx as nx
import numpy as np

from ..core.errors import InputError, shown
from .graph import parse_spin
from .model import GraphModel

__all__ = ["DISTRIBUTIONS", "NODE_ATTRIBUTES", "EDGE_ATTRIBUTES", "RATE_ATTRIBUTES", "Distribution", "Disorder",
           "parse_disorder", "realisation_rng", "point_key", "RealisedModel"]

MIN_SPIN = {"D": 1.0, "E": 1.0, "B40": 2.0, "B44": 2.0}  # anisotropies vanish or are constant below this S
LOGNORMAL_SIGMA_MAX = 5.0  # median draw exp(-12.5) = 4e-6 of the clean value; beyond, every draw is ~0
DISTRIBUTIONS = {"uniform": "width", "normal": "sigma", "bimodal": "width", "lognormal": "sigma"}  # name -> parameter
NODE_ATTRIBUTES = {"omega": 1.0, "D": 0.0, "E": 0.0, "B40": 0.0, "B44": 0.0, "weight": 1.0, "gamma": None,
                   "kappa": None, "hx": 0.0, "hy": 0.0, "hz": 0.0}  # clean default (None: the run's uniform rate)
RATE_ATTRIBUTES = {"gamma": "dephasing", "kappa": "relaxation"}  # per-site rate -> the run option it defaults to
BOND_ATTRIBUTES = {"J": 0.0, "Delta": 1.0, "Jx": 0.0, "Jy": 0.0, "Jz": 0.0, "Jcx": 0.0, "Jcy": 0.0, "Jcz": 0.0}
CAVITY_ATTRIBUTES = {"g": 1.0}
EDGE_ATTRIBUTES = {**BOND_ATTRIBUTES, **CAVITY_ATTRIBUTES}


@dataclass(frozen=True)
class Distribution:
    """One attribute's distribution: ``name`` (a key of DISTRIBUTIONS or "callable"), its spread
    ``scale`` (width W or sigma, energy or rate units as the attribute), or ``func``."""

    attribute: str
    name: str
    scale: float = 0.0
    func: Callable | None = None

    def draw(self, rng: np.random.Generator, mu: np.ndarray) -> np.ndarray:
        """One value per clean value in `mu` (array)."""
        n = len(mu)
        if self.name == "uniform":
            return mu + self.scale * (rng.random(n) - 0.5)
        if self.name == "normal":
            return mu + self.scale * rng.standard_normal(n)
        if self.name == "bimodal":
            return mu + self.scale * (rng.integers(0, 2, n) - 0.5)
        if self.name == "lognormal":
            return mu * np.exp(self.scale * rng.standard_normal(n) - 0.5 * self.scale ** 2)
        out = np.asarray(self.func(rng, mu.copy()), dtype=float).reshape(-1)
        if out.shape != (n,) or not np.all(np.isfinite(out)):
            raise InputError(f"disorder {self.attribute!r}: the callable must return {n} finite numbers "
                             f"(one per target), got {shown(out)}")
        return out

    def describe(self):
        """JSON-able description (a callable by its name)."""
        if self.name == "callable":
            return {"dist": "callable", "name": getattr(self.func, "__name__", "callable")}
        return {"dist": self.name, DISTRIBUTIONS[self.name]: self.scale}

    def lowest(self, mu: float) -> float:
        """The smallest value this distribution can give around `mu` (-inf when unbounded)."""
        if self.name in ("uniform", "bimodal"):
            return mu - 0.5 * self.scale
        if self.name == "lognormal":
            return 0.0 if mu >= 0 else -math.inf
        return -math.inf


def _entry(attr: str, value) -> Distribution:
    """One attribute's distribution from a table, a 'name:scale' string or a callable."""
    where = f"disorder {attr!r}"
    if callable(value):
        return Distribution(attr, "callable", func=value)
    if isinstance(value, str):
        name, sep, scale = value.partition(":")
        if not sep:
            raise InputError(f"{where} must look like NAME:SCALE (e.g. uniform:0.5), got {shown(value)}")
        table = {"dist": name.strip(), DISTRIBUTIONS.get(name.strip(), "width"): scale.strip()}
    elif isinstance(value, dict):
        table = dict(value)
    else:
        raise InputError(f"{where} must be a table like {{dist = \"uniform\", width = 0.5}} or NAME:SCALE, "
                         f"got {shown(value)}")
    name = table.pop("dist", None)
    if not isinstance(name, str) or name not in DISTRIBUTIONS:
        import difflib

        close = difflib.get_close_matches(str(name), DISTRIBUTIONS, n=2)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise InputError(f"{where}: unknown distribution {shown(name)} (choose from "
                         f"{', '.join(DISTRIBUTIONS)}){hint}")
    key = DISTRIBUTIONS[name]
    if set(table) != {key}:
        raise InputError(f"{where}: distribution {name!r} takes exactly one parameter {key!r}, got "
                         f"{', '.join(map(repr, table)) or 'none'}")
    scale = _scale(f"{where} {key}", table[key])
    if name == "lognormal" and scale > LOGNORMAL_SIGMA_MAX:
        raise InputError(f"{where} sigma must be <= {LOGNORMAL_SIGMA_MAX:g} for lognormal, got {scale:g}: its median "
                         f"draw is exp(-sigma^2/2) = {math.exp(-scale * scale / 2):.1e} of the clean value and its "
                         "mean is carried by draws no feasible ensemble sees")
    return Distribution(attr, name, scale)


def _scale(where: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{where} must be a number >= 0, got {shown(value)}") from None
    if isinstance(value, bool) or not math.isfinite(v) or v < 0:
        raise InputError(f"{where} must be a finite number >= 0, got {shown(value)}")
    return v


class Disorder:
    """A validated disorder specification (attribute -> :class:`Distribution`), in sorted
    attribute order."""

    def __init__(self, dists: dict[str, Distribution]):
        self.dists = dict(sorted(dists.items()))

    def __bool__(self) -> bool:
        return bool(self.dists)

    def describe(self) -> dict:
        return {a: d.describe() for a, d in self.dists.items()}

    def check_rates(self, rates: dict[str, float], graph: nx.Graph | None = None) -> None:
        """Refuse a distribution that can draw a negative rate (gamma, kappa) around the clean
        values: the nodes' own rates in `graph`, else the run's uniform ``rates``."""
        for attr, opt in RATE_ATTRIBUTES.items():
            d = self.dists.get(attr)
            if d is None or d.name == "callable":
                continue
            mus = [rates.get(opt, 0.0) or 0.0]
            if graph is not None:
                mus = [a.get(attr, rates.get(opt, 0.0) or 0.0) or 0.0 for _, a in _spins(graph)] or mus
            mu = min(mus)
            if d.lowest(mu) < 0:
                raise InputError(f"disorder {attr!r}: {d.name} around the rate {mu:g} can draw a negative rate "
                                 f"(lowest {d.lowest(mu):g}); use lognormal, or a width <= 2 x the rate")

    def realise(self, graph: nx.Graph, rng_of: Callable[[str], np.random.Generator], rates: dict | None = None):
        """(a copy of `graph` with the drawn attributes, {attribute: drawn values}) where
        ``rng_of(attribute)`` gives that attribute's stream; drawn values are lists in the graph's
        node (edge) order of the targets, with the targets under ``"nodes"``/``"edges"``."""
        g = graph.copy()
        drawn: dict[str, Any] = {}
        for attr, dist in self.dists.items():
            targets, mu = _clean_values(g, attr, rates or {})
            if not targets:
                continue  # e.g. 'J' on the single-site baseline: nothing to draw
            _refuse_inert(g, attr, targets)
            values = dist.draw(rng_of(attr), np.asarray(mu, float))
            if attr in RATE_ATTRIBUTES and np.any(values < 0):
                raise InputError(f"disorder {attr!r}: a drawn rate is negative ({float(values.min()):g})")
            _assign(g, attr, targets, values)
            drawn[attr] = {"targets": [_label(t) for t in targets], "values": [float(v) for v in values]}
        return g, drawn


def _refuse_inert(graph: nx.Graph, attr: str, targets: list) -> None:
    """Refuse drawing an anisotropy that does nothing at the targets' spin length: D (S^z)^2 is a
    constant and E (S^+^2 + S^-^2)/2 zero for S = 1/2; the fourth-rank B40, B44 terms vanish for S < 2."""
    need = MIN_SPIN.get(attr)
    if need is None:
        return
    spins = {parse_spin(graph.nodes[t].get("spin", 0.5)) for t in targets}
    if max(spins) < need:
        shown_spins = ", ".join(f"{x:g}" for x in sorted(spins))
        raise InputError(f"disorder {attr!r}: no effect on spin-{shown_spins} sites (the term needs S >= {need:g}); "
                         "every realisation would be the clean run")


def _spins(graph):
    return [(n, a) for n, a in graph.nodes(data=True) if a.get("kind", "spin") == "spin"]


def _kind(graph, u, v) -> str:
    ku, kv = graph.nodes[u].get("kind", "spin"), graph.nodes[v].get("kind", "spin")
    return "bond" if ku == kv == "spin" else "cavity"


def _clean_values(g: nx.Graph, attr: str, rates: dict):
    """(targets, clean values) of one attribute: spin nodes, spin-spin bonds or spin-boson edges."""
    if attr in NODE_ATTRIBUTES:
        default = NODE_ATTRIBUTES[attr]
        if attr in RATE_ATTRIBUTES:
            default = rates.get(RATE_ATTRIBUTES[attr], 0.0) or 0.0
        nodes = _spins(g)
        return [n for n, _ in nodes], [a.get(attr, default) if a.get(attr) is not None else default for _, a in nodes]
    kind = "cavity" if attr in CAVITY_ATTRIBUTES else "bond"
    edges = [(u, v, a) for u, v, a in g.edges(data=True) if _kind(g, u, v) == kind]
    mus = []
    for u, v, a in edges:
        explicit = any(k in a for k in ("Jx", "Jy", "Jz"))
        if attr in ("J", "Delta") and explicit:
            raise InputError(f"disorder {attr!r}: edge ({u!r}, {v!r}) gives Jx/Jy/Jz; draw those instead")
        if attr in ("Jx", "Jy", "Jz") and not explicit:
            J = float(a.get("J", a.get("weight", 0.0)))
            delta = float(a.get("Delta", 1.0))
            a.pop("J", None), a.pop("Delta", None), a.pop("weight", None)
            a.update(Jx=J, Jy=J, Jz=J * delta)
        default = float(a.get("weight", 0.0)) if attr == "J" else EDGE_ATTRIBUTES[attr]
        mus.append(a.get(attr, default))
    return [(u, v) for u, v, _ in edges], mus


def _assign(g: nx.Graph, attr: str, targets: list, values: np.ndarray) -> None:
    for t, v in zip(targets, values, strict=True):
        (g.edges[t] if isinstance(t, tuple) else g.nodes[t])[attr] = float(v)


def _label(target):
    """A JSON-able name of a node or edge."""
    if isinstance(target, tuple):
        return [_label(target[0]), _label(target[1])]
    return target if isinstance(target, (int, str)) else str(target)


def parse_disorder(spec, where: str = "disorder") -> Disorder:
    """A :class:`Disorder` from None, a mapping (attribute -> table | 'NAME:SCALE' | callable), a
    list of strings 'ATTR=NAME:SCALE' or one such string with comma-separated entries (the CLI's
    ``--disorder omega=uniform:0.5,J=normal:0.1``); InputError naming the key at fault."""
    if spec is None or isinstance(spec, Disorder):
        return spec or Disorder({})
    if isinstance(spec, str):
        parts = spec.split(",")
        if parts and not parts[-1].strip():
            parts.pop()  # a trailing comma
        if any(not part.strip() for part in parts):
            raise InputError(f"{where}: an empty entry between commas in {shown(spec)}")
        spec = parts
    if isinstance(spec, (list, tuple)):
        table = {}
        for item in spec:
            attr, sep, rest = str(item).partition("=")
            if not sep:
                raise InputError(f"{where} must look like ATTR=NAME:SCALE (e.g. omega=uniform:0.5), got {shown(item)}")
            if attr.strip() in table:
                raise InputError(f"{where}: attribute {attr.strip()!r} given twice")
            table[attr.strip()] = rest.strip()
        spec = table
    if not isinstance(spec, dict):
        raise InputError(f"{where} must be a table of attribute -> distribution, got {shown(spec)}")
    known = {**NODE_ATTRIBUTES, **EDGE_ATTRIBUTES}
    for attr in spec:
        if attr not in known:
            import difflib

            close = difflib.get_close_matches(str(attr), known, n=2)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise InputError(f"{where}: unknown attribute {attr!r} (drawable: {', '.join(known)}){hint}")
    if "J" in spec and ({"Jx", "Jy", "Jz"} & set(spec)) or "Delta" in spec and ({"Jx", "Jy", "Jz"} & set(spec)):
        raise InputError(f"{where}: draw either J/Delta or Jx/Jy/Jz, not both")
    return Disorder({a: _entry(a, v) for a, v in spec.items()})


def point_key(point) -> int:
    """A non-negative integer for a point's identity (an int as is; a string id by CRC-32)."""
    if isinstance(point, (int, np.integer)) and point >= 0:
        return int(point)
    return zlib.crc32(str(point).encode())


def realisation_rng(seed: int, point, index: int) -> Callable[[str], np.random.Generator]:
    """attribute -> the generator of realisation `index` of `point` under `seed` (module doc)."""
    base = [int(seed), point_key(point), int(index)]
    return lambda attr: np.random.default_rng([*base, zlib.crc32(attr.encode())])


class RealisedModel(GraphModel):
    """The model `clean` with the attributes of `disorder` drawn by ``rng_of(attribute)``: a
    GraphModel of the drawn graph that keeps the clean model's name, parameters and units (its
    results read like the clean one's), and refines its Fock cutoff like the clean model, drawing
    the same values on the finer graph (the streams draw per spin node and bond, which a cutoff
    does not change). The one realised model of ``charge(disorder=...)`` and of studies.

    Attributes
    ----------
    drawn : dict
        attribute -> {"targets": node or edge labels, "values": drawn values} (units of the attribute).
    """

    def __init__(self, clean, disorder: Disorder, rng_of: Callable[[str], np.random.Generator], rates: dict,
                 label: str = "disorder realisation"):
        graph, self.drawn = disorder.realise(clean.graph(), rng_of, rates)
        super().__init__(graph, source=f"{label} of {getattr(clean, 'source', clean.name)}",
                         path=getattr(clean, "path", None))
        self.clean, self.disorder, self.rng_of, self.rates, self.label = clean, disorder, rng_of, rates, label
        self.name = clean.name
        self.values = dict(getattr(clean, "values", {}))
        self.energy_unit, self.time_unit = clean.energy_unit, clean.time_unit

    def refine_cutoff(self, level: int):
        finer = self.clean.refine_cutoff(level)
        return None if finer is None else RealisedModel(finer, self.disorder, self.rng_of, self.rates, self.label)
