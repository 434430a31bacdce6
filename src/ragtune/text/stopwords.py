"""The stop-word lists, each named for the one job it does. They differ on purpose, and
each was measured where it is used; this module keeps them side by side so a change to one
is made knowing the others:

- :data:`QUERY` — words a question is phrased with: BM25 matches them at half weight
  (``store.query_words``; bench/NOTES.md, "BM25 query words").
- :data:`NEVER_MATCHED` — Lucene's English list: too common to match even at half weight.
- :data:`EVIDENCE` — not counted when scoring how well a sentence covers a question
  (``retrieval.evidence``: the abstention and extract scores).
- :data:`CLAIM` — not content words of a claim or an answer: the offline judge's coverage,
  inferred citations and groundedness (``generate.citations.content_words``); it also
  holds the abstention sentence's words, so "I cannot answer from the documents" claims
  nothing.
- :data:`QA` — function words of generated training questions and answers
  (``finetune.qa_rules``, ``finetune.imports``).
"""

from __future__ import annotations

# fmt: off
QUERY = frozenset(
    "a an and are as at be by can do does for from how i in is it of on or our the this to we "
    "what when where which who why will with you your".split()
)
NEVER_MATCHED = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their "
    "then there these they this to was will with".split()
)
EVIDENCE = frozenset(
    "a about after all also an and any are as at be been before being but by can could did do "
    "many much "
    "does doing for from get gets got had has have how i if in into is it its just may me "
    "might more most must my no not of on one only or other our out over own same should so "
    "some such than that the their them then there these they this those through to too under "
    "until up us very was we were what when where which while who whom why will with would "
    "you your".split()
)
CLAIM = frozenset(
    "a an and are as at be by can do does for from has have how i if in is it its not of on "
    "or that the their there this to was we were what when where which who will with you "
    "your cannot answer documents".split()
)
QA = frozenset(
    "a an and are as at be been but by can could do does for from had has have how i if in into "
    "is it its may must not of on or our shall should so than that the their them then there "
    "these they this those to was we were what when where which who why will with would you "
    "your".split())
# fmt: on
