"""Plain-Numba (scalar) form of the kernels' innermost loops: the fallback of ``simd``, with the
same entry points, arguments and results (``forms`` picks one of the two).

Every sum runs in the order of the vector form lane by lane: a vector lane of ``simd`` is one
named double here (e.g. the four lanes (Re psi_k, Im psi_k, Re phi_k, Im phi_k) of a CSR row sum
are s0..s3, each started from +0 and added in entry order), the vector multiplies by +-1 are
written out, and the lanes are combined at the end as the IR combines them; all IEEE multiplies
and adds, no fused multiply-add. So the results are the vector form's bits (tested). Complex
matrix data (``row_pair``, ``row_dot``) take the complex products in the order of Numba's complex
multiplication (both forms use this code for them).

Argument conventions (interleaved augmented vector y[2k] = psi_k, y[2k + 1] = phi_k; ``common``):

* ``row_pair(cd, ci, lo, hi, x)`` -> (sum_p cd[p] psi[ci[p]], sum_p cd[p] phi[ci[p]]) over the
  entries lo..hi-1; ``row_dot`` the psi sum alone;
* ``cheb_rows_*(ops, coefs, x, prev, out)`` (``packs.ProductOps``, ``packs.ProductCoefs``) ->
  (n_psi, n_phi): out = alpha (A x) + beta x + gamma prev for the augmented generator A with V
  not read ("0", f = 0), read from its CSR rows ("v") or its flip form ("x"), and the squared
  norms of out's psi and phi parts;
* ``record_rows_*(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y)`` -> (n, e, c, o, k, v): the six
  sums of one recording (``common._record_sums``; H_B and K0 on one pattern, V as above);
* ``series_sums(bs, phs, s0, W, m, kb, ke, outs)`` (one sample), ``series_sums4`` (samples
  s0..s0 + 3), ``series_sums_psi`` (psi entries only): outs[s, k] = phs[s] (S_e - i S_o) with
  S_e = sum_(even t <= m) bs[s, t] W[t, k], S_o the odd terms (``chebyshev._series``); phs may
  be the phase itself (a complex number) for one sample.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

NO_V, CSR_V, XOR_V = 0, 1, 2  # how the fused loops read V: not at all (f = 0), CSR rows, flip form


def _mac(a, u, s_r, s_i):
    """(s_r, s_i) + a u (stub; see ``_mac_impl``)."""


@overload(_mac, inline="always")
def _mac_impl(a, u, s_r, s_i):
    """Real a: the vector form's lanes (s_r + a Re u, s_i + a Im u); complex a: the complex
    product's parts in the order of Numba's complex multiplication."""
    if isinstance(a, types.Float):
        return lambda a, u, s_r, s_i: (s_r + a * u.real, s_i + a * u.imag)
    return lambda a, u, s_r, s_i: (s_r + (a.real * u.real - a.imag * u.imag),
                                   s_i + (a.real * u.imag + a.imag * u.real))


@njit(cache=True)
def row_pair(cd, ci, lo, hi, x):
    """(sum_p cd[p] psi[ci[p]], sum_p cd[p] phi[ci[p]]) over the entries lo..hi-1."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for p in range(lo, hi):
        a = cd[p]
        j = 2 * ci[p]
        s0, s1 = _mac(a, x[j], s0, s1)
        s2, s3 = _mac(a, x[j + 1], s2, s3)
    return complex(s0, s1), complex(s2, s3)


@njit(cache=True)
def row_dot(cd, ci, lo, hi, x):
    """sum_p cd[p] psi[ci[p]] over the entries lo..hi-1."""
    s0 = 0.0
    s1 = 0.0
    for p in range(lo, hi):
        s0, s1 = _mac(cd[p], x[2 * ci[p]], s0, s1)
    return complex(s0, s1)


@njit(cache=True, inline="always")
def _csr_lanes(cd, ci, lo, hi, xf):
    """The four lanes (psi, phi as doubles xf) of a real CSR row sum over entries lo..hi-1."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for p in range(lo, hi):
        a = cd[p]
        j = 4 * np.int64(ci[p])
        s0 += a * xf[j]
        s1 += a * xf[j + 1]
        s2 += a * xf[j + 2]
        s3 += a * xf[j + 3]
    return s0, s1, s2, s3


@njit(cache=True, inline="always")
def _xor_lanes(xm, xc, i, xf):
    """The four lanes of row i of V x in the flip form, in mask order."""
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    s3 = 0.0
    for q in range(xm.shape[0]):
        c = xc[q]
        j = 4 * (i ^ xm[q])
        s0 += c * xf[j]
        s1 += c * xf[j + 1]
        s2 += c * xf[j + 2]
        s3 += c * xf[j + 3]
    return s0, s1, s2, s3


@njit(cache=True)
def _cheb_rows(ops, coefs, x, prev, out, v_form):
    """``cheb_rows_*`` with V read as v_form says (NO_V, CSR_V, XOR_V); per row i the lanes of
    r = H0 x (+ lf V x, + f V psi on phi), then out_i = alpha r_i + beta_r x_i + d_i (i x_i)
    + gamma prev_i with d_i = beta_i - (alpha / 2) Gamma_i, and the four norm lanes."""
    xf, pf, of = x.view(np.float64), prev.view(np.float64), out.view(np.float64)
    al, br, bi, ga, lf, f = coefs.alpha, coefs.beta_r, coefs.beta_i, coefs.gamma, coefs.lf, coefs.f
    n0 = 0.0
    n1 = 0.0
    n2 = 0.0
    n3 = 0.0
    for i in range(ops.gam.shape[0]):
        k = 4 * i
        x0, x1, x2, x3 = xf[k], xf[k + 1], xf[k + 2], xf[k + 3]
        r0, r1, r2, r3 = _csr_lanes(ops.cd, ops.ci, ops.p0[i], ops.p0[i + 1], xf)
        d = ops.d0[i]
        r0, r1, r2, r3 = r0 + d * x0, r1 + d * x1, r2 + d * x2, r3 + d * x3
        if v_form != NO_V:
            if v_form == CSR_V:
                v0, v1, v2, v3 = _csr_lanes(ops.cd, ops.ci, ops.p1[i], ops.p1[i + 1], xf)
            else:
                v0, v1, v2, v3 = _xor_lanes(ops.xm, ops.xc, i, xf)
            r0 = (r0 + lf * v0) + f * 0.0
            r1 = (r1 + lf * v1) + f * 0.0
            r2 = (r2 + lf * v2) + f * v0
            r3 = (r3 + lf * v3) + f * v1
        di = bi - (al * 0.5) * ops.gam[i]
        o0 = ((al * r0 + br * x0) + di * (x1 * -1.0)) + ga * pf[k]
        o1 = ((al * r1 + br * x1) + di * (x0 * 1.0)) + ga * pf[k + 1]
        o2 = ((al * r2 + br * x2) + di * (x3 * -1.0)) + ga * pf[k + 2]
        o3 = ((al * r3 + br * x3) + di * (x2 * 1.0)) + ga * pf[k + 3]
        of[k], of[k + 1], of[k + 2], of[k + 3] = o0, o1, o2, o3
        n0 += o0 * o0
        n1 += o1 * o1
        n2 += o2 * o2
        n3 += o3 * o3
    return n0 + n1, n2 + n3


@njit(cache=True)
def cheb_rows_0(ops, coefs, x, prev, out):
    """The fused Chebyshev product with V not read (f = 0)."""
    return _cheb_rows(ops, coefs, x, prev, out, NO_V)


@njit(cache=True)
def cheb_rows_v(ops, coefs, x, prev, out):
    """The fused Chebyshev product with V from its CSR rows."""
    return _cheb_rows(ops, coefs, x, prev, out, CSR_V)


@njit(cache=True)
def cheb_rows_x(ops, coefs, x, prev, out):
    """The fused Chebyshev product with V from its flip form."""
    return _cheb_rows(ops, coefs, x, prev, out, XOR_V)


@njit(cache=True, inline="always")
def _v_psi(cd, ci, pv, xm, xc, i, yf, v_form):
    """(Re, Im) of (V psi)_i: zero (NO_V), from V's CSR rows or from its flip form."""
    v0 = 0.0
    v1 = 0.0
    if v_form == CSR_V:
        for p in range(pv[i], pv[i + 1]):
            a = cd[p]
            j = 4 * np.int64(ci[p])
            v0 += a * yf[j]
            v1 += a * yf[j + 1]
    elif v_form == XOR_V:
        for q in range(xm.shape[0]):
            c = xc[q]
            j = 4 * (i ^ xm[q])
            v0 += c * yf[j]
            v1 += c * yf[j + 1]
    return v0, v1


@njit(cache=True)
def _record_rows(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y, v_form):
    """``record_rows_*`` with V read as v_form says; three groups of four lanes (a: e, k;
    b: c, o; c: v, n), combined in pairs at the end as the vector form does."""
    yf = y.view(np.float64)
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    c0 = c1 = c2 = c3 = 0.0
    for i in range(phb.shape[0] - 1):
        lo = phb[i]
        d = pk0[i] - lo
        h0 = h1 = k0 = k1 = 0.0
        for p in range(lo, phb[i + 1]):
            a = cd[p]
            b = cd[p + d]
            j = 4 * np.int64(ci[p])
            h0 += a * yf[j]
            h1 += a * yf[j + 1]
            k0 += b * yf[j]
            k1 += b * yf[j + 1]
        y0, y1, y2, y3 = yf[4 * i], yf[4 * i + 1], yf[4 * i + 2], yf[4 * i + 3]
        dh = dhb[i]
        dk = dk0[i]
        h0, h1, k0, k1 = h0 + dh * y0, h1 + dh * y1, k0 + dk * y0, k1 + dk * y1
        v0, v1 = _v_psi(cd, ci, pv, xm, xc, i, yf, v_form)
        a0, a1, a2, a3 = a0 + y0 * h0, a1 + y1 * h1, a2 + y0 * k0, a3 + y1 * k1
        b0, b1, b2, b3 = b0 + y2 * h0, b1 + y3 * h1, b2 + y0 * y2, b3 + y1 * y3
        c0 += v0 * (h1 * 1.0)
        c1 += v1 * (h0 * -1.0)
        c2 += y0 * (y0 * 1.0)
        c3 += y1 * (y1 * 1.0)
    return c2 + c3, a0 + a1, b0 + b1, b2 + b3, a2 + a3, c0 + c1


@njit(cache=True)
def record_rows_0(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y):
    """The recording sums with V not read (v = 0)."""
    return _record_rows(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y, NO_V)


@njit(cache=True)
def record_rows_v(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y):
    """The recording sums with V from its CSR rows."""
    return _record_rows(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y, CSR_V)


@njit(cache=True)
def record_rows_x(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y):
    """The recording sums with V from its flip form."""
    return _record_rows(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y, XOR_V)


def _phase(phs, s):
    """The phase of sample s (stub: phs[s], or phs itself when it is a complex number)."""


@overload(_phase, inline="always")
def _phase_impl(phs, s):
    if isinstance(phs, types.Complex):
        return lambda phs, s: phs
    return lambda phs, s: phs[s]


@njit(cache=True)
def _series_sums(bs, phs, s0, W, m, kb, ke, outs, nsamp, psi_only):
    """``series_sums*`` for the samples s0..s0 + nsamp - 1; per entry the even and odd sums of
    the terms in order, then ph (S_e - i S_o) with the vector form's sign and swap steps. The
    pair form covers whole (psi_k, phi_k) pairs of [kb, ke) as the vector form does."""
    step = 1 if psi_only else 2
    k_end = kb + (ke - kb) // step * step
    for s in range(s0, s0 + nsamp):
        ph = _phase(phs, s)
        pr = ph.real
        pi = ph.imag
        for k in range(kb, k_end):
            col = 2 * k if psi_only else k
            w = W[0, col]
            b0 = bs[s, 0]
            er = b0 * w.real
            ei = b0 * w.imag
            o_r = 0.0
            o_i = 0.0
            for t in range(1, m, 2):
                w = W[t, col]
                o_r += bs[s, t] * w.real
                o_i += bs[s, t] * w.imag
                w = W[t + 1, col]
                er += bs[s, t + 1] * w.real
                ei += bs[s, t + 1] * w.imag
            if m % 2 == 1:
                w = W[m, col]
                o_r += bs[s, m] * w.real
                o_i += bs[s, m] * w.imag
            zr = er + o_i * 1.0
            zi = ei + o_r * -1.0
            outs[s, k] = complex(pr * zr + pi * (zi * -1.0), pr * zi + pi * (zr * 1.0))


@njit(cache=True)
def series_sums(bs, phs, s0, W, m, kb, ke, outs):
    """The series of sample s0 on the (psi, phi) entries [kb, ke) of outs[s0]."""
    _series_sums(bs, phs, s0, W, m, kb, ke, outs, 1, False)


@njit(cache=True)
def series_sums4(bs, phs, s0, W, m, kb, ke, outs):
    """The series of samples s0..s0 + 3 (one m for the four; zero weights past a sample's cut)."""
    _series_sums(bs, phs, s0, W, m, kb, ke, outs, 4, False)


@njit(cache=True)
def series_sums_psi(bs, phs, s0, W, m, kb, ke, outs):
    """The series of sample s0 on psi alone: outs[s0, k] from the entries W[t, 2k]."""
    _series_sums(bs, phs, s0, W, m, kb, ke, outs, 1, True)
