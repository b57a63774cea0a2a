"""optimize(): ring sanity, open systems, the steps:FILE round trip through charge() and the CLI,
one-line refusals."""

from __future__ import annotations

import numpy as np
import pytest

import collective_qc as cq
from collective_qc.cli import main
from collective_qc.core.errors import InputError
from collective_qc.design import optimize
from collective_qc.design.result import write_steps


def test_ring_beats_constant_drive_and_charge_reproduces_it(tmp_path):
    res = optimize("xxz-ring", 2.0, params={"N": 4}, slices=12, starts=2, advantage=False)
    assert res.objective >= res.constant_objective - 1e-12
    res.write(tmp_path)
    run = cq.charge("xxz-ring", 1.0, np.linspace(0, 2.0, 5), params={"N": 4},
                    protocol=f"steps:{tmp_path / 'protocol.csv'}")
    assert run.energy[-1] == pytest.approx(res.objective, abs=1e-9)


def test_open_two_level_dephasing(tmp_path):
    """With dephasing the best E(tau) stays below the closed optimum and above the constant drive; the
    ergotropy optimum is at most the energy optimum; charge(method='exact') reproduces the table."""
    closed = optimize("two-level", 2.0, slices=10, starts=2, advantage=False)
    res = optimize("two-level", 2.0, slices=10, starts=2, dephasing=0.05, advantage=False)
    assert res.constant_objective - 1e-12 <= res.objective < closed.objective
    erg = optimize("two-level", 2.0, slices=10, starts=2, dephasing=0.05, objective="ergotropy", advantage=False)
    assert erg.objective <= res.objective + 1e-9
    path = write_steps(tmp_path / "p.csv", res.tau, res.amplitudes)
    run = cq.charge("two-level", 1.0, np.linspace(0, 2.0, 3), protocol=f"steps:{path}", dephasing=0.05,
                    method="exact")
    assert run.energy[-1] == pytest.approx(res.objective, abs=1e-8)


@pytest.mark.parametrize("basis", ["fourier:3", "gauss:4"])
def test_smooth_basis_respects_bound_and_advantage_is_reported(basis):
    res = optimize("xxz-chain", 1.5, params={"N": 2}, slices=30, basis=basis, starts=2, f_max=0.7)
    assert np.max(np.abs(res.amplitudes)) <= 0.7
    assert res.objective >= res.constant_objective - 1e-3  # f_max tanh(.) stays below the bang f = f_max
    assert res.single_site is not None and res.single_site["N"] == 2
    assert res.single_site["gamma"] == pytest.approx(res.objective / (2 * res.single_site["objective"]))


def test_time_objective_reaches_the_fraction():
    res = optimize("two-level", 3.0, slices=12, starts=2, objective="time:0.9", battery_off=True, advantage=False)
    assert res.objective >= 0.9 - 1e-9
    # battery off: 0.9 = sin^2(lambda tau) at tau = asin(sqrt(0.9)), bisection to 3/2^14
    assert res.tau == pytest.approx(np.arcsin(np.sqrt(0.9)), abs=1e-3)


def test_cli_round_trip(tmp_path, capsys):
    out = tmp_path / "opt"
    assert main(["optimize", "two-level", "--tau", "1.2", "--slices", "8", "--starts", "2", "--out", str(out),
                 "--plot"]) == 0
    for name in ("protocol.csv", "optimize.json", "protocol.png", "energy.png", "history.png"):
        assert (out / name).exists()
    assert main(["charge", "two-level", "--drive", "1", "--t-max", "1.2", "--protocol",
                 f"steps:{out / 'protocol.csv'}", "--json", str(tmp_path / "c.json")]) == 0


@pytest.mark.parametrize("argv, words", [
    (["--tau", "0"], "tau must be > 0"),
    (["--tau", "1", "--objective", "time:2"], "0 < FRACTION < 1"),
    (["--tau", "1", "--basis", "sine:3"], "fourier:K"),
    (["--tau", "1", "--slices", "0"], "slices"),
    (["--tau", "1", "--f-max", "-1"], "f_max"),
])
def test_bad_input_one_line(argv, words, tmp_path, capsys):
    assert main(["optimize", "two-level", *argv, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("cqc: error:") and words in err and "\n" not in err


def test_unknown_setting_and_bad_steps_file(tmp_path):
    with pytest.raises(InputError, match="did you mean 'slices'"):
        optimize("two-level", 1.0, slice=4)
    bad = tmp_path / "bad.csv"
    bad.write_text("0,1\n0,2\n")
    with pytest.raises(InputError, match="strictly increasing"):
        cq.charge("two-level", 1.0, protocol=f"steps:{bad}")


def test_package_level_entry_point():
    assert cq.optimize is optimize


def test_an_optimum_at_round_off_is_not_charged(tmp_path, capsys):
    """From the T -> infinity Gibbs state no envelope charges anything: the 'optimum' is round-off
    (|E| ~ 1e-14), reported NOT CHARGED with no single-site Gamma."""
    res = optimize("xxz-chain", 1.0, params={"N": 2}, slices=4, starts=1, maxiter=3, initial="thermal:1e300")
    assert abs(res.objective) < 1e-12 and res.info["undefined"].startswith("NOT CHARGED")
    assert res.single_site is None
    assert main(["optimize", "xxz-chain", "-p", "N=2", "--tau", "1", "--out", str(tmp_path / "o"), "--initial",
                 "thermal"]) == 2
    assert "--initial thermal:T" in capsys.readouterr().err
