"""Molecular nanomagnets with published spin Hamiltonians: Mn12-ac, Fe8, V15, Cr8.

Each entry takes its parameters from a paper, and the paper's values are the defaults.
Every parameter can be overridden. Each model uses one physical energy unit, named in
``energy_unit`` ("K" means E / k_B in kelvin; "meV"). Times are in hbar over that unit:

- 1 hbar/K   = hbar / (k_B * 1 K) = 7.6382 ps
- 1 hbar/meV = 0.65821 ps

Conversions used: 1 cm^-1 = 1.438777 K = 0.1239842 meV, 1 meV = 11.60452 K,
mu_B = 0.6717138 K/T = 0.05788382 meV/T.

Operators are spin operators S^a of length S (not Pauli). The site term is the schema's
(:mod:`collective_qc.physics.graph`, :func:`collective_qc.physics.operators.build_operators`):

    omega S^z + D (S^z)^2 + E ((S^x)^2 - (S^y)^2) + B40 O4^0 + B44 O4^4,

with the Stevens operators O4^0 = 35 (S^z)^4 - [30 S(S+1) - 25] (S^z)^2 + 3 S^2 (S+1)^2
- 6 S(S+1) and O4^4 = ((S^+)^4 + (S^-)^4) / 2. ``omega`` is the Zeeman energy g mu_B B
of a field B along z (the Zeeman term g mu_B B S^z, so m = -S is lowest for omega > 0).
Its default is the splitting of g = 2 at B = 1 T. Exchange bonds are stored
Pauli-normalised, with s = 2S: a published J S_i.S_j becomes an edge with J/4 and
Delta = 1 (see :class:`models.spin_clusters.HeisenbergGraph`).

The charger is the classical transverse field V = sum_i 2 S^x_i. The drive lambda is in
the model's energy unit, and lambda V is the Zeeman term of a field B_x with
lambda = g mu_B B_x / 2.
"""

from __future__ import annotations

import functools

import networkx as nx

from collective_qc.physics.model import Model, Param
from collective_qc.physics.registry import register_model

CM_TO_K = 1.438776877  # 1 cm^-1 in kelvin (h c / k_B)
MUB_K = 0.6717138  # Bohr magneton in K/T (mu_B / k_B)
MUB_MEV = 0.05788382  # Bohr magneton in meV/T
ZEEMAN_1T_K = 2.0 * MUB_K  # g mu_B B at g = 2, B = 1 T, in K (1.3434 K)
ZEEMAN_1T_MEV = 2.0 * MUB_MEV  # the same in meV (0.11577 meV)


class _SingleSite:
    """Mixin: keep only the first spin node of the cluster's graph (with its site terms)."""

    def graph(self) -> nx.Graph:
        full = super().graph()
        node = next(iter(full.nodes))
        g = nx.Graph()
        g.add_node(node, **full.nodes[node])
        return g

    def ring_order(self):
        return None

    def single_site(self) -> Model:
        return self


@functools.cache
def _single_site_class(cls: type[Model]) -> type[Model]:
    """An unregistered subclass of the cluster `cls` whose graph is one of its spins."""
    return type(f"{cls.__name__}SingleSite", (_SingleSite, cls), {
        "name": f"{cls.name}:single-site",
        "__doc__": f"One spin of {cls.name!r}: its single-ion and Zeeman terms, no exchange.",
        "__module__": __name__,
    })


class _Cluster(Model):
    """A few exchange-coupled spins. ``single_site()`` is one spin with the same site terms."""

    size_param = None

    def single_site(self) -> Model:
        return _single_site_class(type(self))(**self.values)


def _heisenberg_ring(n: int, spin: str, J: float, **site) -> nx.Graph:
    """Ring 0-1-...-(n-1)-0 with J S_i.S_{i+1} (stored as J/4 in the Pauli convention)."""
    g = nx.Graph()
    for i in range(n):
        g.add_node(i, spin=spin, **site)
    for i in range(n):
        g.add_edge(i, (i + 1) % n, J=J / 4.0, Delta=1.0)
    return g


@register_model
class Mn12Acetate(Model):
    """Mn12-acetate, an S = 10 giant spin with fourth-order anisotropy (energies in K).

    Hamiltonian
    -----------
    The published convention (Mirebeau et al. 1999) is

        H_B = D (S^z)^2 + B40 O4^0 + B44 O4^4 + omega S^z,    S = 10,

    with D < 0 (easy axis z). It maps term for term onto one spin node, with no
    conversion of convention. Only the unit changes: the paper's cm^-1 values are
    multiplied by 1.438777 K/cm^-1.

    Parameters
    ----------
    omega : float, default 1.3434 K
        Zeeman energy g mu_B B_z (g = 2, B_z = 1 T).
    D : float, default -0.457 cm^-1 = -0.65752 K
        Axial anisotropy.
    B40 : float, default -2.33e-5 cm^-1 = -3.3524e-5 K
        Fourth-order axial Stevens coefficient.
    B44 : float, default +3.0e-5 cm^-1 = +4.3163e-5 K
        Fourth-order tetragonal Stevens coefficient. Its sign was not determined
        (+-3.0e-5 cm^-1). The sign does not change the spectrum: a rotation by pi/4
        about z maps B44 to -B44. It does set which in-plane axis the charger
        2 S^x points along.

    Notes
    -----
    At zero field the ground level is the quasi-degenerate doublet m = +-10. Only the
    B44 term couples m to m +- 4, so the ground tunnel splitting is negligible. The
    first excited doublet m = +-9 lies at -19 D - 58140 B40 = 10.04 cm^-1 = 14.4 K
    (1.245 meV) above it, plus a negligible second-order B44 shift. This is the
    m = 10 -> 9 transition seen by inelastic neutron scattering. The barrier is
    -100 D + 22500 B40 = 65.0 K.

    References
    ----------
    I. Mirebeau, M. Hennion, H. Casalta, H. Andres, H. U. Gudel, A. V. Irodova and
    A. Caneschi, "Low-energy magnetic excitations of the Mn12-acetate spin cluster
    observed by neutron scattering", Phys. Rev. Lett. 83, 628 (1999): D = -0.457(2)
    cm^-1, B40 = -2.33(4)e-5 cm^-1, B44 = +-3.0(5)e-5 cm^-1.
    High-frequency EPR (A.-L. Barra, D. Gatteschi and R. Sessoli, Phys. Rev. B 56,
    8192 (1997)) gives D = -0.46 cm^-1 and B40 = -2.2e-5 cm^-1, in agreement.
    """

    name = "mn12-ac"
    energy_unit = "K"
    time_unit = "hbar/K"
    size_param = None
    params = (
        Param("omega", float, ZEEMAN_1T_K, "Zeeman energy g mu_B B_z (default: g = 2, B = 1 T)", unit="energy"),
        Param("D", float, -0.457 * CM_TO_K, "axial anisotropy D (S^z)^2 (Mirebeau 1999: -0.457 cm^-1)", unit="energy"),
        Param("B40", float, -2.33e-5 * CM_TO_K, "Stevens B4^0 O4^0 (Mirebeau 1999: -2.33e-5 cm^-1)", unit="energy"),
        Param("B44", float, 3.0e-5 * CM_TO_K, "Stevens B4^4 O4^4 (Mirebeau 1999: +-3.0e-5 cm^-1)", unit="energy"),
    )

    def graph(self) -> nx.Graph:
        v = self.values
        g = nx.Graph()
        g.add_node(0, spin="10", omega=v["omega"], D=v["D"], B40=v["B40"], B44=v["B44"])
        return g

    def single_site(self) -> Model:
        return self


@register_model
class Fe8(Model):
    """Fe8 ([Fe8O2(OH)12(tacn)6]8+), an S = 10 giant spin with rhombic anisotropy (energies in K).

    Hamiltonian
    -----------
    The published convention (Wernsdorfer & Sessoli 1999) is

        H_B = D (S^z)^2 + E ((S^x)^2 - (S^y)^2) + C ((S^+)^4 + (S^-)^4) + omega S^z,

    with S = 10, easy axis z, hard axis x and medium axis y. The fourth-order term is
    C ((S^+)^4 + (S^-)^4) = 2 C O4^4, so the graph gets B44 = 2 C. The published
    values are in K and are used as they are.

    Parameters
    ----------
    omega : float, default 1.3434 K
        Zeeman energy g mu_B B_z (g = 2, B_z = 1 T).
    D : float, default -0.275 K
        Axial anisotropy.
    E : float, default 0.046 K
        Rhombic (transverse) anisotropy.
    C : float, default -2.9e-5 K
        Fourth-order transverse term C ((S^+)^4 + (S^-)^4), i.e. B44 = 2 C. Set it to
        0 for the plain D-E model.

    Notes
    -----
    The x axis is the hard axis, so the charger V = 2 S^x drives along it.

    References
    ----------
    W. Wernsdorfer and R. Sessoli, "Quantum phase interference and parity effects in
    magnetic molecular clusters", Science 284, 133 (1999): D = -0.275 K, E = 0.046 K,
    and the fourth-order term C = -2.9e-5 K.
    """

    name = "fe8"
    energy_unit = "K"
    time_unit = "hbar/K"
    size_param = None
    params = (
        Param("omega", float, ZEEMAN_1T_K, "Zeeman energy g mu_B B_z (default: g = 2, B = 1 T)", unit="energy"),
        Param("D", float, -0.275, "axial anisotropy D (S^z)^2 (Wernsdorfer & Sessoli 1999)", unit="energy"),
        Param("E", float, 0.046, "rhombic anisotropy E ((S^x)^2 - (S^y)^2) (idem)", unit="energy"),
        Param("C", float, -2.9e-5, "fourth-order C ((S^+)^4 + (S^-)^4), B44 = 2C (idem)", unit="energy"),
    )

    def graph(self) -> nx.Graph:
        v = self.values
        g = nx.Graph()
        g.add_node(0, spin="10", omega=v["omega"], D=v["D"], E=v["E"], B44=2.0 * v["C"])
        return g

    def single_site(self) -> Model:
        return self


@register_model
class V15Triangle(_Cluster):
    """V15, an effective triangle of three spin-1/2 with antiferromagnetic exchange (energies in K).

    Hamiltonian
    -----------
    The published convention, with spin operators, is

        H_B = J (S_1.S_2 + S_2.S_3 + S_3.S_1) + omega sum_i S^z_i,    J > 0 antiferromagnetic.

    In the graph's Pauli convention each bond is (J/4)(sx sx + sy sy + sz sz), i.e. an
    edge with J/4 and Delta = 1. The site term omega S^z is (omega/2) sz.

    Parameters
    ----------
    omega : float, default 1.3434 K
        Zeeman energy g mu_B B_z (g = 2, B_z = 1 T).
    J : float, default 2.45 K
        Effective exchange of the equilateral triangle (J S_i.S_j convention).

    Notes
    -----
    At zero field E = (J/2)[S_tot(S_tot + 1) - 9/4]. The ground level is two S = 1/2
    doublets, four-fold degenerate at -3J/4, and the S = 3/2 quartet lies 3J/2 = 3.7 K
    above it. The small zero-field splitting of the two doublets is left out. It is
    tens of mK in V15 and is attributed to Dzyaloshinskii-Moriya and hyperfine couplings.
    V15 is the low-energy model of the K6[V15As6O42(H2O)]·8H2O cluster.
    ``single_site()`` is one free spin-1/2 with the same Zeeman term.

    References
    ----------
    I. Chiorescu, W. Wernsdorfer, A. Muller, H. Bogge and B. Barbara, "Butterfly
    hysteresis loop and dissipative spin reversal in the S = 1/2, V15 molecular
    complex", Phys. Rev. Lett. 84, 3454 (2000).
    """

    name = "v15-triangle"
    energy_unit = "K"
    time_unit = "hbar/K"
    params = (
        Param("omega", float, ZEEMAN_1T_K, "Zeeman energy g mu_B B_z (default: g = 2, B = 1 T)", unit="energy"),
        Param("J", float, 2.45, "exchange J S_i.S_j (J > 0 antiferromagnetic; Chiorescu 2000)", unit="energy"),
    )

    def graph(self) -> nx.Graph:
        v = self.values
        return _heisenberg_ring(3, "1/2", v["J"], omega=v["omega"])

    def ring_order(self):
        return [0, 1, 2]


@register_model
class Cr8Ring(_Cluster):
    """Cr8, an antiferromagnetic ring of eight s = 3/2 Cr(III) ions (energies in meV).

    Hamiltonian
    -----------
    The published convention, with spin operators, is

        H_B = J sum_i S_i.S_{i+1} + D sum_i [(S^z_i)^2 - S(S+1)/3] + omega sum_i S^z_i,

    with i + 1 taken mod 8, J > 0 antiferromagnetic and z the ring axis. Each bond becomes
    an edge with J/4 and Delta = 1 (Pauli convention). The constant -D S(S+1)/3 per site
    (-N D S(S+1)/3 = +0.38 meV in total) is dropped, because it shifts every level equally.

    Parameters
    ----------
    omega : float, default 0.11577 meV
        Zeeman energy g mu_B B_z (g = 2, B_z = 1 T).
    J : float, default 1.46 meV (16.9 K)
        Nearest-neighbour exchange.
    D : float, default -0.038 meV
        Single-ion axial anisotropy.

    Notes
    -----
    Hilbert space dimension 4^8 = 65536. The ring is uniform, so closed runs use QuSpin
    momentum/parity blocks. At zero field with D = 0 the ground state is a total-spin
    singlet and the first excited level is the S = 1 triplet, at 0.559 J = 0.816 meV.
    The default D splits the triplet into m = 0 at 0.695 meV and m = +-1 at 0.884 meV,
    and slightly mixes S = 0 with S = 2. The dipolar and other small terms of Carretta
    et al. are not included.
    ``single_site()`` is one s = 3/2 ion with D (S^z)^2 + omega S^z.

    References
    ----------
    S. Carretta et al., "Microscopic spin Hamiltonian of a Cr8 antiferromagnetic ring
    from inelastic neutron scattering", Phys. Rev. B 67, 094405 (2003): J = 1.46 meV,
    D = -0.038 meV.
    O. Waldmann, T. Guidi, S. Carretta, C. Mondelli and A. L. Dearden, "Elementary
    excitations in the cyclic molecular nanomagnet Cr8", Phys. Rev. Lett. 91, 237202
    (2003).
    """

    name = "cr8-ring"
    energy_unit = "meV"
    time_unit = "hbar/meV"
    params = (
        Param("omega", float, ZEEMAN_1T_MEV, "Zeeman energy g mu_B B_z (default: g = 2, B = 1 T)", unit="energy"),
        Param("J", float, 1.46, "exchange J S_i.S_{i+1} (J > 0 antiferromagnetic; Carretta 2003)", unit="energy"),
        Param("D", float, -0.038, "single-ion anisotropy D (S^z_i)^2 (Carretta 2003)", unit="energy"),
    )

    def graph(self) -> nx.Graph:
        v = self.values
        return _heisenberg_ring(8, "3/2", v["J"], omega=v["omega"], D=v["D"])

    def ring_order(self):
        return list(range(8))
