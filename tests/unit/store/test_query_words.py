"""The words BM25 matches and the FTS5 query made of them."""

from __future__ import annotations

from ragtune.store.query_words import fts_query, query_words


def test_fts_query_is_safe() -> None:
    q = '"near" OR "x" OR "y"'
    assert fts_query('what is "NEAR(x) AND y*') == f'{q} OR {q} OR "what"'
    assert fts_query("the") == '"the"'
    assert fts_query("?!") == ""


def test_content_words_count_twice_and_question_words_once() -> None:
    assert query_words("How do I copy a file?") == [
        "copy",
        "file",
        "copy",
        "file",
        "how",
        "do",
        "i",
    ]
    assert query_words("what is it") == ["what", "is", "it"]  # no content word: all of them
    assert query_words("") == []
