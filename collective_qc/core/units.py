"""Unit strings of every reported quantity, from a model's energy and time units.

Convention (stated in the manual, "Conventions and units"): a model declares one energy
unit ``u`` (``omega0`` for the dimensionless catalog, ``K`` for E / k_B in kelvin, ``meV``)
and times are measured in hbar / u. In the dimensionless catalog hbar = 1 and the time unit
is written ``1/omega0``; with a physical energy unit it is written ``hbar/K`` or
``hbar/meV`` (1 hbar/K = 7.6382 ps, 1 hbar/meV = 0.65821 ps).

Derived units:

- energy E, E_max, the drive lambda: ``u``;
- time t, tau_c: ``hbar/u`` (``1/omega0``);
- power P, P_max, max E(t)/t: energy per time, u / (hbar/u) = ``u^2/hbar``
  (``omega0^2`` with hbar = 1);
- capacitance C_Q = dE/dlambda: energy per drive energy, ``dimensionless``;
- Gamma ratios: ``dimensionless``.

A plug-in model may declare any other pair (e.g. ``energy_unit = "meV"``,
``time_unit = "ps"``); power is then written ``meV/ps``.

These strings are the one unit vocabulary of the package: the terminal (``[omega0^2]``), the JSON
``units`` map, the ``units`` attributes of ``timeseries.h5``, the ``attrs["units"]`` of the
pandas/xarray views (:mod:`collective_qc.analysis.frames`) and the plot axes all take them from
:meth:`Units.of`.
"""

from __future__ import annotations

__all__ = ["Units", "units_of", "power_unit", "rate_unit", "DIMENSIONLESS", "JACKKNIFE_QUANTITIES"]

DIMENSIONLESS = "dimensionless"
JACKKNIFE_QUANTITIES = ("energy", "power", "capacitance")  # axis 0 of ChargeResult.jackknife


def power_unit(energy: str, time: str) -> str:
    """Unit of an energy per time, simplified where the time unit is hbar or 1 over the energy unit.

    >>> power_unit("omega0", "1/omega0")
    'omega0^2'
    >>> power_unit("K", "hbar/K")
    'K^2/hbar'
    >>> power_unit("meV", "ps")
    'meV/ps'
    """
    energy, time = energy.strip(), time.strip()
    if time == f"1/{energy}":
        return f"{energy}^2"
    if time == f"hbar/{energy}":
        return f"{energy}^2/hbar"
    if "/" in time or " " in time or "*" in time:
        return f"{energy}/({time})"
    return f"{energy}/{time}"


def rate_unit(energy: str, time: str) -> str:
    """Unit of a rate (1/time): ``omega0`` with hbar = 1, ``K/hbar`` for time hbar/K, else ``1/time``."""
    energy, time = energy.strip(), time.strip()
    if time == f"1/{energy}":
        return energy
    if time == f"hbar/{energy}":
        return f"{energy}/hbar"
    return f"1/({time})" if "/" in time else f"1/{time}"


class Units:
    """Unit strings of one run: ``energy``, ``time``, ``power``, ``capacitance``, ``drive``.

    Parameters
    ----------
    energy : str
        Energy unit u (default ``omega0``).
    time : str
        Time unit (default ``1/omega0``, i.e. hbar / u with hbar = 1).
    """

    def __init__(self, energy: str = "omega0", time: str = "1/omega0"):
        self.energy = energy or "omega0"
        self.time = time or "1/omega0"

    @property
    def power(self) -> str:
        return power_unit(self.energy, self.time)

    @property
    def drive(self) -> str:
        return self.energy

    capacitance = DIMENSIONLESS
    gamma = DIMENSIONLESS

    def of(self, quantity: str) -> str:
        """The unit of a result field, figure of merit or observable (``energy_max``,
        ``power_max_per_site``, ``gamma_power``, ``photons[cavity]``, ...); ``""`` when unknown.

        >>> Units().of("power_max_per_site"), Units("K", "hbar/K").of("tau_c")
        ('omega0^2', 'hbar/K')
        """
        key = quantity.removesuffix("_stderr").removesuffix("_per_site").split("[", 1)[0]
        if key in ("times", "time", "tau_c"):
            return self.time
        if key in ("energy", "energy_max", "E0", "ergotropy", "drive"):
            return self.energy
        if key in ("power", "power_max", "average_power_max", "qsl_power", "qsl_bound"):
            return self.power
        if key.startswith("gamma") or key in ("capacitance", "capacitance_at_tau_c", "coherence_l1",
                                              "entanglement_entropy", "photons", "top_fock_population",
                                              "qsl_ratio"):
            return DIMENSIONLESS
        return ""

    def as_dict(self) -> dict:
        return {"energy": self.energy, "time": self.time, "power": self.power,
                "capacitance": DIMENSIONLESS, "drive": self.drive}

    def __repr__(self) -> str:
        return f"Units(energy={self.energy!r}, time={self.time!r})"


def units_of(source) -> Units:
    """Units of a ChargeResult, a Model (instance or class), or a ``{"energy", "time"}`` dict."""
    if isinstance(source, dict):
        return Units(source.get("energy") or "omega0", source.get("time") or "1/omega0")
    meta = getattr(source, "metadata", None)
    if isinstance(meta, dict):
        return units_of(meta.get("units") or {})
    return Units(getattr(source, "energy_unit", "omega0"), getattr(source, "time_unit", "1/omega0"))
