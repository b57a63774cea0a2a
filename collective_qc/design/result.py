"""The result of :func:`collective_qc.design.optimize`: the optimal slice table, the objective and its
history, E(t) of the optimal against the constant drive, the advantage; writers for
``protocol.csv`` (a ``steps:FILE`` protocol for ``cqc charge``), ``optimize.json`` and the plots."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

import numpy as np

from .grape import propagate_states

__all__ = ["OptimizeResult", "curves", "write_steps"]

CURVE_POINTS = 201


def curves(dyn, u, tau: float, f_max: float):
    """(t, E_opt(t), E_const(t)) on [0, tau]: the optimal slices and the constant drive f = f_max."""
    t = np.linspace(0.0, tau, CURVE_POINTS)
    return t, propagate_states(dyn, u, tau, t), propagate_states(dyn, np.full(1, f_max), tau, t)


def write_steps(path, tau: float, amplitudes) -> str:
    """Write a piecewise-constant table for ``--protocol steps:FILE``: rows ``t_k,f_k`` (f = f_k on
    [t_k, t_{k+1})) and a last row ``tau,0`` (the charger off after tau)."""
    u = np.asarray(amplitudes, dtype=float)
    t = np.linspace(0.0, tau, len(u) + 1)
    rows = np.column_stack([t, np.append(u, 0.0)])
    header = ("steps protocol: f = f_k for t_k <= t < t_{k+1}, f = 0 from the last time on; "
              "use as cqc charge --protocol steps:FILE\nt,f")
    np.savetxt(path, rows, delimiter=",", header=header, fmt="%.17g")
    return str(path)


@dataclass
class OptimizeResult:
    """Optimal charging protocol and its figures.

    Attributes
    ----------
    options : OptimizeOptions
    tau : float
        Final time of the protocol (time unit of the model).
    amplitudes : ndarray (M,)
        f on each slice of tau/M (dimensionless; lambda f is the charging amplitude).
    objective : float
        Best E(tau) or W(tau) (energy unit).
    histories : list of list of float
        Objective after each L-BFGS-B iteration, one list per start.
    times, energy, energy_constant : ndarray
        E(t) = <H_B>(t) - E(0) of the optimal protocol and of the constant drive f = f_max.
    info : dict
        How the problem was built (method, basis dimension, block/sector, initial state, units).
    evaluations : int
        Objective-and-gradient evaluations, all starts.
    wall_time : float
        Seconds of the optimisation (without curves and the single-site run).
    single_site : dict or None
        {"objective": F_1, "N": N, "gamma": F_N / (N F_1)} for N optimally charged single sites.
    time_target : float or None
        With ``time:X``, the energy X x E_max the shortest tau reaches.
    parameters : dict or None
        With ``vary``, the optimal values of the varied model parameters (model units).
    model_arg : str or None
        The model as named to ``optimize`` (catalog name or graph file), for :meth:`charge_command`.
    """

    options: object
    tau: float
    amplitudes: np.ndarray
    objective: float
    histories: list
    times: np.ndarray
    energy: np.ndarray
    energy_constant: np.ndarray
    info: dict
    evaluations: int
    wall_time: float
    single_site: dict | None = None
    time_target: float | None = None
    parameters: dict | None = None
    model_arg: str | None = None
    files: list = field(default_factory=list)
    files_dir: str | None = None

    @property
    def charge_params(self) -> dict:
        """The model parameters of a charge run that reruns the optimum: the run's ``params`` with the
        optimal varied values (full precision)."""
        return {**{k: v for k, v in self.options.params.items()}, **(self.parameters or {})}

    def charge_command(self, protocol: str = "protocol.csv") -> str | None:
        """The ``cqc charge`` command line that reruns the optimal protocol (and parameters) to tau, with
        the steps table at ``protocol``; None when the model was not given by name."""
        if self.model_arg is None:
            return None
        o = self.options
        words = ["cqc", "charge", self.model_arg]
        words += [f"-p {k}={v!r}" if isinstance(v, float) else f"-p {k}={v}" for k, v in self.charge_params.items()]
        words += [f"--drive {o.drive!r}", f"--t-max {self.tau!r}", f"--protocol steps:{protocol}"]
        if o.initial != "ground":
            words.append(f"--initial {o.initial}")
        words += [f"--{r} {getattr(o, r)!r}" for r in ("dephasing", "relaxation", "pumping") if getattr(o, r)]
        if o.is_open:
            words.append("--method exact")
        if o.battery_off:
            words.append("--battery-off-while-charging yes")
        return " ".join(words)

    @property
    def constant_objective(self) -> float:
        """E(tau) of the constant drive f = f_max."""
        return float(self.energy_constant[-1])

    def __repr__(self) -> str:
        u = self.info["units"]
        gamma = "" if self.single_site is None else f", Gamma = {self.single_site['gamma']:.6g}"
        if self.parameters:
            gamma += ", " + ", ".join(f"{k} = {v:.10g}" for k, v in self.parameters.items())
        return (f"OptimizeResult({self.options.objective}: {self.objective:.10g} {u['energy']} at tau = {self.tau:.6g} "
                f"{u['time']}, constant drive {self.constant_objective:.6g}, {len(self.amplitudes)} slices, "
                f"{self.evaluations} evaluations, {self.wall_time:.3g} s{gamma})")

    def to_dict(self) -> dict:
        o = self.options
        return {"objective": o.objective, "fraction": o.fraction, "value": self.objective, "tau": self.tau,
                "time_target": self.time_target, "constant_drive_value": self.constant_objective,
                "amplitudes": self.amplitudes.tolist(), "slices": len(self.amplitudes),
                "drive": o.drive, "f_max": o.f_max, "basis": o.basis, "starts": o.starts, "seed": o.seed,
                "noise": {"dephasing": o.dephasing, "relaxation": o.relaxation, "pumping": o.pumping},
                "params": {k: str(v) for k, v in o.params.items()}, "battery_off": o.battery_off,
                "vary": {k: list(b) for k, b in o.vary.items()}, "parameters": self.parameters,
                "charge_params": self.charge_params if self.parameters else None,
                "charge_command": self.charge_command(os.path.join(self.files_dir or ".", "protocol.csv")),
                "histories": self.histories, "evaluations": self.evaluations, "wall_time_s": self.wall_time,
                "single_site": self.single_site, "problem": self.info,
                "curves": {"t": self.times.tolist(), "E_optimal": self.energy.tolist(),
                           "E_constant": self.energy_constant.tolist()},
                "units": {"value": self.info["units"]["energy"], "tau": self.info["units"]["time"],
                          "amplitudes": "dimensionless"}}

    def write(self, out, plot: bool = False) -> list[str]:
        """Write ``protocol.csv``, ``optimize.json`` (and with ``plot`` ``protocol.png``,
        ``energy.png``, ``history.png``) into the directory ``out``; returns the paths."""
        os.makedirs(out, exist_ok=True)
        self.files_dir = str(out)
        files = [write_steps(os.path.join(out, "protocol.csv"), self.tau, self.amplitudes)]
        path = os.path.join(out, "optimize.json")
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=1, default=str)
        files.append(path)
        if plot:
            from .plots import plot_result

            files += plot_result(self, out)
        self.files = files
        return files
