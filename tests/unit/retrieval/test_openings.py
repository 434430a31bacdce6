"""A section is read from its opening: the chunk holding its heading comes first."""

from pathlib import Path

from tests.conftest import write

from ragtune.project import Project
from ragtune.retrieval.openings import lift_openings
from ragtune.types import Chunk, ScoredChunk


def _hit(ordinal: int, section: str, text: str, score: float, doc: str = "faq.md") -> ScoredChunk:
    chunk = Chunk(f"{doc}#{ordinal}", doc, text, 0, len(text), ordinal, section)
    return ScoredChunk(chunk=chunk, score=score)


def test_the_opening_chunk_takes_the_place_of_the_later_chunk() -> None:
    question = "FAQ > How do I rotate keys?"
    hits = [
        _hit(5, question, "Run the rotation twice.", 0.9),
        _hit(9, "Other", "Unrelated.", 0.8),
        _hit(4, "FAQ > Old question", "Old answer.\n\nHow do I rotate keys?\n\nFirst...", 0.5),
    ]
    lifted = lift_openings(hits, within=3)
    assert [h.chunk.ordinal for h in lifted] == [4, 5, 9]
    assert [h.score for h in lifted] == [0.9, 0.9, 0.8]  # scores still fall down the list


def test_nothing_moves_without_a_candidate_that_holds_the_heading() -> None:
    hits = [
        _hit(5, "FAQ > How do I rotate keys?", "Run the rotation twice.", 0.9),
        _hit(4, "FAQ > Old question", "Old answer without the heading.", 0.5),
        _hit(3, "FAQ > How do I rotate keys?", "How do I rotate keys?", 0.4, doc="other.md"),
        _hit(1, "", "No section at all.", 0.3),
    ]
    assert lift_openings(hits, within=4) == hits
    assert lift_openings([], within=3) == []


def test_only_the_top_places_are_changed() -> None:
    hits = [
        _hit(9, "Other", "Unrelated.", 0.9),
        _hit(5, "FAQ > How do I rotate keys?", "Run the rotation twice.", 0.8),
        _hit(4, "FAQ > How do I rotate keys?", "How do I rotate keys?\n\nFirst...", 0.1),
    ]
    assert [h.chunk.ordinal for h in lift_openings(hits, within=1)] == [9, 5, 4]
    assert [h.chunk.ordinal for h in lift_openings(hits, within=2)] == [9, 4, 5]


def test_hybrid_search_returns_the_section_opening_first(
    hash_project: Project, tmp_path: Path
) -> None:
    """Through the real store: the later chunk repeats the query's words more often, so it
    ranks above the opening chunk; with lift_openings the opening chunk comes first."""
    filler = " ".join(f"Background sentence number {i} about operations." for i in range(12))
    text = (
        "# Operations FAQ\n\n## How do I rotate the signing keys?\n\n"
        f"{filler}\n\n"
        + "Rotate signing keys: rotate the signing keys with the rotate command. "
        * 4
    )
    write(tmp_path / "docs" / "faq.md", text)
    hash_project.ingest([tmp_path / "docs"])
    query = "rotate signing keys"
    hash_project.settings.retrieval.lift_openings = False
    plain = hash_project.search(query, mode="hybrid", k=3)
    hash_project.settings.retrieval.lift_openings = True
    lifted = hash_project.search(query, mode="hybrid", k=3)
    assert plain[0].chunk.ordinal > lifted[0].chunk.ordinal
    assert "## How do I rotate the signing keys?" in lifted[0].chunk.text
    assert {h.chunk.id for h in lifted} == {h.chunk.id for h in plain}
