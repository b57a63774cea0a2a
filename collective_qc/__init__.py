"""collective_qc: collective quantum capacitors (many-body charging, quantum capacitance).

Data path: graph -> model -> operators -> solvers -> results -> figures of merit.
Conventions: hbar = 1, energies in units of omega0, times in 1/omega0 (SPEC.md).
"""

__version__ = "0.1.0"

from .api import charge  # noqa: E402
from .compare import compare  # noqa: E402
from .errors import InputError, ResourceError  # noqa: E402
from .model import Model, Param  # noqa: E402
from .registry import get_model, model_names, register_model  # noqa: E402

__all__ = ["charge", "compare", "InputError", "ResourceError", "Model", "Param", "register_model", "get_model",
           "model_names", "__version__"]
