"""Adjoint sensitivities of density-matrix runs (method exact; closed from a thermal state) against
forward mode: Lindblad XXZ chains with dephasing and relaxation, model, site, bond, charger-weight,
drive, noise-rate and protocol parameters; product, ground and thermal initial states; the
checkpoint fallback (edges only, then every k-th edge); the automatic choice."""

from __future__ import annotations

import pytest
from test_adjoint import FIGURES, agree

import collective_qc as cqc
from collective_qc.sensitivity import adjoint_density

OPEN = dict(drive=0.5, method="exact", dephasing=0.1, relaxation=0.05, t_max=6.0, n_times=61)
NAMES = ["J", "Delta", "omega@1", "J@(1,2)", "drive", "dephasing", "relaxation"]


def _compare(model, names, tol=1e-6, **kwargs):
    fwd = cqc.charge(model, sensitivities=names, sensitivity_mode="forward", **kwargs)
    adj = cqc.charge(model, sensitivities=names, sensitivity_mode="adjoint", **kwargs)
    info = adj.metadata["sensitivity"]
    assert info["mode"] == "adjoint" and info["engine"].startswith("density matrix")
    assert max(info["reproduces_run"].values()) < 1e-10
    agree(adj, fwd, names, tol)
    return adj


@pytest.mark.parametrize("initial", ["product", "ground", "thermal:1.0"])
def test_exact_adjoint_matches_forward_xxz_chain(initial):
    """Open XXZ chain N = 3 (dephasing 0.1, relaxation 0.05): model parameters, a site field, a bond
    coupling, the drive and both noise rates; product, ground (theta-dependent) and thermal states."""
    _compare("xxz-chain", NAMES, params={"N": 3}, initial=initial, **OPEN)


def test_exact_adjoint_on_off_and_weights():
    """N = 4, an on-off envelope with its switching time as a parameter, a charger weight and a
    bond anisotropy."""
    _compare("xxz-chain", ["protocol.tau", "weight@2", "Delta@(0,1)", "omega@0", "dephasing"],
             params={"N": 4}, initial="ground", protocol="on-off:2.05", **OPEN)


def test_closed_thermal_adjoint():
    """A closed run from a thermal state propagates the density matrix: adjoint there too."""
    _compare("xxz-chain", ["J", "omega@0", "drive", "Delta"], params={"N": 3}, initial="thermal:0.5", drive=0.5,
             method="closed", t_max=6.0, n_times=61)


def test_exact_adjoint_checkpoint_fallback(monkeypatch):
    """Too little memory for the node states: checkpoints at the panel edges, nodes recomputed
    forward; the same numbers."""
    kw = dict(params={"N": 3}, initial="product", **OPEN)
    names = ["J", "drive", "dephasing"]
    ref = cqc.charge("xxz-chain", sensitivities=names, sensitivity_mode="adjoint", **kw)
    assert "nodes" in ref.metadata["sensitivity"]["checkpoints"]
    size = 2 * 64 * 16  # one pair state of dim^2 = 64
    monkeypatch.setattr(adjoint_density, "CHECKPOINT_SHARE", 16 * size / adjoint_density.available_memory())
    res = cqc.charge("xxz-chain", sensitivities=names, sensitivity_mode="adjoint", **kw)
    info = res.metadata["sensitivity"]["checkpoints"]
    assert "at all" in info and "recomputed" in info, info
    for n in names:
        for key in FIGURES:
            assert res.sensitivities[n][key] == pytest.approx(ref.sensitivities[n][key], rel=1e-12, abs=1e-14)


def test_sparse_checkpoints_recompute_the_same_states():
    """Every k-th edge kept (k >= sqrt(edges)): edges and node states recomputed from the nearest kept
    edge equal those of a pass that stores everything; too small a share is one ResourceError line."""
    import numpy as np
    import scipy.sparse as sp

    from collective_qc.core.errors import ResourceError
    from collective_qc.physics.protocols import parse_protocol
    from collective_qc.sensitivity.engine import Augmented

    rng = np.random.default_rng(1)
    G0 = sp.csr_matrix(rng.standard_normal((6, 6)) + 1j * rng.standard_normal((6, 6)) - 3 * np.eye(6))
    aug = Augmented(G0, sp.csr_matrix(rng.standard_normal((6, 6))), 0.5, parse_protocol("constant"), [])
    Y0 = rng.standard_normal((2, 6, 1)) + 0j
    edges, offsets = list(np.linspace(0.0, 2.0, 26)), [0.2, 0.7]
    full = adjoint_density._Checkpoints(aug, Y0, edges, offsets, 1e9)
    sparse = adjoint_density._Checkpoints(aug, Y0, edges, offsets, 14 * Y0.nbytes)
    assert full.with_nodes and not sparse.with_nodes and sparse.every >= 5
    for t in edges[-2::-1]:
        assert np.allclose(sparse.edge(t), full.edge(t), rtol=1e-13, atol=1e-13)
        for a, b in zip(sparse.at_nodes(t), full.at_nodes(t), strict=True):
            assert np.allclose(a, b, rtol=1e-13, atol=1e-13)
    assert "every" in sparse.describe()
    with pytest.raises(ResourceError, match="adjoint checkpoints of 26 panel edges"):
        adjoint_density._Checkpoints(aug, Y0, edges, offsets, 8 * Y0.nbytes)


def test_exact_auto_chooses_adjoint_by_cost():
    from collective_qc.sensitivity import choose_mode

    class Plan:
        method, initial = "exact", "product"
        protocol = type("P", (), {"piecewise_constant": True})()

    assert choose_mode(Plan(), 2, "auto") == "forward"
    assert choose_mode(Plan(), 3, "auto") == "adjoint"
    Plan.method, Plan.initial = "closed", "thermal:1"  # a density matrix too
    assert choose_mode(Plan(), 3, "auto") == "adjoint"
    Plan.initial = "product"  # state vectors: from 6
    assert choose_mode(Plan(), 3, "auto") == "forward"
    res = cqc.charge("xxz-chain", sensitivities=["J", "drive", "dephasing"], params={"N": 3}, **OPEN)
    assert res.metadata["sensitivity"]["mode"] == "adjoint"
    res = cqc.charge("xxz-chain", sensitivities=["J", "drive"], params={"N": 3}, **OPEN)
    assert res.metadata["sensitivity"]["mode"] == "forward"
