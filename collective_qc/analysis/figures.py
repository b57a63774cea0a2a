"""The one table of figure-of-merit and Gamma names, used by compare, study tables, plots and the CLI.

Figures of merit of a run (totals; source paper Eqs. 22, 24, 25 for the two-level case):
``tau_c`` (first maximum of E(t)), ``energy_max`` = E(tau_c), ``power_max`` = max_t P(t),
``average_power_max`` = max_t E(t)/t, ``capacitance_at_tau_c`` = C_Q(tau_c).
Per-site columns divide by N (``tau_c`` has no per-site version).

Collective-advantage ratios against N copies of the single-site version:
Gamma_X = X(N) / (N X(1)), except Gamma_tau = tau_c(1) / tau_c(N).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FIGURES", "PER_SITE", "FIG_COLS", "Gamma", "GAMMAS", "GAMMA_COLS", "GAMMA_OF"]

FIGURES = ("tau_c", "energy_max", "power_max", "average_power_max", "capacitance_at_tau_c")
PER_SITE = {fig: f"{fig}_per_site" for fig in FIGURES if fig != "tau_c"}  # figure -> per-site column
FIG_COLS = ("tau_c", *PER_SITE.values())


@dataclass(frozen=True)
class Gamma:
    """One advantage ratio: its column key, the figure it compares, and labels."""

    key: str
    figure: str
    inverse: bool  # Gamma = X(1) / X(N) (a time: shorter is better) instead of X(N) / (N X(1))
    short: str  # table header
    tex: str  # plot label


GAMMAS = (
    Gamma("gamma_power", "power_max", False, "G_P", r"$\Gamma_P$"),
    Gamma("gamma_tau", "tau_c", True, "G_tau", r"$\Gamma_\tau$"),
    Gamma("gamma_capacitance", "capacitance_at_tau_c", False, "G_C", r"$\Gamma_C$"),
    Gamma("gamma_energy", "energy_max", False, "G_E", r"$\Gamma_E$"),
    Gamma("gamma_average_power", "average_power_max", False, "G_avgP", r"$\Gamma_{\langle P\rangle}$"),
)
GAMMA_COLS = tuple(g.key for g in GAMMAS)
GAMMA_OF = {g.key: (g.figure, g.inverse) for g in GAMMAS}  # key -> (figure, inverse ratio?)
