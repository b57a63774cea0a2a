"""Exceptions raised for bad input (before any heavy work starts)."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: the message names the offending parameter, node, edge or value.

    The CLI turns it into a one-line message and exit code 2 (no traceback).
    """


class ResourceError(InputError):
    """A request that would not fit in memory; the message gives the estimate."""


def format_bytes(n: float) -> str:
    """Human-readable byte count (binary units); "more than 1e308 bytes" beyond a double."""
    if not n < float("inf"):
        return "more than 1e308 bytes"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024.0 or unit == "PiB":
            return f"{n:.1f} {unit}" if abs(n) < 1e6 else f"{n:.3g} {unit}"
        n /= 1024.0
    return f"{n:.1f} PiB"  # pragma: no cover


def shown(value) -> str:
    """A value for an error message: ``repr``, with integers of more than 15 digits abbreviated
    (``10**300`` -> ``1e+300``) and long strings cut, so a message stays one readable line."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        try:
            return f"{float(value):.6g}"
        except OverflowError:
            return f"{'-' if value < 0 else ''}1e+{len(str(abs(value))) - 1} (about)"
    if isinstance(value, str):
        import re

        m = re.fullmatch(r"\s*([+-]?)(\d{16,})\s*", value)
        if m:  # a huge integer typed as text: its first digits and length
            return f"'{m.group(1)}{m.group(2)[:6]}...' (an integer of {len(m.group(2))} digits)"
    text = repr(value)
    return text if len(text) <= 200 else text[:120] + f"... ({len(text)} characters)"


def format_count(n) -> str:
    """An integer count for messages: ``1,000,000`` up to 1e15, abbreviated beyond (``1e+300``)."""
    return f"{n:,}" if isinstance(n, int) and abs(n) < 10**15 else shown(n)
