"""Incremental ingestion and bad input, through the real store (hash embedder for speed)."""

import os
from pathlib import Path

import pytest
from tests.conftest import write

from ragtune.errors import UsageError
from ragtune.project import Project


def leave_doc(days: int) -> str:
    return f"---\ntitle: Leave\ndepartment: hr\n---\n# Leave\n\nNew hires get {days} days.\n"


def test_add_unchanged_update_and_sync(hash_project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs / "hr" / "leave.md", leave_doc(25))
    write(docs / "it.txt", "Lock your screen when away.\n")
    report = hash_project.ingest([docs])
    assert report.counts()["added"] == 2

    again = hash_project.ingest([docs])
    assert again.counts()["unchanged"] == 2 and again.n_chunks == 0

    write(docs / "hr" / "leave.md", leave_doc(27))
    old_ids = {c.id for c in hash_project.store.chunks_of("hr/leave.md")}
    update = hash_project.ingest([docs])
    assert update.counts()["updated"] == 1 and update.counts()["unchanged"] == 1
    new_chunks = hash_project.store.chunks_of("hr/leave.md")
    assert not old_ids & {c.id for c in new_chunks}
    assert "27 days" in " ".join(c.text for c in new_chunks)
    assert [v["version"] for v in hash_project.store.versions("hr/leave.md")] == [1, 2]

    (docs / "it.txt").unlink()
    assert hash_project.ingest([docs]).counts()["removed"] == 0  # no --sync: kept
    synced = hash_project.ingest([docs], sync=True)
    assert [o.doc_id for o in synced.by_status("removed")] == ["it.txt"]
    assert hash_project.store.versions("it.txt")[-1]["removed_at"]
    assert hash_project.store.document_ids() == ["hr/leave.md"]


def test_cli_flags_meta_and_groups(hash_project: Project, tmp_path: Path) -> None:
    write(tmp_path / "d" / "a.md", "---\ngroups: [hr]\nowner: ann\n---\nAlpha text.\n")
    write(tmp_path / "d" / "b.md", "Beta text.\n")
    hash_project.ingest([tmp_path / "d"], meta={"owner": "ops", "tier": "1"}, groups=["eng"])
    a, b = hash_project.document("a.md"), hash_project.document("b.md")
    assert a.groups == ("hr",) and a.metadata["owner"] == "ann"  # the file's own values win
    assert b.groups == ("eng",) and b.metadata == {"owner": "ops", "tier": "1"}


def test_include_exclude(hash_project: Project, tmp_path: Path) -> None:
    write(tmp_path / "d" / "keep.md", "Keep me.\n")
    write(tmp_path / "d" / "drafts" / "skip.md", "Skip me.\n")
    write(tmp_path / "d" / "note.txt", "Text.\n")
    write(tmp_path / "d" / ".hidden.md", "Hidden.\n")
    write(tmp_path / "d" / "_thread.md", "Underscore names are excluded by default.\n")
    report = hash_project.ingest([tmp_path / "d"], include=["*.md"], exclude=["drafts"])
    assert hash_project.store.document_ids() == ["keep.md"]
    # Exclusions are reported (hidden names aside); files outside `include` are not excluded.
    assert report.excluded == ["drafts/", "_thread.md"]
    assert report.to_dict()["excluded"] == ["drafts/", "_thread.md"]


def test_bad_files_reported_everything_else_kept(hash_project: Project, tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    write(docs / "good.md", "# Good\n\nFine content.\n")
    hash_project.ingest([docs])
    write(docs / "binary.txt", b"\x00\x01\x02\x03 binary")
    write(docs / "empty.txt", b"")
    write(docs / "corrupt.pdf", b"%PDF-1.7\nthis is not really a pdf")
    write(docs / "latin1.txt", "na\xefve".encode("latin-1"))
    big = docs / "big.txt"
    with open(big, "wb") as fh:  # 50 MB, sparse: cheap to create
        fh.truncate(50 * 1024 * 1024)
    os.symlink("loop_b.txt", docs / "loop_a.txt")
    os.symlink("loop_a.txt", docs / "loop_b.txt")
    os.symlink(".", docs / "self")  # a directory symlink loop
    os.mkfifo(docs / "pipe.txt")
    write(docs / "new.md", "New doc.\n")
    report = hash_project.ingest([docs])
    failed = {Path(o.path).name: o.reason for o in report.by_status("failed")}
    assert "binary" in failed["binary.txt"]
    assert "empty" in failed["empty.txt"]
    assert "PDF" in failed["corrupt.pdf"]
    assert "UTF-8" in failed["latin1.txt"]
    assert "limit" in failed["big.txt"]
    assert failed["loop_a.txt"] == "symlink loop" and failed["loop_b.txt"] == "symlink loop"
    assert "regular file" in failed["pipe.txt"]
    assert report.counts()["added"] == 1 and report.counts()["unchanged"] == 1
    assert sorted(hash_project.store.document_ids()) == ["good.md", "new.md"]
    assert hash_project.store.integrity_check() == "ok"


def test_unreadable_file(
    hash_project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = tmp_path / "docs"
    write(docs / "ok.md", "Readable.\n")
    secret = write(docs / "secret.md", "Unreadable.\n")
    if os.geteuid() != 0:  # the real thing where permissions apply
        secret.chmod(0)
    else:  # root reads everything: raise the error the OS would give anyone else
        real = Path.read_bytes

        def deny(self: Path) -> bytes:
            if self.name == "secret.md":
                raise PermissionError(13, "Permission denied", str(self))
            return real(self)

        monkeypatch.setattr(Path, "read_bytes", deny)
    report = hash_project.ingest([docs])
    assert [(Path(o.path).name, o.reason) for o in report.by_status("failed")] == [
        ("secret.md", "permission denied")
    ]
    assert hash_project.store.document_ids() == ["ok.md"]


def test_missing_path_is_a_usage_error(hash_project: Project, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="path not found"):
        hash_project.ingest([tmp_path / "nope"])


def test_single_file_and_chunk_offsets(hash_project: Project, tmp_path: Path) -> None:
    path = write(tmp_path / "one.md", "# T\n\n" + "Words go here. " * 200)
    hash_project.ingest([path])
    doc = hash_project.document("one.md")
    chunks = hash_project.store.chunks_of("one.md")
    assert len(chunks) > 3
    assert all(doc.text[c.start : c.end] == c.text for c in chunks)
