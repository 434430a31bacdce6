"""QA dataset rows from the documents: facts by the offline rules or by a model, checked.

Whoever writes the questions, the same gates apply before a pair becomes a row: the
question must stand alone (:func:`ragtune.finetune.qa_check.question_problems`: no file
names, section numbers, markup or dangling references), the answer must be supported by
its source chunk and the question may not copy the text (:func:`passing_questions`).
``drops`` counts what each gate removed, for the dataset card. Example::

    drops = Counter()
    rows = qa_rows(project, docs, phrasings=3, generator=None, drops=drops, progress=None)
    drops["unclear_questions"], drops["unsupported"]
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ragtune.finetune.imports import model_facts, passing_questions
from ragtune.finetune.qa_check import file_tokens, gate
from ragtune.finetune.qa_offline import Fact, facts_from_document
from ragtune.finetune.rows import TrainingRow, make_row, source_of
from ragtune.types import Document, content_hash

if TYPE_CHECKING:
    from ragtune.finetune.imports import Progress
    from ragtune.generate.base import Generator
    from ragtune.project import Project


def qa_rows(
    project: Project,
    docs: Sequence[Document],
    phrasings: int,
    generator: Generator | None,
    drops: Counter[str],
    progress: Progress | None,
) -> list[TrainingRow]:
    """Rows of kind ``qa`` for ``docs``: up to ``phrasings`` questions per fact."""
    chunks = {d.id: project.store.chunks_of(d.id) for d in docs}
    if generator is None:
        facts = [f for d in docs for f in facts_from_document(d, chunks[d.id], stats=drops)]
    else:
        written = model_facts(generator, docs, chunks, phrasings, progress)
        facts = gate_facts(written, {d.id: d for d in docs}, drops)
    by_id = {c.id: c for cs in chunks.values() for c in cs}
    rows: list[TrainingRow] = []
    for fact in facts:
        chunk, a = by_id[fact.chunk_id], fact.answer
        asked = fact.questions[:phrasings]
        kept = passing_questions(asked, a, chunk.text)
        drops["unsupported"] += len(asked) - len(kept)
        for q in kept:
            messages = [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
            source = source_of(chunk, fact.start, fact.end)
            rows.append(make_row("qa", f"{fact.doc_id}#{content_hash(a)[:10]}", messages=messages,
                                 source=source))  # fmt: skip
    return rows


def gate_facts(facts: Sequence[Fact], docs: dict[str, Document], drops: Counter[str]) -> list[Fact]:
    """Model-written facts with only the questions that stand alone; a fact left with none
    is dropped. Counted like the offline rules' (``unclear_questions``/``_passages``)."""
    out = []
    for fact in facts:
        doc = docs[fact.doc_id]
        kept, dropped = gate(fact.questions, file_tokens(doc.id, doc.title, doc.text))
        drops["unclear_questions"] += dropped
        if kept:
            out.append(Fact(fact.doc_id, fact.chunk_id, fact.start, fact.end, fact.answer,
                            tuple(kept), fact.rule))  # fmt: skip
        else:
            drops["unclear_passages"] += 1
    return out
