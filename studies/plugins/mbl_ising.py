"""Plug-in model for ``studies/disordered_chains.py``: the interacting Ising chain of many-body-localised batteries.

Load it with ``collective_qc.load_plugin("studies/plugins/mbl_ising.py")`` or
``cqc --plugin studies/plugins/mbl_ising.py ...``; it registers ``mbl-ising-chain``.

H_B = sum_i (omega/2) sz_i + sum_<i,i+1> (J sx_i sx_{i+1} + Jz sz_i sz_{i+1})  (Pauli operators,
open chain, hbar = 1, energies in omega0). With Jz = 0 and a random field it is the random
transverse-field Ising chain (free fermions after Jordan-Wigner: Anderson localised); Jz != 0 adds
the density-density interaction n_i n_{i+1} of the fermions, the chain of Rossini, Andolina and
Polini, PRB 100, 115142 (2019). Random fields are drawn on ``omega`` by a study's ``[disorder]``
section. The charger is the package's default V = sum_i sx_i.

It also registers ``mbl-charger-chain``: the protocol of Rossini et al., where the disordered
interacting chain is the *charger* (the ``graph`` charger, random fields ``hx`` drawn by disorder)
and the battery a uniform field.
"""

from __future__ import annotations

import networkx as nx

from collective_qc import Model, Param, register_model
from collective_qc.core.validate import SizeEstimate, power
from collective_qc.physics.model import graph_bytes


class _OpenChain(Model):
    """An open chain of N spin-1/2 sites: its size estimate (2^N states, N nodes and bonds)."""

    size_param = "N"

    def size_estimate(self) -> SizeEstimate:
        n = self.values["N"]
        return SizeEstimate(n_sites=n, dim=power(2.0, n), graph_bytes=graph_bytes(n, n))


@register_model
class MBLIsingChain(_OpenChain):
    """Open chain: H_B = sum_i (omega/2) sz_i + sum_<ij> (J sx_i sx_j + Jz sz_i sz_j) (Pauli operators)."""

    name = "mbl-ising-chain"
    size_param = "N"
    params = (
        Param("N", int, 8, "number of spin-1/2 sites", "positive"),
        Param("omega", float, 1.0, "level splitting omega0 (term (omega/2) sz)", unit="energy"),
        Param("J", float, 0.25, "Ising coupling of the sx sx bond terms (Pauli operators)", unit="energy"),
        Param("Jz", float, 0.25, "interaction of the sz sz bond terms (Pauli operators)", unit="energy"),
    )

    def graph(self) -> nx.Graph:
        v = self.values
        g = nx.Graph()
        for i in range(v["N"]):
            g.add_node(i, omega=v["omega"])
        for i in range(v["N"] - 1):
            g.add_edge(i, i + 1, Jx=v["J"], Jy=0.0, Jz=v["Jz"])
        return g


@register_model
class MBLChargerChain(_OpenChain):
    """Rossini-Andolina-Polini protocol: uniform-field battery, disordered interacting Ising chain as the charger.

    As written by Rossini, Andolina and Polini (PRB 100, 115142 (2019); protocol as assumed in
    ``studies/README.md`` section 9), Pauli operators, open chain, hbar = 1, energies in J:

        H_0 = h sum_i sy_i,   H_1 = sum_i [J sx_i sx_{i+1} + Jz sz_i sz_{i+1} + h_i sz_i],

    H(t) = H_0 + lambda(t) H_1 with lambda = 1 during the charge, from the ground state of H_0,
    h_i uniform in [-W, W]. This model writes the same problem after the global rotation
    (x, y, z) -> (y, z, x) (a unitary: every energy is unchanged), so that the battery is the
    package's H_B = sum_i (omega/2) sz_i with omega = 2h and the initial state |g...g>:

        V = sum_i h_i sx_i + sum_i (Jz sx_i sx_{i+1} + J sy_i sy_{i+1})

    i.e. the ``graph`` charger with node attribute ``hx`` (the random fields, clean value 0,
    drawn by ``disorder = {hx = {dist = "uniform", width = 2W}}``) and edge attributes
    ``Jcx = Jz``, ``Jcy = J``. Run with drive lambda = 1. Jz = 0: free fermions (Anderson
    localised for W > 0); Jz != 0: ergodic at small W, many-body localised at large W.
    """

    name = "mbl-charger-chain"
    size_param = "N"
    energy_unit = "J"
    time_unit = "1/J"
    params = (
        Param("N", int, 8, "number of spin-1/2 sites", "positive"),
        Param("h", float, 1.0, "battery field (H_0 = h sum_i sy_i; omega = 2h after the rotation)", unit="energy"),
        Param("J", float, 1.0, "charger Ising coupling J sx sx (Pauli operators)", unit="energy"),
        Param("Jz", float, 1.0, "charger interaction Jz sz sz (Pauli operators)", unit="energy"),
    )

    def graph(self) -> nx.Graph:
        v = self.values
        g = nx.Graph(charger="graph")
        for i in range(v["N"]):
            g.add_node(i, omega=2.0 * v["h"], hx=0.0)
        for i in range(v["N"] - 1):
            g.add_edge(i, i + 1, J=0.0, Jcx=v["Jz"], Jcy=v["J"])
        return g
