"""Initial states (option ``initial``): ground | product | dicke:J,M | thermal:T | thermal (+ temperature).

- ``ground`` (default): the zero-temperature state of H_B, the uniform mixture over its ground
  manifold (a single pure state when the ground level is non-degenerate).
- ``product``: |g...g> (all spins m = -S).
- ``dicke:J,M`` (``dicke:M``: J = N/2): the permutation-invariant Dicke state of N spin-1/2 sites,
  rho = P_{J,M} / d_J with P_{J,M} the projector onto {J^2 = J(J+1), J_z = M} (J^a = sum_i S^a_i)
  and d_J = C(N, N/2 - J)(2J + 1)/(N/2 + J + 1) its rank: the uniform mixture over the d_J copies
  of |J, M>. J, M half-integers (3/2 or 1.5) with |M| <= J <= N/2, J = N/2 mod 1. On a collective
  spin node (sites = N) only J = N/2 exists: the pure state |N/2, M>.
- ``thermal:T``, or ``thermal`` with the run option ``temperature`` T (:func:`resolve_initial`):
  the Gibbs state rho = exp(-H_B/T)/Z of H_B on the spins, T in the model's energy unit
  (k_B = 1); T = 0 (``temperature`` only) is ``ground``, the same run bit for bit.

With a cavity, every state has the cavity in its Fock state (``photons``; H_B does not act on it):
the Gibbs state is that of H_B, not of H_B + H_aux, so the auxiliary mode is not thermalised (it
is the charger's resource, prepared in the Fock state the model names, and a thermal mode would
need a Fock cutoff set by T). Exact solvers use the mixture directly; trajectories sample its
members. Dicke and thermal states are built densely (J^2 in the J_z = M sector, H_B on the spins)
up to :data:`SPECTRAL_LIMIT`.

Sampled thermal states (spin dimension above SPECTRAL_LIMIT; closed and trajectory runs): K
random-phase vectors phi_k (entries exp(i theta), theta uniform in [0, 2 pi); E[phi phi^dag] = 1
on the spins), psi_k = exp(-(H_B - E_0)/2T) phi_k (Krylov action, scipy's ``expm_multiply``; E_0
the lowest level of H_B by Lanczos, so no exponential overflows) and w_k = <psi_k|psi_k>. As
E[<psi|A|psi>] = Tr[exp(-(H_B - E_0)/T) A] for every A, the thermal average is estimated by the
ratio R_K = sum_k <psi_k|A(t)|psi_k> / sum_k w_k: the mixture of the normalised psi_k with
weights w_k / sum w. Numerator and denominator are unbiased; the ratio has the O(1/K) bias of a
ratio estimator (to leading order (R Var w - Cov(w, wA)) / (K E[w]^2)), small against its
statistical error O(1/sqrt(K d_eff)) (d_eff = Z(T)^2 / Z(T/2): the thermally occupied states,
the typicality of random vectors). The error reported is the delete-one jackknife over the K
samples (:func:`ratio_jackknife`), with E(t) taken per sample from its own initial energy so that
the estimate of E(0) is inside it. K = ``ntraj``; sample k draws its phases from the stream
SeedSequence(seed, spawn_key=(k, 1)) only (independent of trajectory k's jump stream (seed, k));
a trajectory run starts trajectory k from sample k.
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
           "check_initial", "resolve_initial", "sampled_thermal", "typical_thermal_state", "ratio_jackknife",
           "dicke_degeneracy", "INITIAL_FORMS", "SPECTRAL_LIMIT", "TYPICAL_GROUPS"]

DENSE_LIMIT = 3000
SECTOR_MIN = 200  # ground states of larger S^z-conserving H_B are found sector by sector (_ground)
SPECTRAL_LIMIT = 4096  # largest dense eigenproblem of a dicke (J_z = M sector) or thermal (spins) state
INITIAL_FORMS = "ground | product | dicke:J,M | thermal:T | thermal (with the option temperature)"
THERMAL_CUT = 1e-300  # Boltzmann weights below this (relative to the largest) are dropped
TYPICAL_BATCH = 64  # typical states propagated by exp(-H_B/2T) together (memory: dim x this x 16 bytes)
TYPICAL_GROUPS = 16  # groups of typical states (index mod G) in the jackknife curves of the figures of merit
TYPICAL_MAX_NORM = 1e4  # largest ||H_B - E_0||_1 / 2T of a sampled state (about the Krylov products per sample)


@dataclass
class InitialState:
    """A mixture sum_k p_k |psi_k><psi_k| (orthonormal members, columns of ``vectors``)."""

    vectors: np.ndarray  # (dim, n_members)
    weights: np.ndarray  # (n_members,)
    label: str  # "ground", "ground-manifold", "product", "dicke", "thermal", "thermal-sampled"
    degeneracy: int = 1
    params: dict = field(default_factory=dict)  # dicke: J, M, d_J; thermal: T, Z (relative to exp(-E0/T))
    typical: bool = False  # members are random typical states (one per sample): solvers report their spread

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
        elif self.label == "thermal-sampled":
            mixture = (f"exp(-H_B/T)/Z at T = {self.params['T']:g} sampled by {members} random-phase typical states "
                       "exp(-H_B/2T)|phi> (ratio estimator, jackknife errors)")
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
    """Parse the ``initial`` option (``ground | product | dicke:J,M | dicke:M | thermal:T | thermal``);
    checks that need no model (J >= |M|, J - M integer, T > 0). Bare ``thermal`` (T = None) takes
    its temperature from the option ``temperature`` (:func:`resolve_initial`). InputError naming `where`."""
    if not isinstance(value, str):
        raise InputError(f"{where} must be a string ({INITIAL_FORMS}), got {shown(value)}")
    text = value.strip()
    if text in ("ground", "product", "thermal"):
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


def resolve_initial(initial: str, temperature) -> str:
    """The initial state of the run options ``initial`` and ``temperature`` (both checked by
    :mod:`collective_qc.planning.options`) as one ``initial`` string: ``thermal`` with temperature
    T > 0 is ``thermal:T`` (``repr(T)``: the same float), T = 0 is ``ground`` (the limit T -> 0 of
    exp(-H_B/T)/Z: the uniform mixture over the ground manifold). InputError, one line naming both
    options, for ``thermal`` without a temperature or a temperature with any other initial state."""
    text = initial.strip()
    if temperature is None:
        if text == "thermal":
            raise InputError("initial = 'thermal' needs the option temperature (T >= 0, energy units; "
                             "or write initial = 'thermal:T')")
        return text
    if text != "thermal":
        raise InputError(f"temperature = {shown(temperature)} applies to initial = 'thermal' only, got "
                         f"initial = {shown(text)}")
    T = float(temperature)
    return "ground" if T == 0 else f"thermal:{T!r}"


def sampled_thermal(initial: str, mg) -> bool:
    """True when ``initial`` is a thermal state beyond the dense limit (spin dimension above
    SPECTRAL_LIMIT): closed and trajectory runs sample it by typical states."""
    return parse_initial(initial).kind == "thermal" and _spin_dim(mg) > SPECTRAL_LIMIT


def dicke_degeneracy(n: int, J: float) -> int:
    """d_J = C(N, N/2 - J)(2J + 1)/(N/2 + J + 1): copies of spin J among N spin-1/2 sites."""
    two_j = int(round(2 * J))
    return 2 * math.comb(n, (n - two_j) // 2) * (two_j + 1) // (n + two_j + 2)


def _spin_dim(mg) -> int:
    return math.prod(s.dim for s in mg.spins)


def check_initial(value, mg, where: str = "initial", explicit: bool = True, sampled: bool = False) -> InitialSpec:
    """Parse ``initial`` and check it against a validated model graph before anything large is
    built: dicke needs spin-1/2 sites (or one collective spin node) with |M| <= J <= N/2,
    J = N/2 mod 1; thermal needs its temperature (``thermal:T``, see :func:`resolve_initial`).
    In the explicit basis (``explicit``; not for the permutation solver, whose blocks hold every J
    and whose spectral problems are per block) a collective node holds only J = N/2, and dicke
    and thermal need a spectral problem of at most SPECTRAL_LIMIT, except a thermal state of a
    run that can take it sampled by typical states (``sampled``: closed and trajectory runs)."""
    spec = parse_initial(value, where)
    head = f"{where} {value.strip()!r}"
    if spec.kind == "thermal" and spec.T is None:
        resolve_initial(value, None)  # refused: no temperature
    if explicit and not sampled and spec.kind == "thermal" and _spin_dim(mg) > SPECTRAL_LIMIT:
        raise InputError(f"{head}: the thermal state is built by dense diagonalisation of H_B on the spins, "
                         f"dimension {_spin_dim(mg)} > {SPECTRAL_LIMIT} (methods closed and trajectories sample it "
                         "by typical states); use one of them or a smaller model")
    if explicit and spec.kind == "thermal" and spec.T:
        node = next((s for s in mg.spins if s.sites > 1), None)
        if node is not None:
            raise InputError(f"{head}: a collective spin node of {node.sites} sites holds only their J = N/2 "
                             "multiplet, so its Gibbs state would leave out every other total-spin sector of the "
                             "N sites; use method permutation (every J, with its multiplicity) or "
                             "representation='explicit'")
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
    """Ground manifold, by total-S^z sectors when H conserves it and has more than SECTOR_MIN states
    (the sectors' dense solves are cheaper than one: 0.03 s against 0.28 s for a 10-site chain on
    one core; past DENSE_LIMIT one dense solve is out of reach)."""
    H = sp.csr_matrix(H)
    diagonal = (H - sp.diags(H.diagonal())).count_nonzero() == 0
    if H.shape[0] > SECTOR_MIN and not diagonal and len(np.unique(np.round(sz, 6))) > 1 and conserves(sz, H):
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


def initial_state(ops: Operators, kind: str = "ground", samples: int | None = None, seed: int = 0) -> InitialState:
    """The initial state of a run: ``ground`` (zero-temperature state of H_B), ``product``,
    ``dicke:J,M`` or ``thermal:T`` (see the module docstring).

    For models with a cavity, ``ground`` takes the ground manifold of H_B restricted to
    the spins, with the cavity in its Fock state (H_B does not act on the cavity); so do
    ``dicke`` and ``thermal``.

    Parameters
    ----------
    samples : int, optional
        A thermal state whose spin dimension exceeds SPECTRAL_LIMIT is sampled by this many
        typical states (:func:`typical_thermal_state`); None: such a state is refused.
    seed : int
        Seed of the typical states (sample k uses the stream (seed, k, 1) only).
    """
    spec = check_initial(kind, ops.model_graph, sampled=samples is not None)
    if spec.kind in ("dicke", "thermal") and ops.symmetry:
        raise InputError(f"initial {kind!r} needs the full basis, not a symmetry block")
    if spec.kind == "product":
        return InitialState(product_state(ops)[:, None], np.ones(1), "product")
    if spec.kind == "dicke":
        return dicke_state(ops, spec.J, spec.M)
    if spec.kind == "thermal":
        if samples is not None and _spin_dim(ops.model_graph) > SPECTRAL_LIMIT:
            return typical_thermal_state(ops, spec.T, samples, seed)
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


def _lowest_level(H: sp.csr_matrix) -> float:
    """The lowest eigenvalue of a Hermitian sparse matrix (dense below DENSE_LIMIT, else Lanczos)."""
    if H.shape[0] <= DENSE_LIMIT:
        return float(np.linalg.eigvalsh(H.toarray())[0])
    v0 = np.random.default_rng(0).standard_normal(H.shape[0])  # fixed start: the same number on every run
    return float(spla.eigsh(H, k=1, which="SA", tol=1e-10, v0=v0, return_eigenvectors=False)[0])


def _random_phases(dim: int, seed: int, k: int) -> np.ndarray:
    """Sample k's random-phase vector: entries exp(i theta), theta uniform in [0, 2 pi), from the
    stream SeedSequence(seed, spawn_key=(k, 1)) only."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(k, 1)))
    return np.exp(2j * np.pi * rng.random(dim))


def typical_thermal_state(ops: Operators, T: float, samples: int, seed: int = 0) -> InitialState:
    """exp(-H_B/T)/Z on the spins (cavity in its Fock state) sampled by K = `samples` random-phase
    typical states psi_k = exp(-(H_B - E_0)/2T) phi_k (see the module docstring): the mixture of
    the normalised psi_k with weights w_k / sum w, w_k = <psi_k|psi_k>, flagged ``typical``.

    Parameters
    ----------
    T : float
        Temperature > 0, the model's energy unit (k_B = 1).
    samples : int
        K >= 2.
    seed : int
        Sample k uses the stream SeedSequence(seed, spawn_key=(k, 1)) only: the first K' samples of
        a run with K > K' are those of the run with K'.
    """
    if samples < 2:
        raise InputError(f"a sampled thermal state needs at least 2 typical states (ntraj), got {samples}")
    sector = np.flatnonzero(_fock_mask(ops))
    H = sp.csr_matrix(ops.H_B[sector][:, sector])
    e0 = _lowest_level(H)
    A = (H - e0 * sp.identity(H.shape[0], format="csr")) * (-0.5 / T)  # exp(A) has norm 1
    norm = float(abs(A).sum(axis=0).max())
    if norm > TYPICAL_MAX_NORM:
        raise InputError(f"initial 'thermal:{T:g}': exp(-H_B/2T) would take about {norm:.3g} operator products per "
                         f"typical state (||H_B - E_0|| / 2T > {TYPICAL_MAX_NORM:g}); use a larger temperature, or "
                         "temperature = 0 (the ground state)")
    psi = np.empty((len(sector), samples), dtype=np.complex128)
    for start in range(0, samples, TYPICAL_BATCH):
        cols = range(start, min(samples, start + TYPICAL_BATCH))
        phi = np.stack([_random_phases(len(sector), seed, k) for k in cols], axis=1)
        psi[:, cols.start:cols.stop] = spla.expm_multiply(A, phi)
    w = np.einsum("ik,ik->k", psi.conj(), psi).real
    if not np.all(np.isfinite(w)) or np.any(w <= 0):  # a zero vector: exp(A) underflowed (T far below the gap)
        raise InputError(f"initial 'thermal:{T:g}': the typical states underflow at this temperature; "
                         "use a larger T or temperature = 0 (the ground state)")
    vecs = _embedded(ops, sector, psi / np.sqrt(w))
    return InitialState(vecs, w / w.sum(), "thermal-sampled", degeneracy=1, typical=True,
                        params={"T": float(T), "E0": e0, "samples": int(samples), "seed": int(seed),
                                "Z_relative": float(w.mean())})


def ratio_jackknife(weights: np.ndarray, samples: np.ndarray, groups: int = TYPICAL_GROUPS):
    """The ratio estimator R = sum_k w_k X_k / sum_k w_k over K samples, its delete-one jackknife
    standard error and its delete-one-group replicates.

    Parameters
    ----------
    weights : (K,) array
        w_k > 0 (any common scale).
    samples : (K, ...) array
        X_k, e.g. per-sample time series (K, n_t).
    groups : int
        G = min(groups, K) groups (index mod G) of the replicates.

    Returns
    -------
    mean : (...) array
        R.
    stderr : (...) array
        sqrt((K - 1)/K sum_k (R_(k) - mean_k R_(k))^2), R_(k) the ratio without sample k.
    replicates : (G, ...) array
        The ratio without the samples of group g (for jackknife errors of derived figures).
    """
    w = np.asarray(weights, float).reshape(-1, *([1] * (samples.ndim - 1)))
    n = w.shape[0]
    wx = w * samples
    total_w, total = float(w.sum()), wx.sum(axis=0)
    mean = total / total_w
    loo = (total - wx) / (total_w - w)
    stderr = np.sqrt((n - 1) / n * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    g_count = min(groups, n)
    reps = np.empty((g_count, *samples.shape[1:]))
    for g in range(g_count):
        reps[g] = (total - wx[g::g_count].sum(axis=0)) / (total_w - float(w[g::g_count].sum()))
    return mean, stderr, reps
