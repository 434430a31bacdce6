"""What a tiny generator can do: plain script vs ragtune rag vs extract, and abstention.

    .venv/bin/python bench/small_model.py [--n 177] [--mb 0.5] [--sweep]

1. Python FAQ (../shared/benchdata, FAQ pages in the corpus plus reference pages up to --mb):
   token F1 / ROUGE-L against the FAQ answer's first sentence for the plain peer script
   (bench/peers/plain_rag.py: BM25 top-3 + the same SmolLM2, no tricks), ragtune `rag` with
   its defaults and ragtune `extract` (no model), with bootstrap 95 % CIs and paired
   differences against the plain script on the same questions. Abstention never fires
   here (threshold 0): every FAQ question is answerable, and abstaining is scored separately (3).
2. --sweep: the small-model defaults for `rag`, one knob at a time on the bundled sample's
   answerable questions (context budget, repetition penalty, answer cap, stop, prompt).
3. Abstention on the sample (10 unanswerable, 75 answerable): threshold calibrated on one
   half of the questions, judged on the other (2-fold), and the built-in default.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, REPO, RESULTS_DIR, benchdata, load_jsonl, pick_files, save
from peers.plain_rag import answer_all
from ragtune.config import PromptSettings
from ragtune.evaluation.metrics.answers import rouge_l, token_f1
from ragtune.evaluation.stats import bootstrap_ci, paired_difference
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.models import hf_folder
from ragtune.project import Project
from ragtune.retrieval.answerability import DEFAULT_THRESHOLD, calibrate, evidence_scores

SAMPLE = REPO / "examples"


def scores(preds: list[str], golds: list[str]) -> dict[str, list[float]]:
    return {
        "f1": [token_f1(p, g) for p, g in zip(preds, golds, strict=True)],
        "rouge_l": rouge_l(preds, golds),
    }


def summary(per: dict[str, dict[str, list[float]]], anchor: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, metrics in per.items():
        out[name] = {m: bootstrap_ci(v, seed=0).to_dict() for m, v in metrics.items()}
        if name != anchor:
            out[name]["vs_" + anchor] = {
                m: paired_difference(v, per[anchor][m], seed=0).to_dict()
                for m, v in metrics.items()
            }
    return out


class AnswerCache:
    """Finished answers per system, one JSONL file each, keyed by question: the FAQ run takes
    hours on 2 loaded cores, and a rerun (or a resumed one) answers only what is missing.
    Delete the folder after changing a system's defaults."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.rows: dict[str, dict[str, dict[str, Any]]] = {}

    def _load(self, name: str) -> dict[str, dict[str, Any]]:
        if name not in self.rows:
            path = self.folder / f"{name}.jsonl"
            rows = load_jsonl(path) if path.exists() else []
            self.rows[name] = {r["question"]: r for r in rows}
        return self.rows[name]

    def missing(self, name: str, questions: list[str]) -> list[str]:
        have = self._load(name)
        return [q for q in questions if q not in have]

    def get(self, name: str, question: str, field: str = "answer") -> Any:
        return self._load(name)[question].get(field)

    def adder(self, name: str) -> Any:
        def add(qs: list[str], answers: list[str], support: list[Any] | None = None) -> None:
            self.folder.mkdir(parents=True, exist_ok=True)
            rows = self._load(name)
            with open(self.folder / f"{name}.jsonl", "a", encoding="utf-8") as fh:
                for i, (q, a) in enumerate(zip(qs, answers, strict=True)):
                    row = {"question": q, "answer": a, "support": support[i] if support else None}
                    rows[q] = row
                    fh.write(json.dumps(row) + "\n")

        return add


def faq(n: int, mb: float) -> dict[str, Any]:
    data = benchdata()
    files = pick_files(data, mb)
    rows = [r for r in load_jsonl(data / "qa.jsonl") if r["answer_first_sentence"].strip()]
    random.Random(0).shuffle(rows)
    rows = rows[:n]
    questions = [r["question"] for r in rows]
    golds = [r["answer_first_sentence"] for r in rows]
    per, seconds, refused = {}, {}, {}
    cache = AnswerCache(BENCH / ".data" / f"small_model_answers_{mb}")
    started = time.perf_counter()
    todo = cache.missing("plain", questions)
    if todo:
        answer_all(todo, files, str(hf_folder("")), on_batch=cache.adder("plain"))
    per["plain"] = scores([cache.get("plain", q) for q in questions], golds)
    seconds["plain"] = time.perf_counter() - started
    root = BENCH / ".data" / f"faq_project_{mb}"
    project = Project.init(root)
    project.settings.abstention.threshold = 0.0  # score everything, refuse nothing
    corpus = tempfile.mkdtemp()
    for f in files:  # one flat folder of the chosen files, ingested incrementally
        shutil.copy(f, Path(corpus) / f"{f.parent.name}__{f.name}")
    project.ingest([corpus])
    for name in ("rag", "extract"):
        started = time.perf_counter()
        system, todo = project.answer_system(name), cache.missing(name, questions)
        for at in range(0, len(todo), 8):  # a killed run keeps every finished batch
            batch = todo[at : at + 8]
            answers = system.answer_many(batch)
            cache.adder(name)(batch, [a.text for a in answers], [a.support for a in answers])
        seconds[name] = time.perf_counter() - started
        texts = [cache.get(name, q) for q in questions]
        per[name] = scores(texts, golds)
        # What the default abstention threshold would have done to the same answers (every
        # FAQ question is answerable, so each abstention here is a false one).
        support = [cache.get(name, q, "support") or 0.0 for q in questions]
        kept = [
            CANNOT_ANSWER if x < DEFAULT_THRESHOLD else t
            for t, x in zip(texts, support, strict=True)
        ]
        per[f"{name} + abstention {DEFAULT_THRESHOLD}"] = scores(kept, golds)
        refused[name] = sum(t == CANNOT_ANSWER for t in kept) / len(kept)
    # Answers kept from a run with earlier rag defaults (cache file rag_before.jsonl; see the
    # sweep's first row): shown next to the current defaults when complete.
    if not cache.missing("rag_before", questions):
        per[BEFORE_LABEL] = scores([cache.get("rag_before", q) for q in questions], golds)
    return {
        "n": len(rows), "files": len(files), "chunks": project.store.count_chunks(),
        "seconds": seconds, "false_abstention": refused,
        "results": summary(per, "plain"),
    }  # fmt: skip


# Each row changes the previous defaults (the first row) in a few knobs; every row answers
# the same questions, so the paired difference against the first row is what a change buys.
BEFORE: dict[str, Any] = {
    "k": 5, "context_tokens": 1024, "repetition_penalty": 1.1, "max_new_tokens": 128, "stop": (),
    "system": PromptSettings().system, "penalize_prompt": True,
}  # fmt: skip
BEFORE_LABEL = "rag, earlier defaults (k=5, 1024 context tokens, 128 new tokens, no stop)"
PLAIN_SYSTEM = "Answer the question using only the context, in one or two sentences."
SHORT = {"k": 3, "context_tokens": 512, "max_new_tokens": 64, "stop": ("\n\n",)}
SWEEP: list[tuple[str, dict[str, Any]]] = [
    ("before: k=5, 1024 context tokens, rp 1.1, 128 new tokens, citing prompt", {}),
    ("k=3, 512 context tokens", {"k": 3, "context_tokens": 512}),
    ("k=3, 512 ctx, 64 new tokens, stop at a blank line", SHORT),
    ("same + rp 1.3", {**SHORT, "repetition_penalty": 1.3}),
    ("same (rp 1.1) + plain one-line system prompt", {**SHORT, "system": PLAIN_SYSTEM}),
    ("k=2, 384 ctx, 64 new tokens, blank-line stop, plain prompt",
     {**SHORT, "k": 2, "context_tokens": 384, "system": PLAIN_SYSTEM}),
    ("k=3, 512 ctx, 64 new tokens, blank-line stop, rp 1.1 on the answer's tokens only",
     {**SHORT, "penalize_prompt": False}),
    ("k=3, 512 ctx, 64 new tokens, blank-line stop, rp 1.0 (none)",
     {**SHORT, "repetition_penalty": 1.0}),
    ("k=2, 384 ctx, 64 new tokens, blank-line stop, rp 1.1 on the answer only",
     {**SHORT, "k": 2, "context_tokens": 384, "penalize_prompt": False}),
    ("k=3, 512 ctx, 32 new tokens, blank-line stop, rp 1.1 on the answer only",
     {**SHORT, "max_new_tokens": 32, "penalize_prompt": False}),
    ("k=2, 384 ctx, 32 new tokens, blank-line stop, rp 1.1 on the answer only",
     {**SHORT, "k": 2, "context_tokens": 384, "max_new_tokens": 32, "penalize_prompt": False}),
]  # fmt: skip


def sweep(project: Project, n: int, rows: list[int] | None = None) -> list[dict[str, Any]]:
    """The SWEEP rows (all, or the given indices); paired differences are against the first
    row run, named in each row's ``paired_with``."""
    items = [r for r in load_jsonl(SAMPLE / "eval.jsonl") if not r["unanswerable"]]
    items = items[:: max(1, len(items) // n)][:n]  # spread over the sample's topics
    questions, golds = [r["question"] for r in items], [r["answer"] for r in items]
    project.settings.abstention.enabled = False
    out, base, base_label = [], None, ""
    for label, change in [SWEEP[i] for i in rows] if rows else SWEEP:
        knobs = {**BEFORE, **change}
        k = knobs.pop("k")
        project.settings.prompt.context_tokens = knobs.pop("context_tokens")
        project.settings.prompt.system = knobs.pop("system")
        system = project.answer_system("rag", options=knobs)
        started = time.perf_counter()
        answers = system.answer_many(questions, k=k)
        per = scores([a.text for a in answers], golds)
        words = sum(len(a.text.split()) for a in answers) / len(answers)
        row = {"config": label, "seconds": time.perf_counter() - started, "words": words,
               **{m: bootstrap_ci(v, seed=0).to_dict() for m, v in per.items()}}  # fmt: skip
        if base is None:
            base, base_label = per, label
        else:
            row["f1_vs_before"] = paired_difference(per["f1"], base["f1"], seed=0).to_dict()
            row["paired_with"] = base_label
        print(label, row["f1"]["mean"], f"{row['seconds']:.0f} s", flush=True)
        out.append(row)
    return out


def rates(threshold: float, ans: list[float], una: list[float]) -> dict[str, float]:
    return {
        "threshold": threshold,
        "abstain_unanswerable": sum(x < threshold for x in una) / len(una),
        "false_abstain": sum(x < threshold for x in ans) / len(ans),
    }


def abstention(project: Project) -> dict[str, Any]:
    items = load_jsonl(SAMPLE / "eval.jsonl")
    s = evidence_scores(project, [r["question"] for r in items])
    ans = [x for x, r in zip(s, items, strict=True) if not r["unanswerable"]]
    una = [x for x, r in zip(s, items, strict=True) if r["unanswerable"]]
    folds = []
    for fit, held in ((0, 1), (1, 0)):
        cal = calibrate(ans[fit::2], una[fit::2], 0.10)
        folds.append(rates(cal.threshold, ans[held::2], una[held::2]))
    return {
        "n_answerable": len(ans), "n_unanswerable": len(una), "folds": folds,
        "default": rates(DEFAULT_THRESHOLD, ans, una),
    }  # fmt: skip


def sample_project() -> Project:
    root = BENCH / ".data" / "sample_project"
    project = Project.init(root)
    project.ingest([SAMPLE / "docs"])
    return project


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=177, help="FAQ questions (177 = all)")
    ap.add_argument("--mb", type=float, default=0.5, help="corpus size: FAQ + reference pages")
    ap.add_argument("--sweep", action="store_true", help="also sweep the rag defaults")
    ap.add_argument("--sweep-n", type=int, default=40, help="sample questions in the sweep")
    ap.add_argument("--sweep-rows", default="", help="only these SWEEP rows, e.g. 2,6,7")
    ap.add_argument("--skip-faq", action="store_true")
    args = ap.parse_args()
    started = time.perf_counter()
    result: dict[str, Any] = {}
    sample = sample_project()
    result["abstention_sample"] = abstention(sample)
    print("abstention", result["abstention_sample"], flush=True)
    if args.sweep:
        rows = [int(x) for x in args.sweep_rows.split(",")] if args.sweep_rows else None
        result["sweep_sample"] = sweep(sample, args.sweep_n, rows)
    if not args.skip_faq:
        result["faq"] = faq(args.n, args.mb)
    result["wall_s"] = time.perf_counter() - started
    # A part not rerun this time (--skip-faq, no --sweep) keeps its last measured result.
    previous = RESULTS_DIR / "small_model.json"
    if previous.is_file():
        kept = json.loads(previous.read_text(encoding="utf-8"))
        result = {**{k: kept[k] for k in ("faq", "sweep_sample") if k in kept}, **result}
        if args.sweep_rows:  # a partial sweep adds to (or replaces rows of) the last one
            new = {r["config"]: r for r in result["sweep_sample"]}
            old = [r for r in kept.get("sweep_sample", []) if r["config"] not in new]
            order = {label: i for i, (label, _) in enumerate(SWEEP)}
            rows = old + list(new.values())
            result["sweep_sample"] = sorted(rows, key=lambda r: order.get(r["config"], 99))
    print(save("small_model", result))


if __name__ == "__main__":
    main()
