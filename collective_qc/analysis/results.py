"""Result object of a charging run: arrays, figures of merit, metadata, JSON I/O, summary."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np

from ..core.units import units_of

__all__ = ["ChargeResult", "format_value", "jsonable"]



@dataclass
class ChargeResult:
    """Totals (not per site) of one charging run; ``per_site`` gives the /N view.

    Units follow ``metadata["units"]`` (see :mod:`collective_qc.core.units`): energy u, time hbar/u,
    power u^2/hbar, C_Q dimensionless.

    Attributes
    ----------
    times, energy, power, capacitance : ndarray (n_times,)
        t (time unit), E(t) (energy unit), P(t) (energy per time), C_Q(t) = dE/dlambda (dimensionless).
    *_stderr : ndarray or None
        Standard errors (trajectory runs); None for exact methods.
    tau_c, energy_max, capacitance_at_tau_c : float or None
        None when E(t) has no maximum inside the window.
    observables, observables_stderr : dict of name -> ndarray (n_times,)
        Further time series (photon numbers, ergotropy, l1 coherence, entropy, ...).
    jackknife : ndarray (3, G, n_times) or None
        Trajectory runs: E, P, C averaged without trajectory group g (index mod G), from which
        :meth:`figure_errors` takes delete-one-group jackknife errors; None for exact methods.
    sensitivities : dict of name -> dict
        ``charge(sensitivities=[...])``: per parameter theta its ``value`` and ``unit``, dE/dtheta,
        dP/dtheta, dC_Q/dtheta per sample (``energy``, ``power``, ``capacitance``) and the derivatives of
        ``tau_c``, ``energy_max``, ``power_max``, ``capacitance_at_tau_c`` (:mod:`collective_qc.sensitivity`).
    metadata : dict
        Provenance: version, units, noise (uniform and per-site rates actually used), protocol,
        initial state, graph file, cutoff report, wall time.
    """

    times: np.ndarray
    energy: np.ndarray
    power: np.ndarray
    capacitance: np.ndarray
    n_sites: int
    tau_c: float | None
    energy_max: float | None
    power_max: float
    average_power_max: float
    capacitance_at_tau_c: float | None
    model: str
    params: dict
    method: str
    drive: float
    energy_stderr: np.ndarray | None = None
    power_stderr: np.ndarray | None = None
    capacitance_stderr: np.ndarray | None = None
    metadata: dict = field(default_factory=dict)
    observables: dict = field(default_factory=dict)  # further time series, name -> (n_times,) array
    observables_stderr: dict | None = None
    jackknife: np.ndarray | None = None
    sensitivities: dict = field(default_factory=dict)  # name -> d/dtheta of the series and figures (sensitivity)

    @property
    def per_site(self) -> dict:
        """Per-site arrays and figures (divided by N)."""
        n = self.n_sites

        def d(x):
            return None if x is None else x / n

        return {
            "times": self.times, "energy": self.energy / n, "power": self.power / n,
            "capacitance": self.capacitance / n, "tau_c": self.tau_c, "energy_max": d(self.energy_max),
            "power_max": self.power_max / n, "average_power_max": self.average_power_max / n,
            "capacitance_at_tau_c": d(self.capacitance_at_tau_c),
        }

    @property
    def units(self):
        """The run's :class:`collective_qc.core.units.Units`."""
        return units_of(self)

    @property
    def not_charged(self) -> bool:
        """True when E(t) never leaves round-off level (e.g. a dark state of the charger, such as a
        total-spin singlet under a uniform field): tau_c, E_max and C_Q* are then not results."""
        return bool(self.metadata.get("undefined"))

    def figure_errors(self) -> dict:
        """Standard errors of the figures of merit (zeros for exact methods); see
        :func:`collective_qc.analysis.statistics.figure_errors`."""
        from .statistics import figure_errors

        return figure_errors(self)

    @property
    def undefined(self) -> dict:
        """{figure: reason} for each figure of merit that is not a result (round-off E or C_Q*, no
        maximum in the window, unresolved trajectory noise); see :mod:`collective_qc.analysis.verdict`."""
        from .verdict import figure_reasons

        return figure_reasons(self)

    def to_dict(self) -> dict:
        """Plain JSON types only: every array (also inside ``observables``) becomes a list of numbers;
        ``units`` maps each field to its unit string. A figure that is not a result is null, with
        its reason under ``undefined`` ({figure: reason})."""
        out = {key: jsonable(val) for key, val in self.__dict__.items()}
        out["undefined"] = self.undefined
        out.update({fig: None for fig in out["undefined"]})
        out["units"] = self.units.as_dict()
        return out

    def to_json(self, path) -> None:
        """Write :meth:`to_dict` as JSON (non-finite numbers as null)."""
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=1, allow_nan=False)

    def to_hdf5(self, path) -> None:
        """Write the series (datasets ``times``, ``energy``, ``power``, ``capacitance``), the figures of
        merit (root attributes; NaN where undefined) and each sensitivity (group ``sensitivities/NAME``:
        datasets ``energy``, ``power``, ``capacitance`` = d/dtheta per sample, attributes the derivatives
        of the figures, ``value`` and ``unit``) to an HDF5 file."""
        import h5py

        with h5py.File(path, "w") as h5:
            for key in ("times", "energy", "power", "capacitance"):
                h5.create_dataset(key, data=np.asarray(getattr(self, key), float))
            for key in ("tau_c", "energy_max", "power_max", "capacitance_at_tau_c"):
                h5.attrs[key] = np.nan if getattr(self, key) is None else float(getattr(self, key))
            h5.attrs["units"] = json.dumps(self.units.as_dict())
            for name, rec in self.sensitivities.items():
                g = h5.create_group("sensitivities").create_group(name) if "sensitivities" not in h5 else \
                    h5["sensitivities"].create_group(name)
                for key, val in rec.items():
                    if isinstance(val, np.ndarray):
                        g.create_dataset(key, data=val)
                    else:
                        g.attrs[key] = np.nan if val is None else val

    def to_dataframe(self):
        """The time series as a pandas DataFrame (index ``times``; energy, power, capacitance, their
        standard errors, observables) with units and figures in ``attrs``; needs the ``frames``
        extra (:func:`collective_qc.analysis.frames.result_frame`)."""
        from .frames import result_frame

        return result_frame(self)

    def summary(self) -> str:
        """Human-readable figures of merit with units, standard errors (trajectory runs) and
        the run's set-up (noise, protocol, initial state, graph file). A figure that is not a
        result is printed as "undefined (reason)"."""
        from .verdict import DISCHARGES, NOISE, figure_reasons

        u = self.units
        err = self.figure_errors() if self.energy_stderr is not None else {}
        why = figure_reasons(self, err)
        whole = next((w for w in (NOISE, DISCHARGES) if w in why.values()), None)  # a verdict on the whole run
        tag = "NOT CHARGED" if self.not_charged else whole and whole.split(":")[0]

        def f(key, per_site=False):
            if key in why:
                return f"undefined ({tag}, see below)" if tag else f"undefined ({why[key]})"
            x, e = getattr(self, key), err.get(key)
            if per_site:
                x, e = x / self.n_sites, None if e is None else e / self.n_sites
            return format_value(x, e)

        lines = [
            f"model {self.model} {self.params}  N = {self.n_sites}  method = {self.method}  "
            f"drive = {self.drive:g} [{u.drive}]",
            *self._setup_lines(),
            f"  tau_c            = {f('tau_c')} [{u.time}]",
            f"  E_max            = {f('energy_max')} [{u.energy}]"
            + ("" if "energy_max" in why else f"   per site {f('energy_max', True)}"),
            f"  P_max            = {f('power_max')} [{u.power}]",
            f"  max E(t)/t       = {f('average_power_max')} [{u.power}]",
            f"  C_Q(tau_c)       = {f('capacitance_at_tau_c')} [{u.capacitance}]",
        ]
        if err:
            lines.append("  (+- one standard error of the trajectory average)")
        if self.not_charged:
            lines.append(f"  NOT CHARGED [energies in {u.energy}]: {self.metadata['undefined']} (is the initial state "
                         "dark to the charger?)")
        if whole and not self.not_charged:
            lines.append(f"  {whole}")
        from ..planning.cutoff import cutoff_lines

        meta = self.metadata
        lines += ["  " + line for line in cutoff_lines(meta.get("cutoff"), meta.get("cutoff_history"))]
        return "\n".join(lines)

    def _setup_lines(self) -> list[str]:
        """Echo of the run's set-up: graph file, initial state, protocol, noise."""
        meta, u = self.metadata, self.units
        lines = []
        if meta.get("graph_file"):
            lines.append(f"  graph file       {meta['graph_file']}")
        init = meta.get("initial") or {}
        if init:
            lines.append(f"  initial state    {describe_initial(init, self.n_sites, u.energy)}")
        proto = meta.get("protocol") or {}
        if proto:
            text = "constant drive" if proto.get("name") == "constant" else \
                f"{proto.get('name')}" + (f", drive off at t = {proto['tau']:g} [{u.time}]" if "tau" in proto else "")
            lines.append(f"  protocol         {text}")
        noise = meta.get("noise")
        if noise is not None:
            lines.append(f"  noise            {describe_noise(noise, u.energy)}")
        return lines

    def __repr__(self) -> str:
        return (f"ChargeResult(model={self.model!r}, N={self.n_sites}, method={self.method!r}, "
                f"n_times={len(self.times)}, tau_c={self.tau_c})")


_RATE_LABELS = {"dephasing": "dephasing gamma", "relaxation": "relaxation kappa", "pumping": "pumping p",
                "collective_emission": "collective_emission G", "collective_dephasing": "collective_dephasing G",
                "collective_pumping": "collective_pumping G"}


def _count(x) -> str:
    """A member count or multiplicity (an int, or a float from the permutation solver)."""
    x = float(x)
    near = math.isfinite(x) and abs(x) < 1e15 and abs(x - round(x)) <= 1e-9 * max(1.0, abs(x))
    return f"{round(x)}" if near else f"{x:.3g}"


def _kind_args(kind: str) -> list[float]:
    """The numbers of a kind like "dicke:1.5,-0.5" or "thermal:0.5" (empty when it has none)."""
    try:
        return [float(a) for a in kind.partition(":")[2].split(",")] if ":" in kind else []
    except ValueError:
        return []


def describe_initial(init: dict, n_sites: int, energy_unit: str = "omega0") -> str:
    """One line from ``metadata["initial"]`` (``InitialState.describe()`` or the permutation
    solver's ``InitialBlocks.describe()``): kind "ground" | "ground-manifold" | "product" |
    "dicke" / "dicke:J,M" | "thermal" / "thermal:T", with members, degeneracy and mixture.

    Parameters
    ----------
    init : dict
        The description; ``J``, ``M``, ``d_J`` (dicke) and ``T`` (thermal, energy units) when
        recorded, else read from the kind.
    n_sites : int
        Number of spin-1/2 sites N (d_J of a Dicke state when the description lacks it).
    energy_unit : str
        Unit of the temperature T.
    """
    kind = str(init.get("kind"))
    head, args = kind.partition(":")[0], _kind_args(kind)
    degeneracy = float(init.get("degeneracy") or 1)
    if head in ("ground", "ground-manifold"):
        if degeneracy > 1.5 or head == "ground-manifold":  # the permutation solver counts copies as floats
            return ("zero-temperature state: uniform mixture over the "
                    f"{_count(degeneracy)}-fold degenerate ground level of H_B")
        return "ground state of H_B"
    if head == "product":
        return "product state |g...g>"
    if head == "dicke":
        J, M = (init["J"], init["M"]) if "J" in init and "M" in init else (args + [math.nan, math.nan])[:2]
        d = init.get("d_J")
        if d is None and math.isfinite(J):
            from ..physics.states import dicke_degeneracy

            d = dicke_degeneracy(n_sites, J) if 0 <= J <= n_sites / 2 else None
        text = f"Dicke state |J = {J:g}, M = {M:g}>"
        if d is not None and float(d) > 1.5:
            return text + f": uniform mixture over its d_J = {_count(d)} copies"
        return text
    if head == "thermal":
        T = init.get("T", args[0] if args else math.nan)
        text = f"thermal state exp(-H_B/T)/Z at T = {T:g} [{energy_unit}]"
        members = init.get("members")
        return text + (f" over {_count(members)} eigenstates of H_B" if members and float(members) > 1.5 else "")
    mixture = init.get("mixture")
    return kind + (f" ({mixture})" if mixture else "")


def describe_noise(noise: dict, energy_unit: str = "omega0") -> str:
    """One line from ``metadata["noise"]``: every non-zero uniform rate of
    :data:`collective_qc.physics.operators.NOISE_RATES` (and any other non-zero number recorded),
    the per-site rates from graph attributes and the cavity loss, all in `energy_unit` (a rate
    is energy unit / hbar); "none (closed system)" when there is none."""
    from ..physics.operators import NOISE_RATES

    parts, per_site = [], {}
    names = list(NOISE_RATES) + [k for k in noise if k not in NOISE_RATES]
    for key in names:
        val = noise.get(key)
        if key.startswith("per_site_") or key == "cavity_kappa":
            continue
        if isinstance(val, (int, float)) and not isinstance(val, bool) and val:
            parts.append(f"{_RATE_LABELS.get(key, key)} = {val:g}")
    for key, per in noise.items():
        if key.startswith("per_site_") and per:
            per_site[key[len("per_site_"):]] = per
    for label, per in per_site.items():
        vals = ", ".join(f"{n}: {v:g}" for n, v in list(per.items())[:6])
        more = f", ... ({len(per)} sites)" if len(per) > 6 else ""
        parts.append(f"per-site {label} from the graph {{{vals}{more}}}")
    if noise.get("cavity_kappa"):
        parts.append("cavity loss " + ", ".join(f"{n}: {v:g}" for n, v in noise["cavity_kappa"].items()))
    return "; ".join(parts) + f" [rates in {energy_unit}]" if parts else "none (closed system)"


def format_value(x: float, err: float | None = None, digits: int = 6) -> str:
    """``x`` with `digits` significant digits, or ``x +- err`` rounded to the error's
    second significant digit when a finite positive standard error is given. An error at
    round-off level (<= 1e-12 |x|: identical samples) is no error: `x` alone."""
    if err is None or not math.isfinite(err) or err <= 1e-12 * abs(x) or not math.isfinite(x):
        return f"{x:.{digits}g}"
    place = math.floor(math.log10(err)) - 1  # two significant digits of the error
    decimals = max(0, -place)
    if abs(x) >= 1e5 or (x != 0 and abs(x) < 1e-4):
        scale = math.floor(math.log10(abs(x)))
        d = max(0, scale - place)
        return f"({x / 10 ** scale:.{d}f} +- {err / 10 ** scale:.{d}f})e{scale:+d}"
    return f"{x:.{decimals}f} +- {err:.{decimals}f}"


def jsonable(val):
    """A value in plain JSON types: arrays -> lists of numbers (NaN/inf -> null), numpy scalars ->
    Python numbers, dicts and lists recursively; anything else unknown -> str."""
    if isinstance(val, np.ndarray):
        return jsonable(val.tolist())
    if isinstance(val, (bool, np.bool_)):
        return bool(val)
    if isinstance(val, (int, np.integer)):
        return int(val)
    if isinstance(val, (float, np.floating)):
        v = float(val)
        return v if math.isfinite(v) else None
    if isinstance(val, complex):
        return [val.real, val.imag]
    if isinstance(val, dict):
        return {str(k): jsonable(v) for k, v in val.items()}
    if isinstance(val, (list, tuple)):
        return [jsonable(v) for v in val]
    if val is None or isinstance(val, str):
        return val
    return str(val)
