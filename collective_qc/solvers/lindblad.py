"""Exact Lindblad solver: rho(t) and its tangent X = d rho / d lambda, integrated together.

    d rho/dt = L_f rho,   L_f rho = -i[H_0 + lambda f V, rho] + sum_k (L_k rho L_k^dag - {L_k^dag L_k, rho}/2)
    dX/dt    = L_f X - i f [V, rho]

(paper Eqs. 28-38). The generator is applied to dense rho and X in matrix form
(:mod:`.matrix_form`: sparse H_eff from the left, its adjoint from the right, monomial jumps as
gathers; no super-operator). Each constant piece of a piecewise-constant protocol is
propagated by Chebyshev expansions of the exponential (:mod:`.chebyshev`), summed to a
per-step tolerance of 1e-12 (relative): exact to round-off. Every linear observable is
recorded for each expansion term, so E, P, C_Q are known as exact functions of time inside
every step (dense output): samples and the tau_c refinement (``evaluate(k, t)``) need no
further propagation. Smooth protocols use DOP853 (error-controlled, f at the stage times).

Observables (all exact):
    E(t)   = Tr[H_B rho] - E(0)
    C_Q(t) = Tr[H_B X]
    P(t)   = Tr[L_f(rho) H_B] = Tr[rho (lambda f i[V, H_B] + D^dag(H_B) + i[H_aux, H_B])],
    D^dag(A) = sum_k (L_k^dag A L_k - {L_k^dag L_k, A}/2)  (includes the dissipative part).
"""

from __future__ import annotations

import bisect

import numpy as np
import scipy.sparse as sp

from ..operators import Operators
from ..protocols import Protocol
from .chebyshev import X_MAX, bessel_terms, converged, hermitian_bounds, max_terms
from .matrix_form import MatrixFormLindbladian, axpy2, norm2
from .solution import Solution

__all__ = ["solve_lindblad", "estimate_lindblad_memory", "adjoint_dissipator", "exact_auto_limit", "exact_auto_fits"]

SERIES_TOL = 1e-12  # relative truncation of each Chebyshev step


EXACT_AUTO_DIM_PER_TRAJECTORY = 0.55  # auto: exact density matrix while dim <= this x ntraj (measured, README)


def exact_auto_limit(ntraj) -> int:
    """Largest Hilbert-space dimension for which ``method="auto"`` picks the exact solver.

    Measured on the open XXZ ring (2 cores; benchmarks/auto_crossover.py, t in [0, 20], 201
    samples): the exact matrix-form solver costs about dim^2 x nnz per unit time, ntraj
    trajectories about ntraj x dim x nnz. With 500 trajectories the exact run took 0.2 / 0.7 /
    3.0 s at N = 7 / 8 / 9 and the trajectories 0.4 / 0.7 / 1.6 s; with 100 trajectories
    0.2 / 0.6 s against 0.1 / 0.2 s at N = 7 / 8. At equal cost the exact run wins (no sampling
    error), hence dim <= 0.55 x ntraj (N = 8 included at 500). Invalid ntraj values are reported
    later by the trajectory checks.
    """
    n = ntraj if isinstance(ntraj, (int, np.integer)) and not isinstance(ntraj, bool) and ntraj >= 2 else 500
    return int(EXACT_AUTO_DIM_PER_TRAJECTORY * int(n))


def exact_auto_fits(dim: int, ntraj, need_bytes: float) -> bool:
    """``method="auto"`` with noise: True for the exact solver (dim <= exact_auto_limit(ntraj)
    and need_bytes within the memory check's limit), False for trajectories."""
    from ..validate import MEMORY_FRACTION, available_memory

    return dim <= exact_auto_limit(ntraj) and need_bytes <= MEMORY_FRACTION * available_memory()


def estimate_lindblad_memory(dim: int, nnz_per_row: int, n_jumps: int) -> float:
    """Bytes: twelve dense complex dim x dim work matrices (state and the next one, two
    recurrence terms, sum, left products; rho and X each), the merged dephasing weights, the
    sparse operators. (Smooth protocols: DOP853 holds about 2.5 times more.)"""
    d2 = float(dim) * dim
    return d2 * (12 * 16 + 8) + n_jumps * dim * 24 + 6 * dim * nnz_per_row * 16


def adjoint_dissipator(ops: Operators, A):
    """D^dag(A) + i[H_aux, A] (sparse): Tr[L(rho) A] = Tr[rho (this + lambda f i[V, A])]."""
    sandwich = sp.csr_matrix(A.shape, dtype=np.complex128)  # sum_k L_k^dag A L_k
    gamma = sp.csr_matrix(A.shape, dtype=np.complex128)  # sum_k L_k^dag L_k
    for j in ops.jumps:
        L = sp.csr_matrix(j.matrix, dtype=np.complex128)
        Ld = L.conj().T.tocsr()
        sandwich = sandwich + Ld @ (A @ L)
        gamma = gamma + Ld @ L
    out = sandwich - 0.5 * (gamma @ A + A @ gamma)
    if ops.H_aux is not None:
        out = out + 1j * (ops.H_aux @ A - A @ ops.H_aux)
    return out.tocsr()



class _Functionals:
    """Linear functionals Tr[A R] (A sparse) of the rho part and Tr[H_B Y] of the tangent:
    rows (E, C, P_0, P_V, diagonal observables...)."""

    def __init__(self, ops: Operators, diagonal_observables):
        HB = sp.coo_matrix(ops.H_B.astype(np.complex128))
        K0 = sp.coo_matrix(adjoint_dissipator(ops, ops.H_B.astype(np.complex128)))
        KV = sp.coo_matrix((1j * (ops.V @ ops.H_B - ops.H_B @ ops.V)).astype(np.complex128))
        self.mats = [(m.row, m.col, m.data) for m in (HB, K0, KV)]
        self.D = np.zeros((0, ops.dim)) if diagonal_observables is None else np.asarray(diagonal_observables, float)

    def __call__(self, R, Y) -> np.ndarray:
        (hr, hc, hd), (kr, kc, kd), (vr, vc, vd) = self.mats
        out = [np.real(hd @ R[hc, hr]), np.real(hd @ Y[hc, hr]), np.real(kd @ R[kc, kr]),
               np.real(vd @ R[vc, vr])]
        return np.concatenate([out, self.D @ np.real(np.diagonal(R))])


class _Step:
    """One Chebyshev step: observables at t0 + s for 0 <= s <= h from the term moments."""

    def __init__(self, t0, h, a, c, moments):
        self.t0, self.h, self.a, self.c, self.moments = t0, h, a, c, moments

    def values(self, t: float) -> np.ndarray:
        s = min(max(t - self.t0, 0.0), self.h)
        b = bessel_terms(self.a * s, len(self.moments))
        return np.exp(self.c * s) * (b @ self.moments)


class _Chebyshev:
    """Chebyshev steps of the augmented Lindbladian (buffers allocated once)."""

    def __init__(self, gen: MatrixFormLindbladian, ops: Operators, funcs: _Functionals, tol: float):
        self.gen, self.ops, self.funcs, self.tol = gen, ops, funcs, tol
        d = gen.dim
        self.buf = [np.empty((d, d), dtype=np.complex128) for _ in range(6)]
        self._bounds = {}

    def bounds(self, f: float):
        """(a, c, x_max): L_f = c + i a Z with Z's spectrum in a thin ellipse around [-1, 1];
        steps are at most x_max / a long."""
        if f not in self._bounds:
            H = (self.ops.H0 + (self.gen.drive * f) * self.ops.V).astype(np.complex128)
            lo, hi = hermitian_bounds(H)
            decay = self.gen.decay
            a = (hi - lo) + decay
            # T_k(Z) may grow like r^k off the segment (numerical range of width ~ 2 decay):
            # cap the step so that r^x stays below 1e4 (no cancellation in strongly damped runs)
            beta = 2.0 * decay / a if a > 0 else 1.0
            r = beta + np.sqrt(1.0 + beta * beta)
            self._bounds[f] = (a, -0.5 * decay, min(X_MAX, np.log(1e4) / np.log(r)) if r > 1 else X_MAX)
        return self._bounds[f]

    def step(self, R, Y, f: float, h: float):
        """((R', Y') at t0 + h, _Step) or None when the series did not converge."""
        a, c, _ = self.bounds(f)
        x = a * h
        kmax = max_terms(x)
        b = bessel_terms(x, kmax)
        P0, P1, C0, C1, AR, AY = self.buf
        np.copyto(P0, R)
        np.copyto(P1, Y)
        np.multiply(R, b[0], out=AR)
        np.multiply(Y, b[0], out=AY)
        ynorm = norm2(R, Y) or 1.0
        moments = [self.funcs(R, Y)]
        self.gen.apply(f, P0, P1, C0, C1, alpha=1.0 / a, c=c)  # W_1 = (L - c) W_0 / a
        cur, prev = (C0, C1), (P0, P1)
        k, tail = 1, []
        while True:
            moments.append(self.funcs(*cur))
            axpy2(b[k], cur[0], cur[1], AR, AY)
            if k > x:
                nrm = norm2(cur[0], cur[1])
                tail.append(abs(b[k]) * nrm <= self.tol * ynorm)
            if converged(k, x, tail):
                break
            if k + 1 >= kmax:
                return None
            # W_{k+1} = (2/a)(L - c) W_k + W_{k-1}, written over W_{k-1}
            self.gen.apply(f, cur[0], cur[1], prev[0], prev[1], alpha=2.0 / a, c=c, beta=1.0,
                           PR=prev[0], PY=prev[1])
            cur, prev = prev, cur
            k += 1
        scale = np.exp(c * h)
        out = (AR * scale, AY * scale)
        return out, _Step(0.0, h, a, c, np.array(moments))


def _segments(protocol: Protocol, t_end: float):
    """[(t_a, t_b, f)]: the constant pieces of the protocol on [0, t_end]."""
    pts = [0.0, *protocol.breakpoints(0.0, t_end), t_end]
    return [(a, b, protocol.value(0.5 * (a + b))) for a, b in zip(pts[:-1], pts[1:], strict=False) if b > a]


def _initial(psi0, weights, dim):
    rho0 = np.ascontiguousarray((psi0 * weights) @ psi0.conj().T, dtype=np.complex128)
    return rho0, np.zeros((dim, dim), dtype=np.complex128)


def _finish(times, values, e0, drive, protocol, evaluate, hooked, n_fixed, info):
    f = np.array([protocol.value(float(t)) for t in times])
    E = values[:, 0] - e0
    C = values[:, 1]
    P = values[:, 2] + drive * f * values[:, 3]
    rows = [values[:, n_fixed:].T] if values.shape[1] > n_fixed else []
    if hooked is not None:
        rows.append(np.array(hooked).T)
    ex = np.concatenate(rows, axis=0) if rows else None
    return Solution(times=np.asarray(times, float), energy=E, power=P, capacitance=C, e0=e0,
                    observables=ex, evaluate=evaluate, info=info)


def _solve_lindblad(ops: Operators, psi0: np.ndarray, weights: np.ndarray, drive: float,
                   protocol: Protocol, times: np.ndarray, progress=None, diagonal_observables=None,
                   observable_hook=None, tol: float = SERIES_TOL) -> Solution:
    """Exact density-matrix evolution of the mixture sum_k w_k |psi_k><psi_k|.

    Parameters
    ----------
    psi0 : (dim, n_members) array, weights : (n_members,)
    drive : float  lambda (energy units)
    times : increasing array starting at >= 0 (units of 1/omega0)
    diagonal_observables : (n_obs, dim) real array, optional
        Diagonal observables Tr[D rho], sampled into ``solution.observables`` (first rows).
    observable_hook : callable rho (dim, dim) -> 1-d array, optional
        Further observables of the density matrix, appended after the diagonal_observables.
    tol : float
        Relative truncation error of each propagation step (piecewise-constant protocols) or
        the rtol of DOP853 (smooth protocols; atol = tol too).

    Returns
    -------
    Solution  (``evaluate(k, t)``: E, P, C_Q at t in [times[k], times[k+1]], no re-propagation
    for piecewise-constant protocols.)
    """
    dim = ops.dim
    times = np.asarray(times, float)
    gen = MatrixFormLindbladian(ops, drive)
    funcs = _Functionals(ops, diagonal_observables)
    R, Y = _initial(psi0, weights, dim)
    e0 = float(funcs(R, Y)[0])
    if not getattr(protocol, "piecewise_constant", True):
        from .smooth import solve_smooth_lindblad

        return solve_smooth_lindblad(gen, funcs, R, Y, protocol, times, e0, progress, observable_hook, tol, _finish)
    cheb = _Chebyshev(gen, ops, funcs, tol)
    steps, ext = [], []
    n = len(times)
    j = 0  # next sample to record
    values = np.empty((n, 4 + funcs.D.shape[0]))
    n_apply = 0
    eps = 1e-12 * max(1.0, float(times[-1]))

    def record(t, st=None):  # samples up to t: from the state at t, or inside step st
        nonlocal j
        while j < n and times[j] <= t + (eps if st is None else -eps):
            if st is None:
                values[j] = funcs(R, Y)
                if observable_hook is not None:
                    ext.append(np.atleast_1d(observable_hook(R)))
            else:
                values[j] = st.values(float(times[j]))
            j += 1
            if progress is not None:
                progress(j, n)

    for ta, tb, f in _segments(protocol, float(times[-1])):
        a, _, x_max = cheb.bounds(f)
        t = ta
        while t < tb:
            record(t)
            h = min(x_max / a, tb - t)
            if observable_hook is not None and j < n:
                h = min(h, times[j] - t)  # nonlinear hooked observables need the state at each sample
            while True:
                res = cheb.step(R, Y, f, h)
                if res is not None:
                    break
                h *= 0.5
                if h < eps:
                    raise FloatingPointError("Chebyshev series did not converge (generator far from normal)")
            (R, Y), st = res
            st.t0 = t
            n_apply += len(st.moments) - 1
            steps.append(st)
            t_new = t + h if tb - (t + h) > eps else tb
            record(t_new, st)
            t = t_new
    record(float(times[-1]))
    starts = [s.t0 for s in steps]

    def evaluate(k: int, t: float):
        st = steps[max(0, bisect.bisect_right(starts, float(t)) - 1)]
        v = st.values(float(t))
        return float(v[0] - e0), float(v[2] + drive * protocol.value(float(t)) * v[3]), float(v[1])

    info = {"method": "exact", "integrator": "chebyshev", "steps": len(steps), "applications": n_apply,
            "tolerance": tol}
    return _finish(times, values, e0, drive, protocol, evaluate, ext if observable_hook is not None else None,
                   4, info)


def solve_lindblad(*args, **kwargs) -> Solution:
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):  # BLAS is used only for small reductions: same bits for any thread count
        return _solve_lindblad(*args, **kwargs)


solve_lindblad.__doc__ = _solve_lindblad.__doc__
