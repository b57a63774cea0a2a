"""Figures of an optimisation (PNG files, no screen): f(t), E(t) against the constant drive, history."""

from __future__ import annotations

import os

import numpy as np

__all__ = ["plot_result"]


def plot_result(res, out: str) -> list[str]:
    """Write ``protocol.png`` (f(t)), ``energy.png`` (E(t), optimal and constant drive) and
    ``history.png`` (objective per L-BFGS-B iteration, every start) into ``out``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    u = res.info["units"]
    M = len(res.amplitudes)
    t = np.linspace(0.0, res.tau, M + 1)
    paths = []
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.step(t, np.append(res.amplitudes, res.amplitudes[-1]), where="post", label="optimal f(t)")
    ax.axhline(res.options.f_max, ls=":", c="gray", label="constant drive f = f_max")
    ax.axhline(-res.options.f_max, ls=":", c="gray")
    ax.set(xlabel=f"t [{u['time']}]", ylabel="f(t) [dimensionless]",
           title=f"optimal envelope, lambda = {res.options.drive:g} {u['energy']}")
    ax.legend(fontsize=8)
    paths.append(_save(fig, out, "protocol.png"))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(res.times, res.energy, label=f"optimal: E(tau) = {res.energy[-1]:.6g}")
    ax.plot(res.times, res.energy_constant, "--", label=f"constant f = f_max: E(tau) = {res.energy_constant[-1]:.6g}")
    ax.set(xlabel=f"t [{u['time']}]", ylabel=f"E(t) [{u['energy']}]", title="stored energy")
    ax.legend(fontsize=8)
    paths.append(_save(fig, out, "energy.png"))
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for j, h in enumerate(res.histories):
        ax.plot(np.arange(1, len(h) + 1), h, label=f"start {j}")
    ax.set(xlabel="L-BFGS-B iteration", ylabel=f"{res.options.objective} [{u['energy']}]", title="objective history")
    ax.legend(fontsize=8)
    paths.append(_save(fig, out, "history.png"))
    plt.close("all")
    return paths


def _save(fig, out, name) -> str:
    path = os.path.join(out, name)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return path
