"""The NetworkX graph schema of a model, validated.

A model is an undirected ``networkx.Graph``. Nodes are battery sites (spins) or
auxiliary boson modes; edges carry couplings. Every attribute has a default, and
every value is checked: errors name the node, edge and attribute at fault. Files:
GraphML (``.graphml``) or node-link JSON (``.json``, edges under ``"edges"`` as written by
networkx >= 3.4, or under ``"links"``); the manual's "Graph schema" page has worked examples.
Energies (omega, D, E, B40, B44, J, g) are in the run's energy unit, rates (gamma, kappa)
in energy unit / hbar.

Node attributes
---------------
``kind``      "spin" (default) or "boson".
Spin nodes:
``spin``      S, a positive half-integer (0.5, 1, "3/2", ...; default 1/2).
``omega``     Zeeman splitting: single-site term omega S^z (= (omega/2) sigma_z at S = 1/2).
``D``, ``E``  single-ion anisotropy D (S^z)^2 + E ((S^x)^2 - (S^y)^2) (default 0).
``B40``, ``B44``  fourth-order Stevens terms B4^0 O4^0 + B4^4 O4^4 (default 0).
``weight``    drive weight w_i in V = sum_i w_i 2 S^x_i (default 1).
``gamma``     dephasing rate, jump sqrt(gamma) 2 S^z_i (default: the run's uniform value).
``kappa``     relaxation rate, jump sqrt(kappa) S^-_i (default: the run's uniform value).
``hx``, ``hy``, ``hz``  charger field on this site (default 0), read only by the charger
              ``graph``: the term h^a_i s^a_i of V (Pauli-normalised s^a = 2 S^a).
``sites``     number of battery sites this node stands for (default 1); a collective
              spin j = N/2 of N permutation-symmetric spin-1/2 sites has ``sites = N``.
``J``, ``Delta`` or ``Jx``, ``Jy``, ``Jz``  (collective node only, ``sites = N > 1``) uniform
              Pauli-normalised couplings among its N sites, sum_{i<j} (Jx s^x_i s^x_j +
              Jy s^y_i s^y_j + Jz s^z_i s^z_j) = sum_a Ja (2 (J^a)^2 - N/2), J^a the node's spin
              operators (the all-to-all graph's bonds, written on the collective spin); J/Delta
              as on edges (Jx = Jy = J, Jz = J Delta). Refused on a node with sites = 1.
Boson nodes:
``omega``     mode frequency omega_c (H_aux = omega_c a^dag a).
``n_max``     Fock cutoff (required, >= 1).
``kappa``     cavity loss rate, jump sqrt(kappa) a (default 0).
``photons``   initial Fock state (default 0).

Edge attributes
---------------
Spin-spin bonds, written with *Pauli-normalised* operators s^a = 2 S^a (so they are
Pauli matrices at S = 1/2):  Jx s^x s^x + Jy s^y s^y + Jz s^z s^z.
Give ``Jx``, ``Jy``, ``Jz`` directly, or ``J`` and ``Delta`` (Jx = Jy = J, Jz = J Delta;
Delta defaults to 1, i.e. isotropic). Models written with spin operators (J S.S) convert:
J S_i.S_j = (J/4) s_i.s_j. An edge ``weight`` (as written by plain weighted-graph tools)
means J when ``J`` is absent; a bond with neither is J = 0. (On a *spin node*, ``weight``
is the drive weight w_i instead.)
Charger couplings of a bond, ``Jcx``, ``Jcy``, ``Jcz`` (default 0; Pauli-normalised), read only by
the charger ``graph``: the term Jc^a s^a_i s^a_j of V. An edge with only these is a bond of the
charger (J = 0 in H_B, no warning).
Spin-boson edges (charger couplings): ``g`` (default 1); the charger term is
lambda f(t) g 2 S^x_i (a + a^dag), or g (S^+_i a + S^-_i a^dag) for rotating-wave modes
(boson node attribute ``rwa = True``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import networkx as nx

from ..core.errors import InputError, shown
from ..core.validate import boolean, number

PAIR_KEYS = {"J", "Delta", "Jx", "Jy", "Jz"}  # on a collective spin node: couplings among its sites
CHARGER_SITE_KEYS = ("hx", "hy", "hz")  # the 'graph' charger's site fields and bond couplings (Pauli-normalised)
CHARGER_BOND_KEYS = ("Jcx", "Jcy", "Jcz")
SPIN_KEYS = {"kind", "spin", "omega", "D", "E", "B40", "B44", "weight", "gamma", "kappa", "sites"} | PAIR_KEYS | \
    set(CHARGER_SITE_KEYS)
BOSON_KEYS = {"kind", "omega", "n_max", "kappa", "photons", "rwa"}
BOND_KEYS = {"J", "Delta", "Jx", "Jy", "Jz"} | set(CHARGER_BOND_KEYS)
CAVITY_EDGE_KEYS = {"g"}
# attributes that layout tools or file formats add; ignored
IGNORED_KEYS = {"pos", "label", "id", "name", "weight_label", "color"}


@dataclass(frozen=True)
class SpinSite:
    """A validated spin node."""

    node: object
    spin: float = 0.5
    omega: float = 1.0
    D: float = 0.0
    E: float = 0.0
    B40: float = 0.0
    B44: float = 0.0
    weight: float = 1.0
    gamma: float | None = None
    kappa: float | None = None
    sites: int = 1
    pair_Jx: float = 0.0  # collective node: Pauli-normalised couplings among its sites (see module doc)
    pair_Jy: float = 0.0
    pair_Jz: float = 0.0
    charger_field: tuple = (0.0, 0.0, 0.0)  # (hx, hy, hz) of the 'graph' charger

    @property
    def dim(self) -> int:
        return int(round(2 * self.spin)) + 1


@dataclass(frozen=True)
class BosonMode:
    """A validated boson node (cavity mode)."""

    node: object
    omega: float = 1.0
    n_max: int = 1
    kappa: float = 0.0
    photons: int = 0
    rwa: bool = False

    @property
    def dim(self) -> int:
        return self.n_max + 1


@dataclass(frozen=True)
class Bond:
    """A validated spin-spin bond (Pauli-normalised couplings)."""

    i: int
    j: int
    Jx: float
    Jy: float
    Jz: float
    charger: tuple = (0.0, 0.0, 0.0)  # (Jcx, Jcy, Jcz) of the 'graph' charger


@dataclass(frozen=True)
class CavityCoupling:
    """A validated spin-boson charger edge: spin index, mode index, weight g."""

    spin: int
    mode: int
    g: float


@dataclass
class ModelGraph:
    """The validated content of a model graph, in a fixed site order.

    Spins are ordered as ``graph.nodes`` lists them (QuSpin site index = position);
    boson modes likewise after the spins.
    """

    spins: list[SpinSite]
    modes: list[BosonMode]
    bonds: list[Bond]
    couplings: list[CavityCoupling]
    graph: nx.Graph = field(repr=False, default=None)

    @property
    def n_sites(self) -> int:
        """Number of battery sites N (a collective spin counts its ``sites``)."""
        return sum(s.sites for s in self.spins)

    @property
    def dim(self) -> int:
        d = 1
        for s in self.spins:
            d *= s.dim
        for m in self.modes:
            d *= m.dim
        return d


def _number(value, where: str, *, nonneg=False, positive=False, integer=False):
    return number(value, where, nonneg=nonneg, positive=positive, integer=integer)


MAX_SPIN = 5000  # QuSpin's spin bases accept S = 1/2, 1, ..., 9999/2, 5000


def parse_spin(value, where: str = "spin") -> float:
    """Parse a spin length (0.5, 1, "3/2", "10") into a float half-integer of at most ``MAX_SPIN``
    (5000, the largest spin QuSpin's bases accept; a collective spin of N sites has S = N/2)."""
    if isinstance(value, str) and "/" in value:
        num, _, den = value.partition("/")
        try:
            value = float(num) / float(den)
        except (ValueError, ZeroDivisionError):
            raise InputError(f"{where} must be a half-integer like 1/2 or 3/2, got {shown(value)}") from None
    s = _number(value, where, positive=True)
    if s > MAX_SPIN:
        raise InputError(f"{where} must be <= {MAX_SPIN} (the largest spin QuSpin's bases hold), got {s:g}")
    if abs(2 * s - round(2 * s)) > 1e-12 or round(2 * s) < 1:
        raise InputError(f"{where} must be a positive half-integer (1/2, 1, 3/2, ...), got {s:g}")
    return round(2 * s) / 2


def spin_string(s: float) -> str:
    """QuSpin's spin label: 0.5 -> '1/2', 1.0 -> '1', 1.5 -> '3/2'."""
    two_s = int(round(2 * s))
    return f"{two_s}/2" if two_s % 2 else str(two_s // 2)


def validate_graph(graph) -> ModelGraph:
    """Check a model graph against the schema and return its validated content.

    Raises
    ------
    InputError
        Naming the node, edge or attribute at fault.
    """
    if not isinstance(graph, nx.Graph):
        raise InputError(f"a model graph must be a networkx.Graph, got {type(graph).__name__}")
    if graph.is_directed() or graph.is_multigraph():
        raise InputError("a model graph must be an undirected simple nx.Graph")
    if not graph.number_of_nodes():
        raise InputError("the model graph has no nodes")
    spins: list[SpinSite] = []
    modes: list[BosonMode] = []
    index: dict[object, tuple[str, int]] = {}
    for node in graph.nodes:
        item = _parse_node(node, dict(graph.nodes[node]))
        bucket, kind = (spins, "spin") if isinstance(item, SpinSite) else (modes, "boson")
        index[node] = (kind, len(bucket))
        bucket.append(item)
    _check_spins(spins)
    bonds: list[Bond] = []
    couplings: list[CavityCoupling] = []
    uncoupled = []  # spin-spin edges with no coupling attribute at all (J = 0)
    for u, v, attrs in graph.edges(data=True):
        if u == v:
            raise InputError(f"edge ({u!r}, {v!r}): self-loops are not allowed (use node attributes)")
        (ku, iu), (kv, iv) = index[u], index[v]
        if ku == "spin" and kv == "spin":
            bond, coupled = _parse_bond(u, v, attrs, iu, iv)
            bonds.append(bond)
            if not coupled:
                uncoupled.append((u, v))
        elif ku == "boson" and kv == "boson":
            raise InputError(f"edge ({u!r}, {v!r}): boson-boson couplings are not supported")
        else:
            couplings.append(_parse_coupling(u, v, attrs, (iu, iv) if ku == "spin" else (iv, iu)))
    _warn_uncoupled(uncoupled, graph.number_of_edges())
    return ModelGraph(spins=spins, modes=modes, bonds=bonds, couplings=couplings, graph=graph)


def _parse_node(node, attrs: dict):
    """A SpinSite or BosonMode from a node's attributes (InputError naming the node)."""
    kind = attrs.get("kind", "spin")
    if kind not in ("spin", "boson"):
        raise InputError(f"node {node!r}: attribute 'kind' must be 'spin' or 'boson', got {shown(kind)}")
    allowed = SPIN_KEYS if kind == "spin" else BOSON_KEYS
    for key in attrs:
        if key not in allowed and key not in IGNORED_KEYS:
            raise InputError(
                f"node {node!r}: unknown {kind} attribute {key!r} (allowed: {', '.join(sorted(allowed))})"
            )
    w = f"node {node!r}: attribute"
    if kind == "spin":
        site = SpinSite(
            node=node,
            spin=parse_spin(attrs.get("spin", 0.5), f"{w} 'spin'"),
            omega=_number(attrs.get("omega", 1.0), f"{w} 'omega'"),
            D=_number(attrs.get("D", 0.0), f"{w} 'D'"),
            E=_number(attrs.get("E", 0.0), f"{w} 'E'"),
            B40=_number(attrs.get("B40", 0.0), f"{w} 'B40'"),
            B44=_number(attrs.get("B44", 0.0), f"{w} 'B44'"),
            weight=_number(attrs.get("weight", 1.0), f"{w} 'weight'"),
            gamma=None if attrs.get("gamma") is None else _number(attrs["gamma"], f"{w} 'gamma'", nonneg=True),
            kappa=None if attrs.get("kappa") is None else _number(attrs["kappa"], f"{w} 'kappa'", nonneg=True),
            sites=_number(attrs.get("sites", 1), f"{w} 'sites'", positive=True, integer=True),
            charger_field=tuple(_number(attrs.get(k, 0.0), f"{w} {k!r}") for k in CHARGER_SITE_KEYS),
        )
        if site.sites > 1 and abs(site.spin - 0.5 * site.sites) > 1e-12:
            raise InputError(
                f"node {node!r}: a collective spin of {site.sites} sites must have spin = {site.sites / 2}"
            )
        if PAIR_KEYS & set(attrs):
            if site.sites == 1:
                raise InputError(f"node {node!r}: pair couplings ({', '.join(sorted(PAIR_KEYS & set(attrs)))}) "
                                 "belong to a collective spin node (sites > 1); couple single sites by edges")
            jx, jy, jz, _ = _couplings(attrs, f"node {node!r}", weight_is_J=False)
            site = replace(site, pair_Jx=jx, pair_Jy=jy, pair_Jz=jz)
        return site
    if "n_max" not in attrs:
        raise InputError(f"node {node!r}: boson mode needs a Fock cutoff 'n_max'")
    mode = BosonMode(
        node=node,
        omega=_number(attrs.get("omega", 1.0), f"{w} 'omega'"),
        n_max=_number(attrs["n_max"], f"{w} 'n_max'", positive=True, integer=True),
        kappa=_number(attrs.get("kappa", 0.0), f"{w} 'kappa'", nonneg=True),
        photons=_number(attrs.get("photons", 0), f"{w} 'photons'", nonneg=True, integer=True),
        rwa=boolean(attrs.get("rwa", False), f"{w} 'rwa'"),
    )
    if mode.photons > mode.n_max:
        raise InputError(
            f"node {node!r}: initial 'photons' = {mode.photons} exceeds the cutoff n_max = {mode.n_max}"
        )
    return mode


def _check_spins(spins: list) -> None:
    if not spins:
        raise InputError("the model graph has no spin (battery) sites")
    if any(s.sites > 1 for s in spins) and len(spins) > 1:
        raise InputError("a collective spin node (sites > 1) must be the only spin node of its graph")
    if len({s.spin for s in spins}) > 1:
        raise InputError(
            "mixed spin lengths in one graph are not supported yet "
            f"(found S = {sorted({s.spin for s in spins})})"
        )


def _parse_bond(u, v, attrs: dict, iu: int, iv: int):
    """(Bond, coupled?) from a spin-spin edge; coupled is False when the edge names no coupling."""
    for key in attrs:
        if key not in BOND_KEYS and key not in IGNORED_KEYS and key != "weight":
            raise InputError(
                f"edge ({u!r}, {v!r}): unknown bond attribute {key!r} "
                f"(allowed: {', '.join(sorted(BOND_KEYS))})"
            )
    jx, jy, jz, coupled = _couplings(attrs, f"edge ({u!r}, {v!r})", weight_is_J=True)
    charger = tuple(_number(attrs.get(k, 0.0), f"edge ({u!r}, {v!r}): attribute {k!r}") for k in CHARGER_BOND_KEYS)
    return Bond(min(iu, iv), max(iu, iv), jx, jy, jz, charger), coupled or any(k in attrs for k in CHARGER_BOND_KEYS)


def _couplings(attrs: dict, who: str, weight_is_J: bool):
    """(Jx, Jy, Jz, coupled?) from Jx/Jy/Jz or J/Delta (and 'weight' as J where `weight_is_J`);
    coupled is False when none of them is given. `who` names the edge or node in messages."""
    where = f"{who}: attribute"
    if any(k in attrs for k in ("Jx", "Jy", "Jz")):
        if "J" in attrs or "Delta" in attrs:
            raise InputError(f"{who}: give either Jx/Jy/Jz or J/Delta, not both")
        jx = _number(attrs.get("Jx", 0.0), f"{where} 'Jx'")
        jy = _number(attrs.get("Jy", 0.0), f"{where} 'Jy'")
        jz = _number(attrs.get("Jz", 0.0), f"{where} 'Jz'")
        return jx, jy, jz, True
    named = ("J", "weight", "Delta") if weight_is_J else ("J", "Delta")
    # 'weight' is accepted as J for plain weighted graphs (e.g. GraphML exports)
    J = _number(attrs.get("J", attrs.get("weight", 0.0) if weight_is_J else 0.0), f"{where} 'J'")
    delta = _number(attrs.get("Delta", 1.0), f"{where} 'Delta'")
    return J, J, J * delta, any(k in attrs for k in named)


def _parse_coupling(u, v, attrs: dict, idx: tuple) -> CavityCoupling:
    for key in attrs:
        if key not in CAVITY_EDGE_KEYS and key not in IGNORED_KEYS:
            raise InputError(f"edge ({u!r}, {v!r}): unknown spin-boson attribute {key!r} (allowed: g)")
    return CavityCoupling(idx[0], idx[1], _number(attrs.get("g", 1.0), f"edge ({u!r}, {v!r}): attribute 'g'"))


def _warn_uncoupled(edges: list, n_edges: int) -> None:
    """One warning for all spin-spin edges without a coupling attribute (they mean J = 0)."""
    if not edges:
        return
    import warnings

    (u, v), more = edges[0], len(edges) - 1
    others = f" and {more} more of the graph's {n_edges} edges" if more else ""
    warnings.warn(f"edge ({u!r}, {v!r}){others}: no coupling attribute (J, Jx/Jy/Jz or weight), so J = 0 "
                  "(no interaction); set J on the edges, or remove them", UserWarning, stacklevel=3)
