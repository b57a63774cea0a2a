"""Fock-cutoff checks of runs with boson modes: sampled photon numbers and top-level populations.

Every run of a model with a cavity samples, per mode, its photon number and the population of
its two top Fock levels; the verdict says whether the truncation n_max is converged (or exact
by conservation of the excitation number). ``charge()`` doubles an automatic cutoff while it
is not converged (:meth:`collective_qc.Model.refine_cutoff`); the passes are kept in
``metadata["cutoff_history"]`` and reported in one line per mode (:func:`cutoff_lines`), and a
study or comparison says in one line which runs needed them (:func:`refinement_note`), instead of
one line per pass.
"""

from __future__ import annotations

import numpy as np

from ..physics.operators import conserves
from .sectors import excitation_number

__all__ = ["CUTOFF_TOLERANCE", "diagonal_observables", "cutoff_report", "warn_cutoff", "cutoff_lines",
           "refinement_note"]

CUTOFF_TOLERANCE = 1e-6  # largest tolerated population of the two top Fock levels


def diagonal_observables(ops):
    """Names and (n_obs, dim) diagonals sampled in every run: per mode, its photon number
    and the population of its two top Fock levels (the cutoff check)."""
    names, rows = [], []
    for occ, m in zip(ops.mode_occupation, ops.model_graph.modes, strict=True):
        names += [f"photons[{m.node}]", f"top_fock_population[{m.node}]"]
        rows += [occ, (occ >= m.n_max - 1 - 1e-9).astype(float)]
    return names, (np.array(rows) if rows else None)


def cutoff_report(ops, init, observables, errors):
    """Per mode: n_max, the largest top-level population over the run, and a verdict.

    When H_0 and V conserve the excitation number N_exc (rotating-wave couplings), no mode
    can hold more than max N_exc of the initial state photons; a cutoff at or above it is
    exact, whatever the top-level population.
    """
    if not ops.model_graph.modes:
        return None
    nexc = excitation_number(ops)
    bound = None
    if conserves(nexc, ops.H0, ops.V):
        support = np.any(np.abs(init.vectors) > 1e-14, axis=1)
        bound = float(np.max(nexc[support]))
    report = {}
    for m in ops.model_graph.modes:
        key = f"top_fock_population[{m.node}]"
        top = observables[key]
        worst = float(np.max(top))
        if errors is not None:  # trajectories: allow for the sampling error
            worst = float(np.max(top + 2.0 * errors[key]))
        exact = bound is not None and m.n_max >= bound - 1e-9
        ok = exact or worst <= CUTOFF_TOLERANCE
        report[str(m.node)] = {"n_max": m.n_max, "top_population_max": worst, "tolerance": CUTOFF_TOLERANCE,
                               "converged": ok, "exact_by_conservation": exact}
    return report


def warn_cutoff(report):
    import warnings

    for node, r in (report or {}).items():
        if not r["converged"]:
            warnings.warn(f"boson mode {node!r}: the two top Fock levels (n_max = {r['n_max']}) reach a "
                          f"population of {r['top_population_max']:.2e} > {CUTOFF_TOLERANCE:g}; raise n_max",
                          stacklevel=3)


def _verdict(rep: dict) -> str:
    if rep.get("exact_by_conservation"):
        return "exact: excitation number conserved"
    return "converged" if rep["converged"] else "NOT converged: raise n_max"


def cutoff_lines(report: dict | None, history: list | None = None) -> list[str]:
    """One summary line per boson mode: final n_max, how it was reached, top-level population, verdict.

    Parameters
    ----------
    report : dict
        ``metadata["cutoff"]`` (:func:`cutoff_report`): mode -> n_max, top_population_max, verdict.
    history : list of dict, optional
        ``metadata["cutoff_history"]``: the n_max of each pass that was not converged, mode -> n_max.
    """
    lines = []
    for node, rep in (report or {}).items():
        first = [h[node] for h in history or () if node in h]
        how = f" (automatic: doubled {len(first)}x from {first[0]})" if first else ""
        lines.append(f"n_max = {rep['n_max']}{how}, top-level population <= {rep['top_population_max']:.2e} "
                     f"({_verdict(rep)})")
    return [f"cutoff [{node}]    {line}" for node, line in zip(report or {}, lines)]


def refinement_note(runs: dict) -> str | None:
    """One line for many runs (a study, a comparison) whose automatic Fock cutoff was doubled.

    Parameters
    ----------
    runs : dict
        Run label (``N16``) -> its metadata (``cutoff``, ``cutoff_history``).

    Returns
    -------
    str or None
        E.g. "automatic Fock cutoff doubled until converged at 6 of 7 runs: N2 1x (n_max 32), ...;
        passes in metadata['cutoff_history']"; None when no run needed it.
    """
    done = []
    for label, meta in runs.items():
        hist = (meta or {}).get("cutoff_history") or []
        if hist:
            final = ", ".join(str(r["n_max"]) for r in ((meta or {}).get("cutoff") or {}).values())
            done.append(f"{label} {len(hist)}x (n_max {final})")
    if not done:
        return None
    bad = [lab for lab, meta in runs.items() if any(not r["converged"] for r in ((meta or {}).get("cutoff") or {})
                                                    .values())]
    tail = f"; NOT converged at {', '.join(bad)} (raise n_max)" if bad else ""
    return (f"automatic Fock cutoff doubled at {len(done)} of {len(runs)} runs: {', '.join(done)}{tail}; "
            "passes in metadata['cutoff_history']")
