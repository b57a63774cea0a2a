"""Running studies: extension by content (a new size computes only that size), --plots-only, memory
refusals before the first point, --workers 0, progress lines when piped, the directory lock."""

import io
import os
import time

import pytest
from studyutil import RESUME_TOML, SMALL, cli, point_files

from collective_qc.cli import main
from collective_qc.core.errors import InputError, ResourceError
from collective_qc.study import Study
from collective_qc.study.progress import StudyProgress


def _sizes(cfg, sizes):
    return {**cfg, "study": {**cfg["study"], "sizes": sizes}}


def test_adding_a_size_computes_only_that_size(tmp_path):
    d = tmp_path / "s"
    first = Study(SMALL, d)
    rows = first.run()
    log = []
    more = Study(_sizes(SMALL, [2, 3, 4]), d, log=log.append)
    rows_more = more.run()
    assert (more.loaded, more.computed) == (6, 2)  # N = 4 for J = 0.1 and 0.2
    assert any("extended: sizes [2, 3] -> [2, 3, 4]" in m for m in log)
    assert [r for r in rows_more if r["N"] != 4] == rows
    fresh = tmp_path / "fresh"
    Study(_sizes(SMALL, [2, 3, 4]), fresh).run()
    for name in ("table.csv", "timeseries.h5"):
        assert (d / name).read_bytes() == (fresh / name).read_bytes()
    # fewer sizes or other plots: nothing computed, finished points kept on disk
    fewer = Study({**_sizes(SMALL, [3]), "plots": {"timeseries": [{"N": 3, "J": 0.2}]}}, d)
    assert len(fewer.run()) == 4 and fewer.computed == 0
    assert len(point_files(d)) == 8


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_plots_only(tmp_path, monkeypatch, capsys):
    import collective_qc.study.compute as compute

    d = tmp_path / "s"
    Study(SMALL, d).run()
    table = os.stat(d / "table.csv")
    for f in (d / "plots").iterdir():
        f.unlink()
    monkeypatch.setattr(compute, "run_point", lambda *a, **k: pytest.fail("a point was computed"))
    toml = tmp_path / "small.toml"
    toml.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2, 3]\n[params]\nJ = [0.1, 0.2]\n'
                    '[run]\nt_max = 5\nn_times = 21\n[plots]\ntimeseries = [{N = 2}, {N = 3}]\n')
    assert main(["study", str(toml), "--out", str(d), "--plots-only"]) == 0
    assert "redrew 4 plots" in capsys.readouterr().out
    assert sorted(os.listdir(d / "plots")) == ["gammas.png", "per_site.png", "timeseries-1.png",
                                               "timeseries-2.png"]
    assert os.stat(d / "table.csv").st_mtime_ns == table.st_mtime_ns
    with pytest.raises(InputError, match="--plots-only: 2 of 8 points .* not computed"):
        Study(_sizes(SMALL, [2, 3, 4]), d).run(plots_only=True)


def test_memory_refusal_for_every_point_before_the_first(tmp_path, monkeypatch):
    import collective_qc.core.validate as validate
    import collective_qc.study.compute as compute

    cfg = _sizes(SMALL, [2, 3, 10])
    st = Study(cfg, tmp_path / "s")
    need = {p["id"]: compute.point_memory(p)[0] for p in st.points}
    big = [pid for pid in need if pid.startswith("N10-")]
    limit = max(v for k, v in need.items() if k not in big) / 0.8 * 1.01
    assert all(need[pid] > 0.8 * limit for pid in big)
    monkeypatch.setattr(validate, "available_memory", lambda: limit)
    calls = []
    monkeypatch.setattr(compute, "run_point", lambda *a, **k: calls.append(1))
    with pytest.raises(ResourceError, match=rf"point {big[0]}.*needs about.*\(and 1 more points\); nothing was"):
        st.run()
    assert not calls and not (tmp_path / "s").exists()


def test_workers_zero_refused(tmp_path, capsys):
    toml = tmp_path / "s.toml"
    toml.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2]\n')
    assert main(["study", str(toml), "--out", str(tmp_path / "o"), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert "--workers" in err and ">= 1" in err and not (tmp_path / "o").exists()


def test_progress_lines_when_piped(tmp_path, capsys):
    Study(SMALL, tmp_path / "s", progress=True, progress_interval=0).run()
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("study study: ")]
    assert any("6/6 points (0 loaded, 6 computed)" in ln for ln in lines)
    assert any("1/6 points" in ln for ln in lines)


def test_progress_shows_when_a_point_starts_over():
    buf = io.StringIO()
    prog = StudyProgress("dicke", 3, 1, interval=0, stream=buf)
    cb = prog.inner("N8-abc")
    for k in range(0, 11):
        cb(k, 10)
    for k in range(0, 6):  # the cutoff was doubled: the run restarts
        cb(k, 10)
    prog.point_done("N8-abc")
    out = buf.getvalue()
    assert "cutoff not converged" not in out  # no line per pass (issue 22, item 16): the status line shows it
    assert "point N8-abc (pass 2) 50%" in out
    assert out.strip().splitlines()[-1].startswith("study dicke: 2/3 points (1 loaded, 1 computed)")


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_two_runs_on_one_directory(tmp_path):
    cfg = tmp_path / "resume.toml"
    cfg.write_text(RESUME_TOML)
    out = tmp_path / "s"
    first = cli(str(cfg), "--out", str(out))
    t0 = time.time()
    while not (out / ".cqc-lock").exists() and time.time() - t0 < 60:
        time.sleep(0.01)
    second = cli(str(cfg), "--out", str(out))
    _, err = second.communicate(timeout=120)
    assert second.returncode == 2 and first.poll() is None, "the first run ended too soon"
    assert f"is in use by another run (PID {first.pid})" in err and err.count("\n") == 1
    waiter = cli(str(cfg), "--out", str(out), "--wait")
    so1, se1 = first.communicate(timeout=300)
    so3, se3 = waiter.communicate(timeout=300)
    assert first.returncode == 0 and waiter.returncode == 0, (se1, se3)
    assert "40 points (0 loaded, 40 computed)" in so1
    assert "40 points (40 loaded, 0 computed)" in so3  # no point computed twice
    assert len(point_files(out)) == 40 and not (out / ".cqc-lock").exists()


def test_huge_sample_count_refused_before_any_point(tmp_path):
    cfg = {**SMALL, "run": {"t_max": 5, "n_times": 10**10}}
    t0 = time.monotonic()
    match = r"point base-\w+: .*needs about .*\(and 5 more points\); nothing was computed"
    with pytest.raises(ResourceError, match=match):
        Study(cfg, tmp_path / "s").run()
    assert time.monotonic() - t0 < 5 and not (tmp_path / "s").exists()


def test_lock_falls_back_to_a_file_where_directories_cannot_be_locked(tmp_path, monkeypatch):
    import errno
    import fcntl
    import stat

    from collective_qc.study.lock import NOTE, DirLock

    real = fcntl.flock

    def flock(fd, how):  # like NFS: no flock on a directory
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise OSError(errno.EBADF, "Bad file descriptor")
        return real(fd, how)

    monkeypatch.setattr(fcntl, "flock", flock)
    d = tmp_path / "s"
    Study(SMALL, d).run()
    assert (d / NOTE).exists() and (d / NOTE).read_text() == ""
    with DirLock(str(d)) as held:
        held.note()
        with pytest.raises(InputError, match=rf"in use by another run \(PID {os.getpid()}@"), DirLock(str(d)):
            pass
