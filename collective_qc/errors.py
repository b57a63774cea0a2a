"""Exceptions raised for bad input (before any heavy work starts)."""

from __future__ import annotations


class InputError(ValueError):
    """Bad user input: the message names the offending parameter, node, edge or value.

    The CLI turns it into a one-line message and exit code 2 (no traceback).
    """


class ResourceError(InputError):
    """A request that would not fit in memory; the message gives the estimate."""


def format_bytes(n: float) -> str:
    """Human-readable byte count (binary units)."""
    if not n < float("inf"):
        return "more than 1e308 bytes"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(n) < 1024.0 or unit == "PiB":
            return f"{n:.1f} {unit}"
        n /= 1024.0
    return f"{n:.1f} PiB"  # pragma: no cover
