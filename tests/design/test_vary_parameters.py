"""optimize(vary=...): model parameters optimised with the envelope. Joint exact gradients against
central differences of the same objective (closed with a theta-dependent ground state, open, smooth
basis), the two-level closed form with the splitting hitting its bound, the rerun through charge()
and the CLI, and the one-line refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from collective_qc.models.spin_lattices import XXZChain

import collective_qc as cq
from collective_qc.cli import main
from collective_qc.core.errors import InputError
from collective_qc.design import optimize
from collective_qc.design.optimize import Parametrisation, _objective
from collective_qc.design.options import OptimizeOptions
from collective_qc.design.parameters import ParameterFamily


def _joint_check(model, opts, seed=1):
    """max |analytic - central difference| / max |analytic| over all joint parameters."""
    family = ParameterFamily.build(model, opts)
    par = Parametrisation(opts)
    kind = "ergotropy" if opts.objective == "ergotropy" else "energy"
    fun = _objective(None, family, par, kind, opts.tau)
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(-0.8, 0.8, par.size), family.lo + rng.uniform(0.2, 0.8, len(family.lo))
                        * (family.hi - family.lo)])
    F, g = fun(x)
    h = 1e-5
    fd = np.array([(fun(x + h * e)[0] - fun(x - h * e)[0]) / (2 * h) for e in np.eye(len(x))])
    return np.max(np.abs(fd - g)) / np.max(np.abs(g)), family


@pytest.mark.parametrize("objective", ["energy", "ergotropy"])
def test_joint_gradient_closed_ground_state_moves(objective):
    """Giant spin S = 2 from its ground state: H_B = omega S^z + D (S^z)^2 + E ((S^x)^2 - (S^y)^2);
    D and E both move the ground state (E mixes m and m +- 2)."""
    opts = OptimizeOptions(tau=1.5, slices=5, params={"S": "2"}, objective=objective,
                           vary={"D": (-0.5, 0.5), "E": (0.05, 0.3)})
    err, family = _joint_check("giant-spin", opts)
    assert family.touches_battery == [True, True] and family.fixed_state is None
    assert err <= 1e-6


def test_joint_gradient_bilinear_exchange():
    """XXZ chain N = 3 at omega = 0.2 (ground state in S^z = -1/2 throughout the box): H_B holds J and
    J Delta, affine in each but not jointly, so the corner interpolation, not a linear model, is needed."""
    opts = OptimizeOptions(tau=1.5, slices=5, params={"N": 3, "omega": 0.2},
                           vary={"J": (0.5, 1.5), "Delta": (0.0, 1.0)})
    assert _joint_check("xxz-chain", opts)[0] <= 1e-6


@pytest.mark.parametrize("objective", ["energy", "ergotropy"])
def test_joint_gradient_open(objective):
    opts = OptimizeOptions(tau=1.2, slices=4, params={"S": "1"}, objective=objective, dephasing=0.1, relaxation=0.05,
                           vary={"D": (-0.5, 0.5), "E": (0.05, 0.3), "omega": (0.5, 1.5)})
    assert _joint_check("giant-spin", opts)[0] <= 1e-6


def test_joint_gradient_smooth_basis_and_auxiliary_parameter():
    """Dicke battery (N = 2): the cavity frequency omega_c enters H_aux only, E keeps its meaning and
    the initial state does not move; a Fourier envelope."""
    opts = OptimizeOptions(tau=1.0, slices=8, basis="fourier:2", params={"N": 2}, vary={"omega_c": (0.5, 1.5)})
    err, family = _joint_check("dicke", opts)
    assert family.touches_battery == [False]
    assert err <= 1e-6


@pytest.mark.parametrize("tau", [1.0, 2.0])
def test_two_level_splitting_hits_its_bound(tau):
    """Battery off while charging, |f| <= 1, omega in [0.5, 2]: E = omega sin^2(lambda tau) for
    tau <= pi/(2 lambda), omega afterwards; both grow with omega, so the optimum is omega = 2 with the
    closed-form energy."""
    res = optimize("two-level", tau, slices=4, starts=2, battery_off=True, vary={"omega": (0.5, 2.0)},
                   advantage=False)
    assert res.parameters == {"omega": pytest.approx(2.0, abs=1e-12)}
    best = 2.0 * np.sin(min(tau, np.pi / 2)) ** 2
    assert res.objective == pytest.approx(best, abs=1e-6 if tau > np.pi / 2 else 1e-8)


def test_charge_reruns_the_joint_optimum(tmp_path, capsys):
    """The optimum's slices and parameters through charge() give the same E(tau); the CLI prints them
    and the command, and optimize.json records them."""
    res = optimize("xxz-chain", 1.5, params={"N": 3, "omega": 0.2}, slices=6, starts=2, advantage=False,
                   vary={"J": (0.5, 1.5), "Delta": (0.0, 1.0)})
    assert set(res.parameters) == {"J", "Delta"} and "J = " in repr(res)
    res.write(tmp_path)
    run = cq.charge("xxz-chain", 1.0, np.linspace(0, 1.5, 4), params=res.charge_params,
                    protocol=f"steps:{tmp_path / 'protocol.csv'}")
    assert run.energy[-1] == pytest.approx(res.objective, abs=1e-9)
    data = json.loads((tmp_path / "optimize.json").read_text())
    assert data["parameters"] == res.parameters and data["vary"]["J"] == [0.5, 1.5]
    assert "-p J=" in data["charge_command"] and "-p N=3" in data["charge_command"]
    out = tmp_path / "cli"
    assert main(["optimize", "two-level", "--tau", "1", "--slices", "3", "--starts", "1", "--vary", "omega=0.5:2",
                 "--battery-off-while-charging", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "optimal parameters: omega = 2.0" in printed
    assert "rerun: cqc charge two-level -p omega=2.0 --drive 1.0 --t-max 1.0 --protocol steps:" in printed


class _SquaredJ(XXZChain):
    """J enters squared: not affine, refused."""

    def graph(self):
        g = super().graph()
        for _, _, attrs in g.edges(data=True):
            attrs["J"] = attrs["J"] ** 2
        return g


@pytest.mark.parametrize("model, settings, words", [
    ("xxz-chain", {"vary": {"K": (0, 1)}}, "has no parameter 'K'"),
    ("xxz-chain", {"vary": {"delta": (0, 1)}}, "did you mean 'Delta'?"),
    ("xxz-chain", {"vary": {"N": (2, 4)}}, "'N' is a int parameter"),
    ("xxz-chain", {"vary": {"J": (1, 0)}}, "LO < HI"),
    ("xxz-chain", {"vary": {"J": (1, 1)}}, "LO < HI"),
    ("xxz-chain", {"vary": ["J0:1"]}, "write NAME=LO:HI"),
    ("xxz-chain", {"vary": ["J=a:1"]}, "two numbers"),
    ("dicke", {"vary": {"kappa_c": (0.0, 1)}}, "rates are not optimised"),
    ("xxz-chain", {"vary": {"omega": (-1, 1)}}, "changes total S^z from 1 to -1"),
    ("xxz-ring", {"vary": {"J": (0.1, 2)}}, "changes total S^z from -2 to 0"),
    ("xxz-chain", {"vary": {"J": (0.1, 0.3)}, "objective": "time:0.5"}, "change H_B"),
    ("xxz-chain", {"vary": dict.fromkeys(["omega", "J", "Delta", "a", "b"], (0, 1))}, "at most 4"),
    (_SquaredJ(N=2), {"vary": {"J": (0.2, 1.0)}}, "not affine"),
])
def test_refusals_in_one_line(model, settings, words):
    with pytest.raises(InputError) as info:
        optimize(model, 1.0, params={"N": 4 if model == "xxz-ring" else 2} if isinstance(model, str) else {},
                 slices=2, starts=1,
                 advantage=False, **settings)
    assert words in str(info.value) and "\n" not in str(info.value)


def test_a_given_start_outside_the_vary_box_is_refused():
    with pytest.raises(InputError, match=r"vary 'J': the given J = 0.5 \(the start\) lies outside the bounds 2:3"):
        optimize("xxz-chain", 1.0, params={"N": 2, "J": 0.5}, vary={"J": (2.0, 3.0)}, slices=4, starts=1, maxiter=3)
