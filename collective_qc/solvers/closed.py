"""Closed (noise-free) state-vector solver with exact tangent propagation for C_Q.

The state psi and its tangent phi = d psi / d lambda obey (hbar = 1)

    i d psi/dt = H(t) psi,          H(t) = H_0 + lambda f(t) V
    i d phi/dt = H(t) phi + f(t) V psi,

i.e. one linear system with the block-triangular generator [[H, 0], [f V, H]]. Each
constant piece of a piecewise-constant protocol is propagated by a Chebyshev expansion of
the exponential (:mod:`.chebyshev`; one fused Numba pass over H and V per term for psi and
phi together), from sample to sample, each step summed to a relative truncation error of
1e-12: exact to round-off. Smooth protocols use DOP853 with error control.

Observables:

    E(t)   = <psi|H_B|psi> - E(0)
    C_Q(t) = 2 Re <H_B psi|phi>                      (dE/dlambda, exact)
    P(t)   = 2 lambda f(t) Im <H_B psi|V psi>        (i<[H, H_B]>, exact; [H_0, H_B] = 0)

A mixed initial state (degenerate ground manifold) is evolved member by member and
averaged with its weights. A thermal state sampled by typical states (``problem.typical``) is
such a mixture, averaged by the ratio estimator; its standard errors and jackknife curves come
from the spread over the members (:func:`collective_qc.physics.states.ratio_jackknife`), E(t) per
member from its own initial energy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..physics.operators import Operators
from ..physics.protocols import Protocol
from .chebyshev import X_MAX, charger_pack, closed_step, csr_arrays, spectral_interval
from .contract import Accepts, RunSize, SampledState, SolveProblem, Solver
from .solution import SampleStates, Solution, SolverOptions

__all__ = ["solve_closed", "ChebyshevPropagator", "ClosedSolver", "SOLVER"]

OUTPUTS_PER_STEP = 6  # samples summed from one Chebyshev series (dense output); more: more memory


def _chunked(prop, protocol, n_out):
    """states(y, times) -> the states at `times` (increasing, > current time t0), propagating
    through the protocol's pieces with up to n_out outputs per Chebyshev series."""

    def states(y, t0, targets):
        out = []
        t_end = targets[-1]
        pts = [t0, *protocol.breakpoints(t0, t_end), t_end]
        tg = list(targets)
        for ta, tb in zip(pts[:-1], pts[1:], strict=False):
            f = protocol.value(0.5 * (ta + tb))
            reach = X_MAX / prop.half_width(f)
            t = ta
            while t < tb:
                chunk = []
                while tg and tg[0] <= tb and len(chunk) < n_out and tg[0] - t <= reach:
                    chunk.append(tg.pop(0))
                offs = [c - t for c in chunk]
                if not chunk or chunk[-1] < tb and len(chunk) < n_out and tb - t <= reach:
                    offs.append(min(tb, t + reach) - t)  # piece end (or as far as one series reaches)
                st = prop.states(y, f, offs)
                out.extend(st[: len(chunk)])
                y = st[-1]
                t += offs[-1]
        return out

    return states


class ChebyshevPropagator:
    """exp(-i t [[H_f, 0], [f V, H_f]]) on (dim, n_members) pairs; the spectral interval
    (centre, half-width) of H_f (:func:`.chebyshev.spectral_interval`) cached per f."""

    def __init__(self, ops: Operators, drive: float, tol: float = SolverOptions.series_tol, matrix_free: bool = True):
        self.ops, self.drive, self.tol = ops, float(drive), tol
        self._v = charger_pack(ops.V, matrix_free)  # matrix-free uniform field in the full basis
        self._h0 = csr_arrays(ops.H0)
        self._cache = {}
        self.applications = 0

    def _prepared(self, f: float):
        if f not in self._cache:
            H = (self.ops.H0 + (self.drive * f) * self.ops.V).tocsr()
            interval = spectral_interval(H)
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[f] = (self._h0, interval)
        return self._cache[f]

    def step(self, y: np.ndarray, f: float, dt: float) -> np.ndarray:
        """y: (2, dim, n_members) complex; returns the propagated copy."""
        if dt <= 0:
            return y
        a = self.half_width(f)
        n_sub = max(1, int(np.ceil(a * dt / X_MAX)))
        for _ in range(n_sub):
            y = self.states(y, f, [dt / n_sub])[0]
        return y

    def half_width(self, f: float) -> float:
        """Half-width a of the spectral interval of H_f (energy units)."""
        return self._prepared(f)[1][1]

    def states(self, y: np.ndarray, f: float, offsets) -> np.ndarray:
        """The states at t0 + s for s in ``offsets`` (increasing, a s_max <= X_MAX), shape
        (n_out, 2, dim, n_members): one Chebyshev series, summed at every offset (dense output)."""
        h0, interval = self._prepared(f)
        out = np.empty((len(offsets), *y.shape), dtype=np.complex128)
        for m in range(y.shape[2]):
            out[..., m] = self._member(np.ascontiguousarray(y[:, :, m]), f, np.asarray(offsets, float),
                                       h0, interval)
        return out

    def _member(self, ym, f, offsets, h0, interval):
        res, k = closed_step((h0, self._v, self.drive), ym, f, offsets, interval, self.tol)
        self.applications += k
        if res is None and interval[1] * offsets[-1] < 1e-6:  # a finite series converges in a few terms here
            raise FloatingPointError("the closed Chebyshev step did not converge (a non-finite state or generator)")
        if res is None:  # not converged within the term budget: one offset at a time, halved
            out, t0 = [], 0.0
            for s in offsets:
                half = 0.5 * (s - t0)
                mid = self._member(ym, f, np.array([half]), h0, interval)[0]
                ym = self._member(mid, f, np.array([half]), h0, interval)[0]
                out.append(ym)
                t0 = s
            return np.array(out)
        return res


def propagate(prop, protocol: Protocol, y, t0: float, t1: float):
    """Advance y from t0 to t1 through the protocol's breakpoints (piecewise constant)."""
    pts = [t0, *protocol.breakpoints(t0, t1), t1]
    for a, b in zip(pts[:-1], pts[1:], strict=False):
        y = prop.step(y, protocol.value(0.5 * (a + b)), b - a)
    return y


def _member_observables(ops: Operators, y, drive, f):
    """<H_B>, P and C_Q of every member (three (n_members,) arrays)."""
    psi, phi = y[0], y[1]
    hb = ops.H_B @ psi
    vp = ops.V @ psi
    e = np.real(np.einsum("im,im->m", psi.conj(), hb))
    c = 2.0 * np.real(np.einsum("im,im->m", hb.conj(), phi))
    p = 2.0 * drive * f * np.imag(np.einsum("im,im->m", hb.conj(), vp))
    return e, p, c


class _MemberRecord:
    """The members' E, P, C_Q at the samples of a typical-state run (while ``open``), and the
    ratio estimator's standard errors and jackknife curves from them."""

    def __init__(self, weights, e_start):
        self.weights, self.e_start, self.rows, self.open = weights, e_start, [], True

    def add(self, e, p, c):
        if self.open:
            self.rows.append(np.stack([e - self.e_start, p, c]))

    def attach(self, sol: Solution) -> Solution:
        from ..physics.states import ratio_jackknife

        self.open = False  # the tau_c refinement evaluates further states: not samples
        x = np.transpose(np.array(self.rows), (2, 1, 0))  # (members, 3, n_t)
        _, err, reps = ratio_jackknife(self.weights, x)
        sol.energy_stderr, sol.power_stderr, sol.capacitance_stderr = err
        sol.jackknife = np.ascontiguousarray(np.transpose(reps, (1, 0, 2)))  # (3, G, n_t)
        sol.info["typical_states"] = int(len(self.weights))
        return sol


def _observables(ops: Operators, y, weights, drive, f, record=None):
    e, p, c = _member_observables(ops, y, drive, f)
    if record is not None:
        record.add(e, p, c)
    return float(weights @ e), float(weights @ p), float(weights @ c)


def _extra(problem: SolveProblem):
    """The further observables of a sample: the mixture-averaged diagonal observables, then the
    observe hook's values on the members (None when neither is asked for)."""
    if problem.diagonal_observables is None and problem.observe is None:
        return None
    D = np.zeros((0, problem.ops.dim)) if problem.diagonal_observables is None else \
        np.asarray(problem.diagonal_observables, float)
    weights, observe = problem.weights, problem.observe

    def extra(yy):
        psi = yy[0]
        out = D @ ((np.abs(psi) ** 2) @ weights)
        if observe is not None:
            out = np.concatenate([out, np.atleast_1d(observe(SampledState(psi=psi, weights=weights)))])
        return out

    return extra


def _solve_closed(problem: SolveProblem, options: SolverOptions, progress=None) -> Solution:
    """Evolve the (mixture of) initial states and sample E, P, C_Q at the problem's times.

    Parameters
    ----------
    problem : SolveProblem
        Operators, initial mixture psi0 (dim, n_members) with weights, drive lambda (the paper's
        Omega), protocol, sample times (increasing, >= 0, units 1/omega0), diagonal observables
        (averaged over the mixture) and ``observe`` (called with the members and weights).
    options : SolverOptions
        ``series_tol``: relative truncation error of each Chebyshev step (DOP853 rtol = atol for
        smooth protocols). Other fields are not used.
    """
    ops, psi0, weights, drive, protocol = problem.ops, problem.psi0, problem.weights, problem.drive, problem.protocol
    y = np.zeros((2, ops.dim, psi0.shape[1]), dtype=np.complex128)
    y[0] = psi0
    e_start = np.real(np.einsum("im,im->m", psi0.conj(), ops.H_B @ psi0))
    e0 = float(weights @ e_start)
    record = _MemberRecord(weights, e_start) if problem.typical else None

    def observables(yy, f):
        return _observables(ops, yy, weights, drive, f, record)

    run = Sampling(None, protocol, np.asarray(problem.times, float), observables, e0, _extra(problem))
    tol = options.series_tol
    if not getattr(protocol, "piecewise_constant", True):
        sol = _solve_smooth(problem, y, run, tol, progress)
    else:
        prop = ChebyshevPropagator(ops, drive, tol)
        run.advance = lambda yy, t0, t1: propagate(prop, protocol, yy, t0, t1)
        run.chunks = _chunked(prop, protocol, OUTPUTS_PER_STEP)
        sol = sample(run, y, progress)
        sol.info.update({"method": "closed", "integrator": "chebyshev", "applications": prop.applications,
                         "tolerance": tol})
    return sol if record is None else record.attach(sol)


def _solve_smooth(problem: SolveProblem, y0, run: Sampling, tol: float, progress=None) -> Solution:
    from .smooth import SmoothSampler

    shape, protocol, drive = y0.shape, problem.protocol, problem.drive
    H0, V = problem.ops.H0.tocsr(), problem.ops.V.tocsr()

    def rhs(t, flat):
        f = protocol.value(t)
        yy = flat.reshape(shape)
        hpsi = H0 @ yy[0] + (drive * f) * (V @ yy[0])
        hphi = H0 @ yy[1] + (drive * f) * (V @ yy[1]) + f * (V @ yy[0])
        return -1j * np.concatenate([hpsi.ravel(), hphi.ravel()])

    sampler = SmoothSampler(rhs, protocol, tol)
    run.advance = lambda yy, t0, t1: sampler.advance(yy.ravel(), t0, t1).reshape(shape)
    sol = sample(run, y0, progress)
    sol.info.update({"method": "closed", "integrator": "dop853", "rhs_evaluations": sampler.nfev,
                     "tolerance": tol})
    return sol


@dataclass
class Sampling:
    """What :func:`sample` needs besides the state: ``advance(y, t0, t1)`` (the propagation),
    the protocol, the sample times, ``observables(y, f) -> (E + e0, P, C)``, e0, ``extra(y)`` (a 1-d
    array of further observables, or None) and ``chunks(y, t0, targets)`` (the states at several
    sample times at once, or None), ``chunk_size`` targets at a time."""

    advance: Callable | None
    protocol: Protocol
    times: np.ndarray
    observables: Callable
    e0: float
    extra: Callable | None = None
    chunks: Callable | None = None
    chunk_size: int = OUTPUTS_PER_STEP


def sample(run: Sampling, y0, progress=None) -> Solution:
    """Propagate y0 through ``run.times``, sampling (E - e0, P, C) and the extra observables.

    Keeps the states at the two samples around the first + -> - sign change of P, so
    that tau_c is refined by propagating inside that interval only (``evaluate(k, t)``).
    """
    times, protocol, advance, e0 = run.times, run.protocol, run.advance, run.e0
    n = len(times)
    E, P, C = np.empty(n), np.empty(n), np.empty(n)
    y = y0
    t_prev = 0.0
    saved = {}
    found = False
    rows = []
    queue = []
    for k, t in enumerate(times):
        if run.chunks is not None and t > t_prev:
            if not queue:
                queue = run.chunks(y, t_prev, [float(s) for s in times[k:k + run.chunk_size]])
            y = queue.pop(0)
        else:
            y = advance(y, t_prev, float(t))
        t_prev = float(t)
        e, p, c = run.observables(y, protocol.value(float(t)))
        E[k], P[k], C[k] = e - e0, p, c
        if run.extra is not None:
            rows.append(np.asarray(run.extra(y), dtype=float))
        if not found:
            saved[k] = y.copy()
            saved.pop(k - 2, None)
            found = k > 0 and P[k - 1] > 0 and P[k] < 0
        if progress is not None:
            progress(k + 1, n)

    starts = SampleStates(saved, lambda k: advance(y0, 0.0, float(times[k])))

    def evaluate(k: int, t: float):
        yt = advance(starts.at(k), float(times[k]), float(t))
        e, p, c = run.observables(yt, protocol.value(float(t)))
        return e - e0, p, c

    rows = np.array(rows).T if run.extra is not None else None
    return Solution(times=np.asarray(times, float), energy=E, power=P, capacitance=C, e0=e0,
                    observables=rows, evaluate=evaluate, info={})


def solve_closed(problem: SolveProblem, options: SolverOptions | None = None, progress=None) -> Solution:
    from ..core.runtime import one_thread

    with one_thread():  # BLAS is used only for small reductions: same bits for any thread count
        return _solve_closed(problem, SolverOptions() if options is None else options, progress)


solve_closed.__doc__ = _solve_closed.__doc__


def vector_memory(size: RunSize) -> float:
    """Bytes of a state-vector run on the full space: H_B, V, H_0 and the augmented generator
    (CSR, 12 bytes per entry) and the 30 work vectors of a Chebyshev step."""
    return 5 * size.nnz * 12 + 2 * size.dim * 16 * 30


class ClosedSolver(Solver):
    """The state-vector solver (noise-free runs): one vector and its tangent per mixture member."""

    name = "closed"
    accepts = Accepts(noise=False, speed_limit=True, reductions=True)

    def memory(self, size: RunSize, options: SolverOptions) -> float:
        """H_B, V, H_0 and the augmented generator (CSR, 12 bytes per entry), 30 work vectors of
        the Chebyshev step, in the symmetry block where one holds the initial state."""
        return vector_memory(size) * size.block_fraction

    def cost(self, size: RunSize, options: SolverOptions) -> float:
        return size.nnz  # one sparse product per term per vector

    def solve(self, problem: SolveProblem, options: SolverOptions, progress=None, client=None) -> Solution:
        return solve_closed(problem, options, progress)


SOLVER = ClosedSolver()
