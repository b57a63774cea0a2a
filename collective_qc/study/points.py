"""Point identity: a point is addressed by its content (definition + seed), never by its position.

A point's *definition* is everything that determines its result: model, role (a size of the
sweep, or the single-site baseline), model parameters including the size, charging amplitude
(drive) and every run option written in the config (method, noise rates, protocol, initial
state, times, trajectory count, ...). Its seed is ``SeedSequence([study seed,
crc32(canonical JSON of the definition)])``, so trajectories depend only on the study seed and
the point itself, not on execution order, workers, or the other points of the study. Its id,
``<label>-<first 12 hex digits of SHA-256(canonical JSON of definition and seed)>``, names its
files: two configs that share a point share its files, whatever else changed.

A disordered point (a study with a ``[disorder]`` section) carries its distributions in its
definition and is stored as R units, one per realisation (:func:`make_unit`).
"""

from __future__ import annotations

import hashlib
import json
import zlib

import numpy as np

from ..analysis.figures import FIG_COLS, FIGURES, GAMMA_COLS

__all__ = ["canon", "sha256", "make_point", "make_unit", "point_id", "point_seed", "FIGURES", "ARRAYS", "FIG_COLS",
           "GAMMA_COLS"]

ARRAYS = ("times", "energy", "power", "capacitance", "energy_stderr", "power_stderr", "capacitance_stderr",
          "jackknife")


def canon(obj) -> str:
    """Canonical JSON (sorted keys, no spaces, no NaN): equal content <=> equal string."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), allow_nan=False)


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode() if isinstance(data, str) else data).hexdigest()


def point_seed(definition: dict, study_seed: int) -> int:
    """The point's trajectory seed: a function of the study seed and the definition only."""
    crc = zlib.crc32(canon(definition).encode())
    return int(np.random.SeedSequence([study_seed, crc]).generate_state(1)[0])


def point_id(label: str, definition: dict, seed: int) -> str:
    """The content address of a point: its label and a digest of its definition and seed."""
    return f"{label}-{sha256(canon({'definition': definition, 'seed': seed}))[:12]}"


def make_point(base: dict, size_param: str, n: int | None, study_seed: int) -> dict:
    """One point of a combination: the baseline (``n is None``) or size ``n``.

    Parameters
    ----------
    base : dict
        ``{"model", "drive", "params", "run"}`` of the combination (params without the size).
    size_param : str
        The model's size parameter (N, or Lx for square lattices).

    Returns
    -------
    dict
        Plain data: ``id``, ``label``, ``definition``, ``size``, ``seed``.
    """
    role = "baseline" if n is None else "size"
    params = dict(base["params"]) if n is None else {**base["params"], size_param: n}
    definition = {"model": base["model"], "role": role, "params": params, "drive": base["drive"],
                  "run": dict(base["run"])}
    if base.get("disorder"):  # only then: a clean point's definition (and id) is what it always was
        definition["disorder"] = {a: dict(v) for a, v in base["disorder"].items()}
    label = "base" if n is None else f"{size_param}{n}"
    seed = point_seed(definition, study_seed)
    return {"id": point_id(label, definition, seed), "label": label, "definition": definition, "size": n,
            "seed": seed}


def make_unit(point: dict, r: int, study_seed: int) -> dict:
    """Realisation `r` of a disordered point: the stored unit ``<label>_r<r>``.

    Its definition is the point's with ``"realisation": r``, so its id and trajectory seed are its
    own; its disorder is drawn from ``realisation_rng(study_seed, point id, r)``
    (:func:`collective_qc.physics.disorder.realisation_rng`), a function of the study seed, the
    point's identity (which does not contain R) and r alone.

    Returns
    -------
    dict
        ``id``, ``label``, ``definition``, ``size``, ``seed`` as :func:`make_point`, and ``point``
        (the table point's id), ``realisation`` (r), ``draw`` ([study seed, point id, r]).
    """
    definition = {**point["definition"], "realisation": int(r)}
    label = f"{point['label']}_r{int(r)}"
    seed = point_seed(definition, study_seed)
    return {"id": point_id(label, definition, seed), "label": label, "definition": definition,
            "size": point["size"], "seed": seed, "point": point["id"], "realisation": int(r),
            "draw": [int(study_seed), point["id"], int(r)]}
