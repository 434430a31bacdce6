"""Retrieval quality on the bundled sample: bm25 vs dense vs hybrid (RRF, lead-weighted RRF,
convex, and the default hybrid search as ``project.search`` runs it).

    .venv/bin/python bench/retrieval_sample.py

Relevance is document-level: a hit counts when its document is one of the question's
``source_docs``. Unanswerable questions are skipped. The convex weight is tuned on the
even-numbered questions and reported on the odd-numbered ones too, so the default is not
chosen by peeking at the numbers it is judged on.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, load_jsonl, retrieval_metrics, save
from ragtune.project import Project

HELD_OUT = ("bm25", "dense", "hybrid-rrf", "hybrid-lead_rrf", "hybrid (default search)")
ALPHAS = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]


def main() -> None:
    questions = [q for q in load_jsonl(REPO / "examples" / "eval.jsonl") if not q["unanswerable"]]
    relevant = [set(q["source_docs"]) for q in questions]
    with tempfile.TemporaryDirectory() as tmp:
        project = Project.init(Path(tmp))
        report = project.ingest([REPO / "examples" / "docs"])
        print(f"ingested {report.counts()['added']} docs, {report.n_chunks} chunks")
        r = project.retriever
        lists = {
            "bm25": [r.bm25(q["question"], 50) for q in questions],
            "dense": [r.dense(q["question"], 50) for q in questions],
        }
        runs: dict[str, list[list[str]]] = {}

        def docs_of(ranked: list[tuple[int, float]]) -> list[str]:
            found = project.store.chunks_by_rowid([rid for rid, _ in ranked[:10]])
            return [found[rid][0].doc_id for rid, _ in ranked[:10] if rid in found]

        from ragtune.retrieval.fusion import convex, lead_rrf, rrf

        for mode in ("bm25", "dense"):
            runs[mode] = [docs_of(x) for x in lists[mode]]
        pairs = list(zip(lists["bm25"], lists["dense"], strict=True))
        runs["hybrid-rrf"] = [
            docs_of([(i, s) for i, s, _ in rrf({"bm25": b, "dense": d})]) for b, d in pairs
        ]
        runs["hybrid-lead_rrf"] = [
            docs_of([(i, s) for i, s, _ in lead_rrf({"bm25": b, "dense": d})]) for b, d in pairs
        ]
        runs["hybrid (default search)"] = [
            [h.doc_id for h in project.search(q["question"], mode="hybrid", k=10)]
            for q in questions
        ]
        for alpha in ALPHAS:
            w = {"dense": alpha, "bm25": 1 - alpha}
            runs[f"hybrid-convex-{alpha}"] = [
                docs_of([(i, s) for i, s, _ in convex({"bm25": b, "dense": d}, w)])
                for b, d in pairs
            ]
    even = list(range(0, len(questions), 2))
    odd = list(range(1, len(questions), 2))

    def score(name: str, idx: list[int]) -> dict[str, float]:
        return retrieval_metrics([runs[name][i] for i in idx], [relevant[i] for i in idx])

    best_alpha = max(ALPHAS, key=lambda a: score(f"hybrid-convex-{a}", even)["mrr@10"])
    table = {name: score(name, list(range(len(questions)))) for name in runs}
    held_out = {name: score(name, odd) for name in (*HELD_OUT, f"hybrid-convex-{best_alpha}")}
    print(f"{len(questions)} answerable questions; convex alpha tuned on even ids: {best_alpha}")
    print(f"{'run':24s} {'recall@5':>9s} {'mrr@10':>8s} {'ndcg@10':>8s}   (odd half: mrr@10)")
    for name, m in table.items():
        odd_mrr = held_out.get(name, {}).get("mrr@10")
        tail = f"   {odd_mrr:.3f}" if odd_mrr is not None else ""
        print(f"{name:24s} {m['recall@5']:9.3f} {m['mrr@10']:8.3f} {m['ndcg@10']:8.3f}{tail}")
    path = save("retrieval_sample", {"all": table, "odd_half": held_out, "best_alpha": best_alpha,
                                     "n_questions": len(questions)})  # fmt: skip
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
