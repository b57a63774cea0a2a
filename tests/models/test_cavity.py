"""Dicke and Tavis-Cummings batteries against independent constructions.

References: dense tensor products written here (Pauli matrices, truncated a), exact
evolution by diagonalisation, C_Q by central differences; QuTiP mesolve for cavity
loss; the sqrt(N) scaling of Ferraro et al., PRL 120, 117702 (2018).
"""

import numpy as np
import pytest
from scipy.linalg import eigh

import collective_qc as cqc

SX = np.array([[0, 1], [1, 0]], float)
SZ = np.diag([1.0, -1.0])  # |e> first
SP = np.array([[0, 1], [0, 0]], float)  # sigma_+ = |e><g|


def embed(op, k, n, extra):
    mats = [np.eye(2)] * n
    mats[k] = op
    out = mats[0]
    for m in mats[1:]:
        out = np.kron(out, m)
    return np.kron(out, extra)


def dense_dicke(n, nmax, omega, omega_c, rwa):
    a = np.diag(np.sqrt(np.arange(1, nmax + 1)), 1)
    eye_b = np.eye(nmax + 1)
    hb = sum(embed(0.5 * omega * SZ, k, n, eye_b) for k in range(n))
    haux = omega_c * np.kron(np.eye(2**n), a.T @ a)
    if rwa:
        v = sum(embed(SP, k, n, a) + embed(SP.T, k, n, a.T) for k in range(n))
    else:
        v = sum(embed(SX, k, n, a + a.T) for k in range(n))
    return hb, haux, v


def dense_run(hb, h0, v, lam, times, psi0):
    w, u = eigh(h0 + lam * v)
    c = u.T @ psi0
    e0 = psi0 @ hb @ psi0
    out = []
    for t in times:
        psi = u @ (np.exp(-1j * w * t) * c)
        out.append(np.real(psi.conj() @ hb @ psi) - e0)
    return np.array(out)


def initial(n, nmax, photons):
    g = np.array([0.0, 1.0])
    psi = g
    for _ in range(n - 1):
        psi = np.kron(psi, g)
    fock = np.zeros(nmax + 1)
    fock[photons] = 1.0
    return np.kron(psi, fock)


@pytest.mark.parametrize("model,rwa", [("dicke", False), ("tavis-cummings", True)])
def test_explicit_three_spins_against_tensor_products(model, rwa):
    n, nmax, lam, om, omc = 3, 30, 0.3, 1.0, 0.8
    times = np.linspace(0, 4, 21)
    params = {"N": n, "n_max": nmax, "omega": om, "omega_c": omc, "representation": "explicit"}
    res = cqc.charge(model, drive=lam, times=times, params=params)
    hb, haux, v = dense_dicke(n, nmax, om, omc, rwa)
    psi0 = initial(n, nmax, n)
    e_ref = dense_run(hb, hb + haux, v, lam, times, psi0)
    h = 1e-4  # fourth-order central difference: truncation ~ h^4, rounding ~ 1e-16/h

    def e_at(lm):
        return dense_run(hb, hb + haux, v, lm, times, psi0)

    c_ref = (8 * (e_at(lam + h) - e_at(lam - h)) - (e_at(lam + 2 * h) - e_at(lam - 2 * h))) / (12 * h)
    np.testing.assert_allclose(res.energy, e_ref, rtol=0, atol=1e-8)
    np.testing.assert_allclose(res.capacitance, c_ref, rtol=0, atol=1e-8 * np.max(np.abs(c_ref)))
    assert res.metadata["cutoff"]["cavity"]["converged"]


@pytest.mark.parametrize("model", ["dicke", "tavis-cummings"])
@pytest.mark.filterwarnings("ignore:boson mode")  # same truncation on both sides
def test_collective_equals_explicit_for_four_spins(model):
    times = np.linspace(0, 2, 21)
    base = {"N": 4, "n_max": 24, "omega": 1.2, "omega_c": 1.0}
    ex = cqc.charge(model, drive=0.3, times=times, params={**base, "representation": "explicit"})
    co = cqc.charge(model, drive=0.3, times=times, params={**base, "representation": "collective"})
    assert co.metadata["dim"] < ex.metadata["dim"]
    for a, b in [(ex.energy, co.energy), (ex.power, co.power), (ex.capacitance, co.capacitance)]:
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    np.testing.assert_allclose(ex.observables["photons[cavity]"], co.observables["photons[cavity]"], atol=1e-8)


def test_sector_restriction_changes_nothing():
    """Closed cavity runs use the conserved (parity / N_exc) sector; the full space agrees."""
    times = np.linspace(0, 1, 11)
    params = {"N": 2, "n_max": 12, "representation": "explicit"}
    res = cqc.charge("dicke", drive=0.3, times=times, params=params)
    assert res.metadata["sector"]["label"] == "parity"
    assert res.metadata["sector"]["dim"] == 4 * 13 // 2
    # the exact solver uses the full space (no restriction) and must agree
    full = cqc.charge("dicke", drive=0.3, times=times, params=params, method="exact")
    assert full.metadata["sector"] is None
    np.testing.assert_allclose(res.energy, full.energy, atol=1e-8)
    np.testing.assert_allclose(res.capacitance, full.capacitance, atol=1e-7)


def test_ferraro_sqrt_n_advantage():
    """Collective vs parallel Dicke battery, max_tau E(tau)/tau: Gamma ~ N^(1/2) (Ferraro et al. 2018)."""
    lam = 0.5  # omega_c = 1, so lambda_ours = lambda_Ferraro
    single = cqc.charge("dicke", drive=lam, t_max=4, n_times=801, params={"N": 1, "photons": 1})
    ns = np.arange(4, 13)
    gam = []
    for n in ns:
        r = cqc.charge("dicke", drive=lam, t_max=1.5, n_times=601, params={"N": int(n)})
        assert r.metadata["cutoff"]["cavity"]["converged"]
        gam.append(r.average_power_max / (n * single.average_power_max))
    slope = np.polyfit(np.log(ns), np.log(gam), 1)[0]
    assert abs(slope - 0.5) <= 0.05, slope


def test_tavis_cummings_cutoff_exact_by_conservation():
    """n_max = photons is exact for Tavis-Cummings: a larger cutoff changes nothing."""
    times = np.linspace(0, 5, 26)
    small = cqc.charge("tavis-cummings", drive=0.3, times=times, params={"N": 3})
    large = cqc.charge("tavis-cummings", drive=0.3, times=times, params={"N": 3, "n_max": 12})
    assert small.metadata["cutoff"]["cavity"]["exact_by_conservation"]
    assert small.metadata["cutoff"]["cavity"]["n_max"] == 3
    np.testing.assert_allclose(small.energy, large.energy, atol=1e-10)


def test_too_small_cutoff_is_reported_and_automatic_cutoff_refines():
    times = np.linspace(0, 3, 31)
    with pytest.warns(UserWarning, match="raise n_max"):
        bad = cqc.charge("dicke", drive=0.5, times=times, params={"N": 4, "n_max": 6})
    assert not bad.metadata["cutoff"]["cavity"]["converged"]
    auto = cqc.charge("dicke", drive=0.5, times=times, params={"N": 4})
    rep = auto.metadata["cutoff"]["cavity"]
    assert rep["converged"] and rep["top_population_max"] <= 1e-6
    ref = cqc.charge("dicke", drive=0.5, times=times, params={"N": 4, "n_max": 2 * rep["n_max"]})
    np.testing.assert_allclose(auto.energy, ref.energy, atol=1e-6)


@pytest.mark.filterwarnings("ignore:boson mode")  # same truncation on both sides
def test_cavity_loss_against_qutip_mesolve():
    qutip = pytest.importorskip("qutip")
    n, nmax, lam, kc = 2, 8, 0.3, 0.2
    times = np.linspace(0, 6, 31)
    res = cqc.charge("dicke", drive=lam, times=times, method="exact",
                     params={"N": n, "n_max": nmax, "photons": 2, "kappa_c": kc, "representation": "explicit"})
    a = qutip.tensor(qutip.qeye(2), qutip.qeye(2), qutip.destroy(nmax + 1))
    sm = [qutip.tensor(qutip.sigmap(), qutip.qeye(2), qutip.qeye(nmax + 1)),
          qutip.tensor(qutip.qeye(2), qutip.sigmap(), qutip.qeye(nmax + 1))]
    sz = [2 * s * s.dag() - 1 for s in sm]  # qutip's sigmap() = |0><1|: |0> is excited here
    hb = sum(0.5 * z for z in sz)
    h = hb + a.dag() * a + lam * sum(s + s.dag() for s in sm) * (a + a.dag())
    g = qutip.basis(2, 1)
    psi0 = qutip.tensor(g, g, qutip.basis(nmax + 1, 2))
    out = qutip.mesolve(h, psi0, times, [np.sqrt(kc) * a], e_ops=[hb], options={"atol": 1e-10, "rtol": 1e-10})
    e_ref = np.array(out.expect[0]) - out.expect[0][0]
    np.testing.assert_allclose(res.energy, e_ref, atol=1e-6)


def test_cavity_parameters_are_checked():
    with pytest.raises(cqc.InputError, match="representation"):
        cqc.charge("dicke", params={"representation": "both"})
    with pytest.raises(cqc.InputError, match="n_max"):
        cqc.charge("dicke", params={"N": 4, "n_max": 2})


@pytest.mark.filterwarnings("ignore:boson mode")  # same truncation on both sides
@pytest.mark.parametrize("model,params,noise", [
    ("dicke", {"N": 2, "n_max": 6, "photons": 2, "kappa_c": 0.3, "representation": "explicit"}, {}),
    ("giant-spin", {"S": "1", "D": 0.2}, {"relaxation": 0.2, "dephasing": 0.05}),
])
def test_trajectories_with_cavity_loss_and_spin_s_jumps_match_exact(model, params, noise):
    times = np.linspace(0, 4, 21)
    ex = cqc.charge(model, 0.3, times=times, params=params, method="exact", **noise)
    tr = cqc.charge(model, 0.3, times=times, params=params, method="trajectories", ntraj=600, seed=2, **noise)
    for key in ("energy", "capacitance", "power"):
        a, b = getattr(tr, key), getattr(ex, key)
        err = getattr(tr, key + "_stderr")
        # floor on sigma: before the first jump all trajectories agree (stderr 0) while rare jump
        # records still contribute O(p_jump) to the mean
        z = np.abs(a - b)[1:] / np.maximum(err[1:], 1e-4 * np.max(np.abs(b)))
        assert np.all(z < 4.5), (key, z.max())
    if model == "dicke":
        # photon number from trajectories (with error) against the exact value
        z = np.abs(tr.observables["photons[cavity]"] - ex.observables["photons[cavity]"])[1:] / \
            np.maximum(tr.observables_stderr["photons[cavity]"][1:], 1e-12)
        assert np.all(z < 4.5)
