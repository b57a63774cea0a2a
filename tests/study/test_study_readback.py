"""Reading a study back (issue 22, item 15): table.csv with an integer size column, timeseries.h5
readable by xarray (h5netcdf, no phony dimensions, ``times`` a coordinate, readable group names,
one unit vocabulary), ``open_study(dir).to_xarray()`` / ``.to_dataframe()`` against an independent
``compare`` run, and a directory written with the earlier HDF5 layout resumed and rewritten."""

import os

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.study import Study, open_study

pd = pytest.importorskip("pandas")
xr = pytest.importorskip("xarray")
pytest.importorskip("h5netcdf")

CONFIG = {"study": {"name": "rb", "model": "xxz-chain", "sizes": [2, 3]}, "params": {"J": [0.1, 0.2]},
          "run": {"t_max": 5, "n_times": 21}}
GROUPS = {"base,J=0.1", "N=2,J=0.1", "N=3,J=0.1", "base,J=0.2", "N=2,J=0.2", "N=3,J=0.2"}
UNITS = {"times": "1/omega0", "energy": "omega0", "power": "omega0^2", "capacitance": "dimensionless"}


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("rb") / "out"
    Study(CONFIG, d).run()
    return d


@pytest.fixture(scope="module")
def reference():
    """The same points run by compare (no study code involved)."""
    return {j: cqc.compare("xxz-chain", [2, 3], params={"J": j}, t_max=5, n_times=21) for j in (0.1, 0.2)}


def test_table_csv_has_integer_sizes(study_dir):
    df = pd.read_csv(study_dir / "table.csv")
    assert str(df["N"].dtype) == "int64" and str(df["n_sites"].dtype) == "int64"
    assert list(df["N"]) == [1, 2, 3, 1, 2, 3] and list(df["role"]) == ["baseline", "size", "size"] * 2
    assert df.loc[df["role"] == "baseline", "gamma_power"].isna().all()


def test_h5_opens_with_xarray(study_dir, reference):
    import h5py

    path = study_dir / "timeseries.h5"
    with h5py.File(path, "r") as f:
        groups = {k for k in f if isinstance(f[k], h5py.Group)}
    assert groups == GROUPS
    root = xr.open_dataset(path, engine="h5netcdf")
    assert set(root.dims) == {"point", "times"} and "times" in root.coords
    assert set(root["point"].values) == GROUPS
    assert root["N"].dtype == np.int64 and root["tau_c"].attrs["units"] == "1/omega0"
    k = list(root["point"].values).index("N=3,J=0.2")
    assert root["gamma_power"].values[k] == pytest.approx(reference[0.2].rows[1]["gamma_power"], rel=1e-12)
    for name in GROUPS:
        g = xr.open_dataset(path, engine="h5netcdf", group=name)
        assert set(g.dims) == {"times"} and "times" in g.coords, name
        assert {v: g[v].attrs["units"] for v in ("times", *list(UNITS)[1:])} == UNITS
    g = xr.open_dataset(path, engine="h5netcdf", group="N=3,J=0.2")
    res = reference[0.2].results[3]
    assert np.allclose(g["energy"].values, res.energy, rtol=1e-12, atol=1e-14)
    assert np.array_equal(g["times"].values, res.times) and g.attrs["n_sites"] == 3


def test_h5_units_are_the_json_units(study_dir, reference):
    import h5py

    json_units = set(reference[0.2].results[3].to_dict()["units"].values())
    seen = set()
    with h5py.File(study_dir / "timeseries.h5", "r") as f:
        f.visititems(lambda name, obj: seen.add(obj.attrs.get("units")) if "units" in obj.attrs else None)
    assert seen <= json_units and "omega0^2" in seen


def test_open_study_views(study_dir, reference):
    st = open_study(study_dir)
    ds = st.to_xarray()
    assert list(ds["J"].values) == [0.1, 0.2] and list(ds["N"].values) == [2, 3] and "times" in ds.coords
    for j, cmp in reference.items():
        for row in cmp.rows:
            sel = ds.sel(J=j, N=row["n_sites"])
            for col in ("gamma_power", "gamma_tau", "gamma_energy", "power_max_per_site"):
                assert float(sel[col]) == pytest.approx(row[col], rel=1e-12), (j, col)
            res = cmp.results[row["n_sites"]]
            assert np.allclose(sel["power"].values, res.power, rtol=1e-12, atol=1e-14)
        assert float(ds["baseline_power_max_per_site"].sel(J=j)) == pytest.approx(cmp.baseline.power_max)
    assert ds["power"].attrs["units"] == "omega0^2" and ds["gamma_tau"].attrs["units"] == "dimensionless"
    df = st.to_dataframe()
    csv = pd.read_csv(study_dir / "table.csv")
    assert list(df["N"]) == list(csv["N"]) and np.allclose(df["gamma_power"], csv["gamma_power"], equal_nan=True)
    assert df.attrs["units"]["tau_c"] == "1/omega0"
    assert st.result("N=2,J=0.1").n_sites == 2


def test_open_study_refuses_in_one_line(tmp_path, study_dir):
    with pytest.raises(cqc.InputError, match="not a study directory") as exc:
        open_study(tmp_path)
    assert "\n" not in str(exc.value)
    with pytest.raises(cqc.InputError, match="has no point 'N=9'"):
        open_study(study_dir).result("N=9")


def test_earlier_h5_layout_is_rewritten(study_dir, tmp_path):
    """A directory whose timeseries.h5 has the earlier layout (groups named by hashes) resumes with
    nothing recomputed and gets the new layout."""
    import shutil

    import h5py

    d = tmp_path / "old"
    shutil.copytree(study_dir, d)
    with h5py.File(d / "timeseries.h5", "w") as f:
        f.create_group("N2-cf2ff8080705").create_dataset("energy", data=np.zeros(3))
    st = Study(CONFIG, d)
    st.run()
    assert (st.loaded, st.computed) == (6, 0)
    assert (d / "timeseries.h5").read_bytes() == (study_dir / "timeseries.h5").read_bytes()
    assert os.path.exists(d / "table.csv")


def test_undefined_is_nan_with_reason(tmp_path):
    """C_Q* round-off on both sides (global charger at field norm, free sites, battery off): the
    Gamma_C cells are empty in table.csv, NaN in timeseries.h5 with the reason as an attribute, NaN
    in the xarray view; Gamma_P = N (the bound for free sites) is a result everywhere."""
    import json
    import warnings

    import h5py

    cfg = {"study": {"model": "xxz-chain", "sizes": [2, 3]}, "params": {"J": 0.0},
           "run": {"t_max": 4, "n_times": 81, "charger": "global", "norm": "field",
                   "battery_off_while_charging": True}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Study(cfg, tmp_path / "s").run()
    csv = pd.read_csv(tmp_path / "s" / "table.csv")
    assert csv["gamma_capacitance"].isna().all() and np.allclose(csv["gamma_power"][1:], [2, 3], rtol=2e-3)
    with h5py.File(tmp_path / "s" / "timeseries.h5", "r") as f:
        why = json.loads(f["gamma_capacitance"].attrs["undefined"])
        assert set(why) == {"N=2", "N=3"} and all("round-off" in w for w in why.values())
        assert np.isnan(f["gamma_capacitance"][:]).all() and "round-off" in f["N=3"].attrs["undefined"]
    ds = open_study(tmp_path / "s").to_xarray()
    assert ds["gamma_capacitance"].isnull().all() and list(ds["gamma_power"].values) == pytest.approx([2, 3], 2e-3)


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_trajectory_study_with_irregular_times(tmp_path):
    """Trajectory points (standard errors, jackknife curves) and a swept t_max (no shared time
    grid): every group opens without phony dimensions, the jackknife over (quantity, group, times);
    the root and to_xarray() carry the table but no time series; the text column 'undefined' stays
    text when every value is a result."""
    import warnings

    cfg = {"study": {"model": "xxz-chain", "sizes": [2], "seed": 3}, "params": {"J": 0.2},
           "run": {"t_max": [4, 6], "n_times": 31, "method": "trajectories", "ntraj": 16, "dephasing": 0.05}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Study(cfg, tmp_path / "t").run()
    path = tmp_path / "t" / "timeseries.h5"
    root = xr.open_dataset(path, engine="h5netcdf")
    assert set(root.dims) == {"point"} and "energy" not in root and root["undefined"].dtype.kind in "OUS"
    g = xr.open_dataset(path, engine="h5netcdf", group="N=2,t_max=6.0")
    assert dict(g.sizes) == {"times": 31, "quantity": 3, "group": 16}
    assert g["jackknife"].dims == ("quantity", "group", "times") and g["times"].values[-1] == 6.0
    assert g["energy_stderr"].attrs["units"] == "omega0" and g["power_stderr"].attrs["units"] == "omega0^2"
    # the jackknife error of E(t) from the stored delete-one-group curves (independent of the solver's own)
    jk = g["jackknife"].sel(quantity="energy").values
    err = np.sqrt((16 - 1) / 16 * ((jk - jk.mean(axis=0)) ** 2).sum(axis=0))
    assert np.allclose(err[1:], g["energy_stderr"].values[1:], rtol=0.1)  # 16 groups of one trajectory: the
    # delete-one jackknife of a mean is its standard error (measured ratio 1 beyond t = 0.8, 0.999-1.07 before)
    ds = open_study(tmp_path / "t").to_xarray()
    assert set(ds.dims) == {"t_max", "N"} and "energy" not in ds
    assert float(ds["gamma_power_stderr"].sel(t_max=4, N=2)) > 0


def test_unfinished_study_is_refused(tmp_path):
    st = Study(CONFIG, tmp_path / "empty")
    with pytest.raises(cqc.InputError, match="6 of 6 points are not computed") as exc:
        st.to_xarray()
    assert "\n" not in str(exc.value)


@pytest.mark.slow  # default suite under 10 min on CI; run with -m slow
def test_xarray_grid_of_several_swept_keys(tmp_path):
    """Three swept keys of three kinds (number, string, bool): every cell of to_xarray() is the
    table.csv row of the same swept values (and its baseline's seed), group names readable."""
    import h5py

    cfg = {"study": {"model": "xxz-chain", "sizes": [2, 3], "drive": [0.25, 0.5]}, "params": {"J": 0.2},
           "run": {"t_max": 4, "n_times": 11, "protocol": ["constant", "on-off:3"],
                   "battery_off_while_charging": [True, False]}}
    Study(cfg, tmp_path / "g").run()
    ds = open_study(tmp_path / "g").to_xarray()
    assert dict(ds.sizes) == {"drive": 2, "protocol": 2, "battery_off_while_charging": 2, "N": 2, "times": 11}
    table = pd.read_csv(tmp_path / "g" / "table.csv")
    base = table[table.role == "baseline"].set_index(["drive", "protocol", "battery_off_while_charging"])
    for _, r in table[table.role == "size"].iterrows():
        key = (r.drive, r.protocol, r.battery_off_while_charging)
        cell = ds.sel(drive=r.drive, protocol=r.protocol, battery_off_while_charging=bool(r.battery_off_while_charging),
                      N=r.N)
        for col in ("tau_c", "gamma_power", "gamma_energy"):  # NaN (not a result) in both, or the same number
            assert np.array_equal(float(cell[col]), r[col], equal_nan=True), (key, col)
        assert int(cell["seed"]) == r.seed and int(cell["baseline_seed"]) == base.loc[key, "seed"]
    with h5py.File(tmp_path / "g" / "timeseries.h5", "r") as f:
        assert "N=3,drive=0.5,protocol=on-off:3,battery_off_while_charging=false" in f
