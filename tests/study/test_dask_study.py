"""Studies on a real Dask LocalCluster (2 worker processes, loopback): same table as in-process,
and a worker killed mid-study loses and duplicates nothing."""

import os
import signal
import threading
import time

import pytest

pytest.importorskip("distributed")

from collective_qc.study import Study  # noqa: E402

CONFIG = {
    "study": {"name": "dask-check", "model": "ising-chain", "sizes": [2, 3, 4, 5, 6], "drive": 0.5, "seed": 3},
    "params": {"J": [0.1, 0.3]},
    "run": {"t_max": 6, "n_times": 61, "method": "trajectories", "dephasing": 0.05, "ntraj": 48},
}


@pytest.fixture(scope="module")
def client():
    from collective_qc.parallel import open_client

    with open_client(workers=2) as c:
        yield c


def _table(d):
    with open(os.path.join(d, "table.csv"), "rb") as fh:
        return fh.read()


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_study_on_cluster_equals_in_process(tmp_path, client):
    Study(CONFIG, tmp_path / "local").run()
    Study(CONFIG, tmp_path / "dask").run(executor=client)
    assert _table(tmp_path / "local") == _table(tmp_path / "dask")


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_worker_killed_mid_study_loses_nothing(tmp_path, client):
    cfg = {**CONFIG, "study": {**CONFIG["study"], "name": "dask-kill"},
           "run": {**CONFIG["run"], "ntraj": 160}}
    out = tmp_path / "killed"
    pids = list(client.run(os.getpid).values())
    killed = []

    def killer():
        points = out / "points"
        t0 = time.time()
        while time.time() - t0 < 120:
            if points.exists() and any(p.suffix == ".json" for p in points.iterdir()):
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
                return
            time.sleep(0.05)

    th = threading.Thread(target=killer)
    th.start()
    study = Study(cfg, out)
    rows = study.run(executor=client)
    th.join()
    assert killed, "no worker was killed"
    n_points = len(study.points)
    files = sorted(p.name for p in (out / "points").iterdir() if p.suffix == ".json")
    assert len(files) == len(set(files)) == n_points
    assert study.computed == n_points  # every point computed exactly once and persisted
    Study(cfg, tmp_path / "reference").run()
    assert _table(out) == _table(tmp_path / "reference")
    assert len(rows) == n_points
