"""Vector (SIMD) forms of the kernels' inner loops, written as LLVM vector operations.

The only module with hand-written IR. Its entry points have the interface of ``scalar`` (the
plain-Numba fallback) and are reached through ``forms`` only, which picks this form when the IR
builds here (:func:`probe`) unless ``CQC_KERNELS`` says otherwise; this module is imported
lazily, so an llvmlite that cannot build it costs speed, not correctness.

Numba's default pipeline leaves the straight-line complex arithmetic of these loops scalar. All
forms use IEEE multiplies and adds without fused multiply-adds, in a fixed order, so the numbers
do not depend on threads or on how trajectories are batched; lane by lane they are the scalar
form's operations in its order, so the two forms give the same bits (tested).

Row sums of a CSR matrix against the interleaved augmented vector (psi_k, phi_k) (see ``common``):
``row_pair`` returns (sum_p a_p psi[j_p], sum_p a_p phi[j_p]) over one row, ``row_dot`` the psi
sum alone. For real matrix data (every model of the catalog with a real charger) each entry
is one multiply-add on the four doubles (Re psi, Im psi, Re phi, Im phi) of the pair, written as
an LLVM <4 x double> operation. Real data only: complex data take ``scalar``'s complex products.

``cheb_rows_0`` / ``_v`` / ``_x`` (V not read / CSR rows / flip form): the product of the
Chebyshev recurrence in one pass over the rows (row sums of H0 and V, H0's diagonal, the damping,
the recurrence's combination and the norms together): measured 1.4x (N = 10) and 1.6x (N = 14)
faster than the three passes of ``apply_aug``. A sigma^x charger's flip form
(V x)_i = sum_q c_q x_(i XOR m_q) is applied XOR_BLOCK rows per pass without a stored matrix.

``record_rows_0`` / ``_v`` / ``_x``: the six sums of one recording of E, P, C_Q in one pass
(H_B and D^dag(H_B) on one sparsity pattern, their diagonals apart, V as above).

``series_sums`` (one sample), ``series_sums4`` (four at once) and ``series_sums_psi``: the
Chebyshev series sum_k b_k (-i)^k W[k] with real weights b_k, the (-i)^k taken out as separate
even and odd sums (one multiply and one add per term and double, against six operations for a
complex coefficient); per vector slot the terms run in order with the sums in registers.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from .packs import XOR_BLOCK


def _row_sum(builder, cd_a, ci_a, lo, hi, base, vec):
    """IR: the vec-wide sum over p in [lo, hi) of cd[p] times the vec doubles of x from complex
    element 2 ci[p] on (x given by base, a double pointer), started from +0, in entry order (two
    partial sums measured slower: the gathers, not the add chain, bound it)."""
    i64 = ir.IntType(64)
    acc = cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * vec.count))
    with cgutils.for_range_slice(builder, lo, hi, ir.Constant(i64, 1), inc=True) as (p, _):
        a = builder.load(builder.gep(cd_a.data, [p]))
        j = builder.load(builder.gep(ci_a.data, [p]))
        j = builder.sext(j, i64) if j.type.width < 64 else j
        ptr = builder.bitcast(builder.gep(base, [builder.mul(j, ir.Constant(i64, 4))]), vec.as_pointer())
        v = builder.load(ptr, align=8)
        builder.store(builder.fadd(builder.load(acc), builder.fmul(_splat(builder, vec, a), v)), acc)
    return builder.load(acc)




def _xor_block(builder, i0, block, xm_a, xc_a, base, vec):
    """IR: rows i0 .. i0 + block - 1 of the vec-wide V x in the flip form
    (V x)_i = sum_q xc[q] x_(i XOR xm[q]) (``trajectory_setup.charger_flips``; no stored matrix), each
    row's sum in mask order; each mask and coefficient is read once for the block."""
    i64 = ir.IntType(64)
    accs = [cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * vec.count)) for _ in range(block)]
    nm = builder.extract_value(xm_a.shape, 0)
    with cgutils.for_range(builder, nm) as loop:
        m = builder.load(builder.gep(xm_a.data, [loop.index]))
        c = _splat(builder, vec, builder.load(builder.gep(xc_a.data, [loop.index])))
        for q, acc in enumerate(accs):
            j = builder.xor(builder.add(i0, ir.Constant(i64, q)), m)
            ptr = builder.bitcast(builder.gep(base, [builder.mul(j, ir.Constant(i64, 4))]), vec.as_pointer())
            builder.store(builder.fadd(builder.load(acc), builder.fmul(c, builder.load(ptr, align=8))), acc)
    return [builder.load(acc) for acc in accs]


def _csr_row(builder, cd_a, ci_a, p_a, i, base, vec):
    """IR: row i of M x for the CSR rows p_a of M (``_row_sum`` between p_a[i] and p_a[i + 1])."""
    lo = builder.load(builder.gep(p_a.data, [i]))
    hi = builder.load(builder.gep(p_a.data, [builder.add(i, ir.Constant(ir.IntType(64), 1))]))
    return _row_sum(builder, cd_a, ci_a, lo, hi, base, vec)


def _lane_sums(width):
    """An intrinsic f(cd, ci, lo, hi, x) -> width doubles: sum over p in [lo, hi) of cd[p] times the
    width doubles of x (complex128, viewed as doubles) from complex element 2 ci[p] on."""

    @intrinsic
    def lane_sums(typingctx, cd, ci, lo, hi, x):
        sig = types.UniTuple(types.float64, width)(cd, ci, lo, hi, x)

        def codegen(context, builder, signature, args):
            cd_a, ci_a, x_a = (context.make_array(signature.args[k])(context, builder, args[k]) for k in (0, 1, 4))
            f64, i32 = ir.DoubleType(), ir.IntType(32)
            vec = ir.VectorType(f64, width)
            base = builder.bitcast(x_a.data, f64.as_pointer())
            lo64 = context.cast(builder, args[2], signature.args[2], types.int64)
            hi64 = context.cast(builder, args[3], signature.args[3], types.int64)
            total = _row_sum(builder, cd_a, ci_a, lo64, hi64, base, vec)
            parts = [builder.extract_element(total, ir.Constant(i32, k)) for k in range(width)]
            return context.make_tuple(builder, signature.return_type, parts)

        return sig, codegen

    return lane_sums


_sums4 = _lane_sums(4)
_sums2 = _lane_sums(2)


def row_pair(cd, ci, lo, hi, x):
    """(sum_p cd[p] psi[ci[p]], sum_p cd[p] phi[ci[p]]) over entries lo..hi-1, real cd (stub)."""


@overload(row_pair)
def _row_pair_impl(cd, ci, lo, hi, x):
    if cd.dtype != types.float64:
        return None  # complex data: the scalar form (``forms``)

    def real(cd, ci, lo, hi, x):
        s0, s1, s2, s3 = _sums4(cd, ci, lo, hi, x)
        return complex(s0, s1), complex(s2, s3)
    return real


def row_dot(cd, ci, lo, hi, x):
    """sum_p cd[p] psi[ci[p]] over entries lo..hi-1, real cd (stub)."""


@overload(row_dot)
def _row_dot_impl(cd, ci, lo, hi, x):
    if cd.dtype != types.float64:
        return None

    def real(cd, ci, lo, hi, x):
        s0, s1 = _sums2(cd, ci, lo, hi, x)
        return complex(s0, s1)
    return real


def _splat(builder, vec, x):
    """<x, x, ...> of the vector type vec."""
    i32 = ir.IntType(32)
    s = builder.insert_element(ir.Constant(vec, ir.Undefined), x, ir.Constant(i32, 0))
    return builder.shuffle_vector(s, ir.Constant(vec, ir.Undefined), ir.Constant(ir.VectorType(i32, vec.count),
                                                                                 [0] * vec.count))


def _phases(context, builder, phs, samples, vec):
    """IR: the splatted (Re, Im) of each sample's phase, from ``phs`` = (its Numba type, its value):
    one complex number (a single sample) or an array read at the sample indices."""
    f64, i64 = ir.DoubleType(), ir.IntType(64)
    typ, val = phs
    if isinstance(typ, types.Complex):  # one sample, its phase given directly
        z = context.make_complex(builder, typ, val)
        return [(_splat(builder, vec, z.real), _splat(builder, vec, z.imag))]
    pbase = builder.bitcast(context.make_array(typ)(context, builder, val).data, f64.as_pointer())
    parts = [[builder.load(builder.gep(pbase, [builder.add(builder.mul(sv, ir.Constant(i64, 2)), ir.Constant(i64, k))]))
              for k in (0, 1)] for sv in samples]
    return [(_splat(builder, vec, re), _splat(builder, vec, im)) for re, im in parts]


def _series_sums(nsamp, psi_only):
    """An intrinsic f(bs, phs, s0, W, m, kb, ke, outs) summing the series for the nsamp samples
    s = s0 .. s0 + nsamp - 1 at once: for k in [kb, ke), outs[s, k] = phs[s] (S_e - i S_o) with
    S_e = bs[s, 0] W[0, k] + bs[s, 2] W[2, k] + ... and S_o = bs[s, 1] W[1, k] + bs[s, 3] W[3, k]
    + ... over the terms 0..m. Per vector slot the terms run in order with the sums in registers,
    each W load serving every sample (W's rows should not be 4 KiB multiples apart: see
    ``chebyshev.W_PAD``). With psi_only, k runs over psi entries, outs[s, k] from W[i, 2k]. For one
    sample phs may be the phase itself (a complex number) instead of an array."""
    width = 2 if psi_only else 4  # doubles per slot: one complex (psi_k) or the pair (psi_k, phi_k)
    step = width // 2  # complex entries of out per slot
    wstep = 4 if psi_only else 2  # doubles of a W row per complex entry of out

    @intrinsic
    def series_sums(typingctx, bs, phs, s0, W, m, kb, ke, outs):
        sig = types.void(bs, phs, s0, W, m, kb, ke, outs)

        def codegen(context, builder, signature, args):
            b_a, w_a, o_a = (context.make_array(signature.args[k])(context, builder, args[k]) for k in (0, 3, 7))
            f64, i64, i32 = ir.DoubleType(), ir.IntType(64), ir.IntType(32)
            vec = ir.VectorType(f64, width)
            vi = ir.VectorType(i32, width)
            s0v, mv, kbv, kev = (context.cast(builder, args[k], signature.args[k], types.int64) for k in (2, 4, 5, 6))
            c = lambda v: ir.Constant(i64, v)  # noqa: E731
            wbase = builder.bitcast(w_a.data, f64.as_pointer())
            obase = builder.bitcast(o_a.data, f64.as_pointer())
            wrow = builder.mul(builder.extract_value(w_a.shape, 1), c(2))  # doubles per row
            orow = builder.mul(builder.extract_value(o_a.shape, 1), c(2))
            brow = builder.extract_value(b_a.shape, 1)
            samples = [builder.add(s0v, c(q)) for q in range(nsamp)]
            bptr = [builder.gep(b_a.data, [builder.mul(sv, brow)]) for sv in samples]
            optr = [builder.gep(obase, [builder.mul(sv, orow)]) for sv in samples]
            ph = _phases(context, builder, (signature.args[1], args[1]), samples, vec)
            swap = ir.Constant(vi, [1, 0, 3, 2][:width])
            sgn = ir.Constant(vec, [1.0, -1.0, 1.0, -1.0][:width])
            nsg = ir.Constant(vec, [-1.0, 1.0, -1.0, 1.0][:width])
            npair = builder.sdiv(mv, c(2))
            odd = builder.icmp_signed("==", builder.srem(mv, c(2)), c(1))
            zero = ir.Constant(vec, [0.0] * width)
            with cgutils.for_range(builder, builder.sdiv(builder.sub(kev, kbv), c(step))) as loop:
                k = builder.add(kbv, builder.mul(loop.index, c(step)))
                wk = builder.gep(wbase, [builder.mul(k, c(wstep))])

                def load_w(t):
                    ptr = builder.gep(wk, [builder.mul(t, wrow)])
                    return builder.load(builder.bitcast(ptr, vec.as_pointer()), align=8)

                def weight(q, t):
                    return _splat(builder, vec, builder.load(builder.gep(bptr[q], [t])))

                w0 = load_w(c(0))
                ev = [cgutils.alloca_once_value(builder, builder.fmul(weight(q, c(0)), w0)) for q in range(nsamp)]
                ov = [cgutils.alloca_once_value(builder, zero) for q in range(nsamp)]
                with cgutils.for_range(builder, npair) as inner:
                    t = builder.add(builder.mul(inner.index, c(2)), c(1))
                    t2 = builder.add(t, c(1))
                    w1, w2 = load_w(t), load_w(t2)
                    for q in range(nsamp):
                        builder.store(builder.fadd(builder.load(ov[q]), builder.fmul(weight(q, t), w1)), ov[q])
                        builder.store(builder.fadd(builder.load(ev[q]), builder.fmul(weight(q, t2), w2)), ev[q])
                with builder.if_then(odd):
                    wm = load_w(mv)
                    for q in range(nsamp):
                        builder.store(builder.fadd(builder.load(ov[q]), builder.fmul(weight(q, mv), wm)), ov[q])
                for q in range(nsamp):
                    e, o = builder.load(ev[q]), builder.load(ov[q])
                    z = builder.fadd(e, builder.fmul(builder.shuffle_vector(o, o, swap), sgn))  # S_e - i S_o
                    zs = builder.fmul(builder.shuffle_vector(z, z, swap), nsg)  # i z
                    res = builder.fadd(builder.fmul(ph[q][0], z), builder.fmul(ph[q][1], zs))  # ph z
                    dst = builder.gep(optr[q], [builder.mul(k, c(2))])
                    builder.store(res, builder.bitcast(dst, vec.as_pointer()), align=8)
            return context.get_dummy_value()

        return sig, codegen

    return series_sums


series_sums = _series_sums(1, False)
series_sums4 = _series_sums(4, False)
series_sums_psi = _series_sums(1, True)


def _cheb_rows(v_form):
    """An intrinsic f(ops, coefs, x, prev, out) -> (n_psi, n_phi) (``packs.ProductOps``: cd, ci,
    p0, p1, xm, xc, d0, gam; ``packs.ProductCoefs``: alpha, beta_r, beta_i, gamma, lf, f): one
    Chebyshev-recurrence product for real CSR data in one pass over the rows,
    out = alpha (A x) + beta x + gamma prev (beta = beta_r + i beta_i, alpha and gamma real) with A
    the augmented generator (``common``; H0 from its off-diagonal rows p0 and diagonal d0; V not
    read (v_form "none", f = 0), from the CSR rows p1 ("csr") or the flip form xm, xc ("xor")), and
    the squared norms of out's psi and phi parts. Per row: the H0 and V sums on the (psi, phi)
    pair, then out_i = alpha r_i + d_i x_i + gamma prev_i, d_i = beta - i alpha Gamma_i / 2."""

    @intrinsic
    def cheb_rows(typingctx, ops, coefs, x, prev, out):
        sig = types.UniTuple(types.float64, 2)(ops, coefs, x, prev, out)

        def codegen(context, builder, signature, args):
            ops_t, coefs_t = signature.args[0], signature.args[1]
            members = cgutils.unpack_tuple(builder, args[0], len(ops_t))
            op = {name: context.make_array(t)(context, builder, v)
                  for name, t, v in zip(ops_t.fields, ops_t.types, members)}
            cd_a, ci_a, p0_a, p1_a, g_a = op["cd"], op["ci"], op["p0"], op["p1"], op["gam"]
            xm_a, xc_a, d0_a = op["xm"], op["xc"], op["d0"]
            x_a, pr_a, o_a = (context.make_array(signature.args[k])(context, builder, args[k]) for k in (2, 3, 4))
            cf = {name: context.cast(builder, v, t, types.float64)
                  for name, t, v in zip(coefs_t.fields, coefs_t.types,
                                        cgutils.unpack_tuple(builder, args[1], len(coefs_t)))}
            args = [cf[name] for name in ("alpha", "beta_r", "beta_i", "gamma", "lf", "f")]
            f64, i64, i32 = ir.DoubleType(), ir.IntType(64), ir.IntType(32)
            vec = ir.VectorType(f64, 4)
            vi = ir.VectorType(i32, 4)
            al, b_r, b_i, ga, lfv, fv = (_splat(builder, vec, a) for a in args)
            xb, pb, ob = (builder.bitcast(a.data, f64.as_pointer()) for a in (x_a, pr_a, o_a))
            zero = ir.Constant(vec, [0.0] * 4)
            flip = ir.Constant(vec, [-1.0, 1.0, -1.0, 1.0])
            half = ir.Constant(vec, [0.5] * 4)
            norms = cgutils.alloca_once_value(builder, zero)
            dim = builder.extract_value(g_a.shape, 0)

            def row(i, v):
                """out_i and the norms from H0's row i and v = (V x)_i (None: read here, or f = 0)."""
                off = builder.mul(i, ir.Constant(i64, 4))
                xp = builder.bitcast(builder.gep(xb, [off]), vec.as_pointer())
                xi = builder.load(xp, align=8)
                r = _csr_row(builder, cd_a, ci_a, p0_a, i, xb, vec)
                r = builder.fadd(r, builder.fmul(_splat(builder, vec, builder.load(builder.gep(d0_a.data, [i]))), xi))
                if v_form == "csr":
                    v = _csr_row(builder, cd_a, ci_a, p1_a, i, xb, vec)
                if v is not None:
                    vpsi = builder.shuffle_vector(v, zero, ir.Constant(vi, [4, 5, 0, 1]))  # (0, 0, V psi)
                    r = builder.fadd(builder.fadd(r, builder.fmul(lfv, v)), builder.fmul(fv, vpsi))
                g = _splat(builder, vec, builder.load(builder.gep(g_a.data, [i])))
                d_i = builder.fsub(b_i, builder.fmul(builder.fmul(al, half), g))
                xs = builder.fmul(builder.shuffle_vector(xi, xi, ir.Constant(vi, [1, 0, 3, 2])), flip)  # i x
                pv = builder.load(builder.bitcast(builder.gep(pb, [off]), vec.as_pointer()), align=8)
                o = builder.fadd(builder.fmul(al, r), builder.fmul(b_r, xi))
                o = builder.fadd(builder.fadd(o, builder.fmul(d_i, xs)), builder.fmul(ga, pv))
                builder.store(o, builder.bitcast(builder.gep(ob, [off]), vec.as_pointer()), align=8)
                builder.store(builder.fadd(builder.load(norms), builder.fmul(o, o)), norms)

            block = XOR_BLOCK if v_form == "xor" else 1  # rows per pass (charger_flips: dim % XOR_BLOCK == 0)
            with cgutils.for_range(builder, builder.sdiv(dim, ir.Constant(i64, block))) as loop:
                i0 = builder.mul(loop.index, ir.Constant(i64, block))
                vs = _xor_block(builder, i0, block, xm_a, xc_a, xb, vec) if v_form == "xor" else [None]
                for q in range(block):
                    row(builder.add(i0, ir.Constant(i64, q)), vs[q])
            nv = builder.load(norms)
            lane = [builder.extract_element(nv, ir.Constant(i32, k)) for k in range(4)]
            return context.make_tuple(builder, signature.return_type,
                                      [builder.fadd(lane[0], lane[1]), builder.fadd(lane[2], lane[3])])

        return sig, codegen

    return cheb_rows


cheb_rows_0, cheb_rows_v, cheb_rows_x = (_cheb_rows(form) for form in ("none", "csr", "xor"))


def _record_rows(v_form):
    """An intrinsic f(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y) -> (n, e, c, o, k, v), the sums of
    one recording over the rows i of real CSR data, H_B and K0 off their diagonals stored on one
    pattern (``trajectory_setup``; row pointers phb, pk0), their diagonals dhb, dk0, and V (as in
    ``_cheb_rows``: "none", "csr" from pv, "xor" from xm, xc), with psi, phi the interleaved y:
    n = sum |psi_i|^2, e = sum Re(psi_i^* (H_B psi)_i), c = sum Re(phi_i^* (H_B psi)_i),
    o = sum Re(psi_i^* phi_i), k = sum Re(psi_i^* (K0 psi)_i), v = sum Im((V psi)_i^* (H_B psi)_i).
    H_B psi and K0 psi come from one pass over the shared pattern (one index and one psi load for
    both); the six sums are kept as three <4 x double> partial sums."""

    @intrinsic
    def record_rows(typingctx, cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y):
        sig = types.UniTuple(types.float64, 6)(cd, ci, phb, pk0, pv, xm, xc, dhb, dk0, y)

        def codegen(context, builder, signature, args):
            cd_a, ci_a, ph_a, pk_a, pv_a, xm_a, xc_a, dh_a, dk_a, y_a = (
                context.make_array(signature.args[k])(context, builder, args[k]) for k in range(10))
            f64, i64, i32 = ir.DoubleType(), ir.IntType(64), ir.IntType(32)
            v4, v2 = ir.VectorType(f64, 4), ir.VectorType(f64, 2)
            mask = lambda *ix: ir.Constant(ir.VectorType(i32, len(ix)), list(ix))  # noqa: E731
            yb = builder.bitcast(y_a.data, f64.as_pointer())
            zero4 = ir.Constant(v4, [0.0] * 4)
            sums = [cgutils.alloca_once_value(builder, zero4) for _ in range(3)]
            dim = builder.sub(builder.extract_value(ph_a.shape, 0), ir.Constant(i64, 1))

            def row(i, vs):
                """Row i's terms of the six sums; vs = (V psi)_i (None: read here (CSR), or zero)."""
                i1 = builder.add(i, ir.Constant(i64, 1))
                lo = builder.load(builder.gep(ph_a.data, [i]))
                hi = builder.load(builder.gep(ph_a.data, [i1]))
                d = builder.sub(builder.load(builder.gep(pk_a.data, [i])), lo)
                acc = cgutils.alloca_once_value(builder, zero4)
                with cgutils.for_range_slice(builder, lo, hi, ir.Constant(i64, 1), inc=True) as (p, _):
                    a = builder.load(builder.gep(cd_a.data, [p]))
                    b = builder.load(builder.gep(cd_a.data, [builder.add(p, d)]))
                    j = builder.load(builder.gep(ci_a.data, [p]))
                    j = builder.sext(j, i64) if j.type.width < 64 else j
                    ptr = builder.bitcast(builder.gep(yb, [builder.mul(j, ir.Constant(i64, 4))]), v2.as_pointer())
                    psi = builder.load(ptr, align=8)
                    ab = builder.shuffle_vector(_splat(builder, v2, a), _splat(builder, v2, b), mask(0, 1, 2, 3))
                    builder.store(builder.fadd(builder.load(acc), builder.fmul(ab, builder.shuffle_vector(
                        psi, psi, mask(0, 1, 0, 1)))), acc)
                yi = builder.load(builder.bitcast(builder.gep(yb, [builder.mul(i, ir.Constant(i64, 4))]),
                                                  v4.as_pointer()), align=8)  # psi_i, phi_i
                dd = builder.shuffle_vector(_splat(builder, v2, builder.load(builder.gep(dh_a.data, [i]))),
                                            _splat(builder, v2, builder.load(builder.gep(dk_a.data, [i]))),
                                            mask(0, 1, 2, 3))
                hk = builder.fadd(builder.load(acc), builder.fmul(dd, builder.shuffle_vector(yi, yi, mask(0, 1, 0, 1))))
                if v_form == "csr":  # hk: (H_B psi)_i, (K0 psi)_i
                    vs = _csr_row(builder, cd_a, ci_a, pv_a, i, yb, v2)
                elif vs is None:
                    vs = ir.Constant(v2, [0.0, 0.0])
                vs4 = builder.shuffle_vector(vs, vs, mask(0, 1, 0, 1))
                hb_rot = builder.shuffle_vector(hk, yi, mask(1, 0, 4, 5))
                terms = (  # lanes (a, b, c, d) -> sums a + b and c + d
                    (builder.shuffle_vector(yi, yi, mask(0, 1, 0, 1)), hk),  # e, k
                    (builder.shuffle_vector(yi, yi, mask(2, 3, 0, 1)),
                     builder.shuffle_vector(hk, yi, mask(0, 1, 6, 7))),
                    (builder.shuffle_vector(vs4, yi, mask(0, 1, 4, 5)),
                     builder.fmul(hb_rot, ir.Constant(v4, [1.0, -1.0, 1.0, 1.0]))),  # v, n
                )  # the second: c, o
                for acc_s, (u, w) in zip(sums, terms):
                    builder.store(builder.fadd(builder.load(acc_s), builder.fmul(u, w)), acc_s)

            block = XOR_BLOCK if v_form == "xor" else 1  # rows per pass (as in ``_cheb_rows``)
            with cgutils.for_range(builder, builder.sdiv(dim, ir.Constant(i64, block))) as loop:
                i0 = builder.mul(loop.index, ir.Constant(i64, block))
                vs = _xor_block(builder, i0, block, xm_a, xc_a, yb, v2) if v_form == "xor" else [None]
                for q in range(block):
                    row(builder.add(i0, ir.Constant(i64, q)), vs[q])
            lanes = [[builder.extract_element(builder.load(s_), ir.Constant(i32, k)) for k in range(4)] for s_ in sums]
            pair = lambda l, a: builder.fadd(l[a], l[a + 1])  # noqa: E731
            out = [pair(lanes[2], 2), pair(lanes[0], 0), pair(lanes[1], 0), pair(lanes[1], 2), pair(lanes[0], 2),
                   pair(lanes[2], 0)]
            return context.make_tuple(builder, signature.return_type, out)

        return sig, codegen

    return record_rows


record_rows_0, record_rows_v, record_rows_x = (_record_rows(form) for form in ("none", "csr", "xor"))


@njit(cache=True)
def _probe_kernel(ops, coefs, x, out, W, bs, phs, outs):
    """Every IR form once (row sums, fused products, recording sums, series sums); their total."""
    a, b = cheb_rows_0(ops, coefs, x, x, out)
    tot = a + b
    a, b = cheb_rows_v(ops, coefs, x, x, out)
    tot += a + b
    a, b = cheb_rows_x(ops, coefs, x, x, out)
    tot += a + b
    rec = (ops.cd, ops.ci, ops.p0, ops.p0, ops.p1, ops.xm, ops.xc, ops.d0, ops.d0, x)
    for sums in (record_rows_0(*rec), record_rows_v(*rec), record_rows_x(*rec)):
        n, e, c, o, k, v = sums
        tot += n + e + c + o + k + v
    u, v = row_pair(ops.cd, ops.ci, 0, 2, x)
    tot += abs(u) + abs(v) + abs(row_dot(ops.cd, ops.ci, 0, 2, x))
    series_sums(bs, phs[0], 0, W, 2, 0, out.shape[0], outs)
    series_sums4(bs, phs, 0, W, 3, 0, out.shape[0], outs)
    series_sums_psi(bs, phs, 1, W, 3, 0, out.shape[0] // 2, outs)
    return tot + np.abs(outs).sum()


def probe() -> bool:
    """Build and run every IR form on a tiny problem (``forms.simd_available``): True when the
    result is finite; an exception when this numba / llvmlite cannot build the forms."""
    from .packs import ProductCoefs, ProductOps

    dim = 2 * XOR_BLOCK
    ptr = np.arange(dim + 1, dtype=np.int64)
    ops = ProductOps(np.full(dim, 0.5), np.arange(dim, dtype=np.int32)[::-1].copy(), ptr, ptr,
                     np.array([1, 2], dtype=np.int64), np.array([0.25, -0.5]), np.ones(dim), np.full(dim, 0.1))
    coefs = ProductCoefs(0.5, -0.1, 0.2, -1.0, 0.3, 0.7)
    x = np.linspace(-1.0, 1.0, 2 * dim) + 0.5j
    W = np.ones((4, 2 * dim + 8), dtype=np.complex128)
    outs = np.zeros((4, 2 * dim), dtype=np.complex128)
    tot = _probe_kernel(ops, coefs, x, np.empty_like(x), W, np.ones((4, 4)), np.full(4, 0.5 - 0.5j), outs)
    return bool(np.isfinite(tot))
