"""The ``permutation`` solver: N identical spin-1/2 sites with local and collective noise at
N = 10^2 - 10^3, in the Dicke-ladder basis.

For a model, charger and noise invariant under every permutation of the sites
(:mod:`collective_qc.physics.permutation`) the density matrix stays (+)_j rho_j (x) 1_{d_j}:
O(N^3) numbers instead of 4^N (Chase & Geremia, PRA 78, 052101 (2008); Shammah et al., PRA 98,
063815 (2018), the method of qutip.piqs). The solver propagates the weighted blocks
R_j = d_j rho_j and their tangent X = dR/dlambda with the exact solver's integrator (Chebyshev
expansions of each constant piece, dense output; DOP853 for smooth envelopes;
:mod:`.lindblad`), the generator applied block by block (:mod:`.permutation_form`), so E, P and
C_Q are exact functionals as in the exact solver. The ergotropy is that of the full N-site state
(passive energy from the block spectra with multiplicities d_j).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..core.errors import InputError
from ..physics.permutation import needed_blocks
from .contract import Accepts, RunSize, SampledState, SolveProblem, Solver
from .permutation_blocks import BlockFunctionals, initial_blocks, passive_energy, spin_levels
from .permutation_form import PermutationLindbladian
from .solution import Solution, SolverOptions

__all__ = ["PermutationOperators", "PermutationSolver", "SOLVER", "InitialBlocks", "PermutationMeasures",
           "solve_permutation"]

APPLY_FLOPS = 24.0  # complex multiply-adds per stored element and application (cost scale of `auto`)
# below this many stored numbers the kernel runs one thread: its rows are short, and two threads
# gained nothing at N = 40 (12,341 numbers: 0.80 s against 0.72-0.84 s with one, quiet machine)
# while every application waited for a descheduled thread beside a busy process (0.5-19 s);
# at N = 100 (176,851) two threads are 1.37x faster (benchmarks/permutation_vs_piqs.py)
PARALLEL_MIN = 1 << 17
# the excitation window (solve_permutation): the first one holds the initial state's highest
# excitation plus WINDOW_MARGIN; a run is redone with a window twice as wide when the population
# of its top EDGE_LEVELS excitation levels exceeds EDGE_TOL (trace 1) at some sample
WINDOW_MARGIN = 32
EDGE_LEVELS = 2
EDGE_TOL = 1e-13


class PermutationOperators:
    """What the api and the cutoff check read from a run's operators, for the block state.

    The 'basis' is the list of labels (j, k = j - m, n) of the blocks' diagonals: ``dim`` of
    them; ``sz_total``, ``mode_occupation`` and ``photon_number`` are diagonal there, ``H0``
    and ``V`` block-diagonal sparse matrices over the labels (the cutoff check tests
    conservation of the excitation number with them).
    """

    def __init__(self, form, model_graph, drive: float, charger: dict, battery_off: bool = False, initial="product"):
        self.form, self.model_graph, self.charger, self.battery_off = form, model_graph, charger, bool(battery_off)
        self.gen = PermutationLindbladian(form, drive, battery_off, needed_blocks(form.n, form.rates.local, initial))
        space = self.gen.space
        self.space, self.jumps, self.symmetry, self.n_sites = space, [], None, form.n
        self.dim = space.rows
        self.state_size = space.length
        nb = space.nb
        m = np.concatenate([np.repeat(j - np.arange(int(round(2 * j)) + 1), nb) for j in space.js])
        self.sz_total = m
        occ = np.tile(np.arange(nb, dtype=float), space.rows // nb)
        self.mode_occupation = [] if form.mode is None else [occ]
        self.photon_number = None if form.mode is None else occ
        self._levels = None

    @property
    def H0(self):
        """H_0 block-diagonal over the labels (read by the cutoff check of cavity models only)."""
        return sp.block_diag(self.gen.H0, format="csr")

    @property
    def V(self):
        """V block-diagonal over the labels (the cutoff check)."""
        return sp.block_diag(self.gen.V, format="csr")

    @property
    def parallel_work(self) -> int:
        """Work items for the thread policy (:func:`collective_qc.core.runtime.run_policy`): the
        block state's length, or 0 (one thread) below :data:`PARALLEL_MIN`."""
        return self.state_size if self.state_size >= PARALLEL_MIN else 0

    def measures(self, which) -> PermutationMeasures:
        """The state quantities of a run (ergotropy only; InputError naming another)."""
        return PermutationMeasures(self, which)

    def site_bloch(self, R) -> np.ndarray:
        """(<s^x>, <s^y>, <s^z>) of one site (Pauli s = 2S): 2 <J^a> / N by permutation symmetry."""
        from .permutation_blocks import spin_matrices

        nb, jp, jz = self.space.nb, 0j, 0.0
        for b, j in enumerate(self.space.js):
            Jz, Jp = spin_matrices(j)
            blk = self.space.block(R, b)
            ns = int(self.space.nspin[b])
            rs = blk.reshape(ns, nb, ns, nb).trace(axis1=1, axis2=3) if nb > 1 else blk
            jp += np.sum(Jp.multiply(rs.T))  # Tr[J_+ R_j]
            jz += float(np.real(np.sum(Jz.diagonal() * np.diagonal(rs))))
        return 2.0 / self.form.n * np.array([jp.real, jp.imag, jz])

    def site_ergotropy(self, R) -> float:
        """Ergotropy of one site's reduced state rho_1 = (1 + s.sigma)/2 against its own term
        (omega/2) s^z: (omega/2) s_z + (|omega|/2) |s| (energy units)."""
        s = self.site_bloch(R)
        w = self.form.omega
        return 0.5 * w * s[2] + 0.5 * abs(w) * float(np.linalg.norm(s))

    def energy(self, R) -> float:
        """Tr[H_B rho] of a flat block state."""
        return float(sum(np.real(np.sum(H.multiply(self.space.block(R, b).T))) for b, H in enumerate(self.gen.HB)))

    def ergotropy(self, R) -> float:
        """W = Tr[H_B rho] - E_passive of the full N-site state (energy units)."""
        if self._levels is None:
            self._levels = spin_levels(self.form)
        return self.energy(R) - passive_energy(self.space, self._levels, R)


class PermutationMeasures:
    """State quantities of a permutation run: ``ergotropy`` of the full N-site state and
    ``site_ergotropy``, that of one site's reduced state (the same for every site) against its
    own term (omega/2) s^z, per site (energy units)."""

    names = ["ergotropy", "site_ergotropy"]
    notes = ["site_ergotropy: ergotropy of one site's reduced state against (omega/2) s^z (per site)"]

    def __init__(self, ops, which):
        bad = [q for q in which if q != "ergotropy"]
        if bad:
            raise InputError(f"quantity {bad[0]!r} is not defined for method permutation (the l1 coherence and "
                             "the entanglement entropy depend on a basis of the d_j copies); use ergotropy")
        self.ops = ops

    def sampled(self):
        return None

    def __call__(self, state: SampledState) -> np.ndarray:
        R = state.blocks.reshape(-1)
        return np.array([self.ops.ergotropy(R), self.ops.site_ergotropy(R)])


class InitialBlocks:
    """The initial state of a permutation run (flat block state) with the InitialState interface."""

    def __init__(self, ops: PermutationOperators, kind: str):
        self.state, self._describe = initial_blocks(ops.form, ops.space, ops.gen.HB, kind)
        self.vectors = np.real(self.state[ops.space.diagonal_index()])[:, None]  # support (cutoff check)
        self.weights = np.ones(1)
        self.label = self._describe["kind"]

    def describe(self) -> dict:
        return dict(self._describe)


def solve_permutation(problem: SolveProblem, options: SolverOptions | None = None, progress=None) -> Solution:
    """Propagate the block state (and its tangent) of a permutation-invariant run.

    The propagation is confined to an *excitation window*: the rows with at most K excited sites
    (m + N/2 <= K), the others held at zero (``PermutationLindbladian.window``), starting from
    K = the initial state's highest excitation + WINDOW_MARGIN. The population of the window's
    top EDGE_LEVELS excitation levels is watched at every sample; when it exceeds EDGE_TOL the
    run stops and starts again with K doubled, up to the full ladder (no window). A run that stays
    near its initial excitations (strong collective emission, weak drive) costs what the window
    holds, not O(N^3); one that spreads pays a few short aborted starts.

    Parameters
    ----------
    problem : SolveProblem
        ``ops`` a :class:`PermutationOperators`, ``state0`` the flat initial block state;
        drive, protocol, times (1/omega0), diagonal observables over the labels, ``observe``
        (called with ``SampledState(blocks=R)``).
    options : SolverOptions
        ``series_tol``: relative truncation error per Chebyshev step (rtol = atol of DOP853 for
        smooth protocols).
    """
    options = SolverOptions() if options is None else options
    gen = problem.ops.gen
    R0 = np.ascontiguousarray(problem.state0, dtype=np.complex128).reshape(gen.shape)
    exc = gen.excitation()
    held = np.abs(np.real(R0.reshape(-1)[gen.space.diagonal_index()])) > EDGE_TOL * 1e-3
    K = int(np.max(exc[held], initial=0)) + WINDOW_MARGIN
    while True:
        gen.window(K)
        sol = _propagate(problem, options, progress, R0)
        if sol is not None:
            return sol
        K *= 2


class _WindowLeak(Exception):
    """The state reached the edge of the excitation window."""


def _propagate(problem: SolveProblem, options: SolverOptions, progress, R0) -> Solution | None:
    """One run in the generator's current window; None when the edge population exceeds EDGE_TOL."""
    from ..core.runtime import one_thread
    from .lindblad import run_generator

    gen = problem.ops.gen
    diag = problem.diagonal_observables
    n_obs = 0 if diag is None else len(diag)
    watch = None
    if gen.excitations is not None:  # one more diagonal observable: the population at the window's edge
        exc = gen.excitation()
        edge = ((exc > gen.excitations - EDGE_LEVELS) & (exc <= gen.excitations)).astype(float)
        diag = edge[None, :] if diag is None else np.vstack([np.asarray(diag, float), edge])

        def watch(row):
            if abs(row[4 + n_obs]) > EDGE_TOL:
                raise _WindowLeak

    funcs = BlockFunctionals(gen, diag)
    observe = None if problem.observe is None else \
        (lambda R: np.atleast_1d(problem.observe(SampledState(blocks=R))))
    try:
        with one_thread():
            sol = run_generator(problem, gen, funcs, (R0.copy(), np.zeros_like(R0)), observe, options.series_tol,
                                progress, watch=watch)
    except _WindowLeak:
        return None
    sol.info.update(method="permutation", blocks=len(gen.space.js), state_size=gen.space.length,
                    excitations=gen.excitations if gen.excitations is not None else gen.space.n)
    if gen.excitations is not None:
        edge_pop = sol.observables[n_obs]
        if np.max(np.abs(edge_pop)) > EDGE_TOL:  # (smooth protocols: checked after the run)
            return None
        sol.info["edge_population"] = float(np.max(np.abs(edge_pop)))
        rest = np.delete(sol.observables, n_obs, axis=0)
        sol.observables = rest if len(rest) else None
    return sol


class PermutationSolver(Solver):
    """Permutation-invariant models (identical spin-1/2 sites, uniform noise) in the Dicke-ladder basis."""

    name = "permutation"
    accepts = Accepts(noise=True, density=True)

    def declines(self, size: RunSize) -> str | None:
        if size.permutation_refusal:
            return size.permutation_refusal
        if size.permutation > 0:
            return None
        return "method 'permutation': the model is not known to be permutation invariant"

    def memory(self, size: RunSize, options: SolverOptions) -> float:
        """Twelve flat block states (state and tangent: current, two recurrence terms, sum, next;
        DOP853 about 2.5 times more), the block operators and the functionals."""
        return float(size.permutation) * 16.0 * 12 + 64.0 * size.permutation ** (2.0 / 3.0) * 40

    def cost(self, size: RunSize, options: SolverOptions) -> float:
        return APPLY_FLOPS * float(size.permutation)

    def solve(self, problem: SolveProblem, options: SolverOptions, progress=None, client=None) -> Solution:
        return solve_permutation(problem, options, progress)


SOLVER = PermutationSolver()
