"""Sensitivities of one closed or exact run: the tangents sampled at the run's times, then the
derived figures at their refined times (propagated there, not interpolated).

- E_max = E(tau_c) with P(tau_c) = 0: dE_max/dtheta = dE/dtheta(tau_c) (envelope theorem);
- tau_c, the first + -> - zero of P (:mod:`collective_qc.analysis.merit`), g(t, theta) = P = 0:
  dtau_c/dtheta = -(dP/dtheta) / (dP/dt) at tau_c (implicit-function rule), refined here by
  root finding on this propagation's exact P;
- C_Q* = C_Q(tau_c): dC/dtheta + (dC/dt) dtau_c/dtheta;
- P_max at its refined time t_p (a zero of dP/dt next to the largest sample, or that sample):
  dP_max/dtheta = dP/dtheta(t_p).
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from ..analysis.merit import first_maximum_bracket
from ..core.errors import InputError
from ..core.validate import available_memory, check_memory
from ..physics.states import initial_state
from .engine import Augmented, Tangent
from .envelopes import field_derivative, kicks, time_derivative
from .generators import operators_at, piece_derivative, pieces
from .initial import DENSE_STATE_LIMIT, state_tangents
from .names import resolve_names
from .observe import DensityObserver, StateObserver

__all__ = ["check_sensitivities", "prepare_sensitivities", "compute_sensitivities", "Prepared", "SENSITIVITY_METHODS",
           "augmented_memory"]

SENSITIVITY_METHODS = ("closed", "exact", "trajectories", "permutation")
REPRODUCTION_TOL = 1e-8  # the tangents' own E, P, C_Q against the run's (relative): warned above this
CHECKPOINT_FRACTION = 0.1  # stored sample states may take this share of the available memory


def _density(plan) -> bool:
    """Density-matrix tangents: exact runs, and closed runs from a (mixed) thermal state."""
    return plan.method == "exact" or plan.initial.startswith("thermal")


def augmented_memory(plan, n_params: int) -> float:
    """Bytes of the augmented propagation: 2 + 2K blocks of the state (x 12 work copies of
    expm_multiply / DOP853), the sparse augmented generator (about 4 operator copies per block) and,
    for a thermal state, three dense dim x dim matrices of its derivative."""
    from ..physics.operators import estimate_nnz_per_row

    dim = float(plan.dim)
    n = dim * dim if _density(plan) else dim
    nnz = n * estimate_nnz_per_row(plan.model_graph) * (2 if _density(plan) else 1)
    blocks = 2 + 2 * n_params
    return blocks * (16.0 * n * 12 + 4 * 24.0 * nnz) + 3 * 16.0 * dim * dim * plan.initial.startswith("thermal")


def check_sensitivities(names, plan, mode: str = "forward") -> list:
    """The parameters of `names` for this run, or InputError / ResourceError in one line (method,
    names, memory of the `mode`: "forward" or "adjoint"), before any heavy work."""
    if plan.method not in SENSITIVITY_METHODS:
        raise InputError(f"sensitivities are computed for methods {', '.join(SENSITIVITY_METHODS)}; this run uses "
                         f"method {plan.method!r}")
    params = resolve_names(names, plan)
    if plan.method == "trajectories":  # unbiased estimators with errors (:mod:`.trajectory`)
        from .trajectory import trajectory_memory
        from .trajectory_ops import check_trajectory

        check_trajectory(params, plan)
        check_memory(trajectory_memory(plan, len(params)), f"trajectory sensitivities of {len(params)} parameters")
        return params
    if plan.method == "permutation":  # exact tangents on the block state (:mod:`.permutation`)
        from .permutation import check_permutation

        check_permutation(params, plan)
        return params
    if plan.method == "closed" and any(p.kind == "rate" or p.key in ("gamma", "kappa") for p in params):
        bad = next(p.name for p in params if p.kind == "rate" or p.key in ("gamma", "kappa"))
        raise InputError(f"sensitivity {bad!r} is a noise rate: use method='exact' (a closed run has no noise)")
    spins = int(np.prod([s.dim for s in plan.model_graph.spins]))
    if plan.initial.startswith("thermal") and spins > DENSE_STATE_LIMIT:
        raise InputError(f"sensitivities of a thermal state on {spins} spin states need a dense diagonalisation "
                         f"(at most {DENSE_STATE_LIMIT}); use initial='ground' or 'product', or a smaller model")
    if mode == "adjoint":
        from ..physics.operators import estimate_nnz_per_row

        per_row = estimate_nnz_per_row(plan.model_graph)
        if _density(plan):  # the working set; checkpoints take what is left (:mod:`.adjoint_density`)
            from .adjoint_density import density_adjoint_memory

            need = density_adjoint_memory(plan.dim, per_row, len(params))
        else:
            need = plan.dim * (16.0 * 12 * 10 + 24.0 * per_row * (3 + len(params)))
        check_memory(need, f"adjoint sensitivities of {len(params)} parameters (their operator derivatives)")
    else:
        check_memory(augmented_memory(plan, len(params)), f"sensitivities of {len(params)} parameters "
                     f"(augmented system of {2 + 2 * len(params)} copies of the state)")
    return params


def _tangents(plan, charging, params, density, base_ops):
    """The engine's Tangent per parameter and how its operator derivative was obtained."""
    out, notes = [], []
    for p in params:
        tg, note = Tangent(p.name), None
        if p.changes_operators:
            d, note = piece_derivative(plan, charging, p, density, base_ops)
            tg.dG0, tg.dGV, tg.dHB = _nonzero(d.G0), _nonzero(d.GV), _nonzero(d.HB)
        elif p.kind == "drive":
            tg.is_drive = True
        elif p.kind == "protocol":
            tg.df = None if plan.protocol.piecewise_constant else field_derivative(plan.protocol, p.key)
            tg.kicks = kicks(plan.protocol, p.key)
        out.append(tg)
        notes.append(note or ("exact (analytic)" if p.kind in ("drive", "protocol") else None))
    return out, notes


def _nonzero(A):
    A.eliminate_zeros()
    return A if A.nnz else None


def _start(ops, init, tangents, density):
    """Y(0): the state, zero lambda tangents, the state tangents (:mod:`.initial`)."""
    x0s = state_tangents(ops, init, [t.dHB for t in tangents], [t.name for t in tangents], density)
    V, w = init.vectors.astype(np.complex128), init.weights
    x = ((V * w) @ V.conj().T).reshape(-1, 1) if density else V
    Y = np.zeros((2 + 2 * len(tangents), *x.shape), dtype=np.complex128)
    Y[0] = x
    for k, d in enumerate(x0s):
        if d is not None:
            Y[2 + 2 * k] = d.reshape(-1, 1) if density else d
    return Y


class _Run:
    """Sampled tangents and an exact evaluator at any time (from the stored sample states)."""

    def __init__(self, aug, observer, times, Y0):
        self.aug, self.obs, self.times = aug, observer, np.asarray(times, float)
        budget = CHECKPOINT_FRACTION * available_memory()
        self.every = max(1, int(np.ceil(len(self.times) * Y0.nbytes / max(budget, 1.0))))
        self.saved = {-1: Y0}
        raw0 = self.obs.values(Y0, aug.rhs(Y0, 0.0))
        self.e0, self.de0 = raw0[0], raw0[3]

    def sample(self):
        n, K = len(self.times), len(self.aug.tangents)
        E, P, C = np.empty(n), np.empty(n), np.empty(n)
        dE, dP, dC = np.empty((K, n)), np.empty((K, n)), np.empty((K, n))
        Y, t_prev = self.saved[-1], 0.0
        for i, t in enumerate(self.times):
            Y = self.aug.advance(Y, t_prev, float(t), repeated=True)
            t_prev = float(t)
            E[i], P[i], C[i], dE[:, i], dP[:, i], dC[:, i] = self.obs.values(Y, self.aug.rhs(Y, t_prev))
            if i % self.every == 0:
                self.saved[i] = Y
        return E - self.e0, P, C, dE - self.de0[:, None], dP, dC

    def state(self, t: float):
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        while i >= 0 and i not in self.saved:
            i -= 1
        t0 = 0.0 if i < 0 else float(self.times[i])
        return self.aug.advance(self.saved[i], t0, t)

    def at(self, t: float):
        """(E, P, C, dE, dP, dC, dP/dt, dC/dt) at t, exact."""
        Y = self.state(t)
        dY = self.aug.rhs(Y, t)
        aug = self.aug
        f, fdot = aug.protocol.value(t), time_derivative(aug.protocol, t)
        xdd = aug.G0 @ dY[0] + aug.drive * f * (aug.GV @ dY[0]) + aug.drive * fdot * (aug.GV @ Y[0])
        E, P, C, dE, dP, dC = self.obs.values(Y, dY)
        return (E - self.e0, P, C, dE - self.de0, dP, dC, *self.obs.rates(Y, dY, xdd))


def _tau(run: _Run, P, base_tau):
    """Refined tau_c (first + -> - zero of this propagation's P) and the derivatives there."""
    bracket = first_maximum_bracket(run.times, P)
    if base_tau is None or bracket is None:
        return None
    k0, k1 = bracket
    if k1 == k0 + 1:
        tau = brentq(lambda s: run.at(s)[1], run.times[k0], run.times[k1], xtol=1e-14, rtol=1e-15, maxiter=200)
    else:
        tau = float(base_tau)
    _, _, _, dE, dP, dC, pdot, cdot = run.at(tau)
    dtau = -dP / pdot
    return {"t": tau, "tau_c": dtau, "energy_max": dE, "capacitance_at_tau_c": dC + cdot * dtau}


def _power_max(run: _Run, P):
    """dP_max/dtheta at the refined maximum of P: a zero of dP/dt next to the largest sample, or
    the one-sided limit of P at a switching time of the envelope there (P jumps with f: a maximum
    at the switch-off of on-off charging is P(tau^-), whose derivative is dP/dtheta(tau^-))."""
    k = int(np.argmax(P))
    best_t, best = float(run.times[k]), float(P[k])
    pdot = lambda s: run.at(s)[6]  # noqa: E731
    for a in (k - 1, k):
        if 0 <= a < len(run.times) - 1:
            lo, hi = float(run.times[a]), float(run.times[a + 1])
            if pdot(lo) * pdot(hi) < 0:
                s = brentq(pdot, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=200)
                value = run.at(s)[1]
                if value > best:
                    best_t, best = s, value
    lo, hi = float(run.times[max(k - 1, 0)]), float(run.times[min(k + 1, len(run.times) - 1)])
    for b in run.aug.protocol.breakpoints(np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)):  # ends included
        for s in (np.nextafter(b, -np.inf), np.nextafter(b, np.inf)):  # the two one-sided limits
            value = run.at(float(s))[1]
            if value > best:
                best_t, best = float(s), value
    return best_t, run.at(best_t)[4]


def switch_shift(run: _Run, t: float, params) -> np.ndarray:
    """The part of dP_max/dtheta from a maximum that sits at a switching time s(theta) of the
    envelope (one-sided limit t -> s): P_max = P(s(theta)^-; theta) moves with s, adding
    dP/dt(t) ds/dtheta (zero for every other parameter and maximum)."""
    out = np.zeros(len(params))
    for k, p in enumerate(params):
        if p.kind != "protocol":
            continue
        for s, ds, _, _ in kicks(run.aug.protocol, p.key):
            if abs(t - s) <= 4 * np.spacing(max(abs(s), 1.0)):
                out[k] += run.at(t)[6] * ds
    return out


@dataclass
class Prepared:
    """What the tangents need, built before the run (so that a refusal comes first): the plan, the
    parameters, the engine, the observer and the augmented initial state."""

    plan: object
    params: list
    notes: list
    density: bool
    aug: Augmented
    observer: object
    Y0: np.ndarray
    seconds: float
    engine: str | None = None  # what propagates the tangents, when not the full basis (the info's "engine")


def prepare_sensitivities(plan, charging: dict, params) -> Prepared:
    """Operators on the full basis and their derivatives, the initial state and its tangents (refusing a
    split degenerate ground level), the augmented system: everything but the propagation."""
    if plan.method == "trajectories":
        from .trajectory_ops import prepare_trajectory

        return prepare_trajectory(plan, charging, params)
    if plan.method == "permutation":
        from .permutation import prepare_permutation

        return prepare_permutation(plan, charging, params)
    t_start = _time.perf_counter()
    density = _density(plan)
    ops = operators_at(plan, charging)
    base = pieces(ops, density)
    init = initial_state(ops, plan.initial)
    tangents, notes = _tangents(plan, charging, params, density, ops)
    aug = Augmented(base.G0, base.GV, plan.drive, plan.protocol, tangents)
    dHBs = [t.dHB for t in tangents]
    obs = DensityObserver(base.HB, dHBs) if density else StateObserver(base.HB, init.weights, dHBs)
    Y0 = _start(ops, init, tangents, density)
    return Prepared(plan, params, notes, density, aug, obs, Y0, _time.perf_counter() - t_start)


def compute_sensitivities(prepared: Prepared, result) -> tuple[dict, dict]:
    """({name: record}, info) for a finished closed or exact run (``result`` its ChargeResult;
    ``prepared`` from :func:`prepare_sensitivities` on the run's final plan). BLAS runs on one thread
    (small products: threads only contend, as in the closed solver)."""
    from threadpoolctl import threadpool_limits

    from .adjoint import AdjointPrepared, adjoint_figures

    if not isinstance(prepared, (Prepared, AdjointPrepared)):  # a trajectory run (:mod:`.trajectory`)
        from .trajectory import compute_trajectory

        return compute_trajectory(prepared, result)
    with threadpool_limits(1):
        if isinstance(prepared, AdjointPrepared):
            tau, dpmax, info = adjoint_figures(prepared, result)
            series = [(None, None, None)] * len(prepared.params)
            return _records(prepared.params, prepared.plan, prepared.notes, series, tau, dpmax, result), info
        return _compute(prepared, result)


def _compute(prepared: Prepared, result) -> tuple[dict, dict]:
    t_start = _time.perf_counter()
    plan, params, notes = prepared.plan, prepared.params, prepared.notes
    run = _Run(prepared.aug, prepared.observer, plan.times, prepared.Y0)
    E, P, C, dE, dP, dC = run.sample()
    tau = _tau(run, P, result.tau_c)
    t_p, dpmax = _power_max(run, P)
    dpmax = dpmax + switch_shift(run, t_p, params)
    out = _records(params, plan, notes, list(zip(dE, dP, dC, strict=True)), tau, dpmax, result)
    info = _info(result, (E, P, C), prepared.density, tau, t_p, prepared.seconds + _time.perf_counter() - t_start)
    if prepared.engine:
        info["engine"] = info["propagation"] = prepared.engine
    worst = max(info["reproduces_run"].values())
    if worst > REPRODUCTION_TOL:
        import warnings

        warnings.warn(f"the sensitivity propagation (full basis) differs from the run's E, P, C_Q by {worst:.1e} "
                      "(relative): its derivatives may not be those of this run", UserWarning, stacklevel=3)
    return out, info


def _records(params, plan, notes, series, tau, dpmax, result) -> dict:
    """{name: record} from the per-parameter series (or Nones) and figure derivatives."""
    out = {p.name: _record(p, plan, series[k], tau, k, dpmax[k], notes[k]) for k, p in enumerate(params)}
    undefined = result.undefined  # figures that are not results (round-off C_Q*, no maximum): no derivative
    for p in params:  # theta dE_max/dtheta / E_max (the tornado plot's bars)
        rec = out[p.name]
        rec.update({k: None for k in undefined if k in rec})
        if rec["energy_max"] is not None and result.energy_max:
            rec["normalised_energy_max"] = p.value * rec["energy_max"] / result.energy_max
    return out


def _record(p, plan, series, tau, k: int, dpmax, note) -> dict:
    """One parameter's record: its value and unit, dE, dP, dC per sample, the figures' derivatives."""
    from ..core.units import rate_unit

    m = plan.model
    eu, tu = getattr(m, "energy_unit", "omega0"), getattr(m, "time_unit", "1/omega0")
    unit = {"energy": eu, "time": tu, "rate": rate_unit(eu, tu)}.get(p.unit, p.unit)
    rec = {"kind": p.kind, "value": p.value, "unit": unit, "energy": series[0], "power": series[1],
           "capacitance": series[2], "power_max": float(dpmax), "tau_c": None, "energy_max": None,
           "capacitance_at_tau_c": None, "normalised_energy_max": None, "operator_derivative": note}
    if tau is not None:
        rec.update({key: float(tau[key][k]) for key in ("tau_c", "energy_max", "capacitance_at_tau_c")})
    return rec


def _info(result, mine, density, tau, t_p, wall) -> dict:
    scale = max(float(np.max(np.abs(result.energy))), 1e-300)
    diff = {name: float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-300)
            for name, a, b in zip(("energy", "power", "capacitance"), mine,
                                  (result.energy, result.power, result.capacitance), strict=True)}
    return {"mode": "forward", "engine": "density matrix" if density else "state vectors",
            "propagation": "expm_multiply (piecewise constant) / DOP853 rtol 1e-12 (smooth)",
            "reproduces_run": diff, "energy_scale": scale, "tau_c_refined": None if tau is None else tau["t"],
            "power_max_time": t_p, "wall_time_s": wall}
