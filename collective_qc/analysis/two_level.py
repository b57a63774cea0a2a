r"""The single two-level quantum capacitor: the paper's closed forms.

H = (omega0/2) sigma_z + Omega sigma_x, rho(0) = |g><g|, as in S. Haddadi, "Quantum Capacitor:
A Coherence-Based Quantum Energy Storage Device" (2026), Secs. II-V. hbar = 1; energies and
rates in units of omega0 when omega0 = 1, times in 1/omega0.

Exact closed forms (paper equation numbers in brackets):

- Omega_R = sqrt(Omega^2 + omega0^2/4)                           [Eq. 7]
- E(t)   = omega0 (Omega/Omega_R)^2 sin^2(Omega_R t)              [Eq. 10]
- C_Q(t) = dE/dOmega                                              [Eq. 14]
- P(t)   = omega0 (Omega^2/Omega_R) sin(2 Omega_R t)              [Eq. 21]
- P_max  = omega0 Omega^2/Omega_R                                 [Eq. 22]
- E_max  = omega0 Omega^2/Omega_R^2                               [Eq. 24]
- tau_c  = pi/(2 Omega_R)                                         [Eq. 25]
- C_Q*   = C_Q(tau_c) = omega0^3 Omega / (2 Omega_R^4)

Weak-drive (Omega << omega0) and strong-drive (Omega >> omega0) limits are
separate, clearly named functions (Eqs. 16-18, 26-27).

The open-system formulas at the bottom are the *paper's approximations*
(Eqs. 31-36, valid for gamma t << 1) and the exact Bloch-equation steady state;
the exact open dynamics come from :mod:`collective_qc.solvers.lindblad`.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "rabi_frequency",
    "energy",
    "capacitance",
    "power",
    "power_max",
    "energy_max",
    "charging_time",
    "capacitance_at_tau_c",
    "max_average_power",
    "weak_drive_rabi_frequency",
    "weak_drive_energy",
    "weak_drive_capacitance",
    "weak_drive_charging_time",
    "strong_drive_charging_time",
    "approx_dephased_energy",
    "approx_dephased_capacitance",
    "approx_dephased_power",
    "steady_state_energy",
]


def rabi_frequency(drive, omega0=1.0):
    """Generalised Rabi frequency Omega_R = sqrt(Omega^2 + omega0^2/4) (Eq. 7)."""
    drive = np.asarray(drive, dtype=float)
    return np.sqrt(drive**2 + 0.25 * omega0**2)


def energy(t, drive, omega0=1.0):
    """Stored energy E(t) = omega0 (Omega/Omega_R)^2 sin^2(Omega_R t) (Eq. 10).

    Parameters
    ----------
    t : float or array
        Time (units of 1/omega0 when omega0 = 1).
    drive : float
        Drive amplitude Omega (energy units).
    omega0 : float
        Level splitting.
    """
    t = np.asarray(t, dtype=float)
    wr = rabi_frequency(drive, omega0)
    return omega0 * (drive / wr) ** 2 * np.sin(wr * t) ** 2


def capacitance(t, drive, omega0=1.0):
    """Quantum capacitance C_Q(t) = dE/dOmega (Eq. 14).

    C_Q = omega0 2 Omega (Omega_R^2 - Omega^2)/Omega_R^4 sin^2(Omega_R t)
          + omega0 Omega^3 t / Omega_R^3 sin(2 Omega_R t).
    """
    t = np.asarray(t, dtype=float)
    wr = rabi_frequency(drive, omega0)
    term1 = omega0 * 2.0 * drive * (wr**2 - drive**2) / wr**4 * np.sin(wr * t) ** 2
    term2 = omega0 * drive**3 * t / wr**3 * np.sin(2.0 * wr * t)
    return term1 + term2


def power(t, drive, omega0=1.0):
    """Charging power P(t) = dE/dt = omega0 (Omega^2/Omega_R) sin(2 Omega_R t) (Eq. 21)."""
    t = np.asarray(t, dtype=float)
    wr = rabi_frequency(drive, omega0)
    return omega0 * drive**2 / wr * np.sin(2.0 * wr * t)


def power_max(drive, omega0=1.0):
    """Maximum power P_max = omega0 Omega^2 / Omega_R (Eq. 22)."""
    return omega0 * drive**2 / rabi_frequency(drive, omega0)


def energy_max(drive, omega0=1.0):
    """Maximum stored energy E_max = omega0 Omega^2 / Omega_R^2 (Eq. 24)."""
    return omega0 * drive**2 / rabi_frequency(drive, omega0) ** 2


def charging_time(drive, omega0=1.0):
    """Charging time tau_c = pi / (2 Omega_R) (Eq. 25)."""
    return np.pi / (2.0 * rabi_frequency(drive, omega0))


def capacitance_at_tau_c(drive, omega0=1.0):
    """C_Q* = C_Q(tau_c) = omega0^3 Omega / (2 Omega_R^4) (from Eqs. 14 and 25).

    At tau_c, dE/dt = 0, so C_Q(tau_c) = d E_max / d Omega.
    """
    return omega0**3 * drive / (2.0 * rabi_frequency(drive, omega0) ** 4)


def max_average_power(drive, omega0=1.0):
    """max_t E(t)/t for the two-level capacitor (numerical maximisation of Eq. 10 / t).

    E(t)/t = A sin^2(x)/t with x = Omega_R t: maximal where tan(x) = 2x, x* = 1.16556...
    """
    x_star = 1.1655611852072113  # root of tan(x) = 2x in (0, pi/2)
    wr = rabi_frequency(drive, omega0)
    return omega0 * (drive / wr) ** 2 * np.sin(x_star) ** 2 * wr / x_star


# ---- limiting forms ----------------------------------------------------------


def weak_drive_rabi_frequency(drive, omega0=1.0):
    """Weak drive Omega << omega0: Omega_R ~ omega0/2 (Eq. 16)."""
    return 0.5 * omega0 + 0.0 * np.asarray(drive, dtype=float)


def weak_drive_energy(t, drive, omega0=1.0):
    """Weak drive: E(t) ~ (4 Omega^2/omega0) sin^2(omega0 t/2) (Eq. 17)."""
    t = np.asarray(t, dtype=float)
    return 4.0 * drive**2 / omega0 * np.sin(0.5 * omega0 * t) ** 2


def weak_drive_capacitance(t, drive, omega0=1.0):
    """Weak drive: C_Q(t) ~ (8 Omega/omega0) sin^2(omega0 t/2) (Eq. 18)."""
    t = np.asarray(t, dtype=float)
    return 8.0 * drive / omega0 * np.sin(0.5 * omega0 * t) ** 2


def weak_drive_charging_time(drive, omega0=1.0):
    """Weak drive: tau_c ~ pi/omega0 (Eq. 26)."""
    return np.pi / omega0 + 0.0 * np.asarray(drive, dtype=float)


def strong_drive_charging_time(drive, omega0=1.0):
    """Strong drive Omega >> omega0: tau_c ~ pi/(2 Omega) (Eq. 27)."""
    return np.pi / (2.0 * np.asarray(drive, dtype=float))


# ---- open system: the paper's approximations (labelled) and exact limits -----


def approx_dephased_energy(t, drive, gamma, omega0=1.0):
    """APPROXIMATION (paper Eq. 32): E_gamma(t) ~ E(t) exp(-2 gamma t).

    Valid only for gamma t << 1. The exact dephased dynamics heat the capacitor
    to E -> omega0/2 (steady state I/2), see :func:`steady_state_energy`.
    """
    t = np.asarray(t, dtype=float)
    return energy(t, drive, omega0) * np.exp(-2.0 * gamma * t)


def approx_dephased_capacitance(t, drive, gamma, omega0=1.0):
    """APPROXIMATION (paper Eq. 34): C_Q^gamma(t) ~ C_Q(t) exp(-2 gamma t), gamma t << 1."""
    t = np.asarray(t, dtype=float)
    return capacitance(t, drive, omega0) * np.exp(-2.0 * gamma * t)


def approx_dephased_power(t, drive, gamma, omega0=1.0):
    """APPROXIMATION (paper Eq. 36): P_gamma = e^{-2 gamma t}(dE/dt - 2 gamma E), gamma t << 1."""
    t = np.asarray(t, dtype=float)
    damp = np.exp(-2.0 * gamma * t)
    return damp * (power(t, drive, omega0) - 2.0 * gamma * energy(t, drive, omega0))


def steady_state_energy(drive, gamma=0.0, kappa=0.0, omega0=1.0):
    """Exact steady-state stored energy of the driven, damped two-level capacitor.

    Lindblad operators sqrt(gamma) sigma_z and sqrt(kappa) sigma_- (paper Eqs. 29, 38).
    With G1 = kappa, G2 = 2 gamma + kappa/2 and s = 4 Omega^2 G2 / (G1 (omega0^2 + G2^2)):
    E_ss = omega0 s / (2 (1 + s)). Dephasing alone (kappa = 0, gamma > 0): E_ss = omega0/2.
    """
    if kappa == 0.0:
        if gamma > 0.0 and drive != 0.0:
            return 0.5 * omega0
        raise ValueError("steady state is not unique without dissipation (gamma = kappa = 0)")
    g1 = kappa
    g2 = 2.0 * gamma + 0.5 * kappa
    s = 4.0 * drive**2 * g2 / (g1 * (omega0**2 + g2**2))
    return omega0 * s / (2.0 * (1.0 + s))
