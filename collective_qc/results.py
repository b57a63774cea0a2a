"""Result object of a charging run: arrays, figures of merit, metadata, JSON I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ChargeResult"]


@dataclass
class ChargeResult:
    """Totals (not per site) of one charging run; ``per_site`` gives the /N view.

    Attributes
    ----------
    times, energy, power, capacitance : ndarray (n_times,)
        t (time unit), E(t) (energy unit), P(t), C_Q(t) = dE/dlambda.
    *_stderr : ndarray or None
        Standard errors (trajectory runs); None for exact methods.
    tau_c, energy_max, capacitance_at_tau_c : float or None
        None when E(t) has no maximum inside the window.
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

    def to_dict(self) -> dict:
        out = {}
        for key, val in self.__dict__.items():
            if isinstance(val, np.ndarray):
                val = val.tolist()
            out[key] = val
        return out

    def to_json(self, path) -> None:
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=1, default=_default)

    def summary(self) -> str:
        u = self.metadata.get("units", {})
        eu, tu = u.get("energy", "omega0"), u.get("time", "1/omega0")

        why = "round-off E(t), see metadata['undefined']" if self.metadata.get("undefined") else \
            "no maximum in window"

        def f(x):
            return f"undefined ({why})" if x is None else f"{x:.6g}"

        lines = [
            f"model {self.model} {self.params}  N = {self.n_sites}  method = {self.method}  drive = {self.drive}",
            f"  tau_c            = {f(self.tau_c)} [{tu}]",
            f"  E_max            = {f(self.energy_max)} [{eu}]   per site {f(self.per_site['energy_max'])}",
            f"  P_max            = {self.power_max:.6g} [{eu}/{tu}]",
            f"  max E(t)/t       = {self.average_power_max:.6g}",
            f"  C_Q(tau_c)       = {f(self.capacitance_at_tau_c)}",
        ]
        init = self.metadata.get("initial") or {}
        if init.get("members", 1) > 1:
            lines.append("  initial state    zero-temperature state: uniform mixture over the "
                         f"{init['degeneracy']}-fold degenerate ground level of H_B")
        for node, rep in (self.metadata.get("cutoff") or {}).items():
            verdict = ("exact: excitation number conserved" if rep.get("exact_by_conservation") else
                       "converged" if rep["converged"] else "NOT converged: raise n_max")
            lines.append(f"  cutoff [{node}]    n_max = {rep['n_max']}, top-level population <= "
                         f"{rep['top_population_max']:.2e} ({verdict})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"ChargeResult(model={self.model!r}, N={self.n_sites}, method={self.method!r}, "
                f"n_times={len(self.times)}, tau_c={self.tau_c})")


def _default(o):
    if isinstance(o, (np.floating, np.integer)):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)
