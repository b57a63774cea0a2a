"""Two-level capacitor: numerical solver against the paper's closed forms (Eqs. 10-27)."""

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.analysis import two_level as bl


@pytest.mark.parametrize("drive", [0.02, 0.3, 1.0, 20.0])
def test_closed_solver_matches_closed_forms(drive):
    t_max = 6 * np.pi / bl.rabi_frequency(drive)
    res = cqc.charge("two-level", drive=drive, t_max=t_max, n_times=301)
    t = res.times
    scale_e = bl.energy_max(drive)
    np.testing.assert_allclose(res.energy, bl.energy(t, drive), rtol=0, atol=1e-8 * scale_e)
    np.testing.assert_allclose(res.power, bl.power(t, drive), rtol=0, atol=1e-8 * bl.power_max(drive))
    c = bl.capacitance(t, drive)
    np.testing.assert_allclose(res.capacitance, c, rtol=0, atol=1e-8 * np.max(np.abs(c)))
    assert res.tau_c == pytest.approx(bl.charging_time(drive), rel=1e-6)
    assert res.capacitance_at_tau_c == pytest.approx(bl.capacitance_at_tau_c(drive), rel=1e-6)
    assert res.energy_max == pytest.approx(bl.energy_max(drive), rel=1e-6)
    assert res.power_max == pytest.approx(bl.power_max(drive), rel=5e-3)  # sampled max, 100 points/period


def test_capacitance_is_derivative_of_energy():
    t = np.linspace(0, 10, 50)
    h = 1e-5
    fd = (bl.energy(t, 0.4 + h) - bl.energy(t, 0.4 - h)) / (2 * h)
    np.testing.assert_allclose(bl.capacitance(t, 0.4), fd, atol=1e-8)
    # C_Q* is dE_max/dOmega
    fd = (bl.energy_max(0.4 + h) - bl.energy_max(0.4 - h)) / (2 * h)
    assert bl.capacitance_at_tau_c(0.4) == pytest.approx(fd, rel=1e-8)


def test_weak_drive_limits():
    t = np.linspace(0, 20, 101)
    om = 1e-3
    # relative corrections are O(om^2 t)
    np.testing.assert_allclose(bl.energy(t, om), bl.weak_drive_energy(t, om), rtol=0, atol=1e-4 * 4 * om**2)
    np.testing.assert_allclose(bl.capacitance(t, om), bl.weak_drive_capacitance(t, om), atol=1e-4 * 8 * om)
    assert bl.charging_time(om) == pytest.approx(bl.weak_drive_charging_time(om), rel=1e-5)
    assert bl.rabi_frequency(om) == pytest.approx(bl.weak_drive_rabi_frequency(om), rel=1e-5)


def test_strong_drive_limit():
    om = 1e3
    assert bl.charging_time(om) == pytest.approx(bl.strong_drive_charging_time(om), rel=1e-6)


def test_max_average_power_closed_form():
    t = np.linspace(1e-6, 20, 200001)
    assert np.max(bl.energy(t, 0.5) / t) == pytest.approx(bl.max_average_power(0.5), rel=1e-8)


def test_steady_state_formula_dephasing_limit():
    assert bl.steady_state_energy(0.5, gamma=0.1, kappa=0.0) == 0.5
    # relaxation only, weak drive: nearly empty
    assert bl.steady_state_energy(1e-4, gamma=0.0, kappa=1.0) < 1e-7
