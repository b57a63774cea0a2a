"""The study store: resume after SIGKILL, refusals that leave a directory untouched, every damaged
file detected and repaired alone (never propagated), --force removing only the store's own files,
adoption of a directory whose study.json is gone, stale temp files, unwritable directories,
byte-reproducible point files."""

import json
import os
import shutil
import signal
import time

import pytest
from studyutil import SMALL, cli, point_files, snapshot, tmp_files

from collective_qc.cli import main
from collective_qc.core.errors import InputError
from collective_qc.study import Study, load_config


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
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
    (points / f".{victim}.4242.tmp").write_bytes(b'{"half written')  # a torn temp file is removed
    p = cli(str(cfg), "--out", str(out))
    stdout, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert f"40 points ({n_done} loaded, {40 - n_done} computed)" in stdout
    for f, st in done.items():  # finished points were not rewritten
        if f.endswith(".json") or f[:-4] + ".json" in done:
            now = os.stat(points / f)
            assert (now.st_ino, now.st_mtime_ns) == (st.st_ino, st.st_mtime_ns), f
    assert (out / "table.csv").read_bytes() == (ref / "table.csv").read_bytes()
    assert (out / "timeseries.h5").read_bytes() == (ref / "timeseries.h5").read_bytes()
    assert "table.csv" in stdout and "G_P" in stdout
    assert "temporary file" in err and f".{victim}.4242.tmp" in err and not tmp_files(out)


def test_refusals_leave_directory_untouched(reference, tmp_path):
    cfg, ref = reference

    def refused(d, config, match, **kw):
        before = snapshot(d)
        with pytest.raises(InputError, match=match):
            Study(config, d, **kw).run()
        assert snapshot(d) == before

    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    refused(foreign, cfg, "not a study directory")
    refused(foreign, cfg, "not a study directory", overwrite=True)
    refused(foreign, cfg, "not a study directory", adopt=True)
    assert snapshot(foreign).keys() == {"notes.txt"}

    changed = load_config(cfg)
    changed["run"]["t_max"] = 9
    d = tmp_path / "changed"
    shutil.copytree(ref, d)
    refused(d, changed, "different config")

    d = tmp_path / "manifest"
    shutil.copytree(ref, d)
    (d / "study.json").write_bytes((d / "study.json").read_bytes()[:200])
    refused(d, cfg, "manifest .* is corrupted.*--adopt")

    d = tmp_path / "edited-manifest"
    shutil.copytree(ref, d)
    man = json.loads((d / "study.json").read_text())
    man["files"].append("../elsewhere.txt")  # a hand edit would widen what --force removes
    (d / "study.json").write_text(json.dumps(man))
    refused(d, cfg, "manifest .* is corrupted")

    d = tmp_path / "old-format"
    shutil.copytree(ref, d)
    man["format"] = 1
    (d / "study.json").write_text(json.dumps(man))
    refused(d, cfg, "format 1")


def _tamper_json(path):
    rec = json.loads(path.read_text())
    rec["result"]["scalars"]["energy_max"] *= 2  # a plausible edit: still valid JSON
    path.write_text(json.dumps(rec, indent=1, sort_keys=True))


def _flip_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = [
    pytest.param("N3-*.json", lambda p: p.write_bytes(b'{"finished": tr'),
                 r"N3-\w+\.json' is corrupted \(is not valid JSON", marks=pytest.mark.slow),
    pytest.param("N3-*.json", _tamper_json, r"N3-\w+\.json' is corrupted \(does not match its checksum",
                 marks=pytest.mark.slow),
    ("N2-*.npz", _flip_byte, r"N2-\w+\.npz' is corrupted \(does not match its checksum"),
    pytest.param("N4-*.npz", os.remove, r"N4-\w+\.npz' is corrupted \(is missing", marks=pytest.mark.slow),
    pytest.param("base-*.json", lambda p: p.write_text("[]"), r"base-\w+\.json' is corrupted", marks=pytest.mark.slow),
]


@pytest.mark.parametrize("pattern,damage,match", DAMAGE)
def test_damaged_point_recomputed_alone(reference, tmp_path, pattern, damage, match):
    cfg, ref = reference
    d = tmp_path / "s"
    shutil.copytree(ref, d)
    (d / "table.csv").unlink()
    victim = sorted((d / "points").glob(pattern))[0]
    damage(victim)
    st = Study(cfg, d)
    with pytest.warns(UserWarning, match=match):
        st.run()
    assert (st.loaded, st.computed) == (39, 1)
    assert (d / "table.csv").read_bytes() == (ref / "table.csv").read_bytes()  # never propagated
    assert (d / "timeseries.h5").read_bytes() == (ref / "timeseries.h5").read_bytes()
    stem = victim.name.rsplit(".", 1)[0]
    assert (d / "points" / f"{stem}.npz").read_bytes() == (ref / "points" / f"{stem}.npz").read_bytes()
    now, then = (json.loads((x / "points" / f"{stem}.json").read_text()) for x in (d, ref))
    assert now["result_sha256"] == then["result_sha256"] and now["result"] == then["result"]


def test_force_removes_only_own_files(tmp_path):
    d = tmp_path / "s"
    Study(SMALL, d).run()
    mine = {"notes.txt": "top", "points/my-notes.txt": "points", "plots/my-figure.png": "plot",
            "points/N2-0123456789ab.json.bak": "backup"}
    for rel, text in mine.items():
        (d / rel).write_text(text)
    changed = {**SMALL, "run": {"t_max": 6, "n_times": 21}}
    log = []
    st = Study(changed, d, overwrite=True, log=log.append)
    st.run()
    for rel, text in mine.items():
        assert (d / rel).read_text() == text, rel
    assert st.computed == len(st.points) == 6
    removed = next(m for m in log if m.startswith("--force: removed"))
    assert "(" in removed and "points/N2-" in removed and "notes" not in removed
    assert len(point_files(d)) == 6  # the old config's points were the store's own: removed


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_force_starts_over(tmp_path):
    cfg = {"study": {"model": "xxz-chain", "sizes": [2]}, "run": {"t_max": 5, "n_times": 21}}
    d = tmp_path / "s"
    Study(cfg, d).run()
    (d / "study.json").write_text("{")
    with pytest.raises(InputError, match="corrupted"):
        Study(cfg, d).run()
    rows = Study(cfg, d, overwrite=True).run()
    assert len(rows) == 2 and (d / "table.csv").exists()


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_adopt_from_intact_points(tmp_path, capsys):
    d = tmp_path / "s"
    ref = Study(SMALL, d)
    ref.run()
    table = (d / "table.csv").read_bytes()
    (d / "study.json").unlink()
    st = Study(SMALL, d)  # every point file verifies: adopted automatically
    st.run()
    assert (st.loaded, st.computed) == (6, 0) and (d / "table.csv").read_bytes() == table
    (d / "study.json").unlink()
    victim = sorted((d / "points").glob("N3-*.json"))[0]
    _tamper_json(victim)
    with pytest.raises(InputError, match=r"no study.json; 5 point files verify.*--adopt"):
        Study(SMALL, d).run()
    toml = tmp_path / "small.toml"
    toml.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2, 3]\n[params]\nJ = [0.1, 0.2]\n'
                    '[run]\nt_max = 5\nn_times = 21\n')
    capsys.readouterr()
    assert main(["study", str(toml), "--out", str(d), "--adopt"]) == 0
    out, err = capsys.readouterr()
    assert "6 points (5 loaded, 1 computed)" in out
    assert "adopted 5 intact point(s)" in err and f"{victim.name}.unverified" in err
    assert (d / "points" / f"{victim.name}.unverified").exists()  # not provably ours: kept aside
    assert (d / "table.csv").read_bytes() == table
    (d / "study.json").unlink()
    other = {**SMALL, "run": {"t_max": 6, "n_times": 21}}
    with pytest.raises(InputError, match="none of its 6 intact point files belongs to this config"):
        Study(other, d).run()


def test_unwritable_directory_one_line_before_any_work(tmp_path, monkeypatch, capsys):
    import collective_qc.study.compute as compute
    import collective_qc.study.store as store

    d = tmp_path / "s"
    Study(SMALL, d).run()
    more = {**SMALL, "study": {**SMALL["study"], "sizes": [2, 3, 4]}}

    def denied(path, data):
        raise PermissionError(13, "Permission denied", path)

    def never(*a, **k):
        raise AssertionError("a point was computed")

    monkeypatch.setattr(store, "write_atomic", denied)
    monkeypatch.setattr(compute, "run_point", never)
    with pytest.raises(InputError, match="is not writable.*nothing was computed"):
        Study(more, d).run()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_read_only_directory_cli(tmp_path, capsys):
    d = tmp_path / "s"
    Study(SMALL, d).run()
    toml = tmp_path / "more.toml"
    toml.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2, 3, 4]\n[params]\nJ = [0.1, 0.2]\n'
                    '[run]\nt_max = 5\nn_times = 21\n')
    os.chmod(d, 0o555)
    try:
        assert main(["study", str(toml), "--out", str(d)]) == 2
    finally:
        os.chmod(d, 0o755)
    err = capsys.readouterr().err
    assert "not writable" in err and err.count("\n") == 1


def test_point_files_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    Study(SMALL, a).run()
    Study(SMALL, b).run()
    assert point_files(a) == point_files(b)
    for name in point_files(a, ".npz"):
        assert (a / "points" / name).read_bytes() == (b / "points" / name).read_bytes()
    for name in point_files(a):
        ra, rb = (json.loads((x / "points" / name).read_text()) for x in (a, b))
        assert ra["result_sha256"] == rb["result_sha256"]
        assert {k: v for k, v in ra.items() if k not in ("provenance", "sha256")} == \
            {k: v for k, v in rb.items() if k not in ("provenance", "sha256")}
        assert "wall_time_s" in ra["provenance"] and "wall_time_s" not in ra["result"]["metadata"]
    for name in ("table.csv", "timeseries.h5"):
        assert (a / name).read_bytes() == (b / name).read_bytes()
