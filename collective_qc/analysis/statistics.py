"""Statistics of charging runs: standard errors of the figures of merit and of the Gammas, and
the rows of a comparison (an N-site run against its single-site baseline).

Trajectory runs keep E, P, C_Q averaged without each group of trajectories (``res.jackknife``);
:func:`figure_errors` takes the delete-one-group jackknife errors of the figures from them, and
:func:`make_row` the errors of every Gamma from paired groups of the two runs. A figure or Gamma
that is not a result (:mod:`collective_qc.analysis.verdict`) is None, with its reason in
``row["undefined"]``; :func:`check_bounds` marks a row whose closed run breaks its speed limit
(:mod:`collective_qc.analysis.bounds`) as failed.

This module sits with the results it describes (:mod:`collective_qc.analysis.results`) and imports no
workflow: :func:`collective_qc.compare.compare` and the study tables call it.
"""

from __future__ import annotations

import math
import warnings
from types import SimpleNamespace

import numpy as np

from .advantage import gammas
from .bounds import RATIO_TOLERANCE
from .figures import FIGURES, GAMMA_OF
from .merit import figures_of_merit
from .verdict import UNRESOLVED, figure_reasons, unresolved

__all__ = ["figure_errors", "make_row", "check_bounds"]


def figure_errors(res) -> dict:
    """Standard errors of the figures of merit of a trajectory run (zeros for exact runs).

    From the run's jackknife curves (E, P, C without one group of trajectories): each figure is
    computed again from every set of curves and its delete-one-group jackknife error taken, so
    that the spread of tau_c (a root of the noisy P) and what it carries into C_Q(tau_c) are
    included. A figure that some replicate cannot determine (no maximum of E) gets an infinite
    error. Results without jackknife curves (studies stored by an earlier version) get the first-
    order errors at fixed times of :func:`_pointwise_errors`.

    Parameters
    ----------
    res : ChargeResult
        One run (:class:`collective_qc.analysis.results.ChargeResult`).

    Returns
    -------
    dict
        figure -> standard error in the figure's unit (:mod:`collective_qc.core.units`); None where the
        figure itself is None, infinite where some replicate cannot determine it.
    """
    if res.energy_stderr is None:
        return {k: 0.0 for k in FIGURES}
    if res.jackknife is None:
        return _pointwise_errors(res)
    reps = _replicates(res)
    return {key: _jackknife_error(getattr(res, key), [getattr(m, key) for m in reps]) for key in FIGURES}


def _replicates(res) -> list:
    """The figures of merit of each jackknife replicate of a trajectory run (``res.jackknife``),
    with the run's n_sites (so that :func:`collective_qc.analysis.advantage.gammas` takes them)."""
    return [SimpleNamespace(n_sites=res.n_sites, **figures_of_merit(res.times, *curves).as_dict())
            for curves in np.transpose(res.jackknife, (1, 0, 2))]


def _jackknife_error(value, reps) -> float | None:
    """Delete-one-group jackknife error of `value` from its replicates: None when the value itself
    is undefined, infinite when some replicate is."""
    if value is None:
        return None
    if any(x is None for x in reps):
        return math.inf
    xs = np.array(reps, dtype=float)
    g = len(xs)
    return float(np.sqrt((g - 1) / g * np.sum((xs - xs.mean()) ** 2)))


def _pointwise_errors(res) -> dict:
    """First-order errors at fixed times (E_max, C_Q*: the errors of E, C_Q at tau_c; P_max and
    max E/t: at their sample; tau_c: delta P(tau_c) / |dP/dt|). They leave out the spread of tau_c
    in C_Q(tau_c) (measured 1.5-4x too small against independent runs)."""
    t = res.times
    out = {"power_max": float(res.power_stderr[int(np.argmax(res.power))])}
    with np.errstate(divide="ignore", invalid="ignore"):
        avg = np.where(t > 0, res.energy / np.where(t > 0, t, 1.0), -np.inf)
    k = int(np.argmax(avg))
    out["average_power_max"] = float(res.energy_stderr[k] / t[k]) if t[k] > 0 else 0.0
    if res.tau_c is None:
        out.update(tau_c=None, energy_max=None, capacitance_at_tau_c=None)
        return out
    tau = res.tau_c
    out["energy_max"] = _interp(t, res.energy_stderr, tau)
    out["capacitance_at_tau_c"] = _interp(t, res.capacitance_stderr, tau)
    dp = np.gradient(res.power, t)
    slope = abs(_interp(t, dp, tau))
    out["tau_c"] = _interp(t, res.power_stderr, tau) / slope if slope > 0 else math.inf
    return out


def _interp(t, y, x):
    return float(np.interp(x, t, y))


def _gamma_errors(row_gamma: dict, res_n, err_n, res_1, err_1) -> dict:
    """Errors of the Gammas. With jackknife curves of equal group count in both runs, group g of
    one run is paired with group g of the other and every Gamma recomputed from each pair: this
    keeps the correlation of the two runs (the same seed gives both the same trajectory streams;
    measured 0.2-0.4 between their figures). Otherwise both errors are combined as independent."""
    if (res_n.jackknife is not None and res_1.jackknife is not None
            and res_n.jackknife.shape[1] == res_1.jackknife.shape[1]):
        reps = [gammas(a, b) for a, b in zip(_replicates(res_n), _replicates(res_1))]
        return {key + "_stderr": _jackknife_error(row_gamma.get(key), [r[key] for r in reps]) for key in GAMMA_OF}
    out = {}
    for key, (fig, _inverse) in GAMMA_OF.items():
        g = row_gamma.get(key)
        a, b = getattr(res_n, fig), getattr(res_1, fig)
        ea, eb = err_n.get(fig), err_1.get(fig)
        if g is None or ea is None or eb is None or not a or not b:
            out[key + "_stderr"] = None
            continue
        out[key + "_stderr"] = abs(g) * math.hypot(ea / a, eb / b)
    return out


def make_row(res_n, res_1) -> dict:
    """One comparison row from an N-site run and its single-site baseline run.

    Figures (totals and ``*_per_site``) and Gammas that are not results are None, with their
    reasons under ``row["undefined"]`` ({column: reason}; :mod:`collective_qc.analysis.verdict`).

    Parameters
    ----------
    res_n, res_1 : ChargeResult
        The N-site run and its single-site baseline (the same object for the baseline's own row,
        whose Gammas are then 1 with error 0).
    """
    n = res_n.n_sites
    traj = res_n.energy_stderr is not None or res_1.energy_stderr is not None
    err_n, err_1 = (figure_errors(res_n), figure_errors(res_1)) if traj else ({}, {})
    why_n, why_1 = figure_reasons(res_n, err_n), figure_reasons(res_1, err_1)
    row, undefined = {"n_sites": n, "method": res_n.method}, {}
    for fig in FIGURES:
        val = None if fig in why_n else getattr(res_n, fig)
        row[fig] = val
        cols = (fig,) if fig == "tau_c" else (fig, fig + "_per_site")
        if fig != "tau_c":
            row[fig + "_per_site"] = None if val is None else val / n
        undefined.update({c: why_n[fig] for c in cols if fig in why_n})
    gam = gammas(res_n, res_1, why_n, why_1)
    undefined.update(gam.pop("undefined"))
    row.update(gam)
    row["n_sites"] = n
    row["undefined"] = undefined
    if traj:
        _row_errors(row, res_n, err_n, res_1, err_1)
    return row


def _row_errors(row: dict, res_n, err_n, res_1, err_1) -> None:
    """Standard errors of a trajectory row's figures and Gammas (None where the value is None); a
    Gamma whose replicates cannot all determine it (infinite error) becomes undefined."""
    n = res_n.n_sites
    for fig in FIGURES:
        e = err_n.get(fig) if row[fig] is not None else None
        row[fig + "_stderr"] = e
        if fig != "tau_c":
            row[fig + "_per_site_stderr"] = None if e is None else e / n
    if res_n is res_1:  # the baseline itself: Gamma = 1 exactly
        errs = {key + "_stderr": 0.0 for key in GAMMA_OF}
    else:
        errs = _gamma_errors(row, res_n, err_n, res_1, err_1)
    for key in GAMMA_OF:
        e = errs.get(key + "_stderr")
        if row.get(key) is not None and unresolved(e):
            row[key], e = None, None
            row["undefined"][key] = UNRESOLVED
        row[key + "_stderr"] = e if row.get(key) is not None else None


def check_bounds(row: dict, res_n, res_1) -> dict:
    """Mark a row as failed when its closed run breaks the speed limit or Gamma_P exceeds its bound.

    Gamma_P <= P_bound(N) / (N P_max(1)), P_bound = |lambda| max|f| spread(V) spread(H_B) / 2
    (:mod:`collective_qc.analysis.bounds`; for N free spin-1/2 sites, norm-matched, battery off while
    charging, this is N: Gyhm, Safranek and Rosa, PRL 128, 140501 (2022)).
    """
    sl = res_n.metadata.get("speed_limit") or {}
    if not sl.get("computed"):
        return row
    n = res_n.n_sites / res_1.n_sites
    bound = sl["power_bound"] / (n * res_1.power_max) if res_1.power_max > 0 and not res_1.not_charged else None
    row["gamma_power_bound"] = bound
    failures = []
    if not sl.get("holds", True):
        failures.append("speed limit |P| <= 2 Delta H_B Delta H violated in the run")
    g = row.get("gamma_power")
    if g is not None and bound is not None and g > bound * (1.0 + RATIO_TOLERANCE):
        failures.append(f"Gamma_P = {g:.10g} exceeds its bound {bound:.10g}")
    if failures:
        row["failed"] = "; ".join(failures)
        row["gamma_power_failed"], row["gamma_power"] = g, None
        row.setdefault("undefined", {})["gamma_power"] = f"failed run: {row['failed']}"
        warnings.warn(f"compare N = {res_n.n_sites}: {row['failed']} (a failed run, not a result)", stacklevel=3)
    return row
