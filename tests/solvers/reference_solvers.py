"""Test references: the superoperator Lindblad solver and the expm_multiply closed solver
that the matrix-form / Chebyshev solvers replaced (kept verbatim for equality tests)."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.linalg import expm

from collective_qc.operators import Operators
from collective_qc.protocols import Protocol

__all__ = ["solve_closed", "solve_lindblad"]


DENSE_MAX = 256  # generators up to this size (repeated steps) are exponentiated densely: no OpenMP overhead


class Propagator:
    """Exact exponential propagation of y' = G(f) y for piecewise-constant f.

    ``make_generator(f)`` returns the sparse generator G(f) (already multiplied by -i for
    Schroedinger dynamics); steps use QuSpin's ``expm_multiply_parallel`` (OpenMP).
    """

    def __init__(self, make_generator, factor: complex = 1.0):
        self.make_generator = make_generator
        self.factor = factor  # y' = factor * G(f) y; -1j keeps real Hamiltonians real (half the bandwidth)
        self._gen = {}
        self._cache = {}
        self._seen = {}

    def step(self, y: np.ndarray, f: float, dt: float) -> np.ndarray:
        from quspin.tools.evolution import expm_multiply_parallel

        if dt <= 0:
            return y
        if f not in self._gen:
            G = self.make_generator(f).tocsr()
            # trace shift: exp(a G) = exp(a mu) exp(a (G - mu)), fewer Taylor terms (Al-Mohy & Higham)
            mu = G.diagonal().mean()
            if np.isrealobj(G.data) and np.iscomplexobj(mu):  # pragma: no cover
                mu = mu.real
            G = (G - mu * sp.identity(G.shape[0], format="csr", dtype=G.dtype)).tocsr()
            self._gen[f] = (G, mu)
        key = (f, round(dt, 15))
        prop = self._cache.get(key)
        if prop is None:
            G, mu = self._gen[f]
            scale = np.exp(self.factor * dt * mu)
            self._seen[key] = self._seen.get(key, 0) + 1
            if G.shape[0] <= DENSE_MAX and self._seen[key] > 1:
                # small generators and a repeated step: one dense exponential, then matrix products
                prop = ("dense", scale * expm((self.factor * dt) * G.toarray().astype(np.complex128)))
            else:
                prop = ("taylor", expm_multiply_parallel(G, a=self.factor * dt, dtype=np.complex128), scale)
            if prop[0] == "dense" or G.shape[0] > DENSE_MAX:
                if len(self._cache) > 8:
                    self._cache.clear()
                self._cache[key] = prop
        if prop[0] == "dense":
            return prop[1] @ y
        out = np.empty_like(y)
        for m in range(y.shape[1]):
            out[:, m] = prop[2] * prop[1].dot(np.ascontiguousarray(y[:, m]))
        return out


def schroedinger_generator(ops: Operators, drive: float):
    """f -> [[H(f), 0], [f V, H(f)]] (use with factor -i) for the state and its lambda-tangent."""
    H0 = ops.H0

    def make(f: float):
        H = (H0 + (drive * f) * ops.V).tocsr()
        if f == 0.0:
            return sp.block_diag([H, H], format="csr")
        return sp.bmat([[H, None], [f * ops.V, H]], format="csr")

    return make


def propagate(prop: Propagator, protocol: Protocol, y, t0: float, t1: float):
    pts = [t0, *protocol.breakpoints(t0, t1), t1]
    for a, b in zip(pts[:-1], pts[1:], strict=False):
        y = prop.step(y, protocol.value(0.5 * (a + b)), b - a)
    return y


class ClosedSolution:
    """Samples of E, P, C_Q and an exact evaluator for refining tau_c."""

    def __init__(self, times, energy, power, capacitance, evaluate, e0, extras=None):
        self.extras = extras  # (n_extra, n_times) values of the solver's extra observables, or None
        self.times = times
        self.energy = energy
        self.power = power
        self.capacitance = capacitance
        self.evaluate = evaluate
        self.e0 = e0


def _observables(ops: Operators, y, weights, drive, f):
    dim = ops.dim
    psi, phi = y[:dim], y[dim:]
    hb = ops.H_B @ psi
    vp = ops.V @ psi
    e = np.real(np.einsum("im,im->m", psi.conj(), hb))
    c = 2.0 * np.real(np.einsum("im,im->m", hb.conj(), phi))
    p = 2.0 * drive * f * np.imag(np.einsum("im,im->m", hb.conj(), vp))
    return float(weights @ e), float(weights @ p), float(weights @ c)


def solve_closed(ops: Operators, psi0: np.ndarray, weights: np.ndarray, drive: float,
                 protocol: Protocol, times: np.ndarray, progress=None, diagonals=None,
                 extras=None) -> ClosedSolution:
    """Evolve the (mixture of) initial states and sample E, P, C_Q at `times`.

    Parameters
    ----------
    psi0 : (dim, n_members) array, weights : (n_members,)
    drive : float  lambda (the paper's Omega)
    times : increasing array starting at >= 0 (units of 1/omega0)
    diagonals : (n_obs, dim) real array, optional
        Diagonal observables, averaged over the mixture at each sample (``solution.extras``).
    extras : callable (psi (dim, n_members), weights) -> 1-d array, optional
        Further observables of the evolved members, appended after the diagonals.
    """
    dim = ops.dim
    prop = Propagator(schroedinger_generator(ops, drive), factor=-1j)
    y = np.zeros((2 * dim, psi0.shape[1]), dtype=np.complex128)
    y[:dim] = psi0
    e0 = float(weights @ np.real(np.einsum("im,im->m", psi0.conj(), ops.H_B @ psi0)))

    def observables(yy, f):
        return _observables(ops, yy, weights, drive, f)

    extra = None
    if diagonals is not None or extras is not None:
        D = np.zeros((0, dim)) if diagonals is None else np.asarray(diagonals, float)

        def extra(yy):
            psi = yy[:dim]
            out = D @ ((np.abs(psi) ** 2) @ weights)
            if extras is not None:
                out = np.concatenate([out, np.atleast_1d(extras(psi, weights))])
            return out

    return sample(prop, protocol, y, times, observables, e0, progress, extra)


def sample(prop: Propagator, protocol: Protocol, y0, times, observables, e0: float, progress=None, extra=None):
    """Propagate y0 through `times`, sampling (E - e0, P, C) from ``observables(y, f)``
    (and ``extra(y)``, a 1-d array, when given).

    Keeps the states at the two samples around the first + -> - sign change of P, so
    that tau_c can be refined by exact re-propagation (``evaluate(k, t)``).
    """
    n = len(times)
    E, P, C = np.empty(n), np.empty(n), np.empty(n)
    y = y0
    t_prev = 0.0
    saved = {}
    found = False
    rows = []
    for k, t in enumerate(times):
        y = propagate(prop, protocol, y, t_prev, float(t))
        t_prev = float(t)
        e, p, c = observables(y, protocol.value(float(t)))
        E[k], P[k], C[k] = e - e0, p, c
        if extra is not None:
            rows.append(np.asarray(extra(y), dtype=float))
        if not found:
            saved[k] = y.copy()
            saved.pop(k - 2, None)
            found = k > 0 and P[k - 1] > 0 and P[k] < 0
        if progress is not None:
            progress(k + 1, n)

    def evaluate(k: int, t: float):
        yk = saved.get(k)
        if yk is None:  # re-propagate from the start (bracket not at the first sign change)
            yk = propagate(prop, protocol, y0, 0.0, float(times[k]))
        yt = propagate(prop, protocol, yk, float(times[k]), float(t))
        e, p, c = observables(yt, protocol.value(float(t)))
        return e - e0, p, c

    extras = np.array(rows).T if extra is not None else None
    return ClosedSolution(np.asarray(times, float), E, P, C, evaluate, e0, extras)
def estimate_lindblad_memory(dim: int, nnz_per_row: int, n_jumps: int) -> float:
    """Bytes for the augmented super-operator and work vectors."""
    d2 = dim * dim
    nnz = d2 * (2 * nnz_per_row + 3 * n_jumps + 2)
    return 2.5 * nnz * 20 + 40 * d2 * 16


def _spre(A, eye):
    return sp.kron(eye, A, format="csr")


def _spost(A, eye):
    return sp.kron(A.T, eye, format="csr")


def liouvillian_parts(ops: Operators):
    """(L0, LV): L0 = -i[H_0, .] + dissipator, LV = -i[V, .] (super-operators, CSR)."""
    dim = ops.dim
    eye = sp.identity(dim, format="csr", dtype=np.complex128)
    H0 = ops.H0.astype(np.complex128)
    V = ops.V.astype(np.complex128)
    L0 = -1j * (_spre(H0, eye) - _spost(H0, eye))
    for j in ops.jumps:
        L = j.matrix.astype(np.complex128)
        LdL = (L.conj().T @ L).tocsr()
        L0 = L0 + sp.kron(L.conj(), L, format="csr") - 0.5 * _spre(LdL, eye) - 0.5 * _spost(LdL, eye)
    LV = -1j * (_spre(V, eye) - _spost(V, eye))
    return L0.tocsr(), LV.tocsr()


def _adjoint_dissipator(ops: Operators, A):
    out = sp.csr_matrix(A.shape, dtype=np.complex128)
    for j in ops.jumps:
        L = j.matrix.astype(np.complex128)
        Ld = L.conj().T
        out = out + Ld @ A @ L - 0.5 * (Ld @ L @ A + A @ Ld @ L)
    if ops.H_aux is not None:
        out = out + 1j * (ops.H_aux @ A - A @ ops.H_aux)
    return out.tocsr()


def solve_lindblad(ops: Operators, psi0: np.ndarray, weights: np.ndarray, drive: float,
                   protocol: Protocol, times: np.ndarray, progress=None, diagonals=None,
                   extras=None) -> ClosedSolution:
    """Exact density-matrix evolution of the mixture sum_k w_k |psi_k><psi_k|.

    Returns the same sample/evaluator structure as the closed solver. ``diagonals``
    (n_obs, dim): diagonal observables Tr[D rho]; ``extras(rho)`` -> 1-d array: further
    observables of the density matrix; both sampled into ``solution.extras``.
    """
    dim = ops.dim
    L0, LV = liouvillian_parts(ops)

    def make(f: float):
        L = (L0 + (drive * f) * LV).tocsr()
        if f == 0.0:
            return sp.block_diag([L, L], format="csr")
        return sp.bmat([[L, None], [f * LV, L]], format="csr")

    prop = Propagator(make)
    rho0 = (psi0 * weights) @ psi0.conj().T
    y = np.zeros((2 * dim * dim, 1), dtype=np.complex128)
    y[: dim * dim, 0] = rho0.reshape(-1, order="F")
    HB = ops.H_B.astype(np.complex128)
    hb_vec = np.asarray(HB.T.toarray()).reshape(-1, order="F")  # Tr[A rho] = vec(A^T) . vec(rho)
    K0 = _adjoint_dissipator(ops, HB)
    KV = (1j * (ops.V @ HB - HB @ ops.V)).tocsr()
    k0_vec = np.asarray(K0.T.toarray()).reshape(-1, order="F")
    kv_vec = np.asarray(KV.T.toarray()).reshape(-1, order="F")
    d2 = dim * dim

    def observables(yy, f):
        r, x = yy[:d2, 0], yy[d2:, 0]
        e = np.real(hb_vec @ r)
        c = np.real(hb_vec @ x)
        p = np.real(k0_vec @ r + drive * f * (kv_vec @ r))
        return e, p, c

    extra = None
    if diagonals is not None or extras is not None:
        D = np.zeros((0, dim)) if diagonals is None else np.asarray(diagonals, float)

        def extra(yy):
            rho = yy[:d2, 0].reshape(dim, dim, order="F")
            out = D @ np.real(np.diagonal(rho))
            if extras is not None:
                out = np.concatenate([out, np.atleast_1d(extras(rho))])
            return out

    e0 = observables(y, 0.0)[0]
    return sample(prop, protocol, y, times, observables, e0, progress, extra)
