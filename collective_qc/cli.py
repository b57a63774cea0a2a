"""Command line: ``cqc models``, ``cqc charge MODEL ...``, ``cqc compare MODEL --sizes ...``.

Bad input ends with a one-line ``cqc: error: ...`` message and exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from .errors import InputError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"cqc: error: {message}\n")
        raise SystemExit(2)


def _kv(items):
    out = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        if not sep or not key:
            raise InputError(f"--param expects KEY=VALUE, got {item!r}")
        out[key.strip()] = val.strip()
    return out


def _float(name):
    def conv(s):
        try:
            return float(s)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, got {s!r}") from None

    return conv


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="cqc", description="collective quantum capacitors")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("models", help="list the registered models, their parameters and defaults")

    c = sub.add_parser("charge", help="charge one model and report its figures of merit")
    c.add_argument("model", help="catalog name (see `cqc models`) or a .graphml / node-link .json graph")
    _run_options(c)
    c.add_argument("--quantities", default="", help="ergotropy,coherence,entropy or all (closed/exact methods)")
    c.add_argument("--json", metavar="FILE", help="write the result as JSON")

    k = sub.add_parser("compare", help="collective advantage: per-site figures and Gamma over sizes N")
    k.add_argument("model", help="catalog name with a size parameter (see `cqc models`)")
    k.add_argument("--sizes", required=True, help="comma-separated numbers of sites, e.g. 1,2,4,8")
    _run_options(k)
    k.add_argument("--json", metavar="FILE", help='write {"rows": [...], ...} as JSON')

    s = sub.add_parser("study", help="resumable sweep from a TOML config: table.csv, timeseries.h5, plots")
    s.add_argument("config", help="TOML study config (schema: collective_qc/study.py)")
    s.add_argument("--out", required=True, metavar="DIR", help="study directory (rerun to resume)")
    s.add_argument("--force", action="store_true",
                   help="discard an existing study in DIR made with another config or with corrupted files")
    _dask_options(s)
    return p


def _run_options(c) -> None:
    c.add_argument("--param", "-p", action="append", metavar="KEY=VALUE", help="model parameter")
    c.add_argument("--drive", type=_float("--drive"), default=0.5, help="charging amplitude lambda")
    c.add_argument("--t-max", type=_float("--t-max"), default=20.0, help="final time (1/omega0)")
    c.add_argument("--n-times", type=int, default=201, help="number of sample times")
    c.add_argument("--method", default="auto", help="auto | closed | exact | trajectories")
    c.add_argument("--initial", default="ground", help="ground | product")
    c.add_argument("--protocol", default="constant", help="constant | on-off:TAU | ramp:T | sin2:T | gauss:T0,SIGMA | "
                   "charge-store-discharge:TAU,STORE[,TAU_D] | table:FILE")
    c.add_argument("--dephasing", type=_float("--dephasing"), default=0.0, help="rate gamma of sqrt(gamma) 2S^z_i")
    c.add_argument("--relaxation", type=_float("--relaxation"), default=0.0, help="rate kappa of sqrt(kappa) S^-_i")
    c.add_argument("--ntraj", type=int, default=500, help="number of trajectories (method trajectories)")
    c.add_argument("--seed", type=int, default=0, help="seed (trajectory i uses (seed, i) only)")
    c.add_argument("--tolerance", type=_float("--tolerance"), default=1e-8,
                   help="per-step error tolerance of the adaptive trajectory integrator")
    from .options import OPTIONS, flag

    for name in CHARGER_OPTIONS:  # flags as options.add_cli_arguments makes them
        opt = OPTIONS[name]
        c.add_argument(flag(name), dest=name, default=None, metavar=opt.metavar or None,
                       help=f"{opt.doc} (default {opt.default})")
    _dask_options(c)


def _dask_options(c) -> None:
    c.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler (tcp://host:8786)")
    c.add_argument("--workers", type=int, metavar="N", help="start a local Dask cluster with N worker processes")


def _cmd_models() -> int:
    from .registry import MODELS, model_names

    for name in model_names():
        cls = MODELS[name]
        params = " ".join(f"{q.name}={q.default}" for q in cls.params) or "(none)"
        print(f"{name:16s} {params:48s} {cls.summary()}")
    return 0


def _run_kwargs(args) -> dict:
    """The options shared by charge and compare (see _run_options), checked."""
    if args.t_max is not None and not args.t_max > 0:
        raise InputError(f"--t-max must be > 0, got {args.t_max}")
    return dict(drive=args.drive, params=_kv(args.param), t_max=args.t_max, n_times=args.n_times,
                method=args.method, initial=args.initial, protocol=args.protocol, dephasing=args.dephasing,
                relaxation=args.relaxation, ntraj=args.ntraj, seed=args.seed, tolerance=args.tolerance,
                **_charger_kwargs(args))


CHARGER_OPTIONS = ("charger", "norm", "battery_off_while_charging", "speed_limit")


def _charger_kwargs(args) -> dict:
    """--charger, --norm, --battery-off-while-charging, --speed-limit as checked charge() keywords."""
    from .options import check_options, flag

    given = {n: getattr(args, n) for n in CHARGER_OPTIONS if getattr(args, n, None) is not None}
    try:
        opts = check_options(given)
    except InputError as err:  # name the flag, not the keyword
        msg = str(err)
        for name in given:
            msg = msg.replace(f"{name} must", f"{flag(name)} must", 1)
        raise InputError(msg) from None
    return {n: opts[n] for n in given}


def _cmd_charge(args) -> int:
    from .api import charge
    from .parallel import open_client

    kwargs = _run_kwargs(args)
    with open_client(args.scheduler, args.workers) as client:
        res = charge(args.model, quantities=args.quantities or None, client=client, **kwargs)
    print(res.summary())
    if args.json:
        d = res.to_dict()
        keep = {k: d[k] for k in ("times", "energy", "power", "capacitance", "n_sites", "tau_c", "energy_max",
                                  "power_max", "average_power_max", "capacitance_at_tau_c", "model",
                                  "params", "method", "drive", "energy_stderr", "power_stderr",
                                  "capacitance_stderr", "metadata", "observables",
                                  "observables_stderr")}
        with open(args.json, "w") as fh:
            json.dump(keep, fh, indent=1, default=str)
        print(f"wrote {args.json}")
    return 0


def _cmd_compare(args) -> int:
    from .compare import compare
    from .parallel import open_client

    kwargs = _run_kwargs(args)
    with open_client(args.scheduler, args.workers) as client:
        cmp = compare(args.model, args.sizes, progress=_progress("compare"), client=client, **kwargs)
    print(f"model {cmp.model} {cmp.params}  drive = {args.drive}  (Gamma > 1: collective advantage)")
    print(cmp.table())
    if args.json:
        cmp.to_json(args.json)
        print(f"wrote {args.json}")
    return 0


def _cmd_study(args) -> int:
    from .study import Study, format_table

    st = Study(args.config, args.out, overwrite=args.force, progress=True,
               log=lambda msg: sys.stderr.write(msg + "\n"))
    from .parallel import open_client

    with open_client(args.scheduler, args.workers) as client:
        rows = st.run(executor=client)
    print(f"study {st.spec.name!r}: model {st.spec.model}, {len(rows)} points ({st.loaded} loaded, "
          f"{st.computed} computed)  (Gamma > 1: collective advantage)")
    print(format_table(rows, st.spec.size_param))
    print(f"wrote {st.out_dir}: table.csv, timings.csv, timeseries.h5, "
          f"plots/{{{','.join(os.path.basename(f) for f in st.plot_files)}}}")
    return 0


def _progress(label: str):
    """A tqdm progress callback (done, total) on stderr; silent when stderr is not a terminal."""
    from tqdm import tqdm

    state = {}

    def update(done, total):
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=label, file=sys.stderr, leave=False,
                                      disable=not sys.stderr.isatty())
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return update


def main(argv=None) -> int:
    from .runtime import apply_process_policy

    apply_process_policy()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command == "models":
            return _cmd_models()
        if args.command == "charge":
            return _cmd_charge(args)
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command == "study":
            return _cmd_study(args)
    except InputError as exc:
        sys.stderr.write(f"cqc: error: {exc}\n")
        return 2
    except MemoryError:
        sys.stderr.write("cqc: error: out of memory\n")
        return 2
    return 1  # pragma: no cover


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
