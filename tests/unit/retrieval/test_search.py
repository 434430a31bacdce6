"""Search through the real SQLite store and FTS5 (hash embedder keeps it fast)."""

from pathlib import Path

import pytest
from tests.conftest import write

from ragtune.errors import UsageError
from ragtune.project import Project


@pytest.fixture
def corpus(hash_project: Project, tmp_path: Path) -> Project:
    docs = tmp_path / "docs"
    # 30 HR documents that mention "laptop" many times: they outrank everything for bm25.
    for i in range(30):
        fm = f"---\ndepartment: hr\nyear: {2000 + i}\ngroups: [hr]\n---\n"
        write(docs / f"hr{i:02d}.md", fm + f"Laptop laptop laptop policy number {i}.\n")
    for i in range(6):
        fm = f"---\ndepartment: it\nyear: {2010 + i}\n---\n"
        write(docs / f"it{i}.md", fm + f"The laptop refresh happens every {i + 3} years.\n")
    hash_project.ingest([docs])
    return hash_project


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_filter_applies_inside_the_query(corpus: Project, mode: str) -> None:
    hits = corpus.search("laptop laptop policy", mode=mode, k=5, filters="department = it")
    assert len(hits) == 5 and {h.metadata["department"] for h in hits} == {"it"}


@pytest.mark.parametrize("mode", ["bm25", "dense", "hybrid"])
def test_acl_applies_inside_the_query(corpus: Project, mode: str) -> None:
    hits = corpus.search("laptop", mode=mode, k=6, groups=["eng"])
    assert len(hits) == 6 and all(h.doc_id.startswith("it") for h in hits)
    assert len(corpus.search("laptop", mode=mode, k=40, groups=["hr"])) == 36
    assert len(corpus.search("laptop", mode=mode, k=40)) == 36


@pytest.mark.parametrize("fusion", ["lead_rrf", "rrf", "convex", "dbsf"])
def test_every_fusion_keeps_filters_and_acl(corpus: Project, fusion: str) -> None:
    retriever = corpus.retriever
    hits = retriever.search("laptop refresh", mode="hybrid", k=6, groups=["eng"], fusion=fusion)
    assert len(hits) == 6 and all(h.doc_id.startswith("it") for h in hits)
    assert set(hits[0].scores) == {"bm25", "dense"}
    with pytest.raises(UsageError, match="lead_rrf, rrf, convex, dbsf"):
        retriever.search("laptop", mode="hybrid", fusion="max")


def test_ranges_in_and_exists(corpus: Project) -> None:
    hits = corpus.search("laptop", mode="bm25", k=50, filters="year >= 2013 and year < 2020")
    expected = [*range(2013, 2020), *range(2013, 2016)]  # hr years 2000-29, it 2010-15
    assert sorted(int(h.metadata["year"]) for h in hits) == sorted(expected)
    hits = corpus.search("laptop", mode="bm25", k=50, filters="id in (it1.md, it2.md)")
    assert sorted(h.doc_id for h in hits) == ["it1.md", "it2.md"]
    assert corpus.search("laptop", mode="dense", k=50, filters="not exists(year)") == []


def test_bad_arguments(corpus: Project) -> None:
    with pytest.raises(UsageError, match="bm25, dense, hybrid"):
        corpus.search("x", mode="semantic")
    with pytest.raises(UsageError, match="k must be"):
        corpus.search("x", k=0)
    with pytest.raises(UsageError, match="empty"):
        corpus.search("   ")


def test_removed_document_disappears_from_every_mode(corpus: Project) -> None:
    assert corpus.remove("it0.md")
    for mode in ("bm25", "dense", "hybrid"):
        assert "it0.md" not in {h.doc_id for h in corpus.search("laptop", mode=mode, k=50)}


def test_dense_cache_rebuilds_when_stale(corpus: Project, tmp_path: Path) -> None:
    before = corpus.search("refresh years", mode="dense", k=3)
    # A second project object on the same folder shares the cache files.
    again = Project.open(corpus.root, corpus.settings)
    assert [h.chunk.id for h in again.search("refresh years", mode="dense", k=3)] == [
        h.chunk.id for h in before
    ]
    write(tmp_path / "more" / "it9.md", "The laptop refresh years policy.\n")
    again.ingest([tmp_path / "more"])
    assert "it9.md" in {h.doc_id for h in corpus.search("refresh years", mode="dense", k=3)}
    again.close()


def test_bm25_finds_the_faq_heading_phrased_like_the_question(
    hash_project: Project, tmp_path: Path
) -> None:
    # The reference page says "copy" and "file" more often; the FAQ entry's heading is the
    # question. Content words alone rank the reference page first; the question's phrasing
    # words ("how", "do", "i"), at half weight, find the entry.
    write(
        tmp_path / "d" / "faq.md",
        "# Library FAQ\n\n## How do I copy a file?\n\nThe shutil module has copyfile().\n",
    )
    write(
        tmp_path / "d" / "ref.md",
        "# File operations\n\nTo copy a file, copy its bytes; a file copy keeps the file mode "
        "when copy is asked to.\n",
    )
    hash_project.ingest([tmp_path / "d"])
    for groups in (None, ["staff"]):  # whole-index FTS5 and the scoped BM25 agree
        hits = hash_project.search("How do I copy a file?", mode="bm25", k=2, groups=groups)
        assert [h.chunk.doc_id for h in hits] == ["faq.md", "ref.md"]
