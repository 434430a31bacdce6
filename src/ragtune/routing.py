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

Routing is also a strategy, ``routed`` (:class:`RoutedSystem`), built by
``project.answer_system("routed")`` like every other: compare and the pilot measure it
(routed on document metadata: a batch of questions has no request fields), and the service
serves it (``"model": "routed"``, the request's ``route`` fields)::

    system = project.answer_system("routed")
    system.answer("How many vacation days?", request={"department": "hr"}).adapter
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import ragtune.strategy_table as strategy_table
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


class RoutedSystem:
    """The ``routed`` strategy: rag whose adapter is chosen per question by the router; an
    answer system like the others (``answer``, ``answer_many``, ``options``, ``thresholds``)."""

    strategy = "routed"

    def __init__(self, router: Router, base: str = "rag") -> None:
        from ragtune.generate.base import GenerationOptions

        self.router, self.base = router, base
        self.options = GenerationOptions.from_settings(router.project.settings)
        self.thresholds: Mapping[str, float] = {}
        self.adapter = ""
        self.retriever = router.project.retriever  # it retrieves: compare records that
        self.generator = None  # each routed system has its own (set_threads is not needed)
        self._systems: dict[str, AnswerSystem] = {}

    def system(self, route: Route) -> AnswerSystem:
        """The system that answers for ``route`` (built once per adapter)."""
        if route.adapter not in self._systems:
            self._systems[route.adapter] = self.router.system(route, self.base)
        system = self._systems[route.adapter]
        system.options, system.thresholds = self.options, self.thresholds
        return system

    def answer(
        self,
        question: str,
        *,
        request: Mapping[str, Any] | None = None,
        k: int | None = None,
        filters: str | Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
        on_token: Callable[[str], None] | None = None,
        ground: bool | None = None,
    ) -> Answer:
        route = self.router.resolve(request or None, question, filters=filters, groups=groups)
        return self.system(route).answer(
            question, k=k, filters=filters, groups=groups, on_token=on_token, ground=ground
        )

    def answer_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        filters: str | Iterable[str] | None = None,
        groups: Iterable[str] | None = None,
    ) -> list[Answer]:
        """Answers for many questions, each batch of one adapter generated together."""
        if self.router.enabled and self.router.settings.field:
            raise UsageError(
                f"routing.field = {self.router.settings.field!r} routes on a request field, "
                "and a batch of questions has none",
                "measure the routed strategy with routing.metadata_key (document metadata)",
            )
        routes = [self.router.resolve(None, q, filters=filters, groups=groups) for q in questions]
        out: list[Answer | None] = [None] * len(questions)
        for adapter in dict.fromkeys(r.adapter for r in routes):
            picked = [i for i, r in enumerate(routes) if r.adapter == adapter]
            system = self.system(routes[picked[0]])
            answers = system.answer_many(
                [questions[i] for i in picked], k=k, filters=filters, groups=groups
            )
            for i, answer in zip(picked, answers, strict=True):
                out[i] = answer
        return [a for a in out if a is not None]
