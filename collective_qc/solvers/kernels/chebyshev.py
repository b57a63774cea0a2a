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
from numba import njit

from .common import apply_aug, hermite_root
from .simd import add_term1, add_term1_psi, add_terms4, add_terms4_psi

DENSE_CHUNK = 128  # entries of the stored terms summed per pass (even: the vector form takes pairs)


@njit(cache=True)
def bessel_j(z, m, out, buf):
    """out[k] = J_k(z), k = 0..m, z >= 0 (Miller's backward recurrence, normalised with
    J_0 + 2 sum J_2k = 1); buf is scratch of length > m + z + 40 + 7 sqrt(m + z)."""
    if z == 0.0:
        for k in range(m + 1):
            out[k] = 0.0
        out[0] = 1.0
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
def _coeffs(tau, spec, m, bes, buf, coef):
    """coef[k] = (2 - delta_k0) (-i)^k J_k(tau a) exp(-i tau c), k = 0..m."""
    c_r, g_c, a = spec[0], spec[1], spec[2]
    bessel_j(tau * a, m, bes, buf)
    ph = np.exp(-1j * tau * c_r - tau * g_c)
    rot = 1.0 + 0.0j
    for k in range(m + 1):
        coef[k] = (1.0 if k == 0 else 2.0) * bes[k] * rot * ph
        rot *= -1j


@njit(cache=True)
def cheb_step(mats, gam, lam, f, y, tau, spec, W, yn, bes, buf, coef, rtol, atol, m_max):
    """yn = exp(-i tau A) y by the Chebyshev series; W[k] = T_k(X) y. Returns the number of
    terms m (products used), or -(m_max) when the series did not converge (shorten the step)."""
    n = y.shape[0]
    dim = n // 2
    c_r, g_c, a = spec[0], spec[1], spec[2]
    c = c_r - 1j * g_c
    z = tau * a
    _coeffs(tau, spec, m_max, bes, buf, coef)
    n_psi = 0.0
    n_phi = 0.0
    for k in range(n):
        W[0, k] = y[k]
        yn[k] = coef[0] * y[k]
    for k in range(dim):
        n_psi += y[2 * k].real ** 2 + y[2 * k].imag ** 2
        n_phi += y[2 * k + 1].real ** 2 + y[2 * k + 1].imag ** 2
    s_psi = np.sqrt(n_psi)
    sc_psi = (atol + rtol) * s_psi
    sc_phi = atol * s_psi + rtol * np.sqrt(n_phi)
    lf = lam * f
    prev_psi = abs(coef[0]) * s_psi
    prev_phi = abs(coef[0]) * np.sqrt(n_phi)
    for m in range(1, m_max + 1):
        if m == 1:
            a_psi, a_phi = apply_aug(mats, gam, lf, f, W[0], W[1], 1.0 / a, -c / a, W[0], 0.0)
        else:
            a_psi, a_phi = apply_aug(mats, gam, lf, f, W[m - 1], W[m], 2.0 / a, -2.0 * c / a, W[m - 2], -1.0)
        cm = coef[m]
        add_term1(coef, W, m, 0, n, yn)
        am = abs(cm)
        a_psi = am * np.sqrt(a_psi)
        a_phi = am * np.sqrt(a_phi)
        e_psi = (a_psi + prev_psi) / sc_psi
        e_phi = (a_phi + prev_phi) / sc_phi
        if m > z and 0.5 * (e_psi * e_psi + e_phi * e_phi) <= 1.0:
            return m
        prev_psi = a_psi
        prev_phi = a_phi
    return -m_max


@njit(cache=True)
def cheb_dense(W, m, theta, tau, spec, bes, buf, coef, out, cut):
    """out = the series at tau' = theta tau (the interleaved (psi, phi)), with the m terms of the
    step less the trailing ones whose coefficients are below cut (a hundredth of the last
    coefficient of the accepted step: the Bessel tail at theta < 1 decays sooner)."""
    m = _dense_coeffs(m, theta, tau, spec, bes, buf, coef, cut)
    _scale(coef[0], W[0], out)
    _add_series(coef, W, m, 0, out.shape[0], out, False)


@njit(cache=True)
def _add_series(coef, W, m, kb, ke, out, psi_only):
    """out[kb:ke] += coef[i] W[i, kb:ke] for i = 1..m in this order (vector form, ``simd``); with
    psi_only, out[k] += coef[i] W[i, 2k] (the psi entries of the interleaved terms)."""
    i = 1
    while i + 3 <= m:
        if psi_only:
            add_terms4_psi(coef, W, i, kb, ke, out)
        else:
            add_terms4(coef, W, i, kb, ke, out)
        i += 4
    while i <= m:
        if psi_only:
            add_term1_psi(coef, W, i, kb, ke, out)
        else:
            add_term1(coef, W, i, kb, ke, out)
        i += 1


@njit(cache=True)
def cheb_dense_psi(W, m, theta, tau, spec, bes, buf, coef, out, cut):
    """out (dim,) = psi alone of ``cheb_dense`` (the same sums: the same bits)."""
    m = _dense_coeffs(m, theta, tau, spec, bes, buf, coef, cut)
    w = W[0]
    c = coef[0]
    for k in range(out.shape[0]):
        out[k] = c * w[2 * k]
    _add_series(coef, W, m, 0, out.shape[0], out, True)


@njit(cache=True)
def _dense_coeffs(m, theta, tau, spec, bes, buf, coef, cut):
    """Coefficients of the series at theta tau; returns the number of terms kept (see cheb_dense)."""
    _coeffs(theta * tau, spec, m, bes, buf, coef)
    z = theta * tau * spec[2]
    while m > z + 1 and abs(coef[m]) < cut:
        m -= 1
    return m


@njit(cache=True)
def cheb_jump(W, m, tau, spec, bes, buf, coef, gam, r, n_a, d_a, n_b, d_b, yt, cut):
    """theta in (0, 1] with ||psi(theta)||^2 = r on the step's dense output (safeguarded Newton)."""
    dim = gam.shape[0]
    lo = 0.0
    hi = 1.0
    th = hermite_root(n_a, d_a, n_b, d_b, tau, r)
    for _ in range(60):
        cheb_dense_psi(W, m, th, tau, spec, bes, buf, coef, yt[:dim], cut)
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
def cheb_dense_many(W, m, thetas, tau, spec, bes, buf, coefs, outs, cut):
    """outs[s] = cheb_dense(theta = thetas[s]) for several samples, the stored terms taken in
    column blocks of DENSE_CHUNK entries that stay in cache while every sample uses them: the same
    sums in the same order, so the same bits as one cheb_dense call per sample."""
    ns = thetas.shape[0]
    n = outs.shape[1]
    ms = np.empty(ns, dtype=np.int64)
    for s in range(ns):
        ms[s] = _dense_coeffs(m, thetas[s], tau, spec, bes, buf, coefs[s], cut)
    for kb in range(0, n, DENSE_CHUNK):
        ke = min(n, kb + DENSE_CHUNK)
        for s in range(ns):
            _scale(coefs[s, 0], W[0, kb:ke], outs[s, kb:ke])
            _add_series(coefs[s], W, ms[s], kb, ke, outs[s], False)


@njit(cache=True, inline="always")
def _scale(c, w, out):
    """out = c w on contiguous 1-d slices."""
    for k in range(w.shape[0]):
        out[k] = c * w[k]
