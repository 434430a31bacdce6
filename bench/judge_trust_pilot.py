"""How far the pilot's judge and metrics can be trusted on a real run (issue 21's must-show).

    .venv/bin/python bench/judge_trust_pilot.py --set python [--run FOLDER]

Reads what a `ragtune pilot` on real documentation left (bench/pilot_real.py: the run store
of its compare, i.e. results.json, questions.json and records.sqlite) and reports, per
strategy:

- the judge self-test that compare ran (share caught per edit kind, with its 95 % CI);
- the pathology shares (echo, label, refusal, empty, repetition), flagged above 10 %;
- swapped-gold AUC per correctness metric on the strategy's real answers: each answered,
  answerable question scored against its own gold and against 8 other questions' golds
  (ragtune.evaluation.separation); 0.5 = the metric does not look at the gold.

Without --run it takes the newest compare run under bench/.data/pilot_real_<set>/project;
--run may be given more than once (a strategy rerun alone, such as RAFT with other
settings, is then listed as "<strategy> (<run folder>)").
Writes bench/results/judge_trust_<set>.json.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, save
from ragtune.embed.sentence_transformers import SentenceTransformerEmbedder, packaged_minilm_path
from ragtune.evaluation.metrics.answers import EmbedderEncoder
from ragtune.evaluation.pathologies import PATHOLOGY_METRICS
from ragtune.evaluation.separation import TokenCache, gold_separation


def newest_run(name: str) -> Path:
    runs = BENCH / ".data" / f"pilot_real_{name}" / "project" / ".ragtune" / "runs"
    found = sorted(runs.glob("compare-*/results.json"), key=lambda p: p.stat().st_mtime)
    if not found:
        sys.exit(f"no compare run under {runs}: run bench/pilot_real.py --set {name} first")
    return found[-1].parent


def _ci(stat: dict[str, Any] | None) -> list[float] | None:
    if not stat or stat.get("mean") is None:
        return None
    return [round(stat["mean"], 3), round(stat["low"], 3), round(stat["high"], 3)]


def answered(folder: Path) -> dict[str, list[tuple[str, str]]]:
    """(answer, gold) of every answerable question each strategy answered (no refusal)."""
    items = json.loads((folder / "questions.json").read_text())
    items = items if isinstance(items, list) else items.get("items", [])
    gold = {q["id"]: q["answer"] for q in items if not q.get("unanswerable") and q.get("answer")}
    out: dict[str, list[tuple[str, str]]] = {}
    with sqlite3.connect(folder / "records.sqlite") as conn:
        rows = conn.execute("SELECT strategy, item_id, data FROM answers WHERE phase = 'main'")
        for strategy, item, data in sorted(rows):
            record = json.loads(data)
            if item in gold and not record["abstained"] and record["answer"]["text"].strip():
                out.setdefault(strategy, []).append((record["answer"]["text"], gold[item]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["python", "django"], default="python")
    ap.add_argument("--run", type=Path, action="append",
                    help="a compare run folder (default: the newest); repeatable")  # fmt: skip
    args = ap.parse_args()
    minilm = SentenceTransformerEmbedder(packaged_minilm_path(), "minilm")  # compare's default
    encoder = TokenCache(EmbedderEncoder(minilm))
    out: dict[str, Any] = {"set": args.set, "runs": [], "strategies": {}}
    for folder in args.run or [newest_run(args.set)]:
        out["runs"].append(str(folder.resolve()))
        summarise(folder, encoder, out)
    print("saved", save(f"judge_trust_{args.set}", out))


def summarise(folder: Path, encoder: TokenCache, out: dict[str, Any]) -> None:
    """Add one run's strategies (and, for the first run, its pooled self-test) to ``out``."""
    results = json.loads((folder / "results.json").read_text())
    metrics, selftest = results["metrics"], results["judge"]["selftest"]
    for strategy, pairs in answered(folder).items():
        preds, golds = [p for p, _ in pairs], [g for _, g in pairs]
        sep = gold_separation(preds, golds, encoder) if len(pairs) >= 2 else None
        name = strategy if strategy not in out["strategies"] else f"{strategy} ({folder.name})"
        out["strategies"][name] = {
            "selftest": {
                kind: [_ci(per.get(strategy)), (per.get(strategy) or {}).get("n", 0)]
                for kind, per in selftest["caught"].items()
            },
            "pathologies": {
                k: _ci(metrics["pathologies"][k].get(strategy)) for k in PATHOLOGY_METRICS
            },
            "auc": {m: round(v, 3) for m, v in sep["auc"].items()} if sep else {},
            "answered": len(pairs),
        }
        print(name, json.dumps(out["strategies"][name]), flush=True)
    out.setdefault("selftest_pooled", {
        kind: [_ci(per["all"]), per["all"]["n"]] for kind, per in selftest["caught"].items()
    })  # fmt: skip


if __name__ == "__main__":
    main()
