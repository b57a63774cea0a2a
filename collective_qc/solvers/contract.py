"""The solver contract: what every solver implements, and the one table of solvers.

A solver is a module of :mod:`collective_qc.solvers` that defines ``SOLVER``, an instance of a
:class:`Solver` subclass with

- ``accepts`` (:class:`Accepts`): which problems it can run (noise, smooth envelopes, state
  quantities, Dask clients, ...);
- ``check(size, options)``: an InputError for a planned run it cannot do, before anything is built;
- ``memory(size, options)``: bytes of its operators, work vectors and per-run samples for a
  planned run (:class:`RunSize`, known before any operator is built);
- ``cost(size, options)``: its relative cost, in applications of a sparse operator to one
  vector, which ``method="auto"`` compares (:func:`choose`);
- ``solve(problem, options, progress=None, client=None) -> Solution`` on a
  :class:`SolveProblem`, calling ``problem.observe`` (if any) on a :class:`SampledState` at every
  sample time.

:data:`SOLVERS` maps each method name to its module; :func:`solver` loads it. ``charge``
(:func:`collective_qc.api.solve`), the run guard (:func:`collective_qc.planning.guard.plan_run`),
``method="auto"`` and a study's memory check all read this table, so adding a solver is one
module plus one entry here.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError
from .solution import Solution, SolverOptions

__all__ = ["Accepts", "RunSize", "SolveProblem", "SampledState", "Solver", "SOLVERS", "METHODS", "solver",
           "choose", "solver_names"]

SOLVERS = {  # method name -> module defining SOLVER (the order is the order of `cqc --help`)
    "closed": "collective_qc.solvers.closed",
    "exact": "collective_qc.solvers.lindblad",
    "trajectories": "collective_qc.solvers.trajectories",
    "permutation": "collective_qc.solvers.permutation",
}
METHODS = ("auto", *SOLVERS)


@dataclass(frozen=True)
class Accepts:
    """The problems a solver can run."""

    noise: bool  # jump operators (Lindblad dissipators, cavity loss)
    noise_free: bool = True
    smooth_protocol: bool = True  # envelopes f(t) that are not piecewise constant
    state_quantities: bool = True  # observe hooks (ergotropy, coherence, entropy)
    speed_limit: bool = False  # hooks that need the state vectors (collective_qc.analysis.bounds.SpeedLimit)
    client: bool = False  # runs its work on a Dask client
    statistical: bool = False  # results carry sampling errors: ntraj samples, counted as the run's progress
    reductions: bool = False  # runs in a symmetry block or conserved sector (closed dynamics preserve them)
    density: bool = False  # propagates a dim x dim density matrix (else state vectors)


@dataclass(frozen=True)
class RunSize:
    """What a planned run's cost depends on, known from the validated graph without building it.

    dim: Hilbert-space dimension; nnz_per_row: bound on the non-zeros per row of H_0 + V;
    n_jumps: jump operators; n_obs: sampled observables besides E, P, C_Q; n_times: samples;
    quantities: state quantities asked for; block_fraction: dimension of the closed run's
    symmetry block over dim (about 1/N on uniform rings, else 1).
    """

    dim: float
    nnz_per_row: float
    n_jumps: int
    n_obs: int
    n_times: int
    quantities: int = 0
    block_fraction: float = 1.0
    permutation: float = 0.0
    permutation_refusal: str = ""
    explicit_refusal: str = ""
    collective_jumps: bool = False  # J_+- jumps on several explicit spin sites (not monomial)

    @property
    def nnz(self) -> float:
        return self.dim * self.nnz_per_row


@dataclass
class SampledState:
    """The state a solver hands to ``problem.observe`` at a sample: the members and weights of a
    state-vector mixture (closed solver: psi (dim, n_members), weights), a density matrix rho
    (dim, dim) (exact solver; the trajectory average), or the flat block state of the
    permutation solver (``blocks``, :mod:`.permutation_form`)."""

    psi: np.ndarray | None = None
    weights: np.ndarray | None = None
    rho: np.ndarray | None = None
    blocks: np.ndarray | None = None


@dataclass
class SolveProblem:
    """One run as every solver receives it.

    ops: the operators (:class:`collective_qc.physics.operators.Operators`, possibly a symmetry block or
    sector); psi0 (dim, n_members) and weights (n_members,): the initial mixture; drive: lambda
    (energy units); protocol: the envelope f(t); times: sample times (1/omega0, increasing, >= 0);
    diagonal_observables (n_obs, dim): diagonal observables sampled alongside (Fock-level
    populations); observe: callable SampledState -> 1-d array of further observables; state0:
    the initial state of a solver that builds its own representation (the permutation solver's
    flat block state; psi0 and weights then describe its labels' populations only); typical:
    psi0's members are random typical states of a sampled thermal state
    (:func:`collective_qc.physics.states.typical_thermal_state`): the closed solver reports their
    spread as standard errors, the trajectory solver starts trajectory k from member k (ntraj
    members), both by the ratio estimator of :func:`collective_qc.physics.states.ratio_jackknife`.
    """

    ops: object
    psi0: np.ndarray
    weights: np.ndarray
    drive: float
    protocol: object
    times: np.ndarray
    diagonal_observables: np.ndarray | None = None
    observe: object = None
    state0: np.ndarray | None = None
    typical: bool = False


class Solver:
    """Base of every solver: the defaults of the contract (see the module docstring)."""

    name = ""
    accepts = Accepts(noise=False)

    def check(self, size: RunSize, options: SolverOptions) -> None:
        """InputError when this solver cannot run the planned problem (default: it can)."""

    def memory(self, size: RunSize, options: SolverOptions) -> float:
        raise NotImplementedError

    def cost(self, size: RunSize, options: SolverOptions) -> float:
        raise NotImplementedError

    def solve(self, problem: SolveProblem, options: SolverOptions, progress=None, client=None) -> Solution:
        raise NotImplementedError

    def declines(self, size: RunSize) -> str | None:
        """Why this solver cannot take the planned problem's model, or None (default: the
        explicit-basis solvers decline local noise on a collective spin node)."""
        return size.explicit_refusal or None

    def refusal(self, noisy: bool, smooth: bool = False) -> str | None:
        """Why this solver cannot take a problem with (noisy, smooth envelope), or None."""
        if noisy and not self.accepts.noise:
            return (f"method {self.name!r} is for noise-free runs; use method exact, trajectories, permutation or "
                    "auto with noise")
        if not noisy and not self.accepts.noise_free:
            return f"method {self.name!r} needs noise"
        if smooth and not self.accepts.smooth_protocol:
            return f"method {self.name!r} needs a piecewise-constant protocol"
        return None


def solver_names() -> tuple[str, ...]:
    """The method names of the table, in order (``auto`` aside)."""
    return tuple(SOLVERS)


def solver(name: str) -> Solver:
    """The solver of a method name (its module is imported on first use)."""
    if name not in SOLVERS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {name!r}")
    return importlib.import_module(SOLVERS[name]).SOLVER


def choose(size: RunSize, noisy: bool, options: SolverOptions, fits) -> str:
    """``method="auto"``: the cheapest solver that takes the problem and whose memory `fits`
    (callable bytes -> bool); if none fits, the one needing least memory (the memory check then
    says why). Ties go to the earlier entry of :data:`SOLVERS` (no sampling error first)."""
    able = [s for s in map(solver, SOLVERS) if s.refusal(noisy) is None and s.declines(size) is None]
    if not able:
        raise InputError(size.permutation_refusal or size.explicit_refusal or "no solver takes this problem")
    fitting = [s for s in able if fits(s.memory(size, options))]
    if fitting:
        return min(fitting, key=lambda s: s.cost(size, options)).name
    return min(able, key=lambda s: s.memory(size, options)).name
