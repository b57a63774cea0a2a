"""Passive-state energy and ergotropy (Allahverdyan, Balian, Nieuwenhuizen, EPL 67, 565 (2004))."""

from __future__ import annotations

import numpy as np

from ...core.errors import InputError
from ._checks import (
    DEFAULT_TOL,
    _array,
    _check_populations,
    _density_matrix,
    _hermitian,
    _real_scalar,
    _real_vector,
)


def passive_energy(populations, energies, *, tol: float = DEFAULT_TOL) -> float:
    r"""Energy of the passive state with the spectrum of rho.

    .. math:: E_\mathrm{passive} = \sum_k r_k^\downarrow\, \varepsilon_k^\uparrow

    with :math:`r^\downarrow` the eigenvalues of rho in decreasing order and
    :math:`\varepsilon^\uparrow` those of H_B in increasing order. This is
    :math:`\min_U \mathrm{Tr}[U \rho U^\dagger H_B]`.

    Parameters
    ----------
    populations : array_like, shape (m,)
        Eigenvalues of rho (dimensionless, any order; round-off negatives down to
        ``-tol * sum|r|`` are clipped to 0, larger negatives are an error).
    energies : array_like, shape (n,)
        Eigenvalues of H_B (energy units, any order). They may be only the lowest
        ``n`` eigenvalues of H_B, as long as rho has at most ``n`` nonzero
        eigenvalues.
    tol : float, optional
        Relative tolerance (to ``sum|r|``) below which an eigenvalue of rho counts
        as zero.

    Returns
    -------
    float
        Passive-state energy (energy units).

    Raises
    ------
    InputError
        Non-1-D, complex, NaN or negative input; or rho has more nonzero
        eigenvalues than energies given (``m > n`` and the surplus populations are
        not zero). If ``m < n`` the populations are padded with zeros.
    """
    r = _check_populations(_real_vector(populations, "populations", tol), "populations", tol)
    e = _real_vector(energies, "energies", tol)
    r = np.sort(r)[::-1]
    e = np.sort(e)
    if r.size > e.size:
        surplus = r[e.size :]
        thresh = tol * max(1.0, float(np.sum(r)))
        n_nonzero = int(np.count_nonzero(r > thresh))
        if surplus.size and float(np.max(surplus)) > thresh:
            raise InputError(
                f"passive_energy: rho has {n_nonzero} nonzero eigenvalues (> {thresh:.3g}) but only "
                f"{e.size} eigenvalues of H_B were given; pass at least {n_nonzero} of the lowest energies"
            )
        r = r[: e.size]
    return float(np.dot(r, e[: r.size]))


def _clip_ergotropy(w: float, scale: float, tol: float, what: str) -> float:
    """Clip tiny negative ergotropies (round-off) to 0; a substantially negative one means inconsistent input."""
    if w >= 0.0:
        return w
    if w > -tol * scale:
        return 0.0
    raise InputError(
        f"{what}: mean energy is below the passive-state energy by {-w:.3g} (ergotropy must be >= 0); "
        "energy and spectrum are inconsistent"
    )


def ergotropy(rho, H, *, tol: float = DEFAULT_TOL) -> float:
    r"""Ergotropy :math:`W = \mathrm{Tr}[\rho H] - \min_U \mathrm{Tr}[U\rho U^\dagger H]`.

    Allahverdyan, Balian, Nieuwenhuizen, EPL 67, 565 (2004): the maximum work
    extractable from rho by a cyclic unitary; the minimum is reached by the
    passive state (see :func:`passive_energy`).

    Parameters
    ----------
    rho : array_like, shape (d, d)
        Dense density matrix (Hermitian, positive semidefinite; dimensionless).
        Sparse input is densified.
    H : array_like, shape (d, d)
        Dense Hermitian Hamiltonian H_B (energy units).
    tol : float, optional
        Relative tolerance of the Hermiticity / positivity checks; round-off
        negative ergotropies down to ``-tol * scale`` are clipped to 0.

    Returns
    -------
    float
        Ergotropy (energy units), >= 0.

    Raises
    ------
    InputError
        Non-square, mismatched shapes, NaN/inf, non-Hermitian rho or H, or rho
        with a negative eigenvalue.
    """
    rho = _density_matrix(rho, "rho", tol)
    H = _hermitian(H, "H", tol)
    if H.shape != rho.shape:
        raise InputError(f"ergotropy: rho has shape {rho.shape} but H has shape {H.shape}")
    energy = float(np.real(np.sum(rho * H.T)))  # Tr[rho H]
    r = np.linalg.eigvalsh(rho)
    eps = np.linalg.eigvalsh(H)
    e_p = passive_energy(r, eps, tol=tol)
    w = energy - e_p
    scale = max(1.0, float(np.max(np.abs(eps)))) * max(1.0, float(np.sum(np.abs(r))))
    # For a dense rho the exact result is >= 0: only round-off can make it negative.
    return _clip_ergotropy(w, scale, tol, "ergotropy")


def ergotropy_mixture(vectors, weights, H_energies_low, energy, *, tol: float = DEFAULT_TOL) -> float:
    r"""Ergotropy of :math:`\rho = \sum_m w_m |v_m\rangle\langle v_m|` from its members.

    The nonzero eigenvalues of rho are those of the M x M Gram matrix
    :math:`G = \sqrt{w}\, V^\dagger V \sqrt{w}` (rho = A A^dag and G = A^dag A
    with A = V sqrt(w)), so the members need not be orthogonal or normalised
    (members of a mixture evolved by a unitary stay orthonormal, but this is not
    assumed). rho has rank <= M, hence only the M lowest eigenvalues of H_B are
    needed: this gives the ergotropy of big closed systems from a few Lanczos
    eigenvalues.

    Parameters
    ----------
    vectors : array_like, shape (dim, M) or (dim,)
        Member state vectors as columns (a 1-D array is a single pure state).
    weights : array_like, shape (M,)
        Non-negative weights w_m (dimensionless; rho is not renormalised, so they
        should sum to 1 for normalised members).
    H_energies_low : array_like, shape (n,)
        The n lowest eigenvalues of H_B (energy units, any order), n >= rank of
        rho (n >= M always suffices).
    energy : float
        Mean energy :math:`\mathrm{Tr}[\rho H_B] = \sum_m w_m \langle v_m|H_B|v_m\rangle`
        (energy units).
    tol : float, optional
        Relative tolerance: eigenvalues of rho below ``tol * Tr rho`` count as
        zero, and negative ergotropies above ``-tol * scale`` are round-off and
        clipped to 0.

    Returns
    -------
    float
        Ergotropy (energy units), >= 0.

    Raises
    ------
    InputError
        Bad shapes, NaN/inf, negative or complex weights, too few energies for
        the rank of rho, or an ``energy`` below the passive-state energy.
    """
    V = _array(vectors, "vectors")
    if V.ndim == 1:
        V = V[:, None]
    if V.ndim != 2 or V.shape[0] == 0 or V.shape[1] == 0:
        raise InputError(f"vectors: expected shape (dim, M) with dim, M >= 1, got {V.shape}")
    w = _real_vector(weights, "weights", tol)
    if w.size != V.shape[1]:
        raise InputError(f"weights: {w.size} weights for {V.shape[1]} member vectors (columns of `vectors`)")
    if w.size and np.min(w) < 0.0:
        raise InputError(f"weights: must be non-negative, got min {np.min(w):.3g}")
    eps = _real_vector(H_energies_low, "H_energies_low", tol)
    if eps.size == 0:
        raise InputError("H_energies_low: at least one eigenvalue of H_B is needed")
    e_mean = _real_scalar(energy, "energy", tol)
    sw = np.sqrt(w)
    G = (sw[:, None] * (V.conj().T @ V)) * sw[None, :]
    G = 0.5 * (G + G.conj().T)
    r = np.linalg.eigvalsh(G)
    e_p = passive_energy(r, eps, tol=tol)
    wk = e_mean - e_p
    scale = max(1.0, abs(e_mean), float(np.max(np.abs(eps)))) * max(1.0, float(np.sum(np.abs(r))))
    return _clip_ergotropy(wk, scale, tol, "ergotropy_mixture")


# ----------------------------------------------------------------------------
# coherence
# ----------------------------------------------------------------------------
