"""One harness over every registered model (TeNPy-style): the generic contract of a model.

For each catalog entry, with its defaults: the graph validates, the operators are Hermitian
with the right dimension, ``single_site`` and ``with_size`` give valid models, every parameter
round-trips through its CLI string, and where the single site is a classically driven
spin-1/2 the run reproduces the paper's two-level closed forms (Eq. 10, Eq. 14).
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import collective_qc as cqc
from collective_qc.analysis import two_level
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators
from collective_qc.physics.registry import get_model, model_names

NAMES = model_names()
DIM_LIMIT = 5000  # operators are built (and checked Hermitian) below this dimension


def _hermitian(A) -> bool:
    A = sp.csr_matrix(A)
    return abs(A - A.conj().T).max() <= 1e-12 * max(1.0, abs(A).max()) if A.nnz else True


def test_catalog_is_not_empty():
    assert {"two-level", "xxz-ring", "dicke", "mn12-ac"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_model_builds_and_operators_are_hermitian(name):
    model = get_model(name)()
    mg = validate_graph(model.graph())
    assert mg.n_sites >= 1 and mg.dim >= 2
    if mg.dim > DIM_LIMIT:
        pytest.skip(f"dimension {mg.dim} above the harness limit")
    try:
        ops = build_operators(mg, dephasing=0.05, relaxation=0.02)
    except cqc.InputError as err:  # collective spins refuse local noise, by design
        assert "collective spin" in str(err)
        ops = build_operators(mg)
    assert ops.dim == mg.dim
    for label, A in (("H_B", ops.H_B), ("V", ops.V), ("H0", ops.H0)):
        assert A.shape == (mg.dim, mg.dim), label
        assert _hermitian(A), f"{name}: {label} is not Hermitian"
    assert all(_hermitian(j.matrix.conj().T @ j.matrix) for j in ops.jumps)


@pytest.mark.parametrize("name", NAMES)
def test_params_round_trip_through_cli_strings(name):
    cls = get_model(name)
    model = cls()
    again = cls(**{k: str(v) for k, v in model.values.items()})
    assert again.values == model.values


@pytest.mark.parametrize("name", NAMES)
def test_single_site_and_with_size(name):
    model = get_model(name)()
    one = model.single_site()
    assert validate_graph(one.graph()).n_sites == 1
    assert type(one.single_site()) is type(one)
    if model.size_param is None:  # fixed-size molecules and single spins: no size sweep
        with pytest.raises(cqc.InputError):
            model.with_size(4)
        return
    four = model.with_size(4)
    assert validate_graph(four.graph()).n_sites == 4


def _is_driven_spin_half_site(model) -> bool:
    mg = validate_graph(model.graph())
    return mg.n_sites == 1 and not mg.modes and mg.dim == 2


@pytest.mark.parametrize("name", NAMES)
def test_single_site_reproduces_the_two_level_baseline(name):
    model = get_model(name)()
    one = model if model.size_param is None else model.single_site()
    if not _is_driven_spin_half_site(one):
        pytest.skip("single site is not a classically driven spin-1/2")
    omega = float(one.values.get("omega", 1.0))
    lam = 0.3
    res = cqc.charge(one, lam, t_max=10.0, n_times=101, method="closed", initial="product")
    t = res.times
    np.testing.assert_allclose(res.energy, two_level.energy(t, lam, omega), atol=1e-9)
    np.testing.assert_allclose(res.capacitance, two_level.capacitance(t, lam, omega), atol=1e-8)
