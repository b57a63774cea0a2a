"""The manual: builds without warnings (mkdocs --strict) and every tutorial code block runs.

Python blocks of a page run in order as one script (in a temporary directory); a block whose
first line is ``# file: NAME`` is written to NAME instead; a block whose first line starts with
``# needs:`` (a SLURM cluster, ...) is skipped. ``cqc ...`` lines of bash blocks run in place,
as ``python -m collective_qc ...``.
"""

import json
import os
import pathlib
import re
import shlex
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted((DOCS / "tutorials").glob("*.md")) + [DOCS / "graph-schema.md"]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(page):
    return [(m.group(1), m.group(2)) for m in FENCE.finditer(page.read_text())]


def script_of(page) -> str:
    out = ["import subprocess, sys", "def _run_cli(*args):",
           "    subprocess.run([sys.executable, '-m', 'collective_qc', *args], check=True)"]
    for lang, code in blocks(page):
        first = code.splitlines()[0] if code.strip() else ""
        if first.startswith("# needs:"):
            continue
        if lang == "python" and first.startswith("# file:"):
            name = first.split(":", 1)[1].strip()
            out.append(f"open({name!r}, 'w').write({code!r})")
        elif lang == "python":
            out.append(code)
        elif lang == "bash":
            for line in code.splitlines():
                line = line.split(" #")[0].strip()
                if line.startswith("cqc "):
                    out.append(f"_run_cli(*{shlex.split(line)[1:]!r})")
    return "\n".join(out)


HEAVY_PAGES = {"scaling-study", "plugin-model", "collective-advantage", "scale-out"}  # 15-70 s each: -m slow


@pytest.mark.parametrize("page", [pytest.param(p, marks=pytest.mark.slow) if p.stem in HEAVY_PAGES else p
                                  for p in PAGES], ids=[p.stem for p in PAGES])
def test_tutorial_code_runs(page, tmp_path):
    script = tmp_path / "tutorial.py"
    script.write_text(script_of(page))
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    p = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=600,
                       env=env)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]


def test_graph_schema_examples_load(tmp_path):
    import collective_qc as cqc

    found = {lang: code for lang, code in blocks(DOCS / "graph-schema.md") if lang in ("xml", "json")}
    (tmp_path / "triangle.graphml").write_text(found["xml"])
    res = cqc.charge(str(tmp_path / "triangle.graphml"), t_max=3, n_times=31)
    assert res.n_sites == 3 and res.method == "exact" and res.metadata["noise"]["per_site_gamma"] == {"2": 0.05}
    data = json.loads(found["json"])
    for key in ("edges", "links"):
        d = dict(data)
        d[key] = d.pop("edges")
        (tmp_path / f"{key}.json").write_text(json.dumps(d))
    a = cqc.charge(str(tmp_path / "edges.json"), t_max=2, n_times=21)
    b = cqc.charge(str(tmp_path / "links.json"), t_max=2, n_times=21)
    assert a.n_sites == 2 and (a.energy == b.energy).all()


def test_docs_build_strict(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings_handlers.python")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    p = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
                       cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr[-3000:]
    assert "WARNING" not in p.stderr, p.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").exists()


def test_no_pointer_outside_the_project():
    bad = re.compile(r"SPEC\.md|SPEC section|/work/shared|\.\./shared")
    hits = []
    for path in [*ROOT.glob("*.md"), *DOCS.rglob("*.md"), *(ROOT / "studies").rglob("*"),
                 *(ROOT / "collective_qc").rglob("*.py"), *(ROOT / "models").rglob("*.py")]:
        if path.is_file() and path.suffix in (".md", ".py", ".toml") and path.name != "study.py":
            hits += [f"{path.relative_to(ROOT)}:{n}" for n, line in enumerate(path.read_text().splitlines(), 1)
                     if bad.search(line)]
    assert not hits, hits
