"""Issue 22 (items 7-9): a study is refused before its first point when any point is bad or the sweep
is too large; SIGINT ends it with one line, rc 130, the finished points saved."""

import os
import time

import pytest

from collective_qc.cli import main
from collective_qc.core.errors import InputError
from collective_qc.study import Study


def _toml(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return str(p)


@pytest.mark.parametrize("run,words", [('charger = "k-local:k=3"', "k = 3 exceeds"),
                                       ('charger = "global"\nnorm = 1e308', "norm")])
def test_every_point_validated_before_the_first_runs(tmp_path, monkeypatch, capsys, run, words):
    """charger k-local:k=3 with sizes [2, 3]: the base point (N = 1) and N = 2 cannot take it; norm 1e308
    hung; both refused before any point is computed (the manual promises config errors first)."""
    import collective_qc.study.compute as compute

    ran = []
    monkeypatch.setattr(compute, "run_point", lambda point, progress=None: ran.append(point) or 1 / 0)
    cfg = _toml(tmp_path, f'[study]\nmodel = "xxz-chain"\nsizes = [2, 3]\n[run]\n{run}\nt_max = 2\nn_times = 11\n')
    out = tmp_path / "out"
    t0 = time.perf_counter()
    assert main(["study", cfg, "--out", str(out)]) == 2
    assert time.perf_counter() - t0 < 20  # hang guard; ran == [] below is the check
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and words in err and "point" in err, err
    assert ran == []
    assert not out.exists() or not os.listdir(out)


def test_too_many_points_refused_before_expanding(tmp_path):
    """Six swept lists of 10 values: 1e6 combinations x 3 points; refused with the count, fast."""
    lists = "\n".join(f"{k} = [{', '.join(str(0.01 * i + j) for i in range(10))}]"
                      for j, k in enumerate(["J", "Delta", "omega"]))
    runs = "\n".join(f"{k} = [{', '.join(str(0.01 * i + j + 1) for i in range(10))}]"
                     for j, k in enumerate(["t_max", "dephasing", "relaxation"]))
    cfg = _toml(tmp_path, f'[study]\nmodel = "xxz-chain"\nsizes = [2, 3]\n[params]\n{lists}\n[run]\n{runs}\n')
    t0 = time.perf_counter()
    with pytest.raises(InputError, match=r"3,000,000 points.*1,000,000 combinations"):
        Study(cfg, tmp_path / "out")
    assert time.perf_counter() - t0 < 10.0  # hang guard: the count is refused before expanding


def test_sigint_ends_with_one_line_and_rc_130(tmp_path, monkeypatch, capsys):
    """Ctrl-C after the first point: 'interrupted: 1 points saved, rerun to resume', rc 130; the rerun
    loads that point."""
    import collective_qc.study.compute as compute

    real = compute.run_point
    calls = []

    def interrupted(point, progress=None):
        calls.append(point["id"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(point, progress)

    monkeypatch.setattr(compute, "run_point", interrupted)
    cfg = _toml(tmp_path, '[study]\nmodel = "xxz-chain"\nsizes = [2, 3]\n[run]\nt_max = 2\nn_times = 11\n')
    out = tmp_path / "out"
    assert main(["study", cfg, "--out", str(out)]) == 130
    captured = capsys.readouterr()
    lines = [ln for ln in captured.err.splitlines() if "interrupted" in ln]
    assert lines == ["cqc: interrupted: 1 points saved, rerun to resume"], captured.err
    assert "Traceback" not in captured.err
    monkeypatch.setattr(compute, "run_point", real)
    st = Study(cfg, out)
    st.run()
    assert (st.loaded, st.computed) == (1, 2)


@pytest.mark.slow
def test_real_sigint_subprocess(tmp_path):
    """A real SIGINT to `cqc study` mid-sweep: rc 130, the one line, the finished points on disk."""
    import signal
    import subprocess
    import sys

    cfg = _toml(tmp_path, '[study]\nmodel = "xxz-chain"\nsizes = [2, 3, 4, 5, 6]\n[params]\nJ = [0.1, 0.2, 0.3, 0.4]\n'
                          '[run]\nt_max = 200\nn_times = 2001\n')
    out = tmp_path / "out"
    p = subprocess.Popen([sys.executable, "-m", "collective_qc", "study", cfg, "--out", str(out)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 120

    def finished():
        return len(list((out / "points").glob("*.json"))) if (out / "points").exists() else 0

    while time.time() < deadline and finished() < 2:
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 130, err[-500:]
    saved = len(list((out / "points").glob("*.json")))
    lines = [ln for ln in err.replace("\r", "\n").splitlines() if "interrupted" in ln]
    assert lines == [f"cqc: interrupted: {saved} points saved, rerun to resume"], err[-500:]
    assert "Traceback" not in err


def test_toml_charger_nan_names_the_key(tmp_path, capsys):
    """run.charger = "k-local:k=nan" was a traceback; now one line naming the config key."""
    cfg = _toml(tmp_path, '[study]\nmodel = "xxz-chain"\nsizes = [2]\n[run]\ncharger = "k-local:k=nan"\n')
    assert main(["study", cfg, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "'run.charger'" in err and "nan" in err, err
