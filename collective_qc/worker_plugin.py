"""The Dask worker plug-in that brings model plug-in files to the workers (imports distributed;
imported only by :func:`collective_qc.parallel.ship_plugins`)."""

from __future__ import annotations

from distributed import WorkerPlugin

__all__ = ["PluginShipper"]


class PluginShipper(WorkerPlugin):
    """Loads the model plug-in files of the submitting process on every worker, from their source
    text (:func:`collective_qc.physics.registry.load_plugin_source`), also on workers that join later.

    Parameters
    ----------
    sources : dict
        Real path of each plug-in file -> its source text (``registry.PLUGIN_SOURCES``).
    """

    name = "collective_qc-plugins"

    def __init__(self, sources: dict):
        self.sources = dict(sources)

    def setup(self, worker=None):
        from .physics.registry import load_plugin_source

        for real, source in self.sources.items():
            load_plugin_source(real, source)
