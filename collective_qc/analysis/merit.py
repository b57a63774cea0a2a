"""Figures of merit from E(t), P(t), C_Q(t).

- tau_c: time of the first maximum of E(t), i.e. the first + -> - sign change of
  P = dE/dt, refined between samples: by root finding on an exact evaluator when
  the solver provides one (solver precision), else as the root of the cubic through the
  sampled P around the sign change (E_max then from the cubic Hermite interpolant of the
  (E, P) pairs). Undefined (None) if E has no maximum in the window.
- E_max = E(tau_c), C_Q* = C_Q(tau_c), P_max = max_t P(t) refined between samples like tau_c
  (bounded maximisation of P on the two intervals around the largest sample with the exact
  evaluator when there is one, else the maximum of the cubic through the neighbouring samples),
  average power max_t E(t)/t (the quantum-battery literature's convention).
- Not a result: when max_t |E(t)| stays below ``ROUNDOFF x energy_scale`` (round-off of
  <H_B> - E0 in double precision, e.g. a dark state that the charger does not couple to),
  tau_c, E_max and C_Q* are undefined (None) and ``Merit.undefined`` gives the reason.
  Whether a figure that was computed is a result (round-off C_Q*, trajectory noise) is decided
  by :mod:`collective_qc.analysis.verdict`; :func:`capacitance_roundoff_reason` is its C_Q* test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.optimize import brentq, minimize_scalar

__all__ = ["Merit", "first_maximum_bracket", "figures_of_merit", "roundoff_reason", "capacitance_roundoff_reason",
           "refined_power_max", "ROUNDOFF"]

ROUNDOFF = 1e3 * np.finfo(float).eps  # E(t) below this x energy scale is round-off, not stored energy


@dataclass
class Merit:
    """Figures of merit of one run (totals, not per site)."""

    tau_c: float | None
    energy_max: float | None
    capacitance_at_tau_c: float | None
    power_max: float
    average_power_max: float
    time_of_average_power_max: float | None
    undefined: str | None = None  # why tau_c, E_max, C_Q* are None although E(t) was sampled

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def first_maximum_bracket(times, power, energy=None):
    """Index k such that P changes sign + -> - in [t_k, t_{k+1}] (first time), or None.

    Samples with |P| below a small tolerance count as zero; the bracket starts at the
    last sample with P > 0 before the first sample with P < 0.
    """
    p = np.asarray(power, dtype=float)
    scale = max(np.max(np.abs(p)), 1e-300)
    tol = 1e-12 * scale
    seen_pos = None
    for k in range(len(p)):
        if p[k] > tol:
            seen_pos = k
        elif p[k] < -tol and seen_pos is not None:
            return seen_pos, k
    return None


def _hermite(t0, t1, e0, e1, p0, p1):
    """Cubic Hermite interpolant of E on [t0, t1] and its derivative."""
    h = t1 - t0

    def e(t):
        s = (t - t0) / h
        h00 = 2 * s**3 - 3 * s**2 + 1
        h10 = s**3 - 2 * s**2 + s
        h01 = -2 * s**3 + 3 * s**2
        h11 = s**3 - s**2
        return h00 * e0 + h10 * h * p0 + h01 * e1 + h11 * h * p1

    def de(t):
        s = (t - t0) / h
        return ((6 * s**2 - 6 * s) * e0 + (3 * s**2 - 4 * s + 1) * h * p0
                + (-6 * s**2 + 6 * s) * e1 + (3 * s**2 - 2 * s) * h * p1) / h

    return e, de


def figures_of_merit(
    times,
    energy,
    power,
    capacitance,
    evaluate: Callable[[int, float], tuple[float, float, float]] | None = None,
    energy_scale: float | None = None,
    switches: Callable[[float, float], list] | None = None,
) -> Merit:
    """Compute the figures of merit.

    Parameters
    ----------
    times, energy, power, capacitance : arrays (n_times,)
        Samples of E(t), P(t), C_Q(t) (totals).
    evaluate : callable (k, t) -> (E, P, C), optional
        Exact evaluation at time t in [times[k], times[k+1]] (e.g. by propagating the
        stored state from times[k]); used to refine tau_c to solver precision.
    energy_scale : float, optional
        An energy scale of the run (e.g. a bound of ||H_B||); E(t) below ``ROUNDOFF`` times it is
        round-off (see :func:`roundoff_reason`).
    switches : callable (t0, t1) -> list of float, optional
        The envelope's switching times inside (t0, t1) (``Protocol.breakpoints``): P_max is refined
        on each smooth piece, one-sided limits included (:func:`refined_power_max`).
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(energy, dtype=float)
    p = np.asarray(power, dtype=float)
    c = np.asarray(capacitance, dtype=float)
    power_max = refined_power_max(t, p, evaluate, switches)
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = np.where(t > 0, e / np.where(t > 0, t, 1.0), -np.inf)
    k_avg = int(np.argmax(avg))
    avg_max = float(avg[k_avg]) if np.isfinite(avg[k_avg]) else 0.0
    t_avg = float(t[k_avg]) if np.isfinite(avg[k_avg]) else None

    reason = roundoff_reason(e, energy_scale)
    if reason is not None:
        return Merit(None, None, None, power_max, avg_max, t_avg, undefined=reason)
    bracket = first_maximum_bracket(t, p)
    if bracket is None:
        return Merit(None, None, None, power_max, avg_max, t_avg)
    k0, k1 = bracket
    if evaluate is not None and k1 == k0 + 1:
        tau = brentq(lambda s: evaluate(k0, s)[1], t[k0], t[k1], xtol=1e-13, maxiter=200)
        e_tau, _, c_tau = evaluate(k0, tau)
    else:
        tau = _power_root(t, p, k0, k1)
        a = min(max(int(np.searchsorted(t, tau)) - 1, k0), k1 - 1)  # the sample interval holding tau
        b = a + 1
        ef, _ = _hermite(t[a], t[b], e[a], e[b], p[a], p[b])
        e_tau = float(ef(tau))
        s = (tau - t[a]) / (t[b] - t[a])
        c_tau = float((1 - s) * c[a] + s * c[b])
    return Merit(float(tau), float(e_tau), float(c_tau), power_max, avg_max, t_avg)


def _power_root(t, p, k0, k1) -> float:
    """The zero of P between samples k0 (P > 0) and k1 (P < 0): root of the cubic through P at
    k0 - 1, k0, k1, k1 + 1 (those that exist; error O(dt^4) for smooth P). P alone, not the
    Hermite cubic of E: with trajectory noise the E samples (errors ~ 10x P dt) would pin the root
    to a sample time."""
    idx = [i for i in (k0 - 1, k0, k1, k1 + 1) if 0 <= i < len(t)]
    x = t[idx] - t[k0]
    coef = np.polyfit(x, p[idx], len(idx) - 1)
    return t[k0] + brentq(lambda s: np.polyval(coef, s), 0.0, t[k1] - t[k0], xtol=1e-14)


def refined_power_max(times, power, evaluate=None, switches=None) -> float:
    """max_t P(t) refined between samples (power units).

    Around the largest sample k, P is maximised on [t_{k-1}, t_k] and [t_k, t_{k+1}]: with the
    solver's exact evaluator ``evaluate(k, t) -> (E, P, C)`` by bounded maximisation (solver
    precision) on each smooth piece, else as the maximum of the cubic through the samples
    k-1 .. k+2 (or k-2 .. k+1 at the end of the window; error O(dt^4) for smooth P). Never below
    the largest sample. ``switches(t0, t1)``: the envelope's switching times strictly inside
    (t0, t1); P jumps with f there, so each piece between them is maximised on its own and its
    one-sided end values count (the maximum of on-off charging is P(tau^-), which a search over
    the whole interval can miss).
    """
    t, p = np.asarray(times, dtype=float), np.asarray(power, dtype=float)
    k = int(np.argmax(p))
    best = float(p[k])
    if len(t) < 2 or not np.isfinite(best):
        return best
    if evaluate is None:
        return max(best, _cubic_max(t, p, k))
    for a in (k - 1, k):
        if 0 <= a < len(t) - 1:
            cuts = [float(b) for b in (switches(t[a], t[a + 1]) if switches is not None else [])]
            for lo, hi in zip([t[a], *cuts], [*cuts, t[a + 1]], strict=True):
                best = max(best, _piece_max(lambda s, a=a: evaluate(a, s)[1], lo, hi, bool(cuts)))
    return best


def _piece_max(P, lo: float, hi: float, ends: bool) -> float:
    """max of P on the smooth piece (lo, hi): bounded maximisation, and with ``ends`` the one-sided
    values at lo^+ and hi^- (switching times)."""
    width = hi - lo
    best = -np.inf
    if width > 0:
        r = minimize_scalar(lambda s: -P(s), bounds=(lo, hi), method="bounded",
                            options={"xatol": 1e-7 * max(width, 1e-300)})
        if r.success and np.isfinite(r.fun):
            best = float(-r.fun)
    if ends:
        for s in (np.nextafter(lo, hi), np.nextafter(hi, lo)):
            v = P(float(s))
            if np.isfinite(v):
                best = max(best, float(v))
    return best


def _cubic_max(t, p, k) -> float:
    """Largest value of the cubic through the four samples around k on [t_{k-1}, t_{k+1}]."""
    if len(t) < 4:
        return -np.inf
    lo = min(max(k - 1, 0), len(t) - 4)
    idx = np.arange(lo, lo + 4)
    x0 = t[k]
    coef = np.polyfit(t[idx] - x0, p[idx], 3)
    a, b = t[max(k - 1, 0)] - x0, t[min(k + 1, len(t) - 1)] - x0
    roots = np.roots(np.polyder(coef))
    xs = [float(r.real) for r in roots if abs(r.imag) <= 1e-12 * max(1.0, abs(r.real)) and a <= r.real <= b]
    return max((float(np.polyval(coef, x)) for x in xs), default=-np.inf)


def capacitance_roundoff_reason(c_star, capacitance) -> str | None:
    """A reason string when C_Q* = C_Q(tau_c) is round-off, else None (C_Q* and C_Q(t) dimensionless).

    The capacitance scale of the run is max_t |C_Q(t)| over the window; a C_Q* at most ``ROUNDOFF``
    times it cannot be told from zero (e.g. battery Hamiltonian off while charging: E depends on
    lambda t only, so C_Q = t P / lambda vanishes at tau_c exactly and what is computed is the
    round-off of P(tau_c) = 0).
    """
    if c_star is None:
        return None
    scale = float(np.max(np.abs(capacitance))) if len(capacitance) else 0.0
    threshold = ROUNDOFF * scale
    if abs(c_star) > threshold:
        return None
    return (f"C_Q(tau_c) is round-off (|C_Q*| = {abs(c_star):.1e} <= {threshold:.1e} = {ROUNDOFF:.1e} x the run's "
            f"capacitance scale max |C_Q(t)| = {scale:.3g})")


def roundoff_reason(energy, energy_scale: float | None) -> str | None:
    """A reason string when the stored energy E(t) is round-off relative to `energy_scale`, else None."""
    if energy_scale is None or not np.isfinite(energy_scale) or energy_scale <= 0:
        return None
    e_max = float(np.max(np.abs(energy)))
    threshold = ROUNDOFF * energy_scale
    if e_max > threshold:
        return None
    return (f"E(t) is round-off: max |E(t)| = {e_max:.2e} <= {threshold:.2e} ({ROUNDOFF:.1e} x energy scale "
            f"{energy_scale:.3g}); the charger does not charge this state (e.g. a dark state), so tau_c, "
            "E_max, P_max, max E(t)/t, C_Q(tau_c) and every Gamma of the run are not results")
