"""What each prompting strategy answers on real documentation, read and counted.

    .venv/bin/python bench/real_answers.py [--set python|django|both] [--n 60]
        [--strategies base,rag,extract] [--mb 0.5]

Sets: the Python 3.11 docs + Python FAQ (../shared/benchdata, FAQ pages plus --mb of
reference pages) and the Django 3.2 docs + Django FAQ (bench/django_faq.py), each with 25
hand-written questions the docs do not answer (bench/data/unanswerable_*.jsonl). Gold = the
FAQ answer's first sentence. ``extract`` answers every answerable question; the model
strategies a seeded sample of --n (the packaged SmolLM2 on 2 CPU cores is ~3-6 s an answer).

Abstention is judged 2-fold: each half's threshold is calibrated (10 % false-abstention
budget) on the other half's evidence scores, so no question picks its own threshold. Besides
token F1 (a refused answerable question scores 0) it counts what a glance at the answers
shows: answers that restate the question, that are only a passage label or preamble
(``says_nothing``), rag's evidence fallbacks, and prints a few answers of each strategy.
Writes bench/results/real_answers.json.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, RESULTS_DIR, benchdata, load_jsonl, pick_files, save
from ragtune.evaluation.metrics.answers import token_f1
from ragtune.evaluation.stats import bootstrap_ci
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.project import Project
from ragtune.retrieval.answerability import calibrate, evidence_scores
from ragtune.text.echo import restates, says_nothing

DJANGO = BENCH / ".data" / "djangofaq"


def load_set(name: str, mb: float) -> tuple[list[Path], list[dict[str, Any]], list[str]]:
    """(corpus files, answerable rows, unanswerable questions) of one set."""
    if name == "python":
        data = benchdata()
        files = pick_files(data, mb)
        extra = BENCH / "data" / "unanswerable_python.jsonl"
    else:
        if not (DJANGO / "qa.jsonl").exists():
            import subprocess

            subprocess.run([sys.executable, str(BENCH / "django_faq.py"), "--out", str(DJANGO)],
                           check=True)  # fmt: skip
        data = DJANGO
        files = [data / m["path"] for m in load_jsonl(data / "corpus" / "manifest.jsonl")]
        extra = BENCH / "data" / "unanswerable_django.jsonl"
    rows = [r for r in load_jsonl(data / "qa.jsonl") if r["answer_first_sentence"].strip()]
    return files, rows, [r["question"] for r in load_jsonl(extra)]


def project_for(name: str, files: list[Path], mb: float) -> Project:
    root = BENCH / ".data" / f"real_answers_{name}_{mb}"
    if (root / ".ragtune" / "ready").exists():
        return Project(root)
    shutil.rmtree(root, ignore_errors=True)
    project = Project.init(root)
    corpus = root / "corpus"
    corpus.mkdir()
    for f in files:  # one flat folder: ids stay short and unique
        rel = f.parent.name + "__" + f.name
        shutil.copy(f, corpus / rel)
    started = time.perf_counter()
    report = project.ingest([corpus])
    print(f"[{name}] ingested {report.counts()} in {time.perf_counter() - started:.0f}s")
    (root / ".ragtune" / "ready").write_text("1")
    return project


def thresholds(scores: list[float], answerable: list[bool]) -> list[float]:
    """Per question, the threshold calibrated on the other fold."""
    idx = list(range(len(scores)))
    random.Random(1).shuffle(idx)
    fold = {i: n % 2 for n, i in enumerate(idx)}
    out = {}
    for f in (0, 1):
        other = [i for i in idx if fold[i] != f]
        cal = calibrate([scores[i] for i in other if answerable[i]],
                        [scores[i] for i in other if not answerable[i]])  # fmt: skip
        out[f] = cal.threshold
    return [out[fold[i]] for i in range(len(scores))]


def run_set(name: str, strategies: list[str], n: int, mb: float) -> dict[str, Any]:
    files, rows, unanswerable = load_set(name, mb)
    project = project_for(name, files, mb)
    project.settings.abstention.threshold = 0.0  # answer everything; thresholds applied after
    questions = [r["question"] for r in rows] + unanswerable
    gold = [r["answer_first_sentence"] for r in rows] + [None] * len(unanswerable)
    scores = evidence_scores(project, questions)
    limit = thresholds(scores, [g is not None for g in gold])
    sample = sorted(random.Random(0).sample(range(len(rows)), min(n, len(rows))))
    sample += list(range(len(rows), len(questions)))
    out: dict[str, Any] = {"questions": len(rows), "unanswerable": len(unanswerable)}
    for strategy in strategies:
        idx = list(range(len(questions))) if strategy == "extract" else sample
        system = project.answer_system(strategy)
        started = time.perf_counter()
        answers = []
        for at in range(0, len(idx), 16):
            answers += system.answer_many([questions[i] for i in idx[at : at + 16]])
        seconds = time.perf_counter() - started
        retrieving = strategy != "base"
        texts = [
            CANNOT_ANSWER if retrieving and scores[i] < limit[i] else a.text
            for i, a in zip(idx, answers, strict=True)
        ]
        ans = [k for k, i in enumerate(idx) if gold[i] is not None]
        una = [k for k, i in enumerate(idx) if gold[i] is None]
        f1 = [0.0 if texts[k] == CANNOT_ANSWER else token_f1(texts[k], gold[idx[k]]) for k in ans]
        said = [texts[k] for k in ans if texts[k] != CANNOT_ANSWER]
        asked = [questions[idx[k]] for k in ans if texts[k] != CANNOT_ANSWER]
        out[strategy] = {
            "answered": len(idx), "seconds": seconds,
            "token_f1": bootstrap_ci(f1, seed=0).to_dict(),
            "abstention": sum(texts[k] == CANNOT_ANSWER for k in una) / max(len(una), 1),
            "false_abstention": sum(texts[k] == CANNOT_ANSWER for k in ans) / max(len(ans), 1),
            "restates_question": sum(map(restates, asked, said)) / max(len(said), 1),
            "says_nothing": sum(map(says_nothing, asked, said)) / max(len(said), 1),
            "finish": dict(Counter(a.finish_reason for a in answers)),
            "examples": [
                {"question": questions[idx[k]], "answer": texts[k], "gold": gold[idx[k]]}
                for k in ans[:4]
            ],
        }  # fmt: skip
        r = out[strategy]
        print(f"[{name}] {strategy:8s} F1 {r['token_f1']['mean']:.3f} "
              f"[{r['token_f1']['low']:.3f}, {r['token_f1']['high']:.3f}]  "
              f"abstain {r['abstention']:.0%}  false {r['false_abstention']:.0%}  "
              f"echo {r['restates_question']:.0%}  nothing {r['says_nothing']:.0%}  "
              f"{r['finish']}  {seconds:.0f}s", flush=True)  # fmt: skip
        for ex in r["examples"][:3]:
            print(f"    Q: {ex['question'][:90]}\n    A: {ex['answer'][:160]!r}")
    project.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--set", choices=["python", "django", "both"], default="both")
    ap.add_argument("--n", type=int, default=60, help="answerable questions for model strategies")
    ap.add_argument("--strategies", default="extract,rag,base")
    ap.add_argument("--mb", type=float, default=0.5, help="Python reference pages (MB)")
    args = ap.parse_args()
    sets = ["python", "django"] if args.set == "both" else [args.set]
    path = RESULTS_DIR / "real_answers.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results.pop("env", None)
    for name in sets:  # a run of some strategies keeps the others' results
        results.setdefault(name, {}).update(
            run_set(name, args.strategies.split(","), args.n, args.mb)
        )
    print("saved", save("real_answers", results))


if __name__ == "__main__":
    main()
