"""The sample's v1 -> v2 update with the packaged embedder: the update re-embeds only the
chunks it changed, and the result is the store a fresh ingest of v2 gives (same chunks,
same vectors within float noise, same search results)."""

from pathlib import Path

import numpy as np
import pytest
from tests.conftest import EXAMPLES

from ragtune.project import Project

pytestmark = pytest.mark.slow  # the packaged embedder (runs in make test)
QUESTIONS = (
    "How many days of annual leave do full-time staff get?",
    "Where are performance reviews recorded?",
    "How many weeks of parental leave are paid at full salary?",
)


def test_v2_update_keeps_unchanged_vectors(tmp_path: Path) -> None:
    updated = Project.init(tmp_path / "updated")
    fresh = Project.init(tmp_path / "fresh")
    try:
        first = updated.ingest([EXAMPLES / "docs" / "hr"])
        assert not first.by_status("failed") and first.n_reused == 0
        update = updated.ingest([EXAMPLES / "v2" / "hr"], sync=True)
        changed = {o.doc_id for o in update.by_status("updated")}
        assert {"annual-leave.md", "performance-review.html", "parental-leave.pdf"} <= changed
        # Most chunks of a changed document are unchanged: they keep their vectors.
        assert 0 < update.n_reused < update.n_chunks

        assert not fresh.ingest([EXAMPLES / "v2" / "hr"]).by_status("failed")
        mine = {c.id: v for doc in changed for c, v in _vectors(updated, doc)}
        theirs = {c.id: v for doc in changed for c, v in _vectors(fresh, doc)}
        assert mine.keys() == theirs.keys()
        worst = max(float(np.abs(mine[k] - theirs[k]).max()) for k in mine)
        assert worst < 1e-4, worst  # batch padding moves the last float bits, nothing more
        for question in QUESTIONS:
            got = [h.chunk.id for h in updated.search(question, k=5)]
            assert got == [h.chunk.id for h in fresh.search(question, k=5)], question
    finally:
        updated.close()
        fresh.close()


def _vectors(project: Project, doc_id: str) -> list[tuple[object, np.ndarray]]:
    chunks = project.store.chunks_of(doc_id)
    vectors = [v for _, _, _, v in project.store.stored_vectors(doc_id)]
    assert len(chunks) == len(vectors)
    return list(zip(chunks, vectors, strict=True))
