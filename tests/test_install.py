"""`pip install .` and `pip install -e .` both give a working `cqc models` (slow: builds venvs)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True])
def test_install_gives_working_cli(tmp_path, editable):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps"]
    target = ["-e", ROOT] if editable else [ROOT]
    subprocess.run(pip + target, check=True, cwd=tmp_path)
    out = subprocess.run([str(venv / "bin" / "cqc"), "models"], capture_output=True, text=True, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "xxz-ring" in out.stdout and "two-level" in out.stdout
    # nothing named plain `models` is importable from the install
    probe = subprocess.run([str(venv / "bin" / "python"), "-c", "import collective_qc.models, importlib.util;"
                            "print(importlib.util.find_spec('models'))"], capture_output=True, text=True,
                           cwd=tmp_path)
    assert probe.stdout.strip() == "None", probe.stdout + probe.stderr
