"""Exact Lindblad solver: rho(t) and its tangent X = d rho / d lambda, integrated together.

    d rho/dt = L_f rho,   L_f rho = -i[H_0 + lambda f V, rho] + sum_k (L_k rho L_k^dag - {L_k^dag L_k, rho}/2)
    dX/dt    = L_f X - i f [V, rho]

(paper Eqs. 28-38). Column-stacked vectorisation,
vec(A X B) = (B^T kron A) vec(X); each constant piece of the protocol is
propagated exactly (Taylor exponentials of the sparse super-operator).

Observables (all exact):
    E(t)   = Tr[H_B rho] - E(0)
    C_Q(t) = Tr[H_B X]
    P(t)   = Tr[L_f(rho) H_B] = Tr[rho (lambda f i[V, H_B] + D^dag(H_B) + i[H_aux, H_B])],
    D^dag(A) = sum_k (L_k^dag A L_k - {L_k^dag L_k, A}/2)  (includes the dissipative part).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..operators import Operators
from ..protocols import Protocol
from .closed import ClosedSolution, Propagator, sample

__all__ = ["liouvillian_parts", "solve_lindblad", "estimate_lindblad_memory"]


def estimate_lindblad_memory(dim: int, nnz_per_row: int, n_jumps: int) -> float:
    """Bytes for the augmented super-operator and work vectors."""
    d2 = dim * dim
    nnz = d2 * (2 * nnz_per_row + 3 * n_jumps + 2)
    return 2.5 * nnz * 20 + 40 * d2 * 16


def _spre(A, eye):
    return sp.kron(eye, A, format="csr")


def _spost(A, eye):
    return sp.kron(A.T, eye, format="csr")


def liouvillian_parts(ops: Operators):
    """(L0, LV): L0 = -i[H_0, .] + dissipator, LV = -i[V, .] (super-operators, CSR)."""
    dim = ops.dim
    eye = sp.identity(dim, format="csr", dtype=np.complex128)
    H0 = ops.H0.astype(np.complex128)
    V = ops.V.astype(np.complex128)
    L0 = -1j * (_spre(H0, eye) - _spost(H0, eye))
    for j in ops.jumps:
        L = j.matrix.astype(np.complex128)
        LdL = (L.conj().T @ L).tocsr()
        L0 = L0 + sp.kron(L.conj(), L, format="csr") - 0.5 * _spre(LdL, eye) - 0.5 * _spost(LdL, eye)
    LV = -1j * (_spre(V, eye) - _spost(V, eye))
    return L0.tocsr(), LV.tocsr()


def _adjoint_dissipator(ops: Operators, A):
    out = sp.csr_matrix(A.shape, dtype=np.complex128)
    for j in ops.jumps:
        L = j.matrix.astype(np.complex128)
        Ld = L.conj().T
        out = out + Ld @ A @ L - 0.5 * (Ld @ L @ A + A @ Ld @ L)
    if ops.H_aux is not None:
        out = out + 1j * (ops.H_aux @ A - A @ ops.H_aux)
    return out.tocsr()


def solve_lindblad(ops: Operators, psi0: np.ndarray, weights: np.ndarray, drive: float,
                   protocol: Protocol, times: np.ndarray, progress=None, diagonals=None,
                   extras=None) -> ClosedSolution:
    """Exact density-matrix evolution of the mixture sum_k w_k |psi_k><psi_k|.

    Returns the same sample/evaluator structure as the closed solver. ``diagonals``
    (n_obs, dim): diagonal observables Tr[D rho]; ``extras(rho)`` -> 1-d array: further
    observables of the density matrix; both sampled into ``solution.extras``.
    """
    dim = ops.dim
    L0, LV = liouvillian_parts(ops)

    def make(f: float):
        L = (L0 + (drive * f) * LV).tocsr()
        if f == 0.0:
            return sp.block_diag([L, L], format="csr")
        return sp.bmat([[L, None], [f * LV, L]], format="csr")

    prop = Propagator(make)
    rho0 = (psi0 * weights) @ psi0.conj().T
    y = np.zeros((2 * dim * dim, 1), dtype=np.complex128)
    y[: dim * dim, 0] = rho0.reshape(-1, order="F")
    HB = ops.H_B.astype(np.complex128)
    hb_vec = np.asarray(HB.T.toarray()).reshape(-1, order="F")  # Tr[A rho] = vec(A^T) . vec(rho)
    K0 = _adjoint_dissipator(ops, HB)
    KV = (1j * (ops.V @ HB - HB @ ops.V)).tocsr()
    k0_vec = np.asarray(K0.T.toarray()).reshape(-1, order="F")
    kv_vec = np.asarray(KV.T.toarray()).reshape(-1, order="F")
    d2 = dim * dim

    def observables(yy, f):
        r, x = yy[:d2, 0], yy[d2:, 0]
        e = np.real(hb_vec @ r)
        c = np.real(hb_vec @ x)
        p = np.real(k0_vec @ r + drive * f * (kv_vec @ r))
        return e, p, c

    extra = None
    if diagonals is not None or extras is not None:
        D = np.zeros((0, dim)) if diagonals is None else np.asarray(diagonals, float)

        def extra(yy):
            rho = yy[:d2, 0].reshape(dim, dim, order="F")
            out = D @ np.real(np.diagonal(rho))
            if extras is not None:
                out = np.concatenate([out, np.atleast_1d(extras(rho))])
            return out

    e0 = observables(y, 0.0)[0]
    return sample(prop, protocol, y, times, observables, e0, progress, extra)
