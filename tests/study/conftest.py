import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))

from studyutil import RESUME_TOML, cli  # noqa: E402


@pytest.fixture(scope="session")
def reference(tmp_path_factory):
    """An uninterrupted CLI run of RESUME_TOML: (config path, study directory)."""
    base = tmp_path_factory.mktemp("study")
    cfg = base / "resume.toml"
    cfg.write_text(RESUME_TOML)
    p = cli(str(cfg), "--out", str(base / "ref"))
    out, err = p.communicate(timeout=300)
    assert p.returncode == 0, err
    assert "40 points (0 loaded, 40 computed)" in out
    return cfg, base / "ref"
