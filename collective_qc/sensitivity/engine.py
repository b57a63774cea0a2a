"""Forward tangents of a run, several parameters at once, sharing one propagation.

The state x (a state vector per mixture member, or the vectorised density matrix) obeys
x' = M(t) x, M = G0 + lambda f(t) GV (:mod:`.generators`). With x_l = dx/dlambda (for C_Q),
x_k = dx/dtheta_k and x_lk = d^2 x / dlambda dtheta_k, the augmented vector
Y = [x, x_l, x_1, x_l1, ..., x_K, x_lK] obeys Y' = A(t) Y with A block lower-triangular:

    x'    = M x
    x_l'  = M x_l + f GV x
    x_k'  = M x_k + N_k x,                                   N_k = dG0_k + a_k GV + lambda f dGV_k
    x_lk' = M x_lk + N_k x_l + f GV x_k + (b_k GV + f dGV_k) x

with a_k = d(lambda f)/dtheta_k, b_k = df/dtheta_k (drive: a = f, b = 0; an envelope field:
a = lambda df/dtheta, b = df/dtheta). Constant pieces of a piecewise-constant envelope: the exact
exponential of the sparse augmented matrix (``scipy.sparse.linalg.expm_multiply``, tolerance 2^-53);
smooth envelopes: DOP853 with rtol 1e-12. A switching time s that moves with theta adds the jump
x_k += ds (f(s-) - f(s+)) lambda GV x, x_lk += ds (f(s-) - f(s+)) (GV x + lambda GV x_l) at s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import scipy.sparse as sp
from scipy.integrate import solve_ivp
from scipy.sparse.linalg import expm_multiply

__all__ = ["Tangent", "Augmented", "SMOOTH_RTOL"]

SMOOTH_RTOL = 1e-12  # DOP853 relative tolerance for smooth envelopes


@dataclass
class Tangent:
    """One parameter's share of the augmented generator (None: that piece does not depend on it)."""

    name: str
    dG0: sp.csr_matrix | None = None
    dGV: sp.csr_matrix | None = None
    dHB: sp.csr_matrix | None = None
    df: Callable | None = None  # d f(t)/d theta (envelope fields)
    is_drive: bool = False
    kicks: list = field(default_factory=list)  # (s, ds/dtheta, f(s-), f(s+))
    x0: np.ndarray | None = None  # d x(0)/d theta, shape (n, m)


class Augmented:
    """The augmented linear system of a run: ``advance(Y, t0, t1)`` and ``rhs(Y, t)`` on Y (B, n, m)."""

    def __init__(self, G0, GV, drive: float, protocol, tangents: list[Tangent]):
        self.G0, self.GV, self.drive, self.protocol, self.tangents = G0, GV, float(drive), protocol, tangents
        self.blocks = 2 + 2 * len(tangents)
        self._cache = {}
        self.kick_times = sorted({s for tg in tangents for s, *_ in tg.kicks})

    def _coeffs(self, tg: Tangent, t: float, f: float) -> tuple[float, float]:
        if tg.is_drive:
            return f, 0.0
        if tg.df is not None:
            d = tg.df(t)
            return self.drive * d, d
        return 0.0, 0.0

    def rhs(self, Y: np.ndarray, t: float) -> np.ndarray:
        """A(t) Y (block by block)."""
        f = self.protocol.value(t)
        lf = self.drive * f

        def M(z):
            return self.G0 @ z + lf * (self.GV @ z)

        out = np.empty_like(Y)
        gvx = self.GV @ Y[0]
        out[0], out[1] = M(Y[0]), M(Y[1]) + f * gvx
        for k, tg in enumerate(self.tangents):
            a, b = self._coeffs(tg, t, f)

            def N(z, tg=tg, a=a):
                r = a * (self.GV @ z)
                if tg.dG0 is not None:
                    r = r + tg.dG0 @ z
                return r + lf * (tg.dGV @ z) if tg.dGV is not None else r

            xk, xlk = Y[2 + 2 * k], Y[3 + 2 * k]
            out[2 + 2 * k] = M(xk) + N(Y[0])
            extra = f * (tg.dGV @ Y[0]) if tg.dGV is not None else 0.0
            out[3 + 2 * k] = M(xlk) + N(Y[1]) + f * (self.GV @ xk) + b * gvx + extra
        return out

    def matrix(self, t: float) -> sp.csr_matrix:
        """A(t) assembled (sparse), cached by f for piecewise-constant envelopes."""
        f = self.protocol.value(t)
        if f in self._cache:
            return self._cache[f]
        lf = self.drive * f
        M = (self.G0 + lf * self.GV).tocsr()
        rows = [[None] * self.blocks for _ in range(self.blocks)]
        for i in range(self.blocks):
            rows[i][i] = M
        rows[1][0] = f * self.GV
        for k, tg in enumerate(self.tangents):
            a, b = self._coeffs(tg, t, f)
            N = a * self.GV + (tg.dG0 if tg.dG0 is not None else 0) + (lf * tg.dGV if tg.dGV is not None else 0)
            rows[2 + 2 * k][0] = rows[3 + 2 * k][1] = sp.csr_matrix(N)
            rows[3 + 2 * k][2 + 2 * k] = f * self.GV
            rows[3 + 2 * k][0] = sp.csr_matrix(b * self.GV + (f * tg.dGV if tg.dGV is not None else 0))
        A = sp.bmat(rows, format="csr")
        if len(self._cache) > 8:
            self._cache.clear()
        self._cache[f] = A
        return A

    def advance(self, Y: np.ndarray, t0: float, t1: float) -> np.ndarray:
        """Y at t1 from Y at t0 (t1 >= t0), through the envelope's breakpoints and the kicks."""
        if t1 <= t0:
            return Y
        stops = sorted({t0, t1, *self.protocol.breakpoints(t0, t1), *(s for s in self.kick_times if t0 < s < t1)})
        for a, b in zip(stops[:-1], stops[1:], strict=False):
            Y = self._segment(Y, a, b)
            if b in self.kick_times:
                Y = self._kick(Y, b)
        return Y

    def _segment(self, Y, a, b):
        shape = Y.shape
        if self.protocol.piecewise_constant:
            A = self.matrix(0.5 * (a + b))
            return expm_multiply(A * (b - a), Y.reshape(shape[0] * shape[1], shape[2])).reshape(shape)
        scale = max(float(np.max(np.abs(Y))), 1e-300)
        sol = solve_ivp(lambda t, y: self.rhs(y.reshape(shape), t).ravel(), (a, b), Y.ravel(), method="DOP853",
                        rtol=SMOOTH_RTOL, atol=1e-3 * SMOOTH_RTOL * scale)
        if not sol.success:
            raise FloatingPointError(f"sensitivity propagation failed on [{a:g}, {b:g}]: {sol.message}")
        return sol.y[:, -1].reshape(shape)

    def _kick(self, Y, s):
        Y = Y.copy()
        gvx, gvl = self.GV @ Y[0], self.GV @ Y[1]
        for k, tg in enumerate(self.tangents):
            for when, ds, fb, fa in tg.kicks:
                if when == s:
                    jump = ds * (fb - fa)
                    Y[2 + 2 * k] += jump * self.drive * gvx
                    Y[3 + 2 * k] += jump * (gvx + self.drive * gvl)
        return Y
