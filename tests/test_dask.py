"""Dask distributed: a real LocalCluster (2 worker processes, loopback) gives bitwise the in-process results."""

import numpy as np
import pytest

import collective_qc as cqc

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    from collective_qc.parallel import open_client

    with open_client(workers=2) as c:
        yield c


def test_trajectories_on_cluster_are_bitwise_identical(client):
    kw = dict(drive=0.5, params={"N": 4}, method="trajectories", dephasing=0.05, relaxation=0.02, ntraj=90,
              t_max=4, n_times=41, seed=11)
    local = cqc.charge("xxz-chain", **kw)
    remote = cqc.charge("xxz-chain", client=client, **kw)
    for key in ("energy", "power", "capacitance", "energy_stderr", "power_stderr", "capacitance_stderr"):
        assert np.array_equal(getattr(local, key), getattr(remote, key)), key
    assert local.tau_c == remote.tau_c


def test_compare_on_cluster_matches_in_process(client):
    kw = dict(method="trajectories", dephasing=0.05, ntraj=40, t_max=4, n_times=41, seed=5)
    a = cqc.compare("ising-chain", [1, 2], 0.5, **kw)
    b = cqc.compare("ising-chain", [1, 2], 0.5, client=client, **kw)
    assert a.rows == b.rows


def test_workers_are_warm(client):
    from collective_qc.parallel import warm_workers

    assert set(warm_workers(client).values()) == {"warm"}
    assert len(client.scheduler_info()["workers"]) == 2


def test_bad_cluster_options():
    from collective_qc.parallel import open_client

    with pytest.raises(cqc.InputError, match="not both"):
        with open_client(scheduler="tcp://127.0.0.1:1", workers=2):
            pass
    with pytest.raises(cqc.InputError, match="workers"):
        with open_client(workers=-1):
            pass


def test_trajectory_state_quantities_on_cluster_are_bitwise_identical(client):
    kw = dict(drive=0.5, params={"N": 2}, method="trajectories", dephasing=0.05, relaxation=0.05, ntraj=60,
              t_max=3, n_times=7, seed=2, quantities="ergotropy")
    local = cqc.charge("xxz-chain", **kw)
    remote = cqc.charge("xxz-chain", client=client, **kw)
    assert np.array_equal(local.observables["ergotropy"], remote.observables["ergotropy"])
    assert np.array_equal(local.observables_stderr["ergotropy"], remote.observables_stderr["ergotropy"])


def _closed_point(name, params):
    import collective_qc as cqc_

    r = cqc_.charge(name, 0.5, params=params, method="closed", t_max=8, n_times=81)
    return r.energy, r.power, r.capacitance, r.capacitance_at_tau_c


def test_closed_runs_on_cluster_are_bitwise_identical(client):
    """Issue 22 item 5: a closed study in-process and with --workers 2 differed in the last digits
    (the ground state from threaded LAPACK, the series' norm from a parallel reduction)."""
    for name, params in (("xxz-chain", {"N": 8}), ("xxz-ring", {"N": 12})):
        local = _closed_point(name, params)
        remote = client.submit(_closed_point, name, params, pure=False).result()
        for a, b in zip(local, remote, strict=True):
            assert np.array_equal(a, b), name


LADDER = '''
import networkx as nx
from collective_qc import Model, Param, register_model


@register_model
class Ladder(Model):
    """Two-leg XXZ ladder of spin-1/2 sites (Pauli convention, energies in omega0)."""
    name = "ladder-dask-test"
    params = (Param("N", int, 4, "number of sites", "positive"), Param("J", float, 0.3, "exchange", unit="energy"))

    def graph(self):
        n, J = self.values["N"], self.values["J"]
        g = nx.ladder_graph(n // 2) if n > 1 else nx.empty_graph(1)
        nx.set_edge_attributes(g, J, "J")
        nx.set_edge_attributes(g, 0.5, "Delta")
        return g
'''

LADDER_STUDY = '''
[study]
name = "ladder"
model = "ladder-dask-test"
sizes = [2, 4]
drive = 0.5
[params]
J = [0.1, 0.3]
[run]
t_max = 4
n_times = 41
method = "trajectories"
dephasing = 0.05
ntraj = 32
'''


def _cqc(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "collective_qc", *args], capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_plugin_study_on_workers_matches_in_process(tmp_path):
    """Issue 23 item 6: a plug-in model file reaches the Dask workers (it failed with 'unknown model')."""
    (tmp_path / "ladder.py").write_text(LADDER)
    (tmp_path / "study.toml").write_text(LADDER_STUDY)
    runs = {}
    for name, extra in (("local", []), ("workers", ["--workers", "2"])):
        p = _cqc("--plugin", str(tmp_path / "ladder.py"), "study", str(tmp_path / "study.toml"),
                 "--out", str(tmp_path / name), *extra)
        assert p.returncode == 0, p.stderr[-2000:]
        runs[name] = (tmp_path / name / "table.csv").read_bytes()
    assert runs["local"] == runs["workers"]


def test_plugin_that_fails_on_a_worker_is_named(client, tmp_path):
    from collective_qc.core.errors import InputError
    from collective_qc.parallel import ship_plugins
    from collective_qc.physics.registry import PLUGIN_SOURCES

    path = str(tmp_path / "broken.py")
    PLUGIN_SOURCES[path] = "raise RuntimeError('no such module on this worker')\n"
    try:
        with pytest.raises(InputError, match=r"plug-in '.*broken\.py'.*could not be loaded on the Dask workers"):
            ship_plugins(client)
    finally:
        del PLUGIN_SOURCES[path]
