"""Exact forward tangents of a permutation-invariant run (``method="permutation"``).

The permutation solver propagates the weighted blocks R_j = d_j rho_j of N identical spin-1/2 sites
(:mod:`collective_qc.solvers.permutation`) under a generator that is linear in R:

    R' = L_0 R + lambda f(t) L_V R,   L_0 = -i[H_0, .] - {G, .}/2 + sum_t S_t . S_t^T,   L_V = -i[V, .]

block by block (H_0, V, the decay diagonal G and the sandwich weights S_t of local and collective
noise: :mod:`collective_qc.solvers.permutation_blocks`). Here the same pieces are written as sparse
super-operators on the flat block state (row-major vec, vec(A R B) = (A kron B^T) vec(R): a block
of size s costs s^2 rows), so the block state is one vector of length sum_j ((2j + 1) n_b)^2 and the
forward-tangent engine of the exact method (:mod:`.engine`: x, x_lambda, x_theta, x_lambda,theta
propagated together, expm_multiply per constant piece or DOP853 rtol 1e-12) runs on it unchanged;
E = Tr[H_B R] = hb . vec(R) with hb = (+)_j vec(H_B,j^T) (:class:`BlockObserver`).

The derivative pieces dL_0/dtheta, dL_V/dtheta, dH_B/dtheta come from the collective form
(:func:`collective_qc.physics.permutation.collective_form`) rebuilt at theta - h, theta, theta + h
(theta, theta + h, theta + 2h for rates, which may sit at 0) and differenced: the form is linear in
omega, the couplings, D, E, the charger weight and the rates (a sandwich is u u^T with u ~ sqrt(rate)),
so the difference is exact to round-off, and the second difference checks it (otherwise a
fourth-order difference, said in ``operator_derivative``). Per-site and per-bond names
(``omega@3``, ``J@(0,1)``) break the permutation symmetry and are refused.
"""

from __future__ import annotations

import time as _time

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..core.validate import check_memory
from .engine import Augmented, Tangent
from .envelopes import field_derivative, kicks
from .forward import _nonzero
from .generators import LINEAR_TOL, STEP, Pieces, _one_sided, graph_at
from .initial import daleckii_krein
from .observe import DensityObserver

__all__ = ["check_permutation", "prepare_permutation", "block_superoperators", "BlockObserver",
           "permutation_memory", "thermal_tangent"]

ENGINE = "block state (Dicke ladder), sparse super-operators; expm_multiply / DOP853 rtol 1e-12"


class BlockObserver(DensityObserver):
    """E, P, C_Q and their derivatives as hb . vec(R) on the flat block state (``hb``, ``dhbs``:
    flat vectors, None for a parameter that leaves H_B alone)."""

    def __init__(self, hb, dhbs):
        self.hb = np.asarray(hb, dtype=np.complex128)
        self.dhbs = [None if d is None else np.asarray(d, dtype=np.complex128) for d in dhbs]


def _space(plan, params):
    """The Dicke-ladder blocks of the tangents: those of the run, or all of them when a local noise
    rate is a parameter (it couples j to j +- 1 even where the run's rate is 0)."""
    from ..physics.permutation import needed_blocks
    from ..solvers.permutation_form import DickeSpace

    mg = plan.model_graph
    s0 = mg.spins[0]
    n = s0.sites if s0.sites > 1 else len(mg.spins)
    nb = mg.modes[0].n_max + 1 if mg.modes else 1
    local_keys = ("dephasing", "relaxation", "pumping")
    local = (any(plan.noise[k] > 0 for k in local_keys) or bool(s0.gamma) or bool(s0.kappa)
             or any(p.kind == "rate" and p.key in local_keys for p in params))
    return DickeSpace(n, nb, needed_blocks(n, local, plan.initial))


def _form_at(plan, charging, param, value=None):
    """The collective form of the run with `param` at `value` (None: the run's own)."""
    from ..physics.permutation import Rates, collective_form

    mg, rates = graph_at(plan, param, value)
    return collective_form(mg, Rates(**rates), None if charging is None else charging["charger"])


def block_superoperators(form, space, battery_off: bool = False) -> Pieces:
    """Pieces(G0 = L_0, GV = L_V, HB = hb as a 1 x length row) of a collective form on `space`:
    per block -i (H_0 kron 1 - 1 kron H_0^T) - (G kron 1 + 1 kron G)/2, each sandwich
    out_b[x, c] += w(x) w(c) R_src[x + delta, c + delta] as (S kron S) from the source block
    (S[x, x + delta] = w(x)), and -i (V kron 1 - 1 kron V^T)."""
    from ..solvers.permutation_blocks import block_operators, sandwich_terms

    ops = block_operators(form, space, battery_off)
    _, terms = sandwich_terms(form, space)
    nblk = len(space.js)
    rows = [[None] * nblk for _ in range(nblk)]
    vrows = [[None] * nblk for _ in range(nblk)]
    hb = []
    for b in range(nblk):
        s = int(space.size[b])
        eye = sp.identity(s, dtype=np.complex128, format="csr")
        H, V, G = ops["H_0"][b], ops["V"][b], sp.diags(ops["G"][b].astype(np.complex128))
        rows[b][b] = -1j * (sp.kron(H, eye) - sp.kron(eye, H.T)) - 0.5 * (sp.kron(G, eye) + sp.kron(eye, G))
        vrows[b][b] = -1j * (sp.kron(V, eye) - sp.kron(eye, V.T))
        hb.append(np.asarray(ops["H_B"][b].T.toarray(), dtype=np.complex128).ravel())
    for b, bs, d, shift, us, ub in terms:
        w = (us[: int(space.nspin[b])][:, None] * np.asarray(ub)[None, :]).reshape(-1)
        x = np.arange(len(w))
        y = x + d * space.nb + shift
        ok = (y >= 0) & (y < int(space.size[bs])) & (w != 0.0)
        S = sp.csr_matrix((w[ok], (x[ok], y[ok])), shape=(int(space.size[b]), int(space.size[bs])))
        term = sp.kron(S, S, format="csr")
        rows[b][bs] = term if rows[b][bs] is None else rows[b][bs] + term
    sizes = [int(s) ** 2 for s in space.size]
    for b in range(nblk):  # every block row and column sized
        for r in (rows, vrows):
            if r[b][b] is None:
                r[b][b] = sp.csr_matrix((sizes[b], sizes[b]), dtype=np.complex128)
    return Pieces(sp.bmat(rows, format="csr", dtype=np.complex128), sp.bmat(vrows, format="csr", dtype=np.complex128),
                  sp.csr_matrix(np.concatenate(hb)[None, :]))


def permutation_memory(space, n_params: int) -> float:
    """Bytes of the augmented propagation: 2 + 2K copies of the block state (x 12 work copies of
    expm_multiply / DOP853) and the sparse augmented generator (~ 4 x 24 bytes per stored number
    and block row: bands of H and V and the sandwiches, about 10 entries per row)."""
    n = float(space.length)
    return (2 + 2 * n_params) * (16.0 * n * 12 + 4 * 24.0 * 10 * n)


def check_permutation(params, plan) -> None:
    """One-line InputError for a parameter that breaks the permutation symmetry (a node or edge
    attribute), and the memory of the augmented block-state propagation."""
    bad = next((p for p in params if p.kind in ("node", "edge")), None)
    if bad is not None:
        model = [p.name for p in getattr(plan.model, "params", ()) if p.type is float]
        raise InputError(f"sensitivity {bad.name!r} is a per-{'site' if bad.kind == 'node' else 'bond'} attribute: "
                         "it breaks the permutation symmetry of method 'permutation'; ask for a model parameter "
                         f"({', '.join(model) or 'none'}) or use method='exact'")
    space = _space(plan, params)
    check_memory(permutation_memory(space, len(params)), f"permutation sensitivities of {len(params)} parameters "
                 f"(augmented block state of {2 + 2 * len(params)} copies)")


def _derivative(plan, charging, param, space, battery_off: bool, base: Pieces):
    """(d Pieces / d theta, note) from the collective forms at three (or four) parameter values."""
    theta = param.value
    one_sided = _one_sided(param) or param.unit == "rate"
    h = STEP * max(abs(theta), 1.0)

    def at(offsets):
        out = []
        for s in offsets:
            if s == 0.0:
                out.append(base)
                continue
            form = _form_at(plan, charging, param, theta + s)
            if form.n_boson != space.nb:
                raise InputError(f"sensitivity {param.name!r} changes the boson cutoff of method permutation "
                                 f"({space.nb} -> {form.n_boson} levels): set n_max explicitly")
            out.append(block_superoperators(form, space, battery_off))
        return out

    offsets = (0.0, h, 2 * h) if one_sided else (-h, 0.0, h)
    built = at(offsets)
    second = built[0].combine(built, (1.0, -2.0, 1.0))
    if second.size() <= LINEAR_TOL * built[1].size() or second.size() <= 1e-300:
        coeffs = (-1 / h, 1 / h, 0.0) if one_sided else (-0.5 / h, 0.0, 0.5 / h)
        return built[0].combine(built, coeffs), "exact (linear in the parameter)"
    h = 1e-3 * (abs(theta) if 0 < abs(theta) < 1 else max(abs(theta), 1.0))
    if one_sided:
        offsets, coeffs = (0.0, h, 2 * h), (-1.5 / h, 2.0 / h, -0.5 / h)
        note = f"one-sided second-order difference of the operator entries, step {h:.3g} (not linear)"
    else:
        offsets, coeffs = (-2 * h, -h, h, 2 * h), (1 / (12 * h), -8 / (12 * h), 8 / (12 * h), -1 / (12 * h))
        note = f"fourth-order central difference of the operator entries, step {h:.3g} (not linear)"
    built = at(offsets)
    return built[0].combine(built, coeffs), note


def _initial(plan, charging, param, space, R0):
    """dR(0)/dtheta, or None where the initial state does not move (product, Dicke, a parameter that
    leaves H_B alone); one-line InputError for a ground state that moves (not implemented here)."""
    from ..solvers.permutation_blocks import block_operators, initial_blocks

    if plan.initial.split(":")[0] in ("product", "dicke") or not param.changes_operators:
        return None
    h = STEP * max(abs(param.value), 1.0)
    form = _form_at(plan, charging, param, param.value + h)
    moved, _ = initial_blocks(form, space, block_operators(form, space)["H_B"], plan.initial)
    if np.max(np.abs(moved - R0)) <= 1e-14 * max(np.max(np.abs(R0)), 1e-300):
        return None
    if not plan.initial.startswith("thermal"):
        raise InputError(f"sensitivity {param.name!r} moves the initial state {plan.initial!r} of method permutation "
                         "(its derivative is not implemented there); use initial='product', 'dicke:J,M' or "
                         "'thermal:T', or method='exact'")
    return "thermal"


def thermal_tangent(space, HB_blocks, dHB_flat, R0, T: float, ph: int = 0) -> np.ndarray:
    """dR(0)/dtheta of the thermal block state R_j = d_j exp(-H_j/T) / Z (spin part, cavity in its
    Fock state ``ph``) for dH_B given as the flat hb derivative: per block, in the eigenbasis of H_j,
    the Daleckii-Krein matrix F_ab = (p_a - p_b) / (E_a - E_b) (-p_a / T at E_a = E_b; p = the block's
    weights d_j e^{-E/T} / Z) times V^dag dH_j V, plus R_j Tr[dH_B R] / T (the normalisation)."""
    nb = space.nb
    out = np.zeros_like(R0)
    trace = 0.0
    parts = []
    for b in range(len(space.js)):
        s = int(space.size[b])
        dH = dHB_flat[space.offset[b]:space.offset[b] + s * s].reshape(s, s).T[ph::nb, ph::nb]
        E, V = np.linalg.eigh(HB_blocks[b].toarray()[::nb, ::nb])
        R = space.block(R0, b)[ph::nb, ph::nb]
        p = np.real(np.einsum("ia,ij,ja->a", V.conj(), R, V))  # the weights (R diagonal in V)
        parts.append((b, V @ (daleckii_krein(E, p, T) * (V.conj().T @ dH @ V)) @ V.conj().T, R))
        trace += float(np.real(np.sum(dH * R.T)))
    for b, dR, R in parts:
        space.block(out, b)[ph::nb, ph::nb] = dR + R * (trace / T)
    return out


def prepare_permutation(plan, charging: dict, params):
    """The run's ``Prepared`` (:mod:`.run`) on the flat block state: super-operators and their
    derivatives, the initial block state (refusing a parameter that moves a ground or thermal
    state), the augmented system; run.py's ``compute_sensitivities`` then propagates it."""
    from ..solvers.permutation_blocks import block_operators, initial_blocks
    from .forward import Prepared

    t_start = _time.perf_counter()
    battery_off = bool(charging["battery_off_while_charging"])
    space = _space(plan, params)
    form = _form_at(plan, charging, None)
    base = block_superoperators(form, space, battery_off)
    HB_blocks = block_operators(form, space)["H_B"]
    R0, _ = initial_blocks(form, space, HB_blocks, plan.initial)
    tangents, notes, dhbs = [], [], []
    for p in params:
        tg, note, dhb = Tangent(p.name), None, None
        if p.changes_operators:
            moves = _initial(plan, charging, p, space, R0)
            d, note = _derivative(plan, charging, p, space, battery_off, base)
            tg.dG0, tg.dGV = _nonzero(d.G0), _nonzero(d.GV)
            dhb = _nonzero(d.HB)
            dhb = None if dhb is None else dhb.toarray().ravel()
            if moves and dhb is not None:
                T = float(plan.initial.split(":")[1])
                ph = 0 if form.mode is None else int(form.mode.photons)
                tg.x0 = thermal_tangent(space, HB_blocks, dhb, R0, T, ph)
        elif p.kind == "drive":
            tg.is_drive, note = True, "exact (analytic)"
        else:  # an envelope field
            tg.df = None if plan.protocol.piecewise_constant else field_derivative(plan.protocol, p.key)
            tg.kicks, note = kicks(plan.protocol, p.key), "exact (analytic)"
        tangents.append(tg)
        notes.append(note)
        dhbs.append(dhb)
    aug = Augmented(base.G0, base.GV, plan.drive, plan.protocol, tangents)
    Y0 = np.zeros((2 + 2 * len(tangents), space.length, 1), dtype=np.complex128)
    Y0[0, :, 0] = R0
    for k, tg in enumerate(tangents):
        if tg.x0 is not None:
            Y0[2 + 2 * k, :, 0] = tg.x0
    observer = BlockObserver(base.HB.toarray().ravel(), dhbs)
    return Prepared(plan, params, notes, True, aug, observer, Y0, _time.perf_counter() - t_start, engine=ENGINE)

