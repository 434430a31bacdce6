"""`ragtune pilot` on real documentation with its own FAQ (issue 20's must-show).

    nice .venv/bin/python bench/pilot_real.py [--set python|django] [--questions 80]

Corpus and questions are those of bench/real_answers.py: the FAQ pages plus reference pages
(Python: 0.5 MB of the 3.11 docs from ../shared/benchdata; Django: bench/django_faq.py), gold =
each FAQ answer's first sentence, plus the 25 hand-written unanswerable questions of
bench/data/unanswerable_<set>.jsonl. The pilot runs as a user would run it (ingest, data build,
LoRA/RAFT training, compare, advise, report) into bench/.data/pilot_real_<set>/; ``--questions``
is the pilot's own ``-n`` (unanswerable questions are kept). This script then copies the
headline metrics with their 95 % CIs, the judge self-test, the pathology shares and a few
answers per strategy into bench/results/pilot_real_<set>.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, save
from real_answers import load_set

REPO = BENCH.parent


def prepare(name: str, mb: float) -> tuple[Path, Path]:
    """(docs folder, eval JSONL) under bench/.data/pilot_real_<name>/."""
    root = BENCH / ".data" / f"pilot_real_{name}"
    docs, eval_path = root / "docs", root / "eval.jsonl"
    files, rows, unanswerable = load_set(name, mb)
    if not docs.exists():
        docs.mkdir(parents=True)
        for f in files:  # one flat folder, as in real_answers.py: ids stay short and unique
            shutil.copy(f, docs / (f.parent.name + "__" + f.name))
    lines = []
    for r in rows:
        src = Path(r["source_doc"])
        lines.append({"question": r["question"], "answer": r["answer_first_sentence"],
                      "source_docs": [src.parent.name + "__" + src.name]})  # fmt: skip
    lines += [{"question": q, "unanswerable": True} for q in unanswerable]
    eval_path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return docs, eval_path


HEADLINE = ("f1", "abstain_unanswerable", "false_abstain")


def _ci(x: dict[str, Any]) -> list[float] | None:
    return (
        None
        if x.get("mean") is None
        else [round(x["mean"], 3), round(x["low"], 3), round(x["high"], 3)]
    )


def answers(folder: Path, per: int = 4) -> dict[str, list[dict[str, str]]]:
    """The first ``per`` answerable questions' answers of each strategy, from the run store."""
    items = json.loads((folder / "questions.json").read_text())
    items = items if isinstance(items, list) else items.get("items", [])
    picked = [q for q in items if not q.get("unanswerable")][:per]
    out: dict[str, list[dict[str, str]]] = {}
    with sqlite3.connect(folder / "records.sqlite") as conn:
        rows = conn.execute("SELECT strategy, item_id, data FROM answers WHERE phase = 'main'")
        found = {(s, i): json.loads(d)["answer"]["text"] for s, i, d in rows}
    for strategy in sorted({s for s, _ in found}):
        out[strategy] = [
            {"question": q["question"], "gold": q.get("answer", ""),
             "answer": found.get((strategy, q["id"]), "")}
            for q in picked
        ]  # fmt: skip
    return out


def summarise_run(report: dict[str, Any]) -> dict[str, Any]:
    results = report["results"]
    metrics = results["metrics"]["answers"]
    selftest = results["judge"]["selftest"]["caught"]
    return {
        "questions": results["run"]["n_items"],
        "strategies": {
            s: {m: _ci(metrics[m][s]) for m in HEADLINE if s in metrics.get(m, {})}
            for s in metrics["f1"]
        },
        "pathologies": results["pathologies"]["flagged"],
        "selftest": {
            kind: {s: [_ci(v), v["n"]] for s, v in per.items()} for kind, per in selftest.items()
        },
        "raft_check": results.get("abstention", {}),
        "recommendation": {
            k: report["recommendation"].get(k) for k in ("choice", "confidence", "facts")
        },
        "answers": answers(Path(results["run"]["folder"])),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["python", "django"], default="python")
    ap.add_argument("--questions", type=int, default=80)
    ap.add_argument("--mb", type=float, default=0.5)
    ap.add_argument("--strategies", default="")
    ap.add_argument("pilot_args", nargs="*", help="more `ragtune pilot` options, after --")
    args = ap.parse_args()
    docs, eval_path = prepare(args.set, args.mb)
    project = docs.parent / "project"
    cmd = [str(REPO / ".venv" / "bin" / "ragtune"), "-C", str(project), "pilot", str(docs),
           "--eval", str(eval_path), "-n", str(args.questions)]  # fmt: skip
    if args.strategies:
        cmd += ["--strategies", args.strategies]
    cmd += args.pilot_args
    print("$", " ".join(cmd), flush=True)
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    wall = time.perf_counter() - started
    report = json.loads((project / ".ragtune" / "reports" / "pilot.json").read_text())
    out = summarise_run(report)
    out.update({"set": args.set, "wall_s": round(wall), "pilot_args": cmd[3:]})
    save(f"pilot_real_{args.set}", out)


if __name__ == "__main__":
    main()
