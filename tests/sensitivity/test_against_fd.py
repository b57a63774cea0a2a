"""Every kind of sensitivity against fourth-order central differences of charge() itself (same
solver), relative error <= 1e-6: model parameters, graph attributes of one node or edge, charger
weights, drive, envelope fields (switching times and smooth envelopes), noise rates, and the
initial-state dependence (ground, thermal, product)."""

from __future__ import annotations

import networkx as nx
import pytest
from sensitivity_fd import check

TOL = 1e-6
CHAIN = dict(drive=0.5, t_max=3.0, n_times=21, params={"N": 4, "J": 0.3})
NOISY = dict(CHAIN, method="exact", dephasing=0.05, relaxation=0.02)


def _params(**extra):
    return lambda v: {"params": {"N": 4, "J": 0.3, **{k: v for k in extra}}}


CASES = [  # (id, sensitivity, set_value(v), value, run options)
    ("closed J", "J", lambda v: {"params": {"N": 4, "J": v}}, 0.3, dict(CHAIN, method="closed")),
    ("closed Delta product", "Delta", _params(Delta=1), 0.5, dict(CHAIN, method="closed", initial="product")),
    ("closed omega thermal", "omega", _params(omega=1), 1.0, dict(CHAIN, method="closed", initial="thermal:0.7")),
    ("closed drive", "drive", lambda v: {"drive": v}, 0.5, dict(CHAIN, method="closed")),
    ("closed on-off tau", "protocol.tau", lambda v: {"protocol": f"on-off:{v!r}"}, 2.03,
     dict(CHAIN, method="closed", protocol="on-off:2.03")),
    ("closed gauss sigma", "protocol.sigma", lambda v: {"protocol": f"gauss:2.0,{v!r}"}, 1.0,
     dict(CHAIN, method="closed", protocol="gauss:2.0,1.0")),
    ("closed ramp T", "protocol.T", lambda v: {"protocol": f"ramp:{v!r}"}, 1.53,
     dict(CHAIN, method="closed", protocol="ramp:1.53")),
    ("exact J", "J", lambda v: {"params": {"N": 4, "J": v}}, 0.3, NOISY),
    ("exact dephasing", "dephasing", lambda v: {"dephasing": v}, 0.05, NOISY),
    ("exact relaxation", "relaxation", lambda v: {"relaxation": v}, 0.02, NOISY),
    ("exact pumping", "pumping", lambda v: {"pumping": v}, 0.01, dict(NOISY, pumping=0.01)),
    ("exact drive thermal", "drive", lambda v: {"drive": v}, 0.5, dict(NOISY, initial="thermal:0.7")),
    ("exact csd store", "protocol.store", lambda v: {"protocol": f"charge-store-discharge:1.03,{v!r}"}, 0.71,
     dict(NOISY, protocol="charge-store-discharge:1.03,0.71")),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_catalog_model_sensitivity_matches_finite_differences(case):
    _, name, set_value, value, opts = case
    check("xxz-ring", name, set_value, value, tol=TOL, **opts)


def _graph(gamma2: float | None = None) -> nx.Graph:
    g = nx.path_graph(3)
    for n in g.nodes:
        g.nodes[n]["omega"] = 1.0 + 0.1 * n
    for u, v in g.edges:
        g.edges[u, v]["J"] = 0.2 + 0.1 * u
    if gamma2 is not None:
        g.nodes[2]["gamma"] = gamma2
    return g


def _set(node=None, edge=None, key="", **graph_kw):
    def set_value(v):
        g = _graph(**graph_kw)
        (g.nodes[node] if node is not None else g.edges[edge])[key] = v
        return {"model": g}
    return set_value


GRAPH = dict(drive=0.5, t_max=3.0, n_times=21, method="closed")
GRAPH_CASES = [
    ("omega@1", _set(node=1, key="omega"), 1.1, GRAPH, {}),
    ("J@(0,1)", _set(edge=(0, 1), key="J"), 0.2, GRAPH, {}),
    ("Delta@(1,2)", _set(edge=(1, 2), key="Delta"), 1.0, GRAPH, {}),
    ("weight@0", _set(node=0, key="weight"), 1.0, GRAPH, {}),
    ("gamma@2", _set(node=2, key="gamma", gamma2=0.03), 0.03, dict(GRAPH, method="exact", dephasing=0.05),
     {"gamma2": 0.03}),
]


@pytest.mark.parametrize("case", GRAPH_CASES, ids=[c[0] for c in GRAPH_CASES])
def test_graph_attribute_sensitivity_matches_finite_differences(case):
    name, set_value, value, opts, graph_kw = case
    check(_graph(**graph_kw), name, set_value, value, tol=TOL, **opts)


def test_cavity_coupling_and_mode_frequency():
    g = nx.Graph()
    g.add_node(0, omega=1.0)
    g.add_node(1, omega=1.1)
    g.add_node("c", kind="boson", omega=1.05, n_max=3)
    g.add_edge(0, "c", g=0.3)
    g.add_edge(1, "c", g=0.25)
    g.add_edge(0, 1, J=0.1)

    def set_g(v):
        h = g.copy()
        h.edges[0, "c"]["g"] = v
        return {"model": h}

    def set_omega_c(v):
        h = g.copy()
        h.nodes["c"]["omega"] = v
        return {"model": h}

    opts = dict(drive=0.4, t_max=4.0, n_times=31, method="closed")
    check(g, "g@(0,c)", set_g, 0.3, tol=TOL, **opts)
    check(g, "omega@c", set_omega_c, 1.05, tol=TOL, **opts)


def test_nonlinear_operator_dependence_is_differenced_and_said():
    """A norm-matched charger (V / ||V||) depends on a site weight non-linearly: the operator
    derivative falls back to a fourth-order difference of the entries, says so, and still agrees."""
    opts = dict(GRAPH, norm=1.0)
    check(_graph(), "weight@0", _set(node=0, key="weight"), 1.0, tol=TOL, **opts)
    import collective_qc as cqc

    res = cqc.charge(_graph(), sensitivities=["weight@0", "omega@1"], **opts)
    assert "fourth-order central difference" in res.sensitivities["weight@0"]["operator_derivative"]
    assert res.sensitivities["omega@1"]["operator_derivative"] == "exact (linear in the parameter)"


def test_exact_run_from_a_degenerate_ground_manifold():
    """N = 3 ring: 2-fold degenerate ground level, not split by omega (a uniform field)."""
    check("xxz-ring", "omega", lambda v: {"params": {"N": 3, "omega": v}}, 1.0, tol=TOL,
          **dict(NOISY, params={"N": 3}))


SMOOTH_EXACT = [  # the exact solver's own smooth-envelope runs take ~15 s each here: slow
    ("protocol.sigma", lambda v: {"protocol": f"gauss:2.0,{v!r}"}, 1.0, "gauss:2.0,1.0"),
    ("protocol.T", lambda v: {"protocol": f"ramp:{v!r}"}, 1.53, "ramp:1.53"),
]


@pytest.mark.slow
@pytest.mark.parametrize("case", SMOOTH_EXACT, ids=[c[0] for c in SMOOTH_EXACT])
def test_exact_run_with_a_smooth_envelope(case):
    name, set_value, value, protocol = case
    check("xxz-ring", name, set_value, value, tol=TOL, **dict(NOISY, protocol=protocol))


@pytest.mark.parametrize("mode", ["forward", "adjoint"])
def test_power_max_at_a_switching_time_moves_with_it(mode):
    """P_max = P(tau^-; theta) of on-off charging: dP_max/dJ at tau^- and dP_max/dtau = dP/dt(tau^-)
    against central differences of the run's own P_max (the run refines it at the switch)."""
    import collective_qc as cqc

    kw = dict(method="closed", t_max=3, n_times=61)

    def pmax(J=0.3, tau=0.8):
        return cqc.charge("xxz-chain", 0.5, params={"N": 3, "J": J}, protocol=f"on-off:{tau}", **kw).power_max

    res = cqc.charge("xxz-chain", 0.5, params={"N": 3, "J": 0.3}, protocol="on-off:0.8",
                     sensitivities=["J", "protocol.tau"], sensitivity_mode=mode, **kw)
    h = 1e-4
    fd = {"J": (pmax(J=0.3 + h) - pmax(J=0.3 - h)) / (2 * h),
          "protocol.tau": (pmax(tau=0.8 + h) - pmax(tau=0.8 - h)) / (2 * h)}
    for name, ref in fd.items():
        assert abs(res.sensitivities[name]["power_max"] - ref) <= 1e-6 * abs(ref) + 1e-8, (name, ref)
