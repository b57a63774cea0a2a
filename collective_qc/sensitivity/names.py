"""Sensitivity names -> parameters: what a name means, its value, its unit, how to rebuild at another value.

Names (checked before any heavy work; an unknown one is refused in one line listing the valid ones):

- a float model parameter: ``"J"``, ``"Delta"``, ``"omega"`` (``cqc models NAME`` lists them);
- a graph attribute of one node or edge: ``"omega@3"``, ``"weight@0"`` (charger weight w_i),
  ``"gamma@2"``, ``"J@(0,1)"``, ``"Jz@(0,1)"``, ``"g@(0,c)"`` (node and edge labels as in the graph);
- ``"drive"``: the charging amplitude lambda;
- ``"protocol.FIELD"``: an envelope parameter (``protocol.tau`` of on-off, ``protocol.T`` of ramp and
  sin2, ``protocol.t0`` / ``protocol.sigma`` of gauss, ``protocol.tau`` / ``store`` / ``tau_d`` of
  charge-store-discharge);
- a uniform noise rate: ``"dephasing"``, ``"relaxation"``, ``"pumping"``, ``"collective_emission"``,
  ``"collective_dephasing"``, ``"collective_pumping"``.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from ..core.errors import InputError
from ..physics.operators import NOISE_RATES

__all__ = ["Parameter", "resolve_names", "valid_names", "PROTOCOL_FIELDS", "NODE_ATTRS", "EDGE_ATTRS"]

# continuous graph attributes (physics.graph schema) and their unit kind: energy, rate or dimensionless
NODE_ATTRS = {"omega": "energy", "D": "energy", "E": "energy", "B40": "energy", "B44": "energy", "weight": "",
              "gamma": "rate", "kappa": "rate", "J": "energy", "Delta": "", "Jx": "energy", "Jy": "energy",
              "Jz": "energy"}
EDGE_ATTRS = {"J": "energy", "Delta": "", "Jx": "energy", "Jy": "energy", "Jz": "energy", "g": "energy"}
PROTOCOL_FIELDS = {"OnOff": ("tau",), "ChargeStoreDischarge": ("tau", "store", "tau_d"), "Ramp": ("T",),
                   "Sin2Pulse": ("T",), "Gaussian": ("t0", "sigma")}
_DEFAULTS = {"omega": 1.0, "D": 0.0, "E": 0.0, "B40": 0.0, "B44": 0.0, "weight": 1.0, "Delta": 1.0,
             "Jx": 0.0, "Jy": 0.0, "Jz": 0.0, "g": 1.0}


@dataclass(frozen=True)
class Parameter:
    """One parameter theta of a sensitivity.

    Attributes
    ----------
    name : str  as asked for
    kind : "model" | "node" | "edge" | "drive" | "protocol" | "rate"
    key : str  the model parameter, graph attribute, protocol field or rate name
    target : object  the graph node, or the edge (u, v); None otherwise
    value : float  theta at the run (in ``unit``)
    unit : str  "energy", "rate", "time" or "" (resolved to the model's units by the caller)
    """

    name: str
    kind: str
    key: str
    target: object
    value: float
    unit: str

    @property
    def changes_operators(self) -> bool:
        """True when H_B, H_aux, V or the jumps depend on theta (not drive or envelope)."""
        return self.kind in ("model", "node", "edge", "rate")


def valid_names(plan) -> list[str]:
    """The sensitivity names a run accepts (model parameters, drive, protocol fields, rates, and
    the ``ATTR@NODE`` / ``ATTR@(U,V)`` pattern)."""
    model = plan.model
    out = [p.name for p in getattr(model, "params", ()) if p.type is float]
    out += ["drive"] + [f"protocol.{f}" for f in _protocol_fields(plan.protocol)] + list(NOISE_RATES)
    return out + ["ATTR@NODE", "ATTR@(U,V)"]


def _protocol_fields(protocol) -> tuple:
    fields = PROTOCOL_FIELDS.get(type(protocol).__name__, ())
    return tuple(f for f in fields if getattr(protocol, f, None) is not None)


def _refuse(name: str, plan, why: str = "") -> InputError:
    return InputError(f"unknown sensitivity {name!r}{why} (valid: {', '.join(valid_names(plan))})")


def resolve_names(names, plan) -> list[Parameter]:
    """Parameters of the names (a list of str; a str is one name), checked against the run's model,
    graph, protocol and noise. Raises InputError naming the first bad one."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        raise InputError(f"sensitivities must be a list of names, got {names!r}")
    out, seen = [], set()
    for name in names:
        if name in seen:
            raise InputError(f"sensitivity {name!r} is asked for twice")
        seen.add(name)
        out.append(_resolve(name.strip(), plan))
    return out


def _resolve(name: str, plan) -> Parameter:
    if "@" in name:
        return _graph_parameter(name, plan)
    if name == "drive":
        return Parameter(name, "drive", "drive", None, float(plan.drive), "energy")
    if name.startswith("protocol."):
        key = name[len("protocol."):]
        if key not in _protocol_fields(plan.protocol):
            raise _refuse(name, plan, f": protocol {plan.protocol.describe().get('name')!r} has no field {key!r}")
        return Parameter(name, "protocol", key, None, float(getattr(plan.protocol, key)), "time")
    if name in NOISE_RATES:
        return Parameter(name, "rate", name, None, float(plan.noise[name]), "rate")
    declared = {p.name: p for p in getattr(plan.model, "params", ())}
    if name in declared:
        p = declared[name]
        if p.type is not float:
            raise InputError(f"sensitivity {name!r}: model parameter of type {p.type.__name__}, not a continuous one")
        return Parameter(name, "model", name, None, float(plan.model.values[name]), p.unit)
    raise _refuse(name, plan)


def _node(graph, label: str):
    for node in graph.nodes:
        if str(node) == label:
            return node
    try:
        value = ast.literal_eval(label)
    except (ValueError, SyntaxError):
        return None
    return value if value in graph.nodes else None


def _graph_parameter(name: str, plan) -> Parameter:
    key, _, where = name.partition("@")
    graph = plan.model_graph.graph
    if where.startswith("(") and where.endswith(")"):
        ends = [s.strip().strip("'\"") for s in where[1:-1].split(",")]
        u, v = (_node(graph, e) for e in ends) if len(ends) == 2 else (None, None)
        if u is None or v is None or not graph.has_edge(u, v):
            raise _refuse(name, plan, f": the graph has no edge {where}")
        if key not in EDGE_ATTRS:
            raise _refuse(name, plan, f": {key!r} is not a continuous edge attribute ({', '.join(EDGE_ATTRS)})")
        return Parameter(name, "edge", key, (u, v), _edge_value(graph.edges[u, v], key), EDGE_ATTRS[key])
    node = _node(graph, where)
    if node is None:
        raise _refuse(name, plan, f": the graph has no node {where!r}")
    if key not in NODE_ATTRS:
        raise _refuse(name, plan, f": {key!r} is not a continuous node attribute ({', '.join(NODE_ATTRS)})")
    attrs = graph.nodes[node]
    if key in ("gamma", "kappa") and attrs.get(key) is None:
        uniform = {"gamma": "dephasing", "kappa": "relaxation"}[key]
        value = plan.noise[uniform] if attrs.get("kind", "spin") == "spin" else 0.0
    else:
        value = float(attrs.get(key, _DEFAULTS.get(key, 0.0)))
    return Parameter(name, "node", key, node, float(value), NODE_ATTRS[key])


def _edge_value(attrs: dict, key: str) -> float:
    if key == "J" and "J" not in attrs:
        return float(attrs.get("weight", 0.0))
    return float(attrs.get(key, _DEFAULTS.get(key, 0.0)))
