"""Swept axes of a study: the ``[disorder]`` section, ``[sweep] zip`` groups and the combinations.

Every swept config key holds a list of values (``params.J = [0.1, 0.3]``,
``disorder.omega.width = [0, 0.5, 1]``). Keys are independent axes (their lists form a
Cartesian product) unless ``[sweep] zip`` groups them: the lists of one group have equal
lengths and advance together (value k of every key of the group in combination k).

``[disorder]`` maps a drawable graph attribute (:mod:`collective_qc.physics.disorder`) to its
distribution around each node's or edge's clean value: ``omega = {dist = "uniform", width = 0.5}``
or the short form ``omega = "uniform:0.5"``; a list as the scale (``width = [0, 0.5, 1]``)
sweeps it, as config key ``disorder.omega.width`` (table column ``disorder_omega_width``).
"""

from __future__ import annotations

import difflib
import itertools
import math

from ..core.errors import InputError, shown
from .points import canon

__all__ = ["disorder_entries", "zip_groups", "Axis", "make_axes", "combinations", "check_count"]


def _hint(key: str, known) -> str:
    close = difflib.get_close_matches(str(key), list(known), n=2)
    return f"; did you mean {' or '.join(map(repr, close))}?" if close else ""


def _scale(key: str, v) -> float:
    """A disorder scale (width or sigma): a finite number >= 0 (energy or rate units)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
        raise InputError(f"config key {key!r} must be a finite number >= 0, got {shown(v)}")
    if v < 0:
        raise InputError(f"config key {key!r} must be >= 0 (a spread), got {shown(v)}")
    return float(v)


def disorder_entries(section) -> tuple[dict, list]:
    """The ``[disorder]`` section as ({attribute: (distribution, parameter name)}, swept entries
    ``("disorder", "disorder.ATTR.PARAM", [scales])``) in the order written; InputError naming the
    key at fault (unknown attribute or distribution, wrong parameter, negative or non-numeric scale).
    """
    from ..physics.disorder import DISTRIBUTIONS, parse_disorder

    if not section:
        return {}, []
    dists, entries = {}, []
    for attr, value in section.items():
        key = f"disorder.{attr}"
        parse_disorder({attr: "uniform:0"}, f"config key {key!r}")  # unknown attribute, with a suggestion
        if isinstance(value, str):
            name, _, scale = value.partition(":")
            try:
                scale = float(scale)
            except ValueError:
                raise InputError(f"config key {key!r} must look like \"NAME:SCALE\" (e.g. \"uniform:0.5\") or "
                                 f"{{dist = \"uniform\", width = 0.5}}, got {shown(value)}") from None
            value = {"dist": name.strip(), DISTRIBUTIONS.get(name.strip(), "width"): scale}
        if not isinstance(value, dict):
            raise InputError(f"config key {key!r} must be a table like {{dist = \"uniform\", width = 0.5}}, "
                             f"got {shown(value)}")
        name = value.get("dist")
        if not isinstance(name, str) or name not in DISTRIBUTIONS:
            raise InputError(f"config key '{key}.dist': unknown distribution {shown(name)} (choose from "
                             f"{', '.join(DISTRIBUTIONS)}){_hint(name, DISTRIBUTIONS)}")
        param = DISTRIBUTIONS[name]
        extra = sorted(set(value) - {"dist", param})
        if extra or param not in value:
            got = ", ".join(map(repr, extra)) or "none"
            raise InputError(f"config key {key!r}: distribution {name!r} takes exactly one parameter {param!r} "
                             f"(its spread), got {got}{_hint(extra[0], [param]) if extra else ''}")
        skey = f"{key}.{param}"
        scales = value[param] if isinstance(value[param], list) else [value[param]]
        if not scales:
            raise InputError(f"config key {skey!r}: an empty list sweeps nothing")
        scales = [_scale(skey, v) for v in scales]
        dists[attr] = (name, param)
        entries.append(("disorder", skey, scales))
    parse_disorder({a: f"{n}:0" for a, (n, _) in dists.items()}, "config section [disorder]")  # J with Jx, ...
    return dists, entries


def zip_groups(section, keys: list[str]) -> list[tuple[str, ...]]:
    """The ``[sweep] zip`` groups (tuples of config keys), each key a key of this config and in one
    group at most; InputError naming 'sweep.zip'."""
    groups = (section or {}).get("zip", [])
    if not isinstance(groups, list) or not all(isinstance(g, list) for g in groups):
        raise InputError(f"config key 'sweep.zip' must be a list of lists of config keys, e.g. "
                         f"[[\"params.J\", \"run.dephasing\"]], got {shown(groups)}")
    seen: set = set()
    out = []
    for g in groups:
        if len(g) < 2 or not all(isinstance(k, str) for k in g):
            raise InputError(f"config key 'sweep.zip': each group names two or more config keys (strings), "
                             f"got {shown(g)}")
        for k in g:
            if k not in keys:
                raise InputError(f"config key 'sweep.zip': {k!r} is not a key of this config (keys: "
                                 f"{', '.join(keys)}){_hint(k, keys)}")
            if k in seen:
                raise InputError(f"config key 'sweep.zip': {k!r} is zipped twice (a key belongs to one group)")
            seen.add(k)
        out.append(tuple(g))
    return out


class Axis:
    """One independent axis of the sweep: the config keys that advance together and their values.

    ``keys``: tuple of config keys; ``entries``: their (section, key, values); ``choices``: tuples
    of values (one per key), in the order of the lists.
    """

    def __init__(self, entries: list):
        self.entries = entries
        self.keys = tuple(key for _, key, _ in entries)
        self.choices = list(zip(*(vals for _, _, vals in entries)))

    def __len__(self) -> int:
        return len(self.choices)


def make_axes(swept: list, groups: list) -> list[Axis]:
    """The axes of the swept entries ``(section, key, values)``: one per key, but one per zip group
    (placed where its first key is written); InputError for lists of unequal length in a group
    or a zipped combination listed twice."""
    by_key = {key: (sec, key, vals) for sec, key, vals in swept}
    group_of = {k: g for g in groups for k in g}
    axes, done = [], set()
    for _, key, _ in swept:
        g = group_of.get(key, (key,))
        if g in done:
            continue
        done.add(g)
        entries = [by_key[k] for k in g]
        lengths = {k: len(v) for _, k, v in entries}
        if len(set(lengths.values())) > 1:
            shown_ = " and ".join(f"{k!r} ({n} values)" for k, n in lengths.items())
            raise InputError(f"config key 'sweep.zip': {shown_} have different lengths; zipped lists advance "
                             "together and must be equally long")
        axis = Axis(entries)
        if len({canon(c) for c in axis.choices}) != len(axis):
            if len(g) == 1:
                raise InputError(f"config key {key!r} lists a value twice: {entries[0][2]!r}")
            raise InputError(f"config key 'sweep.zip': the zipped keys {', '.join(map(repr, g))} list the same "
                             "combination twice")
        axes.append(axis)
    return axes


def combinations(axes: list[Axis]):
    """Every combination as a list of (section, key, value), axis by axis."""
    heads = [[(sec, key) for sec, key, _ in ax.entries] for ax in axes]
    for choice in itertools.product(*(ax.choices for ax in axes)):
        yield [(sec, key, v) for head, c in zip(heads, choice) for (sec, key), v in zip(head, c)]


def check_count(axes: list, n_sizes: int, realisations: int = 1, max_points: int = 10_000) -> None:
    """Refuse a sweep of more than `max_points` stored points (combinations x (sizes + baseline) x
    realisations), counted from the axis lengths before any combination is built (InputError
    naming the count and the longest axes)."""
    combos = math.prod(len(ax) for ax in axes)
    points = combos * (n_sizes + 1) * realisations
    if points > max_points:
        lists = sorted(((len(ax), "+".join(ax.keys)) for ax in axes if len(ax) > 1), reverse=True)
        what = " x ".join(f"{k} ({n} values)" for n, k in lists[:3]) + (
            f" x {len(lists) - 3} more swept keys" if len(lists) > 3 else "")
        reps = f" x {realisations} realisations" if realisations > 1 else ""
        raise InputError(f"study config sweeps {points:,} points ({combos:,} combinations of {what} x "
                         f"{n_sizes} sizes + baseline{reps}), more than the {max_points:,} a study may hold; "
                         "split it into several studies or sweep fewer values")
