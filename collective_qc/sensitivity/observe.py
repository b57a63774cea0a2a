"""E, P, C_Q and their parameter derivatives from the augmented state Y and its time derivative.

State vectors (closed runs; members m with weights w_m, <u, v> = sum_m w_m Re u_m^dag v_m):

    E = <x, H_B x>,  P = 2 <H_B x, x'>,  C_Q = 2 <H_B x, x_l>
    dE/dtheta = 2 <H_B x, x_k> + <x, dH_B x>
    dP/dtheta = 2 (<dH_B x, x'> + <H_B x_k, x'> + <H_B x, x_k'>)
    dC/dtheta = 2 (<H_B x_k, x_l> + <H_B x, x_lk> + <dH_B x, x_l>)

Density matrices (Tr[A rho] = vec(A^T) . vec(rho)): E = Tr[H_B rho], P = Tr[H_B rho'],
C_Q = Tr[H_B X]; each derivative the same with rho_k, X_k and dH_B. E here is <H_B>, not yet
shifted by E(0) (the caller subtracts the value at t = 0, which depends on theta too).
"""

from __future__ import annotations

import numpy as np

__all__ = ["StateObserver", "DensityObserver"]


class StateObserver:
    """Observables of state-vector members (columns) with weights."""

    def __init__(self, HB, weights, dHBs):
        self.HB, self.w, self.dHBs = HB, np.asarray(weights, float), dHBs

    def _re(self, u, v) -> float:
        return float(np.real(np.einsum("im,im->m", u.conj(), v)) @ self.w)

    def values(self, Y, dY):
        """(E, P, C, dE (K,), dP (K,), dC (K,))."""
        x, xl, xd = Y[0], Y[1], dY[0]
        hx = self.HB @ x
        E, P, C = self._re(x, hx), 2 * self._re(hx, xd), 2 * self._re(hx, xl)
        K = len(self.dHBs)
        dE, dP, dC = np.zeros(K), np.zeros(K), np.zeros(K)
        for k, dH in enumerate(self.dHBs):
            xk, xlk, xkd = Y[2 + 2 * k], Y[3 + 2 * k], dY[2 + 2 * k]
            hxk = self.HB @ xk
            dE[k] = 2 * self._re(hx, xk)
            dP[k] = 2 * (self._re(hxk, xd) + self._re(hx, xkd))
            dC[k] = 2 * (self._re(hxk, xl) + self._re(hx, xlk))
            if dH is not None:
                dh = dH @ x
                dE[k] += self._re(x, dh)
                dP[k] += 2 * self._re(dh, xd)
                dC[k] += 2 * self._re(dh, xl)
        return E, P, C, dE, dP, dC

    def rates(self, Y, dY, xdd):
        """(dP/dt, dC/dt) from x'' = `xdd`."""
        x, xd = Y[0], dY[0]
        hx = self.HB @ x
        return 2 * (self._re(self.HB @ xd, xd) + self._re(hx, xdd)), 2 * (self._re(self.HB @ xd, Y[1])
                                                                          + self._re(hx, dY[1]))


def _vec_t(A) -> np.ndarray:
    """vec(A^T) (row-major): Tr[A rho] = vec(A^T) . vec(rho)."""
    return np.ascontiguousarray(A.T.toarray()).ravel()


class DensityObserver:
    """Observables of a vectorised density matrix (one column)."""

    def __init__(self, HB, dHBs):
        self.hb = _vec_t(HB)
        self.dhbs = [None if d is None else _vec_t(d) for d in dHBs]

    def values(self, Y, dY):
        hb = self.hb

        def tr(a, v):
            return float(np.real(a @ v[:, 0]))

        E, P, C = tr(hb, Y[0]), tr(hb, dY[0]), tr(hb, Y[1])
        K = len(self.dhbs)
        dE, dP, dC = np.zeros(K), np.zeros(K), np.zeros(K)
        for k, dh in enumerate(self.dhbs):
            dE[k], dP[k], dC[k] = tr(hb, Y[2 + 2 * k]), tr(hb, dY[2 + 2 * k]), tr(hb, Y[3 + 2 * k])
            if dh is not None:
                dE[k] += tr(dh, Y[0])
                dP[k] += tr(dh, dY[0])
                dC[k] += tr(dh, Y[1])
        return E, P, C, dE, dP, dC

    def rates(self, Y, dY, xdd):
        return float(np.real(self.hb @ xdd[:, 0])), float(np.real(self.hb @ dY[1][:, 0]))
