"""Initial states dicke:J,M and thermal:T, and the collective representation of the all-to-all model.

Checked with operators built independently of the states' own code (sums of QuSpin site operators,
explicit symmetric vectors, scipy's expm) and closed forms (d_J, independent two-level sites).
"""

import math

import networkx as nx
import numpy as np
import pytest
import scipy.linalg as sla

import collective_qc as cqc
from collective_qc.api import check_charge
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators
from collective_qc.physics.registry import make_model
from collective_qc.physics.states import initial_state


def _ops(name, params):
    return build_operators(validate_graph(make_model(name, params).graph()))


def _rho(init):
    V = init.vectors
    return (V * init.weights) @ V.conj().T


def _collective(ops, n):
    """J_z, J^2 from sums of site operators S^a_i."""
    jz = sum(ops.site_operator("z", i) for i in range(n)).toarray()
    jp = sum(ops.site_operator("+", i) for i in range(n)).toarray()
    jm = jp.T
    return jz, jz @ jz + 0.5 * (jp @ jm + jm @ jp)


@pytest.mark.parametrize("J,M,d", [(2, 0, 1), (1, 1, 3), (1, 0, 3), (0, 0, 2), (1, -1, 3)])
def test_dicke_state_on_four_explicit_sites(J, M, d):
    assert 2 * math.comb(4, 2 - J) * (2 * J + 1) // (4 + 2 * J + 2) == d  # d_J = C(N, N/2-J)(2J+1)/(N/2+J+1)
    ops = _ops("xxz-chain", {"N": 4})
    init = initial_state(ops, f"dicke:{J},{M}")
    rho = _rho(init)
    jz, j2 = _collective(ops, 4)
    assert np.trace(rho) == pytest.approx(1.0, abs=1e-12)
    assert np.trace(rho @ j2).real == pytest.approx(J * (J + 1), abs=1e-10)
    assert np.trace(rho @ jz).real == pytest.approx(M, abs=1e-10)
    assert np.linalg.matrix_rank(rho, tol=1e-10) == d == init.describe()["members"]
    np.testing.assert_allclose(rho @ rho, rho / d, atol=1e-12)  # rho = P_JM / d_J
    swap = 0.5 * np.eye(ops.dim) + 2 * sum(  # (1 + s_0 . s_1) / 2: permutation invariance
        (ops.site_operator(a, 0) @ ops.site_operator(b, 1)).toarray() * c
        for a, b, c in (("z", "z", 1.0), ("+", "-", 0.5), ("-", "+", 0.5)))
    np.testing.assert_allclose(swap @ rho @ swap, rho, atol=1e-12)
    assert init.describe()["kind"] == "dicke" and init.describe()["d_J"] == d


def test_dicke_state_on_the_collective_node():
    ops = _ops("all-to-all", {"N": 4, "representation": "collective"})
    for text, m in (("dicke:2,-1", -1.0), ("dicke:1", 1.0), ("dicke:2,2", 2.0)):  # dicke:M means J = N/2 = 2
        init = initial_state(ops, text)
        assert init.is_pure and init.describe()["J"] == 2.0
        assert float(init.vectors[:, 0] ** 2 @ ops.sz_total) == pytest.approx(m, abs=1e-12)
    with pytest.raises(cqc.InputError, match=r"initial 'dicke:1,0': a collective spin node holds only J = N/2"):
        initial_state(ops, "dicke:1,0")


def test_dicke_run_collective_equals_explicit():
    kw = dict(times=np.linspace(0, 5, 11), method="closed", initial="dicke:2,0")
    params = {"N": 4, "J": 0.3, "Delta": 0.5}
    a = cqc.charge("all-to-all", 0.5, params=params, **kw)
    b = cqc.charge("all-to-all", 0.5, params={**params, "representation": "collective"}, **kw)
    np.testing.assert_allclose(a.energy, b.energy, rtol=0, atol=1e-10)


@pytest.mark.parametrize("T", [0.3, 1.0, 5.0])
def test_thermal_state_of_independent_sites(T):
    n, omega = 4, 1.3
    ops = _ops("all-to-all", {"N": n, "J": 0.0, "omega": omega})
    init = initial_state(ops, f"thermal:{T}")
    rho = _rho(init)
    assert np.trace(rho) == pytest.approx(1.0, abs=1e-12)
    e = np.trace(rho @ ops.H_B.toarray()).real
    assert e == pytest.approx(-n * omega / 2 * np.tanh(omega / (2 * T)), abs=1e-12)
    assert init.describe()["kind"] == "thermal" and init.describe()["T"] == T


def test_thermal_state_equals_expm():
    ops = _ops("xxz-chain", {"N": 4, "J": 0.4, "Delta": 0.3})
    H = ops.H_B.toarray()
    ref = sla.expm(-H / 0.7)
    np.testing.assert_allclose(_rho(initial_state(ops, "thermal:0.7")), ref / np.trace(ref), atol=1e-13)


@pytest.mark.parametrize("initial,needle", [
    ("dicke:5,0", "J must be <= N/2 = 2"),
    ("dicke:1/2,0", "J - M an integer"),
    ("dicke:3,1", "J must be <= N/2"),
    ("dicke:1/3,0", "half-integers"),
    ("dicke:2,3", "J >= |M|"),
    ("dicke:a,b", "half-integers"),
    ("thermal:-1", "T > 0"),
    ("thermal:abc", "T > 0"),
    ("thermal:0", "T > 0"),
    ("hot", "ground | product | dicke:J,M | thermal:T"),
])
def test_bad_initial_states_name_the_option(initial, needle):
    with pytest.raises(cqc.InputError, match="initial") as err:
        check_charge("xxz-chain", params={"N": 4}, initial=initial)
    assert needle in str(err.value) and "\n" not in str(err.value)


def test_dicke_refused_on_spin_one_sites():
    g = nx.Graph()
    g.add_node(0, spin=1)
    g.add_node(1, spin=1)
    g.add_edge(0, 1, J=0.2)
    with pytest.raises(cqc.InputError, match=r"initial 'dicke:1,0': Dicke states need spin-1/2 sites"):
        check_charge(g, initial="dicke:1,0")


def test_all_to_all_collective_closed_run_equals_explicit():
    kw = dict(times=np.linspace(0, 8, 17), method="closed", initial="product")
    params = {"N": 5, "J": 0.3, "Delta": 0.5}
    a = cqc.charge("all-to-all", 0.5, params=params, **kw)
    b = cqc.charge("all-to-all", 0.5, params={**params, "representation": "collective"}, **kw)
    assert a.metadata["dim"] > b.metadata["dim"]
    np.testing.assert_allclose(a.energy, b.energy, rtol=0, atol=1e-10)


def test_collective_spectrum_is_the_symmetric_part_of_the_explicit_one():
    n, params = 5, {"N": 5, "J": 0.3, "Delta": 0.5, "omega": 0.9}
    explicit = _ops("all-to-all", params)
    collective = _ops("all-to-all", {**params, "representation": "collective"})
    assert collective.dim == n + 1
    cols = []  # |N/2, M>: the normalised sum of the basis states with sum_i S^z_i = M
    for m in np.arange(-n / 2, n / 2 + 1):
        v = np.isclose(explicit.sz_total, m).astype(float)
        cols.append(v / np.linalg.norm(v))
    D = np.array(cols).T
    sym = D.T @ explicit.H_B.toarray() @ D
    np.testing.assert_allclose(np.linalg.eigvalsh(sym), np.linalg.eigvalsh(collective.H_B.toarray()), atol=1e-12)


def test_all_to_all_model_keeps_its_size_api():
    m = make_model("all-to-all", {"N": 6, "representation": "collective"})
    assert m.size_estimate().dim == 7
    assert m.with_size(3).values["representation"] == "collective"
    assert validate_graph(m.with_size(3).graph()).dim == 4
    assert validate_graph(m.single_site().graph()).dim == 2
    with pytest.raises(cqc.InputError, match="representation"):
        make_model("all-to-all", {"representation": "dense"})


def test_pair_couplings_refused_on_a_single_site_node():
    g = nx.Graph()
    g.add_node("a", J=0.3)
    with pytest.raises(cqc.InputError, match=r"node 'a': pair couplings \(J\) belong to a collective spin node"):
        validate_graph(g)
