"""Study configs: validation before any work (one-line errors naming the key, with suggestions)."""

import copy

import pytest

from collective_qc.cli import main
from collective_qc.core.errors import InputError
from collective_qc.study import Study

BASE = {"study": {"model": "xxz-ring", "sizes": [3, 4]}}
BAD = [
    ({"bogus": {}}, r"\[bogus\]"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "sizez": [4]}}, "'study.sizez'.*did you mean 'sizes'"),
    ({"study": {"model": "xxz-rng", "sizes": [3]}}, "did you mean 'xxz-ring'"),
    ({"study": {"model": "two-level", "sizes": [1]}}, "no size parameter"),
    ({"study": {"model": "xxz-ring", "sizes": [1, 3]}}, "ring must be >= 3"),
    ({"study": {"model": "xxz-ring", "sizes": 4}}, "'study.sizes'"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "seed": -1}}, "'study.seed'"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "drive": [0.5, 0.5]}}, "'study.drive' lists a value twice"),
    ({"study": {"model": "xxz-ring", "sizes": [3], "drive": "big"}}, "'study.drive' must be a number"),
    ({"params": {"Jx": 0.3}}, "'params.Jx'.*did you mean 'J'"),
    ({"params": {"J": "0.3"}}, "'params.J' must be a number"),
    ({"params": {"J": []}}, "'params.J'"),
    ({"params": {"N": 5}}, "'params.N' is the size parameter"),
    ({"run": {"t_max": -1}}, "'run.t_max' must be > 0"),
    ({"run": {"n_times": 10.5}}, "'run.n_times' must be an integer"),
    ({"run": {"method": "magic"}}, "'run.method'"),
    ({"run": {"seed": 3}}, "'run.seed'"),
    ({"run": {"dephasin": 0.1}}, "'run.dephasin'.*did you mean 'dephasing'"),
    ({"run": {"protocol": "pulse"}}, "unknown protocol"),
    ({"run": {"method": "closed", "dephasing": 0.1}}, "'run.method'"),
    ({"run": {"sensitivities": ["J"]}}, "'run.sensitivities': studies do not store sensitivities"),
    ({"plots": {"timeseries": [{"N": 99}]}}, "'plots.timeseries'"),
    ({"plots": {"timeseries": [{"K": 3}]}}, "'plots.timeseries': unknown key 'K'"),
    ({"plot": {"timeseries": [{"N": 3}]}}, r"\[plot\].*did you mean 'plots'"),
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
    assert main(["study", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "is a directory" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_timeseries_selection_by_any_parameter(tmp_path):
    cfg = {"study": {"model": "xxz-ring", "sizes": [3, 4]}, "params": {"J": [0.1, 0.3], "Delta": 0.5},
           "plots": {"timeseries": [{"N": 4, "Delta": 0.5}, {"J": 0.3, "N": 3}]}}
    st = Study(cfg, tmp_path / "never")
    picked = [st.spec.select(spec) for spec in st.spec.timeseries]
    assert [len(p) for p in picked] == [2, 1]
    assert picked[1][0]["definition"]["params"] == {"J": 0.3, "Delta": 0.5, "N": 3}
    assert len(st.points) == 6 and not (tmp_path / "never").exists()


@pytest.mark.parametrize("rate", ["dephasing", "relaxation", "pumping", "collective_emission",
                                  "collective_dephasing", "collective_pumping"])
def test_closed_method_refused_with_any_noise_rate(tmp_path, rate):
    from collective_qc.physics.operators import NOISE_RATES

    assert rate in NOISE_RATES
    cfg = {"study": {"model": "all-to-all", "sizes": [2, 3]}, "run": {"method": "closed", rate: 0.1}}
    with pytest.raises(InputError, match="'run.method': method 'closed' is for noise-free runs"):
        Study(cfg, tmp_path / "never")
    cfg["run"] = {"method": "exact", rate: 0.1}  # a method that takes noise: accepted
    assert len(Study(cfg, tmp_path / "never").points) == 3
    assert not (tmp_path / "never").exists()
