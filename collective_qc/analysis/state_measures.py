"""Time series of state quantities of the battery: ergotropy, l1 coherence, entanglement entropy.

Computed at every sample time from the solver's state (definitions: the manual, Conventions):

- ``ergotropy``  W = Tr[rho_B H_B] - min_U Tr[U rho_B U^dag H_B] of the battery state rho_B
  (the spins; for cavity models the cavity is traced out, and H_B acts on the spins only).
  A collective spin N/2 stands for N physical sites: U ranges over all 2^N levels (spectrum
  omega (k - N/2) with multiplicity C(N, k)), so both representations give the same W.
  Closed runs of spin models use the members of the (pure or ground-manifold) state
  directly and need only the lowest eigenvalues of H_B, so they scale to large N.
- ``coherence``  l1-norm of coherence of rho_B in the eigenbasis of H_B (Baumgratz et al.
  2014). When H_B is degenerate the eigenbasis is not unique; the one returned by the
  diagonalisation is used (so a collective spin, in the Dicke basis, and the explicit N-spin
  graph, in the product basis, report different values for the same state). Needs a dense
  eigendecomposition: battery dimension <= 2048 for pure states, <= 512 for mixed; NaN beyond.
- ``entropy``  half-system entanglement entropy (natural log) of a pure state (closed runs):
  the first floor(N/2) spins against the rest for spin models, the spins against the cavity
  for cavity models. NaN for mixed states (exact Lindblad runs, degenerate ground manifolds),
  where von Neumann entropy of a part is not an entanglement measure.

Trajectory runs: the quantities are nonlinear in rho, so they are evaluated on the
trajectory-averaged density matrix (stored per group of trajectories; needs
G x n_times x dim^2 complex numbers, G <= 8 groups within 1 GiB), bias-corrected and with
standard errors by the delete-one-group jackknife. That removes the O(1/ntraj) bias of a smooth
quantity (the ergotropy: within the errors of the exact solver in the tests). The l1 coherence
is not smooth where rho_ij = 0: sampling noise adds off-diagonal magnitude, a bias of order
ntraj^-1/2 per element that the jackknife does not remove (measured 2-6 standard errors at
dim 16, growing with the dimension); such runs say so in ``metadata["quantities"]["notes"]``
and warn. Use the exact solver where it fits. Symmetry blocks are switched off when any
quantity is requested (the ergotropy minimises over all unitaries of the full space, and the
entropy needs the full basis).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla

from ..core.errors import InputError
from ..physics.operators import Operators
from ..planning.options import QUANTITIES, parse_quantities  # noqa: F401  (re-exported: the names used to live here)
from .quantities import ergotropy_mixture, half_chain_entropy, l1_coherence, passive_energy, von_neumann_entropy

__all__ = ["QUANTITIES", "StateMeasures", "parse_quantities"]

DENSE_EIG = 4096  # dense diagonalisation of the battery Hamiltonian up to this dimension
COHERENCE_PURE = 2048
COHERENCE_MIXED = 512


class StateMeasures:
    """Callables for the solvers' ``observable_hook``, built once from the full-space operators.

    Parameters
    ----------
    ops : Operators  (full space, no symmetry block)
    which : tuple of names from QUANTITIES
    members : int  number of members of the initial mixture
    index : array or None  basis indices of the restricted sector the closed solver works in
    """

    def __init__(self, ops: Operators, which, members: int, index=None):
        if ops.symmetry:
            raise InputError("state quantities need the full basis (run with symmetry=False)")
        self.which = tuple(which)
        self.full_dim = ops.dim
        self.nb = int(np.prod([m.dim for m in ops.model_graph.modes])) if ops.model_graph.modes else 1
        self.ns = self.full_dim // self.nb
        self.index = index
        self.members = members
        mg = ops.model_graph
        self.n_spin_nodes = len(mg.spins)
        self.local_dim = mg.spins[0].dim
        # battery Hamiltonian on the spins: H_B = H_spin (x) 1_cavity
        rows = np.arange(self.ns) * self.nb
        self.H_spin = ops.H_B[rows][:, rows].tocsr()
        self.U = self.H_dense = None
        if self.ns <= DENSE_EIG:
            self.H_dense = self.H_spin.toarray()
            self.eps, self.U = np.linalg.eigh(self.H_dense)
        elif "coherence" in self.which or self.nb > 1:
            raise InputError(f"state quantities need a battery dimension <= {DENSE_EIG} "
                             f"(this model has {self.ns}); request only 'ergotropy' or 'entropy'")
        else:
            k = min(max(members, 1), self.ns - 2)
            self.eps = np.sort(spla.eigsh(self.H_spin, k=k, which="SA", return_eigenvectors=False))
        self.eps_passive = self.eps
        spin = mg.spins[0]
        if spin.sites > 1:
            # a collective spin N/2 stands for N physical two-level sites: the passive state may use
            # all 2^N levels, omega (k - N/2) with multiplicity C(N, k) (only for H_B = omega J_z)
            if spin.D or spin.E or spin.B40 or spin.B44:
                raise InputError("ergotropy of a collective spin needs H_B = omega J_z (no anisotropy terms)")
            from scipy.special import comb

            n = spin.sites
            levels = np.concatenate([np.full(min(int(comb(n, k, exact=True)), self.ns), spin.omega * (k - n / 2))
                                     for k in range(n + 1)])
            self.eps_passive = np.sort(levels)[: self.ns]
        self.notes = {}
        if "entropy" in self.which:
            if members > 1:
                self.notes["entropy"] = "NaN: mixed initial state (degenerate ground manifold)"
            elif self.nb == 1 and self.n_spin_nodes < 2:
                self.notes["entropy"] = "NaN: a single spin node has no bipartition"
        if "coherence" in self.which and self.ns > (COHERENCE_PURE if members == 1 else COHERENCE_MIXED):
            self.notes["coherence"] = "NaN: battery dimension too large for the dense eigenbasis"

    def sampled(self) -> str | None:
        """Record that the quantities come from a sampled state (trajectories); returns the note
        for a quantity whose estimate keeps a bias beyond its standard error, else None. The l1
        coherence sums |rho_ij| over off-diagonal elements, and |x| of a noisy x near zero is biased
        by about the noise itself (O(ntraj^-1/2), not removed by the jackknife), for each of the
        ~dim^2 elements: measured 2-6 standard errors at dim 16."""
        if "coherence" not in self.which or "coherence" in self.notes:
            return None
        self.notes["coherence"] = ("biased upwards from trajectories: |rho_ij| near zero is overestimated by "
                                   "about its sampling noise, beyond the standard error; use method 'exact' "
                                   "where it fits")
        return self.notes["coherence"]

    @property
    def names(self) -> list[str]:
        label = {"ergotropy": "ergotropy", "coherence": "coherence_l1", "entropy": "entanglement_entropy"}
        return [label[q] for q in self.which]

    # -- closed runs: evolved members psi (dim_run, M) with weights ---------------------------------
    def __call__(self, state) -> np.ndarray:
        """The quantities of a sampled state (:class:`collective_qc.solvers.contract.SampledState`):
        from the density matrix where the solver gives one, else from the members and weights."""
        if state.rho is not None:
            return self.density(state.rho)
        return self.closed(state.psi, state.weights)

    def closed(self, psi: np.ndarray, weights: np.ndarray) -> np.ndarray:
        if self.index is not None:
            full = np.zeros((self.full_dim, psi.shape[1]), dtype=psi.dtype)
            full[self.index] = psi
            psi = full
        out = []
        if self.nb == 1:
            hpsi = self.H_spin @ psi
            energy = float(np.real(np.einsum("im,im->m", psi.conj(), hpsi)) @ weights)
            for q in self.which:
                if q == "ergotropy":
                    out.append(ergotropy_mixture(psi, weights, self.eps_passive[: psi.shape[1]], energy))
                elif q == "coherence":
                    out.append(self._coherence_members(psi, weights))
                else:
                    out.append(self._entropy_pure(psi))
            return np.array(out)
        # cavity models: reduced battery state rho_B = sum_m w_m Psi_m Psi_m^dag, Psi_m (ns, nb)
        rho = np.zeros((self.ns, self.ns), dtype=np.complex128)
        for m in range(psi.shape[1]):
            P = psi[:, m].reshape(self.ns, self.nb)
            rho += weights[m] * (P @ P.conj().T)
        for q in self.which:
            if q == "entropy":
                out.append(von_neumann_entropy(rho) if psi.shape[1] == 1 else np.nan)
            else:
                out.append(self._of_rho(q, rho))
        return np.array(out)

    # -- exact runs: the full density matrix ------------------------------------------------------
    def density(self, rho: np.ndarray) -> np.ndarray:
        if self.nb > 1:
            rho = np.einsum("ibjb->ij", rho.reshape(self.ns, self.nb, self.ns, self.nb))
        out = []
        for q in self.which:
            out.append(np.nan if q == "entropy" else self._of_rho(q, rho))
        return np.array(out)

    def _of_rho(self, q, rho):
        rho = 0.5 * (rho + rho.conj().T)
        if q == "ergotropy":
            energy = float(np.real(np.sum(rho * self.H_dense.T)))  # Tr[rho H_B], O(dim^2)
            populations = np.clip(np.linalg.eigvalsh(rho), 0.0, None)
            return max(energy - passive_energy(populations, self.eps_passive, tol=1e-6), 0.0)
        if self.ns > COHERENCE_MIXED:
            return np.nan
        return l1_coherence(rho, self.U, tol=1e-6)

    def _coherence_members(self, psi, weights):
        if self.U is None or self.ns > (COHERENCE_PURE if psi.shape[1] == 1 else COHERENCE_MIXED):
            return np.nan
        c = self.U.conj().T @ psi
        if psi.shape[1] == 1:
            a = np.abs(c[:, 0])
            return float(np.sum(a) ** 2 - np.sum(a**2))
        r = (c * weights) @ c.conj().T
        return float(np.sum(np.abs(r)) - np.sum(np.abs(np.diag(r))))

    def _entropy_pure(self, psi):
        if psi.shape[1] != 1 or self.n_spin_nodes < 2:
            return np.nan
        v = psi[:, 0] / np.linalg.norm(psi[:, 0])
        return half_chain_entropy(v, self.n_spin_nodes, self.local_dim, tol=1e-6)
