"""Core layer: errors, input validators, derived units, progress reporting and the process's thread
policy. Imports nothing else of the package; every other layer may import it.

Layers, bottom to top (imports go only downward; ``tests/test_architecture.py`` checks it):
core -> physics -> solvers -> planning -> analysis -> the outer ring (``api``, ``compare``,
``cli``, ``plots``, ``parallel``, ``worker_plugin``, ``study``). See ``docs/architecture.md``.
"""
