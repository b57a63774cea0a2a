"""The Python entry point: ``charge(model, drive=..., times=...)``."""

from __future__ import annotations

import time as _time

import numpy as np

from . import __version__
from .errors import InputError, format_bytes
from .guard import EXACT_AUTO_MAX_DIM, METHODS, estimate_memory, plan_run
from .merit import figures_of_merit
from .operators import build_operators, conserves
from .results import ChargeResult
from .sectors import excitation_number
from .states import initial_state
from .symmetry import choose_block, is_uniform_ring

__all__ = ["charge", "check_charge", "METHODS", "EXACT_AUTO_MAX_DIM", "estimate_memory"]  # last 3: from .guard


def charge(model, drive: float = 0.5, times=None, **kwargs) -> ChargeResult:
    """Charge a model; see :func:`_charge` for the parameters (documented there in full)."""
    plan = check_charge(model, drive, times, **kwargs)  # before anything large is built
    with _thread_limit(plan.dim, plan.method):
        return _charge(model, drive, times, _plan=plan, **kwargs)


def check_charge(model, drive: float = 0.5, times=None, **kwargs):
    """Check a :func:`charge` call (same arguments) without running it: every option, the memory
    estimate and rates x times, before any large graph, operator or array is built.

    Returns
    -------
    collective_qc.guard.RunPlan
        The checked options (method chosen, sample times, memory estimate, operator-norm bounds).

    Raises
    ------
    InputError, ResourceError
    """
    return plan_run(**_bind(model, drive, times, kwargs))


def _bind(model, drive, times, kwargs) -> dict:
    """The arguments of a ``charge`` call by name (defaults filled in); unknown names -> InputError."""
    import difflib
    import inspect

    sig = inspect.signature(_charge)
    known = [n for n in sig.parameters if not n.startswith("_")]
    for key in kwargs:
        if key not in known:
            close = difflib.get_close_matches(key, known, n=2)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise InputError(f"charge() got an unknown argument {key!r}{hint}")
    bound = sig.bind(model, drive, times, **kwargs)
    bound.apply_defaults()
    return dict(bound.arguments)


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
    _plan=None,
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

    Returns
    -------
    ChargeResult
        ``tau_c``, ``energy_max`` and ``capacitance_at_tau_c`` are None when E(t) has no maximum in
        the window, or when E(t) is round-off (``metadata["undefined"]`` says why; a warning too).

    Raises
    ------
    InputError
        A bad argument (the message names it), checked by :func:`collective_qc.guard.plan_run`
        before any graph, operator or array is built; also rates x times beyond what the
        propagation can resolve.
    ResourceError
        The memory estimate (operators, vectors, sample arrays) exceeds 80 % of the available memory.
    """
    t_start = _time.perf_counter()
    p = _plan if _plan is not None else plan_run(model, drive, times, params=params, t_max=t_max, n_times=n_times,
                                                 method=method, initial=initial, protocol=protocol,
                                                 dephasing=dephasing, relaxation=relaxation, symmetry=symmetry,
                                                 ntraj=ntraj, seed=seed, quantities=quantities, tolerance=tolerance)
    drive, tol, dephasing, relaxation, t, proto = p.drive, p.tolerance, p.dephasing, p.relaxation, p.times, p.protocol
    which, m, mg, used, need, symmetry = p.quantities, p.model, p.model_graph, p.method, p.memory, p.symmetry
    ntraj, seed = p.ntraj, p.seed
    from .state_measures import StateMeasures

    block = None
    if used == "closed" and symmetry and not which and is_uniform_ring(mg, m.ring_order()):
        block = choose_block(mg, initial)
    ops = build_operators(mg, dephasing=dephasing, relaxation=relaxation, symmetry=block)
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
        sol = solver(ops, init.vectors, init.weights, drive, proto, t, progress=progress, diagonals=diag,
                     extras=hook)
        extras, extras_err = sol.extras, None
        if measures is not None:
            names = names + measures.names
    observables = {n: extras[k] for k, n in enumerate(names)} if names else {}
    observables_err = {n: extras_err[k] for k, n in enumerate(names)} if names and extras_err is not None else None
    cutoff = _cutoff_report(ops, init, observables, observables_err)
    if cutoff and not all(r["converged"] for r in cutoff.values()) and hasattr(m, "refine_cutoff"):
        finer = m.refine_cutoff()  # automatic cutoff: double n_max and run again
        if finer is not None:
            res = charge(finer, drive, t, method=method, initial=initial, protocol=proto,
                         dephasing=dephasing, relaxation=relaxation, symmetry=symmetry, ntraj=ntraj, seed=seed,
                         quantities=quantities, progress=progress, client=client, tolerance=tolerance)
            res.metadata["cutoff_history"] = [{k: v["n_max"] for k, v in cutoff.items()},
                                              *res.metadata.get("cutoff_history", [])]
            res.metadata["wall_time_s"] = _time.perf_counter() - t_start
            return res
    _warn_cutoff(cutoff)
    merit = figures_of_merit(sol.times, sol.energy, sol.power, sol.capacitance, evaluate=sol.evaluate,
                             energy_scale=p.scales["H_B"] + p.scales["H_aux"])
    _warn_not_a_result(merit, m.name)
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
        "memory_estimate": format_bytes(need),
        "undefined": merit.undefined,
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


THREADS_MIN_SIZE = 1 << 15  # smaller problems run with one OpenMP/BLAS thread (threads cost more than they save)


def _thread_limit(dim, method):
    """One OpenMP/BLAS thread for small problems (Numba's trajectory threads are not affected)."""
    import contextlib

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


def _warn_not_a_result(merit, model: str) -> None:
    import warnings

    if merit.undefined:
        warnings.warn(f"model {model!r}: {merit.undefined}", UserWarning, stacklevel=4)


def _warn_cutoff(report):
    import warnings

    for node, r in (report or {}).items():
        if not r["converged"]:
            warnings.warn(f"boson mode {node!r}: the two top Fock levels (n_max = {r['n_max']}) reach a "
                          f"population of {r['top_population_max']:.2e} > {CUTOFF_TOLERANCE:g}; raise n_max",
                          stacklevel=3)


charge.__doc__ = _charge.__doc__
