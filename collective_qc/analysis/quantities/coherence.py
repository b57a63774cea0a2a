"""l1-norm of coherence in the eigenbasis of H_B (Baumgratz, Cramer, Plenio, PRL 113, 140401 (2014))."""

from __future__ import annotations

import numpy as np

from ...core.errors import InputError
from ._checks import (
    DEFAULT_TOL,
    _array,
    _hermitian,
    _square,
)


def l1_coherence(rho, eigvecs=None, *, tol: float = DEFAULT_TOL) -> float:
    r"""l1-norm of coherence of rho in the eigenbasis of H_B.

    Baumgratz, Cramer, Plenio, PRL 113, 140401 (2014):
    :math:`C_{l_1} = \sum_{i\neq j} |\rho'_{ij}|`, with
    :math:`\rho' = U^\dagger \rho U` and U the matrix whose columns are the
    eigenvectors of H_B.

    Parameters
    ----------
    rho : array_like, shape (d, d)
        Dense density matrix (Hermitian; dimensionless).
    eigvecs : array_like, shape (d, d), optional
        Unitary whose columns are the eigenbasis of H_B (e.g. the second output of
        ``numpy.linalg.eigh(H_B)``). ``None`` means rho is already in that basis.
    tol : float, optional
        Tolerance of the Hermiticity and unitarity checks.

    Returns
    -------
    float
        l1-coherence (dimensionless), between 0 and d - 1 for a normalised rho.

    Notes
    -----
    Limitation: when H_B is degenerate its eigenbasis is not unique, and the
    l1-coherence depends on the basis chosen inside each degenerate eigenspace.
    This function uses exactly the basis it is given, i.e. the one returned by
    the diagonalisation; it does not minimise over rotations within degenerate
    eigenspaces. Results for degenerate H_B should be read with that in mind.

    Raises
    ------
    InputError
        Non-square or mismatched shapes, NaN/inf, non-Hermitian rho, or
        ``eigvecs`` not unitary.
    """
    rho = _hermitian(rho, "rho", tol)
    if eigvecs is not None:
        U = _square(eigvecs, "eigvecs")
        if U.shape != rho.shape:
            raise InputError(f"l1_coherence: rho has shape {rho.shape} but eigvecs has shape {U.shape}")
        dev = float(np.max(np.abs(U.conj().T @ U - np.eye(U.shape[0]))))
        if dev > np.sqrt(tol):
            raise InputError(f"eigvecs: columns are not orthonormal (max |U^dag U - 1| = {dev:.3g})")
        rho = U.conj().T @ rho @ U
    a = np.abs(rho)
    np.fill_diagonal(a, 0.0)
    return float(np.sum(a))


def l1_coherence_pure(psi_in_eigbasis) -> float:
    r"""l1-norm of coherence of a pure state from its amplitudes in the eigenbasis of H_B.

    :math:`C_{l_1} = \sum_{i\neq j}|c_i||c_j| = (\sum_i |c_i|)^2 - \sum_i |c_i|^2`,
    which is :math:`(\sum_i |c_i|)^2 - 1` for a normalised state.

    Parameters
    ----------
    psi_in_eigbasis : array_like, shape (d,)
        Amplitudes :math:`c_i = \langle \varepsilon_i|\psi\rangle` (e.g.
        ``eigvecs.conj().T @ psi``).

    Returns
    -------
    float
        l1-coherence (dimensionless).

    Notes
    -----
    The same limitation as :func:`l1_coherence` applies for degenerate H_B: the
    result depends on the eigenbasis chosen within degenerate eigenspaces.

    Raises
    ------
    InputError
        Not 1-D, empty, or NaN/inf.
    """
    c = _array(psi_in_eigbasis, "psi_in_eigbasis")
    if c.ndim == 2 and 1 in c.shape:
        c = c.reshape(-1)
    if c.ndim != 1 or c.size == 0:
        raise InputError(f"psi_in_eigbasis: expected a non-empty 1-D state vector, got shape {c.shape}")
    a = np.abs(c)
    return float(max(np.sum(a) ** 2 - np.sum(a * a), 0.0))


# ----------------------------------------------------------------------------
# entropies
# ----------------------------------------------------------------------------
