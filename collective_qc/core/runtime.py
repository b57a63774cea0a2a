"""Process and thread policy, applied by explicit calls only (importing the package changes nothing).

Speed must not depend on what the environment says about threads (issue 22: with
``OMP_NUM_THREADS=1`` and Numba's default two threads the reference exact run took 10.5 s
instead of 0.38 s, and on a machine with one other CPU-bound process 12.2 s instead of 0.65 s).
The cause: Numba picked its OpenMP threading layer (GNU libgomp; no TBB installed) with
libgomp's default wait policy: its threads spin while they wait for the next parallel loop. The
solvers run thousands of short parallel loops (one per operator application), so each loop's end
waited for a thread that had been descheduled by a spinning one. The policy, in one place:

* :func:`choose_threading_layer` — Numba's OpenMP layer with sleeping waits
  (``OMP_WAIT_POLICY=PASSIVE``, set before Numba loads OpenMP), or its ``workqueue`` layer
  (pthreads that sleep on a condition variable) where the policy cannot be guaranteed (OpenMP
  loaded earlier, another wait policy in the environment); an explicit
  ``NUMBA_THREADING_LAYER`` wins. Measured on the shared 2-core machine (reference exact run,
  load about 2): OpenMP spinning (the old default) 2.2-2.7 s, OpenMP passive 0.72-0.99 s,
  workqueue 0.85-1.39 s; beside a busy loop 1.26 s, 1.38 s and 1.18 s with one thread.
* :func:`numba_threads` — the Numba thread count of a run: the usable cores (CPU affinity)
  shared among the local workers, at most ``NUMBA_NUM_THREADS``, one for problems too small
  to gain.
* :func:`run_policy` — the context every run executes in (:func:`collective_qc.charge`, hence
  the CLI, compare, studies and Dask workers): the two above, one OpenMP/BLAS thread for small
  problems (:func:`thread_limit`), and runs from several Python threads of one process one at a
  time (the ``workqueue`` layer refuses concurrent parallel loops).
* :func:`setup_policy` — the set-up of a run (ground state, operators) with one BLAS/LAPACK
  thread, so that its bits, hence the run's, are the same for any thread or worker count.
* :func:`compile_notice` — one line, "compiling kernels (first run; cached afterwards)", when
  Numba actually compiles a kernel of this package during a run (a cache miss; loading cached
  code says nothing): through the run's progress reporter, else as a :class:`CompileNotice`
  warning.
* :func:`apply_process_policy` — OpenMP threads that wait sleep instead of spinning
  (``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it), for QuSpin's own
  OpenMP runtime; it reads the variable when QuSpin loads (the ``cqc`` command calls this first
  thing, :func:`setup_policy` before each run).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
import threading

__all__ = ["apply_process_policy", "thread_limit", "THREADS_MIN_SIZE", "choose_threading_layer",
           "usable_cores", "numba_threads", "run_policy", "setup_policy", "THREADING_LAYER",
           "LOCAL_WORKERS_ENV", "compile_notice", "COMPILE_NOTE", "CompileNotice"]

THREADS_MIN_SIZE = 1 << 15  # problems smaller than this (vector length) run with one OpenMP/BLAS thread
NUMBA_MIN_SIZE = 1 << 10  # problems smaller than this (parallel work items x length) run one Numba thread
THREADING_LAYER = "workqueue"  # Numba's layer where OpenMP with sleeping waits cannot be guaranteed
LOCAL_WORKERS_ENV = "CQC_LOCAL_WORKERS"  # set by parallel.open_client in its worker processes

COMPILE_NOTE = "compiling kernels (first run; cached afterwards)"

_RUN_LOCK = threading.RLock()  # one run at a time per process (workqueue: no concurrent parallel loops)


def apply_process_policy() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it (call before QuSpin loads)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def thread_limit(size: int):
    """A context that runs a problem of `size` (state length) with one OpenMP/BLAS thread if it is small."""
    if size >= THREADS_MIN_SIZE:
        return contextlib.nullcontext()
    return one_thread()


@functools.lru_cache(maxsize=1)
def _controller(n_modules: int):
    """The thread pools of the loaded libraries, found once per set of imported modules (a scan of
    the process's libraries costs ~5 ms; an ensemble run of 100 small realisations paid 2 s)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()


def one_thread():
    """A context with one BLAS/LAPACK/OpenMP thread in every loaded pool (threadpoolctl)."""
    return _controller(len(sys.modules)).limit(limits=1)


def setup_policy():
    """The context of a run's set-up (ground state, operators): QuSpin's OpenMP threads told to
    sleep while they wait (:func:`apply_process_policy`, before QuSpin loads) and one
    BLAS/LAPACK/OpenMP thread, so that the set-up's bits do not depend on the thread count
    (threaded BLAS sums in another order: a closed run in a single-threaded Dask worker differed
    in the last digits from the same run in-process)."""
    apply_process_policy()
    return one_thread()


def choose_threading_layer() -> str:
    """Select Numba's threading layer before its threads start; returns the layer's name.

    ``omp`` with sleeping waits (``OMP_WAIT_POLICY=PASSIVE``, set here before Numba loads GNU
    OpenMP) where that can be guaranteed; ``workqueue`` (plain pthreads that always sleep while
    they wait) where it cannot: OpenMP already loaded in this process (it read its policy
    then), a wait policy other than PASSIVE in the environment, or no OpenMP layer. An explicit
    ``NUMBA_THREADING_LAYER`` wins; once Numba's threads run the running layer is returned.
    """
    from numba.core import config
    from numba.np.ufunc import parallel

    if getattr(parallel, "_is_initialized", False):
        import numba

        return numba.threading_layer()
    if os.environ.get("NUMBA_THREADING_LAYER"):
        return str(config.THREADING_LAYER)
    apply_process_policy()
    config.THREADING_LAYER = "omp" if _passive_openmp_possible() else THREADING_LAYER
    return str(config.THREADING_LAYER)


def _passive_openmp_possible() -> bool:
    """True when Numba's OpenMP layer will load GNU OpenMP now, with OMP_WAIT_POLICY=PASSIVE."""
    if os.environ.get("OMP_WAIT_POLICY", "").strip().upper() != "PASSIVE":
        return False
    try:
        with open("/proc/self/maps") as fh:  # a libgomp.so.1 loaded earlier has read its policy already
            if any("/libgomp.so" in line for line in fh):
                return False
    except OSError:  # not Linux: no GNU OpenMP to rely on
        return False
    try:
        from numba.np.ufunc import omppool  # noqa: F401  (loads libgomp, with the policy set)
    except ImportError:
        return False
    return True


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity mask; ``os.cpu_count()`` where unknown)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def numba_threads(work: int) -> int:
    """Numba threads for a run with `work` parallel items (state length x independent members).

    One below ``NUMBA_MIN_SIZE``; else the usable cores divided among the local Dask workers of
    this machine (``CQC_LOCAL_WORKERS``, set by :func:`collective_qc.parallel.open_client`), at
    most ``NUMBA_NUM_THREADS`` (the threads Numba starts; an explicit 1 is kept).
    """
    from numba.core import config

    if work < NUMBA_MIN_SIZE:
        return 1
    try:
        workers = max(1, int(os.environ.get(LOCAL_WORKERS_ENV, "1")))
    except ValueError:
        workers = 1
    return max(1, min(int(config.NUMBA_NUM_THREADS), usable_cores() // workers))


@contextlib.contextmanager
def run_policy(size: int, work: int | None = None):
    """The thread policy of one run (see the module docstring).

    Parameters
    ----------
    size : int
        Length of the propagated state (dim, or dim^2 for a density matrix); decides the
        OpenMP/BLAS threads.
    work : int, optional
        Parallel work items of the Numba kernels (default `size`; trajectory runs pass
        trajectories x dim).
    """
    import numba

    apply_process_policy()
    choose_threading_layer()
    with _RUN_LOCK:
        before = numba.get_num_threads()
        numba.set_num_threads(min(numba_threads(size if work is None else work), int(numba.config.NUMBA_NUM_THREADS)))
        try:
            with thread_limit(size):
                yield
        finally:
            numba.set_num_threads(before)


class CompileNotice(UserWarning):
    """Numba compiles this package's kernels (a cold cache: tens of seconds, once)."""


_PACKAGE = __name__.split(".")[0] + "."  # kernels of this package, any layer


@contextlib.contextmanager
def compile_notice(progress=None):
    """Within the block, say :data:`COMPILE_NOTE` once when Numba starts compiling a kernel of this
    package (``progress.note`` when the reporter has one, else a :class:`CompileNotice` warning).

    Numba's ``numba:compile`` event fires on a cache miss only, before the compilation: the line
    comes when the wait begins, and never for kernels loaded from the on-disk cache.
    """
    from numba.core import event

    said = []

    class _Listener(event.Listener):
        def on_start(self, ev):
            func = getattr(ev.data.get("dispatcher"), "py_func", None)
            if said or not getattr(func, "__module__", "").startswith(_PACKAGE):
                return
            said.append(True)
            if hasattr(progress, "note"):
                progress.note(COMPILE_NOTE)
            else:
                import warnings

                warnings.warn(COMPILE_NOTE, CompileNotice, stacklevel=2)

        def on_end(self, ev):
            pass

    with event.install_listener("numba:compile", _Listener()):
        yield
