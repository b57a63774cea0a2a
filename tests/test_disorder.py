"""Disorder ensembles from charge() and `cqc charge` (collective_qc.ensemble).

The physics check: independent sites (an XXZ chain with J = 0) under a uniform random field
omega are N two-level capacitors with random splittings, so the ensemble mean E(t) is N times
the paper's closed form E(t; omega) (collective_qc.analysis.two_level, Eq. 10) averaged over the
box distribution by Gauss-Legendre quadrature, and its standard error is the exact standard
deviation of the total energy over sqrt(R). The rest: the seeding rule (realisation r depends on
(seed, r) only), refusals before any run, the exported realised graph, the CLI.
"""

import json

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.analysis import two_level as bl
from collective_qc.analysis.ensemble import EnsembleResult, trajectory_seed
from collective_qc.cli import main
from collective_qc.core.errors import InputError

DRIVE, W, N_SITES, OMEGA0 = 0.5, 0.8, 2, 1.0
# method exact: on these 4-state runs the density-matrix solver is ~4x cheaper per realisation than
# closed (measured 23 ms against 94 ms), and it is as exact at this tolerance (1e-8)
FREE = dict(params={"N": N_SITES, "J": 0.0}, drive=DRIVE, t_max=6.0, n_times=7, method="exact")
SOLVER_ATOL = 1e-7  # the propagator's error on E, P (tolerance 1e-8 per step), far below 3 standard errors


def _box_average(f, t, order=64):
    """(1/W) int_{omega0 - W/2}^{omega0 + W/2} f(t, omega) d omega by Gauss-Legendre quadrature."""
    x, w = np.polynomial.legendre.leggauss(order)
    omegas = OMEGA0 + 0.5 * W * x
    return sum(0.5 * wk * f(t, om) for wk, om in zip(w, omegas))


@pytest.fixture(scope="module")
def free_400():
    return cqc.charge("xxz-chain", disorder=f"omega=uniform:{W}", realisations=400, seed=11, **FREE)


@pytest.fixture(scope="module")
def free_100():
    return cqc.charge("xxz-chain", disorder=f"omega=uniform:{W}", realisations=100, seed=11, **FREE)


def test_free_sites_mean_is_the_averaged_rabi_formula(free_400):
    res = free_400
    t = res.times
    assert isinstance(res, EnsembleResult) and res.n_realisations == 400 and res.n_sites == N_SITES
    e_site = _box_average(lambda tt, om: bl.energy(tt, DRIVE, om), t)
    e2_site = _box_average(lambda tt, om: bl.energy(tt, DRIVE, om) ** 2, t)
    p_site = _box_average(lambda tt, om: bl.power(tt, DRIVE, om), t)
    expected_e = N_SITES * e_site
    sigma_total = np.sqrt(N_SITES * (e2_site - e_site ** 2))  # independent sites: variances add
    dev = np.abs(res.energy - expected_e)
    assert np.all(dev <= 3 * res.energy_stderr + SOLVER_ATOL), (dev / np.maximum(res.energy_stderr, 1e-300)).max()
    assert np.all(np.abs(res.power - N_SITES * p_site) <= 3 * res.power_stderr + SOLVER_ATOL)
    # the standard error is the distribution's standard deviation over sqrt(R) (s has ~3.5 % error)
    late = t > 0
    np.testing.assert_allclose(res.energy_stderr[late], sigma_total[late] / np.sqrt(400), rtol=0.15)
    assert res.energy_stderr[0] <= 1e-12  # every realisation starts empty


def test_standard_error_shrinks_as_one_over_sqrt_r(free_100, free_400):
    late = free_400.times > 0
    ratio = np.sqrt(np.mean(free_100.energy_stderr[late] ** 2) / np.mean(free_400.energy_stderr[late] ** 2))
    assert ratio == pytest.approx(2.0, rel=0.2)
    # the first 100 realisations of R = 400 are those of R = 100
    assert [r["drawn"] for r in free_400.realisations[:100]] == [r["drawn"] for r in free_100.realisations]


def test_drawn_fields_are_the_box_around_the_clean_value(free_400):
    vals = np.array([r["drawn"]["omega"]["values"] for r in free_400.realisations])
    assert vals.shape == (400, N_SITES)
    assert vals.min() >= OMEGA0 - W / 2 and vals.max() < OMEGA0 + W / 2
    assert np.mean(vals) == pytest.approx(OMEGA0, abs=4 * W / np.sqrt(12 * vals.size))
    assert free_400.realisations[0]["drawn"]["omega"]["targets"] == [0, 1]


def test_figure_summaries_match_the_realisations(free_400):
    taus = np.array([r["figures"]["tau_c"] for r in free_400.realisations])
    s = free_400.figures["tau_c"]
    assert s["n"] == 400
    assert s["mean"] == pytest.approx(taus.mean(), rel=1e-14)
    assert s["stderr"] == pytest.approx(taus.std(ddof=1) / 20, rel=1e-12)
    assert s["q10"] <= s["median"] <= s["q90"]
    # every realisation is a two-level pair: tau_c of the slowest site's Rabi frequency bounds it
    omegas = np.array([r["drawn"]["omega"]["values"] for r in free_400.realisations])
    assert np.all(taus >= bl.charging_time(DRIVE, omegas.max(axis=1)) - 1e-6)


SMALL = dict(params={"N": 3, "J": 0.3}, drive=0.5, t_max=6.0, n_times=13, method="closed")


def test_same_seed_same_realisations_and_bits():
    a = cqc.charge("xxz-chain", disorder="omega=uniform:0.4,J=normal:0.1", realisations=5, seed=4, **SMALL)
    b = cqc.charge("xxz-chain", disorder="omega=uniform:0.4,J=normal:0.1", realisations=5, seed=4, **SMALL)
    c = cqc.charge("xxz-chain", disorder="omega=uniform:0.4,J=normal:0.1", realisations=10, seed=4, **SMALL)
    d = cqc.charge("xxz-chain", disorder="omega=uniform:0.4,J=normal:0.1", realisations=5, seed=5, **SMALL)
    assert np.array_equal(a.energy, b.energy) and np.array_equal(a.energy_stderr, b.energy_stderr)
    assert a.realisations == b.realisations
    assert c.realisations[:5] == a.realisations  # realisation r does not depend on R
    assert all(x["drawn"] != y["drawn"] for x, y in zip(a.realisations, d.realisations))
    assert not np.array_equal(a.energy, d.energy)
    # each attribute has its own stream: omega draws do not change when J is drawn as well
    e = cqc.charge("xxz-chain", disorder="omega=uniform:0.4", realisations=5, seed=4, **SMALL)
    assert [r["drawn"]["omega"] for r in e.realisations] == [r["drawn"]["omega"] for r in a.realisations]
    assert a.metadata["disorder"] == {"J": {"dist": "normal", "sigma": 0.1}, "omega": {"dist": "uniform", "width": 0.4}}
    assert a.metadata["realisations"] == 5 and a.metadata["seed"] == 4


def test_exported_graph_reproduces_its_realisation(tmp_path):
    res = cqc.charge("xxz-chain", disorder="omega=uniform:0.4,J=normal:0.1", realisations=3, seed=7, **SMALL)
    path = str(tmp_path / "r1.json")
    g = res.realised_graph(1, path)
    drawn = res.realisations[1]["drawn"]
    assert [g.nodes[n]["omega"] for n in drawn["omega"]["targets"]] == drawn["omega"]["values"]
    assert [g.edges[tuple(e)]["J"] for e in drawn["J"]["targets"]] == drawn["J"]["values"]
    again = cqc.charge(path, **{k: v for k, v in SMALL.items() if k != "params"})
    assert {f: getattr(again, f) for f in res.realisations[1]["figures"]} == res.realisations[1]["figures"]
    with pytest.raises(InputError, match="realised_graph index"):
        res.realised_graph(3)


def test_trajectory_realisations_are_seeded_by_seed_and_index(tmp_path):
    opts = dict(drive=0.5, t_max=5.0, n_times=11, method="trajectories", ntraj=16, dephasing=0.05)
    a = cqc.charge("two-level", disorder="omega=uniform:0.3", realisations=3, seed=2, **opts)
    b = cqc.charge("two-level", disorder="omega=uniform:0.3", realisations=2, seed=2, **opts)
    assert b.realisations == a.realisations[:2]
    seeds = [r["trajectory_seed"] for r in a.realisations]
    assert seeds == [trajectory_seed(2, r) for r in range(3)] and len(set(seeds)) == 3
    path = str(tmp_path / "r2.json")
    a.realised_graph(2, path)
    again = cqc.charge(path, seed=seeds[2], **opts)
    assert {f: getattr(again, f) for f in a.realisations[2]["figures"]} == a.realisations[2]["figures"]


def test_progress_counts_realisations():
    calls = []
    cqc.charge("two-level", disorder="omega=uniform:0.2", realisations=3, seed=0, t_max=4.0, n_times=9,
               progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1, 3), (2, 3), (3, 3)]


@pytest.fixture
def no_run(monkeypatch):
    """Any solver run fails loudly: a refusal must come before it."""
    import collective_qc.api as api

    def boom(*a, **k):
        raise AssertionError("a run started before the refusal")

    monkeypatch.setattr(api, "solve", boom)


@pytest.mark.parametrize("kwargs, key", [
    (dict(disorder={"omega": {"dist": "uniform", "width": -0.1}}), "disorder 'omega' width"),
    (dict(disorder="omega=unifrom:0.5"), "unknown distribution 'unifrom'"),
    (dict(disorder="omgea=uniform:0.5"), "unknown attribute 'omgea'"),
    (dict(disorder="gamma=uniform:0.3", dephasing=0.1), "disorder 'gamma'"),
    (dict(disorder="gamma=normal:0.01", dephasing=0.1), "disorder 'gamma'"),
    (dict(disorder="kappa=bimodal:0.5", relaxation=0.2), "disorder 'kappa'"),
    (dict(realisations=3), "realisations = 3 needs disorder"),
    (dict(disorder="omega=uniform:0.5", realisations=0), "realisations"),
    (dict(disorder="J=normal:0.1"), "disorder 'J': model 'two-level' has no spin-spin bonds"),
])
def test_refusals_one_line_before_any_run(no_run, kwargs, key):
    with pytest.raises(InputError) as err:
        cqc.charge("two-level", t_max=4.0, **kwargs)
    assert key in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError):
        cqc.api.check_charge("two-level", t_max=4.0, **kwargs)


def test_rate_box_within_twice_the_rate_is_accepted(no_run):
    plan = cqc.api.check_charge("two-level", disorder="gamma=uniform:0.2", dephasing=0.1, realisations=4)
    assert plan.method in ("exact", "trajectories")


def test_collective_node_is_refused(no_run):
    with pytest.raises(InputError, match="collective spin node"):
        cqc.charge("dicke", params={"N": 3}, disorder="omega=uniform:0.2", realisations=2)


def test_cli_prints_the_ensemble_and_writes_json(tmp_path, capsys):
    out_json, out_png = tmp_path / "e.json", tmp_path / "e.png"
    rc = main(["charge", "xxz-chain", "-p", "N=2", "-p", "J=0", "--t-max", "6", "--n-times", "13",
               "--disorder", "omega=uniform:0.5", "--realisations", "6", "--seed", "3",
               "--json", str(out_json), "--plot", str(out_png)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "R = 6 realisations, seed 3" in out and "omega: uniform, full width 0.5" in out
    assert "tau_c [1/omega0]" in out and "6/6" in out
    d = json.loads(out_json.read_text())
    assert len(d["realisations"]) == 6 and d["figures"]["tau_c"]["n"] == 6
    assert len(d["energy_stderr"]) == 13 and d["metadata"]["seed"] == 3
    assert out_png.stat().st_size > 10_000


def test_cli_bad_spec_is_one_line(capsys):
    rc = main(["charge", "two-level", "--disorder", "omega=uniform:-1", "--realisations", "3"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "disorder 'omega'" in err
    rc = main(["charge", "two-level", "--realisations", "3"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "realisations" in err


def test_ergotropy_is_averaged_and_summarised():
    # a pure state of one two-level site charged from its ground state has W(t) = E(t) exactly
    res = cqc.charge("two-level", disorder="omega=uniform:0.3", realisations=3, seed=1, t_max=5.0, n_times=21,
                     quantities="ergotropy")
    np.testing.assert_allclose(res.observables["ergotropy"], res.energy, atol=1e-9)
    np.testing.assert_allclose(res.observables_stderr["ergotropy"], res.energy_stderr, atol=1e-9)
    assert res.figures["ergotropy_max"]["n"] == 3
    assert res.figures["ergotropy_max"]["mean"] <= res.figures["energy_max"]["mean"] + 1e-9  # sampled max <= E_max


def test_one_realisation_keeps_its_own_figures():
    res = cqc.charge("two-level", disorder="omega=uniform:0.3", realisations=1, seed=2, t_max=5.0, n_times=21)
    assert res.energy_stderr is None and res.figures["tau_c"]["stderr"] is None
    assert res.tau_c == res.realisations[0]["figures"]["tau_c"] == res.figures["tau_c"]["mean"]
    omega = res.realisations[0]["drawn"]["omega"]["values"][0]
    assert res.tau_c == pytest.approx(bl.charging_time(0.5, omega), rel=1e-6)  # Eq. 25 at the drawn splitting


def test_running_moments_match_numpy_mean_and_stderr():
    """The streamed mean and s / sqrt(R) against NumPy on the stacked series (R = 1, 2, 37); a
    series one realisation lacks is dropped."""
    from collective_qc.analysis.ensemble import RunningMoments

    rng = np.random.default_rng(5)
    for R in (1, 2, 37):
        stack = 3.0 + rng.standard_normal((R, 11)) * np.linspace(0.1, 10.0, 11)
        m = RunningMoments()
        for k, row in enumerate(stack):
            m.add({"x": row, **({"y": row} if k != R - 1 or R == 1 else {})})
        np.testing.assert_allclose(m.mean("x"), stack.mean(axis=0), rtol=1e-14, atol=0)
        if R == 1:
            assert m.stderr("x") is None and m.names() == ["x", "y"]
        else:
            np.testing.assert_allclose(m.stderr("x"), stack.std(axis=0, ddof=1) / np.sqrt(R), rtol=1e-12)
            assert m.names() == ["x"]


def test_realisation_count_beyond_memory_is_refused_before_any_run(no_run, monkeypatch):
    """R records that cannot fit are refused in one line naming realisations (CQC_MEMORY_LIMIT)."""
    from collective_qc.core.errors import ResourceError

    monkeypatch.setenv("CQC_MEMORY_LIMIT", "1G")
    with pytest.raises(ResourceError, match=r"realisations = 10000000 \(") as err:
        cqc.charge("xxz-chain", params={"N": 4}, disorder="omega=uniform:0.5", realisations=10_000_000)
    assert "\n" not in str(err.value)
    cqc.api.check_charge("xxz-chain", params={"N": 4}, disorder="omega=uniform:0.5", realisations=100_000)


def _interrupt_at(monkeypatch, r_stop):
    """Realisation `r_stop`'s run raises KeyboardInterrupt (as Ctrl-C would in the middle of it)."""
    import collective_qc.ensemble as ens

    real_run, calls = ens.run_ensemble, []

    def run_ensemble(args, charge, check):
        def stopping(model, **kw):
            calls.append(1)
            if len(calls) == r_stop + 1:
                raise KeyboardInterrupt
            return charge(model, **kw)

        return real_run(args, stopping, check)

    monkeypatch.setattr(ens, "run_ensemble", run_ensemble)


def test_interrupted_ensemble_keeps_the_finished_realisations(monkeypatch):
    """Ctrl-C in realisation 3 of 10: EnsembleInterrupted carries the ensemble of realisations
    0-2, the same numbers as asking for R = 3."""
    from collective_qc.ensemble import EnsembleInterrupted

    kw = dict(disorder="omega=uniform:0.5", seed=2, t_max=4.0, n_times=9, **{k: FREE[k] for k in ("params", "method")})
    want = cqc.charge("xxz-chain", realisations=3, **kw)
    _interrupt_at(monkeypatch, 3)
    with pytest.raises(EnsembleInterrupted) as err:
        cqc.charge("xxz-chain", realisations=10, **kw)
    part = err.value.partial
    assert isinstance(err.value, KeyboardInterrupt) and err.value.requested == 10
    assert part.n_realisations == 3 and part.metadata["interrupted"] == "after 3 of 10 realisations (Ctrl-C)"
    np.testing.assert_array_equal(part.energy, want.energy)
    np.testing.assert_array_equal(part.energy_stderr, want.energy_stderr)
    assert part.figures == want.figures and want.metadata["interrupted"] is None


def test_interrupted_before_any_realisation_is_a_plain_interrupt(monkeypatch):
    from collective_qc.ensemble import EnsembleInterrupted

    _interrupt_at(monkeypatch, 0)
    with pytest.raises(KeyboardInterrupt) as err:
        cqc.charge("two-level", disorder="omega=uniform:0.2", realisations=4, t_max=2.0, n_times=5)
    assert not isinstance(err.value, EnsembleInterrupted)


def test_cli_prints_and_writes_an_interrupted_ensemble(monkeypatch, tmp_path, capsys):
    _interrupt_at(monkeypatch, 2)
    out_json = tmp_path / "part.json"
    rc = main(["charge", "two-level", "--t-max", "2", "--n-times", "5", "--disorder", "omega=uniform:0.2",
               "--realisations", "5", "--json", str(out_json)])
    cap = capsys.readouterr()
    assert rc == 130 and "interrupted after 2 of 5 realisations" in cap.err
    assert "INTERRUPTED after 2 of 5 realisations" in cap.out
    assert len(json.loads(out_json.read_text())["realisations"]) == 2


def test_huge_model_with_disorder_refused_before_its_graph(no_huge_graph):
    from collective_qc.core.errors import ResourceError

    with pytest.raises(ResourceError, match="N = 1,000,000,000 sites"):
        cqc.charge("xxz-chain", params={"N": 10**9}, disorder="omega=normal:0.1")


@pytest.mark.parametrize("spec, words", [
    ({"omega": {"dist": ["uniform"], "width": 0.1}}, "unknown distribution ['uniform']"),
    ({"omega": {"dist": {}, "width": 0.1}}, "unknown distribution {}"),
    ("omega=lognormal:50", "sigma must be <= 5 for lognormal"),
    ("omega=uniform:1,,J=normal:0.1", "an empty entry between commas"),
])
def test_distribution_refusals_of_odd_specs(no_run, spec, words):
    with pytest.raises(InputError) as err:
        cqc.charge("xxz-chain", params={"N": 3}, disorder=spec)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_lognormal_at_its_largest_sigma_draws_finite_positive_values():
    """sigma = 5: every draw finite and > 0, mean-preserving form mu exp(sigma z - sigma^2 / 2)."""
    res = cqc.charge("xxz-chain", params={"N": 3, "J": 0.0}, disorder="omega=lognormal:5", realisations=4, seed=1,
                     t_max=1.0, n_times=5)
    vals = np.concatenate([r["drawn"]["omega"]["values"] for r in res.realisations])
    assert np.all(np.isfinite(vals)) and np.all(vals > 0)


def test_compare_with_bond_disorder_runs_the_clean_single_site_baseline():
    """J lives on bonds: the single-site baseline has none, so (as in a study) it is the clean
    single run, while the N-site rows are ensembles with J drawn."""
    cmp = cqc.compare("xxz-chain", [2, 3], t_max=2.0, n_times=11, disorder="J=normal:0.1", realisations=3, seed=1)
    assert not hasattr(cmp.baseline, "realisations") or cmp.baseline.realisations in (None, [])
    assert all(cmp.results[n].n_realisations == 3 for n in (2, 3))
    mixed = cqc.compare("xxz-chain", [2], t_max=2.0, n_times=11, disorder="omega=uniform:0.4,J=normal:0.1",
                        realisations=3, seed=1)
    assert mixed.baseline.n_realisations == 3 and set(mixed.baseline.metadata["disorder"]) == {"omega"}


@pytest.mark.parametrize("model, params, spec, words", [
    ("xxz-chain", {"N": 3}, "D=uniform:1", "no effect on spin-0.5 sites (the term needs S >= 1)"),
    ("xxz-chain", {"N": 3}, "E=normal:0.1", "no effect on spin-0.5"),
    ("giant-spin", {"S": "3/2"}, "B40=normal:0.01", "the term needs S >= 2"),
])
def test_anisotropy_that_does_nothing_at_this_spin_is_refused(no_run, model, params, spec, words):
    """D (S^z)^2 is a constant and E (S^+^2 + S^-^2)/2 zero for S = 1/2; O_4 terms vanish for S < 2:
    every realisation would be the clean run."""
    with pytest.raises(InputError) as err:
        cqc.charge(model, params=params, disorder=spec, realisations=2)
    assert words in str(err.value) and "\n" not in str(err.value)
