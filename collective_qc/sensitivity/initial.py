"""How the initial state moves with theta (through H_B).

- ground state (``ground``; a ``ground-manifold`` mixture member by member):
  d psi_0 = -(H_B - E_g)^+ (1 - P_0) dH_B psi_0, on the spins with the cavity in its Fock state, by
  conjugate gradients on H_B - E_g (residual checked to 1e-12), else one sparse LU factorisation of
  the bordered system [[H_B - E_g, X], [X^dag, 0]] (X the ground members; nonsingular, and its
  solution is orthogonal to X). A degenerate ground level
  whose perturbation P_0 dH_B P_0 is not a multiple of P_0 splits: the zero-temperature state is
  then not differentiable, refused.
- thermal state exp(-H_B/T)/Z: the Daleckii-Krein formula in the eigenbasis of H_B,
  d g(H) = U [(g_i - g_j)/(e_i - e_j)]_ij o (U^dag dH U) U^dag (g'(e_i) on the diagonal and inside
  degenerate levels), with the normalisation d rho = dg/Z - rho Tr dg / Z (dense diagonalisation,
  at most DENSE_STATE_LIMIT states on the spins).
- product |g...g> and Dicke states do not depend on theta (None).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import cg, splu

from ..core.errors import InputError

__all__ = ["state_tangents", "ground_split", "sector_solver", "DENSE_STATE_LIMIT"]

DENSE_STATE_LIMIT = 4096  # spin-sector dimension of the dense eigendecomposition (thermal states)


def _sector(ops) -> np.ndarray:
    """Basis states with every mode in its initial Fock state (the spins' space of the state)."""
    mask = np.ones(ops.dim, dtype=bool)
    for occ, m in zip(ops.mode_occupation, ops.model_graph.modes, strict=True):
        mask &= np.isclose(occ, m.photons)
    return np.flatnonzero(mask)


def _spectrum(ops, sector):
    if len(sector) > DENSE_STATE_LIMIT:
        raise InputError(f"sensitivities of a {len(sector)}-dimensional thermal state need a dense "
                         f"diagonalisation (at most {DENSE_STATE_LIMIT}); use initial='product' or a smaller model")
    return np.linalg.eigh(ops.H_B[sector][:, sector].toarray())


def state_tangents(ops, init, dHBs: list, names: list, density: bool) -> list:
    """Per parameter: d(initial state) as (dim, members) member tangents (state vectors) or a
    (dim, dim) matrix (``density``), or None when the state does not depend on it."""
    if init.label in ("product", "dicke") or all(d is None for d in dHBs):
        return [None] * len(dHBs)
    if init.label == "thermal-sampled":
        raise InputError("sensitivities of a thermal state sampled by typical states are not available "
                         "(use a dense thermal state: a smaller model)")
    sector = _sector(ops)
    H = ops.H_B[sector][:, sector]
    thermal = init.label == "thermal"
    w, v = _spectrum(ops, sector) if thermal else (None, None)
    solve = None if thermal else _bordered(H, init.vectors[sector])
    out = []
    for dHB, name in zip(dHBs, names, strict=True):
        if dHB is None:
            out.append(None)
            continue
        D = dHB[sector][:, sector]
        if thermal:
            full = np.zeros((ops.dim, ops.dim), dtype=np.complex128)
            full[np.ix_(sector, sector)] = _thermal(w, v, D.toarray(), init.params["T"])
            out.append(full)
            continue
        a = _ground(solve, D, init.vectors[sector], name)
        full = np.zeros((ops.dim, a.shape[1]), dtype=np.complex128)
        full[sector] = a
        out.append(full @ np.diag(init.weights) @ init.vectors.conj().T + init.vectors @ np.diag(init.weights)
                   @ full.conj().T if density else full)
    return out


def sector_solver(ops, init):
    """(sector indices, b -> (H_B - E_g)^+ b on the sector) of a ground or ground-manifold state."""
    sector = _sector(ops)
    return sector, _bordered(ops.H_B[sector][:, sector], init.vectors[sector])


def _bordered(H, X):
    """b -> (H - E_g)^+ b for b orthogonal to the ground members X: conjugate gradients on H - E_g
    (positive semi-definite; the Krylov space of b stays orthogonal to its kernel, projected again at
    the end), residual checked to 1e-12; otherwise the sparse LU of [[H - E_g, X], [X^dag, 0]]."""
    X = np.asarray(X, dtype=np.complex128)
    e0 = float(np.real(X[:, 0].conj() @ (H @ X[:, 0])))
    n, m = X.shape
    A = (sp.csr_matrix(H, dtype=np.complex128) - e0 * sp.identity(n, format="csr")).tocsr()

    def by_lu(b):
        K = sp.bmat([[A, sp.csr_matrix(X)], [sp.csr_matrix(X.conj().T), None]], format="csc")
        rhs = np.vstack([b, np.zeros((m, b.shape[1]), dtype=np.complex128)])
        return splu(K, permc_spec="MMD_AT_PLUS_A").solve(rhs)[:n]

    def solve(b):
        out = np.empty_like(b)
        for j in range(b.shape[1]):
            x, info = cg(A, b[:, j], rtol=1e-14, atol=0.0, maxiter=20 * n)
            x = x - X @ (X.conj().T @ x)
            if info != 0 or np.linalg.norm(A @ x - b[:, j]) > 1e-12 * max(np.linalg.norm(b[:, j]), 1e-300):
                return by_lu(b)
            out[:, j] = x
        return out

    return solve


def _ground(solve, D, X, name):
    """-(H - E_g)^+ (1 - P_0) D X for the ground members X (columns), refusing a split degenerate level."""
    DX = D @ X
    return -solve(DX - X @ ground_split(D, X, name, DX))


def ground_split(D, X, name, DX=None) -> np.ndarray:
    """X^dag D X for the ground members X; InputError when D splits their degenerate level."""
    Q = X.conj().T @ (D @ X if DX is None else DX)
    m = X.shape[1]
    if m > 1:
        spread = np.max(np.abs(Q - np.trace(Q) / m * np.eye(m)))
        if spread > 1e-9 * max(1.0, abs(D).max()):
            raise InputError(f"sensitivity {name!r}: the {m}-fold degenerate ground level of H_B is split by it "
                             "(the zero-temperature state is not differentiable there); use a thermal state or "
                             "break the degeneracy")
    return Q


def daleckii_krein(E, p, T: float) -> np.ndarray:
    """The divided differences F_ab = (p_a - p_b) / (E_a - E_b) of Gibbs weights p ~ exp(-E/T)
    (-p_a / T where E_a = E_b), in the form p_b expm1(-(E_a - E_b)/T) / (E_a - E_b) that keeps its
    digits for small gaps: d exp(-H/T) = V (F o V^dag dH V) V^dag (Daleckii-Krein)."""
    gap = E[:, None] - E[None, :]
    small = np.abs(gap) <= 1e-12 * max(float(np.max(np.abs(E))), 1.0)
    return np.where(small, -p[None, :] / T, p[None, :] * np.expm1(-gap / T) / np.where(small, 1.0, gap))


def _thermal(w, v, D, T):
    """d rho of rho = exp(-H/T)/Z by the Daleckii-Krein formula (eigenvalues w, vectors v, dH = D)."""
    g = np.exp(-(w - w[0]) / T)
    z = g.sum()
    dg = v @ (daleckii_krein(w, g, T) * (v.conj().T @ D @ v)) @ v.conj().T
    rho = (v * (g / z)) @ v.conj().T
    return dg / z - rho * np.trace(dg).real / z
