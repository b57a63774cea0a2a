"""Golden catalog sweep: every model of ``cqc models`` through every method that applies, frozen.

Written before the house refactor (issue 23: one solver contract, one Chebyshev core, layered
subpackages) so that no reorganisation can move a number: closed and exact runs must reproduce the
frozen series and figures to 1e-12 of their scale, seeded trajectories bit for bit.

Cases per model (its catalog defaults, a short window): ``closed``; ``exact`` with local
dephasing and relaxation (or cavity loss where the model keeps collective spins, which refuse
local noise); ``trajectories`` with the same noise, 8 seeded trajectories, where the Hilbert
space is at most ``TRAJ_DIM``. Regenerate only for a deliberate change of numerics (say so in
the commit): ``python tests/test_golden_catalog.py --write``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from test_golden import _flat, _run, assert_matches

import collective_qc as cqc
from collective_qc.physics.registry import get_model, model_names

GOLDEN = Path(__file__).parent / "data" / "golden_catalog.npz"
EXACT_DIM = 128  # the exact density matrix below this dimension
TRAJ_DIM = 1024  # seeded trajectories below this dimension
WINDOW = dict(drive=0.5, t_max=3.0, n_times=16)


def _noise(name: str) -> dict | None:
    """Noise options the model accepts: local rates, else cavity loss, else None (noise-free only)."""
    m = get_model(name)()
    if m.values.get("representation") == "collective":  # collective spins: local noise is refused by design
        return {"params": {"kappa_c": 0.1}}
    return {"dephasing": 0.05, "relaxation": 0.02}


def catalog_cases() -> dict:
    from collective_qc.physics.graph import validate_graph

    cases = {}
    for name in model_names():
        dim = validate_graph(get_model(name)().graph()).dim
        cases[f"{name}/closed"] = dict(model=name, method="closed", **WINDOW)
        noise = _noise(name)
        if dim <= EXACT_DIM:
            cases[f"{name}/exact"] = dict(model=name, method="exact", **WINDOW, **noise)
        if dim <= TRAJ_DIM:
            cases[f"{name}/trajectories"] = dict(model=name, method="trajectories", ntraj=8, seed=3,
                                                 **WINDOW, **noise)
    return cases


CASES = catalog_cases()


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.filterwarnings("ignore::UserWarning")  # frozen numbers: cutoffs and round-off notes included
def test_catalog_matches_golden(case):
    golden = np.load(GOLDEN)
    assert_matches(golden, case, _run(CASES[case]), bitwise=case.endswith("trajectories"))


def test_every_catalog_model_is_frozen():
    golden = np.load(GOLDEN)
    frozen = {k.split("/", 1)[0] for k in golden.files if k != "__machine__"}
    assert frozen == set(model_names()), "a model was added or removed: extend the sweep (--write)"
    assert all(f"{name}/closed/energy" in golden.files for name in model_names())


if __name__ == "__main__" and "--write" in sys.argv:
    import warnings

    warnings.simplefilter("ignore")
    GOLDEN.parent.mkdir(exist_ok=True)
    np.savez(GOLDEN, **_flat({name: _run(case) for name, case in CASES.items()}))
    print(f"wrote {GOLDEN} ({len(CASES)} cases, collective_qc {cqc.__version__})")
