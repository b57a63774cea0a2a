"""The vector (SIMD) kernels give the bits of the scalar loops they replace, signed zeros included."""

import numpy as np
import pytest
from numba import njit

from collective_qc.solvers.kernels.chebyshev import _add_series
from collective_qc.solvers.kernels.simd import row_dot, row_pair


@njit
def _scalar_rows(cd, ci, cp, x):
    """Reference: the scalar complex loops (psi, phi sums per row; Numba's complex arithmetic)."""
    n = cp.shape[0] - 1
    out = np.empty((n, 3), dtype=np.complex128)
    for i in range(n):
        sp = 0.0j
        sf = 0.0j
        for p in range(cp[i], cp[i + 1]):
            sp += cd[p] * x[2 * ci[p]]
            sf += cd[p] * x[2 * ci[p] + 1]
        out[i, 0] = sp
        out[i, 1] = sf
        out[i, 2] = sp
    return out


@njit
def _vector_rows(cd, ci, cp, x):
    n = cp.shape[0] - 1
    out = np.empty((n, 3), dtype=np.complex128)
    for i in range(n):
        out[i, 0], out[i, 1] = row_pair(cd, ci, cp[i], cp[i + 1], x)
        out[i, 2] = row_dot(cd, ci, cp[i], cp[i + 1], x)
    return out


def _awkward(rng, n):
    """Random complex numbers with exact zeros of both signs and negative parts."""
    z = rng.standard_normal(n) + 1j * rng.standard_normal(n)
    z[::5] = 0.0
    z.real[1::7] = -0.0
    z.imag[2::9] = -0.0
    return z


def _bits(a):
    return np.asarray(a).view(np.uint64)


@pytest.mark.parametrize("kind", ["real", "complex"])
def test_row_sums_are_the_scalar_bits(kind):
    rng = np.random.default_rng(1)
    dim, per_row = 64, 7
    ci = rng.integers(0, dim, size=dim * per_row).astype(np.int32)
    cp = np.arange(0, dim * per_row + 1, per_row, dtype=np.int64)
    cp[5] = cp[4]  # an empty row
    cd = rng.standard_normal(dim * per_row)
    cd[::6] = 0.0
    cd[3::11] = -0.0
    if kind == "complex":
        cd = cd + 1j * rng.standard_normal(cd.size)
    x = _awkward(rng, 2 * dim)
    np.testing.assert_array_equal(_bits(_vector_rows(cd, ci, cp, x)), _bits(_scalar_rows(cd, ci, cp, x)))


@njit
def _scalar_terms(coef, W, m, psi_only):
    """Reference: out = coef[0] W[0] + coef[1] W[1] + ... term by term (the former _axpy loop)."""
    n = W.shape[1] // 2 if psi_only else W.shape[1]
    out = np.empty(n, dtype=np.complex128)
    for k in range(n):
        out[k] = coef[0] * W[0, 2 * k if psi_only else k]
    for i in range(1, m + 1):
        for k in range(n):
            out[k] += coef[i] * W[i, 2 * k if psi_only else k]
    return out


@njit
def _vector_terms(coef, W, m, psi_only, kb, ke):
    """The kernels' path: first term, then ``_add_series`` (vector form, four terms per pass)."""
    n = W.shape[1] // 2 if psi_only else W.shape[1]
    out = np.empty(n, dtype=np.complex128)
    for k in range(n):
        out[k] = coef[0] * W[0, 2 * k if psi_only else k]
    _add_series(coef, W, m, kb, ke, out, psi_only)
    return out


@pytest.mark.parametrize("psi_only", [False, True])
@pytest.mark.parametrize("m", [1, 4, 7, 13])
def test_series_sums_are_the_scalar_bits(psi_only, m):
    rng = np.random.default_rng(m)
    n = 2 * 37
    W = _awkward(rng, (m + 1) * n).reshape(m + 1, n)
    coef = _awkward(rng, m + 1)
    ref = _scalar_terms(coef, W, m, psi_only)
    size = n // 2 if psi_only else n
    got = _vector_terms(coef, W, m, psi_only, 0, size)
    np.testing.assert_array_equal(_bits(got), _bits(ref))
    if not psi_only:  # a sub-range [kb, ke) leaves the rest untouched (only the first term there)
        part = _vector_terms(coef, W, m, psi_only, 10, 30)
        np.testing.assert_array_equal(_bits(part[10:30]), _bits(ref[10:30]))
        np.testing.assert_array_equal(_bits(part[:10]), _bits(coef[0] * W[0, :10]))
