"""Monte Carlo wave-function (quantum trajectory) solver with an unbiased C_Q estimator.

Between jumps the unnormalised state obeys i d psi/dt = H_eff psi with
H_eff = H_0 + lambda f(t) V - (i/2) sum_k L_k^dag L_k, and its lambda-tangent
i d phi/dt = H_eff phi + f(t) V psi (the paper's C_Q = dE/dlambda, Eq. (9), by forward
sensitivity). A jump happens when ||psi||^2 reaches a uniform random threshold; the time is
located on the step's own dense output, the channel is drawn with probability ~ ||L_c psi||^2,
and psi, phi -> L_c psi, L_c phi with one common normalisation factor. Per trajectory

    E  = <psi|H_B|psi>/||psi||^2 - E(0),   C_Q = 2 Re <psi|H_B - E(0)|phi>/||psi||^2,
    P  = <psi|lambda f i[V, H_B] + D^dag(H_B)|psi>/||psi||^2,

which are unbiased for E, dE/dlambda and Tr[L(rho) H_B] (the record density is
||psi||^2, the jump operators do not depend on lambda, and H_B - E(0) is a control variate
that removes the heavy tail of rare jump records). Averages carry standard errors.

A thermal state sampled by typical states (``problem.typical``: ntraj members psi_k with weights
w_k, :func:`collective_qc.physics.states.typical_thermal_state`) starts trajectory k from member
k (:func:`typical_routes`), and the averages are the ratio estimator sum_k w_k X_k / sum_k w_k
with delete-one jackknife errors over the trajectories (each one sample of the pair typical
state, jump record; :func:`collective_qc.physics.states.ratio_jackknife`), E per trajectory
from its own initial energy.
Requires sum_k L_k^dag L_k diagonal in the basis and monomial jump operators (all local
sigma_z, sigma_-, S^z, S^-, a of this package are).

Integrators (``SolverOptions.integrator``; the step methods live in ``solvers.kernels``):

* "chebyshev" ("auto" for piecewise-constant protocols): exponential steps by a Chebyshev
  series on the spectral interval of H_0 + lambda f V, one product per term, dense output
  for sample and jump times (``kernels.chebyshev``).
* "dopri5" ("auto" for smooth envelopes, or when the series terms would not fit in
  CHEB_BUFFER_MAX bytes per thread): adaptive Dormand-Prince 5(4), f(t) at the stage times.
* "rk4": fixed-step classical Runge-Kutta (step dt_max, default 0.05 / ||H_eff||), the
  reference of the tests.

Error control (chebyshev, dopri5) on the augmented vector: per step the error of psi below
(atol + rtol) ||psi|| and that of phi below atol ||psi|| + rtol ||phi||.

Cost (open XXZ ring N = 10, t in [0, 20], 201 samples, one thread): about 8.3 ms per trajectory:
~400 products of the augmented generator at ~8 us (40 %), recording E, P, C_Q at the samples
(dense output and one vector pass for the three products, 41 %), jump times, jumps and step
overhead (19 %) (``benchmarks/trajectory_profile.py``). Each trajectory is advanced alone (one
matrix read per product); ``benchmarks/open_vs_qutip.py`` measures against QuTiP.
"""

from __future__ import annotations

import numpy as np

from ..core.errors import InputError
from ..physics.operators import Operators
from ..physics.protocols import Protocol
from . import trajectory_setup as S
from .contract import Accepts, RunSize, SampledState, SolveProblem, Solver
from .lindblad import adjoint_dissipator
from .solution import Solution, SolverOptions

__all__ = ["solve_trajectories", "TrajectorySolver", "SOLVER", "trajectory_keys", "run_batch", "choose_integrator",
           "typical_routes"]

SUPPORTED = ("chebyshev", "dopri5", "rk4")
CHEB_M_MAX = 56  # most terms of one Chebyshev step (measured best of 24-80 at N = 10)
CHEB_M_TARGET = 44  # the step cap adapts towards this many terms
CHEB_BUFFER_MAX = 256 << 20  # bytes of series terms per thread before "auto" falls back to dopri5
STATE_MEMORY = 1 << 30  # bytes for the per-group density matrices of trajectory state quantities
STATE_BATCH = 32  # fixed batch boundaries when states are stored: sums associate the same way everywhere


def state_groups(n_t: int, dim: int) -> int:
    """Groups of trajectories (index mod G) whose density-matrix sums are kept for state quantities:
    at most 8 within STATE_MEMORY; below 2 the run cannot estimate errors (refused)."""
    return int(min(8, STATE_MEMORY // max(n_t * dim * dim * 16, 1)))


def state_memory(n_t: int, dim: int) -> float:
    """Peak bytes of the stored-state path of a trajectory run: the G groups' sums, one batch's sums
    (in process; Dask tasks return theirs), their total for the jackknife and one batch's states."""
    one = 16.0 * n_t * dim * dim
    return (2 * max(state_groups(n_t, dim), 2) + 1) * one + 16.0 * STATE_BATCH * n_t * dim


def check_state_groups(n_t: int, dim: int) -> None:
    """InputError when the density matrices of two groups exceed STATE_MEMORY."""
    if state_groups(n_t, dim) < 2:
        raise InputError(f"state quantities from trajectories need 2 x {n_t} x {dim}^2 complex numbers "
                         f"(more than {STATE_MEMORY / 2**30:.0f} GiB); use fewer sample times or method 'exact'")


def trajectory_keys(seed: int, ntraj: int) -> np.ndarray:
    """64-bit stream keys from SeedSequence(seed).spawn-style (seed, trajectory index)."""
    out = np.empty(ntraj, dtype=np.uint64)
    for i in range(ntraj):
        out[i] = np.random.SeedSequence(seed, spawn_key=(i,)).generate_state(1, dtype=np.uint64)[0]
    return out


def typical_routes(psi0: np.ndarray, seed: int, ntraj: int):
    """(members in slot order, cumulative table p0cum) that start trajectory k from member k of
    psi0 (dim, ntraj): the kernel draws a trajectory's member with the first number u_k of its
    stream, m = the first slot with u_k <= p0cum[m] (``kernels.common.draw_member``), so slot r
    holds the member of the trajectory with the r-th smallest u_k and p0cum is the sorted u_k.
    Checked with the kernel's own draw (RuntimeError if it would start any trajectory elsewhere)."""
    from .kernels.common import draw_member, splitmix

    if psi0.shape[1] != ntraj:
        raise InputError(f"typical states: {psi0.shape[1]} members for {ntraj} trajectories (one each)")
    keys = trajectory_keys(seed, ntraj)
    u = np.array([splitmix(np.uint64(k))[1] for k in keys])
    order = np.argsort(u, kind="stable")
    table = np.ascontiguousarray(u[order])
    probe = np.ascontiguousarray(order[None, :].astype(np.complex128))  # slot r -> its member's index
    y = np.zeros(2, dtype=np.complex128)
    for k, key in enumerate(keys):
        draw_member(np.uint64(key), table, probe, y, 1)
        if int(y[0].real) != k:
            raise RuntimeError(f"typical states: trajectory {k} would start from member {int(y[0].real)}")
    return np.ascontiguousarray(psi0[:, order].astype(np.complex128)), table


def choose_integrator(options: SolverOptions, protocol: Protocol, dim: int) -> str:
    """The step method for these options: "auto" picks Chebyshev steps (fewest products per unit
    time, measured in benchmarks/trajectory_integrator.py) unless the envelope is smooth or the
    series terms would not fit in memory; InputError for one that cannot run this problem."""
    name = options.integrator
    smooth = not getattr(protocol, "piecewise_constant", True)
    if name == "auto":
        big = (CHEB_M_MAX + 1) * 2 * dim * 16 > CHEB_BUFFER_MAX
        return "dopri5" if smooth or big else "chebyshev"
    if name not in SUPPORTED:
        raise InputError(f"the trajectory solver's integrators are {', '.join(SUPPORTED)} (or auto), got {name!r}")
    if name == "chebyshev" and smooth:
        raise InputError("integrator 'chebyshev' needs a piecewise-constant protocol; use dopri5, rk4 or auto")
    return name


def run_batch(payload: dict, keys: np.ndarray, start: int = 0):
    """Integrate the trajectories with stream keys `keys` (plain arrays in, plain arrays out).

    Top level and pure, so it runs on Dask workers: results depend only on the keys (and, for
    stored states, on the global index ``start + j`` of trajectory j, which picks its group).
    Returns E, P, C (n, n_t), stats (n, 3: jumps, products, steps), diagonal_observables (n, n_obs, n_t)
    and, when states are stored, the per-group sums of |psi><psi| (groups, n_t, dim, dim).
    """
    from .kernels import group_density_sums, run_trajectories
    from .kernels.forms import kernel_form
    from .kernels.packs import Init, Mats, Noise, Params, Records, Sched

    noise = Noise(*payload["noise"])
    n, nt, dim = len(keys), payload["nt"], len(noise.gam)
    e, p, c = np.zeros((n, nt)), np.zeros((n, nt)), np.zeros((n, nt))
    stats = np.zeros((n, 3), dtype=np.int64)
    d = np.zeros((n, payload["n_obs"], nt))
    store = payload.get("store_states", False)
    psi = np.zeros((n, nt, dim) if store else (n, 0, 0), dtype=np.complex128)
    # the kernel form this process (a Dask worker too) can build: the same bits either way
    mats = Mats(*payload["mats"][:len(Mats._fields) - 1], kernel_form())
    run_trajectories(mats, noise, Init(*payload["init"]), Sched(*payload["sched"]),
                     Params(*payload["par"]), np.ascontiguousarray(keys), Records(e, p, c, d, psi), stats)
    if not store:
        return e, p, c, stats, d
    groups = payload["groups"]  # per-group sums of |psi><psi| at every sample (group: index mod groups)
    rho = np.zeros((groups, nt, dim, dim), dtype=np.complex128)
    group_density_sums(psi, (start + np.arange(n, dtype=np.int64)) % groups, rho)  # no BLAS: same bits anywhere
    return e, p, c, stats, d, rho


def _pack_operators(ops: Operators, HB) -> tuple:
    """The arrays of the kernels' ``kernels.packs.Mats`` (its form aside: each process running the
    batch adds the kernel form it can build, in :func:`run_batch`): H0, V, H_B and K0 = D^dag(H_B)
    as CSR rows (H0, H_B and K0 without their diagonals, H_B and K0 on one pattern), V's flip
    form if it has one, the diagonals (V's stays in its rows: zeros)."""
    (h0, hb, k0), (d0, dhb, dk0) = S.split_diagonals([ops.H0, HB, adjoint_dissipator(ops, HB)])
    cd, ci, cp, dg = S.pack_csr([h0, ops.V, *S.common_pattern(hb, k0)], [d0, np.zeros(ops.dim), dhb, dk0])
    xm, xc = S.charger_flips(ops.V)
    return cd, ci, cp, xm, xc, dg


def build_payload(problem: SolveProblem, options: SolverOptions, integrator: str) -> dict:
    """Everything the kernels need for the problem, as plain arrays in the kernels' named packs
    (``kernels.packs``; sent once to each Dask worker)."""
    from .kernels import CHEBYSHEV, DOPRI5, RK4
    from .kernels.packs import Init, Noise, Params, Sched

    ops, psi0, weights, drive, protocol = problem.ops, problem.psi0, problem.weights, problem.drive, problem.protocol
    times, dim = np.asarray(problem.times, float), ops.dim
    dobs = (np.zeros((0, dim)) if problem.diagonal_observables is None
            else np.ascontiguousarray(problem.diagonal_observables, dtype=float))
    tgt, val = S.monomial_jumps(ops)
    gam, uniform_rate = S.decay_rates(ops, tgt, val)
    HB = ops.H_B.astype(np.complex128)
    norm = max(float(abs(ops.H0).sum(axis=1).max() + abs(drive) * abs(ops.V).sum(axis=1).max()
                     + 0.5 * gam.max(initial=0.0)), 1e-12)
    h_max = np.inf if options.dt_max is None else float(options.dt_max)
    stops, fseg = S.schedule(times, protocol, stop_at_samples=integrator != "chebyshev")
    if integrator == "chebyshev":
        spec = S.chebyshev_spec(ops, drive, fseg, gam)
        h_init = 0.5 * CHEB_M_TARGET / spec[:, 2].max()
    else:
        spec = np.zeros((len(fseg), 3))
        h_init = 0.05 / norm if integrator == "rk4" else min(2.0 * max(options.rtol, options.atol) ** 0.2, 0.5) / norm
        if integrator == "rk4" and options.dt_max is not None:
            h_init = float(options.dt_max)
    e0 = float(weights @ np.real(np.einsum("im,im->m", psi0.conj(), HB @ psi0)))
    method = {"chebyshev": CHEBYSHEV, "dopri5": DOPRI5, "rk4": RK4}[integrator]
    m_max = CHEB_M_MAX if integrator == "chebyshev" else 0
    members = typical_routes(psi0, options.seed, options.ntraj) if problem.typical else (
        np.ascontiguousarray(psi0.astype(np.complex128)), np.cumsum(weights) / np.sum(weights))
    return {
        "mats": _pack_operators(ops, HB),
        "noise": Noise(gam, tgt, val, np.ascontiguousarray((val.conj() * val).real.T)),
        "init": Init(*members, dobs),
        "sched": Sched(stops, fseg, spec, np.asarray(times, float), S.sample_drive(times, protocol),
                       S.envelope_table(protocol, 0.0, float(times[-1]))),
        "par": Params(*(float(v) for v in (drive, e0, uniform_rate, options.rtol, options.atol, min(h_init, h_max),
                                           h_max)), method, m_max, CHEB_M_TARGET),
        "nt": len(times), "n_obs": dobs.shape[0], "e0": e0,
    }


def solve_trajectories(problem: SolveProblem, options: SolverOptions | None = None, progress=None,
                       client=None) -> Solution:
    """Average ``options.ntraj`` trajectories: E, P, C_Q with standard errors, as a Solution.

    Parameters
    ----------
    problem : SolveProblem
        Operators with their jumps, initial mixture psi0 (dim, n_members) and weights (a member
        is drawn per trajectory), drive lambda (energy units), protocol f(t), sample times
        (1/omega0), diagonal observables (e.g. Fock-level populations; averaged alongside, with
        errors) and ``observe``: non-negative nonlinear state quantities (ergotropy, ...) of the
        trajectory-averaged density matrix at each sample, bias-corrected and with standard
        errors by a delete-one-group jackknife over groups of trajectories (index mod G; see
        ``_jackknife_states``); needs G n_times dim^2 complex numbers.
    options : SolverOptions
        integrator ("auto" | "chebyshev" | "dopri5" | "rk4"), rtol, atol, ntraj, seed, dt_max;
        block: trajectories per kernel call or Dask task (0: 64 in process, about ntraj / (4
        workers) on Dask). Each thread advances one trajectory at a time; results do not depend
        on block, threads or workers.
    client : dask.distributed.Client, optional
        Run batches of trajectories on its workers. Trajectory i uses the stream of (seed, i)
        only, so the result is bitwise identical to the in-process run.

    Returns
    -------
    Solution with observables = diagonal_observables then state quantities, and info: method, integrator, ntraj,
    seed, mean_jumps, steps and products (operator products per trajectory, each one application
    of the augmented generator, i.e. H0 and V on psi and phi; recording adds three single
    products per sample).
    """
    options = SolverOptions() if options is None else options
    ops, times = problem.ops, np.asarray(problem.times, float)
    integrator = choose_integrator(options, problem.protocol, ops.dim)
    payload = build_payload(problem, options, integrator)
    ntraj, nt, dim = options.ntraj, len(times), ops.dim
    rho_groups = None
    if problem.observe is not None and problem.typical:
        raise InputError("state quantities are not computed from a thermal state sampled by typical states")
    if problem.observe is not None:
        check_state_groups(nt, dim)
        groups = state_groups(nt, dim)
        payload.update(store_states=True, groups=groups)
        rho_groups = np.zeros((groups, nt, dim, dim), dtype=np.complex128)
    e, p, c, stats, d = _run_all(payload, trajectory_keys(options.seed, ntraj), rho_groups, client, progress,
                                 options.block)

    if problem.typical:
        (em, ee), (pm, pe), (cm, ce), (dm, de), jack = _typical_averages(problem, payload["e0"], e, p, c, d)
    else:
        (em, ee), (pm, pe), (cm, ce), (dm, de) = _mean_err(e), _mean_err(p), _mean_err(c), _mean_err(d)
        jack = jackknife_curves((e, p, c))
    if rho_groups is not None:
        if hasattr(progress, "unit"):  # a Progress: the second phase is counted in its own unit
            progress.unit = "state evaluations"
        q, qe = _jackknife_states(rho_groups, ntraj, lambda rho: problem.observe(SampledState(rho=rho)), progress)
        dm = np.concatenate([dm, q]) if dm.size else q
        de = np.concatenate([de, qe]) if de.size else qe
    info = {"method": "trajectories", "integrator": integrator, "ntraj": int(ntraj), "seed": int(options.seed),
            "mean_jumps": float(stats[:, 0].mean()), "products": float(stats[:, 1].mean()),
            "steps": float(stats[:, 2].mean()), "record_products_per_sample": 3,
            "rtol": options.rtol, "atol": options.atol}
    if problem.typical:
        info["typical_states"] = int(ntraj)
    return Solution(times, em, pm, cm, payload["e0"], ee, pe, ce, dm, de, None, info, jackknife=jack)


def _mean_err(a):
    """Mean over trajectories (axis 0) and its standard error."""
    n = a.shape[0]
    return a.mean(axis=0), (a.std(axis=0, ddof=1) / np.sqrt(n) if n > 1 else np.full(a.shape[1:], np.inf))


def _typical_averages(problem: SolveProblem, e0: float, e, p, c, d):
    """(mean, error) of E, P, C and the diagonal observables by the ratio estimator over the
    trajectories of a typical-state run (trajectory k from member k, weight w_k), and the
    jackknife curves (3, G, n_t); E per trajectory from its own initial energy <psi_k|H_B|psi_k>."""
    from ..physics.states import ratio_jackknife

    psi0, w = problem.psi0, problem.weights
    h0 = np.real(np.einsum("im,im->m", psi0.conj(), problem.ops.H_B @ psi0))
    out, reps = [], []
    for x in (e + (e0 - h0)[:, None], p, c):
        mean, err, rep = ratio_jackknife(w, x)
        out.append((mean, err))
        reps.append(rep)
    dm, de, _ = ratio_jackknife(w, d)
    return (*out, (dm, de), np.stack(reps))


def _run_all(payload, keys, rho_groups, client, progress, block):
    """All trajectories in batches (in process or on Dask workers); per-trajectory arrays."""
    ntraj, nt = len(keys), payload["nt"]
    e, p, c = np.zeros((ntraj, nt)), np.zeros((ntraj, nt)), np.zeros((ntraj, nt))
    stats = np.zeros((ntraj, 3), dtype=np.int64)
    d = np.zeros((ntraj, payload["n_obs"], nt))
    pending, order = {}, []  # density-matrix sums are added in batch order (bitwise reproducible)

    def store(sl, parts):
        e[sl], p[sl], c[sl], stats[sl], d[sl] = parts[:5]
        if rho_groups is not None:
            pending[sl.start] = parts[5]
            while order and order[0] in pending:
                rho_groups[...] += pending.pop(order.pop(0))

    if client is None:
        batch = STATE_BATCH if rho_groups is not None else (block or max(1, min(ntraj, 64)))
        order.extend(range(0, ntraj, batch))
        for start in range(0, ntraj, batch):
            sl = slice(start, min(ntraj, start + batch))
            store(sl, run_batch(payload, keys[sl], sl.start))
            if progress is not None:
                progress(sl.stop, ntraj)
        return e, p, c, stats, d
    from distributed import as_completed  # operators travel once per worker, each task its keys

    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    batch = STATE_BATCH if rho_groups is not None else (block or max(8, int(np.ceil(ntraj / (4 * n_workers)))))
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
    return e, p, c, stats, d


JACKKNIFE_GROUPS = 16  # groups of trajectories (index mod G) for the jackknife of figures of merit


def jackknife_curves(series, groups: int = JACKKNIFE_GROUPS) -> np.ndarray | None:
    """Per-trajectory samples, a sequence of (ntraj, n_t) arrays -> (n_series, G, n_t): the averages
    over all trajectories outside group g (trajectory index mod G, G = min(groups, ntraj)); None
    for a single trajectory. A quantity f computed from the averaged curves then has the jackknife
    error sqrt((G - 1) / G sum_g (f_g - mean f_g)^2) with f_g = f(curves without group g). No copy
    of the samples is made (they can be the largest arrays of a run)."""
    ntraj, nt = series[0].shape
    g_count = min(groups, ntraj)
    if g_count < 2:
        return None
    out = np.empty((len(series), g_count, nt))
    for k, x in enumerate(series):
        total = x.sum(axis=0)
        for g in range(g_count):
            out[k, g] = (total - x[g::g_count].sum(axis=0)) / (ntraj - len(range(g, ntraj, g_count)))
    return out


def _jackknife_states(rho_groups, ntraj, measure, progress=None):
    """Quantities of the averaged state, bias-corrected by the delete-one-group jackknife, and
    their jackknife standard errors.

    With theta the quantity of the full average and theta_(g) that without group g (G non-empty
    groups), the estimate is G theta - (G - 1) mean_g theta_(g): a bias a / ntraj + O(1/ntraj^2)
    of a smooth quantity cancels at leading order (e.g. (Tr rho A)^2 comes out unbiased for equal
    groups), clipped at 0 (the quantities are non-negative: a negative estimate is round-off or
    noise). Standard error sqrt((G - 1) / G sum_g (theta_(g) - mean)^2)."""
    groups, nt = rho_groups.shape[:2]
    counts = np.array([len(range(g, ntraj, groups)) for g in range(groups)], dtype=float)
    used = np.flatnonzero(counts > 0)  # fewer trajectories than groups: the empty groups are no samples
    total = rho_groups.sum(axis=0)

    def state(i):  # i = q nt + k: the full average (q = 0) or the average without group used[q - 1]
        q, k = divmod(i, nt)
        if q == 0:
            return total[k] / ntraj
        g = used[q - 1]
        return (total[k] - rho_groups[g, k]) / (ntraj - counts[g])

    vals = np.array(_evaluate(measure, state, (len(used) + 1) * nt, progress))  # (n_eval, n_q)
    full = vals[:nt].T  # (n_q, nt)
    loo = vals[nt:].reshape(len(used), nt, -1).transpose(0, 2, 1)  # (G, n_q, nt)
    n = len(used)
    mean = loo.mean(axis=0)
    err = np.sqrt((n - 1) / n * np.sum((loo - mean) ** 2, axis=0))
    return np.maximum(n * full - (n - 1) * mean, 0.0), err  # NaN stays NaN


def _evaluate(measure, state, count, progress=None) -> list:
    """[measure(state(i)) for i in range(count)] with progress (done, count); one state in memory
    at a time (threads measured no faster: NumPy's eigvalsh holds the GIL)."""
    out = []
    if progress is not None:
        progress(0, count)  # the phase starts (a Progress restarts its clock)
    for i in range(count):
        out.append(measure(state(i)))
        if progress is not None:
            progress(i + 1, count)
    return out


class TrajectorySolver(Solver):
    """Quantum-jump trajectories (noise, statistical): one state vector and its tangent per trajectory."""

    name = "trajectories"
    accepts = Accepts(noise=True, client=True, statistical=True)

    def declines(self, size: RunSize) -> str | None:
        if size.collective_jumps:
            return ("method 'trajectories' takes monomial jumps only: collective emission/pumping J_+- on several "
                    "sites is not; use method exact or permutation (or auto)")
        return super().declines(size)

    def check(self, size: RunSize, options: SolverOptions) -> None:
        if size.quantities:
            check_state_groups(size.n_times, int(size.dim))

    def memory(self, size: RunSize, options: SolverOptions) -> float:
        """The closed run's operators twice (CSR rows and the kernels' packs), the jump data, the
        Chebyshev series terms of two threads and the per-trajectory samples (kept twice: batch
        and total); with state quantities, the groups' density matrices."""
        from .closed import vector_memory

        need = 2 * vector_memory(size) + size.n_jumps * size.dim * 24 + 2 * (CHEB_M_MAX + 1) * 2 * size.dim * 16
        need += 2 * float(options.ntraj) * size.n_times * 8.0 * (3 + size.n_obs)
        return need + (state_memory(size.n_times, size.dim) if size.quantities else 0.0)

    def cost(self, size: RunSize, options: SolverOptions) -> float:
        """ntraj x dim x nnz on the exact solver's scale (dim^2 x nnz), from the measured crossover
        (:func:`collective_qc.solvers.lindblad.exact_auto_limit`)."""
        from .lindblad import EXACT_AUTO_DIM_PER_TRAJECTORY

        return EXACT_AUTO_DIM_PER_TRAJECTORY * options.ntraj * size.nnz

    def solve(self, problem: SolveProblem, options: SolverOptions, progress=None, client=None) -> Solution:
        return solve_trajectories(problem, options, progress, client)


SOLVER = TrajectorySolver()
