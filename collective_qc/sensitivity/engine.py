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
exponential of the sparse augmented matrix (``scipy.sparse.linalg.expm_multiply``, tolerance 2^-53;
up to DENSE_STEP_LIMIT unknowns a dense ``scipy.linalg.expm`` per (f, step), cached and reused);
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
DENSE_STEP_LIMIT = 512  # augmented systems up to this size step by cached dense exponentials (4 MiB each)


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


def _bmat(rows, n: int) -> sp.csr_matrix:
    """A block matrix of n x n blocks (None: zero), every block row and column sized."""
    B = len(rows)
    rows = [[blk for blk in row] for row in rows]
    for i in range(B):
        if rows[i][i] is None:
            rows[i][i] = sp.csr_matrix((n, n), dtype=np.complex128)
    return sp.bmat(rows, format="csr", dtype=np.complex128)


class Augmented:
    """The augmented linear system of a run: ``advance(Y, t0, t1)`` and ``rhs(Y, t)`` on Y (B, n, m)."""

    def __init__(self, G0, GV, drive: float, protocol, tangents: list[Tangent]):
        self.G0, self.GV, self.drive, self.protocol, self.tangents = G0, GV, float(drive), protocol, tangents
        self.blocks = 2 + 2 * len(tangents)
        self._cache, self._steps = {}, []
        self.kick_times = sorted({s for tg in tangents for s, *_ in tg.kicks})
        self._assemble()

    def _assemble(self):
        """A(t) = A_0 + f(t) A_f + sum_k df_k/dtheta(t) A_k: the parts, each assembled once (sparse)."""
        B, lam, GV = self.blocks, self.drive, self.GV
        parts = {"0": [[None] * B for _ in range(B)], "f": [[None] * B for _ in range(B)]}
        for i in range(B):
            parts["0"][i][i], parts["f"][i][i] = self.G0, lam * GV
        parts["f"][1][0] = GV
        self._field_parts = []
        for k, tg in enumerate(self.tangents):
            x, xl = 2 + 2 * k, 3 + 2 * k
            if tg.dG0 is not None:
                parts["0"][x][0] = parts["0"][xl][1] = tg.dG0
            along_f = (GV if tg.is_drive else 0) + (lam * tg.dGV if tg.dGV is not None else 0)
            if tg.is_drive or tg.dGV is not None:
                parts["f"][x][0] = parts["f"][xl][1] = sp.csr_matrix(along_f)
            if tg.dGV is not None:
                parts["f"][xl][0] = tg.dGV
            parts["f"][xl][x] = GV
            if tg.df is not None:
                rows = [[None] * B for _ in range(B)]
                rows[x][0], rows[xl][1], rows[xl][0] = lam * GV, lam * GV, GV
                self._field_parts.append((tg.df, _bmat(rows, GV.shape[0])))
        self._A0, self._Af = _bmat(parts["0"], GV.shape[0]), _bmat(parts["f"], GV.shape[0])

    def rhs(self, Y: np.ndarray, t: float) -> np.ndarray:
        """A(t) Y."""
        flat = Y.reshape(Y.shape[0] * Y.shape[1], Y.shape[2])
        out = self._A0 @ flat + self.protocol.value(t) * (self._Af @ flat)
        for df, A in self._field_parts:
            out = out + df(t) * (A @ flat)
        return out.reshape(Y.shape)

    def matrix(self, t: float) -> sp.csr_matrix:
        """A(t) assembled (sparse), cached by f for piecewise-constant envelopes."""
        f = self.protocol.value(t)
        if f not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[f] = (self._A0 + f * self._Af).tocsr()
        return self._cache[f]

    def advance(self, Y: np.ndarray, t0: float, t1: float, repeated: bool = False) -> np.ndarray:
        """Y at t1 from Y at t0 (t1 >= t0), through the envelope's breakpoints and the kicks;
        ``repeated``: a step of a sequence of equal steps (the samples), where a cached dense
        exponential pays off."""
        if t1 <= t0:
            return Y
        stops = sorted({t0, t1, *self.protocol.breakpoints(t0, t1), *(s for s in self.kick_times if t0 < s < t1)})
        for a, b in zip(stops[:-1], stops[1:], strict=False):
            Y = self._segment(Y, a, b, repeated)
            if b in self.kick_times:
                Y = self._kick(Y, b)
        return Y

    def _segment(self, Y, a, b, repeated=False):
        shape = Y.shape
        if self.protocol.piecewise_constant:
            A = self.matrix(0.5 * (a + b))
            flat = Y.reshape(shape[0] * shape[1], shape[2])
            if repeated and A.shape[0] <= DENSE_STEP_LIMIT:
                return self._dense_step(A, self.protocol.value(0.5 * (a + b)), b - a, flat).reshape(shape)
            return expm_multiply(A * (b - a), flat).reshape(shape)
        scale = max(float(np.max(np.abs(Y))), 1e-300)
        sol = solve_ivp(lambda t, y: self.rhs(y.reshape(shape), t).ravel(), (a, b), Y.ravel(), method="DOP853",
                        rtol=SMOOTH_RTOL, atol=1e-3 * SMOOTH_RTOL * scale)
        if not sol.success:
            raise FloatingPointError(f"sensitivity propagation failed on [{a:g}, {b:g}]: {sol.message}")
        return sol.y[:, -1].reshape(shape)

    def _dense_step(self, A, f: float, dt: float, flat):
        """exp(A dt) y by a dense exponential (scipy.linalg.expm, Pade with scaling and squaring),
        computed once per (f, dt) and reused: a step dt' within 1e-9 dt of a cached dt0 is
        exp(A dt0) (y + (dt' - dt0) A y) (error O((dt' - dt0)^2 |A|^2), below 1e-18 relative)."""
        from scipy.linalg import expm

        for f0, dt0, U in self._steps:
            if f0 == f and abs(dt - dt0) <= 1e-9 * dt0:
                d = dt - dt0
                return U @ (flat + d * (A @ flat)) if d else U @ flat
        U = expm((A * dt).toarray())
        self._steps = [*self._steps[-7:], (f, dt, U)]
        return U @ flat

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
