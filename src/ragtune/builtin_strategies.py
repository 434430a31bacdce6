"""The built-in strategies, each defined once: its factory and its facts
(:class:`~ragtune.strategy_table.StrategyInfo`). Importing this module defines them; the
project (``builtin_backends``), compare, the pilot and the advisor import it."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ragtune.generate.base import GenerationOptions, Generator
from ragtune.generate.prompts import PromptBuilder
from ragtune.strategies import AnswerSystem, ExtractiveSystem, GeneratorFactory
from ragtune.strategy_table import StrategyInfo, define

if TYPE_CHECKING:
    from ragtune.project import Project


def _builder(project: Project, generator: Generator) -> PromptBuilder:
    s = project.settings
    return PromptBuilder(
        generator.count_tokens, generator.context_window, s.generator.max_new_tokens,
        s.prompt.system, s.prompt.base_system, s.prompt.context_tokens,
    )  # fmt: skip


def _abstention_parts(project: Project, *, always_score: bool = False) -> dict[str, Any]:
    """Evidence scorer + threshold; no scoring at all (it embeds every retrieved sentence)
    when abstention is off, unless the strategy needs the scores itself (extract)."""
    from ragtune.retrieval.answerability import resolve_threshold
    from ragtune.retrieval.evidence import EvidenceScorer

    a = project.settings.abstention
    if not a.enabled and not always_score:
        return {}
    evidence = EvidenceScorer(project.embedder, project.store, a.cosine_weight)
    threshold = resolve_threshold(a.threshold, project.state_dir)[0] if a.enabled else None
    return {"evidence": evidence, "threshold": threshold}


def _options(project: Project) -> GenerationOptions:
    return GenerationOptions.from_settings(project.settings)


def _generative(
    name: str, project: Project, make: GeneratorFactory, retrieval: bool
) -> AnswerSystem:
    generator = make()
    builder = _builder(project, generator)
    if not retrieval:
        return AnswerSystem(name, generator, builder, _options(project))
    return AnswerSystem(
        name, generator, builder, _options(project), project.retriever,
        k=project.settings.retrieval.k, **_abstention_parts(project),
    )  # fmt: skip


def _extract(project: Project, make: GeneratorFactory) -> AnswerSystem:
    return ExtractiveSystem(
        "extract", None, None, _options(project), project.retriever,
        k=project.settings.retrieval.k, **_abstention_parts(project, always_score=True),
    )  # fmt: skip


def _define(info: StrategyInfo) -> None:
    define(info, partial(_generative, info.name, retrieval=info.retrieves))


# In the reports' order. base and ft answer without retrieval (ft: the generator carries the
# adapter); rag, ft+rag and raft+rag share the rag prompt (RAFT trains on this very prompt);
# extract quotes a retrieved sentence and runs no model. Costs: CPU seconds per question (1
# thread, the sample pilot: 32 new tokens, k=2), so the worker pool starts the longest first.
_define(StrategyInfo("base", False, "prompting only", 0, cost=1.4, with_adapter="ft"))
_define(StrategyInfo("rag", True, "RAG", 2, cost=2.9, with_adapter="ft+rag"))
define(StrategyInfo("extract", True, "RAG", 1, generator=False, cost=0.3), _extract)
_define(StrategyInfo("ft", False, "fine-tuning", 3, needs_adapter=True, cost=1.1,
                     without_adapter="base", adapter_kind="knowledge"))  # fmt: skip
_define(StrategyInfo("ft+rag", True, "hybrid", 4, needs_adapter=True, cost=3.0,
                     choice="hybrid: adapter + RAG", without_adapter="rag",
                     adapter_kind="knowledge"))  # fmt: skip


def _routed(project: Project, make: GeneratorFactory) -> Any:
    from ragtune.routing import RoutedSystem, Router

    return RoutedSystem(Router(project))


_define(StrategyInfo("raft+rag", True, "hybrid", 5, needs_adapter=True, cost=2.9,
                     choice="hybrid: RAFT + RAG", without_adapter="rag",
                     adapter_kind="raft"))  # fmt: skip
# Not in the default set: it needs [routing] in ragtune.toml (without routes it is rag).
define(StrategyInfo("routed", True, "hybrid", 4.5, choice="hybrid: routed adapters + RAG",
                    cost=3.0, default=False), _routed)  # fmt: skip
