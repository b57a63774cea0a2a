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

from .errors import InputError
from .operators import Operators

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


def ground_manifold(H: sp.spmatrix, rtol: float = 1e-9, k0: int = 6):
    """Lowest eigenvalue of a Hermitian matrix and an orthonormal basis of its eigenspace.

    Degeneracy is decided with tolerance rtol * max(1, |E0|, spread of computed levels).
    """
    dim = H.shape[0]
    if dim <= DENSE_LIMIT:
        w, v = np.linalg.eigh(H.toarray())
    else:
        k = min(k0, dim - 2)
        while True:
            w, v = spla.eigsh(H, k=k, which="SA", tol=1e-12)
            order = np.argsort(w)
            w, v = w[order], v[:, order]
            tol = rtol * max(1.0, abs(w[0]))
            if np.count_nonzero(w - w[0] < tol) < k or k >= dim - 2:
                break
            k = min(2 * k, dim - 2)
    tol = rtol * max(1.0, abs(w[0]), abs(w[-1] - w[0]) * 1e-3)
    mask = w - w[0] < tol
    vecs = v[:, mask]
    if np.isrealobj(vecs) or np.allclose(vecs.imag, 0):
        vecs = np.ascontiguousarray(vecs.real)
    return float(w[0]), vecs


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
        e0, sub = ground_manifold(H[sector][:, sector])
        vecs = np.zeros((ops.dim, sub.shape[1]), dtype=sub.dtype)
        vecs[sector] = sub
    else:
        e0, vecs = ground_manifold(H)
    g = vecs.shape[1]
    return InitialState(vecs, np.full(g, 1.0 / g), "ground" if g == 1 else "ground-manifold", degeneracy=g)
