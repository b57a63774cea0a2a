"""Resumable parameter studies: ``Study(config, out_dir).run()`` and ``cqc study CONFIG.toml --out DIR``.

One TOML file fully specifies a study. A *point* is one size N together with one value of
every swept key; each combination of swept values also has its single-site baseline point
(:meth:`Model.single_site`), computed once and shared by the sizes.

Package layout (one job per module)
-----------------------------------
- :mod:`.config`   TOML schema, strict validation (unknown keys refused with a suggestion), points;
- :mod:`.points`   point identity: content address (definition + seed) and the seed rule;
- :mod:`.files`    atomic writes, reproducible .npz, checksummed point records;
- :mod:`.lock`     exclusive OS lock on a study directory (holder's PID in the refusal);
- :mod:`.store`    the directory: manifest of own files, verification, adoption, repairs, cleaning;
- :mod:`.compute`  memory checks of every point, then running points (in-process or any executor);
- :mod:`.progress` tqdm on a terminal, periodic one-line status when piped;
- :mod:`.outputs`  table.csv, timings.csv, timeseries.h5, plots (via :mod:`collective_qc.plots`);
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

    [plots]                      # optional
    timeseries = [{N = 8, J = 0.3}]  # one E(t), P(t), C_Q(t) figure per table, drawing every point that
                                     # matches it (keys: the size parameter, drive, [params], [run] keys);
                                     # default: the largest size of every combination

Swept lists form a cartesian product (order: drive, then [params], then [run], as written).
Unknown sections or keys, wrong types, unknown models or parameters and models that cannot be
built at some point are refused with an :class:`~collective_qc.core.errors.InputError` naming the key,
before anything is computed or written.

Points are addressed by their content
-------------------------------------
A point's id is its label (``N4``, ``base``) and a digest of its definition (model, role,
parameters with the size, drive, every [run] option) and its seed,
``SeedSequence([study seed, crc32(canonical JSON of the definition)])``. Its trajectories depend
only on the study seed and the point itself, not on execution order or workers. A rerun with
more or fewer ``sizes`` or another ``[plots]`` section reuses every finished point and computes
only the new ones; a change of model, drive, seed, [params] or [run] is another study (refused
in the same directory unless ``--force``).

Output directory
----------------
``study.json`` (manifest: config, versions, point ids and seeds, and every file the store wrote),
``points/<id>.json`` + ``points/<id>.npz`` (one finished point, both checksummed: the record's
scalars, metadata and the .npz checksum are covered by the record's own SHA-256), written
atomically by the main process as each point finishes; ``table.csv`` (one row per point, canonical
order: swept values, n_sites, per-site figures, Gamma ratios and standard errors where present,
method, units, seed), ``timings.csv`` (wall time per point, kept out of table.csv so that the
table is a pure function of the config), ``timeseries.h5`` (one group per point) and
``plots/*.png``.

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
