"""Every bad input of the reliability issue, through the CLI and the Python API.

CLI: exit code 2, exactly one line on stderr that names the culprit, no traceback, refused
before heavy work (well under a second here). Python: InputError / ResourceError (both
subclasses of ValueError) whose message names the culprit.
"""

import time

import pytest

import collective_qc as cqc
from collective_qc.cli import main
from collective_qc.errors import InputError, ResourceError

MEM = {"CQC_MEMORY_LIMIT": "16G"}  # deterministic memory guard (the estimates below exceed any machine)

# (id, CLI args or None, Python call or None, exception type, words the message must contain)
CASES = [
    ("N=1e9", ["charge", "xxz-ring", "-p", "N=1e9"],
     lambda: cqc.charge("xxz-ring", 0.5, params={"N": 10**9}), ResourceError, ["N = 1,000,000,000", "80%"]),
    ("n_times=1e9", ["charge", "xxz-ring", "--n-times", "1000000000"],
     lambda: cqc.charge("xxz-ring", 0.5, n_times=10**9), ResourceError, ["n_times = 1,000,000,000", "80%"]),
    ("ntraj=1e9", ["charge", "xxz-chain", "-p", "N=3", "--method", "trajectories", "--dephasing", "0.1",
                   "--ntraj", "1e9"],
     lambda: cqc.charge("xxz-chain", 0.5, params={"N": 3}, method="trajectories", dephasing=0.1, ntraj=10**9),
     ResourceError, ["ntraj = 1,000,000,000"]),
    ("relaxation=1e300 trajectories", ["charge", "two-level", "--relaxation", "1e300", "--method", "trajectories"],
     lambda: cqc.charge("two-level", relaxation=1e300, method="trajectories"), InputError, ["relaxation", "t_max"]),
    ("relaxation=1e7 trajectories: jumps", ["charge", "two-level", "--relaxation", "1e6", "--method",
                                            "trajectories", "--t-max", "100"],
     lambda: cqc.charge("two-level", relaxation=1e6, method="trajectories", t_max=100), InputError,
     ["jumps per trajectory", "relaxation"]),
    ("J=1e300", ["charge", "xxz-ring", "-p", "J=1e300"],
     lambda: cqc.charge("xxz-ring", params={"J": 1e300}), InputError, ["J", "t_max"]),
    ("drive=1e300", ["charge", "two-level", "--drive", "1e300"],
     lambda: cqc.charge("two-level", 1e300), InputError, ["drive", "t_max"]),
    ("t_max=1e300", ["charge", "two-level", "--t-max", "1e300"],
     lambda: cqc.charge("two-level", t_max=1e300), InputError, ["t_max", "1e+300"]),
    ("dephasing=1e300", ["charge", "two-level", "--dephasing", "1e300"],
     lambda: cqc.charge("two-level", dephasing=1e300), InputError, ["dephasing", "t_max"]),
    ("json missing dir", ["charge", "two-level", "--json", "/nonexistent-dir/out.json"], None, InputError,
     ["--json", "/nonexistent-dir", "does not exist"]),
    ("json is a directory", ["charge", "two-level", "--json", "/"], None, InputError, ["--json", "directory"]),
    ("scheduler malformed", ["charge", "two-level", "--scheduler", "tcp://host:port"],
     lambda: _open_client("tcp://host:port"), InputError, ["scheduler", "malformed"]),
    ("scheduler not listening", ["charge", "two-level", "--scheduler", "tcp://127.0.0.1:9"],
     lambda: _open_client("tcp://127.0.0.1:9"), InputError, ["scheduler", "127.0.0.1:9", "cannot connect"]),
    ("workers=0", ["charge", "two-level", "--workers", "0"],
     lambda: _open_client(None, 0), InputError, ["workers", ">= 1"]),
    ("params=[1]", None, lambda: cqc.charge("two-level", params=[1]), InputError, ["params", "dict"]),
    ("quantities=5", ["charge", "two-level", "--quantities", "5"],
     lambda: cqc.charge("two-level", quantities=5), InputError, ["quantit", "5"]),
    ("seed='a'", ["charge", "two-level", "--seed", "a"],
     lambda: cqc.charge("two-level", seed="a"), InputError, ["seed", "'a'"]),
    ("client=5", None, lambda: cqc.charge("two-level", client=5), InputError, ["client"]),
    ("progress=5", None, lambda: cqc.compare("xxz-chain", [2], progress=5), InputError, ["progress"]),
    ("times='abc'", None, lambda: cqc.charge("two-level", times="abc"), InputError, ["times"]),
    ("trajectory quantities too large", ["charge", "xxz-ring", "-p", "N=10", "--method", "trajectories",
                                         "--dephasing", "0.1", "--quantities", "ergotropy"],
     lambda: cqc.charge("xxz-ring", params={"N": 10}, method="trajectories", dephasing=0.1, quantities="ergotropy"),
     InputError, ["2 x 201 x 1024^2", "1 GiB", "'exact'"]),
    ("times one sample", None, lambda: cqc.charge("two-level", times=[0.0]), InputError, ["at least 2", "(1,)"]),
    ("times nan", None, lambda: cqc.charge("two-level", times=[0, float("nan"), 2]), InputError, ["times[1]", "nan"]),
    ("times negative", None, lambda: cqc.charge("two-level", times=[-1, 0, 1]), InputError, ["times[0] = -1"]),
    ("times decreasing", None, lambda: cqc.charge("two-level", times=[0, 2, 1]), InputError,
     ["strictly increasing", "times[2] = 1"]),
    ("tolerance=1e-300", ["charge", "two-level", "--tolerance", "1e-300"],
     lambda: cqc.charge("two-level", tolerance=1e-300), InputError, ["tolerance", "1e-14"]),
    ("symmetry='maybe'", None, lambda: cqc.charge("xxz-ring", symmetry="maybe"), InputError, ["symmetry"]),
    ("unknown keyword", None, lambda: cqc.charge("two-level", ntrajs=5), InputError, ["ntrajs", "'ntraj'"]),
    ("compare sizes 3.5,4.9", ["compare", "xxz-chain", "--sizes", "3.5,4.9"],
     lambda: cqc.compare("xxz-chain", [3.5, 4.9]), InputError, ["sizes", "3.5"]),
    ("compare N twice", ["compare", "xxz-chain", "--sizes", "3,4", "-p", "N=5"],
     lambda: cqc.compare("xxz-chain", [3, 4], params={"N": 5}), InputError, ["'N'", "twice"]),
    ("compare largest size refused first", ["compare", "xxz-chain", "--sizes", "2,3,80"],
     lambda: cqc.compare("xxz-chain", [2, 3, 80]), ResourceError, ["xxz-chain", "memory"]),
    ("param twice", ["charge", "two-level", "-p", "omega=1", "-p", "omega=2"], None, InputError,
     ["'omega'", "twice"]),
    ("CQC_MEMORY_LIMIT=-1", ["charge", "two-level"], lambda: cqc.charge("two-level"), InputError,
     ["CQC_MEMORY_LIMIT", "-1"]),
    ("CQC_MEMORY_LIMIT=0", ["charge", "two-level"], lambda: cqc.charge("two-level"), InputError,
     ["CQC_MEMORY_LIMIT", "'0'"]),
    ("CQC_MEMORY_LIMIT=lots", ["charge", "two-level"], lambda: cqc.charge("two-level"), InputError,
     ["CQC_MEMORY_LIMIT", "lots"]),
]
ENV = {"CQC_MEMORY_LIMIT=-1": "-1", "CQC_MEMORY_LIMIT=0": "0", "CQC_MEMORY_LIMIT=lots": "lots"}


def _open_client(scheduler, workers=None):
    from collective_qc.parallel import open_client

    with open_client(scheduler, workers):
        pass


def _env(monkeypatch, case_id):
    monkeypatch.setenv("CQC_MEMORY_LIMIT", ENV.get(case_id, MEM["CQC_MEMORY_LIMIT"]))


@pytest.mark.parametrize("case", [c for c in CASES if c[1] is not None], ids=lambda c: c[0])
def test_cli_refuses_with_one_line(case, capsys, monkeypatch):
    case_id, args, _call, _exc, words = case
    _env(monkeypatch, case_id)
    t0 = time.perf_counter()
    rc = main(args)
    elapsed = time.perf_counter() - t0
    out, err = capsys.readouterr()
    assert rc == 2, (out, err)
    assert err.startswith("cqc: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)
    assert "tau_c" not in out  # refused before any computation
    assert elapsed < (6.0 if "scheduler" in case_id else 1.0), elapsed


@pytest.mark.parametrize("case", [c for c in CASES if c[2] is not None], ids=lambda c: c[0])
def test_api_raises_input_error_naming_culprit(case, monkeypatch):
    case_id, _args, call, exc, words = case
    _env(monkeypatch, case_id)
    with pytest.raises(exc) as info:
        call()
    assert isinstance(info.value, ValueError)
    msg = str(info.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg, (w, msg)


def test_cqc_memory_limit_units_accepted(monkeypatch):
    from collective_qc.validate import available_memory

    for text, expected in [("1GiB", 1 << 30), ("1G", 1 << 30), ("1GB", 1 << 30), ("512 MiB", 512 << 20),
                           ("2e9", 2 * 10**9), ("1.5T", int(1.5 * (1 << 40)))]:
        monkeypatch.setenv("CQC_MEMORY_LIMIT", text)
        assert available_memory() == expected, text
    monkeypatch.setenv("CQC_MEMORY_LIMIT", "1GiB")
    with pytest.raises(ResourceError, match=r"80% margin of 1\.0 GiB \(CQC_MEMORY_LIMIT\)"):
        cqc.charge("xxz-ring", params={"N": 24})


def test_symmetry_strings_are_not_truthy():
    from collective_qc.guard import plan_run

    for text, value in [("no", False), ("false", False), ("off", False), ("0", False), ("yes", True), (True, True)]:
        assert plan_run("xxz-ring", params={"N": 4}, symmetry=text).symmetry is value
    a = cqc.charge("xxz-ring", params={"N": 6}, symmetry="no", t_max=4, n_times=21)
    b = cqc.charge("xxz-ring", params={"N": 6}, symmetry=False, t_max=4, n_times=21)
    assert a.metadata["symmetry_block"] is None and b.metadata["symmetry_block"] is None
    assert a.tau_c == b.tau_c


def test_json_checked_before_computing(tmp_path, capsys):
    ro = tmp_path / "missing" / "o.json"
    t0 = time.perf_counter()
    assert main(["charge", "xxz-ring", "-p", "N=8", "--json", str(ro)]) == 2
    assert time.perf_counter() - t0 < 1.0
    assert "missing" in capsys.readouterr().err
    ok = tmp_path / "o.json"
    assert main(["charge", "two-level", "--t-max", "2", "--json", str(ok)]) == 0
    assert ok.exists()
    before = sorted(p.name for p in tmp_path.iterdir())
    assert main(["charge", "two-level", "--method", "magic", "--json", str(tmp_path / "new.json")]) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == before  # the probe file is not left behind


def test_scheduler_port_held_by_something_else(capsys):
    """A port that accepts TCP but speaks no Dask: refused within the connect timeout, not hung."""
    import socket
    import threading

    from collective_qc.parallel import CONNECT_TIMEOUT_S

    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    held = []

    def accept():
        while True:
            try:
                held.append(srv.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    address = f"tcp://127.0.0.1:{srv.getsockname()[1]}"
    try:
        t0 = time.perf_counter()
        assert main(["charge", "two-level", "--scheduler", address]) == 2
        assert time.perf_counter() - t0 < CONNECT_TIMEOUT_S + 3
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and address in err and "no Dask scheduler answered" in err
    finally:
        srv.close()
        for c in held:
            c.close()
