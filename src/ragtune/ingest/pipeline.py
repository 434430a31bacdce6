"""The incremental ingestion pipeline.

discover files -> skip unchanged (fingerprint) -> load -> chunk -> embed (batched across
documents) -> write each document in its own transaction. A bad file is reported and
skipped; nothing already stored is touched unless its file changed or ``sync`` removes it.
"""

from __future__ import annotations

import fnmatch
import json
import os
import stat
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.config import Settings
from ragtune.embed.base import Embedder
from ragtune.errors import LoadError, UsageError
from ragtune.ingest.chunking import chunk_text
from ragtune.ingest.loaders import load_bytes
from ragtune.store.base import Store
from ragtune.types import Chunk, Document, FileOutcome, IngestReport, content_hash

Progress = Callable[[int, int, str], None]
_EMBED_BATCH_CHUNKS = 512  # embed across documents: fewer calls, better length bucketing


@dataclass
class Candidate:
    path: Path
    doc_id: str


@dataclass
class _Pending:
    candidate: Candidate
    fingerprint: str
    doc: Document
    chunks: list[Chunk]
    existed: bool


@dataclass
class Discovery:
    files: list[Candidate] = field(default_factory=list)
    failures: list[FileOutcome] = field(default_factory=list)
    # Paths (files, or folders not entered) left out by an exclude pattern: reported, so a
    # default such as "_*" never drops a document without saying so. Hidden names (".git")
    # are left out of the list: nobody expects those ingested.
    excluded: list[str] = field(default_factory=list)


def _matches(rel: str, patterns: Iterable[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatch(name, p) or fnmatch.fnmatch(rel, p) for p in patterns)


def discover(paths: Sequence[Path], include: Sequence[str], exclude: Sequence[str]) -> Discovery:
    """Files under ``paths`` (recursively, following symlinks without looping).

    A document's id is its path relative to the argument it was found under, so
    ``docs/hr/leave.md`` and ``docs-v2/hr/leave.md`` are versions of one document ``hr/leave.md``.
    """
    found = Discovery()
    for root in paths:
        if not root.exists() and not root.is_symlink():
            raise UsageError(f"path not found: {root}")
        if root.is_file():
            found.files.append(Candidate(root, root.name))
            continue
        seen_dirs: set[tuple[int, int]] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            st = os.stat(dirpath)
            if (st.st_dev, st.st_ino) in seen_dirs:  # a directory symlink loop
                dirnames[:] = []
                continue
            seen_dirs.add((st.st_dev, st.st_ino))
            rel_dir = Path(dirpath).relative_to(root).as_posix()
            kept = []
            for d in sorted(dirnames):
                if _matches(_join(rel_dir, d), exclude):
                    if not d.startswith("."):
                        found.excluded.append(_join(rel_dir, d) + "/")
                else:
                    kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                rel = _join(rel_dir, name)
                if not _matches(rel, include):
                    continue
                if _matches(rel, exclude):
                    if not name.startswith("."):
                        found.excluded.append(rel)
                    continue
                found.files.append(Candidate(Path(dirpath) / name, rel))
    return found


def _join(rel_dir: str, name: str) -> str:
    return name if rel_dir in ("", ".") else f"{rel_dir}/{name}"


_PUBLIC = "\x00public"  # fingerprint stamp of an explicit empty groups list


class Ingestor:
    """Runs one ingestion; see :meth:`run`."""

    def __init__(self, store: Store, embedder: Embedder, settings: Settings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings

    def run(
        self,
        paths: Sequence[Path | str],
        *,
        meta: dict[str, Any] | None = None,
        groups: Sequence[str] | None = None,
        include: Sequence[str] | None = None,
        exclude: Sequence[str] | None = None,
        sync: bool = False,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest ``paths``. ``meta`` fills metadata keys a file does not set itself;
        ``groups`` applies to files that declare no groups of their own (``[]``: public).
        With ``groups=None`` such a file keeps the groups its document already has (public
        when it is new): re-ingesting or updating a restricted document never publishes it
        by omission. With ``sync``, stored documents not found under ``paths`` are removed."""
        started = time.perf_counter()
        report = IngestReport()
        include = list(include or self.settings.ingest.include)
        exclude = [*self.settings.ingest.exclude, *(exclude or ())]  # added to the defaults
        found = discover([Path(p) for p in paths], include, exclude)
        for failure in found.failures:
            report.add(failure)
        report.excluded = found.excluded
        pending: list[_Pending] = []
        total = len(found.files)
        for done, cand in enumerate(found.files, start=1):
            outcome_or_pending = self._prepare(
                cand, meta or {}, None if groups is None else tuple(groups)
            )
            if isinstance(outcome_or_pending, FileOutcome):
                report.add(outcome_or_pending)
            else:
                pending.append(outcome_or_pending)
                if sum(len(p.chunks) for p in pending) >= _EMBED_BATCH_CHUNKS:
                    self._flush(pending, report)
            if progress:
                progress(done, total, cand.doc_id)
        self._flush(pending, report)
        if sync:
            keep = {c.doc_id for c in found.files}
            for doc_id in self.store.document_ids():
                if doc_id not in keep and self.store.delete_document(doc_id):
                    report.add(FileOutcome(path="", status="removed", doc_id=doc_id))
        report.seconds = time.perf_counter() - started
        return report

    def fingerprint(self, data: bytes, meta: dict[str, Any], groups: tuple[str, ...]) -> str:
        """Changes when the file, the flags, or the chunking/embedding settings change."""
        cfg = self.settings
        extra = json.dumps(
            [meta, groups, cfg.chunking.size, cfg.chunking.overlap, self.embedder.name],
            sort_keys=True,
            default=str,
        )
        return content_hash(data + b"\x00" + extra.encode())

    def _prepare(
        self, cand: Candidate, meta: dict[str, Any], groups: tuple[str, ...] | None
    ) -> FileOutcome | _Pending:
        path = str(cand.path)
        # "keep" fingerprints as no groups did before; an explicit "public" differs from it,
        # so `--public` re-processes a file whose groups were kept.
        stamp = () if groups is None else groups or (_PUBLIC,)
        if groups is None:  # keep what the stored document has
            groups = self.store.get_groups(cand.doc_id) or ()
        try:
            data = self._read(cand.path)
            fingerprint = self.fingerprint(data, meta, stamp)
            stored = self.store.get_fingerprint(cand.doc_id)
            if stored == fingerprint:
                return FileOutcome(path, "unchanged", cand.doc_id)
            loaded = load_bytes(data, cand.path)
            doc = Document(
                id=cand.doc_id, title=loaded.title, text=loaded.text,
                content_hash=content_hash(loaded.text), source_path=path, format=loaded.format,
                metadata={**meta, **loaded.metadata},
                groups=groups if loaded.groups is None else loaded.groups,
            )  # fmt: skip
            chunks = chunk_text(
                doc.id, doc.text, self.embedder.count_tokens,
                self.settings.chunking.size, self.settings.chunking.overlap,
            )  # fmt: skip
        except LoadError as exc:
            return FileOutcome(path, "failed", cand.doc_id, str(exc))
        except Exception as exc:  # one broken file must never abort the run
            return FileOutcome(path, "failed", cand.doc_id, f"{type(exc).__name__}: {exc}")
        return _Pending(cand, fingerprint, doc, chunks, stored is not None)

    def _read(self, path: Path) -> bytes:
        limit = self.settings.ingest.max_file_mb
        try:
            st = path.stat()
        except OSError as exc:
            raise LoadError(_os_reason(exc, path)) from None
        if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
            raise LoadError("not a regular file (FIFO, socket or device)")
        size = st.st_size
        if size > limit * 1024 * 1024:
            raise LoadError(
                f"file is {size / 1024 / 1024:.1f} MB, over the {limit:g} MB limit",
                "raise ingest.max_file_mb in ragtune.toml to accept it",
            )
        try:
            return path.read_bytes()
        except OSError as exc:
            raise LoadError(_os_reason(exc, path)) from None

    def _flush(self, pending: list[_Pending], report: IngestReport) -> None:
        if not pending:
            return
        texts = [_embedding_text(p.doc.title, c.section, c.text) for p in pending for c in p.chunks]
        vectors, reused = self._vectors(pending, texts)
        offset = 0
        for item in pending:
            n = len(item.chunks)
            self.store.upsert_document(
                item.doc, item.fingerprint, item.chunks, vectors[offset : offset + n]
            )
            status = "updated" if item.existed else "added"
            kept = int(reused[offset : offset + n].sum())
            report.add(FileOutcome(str(item.candidate.path), status, item.doc.id, "", n, kept))
            offset += n
        pending.clear()

    def _vectors(self, pending: list[_Pending], texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """A vector per text and whether it was kept from the stored version. A vector is a
        function of the embedder (one per store) and the embedded text alone, so a chunk an
        update left as it was keeps its vector: a manual's next release re-embeds only the
        chunks it changed. Texts repeated in the batch are embedded once."""
        known: dict[str, np.ndarray] = {}
        for item in pending:
            if item.existed:
                for title, section, text, vector in self.store.stored_vectors(item.doc.id):
                    known[_embedding_text(title, section, text)] = vector
        reused = np.array([t in known for t in texts], dtype=bool)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self.embedder.embed(missing), strict=True))
        if not texts:
            return np.zeros((0, self.embedder.dim), dtype=np.float32), reused
        return np.stack([known[t] for t in texts]).astype(np.float32, copy=False), reused


def _embedding_text(title: str, section: str, text: str) -> str:
    """Embed the chunk with its title and heading path: a bare paragraph often lacks the
    words ('leave policy') that a question uses."""
    head = section if section.startswith(title) else f"{title} > {section}".rstrip(" >")
    return f"{head}\n{text}"


def _os_reason(exc: OSError, path: Path) -> str:
    import errno

    if exc.errno == errno.ELOOP:
        return "symlink loop"
    if exc.errno == errno.EACCES:
        return "permission denied"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return "broken symlink"
    return exc.strerror or str(exc)
