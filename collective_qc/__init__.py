"""collective_qc: collective quantum capacitors (many-body charging, quantum capacitance).

Data path: graph -> model -> operators -> solvers -> results -> figures of merit.
Conventions: hbar = 1, energies in units of omega0, times in 1/omega0 (models may declare
physical units, see :mod:`collective_qc.units`). Source paper: S. Haddadi, "Quantum Capacitor:
A Coherence-Based Quantum Energy Storage Device" (2026). Importing the package has
no side effects (the process policy is an explicit call: :mod:`collective_qc.runtime`).
"""

__version__ = "0.1.0"

from .api import charge
from .compare import compare
from .errors import InputError, ResourceError
from .model import Model, Param
from .progress import Progress
from .registry import get_model, load_plugin, model_names, register_model
from .units import Units

__all__ = ["charge", "compare", "InputError", "ResourceError", "Model", "Param", "register_model", "get_model",
           "model_names", "load_plugin", "Progress", "Units", "__version__"]
