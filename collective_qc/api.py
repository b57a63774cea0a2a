"""The Python entry point: ``charge(model, drive=..., times=...)``."""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

import numpy as np

from . import __version__
from .errors import InputError, format_bytes
from .graph import validate_graph
from .merit import figures_of_merit
from .operators import build_operators, check_memory, conserves, estimate_nnz_per_row
from .options import METHODS, check_options, integer, number
from .protocols import parse_protocol
from .registry import make_model
from .results import ChargeResult
from .runtime import thread_limit
from .sectors import excitation_number
from .states import initial_state
from .symmetry import choose_block, is_uniform_ring

__all__ = ["charge", "METHODS"]

EXACT_AUTO_MAX_DIM = 256  # auto picks the density-matrix solver up to this Hilbert-space dimension


def _times(times, t_max, n_times):
    if times is None:
        return np.linspace(0.0, number("t_max", t_max, positive=True), integer("n_times", n_times, low=2))
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


MAX_CUTOFF_REFINEMENTS = 4  # automatic Fock cutoffs are doubled at most this many times


def charge(
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
        State quantities sampled as time series into ``result.observables`` (every method;
        trajectory runs evaluate them on the trajectory-averaged density matrix, with jackknife
        errors in ``observables_stderr``; see :mod:`collective_qc.state_measures` for
        definitions and limits).
    tolerance : float
        Trajectory runs: relative and absolute per-step error tolerance of the adaptive
        integrator (default 1e-8).
    client : dask.distributed.Client, optional
        Trajectory runs: batches of trajectories on its workers (bitwise identical results);
        see :func:`collective_qc.parallel.open_client`.
    charger : None | "NAME[:ARGS]" | static list | Charger
        The charger V (:mod:`collective_qc.chargers`: field, global, k-local, cavity, user);
        None: the graph attribute ``charger``, else the model's default. Recorded in
        ``metadata["charger"]`` with its operator norm.
    norm : None | "field" | float
        Rescale V to this operator norm ("field": that of the parallel field sum_i w_i 2 S^x_i
        on the same sites); the factor is recorded in ``metadata["charger"]["scale"]``.
    battery_off_while_charging : bool
        Binder/Campaioli convention H = H_aux + lambda f(t) V (H_B left out of the generator;
        E is still measured with H_B). Default False: H = H_B + H_aux + lambda f(t) V.
    speed_limit : bool
        Closed runs: sample |P|, 2 Delta H_B Delta H and their ratios into ``observables`` and
        summarise them with a bound on P_max in ``metadata["speed_limit"]`` (:mod:`collective_qc.bounds`).
    progress : None, True or callable (done, total) -> None
        Progress of the run: True for a :class:`collective_qc.progress.Progress` (a bar on a
        terminal, status lines when piped); a callable receives (samples or trajectories
        done, total).

    Returns
    -------
    ChargeResult
    """
    t_start = _time.perf_counter()
    given = dict(n_times=n_times, method=method, initial=initial, dephasing=dephasing, relaxation=relaxation,
                 symmetry=symmetry, ntraj=ntraj, seed=seed, tolerance=tolerance, quantities=quantities,
                 charger=charger, norm=norm, battery_off_while_charging=battery_off_while_charging,
                 speed_limit=speed_limit)
    if t_max is not None:
        given["t_max"] = t_max
    run = Run.check(drive, times, protocol, check_options(given))
    first = make_model(model, params)
    if progress is True:  # a default reporter: bar on a terminal, status lines when piped
        from .progress import Progress

        progress = Progress(f"charge {first.name}")
    m, history = first, []
    for level in range(1, MAX_CUTOFF_REFINEMENTS + 2):
        problem = prepare(m, run)
        if hasattr(progress, "unit"):
            progress.unit = "trajectories" if problem.method == "trajectories" else "time samples"
        with thread_limit(problem.size):
            sol, observables, errors, measures = solve(problem, run, progress, client)
        cutoff = _cutoff_report(problem.ops, problem.init, observables, errors)
        finer = None
        if cutoff and not all(r["converged"] for r in cutoff.values()):
            finer = first.refine_cutoff(level)  # automatic cutoff: double n_max and run again
        if finer is None:
            break
        history.append({k: v["n_max"] for k, v in cutoff.items()})
        if hasattr(progress, "note"):
            progress.note(f"Fock cutoff n_max = {list(history[-1].values())} not converged; "
                          f"rerunning with n_max doubled")
        m = finer
    _warn_cutoff(cutoff)
    return _result(problem, run, sol, observables, errors, measures, cutoff, history, t_start)


@dataclass(frozen=True)
class Run:
    """The checked physics arguments and options of one charge() call."""

    drive: float
    times: np.ndarray
    protocol: object
    which: tuple
    opts: dict

    @classmethod
    def check(cls, drive, times, protocol, opts: dict) -> "Run":
        from .state_measures import parse_quantities

        return cls(number("drive", drive), _times(times, opts["t_max"], opts["n_times"]), parse_protocol(protocol),
                   parse_quantities(opts["quantities"]), opts)

    def __getattr__(self, name):  # run.method, run.ntraj, ... read the checked options
        try:
            return self.__dict__["opts"][name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Sector:
    """A conserved sector of a closed run: its label (N_exc or parity), value and basis indices."""

    label: str
    value: float
    index: np.ndarray


@dataclass
class Problem:
    """A run prepared once: model -> graph -> method -> operators -> initial state -> reduction."""

    model: object
    graph: object
    method: str
    ops: object  # operators the solver uses (a symmetry block or conserved sector)
    full_ops: object  # operators before the sector restriction
    init: object
    block: dict | None
    sector: Sector | None
    memory: float

    @property
    def size(self) -> int:
        """Length of the propagated state (the thread policy's measure)."""
        return self.ops.dim * (self.ops.dim if self.method == "exact" else 1)


def _is_noisy(mg, run: Run) -> bool:
    return run.dephasing > 0 or run.relaxation > 0 or any(
        (s.gamma or 0) > 0 or (s.kappa or 0) > 0 for s in mg.spins) or any(md.kappa > 0 for md in mg.modes)


def choose_method(method: str, noisy: bool, dim: int) -> str:
    """The solver a run uses: ``auto`` is closed without noise, exact up to EXACT_AUTO_MAX_DIM, else
    trajectories; ``closed`` with noise is refused."""
    if method == "closed" and noisy:
        raise InputError("method 'closed' is for noise-free runs; use --method exact (or auto) with noise")
    if method != "auto":
        return method
    if not noisy:
        return "closed"
    return "exact" if dim <= EXACT_AUTO_MAX_DIM else "trajectories"


def memory_need(mg, method: str, run: Run, ring: bool) -> float:
    """Bytes a run needs, estimated from the graph before any operator is built."""
    if method == "trajectories":
        n_ch = 2 * len(mg.spins) + len(mg.modes)
        return estimate_memory(mg, method) * 2 + n_ch * mg.dim * 24 + 3 * run.ntraj * len(run.times) * 8
    if method == "exact":
        from .solvers.lindblad import estimate_lindblad_memory

        return estimate_lindblad_memory(mg.dim, estimate_nnz_per_row(mg), 2 * len(mg.spins) + len(mg.modes))
    need = estimate_memory(mg, method)
    return need / len(mg.spins) if ring else need  # a momentum block holds about 1/N of the states


def prepare(m, run: Run) -> Problem:
    """Build everything a solver needs, once, after the memory check."""
    from .chargers import resolve_charger

    mg = validate_graph(m.graph())
    chg, default = resolve_charger(run.charger, mg)  # a charger that does not fit is refused here
    used = choose_method(run.method, _is_noisy(mg, run), mg.dim)
    ring = used == "closed" and run.symmetry and chg.symmetric and is_uniform_ring(mg, m.ring_order())
    need = memory_need(mg, used, run, ring)
    check_memory(need, f"method {used!r} on model {m.name!r} (Hilbert space dimension {mg.dim:,})")
    block, ops = choose_block(mg, run.initial) if ring and not run.which else (None, None)
    if ops is None or not default or run.norm is not None or run.battery_off_while_charging:
        ops = build_operators(mg, dephasing=run.dephasing, relaxation=run.relaxation, symmetry=block,
                              charger=run.charger, norm=run.norm, battery_off=run.battery_off_while_charging)
    init = initial_state(ops, run.initial)
    full_ops, sector = ops, None
    if used == "closed":
        from .sectors import conserved_sector, restrict

        found = conserved_sector(ops, init)
        if found is not None:
            sector = Sector(*found)
            ops, init = restrict(ops, init, sector.index)
    return Problem(m, mg, used, ops, full_ops, init, block, sector, need)


def solve(problem: Problem, run: Run, progress=None, client=None):
    """Run the problem's solver; returns (solution, observables, their errors or None, state measures)."""
    from .state_measures import StateMeasures

    ops, init = problem.ops, problem.init
    measures = None
    if run.which:
        index = None if problem.sector is None else problem.sector.index
        measures = StateMeasures(problem.full_ops, run.which, init.vectors.shape[1], index)
    names, diag = _diagonal_observables(ops)
    if problem.method == "trajectories":
        from .solvers.trajectories import solve_trajectories

        sol = solve_trajectories(ops, init.vectors, init.weights, run.drive, run.protocol, run.times,
                                 ntraj=run.ntraj, seed=run.seed, progress=progress, diagonals=diag, client=client,
                                 state_measure=None if measures is None else measures.density,
                                 rtol=run.tolerance, atol=run.tolerance)
        extras, extras_err = sol.diagonals, sol.diagonals_stderr
    else:
        if problem.method == "exact":
            from .solvers.lindblad import solve_lindblad as solver
        else:
            from .solvers.closed import solve_closed as solver
        hook = None if measures is None else (measures.density if problem.method == "exact" else measures.closed)
        if run.speed_limit and problem.method == "closed":
            from .bounds import SpeedLimit

            speed = SpeedLimit(ops, run.drive, run.protocol, run.times)
            hook = speed if hook is None else _joined(hook, speed)
        sol = solver(ops, init.vectors, init.weights, run.drive, run.protocol, run.times, progress=progress,
                     diagonals=diag, extras=hook)
        extras, extras_err = sol.extras, None
    if measures is not None:
        names = names + measures.names
    if run.speed_limit and problem.method == "closed":
        names = names + SpeedLimit.names
    observables = {n: extras[k] for k, n in enumerate(names)} if names else {}
    errors = {n: extras_err[k] for k, n in enumerate(names)} if names and extras_err is not None else None
    return sol, observables, errors, measures


def _joined(*hooks):
    """One closed-solver extras hook from several (their outputs concatenated)."""

    def hook(psi, weights):
        return np.concatenate([np.atleast_1d(h(psi, weights)) for h in hooks])

    return hook


def _speed_report(problem: Problem, run: Run, observables) -> dict | None:
    if not run.speed_limit:
        return None
    if problem.method != "closed":
        return {"computed": False, "reason": "the speed limit |P| <= 2 Delta H_B Delta H holds for closed runs"}
    from .bounds import power_bound, speed_limit_summary

    return {"computed": True, **speed_limit_summary(observables),
            **power_bound(problem.ops, run.drive, run.protocol, run.times)}


def _metadata(problem: Problem, run: Run, sol, measures, cutoff, history, t_start, observables=None) -> dict:
    m, sector = problem.model, problem.sector
    meta = {
        "version": __version__,
        "dim": problem.ops.dim,
        "symmetry_block": problem.block,
        "sector": None if sector is None else {"label": sector.label, "value": sector.value,
                                                "dim": len(sector.index)},
        "trajectories": {"ntraj": int(run.ntraj), "seed": int(run.seed), "mean_jumps": sol.mean_jumps,
                         "tau_c_refinement": "cubic Hermite interpolation of averaged E, P"}
        if problem.method == "trajectories" else None,
        "initial": problem.init.describe(),
        "protocol": run.protocol.describe(),
        "units": {"energy": m.energy_unit, "time": m.time_unit},  # derived units: ChargeResult.units
        "noise": noise_provenance(problem.graph, run.dephasing, run.relaxation),
        "graph_file": getattr(m, "path", None),
        "E0": sol.e0,
        "cutoff": cutoff,
        "quantities": None if measures is None else {"computed": measures.names, "notes": measures.notes},
        "charger": problem.ops.charger,
        "battery_off_while_charging": bool(run.battery_off_while_charging),
        "speed_limit": _speed_report(problem, run, observables),
        "memory_estimate": format_bytes(problem.memory),
        "wall_time_s": _time.perf_counter() - t_start,
    }
    if history:
        meta["cutoff_history"] = history
    return meta


def _result(problem: Problem, run: Run, sol, observables, errors, measures, cutoff, history, t_start):
    merit = figures_of_merit(sol.times, sol.energy, sol.power, sol.capacitance, evaluate=sol.evaluate)
    m = problem.model
    return ChargeResult(
        times=sol.times, energy=sol.energy, power=sol.power, capacitance=sol.capacitance,
        n_sites=problem.graph.n_sites, tau_c=merit.tau_c, energy_max=merit.energy_max, power_max=merit.power_max,
        average_power_max=merit.average_power_max, capacitance_at_tau_c=merit.capacitance_at_tau_c,
        model=m.name, params=dict(m.values), method=problem.method, drive=run.drive,
        metadata=_metadata(problem, run, sol, measures, cutoff, history, t_start, observables),
        energy_stderr=getattr(sol, "energy_stderr", None), power_stderr=getattr(sol, "power_stderr", None),
        capacitance_stderr=getattr(sol, "capacitance_stderr", None),
        observables=observables, observables_stderr=errors,
    )


def noise_provenance(mg, dephasing: float, relaxation: float) -> dict:
    """The noise a run actually used: uniform rates, and the per-site rates that graph node
    attributes (``gamma``, ``kappa`` on spins, ``kappa`` on boson modes) set instead."""
    per_g = {str(s.node): s.gamma for s in mg.spins if s.gamma is not None}
    per_k = {str(s.node): s.kappa for s in mg.spins if s.kappa is not None}
    cav = {str(md.node): md.kappa for md in mg.modes if md.kappa > 0}
    out = {"dephasing": dephasing, "relaxation": relaxation}
    if per_g:
        out["per_site_gamma"] = per_g
    if per_k:
        out["per_site_kappa"] = per_k
    if cav:
        out["cavity_kappa"] = cav
    return out


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


