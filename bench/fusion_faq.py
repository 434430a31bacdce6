"""Hybrid fusion settings on the FAQ retrieval sets (issue 20, item 5).

    nice .venv/bin/python bench/fusion_faq.py [--set python|django]

Asks whether a fusion puts ragtune's hybrid at or above its best single retriever on both
corpus variants of ``bench/retrieval_faq.py`` (same cached projects, same questions and
relevance levels; ragtune only, no peers): RRF with k = 60 / 20 / 5, convex mixes with dense
weight 0.3 / 0.5, distribution-based score fusion (dbsf), RRF weighted by each list's lead
(lead_rrf), each with and without lifting a section's opening chunk (``lift_openings``).
``--set django`` runs the same on the Django 3.2 FAQ set of ``bench/django_faq.py`` (built
into bench/.data/djangofaq if missing; 47 / 10 questions at its default 3 MB): a set the
fusion was not chosen on. Prints recall@10 and MRR@10 per level and writes
bench/results/fusion_faq[_django].json. It reads the settings it compares; it changes no
default.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, benchdata, save
from retrieval_faq import levels
from retrieval_faq_data import load_qa, project_for, read_chunks

# (fusion, rrf_k, alpha, lift_openings)
SETTINGS = (("rrf", 60, 0.5, False), ("rrf", 20, 0.5, False), ("rrf", 5, 0.5, False),
            ("convex", 60, 0.3, False), ("convex", 60, 0.5, False), ("dbsf", 60, 0.5, False),
            ("rrf", 60, 0.5, True), ("lead_rrf", 60, 0.5, False),
            ("lead_rrf", 60, 0.5, True))  # fmt: skip
K = 10
DJANGO = BENCH / ".data" / "djangofaq"


def label(fusion: str, rrf_k: int, alpha: float, lift: bool) -> str:
    name = f"ragtune hybrid {fusion}"
    name += {"rrf": f" k={rrf_k}", "convex": f" a={alpha}"}.get(fusion, "")
    return name + (" +openings" if lift else "")


def run(data: Path, prefix: str, variant: str, qa: list[dict[str, Any]]) -> dict[str, Any]:
    project, _ = project_for(data, variant, prefix)
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
        for fusion, rrf_k, alpha, lift in SETTINGS:
            settings.rrf_k, settings.alpha, settings.lift_openings = rrf_k, alpha, lift
            search = project.retriever.search
            ranked[label(fusion, rrf_k, alpha, lift)] = [
                [h.chunk.id for h in search(q, k=K, mode="hybrid", fusion=fusion)]
                for q in questions
            ]
        doc_of = {c.id: c.doc_id for c in chunks}
        return levels(variant, rows, chunks, ranked, doc_of)
    finally:
        project.close()


def django_data() -> Path:
    if not (DJANGO / "qa.jsonl").exists():
        subprocess.run(
            [sys.executable, str(BENCH / "django_faq.py"), "--out", str(DJANGO)], check=True
        )
    return DJANGO


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("python", "django"), default="python")
    args = parser.parse_args()
    data, prefix = (
        (benchdata(), "faq_retrieval")
        if args.set == "python"
        else (django_data(), "django_retrieval")
    )
    qa = load_qa(data)
    out: dict[str, Any] = {}
    for variant in ("ref_plus_faq", "ref_only"):
        out[variant] = run(data, prefix, variant, qa)
        for level, block in out[variant].items():
            print(f"{variant} / {level}: {block['n']} questions")
            for name, m in block["systems"].items():
                recall, mrr = m["recall@10"], m["mrr@10"]
                print(f"  {name:36s} R@10 {recall:.3f}  MRR@10 {mrr:.3f}")
    save("fusion_faq" if args.set == "python" else "fusion_faq_django", out)


if __name__ == "__main__":
    main()
