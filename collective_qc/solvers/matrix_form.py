"""The Lindbladian applied to dense density matrices in matrix form (no super-operator).

For a Hermitian matrix R (the density matrix rho, or its tangent X = d rho / d lambda),

    L_g(R) = M + M^dag + sum_k L_k R L_k^dag,     M = -i H_eff(g) R,
    H_eff(g) = H_0 + g V - (i/2) sum_k L_k^dag L_k,   g = lambda f(t)

(paper Eqs. 28-38), and the tangent equation dX/dt = L_g(X) - i f [V, rho] has the same form
with M_X = -i H_eff(g) X - i f V rho. Cost per application: two sparse-times-dense products
(O(nnz(H) dim)) and, for each *monomial* jump (at most one non-zero per row and column: S^z,
S^-, a), an O(dim^2) gather (L R L^dag)_ij = c_i conj(c_j) R[p_i, p_j]. All diagonal jumps are
merged into one weight matrix W_ij = sum_k d^k_i conj(d^k_j). Other jumps use sparse products.

The kernels compute ``out = alpha (L_g(W) - c W) + beta P`` for the pair (rho part, X part):
with alpha = 1, c = beta = 0 this is the right-hand side of the ODE, and with the Chebyshev
scaling it is one step of the three-term recurrence (:mod:`.chebyshev`).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

from ..operators import Operators

__all__ = ["MatrixFormLindbladian", "axpy2"]


@nb.njit(cache=True, parallel=True)
def axpy2(a, XR, XY, AR, AY):
    """(AR, AY) += a (XR, XY) for same-shape 2-d complex arrays."""
    for i in nb.prange(XR.shape[0]):
        for j in range(XR.shape[1]):
            AR[i, j] += a * XR[i, j]
            AY[i, j] += a * XY[i, j]


@nb.njit(cache=True, parallel=True)
def _left_products(hp, hi, hd, vp, vi, vd, gf, R, Y, MR, MY):
    """MR = -i (H + g V) R,  MY = -i ((H + g V) Y + f V R);  gf = (g, f); CSR operands."""
    g, f = gf[0], gf[1]
    dim = R.shape[0]
    for i in nb.prange(dim):
        ar = np.zeros(dim, dtype=np.complex128)
        ay = np.zeros(dim, dtype=np.complex128)
        for q in range(hp[i], hp[i + 1]):
            h = hd[q]
            col = hi[q]
            for j in range(dim):
                ar[j] += h * R[col, j]
                ay[j] += h * Y[col, j]
        for q in range(vp[i], vp[i + 1]):
            v = vd[q]
            col = vi[q]
            for j in range(dim):
                ar[j] += g * v * R[col, j]
                ay[j] += v * (g * Y[col, j] + f * R[col, j])
        for j in range(dim):
            MR[i, j] = -1j * ar[j]
            MY[i, j] = -1j * ay[j]


@nb.njit(cache=True, parallel=True)
def _combine(MR, MY, R, Y, PR, PY, W, perm, coef, XR, XY, sc, outR, outY):
    """out = alpha (M + M^dag + W o R + sum_m monomial jumps + extra - c R) + beta P.

    sc = (alpha, c, beta). XR, XY: extra terms (general jumps) or empty (0, 0) arrays.
    outR/outY may alias PR/PY (element-wise update).
    """
    alpha, c, beta = sc[0], sc[1], sc[2]
    dim = R.shape[0]
    nm = perm.shape[0]
    has_w = W.shape[0] == dim
    has_x = XR.shape[0] == dim
    for i in nb.prange(dim):
        for j in range(dim):
            sr = MR[i, j] + np.conj(MR[j, i]) - c * R[i, j]
            sy = MY[i, j] + np.conj(MY[j, i]) - c * Y[i, j]
            if has_w:
                sr += W[i, j] * R[i, j]
                sy += W[i, j] * Y[i, j]
            if has_x:
                sr += XR[i, j]
                sy += XY[i, j]
            for m in range(nm):
                pi = perm[m, i]
                pj = perm[m, j]
                if pi >= 0 and pj >= 0:
                    w = coef[m, i] * np.conj(coef[m, j])
                    sr += w * R[pi, pj]
                    sy += w * Y[pi, pj]
            if beta != 0:
                outR[i, j] = alpha * sr + beta * PR[i, j]
                outY[i, j] = alpha * sy + beta * PY[i, j]
            else:
                outR[i, j] = alpha * sr
                outY[i, j] = alpha * sy


def _monomial(L: sp.csr_matrix):
    """(perm, coef) with L[i, perm[i]] = coef[i] (perm -1 for empty rows), or None."""
    L = sp.csr_matrix(L)
    L.eliminate_zeros()
    counts = np.diff(L.indptr)
    if np.any(counts > 1) or np.any(np.bincount(L.indices, minlength=L.shape[1]) > 1):
        return None
    perm = np.full(L.shape[0], -1, dtype=np.int64)
    coef = np.zeros(L.shape[0], dtype=np.complex128)
    rows = np.repeat(np.arange(L.shape[0]), counts)
    perm[rows] = L.indices
    coef[rows] = L.data
    return perm, coef


class MatrixFormLindbladian:
    """The augmented generator (rho, X) -> (L_g rho, L_g X - i f [V, rho]) in matrix form.

    Parameters
    ----------
    ops : Operators
    drive : float  lambda (energy units)
    """

    def __init__(self, ops: Operators, drive: float):
        self.dim = dim = ops.dim
        self.drive = float(drive)
        G = sp.csr_matrix((dim, dim), dtype=np.complex128)
        diag = np.zeros((dim, dim), dtype=np.complex128) if ops.jumps else None
        perms, coefs, self.general = [], [], []
        n_diag = 0
        for j in ops.jumps:
            L = sp.csr_matrix(j.matrix, dtype=np.complex128)
            G = G + (L.conj().T @ L)
            mono = _monomial(L)
            if mono is not None and np.all((mono[0] == np.arange(dim)) | (mono[0] < 0)):
                d = np.where(mono[0] >= 0, mono[1], 0.0)
                diag += np.outer(d, d.conj())
                n_diag += 1
            elif mono is not None:
                perms.append(mono[0])
                coefs.append(mono[1])
            else:
                self.general.append(L)
        heff = (sp.csr_matrix(ops.H0, dtype=np.complex128) - 0.5j * G).tocsr()
        heff.sort_indices()
        V = sp.csr_matrix(ops.V, dtype=np.complex128)
        V.sort_indices()
        self._h = (heff.indptr.astype(np.int64), heff.indices.astype(np.int64), heff.data)
        self._v = (V.indptr.astype(np.int64), V.indices.astype(np.int64), V.data)
        self.W = diag if n_diag else np.zeros((0, 0), dtype=np.complex128)
        self.perm = np.array(perms, dtype=np.int64).reshape(len(perms), dim)
        self.coef = np.array(coefs, dtype=np.complex128).reshape(len(coefs), dim)
        self.decay = float(abs(sp.linalg.norm(G, 1))) if ops.jumps else 0.0  # >= max decay rate
        self._empty = np.zeros((0, 0), dtype=np.complex128)
        self.MR = np.empty((dim, dim), dtype=np.complex128)
        self.MY = np.empty((dim, dim), dtype=np.complex128)

    def apply(self, f: float, R, Y, outR, outY, alpha=1.0, c=0.0, beta=0.0, PR=None, PY=None):
        """out = alpha (A_f(R, Y) - c (R, Y)) + beta (PR, PY); A_f the augmented generator.

        R, Y Hermitian (dim, dim) C-contiguous complex arrays; out may alias P, not R or Y.
        """
        gf = np.array([self.drive * f, f])
        _left_products(*self._h, *self._v, gf, R, Y, self.MR, self.MY)
        XR = XY = self._empty
        if self.general:
            XR = np.zeros_like(R)
            XY = np.zeros_like(Y)
            for L in self.general:
                XR += L @ (L @ R).conj().T
                XY += L @ (L @ Y).conj().T
        if PR is None:
            PR, PY = outR, outY
            beta = 0.0
        sc = np.array([alpha, c, beta], dtype=np.complex128)
        _combine(self.MR, self.MY, R, Y, PR, PY, self.W, self.perm, self.coef, XR, XY, sc, outR, outY)
