"""The one run-options table: the same run from Python keywords, CLI flags and TOML is the same."""

from __future__ import annotations

import argparse
import inspect

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

from collective_qc import InputError
from collective_qc.core.validate import boolean, integer, number
from collective_qc.planning.options import OPTIONS, add_cli_arguments, check_options, flag, from_cli


def _cli(argv):
    p = argparse.ArgumentParser()
    add_cli_arguments(p)
    return from_cli(p.parse_args(argv))


def test_same_options_from_kwargs_cli_and_toml():
    kwargs = dict(t_max=12.5, n_times=51, method="trajectories", dephasing=0.05, relaxation=0.02, ntraj=64,
                  seed=3, tolerance=1e-7, symmetry=False, initial="product", protocol="on-off:4",
                  quantities="ergotropy")
    argv = ["--t-max", "12.5", "--n-times", "51", "--method", "trajectories", "--dephasing", "0.05",
            "--relaxation", "0.02", "--ntraj", "64", "--seed", "3", "--tolerance", "1e-7", "--symmetry", "no",
            "--initial", "product", "--protocol", "on-off:4", "--quantities", "ergotropy"]
    toml = tomllib.loads("""[run]
t_max = 12.5
n_times = 51
method = "trajectories"
dephasing = 0.05
relaxation = 0.02
ntraj = 64
seed = 3
tolerance = 1e-7
symmetry = false
initial = "product"
protocol = "on-off:4"
quantities = ["ergotropy"]
""")["run"]
    a, b, c = check_options(kwargs), _cli(argv), check_options(toml, "run.")
    assert a == b == c
    assert set(a) == set(OPTIONS)


def test_every_option_is_a_cli_flag_or_says_why_not():
    p = argparse.ArgumentParser()
    add_cli_arguments(p)
    flags = {a for action in p._actions for a in action.option_strings}
    for opt in OPTIONS.values():
        assert (flag(opt.name) in flags) == opt.cli, opt.name
        assert opt.doc, opt.name


def test_charge_takes_every_option():
    from collective_qc.api import charge as _charge  # noqa: F401

    params = inspect.signature(_charge).parameters
    missing = [name for name in OPTIONS if name not in params]
    assert not missing, f"charge() does not take {missing}"


@pytest.mark.parametrize("given, culprit", [
    ({"t_maks": 3}, "'t_max'"), ({"ntraj": 1}, "ntraj"), ({"seed": "a"}, "seed"), ({"symmetry": "maybe"}, "symmetry"),
    ({"method": "exakt"}, "'exact'"), ({"tolerance": 0.5}, "tolerance"), ({"n_times": 2.5}, "n_times"),
    ({"quantities": 5}, "quantities"), ({"dephasing": float("nan")}, "dephasing"),
])
def test_bad_options_name_the_culprit(given, culprit):
    with pytest.raises(InputError, match=culprit):
        check_options(given)


def test_cli_errors_name_the_flag():
    with pytest.raises(InputError, match="--n-times"):
        _cli(["--n-times", "x"])


def test_validators():
    assert number("2.5", "x") == 2.5 and integer("4", "n") == 4 and integer(4.0, "n") == 4
    assert boolean("no", "s") is False and boolean(True, "s") is True
    for bad in (True, "1e999", None, [1]):
        with pytest.raises(InputError, match="x must"):
            number(bad, "x")
    with pytest.raises(InputError):
        integer(float("inf"), "n")


def _subparser(name):
    from collective_qc.cli import build_parser

    return build_parser()._subparsers._group_actions[0].choices[name]


@pytest.mark.parametrize("command", ["charge", "compare"])
def test_every_option_reaches_the_cli_commands(command):
    flags = {a for action in _subparser(command)._actions for a in action.option_strings}
    assert {flag(o.name) for o in OPTIONS.values() if o.cli} <= flags


def test_every_option_reaches_study_toml_or_is_refused_with_a_reason(tmp_path):
    from collective_qc.study.config import RUN_OPTIONS, load_config

    assert set(OPTIONS) - set(RUN_OPTIONS) == {"seed"}
    toml = tmp_path / "s.toml"
    toml.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2]\n[run]\nseed = 3\n')
    with pytest.raises(InputError, match="study.seed"):
        load_config(toml)
    toml.write_text('[study]\nmodel = "xxz-chain"\nsizes = [2]\n[run]\nt_maks = 3\n')
    with pytest.raises(InputError, match="t_max"):
        load_config(toml)


def test_same_run_from_python_cli_and_toml(tmp_path):
    """One run defined three ways gives the same options (and the same charge() keywords)."""
    from collective_qc.cli import _run_kwargs, build_parser
    from collective_qc.study.config import Spec

    argv = ["charge", "xxz-chain", "-p", "N=3", "--t-max", "4", "--n-times", "21", "--dephasing", "0.05",
            "--method", "exact", "--integrator", "rk4", "--charger", "global"]
    cli = _run_kwargs(build_parser().parse_args(argv))
    toml = {"study": {"model": "xxz-chain", "sizes": [3]},
            "run": {"t_max": 4, "n_times": 21, "dephasing": 0.05, "method": "exact", "integrator": "rk4",
                    "charger": "global"}}
    run = [p for p in Spec(toml).points if p["size"] == 3][0]["definition"]["run"]
    py = dict(t_max=4, n_times=21, dephasing=0.05, method="exact", integrator="rk4", charger="global")
    keys = set(py)
    assert check_options(py) == check_options({k: cli[k] for k in keys}) == check_options(run)
