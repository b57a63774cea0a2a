"""Ground manifolds above the dense limit: degenerate levels are found completely."""

import itertools

import numpy as np
import scipy.sparse as sp

from collective_qc.physics.graph import validate_graph
from collective_qc.physics.operators import build_operators
from collective_qc.physics.registry import make_model
from collective_qc.physics.states import DENSE_LIMIT, ground_manifold, initial_state


def test_lanczos_with_deflation_finds_every_copy_of_a_degenerate_level():
    rng = np.random.default_rng(1)
    n = 1100
    a = sp.random(n, n, density=5.0 / n, random_state=rng)
    a = (a + a.T) * 0.5 + sp.diags(rng.normal(size=n))
    h = sp.kron(a, sp.identity(3), format="csr")  # every level three-fold degenerate
    assert h.shape[0] > DENSE_LIMIT
    e0, vecs = ground_manifold(h)
    ref = np.linalg.eigvalsh(a.toarray())[0]
    assert abs(e0 - ref) < 1e-9
    assert vecs.shape[1] == 3
    assert np.linalg.norm(h @ vecs - e0 * vecs) < 1e-8
    assert np.allclose(vecs.conj().T @ vecs, np.eye(3), atol=1e-10)


def test_ising_chain_ground_level_against_enumeration():
    n, J = 12, 0.3
    ops = build_operators(validate_graph(make_model("ising-chain", {"N": n, "J": J}).graph()))
    init = initial_state(ops)
    energies = {}
    for s in itertools.product([1, -1], repeat=n):
        e = 0.5 * sum(s) + J * sum(s[i] * s[i + 1] for i in range(n - 1))
        energies.setdefault(round(e, 9), 0)
        energies[round(e, 9)] += 1
    e_min = min(energies)
    assert init.degeneracy == energies[e_min] == 6
    assert init.describe()["mixture"].startswith("uniform")
