"""Model registry: ``@register_model``, lookup by name, plug-ins.

Models are added without touching collective_qc in two ways:

- a module file that is not installed: :func:`load_plugin` (``cqc --plugin PATH``) imports
  it, which runs its ``@register_model`` decorators;
- an installed package: an entry point in the group ``collective_qc.models`` whose value
  is a module or a Model subclass.

A name that is already registered (a built-in or an earlier plug-in) is refused with a
one-line :class:`collective_qc.core.errors.InputError` (explicit :func:`load_plugin`), or a
one-line :class:`PluginWarning` for an installed entry point (which is then skipped, so
the rest of the tool keeps working); the built-in model stays in place.
"""

from __future__ import annotations

import difflib
import os
import sys
import types
import warnings

import networkx as nx

from ..core.errors import InputError
from .model import GraphModel, Model, load_graph_file

__all__ = ["register_model", "get_model", "model_names", "make_model", "load_plugin", "load_plugin_source", "MODELS",
           "PLUGIN_SOURCES", "PluginWarning"]

MODELS: dict[str, type[Model]] = {}
PLUGIN_SOURCES: dict[str, str] = {}  # real path -> source of each plug-in file loaded in this process
_loaded = False
ENTRY_POINT_GROUP = "collective_qc.models"


class PluginWarning(UserWarning):
    """An installed plug-in was skipped (one line: which one, and why)."""


def _origin(cls: type) -> str:
    mod = cls.__module__
    kind = "built-in" if mod.startswith("collective_qc.") else "plug-in"
    return f"{kind} {cls.__qualname__} in {mod}"


def _source(cls: type) -> tuple:
    """(module file, qualname): the same class imported twice (a reload, another import path) matches."""
    mod = sys.modules.get(cls.__module__)
    return (os.path.realpath(mod.__file__) if getattr(mod, "__file__", None) else cls.__module__), cls.__qualname__


def register_model(cls: type[Model]) -> type[Model]:
    """Class decorator: add a Model subclass to the registry under ``cls.name``.

    Raises
    ------
    InputError
        When another class already holds ``cls.name`` (re-registering the same class, or the
        same module and class name after a reload, is allowed).
    """
    if not (isinstance(cls, type) and issubclass(cls, Model)):
        raise TypeError("register_model decorates Model subclasses")
    if not cls.name:
        raise TypeError(f"{cls.__name__} needs a non-empty `name`")
    _load()  # built-ins first, so that a plug-in can never shadow one
    prev = MODELS.get(cls.name)
    same = prev is not None and (prev is cls or (prev.__qualname__ == cls.__qualname__
                                                 and _source(prev) == _source(cls)))
    if prev is not None and not same:
        raise InputError(f"model name {cls.name!r} of {_origin(cls)} is already taken by {_origin(prev)}; "
                         "choose another name")
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
        before = dict(MODELS)
        try:
            obj = ep.load()
            if isinstance(obj, type) and issubclass(obj, Model):
                register_model(obj)
        except InputError as exc:
            MODELS.clear()
            MODELS.update(before)
            warnings.warn(f"plug-in {ep.name!r} ({ep.value}) skipped: {exc}", PluginWarning, stacklevel=2)


def load_plugin(path: str) -> list[str]:
    """Import a model module from a file path (not installed) and return the names it registered.

    Parameters
    ----------
    path : str
        A ``.py`` file whose classes are decorated with ``@collective_qc.register_model``.

    Returns
    -------
    list of str
        The model names the module added (``cqc models`` lists them too).

    Raises
    ------
    InputError
        Missing or unreadable file, an error while importing it, or a model name that is
        already registered (nothing of the module is then registered).
    """
    path = os.fspath(path)
    if not path.endswith(".py"):
        raise InputError(f"plug-in {path!r}: give the path of a .py module")
    if not os.path.isfile(path):
        raise InputError(f"plug-in {path!r} does not exist")
    try:
        with open(path, encoding="utf-8") as fh:
            source = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"plug-in {path!r} cannot be read ({type(exc).__name__})") from None
    return load_plugin_source(os.path.realpath(path), source)


def load_plugin_source(real: str, source: str) -> list[str]:
    """Import a plug-in module from its source text, under the name :func:`load_plugin` gives the
    file at `real` (its real path); returns the model names it registered. Dask workers load the
    plug-ins of the submitting process this way (:func:`collective_qc.parallel.open_client`), with
    no need for the file on their machine. Raises InputError as :func:`load_plugin`."""
    _load()
    modname = "collective_qc_plugin_" + "".join(c if c.isalnum() else "_" for c in real)
    if modname in sys.modules:  # already loaded in this process
        return [n for n, c in MODELS.items() if c.__module__ == modname]
    before = dict(MODELS)
    module = types.ModuleType(modname)
    module.__file__ = real
    sys.modules[modname] = module
    try:
        exec(compile(source, real, "exec"), module.__dict__)  # noqa: S102 - the user's own plug-in
    except Exception as exc:  # noqa: BLE001 - any failure of the plug-in is reported in one line
        MODELS.clear()
        MODELS.update(before)
        del sys.modules[modname]
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"plug-in {real!r} refused: {msg}") from None
    PLUGIN_SOURCES[real] = source
    return sorted(set(MODELS) - set(before))


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
            return GraphModel(load_graph_file(model), source=model, path=model)
        if model.endswith(".py"):
            raise InputError(f"{model!r} is a Python file: load it with --plugin {model} "
                             "(collective_qc.load_plugin) and give the model name it registers")
        return get_model(model)(**params)
    raise InputError(f"cannot make a model from {type(model).__name__} {model!r}")
