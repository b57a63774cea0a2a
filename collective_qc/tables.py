"""The one formatter of printed tables (compare and study): aligned columns, value(error) cells."""

from __future__ import annotations

import math

__all__ = ["cell", "text_table"]


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
