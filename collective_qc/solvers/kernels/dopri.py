"""Adaptive Dormand-Prince 5(4) (FSAL, PI step control) for smooth envelopes and very large spaces.

f(t) is evaluated at the stage times, so envelopes that are not piecewise constant are
integrated to the requested tolerance. Error control on the augmented vector: psi against
(atol + rtol) ||psi||, phi against atol ||psi|| + rtol ||phi|| (root mean square of the two
blocks). A jump inside an accepted step is located by bisection on the Hairer-Wanner dense
output of ||psi||^2; the state is then re-integrated from the step start to the jump time.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .rk4 import deriv

_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
_A61, _A62, _A63, _A64, _A65 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0
_A71, _A73, _A74, _A75, _A76 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
_C2, _C3, _C4, _C5 = 0.2, 0.3, 0.8, 8.0 / 9.0
_E1, _E3, _E4, _E5, _E6, _E7 = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0,
                                22.0 / 525.0, -1.0 / 40.0)
_D1, _D3, _D4 = -12715105075.0 / 11282082432.0, 87487479700.0 / 32700410799.0, -10690763975.0 / 1880347072.0
_D5, _D6, _D7 = 701980252875.0 / 199316789632.0, -1453857185.0 / 822651844.0, 69997945.0 / 29380423.0


@njit(cache=True)
def dopri_step(mats, gam, par, t, env, f_seg, y, h, W, yt, yn):
    """One DOPRI5 step of size h from (t, y) with W[0] = A-derivative at (t, y) given:
    yn = y(t + h), W[6] = derivative at (t + h, yn) (FSAL). 6 products. lambda, rtol and atol
    from par (``packs.Params``). Returns the scaled error norm (<= 1: accept)."""
    lam, rtol, atol = par.lam, par.rtol, par.atol
    n = y.shape[0]
    dim = n // 2
    k1, k2, k3, k4, k5, k6, k7 = W[0], W[1], W[2], W[3], W[4], W[5], W[6]
    for k in range(n):
        yt[k] = y[k] + h * _A21 * k1[k]
    deriv(mats, gam, lam, t + _C2 * h, env, f_seg, yt, k2)
    for k in range(n):
        yt[k] = y[k] + h * (_A31 * k1[k] + _A32 * k2[k])
    deriv(mats, gam, lam, t + _C3 * h, env, f_seg, yt, k3)
    for k in range(n):
        yt[k] = y[k] + h * (_A41 * k1[k] + _A42 * k2[k] + _A43 * k3[k])
    deriv(mats, gam, lam, t + _C4 * h, env, f_seg, yt, k4)
    for k in range(n):
        yt[k] = y[k] + h * (_A51 * k1[k] + _A52 * k2[k] + _A53 * k3[k] + _A54 * k4[k])
    deriv(mats, gam, lam, t + _C5 * h, env, f_seg, yt, k5)
    for k in range(n):
        yt[k] = y[k] + h * (_A61 * k1[k] + _A62 * k2[k] + _A63 * k3[k] + _A64 * k4[k] + _A65 * k5[k])
    deriv(mats, gam, lam, t + h, env, f_seg, yt, k6)
    for k in range(n):
        yn[k] = y[k] + h * (_A71 * k1[k] + _A73 * k3[k] + _A74 * k4[k] + _A75 * k5[k] + _A76 * k6[k])
    deriv(mats, gam, lam, t + h, env, f_seg, yn, k7)
    e_psi = 0.0
    e_phi = 0.0
    n_psi = 0.0
    n_phi = 0.0
    m_psi = 0.0
    m_phi = 0.0
    for kk in range(dim):
        k = 2 * kk  # psi; q: phi (interleaved layout)
        e = h * (_E1 * k1[k] + _E3 * k3[k] + _E4 * k4[k] + _E5 * k5[k] + _E6 * k6[k] + _E7 * k7[k])
        e_psi += e.real ** 2 + e.imag ** 2
        n_psi += y[k].real ** 2 + y[k].imag ** 2
        m_psi += yn[k].real ** 2 + yn[k].imag ** 2
        q = k + 1
        e = h * (_E1 * k1[q] + _E3 * k3[q] + _E4 * k4[q] + _E5 * k5[q] + _E6 * k6[q] + _E7 * k7[q])
        e_phi += e.real ** 2 + e.imag ** 2
        n_phi += y[q].real ** 2 + y[q].imag ** 2
        m_phi += yn[q].real ** 2 + yn[q].imag ** 2
    sc_psi = (atol + rtol) * np.sqrt(max(n_psi, m_psi))
    sc_phi = atol * np.sqrt(max(n_psi, m_psi)) + rtol * np.sqrt(max(n_phi, m_phi))
    return np.sqrt(0.5 * (e_psi / (sc_psi * sc_psi) + e_phi / (sc_phi * sc_phi)))


@njit(cache=True)
def dopri_jump(y, yn, h, W, r):
    """theta in (0, 1] where the DOPRI5 dense output of ||psi(t + theta h)||^2 reaches r.

    psi(theta) = sum_i c_i theta^i (i <= 4, monomial form of the Hairer-Wanner continuous
    extension), so ||psi(theta)||^2 is a degree-8 polynomial whose coefficients come from the
    Gram matrix Re <c_i|c_j> (one pass over psi); bisection on it."""
    dim = y.shape[0] // 2
    k1, k3, k4, k5, k6, k7 = W[0], W[2], W[3], W[4], W[5], W[6]
    g = np.zeros((5, 5))
    c = np.empty(5, dtype=np.complex128)
    for kk in range(dim):
        k = 2 * kk  # psi (interleaved layout)
        r2 = yn[k] - y[k]
        r3 = h * k1[k] - r2
        r4 = r2 - h * k7[k] - r3
        r5 = h * (_D1 * k1[k] + _D3 * k3[k] + _D4 * k4[k] + _D5 * k5[k] + _D6 * k6[k] + _D7 * k7[k])
        c[0] = y[k]
        c[1] = r2 + r3
        c[2] = r4 + r5 - r3
        c[3] = -(r4 + 2.0 * r5)
        c[4] = r5
        for i in range(5):
            for j in range(i, 5):
                g[i, j] += c[i].real * c[j].real + c[i].imag * c[j].imag
    poly = np.zeros(9)
    for i in range(5):
        poly[2 * i] += g[i, i]
        for j in range(i + 1, 5):
            poly[i + j] += 2.0 * g[i, j]
    lo = 0.0
    hi = 1.0
    for _ in range(60):
        x = 0.5 * (lo + hi)
        val = poly[8]
        for d in range(7, -1, -1):
            val = val * x + poly[d]
        if val > r:
            lo = x
        else:
            hi = x
    return 0.5 * (lo + hi)
