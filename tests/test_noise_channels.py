"""Pumping and collective noise channels (options pumping, collective_emission, collective_dephasing,
collective_pumping) against closed forms and QuTiP.

Jumps: sqrt(p) S^+_i per site; sqrt(G) J_-, sqrt(G) 2 J_z, sqrt(G) J_+ with J^a = sum_i S^a_i.
"""

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.analysis import two_level as bl
from collective_qc.cli import main
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators
from collective_qc.physics.registry import make_model
from collective_qc.planning.guard import operator_scales


def test_pumping_alone_undriven_fills_the_level():
    """drive 0: population of |e> is 1 - exp(-p t) from |g>, so E = omega (1 - exp(-p t))."""
    p = 0.4
    res = cqc.charge("two-level", 0.0, times=np.linspace(0, 10, 21), method="exact", pumping=p, initial="product")
    np.testing.assert_allclose(res.energy, 1.0 - np.exp(-p * res.times), rtol=0, atol=1e-12)


def test_pumping_alone_driven_steady_state_is_the_mirrored_relaxation_one():
    """sigma_x maps pumping S^+ with (omega, lambda) to relaxation S^- with (-omega, lambda), whose steady
    population depends on omega^2 only (paper Eq. 38): E_ss(pumping p) = omega (1 - P_e) with
    omega P_e = E_ss(relaxation kappa = p)."""
    p, drive = 0.5, 0.3
    res = cqc.charge("two-level", drive, times=np.linspace(0, 140, 8), method="exact", pumping=p, initial="product")
    expected = 1.0 - bl.steady_state_energy(drive, gamma=0.0, kappa=p)
    assert res.energy[-1] == pytest.approx(expected, abs=1e-9)
    assert expected > 0.5  # inverted: the pumped level is the upper one


def test_pumping_and_relaxation_rate_and_stationary_sz():
    """drive 0: <S^z>(t) = s + (-1/2 - s) exp(-(p + k) t), s = (p - k) / (2 (p + k))."""
    p, k = 0.3, 0.1
    res = cqc.charge("two-level", 0.0, times=np.linspace(0, 12, 25), method="exact", pumping=p, relaxation=k,
                     initial="product")
    s = (p - k) / (2 * (p + k))
    sz = s + (-0.5 - s) * np.exp(-(p + k) * res.times)
    np.testing.assert_allclose(res.energy, sz + 0.5, rtol=0, atol=1e-12)  # E = omega (<S^z> + 1/2)
    assert res.metadata["noise"]["pumping"] == p


def _qutip_energy(times, drive, *, J, Delta, G, jump, psi_up):
    """E(t) of two spin-1/2 sites, H_B = sum (1/2) sz + J (sx sx + sy sy + Delta sz sz), V = sx_1 + sx_2,
    one collective jump (QuTiP mesolve)."""
    qutip = pytest.importorskip("qutip")
    I, sx, sy, sz, sm = qutip.qeye(2), qutip.sigmax(), qutip.sigmay(), qutip.sigmaz(), qutip.sigmam()

    def pair(a, b):
        return qutip.tensor(a, b)

    HB = 0.5 * (pair(sz, I) + pair(I, sz)) + J * (pair(sx, sx) + pair(sy, sy) + Delta * pair(sz, sz))
    V = pair(sx, I) + pair(I, sx)
    L = {"emission": pair(sm, I) + pair(I, sm), "dephasing": pair(sz, I) + pair(I, sz)}[jump]  # J_-, 2 J_z
    up, down = qutip.basis(2, 0), qutip.basis(2, 1)  # sigma_z = +1, -1
    psi0 = qutip.tensor(up if psi_up else down, up if psi_up else down)
    out = qutip.mesolve(HB + drive * V, psi0, times, c_ops=[np.sqrt(G) * L], e_ops=[HB],
                        options={"atol": 1e-13, "rtol": 1e-12, "nsteps": 100000})
    e = np.asarray(out.expect[0])
    return e - e[0]


@pytest.mark.parametrize("jump,initial,psi_up", [("emission", "dicke:1,1", True), ("dephasing", "product", False)])
def test_collective_jumps_two_sites_against_qutip(jump, initial, psi_up):
    times = np.linspace(0, 6, 25)
    J, Delta, G, drive = 0.3, 0.5, 0.2, 0.5
    res = cqc.charge("all-to-all", drive, times=times, params={"N": 2, "J": J, "Delta": Delta}, method="exact",
                     initial=initial, **{f"collective_{jump}": G})
    ref = _qutip_energy(times, drive, J=J, Delta=Delta, G=G, jump=jump, psi_up=psi_up)
    np.testing.assert_allclose(res.energy, ref, rtol=0, atol=1e-8)
    assert res.metadata["noise"][f"collective_{jump}"] == G


def test_collective_node_equals_explicit_graph_under_collective_noise():
    """J_-, J_z, J_+ keep the symmetric subspace: the collective node (dimension N + 1) runs the same
    E(t) as the explicit graph from |g...g>."""
    kw = dict(times=np.linspace(0, 4, 9), method="exact", initial="product", collective_emission=0.1,
              collective_dephasing=0.05, collective_pumping=0.03)
    params = {"N": 3, "J": 0.2, "Delta": 0.7}
    explicit = cqc.charge("all-to-all", 0.5, params=params, **kw)
    collective = cqc.charge("all-to-all", 0.5, params={**params, "representation": "collective"}, **kw)
    assert collective.metadata["dim"] == 4 and explicit.metadata["dim"] == 8
    np.testing.assert_allclose(collective.energy, explicit.energy, rtol=0, atol=1e-10)


def test_jump_operators_and_norm_bounds():
    mg = validate_graph(make_model("xxz-chain", {"N": 3}).graph())
    rates = dict(pumping=0.1, collective_emission=0.2, collective_dephasing=0.3, collective_pumping=0.4)
    ops = build_operators(mg, **rates)
    kinds = [j.kind for j in ops.jumps]
    assert kinds == ["pumping"] * 3 + ["collective_emission", "collective_dephasing", "collective_pumping"]
    assert all(j.target == "all sites" for j in ops.jumps[3:])
    Jm = sum(ops.site_operator("-", i) for i in range(3)).toarray()
    np.testing.assert_allclose(ops.jumps[3].matrix.toarray(), np.sqrt(0.2) * Jm, atol=1e-15)
    np.testing.assert_allclose(ops.jumps[5].matrix.toarray(), np.sqrt(0.4) * Jm.T, atol=1e-15)
    actual = sum(np.linalg.norm((j.matrix.T @ j.matrix).toarray(), 2) for j in ops.jumps)
    bound = operator_scales(mg, 0.5, 0.0, 0.0, None, **rates)["rates"]
    assert actual <= bound + 1e-12


def test_local_pumping_on_a_collective_node_is_refused():
    mg = validate_graph(make_model("all-to-all", {"N": 3, "representation": "collective"}).graph())
    with pytest.raises(cqc.InputError, match=r"node 'spins': local pumping cannot act on a collective spin") as err:
        build_operators(mg, pumping=0.1)
    assert "\n" not in str(err.value)
    build_operators(mg, collective_emission=0.1)  # collective jumps are fine


def test_trajectories_refuse_collective_emission_in_one_line(capsys):
    """J_- on explicit sites is not monomial: refused in one line that names it and points to method exact."""
    with pytest.raises(cqc.InputError, match=r"collective[ _]emission") as err:
        cqc.charge("all-to-all", 0.5, params={"N": 3}, t_max=1, n_times=3, method="trajectories",
                   collective_emission=0.1, ntraj=4)
    assert "\n" not in str(err.value) and "exact" in str(err.value)
    rc = main(["charge", "all-to-all", "-p", "N=3", "--t-max", "1", "--n-times", "3", "--method", "trajectories",
               "--ntraj", "4", "--collective-emission", "0.1"])
    err = capsys.readouterr().err
    assert rc == 2 and "collective" in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("name", ["pumping", "collective_emission", "collective_dephasing", "collective_pumping"])
def test_negative_rates_refused(name):
    with pytest.raises(cqc.InputError, match=name):
        cqc.charge("two-level", **{name: -0.1})
