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
