"""Benchmark (on request): closed XXZ ring with exact tangent C_Q, 201 times to t = 20.

Each size runs in its own subprocess (peak memory = its max RSS). Reports wall time,
peak memory and the ratio to the N = 8 reference run of the same process tree.
Usage: python benchmarks/closed_xxz_ring.py [--sizes 8,12,14,16,18,20] [--no-symmetry]
       [--initial product|ground] [--budget 300]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = r"""
import json, resource, sys, time
import collective_qc as cqc
n, sym, init = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
t0 = time.perf_counter()
r = cqc.charge("xxz-ring", drive=0.5, params={"N": n}, t_max=20, n_times=201, symmetry=sym, initial=init)
dt = time.perf_counter() - t0
print(json.dumps({"N": n, "wall_s": dt, "dim": r.metadata["dim"], "block": r.metadata["symmetry_block"],
                  "peak_MiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "tau_c": r.tau_c}))
"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="8,12,14,16,18,20")
    ap.add_argument("--no-symmetry", action="store_true")
    ap.add_argument("--initial", default="product")
    ap.add_argument("--budget", type=float, default=300.0, help="stop after a size takes longer (s)")
    a = ap.parse_args()
    ref = None
    for n in [int(s) for s in a.sizes.split(",")]:
        out = subprocess.run([sys.executable, "-c", CHILD, str(n), "0" if a.no_symmetry else "1", a.initial],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"N={n}: failed: {out.stderr.strip().splitlines()[-1]}")
            break
        row = json.loads(out.stdout.strip().splitlines()[-1])
        ref = ref or row["wall_s"]
        print(f"N={n:3d} dim={row['dim']:>10,d} block={row['block']} wall={row['wall_s']:8.2f} s "
              f"(x{row['wall_s'] / ref:7.1f} of first) peak={row['peak_MiB']:8.0f} MiB tau_c={row['tau_c']}",
              flush=True)
        if row["wall_s"] > a.budget:
            break


if __name__ == "__main__":
    main()
