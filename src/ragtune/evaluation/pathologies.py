"""Pathology flags: answers that are wrong in shape before they are wrong in content.

On real documents one strategy answered with the question itself (the FAQ heading) and still
scored well on the judge's metrics. So every compare counts, per strategy, the share of
answers that

- ``echo``: restate the question (:func:`ragtune.text.echo.restates`);
- ``label``: are only a passage label or document title (:func:`ragtune.text.echo.is_label`);
- ``refusal``: decline an answerable question (the evaluation item says whether it is; the
  refusal is :data:`ragtune.generate.prompts.CANNOT_ANSWER`) — over answerable ones only;
- ``empty``: hold nothing, or only a preamble / talk about the passages;
- ``repetition``: repeat themselves (:func:`ragtune.text.repetition.repeats`).

They are one more metric group (``pathologies``: 0/1 per question, so means come with CIs),
and :func:`summary` lists what is above :data:`FLAG_SHARE` — the advisor, the report and
``compare`` flag those. Example::

    kinds("Why are strings immutable?", "Why are strings immutable? [1]", [],
          abstained=False, answerable=True)                                   # ["echo"]
    flagged(results)        # {"rag": {"echo": 0.23}}: above 10 % of its answers
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from ragtune.evaluation.sections import FLAG_SHARE, Pathologies
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.text.echo import content, is_label, restates, says_nothing, strip_preamble
from ragtune.text.markers import blank_markers
from ragtune.text.repetition import repeats

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results

EXAMPLES = 5  # question ids kept per flagged kind, for the drill-down
PATHOLOGY_METRICS = {
    "echo": "share of answers that only restate the question",
    "label": "share of answers that are only a passage label or document title",
    "refusal": "answerable questions only: share the system declined "
    "('I cannot answer from the documents.')",
    "empty": "share of answers with nothing in them (or only a preamble such as 'The answer is:')",
    "repetition": "share of answers that repeat themselves (a sentence twice, or a 5-word "
    "phrase 3+ times)",
    "any_pathology": "share of answers with at least one of the above",
}
KINDS = tuple(k for k in PATHOLOGY_METRICS if k != "any_pathology")
_WORD = re.compile(r"\w")


def kinds(
    question: str, text: str, labels: Sequence[str], *, abstained: bool, answerable: bool
) -> list[str]:
    """The pathologies of one answer, in :data:`KINDS` order (``[]``: none). A refusal is
    nothing else; declining an unanswerable question is right, so it is no pathology."""
    if abstained or CANNOT_ANSWER.rstrip(".").lower() in text.lower():
        return ["refusal"] if answerable else []
    if not _WORD.search(blank_markers(text)):
        return ["empty"]
    found = []
    rest = strip_preamble(text)
    if is_label(text, list(labels)):
        found.append("label")
    elif content(rest) and restates(question, rest):
        found.append("echo")
    elif says_nothing(question, text, list(labels)):
        found.append("empty")  # a bare preamble, talk about "the context"
    if repeats(text):
        found.append("repetition")
    return found


def pathology_scores(
    questions: Sequence[str],
    texts: Sequence[str],
    labels: Sequence[Sequence[str]],
    abstained: Sequence[bool],
    answerable: Sequence[bool],
) -> dict[str, list[float]]:
    """Per-question 0/1 values of every :data:`PATHOLOGY_METRICS` entry (``refusal`` is NaN
    on unanswerable questions: its share is over the answerable ones)."""
    out: dict[str, list[float]] = {k: [] for k in PATHOLOGY_METRICS}
    rows = zip(questions, texts, labels, abstained, answerable, strict=True)
    for question, text, labs, declined, can in rows:
        found = kinds(question, text, labs, abstained=declined, answerable=can)
        for kind in KINDS:
            out[kind].append(float(kind in found) if can or kind != "refusal" else math.nan)
        out["any_pathology"].append(float(bool(found)))
    return out


def _share(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None and not math.isnan(v)]
    return sum(known) / len(known) if known else None


def summary(per: Mapping[str, Mapping[str, Sequence[float]]], ids: Sequence[str]) -> Pathologies:
    """What the results JSON keeps besides the metric group: the threshold, each strategy's
    kinds above it, and the first question ids of each flagged kind."""
    flags: dict[str, dict[str, float]] = {}
    examples: dict[str, dict[str, list[str]]] = {}
    for label, scores in per.items():
        for kind in KINDS:
            share = _share(scores.get(kind, []))
            if share is not None and share > FLAG_SHARE:
                flags.setdefault(label, {})[kind] = share
                hits = [i for i, v in zip(ids, scores[kind], strict=True) if v == 1.0]
                examples.setdefault(label, {})[kind] = hits[:EXAMPLES]
    return Pathologies(FLAG_SHARE, flags, examples)


def flagged(results: Results) -> dict[str, dict[str, float]]:
    """``{strategy: {kind: share}}`` for every kind above the threshold, read from the
    results' metric means (results from before pathologies were measured: ``{}``)."""
    threshold = results.pathologies.threshold
    out: dict[str, dict[str, float]] = {}
    for kind in KINDS:
        for label in results.labels:
            stat = results.metric("pathologies", kind, label)
            if stat is not None and stat.mean > threshold:
                out.setdefault(label, {})[kind] = float(stat.mean)
    return out


def flag_text(kinds_: Mapping[str, float]) -> str:
    """``"echo 23 %, label 12 %"`` (largest first)."""
    ranked = sorted(kinds_.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v:.0%}".replace("%", " %") for k, v in ranked)
