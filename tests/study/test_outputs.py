"""Study outputs: table layout, real plot images, the HDF5 time series (from one CLI reference run)."""

import os

import numpy as np


def test_table_layout(reference):
    _, ref = reference
    lines = (ref / "table.csv").read_text().splitlines()
    head = lines[0].split(",")
    assert head[:5] == ["point", "role", "N", "J", "n_sites"]
    assert head[-4:] == ["method", "energy_unit", "time_unit", "seed"]
    assert {"gamma_power", "gamma_tau", "gamma_capacitance", "gamma_energy", "power_max_per_site"} <= set(head)
    assert len(lines) == 41
    rows = [dict(zip(head, line.split(","))) for line in lines[1:]]
    assert [r["role"] for r in rows[:4]] == ["baseline", "size", "size", "size"]
    assert [r["N"] for r in rows[:4]] == ["1", "2", "3", "4"]  # the baseline's own size, an integer
    assert len({r["seed"] for r in rows}) == 40


def test_plots_are_real_images(reference):
    from matplotlib.image import imread

    _, ref = reference
    names = sorted(os.listdir(ref / "plots"))
    assert names == ["gammas.png", "per_site.png", "timeseries-1.png", "timeseries-2.png"]
    for name in names:
        img = imread(ref / "plots" / name)
        assert img.shape[0] > 100 and img.shape[1] > 100
        flat = img.reshape(-1, img.shape[-1])
        assert flat.std(axis=0).max() > 0.05 and len(np.unique(flat[::37], axis=0)) > 10, name


def test_timeseries_h5(reference):
    import h5py

    _, ref = reference
    with h5py.File(ref / "timeseries.h5", "r") as f:
        assert len([k for k in f if isinstance(f[k], h5py.Group)]) == 40
        g = f["N=4,J=0.02"]
        assert g.attrs["n_sites"] == 4 and g.attrs["model"] == "xxz-chain" and "param.J" in g.attrs
        assert g["times"].shape == g["energy"].shape == g["power"].shape == g["capacitance"].shape == (41,)
        assert g["energy"].attrs["units"] == "omega0" and g["times"].attrs["units"] == "1/omega0"
