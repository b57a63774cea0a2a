"""Drive envelopes f(t): H(lambda, t) = H_B + H_aux + lambda f(t) V.

A protocol is piecewise constant when it lists its ``breakpoints``; solvers then
propagate each constant piece exactly (Krylov / Taylor exponentials). Smooth
protocols (``breakpoints`` is None) use an adaptive ODE integrator in the exact
solvers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import InputError

__all__ = ["Protocol", "Constant", "OnOff", "parse_protocol"]


class Protocol:
    """Base class: ``value(t)`` and, for piecewise-constant envelopes, ``breakpoints``."""

    piecewise_constant = True

    def value(self, t: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def breakpoints(self, t0: float, t1: float) -> list[float]:
        """Switching times strictly inside (t0, t1), sorted."""
        return []

    def describe(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True)
class Constant(Protocol):
    """f(t) = 1 for t >= 0 (the paper's constant drive)."""

    def value(self, t: float) -> float:
        return 1.0

    def describe(self) -> dict:
        return {"name": "constant"}


@dataclass(frozen=True)
class OnOff(Protocol):
    """Charging on for 0 <= t < tau, then off (storage / self-discharge phase).

    f(t) = 1 for t < tau, 0 for t >= tau.
    """

    tau: float

    def __post_init__(self):
        if not (isinstance(self.tau, (int, float)) and math.isfinite(self.tau) and self.tau > 0):
            raise InputError(f"protocol on-off: switch-off time tau must be > 0, got {self.tau!r}")

    def value(self, t: float) -> float:
        return 1.0 if t < self.tau else 0.0

    def breakpoints(self, t0: float, t1: float) -> list[float]:
        return [self.tau] if t0 < self.tau < t1 else []

    def describe(self) -> dict:
        return {"name": "on-off", "tau": self.tau}


def parse_protocol(spec) -> Protocol:
    """``None``/"constant" -> Constant(); "on-off:TAU" -> OnOff(TAU); a Protocol passes through."""
    if spec is None or isinstance(spec, Protocol):
        return spec or Constant()
    if not isinstance(spec, str):
        raise InputError(f"protocol must be a string like 'constant' or 'on-off:5', got {spec!r}")
    name, _, arg = spec.partition(":")
    if name == "constant" and not arg:
        return Constant()
    if name in ("on-off", "onoff"):
        try:
            tau = float(arg)
        except ValueError:
            raise InputError(f"protocol {spec!r}: give the switch-off time as on-off:TAU") from None
        return OnOff(tau)
    raise InputError(f"unknown protocol {spec!r} (use 'constant' or 'on-off:TAU')")
