from ragtune.types import Chunk, Document, FileOutcome, IngestReport, ScoredChunk, chunk_id_for


def test_chunk_ids_are_content_hashes() -> None:
    assert chunk_id_for("a.md", 0, "hello") == chunk_id_for("a.md", 0, "hello")
    assert chunk_id_for("a.md", 0, "hello") != chunk_id_for("a.md", 0, "hello!")
    assert chunk_id_for("a.md", 0, "hello") != chunk_id_for("b.md", 0, "hello")


def test_round_trips() -> None:
    doc = Document("a", "A", "text", "h", groups=("hr",), metadata={"x": 1})
    assert Document.from_dict(doc.to_dict()) == doc
    chunk = Chunk("c1", "a", "text", 0, 4, section="S")
    hit = ScoredChunk(chunk, 0.5, title="A", scores={"bm25": 1.0})
    assert ScoredChunk.from_dict(hit.to_dict()) == hit


def test_report_counts() -> None:
    report = IngestReport()
    report.add(FileOutcome("a", "added", n_chunks=3))
    report.add(FileOutcome("b", "failed", reason="x"))
    assert report.counts()["added"] == 1 and report.counts()["failed"] == 1
    assert report.n_chunks == 3
