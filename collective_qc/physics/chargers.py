"""Chargers as data: the operator V of H(lambda, t) = H_B + H_aux + lambda f(t) V.

A charger is a named, documented object that writes V on a model's QuSpin basis as
operator-string data (QuSpin static lists: an operator string on sites, bonds or
k-site groups and a list of ``[coupling, *indices]``), or as a matrix. Spin-1/2
sites use the paper's Pauli convention, s+ = |e><g| = S^+ (Haddadi 2026, Sec. II).

Catalog (``charger_names()``; ``NAME[:ARGS]`` strings, e.g. ``"field:axis=y"``,
``"k-local:k=2"``)

``field``    V = sum_i w_i 2 S^a_i, axis a = x (default), y or z; w_i the node
             attribute ``weight``. The paper's classical field and the default of
             spin models; operator norm sum_i |w_i| 2 S_i (= N for N spin-1/2 sites).
``global``   V = prod_i s+_i + h.c. = |e...e><g...g| + |g...g><e...e| on all N
             spin-1/2 sites (Binder et al., NJP 17, 075015 (2015)); norm 1.
``k-local``  V = sum over all k-site subsets S of (prod_{i in S} s+_i + h.c.),
             k = 1 ... N (Campaioli et al., PRL 118, 150601 (2017)); k = 1 is the
             uniform field, k = N the global charger.
``cavity``   the spin-boson couplings of the graph's edges: g 2 S^x_i (a + a^dag)
             (Dicke) or g (S^+_i a + S^-_i a^dag) (rotating-wave modes); the default
             of graphs with boson modes. Unbounded (its norm grows with the cutoff).
``graph``    V = sum_i sum_a h^a_i s^a_i + sum_<ij> sum_a Jc^a_ij s^a_i s^a_j (s^a = 2 S^a, Pauli
             at S = 1/2) from the graph's charger attributes: site fields ``hx``, ``hy``, ``hz``
             and bond couplings ``Jcx``, ``Jcy``, ``Jcz`` (default 0). A charger with its own
             per-site and per-bond numbers, e.g. a disordered interacting chain; ``disorder``
             draws these attributes like any other (``hx=uniform:2``), one charger per
             realisation. A graph that carries them with any other charger is refused (they
             would be ignored).

User chargers: a :class:`Charger` instance (e.g. :class:`StaticCharger` with a
QuSpin-style static list), a name added with :func:`register_charger`, or the
graph attribute ``graph.graph["charger"]`` (a ``NAME[:ARGS]`` string or a static
list, also as a JSON string in GraphML files). A charger that does not fit the
model's basis is refused with the reason before any work.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import numbers

import numpy as np

from ..core.errors import InputError, shown

__all__ = ["Charger", "FieldCharger", "GlobalCharger", "KLocalCharger", "CavityCharger", "GraphCharger",
           "StaticCharger", "MatrixCharger", "CHARGERS", "register_charger", "charger_names", "parse_charger",
           "resolve_charger", "charger_attributes", "field_norm", "dicke_norm"]


class Charger:
    """Base class. Subclasses set ``name`` and implement :meth:`terms` (or :meth:`matrix`).

    Attributes
    ----------
    name : str
    symmetric : bool
        Invariant under the graph's site permutations that leave H_B invariant (uniform
        weights); only then may closed runs use momentum/parity blocks.
    bounded : bool
        False when the operator norm depends on a cutoff (boson modes): no norm matching.
    """

    name = "charger"
    symmetric = True
    bounded = True

    def fit(self, mg) -> None:
        """Raise InputError naming the reason if the charger cannot act on this graph."""

    def terms(self, mg) -> list[tuple]:  # pragma: no cover - abstract
        """(spin_ops, spin_idx, coeff, boson_ops, boson_idx) tuples whose sum is V."""
        raise NotImplementedError

    def matrix(self, mg, basis, dtype, add_terms):
        """V as CSR on `basis`; default: the :meth:`terms` through ``add_terms`` (QuSpin)."""
        return add_terms(self.terms(mg), dtype)

    def is_complex(self, mg) -> bool:
        return False

    def exact_norm(self, mg) -> float | None:
        """The operator norm ||V|| in closed form, or None (then computed numerically)."""
        return None

    def norm_bound(self, mg) -> float | None:
        """An upper bound of ||V|| without building V (the run guard's), or None when unknown;
        default: the closed-form norm."""
        return self.exact_norm(mg)

    def describe(self) -> dict:
        return {"name": self.name}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.describe()!r})"


def _spin_half_sites(mg, what: str) -> None:
    for s in mg.spins:
        if s.sites > 1:
            raise InputError(
                f"charger {what!r} does not fit the basis: node {s.node!r} is a collective spin of {s.sites} "
                "sites (only its symmetric subspace is stored, not the N single-site operators s+_i); "
                "use the explicit N-site graph (e.g. representation=explicit)")
        if s.spin != 0.5:
            raise InputError(
                f"charger {what!r} does not fit the basis: products of s+ = |e><g| are defined for spin-1/2 "
                f"sites, node {s.node!r} has spin S = {s.spin:g}")


def field_norm(mg) -> float:
    """||sum_i w_i 2 S^a_i|| = sum_i |w_i| 2 S_i: the parallel field's norm (N for N spin-1/2 sites)."""
    return float(sum(abs(s.weight) * 2.0 * s.spin for s in mg.spins))


def dicke_norm(n: int, k: int) -> float:
    """||sum_{|S|=k} prod_{i in S} s+_i + h.c.|| on N = n spin-1/2 sites.

    The operator has non-negative entries in the product basis and commutes with site
    permutations, so its norm is reached in the symmetric (Dicke) subspace, where it
    maps |D_m> (m excitations) to C(m+k, k) sqrt(C(n, m+k) / C(n, m)) |D_{m+k}>.
    """
    a = np.zeros((n + 1, n + 1))
    for m in range(n - k + 1):
        a[m + k, m] = math.comb(m + k, k) * math.sqrt(math.comb(n, m + k) / math.comb(n, m))
    return float(np.max(np.abs(np.linalg.eigvalsh(a + a.T))))


class FieldCharger(Charger):
    """``field[:axis=x|y|z]``: V = sum_i w_i 2 S^a_i (the paper's classical field)."""

    name = "field"

    def __init__(self, axis: str = "x"):
        if axis not in ("x", "y", "z"):
            raise InputError(f"charger 'field': axis must be x, y or z, got {shown(axis)}")
        self.axis = axis

    def terms(self, mg):
        out = []
        for i, s in enumerate(mg.spins):
            w = s.weight
            if self.axis == "x":
                out += [("+", [i], w), ("-", [i], w)]
            elif self.axis == "y":  # 2 S^y = -i (S^+ - S^-)
                out += [("+", [i], -1j * w), ("-", [i], 1j * w)]
            else:
                out.append(("z", [i], 2.0 * w))
        return out

    def is_complex(self, mg) -> bool:
        return self.axis == "y"

    def exact_norm(self, mg):
        return field_norm(mg)

    def describe(self):
        return {"name": self.name, "axis": self.axis}


class KLocalCharger(Charger):
    """``k-local:k=K``: V = sum over all K-site subsets S of (prod_{i in S} s+_i + h.c.)."""

    name = "k-local"

    def __init__(self, k: int = 2):
        from ..core.validate import integer

        self.k = integer(k, "charger 'k-local': k", minimum=1)

    def fit(self, mg):
        _spin_half_sites(mg, self.name)
        n = len(mg.spins)
        if self.k > n:
            from ..core.errors import format_count

            raise InputError(f"charger {self.name!r} does not fit the basis: k = {format_count(self.k)} exceeds the "
                             f"number of sites N = {n}")

    def terms(self, mg):
        out = []
        for sub in itertools.combinations(range(len(mg.spins)), self.k):
            out += [("+" * self.k, list(sub), 1.0), ("-" * self.k, list(sub), 1.0)]
        return out

    def exact_norm(self, mg):
        return dicke_norm(len(mg.spins), self.k)

    def describe(self):
        return {"name": self.name, "k": self.k}


class GlobalCharger(KLocalCharger):
    """``global``: V = prod_i s+_i + h.c. on all N spin-1/2 sites (norm 1)."""

    name = "global"

    def __init__(self):
        self.k = 0

    def fit(self, mg):
        _spin_half_sites(mg, self.name)

    def terms(self, mg):
        self.k = len(mg.spins)
        return super().terms(mg)

    def exact_norm(self, mg):
        return 1.0

    def describe(self):
        return {"name": self.name}


class CavityCharger(Charger):
    """``cavity``: the graph's spin-boson couplings (Dicke / Tavis-Cummings); ``strict``: refuse a graph without."""

    name = "cavity"
    bounded = False

    def __init__(self, strict: bool = True):
        self.strict = strict

    def fit(self, mg):
        if self.strict and not mg.couplings:
            raise InputError("charger 'cavity' does not fit the basis: the graph has no spin-boson edges "
                             "(couplings g to a boson mode)")

    def terms(self, mg):
        out = []
        for c in mg.couplings:
            w = c.g * mg.spins[c.spin].weight
            if mg.modes[c.mode].rwa:
                out += [("+", [c.spin], w, "-", [c.mode]), ("-", [c.spin], w, "+", [c.mode])]
            else:
                out += [(so, [c.spin], w, bo, [c.mode]) for so in "+-" for bo in "+-"]
        return out


def charger_attributes(mg) -> list[tuple[str, object]]:
    """(attribute, node or edge) of every 'graph'-charger attribute the graph gives, in graph order."""
    from .graph import CHARGER_BOND_KEYS, CHARGER_SITE_KEYS

    g = mg.graph
    if g is None:
        return []
    out = [(k, n) for n, a in g.nodes(data=True) for k in CHARGER_SITE_KEYS if k in a]
    return out + [(k, (u, v)) for u, v, a in g.edges(data=True) for k in CHARGER_BOND_KEYS if k in a]


def _pauli_terms(a: str, idx: list, coeff: float) -> list[tuple]:
    """prod_{i in idx} s^a_i (s^a = 2 S^a) times `coeff` as QuSpin S^+/S^-/S^z terms (1 or 2 sites)."""
    if a == "z":
        return [("z" * len(idx), idx, coeff * 2.0 ** len(idx))]
    phase = {"+": 1.0, "-": 1.0} if a == "x" else {"+": -1j, "-": 1j}  # 2 S^x = S^+ + S^-, 2 S^y = -i S^+ + i S^-
    out = []
    for ops in itertools.product("+-", repeat=len(idx)):
        c = complex(coeff * math.prod(phase[op] for op in ops))
        out.append(("".join(ops), idx, c if c.imag else c.real))  # s^x, s^y s^y: real; s^y alone: imaginary
    return out


class GraphCharger(Charger):
    """``graph``: V = sum_i sum_a h^a_i s^a_i + sum_<ij> sum_a Jc^a_ij s^a_i s^a_j, s^a = 2 S^a.

    The numbers are the graph's node attributes ``hx``, ``hy``, ``hz`` and spin-spin edge
    attributes ``Jcx``, ``Jcy``, ``Jcz`` (energy units, Pauli-normalised like the bonds of H_B);
    so a disorder specification that draws them gives one charger per realisation.
    """

    name = "graph"
    symmetric = False  # per-site numbers: no momentum blocks

    def fit(self, mg):
        for s in mg.spins:
            if s.sites > 1:
                raise InputError(f"charger 'graph' does not fit the basis: node {s.node!r} is a collective spin of "
                                 f"{s.sites} sites; use the explicit N-site graph (representation=explicit)")
        if not charger_attributes(mg):
            raise InputError("charger 'graph' reads the graph's charger attributes (hx, hy, hz on spin nodes, "
                             "Jcx, Jcy, Jcz on bonds), and this graph gives none")

    def terms(self, mg):
        out = []
        for i, s in enumerate(mg.spins):
            for a, h in zip("xyz", s.charger_field):
                if h:
                    out += _pauli_terms(a, [i], h)
        for b in mg.bonds:
            for a, jc in zip("xyz", b.charger):
                if jc:
                    out += _pauli_terms(a, [b.i, b.j], jc)
        return out

    def is_complex(self, mg) -> bool:
        return any(s.charger_field[1] for s in mg.spins)

    def norm_bound(self, mg) -> float:
        """sum_i sum_a |h^a_i| 2S + sum_bonds sum_a |Jc^a| (2S)^2."""
        two_s = max([2.0 * s.spin for s in mg.spins] + [1.0])
        return float(sum(two_s * sum(map(abs, s.charger_field)) for s in mg.spins)
                     + sum(two_s ** 2 * sum(map(abs, b.charger)) for b in mg.bonds))


SPIN_CHARS, BOSON_CHARS = set("+-zxyI"), set("+-nI")


class StaticCharger(Charger):
    """A user charger from a QuSpin-style static list ``[[opstr, [[coeff, i, j, ...], ...]], ...]``.

    ``opstr`` uses the spin operators + - z x y I (S^a, ``pauli=0``) on the listed sites;
    with boson modes write ``"spins|bosons"`` (e.g. ``"+|-"``), boson indices after the spin
    ones. The sum must be Hermitian (give the h.c. terms); it is checked when built.
    """

    name = "static"
    symmetric = False

    def __init__(self, static, label: str = "static"):
        self.label = label
        self.static = _check_static(static)

    def fit(self, mg):
        n_s, n_b = len(mg.spins), len(mg.modes)
        for opstr, rows in self.static:
            spin_ops, _, boson_ops = opstr.partition("|")
            if "|" in opstr and not n_b:
                raise InputError(f"charger {self.label!r} does not fit the basis: operator {opstr!r} acts on "
                                 "boson modes but the graph has none")
            for row in rows:
                for idx, n, kind in ((row[1:1 + len(spin_ops)], n_s, "site"),
                                     (row[1 + len(spin_ops):], n_b, "mode")):
                    bad = [i for i in idx if not 0 <= i < n]
                    if bad:
                        raise InputError(f"charger {self.label!r} does not fit the basis: {kind} index {bad[0]} "
                                         f"of {opstr!r} is out of range (the graph has {n} {kind}s)")

    def terms(self, mg):
        out = []
        for opstr, rows in self.static:
            spin_ops, _, boson_ops = opstr.partition("|")
            ns = len(spin_ops)
            out += [(spin_ops, row[1:1 + ns], row[0], boson_ops, row[1 + ns:]) for row in rows]
        return out

    def norm_bound(self, mg) -> float:
        """sum_terms |coeff| x prod of operator-norm bounds: 2S for a spin operator (>= 1), n_max for
        a boson one (>= 1)."""
        spin = max([2.0 * s.spin for s in mg.spins] + [1.0])
        boson = max([float(m.n_max) for m in mg.modes] + [1.0])
        out = 0.0
        for opstr, rows in self.static:
            spin_ops, _, boson_ops = opstr.partition("|")
            factor = spin ** len(spin_ops) * boson ** len(boson_ops)
            out += factor * sum(abs(r[0]) for r in rows)
        return out

    def is_complex(self, mg):
        return any("y" in op or any(isinstance(r[0], complex) and r[0].imag for r in rows)
                   for op, rows in self.static)

    def describe(self):
        return {"name": self.label, "static": [[op, [list(r) for r in rows]] for op, rows in self.static]}


def _check_static(static):
    if isinstance(static, str):
        try:
            static = json.loads(static)
        except ValueError:
            raise InputError(f"charger static list {static!r} is not valid JSON") from None
    if not isinstance(static, (list, tuple)) or not static:
        raise InputError("a charger static list must be a non-empty list [[opstr, [[coeff, i, ...], ...]], ...]")
    out = []
    for item in static:
        if not (isinstance(item, (list, tuple)) and len(item) == 2 and isinstance(item[0], str)):
            raise InputError(f"charger static list entry {item!r}: expected [opstr, [[coeff, i, ...], ...]]")
        opstr, rows = item
        spin_ops, sep, boson_ops = opstr.partition("|")
        if set(spin_ops) - SPIN_CHARS or set(boson_ops) - BOSON_CHARS or not (spin_ops or boson_ops):
            raise InputError(f"charger operator string {opstr!r}: use spin operators {'/'.join(sorted(SPIN_CHARS))}"
                             f" and boson operators {'/'.join(sorted(BOSON_CHARS))} after '|'")
        clean = []
        for row in rows:
            n_idx = len(spin_ops) + len(boson_ops)
            if not isinstance(row, (list, tuple)) or len(row) != 1 + n_idx:
                raise InputError(f"charger term {row!r} of {opstr!r}: expected [coeff] + {n_idx} indices")
            if not isinstance(row[0], numbers.Number) or not all(isinstance(i, numbers.Integral) for i in row[1:]):
                raise InputError(f"charger term {row!r} of {opstr!r}: coefficient and integer indices expected")
            clean.append([row[0], *[int(i) for i in row[1:]]])
        out.append((opstr, clean))
    return out


class MatrixCharger(Charger):
    """A user charger given as a function ``(mg, basis) -> matrix`` (a global operator)."""

    name = "matrix"
    symmetric = False

    def __init__(self, build, label: str = "matrix"):
        if not callable(build):
            raise InputError("MatrixCharger needs a callable (model_graph, basis) -> matrix")
        self.build, self.label = build, label

    def matrix(self, mg, basis, dtype, add_terms):
        import scipy.sparse as sp

        m = sp.csr_matrix(self.build(mg, basis))
        if m.shape != (basis.Ns, basis.Ns):
            raise InputError(f"charger {self.label!r} does not fit the basis: matrix of shape {m.shape}, the "
                             f"basis has dimension {basis.Ns}")
        return m

    def is_complex(self, mg):
        return True

    def describe(self):
        return {"name": self.label}


CHARGERS: dict[str, tuple] = {  # name -> (factory, positional argument name, one-line doc)
    "field": (FieldCharger, "axis", "sum_i w_i 2 S^a_i, axis x|y|z (default x); norm sum |w_i| 2 S_i"),
    "global": (GlobalCharger, None, "prod_i s+_i + h.c. on all N spin-1/2 sites; norm 1"),
    "k-local": (KLocalCharger, "k", "sum over k-site subsets of prod s+ + h.c. (k=1..N)"),
    "cavity": (CavityCharger, None, "the graph's spin-boson couplings (Dicke / Tavis-Cummings)"),
    "graph": (GraphCharger, None, "sum_i h^a_i s^a_i + sum_<ij> Jc^a_ij s^a_i s^a_j from the graph's attributes "
                                  "hx/hy/hz and Jcx/Jcy/Jcz (drawable by disorder)"),
}


def register_charger(name: str, factory, doc: str = "", positional: str | None = None) -> None:
    """Add a charger to the catalog: ``factory(**args)`` returns a :class:`Charger`."""
    if not name or not isinstance(name, str) or ":" in name:
        raise ValueError(f"charger name must be a non-empty string without ':', got {shown(name)}")
    if name in CHARGERS and CHARGERS[name][0] is not factory:
        raise ValueError(f"charger name {name!r} is already registered")
    CHARGERS[name] = (factory, positional, doc)


def charger_names() -> list[str]:
    return sorted(CHARGERS)


def _value(text: str):
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return text


def parse_charger(spec) -> Charger:
    """``"NAME[:ARGS]"`` (ARGS ``key=value,...`` or one positional value), a Charger, or a static list."""
    if isinstance(spec, Charger):
        return spec
    if isinstance(spec, (list, tuple)):
        return StaticCharger(spec)
    if not isinstance(spec, str) or not spec.strip():
        raise InputError(f"charger must be a name like 'field' or 'k-local:k=2', got {shown(spec)}")
    if spec.lstrip().startswith("["):
        return StaticCharger(spec)
    name, _, argtext = spec.strip().partition(":")
    if name not in CHARGERS:
        close = difflib.get_close_matches(name, CHARGERS, n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise InputError(f"unknown charger {name!r}{hint} (chargers: {', '.join(charger_names())})")
    factory, positional, _doc = CHARGERS[name]
    kwargs = {}
    for part in [p for p in argtext.split(",") if p.strip()]:
        key, sep, val = part.partition("=")
        if not sep:
            if positional is None or positional in kwargs:
                raise InputError(f"charger {spec!r}: expected key=value arguments, got {shown(part)}")
            key, val = positional, part
        if key.strip() in kwargs:
            raise InputError(f"charger {spec!r}: argument {key.strip()!r} given twice")
        kwargs[key.strip()] = _value(val.strip())
    try:
        return factory(**kwargs)
    except TypeError as exc:
        raise InputError(f"charger {spec!r}: bad arguments ({exc})") from None


def resolve_charger(spec, mg) -> tuple[Charger, bool]:
    """The charger of a run and whether it is the model's own default.

    Order: an explicit ``spec``; else the graph attribute ``charger``; else the model's
    default (``cavity`` when the graph has boson modes, ``field`` otherwise).
    """
    if spec is None and mg.graph is not None:
        spec = mg.graph.graph.get("charger")
    if spec is None:
        ch, default = (CavityCharger(strict=False) if mg.modes else FieldCharger()), True
    else:
        ch, default = parse_charger(spec), False
        ch.fit(mg)
    if not isinstance(ch, GraphCharger):
        _refuse_unread(mg, ch)
    return ch, default


def _refuse_unread(mg, ch: Charger) -> None:
    """Refuse charger attributes (hx..., Jcx...) that the run's charger would ignore."""
    found = charger_attributes(mg)
    if found:
        key, where = found[0]
        what = f"edge {where!r}" if isinstance(where, tuple) else f"node {where!r}"
        raise InputError(f"graph attribute {key!r} ({what}, given or drawn by disorder) is read only by charger "
                         f"'graph', but this run's charger is {ch.describe().get('name', ch.name)!r}; "
                         "use charger='graph' (--charger graph) or drop the attribute")
