"""The closed and exact solvers (through the solver contract) against the independent dense oracle
of tests/solvers/reference_solvers.py (eigendecompositions, the full Liouvillian and its Fréchet
derivative; nothing of collective_qc.solvers), and smooth protocols against scipy's solve_ivp."""

import numpy as np
import pytest
import reference_solvers as ref
import scipy.sparse as sp
from scipy.integrate import solve_ivp

from collective_qc.core.errors import InputError
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators
from collective_qc.physics.protocols import OnOff, Protocol, parse_protocol
from collective_qc.physics.registry import make_model, model_names
from collective_qc.physics.states import initial_state
from collective_qc.solvers import closed, lindblad
from collective_qc.solvers.contract import SolveProblem
from collective_qc.solvers.solution import SolverOptions

MAX_DIM = 110


def _contract(solve):
    """The solver with the argument list of the reference solvers (ops, psi0, weights, drive,
    protocol, times; diagonal_observables, an rho hook, tol) over the solver contract."""

    def run(ops, psi0, weights, drive, protocol, times, diagonal_observables=None, observable_hook=None,
            tol=SolverOptions.series_tol):
        hook = None if observable_hook is None else (lambda state: observable_hook(state.rho))
        problem = SolveProblem(ops, psi0, weights, drive, protocol, times, diagonal_observables, hook)
        return solve(problem, SolverOptions(series_tol=tol))

    return run


solve_closed, solve_lindblad = _contract(closed.solve_closed), _contract(lindblad.solve_lindblad)


def _small(name):
    m = make_model(name)
    if validate_graph(m.graph()).dim > MAX_DIM:
        try:
            m = m.with_size(3)
        except InputError:
            return None
    return m if validate_graph(m.graph()).dim <= MAX_DIM else None


def _ops(m):
    mg = validate_graph(m.graph())
    try:
        return build_operators(mg, dephasing=0.05, relaxation=0.03)
    except InputError:  # models without local spin noise: their own channels only
        return build_operators(mg)


def _compare(a, b, tol):
    for name in ("energy", "power", "capacitance"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=0, atol=tol, err_msg=name)


@pytest.mark.parametrize("name", [n for n in model_names() if _small(n) is not None])
def test_matrix_form_equals_superoperator_on_catalog(name):
    m = _small(name)
    ops = _ops(m)
    init = initial_state(ops, "ground")  # the zero-temperature mixture where degenerate
    times = np.linspace(0.0, 6.0, 25)
    proto = OnOff(2.3)
    new = solve_lindblad(ops, init.vectors, init.weights, 0.4, proto, times)
    old = ref.solve_lindblad(ops, init.vectors, init.weights, 0.4, proto, times)
    _compare(new, old, 1e-9)
    k = 7
    t = 0.5 * (times[k] + times[k + 1])
    np.testing.assert_allclose(new.evaluate(k, t), old.evaluate(k, t), rtol=0, atol=1e-9)


def test_cavity_loss_and_diagonals_match_superoperator():
    m = make_model("tavis-cummings", {"N": 2, "n_max": 4, "kappa_c": 0.1})
    ops = build_operators(validate_graph(m.graph()))
    assert any(j.kind == "cavity_loss" for j in ops.jumps)
    init = initial_state(ops, "product")
    times = np.linspace(0.0, 5.0, 21)
    diag = np.array(ops.mode_occupation)
    new = solve_lindblad(ops, init.vectors, init.weights, 0.7, parse_protocol(None), times, diagonal_observables=diag,
                         observable_hook=lambda rho: [np.real(np.trace(rho @ rho))])
    old = ref.solve_lindblad(ops, init.vectors, init.weights, 0.7, parse_protocol(None), times, diagonals=diag,
                             extras=lambda rho: [np.real(np.trace(rho @ rho))])
    _compare(new, old, 1e-9)
    np.testing.assert_allclose(new.observables, old.extras, rtol=0, atol=1e-9)
    assert np.all(np.diff(new.observables[-1]) < 1e-12)  # purity only falls under loss from a pure state


@pytest.mark.parametrize("kappa,drive", [(2.0, 0.1), (20.0, 0.5)])
def test_strongly_damped_two_level_matches_superoperator(kappa, drive):
    """Dissipation far larger than the coherent width: short steps, no cancellation."""
    ops = build_operators(validate_graph(make_model("xxz-chain", {"N": 2}).graph()), dephasing=0.3,
                          relaxation=kappa)
    init = initial_state(ops, "ground")
    times = np.linspace(0.0, 10.0, 21)
    new = solve_lindblad(ops, init.vectors, init.weights, drive, OnOff(4.1), times)
    old = ref.solve_lindblad(ops, init.vectors, init.weights, drive, OnOff(4.1), times)
    _compare(new, old, 1e-9)


def test_general_jump_operator_uses_sparse_path():
    """A non-monomial jump (collective lowering in the product basis) takes the sparse path."""
    m = make_model("xxz-ring", {"N": 3})
    ops = build_operators(validate_graph(m.graph()))
    jm = sum(ops.site_operator("-", i) for i in range(3)).tocsr() * np.sqrt(0.1)
    ops.jumps = [type("J", (), {"kind": "collective", "target": None, "rate": 0.1, "matrix": jm})()]
    init = initial_state(ops, "product")
    times = np.linspace(0.0, 4.0, 17)
    new = solve_lindblad(ops, init.vectors, init.weights, 0.5, OnOff(1.7), times)
    old = ref.solve_lindblad(ops, init.vectors, init.weights, 0.5, OnOff(1.7), times)
    _compare(new, old, 1e-9)


@pytest.mark.parametrize("n,initial", [(4, "ground"), pytest.param(10, "product", marks=pytest.mark.slow)])
def test_closed_equals_expm_multiply_solver(n, initial):
    ops = build_operators(validate_graph(make_model("xxz-ring", {"N": n}).graph()))
    init = initial_state(ops, initial)
    times = np.linspace(0.0, 20.0, 201)
    for proto in (parse_protocol(None), OnOff(3.05)):
        new = solve_closed(ops, init.vectors, init.weights, 0.5, proto, times)
        old = ref.solve_closed(ops, init.vectors, init.weights, 0.5, proto, times)
        _compare(new, old, 1e-8)
        np.testing.assert_allclose(new.evaluate(10, 1.037), old.evaluate(10, 1.037), rtol=0, atol=1e-8)


@pytest.mark.slow
def test_closed_equals_expm_multiply_solver_n14_blocks_and_plain():
    m = make_model("xxz-ring", {"N": 14})
    mg = validate_graph(m.graph())
    for sym in (None, {"kblock": 0, "pblock": 1}):
        ops = build_operators(mg, symmetry=sym)
        init = initial_state(ops, "product")
        times = np.linspace(0.0, 20.0, 201)
        new = solve_closed(ops, init.vectors, init.weights, 0.5, parse_protocol(None), times)
        old = ref.solve_closed(ops, init.vectors, init.weights, 0.5, parse_protocol(None), times)
        _compare(new, old, 1e-8)


class Sin2(Protocol):
    """Test stub: a smooth envelope f(t) = sin^2(pi t / T) for t < T, then 0."""

    piecewise_constant = False

    def __init__(self, T):
        self.T = T

    def value(self, t):
        return float(np.sin(np.pi * t / self.T) ** 2) if t < self.T else 0.0

    def breakpoints(self, t0, t1):
        return [self.T] if t0 < self.T < t1 else []

    def describe(self):
        return {"name": "sin2", "T": self.T}


def _liouville_reference(ops, rho0, lam, proto, times):
    """solve_ivp (DOP853, tight) on the dense augmented Liouvillian: (E, P, C) samples."""
    L0, LV = ref.liouvillian_parts(ops)
    L0, LV = L0.toarray(), LV.toarray()
    d2 = ops.dim ** 2

    def rhs(t, y):
        f = proto.value(t)
        L = L0 + lam * f * LV
        return np.concatenate([L @ y[:d2], L @ y[d2:] + f * (LV @ y[:d2])])

    y0 = np.concatenate([rho0.reshape(-1, order="F"), np.zeros(d2, complex)])
    out = solve_ivp(rhs, (0, times[-1]), y0, method="DOP853", t_eval=times, rtol=1e-12, atol=1e-13)
    hb = ops.H_B.toarray().T.reshape(-1, order="F")
    p = [np.real(hb @ rhs(t, y)[:d2]) for t, y in zip(times, out.y.T, strict=True)]
    return np.real(hb @ out.y[:d2]), np.array(p), np.real(hb @ out.y[d2:])


def test_smooth_protocol_exact_solver_against_solve_ivp():
    ops = build_operators(validate_graph(make_model("xxz-chain", {"N": 3}).graph()), dephasing=0.05,
                          relaxation=0.03)
    init = initial_state(ops, "product")
    times = np.linspace(0.0, 8.0, 33)
    proto = Sin2(5.0)
    sol = solve_lindblad(ops, init.vectors, init.weights, 0.6, proto, times, tol=1e-11)
    rho0 = init.vectors @ init.vectors.conj().T
    e_ref, p_ref, c_ref = _liouville_reference(ops, rho0, 0.6, proto, times)
    np.testing.assert_allclose(sol.energy + sol.e0, e_ref, rtol=0, atol=1e-8)
    np.testing.assert_allclose(sol.capacitance, c_ref, rtol=0, atol=1e-8)
    np.testing.assert_allclose(sol.power, p_ref, rtol=0, atol=1e-8)
    k = 9
    e, p, c = sol.evaluate(k, 0.5 * (times[k] + times[k + 1]))
    assert min(sol.energy[k], sol.energy[k + 1]) - 1e-3 < e < max(sol.energy[k], sol.energy[k + 1]) + 1e-3
    assert sol.info["integrator"] == "dop853"


def test_smooth_protocol_closed_solver_against_solve_ivp():
    ops = build_operators(validate_graph(make_model("xxz-ring", {"N": 4}).graph()))
    init = initial_state(ops, "product")
    times = np.linspace(0.0, 8.0, 33)
    proto = Sin2(5.0)
    sol = solve_closed(ops, init.vectors, init.weights, 0.6, proto, times, tol=1e-11)
    H0, V, HB = (sp.csr_matrix(x).toarray() for x in (ops.H0, ops.V, ops.H_B))

    def energy(lam):
        out = solve_ivp(lambda t, y: -1j * ((H0 + lam * proto.value(t) * V) @ y), (0, times[-1]),
                        init.vectors[:, 0].astype(complex), method="DOP853", t_eval=times, rtol=1e-12,
                        atol=1e-13)
        return np.real(np.einsum("it,ij,jt->t", out.y.conj(), HB, out.y))

    np.testing.assert_allclose(sol.energy + sol.e0, energy(0.6), rtol=0, atol=1e-8)
    h = 1e-4
    c_fd = (energy(0.6 + h) - energy(0.6 - h)) / (2 * h)
    np.testing.assert_allclose(sol.capacitance, c_fd, rtol=0, atol=1e-6)


def test_same_bits_for_any_thread_count():
    import numba

    if numba.config.NUMBA_NUM_THREADS < 2:
        pytest.skip("needs two Numba threads")
    ops = build_operators(validate_graph(make_model("xxz-ring", {"N": 10}).graph()))
    open_ops = build_operators(validate_graph(make_model("xxz-ring", {"N": 4}).graph()), dephasing=0.05,
                               relaxation=0.02)
    times = np.linspace(0.0, 3.0, 7)
    out = []
    old = numba.get_num_threads()
    try:
        for n in (1, 2):
            numba.set_num_threads(n)
            res = []
            for o, solver in ((ops, solve_closed), (open_ops, solve_lindblad)):
                init = initial_state(o, "product")
                s = solver(o, init.vectors, init.weights, 0.5, OnOff(1.3), times)
                res.append(np.concatenate([s.energy, s.power, s.capacitance]))
            out.append(res)
    finally:
        numba.set_num_threads(old)
    for a, b in zip(out[0], out[1], strict=True):
        assert np.array_equal(a, b)


def test_auto_picks_exact_up_to_the_measured_crossover():
    import collective_qc as cqc
    from collective_qc.solvers.lindblad import exact_auto_limit

    assert 256 <= exact_auto_limit(500) < 512  # N = 8 spins 1/2 exact at the default count, N = 9 not
    kw = dict(drive=0.5, params={"N": 4}, t_max=0.5, n_times=3, dephasing=0.05)
    assert cqc.charge("xxz-ring", ntraj=32, **kw).method == "exact"  # dim 16 <= 0.55 x 32
    assert cqc.charge("xxz-ring", ntraj=16, **kw).method == "trajectories"  # dim 16 > 0.55 x 16
    assert cqc.charge("xxz-ring", **{**kw, "dephasing": 0.0}).method == "closed"
