"""One disorder realisation of a study point: the realised model a unit charges, and its graph.

A unit of a disordered study (:func:`collective_qc.study.points.make_unit`) is run as the
ordinary ``charge()`` of :class:`RealisedModel`: the clean model's graph with the attributes of
its ``[disorder]`` distributions drawn from ``realisation_rng(study seed, point id, r)``
(:mod:`collective_qc.physics.disorder`). The realised model keeps the clean model's name,
parameters and units, so its result reads like the clean one's; an automatic Fock-cutoff
refinement redraws the same values on the finer graph (the streams draw per spin node and bond,
which a cutoff does not change).
"""

from __future__ import annotations

import networkx as nx

from ..physics.disorder import RealisedModel

__all__ = ["RealisedModel", "clean_model", "unit_model", "realised_graph"]


def clean_model(definition: dict):
    """The clean model of a point or unit definition (its single site for the baseline)."""
    from ..physics.registry import make_model

    m = make_model(definition["model"], definition["params"])
    return m.single_site() if definition["role"] == "baseline" else m


def unit_model(unit: dict):
    """The model a stored unit charges: the clean model, or for a realisation (a unit with
    ``draw``) its :class:`RealisedModel`."""
    from ..physics.disorder import parse_disorder, realisation_rng

    d = unit["definition"]
    clean = clean_model(d)
    if not d.get("disorder"):
        return clean
    seed, point, r = unit["draw"]
    return RealisedModel(clean, parse_disorder(d["disorder"]), realisation_rng(seed, point, r), d["run"])


def realised_graph(unit: dict, drawn: dict | None = None) -> nx.Graph:
    """The realised graph of a unit (drawn again from its streams); with the `drawn` values stored
    in its record, they are checked to be the same numbers (ValueError otherwise)."""
    m = unit_model(unit)
    if drawn is not None and drawn != m.drawn:
        raise ValueError(f"unit {unit['id']}: the stored draws differ from those of its streams")
    return m.graph()
