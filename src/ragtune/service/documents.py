"""Document operations for the service, run on its worker threads.

Uploads are written under ``.ragtune/uploads/<id>`` and ingested by the same pipeline as
``ragtune ingest`` (so the id is the relative path, exactly as for files on disk), before
the request returns: the next question sees the document. Reads honour the caller's groups
with the same SQL condition as retrieval; a document the caller may not read is reported
exactly like one that does not exist.
"""

from __future__ import annotations

import glob
import re
from typing import Any

import yaml

from ragtune.errors import LoadError, NotFoundError, UsageError
from ragtune.ingest.loaders import FRONT_MATTER, decode_text, split_front_matter
from ragtune.project import Project
from ragtune.retrieval.filters import Where, acl_where
from ragtune.service.deps import Caller
from ragtune.service.upload_journal import journaled
from ragtune.store.keys import check_groups
from ragtune.types import DocumentView

MAX_ID = 300
_SEGMENT = re.compile(r"[^\W_][\w .()+,=@'-]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FRONT_MATTER_FORMATS = (".md", ".markdown", ".txt")


def safe_doc_id(raw: str) -> str:
    """A document id that is a plain relative path: no '..', no absolute path, no
    backslashes or control characters, no hidden segments. Anything else is refused."""
    doc_id = raw.strip()
    if not doc_id or len(doc_id) > MAX_ID:
        raise UsageError(f"document id must be 1-{MAX_ID} characters, got {len(doc_id)}")
    segments = doc_id.split("/")
    if any(not _SEGMENT.fullmatch(s) or s.endswith(".") for s in segments):
        raise UsageError(
            f"refused document id {raw!r}",
            "use a relative path like hr/leave-policy.md: letters, digits, spaces and ._-()' "
            "in each part; no '..', no leading '/', '.' or '_'",
        )
    return doc_id


def refuse_traversal(doc_id: str) -> str:
    """For lookups by id (never used as a path, but refused all the same): no '..'
    segment, no absolute path, no backslash or control character."""
    segments = doc_id.split("/")
    if doc_id.startswith("/") or "\\" in doc_id or _CONTROL.search(doc_id) or ".." in segments:
        raise UsageError(f"refused document id {doc_id!r}", "ids are relative paths")
    return doc_id


def _with_title(data: bytes, doc_id: str, title: str | None) -> bytes:
    """Set ``title`` in the file's own front matter (added when it has none). A second block
    in front of the file's would turn its front matter, groups included, into body text."""
    if not title:
        return data
    if not doc_id.lower().endswith(_FRONT_MATTER_FORMATS):
        raise UsageError("a title can only be set for .md and .txt documents",
                         "put the title in the document itself")  # fmt: skip
    text = decode_text(data)  # LoadError (422) for bytes that are not text
    split_front_matter(text)  # LoadError for a broken block, before it is rewritten
    block = FRONT_MATTER.match(text)
    head = dict(yaml.safe_load(block.group(1)) or {}) if block else {}
    head["title"] = title
    body = text[block.end() :] if block else text
    dumped = yaml.safe_dump(head, allow_unicode=True, sort_keys=True)
    return f"---\n{dumped}---\n{body}".encode()


def ingest_upload(
    project: Project,
    doc_id: str,
    data: bytes,
    metadata: dict[str, Any],
    groups: list[str] | None,
    title: str | None = None,
) -> dict[str, Any]:
    """Write and ingest one document; the previous version is restored if it fails.
    Groups declared in the file win; otherwise ``groups`` applies (``[]``: public) and with
    ``None`` a replaced document keeps its groups (a new one is public)."""
    doc_id = safe_doc_id(doc_id)
    root = project.paths.uploads
    target = (root / doc_id).resolve()
    if not target.is_relative_to(root.resolve()):  # defence in depth; safe_doc_id refuses
        raise UsageError(f"refused document id {doc_id!r}")
    data = _with_title(data, doc_id, title)
    with journaled(project, doc_id, target):  # a crash in here is settled on next start
        previous = target.read_bytes() if target.is_file() else None
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        try:
            report = project.ingest(
                [root], include=[glob.escape(doc_id)], meta=metadata,
                groups=None if groups is None else check_groups(groups),
            )  # fmt: skip
            outcome = next((o for o in report.outcomes if o.doc_id == doc_id), None)
            if outcome is None:
                raise UsageError(f"document id {doc_id!r} matches ingest.exclude in ragtune.toml",
                                 "choose another id")  # fmt: skip
            if outcome.status == "failed":
                raise LoadError(f"cannot read {doc_id}: {outcome.reason}")
        except BaseException:
            if previous is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(previous)
            raise
    doc = project.document(doc_id)
    return {"id": doc_id, "status": outcome.status, "chunks": outcome.n_chunks,
            "chunks_reused": outcome.n_reused, "version": doc.version, "title": doc.title,
            "groups": list(doc.groups)}  # fmt: skip


def delete(project: Project, doc_id: str) -> None:
    """Remove a document and its uploaded file; NotFoundError when there is neither (a file
    left without its document, e.g. by a crash before recovery ran, can be removed too)."""
    removed = project.remove(doc_id)
    root = (project.paths.uploads).resolve()
    target = (root / doc_id).resolve()
    if target.is_relative_to(root) and target.is_file():
        target.unlink()
        removed = True
    if not removed:
        raise NotFoundError(f"no document with id {doc_id!r}")


def _visible(who: Caller) -> Where | None:
    """What the caller may read: every document for an admin (who manages them all)."""
    return None if who.admin else acl_where(who.groups)


def list_visible(project: Project, who: Caller) -> list[dict[str, Any]]:
    """Documents the caller may read (every document for an admin), without their text."""
    return [_summary(v, who) for v in project.store.document_views(_visible(who))]


def get_visible(project: Project, who: Caller, doc_id: str) -> dict[str, Any]:
    """One document with its text and chunk offsets, if the caller may read it."""
    views = project.store.document_views(_visible(who), doc_id)
    if not views:
        raise NotFoundError(f"no document with id {doc_id!r}")
    out = _summary(views[0], who)
    del out["n_chars"]
    out["text"] = project.store.get_document(doc_id).text
    out["chunks"] = [
        {"id": c.id, "start": c.start, "end": c.end, "section": c.section}
        for c in project.store.chunks_of(doc_id)
    ]
    return out


def _summary(view: DocumentView, who: Caller) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": view.id, "title": view.title, "format": view.format,
        "metadata": view.metadata, "groups": list(view.groups),
        "version": view.version, "ingested_at": view.ingested_at, "n_chars": view.n_chars,
    }  # fmt: skip
    if who.admin:
        out["source_path"] = view.source_path
    return out
