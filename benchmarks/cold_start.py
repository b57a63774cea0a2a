"""Benchmark (on request, not in CI): cold-start compile time of one run per method.

Each method runs in a fresh process with an empty temporary ``NUMBA_CACHE_DIR`` (xxz-chain N = 4,
t_max 5; dephasing 0.05 and 20 trajectories for exact / trajectories). Prints the wall time of the
run and every Numba dispatcher that compiled (``numba:compile`` events): inclusive seconds (its
callees compiled inside it included) and exclusive seconds (its own share).

Usage: python benchmarks/cold_start.py [--methods closed,exact,trajectories] [--top 25]
       (a method may name the trajectory integrator: trajectories:dopri5, trajectories:rk4)
       python benchmarks/cold_start.py --one METHOD   (the child: one run, this process)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time


def _listen():
    """Install a ``numba:compile`` listener.

    Returns
    -------
    list
        Filled with (dispatcher name, inclusive seconds, exclusive seconds) as compilations end.
    """
    from numba.core import event

    done, stack = [], []

    class _L(event.Listener):
        def on_start(self, ev):
            d = ev.data.get("dispatcher")
            f = getattr(d, "py_func", None)
            name = f"{getattr(f, '__module__', '?')}.{getattr(f, '__qualname__', d)}"
            stack.append([name, time.perf_counter(), 0.0])

        def on_end(self, ev):
            name, t0, inner = stack.pop()
            dt = time.perf_counter() - t0
            if stack:
                stack[-1][2] += dt
            done.append((name, dt, dt - inner))

    event.register("numba:compile", _L())
    return done


def one(method):
    """One cold run in this process; prints a JSON line {wall, compiles}.

    Parameters
    ----------
    method : str
        ``closed``, ``exact`` or ``trajectories[:integrator]``.
    """
    done = _listen()
    import collective_qc as cqc

    method, _, integrator = method.partition(":")
    kw = dict(params={"N": 4}, t_max=5.0, method=method)
    if integrator:
        kw["integrator"] = integrator
    if method != "closed":
        kw.update(dephasing=0.05, ntraj=20, seed=1)
    t0 = time.perf_counter()
    cqc.charge("xxz-chain", **kw)
    print(json.dumps({"wall": time.perf_counter() - t0, "compiles": done}))


def main():
    """Run each method cold in a child process and print its compile table."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--methods", default="closed,exact,trajectories")
    ap.add_argument("--one", default=None)
    ap.add_argument("--top", type=int, default=25)
    a = ap.parse_args()
    if a.one:
        return one(a.one)
    for m in a.methods.split(","):
        with tempfile.TemporaryDirectory() as cache:
            env = dict(os.environ, NUMBA_CACHE_DIR=cache)
            t0 = time.perf_counter()
            out = subprocess.run([sys.executable, __file__, "--one", m], env=env, capture_output=True, text=True,
                                 check=True).stdout
            total = time.perf_counter() - t0
        res = json.loads(out.strip().splitlines()[-1])
        comp = res["compiles"]
        print(f"{m}: process {total:.1f} s, charge() {res['wall']:.1f} s, {len(comp)} compiles, "
              f"sum exclusive {sum(c[2] for c in comp):.1f} s")
        for name, inc, exc in sorted(comp, key=lambda c: -c[2])[: a.top]:
            print(f"   {exc:7.2f} excl {inc:7.2f} incl  {name}")


if __name__ == "__main__":
    main()
