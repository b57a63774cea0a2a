"""QuSpin momentum/parity blocks for closed runs on translation- and parity-invariant rings.

H_B and the uniform charger V = sum_i sigma^x_i commute with the ring's translation T
and reflection P, so a state in one (k, p) block stays there. The block is used when
the initial state lies in a single block: |g...g> is in (k = 0, p = +1); the ground
state of H_B is used when the global ground level is non-degenerate and found in
exactly one block (else the run falls back to the full basis).
"""

from __future__ import annotations

from ..physics.graph import ModelGraph
from ..physics.operators import build_operators
from ..physics.states import ground_manifold

__all__ = ["is_uniform_ring", "choose_block"]


def is_uniform_ring(mg: ModelGraph, order) -> bool:
    """True if the graph is a ring 0-1-...-(N-1)-0 in `order` with identical sites and bonds."""
    n = len(mg.spins)
    if order is None or n < 3 or mg.modes or list(order) != list(range(n)):
        return False
    s0 = mg.spins[0]
    same_site = all((s.spin, s.omega, s.D, s.E, s.B40, s.B44, s.weight, s.gamma, s.kappa, s.sites)
                    == (s0.spin, s0.omega, s0.D, s0.E, s0.B40, s0.B44, s0.weight, s0.gamma, s0.kappa, s0.sites)
                    for s in mg.spins)
    pairs = {(b.i, b.j) for b in mg.bonds}
    ring = {tuple(sorted((i, (i + 1) % n))) for i in range(n)}
    b0 = mg.bonds[0] if mg.bonds else None
    same_bond = b0 is not None and all((b.Jx, b.Jy, b.Jz) == (b0.Jx, b0.Jy, b0.Jz) for b in mg.bonds)
    return same_site and pairs == ring and same_bond


def choose_block(mg: ModelGraph, initial: str):
    """(block, operators): the (kblock, pblock) holding the initial state and, when they were built
    to find it, the block's operators (else None); (None, None) to use the full basis."""
    n = len(mg.spins)
    if initial == "product":
        return {"kblock": 0, "pblock": 1}, None
    if initial != "ground":
        return None, None
    found = []
    for k in range(n // 2 + 1):
        blocks = [{"kblock": k, "pblock": p} for p in (1, -1)] if (k == 0 or 2 * k == n) else [{"kblock": k}]
        for blk in blocks:
            ops = build_operators(mg, symmetry=blk)
            if ops.dim == 0:
                continue
            e0, vecs = ground_manifold(ops.H_B)
            # a block with k != 0, N/2 has a mirror partner -k: twofold degenerate
            mult = vecs.shape[1] * (1 if (k == 0 or 2 * k == n) else 2)
            found.append((e0, mult, blk, ops))
    e_min = min(f[0] for f in found)
    tol = 1e-9 * max(1.0, abs(e_min))
    at_min = [f for f in found if f[0] - e_min < tol]
    if len(at_min) == 1 and at_min[0][1] == 1:
        return at_min[0][2], at_min[0][3]
    return None, None
