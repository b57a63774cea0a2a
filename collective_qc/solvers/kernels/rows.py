"""Row sums of a CSR matrix against the interleaved augmented vector (psi_k, phi_k) (see ``common``).

``row_pair`` returns (sum_p a_p psi[j_p], sum_p a_p phi[j_p]) over one row, ``row_dot`` the psi
sum alone. For real matrix data (every model of the catalog with a real charger) each entry
is one multiply-add on the four doubles (Re psi, Im psi, Re phi, Im phi) of the pair, written as
an LLVM <4 x double> operation: Numba's default pipeline leaves such straight-line code scalar,
and the vector form measures 1.5x (N = 10) to 1.6x (N = 14) faster products. Every lane adds its
terms in the order of the entries, starting from +0 and without fused multiply-adds, so the sums
are bitwise those of the scalar loop. Complex data take the scalar complex products.
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

