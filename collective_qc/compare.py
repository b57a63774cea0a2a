"""Collective advantage over a range of sizes: ``compare(model, sizes, ...)``.

Each size N is charged with the same drive, noise, protocol and method options as the
model's single-site version (:meth:`Model.single_site`), which is run once. A row holds
the per-site figures of merit and the ratios Gamma_P, Gamma_tau, Gamma_C, Gamma_E (and
Gamma with the average-power convention). Trajectory runs carry standard errors on the
figures and on every Gamma (jackknife over paired trajectory groups). A figure or Gamma that
is not a result (:mod:`collective_qc.analysis.verdict`) is None, with its reason in ``row["undefined"]``.
The rows and their errors are computed by :mod:`collective_qc.analysis.statistics` (``figure_errors`` and
``make_row`` are importable from here as before).

:func:`compare_sweep` runs one comparison per value of swept model parameters, the drive, run
options or charger arguments (``cqc compare MODEL --sweep J=0.1,0.3``; several ``--sweep`` flags
form a Cartesian product).
"""

from __future__ import annotations

import json
import numbers
from collections.abc import Iterable
from dataclasses import dataclass, field

from .analysis.figures import FIGURES, GAMMA_OF, GAMMAS
from .analysis.results import ChargeResult, describe_noise, jsonable
from .analysis.statistics import check_bounds, figure_errors, make_row
from .analysis.tables import cell, text_table, undefined_notes
from .core.errors import InputError, format_count, shown
from .core.validate import integer, mapping, number
from .ensemble import for_baseline
from .physics.registry import make_model

__all__ = ["compare", "check_compare", "compare_sweep", "check_sweep", "parse_sweeps", "sweep_combinations",
           "Comparison", "figure_errors", "make_row", "parse_sizes"]


def parse_sizes(sizes) -> list[int]:
    """'1,2,4' or an iterable of integers -> sorted unique positive ints (3.5 is refused, not truncated)."""
    if isinstance(sizes, str):
        parts = [s for s in sizes.replace(" ", "").split(",") if s]
    elif isinstance(sizes, numbers.Number) or not isinstance(sizes, Iterable):
        raise InputError(f"sizes must be a list of integers or a string like '1,2,4', got {sizes!r}")
    else:
        parts = list(sizes)
    out = sorted({integer(n, "sizes entry", minimum=1) for n in parts})
    if not out:
        raise InputError(f"sizes must list at least one positive integer, got {sizes!r}")
    return out


@dataclass
class Comparison:
    """Rows (one per size), the baseline run and the N-site runs."""

    model: str
    params: dict
    options: dict
    rows: list[dict]
    baseline: ChargeResult
    results: dict = field(default_factory=dict)  # n -> ChargeResult
    graph_file: str | None = None  # the user graph file compared, if any

    def to_dict(self) -> dict:
        row = make_row(self.baseline, self.baseline)
        base = {k: row[k] for k in ("n_sites", *FIGURES)}
        base["undefined"] = {k: v for k, v in row["undefined"].items() if k in FIGURES}
        return jsonable({"model": self.model, "params": self.params, "options": self.options, "baseline": base,
                         "units": self.baseline.units.as_dict(), "sizes": [r["n_sites"] for r in self.rows],
                         "graph_file": self.graph_file, "rows": self.rows})

    def to_json(self, path) -> None:
        with open(path, "w") as fh:
            json.dump(self.to_dict(), fh, indent=1, allow_nan=False)

    def to_dataframe(self):
        """One row per size and the baseline row, as a pandas DataFrame (integer ``N``, figures,
        per-site figures, Gammas, standard errors; units in ``attrs``); needs the ``frames`` extra
        (:func:`collective_qc.analysis.frames.comparison_frame`)."""
        from .analysis.frames import comparison_frame

        return comparison_frame(self)

    def header(self) -> str:
        """Two lines: model, sizes actually run, drive, method, noise; units of the table's columns."""
        u = self.baseline.units
        o = self.options
        sizes = ", ".join(str(r["n_sites"]) for r in self.rows)
        methods = sorted({r["method"] for r in self.rows} | {self.baseline.method})
        last = self.results.get(self.rows[-1]["n_sites"], self.baseline) if self.rows else self.baseline
        noise = describe_noise(last.metadata.get("noise") or {}, u.energy)
        name = f"graph file {self.graph_file}" if self.graph_file else f"model {self.model} {self.params}"
        chg = ""
        if o.get("charger") is not None or o.get("norm") is not None:
            chg = (f"  charger {o.get('charger') or 'default'} (norm {o.get('norm') or 'as built'}; baseline: "
                   "parallel field of the same per-site norm)")
        return (f"{name}  N = {sizes}  drive = {o.get('drive', 0):g} [{u.drive}]  "
                f"method {'/'.join(methods)}  noise: {noise}{chg}\n"
                f"units: tau_c [{u.time}], E [{u.energy}], P [{u.power}], C_Q* [{u.capacitance}]; "
                f"Gamma = (N-site figure) / (N x single-site figure), Gamma_tau = tau_c(1) / tau_c(N); "
                "Gamma > 1: collective advantage")

    def table(self) -> str:
        """A printable advantage table: the single-site baseline row, then one row per size with the
        per-site figures and every Gamma; trajectory runs show value(error) with the standard
        error in the last digits, e.g. 1.234(12) = 1.234 +- 0.012."""
        cols = [("tau_c", "tau_c"), ("energy_max_per_site", "E_max/N"), ("power_max_per_site", "P_max/N"),
                ("capacitance_at_tau_c_per_site", "C_Q*/N"), *((g.key, g.short) for g in GAMMAS)]
        base = make_row(self.baseline, self.baseline)
        errors = any(r.get("gamma_power_stderr") is not None for r in self.rows)
        body = [["1 (base)", *(cell(base.get(k), base.get(k + "_stderr")) for k, _ in cols)]]
        body += [[str(r["n_sites"]), *(cell(r.get(k), r.get(k + "_stderr")) for k, _ in cols)] for r in self.rows]
        head = ["N", *(lab for _, lab in cols)]
        lines = text_table(head, body)
        notes = ["1 (base): the single-site version, run once with the same drive, noise, protocol and method"]
        if errors:
            notes.append("x(e): value with one standard error e in its last digits (trajectory or disorder-realisation "
                         "averages)")
        base_why = {k: v for k, v in base["undefined"].items() if k not in GAMMA_OF}
        base_why.update({g.key: base_why[g.figure] for g in GAMMAS if g.figure in base_why})
        entries = [("base", base_why), *((f"N = {r['n_sites']}", r.get("undefined")) for r in self.rows)]
        notes += undefined_notes(entries, dict(cols))
        dark = [n for n, r in sorted(self.results.items()) if r.not_charged]
        if dark or self.baseline.not_charged:
            who = ", ".join(map(str, dark)) + (" and the single site" if self.baseline.not_charged else "")
            notes.append(f"NOT CHARGED at N = {who}: E(t) stays at round-off level, so those figures and "
                         "Gammas are not results")
        notes += [f"FAILED at N = {r['n_sites']}: {r['failed']} (a failed run, not a result)"
                  for r in self.rows if r.get("failed")]
        return "\n".join(lines + [f"({n})" for n in notes])


def check_compare(model, sizes=None, drive: float = 0.5, *, params: dict | None = None, **options):
    """Check a comparison before computing anything: sizes, parameters, and every run's options,
    memory and rates x times (:func:`collective_qc.planning.guard.plan_run`).

    Returns (model, single-site model, sizes, fixed) where ``fixed`` says the model has no size
    parameter and runs at its own size only.
    """
    from .api import check_charge

    params = mapping(params, "params")
    if options.get("progress") not in (None, True) and not callable(options["progress"]):
        raise InputError(f"progress must be True, a callable (done, total) or None, got {options['progress']!r}")
    m = make_model(model, params)
    fixed = m.size_param is None
    sizes = None if sizes is None else parse_sizes(sizes)
    if fixed:
        own = _own_size(m)
        if sizes is not None and sizes != [own]:
            raise InputError(f"model {m.name!r} has no size parameter; it runs at its own size N = {own} only "
                             f"(got sizes [{', '.join(map(format_count, sizes))}]); drop --sizes")
        sizes = [own]
    elif sizes is None:
        sizes = [_own_size(m)]
    if not fixed and m.size_param in params:
        listed = ", ".join(map(format_count, sizes))
        raise InputError(f"parameter {m.size_param!r} = {shown(params[m.size_param])} given twice: compare sets "
                         f"{m.size_param!r} per row from sizes [{listed}]; leave it out of params")
    options = {k: v for k, v in options.items() if k not in ("params", "drive", "progress")}
    single = m.single_site()
    runs = [m] if fixed else [m.with_size(n) for n in sizes]
    for run in (single, *runs):  # the largest size is refused before any run
        check_charge(run, drive, **(for_baseline(single, options) if run is single else options))
    return m, single, sizes, fixed


def compare(model, sizes=None, drive: float = 0.5, *, params: dict | None = None, progress=None,
            **options) -> Comparison:
    """Charge `model` at every size and its single-site version; rows of per-site figures and Gamma.

    Parameters
    ----------
    model : catalog name, Model, Model class, nx.Graph or graph file
        A model with a size parameter (e.g. N) can be swept; any other model (a user graph,
        a fixed cluster) gives one row at its own size against its :meth:`Model.single_site`
        version (for a user graph: one site with the first spin node's attributes).
    sizes : "1,2,4", iterable of int, or None
        Numbers of sites N (the model's ``size_param``); None: the model's own size only.
    drive : float
        Charging amplitude lambda (energy units), the same for every size and the baseline.
    params : dict
        Model parameters (the size parameter is set per row).
    progress : None, True or callable (done, total) -> None, optional
        True for a :class:`collective_qc.core.progress.Progress` (as in :func:`collective_qc.charge`); a callable is
        called after every run (``done`` counts runs; fractions while a run is under way
        when the callable has a ``note`` method, i.e. a :class:`collective_qc.core.progress.Progress`).
    **options
        Passed to :func:`collective_qc.charge`: times, t_max, n_times, method (auto, closed,
        exact, trajectories, permutation), initial (ground, product, dicke:J,M, thermal:T),
        protocol, the noise rates (energy unit / hbar) dephasing, relaxation, pumping,
        collective_emission, collective_dephasing, collective_pumping, symmetry, ntraj, seed,
        quantities, tolerance, integrator, solver_options, client, charger, norm,
        battery_off_while_charging, speed_limit (default True here).

    Notes
    -----
    With a ``charger`` or ``norm`` other than the model's default charger, the baseline of
    size N is N parallel single-site chargers of the same per-site norm (Binder et al. 2015,
    Campaioli et al. 2017): the single site driven by the ``field`` charger rescaled to
    ||V_N|| / N. Every closed row is checked against the speed-limit bound of its run
    (:mod:`collective_qc.analysis.bounds`); a Gamma_P above it marks the row as failed (the value
    moves to ``gamma_power_failed``), it is not reported as a result.

    Returns
    -------
    Comparison
    """
    if options.get("sensitivities"):
        raise InputError("compare: sensitivities are not reported by compare; compute them with "
                         "charge(..., sensitivities=[...]) or cqc charge --sensitivity")
    m, single, sizes, fixed = check_compare(model, sizes, drive, params=params, progress=progress, **options)
    for bad in ("params", "drive"):
        options.pop(bad, None)
    if progress is not True:
        return _run_compare(m, single, sizes, fixed, drive, options, progress)
    from .core.progress import Progress  # like charge(progress=True): a bar on a terminal, status lines when piped

    with Progress(f"compare {m.name}", unit="runs") as bar:
        return _run_compare(m, single, sizes, fixed, drive, options, bar)


def _run_compare(m, single, sizes, fixed, drive, options, progress) -> Comparison:
    """The runs of :func:`compare` (arguments checked)."""
    from .api import charge

    total = len(sizes) + 1
    options.setdefault("speed_limit", True)
    if options.get("charger") is not None or options.get("norm") is not None:
        rows, results, res_1 = _compare_chargers(m, single, sizes, drive, options, progress, fixed)
        opts = {k: v for k, v in options.items() if k not in ("times", "progress", "client")}
        return Comparison(m.name, _shown_params(m), {"drive": drive, **opts}, rows, res_1, results,
                          graph_file=getattr(m, "path", None))
    run = _sub_progress(progress, total)
    res_1 = charge(single, drive, progress=run(0), **for_baseline(single, options))
    if progress is not None:
        progress(1, total)
    rows, results = [], {}
    for k, n in enumerate(sizes):
        target = m if fixed else m.with_size(n)
        same = n == 1 and type(single) is type(target) and single.values == target.values \
            and (not fixed or single is m)
        res_n = res_1 if same else charge(target, drive, progress=run(k + 1), **options)
        results[n] = res_n
        rows.append(check_bounds(make_row(res_n, res_1), res_n, res_1))
        if progress is not None:
            progress(k + 2, total)
    opts = {k: v for k, v in options.items() if k not in ("times", "progress", "client")}
    return Comparison(m.name, _shown_params(m), {"drive": drive, **opts}, rows, res_1, results,
                      graph_file=getattr(m, "path", None))


def _shown_params(m) -> dict:
    """The model's parameters without its size parameter (the sizes run are listed per row)."""
    return {k: v for k, v in m.values.items() if k != m.size_param}


def _own_size(m) -> int:
    from .physics.graph import validate_graph

    return validate_graph(m.graph()).n_sites


def _sub_progress(progress, total: int):
    """run(k) -> a (done, of) callback that reports run k's fraction to `progress` (a Progress only)."""
    if progress is None or not hasattr(progress, "note"):
        return lambda k: None

    def run(k):
        return lambda done, of: progress(round(k + done / max(of, 1), 2), total)

    return run


def _compare_chargers(m, single, sizes, drive, options, progress, fixed=False):
    """Rows for a chosen charger: baseline = single site, ``field`` charger of the same per-site norm."""
    from .api import charge

    base_opts = {**options, "charger": "field"}
    baselines: dict = {}
    rows, results, first = [], {}, None
    for k, n in enumerate(sizes):
        res_n = charge(m if fixed else m.with_size(n), drive, **options)
        info = res_n.metadata.get("charger") or {}
        if "norm" not in info:  # unbounded (cavity) charger: the model's own single site
            key, b_opts = None, {**options, "charger": None, "norm": None}
        else:
            key = round(info["norm"] / res_n.n_sites, 12)
            b_opts = {**base_opts, "norm": key}
        if key not in baselines:
            baselines[key] = charge(single, drive, **for_baseline(single, b_opts))
        res_1 = baselines[key]
        first = first or res_1
        results[n] = res_n
        row = make_row(res_n, res_1)
        row["charger"] = info.get("name")
        row["baseline_charger_norm"] = key
        rows.append(check_bounds(row, res_n, res_1))
        if progress is not None:
            progress(k + 1, len(sizes))
    return rows, results, first




def parse_sweeps(items) -> dict:
    """``--sweep`` items ``NAME=v1,v2,...`` -> {NAME: [values as given]} (values separated by ';'
    instead when one contains a comma, e.g. ``protocol=gauss:5,1;gauss:5,2``); InputError naming
    the item (no '=', an empty list, a name or value given twice)."""
    out: dict = {}
    for item in items or []:
        name, sep, text = str(item).partition("=")
        name = name.strip()
        if not sep or not name:
            raise InputError(f"--sweep expects NAME=VALUE,VALUE,..., got {shown(item)}")
        values = [v.strip() for v in text.split(";" if ";" in text else ",") if v.strip()]
        if not values:
            raise InputError(f"--sweep {name}: no values given (e.g. --sweep {name}=0.1,0.3)")
        if name in out:
            raise InputError(f"--sweep {name!r} given twice; list all its values in one --sweep")
        if len(set(values)) != len(values):
            raise InputError(f"--sweep {name}: a value is listed twice ({text})")
        out[name] = values
    return out


def _sweep_kind(m, name: str, options: dict) -> str:
    """What a swept NAME sets: "param" (a model parameter), "drive", "option" (a run option) or
    "charger" (an argument of the charger spec, e.g. k of k-local:k=2); InputError listing the names."""
    from .planning.options import OPTIONS

    if name == m.size_param:
        raise InputError(f"--sweep {name}: {name!r} is the size parameter; give its values with --sizes")
    if name in m.param_names():
        return "param"
    if name == "drive":
        return "drive"
    if name in OPTIONS:
        return "option"
    if name in _charger_args(options.get("charger")):
        return "charger"
    import difflib

    params = [p for p in m.param_names() if p != m.size_param]
    close = difflib.get_close_matches(name, [*params, "drive", *OPTIONS], n=2)
    hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
    raise InputError(f"--sweep {name}: not a parameter of model {m.name!r}, the drive, a run option or an argument "
                     f"of the charger{hint} (parameters: {', '.join(params) or 'none'}; run options: "
                     f"{', '.join(OPTIONS)})")


def _charger_args(spec) -> dict:
    """{argument: value} of a charger spec string ``NAME:key=value,...`` ({} otherwise)."""
    if not isinstance(spec, str) or ":" not in spec:
        return {}
    args = [p.partition("=") for p in spec.partition(":")[2].split(",")]
    return {k.strip(): v.strip() for k, sep, v in args if sep}


def _with_charger_arg(spec: str, name: str, value: str) -> str:
    head, _, text = spec.partition(":")
    parts = [f"{k}={value}" if k == name else f"{k}={v}" for k, v in _charger_args(spec).items()]
    return f"{head}:{','.join(parts)}"


def sweep_combinations(model, sweep: dict, drive: float = 0.5, params: dict | None = None, **options) -> list:
    """The Cartesian product of the swept values: one (values, drive, params, options) per
    combination, in the order the names were given (the last varies fastest). A swept name also given
    as a fixed value (``-p J=...`` and ``--sweep J=...``) is refused."""
    import itertools

    m = make_model(model, params)
    params = dict(params or {})
    kinds = {name: _sweep_kind(m, name, options) for name in sweep}
    for name, kind in kinds.items():
        fixed = {"param": params, "option": options}.get(kind, {})
        if name in fixed and fixed[name] is not None:
            raise InputError(f"--sweep {name}: {name!r} is also given as a fixed value ({fixed[name]!r}); give one")
    out = []
    for choice in itertools.product(*sweep.values()):
        values = dict(zip(sweep, choice))
        d, p, o = drive, dict(params), dict(options)
        for name, v in values.items():
            if kinds[name] == "param":
                p[name] = v
            elif kinds[name] == "drive":
                d = number(v, "--sweep drive")
            elif kinds[name] == "option":
                o[name] = _option_value(name, v)
            else:
                o["charger"] = _with_charger_arg(o["charger"], name, v)
        out.append((values, d, p, o))
    return out


def _option_value(name: str, text: str):
    """A swept run option's value, checked as its CLI flag is (:mod:`collective_qc.planning.options`)."""
    from .planning.options import OPTIONS

    try:
        return OPTIONS[name].parse(text)
    except InputError as exc:
        raise InputError(f"--sweep {name}: {exc}") from None


def compare_sweep(model, sizes=None, drive: float = 0.5, *, sweep: dict, params: dict | None = None,
                  progress=None, **options) -> list:
    """One :func:`compare` per combination of swept values.

    Parameters
    ----------
    sweep : dict
        NAME -> list of values (strings as on the command line, or numbers): a model parameter
        (e.g. J), ``drive``, a run option (dephasing, temperature, charger, method, ...) or an
        argument of the charger spec (k of ``charger="k-local:k=2"``); several names form a Cartesian
        product. Every combination is checked (:func:`check_compare`) before the first run.
    model, sizes, drive, params, progress, **options
        As for :func:`compare`.

    Returns
    -------
    list of (dict, Comparison)
        The swept values of each combination and its comparison.
    """
    combos = check_sweep(model, sizes, drive, sweep=sweep, params=params, **options)
    return [(values, compare(model, sizes, d, params=p, progress=progress, **o)) for values, d, p, o in combos]


def check_sweep(model, sizes=None, drive: float = 0.5, *, sweep: dict, params: dict | None = None, **options):
    """Check every combination of a :func:`compare_sweep` before any run; returns the combinations
    of :func:`sweep_combinations`."""
    combos = sweep_combinations(model, sweep, drive, params, **options)
    for _values, d, p, o in combos:
        check_compare(model, sizes, d, params=p, **o)
    return combos
