"""The test oracle (tests/solvers/reference_solvers.py) checked on its own, then used on the golden runs.

1. The oracle against the paper's two-level closed forms, restated here from docs/conventions.md
   (H = (omega0/2) sz + lambda sx from |g>; Eqs. 7, 10, 14, 21), and against exact open results
   (free decay under relaxation; the dephased steady state I/2); its C_Q and P against finite
   differences of its own E in lambda and t; its methods against each other (eigendecomposition
   and Frechet derivative by scipy.linalg.expm_frechet, dense and expm_multiply paths, piecewise
   exponentials and DOP853, density matrix and state vectors).
2. The frozen golden numbers (tests/data/golden_charge.npz, golden_catalog.npz) against the oracle on
   the full space (no symmetry block, no conserved sector), every closed case up to ``CLOSED_DIM`` and
   every exact and trajectory case up to ``EXACT_DIM``: closed and exact series to ``SERIES_RTOL`` of
   their scale, trajectory means of E and C_Q within ``TRAJ_SIGMAS`` frozen standard errors.
"""

from __future__ import annotations

import numpy as np
import pytest
import reference_solvers as ref
from scipy.linalg import expm, expm_frechet

SZ = np.diag([1.0, -1.0]).astype(complex)  # |e> = index 0, |g> = index 1 (docs/conventions.md)
SX = np.array([[0, 1], [1, 0]], dtype=complex)
SM = np.array([[0, 0], [1, 0]], dtype=complex)  # s- = |g><e|
GROUND = np.array([0.0, 1.0], dtype=complex)
CONSTANT = ref.Envelope(lambda t: 1.0)


def two_level(omega0=1.0, jumps=()):
    """H_B = (omega0/2) sz, V = sx (the paper's capacitor)."""
    return ref.System.from_matrices(0.5 * omega0 * SZ, SX, jumps=jumps)


def rabi_closed_forms(t, lam, omega0=1.0):
    """E, P, C_Q of the driven two-level site from |g> (paper Eqs. 7, 10, 21, 14), restated:
    Omega_R = sqrt(lam^2 + omega0^2/4), E = omega0 (lam/Omega_R)^2 sin^2(Omega_R t), P = dE/dt,
    C_Q = dE/dlam (Omega_R depends on lam: dOmega_R/dlam = lam/Omega_R)."""
    wr = np.sqrt(lam**2 + 0.25 * omega0**2)
    s2 = np.sin(wr * t) ** 2
    energy = omega0 * lam**2 / wr**2 * s2
    power = omega0 * lam**2 / wr * np.sin(2 * wr * t)
    capacitance = omega0 * 2 * lam * (0.25 * omega0**2) / wr**4 * s2 + omega0 * lam**3 * t / wr**3 * np.sin(2 * wr * t)
    return energy, power, capacitance


def _close(series, expected, atol):
    for name, want in zip(("energy", "power", "capacitance"), expected):
        np.testing.assert_allclose(getattr(series, name), want, rtol=0, atol=atol, err_msg=name)


@pytest.mark.parametrize("lam,omega0", [(0.3, 1.0), (1.7, 1.0), (0.5, 2.5)])
def test_two_level_closed_forms(lam, omega0):
    times = np.linspace(0.0, 12.0, 49)
    sys2 = two_level(omega0)
    want = rabi_closed_forms(times, lam, omega0)
    _close(ref.closed_series(sys2, GROUND, [1.0], lam, CONSTANT, times), want, 1e-12)
    _close(ref.open_series(sys2, np.outer(GROUND, GROUND), lam, CONSTANT, times), want, 1e-12)
    smooth = ref.Envelope(lambda t: 1.0, piecewise_constant=False)
    _close(ref.closed_series(sys2, GROUND, [1.0], lam, smooth, times), want, 1e-9)
    _close(ref.open_series(sys2, np.outer(GROUND, GROUND), lam, smooth, times), want, 1e-9)
    wr = np.sqrt(lam**2 + 0.25 * omega0**2)  # at tau_c = pi / (2 Omega_R) (Eq. 25): E_max, C_Q* (Eq. 24)
    s = ref.closed_series(sys2, GROUND, [1.0], lam, CONSTANT, [0.0, np.pi / (2 * wr)])
    assert s.energy[1] == pytest.approx(omega0 * lam**2 / wr**2, rel=1e-13)
    assert s.capacitance[1] == pytest.approx(omega0**3 * lam / (2 * wr**4), rel=1e-12)


def test_on_off_stores_what_was_charged():
    """After the drive switches off at tau (on-off:TAU) H = H_B: E and C_Q keep their values at tau, P = 0."""
    tau, lam = 1.3, 0.8
    envelope = ref.Envelope(lambda t: 1.0 if t < tau else 0.0, breakpoints=(tau,))
    times = np.linspace(0.0, 5.0, 21)
    s = ref.closed_series(two_level(), GROUND, [1.0], lam, envelope, times)
    e_tau, _, c_tau = rabi_closed_forms(np.minimum(times, tau), lam)
    np.testing.assert_allclose(s.energy, e_tau, rtol=0, atol=1e-13)
    np.testing.assert_allclose(s.capacitance, c_tau, rtol=0, atol=1e-13)
    np.testing.assert_allclose(s.power[times > tau], 0.0, atol=1e-15)


def test_open_closed_forms():
    """Relaxation sqrt(kappa) s- from |e>, no drive: E = omega0 (e^{-kappa t} - 1), P = -omega0 kappa
    e^{-kappa t}; dephasing sqrt(gamma) sz with the drive on: E -> omega0/2 (steady state I/2)."""
    kappa, times = 0.7, np.linspace(0.0, 6.0, 13)
    excited = np.diag([1.0, 0.0]).astype(complex)
    s = ref.open_series(two_level(jumps=[np.sqrt(kappa) * SM]), excited, 0.0, CONSTANT, times)
    np.testing.assert_allclose(s.energy, np.exp(-kappa * times) - 1.0, rtol=0, atol=1e-13)
    np.testing.assert_allclose(s.power, -kappa * np.exp(-kappa * times), rtol=0, atol=1e-13)
    dephased = two_level(jumps=[np.sqrt(0.5) * SZ])
    s = ref.open_series(dephased, np.outer(GROUND, GROUND), 1.0, CONSTANT, [0.0, 200.0])
    assert s.energy[-1] == pytest.approx(0.5, abs=1e-12)
    assert abs(s.power[-1]) < 1e-12 and abs(s.capacitance[-1]) < 1e-10


def random_system(dim=6, n_jumps=2, seed=0, big=False):
    """Random dense H_B, H_aux, V and jump operators (seeded)."""
    rng = np.random.default_rng(seed)

    def herm():
        a = rng.standard_normal((dim, dim)) + 1j * rng.standard_normal((dim, dim))
        return 0.5 * (a + a.conj().T)

    jumps = [0.3 * (rng.standard_normal((dim, dim)) + 1j * rng.standard_normal((dim, dim))) for _ in range(n_jumps)]
    return ref.System.from_matrices(herm(), herm(), H_aux=0.3 * herm(), jumps=jumps)


def random_mixture(dim=6, seed=1):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((dim, 2)) + 1j * rng.standard_normal((dim, 2)))
    return q, np.array([0.7, 0.3])


ON_OFF = ref.Envelope(lambda t: 1.0 if t < 1.1 else (0.0 if t < 1.9 else -0.5), breakpoints=(1.1, 1.9))
SMOOTH = ref.Envelope(lambda t: np.sin(np.pi * t / 2.0) ** 2 if t < 2.0 else 0.0, breakpoints=(2.0,),
                      piecewise_constant=False)


def _closed(system, lam, envelope, times):
    psi, w = random_mixture(system.dim)
    return ref.closed_series(system, psi, w, lam, envelope, times)


def _open(system, lam, envelope, times):
    psi, w = random_mixture(system.dim)
    return ref.open_series(system, (psi * w) @ psi.conj().T, lam, envelope, times)


@pytest.mark.parametrize("run", [_closed, _open])
@pytest.mark.parametrize("envelope", [ON_OFF, SMOOTH], ids=["piecewise", "smooth"])
def test_capacitance_and_power_are_derivatives_of_the_energy(run, envelope):
    """C_Q = dE/dlambda and P = dE/dt, by central differences of the oracle's own E."""
    times = np.linspace(0.0, 2.6, 14)
    system = random_system(n_jumps=2 if run is _open else 0)
    lam, h = 0.6, 1e-4
    s = run(system, lam, envelope, times)
    c_fd = (run(system, lam + h, envelope, times).energy - run(system, lam - h, envelope, times).energy) / (2 * h)
    np.testing.assert_allclose(s.capacitance, c_fd, rtol=0, atol=1e-7 * np.max(np.abs(s.capacitance)))
    dt = 1e-4
    for k, t in enumerate(times[1:-1], start=1):
        if min(abs(t - b) for b in envelope.breakpoints) < 10 * dt:
            continue
        p_fd = (s.evaluate(k, t + dt)[0] - s.evaluate(k, t - dt)[0]) / (2 * dt)
        assert s.power[k] == pytest.approx(p_fd, abs=1e-7 * np.max(np.abs(s.power)))
        assert s.evaluate(k, t) == pytest.approx((s.energy[k], s.power[k], s.capacitance[k]), abs=1e-12)


def test_eigen_tangent_equals_expm_frechet():
    """The closed step's d exp(-i dt H)/d lambda (Daleckii-Krein) equals scipy's Frechet derivative."""
    system = random_system(dim=7, n_jumps=0, seed=3)
    lam, f, dt = 0.8, 0.7, 0.9
    H = system.hamiltonian(lam, f)
    u, du = expm_frechet(-1j * dt * H, -1j * dt * f * system.V)
    psi, _ = random_mixture(7)
    phi = np.zeros_like(psi)
    y = ref._ClosedStep(system, lam)(np.concatenate([psi, phi]), f, dt)
    np.testing.assert_allclose(y[:7], u @ psi, rtol=0, atol=1e-13)
    np.testing.assert_allclose(y[7:], du @ psi, rtol=0, atol=1e-13)


def test_dense_and_sparse_paths_agree(monkeypatch):
    system = random_system(dim=5, n_jumps=2, seed=4)
    times = np.linspace(0.0, 2.6, 9)
    dense = _open(system, 0.6, ON_OFF, times), _closed(ref.System(system.H_B, system.H0, system.V), 0.6, ON_OFF,
                                                       times)
    monkeypatch.setattr(ref, "OPEN_DENSE_MAX", 0)
    monkeypatch.setattr(ref, "CLOSED_DENSE_MAX", 0)
    sparse = _open(system, 0.6, ON_OFF, times), _closed(ref.System(system.H_B, system.H0, system.V), 0.6, ON_OFF,
                                                        times)
    for a, b in zip(dense, sparse):
        _close(a, (b.energy, b.power, b.capacitance), 1e-11)


def test_piecewise_exponentials_equal_dop853():
    """The same on-off envelope propagated exactly and by DOP853 (restarted at its breakpoints)."""
    times = np.linspace(0.0, 2.6, 9)
    as_ode = ref.Envelope(ON_OFF.value, ON_OFF.breakpoints, piecewise_constant=False)
    for run, system in ((_closed, random_system(n_jumps=0)), (_open, random_system())):
        a, b = run(system, 0.6, ON_OFF, times), run(system, 0.6, as_ode, times)
        _close(a, (b.energy, b.power, b.capacitance), 1e-9)


def test_density_matrix_without_jumps_equals_state_vectors():
    system = random_system(n_jumps=0)
    times = np.linspace(0.0, 2.6, 9)
    a, b = _closed(system, 0.6, ON_OFF, times), _open(system, 0.6, ON_OFF, times)
    _close(a, (b.energy, b.power, b.capacitance), 1e-12)
    assert a.e0 == pytest.approx(b.e0, abs=1e-13)


def test_superoperator_is_the_matrix_form_lindbladian():
    system = random_system(dim=4, n_jumps=3, seed=5)
    rho = random_mixture(4)[0] @ random_mixture(4)[0].conj().T
    L0, LV = ref.superoperator_parts(system)
    got = ((L0 + 0.6 * 0.7 * LV) @ rho.reshape(-1, order="F")).reshape(4, 4, order="F")
    np.testing.assert_allclose(got, ref.lindblad_rhs(system, system.hamiltonian(0.6, 0.7), rho), atol=1e-13)
    step = expm(0.3 * (L0 + 0.6 * LV).toarray()) @ rho.reshape(-1, order="F")
    assert np.trace(step.reshape(4, 4, order="F")) == pytest.approx(np.trace(rho), abs=1e-13)  # trace kept
