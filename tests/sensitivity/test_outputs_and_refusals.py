"""Sensitivities in the result, JSON, HDF5, the CLI table and the tornado chart; every bad request
refused in one line before any run; the sensitivity propagation reproduces the solver's E, P, C_Q."""

from __future__ import annotations

import json
import warnings

import h5py
import networkx as nx
import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.cli import main

RUN = dict(drive=0.5, t_max=3.0, n_times=21, params={"N": 4})


def _charge(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cqc.charge(*args, **kwargs)


@pytest.mark.parametrize("method, extra", [("closed", {}), ("exact", {"dephasing": 0.05})])
def test_reproduces_the_solver(method, extra):
    res = _charge("xxz-ring", method=method, sensitivities=["J", "drive"], **RUN, **extra)
    for key, err in res.metadata["sensitivity"]["reproduces_run"].items():
        assert err <= 1e-9, (key, err)
    rec = res.sensitivities["J"]
    assert rec["energy"].shape == rec["power"].shape == rec["capacitance"].shape == res.times.shape
    assert rec["energy"][0] == 0.0 and rec["unit"] == "omega0"
    assert all(isinstance(rec[k], float) for k in ("tau_c", "energy_max", "power_max", "capacitance_at_tau_c"))
    assert rec["normalised_energy_max"] == pytest.approx(0.3 * rec["energy_max"] / res.energy_max)


@pytest.mark.parametrize("kwargs, match", [
    ({"sensitivities": ["Jay"]}, r"unknown sensitivity 'Jay' \(valid: omega, J, Delta, drive"),
    ({"sensitivities": ["omega@9"]}, "the graph has no node '9'"),
    ({"sensitivities": ["J@(0,2)"]}, r"the graph has no edge \(0,2\)"),
    ({"sensitivities": ["spin@0"]}, "'spin' is not a continuous node attribute"),
    ({"sensitivities": ["protocol.tau"]}, "protocol 'constant' has no field 'tau'"),
    ({"sensitivities": ["N"]}, "model parameter of type int"),
    ({"sensitivities": ["dephasing"]}, "is a noise rate: use method='exact'"),
    ({"sensitivities": ["J"], "method": "trajectories", "dephasing": 0.1, "initial": "thermal:0.7"},
     "trajectory sensitivities start from a pure or equal-weight member"),
    ({"sensitivities": ["J", "J"]}, "asked for twice"),
    ({"sensitivities": [3]}, "must be a list of parameter names"),
    ({"sensitivities": ["J"], "disorder": "omega=uniform:0.1"}, "single runs, not disorder ensembles"),
])
def test_bad_requests_are_refused_in_one_line(kwargs, match):
    opts = {**RUN, "method": "closed", **kwargs}
    with pytest.raises(cqc.InputError, match=match) as err:
        _charge("xxz-ring", **opts)
    assert "\n" not in str(err.value)


def test_a_split_degenerate_ground_level_is_refused():
    g = nx.Graph()
    g.add_nodes_from([0, 1], omega=1.0)  # no bond; site 0 with omega = 0 below: a 2-fold degenerate ground level
    g.nodes[0]["omega"] = 0.0
    with pytest.raises(cqc.InputError, match="degenerate ground level of H_B is split") as err:
        _charge(g, drive=0.5, t_max=3.0, n_times=21, method="closed", sensitivities=["omega@0"])
    assert "\n" not in str(err.value)


def test_json_and_hdf5_hold_the_sensitivities(tmp_path):
    res = _charge("xxz-ring", method="closed", sensitivities=["J", "omega@1"], **RUN)
    res.to_json(tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert np.allclose(data["sensitivities"]["J"]["energy"], res.sensitivities["J"]["energy"])
    assert data["sensitivities"]["omega@1"]["energy_max"] == res.sensitivities["omega@1"]["energy_max"]
    res.to_hdf5(tmp_path / "r.h5")
    with h5py.File(tmp_path / "r.h5") as h5:
        g = h5["sensitivities"]["J"]
        assert np.allclose(g["power"][()], res.sensitivities["J"]["power"])
        assert g.attrs["tau_c"] == res.sensitivities["J"]["tau_c"] and g.attrs["unit"] == "omega0"
        assert h5.attrs["energy_max"] == res.energy_max


def test_cli_table_and_tornado(tmp_path, capsys):
    plot = tmp_path / "run.png"
    rc = main(["charge", "xxz-ring", "-p", "N=4", "--t-max", "3", "--n-times", "21", "--method", "closed",
               "--sensitivity", "J", "--sensitivity", "J@(0,1)", "--plot", str(plot), "--hdf5", str(tmp_path / "r.h5")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "theta dE_max/E_max" in out and "J@(0,1)" in out
    assert (tmp_path / "run-sensitivities.png").stat().st_size > 1000 and (tmp_path / "r.h5").exists()


def test_cli_bad_name_is_one_line(capsys):
    rc = main(["charge", "xxz-ring", "-p", "N=4", "--method", "closed", "--sensitivity", "Jay"])
    err = capsys.readouterr().err
    assert rc == 2 and "unknown sensitivity 'Jay'" in err and err.count("\n") == 1


def test_a_large_thermal_state_is_refused_before_the_run(monkeypatch):
    import collective_qc.sensitivity.run as run

    monkeypatch.setattr(run, "DENSE_STATE_LIMIT", 8)
    with pytest.raises(cqc.InputError, match="thermal state on 16 spin states need a dense diagonalisation"):
        _charge("xxz-ring", method="closed", initial="thermal:0.5", sensitivities=["J"], **RUN)


def test_a_split_degenerate_ground_level_is_refused_before_the_run(monkeypatch):
    import collective_qc.api as api

    def no_run(*args, **kwargs):
        raise AssertionError("the run started before the refusal")

    monkeypatch.setattr(api, "solve", no_run)
    with pytest.raises(cqc.InputError, match="'omega@2': the 2-fold degenerate ground level"):
        _charge("xxz-ring", drive=0.5, t_max=3.0, n_times=21, params={"N": 5}, method="closed",
                sensitivities=["J", "omega@2"])
