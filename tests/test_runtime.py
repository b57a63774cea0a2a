"""Importing the package leaves the process environment alone; the policy is an explicit call."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import os
before = dict(os.environ)
import collective_qc, collective_qc.cli, collective_qc.api, collective_qc.study, collective_qc.solvers.trajectories
import collective_qc.models
collective_qc.model_names()
assert dict(os.environ) == before, sorted(set(os.environ.items()) ^ set(before.items()))
from collective_qc.runtime import apply_process_policy
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
