import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import pytest  # noqa: E402


@pytest.fixture
def no_huge_graph(monkeypatch):
    """networkx.path_graph of more than 1e6 nodes fails the test: a model too large to run must be
    refused by the memory guard's lower bound before its graph is built."""
    import networkx as nx

    real = nx.path_graph

    def built(n, *a, **k):
        if isinstance(n, int) and n > 10**6:
            raise AssertionError("graph built before the size check")
        return real(n, *a, **k)

    monkeypatch.setattr(nx, "path_graph", built)
