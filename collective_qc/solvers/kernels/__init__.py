"""Numba kernels of the trajectory solver, grouped by job.

``common``: packed operands, products, recording, jumps, random numbers; ``chebyshev``,
``dopri``, ``rk4``: step methods; ``driver``: the one trajectory loop.
"""

from .driver import CHEBYSHEV, DOPRI5, RK4, run_trajectories

__all__ = ["CHEBYSHEV", "DOPRI5", "RK4", "run_trajectories"]
