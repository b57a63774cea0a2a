"""The one rule deciding whether a derived number is a result.

A figure of merit or a ratio built from figures is **not a result** (reported as undefined,
with the reason, in the terminal, JSON, CSV and plots alike) when

- the run is NOT CHARGED: E(t) stays at round-off level (``metadata["undefined"]``, set by
  :func:`collective_qc.analysis.merit.roundoff_reason`): every figure, P_max and max E/t included;
- a trajectory average E(t) is INDISTINGUISHABLE FROM ZERO (NOISE): |E| <= 3 standard errors at
  every sample, so its maximum, slope and timing are those of the noise
  (e.g. a state at infinite temperature, which a unitary charger cannot charge on average):
  every figure;
- the run DISCHARGES: E(t) < 0 at every sample after t = 0 (the initial state lies above what the
  charger leaves, e.g. ``initial="product"`` with omega < 0): every figure;
- E(t) has no maximum in the time window: tau_c, E_max, C_Q*;
- C_Q* is round-off against the run's capacitance scale
  (:func:`collective_qc.analysis.merit.capacitance_roundoff_reason`);
- it is unresolved trajectory noise: some jackknife replicate cannot determine it (infinite
  standard error);
- for a ratio Gamma: either side is not a result, the denominator is zero, or numerator and
  denominator have opposite signs (the sign of such a ratio says nothing about an advantage).

:func:`figure_reasons` gives the reasons of one run's figures, :func:`ratio` the value-or-reason
of one Gamma; ``ChargeResult.undefined``, ``compare`` rows (key ``undefined``), study tables and
plots all take them from here.
"""

from __future__ import annotations

import math

import numpy as np

from .figures import FIGURES

__all__ = ["figure_reasons", "ratio", "unresolved", "within_noise", "discharges", "DISCHARGES", "NOT_CHARGED",
           "NO_MAXIMUM", "UNRESOLVED", "NOISE"]

NOT_CHARGED = "NOT CHARGED: E(t) stays at round-off level (the charger does not charge this state)"
NO_MAXIMUM = "no maximum of E(t) in the time window; extend t_max"
UNRESOLVED = "unresolved (trajectory noise): some jackknife replicates cannot determine it"
DISCHARGES = ("DISCHARGES: E(t) < 0 at every sample after t = 0 (the initial state holds more energy than the "
              "charger leaves; e.g. the top state of H_B), so no charging figure is a result")
NOISE_SIGMAS = 3.0
NOISE = (f"NOISE: E(t) is indistinguishable from zero: |E| <= {NOISE_SIGMAS:g} standard errors at every sample (the "
         "figures would be those of the sampling noise; more trajectories resolve it)")
_AT_TAU = ("tau_c", "energy_max", "capacitance_at_tau_c")


def figure_reasons(res, errors: dict | None = None) -> dict:
    """{figure: reason} for each figure of merit of `res` (a ChargeResult) that is not a result.

    Parameters
    ----------
    res : ChargeResult
    errors : dict, optional
        The run's figure standard errors (:meth:`ChargeResult.figure_errors`); computed here for
        trajectory runs when not given.
    """
    if (getattr(res, "metadata", None) or {}).get("undefined"):
        return {fig: NOT_CHARGED for fig in FIGURES}
    if within_noise(res):
        return {fig: NOISE for fig in FIGURES}
    if discharges(res):
        return {fig: DISCHARGES for fig in FIGURES}
    from .merit import capacitance_roundoff_reason

    reasons = {}
    if res.tau_c is None:
        reasons.update({fig: NO_MAXIMUM for fig in _AT_TAU})
    else:
        why = capacitance_roundoff_reason(res.capacitance_at_tau_c, res.capacitance)
        if why:
            reasons["capacitance_at_tau_c"] = why
    if errors is None and getattr(res, "energy_stderr", None) is not None:
        errors = res.figure_errors()
    for fig in FIGURES:
        if fig not in reasons and unresolved((errors or {}).get(fig)):
            reasons[fig] = UNRESOLVED
    return reasons


def within_noise(res) -> bool:
    """True when `res` is a trajectory average (standard errors of E(t), not a disorder ensemble,
    whose spread is that of realisations which may each charge) and |E| <= NOISE_SIGMAS x stderr
    at every sample: the mean curve does not leave its own noise band."""
    err = getattr(res, "energy_stderr", None)
    if err is None or getattr(res, "realisations", None) is not None:
        return False  # a disorder ensemble's spread is the realisations' own (each may charge): not noise
    e, err = np.asarray(res.energy, dtype=float), np.asarray(err, dtype=float)
    return bool(e.size) and bool(np.all(np.abs(e) <= NOISE_SIGMAS * err))


def discharges(res) -> bool:
    """True when E(t) < 0 at every sample after t = 0: the run only takes energy out of the battery."""
    e = np.asarray(res.energy, dtype=float)
    return e.size > 1 and bool(np.all(e[1:] < 0))


def unresolved(err) -> bool:
    """True for an infinite (or NaN) standard error: the noise does not determine the value."""
    return err is not None and not math.isfinite(err)


def ratio(a, b, why_a: str | None = None, why_b: str | None = None) -> tuple[float | None, str | None]:
    """(a / b, None), or (None, reason) when a / b is not a result.

    `why_a`, `why_b`: why the numerator / denominator is not a result (from :func:`figure_reasons`,
    naming the run), or None.
    """
    if why_a or why_b:
        return None, "; ".join(w for w in (why_a, why_b) if w)
    if a is None or b is None:
        return None, "an input is undefined"
    if b == 0:
        return None, "zero denominator"
    if a * b < 0:
        return None, f"opposite signs: not a ratio of like quantities (numerator {a:.3g}, denominator {b:.3g})"
    return a / b, None
