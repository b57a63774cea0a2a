"""Golden test: ``charge()`` output frozen on eight paths, so refactoring cannot change results.

Frozen values live in ``tests/data/golden_charge.npz``; regenerate them only for a deliberate
change of numerics (say so in the commit) with ``python tests/test_golden.py --write``.

Paths: QuSpin symmetry blocks (closed), a conserved cavity sector (closed), the exact density
matrix with noise, seeded trajectories (bitwise: Chebyshev steps; DOPRI5 with a complex charger;
RK4; Chebyshev with cavity loss), state quantities (closed). The trajectory values were rewritten
once, deliberately, when the Chebyshev series sums took real weights (the (-i)^k factored out),
its product became one pass, the recording of real matrices one vector pass, V a flip form,
D^dag(H_B) one sum of sandwiches and the diagonals of H0, H_B, K0 element-wise terms: the new
values agree with the previous ones to 1.2e-14 relative
(the previous ones were those of the scalar kernels, which the first vector forms reproduced bit
for bit). The trajectory scalars (tau_c, E_max, C_Q*) were rewritten once more, deliberately,
when tau_c without a solver evaluator became the root of the cubic through the sampled P (the
cubic Hermite interpolant of the noisy E had pinned it near sample times); the series are
unchanged.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import collective_qc as cqc
from collective_qc.solvers.solution import SolverOptions

GOLDEN = Path(__file__).parent / "data" / "golden_charge.npz"

CASES = {
    "symmetry_block": dict(model="xxz-ring", drive=0.5, params={"N": 8, "J": 0.3, "Delta": 0.5},
                           t_max=6.0, n_times=31, method="closed"),
    "cavity_sector": dict(model="tavis-cummings", drive=0.4, params={"N": 3}, t_max=4.0, n_times=21,
                          method="closed"),
    "exact_noise": dict(model="xxz-chain", drive=0.5, params={"N": 4, "J": 0.3}, t_max=4.0, n_times=21,
                        method="exact", dephasing=0.05, relaxation=0.02),
    "trajectories": dict(model="xxz-chain", drive=0.5, params={"N": 4, "J": 0.3}, t_max=4.0, n_times=21,
                         method="trajectories", dephasing=0.05, relaxation=0.02, ntraj=16, seed=7),
    "trajectories_dopri5_sigma_y": dict(model="xxz-ring", drive=0.5, params={"N": 4}, t_max=4.0, n_times=21,
                                        method="trajectories", charger="field:axis=y", dephasing=0.05,
                                        relaxation=0.1, ntraj=8, seed=3, integrator="dopri5"),
    "trajectories_rk4": dict(model="xxz-chain", drive=0.5, params={"N": 3, "J": 0.3}, t_max=2.0, n_times=11,
                             method="trajectories", dephasing=0.05, relaxation=0.1,
                             solver_options=SolverOptions(integrator="rk4", dt_max=0.01, ntraj=8, seed=5)),
    "trajectories_cavity_loss": dict(model="dicke", drive=0.5, params={"N": 2, "n_max": 6, "kappa_c": 0.1},
                                     t_max=3.0, n_times=16, method="trajectories", ntraj=8, seed=11),
    "quantities": dict(model="xxz-chain", drive=0.5, params={"N": 4, "J": 0.3}, t_max=4.0, n_times=21,
                       method="closed", quantities="all"),
}


def _run(case: dict) -> dict[str, np.ndarray]:
    kw = dict(case)
    res = cqc.charge(kw.pop("model"), kw.pop("drive"), **kw)
    out = {"energy": res.energy, "power": res.power, "capacitance": res.capacitance,
           "scalars": np.array([np.nan if v is None else v for v in
                                (res.tau_c, res.energy_max, res.power_max, res.average_power_max,
                                 res.capacitance_at_tau_c)], dtype=float)}
    if res.energy_stderr is not None:
        out["energy_stderr"] = res.energy_stderr
        out["capacitance_stderr"] = res.capacitance_stderr
    for name, series in sorted(res.observables.items()):
        out[f"obs:{name}"] = np.asarray(series, dtype=float)
    return out


def _flat(results: dict) -> dict[str, np.ndarray]:
    out = {f"{case}/{key}": val for case, arrays in results.items() for key, val in arrays.items()}
    return {**out, "__machine__": np.array(machine())}


def machine() -> str:
    """The CPU and BLAS kernels that fix the last bits: LLVM compiles the kernels for the host CPU and
    OpenBLAS picks its kernels by CPU (the ground state comes from ARPACK on BLAS), so seeded
    trajectories are bitwise reproducible on one kind of machine (any thread or worker count), and
    agree to round-off (~1e-14 relative, measured) across kinds."""
    import llvmlite.binding as ll
    from threadpoolctl import threadpool_info

    blas = sorted(f"{i.get('internal_api')}:{i.get('architecture')}" for i in threadpool_info()
                  if i.get("user_api") == "blas")
    return f"{ll.get_host_cpu_name()} {' '.join(blas)}"


def same_machine(golden) -> bool:
    return "__machine__" in golden.files and str(golden["__machine__"]) == machine()


def assert_matches(golden, case: str, got: dict, bitwise: bool) -> None:
    """Every frozen array of `case` reproduced: bit for bit (seeded trajectories on the machine
    kind that froze them, see :func:`machine`), else to 1e-12 of its largest value."""
    bitwise = bitwise and same_machine(golden)
    keys = sorted(k[len(case) + 1:] for k in golden.files if k.startswith(case + "/"))
    assert keys, f"{case} is not frozen"
    assert sorted(got) == keys
    for key in keys:
        ref = golden[f"{case}/{key}"]
        if bitwise:  # seeded trajectories
            np.testing.assert_array_equal(got[key], ref, err_msg=f"{case}/{key}")
        else:
            finite = ref[np.isfinite(ref)]
            scale = max(1.0, float(np.max(np.abs(finite))) if finite.size else 1.0)
            np.testing.assert_allclose(got[key], ref, rtol=0, atol=1e-12 * scale, equal_nan=True,
                                       err_msg=f"{case}/{key}")


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.filterwarnings("ignore:boson mode 'cavity'")  # frozen numbers, not a converged cutoff
def test_charge_matches_golden(case):
    assert_matches(np.load(GOLDEN), case, _run(CASES[case]), bitwise=case.startswith("trajectories"))


if __name__ == "__main__" and "--write" in sys.argv:
    GOLDEN.parent.mkdir(exist_ok=True)
    np.savez(GOLDEN, **_flat({name: _run(case) for name, case in CASES.items()}))
    print(f"wrote {GOLDEN}")
