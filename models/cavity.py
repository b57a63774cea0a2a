"""Cavity quantum batteries: Dicke and Tavis-Cummings (N two-level sites + one cavity mode).

Conventions: hbar = 1, energies in units of omega0 (the spin splitting unit), times in
1/omega0. With J^a = sum_i S^a_i,

    H_B   = omega J_z                                   (battery: the spins only)
    H_aux = omega_c a^dag a                             (the cavity)
    V     = 2 J_x (a + a^dag)                           (dicke)
    V     = J_+ a + J_- a^dag  (= rotating-wave part)   (tavis-cummings)

and H(lambda) = H_B + H_aux + lambda V. The Dicke battery of Ferraro et al.,
PRL 120, 117702 (2018), H = omega_c a^dag a + omega_a J_z + 2 omega_c lambda' J_x (a + a^dag),
is ``dicke`` with omega = omega_a and drive lambda = omega_c lambda'. Their initial
state, N photons and all spins down, is the default (``photons`` = N, ground state of H_B).

Two representations of the same physics:

- ``representation = "collective"`` (default): one collective spin j = N/2 (a graph node
  with ``sites = N``) times the cavity. Exact for permutation-symmetric dynamics started
  in the symmetric subspace (all spins down is), and cheap: dimension (N + 1)(n_max + 1),
  so hundreds of sites run.
- ``representation = "explicit"``: a star graph, the cavity at the centre and N spin-1/2
  nodes, dimension 2^N (n_max + 1). Needed for local noise (dephasing, relaxation per site).

The Fock cutoff ``n_max`` (0 = automatic) is checked, not assumed: every run reports the
largest population of the two top Fock levels over the run (``metadata['cutoff']``) and
warns when it exceeds 1e-6.
"""

from __future__ import annotations

import networkx as nx

from collective_qc.core.errors import InputError, shown
from collective_qc.core.validate import SizeEstimate, power
from collective_qc.physics.model import Model, Param, graph_bytes
from collective_qc.physics.registry import register_model

REPRESENTATIONS = ("collective", "explicit")


def auto_cutoff(n_sites: int, photons: int, rwa: bool) -> int:
    """Default Fock cutoff.

    Tavis-Cummings conserves a^dag a + J_z + N/2, so from |photons; all down> the photon
    number never exceeds ``photons``: n_max = photons is exact. Dicke's counter-rotating
    terms create photon pairs; the default leaves room for N extra excitations plus a
    margin (convergence is checked in every run).
    """
    if rwa:
        return max(photons, 1)
    return photons + n_sites + max(12, n_sites // 2)


class _CavityBattery(Model):
    rwa = False
    params = (
        Param("N", int, 4, "number of two-level sites", "positive"),
        Param("omega", float, 1.0, "spin splitting omega (term omega J_z)", unit="energy"),
        Param("omega_c", float, 1.0, "cavity frequency omega_c (term omega_c a^dag a)", unit="energy"),
        Param("n_max", int, 0, "Fock cutoff: highest photon number kept", "nonneg",
              default_doc="automatic: photons + N + max(12, N/2) for dicke, doubled until converged; "
                          "photons for tavis-cummings, exact"),
        Param("photons", int, -1, "initial photon number (Fock state) of the cavity",
              default_doc="N photons, Ferraro et al.'s initial state"),
        Param("kappa_c", float, 0.0, "cavity loss rate (jump sqrt(kappa_c) a)", "nonneg", unit="rate"),
        Param("representation", str, "collective", "collective (spin N/2) | explicit (star graph)"),
    )

    @classmethod
    def check(cls, values: dict) -> None:
        if values["representation"] not in REPRESENTATIONS:
            raise InputError(f"parameter 'representation' of model {cls.name!r} must be one of "
                             f"{', '.join(REPRESENTATIONS)}, got {shown(values['representation'])}")
        if values["photons"] < -1:
            raise InputError(f"parameter 'photons' of model {cls.name!r} must be >= 0 (or -1 for N), "
                             f"got {values['photons']}")
        photons = values["N"] if values["photons"] == -1 else values["photons"]
        if values["n_max"] and values["n_max"] < photons:
            raise InputError(f"parameter 'n_max' of model {cls.name!r} (= {values['n_max']}) is below the "
                             f"initial photon number {photons}")

    @property
    def photons(self) -> int:
        v = self.values
        return v["N"] if v["photons"] == -1 else v["photons"]

    @property
    def cutoff(self) -> int:
        v = self.values
        return v["n_max"] or auto_cutoff(v["N"], self.photons, self.rwa)

    def size_estimate(self) -> SizeEstimate:
        """dim = (N + 1)(n_max + 1) (collective) or 2^N (n_max + 1) (explicit), from the parameters."""
        v = self.values
        n, modes = v["N"], self.cutoff + 1.0
        if v["representation"] == "collective":
            return SizeEstimate(n_sites=n, dim=(n + 1.0) * modes, graph_bytes=graph_bytes(2, 1))
        return SizeEstimate(n_sites=n, dim=power(2.0, n) * modes, graph_bytes=graph_bytes(n + 1, n))

    def graph(self) -> nx.Graph:
        v = self.values
        n = v["N"]
        g = nx.Graph()
        cavity = dict(kind="boson", omega=v["omega_c"], n_max=self.cutoff, photons=self.photons,
                      kappa=v["kappa_c"], rwa=self.rwa)
        if v["representation"] == "collective":
            g.add_node("spins", spin=f"{n}/2", sites=n, omega=v["omega"])
            g.add_node("cavity", **cavity)
            g.add_edge("spins", "cavity", g=1.0)
        else:
            for i in range(n):
                g.add_node(i, omega=v["omega"])
            g.add_node("cavity", **cavity)
            for i in range(n):
                g.add_edge(i, "cavity", g=1.0)
        return g

    def refine_cutoff(self, level: int) -> Model | None:
        """With an automatic cutoff (``n_max = 0``): the same model with n_max = 2^level times the
        automatic one, up to level 4; None for a user-given cutoff (the run then warns instead)."""
        if self.values["n_max"] or level > 4:
            return None
        return type(self)(**{**self.values, "n_max": self.cutoff * 2**level})

    def single_site(self) -> Model:
        """One two-level site in its own cavity with one photon (Ferraro et al.'s parallel charger unit)."""
        v = dict(self.values)
        v.update(N=1, photons=1, n_max=0, representation="collective")
        return type(self)(**v)

    def with_size(self, n: int) -> Model:
        """Same model with N = n; an explicit ``photons`` is kept, the default (N photons) follows N."""
        v = {**self.values, "N": n}
        if v["n_max"]:
            v["n_max"] = max(v["n_max"], n if v["photons"] == -1 else v["photons"])
        return type(self)(**v)


@register_model
class Dicke(_CavityBattery):
    """Dicke quantum battery: H_B = omega J_z, H_aux = omega_c a^dag a, V = 2 J_x (a + a^dag).

    N two-level sites coupled to one cavity mode (Ferraro et al., PRL 120, 117702 (2018):
    their lambda' relates to our drive by lambda = omega_c lambda'). Initial state: all spins
    down and ``photons`` (default N) photons. ``representation``: collective spin N/2
    (default) or the explicit star graph. Energies in omega0, times in 1/omega0.
    """

    name = "dicke"
    rwa = False


@register_model
class TavisCummings(_CavityBattery):
    """Tavis-Cummings battery: the Dicke model in the rotating-wave approximation, V = J_+ a + J_- a^dag.

    Conserves a^dag a + J_z, so the automatic cutoff n_max = photons is exact. Same
    parameters and representations as ``dicke``.
    """

    name = "tavis-cummings"
    rwa = True
