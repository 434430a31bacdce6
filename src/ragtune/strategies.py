"""Strategy name -> AnswerSystem: retrieve -> rerank -> prompt -> generate -> cite.

This is the one composition path. The CLI, the service and the pilots all answer through
:class:`AnswerSystem`, so a prompt or citation fix lands everywhere at once.

Example::

    system = project.answer_system("rag")
    answer = system.answer("How many vacation days do new hires get?")
    print(answer.text, [c.doc_id for c in answer.citations])
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from ragtune.generate.base import Generation, GenerationOptions, Generator
from ragtune.generate.citations import infer_citations, parse_citations
from ragtune.generate.prompts import CANNOT_ANSWER, Prompt, PromptBuilder
from ragtune.registry import strategies
from ragtune.types import Answer

if TYPE_CHECKING:
    from ragtune.project import Project
    from ragtune.retrieval.hybrid import Retriever


class AnswerSystem:
    """Answers questions with one strategy; ``retriever=None`` means no retrieval (base)."""

    def __init__(
        self,
        strategy: str,
        generator: Generator,
        builder: PromptBuilder,
        options: GenerationOptions,
        retriever: Retriever | None = None,
        k: int = 5,
        adapter: str = "",
    ) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        self.strategy = strategy
        self.generator = generator
        self.builder = builder
        self.options = options
        self.retriever = retriever
        self.k = k
        self.adapter = adapter

    def _prompt(
        self, question: str, k: int | None, filters: Any, groups: Iterable[str] | None
    ) -> tuple[Prompt, dict[str, float]]:
        timings: dict[str, float] = {}
        if self.retriever is None:
            return self.builder.base(question), timings
        self.builder.check_rag(question)  # fail before spending time on retrieval
        started = time.perf_counter()
        hits = self.retriever.search(
            question, k=k or self.k, filters=filters, groups=groups, rerank=False
        )
        timings["retrieve"] = time.perf_counter() - started
        started = time.perf_counter()
        hits = self.retriever.reranker.rerank(question, hits)[: k or self.k]
        timings["rerank"] = time.perf_counter() - started
        started = time.perf_counter()
        prompt = self.builder.rag(question, hits)
        timings["prompt"] = time.perf_counter() - started
        return prompt, timings

    def _finish(
        self, question: str, prompt: Prompt, gen: Generation, timings: dict[str, float]
    ) -> Answer:
        citations, invalid = parse_citations(gen.text, prompt.blocks)
        abstained = CANNOT_ANSWER.rstrip(".").lower() in gen.text.lower()
        if not citations and not abstained and prompt.blocks:
            citations = infer_citations(gen.text, prompt.blocks)
        return Answer(
            question=question, text=gen.text, strategy=self.strategy,
            model=self.generator.model_name, adapter=self.adapter, citations=citations,
            contexts=list(prompt.blocks), invalid_markers=invalid,
            timings={**timings, "generate": gen.seconds}, tokens_in=gen.tokens_in,
            tokens_out=gen.tokens_out, finish_reason=gen.finish_reason, id=uuid.uuid4().hex,
        )  # fmt: skip

    def answer(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Any = None,
        groups: Iterable[str] | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer:
        """One answer; ``on_token`` receives text pieces as they are generated."""
        prompt, timings = self._prompt(question, k, filters, groups)
        if on_token is None:
            gen = self.generator.generate([prompt.messages], self.options)[0]
        else:
            gen = self._streamed(prompt, on_token)
        return self._finish(question, prompt, gen, timings)

    def _streamed(self, prompt: Prompt, on_token: Callable[[str], None]) -> Generation:
        started = time.perf_counter()
        pieces = []
        for piece in self.generator.stream(prompt.messages, self.options):
            pieces.append(piece)
            on_token(piece)
        text = "".join(pieces).strip()
        tokens_in = sum(self.generator.count_tokens(m["content"]) for m in prompt.messages)
        return Generation(
            text, tokens_in, self.generator.count_tokens(text) if text else 0,
            time.perf_counter() - started, "stop",
        )  # fmt: skip

    def answer_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        filters: Any = None,
        groups: Iterable[str] | None = None,
    ) -> list[Answer]:
        """Answers for many questions with batched generation (the pilots' path)."""
        prepared = [self._prompt(q, k, filters, groups) for q in questions]
        gens = self.generator.generate([p.messages for p, _ in prepared], self.options)
        return [
            self._finish(q, p, g, t) for q, (p, t), g in zip(questions, prepared, gens, strict=True)
        ]


def _builder(project: Project, generator: Generator) -> PromptBuilder:
    s = project.settings
    return PromptBuilder(
        generator.count_tokens, generator.context_window, s.generator.max_new_tokens,
        s.prompt.system, s.prompt.base_system, s.prompt.context_tokens,
    )  # fmt: skip


@strategies.register("base")
def _base(project: Project, generator: Generator) -> AnswerSystem:
    options = GenerationOptions.from_settings(project.settings)
    return AnswerSystem("base", generator, _builder(project, generator), options)


@strategies.register("ft")
def _ft(project: Project, generator: Generator) -> AnswerSystem:
    """A fine-tuned adapter alone (no retrieval); the generator carries the adapter."""
    options = GenerationOptions.from_settings(project.settings)
    return AnswerSystem("ft", generator, _builder(project, generator), options)


@strategies.register("rag")
def _rag(project: Project, generator: Generator) -> AnswerSystem:
    options = GenerationOptions.from_settings(project.settings)
    return AnswerSystem(
        "rag", generator, _builder(project, generator), options, project.retriever,
        k=project.settings.retrieval.k,
    )  # fmt: skip
