"""Per-question scores of one strategy's stored answers: every metric as a list aligned
with the evaluation items (NaN where a metric does not apply), pathology flags included.
Example::

    scores = score_answers(items, store.answers("main", "rag"), verdicts, encoder,
                           retrieves=True)
    scores["f1"][0], scores["recall@k"][0], scores["latency_generate"][0]
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from ragtune.evaluation.datasets import EvalItem
from ragtune.evaluation.metrics.answers import Encoder, answer_scores
from ragtune.evaluation.metrics.citations import citation_scores
from ragtune.evaluation.metrics.ragas import JudgeInput, Verdict, no_credit
from ragtune.evaluation.metrics.retrieval import retrieval_scores
from ragtune.evaluation.metrics.text import supported
from ragtune.evaluation.pathologies import pathology_scores
from ragtune.generate.prompts import block_header
from ragtune.types import Answer

STAGES = ("retrieve", "rerank", "evidence", "prompt", "generate")  # the usual order
ROBUSTNESS_METRICS = {
    "f1_original": "token F1 on the first phrasing of facts that have alternative phrasings",
    "f1_alternative": "token F1 on the alternative phrasings of those facts",
}


def answers_of(items: Sequence[EvalItem], records: Mapping[str, Any]) -> list[Answer]:
    missing = [i.id for i in items if i.id not in records]
    if missing:
        raise RuntimeError(f"{len(missing)} question(s) have no stored answer, e.g. {missing[0]}")
    return [Answer.from_dict(records[i.id]["answer"]) for i in items]


def passage_labels(answer: Answer) -> list[str]:
    """What an answer could copy instead of answering: each prompt block's header
    (``[1] Title — Section``), and the titles of its passages and citations."""
    labels = [block_header(n, hit) for n, hit in enumerate(answer.contexts, start=1)]
    titles = [hit.title for hit in answer.contexts] + [c.title for c in answer.citations]
    return labels + sorted({t for t in titles if t})


def judge_inputs(
    items: Sequence[EvalItem], answers: Sequence[Answer], records: Mapping[str, Any]
) -> list[JudgeInput]:
    return [
        JudgeInput(
            i.question,
            a.text,
            i.answer,
            [c.chunk.text for c in a.contexts],
            bool(records[i.id]["abstained"]),
            i.unanswerable,
            tuple(passage_labels(a)),
        )
        for i, a in zip(items, answers, strict=True)
    ]


def _robustness(items: Sequence[EvalItem], f1: list[float]) -> dict[str, list[float]]:
    with_alt = {i.fact_id for i in items if i.phrasing > 0}
    orig = [
        v if i.fact_id in with_alt and i.phrasing == 0 else math.nan
        for i, v in zip(items, f1, strict=True)
    ]
    alt = [v if i.phrasing > 0 else math.nan for i, v in zip(items, f1, strict=True)]
    return {"f1_original": orig, "f1_alternative": alt}


def _performance(answers: Sequence[Answer], records: Sequence[Any]) -> dict[str, list[float]]:
    """Latency per stage (every stage a strategy reports, plus the total), tokens, compute.
    Latency counts only the answers given alone when there are any (a batch's answers all
    carry the batch's wall time); runs stored before that distinction count every answer."""
    stages = sorted({k for a in answers for k in a.timings}, key=_stage_order)
    out: dict[str, list[float]] = {f"latency_{s}": [] for s in [*stages, "total"]}
    out.update(tokens_in=[], tokens_out=[], compute_s=[])
    some_alone = any(rec.get("alone") for rec in records)
    for a, rec in zip(answers, records, strict=True):
        timed = rec.get("alone") or not some_alone
        for stage in stages:
            out[f"latency_{stage}"].append(a.timings.get(stage, math.nan) if timed else math.nan)
        out["latency_total"].append(sum(a.timings.values()) if timed else math.nan)
        out["tokens_in"].append(float(a.tokens_in))
        out["tokens_out"].append(float(a.tokens_out))
        out["compute_s"].append(float(rec.get("compute_s", math.nan)))
    return out


def _stage_order(stage: str) -> tuple[int, str]:
    return (STAGES.index(stage) if stage in STAGES else len(STAGES), stage)


def score_answers(
    items: Sequence[EvalItem],
    records: Mapping[str, Any],
    verdicts: Sequence[Verdict],
    encoder: Encoder | None,
    *,
    retrieves: bool,
    k: int = 5,
) -> dict[str, list[float]]:
    """All per-question metrics of one strategy in one phase."""
    answers = answers_of(items, records)
    recs = [records[i.id] for i in items]
    scores = answer_scores(
        [a.text for a in answers],
        [i.answer for i in items],
        [i.unanswerable for i in items],
        [bool(r["abstained"]) for r in recs],
        encoder,
    )
    inputs = judge_inputs(items, answers, records)
    rows = []
    for item, ans, given in zip(items, answers, inputs, strict=True):
        docs = [c.chunk.doc_id for c in ans.contexts]
        row = retrieval_scores(docs, set(item.source_docs), k, retrieved=retrieves)
        support = {
            c.chunk.id
            for c in ans.contexts
            if item.answer and supported(item.answer, [c.chunk.text])
        }
        row.update(
            citation_scores(
                {c.chunk_id for c in ans.citations},
                support,
                has_contexts=bool(ans.contexts),
                answerable=not item.unanswerable,
                inferred=any(c.inferred for c in ans.citations),
            )
        )
        if no_credit(given):  # citing the right passage while saying nothing earns nothing
            for key in ("citation_precision", "citation_recall"):
                row[key] = row[key] if math.isnan(row[key]) else 0.0
        rows.append(row)
    for key in rows[0] if rows else ():
        scores[key] = [r[key] for r in rows]
    for key in verdicts[0].scores if verdicts else ():
        scores[key] = [v.scores[key] for v in verdicts]
    scores.update(
        pathology_scores(
            [i.question for i in items],
            [a.text for a in answers],
            [given.labels for given in inputs],
            [given.abstained for given in inputs],
            [not i.unanswerable for i in items],
        )
    )
    scores.update(_robustness(items, scores["f1"]))
    scores.update(_performance(answers, recs))
    return scores
