"""Point identity: content addresses that include the seed, order-independent seeds, Gamma = 1 for
non-interacting sites, plain picklable points."""

import concurrent.futures as cf
import copy
import pickle
import threading

import pytest
from studyutil import TRAJ_CONFIG

from collective_qc.study import Study, run_point
from collective_qc.study.points import make_point


class ReversedExecutor:
    """Runs the submitted points in reverse order on one worker thread, once all have been submitted."""

    def __init__(self, n):
        self.n, self.jobs, self.order = n, [], []

    def submit(self, fn, *args):
        fut = cf.Future()
        self.jobs.append((fut, fn, args))
        if len(self.jobs) == self.n:
            threading.Thread(target=self._work, daemon=True).start()
        return fut

    def _work(self):
        for fut, fn, args in reversed(self.jobs):
            self.order.append(args[0]["id"])
            try:
                fut.set_result(fn(*args))
            except Exception as exc:  # pragma: no cover
                fut.set_exception(exc)


def test_seeds_independent_of_execution_order(tmp_path):
    seq = Study(TRAJ_CONFIG, tmp_path / "seq")
    rows = seq.run()
    ex = ReversedExecutor(len(seq.points))
    rev = Study(TRAJ_CONFIG, tmp_path / "rev")
    rows_rev = rev.run(executor=ex)
    assert ex.order == [p["id"] for p in reversed(rev.points)]
    strip = [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows]
    assert strip == [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows_rev]
    assert (tmp_path / "seq" / "table.csv").read_bytes() == (tmp_path / "rev" / "table.csv").read_bytes()
    assert (tmp_path / "seq" / "timeseries.h5").read_bytes() == (tmp_path / "rev" / "timeseries.h5").read_bytes()
    assert rows[1]["gamma_power_stderr"] is not None and rows[1]["method"] == "trajectories"
    # a point's seed depends on the study seed and the point only, not on the other points
    more = copy.deepcopy(TRAJ_CONFIG)
    more["study"]["sizes"] = [2, 3, 5]
    more["params"]["J"] = [0.2, 0.0, 0.4]
    seeds = {p["id"]: p["seed"] for p in Study(more, tmp_path / "x").points}
    assert all(seeds[p["id"]] == p["seed"] for p in seq.points)
    assert len({p["seed"] for p in seq.points}) == len(seq.points)
    other = copy.deepcopy(TRAJ_CONFIG)
    other["study"]["seed"] = 4
    assert all(p["seed"] != q["seed"] for p, q in zip(seq.points, Study(other, tmp_path / "y").points))
    # points and results travel as plain picklable data (process pools, dask workers)
    point = pickle.loads(pickle.dumps(seq.points[1]))
    assert pickle.loads(pickle.dumps(run_point))(point)["scalars"] == pickle.loads(
        pickle.dumps(run_point(seq.points[1])))["scalars"]


def test_point_id_is_its_content_and_seed():
    base = {"model": "xxz-chain", "drive": 0.5, "params": {"J": 0.1}, "run": {"t_max": 5}}
    p = make_point(base, "N", 3, 0)
    assert p["id"].startswith("N3-") and p == make_point(copy.deepcopy(base), "N", 3, 0)
    assert make_point(base, "N", 3, 1)["id"] != p["id"]  # the seed is part of the identity
    for key, val in (("drive", 0.6), ("params", {"J": 0.2}), ("run", {"t_max": 5, "method": "exact"}),
                     ("model", "xxz-ring")):
        assert make_point({**base, key: val}, "N", 3, 0)["id"] != p["id"], key
    assert make_point(base, "N", 4, 0)["id"] != p["id"]
    assert make_point(base, "N", None, 0)["id"].startswith("base-")


def test_non_interacting_sites_have_no_advantage(tmp_path):
    cfg = {"study": {"model": "xxz-chain", "sizes": [2, 3, 4], "drive": [0.3, 0.6]},
           "params": {"J": 0.0}, "run": {"t_max": 10, "n_times": 101}}
    rows = Study(cfg, tmp_path / "free").run()
    sized = [r for r in rows if r["role"] == "size"]
    assert len(sized) == 6
    for r in sized:
        for key in ("gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy", "gamma_average_power"):
            assert r[key] == pytest.approx(1.0, abs=1e-9), (r["N"], r["drive"], key)
