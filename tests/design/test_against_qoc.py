"""The qutip-qoc comparison of ``benchmarks/optimize_vs_qoc.py`` as a benchmark test (``pytest -m benchmark``;
skipped without qutip-qoc): N = 6 XXZ ring, 20 slices, maximise E(tau = 2), same start and bounds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("qutip_qoc")


@pytest.mark.benchmark
def test_same_optimum_and_at_least_ten_times_faster():
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "optimize_vs_qoc.py"
    spec = importlib.util.spec_from_file_location("optimize_vs_qoc", path)
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    out = bench.main(["--repeats", "1"])
    assert abs(out["E_ours"] - out["E_qoc"]) <= 1e-4 * abs(out["E_qoc"])
    assert out["t_qoc"] >= 10 * out["t_ours"]
