"""Graph -> QuSpin basis and operators: H_B, H_aux, charger V, jump operators.

Spin operators are QuSpin's with ``pauli=0`` (S^z, S^+, S^-); for spin-1/2 sites
2 S^a are the paper's Pauli matrices. Every term is written once, as QuSpin
operator-string data built from the validated graph (:mod:`collective_qc.physics.graph`):

- site i:    omega S^z + D (S^z)^2 + E/2 (S^+^2 + S^-^2) + B40 O4^0 + B44 (S^+^4 + S^-^4)/2
- collective node of N sites with pair couplings (graph attributes J/Delta or Jx/Jy/Jz):
             sum_a Ja (2 (S^a)^2 - N/2) = (Jx - Jy)/2 (S^+S^+ + S^-S^-) + (Jx + Jy)/2 (S^+S^- + S^-S^+)
             + 2 Jz S^zS^z - (N/2)(Jx + Jy + Jz)   (= sum_{i<j} Jx s^x_i s^x_j + ... on its sites)
- bond ij:   (Jx - Jy)(S^+S^+ + S^-S^-) + (Jx + Jy)(S^+S^- + S^-S^+) + 4 Jz S^zS^z
             (= Jx s^x s^x + Jy s^y s^y + Jz s^z s^z with s = 2S)
- charger:   V = sum_i w_i (S^+_i + S^-_i) = sum_i w_i 2 S^x_i            (classical field)
             V = sum_(i,c) g (S^+_i + S^-_i)(a_c + a_c^dag)                 (cavity)
             V = sum_(i,c) g (S^+_i a_c + S^-_i a_c^dag)                    (rotating wave)
- H_aux:     sum_c omega_c a_c^dag a_c
- jumps:     sqrt(gamma_i) 2 S^z_i, sqrt(kappa_i) S^-_i, sqrt(p) S^+_i (local, per site),
             sqrt(kappa_c) a_c (per mode), and collective ones on all sites together (J^a = sum_i S^a_i):
             sqrt(G) J_-, sqrt(G) 2 J_z, sqrt(G) J_+

All matrices are returned as SciPy CSR in QuSpin's basis order (site 0 is the most
significant factor; spin states m = +S first; Fock states n = n_max first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from .graph import ModelGraph, spin_string

__all__ = ["Jump", "Operators", "build_operators", "conserves", "estimate_nnz_per_row", "operator_norm",
           "NOISE_RATES", "COLLECTIVE_JUMPS", "noise_rates"]

# the uniform rates a run sets (units: energy unit / hbar); build_operators takes them by name
NOISE_RATES = ("dephasing", "relaxation", "pumping", "collective_emission", "collective_dephasing",
               "collective_pumping")
# collective jumps: rate name -> (QuSpin operator on each spin site, factor): sqrt(G) J_-, sqrt(G) 2 J_z, sqrt(G) J_+
COLLECTIVE_JUMPS = {"collective_emission": ("-", 1.0), "collective_dephasing": ("z", 2.0),
                    "collective_pumping": ("+", 1.0)}
COLLECTIVE_TARGET = "all sites"  # Jump.target of a collective jump


def noise_rates(given: dict | None = None, **rates) -> dict:
    """Every rate of :data:`NOISE_RATES` (0.0 where not given), as floats; TypeError for another name."""
    given = {**(given or {}), **rates}
    unknown = sorted(set(given) - set(NOISE_RATES))
    if unknown:
        raise TypeError(f"unknown noise rate {unknown[0]!r} (rates: {', '.join(NOISE_RATES)})")
    return {k: float(given.get(k) or 0.0) for k in NOISE_RATES}

_QUSPIN_FLAGS = dict(check_symm=False, check_herm=False, check_pcon=False)


@dataclass
class Jump:
    """One Lindblad jump operator L = sqrt(rate) * op (op a CSR matrix)."""

    kind: str  # "dephasing" | "relaxation" | "pumping" | "cavity_loss" | "collective_emission" | ...
    target: object  # the graph node; "all sites" for a collective jump
    rate: float
    matrix: sp.csr_matrix  # already includes sqrt(rate)


@dataclass
class Operators:
    """The operators of one model in one basis.

    Attributes
    ----------
    basis : QuSpin basis object
    H_B : csr_matrix  battery Hamiltonian (energy units of the model)
    H_aux : csr_matrix or None  auxiliary (cavity) Hamiltonian
    V : csr_matrix  charger; the full Hamiltonian is H_B + H_aux + lambda f(t) V
    jumps : list of Jump
    n_sites : int  number of battery sites N
    sz_total : ndarray  diagonal of sum_i S^z_i (basis order); used for initial states
    photon_number : ndarray or None  diagonal of sum_c a^dag a
    symmetry : dict or None  QuSpin block labels when a symmetry-reduced basis is used
    """

    basis: object
    H_B: sp.csr_matrix
    H_aux: sp.csr_matrix | None
    V: sp.csr_matrix
    jumps: list[Jump]
    n_sites: int
    sz_total: np.ndarray
    photon_number: np.ndarray | None
    model_graph: ModelGraph = field(repr=False)
    symmetry: dict | None = None
    mode_occupation: list = field(default_factory=list)  # diagonal of a_c^dag a_c per mode
    charger: dict | None = None  # describe() of the charger, its norm and norm-matching factor
    battery_off: bool = False  # Binder/Campaioli convention: H_B dropped from the generator

    @property
    def dim(self) -> int:
        return self.H_B.shape[0]

    @property
    def H0(self) -> sp.csr_matrix:
        """H_B + H_aux (the drive-independent part of the generator).

        With ``battery_off`` (the convention of Binder et al. 2015 and Campaioli et al. 2017,
        H = lambda f(t) V while charging) H_B is left out: H0 = H_aux (or 0). E is still
        measured with H_B. H_B only adds phases in its own eigenbasis, so E, P, C_Q,
        ergotropy and coherence of intervals with f = 0 are the same either way.
        """
        if self.battery_off:
            return self.H_aux if self.H_aux is not None else sp.csr_matrix(self.H_B.shape, dtype=self.H_B.dtype)
        return self.H_B if self.H_aux is None else (self.H_B + self.H_aux).tocsr()

    def site_operator(self, kind: str, index: int) -> sp.csr_matrix:
        """A per-site operator: kind in {"z", "x", "+", "-"} (spin operators S^a), site index."""
        mg = self.model_graph
        lst = _Terms(len(mg.modes) > 0)
        if kind == "x":
            lst.add("+", [index], 0.5)
            lst.add("-", [index], 0.5)
        elif kind in ("z", "+", "-"):
            lst.add(kind, [index], 1.0)
        else:
            raise InputError(f"unknown site operator {kind!r} (use z, x, +, -)")
        return _matrix(lst, self.basis, np.float64)


class _Terms:
    """Accumulates QuSpin static-list data: opstr -> list of [coupling, *indices]."""

    def __init__(self, has_bosons: bool):
        self.has_bosons = has_bosons
        self.data: dict[str, list] = defaultdict(list)

    def add(self, spin_ops: str, spin_idx, coeff, boson_ops: str = "", boson_idx=()):
        if coeff == 0.0:
            return
        opstr = f"{spin_ops}|{boson_ops}" if self.has_bosons else spin_ops
        self.data[opstr].append([coeff, *spin_idx, *boson_idx])

    def static(self):
        return [[k, v] for k, v in self.data.items()]


def _matrix(terms: _Terms, basis, dtype) -> sp.csr_matrix:
    from quspin.operators import hamiltonian

    static = terms.static()
    if not static:
        return sp.csr_matrix((basis.Ns, basis.Ns), dtype=dtype)
    H = hamiltonian(static, [], basis=basis, dtype=dtype, **_QUSPIN_FLAGS)
    return H.tocsr().astype(dtype)


def conserves(label: np.ndarray, *matrices) -> bool:
    """True when every matrix connects only basis states with equal values of the diagonal `label`
    (i.e. commutes with it), e.g. total S^z or the excitation number."""
    for A in matrices:
        coo = sp.coo_matrix(A)
        if np.any(np.abs(label[coo.row] - label[coo.col]) > 1e-9):
            return False
    return True


def estimate_nnz_per_row(mg: ModelGraph) -> int:
    """Rough upper bound of non-zeros per row of H_B + V (for memory estimates)."""
    n_spins = len(mg.spins)
    per = 1 + 2 * len(mg.bonds) + 2 * n_spins
    if mg.modes:
        per += 4 * len(mg.couplings) + 1
    s = mg.spins[0]
    if s.sites > 1 or s.spin > 0.5:
        per += 4 * n_spins
    return per


def _make_basis(mg: ModelGraph, symmetry: dict | None):
    from quspin.basis import boson_basis_1d, spin_basis_1d, spin_basis_general, tensor_basis

    n_spins = len(mg.spins)
    S = spin_string(mg.spins[0].spin)
    if symmetry:
        sbasis = spin_basis_1d(n_spins, S=S, pauli=0, **symmetry)
    else:
        sbasis = spin_basis_general(n_spins, S=S, pauli=0)
    if not mg.modes:
        return sbasis
    cut = {m.n_max for m in mg.modes}
    if len(cut) > 1:
        raise InputError(f"all boson modes of a graph must share one cutoff n_max (found {sorted(cut)})")
    bbasis = boson_basis_1d(len(mg.modes), sps=cut.pop() + 1)
    return tensor_basis(sbasis, bbasis)


def build_operators(
    mg: ModelGraph,
    *,
    symmetry: dict | None = None,
    dtype=np.float64,
    charger=None,
    norm=None,
    battery_off: bool = False,
    **rates: float,
) -> Operators:
    """Build the QuSpin basis and all operators of a validated model graph.

    Parameters
    ----------
    mg : ModelGraph
        From :func:`collective_qc.physics.graph.validate_graph`.
    dephasing, relaxation : float
        Uniform rates gamma, kappa (per site; energy unit / hbar) used where a node sets none:
        jumps sqrt(gamma) 2 S^z_i, sqrt(kappa) S^-_i. Keywords, like the rates below (default 0).
    pumping : float
        Uniform rate p of sqrt(p) S^+_i on every spin site. Like dephasing and relaxation it is
        refused on a collective spin node (sites > 1).
    collective_emission, collective_dephasing, collective_pumping : float
        Rates G of sqrt(G) J_-, sqrt(G) 2 J_z, sqrt(G) J_+ with J^a = sum_i S^a_i over all spin
        sites (on a collective node: its own spin operators). One jump each, target "all sites".
    symmetry : dict, optional
        QuSpin ``spin_basis_1d`` block labels (``kblock``, ``pblock``) for a ring whose
        site order is the ring order; only for closed runs.
    dtype : numpy dtype
        np.float64 (default) or np.complex128 (complex for momentum blocks k != 0, pi).
    charger : None, str ``NAME[:ARGS]``, static list or Charger
        The charger V (:mod:`collective_qc.physics.chargers`); None: the graph attribute ``charger``,
        else the model's default (``field``, or ``cavity`` with boson modes).
    norm : None, "field" or float > 0
        Rescale V to this operator norm ("field": the parallel field's on the same sites);
        the factor is recorded in ``Operators.charger``.
    battery_off : bool
        Leave H_B out of the generator (see :attr:`Operators.H0`).
    """
    from .chargers import resolve_charger

    has_b = len(mg.modes) > 0
    n_spins = len(mg.spins)
    chg, default = resolve_charger(charger, mg)
    _check_norm_option(chg, norm)
    if chg.is_complex(mg):
        dtype = np.complex128
    if symmetry:
        kb = symmetry.get("kblock", 0)
        if kb not in (0, None) and 2 * kb != n_spins:
            dtype = np.complex128
    basis = _make_basis(mg, symmetry)

    hb, aux, sz = _battery_terms(mg)

    H_B = _matrix(hb, basis, dtype)
    V, info = _charger_matrix(chg, default, mg, basis, dtype, norm, symmetry)
    H_aux = _matrix(aux, basis, dtype) if has_b else None
    sz_diag = _matrix(sz, basis, dtype).diagonal().real.copy()
    n_diag = None
    occupation = []
    for m_idx in range(len(mg.modes)):
        nt = _Terms(True)
        nt.add("", [], 1.0, "n", [m_idx])
        occupation.append(_matrix(nt, basis, dtype).diagonal().real.copy())
    if has_b:
        n_diag = np.sum(occupation, axis=0)

    rates = noise_rates(rates)
    if symmetry and any(r > 0 for r in rates.values()):
        raise InputError("symmetry-reduced bases are for closed runs only (noise rates are set)")
    jumps = [] if symmetry else _jump_operators(mg, basis, dtype, rates)

    return Operators(
        basis=basis,
        H_B=H_B,
        H_aux=H_aux,
        V=V,
        jumps=jumps,
        n_sites=mg.n_sites,
        sz_total=sz_diag,
        photon_number=n_diag,
        model_graph=mg,
        symmetry=dict(symmetry) if symmetry else None,
        mode_occupation=occupation,
        charger=info,
        battery_off=bool(battery_off),
    )


def _battery_terms(mg: ModelGraph):
    """QuSpin term lists of H_B (site terms and bonds), H_aux (cavity modes) and total S^z."""
    has_b = len(mg.modes) > 0
    hb, aux, sz = _Terms(has_b), _Terms(has_b), _Terms(has_b)
    for i, s in enumerate(mg.spins):
        hb.add("z", [i], s.omega)
        hb.add("zz", [i, i], s.D)
        hb.add("++", [i, i], 0.5 * s.E)
        hb.add("--", [i, i], 0.5 * s.E)
        if s.B40:
            x = s.spin * (s.spin + 1)
            hb.add("zzzz", [i] * 4, 35.0 * s.B40)
            hb.add("zz", [i, i], -(30.0 * x - 25.0) * s.B40)
            hb.add("I", [i], (3.0 * x * x - 6.0 * x) * s.B40)
        hb.add("++++", [i] * 4, 0.5 * s.B44)
        hb.add("----", [i] * 4, 0.5 * s.B44)
        _pair_terms(hb, i, s)
        sz.add("z", [i], 1.0)
    for b in mg.bonds:
        hb.add("++", [b.i, b.j], b.Jx - b.Jy)
        hb.add("--", [b.i, b.j], b.Jx - b.Jy)
        hb.add("+-", [b.i, b.j], b.Jx + b.Jy)
        hb.add("-+", [b.i, b.j], b.Jx + b.Jy)
        hb.add("zz", [b.i, b.j], 4.0 * b.Jz)
    for m_idx, m in enumerate(mg.modes):
        aux.add("", [], m.omega, "n", [m_idx])
    return hb, aux, sz


def _pair_terms(hb: _Terms, i: int, s) -> None:
    """A collective node's couplings among its N sites: sum_a Ja (2 (S^a)^2 - N/2) on site i."""
    jx, jy, jz = s.pair_Jx, s.pair_Jy, s.pair_Jz
    if not (jx or jy or jz):
        return
    hb.add("++", [i, i], 0.5 * (jx - jy))
    hb.add("--", [i, i], 0.5 * (jx - jy))
    hb.add("+-", [i, i], 0.5 * (jx + jy))
    hb.add("-+", [i, i], 0.5 * (jx + jy))
    hb.add("zz", [i, i], 2.0 * jz)
    hb.add("I", [i], -0.5 * s.sites * (jx + jy + jz))


def _jump_operators(mg: ModelGraph, basis, dtype, rates: dict) -> list:
    """Jump operators: sqrt(gamma) 2S^z_i, sqrt(kappa) S^-_i, sqrt(p) S^+_i per site, sqrt(kappa_c) a
    per mode, then the collective ones (sqrt(G) J_-, sqrt(G) 2 J_z, sqrt(G) J_+) with nonzero rate."""
    has_b = len(mg.modes) > 0
    jumps: list[Jump] = []

    def add(kind, target, rate, ops):  # ops: (spin opstr, [site], coefficient) terms of one jump
        t = _Terms(has_b)
        for op, idx, c in ops:
            t.add(op, idx, c)
        jumps.append(Jump(kind, target, rate, _matrix(t, basis, dtype)))

    for i, s in enumerate(mg.spins):
        local = {"dephasing": rates["dephasing"] if s.gamma is None else s.gamma,
                 "relaxation": rates["relaxation"] if s.kappa is None else s.kappa,
                 "pumping": rates["pumping"]}
        on = [k for k, r in local.items() if r > 0]
        if on and s.sites > 1:
            raise InputError(
                f"node {s.node!r}: local {'/'.join(on)} cannot act on a collective spin "
                "(use the explicit N-spin graph for local noise)"
            )
        for kind, (op, c) in (("dephasing", ("z", 2.0)), ("relaxation", ("-", 1.0)), ("pumping", ("+", 1.0))):
            if local[kind] > 0:
                add(kind, s.node, local[kind], [(op, [i], c * np.sqrt(local[kind]))])
    for m_idx, m in enumerate(mg.modes):
        if m.kappa > 0:
            t = _Terms(True)
            t.add("", [], np.sqrt(m.kappa), "-", [m_idx])
            jumps.append(Jump("cavity_loss", m.node, m.kappa, _matrix(t, basis, dtype)))
    for kind, (op, c) in COLLECTIVE_JUMPS.items():
        if rates[kind] > 0:
            add(kind, COLLECTIVE_TARGET, rates[kind],
                [(op, [i], c * np.sqrt(rates[kind])) for i in range(len(mg.spins))])
    return jumps


def _check_norm_option(chg, norm) -> None:
    if norm is None:
        return
    if not chg.bounded:
        raise InputError(f"charger {chg.name!r} cannot be norm-matched: its operator norm grows with the "
                         "Fock cutoff of the boson modes")
    if isinstance(norm, str):
        if norm != "field":
            raise InputError(f"norm must be 'field' or a positive number, got {norm!r}")
        return
    if isinstance(norm, bool) or not isinstance(norm, (int, float)) or not (np.isfinite(norm) and norm > 0):
        raise InputError(f"norm must be 'field' or a positive number, got {norm!r}")


def _charger_matrix(chg, default, mg, basis, dtype, norm, symmetry):
    """V of charger `chg` on `basis`, rescaled to `norm`; and the record of what was done."""

    def add_terms(terms, dt):
        t = _Terms(len(mg.modes) > 0)
        for term in terms:
            t.add(*term)
        return _matrix(t, basis, dt)

    V = chg.matrix(mg, basis, dtype, add_terms).tocsr()
    info = {**chg.describe(), "model_default": default}
    if not chg.symmetric and symmetry:
        raise InputError(f"charger {chg.name!r} is not known to be translation invariant; "
                         "run without symmetry blocks (symmetry=False)")
    if V.nnz and abs(V - V.getH()).max() > 1e-12 * max(1.0, abs(V).max()):
        raise InputError(f"charger {info['name']!r} is not Hermitian: add the h.c. terms")
    if not chg.bounded:
        return V, info
    from .chargers import field_norm

    have = chg.exact_norm(mg)
    info["norm_source"] = "closed form" if have is not None else "numerical"
    if have is None:
        have = operator_norm(V)
    info["norm"] = have
    if norm is None:
        return V, info
    target = field_norm(mg) if norm == "field" else float(norm)
    if have <= 0:
        raise InputError(f"charger {info['name']!r} is zero on this graph; it cannot be norm-matched")
    scale = target / have
    info.update(norm_target=norm, norm_before=have, norm=target, scale=scale)
    return (V * scale).tocsr(), info


def operator_norm(A) -> float:
    """Largest |eigenvalue| of a Hermitian sparse matrix (dense below dimension 2048)."""
    if A.shape[0] <= 2048:
        return float(np.max(np.abs(np.linalg.eigvalsh(A.toarray()))))
    from scipy.sparse.linalg import eigsh

    return float(abs(eigsh(A, k=1, which="LM", tol=1e-12, return_eigenvectors=False)[0]))
