"""Shared study-test helpers: configs, a CLI subprocess, directory snapshots."""

import os
import subprocess
import sys

# 40 cheap points (10 combinations x (baseline + 3 sizes)): long enough to be killed mid-sweep
RESUME_TOML = """
[study]
name = "resume"
model = "xxz-chain"
sizes = [2, 3, 4]
drive = 0.5
seed = 7
[params]
J = [0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2]
[run]
t_max = 8
n_times = 41
[plots]
timeseries = [{N = 4, J = 0.2}, {N = 2}]
"""

TRAJ_CONFIG = {
    "study": {"model": "xxz-chain", "sizes": [2, 3], "seed": 3},
    "params": {"J": [0.0, 0.2]},
    "run": {"t_max": 6, "n_times": 31, "method": "trajectories", "ntraj": 16, "dephasing": 0.05},
}
SMALL = {"study": {"model": "xxz-chain", "sizes": [2, 3]}, "params": {"J": [0.1, 0.2]},
         "run": {"t_max": 5, "n_times": 21}}
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # steadier timing on a shared 2-core machine


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "collective_qc", "study", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, **kw)


def snapshot(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d)] = (fh.read(), os.stat(p).st_mtime_ns)
    return out


def tmp_files(d):
    return [os.path.join(r, f) for r, _, fs in os.walk(d) for f in fs if f.endswith(".tmp")]


def point_files(d, ext=".json"):
    return sorted(f for f in os.listdir(os.path.join(d, "points")) if f.endswith(ext))
