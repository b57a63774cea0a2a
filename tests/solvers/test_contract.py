"""The solver contract: a solver added as one module plus one table entry runs through charge(),
is chosen by method="auto" by its cost, is refused where it does not accept the problem, and its
memory estimate is what the run guard and a study's memory check use.

The toy solver here (``DenseSolver``) propagates psi and its tangent with a dense matrix
exponential of the augmented generator, independently of the package's Chebyshev code.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from scipy.linalg import expm

import collective_qc as cqc
from collective_qc.solvers import contract
from collective_qc.solvers.contract import Accepts, RunSize, Solver
from collective_qc.solvers.solution import Solution, SolverOptions


class DenseSolver(Solver):
    """Closed runs by dense expm of [[H, 0], [f V, H]] between samples (piecewise-constant f)."""

    name = "dense"
    accepts = Accepts(noise=False, smooth_protocol=False, state_quantities=False)

    def memory(self, size: RunSize, options) -> float:
        return 4 * 16.0 * size.dim**2  # the augmented generator and its exponential

    def cost(self, size: RunSize, options) -> float:
        return size.dim**3  # more than the closed solver's dim x nnz: auto never picks it

    def solve(self, problem, options, progress=None, client=None) -> Solution:
        ops, lam, t = problem.ops, problem.drive, np.asarray(problem.times, float)
        H0, V, HB = (np.asarray(x.todense()) for x in (ops.H0, ops.V, ops.H_B))
        dim = ops.dim
        psi = np.concatenate([problem.psi0, np.zeros_like(problem.psi0)]).astype(complex)
        out = np.zeros((3, len(t)))
        prev = 0.0
        for k, tk in enumerate(t):
            f = problem.protocol.value(0.5 * (prev + tk)) if tk > prev else problem.protocol.value(tk)
            A = np.block([[H0 + lam * f * V, np.zeros((dim, dim))], [f * V, H0 + lam * f * V]])
            psi = expm(-1j * (tk - prev) * A) @ psi
            prev = tk
            p, ph = psi[:dim], psi[dim:]
            w = problem.weights
            out[0, k] = np.real(np.einsum("im,ij,jm->m", p.conj(), HB, p)) @ w
            out[1, k] = 2 * lam * problem.protocol.value(tk) * np.imag(np.einsum("im,ij,jm->m", (HB @ p).conj(),
                                                                                  np.eye(dim), V @ p)) @ w
            out[2, k] = 2 * np.real(np.einsum("im,im->m", (HB @ p).conj(), ph)) @ w
        e0 = float(out[0, 0]) if t[0] == 0 else float(np.real(np.einsum("im,ij,jm->m", problem.psi0.conj(), HB,
                                                                         problem.psi0)) @ problem.weights)
        return Solution(times=t, energy=out[0] - e0, power=out[1], capacitance=out[2], e0=e0, info={"method": "dense"})


@pytest.fixture
def dense_table(monkeypatch):
    module = sys.modules[__name__]
    module.SOLVER = DenseSolver()
    monkeypatch.setitem(contract.SOLVERS, "dense", __name__)
    yield


def test_a_new_solver_is_one_module_and_one_table_entry(dense_table):
    kw = dict(params={"N": 4, "J": 0.3}, t_max=3.0, n_times=13)
    ref = cqc.charge("xxz-chain", 0.5, method="closed", **kw)
    got = cqc.charge("xxz-chain", 0.5, method="dense", **kw)
    assert got.method == "dense"
    for a, b in ((got.energy, ref.energy), (got.power, ref.power), (got.capacitance, ref.capacitance)):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-10)
    assert cqc.charge("xxz-chain", 0.5, **kw).method == "closed"  # auto: the cheaper of the two


def test_the_table_refuses_for_the_solver(dense_table):
    with pytest.raises(cqc.InputError, match="method 'dense' is for noise-free runs"):
        cqc.charge("xxz-chain", 0.5, method="dense", params={"N": 3}, dephasing=0.1, t_max=1.0)
    with pytest.raises(cqc.InputError,
                       match="method must be one of auto, closed, exact, trajectories, permutation, dense"):
        cqc.charge("xxz-chain", 0.5, method="densse", params={"N": 3})


def test_run_guard_reads_the_solvers_memory(dense_table):
    from collective_qc.api import check_charge

    plan = check_charge("xxz-chain", 0.5, method="dense", params={"N": 6}, n_times=11)
    assert plan.memory >= 4 * 16.0 * 64**2


def test_auto_chooses_by_cost_among_fitting_solvers():
    size = RunSize(dim=256, nnz_per_row=10, n_jumps=16, n_obs=0, n_times=201)
    fits = lambda need: True  # noqa: E731
    assert contract.choose(size, False, SolverOptions(), fits) == "closed"
    assert contract.choose(size, True, SolverOptions(ntraj=500), fits) == "exact"  # 256 <= 0.55 x 500
    assert contract.choose(size, True, SolverOptions(ntraj=400), fits) == "trajectories"  # 256 > 0.55 x 400
    exact_bytes = contract.solver("exact").memory(size, SolverOptions())
    assert contract.choose(size, True, SolverOptions(ntraj=500), lambda need: need < exact_bytes) == "trajectories"
