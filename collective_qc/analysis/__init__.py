"""Analysis layer: the result objects (:mod:`.results`), figures of merit (:mod:`.merit`,
:mod:`.figures`), what is a result (:mod:`.verdict`), their statistics (:mod:`.statistics`),
collective-advantage ratios (:mod:`.advantage`), bounds (:mod:`.bounds`), the paper's two-level
closed forms (:mod:`.two_level`), state quantities (:mod:`.state_measures`, :mod:`.quantities`),
tables and data-frame views (:mod:`.tables`, :mod:`.frames`). Imports every lower layer, none above."""
