"""collective_qc: collective quantum capacitors (many-body charging, quantum capacitance).

Data path: graph -> model -> operators -> solvers -> results -> figures of merit.
Conventions: hbar = 1, energies in units of omega0, times in 1/omega0. Importing the package has
no side effects (the process policy is an explicit call: :mod:`collective_qc.runtime`).
"""

__version__ = "0.1.0"

from .api import charge
from .compare import compare
from .errors import InputError, ResourceError
from .model import Model, Param
from .registry import get_model, model_names, register_model

__all__ = ["charge", "compare", "InputError", "ResourceError", "Model", "Param", "register_model", "get_model",
           "model_names", "__version__"]
