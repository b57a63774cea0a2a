"""Checks of the array arguments of the quantity functions (InputError naming the argument)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ...core.errors import InputError

DEFAULT_TOL = 1e-8


# ----------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------
def _array(x, name: str) -> np.ndarray:
    """Convert to a NumPy array (densifying scipy sparse input) and reject NaN/inf."""
    if sp.issparse(x):
        x = x.toarray()
    try:
        a = np.asarray(x)
    except Exception as exc:  # pragma: no cover - exotic input
        raise InputError(f"{name}: cannot be converted to an array ({exc})") from exc
    if a.dtype == object or not (np.issubdtype(a.dtype, np.number) or a.dtype == bool):
        raise InputError(f"{name}: expected a numeric array, got dtype {a.dtype}")
    if a.size and not np.all(np.isfinite(a)):
        raise InputError(f"{name}: contains NaN or infinite entries")
    return a


def _real_vector(x, name: str, tol: float = DEFAULT_TOL) -> np.ndarray:
    """1-D real float array (complex input allowed if its imaginary part is negligible)."""
    a = _array(x, name)
    if a.ndim == 0:
        a = a.reshape(1)
    if a.ndim != 1:
        raise InputError(f"{name}: expected a 1-D array, got shape {a.shape}")
    if np.iscomplexobj(a):
        scale = max(1.0, float(np.max(np.abs(a)))) if a.size else 1.0
        if a.size and np.max(np.abs(a.imag)) > tol * scale:
            raise InputError(f"{name}: must be real, largest imaginary part is {np.max(np.abs(a.imag)):.3g}")
        a = a.real
    return a.astype(float, copy=False)


def _real_scalar(x, name: str, tol: float = DEFAULT_TOL) -> float:
    a = _array(x, name)
    if a.size != 1:
        raise InputError(f"{name}: expected a scalar, got shape {a.shape}")
    v = complex(a.reshape(-1)[0])
    if abs(v.imag) > tol * max(1.0, abs(v.real)):
        raise InputError(f"{name}: must be real, got {v}")
    return float(v.real)


def _square(x, name: str) -> np.ndarray:
    a = _array(x, name)
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise InputError(f"{name}: expected a square 2-D matrix, got shape {a.shape}")
    if a.shape[0] == 0:
        raise InputError(f"{name}: empty matrix")
    return a


def _hermitian(x, name: str, tol: float = DEFAULT_TOL) -> np.ndarray:
    """Square, finite, Hermitian matrix (within ``tol`` relative to its largest entry); returns its Hermitian part."""
    a = _square(x, name)
    scale = max(1.0, float(np.max(np.abs(a))))
    dev = float(np.max(np.abs(a - a.conj().T)))
    if dev > tol * scale:
        raise InputError(f"{name}: not Hermitian (max |A - A^dag| = {dev:.3g}, tolerance {tol * scale:.3g})")
    if np.iscomplexobj(a):
        return 0.5 * (a + a.conj().T)
    return 0.5 * (a + a.T).astype(float, copy=False)


def _density_matrix(x, name: str, tol: float = DEFAULT_TOL) -> np.ndarray:
    """Hermitian matrix with non-negative trace (positivity is checked on its spectrum by the callers)."""
    rho = _hermitian(x, name, tol)
    tr = float(np.real(np.trace(rho)))
    if tr < -tol:
        raise InputError(f"{name}: negative trace {tr:.6g}, not a density matrix")
    return rho


def _check_populations(p: np.ndarray, name: str, tol: float) -> np.ndarray:
    """Clip round-off negatives of a spectrum of a positive semidefinite operator; reject genuine negatives."""
    if p.size == 0:
        return p
    scale = max(1.0, float(np.sum(np.abs(p))))
    if np.min(p) < -tol * scale:
        raise InputError(f"{name}: has a negative eigenvalue {np.min(p):.3g}; rho must be positive semidefinite")
    return np.clip(p, 0.0, None)


# ----------------------------------------------------------------------------
# ergotropy
# ----------------------------------------------------------------------------
