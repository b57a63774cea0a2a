"""Adjoint sensitivities of a density-matrix run (method exact, or closed from a thermal state):
the derived figures' derivatives with respect to every parameter from one forward pass with
checkpoints and one backward pass (``sensitivity_mode="adjoint"``).

The pair Z = [x, x_l] (x = vec(rho) row-major, x_l = d x / d lambda) obeys Z' = A Z with the augmented
Lindbladian A = [[M, 0], [f GV, M]], M = G0 + lambda f GV (:mod:`.generators`, :mod:`.engine`). As in
:mod:`.adjoint`, with <u, v> = u^dag v a figure F = Re<c, Z(t_F)> + ... has

    dF/dtheta = Re<mu(0), Z_theta(0)> + int_0^t_F Re<mu, A_theta Z> ds + sum_kicks Re<mu(s), jump> + dg/dtheta,

mu' = -A^dag mu. Its swapped form nu = [mu_l, mu_x] obeys, backwards in time, the pair equation with
G0^dag = L^dag (the Heisenberg-picture generator: stable backwards, unlike L) and GV^dag:
nu(s - h) = exp(h [[M^dag, 0], [f GV^dag, M^dag]]) nu(s). A dissipative L cannot be run backwards
stably, so Z is not recovered as in the closed case: the forward pass stores Z at the quadrature nodes
when that fits the memory share CHECKPOINT_SHARE, else at the panel edges (every `every`-th edge
when even those do not fit; a group of edges recomputed from its checkpoint when the backward pass
reaches it), and Z at the nodes is then recomputed forward from the panel's edge. Every figure is
linear in Z (h = conj(vec(H_B^T)), Tr[H_B rho] = <h, x>):

    E(tau_c): nu = [0, h]      P(tau_c), P(t_p): nu = [0, M^dag h]      C_Q(tau_c): nu = [h, 0]

with direct terms Re Tr[dH_B rho] (E), Re Tr[dH_B rho'] + Re<h, N x> (P), Re Tr[dH_B X] (C_Q). Noise
rates enter through dG0 = dL/dtheta (the dissipator's derivative, :mod:`.generators`). The initial
state's derivative (ground states, thermal states by Daleckii-Krein: :mod:`.initial`) enters through
Re<mu_x(0), vec(d rho_0)>, one inner product per parameter. Propagation: the sparse augmented
exponential (``expm_multiply``, :class:`.engine.Augmented`) forward and, on the conjugate-transposed
pieces, backward; Gauss-Legendre panels of width h with (2 a + gamma) h <= PANEL_PHASE (a the spectral
half-width of H_f: the integrand oscillates at up to 4 a; gamma the largest decay rate of L).
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..core.errors import ResourceError, format_bytes
from ..core.validate import available_memory
from ..physics.states import initial_state
from ..solvers.chebyshev import spectral_interval
from .adjoint import GL_NODES, PANEL_PHASE, AdjointPrepared, _Backward, _Stack, kept_run
from .engine import Augmented
from .generators import operators_at, pieces
from .initial import state_tangents
from .observe import DensityObserver

__all__ = ["DensityAdjoint", "prepare_density", "CHECKPOINT_SHARE", "density_adjoint_memory"]

CHECKPOINT_SHARE = 0.25  # stored forward states may take this share of the available memory


def density_adjoint_memory(dim: int, nnz_per_row: float, n_params: int) -> float:
    """Bytes of the adjoint pass's working set without checkpoints: the pair and four figure pairs with
    about 12 work copies each (expm_multiply), the augmented generators forward and backward and the
    stacked parameter derivatives (one union pattern)."""
    n = float(dim) * dim
    return n * (16.0 * 2 * 5 * 12 + 24.0 * 2 * nnz_per_row * (8 + 2 + n_params / 4))


@dataclass
class DensityAdjoint(AdjointPrepared):
    """The adjoint pass of a density-matrix run: ``forward`` and ``reverse`` are the pair generators
    (:class:`.engine.Augmented`) on L, [V, .] and on their conjugate transposes; ``h`` = conj(vec(H_B^T)),
    ``dh`` the rows vec(dH_B^T) (K x n, None when no parameter moves H_B), ``x0`` the parameters'
    vec(d rho_0) (K x n sparse rows, None when the state does not depend on any)."""

    h: np.ndarray = None
    dh: sp.csr_matrix | None = None
    x0: sp.csr_matrix | None = None

    def pair0(self) -> np.ndarray:
        V, w = self.init.vectors.astype(np.complex128), self.init.weights
        x = ((V * w) @ V.conj().T).reshape(-1, 1)
        return np.stack([x, np.zeros_like(x)])

    def evaluator(self, result):
        Y0 = self.pair0()
        run = kept_run(self.forward, DensityObserver(self.base.HB, []), self.plan.times, Y0, result,
                       self.forward.advance)
        return run, Y0

    def backward(self, figures) -> _DensityBackward:
        return _DensityBackward(self, figures)


def _rows(vectors, n: int) -> sp.csr_matrix | None:
    """(K, n) CSR of the vectors (None rows: zero), or None when all are None."""
    if all(v is None for v in vectors):
        return None
    return sp.vstack([sp.csr_matrix((1, n), dtype=np.complex128) if v is None else sp.csr_matrix(v.reshape(1, -1))
                      for v in vectors], format="csr")


def _vec_t(A) -> sp.csr_matrix:
    """vec(A^T) (row-major) as a 1 x n sparse row: Tr[A rho] = vec(A^T) . vec(rho)."""
    c = sp.coo_matrix(A)
    d = A.shape[0]
    return sp.csr_matrix((c.data.astype(np.complex128), (np.zeros(c.nnz, int), c.col * d + c.row)), shape=(1, d * d))


def prepare_density(plan, charging: dict, params) -> DensityAdjoint:
    """Operators, the Lindbladian pieces and every parameter's derivative (stacked on one pattern), the
    initial state's derivatives (a split degenerate ground level refused here, before the run)."""
    from .forward import _tangents

    t_start = _time.perf_counter()
    ops = operators_at(plan, charging)
    base = pieces(ops, True)
    init = initial_state(ops, plan.initial)
    tangents, notes = _tangents(plan, charging, params, True, ops)
    x0s = state_tangents(ops, init, [t.dHB for t in tangents], [t.name for t in tangents], True)
    n = ops.dim * ops.dim
    h = np.asarray(_vec_t(base.HB).toarray()).ravel().conj()
    dh = _rows([None if t.dHB is None else _vec_t(t.dHB) for t in tangents], n)
    x0 = _rows([None if d is None else np.asarray(d).reshape(-1) for d in x0s], n)
    stack = _Stack([replace(t, dHB=None) for t in tangents], base.GV)  # dH_B (dim x dim) handled by dh
    forward = Augmented(base.G0, base.GV, plan.drive, plan.protocol, [])
    reverse = Augmented(base.G0.conj().T.tocsr(), base.GV.conj().T.tocsr(), plan.drive, plan.protocol, [])
    return DensityAdjoint(plan, params, notes, ops, base, stack, init, forward, reverse,
                          _time.perf_counter() - t_start, h=h, dh=dh, x0=x0)


class _Checkpoints:
    """The forward pair Z at the panel edges (ascending ``edges``) and, when they fit, at the quadrature
    nodes; otherwise recomputed forward from the nearest stored edge (every `every`-th edge kept; the
    edges of a group recomputed at once when the backward pass reaches it)."""

    def __init__(self, aug: Augmented, Y0, edges, offsets, budget: float):
        self.aug, self.edges, self.offsets = aug, list(edges), np.asarray(offsets, float)
        self.index = {t: i for i, t in enumerate(self.edges)}
        size, n_edges = float(Y0.nbytes), len(self.edges)
        self.with_nodes = n_edges * (1 + len(offsets)) * size <= budget
        self.every = 1 if self.with_nodes else max(1, int(np.ceil(n_edges * size / budget)))
        if self.every > 1:  # kept edges plus one recomputed group: fewest at k = sqrt(edges)
            self.every = max(self.every, int(np.ceil(np.sqrt(n_edges))))
        least = (n_edges / self.every + (self.every if self.every > 1 else 0) + len(offsets) + 1) * size
        if least > budget:
            raise ResourceError(f"adjoint checkpoints of {n_edges} panel edges need at least "
                                f"{format_bytes(least)}, more than their share of the available memory "
                                f"({CHECKPOINT_SHARE:.3g} of it: {format_bytes(budget)}); "
                                "use sensitivity_mode='forward' or a smaller model")
        self.saved, self.nodes, self.group = {0: Y0}, {}, {}
        Y = Y0
        for i in range(1, n_edges):
            if self.with_nodes:
                self.nodes[i - 1] = pts = self._march(Y, i - 1)
                Y = self.aug.advance(pts[-1], self._times(i - 1)[-1], self.edges[i])
            else:
                Y = self.aug.advance(Y, self.edges[i - 1], self.edges[i])
            if self.with_nodes or i % self.every == 0:
                self.saved[i] = Y
        self.recomputed = 0

    def _times(self, i: int) -> np.ndarray:
        lo, hi = self.edges[i], self.edges[i + 1]
        return lo + (hi - lo) * self.offsets

    def _march(self, Y, i: int) -> list:
        """Z at the nodes of panel i from Z at its lower edge."""
        out, t = [], self.edges[i]
        for tn in self._times(i):
            Y = self.aug.advance(Y, t, float(tn))
            out.append(Y)
            t = float(tn)
        return out

    def edge(self, t: float):
        """Z at the panel edge t."""
        i = self.index[t]
        if i in self.saved:
            return self.saved[i]
        if i not in self.group:
            g = i - i % self.every
            Y, self.group = self.saved[g], {}
            for j in range(g + 1, min(g + self.every, len(self.edges))):
                Y = self.group[j] = self.aug.advance(Y, self.edges[j - 1], self.edges[j])
                self.recomputed += 1
        return self.group[i]

    def at_nodes(self, lo: float) -> list:
        """Z at the nodes of the panel starting at lo (ascending)."""
        i = self.index[lo]
        if self.with_nodes:
            return self.nodes[i]
        self.recomputed += 1
        return self._march(self.edge(lo), i)

    def describe(self) -> str:
        if self.with_nodes:
            return f"forward states stored at all {len(self.edges) - 1} panels' nodes"
        kept = f"all {len(self.edges)}" if self.every == 1 else f"every {self.every}-th of {len(self.edges)}"
        return f"forward states stored at {kept} panel edges, {self.recomputed} panels and edges recomputed forward"


class _DensityBackward(_Backward):
    """The backward pass of a density-matrix run: S = [Z | nu columns] (2, n, 1 + J), nu propagated
    backwards by the conjugate-transposed pair generator, Z taken from the forward checkpoints."""

    def __init__(self, prep: DensityAdjoint, figures):
        super().__init__(prep, figures)
        self.m = 1
        self.panel_rule = f"(2 a + gamma) h <= {PANEL_PHASE}"
        self.offsets = 0.5 * (1 + self.nodes)  # ascending, in [0, 1]
        G0 = prep.base.G0
        self.decay = max(float(np.max(-G0.diagonal().real)), 0.0)
        self._half = {}
        self.points = None

    def _width(self, f: float) -> float:
        """2 a + gamma: a the spectral half-width of H_f (cached per f), gamma the largest decay rate."""
        if f not in self._half:
            ops = self.prep.ops
            H = (ops.H0 + (self.prep.plan.drive * f) * ops.V).astype(np.complex128)
            self._half[f] = spectral_interval(sp.csr_matrix(H))[1]
        return 2 * self._half[f] + self.decay

    def _edges(self, a: float, b: float) -> np.ndarray:
        f = self.prep.plan.protocol.value(0.5 * (a + b))
        panels = max(1, int(np.ceil(self._width(f) * (b - a) / PANEL_PHASE)))
        return np.linspace(a, b, panels + 1)

    def run(self, Z_end, t_end: float):
        stops = self.stops(t_end)
        edges = [0.0]
        for a, b in zip(stops[:-1], stops[1:], strict=True):
            edges.extend(float(t) for t in self._edges(a, b)[1:])
        budget = CHECKPOINT_SHARE * available_memory()
        self.points = _Checkpoints(self.prep.forward, self.prep.pair0(), edges, self.offsets, budget)
        return super().run(Z_end, t_end)

    def _segment(self, S, a: float, b: float):
        f = self.prep.plan.protocol.value(0.5 * (a + b))
        rev, m = self.prep.reverse, self.m
        nu = S[:, :, m:]
        edges = [float(t) for t in self._edges(a, b)]
        for lo, hi in zip(edges[-2::-1], edges[:0:-1], strict=True):
            h, t = hi - lo, hi
            Zs = self.points.at_nodes(lo)
            for j in range(GL_NODES - 1, -1, -1):
                tn = lo + h * self.offsets[j]
                nu = rev.advance(nu, tn, t)
                t = tn
                self.acc += 0.5 * h * self.weights[j] * self._integrand(np.concatenate([Zs[j], nu], axis=2), f)
            nu = rev.advance(nu, lo, t)
            self.n_nodes += GL_NODES
        return np.concatenate([self.points.edge(a), nu], axis=2)

    def cotangents(self, Z, t: float, kinds) -> np.ndarray:
        prep = self.prep
        f = prep.plan.protocol.value(t)
        h = prep.h
        Mh = prep.reverse.G0 @ h + prep.plan.drive * f * (prep.reverse.GV @ h)  # M^dag h
        out = np.zeros((2, len(h), 1, len(kinds)), dtype=np.complex128)
        for j, kind in enumerate(kinds):
            out[0 if kind == "C" else 1, :, 0, j] = Mh if kind == "P" else h
        return out

    def direct(self, Z, t: float, kinds) -> np.ndarray:
        prep, st = self.prep, self.prep.stack
        lam, f = prep.plan.drive, prep.plan.protocol.value(t)
        x, xl = Z[0], Z[1]
        Mx = prep.base.G0 @ x + lam * f * (prep.base.GV @ x)
        tr = lambda v: np.zeros(len(prep.params)) if prep.dh is None else np.real(prep.dh @ v)[:, 0]  # noqa: E731
        h3 = prep.h[:, None, None]
        cols = []
        for kind in kinds:
            if kind == "P":  # Re Tr[dH_B rho'] + Re<h, N x>
                n = st.pair(st.G0, h3, x)[:, 0] + lam * f * st.pair(st.V, h3, x)[:, 0]
                gv = np.real(np.vdot(prep.h, prep.base.GV @ x[:, 0]))
                cols.append(tr(Mx) + n + f * gv * st.drive)
            else:
                cols.append(tr(xl if kind == "C" else x))
        return np.stack(cols, axis=1)

    def initial(self, S) -> np.ndarray:
        """The E(0) subtraction and Re<mu_x(0), vec(d rho_0)> per parameter (K, J)."""
        prep = self.prep
        _, nu = self.split(S)
        mu_x = nu[1][:, 0, :].copy()  # (n, J)
        out = np.zeros_like(self.acc)
        x0 = prep.pair0()[0]
        for j, (kind, _) in enumerate(self.figures):
            if kind == "E":
                mu_x[:, j] -= prep.h
                if prep.dh is not None:
                    out[:, j] -= np.real(prep.dh @ x0)[:, 0]
        if prep.x0 is not None:
            out += np.real(prep.x0 @ mu_x.conj())
        return out

    def describe(self, S, Y0) -> dict:
        return {"engine": "density matrix, adjoint (forward pass with checkpoints, one backward pass with the "
                          "conjugate-transposed Lindbladian for all parameters)",
                "propagation": "expm_multiply of the sparse pair generator, forward and (L^dag) backward",
                "checkpoints": self.points.describe()}
