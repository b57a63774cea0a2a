"""Physics layer: graphs (:mod:`.graph`), models and their registry (:mod:`.model`,
:mod:`.registry`), operators built with QuSpin (:mod:`.operators`), chargers
(:mod:`.chargers`), drive protocols (:mod:`.protocols`) and initial states (:mod:`.states`).
Imports only :mod:`collective_qc.core`."""
