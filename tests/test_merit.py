"""Figures of merit from sampled curves (no solver evaluator: the trajectory path)."""

import numpy as np

from collective_qc.analysis.merit import figures_of_merit


def test_tau_c_from_sampled_power_is_fourth_order():
    """E = sin t, P = cos t sampled every 0.1: tau_c = pi/2 from the cubic through P."""
    t = np.linspace(0, 3, 31)
    m = figures_of_merit(t, np.sin(t), np.cos(t), np.zeros_like(t))
    assert abs(m.tau_c - np.pi / 2) < 2e-6
    assert abs(m.energy_max - 1.0) < 1e-5


def test_tau_c_ignores_noise_in_the_sampled_energy():
    """Trajectory-like data: E carries noise of 0.05 (ten times P dt), P is exact. tau_c comes
    from P alone; the cubic Hermite interpolant of noisy E put it at a sample time instead."""
    t = np.linspace(0, 3, 31)
    rng = np.random.default_rng(0)
    for _ in range(5):
        e = np.sin(t) + 0.05 * rng.standard_normal(len(t))
        m = figures_of_merit(t, e, np.cos(t), t)
        assert abs(m.tau_c - np.pi / 2) < 2e-6
        assert abs(m.capacitance_at_tau_c - m.tau_c) < 1e-12  # C = t, linear interpolation


def test_no_maximum_no_tau_c():
    t = np.linspace(0, 1, 11)
    m = figures_of_merit(t, t**2, 2 * t, t)
    assert m.tau_c is None and m.energy_max is None and m.capacitance_at_tau_c is None


def test_power_max_refined_between_samples_without_evaluator():
    """Issue 22 item 4: without an exact evaluator, P_max is the maximum of the cubic through the
    samples around the largest one (error O(dt^4)), not the largest sample (error O(dt^2))."""
    from collective_qc.analysis.merit import figures_of_merit

    t = np.linspace(0.0, 3.0, 21)  # dt = 0.15; the peak of P = sin(2t) at pi/4 lies between samples
    e, p = np.sin(t) ** 2, np.sin(2 * t)
    m = figures_of_merit(t, e, p, np.zeros_like(t))
    sampled_error = 1.0 - p.max()
    assert sampled_error > 1e-3  # the premise: the samples miss the peak
    assert abs(m.power_max - 1.0) < 2e-4 and abs(m.power_max - 1.0) < sampled_error / 10


def test_power_max_at_a_switch_off_is_the_left_limit():
    """On-off charging whose P still rises at tau: P_max = P(tau^-), found on its own smooth piece
    (the bounded search over a whole sample interval could miss the narrow piece before tau)."""
    import collective_qc as cqc

    kw = dict(params={"N": 3, "J": 0.3}, method="closed")
    for tau in (0.8, 0.8001):  # tau on a sample, and just after one (a piece 1e-4 wide)
        run = cqc.charge("xxz-chain", 0.5, protocol=f"on-off:{tau}", t_max=3, n_times=61, **kw)
        left = cqc.charge("xxz-chain", 0.5, times=np.array([0.0, tau - 1e-12]), **kw).power[-1]
        assert abs(run.power_max - left) < 1e-7, (tau, run.power_max, left)  # solver tolerance; missed: ~1e-5
