"""The one typed options object of :func:`collective_qc.design.optimize`, checked on construction
(one-line :class:`~collective_qc.core.errors.InputError` naming the option)."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field, fields

from ..core.errors import InputError, shown

__all__ = ["OptimizeOptions", "options_from"]

OBJECTIVES = ("energy", "ergotropy", "time:FRACTION")


def _positive(name: str, value, *, zero=False) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{name} must be a number, got {shown(value)}") from None
    if not math.isfinite(v) or v < 0 or (v == 0 and not zero):
        raise InputError(f"{name} must be {'>= 0' if zero else '> 0'}, got {shown(value)}")
    return v


def _count(name: str, value, lo: int, hi: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int,)) and not (isinstance(value, float)
                                                                         and value.is_integer()):
        raise InputError(f"{name} must be an integer in {lo}..{hi}, got {shown(value)}")
    if not lo <= int(value) <= hi:
        raise InputError(f"{name} must be an integer in {lo}..{hi}, got {shown(value)}")
    return int(value)


@dataclass
class OptimizeOptions:
    """Settings of one optimisation.

    Attributes
    ----------
    tau : float
        Final time (time unit of the model, 1/omega0); for ``time:FRACTION`` the longest time searched.
    drive : float
        lambda_max, the charging amplitude (energy unit): the charger term is lambda f(t) V.
    f_max : float
        Bound |f(t)| <= f_max (dimensionless), so |lambda f| <= lambda f_max.
    slices : int
        M piecewise-constant slices of tau/M (for ``basis`` the resolution it is sampled on).
    basis : str or None
        None: the M slice values are the parameters. ``"fourier:K"``: f = f_max tanh(g(t)),
        g = c_0 + sum_{k=1..K} [a_k cos(2 pi k t/tau) + b_k sin(2 pi k t/tau)] (CRAB-like, 2K + 1
        parameters, the bound holds by construction), sampled at the slice midpoints. ``"gauss:K"``:
        g = sum_j a_j exp(-(t - t_j)^2 / (2 s^2)), t_j = (j + 1/2) tau/K, s = tau/K (K parameters).
    objective : str
        ``energy`` (E(tau) = <H_B>(tau) - E(0)), ``ergotropy`` (W(tau)), or ``time:FRACTION``
        (the shortest tau at which the optimal E reaches FRACTION of E_max = e_max - E(0), e_max the
        top eigenvalue of H_B in the run's basis; bisection over tau).
    params : dict
        Model parameters (as for ``charge``).
    vary : dict
        Model parameters optimised with f: {name: (lo, hi)} (or a list of ``"NAME=LO:HI"``), float
        parameters of the model (``cqc models NAME``), each bounded to [lo, hi] in its unit, starting
        from its run value: a value given in ``params`` must lie in the bounds, the model's default is
        clipped into them. Empty: only f varies.
        The Hamiltonian must be affine in each of them (checked; :mod:`.parameters`).
    dephasing, relaxation, pumping : float
        Uniform Lindblad rates (energy unit); any nonzero rate makes the problem open.
    initial : str
        Initial state, as for ``charge`` (default ``ground``).
    battery_off : bool
        H = H_aux + lambda f V while charging (Binder / Campaioli convention); E still measured with H_B.
    starts : int
        Starts: f = f_max/2 everywhere; for free slices then the best single-switch bang-bang drive
        f = +f_max, -f_max on the slice grid (the constant drive among them); the others seeded random
        (uniform in [-f_max, f_max], or normal basis coefficients).
    seed : int
        Seed of the starts (numpy SeedSequence).
    maxiter : int
        L-BFGS-B iterations per start.
    gtol : float
        L-BFGS-B projected-gradient tolerance.
    """

    tau: float
    drive: float = 1.0
    f_max: float = 1.0
    slices: int = 20
    basis: str | None = None
    objective: str = "energy"
    params: dict = field(default_factory=dict)
    vary: dict = field(default_factory=dict)
    dephasing: float = 0.0
    relaxation: float = 0.0
    pumping: float = 0.0
    initial: str = "ground"
    battery_off: bool = False
    starts: int = 4
    seed: int = 0
    maxiter: int = 500
    gtol: float = 1e-10

    def __post_init__(self):
        self.tau = _positive("tau", self.tau)
        self.drive = _positive("drive", self.drive)
        self.f_max = _positive("f_max", self.f_max)
        for name in ("dephasing", "relaxation", "pumping"):
            setattr(self, name, _positive(name, getattr(self, name), zero=True))
        self.slices = _count("slices", self.slices, 1, 100000)
        self.starts = _count("starts", self.starts, 1, 1000)
        self.seed = _count("seed", self.seed, 0, 2**63 - 1)
        self.maxiter = _count("maxiter", self.maxiter, 1, 10**6)
        self.gtol = _positive("gtol", self.gtol)
        self.params = dict(self.params or {})
        self.vary = _vary(self.vary)
        self.objective, self.fraction = _objective(self.objective)
        self.modes = _basis(self.basis)

    @property
    def is_open(self) -> bool:
        return self.dephasing > 0 or self.relaxation > 0 or self.pumping > 0


def _objective(spec) -> tuple[str, float | None]:
    if not isinstance(spec, str):
        raise InputError(f"objective must be one of {', '.join(OBJECTIVES)}, got {shown(spec)}")
    name, _, arg = spec.strip().partition(":")
    if name in ("energy", "ergotropy") and not arg:
        return name, None
    if name == "time":
        try:
            frac = float(arg)
        except ValueError:
            frac = float("nan")
        if not 0 < frac < 1:
            raise InputError(f"objective {spec!r}: write time:FRACTION with 0 < FRACTION < 1, e.g. time:0.9")
        return "time", frac
    close = difflib.get_close_matches(name, ["energy", "ergotropy", "time"], n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise InputError(f"unknown objective {spec!r}{hint} (use {', '.join(OBJECTIVES)})")


def _basis(spec) -> tuple[str, int] | None:
    """("fourier" | "gauss", K), or None for free slices."""
    if spec is None or spec == "slices":
        return None
    name, _, arg = str(spec).partition(":")
    if name in ("fourier", "crab", "gauss"):
        try:
            k = int(arg)
        except ValueError:
            k = -1
        if k >= 1:
            return ("gauss" if name == "gauss" else "fourier", k)
    raise InputError(f"basis must be 'fourier:K' or 'gauss:K' with an integer K >= 1 (or omitted for free slices), "
                     f"got {shown(spec)}")


def _vary(spec) -> dict:
    """{name: (lo, hi)} from a dict of pairs or ``"LO:HI"`` strings, or from ``"NAME=LO:HI"`` strings."""
    if spec is None:
        return {}
    if isinstance(spec, str):
        spec = [spec]
    if not isinstance(spec, dict):
        pairs = {}
        for item in spec if isinstance(spec, (list, tuple)) else [spec]:
            name, eq, bounds = str(item).partition("=")
            if not eq or not name.strip():
                raise InputError(f"vary: write NAME=LO:HI, e.g. J=0:2, got {shown(item)}")
            if name.strip() in pairs:
                raise InputError(f"vary: {name.strip()!r} is given twice")
            pairs[name.strip()] = bounds
        spec = pairs
    out = {}
    for name, bounds in spec.items():
        if not isinstance(name, str) or not name:
            raise InputError(f"vary: parameter names must be strings, got {shown(name)}")
        lo, hi = _bounds(name, bounds)
        out[name] = (lo, hi)
    return out


def _bounds(name: str, bounds) -> tuple[float, float]:
    """(lo, hi), finite with lo < hi, from a pair or a ``"LO:HI"`` string."""
    if isinstance(bounds, str):
        bounds = bounds.split(":")
    try:
        lo, hi = (float(b) for b in bounds)
    except (TypeError, ValueError):
        raise InputError(f"vary {name!r}: bounds must be two numbers LO:HI (or a pair), got {shown(bounds)}") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or not lo < hi:
        raise InputError(f"vary {name!r}: bounds must be finite with LO < HI, got {lo:g}:{hi:g}")
    return lo, hi


def options_from(tau, settings: dict) -> OptimizeOptions:
    """OptimizeOptions from keyword settings, refusing unknown names with a suggestion."""
    known = [f.name for f in fields(OptimizeOptions)]
    for key in settings:
        if key not in known or key == "tau":
            close = difflib.get_close_matches(key, known, n=2)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
            raise InputError(f"optimize() got an unknown argument {key!r}{hint}")
    return OptimizeOptions(tau=tau, **settings)
