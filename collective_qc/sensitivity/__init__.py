"""Sensitivities d/dtheta of E(t), P(t), C_Q(t) and of tau_c, E_max, P_max (closed, exact, permutation, trajectories).

``charge(..., sensitivities=["J", "omega@3", "J@(0,1)", "drive", "protocol.sigma", "dephasing"])``
checks the names (:func:`check_sensitivities`) and prepares the tangents (:func:`prepare_sensitivities`)
before the run, then fills ``result.sensitivities[name]`` (:func:`compute_sensitivities`); names in
:mod:`.names`, the operator derivatives in :mod:`.generators`, the initial state's in :mod:`.initial`,
the augmented forward-tangent propagation in :mod:`.engine`, the observables in :mod:`.observe`, the
derived figures in :mod:`.run` (its shared forward pieces in :mod:`.forward`); the adjoint pass (all
parameters at once, derived figures only) in :mod:`.adjoint` and :mod:`.adjoint_density`; trajectory
estimators in :mod:`.trajectory`; permutation-invariant runs in :mod:`.permutation`. Definitions and
limits: docs/sensitivities.md.
"""

from .adjoint import SENSITIVITY_MODES, AdjointPrepared, choose_mode
from .names import Parameter, resolve_names, valid_names
from .run import (
    SENSITIVITY_METHODS,
    Prepared,
    augmented_memory,
    check_sensitivities,
    compute_sensitivities,
    prepare_adjoint,
    prepare_sensitivities,
)

__all__ = ["Parameter", "resolve_names", "valid_names", "check_sensitivities", "prepare_sensitivities",
           "compute_sensitivities", "Prepared", "augmented_memory", "SENSITIVITY_METHODS", "SENSITIVITY_MODES",
           "AdjointPrepared", "choose_mode", "prepare_adjoint"]
