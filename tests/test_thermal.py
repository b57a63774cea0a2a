"""Thermal initial states: ``initial="thermal"`` with the run option ``temperature``.

References independent of the package's thermal code: the two-level closed form (the T = 0 Rabi
formulas of the paper times tanh(omega / 2T)), the ground-state run (T -> 0), QuTiP mesolve from
the Gibbs state built with QuTiP's own operators, and a dense propagation of exp(-H_B/T)/Z for
the typical-state estimator (spin dimension beyond a lowered SPECTRAL_LIMIT).
"""

from __future__ import annotations

import argparse

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.analysis import two_level as bl
from collective_qc.api import check_charge, prepare, solve
from collective_qc.physics import states
from collective_qc.planning.options import add_cli_arguments, from_cli


def _one_line_error(match: str, **kw) -> str:
    with pytest.raises(cqc.InputError, match=match) as err:
        check_charge(kw.pop("model", "two-level"), **kw)
    assert "\n" not in str(err.value)
    return str(err.value)


# -- the two-level site: E_T(t) = tanh(omega / 2T) E_0(t) -------------------------------------------

@pytest.mark.parametrize("T", [0.1, 1.0, 10.0, 1e12])
def test_two_level_thermal_run_is_tanh_times_the_rabi_closed_form(T):
    """rho_T = (1 - tanh(omega/2T) sigma_z)/2: the identity part does not charge, so E, P and C_Q
    are those of the ground state (the paper's Eqs.) times tanh(omega/2T) (omega = 1)."""
    drive = 0.3
    t = np.linspace(0, 3 * np.pi / bl.rabi_frequency(drive), 61)
    res = cqc.charge("two-level", drive, times=t, initial="thermal", temperature=T)
    s = np.tanh(1.0 / (2 * T))
    np.testing.assert_allclose(res.energy, s * bl.energy(t, drive), rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.power, s * bl.power(t, drive), rtol=0, atol=1e-9)
    np.testing.assert_allclose(res.capacitance, s * bl.capacitance(t, drive), rtol=0, atol=1e-9)
    assert res.metadata["initial"]["kind"] == "thermal" and res.metadata["initial"]["T"] == T
    if T == 1e12:  # weights all ~1/2: finite, and nothing measurable is charged
        assert np.all(np.isfinite(res.energy)) and np.max(np.abs(res.energy)) < 1e-11
        np.testing.assert_allclose(res.metadata["initial"]["Z_relative"], 2.0, rtol=1e-11)


def test_thermal_colon_form_is_the_same_run():
    t = np.linspace(0, 5, 11)
    a = cqc.charge("two-level", 0.3, times=t, initial="thermal", temperature=0.7)
    b = cqc.charge("two-level", 0.3, times=t, initial="thermal:0.7")
    assert np.array_equal(a.energy, b.energy) and np.array_equal(a.capacitance, b.capacitance)


# -- T -> 0: the ground state -----------------------------------------------------------------------

@pytest.mark.parametrize("model,params,degeneracy", [
    ("xxz-chain", {"N": 4}, 1),  # gapped (field omega = 1), unique ground state
    ("heisenberg-graph", {"N": 3, "omega": 0.5, "J": 1.0}, 2),  # triangle: S = 1/2, m = -1/2 twice, gap 1/2
])
def test_zero_and_small_temperature_reproduce_the_ground_state_run(model, params, degeneracy):
    kw = dict(params=params, times=np.linspace(0, 6, 13), method="closed")
    ground = cqc.charge(model, 0.4, initial="ground", **kw)
    zero = cqc.charge(model, 0.4, initial="thermal", temperature=0, **kw)
    cold = cqc.charge(model, 0.4, initial="thermal", temperature=1e-3, **kw)
    assert ground.metadata["initial"]["degeneracy"] == degeneracy
    for name in ("energy", "power", "capacitance"):  # T = 0 is the ground run, bit for bit
        assert np.array_equal(getattr(zero, name), getattr(ground, name)), name
        np.testing.assert_allclose(getattr(cold, name), getattr(ground, name), rtol=0, atol=1e-9)
    assert zero.metadata["initial"] == ground.metadata["initial"]
    assert np.max(np.abs(ground.energy)) > 0.05  # it charges: the comparison is not between zeros
    assert cold.metadata["initial"]["kind"] == "thermal"


# -- open system against QuTiP -----------------------------------------------------------------------

def test_xxz_ring_with_dephasing_against_qutip_from_the_gibbs_state():
    """XXZ ring N = 6, H_B = sum (omega/2) sz_i + J sum (sx sx + sy sy + Delta sz sz)_{i,i+1},
    V = sum sx_i, jumps sqrt(gamma) sz_i, rho(0) = exp(-H_B/T)/Z: QuTiP's own operators."""
    qutip = pytest.importorskip("qutip")
    n, omega, J, delta, gamma, drive, T = 6, 1.0, 0.3, 0.5, 0.05, 0.5, 0.7
    times = np.linspace(0, 6, 13)

    def site(op, i):
        return qutip.tensor([op if k == i else qutip.qeye(2) for k in range(n)])

    sx, sy, sz = ([site(o, i) for i in range(n)] for o in (qutip.sigmax(), qutip.sigmay(), qutip.sigmaz()))
    HB = sum(0.5 * omega * sz[i] for i in range(n))
    HB += J * sum(sx[i] * sx[(i + 1) % n] + sy[i] * sy[(i + 1) % n] + delta * sz[i] * sz[(i + 1) % n]
                  for i in range(n))
    V = sum(sx)
    rho0 = (-HB / T).expm()
    rho0 = rho0 / rho0.tr()
    out = qutip.mesolve(HB + drive * V, rho0, times, c_ops=[np.sqrt(gamma) * s for s in sz], e_ops=[HB],
                        options={"atol": 1e-12, "rtol": 1e-11, "nsteps": 100000})
    ref = np.real(np.asarray(out.expect[0]))
    res = cqc.charge("xxz-ring", drive, times=times, params={"N": n, "omega": omega, "J": J, "Delta": delta},
                     method="exact", dephasing=gamma, initial="thermal", temperature=T)
    assert res.metadata["initial"]["kind"] == "thermal" and res.metadata["initial"]["members"] == 2**n
    np.testing.assert_allclose(res.energy, ref - ref[0], rtol=0, atol=1e-6)
    assert np.max(np.abs(res.energy)) > 0.05  # it charges: the comparison is not between zeros


# -- beyond the dense limit: typical states ------------------------------------------------------------

CHAIN = dict(params={"N": 8}, initial="thermal", temperature=1.0)  # 256 spin states
LIMIT = 128  # SPECTRAL_LIMIT lowered below 256: the chain takes the sampled path


def _dense_closed_energy(times, drive, T):
    """E(t) of exp(-H_B/T)/Z under H_B + drive V (constant drive), by dense eigendecompositions of
    the chain's operators (no initial-state or solver code of the package)."""
    from collective_qc.physics.graph import validate_graph
    from collective_qc.physics.operators import build_operators
    from collective_qc.physics.registry import make_model

    ops = build_operators(validate_graph(make_model("xxz-chain", CHAIN["params"]).graph()))
    HB = ops.H_B.toarray()
    w, v = np.linalg.eigh(HB)
    p = np.exp(-(w - w[0]) / T)
    rho0 = (v * (p / p.sum())) @ v.T
    eps, U = np.linalg.eigh((ops.H0 + drive * ops.V).toarray())
    r = U.conj().T @ rho0 @ U
    hb = U.conj().T @ HB @ U
    e = np.array([np.real(np.sum(r * np.exp(-1j * np.subtract.outer(eps, eps) * t) * hb.T)) for t in times])
    return e - e[0]


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_typical_states_closed_run_within_its_standard_errors(monkeypatch):
    times, drive = np.linspace(0, 4, 9), 0.5
    ref = _dense_closed_energy(times, drive, CHAIN["temperature"])
    monkeypatch.setattr(states, "SPECTRAL_LIMIT", LIMIT)
    res = cqc.charge("xxz-chain", drive, times=times, method="closed", ntraj=16, seed=5, **CHAIN)
    init = res.metadata["initial"]
    assert init["kind"] == "thermal-sampled" and init["members"] == 16 and init["samples"] == 16
    err16 = res.energy_stderr[1:]
    assert res.energy_stderr[0] == 0 and np.all(err16 > 0) and res.jackknife.shape == (3, 16, len(times))
    assert np.all(np.abs(res.energy - ref)[1:] <= 4 * err16), (res.energy - ref) / np.maximum(res.energy_stderr, 1e-300)
    big = solve(prepare(check_charge("xxz-chain", drive, times=times, method="closed", ntraj=64, seed=5, **CHAIN)))[0]
    assert np.all(np.abs(big.energy - ref)[1:] <= 4 * big.energy_stderr[1:])
    ratio = np.mean(err16) / np.mean(big.energy_stderr[1:])  # 1/sqrt(K): 2 for K = 16 -> 64
    assert 1.4 < ratio < 2.9, ratio
    assert np.max(np.abs(ref)) > 10 * np.max(err16)  # the errors are small against what is measured


def test_typical_states_trajectory_run_against_the_exact_thermal_run(monkeypatch):
    kw = dict(times=np.linspace(0, 4, 9), dephasing=0.1, **CHAIN)
    exact = cqc.charge("xxz-chain", 0.5, method="exact", **kw)  # dense Gibbs state, density matrix
    monkeypatch.setattr(states, "SPECTRAL_LIMIT", LIMIT)
    errs = {}
    for ntraj in (100, 400):
        res = cqc.charge("xxz-chain", 0.5, method="trajectories", ntraj=ntraj, seed=2, **kw)
        assert res.metadata["initial"]["kind"] == "thermal-sampled"
        assert res.metadata["solver"]["typical_states"] == ntraj
        dev = np.abs(res.energy - exact.energy)[1:]
        assert np.all(dev <= 4 * res.energy_stderr[1:]), dev / res.energy_stderr[1:]
        errs[ntraj] = np.mean(res.energy_stderr[1:])
    assert 1.4 < errs[100] / errs[400] < 2.9, errs


def test_trajectory_k_starts_from_typical_state_k():
    """The member table routes each trajectory's own draw (the kernel's draw_member on its
    stream) to its own typical state."""
    from collective_qc.solvers.kernels.common import draw_member
    from collective_qc.solvers.trajectories import trajectory_keys, typical_routes

    psi0 = np.arange(37, dtype=float)[None, :]  # member k: the one-component vector (k)
    members, table = typical_routes(psi0, seed=11, ntraj=37)
    y = np.zeros(2, dtype=np.complex128)
    drawn = []
    for key in trajectory_keys(11, 37):
        draw_member(np.uint64(key), table, members, y, 1)
        drawn.append(int(y[0].real))
    assert drawn == list(range(37))
    with pytest.raises(cqc.InputError, match="36 members for 37 trajectories"):
        typical_routes(psi0[:, :36], seed=11, ntraj=37)


def test_typical_states_are_reproducible_and_nested():
    """Sample k depends on (seed, k) only: the first 4 of 8 samples are the 4 samples of K = 4."""
    from collective_qc.physics.graph import validate_graph
    from collective_qc.physics.operators import build_operators
    from collective_qc.physics.registry import make_model

    ops = build_operators(validate_graph(make_model("xxz-chain", {"N": 4}).graph()))
    a = states.typical_thermal_state(ops, 0.5, 8, seed=3)
    b = states.typical_thermal_state(ops, 0.5, 4, seed=3)
    np.testing.assert_array_equal(a.vectors[:, :4], b.vectors)
    assert not np.allclose(states.typical_thermal_state(ops, 0.5, 4, seed=4).vectors, b.vectors)
    np.testing.assert_allclose(np.linalg.norm(a.vectors, axis=0), 1.0, atol=1e-13)
    np.testing.assert_allclose(a.weights.sum(), 1.0, atol=1e-14)


def test_ratio_jackknife_against_a_brute_force_delete_one():
    rng = np.random.default_rng(0)
    w, x = rng.uniform(0.5, 2.0, 13), rng.normal(size=(13, 5))
    mean, err, reps = states.ratio_jackknife(w, x, groups=4)
    loo = np.array([np.delete(w, k) @ np.delete(x, k, axis=0) / np.delete(w, k).sum() for k in range(13)])
    np.testing.assert_allclose(mean, w @ x / w.sum(), rtol=1e-14)
    np.testing.assert_allclose(err, np.sqrt(12 / 13 * ((loo - loo.mean(0)) ** 2).sum(0)), rtol=1e-12)
    keep = np.arange(13) % 4 != 1
    np.testing.assert_allclose(reps[1], w[keep] @ x[keep] / w[keep].sum(), rtol=1e-13)


# -- refusals and the ways in ----------------------------------------------------------------------------

def test_thermal_without_temperature_is_refused():
    msg = _one_line_error("temperature", initial="thermal")
    assert "initial = 'thermal'" in msg


def test_negative_temperature_is_refused():
    _one_line_error("temperature must be >= 0", initial="thermal", temperature=-0.5)


def test_temperature_with_another_initial_state_is_refused():
    msg = _one_line_error("temperature = 0.5 applies to initial = 'thermal' only", initial="product", temperature=0.5)
    assert "initial = 'product'" in msg
    _one_line_error("initial = 'ground'", temperature=0.5)  # the default initial state


def test_sampled_thermal_state_refused_where_it_cannot_run(monkeypatch):
    monkeypatch.setattr(states, "SPECTRAL_LIMIT", LIMIT)
    _one_line_error("methods closed and trajectories sample it", model="xxz-chain", method="exact", dephasing=0.1,
                    **CHAIN)
    _one_line_error("quantities ergotropy", model="xxz-chain", method="closed", quantities="ergotropy", **CHAIN)
    with pytest.raises(cqc.InputError, match="use a larger temperature, or temperature = 0") as err:  # no endless
        cqc.charge("xxz-chain", params={"N": 8}, method="closed", initial="thermal", temperature=1e-5, ntraj=2)
    assert "\n" not in str(err.value)


def test_temperature_reaches_cli_flags_and_study_config(tmp_path):
    from collective_qc.study.config import load_config

    p = argparse.ArgumentParser()
    add_cli_arguments(p)
    opts = from_cli(p.parse_args(["--initial", "thermal", "--temperature", "0.25"]))
    assert opts["initial"] == "thermal" and opts["temperature"] == 0.25
    toml = tmp_path / "s.toml"
    toml.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2]\n[run]\ninitial = "thermal"\ntemperature = 0.25\n')
    assert load_config(toml)["run"]["temperature"] == 0.25


def test_collective_spin_node_refuses_a_thermal_state_that_permutation_runs():
    """The Gibbs state of N sites has weight in every total-spin sector; a collective node holds
    only J = N/2. Refused there in one line, while the permutation solver (every J with its
    multiplicity) and the explicit graph give the same run (dicke N = 2, T = 0.7)."""
    kw = dict(params={"N": 2}, initial="thermal", temperature=0.7, t_max=2.0, n_times=11)
    msg = _one_line_error("collective spin node of 2 sites", model="dicke", **kw)
    assert "permutation" in msg and "explicit" in msg
    perm = cqc.charge("dicke", method="permutation", **kw)
    explicit = cqc.charge("dicke", **{**kw, "params": {"N": 2, "representation": "explicit"}})
    np.testing.assert_allclose(perm.energy, explicit.energy, rtol=0, atol=1e-7)
    ground = cqc.charge("dicke", **{**kw, "temperature": 0.0})  # T = 0 stays the collective ground state
    assert ground.energy_max > perm.energy_max
