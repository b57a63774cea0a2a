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

__all__ = ["MatrixFormLindbladian", "axpy2", "norm2"]


@nb.njit(cache=True, parallel=True)
def axpy2(a, XR, XY, AR, AY):
    """(AR, AY) += a (XR, XY) for same-shape 2-d complex arrays."""
    for i in nb.prange(XR.shape[0]):
        for j in range(XR.shape[1]):
            AR[i, j] += a * XR[i, j]
            AY[i, j] += a * XY[i, j]


@nb.njit(cache=True, parallel=True)
def _left_products(hp, hi, hd, dg, vp, vi, vd, f, R, Y, MR, MY):
    """MR = -i H R,  MY = -i (H Y + f V R);  H = diag(dg) + CSR (hp, hi, hd) (off-diagonal)."""
    dim = R.shape[0]
    for i in nb.prange(dim):
        ar = np.empty(dim, dtype=np.complex128)
        ay = np.empty(dim, dtype=np.complex128)
        d = dg[i]
        for j in range(dim):
            ar[j] = d * R[i, j]
            ay[j] = d * Y[i, j]
        for q in range(hp[i], hp[i + 1]):
            h = hd[q]
            col = hi[q]
            for j in range(dim):
                ar[j] += h * R[col, j]
                ay[j] += h * Y[col, j]
        for q in range(vp[i], vp[i + 1]):
            v = f * vd[q]
            col = vi[q]
            for j in range(dim):
                ay[j] += v * R[col, j]
        for j in range(dim):
            MR[i, j] = complex(ar[j].imag, -ar[j].real)
            MY[i, j] = complex(ay[j].imag, -ay[j].real)


@nb.njit(cache=True, inline="always")
def _upper_row(i, MR, MY, R, Y, PR, PY, W, pos, idx, src, coef, start, sc, outR, outY):
    """Row i, columns j >= i, of the Hermitian result; mirrored into column i."""
    alpha, c, beta = sc[0], sc[1], sc[2]
    dim = R.shape[0]
    has_w = W.shape[0] == dim
    for j in range(i, dim):
        sr = MR[i, j] + np.conj(MR[j, i]) - c * R[i, j]
        sy = MY[i, j] + np.conj(MY[j, i]) - c * Y[i, j]
        if has_w:
            sr += W[i, j] * R[i, j]
            sy += W[i, j] * Y[i, j]
        outR[i, j] = alpha * sr + (beta * PR[i, j] if beta != 0 else 0.0)
        outY[i, j] = alpha * sy + (beta * PY[i, j] if beta != 0 else 0.0)
    for m in range(len(start) - 1):
        p = pos[m, i]
        if p < 0:
            continue
        pi = src[p]
        ci = alpha * coef[p]
        for b in range(p, start[m + 1]):
            w = ci * np.conj(coef[b])
            outR[i, idx[b]] += w * R[pi, src[b]]
            outY[i, idx[b]] += w * Y[pi, src[b]]
    for j in range(i + 1, dim):
        outR[j, i] = np.conj(outR[i, j])
        outY[j, i] = np.conj(outY[i, j])


@nb.njit(cache=True, parallel=True)
def _combine(MR, MY, R, Y, PR, PY, W, jumps, sc, outR, outY):
    """out = alpha (M + M^dag + W o R + sum_m L_m R L_m^dag - c R) + beta P, for R and Y.

    Only j >= i is computed (the result is Hermitian); rows i and dim-1-i share an iteration
    (balanced triangle). sc = (alpha, c, beta); W: merged diagonal-jump weights (real) or an
    empty array; jumps = (pos, idx, src, coef, start): monomial jump m acts on rows
    idx[start[m]:start[m+1]] (ascending) with L[idx, src] = coef, pos[m, i] the position of
    row i there or -1. out may alias P (each element is read before it is written).
    """
    pos, idx, src, coef, start = jumps
    dim = R.shape[0]
    for q in nb.prange((dim + 1) // 2):
        _upper_row(q, MR, MY, R, Y, PR, PY, W, pos, idx, src, coef, start, sc, outR, outY)
        if dim - 1 - q != q:
            _upper_row(dim - 1 - q, MR, MY, R, Y, PR, PY, W, pos, idx, src, coef, start, sc, outR, outY)


@nb.njit(cache=True, parallel=True)
def _row_norms2(R, Y):
    """Squared norms of the rows of the pair (R, Y)."""
    acc = np.zeros(R.shape[0])
    for i in nb.prange(R.shape[0]):
        s = 0.0
        for j in range(R.shape[1]):
            s += R[i, j].real ** 2 + R[i, j].imag ** 2 + Y[i, j].real ** 2 + Y[i, j].imag ** 2
        acc[i] = s
    return acc


def norm2(R, Y):
    """Frobenius norm of the pair (R, Y); rows summed in order (``acc.sum()`` inside a parallel
    kernel is a parallel reduction whose last bits depend on the thread count)."""
    from .chebyshev import ordered_sum

    return float(np.sqrt(ordered_sum(_row_norms2(R, Y))))


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
        G, self.W, self._jumps, self.general = _classify_jumps(ops.jumps, dim)
        self.H0 = (sp.csr_matrix(ops.H0, dtype=np.complex128) - 0.5j * G).tocsr()
        self.V = sp.csr_matrix(ops.V)
        self._v = _csr(self.V)
        self._hf = {}
        self.decay = float(abs(sp.linalg.norm(G, 1))) if ops.jumps else 0.0  # >= max decay rate
        self.MR = np.empty((dim, dim), dtype=np.complex128)
        self.MY = np.empty((dim, dim), dtype=np.complex128)

    def _h(self, f: float):
        """H_eff(lambda f) as (off-diagonal CSR arrays, complex diagonal), cached per f."""
        if f not in self._hf:
            H = (self.H0 + (self.drive * f) * self.V).tocsr()
            dg = np.ascontiguousarray(H.diagonal(), dtype=np.complex128)
            off = (H - sp.diags(H.diagonal())).tocsr()
            off.eliminate_zeros()
            if len(self._hf) > 8:
                self._hf.clear()
            self._hf[f] = (*_csr(off), dg)
        return self._hf[f]

    def apply(self, f: float, R, Y, outR, outY, alpha=1.0, c=0.0, beta=0.0, PR=None, PY=None):
        """out = alpha (A_f(R, Y) - c (R, Y)) + beta (PR, PY); A_f the augmented generator.

        R, Y Hermitian (dim, dim) C-contiguous complex arrays; out may alias P, not R or Y.
        """
        _left_products(*self._h(f), *self._v, float(f), R, Y, self.MR, self.MY)
        if PR is None:
            PR, PY = outR, outY
            beta = 0.0
        sc = np.array([alpha, c, beta], dtype=np.complex128)
        _combine(self.MR, self.MY, R, Y, PR, PY, self.W, self._jumps, sc, outR, outY)
        for L in self.general:
            outR += alpha * (L @ (L @ R).conj().T)
            outY += alpha * (L @ (L @ Y).conj().T)


def _classify_jumps(jumps, dim):
    """(G = sum L^dag L, merged diagonal weights W, monomial pack, general jumps)."""
    G = sp.csr_matrix((dim, dim), dtype=np.complex128)
    W = np.zeros((dim, dim), dtype=np.complex128)
    idx, src, coef, start, general = [], [], [], [0], []
    n_diag = 0
    for j in jumps:
        L = sp.csr_matrix(j.matrix, dtype=np.complex128)
        G = G + (L.conj().T @ L)
        mono = _monomial(L)
        if mono is None:
            general.append(L)
            continue
        rows = np.flatnonzero(mono[0] >= 0)
        if np.all(mono[0][rows] == rows):  # diagonal: merged into W
            d = np.where(mono[0] >= 0, mono[1], 0.0)
            W += np.outer(d, d.conj())
            n_diag += 1
        else:
            idx.append(rows)
            src.append(mono[0][rows])
            coef.append(mono[1][rows])
            start.append(start[-1] + len(rows))
    pos = np.full((len(idx), dim), -1, dtype=np.int64)
    for m, rows in enumerate(idx):
        pos[m, rows] = start[m] + np.arange(len(rows))
    pack = (pos, _cat(idx, np.int64), _cat(src, np.int64), _cat(coef, np.complex128),
            np.array(start, dtype=np.int64))
    if not n_diag:
        W = np.zeros((0, 0))
    elif not np.any(W.imag):
        W = np.ascontiguousarray(W.real)
    return G, W, pack, general


def _cat(xs, dtype):
    return np.concatenate(xs).astype(dtype) if xs else np.zeros(0, dtype)


def _csr(A) -> tuple:
    """(indptr, indices, data) with int64 indices; real data stays real (half the flops)."""
    A = sp.csr_matrix(A)
    A.sort_indices()
    data = A.data
    if np.iscomplexobj(data) and not np.any(data.imag):
        data = data.real
    data = np.ascontiguousarray(data, dtype=np.complex128 if np.iscomplexobj(data) else np.float64)
    return A.indptr.astype(np.int64), A.indices.astype(np.int64), data
