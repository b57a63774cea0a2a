"""The package version (one declaration; pyproject.toml carries the same string for installers)."""

__version__ = "0.1.0"
