"""Spin-S sites against dense spin matrices written here (independent of QuSpin)."""

import numpy as np
import pytest
from scipy.linalg import eigh

import collective_qc as cqc


def spin_matrices(s):
    m = np.arange(s, -s - 1, -1)  # m = +S first (QuSpin's order)
    sz = np.diag(m)
    sp = np.zeros((len(m), len(m)))
    for k in range(1, len(m)):
        sp[k - 1, k] = np.sqrt(s * (s + 1) - m[k] * (m[k] + 1))
    sx = 0.5 * (sp + sp.T)
    sy = -0.5j * (sp - sp.T)
    return sx, sy, sz


def dense_energy(hb, v, lam, times, psi0):
    w, u = eigh(hb + lam * v)
    c = u.conj().T @ psi0
    e0 = np.real(psi0.conj() @ hb @ psi0)
    return np.array([np.real((u @ (np.exp(-1j * w * t) * c)).conj() @ hb @ (u @ (np.exp(-1j * w * t) * c))) - e0
                     for t in times])


def test_giant_spin_10_against_dense_spin_matrices():
    S, om, D, E, lam = 10, 1.0, -0.05, 0.01, 0.3
    times = np.linspace(0, 15, 31)
    res = cqc.charge("giant-spin", drive=lam, times=times, params={"S": "10", "omega": om, "D": D, "E": E})
    sx, sy, sz = spin_matrices(S)
    hb = om * sz + D * sz @ sz + E * (sx @ sx - sy @ sy)
    v = 2 * sx
    psi0 = eigh(hb)[1][:, 0]
    e_ref = dense_energy(hb, v, lam, times, psi0)
    h = 1e-4
    c_ref = (dense_energy(hb, v, lam + h, times, psi0) - dense_energy(hb, v, lam - h, times, psi0)) / (2 * h)
    np.testing.assert_allclose(res.energy, e_ref, rtol=0, atol=1e-6 * np.max(np.abs(e_ref)))
    np.testing.assert_allclose(res.capacitance, c_ref, rtol=0, atol=1e-6 * np.max(np.abs(c_ref)))


def test_spin_half_giant_spin_is_the_two_level_capacitor():
    from collective_qc.analysis import two_level as bl
    res = cqc.charge("giant-spin", drive=0.4, params={"S": "1/2"}, t_max=10, n_times=41)
    np.testing.assert_allclose(res.energy, bl.energy(res.times, 0.4), atol=1e-12)
    assert res.tau_c == pytest.approx(bl.charging_time(0.4), rel=1e-9)


def test_antiferromagnetic_spin_half_triangle_fourfold_ground_level():
    from collective_qc.physics.graph import validate_graph
    from collective_qc.physics.operators import build_operators
    from collective_qc.physics.registry import make_model
    m = make_model("heisenberg-graph", {"N": 3, "S": "1/2", "J": 1.0, "omega": 0.0, "lattice": "ring"})
    ops = build_operators(validate_graph(m.graph()))
    w = np.linalg.eigvalsh(ops.H_B.toarray())
    # J S.S on a triangle: E = (J/2)(S_tot(S_tot+1) - 9/4): S_tot = 1/2 (x2 doublets) -> -3/4, S_tot = 3/2 -> 3/4
    np.testing.assert_allclose(w[:4], -0.75, atol=1e-12)
    np.testing.assert_allclose(w[4:], 0.75, atol=1e-12)


def test_spin_one_chain_open_dynamics_exact_vs_trajectories():
    kw = dict(drive=0.3, params={"N": 2, "S": "1", "J": 0.5, "D": 0.2, "lattice": "chain"}, t_max=5, n_times=11,
              dephasing=0.05, relaxation=0.1)
    ex = cqc.charge("heisenberg-graph", method="exact", **kw)
    tr = cqc.charge("heisenberg-graph", method="trajectories", ntraj=600, seed=3, **kw)
    z = np.abs(tr.energy[1:] - ex.energy[1:]) / tr.energy_stderr[1:]
    assert np.max(z) < 4.0
