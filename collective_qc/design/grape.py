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

__all__ = ["Dynamics", "Tangents", "Terminal", "evaluate", "terminal_observable", "propagate_states"]


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
            L0 = commutator(self.H0)
            for L in self.jumps:
                L = sp.csr_matrix(L)
                LdL = (L.conj().T @ L).tocsr()
                L0 = L0 + sp.kron(L.conj(), L) - 0.5 * (sp.kron(eye, LdL) + sp.kron(LdL.T, eye))
            self._liouvillians = (L0.tocsr(), commutator(self.V))
        return self._liouvillians


def commutator(H) -> sp.csr_matrix:
    """-i [H, .] on column-stacked vec(rho), sparse."""
    eye = sp.identity(H.shape[0], format="csr")
    H = sp.csr_matrix(H)
    return (-1j * (sp.kron(eye, H) - sp.kron(H.T, eye))).tocsr()


@dataclass
class Tangents:
    """d/dtheta_j of the pieces of :class:`Dynamics` at one parameter point (j = 0 ... P - 1).

    Attributes
    ----------
    dH0, dV, dHB : list of ndarray (d, d)
        Derivatives of the drift, the charger and H_B (energy unit per unit of theta_j).
    dvectors : list of (ndarray (d, m) or None)
        Derivatives of the initial members (None: the initial state does not depend on theta_j).
    """

    dH0: list
    dV: list
    dHB: list
    dvectors: list

    def __len__(self) -> int:
        return len(self.dH0)

    def liouvillians(self) -> list:
        """(dL0/dtheta_j, dL_V/dtheta_j) per parameter (the jump operators do not depend on theta)."""
        return [(commutator(a), commutator(b)) for a, b in zip(self.dH0, self.dV, strict=True)]

    def density_tangents(self, dyn: Dynamics) -> list:
        """d rho0/dtheta_j = sum_m w_m (|d psi_m><psi_m| + |psi_m><d psi_m|), or None."""
        out = []
        for dpsi in self.dvectors:
            if dpsi is None:
                out.append(None)
                continue
            half = (dpsi * dyn.weights) @ dyn.vectors.conj().T
            out.append(half + half.conj().T)
        return out


def _unitary_and_derivative(H: np.ndarray, dH: np.ndarray, dt: float, grad: bool):
    """exp(-i dt H) and its exact derivative along dH (divided differences of the eigenvalues)."""
    e, W = np.linalg.eigh(H)
    ph = np.exp(-1j * dt * e)
    U = (W * ph) @ W.conj().T
    if not grad:
        return U, None
    return U, W @ ((W.conj().T @ dH @ W) * _divided(e, ph, dt)) @ W.conj().T


def _divided(e: np.ndarray, ph: np.ndarray, dt: float) -> np.ndarray:
    """D_ab = (ph_a - ph_b) / (e_a - e_b), -i dt ph_a where e_a = e_b (ph = exp(-i dt e))."""
    de = e[:, None] - e[None, :]
    same = np.abs(de) < 1e-12 * max(1.0, float(np.max(np.abs(e))))
    return np.where(same, -1j * dt * ph[:, None], (ph[:, None] - ph[None, :]) / np.where(same, 1.0, de))


def _closed(dyn: Dynamics, u: np.ndarray, tau: float, observable, grad: bool, tangents=None):
    """Forward: per slice the eigendecomposition H_k = W diag(e) W^dag and psi_k = W ph W^dag psi_{k-1}.
    Backward: with chi~ = W^dag chi_k, psi~ = W^dag psi_{k-1} and G = D o (chi~^* w psi~^T), the
    matrix S_k = W^* G W^T gives <chi_k| dU_k |psi_{k-1}> = sum_ij (dH)_ij (S_k)_ij for any direction
    dH of H_k, so the control (dH = lambda V) and every parameter (dH0/dtheta + lambda u_k dV/dtheta)
    cost one elementwise product each."""
    M = len(u)
    dt = tau / M
    states, eigs = [dyn.vectors], []
    for k in range(M):
        e, W = np.linalg.eigh(dyn.H0 + dyn.drive * u[k] * dyn.V)
        ph = np.exp(-1j * dt * e)
        eigs.append((e, W, ph))
        states.append(W @ (ph[:, None] * (W.conj().T @ states[-1])))
    psi = states[-1]
    rho = (psi * dyn.weights) @ psi.conj().T
    A = observable(rho)
    value = float(np.real(np.sum(dyn.weights * np.einsum("im,ij,jm->m", psi.conj(), A, psi))))
    if not grad:
        return value, None
    g = np.empty(M)
    gt = np.zeros(0 if tangents is None else len(tangents))
    chi = A @ psi
    lamV = dyn.drive * dyn.V
    for k in range(M - 1, -1, -1):
        e, W, ph = eigs[k]
        ct, pt = W.conj().T @ chi, W.conj().T @ states[k]
        G = _divided(e, ph, dt) * ((ct.conj() * dyn.weights) @ pt.T)
        S = W.conj() @ G @ W.T
        g[k] = 2.0 * np.real(np.sum(lamV * S))
        if tangents is not None:
            gt += 2.0 * np.real([np.sum((tangents.dH0[j] + dyn.drive * u[k] * tangents.dV[j]) * S)
                                 for j in range(len(tangents))])
        chi = W @ (ph.conj()[:, None] * ct)  # U_k^dag chi
    if tangents is None:
        return value, g
    for j in range(len(tangents)):  # the initial state's change, carried by the co-state at t = 0
        dpsi = tangents.dvectors[j]
        if dpsi is not None:
            gt[j] += 2.0 * np.real(np.sum(dyn.weights * np.einsum("im,im->m", chi.conj(), dpsi)))
    return value, g, gt + observable.explicit(dyn, rho, tangents)


def _open(dyn: Dynamics, u: np.ndarray, tau: float, observable, grad: bool, tangents=None):
    """Forward with the augmented generator [[A_k, dA],[0, A_k]] acting on (0, r): its exponential
    gives (dP_k r, P_k r) in one action (Van Loan 1978), no d^2 x d^2 propagator is formed. Each
    parameter direction dA = dt (dL0/dtheta + lambda u_k dL_V/dtheta) costs one more such action."""
    M = len(u)
    dt = tau / M
    d = dyn.H0.shape[0]
    L0, LV = dyn.liouvillians()
    dirs = [] if tangents is None or not grad else tangents.liouvillians()
    n = L0.shape[0]
    if 2 * n <= DENSE_ACTION:  # small: dense matrices throughout
        L0, LV = L0.toarray(), LV.toarray()
        dirs = [(a.toarray(), b.toarray()) for a, b in dirs]
    r = [dyn.rho0.reshape(-1, order="F").astype(complex)]
    dr, drt = [], []  # dP_k r_{k-1} along the control and along each parameter
    for k in range(M):
        A = dt * (L0 + dyn.drive * u[k] * LV)
        if grad:
            out = _action(_augmented(A, dt * dyn.drive * LV), np.concatenate([np.zeros(n, complex), r[-1]]))
            dr.append(out[:n])
            drt.append([_action(_augmented(A, dt * (a + dyn.drive * u[k] * b)),
                                np.concatenate([np.zeros(n, complex), r[-1]]))[:n] for a, b in dirs])
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
    gt = np.zeros(len(dirs))
    for k in range(M - 1, -1, -1):
        g[k] = float(np.real(c @ dr[k]))
        gt += [float(np.real(c @ x)) for x in drt[k]]
        c = _action((dt * (L0 + dyn.drive * u[k] * LV)).T, c)  # c^T P_k
    if tangents is None:
        return value, g
    for j, drho in enumerate(tangents.density_tangents(dyn)):  # the initial state's change
        if drho is not None:
            gt[j] += float(np.real(c @ drho.reshape(-1, order="F")))
    return value, g, gt + observable.explicit(dyn, rho, tangents)


def _augmented(A, dA):
    """The block generator [[A, dA], [0, A]] (sparse or dense as A)."""
    if sp.issparse(A):
        return sp.bmat([[A, dA], [None, A]], format="csr")
    return np.block([[A, dA], [np.zeros_like(A), A]])


DENSE_ACTION = 128  # below this size a dense exponential is cheaper than an expm_multiply call


def _action(A, v: np.ndarray) -> np.ndarray:
    """exp(A) v: a dense exponential for a dense or small A, else the sparse action (expm_multiply)."""
    if not sp.issparse(A):
        return sla.expm(A) @ v
    if A.shape[0] <= DENSE_ACTION:
        return sla.expm(A.toarray()) @ v
    A = A.tocsr()
    return spla.expm_multiply(A, v, traceA=A.diagonal().sum())


def evaluate(dyn: Dynamics, u, tau: float, observable, grad: bool = True, tangents: Tangents | None = None):
    """F = Tr[A rho(tau)] and dF/du_k for slice amplitudes ``u`` (dimensionless, length M); with
    ``tangents`` also dF/dtheta_j for the model parameters they describe (then a triple).

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
    tangents : Tangents, optional
        d/dtheta of H0, V, H_B and the initial members (``observable`` must then be a
        :class:`Terminal`): the slice terms use the same exact propagator derivatives with
        dH/dtheta in place of lambda V, the initial state's change is carried by the co-state at
        t = 0, and :meth:`Terminal.explicit` adds the change of the observable itself.

    Returns
    -------
    (F, dF/du) or, with ``tangents`` and ``grad``, (F, dF/du, dF/dtheta); the gradients are None
    without ``grad``.
    """
    u = np.asarray(u, dtype=float)
    out = (_closed if dyn.closed else _open)(dyn, u, tau, observable, grad, tangents)
    return (*out, None) if tangents is not None and not grad else out


def terminal_observable(dyn: Dynamics, kind: str) -> Terminal:
    """A(rho) for the objective ``kind``: H_B - E(0) (energy), or for the ergotropy
    W = Tr[H_B rho] - sum_k r_k e_k (r_k the eigenvalues of rho in decreasing order with
    eigenvectors |v_k>, e_k those of H_B in increasing order) the observable
    A = H_B - sum_k e_k |v_k><v_k|, whose first-order change is dW = Tr[A d rho]. At degenerate
    eigenvalues of rho this is one of the one-sided derivatives (W is not differentiable there;
    a pure state's W = <H_B> - e_0 is smooth and its A = H_B - e_0 gives the same gradient as E)."""
    return Terminal(dyn, kind)


class Terminal:
    """The terminal observable rho -> A of :func:`terminal_observable`, and the explicit part of
    dF/dtheta when H_B and the initial state depend on parameters (:meth:`explicit`)."""

    def __init__(self, dyn: Dynamics, kind: str):
        self.kind = "energy" if kind == "energy" else "ergotropy"
        self.HB = dyn.H_B
        if self.kind == "energy":  # E(tau) = Tr[(H_B - E(0)) rho(tau)] (the trace is kept)
            self.E0 = float(np.real(np.trace(dyn.H_B @ dyn.rho0)))
            self.shifted = dyn.H_B - self.E0 * np.eye(dyn.H_B.shape[0])
        else:
            self.levels, self.states = np.linalg.eigh(dyn.H_B)

    def __call__(self, rho: np.ndarray) -> np.ndarray:
        if self.kind == "energy":
            return self.shifted
        r, v = np.linalg.eigh(rho)
        v = v[:, ::-1]  # decreasing populations
        return self.HB - (v * self.levels) @ v.conj().T

    def explicit(self, dyn: Dynamics, rho: np.ndarray, tangents: Tangents) -> np.ndarray:
        """dF/dtheta_j at fixed rho(tau) and fixed propagation: energy
        Tr[dH_B rho(tau)] - dE(0), dE(0) = Tr[dH_B rho0] + Tr[H_B d rho0]; ergotropy
        Tr[dH_B rho(tau)] - sum_k r_k de_k (levels e_k of H_B; inside a degenerate level the
        eigenvalues of its block of dH_B, increasing, paired with decreasing r: the derivative for
        increasing theta)."""
        out = np.zeros(len(tangents))
        drho0 = tangents.density_tangents(dyn) if self.kind == "energy" else None
        r = None
        for j, dHB in enumerate(tangents.dHB):
            if self.kind == "energy":
                out[j] = np.real(np.sum(dHB * (rho - dyn.rho0).T))
                if drho0[j] is not None:
                    out[j] -= np.real(np.sum(self.HB * drho0[j].T))
            elif np.any(dHB):
                r = np.linalg.eigvalsh(rho)[::-1] if r is None else r
                out[j] = np.real(np.sum(dHB * rho.T)) - float(r @ _level_derivatives(self.levels, self.states, dHB))
        return out


def _level_derivatives(e: np.ndarray, v: np.ndarray, dH: np.ndarray) -> np.ndarray:
    """de_k/dtheta of the increasing levels e (eigenvectors v) along dH: <v_k|dH|v_k>, and inside a
    degenerate level the increasing eigenvalues of v^dag dH v on it (the right derivative)."""
    out = np.empty(len(e))
    tol = 1e-10 * max(1.0, float(np.max(np.abs(e))))
    k = 0
    while k < len(e):
        m = k + 1
        while m < len(e) and e[m] - e[k] <= tol:
            m += 1
        block = v[:, k:m]
        out[k:m] = np.linalg.eigvalsh(block.conj().T @ dH @ block)
        k = m
    return out


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
