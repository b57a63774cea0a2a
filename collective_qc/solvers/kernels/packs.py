"""Named operands of the trajectory kernels.

Each pack is a ``collections.namedtuple``: Numba reads its fields by name in nopython mode (no
numbered indexing) and a kernel still receives plain arrays inside it. Packs built in Python
(``trajectories.build_payload``) travel to Dask workers as they are.

Mats (the generator's matrices; ``common``)
    cd, ci, cp: the CSR matrices H0, V, H_B, K0 = D^dag(H_B) concatenated (H0, H_B and K0
    without their diagonals; data real or complex, column indices, (4, dim + 1) absolute row
    pointers, rows ``common.H0`` ... ``common.K0``), H_B and K0 on one pattern; xm, xc: V's flip
    form (V x)_i = sum_q xc[q] x_(i XOR xm[q]) (a sigma^x field; xm empty otherwise); dg (4, dim):
    the diagonals of H0, H_B and K0 (dg[V] not read); form: the kernel form of the innermost
    loops (``forms.KernelForm``: SIMD or scalar), part of the compiled signature.
Noise
    gam: diag of sum_k L_k^dag L_k (dim,); jt, jv: the monomial jump operators
    L_c|k> = jv[c, k] |jt[c, k]>; jw[k, c] = |jv[c, k]|^2 (dim, n_channels).
Init
    psi0s (dim, n_members), p0cum (cumulative member weights), dobs (n_obs, dim) diagonal
    observables.
Sched
    stops, fseg (f per stop interval), spec (per stop interval: c_r, g_c, a of the Chebyshev
    map), sample_t, fsample (f at each sample, for P), env (``common.envelope``).
Params
    lam (lambda), e0 (E(0)), rate (uniform decay rate, 0 if none), rtol, atol, h_init, h_max
    (floats); method (``driver.CHEBYSHEV`` ...), m_max (most series terms), m_target (terms the
    step cap steers to) (integers).
Records
    e, p, c (n_t,), d (n_obs, n_t), psi (n_t, dim) or (0, 0): one trajectory's output rows; the
    same fields with a leading trajectory axis for a batch.
Series (``chebyshev``)
    W: the stored terms T_k(X) y (rows); bes, buf: Bessel values and scratch; b: the series
    weights; form: as in Mats.
ProductOps, ProductCoefs (the fused Chebyshev product, ``forms.cheb_rows_*``)
    cd, ci, p0 (H0's row pointers), p1 (V's), xm, xc, d0 (H0's diagonal), gam; and the
    recurrence's alpha, beta = beta_r + i beta_i, gamma, lf = lambda f and f.
"""

from __future__ import annotations

from collections import namedtuple

XOR_BLOCK = 4  # rows per pass over V's flip masks (its form needs dim % XOR_BLOCK == 0)

Mats = namedtuple("Mats", "cd ci cp xm xc dg form")
Noise = namedtuple("Noise", "gam jt jv jw")
Init = namedtuple("Init", "psi0s p0cum dobs")
Sched = namedtuple("Sched", "stops fseg spec sample_t fsample env")
Params = namedtuple("Params", "lam e0 rate rtol atol h_init h_max method m_max m_target")
Records = namedtuple("Records", "e p c d psi")
Series = namedtuple("Series", "W bes buf b form")
ProductOps = namedtuple("ProductOps", "cd ci p0 p1 xm xc d0 gam")
ProductCoefs = namedtuple("ProductCoefs", "alpha beta_r beta_i gamma lf f")
