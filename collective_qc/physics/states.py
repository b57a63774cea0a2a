"""Initial states: ground manifold of H_B, product |g...g> (with a cavity Fock state).

The default initial state is the zero-temperature state of H_B: the uniform
mixture over its ground manifold (a single pure state when the ground level is
non-degenerate). Exact solvers use the mixture directly; trajectories sample its
members.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from ..core.errors import InputError
from .operators import Operators, conserves

__all__ = ["InitialState", "initial_state", "ground_manifold", "product_state"]

DENSE_LIMIT = 3000


@dataclass
class InitialState:
    """A mixture sum_k p_k |psi_k><psi_k| (orthonormal members, columns of ``vectors``)."""

    vectors: np.ndarray  # (dim, n_members)
    weights: np.ndarray  # (n_members,)
    label: str  # "ground", "ground-manifold", "product"
    degeneracy: int = 1

    @property
    def is_pure(self) -> bool:
        return self.vectors.shape[1] == 1

    def describe(self) -> dict:
        return {"kind": self.label, "members": int(self.vectors.shape[1]), "degeneracy": self.degeneracy,
                "mixture": "uniform over the ground manifold" if self.vectors.shape[1] > 1 else "pure"}


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
    """The initial state of a run: ``ground`` (zero-temperature state of H_B) or ``product``.

    For models with a cavity, ``ground`` takes the ground manifold of H_B restricted to
    the spins, with the cavity in its Fock state (H_B does not act on the cavity).
    """
    if kind == "product":
        return InitialState(product_state(ops)[:, None], np.ones(1), "product")
    if kind != "ground":
        raise InputError(f"unknown initial state {kind!r} (use 'ground' or 'product')")
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
