"""Reading results back (issue 22, item 15): pandas views of a result and a comparison, one unit
vocabulary, and a one-line error naming the extra when pandas or xarray is missing."""

import numpy as np
import pytest

import collective_qc as cqc

pd = pytest.importorskip("pandas")


@pytest.fixture(scope="module")
def cavity():
    """A Dicke run (observables: photon number, top Fock population) of 2 sites."""
    return cqc.charge("dicke", params={"N": 2}, t_max=3, n_times=31)


@pytest.fixture(scope="module")
def comparison():
    return cqc.compare("xxz-chain", [2, 3], params={"J": 0.2}, t_max=5, n_times=21)


def test_result_to_dataframe(cavity):
    df = cavity.to_dataframe()
    assert df.index.name == "times" and np.array_equal(df.index.to_numpy(), cavity.times)
    for k in ("energy", "power", "capacitance", "photons[cavity]"):
        ref = cavity.observables[k] if "[" in k else getattr(cavity, k)
        assert np.array_equal(df[k].to_numpy(), ref), k
    assert df["photons[cavity]"].iloc[0] == pytest.approx(2.0, abs=1e-12)  # N photons initially
    units = cavity.to_dict()["units"]
    assert df.attrs["units"]["times"] == units["time"] == "1/omega0"
    assert df.attrs["units"]["energy"] == units["energy"] == "omega0"
    assert df.attrs["units"]["power"] == units["power"] == "omega0^2"
    assert df.attrs["units"]["capacitance"] == units["capacitance"] == "dimensionless"
    assert df.attrs["figures"]["tau_c"] == cavity.tau_c and df.attrs["n_sites"] == 2


def test_comparison_to_dataframe(comparison):
    df = comparison.to_dataframe()
    assert str(df["N"].dtype) == "int64" and list(df["N"]) == [1, 2, 3]
    assert list(df["role"]) == ["baseline", "size", "size"]
    for k, row in enumerate(comparison.rows, start=1):
        for col in ("tau_c", "power_max_per_site", "gamma_power", "gamma_tau", "gamma_capacitance"):
            assert df[col].iloc[k] == row[col], col
    base = comparison.baseline
    assert df["power_max"].iloc[0] == base.power_max and np.isnan(df["gamma_power"].iloc[0])
    # Gamma_P from the frame's own columns (independent of compare's ratio code)
    gp = df["power_max"].iloc[1:] / (df["N"].iloc[1:] * df["power_max"].iloc[0])
    assert np.allclose(gp, df["gamma_power"].iloc[1:], rtol=1e-12)
    assert df.attrs["units"]["power_max_per_site"] == "omega0^2" and df.attrs["units"]["gamma_power"] == \
        "dimensionless"


def test_one_unit_vocabulary():
    """The unit of each quantity is one string, whatever asks for it (no 'omega0/(1/omega0)')."""
    from collective_qc.core.units import Units

    for u, power in ((Units(), "omega0^2"), (Units("K", "hbar/K"), "K^2/hbar"), (Units("meV", "ps"), "meV/ps")):
        assert u.of("power") == u.of("power_max_per_site") == u.of("qsl_power") == u.power == power
        assert u.of("capacitance") == u.of("capacitance_stderr") == u.of("gamma_power") == "dimensionless"
        assert u.of("times") == u.of("tau_c") == u.time and u.of("energy_max_per_site") == u.energy
        assert u.of("ergotropy") == u.energy and u.of("photons[cavity]") == "dimensionless"


@pytest.mark.parametrize("module", ["pandas", "xarray"])
def test_missing_extra_is_one_line(module, monkeypatch, cavity):
    from collective_qc.analysis.frames import require

    monkeypatch.setitem(__import__("sys").modules, module, None)
    with pytest.raises(ImportError) as exc:
        require(module, "Study.to_xarray()")
    msg = str(exc.value)
    assert "\n" not in msg and module in msg and 'pip install "collective-qc[frames]"' in msg
    if module == "pandas":
        with pytest.raises(ImportError, match=r"collective-qc\[frames\]"):
            cavity.to_dataframe()


def test_undefined_numbers_are_nan_with_reason():
    """Global charger at field norm on free sites (J = 0), battery off: C_Q* is round-off on both
    sides (issue 22 item 1), so Gamma_C is NaN in the frame with its reason; Gamma_P = N exactly
    (Gyhm, Safranek, Rosa 2022: the bound is reached by the global charger of free sites)."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cmp = cqc.compare("xxz-chain", [2, 3], params={"J": 0}, t_max=4, n_times=81, charger="global",
                          norm="field", battery_off_while_charging=True)
    df = cmp.to_dataframe()
    assert df["gamma_capacitance"].isna().all()
    assert all("gamma_capacitance: " in t and "round-off" in t for t in df["undefined"].iloc[1:])
    assert "gamma" not in df["undefined"].iloc[0]
    assert np.allclose(df["gamma_power"].iloc[1:], [2.0, 3.0], rtol=2e-3)


def test_trajectory_result_frame_has_errors():
    res = cqc.charge("xxz-chain", params={"N": 2}, dephasing=0.05, method="trajectories", ntraj=16, seed=1,
                     t_max=2, n_times=11)
    df = res.to_dataframe()
    for k in ("energy", "power", "capacitance"):
        assert np.array_equal(df[k + "_stderr"].to_numpy(), getattr(res, k + "_stderr"))
        assert df.attrs["units"][k + "_stderr"] == df.attrs["units"][k]
    assert (df["energy_stderr"].iloc[2:] > 0).all()  # no jump yet at the first sample (t = 0.2): zero spread
