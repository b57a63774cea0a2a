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

Named operands (``collections.namedtuple``; Numba reads the fields by name):
``Pair(r, y)`` the rho part and the tangent part of one operand (the state, the left products,
the previous term, the result); ``Csr(indptr, indices, data)``; ``OffDiag`` a CSR matrix without
its diagonal plus the (complex) diagonal ``diag``; ``Monomials`` the monomial jumps (see
:func:`_combine`); ``Recurrence(alpha, c, beta, prev)`` the scaling of :meth:`MatrixFormLindbladian.apply`.
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np
import scipy.sparse as sp

from ..physics.operators import Operators

__all__ = ["MatrixFormLindbladian", "Recurrence", "axpy2", "norm2"]

Pair = namedtuple("Pair", "r y")
Csr = namedtuple("Csr", "indptr indices data")
OffDiag = namedtuple("OffDiag", "indptr indices data diag")
Monomials = namedtuple("Monomials", "pos idx src coef start")
Recurrence = namedtuple("Recurrence", "alpha c beta prev", defaults=(0.0, 0.0, None))


@nb.njit(cache=True, parallel=True)
def axpy2(a, XR, XY, AR, AY):
    """(AR, AY) += a (XR, XY) for same-shape 2-d complex arrays."""
    for i in nb.prange(XR.shape[0]):
        for j in range(XR.shape[1]):
            AR[i, j] += a * XR[i, j]
            AY[i, j] += a * XY[i, j]


@nb.njit(cache=True, parallel=True)
def _left_products(h, v, f, U, M):
    """M.r = -i H U.r,  M.y = -i (H U.y + f V U.r);  H = diag(h.diag) + the CSR h (off-diagonal),
    V the CSR v."""
    hp, hi, hd, dg = h.indptr, h.indices, h.data, h.diag
    vp, vi, vd = v.indptr, v.indices, v.data
    R, Y, MR, MY = U.r, U.y, M.r, M.y
    dim = R.shape[0]
    for i in nb.prange(dim):
        ar = np.empty(dim, dtype=np.complex128)
        ay = np.empty(dim, dtype=np.complex128)
        d = dg[i]
        for j in range(dim):
            ar[j] = d * R[i, j]
            ay[j] = d * Y[i, j]
        for q in range(hp[i], hp[i + 1]):
            hq = hd[q]
            col = hi[q]
            for j in range(dim):
                ar[j] += hq * R[col, j]
                ay[j] += hq * Y[col, j]
        for q in range(vp[i], vp[i + 1]):
            vq = f * vd[q]
            col = vi[q]
            for j in range(dim):
                ay[j] += vq * R[col, j]
        for j in range(dim):
            MR[i, j] = complex(ar[j].imag, -ar[j].real)
            MY[i, j] = complex(ay[j].imag, -ay[j].real)


@nb.njit(cache=True, inline="always")
def _upper_row(i, M, U, P, W, jumps, sc, out):
    """Row i, columns j >= i, of the Hermitian result; mirrored into column i."""
    MR, MY, R, Y, PR, PY, outR, outY = M.r, M.y, U.r, U.y, P.r, P.y, out.r, out.y
    pos, idx, src, coef, start = jumps.pos, jumps.idx, jumps.src, jumps.coef, jumps.start
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
def _combine(M, U, P, W, jumps, sc, out):
    """out = alpha (M + M^dag + W o U - c U + sum_m L_m U L_m^dag) + beta P, for the rho and
    tangent parts (each argument a ``Pair`` but W, jumps, sc).

    Only j >= i is computed (the result is Hermitian); rows i and dim-1-i share an iteration
    (balanced triangle). sc = (alpha, c, beta); W: merged diagonal-jump weights (real) or an
    empty array; jumps (``Monomials``): monomial jump m acts on rows idx[start[m]:start[m+1]]
    (ascending) with L[idx, src] = coef, pos[m, i] the position of row i there or -1. out may
    alias P (each element is read before it is written).
    """
    dim = U.r.shape[0]
    for q in nb.prange((dim + 1) // 2):
        _upper_row(q, M, U, P, W, jumps, sc, out)
        if dim - 1 - q != q:
            _upper_row(dim - 1 - q, M, U, P, W, jumps, sc, out)


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
        self.shape = (dim, dim)
        self.drive = float(drive)
        self._ops = ops
        G, self.W, self._jumps, self.general = _classify_jumps(ops.jumps, dim)
        self.H0 = (sp.csr_matrix(ops.H0, dtype=np.complex128) - 0.5j * G).tocsr()
        self.V = sp.csr_matrix(ops.V)
        self._v = _csr(self.V)
        self._hf, self._parts = {}, self._pattern()
        self.decay = float(abs(sp.linalg.norm(G, 1))) if ops.jumps else 0.0  # >= max decay rate
        self._m = Pair(np.empty((dim, dim), dtype=np.complex128), np.empty((dim, dim), dtype=np.complex128))

    def _h(self, f: float):
        """H_eff(lambda f) as an ``OffDiag`` (off-diagonal CSR arrays, complex diagonal), cached per f
        (piecewise-constant envelopes); a smooth envelope's new f costs two axpys on the fixed union
        pattern of H_0 and V (:meth:`_pattern`), not a sparse sum."""
        if f not in self._hf:
            indptr, indices, off0, offv, d0, dv = self._parts
            s = self.drive * f
            if len(self._hf) > 8:
                self._hf.clear()
            self._hf[f] = OffDiag(indptr, indices, off0 + s * offv, d0 + s * dv)
        return self._hf[f]

    def _pattern(self) -> tuple:
        """(indptr, indices, H_0 data, V data, H_0 diagonal, V diagonal) on the union of the two
        off-diagonal patterns: H_0 + s V there is ``H_0 data + s V data`` entry by entry, as the
        sparse sum computes it."""
        dim = self.dim
        H0, V = self.H0.tocoo(), sp.coo_matrix(self.V, dtype=np.complex128)
        keep0, keepv = H0.row != H0.col, V.row != V.col
        key0 = H0.row[keep0].astype(np.int64) * dim + H0.col[keep0]
        keyv = V.row[keepv].astype(np.int64) * dim + V.col[keepv]
        keys = np.unique(np.concatenate([key0, keyv]))  # row-major: CSR order, sorted columns
        indptr = np.searchsorted(keys // dim, np.arange(dim + 1), side="left").astype(np.int64)

        def on_pattern(key, data):
            out = np.zeros(keys.size, dtype=np.complex128)
            np.add.at(out, np.searchsorted(keys, key), data)
            return out

        off0, offv = on_pattern(key0, H0.data[keep0]), on_pattern(keyv, V.data[keepv])
        if not np.any(off0.imag) and not np.any(offv.imag):  # real data stays real (half the flops)
            off0, offv = off0.real.copy(), offv.real.copy()
        return (indptr, (keys % dim).astype(np.int64), off0, offv,
                np.ascontiguousarray(self.H0.diagonal(), dtype=np.complex128),
                np.ascontiguousarray(self.V.diagonal(), dtype=np.complex128))

    def half_width(self, f: float) -> float:
        """Half-width of an interval holding the spectrum of H_0 + lambda f V (energy units)."""
        from .chebyshev import spectral_interval

        H = (self._ops.H0 + (self.drive * f) * self._ops.V).astype(np.complex128)
        return spectral_interval(H)[1]

    def apply(self, f: float, R, Y, outR, outY, rec: Recurrence | None = None):
        """(outR, outY) = A_f(R, Y), the augmented generator, or with ``rec`` the recurrence step
        alpha (A_f(R, Y) - c (R, Y)) + beta rec.prev (prev a pair of arrays, or None: beta = 0).

        R, Y Hermitian (dim, dim) C-contiguous complex arrays; out may alias prev, not R or Y.
        """
        alpha, c, beta, prev = (1.0, 0.0, 0.0, None) if rec is None else rec
        U, out = Pair(R, Y), Pair(outR, outY)
        _left_products(self._h(f), self._v, float(f), U, self._m)
        if prev is None:
            prev, beta = out, 0.0
        sc = np.array([alpha, c, beta], dtype=np.complex128)
        _combine(self._m, U, Pair(*prev), self.W, self._jumps, sc, out)
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
    pack = Monomials(pos, _cat(idx, np.int64), _cat(src, np.int64), _cat(coef, np.complex128),
                     np.array(start, dtype=np.int64))
    if not n_diag:
        W = np.zeros((0, 0))
    elif not np.any(W.imag):
        W = np.ascontiguousarray(W.real)
    return G, W, pack, general


def _cat(xs, dtype):
    return np.concatenate(xs).astype(dtype) if xs else np.zeros(0, dtype)


def _csr(A) -> tuple:
    """``Csr(indptr, indices, data)`` with int64 indices; real data stays real (half the flops)."""
    A = sp.csr_matrix(A)
    A.sort_indices()
    data = A.data
    if np.iscomplexobj(data) and not np.any(data.imag):
        data = data.real
    data = np.ascontiguousarray(data, dtype=np.complex128 if np.iscomplexobj(data) else np.float64)
    return Csr(A.indptr.astype(np.int64), A.indices.astype(np.int64), data)
