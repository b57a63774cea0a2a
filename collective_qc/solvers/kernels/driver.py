"""The trajectory loop, one for every step method (``ipar[0]``: CHEBYSHEV, DOPRI5 or RK4).

Per trajectory: draw the initial mixture member and a threshold r; step from stop to stop
(protocol switches; for DOPRI5 and RK4 also every sample time), each step ending early at a
drawn jump time when the decay is state independent; a step whose end norm ||psi||^2 is below
r holds a jump, located on the step's own dense output; samples inside a step are read off the
dense output (Chebyshev) or are step ends (DOPRI5, RK4). Each trajectory owns its buffers,
step-size history and random stream, so its numbers depend on its key only.

Arguments (packed): mats, noise (see ``common``); init = (psi0s (dim, n_members), p0cum, diagonal
observables (n_obs, dim));
sched = (stops, fseg (f per stop interval), spec (per stop interval: c_r, g_c, a of the
Chebyshev map), sample_t, fsample (f at each sample, for P), env (``common.envelope``));
par = (lambda, e0, uniform_rate, rtol, atol, h_init, h_max); ipar = (method, m_max, m_target);
outs = (E, P, C (ntraj, n_t), diagonals (ntraj, n_obs, n_t), states (ntraj, n_t, dim) or
(ntraj, 0, 0)); stats (ntraj, 3): jumps, operator products, accepted steps.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .chebyshev import cheb_dense, cheb_dense_many, cheb_jump, cheb_step
from .common import decay, draw_member, hermite_root, jump, norm2, record, splitmix
from .dopri import dopri_jump, dopri_step
from .rk4 import deriv, rk4_step

CHEBYSHEV, DOPRI5, RK4 = 0, 1, 2
SAMPLE_CHUNK = 8  # samples evaluated together from one Chebyshev step's stored terms


@njit(cache=True)
def _plan(meth, h, h_max, rest, a, m_max):
    """(step length, last step to the target?)."""
    if meth == DOPRI5:
        hh = min(h, h_max)
        if hh >= rest * (1.0 - 1e-12):
            return rest, True
        return (hh if hh <= 0.5 * rest else 0.5 * rest), False  # no sliver steps
    cap = h
    if meth == CHEBYSHEV:
        cap = min(h, 0.9 * m_max / a)
    nst = int(np.ceil(rest / cap * (1.0 - 1e-12)))
    if nst <= 1:
        return rest, True
    return rest / nst, False


@njit(cache=True)
def _predict_jump(y, gam, r, hs):
    """Shorten a Chebyshev step to end just past the predicted jump time (norm decaying at its
    present rate), so that little of the series is wasted when the jump comes inside the step.
    Returns (step, shortened?)."""
    dim = gam.shape[0]
    n_a = norm2(y, dim)
    rate = -decay(y, gam) / n_a
    if rate <= 0.0 or n_a <= r:
        return hs, False
    t_pred = 1.05 * np.log(n_a / r) / rate
    if t_pred >= hs:
        return hs, False
    return t_pred, True


@njit(cache=True)
def trajectory(mats, noise, init, sched, par, ipar, key, e_row, p_row, c_row, d_row, psi_row, st):
    """One trajectory (see the module docstring); fills its output rows and st."""
    gam = noise[0]
    psi0s, p0cum, dobs = init
    stops, fseg, spec, sample_t, fsample, env = sched
    dim = gam.shape[0]
    n = 2 * dim
    meth, m_max, m_target = ipar[0], ipar[1], ipar[2]
    lam, uniform, rtol, atol, h, h_max = par[0], par[2], par[3], par[4], par[5], par[6]
    W = np.empty((m_max + 1 if meth == CHEBYSHEV else 7, n), dtype=np.complex128)
    y = np.zeros(n, dtype=np.complex128)
    yn = np.empty_like(y)
    yt = np.empty_like(y)
    bes = np.empty(m_max + 2)
    buf = np.empty(2 * m_max + 100)
    coef = np.empty(m_max + 2, dtype=np.complex128)
    n_chunk = SAMPLE_CHUNK if meth == CHEBYSHEV else 0
    coefs = np.empty((n_chunk, m_max + 2), dtype=np.complex128)
    outs = np.empty((n_chunk, n), dtype=np.complex128)
    thetas = np.empty(n_chunk)
    w = np.empty(noise[1].shape[0])
    state = draw_member(key, p0cum, psi0s, y, dim)
    state, r = splitmix(state)
    r = 1.0 - r  # in (0, 1]
    t = stops[0]
    t_next = t - np.log(r) / uniform if uniform > 0.0 else np.inf
    nt = sample_t.shape[0]
    js = 0
    while js < nt and sample_t[js] <= t:
        record(mats, y, dim, js, fsample[js], par, e_row, p_row, c_row, dobs, d_row, psi_row)
        js += 1
    njump = 0
    nprod = 0
    nstep = 0
    err_old = 1e-4
    cut = 0.0
    for s in range(stops.shape[0] - 1):
        t_end = stops[s + 1]
        fs = fseg[s]
        sp = spec[s]
        k1_ok = False
        while t < t_end:
            target = t_end
            at_draw = False
            if uniform > 0.0 and t_next < t_end:
                target = t_next
                at_draw = True
            hs, last = _plan(meth, h, h_max, target - t, sp[2], m_max)
            short = False
            if meth == CHEBYSHEV and uniform <= 0.0:
                hs, short = _predict_jump(y, gam, r, hs)
                last = last and not short
            mu = 0
            if meth == CHEBYSHEV:
                mu = cheb_step(mats, gam, lam, fs, y, hs, sp, W, yn, bes, buf, coef, rtol, atol, m_max)
                nprod += abs(mu)
                if mu < 0:
                    h = 0.5 * hs
                    continue
                cut = 0.01 * abs(coef[mu])
                if not last and not short:  # the cap limited this step: steer towards m_target terms
                    if mu < m_target - 2:
                        h = min(1.2 * h, h_max)
                    elif mu > m_target:
                        h = 0.8 * h
            elif meth == DOPRI5:
                if not k1_ok:
                    deriv(mats, gam, lam, t, env, fs, y, W[0])
                    nprod += 1
                    k1_ok = True
                err = dopri_step(mats, gam, lam, t, env, fs, y, hs, W, yt, yn, rtol, atol)
                nprod += 6
                if not (err <= 1.0):  # rejected (also catches nan / inf)
                    h = hs / (5.0 if not err < 1e300 else min(5.0, err ** 0.17 / 0.9))
                    continue
                fac = max(0.1, min(5.0, err ** 0.17 / err_old ** 0.04 / 0.9))  # PI control (Hairer)
                err_old = max(err, 1e-4)
                h = max(hs / fac, h) if last else hs / fac
            else:
                rk4_step(mats, gam, lam, t, env, fs, y, hs, W, yt, yn)
                nprod += 4
            nstep += 1
            t_stop = target if last else t + hs
            th = 2.0  # no jump in this step
            if uniform <= 0.0:
                n_b = norm2(yn, dim)
                if n_b <= r:
                    n_a = norm2(y, dim)
                    if meth == CHEBYSHEV:
                        th = cheb_jump(W, mu, hs, sp, bes, buf, coef, gam, r, n_a, decay(y, gam), n_b,
                                       decay(yn, gam), yt, cut)
                    elif meth == DOPRI5:
                        th = dopri_jump(y, yn, hs, W, r)
                    else:
                        th = hermite_root(n_a, decay(y, gam), n_b, decay(yn, gam), hs, r)
            elif at_draw and last:
                th = 1.0
            t_jump = t + th * hs if th < 1.0 else t_stop
            j_end = js
            while j_end < nt and (sample_t[j_end] < t_jump if th <= 1.0 else sample_t[j_end] <= t_stop):
                j_end += 1
            while js < j_end:
                if sample_t[js] == t_stop and th > 1.0:
                    record(mats, yn, dim, js, fsample[js], par, e_row, p_row, c_row, dobs, d_row, psi_row)
                    js += 1
                    continue
                # inside the step (Chebyshev only: the other methods stop at samples), up to
                # SAMPLE_CHUNK samples per pass over the stored terms
                j1 = js
                while j1 < j_end and j1 - js < SAMPLE_CHUNK and not (sample_t[j1] == t_stop and th > 1.0):
                    thetas[j1 - js] = (sample_t[j1] - t) / hs
                    j1 += 1
                cheb_dense_many(W, mu, thetas[: j1 - js], hs, sp, bes, buf, coefs, outs[: j1 - js], cut)
                for q in range(js, j1):
                    record(mats, outs[q - js], dim, q, fsample[q], par, e_row, p_row, c_row, dobs, d_row,
                           psi_row)
                js = j1
            if th > 1.0:
                y[:] = yn
                if meth == DOPRI5:
                    W[0, :] = W[6]  # FSAL
                t = t_stop
                continue
            if th < 1.0:
                if meth == CHEBYSHEV:
                    cheb_dense(W, mu, th, hs, sp, bes, buf, coef, y, n, cut)
                elif meth == DOPRI5:
                    dopri_step(mats, gam, lam, t, env, fs, y, th * hs, W, yt, yn, rtol, atol)
                    nprod += 6
                    y[:] = yn
                else:
                    rk4_step(mats, gam, lam, t, env, fs, y, th * hs, W, yt, yn)
                    nprod += 4
                    y[:] = yn
            else:
                y[:] = yn
            t = t_jump
            state = jump(state, y, yt, w, noise)
            njump += 1
            k1_ok = False
            state, r = splitmix(state)
            r = 1.0 - r
            if uniform > 0.0:
                t_next = t - np.log(r) / uniform
    st[0] = njump
    st[1] = nprod
    st[2] = nstep


@njit(cache=True, parallel=True)
def run_trajectories(k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats):
    """Integrate len(keys) trajectories (one per thread at a time); see the module docstring.
    (Argument names carry a prefix: some plain names collide inside Numba's parallel lowering.)"""
    for tr in prange(k_keys.shape[0]):
        _trajectory_at(tr, k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats)


@njit(cache=True)
def _trajectory_at(tr, mats, noise, init, sched, par, ipar, keys, outs, stats):
    """Trajectory tr of a batch (its output rows picked here, outside the parallel loop body)."""
    out_e, out_p, out_c, out_d, out_psi = outs
    trajectory(mats, noise, init, sched, par, ipar, keys[tr], out_e[tr], out_p[tr], out_c[tr], out_d[tr],
               out_psi[tr], stats[tr])
