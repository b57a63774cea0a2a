"""Central finite differences of ``charge()`` itself, the reference of the sensitivity tests."""

from __future__ import annotations

import warnings

import numpy as np

import collective_qc as cqc

SERIES = ("energy", "power", "capacitance")
FIGURES = ("tau_c", "energy_max", "power_max", "capacitance_at_tau_c")


def relative_errors(rec: dict, fd: dict, res, theta: float) -> dict:
    """|sensitivity - FD| relative to max(|FD|, 1e-4 x the derivative's natural size), per series
    (max over samples) and per figure. The natural size of dX/dtheta is max|X| / max(|theta|, 1) (X the
    run's series or figure): a derivative that vanishes (E(t) independent of theta) is judged on
    that scale instead of on its round-off."""
    unit = max(abs(theta), 1.0)
    out = {}
    for k in SERIES:
        floor = 1e-4 * float(np.max(np.abs(getattr(res, k)))) / unit
        out[k] = float(np.max(np.abs(rec[k] - fd[k])) / max(np.max(np.abs(fd[k])), floor, 1e-300))
    for k in FIGURES:  # a figure that is not a result (round-off C_Q*) has no derivative to check
        if fd.get(k) is not None and k not in res.undefined:
            floor = 1e-4 * abs(getattr(res, k)) / unit
            out[k] = abs(rec[k] - fd[k]) / max(abs(fd[k]), floor, 1e-300)
    return out


def finite_difference(call, value: float, h: float | None = None) -> dict:
    """Fourth-order central difference (Richardson: (8 (f(h) - f(-h)) - (f(2h) - f(-2h))) / 12h) of the
    series and figures; ``call(v)`` runs charge() with the parameter at v. Step h = 1e-3 max(|value|, 1)
    unless given, h = 1e-2 |value| for a nonzero value below 0.1 (a tiny crystal-field term: a step of
    1e-3 would change H by O(1), a step of 1e-3 |value| would leave the run's round-off / h large);
    truncation ~ (h/scale)^4 ~ 1e-12, round-off ~ 1e-13 / h ~ 1e-10, relative."""
    if h is None:
        h = 1e-2 * abs(value) if 0 < abs(value) < 0.1 else 1e-3 * max(abs(value), 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runs = [call(value + s * h) for s in (-2, -1, 1, 2)]

    def diff(a):
        return None if any(x is None for x in a) else (8 * (a[2] - a[1]) - (a[3] - a[0])) / (12 * h)

    out = {k: diff([np.asarray(getattr(r, k)) for r in runs]) for k in SERIES}
    out.update({k: diff([getattr(r, k) for r in runs]) for k in FIGURES})
    return out


def _step(model, name: str, kwargs: dict) -> float | None:
    """The finite-difference step of a parameter whose term dominates the operators: 1e-4 x the change
    of theta that changes H_B, V, the generator by their own size (max|A| / max|dA/dtheta| over the
    pieces) when that change is below half the parameter's own scale max(|theta|, 1) (a crystal-field
    term multiplied by S^2 ... S^4: the default step would leave a truncation error ~ 5e-7); None (the
    default rule of :func:`finite_difference`) otherwise, and for drive and envelope fields."""
    from collective_qc.api import charging_options, check_charge
    from collective_qc.sensitivity import resolve_names
    from collective_qc.sensitivity.generators import operators_at, piece_derivative, pieces

    kw = {k: v for k, v in kwargs.items() if k != "sensitivities"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        plan = check_charge(model, **kw)
    charging = charging_options(kw)
    (param,) = resolve_names([name], plan)
    if not param.changes_operators:
        return None
    density = plan.method == "exact"
    d, _ = piece_derivative(plan, charging, param, density)
    size = pieces(operators_at(plan, charging), density).size()
    scale = size / max(d.size(), 1e-300)
    return 1e-4 * scale if scale < 0.5 * max(abs(param.value), 1.0) else None


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

    fd = finite_difference(call, value, _step(model, name, kwargs) if h is None else h)
    err = relative_errors(rec, fd, res, value)
    assert max(err.values()) <= tol, (name, err)
    return err
