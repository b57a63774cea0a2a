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

Every operator here is real (H_0, V, G, the weights u), so the kernel works on the (re, im)
lanes of the state as real numbers: per row x it accumulates Q = [H_0 + lambda f V, R] (row x) and
P = -(1/2){G, R} + sandwiches, each term one contiguous, vectorised pass over the row, and stores
L(R) = P - i Q. Full rows (not a triangle and its mirror): twice the arithmetic, but no strided
writes. Cost per application (state and tangent): 2 (2 n_diag(H) + n_sandwich) + 2 n_diag(V)
real passes over each stored number. Rows are cut into CHUNKS runs of equal work shared among
threads; each row is computed by one thread in a fixed order, so the bits do not depend on the
thread count. The Chebyshev accumulation (sum_k b_k T_k) and the term norms are fused into the
same pass (``apply(..., acc=, norm=)``).
"""

from __future__ import annotations

from collections import namedtuple

import numba as nb
import numpy as np
import scipy.sparse as sp

from .permutation_blocks import Terms, block_operators, sandwich_terms  # noqa: F401  (Terms: older Numba cache indexes name it here)

__all__ = ["Layout", "DickeSpace", "PermutationLindbladian"]

# Kernel operands (plain arrays; Numba reads the fields by name). Complex numbers are stored as
# (re, im) pairs of float64, and each real coefficient vector twice over (one per lane).
Layout = namedtuple("Layout", "size offset row_start row_block chunks g lo")  # g: diag of sum_k L_k^dag L_k;
# lo: per block, the first row of the active window (rows and columns below it are held at zero)
Bands = namedtuple("Bands", "start off vstart val")  # block b: diagonals start[b]..start[b+1] (offset, values)
Sandwiches = namedtuple("Sandwiches", "start src delta wstart w")  # into block b: source, flat shift, weights
Scal = namedtuple("Scal", "alpha c beta f gamma norm")
Pair = namedtuple("Pair", "r y")  # the state part and the tangent part of one operand
FAST = {"contract"}  # fused multiply-add only (no reassociation: the sums keep their order)
CHUNKS = 64  # rows are cut into this many runs of equal work, whatever the thread count


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

    def block(self, flat: np.ndarray, b: int) -> np.ndarray:
        """View of block b of a flat state as a (size, size) matrix."""
        s = int(self.size[b])
        return flat[self.offset[b]:self.offset[b] + s * s].reshape(s, s)

    def diagonal_index(self) -> np.ndarray:
        """Flat positions of the diagonal elements, block by block (the 'labels' (j, k, n))."""
        return np.concatenate([self.offset[b] + np.arange(s) * (s + 1) for b, s in enumerate(self.size)])


def _lanes(v) -> np.ndarray:
    """Each value twice (the re and im lanes of a complex element)."""
    return np.repeat(np.asarray(v, dtype=float), 2)


def _layout(space, G, lo=None) -> Layout:
    """Blocks, rows and CHUNKS runs of rows of equal work (row x >= lo of a block costs ~ x + 1 - lo;
    rows below the window's first row ``lo`` cost nothing)."""
    size = space.size.astype(np.int64)
    lo = np.zeros(len(size), np.int64) if lo is None else np.asarray(lo, np.int64)
    rb = np.repeat(np.arange(len(size), dtype=np.int64), size)
    row_start = space.row_start.astype(np.int64)
    x = np.arange(len(rb)) - row_start[rb]
    cum = np.concatenate([[0.0], np.cumsum(np.maximum(x - lo[rb] + 1.0, 0.0))])
    cuts = np.searchsorted(cum, np.linspace(0.0, cum[-1], CHUNKS + 1))
    cuts[0], cuts[-1] = 0, len(rb)
    g = np.concatenate([_lanes(x) for x in G]) if len(G) else np.zeros(0)
    return Layout(size, space.offset[:-1].astype(np.int64), row_start, rb,
                  np.unique(cuts).astype(np.int64), g, lo)


def _bands(mats, sizes, also=None):
    """The diagonals of real block matrices (InternalError-free: the block operators are real by
    construction, physics.permutation rotating a y field onto x). With ``also`` (a second list of
    block matrices): (the Bands of ``mats`` on the union of both lists' diagonals, the values of
    ``also`` on the same diagonals), so that mats + s also is ``Bands(..., vals + s vals_also)``."""
    start, off, vstart, vals, more, pos = [0], [], [], [], [], 0
    for k, (A, s) in enumerate(zip(mats, sizes, strict=True)):
        pair = [sp.coo_matrix(A)] + ([] if also is None else [sp.coo_matrix(also[k])])
        if any(np.any(np.imag(M.data) != 0.0) for M in pair):
            raise ValueError("permutation kernel: a block operator is not real")
        d_of = [M.col.astype(np.int64) - M.row for M in pair]
        for d in np.unique(np.concatenate(d_of)):
            for M, dm, out in zip(pair, d_of, (vals, more), strict=False):
                v = np.zeros(int(s))
                np.add.at(v, M.row[dm == d], np.real(M.data[dm == d]))
                out.append(_lanes(v))
            off.append(int(d))
            vstart.append(pos)
            pos += 2 * int(s)
        start.append(len(off))
    bands = Bands(np.array(start, np.int64), np.array(off, np.int64), np.array(vstart, np.int64),
                  np.concatenate(vals) if vals else np.zeros(0))
    return bands if also is None else (bands, np.concatenate(more) if more else np.zeros(0))


def _sandwich_weights(term_list, space) -> Sandwiches:
    """The sandwich terms per target block: source block, flat shift delta nb + shift, and the
    weights w(x) = u_spin(k) u_boson(n) over the target's rows x = (k, n)."""
    per = [[] for _ in space.js]
    for b, bs, d, shift, us, ub in term_list:
        w = (us[: int(space.nspin[b])][:, None] * np.asarray(ub)[None, :]).reshape(-1)
        per[b].append((bs, d * space.nb + shift, _lanes(w)))
    start, src, delta, wstart, ws, pos = [0], [], [], [], [], 0
    for terms in per:
        for bs, dl, w in terms:
            src.append(bs)
            delta.append(dl)
            wstart.append(pos)
            ws.append(w)
            pos += len(w)
        start.append(len(src))
    return Sandwiches(np.array(start, np.int64), np.array(src, np.int64), np.array(delta, np.int64),
                      np.array(wstart, np.int64), np.concatenate(ws) if ws else np.zeros(0))


@nb.njit(cache=True, parallel=True)
def _apply(lay, h, v, sw, sc, U, prev, out, acc):
    """out = alpha (A_f(R, Y) - c (R, Y)) + beta prev for the augmented generator (R, Y) ->
    (L R, L Y - i f [V, R]), and acc += gamma out, on the lower triangles (c <= x) of the rows in
    the window only: the operands are Hermitian and only their lower triangles are read. Operands
    U = (R, Y), prev, out, acc: ``Pair``s of float64 views (re, im interleaved) of the flat complex
    blocks. Returns the squared Frobenius norm of out (of the whole Hermitian blocks) per run of
    rows when sc.norm. Each row is computed by one thread from its own operands, in a fixed order
    (the same bits for any thread count); out may alias prev, not U; prev is not read when
    beta = 0."""
    R, Y = U.r, U.y
    smax = 0
    for b in range(lay.size.shape[0]):
        smax = max(smax, lay.size[b])
    nrm = np.zeros(lay.chunks.shape[0] - 1)
    for q in nb.prange(lay.chunks.shape[0] - 1):
        PR = np.empty(2 * smax)  # the real-coefficient part of row x (decay, sandwiches)
        QR = np.empty(2 * smax)  # [H, R] (row x): L R = P - i Q
        PY = np.empty(2 * smax)
        QY = np.empty(2 * smax)
        total = 0.0
        for r in range(lay.chunks[q], lay.chunks[q + 1]):
            b = lay.row_block[r]
            x = r - lay.row_start[b]
            if x < lay.lo[b]:
                continue  # outside the active window: held at zero
            _decay(lay, b, x, R, PR, QR)
            _decay(lay, b, x, Y, PY, QY)
            _commutator(lay, h, b, x, R, QR, 1.0)
            _commutator(lay, h, b, x, Y, QY, 1.0)
            _commutator(lay, v, b, x, R, QY, sc.f)
            _sandwiches(lay, sw, b, x, R, PR)
            _sandwiches(lay, sw, b, x, Y, PY)
            total += _store(lay, sc, b, x, R, prev.r, PR, QR, out.r, acc.r)
            total += _store(lay, sc, b, x, Y, prev.y, PY, QY, out.y, acc.y)
        nrm[q] = total
    return nrm


@nb.njit(cache=True, fastmath=FAST, inline="always")
def _decay(lay, b, x, R, P, Q):
    """P = -(1/2) {G, R}, Q = 0 (row x of block b, columns c <= x). (Unsigned offsets: no
    wraparound test, so the row loops vectorise.)"""
    m2 = np.uint64(2 * (x + 1))
    row = np.uint64(2 * lay.offset[b] + x * 2 * lay.size[b])
    g0 = np.uint64(2 * lay.row_start[b])
    gx = 0.5 * lay.g[g0 + np.uint64(2 * x)]
    for i in range(np.uint64(2 * lay.lo[b]), m2):
        P[i] = -(gx + 0.5 * lay.g[g0 + i]) * R[row + i]
    for i in range(np.uint64(2 * lay.lo[b]), m2):
        Q[i] = 0.0


@nb.njit(cache=True, fastmath=FAST, inline="always")
def _commutator(lay, h, b, x, R, Q, scale):
    """Q += scale [H, R] (row x of block b, columns c <= x) for the real banded H: its diagonals
    d with values H[y, y + d] (each twice: re and im lanes). Elements of R above the diagonal
    (at most |d| per term) are read as conj(R[c, y]) from the lower triangle."""
    s = lay.size[b]
    w0 = lay.lo[b]  # the window: rows and columns >= w0
    n2 = 2 * s
    o2 = 2 * lay.offset[b]
    row = o2 + x * n2
    for e in range(h.start[b], h.start[b + 1]):
        d = h.off[e]
        vs = h.vstart[e]
        y = x + d
        if w0 <= y < s:  # H R: scale H[x, y] R[y, c]
            z = scale * h.val[vs + 2 * x]
            src = np.uint64(o2 + y * n2)
            top = min(x, y)  # R[y, c] lower for c <= y
            for i in range(np.uint64(2 * w0), np.uint64(2 * (top + 1))):
                Q[i] += z * R[src + i]
            for c in range(top + 1, x + 1):  # c > y: conj(R[c, y])
                k = o2 + c * n2 + 2 * y
                Q[2 * c] += z * R[k]
                Q[2 * c + 1] -= z * R[k + 1]
        # R H: R[x, c + d] H[c + d, c] = R[x, c + d] H[c, c + d], for 0 <= c + d < s
        lo = max(w0, w0 - d)
        hi = min(x, x - d)  # c + d <= x: R[x, c + d] lower
        if hi >= lo:
            sh = np.uint64(row + 2 * d + 2 * lo)
            hb = np.uint64(vs + 2 * lo)
            qb = np.uint64(2 * lo)
            for i in range(np.uint64(2 * (hi - lo + 1))):
                Q[qb + i] -= scale * h.val[hb + i] * R[sh + i]
        for c in range(max(lo, hi + 1), min(x, s - 1 - d) + 1):  # c + d > x: conj(R[c + d, x])
            k = o2 + (c + d) * n2 + 2 * x
            w = scale * h.val[vs + 2 * c]
            Q[2 * c] -= w * R[k]
            Q[2 * c + 1] += w * R[k + 1]


@nb.njit(cache=True, fastmath=FAST, inline="always")
def _sandwiches(lay, sw, b, x, R, P):
    """P += sum_t w_t(x) w_t(c) R_src(t)[x + delta_t, c + delta_t] (row x of block b, columns
    c <= x: the source's lower triangle)."""
    for t in range(sw.start[b], sw.start[b + 1]):
        ws = sw.wstart[t]
        ux = sw.w[ws + 2 * x]
        if ux == 0.0:
            continue
        bs = sw.src[t]
        ss = lay.size[bs]
        dl = sw.delta[t]
        if x + dl < lay.lo[bs]:
            continue  # the source row is outside its window (zero)
        lo = max(lay.lo[b], lay.lo[bs] - dl)
        hi = min(x, ss - 1 - dl)
        if hi < lo:
            continue
        sb = np.uint64(2 * lay.offset[bs] + (x + dl) * 2 * ss + 2 * (lo + dl))
        wb = np.uint64(ws + 2 * lo)
        pb = np.uint64(2 * lo)
        for i in range(np.uint64(2 * (hi - lo + 1))):
            P[pb + i] += ux * sw.w[wb + i] * R[sb + i]


@nb.njit(cache=True, fastmath=FAST, inline="always")
def _store(lay, sc, b, x, R, prev, P, Q, out, acc):
    """out = alpha (P - i Q - c R) + beta prev and acc += gamma out (row x of block b, c <= x;
    the diagonal element made real). Returns the row's share of the squared Frobenius norm of
    the Hermitian block (off-diagonal elements twice) when sc.norm, else 0."""
    row = np.uint64(2 * lay.offset[b] + x * 2 * lay.size[b])
    w0 = np.uint64(lay.lo[b])
    m = np.uint64(x + 1)
    alpha, ac, beta = sc.alpha, sc.alpha * sc.c, sc.beta
    one, two = np.uint64(1), np.uint64(2)
    if beta != 0.0:  # (prev is read before out is written: they may alias)
        for c in range(w0, m):
            i = two * c
            out[row + i] = alpha * (P[i] + Q[i + one]) - ac * R[row + i] + beta * prev[row + i]
            out[row + i + one] = alpha * (P[i + one] - Q[i]) - ac * R[row + i + one] + beta * prev[row + i + one]
    else:
        for c in range(w0, m):
            i = two * c
            out[row + i] = alpha * (P[i] + Q[i + one]) - ac * R[row + i]
            out[row + i + one] = alpha * (P[i + one] - Q[i]) - ac * R[row + i + one]
    diag = row + np.uint64(2 * x)
    out[diag + one] = 0.0
    if sc.gamma != 0.0:
        for i in range(two * w0, two * m):
            acc[row + i] += sc.gamma * out[row + i]
    if not sc.norm:
        return 0.0
    n0 = n1 = n2 = n3 = 0.0  # four partial sums: the additions pipeline (fixed order)
    four = np.uint64(4)
    base = row + two * w0
    off = np.uint64(x) - w0  # the off-diagonal elements w0 <= c < x
    for k in range(off // two):
        i = base + four * k
        n0 += out[i] * out[i]
        n1 += out[i + one] * out[i + one]
        n2 += out[i + two] * out[i + two]
        n3 += out[i + np.uint64(3)] * out[i + np.uint64(3)]
    if off % two:
        i = diag - two
        n0 += out[i] * out[i]
        n1 += out[i + one] * out[i + one]
    return 2.0 * ((n0 + n2) + (n1 + n3)) + out[diag] * out[diag]


@nb.njit(cache=True, parallel=True)
def _complete(lay, R):
    """The upper triangles of the Hermitian blocks from their lower triangles (R[c, x] =
    conj R[x, c]); float64 view."""
    for r in nb.prange(lay.row_block.shape[0]):
        b = lay.row_block[r]
        x = r - lay.row_start[b]
        s = lay.size[b]
        o2 = 2 * lay.offset[b]
        for c in range(lay.lo[b], x):
            k = o2 + 2 * (x * s + c)
            t = o2 + 2 * (c * s + x)
            R[t] = R[k]
            R[t + 1] = -R[k + 1]


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
        self.layout = _layout(sp_, self.G)
        self.v = _bands(self.V, self.layout.size)
        self._hv = _bands(self.H0, self.layout.size, also=self.V)  # H_0 + s V = one axpy (_h)
        _, self.term_list = sandwich_terms(form, sp_)
        self.sandwiches = _sandwich_weights(self.term_list, sp_)
        self.excitations = None  # the active window (None: every row; see window())
        self._hf = {}

    def excitation(self) -> np.ndarray:
        """Number of excited sites m + N/2 of every row (label), in the order of the labels."""
        sp_ = self.space
        return np.concatenate([np.repeat(j + sp_.n / 2 - np.arange(int(sp_.nspin[b])), sp_.nb)
                               for b, j in enumerate(sp_.js)])

    def window(self, excitations: int | None) -> None:
        """Propagate only the rows (and columns) with at most `excitations` excited sites, the
        others held at zero (None or >= N: all). The generator is then P L P, P the projector on
        the window: exact while the state does not reach the window's edge (the solver checks
        the edge population and widens the window)."""
        sp_ = self.space
        if excitations is None or excitations >= sp_.n:
            self.excitations, lo = None, None
        else:
            self.excitations = int(excitations)
            lo = [min(max(0, int(round(j + sp_.n / 2)) - self.excitations), int(sp_.nspin[b])) * sp_.nb
                  for b, j in enumerate(sp_.js)]
        self.layout = _layout(sp_, self.G, lo)

    @property
    def decay(self) -> float:
        """The largest decay rate (diagonal of sum_k L_k^dag L_k) inside the window."""
        return float(max((np.max(g[lo:]) for g, lo in zip(self.G, self.layout.lo, strict=True) if lo < len(g)),
                         default=0.0))

    def _h(self, f: float) -> Bands:
        """The diagonals of H_0 + lambda f V per block (the decay G is applied apart), cached per f;
        a new f (smooth envelopes) costs one axpy on the union of H_0's and V's diagonals."""
        if f not in self._hf:
            if len(self._hf) > 8:
                self._hf.clear()
            bands, v = self._hv
            self._hf[f] = bands._replace(val=bands.val + (self.drive * f) * v)
        return self._hf[f]

    def half_width(self, f: float) -> float:
        """Half-width of an interval holding the spectrum of every block of H_0 + lambda f V (the
        widest block sets the Chebyshev scale: the commutator's spectrum is E_a - E_b inside a block)."""
        widest = 0.0
        for H, V, lo in zip(self.H0, self.V, self.layout.lo, strict=True):
            if lo < H.shape[0]:
                widest = max(widest, _half_width((H + (self.drive * f) * V)[lo:, lo:]))
        return widest

    # apply() writes and reads lower triangles only, adds gamma * out into an accumulator and
    # returns ||out||^2 in the same pass; complete() restores whole blocks
    fused = True

    def apply(self, f: float, R, Y, outR, outY, rec=None, acc=None, norm: bool = False):
        """(outR, outY) = A_f(R, Y), or with ``rec`` (``matrix_form.Recurrence``) the Chebyshev
        recurrence step alpha (A_f - c)(R, Y) + beta rec.prev. Arrays of shape (1, length).
        ``acc = (gamma, AR, AY)``: also (AR, AY) += gamma (outR, outY). Returns ||(outR, outY)||_F^2
        when ``norm`` (else 0.0), summed over the row runs in a fixed order."""
        alpha, c, beta, prev = (1.0, 0.0, 0.0, None) if rec is None else rec
        if prev is None:
            prev, beta = (outR, outY), 0.0
        gamma, AR, AY = (0.0, outR, outY) if acc is None else acc
        sc = Scal(float(alpha), float(c), float(beta), float(f), float(gamma), bool(norm))

        def flat(a):
            return a.reshape(-1).view(np.float64)

        parts = _apply(self.layout, self._h(f), self.v, self.sandwiches, sc, Pair(flat(R), flat(Y)),
                       Pair(flat(prev[0]), flat(prev[1])), Pair(flat(outR), flat(outY)), Pair(flat(AR), flat(AY)))
        if rec is None:  # the plain right-hand side (DOP853): whole blocks
            self.complete(outR, outY)
        return float(np.sum(parts))

    def complete(self, *states) -> None:
        """Fill the upper triangles of the blocks of each state from their lower triangles (the
        Chebyshev recurrence writes lower triangles only)."""
        for X in states:
            _complete(self.layout, X.reshape(-1).view(np.float64))
