"""Plots that say what they mean: units, honest fits, signed axes, explained empty panels, tau_c marks."""

import numpy as np
import pytest

from collective_qc import plots


@pytest.fixture
def figs(monkeypatch):
    got = []

    def keep(fig, path):
        got.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    return got


def rows_of(ns, **cols):
    return [{"n_sites": n, **{k: (v[i] if isinstance(v, (list, np.ndarray)) else v) for k, v in cols.items()}}
            for i, n in enumerate(ns)]


def test_power_law_fit_accepts_power_laws_only():
    n = np.array([2, 4, 8, 16, 32.0])
    fit = plots.power_law_fit(n, 1.3 * n ** 0.5)
    assert fit.describes and abs(fit.b - 0.5) < 1e-12 and fit.rms < 1e-12
    assert not plots.power_law_fit(n, 1 - 0.5 / n).describes  # saturating
    assert not plots.power_law_fit(n, 1 + 0.1 * (-1) ** np.arange(5)).describes  # zig-zag
    assert not plots.power_law_fit(n[:2], n[:2]).describes  # two sizes: a line always passes
    noisy = 2 * n ** 0.3 * (1 + 0.01 * np.array([1, -1, 0.5, -0.5, 0]))
    fit = plots.power_law_fit(n, noisy, 0.01 * noisy)  # residuals within the errors
    assert fit.describes and fit.chi2 < 1 and abs(fit.b - 0.3) < 0.02
    assert not plots.power_law_fit(n, noisy, 1e-5 * noisy).describes  # errors far below the residual
    assert plots.power_law_fit([1, 2], [1, -1]) is None


def test_gammas_fit_drawn_only_where_it_describes(figs):
    n = [2, 4, 8, 16]
    rows = rows_of(n, gamma_power=[x ** 0.5 for x in n], gamma_tau=[1 - 0.4 / x for x in n],
                   gamma_capacitance=[-0.5, -0.3, -0.2, -0.1], gamma_energy=None, tau_c=1.0,
                   energy_unit="K", time_unit="hbar/K")
    base = {"n_sites": 1, "capacitance_at_tau_c_per_site": -0.6, "energy_unit": "K", "time_unit": "hbar/K"}
    plots.gammas_vs_n([{"label": "m", "rows": rows, "baseline": base}], "x.png", title="t")
    ax_p, ax_tau, ax_c, ax_e = figs[0].axes[:4]
    labels_p = [t.get_text() for t in ax_p.get_legend().get_texts()]
    assert any("N^0.50" in t for t in labels_p) and any("reference" in t for t in labels_p)
    fit_lines = [[ln for ln in ax.lines if ln.get_linestyle() == "-"] for ax in (ax_p, ax_tau)]
    assert ax_p.get_yscale() == "log" and len(fit_lines[0]) == 1 and not fit_lines[1]
    assert any("no power law" in t.get_text() for t in ax_tau.get_legend().get_texts())
    assert ax_c.get_yscale() == "linear" and "single-site value (-0.6) < 0" in ax_c.get_legend().get_title().get_text()
    assert any("undefined" in t.get_text() or "no defined value" in t.get_text() for t in ax_e.texts)
    for ax in (ax_p, ax_tau, ax_c, ax_e):
        assert "[dimensionless]" in ax.get_ylabel() and ax.get_xlabel() == "N (sites)"


def test_per_site_axes_carry_units(figs):
    rows = rows_of([2, 3], capacitance_at_tau_c_per_site=[0.1, 0.2], power_max_per_site=[1.0, 1.2], tau_c=[2.0, 1.5],
                   energy_max_per_site=[0.5, 0.6], energy_unit="K", time_unit="hbar/K")
    plots.per_site_vs_n([{"label": "m", "rows": rows, "baseline": {}}], "x.png")
    labels = [ax.get_ylabel() for ax in figs[0].axes[:4]]
    assert labels[0].endswith("[dimensionless]") and labels[1].endswith("[K^2/hbar]")
    assert labels[2].endswith("[hbar/K]") and labels[3].endswith("[K]")


def test_timeseries_marks_tau_c(figs):
    t = np.linspace(0, np.pi, 101)
    e = np.sin(t) ** 2  # first maximum at pi/2
    cur = {"label": "N=2", "times": t, "energy": 2 * e, "power": 2 * np.sin(2 * t), "capacitance": 0 * t,
           "n_sites": 2, "units": {"energy": "omega0", "time": "1/omega0"}}
    plots.timeseries([cur], "x.png")
    ax = figs[0].axes[0]
    vlines = [ln.get_xdata()[0] for ln in ax.lines if ln.get_linestyle() == ":"]
    assert any(abs(x - np.pi / 2) < 1e-3 for x in vlines)
    assert figs[0].axes[1].get_ylabel() == "P(t)/N [omega0^2]" and figs[0].axes[2].get_xlabel() == "t [1/omega0]"


def test_gamma_legends_do_not_cover_data_and_name_omitted_points(figs):
    """Issue 22 item 16 (legend over the Gamma_C data) and the undefined rule in plots: a point that
    is not a result is omitted and the legend says which and why."""
    n = [2, 3, 4, 6, 8]
    why = "gamma_capacitance: N-site run: C_Q(tau_c) is round-off (|C_Q*| = 1e-15 <= 1e-12)"
    rows = rows_of(n, gamma_power=[1.0, 1.5, 2.0, 3.0, 4.0], gamma_tau=[1.0, 1.2, 1.4, 1.8, 2.2],
                   gamma_capacitance=[1.0, None, -1.2, 3.0, 4.0], gamma_energy=[1.0, 1.1, 1.2, 1.3, 1.4],
                   tau_c=1.0, undefined=[None, why, None, None, None])
    groups = [{"label": f"J={j}, Delta={j}", "rows": [{**r, **{k: (v * (1 + j) if isinstance(v, float) and
                                                                  k.startswith("gamma") else v)
                                                               for k, v in r.items()}} for r in rows],
               "baseline": {"n_sites": 1, "capacitance_at_tau_c_per_site": -0.6}}
              for j in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)]
    plots.gammas_vs_n(groups, "x.png", title="t")
    fig = figs[0]
    fig.canvas.draw()
    for ax in fig.axes[:4]:
        box = ax.get_legend().get_window_extent()
        pts = np.concatenate([ln.get_xydata() for ln in ax.lines if ln.get_marker() == "o"])
        xy = ax.transData.transform(pts)
        inside = (xy[:, 0] >= box.x0) & (xy[:, 0] <= box.x1) & (xy[:, 1] >= box.y0) & (xy[:, 1] <= box.y1)
        assert not inside.any(), (ax.get_ylabel(), pts[inside])
    texts = [t.get_text() for t in fig.axes[2].get_legend().get_texts()]
    assert any("omitted" in t and "N = 3" in t and "round-off" in t for t in texts), texts
