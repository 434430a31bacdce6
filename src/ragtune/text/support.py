"""Whether a text holds a claim's words: the one coverage rule behind every "is this
supported" check, with a named threshold for each use.

Each use keeps its own words (the judge and citations: content words and numbers; training
data: plural-folded words) and, where it matters, asks separately that every number of the
claim is in the source; the rule and the thresholds are here, side by side:

- :data:`JUDGE_MIN_SHARE` — the offline judge: a claim is supported by a passage
  (faithfulness, context recall and precision, citation support).
- :data:`GROUNDED_MIN_SHARE` — an answer is drawn from its passages at all (looser: a
  paraphrase stands; text from the model's own memory does not).
- :data:`CITATION_MIN_SHARE` — a passage is cited for an answer that cites nothing.
- :data:`TRAINING_MIN_SHARE` — a generated question-answer pair's answer is in its source
  (stricter: a training target the document does not say teaches the model to invent).
"""

from __future__ import annotations

from collections.abc import Collection

JUDGE_MIN_SHARE = 0.6
GROUNDED_MIN_SHARE = 0.5
CITATION_MIN_SHARE = 0.5
TRAINING_MIN_SHARE = 0.8


def share_held(words: Collection[str], have: Collection[str]) -> float:
    """The share of ``words`` (repeats counted) that ``have`` contains; 0.0 with no words."""
    if not words:
        return 0.0
    held = have if isinstance(have, set | frozenset) else set(have)
    return sum(w in held for w in words) / len(words)


def holds(words: Collection[str], have: Collection[str], min_share: float) -> bool:
    """The rule: at least ``min_share`` of ``words`` are in ``have``; never with no words."""
    return bool(words) and share_held(words, have) >= min_share
