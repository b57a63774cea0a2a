"""Classical fixed-step Runge-Kutta 4 (the reference integrator of the tests).

Step h = dt_max (default 0.05 / ||H_eff||); f(t) at the stage times (smooth envelopes too).
A jump inside a step is located by bisection on the cubic Hermite interpolant of ||psi||^2
(exact end derivatives -<psi|Gamma|psi>), then the state is re-integrated to the jump time.
"""

from __future__ import annotations

from numba import njit

from .common import apply_aug, envelope


@njit(cache=True)
def deriv(mats, gam, lam, t, env, f_seg, y, dy):
    """dy = -i A(t) y with f = f(t); returns nothing."""
    f = envelope(t, env, f_seg)
    apply_aug(mats, gam, lam * f, f, y, dy, -1j, 0.0, y, 0.0)


@njit(cache=True)
def rk4_step(mats, gam, lam, t, env, f_seg, y, h, W, yt, out):
    """out = RK4 step of length h from (t, y); W rows 0-3 hold the stages. 4 products."""
    n = y.shape[0]
    deriv(mats, gam, lam, t, env, f_seg, y, W[0])
    for k in range(n):
        yt[k] = y[k] + 0.5 * h * W[0, k]
    deriv(mats, gam, lam, t + 0.5 * h, env, f_seg, yt, W[1])
    for k in range(n):
        yt[k] = y[k] + 0.5 * h * W[1, k]
    deriv(mats, gam, lam, t + 0.5 * h, env, f_seg, yt, W[2])
    for k in range(n):
        yt[k] = y[k] + h * W[2, k]
    deriv(mats, gam, lam, t + h, env, f_seg, yt, W[3])
    for k in range(n):
        out[k] = y[k] + h / 6.0 * (W[0, k] + 2.0 * W[1, k] + 2.0 * W[2, k] + W[3, k])
