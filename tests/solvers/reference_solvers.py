"""Test oracle: E(t), P(t), C_Q(t) of H(lambda, t) = H_B + H_aux + lambda f(t) V by dense linear
algebra on the full space, written independently of :mod:`collective_qc.solvers`.

Nothing here comes from collective_qc: the operators are dense (or SciPy sparse) matrices, the
envelope f(t) a Python callable with the times where it jumps, the initial state a set of vectors
with weights (a mixture) or a density matrix. Definitions (docs/conventions.md, hbar = 1):

- E(t) = Tr[rho(t) H_B] - Tr[rho(0) H_B]                              (Eq. 10 for one site)
- P(t) = dE/dt = <i[H(t), H_B]> closed, Tr[H_B L_t(rho)] open         (Eq. 21 for one site)
- C_Q(t) = dE/dlambda = Tr[H_B d rho/d lambda]                         (Eq. 14 for one site)

Methods (each an exact propagator, no truncated series of our own):

- closed, piecewise-constant f: the eigendecomposition H = W diag(w) W^dag of each constant piece
  gives exp(-i dt H) and, by the Daleckii-Krein formula, its lambda-derivative (the Frechet
  derivative of the exponential in the direction -i dt f V): [W^dag dU W]_jk = -i dt f V'_jk
  exp(-i dt (w_j + w_k)/2) sinc(dt (w_j - w_k) / 2 pi), V' = W^dag V W. Beyond ``CLOSED_DENSE_MAX``
  the block generator [[H, 0], [f V, H]] is applied by scipy.sparse.linalg.expm_multiply.
- open, piecewise-constant f: the Liouvillian superoperator L (column-stacked vec(rho)) in the
  block generator G = [[L, 0], [f L_V, L]], L_V = -i[V, .]; exp(dt G) = [[e^{dt L}, 0],
  [Frechet derivative, e^{dt L}]] by scipy.linalg.expm (dense, up to ``OPEN_DENSE_MAX``) or
  scipy.sparse.linalg.expm_multiply.
- smooth f (either case): scipy.integrate.solve_ivp, DOP853, rtol = atol = ``ODE_TOL``, restarted
  at every sample time and breakpoint.

P is evaluated from its definition on the state (a commutator in matrix form; the Lindblad
right-hand side in matrix form, not the superoperator), so it checks the propagated state
independently of the tangent. ``solve_closed``, ``solve_lindblad`` and ``liouvillian_parts`` keep
the call signatures the solver tests use, with a ``collective_qc.physics.operators.Operators`` and a
protocol (anything with ``value(t)``, ``breakpoints(t0, t1)``, ``piecewise_constant``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp
import scipy.sparse.linalg as spla
from scipy.integrate import solve_ivp
from threadpoolctl import threadpool_limits

__all__ = ["System", "Envelope", "Series", "closed_series", "open_series", "no_jump_series", "solve_closed",
           "solve_lindblad", "liouvillian_parts", "lindblad_rhs", "superoperator_parts", "ODE_TOL"]

ODE_TOL = 1e-12  # solve_ivp rtol and atol (smooth envelopes)
CLOSED_DENSE_MAX = 4096  # eigendecomposition up to this dimension, sparse expm_multiply above
OPEN_DENSE_MAX = 256  # dense expm of the block Liouvillian up to this size (2 dim^2), expm_multiply above


def _dense(A) -> np.ndarray:
    return np.asarray(A.toarray() if sp.issparse(A) else A, dtype=np.complex128)


@dataclass(frozen=True)
class System:
    """The operators, dense (CSR above ``CLOSED_DENSE_MAX``): H_B (measured), H0 (drift of the
    generator: H_B + H_aux, or H_aux alone with the battery off while charging), the charger V and
    the jump operators L_k (each including the square root of its rate), all in energy units."""

    H_B: np.ndarray
    H0: np.ndarray
    V: np.ndarray
    jumps: tuple = ()

    @classmethod
    def from_matrices(cls, H_B, V, H_aux=None, jumps=(), battery_off: bool = False) -> System:
        """From H_B, V, an optional H_aux and jump operators (dense or sparse)."""
        big = H_B.shape[0] > CLOSED_DENSE_MAX  # kept sparse: closed runs only (expm_multiply)

        def conv(A):
            return sp.csr_matrix(A, dtype=np.complex128) if big else _dense(A)

        hb = conv(H_B)
        aux = 0 * hb if H_aux is None else conv(H_aux)
        return cls(hb, aux if battery_off else hb + aux, conv(V), tuple(conv(j) for j in jumps))

    @classmethod
    def from_operators(cls, ops) -> System:
        """From a ``collective_qc.physics.operators.Operators`` (its H_B, H_aux, V, jump matrices, battery_off)."""
        return cls.from_matrices(ops.H_B, ops.V, ops.H_aux, [j.matrix for j in ops.jumps],
                                 bool(getattr(ops, "battery_off", False)))

    @property
    def dim(self) -> int:
        return self.H_B.shape[0]

    def hamiltonian(self, drive: float, f: float) -> np.ndarray:
        """H = H0 + lambda f V."""
        return self.H0 + (drive * f) * self.V

    def apply(self, drive: float, f: float, psi: np.ndarray) -> np.ndarray:
        """H psi, without forming H."""
        return self.H0 @ psi + (drive * f) * (self.V @ psi)


@dataclass(frozen=True)
class Envelope:
    """f(t): a callable, the times where f (or a derivative) jumps, and whether f is piecewise constant."""

    value: object
    breakpoints: tuple = ()
    piecewise_constant: bool = True

    @classmethod
    def from_protocol(cls, protocol, t_end: float) -> Envelope:
        """From any object with ``value``, ``breakpoints(t0, t1)`` and ``piecewise_constant``."""
        return cls(protocol.value, tuple(protocol.breakpoints(0.0, float(t_end))),
                   bool(getattr(protocol, "piecewise_constant", True)))

    def intervals(self, t0: float, t1: float):
        """The sub-intervals of [t0, t1] between the breakpoints inside it."""
        pts = [t0, *sorted(b for b in self.breakpoints if t0 < b < t1), t1]
        return [(a, b) for a, b in zip(pts[:-1], pts[1:]) if b > a]


@dataclass
class Series:
    """Samples of E (relative to e0 = Tr[rho(0) H_B]), P, C_Q; ``extras`` (n_obs, n_times) the
    sampled diagonal and further observables; ``evaluate(k, t)`` (E, P, C_Q) at any time t."""

    times: np.ndarray
    energy: np.ndarray
    power: np.ndarray
    capacitance: np.ndarray
    e0: float
    extras: np.ndarray | None = None
    evaluate: object = None


def _sample(advance, y0, times, observe, extra=None) -> Series:
    """Propagate y0 through `times` with ``advance(y, t0, t1)`` and sample ``observe(y, t)``."""
    times = np.asarray(times, dtype=float)
    out = np.empty((3, len(times)))
    rows = []
    y, t_prev = y0, 0.0
    with threadpool_limits(1, user_api="blas"):  # small dense products: threads only contend
        for k, t in enumerate(times):
            y = advance(y, t_prev, float(t))
            t_prev = float(t)
            out[:, k] = observe(y, t_prev)
            if extra is not None:
                rows.append(np.atleast_1d(extra(y)))
        e0 = observe(y0, 0.0)[0]

    def evaluate(k, t):  # from the initial state: no saved states to get wrong
        with threadpool_limits(1, user_api="blas"):
            e, p, c = observe(advance(y0, 0.0, float(t)), float(t))
        return e - e0, p, c

    return Series(times, out[0] - e0, out[1], out[2], float(e0),
                  np.array(rows, dtype=float).T if extra is not None else None, evaluate)


def _piecewise(step, envelope: Envelope):
    """advance(y, t0, t1) for piecewise-constant f: ``step(y, f, dt)`` on each constant piece."""

    def advance(y, t0, t1):
        for a, b in envelope.intervals(t0, t1):
            y = step(y, float(envelope.value(0.5 * (a + b))), b - a)
        return y

    return advance


def _ode(rhs, envelope: Envelope):
    """advance(y, t0, t1) by DOP853 on each smooth piece (y flattened complex)."""

    def advance(y, t0, t1):
        shape = y.shape
        v = y.reshape(-1)
        for a, b in envelope.intervals(t0, t1):
            sol = solve_ivp(lambda t, x: rhs(t, x.reshape(shape)).reshape(-1), (a, b), v, method="DOP853",
                            rtol=ODE_TOL, atol=ODE_TOL)
            if not sol.success:  # pragma: no cover
                raise RuntimeError(f"oracle ODE failed on [{a}, {b}]: {sol.message}")
            v = sol.y[:, -1]
        return v.reshape(shape)

    return advance


# ---------------------------------------------------------------- closed: |psi(t)> and d|psi>/d lambda

class _ClosedStep:
    """(psi, phi) -> (U psi, U phi + dU/dlambda psi), U = exp(-i dt H(f)), for constant f.

    Dense: from the eigendecomposition of H(f) (Daleckii-Krein formula for dU, see the module
    docstring); sparse (dimension above ``CLOSED_DENSE_MAX``): expm_multiply of the block generator
    -i dt [[H, 0], [f V, H]].
    """

    def __init__(self, system: System, drive: float):
        self.system, self.drive = system, drive
        self.dense = system.dim <= CLOSED_DENSE_MAX
        self._eig, self._steps = {}, {}

    def _eigen(self, f: float):
        if f not in self._eig:
            H, V = _dense(self.system.hamiltonian(self.drive, f)), _dense(self.system.V)
            w, W = sla.eigh(H.real if not H.imag.any() else H)  # real symmetric: 4x cheaper
            W = W.astype(np.complex128)  # (complex states: no cast per product)
            Wh = np.ascontiguousarray(W.conj().T)
            self._eig[f] = (w, W, Wh, Wh @ (f * V) @ W)
        return self._eig[f]

    def __call__(self, y: np.ndarray, f: float, dt: float) -> np.ndarray:
        d = self.system.dim
        if not self.dense:
            H = sp.csr_matrix(self.system.hamiltonian(self.drive, f))
            G = sp.bmat([[H, None], [f * sp.csr_matrix(self.system.V), H]], format="csr")
            return spla.expm_multiply((-1j * dt) * G, y)
        W, Wh = self._eigen(f)[1:3]
        phase, dU = self._step(f, dt)
        a, b = Wh @ y[:d], Wh @ y[d:]
        return np.concatenate([W @ (phase * a), W @ (phase * b + dU @ a)])

    def _step(self, f: float, dt: float):
        """exp(-i dt w) and W^dag dU/dlambda W, cached per (f, dt) (a uniform grid's steps differ in
        the last bits: dt is rounded to 1e-14 for both)."""
        key = (f, round(dt, 14))
        if key not in self._steps:
            w, dH = self._eigen(f)[::3]
            dt = key[1]
            kernel = np.exp(-0.5j * dt * np.add.outer(w, w)) * np.sinc(dt * np.subtract.outer(w, w) / (2 * np.pi))
            if len(self._steps) > 8:
                self._steps.clear()
            self._steps[key] = (np.exp(-1j * dt * w)[:, None], (-1j * dt) * dH * kernel)
        return self._steps[key]


def _closed_rhs(system: System, drive: float, envelope: Envelope):
    """d/dt (psi, phi) = (-i H psi, -i H phi - i f V psi), H = H0 + lambda f(t) V."""
    d = system.dim

    def rhs(t, y):
        f = float(envelope.value(t))
        return np.concatenate([-1j * system.apply(drive, f, y[:d]),
                               -1j * (system.apply(drive, f, y[d:]) + f * (system.V @ y[:d]))])

    return rhs


def closed_series(system: System, states, weights, drive: float, envelope: Envelope, times,
                  diagonals=None, extras=None) -> Series:
    """E, P, C_Q of the mixture sum_m w_m |psi_m><psi_m| under H(lambda, t), sampled at `times`.

    Parameters
    ----------
    system : System
    states : (dim,) or (dim, n_members) array
        Initial state vectors (orthonormal members of the mixture).
    weights : (n_members,) array
    drive : float
        lambda, energy units.
    envelope : Envelope
        f(t); piecewise-constant pieces are propagated exactly, smooth ones by DOP853.
    times : increasing array of sample times >= 0, in the model's time unit (hbar = 1)
    diagonals : (n_obs, dim) array, optional
        Diagonal observables, mixture-averaged, into ``Series.extras``.
    extras : callable (psi (dim, n_members), weights) -> 1-d array, optional
        Further observables, appended after the diagonals.
    """
    psi0 = np.asarray(states, dtype=np.complex128)
    psi0 = psi0[:, None] if psi0.ndim == 1 else psi0
    w = np.asarray(weights, dtype=float)
    d = system.dim
    HB = system.H_B

    def observe(y, t):
        psi, phi = y[:d], y[d:]
        hb, h = HB @ psi, system.apply(drive, float(envelope.value(t)), psi)
        e = w @ np.real(np.sum(psi.conj() * hb, axis=0))
        c = w @ (2.0 * np.real(np.sum(hb.conj() * phi, axis=0)))  # d<psi|H_B|psi>/d lambda
        p = w @ np.real(1j * (np.sum(h.conj() * hb, axis=0) - np.sum(hb.conj() * h, axis=0)))  # <i[H, H_B]>
        return e, p, c

    def extra(y):
        probs = (np.abs(y[:d]) ** 2) @ w
        parts = [] if diagonals is None else [np.asarray(diagonals, float) @ probs]
        if extras is not None:
            parts.append(np.atleast_1d(extras(y[:d], w)))
        return np.concatenate(parts)

    if envelope.piecewise_constant:
        advance = _piecewise(_ClosedStep(system, drive), envelope)
    else:
        advance = _ode(_closed_rhs(system, drive, envelope), envelope)
    y0 = np.concatenate([psi0, np.zeros_like(psi0)])
    use_extra = diagonals is not None or extras is not None
    return _sample(advance, y0, times, observe, extra if use_extra else None)


# ---------------------------------------------------------------- open: rho(t) and d rho/d lambda

def lindblad_rhs(system: System, H: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """L(rho) = -i[H, rho] + sum_k (L_k rho L_k^dag - {L_k^dag L_k, rho}/2), in matrix form (Eq. 28)."""
    out = -1j * (H @ rho - rho @ H)
    for L in system.jumps:
        LdL = L.conj().T @ L
        out = out + L @ rho @ L.conj().T - 0.5 * (LdL @ rho + rho @ LdL)
    return out


def superoperator_parts(system: System):
    """(L0, LV), CSR: L(f) = L0 + lambda f LV on column-stacked vec(rho), vec(A X B) = (B^T kron A) vec(X);
    L0 = -i[H0, .] + dissipator, LV = -i[V, .]."""
    eye = sp.identity(system.dim, format="csr", dtype=np.complex128)

    def commutator(A):
        A = sp.csr_matrix(A, dtype=np.complex128)
        return -1j * (sp.kron(eye, A) - sp.kron(A.T, eye))

    L0 = commutator(system.H0)
    for L in system.jumps:
        LdL = sp.csr_matrix(L.conj().T @ L)
        L0 = L0 + sp.kron(sp.csr_matrix(L.conj()), sp.csr_matrix(L)) - 0.5 * (sp.kron(eye, LdL) + sp.kron(LdL.T, eye))
    return L0.tocsr(), commutator(system.V).tocsr()


class _OpenStep:
    """(vec rho, vec chi) -> exp(dt G) (vec rho, vec chi), G = [[L, 0], [f LV, L]], L = L0 + lambda f LV.

    The lower-left block of exp(dt G) is the Frechet derivative of exp(dt L) in the direction
    dt f LV, i.e. d exp(dt L)/d lambda. Dense expm (cached per (f, dt)) when 2 dim^2 is at most
    ``OPEN_DENSE_MAX``, else expm_multiply.
    """

    def __init__(self, system: System, drive: float):
        self.L0, self.LV = superoperator_parts(system)
        self.drive = drive
        self.dense = 2 * system.dim**2 <= OPEN_DENSE_MAX
        self._cache = {}

    def generator(self, f: float):
        L = self.L0 + (self.drive * f) * self.LV
        return sp.bmat([[L, None], [f * self.LV, L]], format="csr")

    def __call__(self, y: np.ndarray, f: float, dt: float) -> np.ndarray:
        if not self.dense:
            return spla.expm_multiply(dt * self.generator(f), y)
        key = (f, round(dt, 14))  # a uniform grid's steps differ in the last bits
        if key not in self._cache:
            if len(self._cache) > 8:
                self._cache.clear()
            self._cache[key] = sla.expm(key[1] * self.generator(f).toarray())
        return self._cache[key] @ y


def open_series(system: System, rho0, drive: float, envelope: Envelope, times, diagonals=None,
                extras=None) -> Series:
    """E, P, C_Q of the Lindblad dynamics d rho/dt = L_t(rho) from rho0, sampled at `times`.

    Parameters as :func:`closed_series`, with rho0 a (dim, dim) density matrix and
    ``extras(rho)`` -> 1-d array.
    """
    d = system.dim
    n = d * d
    HB = system.H_B
    step = _OpenStep(system, drive)

    def unvec(v):
        return v.reshape(d, d, order="F")

    def observe(y, t):
        rho, chi = unvec(y[:n]), unvec(y[n:])
        H = system.hamiltonian(drive, float(envelope.value(t)))
        return (np.real(np.trace(HB @ rho)), np.real(np.trace(HB @ lindblad_rhs(system, H, rho))),
                np.real(np.trace(HB @ chi)))

    def extra(y):
        rho = unvec(y[:n])
        parts = [] if diagonals is None else [np.asarray(diagonals, float) @ np.real(np.diagonal(rho))]
        if extras is not None:
            parts.append(np.atleast_1d(extras(rho)))
        return np.concatenate(parts)

    def rhs(t, y):
        f = float(envelope.value(t))
        r, x = y[:n], y[n:]
        return np.concatenate([step.L0 @ r + (drive * f) * (step.LV @ r),
                               step.L0 @ x + (drive * f) * (step.LV @ x) + f * (step.LV @ r)])

    advance = _piecewise(step, envelope) if envelope.piecewise_constant else _ode(rhs, envelope)
    y0 = np.concatenate([np.asarray(rho0, np.complex128).reshape(-1, order="F"), np.zeros(n, np.complex128)])
    use_extra = diagonals is not None or extras is not None
    return _sample(advance, y0, times, observe, extra if use_extra else None)


# ---------------------------------------------------------------- trajectories: the no-jump branch

def no_jump_series(system: System, states, weights, drive: float, envelope: Envelope, times) -> Series:
    """The no-jump branch of the quantum-jump unravelling: |psi~(t)> under H_eff = H - (i/2) sum_k
    L_k^dag L_k, normalised; ``energy`` = <psi~|H_B|psi~>/<psi~|psi~> - e0 and ``capacitance`` its
    lambda-derivative, mixture-averaged (``power`` is nan); ``extras[0]`` the probability of no jump
    up to t, <psi~|psi~> (mixture-averaged). A trajectory average in which no trajectory jumped equals
    this branch, so |exact - branch| is how far such a sample sits from the exact mean however small
    its sample standard error; with n trajectories this happens with probability extras[0]^n."""
    psi0 = np.asarray(states, dtype=np.complex128)
    psi0 = psi0[:, None] if psi0.ndim == 1 else psi0
    w = np.asarray(weights, dtype=float)
    d = system.dim
    decay = sum((L.conj().T @ L for L in system.jumps), 0 * system.H0)
    heff = System(system.H_B, system.H0 - 0.5j * decay, system.V)
    step = _ClosedStep(heff, drive)
    step.dense = False  # H_eff is not Hermitian: expm_multiply, not eigh

    def observe(y, t):
        psi, phi = y[:d], y[d:]
        hb = system.H_B @ psi
        a, b = np.real(np.sum(psi.conj() * hb, axis=0)), np.real(np.sum(psi.conj() * psi, axis=0))
        da, db = 2.0 * np.real(np.sum(hb.conj() * phi, axis=0)), 2.0 * np.real(np.sum(psi.conj() * phi, axis=0))
        return w @ (a / b), np.nan, w @ ((da * b - a * db) / b**2)

    if envelope.piecewise_constant:
        advance = _piecewise(step, envelope)
    else:
        advance = _ode(_closed_rhs(heff, drive, envelope), envelope)
    def survival(y):
        return [w @ np.real(np.sum(np.abs(y[:d]) ** 2, axis=0))]

    return _sample(advance, np.concatenate([psi0, np.zeros_like(psi0)]), times, observe, survival)


# ---------------------------------------------------------------- the solver tests' calls

def solve_closed(ops, psi0, weights, drive, protocol, times, progress=None, diagonals=None,
                 extras=None) -> Series:
    """:func:`closed_series` of a ``collective_qc.physics.operators.Operators`` and a protocol."""
    envelope = Envelope.from_protocol(protocol, float(np.max(times)))
    return closed_series(System.from_operators(ops), psi0, weights, drive, envelope, times, diagonals, extras)


def solve_lindblad(ops, psi0, weights, drive, protocol, times, progress=None, diagonals=None,
                   extras=None) -> Series:
    """:func:`open_series` of the mixture sum_m w_m |psi_m><psi_m| (an ``Operators`` and a protocol)."""
    psi0 = np.asarray(psi0, dtype=np.complex128)
    rho0 = (psi0 * np.asarray(weights, float)) @ psi0.conj().T
    envelope = Envelope.from_protocol(protocol, float(np.max(times)))
    return open_series(System.from_operators(ops), rho0, drive, envelope, times, diagonals, extras)


def liouvillian_parts(ops):
    """(L0, LV) of an ``Operators`` (CSR): see :func:`superoperator_parts`."""
    return superoperator_parts(System.from_operators(ops))
