"""The one support rule and its named thresholds, as each use applies it."""

from ragtune.evaluation.metrics.text import supported, ungrounded
from ragtune.finetune.imports import supported as training_supported
from ragtune.generate.citations import infer_citations
from ragtune.text import stopwords
from ragtune.text.support import (
    CITATION_MIN_SHARE,
    GROUNDED_MIN_SHARE,
    JUDGE_MIN_SHARE,
    TRAINING_MIN_SHARE,
    holds,
    share_held,
)
from ragtune.types import Chunk, ScoredChunk


def test_the_rule_counts_repeats_and_never_holds_nothing() -> None:
    assert share_held(["leave", "leave", "paid"], {"leave"}) == 2 / 3
    assert share_held([], {"x"}) == 0.0 and not holds([], {"x"}, 0.0)
    assert holds(["a", "b"], ["a"], 0.5) and not holds(["a", "b"], ["a"], 0.51)
    # stricter where a wrong "yes" costs more: training targets, then the judge's claims
    assert TRAINING_MIN_SHARE > JUDGE_MIN_SHARE > GROUNDED_MIN_SHARE == CITATION_MIN_SHARE


def test_each_use_applies_its_threshold() -> None:
    source = "New hires get 25 days of paid annual leave each year, booked in the HR portal."
    # the judge: 3 of 4 content words and the number -> supported; a changed number is not
    assert supported("Hires get 25 days of leave.", [source])
    assert not supported("Hires get 27 days of leave.", [source])
    # grounded is looser than supported: half the answer's words is enough
    assert not ungrounded("25 days a year, they say.", [source])
    # training data: 4 of 5 words is the floor (the number must be there too)
    assert training_supported("new hires get 25 days", source)
    assert not training_supported("new hires get 30 days", source)
    # a passage holding at least half of an answer's words is cited for it
    hit = ScoredChunk(Chunk("c1", "d", source, 0, len(source)), 1.0, "Leave")
    assert [c.doc_id for c in infer_citations("Hires get 25 days of paid leave.", [hit])] == ["d"]
    assert infer_citations("Parking costs 5 pounds a day.", [hit]) == []


def test_the_stop_lists_are_named_for_their_jobs() -> None:
    assert "what" in stopwords.QUERY and "what" not in stopwords.NEVER_MATCHED
    assert {"cannot", "answer", "documents"} <= stopwords.CLAIM  # the abstention claims nothing
    assert "leave" not in stopwords.EVIDENCE | stopwords.QA
