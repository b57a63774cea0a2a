"""The permutation solver (``method="permutation"``): agreement with the explicit exact solver on
the complete graph and the cavity models, Dicke superradiance against the rate equations and
its N^2 / ln(N)/N scaling, refusals of models that break the permutation symmetry, and the
memory plan (block-state size known before anything is allocated)."""

import math
import subprocess
import sys
import time
import warnings

import networkx as nx
import numpy as np
import pytest
import scipy.linalg

import collective_qc as cqc
from collective_qc.api import check_charge
from collective_qc.cli import main
from collective_qc.core.errors import InputError, ResourceError

TOL = 1e-9  # absolute, on E, P, C_Q and the ergotropy (scale O(1))
NOISE = dict(dephasing=0.05, relaxation=0.07, pumping=0.03, collective_emission=0.04)
ALL_CHANNELS = dict(NOISE, collective_dephasing=0.02, collective_pumping=0.01)
RUN = dict(t_max=3.0, n_times=31, quantities="ergotropy")


def _dicke_below_top(n):
    """dicke:J,M one rung below the symmetric block: J = N/2 - 1, M = 0 or 1/2."""
    return f"dicke:{n // 2 - 1},0" if n % 2 == 0 else f"dicke:{n - 2}/2,1/2"


def _assert_same(a, b, tol=TOL):
    """E, P, C_Q and the ergotropy series of two results agree to `tol` (absolute)."""
    np.testing.assert_allclose(a.times, b.times, rtol=0, atol=0)
    for name in ("energy", "power", "capacitance"):
        np.testing.assert_allclose(getattr(b, name), getattr(a, name), rtol=0, atol=tol, err_msg=name)
    np.testing.assert_allclose(b.observables["ergotropy"], a.observables["ergotropy"], rtol=0, atol=tol,
                               err_msg="ergotropy")


def _pair(model, params, params_perm=None, method="permutation", **kw):
    """(exact solver on the explicit graph, `method` on params_perm) of the same run."""
    kw = dict(RUN, **kw)
    exact = cqc.charge(model, 0.5, params=params, method="exact", **kw)
    perm = cqc.charge(model, 0.5, params=params if params_perm is None else params_perm, method=method, **kw)
    return exact, perm


# --- 1. agreement with the explicit exact solver ------------------------------------------------

SIZES = [2, 3, 4, 5, 6, pytest.param(7, marks=pytest.mark.slow), pytest.param(8, marks=pytest.mark.slow)]


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("initial", ["product", "dicke", "thermal:0.7"])
def test_complete_graph_matches_exact(n, initial):
    """All-to-all XXZ (J, Delta), field charger, local dephasing/relaxation/pumping and collective
    emission: the block solver reproduces the 2^N density matrix (measured 1e-14 for N = 2-8)."""
    initial = _dicke_below_top(n) if initial == "dicke" else initial
    exact, perm = _pair("all-to-all", dict(N=n, J=0.3, Delta=0.5), initial=initial, **NOISE)
    assert perm.method == "permutation" and exact.method == "exact"
    assert np.max(np.abs(exact.energy)) > 0.1  # the run does charge
    _assert_same(exact, perm)


@pytest.mark.parametrize("n", [4, pytest.param(5, marks=pytest.mark.slow)])
def test_all_six_channels_match_exact(n):
    """Every local and collective channel at once (collective dephasing and pumping included)."""
    exact, perm = _pair("all-to-all", dict(N=n, J=-0.2, Delta=1.7, omega=1.3), initial="thermal:0.5", **ALL_CHANNELS)
    _assert_same(exact, perm)


@pytest.mark.filterwarnings("ignore:boson mode 'cavity'.*raise n_max:UserWarning")
@pytest.mark.parametrize("model", ["dicke", "tavis-cummings"])
@pytest.mark.parametrize("n,representation", [(2, "explicit"), (3, "collective"),
                                              pytest.param(2, "collective", marks=pytest.mark.slow),
                                              pytest.param(3, "explicit", marks=pytest.mark.slow)])
def test_cavity_matches_exact(model, n, representation):
    """One lossy cavity mode (kappa_c > 0, one photon, n_max = 3) with local dephasing and
    relaxation: the explicit star graph (exact solver) against the permutation solver on either
    representation. The same cutoff in both runs, so the comparison is exact (the cutoff warning
    of the counter-rotating Dicke model is about physics, not about this agreement)."""
    params = dict(N=n, n_max=3, photons=1, kappa_c=0.1)
    exact, perm = _pair(model, dict(params, representation="explicit"), dict(params, representation=representation),
                        dephasing=0.05, relaxation=0.03)
    assert perm.method == "permutation"
    _assert_same(exact, perm)


@pytest.mark.filterwarnings("ignore:boson mode 'cavity'.*raise n_max:UserWarning")
@pytest.mark.parametrize("model,params", [
    ("all-to-all", dict(N=4, J=0.3, Delta=0.5)),
    ("all-to-all", dict(N=5, J=0.3, Delta=0.5)),
    ("dicke", dict(N=3, n_max=3, photons=1, kappa_c=0.1)),
])
@pytest.mark.parametrize("initial", ["product", "thermal:0.7"])
def test_collective_representation_with_local_noise_auto_picks_permutation(model, params, initial):
    """A collective spin node (sites = N) with local noise: only the permutation solver can run
    it, ``auto`` picks it, and it reproduces the explicit graph (exact solver)."""
    assert check_charge(model, 0.5, params=dict(params, representation="collective"), initial=initial,
                        dephasing=0.05, **RUN).method == "permutation"
    noise = dict(dephasing=0.05, relaxation=0.07, pumping=0.03) if model == "all-to-all" else dict(dephasing=0.05)
    exact, perm = _pair(model, dict(params, representation="explicit"), dict(params, representation="collective"),
                        method="auto", initial=initial, **noise)
    assert perm.method == "permutation"
    _assert_same(exact, perm)


# --- 3. Dicke superradiance ---------------------------------------------------------------------

def _superradiance(n, n_times=2000, g_rate=1.0):
    """I(t) = -P(t)/omega of N fully excited spins, collective emission G only (omega = 1, no
    drive, J = 0), sampled over t_max = 3 (ln N + 1)/(G N) (the peak sits near ln N/(G N))."""
    t_max = 3.0 * (math.log(n) + 1.0) / (g_rate * n)
    r = cqc.charge("all-to-all", 0.0, params=dict(N=n, J=0.0, omega=1.0, representation="collective"), t_max=t_max,
                   n_times=n_times, method="permutation", initial=f"dicke:{n}/2,{n}/2", collective_emission=g_rate)
    assert r.method == "permutation"
    return r.times, -r.power


def _rate_equation(n, times, g_rate=1.0):
    """I(t) from the populations of |N/2, M> under sqrt(G) J_- alone (H = omega J_z commutes):
    dp_M/dt = G [(J+M+1)(J-M) p_{M+1} - (J+M)(J-M+1) p_M], I = G sum_M (J+M)(J-M+1) p_M,
    propagated with the matrix exponential of this (N+1)-state rate matrix on the uniform grid."""
    j = n / 2.0
    m = j - np.arange(n + 1)  # M = J, J-1, ..., -J
    out = g_rate * (j + m) * (j - m + 1)  # rate out of M (into M - 1)
    rates = np.diag(-out) + np.diag(out[:-1], -1)
    step = scipy.linalg.expm(rates * (times[1] - times[0]))
    p = np.zeros(n + 1)
    p[0] = 1.0
    series = np.empty(len(times))
    for k in range(len(times)):
        series[k] = out @ p
        p = step @ p
    return series


def _peak(times, rate):
    """(I_max, t_peak) refined by the parabola through the three samples around the maximum."""
    k = int(np.argmax(rate))
    assert 0 < k < len(rate) - 1
    y0, y1, y2 = rate[k - 1:k + 2]
    s = 0.5 * (y0 - y2) / (y0 - 2.0 * y1 + y2)
    return y1 - 0.25 * (y0 - y2) * s, times[k] + s * (times[1] - times[0])


@pytest.mark.parametrize("n", [20, 50])
def test_superradiance_matches_rate_equations(n):
    """The emitted rate of the fully excited state under collective emission alone, against the
    independent (N+1)-level rate equations: 1e-9 relative to the peak (~0.2 G N^2)."""
    times, rate = _superradiance(n, n_times=400)
    ref = _rate_equation(n, times)
    np.testing.assert_allclose(rate, ref, rtol=0, atol=1e-9 * ref.max())


def _scaling(ns):
    peaks = np.array([_peak(*_superradiance(n)) for n in ns])
    slope = np.polyfit(np.log(ns), np.log(peaks[:, 0]), 1)[0]
    delay = peaks[:, 1] * np.asarray(ns) / np.log(ns)  # t_peak N / ln N
    return peaks, slope, delay


def test_superradiance_scaling():
    """I_max grows as N^2 and t_peak as ln(N)/N (Dicke superradiance), N = 10, 20, 50, 100.
    Measured: I_max/N^2 = 0.228, 0.209, 0.200, 0.197 (the quantum delay fluctuations keep it
    below the mean-field G N^2/4); log-log slope 1.940 (N = 10-100); t_peak N/ln N = 0.924,
    1.010, 1.049, 1.055 (0.6 % apart at N = 50, 100)."""
    ns = np.array([10, 20, 50, 100])
    peaks, slope, delay = _scaling(ns)
    assert np.all(peaks[:, 0] <= ns / 2 * (ns / 2 + 1))  # I <= G J(J+1), the largest rate out of any M
    assert np.all((0.18 * ns ** 2 < peaks[:, 0]) & (peaks[:, 0] < 0.25 * ns ** 2))
    assert abs(slope - 2.0) < 0.05 * 2.0
    assert abs(delay[-1] / delay[-2] - 1.0) < 0.01
    assert np.all(np.abs(delay - 1.0) < 0.1)


@pytest.mark.slow
def test_superradiance_scaling_to_200():
    """N = 10, 20, 50, 100, 200 (one (N+1)^2 block each). Measured: slope 1.953 over N = 10-200,
    1.988 over N = 50-200; t_peak N/ln N = 1.049, 1.055, 1.054 at N = 50, 100, 200."""
    ns = np.array([10, 20, 50, 100, 200])
    peaks, slope, delay = _scaling(ns)
    assert abs(slope - 2.0) < 0.05 * 2.0
    tail = np.polyfit(np.log(ns[2:]), np.log(peaks[2:, 0]), 1)[0]
    assert abs(tail - 2.0) < 0.01 * 2.0
    assert np.ptp(delay[2:]) / np.mean(delay[2:]) < 0.01


# --- 4. refusals ---------------------------------------------------------------------------------

def _disordered_complete_graph(path):
    """K4 with identical bonds J = 0.3 where node 's2' has omega = 1.3 instead of 1."""
    g = nx.relabel_nodes(nx.complete_graph(4), {i: f"s{i}" for i in range(4)})
    for node in g.nodes:
        g.nodes[node]["omega"] = 1.3 if node == "s2" else 1.0
    for edge in g.edges:
        g.edges[edge]["J"] = 0.3
    nx.write_graphml(g, path)
    return g


def test_cli_refuses_broken_symmetry(tmp_path):
    """``cqc charge ... --method permutation`` on a ring and on a complete graph with one
    different field: exit code 2 and one stderr line naming the edge / node attribute (both
    processes run side by side; the wall time is mostly the interpreter's imports)."""
    graph = tmp_path / "disordered.graphml"
    _disordered_complete_graph(graph)
    common = ["--method", "permutation", "--dephasing", "0.1", "--t-max", "1", "--n-times", "5"]
    cases = {"ring": (["xxz-ring", "-p", "N=6"], "edge (0, 2) is missing"),
             "field": ([str(graph)], "node 's2': attribute 'omega' = 1.3 differs")}
    start = time.perf_counter()
    procs = {k: subprocess.Popen([sys.executable, "-m", "collective_qc", "charge", *args, *common], text=True,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE) for k, (args, _) in cases.items()}
    for key, proc in procs.items():
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 2, err
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "method 'permutation'" in lines[0] and cases[key][1] in lines[0], err
        assert "Traceback" not in err and out == ""
    assert time.perf_counter() - start < 60


@pytest.fixture(scope="module")
def warm():
    """The imports a first refusal would pay (graph validation, chargers) paid once."""
    check_charge("all-to-all", 0.5, params=dict(N=3), t_max=1, n_times=5, initial="product", dephasing=0.1)


@pytest.mark.parametrize("model,message", [
    ("ring", "edge (0, 2) is missing"),
    ("field", "node 's2': attribute 'omega' = 1.3 differs from node 's0''s 1.0"),
    ("bond", "edge ('s3', 's4'): (Jx, Jy, Jz) ="),
])
def test_api_refusal_is_immediate(warm, model, message, monkeypatch):
    """The symmetry check is O(N + edges) and runs before anything is built (``api.prepare`` raises
    if reached)."""
    monkeypatch.setattr("collective_qc.api.prepare", _not_reached)
    if model == "ring":
        graph, params = "xxz-ring", dict(N=12)
    else:
        graph, params = _disordered_complete_graph_nx(model), None
    start = time.perf_counter()
    with pytest.raises(InputError, match=r"^method 'permutation': ") as err:
        cqc.charge(graph, 0.5, params=params, t_max=1, n_times=5, method="permutation", initial="product",
                   dephasing=0.1)
    assert time.perf_counter() - start < 20.0  # hang guard; O(N + edges) on 5-12 sites
    assert message in str(err.value) and "\n" not in str(err.value)


def _not_reached(*_args, **_kwargs):
    raise AssertionError("operators were built before the refusal")


def _disordered_complete_graph_nx(kind):
    g = nx.relabel_nodes(nx.complete_graph(5), {i: f"s{i}" for i in range(5)})
    for edge in g.edges:
        g.edges[edge]["J"] = 0.3
    if kind == "field":
        g.nodes["s2"]["omega"] = 1.3
        for node in g.nodes:
            g.nodes[node].setdefault("omega", 1.0)
    else:  # one bond differs
        g.edges["s3", "s4"]["J"] = 0.31
    return g


def test_coherence_refused(capsys):
    """The l1 coherence and the entropy depend on a basis of the d_j copies: refused in one line."""
    with pytest.raises(InputError, match="^method 'permutation' computes the ergotropy only, not 'coherence'$"):
        check_charge("all-to-all", 0.5, params=dict(N=4), t_max=1, n_times=5, method="permutation",
                     dephasing=0.1, quantities=["ergotropy", "coherence"])
    assert main(["charge", "all-to-all", "-p", "N=4", "--method", "permutation", "--dephasing", "0.1",
                 "--quantities", "entropy", "--t-max", "1", "--n-times", "5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "computes the ergotropy only, not 'entropy'" in err[0]


@pytest.mark.parametrize("noise", [dict(dephasing=0.1), dict(relaxation=0.1), dict(collective_dephasing=0.1)])
@pytest.mark.parametrize("n", [6, 10])
def test_auto_does_not_pick_permutation_for_a_ring(n, noise):
    plan = check_charge("xxz-ring", 0.5, params=dict(N=n), t_max=1, n_times=5, initial="product", **noise)
    assert plan.method in ("exact", "trajectories")


def test_auto_picks_permutation_for_complete_graph_with_noise():
    plan = check_charge("all-to-all", 0.5, params=dict(N=12), t_max=1, n_times=5, initial="product", dephasing=0.1)
    assert plan.method == "permutation"


# --- 5. memory plan ------------------------------------------------------------------------------

def _block_numbers(n, local):
    """Complex numbers of the block state, counted here: sum_j (2j+1)^2 over j = N/2, N/2-1, ...
    with local noise (every block), (N+1)^2 without (|g...g> lies in j = N/2 alone)."""
    return sum((n + 1 - 2 * b) ** 2 for b in range(n // 2 + 1)) if local else (n + 1) ** 2


@pytest.mark.parametrize("local,power", [(True, 3.0), (False, 2.0)])
def test_memory_plan_scales_with_the_blocks(local, power):
    """check_charge knows the size before anything is built: at least one block state (16 bytes a
    number), and ~N^3 with local noise, ~N^2 with collective noise only from |g...g> (measured
    log-log slopes N = 400 -> 800: 2.95 and 1.89; the operators' N^(2/3)-power term is what keeps
    them below 3 and 2)."""
    noise = dict(dephasing=0.1) if local else dict(collective_emission=0.1)
    ns = [200, 400, 800]
    mem = []
    for n in ns:
        start = time.perf_counter()
        plan = check_charge("all-to-all", 0.5, params=dict(N=n, representation="collective"), t_max=1, n_times=11,
                            method="permutation", initial="product", **noise)
        assert time.perf_counter() - start < 20.0  # hang guard: the plan builds nothing
        assert plan.method == "permutation"
        assert 16 * _block_numbers(n, local) <= plan.memory <= 64 * 16 * _block_numbers(n, local)
        mem.append(plan.memory)
    slope = np.polyfit(np.log(ns[1:]), np.log(mem[1:]), 1)[0]
    assert abs(slope - power) < 0.15


def test_memory_guard_refuses_before_allocating():
    """N = 3000 with local noise needs ~10^12 bytes: ResourceError at once, naming the method."""
    start = time.perf_counter()
    with pytest.raises(ResourceError, match="method 'permutation'"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cqc.charge("all-to-all", 0.5, params=dict(N=3000, representation="collective"), t_max=1, n_times=11,
                       method="permutation", initial="product", dephasing=0.1)
    assert time.perf_counter() - start < 20.0  # hang guard: refused by the plan, before any block is allocated


def test_site_ergotropy_matches_qutip_reduced_state():
    """site_ergotropy (one site's reduced state against (omega/2) s^z) against QuTiP: the explicit
    N = 3 complete graph with local dephasing, relaxation and pumping, reduced by ptrace."""
    qt = pytest.importorskip("qutip")
    n, omega, J, delta, lam = 3, 1.0, 0.3, 0.5, 0.5
    gamma, kappa, pump = 0.05, 0.02, 0.03
    times = np.linspace(0.0, 3.0, 31)
    res = cqc.charge("all-to-all", lam, params={"N": n, "omega": omega, "J": J, "Delta": delta,
                                                "representation": "collective"},
                     times=times, initial="product", dephasing=gamma, relaxation=kappa, pumping=pump,
                     quantities="ergotropy", method="permutation")

    def site(op, i):
        return qt.tensor([op if k == i else qt.qeye(2) for k in range(n)])

    sx, sy, sz, sm = qt.sigmax(), qt.sigmay(), qt.sigmaz(), qt.sigmam()
    H = sum(0.5 * omega * site(sz, i) + lam * site(sx, i) for i in range(n))
    for i in range(n):
        for k in range(i + 1, n):
            H += J * (site(sx, i) * site(sx, k) + site(sy, i) * site(sy, k) + delta * site(sz, i) * site(sz, k))
    c_ops = [np.sqrt(gamma) * site(sz, i) for i in range(n)] + [np.sqrt(kappa) * site(sm, i) for i in range(n)] \
        + [np.sqrt(pump) * site(sm.dag(), i) for i in range(n)]
    rho0 = qt.ket2dm(qt.tensor([qt.basis(2, 1)] * n))
    out = qt.mesolve(H, rho0, times, c_ops, options={"atol": 1e-12, "rtol": 1e-10})
    ref = []
    for rho in out.states:
        r1 = rho.ptrace(0)
        s = np.array([qt.expect(sx, r1), qt.expect(sy, r1), qt.expect(sz, r1)])
        ref.append(0.5 * omega * s[2] + 0.5 * abs(omega) * np.linalg.norm(s))
    assert np.max(np.abs(res.observables["site_ergotropy"] - np.array(ref))) < 1e-8


def test_dicke_below_top_ladder_on_the_collective_node_runs_with_permutation():
    """The explicit-basis limits of dicke:J,M (J = N/2 only on a collective node, the dense J_z = M
    sector) do not apply to the permutation blocks: the collective node with J < N/2 matches the
    explicit graph, and the explicit solver still refuses it there."""
    kw = dict(t_max=2.0, n_times=21, dephasing=0.05, relaxation=0.02, quantities="ergotropy", initial="dicke:1,0")
    ref = cqc.charge("all-to-all", 0.5, params={"N": 6, "J": 0.3}, method="exact", **kw)
    got = cqc.charge("all-to-all", 0.5, params={"N": 6, "J": 0.3, "representation": "collective"},
                     method="permutation", **kw)
    assert np.max(np.abs(got.energy - ref.energy)) < 1e-9
    assert np.max(np.abs(got.observables["ergotropy"] - ref.observables["ergotropy"])) < 1e-9
    with pytest.raises(InputError, match="collective spin node holds only J = N/2"):
        cqc.charge("all-to-all", 0.5, params={"N": 6, "J": 0.3, "representation": "collective"},
                   method="exact", collective_emission=0.1, initial="dicke:1,0")


# --- 6. the kernel: bits independent of the thread count ------------------------------------------

@pytest.mark.parametrize("model, params", [
    ("all-to-all", {"N": 24, "J": 0.05, "representation": "collective"}),
    ("tavis-cummings", {"N": 6, "n_max": 4, "photons": 0, "kappa_c": 0.1}),
])
def test_kernel_bits_do_not_depend_on_thread_count(model, params):
    """One Chebyshev recurrence step with the fused sum and norm, on random Hermitian blocks, with
    one and with two Numba threads: bitwise the same output, sum and norm."""
    import numba

    from collective_qc.api import prepare
    from collective_qc.solvers.matrix_form import Recurrence

    plan = check_charge(model, 0.5, params=params, method="permutation", t_max=1.0, n_times=2, **ALL_CHANNELS)
    gen = prepare(plan).ops.gen
    rng = np.random.default_rng(7)

    def hermitian():
        X = np.zeros(gen.shape, complex)
        for b in range(len(gen.space.js)):
            s = int(gen.space.size[b])
            M = rng.normal(size=(s, s)) + 1j * rng.normal(size=(s, s))
            gen.space.block(X.reshape(-1), b)[:] = M + M.conj().T
        return X

    R, Y, P, Q = hermitian(), hermitian(), hermitian(), hermitian()
    outs = []
    before = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            OR, OY, AR, AY = P.copy(), Q.copy(), R.copy(), Y.copy()
            n2 = gen.apply(0.7, R, Y, OR, OY, Recurrence(0.01, -0.3, 1.0, (OR, OY)), acc=(0.2, AR, AY), norm=True)
            gen.complete(OR, OY, AR, AY)
            outs.append((OR, OY, AR, AY, n2))
    finally:
        numba.set_num_threads(before)
    for a, b in zip(outs[0][:4], outs[1][:4], strict=True):
        assert np.array_equal(a, b)
    assert outs[0][4] == outs[1][4]
    assert outs[0][4] == pytest.approx(np.sum(np.abs(outs[0][0]) ** 2) + np.sum(np.abs(outs[0][1]) ** 2), rel=1e-12)


# --- 7. the excitation window and the damped (real-foci) Chebyshev series -----------------------

def _driven_collective(n, **kw):
    return cqc.charge("all-to-all", 0.5, params={"N": n, "J": 1.0 / n, "Delta": 0.5, "representation": "collective"},
                      t_max=4.0, n_times=41, initial="product", method="permutation", quantities="ergotropy",
                      collective_emission=0.05, **kw)


def test_excitation_window_matches_the_full_ladder(monkeypatch):
    """N = 60 from |g...g> under collective emission: the run confined to the rows with <= 32
    excitations (edge population ~1e-18) equals the run on the whole ladder (window off)."""
    import collective_qc.solvers.permutation as perm

    windowed = _driven_collective(60)
    info = windowed.metadata["solver"]
    assert info["excitations"] < 60 and info["edge_population"] < perm.EDGE_TOL
    monkeypatch.setattr(perm, "WINDOW_MARGIN", 10**6)
    full = _driven_collective(60)
    assert full.metadata["solver"]["excitations"] == 60
    _assert_same(full, windowed, tol=1e-10)


def test_window_widens_when_the_state_spreads():
    """Local dephasing and a strong drive spread the state over every excitation number: the
    first windows leak and the run ends on the full ladder, equal to the exact solver."""
    exact, perm = _pair("all-to-all", {"N": 6, "J": 0.3}, {"N": 6, "J": 0.3, "representation": "collective"},
                        dephasing=0.05)
    _assert_same(exact, perm)


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_damped_series_matches_the_imaginary_axis_series(monkeypatch):
    """A strongly damped generator (N = 400 window, decay >> commutator width) propagated with
    the real-foci ellipse agrees with the default imaginary-axis series to 1e-10 relative."""
    from collective_qc.solvers import lindblad

    a = cqc.charge("all-to-all", 0.5, params={"N": 400, "J": 1 / 400, "representation": "collective"}, t_max=0.4,
                   n_times=5, initial="product", method="permutation", collective_emission=0.2)
    monkeypatch.setattr(lindblad, "DAMPED", float("inf"))
    b = cqc.charge("all-to-all", 0.5, params={"N": 400, "J": 1 / 400, "representation": "collective"}, t_max=0.4,
                   n_times=5, initial="product", method="permutation", collective_emission=0.2)
    assert a.metadata["solver"]["applications"] < 0.5 * b.metadata["solver"]["applications"]  # the damped series ran
    for name in ("energy", "power", "capacitance"):
        x, y = getattr(a, name), getattr(b, name)
        np.testing.assert_allclose(x, y, rtol=0, atol=1e-10 * np.max(np.abs(y)), err_msg=name)
