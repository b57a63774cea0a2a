"""Importing the package leaves the process environment alone; the policy is an explicit call."""

from __future__ import annotations

import subprocess
import sys

import pytest

CODE = """
import os
before = dict(os.environ)
import collective_qc, collective_qc.cli, collective_qc.api, collective_qc.study, collective_qc.solvers.trajectories
import collective_qc.models
collective_qc.model_names()
assert dict(os.environ) == before, sorted(set(os.environ.items()) ^ set(before.items()))
from collective_qc.core.runtime import apply_process_policy
apply_process_policy()
assert os.environ["OMP_WAIT_POLICY"] == before.get("OMP_WAIT_POLICY", "PASSIVE")
"""


def test_import_leaves_environment_unchanged():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp"}
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


def test_explicit_setting_wins():
    env = {"PATH": "/usr/bin:/bin", "HOME": "/tmp", "OMP_WAIT_POLICY": "ACTIVE"}
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]


LAYER = """
import os, sys
if os.environ.get("PRELOAD_GOMP"):
    import ctypes
    ctypes.CDLL("libgomp.so.1")  # OpenMP loaded before the policy: its wait policy is not ours
import numba
from numba.core import config
import collective_qc as cqc
assert config.THREADING_LAYER == os.environ.get("NUMBA_THREADING_LAYER", "default")  # import chooses nothing
r = cqc.charge("xxz-chain", 0.5, params={"N": 3}, method="exact", dephasing=0.05, t_max=1, n_times=3)
print(numba.threading_layer(), os.environ.get("OMP_WAIT_POLICY", "").lower() or "unset")
"""


def _layer(extra_env):
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "NUMBA_THREADING"))} | extra_env
    out = subprocess.run([sys.executable, "-c", LAYER], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return " ".join(out.stdout.split()[:2])


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_charge_chooses_a_layer_whose_threads_sleep_whatever_omp_says():
    """Issue 22 item 11: Numba picked its OpenMP layer with libgomp's default (spinning) waits
    (10.5 s instead of 0.38 s with OMP_NUM_THREADS=1; 12.2 s against 0.65 s beside a CPU-bound
    process). charge() now selects OpenMP with OMP_WAIT_POLICY=PASSIVE, or the workqueue layer
    where that policy cannot be guaranteed."""
    assert _layer({"OMP_NUM_THREADS": "1"}) == "omp passive"
    assert _layer({}) == "omp passive"
    assert _layer({"OMP_WAIT_POLICY": "ACTIVE"}).startswith("workqueue")
    assert _layer({"PRELOAD_GOMP": "1"}).startswith("workqueue")


def test_explicit_threading_layer_wins():
    assert _layer({"NUMBA_THREADING_LAYER": "workqueue"}).startswith("workqueue")


def test_numba_threads_share_the_cores_among_local_workers(monkeypatch):
    import numba

    from collective_qc.core import runtime

    monkeypatch.setattr(runtime, "usable_cores", lambda: 8)
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 8)
    monkeypatch.delenv(runtime.LOCAL_WORKERS_ENV, raising=False)
    assert runtime.numba_threads(1 << 20) == 8
    assert runtime.numba_threads(runtime.NUMBA_MIN_SIZE - 1) == 1  # too small to gain
    monkeypatch.setenv(runtime.LOCAL_WORKERS_ENV, "3")
    assert runtime.numba_threads(1 << 20) == 2
    monkeypatch.setenv(runtime.LOCAL_WORKERS_ENV, "16")
    assert runtime.numba_threads(1 << 20) == 1
    monkeypatch.setenv(runtime.LOCAL_WORKERS_ENV, "1")
    monkeypatch.setattr(numba.config, "NUMBA_NUM_THREADS", 2)  # an explicit NUMBA_NUM_THREADS caps it
    assert runtime.numba_threads(1 << 20) == 2


def test_local_workers_never_oversubscribe_the_cores():
    from collective_qc.parallel import worker_environment

    for workers, cores, threads in [(2, 2, "1"), (1, 2, "2"), (3, 16, "5"), (4, 2, "1")]:
        env = worker_environment(workers, cores)
        assert env["NUMBA_NUM_THREADS"] == env["OMP_NUM_THREADS"] == threads
        assert int(threads) * workers <= max(cores, workers)


def test_policy_restores_the_thread_count():
    import numba

    from collective_qc.core.runtime import run_policy

    before = numba.get_num_threads()
    with run_policy(4):  # tiny: one thread inside
        assert numba.get_num_threads() == 1
    assert numba.get_num_threads() == before


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_large_ground_state_is_the_same_on_every_run():
    """Issue 22 item 5: ARPACK started from a random vector, so a ground state above the dense
    limit (and every closed run from it) differed in the last digits from run to run."""
    import numpy as np
    import scipy.sparse as sp

    from collective_qc.physics.states import DENSE_LIMIT, ground_manifold

    n = DENSE_LIMIT + 100
    rng = np.random.default_rng(1)
    off = sp.random(n, n, density=3.0 / n, random_state=rng)
    H = sp.diags(np.arange(n, dtype=float) / n) + 0.1 * (off + off.T)
    e1, v1 = ground_manifold(H)
    e2, v2 = ground_manifold(H)
    assert e1 == e2 and np.array_equal(v1, v2)
    assert np.linalg.norm(H @ v1[:, 0] - e1 * v1[:, 0]) < 1e-8  # and it is the ground state
    assert abs(e1 - np.linalg.eigvalsh(H.toarray())[0]) < 1e-9


@pytest.mark.slow
def test_exact_reference_speed_does_not_collapse_with_omp_num_threads_1():
    """The reference exact run (N = 8) with OMP_NUM_THREADS=1 within 2.5x of one Numba thread
    (benchmarks/threads.py prints the full table)."""
    import json
    import os

    code = ("import time, numpy as np, collective_qc as cqc\n"
            "run = lambda: cqc.charge('xxz-ring', 0.5, params={'N': 8, 'J': 0.3, 'Delta': 0.5}, method='exact',"
            " dephasing=0.05, relaxation=0.02, times=np.linspace(0, 20, 201))\n"
            "run(); t = []\n"
            "for _ in range(3):\n    t0 = time.perf_counter(); run(); t.append(time.perf_counter() - t0)\n"
            "print(sorted(t)[1])\n")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "NUMBA_"))}
    times = {}
    for name, extra in {"omp1": {"OMP_NUM_THREADS": "1"}, "numba1": {"NUMBA_NUM_THREADS": "1"}}.items():
        out = subprocess.run([sys.executable, "-c", code], env=base | extra, capture_output=True, text=True,
                             timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]
        times[name] = float(out.stdout.split()[-1])
    assert times["omp1"] < 2.5 * times["numba1"], json.dumps(times)


def _jitted(module: str):
    """A fresh (uncompiled) Numba function that claims to live in `module`."""
    import numba

    ns = {"__name__": module}
    exec("def probe(x):\n    return x + 1\n", ns)
    return numba.njit(ns["probe"])


class _Notes:
    def __init__(self):
        self.lines = []

    def note(self, message):
        self.lines.append(message)


def test_compile_notice_once_when_a_package_kernel_compiles():
    """Issue 22 item 12: a cold cache compiled for ~60 s with stderr empty."""
    from collective_qc.core.runtime import COMPILE_NOTE, compile_notice

    notes = _Notes()
    f, g = _jitted("collective_qc.solvers._probe"), _jitted("collective_qc.solvers._probe2")
    with compile_notice(notes):
        assert f(1) == 2 and g(1) == 2  # two compilations, one line
        assert f(2) == 3  # compiled already: nothing
    assert notes.lines == [COMPILE_NOTE]
    assert "first run; cached afterwards" in COMPILE_NOTE


def test_no_compile_notice_for_compiled_or_foreign_kernels():
    import warnings

    from collective_qc.core.runtime import CompileNotice, compile_notice

    notes = _Notes()
    f = _jitted("collective_qc.solvers._probe3")
    f(1)
    with compile_notice(notes):
        f(5)  # in memory already
        _jitted("somebody_else")(1)  # not this package's kernel
    assert notes.lines == []
    with warnings.catch_warnings(record=True) as got:  # without a reporter: a warning
        warnings.simplefilter("always")
        with compile_notice(None):
            _jitted("collective_qc.solvers._probe4")(1)
    assert [w.category for w in got] == [CompileNotice]


@pytest.mark.slow
def test_cli_says_compiling_on_a_cold_cache_only(tmp_path):
    import os

    from collective_qc.core.runtime import COMPILE_NOTE

    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    cmd = [sys.executable, "-m", "collective_qc", "charge", "xxz-chain", "-p", "N=3", "--t-max", "1",
           "--n-times", "3", "--method", "closed"]
    cold = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    warm = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert cold.returncode == warm.returncode == 0, cold.stderr + warm.stderr
    assert cold.stderr.count(COMPILE_NOTE) == 1 and COMPILE_NOTE not in warm.stderr
