"""The plain script's token F1 on a pilot_real set (the 2x anchor of issue 20's must-show).

    nice .venv/bin/python bench/plain_rag_real.py [--set django|python]

Runs bench/peers/plain_rag.py (BM25 top-3 ~150-word chunks + the packaged SmolLM2-135M,
greedy, 64 new tokens) on the documents and answerable questions that
``bench/pilot_real.py --set NAME`` prepared in bench/.data/pilot_real_<set>/ (run that first).
HTML pages are turned into text with BeautifulSoup first, as a tutorial would; other files
are read as they are. Gold = the FAQ answer's first sentence; token F1 with a 95 % bootstrap
interval, as the pilot reports it. Writes bench/results/plain_rag_<set>.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, load_jsonl, save
from peers.plain_rag import answer_all
from ragtune.evaluation.metrics.answers import token_f1
from ragtune.evaluation.stats import bootstrap_ci
from ragtune.models import hf_folder


def as_text(path: Path, folder: Path) -> Path:
    if path.suffix != ".html":
        return path
    from bs4 import BeautifulSoup

    out = folder / f"{path.stem}.txt"
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    out.write_text(soup.get_text(" "), encoding="utf-8")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", choices=("django", "python"), default="django")
    args = parser.parse_args()
    root = BENCH / ".data" / f"pilot_real_{args.set}"
    if not (root / "eval.jsonl").exists():
        sys.exit(f"{root}/eval.jsonl is missing: run bench/pilot_real.py --set {args.set} first")
    rows = [r for r in load_jsonl(root / "eval.jsonl") if not r.get("unanswerable")]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        files = [as_text(p, Path(tmp)) for p in sorted((root / "docs").iterdir()) if p.is_file()]
        answers = answer_all([r["question"] for r in rows], files, str(hf_folder("")))
    f1 = [token_f1(a, r["answer"]) for a, r in zip(answers, rows, strict=True)]
    ci = bootstrap_ci(f1)
    out = {
        "set": args.set,
        "questions": len(rows),
        "f1": [round(ci.mean, 3), round(ci.low, 3), round(ci.high, 3)],
        "seconds": round(time.perf_counter() - started, 1),
        "answers": [{"question": r["question"], "answer": a, "gold": r["answer"]}
                    for r, a in zip(rows[:8], answers[:8], strict=True)],
    }  # fmt: skip
    save(f"plain_rag_{args.set}", out)
    print(f"plain script on {args.set}: token F1 {ci.mean:.3f} [{ci.low:.3f}, {ci.high:.3f}] "
          f"over {len(rows)} questions, {out['seconds']} s")  # fmt: skip


if __name__ == "__main__":
    main()
