"""Permutation symmetry of a model graph: the collective form the ``permutation`` solver runs.

N identical spin-1/2 sites whose Hamiltonian, charger and noise are invariant under every
permutation of the sites evolve inside the algebra of permutation-invariant operators
(Schur-Weyl duality): rho = (+)_j rho_j (x) 1_{d_j}, one (2j+1)-dimensional block per total spin
j = N/2, N/2 - 1, ..., with multiplicity d_j (Chase & Geremia, PRA 78, 052101 (2008); Shammah et
al., PRA 98, 063815 (2018)). Such a model is written entirely with the collective operators
J^a = sum_i S^a_i:

    H_B = omega J_z + D J_z^2 + E (J_x^2 - J_y^2) + sum_a J_a (2 (J^a)^2 - N/2) + const

(the pair couplings sum_{i<j} J_a s^a_i s^a_j of a complete graph, Pauli-normalised), a charger
w 2 J^a (field), (J_+^k + J_-^k)/k! (k-local; global: k = N) or one cavity mode
g w 2 J_x (a + a^dag) / g w (J_+ a + J_- a^dag), and local (per-site, uniform) or collective noise.

:func:`collective_form` reads that form off a validated graph, or raises one InputError naming
what breaks the symmetry (a node attribute that differs, a missing or different edge, a charger).
Two kinds of graph qualify: N spin-1/2 nodes (no bonds, or a complete graph of identical bonds;
optionally every spin coupled with the same g to one boson mode), and one collective spin node
(``sites = N``, spin N/2, pair couplings as node attributes) with at most one mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from ..core.errors import InputError

__all__ = ["CollectiveForm", "Rates", "collective_form", "permutation_size", "all_blocks",
           "needed_blocks", "log_multiplicity"]


@dataclass(frozen=True)
class Rates:
    """Uniform noise rates (units omega0): local ``dephasing`` sqrt(g) 2S^z_i, ``relaxation``
    sqrt(k) S^-_i, ``pumping`` sqrt(p) S^+_i; collective sqrt(G) J_-, sqrt(G) 2J_z, sqrt(G) J_+."""

    dephasing: float = 0.0
    relaxation: float = 0.0
    pumping: float = 0.0
    collective_emission: float = 0.0
    collective_dephasing: float = 0.0
    collective_pumping: float = 0.0

    @property
    def local(self) -> bool:
        return self.dephasing > 0 or self.relaxation > 0 or self.pumping > 0


@dataclass(frozen=True)
class CollectiveForm:
    """A permutation-invariant model in collective operators (see the module docstring).

    n: sites N; omega, D, E: single-spin terms of H_B (D, E act on the collective spin of a
    collective node; on spin-1/2 sites D (S^z)^2 = D/4 is the constant ``const``); pair: (Jx, Jy,
    Jz); charger: ("field", axis, w) | ("k-local", k) | ("cavity", g w, rwa); mode: the boson
    mode (``BosonMode``) or None; rates: :class:`Rates`.
    """

    n: int
    omega: float
    D: float = 0.0
    E: float = 0.0
    const: float = 0.0
    pair: tuple = (0.0, 0.0, 0.0)
    charger: tuple = ("field", "x", 1.0)
    mode: object = None
    rates: Rates = field(default_factory=Rates)

    @property
    def n_boson(self) -> int:
        return 1 if self.mode is None else self.mode.n_max + 1


def permutation_size(n: int, n_boson: int = 1, js=None) -> float:
    """Complex numbers of one block-diagonal state: sum_j ((2j + 1) n_boson)^2 over the blocks js
    (default all, j = N/2, N/2 - 1, ...)."""
    js = all_blocks(n) if js is None else js
    return float(sum((2 * j + 1) ** 2 for j in js)) * n_boson * n_boson


def all_blocks(n: int) -> list:
    """j = N/2, N/2 - 1, ..., 0 or 1/2."""
    return [n / 2 - b for b in range(n // 2 + 1)]


def needed_blocks(n: int, local_noise: bool, initial: str) -> list:
    """The blocks a run must propagate: all of them when local noise couples j to j +- 1;
    without it each block evolves on its own, so only those the initial state occupies
    (|g...g>: j = N/2; dicke:J,M: J; ground and thermal states: all)."""
    from .states import parse_initial

    spec = parse_initial(initial)
    if local_noise or spec.kind not in ("product", "dicke"):
        return all_blocks(n)
    j = n / 2 if spec.J is None else spec.J
    return [j] if j in all_blocks(n) else all_blocks(n)


def _site_key(s):
    return {"spin": s.spin, "omega": s.omega, "D": s.D, "E": s.E, "B40": s.B40, "B44": s.B44,
            "weight": s.weight, "gamma": s.gamma, "kappa": s.kappa}


def _check_sites(mg) -> None:
    s0 = mg.spins[0]
    if s0.sites > 1:
        if s0.B40 or s0.B44:
            raise InputError(f"node {s0.node!r}: B40/B44 on a collective spin are not supported by method permutation")
        return
    ref = _site_key(s0)
    for s in mg.spins:
        if s.spin != 0.5:
            raise InputError(f"node {s.node!r}: spin = {s.spin:g}; method permutation needs spin-1/2 sites "
                             "(or one collective spin node)")
        for key, value in _site_key(s).items():
            if value != ref[key]:
                raise InputError(f"node {s.node!r}: attribute {key!r} = {value} differs from node {s0.node!r}'s "
                                 f"{ref[key]}; method permutation needs identical sites")


def _check_bonds(mg) -> tuple:
    """(Jx, Jy, Jz) of a complete graph of identical bonds (0s without bonds)."""
    n = len(mg.spins)
    if not mg.bonds:
        return (0.0, 0.0, 0.0)
    b0 = mg.bonds[0]
    ref = (b0.Jx, b0.Jy, b0.Jz)
    name = [s.node for s in mg.spins]
    for b in mg.bonds:
        if (b.Jx, b.Jy, b.Jz) != ref:
            raise InputError(f"edge ({name[b.i]!r}, {name[b.j]!r}): (Jx, Jy, Jz) = {(b.Jx, b.Jy, b.Jz)} differs from "
                             f"edge ({name[b0.i]!r}, {name[b0.j]!r})'s {ref}; method permutation needs identical bonds")
    if len(mg.bonds) != n * (n - 1) // 2:
        have = {(b.i, b.j) for b in mg.bonds}
        i, j = next((i, j) for i in range(n) for j in range(i + 1, n) if (i, j) not in have)
        raise InputError(f"edge ({name[i]!r}, {name[j]!r}) is missing: method permutation needs all-to-all bonds "
                         "(a complete graph of identical couplings) or none")
    return ref


def _check_mode(mg):
    """(mode, g) of the one boson mode every spin couples to with the same g, or (None, 0)."""
    if not mg.modes:
        return None, 0.0
    if len(mg.modes) > 1:
        raise InputError(f"the graph has {len(mg.modes)} boson modes; method permutation takes at most one")
    by_spin = {}
    for c in mg.couplings:
        by_spin[c.spin] = c.g
    for i, s in enumerate(mg.spins):
        if i not in by_spin:
            raise InputError(f"node {s.node!r} is not coupled to mode {mg.modes[0].node!r}; method permutation "
                             "needs every site coupled with the same g")
    g0 = by_spin[0]
    for i, g in by_spin.items():
        if g != g0:
            raise InputError(f"edge ({mg.spins[i].node!r}, {mg.modes[0].node!r}): g = {g} differs from "
                             f"{g0}; method permutation needs the same g on every site")
    return mg.modes[0], g0


def _charger(chg, mg, g: float, mode) -> tuple:
    name = getattr(chg, "name", "")
    w = mg.spins[0].weight
    if name == "field":
        return ("field", chg.axis, w)
    if name == "global":
        return ("k-local", mg.n_sites)
    if name == "k-local":
        return ("k-local", chg.k)
    if name == "cavity" and mode is not None:
        return ("cavity", g * w, bool(mode.rwa))
    raise InputError(f"charger {name!r} is not known to be permutation invariant; method permutation takes "
                     "field, k-local, global or cavity chargers")


def collective_form(mg, rates: Rates, charger=None) -> CollectiveForm:
    """The :class:`CollectiveForm` of a validated graph, or InputError naming what breaks the
    permutation symmetry (checked in O(N + edges), before anything is built)."""
    from .chargers import resolve_charger

    _check_sites(mg)
    s0 = mg.spins[0]
    mode, g = _check_mode(mg)
    chg, _ = resolve_charger(charger, mg)
    if s0.sites > 1:
        return CollectiveForm(n=s0.sites, omega=s0.omega, D=s0.D, E=s0.E, pair=(s0.pair_Jx, s0.pair_Jy, s0.pair_Jz),
                              mode=mode, charger=_charger(chg, mg, g, mode), rates=_node_rates(rates, s0))
    n = len(mg.spins)
    return CollectiveForm(n=n, omega=s0.omega, const=n * s0.D / 4.0, pair=_check_bonds(mg), mode=mode,
                          charger=_charger(chg, mg, g, mode), rates=_node_rates(rates, s0))


def _node_rates(rates: Rates, s) -> Rates:
    """The uniform rates with the (identical) node attributes gamma, kappa in place of the run's."""
    from dataclasses import replace

    return replace(rates, dephasing=rates.dephasing if s.gamma is None else s.gamma,
                   relaxation=rates.relaxation if s.kappa is None else s.kappa)


def log_multiplicity(n: int, j: float) -> float:
    """ln d_j, d_j = C(N, N/2 - j) (2j + 1) / (N/2 + j + 1): copies of the spin-j irrep in N spin-1/2."""
    k = int(round(n / 2 - j))
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + math.log(2 * j + 1) - math.log(n / 2 + j + 1))
