"""Dask distributed: a client for a local cluster or any scheduler address, with warm workers.

The default everywhere is in-process work (Numba threads). With ``workers=N`` a
``distributed.LocalCluster`` of N single-threaded worker processes is started; with
``scheduler=ADDRESS`` an existing cluster is used (e.g. one started by dask-jobqueue on
SLURM/PBS). Work sent to workers is keyed by seeds derived from (point, trajectory index)
only, so results are bitwise identical to in-process runs.

Each worker compiles (or loads from the on-disk Numba cache) the trajectory kernel once,
when the client is opened (:func:`warm_workers`), not per task.
"""

from __future__ import annotations

import contextlib

from .errors import InputError

__all__ = ["open_client", "warm_workers"]


def _warm() -> str:
    """Compile / load the Numba trajectory kernels on this process with a tiny trajectory run."""
    from .api import charge

    charge("two-level", 0.1, t_max=0.2, n_times=3, method="trajectories", dephasing=0.1, relaxation=0.1,
           ntraj=2, seed=0)
    return "warm"


def warm_workers(client) -> dict:
    """Run the kernel warm-up once on every worker (returns worker -> "warm")."""
    return client.run(_warm)


@contextlib.contextmanager
def open_client(scheduler: str | None = None, workers: int | None = None):
    """Yield a warm ``distributed.Client`` (or None for in-process work).

    Parameters
    ----------
    scheduler : str, optional
        Address of a running Dask scheduler (``tcp://host:8786``).
    workers : int, optional
        Start a local cluster with this many single-threaded worker processes.
    """
    if scheduler is None and not workers:
        yield None
        return
    if scheduler is not None and workers:
        raise InputError("give either a scheduler address or a number of local workers, not both")
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:  # pragma: no cover
        raise InputError("Dask distributed is not installed (pip install 'dask[distributed]')") from exc
    if scheduler is not None:
        client = Client(scheduler, timeout="30s")
        cluster = None
    else:
        if isinstance(workers, bool) or int(workers) != workers or workers < 1:
            raise InputError(f"workers must be a positive integer, got {workers!r}")
        cluster = LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1",
                               env={"NUMBA_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"})
        client = Client(cluster)
    try:
        warm_workers(client)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
