"""Derivatives of the generator pieces with respect to a parameter, from rebuilt operators.

The run's generator is x' = (G0 + lambda f(t) GV) x with, for a state vector (closed runs),
G0 = -i (H_B + H_aux), GV = -i V, and for a vectorised density matrix (row-major vec,
vec(A X B) = (A kron B^T) vec(X)) G0 = -i[H_0, .] + sum_k D[L_k], GV = -i[V, .]. The observable is
H_B. Every piece is rebuilt from the graph at theta + s h (:func:`operators_at`, the same
``build_operators`` path as the run) and differenced:

- Hamiltonian entries and Lindblad dissipators are linear in almost every parameter (omega, J,
  weights, rates: D[sqrt(g) L] = g D[L]); the three builds at theta - h, theta, theta + h
  (theta, theta + h, theta + 2h for rates, which may sit at 0) then give the derivative exactly
  (to round-off), and the second difference checks the linearity;
- otherwise (e.g. a model parameter entering through a function, a norm-matched charger) a
  fourth-order central difference (step 1e-3 x the parameter's scale; truncation ~ 1e-12 relative) is used and the
  parameter's record says so (``operator_derivative``).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from dataclasses import dataclass, replace

import numpy as np
import scipy.sparse as sp

from ..physics.graph import validate_graph
from ..physics.operators import Operators, build_operators

__all__ = ["Pieces", "pieces", "operators_at", "piece_derivative", "liouvillian", "commutator"]

STEP = 1e-2  # relative step of the linear difference (linear pieces: any step is exact)
LINEAR_TOL = 1e-10  # second difference below this x the piece's largest entry: linear


@dataclass
class Pieces:
    """G0, GV (n x n sparse generators) and H_B (dim x dim sparse observable)."""

    G0: sp.csr_matrix
    GV: sp.csr_matrix
    HB: sp.csr_matrix

    def combine(self, others, coeffs) -> Pieces:
        """sum_j coeffs[j] others[j] (the pieces of a difference stencil)."""
        out = [sum(c * getattr(o, name) for c, o in zip(coeffs, others) if c) for name in ("G0", "GV", "HB")]
        return Pieces(*(sp.csr_matrix(a) for a in out))

    def size(self) -> float:
        return max(_amax(self.G0), _amax(self.GV), _amax(self.HB), 1e-300)


def _amax(A) -> float:
    return float(abs(A).max()) if A.nnz else 0.0


def commutator(A) -> sp.csr_matrix:
    """-i[A, .] on row-major vectorised matrices."""
    eye = sp.identity(A.shape[0], dtype=np.complex128, format="csr")
    return (-1j * (sp.kron(A, eye) - sp.kron(eye, A.T))).tocsr()


def liouvillian(ops: Operators) -> sp.csr_matrix:
    """-i[H_0, .] + sum_k (L . L^dag - {L^dag L, .}/2), row-major vectorisation."""
    eye = sp.identity(ops.dim, dtype=np.complex128, format="csr")
    out = commutator(sp.csr_matrix(ops.H0, dtype=np.complex128))
    for j in ops.jumps:
        L = sp.csr_matrix(j.matrix, dtype=np.complex128)
        LdL = (L.conj().T @ L).tocsr()
        out = out + sp.kron(L, L.conj()) - 0.5 * sp.kron(LdL, eye) - 0.5 * sp.kron(eye, LdL.T)
    return out.tocsr()


def pieces(ops: Operators, density: bool) -> Pieces:
    """The generator pieces of a run on `ops` (state vector, or vectorised density matrix)."""
    HB = sp.csr_matrix(ops.H_B, dtype=np.complex128)
    if density:
        return Pieces(liouvillian(ops), commutator(sp.csr_matrix(ops.V, dtype=np.complex128)), HB)
    return Pieces(sp.csr_matrix(-1j * ops.H0, dtype=np.complex128), sp.csr_matrix(-1j * ops.V, dtype=np.complex128),
                  HB)


def operators_at(plan, charging: dict, param=None, value: float | None = None) -> Operators:
    """The run's operators on the full basis (no symmetry block, no sector), with `param` set to
    `value` (None: the run's own). The same graph -> operators path as :func:`collective_qc.charge`."""
    mg, rates = graph_at(plan, param, value)
    return build_operators(mg, charger=charging["charger"], norm=charging["norm"],
                           battery_off=charging["battery_off_while_charging"], **rates)


def graph_at(plan, param=None, value: float | None = None):
    """(validated model graph, noise rates) of the run with `param` set to `value` (no operators)."""
    mg, rates = plan.model_graph, dict(plan.noise)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the run already warned about its graph
        if param is not None and param.kind == "model":
            model = type(plan.model)(**{**plan.model.values, param.key: value})
            mg = validate_graph(model.graph())
        elif param is not None and param.kind in ("node", "edge"):
            g = mg.graph.copy()
            attrs = g.nodes[param.target] if param.kind == "node" else g.edges[param.target]
            attrs[param.key] = float(value)
            mg = validate_graph(g)
        elif param is not None and param.kind == "rate":
            rates[param.key] = float(value)
    return mg, rates


def _one_sided(param) -> bool:
    """Rates may sit at 0 (a negative rate cannot be built): forward stencils."""
    return param.kind == "rate" or param.key in ("gamma", "kappa")


def _refuse_noise(built: list, param) -> None:
    """A closed run's parameter must not switch noise on (a model parameter that is a rate)."""
    from ..core.errors import InputError

    if any(ops.jumps for ops in built):
        raise InputError(f"sensitivity {param.name!r} changes the noise (jump operators): use method='exact'")


def _refuse_changed_jumps(built: list, param) -> None:
    """A trajectory run's parameter must leave the jump operators as they are."""
    from ..core.errors import InputError

    ref = built[0].jumps
    same = all(len(ops.jumps) == len(ref) and all(abs(a.matrix - b.matrix).sum() == 0 for a, b in
                                                    zip(ops.jumps, ref, strict=True)) for ops in built)
    if not same:
        raise InputError(f"sensitivity {param.name!r} changes the jump operators: trajectories estimate "
                         "Hamiltonian parameters and uniform noise rates; use method='exact'")


_BATTERY_FIELDS = {"omega": 0.0, "D": 0.0, "E": 0.0, "B40": 0.0, "B44": 0.0, "pair_Jx": 0.0, "pair_Jy": 0.0,
                   "pair_Jz": 0.0}  # SpinSite fields that enter H_B only (physics.operators._battery_terms)


def _rest(mg) -> tuple:
    """What of a model graph is not an H_B coefficient (charger, weights, noise, modes, structure)."""
    spins = [replace(s, **_BATTERY_FIELDS) for s in mg.spins]
    bonds = [replace(b, Jx=0.0, Jy=0.0, Jz=0.0) for b in mg.bonds]
    return spins, mg.modes, bonds, mg.couplings, dict(mg.graph.graph) if mg.graph is not None else None


def _coefficients(mg) -> dict:
    """{(operator string, site indices): coefficient} of H_B."""
    from ..physics.operators import _battery_terms

    out = defaultdict(float)
    for opstr, rows in _battery_terms(mg)[0].data.items():
        for c, *idx in rows:
            out[opstr, tuple(idx)] += c
    return out


def battery_derivative(plan, param, h: float, density: bool, base: Operators) -> Pieces | None:
    """The pieces' derivative when theta moves H_B coefficients only (the graphs at theta and
    theta + h agree in everything else): d H_B from the changed QuSpin terms alone, one small build
    instead of two full ones. A node or edge attribute enters H_B linearly by construction
    (:func:`collective_qc.physics.operators._battery_terms`): the forward difference of the
    coefficients is exact. A model parameter may not: its coefficients at theta - h too, and None
    unless their second difference vanishes (then their central difference is exact). None also
    when anything else changes (the caller rebuilds the operators)."""
    from ..physics.operators import _matrix, _Terms

    local = param.kind in ("node", "edge")
    offsets = (0.0, h) if local else (-h, 0.0, h)
    graphs = [plan.model_graph if s == 0.0 else graph_at(plan, param, param.value + s)[0] for s in offsets]
    rest = _rest(plan.model_graph)
    if any(_rest(g) != rest for g in graphs if g is not plan.model_graph):
        return None
    coef = [_coefficients(g) for g in graphs]
    lo, mid, hi = (None, *coef) if local else coef
    terms, scale = _Terms(bool(plan.model_graph.modes)), max([abs(c) for c in mid.values()] + [1e-300])
    for key in set(mid) | set(hi) | set(lo or ()):
        b, c = mid.get(key, 0.0), hi.get(key, 0.0)
        a = 2 * b - c if lo is None else lo.get(key, 0.0)
        if abs(a - 2 * b + c) > LINEAR_TOL * scale:
            return None
        if c != a:
            terms.data[key[0]].append([(c - a) / (2 * h), *key[1]])
    dHB = sp.csr_matrix(_matrix(terms, base.basis, base.H_B.dtype), dtype=np.complex128)
    if density:
        n = base.dim * base.dim
        dG0 = sp.csr_matrix((n, n), dtype=np.complex128) if base.battery_off else commutator(dHB)
        return Pieces(dG0, sp.csr_matrix((n, n), dtype=np.complex128), dHB)
    zero = sp.csr_matrix(dHB.shape, dtype=np.complex128)
    return Pieces(zero if base.battery_off else (-1j * dHB).tocsr(), zero, dHB)


def piece_derivative(plan, charging: dict, param, density: bool, base: Operators | None = None,
                     jumps_fixed: bool = False) -> tuple[Pieces, str]:
    """(dG0/dtheta, dGV/dtheta, dH_B/dtheta) and how they were obtained ("exact (linear)" or the
    finite-difference stencil used). `base`: the operators at theta, when already built (QuSpin
    builds cost ~0.5 s each). ``jumps_fixed`` (state vectors of a trajectory run, whose pieces
    hold the Hamiltonian only): the jump operators may be present but must not change with theta."""
    theta = param.value
    h = STEP * max(abs(theta), 1.0)
    if base is not None and not _one_sided(param) and param.kind in ("model", "node", "edge"):
        fast = battery_derivative(plan, param, h, density, base)
        if fast is not None:
            return fast, "exact (linear in the parameter)"
    offsets = (0.0, h, 2 * h) if _one_sided(param) else (-h, 0.0, h)
    built = [base if s == 0.0 and base is not None else operators_at(plan, charging, param, theta + s)
             for s in offsets]
    if jumps_fixed:
        _refuse_changed_jumps(built, param)
    elif not density:
        _refuse_noise(built, param)
    at = [pieces(ops, density) for ops in built]
    second = at[0].combine(at, (1.0, -2.0, 1.0))
    if second.size() <= LINEAR_TOL * at[1].size() or second.size() <= 1e-300:
        coeffs = (-1 / h, 1 / h, 0.0) if _one_sided(param) else (-0.5 / h, 0.0, 0.5 / h)
        return at[0].combine(at, coeffs), "exact (linear in the parameter)"
    h = 1e-3 * (abs(theta) if 0 < abs(theta) < 1 else max(abs(theta), 1.0))
    if _one_sided(param):
        offsets, coeffs = (0.0, h, 2 * h), (-1.5 / h, 2.0 / h, -0.5 / h)
        note = f"one-sided second-order difference of the operator entries, step {h:.3g} (not linear)"
    else:
        offsets, coeffs = (-2 * h, -h, h, 2 * h), (1 / (12 * h), -8 / (12 * h), 8 / (12 * h), -1 / (12 * h))
        note = f"fourth-order central difference of the operator entries, step {h:.3g} (not linear)"
    at = [pieces(operators_at(plan, charging, param, theta + s), density) for s in offsets]
    return at[0].combine(at, coeffs), note
