"""Protocols: parsing, envelopes, the charge-store-discharge sequence, smooth pulses across solvers."""

import math

import networkx as nx
import numpy as np
import pytest
from reference import SZ, site_op, spin_model

from collective_qc import charge
from collective_qc.core.errors import InputError
from collective_qc.physics.protocols import (
    ChargeStoreDischarge,
    Constant,
    Gaussian,
    OnOff,
    Ramp,
    Sin2Pulse,
    Table,
    UserEnvelope,
    parse_protocol,
)


@pytest.mark.parametrize("spec,cls,smooth", [
    (None, Constant, False), ("constant", Constant, False), ("on-off:3", OnOff, False),
    ("ramp:2", Ramp, True), ("sin2:5", Sin2Pulse, True), ("gauss:3,0.5", Gaussian, True),
    ("charge-store-discharge:1,2", ChargeStoreDischarge, False), ("table:0/0;1/1;3/0", Table, True),
])
def test_parse_and_flags(spec, cls, smooth):
    p = parse_protocol(spec)
    assert isinstance(p, cls) and p.piecewise_constant is (not smooth)
    assert p.describe()["name"] in (spec or "constant")


def test_envelope_values_and_breakpoints():
    assert Ramp(2.0).value(1.0) == 0.5 and Ramp(2.0).value(5.0) == 1.0 and Ramp(2.0).breakpoints(0, 3) == [2.0]
    s = Sin2Pulse(4.0)
    assert s.value(1.0) == pytest.approx(0.5) and s.value(2.0) == pytest.approx(1.0) and s.value(4.5) == 0.0
    assert Gaussian(3.0, 0.5).value(3.5) == pytest.approx(math.exp(-0.5))
    t = parse_protocol("table:0/0;1/1;3/0")
    assert t.value(0.5) == 0.5 and t.value(2.0) == 0.5 and t.value(9.0) == 0.0 and t.breakpoints(0, 3) == [1.0]
    u = parse_protocol(lambda t: math.cos(t) ** 2)
    assert isinstance(u, UserEnvelope) and u.value(math.pi) == pytest.approx(1.0)
    c = ChargeStoreDischarge(1.0, 2.0, 0.5)
    assert [c.value(x) for x in (0.5, 1.5, 3.2, 4.0)] == [1.0, 0.0, -1.0, 0.0]
    assert c.breakpoints(0.0, 10.0) == [1.0, 3.0, 3.5] and c.breakpoints(1.0, 3.0) == []
    assert c.describe()["discharge_channel"] == "charger"


def test_table_from_file(tmp_path):
    f = tmp_path / "env.csv"
    f.write_text("# t, f\n0, 0\n2, 1\n")
    assert parse_protocol(f"table:{f}").value(1.0) == 0.5


@pytest.mark.parametrize("spec,msg", [
    ("sin3:4", "did you mean 'sin2'"), ("ramp:-1", "must be > 0"), ("gauss:1", "gauss:T0,SIGMA"),
    ("on-off:x", "give numbers"), ("table:0/0;0/1", "strictly increasing"), ("table:/nope.csv", "does not exist"),
    ("charge-store-discharge:1", "TAU,STORE"), (5, "protocol must be"),
])
def test_bad_protocols_are_refused(spec, msg):
    with pytest.raises(InputError, match=msg):
        parse_protocol(spec)


@pytest.mark.parametrize("method", ["closed", "exact"])
def test_charge_store_discharge_returns_the_energy(method):
    """Battery off while charging: E = omega sin^2(lambda t) while charging, frozen while stored,
    and the reversed drive (f = -1) unwinds it to 0 exactly."""
    lam, tau, store = 0.5, 1.2, 0.8
    t = np.linspace(0, 4.0, 81)
    res = charge("two-level", lam, t, protocol=f"charge-store-discharge:{tau},{store}", method=method,
                 battery_off_while_charging=True)
    theta = np.where(t < tau, t, np.where(t < tau + store, tau, np.maximum(2 * tau + store - t, 0.0)))
    assert np.allclose(res.energy, np.sin(lam * theta) ** 2, atol=1e-10)
    assert res.metadata["protocol"]["name"] == "charge-store-discharge"


# --- smooth envelopes across solvers, against an independent QuTiP time-dependent run ----------------

N, J, DELTA, LAM, T_PULSE = 4, 0.3, 0.5, 0.6, 6.0


def _ring():
    g = nx.cycle_graph(N)
    for i in g.nodes:
        g.nodes[i].update(omega=1.0)
    for u, v in g.edges:
        g.edges[u, v].update(J=J, Delta=DELTA)
    return g


def _qutip_run(lam, times, gamma=0.0):
    qutip = pytest.importorskip("qutip")
    hb, v = spin_model(N, [(i, (i + 1) % N) for i in range(N)], jx=J, jy=J, jz=J * DELTA)
    dims = [[2] * N, [2] * N]
    H = [qutip.Qobj(hb, dims=dims), [qutip.Qobj(v, dims=dims), lambda t: lam * Sin2Pulse(T_PULSE).value(t)]]
    psi0 = np.zeros(2**N)
    psi0[-1] = 1.0  # |g...g> (|g> is the second basis state of each site)
    opts = {"atol": 1e-12, "rtol": 1e-10, "nsteps": 100000}
    e_ops = [qutip.Qobj(hb, dims=dims)]
    if gamma:
        c_ops = [qutip.Qobj(math.sqrt(gamma) * site_op(SZ, i, N), dims=dims) for i in range(N)]
        rho0 = qutip.ket2dm(qutip.Qobj(psi0, dims=[[2] * N, [1] * N]))
        out = qutip.mesolve(H, rho0, times, c_ops, e_ops=e_ops, options=opts)
    else:
        out = qutip.sesolve(H, qutip.Qobj(psi0, dims=[[2] * N, [1] * N]), times, e_ops=e_ops, options=opts)
    e = np.real(out.expect[0])
    return e - e[0]


def _qutip_reference(times, gamma=0.0, h=1e-4):
    e = _qutip_run(LAM, times, gamma)
    c = (_qutip_run(LAM + h, times, gamma) - _qutip_run(LAM - h, times, gamma)) / (2 * h)
    return e, c


def test_sin2_pulse_closed_exact_trajectories_agree_with_qutip():
    times = np.linspace(0, 8.0, 33)
    e_ref, c_ref = _qutip_reference(times)
    kw = dict(protocol=f"sin2:{T_PULSE}", initial="product", tolerance=1e-10)
    for method in ("closed", "exact", "trajectories"):
        extra = {"ntraj": 2} if method == "trajectories" else {}
        res = charge(_ring(), LAM, times, method=method, **kw, **extra)
        assert np.allclose(res.energy, e_ref, atol=1e-6), method
        assert np.allclose(res.capacitance, c_ref, atol=1e-6), method


@pytest.mark.slow
def test_sin2_pulse_with_dephasing_exact_and_trajectories_agree_with_qutip():
    times = np.linspace(0, 8.0, 17)
    gamma = 0.05
    e_ref, c_ref = _qutip_reference(times, gamma)
    kw = dict(protocol=f"sin2:{T_PULSE}", initial="product", dephasing=gamma, tolerance=1e-10)
    res = charge(_ring(), LAM, times, method="exact", **kw)
    assert np.allclose(res.energy, e_ref, atol=1e-6) and np.allclose(res.capacitance, c_ref, atol=1e-6)
    tr = charge(_ring(), LAM, times, method="trajectories", ntraj=400, seed=1, **kw)
    assert np.all(np.abs(tr.energy - e_ref) <= 4 * tr.energy_stderr + 1e-9)
    assert np.all(np.abs(tr.capacitance - c_ref) <= 4 * tr.capacitance_stderr + 1e-9)
