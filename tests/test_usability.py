"""What a new user meets: graph files, JSON output, units, summaries, plug-ins, provenance, CLI help."""

import io
import json
import math
import subprocess
import sys
import textwrap
import warnings

import networkx as nx
import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.analysis.results import format_value
from collective_qc.cli import main
from collective_qc.core.progress import Progress
from collective_qc.core.units import Units, power_unit, rate_unit
from collective_qc.physics import registry


def run(args, **kw):
    p = subprocess.run([sys.executable, "-m", "collective_qc", *args], capture_output=True, text=True,
                       timeout=300, **kw)
    return p.returncode, p.stdout, p.stderr


# -- 1. input files ------------------------------------------------------------------------------
@pytest.mark.parametrize("key", ["edges", "links"])
def test_node_link_json_with_edges_or_links(tmp_path, key):
    g = nx.path_graph(3)
    nx.set_edge_attributes(g, 0.2, "J")
    data = nx.node_link_data(g, edges=key)
    assert key in data
    path = tmp_path / "g.json"
    path.write_text(json.dumps(data))
    from collective_qc.physics.model import load_graph_file

    back = load_graph_file(str(path))
    assert sorted(back.edges) == [(0, 1), (1, 2)] and back.edges[0, 1]["J"] == 0.2
    res = cqc.charge(str(path), t_max=4, n_times=21)
    ref = cqc.charge(g, t_max=4, n_times=21)
    assert np.allclose(res.energy, ref.energy)


def test_node_link_default_of_installed_networkx(tmp_path):
    g = nx.cycle_graph(3)
    path = tmp_path / "g.json"
    path.write_text(json.dumps(nx.node_link_data(g)))  # networkx >= 3.4 writes "edges"
    assert main(["charge", str(path), "--t-max", "2", "--n-times", "11"]) == 0


def test_edge_weight_means_J():
    a, b = nx.path_graph(2), nx.path_graph(2)
    a.edges[0, 1]["weight"] = 0.4
    b.edges[0, 1]["J"] = 0.4
    ra, rb = cqc.charge(a, t_max=3, n_times=11), cqc.charge(b, t_max=3, n_times=11)
    assert np.allclose(ra.energy, rb.energy) and ra.metadata["E0"] == rb.metadata["E0"]


# -- 2. JSON output ------------------------------------------------------------------------------
def test_json_series_are_lists_of_numbers(tmp_path):
    path = tmp_path / "q.json"
    assert main(["charge", "xxz-chain", "-p", "N=3", "--quantities", "all", "--t-max", "3", "--n-times", "11",
                 "--json", str(path)]) == 0
    d = json.loads(path.read_text())
    for key in ("times", "energy", "power", "capacitance"):
        assert len(d[key]) == 11 and all(isinstance(x, float) for x in d[key])
    assert set(d["observables"]) >= {"ergotropy", "coherence_l1", "entanglement_entropy"}
    for name, series in d["observables"].items():
        assert isinstance(series, list) and len(series) == 11, name
        assert all(isinstance(x, (int, float)) for x in series), name
    assert d["units"]["power"] == "omega0^2" and d["units"]["capacitance"] == "dimensionless"


# -- 3. units -------------------------------------------------------------------------------------
FAMILIES = {  # model -> (energy, time, power)
    "two-level": ("omega0", "1/omega0", "omega0^2"),
    "xxz-ring": ("omega0", "1/omega0", "omega0^2"),
    "square-lattice": ("omega0", "1/omega0", "omega0^2"),
    "heisenberg-graph": ("omega0", "1/omega0", "omega0^2"),
    "giant-spin": ("omega0", "1/omega0", "omega0^2"),
    "dicke": ("omega0", "1/omega0", "omega0^2"),
    "tavis-cummings": ("omega0", "1/omega0", "omega0^2"),
    "mn12-ac": ("K", "hbar/K", "K^2/hbar"),
    "fe8": ("K", "hbar/K", "K^2/hbar"),
    "v15-triangle": ("K", "hbar/K", "K^2/hbar"),
    "cr8-ring": ("meV", "hbar/meV", "meV^2/hbar"),
}


@pytest.mark.parametrize("name", sorted(FAMILIES))
def test_unit_strings_every_family(name):
    u = Units(cqc.get_model(name).energy_unit, cqc.get_model(name).time_unit)
    assert (u.energy, u.time, u.power) == FAMILIES[name]
    assert u.of("capacitance_at_tau_c") == "dimensionless" and u.of("average_power_max_per_site") == u.power
    from collective_qc.cli import describe_model

    text = describe_model(cqc.get_model(name))
    assert f"power {u.power}" in text
    for p in cqc.get_model(name).params:  # every parameter described: type, default, meaning
        line = next(ln for ln in text.splitlines() if ln.strip().startswith(p.name + " ("))
        assert p.type.__name__ in line and ":" in line


def test_unit_formatter_general():
    assert power_unit("meV", "ps") == "meV/ps" and power_unit("K", "1/GHz") == "K/(1/GHz)"
    assert rate_unit("omega0", "1/omega0") == "omega0" and rate_unit("K", "hbar/K") == "K/hbar"


def test_summary_units_in_kelvin():
    res = cqc.charge("v15-triangle", drive=0.5, t_max=5, n_times=41)
    s = res.summary()
    assert "[K^2/hbar]" in s and "[hbar/K]" in s and "C_Q(tau_c)       =" in s and "[dimensionless]" in s
    assert "/hbar/K" not in s and "K/hbar/K" not in s


def test_sentinel_defaults_explained(capsys):
    assert main(["models", "dicke"]) == 0
    out = capsys.readouterr().out
    assert "n_max (int, >= 0) = 0 (automatic" in out and "photons (int) = -1 (N photons" in out
    assert "kappa_c (float, >= 0) = 0.0 [omega0]" in out


# -- 5. numbers with errors -------------------------------------------------------------------------
def test_format_value_rounds_to_the_error():
    assert format_value(0.8342941, 0.0123) == "0.834 +- 0.012"
    assert format_value(12.3456, 1.5) == "12.3 +- 1.5"
    assert format_value(1.23456789) == "1.23457"


def test_trajectory_summary_shows_errors():
    res = cqc.charge("xxz-chain", params={"N": 2}, dephasing=0.1, method="trajectories", ntraj=60, seed=3,
                     t_max=6, n_times=31)
    s = res.summary()
    for label in ("tau_c ", "E_max ", "P_max ", "max E(t)/t", "C_Q(tau_c)"):
        line = next(ln for ln in s.splitlines() if label in ln)
        assert "+-" in line, line
    assert "dephasing gamma = 0.1" in s and "initial state" in s and "protocol" in s


def test_compare_table_errors_for_all_gammas_and_baseline_row():
    cmp = cqc.compare("ising-chain", [1, 2], drive=0.5, dephasing=0.1, method="trajectories", ntraj=40,
                      t_max=6, n_times=31)
    lines = cmp.table().splitlines()
    assert lines[1].lstrip().startswith("1 (base)")
    row2 = next(ln for ln in lines if ln.lstrip().startswith("2 "))
    assert row2.count("(") >= 8  # value(error) in 4 figures and every defined Gamma
    assert "N = 1, 2" in cmp.header() and "omega0^2" in cmp.header()


# -- 4. progress -----------------------------------------------------------------------------------
def test_progress_lines_when_piped():
    now = [0.0]
    out = io.StringIO()
    prog = Progress("charge x", unit="trajectories", stream=out, interval=10, delay=2, clock=lambda: now[0])
    for k in range(0, 101, 5):
        now[0] = k * 0.5
        prog(k, 100)
    prog.note("Fock cutoff doubled")
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("charge x: ") and "trajectories" in lines[0] and "left" in lines[0]
    assert 4 <= len(lines) <= 8 and "(done)" in lines[-2] and lines[-1].endswith("Fock cutoff doubled")


def test_progress_second_phase_has_its_own_clock():
    """A new total (e.g. the state evaluations after the trajectories) restarts the clock: its
    elapsed time and estimate are the phase's own."""
    now = [0.0]
    out = io.StringIO()
    prog = Progress("charge z", unit="trajectories", stream=out, interval=1, delay=0, clock=lambda: now[0])
    for k in range(0, 11):
        now[0] = 10.0 * k  # 100 s of trajectories
        prog(k, 10)
    prog.unit = "state evaluations"
    prog(0, 100)  # the phase starts at 100 s
    now[0] = 110.0
    prog(50, 100)  # half of the second phase in 10 s: about 10 s left, not 110
    last = out.getvalue().splitlines()[-1]
    assert "50/100 state evaluations" in last and "10 s" in last and "about 10 s left" in last, last


def test_progress_silent_for_short_work():
    out = io.StringIO()
    prog = Progress("quick", stream=out, clock=lambda: 0.0)
    for k in range(11):
        prog(k, 10)
    assert out.getvalue() == ""


# -- 7. plug-ins -------------------------------------------------------------------------------------
PLUGIN = textwrap.dedent('''
    import networkx as nx
    from collective_qc import Model, Param, register_model

    @register_model
    class Pair(Model):
        """Two coupled two-level sites: H_B = (omega/2)(sz_0 + sz_1) + J (sx sx + sy sy + sz sz)."""
        name = "{name}"
        size_param = None
        params = (Param("J", float, 0.2, "exchange J", unit="energy"),)

        def graph(self):
            g = nx.Graph()
            g.add_edge(0, 1, J=self.values["J"])
            return g
''')


@pytest.fixture
def restore_registry():
    before = dict(registry.MODELS)
    yield
    registry.MODELS.clear()
    registry.MODELS.update(before)


def test_plugin_from_uninstalled_path(tmp_path, restore_registry):
    path = tmp_path / "my_models.py"
    path.write_text(PLUGIN.format(name="my-pair"))
    assert cqc.load_plugin(str(path)) == ["my-pair"]
    res = cqc.charge("my-pair", t_max=3, n_times=11)
    ref = cqc.charge(nx.Graph([(0, 1, {"J": 0.2})]), t_max=3, n_times=11)
    assert np.allclose(res.energy, ref.energy)
    rc, out, err = run(["--plugin", str(path), "charge", "my-pair", "--t-max", "3", "--n-times", "11"])
    assert rc == 0 and "model my-pair" in out, err
    rc, out, err = run(["models", "--plugin", str(path)])
    assert rc == 0 and "my-pair" in out, err


def test_duplicate_plugin_name_refused_everywhere(tmp_path, restore_registry):
    path = tmp_path / "dup.py"
    path.write_text(PLUGIN.format(name="xxz-ring"))
    with pytest.raises(cqc.InputError, match="already taken by built-in") as exc:
        cqc.load_plugin(str(path))
    assert "\n" not in str(exc.value)
    assert registry.MODELS["xxz-ring"].__module__ == "collective_qc.models.spin_lattices"
    for args in (["--plugin", str(path), "models"], ["charge", "--plugin", str(path), "xxz-ring"],
                 ["compare", "xxz-ring", "--sizes", "3", "--plugin", str(path)]):
        rc, out, err = run(args)
        assert rc == 2 and err.count("\n") == 1 and "already taken" in err and "Traceback" not in err, (args, err)


def test_duplicate_entry_point_skipped_with_one_line(monkeypatch, restore_registry):
    import importlib.metadata

    from collective_qc.physics.model import Model

    class Clash(Model):
        name = "two-level"

    class EP:
        name, value = "clash", "clash_pkg:Clash"

        def load(self):
            return Clash

    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group=None: [EP()])
    monkeypatch.setattr(registry, "_loaded", False)
    with warnings.catch_warnings(record=True) as got:
        warnings.simplefilter("always")
        names = cqc.model_names()
    assert "two-level" in names and registry.MODELS["two-level"] is not Clash
    msgs = [str(w.message) for w in got if issubclass(w.category, registry.PluginWarning)]
    assert len(msgs) == 1 and "already taken" in msgs[0] and "\n" not in msgs[0]


# -- 8. provenance and echo -----------------------------------------------------------------------------
def test_per_site_noise_provenance(tmp_path):
    g = nx.path_graph(2)
    g.nodes[0]["gamma"] = 0.2
    g.nodes[1]["kappa"] = 0.05
    g.edges[0, 1]["J"] = 0.3
    path = tmp_path / "noisy.graphml"
    nx.write_graphml(g, path)
    res = cqc.charge(str(path), t_max=3, n_times=11)
    noise = res.metadata["noise"]
    assert noise["per_site_gamma"] == {"0": 0.2} and noise["per_site_kappa"] == {"1": 0.05}
    assert res.method == "exact" and res.metadata["graph_file"] == str(path)
    s = res.summary()
    assert "per-site gamma from the graph {0: 0.2}" in s and str(path) in s
    # the per-site rates are really used: same as the uniform run when every site has the rate
    g2 = nx.path_graph(2, create_using=nx.Graph)
    nx.set_node_attributes(g2, 0.2, "gamma")
    g2.edges[0, 1]["J"] = 0.3
    a = cqc.charge(g2, t_max=3, n_times=11)
    g2u = nx.Graph([(0, 1, {"J": 0.3})])
    b = cqc.charge(g2u, t_max=3, n_times=11, dephasing=0.2)
    assert np.allclose(a.energy, b.energy) and a.metadata["noise"]["dephasing"] == 0.0


def test_compare_user_graph_gives_gamma_row(tmp_path):
    g = nx.cycle_graph(3)
    nx.set_edge_attributes(g, 0.3, "J")
    nx.set_node_attributes(g, 1.0, "omega")
    path = tmp_path / "tri.graphml"
    nx.write_graphml(g, path)
    cmp = cqc.compare(str(path), t_max=8, n_times=81)
    assert [r["n_sites"] for r in cmp.rows] == [3]
    single = cqc.charge("two-level", t_max=8, n_times=81)
    three = cqc.charge("xxz-ring", params={"N": 3, "J": 0.3, "Delta": 1.0}, t_max=8, n_times=81)
    assert math.isclose(cmp.rows[0]["gamma_power"], three.power_max / (3 * single.power_max), rel_tol=1e-9)
    rc, out, err = run(["compare", str(path), "--t-max", "8", "--n-times", "81"])
    assert rc == 0, err
    assert f"graph file {path}" in out and "1 (base)" in out
    assert any(ln.lstrip().startswith("3 ") for ln in out.splitlines())
    rc, out, err = run(["compare", str(path), "--sizes", "2,4"])
    assert rc == 2 and "own size N = 3" in err


# -- 10. help, version, usage ----------------------------------------------------------------------------
def test_version_usage_and_help():
    rc, out, err = run(["--version"])
    assert rc == 0 and cqc.__version__ in out
    rc, out, err = run([])
    assert rc == 2 and "usage: cqc" in err and "charge" in err
    rc, out, err = run(["charge", "--help"])
    assert "not computed from trajectories" not in out and "trajectories average them" in out


def test_heisenberg_lattices_offered_all_work():
    cls = cqc.get_model("heisenberg-graph")
    options = next(p for p in cls.params if p.name == "lattice").doc.split(":")[-1]
    for lat in (s.strip() for s in options.split("|")):
        m = cls(N=3, lattice=lat)
        assert m.graph().number_of_nodes() == 3
    assert cls(N=1).graph().number_of_edges() == 0  # the single-site version has no self-bond


def test_progress_bar_on_a_terminal():
    now = [0.0]
    out = io.StringIO()
    prog = Progress("charge y", stream=out, tty=True, delay=1, clock=lambda: now[0])
    prog(0, 10)
    now[0] = 5.0
    prog(5, 10)
    assert "charge y" in out.getvalue() and "\r" in out.getvalue()  # a tqdm bar, redrawn in place
    prog.note("Fock cutoff doubled")
    prog(10, 10)
    assert "charge y: Fock cutoff doubled\n" in out.getvalue() and prog._bar is None


def test_charge_and_compare_report_progress():
    out = io.StringIO()
    prog = Progress("charge t", stream=out, delay=0, interval=0)
    cqc.charge("xxz-chain", params={"N": 3}, t_max=2, n_times=11, progress=prog)
    lines = out.getvalue().splitlines()
    assert lines[-1] == lines[-1].strip() and "11/11 time samples (100%)" in lines[-1] and "(done)" in lines[-1]
    out = io.StringIO()
    prog = Progress("compare t", unit="runs", stream=out, delay=0, interval=0)
    cqc.compare("xxz-chain", [2, 3], t_max=2, n_times=11, progress=prog)
    lines = out.getvalue().splitlines()
    assert "3/3 runs (100%)" in lines[-1] and any("/3 runs" in ln and "(done)" not in ln for ln in lines)


def test_dark_state_reported_as_not_charged(tmp_path):
    g = nx.cycle_graph(4)  # isotropic Heisenberg ring: singlet ground state, annihilated by sum_i sx_i
    nx.set_edge_attributes(g, 0.3, "J")
    res = cqc.charge(g, t_max=5, n_times=51)
    assert np.max(np.abs(res.energy)) < 1e-12 and res.not_charged
    assert "NOT CHARGED" in res.summary()
    assert not cqc.charge("xxz-ring", params={"N": 4}, t_max=5, n_times=51).not_charged
    path = tmp_path / "ring.graphml"
    nx.write_graphml(g, path)
    cmp = cqc.compare(str(path), t_max=5, n_times=51)
    assert "NOT CHARGED at N = 4" in cmp.table()


# -- summaries of the new initial states and noise channels ----------------------------------------
def _pauli_all_to_all(n, omega=1.0, J=0.3, delta=0.5):
    """H_B of the all-to-all model by Kronecker products of Pauli matrices (independent of QuSpin)."""
    sx, sy, sz = np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1.0])

    def site(op, i):
        mats = [np.eye(2)] * n
        mats[i] = op
        out = mats[0]
        for m in mats[1:]:
            out = np.kron(out, m)
        return out

    H = sum(omega / 2 * site(sz, i) for i in range(n))
    for i in range(n):
        for j in range(i + 1, n):
            H = H + J * (site(sx, i) @ site(sx, j) + site(sy, i) @ site(sy, j) + delta * site(sz, i) @ site(sz, j))
    return H


def test_summary_names_thermal_initial_state():
    res = cqc.charge("two-level", initial="thermal:0.5", t_max=2, n_times=11)
    line = next(ln for ln in res.summary().splitlines() if "initial state" in ln)
    assert "thermal state exp(-H_B/T)/Z at T = 0.5 [omega0]" in line and "degenerate" not in line
    assert res.metadata["E0"] == pytest.approx(-0.5 * math.tanh(1.0), abs=1e-12)  # -(omega/2) tanh(omega/2T)
    res = cqc.charge("all-to-all", params={"N": 3}, initial="thermal:0.5", method="exact", t_max=2, n_times=11)
    line = next(ln for ln in res.summary().splitlines() if "initial state" in ln)
    assert "thermal state" in line and "T = 0.5" in line and "over 8 eigenstates" in line
    w = np.linalg.eigvalsh(_pauli_all_to_all(3))
    p = np.exp(-(w - w[0]) / 0.5)
    assert res.metadata["E0"] == pytest.approx(float(w @ p / p.sum()), abs=1e-10)


def test_summary_names_dicke_and_degenerate_ground_states():
    res = cqc.charge("all-to-all", params={"N": 3}, initial="dicke:1/2,-1/2", method="exact", t_max=2, n_times=11)
    line = next(ln for ln in res.summary().splitlines() if "initial state" in ln)
    # 3 spin-1/2 = 3/2 + 2 x 1/2: d_J = 2 copies of J = 1/2
    assert "Dicke state |J = 0.5, M = -0.5>" in line and "d_J = 2 copies" in line
    res = cqc.charge("ising-ring", params={"N": 4, "omega": 0.0}, t_max=2, n_times=11)  # two Neel states
    line = next(ln for ln in res.summary().splitlines() if "initial state" in ln)
    assert "2-fold degenerate ground level" in line


def test_summary_reads_permutation_solver_descriptions():
    from collective_qc.analysis.results import describe_initial

    assert describe_initial({"kind": "dicke:0.5,-0.5", "members": 1, "degeneracy": 1, "mixture": "uniform"}, 3) \
        == "Dicke state |J = 0.5, M = -0.5>: uniform mixture over its d_J = 2 copies"
    assert describe_initial({"kind": "dicke:1.5,0.5", "members": 1, "degeneracy": 1, "mixture": "pure"}, 3) \
        == "Dicke state |J = 1.5, M = 0.5>"  # J = N/2: d_J = 1
    assert describe_initial({"kind": "thermal:0.5", "members": 8.000000000000004, "degeneracy": 1}, 3, "K") \
        == "thermal state exp(-H_B/T)/Z at T = 0.5 [K] over 8 eigenstates of H_B"
    assert "2-fold degenerate" in describe_initial({"kind": "ground", "members": 2.0000000000000013,
                                                    "degeneracy": 2.0000000000000013}, 3)
    assert describe_initial({"kind": "ground", "members": 1.0000000000000002, "degeneracy": 1.0000000000000002},
                            3) == "ground state of H_B"


def test_summary_lists_every_noise_rate():
    from collective_qc.analysis.results import describe_noise
    from collective_qc.physics.operators import NOISE_RATES

    res = cqc.charge("all-to-all", params={"N": 3}, initial="product", method="exact", collective_emission=0.2,
                     t_max=2, n_times=11)
    s = res.summary()
    assert "collective_emission G = 0.2 [rates in omega0]" in s and "closed system" not in s
    assert res.metadata["E0"] == pytest.approx(-3 * 0.5 + 0.3 * 0.5 * 3, abs=1e-12)  # |ggg>: -3 omega/2 + 3 J Delta
    noise = {k: 0.01 * (i + 1) for i, k in enumerate(NOISE_RATES)}
    noise.update(per_site_gamma={"0": 0.2}, per_site_kappa={"1": 0.05}, cavity_kappa={"c": 0.3})
    text = describe_noise(noise, "K")
    for k in NOISE_RATES:
        assert f"{k} " in text and f"= {noise[k]:g}" in text
    assert "collective_pumping G = 0.06" in text and "pumping p = 0.03" in text
    assert "per-site gamma from the graph {0: 0.2}" in text and "per-site kappa from the graph {1: 0.05}" in text
    assert "cavity loss c: 0.3" in text and text.endswith("[rates in K]")
    assert describe_noise({"dephasing": 0.0, "relaxation": 0.0}) == "none (closed system)"
