"""Fault injection: SIGKILL a study at random moments (while importing, computing points, writing
table, HDF5 or plots), resume each time, and require the final table.csv and timeseries.h5 to be
byte-identical to an uninterrupted run, no temporary file left and nothing ever reported corrupted.

The default suite runs a few kills; ``pytest -m slow`` runs the full campaign (>= 24 kills).
"""

import random
import signal
import time

import pytest
from studyutil import cli, point_files, tmp_files

TINY_TOML = """
[study]
name = "faults"
model = "xxz-chain"
sizes = [2, 3, 4]
seed = 5
[params]
J = [0.1, 0.2, 0.3, 0.4]
[run]
t_max = 6
n_times = 61
"""
N_POINTS = 16


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("faults")
    cfg = base / "tiny.toml"
    cfg.write_text(TINY_TOML)
    t0 = time.monotonic()
    p = cli(str(cfg), "--out", str(base / "ref"))
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    return cfg, base / "ref", time.monotonic() - t0


def _n_points(d):
    return len(point_files(d)) if (d / "points").is_dir() else 0


def _trigger(kind, rng, d, p, duration):
    """Wait for the moment of the kill; False if the run ended first."""
    t0 = time.monotonic()
    if kind == "random":
        target = rng.uniform(0.2, duration)
        while time.monotonic() - t0 < target and p.poll() is None:
            time.sleep(0.002)
        return p.poll() is None
    k = rng.randint(1, N_POINTS - 1) if kind == "computing" else N_POINTS
    while _n_points(d) < k and p.poll() is None and time.monotonic() - t0 < 120:
        time.sleep(0.002)
    if kind == "outputs":  # all points are on disk: now inside table / HDF5 / plots writing
        end = time.monotonic() + rng.uniform(0.0, 0.6 * duration)
        while time.monotonic() < end and p.poll() is None:
            time.sleep(0.002)
    return p.poll() is None


def _check_invariants(d, ref):
    """What a kill may leave: finished work and, if present, outputs equal to the reference."""
    for name in ("table.csv", "timeseries.h5"):
        if (d / name).exists():
            assert (d / name).read_bytes() == (ref / name).read_bytes(), name


def _campaign(tiny, tmp_path, kills_wanted, seed):
    cfg, ref, duration = tiny
    rng = random.Random(seed)
    kinds = ["random", "computing", "outputs"]
    kills, phases, episode = 0, {"computing": 0, "outputs": 0}, 0
    while kills < kills_wanted:
        episode += 1
        d = tmp_path / f"episode{episode}"
        for _ in range(rng.randint(2, 5)):  # several kills, then an uninterrupted run
            kind = kinds[kills % 3]
            p = cli(str(cfg), "--out", str(d))
            hit = _trigger(kind, rng, d, p, duration)
            p.send_signal(signal.SIGKILL)
            p.communicate()
            if hit and p.returncode == -signal.SIGKILL:
                kills += 1
                phases["outputs" if _n_points(d) == N_POINTS else "computing"] += 1
            _check_invariants(d, ref)
        p = cli(str(cfg), "--out", str(d))
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
        assert "corrupted" not in err and "16 points (" in out
        for name in ("table.csv", "timeseries.h5"):
            assert (d / name).read_bytes() == (ref / name).read_bytes(), (episode, name)
        assert not tmp_files(d), tmp_files(d)
        assert _n_points(d) == N_POINTS
    return kills, phases


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_killed_study_resumes_byte_identical(tiny, tmp_path):
    kills, phases = _campaign(tiny, tmp_path, 3, seed=1)
    assert kills >= 3


@pytest.mark.slow
def test_fault_injection_campaign(tiny, tmp_path):
    kills, phases = _campaign(tiny, tmp_path, 24, seed=2026)
    assert kills >= 24
    assert phases["computing"] >= 3 and phases["outputs"] >= 3, phases
