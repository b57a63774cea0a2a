"""The one formatter of printed tables (compare and study): aligned columns, value(error) cells."""

from __future__ import annotations

import math
import re

__all__ = ["cell", "text_table", "undefined_notes", "short_reason", "join_reasons", "parse_reasons"]

_TRAILING = re.compile(r" \((?:[^()]|\([^()]*\))*\)$")  # a final parenthesis, one level of nesting inside


def cell(x, err=None) -> str:
    """x to 4 significant digits, or x(e) with e the standard error in the last two digits
    (1.234(12) = 1.234 +- 0.012); "-" for an undefined value."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, str) or isinstance(x, int):
        return str(x)
    if err is None or not math.isfinite(err) or err <= 0 or x == 0:
        return f"{x:.4g}"
    place = math.floor(math.log10(err)) - 1
    if place >= 0 or abs(x) >= 1e5 or abs(x) < 1e-3:
        return f"{x:.4g}({err:.2g})"
    return f"{x:.{-place}f}({round(err / 10 ** place):d})"


def text_table(head: list[str], body: list[list[str]]) -> list[str]:
    """Lines of a right-aligned table: the header, then one line per row of cells."""
    width = [max(len(row[i]) for row in [head, *body]) for i in range(len(head))]
    return ["  ".join(c.rjust(w) for c, w in zip(row, width)) for row in [head, *body]]


def undefined_notes(entries, names: dict) -> list[str]:
    """Footnotes for the "-" cells of a table: one per distinct reason, naming the rows and columns.

    Parameters
    ----------
    entries : iterable of (row label, {column key: reason})
        The ``undefined`` mapping of each printed row (:mod:`collective_qc.analysis.verdict`).
    names : dict
        Column key -> printed header; columns not printed are left out.
    """
    by_reason: dict = {}
    for label, undefined in entries:
        for key, why in (undefined or {}).items():
            if key in names:
                by_reason.setdefault(short_reason(why), {}).setdefault(label, []).append(names[key])
    notes = []
    for why, where in by_reason.items():
        cells = "; ".join(f"{label}: {', '.join(cols)}" for label, cols in where.items())
        notes.append(f"-: {why} [{cells}]")
    return notes


def short_reason(why: str) -> str:
    """A reason without the numbers in its trailing parentheses (each "; "-separated part), so that
    equal reasons of different rows print as one footnote; the full text is in JSON and CSV."""
    return "; ".join(_TRAILING.sub("", part) for part in why.split("; "))


def join_reasons(undefined: dict, cols) -> str | None:
    """The ``undefined`` cell of a table row: "column: reason" for each of `cols` that is not a
    result (:mod:`collective_qc.analysis.verdict`), joined by " | "; None when every value is a result.
    :func:`parse_reasons` reads it back."""
    parts = [f"{c}: {undefined[c]}" for c in cols if c in undefined]
    return " | ".join(parts) or None


def parse_reasons(text: str | None) -> dict:
    """{column: reason} from an ``undefined`` cell of a study table ("column: reason | ...")."""
    return dict(part.split(": ", 1) for part in text.split(" | ")) if text else {}
