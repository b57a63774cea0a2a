"""Process policy, applied by explicit calls only (importing the package changes nothing).

* :func:`apply_process_policy` — OpenMP threads that wait sleep instead of spinning
  (``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it). Must run before
  QuSpin's OpenMP runtime starts; the ``cqc`` command calls it first thing. On a loaded
  machine spinning threads slow small runs down by an order of magnitude.
* :func:`thread_limit` — one OpenMP/BLAS thread for small problems, where threads cost more
  than they save (Numba's trajectory threads are not affected).
"""

from __future__ import annotations

import contextlib
import os

__all__ = ["apply_process_policy", "thread_limit", "THREADS_MIN_SIZE"]

THREADS_MIN_SIZE = 1 << 15  # problems smaller than this (vector length) run with one OpenMP/BLAS thread


def apply_process_policy() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it (call before QuSpin loads)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def thread_limit(size: int):
    """A context that runs a problem of `size` (state length) with one thread if it is small."""
    if size >= THREADS_MIN_SIZE:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(1)
