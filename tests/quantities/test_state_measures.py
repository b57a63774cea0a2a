"""Ergotropy, coherence and entropy time series from the solvers, against independent values."""

import numpy as np
import pytest
from scipy.linalg import expm

import collective_qc as cqc
from collective_qc.analysis import two_level


def test_two_level_pure_state_ergotropy_equals_energy():
    """A pure state of one two-level system: W = E - E_ground = E(t) (Eq. 10); l1 = 2|c_g c_e|."""
    lam = 0.3
    times = np.linspace(0, 12, 25)
    res = cqc.charge("two-level", drive=lam, times=times, quantities="all")
    e_ref = two_level.energy(times, lam)
    np.testing.assert_allclose(res.observables["ergotropy"], e_ref, atol=1e-10)
    # l1 coherence in the sz eigenbasis = 2 |c_e| |c_g| = 2 sqrt(p (1 - p)), p = E / omega0
    p = e_ref
    np.testing.assert_allclose(res.observables["coherence_l1"], 2 * np.sqrt(p * (1 - p)), atol=1e-8)
    assert np.all(np.isnan(res.observables["entanglement_entropy"]))


def test_dephasing_ergotropy_against_bloch_density_matrix():
    """Exact Lindblad run: W(t) from an independent 2x2 Liouvillian integration."""
    lam, gam = 0.4, 0.1
    times = np.linspace(0, 10, 21)
    res = cqc.charge("two-level", drive=lam, times=times, dephasing=gam, method="exact", quantities="ergotropy")
    sz = np.diag([1.0, -1.0])
    sx = np.array([[0, 1], [1, 0]], float)
    H = 0.5 * sz + lam * sx
    eye = np.eye(2)
    L = (-1j * (np.kron(eye, H) - np.kron(H.T, eye)) + gam * (np.kron(sz.T, sz) - np.kron(eye, eye)))
    rho0 = np.diag([0.0, 1.0]).reshape(-1, order="F")
    ref = []
    for t in times:
        rho = (expm(L * t) @ rho0).reshape(2, 2, order="F")
        r = np.linalg.eigvalsh(rho)
        e = np.real(np.trace(rho @ (0.5 * sz)))
        ref.append(e - (r[1] * -0.5 + r[0] * 0.5))
    np.testing.assert_allclose(res.observables["ergotropy"], ref, atol=1e-8)
    assert np.all(res.observables["ergotropy"] <= res.energy + 1e-12)


@pytest.mark.filterwarnings("ignore:boson mode")  # the same truncation in every run compared
def test_ergotropy_collective_equals_explicit_and_closed_equals_exact():
    times = np.linspace(0, 1.5, 4)
    base = {"N": 3, "n_max": 14}
    co = cqc.charge("dicke", 0.3, times=times, params={**base, "representation": "collective"},
                    quantities="ergotropy,entropy")
    ex = cqc.charge("dicke", 0.3, times=times, params={**base, "representation": "explicit"},
                    quantities="ergotropy,entropy")
    np.testing.assert_allclose(co.observables["ergotropy"], ex.observables["ergotropy"], atol=1e-9)
    # spin-cavity entanglement entropy is basis independent
    np.testing.assert_allclose(co.observables["entanglement_entropy"], ex.observables["entanglement_entropy"],
                               atol=1e-8)
    exact = cqc.charge("dicke", 0.3, times=times, params={**base, "representation": "collective"},
                       method="exact", quantities="ergotropy")
    np.testing.assert_allclose(co.observables["ergotropy"], exact.observables["ergotropy"], atol=1e-9)


def test_half_chain_entropy_of_product_start_and_bounds():
    res = cqc.charge("xxz-chain", 0.5, t_max=5, n_times=11, params={"N": 6}, initial="product",
                     quantities="entropy,ergotropy")
    s = res.observables["entanglement_entropy"]
    assert s[0] == pytest.approx(0.0, abs=1e-12)
    assert np.all(s <= 3 * np.log(2) + 1e-12) and s[-1] > 1e-3
    # pure state: W(t) = <H_B>(t) - E_ground = E(t) + E(0) - E_ground
    e_ground = cqc.charge("xxz-chain", 0.5, t_max=1, n_times=2, params={"N": 6}).metadata["E0"]
    np.testing.assert_allclose(res.observables["ergotropy"], res.energy + res.metadata["E0"] - e_ground, atol=1e-9)


def test_trajectory_ergotropy_of_averaged_state_against_exact():
    times = np.linspace(0, 5, 11)
    kw = dict(params={"N": 2}, times=times, dephasing=0.05, relaxation=0.05, quantities="ergotropy")
    ex = cqc.charge("xxz-chain", 0.5, method="exact", **kw)
    tr = cqc.charge("xxz-chain", 0.5, method="trajectories", ntraj=400, seed=4, **kw)
    err = tr.observables_stderr["ergotropy"]
    assert np.all(err[1:] > 0)
    z = np.abs(tr.observables["ergotropy"] - ex.observables["ergotropy"])[1:] / err[1:]
    assert np.all(z < 4.5), z.max()
    # same numbers whatever the batching: a second run with the same seed is bitwise equal
    again = cqc.charge("xxz-chain", 0.5, method="trajectories", ntraj=400, seed=4, **kw)
    assert np.array_equal(again.observables["ergotropy"], tr.observables["ergotropy"])


def test_unknown_quantity_refused():
    with pytest.raises(cqc.InputError, match="unknown quantity"):
        cqc.charge("xxz-chain", 0.5, quantities="purity")
