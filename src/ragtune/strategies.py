"""Strategy name -> AnswerSystem: retrieve -> rerank -> (abstain?) -> prompt -> generate -> cite.

This is the one composition path. The CLI, the service and the pilots all answer through
:class:`AnswerSystem`, so a prompt or citation fix lands everywhere at once.

Strategies: ``base`` (the model alone), ``rag`` (retrieval + grounded prompt), ``extract``
(retrieval, then the best-supported sentence; no generator), ``ft`` (an adapter alone),
``ft+rag`` (an adapter with the rag prompt) and ``raft+rag`` (a RAFT-trained adapter with the
rag prompt; RAFT trains on exactly this prompt). Retrieval strategies abstain with
:data:`CANNOT_ANSWER` when the evidence score is below the abstention threshold.

Example::

    system = project.answer_system("rag")
    answer = system.answer("How many vacation days do new hires get?")
    print(answer.text, [c.doc_id for c in answer.citations])
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ragtune.errors import UsageError
from ragtune.evaluation.metrics.text import ungrounded
from ragtune.generate.base import Generation, GenerationOptions, Generator
from ragtune.generate.citations import infer_citations, parse_citations
from ragtune.generate.prompts import CANNOT_ANSWER, Prompt, PromptBuilder
from ragtune.retrieval.extract import cloze_span
from ragtune.retrieval.filters import acl_where
from ragtune.text.cloze import find_fill, is_cloze, quoted_text
from ragtune.text.echo import HeldHead, clean_answer, says_nothing
from ragtune.types import Answer, Chunk, Citation, ScoredChunk

if TYPE_CHECKING:
    from ragtune.retrieval.evidence import EvidenceScorer, Sentence
    from ragtune.retrieval.hybrid import Retriever

GeneratorFactory = Callable[[], Generator]
# How deep a cloze question's sentence is looked for when the first search missed it: on
# the Lua 5.2 manual a search by the sentence alone found 16/16 within 10 hits.
QUOTED_DEPTH = 10


@dataclass
class Prepared:
    """One question after retrieval: the prompt (or none), the evidence and the timings."""

    question: str
    hits: list[ScoredChunk] = field(default_factory=list)
    prompt: Prompt | None = None
    timings: dict[str, float] = field(default_factory=dict)
    support: float | None = None
    sentences: list[Sentence] = field(default_factory=list)
    abstain: bool = False
    # A fill-in-the-blank question whose sentence is in the evidence: answered with the fill,
    # without the model (see ragtune.text.cloze).
    quoted: bool = False


class AnswerSystem:
    """Answers questions with one strategy; ``retriever=None`` means no retrieval (base).

    ``evidence`` + ``threshold`` turn on abstention: when the best retrieved sentence scores
    below ``threshold`` the answer is :data:`CANNOT_ANSWER`, without calling the model.
    ``thresholds`` (question -> threshold) overrides it per question: a pilot's cross-fitted
    calibration (:func:`ragtune.retrieval.answerability.crossfit`) sets it.
    """

    def __init__(
        self,
        strategy: str,
        generator: Generator | None,
        builder: PromptBuilder | None,
        options: GenerationOptions,
        retriever: Retriever | None = None,
        k: int = 5,
        adapter: str = "",
        evidence: EvidenceScorer | None = None,
        threshold: float | None = None,
    ) -> None:
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if threshold is not None and evidence is None:
            raise ValueError("a threshold needs an evidence scorer")
        self.strategy = strategy
        self.generator = generator
        self.builder = builder
        self.options = options
        self.retriever = retriever
        self.k = k
        self.adapter = adapter
        self.evidence = evidence
        self.threshold = threshold
        self.thresholds: Mapping[str, float] = {}

    @property
    def model_name(self) -> str:
        return self.generator.model_name if self.generator is not None else ""

    def _check(self, question: str) -> None:
        if not question or not question.strip():
            raise UsageError("the question is empty")
        if self.builder is not None and self.retriever is not None:
            self.builder.check_rag(question)  # fail before spending time on retrieval

    def prepare(
        self, question: str, k: int | None, filters: Any, groups: Iterable[str] | None
    ) -> Prepared:
        """Retrieve, score the evidence and build the prompt; no generation yet."""
        self._check(question)
        p = Prepared(question)
        if self.retriever is None:
            assert self.builder is not None
            p.prompt = self.builder.base(question)
            return p
        started = time.perf_counter()
        hits = self.retriever.search(
            question, k=k or self.k, filters=filters, groups=groups, rerank=False
        )
        p.timings["retrieve"] = time.perf_counter() - started
        started = time.perf_counter()
        p.hits = self.retriever.reranker.rerank(question, hits)[: k or self.k]
        p.timings["rerank"] = time.perf_counter() - started
        cloze = is_cloze(question)
        if self.evidence is not None and cloze:
            p.hits = self._with_quoted(question, p.hits, filters, groups)
        if self.evidence is not None:
            started = time.perf_counter()
            p.sentences = self.evidence.rank(question, p.hits, acl_where(groups))
            p.support = p.sentences[0].score if p.sentences else 0.0
            p.quoted = cloze and cloze_span(question, p.sentences) is not None
            if self.threshold is not None and not p.quoted:
                # A passage that holds the very sentence a cloze quotes answers it, however
                # its words score against the question's (a blank takes the rare word away).
                p.abstain = p.support < self.thresholds.get(question, self.threshold)
            p.timings["evidence"] = time.perf_counter() - started
        if self.builder is not None and not p.abstain and not p.quoted:
            started = time.perf_counter()
            p.prompt = self.builder.rag(question, p.hits, self._focus(p))
            p.timings["prompt"] = time.perf_counter() - started
        return p

    def _with_quoted(
        self, question: str, hits: list[ScoredChunk], filters: Any, groups: Iterable[str] | None
    ) -> list[ScoredChunk]:
        """``hits`` with the passage that holds the sentence a cloze question quotes, when
        the search missed it: searched for by the sentence alone, deeper (the blank's
        answer is then read from it, not guessed). It takes the last place."""
        assert self.retriever is not None
        if any(find_fill(question, h.chunk.text) for h in hits):
            return hits
        deeper = self.retriever.search(
            quoted_text(question), k=max(QUOTED_DEPTH, 2 * len(hits)), filters=filters,
            groups=groups, rerank=False,
        )  # fmt: skip
        found = next((h for h in deeper if find_fill(question, h.chunk.text)), None)
        if found is None or any(h.chunk.id == found.chunk.id for h in hits):
            return hits
        return [*hits[:-1], found] if hits else [found]

    def _focus(self, p: Prepared) -> dict[str, int]:
        """Where the best evidence's block starts: at the heading its answer sits under
        (FAQ pages put several entries in one chunk; a small model answers the first)."""
        from ragtune.retrieval.extract import choose, section_start

        span = choose(p.question, p.sentences) if p.sentences else None
        if span is None:
            return {}
        return {span.chunk.id: section_start(span.chunk, span.start)}

    def _answer(self, p: Prepared, text: str, **fields: Any) -> Answer:
        values: dict[str, Any] = {
            "contexts": list(p.prompt.blocks) if p.prompt else list(p.hits),
            "timings": dict(p.timings),
        }
        values.update(fields)
        return Answer(
            question=p.question, text=text, strategy=self.strategy, model=self.model_name,
            adapter=self.adapter, support=p.support, id=uuid.uuid4().hex, **values,
        )  # fmt: skip

    def _abstention(self, p: Prepared) -> Answer:
        return self._answer(p, CANNOT_ANSWER, abstained=True, finish_reason="abstained")

    def _finish(self, p: Prepared, gen: Generation, ground: bool = True) -> Answer:
        assert p.prompt is not None
        blocks = p.prompt.blocks
        text = clean_answer(p.question, gen.text, p.prompt.labels)
        abstained = CANNOT_ANSWER.rstrip(".").lower() in text.lower()
        usage = {
            "timings": {**p.timings, "generate": gen.seconds}, "tokens_in": gen.tokens_in,
            "tokens_out": gen.tokens_out,
        }  # fmt: skip
        if not abstained and says_nothing(p.question, text, p.prompt.labels):
            # A bare label, a restated question or a preamble: the retrieved span that best
            # supports an answer is worth more, and finish_reason says it was used.
            fallback = self._span_answer(p, "fallback", replaced=text, **usage)
            if fallback is not None:
                return fallback
            # Nothing to fall back on (no retrieval, or no span): the model gave no answer,
            # and saying so is honest; it counts as an abstention, false when answerable.
            return self._answer(p, CANNOT_ANSWER, abstained=True, finish_reason="no_answer",
                                **usage)  # fmt: skip
        if ground and not abstained and blocks and ungrounded(text, p.prompt.texts):
            # The passages do not hold it or say the opposite ("does not provide bitwise
            # operations" over "This library provides bitwise operations."): a small model
            # wrote from its own memory. The best supported span answers instead.
            fallback = self._span_answer(p, "ungrounded", replaced=text, **usage)
            if fallback is not None:
                return fallback
        citations, invalid = parse_citations(text, blocks)
        if not citations and not abstained and blocks:
            citations = infer_citations(text, blocks)
        return self._answer(
            p, text, citations=citations, invalid_markers=invalid, abstained=abstained,
            finish_reason=gen.finish_reason, **usage,
        )  # fmt: skip

    def _next_chunk(self, chunk: Chunk) -> Chunk | None:
        assert self.retriever is not None
        chunks = self.retriever.store.chunks_of(chunk.doc_id)
        return next((c for c in chunks if c.ordinal == chunk.ordinal + 1), None)

    def _span_answer(self, p: Prepared, reason: str, **fields: Any) -> Answer | None:
        """The best evidence span as a cited answer (:mod:`ragtune.retrieval.extract`);
        None when the evidence holds no span that is not the question again."""
        from ragtune.retrieval.extract import choose

        span = choose(p.question, p.sentences, self._next_chunk) if p.sentences else None
        if span is None:
            return None
        marker = next(n for n, hit in enumerate(p.hits, 1) if hit is span.hit)
        citation = Citation(
            marker=marker, chunk_id=span.chunk.id, doc_id=span.chunk.doc_id,
            title=span.hit.title, section=span.chunk.section, start=span.start, end=span.end,
            quote=span.quote,
        )  # fmt: skip
        text = f"{span.text} [{marker}]"
        return self._answer(p, text, citations=[citation], finish_reason=reason, **fields)

    def _shortcut(self, p: Prepared) -> Answer | None:
        """The answer given without the model: an abstention, or a quoted sentence's fill."""
        if p.abstain:
            return self._abstention(p)
        return self._span_answer(p, "quoted") if p.quoted else None

    def respond(self, prepared: Sequence[Prepared]) -> list[Answer]:
        """Answers for prepared questions: abstentions and fills, then one batched
        generation."""
        out = [self._shortcut(p) for p in prepared]
        todo = [i for i, a in enumerate(out) if a is None]
        if todo:
            assert self.generator is not None
            messages = [prepared[i].prompt.messages for i in todo]  # type: ignore[union-attr]
            for i, gen in zip(todo, self.generator.generate(messages, self.options), strict=True):
                out[i] = self._finish(prepared[i], gen)
        return [a for a in out if a is not None]

    def answer(
        self,
        question: str,
        *,
        k: int | None = None,
        filters: Any = None,
        groups: Iterable[str] | None = None,
        on_token: Callable[[str], None] | None = None,
        ground: bool | None = None,
    ) -> Answer:
        """One answer; ``on_token`` receives text pieces as they are generated. ``ground``:
        replace an answer the passages do not hold by the evidence span; by default only
        when nothing was streamed (streamed tokens cannot be taken back)."""
        ground = on_token is None if ground is None else ground
        p = self.prepare(question, k, filters, groups)
        if on_token is None or p.abstain or p.quoted or self.generator is None:
            answer = self.respond([p])[0]
            if on_token is not None:
                on_token(answer.text)
            return answer
        assert p.prompt is not None
        held = HeldHead(question, p.prompt.labels, on_token)
        answer = self._finish(p, self._streamed(p, held), ground)
        held.finish(answer.text)
        return answer

    def _streamed(self, p: Prepared, on_token: Callable[[str], None]) -> Generation:
        assert self.generator is not None and p.prompt is not None
        started = time.perf_counter()
        pieces = []
        stream = self.generator.stream(p.prompt.messages, self.options)
        try:
            for piece in stream:
                pieces.append(piece)
                on_token(piece)  # raises to stop (a timeout, a client that went away)
        finally:
            # Close it now, not whenever the traceback holding it is freed: closing is what
            # stops a backend's decoding (transformers' thread, llama.cpp, the HTTP stream).
            close = getattr(stream, "close", None)
            if close is not None:
                close()
        text = "".join(pieces).strip()
        count = self.generator.count_tokens
        tokens_in = sum(count(m["content"]) for m in p.prompt.messages)
        return Generation(
            text, tokens_in, count(text) if text else 0, time.perf_counter() - started, "stop"
        )

    def answer_many(
        self,
        questions: Sequence[str],
        *,
        k: int | None = None,
        filters: Any = None,
        groups: Iterable[str] | None = None,
    ) -> list[Answer]:
        """Answers for many questions with batched generation (the pilots' path)."""
        return self.respond([self.prepare(q, k, filters, groups) for q in questions])


class ExtractiveSystem(AnswerSystem):
    """``extract``: the best-supported retrieved span is the answer, cited; no model. A
    heading or a sentence that restates the question is never the answer: the text beneath
    it is (see :mod:`ragtune.retrieval.extract`)."""

    def respond(self, prepared: Sequence[Prepared]) -> list[Answer]:
        return [
            self._abstention(p)
            if p.abstain
            else self._span_answer(p, "extracted") or self._abstention(p)
            for p in prepared
        ]
