"""Monte Carlo wave-function (quantum trajectory) solver with an unbiased C_Q estimator.

Between jumps the unnormalised state obeys i d psi/dt = H_eff psi with
H_eff = H_0 + lambda f(t) V - (i/2) sum_k L_k^dag L_k, and its lambda-tangent
i d phi/dt = H_eff phi + f(t) V psi. A jump happens when ||psi||^2 reaches a uniform
random threshold; the time is located by root finding on a dense output of ||psi||^2
inside the integration step (see Integrators below), the channel is drawn with probability
~ ||L_c psi||^2, and psi, phi -> L_c psi, L_c phi with one common normalisation factor. Per trajectory

    E  = <psi|H_B|psi>/||psi||^2 - E(0),   C_Q = 2 Re <psi|H_B|phi>/||psi||^2,
    P  = <psi|lambda f i[V, H_B] + D^dag(H_B)|psi>/||psi||^2,

which are unbiased for E, dE/dlambda and Tr[L(rho) H_B] (the record density is
||psi||^2 and the jump operators do not depend on lambda). Averages carry standard errors.
Requires sum_k L_k^dag L_k diagonal in the basis and monomial jump operators (all local
sigma_z, sigma_-, S^z, S^-, a of this package are).

Integrators (``integrator=``; error control on the augmented vector (psi, phi): per step the
error of psi is held below (atol + rtol) ||psi|| and that of phi below atol ||psi|| + rtol ||phi||):

* "taylor" (default): the generator is constant between protocol switches, so each step is
  exp(h A) y as a truncated Taylor series whose length is chosen a posteriori (two consecutive
  terms below tolerance, as in Al-Mohy & Higham's expmv); the step cap adapts towards ~24
  terms. The series is its own dense output: the state at a sample time or at the jump time
  inside a step is the series at theta = (t - t_step) / h, which is exactly a Taylor step of
  that length from the step start (error below the accepted step's). The jump time solves
  ||psi(theta)||^2 = r on that polynomial (Gram matrix of the terms, bisection). Steps end on
  protocol switches and on drawn jump times (state-independent decay).
* "dopri5": adaptive Dormand-Prince 5(4) (FSAL, PI step control), steps landing exactly on
  sample times, switches and drawn jump times; a jump inside an accepted step is located by
  bisection on the DOPRI5 dense output of ||psi||^2, then the state is re-integrated from the
  step start to the jump time.
* "rk4": the former fixed-step classical Runge-Kutta (step dt_max, default 0.05 / ||H_eff||),
  jump time on the cubic Hermite dense output of ||psi||^2 (exact end derivatives
  -<psi|Gamma|psi>).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..errors import InputError
from ..operators import Operators
from ..protocols import Protocol
from .lindblad import _adjoint_dissipator

__all__ = ["TrajectorySolution", "solve_trajectories", "trajectory_keys", "run_batch"]


class TrajectorySolution:
    def __init__(self, times, energy, power, capacitance, e_err, p_err, c_err, e0, ntraj, jumps,
                 diagonals=None, diagonals_stderr=None):
        self.times, self.energy, self.power, self.capacitance = times, energy, power, capacitance
        self.energy_stderr, self.power_stderr, self.capacitance_stderr = e_err, p_err, c_err
        self.e0, self.ntraj, self.mean_jumps = e0, ntraj, jumps
        self.diagonals, self.diagonals_stderr = diagonals, diagonals_stderr
        self.evaluate = None


def trajectory_keys(seed: int, ntraj: int) -> np.ndarray:
    """64-bit stream keys from SeedSequence(seed).spawn-style (seed, trajectory index)."""
    out = np.empty(ntraj, dtype=np.uint64)
    for i in range(ntraj):
        out[i] = np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1, dtype=np.uint64)[0]
    return out


def _csr(A):
    A = sp.csr_matrix(A, dtype=np.complex128)
    A.sort_indices()
    return A.data, A.indices.astype(np.int64), A.indptr.astype(np.int64)


def _monomial(ops: Operators):
    dim = ops.dim
    nch = max(len(ops.jumps), 1)
    tgt = np.zeros((nch, dim), dtype=np.int64)
    val = np.zeros((nch, dim), dtype=np.complex128)
    for c, j in enumerate(ops.jumps):
        L = sp.csc_matrix(j.matrix, dtype=np.complex128)
        L.eliminate_zeros()
        counts = np.diff(L.indptr)
        if np.any(counts > 1):
            raise InputError(f"jump operator {j.kind} on {j.target!r} is not local (monomial); use --method exact")
        cols = np.flatnonzero(counts)
        tgt[c, cols] = L.indices[L.indptr[cols]]
        val[c, cols] = L.data[L.indptr[cols]]
    return tgt, val


def _grid(times, protocol: Protocol, dt_max):
    pts = sorted(set(float(t) for t in times) | set(protocol.breakpoints(0.0, float(times[-1]))))
    grid = [pts[0]]
    for a, b in zip(pts[:-1], pts[1:]):
        n = max(1, int(np.ceil((b - a) / dt_max)))
        grid.extend(a + (b - a) * np.arange(1, n + 1) / n)
    grid = np.array(grid)
    grid[np.searchsorted(grid, times)] = times  # exact sample times
    sample_at = -np.ones(len(grid), dtype=np.int64)
    sample_at[np.searchsorted(grid, times)] = np.arange(len(times))
    fgrid = np.array([protocol.value(0.5 * (a + b)) for a, b in zip(grid[:-1], grid[1:])] or [protocol.value(0.0)])
    return grid, fgrid, sample_at


def run_batch(payload: dict, keys: np.ndarray, start: int = 0):
    """Integrate the trajectories with stream keys `keys` (plain arrays in, plain arrays out).

    Top level and pure, so it runs on Dask workers: results depend only on the keys (and, for
    stored states, on the global index ``start + j`` of trajectory j, which picks its group).
    """
    from ._kernels import run_trajectories, run_trajectories_adaptive, run_trajectories_taylor

    n, nt = len(keys), payload["nt"]
    e, p, c = np.zeros((n, nt)), np.zeros((n, nt)), np.zeros((n, nt))
    jumps = np.zeros(n, dtype=np.int64)
    d = np.zeros((n, payload["dobs"].shape[0], nt))
    store = payload.get("store_states", False)
    psi = np.zeros((n, nt, len(payload["gam"])) if store else (n, 0, 0), dtype=np.complex128)
    args = (*payload["mats"], payload["gam"], payload["tgt"], payload["val"], payload["psi0s"],
            payload["p0cum"], payload["drive"], payload["grid"], payload["fgrid"], payload["sample_at"],
            np.ascontiguousarray(keys), payload["e0"], e, p, c, jumps, payload["uniform_rate"],
            payload["dobs"], d, psi)
    adaptive = payload.get("adaptive")
    if adaptive is None:  # fixed-step RK4 on the sub-divided grid
        run_trajectories(*args)
    else:
        nfev = np.zeros(n, dtype=np.int64)
        kernel = run_trajectories_taylor if payload.get("integrator") == "taylor" else run_trajectories_adaptive
        kernel(*args, *adaptive, nfev)
    if store:  # per-group sums of |psi><psi| at every sample (groups: trajectory index mod n_groups)
        groups = payload["groups"]
        g_of = (start + np.arange(n)) % groups
        rho = np.zeros((groups, nt, psi.shape[2], psi.shape[2]), dtype=np.complex128)
        for j in range(n):  # element-wise accumulation: no BLAS reductions, same bits on any machine
            rho[g_of[j]] += psi[j][:, :, None] * psi[j].conj()[:, None, :]
        return e, p, c, jumps, d, rho
    return e, p, c, jumps, d


def solve_trajectories(ops: Operators, psi0: np.ndarray, weights: np.ndarray, drive: float,
                       protocol: Protocol, times: np.ndarray, *, ntraj: int = 500, seed: int = 0,
                       dt_max: float | None = None, progress=None, diagonals=None,
                       client=None, state_measure=None, rtol: float = 1e-8, atol: float = 1e-8,
                       integrator: str | None = None) -> TrajectorySolution:
    """Average `ntraj` trajectories; returns means and standard errors of E, P, C_Q.

    client : dask.distributed.Client, optional
        Run batches of trajectories on its workers. Trajectory i uses the stream of (seed, i)
        only, so the result is bitwise identical to the in-process run.
    state_measure : callable rho (dim, dim) -> 1-d array, optional
        Nonlinear state quantities (ergotropy, ...) evaluated on the trajectory-averaged density
        matrix at each sample (consistent, bias O(1/ntraj)); standard errors by a delete-one-group
        jackknife over groups of trajectories (index mod G). Needs G n_times dim^2 complex numbers.

    diagonals : (n_obs, dim) real array, optional
        Diagonal observables (e.g. Fock-level populations) averaged alongside, with errors.
    rtol, atol : float
        Per-step error tolerances of the adaptive integrator, relative to the state norm (see
        the module docstring).
    integrator : "taylor" | "dopri5" | "rk4", optional
        Default: module variable ``INTEGRATOR`` ("taylor"; "dopri5" where the per-thread Taylor
        terms would exceed TAYLOR_BUFFER_MAX bytes, i.e. dim above ~200,000). dt_max is the fixed RK4 step, or
        the largest adaptive step (default: unlimited for piecewise-constant protocols).
    """
    if integrator is None:
        integrator = INTEGRATOR
        if integrator == "taylor" and _taylor_buffer_bytes(ops.dim) > TAYLOR_BUFFER_MAX:
            integrator = "dopri5"  # large spaces: 10 vectors per thread instead of the series terms
    if integrator not in INTEGRATORS:
        raise InputError(f"integrator must be one of {INTEGRATORS}, got {integrator!r}")
    if not (rtol > 0 and atol >= 0):
        raise InputError(f"need rtol > 0 and atol >= 0, got rtol={rtol!r}, atol={atol!r}")
    dim = ops.dim
    dobs = np.zeros((0, dim)) if diagonals is None else np.ascontiguousarray(diagonals, dtype=float)
    H0 = ops.H0.astype(np.complex128)
    gam_op = sp.csr_matrix((dim, dim), dtype=np.complex128)
    for j in ops.jumps:
        L = j.matrix.astype(np.complex128)
        gam_op = gam_op + (L.conj().T @ L)
    gam_op = sp.csr_matrix(gam_op)
    off = gam_op - sp.diags(gam_op.diagonal())
    if off.count_nonzero() and np.max(np.abs(off.data)) > 1e-12:
        raise InputError("sum_k L_k^dag L_k is not diagonal in the basis; use --method exact")
    gam = gam_op.diagonal().real.copy()
    uniform_rate = 0.0
    if len(ops.jumps) and np.ptp(gam) <= 1e-12 * max(1.0, gam.max()):
        uniform_rate = float(gam[0])  # e.g. spin-1/2 dephasing alone: state-independent norm decay
        gam = np.zeros_like(gam)
    HB = ops.H_B.astype(np.complex128)
    K0 = _adjoint_dissipator(ops, HB)
    KV = (1j * (ops.V @ HB - HB @ ops.V)).tocsr()
    tgt, val = _monomial(ops)
    norm = max(float(abs(H0).sum(axis=1).max() + abs(drive) * abs(ops.V).sum(axis=1).max()
                     + 0.5 * gam_op.diagonal().real.max()), 1e-12)
    adaptive = None
    if integrator == "rk4":
        if dt_max is None:
            dt_max = 0.05 / norm
        grid_step = dt_max
    else:
        h_max = np.inf if dt_max is None else float(dt_max)
        # only sample times and switches: smooth envelopes (none yet) keep the RK4 sub-division
        grid_step = np.inf if getattr(protocol, "piecewise_constant", True) else 0.05 / norm
        if integrator == "taylor":  # step cap: h ||A|| <= 2 at first, adapted per trajectory
            h_init = 2.0 / norm
        else:
            h_init = min(2.0 * max(rtol, atol) ** 0.2, 0.5) / norm
        adaptive = (float(rtol), float(atol), float(min(h_init, h_max)), h_max)
    grid, fgrid, sample_at = _grid(np.asarray(times, float), protocol, grid_step)
    psi0s = np.ascontiguousarray(psi0.astype(np.complex128))
    p0cum = np.cumsum(weights) / np.sum(weights)
    e0 = float(weights @ np.real(np.einsum("im,im->m", psi0.conj(), ops.H_B @ psi0)))
    keys = trajectory_keys(seed, ntraj)
    nt = len(times)
    payload = {
        "mats": (*_csr(H0), *_csr(ops.V), *_csr(HB), *_csr(K0), *_csr(KV)), "gam": gam, "tgt": tgt, "val": val,
        "psi0s": psi0s, "p0cum": p0cum, "drive": float(drive), "grid": grid, "fgrid": fgrid,
        "sample_at": sample_at, "e0": e0, "uniform_rate": uniform_rate, "dobs": dobs, "nt": nt,
        "adaptive": adaptive, "integrator": integrator,
    }
    rho_groups = None
    if state_measure is not None:
        per_group = nt * dim * dim * 16
        groups = int(min(8, STATE_MEMORY // max(per_group, 1)))
        if groups < 2:
            raise InputError(f"state quantities from trajectories need 2 x {nt} x {dim}^2 complex numbers "
                             f"(more than {STATE_MEMORY / 2**30:.0f} GiB); use fewer sample times or method 'exact'")
        payload.update(store_states=True, groups=groups)
        rho_groups = np.zeros((groups, nt, dim, dim), dtype=np.complex128)
    out_e = np.zeros((ntraj, nt))
    out_p = np.zeros((ntraj, nt))
    out_c = np.zeros((ntraj, nt))
    jumps = np.zeros(ntraj, dtype=np.int64)
    out_d = np.zeros((ntraj, dobs.shape[0], nt))

    pending, order = {}, []  # density-matrix sums are added in batch order (bitwise reproducible)

    def store(sl, parts):
        out_e[sl], out_p[sl], out_c[sl], jumps[sl], out_d[sl] = parts[:5]
        if rho_groups is not None:
            pending[sl.start] = parts[5]
            while order and order[0] in pending:
                rho_groups[...] += pending.pop(order.pop(0))

    if client is None:
        batch = STATE_BATCH if rho_groups is not None else max(1, min(ntraj, 64))
        order.extend(range(0, ntraj, batch))
        for start in range(0, ntraj, batch):
            sl = slice(start, min(ntraj, start + batch))
            store(sl, run_batch(payload, keys[sl], sl.start))
            if progress is not None:
                progress(sl.stop, ntraj)
    else:
        # Dask: the operators travel once per worker (scatter), each task carries only its keys
        from distributed import as_completed

        n_workers = max(1, len(client.scheduler_info().get("workers", {})))
        batch = STATE_BATCH if rho_groups is not None else max(8, int(np.ceil(ntraj / (4 * n_workers))))
        order.extend(range(0, ntraj, batch))
        shared = client.scatter(payload, broadcast=True)
        futures = {}
        for start in range(0, ntraj, batch):
            sl = slice(start, min(ntraj, start + batch))
            futures[client.submit(run_batch, shared, keys[sl], sl.start, pure=False)] = sl
        done = 0
        for fut in as_completed(futures):
            sl = futures[fut]
            store(sl, fut.result())
            done += sl.stop - sl.start
            if progress is not None:
                progress(done, ntraj)

    def stats(a):
        return a.mean(axis=0), (a.std(axis=0, ddof=1) / np.sqrt(ntraj) if ntraj > 1 else np.full(nt, np.inf))

    (e, ee), (p, pe), (c, ce) = stats(out_e), stats(out_p), stats(out_c)
    d, de = stats(out_d)
    if rho_groups is not None:
        q, qe = _jackknife_states(rho_groups, ntraj, state_measure)
        d = np.concatenate([d, q]) if d.size else q
        de = np.concatenate([de, qe]) if de.size else qe
    return TrajectorySolution(np.asarray(times, float), e, p, c, ee, pe, ce, e0, ntraj, float(jumps.mean()),
                              d, de)


INTEGRATORS = ("taylor", "dopri5", "rk4")
INTEGRATOR = "taylor"  # default of solve_trajectories(integrator=None); "rk4": the fixed-step kernel
TAYLOR_BUFFER_MAX = 256 << 20  # bytes of Taylor terms per thread before the default falls back to dopri5


def _taylor_buffer_bytes(dim: int) -> int:
    from ._kernels import TAYLOR_M_MAX

    return (TAYLOR_M_MAX + 1) * 2 * dim * 16


STATE_MEMORY = 1 << 30  # bytes for the per-group density matrices of trajectory state quantities
STATE_BATCH = 32  # fixed batch boundaries when states are stored: sums associate the same way everywhere


def _jackknife_states(rho_groups, ntraj, measure):
    """Quantities of the averaged state and their delete-one-group jackknife standard errors."""
    groups, nt = rho_groups.shape[:2]
    counts = np.array([len(range(g, ntraj, groups)) for g in range(groups)], dtype=float)
    total = rho_groups.sum(axis=0)
    full = np.array([measure(total[k] / ntraj) for k in range(nt)]).T  # (n_q, nt)
    loo = np.array([[measure((total[k] - rho_groups[g, k]) / (ntraj - counts[g])) for k in range(nt)]
                    for g in range(groups)])  # (groups, nt, n_q)
    loo = loo.transpose(0, 2, 1)
    err = np.sqrt((groups - 1) / groups * np.sum((loo - loo.mean(axis=0)) ** 2, axis=0))
    return full, err
