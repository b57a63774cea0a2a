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
"""

from __future__ import annotations

import numpy as np

from .figures import GAMMAS

__all__ = ["summary", "two_way_gammas", "SUMMARY_KEYS"]

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
