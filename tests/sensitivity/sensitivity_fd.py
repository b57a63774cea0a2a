"""Central finite differences of ``charge()`` itself, the reference of the sensitivity tests."""

from __future__ import annotations

import warnings

import numpy as np

import collective_qc as cqc

SERIES = ("energy", "power", "capacitance")
FIGURES = ("tau_c", "energy_max", "power_max", "capacitance_at_tau_c")


def relative_errors(rec: dict, fd: dict) -> dict:
    """max |sensitivity - FD| / max |FD| per series; |a - b| / |b| per figure (floored at 1e-3 of the
    largest figure derivative, so a vanishing one is judged on the scale of the others)."""
    out = {k: float(np.max(np.abs(rec[k] - fd[k])) / max(np.max(np.abs(fd[k])), 1e-300)) for k in SERIES}
    scale = max([abs(fd[k]) for k in FIGURES if fd.get(k) is not None] + [1e-300])
    for k in FIGURES:
        if fd.get(k) is not None:
            out[k] = abs(rec[k] - fd[k]) / max(abs(fd[k]), 1e-3 * scale)
    return out


def finite_difference(call, value: float, h: float | None = None) -> dict:
    """Fourth-order central difference (Richardson: (8 (f(h) - f(-h)) - (f(2h) - f(-2h))) / 12h) of the
    series and figures; ``call(v)`` runs charge() with the parameter at v. Step h = 1e-3 max(|value|, 1)
    unless given (truncation ~ h^4 ~ 1e-12, round-off ~ 1e-13 / h ~ 1e-10, relative)."""
    h = 1e-3 * max(abs(value), 1.0) if h is None else h
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = [call(value + s * h) for s in (-2, -1, 1, 2)]

    def diff(a):
        return None if any(x is None for x in a) else (8 * (a[2] - a[1]) - (a[3] - a[0])) / (12 * h)

    out = {k: diff([np.asarray(getattr(r, k)) for r in runs]) for k in SERIES}
    out.update({k: diff([getattr(r, k) for r in runs]) for k in FIGURES})
    return out


def check(model, name: str, set_value, value: float, tol: float = 1e-6, h: float | None = None, **kwargs):
    """Run charge(model, sensitivities=[name], **kwargs) and compare with central differences of
    charge(model, **kwargs, **set_value(v)) (``set_value`` may return a ``model``); returns the
    relative errors (asserting them below tol)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = cqc.charge(model, sensitivities=[name], **kwargs)
    rec = res.sensitivities[name]

    def call(v):  # set_value(v) may replace the model (a graph with one attribute changed)
        kw = {**kwargs, **set_value(v)}
        return cqc.charge(kw.pop("model", model), **kw)

    fd = finite_difference(call, value, h)
    err = relative_errors(rec, fd)
    assert max(err.values()) <= tol, (name, err)
    return err
