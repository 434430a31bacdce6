"""An updated document re-embeds only the chunks it changed (real store, hash embedder)."""

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import write

from ragtune.project import Project

SECTIONS = ("Leave", "Travel", "Security", "Payroll")


def manual(changed: str = "", title: str = "Handbook") -> str:
    parts = [f"---\ntitle: {title}\n---\n"]
    for name in SECTIONS:
        body = f"The {name.lower()} rules are written here. " * 6
        if name == changed:
            body = body.replace("written here", "rewritten in 2026")
        parts.append(f"# {name}\n\n{body}\n")
    return "\n".join(parts)


@pytest.fixture
def embedded(hash_project: Project, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every text the project's embedder is asked to embed, in order."""
    seen: list[str] = []
    embedder = hash_project.embedder
    real = embedder.embed

    def counting(texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        seen.extend(texts)
        return real(texts, progress=progress)

    monkeypatch.setattr(embedder, "embed", counting)
    return seen


def stored(project: Project, doc_id: str) -> dict[str, np.ndarray]:
    return {text: vec for _, _, text, vec in project.store.stored_vectors(doc_id)}


def test_update_embeds_only_changed_chunks(
    hash_project: Project, embedded: list[str], tmp_path: Path
) -> None:
    docs = tmp_path / "docs"
    write(docs / "manual.md", manual())
    first = hash_project.ingest([docs])
    n = first.n_chunks
    assert n >= 4 and first.n_reused == 0 and len(embedded) == n
    embedded.clear()

    write(docs / "manual.md", manual(changed="Security"))
    update = hash_project.ingest([docs])
    assert update.counts()["updated"] == 1
    changed = [c for c in hash_project.store.chunks_of("manual.md") if "2026" in c.text]
    assert changed and len(embedded) == len(changed)  # nothing else was embedded again
    assert all("2026" in t for t in embedded)
    assert update.n_reused == update.n_chunks - len(changed) > 0
    assert update.to_dict()["chunks_reused"] == update.n_reused
    assert update.by_status("updated")[0].n_reused == update.n_reused

    # Every stored vector is what embedding the chunk afresh gives.
    for _, section, text, vector in hash_project.store.stored_vectors("manual.md"):
        head = section if section.startswith("Handbook") else f"Handbook > {section}"
        fresh = hash_project.embedder.embed([f"{head.rstrip(' >')}\n{text}"])[0]
        np.testing.assert_array_equal(vector, fresh)
    assert [h.chunk.doc_id for h in hash_project.search("rewritten 2026", k=1)] == ["manual.md"]


def test_new_title_re_embeds_every_chunk(
    hash_project: Project, embedded: list[str], tmp_path: Path
) -> None:
    """The title is part of what is embedded, so a renamed document keeps no vector."""
    docs = tmp_path / "docs"
    write(docs / "manual.md", manual())
    hash_project.ingest([docs])
    before = stored(hash_project, "manual.md")
    embedded.clear()
    write(docs / "manual.md", manual(title="Staff Handbook"))
    update = hash_project.ingest([docs])
    assert update.n_reused == 0 and len(embedded) == update.n_chunks
    after = stored(hash_project, "manual.md")
    assert before.keys() == after.keys()
    assert any(not np.array_equal(before[t], after[t]) for t in before)


def test_repeated_chunks_are_embedded_once(
    hash_project: Project, embedded: list[str], tmp_path: Path
) -> None:
    text = "".join(f"# Notes\n\n{'Same words in every section. ' * 6}\n\n" for _ in range(3))
    report = hash_project.ingest([write(tmp_path / "same.md", text)])
    assert report.n_chunks >= 3 and len(embedded) < report.n_chunks
    assert report.n_reused == 0  # a new document reuses nothing: there was no version before


def test_other_documents_vectors_are_not_borrowed(
    hash_project: Project, embedded: list[str], tmp_path: Path
) -> None:
    """Only the document's own previous version is reused (a copy under another name is
    embedded with its own title anyway)."""
    write(tmp_path / "a" / "one.md", manual())
    hash_project.ingest([tmp_path / "a"])
    embedded.clear()
    write(tmp_path / "b" / "two.md", manual())
    report = hash_project.ingest([tmp_path / "b"])
    assert report.counts()["added"] == 1 and report.n_reused == 0
    assert len(embedded) == report.n_chunks
