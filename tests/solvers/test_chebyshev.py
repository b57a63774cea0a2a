"""The Chebyshev core shared by the closed, exact and trajectory paths (issue 23 item 2): its one
coefficient routine against scipy.special.jv, its one spectral-bound routine against dense
eigenvalues, its one termination rule against a dense expm; and the flip-form detector."""

import math

import numpy as np
import pytest
import scipy.linalg as sla
import scipy.sparse as sp
from scipy.special import jv

from collective_qc.solvers.chebyshev import (
    bessel_terms,
    charger_pack,
    closed_step,
    csr_arrays,
    max_terms,
    spectral_interval,
    term_error,
    xor_form,
)


@pytest.mark.parametrize("z", [0.0, 1e-3, 0.3, 7.5, 31.0, 56.0, 99.9, 120.0])
def test_bessel_weights_match_scipy(z):
    """(2 - delta_k0) J_k(z) over the whole term budget of a step (k up to 2.5 z + 60): within
    2e-14 of scipy (whose own error reaches 5e-15 at z = 120; Miller's recurrence: 3e-16 against
    40-digit mpmath)."""
    k = max_terms(z)
    ref = jv(np.arange(k), z)
    ref[1:] *= 2.0
    np.testing.assert_allclose(bessel_terms(z, k), ref, rtol=0, atol=2e-14)


def _hermitian(dim, density, seed, complex_=True):
    rng = np.random.default_rng(seed)
    A = sp.random(dim, dim, density=density, random_state=seed, format="csr")
    if complex_:
        A = A + 1j * sp.random(dim, dim, density=density, random_state=seed + 1, format="csr")
    return (A + A.conj().T + sp.diags(rng.standard_normal(dim))).tocsr()


@pytest.mark.parametrize("dim, complex_", [(60, True), (60, False), (700, True), (700, False)])
def test_spectral_interval_holds_the_spectrum(dim, complex_):
    """Dense branch (dim <= 400) and ARPACK branch: the interval holds every eigenvalue and is at
    most ~1 % wider than the spectrum."""
    H = _hermitian(dim, 8.0 / dim, dim, complex_)
    w = np.linalg.eigvalsh(H.toarray())
    c, a = spectral_interval(H)
    half = 0.5 * (w[-1] - w[0])
    assert c - a <= w[0] and w[-1] <= c + a
    assert a <= 1.011 * half + 1e-5 * max(abs(w[0]), abs(w[-1]), 1.0)
    assert spectral_interval(H) == (c, a)  # fixed start vector: the same bits on every call


def test_term_error_waits_for_the_transition():
    assert term_error(5, 5.0, 0.0, 0.0, 1.0) == np.inf  # m <= z: the terms need not decay yet
    assert term_error(6, 5.0, 1e-13, 2e-13, 1e-12) == pytest.approx(0.3)


@pytest.mark.parametrize("tol", [1e-6, 1e-9, 1e-12])
@pytest.mark.parametrize("seed", [0, 1])
def test_termination_rule_meets_the_tolerance(tol, seed):
    """The closed step, summed until ``term_error`` <= 1 (scale SERIES_MARGIN tol ||y||), against
    a dense expm of the augmented generator [[H, 0], [V, H]] (H = H0 + drive V) on random
    Hermitian matrices, at several dense-output offsets of one series (x = a s up to ~40): error
    below tol ||y||."""
    dim, drive = 48, 0.7
    H0, V = _hermitian(dim, 0.2, 10 + seed), _hermitian(dim, 0.2, 20 + seed, complex_=False)
    H = (H0 + drive * V).tocsr()
    c, a = spectral_interval(H)
    offsets = np.array([0.05, 0.3, 1.0]) * 40.0 / a
    rng = np.random.default_rng(seed)
    y = rng.standard_normal((2, dim)) + 1j * rng.standard_normal((2, dim))
    out, k = closed_step((csr_arrays(H0), charger_pack(V, False), drive), y, 1.0, offsets, (c, a), tol)
    assert out is not None and k < max_terms(a * offsets[-1])
    G = np.block([[H.toarray(), np.zeros((dim, dim))], [V.toarray(), H.toarray()]])
    scale = np.linalg.norm(y)
    for s, got in zip(offsets, out, strict=True):
        ref = sla.expm(-1j * s * G) @ y.reshape(-1)
        err = np.linalg.norm(got.reshape(-1) - ref)
        assert err <= tol * scale + 1e-12 * scale, (s, err)
    loose, k_loose = closed_step((csr_arrays(H0), charger_pack(V, False), drive), y, 1.0, offsets, (c, a), 1e-3)
    assert k_loose < k or tol >= 1e-3  # the rule follows the tolerance (fewer terms when looser)


def _field(n, amps):
    """sum_i amps[i] sigma^x_i on n spins 1/2, full basis (built here from bit flips, not QuSpin)."""
    dim = 2 ** n
    rows = np.repeat(np.arange(dim), n)
    cols = rows ^ np.tile(1 << np.arange(n), dim)
    return sp.csr_matrix((np.tile(np.asarray(amps), dim), (rows, cols)), shape=(dim, dim))


def test_xor_form_reads_masks_and_weights():
    amps = np.array([0.5, 0.7, -0.2])
    masks, vals = xor_form(_field(3, amps))
    np.testing.assert_array_equal(masks, [1, 2, 4])
    np.testing.assert_array_equal(vals, amps)
    assert vals.dtype == np.float64
    masks, vals = xor_form(_field(3, 1j * amps))  # constant complex weights keep their phase
    np.testing.assert_array_equal(vals, 1j * amps)
    # the form reproduces the matrix on a random vector
    x = np.random.default_rng(0).standard_normal(8)
    y = sum(v * x[np.arange(8) ^ m] for m, v in zip(masks, vals))
    np.testing.assert_allclose(y, _field(3, 1j * amps) @ x, rtol=0, atol=1e-15)


def test_xor_form_ignores_explicit_zeros():
    F = _field(2, [1.0, 2.0]).tocoo()
    A = sp.csr_matrix((np.r_[F.data, 0.0], (np.r_[F.row, 0], np.r_[F.col, 0])), shape=F.shape)
    assert A.nnz == F.nnz + 1  # the zero is stored
    masks, vals = xor_form(A)
    np.testing.assert_array_equal(masks, [1, 2])
    np.testing.assert_array_equal(vals, [1.0, 2.0])


def test_xor_form_rejects_other_matrices():
    sy = np.array([[0, -1j], [1j, 0]])  # sigma^y: weight depends on the row
    for A in (_field(3, [1.0, 1.0, 1.0]) + sp.diags(np.arange(8.0)),  # a varying diagonal
              sp.csr_matrix(np.kron(np.eye(4), sy)),
              sp.random(8, 8, density=0.3, random_state=1, format="csr"),
              sp.csr_matrix((6, 6)),  # empty
              sp.csr_matrix(np.ones((3, 3)) - np.eye(3))):  # dimension not a power of two
        assert xor_form(A) is None


def test_closed_propagator_same_with_flip_form_and_csr():
    """The closed solver's Chebyshev step with V applied from its flip form and from its CSR rows
    (XXZ ring N = 6 under a sigma^x charger), and both against expm of the augmented generator."""
    from collective_qc.physics.graph import validate_graph
    from collective_qc.physics.operators import build_operators
    from collective_qc.physics.registry import make_model
    from collective_qc.solvers.closed import ChebyshevPropagator

    ops = build_operators(validate_graph(make_model("xxz-ring", {"N": 6, "J": 0.3, "Delta": 0.5}).graph()))
    assert xor_form(ops.V) is not None
    rng = np.random.default_rng(3)
    y = rng.standard_normal((2, ops.dim, 1)) + 1j * rng.standard_normal((2, ops.dim, 1))
    a = ChebyshevPropagator(ops, 0.5).step(y, 1.0, 2.0)
    b = ChebyshevPropagator(ops, 0.5, matrix_free=False).step(y, 1.0, 2.0)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)
    H = (ops.H0 + 0.5 * ops.V).toarray()
    G = np.block([[H, np.zeros_like(H)], [ops.V.toarray(), H]])  # d/dt (psi, d psi / d lambda)
    ref = sla.expm(-2.0j * G) @ y[:, :, 0].reshape(-1)
    np.testing.assert_allclose(a[:, :, 0].reshape(-1), ref, rtol=0, atol=1e-8 * np.abs(ref).max())


def _norms_with_threads(fn, n_threads):
    import numba

    before = numba.get_num_threads()
    numba.set_num_threads(n_threads)
    try:
        return fn()
    finally:
        numba.set_num_threads(before)


def test_term_norms_do_not_depend_on_the_thread_count():
    """Issue 22 item 5: the closed kernel's |P|^2 was ``norms.sum()`` inside a parallel=True
    function, a parallel reduction whose order (last bits) followed the thread count; it decides
    when the series stops, so closed runs differed in the last digits across workers."""
    import numba

    from collective_qc.solvers.chebyshev import _term
    from collective_qc.solvers.matrix_form import norm2

    if numba.config.NUMBA_NUM_THREADS < 2:
        import pytest

        pytest.skip("needs two Numba threads")
    n = 12
    rng = np.random.default_rng(3)
    H = _field(n, rng.standard_normal(n)) + sp.diags(rng.standard_normal(2 ** n))
    V = _field(n, np.ones(n))
    U = rng.standard_normal((2, 2 ** n)) + 1j * rng.standard_normal((2, 2 ** n))
    prm = np.array([0.5, 1.0, 0.1, 0.2, -1.0], dtype=np.complex128)

    def norm(vpack):
        P = np.ones_like(U)
        acc = np.zeros((2 ** n, 2, 1), dtype=np.complex128)
        return _term(csr_arrays(H), vpack, prm, U, P, acc, np.ones(1)), P

    for vpack in (charger_pack(V, True), charger_pack(V, False)):
        (one, P), (two, _) = (_norms_with_threads(lambda vp=vpack: norm(vp), k) for k in (1, 2))
        assert one == two  # bitwise
        np.testing.assert_allclose(one, math.fsum(np.abs(P.ravel()) ** 2), rtol=1e-13)
    R = rng.standard_normal((300, 300)) + 1j * rng.standard_normal((300, 300))
    a, b = (_norms_with_threads(lambda: norm2(R, 2 * R), k) for k in (1, 2))
    assert a == b
    np.testing.assert_allclose(a, np.sqrt(5) * np.linalg.norm(R), rtol=1e-13)


@pytest.mark.parametrize("z", [1e-300, 1e-100, 1e-31, 1e-29])
def test_bessel_weights_at_tiny_arguments(z):
    """The recurrence's 2k/z overflowed below z ~ 1e-56 (NaN weights: a closed step of length
    1e-285 halved itself without end, found by the fuzz test); the power series takes over."""
    from collective_qc.solvers.kernels.chebyshev import bessel_j

    out = np.empty(6)
    bessel_j(z, 5, out, np.empty(7))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out, jv(np.arange(6), z), rtol=1e-13, atol=0)


def test_tiny_window_runs():
    import collective_qc as cqc

    res = cqc.charge("giant-spin", params={"S": "3"}, t_max=1e-284, n_times=3)
    assert np.all(np.isfinite(res.energy))
