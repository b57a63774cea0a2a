"""``cqc optimize MODEL --tau T --out DIR ...``: the parser of the subcommand and its handler (the
wiring lives in :mod:`collective_qc.cli`). Writes ``protocol.csv`` (usable as
``cqc charge MODEL --protocol steps:DIR/protocol.csv``), ``optimize.json`` and, with ``--plot``,
``protocol.png``, ``energy.png``, ``history.png``; prints the ``cqc charge`` command that reruns the
optimum (with ``--vary``, the optimal parameter values as ``-p NAME=VALUE``)."""

from __future__ import annotations

import argparse
import sys

from ..core.errors import InputError
from ..core.validate import number

__all__ = ["add_optimize_parser", "run_optimize"]


def _num(name, cast=float):
    def conv(s):
        try:
            return number(s, name, integer=cast is int)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return conv


def add_optimize_parser(sub) -> None:
    """Add ``optimize`` to the subcommands ``sub`` of ``cqc``."""
    o = sub.add_parser("optimize", help="optimal charging: the envelope f(t), |f| <= f_max, that maximises E(tau) or "
                                        "W(tau) (GRAPE gradients, L-BFGS-B, seeded starts)")
    o.add_argument("model", help="catalog name (see `cqc models`) or a .graphml / node-link .json graph")
    o.add_argument("--param", "-p", action="append", metavar="KEY=VALUE", help="model parameter")
    o.add_argument("--vary", action="append", metavar="NAME=LO:HI", default=None,
                   help="also optimise the float model parameter NAME in [LO, HI] (repeatable; exact gradients; "
                        "the operators must be affine in it)")
    o.add_argument("--tau", type=_num("tau"), required=True, help="final time (time unit of the model); with "
                                                                    "--objective time:X the longest time searched")
    o.add_argument("--drive", type=_num("drive"), default=1.0, help="lambda, the charging amplitude (energy unit); "
                                                                     "|lambda f| <= lambda f_max (default 1)")
    o.add_argument("--f-max", type=_num("f_max"), default=1.0, help="bound |f(t)| <= f_max (default 1)")
    o.add_argument("--slices", type=_num("slices", int), default=20, help="piecewise-constant slices M (default 20)")
    o.add_argument("--basis", default=None, help="fourier:K or gauss:K: f = f_max tanh(Fourier series with K modes, "
                                                 "or a sum of K Gaussians) sampled on the slices (default: free "
                                                 "slice values)")
    o.add_argument("--objective", default="energy", help="energy | ergotropy | time:FRACTION (default energy)")
    o.add_argument("--starts", type=_num("starts", int), default=4, help="seeded starts (default 4)")
    o.add_argument("--seed", type=_num("seed", int), default=0, help="seed of the starts (default 0)")
    o.add_argument("--maxiter", type=_num("maxiter", int), default=500, help="L-BFGS-B iterations per start")
    for rate in ("dephasing", "relaxation", "pumping"):
        o.add_argument(f"--{rate}", type=_num(rate), default=0.0, help=f"uniform {rate} rate (energy unit)")
    o.add_argument("--initial", default="ground", help="initial state, as for cqc charge (default ground)")
    o.add_argument("--battery-off-while-charging", action="store_true", dest="battery_off",
                   help="H = lambda f V while charging (Binder / Campaioli); E still measured with H_B")
    o.add_argument("--no-advantage", action="store_true", help="skip the single-site optimum and Gamma")
    o.add_argument("--out", required=True, metavar="DIR", help="directory for protocol.csv, optimize.json, plots")
    o.add_argument("--plot", action="store_true", help="also draw protocol.png, energy.png, history.png")
    o.add_argument("--plugin", action="append", metavar="PATH", default=None,
                   help="load models from this .py module file (repeatable; not installed)")


def run_optimize(args, params: dict) -> int:
    """Run ``cqc optimize`` from parsed ``args`` (``params`` the parsed --param pairs); prints a
    summary, writes the files; InputError propagates to the caller's one-line error."""
    from .optimize import optimize

    if args.basis is not None and args.basis.strip() == "":
        raise InputError("--basis: give fourier:K or gauss:K, or leave it out")
    if args.initial.strip() == "thermal":
        raise InputError("--initial thermal needs its temperature written in: --initial thermal:T (optimize has no "
                         "--temperature)")
    res = optimize(args.model, args.tau, params=params, drive=args.drive, f_max=args.f_max, slices=args.slices,
                   basis=args.basis, objective=args.objective, starts=args.starts, seed=args.seed,
                   maxiter=args.maxiter, dephasing=args.dephasing, relaxation=args.relaxation, pumping=args.pumping,
                   initial=args.initial, battery_off=args.battery_off, vary=args.vary or {},
                   advantage=not args.no_advantage)
    files = res.write(args.out, plot=args.plot)
    u = res.info["units"]
    out = sys.stdout
    out.write(f"{res.info['model']}: {res.options.objective} at tau = {res.tau:.6g} {u['time']}: "
              f"{res.objective:.10g} {u['energy']} (constant drive f = {res.options.f_max:g}: "
              f"E = {res.constant_objective:.10g} {u['energy']})\n")
    if res.info.get("undefined"):
        out.write(f"{res.info['undefined']}\n")
    if res.parameters:
        out.write("optimal parameters: " + ", ".join(f"{k} = {v!r}" for k, v in res.parameters.items()) + "\n")
    if res.single_site is not None:
        s = res.single_site
        out.write(f"single site optimum {s['objective']:.10g} {u['energy']}; Gamma = F_N / (N F_1) = {s['gamma']:.6g} "
                  f"(N = {s['N']})\n")
    out.write(f"{len(res.amplitudes)} slices, {res.options.starts} starts, {res.evaluations} evaluations, "
              f"{res.wall_time:.3g} s; wrote {', '.join(files)}\n")
    command = res.charge_command(files[0])
    if command is not None:
        out.write(f"rerun: {command}\n")
    return 0
