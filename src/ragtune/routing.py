"""Routing: several departments share one knowledge base and one base model, and each
request is answered by its department's adapter.

The ``[routing]`` section of ``ragtune.toml`` says where the route value comes from, either
a request field (``field``, e.g. ``ragtune ask --route department=hr``) or the metadata of
the top retrieved chunk's document (``metadata_key``), and which adapter each value picks::

    [routing]
    field = "department"
    default = ""                # unknown values: no adapter (plain rag), with a warning
    [routing.routes]
    hr = "hr-lora"
    engineering = "eng-lora"

LoRA adapters all run on the one shared base model (``project.adapter_generator``) and are
switched per request. A value without a route falls back to ``default`` and logs a warning.
Example::

    router = Router(project)
    route, answer = router.answer("How many vacation days?", {"department": "hr"})
    route.adapter, answer.adapter, answer.citations
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragtune import strategy_table
from ragtune.errors import ConfigError, UsageError

if TYPE_CHECKING:
    from ragtune.config import RoutingSettings
    from ragtune.project import Project
    from ragtune.strategies import AnswerSystem
    from ragtune.types import Answer

log = logging.getLogger(__name__)

SystemFactory = Callable[[str, str], "AnswerSystem"]  # (strategy, adapter or "") -> system


@dataclass(frozen=True)
class Route:
    """Where a request went: ``adapter`` ('' = none), the key and value it was routed on,
    whether a configured route matched, and ``source`` (request | metadata | off)."""

    adapter: str
    key: str = ""
    value: str | None = None
    matched: bool = False
    source: str = "off"

    def to_dict(self) -> dict[str, Any]:
        return {"adapter": self.adapter, "key": self.key, "value": self.value,
                "matched": self.matched, "source": self.source}  # fmt: skip


def strategy_for(requested: str, adapter: str) -> str:
    """The strategy that runs ``requested`` with (or without) the routed adapter:
    ``rag`` + adapter is ``ft+rag``; ``ft+rag``/``raft+rag`` without one is ``rag``."""
    known = strategy_table.info(requested)
    twin = None if known is None else known.with_adapter if adapter else known.without_adapter
    return twin or requested


class Router:
    """Resolves the adapter for a request and answers through ``project.answer_system``.

    ``systems`` builds an AnswerSystem for (strategy, adapter); the default is
    ``project.answer_system``. ``check`` refuses routes to adapters that are not registered.
    """

    def __init__(
        self,
        project: Project,
        settings: RoutingSettings | None = None,
        *,
        systems: SystemFactory | None = None,
        check: bool = True,
    ) -> None:
        self.project = project
        self.settings = settings if settings is not None else project.settings.routing
        self._systems = systems or self._project_system
        if check:
            self.check_adapters()

    @property
    def enabled(self) -> bool:
        """True when the config has routes."""
        return bool(self.settings.routes)

    @property
    def key(self) -> str:
        return self.settings.field or self.settings.metadata_key

    def check_adapters(self) -> None:
        """Raise :class:`ConfigError` naming the setting that routes to a missing adapter."""
        from ragtune.finetune.adapters import META_FILE, adapter_dir

        named = [(f"routing.routes.{v}", a) for v, a in self.settings.routes.items()]
        named += [("routing.default", self.settings.default)] if self.settings.default else []
        for where, adapter in named:
            if not (adapter_dir(self.project, adapter) / META_FILE).is_file():
                raise ConfigError(
                    f"{where} names adapter {adapter!r}, which is not registered",
                    "see `ragtune adapters list`, or train it with `ragtune tune --name "
                    f"{adapter}`",
                )

    def resolve(
        self,
        request: Mapping[str, Any] | None = None,
        question: str | None = None,
        *,
        filters: str | Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
    ) -> Route:
        """The route for a request: its ``field`` value, or the ``metadata_key`` value of the
        top chunk retrieved for ``question`` (with the same filters and groups)."""
        s = self.settings
        if not self.enabled:
            return Route(s.default)
        if s.field:
            source, value = "request", (request or {}).get(s.field)
        else:
            if request:
                raise UsageError(
                    f"routing uses document metadata ({s.metadata_key}), not request fields "
                    f"({', '.join(sorted(request))})",
                    "drop --route, or set routing.field in ragtune.toml",
                )
            if not question or not question.strip():
                raise UsageError("the question is empty")
            hits = self.project.search(question, k=1, filters=filters, groups=groups)
            source, value = "metadata", hits[0].metadata.get(s.metadata_key) if hits else None
        text = None if value is None else str(value)
        if text is not None and text in s.routes:
            return Route(s.routes[text], self.key, text, True, source)
        log.warning(
            "routing: no route for %s=%r; using the default adapter %s",
            self.key, text, repr(s.default) if s.default else "(none: plain rag)",
        )  # fmt: skip
        return Route(s.default, self.key, text, False, source)

    def system(self, route: Route, strategy: str = "rag") -> AnswerSystem:
        """The AnswerSystem for ``strategy`` run with the route's adapter."""
        return self._systems(strategy_for(strategy, route.adapter), route.adapter)

    def answer(
        self,
        question: str,
        request: Mapping[str, Any] | None = None,
        *,
        strategy: str = "rag",
        k: int | None = None,
        filters: str | Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        on_token: Callable[[str], None] | None = None,
        options: Mapping[str, Any] | None = None,
    ) -> tuple[Route, Answer]:
        """Route the request, then answer it; returns the route and the answer."""
        route = self.resolve(request, question, filters=filters, groups=groups)
        system = self.system(route, strategy)
        system.options = system.options.merged(options)
        answer = system.answer(question, k=k, filters=filters, groups=groups, on_token=on_token)
        return route, answer

    def _project_system(self, strategy: str, adapter: str) -> AnswerSystem:
        return self.project.answer_system(strategy, adapter=adapter or None)
