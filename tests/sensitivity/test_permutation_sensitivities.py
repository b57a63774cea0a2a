"""Sensitivities of permutation-invariant runs (``method="permutation"``): the block-state
super-operators against the solver's kernel, every global parameter against fourth-order central
differences of the permutation solver itself (<= 1e-6 relative), the same derivatives against the
exact solver's on the full 2^N space (all-to-all graph), and the one-line refusals of names that break
the permutation symmetry or move a ground or thermal initial state."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sensitivity_fd import FIGURES, SERIES, check, relative_errors

import collective_qc as cqc
from collective_qc.api import check_charge
from collective_qc.physics.permutation import Rates, collective_form
from collective_qc.sensitivity.permutation import block_superoperators

NOISE = dict(dephasing=0.05, relaxation=0.07, pumping=0.03, collective_emission=0.04)
MODEL = dict(N=4, J=0.3, Delta=0.5, omega=1.1)
RUN = dict(drive=0.5, t_max=3.0, n_times=31, initial="product")


def _step(value: float) -> float:
    """The finite-difference step (the default rule of ``sensitivity_fd.finite_difference``)."""
    return 1e-2 * abs(value) if 0 < abs(value) < 0.1 else 1e-3 * max(abs(value), 1.0)


def _check(model, name, set_value, value, **kw):
    return check(model, name, set_value, value, tol=1e-6, h=_step(value), **kw)


def _charge(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return cqc.charge(*args, **kwargs)


def test_superoperators_apply_the_solvers_generator():
    """L_0 + lambda f L_V on the flat block state equals the Numba kernel's L R on a random
    Hermitian block state (all six channels, every block), and L_V its lambda-tangent source."""
    from collective_qc.solvers.permutation_form import PermutationLindbladian

    plan = check_charge("all-to-all", 0.5, params=dict(N=5, J=0.3, Delta=0.5), t_max=1, n_times=5,
                        method="permutation", initial="product")
    rates = Rates(**NOISE, collective_dephasing=0.02, collective_pumping=0.01)
    form = collective_form(plan.model_graph, rates)
    gen = PermutationLindbladian(form, 0.5)
    rng = np.random.default_rng(3)
    R = np.zeros(gen.space.length, complex)
    for b in range(len(gen.space.js)):
        s = int(gen.space.size[b])
        a = rng.normal(size=(s, s)) + 1j * rng.normal(size=(s, s))
        gen.space.block(R, b)[:] = a + a.conj().T
    out, out_y = np.zeros((1, gen.space.length), complex), np.zeros((1, gen.space.length), complex)
    f = 0.8
    gen.apply(f, R.reshape(1, -1), np.zeros_like(out), out, out_y)
    pieces = block_superoperators(form, gen.space)
    assert np.max(np.abs(pieces.G0 @ R + 0.5 * f * (pieces.GV @ R) - out[0])) <= 1e-12 * np.max(np.abs(out))
    assert np.max(np.abs(f * (pieces.GV @ R) - out_y[0])) <= 1e-12 * np.max(np.abs(out_y))


def _model_case(name):
    return name, lambda v: {"params": {**MODEL, name: v}}, MODEL[name], {"params": MODEL, **NOISE}


def _rate_case(name, value, extra=None):
    base = {**NOISE, **(extra or {})}
    return name, lambda v: {name: v}, value, {"params": MODEL, **{**base, name: value}}


CASES = [
    _model_case("J"), _model_case("Delta"), _model_case("omega"),
    ("drive", lambda v: {"drive": v}, 0.5, {"params": MODEL, **NOISE}),
    _rate_case("dephasing", 0.05), _rate_case("relaxation", 0.07), _rate_case("pumping", 0.03),
    _rate_case("collective_emission", 0.04), _rate_case("collective_dephasing", 0.02),
    _rate_case("collective_pumping", 0.01),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_matches_central_differences_of_the_permutation_solver(case):
    """E, P, C_Q at every sample and tau_c, E_max, P_max, C_Q* against fourth-order central
    differences of charge(method="permutation") (measured 1e-9 or below)."""
    name, set_value, value, kw = case
    kw = {**RUN, **kw, "method": "permutation"}
    err = _check("all-to-all", name, set_value, value, **kw)
    assert set(err) >= set(SERIES)


ENVELOPES = [("protocol.tau", {"protocol": "on-off:1.75"}, lambda v: {"protocol": f"on-off:{v!r}"}, 1.75),
             pytest.param("protocol.sigma", {"protocol": "gauss:1.2,0.5"}, lambda v: {"protocol": f"gauss:1.2,{v!r}"},
                          0.5, marks=pytest.mark.slow)]  # the solver's DOP853 path: ~10 s a run at N = 4


@pytest.mark.parametrize("name, extra, set_value, value", ENVELOPES, ids=["on-off", "gauss"])
def test_envelope_parameters_match_central_differences(name, extra, set_value, value):
    """A moving switching time (on-off: the tangent's kick; tau between samples) and a smooth
    envelope (DOP853)."""
    kw = {**RUN, "params": MODEL, **NOISE, **extra, "method": "permutation"}
    _check("all-to-all", name, set_value, value, **kw)


def test_cavity_parameters_match_central_differences():
    """Dicke model (collective spin with one mode): mode frequency and cavity loss."""
    params = dict(N=3, n_max=8, kappa_c=0.05)
    kw = {**RUN, "params": params, "method": "permutation"}
    kw.pop("initial")
    for name in ("omega_c", "kappa_c"):
        _check("dicke", name, lambda v, k=name: {"params": {**params, k: v}}, params.get(name, 1.0), **kw)


@pytest.mark.parametrize("initial", ["product", "thermal:0.7"])
def test_matches_the_exact_solvers_sensitivities(initial):
    """The same derivatives from the exact solver's forward tangents on the full 2^4 density matrix
    (complete graph of identical XXZ bonds, every local channel and collective emission; a thermal
    state moving with J, Delta, omega)."""
    names = ["J", "Delta", "omega", "drive", "dephasing", "relaxation", "pumping", "collective_emission"]
    kw = {**RUN, "params": MODEL, **NOISE, "initial": initial}
    perm = _charge("all-to-all", method="permutation", sensitivities=names, **kw)
    exact = _charge("all-to-all", method="exact", sensitivities=names, sensitivity_mode="forward", **kw)
    for name in names:
        ref = exact.sensitivities[name]
        ref = {**{k: ref[k] for k in SERIES}, **{k: ref[k] for k in FIGURES}}
        err = relative_errors(perm.sensitivities[name], ref, exact, perm.sensitivities[name]["value"])
        assert max(err.values()) <= 1e-6, (name, err)


def test_sensitivities_leave_the_run_unchanged():
    """Asking for sensitivities changes nothing of the run itself (the solver is the same code)."""
    kw = {**RUN, "params": MODEL, **NOISE, "method": "permutation"}
    plain = _charge("all-to-all", **kw)
    with_sens = _charge("all-to-all", sensitivities=["J", "dephasing"], **kw)
    for key in ("energy", "power", "capacitance"):
        assert np.array_equal(getattr(plain, key), getattr(with_sens, key)), key
    assert with_sens.metadata["sensitivity"]["engine"].startswith("block state")
    assert max(with_sens.metadata["sensitivity"]["reproduces_run"].values()) <= 1e-12


@pytest.mark.parametrize("kwargs, match", [
    ({"sensitivities": ["omega@0"]}, "'omega@0' is a per-site attribute: it breaks the permutation symmetry"),
    ({"sensitivities": ["J@(0,1)"]}, r"'J@\(0,1\)' is a per-bond attribute: it breaks the permutation symmetry"),
    ({"sensitivities": ["J"], "sensitivity_mode": "adjoint"}, "sensitivity_mode='adjoint' is for methods"),
])
def test_refusals_in_one_line(kwargs, match):
    opts = {**RUN, "params": MODEL, "dephasing": 0.05, "method": "permutation", **kwargs}
    with pytest.raises(cqc.InputError, match=match) as err:
        _charge("all-to-all", **opts)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("name", ["J", "omega", "dephasing"])
def test_from_a_thermal_state(name):
    """A thermal initial state moves with J and omega (Daleckii-Krein per block, normalised), not with
    a rate: against central differences of the permutation solver."""
    kw = {**RUN, "params": MODEL, "dephasing": 0.05, "initial": "thermal:0.7", "method": "permutation"}
    if name in MODEL:
        _check("all-to-all", name, lambda v: {"params": {**MODEL, name: v}}, MODEL[name], **kw)
    else:
        _check("all-to-all", name, lambda v: {name: v}, 0.05, **kw)
