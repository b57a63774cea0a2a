"""Exact Lindblad solver: Bloch-equation limits and QuTiP mesolve as an independent reference."""

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.analysis import two_level as bl


def test_dephasing_alone_heats_to_half_omega0_not_zero():
    """Exact: E -> omega0/2 (steady state I/2). The paper's Eq. 32, E e^{-2 gamma t}, predicts 0."""
    gamma = 0.05
    res = cqc.charge("two-level", drive=0.5, t_max=250, n_times=251, dephasing=gamma)
    assert res.method == "exact"
    assert res.energy[-1] == pytest.approx(0.5, abs=1e-4)
    approx = bl.approx_dephased_energy(res.times[-1], 0.5, gamma)
    assert approx < 1e-9  # the approximation's prediction differs from the exact dynamics
    # early times: the approximation is fine for gamma t << 1
    early = res.times < 0.5
    np.testing.assert_allclose(res.energy[early], bl.approx_dephased_energy(res.times[early], 0.5, gamma),
                               atol=5e-3)


@pytest.mark.parametrize("gamma,kappa,drive", [(0.05, 0.1, 0.5), (0.0, 0.3, 0.2), (0.2, 0.05, 1.0)])
def test_steady_state_with_both_channels(gamma, kappa, drive):
    res = cqc.charge("two-level", drive=drive, t_max=400, n_times=101, dephasing=gamma, relaxation=kappa)
    assert res.energy[-1] == pytest.approx(bl.steady_state_energy(drive, gamma, kappa), rel=1e-6)


def test_exact_equals_closed_without_noise():
    r0 = cqc.charge("xxz-chain", drive=0.4, params={"N": 4}, t_max=10, n_times=41)
    r1 = cqc.charge("xxz-chain", drive=0.4, params={"N": 4}, t_max=10, n_times=41, method="exact")
    np.testing.assert_allclose(r1.energy, r0.energy, atol=1e-10)
    np.testing.assert_allclose(r1.capacitance, r0.capacitance, atol=1e-10)
    np.testing.assert_allclose(r1.power, r0.power, atol=1e-10)


def _qutip_xxz_ring(n, J, delta, lam, gamma, kappa, times):
    qt = pytest.importorskip("qutip")
    sx, sy, sz = qt.sigmax(), qt.sigmay(), qt.sigmaz()
    # QuTiP basis(2,0) is |e> for sigmaz = diag(1,-1); sigma_- = |g><e| = |1><0|
    sm = qt.Qobj(np.array([[0, 0], [1, 0]]))

    def op(o, i):
        return qt.tensor([o if k == i else qt.qeye(2) for k in range(n)])

    hb = sum(0.5 * op(sz, i) for i in range(n))
    for i in range(n):
        j = (i + 1) % n
        hb += J * (op(sx, i) * op(sx, j) + op(sy, i) * op(sy, j) + delta * op(sz, i) * op(sz, j))
    v = sum(op(sx, i) for i in range(n))
    c_ops = [np.sqrt(gamma) * op(sz, i) for i in range(n)] + [np.sqrt(kappa) * op(sm, i) for i in range(n)]
    w, u = np.linalg.eigh(hb.full())
    psi0 = qt.Qobj(u[:, 0], dims=[[2] * n, [1] * n])
    opts = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100000}

    def energy(lmb):
        out = qt.mesolve(hb + lmb * v, psi0, times, c_ops, e_ops=[hb], options=opts)
        return np.array(out.expect[0]) - w[0]

    return energy


def test_xxz_ring_n5_open_against_qutip_mesolve():
    n, J, delta, lam, gamma, kappa = 5, 0.3, 0.5, 0.5, 0.05, 0.02
    times = np.linspace(0, 10, 41)
    energy = _qutip_xxz_ring(n, J, delta, lam, gamma, kappa, times)
    res = cqc.charge("xxz-ring", drive=lam, times=times, params={"N": n, "J": J, "Delta": delta},
                     dephasing=gamma, relaxation=kappa, method="exact")
    e_ref = energy(lam)
    np.testing.assert_allclose(res.energy, e_ref, rtol=0, atol=1e-6)
    h = 2e-4
    c_ref = (energy(lam + h) - energy(lam - h)) / (2 * h)  # O(h^2) truncation, tiny at h = 2e-4
    scale = np.max(np.abs(c_ref))
    np.testing.assert_allclose(res.capacitance, c_ref, rtol=0, atol=1e-5 * scale)
    # P against a time derivative of the reference (central differences of the sampled E)
    dt = times[1] - times[0]
    p_fd = np.gradient(res.energy, dt, edge_order=2)
    np.testing.assert_allclose(res.power[2:-2], p_fd[2:-2], atol=2e-2 * np.max(np.abs(res.power)))
