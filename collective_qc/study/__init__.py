"""Resumable parameter studies: ``Study(config, out_dir).run()`` and ``cqc study CONFIG.toml --out DIR``.

One TOML file fully specifies a study. A *point* is one size N together with one value of
every swept key; each combination of swept values also has its single-site baseline point
(:meth:`Model.single_site`), computed once and shared by the sizes.

Package layout (one job per module)
-----------------------------------
- :mod:`.config`   TOML schema, strict validation (unknown keys refused with a suggestion), points;
- :mod:`.axes`     swept axes: the ``[disorder]`` section, ``[sweep] zip`` groups, combinations, the size limit;
- :mod:`.points`   point identity: content address (definition + seed), the seed rule, realisation units;
- :mod:`.realise`  the realised model and graph of one disorder realisation;
- :mod:`.files`    atomic writes, reproducible .npz, checksummed point records;
- :mod:`.lock`     exclusive OS lock on a study directory (holder's PID in the refusal);
- :mod:`.store`    the directory: manifest of own files, verification, adoption, repairs, cleaning;
- :mod:`.compute`  memory checks of every point, then running points (in-process or any executor);
- :mod:`.progress` tqdm on a terminal, periodic one-line status when piped;
- :mod:`.outputs`  table.csv, timings.csv, timeseries.h5, plots (via :mod:`collective_qc.plots`);
- :mod:`.ensembles` points.csv rows, table.csv statistics and mean curves of disordered studies;
- :mod:`.runner`   :class:`Study`, which ties them together.

Config schema
-------------
::

    [study]                      # required
    name = "xxz-scaling"         # optional (default: the config file's stem, else "study")
    model = "xxz-ring"           # required: a catalog name with a size parameter (`cqc models`)
    sizes = [3, 4, 6, 8]         # required: values of the model's size parameter (N, or Lx for square-lattice)
    drive = 0.5                  # charging amplitude lambda (default 0.5); a list is swept
    seed = 0                     # study seed, integer >= 0 (default 0)
    realisations = 1             # disorder realisations R per point (default 1; > 1 needs [disorder]);
                                 # the one place R is set ([run] realisations is refused with a pointer here)

    [params]                     # optional: model parameters (not the size); a list value is swept
    J = [0.1, 0.3]
    Delta = 0.5

    [run]                        # optional: options of collective_qc.charge(); a list value is swept
    t_max = 20                   # number > 0
    n_times = 201                # integer >= 2
    method = "auto"              # auto | closed | exact | trajectories
    initial = "ground"           # ground | product | dicke:J,M | thermal:T
    protocol = "constant"        # constant | on-off:TAU
    dephasing = 0.0              # number >= 0
    relaxation = 0.0             # number >= 0 (also pumping, collective_emission,
                                 # collective_dephasing, collective_pumping)
    ntraj = 500                  # integer >= 2 (trajectory runs)
    symmetry = true              # momentum/parity blocks on uniform rings
                                 # ([run] disorder is refused: disorder is the [disorder] section)

    [disorder]                   # optional: graph attributes drawn per site or bond around their clean values
    omega = {dist = "uniform", width = [0, 0.5, 1]}   # a list of spreads is swept (column disorder_omega_width)
    J = {dist = "normal", sigma = 0.1}                # or the short form J = "normal:0.1"
                                 # dist uniform | bimodal (parameter width W, full width, energy units)
                                 # | normal | lognormal (parameter sigma); attributes omega, D, E, B40, B44,
                                 # weight, gamma, kappa (sites), J, Delta, Jx, Jy, Jz, g (edges)

    [sweep]                      # optional
    zip = [["params.J", "run.dephasing"]]  # lists of equal length advanced together (one axis)

    [plots]                      # optional
    timeseries = [{N = 8, J = 0.3}]  # one E(t), P(t), C_Q(t) figure per table, drawing every point that
                                     # matches it (keys: the size parameter, drive, [params], [run] keys);
                                     # default: the largest size of every combination

Swept lists form a cartesian product (order: drive, then [params], then [run], then [disorder],
as written), except the keys of one ``[sweep] zip`` group: their lists must be equally long and
advance together, as one axis placed where its first key is written (a group may take any swept
key: ``study.drive``, ``params.X``, ``run.X``, ``disorder.ATTR.width`` / ``.sigma``; a value may
repeat within a zipped list, a combination may not). Unknown sections or keys, wrong types,
unknown models or parameters, zipped lists of unequal length and models that cannot be built at
some point are refused with an :class:`~collective_qc.core.errors.InputError` naming the key,
before anything is computed or written. So are bad ``[disorder]`` entries: an unknown attribute
or distribution, a wrong parameter name, a negative spread, a rate (gamma, kappa) that could be
drawn negative around the run's rate, an attribute the graph cannot take (J on bonds given as
Jx/Jy/Jz, a per-site draw on a collective spin node: use ``representation = "explicit"``) or has
nowhere to draw (g without a boson mode).

Disorder realisations
---------------------
With ``[disorder]``, every point (each size and the single-site baseline of each combination,
which gets its own realisations from the same distributions) is an ensemble of R realisations,
each stored as its own unit ``<label>_r<r>`` (:func:`.points.make_unit`), resumable like a point.
Realisation r of a point draws its attributes from
``collective_qc.physics.disorder.realisation_rng(study seed, point id, r)``: the point's id
contains its distributions but neither r nor R, so the numbers do not depend on workers, order or
R, and raising ``study.realisations`` later computes only the new realisations. The unit charges
``GraphModel(realised graph)`` with the ordinary ``charge()`` (:mod:`.realise`); the drawn values
are stored in its record (``metadata["disorder"]``), :meth:`Study.realised_graph` returns the
graph (``Study.result("N=4,r=2")`` its result).

Points are addressed by their content
-------------------------------------
A point's id is its label (``N4``, ``base``) and a digest of its definition (model, role,
parameters with the size, drive, every [run] option) and its seed,
``SeedSequence([study seed, crc32(canonical JSON of the definition)])``. Its trajectories depend
only on the study seed and the point itself, not on execution order or workers. A rerun with
more or fewer ``sizes`` or another ``[plots]`` section reuses every finished point and computes
only the new ones, and so does a rerun with more ``realisations``; a change of model, drive, seed,
[params], [run], [disorder] or [sweep] is another study (refused in the same directory unless
``--force``).

Output directory
----------------
``study.json`` (manifest: config, versions, point ids and seeds, and every file the store wrote),
``points/<id>.json`` + ``points/<id>.npz`` (one finished point or realisation, both checksummed:
the record's scalars, metadata and the .npz checksum are covered by the record's own SHA-256),
written atomically by the main process as each one finishes; ``table.csv`` (one row per point,
canonical order: swept values, n_sites, per-site figures, Gamma ratios and standard errors where
present, method, units, seed), ``timings.csv`` (wall time per point, summed over its
realisations, kept out of table.csv so that the table is a pure function of the config),
``timeseries.h5`` (one group per point) and ``plots/*.png``.

A disordered study also writes ``points.csv`` (a study without disorder does not: its table.csv
is that file already), tidy, one row per point x realisation: ``point``, ``realisation`` (r),
``unit``, ``role``, the size, the swept values, ``n_sites``, the per-site figures, the Gammas of
realisation r against realisation r of the baseline, ``undefined``, ``method``, ``seed``. Its
table.csv has ``realisations`` (R) and, for every per-site figure and Gamma X, ``X`` (mean),
``X_stderr`` (s / sqrt(n)), ``X_median``, ``X_q10``, ``X_q90``, ``X_n`` over the realisations
(the Gamma statistics are those of the per-realisation ratios in points.csv), and the advantage
two ways (:func:`collective_qc.analysis.ensemble.two_way_gammas`): ``gamma_X_mean_of_ratios`` and
``gamma_X_ratio_of_means``, each with ``_stderr`` (the latter a jackknife over paired
realisations). Each group of its ``timeseries.h5`` holds the mean E, P, C_Q over the
realisations with their standard errors, every realisation's curves (``energy_realisations``, ...
over (realisation, times)) and the drawn values (``disorder_<attribute>`` over (realisation,
target)). Plots add ``disorder.png`` (Gamma_P and tau_c against the first swept disorder spread W
per size, +-1 standard-error bands, ratio of means dashed; drawn when a spread is swept) and
``histograms.png`` (tau_c and E_max/N over the realisations at the largest W).

``cqc compare MODEL --sizes ... --sweep NAME=V1,V2`` is the quick, unstored form of a sweep: one
table per value of a model parameter, the drive, a run option or a charger argument (repeatable:
a Cartesian product; :func:`collective_qc.compare.compare_sweep`).

Safety: an OS lock guards the directory (a second run is refused naming the holder's PID, or
waits with ``--wait``); temporary files of a killed run are removed on the next run; a damaged
point is recomputed alone, with a warning naming its file; a directory whose ``study.json`` is
gone is adopted from its intact point files (automatically when all verify, else with
``--adopt``); ``--force`` removes only files the store wrote (listed in the manifest) and says
which; ``--plots-only`` redraws the plots from the stored points. Memory refusals for all points
come before the first point runs, and an unwritable directory is reported before any work.
"""

from .compute import run_point
from .config import load_config
from .outputs import format_table
from .runner import Study, open_study

__all__ = ["Study", "load_config", "run_point", "format_table", "open_study"]
