"""CLI: the main paths and every bad-input case (one-line error, exit code != 0, no traceback)."""

import json
import subprocess
import sys

import networkx as nx
import pytest

from collective_qc.cli import main


def run(args):
    p = subprocess.run([sys.executable, "-m", "collective_qc", *args], capture_output=True, text=True, timeout=300)
    return p.returncode, p.stdout, p.stderr


def test_models_lists_catalog(capsys):
    assert main(["models"]) == 0
    out = capsys.readouterr().out
    for name in ("two-level", "xxz-chain", "xxz-ring", "ising-chain", "ising-ring", "square-lattice", "all-to-all"):
        assert name in out


def test_charge_writes_json(tmp_path):
    path = tmp_path / "out.json"
    rc, out, err = run(["charge", "xxz-ring", "--param", "N=4", "--drive", "0.5", "--t-max", "10",
                        "--n-times", "51", "--json", str(path)])
    assert rc == 0, err
    d = json.loads(path.read_text())
    assert d["n_sites"] == 4 and d["method"] == "closed" and len(d["times"]) == 51
    assert d["tau_c"] is not None


def test_tau_c_null_when_no_maximum(tmp_path):
    path = tmp_path / "o.json"
    assert main(["charge", "two-level", "--drive", "0.5", "--t-max", "0.5", "--json", str(path)]) == 0
    assert json.loads(path.read_text())["tau_c"] is None


def test_user_graph_files(tmp_path):
    g = nx.path_graph(3)
    nx.set_edge_attributes(g, 0.2, "J")
    nx.write_graphml(g, tmp_path / "g.graphml")
    with open(tmp_path / "g.json", "w") as fh:
        json.dump(nx.node_link_data(g, edges="links"), fh)
    assert main(["charge", str(tmp_path / "g.graphml"), "--t-max", "5"]) == 0
    assert main(["charge", str(tmp_path / "g.json"), "--t-max", "5"]) == 0


BAD = [
    (["charge", "xxz-rng"], "did you mean 'xxz-ring'"),
    (["charge", "xxz-ring", "--param", "N=abc"], "'N'"),
    (["charge", "xxz-ring", "--param", "Nsites=4"], "unknown parameter 'Nsites'"),
    (["charge", "xxz-ring", "--param", "J=nan"], "'J'"),
    (["charge", "xxz-ring", "--param", "N=-3"], "'N'"),
    (["charge", "two-level", "--drive", "nan"], "drive"),
    (["charge", "two-level", "--drive", "inf"], "drive"),
    (["charge", "two-level", "--t-max", "0"], "--t-max"),
    (["charge", "two-level", "--t-max", "-2"], "--t-max"),
    (["charge", "two-level", "--dephasing", "-0.1"], "dephasing"),
    (["charge", "two-level", "--relaxation", "nan"], "relaxation"),
    (["charge", "two-level", "--n-times", "1"], "n_times"),
    (["charge", "two-level", "--method", "magic"], "magic"),
    (["charge", "two-level", "--initial", "hot"], "hot"),
    (["charge", "two-level", "--protocol", "zigzag"], "zigzag"),
    (["charge", "xxz-ring", "--param", "N=60"], "memory"),
    (["charge", "missing.graphml"], "missing.graphml"),
]


@pytest.mark.parametrize("args,needle", BAD, ids=[" ".join(a[1:]) for a, _ in BAD])
def test_bad_input_one_line_error(args, needle, capsys):
    rc = main(args)
    err = capsys.readouterr().err
    assert rc == 2
    assert needle in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_bad_input_via_subprocess_has_no_traceback():
    rc, out, err = run(["charge", "xxz-ring", "--param", "N=abc"])
    assert rc == 2 and "Traceback" not in err and err.startswith("cqc: error:")
    rc, out, err = run(["charge", "two-level", "--drive", "abc"])
    assert rc == 2 and "Traceback" not in err


def test_graph_attribute_of_wrong_type_names_node():
    g = nx.path_graph(3)
    g.nodes[1]["omega"] = "strong"
    from collective_qc import InputError, charge
    with pytest.raises(InputError, match=r"node 1: attribute 'omega'"):
        charge(g)
    g = nx.path_graph(3)
    g.edges[0, 1]["Jz"] = [1, 2]
    with pytest.raises(InputError, match=r"edge \(0, 1\)"):
        charge(g)
