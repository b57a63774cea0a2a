"""Run options: declared once, used by ``charge()``, ``compare()``, study TOML ``[run]`` and CLI flags.

Each option is an :class:`Option` (name, type, default, check, one-line doc with units). The
CLI flags are generated from this table (``--t-max`` for ``t_max``), study configs accept the
same keys, and :func:`check_options` validates a mapping of them, refusing unknown keys with
a suggestion. Physics arguments (model, drive, params, times) are not options.

Values are checked with the package's validators (:mod:`collective_qc.core.validate`).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Callable

from ..core.errors import InputError, shown
from ..core.validate import boolean, integer, number
from ..solvers.contract import METHODS, solver_names
from ..solvers.solution import INTEGRATORS, SolverOptions

__all__ = ["Option", "OPTIONS", "METHODS", "INITIAL_STATES", "QUANTITIES", "parse_quantities", "MIN_TOLERANCE",
           "check_options",
           "add_cli_arguments", "from_cli", "flag"]

MIN_TOLERANCE = 1e-14  # smallest per-step error tolerance of the adaptive integrators (~50 eps)


def _choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(name, value):
        if value not in choices:
            close = difflib.get_close_matches(str(value), choices, n=2)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise InputError(f"{name} must be one of {', '.join(choices)}, got {shown(value)}{hint}")
        return value
    return check


def _tolerance(name, value):
    v = number(value, name, positive=True)
    if not MIN_TOLERANCE <= v < 1e-2:
        raise InputError(f"{name} must be in [{MIN_TOLERANCE:g}, 1e-2) (double precision cannot meet a smaller "
                         f"per-step error; the adaptive steps would shrink without end), got {shown(value)}")
    return v


def _text(name, value):
    if value is not None and not isinstance(value, str):
        raise InputError(f"{name} must be a string, got {shown(value)}")
    return value


def _quantities(name, value):
    if value is None or value == "" or value == ():
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(q, str) for q in value):
        return ",".join(value)
    raise InputError(f"{name} must be 'all' or a comma-separated list of names, got {shown(value)}")


def _charger(name, value):
    """A charger spec (checked by parsing it: unknown names are refused with suggestions)."""
    if value is None:
        return None
    from ..physics.chargers import parse_charger

    try:
        parse_charger(value)
    except InputError as exc:  # name where it came from (e.g. a study config key) when that is not 'charger'
        raise InputError(str(exc) if name == "charger" else f"{name}: {exc}") from None
    return value


def _initial(name, value):
    """An initial-state spec (:func:`collective_qc.physics.states.parse_initial`; the checks that
    need the model run in the run guard)."""
    from ..physics.states import parse_initial

    parse_initial(value, name)
    return value.strip()


def _disorder(name, value):
    """A disorder spec (:func:`collective_qc.physics.disorder.parse_disorder`), kept as given."""
    from ..physics.disorder import parse_disorder

    parse_disorder(value, name)
    return value


def _names(name, value):
    """None, or a list of names (a str is one name); the names themselves are checked against the
    model by :func:`collective_qc.sensitivity.check_sensitivities`."""
    if value is None or value == [] or value == ():
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v.strip() for v in value):
        raise InputError(f"{name} must be a list of parameter names, got {shown(value)}")
    return [v.strip() for v in value]


def _rate(name, value):
    return number(value, name, nonneg=True)


def _norm(name, value):
    if value is None or value == "field":
        return value
    try:
        return number(value, name, positive=True)
    except InputError:
        close = difflib.get_close_matches(str(value), ["field"], n=1, cutoff=0.5) if isinstance(value, str) else []
        hint = "; did you mean 'field'?" if close else ""
        raise InputError(f"{name} must be 'field' or a number > 0 (units omega0), got {shown(value)}{hint}") from None


@dataclass(frozen=True)
class Option:
    """One run option: its name (Python keyword, TOML key; the CLI flag is --name-with-dashes)."""

    name: str
    default: Any
    check: Callable[[str, Any], Any]
    doc: str
    metavar: str = ""
    cli: bool = True  # offered as a CLI flag (False: reachable from Python and TOML only, reason in doc)

    def parse(self, value, where: str = ""):
        label = f"{where}{self.name}" if where else self.name
        return self.check(label, value)


INITIAL_STATES = ("ground", "product", "dicke:J,M", "thermal:T")  # dicke and thermal take numbers
QUANTITIES = ("ergotropy", "coherence", "entropy")  # state quantities (collective_qc.analysis.state_measures)


def parse_quantities(quantities) -> tuple[str, ...]:
    """None/() -> (); "all" -> all of :data:`QUANTITIES`; names checked, duplicates dropped."""
    if not quantities:
        return ()
    if isinstance(quantities, str):
        quantities = QUANTITIES if quantities == "all" else [q for q in quantities.split(",") if q]
    out = []
    for q in quantities:
        if q not in QUANTITIES:
            raise InputError(f"unknown quantity {q!r} (choose from {', '.join(QUANTITIES)} or 'all')")
        if q not in out:
            out.append(q)
    return tuple(out)

OPTIONS: dict[str, Option] = {o.name: o for o in (
    Option("t_max", 20.0, lambda n, v: number(v, n, positive=True), "final time (units 1/omega0)", "T"),
    Option("n_times", 201, lambda n, v: integer(v, n, minimum=2), "number of sample times in [0, t_max]", "N"),
    Option("method", "auto", lambda n, v: _choice(("auto", *solver_names()))(n, v), " | ".join(METHODS), "METHOD"),
    Option("initial", "ground", _initial,
           "initial state: ground | product | dicke:J,M | thermal:T (ground of H_B; |g...g>; "
           "P_JM/d_J, J, M half-integers, dicke:M for J = N/2; exp(-H_B/T)/Z, T > 0 in energy units)",
           "STATE"),
    Option("temperature", None, lambda n, v: None if v is None else number(v, n, nonneg=True),
           "temperature T >= 0 of initial = thermal (energy units, k_B = 1): exp(-H_B/T)/Z on the spins, T = 0 the "
           "ground state; above the dense size limit sampled by ntraj typical states (methods closed, trajectories) "
           "(default: none)", "T"),
    Option("protocol", "constant", _text,
           "drive envelope f(t): constant | on-off:TAU | ramp:T | sin2:T | gauss:T0,SIGMA | "
           "charge-store-discharge:TAU,STORE[,TAU_D] | table:FILE", "PROTOCOL"),
    Option("dephasing", 0.0, lambda n, v: number(v, n, nonneg=True),
           "rate gamma of sqrt(gamma) 2S^z_i on every site (units omega0)", "GAMMA"),
    Option("relaxation", 0.0, _rate, "rate kappa of sqrt(kappa) S^-_i on every site (units omega0)", "KAPPA"),
    Option("pumping", 0.0, _rate, "rate p of sqrt(p) S^+_i on every site (units omega0)", "P"),
    Option("collective_emission", 0.0, _rate,
           "rate G of sqrt(G) J_-, J^a = sum_i S^a_i over all spin sites (units omega0)", "G"),
    Option("collective_dephasing", 0.0, _rate, "rate G of sqrt(G) 2 J_z (units omega0)", "G"),
    Option("collective_pumping", 0.0, _rate, "rate G of sqrt(G) J_+ (units omega0)", "G"),
    Option("symmetry", True, lambda n, v: boolean(v, n),
           "QuSpin momentum/parity blocks for closed runs on uniform rings", "yes|no"),
    Option("ntraj", SolverOptions.ntraj, lambda n, v: integer(v, n, minimum=2),
           "number of trajectories (method trajectories)", "N"),
    Option("seed", SolverOptions.seed, lambda n, v: integer(v, n, nonneg=True),
           "seed; trajectory i uses the stream of (seed, i) only",
           "SEED"),
    Option("tolerance", SolverOptions.rtol, _tolerance,
           "per-step error tolerance of the propagators (relative to the state norm)", "TOL"),
    Option("integrator", SolverOptions.integrator, _choice(INTEGRATORS),
           "trajectory step method: auto (Chebyshev; DOPRI5 for smooth envelopes) | chebyshev | dopri5 | rk4",
           "NAME"),
    Option("quantities", None, _quantities,
           "state quantities: ergotropy,coherence,entropy or all (every method; trajectories average them) "
           "(default: none)", "LIST"),
    Option("charger", None, _charger, "charger V: field[:axis=x|y|z] | global | k-local:k=K | cavity | user "
           "(default: the model's)", "NAME[:ARGS]"),
    Option("norm", None, _norm, "rescale V to the operator norm of the parallel field on the same sites "
           "(field) or to VALUE (units omega0) (default: V as defined)", "field|VALUE"),
    Option("battery_off_while_charging", False, lambda n, v: boolean(v, n),
           "Binder/Campaioli convention H = lambda f(t) V while charging (H_B out of the generator)", "yes|no"),
    Option("disorder", None, _disorder,
           "attributes drawn per site or bond, ATTR=DIST:SCALE[,...]: omega, D, E, weight, gamma, kappa (nodes), "
           "J, Delta, Jx, Jy, Jz, g (edges); DIST uniform (full width) | normal | bimodal (full width) | lognormal "
           "(sigma), around each clean value", "ATTR=DIST:SCALE"),
    Option("realisations", 1, lambda n, v: integer(v, n, minimum=1),
           "disorder realisations (each its own run; results are ensemble means with standard errors)", "R"),
    Option("speed_limit", False, lambda n, v: boolean(v, n),
           "closed runs: record |P| / (2 Delta H_B Delta H) at every sample", "yes|no"),
    Option("sensitivities", None, _names,
           "parameters theta of exact sensitivities dE/dtheta, dP/dtheta, dC_Q/dtheta and of tau_c, E_max, P_max "
           "(methods closed, exact; trajectories: estimates with errors): model parameters, "
           "ATTR@NODE, ATTR@(U,V), drive, protocol.FIELD, noise rates "
           "(collective_qc.sensitivity); on the CLI `cqc charge --sensitivity NAME`, repeatable, as names may hold "
           "commas (default: none)", "NAME", cli=False),
    Option("sensitivity_mode", "auto", _choice(("auto", "forward", "adjoint")),
           "how sensitivities are computed: forward (exact tangents, 2 + 2K state blocks; every sample and "
           "figure), adjoint (closed and exact runs with a piecewise-constant envelope: one backward pass for any "
           "number of parameters; tau_c, E_max, P_max, C_Q* only) or auto (adjoint where it is available and "
           "cheaper by block count, i.e. from 6 parameters, 3 for density matrices)", "auto|forward|adjoint"),
)}


def check_options(given: dict, where: str = "") -> dict:
    """Defaults overlaid with `given`, every value checked; unknown keys refused with a suggestion.

    `where` prefixes names in messages (e.g. ``"run."`` for a study config section).
    """
    out = {}
    for key, value in given.items():
        if key not in OPTIONS:
            close = difflib.get_close_matches(key, OPTIONS, n=2)
            hint = f"; did you mean {' or '.join(repr(where + c) for c in close)}?" if close else ""
            raise InputError(f"unknown option {where + key!r}{hint} (options: {', '.join(OPTIONS)})")
        out[key] = OPTIONS[key].parse(value, where)
    return {name: out.get(name, opt.default) for name, opt in OPTIONS.items()}


def flag(name: str) -> str:
    """The CLI flag of an option: ``t_max`` -> ``--t-max``."""
    return "--" + name.replace("_", "-")


def add_cli_arguments(parser) -> None:
    """Add one flag per CLI option; values arrive as strings and are checked by :func:`from_cli`."""
    for opt in OPTIONS.values():
        if opt.cli:
            default = "" if opt.default is None else f" (default {opt.default})"  # None: the doc says it
            parser.add_argument(flag(opt.name), dest=opt.name, default=None, metavar=opt.metavar or None,
                                help=opt.doc + default)


def from_cli(args) -> dict:
    """The checked options of parsed CLI arguments (flags not given take their defaults)."""
    given = {o.name: getattr(args, o.name) for o in OPTIONS.values()
             if o.cli and getattr(args, o.name, None) is not None}
    try:
        return check_options(given)
    except InputError as err:  # name the flag as well as the keyword
        msg = str(err)
        for name in given:
            if msg.startswith(f"{name} must"):
                msg = f"argument {flag(name)}: {msg}"
        raise InputError(msg) from None
