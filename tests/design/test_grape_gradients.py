"""Exact GRAPE gradients against central finite differences (closed and open, energy and ergotropy)."""

from __future__ import annotations

import numpy as np
import pytest

from collective_qc.design.grape import evaluate, propagate_states, terminal_observable
from collective_qc.design.options import OptimizeOptions
from collective_qc.design.problem import build_dynamics


@pytest.mark.parametrize("noise", [{}, {"dephasing": 0.1, "relaxation": 0.05}])
@pytest.mark.parametrize("objective", ["energy", "ergotropy"])
def test_gradient_matches_central_differences(noise, objective):
    opts = OptimizeOptions(tau=1.5, slices=6, params={"N": 2}, objective=objective, **noise)
    dyn, _ = build_dynamics("xxz-chain", opts)
    A = terminal_observable(dyn, objective)
    u = np.random.default_rng(3).uniform(-1, 1, 6)
    F, g = evaluate(dyn, u, opts.tau, A)
    h = 1e-5
    fd = np.array([(evaluate(dyn, u + h * e, opts.tau, A, False)[0] - evaluate(dyn, u - h * e, opts.tau, A, False)[0])
                   / (2 * h) for e in np.eye(6)])
    assert np.max(np.abs(fd - g)) <= 1e-6 * np.max(np.abs(g))


def test_curve_ends_at_the_objective_and_starts_at_zero():
    opts = OptimizeOptions(tau=1.0, slices=5)
    dyn, _ = build_dynamics("two-level", opts)
    u = np.array([1.0, -0.5, 0.2, 1.0, 0.0])
    E = propagate_states(dyn, u, 1.0, [0.0, 0.33, 1.0])
    assert E[0] == 0.0
    assert E[-1] == pytest.approx(evaluate(dyn, u, 1.0, terminal_observable(dyn, "energy"), False)[0], abs=1e-12)


def test_open_gradient_sparse_action_path():
    """N = 4 chain with noise: the Liouvillian (256) is past the dense size, so the sparse action path runs."""
    from collective_qc.design import grape

    opts = OptimizeOptions(tau=1.0, slices=4, params={"N": 4}, dephasing=0.1, relaxation=0.05)
    dyn, _ = build_dynamics("xxz-chain", opts)
    assert 2 * dyn.H0.shape[0] ** 2 > grape.DENSE_ACTION
    A = terminal_observable(dyn, "energy")
    u = np.array([0.3, -1.0, 0.8, 0.1])
    F, g = evaluate(dyn, u, opts.tau, A)
    h = 1e-5
    fd = np.array([(evaluate(dyn, u + h * e, opts.tau, A, False)[0] - evaluate(dyn, u - h * e, opts.tau, A, False)[0])
                   / (2 * h) for e in np.eye(4)])
    assert np.max(np.abs(fd - g)) <= 1e-6 * np.max(np.abs(g))
