from hypothesis import given, settings
from hypothesis import strategies as st

from ragtune.ingest.chunking import chunk_text, split_units


def words(texts: list[str]) -> list[int]:
    return [len(t.split()) for t in texts]


DOC = """# Handbook

Intro paragraph with some words in it.

## Leave

New hires get 25 days. Carry-over is limited to five days per year.

## Expenses

Claims within 60 days.

SECURITY RULES

Lock your screen.

Setup
-----
Install the agent.

2.1 Network Ports

Port 7443 must be open.
"""


def test_sections_follow_every_heading_style() -> None:
    sections = {u.section for u in split_units(DOC)}
    assert "Handbook > Leave" in sections
    assert "Handbook > Security Rules" in sections
    assert "Handbook > Setup" in sections
    assert "Handbook > Setup > 2.1 Network Ports" in sections


def test_chunks_are_exact_slices_within_size() -> None:
    chunks = chunk_text("d", DOC, words, size=12, overlap=3)
    for c in chunks:
        assert DOC[c.start : c.end] == c.text
        assert c.n_tokens <= 12 or c.text.count("\n") == 0
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    leave = next(c for c in chunks if "25 days" in c.text)
    assert leave.section == "Handbook > Leave"


def test_long_paragraph_is_split_and_overlaps() -> None:
    text = " ".join(f"Sentence number {i} is here." for i in range(40))
    chunks = chunk_text("d", text, words, size=20, overlap=5)
    assert len(chunks) > 5
    assert all(c.n_tokens <= 20 for c in chunks)
    # Overlap: consecutive chunks share a sentence.
    assert any(chunks[i].end > chunks[i + 1].start for i in range(len(chunks) - 1))


def test_idempotent_ids() -> None:
    a = chunk_text("d", DOC, words, size=20, overlap=4)
    b = chunk_text("d", DOC, words, size=20, overlap=4)
    assert [c.id for c in a] == [c.id for c in b]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="ab cd\n.#-=XY", min_size=0, max_size=80), max_size=12))
def test_any_text_chunks_to_exact_slices_covering_all_words(parts: list[str]) -> None:
    text = "\n".join(parts)
    chunks = chunk_text("d", text, words, size=10, overlap=2)
    covered = set()
    for c in chunks:
        assert text[c.start : c.end] == c.text
        covered.update(range(c.start, c.end))
    # Every non-space character (except setext underlines) lands in some chunk.
    for i, ch in enumerate(text):
        if not ch.isspace():
            line = text[
                text.rfind("\n", 0, i) + 1 : text.find("\n", i) if "\n" in text[i:] else len(text)
            ]
            if set(line.strip()) <= {"-", "="}:
                continue
            assert i in covered, (i, text)
