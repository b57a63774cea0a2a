"""Nanomagnet catalog entries against spin matrices and Kronecker products built here (no QuSpin)."""

import numpy as np
import pytest
import scipy.sparse as sps
from scipy.sparse.linalg import eigsh

import collective_qc as cqc
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators
from collective_qc.physics.registry import make_model

CM_TO_K = 1.438776877
MUB_K, MUB_MEV = 0.6717138, 0.05788382


def spin_matrices(s):
    """S^+, S^-, S^z (real matrices), basis m = +S first (QuSpin's order)."""
    m = np.arange(s, -s - 1, -1)
    sz = np.diag(m)
    sp = np.zeros((len(m), len(m)))
    for k in range(1, len(m)):
        sp[k - 1, k] = np.sqrt(s * (s + 1) - m[k] * (m[k] + 1))
    return sp, sp.T, sz


def site_terms(s, omega=0.0, D=0.0, E=0.0, B40=0.0, B44=0.0):
    """omega S^z + D S^z^2 + E (S^x^2 - S^y^2) + B40 O4^0 + B44 O4^4, Stevens operators written out."""
    sp, sm, sz = spin_matrices(s)
    sx, isy = 0.5 * (sp + sm), 0.5 * (sp - sm)  # isy = i S^y, so S^y^2 = -isy^2
    one, x = np.eye(len(sz)), s * (s + 1)
    o40 = 35 * np.linalg.matrix_power(sz, 4) - (30 * x - 25) * sz @ sz + (3 * x * x - 6 * x) * one
    o44 = 0.5 * (np.linalg.matrix_power(sp, 4) + np.linalg.matrix_power(sm, 4))
    return omega * sz + D * sz @ sz + E * (sx @ sx + isy @ isy) + B40 * o40 + B44 * o44


def embed(op, i, n, d):
    """op on site i of n sites of dimension d (site 0 most significant)."""
    return sps.kron(sps.kron(sps.identity(d ** i), sps.csr_matrix(op)), sps.identity(d ** (n - i - 1))).tocsr()


def heisenberg_ring(s, n, J, **site):
    """sum_i site_terms_i + J sum_i S_i.S_{i+1} (ring), sparse, with S.S = SzSz + (S+S- + S-S+)/2."""
    sp, sm, sz = spin_matrices(s)
    d = len(sz)
    P, M, Z = ([embed(o, i, n, d) for i in range(n)] for o in (sp, sm, sz))
    h = sum(embed(site_terms(s, **site), i, n, d) for i in range(n))
    for i in range(n):
        j = (i + 1) % n
        h = h + J * (Z[i] @ Z[j] + 0.5 * (P[i] @ M[j] + M[i] @ P[j]))
    return h.tocsr(), P, M, Z


def ours(name, params=None):
    return build_operators(validate_graph(make_model(name, params or {}).graph()))


def test_defaults_are_the_published_values():
    assert make_model("mn12-ac").values == pytest.approx(
        {"omega": 2 * MUB_K, "D": -0.457 * CM_TO_K, "B40": -2.33e-5 * CM_TO_K, "B44": 3.0e-5 * CM_TO_K})
    assert make_model("fe8").values == pytest.approx({"omega": 2 * MUB_K, "D": -0.275, "E": 0.046, "C": -2.9e-5})
    assert make_model("v15-triangle").values == pytest.approx({"omega": 2 * MUB_K, "J": 2.45})
    assert make_model("cr8-ring").values == pytest.approx({"omega": 2 * MUB_MEV, "J": 1.46, "D": -0.038})
    for name, unit in [("mn12-ac", "K"), ("fe8", "K"), ("v15-triangle", "K"), ("cr8-ring", "meV")]:
        m = make_model(name)
        assert (m.energy_unit, m.time_unit, m.size_param) == (unit, f"hbar/{unit}", None)


@pytest.mark.parametrize("omega", [0.0, 0.7])
def test_giant_spins_against_dense(omega):
    p = make_model("mn12-ac").values
    ref = site_terms(10, omega=omega, D=p["D"], B40=p["B40"], B44=p["B44"])
    h = ours("mn12-ac", {"omega": omega}).H_B.toarray()
    np.testing.assert_allclose(h, ref, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(h), np.linalg.eigvalsh(ref), atol=1e-10)
    # Fe8: published C (S+^4 + S-^4) = 2 C O4^4
    ref = site_terms(10, omega=omega, D=-0.275, E=0.046, B44=2 * -2.9e-5)
    h = ours("fe8", {"omega": omega}).H_B.toarray()
    np.testing.assert_allclose(h, ref, atol=1e-12)
    np.testing.assert_allclose(np.linalg.eigvalsh(h), np.linalg.eigvalsh(ref), atol=1e-10)


def test_mn12_zero_field_levels():
    p = make_model("mn12-ac").values
    w, u = np.linalg.eigh(ours("mn12-ac", {"omega": 0.0}).H_B.toarray())
    w_ref = np.linalg.eigvalsh(site_terms(10, D=p["D"], B40=p["B40"], B44=p["B44"]))
    np.testing.assert_allclose(w, w_ref, atol=1e-10)
    # ground doublet m = +-10 (basis index 0 is m = +10, index 20 is m = -10), tunnel splitting negligible
    assert w[1] - w[0] < 1e-9
    assert np.sum(np.abs(u[[0, 20]][:, :2]) ** 2) == pytest.approx(2.0, abs=1e-4)
    # first excited doublet m = +-9: -19 D - 58140 B40 (+ a tiny second-order B44 shift), about 10 cm^-1
    gap = w[2] - w[0]
    assert w[3] - w[2] < 1e-9
    assert gap == pytest.approx(-19 * p["D"] - 58140 * p["B40"], rel=1e-4)
    assert gap / CM_TO_K == pytest.approx(10.04, abs=0.01)


@pytest.mark.parametrize("omega", [0.0, 0.9])
def test_v15_triangle_against_dense(omega):
    J = 2.45
    ref = heisenberg_ring(0.5, 3, J, omega=omega)[0].toarray()
    h = ours("v15-triangle", {"omega": omega}).H_B.toarray()
    np.testing.assert_allclose(h, ref, atol=1e-12)
    w = np.linalg.eigvalsh(h)
    np.testing.assert_allclose(w, np.linalg.eigvalsh(ref), atol=1e-12)
    if omega == 0.0:  # two S = 1/2 doublets at -3J/4, the S = 3/2 quartet 3J/2 above
        np.testing.assert_allclose(w[:4], -0.75 * J, atol=1e-12)
        np.testing.assert_allclose(w[4:], 0.75 * J, atol=1e-12)


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_cr8_ring_against_kronecker_products():
    p = make_model("cr8-ring").values
    ops = ours("cr8-ring")
    ref = heisenberg_ring(1.5, 8, p["J"], omega=p["omega"], D=p["D"])[0]
    assert ops.dim == 4 ** 8
    assert abs(ops.H_B - ref).max() < 1e-12
    w = np.sort(eigsh(ops.H_B, k=4, which="SA", return_eigenvectors=False, tol=1e-10))
    w_ref = np.sort(eigsh(ref, k=4, which="SA", return_eigenvectors=False, tol=1e-10))
    np.testing.assert_allclose(w, w_ref, atol=1e-8)


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_cr8_zero_field_singlet_ground_state_and_triplet():
    J = 1.46
    h = ours("cr8-ring", {"omega": 0.0, "D": 0.0}).H_B
    _, P, M, Z = heisenberg_ring(1.5, 8, J)
    sz, sp = sum(Z), sum(P)
    s2 = (sp @ sp.T + sz @ sz - sz).tocsr()  # S^2 = S+S- + Sz^2 - Sz
    w, u = eigsh(h, k=5, which="SA", tol=1e-12)
    order = np.argsort(w)
    w, u = w[order], u[:, order]
    g = u[:, 0]
    assert abs(g @ (s2 @ g)) < 1e-8  # total spin S = 0
    assert w[1] - w[0] > 0.1 * J  # non-degenerate ground state
    np.testing.assert_allclose(w[1:4], w[1], atol=1e-8)  # first excited level: a triplet
    assert (w[4] - w[3]) > 0.1 * J
    t = u[:, 1:4]
    np.testing.assert_allclose(t.T @ (s2 @ t), 2.0 * np.eye(3), atol=1e-7)  # S(S+1) = 2
    assert 0.2 * J < w[1] - w[0] < J


def test_cr8_published_anisotropy_splits_the_triplet():
    w = np.sort(eigsh(ours("cr8-ring", {"omega": 0.0}).H_B, k=4, which="SA", return_eigenvectors=False,
                      tol=1e-10))
    w = w - w[0]
    assert w[1] > 0.3  # non-degenerate singlet ground state
    assert w[3] - w[2] < 1e-7 and w[2] - w[1] > 0.1  # m = 0 below the m = +-1 doublet (D < 0)


def test_single_site_baselines():
    for name, spin in [("v15-triangle", 0.5), ("cr8-ring", 1.5)]:
        m = make_model(name, {"omega": 0.3})
        one = m.single_site()
        g = validate_graph(one.graph())
        assert len(g.spins) == 1 and not g.bonds and g.spins[0].spin == spin
        assert g.spins[0].omega == 0.3 and g.spins[0].D == m.values.get("D", 0.0)
        assert (one.energy_unit, one.time_unit, one.values) == (m.energy_unit, m.time_unit, m.values)
        assert one.single_site() is one
    for name in ("mn12-ac", "fe8"):
        m = make_model(name)
        assert m.single_site() is m


def test_charge_fe8_carries_units():
    res = cqc.charge("fe8", drive=0.05, t_max=10.0, n_times=11)
    assert res.metadata["units"] == {"energy": "K", "time": "hbar/K"}
    assert res.energy.shape == (11,) and np.all(np.isfinite(res.energy))
    assert res.energy[0] == pytest.approx(0.0, abs=1e-12) and np.max(res.energy) > 0
