"""The run guard: every option of a charging run checked, and its cost estimated, before any
graph, operator or array is built.

:func:`plan_run` validates the options, asks the model for its size
(:meth:`Model.size_estimate`, no graph built for large models), checks the memory estimate
(operators, state vectors *and* the sample arrays: n_times, ntraj x n_times) against the
memory guard (:func:`collective_qc.core.validate.check_memory`), and refuses runs whose rates
and times make the propagation meaningless or endless:

- ``Lambda t_max > MAX_PHASE`` where Lambda bounds the generator norm
  ||H_B + H_aux + lambda V|| + (1/2) sum_k ||L_k^dag L_k||: the propagation needs at least
  Lambda t_max / 30 exponential steps and double precision (2.2e-16) loses ~Lambda t_max x 1e-16
  of phase accuracy;
- for trajectories, ``sum_k ||L_k^dag L_k|| t_max > MAX_JUMPS`` expected jumps per trajectory;
- any term of Lambda above ``MAX_ENERGY`` (1e100 energy units): derived numbers such as
  P = dE/dt, E x t and C_Q = dE/dlambda would overflow double precision (numpy overflow
  warnings instead of results).

Norms are bounded from the validated graph (sums of |coefficient| x operator norm), without
building operators; the charger's term is |drive| x max |f(t)| x ||V||, with ||V|| the charger's
closed-form norm (field, global, k-local), the ``norm`` it is rescaled to, or a bound from the
graph's couplings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError, format_count, shown
from ..core.validate import as_float, check_memory, format_dim, integer, mapping, number
from ..physics.operators import NOISE_RATES
from ..physics.protocols import parse_protocol
from ..physics.states import resolve_initial
from ..solvers.contract import RunSize, choose, solver
from .options import METHODS, OPTIONS, check_options

__all__ = ["RunPlan", "plan_run", "lower_bound_memory", "choose_method", "is_noisy", "run_memory",
           "operator_scales", "sample_memory", "planned", "run_size", "METHODS",
           "MAX_PHASE", "MAX_JUMPS", "TYPICAL_METHODS", "thermal_sampling"]

MAX_PHASE = 1e9  # largest generator norm x t_max a run accepts (rad)
MAX_JUMPS = 1e6  # largest bound on the expected number of jumps per trajectory
MAX_ENERGY = 1e100  # largest operator-norm bound of any term of the generator (energy units)


@dataclass
class RunPlan:
    """The checked options of one charging run (see :func:`plan_run`)."""

    model: object
    model_graph: object
    method: str
    times: np.ndarray
    protocol: object
    drive: float
    dephasing: float
    relaxation: float
    symmetry: bool
    ntraj: int
    seed: int
    tolerance: float
    quantities: tuple
    initial: str
    memory: float
    scales: dict
    solver_options: object = None  # collective_qc.solvers.solution.SolverOptions
    pumping: float = 0.0  # rate p of sqrt(p) S^+_i per site
    collective_emission: float = 0.0  # rates G of sqrt(G) J_-, sqrt(G) 2 J_z, sqrt(G) J_+
    collective_dephasing: float = 0.0
    collective_pumping: float = 0.0

    @property
    def dim(self) -> int:
        return self.model_graph.dim

    @property
    def noise(self) -> dict:
        """The uniform noise rates by name (:data:`collective_qc.physics.operators.NOISE_RATES`), as
        ``build_operators`` takes them."""
        return {k: getattr(self, k) for k in NOISE_RATES}


def times_spec(times, t_max, n_times):
    """(n_samples, t_final, array or None): checks without allocating the sample times."""
    if times is None:
        t_max = number(OPTIONS["t_max"].default if t_max is None else t_max, "t_max", positive=True)
        n = integer(n_times, "n_times", minimum=2)
        return n, t_max, None
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"times must be a 1-d array of numbers, got {type(times).__name__}") from None
    _check_times(t)
    return len(t), float(t[-1]), t


def _check_times(t: np.ndarray) -> None:
    """InputError naming what is wrong with the sample times (1/omega0; charging starts at t = 0)."""
    if t.ndim != 1 or len(t) < 2:
        raise InputError(f"times must be a 1-d array of at least 2 sample times, got shape {t.shape}")
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise InputError(f"times[{bad[0]}] = {t[bad[0]]} is not a finite number")
    if t[0] < 0:
        raise InputError(f"times must start at t >= 0 (charging starts at t = 0), got times[0] = {t[0]:g}")
    down = np.flatnonzero(np.diff(t) <= 0)
    if down.size:
        i = down[0] + 1
        raise InputError(f"times must be strictly increasing: times[{i}] = {t[i]:g} after "
                         f"times[{i - 1}] = {t[i - 1]:g}")


def _options(o: dict) -> dict:
    """The model-independent options of a run (the arguments of ``charge`` by name), checked
    (the run options themselves through the one table of :mod:`collective_qc.planning.options`)."""
    from .options import parse_quantities

    keys = ("method", "initial", "temperature", "dephasing", "relaxation", "pumping", "collective_emission",
            "collective_dephasing", "collective_pumping", "symmetry", "ntraj", "seed", "tolerance", "quantities",
            "integrator", "charger", "norm", "battery_off_while_charging", "speed_limit")
    out = check_options({k: o[k] for k in keys if o.get(k) is not None})
    out.pop("t_max"), out.pop("n_times"), out.pop("protocol")  # checked by times_spec, parse_protocol
    out["initial"] = resolve_initial(out["initial"], out.pop("temperature"))  # thermal + T -> thermal:T (0: ground)
    out["quantities"] = parse_quantities(out["quantities"])
    out["drive"] = number(o["drive"], "drive")
    if o["progress"] is not None and not callable(o["progress"]):
        raise InputError(f"progress must be a callable (done, total) or None, got {shown(o['progress'])}")
    if o["client"] is not None and not hasattr(o["client"], "submit"):
        raise InputError(f"client must be a dask.distributed.Client or None, got {type(o['client']).__name__}")
    out["protocol"] = parse_protocol(o["protocol"])
    out["params"] = mapping(o["params"], "params")
    out["solver_options"] = _solver_options(o.get("solver_options"), o, out)
    out["ntraj"], out["seed"] = out["solver_options"].ntraj, out["solver_options"].seed
    out["tolerance"], out["integrator"] = out["solver_options"].rtol, out["solver_options"].integrator
    return out


def _solver_options(given, o: dict, checked: dict):
    """The SolverOptions of a run: `given` (default SolverOptions()) with the explicitly passed
    ntraj, seed, tolerance (rtol = atol) and integrator put in."""
    from ..solvers.solution import SolverOptions

    opts = SolverOptions() if given is None else given
    if not isinstance(opts, SolverOptions):
        raise InputError(f"solver_options must be a SolverOptions, got {type(opts).__name__}")
    changes = {k: checked[k] for k in ("ntraj", "seed", "integrator") if o.get(k) is not None}
    if o.get("tolerance") is not None:
        changes["rtol"] = changes["atol"] = checked["tolerance"]
    return opts.replace(**changes) if changes else opts


def plan_run(args: dict) -> RunPlan:
    """Check a run of :func:`collective_qc.charge` before anything large is built.

    Parameters
    ----------
    args : dict
        The arguments of the ``charge`` call, by name, with its defaults applied
        (:func:`collective_qc.api.check_charge` builds it); ``unknown`` and extra keys are ignored.

    Raises
    ------
    InputError
        A bad option, naming it; or rates x times beyond what the propagation can resolve.
    ResourceError
        The memory estimate (operators, vectors and sample arrays) exceeds the memory guard.
    """
    from ..physics.registry import make_model

    o = _options(args)
    n_t, t_final, t = times_spec(args["times"], args["t_max"], args["n_times"])
    m = make_model(args["model"], o["params"])
    found = planned(m, o, n_t)
    if found is None:  # too large to build: only the lower bound was checked (and refused)
        raise AssertionError("unreachable: check_memory refuses a model too large to build")
    mg, used, need = found
    v_norm = charger_norm(mg, o["charger"], o["norm"])
    scales = operator_scales(mg, o["drive"] * o["protocol"].amplitude(), o["dephasing"], o["relaxation"], v_norm,
                             **collective_rates(o))
    check_scales(scales, t_final, used, m.name)
    if t is None:
        t = np.linspace(0.0, t_final, n_t)
    return RunPlan(model=m, model_graph=mg, method=used, times=t, protocol=o["protocol"], drive=o["drive"],
                   dephasing=o["dephasing"], relaxation=o["relaxation"], symmetry=o["symmetry"], ntraj=o["ntraj"],
                   seed=o["seed"], tolerance=o["tolerance"], quantities=o["quantities"],
                   initial=_initial(o, mg, used, need), memory=need, scales=scales,
                   solver_options=o["solver_options"], **collective_rates(o))


def planned(m, o: dict, n_t: int, where: str = ""):
    """The method and memory of a run of model `m` with checked options `o` and `n_t` samples,
    checked against the memory guard: (validated graph, method, bytes). A model too large to
    build is checked by a lower bound first (no graph built). `where` prefixes the messages
    (a study point). The one estimate that ``charge`` and a study's memory check both use."""
    from ..physics.graph import validate_graph

    est = check_buildable(m, n_t, where)
    mg = est.model_graph if est.exact else validate_graph(m.graph())
    size = run_size(m, mg, n_t, o)
    used = choose_method(o["method"], is_noisy(mg, o["dephasing"], o["relaxation"], **collective_rates(o)), size,
                         o["solver_options"])
    need = run_memory(used, size, o["solver_options"])
    check_memory(need, f"{where}method {used!r} on model {m.name!r} (Hilbert space dimension {format_dim(mg.dim)}, "
                       f"n_times = {format_count(n_t)}"
                       + (f", ntraj = {format_count(o['ntraj'])})" if solver(used).accepts.statistical else ")"))
    return mg, used, need


def check_buildable(m, n_t: int, where: str = ""):
    """Model `m`'s size estimate, after refusing (ResourceError) a model too large to build by a
    lower bound on its memory (graph, one state vector, `n_t` samples): call it before ``m.graph()``."""
    est = m.size_estimate()
    if not est.exact:  # a lower bound: the cheapest method, one state vector, the samples
        hint = (" (a permutation-invariant model runs with method permutation in representation='collective')"
                if "representation" in getattr(m, "values", {}) else "")
        check_memory(lower_bound_memory(est, n_t),
                     f"{where}model {m.name!r} with N = {format_count(est.n_sites)} sites (Hilbert space dimension "
                     f">= {format_dim(est.dim).replace('above ', '')}) and n_times = {format_count(n_t)}{hint}")
    return est


def lower_bound_memory(est, n_times: int) -> float:
    """Bytes a run of a model too large to build needs at least (graph, one state vector, samples)."""
    return est.graph_bytes + 4 * 16 * est.dim / max(est.n_sites, 1) + sample_memory(n_times, 0)


def collective_rates(o: dict) -> dict:
    """The rates of checked options `o` besides dephasing and relaxation (pumping and the collective
    ones, :data:`collective_qc.physics.operators.NOISE_RATES`), by name; 0.0 where absent."""
    return {k: o.get(k) or 0.0 for k in NOISE_RATES[2:]}


TYPICAL_METHODS = ("closed", "trajectories")  # the methods that sample a thermal state beyond the dense limit


def _initial(o: dict, mg, method: str, need: float) -> str:
    """The ``initial`` option (resolved with ``temperature``) checked against the model graph (dicke:
    J, M and N; the size of the spectral problem of dicke and thermal states in the explicit basis)
    before any operator is built. A thermal state sampled by ntraj typical states (closed and
    trajectory runs beyond the dense limit) is checked for state quantities (refused: a mixture of
    ntraj states has ergotropy and entropy of its own, not the thermal state's) and its memory."""
    from ..physics.states import check_initial, sampled_thermal

    initial = o["initial"]
    check_initial(initial, mg, explicit=method != "permutation", sampled=method in TYPICAL_METHODS)
    if method in TYPICAL_METHODS and sampled_thermal(initial, mg):
        if o["quantities"]:
            raise InputError(f"quantities {', '.join(o['quantities'])}: not computed from a thermal state sampled by "
                             f"typical states (initial {initial!r} beyond the dense limit); leave quantities out")
        from ..solvers.closed import OUTPUTS_PER_STEP

        vectors = 2 * (OUTPUTS_PER_STEP + 4) if method == "closed" else 3  # psi and phi per member, dense outputs
        check_memory(need + vectors * 16.0 * float(mg.dim) * o["ntraj"],
                     f"initial {initial!r} sampled by ntraj = {format_count(o['ntraj'])} typical states with method "
                     f"{method!r} (Hilbert space dimension {format_dim(mg.dim)})")
    return initial


def thermal_sampling(plan: RunPlan) -> dict:
    """The keywords of :func:`collective_qc.physics.states.initial_state` for a run's plan: the
    number of typical states (ntraj) and seed of a sampled thermal state, for the methods that
    take one (:data:`TYPICAL_METHODS`)."""
    return {"samples": plan.ntraj, "seed": plan.seed} if plan.method in TYPICAL_METHODS else {}


def is_noisy(mg, dephasing: float, relaxation: float, **rates: float) -> bool:
    """True when a run has any jump operator (uniform rates, per-site rates, cavity loss; `rates`:
    pumping, collective_emission, collective_dephasing, collective_pumping)."""
    return dephasing > 0 or relaxation > 0 or any(r > 0 for r in rates.values()) or any(
        (s.gamma or 0) > 0 or (s.kappa or 0) > 0 for s in mg.spins) or any(md.kappa > 0 for md in mg.modes)


def run_size(m, mg, n_t: int, o: dict) -> RunSize:
    """What the solvers' cost and memory estimates need (:class:`collective_qc.solvers.contract.RunSize`)."""
    from ..physics.operators import estimate_nnz_per_row
    from .symmetry import is_uniform_ring

    ring = o["symmetry"] and len(mg.spins) > 0 and is_uniform_ring(mg, m.ring_order())
    perm, perm_refusal, explicit_refusal = permutation_plan(mg, o)
    return RunSize(dim=as_float(mg.dim), nnz_per_row=estimate_nnz_per_row(mg),
                   n_jumps=3 * len(mg.spins) + len(mg.modes) + 3, n_obs=2 * len(mg.modes) + len(o["quantities"]),
                   n_times=n_t, quantities=len(o["quantities"]), block_fraction=1.0 / len(mg.spins) if ring else 1.0,
                   permutation=perm, permutation_refusal=perm_refusal, explicit_refusal=explicit_refusal,
                   collective_jumps=len(mg.spins) > 1 and (o.get("collective_emission") or 0) + (o.get(
                       "collective_pumping") or 0) > 0)


def permutation_plan(mg, o: dict) -> tuple:
    """(block-state size, why method permutation cannot run it, why the explicit-basis solvers
    cannot): the permutation symmetry of the graph, charger and noise
    (:func:`collective_qc.physics.permutation.collective_form`), checked in O(N + edges)."""
    from ..physics.permutation import Rates, collective_form, needed_blocks, permutation_size

    rates = Rates(**{k: o.get(k) or 0.0 for k in NOISE_RATES})
    node = next((s for s in mg.spins if s.sites > 1), None)
    explicit = ""
    if node is not None and (rates.local or (node.gamma or 0) > 0 or (node.kappa or 0) > 0):
        explicit = (f"node {node.node!r}: local noise (dephasing, relaxation, pumping) on a collective spin of "
                    f"{node.sites} sites needs method permutation (or auto)")
    extra = [q for q in o.get("quantities", ()) if q != "ergotropy"]
    if extra:
        return 0.0, f"method 'permutation' computes the ergotropy only, not {extra[0]!r}", explicit
    if o.get("norm") is not None:
        return 0.0, "method 'permutation' does not rescale the charger (norm)", explicit
    try:
        form = collective_form(mg, rates, o.get("charger"))
    except InputError as err:
        return 0.0, f"method 'permutation': {err}", explicit
    js = needed_blocks(form.n, form.rates.local, o.get("initial", "ground"))
    return permutation_size(form.n, form.n_boson, js), "", explicit


def choose_method(method: str, noisy: bool, size: RunSize, options) -> str:
    """The solver a run uses (:mod:`collective_qc.solvers.contract`): a named method, unless it
    refuses the problem (``closed`` with noise); ``auto`` the cheapest solver that takes the
    problem and fits in memory (closed without noise; with noise the exact density matrix while
    it is measured cheaper than ``ntraj`` trajectories, trajectories beyond)."""
    from ..core.validate import MEMORY_FRACTION, available_memory

    if method != "auto":
        reason = solver(method).refusal(noisy) or solver(method).declines(size)
        if reason:
            raise InputError(reason)
        return method
    return choose(size, noisy, options, fits=lambda need: need <= MEMORY_FRACTION * available_memory())


def sample_memory(n_times: int, n_obs: int) -> float:
    """Bytes of the sampled time series every method keeps: t, E, P, C, their derivatives and
    averages, ``n_obs`` further observables (a solver's own per-run samples are in its memory)."""
    per = as_float(n_times) * 8.0
    return per * (12 + 2 * n_obs) + (per * 15.0 if n_obs else 0.0)


def run_memory(used: str, size: RunSize, options) -> float:
    """Bytes a run needs: its solver's operators, vectors and samples (after the solver's own
    check of the planned run) plus the sampled series every method keeps."""
    s = solver(used)
    s.check(size, options)
    return s.memory(size, options) + sample_memory(size.n_times, size.n_obs)


def charger_norm(mg, charger, norm) -> float | None:
    """||V|| of the run's charger without building it (energy units per unit drive), or None for the
    model's default charger (then bounded from the graph by :func:`operator_scales`).

    The charger is resolved and fitted to the graph here (a charger that does not fit, e.g.
    k-local with k > N, is refused before any work): ``norm`` (a number) is the norm V is rescaled
    to; ``"field"`` the parallel field's; otherwise the charger's closed-form norm or bound
    (:meth:`Charger.norm_bound`; a user matrix charger has none: the graph's field bound is used).
    """
    from ..physics.chargers import field_norm, resolve_charger
    from ..physics.operators import _check_norm_option

    chg, default = resolve_charger(charger, mg)
    _check_norm_option(chg, norm)
    if norm == "field":
        return field_norm(mg)
    if norm is not None:
        return float(norm)
    return None if default else chg.norm_bound(mg)


def operator_scales(mg, drive: float, dephasing: float, relaxation: float, v_norm: float | None = None,
                    **noise: float) -> dict:
    """Upper bounds of operator norms (energy units) from the validated graph.

    Keys: ``H_B``, ``H_aux``, ``drive V`` (|lambda| ||V||, with ``v_norm`` = ||V|| when known, see
    :func:`charger_norm`), ``rates`` (sum_k ||L_k^dag L_k||) and ``generator`` = H_B + H_aux +
    drive V + rates / 2. Overflow gives inf. `noise`: ``pumping`` (p: ||S^- S^+|| <= X + S per
    site, X = S(S+1)) and the collective rates G (``collective_emission``, ``collective_pumping``:
    ||J_+- J_-+|| <= X + S; ``collective_dephasing``: ||(2 J_z)^2|| = (2S)^2; S the largest total
    spin, the sum of the sites' spins).
    """
    hb = v = rates = 0.0
    pumping = noise.get("pumping", 0.0)
    for s in mg.spins:
        S, X = s.spin, s.spin * (s.spin + 1)
        hb += abs(s.omega) * S + abs(s.D) * S * S + abs(s.E) * X
        hb += abs(s.B40) * (35 * S**4 + abs(30 * X - 25) * S * S + 3 * X * X + 6 * X) + abs(s.B44) * X * X
        hb += (abs(s.pair_Jx) + abs(s.pair_Jy) + abs(s.pair_Jz)) * s.sites * (s.sites - 1) / 2  # pairs, Pauli norm 1
        v += abs(s.weight) * 2 * S
        gamma = dephasing if s.gamma is None else s.gamma
        kappa = relaxation if s.kappa is None else s.kappa
        rates += gamma * (2 * S) ** 2 + kappa * (X + S) + pumping * (X + S)
    S_tot = sum(s.spin for s in mg.spins)
    X_tot = S_tot * (S_tot + 1)
    rates += (noise.get("collective_emission", 0.0) + noise.get("collective_pumping", 0.0)) * (X_tot + S_tot)
    rates += noise.get("collective_dephasing", 0.0) * (2 * S_tot) ** 2
    for b in mg.bonds:
        S = mg.spins[b.i].spin
        hb += (abs(b.Jx) + abs(b.Jy) + abs(b.Jz)) * (2 * S) ** 2
    aux = sum(abs(md.omega) * md.n_max for md in mg.modes)
    rates += sum(md.kappa * md.n_max for md in mg.modes)
    for c in mg.couplings:
        v += abs(c.g * mg.spins[c.spin].weight) * 2 * mg.spins[c.spin].spin * 2 * math.sqrt(mg.modes[c.mode].n_max)
    if v_norm is not None:
        v = v_norm
    out = {"H_B": hb, "H_aux": aux, "drive V": abs(drive) * v, "rates": rates}
    out["generator"] = hb + aux + out["drive V"] + 0.5 * rates
    return out


_CULPRIT = {"H_B": "the model's energies (omega, J, D, ... parameters)", "H_aux": "the cavity frequencies",
            "drive V": "drive x max|f(t)| x charger norm (drive, protocol, charger, norm)",
            "rates": "dephasing/relaxation rates"}


def check_scales(scales: dict, t_final: float, method: str, model: str) -> None:
    """Refuse rates x times the propagation cannot resolve, and operator norms whose derived numbers
    would overflow (see the module docstring)."""
    phase = scales["generator"] * t_final
    if not phase <= MAX_PHASE:
        big = max(_CULPRIT, key=lambda k: scales[k] if math.isfinite(scales[k]) else math.inf)
        raise InputError(
            f"t_max x generator norm = {t_final:.3g} x {scales['generator']:.3g} = {phase:.3g} exceeds {MAX_PHASE:.0e} "
            f"on model {model!r} (largest term: {_CULPRIT[big]}, norm <= {scales[big]:.3g}): the propagation "
            f"would need more than {MAX_PHASE / 30:.0e} steps and its phases lose their double-precision meaning; "
            "reduce t_max or that term")
    jumps = scales["rates"] * t_final
    if solver(method).accepts.statistical and not jumps <= MAX_JUMPS:
        raise InputError(
            f"dephasing/relaxation rates x t_max: up to {scales['rates']:.3g} x {t_final:.3g} = {jumps:.3g} jumps "
            f"per trajectory expected on model {model!r} (more than {MAX_JUMPS:.0e}); reduce the rates or t_max")
    for key in _CULPRIT:
        if not scales[key] <= MAX_ENERGY:
            raise InputError(
                f"{_CULPRIT[key]}: operator norm up to {scales[key]:.3g} exceeds {MAX_ENERGY:.0e} (energy units) on "
                f"model {model!r}; E, P = dE/dt and C_Q would overflow double precision; use smaller values")
