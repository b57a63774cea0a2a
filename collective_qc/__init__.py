"""collective_qc: collective quantum capacitors (many-body charging, quantum capacitance).

Data path: graph -> model -> operators -> solvers -> results -> figures of merit.
Conventions: hbar = 1, energies in units of omega0, times in 1/omega0 (models may declare
physical units, see :mod:`collective_qc.units`). Source paper: S. Haddadi, "Quantum Capacitor:
A Coherence-Based Quantum Energy Storage Device" (2026).
"""

__version__ = "0.1.0"

import os as _os

# Idle OpenMP threads (QuSpin's parallel Taylor steps) sleep instead of spinning: on a loaded
# machine, spinning threads slow small runs down by an order of magnitude. Set before QuSpin loads;
# an explicit setting in the environment wins.
_os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from .api import charge  # noqa: E402
from .compare import compare  # noqa: E402
from .errors import InputError, ResourceError  # noqa: E402
from .model import Model, Param  # noqa: E402
from .progress import Progress  # noqa: E402
from .registry import get_model, load_plugin, model_names, register_model  # noqa: E402
from .units import Units  # noqa: E402

__all__ = ["charge", "compare", "InputError", "ResourceError", "Model", "Param", "register_model", "get_model",
           "model_names", "load_plugin", "Progress", "Units", "__version__"]
