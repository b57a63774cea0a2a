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

from ..physics.operators import Operators
from ..physics.protocols import Protocol
from .chebyshev import GROWTH, SERIES_MARGIN, X_MAX, X_MAX_MEASURED, bessel_terms, max_terms, term_error
from .contract import Accepts, RunSize, SampledState, SolveProblem, Solver
from .matrix_form import MatrixFormLindbladian, Recurrence, axpy2, norm2
from .solution import Solution, SolverOptions

__all__ = ["solve_lindblad", "ExactSolver", "SOLVER", "estimate_lindblad_memory", "adjoint_dissipator",
           "exact_auto_limit"]

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
    valid = isinstance(ntraj, (int, np.integer)) and not isinstance(ntraj, bool) and ntraj >= 2
    n = ntraj if valid else SolverOptions.ntraj
    return int(EXACT_AUTO_DIM_PER_TRAJECTORY * int(n))


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
    """One Chebyshev step: observables at t0 + s for 0 <= s <= h from the term moments (foci on
    the imaginary axis, or on the real axis when ``real``)."""

    def __init__(self, t0, h, a, c, moments, real: bool = False):
        self.t0, self.h, self.a, self.c, self.moments, self.real = t0, h, a, c, moments, real

    def values(self, t: float) -> np.ndarray:
        s = min(max(t - self.t0, 0.0), self.h)
        if self.real:
            return np.exp((self.c + self.a) * s) * (_ive_terms(self.a * s, len(self.moments)) @ self.moments)
        b = bessel_terms(self.a * s, len(self.moments))
        return np.exp(self.c * s) * (b @ self.moments)


def _ive_terms(x: float, kmax: int) -> np.ndarray:
    """(2 - delta_k0) exp(-x) I_k(x), k = 0 .. kmax-1: the weights of exp(x Z) = sum_k
    (2 - delta_k0) I_k(x) T_k(Z) scaled by exp(-x)."""
    from scipy.special import ive

    b = ive(np.arange(kmax), float(x))
    b[1:] *= 2.0
    return b


# Damped generators (the fused ones) whose decay exceeds DAMPED x their commutator width use an
# ellipse with foci on the real axis: L = c + f Z, exp(h L) = exp(h (c + f)) sum_k (2 - delta_k0)
# ive(k, h f) T_k(Z). The ellipse spans the real parts [-(1 + DAMP_PAD) decay, DAMP_EDGE decay];
# a step keeps the terms below exp(DAMP_LOG_GROWTH) ||W_0|| and the error gain exp(h x right
# edge) below e.
DAMPED, DAMP_PAD, DAMP_EDGE, DAMP_LOG_GROWTH = 2.0, 0.05, 1e-3, 15.0
DAMP_GROWTH = 1e2  # largest weighted term |b_k| ||W_k|| / ||W_0|| a real-foci step may meet (a state dominated by
# one slowly decaying component, e.g. |g...g> with E_0 = -N omega/2, loses log10 of it in E - E_0)


class _Chebyshev:
    """Chebyshev steps of an augmented Lindbladian (buffers allocated once). The generator gives
    ``shape`` (of R and Y), ``drive``, ``decay`` (>= the largest decay rate), ``half_width(f)``
    (of the spectrum of its Hamiltonian part) and ``apply`` (see ``MatrixFormLindbladian.apply``)."""

    def __init__(self, gen, funcs, tol: float):
        self.gen, self.funcs, self.tol = gen, funcs, tol
        self.buf = [np.zeros(gen.shape, dtype=np.complex128) for _ in range(6)]  # (a windowed generator
        # leaves the rows outside its window untouched: they stay zero)
        self._bounds = {}
        self.real = {}  # drive value f -> log rho of the real-foci ellipse (damped generators)
        self.measured = bool(getattr(gen, "fused", False))

    def bounds(self, f: float):
        """(a, c, x_max): L_f = c + i a Z with Z's spectrum in a thin ellipse around [-1, 1]
        (or L_f = c + a Z, foci on the real axis, for strongly damped fused generators: then
        ``self.real[f]`` holds log rho of the ellipse); steps are at most x_max / a long."""
        if f not in self._bounds:
            half = self.gen.half_width(f)
            decay = self.gen.decay
            if self.measured and decay > DAMPED * 2.0 * 2.0 * half * (1 + DAMP_PAD):
                self._bounds[f] = self._damped(f, half, decay)
                return self._bounds[f]
            a = 2.0 * half + decay
            # T_k(Z) may grow like r^k off the segment (numerical range of width ~ 2 decay): cap
            # the step so that r^x stays below GROWTH (no cancellation in strongly damped runs).
            # Generators that measure the term norms for free (``fused``) take steps to r^x =
            # GROWTH^2 and check the growth they meet instead (a step that meets more is redone
            # at half the length, and the cap is halved).
            beta = 2.0 * decay / a if a > 0 else 1.0
            r = beta + np.sqrt(1.0 + beta * beta)
            top, limit = (X_MAX_MEASURED, 2.0 * np.log(GROWTH)) if self.measured else (X_MAX, np.log(GROWTH))
            self._bounds[f] = (a, -0.5 * decay, min(top, limit / np.log(r)) if r > 1 else top)
        return self._bounds[f]

    def _damped(self, f: float, half: float, decay: float):
        """(f, c, x_max) of the real-foci ellipse (see DAMPED); log rho in self.real[f]."""
        left, right = -(1.0 + DAMP_PAD) * decay, DAMP_EDGE * decay
        c, A, B = 0.5 * (left + right), 0.5 * (right - left), 2.0 * half * (1.0 + DAMP_PAD)
        fo = float(np.sqrt(A * A - B * B))
        self.real[f] = float(np.log((A + B) / fo))
        h_max = min(DAMP_LOG_GROWTH / (A - fo) if A > fo else np.inf, 1.0 / right)
        return fo, c, min(X_MAX_MEASURED, fo * h_max)

    def step(self, R, Y, f: float, h: float):
        """((R', Y') at t0 + h, _Step) or None when the series did not converge.

        Stops by ``term_error`` (two terms past k = a h, or past the peak x log rho of the terms
        for real foci; scale SERIES_MARGIN tol ||(R, Y)||_F, over the step's factor for real foci)."""
        a, c, _ = self.bounds(f)
        x = a * h
        lnrho = self.real.get(f)
        if lnrho is None:
            kmax, b, gain, start = max_terms(x), None, np.exp(c * h), x
            b = bessel_terms(x, kmax)
            sign = 1.0  # W_k = i^k T_k(Z): W_{k+1} = (2/a)(L - c) W_k + W_{k-1}
        else:
            start = x * lnrho  # the terms |b_k| ||W_k|| peak near k = x log rho
            kmax = int(start + 12.0 * np.sqrt(x) + 60)
            b, gain, sign = _ive_terms(x, kmax), np.exp((c + a) * h), -1.0  # W_k = T_k(Z)
        P0, P1, C0, C1, AR, AY = self.buf
        np.copyto(P0, R)
        np.copyto(P1, Y)
        np.multiply(R, b[0], out=AR)
        np.multiply(Y, b[0], out=AY)
        ynorm = norm2(R, Y) or 1.0
        scale, a_prev = SERIES_MARGIN * self.tol * ynorm / max(gain, 1.0), abs(b[0]) * ynorm
        moments = [self.funcs(R, Y)]
        cur, prev = (C0, C1), (P0, P1)
        every = lnrho is not None  # real foci: every term's norm (the weighted growth check below)
        nrm = self._term(f, (P0, P1), cur, Recurrence(1.0 / a, c), b[1], every or self._norm_needed(1, start))  # W_1
        k, grown, weighted = 1, nrm, abs(b[1]) * nrm
        while True:
            moments.append(self.funcs(*cur))
            a_k = abs(b[k]) * nrm if k + 1 > start else 0.0  # a_{k-1} is read once k > start
            if term_error(k, start, a_k, a_prev, scale) <= 1.0:
                break
            a_prev = a_k
            if k + 1 >= kmax or not np.isfinite(nrm):
                return None
            # W_{k+1} = (2/a)(L - c) W_k +- W_{k-1}, written over W_{k-1}
            rec = Recurrence(2.0 / a, c, sign, prev)
            nrm = self._term(f, cur, prev, rec, b[k + 1], every or self._norm_needed(k + 1, start))
            grown, weighted = max(grown, nrm), max(weighted, abs(b[k + 1]) * nrm)
            cur, prev = prev, cur
            k += 1
        # cancellation would cost more than log10(GROWTH) digits: the terms grew more than the
        # bounds assumed (for real foci: the spectrum or numerical range leaves the ellipse)
        too_big = grown > GROWTH * ynorm if lnrho is None else weighted * max(gain, 1.0) > DAMP_GROWTH * ynorm
        if self.measured and too_big:
            a_, c_, x_max = self._bounds[f]
            self._bounds[f] = (a_, c_, 0.5 * min(x_max, x))
            return None
        out = (AR * gain, AY * gain)
        if self.measured:
            self.gen.complete(*out)
        return out, _Step(0.0, h, a, c, np.array(moments), real=lnrho is not None)

    def _norm_needed(self, k: int, x: float) -> bool:
        """The norm of W_k is read by the stopping test (k + 1 > x) and, for measured growth,
        every 8th term before."""
        return k + 1 > x or (self.measured and k % 8 == 0)

    def _term(self, f, src, dst, rec, coef, need_norm: bool) -> float:
        """dst = the next term from src (recurrence rec); (AR, AY) += coef dst; its norm ||dst||_F
        when need_norm (else 0). Generators with ``fused`` do all three in one pass."""
        AR, AY = self.buf[4], self.buf[5]
        if getattr(self.gen, "fused", False):
            n2 = self.gen.apply(f, src[0], src[1], dst[0], dst[1], rec, acc=(coef, AR, AY), norm=need_norm)
            return float(np.sqrt(n2))
        self.gen.apply(f, src[0], src[1], dst[0], dst[1], rec)
        axpy2(coef, dst[0], dst[1], AR, AY)
        return norm2(dst[0], dst[1]) if need_norm else 0.0


def _segments(protocol: Protocol, t_end: float):
    """[(t_a, t_b, f)]: the constant pieces of the protocol on [0, t_end]."""
    pts = [0.0, *protocol.breakpoints(0.0, t_end), t_end]
    return [(a, b, protocol.value(0.5 * (a + b))) for a, b in zip(pts[:-1], pts[1:], strict=False) if b > a]


def _initial(psi0, weights, dim):
    rho0 = np.ascontiguousarray((psi0 * weights) @ psi0.conj().T, dtype=np.complex128)
    return rho0, np.zeros((dim, dim), dtype=np.complex128)


def _finish(problem: SolveProblem, values, e0: float, evaluate, hooked, info: dict, offset=None) -> Solution:
    """The Solution from the recorded functionals (columns E + offset, C, P_0, P_V, diagonal
    observables; offset e0 unless the functionals measure E - E(0) themselves) and the hooked
    observables (one array per sample, or None)."""
    times = np.asarray(problem.times, float)
    f = np.array([problem.protocol.value(float(t)) for t in times])
    E = values[:, 0] - (e0 if offset is None else offset)
    C = values[:, 1]
    P = values[:, 2] + problem.drive * f * values[:, 3]
    rows = [values[:, 4:].T] if values.shape[1] > 4 else []
    if hooked is not None:
        rows.append(np.array(hooked).T)
    ex = np.concatenate(rows, axis=0) if rows else None
    return Solution(times=times, energy=E, power=P, capacitance=C, e0=e0, observables=ex, evaluate=evaluate,
                    info=info)


def _observer(problem: SolveProblem):
    """rho -> the observe hook's values (None when the problem has no hook)."""
    if problem.observe is None:
        return None
    return lambda rho: np.atleast_1d(problem.observe(SampledState(rho=rho)))


def _solve_lindblad(problem: SolveProblem, options: SolverOptions, progress=None) -> Solution:
    """Exact density-matrix evolution of the mixture sum_k w_k |psi_k><psi_k|.

    Parameters
    ----------
    problem : SolveProblem
        Operators with their jumps, initial mixture psi0 (dim, n_members) and weights, drive
        lambda (energy units), protocol, sample times (increasing, >= 0, units 1/omega0),
        diagonal observables Tr[D rho] (first rows of ``solution.observables``) and ``observe``
        (called with the density matrix at each sample; its values follow).
    options : SolverOptions
        ``series_tol``: relative truncation error of each propagation step (piecewise-constant
        protocols) or the rtol = atol of DOP853 (smooth protocols). Other fields are not used.

    Returns
    -------
    Solution  (``evaluate(k, t)``: E, P, C_Q at t in [times[k], times[k+1]], no re-propagation
    for piecewise-constant protocols.)
    """
    ops = problem.ops
    gen = MatrixFormLindbladian(ops, problem.drive)
    funcs = _Functionals(ops, problem.diagonal_observables)
    state = _initial(problem.psi0, problem.weights, ops.dim)
    return run_generator(problem, gen, funcs, state, _observer(problem), options.series_tol, progress)


def run_generator(problem: SolveProblem, gen, funcs, state, observe, tol: float, progress=None,
                  watch=None) -> Solution:
    """Propagate (R, Y) = `state` under the augmented generator `gen` through the protocol, recording
    the functionals `funcs` (E + e0, C, P_0, P_V, diagonal observables) at the samples and
    `observe(R)` (or None): Chebyshev steps with dense output for piecewise-constant protocols,
    DOP853 for smooth ones. The one integrator of the exact and permutation solvers. `watch`
    (Chebyshev steps only) is called with each sample's row of functionals as it is recorded
    and may raise to stop the run early."""
    e0 = float(funcs(*state)[0])
    offset = e0  # E = (E row) - offset
    if hasattr(funcs, "e_shift"):  # measure Tr[(H_B - E(0)) R]: a state held near E(0) (|g...g>, E(0) =
        funcs.e_shift, offset = e0, 0.0  # -N omega/2) then keeps E's digits (no large constant in the sums)
    if not getattr(problem.protocol, "piecewise_constant", True):
        from .smooth import solve_smooth_lindblad

        values, ev, info, hooked = solve_smooth_lindblad(gen, funcs, state, problem, observe, tol, progress)

        def evaluate_smooth(k, t):
            v = ev(k, t)
            return float(v[0] - offset), float(v[2]), float(v[1])

        return _finish(problem, values, e0, evaluate_smooth, hooked, info, offset)
    run = _ChebyshevRun(problem, _Chebyshev(gen, funcs, tol), funcs, observe, progress)
    run.watch = watch
    run.propagate(state)
    starts = [st.t0 for st in run.steps]
    drive, protocol = problem.drive, problem.protocol

    def evaluate(k: int, t: float):
        st = run.steps[max(0, bisect.bisect_right(starts, float(t)) - 1)]
        v = st.values(float(t))
        return float(v[0] - offset), float(v[2] + drive * protocol.value(float(t)) * v[3]), float(v[1])

    info = {"method": "exact", "integrator": "chebyshev", "steps": len(run.steps), "applications": run.n_apply,
            "tolerance": tol}
    return _finish(problem, run.values, e0, evaluate, run.hooked if problem.observe is not None else None, info,
                   offset)


class _ChebyshevRun:
    """The Chebyshev propagation of (rho, X) through the protocol's constant pieces, recording
    the functionals at every sample (from the state, or from the step's dense output) and the
    hooked observables (which need the state itself at each sample)."""

    def __init__(self, problem: SolveProblem, cheb, funcs, observe, progress):
        self.times = np.asarray(problem.times, float)
        self.protocol, self.cheb, self.funcs = problem.protocol, cheb, funcs
        self.observe, self.progress = observe, progress
        self.values = np.empty((len(self.times), 4 + funcs.D.shape[0]))
        self.steps, self.hooked, self.n_apply, self.j = [], [], 0, 0  # j: next sample to record
        self.eps = 1e-12 * max(1.0, float(self.times[-1]))
        self.watch = None  # called with each recorded row of functionals (see run_generator)

    def record(self, t, state, st=None):
        """Samples up to t: from the state at t, or inside step st."""
        times, n = self.times, len(self.times)
        while self.j < n and times[self.j] <= t + (self.eps if st is None else -self.eps):
            if st is None:
                self.values[self.j] = self.funcs(*state)
                if self.observe is not None:
                    self.hooked.append(self.observe(state[0]))
            else:
                self.values[self.j] = st.values(float(times[self.j]))
            if self.watch is not None:
                self.watch(self.values[self.j])
            self.j += 1
            if self.progress is not None:
                self.progress(self.j, n)

    def step(self, state, f: float, h: float):
        """One converged step of at most h from `state` (halved until the series converges)."""
        while True:
            res = self.cheb.step(*state, f, h)
            if res is not None:
                return h, res
            h *= 0.5
            if h < self.eps:
                raise FloatingPointError("Chebyshev series did not converge (generator far from normal)")

    def propagate(self, state) -> None:
        times, eps = self.times, self.eps
        for ta, tb, f in _segments(self.protocol, float(times[-1])):
            t = ta
            while t < tb:
                self.record(t, state)
                a, _, x_max = self.cheb.bounds(f)  # (a growth check may have shortened x_max)
                h = min(x_max / a, tb - t)
                if self.observe is not None and self.j < len(times):
                    h = min(h, times[self.j] - t)  # nonlinear hooked observables need the state at each sample
                h, (state, st) = self.step(state, f, h)
                st.t0 = t
                self.n_apply += len(st.moments) - 1
                self.steps.append(st)
                t_new = t + h if tb - (t + h) > eps else tb
                self.record(t_new, state, st)
                t = t_new
        self.record(float(times[-1]), state)


def solve_lindblad(problem: SolveProblem, options: SolverOptions | None = None, progress=None) -> Solution:
    from ..core.runtime import one_thread

    with one_thread():  # BLAS is used only for small reductions: same bits for any thread count
        return _solve_lindblad(problem, SolverOptions() if options is None else options, progress)


solve_lindblad.__doc__ = _solve_lindblad.__doc__


class ExactSolver(Solver):
    """The density-matrix solver (noise, exact): rho and its tangent X in matrix form."""

    name = "exact"
    accepts = Accepts(noise=True, density=True)

    def memory(self, size: RunSize, options: SolverOptions) -> float:
        return estimate_lindblad_memory(size.dim, size.nnz_per_row, size.n_jumps)

    def cost(self, size: RunSize, options: SolverOptions) -> float:
        """dim^2 x nnz per unit time: one trajectory run of ntraj costs about EXACT_AUTO_DIM_PER_TRAJECTORY
        x ntraj x dim x nnz on the same scale (measured crossover, :func:`exact_auto_limit`)."""
        return size.dim * size.nnz

    def solve(self, problem: SolveProblem, options: SolverOptions, progress=None, client=None) -> Solution:
        return solve_lindblad(problem, options, progress)


SOLVER = ExactSolver()
