"""Independent dense reference: tensor-product Pauli matrices and scipy expm (no QuSpin)."""

import numpy as np
from scipy.linalg import eigh, expm

SX = np.array([[0, 1], [1, 0]], dtype=complex)
SY = np.array([[0, -1j], [1j, 0]])
SZ = np.array([[1, 0], [0, -1]], dtype=complex)  # |e> = index 0


def site_op(op, i, n):
    out = np.array([[1.0 + 0j]])
    for k in range(n):
        out = np.kron(out, op if k == i else np.eye(2))
    return out


def spin_model(n, edges, omega=1.0, jx=0.0, jy=0.0, jz=0.0):
    hb = sum(0.5 * omega * site_op(SZ, i, n) for i in range(n))
    for i, j in edges:
        hb = hb + jx * site_op(SX, i, n) @ site_op(SX, j, n) + jy * site_op(SY, i, n) @ site_op(SY, j, n) \
            + jz * site_op(SZ, i, n) @ site_op(SZ, j, n)
    v = sum(site_op(SX, i, n) for i in range(n))
    return hb, v


def evolve_energy(hb, v, drive, times, psi0):
    """E(t) = <H_B>_t - <H_B>_0 under H_B + drive V, by dense diagonalisation."""
    w, u = eigh(hb + drive * v)
    c = u.conj().T @ psi0
    e0 = np.real(psi0.conj() @ hb @ psi0)
    out = []
    for t in times:
        psi = u @ (np.exp(-1j * w * t) * c)
        out.append(np.real(psi.conj() @ hb @ psi) - e0)
    return np.array(out)


def ground(hb):
    w, u = eigh(hb)
    return u[:, 0]


__all__ = ["site_op", "spin_model", "evolve_energy", "ground", "expm"]
