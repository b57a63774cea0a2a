"""Numba kernels for quantum trajectories (plain arrays only; ``cache=True``).

Operators arrive as CSR triplets (data, indices, indptr). Jump operators are
"monomial" (one non-zero per column: sigma_z, sigma_-, S^-, a), stored as
L|k> = val[c, k] |tgt[c, k]>, so a jump costs O(dim).

Random numbers: SplitMix64 seeded per trajectory from (seed, trajectory index) only,
so results do not depend on threads or batching.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, inline="always")
def _splitmix(state):
    state = (state + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = state
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = z ^ (z >> np.uint64(31))
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)  # uniform in [0, 1)


@njit(cache=True)
def _csr_dot(data, indices, indptr, x, out, alpha, accumulate):
    n = indptr.shape[0] - 1
    for i in range(n):
        s = 0.0j
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * x[indices[p]]
        if accumulate:
            out[i] += alpha * s
        else:
            out[i] = alpha * s


@njit(cache=True)
def _deriv(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, dy, dim, tmp):
    """dy = -i [[H_eff, 0], [f V, H_eff]] y with H_eff = H0 + lam f V - (i/2) Gamma."""
    psi = y[:dim]
    phi = y[dim:]
    # H0 psi, H0 phi
    _csr_dot(h_d, h_i, h_p, psi, dy[:dim], 1.0, False)
    _csr_dot(h_d, h_i, h_p, phi, dy[dim:], 1.0, False)
    if f != 0.0:
        _csr_dot(v_d, v_i, v_p, psi, tmp, 1.0, False)
        for k in range(dim):
            dy[k] += lam * f * tmp[k]
            dy[dim + k] += f * tmp[k]
        _csr_dot(v_d, v_i, v_p, phi, dy[dim:], lam * f, True)
    for k in range(dim):
        dy[k] = -1j * (dy[k] - 0.5j * gam[k] * psi[k])
        dy[dim + k] = -1j * (dy[dim + k] - 0.5j * gam[k] * phi[k])


@njit(cache=True)
def _rk4(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, dt, dim, k1, k2, k3, k4, yt, tmp):
    _deriv(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, k1, dim, tmp)
    for k in range(2 * dim):
        yt[k] = y[k] + 0.5 * dt * k1[k]
    _deriv(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k2, dim, tmp)
    for k in range(2 * dim):
        yt[k] = y[k] + 0.5 * dt * k2[k]
    _deriv(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k3, dim, tmp)
    for k in range(2 * dim):
        yt[k] = y[k] + dt * k3[k]
    _deriv(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k4, dim, tmp)
    for k in range(2 * dim):
        yt[k] = y[k] + dt / 6.0 * (k1[k] + 2.0 * k2[k] + 2.0 * k3[k] + k4[k])


@njit(cache=True)
def _norm2(y, dim):
    s = 0.0
    for k in range(dim):
        s += y[k].real ** 2 + y[k].imag ** 2
    return s


@njit(cache=True)
def _decay(y, gam, dim):
    """d ||psi||^2 / dt = -<psi|Gamma|psi>."""
    s = 0.0
    for k in range(dim):
        s += gam[k] * (y[k].real ** 2 + y[k].imag ** 2)
    return -s


@njit(cache=True)
def _expect(d, i, p, x, y, dim, tmp):
    """<x|A|y> for CSR A."""
    _csr_dot(d, i, p, y, tmp, 1.0, False)
    s = 0.0j
    for k in range(dim):
        s += np.conj(x[k]) * tmp[k]
    return s


@njit(cache=True)
def _locate_jump(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, yt, dt, t0, n_a, n_b, r, dim, k1, k2, k3, k4, tmp):
    """Jump inside [t0, t0 + dt]: bisection on the cubic Hermite dense output of ||psi||^2
    (end-point derivatives -<psi|Gamma|psi> exact); y is advanced to the jump time, returned."""
    d_a = _decay(y, gam, dim)
    d_b = _decay(yt, gam, dim)
    lo = 0.0
    hi = 1.0
    for _ in range(60):
        x = 0.5 * (lo + hi)
        h00 = 2 * x**3 - 3 * x**2 + 1
        h10 = x**3 - 2 * x**2 + x
        h01 = -2 * x**3 + 3 * x**2
        h11 = x**3 - x**2
        val = h00 * n_a + h10 * dt * d_a + h01 * n_b + h11 * dt * d_b
        if val > r:
            lo = x
        else:
            hi = x
    tj = 0.5 * (lo + hi) * dt
    _rk4(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, tj, dim, k1, k2, k3, k4, yt, tmp)
    for k in range(2 * dim):
        y[k] = yt[k]
    return t0 + tj


@njit(cache=True)
def _record(y, dim, tr, j, f_here, lam, e0, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i, kv_p, out_e, out_p,
            out_c, dobs, out_d, out_psi, tmp):
    """Estimators of sample j from the unnormalised (psi, phi) = y: E - e0, P, C_Q (the C_Q estimator
    uses the control variate H_B - e0: unbiased because Tr rho = 1 for every lambda, and free of the
    heavy tail of rare jump records), diagonal observables, and the normalised state if stored."""
    n2 = _norm2(y, dim)
    eb = _expect(b_d, b_i, b_p, y[:dim], y[:dim], dim, tmp).real / n2
    ov = 0.0
    for k in range(dim):
        ov += (np.conj(y[k]) * y[dim + k]).real
    cb = 2.0 * (_expect(b_d, b_i, b_p, y[:dim], y[dim:], dim, tmp).real - e0 * ov) / n2
    pk = _expect(k0_d, k0_i, k0_p, y[:dim], y[:dim], dim, tmp).real
    if f_here != 0.0:
        pk += lam * f_here * _expect(kv_d, kv_i, kv_p, y[:dim], y[:dim], dim, tmp).real
    out_e[tr, j] = eb - e0
    out_c[tr, j] = cb
    out_p[tr, j] = pk / n2
    for o in range(dobs.shape[0]):
        acc_d = 0.0
        for k in range(dim):
            acc_d += dobs[o, k] * (y[k].real ** 2 + y[k].imag ** 2)
        out_d[tr, o, j] = acc_d / n2
    if out_psi.shape[1] > 0:
        nrm_s = np.sqrt(n2)
        for k in range(dim):
            out_psi[tr, j, k] = y[k] / nrm_s


@njit(cache=True)
def _draw_member(state, p0cum, psi0s, y, dim):
    """Pick the initial mixture member with the cumulative weights p0cum; y[:dim] = that member."""
    state, u = _splitmix(state)
    m = 0
    while m < p0cum.shape[0] - 1 and u > p0cum[m]:
        m += 1
    for k in range(dim):
        y[k] = psi0s[k, m]
    return state


@njit(cache=True)
def _jump(state, y, yt, w, jt, jv, dim):
    """Quantum jump: channel c with probability ~ ||L_c psi||^2; psi, phi -> L_c psi, L_c phi, both
    divided by ||L_c psi|| (the same linear map and factor for the state and its tangent)."""
    nch = jt.shape[0]
    tot = 0.0
    for c in range(nch):
        sc = 0.0
        for k in range(dim):
            a = jv[c, k] * y[k]
            sc += a.real ** 2 + a.imag ** 2
        w[c] = sc
        tot += sc
    state, u = _splitmix(state)
    u *= tot
    ch = 0
    acc = w[0]
    while ch < nch - 1 and u > acc:
        ch += 1
        acc += w[ch]
    for k in range(2 * dim):
        yt[k] = 0.0
    for k in range(dim):
        val = jv[ch, k]
        if val != 0.0:
            yt[jt[ch, k]] += val * y[k]
            yt[dim + jt[ch, k]] += val * y[dim + k]
    nrm = np.sqrt(_norm2(yt, dim))
    for k in range(2 * dim):
        y[k] = yt[k] / nrm
    return state


@njit(cache=True, parallel=True)
def run_trajectories(h_d, h_i, h_p, v_d, v_i, v_p, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i, kv_p,
                     gam, jt, jv, psi0s, p0cum, lam, grid, fgrid, sample_at, keys, e0, out_e, out_p, out_c,
                     out_jumps, uniform_rate, dobs, out_d, out_psi):
    """Integrate ntraj = len(keys) trajectories of the state and its lambda-tangent.

    grid : internal time grid (sample times and protocol switches, sub-divided); fgrid[s] is f
    on (grid[s], grid[s+1]); sample_at[s] = index of the sample time equal to grid[s] or -1.
    Outputs (ntraj, n_samples): E - e0, P, C estimates per trajectory; out_d (ntraj, n_obs,
    n_samples): <psi|D_o|psi>/||psi||^2 for the diagonal observables dobs (n_obs, dim);
    out_psi (ntraj, n_samples, dim) or (ntraj, 0, 0): the normalised states, when stored.
    uniform_rate > 0: sum_k L_k^dag L_k = uniform_rate * 1 (then gam must be all zero): the
    no-jump norm decays as exp(-uniform_rate t) whatever the state, so jump times are drawn
    directly and the evolution between jumps is unitary.
    """
    ntraj = keys.shape[0]
    dim = gam.shape[0]
    nch = jt.shape[0]
    for tr in prange(ntraj):
        state = keys[tr]
        y = np.zeros(2 * dim, dtype=np.complex128)
        k1 = np.empty_like(y)
        k2 = np.empty_like(y)
        k3 = np.empty_like(y)
        k4 = np.empty_like(y)
        yt = np.empty_like(y)
        tmp = np.empty(dim, dtype=np.complex128)
        w = np.empty(nch)
        state = _draw_member(state, p0cum, psi0s, y, dim)
        state, r = _splitmix(state)
        r = 1.0 - r  # in (0, 1]
        njump = 0
        t_next = grid[0] - np.log(r) / uniform_rate if uniform_rate > 0.0 else np.inf
        for s in range(grid.shape[0]):
            if sample_at[s] >= 0:
                f_here = fgrid[s] if s < fgrid.shape[0] else fgrid[fgrid.shape[0] - 1]
                _record(y, dim, tr, sample_at[s], f_here, lam, e0, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i,
                        kv_p, out_e, out_p, out_c, dobs, out_d, out_psi, tmp)
            if s == grid.shape[0] - 1:
                break
            t0 = grid[s]
            t1 = grid[s + 1]
            f = fgrid[s]
            while t0 < t1:
                if uniform_rate > 0.0:
                    if t_next >= t1:
                        _rk4(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, t1 - t0, dim, k1, k2, k3, k4, yt, tmp)
                        for k in range(2 * dim):
                            y[k] = yt[k]
                        t0 = t1
                        continue
                    _rk4(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, t_next - t0, dim, k1, k2, k3, k4, yt, tmp)
                    for k in range(2 * dim):
                        y[k] = yt[k]
                    t0 = t_next
                else:
                    dt = t1 - t0
                    n_a = _norm2(y, dim)
                    _rk4(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, dt, dim, k1, k2, k3, k4, yt, tmp)
                    n_b = _norm2(yt, dim)
                    if n_b > r:
                        for k in range(2 * dim):
                            y[k] = yt[k]
                        t0 = t1
                        continue
                    t0 = _locate_jump(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, yt, dt, t0, n_a, n_b, r,
                                      dim, k1, k2, k3, k4, tmp)
                state = _jump(state, y, yt, w, jt, jv, dim)
                njump += 1
                state, r = _splitmix(state)
                r = 1.0 - r
                if uniform_rate > 0.0:
                    t_next = t0 - np.log(r) / uniform_rate
        out_jumps[tr] = njump


# ---------------------------------------------------------------------------------------------
# Adaptive integrator: Dormand-Prince 5(4) with FSAL, error control on the augmented vector,
# steps landing exactly on the grid points (sample times, protocol switches) and on drawn jump
# times, jump location by bisection on the DOPRI5 dense output of ||psi||^2 inside an accepted
# step followed by re-integration from the step start to the jump time.
# ---------------------------------------------------------------------------------------------

_A21 = 1.0 / 5.0
_A31, _A32 = 3.0 / 40.0, 9.0 / 40.0
_A41, _A42, _A43 = 44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0
_A51, _A52, _A53, _A54 = 19372.0 / 6561.0, -25360.0 / 2187.0, 64448.0 / 6561.0, -212.0 / 729.0
_A61, _A62, _A63, _A64, _A65 = 9017.0 / 3168.0, -355.0 / 33.0, 46732.0 / 5247.0, 49.0 / 176.0, -5103.0 / 18656.0
_A71, _A73, _A74, _A75, _A76 = 35.0 / 384.0, 500.0 / 1113.0, 125.0 / 192.0, -2187.0 / 6784.0, 11.0 / 84.0
_E1, _E3, _E4, _E5, _E6, _E7 = (71.0 / 57600.0, -71.0 / 16695.0, 71.0 / 1920.0, -17253.0 / 339200.0,
                                22.0 / 525.0, -1.0 / 40.0)
# dense output (Hairer & Wanner, dopri5 contd5)
_D1, _D3, _D4 = -12715105075.0 / 11282082432.0, 87487479700.0 / 32700410799.0, -10690763975.0 / 1880347072.0
_D5, _D6, _D7 = 701980252875.0 / 199316789632.0, -1453857185.0 / 822651844.0, 69997945.0 / 29380423.0


@njit(cache=True, inline="always")
def _mul_mi(z):
    """-1j * z without a full complex multiplication."""
    return complex(z.imag, -z.real)


@njit(cache=True)
def _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, dy, dim):
    """dy = -i [[H_eff, 0], [f V, H_eff]] y, H_eff = H0 + lam f V - (i/2) Gamma, in one pass over
    the rows (H0 and V are read once for psi and phi together)."""
    lf = lam * f
    for i in range(dim):
        sp = 0.0j
        sf = 0.0j
        for p in range(h_p[i], h_p[i + 1]):
            a = h_d[p]
            j = h_i[p]
            sp += a * y[j]
            sf += a * y[dim + j]
        if f != 0.0:
            vp = 0.0j
            vf = 0.0j
            for p in range(v_p[i], v_p[i + 1]):
                a = v_d[p]
                j = v_i[p]
                vp += a * y[j]
                vf += a * y[dim + j]
            sp += lf * vp
            sf += lf * vf + f * vp
        g = 0.5 * gam[i]
        dy[i] = _mul_mi(sp) - g * y[i]
        dy[dim + i] = _mul_mi(sf) - g * y[dim + i]


@njit(cache=True)
def _dopri_step(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, h, dim, k1, k2, k3, k4, k5, k6, k7, yt, yn,
                rtol, atol, want_err):
    """One DOPRI5 step of size h from y (k1 = f(y) given): yn = y(t + h), k7 = f(yn) (FSAL).
    Returns the scaled error norm (0 when want_err is False): blockwise 2-norms of the embedded
    error estimate, psi against (atol + rtol) ||psi||, phi against atol ||psi|| + rtol ||phi||,
    combined as the root mean square of the two blocks."""
    n = 2 * dim
    for k in range(n):
        yt[k] = y[k] + h * _A21 * k1[k]
    _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k2, dim)
    for k in range(n):
        yt[k] = y[k] + h * (_A31 * k1[k] + _A32 * k2[k])
    _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k3, dim)
    for k in range(n):
        yt[k] = y[k] + h * (_A41 * k1[k] + _A42 * k2[k] + _A43 * k3[k])
    _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k4, dim)
    for k in range(n):
        yt[k] = y[k] + h * (_A51 * k1[k] + _A52 * k2[k] + _A53 * k3[k] + _A54 * k4[k])
    _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k5, dim)
    for k in range(n):
        yt[k] = y[k] + h * (_A61 * k1[k] + _A62 * k2[k] + _A63 * k3[k] + _A64 * k4[k] + _A65 * k5[k])
    _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yt, k6, dim)
    for k in range(n):
        yn[k] = y[k] + h * (_A71 * k1[k] + _A73 * k3[k] + _A74 * k4[k] + _A75 * k5[k] + _A76 * k6[k])
    _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, yn, k7, dim)
    if not want_err:
        return 0.0
    e_psi = 0.0
    e_phi = 0.0
    n_psi = 0.0
    n_phi = 0.0
    m_psi = 0.0
    m_phi = 0.0
    for k in range(dim):
        e = h * (_E1 * k1[k] + _E3 * k3[k] + _E4 * k4[k] + _E5 * k5[k] + _E6 * k6[k] + _E7 * k7[k])
        e_psi += e.real ** 2 + e.imag ** 2
        n_psi += y[k].real ** 2 + y[k].imag ** 2
        m_psi += yn[k].real ** 2 + yn[k].imag ** 2
        q = dim + k
        e = h * (_E1 * k1[q] + _E3 * k3[q] + _E4 * k4[q] + _E5 * k5[q] + _E6 * k6[q] + _E7 * k7[q])
        e_phi += e.real ** 2 + e.imag ** 2
        n_phi += y[q].real ** 2 + y[q].imag ** 2
        m_phi += yn[q].real ** 2 + yn[q].imag ** 2
    s_psi = np.sqrt(max(n_psi, m_psi))
    s_phi = np.sqrt(max(n_phi, m_phi))
    sc_psi = (atol + rtol) * s_psi
    sc_phi = atol * s_psi + rtol * s_phi
    return np.sqrt(0.5 * (e_psi / (sc_psi * sc_psi) + e_phi / (sc_phi * sc_phi)))


@njit(cache=True)
def _dense_jump_fraction(y, yn, h, dim, k1, k3, k4, k5, k6, k7, r):
    """theta in (0, 1] where the DOPRI5 dense output of ||psi(t + theta h)||^2 reaches r.

    psi(theta) = c0 + c1 theta + c2 theta^2 + c3 theta^3 + c4 theta^4 (monomial form of the
    Hairer-Wanner continuous extension), so ||psi(theta)||^2 is a degree-8 polynomial whose
    coefficients come from the Gram matrix Re <c_i|c_j> (one pass over psi); bisection on it."""
    g = np.zeros((5, 5))
    c = np.empty(5, dtype=np.complex128)
    for k in range(dim):
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


@njit(cache=True, parallel=True)
def run_trajectories_adaptive(h_d, h_i, h_p, v_d, v_i, v_p, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i, kv_p,
                              gam, jt, jv, psi0s, p0cum, lam, grid, fgrid, sample_at, keys, e0, out_e, out_p,
                              out_c, out_jumps, uniform_rate, dobs, out_d, out_psi, rtol, atol, h_init, h_max,
                              out_nfev):
    """As ``run_trajectories`` with adaptive DOPRI5 steps (rtol, atol: see ``_dopri_step``).

    grid needs only the sample times and protocol switches (steps land on every grid point);
    h_init: first trial step, h_max: largest step. out_nfev[tr]: right-hand-side evaluations.
    Each trajectory owns its buffers and step-size history, so results depend on its key only.
    """
    ntraj = keys.shape[0]
    dim = gam.shape[0]
    nch = jt.shape[0]
    for tr in prange(ntraj):
        state = keys[tr]
        y = np.zeros(2 * dim, dtype=np.complex128)
        yn = np.empty_like(y)
        yt = np.empty_like(y)
        k1 = np.empty_like(y)
        k2 = np.empty_like(y)
        k3 = np.empty_like(y)
        k4 = np.empty_like(y)
        k5 = np.empty_like(y)
        k6 = np.empty_like(y)
        k7 = np.empty_like(y)
        tmp = np.empty(dim, dtype=np.complex128)
        w = np.empty(nch)
        nfev = 0
        h = h_init
        err_old = 1e-4
        k1_ok = False
        f_k1 = 0.0
        state = _draw_member(state, p0cum, psi0s, y, dim)
        state, r = _splitmix(state)
        r = 1.0 - r  # in (0, 1]
        njump = 0
        t_next = grid[0] - np.log(r) / uniform_rate if uniform_rate > 0.0 else np.inf
        for s in range(grid.shape[0]):
            if sample_at[s] >= 0:
                f_here = fgrid[s] if s < fgrid.shape[0] else fgrid[fgrid.shape[0] - 1]
                _record(y, dim, tr, sample_at[s], f_here, lam, e0, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i,
                        kv_p, out_e, out_p, out_c, dobs, out_d, out_psi, tmp)
            if s == grid.shape[0] - 1:
                break
            t0 = grid[s]
            t1 = grid[s + 1]
            f = fgrid[s]
            if not k1_ok or f != f_k1:
                _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, k1, dim)
                nfev += 1
                k1_ok = True
                f_k1 = f
            while t0 < t1:
                # integrate to the target (grid point or drawn jump time) with adaptive steps
                target = t1
                jump_at_target = False
                if uniform_rate > 0.0 and t_next < t1:
                    target = t_next
                    jump_at_target = True
                jumped = False
                while t0 < target:
                    rest = target - t0
                    h = min(h, h_max)
                    last = h >= rest * (1.0 - 1e-12)
                    hs = rest if last else (h if h <= 0.5 * rest else 0.5 * rest)  # no sliver steps
                    err = _dopri_step(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, hs, dim, k1, k2, k3, k4, k5,
                                      k6, k7, yt, yn, rtol, atol, True)
                    nfev += 6
                    if not (err <= 1.0):  # rejected (also catches nan / inf)
                        fac = 5.0
                        if err < 1e300:
                            fac = min(5.0, err ** 0.17 / 0.9)
                        h = hs / fac
                        continue
                    # accepted: Lund-stabilised (PI) step-size proposal, as in Hairer's dopri5
                    fac = err ** 0.17 / err_old ** 0.04 / 0.9
                    fac = max(0.1, min(5.0, fac))
                    h_new = hs / fac
                    err_old = max(err, 1e-4)
                    if last:
                        h = max(h_new, h)  # a clipped step does not shrink the proposal
                    else:
                        h = h_new
                    if uniform_rate <= 0.0 and _norm2(yn, dim) <= r:
                        # jump inside this step: locate it on the dense output, re-integrate to it
                        th = _dense_jump_fraction(y, yn, hs, dim, k1, k3, k4, k5, k6, k7, r)
                        tj = th * hs
                        _dopri_step(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, tj, dim, k1, k2, k3, k4, k5,
                                    k6, k7, yt, yn, rtol, atol, False)
                        nfev += 6
                        for k in range(2 * dim):
                            y[k] = yn[k]
                        t0 = t0 + tj
                        jumped = True
                        break
                    for k in range(2 * dim):
                        y[k] = yn[k]
                        k1[k] = k7[k]
                    t0 = target if last else t0 + hs
                if jump_at_target and not jumped:
                    jumped = True
                if not jumped:
                    break  # reached t1
                state = _jump(state, y, yt, w, jt, jv, dim)
                _deriv_fused(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, k1, dim)
                nfev += 1
                njump += 1
                state, r = _splitmix(state)
                r = 1.0 - r
                if uniform_rate > 0.0:
                    t_next = t0 - np.log(r) / uniform_rate
        out_jumps[tr] = njump
        out_nfev[tr] = nfev


# ---------------------------------------------------------------------------------------------
# Exponential integrator: truncated Taylor series of exp(h A) y for the (piecewise constant)
# augmented generator A, with the number of terms chosen a posteriori (two consecutive terms
# below tolerance, as in Al-Mohy & Higham's expmv). The series is also an exact-consistency
# dense output: y(t + theta h) = sum_k theta^k v_k with the same terms v_k = (h A)^k y / k!, so
# a jump inside a step is located on ||psi(theta)||^2 (a polynomial from the Gram matrix of the
# psi parts of the v_k) and the state at the jump time is the series evaluated there, which is
# the same approximation as a fresh Taylor step of length theta h from the step start.
# ---------------------------------------------------------------------------------------------


@njit(cache=True)
def _apply_scaled(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, x, out, dim, alpha):
    """out = alpha * A x (A: the augmented generator of _deriv_fused); returns the squared
    norms of the psi and phi blocks of out."""
    lf = lam * f
    n_psi = 0.0
    n_phi = 0.0
    for i in range(dim):
        sp = 0.0j
        sf = 0.0j
        for p in range(h_p[i], h_p[i + 1]):
            a = h_d[p]
            j = h_i[p]
            sp += a * x[j]
            sf += a * x[dim + j]
        if f != 0.0:
            vp = 0.0j
            vf = 0.0j
            for p in range(v_p[i], v_p[i + 1]):
                a = v_d[p]
                j = v_i[p]
                vp += a * x[j]
                vf += a * x[dim + j]
            sp += lf * vp
            sf += lf * vf + f * vp
        g = 0.5 * gam[i]
        a1 = alpha * (_mul_mi(sp) - g * x[i])
        a2 = alpha * (_mul_mi(sf) - g * x[dim + i])
        out[i] = a1
        out[dim + i] = a2
        n_psi += a1.real ** 2 + a1.imag ** 2
        n_phi += a2.real ** 2 + a2.imag ** 2
    return n_psi, n_phi


@njit(cache=True)
def _taylor_step(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, h, dim, terms, yn, rtol, atol, m_max):
    """yn = sum_{k<=m} terms[k], terms[k] = (h A)^k y / k!, terms[0] = y. Returns m, or -1 when
    the series has not converged within m_max terms (then the step must be shortened).
    Stops when two consecutive terms are below tolerance: psi block against (atol + rtol) ||psi||,
    phi block against atol ||psi|| + rtol ||phi|| (root mean square of the two blocks)."""
    n = 2 * dim
    n_psi = 0.0
    n_phi = 0.0
    for k in range(n):
        terms[0, k] = y[k]
        yn[k] = y[k]
    for k in range(dim):
        n_psi += y[k].real ** 2 + y[k].imag ** 2
        n_phi += y[dim + k].real ** 2 + y[dim + k].imag ** 2
    s_psi = np.sqrt(n_psi)
    s_phi = np.sqrt(n_phi)
    sc_psi = (atol + rtol) * s_psi
    sc_phi = atol * s_psi + rtol * s_phi
    prev_psi = s_psi
    prev_phi = s_phi
    for m in range(1, m_max + 1):
        a_psi, a_phi = _apply_scaled(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, terms[m - 1], terms[m], dim,
                                     h / m)
        for k in range(n):
            yn[k] += terms[m, k]
        a_psi = np.sqrt(a_psi)
        a_phi = np.sqrt(a_phi)
        e_psi = (a_psi + prev_psi) / sc_psi
        e_phi = (a_phi + prev_phi) / sc_phi
        if 0.5 * (e_psi * e_psi + e_phi * e_phi) <= 1.0:
            return m
        prev_psi = a_psi
        prev_phi = a_phi
    return -1


@njit(cache=True)
def _taylor_jump(terms, m, dim, r):
    """theta in (0, 1] where ||sum_k theta^k psi_k||^2 reaches r: bisection on the degree-2m
    polynomial whose coefficients come from the Gram matrix Re <psi_i|psi_j>."""
    g = np.zeros((m + 1, m + 1))
    for k in range(dim):
        for i in range(m + 1):
            ci = terms[i, k]
            for j in range(i, m + 1):
                cj = terms[j, k]
                g[i, j] += ci.real * cj.real + ci.imag * cj.imag
    poly = np.zeros(2 * m + 1)
    for i in range(m + 1):
        poly[2 * i] += g[i, i]
        for j in range(i + 1, m + 1):
            poly[i + j] += 2.0 * g[i, j]
    lo = 0.0
    hi = 1.0
    for _ in range(60):
        x = 0.5 * (lo + hi)
        val = poly[2 * m]
        for d in range(2 * m - 1, -1, -1):
            val = val * x + poly[d]
        if val > r:
            lo = x
        else:
            hi = x
    return 0.5 * (lo + hi)


@njit(cache=True)
def _taylor_eval(terms, m, th, out, n):
    """out = sum_{k<=m} th^k terms[k] (Horner)."""
    for k in range(n):
        acc = terms[m, k]
        for i in range(m - 1, -1, -1):
            acc = acc * th + terms[i, k]
        out[k] = acc


TAYLOR_M_MAX = 40  # most terms of one Taylor step
TAYLOR_M_TARGET = 24  # the step cap adapts towards this many terms


@njit(cache=True, parallel=True)
def run_trajectories_taylor(h_d, h_i, h_p, v_d, v_i, v_p, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i, kv_p,
                            gam, jt, jv, psi0s, p0cum, lam, grid, fgrid, sample_at, keys, e0, out_e, out_p,
                            out_c, out_jumps, uniform_rate, dobs, out_d, out_psi, rtol, atol, h_init, h_max,
                            out_nfev):
    """As ``run_trajectories_adaptive`` with truncated-Taylor exponential steps (_taylor_step).

    Steps end on protocol switches (where the generator changes) and on drawn jump times
    (state-independent decay); sample times inside a step are read off the series, which is
    the same approximation as a Taylor step ending there (error below the accepted step's).
    Step length: ceil((end - t) / cap) equal steps; the cap starts at h_init, halves when a
    series needs more than TAYLOR_M_MAX terms and is scaled by 1.2 / 0.8 when a cap-limited step
    needs fewer than TAYLOR_M_TARGET - 2 / more than TAYLOR_M_TARGET terms (never above h_max).
    """
    m_max = TAYLOR_M_MAX
    m_target = TAYLOR_M_TARGET
    ntraj = keys.shape[0]
    dim = gam.shape[0]
    nch = jt.shape[0]
    ng = grid.shape[0]
    for tr in prange(ntraj):
        state = keys[tr]
        y = np.zeros(2 * dim, dtype=np.complex128)
        yn = np.empty_like(y)
        yt = np.empty_like(y)
        terms = np.empty((m_max + 1, 2 * dim), dtype=np.complex128)
        tmp = np.empty(dim, dtype=np.complex128)
        w = np.empty(nch)
        nfev = 0
        hcap = h_init
        state = _draw_member(state, p0cum, psi0s, y, dim)
        state, r = _splitmix(state)
        r = 1.0 - r  # in (0, 1]
        njump = 0
        t_next = grid[0] - np.log(r) / uniform_rate if uniform_rate > 0.0 else np.inf
        if sample_at[0] >= 0:
            _record(y, dim, tr, sample_at[0], fgrid[0], lam, e0, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i,
                    kv_p, out_e, out_p, out_c, dobs, out_d, out_psi, tmp)
        t = grid[0]
        s = 1  # next grid point to pass
        while s < ng:
            f = fgrid[s - 1]
            e = s  # the segment with this f ends at grid[e]
            while e < ng - 1 and fgrid[e] == f:
                e += 1
            t_end = grid[e]
            while s <= e:
                target = t_end
                jump_at_target = False
                if uniform_rate > 0.0 and t_next < t_end:
                    target = t_next
                    jump_at_target = True
                rest = target - t
                nst = int(np.ceil(rest / hcap * (1.0 - 1e-12)))
                last = nst <= 1
                hs = rest if last else rest / nst
                mused = _taylor_step(h_d, h_i, h_p, v_d, v_i, v_p, gam, lam, f, y, hs, dim, terms, yn, rtol, atol,
                                     m_max)
                if mused < 0:
                    nfev += m_max
                    hcap = 0.5 * hs
                    continue
                nfev += mused
                if nst > 1:  # the cap limited this step (hs in (cap / 2, cap])
                    if mused < m_target - 2:
                        hcap = min(1.2 * hcap, h_max)
                    elif mused > m_target:
                        hcap = 0.8 * hcap
                t_stop = target if last else t + hs
                th_j = 2.0  # no jump in this step
                if uniform_rate <= 0.0:
                    if _norm2(yn, dim) <= r:
                        th_j = _taylor_jump(terms, mused, dim, r)
                elif jump_at_target and last:
                    th_j = 1.0
                t_jump = t + th_j * hs if th_j < 1.0 else t_stop
                # samples passed by this step (before the jump, if any)
                while s <= e and (grid[s] < t_jump if th_j <= 1.0 else grid[s] <= t_stop):
                    j = sample_at[s]
                    if j >= 0:
                        f_here = fgrid[s] if s < fgrid.shape[0] else fgrid[fgrid.shape[0] - 1]
                        if grid[s] == t_stop and th_j > 1.0:
                            _record(yn, dim, tr, j, f_here, lam, e0, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i,
                                    kv_p, out_e, out_p, out_c, dobs, out_d, out_psi, tmp)
                        else:
                            _taylor_eval(terms, mused, (grid[s] - t) / hs, yt, 2 * dim)
                            _record(yt, dim, tr, j, f_here, lam, e0, b_d, b_i, b_p, k0_d, k0_i, k0_p, kv_d, kv_i,
                                    kv_p, out_e, out_p, out_c, dobs, out_d, out_psi, tmp)
                    s += 1
                if th_j > 1.0:
                    for k in range(2 * dim):
                        y[k] = yn[k]
                    t = t_stop
                    continue
                if th_j < 1.0:
                    _taylor_eval(terms, mused, th_j, y, 2 * dim)
                else:
                    for k in range(2 * dim):
                        y[k] = yn[k]
                t = t_jump
                state = _jump(state, y, yt, w, jt, jv, dim)
                njump += 1
                state, r = _splitmix(state)
                r = 1.0 - r
                if uniform_rate > 0.0:
                    t_next = t - np.log(r) / uniform_rate
        out_jumps[tr] = njump
        out_nfev[tr] = nfev
