"""The Python entry point: ``charge(model, drive=..., times=...)``, a short pipeline.

check (:func:`collective_qc.planning.guard.plan_run`: every option, the model's size, memory, rates x
times, before anything large is built) -> :func:`prepare` (graph -> operators -> initial state ->
symmetry block or conserved sector, built once) -> :func:`solve` -> figures of merit -> result.
"""

from __future__ import annotations

import inspect
import time as _time
from dataclasses import dataclass, field

import numpy as np

from .analysis.merit import figures_of_merit
from .analysis.results import ChargeResult
from .core.errors import InputError, format_bytes
from .core.runtime import compile_notice, run_policy, setup_policy
from .core.version import __version__
from .physics.operators import build_operators
from .physics.states import initial_state
from .planning.cutoff import cutoff_report, diagonal_observables, warn_cutoff
from .planning.guard import METHODS, RunPlan, plan_run, thermal_sampling
from .planning.options import OPTIONS
from .planning.symmetry import choose_block, is_uniform_ring

__all__ = ["charge", "check_charge", "prepare", "solve", "METHODS"]

_DEFAULT = {name: opt.default for name, opt in OPTIONS.items()}  # the run options' one declaration
MAX_CUTOFF_REFINEMENTS = 4  # automatic Fock cutoffs are doubled at most this many times


def _signature() -> inspect.Signature:
    """The signature of :func:`charge` as defined here (not whatever a caller rebound
    ``api.charge`` to)."""
    return inspect.signature(_CHARGE)


def _refuse_unknown(unknown: dict) -> None:
    import difflib

    known = [n for n in _signature().parameters if n != "unknown"]
    for key in unknown:
        close = difflib.get_close_matches(key, known, n=2)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise InputError(f"charge() got an unknown argument {key!r}{hint}")


def check_charge(model, drive: float = 0.5, times=None, **kwargs) -> RunPlan:
    """Check a :func:`charge` call (same arguments) without running it: every option, the memory
    estimate and rates x times, before any large graph, operator or array is built.

    Returns
    -------
    collective_qc.planning.guard.RunPlan
        The checked options (method chosen, sample times, memory estimate, operator-norm bounds).

    Raises
    ------
    InputError, ResourceError
    """
    bound = _signature().bind(model, drive, times, **kwargs)
    bound.apply_defaults()
    args = dict(bound.arguments)
    _refuse_unknown(args.pop("unknown"))
    from .ensemble import check_ensemble, is_ensemble  # disorder realisations: realisation 0's plan

    if is_ensemble(args):
        return check_ensemble(args, check_charge)
    return plan_run(args)


def charge(
    model,
    drive: float = 0.5,
    times=None,
    *,
    params: dict | None = None,
    t_max: float | None = None,
    n_times: int = _DEFAULT["n_times"],
    method: str = _DEFAULT["method"],
    initial: str = _DEFAULT["initial"],
    temperature: float | None = _DEFAULT["temperature"],
    protocol=None,
    dephasing: float = _DEFAULT["dephasing"],
    relaxation: float = _DEFAULT["relaxation"],
    pumping: float = _DEFAULT["pumping"],
    collective_emission: float = _DEFAULT["collective_emission"],
    collective_dephasing: float = _DEFAULT["collective_dephasing"],
    collective_pumping: float = _DEFAULT["collective_pumping"],
    symmetry: bool = _DEFAULT["symmetry"],
    ntraj: int | None = None,
    seed: int | None = None,
    quantities=None,
    progress=None,
    client=None,
    tolerance: float | None = None,
    integrator: str | None = None,
    solver_options=None,
    charger=None,
    norm=None,
    battery_off_while_charging: bool = _DEFAULT["battery_off_while_charging"],
    speed_limit: bool = _DEFAULT["speed_limit"],
    disorder=None,
    realisations: int = _DEFAULT["realisations"],
    sensitivities=_DEFAULT["sensitivities"],
    sensitivity_mode: str = _DEFAULT["sensitivity_mode"],
    **unknown,
) -> ChargeResult:
    """Charge a model with H(lambda, t) = H_B + H_aux + lambda f(t) V and measure it.

    Parameters
    ----------
    model : str, Model, Model class, nx.Graph or path to a GraphML / node-link JSON file
    drive : float
        Charging amplitude lambda (the paper's Omega), energy units.
    times : array, optional
        Sample times in 1/omega0, strictly increasing, at least two (default
        ``linspace(0, t_max, n_times)``). Charging starts at t = 0 from the initial state in every
        method; a first sample after 0 only skips the samples before it.
    params : dict
        Model parameters (``cqc models`` lists them).
    method : "auto" | "closed" | "exact" | "trajectories" | "permutation"
        auto: the cheapest solver that takes the problem and fits in memory: closed without
        noise; with noise the exact density matrix while the dimension is at most 0.55 x ntraj
        (``solvers.lindblad.exact_auto_limit``: measured crossover), trajectories beyond; and
        permutation (identical spin-1/2 sites, all-to-all or no bonds, uniform field, charger and
        noise, at most one uniformly coupled mode: the Dicke-ladder basis, O(N^3) numbers,
        :mod:`collective_qc.solvers.permutation`) whenever the model is permutation invariant and
        it is cheaper. A named method that cannot take the model says why in one line.
    initial : "ground" | "product" | "dicke:J,M" | "thermal:T"
        ground: the zero-temperature state of H_B (default); product: |g...g>; dicke:J,M (J, M
        half-integers like 3/2 or 1.5, |M| <= J <= N/2; ``dicke:M`` means J = N/2): the
        permutation-invariant Dicke state P_JM / d_J of spin-1/2 sites, the uniform mixture over the
        d_J copies of |J, M> (a collective spin node holds only J = N/2); thermal:T: exp(-H_B/T)/Z
        on the spins, T > 0 in energy units. A cavity starts in its Fock state (``photons``).
    temperature : float, optional
        T >= 0 (energy units, k_B = 1) of ``initial="thermal"``: the Gibbs state exp(-H_B/T)/Z of
        H_B on the spins (the cavity stays in its Fock state, not thermalised); T = 0 is the ground
        state. Above 4096 spin states, closed and trajectory runs sample it by ``ntraj`` typical
        states, with jackknife standard errors (:mod:`collective_qc.physics.states`).
    protocol : None | "constant" | "on-off:TAU" | Protocol
    dephasing, relaxation, pumping : float
        Uniform per-site rates gamma, kappa, p (>= 0; units omega0) of the jumps sqrt(gamma) 2 S^z_i,
        sqrt(kappa) S^-_i, sqrt(p) S^+_i. Local noise is refused on a collective spin node.
    collective_emission, collective_dephasing, collective_pumping : float
        Rates G (>= 0; units omega0) of the collective jumps sqrt(G) J_-, sqrt(G) 2 J_z, sqrt(G) J_+,
        J^a = sum_i S^a_i over all spin sites (a collective node's own spin). J_+- are not monomial
        on explicit sites: there the trajectory method refuses them (use method="exact").
    ntraj, seed : int
        Trajectory count (default 500) and seed (default 0; trajectory i uses the stream of
        (seed, i) only). Given, they override the same fields of ``solver_options``.
    symmetry : bool
        Use QuSpin momentum/parity blocks for closed runs on uniform rings (default True).
    quantities : None | "all" | list of "ergotropy", "coherence", "entropy"
        State quantities sampled as time series into ``result.observables`` (every method;
        trajectory runs evaluate them on the trajectory-averaged density matrix, jackknife
        bias-corrected, with jackknife errors in ``observables_stderr``; the l1 coherence keeps
        an upward bias there, noted and warned; see :mod:`collective_qc.analysis.state_measures` for
        definitions and limits).
    tolerance : float
        Trajectory runs: relative and absolute per-step error tolerance of the adaptive
        integrator (default 1e-8).
    integrator : "auto" | "chebyshev" | "dopri5" | "rk4", optional
        Trajectory step method (default auto: Chebyshev steps, DOPRI5 for smooth envelopes).
    solver_options : collective_qc.solvers.solution.SolverOptions, optional
        All numerical settings of the solver in one object (integrator, rtol, atol, ntraj, seed,
        block, dt_max); ``ntraj``, ``seed``, ``tolerance`` and ``integrator`` given here override it.
    client : dask.distributed.Client, optional
        Trajectory runs: batches of trajectories on its workers (bitwise identical results);
        see :func:`collective_qc.parallel.open_client`.
    charger : None | "NAME[:ARGS]" | static list | Charger
        The charger V (:mod:`collective_qc.physics.chargers`: field, global, k-local, cavity, user);
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
        summarise them with a bound on P_max in ``metadata["speed_limit"]`` (:mod:`collective_qc.analysis.bounds`).
    disorder : None | dict | str
        Graph attributes drawn per site or per bond (:mod:`collective_qc.physics.disorder`):
        ``{"omega": {"dist": "uniform", "width": 0.5}}``, ``{"J": "normal:0.1"}``, a callable, or
        the CLI form ``"omega=uniform:0.5,J=normal:0.1"``. With ``realisations`` R, realisation r
        is drawn from the streams of (seed, 0, r) only.
    realisations : int
        Number of disorder realisations (default 1). With disorder, the result is an ensemble
        result: E, P, C_Q are means over realisations with ``*_stderr``, and the per-realisation
        figures and drawn values are in ``result.realisations`` (:mod:`collective_qc.ensemble`;
        progress then counts realisations). R > 1 without disorder is refused.
    sensitivities : None | list of str
        Parameters theta of sensitivities (methods closed, exact and permutation: exact, permutation runs for
        global names only, not ``ATTR@NODE``; trajectories: unbiased estimators with ``*_error`` fields;
        :mod:`collective_qc.sensitivity`):
        model parameters ("J"), graph attributes of one node or edge ("omega@3", "J@(0,1)", "weight@0"),
        "drive", envelope fields ("protocol.sigma") and noise rates ("dephasing"). ``result.sensitivities[name]``
        holds dE/dtheta, dP/dtheta, dC_Q/dtheta per sample and the derivatives of tau_c, E_max, P_max, C_Q*.
    sensitivity_mode : "auto" | "forward" | "adjoint"
        forward: exact tangents (2 + 2K state blocks for K parameters), every sample and figure; adjoint
        (closed and exact runs, piecewise-constant envelopes): one backward pass for all parameters, the
        figures' derivatives only (the per-sample series are None; ``metadata["sensitivity"]["note"]``);
        auto (default): adjoint where it is available and cheaper by block count (K >= 6 for state
        vectors, K >= 3 for density matrices: exact runs, closed runs from a thermal state), else forward.
    progress : None, True or callable (done, total) -> None
        Progress of the run: True for a :class:`collective_qc.core.progress.Progress` (a bar on a
        terminal, status lines when piped); a callable receives (samples or trajectories
        done, total).

    Returns
    -------
    ChargeResult
        ``tau_c``, ``energy_max`` and ``capacitance_at_tau_c`` are None when E(t) has no maximum in
        the window, or when E(t) is round-off (``metadata["undefined"]`` says why; a warning too).
        With disorder: an :class:`collective_qc.analysis.ensemble.EnsembleResult`.

    Raises
    ------
    InputError
        A bad argument (the message names it), checked by :func:`collective_qc.planning.guard.plan_run`
        before any graph, operator or array is built; also rates x times beyond what the
        propagation can resolve.
    ResourceError
        The memory estimate (operators, vectors, sample arrays) exceeds 80 % of the available memory.
    """
    args = {k: v for k, v in locals().items() if k != "unknown"}  # the arguments, by name
    t_start = _time.perf_counter()
    _refuse_unknown(unknown)
    from .ensemble import is_ensemble, run_ensemble  # disorder realisations, each an ordinary run

    if is_ensemble(args):
        if args["sensitivities"]:
            raise InputError("sensitivities are computed for single runs, not disorder ensembles")
        return run_ensemble(args, _CHARGE, check_charge)
    progress, client = args["progress"], args["client"]
    if progress is True:  # a default reporter: bar on a terminal, status lines when piped
        from .core.progress import Progress

        args["progress"] = progress = Progress("charge")
    plan = plan_run(args)
    charging = charging_options(args)
    wanted = _sensitivities(args, plan, charging)  # checked and prepared before the run
    first, history = plan.model, []
    for level in range(1, MAX_CUTOFF_REFINEMENTS + 2):
        with setup_policy():  # the same bits for any thread or worker count (collective_qc.core.runtime)
            problem = prepare(plan, charging)
        if hasattr(progress, "unit"):
            progress.unit = "trajectories" if problem.accepts.statistical else "time samples"
        with run_policy(problem.size, problem.parallel_work), compile_notice(progress):  # collective_qc.core.runtime
            sol, observables, errors, measures = solve(problem, progress, client)
        cutoff = cutoff_report(problem.ops, problem.init, observables, errors)
        finer = None
        if cutoff and not all(r["converged"] for r in cutoff.values()):
            finer = first.refine_cutoff(level)  # automatic cutoff: double n_max and run again
        if finer is None:
            break
        history.append({k: v["n_max"] for k, v in cutoff.items()})
        if hasattr(progress, "note") and level == 1:  # one line, not one per pass (cutoff_lines sums up)
            progress.note(f"Fock cutoff n_max = {list(history[-1].values())} not converged; doubling it "
                          f"until it is (the run restarts)")
        plan = plan_run({**args, "model": finer, "params": None})
    warn_cutoff(cutoff)
    with run_policy(problem.size, problem.parallel_work):  # the figures re-propagate (refined maxima)
        result = _result(problem, sol, observables, errors, measures, cutoff, history, t_start)
    return _with_sensitivities(result, wanted, problem, args, charging) if wanted else result


def _with_sensitivities(result: ChargeResult, wanted, problem: Problem, args: dict, charging: dict) -> ChargeResult:
    """The result with its sensitivities (:mod:`collective_qc.sensitivity`) and their record in metadata."""
    from .sensitivity import compute_sensitivities

    if wanted.plan is not problem.plan:  # a refined Fock cutoff: prepare on the final plan
        wanted = _sensitivities(args, problem.plan, charging)
    result.sensitivities, result.metadata["sensitivity"] = compute_sensitivities(wanted, result)
    return result


def _sensitivities(args: dict, plan, charging: dict):
    """The prepared tangents of ``sensitivities`` (:mod:`collective_qc.sensitivity`), or None when none
    is asked for; bad names, methods, memory and a split degenerate ground level refused here."""
    from .planning.options import check_options

    checked = check_options({"sensitivities": args.get("sensitivities"),
                             "sensitivity_mode": args.get("sensitivity_mode", "auto")})
    names = checked["sensitivities"]
    if not names:
        return None
    from .sensitivity import check_sensitivities, choose_mode, prepare_adjoint, prepare_sensitivities

    mode = choose_mode(plan, len(names), checked["sensitivity_mode"])
    params = check_sensitivities(names, plan, mode)
    return (prepare_adjoint if mode == "adjoint" else prepare_sensitivities)(plan, charging, params)


_CHARGE = charge


@dataclass(frozen=True)
class Sector:
    """A conserved sector of a closed run: its label (N_exc or parity), value and basis indices."""

    label: str
    value: float
    index: np.ndarray


@dataclass
class Problem:
    """A run prepared once: the checked plan, its operators, initial state and reduction."""

    plan: RunPlan
    ops: object  # operators the solver uses (a symmetry block or conserved sector)
    full_ops: object  # operators before the sector restriction
    init: object
    block: dict | None
    sector: Sector | None
    charging: dict = field(default_factory=dict)  # charger, norm, battery_off_while_charging, speed_limit

    @property
    def size(self) -> int:
        """Length of the propagated state (the thread policy's measure)."""
        if hasattr(self.ops, "state_size"):  # the permutation solver's block state
            return int(self.ops.state_size)
        return self.ops.dim * (self.ops.dim if self.accepts.density else 1)

    @property
    def parallel_work(self) -> int:
        """Items the Numba kernels share among threads (trajectories run side by side)."""
        if hasattr(self.ops, "parallel_work"):  # the permutation solver says what is worth sharing
            return int(self.ops.parallel_work)
        return self.size * (self.plan.ntraj if self.accepts.statistical else 1)

    @property
    def accepts(self):
        """What the run's solver is (:class:`collective_qc.solvers.contract.Accepts`)."""
        from .solvers.contract import solver

        return solver(self.plan.method).accepts


CHARGING_OPTIONS = ("charger", "norm", "battery_off_while_charging", "speed_limit")


def charging_options(args: dict) -> dict:
    """The charger options of a charge() call, checked (:mod:`collective_qc.planning.options`)."""
    from .planning.options import check_options

    opts = check_options({k: args[k] for k in CHARGING_OPTIONS if k in args})
    return {k: opts[k] for k in CHARGING_OPTIONS}


def prepare(plan: RunPlan, charging: dict | None = None) -> Problem:
    """Build what the solver needs, once: operators (in a symmetry block where one holds the
    initial state), the initial state, and the conserved sector of a closed run."""
    from .physics.chargers import resolve_charger
    from .solvers.contract import solver

    m, mg = plan.model, plan.model_graph
    reduces = solver(plan.method).accepts.reductions  # symmetry blocks and conserved sectors
    charging = charging or charging_options({})  # the defaults
    if plan.method == "permutation":
        return _prepare_permutation(plan, charging)
    chg, default = resolve_charger(charging["charger"], mg)  # a charger that does not fit is refused here
    plain = default and charging["norm"] is None and not charging["battery_off_while_charging"]
    ring = reduces and plan.symmetry and chg.symmetric and is_uniform_ring(mg, m.ring_order())
    block, ops = choose_block(mg, plan.initial) if ring and not plan.quantities else (None, None)
    if ops is None or not plain:
        ops = build_operators(mg, **plan.noise, symmetry=block,
                              charger=charging["charger"], norm=charging["norm"],
                              battery_off=charging["battery_off_while_charging"])
    init = initial_state(ops, plan.initial, **thermal_sampling(plan))  # typical states beyond the dense limit
    full_ops, sector = ops, None
    if reduces:
        from .planning.sectors import conserved_sector, restrict

        found = conserved_sector(ops, init)
        if found is not None:
            sector = Sector(*found)
            ops, init = restrict(ops, init, sector.index)
    return Problem(plan, ops, full_ops, init, block, sector, charging)


def _prepare_permutation(plan: RunPlan, charging: dict) -> Problem:
    """The block operators and initial block state of a permutation-invariant run
    (:mod:`collective_qc.solvers.permutation`); the symmetry was checked by the plan."""
    from .physics.permutation import Rates, collective_form
    from .solvers.permutation import InitialBlocks, PermutationOperators

    form = collective_form(plan.model_graph, Rates(**plan.noise), charging["charger"])
    kind = form.charger[0]
    info = {"name": "field" if kind == "field" else ("cavity" if kind == "cavity" else "k-local"),
            "collective_form": [str(x) for x in form.charger], "model_default": charging["charger"] is None}
    ops = PermutationOperators(form, plan.model_graph, plan.drive, info,
                               battery_off=charging["battery_off_while_charging"], initial=plan.initial)
    return Problem(plan, ops, ops, InitialBlocks(ops, plan.initial), None, None, charging)


def solve(problem: Problem, progress=None, client=None):
    """Run the problem with the solver of its method (the table of
    :mod:`collective_qc.solvers.contract`); returns (solution, observables by name, their errors
    or None, the state measures or None)."""
    from .solvers.contract import SolveProblem, solver

    plan, ops, init = problem.plan, problem.ops, problem.init
    chosen = solver(plan.method)
    measures = _measures(problem, chosen)
    names, diag = diagonal_observables(ops)
    hooks = [] if measures is None else [measures]
    speed = bool(problem.charging.get("speed_limit")) and chosen.accepts.speed_limit
    if speed:
        from .analysis.bounds import SpeedLimit

        hooks.append(SpeedLimit(ops, plan.drive, plan.protocol, plan.times))  # after the state measures
        names_speed = SpeedLimit.names
    task = SolveProblem(ops, init.vectors, init.weights, plan.drive, plan.protocol, plan.times,
                        diagonal_observables=diag, observe=_joined(*hooks) if hooks else None,
                        state0=getattr(init, "state", None), typical=getattr(init, "typical", False))
    sol = chosen.solve(task, plan.solver_options, progress=progress, client=client)
    names = names + ([] if measures is None else measures.names) + (names_speed if speed else [])
    series, series_err = sol.observables, sol.observables_stderr
    observables = {n: series[k] for k, n in enumerate(names)} if names else {}
    errors = {n: series_err[k] for k, n in enumerate(names)} if names and series_err is not None else None
    return sol, observables, errors, measures


def _measures(problem: Problem, chosen):
    """The state quantities of the run (:class:`collective_qc.analysis.state_measures.StateMeasures`), or None;
    warns where a statistical solver samples one with a bias (coherence_l1)."""
    from .analysis.state_measures import StateMeasures

    if not problem.plan.quantities:
        return None
    if hasattr(problem.full_ops, "measures"):  # the permutation solver's block state
        return problem.full_ops.measures(problem.plan.quantities)
    index = None if problem.sector is None else problem.sector.index
    measures = StateMeasures(problem.full_ops, problem.plan.quantities, problem.init.vectors.shape[1], index)
    note = measures.sampled() if chosen.accepts.statistical else None
    if note:
        import warnings

        warnings.warn(f"coherence_l1: {note}", UserWarning, stacklevel=4)
    return measures


def _joined(*hooks):
    """One observe hook from several (their outputs concatenated in order)."""
    if len(hooks) == 1:
        return hooks[0]

    def hook(state):
        return np.concatenate([np.atleast_1d(h(state)) for h in hooks])

    return hook


def _speed_report(problem: Problem, observables) -> dict | None:
    if not problem.charging.get("speed_limit"):
        return None
    from .solvers.contract import solver

    if not solver(problem.plan.method).accepts.speed_limit:
        return {"computed": False, "reason": "the speed limit |P| <= 2 Delta H_B Delta H holds for closed runs"}
    from .analysis.bounds import power_bound, speed_limit_summary

    plan = problem.plan
    return {"computed": True, **speed_limit_summary(observables),
            **power_bound(problem.ops, plan.drive, plan.protocol, plan.times)}


def _metadata(problem: Problem, sol, merit, measures, cutoff, history, t_start, observables=None) -> dict:
    plan, sector = problem.plan, problem.sector
    m = plan.model
    meta = {
        "version": __version__,
        "dim": problem.ops.dim,
        "symmetry_block": problem.block,
        "sector": None if sector is None else {"label": sector.label, "value": sector.value,
                                                "dim": len(sector.index)},
        "trajectories": {"ntraj": int(plan.ntraj), "seed": int(plan.seed), "mean_jumps": sol.info["mean_jumps"],
                         "integrator": sol.info["integrator"], "products": sol.info["products"],
                         "steps": sol.info["steps"],
                         "tau_c_refinement": "cubic Hermite interpolation of averaged E, P"}
        if problem.accepts.statistical else None,
        "initial": problem.init.describe(),
        "protocol": plan.protocol.describe(),
        "units": {"energy": m.energy_unit, "time": m.time_unit},  # derived units: ChargeResult.units
        "noise": noise_provenance(plan.model_graph, **plan.noise),
        "graph_file": getattr(m, "path", None),
        "E0": sol.e0,
        "cutoff": cutoff,
        "quantities": None if measures is None else {"computed": measures.names, "notes": measures.notes},
        "charger": problem.ops.charger,
        "battery_off_while_charging": bool(problem.charging.get("battery_off_while_charging")),
        "speed_limit": _speed_report(problem, observables),
        "memory_estimate": format_bytes(plan.memory),
        "solver": {k: v for k, v in sol.info.items() if isinstance(v, (int, float, str))},
        "undefined": merit.undefined,
        "wall_time_s": _time.perf_counter() - t_start,
    }
    if history:
        meta["cutoff_history"] = history
    return meta


def _result(problem: Problem, sol, observables, errors, measures, cutoff, history, t_start) -> ChargeResult:
    plan = problem.plan
    m = plan.model
    merit = figures_of_merit(sol.times, sol.energy, sol.power, sol.capacitance, evaluate=sol.evaluate,
                             energy_scale=plan.scales["H_B"] + plan.scales["H_aux"], switches=plan.protocol.breakpoints)
    _warn_not_a_result(merit, m.name)
    return ChargeResult(
        times=sol.times, energy=sol.energy, power=sol.power, capacitance=sol.capacitance,
        n_sites=plan.model_graph.n_sites, tau_c=merit.tau_c, energy_max=merit.energy_max,
        power_max=merit.power_max, average_power_max=merit.average_power_max,
        capacitance_at_tau_c=merit.capacitance_at_tau_c, model=m.name, params=dict(m.values),
        method=plan.method, drive=plan.drive,
        metadata=_metadata(problem, sol, merit, measures, cutoff, history, t_start, observables),
        energy_stderr=getattr(sol, "energy_stderr", None), power_stderr=getattr(sol, "power_stderr", None),
        capacitance_stderr=getattr(sol, "capacitance_stderr", None),
        observables=observables, observables_stderr=errors, jackknife=getattr(sol, "jackknife", None),
    )


def _warn_not_a_result(merit, model: str) -> None:
    import warnings

    if merit.undefined:
        warnings.warn(f"model {model!r}: {merit.undefined}", UserWarning, stacklevel=4)


def noise_provenance(mg, dephasing: float, relaxation: float, **rates: float) -> dict:
    """The noise a run actually used: uniform rates (`rates`: pumping and the collective ones,
    recorded where nonzero), and the per-site rates that graph node attributes (``gamma``,
    ``kappa`` on spins, ``kappa`` on boson modes) set instead."""
    per_g = {str(s.node): s.gamma for s in mg.spins if s.gamma is not None}
    per_k = {str(s.node): s.kappa for s in mg.spins if s.kappa is not None}
    cav = {str(md.node): md.kappa for md in mg.modes if md.kappa > 0}
    out = {"dephasing": dephasing, "relaxation": relaxation}
    out.update({k: float(v) for k, v in rates.items() if k not in out and v})
    if per_g:
        out["per_site_gamma"] = per_g
    if per_k:
        out["per_site_kappa"] = per_k
    if cav:
        out["cavity_kappa"] = cav
    return out





