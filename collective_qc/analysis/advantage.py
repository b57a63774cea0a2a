"""Collective-advantage ratios against N independent single sites.

Gamma_P = P_max(N) / (N P_max(1)),  Gamma_tau = tau_c(1) / tau_c(N),
Gamma_C = C_Q*(N) / (N C_Q*(1)),    Gamma_E = E_max(N) / (N E_max(1)),
and Gamma_avgP with the average-power convention max_t E(t)/t.

A Gamma is not a result (None, with its reason under ``"undefined"``) when either figure is not
one, the denominator is zero or the two have opposite signs (:mod:`collective_qc.analysis.verdict`).
"""

from __future__ import annotations

from .figures import GAMMAS
from .verdict import ratio

__all__ = ["gammas"]


def gammas(res_n, res_1, why_n: dict | None = None, why_1: dict | None = None) -> dict:
    """Advantage ratios of an N-site run over its single-site run (same drive, noise, protocol).

    Parameters
    ----------
    res_n, res_1 : ChargeResult (or any object with ``n_sites`` and the figures of merit)
        The N-site run and its single-site baseline.
    why_n, why_1 : dict, optional
        {figure: reason} of the figures that are not results (:func:`collective_qc.analysis.verdict.figure_reasons`).

    Returns
    -------
    dict
        ``n_sites``, every Gamma key (dimensionless; None when not a result) and ``undefined``:
        {Gamma key: reason} for the Gammas that are None.
    """
    n = res_n.n_sites / res_1.n_sites
    why_n, why_1 = why_n or {}, why_1 or {}
    out, undefined = {"n_sites": res_n.n_sites}, {}
    for g in GAMMAS:
        a, b = getattr(res_n, g.figure), getattr(res_1, g.figure)
        wa = why_n.get(g.figure) and f"N-site run: {why_n[g.figure]}"
        wb = why_1.get(g.figure) and f"single-site run: {why_1[g.figure]}"
        if g.inverse:  # a time: Gamma = X(1) / X(N)
            value, why = ratio(b, a, wb, wa)
        else:
            value, why = ratio(a, None if b is None else n * b, wa, wb)
        out[g.key] = value
        if why:
            undefined[g.key] = why
    out["undefined"] = undefined
    return out
