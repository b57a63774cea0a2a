"""Von Neumann and entanglement entropies of pure states (natural log, nats)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ...core.errors import InputError
from ._checks import (
    DEFAULT_TOL,
    _array,
    _check_populations,
    _density_matrix,
)


def _entropy_from_probabilities(p: np.ndarray) -> float:
    p = p[p > 0.0]
    return float(max(-np.sum(p * np.log(p)), 0.0))


def von_neumann_entropy(rho, *, tol: float = DEFAULT_TOL) -> float:
    r"""Von Neumann entropy :math:`S = -\mathrm{Tr}[\rho \ln \rho]` (nats).

    Parameters
    ----------
    rho : array_like, shape (d, d)
        Density matrix (Hermitian, positive semidefinite, unit trace).
    tol : float, optional
        Tolerance of the Hermiticity, positivity and trace checks.

    Returns
    -------
    float
        Entropy in nats (natural logarithm), between 0 and ln d.

    Raises
    ------
    InputError
        Non-square, NaN/inf, non-Hermitian, negative eigenvalue, or trace not 1.
    """
    rho = _density_matrix(rho, "rho", tol)
    tr = float(np.real(np.trace(rho)))
    if abs(tr - 1.0) > max(tol, 1e-10) * rho.shape[0]:
        raise InputError(f"rho: trace is {tr:.12g}, expected 1")
    p = _check_populations(np.linalg.eigvalsh(rho), "rho", tol)
    return _entropy_from_probabilities(p)


def _validate_pure(psi, dims, subsystem, tol: float):
    """Validate (psi, dims, subsystem); return (psi as tensor, dims tuple, sorted kept sites, rest)."""
    try:
        dims_t = tuple(int(d) for d in dims)
        integral = all(int(d) == d for d in dims)
    except (TypeError, ValueError) as exc:
        raise InputError(f"dims: expected a sequence of positive integers, got {dims!r}") from exc
    if not dims_t or not integral or any(d < 1 for d in dims_t):
        raise InputError(f"dims: expected a non-empty sequence of positive integers, got {dims!r}")
    n = len(dims_t)
    D = int(np.prod(dims_t))
    a = _array(psi, "psi")
    if a.ndim == 2 and a.shape[1] == 1:
        a = a[:, 0]
    if a.ndim != 1:
        raise InputError(f"psi: expected a 1-D state vector, got shape {a.shape}")
    if a.size != D:
        raise InputError(f"psi: length {a.size} does not match prod(dims) = {D} for dims {dims_t}")
    norm = float(np.linalg.norm(a))
    if abs(norm - 1.0) > max(tol, 1e-10) * 100:
        raise InputError(f"psi: not normalised (norm {norm:.12g})")
    if isinstance(subsystem, (int, np.integer)):
        subsystem = [subsystem]
    try:
        sub = [int(s) for s in subsystem]
    except (TypeError, ValueError) as exc:
        raise InputError(f"subsystem: expected a list of site indices, got {subsystem!r}") from exc
    if len(set(sub)) != len(sub):
        raise InputError(f"subsystem: repeated site indices in {subsystem!r}")
    bad = [s for s in sub if not 0 <= s < n]
    if bad:
        raise InputError(f"subsystem: site indices {bad} out of range 0..{n - 1}")
    keep = sorted(sub)
    rest = [s for s in range(n) if s not in keep]
    return (a / norm).reshape(dims_t), dims_t, keep, rest


def _schmidt_matrix(psi, dims, subsystem, tol):
    t, dims_t, keep, rest = _validate_pure(psi, dims, subsystem, tol)
    dA = int(np.prod([dims_t[s] for s in keep])) if keep else 1
    M = np.transpose(t, keep + rest).reshape(dA, -1)
    return M


def reduced_density_matrix(psi, dims: Sequence[int], subsystem: Sequence[int], *, tol: float = DEFAULT_TOL):
    r"""Reduced density matrix :math:`\rho_A = \mathrm{Tr}_{\bar A}|\psi\rangle\langle\psi|`.

    Parameters
    ----------
    psi : array_like, shape (prod(dims),)
        Normalised pure state in the tensor-product order of the module docstring
        (site 0 is the leftmost, most significant factor).
    dims : sequence of int
        Local dimensions of sites 0..N-1.
    subsystem : sequence of int
        Sites kept in A. They are kept in ascending site order (as QuTiP's
        ``ptrace`` and QuSpin's ``ent_entropy(..., subsys_ordering=True)``).

    Returns
    -------
    numpy.ndarray, shape (d_A, d_A)
        Reduced density matrix (dimensionless), d_A = prod of the kept dims.
    """
    M = _schmidt_matrix(psi, dims, subsystem, tol)
    return M @ M.conj().T


def entanglement_entropy(psi, dims: Sequence[int], subsystem: Sequence[int], *, tol: float = DEFAULT_TOL) -> float:
    r"""Entanglement entropy :math:`S(\rho_A) = -\mathrm{Tr}\rho_A\ln\rho_A` of a pure state (nats).

    Computed from the Schmidt coefficients (singular values of psi reshaped as a
    d_A x d_B matrix), which is accurate and cheap.

    Parameters
    ----------
    psi : array_like, shape (prod(dims),)
        Normalised pure state (norm 1 within tolerance; it is renormalised
        exactly). Tensor order: site 0 is the leftmost, most significant factor
        (QuSpin / QuTiP order).
    dims : sequence of int
        Local dimensions of sites 0..N-1 (e.g. ``(2,) * N`` for spins-1/2).
    subsystem : sequence of int
        Site indices kept in subsystem A (any order, no repeats; may be empty or
        all sites, giving 0).
    tol : float, optional
        Tolerance of the normalisation check.

    Returns
    -------
    float
        Entropy in nats, between 0 and ln min(d_A, d_B). Not divided by the
        number of sites of A (unlike QuSpin's ``ent_entropy`` with its default
        ``density=True``).

    Raises
    ------
    InputError
        Bad dims, length mismatch, NaN/inf, non-normalised psi, or repeated /
        out-of-range site indices.
    """
    M = _schmidt_matrix(psi, dims, subsystem, tol)
    if min(M.shape) <= 1:
        return 0.0
    s = np.linalg.svd(M, compute_uv=False)
    p = s * s
    p = p / np.sum(p)
    return _entropy_from_probabilities(p)


def half_chain_entropy(psi, n_sites: int, local_dim: int, *, tol: float = DEFAULT_TOL) -> float:
    """Entanglement entropy (nats) of the first ``floor(n_sites / 2)`` sites of a pure state.

    Parameters
    ----------
    psi : array_like, shape (local_dim**n_sites,)
        Normalised pure state (site 0 leftmost factor).
    n_sites : int
        Number of sites N >= 1.
    local_dim : int
        Local Hilbert-space dimension of every site (2 for spins-1/2).

    Returns
    -------
    float
        :func:`entanglement_entropy` of sites ``0 .. N//2 - 1`` (0 for N = 1).
    """
    if int(n_sites) != n_sites or n_sites < 1:
        raise InputError(f"n_sites: expected a positive integer, got {n_sites!r}")
    if int(local_dim) != local_dim or local_dim < 1:
        raise InputError(f"local_dim: expected a positive integer, got {local_dim!r}")
    n = int(n_sites)
    return entanglement_entropy(psi, (int(local_dim),) * n, list(range(n // 2)), tol=tol)
