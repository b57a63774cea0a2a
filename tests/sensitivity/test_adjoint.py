"""Adjoint sensitivities (sensitivity_mode="adjoint") against forward mode on small closed runs, the
refusals, and the automatic choice."""

from __future__ import annotations

import pytest

import collective_qc as cqc
from collective_qc.core.errors import InputError

FIGURES = ("energy_max", "tau_c", "power_max", "capacitance_at_tau_c")
CHAIN = dict(drive=0.5, params={"N": 4}, method="closed", t_max=6.0, n_times=61)
NAMES = ["J", "Delta", "omega@1", "J@(1,2)", "Delta@(0,1)", "weight@2", "drive"]


def _compare(model, names, tol=1e-6, **kwargs):
    fwd = cqc.charge(model, sensitivities=names, sensitivity_mode="forward", **kwargs)
    adj = cqc.charge(model, sensitivities=names, sensitivity_mode="adjoint", **kwargs)
    info = adj.metadata["sensitivity"]
    assert info["mode"] == "adjoint" and "per-sample series" in info["note"]
    assert max(info["reproduces_run"].values()) < 1e-10 and info["backward_reconstruction"] < 1e-10
    agree(adj, fwd, names, tol)
    return adj


def agree(adj, fwd, names, tol):
    """The adjoint's figure derivatives against forward mode's (relative to the larger of |value| and
    1e-3 of the largest over the parameters); no per-sample series in adjoint mode."""
    for name in names:
        a, f = adj.sensitivities[name], fwd.sensitivities[name]
        assert a["energy"] is None and a["power"] is None and a["capacitance"] is None
        for key in FIGURES:
            if f[key] is None or a[key] is None:
                assert f[key] is None and a[key] is None, (name, key)
                continue
            scale = max(abs(f[key]), 1e-3 * max(abs(fwd.sensitivities[n][key] or 0.0) for n in names))
            assert abs(a[key] - f[key]) <= tol * scale, (name, key, a[key], f[key])


@pytest.mark.parametrize("initial", ["product", "ground"])
def test_adjoint_matches_forward_xxz_chain(initial):
    """Closed XXZ chain N = 4: model parameters, per-site and per-bond attributes, the drive; product
    and ground (theta-dependent) initial states."""
    _compare("xxz-chain", NAMES, initial=initial, **CHAIN)


def test_adjoint_matches_forward_on_off():
    """An on-off envelope (E keeps its value after the switch: no tau_c; P_max before it) with its
    switching time as a parameter (zero there) and a charger weight."""
    _compare("xxz-chain", ["protocol.tau", "weight@2", "omega@0"], initial="ground",
             protocol="on-off:2.05", **CHAIN)


def test_adjoint_refusals_in_one_line():
    with pytest.raises(InputError, match="for methods closed and exact"):
        cqc.charge("xxz-chain", drive=0.5, params={"N": 2}, method="trajectories", dephasing=0.05, t_max=2,
                   n_times=11, ntraj=10, sensitivities=["J"], sensitivity_mode="adjoint")
    with pytest.raises(InputError, match="piecewise-constant envelope"):
        cqc.charge("xxz-chain", drive=0.5, params={"N": 2}, method="closed", protocol="ramp:1", t_max=2,
                   n_times=11, sensitivities=["J"], sensitivity_mode="adjoint")
    with pytest.raises(InputError, match="sensitivity_mode must be one of"):
        cqc.charge("xxz-chain", drive=0.5, params={"N": 2}, sensitivities=["J"], sensitivity_mode="backward")


def test_auto_chooses_by_cost():
    from collective_qc.sensitivity import choose_mode

    class Plan:
        method, initial = "closed", "ground"
        protocol = type("P", (), {"piecewise_constant": True})()

    plan = Plan()
    assert choose_mode(plan, 3, "auto") == "forward"
    assert choose_mode(plan, 6, "auto") == "adjoint"
    plan.method = "trajectories"
    assert choose_mode(plan, 50, "auto") == "forward"
    res = cqc.charge("xxz-chain", sensitivities=NAMES, **CHAIN)
    assert res.metadata["sensitivity"]["mode"] == "adjoint"
