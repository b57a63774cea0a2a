"""The Python entry point: ``charge(model, drive=..., times=...)``."""

from __future__ import annotations

import math
import time as _time

import numpy as np

from . import __version__
from .errors import InputError, format_bytes
from .graph import validate_graph
from .merit import figures_of_merit
from .operators import build_operators, check_memory, conserves, estimate_nnz_per_row
from .protocols import parse_protocol
from .registry import make_model
from .results import ChargeResult
from .sectors import excitation_number
from .states import initial_state
from .symmetry import choose_block, is_uniform_ring

__all__ = ["charge", "METHODS"]

METHODS = ("auto", "closed", "exact", "trajectories")
EXACT_AUTO_MAX_DIM = 256  # auto picks the density-matrix solver up to this Hilbert-space dimension


def _finite(name, value, *, positive=False, nonneg=False):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v):
        raise InputError(f"{name} must be finite, got {value!r}")
    if positive and v <= 0:
        raise InputError(f"{name} must be > 0, got {value!r}")
    if nonneg and v < 0:
        raise InputError(f"{name} must be >= 0, got {value!r}")
    return v


def _times(times, t_max, n_times):
    if times is None:
        t_max = _finite("t_max", 20.0 if t_max is None else t_max, positive=True)
        if isinstance(n_times, bool) or int(n_times) != n_times or n_times < 2:
            raise InputError(f"n_times must be an integer >= 2, got {n_times!r}")
        return np.linspace(0.0, t_max, int(n_times))
    t = np.asarray(times, dtype=float)
    if t.ndim != 1 or len(t) < 2 or not np.all(np.isfinite(t)) or t[0] < 0 or np.any(np.diff(t) <= 0):
        raise InputError("times must be a finite, strictly increasing 1-d array starting at t >= 0")
    return t


def estimate_memory(mg, method: str) -> float:
    """Bytes needed by a run (operators + vectors), estimated before building anything."""
    dim = mg.dim
    nnz = dim * estimate_nnz_per_row(mg)
    ops_bytes = 3 * nnz * 12 + 2 * nnz * 12  # H_B, V, H0 + augmented generator
    vec_bytes = 2 * dim * 16 * 30  # augmented vectors and Taylor work space
    return ops_bytes + vec_bytes


def charge(model, drive: float = 0.5, times=None, **kwargs) -> ChargeResult:
    """Charge a model; see :func:`_charge` for the parameters (documented there in full)."""
    with _thread_limit(model, kwargs.get("params"), kwargs.get("method", "auto")):
        return _charge(model, drive, times, **kwargs)


def _charge(
    model,
    drive: float = 0.5,
    times=None,
    *,
    params: dict | None = None,
    t_max: float | None = None,
    n_times: int = 201,
    method: str = "auto",
    initial: str = "ground",
    protocol=None,
    dephasing: float = 0.0,
    relaxation: float = 0.0,
    symmetry: bool = True,
    ntraj: int = 500,
    seed: int = 0,
    quantities=None,
    progress=None,
    client=None,
    tolerance: float = 1e-8,
    charger=None,
    norm=None,
    battery_off_while_charging: bool = False,
    speed_limit: bool = False,
) -> ChargeResult:
    """Charge a model with H(lambda, t) = H_B + H_aux + lambda f(t) V and measure it.

    Parameters
    ----------
    model : str, Model, Model class, nx.Graph or path to a GraphML / node-link JSON file
    drive : float
        Charging amplitude lambda (the paper's Omega), energy units.
    times : array, optional
        Sample times (default ``linspace(0, t_max, n_times)``).
    params : dict
        Model parameters (``cqc models`` lists them).
    method : "auto" | "closed" | "exact" | "trajectories"
        auto: closed without noise, exact density matrix up to dimension 256, trajectories beyond.
    initial : "ground" (zero-temperature state of H_B, default) | "product" (|g...g>)
    protocol : None | "constant" | "on-off:TAU" | Protocol
    dephasing, relaxation : float
        Uniform per-site rates gamma, kappa (>= 0).
    ntraj, seed : int
        Trajectory count and seed (trajectory i uses the stream of (seed, i) only).
    symmetry : bool
        Use QuSpin momentum/parity blocks for closed runs on uniform rings (default True).
    quantities : None | "all" | list of "ergotropy", "coherence", "entropy"
        State quantities sampled as time series into ``result.observables`` (closed and exact
        methods; see :mod:`collective_qc.state_measures` for definitions and limits).
    tolerance : float
        Trajectory runs: relative and absolute per-step error tolerance of the adaptive
        integrator (default 1e-8).
    client : dask.distributed.Client, optional
        Trajectory runs: batches of trajectories on its workers (bitwise identical results);
        see :func:`collective_qc.parallel.open_client`.
    charger : None | "NAME[:ARGS]" | static list | Charger
        The charger V (:mod:`collective_qc.chargers`: field, global, k-local, cavity, user);
        None: the graph attribute ``charger``, else the model's default. Recorded in
        ``metadata["charger"]``.
    norm : None | "field" | float
        Rescale V to this operator norm ("field": that of the parallel field sum_i w_i 2 S^x_i
        on the same sites); the factor is recorded in ``metadata["charger"]["scale"]``.
    battery_off_while_charging : bool
        Binder/Campaioli convention H = H_aux + lambda f(t) V (H_B left out of the generator;
        E is still measured with H_B). Default False: H = H_B + H_aux + lambda f(t) V.
    speed_limit : bool
        Closed runs: sample the speed-limit series |P|, 2 Delta H_B Delta H and their ratios into
        ``observables`` and summarise them with a bound on P_max in ``metadata["speed_limit"]``
        (:mod:`collective_qc.bounds`).

    Returns
    -------
    ChargeResult
    """
    t_start = _time.perf_counter()
    drive = _finite("drive", drive)
    tol = _finite("tolerance", tolerance, positive=True)
    if tol >= 1e-2:
        raise InputError(f"tolerance must be < 1e-2, got {tolerance!r}")
    dephasing = _finite("dephasing", dephasing, nonneg=True)
    relaxation = _finite("relaxation", relaxation, nonneg=True)
    t = _times(times, t_max, n_times)
    proto = parse_protocol(protocol)
    if method not in METHODS:
        raise InputError(f"unknown method {method!r} (choose from {', '.join(METHODS)})")
    from .state_measures import StateMeasures, parse_quantities

    which = parse_quantities(quantities)
    m = make_model(model, params)
    mg = validate_graph(m.graph())
    from .chargers import resolve_charger

    chg, _ = resolve_charger(charger, mg)  # refuses a charger that does not fit, before any work
    noisy = dephasing > 0 or relaxation > 0 or any(
        (s.gamma or 0) > 0 or (s.kappa or 0) > 0 for s in mg.spins) or any(md.kappa > 0 for md in mg.modes)
    if method == "closed" and noisy:
        raise InputError("method 'closed' is for noise-free runs; use --method exact (or auto) with noise")
    if method == "auto":
        used = "exact" if noisy else "closed"
        if noisy and mg.dim > EXACT_AUTO_MAX_DIM:
            used = "trajectories"
    else:
        used = method
    if used == "trajectories":
        if isinstance(ntraj, bool) or int(ntraj) != ntraj or ntraj < 2:
            raise InputError(f"ntraj must be an integer >= 2, got {ntraj!r}")
        if isinstance(seed, bool) or int(seed) != seed or seed < 0:
            raise InputError(f"seed must be a non-negative integer, got {seed!r}")
        n_ch = 2 * len(mg.spins) + len(mg.modes)
        need = estimate_memory(mg, used) * 2 + n_ch * mg.dim * 24 + 3 * ntraj * len(t) * 8
    elif used == "exact":
        from .solvers.lindblad import estimate_lindblad_memory

        need = estimate_lindblad_memory(mg.dim, estimate_nnz_per_row(mg), 2 * len(mg.spins) + len(mg.modes))
    else:
        need = estimate_memory(mg, used)
        if used == "closed" and symmetry and is_uniform_ring(mg, m.ring_order()):
            need /= len(mg.spins)  # a momentum block holds about 1/N of the states
    check_memory(need, f"method {used!r} on model {m.name!r} (Hilbert space dimension {mg.dim:,})")
    block = None
    if used == "closed" and symmetry and not which and chg.symmetric and is_uniform_ring(mg, m.ring_order()):
        block = choose_block(mg, initial)
    ops = build_operators(mg, dephasing=dephasing, relaxation=relaxation, symmetry=block, charger=charger, norm=norm,
                          battery_off=battery_off_while_charging)
    init = initial_state(ops, initial)
    sector = None
    full_ops = ops
    if used == "closed":
        from .sectors import conserved_sector, restrict

        sector = conserved_sector(ops, init)
        if sector is not None:
            ops, init = restrict(ops, init, sector[2])
    measures = StateMeasures(full_ops, which, init.vectors.shape[1], None if sector is None else sector[2]) \
        if which else None
    names, diag = _diagonal_observables(ops)
    if used == "trajectories":
        from .solvers.trajectories import solve_trajectories

        sol = solve_trajectories(ops, init.vectors, init.weights, drive, proto, t, ntraj=int(ntraj),
                                 seed=int(seed), progress=progress, diagonals=diag, client=client,
                                 state_measure=None if measures is None else measures.density,
                                 rtol=tol, atol=tol)
        extras, extras_err = sol.diagonals, sol.diagonals_stderr
        if measures is not None:
            names = names + measures.names
    else:
        if used == "exact":
            from .solvers.lindblad import solve_lindblad as solver
        else:
            from .solvers.closed import solve_closed as solver
        hook = None if measures is None else (measures.density if used == "exact" else measures.closed)
        speed = None
        if speed_limit and used == "closed":
            from .bounds import SpeedLimit

            speed = SpeedLimit(ops, drive, proto, t)
            hook = speed if hook is None else _joined(hook, speed)
        sol = solver(ops, init.vectors, init.weights, drive, proto, t, progress=progress, diagonals=diag,
                     extras=hook)
        extras, extras_err = sol.extras, None
        if measures is not None:
            names = names + measures.names
        if speed is not None:
            names = names + speed.names
    observables = {n: extras[k] for k, n in enumerate(names)} if names else {}
    observables_err = {n: extras_err[k] for k, n in enumerate(names)} if names and extras_err is not None else None
    cutoff = _cutoff_report(ops, init, observables, observables_err)
    if cutoff and not all(r["converged"] for r in cutoff.values()) and hasattr(m, "refine_cutoff"):
        finer = m.refine_cutoff()  # automatic cutoff: double n_max and run again
        if finer is not None:
            res = charge(finer, drive, t, method=method, initial=initial, protocol=proto,
                         dephasing=dephasing, relaxation=relaxation, symmetry=symmetry, ntraj=ntraj, seed=seed,
                         quantities=quantities, progress=progress, client=client, tolerance=tolerance,
                         charger=charger, norm=norm, battery_off_while_charging=battery_off_while_charging,
                         speed_limit=speed_limit)
            res.metadata["cutoff_history"] = [{k: v["n_max"] for k, v in cutoff.items()},
                                              *res.metadata.get("cutoff_history", [])]
            res.metadata["wall_time_s"] = _time.perf_counter() - t_start
            return res
    _warn_cutoff(cutoff)
    merit = figures_of_merit(sol.times, sol.energy, sol.power, sol.capacitance, evaluate=sol.evaluate)
    meta = {
        "version": __version__,
        "dim": ops.dim,
        "symmetry_block": block,
        "sector": None if sector is None else {"label": sector[0], "value": sector[1], "dim": len(sector[2])},
        "trajectories": {"ntraj": int(ntraj), "seed": int(seed), "mean_jumps": sol.mean_jumps,
                         "tau_c_refinement": "cubic Hermite interpolation of averaged E, P"}
        if used == "trajectories" else None,
        "initial": init.describe(),
        "protocol": proto.describe(),
        "units": {"energy": m.energy_unit, "time": m.time_unit},
        "noise": {"dephasing": dephasing, "relaxation": relaxation},
        "E0": sol.e0,
        "cutoff": cutoff,
        "quantities": None if measures is None else {"computed": measures.names, "notes": measures.notes},
        "charger": ops.charger,
        "battery_off_while_charging": bool(battery_off_while_charging),
        "speed_limit": _speed_report(speed_limit, used, ops, drive, proto, t, observables),
        "memory_estimate": format_bytes(need),
        "wall_time_s": _time.perf_counter() - t_start,
    }
    return ChargeResult(
        times=sol.times, energy=sol.energy, power=sol.power, capacitance=sol.capacitance,
        n_sites=mg.n_sites, tau_c=merit.tau_c, energy_max=merit.energy_max, power_max=merit.power_max,
        average_power_max=merit.average_power_max, capacitance_at_tau_c=merit.capacitance_at_tau_c,
        model=m.name, params=dict(m.values), method=used, drive=drive, metadata=meta,
        energy_stderr=getattr(sol, "energy_stderr", None), power_stderr=getattr(sol, "power_stderr", None),
        capacitance_stderr=getattr(sol, "capacitance_stderr", None),
        observables=observables, observables_stderr=observables_err,
    )


def _joined(*hooks):
    """One closed-solver extras hook from several (their outputs concatenated)."""

    def hook(psi, weights):
        return np.concatenate([np.atleast_1d(h(psi, weights)) for h in hooks])

    return hook


def _speed_report(requested, used, ops, drive, proto, t, observables):
    if not requested:
        return None
    if used != "closed":
        return {"computed": False, "reason": "the speed limit |P| <= 2 Delta H_B Delta H holds for closed runs"}
    from .bounds import power_bound, speed_limit_summary

    return {"computed": True, **speed_limit_summary(observables), **power_bound(ops, drive, proto, t)}


THREADS_MIN_SIZE = 1 << 15  # smaller problems run with one OpenMP/BLAS thread (threads cost more than they save)


def _thread_limit(model, params, method):
    """One OpenMP/BLAS thread for small problems (Numba's trajectory threads are not affected)."""
    import contextlib

    try:
        dim = validate_graph(make_model(model, params).graph()).dim
    except Exception:  # noqa: BLE001 - the run itself reports bad input
        return contextlib.nullcontext()
    if dim * (dim if method == "exact" else 1) >= THREADS_MIN_SIZE:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)


CUTOFF_TOLERANCE = 1e-6  # largest tolerated population of the two top Fock levels


def _diagonal_observables(ops):
    """Names and (n_obs, dim) diagonals sampled in every run: per mode, its photon number
    and the population of its two top Fock levels (the cutoff check)."""
    names, rows = [], []
    for occ, m in zip(ops.mode_occupation, ops.model_graph.modes, strict=True):
        names += [f"photons[{m.node}]", f"top_fock_population[{m.node}]"]
        rows += [occ, (occ >= m.n_max - 1 - 1e-9).astype(float)]
    return names, (np.array(rows) if rows else None)


def _cutoff_report(ops, init, observables, errors):
    """Per mode: n_max, the largest top-level population over the run, and a verdict.

    When H_0 and V conserve the excitation number N_exc (rotating-wave couplings), no mode
    can hold more than max N_exc of the initial state photons; a cutoff at or above it is
    exact, whatever the top-level population.
    """
    if not ops.model_graph.modes:
        return None
    nexc = excitation_number(ops)
    bound = None
    if conserves(nexc, ops.H0, ops.V):
        support = np.any(np.abs(init.vectors) > 1e-14, axis=1)
        bound = float(np.max(nexc[support]))
    report = {}
    for m in ops.model_graph.modes:
        key = f"top_fock_population[{m.node}]"
        top = observables[key]
        worst = float(np.max(top))
        if errors is not None:  # trajectories: allow for the sampling error
            worst = float(np.max(top + 2.0 * errors[key]))
        exact = bound is not None and m.n_max >= bound - 1e-9
        ok = exact or worst <= CUTOFF_TOLERANCE
        report[str(m.node)] = {"n_max": m.n_max, "top_population_max": worst, "tolerance": CUTOFF_TOLERANCE,
                               "converged": ok, "exact_by_conservation": exact}
    return report


def _warn_cutoff(report):
    import warnings

    for node, r in (report or {}).items():
        if not r["converged"]:
            warnings.warn(f"boson mode {node!r}: the two top Fock levels (n_max = {r['n_max']}) reach a "
                          f"population of {r['top_population_max']:.2e} > {CUTOFF_TOLERANCE:g}; raise n_max",
                          stacklevel=3)


charge.__doc__ = _charge.__doc__
