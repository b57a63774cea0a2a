"""Drive envelopes f(t): H(lambda, t) = H_B + H_aux + lambda f(t) V (Haddadi 2026, Sec. II; f = 1 there).

The interface the solvers use: ``value(t)``, ``piecewise_constant`` and
``breakpoints(t0, t1)``, the times strictly inside (t0, t1) where f (piecewise
constant envelopes) or a derivative of f (smooth envelopes) jumps; integrators
never step across them.

- piecewise constant (``piecewise_constant = True``): constant, on-off:TAU,
  charge-store-discharge:TAU,STORE[,TAU_D], steps:FILE (slice values, e.g. from ``cqc optimize``);
  solvers propagate each constant piece exactly (Krylov / Taylor exponentials).
- smooth (``piecewise_constant = False``): ramp:T, sin2:T, gauss:T0,SIGMA, a table of
  (t, f) values (linear interpolation) and a user callable; solvers integrate them to
  the requested tolerance.

``parse_protocol`` reads the strings above; ``describe()`` gives a JSON-ready record.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..core.errors import InputError, shown

__all__ = ["Protocol", "Constant", "OnOff", "Ramp", "Sin2Pulse", "Gaussian", "UserEnvelope", "Table",
           "ChargeStoreDischarge", "Steps", "parse_protocol", "PROTOCOLS"]


class Protocol:
    """Base class: ``value(t)`` and the ``breakpoints`` where f or a derivative jumps."""

    piecewise_constant = True

    def value(self, t: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def breakpoints(self, t0: float, t1: float) -> list[float]:
        """Switching times strictly inside (t0, t1), sorted."""
        return []

    def amplitude(self) -> float:
        """max |f(t)| over all t (dimensionless): 1 for the built-in envelopes, the largest |f| of a
        table; a user callable is assumed to stay within [-1, 1]. The run guard bounds the charger's
        term of the generator by |lambda| x amplitude x ||V||."""
        return 1.0

    def describe(self) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError


def _time(name: str, value, *, positive=True) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"protocol {name} must be a number, got {shown(value)}") from None
    if not math.isfinite(v) or (positive and v <= 0) or (not positive and v < 0):
        raise InputError(f"protocol {name} must be {'> 0' if positive else '>= 0'}, got {shown(value)}")
    return v


def _inside(points, t0, t1) -> list[float]:
    return sorted(p for p in points if t0 < p < t1)


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
            raise InputError(f"protocol on-off: switch-off time tau must be > 0, got {shown(self.tau)}")

    def value(self, t: float) -> float:
        return 1.0 if t < self.tau else 0.0

    def breakpoints(self, t0: float, t1: float) -> list[float]:
        return [self.tau] if t0 < self.tau < t1 else []

    def describe(self) -> dict:
        return {"name": "on-off", "tau": self.tau}


@dataclass(frozen=True)
class ChargeStoreDischarge(Protocol):
    """Charge for tau, store for ``store``, then discharge through the charger for tau_d.

    f(t) = 1 on [0, tau), 0 on [tau, tau + store), ``sign`` on [tau + store, tau + store + tau_d),
    0 afterwards. The discharge channel is the charger itself, driven again (sign = -1
    reverses the charging drive: with the battery Hamiltonian off while charging it returns a
    closed battery exactly to its initial state); energy leaves the battery into the drive.
    A loss channel (relaxation, cavity loss) is not switched by the protocol: give its rate as
    the run's noise, and it acts in every phase. Piecewise constant: exact in every solver.
    """

    tau: float
    store: float
    tau_d: float | None = None
    sign: float = -1.0

    def __post_init__(self):
        _time("charge-store-discharge: charging time tau", self.tau)
        _time("charge-store-discharge: storage time", self.store, positive=False)
        if self.tau_d is not None:
            _time("charge-store-discharge: discharge time tau_d", self.tau_d)
        if self.sign not in (1.0, -1.0):
            raise InputError(f"protocol charge-store-discharge: sign must be +1 or -1, got {shown(self.sign)}")

    @property
    def phases(self) -> tuple[float, float, float]:
        """(end of charging, start of discharge, end of discharge)."""
        td = self.tau if self.tau_d is None else self.tau_d
        return self.tau, self.tau + self.store, self.tau + self.store + td

    def value(self, t: float) -> float:
        a, b, c = self.phases
        return 1.0 if t < a else (0.0 if t < b else (self.sign if t < c else 0.0))

    def breakpoints(self, t0: float, t1: float) -> list[float]:
        return _inside(set(self.phases), t0, t1)

    def describe(self) -> dict:
        a, b, c = self.phases
        return {"name": "charge-store-discharge", "tau": self.tau, "store": self.store, "tau_d": c - b,
                "sign": self.sign, "discharge_channel": "charger"}


class _Smooth(Protocol):
    piecewise_constant = False


@dataclass(frozen=True)
class Ramp(_Smooth):
    """Linear ramp: f(t) = t / T for 0 <= t < T, then 1 (kink at T)."""

    T: float

    def __post_init__(self):
        _time("ramp: ramp time T", self.T)

    def value(self, t: float) -> float:
        return 1.0 if t >= self.T else max(t, 0.0) / self.T  # no t / T overflow for tiny T

    def breakpoints(self, t0, t1):
        return _inside([self.T], t0, t1)

    def describe(self):
        return {"name": "ramp", "T": self.T}


@dataclass(frozen=True)
class Sin2Pulse(_Smooth):
    """sin^2 pulse: f(t) = sin^2(pi t / T) for 0 <= t <= T, 0 afterwards (f and f' continuous)."""

    T: float

    def __post_init__(self):
        _time("sin2: pulse length T", self.T)

    def value(self, t: float) -> float:
        return math.sin(math.pi * t / self.T) ** 2 if 0.0 <= t <= self.T else 0.0

    def breakpoints(self, t0, t1):
        return _inside([self.T], t0, t1)

    def describe(self):
        return {"name": "sin2", "T": self.T}


@dataclass(frozen=True)
class Gaussian(_Smooth):
    """Gaussian pulse: f(t) = exp(-(t - t0)^2 / (2 sigma^2)) (peak 1 at t0)."""

    t0: float
    sigma: float

    def __post_init__(self):
        _time("gauss: centre t0", self.t0, positive=False)
        _time("gauss: width sigma", self.sigma)

    def value(self, t: float) -> float:
        z = abs(t - self.t0) / self.sigma  # inf for a far t and a tiny sigma: f = 0, no overflow
        return math.exp(-0.5 * z * z) if z < 40.0 else 0.0  # exp(-800) underflows to 0 anyway

    def describe(self):
        return {"name": "gauss", "t0": self.t0, "sigma": self.sigma}


class UserEnvelope(_Smooth):
    """A user callable f(t) -> float (smooth between the optional ``kinks``)."""

    def __init__(self, func: Callable[[float], float], label: str = "user", kinks=()):
        if not callable(func):
            raise InputError(f"protocol {label!r}: expected a callable f(t), got {type(func).__name__}")
        v = func(0.0)
        if not isinstance(v, (int, float, np.floating, np.integer)) or not math.isfinite(float(v)):
            raise InputError(f"protocol {label!r}: f(0) must be a finite real number, got {shown(v)}")
        self.func, self.label, self.kinks = func, label, tuple(float(k) for k in kinks)

    def value(self, t: float) -> float:
        return float(self.func(t))

    def breakpoints(self, t0, t1):
        return _inside(self.kinks, t0, t1)

    def describe(self):
        return {"name": "user", "label": self.label, "kinks": list(self.kinks)}


class _Nodes:
    """Shared by protocols given as rows (t_k, f_k) in ``self.t``, ``self.f``: the nodes are the
    breakpoints, the amplitude is the largest |f_k|, ``describe`` lists the rows under ``kind``."""

    kind = "nodes"

    def breakpoints(self, t0, t1):
        return _inside(self.t.tolist(), t0, t1)

    def amplitude(self) -> float:
        return float(np.max(np.abs(self.f)))

    def describe(self):
        return {"name": self.kind, "points": np.column_stack([self.t, self.f]).tolist()}


class Table(_Nodes, _Smooth):
    """f from a table of (t, f) values, linearly interpolated (kinks at the nodes); held
    at the first and last value outside the table."""

    kind = "table"

    def __init__(self, points):
        try:
            arr = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            raise InputError("protocol table: expected (t, f) pairs of numbers") from None
        with np.errstate(over="ignore", invalid="ignore"):  # an overflowing span is refused below
            bad = arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 2 or not np.all(np.isfinite(arr)) \
                or np.any(np.diff(arr[:, 0]) <= 0)
        if bad:
            raise InputError("protocol table: need >= 2 finite (t, f) pairs with strictly increasing t")
        _check_table(arr)
        self.t, self.f = arr[:, 0].copy(), arr[:, 1].copy()

    def value(self, t: float) -> float:
        return float(np.interp(t, self.t, self.f))


class Steps(_Nodes, Protocol):
    """Piecewise constant f from rows (t_k, f_k), t strictly increasing: f = f_k on [t_k, t_{k+1}),
    the last row's f from its time on, 0 before the first time (``cqc optimize`` writes its slices
    this way, ending with a row (tau, 0)). Exact in every solver (no interpolation)."""

    kind = "steps"

    def __init__(self, points):
        try:
            arr = np.asarray(points, dtype=float)
        except (TypeError, ValueError):
            raise InputError("protocol steps: expected (t, f) rows of numbers") from None
        if arr.ndim != 2 or arr.shape[1] != 2 or len(arr) < 2 or not np.all(np.isfinite(arr)) \
                or np.any(np.diff(arr[:, 0]) <= 0) or arr[0, 0] < 0:
            raise InputError("protocol steps: need >= 2 finite (t, f) rows with t >= 0 strictly increasing")
        self.t, self.f = arr[:, 0].copy(), arr[:, 1].copy()

    def value(self, t: float) -> float:
        k = int(np.searchsorted(self.t, t, side="right")) - 1
        return 0.0 if k < 0 else float(self.f[k])


def _steps(arg: str) -> Steps:
    """'steps:FILE': rows t,f (comma or whitespace separated, '#' comments)."""
    import os

    if not os.path.exists(arg):
        raise InputError(f"protocol steps: file {arg!r} does not exist")
    try:
        data = np.loadtxt(arg, delimiter="," if arg.endswith(".csv") else None, comments="#", ndmin=2)
    except ValueError as exc:
        raise InputError(f"protocol steps: file {arg!r} could not be read ({exc})") from None
    return Steps(data)


def _check_table(arr: np.ndarray) -> None:
    """Refuse a table whose time spans or slopes overflow a double (np.interp would return 0 or nan
    there, silently): InputError naming the first such interval."""
    with np.errstate(over="ignore", invalid="ignore"):
        dt, df = np.diff(arr[:, 0]), np.diff(arr[:, 1])
        slope = df / dt
    bad = np.flatnonzero(~(np.isfinite(dt) & np.isfinite(df) & np.isfinite(slope)))
    if bad.size:
        i = bad[0]
        raise InputError(f"protocol table: the interval t = {arr[i, 0]:g} .. {arr[i + 1, 0]:g} (f = {arr[i, 1]:g} "
                         f".. {arr[i + 1, 1]:g}) overflows a double (its span or slope is not finite); "
                         "use smaller times and values")


def _table(arg: str) -> Table:
    """'table:FILE' (two columns t, f; comma or whitespace separated) or 'table:t0/f0;t1/f1;...'."""
    if "/" in arg and ";" in arg:
        try:
            pairs = [[float(x) for x in pair.split("/")] for pair in arg.split(";") if pair]
        except ValueError:
            raise InputError(f"protocol table:{arg}: write pairs as t/f separated by ';'") from None
        return Table(pairs)
    import os

    if not os.path.exists(arg):
        raise InputError(f"protocol table: file {arg!r} does not exist (or write table:t0/f0;t1/f1;...)")
    try:
        data = np.loadtxt(arg, delimiter="," if arg.endswith(".csv") else None, comments="#")
    except ValueError as exc:
        raise InputError(f"protocol table: file {arg!r} could not be read ({exc})") from None
    return Table(data)


PROTOCOLS = {  # name -> (number of numeric arguments (min, max), factory, usage)
    "constant": ((0, 0), lambda: Constant(), "constant"),
    "on-off": ((1, 1), OnOff, "on-off:TAU"),
    "onoff": ((1, 1), OnOff, "on-off:TAU"),
    "ramp": ((1, 1), Ramp, "ramp:T"),
    "sin2": ((1, 1), Sin2Pulse, "sin2:T"),
    "gauss": ((2, 2), Gaussian, "gauss:T0,SIGMA"),
    "charge-store-discharge": ((2, 3), ChargeStoreDischarge, "charge-store-discharge:TAU,STORE[,TAU_D]"),
}


def parse_protocol(spec) -> Protocol:
    """A Protocol from ``None``/"constant", "on-off:TAU", "ramp:T", "sin2:T", "gauss:T0,SIGMA",
    "charge-store-discharge:TAU,STORE[,TAU_D]", "table:FILE" or "table:t0/f0;t1/f1;...", "steps:FILE",
    a callable f(t), or a Protocol (passed through)."""
    if spec is None or isinstance(spec, Protocol):
        return spec or Constant()
    if callable(spec):
        return UserEnvelope(spec, getattr(spec, "__name__", "user"))
    if not isinstance(spec, str):
        raise InputError(f"protocol must be a string like 'constant', 'on-off:5' or 'sin2:10', got {shown(spec)}")
    name, _, arg = spec.strip().partition(":")
    if name == "table":
        return _table(arg)
    if name == "steps":
        return _steps(arg)
    if name not in PROTOCOLS:
        close = difflib.get_close_matches(name, [*PROTOCOLS, "table", "steps"], n=2, cutoff=0.5)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        usage = ", ".join(sorted({u for _, _, u in PROTOCOLS.values()} | {"table:FILE", "steps:FILE"}))
        raise InputError(f"unknown protocol {spec!r}{hint} (use {usage})")
    (lo, hi), factory, usage = PROTOCOLS[name]
    parts = [p for p in arg.split(",") if p.strip()] if arg else []
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"protocol {spec!r}: give numbers, as {usage}") from None
    if not lo <= len(values) <= hi:
        raise InputError(f"protocol {spec!r}: expected {usage}")
    return factory(*values)
