"""Adjoint sensitivities of a closed state-vector run: the derived figures' derivatives with respect to
every parameter from one backward pass (``sensitivity_mode="adjoint"``).

The pair Z = [x, x_l] (state and d/dlambda, members m with weights w) obeys Z' = A Z,
A = [[M, 0], [f GV, M]], M = G0 + lambda f GV (:mod:`.engine` with no tangents). A figure
F = g(Z(t_F), theta) has dF/dtheta = Re<c, Z_theta(t_F)> + dg/dtheta|_Z with the cotangent
c = dg/dZ. With mu(s) = Phi(t_F, s)^dag c (mu' = -A^dag mu, backwards from t_F):

    dF/dtheta = Re<mu(0), Z_theta(0)> + int_0^t_F Re<mu, A_theta Z> ds + sum_kicks Re<mu(s), jump> + dg/dtheta,

A_theta Z = [N x, N x_l + f dGV x], N = dG0 + a GV + lambda f dGV (a = f for the drive). For closed
runs (G0 = -i H0, GV = -i V) the swapped nu = [mu_l, mu_x] obeys the forward pair equation, and Z
itself is recovered backwards without storage: both are propagated from t_F to 0 by the closed
solver's Chebyshev series with H0, V negated (exp(+i s B), one series per panel, dense output at
the quadrature nodes). The figures are columns of nu, injected as the pass crosses their times:

    E(tau_c): c = [2 w H_B x, 0]        P(tau_c), P(t_p): c = [2 w (H_B M - M H_B) x, 0]
    C_Q(tau_c): c = [2 w H_B x_l, 2 w H_B x]          E(0) (subtracted): c = -[2 w H_B x0, 0] at t = 0

The integral runs over panels with a h <= PANEL_PHASE (a the spectral half-width of H_f), GL_NODES
Gauss-Legendre nodes each; every parameter's dG0, dGV, dH_B sit on one union sparsity pattern, so
one sparse product per node gives all K integrands. The initial ground state enters through
eta = (H_B - E_g)^+ (1 - P_0) mu_x(0) (one solve per figure, not per parameter):
Re<mu_x, x0_theta> = -Re<eta, dH_B x0>. Derived figures as in :mod:`.run`: dE_max = dE(tau_c),
dtau_c = -dP(tau_c) / P'(tau_c), dC_Q* = dC(tau_c) + C'(tau_c) dtau_c, dP_max = dP(t_p). Only these:
no per-sample series (their cost would grow with the samples).
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..physics.states import initial_state
from ..solvers.closed import ChebyshevPropagator, propagate
from .engine import Augmented
from .generators import operators_at, pieces
from .initial import ground_split, sector_solver
from .observe import StateObserver

__all__ = ["AdjointPrepared", "prepare_state_adjoint", "adjoint_figures", "choose_mode", "adjoint_refusal",
           "SENSITIVITY_MODES", "GL_NODES", "PANEL_PHASE"]

SENSITIVITY_MODES = ("auto", "forward", "adjoint")
GL_NODES = 8  # Gauss-Legendre nodes per panel
PANEL_PHASE = 4.0  # a h per panel (integrand frequencies <= 2a: GL error <~ h (2 a h)^16 1.7e-23, 5e-9 h)
ADJOINT_BLOCKS = 12  # state-block propagations of the adjoint: forward pair + pair and 4 figure columns back
# density-matrix runs: the forward mode's 2 + 2K blocks run over the whole sample window, the adjoint's
# only to max(tau_c, t_p); measured (benchmarks/adjoint_cost.py --exact, N = 5 ring, dephasing) the
# adjoint costs about 6 forward blocks: 1.1 s against 1.0 s at K = 1, 0.9 against 1.0 at K = 2
DENSITY_ADJOINT_BLOCKS = 6


def adjoint_refusal(plan) -> str | None:
    """Why this run has no adjoint pass (one line), or None. Closed state-vector runs and density-matrix
    runs (exact, closed from a thermal state: :mod:`.adjoint_density`) with a piecewise-constant envelope."""
    if plan.method not in ("closed", "exact"):
        return (f"sensitivity_mode='adjoint' is for methods closed and exact (this run uses {plan.method!r}); "
                "use sensitivity_mode='forward'")
    if not plan.protocol.piecewise_constant:
        return ("sensitivity_mode='adjoint' needs a piecewise-constant envelope (this one is smooth); use "
                "sensitivity_mode='forward'")
    return None


def choose_mode(plan, n_params: int, requested: str) -> str:
    """"forward" or "adjoint": as asked (adjoint refused in one line where not available), or for
    "auto" the cheaper by block count: forward propagates 2 + 2K state blocks over the window,
    adjoint about ADJOINT_BLOCKS (DENSITY_ADJOINT_BLOCKS for density matrices; plus K sparse
    products per quadrature node, ~K/4 blocks): from K = 6 (state vectors), K = 3 (density matrices)."""
    if requested == "forward":
        return "forward"
    why = adjoint_refusal(plan)
    if requested == "adjoint":
        if why:
            raise InputError(why)
        return "adjoint"
    density = plan.method == "exact" or plan.initial.startswith("thermal")
    blocks = DENSITY_ADJOINT_BLOCKS if density else ADJOINT_BLOCKS
    return "adjoint" if why is None and blocks + n_params / 4 < 2 + 2 * n_params else "forward"


class _Stack:
    """Every parameter's dG0, dGV, dH_B (and GV, for the drive) on one union sparsity pattern:
    D @ (conj(u[rows]) v[cols]) is <u, D_k v> for all k at once."""

    def __init__(self, tangents, GV):
        mats = [m for t in tangents for m in (t.dG0, t.dGV, t.dHB) if m is not None] + [GV]
        union = sum(abs(sp.csr_matrix(m)) for m in mats).tocoo()
        n = GV.shape[0]
        self.keys = np.sort(union.row.astype(np.int64) * n + union.col)
        self.rows, self.cols, self.n = self.keys // n, self.keys % n, n
        self.G0, self.V, self.HB = (self._stacked([getattr(t, a) for t in tangents]) for a in ("dG0", "dGV", "dHB"))
        gv = self._stacked([GV])
        self.gv = sum(0 if p is None else p.toarray()[0] * z for p, z in zip(gv, (1, 1j), strict=True))
        self.drive = np.array([t.is_drive for t in tangents], float)
        self.kicks = [(k, s, ds * (fb - fa)) for k, t in enumerate(tangents) for s, ds, fb, fa in t.kicks]

    def _stacked(self, mats):
        """(real part, imaginary part) of the stacked matrices (K x pattern, real CSR; None where zero),
        or None: Re(D w) = D_r Re w - D_i Im w in real arithmetic (closed runs: dG0 = -i dH)."""
        rows, cols, vals = [], [], []
        for k, m in enumerate(mats):
            if m is not None and m.nnz:
                c = m.tocoo()
                rows.append(np.full(c.nnz, k))
                cols.append(np.searchsorted(self.keys, c.row.astype(np.int64) * self.n + c.col))
                vals.append(c.data)
        if not rows:
            return None
        rows, cols, vals = np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(np.complex128)
        parts = [sp.csr_matrix((part, (rows, cols)), shape=(len(mats), len(self.keys))) for part in (vals.real,
                                                                                                  vals.imag)]
        for p in parts:
            p.eliminate_zeros()
        return tuple(p if p.nnz else None for p in parts)

    def outer(self, u, v) -> np.ndarray:
        """conj(u[rows]) v[cols] summed over members: u (n, m, J), v (n, m) -> (pattern, J)."""
        if u.shape[1] == 1:
            return u[:, 0, :].conj()[self.rows] * v[self.cols, 0][:, None]
        return np.einsum("pmj,pm->pj", u.conj()[self.rows], v[self.cols])

    def real(self, D, w) -> np.ndarray:
        """Re(D w) (K, J) of a stacked D on pattern vectors w (pattern, J)."""
        out = np.zeros((len(self.drive), w.shape[1]))
        if D is not None and D[0] is not None:
            out += D[0] @ np.ascontiguousarray(w.real)
        if D is not None and D[1] is not None:
            out -= D[1] @ np.ascontiguousarray(w.imag)
        return out

    def pair(self, D, u, v) -> np.ndarray:
        """Re <u, D_k v> for every k: (K, J) (zeros when no parameter has that piece)."""
        if D is None:
            return np.zeros((len(self.drive), u.shape[2]))
        return self.real(D, self.outer(u, v))


class _Reversed(ChebyshevPropagator):
    """exp(+i s B_f) on (2, dim, columns): the closed solver's pair propagator with H0 and V negated
    (the pair system run backwards), its spectral interval mirrored from the forward one's."""

    def __init__(self, ops, drive: float, forward: ChebyshevPropagator):
        super().__init__(SimpleNamespace(H0=(-ops.H0).tocsr(), V=(-ops.V).tocsr()), drive)
        self.forward = forward

    def _prepared(self, f: float):
        c, a = self.forward._prepared(f)[1]
        return self._h0, (-c, a)


@dataclass
class AdjointPrepared:
    """What the adjoint pass needs, built before the run: operators, pieces, the derivative stack,
    the initial state, the forward and reversed propagators."""

    plan: object
    params: list
    notes: list
    ops: object
    base: object
    stack: _Stack
    init: object
    forward: ChebyshevPropagator
    reverse: _Reversed
    seconds: float

    def evaluator(self, result):
        """(the run's evaluator with kept states, the pair at t = 0)."""
        return _forward_run(self, result)

    def backward(self, figures) -> _Backward:
        return _Backward(self, figures)


def prepare_state_adjoint(plan, charging: dict, params) -> AdjointPrepared:
    """Operators on the full basis and every parameter's derivative, stacked; a split degenerate ground
    level refused here (before the run). State vectors; density-matrix runs:
    :func:`.adjoint_density.prepare_density` (:func:`.run.prepare_adjoint` chooses)."""
    from .forward import _tangents

    t_start = _time.perf_counter()
    ops = operators_at(plan, charging)
    base = pieces(ops, False)
    init = initial_state(ops, plan.initial)
    tangents, notes = _tangents(plan, charging, params, False, ops)
    if init.label.startswith("ground"):
        sector = init.vectors
        for t in tangents:
            if t.dHB is not None:
                ground_split(t.dHB, sector, t.name)
    forward = ChebyshevPropagator(ops, plan.drive)
    return AdjointPrepared(plan, params, notes, ops, base, _Stack(tangents, base.GV), init, forward,
                           _Reversed(ops, plan.drive, forward), _time.perf_counter() - t_start)


def _forward_run(prep: AdjointPrepared, result):
    """The run's evaluator on the closed solver's Chebyshev propagation (:func:`kept_run`)."""
    plan = prep.plan
    aug = Augmented(prep.base.G0, prep.base.GV, plan.drive, plan.protocol, [])
    x0 = prep.init.vectors.astype(np.complex128)
    Y0 = np.stack([x0, np.zeros_like(x0)])
    advance = lambda Y, t0, t1: propagate(prep.forward, plan.protocol, Y, t0, t1)  # noqa: E731
    return kept_run(aug, StateObserver(prep.base.HB, prep.init.weights, []), plan.times, Y0, result, advance), Y0


def kept_run(aug, obs, times, Y0, result, advance):
    """The run's evaluator (:class:`.run._Run`) of the pair Y = [x, x_l] advanced by ``advance(Y, t0, t1)``,
    with states kept at the samples that bracket tau_c and the largest P only."""
    from ..analysis.merit import first_maximum_bracket
    from .forward import _Run

    class Forward(_Run):
        def __init__(self, keep):
            self.aug, self.obs, self.times, self.saved = aug, obs, np.asarray(times, float), {-1: Y0}
            raw0 = obs.values(Y0, aug.rhs(Y0, 0.0))
            self.e0, self.de0 = raw0[0], raw0[3]
            Y, t = Y0, 0.0
            for i in sorted(keep):
                Y, t = self._advance(Y, t, float(self.times[i])), float(self.times[i])
                self.saved[i] = Y

        def _advance(self, Y, t0, t1):
            return advance(Y, t0, t1) if t1 > t0 else Y

        def state(self, t: float):
            i = max((k for k in self.saved if k < 0 or self.times[k] <= t), key=lambda k: k)
            return self._advance(self.saved[i], 0.0 if i < 0 else float(self.times[i]), t)

    P = np.asarray(result.power, float)
    k = int(np.argmax(P))
    keep = {i for i in (k - 1, k) if 0 <= i < len(P)}
    bracket = first_maximum_bracket(times, P)
    if bracket is not None:
        keep.add(bracket[0])
    return Forward(keep)


def _cotangents(prep, Z, t: float, kinds) -> np.ndarray:
    """nu = [c_l, c_x] (2, n, m, J) of the figures `kinds` ("E", "P", "C") at Z(t) (2, n, m)."""
    ops, w = prep.ops, prep.init.weights
    x, xl = Z[0], Z[1]
    hb = lambda v: ops.H_B @ v  # noqa: E731
    Hf = lambda v: ops.H0 @ v + prep.plan.drive * prep.plan.protocol.value(t) * (ops.V @ v)  # noqa: E731
    out = np.zeros((2, *x.shape, len(kinds)), dtype=np.complex128)
    for j, kind in enumerate(kinds):
        if kind == "E":
            out[1, :, :, j] = 2 * w * hb(x)
        elif kind == "P":  # 2 (H_B M - M H_B) x, M = -i H_f
            out[1, :, :, j] = -2j * w * (hb(Hf(x)) - Hf(hb(x)))
        else:
            out[0, :, :, j], out[1, :, :, j] = 2 * w * hb(x), 2 * w * hb(xl)
    return out


def _direct(prep, Z, t: float, kinds) -> np.ndarray:
    """dg/dtheta at fixed Z of the figures `kinds` at t: (K, J)."""
    st, w, lam = prep.stack, prep.init.weights, prep.plan.drive
    f = prep.plan.protocol.value(t)
    x, xl = Z[0], Z[1]
    M = -1j * (prep.ops.H0 @ x + lam * f * (prep.ops.V @ x))
    hbx = 2 * w * (prep.ops.H_B @ x)
    one = lambda a: a[:, :, None]  # noqa: E731
    cols = []
    for kind in kinds:
        if kind == "E":
            cols.append(st.pair(st.HB, one(w * x), x))
        elif kind == "P":  # 2 Re <dH_B x, M x> + 2 Re <H_B x, N x>
            n = st.pair(st.G0, one(hbx), x) + lam * f * st.pair(st.V, one(hbx), x)
            gv = np.real(np.vdot(hbx, prep.base.GV @ x))
            cols.append(st.pair(st.HB, one(2 * w * x), M) + n + f * gv * st.drive[:, None])
        else:
            cols.append(st.pair(st.HB, one(2 * w * x), xl))
    return np.concatenate(cols, axis=1)


class _Backward:
    """The backward pass: S = [Z | nu columns] (2, n, m (1 + J)) from t_end to 0, the integrals of
    Re <mu, A_theta Z> accumulated per parameter and figure (K, J)."""

    def __init__(self, prep, figures):
        self.prep, self.figures = prep, figures  # figures: [(kind, time)]
        self.m = prep.init.vectors.shape[1]
        self.nodes, self.weights = np.polynomial.legendre.leggauss(GL_NODES)
        self.acc = np.zeros((len(prep.params), len(figures)))
        self.n_nodes = 0
        self.panel_rule = f"a h <= {PANEL_PHASE}"

    def split(self, S):
        """(Z (2, n, m), nu (2, n, m, J)) views of S."""
        n, m, J = S.shape[1], self.m, len(self.figures)
        return S[:, :, :m], S[:, :, m:].reshape(2, n, J, m).transpose(0, 1, 3, 2)

    def run(self, Z_end, t_end: float):
        n, m, J = Z_end.shape[1], self.m, len(self.figures)
        S = np.zeros((2, n, m * (1 + J)), dtype=np.complex128)
        S[:, :, :m] = Z_end
        stops = self.stops(t_end)
        S = self._arrive(S, t_end)
        for a, b in zip(stops[-2::-1], stops[:0:-1], strict=True):
            S = self._segment(S, a, b)
            S = self._arrive(S, a)
        return S

    def stops(self, t_end: float) -> list:
        """0, t_end, the figures' times, the envelope's breakpoints and the switching times (ascending)."""
        proto = self.prep.plan.protocol
        kick_times = {s for _, s, _ in self.prep.stack.kicks if 0 < s < t_end}
        return sorted({0.0, t_end, *(t for _, t in self.figures), *proto.breakpoints(0.0, t_end), *kick_times})

    def _arrive(self, S, t: float):
        """At a stop: the kicks there (before the figures' injection), then inject the figures at t."""
        Z, nu = self.split(S)
        for k, s, c in self.prep.stack.kicks:
            if s == t:
                self.acc[k] += c * self._kick(Z, nu)
        here = [j for j, (_, tf) in enumerate(self.figures) if tf == t]
        if here:
            S = S.copy()
            Z, nu = self.split(S)
            cot = self.cotangents(Z, t, [self.figures[j][0] for j in here])
            for i, j in enumerate(here):
                S[:, :, self.m * (1 + j): self.m * (2 + j)] = cot[..., i]
        return S

    def cotangents(self, Z, t: float, kinds) -> np.ndarray:
        """nu columns (2, n, m, J) of the figures `kinds` at Z(t)."""
        return _cotangents(self.prep, Z, t, kinds)

    def direct(self, Z, t: float, kinds) -> np.ndarray:
        """dg/dtheta at fixed Z (K, J)."""
        return _direct(self.prep, Z, t, kinds)

    def initial(self, S) -> np.ndarray:
        """The t = 0 terms (K, J)."""
        return _initial(self.prep, self, S)

    def describe(self, S, Y0) -> dict:
        """Engine, propagation and the state recovered backwards at t = 0 against the initial one."""
        Z0, _ = self.split(S)
        return {"engine": "state vectors, adjoint (one backward pass for all parameters)",
                "propagation": "Chebyshev series of the closed solver, forward and reversed",
                "backward_reconstruction": float(np.max(np.abs(Z0 - Y0)) / max(float(np.max(np.abs(Y0))), 1e-300))}

    def _kick(self, Z, nu) -> np.ndarray:
        """Re <mu, jump>/c per figure: lambda Re<nu1, GV x> + Re<nu0, GV x> + lambda Re<nu0, GV x_l>."""
        GV, lam = self.prep.base.GV, self.prep.plan.drive
        gx, gxl = GV @ Z[0], GV @ Z[1]
        ip = lambda u, v: np.real(np.einsum("nmj,nm->j", u.conj(), v))  # noqa: E731
        return lam * ip(nu[1], gx) + ip(nu[0], gx) + lam * ip(nu[0], gxl)

    def _segment(self, S, a: float, b: float):
        f = self.prep.plan.protocol.value(0.5 * (a + b))
        half = self.prep.forward.half_width(f)
        panels = max(1, int(np.ceil(half * (b - a) / PANEL_PHASE)))
        edges = np.linspace(b, a, panels + 1)
        for hi, lo in zip(edges[:-1], edges[1:], strict=True):
            h = hi - lo
            t_nodes = lo + 0.5 * h * (1 + self.nodes[::-1])  # descending
            states = self.prep.reverse.states(S, f, [*(hi - t_nodes), h])
            for st, wq in zip(states[:-1], self.weights[::-1], strict=True):
                self.acc += 0.5 * h * wq * self._integrand(st, f)
            S = states[-1]
            self.n_nodes += GL_NODES
        return S

    def _integrand(self, S, f: float) -> np.ndarray:
        """Re <mu, A_theta Z> (K, J) at one node."""
        st, lam = self.prep.stack, self.prep.plan.drive
        Z, nu = self.split(S)
        w1 = st.outer(nu[1], Z[0]) + st.outer(nu[0], Z[1])
        out = st.real(st.G0, w1)
        if st.V is not None:
            out += st.real(st.V, lam * f * w1 + f * st.outer(nu[0], Z[0]))
        if st.drive.any():
            out += f * st.drive[:, None] * np.real(st.gv @ w1)[None, :]
        return out


def _initial(prep, back: _Backward, S) -> np.ndarray:
    """At t = 0: the E(0) subtraction and the initial state's dependence on theta (K, J)."""
    st, w, x0 = prep.stack, prep.init.weights, prep.init.vectors.astype(np.complex128)
    _, nu = back.split(S)
    mu_x = nu[1].copy()
    out = np.zeros_like(back.acc)
    for j, (kind, _) in enumerate(back.figures):
        if kind == "E":
            mu_x[:, :, j] -= 2 * w * (prep.ops.H_B @ x0)
            out[:, j] -= st.pair(st.HB, (w * x0)[:, :, None], x0)[:, 0]
    if prep.init.label.startswith("ground") and st.HB is not None:
        sector, solve = sector_solver(prep.ops, prep.init)
        X = x0[sector]
        eta = np.zeros_like(mu_x)
        for j in range(mu_x.shape[2]):
            b = mu_x[sector, :, j]
            eta[sector, :, j] = solve(b - X @ (X.conj().T @ b))
        out -= st.pair(st.HB, eta, x0)
    return out


def adjoint_figures(prep: AdjointPrepared, result):
    """({name: (tau dict or None, dP_max (K,))}, info) of a finished closed or exact run: tau_c and t_p refined on
    the forward propagation (as in :mod:`.run`), then one backward pass for all parameters."""
    from .forward import _power_max, _tau, switch_shift

    t_start = _time.perf_counter()
    run, Y0 = prep.evaluator(result)
    P = np.asarray(result.power, float)
    tau = _tau(run, P, result.tau_c)
    t_p, _ = _power_max(run, P)
    figures = ([("E", tau["t"]), ("P", tau["t"]), ("C", tau["t"])] if tau else []) + [("P", t_p)]
    t_end = max(t for _, t in figures)
    back = prep.backward(figures)
    S = back.run(run.state(t_end), t_end)
    K = len(prep.params)
    total = back.acc + back.initial(S)
    for j, (kind, t) in enumerate(figures):
        total[:, j] += back.direct(run.state(t) if t > 0 else Y0, t, [kind])[:, 0]
    if tau:
        _, _, _, _, _, _, pdot, cdot = run.at(tau["t"])
        dtau = -total[:, 1] / pdot
        tau.update({"tau_c": dtau, "energy_max": total[:, 0], "capacitance_at_tau_c": total[:, 2] + cdot * dtau})
    figs_at = _reproduction(run, result, tau, t_p)
    info = {"mode": "adjoint", **back.describe(S, Y0),
            "quadrature": f"Gauss-Legendre, {GL_NODES} nodes per panel, {back.panel_rule} ({back.n_nodes} nodes)",
            "reproduces_run": figs_at,
            "energy_scale": max(float(np.max(np.abs(result.energy))), 1e-300),
            "tau_c_refined": None if tau is None else tau["t"], "power_max_time": t_p,
            "wall_time_s": prep.seconds + _time.perf_counter() - t_start,
            "note": "adjoint mode: derivatives of tau_c, E_max, P_max and C_Q* only; the per-sample series "
                    "(energy, power, capacitance) are None (sensitivity_mode='forward' gives them)"}
    return tau, total[:, -1] + switch_shift(run, t_p, prep.params) if K else np.zeros(0), info


def _reproduction(run, result, tau, t_p) -> dict:
    """The pass's own E_max, C_Q*, P_max against the run's (relative)."""
    def rel(a, b):
        return abs(a - b) / max(abs(b), 1e-300)

    out = {"power_max": rel(run.at(t_p)[1], result.power_max)}
    if tau and result.energy_max is not None:
        e, _, c, *_ = run.at(tau["t"])
        out["energy_max"] = rel(e, result.energy_max)
        if result.capacitance_at_tau_c is not None:
            scale = max(float(np.max(np.abs(result.capacitance))), 1e-300)
            out["capacitance_at_tau_c"] = abs(c - result.capacitance_at_tau_c) / scale
    return out
