"""Deprecation aliases for the modules that moved into the layer subpackages (issue 23).

``import collective_qc.planning.guard`` (and every other old path in :data:`MOVED`) still works: the
package installs :data:`FINDER` on ``sys.meta_path``, which answers only for these names and
returns the module at its new place, with a DeprecationWarning naming that place. The old names
will be removed in a later release; import from the new paths.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

__all__ = ["MOVED", "FINDER", "install"]

_LAYERS = {
    "core": ("errors", "validate", "units", "progress", "runtime"),
    "physics": ("graph", "model", "registry", "operators", "chargers", "protocols", "states"),
    "planning": ("options", "guard", "cutoff", "sectors", "symmetry"),
    "analysis": ("results", "statistics", "merit", "figures", "verdict", "advantage", "bounds", "two_level",
                 "tables", "state_measures", "frames", "quantities"),
}
MOVED = {f"collective_qc.{m}": f"collective_qc.{layer}.{m}" for layer, names in _LAYERS.items() for m in names}


def _target(name: str) -> str | None:
    for old, new in MOVED.items():
        if name == old or name.startswith(old + "."):
            return new + name[len(old):]
    return None


class _Aliases(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds only the old dotted names; loading one imports the new module and returns it."""

    def find_spec(self, fullname, path=None, target=None):
        if _target(fullname) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        new = _target(spec.name)
        warnings.warn(f"{spec.name} moved to {new}; import it from there (the old name will be removed)",
                      DeprecationWarning, stacklevel=2)
        return importlib.import_module(new)

    def exec_module(self, module):  # the new module is already executed
        pass


FINDER = _Aliases()


def install() -> None:
    """Put the alias finder on ``sys.meta_path`` once, first: a submodule of a moved package (e.g.
    ``collective_qc.quantities.ergotropy``) must resolve to the module at its new place, not be
    loaded a second time under its old name from the package's directory."""
    if not any(isinstance(f, _Aliases) for f in sys.meta_path):
        sys.meta_path.insert(0, FINDER)
