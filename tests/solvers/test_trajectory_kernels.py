"""The trajectory engine's integrators: closed-system limit, smooth envelopes, jump times,
and bitwise independence of batches, threads and workers."""

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import collective_qc as cqc
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators
from collective_qc.physics.protocols import Protocol
from collective_qc.physics.registry import make_model
from collective_qc.solvers.contract import SolveProblem
from collective_qc.solvers.solution import SolverOptions
from collective_qc.solvers.trajectories import build_payload, run_batch, trajectory_keys

INTEGRATORS = ["chebyshev", "dopri5", "rk4"]


def _opts(integrator, **kw):
    kw.setdefault("dt_max", 0.004 if integrator == "rk4" else None)
    return SolverOptions(integrator=integrator, rtol=1e-11, atol=1e-11, **kw)


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_without_noise_every_integrator_reproduces_the_closed_solver(integrator):
    kw = dict(params={"N": 4}, t_max=5, n_times=11, protocol="on-off:2.5")
    ref = cqc.charge("xxz-ring", 0.5, method="closed", symmetry=False, **kw)
    tr = cqc.charge("xxz-ring", 0.5, method="trajectories", solver_options=_opts(integrator, ntraj=2), **kw)
    assert tr.metadata["trajectories"]["integrator"] == integrator
    for qty in ("energy", "power", "capacitance"):
        np.testing.assert_allclose(getattr(tr, qty), getattr(ref, qty), rtol=0, atol=1e-7, err_msg=qty)


@pytest.mark.parametrize("integrator", INTEGRATORS)
@pytest.mark.parametrize("protocol", ["on-off:2.2", "on-off:0.6"])
def test_samples_after_t0_follow_the_evolution_from_t0(integrator, protocol):
    """Sample times that start after t = 0 (here 1.0; the switch inside the samples or before
    them): the trajectories evolve from t = 0 like the closed solver."""
    kw = dict(params={"N": 4}, times=np.linspace(1.0, 4.0, 7), protocol=protocol)
    ref = cqc.charge("xxz-ring", 0.5, method="closed", symmetry=False, **kw)
    tr = cqc.charge("xxz-ring", 0.5, method="trajectories", solver_options=_opts(integrator, ntraj=2), **kw)
    assert abs(ref.energy[0]) > 0.1  # the state at the first sample is charged already
    for qty in ("energy", "power", "capacitance"):
        np.testing.assert_allclose(getattr(tr, qty), getattr(ref, qty), rtol=0, atol=1e-7, err_msg=qty)


def test_samples_after_t0_with_noise_agree_with_exact():
    kw = dict(params={"N": 3, "J": 0.3}, times=np.linspace(1.0, 4.0, 7), protocol="on-off:2.2",
              dephasing=0.05, relaxation=0.1)
    ex = cqc.charge("xxz-ring", 0.5, method="exact", **kw)
    tr = cqc.charge("xxz-ring", 0.5, method="trajectories", ntraj=1000, seed=5, **kw)
    for qty in ("energy", "power", "capacitance"):
        z = np.abs(getattr(tr, qty) - getattr(ex, qty)) / getattr(tr, f"{qty}_stderr")
        assert np.max(z) < 4.0, (qty, z)


class SinSquared(Protocol):
    """f(t) = sin^2(pi t / T): a smooth envelope (not piecewise constant)."""

    piecewise_constant = False

    def __init__(self, period):
        self.period = period

    def value(self, t):
        return float(np.sin(np.pi * t / self.period) ** 2)

    def breakpoints(self, t0, t1):
        return []

    def describe(self):
        return {"name": "sin2", "period": self.period}


def _closed_reference(model, params, drive, proto, times):
    """E(t) - E(0) and C_Q(t) of the closed system by solve_ivp on (psi, d psi / d lambda)."""
    ops = build_operators(validate_graph(make_model(model, params).graph()))
    H0, V, HB = (ops.H0.toarray(), ops.V.toarray(), ops.H_B.toarray())
    psi0 = np.linalg.eigh(HB)[1][:, 0].astype(complex)
    dim = len(psi0)

    def rhs(t, y):
        f = proto.value(t)
        psi, phi = y[:dim], y[dim:]
        H = H0 + drive * f * V
        return np.concatenate([-1j * H @ psi, -1j * (H @ phi + f * V @ psi)])

    sol = solve_ivp(rhs, (times[0], times[-1]), np.concatenate([psi0, 0 * psi0]), t_eval=times, rtol=1e-12,
                    atol=1e-12, method="DOP853")
    psi, phi = sol.y[:dim], sol.y[dim:]
    e = np.real(np.einsum("it,ij,jt->t", psi.conj(), HB, psi))
    c = 2 * np.real(np.einsum("it,ij,jt->t", phi.conj(), HB, psi))
    return e - e[0], c


@pytest.mark.parametrize("integrator", ["auto", "dopri5", "rk4"])
def test_smooth_envelope_is_integrated_not_sampled(integrator):
    proto = SinSquared(3.0)
    times = np.linspace(0, 6, 25)
    e_ref, c_ref = _closed_reference("xxz-ring", {"N": 3}, 0.7, proto, times)
    tr = cqc.charge("xxz-ring", 0.7, times=times, params={"N": 3}, method="trajectories", protocol=proto,
                    solver_options=_opts(integrator, ntraj=2), symmetry=False)
    assert tr.metadata["trajectories"]["integrator"] == ("dopri5" if integrator == "auto" else integrator)
    np.testing.assert_allclose(tr.energy, e_ref, atol=1e-7)
    np.testing.assert_allclose(tr.capacitance, c_ref, atol=1e-7)


def test_chebyshev_refuses_a_smooth_envelope():
    with pytest.raises(cqc.InputError, match="piecewise-constant"):
        cqc.charge("two-level", 0.5, method="trajectories", protocol=SinSquared(2.0), t_max=1, n_times=3,
                   dephasing=0.1, solver_options=SolverOptions(integrator="chebyshev", ntraj=2))


def _splitmix(state):
    m = (1 << 64) - 1
    state = (state + 0x9E3779B97F4A7C15) & m
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & m
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & m
    return state, ((z ^ (z >> 31)) >> 11) / 9007199254740992.0


@pytest.mark.parametrize("integrator", INTEGRATORS)
def test_jump_time_follows_the_decay_law(integrator):
    """Excited two-level atom, relaxation kappa, no drive: ||psi(t)||^2 = exp(-kappa t), so the
    jump happens exactly at t* = -ln(r) / kappa for the trajectory's threshold r."""
    kappa = 0.3
    ops = build_operators(validate_graph(make_model("two-level", {}).graph()), relaxation=kappa)
    w, u = np.linalg.eigh(ops.H_B.toarray())
    excited = u[:, [-1]].astype(complex)
    proj = np.abs(u[:, -1]) ** 2
    keys = trajectory_keys(3, 4)
    for key in keys:
        state, _ = _splitmix(int(key))  # the member draw
        _, u_r = _splitmix(state)
        t_star = -np.log(1.0 - u_r) / kappa
        times = np.array([0.0, t_star - 1e-9, t_star + 1e-9, t_star + 1.0])
        problem = SolveProblem(ops, excited, np.ones(1), 0.0, cqc.physics.protocols.Constant(), times,
                               diagonal_observables=proj[None, :])
        payload = build_payload(problem, _opts(integrator), integrator)
        e, p, c, stats, d = run_batch(payload, np.array([key]))
        assert stats[0, 0] == 1
        np.testing.assert_allclose(d[0, 0], [1.0, 1.0, 0.0, 0.0], atol=1e-12)


def _run(**kw):
    base = dict(params={"N": 4}, method="trajectories", dephasing=0.05, relaxation=0.02, t_max=4, n_times=21)
    return cqc.charge("xxz-ring", 0.5, **base, **kw)


def test_batch_size_does_not_change_a_single_bit():
    runs = [_run(solver_options=SolverOptions(ntraj=24, seed=9, block=b)) for b in (0, 1, 5)]
    for r in runs[1:]:
        for qty in ("energy", "power", "capacitance", "energy_stderr"):
            assert np.array_equal(getattr(r, qty), getattr(runs[0], qty)), qty


def test_a_trajectory_depends_on_its_key_only():
    """run_batch is what a Dask worker runs: any split of the keys gives the same rows."""
    ops = build_operators(validate_graph(make_model("xxz-ring", {"N": 3}).graph()), dephasing=0.05,
                          relaxation=0.05)
    psi0 = np.linalg.eigh(ops.H_B.toarray())[1][:, [0]].astype(complex)
    times = np.linspace(0, 4, 9)
    for integ in INTEGRATORS:
        problem = SolveProblem(ops, psi0, np.ones(1), 0.5, cqc.physics.protocols.Constant(), times)
        payload = build_payload(problem, SolverOptions(integrator=integ), integ)
        keys = trajectory_keys(4, 6)
        whole = run_batch(payload, keys)
        parts = [run_batch(payload, keys[i:i + 1]) for i in range(6)]
        for k in range(4):
            assert np.array_equal(whole[k], np.concatenate([p[k] for p in parts]))


def test_solver_options_reach_charge_and_keywords_override_them():
    r = _run(ntraj=6, seed=2, tolerance=1e-6, solver_options=SolverOptions(ntraj=50, seed=1, integrator="dopri5"))
    info = r.metadata["trajectories"]
    assert (info["ntraj"], info["seed"], info["integrator"]) == (6, 2, "dopri5")
    assert info["products"] > 0 and info["steps"] > 0
    with pytest.raises(cqc.InputError, match="integrator"):
        _run(solver_options=SolverOptions(integrator="taylor", ntraj=2))


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_one_dask_worker_and_odd_task_size_give_the_in_process_bits():
    """With tests/test_dask.py (two workers): in process, one worker, any task size, same bits."""
    pytest.importorskip("distributed")
    from collective_qc.parallel import open_client

    kw = dict(params={"N": 4}, method="trajectories", dephasing=0.05, relaxation=0.02, t_max=4, n_times=21)
    local = cqc.charge("xxz-chain", 0.5, solver_options=SolverOptions(ntraj=30, seed=11), **kw)
    with open_client(workers=1) as client:
        remote = cqc.charge("xxz-chain", 0.5, client=client, solver_options=SolverOptions(ntraj=30, seed=11, block=7),
                            **kw)
    for qty in ("energy", "power", "capacitance", "capacitance_stderr"):
        assert np.array_equal(getattr(local, qty), getattr(remote, qty)), qty


@pytest.mark.parametrize("z", [0.0, 0.3, 7.5, 31.0, 50.0])
def test_bessel_coefficients_of_the_chebyshev_step(z):
    from scipy.special import jv

    from collective_qc.solvers.kernels.chebyshev import bessel_j

    m = 56
    out, buf = np.empty(m + 2), np.empty(2 * m + 100)
    bessel_j(z, m, out, buf)
    np.testing.assert_allclose(out[: m + 1], jv(np.arange(m + 1), z), rtol=1e-11, atol=1e-15)
