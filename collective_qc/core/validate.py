"""Input validators shared by the API, the CLI, the graph schema and model parameters.

One number validator (:func:`number`) checks every numeric input of the project (model
parameters, graph attributes, run options, CLI options); :func:`boolean`, :func:`mapping`
and :func:`writable_file` check the rest. The memory guard (:func:`available_memory`,
:func:`check_memory`) lives here too: a run may use at most ``MEMORY_FRACTION`` (80 %) of
the memory available (``MemAvailable`` of /proc/meminfo, or ``CQC_MEMORY_LIMIT``).

Every failure raises :class:`~collective_qc.core.errors.InputError` (or
:class:`~collective_qc.core.errors.ResourceError`) with a one-line message that starts with the
name of the culprit.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import sys
from dataclasses import dataclass

import numpy as np

from .errors import InputError, ResourceError, format_bytes, shown

__all__ = ["number", "integer", "workers", "MAX_WORKERS", "WORKER_BYTES", "boolean", "mapping", "writable_file",
           "parse_size", "available_memory",
           "check_memory", "format_dim", "as_float", "power", "SizeEstimate", "MEMORY_FRACTION"]

INT64_MAX = 2 ** 63 - 1  # the largest integer option (arrays, HDF5 attributes and seeds hold int64)
MEMORY_FRACTION = 0.8  # a run may use this fraction of the available memory
MAX_WORKERS = 1024  # most local Dask worker processes one run may start
WORKER_BYTES = 300 * 2**20  # one local worker process: 265 MiB RSS measured once warm (kernels compiled)
_TRUE = ("1", "true", "yes", "on", "y", "t")
_FALSE = ("0", "false", "no", "off", "n", "f")


def number(value, name: str, *, positive=False, nonneg=False, integer=False, minimum=None, maximum=None):
    """A finite real number (or an integer with ``integer=True``) from a number or a numeric string.

    Parameters
    ----------
    value : int, float, NumPy scalar or str
        Booleans, None, lists and other types are refused.
    name : str
        The culprit's name, the first words of any error message.
    positive, nonneg : bool
        Require value > 0 or value >= 0.
    integer : bool
        Require an integral value ("1e9" and 4.0 are accepted); returns an int.
    minimum, maximum : float, optional
        Inclusive bounds.

    Raises
    ------
    InputError
    """
    kind = "an integer" if integer else "a number"
    raw = value
    if isinstance(value, str):
        try:
            value = int(value.strip()) if integer and re.fullmatch(r"\s*[+-]?\d+\s*", value) else float(value)
        except ValueError:
            raise InputError(f"{name} must be {kind}, got {shown(raw)}") from None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        got = shown(raw) if isinstance(raw, str) else f"{type(raw).__name__} {shown(raw)}"
        raise InputError(f"{name} must be {kind}, got {got}")
    if isinstance(value, numbers.Integral):
        out = int(value)
    else:
        out = float(value)
        if not math.isfinite(out):
            raise InputError(f"{name} must be finite, got {shown(raw)}")
        if integer:
            if out != math.floor(out):
                raise InputError(f"{name} must be {kind}, got {shown(raw)}")
            out = int(out)
        elif out != 0.0 and abs(out) < sys.float_info.min:
            raise InputError(f"{name} is subnormal ({shown(raw)}, below 2.2e-308 in magnitude: it has lost its "
                             "precision); give 0 or a value of normal size")
    if positive and out <= 0:
        raise InputError(f"{name} must be > 0, got {shown(raw)}")
    if nonneg and out < 0:
        raise InputError(f"{name} must be >= 0, got {shown(raw)}")
    if minimum is not None and out < minimum:
        raise InputError(f"{name} must be {'an integer ' if integer else ''}>= {minimum}, got {shown(raw)}")
    if maximum is not None and out > maximum:
        raise InputError(f"{name} must be {'an integer ' if integer else ''}<= {maximum}, got {shown(raw)}")
    if integer and abs(out) > INT64_MAX:
        raise InputError(f"{name} must fit a 64-bit integer (|n| <= 9.2e18), got {shown(raw)}")
    return out if integer else float(out)


def integer(value, name: str, **kw) -> int:
    """An integer (see :func:`number`)."""
    return number(value, name, integer=True, **kw)


def workers(value, name: str = "workers") -> int:
    """A number of local Dask worker processes: an integer in [1, MAX_WORKERS] whose processes fit
    in memory (``WORKER_BYTES`` each, against the memory guard), checked before any is started."""
    n = integer(value, name, minimum=1, maximum=MAX_WORKERS)
    check_memory(n * WORKER_BYTES, f"{name} = {n} local worker processes")
    return n


def boolean(value, name: str) -> bool:
    """True/False from a bool (NumPy bools and the integers 0, 1 included) or a clear string
    ("true/false", "yes/no", "on/off", "1/0"); anything else is refused."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise InputError(f"{name} must be true or false, got {shown(value)}")


def mapping(value, name: str) -> dict:
    """A dict with string keys (None -> {})."""
    if value is None:
        return {}
    if not hasattr(value, "keys") or not hasattr(value, "items"):
        raise InputError(f"{name} must be a dict of name -> value, got {type(value).__name__} {value!r}")
    out = dict(value)
    for key in out:
        if not isinstance(key, str):
            raise InputError(f"{name}: keys must be parameter names (strings), got {shown(key)}")
    return out


def writable_file(path, name: str) -> str:
    """Check, before any work, that `path` can be written: an existing file is opened for appending
    (not changed); a new one is created and removed again (it is ours). Returns the path."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise InputError(f"{name} must be a file path, got {shown(path)}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise InputError(f"{name} {path!r} is a directory, not a file")
    if not os.path.isdir(folder):
        raise InputError(f"{name} {path!r}: directory {folder!r} does not exist")
    existed = os.path.exists(path)
    try:
        with open(path, "a" if existed else "x"):
            pass
    except OSError as exc:
        raise InputError(f"{name} {path!r} cannot be written: {exc.strerror or exc}") from None
    if not existed:
        os.remove(path)
    return path


def as_float(x) -> float:
    """A (possibly huge) integer such as a Hilbert-space dimension as a float, inf beyond 1e308."""
    try:
        return float(x)
    except OverflowError:
        return math.inf


_UNITS = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40, "P": 1 << 50}


def parse_size(text: str, name: str = "CQC_MEMORY_LIMIT") -> int:
    """Bytes from a size such as "8G", "8GB", "8GiB", "512 MiB", "1.5e9" (binary units); must be > 0."""
    m = re.fullmatch(r"\s*([0-9.eE+-]+)\s*([KMGTP]?)(I?B)?\s*", str(text).upper())
    value = None
    if m:
        try:
            value = float(m.group(1)) * _UNITS[m.group(2)]
        except ValueError:
            value = None
    if value is None or not math.isfinite(value) or value < 1:
        raise InputError(f"{name}={text!r} is not a positive memory size (examples: 8G, 8GiB, 512M, 1e9)")
    return int(value)


def available_memory() -> int:
    """Bytes of memory the project may draw on: ``CQC_MEMORY_LIMIT`` (e.g. '8G') or MemAvailable."""
    env = os.environ.get("CQC_MEMORY_LIMIT")
    if env is not None and env.strip():  # an empty value counts as unset
        return parse_size(env)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:  # pragma: no cover
        pass
    return 8 << 30  # pragma: no cover


def check_memory(required: float, what: str) -> None:
    """Raise ResourceError if `required` bytes exceed ``MEMORY_FRACTION`` (80 %) of the available memory."""
    avail = available_memory()
    if not required <= MEMORY_FRACTION * avail:  # also refuses inf and nan
        source = "CQC_MEMORY_LIMIT" if (os.environ.get("CQC_MEMORY_LIMIT") or "").strip() else "MemAvailable"
        raise ResourceError(
            f"{what} needs {_amount(required)} of memory, more than the "
            f"{MEMORY_FRACTION:.0%} margin of {format_bytes(avail)} ({source}) a run may use: "
            f"{format_bytes(MEMORY_FRACTION * avail)}"
        )


def _amount(required: float) -> str:
    """'about 2.6 GiB', or 'more than 1e308 bytes' when the estimate overflows a double."""
    return f"about {format_bytes(required)}" if required < float("inf") else format_bytes(required)


def format_dim(dim: float) -> str:
    """A Hilbert-space dimension for messages: exact up to 1e15, else in powers of ten."""
    if dim < 1e15:
        return f"{int(dim):,}"
    dim = as_float(dim)
    if not math.isfinite(dim):
        return "above 1e308"
    return f"about {dim:.2e}"


def power(base: float, exponent: float) -> float:
    """base**exponent as a float, inf on overflow (dimensions of large product spaces)."""
    try:
        return float(base) ** float(exponent)
    except OverflowError:
        return math.inf


@dataclass
class SizeEstimate:
    """What a model will allocate, known before its graph is built (see ``Model.size_estimate``).

    Attributes
    ----------
    n_sites : int
        Number of battery sites N.
    dim : float
        Hilbert-space dimension (exact when ``model_graph`` is set, else a lower bound; inf if
        it overflows a double).
    graph_bytes : float
        Memory needed to build the graph itself (0 once built).
    model_graph : ModelGraph or None
        The validated graph when it was cheap to build; None when it was not built.
    """

    n_sites: int
    dim: float
    graph_bytes: float = 0.0
    model_graph: object = None

    @property
    def exact(self) -> bool:
        return self.model_graph is not None

    @classmethod
    def from_graph(cls, mg) -> SizeEstimate:
        return cls(n_sites=mg.n_sites, dim=as_float(mg.dim), model_graph=mg)
