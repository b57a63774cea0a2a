"""Quantum-information figures of merit on plain NumPy arrays.

Pure functions, independent of the rest of the package (only
:class:`collective_qc.core.errors.InputError` is used, for bad input):

* passive-state energy and ergotropy (Allahverdyan, Balian, Nieuwenhuizen,
  EPL 67, 565 (2004)), for a dense density matrix or for a mixture given by its
  member vectors (only the lowest few eigenvalues of H_B needed);
* l1-norm of coherence in the eigenbasis of H_B (Baumgratz, Cramer, Plenio,
  PRL 113, 140401 (2014));
* von Neumann entropy and entanglement entropy of pure states (natural log).

Units: energies (eigenvalues of H_B, ``<H_B>``, ergotropy) are in whatever
energy unit H_B is given in (the package uses units of the site splitting,
hbar = 1). Populations, coherences and entropies are dimensionless; entropies
are in nats.

Tensor-product convention (QuSpin / QuTiP order): a state on
sites 0..N-1 with local dimensions ``dims`` is the vector ``psi`` of length
``prod(dims)`` whose reshape to ``dims`` (C order) has site 0 as the first
(leftmost, most significant) axis. For spins-1/2 this is the order of QuSpin's
``spin_basis_general(N, pauli=0)`` without symmetries (basis index 0 = all up).
"""

from __future__ import annotations

from ._checks import DEFAULT_TOL
from .coherence import l1_coherence, l1_coherence_pure
from .entropy import entanglement_entropy, half_chain_entropy, reduced_density_matrix, von_neumann_entropy
from .ergotropy import ergotropy, ergotropy_mixture, passive_energy

__all__ = [
    "DEFAULT_TOL",
    "passive_energy",
    "ergotropy",
    "ergotropy_mixture",
    "l1_coherence",
    "l1_coherence_pure",
    "von_neumann_entropy",
    "reduced_density_matrix",
    "entanglement_entropy",
    "half_chain_entropy",
]
