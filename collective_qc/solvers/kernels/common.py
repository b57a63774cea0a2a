"""Shared pieces of the trajectory kernels (plain arrays in named packs; ``cache=True``).

Packed operands (``packs``)
---------------------------
mats (``packs.Mats``): the CSR matrices H0, V, H_B, K0 = D^dag(H_B) concatenated, H0, H_B and K0
without their diagonals: cd (real or complex data), ci (column indices) and cp (n_mats, dim + 1)
row pointers into cd / ci (absolute offsets; rows H0, V, HB, K0 below), H_B and K0 on one
pattern; V's flip form (V x)_i = sum_q xc[q] x_(i XOR xm[q]) when it has one (a sigma^x field; xm
empty otherwise), which the fused kernels use instead of its CSR rows; the diagonals dg
(n_mats, dim) (dtype of cd) of H0, H_B and K0, applied element-wise (no index, no gather; dg[V]
is not read: V keeps its diagonal in its rows); form, the kernel form of the innermost loops
(``forms``: SIMD or scalar, the same bits). The kernels are also right with diagonal entries
left in the CSR rows and dg zero.
noise (``packs.Noise``): gam = diag of sum_k L_k^dag L_k (dim,), the monomial jump operators
L_c|k> = jv[c, k] |jt[c, k]> (a jump costs O(dim)) and jw[k, c] = |jv[c, k]|^2 (dim, n_channels).

The augmented generator of (psi, phi) (paper Eqs. (3)-(5): psi the state, phi = d psi / d lambda)
is A = [[H, 0], [f V, H]] with H = H0 + lambda f V - (i/2) Gamma, i d(psi, phi)/dt = A (psi, phi).
One application of A (``apply_aug``) is the unit "operator product" counted in the solver info.

Layout: the augmented vector y (2 dim,) is interleaved, y[2k] = psi_k and y[2k + 1] = phi_k, so a
matrix element reads psi and phi from one 32-byte pair (measured 1.5-1.7x faster products at
N = 10-14 than two separate blocks; every sum runs in the same order as before, so the numbers
are bitwise those of the block layout).

Random numbers: SplitMix64 seeded per trajectory from (seed, trajectory index) only, so results
do not depend on threads, batches or workers.
"""

from __future__ import annotations

import numpy as np
from numba import njit, types
from numba.extending import overload

from .forms import record_rows_0, record_rows_v, record_rows_x, row_dot, row_pair

H0, V, HB, K0 = 0, 1, 2, 3  # matrix slots: rows of mats.cp and mats.dg


@njit(cache=True, inline="always")
def splitmix(state):
    """Next state and a uniform number in [0, 1)."""
    state = (state + np.uint64(0x9E3779B97F4A7C15)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = state
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & np.uint64(0xFFFFFFFFFFFFFFFF)
    z = z ^ (z >> np.uint64(31))
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True)
def apply_aug(mats, gam, lf, f, x, out, alpha, beta, prev, gamma):
    """out = alpha A x + beta x + gamma prev for the augmented generator A (lf = lambda f); out
    must not share memory with x or prev.

    Three passes: the row sums of H0 and V (read once per row for psi and phi together), the
    element-wise rest (``_finish``) and the norms. Apart, the element-wise loop is vectorised by
    the compiler; with the gathers or the (ordered) norm sums inside it, it is not (measured 1.4x
    and 2.8x slower products). Returns the squared norms of the psi and phi parts of out.
    """
    cd, ci, cp, dg, form = mats.cd, mats.ci, mats.cp, mats.dg, mats.form
    dim = gam.shape[0]
    for i in range(dim):
        sp, sf = row_pair(form, cd, ci, cp[H0, i], cp[H0, i + 1], x)
        sp += dg[H0, i] * x[2 * i]
        sf += dg[H0, i] * x[2 * i + 1]
        if f != 0.0:
            vp, vf = row_pair(form, cd, ci, cp[V, i], cp[V, i + 1], x)
            sp += lf * vp
            sf += lf * vf + f * vp
        out[2 * i] = sp
        out[2 * i + 1] = sf
    a = complex(alpha)
    b = complex(beta)
    _finish(gam, x.view(np.float64), out.view(np.float64), prev.view(np.float64), a.real, a.imag, b.real,
            b.imag, gamma)
    n_psi = 0.0
    n_phi = 0.0
    for i in range(dim):
        a1 = out[2 * i]
        a2 = out[2 * i + 1]
        n_psi += a1.real ** 2 + a1.imag ** 2
        n_phi += a2.real ** 2 + a2.imag ** 2
    return n_psi, n_phi


@njit(cache=True, inline="always")
def _cmul(ar, ai, br, bi):
    """(ar + i ai)(br + i bi) as Numba multiplies complex numbers (a real factor enters with a
    zero imaginary part, as Numba converts it)."""
    return ar * br - ai * bi, ar * bi + ai * br


@njit(cache=True)
def _finish(gam, xf, of, pf, ar, ai, br, bi, gamma):
    """of = alpha (of - g x) + beta x + gamma prev element by element, g = (i/2) Gamma, on the
    arrays viewed as doubles: the operations of the complex expression, in its order (the same
    bits), in real arithmetic, which runs about 1.4x faster than Numba's complex code here."""
    for i in range(gam.shape[0]):
        gr, gi = _cmul(0.0, 0.5, gam[i], 0.0)  # 0.5j * gam[i]
        for k in range(4 * i, 4 * i + 4, 2):  # psi, then phi
            xr = xf[k]
            xi = xf[k + 1]
            hr, hi = _cmul(gr, gi, xr, xi)
            u1, u2 = _cmul(ar, ai, of[k] - hr, of[k + 1] - hi)
            v1, v2 = _cmul(br, bi, xr, xi)
            r1 = u1 + v1
            r2 = u2 + v2
            if gamma != 0.0:
                w1, w2 = _cmul(gamma, 0.0, pf[k], pf[k + 1])
                r1 += w1
                r2 += w2
            of[k] = r1
            of[k + 1] = r2


@njit(cache=True)
def norm2(y, dim):
    """||psi||^2 of the interleaved y."""
    s = 0.0
    for k in range(dim):
        s += y[2 * k].real ** 2 + y[2 * k].imag ** 2
    return s


@njit(cache=True)
def decay(y, gam):
    """d ||psi||^2 / dt = -<psi|Gamma|psi>."""
    s = 0.0
    for k in range(gam.shape[0]):
        s += gam[k] * (y[2 * k].real ** 2 + y[2 * k].imag ** 2)
    return -s


@njit(cache=True)
def hermite_root(n_a, d_a, n_b, d_b, h, r):
    """theta in [0, 1] where the cubic Hermite interpolant of ||psi||^2 (values n_a, n_b, time
    derivatives d_a, d_b over a step of length h) reaches r (bisection)."""
    lo = 0.0
    hi = 1.0
    for _ in range(60):
        x = 0.5 * (lo + hi)
        val = ((2 * x**3 - 3 * x**2 + 1) * n_a + (x**3 - 2 * x**2 + x) * h * d_a
               + (-2 * x**3 + 3 * x**2) * n_b + (x**3 - x**2) * h * d_b)
        if val > r:
            lo = x
        else:
            hi = x
    return 0.5 * (lo + hi)


def _record_sums(mats, y, dim, fj):
    """(||psi||^2, Re<psi|H_B|psi>, Re<phi|H_B|psi>, Re<psi|phi>, Re<psi|K0|psi>,
    Im<V psi|H_B psi> (0 when fj = 0)) of the interleaved y (stub: real data take the one-pass
    form of ``forms.record_rows_*``, H_B and K0 on one pattern; complex data the loop here)."""


@overload(_record_sums, inline="always")
def _record_sums_impl(mats, y, dim, fj):
    if mats.types[mats.fields.index("cd")].dtype == types.float64:
        def fused(mats, y, dim, fj):
            cd, ci, cp, xm, xc, dg, form = mats.cd, mats.ci, mats.cp, mats.xm, mats.xc, mats.dg, mats.form
            phb, pk0, pv, dhb, dk0 = cp[HB], cp[K0], cp[V], dg[HB], dg[K0]
            if fj == 0.0:
                return record_rows_0(form, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y)
            if xm.shape[0] > 0:
                return record_rows_x(form, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y)
            return record_rows_v(form, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y)
        return fused

    def general(mats, y, dim, fj):
        cd, ci, cp, dg, form = mats.cd, mats.ci, mats.cp, mats.dg, mats.form
        eb = 0.0
        cb = 0.0
        ov = 0.0
        pk = 0.0
        pv = 0.0
        for i in range(dim):
            hb = row_dot(form, cd, ci, cp[HB, i], cp[HB, i + 1], y) + dg[HB, i] * y[2 * i]
            k0 = row_dot(form, cd, ci, cp[K0, i], cp[K0, i + 1], y) + dg[K0, i] * y[2 * i]
            ps = np.conj(y[2 * i])
            eb += (ps * hb).real
            cb += (np.conj(y[2 * i + 1]) * hb).real
            ov += (ps * y[2 * i + 1]).real
            pk += (ps * k0).real
            if fj != 0.0:
                vs = row_dot(form, cd, ci, cp[V, i], cp[V, i + 1], y)
                pv += (np.conj(vs) * hb).imag
        return norm2(y, dim), eb, cb, ov, pk, pv
    return general


@njit(cache=True)
def record(mats, y, j, fj, par, dobs, rows):
    """Estimators at sample j from the unnormalised (psi, phi) = y (one pass, three products),
    into the trajectory's rows (``packs.Records``).

    E = <psi|H_B|psi>/n - e0, C_Q = 2 Re(<phi|H_B|psi> - e0 <psi|phi>)/n (control variate
    H_B - e0: unbiased since Tr rho = 1 for every lambda), P = (<psi|K0|psi> - 2 lambda f
    Im <V psi|H_B psi>)/n (lambda f i[V, H_B] + D^dag(H_B)), n = ||psi||^2; the diagonal
    observables dobs (n_obs, dim); the normalised state if stored. lambda, e0 from par
    (``packs.Params``).
    """
    lam = par.lam
    e0 = par.e0
    dim = y.shape[0] // 2
    n2, eb, cb, ov, pk, pv = _record_sums(mats, y, dim, fj)
    rows.e[j] = eb / n2 - e0
    rows.c[j] = 2.0 * (cb - e0 * ov) / n2
    rows.p[j] = (pk - 2.0 * lam * fj * pv) / n2
    for o in range(dobs.shape[0]):
        acc = 0.0
        for k in range(dim):
            acc += dobs[o, k] * (y[2 * k].real ** 2 + y[2 * k].imag ** 2)
        rows.d[o, j] = acc / n2
    if rows.psi.shape[0] > 0:
        s = np.sqrt(n2)
        for k in range(dim):
            rows.psi[j, k] = y[2 * k] / s


@njit(cache=True)
def draw_member(state, p0cum, psi0s, y, dim):
    """Pick the initial mixture member with the cumulative weights p0cum; y = (member, 0)."""
    state, u = splitmix(state)
    m = 0
    while m < p0cum.shape[0] - 1 and u > p0cum[m]:
        m += 1
    for k in range(dim):
        y[2 * k] = psi0s[k, m]
        y[2 * k + 1] = 0.0
    return state


@njit(cache=True)
def jump(state, y, yt, w, noise):
    """Quantum jump: channel c with probability ~ ||L_c psi||^2 = sum_k |v_ck|^2 |psi_k|^2 (channel
    weights from the stored |v|^2, all channels in one pass over psi); psi, phi -> L_c psi,
    L_c phi, both divided by ||L_c psi|| (the same linear map and factor for the state and its
    tangent)."""
    gam, jt, jv, jw = noise.gam, noise.jt, noise.jv, noise.jw
    dim = gam.shape[0]
    nch = jt.shape[0]
    for c in range(nch):
        w[c] = 0.0
    for k in range(dim):
        p2 = y[2 * k].real ** 2 + y[2 * k].imag ** 2
        for c in range(nch):
            w[c] += jw[k, c] * p2
    tot = 0.0
    for c in range(nch):
        tot += w[c]
    state, u = splitmix(state)
    u *= tot
    ch = 0
    acc = w[0]
    while ch < nch - 1 and u > acc:
        ch += 1
        acc += w[ch]
    for k in range(2 * dim):
        yt[k] = 0.0
    for k in range(dim):
        val = jv[ch, k]
        if val != 0.0:
            yt[2 * jt[ch, k]] += val * y[2 * k]
            yt[2 * jt[ch, k] + 1] += val * y[2 * k + 1]
    nrm = np.sqrt(norm2(yt, dim))
    for k in range(2 * dim):
        y[k] = yt[k] / nrm
    return state


@njit(cache=True)
def envelope(t, env, f_seg):
    """f(t): the segment's constant f_seg for piecewise-constant protocols (env[0] == 0), else the
    cubic Hermite interpolant of the table env = (1, t0, dt, n, f_0..f_{n-1}, f'_0..f'_{n-1})."""
    if env[0] == 0.0:
        return f_seg
    t0 = env[1]
    dt = env[2]
    n = int(env[3])
    x = (t - t0) / dt
    k = int(np.floor(x))
    k = min(max(k, 0), n - 2)
    s = x - k
    fa = env[4 + k]
    fb = env[5 + k]
    da = env[4 + n + k] * dt
    db = env[5 + n + k] * dt
    return ((2 * s**3 - 3 * s**2 + 1) * fa + (s**3 - 2 * s**2 + s) * da
            + (-2 * s**3 + 3 * s**2) * fb + (s**3 - s**2) * db)
