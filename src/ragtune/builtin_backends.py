"""The built-in backends: importing their modules registers them by name (see
:mod:`ragtune.registry`). Kept apart from the registry, which the backends import, and from
:class:`~ragtune.project.Project`, so that a worker can load them without a project."""

from __future__ import annotations


def load_builtins() -> None:
    """Import the modules whose backends register themselves (cheap: no torch here)."""
    # Imported for what they register; nothing here is used by name.
    import ragtune.builtin_strategies
    import ragtune.embed.base
    import ragtune.embed.sentence_transformers
    import ragtune.generate.llamacpp
    import ragtune.generate.openai_compat
    import ragtune.generate.transformers_local
    import ragtune.retrieval.rerank
    import ragtune.store.sqlite  # noqa: F401
