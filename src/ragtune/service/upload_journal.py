"""A journal for uploads, so that a crash (even SIGKILL) mid-upload leaves no orphan file.

An upload writes its file under ``.ragtune/uploads/<id>`` and then ingests it. Killed in
between, the file stayed while the store never heard of it, and no API call could remove
it (``DELETE`` answered 404). Now an upload first records the document's version and the
bytes it replaces in ``uploads/.pending/`` (hidden: ingest never reads it); the record is
removed when the upload ends either way. On start the service replays what is left: an
upload the store committed keeps its file, any other has its file restored or removed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ragtune.errors import NotFoundError
from ragtune.project import Project

PENDING = ".pending"


def _paths(project: Project, doc_id: str) -> tuple[Path, Path]:
    name = hashlib.sha256(doc_id.encode()).hexdigest()[:24]
    folder = project.paths.uploads / PENDING
    return folder / f"{name}.json", folder / f"{name}.prev"


def _version(project: Project, doc_id: str) -> int | None:
    try:
        return project.store.get_document(doc_id).version
    except NotFoundError:
        return None


@contextmanager
def journaled(project: Project, doc_id: str, target: Path) -> Iterator[None]:
    """Record the upload of ``doc_id`` (its file: ``target``) for the body of the block."""
    record, prev = _paths(project, doc_id)
    record.parent.mkdir(parents=True, exist_ok=True)
    if target.is_file():
        prev.write_bytes(target.read_bytes())
    entry = {"id": doc_id, "version": _version(project, doc_id), "had_file": target.is_file()}
    tmp = record.with_suffix(".tmp")
    tmp.write_text(json.dumps(entry, sort_keys=True))
    os.replace(tmp, record)  # the record exists whole or not at all
    try:
        yield
    finally:
        record.unlink(missing_ok=True)
        prev.unlink(missing_ok=True)


def recover(project: Project) -> list[str]:
    """Settle uploads a crash interrupted; returns the ids whose file was put back."""
    folder = project.paths.uploads / PENDING
    if not folder.is_dir():
        return []
    root = (project.paths.uploads).resolve()
    settled = []
    for record in sorted(folder.glob("*.json")):
        prev = record.with_suffix(".prev")
        try:
            entry = json.loads(record.read_text())
            doc_id, before = str(entry["id"]), entry["version"]
        except (ValueError, KeyError, TypeError):
            record.unlink(missing_ok=True)  # not ours to interpret; never guess a path
            continue
        target = (root / doc_id).resolve()
        now = _version(project, doc_id)
        committed = now is not None and (before is None or now > before)
        if not committed and target.is_relative_to(root):
            if entry.get("had_file") and prev.is_file():
                target.write_bytes(prev.read_bytes())
            else:
                target.unlink(missing_ok=True)
            settled.append(doc_id)
        record.unlink(missing_ok=True)
        prev.unlink(missing_ok=True)
    for stray in folder.glob("*.prev"):  # killed before its record was written
        if not stray.with_suffix(".json").exists():
            stray.unlink(missing_ok=True)
    for stray in folder.glob("*.tmp"):
        stray.unlink(missing_ok=True)
    return settled
