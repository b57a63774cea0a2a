"""Statistics over disorder realisations: summaries of a figure, and the collective advantage
reported two ways.

A figure sampled over R realisations (None where a realisation has no such figure, e.g. no
maximum of E in the window) is summarised by its mean with standard error s / sqrt(R), median,
10 % and 90 % quantiles, and the count of realisations that define it.

The advantage Gamma_X of an N-site battery over single sites, both under the same disorder
(:mod:`collective_qc.analysis.advantage` for one pair of runs), two ways:

- ``mean_of_ratios``: the mean over realisations r of Gamma_X(r) = X_N(r) / (N X_1(r)) (X_1(r)
  the r-th single-site realisation), with its standard error;
- ``ratio_of_means``: Gamma of the averaged battery, <X_N> / (N <X_1>) (tau_c inverted:
  <tau_1> / <tau_N>), with its delete-one jackknife error over paired realisations.

An ensemble of R realisations of one charging run (:func:`collective_qc.charge` with
``disorder`` and ``realisations``, run by :mod:`collective_qc.ensemble`) is an
:class:`EnsembleResult`: a :class:`~collective_qc.analysis.results.ChargeResult` of the mean
curves with their standard errors, plus the summary of every figure over realisations and the
per-realisation figures and drawn values. :class:`RealisationSource` redraws realisation r
(:meth:`EnsembleResult.realised_graph`), and :func:`trajectory_seed` is the seed of its
trajectories; both depend on (seed, r) only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
import numpy as np

from ..core.errors import InputError
from ..physics.disorder import DISTRIBUTIONS, Disorder, realisation_rng
from .figures import FIGURES, GAMMAS
from .merit import figures_of_merit
from .results import ChargeResult, format_value, jsonable

__all__ = ["summary", "two_way_gammas", "SUMMARY_KEYS", "EnsembleResult", "RealisationSource", "EnsembleAccumulator",
           "RunningMoments", "realisation_figures", "trajectory_seed", "write_node_link", "ERGOTROPY_FIGURES"]

SUMMARY_KEYS = ("mean", "stderr", "median", "q10", "q90", "n")


def summary(values) -> dict:
    """{mean, stderr, median, q10, q90, n} of the defined (not None, finite) values; the statistics
    are None when fewer than one (stderr: two) values are defined."""
    x = np.array([v for v in values if v is not None and np.isfinite(v)], dtype=float)
    out = dict.fromkeys(SUMMARY_KEYS)
    out["n"] = int(x.size)
    if x.size:
        out.update(mean=float(x.mean()), median=float(np.median(x)), q10=float(np.quantile(x, 0.1)),
                   q90=float(np.quantile(x, 0.9)))
    if x.size > 1:
        out["stderr"] = float(x.std(ddof=1) / np.sqrt(x.size))
    return out


def _ratio(a, b, n: float, inverse: bool):
    """Gamma of one pair of figures (None when either is missing, b is zero or the signs differ)."""
    if a is None or b is None or not (np.isfinite(a) and np.isfinite(b)):
        return None
    num, den = (b, a) if inverse else (a, n * b)
    if den == 0 or num * den < 0:
        return None
    return float(num / den)


def two_way_gammas(figs_n: list[dict], figs_1: list[dict], n_sites: float) -> dict:
    """{Gamma key: {"mean_of_ratios": summary, "ratio_of_means": {"value", "stderr"}}} from the
    per-realisation figures of the N-site battery and of its single site (paired by realisation
    index; the shorter list sets R)."""
    R = min(len(figs_n), len(figs_1))
    out = {}
    for g in GAMMAS:
        a = [f.get(g.figure) for f in figs_n[:R]]
        b = [f.get(g.figure) for f in figs_1[:R]]
        per = [_ratio(x, y, n_sites, g.inverse) for x, y in zip(a, b, strict=True)]
        out[g.key] = {"mean_of_ratios": summary(per), "ratio_of_means": _ratio_of_means(a, b, n_sites, g.inverse)}
    return out


def _ratio_of_means(a: list, b: list, n: float, inverse: bool) -> dict:
    """<a> / (n <b>) (or <b> / <a>) over the pairs where both are defined, with the delete-one
    jackknife standard error."""
    pairs = np.array([(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None
                      and np.isfinite(x) and np.isfinite(y)], dtype=float).reshape(-1, 2)
    R = len(pairs)
    if R == 0:
        return {"value": None, "stderr": None}
    value = _ratio(pairs[:, 0].mean(), pairs[:, 1].mean(), n, inverse)
    if value is None or R < 2:
        return {"value": value, "stderr": None}
    tot = pairs.sum(axis=0)
    reps = [_ratio((tot[0] - p[0]) / (R - 1), (tot[1] - p[1]) / (R - 1), n, inverse) for p in pairs]
    if any(r is None for r in reps):
        return {"value": value, "stderr": None}
    reps = np.array(reps)
    return {"value": value, "stderr": float(np.sqrt((R - 1) / R * np.sum((reps - reps.mean()) ** 2)))}


# --------------------------------------------------------------------------------------------
# Ensemble results: R realisations of a disordered model, each an ordinary charging run
# --------------------------------------------------------------------------------------------

ERGOTROPY_FIGURES = ("ergotropy_max", "ergotropy_at_tau_c")
POINT = 0  # a single charge() call is point 0 of the seeding rule (a study numbers its points)


@dataclass(frozen=True)
class RealisationSource:
    """What realisation r of an ensemble is drawn from: the model (its clean graph, and its
    cutoff refinements), the disorder, the seed and the run's uniform rates (the clean value of
    a per-site rate where a node has none)."""

    model: Any  # collective_qc.physics.model.Model
    disorder: Disorder
    seed: int
    rates: dict

    def model_of(self, index: int):
        """Realisation `index` as a model (:class:`collective_qc.physics.disorder.RealisedModel`):
        the draws depend on (seed, point 0, index) and the attribute only (:func:`realisation_rng`)."""
        from ..physics.disorder import RealisedModel

        return RealisedModel(self.model, self.disorder, realisation_rng(self.seed, POINT, index), self.rates,
                             label=f"realisation {index}")

    def realise(self, index: int, level: int = 0):
        """(graph, drawn) of realisation `index` of the model refined `level` times (its Fock
        cutoff doubled by ``charge``'s automatic refinement; 0: as given)."""
        model = self.model_of(index)
        for step in range(1, level + 1):
            model = model.refine_cutoff(step) or model
        return model.graph(), model.drawn


def trajectory_seed(seed: int, index: int) -> int:
    """The trajectory seed of realisation `index` (an integer in [0, 2^31)), drawn from the stream
    of (seed, point 0, index) named "trajectories" (no attribute has that name): fixed by
    (seed, index) alone, so a realisation's trajectories do not depend on R."""
    return int(realisation_rng(seed, POINT, index)("trajectories").integers(2 ** 31))


def realisation_figures(res) -> dict:
    """{figure: value} of one realisation (a ChargeResult); None where the figure is not a
    result (:attr:`ChargeResult.undefined`). With a sampled ergotropy W(t): ``ergotropy_max``
    (largest sample) and ``ergotropy_at_tau_c`` (W interpolated linearly at tau_c)."""
    why = res.undefined
    out = {fig: (None if fig in why else getattr(res, fig)) for fig in FIGURES}
    w = (res.observables or {}).get("ergotropy")
    if w is not None:
        w = np.asarray(w, dtype=float)
        out["ergotropy_max"] = float(np.max(w))
        out["ergotropy_at_tau_c"] = None if res.tau_c is None else float(np.interp(res.tau_c, res.times, w))
    return out


class RunningMoments:
    """Mean and sample variance of same-shape series added one realisation at a time (Welford's
    update), so an ensemble holds O(n_times) numbers whatever R. A series name missing from a
    realisation is dropped: only the series every realisation sampled are averaged."""

    def __init__(self):
        self.n = 0
        self._mean: dict = {}
        self._m2: dict = {}

    def add(self, series: dict) -> None:
        """Fold in one realisation's {name: array} (float copies; the arrays are not kept)."""
        self.n += 1
        if self.n == 1:
            self._mean = {k: np.array(v, dtype=float) for k, v in series.items()}
            self._m2 = {k: np.zeros_like(v) for k, v in self._mean.items()}
            return
        for k in [k for k in self._mean if k not in series]:
            del self._mean[k], self._m2[k]
        for k, mean in self._mean.items():
            x = np.asarray(series[k], dtype=float)
            delta = x - mean
            mean += delta / self.n
            self._m2[k] += delta * (x - mean)

    def names(self) -> list:
        return sorted(self._mean)

    def mean(self, name: str) -> np.ndarray:
        return self._mean[name]

    def stderr(self, name: str):
        """s / sqrt(R) with s the sample standard deviation (ddof 1); None for R = 1."""
        return None if self.n < 2 else np.sqrt(self._m2[name] / ((self.n - 1) * self.n))


class EnsembleAccumulator:
    """Realisation runs folded in one at a time (:meth:`add`), then :meth:`result`.

    Keeps the running moments of E, P, C_Q and the sampled observables, each realisation's
    figures and record (drawn values, seeds), and the first run (an ensemble of one is that
    run): memory O(n_times + R x record), not O(R x n_times). ``n`` realisations so far; an
    interrupted ensemble is :meth:`result` of the finished ones.
    """

    def __init__(self):
        self.curves, self.observables = RunningMoments(), RunningMoments()
        self.rows: list = []
        self.first = None
        self.all_undefined = True

    @property
    def n(self) -> int:
        return len(self.rows)

    def add(self, res, record: dict) -> None:
        """Fold in realisation run `res` (a ChargeResult) with its `record` ({index, drawn, ...})."""
        if self.first is None:
            self.first = res
        self.curves.add({"energy": res.energy, "power": res.power, "capacitance": res.capacitance})
        self.observables.add(dict(res.observables or {}))
        self.rows.append({**record, "figures": realisation_figures(res), "method": res.method})
        self.all_undefined = self.all_undefined and bool(res.metadata.get("undefined"))

    def result(self, source: RealisationSource, meta: dict) -> EnsembleResult:
        """The :class:`EnsembleResult` of the realisations so far, drawn from `source`, with the
        ensemble's provenance `meta` (disorder, R, seed, units, ...)."""
        first, t, c = self.first, self.first.times, self.curves
        e, p, cq = (c.mean(k) for k in ("energy", "power", "capacitance"))
        merit = figures_of_merit(t, e, p, cq) if self.n > 1 else first  # one realisation: its own figures
        per = [row["figures"] for row in self.rows]
        keys = list(FIGURES) + [k for k in ERGOTROPY_FIGURES if all(k in f for f in per)]
        methods = sorted({row["method"] for row in self.rows})
        first_undefined = first.metadata.get("undefined")
        mean_undefined = getattr(merit, "undefined", None) if self.n > 1 else first_undefined
        metadata = {**meta, "methods": methods,
                    "undefined": mean_undefined or (f"every realisation: {first_undefined}" if self.all_undefined
                                                    else None)}
        obs = self.observables
        observables = {k: obs.mean(k) for k in obs.names()}
        obs_err = {k: obs.stderr(k) for k in obs.names()} if self.n > 1 and observables else None
        out = EnsembleResult(
            times=t, energy=e, power=p, capacitance=cq, n_sites=first.n_sites, tau_c=merit.tau_c,
            energy_max=merit.energy_max, power_max=merit.power_max, average_power_max=merit.average_power_max,
            capacitance_at_tau_c=merit.capacitance_at_tau_c, model=meta.get("model", first.model),
            params=dict(meta.get("params", {})), method=methods[0] if len(methods) == 1 else ",".join(methods),
            drive=first.drive, energy_stderr=c.stderr("energy"), power_stderr=c.stderr("power"),
            capacitance_stderr=c.stderr("capacitance"), metadata=metadata, observables=observables,
            observables_stderr=obs_err, figures={k: summary([f.get(k) for f in per]) for k in keys},
            realisations=self.rows)
        out._source = source  # noqa: SLF001 - what realised_graph() draws from (not serialised)
        return out


@dataclass
class EnsembleResult(ChargeResult):
    """Means over R disorder realisations, shaped like a trajectory :class:`ChargeResult`.

    Attributes
    ----------
    times, energy, power, capacitance : ndarray (n_times,)
        Sample times and the ensemble means of E(t), P(t), C_Q(t) (units as ChargeResult).
    energy_stderr, power_stderr, capacitance_stderr : ndarray (n_times,) or None
        Standard errors of the means, s / sqrt(R) with s the sample standard deviation over
        realisations (it includes any trajectory noise of the realisations); None for R = 1.
    tau_c, energy_max, power_max, average_power_max, capacitance_at_tau_c
        Figures of merit of the mean curves (not the means of the figures: see ``figures``),
        refined between samples by cubic interpolation (no exact evaluator for a mean); for
        R = 1 the realisation's own.
    observables, observables_stderr : dict
        Means and standard errors of the time series every realisation sampled.
    figures : dict
        {figure: :func:`summary` over realisations} (mean, stderr, median, q10, q90, n: the
        realisations where the figure is a result) for tau_c, energy_max, power_max,
        average_power_max, capacitance_at_tau_c, and ergotropy_max, ergotropy_at_tau_c when the
        ergotropy was sampled.
    realisations : list of dict
        Per realisation: ``index``, ``figures`` (None where not a result), ``drawn``
        ({attribute: {"targets", "values"}} in graph order), ``method``, ``trajectory_seed``,
        ``refinements`` (automatic Fock-cutoff doublings of its run).
    metadata : dict
        ``disorder`` (its description), ``realisations`` (R), ``seed``, ``point`` (0), ``methods``,
        and the run's set-up (units, initial state, protocol, uniform noise, charger).
    """

    figures: dict = field(default_factory=dict)
    realisations: list = field(default_factory=list)

    @property
    def n_realisations(self) -> int:
        return len(self.realisations)

    def realised_graph(self, index: int, path: str | None = None):
        """The graph of realisation `index` (an nx.Graph with the drawn attributes, at the
        Fock cutoff its run ended with); with `path` (.json) also written as node-link JSON,
        which ``charge(model=path)`` reads back and runs to the same numbers."""
        source = getattr(self, "_source", None)
        if source is None:
            raise InputError("realised_graph needs the ensemble as charge() returned it (a result read back "
                             "from JSON keeps the drawn values in realisations[r]['drawn'] only)")
        if not isinstance(index, (int, np.integer)) or not 0 <= index < self.n_realisations:
            raise InputError(f"realised_graph index must be an integer in [0, {self.n_realisations}), got {index!r}")
        graph, _ = source.realise(int(index), self.realisations[index].get("refinements", 0))
        if path is not None:
            write_node_link(graph, path)
        return graph

    def to_dict(self) -> dict:
        """Plain JSON types, like :meth:`ChargeResult.to_dict` (``figures`` and ``realisations``
        included; the private drawing source left out)."""
        out = {key: jsonable(val) for key, val in self.__dict__.items() if not key.startswith("_")}
        out["undefined"] = self.undefined
        out.update({fig: None for fig in out["undefined"]})
        out["units"] = self.units.as_dict()
        return out

    def summary(self) -> str:
        """The ensemble: set-up, disorder, R and seed, then each figure over realisations as
        mean +- standard error, median and the 10 % / 90 % quantiles (with units), and the
        figures of the mean curves."""
        u, meta = self.units, self.metadata
        unit = {"tau_c": u.time, "energy_max": u.energy, "power_max": u.power, "average_power_max": u.power,
                "capacitance_at_tau_c": u.capacitance, "ergotropy_max": u.energy, "ergotropy_at_tau_c": u.energy}
        dis = "; ".join(f"{a}: {_describe(d)}" for a, d in (meta.get("disorder") or {}).items())
        lines = [f"model {self.model} {self.params}  N = {self.n_sites}  method = {self.method}  "
                 f"drive = {self.drive:g} [{u.drive}]",
                 f"  disorder         {dis} (around each clean value)",
                 f"  ensemble         R = {self.n_realisations} realisations, seed {meta.get('seed')} "
                 "(realisation r drawn from the streams of (seed, 0, r) only)"
                 + (f"; INTERRUPTED {meta['interrupted']}" if meta.get("interrupted") else ""),
                 *self._setup_lines(),
                 f"  {'over realisations':28s} {'mean +- stderr':>22s} {'median':>11s} {'10 %':>11s} "
                 f"{'90 %':>11s}  defined"]
        for key, s in self.figures.items():
            label = f"{LABELS.get(key, key)} [{unit.get(key, '')}]"
            if s["mean"] is None:
                lines.append(f"  {label:28s} {'undefined':>22s} {'-':>11s} {'-':>11s} {'-':>11s}  "
                             f"0/{self.n_realisations}")
                continue
            lines.append(f"  {label:28s} {format_value(s['mean'], s['stderr']):>22s} {s['median']:11.5g} "
                         f"{s['q10']:11.5g} {s['q90']:11.5g}  {s['n']}/{self.n_realisations}")
        why = self.undefined
        mean = ", ".join(f"{LABELS[f]} = " + ("undefined" if f in why else f"{getattr(self, f):.6g}")
                         for f in FIGURES)
        lines.append(f"  of the mean curves: {mean}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (f"EnsembleResult(model={self.model!r}, N={self.n_sites}, R={self.n_realisations}, "
                f"method={self.method!r}, n_times={len(self.times)}, tau_c={self.tau_c})")


LABELS = {"tau_c": "tau_c", "energy_max": "E_max", "power_max": "P_max", "average_power_max": "max E(t)/t",
          "capacitance_at_tau_c": "C_Q(tau_c)", "ergotropy_max": "W_max", "ergotropy_at_tau_c": "W(tau_c)"}


def _describe(d: dict) -> str:
    """'uniform, full width 0.5' from a Distribution description."""
    name = d.get("dist")
    if name == "callable":
        return f"callable {d.get('name')}"
    key = DISTRIBUTIONS.get(name, "width")
    return f"{name}, {'full width' if key == 'width' else key} {d.get(key):g}"


def write_node_link(graph: nx.Graph, path: str) -> str:
    """Write `graph` as node-link JSON (edges under "edges"), the format
    :func:`collective_qc.physics.model.load_graph_file` reads; floats keep every bit. Node labels
    must be numbers or strings (JSON has no tuples)."""
    for n in graph.nodes:
        if not isinstance(n, (int, str)) or isinstance(n, bool):
            raise InputError(f"realised_graph: node label {n!r} cannot be written as JSON (use numbers or strings)")
    try:
        data = nx.node_link_data(graph, edges="edges")
    except TypeError:  # networkx < 3.4 names the keyword `link`
        data = nx.node_link_data(graph, link="edges")
    with open(path, "w") as fh:
        json.dump(jsonable(data), fh, indent=1, allow_nan=False)
    return path
