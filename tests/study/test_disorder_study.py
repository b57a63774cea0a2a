"""Disordered studies (issue 25): realisations as stored units, their determinism, table statistics,
zipped sweeps, and ``cqc compare --sweep``.

Small closed runs (xxz chains of 2-3 sites, 21 samples), so that every test takes seconds.
"""

import copy
import csv
import io
import json
import multiprocessing
import os
import zlib
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

from collective_qc.cli import main
from collective_qc.core.errors import InputError
from collective_qc.study import Study

W = 0.6  # uniform full width of omega (units omega0)
SIGMA = 0.05  # normal spread of J (units omega0)
CONFIG = {
    "study": {"name": "dis", "model": "xxz-chain", "sizes": [2, 3], "seed": 11, "realisations": 3},
    "params": {"J": 0.2},
    "run": {"t_max": 4, "n_times": 21, "method": "closed"},
    "disorder": {"omega": {"dist": "uniform", "width": W}, "J": {"dist": "normal", "sigma": SIGMA}},
}


@pytest.fixture
def no_plots(monkeypatch):
    """Skip the figures (seconds each on a busy machine) in tests about the numbers."""
    import collective_qc.study.runner as runner

    monkeypatch.setattr(runner, "write_plots", lambda *args, **kw: [])


def _cfg(**sections):
    cfg = copy.deepcopy(CONFIG)
    for sec, patch in sections.items():
        cfg.setdefault(sec, {}).update(patch)
    return cfg


def _bytes(d, name):
    with open(os.path.join(d, name), "rb") as fh:
        return fh.read()


def _csv_rows(d, name):
    return list(csv.DictReader(io.StringIO(_bytes(d, name).decode())))


def _num(s):
    return float(s) if s != "" else None


def test_realisations_identical_in_process_on_two_workers_and_after_a_resume(tmp_path, monkeypatch, no_plots):
    """The same seed gives byte-identical points.csv and table.csv in-process, on two worker
    processes (any order of completion) and in a run interrupted after 4 units and resumed."""
    a = Study(CONFIG, tmp_path / "a")
    a.run()
    assert a.computed == len(a.points) == 3 * 3  # (baseline + 2 sizes) x 3 realisations
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2, mp_context=ctx) as pool:
        Study(CONFIG, tmp_path / "b").run(executor=pool)
    import collective_qc.study.compute as compute

    real, calls = compute.run_point, []

    def interrupted(point, progress=None):
        calls.append(point["id"])
        if len(calls) == 5:
            raise KeyboardInterrupt
        return real(point, progress)

    monkeypatch.setattr(compute, "run_point", interrupted)
    with pytest.raises(KeyboardInterrupt):
        Study(CONFIG, tmp_path / "c").run()
    monkeypatch.setattr(compute, "run_point", real)
    c = Study(CONFIG, tmp_path / "c")
    c.run()
    assert (c.loaded, c.computed) == (4, 5)
    for name in ("points.csv", "table.csv"):
        assert _bytes(tmp_path / "a", name) == _bytes(tmp_path / "b", name) == _bytes(tmp_path / "c", name)


def test_draws_follow_the_stream_of_seed_point_and_index(tmp_path, no_plots):
    """Realisation r of point p draws omega_i = 1 + W (u_i - 1/2), u from
    default_rng([study seed, crc32(p), r, crc32("omega")]), and J_ij = 0.2 + sigma z from the stream of
    "J" (independent of R); the stored values are those, the realised graph carries them, and a
    plain charge() of that graph gives the stored figures."""
    from collective_qc import charge
    from collective_qc.physics.model import GraphModel
    from collective_qc.study.files import read_point
    from collective_qc.study.realise import realised_graph

    st = Study(_cfg(study={"realisations": 2}), tmp_path / "s")
    st.run()
    unit = next(u for u in st.points if u["size"] == 3 and u["realisation"] == 1)
    rec = read_point(str(tmp_path / "s" / "points"), unit["id"])
    drawn = rec["record"]["result"]["metadata"]["disorder"]["drawn"]
    seed, pid, r = 11, unit["point"], 1
    u = np.random.default_rng([seed, zlib.crc32(pid.encode()), r, zlib.crc32(b"omega")]).random(3)
    z = np.random.default_rng([seed, zlib.crc32(pid.encode()), r, zlib.crc32(b"J")]).standard_normal(2)
    np.testing.assert_array_equal(drawn["omega"]["values"], 1.0 + W * (u - 0.5))
    np.testing.assert_array_equal(drawn["J"]["values"], 0.2 + SIGMA * z)
    g = st.realised_graph("N=3,r=1")  # the graph of that realisation, checked against the stored draws
    assert [g.nodes[n]["omega"] for n in sorted(g.nodes)] == drawn["omega"]["values"]
    assert [g.edges[e]["J"] for e in sorted(g.edges)] == drawn["J"]["values"]
    with pytest.raises(ValueError, match="differ"):
        realised_graph(unit, {**drawn, "omega": {**drawn["omega"], "values": [1.0, 1.0, 1.0]}})
    res = charge(GraphModel(g), 0.5, t_max=4, n_times=21, method="closed")
    assert res.power_max == pytest.approx(rec["record"]["result"]["scalars"]["power_max"], rel=1e-12)
    row = next(x for x in _csv_rows(tmp_path / "s", "points.csv") if x["unit"] == unit["id"])
    assert _num(row["tau_c"]) == pytest.approx(res.tau_c, rel=1e-12)


def test_raising_realisations_computes_only_the_new_ones(tmp_path, no_plots):
    """R = 3 -> 5 in the same directory: 2 new realisations per point are computed, the first 3 are
    loaded, and their rows in points.csv are unchanged."""
    out = tmp_path / "s"
    first = Study(CONFIG, out)
    first.run()
    before = _csv_rows(out, "points.csv")
    more = Study(_cfg(study={"realisations": 5}), out)
    more.run()
    n_points = 3
    assert (first.computed, more.loaded, more.computed) == (3 * n_points, 3 * n_points, 2 * n_points)
    after = _csv_rows(out, "points.csv")
    assert len(after) == 5 * n_points
    assert [r for r in after if int(r["realisation"]) < 3] == before
    assert {int(r["realisations"]) for r in _csv_rows(out, "table.csv")} == {5}


def test_table_statistics_are_those_of_points_csv(tmp_path):
    """table.csv's mean, stderr (s / sqrt(n)), median, q10, q90 and n of the per-site figures and the
    Gammas equal NumPy's over the points.csv rows of each point; ratio of means = <P_N/N> / <P_1>."""
    out = tmp_path / "s"
    Study(_cfg(study={"realisations": 5}, disorder={"omega": {"dist": "uniform", "width": [0.3, 1.2]}}), out).run()
    units, table = _csv_rows(out, "points.csv"), _csv_rows(out, "table.csv")
    assert len(table) == 2 * 3 and len(units) == 5 * len(table)
    checked = 0
    for row in table:
        mine = [u for u in units if u["point"] == row["point"]]
        cols = ["tau_c", "energy_max_per_site", "power_max_per_site"]
        cols += ["gamma_power", "gamma_tau", "gamma_energy"] if row["role"] == "size" else []
        for col in cols:
            x = np.array([_num(u[col]) for u in mine], dtype=float)
            assert _num(row[col]) == pytest.approx(np.mean(x), rel=1e-13)
            assert _num(row[col + "_stderr"]) == pytest.approx(np.std(x, ddof=1) / np.sqrt(len(x)), rel=1e-12)
            assert _num(row[col + "_median"]) == pytest.approx(np.median(x), rel=1e-13)
            assert _num(row[col + "_q10"]) == pytest.approx(np.quantile(x, 0.1), rel=1e-13)
            assert _num(row[col + "_q90"]) == pytest.approx(np.quantile(x, 0.9), rel=1e-13)
            assert int(row[col + "_n"]) == 5
            checked += 1
        if row["role"] == "size":
            base = [u for u in units if u["role"] == "baseline" and u["disorder_omega_width"] == row[
                "disorder_omega_width"]]
            pn = np.mean([_num(u["power_max_per_site"]) for u in mine])
            p1 = np.mean([_num(u["power_max_per_site"]) for u in base])
            assert _num(row["gamma_power_ratio_of_means"]) == pytest.approx(pn / p1, rel=1e-12)
            assert _num(row["gamma_power_mean_of_ratios"]) == pytest.approx(_num(row["gamma_power"]), rel=1e-13)
            assert _num(row["gamma_power_ratio_of_means_stderr"]) > 0
    assert checked == 2 * (3 * 3 + 3 * 2)
    assert sorted(os.listdir(out / "plots")) == ["disorder.png", "gammas.png", "histograms.png", "per_site.png",
                                                 "timeseries.png"]


def test_h5_holds_mean_curves_and_every_realisation(tmp_path, no_plots):
    """A disordered point's HDF5 group: mean E(t) over its realisations, their standard error and
    each realisation's curve (over realisation x times), and the drawn omega per realisation."""
    h5py = pytest.importorskip("h5py")
    from collective_qc.study.files import read_point

    st = Study(CONFIG, tmp_path / "s")
    st.run()
    pid = next(p["id"] for p in st.spec.table_points if p["size"] == 2)
    stack = np.stack([read_point(str(tmp_path / "s" / "points"), u)["arrays"]["energy"]
                      for u in st.spec.units_of[pid]])
    with h5py.File(tmp_path / "s" / "timeseries.h5", "r") as f:
        g = f["N=2"]
        np.testing.assert_array_equal(g["energy_realisations"][()], stack)
        np.testing.assert_allclose(g["energy"][()], stack.mean(axis=0), rtol=1e-14, atol=0)
        np.testing.assert_allclose(g["energy_stderr"][()], stack.std(axis=0, ddof=1) / np.sqrt(3), rtol=1e-12,
                                   atol=1e-300)
        assert g["disorder_omega"].shape == (3, 2) and json.loads(g["disorder_omega"].attrs["targets"]) == [0, 1]
        assert g.attrs["realisations"] == 3


BAD = [
    ({"disorder": {"omega": {"dist": "uniform", "width": [0.5, -1]}}}, "'disorder.omega.width' must be >= 0"),
    ({"disorder": {"omgea": {"dist": "uniform", "width": 0.5}}}, "'disorder.omgea'.*did you mean 'omega'"),
    ({"disorder": {"omega": {"dist": "unifrom", "width": 0.5}}}, "'disorder.omega.dist'.*did you mean 'uniform'"),
    ({"disorder": {"omega": {"dist": "uniform", "sigma": 0.5}}}, "'disorder.omega'.*'width'"),
    ({"disorder": {"gamma": {"dist": "uniform", "width": 0.5}}, "run": {"method": "exact", "dephasing": 0.1}},
     "'disorder.gamma'.*negative rate"),
    ({"disorder": {"g": {"dist": "normal", "sigma": 0.1}}}, "'disorder.g'.*nothing to draw"),
    ({"run": {"disorder": "omega=uniform:0.5"}}, r"'run.disorder'.*\[disorder\]"),
    ({"run": {"realisations": 4}}, "'run.realisations'.*study.realisations"),
    ({"disorder": None, "study": {"realisations": 4}}, "'study.realisations' = 4 needs a \\[disorder\\]"),
    ({"model": "ising-chain", "disorder": {"J": {"dist": "normal", "sigma": 0.1}}}, "'disorder.J'.*Jx/Jy/Jz"),
    ({"model": "dicke", "disorder": {"omega": {"dist": "normal", "sigma": 0.1}}}, "'disorder.omega'.*collective"),
    ({"sweep": {"zip": [["params.J", "run.t_mx"]]}}, "'sweep.zip': 'run.t_mx' is not a key.*did you mean 'run.t_max'"),
]


@pytest.mark.parametrize("patch,match", BAD)
def test_bad_disorder_refused_before_any_point(tmp_path, monkeypatch, patch, match):
    import collective_qc.study.compute as compute

    ran = []
    monkeypatch.setattr(compute, "run_point", lambda point, progress=None: ran.append(point) or 1 / 0)
    cfg = copy.deepcopy(CONFIG)
    patch = copy.deepcopy(patch)
    if "model" in patch:
        cfg["study"]["model"] = patch.pop("model")
        cfg["params"] = {}
    for sec, val in patch.items():
        if val is None:
            cfg.pop(sec)
        elif sec == "disorder":
            cfg[sec] = val
        else:
            cfg.setdefault(sec, {}).update(val)
    out = tmp_path / "out"
    with pytest.raises(InputError, match=match) as err:
        Study(cfg, out).run()
    assert "\n" not in str(err.value)
    assert ran == [] and not out.exists()


def test_zipped_sweep_advances_together_and_unequal_lengths_are_refused(tmp_path, capsys, no_plots):
    """[sweep] zip = [["params.J", "run.dephasing"]] beside a swept Delta: the listed pairs x 2 values
    of Delta = 4 combinations (not 8); lists of unequal length are refused with one line naming
    'sweep.zip' before anything runs."""
    cfg = {"study": {"model": "xxz-chain", "sizes": [2]}, "params": {"J": [0.1, 0.3], "Delta": [0.5, 1.0]},
           "run": {"t_max": 3, "n_times": 11, "method": "exact", "dephasing": [0.0, 0.05]},
           "sweep": {"zip": [["params.J", "run.dephasing"]]}}
    rows = Study(cfg, tmp_path / "z").run()
    pairs = {(r["J"], r["dephasing"], r["Delta"]) for r in rows if r["role"] == "size"}
    assert pairs == {(0.1, 0.0, 0.5), (0.3, 0.05, 0.5), (0.1, 0.0, 1.0), (0.3, 0.05, 1.0)}
    ds = None
    try:
        ds = Study(cfg, tmp_path / "z").to_xarray()
    except InputError:  # xarray not installed
        pass
    if ds is not None:
        assert ds["gamma_power"].dims == ("J", "Delta", "N") and list(ds["dephasing"].values) == [0.0, 0.05]
    bad = copy.deepcopy(cfg)
    bad["run"]["dephasing"] = [0.0, 0.05, 0.1]
    with pytest.raises(InputError, match=r"'sweep.zip': 'params.J' \(2 values\) and 'run.dephasing' \(3 values\)"):
        Study(bad, tmp_path / "bad")
    assert not (tmp_path / "bad").exists()
    path = tmp_path / "bad.toml"
    path.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2]\n[params]\nJ = [0.1, 0.3]\n[run]\n'
                    'dephasing = [0.0]\n[sweep]\nzip = [["params.J", "run.dephasing"]]\n')
    assert main(["study", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "sweep.zip" in err


def test_compare_sweep_prints_one_table_per_value(capsys):
    """cqc compare --sweep J=0.1,0.3: one table per value of J, each equal to a plain compare at it."""
    from collective_qc.compare import compare

    args = ["compare", "xxz-chain", "--sizes", "2,3", "--t-max", "4", "--n-times", "21", "--method", "closed"]
    assert main([*args, "--sweep", "J=0.1,0.3"]) == 0
    out = capsys.readouterr().out
    assert "J = 0.1" in out and "J = 0.3" in out
    for j in (0.1, 0.3):
        table = compare("xxz-chain", "2,3", params={"J": j}, t_max=4, n_times=21, method="closed").table()
        assert table in out
    assert main([*args, "--sweep", "J=0.1", "--sweep", "dephasing=0,0.1"]) == 2
    assert "closed" in capsys.readouterr().err  # method closed cannot take dephasing: refused before any run


@pytest.mark.slow
def test_realisations_identical_on_a_dask_cluster(tmp_path):
    """The CLI's executor (a local Dask cluster of 2 workers) gives the in-process points.csv, byte for byte."""
    pytest.importorskip("distributed")
    from collective_qc.parallel import open_client

    Study(CONFIG, tmp_path / "a").run()
    with open_client(workers=2) as client:
        Study(CONFIG, tmp_path / "b").run(executor=client)
    assert _bytes(tmp_path / "a", "points.csv") == _bytes(tmp_path / "b", "points.csv")


def test_huge_disordered_study_refused_before_any_graph(tmp_path, no_huge_graph):
    """A realisation draws on the clean graph; a size no run could hold is refused by the memory
    guard's lower bound first, without building it."""
    from collective_qc.core.errors import ResourceError

    with pytest.raises(ResourceError, match="N = 1,000,000,000 sites"):
        Study(_cfg(study={"sizes": [1_000_000_000]}), str(tmp_path / "big")).run()


@pytest.mark.parametrize("dist", [["uniform", "normal"], {}])
def test_distribution_name_of_the_wrong_type_is_one_line(tmp_path, dist):
    with pytest.raises(InputError, match="unknown distribution"):
        Study(_cfg(disorder={"omega": {"dist": dist, "width": 0.1}}), str(tmp_path / "s")).run()
