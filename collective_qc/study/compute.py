"""Computing points: the memory check of every point (before the first one runs), and the points
themselves, in-process or on any executor (e.g. a Dask client), yielded as they finish.

:func:`run_point` is a top-level function of plain data (a point dict) returning plain data, so a
``distributed.Client`` (or any object with ``submit(fn, *args)``) can run the points.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
import time

import numpy as np

from ..analysis.results import jsonable
from ..core.errors import InputError, ResourceError
from .points import ARRAYS, FIGURES

__all__ = ["run_point", "execute", "check_memory_all", "versions", "environment"]


def run_point(point: dict, progress=None) -> dict:
    """Charge one point (plain dict from ``Study.points``); returns plain data (dicts, floats, arrays).

    A realisation of a disordered point charges its realised model
    (:func:`collective_qc.study.realise.unit_model`); the drawn values go into its metadata under
    ``"disorder"`` (``{"spec", "realisation", "drawn"}``). Top-level and free of global state, so
    any executor (processes, dask workers) can run it.
    """
    from ..api import charge
    from .realise import unit_model

    d = point["definition"]
    m = unit_model(point)
    t0 = time.perf_counter()
    res = charge(m, d["drive"], **d["run"], seed=point["seed"], progress=progress)
    wall = time.perf_counter() - t0
    arrays = {k: np.asarray(getattr(res, k), dtype=float) for k in ARRAYS if getattr(res, k) is not None}
    names = sorted(res.observables)
    for k, name in enumerate(names):
        arrays[f"obs_{k}"] = np.asarray(res.observables[name])
        if res.observables_stderr is not None:
            arrays[f"obs_{k}_stderr"] = np.asarray(res.observables_stderr[name])
    scalars = {k: getattr(res, k) for k in ("n_sites", *FIGURES, "model", "params", "method", "drive")}
    metadata = dict(res.metadata)
    if d.get("disorder"):
        metadata["disorder"] = {"spec": d["disorder"], "realisation": d["realisation"], "drawn": m.drawn}
    return {"id": point["id"], "scalars": jsonable(scalars), "observables": names,
            "metadata": jsonable(metadata), "arrays": arrays, "wall_time_s": wall, "environment": environment()}


def point_memory(point: dict) -> tuple[float, str]:
    """(bytes, method) of a point's run: the estimate ``charge`` checks
    (:func:`collective_qc.planning.guard.planned`, which reads the solver table), checked against
    the memory guard (ResourceError naming the point); no graph is built for models too large to run."""
    from ..planning.guard import check_buildable, planned
    from ..planning.options import check_options, parse_quantities
    from ..solvers.solution import SolverOptions
    from .realise import clean_model, unit_model

    d = point["definition"]
    opts = check_options(d["run"])
    opts["quantities"] = parse_quantities(opts["quantities"])
    opts["solver_options"] = SolverOptions(ntraj=opts["ntraj"], seed=point["seed"], rtol=opts["tolerance"],
                                           atol=opts["tolerance"], integrator=opts["integrator"])
    where = f"point {point['id']}: "
    check_buildable(clean_model(d), opts["n_times"], where)  # before a realisation draws on the clean graph
    _, used, need = planned(unit_model(point), opts, opts["n_times"], where=where)
    return need, used


def check_memory_all(points: list[dict]) -> None:
    """Raise one ResourceError naming every point that would not fit, before any point runs."""
    refused = []
    for p in points:
        try:
            point_memory(p)
        except ResourceError as exc:
            refused.append(str(exc))
    if refused:
        more = f" (and {len(refused) - 1} more points)" if len(refused) > 1 else ""
        raise ResourceError(f"{refused[0]}{more}; nothing was computed")


def execute(todo: list[dict], executor, progress):
    """Yield ``(point, output or None, exception or None)`` as points finish."""
    if executor is None:
        for point in todo:
            try:
                yield point, run_point(point, progress=progress.inner(point["id"])), None
            except Exception as exc:  # noqa: BLE001 - reported after the other points
                yield point, None, exc
        return
    futures = {executor.submit(run_point, p): p for p in todo}
    for fut in _as_completed(list(futures)):
        try:
            yield futures[fut], fut.result(), None
        except Exception as exc:  # noqa: BLE001
            yield futures[fut], None, exc


def _as_completed(futures):
    """``concurrent.futures.as_completed`` for stdlib futures, ``distributed.as_completed`` for dask ones."""
    if all(isinstance(f, cf.Future) for f in futures):
        return cf.as_completed(futures)
    from distributed import as_completed

    return as_completed(futures)


def raise_failures(errors: list, n_todo: int) -> None:
    if errors:
        pid, exc = errors[0]
        msg = f"{len(errors)} of {n_todo} points failed (finished ones are saved); {pid}: {exc}"
        raise (InputError(msg) if isinstance(exc, InputError) else RuntimeError(msg)) from exc


def versions() -> dict:
    import numba
    import quspin
    import scipy

    from ..core.version import __version__
    return {"collective_qc": __version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "quspin": getattr(quspin, "__version__", "unknown"), "numba": numba.__version__}


def environment() -> dict:
    """Thread settings of the worker, recorded for the record: results do not depend on them
    (:mod:`collective_qc.core.runtime`; bitwise identical for any thread or worker count)."""
    return {k: os.environ.get(k) for k in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS")} | {"cpu_count": os.cpu_count()}
