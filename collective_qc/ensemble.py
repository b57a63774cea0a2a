"""Disorder ensembles: ``charge(model, disorder=..., realisations=R, seed=s)``.

Realisation r draws the disordered graph attributes on the model's clean graph (a catalog
model's :meth:`graph`, a user graph as given) from the streams of (seed, point 0, r)
(:func:`collective_qc.physics.disorder.realisation_rng`), and runs the ordinary
:func:`collective_qc.charge` on that graph with every other option; its trajectories, if any,
use the seed :func:`collective_qc.analysis.ensemble.trajectory_seed` of (seed, r). So
realisation r is the same run whatever R, worker count or order. The results are averaged into
an :class:`collective_qc.analysis.ensemble.EnsembleResult`.

Everything is checked before the first realisation runs: the disorder specification (unknown
attribute or distribution, a negative scale, a rate that a distribution could draw negative, an
attribute the model has no site or bond for), the realisation count, and the whole run
(:func:`collective_qc.planning.guard.plan_run`) on realisation 0's graph.

The realisations run one after the other; each is folded into running means as it finishes
(memory O(n_times) for the curves plus a small record per realisation, checked against the
memory guard before the first run). Interrupted (Ctrl-C) after some realisations, the ensemble
raises :class:`EnsembleInterrupted`, a KeyboardInterrupt carrying the result of the finished
ones (``cqc charge`` prints and writes it). Ensembles that must survive a crash belong in a
study (:mod:`collective_qc.study`), which persists every realisation and resumes.
"""

from __future__ import annotations

import time as _time
from dataclasses import dataclass

from .analysis.ensemble import EnsembleAccumulator, RealisationSource, trajectory_seed
from .core.errors import InputError, shown
from .core.validate import check_memory
from .core.version import __version__
from .physics.disorder import EDGE_ATTRIBUTES, NODE_ATTRIBUTES, parse_disorder
from .planning.options import OPTIONS

__all__ = ["run_ensemble", "check_ensemble", "is_ensemble", "EnsembleInterrupted", "for_baseline"]

_NOT_PASSED = ("model", "params", "disorder", "realisations", "progress", "seed")  # the ensemble sets these


def is_ensemble(args: dict) -> bool:
    """True when a charge() call asks for an ensemble: a non-empty disorder, or realisations
    other than 1 (refused by :func:`check_ensemble` without disorder)."""
    return bool(args.get("disorder")) or args.get("realisations", 1) != 1


@dataclass(frozen=True)
class Ensemble:
    """A checked ensemble: what realisations are drawn from, R, and the other charge() arguments."""

    source: RealisationSource
    R: int
    run_args: dict


def _setup(args: dict) -> Ensemble:
    """The checked ensemble of a charge() call's arguments (by name, defaults applied); one-line
    InputError naming the key at fault, before anything runs."""
    from .core.validate import mapping
    from .physics.registry import make_model
    from .planning.guard import check_buildable, times_spec

    R = OPTIONS["realisations"].parse(args.get("realisations", 1))
    dis = parse_disorder(args.get("disorder"))
    if not dis:
        raise InputError(f"realisations = {R} needs disorder (every realisation would be the same run: nothing to "
                         "average); give disorder, e.g. omega=uniform:0.5, or realisations = 1")
    seed = OPTIONS["seed"].parse(args["seed"]) if args.get("seed") is not None else \
        getattr(args.get("solver_options"), "seed", OPTIONS["seed"].default)
    rates = {k: OPTIONS[k].parse(args.get(k) or 0.0) for k in ("dephasing", "relaxation")}
    model = make_model(args["model"], mapping(args.get("params"), "params"))
    check_buildable(model, times_spec(args.get("times"), args.get("t_max"), args.get("n_times"))[0])
    clean = model.graph()  # after the size check: a model too large to build is refused first
    _refuse_collective(clean, model.name)
    dis.check_rates(rates, clean)
    run_args = {k: v for k, v in args.items() if k not in _NOT_PASSED}
    return Ensemble(RealisationSource(model, dis, int(seed), rates), R, run_args)


def for_baseline(single, options: dict) -> dict:
    """The charge() options of a comparison's single-site baseline `single`: its disorder keeps the
    attributes the single site carries (a bond coupling such as J has nothing to draw on there,
    as in a study's baseline), and with none left the baseline is the clean single run."""
    if not options.get("disorder"):
        return options
    dis = parse_disorder(options["disorder"])
    drawn = RealisationSource(single, dis, 0, {}).model_of(0).drawn
    kept = {a: d.func if d.name == "callable" else d.describe() for a, d in dis.dists.items() if a in drawn}
    if len(kept) == len(dis.dists):
        return options
    if kept:
        return {**options, "disorder": kept}
    return {k: v for k, v in options.items() if k not in ("disorder", "realisations")}


def _refuse_collective(graph, name: str) -> None:
    for node, attrs in graph.nodes(data=True):
        if attrs.get("kind", "spin") == "spin" and int(attrs.get("sites", 1) or 1) > 1:
            raise InputError(f"disorder: model {name!r} holds its {attrs['sites']} sites in one collective spin "
                             f"node ({node!r}), so a drawn value would be shared by all of them; use "
                             "representation='explicit' (one node per site)")


def _refuse_untargeted(ens: Ensemble, drawn: dict) -> None:
    """Refuse a disordered attribute that the model has no site or bond for (nothing drawn)."""
    for attr in ens.source.disorder.dists:
        if attr not in drawn:
            what = "spin sites" if attr in NODE_ATTRIBUTES else \
                ("spin-boson edges" if attr == "g" else "spin-spin bonds") if attr in EDGE_ATTRIBUTES else "targets"
            raise InputError(f"disorder {attr!r}: model {ens.source.model.name!r} has no {what} to draw it on")


def check_ensemble(args: dict, check):
    """Check an ensemble charge() call without running it: the disorder and realisations, then
    the run on realisation 0's graph with `check` (``api.check_charge``).

    Returns
    -------
    collective_qc.planning.guard.RunPlan
        The plan of realisation 0 (the others differ only in drawn values).
    """
    return _checked(args, check)[1]


def _checked(args: dict, check) -> tuple[Ensemble, object]:
    """(the checked ensemble, realisation 0's RunPlan)."""
    ens = _setup(args)
    first = ens.source.model_of(0)
    _refuse_untargeted(ens, first.drawn)
    plan = check(first, **_run_kwargs(ens, 0))
    n_values = sum(len(d["values"]) for d in first.drawn.values())
    check_memory(ens.R * record_bytes(n_values), f"realisations = {ens.R} (the per-realisation records: "
                 f"figures and {n_values} drawn values each)")
    return ens, plan


def record_bytes(n_values: int) -> int:
    """Bytes one realisation's record holds (figures, seeds and its `n_values` drawn values with
    their targets as Python objects): 1 KiB + 128 B per drawn value, above the 0.9 KiB + 119 B
    measured with tracemalloc (N = 4 and 10 chains)."""
    return 1024 + 128 * n_values


def _run_kwargs(ens: Ensemble, index: int) -> dict:
    """The arguments of realisation `index`'s charge() run (its own trajectory seed)."""
    return {**ens.run_args, "seed": trajectory_seed(ens.source.seed, index)}


def run_ensemble(args: dict, charge, check) -> object:
    """Run the ensemble of a charge() call.

    Parameters
    ----------
    args : dict
        The charge() arguments by name, defaults applied (``unknown`` removed).
    charge, check : callable
        :func:`collective_qc.charge` and :func:`collective_qc.api.check_charge` (passed in: the
        API imports this module).

    Returns
    -------
    collective_qc.analysis.ensemble.EnsembleResult
    """
    t_start = _time.perf_counter()
    ens, _plan = _checked(args, check)  # everything refused before the first run
    progress, own = _progress(args.get("progress"))
    acc = EnsembleAccumulator()
    try:
        for r in range(ens.R):
            model = ens.source.model_of(r)
            run_args = _run_kwargs(ens, r)
            res = charge(model, progress=_sub_progress(progress, r, ens.R), **run_args)
            acc.add(res, {"index": r, "drawn": model.drawn, "trajectory_seed": run_args["seed"],
                          "refinements": len(res.metadata.get("cutoff_history") or [])})
            if progress is not None:
                progress(r + 1, ens.R)
    except KeyboardInterrupt:
        if acc.n == 0:
            raise
        partial = acc.result(ens.source, _metadata(ens, acc, t_start))
        raise EnsembleInterrupted(partial, ens.R) from None
    finally:
        if own:
            progress.close()
    return acc.result(ens.source, _metadata(ens, acc, t_start))


class EnsembleInterrupted(KeyboardInterrupt):
    """An ensemble interrupted (Ctrl-C) after at least one finished realisation. A KeyboardInterrupt
    (it stops the program like one); ``partial`` is the :class:`EnsembleResult` of the finished
    realisations (0 ... n-1, the same numbers an ensemble of n would give), ``requested`` the R
    asked for."""

    def __init__(self, partial, requested: int):
        super().__init__(f"ensemble interrupted after {partial.n_realisations} of {requested} realisations")
        self.partial, self.requested = partial, requested


def _progress(progress):
    """(reporter or None, whether this module made it): True -> a Progress counting realisations."""
    if progress is True:
        from .core.progress import Progress

        return Progress("charge ensemble", unit="realisations"), True
    if progress is not None and not callable(progress):
        raise InputError(f"progress must be True, a callable (done, total) or None, got {shown(progress)}")
    if hasattr(progress, "unit"):
        progress.unit = "realisations"
    return progress, False


def _sub_progress(progress, r: int, R: int):
    """A (done, of) callback for realisation r's run: fractions of realisations to a Progress
    (one with ``note``); plain callables hear only whole realisations."""
    if progress is None or not hasattr(progress, "note"):
        return None
    return lambda done, of: progress(round(r + done / max(of, 1), 2), R)


def _metadata(ens: Ensemble, acc, t_start: float) -> dict:
    """Provenance of the ensemble: the disorder, R, seed, the model and the shared set-up of its
    runs (realisation 0's units, initial state, protocol, uniform noise, charger)."""
    src, meta = ens.source, acc.first.metadata
    noise = {k: v for k, v in (meta.get("noise") or {}).items()
             if not (k.startswith("per_site_") and k[len("per_site_"):] in src.disorder.dists)}
    return {
        "version": __version__, "model": src.model.name, "params": dict(getattr(src.model, "values", {})),
        "disorder": src.disorder.describe(), "realisations": acc.n, "seed": src.seed, "point": 0,
        "seeding": "realisation r: attribute streams of (seed, 0, r, crc32(attribute)); trajectories: "
                   "trajectory_seed(seed, r)",
        "units": meta.get("units"), "initial": meta.get("initial"), "protocol": meta.get("protocol"),
        "noise": noise, "charger": meta.get("charger"), "graph_file": getattr(src.model, "path", None),
        "quantities": meta.get("quantities"), "wall_time_s": _time.perf_counter() - t_start,
        "interrupted": None if acc.n == ens.R else f"after {acc.n} of {ens.R} realisations (Ctrl-C)",
    }
