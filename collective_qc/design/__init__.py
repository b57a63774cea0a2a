"""Optimal charging protocols: :func:`optimize` finds the envelope f(t), |f| <= f_max, that maximises
E(tau) or the ergotropy W(tau) (or reaches a fraction of E_max soonest), with exact GRAPE gradients
(:mod:`.grape`) and L-BFGS-B from seeded starts; ``cqc optimize`` on the command line (:mod:`.cli`)."""

from .optimize import OptimizeOptions, optimize
from .result import OptimizeResult

__all__ = ["optimize", "OptimizeOptions", "OptimizeResult"]
