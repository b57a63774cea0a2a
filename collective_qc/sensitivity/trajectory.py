"""Sensitivities of a trajectory run: unbiased estimators with standard errors.

Each trajectory of the sensitivity ensemble carries its unnormalised state psi and the tangents
phi_l = d psi/d lambda, phi_k = d psi/d theta_k, phi_lk (:class:`.engine.Augmented` with the
non-Hermitian generator, :mod:`.trajectory_ops`), all along the same jump record: psi jumps when
||psi||^2 falls to a uniform threshold r, channel c drawn with probability ~ ||L_c psi||^2, every
block mapped by L_c and scaled by one common factor. The record's density is ||psi||^2, so
E[<psi|O|psi> / ||psi||^2] = int <psi|O|psi> and

    d<O>/dtheta = E[(2 Re <psi|O - c|phi_k> + <psi|dO/dtheta|psi>) / ||psi||^2]

for any constant c (E[2 Re <psi|phi_k> / ||psi||^2] = d/dtheta 1 = 0): the pathwise part plus the
score of the jump record in one term. O = H_B gives dE/dtheta (minus dE(0)/dtheta, exact), O =
A(t) = L^dag_t(H_B) gives dP/dtheta, and the mixed tangent phi_lk gives dC_Q/dtheta =
E[2 Re(<phi_k|H_B - c|phi_l> + <psi|dH_B|phi_l> + <psi|H_B - c|phi_lk>) / ||psi||^2]. The control
variate c is the leave-one-out mean of <O> over the other trajectories (independent of the
trajectory, hence still unbiased): it removes the heavy tail of rare jump records, as E(0) does
for the solver's C_Q.

Derived figures at the run's own tau_c (and the time of its largest P sample): dE_max/dtheta =
dE/dtheta(tau_c) (envelope theorem), dtau_c/dtheta = -(dP/dtheta)/(dP/dt) with dP/dt = <B(t)>,
dC_Q*/dtheta = dC/dtheta + (dP/dlambda) dtau_c/dtheta, dP_max/dtheta = dP/dtheta at that sample;
errors by the delta method over trajectories (the error of tau_c itself is not included).

Integration: classical RK4 on a grid through the samples, the envelope's breakpoints and the
switching times, step TRAJ_STEP / ||M|| (M the non-Hermitian generator; local error ~ 1e-9
relative); a jump inside a step is located on the cubic Hermite interpolant of ||psi||^2 (its
derivative -<psi|Gamma|psi>), the step redone to there, the jump applied and the rest of the step
integrated. The ensemble is the run's size (ntraj) with its own streams (SeedSequence(seed,
spawn_key=(i, SPAWN_TAG))): trajectory i's numbers depend on (seed, i) only, so runs at nearby
parameters share their random numbers (common random numbers); it is not the solver's ensemble (the
Numba kernels are not replayed), and ``info["reproduces_run"]`` gives its E and C_Q against the
run's in standard errors.
"""

from __future__ import annotations

import time as _time

import numpy as np
from scipy.optimize import brentq

from ..core.validate import check_memory
from .envelopes import time_derivative
from .trajectory_ops import TrajectoryPrepared, adjoint_generator

__all__ = ["compute_trajectory", "propagate_ensemble", "trajectory_memory", "TRAJ_STEP", "SPAWN_TAG"]

TRAJ_STEP = 0.05  # RK4 step x ||M||
SPAWN_TAG = 26  # second spawn-key entry of the sensitivity ensemble's streams (the solver's keys are (i,))


def trajectory_memory(plan, n_params: int) -> float:
    """Bytes: 2 + 2K blocks per trajectory, about 8 copies (RK4 stages, a measurement)."""
    return 8 * (2 + 2 * n_params) * 16.0 * float(plan.dim) * float(plan.ntraj)


def _re(u, v):
    return np.real(np.einsum("im,im->m", u.conj(), v))


class _Stepper:
    """RK4 steps of the augmented system on columns (trajectories), with jumps."""

    def __init__(self, prep: TrajectoryPrepared):
        self.aug, self.prep = prep.aug, prep
        self.piecewise = bool(prep.plan.protocol.piecewise_constant)
        self.gamma = sum((L.conj().T @ L for L in prep.jumps), 0 * prep.HB).tocsr()
        self.ldag = [(L, L.conj().T.tocsr()) for L in prep.jumps]

    def rk4(self, Y, t, h):
        f = self.aug.rhs
        if self.piecewise:  # f constant on the step: all stages at its midpoint
            tm = t + 0.5 * h
            k1 = f(Y, tm)
            k2 = f(Y + 0.5 * h * k1, tm)
            k3 = f(Y + 0.5 * h * k2, tm)
            k4 = f(Y + h * k3, tm)
        else:
            k1 = f(Y, t)
            k2 = f(Y + 0.5 * h * k1, t + 0.5 * h)
            k3 = f(Y + 0.5 * h * k2, t + 0.5 * h)
            k4 = f(Y + h * k3, t + h)
        return Y + (h / 6.0) * (k1 + 2 * k2 + 2 * k3 + k4)

    def norm(self, psi):
        return _re(psi, psi), -_re(psi, self.gamma @ psi)

    def jump(self, y, u: float):
        """Column y (B, dim, 1) after a jump of the channel drawn with uniform u."""
        psi = y[0]
        w = np.array([float(_re(L @ psi, L @ psi)[0]) for L, _ in self.ldag])
        c = min(int(np.searchsorted(np.cumsum(w) / w.sum(), u, side="right")), len(w) - 1)
        L = self.ldag[c][0]
        out = np.stack([L @ y[b] for b in range(y.shape[0])])
        for k, po in enumerate(self.prep.pops):  # d L_c / d theta = L_c / (2 theta) for a scaled channel
            if c in po.channels:
                coef = 0.5 / self.prep.params[k].value
                out[2 + 2 * k] += coef * out[0]
                out[3 + 2 * k] += coef * out[1]
        return out / np.sqrt(w[c])

    def column(self, y, t, h, r: list, rng):
        """Column y over [t, t + h] with any jumps (r[0]: its threshold, redrawn after each)."""
        done, jumps = 0.0, 0
        while True:
            rest = h - done
            y1 = self.rk4(y, t + done, rest)
            n0, d0 = self.norm(y[0])
            n1, d1 = self.norm(y1[0])
            if n1[0] >= r[0] or rest <= 0.0:
                return y1, jumps
            s = _hermite_root(float(n0[0]) - r[0], float(d0[0]), float(n1[0]) - r[0], float(d1[0]), rest)
            y = self.jump(self.rk4(y, t + done, s), rng.random())
            r[0] = rng.random()
            done += s
            jumps += 1


def _hermite_root(a0, d0, a1, d1, h) -> float:
    """The first zero in (0, h] of the cubic Hermite interpolant with values a0 > 0 >= a1 and slopes d0, d1."""
    def p(s):
        x = s / h
        return ((2 * x**3 - 3 * x**2 + 1) * a0 + (x**3 - 2 * x**2 + x) * h * d0 + (-2 * x**3 + 3 * x**2) * a1
                + (x**3 - x**2) * h * d1)

    grid = np.linspace(0.0, h, 9)
    vals = [p(s) for s in grid]
    for i in range(8):
        if vals[i] > 0 >= vals[i + 1]:
            return brentq(p, grid[i], grid[i + 1], xtol=1e-15 * max(h, 1.0), rtol=1e-14)
    return h


def _grid(prep, times, extra):
    """Event times (samples, extra times, breakpoints, switching times) and the RK4 step cap."""
    protocol, t_end = prep.plan.protocol, float(max(times[-1], *extra) if extra else times[-1])
    events = {0.0, *map(float, times), *map(float, extra), *protocol.breakpoints(0.0, t_end), *prep.aug.kick_times}
    events = sorted(e for e in events if 0.0 <= e <= t_end)
    fmax = max(abs(protocol.value(t)) for t in np.linspace(0.0, t_end, 401))
    rows = lambda A: float(abs(A).sum(axis=1).max()) if A.nnz else 0.0  # noqa: E731
    n = rows(prep.aug.G0) + abs(prep.plan.drive) * fmax * rows(prep.aug.GV)
    return events, TRAJ_STEP / max(n, 1e-12)


def propagate_ensemble(prep: TrajectoryPrepared, times, ntraj: int, seed: int, extra=(), measure=None):
    """Run the sensitivity ensemble; ``measure(Y, t)`` is called at each time of ``times`` and
    ``extra`` (sorted, t >= 0) on Y (B, dim, ntraj). Returns the mean number of jumps."""
    B, dim = prep.aug.blocks, prep.psi0.shape[0]
    rngs = [np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(i, SPAWN_TAG))) for i in range(ntraj)]
    cum = np.cumsum(prep.weights)
    Y = np.zeros((B, dim, ntraj), dtype=np.complex128)
    r = np.empty(ntraj)
    for i, g in enumerate(rngs):
        m = min(int(np.searchsorted(cum, g.random(), side="right")), len(cum) - 1)
        Y[0, :, i] = prep.psi0[:, m]
        for k, d in enumerate(prep.dpsi0):
            if d is not None:
                Y[2 + 2 * k, :, i] = d[:, m]
        r[i] = g.random()
    st, jumps = _Stepper(prep), 0
    wanted = {float(t) for t in times} | {float(t) for t in extra}
    events, cap = _grid(prep, np.asarray(times, float), list(extra))
    if 0.0 in wanted and measure is not None:
        measure(Y, 0.0)
    for a, b in zip(events[:-1], events[1:], strict=False):
        steps = max(1, int(np.ceil((b - a) / cap * (1 - 1e-12))))
        h = (b - a) / steps
        for s in range(steps):
            t = a + s * h
            Y1 = st.rk4(Y, t, h)
            for j in np.flatnonzero(_re(Y1[0], Y1[0]) < r):
                rj = [r[j]]
                Y1[:, :, j:j + 1], nj = st.column(Y[:, :, j:j + 1], t, h, rj, rngs[j])
                r[j], jumps = rj[0], jumps + nj
            Y = Y1
        if b in prep.aug.kick_times:
            Y = prep.aug._kick(Y, b)  # the switching-time jump of the tangents (engine)
        if b in wanted and measure is not None:
            measure(Y, b)
    return jumps / max(ntraj, 1)


class _Measure:
    """Per-trajectory estimators at each measured time (control variates: leave-one-out means)."""

    def __init__(self, prep: TrajectoryPrepared, rate_times=()):
        self.prep, self.rate_times, self.out = prep, set(rate_times), {}

    def __call__(self, Y, t):
        p, lam = self.prep, float(self.prep.plan.drive)
        f = p.plan.protocol.value(t)
        psi, phl = Y[0], Y[1]
        n = _re(psi, psi)
        hpsi = p.HB @ psi
        A = (p.A0 + lam * f * p.AV).tocsr()
        apsi = A @ psi
        hE, hP = _re(psi, hpsi) / n, _re(psi, apsi) / n
        cE, cP = _loo(hE), _loo(hP)
        sl = 2 * _re(psi, phl) / n
        rec = {"E": hE - p.e0, "P": hP, "C": 2 * _re(hpsi, phl) / n - cE * sl,
               "PL": (2 * _re(apsi, phl) + f * _re(psi, p.AV @ psi)) / n - cP * sl}  # dP/dlambda
        dE, dP, dC = [], [], []
        for k, po in enumerate(p.pops):
            phk, phlk = Y[2 + 2 * k], Y[3 + 2 * k]
            sk = 2 * _re(psi, phk) / n
            a = po.a(t) if po.a is not None else 0.0
            dA = (po.dA0 + a * p.AV + lam * f * po.dAV).tocsr()
            xE = 2 * _re(hpsi, phk)
            xC = 2 * (_re(p.HB @ phk, phl) + _re(hpsi, phlk))
            if po.dHB is not None:
                dh = po.dHB @ psi
                xE, xC = xE + _re(psi, dh), xC + 2 * _re(dh, phl)
            dE.append(xE / n - cE * sk - p.de0[k])
            dP.append((2 * _re(apsi, phk) + _re(psi, dA @ psi)) / n - cP * sk)
            dC.append(xC / n - cE * 2 * (_re(phk, phl) + _re(psi, phlk)) / n)
        rec.update(dE=np.array(dE), dP=np.array(dP), dC=np.array(dC))
        if t in self.rate_times:
            fdot = time_derivative(p.plan.protocol, t)
            Bop = adjoint_generator((p.H0 + lam * f * p.V).tocsr(), p.jumps, A) + lam * fdot * p.AV
            rec["Pdot"] = _re(psi, Bop @ psi) / n
        self.out[t] = rec


def _loo(h):
    """Leave-one-out means (independent of each trajectory's own value)."""
    n = len(h)
    return (h.sum() - h) / (n - 1) if n > 1 else np.zeros_like(h)


def _mean_err(x, axis=-1):
    n = x.shape[axis]
    return x.mean(axis=axis), (x.std(axis=axis, ddof=1) / np.sqrt(n) if n > 1 else np.full(x.mean(axis=axis).shape,
                                                                                          np.inf))


def _figures(m: dict, k: int, tau, t_p):
    """(value, error) of dtau_c, dE_max, dC_Q*, dP_max for parameter k (delta method)."""
    out = {}
    if tau is not None:
        at = m[tau]
        a, b = at["dP"][k], at["Pdot"]
        R = -a.mean() / b.mean()
        u = -(a + R * b) / b.mean()  # influence of the ratio
        out["tau_c"] = (float(R), float(_mean_err(u)[1]))
        out["energy_max"] = tuple(float(v) for v in _mean_err(at["dE"][k]))
        q = at["PL"]
        g = at["dC"][k] + R * q + q.mean() * (u - u.mean())
        out["capacitance_at_tau_c"] = (float(at["dC"][k].mean() + R * q.mean()), float(_mean_err(g)[1]))
    if t_p is not None:
        out["power_max"] = tuple(float(v) for v in _mean_err(m[t_p]["dP"][k]))
    return out


def compute_trajectory(prep: TrajectoryPrepared, result) -> tuple[dict, dict]:
    """({name: record}, info) for a finished trajectory run (``result`` its ChargeResult)."""
    from ..core.runtime import one_thread

    t_start = _time.perf_counter()
    plan = prep.plan
    check_memory(trajectory_memory(plan, len(prep.params)), "trajectory sensitivities")
    times = np.asarray(plan.times, float)
    tau = None if result.tau_c is None else float(result.tau_c)
    t_p = float(times[int(np.argmax(result.power))])
    meas = _Measure(prep, () if tau is None else (tau,))
    with one_thread():
        mean_jumps = propagate_ensemble(prep, times, int(plan.ntraj), int(plan.seed),
                                        () if tau is None else (tau,), meas)
    series = {key: np.stack([meas.out[float(t)][key] for t in times], axis=-1) for key in ("E", "C", "dE", "dP", "dC")}
    out = {}
    for k, p in enumerate(prep.params):
        rec = {"kind": p.kind, "value": p.value, "unit": _unit(p, plan), "operator_derivative": prep.notes[k]}
        for key, name in (("dE", "energy"), ("dP", "power"), ("dC", "capacitance")):
            rec[name], rec[f"{name}_error"] = _mean_err(series[key][k], axis=0)
        figs = _figures(meas.out, k, tau, t_p)
        for name in ("tau_c", "energy_max", "capacitance_at_tau_c", "power_max"):
            rec[name], rec[f"{name}_error"] = figs.get(name, (None, None))
        for name in result.undefined:
            if name in rec:
                rec[name] = rec[f"{name}_error"] = None
        rec["normalised_energy_max"] = (p.value * rec["energy_max"] / result.energy_max
                                        if rec["energy_max"] is not None and result.energy_max else None)
        out[p.name] = rec
    info = _info(result, series, mean_jumps, tau, t_p, plan, prep.seconds + _time.perf_counter() - t_start)
    return out, info


def _unit(p, plan) -> str:
    """The parameter's unit in the model's units (as for closed and exact runs)."""
    from ..core.units import rate_unit

    m = plan.model
    eu, tu = getattr(m, "energy_unit", "omega0"), getattr(m, "time_unit", "1/omega0")
    return {"energy": eu, "time": tu, "rate": rate_unit(eu, tu)}.get(p.unit, p.unit)


def _info(result, series, mean_jumps, tau, t_p, plan, wall) -> dict:
    """The estimator, its ensemble, and its own E and C_Q against the run's (largest |difference| /
    combined standard error over the samples)."""
    def z(mine, run, run_err):
        m, e = _mean_err(mine, axis=0)
        err = np.sqrt(e**2 + (0.0 if run_err is None else np.asarray(run_err)) ** 2)
        return float(np.max(np.abs(m - run) / np.maximum(err, 1e-300)))

    return {"engine": "trajectories: pathwise tangents + jump-record score (unbiased), RK4",
            "propagation": f"RK4 step {TRAJ_STEP} / ||M||, jumps on the Hermite interpolant of ||psi||^2",
            "ntraj": int(plan.ntraj), "seed": int(plan.seed), "mean_jumps": float(mean_jumps),
            "reproduces_run": {"energy_in_errors": z(series["E"], result.energy, result.energy_stderr),
                               "capacitance_in_errors": z(series["C"], result.capacitance, result.capacitance_stderr)},
            "tau_c_refined": tau, "power_max_time": t_p, "wall_time_s": wall}
