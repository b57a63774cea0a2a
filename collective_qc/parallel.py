"""Dask distributed: a client for a local cluster or any scheduler address, with warm workers.

The default everywhere is in-process work (Numba threads). With ``workers=N`` a
``distributed.LocalCluster`` of N worker processes (one task at a time each) is started, their
Numba/OpenMP threads the usable cores divided by N (:func:`worker_environment`; never more
threads than cores); with
``scheduler=ADDRESS`` an existing cluster is used (e.g. one started by dask-jobqueue on
SLURM/PBS). Work sent to workers is keyed by seeds derived from (point, trajectory index)
only, so results are bitwise identical to in-process runs.

Each worker compiles (or loads from the on-disk Numba cache) the trajectory kernel once,
when the client is opened (:func:`warm_workers`), not per task.
"""

from __future__ import annotations

import contextlib

from .core.errors import InputError
from .core.validate import workers as check_workers

__all__ = ["open_client", "warm_workers", "parse_address", "check_reachable", "worker_environment"]

CONNECT_TIMEOUT_S = 5  # a scheduler that does not answer within this many seconds is reported unreachable
_SCHEMES = ("tcp", "tls", "ws", "wss")
DEFAULT_PORT = 8786  # Dask's scheduler port


def parse_address(address) -> tuple[str, int]:
    """(host, port) of a scheduler address ``[tcp|tls|ws|wss://]host[:port]`` (Dask's default port 8786);
    malformed -> InputError."""
    import re

    if isinstance(address, str) and address.startswith("inproc://"):  # a cluster inside this process
        return "", 0
    if not isinstance(address, str):
        raise InputError(f"scheduler address must be a string like tcp://host:8786, got {address!r}")
    m = re.fullmatch(r"(?:(\w+)://)?(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+)(?::(\d{1,5}))?/?", address.strip())
    if not m or (m.group(1) or "tcp") not in _SCHEMES or not 0 < int(m.group(3) or DEFAULT_PORT) < 65536:
        raise InputError(f"scheduler address {address!r} is malformed (expected tcp://host:port, e.g. "
                         "tcp://127.0.0.1:8786)")
    return m.group(2).strip("[]"), int(m.group(3) or DEFAULT_PORT)


def check_reachable(address: str, host: str, port: int, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """A Dask scheduler answers at `address` within `timeout` seconds, else InputError.

    First a TCP connection (nothing listening: refused at once), then Dask's handshake and an
    ``identity`` request, all bounded by `timeout` (a port held by something else than a Dask
    scheduler would otherwise keep the client waiting without end).
    """
    import socket

    if not host:  # inproc://
        return
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        why = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or type(exc).__name__)
        raise InputError(f"scheduler {address!r}: cannot connect to {host}:{port} ({why}); is a Dask scheduler "
                         "running there?") from None
    answer = _identity(address, timeout)
    if not (isinstance(answer, dict) and answer.get("type") == "Scheduler"):
        raise InputError(f"scheduler {address!r}: something listens at {host}:{port} but no Dask scheduler "
                         f"answered within {timeout:g} s")


def _identity(address: str, timeout: float):
    """The scheduler's reply to ``identity`` (None on any failure), in a thread of its own with its
    own event loop; gives up after `timeout` seconds."""
    import asyncio
    import threading

    result = {}

    async def ask():
        from distributed.comm import connect

        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        try:
            await asyncio.wait_for(comm.write({"op": "identity", "reply": True}), timeout)
            return await asyncio.wait_for(comm.read(), timeout)
        finally:
            comm.abort()

    def run():
        try:
            result["answer"] = asyncio.run(asyncio.wait_for(ask(), timeout))
        except BaseException:  # noqa: BLE001 - any failure means: no scheduler answered
            result["answer"] = None

    worker = threading.Thread(target=run, daemon=True, name="cqc-scheduler-probe")
    worker.start()
    worker.join(timeout + 1.0)
    return result.get("answer")


def worker_environment(workers: int, cores: int | None = None) -> dict:
    """Environment of the local worker processes: the usable cores shared among `workers` (at
    least one thread each), so that the workers together never run more threads than cores;
    each worker's runs apply the same share (:func:`collective_qc.core.runtime.numba_threads`)."""
    from .core.runtime import LOCAL_WORKERS_ENV, usable_cores

    threads = str(max(1, (usable_cores() if cores is None else cores) // workers))
    return {"NUMBA_NUM_THREADS": threads, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
            "OMP_WAIT_POLICY": "PASSIVE", LOCAL_WORKERS_ENV: str(workers)}


def _warm() -> str:
    """Compile / load the Numba trajectory kernels on this process with a tiny trajectory run."""
    from .api import charge

    charge("two-level", 0.1, t_max=0.2, n_times=3, method="trajectories", dephasing=0.1, relaxation=0.1,
           ntraj=2, seed=0)
    return "warm"


def ship_plugins(client) -> None:
    """Load this process's plug-in models (``--plugin FILE``, :func:`collective_qc.load_plugin`) on
    every worker of `client` before any task runs; a worker that cannot load one ends the run with
    a one-line InputError naming the plug-in. Installed plug-ins (entry points) load on the workers
    by themselves."""
    from .physics.registry import PLUGIN_SOURCES

    if not PLUGIN_SOURCES:
        return
    from .worker_plugin import PluginShipper  # imports distributed

    try:
        client.register_plugin(PluginShipper(PLUGIN_SOURCES))
    except Exception as exc:  # noqa: BLE001 - any failure on a worker: one line naming the plug-ins
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"plug-in {', '.join(map(repr, PLUGIN_SOURCES))} could not be loaded on the Dask "
                         f"workers: {msg}") from None


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
        Start a local cluster with this many worker processes (>= 1), each one task at a time
        with (usable cores) // workers threads.

    Raises
    ------
    InputError
        A malformed address, a scheduler that cannot be reached within ``CONNECT_TIMEOUT_S``
        seconds, or a bad number of workers; checked before any work.
    """
    if scheduler is None and workers is None:
        yield None
        return
    if scheduler is not None and workers is not None:
        raise InputError("give either a scheduler address or a number of local workers, not both")
    import importlib.util

    if importlib.util.find_spec("distributed") is None:  # pragma: no cover
        raise InputError("Dask distributed is not installed (pip install 'dask[distributed]')")
    if scheduler is not None:
        check_reachable(scheduler, *parse_address(scheduler))  # before importing Dask (seconds on a busy machine)
    else:
        workers = check_workers(workers, "workers")  # an integer in [1, MAX_WORKERS] whose processes fit
    from distributed import Client, LocalCluster

    if scheduler is not None:
        try:
            client = Client(scheduler, timeout=f"{CONNECT_TIMEOUT_S}s")
        except (OSError, TimeoutError) as exc:
            raise InputError(f"scheduler {scheduler!r}: no Dask scheduler answered within {CONNECT_TIMEOUT_S} s "
                             f"({type(exc).__name__})") from None
        cluster = None
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, host="127.0.0.1", env=worker_environment(workers))
        client = Client(cluster)
    try:
        ship_plugins(client)
        warm_workers(client)
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
