"""Planning layer: the run options (:mod:`.options`, declared once), the run guard that checks a
run and asks the solver table for its method and memory before anything large is built
(:mod:`.guard`), automatic Fock cutoffs (:mod:`.cutoff`), conserved sectors (:mod:`.sectors`)
and symmetry blocks (:mod:`.symmetry`). Imports core, physics and the solver contract."""
