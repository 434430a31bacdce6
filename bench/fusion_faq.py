"""Hybrid fusion settings on the Python FAQ retrieval set (issue 20, item 5).

    nice .venv/bin/python bench/fusion_faq.py

Asks whether any fixed fusion puts ragtune's hybrid at or above its best single retriever on
both corpus variants of ``bench/retrieval_faq.py`` (same cached projects, same questions and
relevance levels; ragtune only, no peers): RRF with k = 60 / 20 / 5, convex mixes with
dense weight 0.3 / 0.5, and distribution-based score fusion (dbsf, no parameter). Prints
recall@10 and MRR@10 per level and writes bench/results/fusion_faq.json. It reads the
settings it compares; it changes no default.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import benchdata, save
from retrieval_faq import levels
from retrieval_faq_data import load_qa, project_for, read_chunks

SETTINGS = (("rrf", 60, 0.5), ("rrf", 20, 0.5), ("rrf", 5, 0.5), ("convex", 60, 0.3),
            ("convex", 60, 0.5), ("dbsf", 60, 0.5))  # fmt: skip
K = 10


def run(variant: str, qa: list[dict[str, Any]]) -> dict[str, Any]:
    project, _ = project_for(benchdata(), variant)
    try:
        chunks, _ = read_chunks(project)
        rows = qa if variant == "ref_plus_faq" else [r for r in qa if r["answer_links_in_ref"]]
        questions = [r["question"] for r in rows]
        ranked: dict[str, Any] = {}
        for mode in ("bm25", "dense"):
            ranked[f"ragtune {mode}"] = [
                [h.chunk.id for h in project.search(q, mode=mode, k=K)] for q in questions
            ]
        settings = project.settings.retrieval
        for fusion, rrf_k, alpha in SETTINGS:
            settings.rrf_k, settings.alpha = rrf_k, alpha
            name = f"ragtune hybrid {fusion}" + {"rrf": f" k={rrf_k}", "convex": f" a={alpha}"}.get(
                fusion, ""
            )
            search = project.retriever.search
            ranked[name] = [
                [h.chunk.id for h in search(q, k=K, mode="hybrid", fusion=fusion)]
                for q in questions
            ]
        doc_of = {c.id: c.doc_id for c in chunks}
        return levels(variant, rows, chunks, ranked, doc_of)
    finally:
        project.close()


def main() -> None:
    qa = load_qa(benchdata())
    out: dict[str, Any] = {}
    for variant in ("ref_plus_faq", "ref_only"):
        out[variant] = run(variant, qa)
        for level, block in out[variant].items():
            print(f"{variant} / {level}")
            for name, m in block["systems"].items():
                recall, mrr = m["recall@10"], m["mrr@10"]
                print(f"  {name:28s} R@10 {recall:.3f}  MRR@10 {mrr:.3f}")
    save("fusion_faq", out)


if __name__ == "__main__":
    main()
