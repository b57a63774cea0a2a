"""Chebyshev propagation: exp(h G) y for a generator G with spectrum near a segment.

With G = c + i a Z and the spectrum of Z in (a thin ellipse around) [-1, 1],

    exp(h G) y = e^{h c} sum_k (2 - delta_k0) i^k J_k(a h) T_k(Z) y      (Jacobi-Anger)

and the terms W_k = i^k T_k(Z) y obey  W_0 = y,  W_1 = (G - c) y / a,
W_{k+1} = (2/a)(G - c) W_k + W_{k-1}. The Bessel factors J_k(x) fall faster than
exponentially once k > x = a h, so a step of length h costs about a h + O(log(1/tol))
applications of G: close to the minimum for oscillatory dynamics, with no step-size
restriction. The series is summed until two consecutive terms past k = a h are below the
tolerance (a posteriori, from the actual term norms; a step that does not converge is halved).

One core for the three paths (closed, exact Lindblad, trajectories): the Bessel weights come from
``kernels.chebyshev.bessel_j`` (Miller's recurrence), the stopping test is
``kernels.chebyshev.term_error`` and the spectral interval :func:`spectral_interval`; the
trajectory kernels call the first two directly, the solvers here through :func:`bessel_terms`.

Closed dynamics: G = -i H (H Hermitian, spectrum [E_min, E_max]); Lindblad dynamics:
G = L (spectrum in Re <= 0, |Im| <= E_max - E_min of the Hamiltonian part).
"""

from __future__ import annotations

import numba as nb
import numpy as np
import scipy.sparse as sp

from .kernels.chebyshev import bessel_j, term_error

__all__ = ["spectral_interval", "bessel_terms", "term_error", "X_MAX", "X_MAX_MEASURED", "GROWTH", "closed_step"]

X_MAX = 120.0  # longest step in units of 1/a (more terms per step, fewer steps)
X_MAX_MEASURED = 1000.0  # the same for generators that measure each step's growth (``fused``)
GROWTH = 1e4  # largest ||T_k(Z) W_0|| / ||W_0|| a step may meet (cancellation: log10 GROWTH digits)
# closed and exact steps stop when term_error <= 1 at scale SERIES_MARGIN tol ||y||: a run takes
# many steps at a tolerance near round-off and their truncation errors add up (catalog, t = 3,
# against a 1e-15 reference: <= 1e-11 of scale at margin 1, <= 2e-13 at 0.1)
SERIES_MARGIN = 0.1


def spectral_interval(H) -> tuple[float, float]:
    """(centre, half-width) of an interval holding the spectrum of the Hermitian matrix H.

    Dense ``eigvalsh`` for dim <= 400, else ARPACK estimates of the extreme eigenvalues
    (tolerance 1e-6, fixed start vector: the same interval on every run; Gershgorin discs when
    ARPACK does not converge); the half-width is widened by 1 % plus 1e-6 of the largest
    |eigenvalue| (energy units; covers ARPACK's tolerance). The one bound routine of the
    Chebyshev propagators: the trajectory kernels' interval (``trajectory_setup.chebyshev_spec``;
    their seeded runs depend on its bits), the closed solver's and the exact solver's (the
    Hamiltonian part of L). A slight underestimate only costs terms: every series is summed a
    posteriori.
    """
    dim = H.shape[0]
    if dim <= 400:
        w = np.linalg.eigvalsh(H.toarray() if sp.issparse(H) else H)
        lo, hi = float(w[0]), float(w[-1])
    else:
        from scipy.sparse.linalg import ArpackNoConvergence, eigsh

        try:
            rng = np.random.default_rng(0)  # fixed start vector: same interval on every run
            v0 = rng.standard_normal(dim) + (0j if np.iscomplexobj(H) else 0.0)
            hi = float(eigsh(H, k=1, which="LA", tol=1e-6, v0=v0, return_eigenvectors=False)[0])
            lo = float(eigsh(H, k=1, which="SA", tol=1e-6, v0=v0, return_eigenvectors=False)[0])
        except ArpackNoConvergence:
            A = sp.csr_matrix(H)
            d = A.diagonal().real
            rad = np.asarray(abs(A).sum(axis=1)).ravel() - np.abs(d)
            lo, hi = float(np.min(d - rad)), float(np.max(d + rad))
    half = 0.5 * (hi - lo)
    pad = 0.01 * half + 1e-6 * max(abs(lo), abs(hi), 1.0)
    return 0.5 * (hi + lo), half + pad


def bessel_terms(x: float, kmax: int) -> np.ndarray:
    """(2 - delta_k0) J_k(x) for k = 0 .. kmax-1, x >= 0: the Jacobi-Anger weights, from the
    kernels' ``bessel_j`` (the one Bessel routine of the three paths)."""
    b = np.empty(kmax)
    bessel_j(float(x), kmax - 1, b, np.empty(kmax))
    b[1:] *= 2.0
    return b


def max_terms(x: float) -> int:
    """Term budget of a closed or exact step of length x = a h (then the step is halved)."""
    return int(2.5 * x + 60)



@nb.njit(cache=True, inline="always")
def _csr_row(ptr, idx, data, U, i):
    """Row i of a CSR matrix M applied to both parts of U (2, dim): ((M psi)_i, (M phi)_i)."""
    a0 = 0j
    a1 = 0j
    for q in range(ptr[i], ptr[i + 1]):
        h = data[q]
        a0 += h * U[0, idx[q]]
        a1 += h * U[1, idx[q]]
    return a0, a1


@nb.njit(cache=True, inline="always")
def _close_row(i, h, v, prm, U, P, acc, coef):
    """Row i of the recurrence from h = (H0 U)_i and v = (V U)_i (psi and phi parts): P[:, i] <-
    s (Z_aug U)_i + beta P[:, i], acc[i, :, j] += coef[j] P[:, i]; returns |P[:, i]|^2."""
    g, f, c, s, beta = prm[0], prm[1], prm[2], prm[3], prm[4]
    n0 = s * (h[0] + g * v[0] - c * U[0, i]) + beta * P[0, i]
    n1 = s * (h[1] + g * v[1] + f * v[0] - c * U[1, i]) + beta * P[1, i]
    P[0, i] = n0
    P[1, i] = n1
    for j in range(acc.shape[2]):
        acc[i, 0, j] += coef[j] * n0
        acc[i, 1, j] += coef[j] * n1
    return n0.real ** 2 + n0.imag ** 2 + n1.real ** 2 + n1.imag ** 2


@nb.njit(cache=True, parallel=True)
def _closed_term(hp, hi, hd, vp, vi, vd, prm, U, P, acc, coef):
    """One Chebyshev recurrence step on the augmented (psi, phi) pair, in place on P.

    Z = (H0 + g V - c) / a on psi; on phi the tangent row adds f V psi / a.
    prm = (g, f, c, 2/a, beta): P <- (2/a)(Z_aug U) + beta P, then acc[:, :, j] += coef[j] P.T
    for each output time j. U, P: (2, dim), acc: (dim, 2, n_out) complex (one contiguous
    block per row). Returns |P|^2 by rows (summed by :func:`ordered_sum`: ``norms.sum()`` in a
    ``parallel=True`` function is a parallel reduction whose order, hence last bits, depend on
    the thread count).
    """
    dim = U.shape[1]
    norms = np.zeros(dim)
    for i in nb.prange(dim):
        norms[i] = _close_row(i, _csr_row(hp, hi, hd, U, i), _csr_row(vp, vi, vd, U, i), prm, U, P, acc, coef)
    return norms  # summed in order by the caller: a sum here would be a parallel reduction


@nb.njit(cache=True, parallel=True)
def _closed_term_xor(hp, hi, hd, masks, mv, prm, U, P, acc, coef):
    """:func:`_closed_term` with a matrix-free charger V u[i] = sum_m mv[m] u[i ^ masks[m]]
    (a uniform transverse field in the full spin-1/2 basis: no index or value reads)."""
    dim = U.shape[1]
    norms = np.zeros(dim)
    for i in nb.prange(dim):
        b0 = 0j
        b1 = 0j
        for m in range(len(masks)):
            j = i ^ masks[m]
            b0 += mv[m] * U[0, j]
            b1 += mv[m] * U[1, j]
        norms[i] = _close_row(i, _csr_row(hp, hi, hd, U, i), (b0, b1), prm, U, P, acc, coef)
    return norms  # summed in order by the caller


def xor_form(A):
    """(masks, values) with (A x)_i = sum_q values[q] x_(i XOR masks[q]) for every basis index i
    (A a sum of bit-flip permutations with constant weights, e.g. a sigma^x field on spins 1/2 in
    the full computational basis, site amplitudes allowed), masks ascending, values float64 when
    real; None when A has not that form. The one detector of the flip form: the closed solver's
    and the trajectory kernels' matrix-free charger both use it."""
    A = sp.csr_matrix(A, copy=True)
    A.sum_duplicates()
    A.eliminate_zeros()
    n = A.shape[0]
    counts = np.diff(A.indptr)
    if n & (n - 1) or A.nnz == 0 or np.any(counts != counts[0]):
        return None
    rows = np.repeat(np.arange(n, dtype=np.int64), counts)
    masks = (rows ^ A.indices.astype(np.int64)).reshape(n, counts[0])
    order = np.argsort(masks, axis=1, kind="stable")
    masks = np.take_along_axis(masks, order, axis=1)
    data = np.take_along_axis(A.data.reshape(n, counts[0]), order, axis=1)
    if not (np.array_equal(masks, np.broadcast_to(masks[0], masks.shape))
            and np.array_equal(data, np.broadcast_to(data[0], data.shape))):
        return None
    vals = data[0]
    real = not np.iscomplexobj(vals) or not np.any(vals.imag)
    return np.ascontiguousarray(masks[0]), np.array(vals.real if real else vals, dtype=np.float64 if real
                                                    else np.complex128)


def charger_pack(V, matrix_free: bool = True):
    """("xor", masks, values) when V is a sum of constant-weight bit flips, else ("csr", arrays)."""
    xf = xor_form(V) if matrix_free else None
    return ("xor", *xf) if xf is not None else ("csr", *csr_arrays(V))


@nb.njit(cache=True)
def ordered_sum(x):
    """Sum of a 1-d float array from the first element to the last (the same bits for any thread count)."""
    s = 0.0
    for v in x:
        s += v
    return s


def _term(hcsr, vpack, *rest):
    if vpack[0] == "xor":
        return ordered_sum(_closed_term_xor(*hcsr, vpack[1], vpack[2], *rest))
    return ordered_sum(_closed_term(*hcsr, *vpack[1:], *rest))


def closed_step(pack, y: np.ndarray, f: float, offsets, interval, tol: float):
    """exp(-i s [[H_f, 0], [f V, H_f]]) y for each s in ``offsets`` (increasing, last = step length).

    One member, y of shape (2, dim). pack = (H0 CSR arrays, :func:`charger_pack` of V, drive);
    interval = (centre, half-width) of the spectrum of H_f (:func:`spectral_interval`); the
    series stops by ``term_error`` at scale SERIES_MARGIN tol ||y|| (terms weighted at the last
    offset). Returns
    ((n_out, 2, dim) states or None, terms used).
    """
    hcsr, vcsr, drive = pack
    c, a = interval
    offsets = np.asarray(offsets, float)
    x = a * offsets[-1]
    kmax = max_terms(x)
    # exp(-i s H) = e^{-i s c} sum (2 - d_k0) (-i)^k J_k(a s) T_k(Z); T_k by the plain recurrence
    b = np.array([bessel_terms(a * s, kmax) for s in offsets]) * np.exp(-1j * offsets * c)[:, None]
    b *= (-1j) ** (np.arange(kmax) % 4)[None, :]
    ynorm = np.sqrt(np.vdot(y, y).real) or 1.0
    prev = y.copy()
    acc = np.ascontiguousarray(y.T[:, :, None] * b[None, None, :, 0])
    cur = np.zeros_like(y)
    prm = np.array([drive * f, f, c, 1.0 / a, 0.0], dtype=np.complex128)
    nrm = _term(hcsr, vcsr, prm, prev, cur, acc, np.ascontiguousarray(b[:, 1]))  # T_1 = Z y
    prm[3] = 2.0 / a
    prm[4] = -1.0
    scale = SERIES_MARGIN * tol * ynorm
    a_prev = abs(b[-1, 0]) * ynorm
    k = 1
    while True:
        a_k = abs(b[-1, k]) * np.sqrt(nrm)
        if term_error(k, x, a_k, a_prev, scale) <= 1.0:
            return acc.transpose(2, 1, 0), k
        if k + 1 >= kmax:
            return None, k + 1
        k += 1
        a_prev = a_k
        nrm = _term(hcsr, vcsr, prm, cur, prev, acc, np.ascontiguousarray(b[:, k]))
        prev, cur = cur, prev


def csr_arrays(A) -> tuple:
    A = sp.csr_matrix(A)
    A.sort_indices()
    data = A.data if np.iscomplexobj(A.data) else A.data.astype(np.float64)
    return A.indptr, A.indices, data  # QuSpin's int32 indices where they fit (no copy)
