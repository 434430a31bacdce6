"""Shared helpers for the benchmark scripts (kept out of the product package)."""

from __future__ import annotations

import json
import math
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from ragtune.evaluation.metrics.answers import token_f1  # noqa: F401  (re-exported)

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS_DIR = BENCH / "results"


def load_jsonl(path: Path) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def rank_of_first_relevant(doc_ids: list[str], relevant: set[str]) -> int | None:
    for rank, doc_id in enumerate(doc_ids, start=1):
        if doc_id in relevant:
            return rank
    return None


def retrieval_metrics(
    ranked: list[list[str]], relevant: list[set[str]], k: int = 10
) -> dict[str, float]:
    """recall@5, recall@k, MRR@k and nDCG@k at document level (duplicates collapsed)."""
    r5, rk, mrr, ndcg = [], [], [], []
    for docs, rel in zip(ranked, relevant, strict=True):
        unique = list(dict.fromkeys(docs))
        first = rank_of_first_relevant(unique[:k], rel)
        r5.append(len(rel & set(unique[:5])) / len(rel))
        rk.append(len(rel & set(unique[:k])) / len(rel))
        mrr.append(1.0 / first if first else 0.0)
        dcg = sum(1.0 / math.log2(i + 2) for i, d in enumerate(unique[:k]) if d in rel)
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), k)))
        ndcg.append(dcg / ideal)
    return {
        "recall@5": float(np.mean(r5)),
        f"recall@{k}": float(np.mean(rk)),
        f"mrr@{k}": float(np.mean(mrr)),
        f"ndcg@{k}": float(np.mean(ndcg)),
    }


def machine() -> dict[str, str]:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=REPO
    ).stdout.strip()
    return {"python": platform.python_version(), "machine": platform.machine(), "commit": commit}


def save(name: str, data: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    path.write_text(json.dumps({**data, "env": machine()}, indent=2, sort_keys=True))
    return path


BUILD = REPO.parent / "shared" / "benchdata" / "build.py"
DATA = BENCH / ".data" / "benchdata"


def benchdata() -> Path:
    if not (DATA / "qa.jsonl").exists():
        result = subprocess.run([sys.executable, str(BUILD), "--out", str(DATA)])
        if result.returncode != 0:
            sys.exit("benchdata could not be built; run the apt-get line printed above (as root)")
    return DATA


def pick_files(data: Path, budget_mb: float) -> list[Path]:
    manifest = load_jsonl(data / "corpus" / "manifest.jsonl")
    faq = [data / m["path"] for m in manifest if m["group"] == "faq"]
    ref = sorted(data / m["path"] for m in manifest if m["group"] == "ref")
    chosen, total = list(faq), sum(p.stat().st_size for p in faq)
    for path in ref:
        if total > budget_mb * 1e6:
            break
        chosen.append(path)
        total += path.stat().st_size
    return chosen
