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
        state, u = _splitmix(state)
        m = 0
        while m < p0cum.shape[0] - 1 and u > p0cum[m]:
            m += 1
        for k in range(dim):
            y[k] = psi0s[k, m]
        state, r = _splitmix(state)
        r = 1.0 - r  # in (0, 1]
        njump = 0
        t_next = grid[0] - np.log(r) / uniform_rate if uniform_rate > 0.0 else np.inf
        for s in range(grid.shape[0]):
            if sample_at[s] >= 0:
                n2 = _norm2(y, dim)
                eb = _expect(b_d, b_i, b_p, y[:dim], y[:dim], dim, tmp).real / n2
                # control variate: (H_B - E(0)) instead of H_B; unbiased because Tr rho = 1 for every
                # lambda, and it removes the heavy tail of rare jump records (score ~ 1/lambda)
                ov = 0.0
                for k in range(dim):
                    ov += (np.conj(y[k]) * y[dim + k]).real
                cb = 2.0 * (_expect(b_d, b_i, b_p, y[:dim], y[dim:], dim, tmp).real - e0 * ov) / n2
                pk = _expect(k0_d, k0_i, k0_p, y[:dim], y[:dim], dim, tmp).real
                f_here = fgrid[s] if s < fgrid.shape[0] else fgrid[fgrid.shape[0] - 1]
                if f_here != 0.0:
                    pk += lam * f_here * _expect(kv_d, kv_i, kv_p, y[:dim], y[:dim], dim, tmp).real
                out_e[tr, sample_at[s]] = eb - e0
                out_c[tr, sample_at[s]] = cb
                out_p[tr, sample_at[s]] = pk / n2
                for o in range(dobs.shape[0]):
                    acc_d = 0.0
                    for k in range(dim):
                        acc_d += dobs[o, k] * (y[k].real ** 2 + y[k].imag ** 2)
                    out_d[tr, o, sample_at[s]] = acc_d / n2
                if out_psi.shape[1] > 0:
                    nrm_s = np.sqrt(n2)
                    for k in range(dim):
                        out_psi[tr, sample_at[s], k] = y[k] / nrm_s
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
                # channel with probability proportional to ||L_c psi||^2
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
                # apply L_c to psi and phi (same linear map), renormalise both by the same factor
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
                njump += 1
                state, r = _splitmix(state)
                r = 1.0 - r
                if uniform_rate > 0.0:
                    t_next = t0 - np.log(r) / uniform_rate
        out_jumps[tr] = njump
