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

import numpy as np

from ..core.errors import InputError
from ..core.validate import check_memory
from ..physics.states import initial_state
from .engine import Augmented
from .forward import Prepared, _power_max, _Run, _start, _tangents, _tau, switch_shift
from .forward import density_run as _density
from .generators import operators_at, pieces
from .initial import DENSE_STATE_LIMIT
from .names import resolve_names
from .observe import DensityObserver, StateObserver

__all__ = ["check_sensitivities", "prepare_sensitivities", "compute_sensitivities", "Prepared", "SENSITIVITY_METHODS",
           "augmented_memory"]

SENSITIVITY_METHODS = ("closed", "exact", "trajectories", "permutation")
REPRODUCTION_TOL = 1e-8  # the tangents' own E, P, C_Q against the run's (relative): warned above this


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


def prepare_adjoint(plan, charging: dict, params):
    """The adjoint pass's preparation (:mod:`.adjoint`): state vectors, or density matrices for exact
    runs and thermal initial states (:mod:`.adjoint_density`)."""
    if _density(plan):
        from .adjoint_density import prepare_density

        return prepare_density(plan, charging, params)
    from .adjoint import prepare_state_adjoint

    return prepare_state_adjoint(plan, charging, params)


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
    from ..core.runtime import one_thread
    from .adjoint import AdjointPrepared, adjoint_figures

    if not isinstance(prepared, (Prepared, AdjointPrepared)):  # a trajectory run (:mod:`.trajectory`)
        from .trajectory import compute_trajectory

        return compute_trajectory(prepared, result)
    with one_thread():
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
