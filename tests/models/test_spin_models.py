"""Many-body closed dynamics against an independent dense reference and exact identities."""

import networkx as nx
import numpy as np
import pytest
from reference import evolve_energy, ground, spin_model

import collective_qc as cqc
from collective_qc.analysis import two_level as bl
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators


def test_xxz_ring_n6_against_dense_reference():
    n, J, delta, lam = 6, 0.3, 0.5, 0.5
    times = np.linspace(0, 10, 41)
    res = cqc.charge("xxz-ring", drive=lam, times=times, params={"N": n, "J": J, "Delta": delta})
    edges = [(i, (i + 1) % n) for i in range(n)]
    hb, v = spin_model(n, edges, 1.0, J, J, J * delta)
    psi0 = ground(hb)
    e_ref = evolve_energy(hb, v, lam, times, psi0)
    h = 1e-4
    c_ref = (evolve_energy(hb, v, lam + h, times, psi0) - evolve_energy(hb, v, lam - h, times, psi0)) / (2 * h)
    np.testing.assert_allclose(res.energy, e_ref, rtol=0, atol=1e-6 * np.max(np.abs(e_ref)))
    np.testing.assert_allclose(res.capacitance, c_ref, rtol=0, atol=1e-6 * np.max(np.abs(c_ref)))
    # P = dE/dt against a time finite difference of the reference
    dt = 1e-5
    p_ref = (evolve_energy(hb, v, lam, times + dt, psi0)
             - evolve_energy(hb, v, lam, np.abs(times - dt), psi0)) / (2 * dt)
    np.testing.assert_allclose(res.power[1:], p_ref[1:], atol=1e-6 * np.max(np.abs(p_ref)))


def test_operators_match_dense_pauli_construction():
    g = nx.cycle_graph(4)
    for u, w in g.edges:
        g.edges[u, w].update(Jx=0.2, Jy=-0.4, Jz=0.7)
    for i in g.nodes:
        g.nodes[i]["omega"] = 1.0 + 0.1 * i
    ops = build_operators(validate_graph(g))
    edges = [(i, (i + 1) % 4) for i in range(4)]
    hb, v = spin_model(4, [], 0.0)
    from reference import SX, SY, SZ, site_op
    hb = sum(0.5 * (1.0 + 0.1 * i) * site_op(SZ, i, 4) for i in range(4))
    for i, j in edges:
        hb = hb + 0.2 * site_op(SX, i, 4) @ site_op(SX, j, 4) - 0.4 * site_op(SY, i, 4) @ site_op(SY, j, 4) \
            + 0.7 * site_op(SZ, i, 4) @ site_op(SZ, j, 4)
    np.testing.assert_allclose(ops.H_B.toarray(), hb.real, atol=1e-13)
    np.testing.assert_allclose(ops.V.toarray(), v.real, atol=1e-13)


GRAPHS = {
    "path5": nx.path_graph(5),
    "star5": nx.star_graph(4),
    "k4": nx.complete_graph(4),
    "random": nx.gnm_random_graph(5, 7, seed=3),
}


@pytest.mark.parametrize("name", sorted(GRAPHS))
def test_uncoupled_sites_reproduce_two_level(name):
    g = nx.Graph(GRAPHS[name])
    for u, w in g.edges:
        g.edges[u, w].update(J=0.0)
    res = cqc.charge(g, drive=0.4, t_max=15, n_times=61)
    n = g.number_of_nodes()
    np.testing.assert_allclose(res.energy / n, bl.energy(res.times, 0.4), atol=1e-10)
    np.testing.assert_allclose(res.capacitance / n, bl.capacitance(res.times, 0.4), atol=1e-9)
    assert res.tau_c == pytest.approx(bl.charging_time(0.4), rel=1e-8)


@pytest.mark.parametrize("name", sorted(GRAPHS))
@pytest.mark.parametrize("J", [0.3, -0.7])
def test_isotropic_exchange_is_su2_invariant(name, J):
    g = nx.Graph(GRAPHS[name])
    for u, w in g.edges:
        g.edges[u, w].update(J=J, Delta=1.0)
    res = cqc.charge(g, drive=0.6, t_max=15, n_times=61, initial="product")
    n = g.number_of_nodes()
    np.testing.assert_allclose(res.energy / n, bl.energy(res.times, 0.6), atol=1e-10)
    np.testing.assert_allclose(res.capacitance / n, bl.capacitance(res.times, 0.6), atol=1e-9)


def test_on_off_protocol_freezes_energy_after_switch_off():
    res = cqc.charge("xxz-ring", drive=0.5, params={"N": 5}, t_max=10, n_times=101, protocol="on-off:3")
    after = res.times >= 3
    # H_B is conserved once the drive is off
    np.testing.assert_allclose(res.energy[after], res.energy[after][0], atol=1e-10)
    np.testing.assert_allclose(res.power[after], 0.0, atol=1e-12)


@pytest.mark.filterwarnings("ignore:model 'graph'. E.t. is round-off")  # isotropic, zero field: [H_B, V] = 0
def test_degenerate_ground_manifold_is_mixed_not_broken():
    # equilateral antiferromagnetic triangle at zero field: 4-fold degenerate ground level
    g = nx.cycle_graph(3)
    for i in g.nodes:
        g.nodes[i]["omega"] = 0.0
    for u, w in g.edges:
        g.edges[u, w]["J"] = 1.0
    res = cqc.charge(g, drive=0.3, t_max=5, n_times=21)
    assert res.metadata["initial"]["degeneracy"] == 4
    assert res.metadata["initial"]["members"] == 4


def test_per_site_view_and_json(tmp_path):
    res = cqc.charge("ising-ring", drive=0.5, params={"N": 4}, t_max=8, n_times=41)
    assert res.per_site["energy_max"] == pytest.approx(res.energy_max / 4)
    res.to_json(tmp_path / "r.json")
    import json
    d = json.loads((tmp_path / "r.json").read_text())
    for key in ("times", "energy", "power", "capacitance", "n_sites", "tau_c", "energy_max",
                "power_max", "average_power_max", "capacitance_at_tau_c", "model", "params", "method"):
        assert key in d


@pytest.mark.parametrize("n,initial", [(6, "ground"), (8, "ground"), (7, "product"), (8, "product")])
def test_symmetry_blocks_reproduce_full_basis(n, initial):
    kw = dict(drive=0.5, params={"N": n}, t_max=10, n_times=41, initial=initial)
    full = cqc.charge("xxz-ring", symmetry=False, **kw)
    blk = cqc.charge("xxz-ring", **kw)
    assert blk.metadata["symmetry_block"] is not None
    assert blk.metadata["dim"] < full.metadata["dim"] // n + n
    np.testing.assert_allclose(blk.energy, full.energy, atol=1e-10)
    np.testing.assert_allclose(blk.capacitance, full.capacitance, atol=1e-10)
    np.testing.assert_allclose(blk.power, full.power, atol=1e-10)
    assert blk.tau_c == pytest.approx(full.tau_c, abs=1e-10)
