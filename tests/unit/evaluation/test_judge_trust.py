"""The judge does not call a contradicted claim supported, and gives an answer that says
nothing (the question again, a passage label, a bare preamble) no credit — offline and LLM.
The last test runs the real judge on the bundled sample: context sentences edited the way a
generator edits them are caught, the sentences themselves never."""

from __future__ import annotations

import math
import random
import re
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES
from tests.helpers.fakes import QueuedGenerator

from ragtune.config import Settings
from ragtune.embed.base import HashEmbedder
from ragtune.evaluation.datasets import EvalItem, load_eval_file
from ragtune.evaluation.metrics.answers import EmbedderEncoder
from ragtune.evaluation.metrics.ragas import JudgeInput, LLMJudge, OfflineJudge, Verdict
from ragtune.evaluation.metrics.text import contradicted, coverage, supported
from ragtune.evaluation.scoring import score_answers
from ragtune.project import Project
from ragtune.text.sentences import SENTENCE, clean, units
from ragtune.types import Answer, Chunk, Citation, ScoredChunk

ENC = EmbedderEncoder(HashEmbedder(64))
CTX = [
    "Annual leave\n\nA full-time employee gets 25 working days of paid annual leave per year. "
    "Unused leave is carried over to the next year, up to 5 days.",
    "Parking at Quayside House is free for employees.",
]
QUESTION = "How many days of annual leave does a full-time employee get?"
LABELS = ("[1] Annual Leave Policy — Leave year and entitlement", "Annual Leave Policy")


def _faith(answer: str, question: str = QUESTION) -> float:
    [v] = OfflineJudge(ENC).judge([JudgeInput(question, answer, "25 working days", CTX)])
    return v.scores["faithfulness"]


def test_negated_context_sentence_is_not_supported() -> None:
    # Word coverage alone gave these full faithfulness (every word is in the context).
    assert _faith("A full-time employee gets 25 working days of paid annual leave.") == 1.0
    assert _faith("A full-time employee does not get 25 working days of paid annual leave.") == 0
    assert _faith("Unused leave is never carried over to the next year.") == 0.0
    assert _faith("Parking at Quayside House is not free for employees.") == 0.0
    two = "A full-time employee gets 25 working days of paid annual leave. Parking is not free."
    assert _faith(two) == 0.5


@pytest.mark.parametrize(
    ("claim", "kind"),
    [
        ("A full-time employee gets 52 working days of paid annual leave per year.", "number"),
        ("A full-time employee gets 25 working weeks of paid annual leave per year.", "unit"),
        ("A full-time employee gets 25 working days of unpaid annual leave per year.", "antonym"),
        ("Used leave is carried over to the previous year, up to 5 days.", "antonym"),
    ],
)
def test_changed_numbers_units_and_antonyms_are_not_supported(claim: str, kind: str | None) -> None:
    assert not supported(claim, CTX)
    if kind:
        assert (contradicted(claim, CTX) or "").startswith(kind)


def test_paraphrase_stays_supported() -> None:
    assert supported("Employees get 25 working days of paid annual leave per year.", CTX)
    assert supported("Up to 5 days of unused leave is carried over to the next year.", CTX)
    assert contradicted("Employees can park for free at Quayside House.", CTX) is None


@pytest.mark.parametrize(
    "answer",
    [
        "How many days of annual leave does a full-time employee get? [1]",  # the question
        "[1] Annual Leave Policy — Leave year and entitlement",  # the passage label
        "Annual Leave Policy [1]",  # the title
        "The answer to the question is:",  # only a preamble
        "",  # nothing
    ],
)
def test_an_answer_that_says_nothing_gets_no_credit(answer: str) -> None:
    item = JudgeInput(QUESTION, answer, "25 working days", CTX, labels=LABELS)
    [v] = OfflineJudge(ENC).judge([item])
    assert v.scores["faithfulness"] == 0.0 and v.scores["answer_relevancy"] == 0.0
    gen = QueuedGenerator(["1: yes\n2: no", "1: yes"])  # context precision and recall only
    [w] = LLMJudge(gen).judge([item])  # type: ignore[arg-type]
    assert w.scores["faithfulness"] == 0.0 and w.scores["answer_relevancy"] == 0.0
    assert len(gen.prompts) == 2 and w.failed == []


def test_an_echoed_question_is_no_claim_of_a_real_answer() -> None:
    answer = f"{QUESTION} A full-time employee gets 25 working days of paid annual leave."
    item = JudgeInput(QUESTION, answer, "25 working days", CTX, labels=LABELS)
    [v] = OfflineJudge(ENC).judge([item])
    assert v.scores["faithfulness"] == 1.0 and v.scores["answer_relevancy"] > 0.0


def test_declining_is_judged_by_the_abstention_metrics_not_here() -> None:
    item = JudgeInput(QUESTION, "I cannot answer from the documents.", "", CTX, abstained=True)
    [v] = OfflineJudge(ENC).judge([item])
    assert math.isnan(v.scores["faithfulness"]) and math.isnan(v.scores["answer_relevancy"])


def _answer(text: str) -> dict:
    chunk = Chunk("c1", "hr/leave.md", CTX[0], 0, len(CTX[0]), section="Leave year")
    hit = ScoredChunk(chunk, 1.0, title="Annual Leave Policy")
    cite = Citation(1, "c1", "hr/leave.md", "Annual Leave Policy", "", 0, 12, CTX[0][:12])
    ans = Answer(QUESTION, text, "rag", citations=[cite], contexts=[hit])
    return {"answer": ans.to_dict(), "abstained": False}


def test_citations_of_an_answer_that_says_nothing_earn_nothing() -> None:
    items = [
        EvalItem("q1", QUESTION, "25 working days"),
        EvalItem("q2", QUESTION, "25 working days"),
    ]
    records = {
        "q1": _answer("A full-time employee gets 25 working days of paid annual leave [1]."),
        "q2": _answer("Annual Leave Policy [1]"),
    }
    verdicts = [Verdict({"faithfulness": 1.0}), Verdict({"faithfulness": 0.0})]
    s = score_answers(items, records, verdicts, None, retrieves=True)
    assert s["citation_precision"] == [1.0, 0.0] and s["citation_recall"] == [1.0, 0.0]
    assert s["label"] == [0.0, 1.0] and s["any_pathology"] == [0.0, 1.0]


_AUX = re.compile(r"\b(is|are|can|must|should|will|may)\b")
_NUM = re.compile(r"(?<![\w.:])(\d+)(?![\w.:]\d)")


def _sentences(text: str) -> list[str]:
    return [c for u in units(text) if u.kind == SENTENCE and len((c := clean(u.text)).split()) > 5]


@pytest.fixture(scope="module")
def sample_cases(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[EvalItem, list[str]]]:
    settings = Settings.load(None, embedder={"name": "hash"})
    root: Path = tmp_path_factory.mktemp("judge")
    with Project.init(root, settings) as project:
        project.ingest([EXAMPLES / "docs"])
        out = []
        for item in load_eval_file(EXAMPLES / "eval.jsonl"):
            if item.unanswerable:
                continue
            chunks = [c.text for d in item.source_docs for c in project.store.chunks_of(d)]
            key = item.question + " " + item.answer
            out.append((item, sorted(chunks, key=lambda c: -coverage(key, c))[:5]))
    return out


def test_judge_catches_edited_context_sentences_on_the_sample(
    sample_cases: list[tuple[EvalItem, list[str]]],
) -> None:
    rng = random.Random(21)
    edits: dict[str, list[bool]] = {"negated": [], "number": [], "verbatim": []}
    for _item, ctx in sample_cases:
        sents = [s for c in ctx for s in _sentences(c)]
        negatable = [s for s in sents if _AUX.search(s)]
        numbered = [s for s in sents if _NUM.search(s)]
        if negatable:
            s = rng.choice(negatable)
            m = _AUX.search(s)
            assert m is not None
            edits["negated"].append(not supported(s[: m.end()] + " not" + s[m.end() :], ctx))
        if numbered:
            s = rng.choice(numbered)
            m = rng.choice(list(_NUM.finditer(s)))
            new = str(int(m.group(1)) * 2 + 1)
            edits["number"].append(not supported(s[: m.start()] + new + s[m.end() :], ctx))
        if sents:
            edits["verbatim"].append(not supported(rng.choice(sents), ctx))
    rates = {k: sum(v) / len(v) for k, v in edits.items()}
    print("caught on the sample:", {k: f"{v:.0%} of {len(edits[k])}" for k, v in rates.items()})
    assert all(len(v) >= 50 for v in edits.values())
    assert rates["negated"] >= 0.9 and rates["number"] >= 0.9  # coverage alone: 3 %, 89 %
    assert rates["verbatim"] == 0.0
