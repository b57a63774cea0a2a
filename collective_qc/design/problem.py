"""The control problem of :func:`collective_qc.design.optimize`, built the way a charge run builds its
operators (:func:`collective_qc.api.check_charge` then :func:`collective_qc.api.prepare`), so every
registered model, user graph and charger works, in the same basis, symmetry block and conserved sector
that ``collective_qc.charge`` would use for the same call."""

from __future__ import annotations

import numpy as np

from ..api import check_charge, prepare
from ..core.errors import InputError
from .grape import Dynamics

__all__ = ["build_dynamics", "build_problem", "DENSE_LIMIT", "OPEN_LIMIT"]

DENSE_LIMIT = 2048  # closed: dense eigendecompositions per slice
OPEN_LIMIT = 256  # open: sparse Liouvillian actions on vectors of d^2 (65536 at d = 256)


def _dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if hasattr(m, "toarray") else m, dtype=complex)


def build_dynamics(model, opts) -> tuple[Dynamics, dict]:
    """The dense :class:`~collective_qc.design.grape.Dynamics` of ``model`` for the options ``opts``
    (:class:`~collective_qc.design.options.OptimizeOptions`) and a record of how it was built.

    Raises
    ------
    InputError
        A model whose run basis is too large for dense propagators (closed > 2048 states,
        open > 256 states), or a method other than ``closed`` / ``exact``.
    """
    problem, info = build_problem(model, opts)
    ops = problem.ops
    dyn = Dynamics(H0=_dense(ops.H0), V=_dense(ops.V), H_B=_dense(ops.H_B), drive=float(opts.drive),
                   vectors=np.asarray(problem.init.vectors, dtype=complex),
                   weights=np.asarray(problem.init.weights, dtype=float),
                   jumps=[_dense(j.matrix) for j in ops.jumps])
    return dyn, info


def build_problem(model, opts):
    """(the charge run's :class:`~collective_qc.api.Problem`, its record) for ``model`` and ``opts``,
    its sparse operators in the run's basis; refuses a basis past the dense limits (see
    :func:`build_dynamics`)."""
    method = "exact" if opts.is_open else "closed"
    plan = check_charge(model, opts.drive, np.array([0.0, opts.tau]), params=opts.params, method=method,
                        initial=opts.initial, dephasing=opts.dephasing, relaxation=opts.relaxation,
                        pumping=opts.pumping, battery_off_while_charging=opts.battery_off)
    problem = prepare(plan, {"charger": None, "norm": None, "battery_off_while_charging": opts.battery_off,
                             "speed_limit": False})
    ops = problem.ops
    limit = OPEN_LIMIT if opts.is_open else DENSE_LIMIT
    if ops.dim > limit:
        kind = "open (Liouvillian d^2)" if opts.is_open else "closed"
        raise InputError(f"optimize: the {kind} problem has {ops.dim} states in its basis, more than the dense "
                         f"limit {limit}; use a smaller model")
    info = {"method": method, "dim": int(ops.dim), "block": problem.block,
            "sector": None if problem.sector is None else {"label": problem.sector.label,
                                                           "value": float(problem.sector.value)},
            "initial": problem.init.describe(), "model": plan.model.name if hasattr(plan.model, "name") else str(model),
            "units": _units(plan)}
    return problem, info


def _units(plan) -> dict:
    m = plan.model
    return {"energy": getattr(m, "energy_unit", "omega0"), "time": getattr(m, "time_unit", "1/omega0")}
