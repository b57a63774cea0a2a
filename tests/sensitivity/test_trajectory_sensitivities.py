"""Trajectory sensitivities (unbiased estimators with standard errors, :mod:`collective_qc.sensitivity.trajectory`):
against central finite differences of the same estimator ensemble with the same seed (common random
numbers), per trajectory, within 4 standard errors of the difference; against the exact solver's
sensitivities within 4 standard errors; the seeded run itself unchanged by asking for sensitivities."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.api import charging_options, check_charge
from collective_qc.sensitivity import resolve_names
from collective_qc.sensitivity.trajectory import _Measure, propagate_ensemble
from collective_qc.sensitivity.trajectory_ops import prepare_trajectory

RUN = dict(drive=0.5, t_max=2.0, n_times=11, dephasing=0.1, relaxation=0.05)
NTRAJ, SEED = 200, 4


def _ensemble(names, ntraj=NTRAJ, seed=SEED, params=None, **over):
    """Per-trajectory E (ntraj, n_t) and the estimators' dE (K, ntraj, n_t) of the sensitivity ensemble."""
    kw = {**RUN, "params": {"N": 3, "J": 0.3, **(params or {})}, **over}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = check_charge("xxz-ring", method="trajectories", ntraj=ntraj, seed=seed, **kw)
        prep = prepare_trajectory(plan, charging_options(kw), resolve_names(names, plan))
    m = _Measure(prep)
    propagate_ensemble(prep, plan.times, ntraj, seed, (), m)
    times = [float(t) for t in plan.times]
    E = np.stack([m.out[t]["E"] for t in times], -1)
    dE = np.stack([m.out[t]["dE"] for t in times], -1) if names else None
    return E, dE


FD_CASES = [  # (name, run options at theta (value v), theta, step)
    ("J", lambda v: {"params": {"J": v}}, 0.3, 0.02),
    ("drive", lambda v: {"drive": v}, 0.5, 0.02),
    ("dephasing", lambda v: {"dephasing": v}, 0.1, 0.005),
    ("protocol.sigma", lambda v: {"protocol": f"gauss:1.0,{v!r}"}, 0.5, 0.01),
]


@pytest.mark.parametrize("case", FD_CASES, ids=[c[0] for c in FD_CASES])
def test_estimator_matches_central_differences_of_the_same_ensemble(case):
    """Fourth-order central differences (8 (E(h) - E(-h)) - (E(2h) - E(-2h))) / 12h per trajectory."""
    name, at, theta, h = case
    base = {"protocol": "gauss:1.0,0.5"} if name == "protocol.sigma" else {}
    _, dE = _ensemble([name], **{**base, **at(theta)})
    E = {s: _ensemble([], **{**base, **at(theta + s * h)})[0] for s in (-2, -1, 1, 2)}
    fd = (8 * (E[1] - E[-1]) - (E[2] - E[-2])) / (12 * h)
    diff = dE[0] - fd  # per trajectory: common random numbers
    mean, err = diff.mean(0)[1:], diff.std(0, ddof=1)[1:] / np.sqrt(NTRAJ)
    scale = np.max(np.abs(dE[0].mean(0)))
    assert np.all(np.abs(mean) <= 4 * err + 1e-6 * scale), (name, np.max(np.abs(mean) / err))
    own = dE[0].std(0, ddof=1)[1:] / np.sqrt(NTRAJ)
    assert np.max(np.abs(dE[0].mean(0)[1:]) / own) > 4  # a derivative well above its own errors


def test_estimators_match_the_exact_solver_within_four_errors():
    names = ["J", "drive", "dephasing", "relaxation"]
    kw = {**RUN, "params": {"N": 3, "J": 0.3}, "sensitivities": names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = cqc.charge("xxz-ring", method="trajectories", ntraj=400, seed=1, **kw)
        ex = cqc.charge("xxz-ring", method="exact", sensitivity_mode="forward", **kw)  # per-sample series
    for name in names:
        a, b = tr.sensitivities[name], ex.sensitivities[name]
        for key in ("energy", "power", "capacitance"):
            z = np.abs(a[key] - b[key])[1:] / a[f"{key}_error"][1:]
            assert np.all(z <= 4), (name, key, float(z.max()))
        assert abs(a["power_max"] - b["power_max"]) <= 4 * a["power_max_error"] + 0.05 * abs(b["power_max"])
    info = tr.metadata["sensitivity"]
    assert info["reproduces_run"]["energy_in_errors"] <= 4 and info["ntraj"] == 400


def test_seeded_run_is_unchanged_by_asking_for_sensitivities():
    kw = {**RUN, "params": {"N": 3, "J": 0.3}, "method": "trajectories", "ntraj": 50, "seed": 7}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plain = cqc.charge("xxz-ring", **kw)
        with_s = cqc.charge("xxz-ring", sensitivities=["J"], **{**kw, "ntraj": 50})
    assert np.array_equal(plain.energy, with_s.energy) and np.array_equal(plain.capacitance, with_s.capacitance)
    rec = with_s.sensitivities["J"]
    assert rec["energy"].shape == rec["energy_error"].shape == plain.times.shape


def test_derived_figures_match_the_exact_solver_within_four_errors():
    """dE_max/dtheta and dtau_c/dtheta at the run's tau_c (delta-method errors) against the exact solver's."""
    kw = {**RUN, "t_max": 3.0, "n_times": 21, "params": {"N": 3, "J": 0.3}, "sensitivities": ["J", "drive"]}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        tr = cqc.charge("xxz-ring", method="trajectories", ntraj=300, seed=3, **kw)
        ex = cqc.charge("xxz-ring", method="exact", sensitivity_mode="forward", **kw)  # per-sample series
    for name in kw["sensitivities"]:
        a, b = tr.sensitivities[name], ex.sensitivities[name]
        for key in ("energy_max", "tau_c"):
            assert a[f"{key}_error"] > 0 and abs(a[key] - b[key]) <= 4 * a[f"{key}_error"], (name, key, a[key], b[key])
