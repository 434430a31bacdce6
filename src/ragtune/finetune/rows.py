"""One line of a training dataset (``.ragtune/datasets/NAME/{train,validation,test}.jsonl``).

A chat example (``messages``, ending with the assistant's answer) or raw text (``text``),
with its kind (``qa``, ``style``, ``import``, ``raw``, ``feedback``), the fact it states
(phrasings of one fact share ``fact_id`` and a split), the document span behind it
(``source``) and, in test, why it is there (``test_kind``: ``paraphrase``, ``heldout_doc``,
``rejected``). RAFT rows add the bare ``question`` and their ``raft`` record; rejected
feedback adds the answer and comment (:attr:`TrainingRow.extra`). The file holds
:meth:`TrainingRow.to_dict`, one JSON object per line. Example::

    row = make_row("qa", "leave.md#1", messages=[user, assistant], source=source_of(chunk))
    row.question, row.answer, row.doc_id
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from ragtune.types import Chunk, content_hash

_FIELDS = ("id", "kind", "fact_id", "messages", "text", "source", "test_kind")


@dataclass(frozen=True)
class TrainingRow:
    id: str
    kind: str
    fact_id: str
    messages: list[dict[str, str]] | None = None
    text: str | None = None  # raw rows: the passage itself
    source: dict[str, Any] | None = None  # doc_id, chunk_id, start, end
    test_kind: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def user_text(self) -> str:
        """The last user message ('' for raw text); a RAFT row's is its whole RAG prompt."""
        users = [m["content"] for m in self.messages or () if m["role"] == "user"]
        return users[-1] if users else ""

    @property
    def question(self) -> str:
        """The bare question: a RAFT row keeps it beside its prompt."""
        return str(self.extra.get("question") or self.user_text)

    @property
    def answer(self) -> str:
        """The target: the last message of a chat example ('' for raw text)."""
        return self.messages[-1]["content"] if self.messages else ""

    @property
    def doc_id(self) -> str | None:
        return None if self.source is None else str(self.source["doc_id"])

    def tested_as(self, test_kind: str | None) -> TrainingRow:
        return replace(self, test_kind=test_kind)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = (
            {"messages": self.messages} if self.messages is not None else {"text": self.text}
        )
        return {"id": self.id, "kind": self.kind, **body, "fact_id": self.fact_id,
                "source": self.source, "test_kind": self.test_kind, **self.extra}  # fmt: skip

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainingRow:
        return cls(
            id=str(data.get("id", "")),
            kind=str(data.get("kind", "")),
            fact_id=str(data.get("fact_id", "")),
            messages=data.get("messages"),
            text=data.get("text"),
            source=data.get("source"),
            test_kind=data.get("test_kind"),
            extra={k: v for k, v in data.items() if k not in _FIELDS},
        )


def make_row(
    kind: str,
    fact_id: str,
    *,
    messages: list[dict[str, str]] | None = None,
    text: str | None = None,
    source: dict[str, Any] | None = None,
) -> TrainingRow:
    """One dataset line; its id hashes kind, fact id and content, so rebuilding is stable."""
    body: dict[str, Any] = {"messages": messages} if messages is not None else {"text": text}
    digest = content_hash(json.dumps([kind, fact_id, body], sort_keys=True))[:12]
    return TrainingRow(f"{kind}-{digest}", kind, fact_id, messages, text, source)


def source_of(chunk: Chunk, start: int | None = None, end: int | None = None) -> dict[str, Any]:
    """A row's ``source``: document offsets of the supporting text (default: the chunk)."""
    start, end = chunk.start if start is None else start, chunk.end if end is None else end
    return {"doc_id": chunk.doc_id, "chunk_id": chunk.id, "start": start, "end": end}
