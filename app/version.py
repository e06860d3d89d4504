"""Ponder's version, read from the installed package metadata (pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("ponder")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+source"
