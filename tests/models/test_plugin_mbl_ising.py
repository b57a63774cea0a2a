"""The study plug-in ``studies/plugins/mbl_ising.py`` (model mbl-ising-chain) against hand-built Pauli matrices."""

import os
import sys

import numpy as np
import pytest
from reference import SX, SY, SZ, evolve_energy, ground, site_op

import collective_qc as cqc
from collective_qc.physics import registry
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators

PLUGIN = os.path.join(os.path.dirname(__file__), "..", "..", "studies", "plugins", "mbl_ising.py")


@pytest.fixture
def model_class():
    """The plug-in's class, registered for the test only (the registry is restored afterwards)."""
    registry.get_model("two-level")  # the catalog loaded first, so that the restore below keeps it
    before = dict(registry.MODELS)
    if not cqc.load_plugin(PLUGIN):  # imported earlier in this process: register its class again
        real = os.path.realpath(PLUGIN)
        module = next(m for m in list(sys.modules.values()) if getattr(m, "__file__", None) == real)
        registry.register_model(module.MBLIsingChain)
        registry.register_model(module.MBLChargerChain)
    yield registry.get_model("mbl-ising-chain")
    registry.MODELS.clear()
    registry.MODELS.update(before)


def _hand_built(omegas, j, jz):
    """H_B = sum_i (omega_i/2) sz_i + sum_i (J sx_i sx_{i+1} + Jz sz_i sz_{i+1}) (open chain) and V = sum_i sx_i."""
    n = len(omegas)
    hb = sum(0.5 * omegas[i] * site_op(SZ, i, n) for i in range(n))
    for i in range(n - 1):
        hb = hb + j * site_op(SX, i, n) @ site_op(SX, i + 1, n) + jz * site_op(SZ, i, n) @ site_op(SZ, i + 1, n)
    return hb, sum(site_op(SX, i, n) for i in range(n))


def test_h_b_n3_matches_hand_built_matrix(model_class):
    m = model_class(N=3, omega=1.3, J=0.4, Jz=-0.7)
    ops = build_operators(validate_graph(m.graph()))
    hb, v = _hand_built([1.3] * 3, 0.4, -0.7)
    np.testing.assert_allclose(ops.H_B.toarray(), hb.real, atol=1e-14)
    np.testing.assert_allclose(ops.V.toarray(), v.real, atol=1e-14)
    assert m.single_site().graph().number_of_nodes() == 1 and m.single_site().graph().number_of_edges() == 0


def test_drawn_fields_charge_like_dense_reference(model_class):
    """One disorder realisation: the drawn omega_i on the graph, then E(t) against dense evolution of the
    hand-built H_B with those fields (ground state, lambda = 0.5)."""
    res = cqc.charge("mbl-ising-chain", 0.5, params={"N": 3, "J": 0.25, "Jz": 0.25}, t_max=4, n_times=21,
                     method="closed", disorder={"omega": {"dist": "uniform", "width": 4.0}}, seed=3)
    drawn = res.realisations[0]["drawn"]["omega"]
    assert drawn["targets"] == [0, 1, 2]
    omegas = np.asarray(drawn["values"])
    assert np.all(np.abs(omegas - 1.0) <= 2.0) and np.ptp(omegas) > 0
    hb, v = _hand_built(omegas, 0.25, 0.25)
    e_ref = evolve_energy(hb, v, 0.5, res.times, ground(hb))
    np.testing.assert_allclose(res.energy, e_ref, atol=1e-9)


def test_disordered_charger_n4_against_dense_protocol_in_its_own_frame(model_class):
    """mbl-charger-chain, one N = 4 realisation (Jz = 0.7, W = 3): E(t) against dense evolution of the protocol
    as Rossini et al. write it, H_0 = h sum sy_i charged by H_1 = sum [J sx sx + Jz sz sz + h_i sz] (lambda = 1)
    from the ground state of H_0, with h_i the drawn hx: checks the graph charger and the model's rotation."""
    h, j, jz, n = 0.8, 1.0, 0.7, 4
    res = cqc.charge("mbl-charger-chain", 1.0, params={"N": n, "h": h, "J": j, "Jz": jz}, t_max=6, n_times=31,
                     method="closed", disorder={"hx": {"dist": "uniform", "width": 6.0}}, seed=2)
    fields = np.asarray(res.realisations[0]["drawn"]["hx"]["values"])
    assert np.all(np.abs(fields) <= 3.0) and np.ptp(fields) > 0
    h0 = sum(h * site_op(SY, i, n) for i in range(n))
    h1 = sum(fields[i] * site_op(SZ, i, n) for i in range(n))
    for i in range(n - 1):
        h1 = h1 + j * site_op(SX, i, n) @ site_op(SX, i + 1, n) + jz * site_op(SZ, i, n) @ site_op(SZ, i + 1, n)
    e_ref = evolve_energy(h0, h1, 1.0, res.times, ground(h0))
    np.testing.assert_allclose(res.energy, e_ref, atol=1e-9)
    assert res.metadata["charger"]["name"] == "graph" and max(e_ref) > 0.5
