"""The ``graph`` charger (issue 25): V from per-site fields hx, hy, hz and per-bond couplings Jcx, Jcy, Jcz
of the graph, drawn per realisation by ``disorder`` like any other graph attribute."""

import csv
import zlib

import networkx as nx
import numpy as np
import pytest
from reference import SX, SY, SZ, evolve_energy, site_op

import collective_qc as cqc
from collective_qc.cli import main
from collective_qc.core.errors import InputError
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators

SMALL = dict(t_max=4.0, n_times=21, method="closed")


def _chain(n, omega=1.0, fields=None, bonds=None):
    """Open chain; fields: {site: {hx: .., ...}}, bonds: {attr: value} on every edge; charger 'graph'."""
    g = nx.Graph(charger="graph")
    for i in range(n):
        g.add_node(i, omega=omega, **(fields or {}).get(i, {}))
    for i in range(n - 1):
        g.add_edge(i, i + 1, **(bonds or {}))
    return g


def _dense_v(n, h, jc):
    """sum_i sum_a h[i][a] s^a_i + sum_i sum_a jc[a] s^a_i s^a_{i+1} (Pauli matrices, open chain)."""
    paulis = (SX, SY, SZ)
    v = sum(h[i][a] * site_op(paulis[a], i, n) for i in range(n) for a in range(3))
    return v + sum(jc[a] * site_op(paulis[a], i, n) @ site_op(paulis[a], i + 1, n)
                   for i in range(n - 1) for a in range(3))


def test_v_is_the_pauli_sum_of_the_graph_attributes():
    h = [[0.3, -0.2, 0.7], [-1.1, 0.4, 0.0], [0.5, 0.0, -0.6]]
    jc = [0.8, -0.3, 0.45]
    g = _chain(3, fields={i: dict(zip(("hx", "hy", "hz"), h[i])) for i in range(3)},
               bonds=dict(zip(("Jcx", "Jcy", "Jcz"), jc)))
    ops = build_operators(validate_graph(g))
    np.testing.assert_allclose(ops.V.toarray(), _dense_v(3, h, jc), atol=1e-14)
    assert ops.charger["name"] == "graph"
    np.testing.assert_allclose(ops.H_B.toarray(), sum(0.5 * site_op(SZ, i, 3) for i in range(3)), atol=1e-14)


def test_drawn_charger_runs_exactly_like_the_same_values_set_by_hand():
    ens = cqc.charge(_chain(3, bonds={"Jcx": 0.5}), 1.0, disorder="hx=uniform:2,Jcy=normal:0.3", realisations=2,
                     seed=9, **SMALL)
    rec = ens.realisations[1]
    hx, jcy = rec["drawn"]["hx"], rec["drawn"]["Jcy"]
    assert hx["targets"] == [0, 1, 2] and jcy["targets"] == [[0, 1], [1, 2]]
    g = _chain(3, fields={i: {"hx": v} for i, v in enumerate(hx["values"])}, bonds={"Jcx": 0.5})
    for (u, v), value in zip(jcy["targets"], jcy["values"]):
        g.edges[u, v]["Jcy"] = value
    by_hand = cqc.charge(g, 1.0, **SMALL)
    for fig, value in rec["figures"].items():
        assert getattr(by_hand, fig) == pytest.approx(value, rel=1e-12, abs=1e-14), fig
    # and an independent check of that realisation's E(t): dense evolution of the hand-built V
    h = [[x, 0.0, 0.0] for x in hx["values"]]
    hb = sum(0.5 * site_op(SZ, i, 3) for i in range(3))
    v = _dense_v(3, h, [0.5, 0.0, 0.0]) + sum(c * site_op(SY, i, 3) @ site_op(SY, i + 1, 3)
                                               for i, c in enumerate(jcy["values"]))
    psi0 = np.zeros(8, complex)
    psi0[-1] = 1.0  # |g g g>
    np.testing.assert_allclose(by_hand.energy, evolve_energy(hb, v, 1.0, by_hand.times, psi0), atol=1e-10)


def test_realisations_follow_seed_point_and_index():
    a = cqc.charge("xxz-chain", 1.0, params={"N": 2, "J": 0.2}, charger="graph", disorder="hx=uniform:2",
                   realisations=3, seed=4, **SMALL)
    b = cqc.charge("xxz-chain", 1.0, params={"N": 2, "J": 0.2}, charger="graph", disorder="hx=uniform:2",
                   realisations=3, seed=4, **SMALL)
    c = cqc.charge("xxz-chain", 1.0, params={"N": 2, "J": 0.2}, charger="graph", disorder="hx=uniform:2",
                   realisations=3, seed=5, **SMALL)
    assert a.realisations == b.realisations and np.array_equal(a.energy, b.energy)
    assert all(x["drawn"] != y["drawn"] for x, y in zip(a.realisations, c.realisations))
    for r, rec in enumerate(a.realisations):  # clean value 0: hx = 2 (u - 1/2), u from (seed, point 0, r, "hx")
        u = np.random.default_rng([4, 0, r, zlib.crc32(b"hx")]).random(2)
        np.testing.assert_array_equal(rec["drawn"]["hx"]["values"], 2.0 * (u - 0.5))
    assert a.metadata["charger"]["name"] == "graph"


@pytest.mark.parametrize("kwargs, key", [
    (dict(disorder="hx=uniform:1"), "graph attribute 'hx' (node 0, given or drawn by disorder) is read only by "
                                    "charger 'graph', but this run's charger is 'field'"),
    (dict(disorder="Jcz=uniform:1", charger="k-local:k=1"), "graph attribute 'Jcz' (edge (0, 1)"),
    (dict(disorder="hq=uniform:1", charger="graph"), "unknown attribute 'hq'"),
    (dict(disorder="hz=uniform:-1", charger="graph"), "disorder 'hz' width"),
    (dict(charger="graph"), "charger 'graph' reads the graph's charger attributes"),
])
def test_bad_charger_disorder_is_refused_in_one_line(kwargs, key):
    with pytest.raises(InputError) as err:
        cqc.api.check_charge("xxz-chain", 1.0, params={"N": 2}, realisations=2 if "disorder" in kwargs else 1,
                             **SMALL, **kwargs)
    assert key in str(err.value) and "\n" not in str(err.value)


def test_cli_draws_the_charger(capsys):
    rc = main(["charge", "xxz-chain", "-p", "N=2", "--charger", "graph", "--disorder", "hx=uniform:2",
               "--realisations", "3", "--seed", "1", "--t-max", "4", "--n-times", "21"])
    out = capsys.readouterr().out
    assert rc == 0 and "hx: uniform, full width 2" in out and "R = 3 realisations, seed 1" in out
    rc = main(["charge", "xxz-chain", "-p", "N=2", "--disorder", "hx=uniform:2", "--realisations", "3"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "'hx'" in err


def test_study_draws_the_charger(tmp_path, monkeypatch):
    import collective_qc.study.runner as runner
    from collective_qc.study import Study

    monkeypatch.setattr(runner, "write_plots", lambda *args, **kw: [])
    cfg = {"study": {"name": "gc", "model": "xxz-chain", "sizes": [2], "seed": 3, "realisations": 2, "drive": 1.0},
           "params": {"J": 0.2}, "run": dict(SMALL, charger="graph"),
           "disorder": {"hx": {"dist": "uniform", "width": 2.0}}}
    st = Study(cfg, tmp_path / "s")
    st.run()
    g = st.realised_graph("N=2,r=1")
    assert all(abs(g.nodes[n]["hx"]) <= 1.0 for n in g.nodes) and g.nodes[0]["hx"] != g.nodes[1]["hx"]
    res = cqc.charge(g, 1.0, params=None, charger="graph", **SMALL)
    unit = next(u for u in st.points if u["size"] == 2 and u["realisation"] == 1)
    with open(tmp_path / "s" / "points.csv") as fh:
        row = next(x for x in csv.DictReader(fh) if x["unit"] == unit["id"])
    assert float(row["tau_c"]) == pytest.approx(res.tau_c, rel=1e-12)
