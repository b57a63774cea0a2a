"""Model registry: ``@register_model``, lookup by name, entry-point plug-ins.

Third-party packages add models without touching collective_qc: declare an entry
point in the group ``collective_qc.models`` whose value is a module (importing it
runs its ``@register_model`` decorators) or a Model subclass.
"""

from __future__ import annotations

import difflib
import os

import networkx as nx

from .errors import InputError
from .model import GraphModel, Model, load_graph_file

__all__ = ["register_model", "get_model", "model_names", "make_model", "MODELS"]

MODELS: dict[str, type[Model]] = {}
_loaded = False
ENTRY_POINT_GROUP = "collective_qc.models"


def register_model(cls: type[Model]) -> type[Model]:
    """Class decorator: add a Model subclass to the registry under ``cls.name``."""
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise TypeError("register_model decorates Model subclasses")
    if not cls.name:
        raise TypeError(f"{cls.__name__} needs a non-empty `name`")
    prev = MODELS.get(cls.name)
    if prev is not None and prev is not cls and prev.__qualname__ != cls.__qualname__:
        raise ValueError(f"model name {cls.name!r} is already registered by {prev.__module__}")
    MODELS[cls.name] = cls
    return cls


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    from importlib.metadata import entry_points

    import collective_qc.models  # noqa: F401  (the catalog registers itself)

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        if isinstance(obj, type) and issubclass(obj, Model):
            register_model(obj)


def model_names() -> list[str]:
    _load()
    return sorted(MODELS)


def get_model(name: str) -> type[Model]:
    """The Model class registered under `name`; unknown names suggest close ones."""
    _load()
    if name not in MODELS:
        close = difflib.get_close_matches(name, MODELS, n=3, cutoff=0.5)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise InputError(f"unknown model {name!r}{hint} (see `cqc models`)")
    return MODELS[name]


def make_model(model, params: dict | None = None) -> Model:
    """A Model instance from a name, a Model, a Model class, an nx.Graph or a graph file."""
    params = params or {}
    if isinstance(model, Model):
        if params:
            return type(model)(**{**model.values, **params})
        return model
    if isinstance(model, type) and issubclass(model, Model):
        return model(**params)
    if isinstance(model, nx.Graph):
        if params:
            raise InputError("a user graph takes no --param values; put them on the graph's nodes and edges")
        return GraphModel(model)
    if isinstance(model, str):
        if os.path.splitext(model)[1] in (".graphml", ".json", ".xml") or os.path.sep in model:
            if params:
                raise InputError("a user graph takes no --param values; put them on the graph's nodes and edges")
            return GraphModel(load_graph_file(model), source=model)
        return get_model(model)(**params)
    raise InputError(f"cannot make a model from {type(model).__name__} {model!r}")
