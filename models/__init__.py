"""The model catalog (installed as ``collective_qc.models``).

One short module per family; importing this package registers every entry.
"""

from . import cavity, nanomagnets, spin_clusters, spin_lattices  # noqa: F401
