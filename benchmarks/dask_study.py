"""Benchmark (on request): a 16-point study in-process vs on a local Dask cluster, and the per-task overhead.

The study: ising-chain, sizes 2..8 x J in {0.1, 0.3} (14 points + 2 baselines = 16), trajectory runs
with dephasing (independent points, each a few tenths of a second to seconds). Wall times are
measured in the same process; the ratio in-process / cluster is the speed-up. The per-task overhead
is the mean round trip of 200 no-op tasks on the open cluster.
Usage: python benchmarks/dask_study.py [--workers 2] [--ntraj 200]
"""

from __future__ import annotations

import argparse
import filecmp
import os
import tempfile
import time

from collective_qc.parallel import open_client
from collective_qc.study import Study


def _noop(x):
    return x


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--ntraj", type=int, default=200)
    args = ap.parse_args()
    cfg = {
        "study": {"name": "bench", "model": "ising-chain", "sizes": [2, 3, 4, 5, 6, 7, 8], "seed": 1},
        "params": {"J": [0.1, 0.3]},
        "run": {"t_max": 8, "n_times": 81, "method": "trajectories", "dephasing": 0.05, "ntraj": args.ntraj},
    }
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        study = Study(cfg, os.path.join(tmp, "local"))
        study.run()
        t_local = time.perf_counter() - t0
        n = len(study.points)
        t0 = time.perf_counter()
        with open_client(workers=args.workers) as client:
            t_start = time.perf_counter() - t0
            t1 = time.perf_counter()
            Study(cfg, os.path.join(tmp, "dask")).run(executor=client)
            t_dask = time.perf_counter() - t1
            t1 = time.perf_counter()
            futs = [client.submit(_noop, i, pure=False) for i in range(200)]
            client.gather(futs)
            overhead = (time.perf_counter() - t1) / 200
        same = filecmp.cmp(os.path.join(tmp, "local", "table.csv"), os.path.join(tmp, "dask", "table.csv"),
                           shallow=False)
    print(f"{n}-point study, ntraj = {args.ntraj}:")
    print(f"  in-process (Numba threads)       {t_local:8.2f} s")
    print(f"  {args.workers}-worker LocalCluster           {t_dask:8.2f} s   (cluster start + warm-up {t_start:.1f} s)")
    print(f"  speed-up in-process / cluster    {t_local / t_dask:8.2f}")
    print(f"  per-task overhead (200 no-ops)   {overhead * 1e3:8.2f} ms")
    print(f"  table.csv identical              {same}")


if __name__ == "__main__":
    main()
