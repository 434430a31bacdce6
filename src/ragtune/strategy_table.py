"""What each strategy is, registered once beside its factory: whether it retrieves, needs an
adapter or runs a generator, its family and complexity for the advisor, its cost for the
worker pool, its adapter-less twin for routing and the adapter the pilot trains for it.

Every reader (compare, the pilot, routing, the service, the advisor and the report) asks
this table, so a new strategy is one :func:`define` call (the built-ins are defined in
:mod:`ragtune.builtin_strategies`, which importing registers). A run labels a strategy
that runs an adapter ``name:adapter`` (:func:`label`, :func:`parse_label`). Example::

    define(StrategyInfo("toy", retrieves=True, family="RAG", complexity=1.5), make_toy)
    info("ft+rag:pilot-knowledge").needs_adapter    # True
    parse_label("ft+rag:pilot-knowledge")           # ("ft+rag", "pilot-knowledge")
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ragtune.registry import strategies as factories

# The advisor's names for a strategy's kind: what the user is told to build.
FAMILIES = ("prompting only", "RAG", "fine-tuning", "hybrid")


@dataclass(frozen=True)
class StrategyInfo:
    name: str
    retrieves: bool  # answers from retrieved passages (cites; fresh after a re-index)
    family: str  # one of FAMILIES
    complexity: float  # simpler first: without a measured difference the simpler one wins
    needs_adapter: bool = False
    generator: bool = True  # False: answers without a model (takes no adapter)
    choice: str = ""  # what the advisor recommends it as ("" = the family)
    cost: float = 2.0  # relative CPU per answer: the worker pool starts costly jobs first
    without_adapter: str | None = None  # routing: what it becomes when no adapter is routed
    with_adapter: str | None = None  # routing: what it becomes when an adapter is routed
    # the kind of adapter it runs: "knowledge" (QA-trained) or "raft" (RAFT-trained); compare
    # gives it adapters of that kind and the pilot trains one
    adapter_kind: str | None = None
    default: bool = True  # in compare's and the pilot's default set

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"strategy {self.name!r}: family must be one of {FAMILIES}")

    @property
    def recommended_as(self) -> str:
        return self.choice or self.family


_TABLE: dict[str, StrategyInfo] = {}


def define(info: StrategyInfo, factory: Callable[..., Any]) -> StrategyInfo:
    """Register a strategy: its facts here, its factory ``(project, make_generator) ->
    AnswerSystem`` in :data:`ragtune.registry.strategies`."""
    if info.name in _TABLE:
        raise ValueError(f"strategy {info.name!r} is already defined")
    factories.register(info.name)(factory)
    _TABLE[info.name] = info
    return info


def remove(name: str) -> None:
    """Forget a defined strategy, facts and factory (a plugin unloaded, or a test's toy)."""
    _TABLE.pop(name, None)
    factories.unregister(name)


def info(name_or_label: str) -> StrategyInfo | None:
    """The facts of a strategy, by name or run label (None for an unknown one)."""
    return _TABLE.get(parse_label(name_or_label)[0])


def names(*, default_only: bool = False) -> tuple[str, ...]:
    """The defined strategies in definition order (the built-ins' order is the reports')."""
    return tuple(n for n, i in _TABLE.items() if i.default or not default_only)


def generative(name_or_label: str) -> bool:
    """Whether a strategy runs a model (an unknown one is assumed to)."""
    known = info(name_or_label)
    return known is None or known.generator


def needing_adapter() -> tuple[str, ...]:
    return tuple(n for n, i in _TABLE.items() if i.needs_adapter)


def label(name: str, adapter: str | None) -> str:
    """A run's label for a strategy: ``name``, or ``name:adapter`` when it runs one."""
    return f"{name}:{adapter}" if adapter else name


def parse_label(text: str) -> tuple[str, str | None]:
    """(strategy, adapter or None) of a run label or a service model id."""
    name, _, adapter = text.partition(":")
    return name, adapter or None
