"""collective_qc: collective quantum capacitors (many-body charging, quantum capacitance).

Data path: graph -> model -> operators -> solvers -> results -> figures of merit -> advantage ->
study/CLI, one layer per subpackage, imports only downward (``docs/architecture.md``):

- :mod:`collective_qc.core`: errors, validators, units, progress, the thread policy;
- :mod:`collective_qc.physics`: graphs, models, registry, operators, chargers, protocols, states;
- :mod:`collective_qc.solvers`: the solver contract and table, closed, exact and trajectory solvers;
- :mod:`collective_qc.planning`: run options, the run guard, cutoffs, sectors, symmetry blocks;
- :mod:`collective_qc.analysis`: results, figures of merit, statistics, advantage, quantities;
- the outer ring: :mod:`collective_qc.api` (``charge``), :mod:`collective_qc.compare`,
  :mod:`collective_qc.study`, :mod:`collective_qc.cli`, :mod:`collective_qc.plots`,
  :mod:`collective_qc.parallel`.

Conventions: hbar = 1, energies in units of omega0, times in 1/omega0 (models may declare
physical units, see :mod:`collective_qc.core.units`). Source paper: S. Haddadi, "Quantum Capacitor:
A Coherence-Based Quantum Energy Storage Device" (2026). Importing the package sets no process
state (the thread policy is an explicit call: :mod:`collective_qc.core.runtime`); it only adds the
deprecation aliases of the module paths that moved into the layers (:mod:`collective_qc.core.moved`).
"""

from .core import moved as _moved
from .core.version import __version__

_moved.install()

from .api import charge  # noqa: E402  (after the aliases, so that old-path plug-ins import)
from .compare import compare  # noqa: E402
from .core.errors import InputError, ResourceError  # noqa: E402
from .core.progress import Progress  # noqa: E402
from .core.units import Units  # noqa: E402
from .physics.model import Model, Param  # noqa: E402
from .physics.registry import get_model, load_plugin, model_names, register_model  # noqa: E402

__all__ = ["charge", "compare", "InputError", "ResourceError", "Model", "Param", "register_model", "get_model",
           "model_names", "load_plugin", "Progress", "Units", "__version__"]


def __getattr__(name: str):
    """``collective_qc.optimize`` (:func:`collective_qc.design.optimize`), imported on first use so that
    importing the package does not load the optimiser."""
    if name == "optimize":
        from .design import optimize

        return optimize
    raise AttributeError(f"module 'collective_qc' has no attribute {name!r}")
