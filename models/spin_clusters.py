"""Spin-S models: a single giant spin and Heisenberg clusters on any graph.

Spin operators S^a (not Pauli), hbar = 1. Charger V = sum_i 2 S^x_i (= sigma_x at S = 1/2),
so at S = 1/2 every formula reduces to the paper's two-level capacitor.
"""

from __future__ import annotations

import networkx as nx

from collective_qc.core.errors import shown
from collective_qc.core.validate import SizeEstimate, power
from collective_qc.physics.model import Model, Param, graph_bytes
from collective_qc.physics.registry import register_model


@register_model
class GiantSpin(Model):
    """Giant spin: H_B = omega S^z + D (S^z)^2 + E ((S^x)^2 - (S^y)^2), V = 2 S^x.

    Spin operators of length S (e.g. S = 10 for Mn12 / Fe8 ground multiplets). Energies
    in the model's units (omega0 by default).
    """

    name = "giant-spin"
    params = (
        Param("S", str, "10", "spin length S of the operators S^a (half-integer, e.g. 10 or 3/2)"),
        Param("omega", float, 1.0, "Zeeman splitting (term omega S^z)", unit="energy"),
        Param("D", float, 0.0, "axial anisotropy D (S^z)^2", unit="energy"),
        Param("E", float, 0.0, "rhombic anisotropy E ((S^x)^2 - (S^y)^2)", unit="energy"),
    )
    size_param = None

    @classmethod
    def check(cls, values: dict) -> None:
        """S is a half-integer of at most MAX_SPIN (QuSpin's largest spin), checked on parsing."""
        from collective_qc.physics.graph import parse_spin

        parse_spin(values["S"], f"parameter 'S' of model {cls.name!r}")

    def graph(self) -> nx.Graph:
        v = self.values
        g = nx.Graph()
        g.add_node(0, spin=v["S"], omega=v["omega"], D=v["D"], E=v["E"])
        return g

    def single_site(self) -> Model:
        return self


@register_model
class HeisenbergGraph(Model):
    """Heisenberg cluster on a named graph: H_B = sum_i [omega S^z_i + D (S^z_i)^2] + J sum_<ij> S_i . S_j.

    Spin operators (J S.S convention; J > 0 antiferromagnetic). ``lattice``: chain (open),
    ring (periodic, N >= 3), complete (all pairs) or star (site 0 bonded to the N - 1 others);
    N sites of spin S. A triangle is ``lattice=ring`` with N = 3 (or ``complete``).
    """

    name = "heisenberg-graph"
    params = (
        Param("N", int, 4, "number of sites", "positive"),
        Param("S", str, "1/2", "spin length S of every site (half-integer, e.g. 1/2, 1, 3/2)"),
        Param("J", float, 1.0, "exchange J (term J S_i.S_j)", unit="energy"),
        Param("D", float, 0.0, "single-ion anisotropy D (S^z)^2", unit="energy"),
        Param("omega", float, 1.0, "Zeeman splitting (term omega S^z)", unit="energy"),
        Param("lattice", str, "ring", "bond graph: chain | ring | complete | star"),
    )

    @classmethod
    def check(cls, values: dict) -> None:
        """S is a half-integer of at most MAX_SPIN (QuSpin's largest spin), checked on parsing."""
        from collective_qc.physics.graph import parse_spin

        parse_spin(values["S"], f"parameter 'S' of model {cls.name!r}")

    def size_estimate(self) -> SizeEstimate:
        """dim = (2S + 1)^N from the parameters (the graph is built only if that fits)."""
        from collective_qc.physics.graph import parse_spin

        v = self.values
        n = v["N"]
        edges = n * (n - 1) / 2 if v["lattice"] == "complete" else n
        spin = parse_spin(v["S"], f"parameter 'S' of model {self.name!r}")
        return SizeEstimate(n_sites=n, dim=power(2 * spin + 1, n), graph_bytes=graph_bytes(n, edges))

    def graph(self) -> nx.Graph:
        v = self.values
        from collective_qc.core.errors import InputError

        makers = {"chain": nx.path_graph, "ring": nx.cycle_graph, "complete": nx.complete_graph,
                  "star": lambda n: nx.star_graph(n - 1)}
        if v["lattice"] not in makers:
            raise InputError(f"parameter 'lattice' of model 'heisenberg-graph' must be one of "
                             f"{', '.join(makers)}, got {shown(v['lattice'])}")
        lat = makers[v["lattice"]](v["N"])
        lat.remove_edges_from(list(nx.selfloop_edges(lat)))  # a one-site ring has no bond
        g = nx.Graph()
        for i in lat.nodes:
            g.add_node(i, spin=v["S"], omega=v["omega"], D=v["D"])
        for i, j in lat.edges:
            if i == j:  # a ring of one site has no bond (its single-site version)
                continue
            g.add_edge(i, j, J=v["J"] / 4.0, Delta=1.0)  # J S.S = (J/4) (2S).(2S), the graph's convention
        return g
