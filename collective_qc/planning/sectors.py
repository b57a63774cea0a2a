"""Conserved excitation sectors of closed runs (cavity models).

N_exc = sum_c a_c^dag a_c + sum_i (S^z_i + S_i) counts photons plus spin excitations
above |g...g>. Rotating-wave couplings (Tavis-Cummings) conserve N_exc itself; the
Dicke coupling 2 S^x (a + a^dag) conserves only its parity (-1)^N_exc. When the
initial state lies in one sector, a closed run can be restricted to it: same results,
a smaller Hilbert space (about half for Dicke, much less for Tavis-Cummings).
Both labels are diagonal in the product basis, so the restriction is index slicing.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from ..physics.operators import Operators, conserves
from ..physics.states import InitialState

__all__ = ["excitation_number", "conserved_sector", "restrict"]


def excitation_number(ops: Operators) -> np.ndarray:
    """Diagonal of N_exc in the basis of `ops`."""
    mg = ops.model_graph
    occ = np.sum(ops.mode_occupation, axis=0) if ops.mode_occupation else 0.0
    return occ + ops.sz_total + sum(s.spin for s in mg.spins)


def conserved_sector(ops: Operators, init: InitialState):
    """(name, value, indices) of the smallest conserved sector holding the initial state, or None.

    Only for models with boson modes and no jump operators (closed runs).
    """
    if not ops.mode_occupation or ops.jumps:
        return None
    nexc = np.rint(excitation_number(ops) * 2) / 2
    support = np.any(np.abs(init.vectors) > 0, axis=1)
    for name, label in (("N_exc", nexc), ("parity", np.mod(np.rint(nexc), 2))):
        values = np.unique(label[support])
        if len(values) == 1 and conserves(label, ops.H0, ops.V):
            idx = np.flatnonzero(label == values[0])
            if len(idx) < ops.dim:
                return name, float(values[0]), idx
    return None


def restrict(ops: Operators, init: InitialState, idx: np.ndarray):
    """Operators and initial state restricted to the basis states `idx` (a conserved sector)."""

    def cut(A):
        return None if A is None else A[idx][:, idx].tocsr()

    sub = dataclasses.replace(
        ops, H_B=cut(ops.H_B), H_aux=cut(ops.H_aux), V=cut(ops.V), sz_total=ops.sz_total[idx],
        photon_number=None if ops.photon_number is None else ops.photon_number[idx],
        mode_occupation=[o[idx] for o in ops.mode_occupation],
    )
    sub_init = dataclasses.replace(init, vectors=np.ascontiguousarray(init.vectors[idx]))
    return sub, sub_init
