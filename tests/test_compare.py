"""compare(): Gamma = 1 where the sites are independent, rows = separate charge runs."""

import json

import networkx as nx
import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.cli import main


@pytest.mark.parametrize("model,params", [
    ("xxz-chain", {"J": 0.0}),
    ("square-lattice", {"J": 0.0}),
    ("all-to-all", {"J": 0.0}),
    ("ising-ring", {"J": 0.0}),
])
def test_non_interacting_sites_have_no_advantage(model, params):
    sizes = {"ising-ring": [3, 4], "square-lattice": [2, 4, 6]}.get(model, [1, 2, 4])
    cmp = cqc.compare(model, sizes, drive=0.4, params=params, t_max=10, n_times=101)
    for row in cmp.rows:
        for key in ("gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy", "gamma_average_power"):
            assert row[key] == pytest.approx(1.0, abs=1e-9), (row["n_sites"], key, row[key])


@pytest.mark.parametrize("model", ["xxz-chain", "all-to-all"])
def test_isotropic_exchange_from_all_down_has_no_advantage(model):
    """Isotropic exchange commutes with total S^x and |g...g> is its eigenstate: independent dynamics."""
    cmp = cqc.compare(model, [2, 3, 5], drive=0.4, params={"J": 0.7, "Delta": 1.0}, initial="product",
                      t_max=10, n_times=101)
    for row in cmp.rows:
        for key in ("gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy"):
            assert row[key] == pytest.approx(1.0, abs=1e-9), (row["n_sites"], key, row[key])


def test_user_graph_without_bonds_has_gamma_one():
    g = nx.Graph()
    g.add_nodes_from(range(3), omega=1.0)
    single = cqc.charge(cqc.physics.registry.make_model(g).single_site(), drive=0.3, t_max=10, n_times=101)
    full = cqc.charge(g, drive=0.3, t_max=10, n_times=101)
    from collective_qc.compare import make_row

    row = make_row(full, single)
    assert row["gamma_power"] == pytest.approx(1.0, abs=1e-9)
    assert row["gamma_tau"] == pytest.approx(1.0, abs=1e-9)


def test_compare_rows_equal_separate_charge_runs(tmp_path):
    opts = dict(t_max=15, n_times=151)
    cmp = cqc.compare("xxz-chain", [2, 4], drive=0.5, params={"J": 0.3, "Delta": 0.5}, **opts)
    one = cqc.charge("xxz-chain", 0.5, params={"N": 1, "J": 0.3, "Delta": 0.5}, **opts)
    for row in cmp.rows:
        res = cqc.charge("xxz-chain", 0.5, params={"N": row["n_sites"], "J": 0.3, "Delta": 0.5}, **opts)
        n = row["n_sites"]
        assert row["tau_c"] == pytest.approx(res.tau_c, rel=1e-12)
        assert row["power_max_per_site"] == pytest.approx(res.power_max / n, rel=1e-12)
        assert row["gamma_power"] == pytest.approx(res.power_max / (n * one.power_max), rel=1e-12)
        assert row["gamma_tau"] == pytest.approx(one.tau_c / res.tau_c, rel=1e-12)
        assert row["gamma_capacitance"] == pytest.approx(
            res.capacitance_at_tau_c / (n * one.capacitance_at_tau_c), rel=1e-12)
        assert row["gamma_energy"] == pytest.approx(res.energy_max / (n * one.energy_max), rel=1e-12)
    # the CLI writes the same rows
    out = tmp_path / "cmp.json"
    assert main(["compare", "xxz-chain", "--sizes", "2,4", "-p", "J=0.3", "-p", "Delta=0.5", "--t-max", "15",
                 "--n-times", "151", "--json", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    for a, b in zip(rows, cmp.rows, strict=True):
        for key in ("n_sites", "gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy"):
            assert a[key] == pytest.approx(b[key], rel=1e-12)


def test_trajectory_rows_carry_error_bars():
    cmp = cqc.compare("ising-chain", [1, 2], drive=0.5, method="trajectories", dephasing=0.05, ntraj=64,
                      t_max=6, n_times=61)
    for row in cmp.rows:
        for key in ("gamma_power", "gamma_tau", "gamma_energy"):
            err = row[key + "_stderr"]
            assert err is not None and np.isfinite(err) and err >= 0
    assert cmp.rows[0]["gamma_power_stderr"] == 0.0  # N = 1 is the baseline run itself


def test_compare_bad_input():
    with pytest.raises(cqc.InputError, match="sizes"):
        cqc.compare("xxz-chain", "1,x")
    with pytest.raises(cqc.InputError, match="size parameter"):
        cqc.compare("giant-spin", [1, 2])
    assert main(["compare", "xxz-chain", "--sizes", "0,2"]) == 2
    with pytest.raises(cqc.InputError, match="sensitivities are not reported by compare"):
        cqc.compare("xxz-chain", [2, 3], sensitivities=["J"])


def test_jackknife_curves_are_the_leave_one_group_out_means():
    from collective_qc.solvers.trajectories import jackknife_curves

    x = np.random.default_rng(0).standard_normal((3, 37, 5))  # 37 trajectories, 16 groups of 2 or 3
    jk = jackknife_curves(list(x), groups=16)
    assert jk.shape == (3, 16, 5)
    for g in (0, 4, 15):
        keep = [i for i in range(37) if i % 16 != g]
        np.testing.assert_allclose(jk[:, g], x[:, keep].mean(axis=1), rtol=1e-13)
    assert jackknife_curves([x[0, :1]]) is None


def test_figure_errors_match_the_spread_of_independent_runs():
    """16 independent runs of 200 trajectories (seeds 0-15): the mean reported error of tau_c,
    C_Q(tau_c) and P_max against the standard deviation of the 16 values (each known to about
    20 %). tau_c is a root of the noisy P and carries its spread into C_Q(tau_c): errors taken at
    a fixed time were 2x (tau_c) and 4x (C_Q*) too small here."""
    kw = dict(params={"N": 3}, dephasing=0.05, t_max=6, n_times=61, method="trajectories", ntraj=200)
    runs = [cqc.charge("xxz-ring", 0.5, seed=s, **kw) for s in range(16)]
    for key in ("tau_c", "capacitance_at_tau_c", "power_max"):
        values = np.array([getattr(r, key) for r in runs])
        reported = np.mean([r.figure_errors()[key] for r in runs])
        ratio = reported / values.std(ddof=1)
        assert 0.6 < ratio < 1.6, (key, ratio)


def test_gamma_errors_match_the_spread_of_independent_comparisons():
    """16 comparisons (seeds 0-15) at N = 3: the mean reported error of the Gammas (paired
    jackknife of the N-site and single-site runs, which share their trajectory streams) against
    the standard deviation of the 16 values (each known to about 20 %)."""
    kw = dict(dephasing=0.05, method="trajectories", ntraj=200, t_max=6, n_times=61)
    rows = [next(r for r in cqc.compare("xxz-ring", [3], drive=0.5, seed=s, **kw).rows if r["n_sites"] == 3)
            for s in range(16)]
    for key in ("gamma_power", "gamma_tau", "gamma_capacitance"):
        ratio = np.mean([r[key + "_stderr"] for r in rows]) / np.std([r[key] for r in rows], ddof=1)
        assert 0.6 < ratio < 1.6, (key, ratio)
