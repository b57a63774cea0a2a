"""Quantum trajectories against the exact Lindblad solver; seeds and thread counts."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.cli import main

KW = dict(drive=0.5, params={"N": 3, "J": 0.3, "Delta": 0.5}, t_max=8, n_times=17, dephasing=0.05,
          relaxation=0.1)


@pytest.fixture(scope="module")
def pair():
    exact = cqc.charge("xxz-ring", method="exact", **KW)
    traj = cqc.charge("xxz-ring", method="trajectories", ntraj=1000, seed=7, **KW)
    return exact, traj


@pytest.mark.parametrize("qty", ["energy", "capacitance", "power"])
def test_trajectories_agree_with_exact_within_4_sigma(pair, qty):
    exact, traj = pair
    err = getattr(traj, f"{qty}_stderr")
    assert err is not None and np.all(err[1:] > 0)
    z = np.abs(getattr(traj, qty)[1:] - getattr(exact, qty)[1:]) / err[1:]
    assert np.max(z) < 4.0, z
    assert traj.metadata["trajectories"]["mean_jumps"] > 0.5  # the test exercises jumps


def test_errors_shrink_like_inverse_sqrt_ntraj(pair):
    _, traj = pair
    small = cqc.charge("xxz-ring", method="trajectories", ntraj=250, seed=7, **KW)
    ratio = np.median(small.energy_stderr[1:] / traj.energy_stderr[1:])
    assert 1.6 < ratio < 2.5  # sqrt(4) = 2


def test_same_seed_same_numbers_any_thread_count(tmp_path):
    outs = []
    for threads in ("1", "2"):
        path = tmp_path / f"t{threads}.json"
        env = {**os.environ, "NUMBA_NUM_THREADS": threads}
        args = [sys.executable, "-m", "collective_qc", "charge", "xxz-ring", "-p", "N=3", "--dephasing", "0.05",
                "--relaxation", "0.02", "--method", "trajectories", "--ntraj", "100", "--seed", "11",
                "--t-max", "5", "--n-times", "11", "--json", str(path)]
        p = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr
        d = json.loads(path.read_text())
        d["metadata"].pop("wall_time_s")
        outs.append(d)
    assert outs[0] == outs[1]
    assert outs[0]["energy_stderr"] is not None and outs[0]["method"] == "trajectories"


def test_different_seeds_differ():
    a = cqc.charge("xxz-ring", method="trajectories", ntraj=50, seed=1, **KW)
    b = cqc.charge("xxz-ring", method="trajectories", ntraj=50, seed=2, **KW)
    assert not np.array_equal(a.energy, b.energy)


@pytest.mark.parametrize("args,needle", [
    (["--ntraj", "0"], "ntraj"),
    (["--seed", "-1"], "seed"),
    (["--dephasing", "-1"], "dephasing"),
])
def test_trajectory_bad_input(args, needle, capsys):
    rc = main(["charge", "two-level", "--method", "trajectories", "--dephasing", "0.1", *args])
    assert rc == 2
    assert needle in capsys.readouterr().err


def test_trajectory_run_too_large_for_memory(capsys):
    rc = main(["charge", "xxz-ring", "-p", "N=40", "--dephasing", "0.1", "--method", "trajectories"])
    assert rc == 2
    assert "memory" in capsys.readouterr().err


def test_dephasing_only_uses_state_independent_decay_and_agrees_with_exact():
    kw = dict(drive=0.5, params={"N": 3}, t_max=6, n_times=13, dephasing=0.1)
    exact = cqc.charge("xxz-ring", method="exact", **kw)
    traj = cqc.charge("xxz-ring", method="trajectories", ntraj=1000, seed=5, **kw)
    mean_jumps = traj.metadata["trajectories"]["mean_jumps"]
    assert mean_jumps == pytest.approx(3 * 0.1 * 6, rel=0.1)  # Poisson: rate sum_i gamma (sigma_z^2 = 1) = 0.3
    for qty in ("energy", "capacitance", "power"):
        z = np.abs(getattr(traj, qty)[1:] - getattr(exact, qty)[1:]) / getattr(traj, f"{qty}_stderr")[1:]
        assert np.max(z) < 4.0, (qty, z)


def test_integrator_tolerance_changes_only_the_integration_error():
    kw = dict(params={"N": 4}, method="trajectories", dephasing=0.05, relaxation=0.02, ntraj=40, seed=3,
              t_max=8, n_times=41)
    tight = cqc.charge("xxz-chain", 0.5, tolerance=1e-10, **kw)
    loose = cqc.charge("xxz-chain", 0.5, tolerance=1e-6, **kw)
    # same seeds, same jump records: the averages differ by integration error only, far below sigma
    assert np.max(np.abs(tight.energy - loose.energy)) < 1e-3 * np.max(tight.energy_stderr[1:])
    with pytest.raises(cqc.InputError, match="tolerance"):
        cqc.charge("xxz-chain", 0.5, tolerance=0.5, **kw)


def test_jackknife_removes_the_bias_of_a_squared_mean():
    """For theta = (Tr rho A)^2 and equal groups the jackknife estimate is the unbiased one,
    xbar^2 - S^2 / G from the group means (an identity, checked on random groups)."""
    from collective_qc.solvers.trajectories import _jackknife_states

    rng = np.random.default_rng(1)
    groups, nt, dim, ntraj = 8, 3, 4, 64
    A = np.diag(rng.standard_normal(dim))
    rho_groups = np.zeros((groups, nt, dim, dim), dtype=complex)
    x = rng.standard_normal((groups, nt)) + 2.0  # per-group sums of Tr(rho_j A)
    for g in range(groups):
        for k in range(nt):
            rho_groups[g, k] = x[g, k] / np.trace(A).real * np.eye(dim)
    est, err = _jackknife_states(rho_groups, ntraj, lambda r: np.array([np.trace(r @ A).real ** 2]))
    means = x / (ntraj / groups)
    xbar = means.mean(axis=0)
    unbiased = xbar**2 - means.var(axis=0, ddof=1) / groups
    np.testing.assert_allclose(est[0], unbiased, rtol=1e-12)
    assert np.all(err[0] > 0)


@pytest.fixture(scope="module")
def quantities_pair():
    kw = dict(KW, quantities="ergotropy,coherence")
    exact = cqc.charge("xxz-ring", method="exact", **kw)
    with pytest.warns(UserWarning, match="coherence_l1: biased upwards"):
        traj = cqc.charge("xxz-ring", method="trajectories", ntraj=1000, seed=7, **kw)
    return exact, traj


def test_trajectory_ergotropy_agrees_with_exact_within_4_sigma(quantities_pair):
    exact, traj = quantities_pair
    err = traj.observables_stderr["ergotropy"][1:]
    assert np.all(err > 0)
    z = np.abs(traj.observables["ergotropy"][1:] - exact.observables["ergotropy"][1:]) / err
    assert np.max(z) < 4.0, z


def test_trajectory_coherence_carries_its_bias_note(quantities_pair):
    exact, traj = quantities_pair
    assert "biased upwards" in traj.metadata["quantities"]["notes"]["coherence"]
    assert "coherence" not in exact.metadata["quantities"]["notes"]
    # the bias is upwards, as the note says
    assert np.mean(traj.observables["coherence_l1"][1:] - exact.observables["coherence_l1"][1:]) > 0


def test_jackknife_with_fewer_trajectories_than_groups():
    """3 trajectories in 8 groups: the jackknife runs over the 3 non-empty groups (for a linear
    quantity: the mean and its standard error over the 3 samples)."""
    from collective_qc.solvers.trajectories import _jackknife_states

    rng = np.random.default_rng(2)
    x = rng.standard_normal(3) + 1.0
    rho_groups = np.zeros((8, 1, 2, 2), dtype=complex)
    rho_groups[:3, 0, 0, 0] = x
    est, err = _jackknife_states(rho_groups, 3, lambda r: np.array([r[0, 0].real]))
    np.testing.assert_allclose(est[0, 0], x.mean(), rtol=1e-12)
    np.testing.assert_allclose(err[0, 0], x.std(ddof=1) / np.sqrt(3), rtol=1e-12)
    r = cqc.charge("xxz-ring", method="trajectories", ntraj=3, seed=1, quantities="ergotropy", **KW)
    assert np.all(np.isfinite(r.observables_stderr["ergotropy"][1:]))
