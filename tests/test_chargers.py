"""Chargers as data: matrices against dense Pauli products, norms, Gamma_P = N, refusals, CLI."""

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from reference import SX, SY, SZ, site_op

from collective_qc import charge
from collective_qc.cli import main
from collective_qc.compare import compare
from collective_qc.core.errors import InputError
from collective_qc.physics.chargers import (
    Charger,
    MatrixCharger,
    StaticCharger,
    charger_names,
    dicke_norm,
    parse_charger,
    register_charger,
)
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators, operator_norm
from collective_qc.physics.registry import make_model

SP = np.array([[0, 1], [0, 0]], dtype=complex)  # s+ = |e><g|, |e> = index 0 (QuSpin's up state first)


def _mg(name="xxz-chain", **params):
    return validate_graph(make_model(name, params).graph())


def _dense(mg, **kw):
    return build_operators(mg, **kw).V.toarray()


def _kproduct(n, sub, op):
    out = np.eye(2**n, dtype=complex)
    for i in sub:
        out = out @ site_op(op, i, n)
    return out


def test_field_default_is_the_parallel_field_bit_for_bit():
    mg = _mg(N=4)
    default, named = build_operators(mg).V, build_operators(mg, charger="field").V
    assert (default != named).nnz == 0
    assert np.allclose(default.toarray(), sum(site_op(SX, i, 4) for i in range(4)), atol=1e-15)
    info = build_operators(mg).charger
    assert info["name"] == "field" and info["model_default"] and info["norm"] == 4.0


@pytest.mark.parametrize("axis,op", [("x", SX), ("y", SY), ("z", SZ)])
def test_field_axis_matches_pauli_sum(axis, op):
    assert np.allclose(_dense(_mg(N=3), charger=f"field:axis={axis}"), sum(site_op(op, i, 3) for i in range(3)),
                       atol=1e-14)


def test_global_and_k_local_match_dense_products():
    n = 4
    mg = _mg(N=n)
    e_g = _kproduct(n, range(n), SP)
    assert np.allclose(_dense(mg, charger="global"), e_g + e_g.conj().T, atol=1e-14)
    for k in (1, 2, 3):
        ref = sum(_kproduct(n, s, SP) for s in itertools.combinations(range(n), k))
        assert np.allclose(_dense(mg, charger=f"k-local:k={k}"), ref + ref.conj().T, atol=1e-14)
    assert np.allclose(_dense(mg, charger="k-local:4"), _dense(mg, charger="global"))


@pytest.mark.parametrize("n,k", [(5, 1), (5, 2), (5, 3), (6, 2), (4, 4)])
def test_k_local_norm_closed_form_against_numerics(n, k):
    mg = _mg(N=n)
    assert dicke_norm(n, k) == pytest.approx(operator_norm(build_operators(mg, charger=f"k-local:k={k}").V),
                                             rel=1e-12)
    assert dicke_norm(n, 1) == pytest.approx(n, rel=1e-13) and dicke_norm(n, n) == pytest.approx(1.0, rel=1e-13)


def test_norm_matching_is_recorded_and_exact():
    mg = _mg(N=4)
    ops = build_operators(mg, charger="k-local:k=2", norm="field")
    assert operator_norm(ops.V) == pytest.approx(4.0, rel=1e-12)
    assert ops.charger["scale"] == pytest.approx(4.0 / dicke_norm(4, 2), rel=1e-13)
    assert operator_norm(build_operators(mg, charger="global", norm=2.5).V) == pytest.approx(2.5, rel=1e-12)
    res = charge("xxz-chain", 0.5, params={"N": 3, "J": 0.0}, charger="global", norm="field", t_max=1.0, n_times=11)
    assert res.metadata["charger"]["norm"] == 3.0 and res.metadata["charger"]["scale"] == 3.0


def _peak_times(omega_r):
    """Sample times holding the first power peak pi / (4 N Omega_R) of every N in 1, 2, 3, 4, 6."""
    return np.arange(0, 31) * (math.pi / (4.0 * omega_r) / 12.0)


@pytest.mark.parametrize("battery_off", [False, True])
def test_global_charger_gamma_power_is_n(battery_off):
    """Binder/Campaioli: |g..g> <-> |e..e> is a two-level system of splitting N omega driven at
    lambda N (norm-matched), so P_max(N) = N^2 P_max(1) in either convention: Gamma_P = N."""
    lam, omega = 0.5, 1.0
    omega_r = lam if battery_off else math.sqrt(lam**2 + omega**2 / 4)
    cmp = compare("xxz-chain", [2, 3, 4, 6], lam, params={"J": 0.0}, times=_peak_times(omega_r), method="closed",
                  charger="global", norm="field", battery_off_while_charging=battery_off)
    for row in cmp.rows:
        assert row["gamma_power"] == pytest.approx(row["n_sites"], abs=1e-9)
        assert "failed" not in row and row["gamma_power"] <= row["gamma_power_bound"] * (1 + 1e-9)
    assert cmp.baseline.metadata["charger"]["name"] == "field"
    assert cmp.results[6].metadata["battery_off_while_charging"] is battery_off
    if battery_off:  # the GSR extensive bound N is attained
        assert cmp.rows[-1]["gamma_power_bound"] == pytest.approx(6.0, abs=1e-9)


def test_battery_off_two_level_is_resonant_rabi():
    t = np.linspace(0, 4, 41)
    res = charge("two-level", 0.5, t, battery_off_while_charging=True)
    assert np.allclose(res.energy, np.sin(0.5 * t) ** 2, atol=1e-12)


def test_symmetry_blocks_agree_with_full_basis_for_global_charger():
    t = np.linspace(0, 3, 13)
    kw = dict(params={"N": 6, "J": -0.3}, charger="global", norm="field", method="closed")
    a, b = charge("xxz-ring", 0.4, t, symmetry=True, **kw), charge("xxz-ring", 0.4, t, symmetry=False, **kw)
    assert a.metadata["symmetry_block"] is not None and b.metadata["symmetry_block"] is None
    assert np.allclose(a.energy, b.energy, atol=1e-10) and np.allclose(a.capacitance, b.capacitance, atol=1e-9)


def test_unknown_charger_names_suggest_close_ones():
    with pytest.raises(InputError, match=r"unknown charger 'globl'.*did you mean 'global'"):
        parse_charger("globl")
    with pytest.raises(InputError, match="k-local"):
        charge("xxz-chain", 0.5, charger="klocal:k=2", t_max=1.0)
    assert {"field", "global", "k-local", "cavity"} <= set(charger_names())


@pytest.mark.parametrize("model,params,spec,reason", [
    ("dicke", {"N": 3}, "global", "collective spin of 3 sites"),
    ("tavis-cummings", {"N": 3}, "k-local:k=2", "collective spin"),
    ("heisenberg-graph", {"N": 3, "S": "1"}, "global", "spin-1/2"),
    ("xxz-chain", {"N": 3}, "k-local:k=4", "k = 4 exceeds"),
    ("xxz-chain", {"N": 3}, "cavity", "no spin-boson edges"),
    ("xxz-chain", {"N": 3}, "field:axis=w", "axis must be x, y or z"),
])
def test_chargers_that_do_not_fit_are_refused_with_a_reason(model, params, spec, reason):
    with pytest.raises(InputError, match=reason):
        charge(model, 0.5, params=params, charger=spec, t_max=1.0)


def test_norm_matching_an_unbounded_charger_is_refused():
    with pytest.raises(InputError, match="cannot be norm-matched"):
        charge("dicke", 0.5, params={"N": 2}, norm="field", t_max=1.0)
    with pytest.raises(InputError, match="norm must be"):
        charge("xxz-chain", 0.5, norm=-1.0, t_max=1.0)


def test_static_list_user_charger_equals_field_and_is_checked():
    mg = _mg(N=3)
    static = [["+", [[1.0, i] for i in range(3)]], ["-", [[1.0, i] for i in range(3)]]]
    assert np.allclose(_dense(mg, charger=static), _dense(mg), atol=1e-15)
    assert np.allclose(_dense(mg, charger=StaticCharger('[["zz", [[0.5, 0, 1]]]]')),
                       0.5 * 0.25 * site_op(SZ, 0, 3) @ site_op(SZ, 1, 3), atol=1e-15)
    with pytest.raises(InputError, match="out of range"):
        build_operators(mg, charger=[["+-", [[1.0, 0, 5]]]])
    with pytest.raises(InputError, match="not Hermitian"):
        build_operators(mg, charger=[["+", [[1.0, 0]]]])
    with pytest.raises(InputError, match="operator string"):
        build_operators(mg, charger=[["q", [[1.0, 0]]]])


def test_graph_attribute_and_registered_and_matrix_chargers():
    g = make_model("xxz-chain", {"N": 3, "J": 0.0}).graph()  # ground state |ggg>: the global charger charges it
    g.graph["charger"] = "global"
    res = charge(nx.Graph(g), 0.5, t_max=1.0, n_times=11)
    assert res.metadata["charger"]["name"] == "global" and not res.metadata["charger"]["model_default"]
    g.graph["charger"] = '[["+", [[1.0, 0]]], ["-", [[1.0, 0]]]]'  # GraphML stores strings: JSON static list
    assert charge(nx.Graph(g), 0.5, t_max=1.0, n_times=11).metadata["charger"]["name"] == "static"

    class Pairs(Charger):
        """Nearest-neighbour pair creation s+_i s+_{i+1} + h.c. on a chain."""

        name = "pairs"

        def terms(self, mg):
            return [(op, [i, i + 1], 1.0) for i in range(len(mg.spins) - 1) for op in ("++", "--")]

    register_charger("pairs", Pairs, "nearest-neighbour pair creation")
    mg = _mg(N=3)
    ref = sum(_kproduct(3, (i, i + 1), SP) for i in range(2))
    assert np.allclose(_dense(mg, charger="pairs"), ref + ref.T, atol=1e-15)
    mat = MatrixCharger(lambda mg, basis: sum(site_op(SX, i, 3) for i in range(3)).real)
    assert np.allclose(_dense(mg, charger=mat), _dense(mg), atol=1e-15)
    with pytest.raises(InputError, match="does not fit the basis"):
        build_operators(mg, charger=MatrixCharger(lambda mg, basis: np.eye(3)))


def test_cli_charger_accepted_by_charge_and_compare(tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["charge", "xxz-chain", "-p", "N=3", "--charger", "k-local:k=2", "--norm", "field",
                 "--speed-limit", "yes", "--t-max", "2", "--n-times", "21", "--json", str(out)]) == 0
    assert main(["compare", "xxz-chain", "--sizes", "2,3", "-p", "J=0", "--charger", "global", "--norm", "field",
                 "--t-max", "3", "--n-times", "31"]) == 0
    assert main(["charge", "xxz-chain", "--charger", "globl", "--t-max", "1"]) == 2
    assert "did you mean 'global'" in capsys.readouterr().err
    assert main(["charge", "dicke", "-p", "N=2", "--charger", "global", "--t-max", "1"]) == 2
    assert "collective spin" in capsys.readouterr().err


@pytest.mark.parametrize("method", ["exact", "trajectories"])
def test_field_along_y_equals_field_along_x_under_dephasing(method):
    """H_B of an XXZ chain and the dephasing jumps commute with rotations about z, which map
    sum sx onto sum sy: E and C_Q are the same (a complex charger through the open solvers)."""
    t = np.linspace(0, 5, 21)
    kw = dict(params={"N": 3}, dephasing=0.05, method=method, ntraj=20, seed=2)
    a, b = charge("xxz-chain", 0.5, t, **kw), charge("xxz-chain", 0.5, t, charger="field:axis=y", **kw)
    assert np.allclose(a.energy, b.energy, atol=1e-12) and np.allclose(a.capacitance, b.capacitance, atol=1e-12)


def test_classical_field_on_a_cavity_model_leaves_the_cavity_idle():
    """charger=field on Tavis-Cummings: N independent Rabi capacitors, E_max = N omega lambda^2 / Omega_R^2."""
    lam = 0.5
    res = charge("tavis-cummings", lam, np.linspace(0, 6, 61), params={"N": 2, "representation": "explicit"},
                 charger="field")
    assert res.energy_max == pytest.approx(2 * lam**2 / (lam**2 + 0.25), rel=1e-9)
    assert np.allclose(res.observables["photons[cavity]"], res.observables["photons[cavity]"][0], atol=1e-12)
