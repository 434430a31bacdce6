"""The package version, in a module of its own so that anything can read it without
importing the package (whose ``__init__`` builds the whole public API)."""

__version__ = "0.1.0"
