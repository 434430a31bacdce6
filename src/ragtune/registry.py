"""Name -> factory registries. Built-ins register the same way plugins would.

Example::

    from ragtune.registry import embedders
    @embedders.register("my-embedder")
    def _make(settings): ...
    embedder = embedders.create("my-embedder", settings)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from ragtune.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A named set of factories; an unknown name raises with the valid choices."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._factories: dict[str, Callable[..., T]] = {}

    def register(self, name: str) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def decorator(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._factories:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._factories[name] = factory
            return factory

        return decorator

    def unregister(self, name: str) -> None:
        """Forget ``name`` (a plugin unloaded, or a test's own entry)."""
        self._factories.pop(name, None)

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(self, name: str, *args: Any, **kwargs: Any) -> T:
        try:
            factory = self._factories[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}"
            ) from None
        return factory(*args, **kwargs)

    def __contains__(self, name: object) -> bool:
        return name in self._factories


# The registries themselves; the modules that implement backends fill them on import.
embedders: Registry[Any] = Registry("embedder")
rerankers: Registry[Any] = Registry("reranker")
stores: Registry[Any] = Registry("store")
generators: Registry[Any] = Registry("generator backend")
strategies: Registry[Any] = Registry("strategy")
