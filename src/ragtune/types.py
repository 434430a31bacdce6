"""THE data model. Every component speaks these types; nobody passes ad-hoc dicts.

Ids are content-derived: a chunk id hashes its document id, offset and text, so
re-ingesting the same text yields the same ids (idempotent), and a changed document gets
new ids for the parts that changed.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from typing import Any

SCHEMA_VERSION = 1


def content_hash(data: bytes | str) -> str:
    """Hex SHA-256 of bytes or UTF-8 text."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def chunk_id_for(doc_id: str, start: int, text: str) -> str:
    return content_hash(f"{doc_id}\x00{start}\x00{text}")[:24]


@dataclass(frozen=True)
class Document:
    """A source document as stored: extracted text plus metadata and access groups.

    ``groups`` empty means everybody may read it; otherwise only callers in one of them.
    """

    id: str
    title: str
    text: str
    content_hash: str
    source_path: str = ""
    format: str = "txt"
    metadata: dict[str, Any] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    version: int = 1
    ingested_at: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["groups"] = list(self.groups)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(**{**data, "groups": tuple(data.get("groups", ()))})


@dataclass(frozen=True)
class DocumentView:
    """A stored document as a reader lists it: everything but its text, and the text's length."""

    id: str
    title: str
    format: str
    metadata: dict[str, Any]
    groups: tuple[str, ...]
    version: int
    ingested_at: str
    source_path: str
    n_chars: int


SECTION_SEPARATOR = " > "  # joins a chunk's heading path: "Guide > Install > On Windows"


@dataclass(frozen=True)
class Chunk:
    """A span of a document: ``text == document.text[start:end]`` exactly."""

    id: str
    doc_id: str
    text: str
    start: int
    end: int
    ordinal: int = 0
    section: str = ""
    n_tokens: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)


@dataclass(frozen=True)
class ScoredChunk:
    """A retrieval hit. ``score`` is the ranking score of the mode that produced it;
    ``scores`` keeps the per-retriever scores behind a fused result."""

    chunk: Chunk
    score: float
    title: str = ""
    scores: dict[str, float] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return self.chunk.doc_id

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk": self.chunk.to_dict(),
            "score": self.score,
            "title": self.title,
            "scores": dict(self.scores),
            "metadata": dict(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScoredChunk:
        return cls(
            chunk=Chunk.from_dict(data["chunk"]),
            score=float(data["score"]),
            title=data.get("title", ""),
            scores=dict(data.get("scores", {})),
            metadata=dict(data.get("metadata", {})),
        )


@dataclass
class FileOutcome:
    """What happened to one file during ingestion."""

    path: str
    status: str  # added | updated | unchanged | removed | failed | skipped
    doc_id: str = ""
    reason: str = ""
    n_chunks: int = 0
    n_reused: int = 0  # of n_chunks, those that kept their stored vector (not re-embedded)


@dataclass
class IngestReport:
    """The result of one ``ingest`` run, one outcome per file or removed document."""

    outcomes: list[FileOutcome] = field(default_factory=list)
    seconds: float = 0.0
    excluded: list[str] = field(default_factory=list)  # left out by ingest.exclude patterns
    # with --ray: one entry per embedded shard (node id, pid, chunks, seconds)
    shards: list[dict[str, Any]] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        self.outcomes.append(outcome)

    def by_status(self, status: str) -> list[FileOutcome]:
        return [o for o in self.outcomes if o.status == status]

    def counts(self) -> dict[str, int]:
        keys = ("added", "updated", "unchanged", "removed", "failed", "skipped")
        return {k: len(self.by_status(k)) for k in keys}

    @property
    def n_chunks(self) -> int:
        return sum(o.n_chunks for o in self.outcomes if o.status in ("added", "updated"))

    @property
    def n_reused(self) -> int:
        """Chunks written with the vector of the document's previous version."""
        return sum(o.n_reused for o in self.outcomes if o.status == "updated")

    def to_dict(self) -> dict[str, Any]:
        return {
            "counts": self.counts(),
            "chunks_written": self.n_chunks,
            "chunks_reused": self.n_reused,
            "seconds": round(self.seconds, 3),
            "excluded": list(self.excluded),
            "files": [asdict(o) for o in self.outcomes],
            **({"ray_shards": list(self.shards)} if self.shards else {}),
        }


@dataclass(frozen=True)
class Citation:
    """A source behind an answer: ``quote == document.text[start:end]`` exactly.

    ``marker`` is the [n] the model wrote; ``inferred`` is True when the model cited nothing
    and ragtune matched the answer to a passage by word overlap instead.
    """

    marker: int | None
    chunk_id: str
    doc_id: str
    title: str
    section: str
    start: int
    end: int
    quote: str
    inferred: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Citation:
        return cls(**data)


@dataclass
class Answer:
    """One answer from an :class:`~ragtune.strategies.AnswerSystem`."""

    question: str
    text: str
    strategy: str
    model: str = ""
    adapter: str = ""
    citations: list[Citation] = field(default_factory=list)
    contexts: list[ScoredChunk] = field(default_factory=list)
    invalid_markers: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    tokens_in: int = 0
    tokens_out: int = 0
    finish_reason: str = ""
    id: str = ""
    abstained: bool = False  # said "cannot answer from the documents" (model or threshold)
    support: float | None = None  # best retrieved sentence's evidence score (retrieval only)
    replaced: str = ""  # the model's own answer, when a fallback span took its place

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["contexts"] = [c.to_dict() for c in self.contexts]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        data = dict(data)
        data["citations"] = [Citation.from_dict(c) for c in data.get("citations", [])]
        data["contexts"] = [ScoredChunk.from_dict(c) for c in data.get("contexts", [])]
        return cls(**data)
