"""RAGAS-style metrics with two judges: an offline one (lexical + embedding rules) and an
LLM judge through any generator backend.

- faithfulness: share of the answer's claims (sentences) supported by the prompt's context;
- answer relevancy: how directly the answer addresses the question;
- context precision: average precision of the passages that support the gold answer;
- context recall: share of the gold answer's claims supported by the context.

Offline rules: a claim is supported when one passage holds all of its numbers and >= 60 % of
its content words and the context sentence it matches best does not contradict it
(:func:`~ragtune.evaluation.metrics.text.supported`); answer relevancy is the MiniLM cosine of
question and answer. The LLM judge asks ``N: yes/no`` verdicts (1-5 for relevancy); a reply
that does not parse is recorded as a failed judgement (counted in the report), never a silent
NaN. Both judges give an answer that says nothing — the question again, only a passage label
or title, only a preamble, nothing at all (:func:`ragtune.text.echo.says_nothing`) — no
credit: faithfulness and relevancy 0 (a copied FAQ heading scored faithfulness 1.00 and
relevancy 0.92 before); and a sentence that restates the question or is a label is no claim.
Example::

    judge = OfflineJudge(encoder)
    [v] = judge.judge([JudgeInput("Leave?", "25 days [1].", "25 days", ["You get 25 days."])])
    v.scores["faithfulness"], v.failed        # 1.0, []
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ragtune.evaluation.metrics.text import sentences, supported
from ragtune.generate.base import GenerationOptions, Generator
from ragtune.text.echo import is_label, restates, says_nothing
from ragtune.text.markers import strip_markers

NAN = math.nan
RAGAS_METRICS = {
    "faithfulness": "share of the answer's claims (sentences) supported by its context",
    "answer_relevancy": "offline: cosine(question, answer) in MiniLM space; LLM: 1-5 rating",
    "context_precision": "average precision of the passages that support the gold answer",
    "context_recall": "share of the gold answer's claims supported by the context",
}


@dataclass(frozen=True)
class JudgeInput:
    question: str
    answer: str
    gold: str
    contexts: Sequence[str]
    abstained: bool = False
    unanswerable: bool = False
    labels: Sequence[str] = ()  # the passages' labels as the prompt showed them, titles


@dataclass
class Verdict:
    """Scores for one question (NaN = not applicable) and the metrics whose judgement
    failed (their score is NaN too, but counted as failures)."""

    scores: dict[str, float]
    failed: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"scores": dict(self.scores), "failed": list(self.failed)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        scores = {k: NAN if v is None else float(v) for k, v in data["scores"].items()}
        return cls(scores, list(data.get("failed", [])))


def _applicable(item: JudgeInput, metrics: Collection[str] | None = None) -> dict[str, bool]:
    """Which metrics apply to ``item``; with ``metrics``, only those are judged at all (the
    self-test asks one metric per perturbed answer: the others cost time, or LLM calls)."""
    has_ctx = bool(item.contexts)
    ok = {
        "faithfulness": has_ctx and not item.abstained and bool(sentences(item.answer)),
        "answer_relevancy": not item.abstained and bool(strip_markers(item.answer).strip()),
        "context_precision": has_ctx and not item.unanswerable and bool(item.gold),
        "context_recall": has_ctx and not item.unanswerable and bool(sentences(item.gold)),
    }
    return ok if metrics is None else {m: v and m in metrics for m, v in ok.items()}


def claims(item: JudgeInput) -> list[str]:
    """The answer's sentences that state something: not the question again, not a label."""
    labels = list(item.labels)
    return [
        s
        for s in sentences(item.answer)
        if not restates(item.question, s) and not is_label(s, labels)
    ]


def no_credit(item: JudgeInput) -> bool:
    """Whether the answer says nothing (see the module docs); a declined answer is judged
    by the abstention metrics instead."""
    return not item.abstained and says_nothing(item.question, item.answer, list(item.labels))


def withhold_credit(item: JudgeInput, verdict: Verdict) -> Verdict:
    """``verdict`` with faithfulness (where there is a context) and relevancy set to 0 when
    the answer says nothing; unchanged otherwise. Idempotent, so cached LLM verdicts go
    through it too. Example::

        v = withhold_credit(JudgeInput("Why X?", "Why X? [1]", "", ["X because Y."]), v)
        v.scores["faithfulness"], v.scores["answer_relevancy"]     # 0.0, 0.0
    """
    if not no_credit(item):
        return verdict
    scores = {**verdict.scores, "answer_relevancy": 0.0}
    if item.contexts:
        scores["faithfulness"] = 0.0
    failed = [m for m in verdict.failed if m not in ("faithfulness", "answer_relevancy")]
    return Verdict(scores, failed)


def average_precision(relevant: Sequence[bool]) -> float:
    """RAGAS context precision: mean of precision@k over the ranks k of relevant passages."""
    hits, total = 0, 0.0
    for k, rel in enumerate(relevant, start=1):
        if rel:
            hits += 1
            total += hits / k
    return total / hits if hits else 0.0


class OfflineJudge:
    """Deterministic judge; ``encoder`` (sentence vectors) is needed for answer relevancy."""

    name = "offline"

    def __init__(self, encoder: Any | None = None) -> None:
        self.encoder = encoder

    def judge(
        self, items: Sequence[JudgeInput], metrics: Collection[str] | None = None
    ) -> list[Verdict]:
        """One verdict per item; ``metrics`` limits what is judged (the rest stay NaN)."""
        wanted = metrics is None or "answer_relevancy" in metrics
        relevancy = self._relevancy(items) if wanted else [NAN] * len(items)
        out = []
        for item, rel in zip(items, relevancy, strict=True):
            ok = _applicable(item, metrics)
            ctx = list(item.contexts)
            scores = dict.fromkeys(RAGAS_METRICS, NAN)
            said = claims(item)
            if ok["faithfulness"] and said:
                scores["faithfulness"] = sum(supported(c, ctx) for c in said) / len(said)
            elif ok["faithfulness"]:
                scores["faithfulness"] = 0.0  # only the question or labels: no claim at all
            if ok["answer_relevancy"]:
                scores["answer_relevancy"] = rel
            if ok["context_precision"]:
                scores["context_precision"] = average_precision(
                    [supported(item.gold, [c]) for c in ctx]
                )
            if ok["context_recall"]:
                gold = sentences(item.gold)
                scores["context_recall"] = sum(supported(c, ctx) for c in gold) / len(gold)
            out.append(withhold_credit(item, Verdict(scores)))
        return out

    def _relevancy(self, items: Sequence[JudgeInput]) -> list[float]:
        if self.encoder is None or not items:
            return [NAN] * len(items)
        q = self.encoder.sentence_vectors([i.question for i in items])
        a = self.encoder.sentence_vectors([strip_markers(i.answer) or " " for i in items])
        q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
        a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
        return [max(0.0, float(x)) for x in (q * a).sum(axis=1)]


# -- LLM judge -----------------------------------------------------------------------------
_SYSTEM = "You are a strict evaluator. Follow the output format exactly."
_VERDICT = re.compile(r"^\W*(\d+)\s*[:.)\-]\s*\**\s*(yes|no)\b", re.IGNORECASE | re.MULTILINE)
_RATING = re.compile(r"\b([1-5])\b")


def _numbered(texts: Sequence[str]) -> str:
    return "\n".join(f"{n}. {t}" for n, t in enumerate(texts, start=1))


def _verdict_prompt(task: str, context: str, statements: Sequence[str]) -> str:
    return (
        f"{task}\n\nContext:\n{context}\n\nStatements:\n{_numbered(statements)}\n\n"
        "Reply with one line per statement, exactly like `1: yes` or `1: no`, and nothing else."
    )


def parse_verdicts(text: str, n: int) -> list[bool] | None:
    """``N: yes/no`` lines -> booleans for statements 1..n; None unless every one is there."""
    found: dict[int, bool] = {}
    for m in _VERDICT.finditer(text):
        found.setdefault(int(m.group(1)), m.group(2).lower() == "yes")
    if not all(k in found for k in range(1, n + 1)):
        return None
    return [found[k] for k in range(1, n + 1)]


def parse_rating(text: str) -> float | None:
    """The first digit 1-5 mapped to [0, 1]; None when there is none."""
    m = _RATING.search(text)
    return None if m is None else (int(m.group(1)) - 1) / 4.0


class LLMJudge:
    """Judges with a generator (any backend). Greedy, short replies, batched."""

    name = "llm"

    def __init__(self, generator: Generator, max_new_tokens: int = 64) -> None:
        self.generator = generator
        self.options = GenerationOptions(max_new_tokens=max_new_tokens, temperature=0.0)

    def judge(
        self, items: Sequence[JudgeInput], metrics: Collection[str] | None = None
    ) -> list[Verdict]:
        """One verdict per item; ``metrics`` limits what is asked (the rest stay NaN)."""
        jobs: list[tuple[int, str, str, int]] = []  # item, metric, prompt, statements
        for i, item in enumerate(items):
            for metric, prompt, n in self._prompts(item, metrics):
                jobs.append((i, metric, prompt, n))
        messages = [
            [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": p}]
            for _, _, p, _ in jobs
        ]
        replies = self.generator.generate(messages, self.options) if messages else []
        verdicts = [Verdict(dict.fromkeys(RAGAS_METRICS, NAN)) for _ in items]
        for (i, metric, _, n), gen in zip(jobs, replies, strict=True):
            value = self._score(metric, gen.text, n)
            if value is None:
                verdicts[i].failed.append(metric)
            else:
                verdicts[i].scores[metric] = value
        for item, v in zip(items, verdicts, strict=True):
            if _applicable(item, metrics)["faithfulness"] and not claims(item):
                v.scores["faithfulness"] = 0.0  # only the question or labels: no claim at all
        return [withhold_credit(item, v) for item, v in zip(items, verdicts, strict=True)]

    def _prompts(
        self, item: JudgeInput, metrics: Collection[str] | None = None
    ) -> list[tuple[str, str, int]]:
        ok = _applicable(item, metrics)
        if no_credit(item):  # scored 0 without asking (withhold_credit)
            ok.update(faithfulness=False, answer_relevancy=False)
        ctx = "\n".join(item.contexts)
        out = []
        said = claims(item)
        if ok["faithfulness"] and said:
            task = "Does the context support each statement?"
            out.append(("faithfulness", _verdict_prompt(task, ctx, said), len(said)))
        if ok["answer_relevancy"]:
            prompt = (
                f"Question: {item.question}\nAnswer: {strip_markers(item.answer)}\n\n"
                "How directly does the answer address the question? Reply with one digit "
                "from 1 (not at all) to 5 (fully)."
            )
            out.append(("answer_relevancy", prompt, 0))
        if ok["context_precision"]:
            task = (
                f"Question: {item.question}\nReference answer: {item.gold}\n"
                "Is each passage useful for giving the reference answer?"
            )
            prompt = _verdict_prompt(task, "(the passages are the statements)", item.contexts)
            out.append(("context_precision", prompt, len(item.contexts)))
        if ok["context_recall"]:
            gold = sentences(item.gold)
            task = "Can each statement be attributed to the context?"
            out.append(("context_recall", _verdict_prompt(task, ctx, gold), len(gold)))
        return out

    @staticmethod
    def _score(metric: str, text: str, n: int) -> float | None:
        if metric == "answer_relevancy":
            return parse_rating(text)
        verdicts = parse_verdicts(text, n)
        if verdicts is None:
            return None
        if metric == "context_precision":
            return average_precision(verdicts)
        return sum(verdicts) / len(verdicts)
