"""Benchmark (on request): closed collective Dicke battery (Ferraro et al. 2018 setup).

N photons, all spins down, lambda = 0.5 omega_c, 101 times to t = 0.5 (about 3.7 tau_c at
N = 200), automatic Fock cutoff (doubled until the two top levels hold < 1e-6, so the
time includes the convergence check). Reports wall time per N and the ratio to the N = 20
reference run in the same process.
Usage: python benchmarks/dicke_collective.py [--sizes 20,50,100,200]
"""

from __future__ import annotations

import argparse
import time

import collective_qc as cqc


def run(n: int):
    t0 = time.perf_counter()
    r = cqc.charge("dicke", drive=0.5, t_max=0.5, n_times=101, params={"N": n})
    return time.perf_counter() - t0, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="20,50,100,200")
    args = ap.parse_args()
    ref, _ = run(20)
    print(f"{'N':>5} {'dim':>8} {'n_max':>6} {'wall_s':>8} {'x ref':>7} {'tau_c':>9} {'max E/t':>10}")
    for n in map(int, args.sizes.split(",")):
        wall, r = run(n)
        cut = r.metadata["cutoff"]["cavity"]
        print(f"{n:5d} {r.metadata['dim']:8d} {cut['n_max']:6d} {wall:8.2f} {wall / ref:7.1f} "
              f"{r.tau_c:9.5f} {r.average_power_max:10.4f}", flush=True)


if __name__ == "__main__":
    main()
