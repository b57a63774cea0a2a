r"""Optimal charging: the envelope f(t), |f| <= f_max, that maximises E(tau) or the ergotropy W(tau).

H(t) = H_B + H_aux + lambda f(t) V as in :func:`collective_qc.charge` (lambda = ``drive``, the largest
charging amplitude being lambda f_max). f is piecewise constant on M slices of tau/M (free slice values,
or a smooth Fourier basis sampled on the slices); the gradient is exact (:mod:`.grape`) and SciPy's
L-BFGS-B, with the bounds |u_k| <= f_max for free slices, runs from several seeded starts. Closed
problems propagate state vectors in the run's symmetry block or conserved sector; open problems
(dephasing, relaxation, pumping) the vectorised Lindblad equation. With ``vary`` chosen float model
parameters are optimised jointly with f inside their bounds (:mod:`.parameters`).

Example
-------
>>> from collective_qc.design import optimize
>>> res = optimize("two-level", 1.0, drive=1.0, slices=10, starts=2)  # doctest: +SKIP
>>> res.objective, res.write("out/")                                  # doctest: +SKIP
"""

from __future__ import annotations

import time as _time

import numpy as np
from scipy.optimize import minimize

from ..analysis.merit import roundoff_reason
from ..core.errors import InputError
from .grape import evaluate, terminal_observable
from .options import OptimizeOptions, options_from
from .parameters import ParameterFamily
from .problem import build_dynamics
from .result import OptimizeResult, curves

__all__ = ["optimize", "OptimizeOptions", "Parametrisation"]


class Parametrisation:
    """Slice amplitudes u (length M) from parameters x: u = x (free slices, box bounds), or
    u = f_max tanh(B x) with B a smooth basis at the slice midpoints (no bounds needed): Fourier
    (1, cos(2 pi k t/tau), sin(2 pi k t/tau), k = 1..K) or K Gaussians of width tau/K centred at
    (j + 1/2) tau/K."""

    def __init__(self, opts: OptimizeOptions):
        self.f_max, self.M, self.modes = opts.f_max, opts.slices, opts.modes
        if self.modes is not None:
            kind, K = self.modes
            s = (np.arange(self.M) + 0.5) / self.M  # t / tau at the slice midpoints
            if kind == "fourier":
                k = np.arange(1, K + 1)
                self.B = np.hstack([np.ones((self.M, 1)), np.cos(2 * np.pi * np.outer(s, k)),
                                    np.sin(2 * np.pi * np.outer(s, k))])
            else:
                c = (np.arange(K) + 0.5) / K
                self.B = np.exp(-0.5 * ((s[:, None] - c[None, :]) * K) ** 2)

    @property
    def size(self) -> int:
        return self.M if self.modes is None else self.B.shape[1]

    @property
    def bounds(self):
        return [(-self.f_max, self.f_max)] * self.M if self.modes is None else None

    def amplitudes(self, x) -> np.ndarray:
        return np.asarray(x, float) if self.modes is None else self.f_max * np.tanh(self.B @ x)

    def pullback(self, x, grad_u) -> np.ndarray:
        """dF/dx from dF/du."""
        if self.modes is None:
            return grad_u
        th = np.tanh(self.B @ x)
        return self.B.T @ (self.f_max * (1 - th**2) * grad_u)

    def start(self, j: int, rng) -> np.ndarray:
        """Start j: f = f_max/2 everywhere for j = 0, else random (uniform slices / normal coefficients)."""
        if self.modes is None:
            return np.full(self.M, 0.5 * self.f_max) if j == 0 else rng.uniform(-self.f_max, self.f_max, self.M)
        if j == 0:  # the basis' closest fit to f = f_max/2
            return np.linalg.lstsq(self.B, np.full(self.M, np.arctanh(0.5)), rcond=None)[0]
        return rng.normal(0.0, 1.0, self.size)


def _objective(dyn, family, par, kind: str, tau: float):
    """x -> (F, dF/dx): x the control parameters, followed by the varied model parameters."""
    n = par.size
    if family is None:
        return _envelope(dyn, par, terminal_observable(dyn, kind), tau)

    def joint(x):
        d, tangents = family.at(x[n:])
        F, g, gt = evaluate(d, par.amplitudes(x[:n]), tau, terminal_observable(d, kind), tangents=tangents)
        return F, np.concatenate([par.pullback(x[:n], g), gt])

    return joint


def _run_start(dyn, opts, par, observable, x0, tau):
    """One L-BFGS-B run of the envelope alone from x0 (as :func:`_lbfgs`; the benchmarks call it)."""
    return _lbfgs(_envelope(dyn, par, observable, tau), par.bounds, opts, x0)


def _envelope(dyn, par, observable, tau):
    """x -> (F, dF/dx) of the envelope's control parameters x at fixed model parameters."""

    def fun(x):
        F, g = evaluate(dyn, par.amplitudes(x), tau, observable)
        return F, par.pullback(x, g)

    return fun


def _lbfgs(fun, bounds, opts, x0):
    """One L-BFGS-B run maximising fun (x -> (F, dF/dx)) from x0; (best x, best F, history of F per
    iteration, evaluations)."""
    history = []

    def negative(x):
        F, g = fun(x)
        return -F, -g

    def callback(intermediate_result):
        history.append(-float(intermediate_result.fun))

    res = minimize(negative, x0, jac=True, method="L-BFGS-B", bounds=bounds, callback=callback,
                   options={"maxiter": opts.maxiter, "gtol": opts.gtol, "ftol": 1e-15, "maxcor": 30})
    return res.x, -float(res.fun), history, int(res.nfev)


def _bang_bang_start(dyn, par, observable, tau) -> np.ndarray:
    """The best single-switch drive on the slice grid, f = +f_max on slices < k, -f_max after
    (k = M: the constant drive): free slices' start 1, so the optimum is never below these."""
    best, u_best = -np.inf, None
    for k in range(1, par.M + 1):
        u = np.where(np.arange(par.M) < k, par.f_max, -par.f_max)
        F = evaluate(dyn, u, tau, observable, grad=False)[0]
        if F > best:
            best, u_best = F, u
    return u_best


def _best_at(dyn, opts, tau, family=None):
    """The best of the starts at final time tau: (u, F, histories, evaluations, theta). Free slices:
    start 0 f = f_max/2, start 1 the best single-switch bang-bang drive (constant drive included), the
    others seeded random; a smooth basis: start 0 its fit to f_max/2, the others seeded random. Varied
    parameters (``family``) start at their run values in starts 0 and 1, uniform in their bounds after;
    each start first optimises f at its parameter values, then f and the parameters jointly from there
    (so the joint optimum is never below the envelope-only optimum of the same starts: the joint
    landscape has more local maxima, measured on the Dicke battery)."""
    par = Parametrisation(opts)
    kind = "ergotropy" if opts.objective == "ergotropy" else "energy"
    fun = _objective(dyn, family, par, kind, tau)
    bounds = par.bounds
    if family is not None:
        bounds = (bounds or [(None, None)] * par.size) + family.bounds
    rng = np.random.default_rng(np.random.SeedSequence(opts.seed))
    best, histories, nfev = None, [], 0
    for j in range(opts.starts):
        if j == 1 and par.modes is None:
            x0 = _bang_bang_start(dyn, par, terminal_observable(dyn, kind), tau)
        else:
            x0 = par.start(j, rng)
        hist, n = [], 0
        if family is not None:
            theta0 = family.start if j <= 1 else rng.uniform(family.lo, family.hi)
            at = dyn if j <= 1 else family.at(theta0)[0]
            x0, _, hist, n = _run_start(at, opts, par, terminal_observable(at, kind), x0, tau)
            x0 = np.concatenate([x0, theta0])
        x, F, more, m = _lbfgs(fun, bounds, opts, x0)
        histories.append(hist + more)
        nfev += n + m
        if best is None or F > best[1]:
            best = (par.amplitudes(x[:par.size]), F, x[par.size:])
    return best[0], best[1], histories, nfev, best[2]


def _shortest_time(dyn, opts, family=None):
    """Bisection for the shortest tau <= opts.tau at which the optimal E reaches fraction x E_max."""
    e = np.linalg.eigvalsh(dyn.H_B)
    E0 = float(np.real(np.trace(dyn.H_B @ dyn.rho0)))
    target = opts.fraction * (e[-1] - E0)
    u, F, hist, nfev, theta = _best_at(dyn, opts, opts.tau, family)
    if F < target:
        raise InputError(f"objective time:{opts.fraction:g}: even at tau = {opts.tau:g} the best E = {F:.6g} is below "
                         f"{opts.fraction:g} x E_max = {target:.6g}; give a longer --tau")
    lo, hi, found = 0.0, opts.tau, (opts.tau, u, F, hist, theta)
    for _ in range(14):
        mid = 0.5 * (lo + hi)
        u_m, F_m, h_m, n, th_m = _best_at(dyn, opts, mid, family)
        nfev += n
        if F_m >= target:
            hi, found = mid, (mid, u_m, F_m, h_m, th_m)
        else:
            lo = mid
    return (*found, nfev, target)


def optimize(model, tau: float, *, options: OptimizeOptions | None = None, advantage: bool = True,
             **settings) -> OptimizeResult:
    """Find the drive envelope f(t), |f| <= f_max, that charges ``model`` best by time ``tau``.

    Parameters
    ----------
    model : str, Model, nx.Graph or graph file
        As for :func:`collective_qc.charge`.
    tau : float
        Final time (time unit of the model); for ``objective="time:X"`` the longest time searched.
    options : OptimizeOptions, optional
        All settings in one checked object; or give them as keywords (``drive``, ``f_max``,
        ``slices``, ``basis``, ``objective``, ``params``, ``vary``, ``dephasing``, ``relaxation``,
        ``pumping``, ``initial``, ``battery_off``, ``starts``, ``seed``, ``maxiter``, ``gtol``; see
        :class:`~collective_qc.design.options.OptimizeOptions`). ``vary={"J": (0, 2)}`` optimises the
        model parameter J in [0, 2] jointly with f (exact gradients; :mod:`.parameters`).
    advantage : bool
        Also optimise the model's single site (:meth:`Model.single_site`) with the same settings and
        report Gamma = F_N / (N F_1) (skipped for models without a size parameter).

    Returns
    -------
    OptimizeResult
        The optimal slice table (and with ``vary`` the optimal parameter values), the objective and
        its history, E(t) of the optimal and the constant drive (f = f_max, at the same parameters),
        and the advantage.

    Raises
    ------
    InputError
        Bad settings (one line naming the option), or a problem too large for dense propagators.
    """
    opts = options if options is not None else options_from(tau, settings)
    if options is not None and settings:
        raise InputError("optimize(): give the settings either as options= or as keywords, not both")
    start = _time.perf_counter()
    family, dyn, info = _problem(model, opts)
    target = None
    if opts.objective == "time":
        tau_opt, u, F, histories, theta, nfev, target = _shortest_time(dyn, opts, family)
    else:
        tau_opt = opts.tau
        u, F, histories, nfev, theta = _best_at(dyn, opts, tau_opt, family)
    wall = _time.perf_counter() - start
    if family is not None:
        dyn = family.at(theta)[0]
        info = {**info, "vary": {"builds": family.builds, "battery_parameters":
                                 [n for n, t in zip(family.names, family.touches_battery, strict=True) if t]}}
    t, E_opt, E_const = curves(dyn, u, tau_opt, opts.f_max)
    h_b_bound = float(np.abs(dyn.H_B).sum(axis=0).max())  # ||H_B||_1 >= its spectral radius (no diagonalisation)
    why = roundoff_reason(np.concatenate([E_opt, E_const]), h_b_bound)
    if why:  # the optimum and the constant drive charge nothing above round-off
        info = {**info, "undefined": f"NOT CHARGED: {why}"}
    single = _single_site(model, opts, F, tau_opt) if advantage and not why else None
    parameters = None if family is None else dict(zip(family.names, map(float, theta), strict=True))
    return OptimizeResult(options=opts, tau=tau_opt, amplitudes=u, objective=F, histories=histories,
                          times=t, energy=E_opt, energy_constant=E_const, info=info, evaluations=nfev,
                          wall_time=wall, single_site=single, time_target=target, parameters=parameters,
                          model_arg=model if isinstance(model, str) else None)


def _problem(model, opts):
    """(ParameterFamily or None, Dynamics at the start, record): the fixed problem, or with ``vary``
    the family of problems over the parameters' box (checked in one line before any build)."""
    if not opts.vary:
        return (None, *build_dynamics(model, opts))
    family = ParameterFamily.build(model, opts)
    if opts.objective == "time" and any(family.touches_battery):
        names = ", ".join(n for n, t in zip(family.names, family.touches_battery, strict=True) if t)
        raise InputError(f"objective time:X with vary {names}: they change H_B and so E_max, the target; vary "
                         "charger or auxiliary parameters only, or use objective energy")
    return family, family.at(family.start)[0], family.info


def _single_site(model, opts, F, tau: float) -> dict | None:
    """The single-site optimum at the same tau and settings and Gamma = F_N / (N F_1), or None (a
    model without a size parameter, or N = 1). With ``time:X`` the single site's best E at the tau found."""
    from ..api import check_charge

    m = check_charge(model, opts.drive, np.array([0.0, opts.tau]), params=opts.params).model
    n = getattr(m, "values", {}).get(getattr(m, "size_param", None))
    if getattr(m, "size_param", None) is None or not n or int(n) == 1:
        return None
    kw = {f: getattr(opts, f) for f in ("drive", "f_max", "slices", "basis", "objective", "dephasing", "relaxation",
                                        "pumping", "initial", "battery_off", "starts", "seed", "maxiter", "gtol")}
    if opts.objective == "time":
        kw["objective"] = "energy"  # the single site's best E at the same tau
    site = m.single_site()
    floats = {p.name for p in getattr(site, "params", ()) if p.type is float}
    kw["vary"] = {k: v for k, v in opts.vary.items() if k in floats}  # the single site optimised likewise
    one = optimize(site, tau, advantage=False, **kw)
    F1 = one.objective
    return {"objective": F1, "N": int(n), "gamma": F / (int(n) * F1) if F1 > 0 else float("nan"),
            "parameters": one.parameters}
