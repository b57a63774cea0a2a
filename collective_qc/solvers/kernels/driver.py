"""The trajectory loop, one source for every step method (``ipar[0]``: CHEBYSHEV, DOPRI5 or RK4),
compiled per method: each method has its own parallel kernel, and a cold run compiles only the
step method it uses (see :func:`run_trajectories`).

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
from numba import njit, prange, types
from numba.extending import overload

from .chebyshev import W_PAD, cheb_dense, cheb_dense_many, cheb_jump, cheb_step
from .common import decay, draw_member, hermite_root, jump, norm2, record, splitmix
from .dopri import dopri_jump, dopri_step
from .rk4 import deriv, rk4_step

CHEBYSHEV, DOPRI5, RK4 = 0, 1, 2
SAMPLE_CHUNK = 16  # samples evaluated together from one Chebyshev step's stored terms


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


def _attempt(meth, mats, gam, par, ipar, t, env, fs, sp, hs, last, short, ws, hst, k1_ok):
    """One step attempt of length hs from (t, y = ws[1]) into yn = ws[2] with step method meth (a
    literal: only that method's step is compiled). Updates the step-size state hst = (h, err_old,
    cut). Returns (terms used (Chebyshev), accepted?, products, k1_ok)."""
    raise NotImplementedError("a Numba kernel; called from the trajectory loop only")


@overload(_attempt, prefer_literal=True)
def _attempt_ol(meth, mats, gam, par, ipar, t, env, fs, sp, hs, last, short, ws, hst, k1_ok):
    """The step attempt of the method meth (an integer literal)."""
    if not isinstance(meth, types.IntegerLiteral):
        return None
    impl = {CHEBYSHEV: _attempt_cheb, DOPRI5: _attempt_dopri, RK4: _attempt_rk4}[meth.literal_value]

    def attempt(meth, mats, gam, par, ipar, t, env, fs, sp, hs, last, short, ws, hst, k1_ok):
        return impl(mats, gam, par, ipar, t, env, fs, sp, hs, last, short, ws, hst, k1_ok)
    return attempt


@njit(cache=True)
def _attempt_cheb(mats, gam, par, ipar, t, env, fs, sp, hs, last, short, ws, hst, k1_ok):
    """:func:`_attempt` with a Chebyshev step."""
    W, y, yn, bes, buf, b = ws[0], ws[1], ws[2], ws[4], ws[5], ws[6]
    lam, rtol, atol, h_max = par[0], par[3], par[4], par[6]
    mu = cheb_step(mats, gam, lam, fs, y, hs, sp, W, yn, bes, buf, b, rtol, atol, ipar[1])
    if mu < 0:
        hst[0] = 0.5 * hs
        return mu, False, -mu, k1_ok
    hst[2] = 0.01 * abs(b[mu]) * np.exp(-hs * sp[1])  # dense-output cut: |last coefficient| / 100
    if not last and not short:  # the cap limited this step: steer towards m_target terms
        if mu < ipar[2] - 2:
            hst[0] = min(1.2 * hst[0], h_max)
        elif mu > ipar[2]:
            hst[0] = 0.8 * hst[0]
    return mu, True, mu, k1_ok


@njit(cache=True)
def _attempt_rk4(mats, gam, par, ipar, t, env, fs, sp, hs, last, short, ws, hst, k1_ok):
    """:func:`_attempt` with an RK4 step (always accepted)."""
    W, y, yn, yt = ws[0], ws[1], ws[2], ws[3]
    rk4_step(mats, gam, par[0], t, env, fs, y, hs, W, yt, yn)
    return np.int64(0), True, np.int64(4), k1_ok


@njit(cache=True)
def _attempt_dopri(mats, gam, par, ipar, t, env, fs, sp, hs, last, short, ws, hst, k1_ok):
    """:func:`_attempt` with a DOPRI5 step (PI step-size control)."""
    W, y, yn, yt = ws[0], ws[1], ws[2], ws[3]
    lam, rtol, atol = par[0], par[3], par[4]
    nprod = 6
    if not k1_ok:
        deriv(mats, gam, lam, t, env, fs, y, W[0])
        nprod += 1
    err = dopri_step(mats, gam, lam, t, env, fs, y, hs, W, yt, yn, rtol, atol)
    if not (err <= 1.0):  # rejected (also catches nan / inf)
        hst[0] = hs / (5.0 if not err < 1e300 else min(5.0, err ** 0.17 / 0.9))
        return np.int64(0), False, nprod, True
    fac = max(0.1, min(5.0, err ** 0.17 / hst[1] ** 0.04 / 0.9))  # PI control (Hairer)
    hst[1] = max(err, 1e-4)
    hst[0] = max(hs / fac, hst[0]) if last else hs / fac
    return np.int64(0), True, nprod, True


@njit(cache=True)
def _jump_fraction(meth, ws, gam, r, hs, sp, mu, cut):
    """theta in (0, 1] of the jump inside the accepted step, or 2 when ||psi||^2 stays above r."""
    y, yn = ws[1], ws[2]
    dim = gam.shape[0]
    n_b = norm2(yn, dim)
    if n_b > r:
        return 2.0
    n_a = norm2(y, dim)
    return _jump_in(meth, ws, gam, r, hs, sp, mu, cut, n_a, n_b)


def _jump_in(meth, ws, gam, r, hs, sp, mu, cut, n_a, n_b):
    """The jump fraction of a step with ||psi||^2 = n_a at its start and n_b <= r at its end, from
    the dense output of the method meth (a literal: only that method's root finder is compiled)."""
    raise NotImplementedError("a Numba kernel; called from the trajectory loop only")


@overload(_jump_in, prefer_literal=True)
def _jump_in_ol(meth, ws, gam, r, hs, sp, mu, cut, n_a, n_b):
    """The jump location of the method meth (an integer literal)."""
    if not isinstance(meth, types.IntegerLiteral):
        return None
    impl = {CHEBYSHEV: _jump_cheb, DOPRI5: _jump_dopri, RK4: _jump_hermite}[meth.literal_value]

    def jump_in(meth, ws, gam, r, hs, sp, mu, cut, n_a, n_b):
        return impl(ws, gam, r, hs, sp, mu, cut, n_a, n_b)
    return jump_in


@njit(cache=True)
def _jump_cheb(ws, gam, r, hs, sp, mu, cut, n_a, n_b):
    """:func:`_jump_in` on the Chebyshev dense output."""
    W, y, yn, yt, bes, buf, b = ws[0], ws[1], ws[2], ws[3], ws[4], ws[5], ws[6]
    return cheb_jump(W, mu, hs, sp, bes, buf, b, gam, r, n_a, decay(y, gam), n_b, decay(yn, gam), yt, cut)


@njit(cache=True)
def _jump_dopri(ws, gam, r, hs, sp, mu, cut, n_a, n_b):
    """:func:`_jump_in` on the DOPRI5 dense output."""
    return dopri_jump(ws[1], ws[2], hs, ws[0], r)


@njit(cache=True)
def _jump_hermite(ws, gam, r, hs, sp, mu, cut, n_a, n_b):
    """:func:`_jump_in` on the cubic Hermite interpolant of the norm (RK4)."""
    y, yn = ws[1], ws[2]
    return hermite_root(n_a, decay(y, gam), n_b, decay(yn, gam), hs, r)


@njit(cache=True)
def _record_step(mats, ws, par, sched, dobs, rows, js, j_end, t, hs, t_stop, th, mu, sp, cut):
    """Record samples js..j_end-1 passed by the step: the step end from yn, samples inside the
    step (Chebyshev only: the other methods stop at samples) from the dense output, up to
    SAMPLE_CHUNK per pass over the stored terms. Returns j_end."""
    W, yn, bes, buf, bs, outs, thetas, phs = ws[0], ws[2], ws[4], ws[5], ws[7], ws[8], ws[9], ws[11]
    e_row, p_row, c_row, d_row, psi_row = rows
    sample_t, fsample = sched[3], sched[4]
    dim = yn.shape[0] // 2
    while js < j_end:
        if sample_t[js] == t_stop and th > 1.0:
            record(mats, yn, dim, js, fsample[js], par, e_row, p_row, c_row, dobs, d_row, psi_row)
            js += 1
            continue
        j1 = js
        while j1 < j_end and j1 - js < SAMPLE_CHUNK and not (sample_t[j1] == t_stop and th > 1.0):
            thetas[j1 - js] = (sample_t[j1] - t) / hs
            j1 += 1
        cheb_dense_many(W, mu, thetas[: j1 - js], hs, sp, bes, buf, bs, phs, outs[: j1 - js], cut)
        for q in range(js, j1):
            record(mats, outs[q - js], dim, q, fsample[q], par, e_row, p_row, c_row, dobs, d_row, psi_row)
        js = j1
    return js


@njit(cache=True)
def _state_at(meth, mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut):
    """y = the state at t + th hs inside the accepted step (dense output or re-integration);
    returns the products used."""
    if th >= 1.0:
        ws[1][:] = ws[2]
        return 0
    return _state_in(meth, mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut)


def _state_in(meth, mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut):
    """:func:`_state_at` for th < 1 with the method meth (a literal: only its dense output or
    re-integration is compiled)."""
    raise NotImplementedError("a Numba kernel; called from the trajectory loop only")


@overload(_state_in, prefer_literal=True)
def _state_in_ol(meth, mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut):
    """The state inside a step of the method meth (an integer literal)."""
    if not isinstance(meth, types.IntegerLiteral):
        return None
    impl = {CHEBYSHEV: _state_cheb, DOPRI5: _state_dopri, RK4: _state_rk4}[meth.literal_value]

    def state_in(meth, mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut):
        return impl(mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut)
    return state_in


@njit(cache=True)
def _state_cheb(mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut):
    """:func:`_state_in` from the Chebyshev dense output."""
    W, y, bes, buf, b = ws[0], ws[1], ws[4], ws[5], ws[6]
    cheb_dense(W, mu, th, hs, sp, bes, buf, b, y, cut)
    return 0


@njit(cache=True)
def _state_dopri(mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut):
    """:func:`_state_in` by a DOPRI5 step of length th hs."""
    W, y, yn, yt = ws[0], ws[1], ws[2], ws[3]
    dopri_step(mats, gam, par[0], t, env, fs, y, th * hs, W, yt, yn, par[3], par[4])
    y[:] = yn
    return 6


@njit(cache=True)
def _state_rk4(mats, gam, par, t, env, fs, sp, hs, th, mu, ws, cut):
    """:func:`_state_in` by an RK4 step of length th hs."""
    W, y, yn, yt = ws[0], ws[1], ws[2], ws[3]
    rk4_step(mats, gam, par[0], t, env, fs, y, th * hs, W, yt, yn)
    y[:] = yn
    return 4


@njit(cache=True)
def _workspace(meth, n, m_max, nch):
    """(W, y, yn, yt, Bessel values, Bessel scratch, series weights, chunk weights, chunk states,
    chunk thetas, channel weights, chunk phases) of one trajectory."""
    chunk = SAMPLE_CHUNK if meth == CHEBYSHEV else 0
    rows, width = (m_max + 1, n + W_PAD) if meth == CHEBYSHEV else (7, n)
    return (np.empty((rows, width), dtype=np.complex128),
            np.zeros(n, dtype=np.complex128), np.empty(n, dtype=np.complex128), np.empty(n, dtype=np.complex128),
            np.empty(m_max + 2), np.empty(2 * m_max + 100), np.empty(m_max + 2), np.empty((chunk, m_max + 2)),
            np.empty((chunk, n), dtype=np.complex128), np.empty(chunk), np.empty(nch),
            np.empty(chunk, dtype=np.complex128))


@njit(cache=True)
def trajectory(meth, mats, noise, init, sched, par, ipar, key, rows, st):
    """One trajectory with step method meth (an integer literal: see :func:`run_trajectories`);
    fills its output rows and st (see the module docstring)."""
    gam = noise[0]
    psi0s, p0cum, dobs = init
    stops, fseg, spec, sample_t, fsample, env = sched
    dim = gam.shape[0]
    uniform = par[2]
    ws = _workspace(meth, 2 * dim, ipar[1], noise[1].shape[0])
    y, yt = ws[1], ws[3]
    hst = np.array([par[5], 1e-4, 0.0])  # step cap, last error (DOPRI5), dense cut (Chebyshev)
    state = draw_member(key, p0cum, psi0s, y, dim)
    state, r = splitmix(state)
    r = 1.0 - r  # in (0, 1]
    t = stops[0]
    t_next = t - np.log(r) / uniform if uniform > 0.0 else np.inf
    nt = sample_t.shape[0]
    js = np.int64(0)  # not the literal 0: one compiled record()
    while js < nt and sample_t[js] <= t:
        record(mats, y, dim, js, fsample[js], par, rows[0], rows[1], rows[2], dobs, rows[3], rows[4])
        js += 1
    njump = 0
    nprod = 0
    nstep = 0
    for s in range(stops.shape[0] - 1):
        t_end = stops[s + 1]
        sp = spec[s]
        k1_ok = np.bool_(False)  # not the literal False: one compiled _attempt
        while t < t_end:
            target = t_end
            at_draw = uniform > 0.0 and t_next < t_end
            if at_draw:
                target = t_next
            hs, last = _plan(meth, hst[0], par[6], target - t, sp[2], ipar[1])
            short = False
            if meth == CHEBYSHEV and uniform <= 0.0:
                hs, short = _predict_jump(y, gam, r, hs)
                last = last and not short
            mu, ok, used, k1_ok = _attempt(meth, mats, gam, par, ipar, t, env, fseg[s], sp, hs, last, short, ws,
                                           hst, k1_ok)
            nprod += used
            if not ok:
                continue
            nstep += 1
            t_stop = target if last else t + hs
            th = 2.0  # no jump in this step
            if uniform <= 0.0:
                th = _jump_fraction(meth, ws, gam, r, hs, sp, mu, hst[2])
            elif at_draw and last:
                th = 1.0
            t_jump = t + th * hs if th < 1.0 else t_stop
            j_end = js
            while j_end < nt and (sample_t[j_end] < t_jump if th <= 1.0 else sample_t[j_end] <= t_stop):
                j_end += 1
            js = _record_step(mats, ws, par, sched, dobs, rows, js, j_end, t, hs, t_stop, th, mu, sp, hst[2])
            if th > 1.0:
                y[:] = ws[2]
                if meth == DOPRI5:
                    ws[0][0, :] = ws[0][6]  # FSAL
                t = t_stop
                continue
            nprod += _state_at(meth, mats, gam, par, t, env, fseg[s], sp, hs, th, mu, ws, hst[2])
            t = t_jump
            state = jump(state, y, yt, ws[10], noise)
            njump += 1
            k1_ok = np.bool_(False)
            state, r = splitmix(state)
            r = 1.0 - r
            if uniform > 0.0:
                t_next = t - np.log(r) / uniform
    st[0] = njump
    st[1] = nprod
    st[2] = nstep


def run_trajectories(k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats):
    """Integrate len(keys) trajectories (one per thread at a time); see the module docstring.

    Parameters
    ----------
    k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats
        The packed operands (module docstring); ``k_ipar[0]`` picks the step method.

    Notes
    -----
    The method is a compile-time constant: one parallel kernel per method passes it on as an
    integer literal, and the method-specific steps (:func:`_attempt`, :func:`_jump_in`,
    :func:`_state_in`) are overloads that pick that method's kernels at typing time, so a cold
    run compiles only the step method it uses (a Chebyshev run no DOPRI5 / RK4 code).
    """
    kernel = {CHEBYSHEV: _run_chebyshev, DOPRI5: _run_dopri5, RK4: _run_rk4}[int(k_ipar[0])]
    kernel(k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats)


# One parallel kernel per step method (argument names carry a prefix: some plain names collide
# inside Numba's parallel lowering). The index is cast to int64 so that the loop body and the
# parallel gufunc share one compiled _trajectory_at (prange's own index is unsigned).
@njit(cache=True, parallel=True)
def _run_chebyshev(k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats):
    """The trajectories with the Chebyshev step (see :func:`run_trajectories`)."""
    for tr in prange(k_keys.shape[0]):
        _trajectory_at(np.int64(tr), CHEBYSHEV, k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs,
                           k_stats)


@njit(cache=True, parallel=True)
def _run_dopri5(k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats):
    """The trajectories with the DOPRI5 step (see :func:`run_trajectories`)."""
    for tr in prange(k_keys.shape[0]):
        _trajectory_at(np.int64(tr), DOPRI5, k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs,
                           k_stats)


@njit(cache=True, parallel=True)
def _run_rk4(k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats):
    """The trajectories with the RK4 step (see :func:`run_trajectories`)."""
    for tr in prange(k_keys.shape[0]):
        _trajectory_at(np.int64(tr), RK4, k_mats, k_noise, k_init, k_sched, k_par, k_ipar, k_keys, k_outs, k_stats)


@njit(cache=True)
def _trajectory_at(tr, meth, mats, noise, init, sched, par, ipar, keys, outs, stats):
    """Trajectory tr of a batch with step method meth (an integer literal); its output rows are
    picked here, outside the parallel loop body."""
    out_e, out_p, out_c, out_d, out_psi = outs
    trajectory(meth, mats, noise, init, sched, par, ipar, keys[tr], (out_e[tr], out_p[tr], out_c[tr], out_d[tr],
               out_psi[tr]), stats[tr])
