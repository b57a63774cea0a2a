"""Property-based fuzz test (hypothesis) of every input: any generated value either runs or is refused
with one line (InputError / ResourceError in Python; ``cqc: error: ...`` and rc 2 on the command
line), within seconds and under a memory bound (issue 22).

Default suite: a bounded, derandomized number of examples per test (the whole file well under 60 s
on 2 cores). Longer mode on request: ``CQC_FUZZ_EXAMPLES=2000 python -m pytest tests/test_fuzz.py``
(examples per test; random seeds then, so every run explores new values).

Runs that are accepted and cheap (closed method, dimension <= 64, generator norm x t_max <= 200,
n_times <= 2001) are computed; heavier accepted runs stop after validation (the plan), since their
cost is legitimate, not a defect.
"""

import os
import re
import resource
import time
from contextlib import contextmanager

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import collective_qc.api  # noqa: E402
from collective_qc.core.errors import InputError  # noqa: E402

REAL_CHARGE = collective_qc.api.charge

LONG = os.environ.get("CQC_FUZZ_EXAMPLES")
EXAMPLES = int(LONG) if LONG else None
SETTINGS = dict(deadline=None, database=None, derandomize=not LONG,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much,
                                       HealthCheck.function_scoped_fixture])
VALIDATE_S = 10.0  # hang guard of a validation (seconds; the heavy-work guard is the _Heavy check)
RUN_S = 20.0  # wall-time bound of an accepted cheap run (Numba kernels may compile on a cold cache)
MEMORY_LIMIT = "1G"  # the memory guard's budget during the fuzz test
RSS_GROWTH_MB = 1500  # the process may not grow by more than this over a whole test


def _examples(default: int) -> int:
    return EXAMPLES or default


# --- value strategies ------------------------------------------------------------------------

SPECIAL_TEXT = ["0", "-0", "-0.0", "1", "2", "3", "0.5", "-1", "1e-300", "5e-324", "1e308", "1e309", "-1e308",
                "nan", "NaN", "inf", "-inf", "1e9", "3.5", "", " ", "abc", "1e6", "4", "10", "1/2", "0x10", "1_000",
                "1e15", "100000000000000000000000000000", "true", "yes", "field", "feld", "global"]
SANE_TEXT = st.sampled_from(["1", "2", "3", "4", "0.5", "0.1", "0.05", "6", "21", "101"])  # deeper paths too
number_text = st.one_of(*[SANE_TEXT] * 6, st.sampled_from(SPECIAL_TEXT),
                        st.floats(allow_nan=True, allow_infinity=True).map(repr),
                        st.integers(-10**30, 10**30).map(str))
wild_value = st.one_of(st.sampled_from([1, 2, 3, 0.5, 0.1, 4.0, 21]), st.sampled_from([1, 2, 0.05, 6]),
                       st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**30, 10**30),
                       st.sampled_from([10**300, -(10**300), 0, -0.0, 1e308, 1e-308, True, False, None]),
                       number_text, st.text(max_size=12))


def _template(fmt: str, n: int):
    return st.tuples(*[number_text] * n).map(lambda a: fmt.format(*a))


protocol_text = st.one_of(
    st.sampled_from(["constant", "pulse", "table:", "gauss:", "on-off"]), _template("on-off:{}", 1),
    _template("ramp:{}", 1), _template("sin2:{}", 1), _template("gauss:{},{}", 2),
    _template("charge-store-discharge:{},{}", 2), _template("charge-store-discharge:{},{},{}", 3),
    _template("table:{}/{};{}/{}", 4), _template("table:{}/{};{}/{};{}/{}", 6))
charger_text = st.one_of(
    st.sampled_from(["field", "global", "cavity", "k-local", "user", "field:axis=y", "field:axis=q", "k-local:k=2,k=3",
                     "fild", "[]", "[[\"+\", [[1, 0]]], [\"-\", [[1, 0]]]]"]),
    _template("k-local:k={}", 1), _template("k-local:{}", 1), _template("field:axis={}", 1))
OPTION_TEXT = {
    "--t-max": number_text, "--n-times": number_text, "--drive": number_text, "--dephasing": number_text,
    "--relaxation": number_text, "--ntraj": number_text, "--seed": number_text, "--tolerance": number_text,
    "--norm": number_text, "--method": st.sampled_from(["auto", "closed", "exact", "trajectories", "magic", ""]),
    "--initial": st.sampled_from(["ground", "product", "excited"]), "--protocol": protocol_text,
    "--charger": charger_text, "--symmetry": st.sampled_from(["yes", "no", "maybe", "1"]),
    "--quantities": st.sampled_from(["all", "ergotropy", "entropy,coherence", "bogus", ""]),
    "--integrator": st.sampled_from(["auto", "rk4", "dopri5", "chebyshev", "euler"]),
    "--battery-off-while-charging": st.sampled_from(["yes", "no", "perhaps"]),
}
MODEL_ARGS = st.one_of(
    st.just(["two-level"]),
    st.tuples(number_text, number_text).map(lambda a: ["xxz-chain", "-p", f"N={a[0]}", "-p", f"J={a[1]}"]),
    st.sampled_from([["xxz-chain", "-p", "N=3"], ["xxz-ring", "-p", "N=4"], ["ising-chain", "-p", "N=2"]]),
    number_text.map(lambda s: ["giant-spin", "-p", f"S={s}"]),
    number_text.map(lambda s: ["heisenberg-graph", "-p", "N=2", "-p", f"S={s}"]),
)


# --- the bounds ------------------------------------------------------------------------------

@contextmanager
def _bounded():
    """The memory guard at MEMORY_LIMIT; the process's peak RSS may not grow by RSS_GROWTH_MB."""
    old = os.environ.get("CQC_MEMORY_LIMIT")
    os.environ["CQC_MEMORY_LIMIT"] = MEMORY_LIMIT
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        yield
    finally:
        if old is None:
            del os.environ["CQC_MEMORY_LIMIT"]
        else:
            os.environ["CQC_MEMORY_LIMIT"] = old
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 - before
    assert grown < RSS_GROWTH_MB, f"peak RSS grew by {grown:.0f} MB"


def _one_line(exc: Exception) -> None:
    msg = str(exc)
    assert msg and "\n" not in msg and len(msg) < 700, msg


def _validated(call):
    """call() returns or raises InputError (one line) within VALIDATE_S; returns its value or None."""
    t0 = time.perf_counter()
    try:
        out = call()
    except InputError as exc:
        _one_line(exc)
        event(f"refused: {type(exc).__name__}: {str(exc)[:50]}")
        out = None
    else:
        event("accepted")
    assert time.perf_counter() - t0 < VALIDATE_S, f"validation took {time.perf_counter() - t0:.1f} s"
    return out


class _Heavy(Exception):
    """An accepted run too costly for a fuzz example: stopped after its plan."""


def _cheap(plan) -> bool:
    return (plan.method == "closed" and plan.dim <= 64 and len(plan.times) <= 2001
            and plan.scales["generator"] * plan.times[-1] <= 200)


# --- the tests -------------------------------------------------------------------------------

@settings(max_examples=_examples(200), **SETTINGS)
@given(model=MODEL_ARGS, options=st.dictionaries(st.sampled_from(sorted(OPTION_TEXT)), st.none(), max_size=5),
       data=st.data())
def test_cli_any_value_runs_or_one_line_rc2(model, options, data, capsys):
    """`cqc charge` / `cqc compare` with generated option values: rc 0, or rc 2 and one line."""
    import collective_qc.api as api
    from collective_qc.api import check_charge as plan_run
    from collective_qc.cli import main

    argv = ["charge", *model]
    if data.draw(st.booleans(), label="compare"):
        argv = ["compare", *model, "--sizes", data.draw(st.sampled_from(["1,2", "2", "0", "1e308", "2,2", "x"]))]
    for flag in options:
        argv += [flag, data.draw(OPTION_TEXT[flag], label=flag)]
    real = REAL_CHARGE

    def guarded(*args, **kwargs):  # cheap accepted runs are computed, heavy ones stop at their plan
        plan = plan_run(*args, **kwargs)
        if not _cheap(plan):
            raise _Heavy
        return real(*args, **kwargs)

    api.charge = guarded
    with _bounded():
        t0 = time.perf_counter()
        try:
            rc = main(argv)
        except _Heavy:
            rc = 0
        finally:
            api.charge = REAL_CHARGE
        elapsed = time.perf_counter() - t0
    out, err = capsys.readouterr()
    event(f"rc {rc}" + (" (ran)" if "tau_c" in out or "G_P" in out else ""))
    assert rc in (0, 2), (argv, rc, err[-500:])
    assert "Traceback" not in err and "overflow" not in err and "invalid value" not in err, (argv, err[-500:])
    if rc == 2:
        lines = [ln for ln in err.splitlines() if ln.startswith("cqc: error: ")]
        assert len(lines) == 1 and err.endswith(lines[0] + "\n"), (argv, err)
        assert not re.search(r"\d{20}", lines[0]) and len(lines[0]) < 700, lines[0]
        assert elapsed < VALIDATE_S, (argv, elapsed)
    else:
        assert elapsed < RUN_S, (argv, elapsed)


SANE = {  # valid values of each API option, drawn as often as wild ones so that checks go deep
    "drive": [0.5, 1.0, 0.1], "t_max": [2.0, 5.0], "n_times": [11, 21], "method": ["closed", "exact", "auto"],
    "initial": ["ground", "product"], "protocol": ["constant", "on-off:1", "gauss:1,0.5", "table:0/0;2/1"],
    "dephasing": [0.0, 0.1], "relaxation": [0.0, 0.05], "symmetry": [True, False], "ntraj": [10, 20],
    "seed": [0, 1], "tolerance": [1e-6, 1e-8], "quantities": [None, "all", "ergotropy"],
    "integrator": ["auto", "rk4"], "charger": ["field", "global", "k-local:k=1", "k-local:k=2"],
    "norm": ["field", 1.0, 3.0], "battery_off_while_charging": [True, False], "speed_limit": [True, False],
    "N": [1, 2, 3, 4], "J": [0.0, 0.3], "Delta": [0.5, 1.0], "S": ["1/2", "3/2", "10"], "omega": [1.0, 0.5],
    "n_max": [0, 3, 6], "photons": [-1, 0, 2], "lattice": ["ring", "chain", "star"], "bogus": [1],
}


def _draw(data, key: str):
    sane = st.sampled_from(SANE[key])
    return data.draw(st.one_of(*[sane] * 8, wild_value, protocol_text, charger_text), label=key)


@settings(max_examples=_examples(400), **SETTINGS)
@given(model=st.sampled_from(["two-level", "xxz-chain", "xxz-ring", "giant-spin", "dicke", "heisenberg-graph"]),
       option_keys=st.sets(st.sampled_from(sorted(k for k in SANE if k[0].islower() and k not in
                                                  ("omega", "n_max", "photons", "lattice", "bogus"))), max_size=6),
       data=st.data())
def test_api_plan_and_compare_checks(model, option_keys, data):
    """check_charge / check_compare (every option, memory, rates x times): a plan or one InputError."""
    from collective_qc.api import check_charge
    from collective_qc.compare import check_compare
    from collective_qc.physics.registry import get_model

    names = [p.name for p in get_model(model).params if p.name in SANE] + ["bogus"]
    param_keys = data.draw(st.sets(st.sampled_from(names), max_size=3), label="params")
    params = {k: _draw(data, k) for k in sorted(param_keys)}
    options = {k: _draw(data, k) for k in sorted(option_keys)}
    with _bounded():
        _validated(lambda: check_charge(model, params=params, **options))
        if model not in ("two-level", "giant-spin"):
            p = {k: v for k, v in params.items() if k != "N"}
            _validated(lambda: check_compare(model, [1, 2], params=p, **options))


@settings(max_examples=_examples(300), **SETTINGS)
@given(sizes=st.one_of(st.lists(st.integers(1, 4), min_size=1, max_size=3), st.lists(st.integers(-2, 6), max_size=3),
                       wild_value),
       param_keys=st.sets(st.sampled_from(["J", "Delta", "omega", "bogus"]), max_size=2),
       run_keys=st.sets(st.sampled_from(["t_max", "n_times", "method", "protocol", "dephasing", "charger", "norm",
                                         "ntraj", "tolerance", "seed"]), max_size=4),
       data=st.data())
def test_study_config_checks(sizes, param_keys, run_keys, data):
    """A study config: Spec (schema, point count) and the check of every point, or one InputError."""
    from collective_qc.study.config import Spec
    from collective_qc.study.runner import check_points

    def value(key):
        one = st.sampled_from(SANE.get(key, [1.0]))
        return data.draw(st.one_of(*[one] * 6, st.lists(one, min_size=1, max_size=3), wild_value,
                                   st.lists(wild_value, max_size=3)), label=key)

    cfg = {"study": {"model": "xxz-chain", "sizes": sizes, "drive": value("drive")},
           "params": {k: value(k) for k in sorted(param_keys)}, "run": {k: value(k) for k in sorted(run_keys)}}
    with _bounded():
        spec = _validated(lambda: Spec(cfg))
        if spec is not None:
            _validated(lambda: check_points(spec.points))


@settings(max_examples=_examples(500), **SETTINGS)
@given(value=wild_value, spec=st.one_of(protocol_text, charger_text, st.text(max_size=20)))
def test_small_parsers(value, spec):
    """Workers, protocols, chargers, spins, numbers: a value or one InputError, fast; no numpy warnings."""
    import warnings

    from collective_qc.core.validate import number, workers
    from collective_qc.physics.chargers import parse_charger
    from collective_qc.physics.graph import parse_spin
    from collective_qc.physics.protocols import parse_protocol

    with _bounded(), warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        _validated(lambda: workers(value))
        _validated(lambda: parse_spin(value))
        _validated(lambda: number(value, "x", integer=True, minimum=2))
        prot = _validated(lambda: parse_protocol(spec))
        if prot is not None:
            for t in (0.0, 1e-300, 0.5, 1.0, 7.0, 1e300):
                assert abs(prot.value(t)) <= prot.amplitude()
        _validated(lambda: parse_charger(spec))
