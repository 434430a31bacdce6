"""The full pilot comparison on the bundled sample, as a RESULTS.md section.

    DEMO_QUESTIONS=85 make demo                          # every question of examples/eval.jsonl
    .venv/bin/python bench/pilot_sample.py demo          # summarise the pilot's latest run

`make demo` runs `ragtune pilot` (v1 of examples/docs, the v2 update, the style set); with
DEMO_QUESTIONS=85 its compare stage answers all 85 evaluation questions (75 answerable, 10
unanswerable) and reuses the adapters of an earlier demo when their inputs did not change.
This script copies the headline metrics with their 95 % bootstrap intervals, freshness,
forgetting and timings out of the run's results.json into bench/results/pilot_sample.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import save

HEADLINE = (
    ("answers", "f1"),
    ("answers", "rouge_l"),
    ("answers", "abstain_unanswerable"),
    ("answers", "false_abstain"),
    ("citations", "citation_precision"),
    ("citations", "citation_recall"),
    ("ragas", "faithfulness"),
    ("retrieval", "recall@k"),
)


def summarise(results: dict[str, Any], stages: dict[str, Any]) -> dict[str, Any]:
    metrics = {
        f"{group}.{name}": results["metrics"][group][name]
        for group, name in HEADLINE
        if name in results["metrics"].get(group, {})
    }
    fresh = {s: v["fresh"] for s, v in results.get("freshness", {}).get("strategies", {}).items()}
    return {
        "run": {k: results["run"][k] for k in ("questions", "strategies", "wall_s", "seed")},
        "metrics": metrics,
        "freshness": fresh,
        "reindex_s": results.get("freshness", {}).get("reindex_s"),
        "forgetting": results.get("forgetting", {}),
        "stages_s": {k: v.get("seconds") for k, v in stages.items()},
        "paired_f1": [
            p
            for p in results.get("paired", {}).get("answers", {}).get("f1", [])
            if "rag" in (p["a"], p["b"])
        ],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("project", type=Path, help="the pilot's project folder (make demo: demo)")
    args = ap.parse_args()
    state = args.project / ".ragtune"
    runs = sorted(state.glob("runs/compare-pilot-*/results.json"), key=lambda p: p.stat().st_mtime)
    if not runs:
        sys.exit(f"no pilot run under {state}/runs; run make demo first")
    stages_file = state / "pilot" / "stages.json"
    stages = json.loads(stages_file.read_text()) if stages_file.exists() else {}
    print(save("pilot_sample", summarise(json.loads(runs[-1].read_text()), stages)))


if __name__ == "__main__":
    main()
