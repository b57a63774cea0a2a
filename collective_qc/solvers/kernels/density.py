"""Per-group sums of the stored trajectory states, |psi><psi|, for state quantities of the
trajectory-averaged density matrix (``trajectories._jackknife_states``)."""

from __future__ import annotations

from numba import njit, prange


@njit(cache=True, parallel=True)
def group_density_sums(psi, group, rho):
    """rho[group[j], k] += |psi[j, k]><psi[j, k]| for every trajectory j (in order) and sample k.

    psi (n, n_t, dim), group (n,) int, rho (groups, n_t, dim, dim) complex, zero on entry. The upper
    triangle is summed and the lower set to its conjugate, which gives the bits of the full sum
    (IEEE products commute, and a sum of conjugates is the conjugate of the sum); samples run in
    parallel, trajectories in order, so the bits do not depend on the thread count."""
    n, nt, dim = psi.shape
    for k in prange(nt):
        for j in range(n):
            g = group[j]
            for a in range(dim):
                pa = psi[j, k, a]
                for b in range(a, dim):
                    rho[g, k, a, b] += pa * psi[j, k, b].conjugate()
        for g in range(rho.shape[0]):
            for a in range(dim):
                for b in range(a + 1, dim):
                    rho[g, k, b, a] = rho[g, k, a, b].conjugate()
