"""The solver contract: one typed options object in, one :class:`Solution` out.

Every solver (closed state vector, exact density matrix, trajectories) takes its settings
from a :class:`SolverOptions` and returns a :class:`Solution`. The figures of merit
(``merit.py``) read only this type.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from typing import Any, Callable

import numpy as np

from ..core.errors import InputError

__all__ = ["Solution", "SolverOptions", "SampleStates", "INTEGRATORS"]

INTEGRATORS = ("auto", "chebyshev", "dopri5", "rk4")


@dataclass(frozen=True)
class SolverOptions:
    """Numerical settings of a solver (physics arguments are passed separately).

    Parameters
    ----------
    integrator : str
        Step method of the propagating solvers: "auto" (each solver's best measured choice),
        or a named one (see each solver's docstring for what it supports).
    rtol, atol : float
        Per-step error tolerances relative to the state norm (dimensionless).
    series_tol : float
        Relative truncation error of each Chebyshev step of the closed and exact solvers (the
        rtol = atol of their DOP853 runs for smooth envelopes); those solvers read no other field.
    ntraj : int
        Number of trajectories (trajectory solver only). This default is the package's one
        declaration of the default trajectory count (the run options, the CLI and studies read it).
    seed : int
        Seed of the trajectory streams: trajectory i uses the stream of (seed, i) only.
    block : int
        Trajectories per kernel call or Dask task (0: the solver's default: 64 in process, about
        ntraj / (4 workers) on Dask). Each thread still advances one trajectory at a time.
        Results do not depend on it (bitwise).
    dt_max : float or None
        Largest step, in units of 1/omega0 (None: unlimited for piecewise-constant protocols).
    """

    integrator: str = "auto"
    rtol: float = 1e-8
    atol: float = 1e-8
    ntraj: int = 500
    seed: int = 0
    block: int = 0
    dt_max: float | None = None
    series_tol: float = 1e-12

    def __post_init__(self):
        if self.integrator not in INTEGRATORS:
            raise InputError(f"integrator must be one of {', '.join(INTEGRATORS)}, got {self.integrator!r}")
        for name in ("rtol", "atol", "series_tol"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not np.isfinite(v) or v < 0:
                raise InputError(f"{name} must be a finite number >= 0, got {v!r}")
        for name in ("rtol", "series_tol"):
            if not getattr(self, name) > 0:
                raise InputError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name, low in (("ntraj", 1), ("seed", 0), ("block", 0)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
                raise InputError(f"{name} must be an integer >= {low}, got {v!r}")
        if self.dt_max is not None and not (np.isfinite(self.dt_max) and self.dt_max > 0):
            raise InputError(f"dt_max must be a positive finite number, got {self.dt_max!r}")

    def replace(self, **changes) -> "SolverOptions":
        """A copy with some fields changed (validated again)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise InputError(f"unknown solver option(s): {', '.join(sorted(unknown))}")
        return replace(self, **changes)


@dataclass
class Solution:
    """What a solver returns: sampled E, P, C_Q (and extra series), errors, provenance.

    Attributes
    ----------
    times : (n_t,) array, units 1/omega0
    energy, power, capacitance : (n_t,) arrays
        E(t) - E(0) (energy unit), P(t) = dE/dt (energy unit x omega0), C_Q(t) = dE/dlambda.
    energy_stderr, power_stderr, capacitance_stderr : (n_t,) arrays or None
        Standard errors (trajectory solver), None for deterministic solvers.
    observables, observables_stderr : (n_obs, n_t) arrays or None
        Extra time series (diagonal observables, state quantities) in the order the caller asked.
    evaluate : callable (k, t) -> (E, P, C) or None
        Exact evaluation at time t in [times[k], times[k+1]] (tau_c refinement).
    jackknife : (3, G, n_t) array or None
        Trajectory solver: E, P, C averaged over all trajectories but those of group g (index mod
        G), for delete-one-group jackknife errors of anything computed from the curves (figures
        of merit, ratios); None for deterministic solvers.
    e0 : float
        Tr[rho(0) H_B].
    info : dict
        Solver information: method, integrator, steps, operator products, jumps, ntraj, seed...
    """

    times: np.ndarray
    energy: np.ndarray
    power: np.ndarray
    capacitance: np.ndarray
    e0: float
    energy_stderr: np.ndarray | None = None
    power_stderr: np.ndarray | None = None
    capacitance_stderr: np.ndarray | None = None
    observables: np.ndarray | None = None
    observables_stderr: np.ndarray | None = None
    evaluate: Callable[[int, float], tuple[float, float, float]] | None = None
    info: dict[str, Any] = field(default_factory=dict)
    jackknife: np.ndarray | None = None

    def __repr__(self) -> str:
        n_obs = 0 if self.observables is None else len(self.observables)
        err = "with" if self.energy_stderr is not None else "without"
        return (f"Solution({len(self.times)} samples, {n_obs} observable series, {err} standard errors, "
                f"info={self.info})")


class SampleStates:
    """The states at sample indices that ``Solution.evaluate(k, t)`` starts from: those ``saved``
    while sampling (around the first sign change of P), else re-propagated from the start by
    ``replay(k)`` once and kept (the ``keep`` latest), so a refinement's evaluations near one
    sample (a P_max search: tens of them) pay one propagation from t = 0, not one each. The same
    bits as re-propagating every time."""

    def __init__(self, saved: dict, replay: Callable[[int], Any], keep: int = 4):
        self.saved, self.replay, self.keep = saved, replay, keep
        self.replayed: dict = {}

    def at(self, k: int):
        y = self.saved.get(k, self.replayed.get(k))
        if y is None:
            y = self.replay(k)
            if len(self.replayed) >= self.keep:
                self.replayed.pop(next(iter(self.replayed)))
            self.replayed[k] = y
        return y
