"""The one place that picks the form of the kernels' innermost loops: SIMD or scalar.

The entry points (CSR row sums ``row_pair``, ``row_dot``; the fused Chebyshev product
``cheb_rows_0`` / ``_v`` / ``_x``; the recording sums ``record_rows_0`` / ``_v`` / ``_x``; the
series sums ``series_sums``, ``series_sums4``, ``series_sums_psi``) exist in two forms with one
interface: ``simd`` (hand-written LLVM vector IR, about 2.4x faster) and ``scalar`` (plain Numba).
Lane by lane the IR performs the scalar form's IEEE operations in the same order, so the two give
the same bits (``tests/solvers/test_simd.py``). Complex matrix data always take the scalar form.

Here each entry point takes the form first: ``row_pair(form, cd, ci, lo, hi, x)`` calls the
form's ``row_pair(cd, ci, lo, hi, x)``. The form is a :class:`KernelForm` value that rides in the
kernels' operands (``packs.Mats.form``); its Numba type names the form, so the choice is part of
every compiled signature and Numba's on-disk cache keeps the two forms' machine code apart
(switching never reuses the other form's code; a process may run both).

Choosing
--------
:func:`kernel_form` (called when a run's operands are packed) reads the environment variable
``CQC_KERNELS``:

* ``auto`` (default, also when unset or empty): ``simd`` when the IR can be built here, else
  ``scalar``. The check (:func:`simd_available`) compiles and runs a tiny function that uses
  every IR form, once per process, at first use (never at import);
* ``simd``: the vector form (RuntimeError when the IR cannot be built here);
* ``scalar``: the plain Numba form (e.g. to test it, or to rule the IR out).
"""

from __future__ import annotations

import functools
import os

from numba import types
from numba.extending import NativeValue, models, overload, register_model, typeof_impl, unbox

from . import scalar

ENV = "CQC_KERNELS"
FORMS = ("simd", "scalar")


class KernelForm:
    """The form of the innermost loops, "simd" or "scalar" (a value the kernels receive in their
    operands; its Numba type carries the name)."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        if name not in FORMS:
            raise ValueError(f"kernel form must be one of {FORMS}, got {name!r}")
        self.name = name

    def __eq__(self, other):
        return isinstance(other, KernelForm) and other.name == self.name

    def __hash__(self):
        return hash(("KernelForm", self.name))

    def __repr__(self):
        return f"KernelForm({self.name!r})"

    def __reduce__(self):
        return KernelForm, (self.name,)


class KernelFormType(types.Dummy):
    """Numba type of a KernelForm: one type per form (no data at run time)."""

    def __init__(self, form: str):
        self.form = form
        super().__init__(name=f"KernelForm[{form}]")


@typeof_impl.register(KernelForm)
def _typeof_form(val, c):
    return KernelFormType(val.name)


register_model(KernelFormType)(models.OpaqueModel)


@unbox(KernelFormType)
def _unbox_form(typ, obj, c):
    return NativeValue(c.context.get_dummy_value())


@functools.lru_cache(maxsize=None)
def simd_available() -> bool:
    """Whether the SIMD form builds and runs here (checked once per process)."""
    try:
        from . import simd

        return bool(simd.probe())
    except Exception:  # noqa: BLE001 - any failure to import, build or run the IR means: scalar
        return False


def kernel_form(name: str | None = None) -> KernelForm:
    """The kernel form for a run: `name` ("auto", "simd" or "scalar"), else ``$CQC_KERNELS``,
    else "auto" (see the module docstring)."""
    choice = (name if name is not None else os.environ.get(ENV, "")).strip().lower() or "auto"
    if choice not in ("auto", *FORMS):
        raise ValueError(f"{ENV} must be auto, simd or scalar, got {choice!r}")
    if choice == "auto":
        choice = "simd" if simd_available() else "scalar"
    elif choice == "simd" and not simd_available():
        raise RuntimeError(f"{ENV}=simd: the SIMD kernels cannot be built with this numba / llvmlite")
    return KernelForm(choice)


def _pick(name: str, form, data):
    """The implementation of entry point `name` for the form type `form` and first argument type
    `data` (typing time): the SIMD form's, except for complex matrix data (scalar only)."""
    if not isinstance(form, KernelFormType):
        return None
    complex_data = isinstance(data, types.Array) and isinstance(data.dtype, types.Complex)
    if form.form == "simd" and not complex_data:
        from . import simd

        return getattr(simd, name)
    return getattr(scalar, name)


def _entry(name: str, arity: int):
    """The dispatching entry point ``name(form, *args)`` (len(args) = arity): the form's
    ``name(*args)``, inlined into the caller (explicit arities: Numba inlines no star arguments)."""
    if arity == 5:
        def entry(form, a0, a1, a2, a3, a4):
            raise NotImplementedError(_STUB)

        def ol(form, a0, a1, a2, a3, a4):
            impl = _pick(name, form, a0)
            return None if impl is None else (lambda form, a0, a1, a2, a3, a4: impl(a0, a1, a2, a3, a4))
    elif arity == 8:
        def entry(form, a0, a1, a2, a3, a4, a5, a6, a7):
            raise NotImplementedError(_STUB)

        def ol(form, a0, a1, a2, a3, a4, a5, a6, a7):
            impl = _pick(name, form, a0)
            return None if impl is None else (
                lambda form, a0, a1, a2, a3, a4, a5, a6, a7: impl(a0, a1, a2, a3, a4, a5, a6, a7))
    else:
        def entry(form, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9):
            raise NotImplementedError(_STUB)

        def ol(form, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9):
            impl = _pick(name, form, a0)
            return None if impl is None else (
                lambda form, a0, a1, a2, a3, a4, a5, a6, a7, a8, a9: impl(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9))

    entry.__name__ = entry.__qualname__ = name
    entry.__doc__ = f"``{name}`` of the form given first (see the module docstring and ``scalar.{name}``)."
    overload(entry, inline="always")(ol)
    return entry


_STUB = "a Numba kernel entry point; called from compiled code only"

row_pair = _entry("row_pair", 5)
row_dot = _entry("row_dot", 5)
cheb_rows_0 = _entry("cheb_rows_0", 5)
cheb_rows_v = _entry("cheb_rows_v", 5)
cheb_rows_x = _entry("cheb_rows_x", 5)
record_rows_0 = _entry("record_rows_0", 10)
record_rows_v = _entry("record_rows_v", 10)
record_rows_x = _entry("record_rows_x", 10)
series_sums = _entry("series_sums", 8)
series_sums4 = _entry("series_sums4", 8)
series_sums_psi = _entry("series_sums_psi", 8)
