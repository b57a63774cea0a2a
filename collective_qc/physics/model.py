"""Model base class: declared, typed parameters and one fixed build path.

A catalog model only declares its parameters and writes :meth:`Model.graph`; the
base class parses and checks parameters (unknown names and wrong types are
reported with the model's name), and the rest of the data path
(graph -> operators -> solvers) is shared by all models.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

import networkx as nx

from ..core.errors import InputError, shown
from ..core.validate import SizeEstimate, boolean, mapping, number

__all__ = ["Param", "Model", "GraphModel", "load_graph_file", "node_link_graph", "GRAPH_SITES_LIMIT", "graph_bytes"]

GRAPH_SITES_LIMIT = 256  # the default Model.size_estimate builds graphs of at most this many sites
GRAPH_BYTES_PER_SITE = 2048.0  # NetworkX node + validated site record (measured ~1.2 KB with a ring's edges)
GRAPH_BYTES_PER_EDGE = 1024.0  # NetworkX edge with its attribute dict


def graph_bytes(n_nodes: float, n_edges: float = 0.0) -> float:
    """Memory a model graph of this many nodes and edges takes to build (for size estimates)."""
    return GRAPH_BYTES_PER_SITE * float(n_nodes) + GRAPH_BYTES_PER_EDGE * float(n_edges)


@dataclass(frozen=True)
class Param:
    """A declared model parameter.

    Parameters
    ----------
    name : str
        As given on the command line (``-p name=value``) and in ``params={...}``.
    type : type
        int, float, bool or str.
    default : value
        Used when the parameter is not given.
    doc : str
        One line: the parameter's meaning (the term of the Hamiltonian it enters).
    check : str
        "" | "positive" | "nonneg": range checked on parsing.
    unit : str
        Unit of the value: "" (dimensionless, a count or a label), a unit string ("K"), or one of
        the tokens "energy" (the model's energy unit), "time" (its time unit) and "rate" (energy
        unit / hbar), resolved by :meth:`unit_for`.
    default_doc : str
        Meaning of a special default value, e.g. ``"automatic"`` for a cutoff of 0.
    """

    name: str
    type: type
    default: Any
    doc: str = ""
    check: str = ""
    unit: str = ""
    default_doc: str = ""

    def unit_for(self, model) -> str:
        """The unit string of this parameter for a Model class or instance."""
        from ..core.units import rate_unit

        eu = getattr(model, "energy_unit", "omega0")
        tu = getattr(model, "time_unit", "1/omega0")
        return {"energy": eu, "time": tu, "rate": rate_unit(eu, tu)}.get(self.unit, self.unit)

    def describe(self, model) -> str:
        """One line: name, type, default (and its meaning), unit and doc."""
        unit = self.unit_for(model)
        default = repr(self.default) if self.type is str else f"{self.default}"
        if self.default_doc:
            default += f" ({self.default_doc})"
        rng = {"positive": ", > 0", "nonneg": ", >= 0"}.get(self.check, "")
        return (f"{self.name} ({self.type.__name__}{rng}) = {default}"
                + (f" [{unit}]" if unit else "") + (f": {self.doc}" if self.doc else ""))

    def parse(self, value, model: str):
        where = f"parameter {self.name!r} of model {model!r}"
        if self.type is bool:
            return boolean(value, where)
        if self.type is str:
            if not isinstance(value, str):
                raise InputError(f"{where} must be a string, got {shown(value)}")
            return value
        return number(value, where, integer=self.type is int, positive=self.check == "positive",
                      nonneg=self.check == "nonneg")


class Model:
    """Base class of catalog models.

    Subclasses set ``name``, ``params`` (tuple of :class:`Param`), a docstring that
    writes the Hamiltonian with the parameter names, and implement :meth:`graph`.
    Optional: ``energy_unit``/``time_unit`` (physical units carried into results),
    :meth:`ring_order` (site order of a translation-invariant ring, enables QuSpin
    momentum/parity blocks for closed runs), and :meth:`single_site` (the
    single-site version used as the collective-advantage baseline).
    """

    name: str = ""
    params: tuple[Param, ...] = ()
    energy_unit: str = "omega0"
    time_unit: str = "1/omega0"
    size_param: str | None = "N"  # parameter that sets the number of sites (for `compare`)

    def __init__(self, **params):
        self.values = self.resolve(params)

    @classmethod
    def param_names(cls) -> list[str]:
        return [p.name for p in cls.params]

    @classmethod
    def resolve(cls, given: dict | None) -> dict:
        """Defaults overlaid with `given`; unknown names and bad values raise InputError."""
        given = mapping(given, f"params of model {cls.name!r}")
        known = {p.name: p for p in cls.params}
        for key in given:
            if key not in known:
                close = difflib.get_close_matches(key, known, n=2)
                hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
                names = ", ".join(known) or "none"
                raise InputError(f"unknown parameter {key!r} for model {cls.name!r} (parameters: {names}){hint}")
        out = {}
        for p in cls.params:
            out[p.name] = p.parse(given[p.name], cls.name) if p.name in given else p.default
        cls.check(out)
        return out

    @classmethod
    def check(cls, values: dict) -> None:
        """Extra cross-parameter checks (override); raise InputError."""

    def graph(self) -> nx.Graph:  # pragma: no cover - abstract
        raise NotImplementedError

    def site_count(self) -> int | None:
        """Number of battery sites N from the parameters alone (no graph built), or None if unknown.

        Default: the value of ``size_param``. Override when the size depends on several
        parameters (e.g. Lx * Ly).
        """
        return None if self.size_param is None else self.values.get(self.size_param)

    def size_estimate(self) -> SizeEstimate:
        """Sites and Hilbert-space dimension, known before anything large is allocated.

        The memory guard calls it before any graph, operator or array is built. The default
        builds and validates the graph only when :meth:`site_count` is unknown or at most
        ``GRAPH_SITES_LIMIT`` (then the estimate is exact); for more sites it returns a lower
        bound without building anything: every site adds at least one state (dim >= N + 1,
        a collective spin N/2) and the graph itself costs at least :func:`graph_bytes` (N nodes).
        Override with a closed form (e.g. dim = 2**N, and the graph's edge count) for a tighter
        bound; a model whose graph has far more edges than nodes must override it.
        """
        n = self.site_count()
        if n is not None and n > GRAPH_SITES_LIMIT:
            return SizeEstimate(n_sites=int(n), dim=float(n) + 1.0, graph_bytes=graph_bytes(n))
        from .graph import validate_graph

        return SizeEstimate.from_graph(validate_graph(self.graph()))

    def ring_order(self) -> list | None:
        """Site order of a translation- and parity-invariant ring, else None."""
        return None

    def single_site(self) -> Model:
        """The model's single-site version, the baseline of the collective advantage Gamma."""
        if self.size_param is None:
            raise InputError(f"model {self.name!r} has no size parameter; no single-site baseline")
        return type(self)(**{**self.values, self.size_param: 1})

    def with_size(self, n: int) -> Model:
        """The same model with `n` sites (``compare`` and studies sweep it)."""
        if self.size_param is None:
            raise InputError(f"model {self.name!r} has no size parameter to sweep")
        return type(self)(**{**self.values, self.size_param: n})

    def refine_cutoff(self, level: int) -> Model | None:
        """The model with a finer truncation, `level` (1, 2, ...) refinements past this one, or None.

        Called by ``charge()`` while a truncation check fails (e.g. a Fock cutoff whose two top
        levels hold too much population); None (the default) means no refinement: the run warns.
        """
        return None

    @classmethod
    def summary(cls) -> str:
        doc = (cls.__doc__ or "").strip().splitlines()
        return doc[0] if doc else ""

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.values.items())
        return f"{type(self).__name__}({args})"


class GraphModel(Model):
    """A user graph (``nx.Graph`` or a GraphML / node-link JSON file), used as given."""

    name = "graph"
    params = ()
    size_param = None

    def __init__(self, graph: nx.Graph, source: str = "<nx.Graph>", path: str | None = None):
        self.values = {}
        self._graph = graph
        self.source = source
        self.path = path  # the graph file, when read from one

    def graph(self) -> nx.Graph:
        return self._graph

    def single_site(self) -> Model:
        """The single-site version of a user graph: one spin site with the attributes of the
        graph's first spin node (spin, omega, D, E, B40, B44, weight, gamma, kappa) and no bonds
        or boson modes."""
        g = nx.Graph()
        for _node, attrs in self._graph.nodes(data=True):
            if attrs.get("kind", "spin") == "spin":
                g.add_node(0, **attrs)
                break
        return GraphModel(g, source=f"single site of {self.source}")


def node_link_graph(data: dict) -> nx.Graph:
    """A graph from node-link data with its edges under ``"edges"`` (networkx >= 3.4 default)
    or ``"links"`` (older networkx, and ``edges="links"``)."""
    if not isinstance(data, dict) or "nodes" not in data:
        raise InputError("node-link JSON must be an object with a 'nodes' list and an 'edges' (or 'links') list")
    if "edges" in data and "links" in data:
        raise InputError("node-link JSON has both 'edges' and 'links'; keep one")
    key = "links" if "links" in data else "edges"
    data = {**data, key: data.get(key, [])}
    _check_node_link(data, key)
    try:
        return nx.node_link_graph(data, edges=key)
    except TypeError:  # networkx < 3.4 names the keyword `link`
        return nx.node_link_graph(data, link=key)


def _check_simple(nodes: list, edges: list) -> None:
    """Refuse a node listed twice, an edge to an undeclared node and parallel edges (u-v twice,
    or u-v and v-u in an undirected graph): InputError naming the node or edge."""
    declared = set()
    for n in nodes:
        if n in declared:
            raise InputError(f"node {n!r} is listed twice (the second would silently replace the first)")
        declared.add(n)
    seen = {}
    for u, v in edges:
        for end in (u, v):
            if end not in declared:
                raise InputError(f"edge ({u!r}, {v!r}): node {end!r} is not declared among the nodes")
        key = frozenset((u, v))
        if key in seen:
            raise InputError(f"edge ({u!r}, {v!r}) is parallel to edge {seen[key]!r}: a model graph has one "
                             "edge per pair of nodes (put all couplings of the pair on one edge)")
        seen[key] = (u, v)


def _check_node_link(data: dict, key: str) -> None:
    """Node-link data as a model graph: undirected, simple, every edge between declared nodes."""
    for flag in ("directed", "multigraph"):
        if data.get(flag):
            raise InputError(f"node-link JSON says \"{flag}\": true; a model graph is undirected and has one edge "
                             f"per pair of nodes (couplings are symmetric); set \"{flag}\": false")
    nodes, edges = data.get("nodes"), data.get(key)
    if not isinstance(nodes, list) or not isinstance(edges, list) \
            or not all(isinstance(n, dict) and "id" in n for n in nodes) \
            or not all(isinstance(e, dict) and "source" in e and "target" in e for e in edges):
        raise InputError(f"node-link JSON: 'nodes' must be a list of objects with an 'id' and '{key}' a list of "
                         "objects with 'source' and 'target'")
    try:
        _check_simple([n["id"] for n in nodes], [(e["source"], e["target"]) for e in edges])
    except TypeError:  # an unhashable id (a list or an object)
        raise InputError("node-link JSON: node ids, sources and targets must be numbers or strings") from None


def _check_graphml(path: str) -> None:
    """A GraphML file as a model graph: undirected (edgedefault and every edge), simple, no edge to an
    undeclared node (networkx would add a default node, merge duplicates and keep one parallel edge)."""
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    for graph in root.iter(f"{ns}graph"):
        if graph.get("edgedefault") == "directed":
            raise InputError(f"graph file {path!r}: edgedefault=\"directed\"; a model graph is undirected "
                             "(couplings are symmetric); write edgedefault=\"undirected\"")
    edges = []
    for e in root.iter(f"{ns}edge"):
        u, v = e.get("source"), e.get("target")
        if e.get("directed") == "true":
            raise InputError(f"edge ({u!r}, {v!r}) is directed; a model graph is undirected (couplings are "
                             "symmetric)")
        edges.append((u, v))
    _check_simple([n.get("id") for n in root.iter(f"{ns}node")], edges)


def load_graph_file(path: str) -> nx.Graph:
    """Read a GraphML (.graphml) or node-link JSON (.json) model graph."""
    import json
    import os

    if not os.path.exists(path):
        raise InputError(f"graph file {path!r} does not exist")
    try:
        if path.endswith(".graphml") or path.endswith(".xml"):
            _check_graphml(path)
            g = nx.read_graphml(path)
        elif path.endswith(".json"):
            with open(path) as fh:
                data = json.load(fh)
            if not isinstance(data, dict) or not isinstance(data.get("graph", {}), dict):
                got = data.get("graph") if isinstance(data, dict) else data
                raise InputError(f"graph file {path!r}: node-link JSON must be an object whose 'graph' entry is an "
                                 f"object of graph attributes, got {shown(got)}")
            g = node_link_graph(data)
        else:
            raise InputError(f"graph file {path!r}: use .graphml or node-link .json")
        return nx.Graph(g)
    except InputError:
        raise
    except Exception as exc:  # parse errors from networkx / json
        raise InputError(f"graph file {path!r} could not be read: {exc}") from None
