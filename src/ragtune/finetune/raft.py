"""RAFT training data: a question, its oracle chunk and hard-negative distractors -> a cited
answer, or the abstention when the oracle is left out (``ragtune data build --raft``).

The dataset starts from the plain QA dataset built with the same options and seed (the same
facts, questions and train/validation/test split, so comparisons between a RAFT adapter and a
plain one are fair). Each QA example becomes a RAFT example:

- **distractors**: the top ``k`` chunks the project's retriever returns for the question,
  skipping the oracle chunk and any chunk that also supports the answer (overlapping chunks,
  a FAQ restating the fact: they are not negatives). Chunks of the oracle's own document are
  kept on purpose: they are the hardest negatives, and the retriever shows them at serve time
  too. Training examples never draw distractors from held-out test documents nor, unless
  ``include_restricted``, from documents restricted to groups.
- **oracle left out** in ``p_missing`` of the examples of each split (exactly that share,
  seeded); the target is then :data:`CANNOT_ANSWER`.
- **prompt**: oracle + distractors, shuffled with a seeded RNG, rendered by the very
  :meth:`PromptBuilder.rag` the ``rag`` strategy uses, so training and serving prompts match.
- **target**: the oracle sentence with its ``[n]`` marker before the final stop, e.g.
  ``Up to 5 days of unused leave may be carried over [2].``

Example::

    from ragtune.finetune.raft import build_raft_dataset
    card, raft = build_raft_dataset(project, name="raft", seed=0, k=4, p_missing=0.1)
    raft["oracle_missing"]     # {"train": ..., "validation": ..., "test": ...}
"""

from __future__ import annotations

import json
import random
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ragtune.errors import RagtuneError, UsageError
from ragtune.finetune.config import DEFAULT_P_MISSING
from ragtune.finetune.data import (
    SPLITS,
    DatasetCard,
    _check_options,
    _write,
    build_dataset,
    check_leakage,
    dataset_dir,
    load_split,
)
from ragtune.finetune.imports import supported
from ragtune.finetune.rows import TrainingRow, make_row
from ragtune.generate.prompts import CANNOT_ANSWER, Prompt, PromptBuilder
from ragtune.text.words import normalise
from ragtune.types import Chunk, ScoredChunk, content_hash

if TYPE_CHECKING:
    import numpy as np

    from ragtune.embed.base import Embedder
    from ragtune.project import Project
    from ragtune.retrieval.hybrid import Retriever

MAX_K = 20
RAFT_METHOD = (
    "Each QA example of the plain dataset (same options and seed, same split) becomes: the "
    "question, its oracle chunk and k distractors retrieved for the question (the oracle and "
    "chunks that also support the answer skipped; same-document chunks kept as hard "
    "negatives; training examples never see held-out or, unless included, restricted "
    "documents), shuffled (seeded) and rendered by the rag strategy's PromptBuilder. In "
    "p_missing of each split the oracle is left out and the target is the abstention; "
    "otherwise the target is the oracle sentence with its [n] marker."
)


def check_raft_options(k: int, p_missing: float) -> None:
    """Refuse impossible RAFT settings with the bad value in the message."""
    if not 1 <= k <= MAX_K:
        raise UsageError(f"--raft-k must be between 1 and {MAX_K}, got {k}")
    if not 0.0 <= p_missing <= 1.0:
        raise UsageError(f"--raft-p-missing must be in [0, 1], got {p_missing}")


def cite(answer: str, marker: int) -> str:
    """``answer`` with `` [marker]`` before its final stop: ``"25 days [1]."``; the marker
    sits inside the sentence so citation parsing attributes that sentence to the passage."""
    m = re.fullmatch(r"(.*?)\s*([.!?;:]*)", answer.strip(), re.DOTALL)
    body, stop = (m.group(1), m.group(2)) if m else (answer.strip(), "")
    end = stop[-1] if stop and stop[-1] in ".!?" else "."
    return f"{body} [{marker}]{end}"


def build_raft_dataset(
    project: Project,
    *,
    name: str = "raft",
    seed: int = 0,
    k: int | None = None,
    p_missing: float = DEFAULT_P_MISSING,
    builder: PromptBuilder | None = None,
    force: bool = False,
    include_restricted: bool = False,
    **build_options: Any,
) -> tuple[DatasetCard, dict[str, Any]]:
    """Build RAFT dataset ``name``; returns its card and the ``raft`` record of card.json.

    ``k`` (distractors) defaults to ``retrieval.k - 1``, so a training prompt holds as many
    passages as a served one. ``builder`` defaults to the ``rag`` strategy's (tests pass one
    over a fake tokenizer). ``build_options`` go to :func:`build_dataset` unchanged.
    """
    k = max(1, project.settings.retrieval.k - 1) if k is None else k
    check_raft_options(k, p_missing)
    _check_options(name, build_options.get("phrasings", 3),
                   build_options.get("heldout_docs", 0.15),
                   build_options.get("split", (0.8, 0.1, 0.1)))  # fmt: skip
    folder = dataset_dir(project, name)
    if folder.exists() and not force:
        raise UsageError(f"dataset {name!r} already exists ({folder})", "pass --force to rebuild")
    source = f"raft-source-{content_hash(name)[:12]}"
    try:
        plain = build_dataset(project, name=source, seed=seed, force=True,
                              include_restricted=include_restricted, **build_options)  # fmt: skip
        splits = {s: load_split(project, source, s) for s in SPLITS}
    finally:
        shutil.rmtree(dataset_dir(project, source), ignore_errors=True)
    maker = RaftMaker(project, builder or rag_builder(project), k, seed, include_restricted)
    raft_splits, record = maker.convert(splits, p_missing)
    check_leakage(raft_splits)
    check_no_test_questions_trained(raft_splits)
    card = _write(folder, raft_splits, name=name, seed=seed, filters=plain.filters,
                  generator=plain.generator)  # fmt: skip
    card_path = folder / "card.json"
    data = json.loads(card_path.read_text(encoding="utf-8"))
    data["raft"] = record
    card_path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    card.warnings = plain.warnings
    return card, record


def rag_builder(project: Project) -> PromptBuilder:
    """The prompt builder of the project's ``rag`` strategy (the serving prompt)."""
    builder = project.answer_system("rag").builder
    if builder is None:
        raise RagtuneError("the rag strategy has no prompt builder; this is a bug")
    return builder


def check_no_test_questions_trained(splits: Mapping[str, Sequence[TrainingRow]]) -> None:
    """Raise when a test question (the bare question, not the prompt around it) is also a
    train or validation question."""
    trained = {normalise(r.question) for s in ("train", "validation") for r in splits[s]}
    leaked = [r.question for r in splits["test"] if normalise(r.question) in trained]
    if leaked:
        raise RagtuneError(
            f"leakage: {len(leaked)} RAFT test question(s) also trained on, e.g. {leaked[0]!r}",
            "this is a bug in the split; please report it",
        )


class RaftMaker:
    """Turns the QA rows of each split into RAFT rows (other kinds pass through)."""

    def __init__(
        self, project: Project, builder: PromptBuilder, k: int, seed: int, restricted: bool
    ) -> None:
        self.project = project
        self.builder = builder
        self.k = k
        self.seed = seed
        self.groups: list[str] | None = None if restricted else []  # [] = public documents only
        self._hits: dict[str, ScoredChunk] = {}
        self.retriever: Retriever = project.retriever
        self.trimmed = 0  # distractors dropped so the oracle fits the context budget

    def convert(
        self, splits: Mapping[str, list[TrainingRow]], p_missing: float
    ) -> tuple[dict[str, list[TrainingRow]], dict[str, Any]]:
        self.retriever = _batched_queries(
            self.project, [r.user_text for rows in splits.values() for r in rows
                           if r.kind == "qa" and r.source])  # fmt: skip
        held = {r.doc_id for r in splits["test"]
                if r.test_kind == "heldout_doc" and r.doc_id is not None}  # fmt: skip
        out: dict[str, list[TrainingRow]] = {}
        present: dict[str, int] = {}
        missing: dict[str, int] = {}
        for split in SPLITS:
            rows = splits[split]
            qa = [i for i, r in enumerate(rows) if r.kind == "qa" and r.source]
            rng = random.Random(f"{self.seed}:missing:{split}")
            dropped = set(rng.sample(qa, round(len(qa) * p_missing)))
            excluded = set() if split == "test" else held
            out[split] = sorted(
                (self.row(r, i not in dropped, excluded) if i in qa else r
                 for i, r in enumerate(rows)), key=lambda r: r.id,
            )  # fmt: skip
            missing[split] = len(dropped)
            present[split] = len(qa) - len(dropped)
        record = {
            "k": self.k, "p_missing": p_missing, "seed": self.seed, "method": RAFT_METHOD,
            "oracle_present": present, "oracle_missing": missing,
            "trimmed_distractors": self.trimmed,
            "prompt": {"context_tokens": self.builder.context_tokens,
                       "system": self.builder.system},
        }  # fmt: skip
        return out, record

    def row(self, row: TrainingRow, with_oracle: bool, excluded: set[str]) -> TrainingRow:
        """One RAFT row from a QA row (same fact id, source, split and test kind)."""
        question, answer = row.user_text, row.answer
        assert row.source is not None  # only QA rows with a source are converted
        oracle = self.oracle(row.source)
        hits = self.distractors(question, answer, oracle.chunk.id, excluded)
        if with_oracle:
            hits.append(oracle)
        random.Random(f"{self.seed}:{row.id}").shuffle(hits)
        prompt = self.fit(question, hits, oracle if with_oracle else None)
        ids = [b.chunk.id for b in prompt.blocks]
        marker = ids.index(oracle.chunk.id) + 1 if with_oracle else None
        target = cite(answer, marker) if marker else CANNOT_ANSWER
        messages = [*prompt.messages, {"role": "assistant", "content": target}]
        new = make_row("qa", row.fact_id, messages=messages, source=row.source)
        raft = {"oracle": with_oracle, "marker": marker, "chunk_ids": ids, "answer": answer}
        return replace(new, test_kind=row.test_kind, extra={"question": question, "raft": raft})

    def fit(self, question: str, hits: list[ScoredChunk], oracle: ScoredChunk | None) -> Prompt:
        """The prompt; when the budget would drop the oracle, distractors go first."""
        while True:
            prompt = self.builder.rag(question, hits)
            if oracle is None or any(b is oracle for b in prompt.blocks):
                return prompt
            others = [h for h in hits if h is not oracle]
            if not others:
                raise UsageError(
                    f"the oracle chunk {oracle.chunk.id} alone does not fit the context budget "
                    f"({self.builder.context_tokens} tokens)",
                    "raise prompt.context_tokens or lower chunking.size",
                )
            hits = [h for h in hits if h is not others[-1]]
            self.trimmed += 1

    def distractors(
        self, question: str, answer: str, oracle_id: str, excluded: set[str]
    ) -> list[ScoredChunk]:
        """The retriever's top ``k`` hits that are neither the oracle nor support the answer."""
        depth = 3 * self.k + 10
        hits = self.retriever.search(question, k=depth, groups=self.groups)
        keep = [h for h in hits if h.chunk.id != oracle_id and h.doc_id not in excluded
                and not supported(answer, h.chunk.text)]  # fmt: skip
        return keep[: self.k]

    def oracle(self, source: Mapping[str, Any]) -> ScoredChunk:
        """The source chunk as a retrieval hit (title and metadata as the retriever gives)."""
        chunk_id = str(source["chunk_id"])
        if chunk_id not in self._hits:
            doc = self.project.document(str(source["doc_id"]))
            for chunk in self.project.store.chunks_of(doc.id):
                self._hits[chunk.id] = _as_hit(chunk, doc.title, doc.metadata, doc.groups,
                                               doc.format)  # fmt: skip
        return self._hits[chunk_id]


def _as_hit(
    chunk: Chunk, title: str, metadata: Mapping[str, Any], groups: Sequence[str], fmt: str
) -> ScoredChunk:
    meta = {**metadata, "groups": list(groups), "format": fmt}
    return ScoredChunk(chunk=chunk, score=1.0, title=title, metadata=meta)


class _QueryCache:
    """The project's embedder with the questions' vectors computed in one batch (one call
    per question is ~20x slower on CPU); other texts go to the embedder as usual."""

    def __init__(self, inner: Embedder, queries: Sequence[str]) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        unique = list(dict.fromkeys(queries))
        self.vectors = dict(zip(unique, inner.embed(unique), strict=True))

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self.inner.embed(texts, progress=progress)

    def embed_query(self, text: str) -> np.ndarray:
        found = self.vectors.get(text)
        return found if found is not None else self.inner.embed_query(text)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.inner.count_tokens(texts)


def _batched_queries(project: Project, queries: Sequence[str]) -> Retriever:
    """The project's retriever (same store, index, settings, reranker) over a query cache."""
    from ragtune.retrieval.hybrid import Retriever

    r = project.retriever
    cache = _QueryCache(r.embedder, queries)
    return Retriever(r.store, r.index, cache, r.settings, r.reranker, r.rerank_top_n)
