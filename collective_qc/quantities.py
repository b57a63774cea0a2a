"""Quantum-information figures of merit on plain NumPy arrays.

Pure functions, independent of the rest of the package (only
:class:`collective_qc.errors.InputError` is used, for bad input):

* passive-state energy and ergotropy (Allahverdyan, Balian, Nieuwenhuizen,
  EPL 67, 565 (2004)), for a dense density matrix or for a mixture given by its
  member vectors (only the lowest few eigenvalues of H_B needed);
* l1-norm of coherence in the eigenbasis of H_B (Baumgratz, Cramer, Plenio,
  PRL 113, 140401 (2014));
* von Neumann entropy and entanglement entropy of pure states (natural log).

Units: energies (eigenvalues of H_B, ``<H_B>``, ergotropy) are in whatever
energy unit H_B is given in (the package uses units of the site splitting,
hbar = 1). Populations, coherences and entropies are dimensionless; entropies
are in nats.

Tensor-product convention (QuSpin / QuTiP order): a state on
sites 0..N-1 with local dimensions ``dims`` is the vector ``psi`` of length
``prod(dims)`` whose reshape to ``dims`` (C order) has site 0 as the first
(leftmost, most significant) axis. For spins-1/2 this is the order of QuSpin's
``spin_basis_general(N, pauli=0)`` without symmetries (basis index 0 = all up).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from .errors import InputError

__all__ = [
    "passive_energy",
    "ergotropy",
    "ergotropy_mixture",
    "l1_coherence",
    "l1_coherence_pure",
    "von_neumann_entropy",
    "reduced_density_matrix",
    "entanglement_entropy",
    "half_chain_entropy",
]

#: Relative tolerance for Hermiticity / positivity / normalisation checks.
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
