"""Forward-mode pieces shared by every sensitivity engine: the parameters' tangents, the augmented
initial state, the sampled run with an exact evaluator at any time, and the derived figures at their
refined times (:mod:`.run` takes the rules' statement; :mod:`.adjoint` and :mod:`.permutation`
reuse these pieces).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import brentq

from ..analysis.merit import first_maximum_bracket
from ..core.validate import available_memory
from .engine import Augmented, Tangent
from .envelopes import field_derivative, kicks, time_derivative
from .generators import piece_derivative
from .initial import state_tangents

__all__ = ["Prepared", "density_run", "CHECKPOINT_FRACTION"]

CHECKPOINT_FRACTION = 0.1  # stored sample states may take this share of the available memory


def density_run(plan) -> bool:
    """Density-matrix tangents: exact runs, and closed runs from a (mixed) thermal state."""
    return plan.method == "exact" or plan.initial.startswith("thermal")


def _tangents(plan, charging, params, density, base_ops):
    """The engine's Tangent per parameter and how its operator derivative was obtained."""
    out, notes = [], []
    for p in params:
        tg, note = Tangent(p.name), None
        if p.changes_operators:
            d, note = piece_derivative(plan, charging, p, density, base_ops)
            tg.dG0, tg.dGV, tg.dHB = _nonzero(d.G0), _nonzero(d.GV), _nonzero(d.HB)
        elif p.kind == "drive":
            tg.is_drive = True
        elif p.kind == "protocol":
            tg.df = None if plan.protocol.piecewise_constant else field_derivative(plan.protocol, p.key)
            tg.kicks = kicks(plan.protocol, p.key)
        out.append(tg)
        notes.append(note or ("exact (analytic)" if p.kind in ("drive", "protocol") else None))
    return out, notes


def _nonzero(A):
    A = sp.csr_matrix(A)
    A.eliminate_zeros()
    return A if A.nnz else None


def _start(ops, init, tangents, density):
    """Y(0): the state, zero lambda tangents, the state tangents (:mod:`.initial`)."""
    x0s = state_tangents(ops, init, [t.dHB for t in tangents], [t.name for t in tangents], density)
    V, w = init.vectors.astype(np.complex128), init.weights
    x = ((V * w) @ V.conj().T).reshape(-1, 1) if density else V
    Y = np.zeros((2 + 2 * len(tangents), *x.shape), dtype=np.complex128)
    Y[0] = x
    for k, d in enumerate(x0s):
        if d is not None:
            Y[2 + 2 * k] = d.reshape(-1, 1) if density else d
    return Y


class _Run:
    """Sampled tangents and an exact evaluator at any time (from the stored sample states)."""

    def __init__(self, aug, observer, times, Y0):
        self.aug, self.obs, self.times = aug, observer, np.asarray(times, float)
        budget = CHECKPOINT_FRACTION * available_memory()
        self.every = max(1, int(np.ceil(len(self.times) * Y0.nbytes / max(budget, 1.0))))
        self.saved = {-1: Y0}
        raw0 = self.obs.values(Y0, aug.rhs(Y0, 0.0))
        self.e0, self.de0 = raw0[0], raw0[3]

    def sample(self):
        n, K = len(self.times), len(self.aug.tangents)
        E, P, C = np.empty(n), np.empty(n), np.empty(n)
        dE, dP, dC = np.empty((K, n)), np.empty((K, n)), np.empty((K, n))
        Y, t_prev = self.saved[-1], 0.0
        for i, t in enumerate(self.times):
            Y = self.aug.advance(Y, t_prev, float(t), repeated=True)
            t_prev = float(t)
            E[i], P[i], C[i], dE[:, i], dP[:, i], dC[:, i] = self.obs.values(Y, self.aug.rhs(Y, t_prev))
            if i % self.every == 0:
                self.saved[i] = Y
        return E - self.e0, P, C, dE - self.de0[:, None], dP, dC

    def state(self, t: float):
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        while i >= 0 and i not in self.saved:
            i -= 1
        t0 = 0.0 if i < 0 else float(self.times[i])
        return self.aug.advance(self.saved[i], t0, t)

    def at(self, t: float):
        """(E, P, C, dE, dP, dC, dP/dt, dC/dt) at t, exact."""
        Y = self.state(t)
        dY = self.aug.rhs(Y, t)
        aug = self.aug
        f, fdot = aug.protocol.value(t), time_derivative(aug.protocol, t)
        xdd = aug.G0 @ dY[0] + aug.drive * f * (aug.GV @ dY[0]) + aug.drive * fdot * (aug.GV @ Y[0])
        E, P, C, dE, dP, dC = self.obs.values(Y, dY)
        return (E - self.e0, P, C, dE - self.de0, dP, dC, *self.obs.rates(Y, dY, xdd))


def _tau(run: _Run, P, base_tau):
    """Refined tau_c (first + -> - zero of this propagation's P) and the derivatives there."""
    bracket = first_maximum_bracket(run.times, P)
    if base_tau is None or bracket is None:
        return None
    k0, k1 = bracket
    if k1 == k0 + 1:
        tau = brentq(lambda s: run.at(s)[1], run.times[k0], run.times[k1], xtol=1e-14, rtol=1e-15, maxiter=200)
    else:
        tau = float(base_tau)
    _, _, _, dE, dP, dC, pdot, cdot = run.at(tau)
    dtau = -dP / pdot
    return {"t": tau, "tau_c": dtau, "energy_max": dE, "capacitance_at_tau_c": dC + cdot * dtau}


def _power_max(run: _Run, P):
    """dP_max/dtheta at the refined maximum of P: a zero of dP/dt next to the largest sample, or
    the one-sided limit of P at a switching time of the envelope there (P jumps with f: a maximum
    at the switch-off of on-off charging is P(tau^-), whose derivative is dP/dtheta(tau^-))."""
    k = int(np.argmax(P))
    best_t, best = float(run.times[k]), float(P[k])
    pdot = lambda s: run.at(s)[6]  # noqa: E731
    for a in (k - 1, k):
        if 0 <= a < len(run.times) - 1:
            lo, hi = float(run.times[a]), float(run.times[a + 1])
            if pdot(lo) * pdot(hi) < 0:
                s = brentq(pdot, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=200)
                value = run.at(s)[1]
                if value > best:
                    best_t, best = s, value
    lo, hi = float(run.times[max(k - 1, 0)]), float(run.times[min(k + 1, len(run.times) - 1)])
    for b in run.aug.protocol.breakpoints(np.nextafter(lo, -np.inf), np.nextafter(hi, np.inf)):  # ends included
        for s in (np.nextafter(b, -np.inf), np.nextafter(b, np.inf)):  # the two one-sided limits
            value = run.at(float(s))[1]
            if value > best:
                best_t, best = float(s), value
    return best_t, run.at(best_t)[4]


def switch_shift(run: _Run, t: float, params) -> np.ndarray:
    """The part of dP_max/dtheta from a maximum that sits at a switching time s(theta) of the
    envelope (one-sided limit t -> s): P_max = P(s(theta)^-; theta) moves with s, adding
    dP/dt(t) ds/dtheta (zero for every other parameter and maximum)."""
    out, pdot = np.zeros(len(params)), None
    for k, p in enumerate(params):
        if p.kind != "protocol":
            continue
        for s, ds, _, _ in kicks(run.aug.protocol, p.key):
            if abs(t - s) <= 4 * np.spacing(max(abs(s), 1.0)):
                pdot = run.at(t)[6] if pdot is None else pdot  # one propagation, not one per parameter
                out[k] += pdot * ds
    return out


@dataclass
class Prepared:
    """What the tangents need, built before the run (so that a refusal comes first): the plan, the
    parameters, the engine, the observer and the augmented initial state."""

    plan: object
    params: list
    notes: list
    density: bool
    aug: Augmented
    observer: object
    Y0: np.ndarray
    seconds: float
    engine: str | None = None  # what propagates the tangents, when not the full basis (the info's "engine")
