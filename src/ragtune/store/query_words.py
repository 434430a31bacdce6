"""The words of a search text that BM25 matches, and the FTS5 query made of them.

Shared by FTS5's own ranking and the scoped BM25 (:mod:`ragtune.store.scoped_bm25`), so both
weigh a query's words the same way. Example::

    query_words("How do I copy a file?")  # ["copy", "file", "copy", "file", "how", "do", "i"]
    fts_query("what is NEAR(x)")  # '"near" OR "x" OR "near" OR "x" OR "what"'
"""

from __future__ import annotations

import re

from ragtune.text.stopwords import NEVER_MATCHED, QUERY
from ragtune.text.words import WORD as _TOKEN


def query_words(text: str) -> list[str]:
    """The words of ``text`` to match, a word repeated once per unit of weight (FTS5 scores
    every OR-ed phrase, and so does the scoped BM25): content words twice, then the words a
    question is phrased with ("what", "how", "do", "i") once. Those matter on FAQ and Q&A
    pages, whose headings are questions ("How do I copy a file?" finds that heading), but
    at full weight they pull in every reference page that says "how"; at half weight they do
    the first without the second (bench/NOTES.md, "BM25 query words"). A text with no content
    word is matched on all its words."""
    words = list(dict.fromkeys(_TOKEN.findall(text.lower())))
    content = [w for w in words if w not in QUERY]
    if not content:
        return words
    return content + content + [w for w in words if w in QUERY and w not in NEVER_MATCHED]


def fts_query(text: str) -> str:
    """A safe FTS5 OR-query of :func:`query_words` ('' when ``text`` has no word)."""
    return " OR ".join(f'"{w}"' for w in query_words(text))


_PHRASE = re.compile(r"[^\W_]_+[^\W_]")


def is_phrase(word: str) -> bool:
    """True for a query word FTS5 splits into several tokens ("py_buildvalue": ``_``
    separates tokens), which FTS5 matches as a phrase."""
    return bool(_PHRASE.search(word))
