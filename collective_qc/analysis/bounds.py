"""Known bounds on charging, used as diagnostics of closed runs and of ``compare``.

Speed limit (Robertson uncertainty relation; Julia-Farre et al., PRR 2, 023113 (2020)).
For a closed run, P(t) = dE/dt = <i[H(t), H_B]> with H(t) = H_0 + lambda f(t) V, and
for any state (pure or mixed) |<i[A, B]>| <= 2 Delta A Delta B, so

    |P(t)| <= 2 Delta H_B Delta H(t)                (ratio ``qsl_ratio`` <= 1)
    |P(t)| <= 2 |lambda f(t)| Delta H_B Delta V     (ratio ``qsl_ratio_charger`` <= 1)

(the second because [H_0, H_B] = 0), Delta the standard deviation in the current state.
A sample where the bound is zero (e.g. t = 0 in an eigenstate of H_B, where P = 0 too)
has no ratio: it is reported as NaN, not as a number.

Power bound of a run. Since Delta X <= (x_max - x_min) / 2 for any state,
P_max <= |lambda| max|f| spread(V) spread(H_B) / 2, with the spreads taken over the
spectra in the basis of the run. Divided by N P_max(1) this bounds Gamma_P; for N
non-interacting spin-1/2 sites with a charger norm-matched to the parallel field and
the battery Hamiltonian off while charging (Binder/Campaioli convention) it equals N:
the advantage is at most extensive (Gyhm, Safranek and Rosa, PRL 128, 140501 (2022)).
A Gamma above the bound is a failed run, not a result.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SpeedLimit", "spectral_spread", "power_bound", "protocol_peak", "speed_limit_summary",
           "RATIO_TOLERANCE"]

RATIO_TOLERANCE = 1e-9  # a ratio above 1 + this is a violated bound (a numerical failure)
_ZERO = 1e-12  # relative size below which a bound counts as zero


def _variance(A, psi, weights):
    """<A^2> - <A>^2 in the mixture sum_m w_m |psi_m><psi_m| (A Hermitian)."""
    a = A @ psi
    mean = float(weights @ np.real(np.einsum("im,im->m", psi.conj(), a)))
    d = a - mean * psi  # centred: no cancellation when the state is close to an eigenstate
    return float(weights @ np.real(np.einsum("im,im->m", d.conj(), d)))


class SpeedLimit:
    """Extras hook for the closed solver: speed-limit series at each sample time.

    The closed solver calls the hook once per sample, in order (``times``); the hook
    counts its calls to know t and f(t). Series (``names``): |P|, 2 Delta H_B Delta H,
    their ratio, and the charger form |<i[V, H_B]>| / (2 Delta V Delta H_B).
    """

    names = ["qsl_power", "qsl_bound", "qsl_ratio", "qsl_ratio_charger"]

    def __init__(self, ops, drive: float, protocol, times):
        self.ops, self.drive, self.protocol = ops, float(drive), protocol
        self.times = np.asarray(times, float)
        self.H0 = ops.H0
        self.k = 0

    def __call__(self, state):
        """The series at the next sample from the members and weights of the state
        (:class:`collective_qc.solvers.contract.SampledState` of the closed solver)."""
        ops, psi, weights = self.ops, state.psi, state.weights
        if self.k >= len(self.times):
            raise RuntimeError("SpeedLimit: the solver called the observable hook more often than once per sample time")
        f = self.protocol.value(float(self.times[self.k]))
        self.k += 1
        hb, vp = ops.H_B @ psi, ops.V @ psi
        comm = 2.0 * float(weights @ np.imag(np.einsum("im,im->m", hb.conj(), vp)))  # <i[V, H_B]>
        p = abs(self.drive * f * comm)
        H = (self.H0 + (self.drive * f) * ops.V) if f != 0.0 else self.H0
        d_hb = np.sqrt(_variance(ops.H_B, psi, weights))
        bound = 2.0 * d_hb * np.sqrt(_variance(H, psi, weights))
        bound_v = 2.0 * d_hb * np.sqrt(_variance(ops.V, psi, weights))
        scale = _ZERO * max(1.0, abs(self.drive)) * max(1.0, d_hb)
        ratio = p / bound if bound > scale else np.nan
        ratio_v = abs(comm) / bound_v if bound_v > scale else np.nan
        return np.array([p, bound, ratio, ratio_v])


def speed_limit_summary(observables: dict) -> dict:
    """Largest ratios over the run and whether the bound held (ratio <= 1 + RATIO_TOLERANCE)."""
    out = {}
    for key in ("qsl_ratio", "qsl_ratio_charger"):
        r = np.asarray(observables[key], float)
        finite = r[np.isfinite(r)]
        out[key + "_max"] = float(finite.max()) if finite.size else None
    p, b = np.asarray(observables["qsl_power"]), np.asarray(observables["qsl_bound"])
    out["holds"] = bool(np.all(p <= b * (1.0 + RATIO_TOLERANCE) + _ZERO * max(1.0, float(b.max(initial=0.0)))))
    out["samples_without_ratio"] = int(np.sum(~np.isfinite(np.asarray(observables["qsl_ratio"], float))))
    return out


def spectral_spread(A) -> float:
    """Largest minus smallest eigenvalue of a Hermitian sparse matrix (dense up to dimension 512, else Lanczos)."""
    if A.shape[0] <= 512:
        w = np.linalg.eigvalsh(A.toarray())
        return float(w[-1] - w[0])
    from scipy.sparse.linalg import eigsh

    hi = eigsh(A, k=1, which="LA", tol=1e-10, return_eigenvectors=False)[0]
    lo = eigsh(A, k=1, which="SA", tol=1e-10, return_eigenvectors=False)[0]
    return float(hi - lo) * (1.0 + 1e-8)  # Lanczos tolerance: stay an upper bound


def protocol_peak(protocol, times) -> float:
    """max |f(t)| over the run (dense sampling plus the sample times; exact for step envelopes)."""
    t = np.asarray(times, float)
    grid = np.union1d(t, np.linspace(t[0], t[-1], 4001))
    return float(max(abs(protocol.value(float(s))) for s in grid))


def power_bound(ops, drive: float, protocol, times) -> dict:
    """Upper bound of P_max of a closed run: |lambda| max|f| spread(V) spread(H_B) / 2."""
    sv, sb = spectral_spread(ops.V), spectral_spread(ops.H_B)
    fmax = protocol_peak(protocol, times)
    return {"spread_V": sv, "spread_H_B": sb, "f_max": fmax, "power_bound": abs(drive) * fmax * sv * sb / 2.0}
