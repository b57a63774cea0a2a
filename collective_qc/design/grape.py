r"""Exact gradients of a final-time objective over piecewise-constant drive slices (GRAPE / adjoint).

The drive is f(t) = u_k on slice k, t in [k dt, (k + 1) dt), k = 0 ... M - 1, dt = tau / M, so the
generator of slice k is

- closed: H_k = H0 + lambda u_k V, propagator U_k = exp(-i dt H_k);
- open (vectorised Lindblad, column stacking): L_k = L0 + lambda u_k L_V, P_k = exp(dt L_k),
  L_V rho = -i [V, rho].

The objective is F = Tr[A rho(tau)] for a terminal observable A (H_B for the energy; the ergotropy's
A is built from the final state, :func:`terminal_observable`). One forward pass stores the states
after each slice, one backward pass carries the co-state chi_k = U_{k+1}^dag ... U_M^dag A psi(tau)
(open: the adjoint map), and

    dF/du_k = 2 Re <chi_k | dU_k/du_k | psi_{k-1}>      (closed, per member of a mixture),
    dF/du_k = Re  c_k^T (dP_k/du_k) r_{k-1}              (open),

so M slices cost two propagations and M exact propagator derivatives. The derivative of
exp(-i dt H_k) is exact: with H_k = W diag(e) W^dag, dU/du = W [(W^dag lambda V W) o D] W^dag,
D_ab = (exp(-i dt e_a) - exp(-i dt e_b)) / (e_a - e_b) (divided differences; -i dt exp(-i dt e_a)
where e_a = e_b). Open: the exponential of the block generator [[A_k, dt lambda L_V], [0, A_k]],
A_k = dt L_k, applied to (0, r_{k-1}) gives (dP_k/du_k r_{k-1}, P_k r_{k-1}) at once (Van Loan 1978),
computed as the action of a sparse exponential (:func:`scipy.sparse.linalg.expm_multiply`, to double
precision), and the co-state is carried back by the action of exp(A_k^T); no d^2 x d^2 propagator is
formed. Closed problems use dense d x d matrices (d up to a few thousand).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla

__all__ = ["Dynamics", "evaluate", "terminal_observable", "propagate_states"]


@dataclass
class Dynamics:
    """The dense control problem: H(t) = H0 + lambda u(t) V on the run's basis.

    Attributes
    ----------
    H0, V, H_B : ndarray (d, d), complex
        Drift (H_B + H_aux, or H_aux alone with the battery off), charger, battery Hamiltonian
        (energy units).
    drive : float
        lambda, energy units; u is dimensionless.
    vectors, weights : ndarray (d, m), (m,)
        The initial mixture sum_j w_j |psi_j><psi_j|.
    jumps : list of ndarray (d, d)
        Lindblad jump operators (sqrt(rate) included); empty for a closed problem.
    """

    H0: np.ndarray
    V: np.ndarray
    H_B: np.ndarray
    drive: float
    vectors: np.ndarray
    weights: np.ndarray
    jumps: list

    @property
    def closed(self) -> bool:
        return not self.jumps

    @property
    def rho0(self) -> np.ndarray:
        return (self.vectors * self.weights) @ self.vectors.conj().T

    def liouvillians(self):
        """(L0, L_V), sparse, on column-stacked vec(rho): vec(A X B) = (B^T kron A) vec(X)."""
        if getattr(self, "_liouvillians", None) is None:
            d = self.H0.shape[0]
            eye = sp.identity(d, format="csr")

            def comm(H):  # -i [H, .]
                H = sp.csr_matrix(H)
                return -1j * (sp.kron(eye, H) - sp.kron(H.T, eye))

            L0 = comm(self.H0)
            for L in self.jumps:
                L = sp.csr_matrix(L)
                LdL = (L.conj().T @ L).tocsr()
                L0 = L0 + sp.kron(L.conj(), L) - 0.5 * (sp.kron(eye, LdL) + sp.kron(LdL.T, eye))
            self._liouvillians = (L0.tocsr(), comm(self.V).tocsr())
        return self._liouvillians


def _unitary_and_derivative(H: np.ndarray, dH: np.ndarray, dt: float, grad: bool):
    """exp(-i dt H) and its exact derivative along dH (divided differences of the eigenvalues)."""
    e, W = np.linalg.eigh(H)
    ph = np.exp(-1j * dt * e)
    U = (W * ph) @ W.conj().T
    if not grad:
        return U, None
    de = e[:, None] - e[None, :]
    same = np.abs(de) < 1e-12 * max(1.0, float(np.max(np.abs(e))))
    D = np.where(same, -1j * dt * ph[:, None], (ph[:, None] - ph[None, :]) / np.where(same, 1.0, de))
    return U, W @ ((W.conj().T @ dH @ W) * D) @ W.conj().T


def _closed(dyn: Dynamics, u: np.ndarray, tau: float, observable, grad: bool):
    M = len(u)
    dt = tau / M
    dH = dyn.drive * dyn.V
    states, derivs, props = [dyn.vectors], [], []
    for k in range(M):
        U, dU = _unitary_and_derivative(dyn.H0 + dyn.drive * u[k] * dyn.V, dH, dt, grad)
        props.append(U)
        derivs.append(dU)
        states.append(U @ states[-1])
    psi = states[-1]
    A = observable((psi * dyn.weights) @ psi.conj().T)
    value = float(np.real(np.sum(dyn.weights * np.einsum("im,ij,jm->m", psi.conj(), A, psi))))
    if not grad:
        return value, None
    g = np.empty(M)
    chi = A @ psi
    for k in range(M - 1, -1, -1):
        g[k] = 2.0 * np.real(np.sum(dyn.weights * np.einsum("im,im->m", chi.conj(), derivs[k] @ states[k])))
        chi = props[k].conj().T @ chi
    return value, g


def _open(dyn: Dynamics, u: np.ndarray, tau: float, observable, grad: bool):
    """Forward with the augmented generator [[A_k, dA],[0, A_k]] acting on (0, r): its exponential
    gives (dP_k r, P_k r) in one action (Van Loan 1978), no d^2 x d^2 propagator is formed."""
    M = len(u)
    dt = tau / M
    d = dyn.H0.shape[0]
    L0, LV = dyn.liouvillians()
    n = L0.shape[0]
    if 2 * n <= DENSE_ACTION:  # small: dense matrices throughout
        L0, LV = L0.toarray(), LV.toarray()
    r = [dyn.rho0.reshape(-1, order="F").astype(complex)]
    dr = []  # dP_k r_{k-1}
    for k in range(M):
        A = dt * (L0 + dyn.drive * u[k] * LV)
        if grad:
            B = sp.bmat([[A, dt * dyn.drive * LV], [None, A]], format="csr") if sp.issparse(A) else \
                np.block([[A, dt * dyn.drive * LV], [np.zeros_like(A), A]])
            out = _action(B, np.concatenate([np.zeros(n, complex), r[-1]]))
            dr.append(out[:n])
            r.append(out[n:])
        else:
            r.append(_action(A, r[-1]))
    rho = r[-1].reshape(d, d, order="F")
    rho = 0.5 * (rho + rho.conj().T)
    A_obs = observable(rho)
    c = A_obs.T.reshape(-1, order="F")  # Tr[A rho] = vec(A^T) . vec(rho)
    value = float(np.real(c @ r[-1]))
    if not grad:
        return value, None
    g = np.empty(M)
    for k in range(M - 1, -1, -1):
        g[k] = float(np.real(c @ dr[k]))
        c = _action((dt * (L0 + dyn.drive * u[k] * LV)).T, c)  # c^T P_k
    return value, g


DENSE_ACTION = 128  # below this size a dense exponential is cheaper than an expm_multiply call


def _action(A, v: np.ndarray) -> np.ndarray:
    """exp(A) v: a dense exponential for a dense or small A, else the sparse action (expm_multiply)."""
    if not sp.issparse(A):
        return sla.expm(A) @ v
    if A.shape[0] <= DENSE_ACTION:
        return sla.expm(A.toarray()) @ v
    A = A.tocsr()
    return spla.expm_multiply(A, v, traceA=A.diagonal().sum())


def evaluate(dyn: Dynamics, u, tau: float, observable, grad: bool = True):
    """F = Tr[A rho(tau)] and dF/du_k for slice amplitudes ``u`` (dimensionless, length M).

    Parameters
    ----------
    dyn : Dynamics
    u : array (M,)
        Slice amplitudes of f.
    tau : float
        Final time (time units of the model), M slices of tau/M.
    observable : callable rho -> A
        The terminal observable (Hermitian, d x d) given the final density matrix.
    grad : bool
        Also return the gradient (else None).
    """
    u = np.asarray(u, dtype=float)
    return (_closed if dyn.closed else _open)(dyn, u, tau, observable, grad)


def terminal_observable(dyn: Dynamics, kind: str):
    """A(rho) for the objective ``kind``: H_B - E(0) (energy), or for the ergotropy
    W = Tr[H_B rho] - sum_k r_k e_k (r_k the eigenvalues of rho in decreasing order with
    eigenvectors |v_k>, e_k those of H_B in increasing order) the observable
    A = H_B - sum_k e_k |v_k><v_k|, whose first-order change is dW = Tr[A d rho]. At degenerate
    eigenvalues of rho this is one of the one-sided derivatives (W is not differentiable there;
    a pure state's W = <H_B> - e_0 is smooth and its A = H_B - e_0 gives the same gradient as E)."""
    if kind == "energy":  # E(tau) = Tr[(H_B - E(0)) rho(tau)] (the trace is kept)
        E0 = float(np.real(np.trace(dyn.H_B @ dyn.rho0)))
        shifted = dyn.H_B - E0 * np.eye(dyn.H_B.shape[0])
        return lambda rho: shifted
    e = np.linalg.eigvalsh(dyn.H_B)

    def ergotropy(rho):
        r, v = np.linalg.eigh(rho)
        v = v[:, ::-1]  # decreasing populations
        return dyn.H_B - (v * e) @ v.conj().T

    return ergotropy


def propagate_states(dyn: Dynamics, u, tau: float, times) -> np.ndarray:
    """<H_B>(t) - <H_B>(0) at the increasing sample ``times`` >= 0 for slice amplitudes ``u``
    (f = 0 after tau), propagated piece by piece with exact exponentials."""
    u = np.asarray(u, dtype=float)
    M, dt = len(u), tau / len(u)
    E0 = float(np.real(np.trace(dyn.H_B @ dyn.rho0)))
    step = _stepper(dyn)
    state, now, out = (dyn.vectors if dyn.closed else dyn.rho0.reshape(-1, order="F")), 0.0, []
    for t in np.asarray(times, dtype=float):
        while now < t - 1e-14 * max(1.0, tau):
            k = int(np.floor(now / dt + 1e-9))
            end = min((k + 1) * dt, t) if k < M else t
            state = step(u[k] if k < M else 0.0, end - now, state)
            now = end
        out.append(float(np.real(np.trace(dyn.H_B @ _density(dyn, state)))) - E0)
    return np.array(out)


def _stepper(dyn: Dynamics):
    """(amplitude, duration, state) -> the state after that piece (unitary, or the Lindblad map's action)."""
    if dyn.closed:
        return lambda a, h, psi: _unitary_and_derivative(dyn.H0 + dyn.drive * a * dyn.V, None, h, False)[0] @ psi
    L0, LV = dyn.liouvillians()

    def step(a, h, r):
        return _action(h * (L0 + dyn.drive * a * LV), r)

    return step


def _density(dyn: Dynamics, state) -> np.ndarray:
    if dyn.closed:
        return (state * dyn.weights) @ state.conj().T
    d = dyn.H0.shape[0]
    return state.reshape(d, d, order="F")
