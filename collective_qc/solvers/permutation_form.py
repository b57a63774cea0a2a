"""The Lindbladian of a permutation-invariant model in the Dicke-ladder basis (no super-operator).

The state of N identical spin-1/2 sites (times at most one boson mode) that starts
permutation invariant stays block diagonal, rho = (+)_j rho_j (x) 1_{d_j}, j = N/2, N/2 - 1, ...
(:mod:`collective_qc.physics.permutation`). The solver stores the *weighted* blocks
R_j = d_j rho_j, (2j + 1) n_b square, so that Tr rho = sum_j Tr R_j and no multiplicity d_j
(up to 2^N / N^{3/2}) is ever multiplied out. Spin index k = j - m (m = j first), boson index n
(photons), row (k, n) = k n_b + n; block j = N/2 - b is stored row-major at ``offset[b]`` of one
flat complex array.

The generator, for Hermitian R (the state and the tangent X = dR/dlambda):

    L(R)_j = M_j + M_j^dag + sum_t u_t (x) u_t [R_src(t)]_shifted,   M_j = -i H_eff,j R_j,

H_eff,j = H_0,j + lambda f V_j - (i/2) G_j with G_j = sum_k L_k^dag L_k (diagonal here: local
noise gives kappa (J_z + N/2) + p (N/2 - J_z) + gamma N; collective noise J_+J_-, J_-J_+, 4 J_z^2;
cavity loss kappa_c n). Every "sandwich" sum_i A_i rho A_i^dag of local noise maps block j' onto
j = j', j' +- 1 as out[(k, n), (k1, n1)] += u(k) u(k1) R_src[k + delta, k1 + delta] with one
real vector u per (channel, j' -> j): the coefficients of Chase & Geremia (PRA 78, 052101 (2008),
App. B) as tabulated by Shammah et al. (PRA 98, 063815 (2018), Table I), rewritten for our
rates (our dephasing sqrt(gamma) sigma_z is their gamma_phi = 4 gamma). Collective jumps and
cavity loss are sandwiches inside one block (the cavity one shifts n, not k).

Cost per application (the state and its tangent): 2 x (2 nnz(H_eff) + sandwiches) complex
multiply-adds per stored element; the rows are shared among threads (each row written by one
thread in a fixed order: the same bits for any thread count).
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np
import scipy.sparse as sp

from .permutation_blocks import Terms, block_operators, sandwich_terms  # noqa: F401  (Terms: older Numba cache indexes name it here)

__all__ = ["Layout", "DickeSpace", "PermutationLindbladian"]

Layout = namedtuple("Layout", "offset size row_block row_local nb")
Csr = namedtuple("Csr", "indptr indices data")
Scal = namedtuple("Scal", "alpha c beta f")


class DickeSpace:
    """The blocks of N spin-1/2 sites times ``nb`` boson levels: j, sizes, offsets, rows (all
    blocks, or the list ``js``)."""

    def block_of(self, j: float) -> int:
        """Block number of total spin j (KeyError when not stored)."""
        return self.index[int(round(2 * j))]

    def __init__(self, n: int, nb: int = 1, js=None):
        self.n, self.nb = int(n), int(nb)
        self.js = np.array([n / 2 - b for b in range(n // 2 + 1)] if js is None else sorted(js, reverse=True))
        self.index = {int(round(2 * j)): b for b, j in enumerate(self.js)}  # 2j -> block number
        self.nspin = np.rint(2 * self.js + 1).astype(np.int64)
        self.size = self.nspin * self.nb
        self.offset = np.concatenate([[0], np.cumsum(self.size.astype(np.int64) ** 2)]).astype(np.int64)
        self.length = int(self.offset[-1])
        self.row_start = np.concatenate([[0], np.cumsum(self.size)]).astype(np.int64)
        self.rows = int(self.row_start[-1])
        rb = np.repeat(np.arange(len(self.js), dtype=np.int64), self.size)
        self.layout = Layout(self.offset[:-1].copy(), self.size.astype(np.int64), rb,
                             np.arange(self.rows, dtype=np.int64) - self.row_start[rb], self.nb)

    def block(self, flat: np.ndarray, b: int) -> np.ndarray:
        """View of block b of a flat state as a (size, size) matrix."""
        s = int(self.size[b])
        return flat[self.offset[b]:self.offset[b] + s * s].reshape(s, s)

    def diagonal_index(self) -> np.ndarray:
        """Flat positions of the diagonal elements, block by block (the 'labels' (j, k, n))."""
        return np.concatenate([self.offset[b] + np.arange(s) * (s + 1) for b, s in enumerate(self.size)])


def _block_diag_csr(mats, dtype) -> Csr:
    """Global-row CSR of block matrices with block-local column indices."""
    ptr, idx, dat = [np.zeros(1, np.int64)], [], []
    base = 0
    for A in mats:
        A = sp.csr_matrix(A, dtype=dtype)
        A.sort_indices()
        ptr.append(A.indptr[1:].astype(np.int64) + base)
        idx.append(A.indices.astype(np.int64))
        dat.append(A.data)
        base += A.nnz
    return Csr(np.concatenate(ptr), np.concatenate(idx), np.ascontiguousarray(np.concatenate(dat), dtype=dtype))


@nb.njit(cache=True, parallel=True)
def _apply(lay, h, v, terms, sc, R, Y, prevR, prevY, outR, outY):
    """out = alpha (A_f(R, Y) - c (R, Y)) + beta prev for the augmented generator (R, Y) ->
    (L R, L Y - i f [V, R]); flat block arrays of Hermitian blocks. Row i computes the lower
    triangle c <= i of its block and mirrors it (out[c, i] = conj out[i, c]): each element is
    written by one thread. out may alias prev, not R or Y."""
    for r in nb.prange(lay.row_block.shape[0]):
        b = lay.row_block[r]
        i = lay.row_local[r]
        s = lay.size[b]
        o = lay.offset[b]
        r0 = r - i
        tR = np.zeros(i + 1, dtype=np.complex128)
        tY = np.zeros(i + 1, dtype=np.complex128)
        for p in range(h.indptr[r], h.indptr[r + 1]):  # -i H_eff R (row i)
            hk = -1j * h.data[p]
            base = o + h.indices[p] * s
            for c in range(i + 1):
                tR[c] += hk * R[base + c]
                tY[c] += hk * Y[base + c]
        for p in range(v.indptr[r], v.indptr[r + 1]):  # -i f V R (row i) into the tangent
            vk = -1j * sc.f * v.data[p]
            base = o + v.indices[p] * s
            for c in range(i + 1):
                tY[c] += vk * R[base + c]
        row = o + i * s
        for c in range(i + 1):  # + i R H_eff^dag, + i f R V (row i)
            aR = 0j
            aY = 0j
            for p in range(h.indptr[r0 + c], h.indptr[r0 + c + 1]):
                hc = np.conj(h.data[p])
                aR += R[row + h.indices[p]] * hc
                aY += Y[row + h.indices[p]] * hc
            for p in range(v.indptr[r0 + c], v.indptr[r0 + c + 1]):
                aY += sc.f * R[row + v.indices[p]] * np.conj(v.data[p])
            tR[c] += 1j * aR
            tY[c] += 1j * aY
        _sandwiches(lay, terms, b, i, R, Y, tR, tY)
        for c in range(i + 1):  # (prev is not read when beta = 0: it may be uninitialised)
            xR = sc.alpha * (tR[c] - sc.c * R[row + c])
            xY = sc.alpha * (tY[c] - sc.c * Y[row + c])
            if sc.beta != 0.0:
                xR += sc.beta * prevR[row + c]
                xY += sc.beta * prevY[row + c]
            if c == i:
                xR = xR.real + 0j
                xY = xY.real + 0j
            outR[row + c] = xR
            outY[row + c] = xY
            outR[o + c * s + i] = np.conj(xR)
            outY[o + c * s + i] = np.conj(xY)


@nb.njit(cache=True)
def _sandwiches(lay, terms, b, i, R, Y, tR, tY):
    """Row i of block b, columns c <= i: sum_t u_t(x) u_t(x1) R_src[x + delta_t, x1 + delta_t]
    (boson shift too)."""
    nbos = lay.nb
    kd, n = i // nbos, i % nbos
    for t in range(terms.start[b], terms.start[b + 1]):
        ui = terms.us[t, kd] * terms.ub[t, n]
        if ui == 0.0:
            continue
        bs = terms.src[t]
        ss = lay.size[bs]
        d, sh = terms.delta[t], terms.shift[t]
        srow = lay.offset[bs] + ((kd + d) * nbos + n + sh) * ss
        if nbos == 1:  # no cavity: one contiguous row segment
            for k1 in range(kd + 1):
                w = ui * terms.us[t, k1]
                if w != 0.0:  # (u = 0 where k1 + d leaves the source block)
                    tR[k1] += w * R[srow + k1 + d]
                    tY[k1] += w * Y[srow + k1 + d]
            continue
        for k1 in range(kd + 1):
            u1 = ui * terms.us[t, k1]
            if u1 == 0.0:
                continue
            scol = srow + (k1 + d) * nbos + sh
            top = nbos if k1 < kd else n + 1
            for n1 in range(top):
                w = u1 * terms.ub[t, n1]
                if w != 0.0:
                    tR[k1 * nbos + n1] += w * R[scol + n1]
                    tY[k1 * nbos + n1] += w * Y[scol + n1]


def _half_width(H) -> float:
    """Half-width of the spectrum of one Hermitian block, padded like ``spectral_interval``:
    LAPACK's banded solver for narrow bands (the blocks without a cavity are at most
    (2k+1)-diagonal), ``spectral_interval`` otherwise."""
    from scipy.linalg import eigvals_banded

    from .chebyshev import spectral_interval

    H = sp.csr_matrix(H)
    n = H.shape[0]
    coo = H.tocoo()
    bw = int(np.max(np.abs(coo.row - coo.col))) if H.nnz else 0
    if n <= 400 or bw > 16:
        return spectral_interval(H)[1]
    band = np.zeros((bw + 1, n), dtype=np.complex128)
    for d in range(bw + 1):
        band[d, : n - d] = H.diagonal(-d)
    lo = float(eigvals_banded(band, lower=True, select="i", select_range=(0, 0))[0])
    hi = float(eigvals_banded(band, lower=True, select="i", select_range=(n - 1, n - 1))[0])
    half = 0.5 * (hi - lo)
    return half + 0.01 * half + 1e-6 * max(abs(lo), abs(hi), 1.0)


class PermutationLindbladian:
    """The augmented generator (R, Y) -> (L R, L Y - i f [V, R]) on the flat block state.

    Parameters
    ----------
    form : CollectiveForm  (:mod:`collective_qc.physics.permutation`)
    drive : float  lambda (energy units)
    battery_off : bool  leave H_B out of the generator (Binder/Campaioli convention)
    js : list or None  the blocks to propagate (default all)
    """

    def __init__(self, form, drive: float, battery_off: bool = False, js=None):
        self.space = sp_ = DickeSpace(form.n, form.n_boson, js)
        self.shape = (1, sp_.length)
        self.dim = sp_.length
        self.drive = float(drive)
        ops = block_operators(form, sp_, battery_off)
        self.HB, self.H0, self.V, self.G = ops["H_B"], ops["H_0"], ops["V"], ops["G"]
        self.v = _block_diag_csr(self.V, np.complex128)
        self.terms, self.term_list = sandwich_terms(form, sp_)
        self.decay = float(max((np.max(g) for g in self.G), default=0.0))
        self._hf = {}

    def _h(self, f: float) -> Csr:
        if f not in self._hf:
            mats = [H + (self.drive * f) * V - 0.5j * sp.diags(g) for H, V, g in zip(self.H0, self.V, self.G,
                                                                                       strict=True)]
            if len(self._hf) > 8:
                self._hf.clear()
            self._hf[f] = _block_diag_csr(mats, np.complex128)
        return self._hf[f]

    def half_width(self, f: float) -> float:
        """Half-width of an interval holding the spectrum of every block of H_0 + lambda f V (the
        widest block sets the Chebyshev scale: the commutator's spectrum is E_a - E_b inside a block)."""
        widest = 0.0
        for H, V in zip(self.H0, self.V, strict=True):
            widest = max(widest, _half_width(H + (self.drive * f) * V))
        return widest

    def apply(self, f: float, R, Y, outR, outY, rec=None):
        """(outR, outY) = A_f(R, Y), or with ``rec`` (``matrix_form.Recurrence``) the Chebyshev
        recurrence step alpha (A_f - c)(R, Y) + beta rec.prev. Arrays of shape (1, length)."""
        alpha, c, beta, prev = (1.0, 0.0, 0.0, None) if rec is None else rec
        if prev is None:
            prev, beta = (outR, outY), 0.0
        sc = Scal(float(alpha), float(c), float(beta), float(f))
        _apply(self.space.layout, self._h(f), self.v, self.terms, sc, R.reshape(-1), Y.reshape(-1),
               prev[0].reshape(-1), prev[1].reshape(-1), outR.reshape(-1), outY.reshape(-1))
