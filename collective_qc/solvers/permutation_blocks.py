"""Block operators of a permutation-invariant model in the Dicke-ladder basis.

Everything the ``permutation`` solver builds once from a :class:`CollectiveForm`
(:mod:`collective_qc.physics.permutation`): per block j the Hamiltonians H_B,j, H_0,j, V_j and
the diagonal G_j of sum_k L_k^dag L_k (sparse, (2j + 1) n_b square, basis k = j - m, n); the
sandwich terms of the noise (:mod:`.permutation_form`); the linear functionals of E, C_Q, P;
the initial states; and the passive energy with the multiplicities d_j.
"""

from __future__ import annotations

import math
from collections import namedtuple

import numpy as np
import scipy.sparse as sp

from ..physics.permutation import log_multiplicity

Terms = namedtuple("Terms", "start src delta shift us ub")  # the sandwich terms (see .permutation_form)

__all__ = ["spin_matrices", "Terms", "block_operators", "sandwich_terms", "BlockFunctionals", "initial_blocks",
           "passive_energy", "spin_levels"]


def spin_matrices(j: float):
    """(J_z, J_+) of spin j in the basis k = j - m (m = j first), as CSR."""
    n = int(round(2 * j)) + 1
    m = j - np.arange(n)
    jp = np.sqrt(np.maximum(j * (j + 1) - m[1:] * (m[1:] + 1), 0.0))  # <m+1|J+|m>, m = m[1:]
    return sp.diags(m).tocsr(), sp.diags(jp, 1, shape=(n, n)).tocsr()


def _spin_parts(form, j: float):
    """(H_B spin part, V spin part or None, (J_+, J_-)) of block j."""
    Jz, Jp = spin_matrices(j)
    Jm = Jp.T.tocsr()
    n = form.n
    I = sp.identity(Jz.shape[0], format="csr")
    Jx, Jy2 = 0.5 * (Jp + Jm), -0.25 * ((Jp - Jm) @ (Jp - Jm))
    jx, jy, jz = form.pair
    hb = (form.omega * Jz + form.D * (Jz @ Jz) + 0.5 * form.E * (Jp @ Jp + Jm @ Jm)
          + jx * (2.0 * (Jx @ Jx) - 0.5 * n * I) + jy * (2.0 * Jy2 - 0.5 * n * I)
          + jz * (2.0 * (Jz @ Jz) - 0.5 * n * I) + form.const * I)
    kind = form.charger[0]
    if kind == "field":
        axis, w = form.charger[1], form.charger[2]
        v = {"x": w * (Jp + Jm), "y": -1j * w * (Jp - Jm), "z": 2.0 * w * Jz}[axis]
    elif kind == "k-local":
        k = form.charger[1]
        Pk = sp.identity(Jz.shape[0], format="csr")
        for _ in range(k):
            Pk = Pk @ Jp
        v = (Pk + Pk.T) / math.factorial(k)
    else:
        v = None
    return sp.csr_matrix(hb), v, (Jp, Jm)


def _g_spin(form, j: float) -> np.ndarray:
    """Diagonal of sum_k L_k^dag L_k on block j's spin index (k = j - m)."""
    r, n = form.rates, form.n
    m = j - np.arange(int(round(2 * j)) + 1)
    x = j * (j + 1)
    return (r.relaxation * (m + n / 2) + r.pumping * (n / 2 - m) + r.dephasing * n
            + r.collective_emission * (x - m * (m - 1)) + r.collective_pumping * (x - m * (m + 1))
            + 4.0 * r.collective_dephasing * m * m)


def block_operators(form, space, battery_off: bool = False) -> dict:
    """Per-block lists 'H_B', 'H_0', 'V' (CSR) and 'G' (diagonals), boson included."""
    nb = space.nb
    Ib = sp.identity(nb, format="csr")
    a = sp.diags(np.sqrt(np.arange(1, nb)), 1, shape=(nb, nb)).tocsr()
    mode = form.mode
    out = {"H_B": [], "H_0": [], "V": [], "G": []}
    for j in space.js:
        hb, v, (Jp, Jm) = _spin_parts(form, j)
        Is = sp.identity(hb.shape[0], format="csr")
        HB = sp.kron(hb, Ib, format="csr")
        H0 = sp.csr_matrix(HB.shape) if battery_off else HB.copy()
        g = np.repeat(_g_spin(form, j), nb)
        if mode is not None:
            H0 = H0 + mode.omega * sp.kron(Is, a.T @ a, format="csr")
            g = g + mode.kappa * np.tile(np.arange(nb, dtype=float), hb.shape[0])
            if form.charger[0] == "cavity":
                gw, rwa = form.charger[1], form.charger[2]
                v = gw * (sp.kron(Jp, a) + sp.kron(Jm, a.T)) if rwa else gw * sp.kron(Jp + Jm, a + a.T)
            else:
                v = sp.kron(v, Ib)
        out["H_B"].append(HB.tocsr())
        out["H_0"].append(sp.csr_matrix(H0, dtype=np.complex128))
        out["V"].append(sp.csr_matrix(v, dtype=np.complex128))
        out["G"].append(g)
    return out


def _local_terms(form, j: float, jmin: float):
    """[(source j', delta, u over the target's k)] of the local noise into block j."""
    r, h = form.rates, form.n / 2
    m = j - np.arange(int(round(2 * j)) + 1)
    out = []

    def add(src, delta, coef):
        out.append((src, delta, np.sqrt(np.maximum(coef, 0.0))))

    same = (h + 1) / (j * (j + 1)) if j > 0 else 0.0
    up = j + 1 if j + 1 <= h else None  # the block j' = j + 1
    down = j - 1 if j - 1 >= jmin - 1e-9 else None
    cu = (h + up + 1) / (up * (2 * up + 1)) if up is not None else 0.0
    cd = (h - down) / ((down + 1) * (2 * down + 1)) if down is not None else 0.0
    if r.relaxation > 0:
        k = r.relaxation / 2
        add(j, -1, k * same * (j + m + 1) * (j - m))
        if up is not None:
            add(up, 0, k * cu * (up + m + 1) * (up + m))
        if down is not None:
            add(down, -2, k * cd * (down - m) * (down - m + 1))
    if r.pumping > 0:
        p = r.pumping / 2
        add(j, 1, p * same * (j + m) * (j - m + 1))
        if up is not None:
            add(up, 2, p * cu * (up - m) * (up - m + 1))
        if down is not None:
            add(down, 0, p * cd * (down + m) * (down + m + 1))
    if r.dephasing > 0:
        g = 2.0 * r.dephasing
        out.append((j, 0, m * math.sqrt(g * same)))
        if up is not None:
            add(up, 1, g * cu * (up * up - m * m))
        if down is not None:
            add(down, -1, g * cd * ((down + 1) ** 2 - m * m))
    return out


def _collective_terms(form, j: float):
    r = form.rates
    m = j - np.arange(int(round(2 * j)) + 1)
    out = []
    if r.collective_emission > 0:
        out.append((j, -1, np.sqrt(np.maximum(r.collective_emission * (j + m + 1) * (j - m), 0.0))))
    if r.collective_pumping > 0:
        out.append((j, 1, np.sqrt(np.maximum(r.collective_pumping * (j + m) * (j - m + 1), 0.0))))
    if r.collective_dephasing > 0:
        out.append((j, 0, 2.0 * math.sqrt(r.collective_dephasing) * m))
    return out


def sandwich_terms(form, space):
    """(``Terms`` for the kernel, [(dst b, src b, delta, shift, us, ub)] for the functionals)."""
    nb = space.nb
    width = int(space.nspin.max())
    rows, start = [], [0]
    ones = np.ones(nb)
    jmin = 0.5 * (form.n % 2)
    for b, j in enumerate(space.js):
        spec = [(src, d, u, 0, ones) for src, d, u in _local_terms(form, j, jmin) + _collective_terms(form, j)]
        if form.mode is not None and form.mode.kappa > 0:
            ub = np.sqrt(form.mode.kappa * np.arange(1, nb + 1, dtype=float))
            ub[-1] = 0.0
            spec.append((j, 0, np.ones(int(round(2 * j)) + 1), 1, ub))
        for src, d, u, shift, ub in spec:
            if int(round(2 * src)) not in space.index:
                continue  # a block not propagated (no local noise: it stays empty)
            bs = space.block_of(src)
            k = np.arange(len(u))
            u = np.where((k + d >= 0) & (k + d < space.nspin[bs]), u, 0.0)
            if np.any(u != 0.0):
                rows.append((b, bs, int(d), int(shift), np.pad(u, (0, width - len(u))), np.asarray(ub, float)))
        start.append(len(rows))
    n_t = len(rows)
    terms = Terms(np.array(start, np.int64), np.array([t[1] for t in rows], np.int64),
                  np.array([t[2] for t in rows], np.int64), np.array([t[3] for t in rows], np.int64),
                  np.ascontiguousarray(np.array([t[4] for t in rows]).reshape(n_t, width)),
                  np.ascontiguousarray(np.array([t[5] for t in rows]).reshape(n_t, nb)))
    return terms, rows


def _sandwich_adjoint(HB, nb: int, term, shape):
    """The part of L^dag(H_B) on the source block of one sandwich term (d, shift, us, ub)."""
    d, shift, us, ub = term
    coo = HB.tocoo()
    wy = us[coo.row // nb] * ub[coo.row % nb]
    wx = us[coo.col // nb] * ub[coo.col % nb]
    keep = (wy != 0) & (wx != 0)

    def src(q):
        return (q // nb + d) * nb + q % nb + shift

    return sp.coo_matrix((coo.data[keep] * wy[keep] * wx[keep], (src(coo.row[keep]), src(coo.col[keep]))),
                         shape=shape)


class BlockFunctionals:
    """Tr[A R] for block-diagonal A: rows (E, C, P_0, P_V, diagonal observables...), as in the
    exact solver (``lindblad._Functionals``): E = Tr[H_B R], C = Tr[H_B Y], P = Tr[K_0 R] +
    lambda f Tr[K_V R] with K_0 = L_0^dag(H_B), K_V = i[V, H_B]."""

    def __init__(self, gen, diagonal_observables=None):
        space = gen.space
        k0 = [[1j * (H0 @ HB - HB @ H0) - 0.5 * (sp.diags(g) @ HB + HB @ sp.diags(g))]
              for H0, HB, g in zip(gen.H0, gen.HB, gen.G, strict=True)]
        for b, bs, d, shift, us, ub in gen.term_list:  # K_src[y', x'] += H_B,dst[y, x] w_x w_y
            k0[bs].append(_sandwich_adjoint(gen.HB[b], space.nb, (d, shift, us, ub), k0[bs][0].shape))
        k0 = [sum(parts[1:], parts[0]).tocsr() for parts in k0]
        kv = [1j * (V @ HB - HB @ V) for V, HB in zip(gen.V, gen.HB, strict=True)]
        self.mats = [self._flat(space, mats) for mats in (gen.HB, k0, kv)]
        self.diag_index = space.diagonal_index()
        self.D = np.zeros((0, len(self.diag_index))) if diagonal_observables is None else \
            np.asarray(diagonal_observables, float)

    @staticmethod
    def _flat(space, mats):
        """(flat positions, values) with Re Tr[A R] = Re(values @ R[positions]) for Hermitian R,
        reading R's lower triangles only (the Chebyshev terms are stored there): the element
        A[r, c] R[c, r] with c < r is read as conj(A[r, c]) R[r, c]."""
        pos, val = [], []
        for b, A in enumerate(mats):
            c = sp.coo_matrix(A)
            s = int(space.size[b])
            upper = c.col < c.row
            lo_row, lo_col = np.where(upper, c.row, c.col), np.where(upper, c.col, c.row)
            pos.append(space.offset[b] + lo_row.astype(np.int64) * s + lo_col)
            val.append(np.where(upper, np.conj(c.data), c.data).astype(np.complex128))
        return np.concatenate(pos), np.concatenate(val)

    e_shift = 0.0  # the E row is Tr[(H_B - e_shift) R] (run_generator sets it to E(0): see there)

    def __call__(self, R, Y) -> np.ndarray:
        r, y = R.reshape(-1), Y.reshape(-1)
        (hp, hv), (kp, kv), (vp, vv) = self.mats
        diag = np.real(r[self.diag_index])
        e = np.real(hv @ r[hp]) - (self.e_shift * np.sum(diag) if self.e_shift else 0.0)
        out = [e, np.real(hv @ y[hp]), np.real(kv @ r[kp]), np.real(vv @ r[vp])]
        return np.concatenate([out, self.D @ diag])


def _spin_eigh(HB, nb: int):
    """Eigen-decomposition of the spin part of H_B,j (H_B acts on the spins only)."""
    hs = HB.toarray()[::nb, ::nb]
    return np.linalg.eigh(hs)


def initial_blocks(form, space, HB, kind: str):
    """(flat block state R(0), description) of ``initial`` in the Dicke-ladder basis.

    product: |g...g> (j = N/2, m = -N/2); dicke:J,M: the uniform mixture over the d_J copies of
    |J, M> (R_J = |M><M|); ground: the uniform mixture over the ground manifold of H_B (all
    blocks, copies counted); thermal:T: exp(-H_B/T)/Z. The cavity is in its Fock state |photons>.
    """
    from ..physics.states import parse_initial

    n, nb = form.n, space.nb
    spec = parse_initial(kind)  # (checked against N by the plan: physics.states.check_initial)
    head = spec.kind
    R = np.zeros(space.length, dtype=np.complex128)
    ph = 0 if form.mode is None else int(form.mode.photons)
    if head in ("product", "dicke"):
        j, m = (n / 2, -n / 2) if head == "product" else (n / 2 if spec.J is None else spec.J, spec.M)
        b = space.block_of(j)
        i = int(round(j - m)) * nb + ph
        space.block(R, b)[i, i] = 1.0
        return R, {"kind": head if head == "product" else f"dicke:{j:g},{m:g}", "members": 1, "degeneracy": 1,
                   "mixture": "pure" if j == n / 2 else f"uniform over the d_J copies of |{j:g}, {m:g}>"}
    eig = [_spin_eigh(H, nb) for H in HB]
    e0 = min(float(w[0]) for w, _ in eig)
    logd = np.array([log_multiplicity(n, j) for j in space.js])
    if head == "ground":
        tol = 1e-9 * max(1.0, abs(e0))
        logw = [np.where(w - e0 < tol, 0.0, -np.inf) + ld for (w, _), ld in zip(eig, logd, strict=True)]
    else:
        logw = [-(w - e0) / spec.T + ld for (w, _), ld in zip(eig, logd, strict=True)]
    top = max(float(np.max(lw)) for lw in logw)
    weights = [np.exp(lw - top) for lw in logw]
    z = sum(float(np.sum(w)) for w in weights)
    members = 0.0
    for b, ((_, v), w) in enumerate(zip(eig, weights, strict=True)):
        keep = w > 1e-300 * z
        spin = (v[:, keep] * (w[keep] / z)) @ v[:, keep].conj().T
        block = space.block(R, b)
        block[ph::nb, ph::nb] = spin
        members += float(np.sum(np.exp(logd[b]) * keep)) if logd[b] < 700 else math.inf
    label = "ground" if head == "ground" else f"thermal:{spec.T:g}"
    return R, {"kind": label, "members": members, "degeneracy": members if head == "ground" else 1,
               "mixture": "uniform over the ground manifold" if head == "ground" else "Boltzmann"}


def passive_energy(space, levels, R) -> float:
    """min_U Tr[U rho U^dag H_B] of the full N-site state: the eigenvalues of every stored block
    R_j / d_j (each d_j times) paired in decreasing order with the levels of H_B in increasing
    order (`levels`: (j, eigenvalues of H_B,j) of *every* block j, each level d_j times). NaN when
    a multiplicity overflows double precision (N > 1020)."""
    logd = np.array([log_multiplicity(space.n, j) for j, _ in levels])
    if np.max(logd) > 700:
        return float("nan")
    nb = space.nb
    pops, counts_p, lev, counts_e = [], [], [], []
    for b, j in enumerate(space.js):
        d = math.exp(log_multiplicity(space.n, j))
        blk = space.block(R, b)
        ns = int(space.nspin[b])
        rs = blk.reshape(ns, nb, ns, nb).trace(axis1=1, axis2=3) if nb > 1 else blk
        lam = np.linalg.eigvalsh(0.5 * (rs + rs.conj().T))
        pops.append(lam / d)
        counts_p.append(np.full(ns, d))
    for (_, e), ld in zip(levels, logd, strict=True):
        lev.append(e)
        counts_e.append(np.full(len(e), math.exp(ld)))
    p, cp = np.concatenate(pops), np.concatenate(counts_p)
    e, ce = np.concatenate(lev), np.concatenate(counts_e)
    op, oe = np.argsort(-p, kind="stable"), np.argsort(e, kind="stable")
    return _merge(p[op], cp[op], e[oe], ce[oe])


def _merge(p, cp, e, ce) -> float:
    """sum over the paired runs of population x level x overlap (counts as floats)."""
    total, i, k = 0.0, 0, 0
    left_p, left_e = cp[0], ce[0]
    while i < len(p) and k < len(e):
        take = min(left_p, left_e)
        total += p[i] * e[k] * take
        left_p -= take
        left_e -= take
        if left_p <= 1e-12 * cp[i]:
            i += 1
            left_p = cp[i] if i < len(p) else 0.0
        if left_e <= 1e-12 * ce[k]:
            k += 1
            left_e = ce[k] if k < len(e) else 0.0
    return total


def spin_levels(form) -> list:
    """[(j, eigenvalues of the spin part of H_B,j)] for every block j (banded solver: H_B,j is at
    most pentadiagonal)."""
    from scipy.linalg import eigvals_banded

    from ..physics.permutation import all_blocks

    out = []
    for j in all_blocks(form.n):
        hb = _spin_parts(form, j)[0]
        n = hb.shape[0]
        band = np.zeros((3, n))
        for d in range(3):
            band[d, : n - d] = hb.diagonal(-d)[: n - d] if d < n else 0.0
        out.append((j, np.sort(eigvals_banded(band, lower=True))))
    return out
