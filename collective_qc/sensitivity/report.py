"""The short table of a run's sensitivities (``cqc charge --sensitivity``)."""

from __future__ import annotations

__all__ = ["sensitivity_lines"]


def _num(x) -> str:
    return "n/a" if x is None else f"{x:.6g}"


def sensitivity_lines(result) -> list[str]:
    """One line per parameter: theta [unit], dE_max/dtheta, the elasticity theta dE_max/dtheta / E_max,
    dtau_c/dtheta, dP_max/dtheta (units: the figure's unit per the parameter's unit)."""
    if not result.sensitivities:
        return []
    u = result.units
    head = (f"  sensitivities (d figure / d theta; units: [{u.energy}], [{u.time}], [{u.power}] per unit of theta)",
            f"  {'theta':<22} {'value':>12} {'dE_max':>13} {'theta dE_max/E_max':>19} {'dtau_c':>13} "
            f"{'dP_max':>13}")
    lines = list(head)
    for name, rec in result.sensitivities.items():
        value = f"{rec['value']:.6g}" + (f" {rec['unit']}" if rec.get("unit") else "")
        lines.append(f"  {name:<22} {value:>12} {_num(rec['energy_max']):>13} "
                     f"{_num(rec['normalised_energy_max']):>19} {_num(rec['tau_c']):>13} {_num(rec['power_max']):>13}")
    return lines
