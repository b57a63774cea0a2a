"""Collective-advantage ratios against N independent single sites.

Gamma_P = P_max(N) / (N P_max(1)),  Gamma_tau = tau_c(1) / tau_c(N),
Gamma_C = C_Q*(N) / (N C_Q*(1)),    Gamma_E = E_max(N) / (N E_max(1)),
and Gamma_avgP with the average-power convention max_t E(t)/t.
"""

from __future__ import annotations

from .results import ChargeResult

__all__ = ["gammas"]


def _ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def gammas(res_n: ChargeResult, res_1: ChargeResult) -> dict:
    """Advantage ratios of an N-site run over its single-site run (same drive, noise, protocol)."""
    n = res_n.n_sites / res_1.n_sites
    return {
        "n_sites": res_n.n_sites,
        "gamma_power": _ratio(res_n.power_max, n * res_1.power_max),
        "gamma_tau": _ratio(res_1.tau_c, res_n.tau_c),
        "gamma_capacitance": _ratio(res_n.capacitance_at_tau_c, None if res_1.capacitance_at_tau_c is None
                                    else n * res_1.capacitance_at_tau_c),
        "gamma_energy": _ratio(res_n.energy_max, None if res_1.energy_max is None else n * res_1.energy_max),
        "gamma_average_power": _ratio(res_n.average_power_max, n * res_1.average_power_max),
    }
