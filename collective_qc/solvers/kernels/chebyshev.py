"""Chebyshev exponential step for a piecewise-constant generator (the default integrator).

Between protocol switches the augmented generator A (see ``common``) is constant and
exp(-i tau A) y = exp(-i tau c) sum_k (2 - delta_k0) (-i)^k J_k(tau a) T_k(X) y with
X = (A - c) / a, where [c_r - a, c_r + a] encloses the spectrum of H0 + lambda f V and
c = c_r - i g_c centres the damping -Gamma/2 (Tal-Ezer & Kosloff 1984; the block-triangular A is
handled by the same series, its phi block being the Frechet derivative). Each term costs one
product and no orthogonalisation, and the step follows the spectrum: about tau a + O((tau a)^(1/3))
products for time tau, against ~ tau ||A||_1 (x 2-3 for the hump) for a Taylor series.

The terms T_k(X) y are the dense output: the state at tau' = theta tau inside the step is the
same sum with J_k(theta tau a) (a shorter argument, so a smaller truncation error). The series
stops when two consecutive terms (past k = tau a) are below tolerance: psi against
(atol + rtol) ||psi||, phi against atol ||psi|| + rtol ||phi|| (root mean square of the blocks).
The jump time solves ||psi(theta)||^2 = r by safeguarded Newton iterations on the dense output
(derivative -tau <psi|Gamma|psi>) from the cubic Hermite estimate, to machine precision in theta.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

from .common import H0, V, apply_aug, hermite_root
from .forms import cheb_rows_0, cheb_rows_v, cheb_rows_x, series_sums, series_sums4, series_sums_psi
from .packs import ProductCoefs, ProductOps

DENSE_CHUNK = 128  # entries of the stored terms summed per pass (even: the vector form takes pairs)
W_PAD = 8  # spare entries per stored term: rows 2^k * 16 bytes apart share cache sets (measured 3x slower sums)


BESSEL_SERIES_Z = 1e-30  # below: the leading power-series term (its next correction is below 1e-60)


@njit(cache=True)
def bessel_j(z, m, out, buf):
    """out[k] = J_k(z), k = 0..m, z >= 0 (Miller's backward recurrence, normalised with
    J_0 + 2 sum J_2k = 1); buf is scratch of length > m.

    The one Bessel routine of the Chebyshev series (Jacobi-Anger coefficients
    (2 - delta_k0) (-i)^k J_k(tau a)): the trajectory kernels (``_weights``) and, through
    ``solvers.chebyshev.bessel_terms``, the closed and exact solvers. Absolute error <= 3e-16
    for z <= 120, k <= 360 against 40-digit mpmath (scipy.special.jv: 5e-15 there)."""
    if z < BESSEL_SERIES_Z:  # the recurrence's 2k/z would overflow: J_k = (z/2)^k / k! to double precision
        out[0] = 1.0
        for k in range(1, m + 1):
            out[k] = out[k - 1] * (0.5 * z) / k
        return
    top = max(m, int(z)) + 20 + int(6.5 * np.sqrt(max(m, z)))
    top += top % 2
    jp = 0.0
    jc = 1e-300
    norm = 0.0
    for k in range(top, 0, -1):  # jc = J_k (unnormalised), compute J_{k-1}
        if k <= m:
            buf[k] = jc
        if k % 2 == 0:
            norm += 2.0 * jc
        jn = (2.0 * k / z) * jc - jp
        jp = jc
        jc = jn
        if abs(jc) > 1e250:
            jp *= 1e-250
            jc *= 1e-250
            norm *= 1e-250
            for q in range(k - 1, min(m, top) + 1):
                if q >= 1:
                    buf[q] *= 1e-250
    norm += jc
    out[0] = jc / norm
    for k in range(1, m + 1):
        out[k] = buf[k] / norm


@njit(cache=True)
def term_error(m, z, a_m, a_prev, scale):
    """Error of a Chebyshev series stopped after term m, in units of the tolerance ``scale``.

    (a_m + a_{m-1}) / scale, with a_k = |c_k| ||T_k(X) y|| the norms of the last two terms of
    sum_k c_k T_k(X) y; +inf while m <= z = tau a (before the transition the Bessel weights
    J_k(z) still oscillate and the terms need not decay). The one termination rule of the
    Chebyshev propagators (closed, exact and trajectory paths): a step is accepted when the error
    is <= 1 (the root mean square over the blocks of a state checked with several tolerances, psi
    and phi in ``cheb_step``; closed and exact: one block, scale ``SERIES_MARGIN`` tol ||y||).
    Past k = z the weights fall faster than geometrically, and T_k,
    T_{k-1} cannot both be small on a spectral component, so two consecutive terms bound the
    neglected tail.
    """
    if m <= z:
        return np.inf
    return (a_m + a_prev) / scale


@njit(cache=True)
def _weights(tau, spec, m, bes, buf, b):
    """Real weights b and phase ph of the series at time tau: its coefficients are
    (2 - delta_k0) (-i)^k J_k(tau a) exp(-i tau c) = ph b_k (1 for even k, -i for odd k) with
    b_k = (2 - delta_k0) s_k J_k(tau a), s_k = +1 for k mod 4 in {0, 1}, else -1. Returns ph."""
    c_r, g_c, a = spec[0], spec[1], spec[2]
    bessel_j(tau * a, m, bes, buf)
    for k in range(m + 1):
        b[k] = (1.0 if k == 0 else 2.0) * (1.0 if k % 4 < 2 else -1.0) * bes[k]
    return np.exp(-1j * tau * c_r - tau * g_c)


def _product(mats, gam, lf, f, x, out, alpha, beta, prev, gamma):
    """out = alpha A x + beta x + gamma prev (alpha, gamma real); returns the squared norms of
    out's psi and phi parts (stub: one fused pass ``forms.cheb_rows_*`` for real matrix data in
    the kernel form mats.form, else ``apply_aug``)."""


@overload(_product, inline="always")
def _product_impl(mats, gam, lf, f, x, out, alpha, beta, prev, gamma):
    if mats.types[mats.fields.index("cd")].dtype == types.float64:
        def fused(mats, gam, lf, f, x, out, alpha, beta, prev, gamma):
            cp, dg, xm = mats.cp, mats.dg, mats.xm
            b = complex(beta)
            ops = ProductOps(mats.cd, mats.ci, cp[H0], cp[V], xm, mats.xc, dg[H0], gam)
            coefs = ProductCoefs(alpha, b.real, b.imag, gamma, lf, f)
            if f == 0.0:
                return cheb_rows_0(mats.form, ops, coefs, x, prev, out)
            if xm.shape[0] > 0:
                return cheb_rows_x(mats.form, ops, coefs, x, prev, out)
            return cheb_rows_v(mats.form, ops, coefs, x, prev, out)
        return fused

    def general(mats, gam, lf, f, x, out, alpha, beta, prev, gamma):
        return apply_aug(mats, gam, lf, f, x, out, alpha, beta, prev, gamma)
    return general


@njit(cache=True)
def cheb_step(mats, gam, par, f, y, yn, tau, spec, ser):
    """yn = exp(-i tau A) y by the Chebyshev series; ser (``packs.Series``): W[k] = T_k(X) y, b the
    real weights (see ``_weights``); lambda, rtol, atol, m_max from par (``packs.Params``).
    Returns the number of terms m (products used), or -(m_max) when the series did not converge
    (shorten the step)."""
    W, bes, buf, b = ser.W, ser.bes, ser.buf, ser.b
    lam, rtol, atol, m_max = par.lam, par.rtol, par.atol, par.m_max
    n = y.shape[0]
    dim = n // 2
    c_r, g_c, a = spec[0], spec[1], spec[2]
    c = c_r - 1j * g_c
    z = tau * a
    ph = _weights(tau, spec, m_max, bes, buf, b)
    n_psi = 0.0
    n_phi = 0.0
    for k in range(n):
        W[0, k] = y[k]
    for k in range(dim):
        n_psi += y[2 * k].real ** 2 + y[2 * k].imag ** 2
        n_phi += y[2 * k + 1].real ** 2 + y[2 * k + 1].imag ** 2
    s_psi = np.sqrt(n_psi)
    sc_psi = (atol + rtol) * s_psi
    sc_phi = atol * s_psi + rtol * np.sqrt(n_phi)
    lf = lam * f
    mag = abs(ph)
    prev_psi = abs(b[0]) * mag * s_psi
    prev_phi = abs(b[0]) * mag * np.sqrt(n_phi)
    for m in range(1, m_max + 1):
        if m == 1:
            a_psi, a_phi = _product(mats, gam, lf, f, W[0], W[1], 1.0 / a, -c / a, W[0], 0.0)
        else:
            a_psi, a_phi = _product(mats, gam, lf, f, W[m - 1], W[m], 2.0 / a, -2.0 * c / a, W[m - 2], -1.0)
        am = abs(b[m]) * mag
        a_psi = am * np.sqrt(a_psi)
        a_phi = am * np.sqrt(a_phi)
        e_psi = term_error(m, z, a_psi, prev_psi, sc_psi)
        e_phi = term_error(m, z, a_phi, prev_phi, sc_phi)
        if 0.5 * (e_psi * e_psi + e_phi * e_phi) <= 1.0:
            _series(ser, ph, m, 0, n, yn, False)
            return m
        prev_psi = a_psi
        prev_phi = a_phi
    return -m_max


@njit(cache=True)
def cheb_dense(ser, m, theta, tau, spec, out, cut):
    """out = the series at tau' = theta tau (the interleaved (psi, phi)) from the step's stored
    terms ser (``packs.Series``), with the m terms of the step less the trailing ones whose
    coefficients are below cut (a hundredth of the last coefficient of the accepted step: the
    Bessel tail at theta < 1 decays sooner)."""
    m, ph = _dense_weights(m, theta, tau, spec, ser.bes, ser.buf, ser.b, cut)
    _series(ser, ph, m, 0, out.shape[0], out, False)


@njit(cache=True)
def cheb_dense_psi(ser, m, theta, tau, spec, out, cut):
    """out (dim,) = psi alone of ``cheb_dense`` (the same sums: the same bits)."""
    m, ph = _dense_weights(m, theta, tau, spec, ser.bes, ser.buf, ser.b, cut)
    _series(ser, ph, m, 0, out.shape[0], out, True)


@njit(cache=True)
def _series(ser, ph, m, kb, ke, out, psi_only):
    """out[kb:ke] = ph sum_{i <= m} b_i (1 | -i) W[i, kb:ke] = ph (S_even - i S_odd) with the
    weights b and terms W of ser (see ``_weights``; ``forms.series_sums`` in the kernel form
    ser.form); with psi_only, out[k] from the psi entries W[i, 2k]."""
    b = ser.b
    bs = b.reshape((1, b.shape[0]))
    outs = out.reshape((1, out.shape[0]))
    if psi_only:
        series_sums_psi(ser.form, bs, ph, 0, ser.W, m, kb, ke, outs)
    else:
        series_sums(ser.form, bs, ph, 0, ser.W, m, kb, ke, outs)


@njit(cache=True)
def _dense_weights(m, theta, tau, spec, bes, buf, b, cut):
    """Weights and phase of the series at theta tau; returns (terms kept (see cheb_dense), phase)."""
    ph = _weights(theta * tau, spec, m, bes, buf, b)
    z = theta * tau * spec[2]
    mag = abs(ph)
    while m > z + 1 and abs(b[m]) * mag < cut:
        m -= 1
    return m, ph


@njit(cache=True)
def cheb_jump(ser, m, tau, spec, gam, r, ends, yt, cut):
    """theta in (0, 1] with ||psi(theta)||^2 = r on the step's dense output (safeguarded Newton
    from the cubic Hermite estimate of ends = (n_a, d_a, n_b, d_b): ||psi||^2 and its time
    derivative at the step's start and end)."""
    n_a, d_a, n_b, d_b = ends
    dim = gam.shape[0]
    lo = 0.0
    hi = 1.0
    th = hermite_root(n_a, d_a, n_b, d_b, tau, r)
    for _ in range(60):
        cheb_dense_psi(ser, m, th, tau, spec, yt[:dim], cut)
        nn = 0.0
        dd = 0.0
        for k in range(dim):
            q = yt[k].real ** 2 + yt[k].imag ** 2
            nn += q
            dd += gam[k] * q
        g = nn - r
        if g > 0.0:
            lo = th
        else:
            hi = th
        if g == 0.0:
            break
        new = th + g / (tau * dd) if dd > 0.0 else 0.5 * (lo + hi)
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - th) <= 1e-15 or hi - lo <= 1e-15:
            th = new
            break
        th = new
    return th


@njit(cache=True)
def cheb_dense_many(ser, m, thetas, tau, spec, bs, phs, outs, cut):
    """outs[s] = cheb_dense(theta = thetas[s]) for several samples (weights bs[s] and phases phs[s]
    as scratch; ser.b is not used): four samples per pass over the
    stored terms (each term read once for the four; a sample's weights past its own cut are set
    to zero), the terms taken in column blocks of DENSE_CHUNK entries that stay in cache while
    every sample uses them."""
    ns = thetas.shape[0]
    n = outs.shape[1]
    ms = np.empty(ns, dtype=np.int64)
    for s in range(ns):
        ms[s], phs[s] = _dense_weights(m, thetas[s], tau, spec, ser.bes, ser.buf, bs[s], cut)
        bs[s, ms[s] + 1: m + 1] = 0.0
    for kb in range(0, n, DENSE_CHUNK):
        ke = min(n, kb + DENSE_CHUNK)
        s = 0
        while s + 4 <= ns:
            series_sums4(ser.form, bs, phs, s, ser.W, ms[s: s + 4].max(), kb, ke, outs)
            s += 4
        while s < ns:
            series_sums(ser.form, bs, phs, s, ser.W, ms[s], kb, ke, outs)
            s += 1
