"""Smooth (not piecewise-constant) protocols: DOP853 with error control, f(t) at the stage times.

The state is integrated from sample to sample (restarting at the protocol's breakpoints, if
it lists any); the states at the two samples around the first + -> - sign change of P are
kept so that ``evaluate(k, t)`` (tau_c refinement) integrates only inside that interval.
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import solve_ivp

from .solution import SampleStates

__all__ = ["SmoothSampler", "solve_smooth_lindblad"]


class SmoothSampler:
    """Integrate y' = rhs(t, y) (flat complex y) through the sample times."""

    def __init__(self, rhs, protocol, tol: float):
        self.rhs, self.protocol, self.tol = rhs, protocol, tol
        self.nfev = 0

    def advance(self, y: np.ndarray, t0: float, t1: float) -> np.ndarray:
        pts = [t0, *self.protocol.breakpoints(t0, t1), t1]
        for a, b in zip(pts[:-1], pts[1:], strict=False):
            if b <= a:
                continue
            sol = solve_ivp(self.rhs, (a, b), y, method="DOP853", rtol=self.tol, atol=self.tol)
            if not sol.success:  # pragma: no cover - DOP853 fails only on non-finite input
                raise FloatingPointError(f"DOP853 failed on [{a}, {b}]: {sol.message}")
            self.nfev += sol.nfev
            y = sol.y[:, -1]
        return y

    def run(self, y0, times, observe, progress=None):
        """(values (n, m), evaluate(k, t) -> values at t); observe(t, y) -> 1-d array whose
        entry 2 is P (used to find the first + -> - sign change)."""
        n = len(times)
        values = None
        saved, found = {}, False
        y, t_prev = y0, 0.0
        for k, t in enumerate(times):
            y = self.advance(y, t_prev, float(t))
            t_prev = float(t)
            v = observe(float(t), y)
            values = np.empty((n, len(v))) if values is None else values
            values[k] = v
            if not found:
                saved[k] = y.copy()
                saved.pop(k - 2, None)
                found = k > 0 and values[k - 1, 2] > 0 and values[k, 2] < 0
            if progress is not None:
                progress(k + 1, n)

        starts = SampleStates(saved, lambda k: self.advance(y0, 0.0, float(times[k])))

        def evaluate(k: int, t: float):
            return observe(float(t), self.advance(starts.at(k), float(times[k]), float(t)))

        return values, evaluate


def solve_smooth_lindblad(gen, funcs, state, problem, observe, tol: float, progress=None):
    """The exact solver for a smooth protocol (see :func:`.lindblad.solve_lindblad`): returns the
    recorded functionals (n, 4 + n_diag: E + e0, C, P, 0, diagonal observables), ``evaluate(k,
    t)`` of the same columns, the solver info and the hooked observables (or None)."""
    shape, protocol = gen.shape, problem.protocol
    d2 = int(np.prod(shape))
    outR = np.empty(shape, dtype=np.complex128)
    outY = np.empty(shape, dtype=np.complex128)

    def rhs(t, y):
        gen.apply(protocol.value(t), y[:d2].reshape(shape), y[d2:].reshape(shape), outR, outY)
        return np.concatenate([outR.ravel(), outY.ravel()])

    ext, collecting = [], [True]

    def record(t, y):
        R_, Y_ = y[:d2].reshape(shape), y[d2:].reshape(shape)
        v = funcs(R_, Y_)
        if observe is not None and collecting[0]:
            ext.append(observe(R_))
        return np.concatenate([[v[0], v[1], v[2] + gen.drive * protocol.value(t) * v[3], v[3]], v[4:]])

    sampler = SmoothSampler(rhs, protocol, tol)
    y0 = np.concatenate([state[0].ravel(), state[1].ravel()])
    values, evaluate = sampler.run(y0, np.asarray(problem.times, float), record, progress)
    collecting[0] = False
    values[:, 3] = 0.0  # the caller adds drive f P_V to column 2: zero here, since P is complete
    info = {"method": "exact", "integrator": "dop853", "rhs_evaluations": sampler.nfev, "tolerance": tol}
    return values, evaluate, info, (ext if observe is not None else None)
