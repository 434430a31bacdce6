"""A small constructed run for the judge's self-test: six questions with one passage each
(numbers, auxiliaries to negate, other topics to borrow an off-topic sentence from), a
``rag`` strategy answering from its passage (one answer unsupported), a ``base`` strategy
without passages; judged by the real offline judge with the hash embedder."""

from __future__ import annotations

from typing import Any

from ragtune.embed.base import HashEmbedder
from ragtune.evaluation.metrics.answers import EmbedderEncoder
from ragtune.evaluation.metrics.ragas import JudgeInput, OfflineJudge, Verdict
from ragtune.evaluation.selftest import Judged

PASSAGES = {
    "leave": "A full-time employee gets 25 working days of paid annual leave per year. Unused "
    "leave can be carried over to the next year, up to 5 days. Leave requests are approved "
    "by the line manager in PeopleHub.",
    "parking": "Parking at Quayside House is free for employees with a permit. Permits are "
    "issued by reception within 2 working days. Visitors must park in the public car park "
    "on Dock Street.",
    "expenses": "Expense claims are submitted in Ledgerly within 30 days of purchase. Claims "
    "above 200 EUR must be approved by the finance team. Mileage is reimbursed at a fixed "
    "rate per kilometre.",
    "oncall": "Each on-call week is paid with a fixed stipend of 300 EUR. Pages must be "
    "acknowledged within 15 minutes of the alert. The secondary engineer is paged when the "
    "primary has not responded.",
    "backups": "Database backups run every night and are kept for 35 days. Restores can be "
    "requested through the service desk. A restore of a single table takes about 4 hours.",
    "laptops": "New employees receive a laptop on their first day. Laptops are replaced every "
    "4 years by the IT team. Lost laptops must be reported to security within 24 hours.",
}
QUESTIONS = {
    "leave": ("How many days of annual leave does a full-time employee get?",
              "A full-time employee gets 25 working days of paid annual leave per year. [1]"),
    "parking": ("Where must visitors park at Quayside House?",
                "Visitors must park in the public car park on Dock Street. [1]"),
    "expenses": ("How soon must expense claims be submitted?",
                 "Expense claims are submitted in Ledgerly within 30 days of purchase. [1]"),
    "oncall": ("How quickly must an on-call page be acknowledged?",
               "Pages must be acknowledged within 15 minutes of the alert. [1]"),
    "backups": ("How long are database backups kept?",
                "Database backups are kept for 35 days. [1]"),
    "laptops": ("How often are laptops replaced?",
                "Laptops are replaced every 4 years by the IT team. [1]"),
}  # fmt: skip
UNSUPPORTED = ("unsupported", "Can employees buy their old laptop?",
               "Employees may buy their old laptop for 1 EUR. [1]")  # fmt: skip


def inputs(base: bool = False) -> list[tuple[str, JudgeInput]]:
    """(question id, judge input) of the ``rag`` answers, or of ``base`` (no passages, a
    guess that shares the question's words)."""
    out = []
    for qid, (question, answer) in QUESTIONS.items():
        if base:
            out.append((qid, JudgeInput(question, f"Probably: {question.rstrip('?')}, I think.",
                                        "", [])))  # fmt: skip
        else:
            out.append((qid, JudgeInput(question, answer, "", [PASSAGES[qid]])))
    if not base:
        qid, question, answer = UNSUPPORTED
        out.append((qid, JudgeInput(question, answer, "", [PASSAGES["laptops"]])))
    return out


def small_run(judge: Any | None = None) -> dict[str, list[Judged]]:
    """``{"rag": [...], "base": [...]}`` judged by ``judge`` (default: the offline judge)."""
    judge = judge or OfflineJudge(EmbedderEncoder(HashEmbedder(64)))
    out = {}
    for label, base in (("rag", False), ("base", True)):
        given = inputs(base)
        verdicts: list[Verdict] = judge.judge([g for _, g in given])
        out[label] = [Judged(label, q, g, v) for (q, g), v in zip(given, verdicts, strict=True)]
    return out


class YesJudge:
    """A deliberately weak judge: every claim supported, every answer relevant."""

    name = "yes"

    def judge(self, items: Any, metrics: Any = None) -> list[Verdict]:
        return [Verdict({"faithfulness": 1.0, "answer_relevancy": 1.0}) for _ in items]
