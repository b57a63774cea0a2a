"""Cutoff messages (issue 22, item 16): the main job printed one "cutoff not converged ... pass k"
line per doubling pass (16 lines); now a run says it once, a study once for all its points, and
every pass stays in metadata["cutoff_history"]."""

import collective_qc as cqc
from collective_qc.planning.cutoff import cutoff_lines, refinement_note

DICKE = {"study": {"model": "dicke", "sizes": [2, 8]}, "params": {"omega": 1.0, "omega_c": 1.0},
         "run": {"t_max": 3.5, "n_times": 71, "method": "closed"}}


def test_summary_lines():
    rep = {"cavity": {"n_max": 704, "top_population_max": 2e-36, "converged": True, "exact_by_conservation": False}}
    hist = [{"cavity": 44}, {"cavity": 88}, {"cavity": 176}, {"cavity": 352}]
    assert cutoff_lines(rep, hist) == ["cutoff [cavity]    n_max = 704 (automatic: doubled 4x from 44), "
                                       "top-level population <= 2.00e-36 (converged)"]
    assert cutoff_lines(rep) == ["cutoff [cavity]    n_max = 704, top-level population <= 2.00e-36 (converged)"]
    runs = {"base": {"cutoff": rep}, "N=16": {"cutoff": rep, "cutoff_history": hist}}
    assert refinement_note(runs) == ("automatic Fock cutoff doubled at 1 of 2 runs: N=16 4x (n_max 704); "
                                     "passes in metadata['cutoff_history']")
    assert refinement_note({"base": {"cutoff": rep}}) is None


def test_charge_says_it_once(capsys):
    res = cqc.charge("dicke", params={"N": 8}, t_max=3.5, n_times=71, method="closed", progress=True)
    err = capsys.readouterr().err
    hist = res.metadata["cutoff_history"]
    assert len(hist) >= 2  # several passes (n_max 28 -> 56 -> 112 -> 224 measured)
    assert [h["cavity"] for h in hist] == [hist[0]["cavity"] * 2 ** k for k in range(len(hist))]
    assert err.count("not converged") == 1, err
    assert f"doubled {len(hist)}x from {hist[0]['cavity']}" in res.summary()


def test_study_says_it_once(tmp_path, capsys):
    from collective_qc.study import Study

    notes = []
    st = Study(DICKE, tmp_path / "d", progress=True, progress_interval=0.0, log=notes.append)
    st.run()
    err = capsys.readouterr().err
    assert "pass" not in "\n".join(line for line in err.splitlines() if "cutoff" in line), err
    assert "cutoff not converged" not in err
    lines = [n for n in notes if "Fock cutoff" in n]
    assert len(lines) == 1 and "N=8" in lines[0] and "N=2" in lines[0], notes
