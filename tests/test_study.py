"""Studies: resume after SIGKILL (nothing recomputed, byte-identical table), refusals that leave the
directory untouched, config validation before any work, plots, HDF5 output, order-independent
seeds, and Gamma = 1 for non-interacting sites."""

import concurrent.futures as cf
import copy
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from collective_qc.cli import main
from collective_qc.errors import InputError
from collective_qc.study import Study, load_config, run_point

# 40 cheap points (10 combinations x (baseline + 3 sizes)): long enough to be killed mid-sweep
RESUME_TOML = """
[study]
name = "resume"
model = "xxz-chain"
sizes = [2, 3, 4]
drive = 0.5
seed = 7
[params]
J = [0.02, 0.04, 0.06, 0.08, 0.1, 0.12, 0.14, 0.16, 0.18, 0.2]
[run]
t_max = 8
n_times = 41
[plots]
timeseries = [{N = 4, J = 0.2}, {N = 2}]
"""

TRAJ_CONFIG = {
    "study": {"model": "xxz-chain", "sizes": [2, 3], "seed": 3},
    "params": {"J": [0.0, 0.2]},
    "run": {"t_max": 6, "n_times": 31, "method": "trajectories", "ntraj": 16, "dephasing": 0.05},
}
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # steadier timing on a shared 2-core machine


def cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "collective_qc", "study", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV, **kw)


def snapshot(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, d)] = (fh.read(), os.stat(p).st_mtime_ns)
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted CLI run of RESUME_TOML."""
    base = tmp_path_factory.mktemp("study")
    cfg = base / "resume.toml"
    cfg.write_text(RESUME_TOML)
    p = cli(str(cfg), "--out", str(base / "ref"))
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "40 points (0 loaded, 40 computed)" in out
    return cfg, base / "ref"


def test_resume_after_sigkill(reference, tmp_path):
    cfg, ref = reference
    out = tmp_path / "run"
    p = cli(str(cfg), "--out", str(out))
    points = out / "points"
    t0 = time.time()
    while p.poll() is None and time.time() - t0 < 120:
        if points.is_dir() and len([f for f in os.listdir(points) if f.endswith(".json")]) >= 2:
            break
        time.sleep(0.005)
    p.send_signal(signal.SIGKILL)
    p.communicate()
    assert p.returncode == -signal.SIGKILL, "the study finished before it could be killed"
    assert not (out / "table.csv").exists()
    done = {f: os.stat(points / f) for f in os.listdir(points) if not f.startswith(".")}
    n_done = len([f for f in done if f.endswith(".json")])
    assert 2 <= n_done < 40
    victim = sorted(f for f in done if f.endswith(".json"))[0]
    (points / f".{victim}.4242.tmp").write_bytes(b'{"half written')  # a torn temp file is ignored
    p = cli(str(cfg), "--out", str(out))
    stdout, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert f"40 points ({n_done} loaded, {40 - n_done} computed)" in stdout
    for f, st in done.items():  # finished points were not rewritten
        if f.endswith(".json") or f[:-4] + ".json" in done:
            now = os.stat(points / f)
            assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), f
    assert (out / "table.csv").read_bytes() == (ref / "table.csv").read_bytes()
    assert "table.csv" in stdout and "G_P" in stdout


def test_table_layout(reference):
    _, ref = reference
    lines = (ref / "table.csv").read_text().splitlines()
    head = lines[0].split(",")
    assert head[:5] == ["point", "role", "N", "J", "n_sites"]
    assert head[-4:] == ["method", "energy_unit", "time_unit", "seed"]
    assert {"gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy", "power_max_per_site"} <= set(head)
    assert len(lines) == 41
    rows = [dict(zip(head, line.split(","))) for line in lines[1:]]
    assert [r["role"] for r in rows[:4]] == ["baseline", "size", "size", "size"]
    assert [r["N"] for r in rows[:4]] == ["", "2", "3", "4"]
    assert len({r["seed"] for r in rows}) == 40


def test_plots_are_real_images(reference):
    from matplotlib.image import imread

    _, ref = reference
    names = sorted(os.listdir(ref / "plots"))
    assert names == ["gammas.png", "per_site.png", "timeseries-1.png", "timeseries-2.png"]
    for name in names:
        img = imread(ref / "plots" / name)
        assert img.shape[0] > 100 and img.shape[1] > 100
        flat = img.reshape(-1, img.shape[-1])
        assert flat.std(axis=0).max() > 0.05 and len(np.unique(flat[::37], axis=0)) > 10, name


def test_timeseries_h5(reference):
    import h5py

    _, ref = reference
    with h5py.File(ref / "timeseries.h5", "r") as f:
        assert len(f) == 40
        g = f[next(k for k in f if k.startswith("N4-"))]
        assert g.attrs["n_sites"] == 4 and g.attrs["model"] == "xxz-chain" and "param.J" in g.attrs
        assert g["times"].shape == g["energy"].shape == g["power"].shape == g["capacitance"].shape == (41,)
        assert g["energy"].attrs["units"] == "omega0" and g["times"].attrs["units"] == "1/omega0"


def test_refusals_leave_directory_untouched(reference, tmp_path):
    cfg, ref = reference

    def refused(d, config, match):
        before = snapshot(d)
        with pytest.raises(InputError, match=match):
            Study(config, d).run()
        assert snapshot(d) == before

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused(foreign, cfg, "not a study directory")
    with pytest.raises(InputError, match="not a study directory"):
        Study(cfg, foreign, overwrite=True).run()
    assert snapshot(foreign).keys() == {"notes.txt"}

    changed = load_config(cfg)
    changed["run"]["t_max"] = 9
    d = tmp_path / "changed"
    shutil.copytree(ref, d)
    refused(d, changed, "different config")

    d = tmp_path / "manifest"
    shutil.copytree(ref, d)
    (d / "study.json").write_bytes((d / "study.json").read_bytes()[:200])
    refused(d, cfg, "manifest .* is corrupted")

    d = tmp_path / "point"
    shutil.copytree(ref, d)
    victim = sorted((d / "points").glob("N3-*.json"))[0]
    victim.write_bytes(b'{"finished": tr')
    refused(d, cfg, "point file .*N3-.* is corrupted")

    d = tmp_path / "npz"
    shutil.copytree(ref, d)
    victim = sorted((d / "points").glob("N2-*.npz"))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0xFF
    victim.write_bytes(bytes(data))
    refused(d, cfg, "checksum")


def test_force_starts_over(tmp_path):
    cfg = {"study": {"model": "xxz-chain", "sizes": [2]}, "run": {"t_max": 5, "n_times": 21}}
    d = tmp_path / "s"
    Study(cfg, d).run()
    (d / "study.json").write_text("{")
    with pytest.raises(InputError, match="corrupted"):
        Study(cfg, d).run()
    rows = Study(cfg, d, overwrite=True).run()
    assert len(rows) == 2 and (d / "table.csv").exists()


BASE = {"study": {"model": "xxz-ring", "sizes": [3, 4]}}
BAD = [
    ({"bogus": {}}, r"\[bogus\]"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "sizez": [4]}}, "'study.sizez'"),
    ({"study": {"model": "xxz-rng", "sizes": [3]}}, "did you mean 'xxz-ring'"),
    ({"study": {"model": "two-level", "sizes": [1]}}, "no size parameter"),
    ({"study": {"model": "xxz-ring", "sizes": [1, 3]}}, "ring must be >= 3"),
    ({"study": {"model": "xxz-ring", "sizes": 4}}, "'study.sizes'"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "seed": -1}}, "'study.seed'"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "drive": [0.5, 0.5]}}, "'study.drive' lists a value twice"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "drive": "big"}}, "'study.drive' must be a number"),
    ({"params": {"Jx": 0.3}}, "'params.Jx'"),
    ({"params": {"J": "0.3"}}, "'params.J' must be a number"),
    ({"params": {"J": []}}, "'params.J'"),
    ({"params": {"N": 5}}, "'params.N' is the size parameter"),
    ({"run": {"t_max": -1}}, "'run.t_max' must be > 0"),
    ({"run": {"n_times": 10.5}}, "'run.n_times' must be an integer"),
    ({"run": {"method": "magic"}}, "'run.method'"),
    ({"run": {"seed": 3}}, "'run.seed'"),
    ({"run": {"protocol": "pulse"}}, "unknown protocol"),
    ({"run": {"method": "closed", "dephasing": 0.1}}, "'run.method'"),
    ({"plots": {"timeseries": [{"N": 99}]}}, "'plots.timeseries'"),
    ({"plots": {"timeseries": [{"K": 3}]}}, "'plots.timeseries': unknown key 'K'"),
]


@pytest.mark.parametrize("patch,match", BAD)
def test_bad_config_refused_before_any_work(tmp_path, patch, match):
    cfg = {**copy.deepcopy(BASE), **patch}
    out = tmp_path / "out"
    with pytest.raises(InputError, match=match):
        Study(cfg, out).run()
    assert not out.exists()


def test_cli_bad_config_one_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text('[study]\nmodel = "xxz-ring"\nsizes = [3]\n[run]\ntmax = 3\n')
    assert main(["study", str(path), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cqc: error: unknown config key 'run.tmax'") and err.count("\n") == 1
    path.write_text("[study\n")
    assert main(["study", str(path), "--out", str(tmp_path / "o")]) == 2
    assert "not valid TOML" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


class ReversedExecutor:
    """Runs the submitted points in reverse order on one worker thread, once all have been submitted."""

    def __init__(self, n):
        self.n, self.jobs, self.order = n, [], []

    def submit(self, fn, *args):
        fut = cf.Future()
        self.jobs.append((fut, fn, args))
        if len(self.jobs) == self.n:
            threading.Thread(target=self._work, daemon=True).start()
        return fut

    def _work(self):
        for fut, fn, args in reversed(self.jobs):
            self.order.append(args[0]["id"])
            try:
                fut.set_result(fn(*args))
            except Exception as exc:  # pragma: no cover
                fut.set_exception(exc)


def test_seeds_independent_of_execution_order(tmp_path):
    seq = Study(TRAJ_CONFIG, tmp_path / "seq")
    rows = seq.run()
    ex = ReversedExecutor(len(seq.points))
    rev = Study(TRAJ_CONFIG, tmp_path / "rev")
    rows_rev = rev.run(executor=ex)
    assert ex.order == [p["id"] for p in reversed(rev.points)]
    strip = [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows]
    assert strip == [{k: v for k, v in r.items() if k != "wall_time_s"} for r in rows_rev]
    assert (tmp_path / "seq" / "table.csv").read_bytes() == (tmp_path / "rev" / "table.csv").read_bytes()
    assert rows[1]["gamma_power_stderr"] is not None and rows[1]["method"] == "trajectories"
    # a point's seed depends on the study seed and the point only, not on the other points
    more = copy.deepcopy(TRAJ_CONFIG)
    more["study"]["sizes"] = [2, 3, 5]
    more["params"]["J"] = [0.2, 0.0, 0.4]
    seeds = {p["id"]: p["seed"] for p in Study(more, tmp_path / "x").points}
    assert all(seeds[p["id"]] == p["seed"] for p in seq.points)
    assert len({p["seed"] for p in seq.points}) == len(seq.points)
    other = copy.deepcopy(TRAJ_CONFIG)
    other["study"]["seed"] = 4
    assert all(p["seed"] != q["seed"] for p, q in zip(seq.points, Study(other, tmp_path / "y").points))
    # points and results travel as plain picklable data (process pools, dask workers)
    point = pickle.loads(pickle.dumps(seq.points[1]))
    assert pickle.loads(pickle.dumps(run_point))(point)["scalars"] == pickle.loads(
        pickle.dumps(run_point(seq.points[1])))["scalars"]


def test_non_interacting_sites_have_no_advantage(tmp_path):
    cfg = {"study": {"model": "xxz-chain", "sizes": [2, 3, 4], "drive": [0.3, 0.6]},
           "params": {"J": 0.0}, "run": {"t_max": 10, "n_times": 101}}
    rows = Study(cfg, tmp_path / "free").run()
    sized = [r for r in rows if r["role"] == "size"]
    assert len(sized) == 6
    for r in sized:
        for key in ("gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy", "gamma_average_power"):
            assert r[key] == pytest.approx(1.0, abs=1e-9), (r["N"], r["drive"], key)


def test_timeseries_selection_by_any_parameter(tmp_path):
    cfg = {"study": {"model": "xxz-ring", "sizes": [3, 4]}, "params": {"J": [0.1, 0.3], "Delta": 0.5},
           "plots": {"timeseries": [{"N": 4, "Delta": 0.5}, {"J": 0.3, "N": 3}]}}
    st = Study(cfg, tmp_path / "never")
    picked = [st.spec.select(spec) for spec in st.spec.timeseries]
    assert [len(p) for p in picked] == [2, 1]
    assert picked[1][0]["definition"]["params"] == {"J": 0.3, "Delta": 0.5, "N": 3}
    assert len(st.points) == 6 and not (tmp_path / "never").exists()
