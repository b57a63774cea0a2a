"""Numba kernels of the trajectory solver, grouped by job.

``common``: packed operands, products, recording, jumps, random numbers; ``chebyshev``,
``dopri``, ``rk4``: step methods; ``driver``: the one trajectory loop; ``density``: group sums
of the stored states; ``simd``: vector forms of the two innermost loops (CSR row sums on the
interleaved (psi, phi) pairs, series sums), bitwise equal to the scalar loops.

Numba's on-disk cache keys each function on its own source file, and a caller's cache holds the
code of the callees it compiled in: after editing a kernel module, delete this package's
``__pycache__`` (installed copies are new files, so users are not affected).
"""

from .density import group_density_sums
from .driver import CHEBYSHEV, DOPRI5, RK4, run_trajectories

__all__ = ["CHEBYSHEV", "DOPRI5", "RK4", "group_density_sums", "run_trajectories"]
