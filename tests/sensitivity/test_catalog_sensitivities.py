"""Every catalog model (small sizes): the sensitivity of every float parameter against fourth-order
central differences of charge() (closed runs, relative error <= 1e-6); the sensitivity run
reproduces the solver's own E, P, C_Q."""

from __future__ import annotations

import warnings

import pytest
from sensitivity_fd import check

import collective_qc as cqc
from collective_qc.physics.graph import validate_graph
from collective_qc.physics.registry import get_model, model_names

DIM_LIMIT = 128  # the catalog check runs models up to this dimension
SMALL = {"N": 3, "Lx": 2}


def _small(name):
    cls = get_model(name)
    values = dict(cls().values)
    if cls.size_param in SMALL:
        values[cls.size_param] = SMALL[cls.size_param]
    model = cls(**values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dim = validate_graph(model.graph()).dim
    return cls, values, dim


def _run(name, every: bool):
    cls, values, dim = _small(name)
    if dim > DIM_LIMIT:
        pytest.skip(f"{name}: dimension {dim} above the catalog check's {DIM_LIMIT} (no size parameter)")
    # a rate at 0 (a cavity loss) cannot be centre-differenced, and a closed run has no noise
    floats = [p.name for p in cls.params if p.type is float and not (p.check == "nonneg" and values[p.name] == 0)]
    opts = dict(drive=0.4, t_max=3.0, n_times=21, method="closed", params=values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cqc.charge(name, sensitivities=floats, **opts)
    for key, err in res.metadata["sensitivity"]["reproduces_run"].items():
        assert err <= 1e-9, (name, key, err)
    for p in floats if every else floats[-1:]:  # the last: the coupling or anisotropy, where there is one
        check(name, p, lambda v, p=p: {"params": {**values, p: v}}, values[p], tol=1e-6, **opts)


@pytest.mark.parametrize("name", model_names())
def test_catalog_sensitivities(name):
    """Every model: all its float parameters at once reproduce the run; the last one against FD."""
    _run(name, every=False)


@pytest.mark.slow
@pytest.mark.parametrize("name", model_names())
def test_every_float_parameter_of_the_catalog(name):
    _run(name, every=True)
