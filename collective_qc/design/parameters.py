r"""Model parameters optimised jointly with the envelope (``vary={"J": (0, 2), ...}``).

The run's operators are built, the way a charge run builds them, at the 2^P corners of the box
prod_j [lo_j, hi_j] of the P varied parameters, and H0, V and H_B at any theta in the box are their
multilinear interpolation

    X(theta) = sum_c w_c(s) X_c,   w_c = prod_j (s_j if corner c is at hi_j else 1 - s_j),
    s_j = (theta_j - lo_j) / (hi_j - lo_j),

whose theta-derivatives dX/dtheta_j are exact (no step). This is exact when the operators are
affine in each varied parameter separately (multi-affine: XXZ's J and Delta enter H_B as J and
J Delta, affine in each), which holds for the couplings, fields and frequencies of the catalog;
it is checked before the optimisation by building the operators at the midpoint of each
parameter's edge and at one interior point and comparing them with the interpolation (1e-10 of
the largest entry): a parameter entering otherwise (a cutoff, a norm-matched charger) is refused
in one line. The corners must also share the run's basis (symmetry block and conserved sector of
the initial state), its jump operators (noise rates do not vary) and, unless the state is
recomputed, its initial state.

Initial state: when a varied parameter changes H_B and the run starts in ``ground``, the state
at theta is the ground state of H_B(theta) on the run's basis (the cavity in its Fock state), and
its derivative d psi0 = -sum_{n>0} |n><n| dH_B |0> / (e_n - e_0) (dense eigenbasis). A ground level
degenerate at some theta is not differentiable there and refused (also inside the box, when the
optimiser reaches it). Product and Dicke states do not depend on theta; a thermal state or a
degenerate ground manifold with an H_B parameter is refused.
"""

from __future__ import annotations

import copy
import difflib
import itertools
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from .grape import Dynamics, Tangents

__all__ = ["ParameterFamily", "check_vary", "MAX_VARY"]

MAX_VARY = 4  # 2^P corner builds
AFFINE_TOL = 1e-10  # interpolation error allowed, relative to the largest operator entry
GAP_TOL = 1e-8  # ground-level splitting below this x max(1, |e|): degenerate


@dataclass(frozen=True)
class Varied:
    """One varied parameter: name, bounds [lo, hi] and start value (run value clipped), model units."""

    name: str
    lo: float
    hi: float
    start: float


def check_vary(model, opts) -> list[Varied]:
    """The varied parameters of ``opts.vary`` for ``model``, checked before any operator is built:
    float parameters the model declares, bounds the model accepts, at most MAX_VARY of them."""
    from ..api import check_charge

    if len(opts.vary) > MAX_VARY:
        raise InputError(f"vary: at most {MAX_VARY} parameters (the operators are built at 2^P corners), "
                         f"got {len(opts.vary)}")
    m = check_charge(model, opts.drive, np.array([0.0, opts.tau]), params=opts.params).model
    declared = {p.name: p for p in getattr(m, "params", ())}
    floats = [n for n, p in declared.items() if p.type is float]
    name_of = getattr(m, "name", "") or "the graph"
    out = []
    for name, (lo, hi) in opts.vary.items():
        if name not in declared:
            close = difflib.get_close_matches(name, floats, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"vary: model {name_of!r} has no parameter {name!r}{hint} "
                             f"(float parameters: {', '.join(floats) or 'none'})")
        p = declared[name]
        if p.type is not float:
            raise InputError(f"vary: {name!r} is a {p.type.__name__} parameter of {name_of!r}; only float parameters "
                             f"vary (float parameters: {', '.join(floats) or 'none'})")
        if p.unit == "rate":
            raise InputError(f"vary {name!r}: a noise rate of {name_of!r} (it sets jump operators); rates are not "
                             "optimised")
        for v in (lo, hi):
            try:
                p.parse(v, name_of)
            except InputError as exc:
                raise InputError(f"vary {name!r}: bound {v:g}: {exc}") from None
        start = float(m.values[name])
        if name in opts.params and not lo <= start <= hi:  # a given start outside its box: a typo, not a start
            raise InputError(f"vary {name!r}: the given {name} = {start:g} (the start) lies outside the bounds "
                             f"{lo:g}:{hi:g}; leave {name} out of the parameters or widen the bounds")
        out.append(Varied(name, lo, hi, float(min(max(start, lo), hi))))
    return out


class ParameterFamily:
    """The run's dense dynamics as a function of the varied parameters theta (see the module text).

    Use :meth:`build`; then :meth:`at` gives (Dynamics, Tangents) at any theta in the box.

    Attributes
    ----------
    varied : list of Varied
    info : dict
        The base build's record (basis, block, sector, initial state, units).
    touches_battery : list of bool
        Whether H_B depends on each parameter (then E and W are measured with H_B(theta)).
    builds : int
        Operator builds spent on the corners and the affinity checks.
    """

    def __init__(self, varied, corners, jumps, drive, fixed_state, fock, info, builds):
        self.varied, self.corners, self.jumps, self.drive = varied, corners, jumps, drive
        self.fixed_state, self.fock, self.info, self.builds = fixed_state, fock, info, builds
        self.sz = self.sz0 = None
        self.lo = np.array([v.lo for v in varied])
        self.hi = np.array([v.hi for v in varied])
        self.touches_battery = [_differs(corners, j, 2) for j in range(len(varied))]

    @property
    def names(self) -> list[str]:
        return [v.name for v in self.varied]

    @property
    def start(self) -> np.ndarray:
        return np.array([v.start for v in self.varied])

    @property
    def bounds(self) -> list[tuple[float, float]]:
        return [(v.lo, v.hi) for v in self.varied]

    @classmethod
    def build(cls, model, opts) -> ParameterFamily:
        """Check the names, build the corners, check affinity, basis, jumps and initial state.

        Raises
        ------
        InputError
            One line naming the parameter: unknown, not a float, bounds the model refuses, not affine,
            a basis, noise or initial state that changes inside the box.
        """
        from .problem import build_problem

        varied = check_vary(model, opts)
        P = len(varied)

        def at(values):
            o = copy.copy(opts)  # not dataclasses.replace: the options are already checked
            o.params = {**opts.params, **{v.name: float(x) for v, x in zip(varied, values, strict=True)}}
            o.vary = {}
            return build_problem(model, o)

        corners, base = [], None
        for bits in itertools.product((0, 1), repeat=P):
            problem, info = at([v.hi if b else v.lo for v, b in zip(varied, bits[::-1], strict=True)])
            base = base or (problem, info)
            _same_run(base, (problem, info), varied, bits[::-1])
            corners.append(_pieces(problem.ops))
        family = cls(varied, corners, [_dense(j.matrix) for j in base[0].ops.jumps], float(opts.drive), None,
                     None, base[1], 2**P)
        family._check_affine(at, base)
        ground = any(family.touches_battery) and base[0].init.label != "product" and base[0].init.label != "dicke"
        if ground and base[0].init.label != "ground":
            names = ", ".join(v.name for v, t in zip(varied, family.touches_battery, strict=True) if t)
            raise InputError(f"vary {names}: changes H_B, and the initial state {base[0].init.label!r} is not "
                             "differentiated here (a degenerate ground level or a thermal state); use "
                             "initial='product' or a model whose ground level is not degenerate")
        init = base[0].init
        family.fixed_state = None if ground else (np.asarray(init.vectors, complex), np.asarray(init.weights, float))
        if ground:
            family._follow_ground(base[0])
        return family

    def _follow_ground(self, problem) -> None:
        """Recompute the ground state with theta: on the cavity's Fock states, and, when every corner's
        H_B conserves total S^z, with a check that its S^z stays that of the run (a level crossing
        inside the box is refused in one line), checked at the corners now."""
        from ..physics.operators import conserves
        from ..physics.states import _fock_mask

        ops = problem.ops
        self.fock = np.flatnonzero(_fock_mask(ops))
        if conserves(ops.sz_total, *(c[2] for c in self.corners)):
            self.sz = np.asarray(ops.sz_total, dtype=float)
            members = np.abs(problem.init.vectors) ** 2 @ problem.init.weights
            self.sz0 = float(members @ self.sz)
        for c in range(len(self.corners)):
            self.at([v.hi if c >> j & 1 else v.lo for j, v in enumerate(self.varied)])

    def _check_affine(self, at, base) -> None:
        """Builds at each parameter's edge midpoint and at one interior point match the interpolation."""
        P = len(self.varied)
        points = [[0.5 if i == j else 0.0 for i in range(P)] for j in range(P)]
        if P > 1:
            points.append([(0.31, 0.62, 0.43, 0.77)[j] for j in range(P)])
        scale = max(max(_amax(x) for x in c) for c in self.corners) or 1.0
        for n, s in enumerate(points):
            theta = self.lo + np.asarray(s) * (self.hi - self.lo)
            problem, info = at(theta)
            _same_run(base, (problem, info), self.varied, None, theta)
            self.builds += 1
            w = _weights(np.asarray(s))[0]
            built = _pieces(problem.ops)
            dev = max(_amax(sum(wc * c[i] for wc, c in zip(w, self.corners, strict=True)) - built[i]) for i in range(3))
            if dev > AFFINE_TOL * scale:
                what = (f"{self.varied[n].name!r}: the operators are not affine in it" if n < P
                        else f"{', '.join(self.names)}: the operators are not affine in each separately")
                raise InputError(f"vary {what} over the bounds (the interpolation of the corner builds misses "
                                 f"by {dev:.3g} of {scale:.3g}); exact gradients need affine parameters")

    def at(self, theta) -> tuple[Dynamics, Tangents]:
        """(Dynamics, Tangents) at theta (model units, inside the bounds)."""
        theta = np.clip(np.asarray(theta, dtype=float), self.lo, self.hi)
        s = (theta - self.lo) / (self.hi - self.lo)
        w, dw = _weights(s)
        dw = dw / (self.hi - self.lo)[:, None]
        H0, V, HB = (_dense(sum(wc * c[i] for wc, c in zip(w, self.corners, strict=True))) for i in range(3))
        d = [[_dense(sum(x * c[i] for x, c in zip(dwj, self.corners, strict=True))) for dwj in dw] for i in range(3)]
        if self.fixed_state is not None:
            vectors, weights = self.fixed_state
            dvectors = [None] * len(theta)
        else:
            vectors, weights, dvectors = self._ground(HB, d[2], theta)
        dyn = Dynamics(H0=H0, V=V, H_B=HB, drive=self.drive, vectors=vectors, weights=weights, jumps=self.jumps)
        return dyn, Tangents(dH0=d[0], dV=d[1], dHB=d[2], dvectors=dvectors)

    def _ground(self, HB, dHB, theta):
        """Ground state of H_B(theta) on the run's basis (cavity in its Fock state) and its derivatives."""
        f = self.fock
        e, v = np.linalg.eigh(HB[np.ix_(f, f)])
        psi = np.zeros((HB.shape[0], 1), dtype=complex)
        psi[f, 0] = v[:, 0]
        if len(e) > 1 and e[1] - e[0] <= GAP_TOL * max(1.0, float(np.max(np.abs(e)))):
            where = ", ".join(f"{n} = {x:.6g}" for n, x in zip(self.names, theta, strict=True))
            raise InputError(f"vary: the ground level of H_B is degenerate at {where} (the ground state is not "
                             "differentiable there); narrow the bounds or use initial='product'")
        if self.sz is not None and abs(float(np.abs(psi[:, 0]) ** 2 @ self.sz) - self.sz0) > 1e-6:
            where = ", ".join(f"{n} = {x:.6g}" for n, x in zip(self.names, theta, strict=True))
            raise InputError(f"vary: the ground state of H_B changes total S^z from {self.sz0:g} to "
                             f"{float(np.abs(psi[:, 0]) ** 2 @ self.sz):g} at {where} (a level crossing inside the "
                             "bounds, not differentiable); narrow the bounds or use initial='product'")
        out = []
        for j, D in enumerate(dHB):
            if not self.touches_battery[j] or len(e) == 1:
                out.append(None)
                continue
            c = (v[:, 1:].conj().T @ (D[np.ix_(f, f)] @ v[:, 0])) / (e[1:] - e[0])
            dpsi = np.zeros_like(psi)
            dpsi[f, 0] = -(v[:, 1:] @ c)
            out.append(dpsi)
        return psi, np.ones(1), out


def _weights(s: np.ndarray):
    """Corner weights w_c(s) (corner c's bit j = 1: at hi_j) and dw_c/ds_j, shape (P, 2^P)."""
    P = len(s)
    w, dw = np.ones(2**P), np.ones((P, 2**P))
    for c in range(2**P):
        for j in range(P):
            on = (c >> j) & 1
            w[c] *= s[j] if on else 1.0 - s[j]
            for i in range(P):
                dw[i, c] *= (1.0 if on else -1.0) if i == j else (s[j] if on else 1.0 - s[j])
    return w, dw


def _pieces(ops) -> tuple:
    return tuple(sp.csr_matrix(x, dtype=complex) for x in (ops.H0, ops.V, ops.H_B))


def _dense(m) -> np.ndarray:
    return np.asarray(m.toarray() if hasattr(m, "toarray") else m, dtype=complex)


def _amax(m) -> float:
    m = sp.csr_matrix(m)
    return float(abs(m).max()) if m.nnz else 0.0


def _differs(corners, j: int, i: int) -> bool:
    """Whether piece i (0 H0, 1 V, 2 H_B) changes along parameter j (any pair of corners across it)."""
    return any(_amax(corners[c | (1 << j)][i] - corners[c][i]) > 0 for c in range(len(corners)) if not c >> j & 1)


def _same_run(base, other, varied, bits=None, theta=None) -> None:
    """The other build has the base's basis, jump operators and initial-state kind; else one line."""
    (p0, i0), (p1, i1) = base, other
    if bits is not None:
        theta = [v.hi if b else v.lo for v, b in zip(varied, bits, strict=True)]
    where = ", ".join(f"{v.name} = {x:.6g}" for v, x in zip(varied, theta, strict=True))
    names = ", ".join(v.name for v in varied)
    if (i0["dim"], i0["block"], i0["sector"]) != (i1["dim"], i1["block"], i1["sector"]):
        raise InputError(f"vary {names}: at {where} the run's basis changes (symmetry block or conserved sector of "
                         f"the initial state: {i1['block']}, {i1['sector']} against {i0['block']}, {i0['sector']}); "
                         "narrow the bounds")
    j0, j1 = p0.ops.jumps, p1.ops.jumps
    if len(j0) != len(j1) or any(_amax(sp.csr_matrix(a.matrix) - sp.csr_matrix(b.matrix)) > 0
                                 for a, b in zip(j0, j1, strict=True)):
        raise InputError(f"vary {names}: the jump operators change (at {where}); noise rates are not optimised")
    if p0.init.label != p1.init.label:
        raise InputError(f"vary {names}: the initial state changes kind at {where} ({p1.init.label!r} against "
                         f"{p0.init.label!r}: a degenerate ground level); narrow the bounds or use initial='product'")
