"""Packing a trajectory problem into the plain arrays of the kernels (``solvers.kernels``).

Everything here runs once per solve, in Python: CSR packing, monomial jump tables, the
schedule of stops and samples, the smooth-envelope table, and the spectral intervals of the
Chebyshev step.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..physics.operators import Operators
from ..physics.protocols import Protocol
from .chebyshev import spectral_interval, xor_form
from .kernels.packs import XOR_BLOCK

ENV_SPACING = 1e-3  # time spacing (1/omega0) of the cubic Hermite table of a smooth envelope


def pack_csr(mats, diagonals=None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(data, indices, row pointers (n, dim + 1) into them, diagonals (n, dim)) of the CSR matrices,
    concatenated, with the separately kept diagonals (zeros when None); data and diagonals are
    real when all of them are (the kernels are compiled for either), the column indices 32-bit
    when they fit (a quarter less memory traffic per stored entry of a real matrix)."""
    data, idx, ptr, off = [], [], [], 0
    for A in mats:
        A = sp.csr_matrix(A, dtype=np.complex128)
        A.sort_indices()
        data.append(A.data)
        idx.append(A.indices.astype(np.int64))
        ptr.append(A.indptr.astype(np.int64) + off)
        off += A.nnz
    cd = np.concatenate(data)
    dim = mats[0].shape[0] if mats else 0
    dg = np.zeros((len(mats), dim), dtype=np.complex128) if diagonals is None else np.array(diagonals, np.complex128)
    if not np.any(cd.imag) and not np.any(dg.imag):  # real (most spin models): half the multiplications
        cd = np.ascontiguousarray(cd.real)
        dg = np.ascontiguousarray(dg.real)
    ci = np.concatenate(idx)
    if mats and mats[0].shape[1] < 2**31:
        ci = ci.astype(np.int32)
    return cd, ci, np.ascontiguousarray(np.array(ptr)), dg


def split_diagonals(mats):
    """(the matrices without their diagonals, the diagonals (n, dim)); the kernels apply a diagonal
    element-wise (no index load, no gather) and the rest from CSR rows."""
    off, diags = [], []
    for A in mats:
        A = sp.csr_matrix(A, copy=True)
        d = A.diagonal()
        A.setdiag(0)
        A.eliminate_zeros()
        off.append(A)
        diags.append(d)
    return off, np.array(diags)


def common_pattern(A, B):
    """A and B as CSR matrices on the union of their sparsity patterns (explicit zeros kept, sorted
    columns), so that a kernel reads both with one pass over one index list."""
    A, B = sp.csr_matrix(A, copy=True), sp.csr_matrix(B, copy=True)
    A.sum_duplicates()
    B.sum_duplicates()
    U = (abs(A) + abs(B)).tocsr()  # the union (|a| + |b| > 0 wherever either is nonzero)
    U.sort_indices()
    n = U.shape[1]
    keys = np.repeat(np.arange(U.shape[0], dtype=np.int64), np.diff(U.indptr)) * n + U.indices
    out = []
    for M in (A, B):
        M = M.tocoo()
        data = np.zeros(U.nnz, dtype=np.result_type(M.dtype, np.float64))
        data[np.searchsorted(keys, M.row.astype(np.int64) * n + M.col)] = M.data
        out.append(sp.csr_matrix((data, U.indices.copy(), U.indptr.copy()), shape=U.shape))
    return out[0], out[1]


def charger_flips(V) -> tuple[np.ndarray, np.ndarray]:
    """(masks, coefficients) of V's flip form (``chebyshev.xor_form``) when the vector kernels can
    apply it: real coefficients and a dimension that is a multiple of XOR_BLOCK (the rows they take
    per pass); two empty arrays otherwise (V then read from its CSR rows). At N = 14 V is most of
    the data a product would read."""
    form = xor_form(V)
    if form is None or np.iscomplexobj(form[1]) or V.shape[0] % XOR_BLOCK:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return form


def monomial_jumps(ops: Operators) -> tuple[np.ndarray, np.ndarray]:
    """L_c|k> = val[c, k] |tgt[c, k]>; InputError for a jump operator with two entries in a column."""
    nch = max(len(ops.jumps), 1)
    tgt = np.zeros((nch, ops.dim), dtype=np.int64)
    val = np.zeros((nch, ops.dim), dtype=np.complex128)
    for c, j in enumerate(ops.jumps):
        L = sp.csc_matrix(j.matrix, dtype=np.complex128)
        L.eliminate_zeros()
        counts = np.diff(L.indptr)
        if np.any(counts > 1):
            raise InputError(f"jump operator {j.kind} on {j.target!r} is not local (monomial); use --method exact")
        cols = np.flatnonzero(counts)
        tgt[c, cols] = L.indices[L.indptr[cols]]
        val[c, cols] = L.data[L.indptr[cols]]
    return tgt, val


def decay_rates(ops: Operators, tgt: np.ndarray, val: np.ndarray) -> tuple[np.ndarray, float]:
    """(diag of sum_k L_k^dag L_k, uniform rate): when that sum is a multiple of the identity (e.g.
    spin-1/2 dephasing alone) the rate is returned and the diagonal zeroed (state-independent
    decay: jump times are drawn directly, evolution between jumps is unitary). (tgt, val) of
    ``monomial_jumps``: when no L_k maps two basis states onto one, L_k^dag L_k is the diagonal
    |val_k|^2 (the same sums, no sparse products); otherwise the sparse sum is checked."""
    if all(len(np.unique(t[v != 0])) == np.count_nonzero(v) for t, v in zip(tgt, val)):
        gam = np.zeros(ops.dim)
        for c in range(len(ops.jumps)):
            gam = gam + (val[c].conj() * val[c]).real
    else:
        gam_op = sp.csr_matrix((ops.dim, ops.dim), dtype=np.complex128)
        for j in ops.jumps:
            L = j.matrix.astype(np.complex128)
            gam_op = gam_op + (L.conj().T @ L)
        gam_op = sp.csr_matrix(gam_op)
        off = gam_op - sp.diags(gam_op.diagonal())
        if off.count_nonzero() and np.max(np.abs(off.data)) > 1e-12:
            raise InputError("sum_k L_k^dag L_k is not diagonal in the basis; use --method exact")
        gam = gam_op.diagonal().real.copy()
    if len(ops.jumps) and np.ptp(gam) <= 1e-12 * max(1.0, gam.max()):
        return np.zeros_like(gam), float(gam[0])
    return gam, 0.0


def schedule(times: np.ndarray, protocol: Protocol, stop_at_samples: bool):
    """(stops, f on each stop interval): t = 0 (the start of charging, also when the first sample
    is later), protocol switches, the last time and, for the methods without dense output for
    samples, every sample time."""
    end = float(times[-1])
    pts = {0.0, end}
    pts |= {float(b) for b in protocol.breakpoints(0.0, end) if 0.0 < b < end} if protocol.piecewise_constant else set()
    if stop_at_samples:
        pts |= {float(t) for t in times}
    stops = np.array(sorted(pts))
    if len(stops) == 1:
        stops = np.array([stops[0], stops[0]])
    fseg = np.array([protocol.value(0.5 * (a + b)) for a, b in zip(stops[:-1], stops[1:])], dtype=float)
    return stops, fseg


def sample_drive(times: np.ndarray, protocol: Protocol) -> np.ndarray:
    """f at each sample for the power estimator: the value on the interval starting there
    (piecewise constant), or f(t) (smooth)."""
    if not protocol.piecewise_constant:
        return np.array([protocol.value(float(t)) for t in times])
    end = float(times[-1])
    cuts = sorted({float(b) for b in protocol.breakpoints(float(times[0]), end)} | {end})
    out = []
    for t in times:
        nxt = next((b for b in cuts if b > t), None)
        out.append(protocol.value(0.5 * (t + nxt)) if nxt is not None else protocol.value(float(t)))
    return np.array(out, dtype=float)


def envelope_table(protocol: Protocol, t0: float, t1: float) -> np.ndarray:
    """(0,) for piecewise-constant protocols, else (1, t0, dt, n, f_k, f'_k) on a grid of spacing
    <= ENV_SPACING (f' by fourth-order central differences; interpolation error O(dt^4))."""
    if protocol.piecewise_constant:
        return np.zeros(4)
    n = max(int(np.ceil((t1 - t0) / ENV_SPACING)), 8) + 1
    dt = (t1 - t0) / (n - 1) if t1 > t0 else ENV_SPACING
    grid = t0 + dt * np.arange(-2, n + 2)
    fv = np.array([protocol.value(float(t)) for t in grid], dtype=float)
    df = (fv[:-4] - 8 * fv[1:-3] + 8 * fv[3:-1] - fv[4:]) / (12 * dt)
    return np.concatenate([[1.0, t0, dt, n], fv[2:-2], df])


def chebyshev_spec(ops: Operators, drive: float, fseg: np.ndarray, gam: np.ndarray) -> np.ndarray:
    """(c_r, g_c, a) per stop interval: spectral interval of H0 + lambda f V, damping centre."""
    H0 = ops.H0.astype(np.complex128)
    g_c = 0.25 * (float(gam.min()) + float(gam.max())) if gam.size else 0.0
    cache: dict[float, tuple[float, float]] = {}
    spec = np.zeros((len(fseg), 3))
    for s, f in enumerate(fseg):
        if float(f) not in cache:
            cache[float(f)] = spectral_interval(sp.csr_matrix(H0 + (drive * f) * ops.V))
        c_r, a = cache[float(f)]
        spec[s] = (c_r, g_c, max(a, 1e-12))
    return spec
