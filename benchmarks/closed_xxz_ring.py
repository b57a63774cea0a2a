"""Benchmark (on request): closed XXZ ring with exact tangent C_Q, 201 times to t = 20.

Each size runs in its own subprocess (peak memory = its max RSS). Reports wall time,
peak memory and the ratio to the first size of the same process tree. With --t-max T < 20
(samples every 0.1 as in the full run), the child runs t_max = T/2 and T; the time of the
t = 20 run is extrapolated linearly from the two (set-up counted once) and printed as such.

Usage: python benchmarks/closed_xxz_ring.py [--sizes 14,16,18,20,22] [--no-symmetry]
       [--initial product|ground] [--budget 300] [--t-max 20]
Reach table (the issue's): --no-symmetry --sizes 14,16,18,20,22 and --sizes 18,20,22,24,26.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import collective_qc as cqc
n, sym, init, t_max = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3], float(sys.argv[4])
cqc.charge("xxz-ring", drive=0.5, params={"N": 4}, t_max=1, n_times=3)  # load the JIT cache
walls = []
for tm in ([0.5 * t_max] if t_max < 20 else []) + [t_max]:
    t0 = time.perf_counter()
    r = cqc.charge("xxz-ring", drive=0.5, params={"N": n}, t_max=tm, n_times=int(round(10 * tm)) + 1,
                   symmetry=sym, initial=init)
    walls.append(time.perf_counter() - t0)
dt = walls[-1]
slope = (walls[1] - walls[0]) / (0.5 * t_max) if len(walls) == 2 else 0.0
full = dt + slope * (20 - t_max) if slope > 0 else dt * 20 / t_max  # noisy machine: proportional fallback
print(json.dumps({"N": n, "wall_s": dt, "full_s": full, "dim": r.metadata["dim"],
                  "block": r.metadata["symmetry_block"],
                  "peak_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "tau_c": r.tau_c}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="14,16,18,20")
    ap.add_argument("--t-max", type=float, default=20.0, help="shorter runs, extrapolated to t = 20")
    ap.add_argument("--no-symmetry", action="store_true")
    ap.add_argument("--initial", default="product")
    ap.add_argument("--budget", type=float, default=300.0, help="stop after a size takes longer (s)")
    a = ap.parse_args()
    ref = None
    for n in [int(s) for s in a.sizes.split(",")]:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), "0" if a.no_symmetry else "1", a.initial,
                              str(a.t_max)], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"N={n}: failed: {out.stderr.strip().splitlines()[-1]}")
            break
        row = json.loads(out.stdout.strip().splitlines()[-1])
        ref = ref or row["wall_s"]
        full = row["full_s"]
        extra = f" -> t=20: {full:8.1f} s (extrapolated)" if a.t_max < 20 else ""
        print(f"N={n:3d} dim={row['dim']:>10,d} block={row['block']} t_max={a.t_max:g} wall={row['wall_s']:8.2f} s"
              f"{extra} (x{row['wall_s'] / ref:7.1f} of first) peak={row['peak_MiB']:8.0f} MiB tau_c={row['tau_c']}",
              flush=True)
        if full > a.budget:
            break


if __name__ == "__main__":
    main()
