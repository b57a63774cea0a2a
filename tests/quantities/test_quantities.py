"""Tests of collective_qc.analysis.quantities against independent computations."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.optimize as so

from collective_qc.analysis.quantities import (
    entanglement_entropy,
    ergotropy,
    ergotropy_mixture,
    half_chain_entropy,
    l1_coherence,
    l1_coherence_pure,
    passive_energy,
    reduced_density_matrix,
    von_neumann_entropy,
)
from collective_qc.core.errors import InputError


# ----------------------------------------------------------------------------
# helpers (independent of the module under test)
# ----------------------------------------------------------------------------
def random_hermitian(d, rng):
    a = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    return 0.5 * (a + a.conj().T)


def random_density_matrix(d, rng, rank=None):
    rank = d if rank is None else rank
    a = rng.normal(size=(d, rank)) + 1j * rng.normal(size=(d, rank))
    rho = a @ a.conj().T
    return rho / np.trace(rho).real


def random_unitary(d, rng):
    q, r = np.linalg.qr(rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d)))
    return q * (np.diag(r) / np.abs(np.diag(r)))


def random_state(d, rng):
    v = rng.normal(size=d) + 1j * rng.normal(size=d)
    return v / np.linalg.norm(v)


def hermitian_from_params(x, d):
    """Hermitian d x d matrix from d*d real parameters."""
    K = np.zeros((d, d), dtype=complex)
    iu = np.triu_indices(d, 1)
    n_off = len(iu[0])
    K[np.diag_indices(d)] = x[:d]
    K[iu] = x[d : d + n_off] + 1j * x[d + n_off :]
    return K + np.triu(K, 1).conj().T


def brute_force_min_energy(rho, H, rng, n_starts=4):
    """min_U Tr[U rho U^dag H] by BFGS over U = expm(iK), K Hermitian (d*d real parameters), random starts.

    The exact gradient comes from the Daleckii-Krein formula for the derivative of expm(iK) in the
    eigenbasis of K.
    """
    d = rho.shape[0]
    iu = np.triu_indices(d, 1)
    n_off = len(iu[0])

    def fun_and_grad(x):
        k, Q = np.linalg.eigh(hermitian_from_params(x, d))
        ek = np.exp(1j * k)
        U = (Q * ek) @ Q.conj().T
        f = float(np.real(np.trace(U @ rho @ U.conj().T @ H)))
        dk = k[:, None] - k[None, :]
        same = np.abs(dk) < 1e-12
        F = np.where(same, 1j * ek[:, None], (ek[:, None] - ek[None, :]) / np.where(same, 1.0, dk))
        Mt = Q.conj().T @ (rho @ U.conj().T @ H) @ Q
        G = (Q @ (F * Mt.T).T @ Q.conj().T).T  # df = 2 Re sum_ij dK_ij G_ij
        g = np.empty_like(x)
        g[:d] = 2 * np.real(np.diag(G))
        g[d : d + n_off] = 2 * np.real(G[iu] + G.T[iu])
        g[d + n_off :] = -2 * np.imag(G[iu] - G.T[iu])
        return f, g

    x0 = rng.normal(size=d * d)
    assert so.check_grad(lambda x: fun_and_grad(x)[0], lambda x: fun_and_grad(x)[1], x0) < 1e-5
    best = np.inf
    for _ in range(n_starts):
        res = so.minimize(fun_and_grad, rng.normal(size=d * d), jac=True, method="BFGS", options={"gtol": 1e-10})
        best = min(best, res.fun)
    return best


# ----------------------------------------------------------------------------
# passive energy
# ----------------------------------------------------------------------------
def test_passive_energy_sorts_both_inputs():
    # populations descending pair with energies ascending: 0.6*0 + 0.3*1 + 0.1*5
    assert passive_energy([0.1, 0.6, 0.3], [5.0, 0.0, 1.0]) == pytest.approx(0.8)


def test_passive_energy_pads_populations_with_zeros():
    assert passive_energy([0.25, 0.75], [3.0, -1.0, 2.0, 7.0]) == pytest.approx(0.75 * -1.0 + 0.25 * 2.0)


def test_passive_energy_accepts_only_lowest_energies_for_low_rank():
    # 4 eigenvalues of rho but only 2 nonzero: the 2 lowest energies suffice
    assert passive_energy([0.0, 0.4, 1e-17, 0.6], [-2.0, 1.0]) == pytest.approx(0.6 * -2.0 + 0.4 * 1.0)


def test_passive_energy_complains_when_rank_exceeds_energies():
    with pytest.raises(InputError, match="3 nonzero eigenvalues.*only 2"):
        passive_energy([0.5, 0.3, 0.2], [0.0, 1.0])


# ----------------------------------------------------------------------------
# ergotropy
# ----------------------------------------------------------------------------
def test_ergotropy_zero_for_passive_diagonal_state():
    rng = np.random.default_rng(1)
    H = random_hermitian(6, rng)
    eps, U = np.linalg.eigh(H)
    p = np.sort(rng.random(6))[::-1]
    p /= p.sum()
    rho = U @ np.diag(p) @ U.conj().T
    assert ergotropy(rho, H) == pytest.approx(0.0, abs=1e-12)
    # the inverted (maximally active) arrangement has ergotropy sum (p_desc - p_asc) * eps_asc ... > 0
    rho_inv = U @ np.diag(p[::-1]) @ U.conj().T
    assert ergotropy(rho_inv, H) == pytest.approx(np.dot(p[::-1] - p, eps), rel=1e-12)


@pytest.mark.parametrize("beta", [0.0, 0.3, 2.0, 50.0])
def test_ergotropy_zero_for_thermal_states(beta):
    rng = np.random.default_rng(2)
    H = random_hermitian(8, rng)
    rho = sla.expm(-beta * H)
    rho /= np.trace(rho)
    assert ergotropy(rho, H) == pytest.approx(0.0, abs=1e-10)


@pytest.mark.parametrize("theta", [0.0, 0.2, np.pi / 4, 1.1, np.pi / 2])
def test_ergotropy_of_pure_charged_two_level_system(theta):
    w = 1.7
    H = 0.5 * w * np.diag([1.0, -1.0])  # (w/2) sigma_z: |e> = (1, 0), |g> = (0, 1)
    g, e = np.array([0.0, 1.0]), np.array([1.0, 0.0])
    psi = np.cos(theta) * g + np.sin(theta) * e
    rho = np.outer(psi, psi.conj())
    charged_energy = psi @ H @ psi - (-0.5 * w)  # E = <H> - E_ground
    assert charged_energy == pytest.approx(w * np.sin(theta) ** 2)
    assert ergotropy(rho, H) == pytest.approx(charged_energy, abs=1e-14)


def test_ergotropy_random_three_qubits_against_brute_force_minimisation():
    rng = np.random.default_rng(3)
    rho = random_density_matrix(8, rng)
    H = random_hermitian(8, rng)
    e_min = brute_force_min_energy(rho, H, rng)
    energy = np.trace(rho @ H).real
    W = ergotropy(rho, H)
    assert W > 0.1
    # the passive energy is the global minimum: never beaten, and reached
    assert energy - e_min <= W + 1e-9
    assert energy - e_min == pytest.approx(W, abs=1e-8)


def test_ergotropy_random_three_qubits_against_qutip():
    qutip = pytest.importorskip("qutip")
    rng = np.random.default_rng(4)
    dims = [[2, 2, 2], [2, 2, 2]]
    rho = qutip.rand_dm(dims[0], seed=11)
    H = qutip.tensor(qutip.sigmaz(), qutip.qeye(2), qutip.qeye(2)) + 0.7 * qutip.tensor(
        qutip.sigmax(), qutip.sigmax(), qutip.qeye(2)
    )
    H = H + qutip.Qobj(random_hermitian(8, rng), dims=dims) * 0.3
    energy = qutip.expect(H, rho)
    r = rho.eigenenergies(sort="high")
    eps = H.eigenenergies(sort="low")
    # passive state built explicitly from H's eigenvectors, then its energy
    _, vecs = H.eigenstates(sort="low")
    passive = sum(rk * v.proj() for rk, v in zip(r, vecs))
    assert passive.tr() == pytest.approx(1.0)
    assert qutip.expect(H, passive) == pytest.approx(np.dot(r, eps), abs=1e-12)
    W_ref = energy - qutip.expect(H, passive)
    assert ergotropy(rho.full(), H.full()) == pytest.approx(W_ref, abs=1e-12)


def test_ergotropy_mixture_equals_dense_ergotropy():
    rng = np.random.default_rng(5)
    d, M = 16, 3
    H = random_hermitian(d, rng)
    eps = np.linalg.eigvalsh(H)
    w = np.array([0.5, 0.3, 0.2])
    V0 = np.linalg.qr(rng.normal(size=(d, M)) + 1j * rng.normal(size=(d, M)))[0]
    V = sla.expm(-1j * 0.8 * random_hermitian(d, rng)) @ V0  # evolved members stay orthonormal
    for vecs in (V0, V):
        rho = (vecs * w) @ vecs.conj().T
        energy = np.trace(rho @ H).real
        assert ergotropy_mixture(vecs, w, eps[:M], energy) == pytest.approx(ergotropy(rho, H), abs=1e-12)
        # more energies than needed, given in any order
        assert ergotropy_mixture(vecs, w, eps[::-1], energy) == pytest.approx(ergotropy(rho, H), abs=1e-12)


def test_ergotropy_mixture_non_orthogonal_members():
    rng = np.random.default_rng(6)
    d, M = 8, 4
    H = random_hermitian(d, rng)
    V = np.stack([random_state(d, rng) for _ in range(M)], axis=1)  # normalised, not orthogonal
    w = rng.random(M)
    w /= w.sum()
    rho = (V * w) @ V.conj().T
    energy = np.trace(rho @ H).real
    W = ergotropy_mixture(V, w, np.linalg.eigvalsh(H)[:M], energy)
    assert W == pytest.approx(ergotropy(rho, H), abs=1e-12)


def test_ergotropy_mixture_pure_state_and_zero_weight_member():
    rng = np.random.default_rng(7)
    d = 10
    H = random_hermitian(d, rng)
    eps = np.linalg.eigvalsh(H)
    psi = random_state(d, rng)
    energy = (psi.conj() @ H @ psi).real
    assert ergotropy_mixture(psi, [1.0], eps[:1], energy) == pytest.approx(energy - eps[0], abs=1e-12)
    # a member with zero weight does not raise the rank: one energy still suffices
    V = np.stack([psi, random_state(d, rng)], axis=1)
    assert ergotropy_mixture(V, [1.0, 0.0], eps[:1], energy) == pytest.approx(energy - eps[0], abs=1e-12)


def test_ergotropy_mixture_rejects_inconsistent_input():
    rng = np.random.default_rng(8)
    V = np.linalg.qr(rng.normal(size=(6, 3)))[0]
    with pytest.raises(InputError, match="nonzero eigenvalues"):
        ergotropy_mixture(V, [0.5, 0.3, 0.2], [0.0, 1.0], 0.5)
    with pytest.raises(InputError, match="weights"):
        ergotropy_mixture(V, [0.5, 0.5], [0.0, 1.0, 2.0], 0.5)
    with pytest.raises(InputError, match="non-negative"):
        ergotropy_mixture(V, [0.5, 0.7, -0.2], [0.0, 1.0, 2.0], 0.5)
    with pytest.raises(InputError, match="below the passive"):
        ergotropy_mixture(V, [0.5, 0.3, 0.2], [0.0, 1.0, 2.0], -1.0)
    with pytest.raises(InputError, match="NaN"):
        ergotropy_mixture(V, [0.5, 0.3, 0.2], [0.0, 1.0, 2.0], np.nan)


# ----------------------------------------------------------------------------
# l1 coherence
# ----------------------------------------------------------------------------
def test_l1_coherence_against_double_loop_and_pure_formula():
    rng = np.random.default_rng(9)
    d = 8
    H = random_hermitian(d, rng)
    _, U = np.linalg.eigh(H)
    rho = random_density_matrix(d, rng)
    rp = U.conj().T @ rho @ U
    ref = 0.0
    for i in range(d):
        for j in range(d):
            if i != j:
                ref += abs(rp[i, j])
    assert l1_coherence(rho, U) == pytest.approx(ref, rel=1e-12)

    psi = random_state(d, rng)
    c = U.conj().T @ psi
    rho_pure = np.outer(psi, psi.conj())
    expected = np.sum(np.abs(c)) ** 2 - 1.0
    assert l1_coherence_pure(c) == pytest.approx(expected, rel=1e-12)
    assert l1_coherence(rho_pure, U) == pytest.approx(expected, rel=1e-12)


def test_l1_coherence_limits():
    d = 5
    plus = np.ones(d) / np.sqrt(d)  # maximally coherent
    assert l1_coherence(np.outer(plus, plus)) == pytest.approx(d - 1)
    assert l1_coherence_pure(plus) == pytest.approx(d - 1)
    assert l1_coherence(np.diag([0.5, 0.2, 0.1, 0.1, 0.1])) == 0.0
    assert l1_coherence_pure(np.array([0, 1j, 0, 0, 0])) == 0.0


def test_l1_coherence_rejects_bad_input():
    rho = np.diag([0.5, 0.5])
    with pytest.raises(InputError, match="not Hermitian"):
        l1_coherence(np.array([[0.5, 0.1], [0.0, 0.5]]))
    with pytest.raises(InputError, match="orthonormal"):
        l1_coherence(rho, np.array([[1.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(InputError, match="shape"):
        l1_coherence(rho, np.eye(3))
    with pytest.raises(InputError, match="1-D"):
        l1_coherence_pure(np.eye(3))


# ----------------------------------------------------------------------------
# entropies
# ----------------------------------------------------------------------------
def test_entropy_bell_pair_and_product_state():
    bell = np.array([1.0, 0.0, 0.0, 1.0]) / np.sqrt(2)
    assert entanglement_entropy(bell, (2, 2), [0]) == pytest.approx(np.log(2))
    assert entanglement_entropy(bell, (2, 2), [1]) == pytest.approx(np.log(2))
    assert entanglement_entropy(bell, (2, 2), []) == 0.0
    assert entanglement_entropy(bell, (2, 2), [0, 1]) == 0.0
    assert half_chain_entropy(bell, 2, 2) == pytest.approx(np.log(2))
    assert von_neumann_entropy(np.eye(4) / 4) == pytest.approx(np.log(4))
    assert von_neumann_entropy(np.outer(bell, bell)) == pytest.approx(0.0, abs=1e-12)

    rng = np.random.default_rng(10)
    a, b, c = random_state(2, rng), random_state(3, rng), random_state(2, rng)
    prod = np.kron(np.kron(a, b), c)
    for sub in ([0], [1], [2], [0, 2]):
        assert entanglement_entropy(prod, (2, 3, 2), sub) == pytest.approx(0.0, abs=1e-12)


def test_entropy_random_states_against_qutip():
    qutip = pytest.importorskip("qutip")
    rng = np.random.default_rng(11)
    for dims in ((2, 2, 2), (2, 3, 2)):
        psi = random_state(int(np.prod(dims)), rng)
        ket = qutip.Qobj(psi.reshape(-1, 1), dims=[list(dims), [1] * len(dims)])
        for sub in ([0], [1], [2], [0, 1], [0, 2], [2, 0], [1, 2]):
            rdm = ket.ptrace(sorted(sub))
            S_ref = qutip.entropy_vn(rdm)  # natural log by default
            assert entanglement_entropy(psi, dims, sub) == pytest.approx(S_ref, abs=1e-12)
            assert von_neumann_entropy(rdm.full()) == pytest.approx(S_ref, abs=1e-12)
            np.testing.assert_allclose(reduced_density_matrix(psi, dims, sub), rdm.full(), atol=1e-13)


def test_entropy_tensor_order_matches_quspin():
    basis_mod = pytest.importorskip("quspin.basis")
    N = 4
    basis = basis_mod.spin_basis_general(N, pauli=0)
    assert basis.Ns == 2**N
    rng = np.random.default_rng(12)
    psi = random_state(2**N, rng)
    for sub in ((0,), (1,), (3,), (0, 1), (0, 2), (1, 3), (0, 1, 3)):
        # density=False: QuSpin otherwise divides Sent_A by the number of sites in A
        out = basis.ent_entropy(psi, sub_sys_A=sub, density=False, return_rdm="A")
        assert entanglement_entropy(psi, (2,) * N, list(sub)) == pytest.approx(out["Sent_A"], abs=1e-12)
        np.testing.assert_allclose(reduced_density_matrix(psi, (2,) * N, list(sub)), out["rdm_A"], atol=1e-13)
        per_site = basis.ent_entropy(psi, sub_sys_A=sub)["Sent_A"]  # default density=True
        assert entanglement_entropy(psi, (2,) * N, list(sub)) == pytest.approx(per_site * len(sub), abs=1e-12)
    # single-site entropies of a generic state differ, so a reversed site order would be caught
    s = [entanglement_entropy(psi, (2,) * N, [j]) for j in range(N)]
    assert abs(s[0] - s[3]) > 1e-3 and abs(s[1] - s[2]) > 1e-3


def test_half_chain_entropy_odd_chain_matches_quspin_default():
    basis_mod = pytest.importorskip("quspin.basis")
    N = 5
    basis = basis_mod.spin_basis_general(N, pauli=0)
    psi = random_state(2**N, np.random.default_rng(13))
    ref = basis.ent_entropy(psi, density=False)["Sent_A"]  # default sub_sys_A = range(N // 2)
    assert half_chain_entropy(psi, N, 2) == pytest.approx(ref, abs=1e-12)
    assert half_chain_entropy(psi, N, 2) == pytest.approx(entanglement_entropy(psi, (2,) * N, [0, 1]), abs=1e-14)
    assert half_chain_entropy(np.array([0.6, 0.8]), 1, 2) == 0.0


# ----------------------------------------------------------------------------
# bad input
# ----------------------------------------------------------------------------
def test_ergotropy_rejects_bad_input():
    rho = np.diag([0.7, 0.3])
    H = np.diag([1.0, -1.0])
    with pytest.raises(InputError, match="rho: not Hermitian"):
        ergotropy(np.array([[0.7, 0.2], [0.0, 0.3]]), H)
    with pytest.raises(InputError, match="H: not Hermitian"):
        ergotropy(rho, np.array([[1.0, 1j], [1j, -1.0]]))
    with pytest.raises(InputError, match="rho: contains NaN"):
        ergotropy(np.array([[np.nan, 0.0], [0.0, 0.3]]), H)
    with pytest.raises(InputError, match="square"):
        ergotropy(np.ones((2, 3)), H)
    with pytest.raises(InputError, match="shape"):
        ergotropy(rho, np.eye(3))
    with pytest.raises(InputError, match="negative eigenvalue"):
        ergotropy(np.diag([1.5, -0.5]), H)
    with pytest.raises(InputError, match="numeric"):
        ergotropy(np.array([["a", "b"], ["c", "d"]]), H)


def test_passive_energy_rejects_bad_input():
    with pytest.raises(InputError, match="populations: expected a 1-D"):
        passive_energy(np.eye(2), [0.0, 1.0])
    with pytest.raises(InputError, match="energies: contains NaN"):
        passive_energy([1.0], [np.nan])
    with pytest.raises(InputError, match="energies: must be real"):
        passive_energy([1.0], [1j])
    with pytest.raises(InputError, match="negative eigenvalue"):
        passive_energy([1.2, -0.2], [0.0, 1.0])


def test_entropies_reject_bad_input():
    psi = np.ones(8) / np.sqrt(8)
    with pytest.raises(InputError, match="does not match prod"):
        entanglement_entropy(psi, (2, 2), [0])
    with pytest.raises(InputError, match="out of range"):
        entanglement_entropy(psi, (2, 2, 2), [3])
    with pytest.raises(InputError, match="repeated"):
        entanglement_entropy(psi, (2, 2, 2), [0, 0])
    with pytest.raises(InputError, match="not normalised"):
        entanglement_entropy(2 * psi, (2, 2, 2), [0])
    with pytest.raises(InputError, match="dims"):
        entanglement_entropy(psi, (2, 0, 2), [0])
    with pytest.raises(InputError, match="dims"):
        entanglement_entropy(psi, (2, 2.5, 2), [0])
    with pytest.raises(InputError, match="NaN"):
        entanglement_entropy(np.full(8, np.nan), (2, 2, 2), [0])
    with pytest.raises(InputError, match="trace"):
        von_neumann_entropy(np.eye(2))
    with pytest.raises(InputError, match="not Hermitian"):
        von_neumann_entropy(np.array([[0.5, 0.5], [0.0, 0.5]]))
    with pytest.raises(InputError, match="n_sites"):
        half_chain_entropy(psi, 0, 2)
