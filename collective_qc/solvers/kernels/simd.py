"""Vector (SIMD) forms of the kernels' two inner loops, written as LLVM vector operations.

Numba's default pipeline leaves the straight-line complex arithmetic of these loops scalar. Each
vector lane performs the operations of the scalar loop in its order (IEEE multiplies and adds,
no fused multiply-adds, sums started from +0), so the results are bitwise those of the scalar
code; the tests compare with stored numbers of the scalar kernels.

Row sums of a CSR matrix against the interleaved augmented vector (psi_k, phi_k) (see ``common``):
``row_pair`` returns (sum_p a_p psi[j_p], sum_p a_p phi[j_p]) over one row, ``row_dot`` the psi
sum alone. For real matrix data (every model of the catalog with a real charger) each entry
is one multiply-add on the four doubles (Re psi, Im psi, Re phi, Im phi) of the pair, written as
an LLVM <4 x double> operation (1.5x (N = 10) to 1.6x (N = 14) faster products than the scalar
loop). Complex data take the scalar complex products.

Series sums for the Chebyshev dense output: ``add_terms4(coef, W, i0, kb, ke, out)`` adds
sum_{t < 4} coef[i0 + t] W[i0 + t, k] to out[k] for k in [kb, ke) (an even range), term after
term, keeping out in registers over the four terms (a quarter of the loads and stores of one pass
per term); ``add_term1`` one term; the ``_psi`` forms the psi entries alone (out[k] from
W[i, 2k], for the jump time).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload


def _lane_sums(width):
    """An intrinsic f(cd, ci, lo, hi, x) -> width doubles: sum over p in [lo, hi) of cd[p] times the
    width doubles of x (complex128, viewed as doubles) from complex element 2 ci[p] on."""

    @intrinsic
    def lane_sums(typingctx, cd, ci, lo, hi, x):
        sig = types.UniTuple(types.float64, width)(cd, ci, lo, hi, x)

        def codegen(context, builder, signature, args):
            cd_a, ci_a, x_a = (context.make_array(signature.args[k])(context, builder, args[k]) for k in (0, 1, 4))
            f64, i64, i32 = ir.DoubleType(), ir.IntType(64), ir.IntType(32)
            vec = ir.VectorType(f64, width)
            base = builder.bitcast(x_a.data, f64.as_pointer())
            acc = cgutils.alloca_once_value(builder, ir.Constant(vec, [0.0] * width))
            lo64 = context.cast(builder, args[2], signature.args[2], types.int64)
            hi64 = context.cast(builder, args[3], signature.args[3], types.int64)
            with cgutils.for_range_slice(builder, lo64, hi64, ir.Constant(i64, 1), inc=True) as (p, _):
                a = builder.load(builder.gep(cd_a.data, [p]))
                j = builder.load(builder.gep(ci_a.data, [p]))
                j = builder.sext(j, i64) if j.type.width < 64 else j
                ptr = builder.bitcast(builder.gep(base, [builder.mul(j, ir.Constant(i64, 4))]), vec.as_pointer())
                v = builder.load(ptr, align=8)
                splat = builder.insert_element(ir.Constant(vec, ir.Undefined), a, ir.Constant(i32, 0))
                splat = builder.shuffle_vector(splat, ir.Constant(vec, ir.Undefined),
                                               ir.Constant(ir.VectorType(i32, width), [0] * width))
                builder.store(builder.fadd(builder.load(acc), builder.fmul(splat, v)), acc)
            total = builder.load(acc)
            parts = [builder.extract_element(total, ir.Constant(i32, k)) for k in range(width)]
            return context.make_tuple(builder, signature.return_type, parts)

        return sig, codegen

    return lane_sums


_sums4 = _lane_sums(4)
_sums2 = _lane_sums(2)


def _mac(a, u, s_r, s_i):
    """(s_r, s_i) + a u with a complex (stub; see ``_mac_impl``)."""


@overload(_mac, inline="always")
def _mac_impl(a, u, s_r, s_i):
    """The complex product's parts, in the order of Numba's complex multiplication."""
    return lambda a, u, s_r, s_i: (s_r + (a.real * u.real - a.imag * u.imag),
                                   s_i + (a.real * u.imag + a.imag * u.real))


def row_pair(cd, ci, lo, hi, x):
    """(sum_p cd[p] psi[ci[p]], sum_p cd[p] phi[ci[p]]) over entries lo..hi-1 (stub)."""


@overload(row_pair, inline="always")
def _row_pair_impl(cd, ci, lo, hi, x):
    if cd.dtype == types.float64:
        def real(cd, ci, lo, hi, x):
            s0, s1, s2, s3 = _sums4(cd, ci, lo, hi, x)
            return complex(s0, s1), complex(s2, s3)
        return real

    def cplx(cd, ci, lo, hi, x):
        s0 = 0.0
        s1 = 0.0
        s2 = 0.0
        s3 = 0.0
        for p in range(lo, hi):
            a = cd[p]
            j = 2 * ci[p]
            s0, s1 = _mac(a, x[j], s0, s1)
            s2, s3 = _mac(a, x[j + 1], s2, s3)
        return complex(s0, s1), complex(s2, s3)
    return cplx


def row_dot(cd, ci, lo, hi, x):
    """sum_p cd[p] psi[ci[p]] over entries lo..hi-1 (stub)."""


@overload(row_dot, inline="always")
def _row_dot_impl(cd, ci, lo, hi, x):
    if cd.dtype == types.float64:
        def real(cd, ci, lo, hi, x):
            s0, s1 = _sums2(cd, ci, lo, hi, x)
            return complex(s0, s1)
        return real

    def cplx(cd, ci, lo, hi, x):
        s0 = 0.0
        s1 = 0.0
        for p in range(lo, hi):
            s0, s1 = _mac(cd[p], x[2 * ci[p]], s0, s1)
        return complex(s0, s1)
    return cplx



def _splat(builder, vec, x):
    """<x, x, ...> of the vector type vec."""
    i32 = ir.IntType(32)
    s = builder.insert_element(ir.Constant(vec, ir.Undefined), x, ir.Constant(i32, 0))
    return builder.shuffle_vector(s, ir.Constant(vec, ir.Undefined), ir.Constant(ir.VectorType(i32, vec.count),
                                                                                 [0] * vec.count))


def _products(builder, cr, ci, w):
    """Complex products c w_k on w = <Re w_k, Im w_k, ...> (one or two complex numbers) as Numba
    multiplies complex numbers: (cr wr - ci wi, cr wi + ci wr)."""
    i32 = ir.IntType(32)
    n = w.type.count
    vi = ir.VectorType(i32, n)
    swapped = builder.shuffle_vector(w, ir.Constant(w.type, ir.Undefined), ir.Constant(vi, [1, 0, 3, 2][:n]))
    t1 = builder.fmul(cr, w)
    t2 = builder.fmul(ci, swapped)
    return builder.shuffle_vector(builder.fsub(t1, t2), builder.fadd(t1, t2), ir.Constant(vi, [0, n + 1, 2, n + 3][:n]))


def _term_sums(nt, psi_only):
    """An intrinsic adding nt consecutive series terms to out (see the module docstring); with
    psi_only, out (compact, dim) receives the psi entries W[i, 2k] of the interleaved terms."""
    width = 2 if psi_only else 4  # doubles per step: one complex (psi_k) or the pair (psi_k, phi_k)

    @intrinsic
    def add_terms(typingctx, coef, W, i0, kb, ke, out):
        sig = types.void(coef, W, i0, kb, ke, out)

        def codegen(context, builder, signature, args):
            c_a, w_a, o_a = (context.make_array(signature.args[k])(context, builder, args[k]) for k in (0, 1, 5))
            f64, i64 = ir.DoubleType(), ir.IntType(64)
            vec = ir.VectorType(f64, width)
            i0v, kbv, kev = (context.cast(builder, args[k], signature.args[k], types.int64) for k in (2, 3, 4))
            cbase = builder.bitcast(c_a.data, f64.as_pointer())
            wbase = builder.bitcast(w_a.data, f64.as_pointer())
            obase = builder.bitcast(o_a.data, f64.as_pointer())
            ncol = builder.extract_value(w_a.shape, 1)
            two = ir.Constant(i64, 2)
            splats, rows = [], []
            for t in range(nt):
                it = builder.add(i0v, ir.Constant(i64, t))
                cre = builder.load(builder.gep(cbase, [builder.mul(it, two)]))
                cim = builder.load(builder.gep(cbase, [builder.add(builder.mul(it, two), ir.Constant(i64, 1))]))
                splats.append((_splat(builder, vec, cre), _splat(builder, vec, cim)))
                rows.append(builder.gep(wbase, [builder.mul(builder.mul(it, ncol), two)]))
            # psi_only: one complex per step (out index k, W doubles at 4k); else pairs (2k, 2k + 1)
            step = 1 if psi_only else 2
            nsteps = builder.sdiv(builder.sub(kev, kbv), ir.Constant(i64, step))
            with cgutils.for_range(builder, nsteps) as loop:
                k = builder.add(kbv, builder.mul(loop.index, ir.Constant(i64, step)))
                optr = builder.bitcast(builder.gep(obase, [builder.mul(k, two)]), vec.as_pointer())
                woff = builder.mul(k, ir.Constant(i64, 4 if psi_only else 2))
                acc = builder.load(optr, align=8)
                for t in range(nt):
                    w = builder.load(builder.bitcast(builder.gep(rows[t], [woff]), vec.as_pointer()), align=8)
                    acc = builder.fadd(acc, _products(builder, splats[t][0], splats[t][1], w))
                builder.store(acc, optr, align=8)
            return context.get_dummy_value()

        return sig, codegen

    return add_terms


add_terms4 = _term_sums(4, False)
add_term1 = _term_sums(1, False)
add_terms4_psi = _term_sums(4, True)
add_term1_psi = _term_sums(1, True)

