"""Initial states (option ``initial``): ground | product | dicke:J,M | thermal:T.

- ``ground`` (default): the zero-temperature state of H_B, the uniform mixture over its ground
  manifold (a single pure state when the ground level is non-degenerate).
- ``product``: |g...g> (all spins m = -S).
- ``dicke:J,M`` (``dicke:M``: J = N/2): the permutation-invariant Dicke state of N spin-1/2 sites,
  rho = P_{J,M} / d_J with P_{J,M} the projector onto {J^2 = J(J+1), J_z = M} (J^a = sum_i S^a_i)
  and d_J = C(N, N/2 - J)(2J + 1)/(N/2 + J + 1) its rank: the uniform mixture over the d_J copies
  of |J, M>. J, M half-integers (3/2 or 1.5) with |M| <= J <= N/2, J = N/2 mod 1. On a collective
  spin node (sites = N) only J = N/2 exists: the pure state |N/2, M>.
- ``thermal:T``: rho = exp(-H_B/T)/Z on the spins, T > 0 in the model's energy unit (k_B = 1).

With a cavity, every state has the cavity in its Fock state (``photons``; H_B does not act on it).
Exact solvers use the mixture directly; trajectories sample its members. Dicke and thermal states
are built densely (J^2 in the J_z = M sector, H_B on the spins) up to :data:`SPECTRAL_LIMIT`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..core.errors import InputError, shown
from .operators import Operators, _matrix, _Terms, conserves

__all__ = ["InitialState", "InitialSpec", "initial_state", "ground_manifold", "product_state", "parse_initial",
           "check_initial", "dicke_degeneracy", "INITIAL_FORMS", "SPECTRAL_LIMIT"]

DENSE_LIMIT = 3000
SPECTRAL_LIMIT = 4096  # largest dense eigenproblem of a dicke (J_z = M sector) or thermal (spins) state
INITIAL_FORMS = "ground | product | dicke:J,M | thermal:T"
THERMAL_CUT = 1e-300  # Boltzmann weights below this (relative to the largest) are dropped


@dataclass
class InitialState:
    """A mixture sum_k p_k |psi_k><psi_k| (orthonormal members, columns of ``vectors``)."""

    vectors: np.ndarray  # (dim, n_members)
    weights: np.ndarray  # (n_members,)
    label: str  # "ground", "ground-manifold", "product", "dicke", "thermal"
    degeneracy: int = 1
    params: dict = field(default_factory=dict)  # dicke: J, M, d_J; thermal: T, Z (relative to exp(-E0/T))

    @property
    def is_pure(self) -> bool:
        return self.vectors.shape[1] == 1

    def describe(self) -> dict:
        members = int(self.vectors.shape[1])
        if self.label == "dicke":
            J, M = self.params["J"], self.params["M"]
            mixture = (f"uniform over the {members} copies of |J = {J:g}, M = {M:g}> (P_JM / d_J)"
                       if members > 1 else f"pure |J = {J:g}, M = {M:g}>")
        elif self.label == "thermal":
            mixture = f"Boltzmann exp(-H_B/T)/Z at T = {self.params['T']:g} over {members} eigenstates of H_B"
        else:
            mixture = "uniform over the ground manifold" if members > 1 else "pure"
        return {"kind": self.label, "members": members, "degeneracy": self.degeneracy, "mixture": mixture,
                **self.params}


@dataclass(frozen=True)
class InitialSpec:
    """A parsed ``initial`` option: kind "ground" | "product" | "dicke" | "thermal" and its numbers
    (dicke: J (None: N/2) and M; thermal: temperature T, energy units)."""

    kind: str
    J: float | None = None
    M: float | None = None
    T: float | None = None


def _half_integer(text: str, what: str, where: str, value) -> float:
    t = text.strip()
    try:
        if "/" in t:
            num, _, den = t.partition("/")
            x = int(num) / int(den)
        else:
            x = float(t)
    except (ValueError, ZeroDivisionError, OverflowError):
        x = math.nan
    if not math.isfinite(x) or abs(2 * x - round(2 * x)) > 1e-9 or abs(x) > 1e6:
        raise InputError(f"{where} must be dicke:J,M with half-integers J, M (like 3/2 or 1.5): {what} = "
                         f"{t!r} is not one, got {shown(value)}")
    return round(2 * x) / 2


def parse_initial(value, where: str = "initial") -> InitialSpec:
    """Parse the ``initial`` option (``ground | product | dicke:J,M | dicke:M | thermal:T``); checks
    that need no model (J >= |M|, J - M integer, T > 0). InputError naming `where`."""
    if not isinstance(value, str):
        raise InputError(f"{where} must be a string ({INITIAL_FORMS}), got {shown(value)}")
    text = value.strip()
    if text in ("ground", "product"):
        return InitialSpec(text)
    kind, sep, args = text.partition(":")
    if kind == "thermal" and sep:
        from ..core.validate import number

        try:
            T = number(args, where, positive=True)
        except InputError:
            raise InputError(f"{where} must be thermal:T with a temperature T > 0 (energy units), "
                             f"got {shown(value)}") from None
        return InitialSpec("thermal", T=float(T))
    if kind == "dicke" and sep:
        parts = args.split(",")
        if len(parts) not in (1, 2):
            raise InputError(f"{where} must be dicke:J,M or dicke:M, got {shown(value)}")
        M = _half_integer(parts[-1], "M", where, value)
        J = _half_integer(parts[0], "J", where, value) if len(parts) == 2 else None
        if J is not None and (J < abs(M) or abs((J - M) - round(J - M)) > 1e-9):
            raise InputError(f"{where} must be dicke:J,M with J >= |M| and J - M an integer, got {shown(value)}")
        return InitialSpec("dicke", J=J, M=M)
    import difflib

    close = difflib.get_close_matches(text, ["ground", "product", "dicke:", "thermal:"], n=2)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise InputError(f"{where} must be one of {INITIAL_FORMS}, got {shown(value)}{hint}")


def dicke_degeneracy(n: int, J: float) -> int:
    """d_J = C(N, N/2 - J)(2J + 1)/(N/2 + J + 1): copies of spin J among N spin-1/2 sites."""
    two_j = int(round(2 * J))
    return 2 * math.comb(n, (n - two_j) // 2) * (two_j + 1) // (n + two_j + 2)


def _spin_dim(mg) -> int:
    return math.prod(s.dim for s in mg.spins)


def check_initial(value, mg, where: str = "initial", explicit: bool = True) -> InitialSpec:
    """Parse ``initial`` and check it against a validated model graph before anything large is
    built: dicke needs spin-1/2 sites (or one collective spin node) with |M| <= J <= N/2,
    J = N/2 mod 1. In the explicit basis (``explicit``; not for the permutation solver, whose
    blocks hold every J and whose spectral problems are per block) a collective node holds only
    J = N/2, and dicke and thermal need a spectral problem of at most SPECTRAL_LIMIT."""
    spec = parse_initial(value, where)
    head = f"{where} {value.strip()!r}"
    if explicit and spec.kind == "thermal" and _spin_dim(mg) > SPECTRAL_LIMIT:
        raise InputError(f"{head}: the thermal state is built by dense diagonalisation of H_B on the spins, "
                         f"dimension {_spin_dim(mg)} > {SPECTRAL_LIMIT}; use a smaller model")
    if spec.kind != "dicke":
        return spec
    n = mg.n_sites
    collective = len(mg.spins) == 1 and mg.spins[0].sites > 1
    if not collective and any(s.spin != 0.5 or s.sites != 1 for s in mg.spins):
        raise InputError(f"{head}: Dicke states need spin-1/2 sites or one collective spin node, "
                         f"the model has spin S = {mg.spins[0].spin:g} sites")
    J = n / 2 if spec.J is None else spec.J
    if J > n / 2 or abs((n / 2 - J) - round(n / 2 - J)) > 1e-9:
        raise InputError(f"{head}: J must be <= N/2 = {n / 2:g} with N/2 - J an integer (N = {n} sites), "
                         f"got J = {J:g}")
    if explicit and collective and J != n / 2:
        raise InputError(f"{head}: a collective spin node holds only J = N/2 = {n / 2:g}, got J = {J:g} "
                         "(use the explicit N-site graph)")
    M = spec.M
    if abs(M) > J or abs((J - M) - round(J - M)) > 1e-9:
        raise InputError(f"{head}: M must satisfy |M| <= J = {J:g} with J - M an integer, got M = {M:g}")
    sector = 1 if collective else math.comb(n, int(round(n / 2 + M)))
    if explicit and sector > SPECTRAL_LIMIT:
        raise InputError(f"{head}: the J_z = M sector has dimension {sector} > {SPECTRAL_LIMIT} (dense J^2); "
                         "use fewer sites")
    return InitialSpec("dicke", J=J, M=M)


def ground_manifold_sectors(H: sp.spmatrix, labels: np.ndarray, rtol: float = 1e-9):
    """Ground manifold of H that conserves a diagonal quantity (e.g. total S^z): sector by sector.

    Each sector is diagonalised on its own (densely when small), so large degeneracies spread over
    sectors (e.g. total-spin multiplets) are resolved exactly.
    """
    H = sp.csr_matrix(H)
    found = []
    for lab in np.unique(labels):
        idx = np.flatnonzero(labels == lab)
        e, v = ground_manifold(H[idx][:, idx], rtol=rtol, dense_limit=800)
        found.append((e, idx, v))
    energies = np.array([f[0] for f in found])
    e0 = float(energies.min())
    tol = rtol * max(1.0, abs(e0), abs(energies.max() - e0) * 1e-3)
    cols = []
    for e, idx, v in found:
        if e - e0 < tol:
            full = np.zeros((H.shape[0], v.shape[1]), dtype=v.dtype)
            full[idx] = v
            cols.append(full)
    dtype = np.result_type(*[c.dtype for c in cols])
    return e0, np.concatenate([c.astype(dtype) for c in cols], axis=1)


def ground_manifold(H: sp.spmatrix, rtol: float = 1e-9, k0: int = 6, dense_limit: int = DENSE_LIMIT):
    """Lowest eigenvalue of a Hermitian matrix and an orthonormal basis of its eigenspace.

    Degeneracy is decided with tolerance rtol * max(1, |E0|, spread of computed levels).
    Dense diagonalisation up to DENSE_LIMIT; a diagonal matrix is read off directly; otherwise
    Lanczos (eigsh) followed by deflation checks: the found ground vectors are shifted up and the
    lowest level of the deflated operator is computed again, until it lies above E0 (Lanczos alone
    can return fewer copies of a degenerate level than there are).
    """
    dim = H.shape[0]
    if dim <= dense_limit:
        w, v = np.linalg.eigh(H.toarray())
        tol = rtol * max(1.0, abs(w[0]), abs(w[-1] - w[0]) * 1e-3)
        vecs = v[:, w - w[0] < tol]
        return float(w[0]), _real_if_possible(vecs)
    H = sp.csr_matrix(H)
    off = H - sp.diags(H.diagonal())
    if off.count_nonzero() == 0 or np.max(np.abs(off.data), initial=0.0) == 0.0:
        d = H.diagonal().real
        e0 = float(d.min())
        tol = rtol * max(1.0, abs(e0), abs(d.max() - e0) * 1e-3)
        idx = np.flatnonzero(d - e0 < tol)
        vecs = np.zeros((dim, len(idx)))
        vecs[idx, np.arange(len(idx))] = 1.0
        return e0, vecs
    k = min(k0, dim - 2)
    v0 = np.random.default_rng(0).standard_normal(dim)  # fixed start: the same vectors on every run
    w, v = spla.eigsh(H, k=k, which="SA", tol=1e-12, v0=v0)
    order = np.argsort(w)
    w, v = w[order], v[:, order]
    e0 = float(w[0])
    spread = abs(w[-1] - w[0])
    tol = rtol * max(1.0, abs(e0), spread * 1e-3)
    vecs = v[:, w - e0 < tol]
    shift = 2.0 * (spla.eigsh(H, k=1, which="LA", tol=1e-6, return_eigenvectors=False, v0=v0)[0] - e0) + 1.0
    for _ in range(64):  # deflation: look for ground vectors outside span(vecs)
        Q, _r = np.linalg.qr(vecs)

        def mv(x, Q=Q):
            x = np.asarray(x).reshape(-1)
            return H @ x + shift * (Q @ (Q.conj().T @ x))

        op = spla.LinearOperator((dim, dim), matvec=mv, dtype=np.result_type(H.dtype, Q.dtype))
        wd, vd = spla.eigsh(op, k=min(4, dim - 2), which="SA", tol=1e-12, v0=v0)
        new = vd[:, wd - e0 < tol]
        if new.shape[1] == 0:
            vecs = Q
            break
        vecs = np.concatenate([Q, new], axis=1)
    return e0, _real_if_possible(np.linalg.qr(vecs)[0])


def _ground(H, sz):
    """Ground manifold, by total-S^z sectors when H conserves it and is too large for one dense solve."""
    H = sp.csr_matrix(H)
    diagonal = (H - sp.diags(H.diagonal())).count_nonzero() == 0
    if H.shape[0] > DENSE_LIMIT and not diagonal and len(np.unique(np.round(sz, 6))) > 1 and conserves(sz, H):
        return ground_manifold_sectors(H, np.round(sz, 6))
    return ground_manifold(H)


def _real_if_possible(vecs):
    if np.isrealobj(vecs) or np.allclose(vecs.imag, 0):
        return np.ascontiguousarray(vecs.real)
    return vecs


def _fock_mask(ops: Operators) -> np.ndarray:
    """Basis states with every mode c in its initial Fock state |photons_c>."""
    mask = np.ones(ops.dim, dtype=bool)
    for occ, m in zip(ops.mode_occupation, ops.model_graph.modes, strict=True):
        mask &= np.isclose(occ, m.photons)
    return mask


def product_state(ops: Operators) -> np.ndarray:
    """|g...g> (all spins m = -S) times the cavity Fock state of each mode's ``photons``."""
    mg = ops.model_graph
    s_min = -sum(s.spin for s in mg.spins)
    mask = np.isclose(ops.sz_total, s_min)
    mask &= _fock_mask(ops)
    idx = np.flatnonzero(mask)
    if len(idx) != 1:
        if ops.symmetry:
            raise InputError("the product state is not in the chosen symmetry block")
        raise InputError("cannot locate the product state |g...g> in the basis")
    psi = np.zeros(ops.dim)
    psi[idx[0]] = 1.0
    return psi


def initial_state(ops: Operators, kind: str = "ground") -> InitialState:
    """The initial state of a run: ``ground`` (zero-temperature state of H_B), ``product``,
    ``dicke:J,M`` or ``thermal:T`` (see the module docstring).

    For models with a cavity, ``ground`` takes the ground manifold of H_B restricted to
    the spins, with the cavity in its Fock state (H_B does not act on the cavity); so do
    ``dicke`` and ``thermal``.
    """
    spec = check_initial(kind, ops.model_graph)
    if spec.kind in ("dicke", "thermal") and ops.symmetry:
        raise InputError(f"initial {kind!r} needs the full basis, not a symmetry block")
    if spec.kind == "product":
        return InitialState(product_state(ops)[:, None], np.ones(1), "product")
    if spec.kind == "dicke":
        return dicke_state(ops, spec.J, spec.M)
    if spec.kind == "thermal":
        return thermal_state(ops, spec.T)
    H = ops.H_B
    if ops.photon_number is not None:
        # restrict to the cavities' initial Fock states: H_B is diagonal in photon number
        sector = np.flatnonzero(_fock_mask(ops))
        e0, sub = _ground(H[sector][:, sector], ops.sz_total[sector])
        vecs = np.zeros((ops.dim, sub.shape[1]), dtype=sub.dtype)
        vecs[sector] = sub
    else:
        e0, vecs = _ground(H, ops.sz_total)
    g = vecs.shape[1]
    return InitialState(vecs, np.full(g, 1.0 / g), "ground" if g == 1 else "ground-manifold", degeneracy=g)


def _embedded(ops: Operators, sector: np.ndarray, sub: np.ndarray) -> np.ndarray:
    vecs = np.zeros((ops.dim, sub.shape[1]), dtype=sub.dtype)
    vecs[sector] = sub
    return vecs


def total_spin_squared(ops: Operators) -> sp.csr_matrix:
    """J^2 = J_z^2 + (J_+ J_- + J_- J_+)/2, J^a = sum_i S^a_i over the spin sites, on the basis of `ops`."""
    n = len(ops.model_graph.spins)
    J = {}
    for op in ("z", "+"):
        t = _Terms(len(ops.model_graph.modes) > 0)
        for i in range(n):
            t.add(op, [i], 1.0)
        J[op] = _matrix(t, ops.basis, np.float64)
    jz, jp = J["z"], J["+"]
    jm = jp.T.tocsr()
    return (jz @ jz + 0.5 * (jp @ jm + jm @ jp)).tocsr()


def dicke_state(ops: Operators, J: float, M: float) -> InitialState:
    """rho = P_{J,M} / d_J: the uniform mixture over an orthonormal basis of {J^2 = J(J+1), J_z = M}
    (cavity in its Fock state), from J^2 diagonalised densely in the J_z = M sector."""
    mg = ops.model_graph
    sector = np.flatnonzero(np.isclose(ops.sz_total, M) & _fock_mask(ops))
    if len(sector) > SPECTRAL_LIMIT:
        raise InputError(f"initial 'dicke:{J:g},{M:g}': J_z = M sector of dimension {len(sector)} > {SPECTRAL_LIMIT}")
    J2 = total_spin_squared(ops)[sector][:, sector].toarray()
    w, v = np.linalg.eigh(J2)
    sub = v[:, np.abs(w - J * (J + 1)) < 1e-8 * max(1.0, J * J)]
    collective = len(mg.spins) == 1 and mg.spins[0].sites > 1
    d = 1 if collective else dicke_degeneracy(mg.n_sites, J)
    if sub.shape[1] != d:  # the multiplicity is a theorem: a mismatch is a bug, not bad input
        raise RuntimeError(f"dicke state J = {J:g}, M = {M:g}: found {sub.shape[1]} copies, expected d_J = {d}")
    return InitialState(_embedded(ops, sector, np.ascontiguousarray(sub)), np.full(d, 1.0 / d), "dicke",
                        degeneracy=d, params={"J": float(J), "M": float(M), "d_J": int(d)})


def thermal_state(ops: Operators, T: float) -> InitialState:
    """rho = exp(-H_B/T)/Z on the spins (cavity in its Fock state): the eigenvectors of H_B with
    Boltzmann weights, those below THERMAL_CUT of the largest dropped (dense eigendecomposition)."""
    sector = np.flatnonzero(_fock_mask(ops))
    if len(sector) > SPECTRAL_LIMIT:
        raise InputError(f"initial 'thermal:{T:g}': H_B on the spins has dimension {len(sector)} > {SPECTRAL_LIMIT}")
    w, v = np.linalg.eigh(ops.H_B[sector][:, sector].toarray())
    boltzmann = np.exp(-(w - w[0]) / T)
    keep = boltzmann >= THERMAL_CUT
    z = float(boltzmann[keep].sum())
    vecs = _embedded(ops, sector, _real_if_possible(v[:, keep]))
    return InitialState(vecs, boltzmann[keep] / z, "thermal", degeneracy=1,
                        params={"T": float(T), "E0": float(w[0]), "Z_relative": z})
