"""Spin-1/2 lattice models: two-level capacitor, chains, rings, square lattice, complete graph.

All in the paper's Pauli convention, hbar = 1, energies in
units of omega0 and times in 1/omega0. Charger V = sum_i sigma^x_i (drive weight 1),
so H(lambda, t) = H_B + lambda f(t) V.
"""

from __future__ import annotations

import networkx as nx

from collective_qc.core.errors import InputError, shown
from collective_qc.core.validate import SizeEstimate, power
from collective_qc.physics.model import Model, Param, graph_bytes
from collective_qc.physics.registry import register_model

_N = Param("N", int, 6, "number of spin-1/2 sites", "positive")
_OMEGA = Param("omega", float, 1.0, "level splitting omega0 (term (omega/2) sz)", unit="energy")
_J = Param("J", float, 0.3, "exchange coupling J of the Pauli-operator bond terms", unit="energy")
_DELTA = Param("Delta", float, 0.5, "zz anisotropy J_z / J (Delta = 1: isotropic Heisenberg)")


def _spin_half_estimate(n: int, n_edges: float) -> SizeEstimate:
    """Size of N spin-1/2 sites with n_edges bonds, from the parameters alone (dim = 2^N)."""
    return SizeEstimate(n_sites=n, dim=power(2.0, n), graph_bytes=graph_bytes(n, n_edges))


def _spin_graph(graph: nx.Graph, omega: float, **bond) -> nx.Graph:
    g = nx.Graph()
    for node in graph.nodes:
        g.add_node(node, omega=omega)
    for u, v in graph.edges:
        g.add_edge(u, v, **bond)
    return g


@register_model
class TwoLevel(Model):
    """The paper's single two-level capacitor: H_B = (omega/2) sigma_z, V = sigma_x.

    Parameters: omega (splitting). Closed forms in :mod:`collective_qc.baseline`
    (paper Eqs. 7-27).
    """

    name = "two-level"
    params = (_OMEGA,)
    size_param = None

    def graph(self) -> nx.Graph:
        g = nx.Graph()
        g.add_node(0, omega=self.values["omega"])
        return g

    def single_site(self) -> Model:
        return self


def _ring_check(values):
    if values["N"] < 3:
        raise InputError(f"parameter 'N' of a ring must be >= 3, got {values['N']}")


@register_model
class XXZChain(Model):
    """Open XXZ chain: H_B = sum_i (omega/2) sz_i + J sum_<ij> (sx sx + sy sy + Delta sz sz).

    Pauli operators; bonds between nearest neighbours of an open chain of N sites.
    """

    name = "xxz-chain"
    params = (_N, _OMEGA, _J, _DELTA)

    def size_estimate(self) -> SizeEstimate:
        return _spin_half_estimate(self.values["N"], self.values["N"])

    def graph(self) -> nx.Graph:
        v = self.values
        return _spin_graph(nx.path_graph(v["N"]), v["omega"], J=v["J"], Delta=v["Delta"])


@register_model
class XXZRing(XXZChain):
    """Periodic XXZ ring: H_B = sum_i (omega/2) sz_i + J sum_i (sx sx + sy sy + Delta sz sz)_{i,i+1}.

    Pauli operators, N >= 3 sites with periodic boundary. Translation and parity
    invariant: closed runs use QuSpin momentum/parity blocks when they can.
    """

    name = "xxz-ring"
    check = classmethod(lambda cls, v: _ring_check(v))

    def graph(self) -> nx.Graph:
        v = self.values
        return _spin_graph(nx.cycle_graph(v["N"]), v["omega"], J=v["J"], Delta=v["Delta"])

    def ring_order(self):
        return list(range(self.values["N"]))

    def single_site(self) -> Model:
        """One site of the ring (no bonds): the open chain with N = 1."""
        return XXZChain(**{**self.values, "N": 1})


@register_model
class IsingChain(Model):
    """Open Ising chain: H_B = sum_i (omega/2) sz_i + J sum_<ij> sz_i sz_j (Pauli operators)."""

    name = "ising-chain"
    params = (_N, _OMEGA, _J)

    def size_estimate(self) -> SizeEstimate:
        return _spin_half_estimate(self.values["N"], self.values["N"])

    def graph(self) -> nx.Graph:
        v = self.values
        return _spin_graph(nx.path_graph(v["N"]), v["omega"], Jz=v["J"])


@register_model
class IsingRing(IsingChain):
    """Periodic Ising ring: H_B = sum_i (omega/2) sz_i + J sum_i sz_i sz_{i+1} (Pauli operators)."""

    name = "ising-ring"
    check = classmethod(lambda cls, v: _ring_check(v))

    def graph(self) -> nx.Graph:
        v = self.values
        return _spin_graph(nx.cycle_graph(v["N"]), v["omega"], Jz=v["J"])

    def ring_order(self):
        return list(range(self.values["N"]))

    def single_site(self) -> Model:
        """One site of the ring (no bonds): the open chain with N = 1."""
        return IsingChain(**{**self.values, "N": 1})


@register_model
class SquareLattice(Model):
    """Square-lattice XXZ: H_B = sum_i (omega/2) sz_i + J sum_<ij> (sx sx + sy sy + Delta sz sz).

    Lx x Ly sites (N = Lx Ly), nearest-neighbour bonds, open or periodic boundaries
    (``periodic``; a periodic side of length 2 gives a single bond, not a double one).
    """

    name = "square-lattice"
    params = (
        Param("Lx", int, 2, "sites along x", "positive"),
        Param("Ly", int, 2, "sites along y", "positive"),
        _OMEGA,
        _J,
        _DELTA,
        Param("periodic", bool, False, "periodic boundary conditions"),
    )
    size_param = "Lx"  # sweeps of N = Lx * Ly keep Ly fixed

    def site_count(self) -> int:
        return self.values["Lx"] * self.values["Ly"]

    def size_estimate(self) -> SizeEstimate:
        n = self.site_count()
        return _spin_half_estimate(n, 2 * n)

    def with_size(self, n: int) -> Model:
        """N = n sites as an (n / Ly) x Ly lattice (Ly fixed)."""
        ly = self.values["Ly"]
        if n % ly:
            raise InputError(f"model 'square-lattice': N = {n} is not a multiple of Ly = {ly}")
        return type(self)(**{**self.values, "Lx": n // ly})

    def graph(self) -> nx.Graph:
        v = self.values
        lat = nx.grid_2d_graph(v["Lx"], v["Ly"], periodic=v["periodic"])
        lat = nx.Graph(lat)  # collapse multi-edges of periodic 2-sides
        lat = nx.convert_node_labels_to_integers(lat, ordering="sorted")
        return _spin_graph(lat, v["omega"], J=v["J"], Delta=v["Delta"])

    def single_site(self) -> Model:
        return type(self)(**{**self.values, "Lx": 1, "Ly": 1})


REPRESENTATIONS = ("explicit", "collective")


@register_model
class AllToAll(Model):
    """Complete graph: H_B = sum_i (omega/2) sz_i + J sum_{i<j} (sx sx + sy sy + Delta sz sz).

    Pauli operators; every pair coupled with the same J (no 1/N scaling). Two representations of
    the same H_B (``representation``):

    - ``explicit`` (default): the complete graph of N spin-1/2 nodes, dimension 2^N; local noise.
    - ``collective``: one collective spin N/2 (a node with ``sites = N``), dimension N + 1, with
      H_B = omega J_z + J (2 J_x^2 + 2 J_y^2 + 2 Delta J_z^2 - (2 + Delta) N/2) (the node's pair
      couplings). The closed, exact and trajectory methods hold only the symmetric subspace j = N/2
      (product, ground where it is symmetric, dicke:N/2,M; collective noise only); the
      permutation method (``auto`` picks it) runs every block j, local noise and every initial
      state included, with the same numbers as the explicit graph.

    Both give the same physics; use ``collective`` beyond N ~ 12 (the explicit graph's memory
    guard refuses N > ~30).
    """

    name = "all-to-all"
    params = (_N, _OMEGA, _J, _DELTA,
              Param("representation", str, "explicit", "explicit (complete graph) | collective (spin N/2)"))

    @classmethod
    def check(cls, values: dict) -> None:
        if values["representation"] not in REPRESENTATIONS:
            raise InputError(f"parameter 'representation' of model {cls.name!r} must be one of "
                             f"{', '.join(REPRESENTATIONS)}, got {shown(values['representation'])}")

    def size_estimate(self) -> SizeEstimate:
        """dim = 2^N (explicit) or N + 1 (collective), from the parameters."""
        n = self.values["N"]
        if self.values["representation"] == "collective":
            return SizeEstimate(n_sites=n, dim=n + 1.0, graph_bytes=graph_bytes(1))
        return _spin_half_estimate(n, n * (n - 1) / 2)

    def graph(self) -> nx.Graph:
        v = self.values
        n = v["N"]
        if v["representation"] == "collective" and n > 1:
            g = nx.Graph()
            g.add_node("spins", spin=f"{n}/2", sites=n, omega=v["omega"], J=v["J"], Delta=v["Delta"])
            return g
        return _spin_graph(nx.complete_graph(n), v["omega"], J=v["J"], Delta=v["Delta"])

    def single_site(self) -> Model:
        """One site (no pairs): the same in both representations."""
        return type(self)(**{**self.values, "N": 1})
