"""One small error hierarchy. Messages say what went wrong *and* how to fix it.

The CLI prints ``str(error)`` on one line without a traceback; the service (later) maps
the subclasses to HTTP status codes in one place.
"""

from __future__ import annotations


class RagtuneError(Exception):
    """Base class: an expected failure with a message meant for the user."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        self.message = message
        self.hint = hint
        super().__init__(message if hint is None else f"{message} ({hint})")


class ConfigError(RagtuneError):
    """Invalid settings or an impossible combination of options."""

    exit_code = 2


class UsageError(RagtuneError):
    """Bad user input: unknown mode, malformed filter, unknown field."""

    exit_code = 2


class ProjectNotFoundError(RagtuneError):
    """No ragtune project (``ragtune.toml`` / ``.ragtune/``) where one was expected."""


class NotFoundError(RagtuneError):
    """A named thing (document, chunk, component) does not exist."""


class LoadError(RagtuneError):
    """A file could not be turned into text; one per file, reported, never fatal to a run."""


class ModelUnavailableError(RagtuneError):
    """A packaged model is missing; the hint says which package provides it."""


class GenerationError(RagtuneError):
    """A generator backend failed (server unreachable, model rejected the request, ...)."""
