"""The trajectory loop, one source for every step method (``par.method``: CHEBYSHEV, DOPRI5 or
RK4), compiled per method: each method has its own parallel kernel, and a cold run compiles only
the step method it uses (see :func:`run_trajectories`).

Per trajectory: draw the initial mixture member and a threshold r; step from stop to stop
(protocol switches; for DOPRI5 and RK4 also every sample time), each step ending early at a
drawn jump time when the decay is state independent; a step whose end norm ||psi||^2 is below
r holds a jump, located on the step's own dense output; samples inside a step are read off the
dense output (Chebyshev) or are step ends (DOPRI5, RK4). Each trajectory owns its buffers,
step-size history and random stream, so its numbers depend on its key only.

Arguments, named packs (``packs``): mats (with the kernel form), noise, init, sched, par
(``Params``), outs (``Records`` of the batch: E, P, C (ntraj, n_t), diagonals (ntraj, n_obs, n_t),
states (ntraj, n_t, dim) or (ntraj, 0, 0)); keys (ntraj,) the stream keys; stats (ntraj, 3):
jumps, operator products, accepted steps. Inside: a trajectory's buffers :data:`Work`, one step
attempt :data:`Step`, an accepted step :data:`Accepted`.
"""

from __future__ import annotations

from collections import namedtuple

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .chebyshev import W_PAD, cheb_dense, cheb_dense_many, cheb_jump, cheb_step
from .common import decay, draw_member, hermite_root, jump, norm2, record, splitmix
from .dopri import dopri_jump, dopri_step
from .packs import Records, Series
from .rk4 import deriv, rk4_step

CHEBYSHEV, DOPRI5, RK4 = 0, 1, 2
SAMPLE_CHUNK = 16  # samples evaluated together from one Chebyshev step's stored terms

# One trajectory's buffers: W (Chebyshev terms, or the DOPRI5 / RK4 stages), y, yn (step end),
# yt (scratch), Bessel values and scratch, series weights, then per chunk of samples: weights,
# states, thetas and phases; channel weights w of a jump; the kernel form (``forms``).
Work = namedtuple("Work", "W y yn yt bes buf b bs outs thetas phs w form")
# One step attempt: start time t, f on its interval, the interval's Chebyshev map spec (c_r, g_c,
# a), length h, last step to the target?, shortened to a predicted jump?
Step = namedtuple("Step", "t f spec h last short")
# An accepted step: series terms used mu (Chebyshev), jump fraction th (> 1: no jump), the
# time it ends at t_stop, the dense-output cut.
Accepted = namedtuple("Accepted", "mu th t_stop cut")


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


def _attempt(meth, mats, gam, par, env, st, ws, hst, k1_ok):
    """One step attempt st (``Step``) from (st.t, y = ws.y) into yn = ws.yn with step method meth
    (a literal: only that method's step is compiled). Updates the step-size state hst = (h,
    err_old, cut). Returns (terms used (Chebyshev), accepted?, products, k1_ok)."""
    raise NotImplementedError("a Numba kernel; called from the trajectory loop only")


@overload(_attempt, prefer_literal=True)
def _attempt_ol(meth, mats, gam, par, env, st, ws, hst, k1_ok):
    """The step attempt of the method meth (an integer literal)."""
    if not isinstance(meth, types.IntegerLiteral):
        return None
    impl = {CHEBYSHEV: _attempt_cheb, DOPRI5: _attempt_dopri, RK4: _attempt_rk4}[meth.literal_value]

    def attempt(meth, mats, gam, par, env, st, ws, hst, k1_ok):
        return impl(mats, gam, par, env, st, ws, hst, k1_ok)
    return attempt


@njit(cache=True, inline="always")
def _terms(ws):
    """The Chebyshev series' part of the buffers (``packs.Series``)."""
    return Series(ws.W, ws.bes, ws.buf, ws.b, ws.form)


@njit(cache=True)
def _attempt_cheb(mats, gam, par, env, st, ws, hst, k1_ok):
    """:func:`_attempt` with a Chebyshev step."""
    hs = st.h
    mu = cheb_step(mats, gam, par, st.f, ws.y, ws.yn, hs, st.spec, _terms(ws))
    if mu < 0:
        hst[0] = 0.5 * hs
        return mu, False, -mu, k1_ok
    hst[2] = 0.01 * abs(ws.b[mu]) * np.exp(-hs * st.spec[1])  # dense-output cut: |last coefficient| / 100
    if not st.last and not st.short:  # the cap limited this step: steer towards m_target terms
        if mu < par.m_target - 2:
            hst[0] = min(1.2 * hst[0], par.h_max)
        elif mu > par.m_target:
            hst[0] = 0.8 * hst[0]
    return mu, True, mu, k1_ok


@njit(cache=True)
def _attempt_rk4(mats, gam, par, env, st, ws, hst, k1_ok):
    """:func:`_attempt` with an RK4 step (always accepted)."""
    rk4_step(mats, gam, par.lam, st.t, env, st.f, ws.y, st.h, ws.W, ws.yt, ws.yn)
    return np.int64(0), True, np.int64(4), k1_ok


@njit(cache=True)
def _attempt_dopri(mats, gam, par, env, st, ws, hst, k1_ok):
    """:func:`_attempt` with a DOPRI5 step (PI step-size control)."""
    hs = st.h
    nprod = 6
    if not k1_ok:
        deriv(mats, gam, par.lam, st.t, env, st.f, ws.y, ws.W[0])
        nprod += 1
    err = dopri_step(mats, gam, par, st.t, env, st.f, ws.y, hs, ws.W, ws.yt, ws.yn)
    if not (err <= 1.0):  # rejected (also catches nan / inf)
        hst[0] = hs / (5.0 if not err < 1e300 else min(5.0, err ** 0.17 / 0.9))
        return np.int64(0), False, nprod, True
    fac = max(0.1, min(5.0, err ** 0.17 / hst[1] ** 0.04 / 0.9))  # PI control (Hairer)
    hst[1] = max(err, 1e-4)
    hst[0] = max(hs / fac, hst[0]) if st.last else hs / fac
    return np.int64(0), True, nprod, True


@njit(cache=True)
def _jump_fraction(meth, ws, gam, r, st, mu, cut):
    """theta in (0, 1] of the jump inside the accepted step st, or 2 when ||psi||^2 stays above r."""
    dim = gam.shape[0]
    n_b = norm2(ws.yn, dim)
    if n_b > r:
        return 2.0
    n_a = norm2(ws.y, dim)
    return _jump_in(meth, ws, gam, r, st, mu, cut, (n_a, n_b))


def _jump_in(meth, ws, gam, r, st, mu, cut, norms):
    """The jump fraction of a step with ||psi||^2 = norms (n_a at its start, n_b <= r at its end),
    from the dense output of the method meth (a literal: only that method's root finder is
    compiled)."""
    raise NotImplementedError("a Numba kernel; called from the trajectory loop only")


@overload(_jump_in, prefer_literal=True)
def _jump_in_ol(meth, ws, gam, r, st, mu, cut, norms):
    """The jump location of the method meth (an integer literal)."""
    if not isinstance(meth, types.IntegerLiteral):
        return None
    impl = {CHEBYSHEV: _jump_cheb, DOPRI5: _jump_dopri, RK4: _jump_hermite}[meth.literal_value]

    def jump_in(meth, ws, gam, r, st, mu, cut, norms):
        return impl(ws, gam, r, st, mu, cut, norms)
    return jump_in


@njit(cache=True)
def _jump_cheb(ws, gam, r, st, mu, cut, norms):
    """:func:`_jump_in` on the Chebyshev dense output."""
    n_a, n_b = norms
    ends = (n_a, decay(ws.y, gam), n_b, decay(ws.yn, gam))
    return cheb_jump(_terms(ws), mu, st.h, st.spec, gam, r, ends, ws.yt, cut)


@njit(cache=True)
def _jump_dopri(ws, gam, r, st, mu, cut, norms):
    """:func:`_jump_in` on the DOPRI5 dense output."""
    return dopri_jump(ws.y, ws.yn, st.h, ws.W, r)


@njit(cache=True)
def _jump_hermite(ws, gam, r, st, mu, cut, norms):
    """:func:`_jump_in` on the cubic Hermite interpolant of the norm (RK4)."""
    n_a, n_b = norms
    return hermite_root(n_a, decay(ws.y, gam), n_b, decay(ws.yn, gam), st.h, r)


@njit(cache=True)
def _record_step(mats, ws, par, sched, dobs, rows, st, acc, js, j_end):
    """Record samples js..j_end-1 passed by the step st (accepted: acc): the step end from yn,
    samples inside the step (Chebyshev only: the other methods stop at samples) from the dense
    output, up to SAMPLE_CHUNK per pass over the stored terms. Returns j_end."""
    sample_t, fsample = sched.sample_t, sched.fsample
    at_end = acc.th > 1.0  # no jump: the step's end is a sample time when t_stop is one
    while js < j_end:
        if sample_t[js] == acc.t_stop and at_end:
            record(mats, ws.yn, js, fsample[js], par, dobs, rows)
            js += 1
            continue
        j1 = js
        while j1 < j_end and j1 - js < SAMPLE_CHUNK and not (sample_t[j1] == acc.t_stop and at_end):
            ws.thetas[j1 - js] = (sample_t[j1] - st.t) / st.h
            j1 += 1
        cheb_dense_many(_terms(ws), acc.mu, ws.thetas[: j1 - js], st.h, st.spec, ws.bs, ws.phs, ws.outs[: j1 - js],
                        acc.cut)
        for q in range(js, j1):
            record(mats, ws.outs[q - js], q, fsample[q], par, dobs, rows)
        js = j1
    return js


@njit(cache=True)
def _state_at(meth, mats, gam, par, env, st, acc, ws):
    """y = the state at st.t + acc.th st.h inside the accepted step (dense output or
    re-integration); returns the products used."""
    if acc.th >= 1.0:
        ws.y[:] = ws.yn
        return 0
    return _state_in(meth, mats, gam, par, env, st, acc, ws)


def _state_in(meth, mats, gam, par, env, st, acc, ws):
    """:func:`_state_at` for th < 1 with the method meth (a literal: only its dense output or
    re-integration is compiled)."""
    raise NotImplementedError("a Numba kernel; called from the trajectory loop only")


@overload(_state_in, prefer_literal=True)
def _state_in_ol(meth, mats, gam, par, env, st, acc, ws):
    """The state inside a step of the method meth (an integer literal)."""
    if not isinstance(meth, types.IntegerLiteral):
        return None
    impl = {CHEBYSHEV: _state_cheb, DOPRI5: _state_dopri, RK4: _state_rk4}[meth.literal_value]

    def state_in(meth, mats, gam, par, env, st, acc, ws):
        return impl(mats, gam, par, env, st, acc, ws)
    return state_in


@njit(cache=True)
def _state_cheb(mats, gam, par, env, st, acc, ws):
    """:func:`_state_in` from the Chebyshev dense output."""
    cheb_dense(_terms(ws), acc.mu, acc.th, st.h, st.spec, ws.y, acc.cut)
    return 0


@njit(cache=True)
def _state_dopri(mats, gam, par, env, st, acc, ws):
    """:func:`_state_in` by a DOPRI5 step of length th h."""
    dopri_step(mats, gam, par, st.t, env, st.f, ws.y, acc.th * st.h, ws.W, ws.yt, ws.yn)
    ws.y[:] = ws.yn
    return 6


@njit(cache=True)
def _state_rk4(mats, gam, par, env, st, acc, ws):
    """:func:`_state_in` by an RK4 step of length th h."""
    rk4_step(mats, gam, par.lam, st.t, env, st.f, ws.y, acc.th * st.h, ws.W, ws.yt, ws.yn)
    ws.y[:] = ws.yn
    return 4


@njit(cache=True)
def _workspace(meth, n, m_max, nch, form):
    """The buffers (:data:`Work`) of one trajectory with step method meth, n = 2 dim."""
    chunk = SAMPLE_CHUNK if meth == CHEBYSHEV else 0
    rows, width = (m_max + 1, n + W_PAD) if meth == CHEBYSHEV else (7, n)
    return Work(np.empty((rows, width), dtype=np.complex128),
                np.zeros(n, dtype=np.complex128), np.empty(n, dtype=np.complex128), np.empty(n, dtype=np.complex128),
                np.empty(m_max + 2), np.empty(2 * m_max + 100), np.empty(m_max + 2), np.empty((chunk, m_max + 2)),
                np.empty((chunk, n), dtype=np.complex128), np.empty(chunk), np.empty(chunk, dtype=np.complex128),
                np.empty(nch), form)


@njit(cache=True)
def trajectory(meth, mats, noise, init, sched, par, key, rows, stat):
    """One trajectory with step method meth (an integer literal: see :func:`run_trajectories`);
    fills its output rows (``packs.Records``) and stat (see the module docstring)."""
    gam = noise.gam
    stops, fseg, spec, sample_t, env = sched.stops, sched.fseg, sched.spec, sched.sample_t, sched.env
    dim = gam.shape[0]
    uniform = par.rate
    ws = _workspace(meth, 2 * dim, par.m_max, noise.jt.shape[0], mats.form)
    y = ws.y
    hst = np.array([par.h_init, 1e-4, 0.0])  # step cap, last error (DOPRI5), dense cut (Chebyshev)
    state = draw_member(key, init.p0cum, init.psi0s, y, dim)
    state, r = splitmix(state)
    r = 1.0 - r  # in (0, 1]
    t = stops[0]
    t_next = t - np.log(r) / uniform if uniform > 0.0 else np.inf
    nt = sample_t.shape[0]
    js = np.int64(0)  # not the literal 0: one compiled record()
    while js < nt and sample_t[js] <= t:
        record(mats, y, js, sched.fsample[js], par, init.dobs, rows)
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
            hs, last = _plan(meth, hst[0], par.h_max, target - t, sp[2], par.m_max)
            short = False
            if meth == CHEBYSHEV and uniform <= 0.0:
                hs, short = _predict_jump(y, gam, r, hs)
                last = last and not short
            st = Step(t, fseg[s], sp, hs, last, short)
            mu, ok, used, k1_ok = _attempt(meth, mats, gam, par, env, st, ws, hst, k1_ok)
            nprod += used
            if not ok:
                continue
            nstep += 1
            t_stop = target if last else t + hs
            th = 2.0  # no jump in this step
            if uniform <= 0.0:
                th = _jump_fraction(meth, ws, gam, r, st, mu, hst[2])
            elif at_draw and last:
                th = 1.0
            t_jump = t + th * hs if th < 1.0 else t_stop
            j_end = js
            while j_end < nt and (sample_t[j_end] < t_jump if th <= 1.0 else sample_t[j_end] <= t_stop):
                j_end += 1
            acc = Accepted(mu, th, t_stop, hst[2])
            js = _record_step(mats, ws, par, sched, init.dobs, rows, st, acc, js, j_end)
            if th > 1.0:
                y[:] = ws.yn
                if meth == DOPRI5:
                    ws.W[0, :] = ws.W[6]  # FSAL
                t = t_stop
                continue
            nprod += _state_at(meth, mats, gam, par, env, st, acc, ws)
            t = t_jump
            state = jump(state, y, ws.yt, ws.w, noise)
            njump += 1
            k1_ok = np.bool_(False)
            state, r = splitmix(state)
            r = 1.0 - r
            if uniform > 0.0:
                t_next = t - np.log(r) / uniform
    stat[0] = njump
    stat[1] = nprod
    stat[2] = nstep


def run_trajectories(k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats):
    """Integrate len(keys) trajectories (one per thread at a time); see the module docstring.

    Parameters
    ----------
    k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats
        The packed operands (module docstring); ``k_par.method`` picks the step method and
        ``k_mats.form`` the kernel form (SIMD or scalar: each its own compiled kernel).

    Notes
    -----
    The method is a compile-time constant: one parallel kernel per method passes it on as an
    integer literal, and the method-specific steps (:func:`_attempt`, :func:`_jump_in`,
    :func:`_state_in`) are overloads that pick that method's kernels at typing time, so a cold
    run compiles only the step method it uses (a Chebyshev run no DOPRI5 / RK4 code).
    """
    kernel = {CHEBYSHEV: _run_chebyshev, DOPRI5: _run_dopri5, RK4: _run_rk4}[int(k_par.method)]
    kernel(k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats)


# One parallel kernel per step method (argument names carry a prefix: some plain names collide
# inside Numba's parallel lowering). The index is cast to int64 so that the loop body and the
# parallel gufunc share one compiled _trajectory_at (prange's own index is unsigned).
@njit(cache=True, parallel=True)
def _run_chebyshev(k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats):
    """The trajectories with the Chebyshev step (see :func:`run_trajectories`)."""
    for tr in prange(k_keys.shape[0]):
        _trajectory_at(np.int64(tr), CHEBYSHEV, k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats)


@njit(cache=True, parallel=True)
def _run_dopri5(k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats):
    """The trajectories with the DOPRI5 step (see :func:`run_trajectories`)."""
    for tr in prange(k_keys.shape[0]):
        _trajectory_at(np.int64(tr), DOPRI5, k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats)


@njit(cache=True, parallel=True)
def _run_rk4(k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats):
    """The trajectories with the RK4 step (see :func:`run_trajectories`)."""
    for tr in prange(k_keys.shape[0]):
        _trajectory_at(np.int64(tr), RK4, k_mats, k_noise, k_init, k_sched, k_par, k_keys, k_outs, k_stats)


@njit(cache=True)
def _trajectory_at(tr, meth, mats, noise, init, sched, par, keys, outs, stats):
    """Trajectory tr of a batch with step method meth (an integer literal); its output rows are
    picked here, outside the parallel loop body."""
    rows = Records(outs.e[tr], outs.p[tr], outs.c[tr], outs.d[tr], outs.psi[tr])
    trajectory(meth, mats, noise, init, sched, par, keys[tr], rows, stats[tr])
