"""What the trajectory sensitivities need, built before the run: the non-Hermitian generator and its
parameter derivatives, the observables' operators and their derivatives, the initial members and
their tangents.

A trajectory's unnormalised state obeys psi' = M(t) psi with M = -i H(t) - Gamma / 2, H(t) = H_0 +
lambda f(t) V, Gamma = sum_c L_c^dag L_c. For a Hamiltonian parameter the tangent's source is
-i dH/dtheta(t) psi (:mod:`.generators`, the jump operators checked not to change). For a rate
theta whose jump operators scale as sqrt(theta) (uniform rates, node ``gamma`` / ``kappa``) the
source is -(dGamma/dtheta) psi / 2 and each jump of a scaled channel c adds
d L_c / d theta = L_c / (2 theta) to the tangent, which puts the record's score N_c / theta into
2 Re <psi|phi> / ||psi||^2.

Observables (Hermitian operators; E = <H_B>, P = <A(t)>, dP/dt = <B(t)>):
A(t) = L^dag_t(H_B) = i[H(t), H_B] + D^dag(H_B), B(t) = L^dag_t(A(t)) + lambda f'(t) i[V, H_B],
dA/dtheta = i[dH, H_B] + i[H, dH_B] + D^dag(dH_B) + dD^dag/dtheta (H_B).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from .engine import Augmented, Tangent
from .envelopes import field_derivative, kicks
from .generators import operators_at, piece_derivative, pieces

__all__ = ["TrajectoryPrepared", "prepare_trajectory", "check_trajectory", "adjoint_generator"]

RATE_STEP = 1e-3  # relative step at which a rate's jump operators are rebuilt (checked to scale as sqrt)
SCALE_TOL = 1e-10  # |L(theta') - sqrt(theta'/theta) L(theta)| below this x max|L|: the channel scales
NOISE_KEYS = ("gamma", "kappa")


def _csr(A) -> sp.csr_matrix:
    return sp.csr_matrix(A, dtype=np.complex128)


def adjoint_generator(H, jumps: list, X) -> sp.csr_matrix:
    """L^dag(X) = i[H, X] + sum_c (L_c^dag X L_c - {L_c^dag L_c, X} / 2) (sparse)."""
    out = 1j * (H @ X - X @ H)
    for L in jumps:
        Ld = L.conj().T.tocsr()
        out = out + Ld @ (X @ L) - 0.5 * ((Ld @ L) @ X + X @ (Ld @ L))
    return _csr(out)


def _is_noise(p) -> bool:
    return p.kind == "rate" or (p.kind == "node" and p.key in NOISE_KEYS)


@dataclass
class ParamOps:
    """One parameter's pieces: dH_0, dV, dH_B (Hermitian, None: independent), the jump channels
    that scale as sqrt(theta) (rates) and d(D^dag)/dtheta (H_B) of those channels."""

    dH0: sp.csr_matrix | None = None
    dV: sp.csr_matrix | None = None
    dHB: sp.csr_matrix | None = None
    channels: tuple = ()
    dK: sp.csr_matrix | None = None
    a: object = None  # t -> d(lambda f)/dtheta (drive, smooth envelope fields)
    dA0: sp.csr_matrix | None = None  # dA/dtheta = dA0 + a(t) A_V + lambda f(t) dAV
    dAV: sp.csr_matrix | None = None
    tangent: Tangent = field(default_factory=lambda: Tangent(""))


@dataclass
class TrajectoryPrepared:
    """The trajectory sensitivities' operators, built before the run (refusals come first)."""

    plan: object
    params: list
    notes: list
    aug: Augmented
    H0: sp.csr_matrix
    V: sp.csr_matrix
    HB: sp.csr_matrix
    jumps: list
    pops: list
    A0: sp.csr_matrix
    AV: sp.csr_matrix
    psi0: np.ndarray
    weights: np.ndarray
    dpsi0: list
    e0: float
    de0: np.ndarray
    seconds: float


def check_trajectory(params, plan) -> None:
    """InputError in one line for what the trajectory estimator does not cover (before the run)."""
    if plan.initial.startswith("thermal"):
        raise InputError("trajectory sensitivities start from a pure or equal-weight member (ground, product, "
                         "dicke); a thermal state's weights depend on the parameters: use method='exact'")
    for p in params:
        if _is_noise(p) and not p.value > 0:
            raise InputError(f"sensitivity {p.name!r}: a rate at {p.value:g} has no trajectory estimator (the "
                             "jump record's score N/theta is singular at 0); use method='exact'")


def _rate_ops(plan, charging, p, base, jumps) -> tuple[ParamOps, str]:
    """A rate's pieces: the channels rebuilt at theta (1 + RATE_STEP) must scale as sqrt and the
    Hamiltonian must not change."""
    theta = p.value
    up = operators_at(plan, charging, p, theta * (1 + RATE_STEP))
    same_h = all(abs(_csr(getattr(up, k)) - _csr(getattr(base, k))).sum() == 0 for k in ("H0", "V", "H_B"))
    if not same_h or len(up.jumps) != len(jumps):
        raise InputError(f"sensitivity {p.name!r} changes the Hamiltonian or the number of jump channels: "
                         "use method='exact'")
    scaled, root = [], np.sqrt(1 + RATE_STEP)
    for c, (L, j) in enumerate(zip(jumps, up.jumps, strict=True)):
        M = _csr(j.matrix)
        if abs(M - L).sum() == 0:
            continue
        if abs(M - root * L).max() > SCALE_TOL * max(abs(L).max(), 1e-300):
            raise InputError(f"sensitivity {p.name!r}: jump channel {c} does not scale as sqrt(theta); "
                             "use method='exact'")
        scaled.append(c)
    gamma = sum((jumps[c].conj().T @ jumps[c] for c in scaled), _csr((base.dim, base.dim))) / theta
    dK = sum((adjoint_generator(_csr((base.dim, base.dim)), [jumps[c]], _csr(base.H_B)) for c in scaled),
             _csr((base.dim, base.dim))) / theta
    po = ParamOps(channels=tuple(scaled), dK=_csr(dK))
    po.tangent = Tangent(p.name, dG0=_csr(-0.5 * gamma))
    return po, "exact (jump operators scale as sqrt(theta))"


def _param_ops(plan, charging, p, base, jumps) -> tuple[ParamOps, str | None]:
    """One parameter's ParamOps and how its operator derivative was obtained."""
    lam = float(plan.drive)
    if _is_noise(p):
        return _rate_ops(plan, charging, p, base, jumps)
    if p.changes_operators:
        d, note = piece_derivative(plan, charging, p, False, base, jumps_fixed=True)
        po = ParamOps(*(None if A.nnz == 0 else _csr(1j * A) for A in (d.G0, d.GV)), dHB=None if d.HB.nnz == 0
                      else _csr(d.HB))
        po.tangent = Tangent(p.name, dG0=None if po.dH0 is None else _csr(d.G0),
                             dGV=None if po.dV is None else _csr(d.GV), dHB=po.dHB)
        return po, note
    if p.kind == "drive":
        po = ParamOps(a=plan.protocol.value)
        po.tangent = Tangent(p.name, is_drive=True)
        return po, "exact (analytic)"
    smooth = not plan.protocol.piecewise_constant
    df = field_derivative(plan.protocol, p.key) if smooth else None
    po = ParamOps(a=(lambda t: lam * df(t)) if smooth else None)
    po.tangent = Tangent(p.name, df=df, kicks=kicks(plan.protocol, p.key))
    return po, "exact (analytic)"


def _observable_derivative(po: ParamOps, H0, V, HB, jumps) -> None:
    """Fill po.dA0, po.dAV: dA/dtheta = dA0 + a(t) A_V + lambda f(t) dAV (a(t) = d(lambda f)/dtheta)."""
    dA0, dAV = _csr(HB.shape), _csr(HB.shape)
    if po.dH0 is not None:
        dA0 = dA0 + 1j * (po.dH0 @ HB - HB @ po.dH0)
    if po.dHB is not None:
        dA0 = dA0 + adjoint_generator(H0, jumps, po.dHB)
        dAV = dAV + 1j * (V @ po.dHB - po.dHB @ V)
    if po.dK is not None:
        dA0 = dA0 + po.dK
    if po.dV is not None:
        dAV = dAV + 1j * (po.dV @ HB - HB @ po.dV)
    po.dA0, po.dAV = _csr(dA0), _csr(dAV)


def prepare_trajectory(plan, charging: dict, params) -> TrajectoryPrepared:
    """Operators (full basis) with their jumps, the parameters' pieces, the augmented non-Hermitian
    generator (:class:`.engine.Augmented` on columns = trajectories), the observables, the initial
    members and their tangents."""
    import time

    from ..physics.states import initial_state
    from .initial import state_tangents

    t_start = time.perf_counter()
    check_trajectory(params, plan)
    ops = operators_at(plan, charging)
    base = pieces(ops, False)
    jumps = [_csr(j.matrix) for j in ops.jumps]
    gamma = sum((L.conj().T @ L for L in jumps), _csr((ops.dim, ops.dim)))
    H0, V, HB = _csr(ops.H0), _csr(ops.V), _csr(ops.H_B)
    built = [_param_ops(plan, charging, p, ops, jumps) for p in params]
    pops, notes = [b[0] for b in built], [b[1] for b in built]
    for po in pops:
        _observable_derivative(po, H0, V, HB, jumps)
    aug = Augmented(_csr(base.G0 - 0.5 * gamma), base.GV, plan.drive, plan.protocol, [po.tangent for po in pops])
    init = initial_state(ops, plan.initial)
    dHBs = [po.dHB for po in pops]
    x0s = state_tangents(ops, init, dHBs, [p.name for p in params], False)
    psi0 = init.vectors.astype(np.complex128)
    w = np.asarray(init.weights, float) / np.sum(init.weights)
    hpsi = HB @ psi0
    e0 = float(np.real(np.einsum("im,im->m", psi0.conj(), hpsi)) @ w)
    de0 = np.zeros(len(params))
    for k, (d, dHB) in enumerate(zip(x0s, dHBs, strict=True)):
        if d is not None:
            de0[k] += 2 * float(np.real(np.einsum("im,im->m", hpsi.conj(), d)) @ w)
        if dHB is not None:
            de0[k] += float(np.real(np.einsum("im,im->m", psi0.conj(), dHB @ psi0)) @ w)
    A0 = adjoint_generator(H0, jumps, HB)
    AV = _csr(1j * (V @ HB - HB @ V))
    return TrajectoryPrepared(plan, list(params), notes, aug, H0, V, HB, jumps, pops, A0, AV, psi0, w, x0s, e0, de0,
                              time.perf_counter() - t_start)
