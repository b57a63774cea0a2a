"""Command line: ``cqc models [NAME]``, ``cqc charge MODEL ...``, ``cqc compare MODEL [--sizes ...]``,
``cqc study CONFIG --out DIR``; ``cqc --version``; ``--plugin PATH`` loads a model module file.

Bad input ends with a one-line ``cqc: error: ...`` message and exit code 2, no traceback.
Progress of long runs goes to stderr (a bar on a terminal, status lines when piped).
"""

from __future__ import annotations

import argparse
import os
import sys

from .core.errors import InputError, shown
from .core.validate import MAX_WORKERS, number, workers, writable_file

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2
        sys.stderr.write(f"cqc: error: {message}{_suggest(self, message)}\n")
        raise SystemExit(2)


def _option_strings(parser) -> dict:
    """Every --flag of a parser and its subcommands -> the programs ('cqc study', ...) that take it."""
    out: dict = {}
    for action in parser._actions:  # noqa: SLF001
        for flag in action.option_strings:
            if flag.startswith("--"):
                out.setdefault(flag, set()).add(parser.prog)
        for sub in (getattr(action, "choices", None) or {}).values():
            if isinstance(sub, argparse.ArgumentParser):
                for flag, progs in _option_strings(sub).items():
                    out.setdefault(flag, set()).update(progs)
    return out


def _suggest(parser, message: str) -> str:
    """'; did you mean --dephasing?' for an unrecognized --flag close to a known one, or
    '; --out is an option of cqc study' for a flag that another command takes."""
    import difflib

    if not message.startswith("unrecognized arguments:"):
        return ""
    known = _option_strings(parser)
    for token in message.split(":", 1)[1].split():
        flag = token.split("=", 1)[0]
        if flag in known:
            return f"; {flag} is an option of {' and '.join(sorted(known[flag]))} only"
        close = difflib.get_close_matches(flag, sorted(known), n=2, cutoff=0.75) if flag.startswith("--") else []
        if close:
            return f"; did you mean {' or '.join(close)}?"
    return ""


def _kv(items):
    out = {}
    for item in items or []:
        key, sep, val = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--param expects KEY=VALUE, got {shown(item)}")
        if key.strip() in out:
            raise InputError(f"--param {key.strip()!r} given twice ({out[key.strip()]!r} and {val.strip()!r})")
        out[key.strip()] = val.strip()
    return out


def _number(name, **checks):
    """An argparse type: the project's number validator (one-line error naming the option)."""
    def conv(s):
        try:
            return number(s, name, **checks)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return conv


DESCRIPTION = """collective quantum capacitors: charge many-body models (catalog names or your own
graphs) and report stored energy E, power P, charging time tau_c, quantum capacitance
C_Q = dE/dlambda and the collective advantage Gamma over independent single sites.
Units: energies in omega0 (or the model's unit, e.g. K), times in hbar/energy."""

EPILOG = """examples:
  cqc models                      list the catalog;  cqc models dicke   parameters with units
  cqc charge xxz-ring -p N=8 --drive 0.5 --t-max 20
  cqc compare xxz-ring --sizes 2,4,8
  cqc compare mygraph.graphml     Gamma of a user graph against its single site
  cqc study studies/configs/dicke_advantage.toml --out results/dicke_advantage
  cqc --plugin my_models.py charge my-model"""


def _float(name):
    return _number(name)


def build_parser() -> argparse.ArgumentParser:
    from .core.version import __version__

    p = _Parser(prog="cqc", description=DESCRIPTION, epilog=EPILOG,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"cqc (collective_qc) {__version__}")
    _plugin_option(p, dest="plugin_top")  # subcommands keep their own list (argparse would overwrite it)
    sub = p.add_subparsers(dest="command", parser_class=_Parser, metavar="COMMAND")
    m = sub.add_parser("models", help="list the registered models; with NAME: its parameters, units, meaning")
    m.add_argument("name", nargs="?", help="a model name: show each parameter with type, default, unit, meaning")
    _plugin_option(m)

    c = sub.add_parser("charge", help="charge one model and report its figures of merit")
    c.add_argument("model", help="catalog name (see `cqc models`) or a .graphml / node-link .json graph")
    _run_options(c)
    c.add_argument("--json", metavar="FILE", help="write the result as JSON (series as lists of numbers, units)")
    c.add_argument("--plot", metavar="FILE", help="draw the run as PNG: E(t)/N, P(t)/N, C_Q(t)/N; with --disorder the "
                                                  "mean E(t), P(t) with error bands and histograms of tau_c, E_max")
    c.add_argument("--sensitivity", action="append", dest="sensitivities", metavar="NAME", default=None,
                   help="sensitivity d/dtheta of E, P, C_Q and tau_c, E_max, P_max (closed, exact, permutation; "
                        "trajectories with errors): a model parameter, "
                        "ATTR@NODE (not permutation), ATTR@(U,V), drive, protocol.FIELD or a noise rate; repeatable; "
                        "with --plot also a tornado chart FILE-sensitivities.png")
    c.add_argument("--hdf5", metavar="FILE", help="write the series, figures and sensitivities as HDF5")

    k = sub.add_parser("compare", help="collective advantage: per-site figures and Gamma over sizes N")
    k.add_argument("model", help="catalog name (see `cqc models`) or a .graphml / node-link .json graph")
    k.add_argument("--sizes", help="comma-separated numbers of sites, e.g. 1,2,4,8 (default: the model's own size; "
                                   "a user graph has only its own size)")
    k.add_argument("--sweep", action="append", metavar="NAME=V1,V2,...",
                   help="one comparison per value of NAME: a model parameter, drive, a run option or a charger "
                        "argument (e.g. J=0.1,0.3, dephasing=0,0.05, k=1,2 with --charger k-local:k=1); values "
                        "separated by ';' when one holds a comma; repeatable (Cartesian product)")
    _run_options(k)
    k.add_argument("--json", metavar="FILE", help='write {"rows": [...], ...} as JSON (with --sweep: '
                                                  '{"sweep": [{"values": {...}, "rows": [...], ...}, ...]})')

    s = sub.add_parser("study", help="resumable sweep from a TOML config: table.csv, timeseries.h5, plots")
    s.add_argument("config", help="TOML study config (schema: `python -m pydoc collective_qc.study`)")
    s.add_argument("--out", required=True, metavar="DIR",
                   help="study directory (rerun to resume; more sizes or new [plots] reuse finished points)")
    s.add_argument("--force", action="store_true",
                   help="remove the files this study wrote in DIR (only those; it says which) and start over")
    s.add_argument("--adopt", action="store_true",
                   help="rebuild a missing or damaged study.json from the intact point files in DIR")
    s.add_argument("--plots-only", action="store_true", help="redraw the plots from the stored points alone")
    s.add_argument("--wait", action="store_true",
                   help="if another run holds DIR, wait for it to finish (default: refuse, naming its PID)")
    _dask_options(s)
    _plugin_option(s)
    from .design.cli import add_optimize_parser

    add_optimize_parser(sub)  # cqc optimize (collective_qc.design)
    return p


def _plugin_option(c, dest: str = "plugin") -> None:
    c.add_argument("--plugin", action="append", metavar="PATH", default=None, dest=dest,
                   help="load models from this .py module file (repeatable; not installed)")


def _run_options(c) -> None:
    c.add_argument("--param", "-p", action="append", metavar="KEY=VALUE", help="model parameter")
    c.add_argument("--drive", type=_float("drive"), default=0.5,
                   help="charging amplitude lambda (energy unit) (default 0.5)")
    from .planning.options import add_cli_arguments

    add_cli_arguments(c)  # one flag per run option, from the one options table (collective_qc.planning.options)
    _dask_options(c)
    _plugin_option(c)


def _dask_options(c) -> None:
    c.add_argument("--scheduler", metavar="ADDRESS", help="run on this Dask scheduler (tcp://host:8786)")
    c.add_argument("--workers", type=_workers, metavar="N",
                   help=f"start a local Dask cluster with N worker processes (1 to {MAX_WORKERS})")


def _workers(text):
    """An argparse type: the number of local workers (collective_qc.core.validate.workers)."""
    try:
        return workers(text, "workers")
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _cmd_models(name=None) -> int:
    from .physics.registry import MODELS, get_model, model_names

    if name:
        print(describe_model(get_model(name)))
        return 0
    for n in model_names():
        cls = MODELS[n]
        params = " ".join(f"{q.name}={q.default}" + (f"({q.default_doc.split(':')[0].split(',')[0]})"
                                                      if q.default_doc else "") for q in cls.params) or "(none)"
        print(f"{n:16s} {params:48s} {cls.summary()}")
    print("\n`cqc models NAME` shows each parameter with its type, default, unit and meaning.")
    return 0


def describe_model(cls) -> str:
    """Multi-line description of a Model class: summary, units, size parameter, parameters."""
    from .core.units import Units

    u = Units(cls.energy_unit, cls.time_unit)
    lines = [f"{cls.name}: {cls.summary()}",
             f"  units: energy {u.energy}, time {u.time}, power {u.power}, C_Q {u.capacitance}",
             f"  size parameter (compare/study sweep): {cls.size_param or 'none (fixed size)'}",
             "  parameters (-p NAME=VALUE):" if cls.params else "  parameters: none"]
    lines += [f"    {q.describe(cls)}" for q in cls.params]
    doc = (cls.__doc__ or "").strip().splitlines()[1:]
    body = "\n".join("  " + ln.strip() if ln.strip() else "" for ln in doc).strip("\n")
    if body:
        lines += ["", body]
    return "\n".join(lines)


def _run_kwargs(args) -> dict:
    """The options shared by charge and compare, checked: --drive, --param and the run options
    (the flags the user gave; the rest keep charge()'s defaults)."""
    from .planning.options import OPTIONS, from_cli

    given = {n for n in OPTIONS if getattr(args, n, None) is not None}
    opts = from_cli(args)
    return dict(drive=args.drive, params=_kv(args.param), **{n: opts[n] for n in given})


def _cmd_charge(args) -> int:
    from .api import charge, check_charge
    from .core.progress import Progress
    from .ensemble import EnsembleInterrupted
    from .parallel import open_client

    kwargs = _run_kwargs(args)
    if args.sensitivities:
        kwargs["sensitivities"] = args.sensitivities
    tornado = args.plot and args.sensitivities and _tornado_path(args.plot)
    for path, flag in ((args.hdf5, "--hdf5"), (tornado, "--plot")):
        if path:
            writable_file(path, flag)
    if args.json:
        writable_file(args.json, "--json")
    if args.plot:
        writable_file(args.plot, "--plot")
    if args.scheduler is not None or args.workers is not None:  # refuse bad input before starting a cluster
        check_charge(args.model, **kwargs)
    try:
        with open_client(args.scheduler, args.workers) as client, Progress(f"charge {args.model}") as prog:
            res = charge(args.model, client=client, progress=prog, **kwargs)
    except EnsembleInterrupted as exc:  # keep the finished realisations: print and write them
        res, interrupted = exc.partial, exc
        sys.stderr.write(f"cqc: {exc}; the results below are the ensemble of the finished ones\n")
    else:
        interrupted = None
    print(res.summary())
    from .sensitivity.report import sensitivity_lines

    if getattr(res, "sensitivities", None):
        print("\n".join(sensitivity_lines(res)))
    if args.json:
        res.to_json(args.json)
        print(f"wrote {args.json}")
    if args.hdf5:
        res.to_hdf5(args.hdf5)
        print(f"wrote {args.hdf5}")
    if args.plot:
        print(f"wrote {_charge_plot(res, args.plot, args.model)}")
    if args.plot and getattr(res, "sensitivities", None):
        from . import plots

        title = f"{res.model} N = {res.n_sites}: normalised sensitivities"
        written = plots.tornado(res.sensitivities, _tornado_path(args.plot), res.energy_max, res.tau_c, title=title)
        print(f"wrote {written}")
    return 130 if interrupted else 0


def _tornado_path(plot: str) -> str:
    """The tornado chart beside the --plot file: FILE.png -> FILE-sensitivities.png."""
    stem = plot[:-4] if plot.lower().endswith(".png") else plot
    return f"{stem}-sensitivities.png"


def _charge_plot(res, path: str, label: str) -> str:
    """The PNG of `cqc charge --plot`: the ensemble figure for a disorder ensemble, else the time series."""
    from . import plots

    title = f"{res.model} N = {res.n_sites}, drive {res.drive:g}"
    if hasattr(res, "realisations"):  # an EnsembleResult (collective_qc.analysis.ensemble)
        return plots.ensemble(res.to_dict(), path, title=f"{title}, {len(res.realisations)} disorder realisations")
    curve = {k: getattr(res, k) for k in ("times", "energy", "power", "capacitance", "energy_stderr", "power_stderr",
                                          "capacitance_stderr", "tau_c", "n_sites")}
    return plots.timeseries([{**curve, "label": label, "units": res.metadata.get("units") or {}}], path, title=title)


def _cmd_compare(args) -> int:
    from .compare import check_compare, compare
    from .core.progress import Progress
    from .parallel import open_client

    kwargs = _run_kwargs(args)
    if args.json:
        writable_file(args.json, "--json")
    if args.sweep:
        return _cmd_compare_sweep(args, kwargs)
    if args.scheduler is not None or args.workers is not None:  # refuse bad input before starting a cluster
        check_compare(args.model, args.sizes, **kwargs)
    with open_client(args.scheduler, args.workers) as client, \
            Progress(f"compare {args.model}", unit="runs") as prog:
        cmp = compare(args.model, args.sizes, progress=prog, client=client, **kwargs)
    print(cmp.header())
    print(cmp.table())
    if args.json:
        cmp.to_json(args.json)
        print(f"wrote {args.json}")
    return 0


def _cmd_compare_sweep(args, kwargs) -> int:
    """``cqc compare --sweep``: every combination checked first, then one table per combination."""
    import json

    from .analysis.results import jsonable
    from .compare import check_sweep, compare_sweep, parse_sweeps
    from .core.progress import Progress
    from .parallel import open_client

    sweep = parse_sweeps(args.sweep)
    drive = kwargs.pop("drive")
    if args.scheduler is not None or args.workers is not None:  # refuse bad input before starting a cluster
        check_sweep(args.model, args.sizes, drive, sweep=sweep, **kwargs)
    with open_client(args.scheduler, args.workers) as client, \
            Progress(f"compare {args.model}", unit="runs") as prog:
        done = compare_sweep(args.model, args.sizes, drive, sweep=sweep, progress=prog, client=client, **kwargs)
    for values, cmp in done:
        print("; ".join(f"{k} = {v}" for k, v in values.items()))
        print(cmp.header())
        print(cmp.table())
        print()
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"sweep": [{"values": jsonable(v), **c.to_dict()} for v, c in done]}, fh, indent=1,
                      allow_nan=False)
        print(f"wrote {args.json}")
    return 0


def _cmd_study(args) -> int:
    import warnings

    from .parallel import open_client
    from .study import Study, format_table

    if not args.out or not args.out.strip():
        raise InputError(f"--out must name a study directory, got {shown(args.out)}")
    note = lambda msg: sys.stderr.write(msg + "\n")  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda msg, *a, **k: note(f"cqc: warning: {msg}")
        st = Study(args.config, args.out, overwrite=args.force, adopt=args.adopt, wait=args.wait, progress=True,
                   log=note)
        if args.plots_only:
            rows = st.run(plots_only=True)
            print(f"redrew {len(st.plot_files)} plots of study {st.spec.name!r} from {len(rows)} stored points: "
                  f"{st.out_dir}/plots/{{{','.join(os.path.basename(f) for f in st.plot_files)}}}")
            return 0
        try:
            with open_client(args.scheduler, args.workers) as client:
                rows = st.run(executor=client)
        except KeyboardInterrupt:  # finished points are on disk (each persisted as it completes)
            sys.stderr.write(f"cqc: interrupted: {st.saved()} points saved, rerun to resume\n")
            return 130
    reps = f" x {st.spec.realisations} realisations" if st.spec.disordered else ""
    print(f"study {st.spec.name!r}: model {st.spec.model}, {len(rows)} points{reps} ({st.loaded} loaded, "
          f"{st.computed} computed)  (Gamma > 1: collective advantage)")
    print(format_table(rows, st.spec.size_param))
    tidy = " points.csv," if st.spec.disordered else ""
    print(f"wrote {st.out_dir}: table.csv,{tidy} timings.csv, timeseries.h5, "
          f"plots/{{{','.join(os.path.basename(f) for f in st.plot_files)}}}")
    return 0


def _one_line_warnings() -> None:
    """Warnings as one line on stderr (``cqc: warning: ...``), e.g. a skipped plug-in."""
    import warnings

    def show(message, category, filename, lineno, file=None, line=None):
        sys.stderr.write(f"cqc: warning: {message}\n")

    warnings.showwarning = show


def main(argv=None) -> int:
    from .core.runtime import apply_process_policy

    apply_process_policy()
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        parser.print_help(sys.stderr)
        return 2
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # usage errors (one line, exit 2) and --help/--version (exit 0)
        return exc.code
    if args.command is None:
        parser.print_usage(sys.stderr)
        sys.stderr.write("cqc: error: give a command (models, charge, compare, study, optimize); cqc --help for more\n")
        return 2
    _one_line_warnings()
    try:
        plugins = (args.plugin_top or []) + (getattr(args, "plugin", None) or [])
        if plugins:
            from .physics.registry import load_plugin

            for path in plugins:
                load_plugin(path)
        if args.command == "models":
            return _cmd_models(args.name)
        if args.command == "charge":
            return _cmd_charge(args)
        if args.command == "compare":
            return _cmd_compare(args)
        if args.command == "study":
            return _cmd_study(args)
        if args.command == "optimize":
            from .design.cli import run_optimize

            return run_optimize(args, _kv(args.param))
    except InputError as exc:
        return _fail(_name_option(parser, args.command, str(exc)))
    except KeyboardInterrupt:
        sys.stderr.write("cqc: interrupted\n")
        return 130
    except MemoryError:
        return _fail("out of memory (the memory estimate was too low; set CQC_MEMORY_LIMIT lower to be safe)")
    except OSError as exc:  # writing an output file, reading an input file
        return _fail(f"{exc.strerror or type(exc).__name__}: {exc.filename!r}" if exc.filename else str(exc))
    return 1  # pragma: no cover


def _fail(message: str) -> int:
    """One line on stderr, exit code 2."""
    sys.stderr.write(f"cqc: error: {' '.join(str(message).split())}\n")
    return 2


def _name_option(parser, command: str, message: str) -> str:
    """Prefix 'argument --n-times: ' when a message from the Python API names an argument
    (``n_times ...``) that the command line spells as an option."""
    sub = parser._subparsers._group_actions[0].choices.get(command)  # noqa: SLF001
    for action in getattr(sub, "_actions", []):
        flags = [f for f in action.option_strings if f.startswith("--")]
        if flags and message.startswith(action.dest + " must "):
            return f"argument {flags[0]}: {message}"
    return message


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
