"""The kernel forms (``kernels.forms``): the SIMD (LLVM vector IR) and scalar (plain Numba) forms
of every innermost loop give the same bits, entry point by entry point and on seeded
trajectories; the CSR row sums give the bits of the plain complex loops (signed zeros included);
the Chebyshev series sums and fused product match the complex arithmetic to round-off."""

import os
import subprocess
import sys

import numpy as np
import pytest
import scipy.sparse as sp
from numba import njit

from collective_qc.solvers.kernels import forms
from collective_qc.solvers.kernels.chebyshev import _product, _series
from collective_qc.solvers.kernels.common import _record_sums, apply_aug
from collective_qc.solvers.kernels.forms import KernelForm, row_dot, row_pair, series_sums4
from collective_qc.solvers.kernels.packs import Mats, ProductCoefs, ProductOps, Series
from collective_qc.solvers.trajectory_setup import charger_flips, common_pattern, pack_csr, split_diagonals

SIMD, SCALAR = KernelForm("simd"), KernelForm("scalar")
FORMS = [SIMD, SCALAR]
needs_simd = pytest.mark.skipif(not forms.simd_available(), reason="the SIMD IR cannot be built here")


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
def _form_rows(form, cd, ci, cp, x):
    n = cp.shape[0] - 1
    out = np.empty((n, 3), dtype=np.complex128)
    for i in range(n):
        out[i, 0], out[i, 1] = row_pair(form, cd, ci, cp[i], cp[i + 1], x)
        out[i, 2] = row_dot(form, cd, ci, cp[i], cp[i + 1], x)
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


@needs_simd
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
    ref = _bits(_scalar_rows(cd, ci, cp, x))
    for form in FORMS:
        np.testing.assert_array_equal(_bits(_form_rows(form, cd, ci, cp, x)), ref, err_msg=form.name)


def _reference_series(b, ph, W, m, psi_only):
    """ph sum_i b_i (-i)^(i mod 2) W[i] in NumPy (complex coefficients, one term at a time)."""
    rot = np.array([1.0, -1j])[np.arange(m + 1) % 2]
    cols = W[: m + 1, 0:2 * (W.shape[1] // 2):2] if psi_only else W[: m + 1]
    return ph * ((b[: m + 1] * rot) @ cols)


def _series_one(b, ph, W, m, kb, ke, out, psi_only, form=SIMD):
    _series_jit(Series(W, np.empty(0), np.empty(0), b, form), ph, m, kb, ke, out, psi_only)


@njit
def _series_jit(ser, ph, m, kb, ke, out, psi_only):
    _series(ser, ph, m, kb, ke, out, psi_only)


@njit
def _series_four(form, bs, phs, W, m, kb, ke, outs):
    series_sums4(form, bs, phs, 0, W, m, kb, ke, outs)


@needs_simd
@pytest.mark.parametrize("psi_only", [False, True])
@pytest.mark.parametrize("m", [0, 1, 4, 7, 13])
def test_series_sums_match_the_complex_series(psi_only, m):
    """Real weights with the (-i)^k factors taken out give the complex series to round-off; a
    sub-range [kb, ke) leaves the rest of out untouched."""
    rng = np.random.default_rng(m)
    n = 2 * 37
    W = _awkward(rng, (m + 1) * (n + 8)).reshape(m + 1, n + 8)[:, :n].copy()
    b = rng.standard_normal(m + 2)
    ph = complex(np.exp(0.3 - 0.7j))
    size = n // 2 if psi_only else n
    ref = _reference_series(b, ph, W, m, psi_only)
    out = np.full(size, 7.0 + 0j)
    _series_one(b, ph, W, m, 0, size, out, psi_only)
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-14 * np.abs(ref).max())
    part = np.full(size, 7.0 + 0j)
    _series_one(b, ph, W, m, 10, 30, part, psi_only)
    np.testing.assert_array_equal(_bits(part[10:30]), _bits(out[10:30]))
    assert np.all(part[:10] == 7.0) and np.all(part[30:] == 7.0)
    for kb, ke in ((0, size), (10, 30)):
        scalar = np.full(size, 7.0 + 0j)
        _series_one(b, ph, W, m, kb, ke, scalar, psi_only, SCALAR)
        np.testing.assert_array_equal(_bits(scalar), _bits(part if kb else out))


@needs_simd
@pytest.mark.parametrize("m", [1, 6, 13])
def test_four_samples_at_once_are_the_single_sample_bits(m):
    """series_sums4 (one pass for four samples, zero weights past a sample's own cut) gives the bits
    of four single-sample sums, on a padded W as the kernels store it."""
    rng = np.random.default_rng(10 + m)
    n = 2 * 40
    Wp = _awkward(rng, (m + 1) * (n + 8)).reshape(m + 1, n + 8)
    bs = rng.standard_normal((4, m + 2))
    bs[2, m:] = 0.0  # a sample cut one term earlier
    phs = np.exp(1j * rng.standard_normal(4)) * 0.9
    for form in FORMS:
        outs = np.empty((4, n), dtype=np.complex128)
        _series_four(form, bs, phs, Wp, m, 0, n, outs)
        for s in range(4):
            one = np.empty(n, dtype=np.complex128)
            _series_one(bs[s], phs[s], Wp, m - 1 if s == 2 else m, 0, n, one, False, SIMD)
            np.testing.assert_array_equal(_bits(outs[s]), _bits(one), err_msg=form.name)


@njit
def _fused(mats, gam, lf, f, x, out, alpha, beta, prev, gamma):
    return _product(mats, gam, lf, f, x, out, alpha, beta, prev, gamma)


@pytest.mark.parametrize("f", [0.0, 0.7])
def test_fused_chebyshev_product_matches_apply_aug(f):
    """The one-pass product of the Chebyshev recurrence (real matrix data) against the three-pass
    ``apply_aug``: out and the psi and phi norms to round-off."""
    rng = np.random.default_rng(3)
    dim, per_row = 50, 5
    ci = rng.integers(0, dim, size=(2, dim * per_row)).astype(np.int32)
    cd = rng.standard_normal((2, dim * per_row))
    cp = np.stack([np.arange(0, dim * per_row + 1, per_row), np.arange(0, dim * per_row + 1, per_row) + dim * per_row])
    mats = Mats(cd.ravel(), ci.ravel(), cp.astype(np.int64), np.zeros(0, dtype=np.int64), np.zeros(0),
                np.zeros((2, dim)), forms.kernel_form())
    gam = rng.random(dim)
    x = rng.standard_normal(2 * dim) + 1j * rng.standard_normal(2 * dim)
    prev = rng.standard_normal(2 * dim) + 1j * rng.standard_normal(2 * dim)
    args = (0.3 * f, f, x)
    for alpha, beta, gamma in ((1.0 / 3.0, -0.2 + 0.05j, 0.0), (2.0 / 3.0, -0.4 + 0.1j, -1.0)):
        ref = np.empty_like(x)
        got = np.empty_like(x)
        n_ref = apply_aug(mats, gam, *args, ref, alpha, beta, prev, gamma)
        n_got = _fused(mats, gam, *args, got, alpha, beta, prev, gamma)
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14 * np.abs(ref).max())
        np.testing.assert_allclose(n_got, n_ref, rtol=1e-13)


def _mats(packed, flips=None, form=None):
    """The kernels' mats from pack_csr's (cd, ci, cp, dg) and a flip form (none by default)."""
    cd, ci, cp, dg = packed
    if flips is None:
        flips = (np.zeros(0, dtype=np.int64), np.zeros(0))
    return Mats(cd, ci, cp, *flips, dg, forms.kernel_form() if form is None else form)


@njit
def _sums(mats, y, fj):
    return _record_sums(mats, y, y.shape[0] // 2, fj)


@pytest.mark.parametrize("fj", [0.0, 0.8])
def test_record_sums_one_pass_match_the_scalar_loop(fj):
    """The recording's six sums, H_B and K0 on one pattern (``common_pattern``) read in one vector
    pass, against the scalar complex loop (the same matrices with complex data) and NumPy."""
    rng = np.random.default_rng(5)
    dim = 40
    H0, V, HB, K0 = (sp.random(dim, dim, density=0.15, random_state=k, format="csr") for k in range(4))
    HB = HB + HB.T
    hb, k0 = common_pattern(HB, K0)
    assert np.array_equal(hb.indptr, k0.indptr) and np.array_equal(hb.indices, k0.indices)
    assert abs(hb - HB).max() == 0 and abs(k0 - K0).max() == 0
    real = _mats(pack_csr([H0, V, hb, k0]))
    cplx = real._replace(cd=real.cd.astype(np.complex128), dg=real.dg.astype(np.complex128))
    y = rng.standard_normal(2 * dim) + 1j * rng.standard_normal(2 * dim)
    got, ref = _sums(real, y, fj), _sums(cplx, y, fj)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)
    psi, phi = y[0::2], y[1::2]
    hp = HB @ psi
    expect = (np.vdot(psi, psi).real, np.vdot(psi, hp).real, np.vdot(phi, hp).real, np.vdot(psi, phi).real,
              np.vdot(psi, K0 @ psi).real, np.vdot(V @ psi, hp).imag if fj else 0.0)
    np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)


def _field(n, amps, rng=None):
    """sum_k amps[k] sigma^x_k on n spins as CSR (bit k of the basis index flips), rows shuffled
    by nothing: the full computational basis."""
    dim = 2 ** n
    rows = np.repeat(np.arange(dim), n)
    cols = (rows ^ np.tile(1 << np.arange(n), dim))
    return sp.csr_matrix((np.tile(amps, dim), (rows, cols)), shape=(dim, dim))


def test_charger_flips_takes_real_sigma_x_fields_only():
    amps = np.array([0.5, 0.7, -0.2, 1.1])
    masks, coefs = charger_flips(_field(4, amps))
    np.testing.assert_array_equal(masks, 1 << np.arange(4))
    np.testing.assert_array_equal(coefs, amps)
    for not_flip in (_field(4, amps) * 1j,  # complex data
                     _field(4, amps) + sp.diags(np.arange(16.0)),  # a varying diagonal
                     sp.random(16, 16, density=0.2, random_state=1, format="csr")):
        assert charger_flips(not_flip)[0].size == 0


@pytest.mark.parametrize("f", [0.7])
def test_flip_form_of_v_matches_its_csr_rows(f):
    """Product and recording sums with V applied from its flip form against its CSR rows."""
    rng = np.random.default_rng(4)
    n = 5
    dim = 2 ** n
    V = _field(n, rng.standard_normal(n))
    H0 = sp.random(dim, dim, density=0.1, random_state=2, format="csr")
    hb, k0 = common_pattern(H0 + H0.T, sp.random(dim, dim, density=0.1, random_state=3, format="csr"))
    csr = pack_csr([H0, V, hb, k0])
    mats_csr = _mats(csr)
    mats_xor = _mats(csr, charger_flips(V))
    assert mats_xor.xm.size == n
    gam = rng.random(dim)
    x, prev = (rng.standard_normal(2 * dim) + 1j * rng.standard_normal(2 * dim) for _ in range(2))
    a, b = np.empty_like(x), np.empty_like(x)
    n_a = _fused(mats_csr, gam, 0.3 * f, f, x, a, 2.0 / 3.0, -0.4 + 0.1j, prev, -1.0)
    n_b = _fused(mats_xor, gam, 0.3 * f, f, x, b, 2.0 / 3.0, -0.4 + 0.1j, prev, -1.0)
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-14 * np.abs(a).max())
    np.testing.assert_allclose(n_b, n_a, rtol=1e-13)
    np.testing.assert_allclose(_sums(mats_xor, x, f), _sums(mats_csr, x, f), rtol=1e-13, atol=1e-13)


def test_charger_flips_needs_whole_row_blocks():
    """The flip form is applied XOR_BLOCK rows per pass: a dimension that is not a multiple is
    left to the CSR rows."""
    V = sp.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]))  # sigma^x on one spin: dim 2
    assert charger_flips(V)[0].size == 0


def test_charge_with_and_without_the_flip_form(monkeypatch):
    """A seeded trajectory run gives the same E, P, C_Q (to round-off) with V applied from its
    flip form and from its CSR rows."""
    import collective_qc as cqc
    from collective_qc.solvers import trajectory_setup

    kw = dict(params={"N": 4, "J": 0.3}, t_max=3.0, n_times=16, method="trajectories", dephasing=0.05,
              relaxation=0.1, ntraj=8, seed=2)
    a = cqc.charge("xxz-chain", 0.5, **kw)
    monkeypatch.setattr(trajectory_setup, "charger_flips", lambda V: (np.zeros(0, dtype=np.int64), np.zeros(0)))
    b = cqc.charge("xxz-chain", 0.5, **kw)
    for x, y in ((a.energy, b.energy), (a.power, b.power), (a.capacitance, b.capacitance)):
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-12 * np.abs(y).max())
    # the two paths did run: their sums differ in the last bits (fixed seed, so this is stable)
    assert not np.array_equal(a.power, b.power) or not np.array_equal(a.capacitance, b.capacitance)


def test_diagonals_apart_match_diagonals_in_the_rows():
    """Product (fused and apply_aug) and recording sums with the diagonals kept apart
    (``split_diagonals``) against the same matrices with their diagonals in the CSR rows."""
    rng = np.random.default_rng(8)
    dim = 24
    H0, V, HB, K0 = (sp.random(dim, dim, density=0.2, random_state=10 + k, format="csr") + sp.diags(rng.random(dim))
                     for k in range(4))
    hb, k0 = common_pattern(HB, K0)
    rows = _mats(pack_csr([H0, V, hb, k0]))
    (h0o, hbo, k0o), (d0, dhb, dk0) = split_diagonals([H0, HB, K0])  # V keeps its diagonal
    hbo, k0o = common_pattern(hbo, k0o)
    apart = _mats(pack_csr([h0o, V, hbo, k0o], [d0, np.zeros(dim), dhb, dk0]))
    assert np.any(apart.dg != 0) and not np.any(rows.dg)
    gam = rng.random(dim)
    x, prev = (rng.standard_normal(2 * dim) + 1j * rng.standard_normal(2 * dim) for _ in range(2))
    for product in (_fused, apply_aug):
        a, b = np.empty_like(x), np.empty_like(x)
        n_a = product(rows, gam, 0.2, 0.7, x, a, 2.0 / 3.0, -0.4 + 0.1j, prev, -1.0)
        n_b = product(apart, gam, 0.2, 0.7, x, b, 2.0 / 3.0, -0.4 + 0.1j, prev, -1.0)
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-13 * np.abs(a).max())
        np.testing.assert_allclose(n_b, n_a, rtol=1e-13)
    np.testing.assert_allclose(_sums(apart, x, 0.7), _sums(rows, x, 0.7), rtol=1e-13, atol=1e-13)


# --- The two kernel forms: the same bits -------------------------------------------------------


@njit
def _cheb_rows_all(form, ops, coefs, x, prev, outs):
    """The three fused products (V not read, CSR rows, flip form) into outs[0..2]; their norms."""
    return (forms.cheb_rows_0(form, ops, coefs, x, prev, outs[0]),
            forms.cheb_rows_v(form, ops, coefs, x, prev, outs[1]),
            forms.cheb_rows_x(form, ops, coefs, x, prev, outs[2]))


@njit
def _record_rows_all(form, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y):
    return (forms.record_rows_0(form, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y),
            forms.record_rows_v(form, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y),
            forms.record_rows_x(form, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y))


@njit
def _series_all(form, bs, phs, W, m, outs, outs_psi):
    forms.series_sums(form, bs, phs[1], 1, W, m, 2, outs.shape[1], outs)
    forms.series_sums4(form, bs, phs, 2, W, m, 0, outs.shape[1], outs)
    forms.series_sums_psi(form, bs, phs, 0, W, m, 0, outs_psi.shape[1], outs_psi)


def _flip_problem(rng, n=5):
    """H0, H_B, K0 random sparse with awkward entries on 2^n states, V a sigma^x field (CSR rows
    and flip form), H_B and K0 on one pattern."""
    dim = 2 ** n
    V = _field(n, rng.standard_normal(n))
    H0 = sp.random(dim, dim, density=0.15, random_state=11, format="csr")
    H0.data[::4] = -0.0
    hb, k0 = common_pattern(H0 + H0.T, sp.random(dim, dim, density=0.15, random_state=12, format="csr"))
    (h0o, hbo, k0o), (d0, dhb, dk0) = split_diagonals([H0, hb, k0])
    hbo, k0o = common_pattern(hbo, k0o)
    return pack_csr([h0o, V, hbo, k0o], [d0, np.zeros(dim), dhb, dk0]), charger_flips(V), dim


@needs_simd
def test_every_entry_point_gives_the_same_bits_in_both_forms():
    """SIMD against scalar, entry point by entry point, on awkward inputs (signed zeros, exact
    zeros, negative parts): the fused products and their norms, the recording sums, the series
    sums (one sample, four, psi alone): bitwise."""
    rng = np.random.default_rng(21)
    (cd, ci, cp, dg), (xm, xc), dim = _flip_problem(rng)
    assert xm.size == 5
    ops = ProductOps(cd, ci, cp[0], cp[1], xm, xc, dg[0], rng.random(dim))
    x, prev = _awkward(rng, 2 * dim), _awkward(rng, 2 * dim)
    rec = (cd, ci, cp[2], cp[3], cp[1], xm, xc, dg[2], dg[3], x)
    m = 9
    W = _awkward(rng, (m + 1) * (2 * dim + 8)).reshape(m + 1, 2 * dim + 8)
    bs, phs = rng.standard_normal((6, m + 1)), np.exp(1j * rng.standard_normal(6))
    got = {}
    for form in FORMS:
        res = []
        for coefs in (ProductCoefs(1.0 / 3.0, -0.2, 0.05, 0.0, 0.3, 0.7),
                      ProductCoefs(0.6, -0.4, 0.1, -1.0, -0.2, -0.5)):
            outs = np.full((3, 2 * dim), np.nan + 0j)
            res += [np.array(_cheb_rows_all(form, ops, coefs, x, prev, outs)), outs]
        res.append(np.array(_record_rows_all(form, *rec)))
        outs, outs_psi = np.full((6, 2 * dim), 3.0 + 0j), np.full((6, dim), 3.0 + 0j)
        _series_all(form, bs, phs, W, m, outs, outs_psi)
        got[form.name] = res + [outs, outs_psi]
    for a, b in zip(got["simd"], got["scalar"]):
        np.testing.assert_array_equal(_bits(a), _bits(b))


def _charge_bits(form, monkeypatch, case, flips=True):
    """E, P, C_Q and their errors of a seeded trajectory run with the kernel form `form`."""
    import collective_qc as cqc
    from collective_qc.solvers import trajectory_setup

    monkeypatch.setenv(forms.ENV, form)
    if not flips:
        monkeypatch.setattr(trajectory_setup, "charger_flips", lambda V: (np.zeros(0, dtype=np.int64), np.zeros(0)))
    model, kw = case
    r = cqc.charge(model, 0.5, t_max=3.0, n_times=16, method="trajectories", ntraj=8, seed=2, **kw)
    return np.stack([r.energy, r.power, r.capacitance, r.energy_stderr, r.capacitance_stderr])


CASES = {  # real charger in its flip form and from CSR rows; a complex charger (sigma^y)
    "xxz-chain flip form": (("xxz-chain", dict(params={"N": 4, "J": 0.3}, dephasing=0.05, relaxation=0.1)), True),
    "xxz-chain CSR rows": (("xxz-chain", dict(params={"N": 4, "J": 0.3}, dephasing=0.05, relaxation=0.1)), False),
    "xxz-ring sigma^y": (("xxz-ring", dict(params={"N": 4}, charger="field:axis=y", dephasing=0.05,
                                           relaxation=0.1)), True),
}


@needs_simd
@pytest.mark.slow  # ~85 s on a cold Numba cache (it compiles the other form of every kernel); run with -m slow
@pytest.mark.parametrize("case", list(CASES))
def test_seeded_trajectories_are_the_same_bits_in_both_forms(case, monkeypatch):
    """Both forms in one process (two compiled specialisations of the same cached kernels: the
    form is part of their signature), on the same seeded trajectories: bitwise equal."""
    from collective_qc.solvers.kernels import driver

    problem, flips = CASES[case]
    simd = _charge_bits("simd", monkeypatch, problem, flips)
    scalar = _charge_bits("scalar", monkeypatch, problem, flips)
    np.testing.assert_array_equal(_bits(scalar), _bits(simd))
    mats_types = {str(sig[0]) for sig in driver._run_chebyshev.signatures}
    assert any("KernelForm[simd]" in t for t in mats_types) and any("KernelForm[scalar]" in t for t in mats_types)


_CHILD = """
import numpy as np
import collective_qc as cqc
from collective_qc.solvers.kernels import driver
r = cqc.charge("xxz-chain", 0.5, params={"N": 4, "J": 0.3}, dephasing=0.05, relaxation=0.1, t_max=3.0, n_times=16,
               method="trajectories", ntraj=8, seed=2)
np.save(__import__("sys").argv[1], np.stack([r.energy, r.power, r.capacitance, r.energy_stderr,
                                             r.capacitance_stderr]))
print(sorted(str(sig[0]) for sig in driver._run_chebyshev.signatures))
"""


@pytest.mark.slow
@needs_simd
def test_switching_the_variable_between_processes_never_reuses_the_other_form(tmp_path, monkeypatch):
    """Fresh processes sharing the on-disk cache, the form switched by CQC_KERNELS each time: each
    runs the kernels compiled for its own form (their signatures name it; a cached kernel keyed
    without the form would have answered with the first process's form), with the same bits."""
    out = {}
    for form in ("simd", "scalar", "simd"):
        path = tmp_path / f"{form}.npy"
        env = dict(os.environ, **{forms.ENV: form})
        res = subprocess.run([sys.executable, "-c", _CHILD, str(path)], env=env, capture_output=True, text=True,
                             timeout=600, check=True)
        compiled = res.stdout.strip().splitlines()[-1]  # the kernel's signatures in that process
        other = "scalar" if form == "simd" else "simd"
        assert f"KernelForm[{form}]" in compiled and f"KernelForm[{other}]" not in compiled, compiled
        out[form] = np.load(path)
    np.testing.assert_array_equal(_bits(out["scalar"]), _bits(out["simd"]))


def test_kernel_form_choice(monkeypatch):
    """auto: SIMD where it builds, else scalar; simd forced where it cannot build: an error;
    anything else: an error naming the variable."""
    monkeypatch.setenv(forms.ENV, "scalar")
    assert forms.kernel_form() == SCALAR
    assert forms.kernel_form("simd" if forms.simd_available() else "scalar").name in ("simd", "scalar")
    monkeypatch.delenv(forms.ENV)
    assert forms.kernel_form() == (SIMD if forms.simd_available() else SCALAR)
    monkeypatch.setattr(forms, "simd_available", lambda: False)
    assert forms.kernel_form() == SCALAR
    assert forms.kernel_form(" Auto ") == SCALAR
    with pytest.raises(RuntimeError, match="CQC_KERNELS=simd"):
        forms.kernel_form("simd")
    monkeypatch.setenv(forms.ENV, "vector")
    with pytest.raises(ValueError, match="CQC_KERNELS"):
        forms.kernel_form()
