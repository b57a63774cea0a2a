"""Envelope derivatives: d f(t) / d theta for a protocol field, and d f / d t.

Smooth envelopes are differentiated analytically (ramp:T, sin2:T, gauss:T0,SIGMA). The switching
times of piecewise-constant envelopes (on-off:TAU, charge-store-discharge) move with their fields:
there d f / d theta is a sum of delta functions, and the tangent jumps at each switching time s
(psi(T) = U_2 U_1 psi_0: d psi / d s = U_2 (G_1 - G_2) psi(s)), a ``kick``
(time s, ds/dtheta, f before, f after). Tables and user callables have no fields; their time
derivative (for d tau_c / d theta) is the table's slope, or a fourth-order central difference of
the callable (step 1e-4 x max(1, |t|)).
"""

from __future__ import annotations

import math

from ..physics.protocols import ChargeStoreDischarge, Gaussian, OnOff, Ramp, Sin2Pulse, Table

__all__ = ["field_derivative", "kicks", "time_derivative"]


def field_derivative(protocol, key: str):
    """d f(t) / d protocol.key as a function of t (zero between the switching times of a
    piecewise-constant envelope, whose fields act through :func:`kicks`)."""
    if isinstance(protocol, Ramp):
        T = protocol.T
        return lambda t: -max(t, 0.0) / T**2 if t < T else 0.0
    if isinstance(protocol, Sin2Pulse):
        T = protocol.T
        return lambda t: -math.pi * t / T**2 * math.sin(2 * math.pi * t / T) if 0.0 <= t <= T else 0.0
    if isinstance(protocol, Gaussian):
        t0, s = protocol.t0, protocol.sigma
        if key == "t0":
            return lambda t: protocol.value(t) * (t - t0) / s**2
        return lambda t: protocol.value(t) * (t - t0) ** 2 / s**3
    return lambda t: 0.0


def kicks(protocol, key: str) -> list[tuple[float, float, float, float]]:
    """(s, ds/dtheta, f(s-), f(s+)) for each switching time s that moves with protocol.key."""
    if isinstance(protocol, OnOff):
        return [(protocol.tau, 1.0, 1.0, 0.0)]
    if isinstance(protocol, ChargeStoreDischarge):
        a, b, c = protocol.phases
        moves = {"tau": (1.0, 1.0, 1.0 + (protocol.tau_d is None)), "store": (0.0, 1.0, 1.0),
                 "tau_d": (0.0, 0.0, 1.0)}[key]
        values = ((a, 1.0, 0.0), (b, 0.0, protocol.sign), (c, protocol.sign, 0.0))
        return [(s, m, fb, fa) for (s, fb, fa), m in zip(values, moves, strict=True) if m]
    return []


def time_derivative(protocol, t: float) -> float:
    """d f / d t at t (0 inside the pieces of a piecewise-constant envelope)."""
    if protocol.piecewise_constant:
        return 0.0
    if isinstance(protocol, Ramp):
        return 1.0 / protocol.T if 0.0 <= t < protocol.T else 0.0
    if isinstance(protocol, Sin2Pulse):
        T = protocol.T
        return math.pi / T * math.sin(2 * math.pi * t / T) if 0.0 <= t <= T else 0.0
    if isinstance(protocol, Gaussian):
        return -protocol.value(t) * (t - protocol.t0) / protocol.sigma**2
    if isinstance(protocol, Table):
        import numpy as np

        i = int(np.clip(np.searchsorted(protocol.t, t, side="right") - 1, 0, len(protocol.t) - 2))
        inside = protocol.t[0] <= t < protocol.t[-1]
        return float((protocol.f[i + 1] - protocol.f[i]) / (protocol.t[i + 1] - protocol.t[i])) if inside else 0.0
    h = 1e-4 * max(1.0, abs(t))
    v = protocol.value
    return (8 * (v(t + h) - v(t - h)) - (v(t + 2 * h) - v(t - 2 * h))) / (12 * h)
