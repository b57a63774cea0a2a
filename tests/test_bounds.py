"""Speed-limit diagnostics: values against a dense reference, the bound over the catalog, compare flags."""

import numpy as np
import pytest
from reference import SX, SZ, expm

from collective_qc import charge
from collective_qc.compare import check_bounds, make_row
from collective_qc.physics.registry import model_names

SLOW = {"cr8-ring"}  # 65536 states: in the slow sweep only


def _assert_bound_holds(res):
    obs = res.observables
    p, b = obs["qsl_power"], obs["qsl_bound"]
    assert np.all(p <= b * (1 + 1e-9) + 1e-12), res.model
    r = obs["qsl_ratio"]
    assert np.all(r[np.isfinite(r)] <= 1 + 1e-9)
    rv = obs["qsl_ratio_charger"]
    assert np.all(rv[np.isfinite(rv)] <= 1 + 1e-9)
    assert np.allclose(p, np.abs(res.power), rtol=1e-10, atol=1e-13)  # |P| of the hook = the solver's P
    assert res.metadata["speed_limit"]["holds"]
    assert res.power_max <= res.metadata["speed_limit"]["power_bound"] * (1 + 1e-9)


def test_speed_limit_series_against_dense_two_level():
    lam, t = 0.7, np.linspace(0, 3, 16)
    res = charge("two-level", lam, t, speed_limit=True)
    hb, h = 0.5 * SZ, 0.5 * SZ + lam * SX
    g = np.array([0, 1], dtype=complex)
    for k, tk in enumerate(t):
        psi = expm(-1j * h * tk) @ g

        def sd(a, psi=psi):
            return np.sqrt(max(np.real(psi.conj() @ a @ a @ psi) - np.real(psi.conj() @ a @ psi) ** 2, 0.0))

        assert res.observables["qsl_bound"][k] == pytest.approx(2 * sd(hb) * sd(h), abs=1e-12)
    assert np.isnan(res.observables["qsl_ratio"][0])  # 0 / 0 at t = 0 is not a number, reported as NaN
    assert res.metadata["speed_limit"]["samples_without_ratio"] == 1
    _assert_bound_holds(res)


def _sweep(names):
    for name in names:
        yield pytest.param(name, {}, None, id=name)


CHARGER_CASES = [
    ("xxz-ring", {"N": 6, "J": -0.3}, dict(charger="global", norm="field")),
    ("xxz-ring", {"N": 6}, dict(charger="k-local:k=2", norm="field", protocol="on-off:2")),
    ("xxz-chain", {"N": 5}, dict(charger="field:axis=y")),
    ("ising-chain", {"N": 4}, dict(charger="k-local:k=3", battery_off_while_charging=True)),
    ("ising-ring", {"N": 4, "omega": 0.0}, dict()),  # degenerate ground manifold (two Neel states): a mixture
    ("dicke", {"N": 3}, dict()),
]


@pytest.mark.parametrize("name", [n for n in model_names() if n not in SLOW])
def test_robertson_bound_holds_over_the_catalog(name):
    res = charge(name, 0.6, t_max=6.0, n_times=61, method="closed", speed_limit=True)
    _assert_bound_holds(res)


@pytest.mark.parametrize("name,params,kw", CHARGER_CASES)
def test_robertson_bound_holds_for_chargers_and_conventions(name, params, kw):
    res = charge(name, 0.6, params=params, t_max=6.0, n_times=61, method="closed", speed_limit=True, **kw)
    _assert_bound_holds(res)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW))
def test_robertson_bound_holds_large_models(name):
    _assert_bound_holds(charge(name, 0.6, t_max=3.0, n_times=16, method="closed", speed_limit=True))


def test_speed_limit_is_reported_as_not_computed_for_open_runs():
    res = charge("two-level", 0.5, t_max=2.0, n_times=11, dephasing=0.1, speed_limit=True)
    assert res.metadata["speed_limit"]["computed"] is False
    assert "qsl_ratio" not in res.observables


def test_gamma_above_its_bound_is_a_failed_row_not_a_result():
    t = np.linspace(0, 4, 41)
    res_1 = charge("two-level", 0.5, t, speed_limit=True)
    res_n = charge("xxz-chain", 0.5, t, params={"N": 2, "J": 0.0}, speed_limit=True)
    row = check_bounds(make_row(res_n, res_1), res_n, res_1)
    assert "failed" not in row and row["gamma_power"] <= row["gamma_power_bound"]
    res_n.metadata["speed_limit"]["power_bound"] = 0.5 * res_n.power_max  # a (forged) bound below the run
    with pytest.warns(UserWarning, match="exceeds its bound"):
        row = check_bounds(make_row(res_n, res_1), res_n, res_1)
    assert row["gamma_power"] is None and row["gamma_power_failed"] == pytest.approx(1.0, rel=1e-6)
    from collective_qc.compare import Comparison

    assert "FAILED at N = 2: Gamma_P" in Comparison("m", {}, {}, [row], res_1, {2: res_n}).table()
