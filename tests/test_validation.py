"""Validation before allocation (memory guard measured by RSS), the shared validators, and the
warnings for numbers that are not results (round-off E(t), edges without couplings)."""

import json
import os
import subprocess
import sys
import warnings

import networkx as nx
import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.core.errors import InputError, ResourceError
from collective_qc.core.validate import boolean, number, parse_size

# Runs in a fresh interpreter: imports first, then times only the refused call.
_PROBE = """
import json, sys, time
from collective_qc.cli import main
import collective_qc, collective_qc.planning.guard, collective_qc.api
kind, arg = sys.argv[1], json.loads(sys.argv[2])
t0 = time.perf_counter()
if kind == "cli":
    rc = main(arg)
else:
    try:
        collective_qc.charge(*arg[0], **arg[1])
        rc = 0
    except collective_qc.ResourceError:
        rc = 2
seconds = time.perf_counter() - t0
with open("/proc/self/status") as fh:  # VmHWM: this program's peak resident set (reset at exec)
    hwm_kb = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
print(json.dumps({"rc": rc, "seconds": seconds, "peak_rss_mb": hwm_kb / 1024}))
"""

GUARD_CASES = [
    ("cli", ["charge", "xxz-ring", "-p", "N=1e9"]),
    ("cli", ["charge", "xxz-ring", "--n-times", "1000000000"]),
    ("cli", ["compare", "xxz-chain", "--sizes", "2,1000000000"]),
    ("api", [["xxz-ring", 0.5], {"params": {"N": 10**9}}]),
    ("api", [["xxz-ring", 0.5], {"n_times": 10**9}]),
    ("api", [["dicke", 0.5], {"params": {"N": 10**9}}]),
    ("api", [["heisenberg-graph", 0.5], {"params": {"N": 10**6, "lattice": "complete"}}]),
    ("api", [["xxz-chain", 0.5], {"params": {"N": 3}, "method": "trajectories", "dephasing": 0.1,
                                   "ntraj": 10**9}]),
]


@pytest.mark.parametrize("kind,arg", GUARD_CASES, ids=[" ".join(map(str, a if k == "cli" else a[1].values()))
                                                       for k, a in GUARD_CASES])
def test_memory_guard_refuses_fast_with_small_peak_rss(kind, arg, tmp_path):
    """Refused (no hang) with a peak RSS (whole process, imports included) under 300 MB.

    The peak is the child's own VmHWM (/proc/self/status): getrusage/wait4 would also count the
    pages it shared with the (large) pytest process between fork and exec."""
    env = {**os.environ, "CQC_MEMORY_LIMIT": "64G"}
    p = subprocess.run([sys.executable, "-c", _PROBE, kind, json.dumps(arg)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    assert res["rc"] == 2
    assert res["seconds"] < 20.0, res  # hang guard; the peak RSS below is the check that nothing large was built
    assert res["peak_rss_mb"] < 300, res


def test_memory_estimate_includes_sample_arrays():
    from collective_qc.api import check_charge as plan_run

    small = plan_run("xxz-ring", params={"N": 6}, n_times=201).memory
    many = plan_run("xxz-ring", params={"N": 6}, n_times=200_001).memory
    assert many - small >= 200_000 * 8 * 3  # at least t, E, P, C ... per sample
    traj = plan_run("xxz-chain", params={"N": 3}, method="trajectories", dephasing=0.1, ntraj=1000, n_times=101)
    assert traj.memory >= 1000 * 101 * 8 * 3  # per-trajectory E, P, C samples
    # state quantities: the groups' density-matrix sums, a batch's sums and their total (measured
    # peak at N = 8, 201 samples, 4 groups: 2.6 GB with imports)
    q = plan_run("xxz-ring", params={"N": 8}, method="trajectories", dephasing=0.1, quantities="ergotropy")
    assert q.memory >= (2 * 4 + 1) * 201 * 256**2 * 16


def test_size_estimate_without_building_the_graph(monkeypatch):
    from collective_qc.models.spin_lattices import XXZRing

    def boom(self):
        raise AssertionError("graph built")

    monkeypatch.setattr(XXZRing, "graph", boom)
    est = XXZRing(N=10**9).size_estimate()
    assert est.n_sites == 10**9 and est.dim == np.inf and not est.exact
    est = cqc.get_model("square-lattice")(Lx=3, Ly=10**9).size_estimate()
    assert est.n_sites == 3 * 10**9
    with pytest.raises(ResourceError, match=r"N = 1,000,000,000"):
        cqc.charge(XXZRing(N=10**9))


def test_generic_size_estimate_is_a_lower_bound():
    """A plug-in model with only a size parameter: exact for small N (graph built), a lower bound
    (dim >= N + 1, graph cost per site) above GRAPH_SITES_LIMIT, without building the graph."""
    from collective_qc.physics.model import GRAPH_SITES_LIMIT, Model, Param

    built = []

    class Plain(Model):
        name = "plain-test"
        params = (Param("N", int, 3, "sites", "positive"),)

        def graph(self):
            built.append(self.values["N"])
            return nx.path_graph(self.values["N"])

    with pytest.warns(UserWarning, match="no coupling"):
        est = Plain(N=5).size_estimate()
    assert est.exact and est.dim == 32 and built == [5]
    big = Plain(N=GRAPH_SITES_LIMIT + 1).size_estimate()
    assert not big.exact and big.dim == GRAPH_SITES_LIMIT + 2 and built == [5]
    assert big.graph_bytes > 0


def test_dark_state_figures_are_undefined_with_warning():
    """The Heisenberg 4-ring singlet is annihilated by V = 2 S^x_total: E(t) = 0 exactly, so tau_c
    and C_Q(tau_c) are not results."""
    for model, params in [("xxz-ring", {"N": 4, "Delta": 1.0}), ("heisenberg-graph", {"N": 4, "omega": 0.0})]:
        with pytest.warns(UserWarning, match="round-off"):
            res = cqc.charge(model, 0.5, params=params, t_max=10, n_times=101)
        assert np.max(np.abs(res.energy)) < 1e-12  # independent fact: E(t) = 0 for the singlet
        assert res.tau_c is None and res.capacitance_at_tau_c is None and res.energy_max is None
        assert "round-off" in res.metadata["undefined"]
        assert "round-off" in res.summary()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = cqc.charge("xxz-ring", 0.5, params={"N": 4, "Delta": 0.5}, t_max=10, n_times=101)
    assert res.tau_c is not None and res.metadata["undefined"] is None


def test_roundoff_threshold_is_relative_to_the_energy_scale():
    from collective_qc.analysis.merit import ROUNDOFF, figures_of_merit

    t = np.linspace(0, 3, 31)
    e = 1e-6 * np.sin(t) ** 2  # a small but real E(t): maximum at pi/2
    p = 1e-6 * np.sin(2 * t)
    m = figures_of_merit(t, e, p, e, energy_scale=1.0)
    assert m.undefined is None and abs(m.tau_c - np.pi / 2) < 1e-2
    m = figures_of_merit(t, e, p, e, energy_scale=1e-6 / ROUNDOFF * 2)
    assert m.undefined is not None and m.tau_c is None


def test_edges_without_coupling_warn_once():
    g = nx.cycle_graph(4)
    with pytest.warns(UserWarning, match="no coupling") as rec:
        cqc.charge(g, 0.5, t_max=2, n_times=11)
    assert sum("no coupling" in str(w.message) for w in rec) == 1
    assert "3 more" in str(next(w.message for w in rec if "no coupling" in str(w.message)))
    nx.set_edge_attributes(g, 0.2, "J")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cqc.charge(g, 0.5, t_max=2, n_times=11)


def test_one_number_validator():
    assert number("1e9", "n", integer=True) == 10**9
    assert number(4.0, "n", integer=True) == 4 and isinstance(number(4.0, "n", integer=True), int)
    assert number(np.float32(0.5), "x") == 0.5
    for bad in [True, None, [1], "abc", float("nan"), float("inf")]:
        with pytest.raises(InputError, match="^x must be"):
            number(bad, "x")
    with pytest.raises(InputError, match="x must be an integer"):
        number(3.5, "x", integer=True)
    with pytest.raises(InputError, match=">= 2"):
        number(1, "x", minimum=2)
    for text, value in [("no", False), ("YES", True), ("off", False), (1, True), (np.bool_(False), False)]:
        assert boolean(text, "flag") is value
    for bad in ["maybe", 2, None, 0.5]:
        with pytest.raises(InputError, match="flag must be true or false"):
            boolean(bad, "flag")
    for bad in ["-1", "0", "", "1Q", "inf", "nan"]:
        with pytest.raises(InputError, match="not a positive memory size"):
            parse_size(bad)


def test_model_parameters_use_the_shared_validator():
    with pytest.raises(InputError, match="parameter 'N' of model 'xxz-ring' must be an integer"):
        cqc.charge("xxz-ring", params={"N": 4.5})
    with pytest.raises(InputError, match="parameter 'periodic' of model 'square-lattice' must be true or false"):
        cqc.charge("square-lattice", params={"periodic": "maybe"})
    with pytest.raises(InputError, match="params of model 'xxz-ring' must be a dict"):
        cqc.get_model("xxz-ring").resolve([1])


def test_graph_booleans_are_not_truthy_strings():
    from collective_qc.physics.graph import validate_graph

    g = nx.Graph()
    g.add_node(0)
    g.add_node("c", kind="boson", n_max=2, rwa="no")
    g.add_edge(0, "c")
    assert validate_graph(g).modes[0].rwa is False
    g.nodes["c"]["rwa"] = "perhaps"
    with pytest.raises(InputError, match="node 'c': attribute 'rwa' must be true or false"):
        validate_graph(g)


def test_memory_guard_refuses_huge_toml_sizes_fast(tmp_path):
    """A study whose TOML sizes ask for N = 1e9: refused before any graph is built, nothing written."""
    toml = tmp_path / "huge.toml"
    toml.write_text('[study]\nmodel = "xxz-ring"\nsizes = [4, 1000000000]\n')
    out = tmp_path / "out"
    env = {**os.environ, "CQC_MEMORY_LIMIT": "64G"}
    p = subprocess.run([sys.executable, "-c", _PROBE, "cli", json.dumps(["study", str(toml), "--out", str(out)])],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    res = json.loads(p.stdout.strip().splitlines()[-1])
    # seconds: a hang guard only; the peak RSS and nothing written are the checks
    assert res["rc"] == 2 and res["seconds"] < 20.0 and res["peak_rss_mb"] < 300, res
    assert "N1000000000" in p.stderr and not out.exists()
