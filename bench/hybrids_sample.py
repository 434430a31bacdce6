"""rag vs ft+rag vs raft+rag on the bundled sample, in one run.

    .venv/bin/python bench/hybrids_sample.py [--k 3] [--ft-steps 60] [--raft-steps 30]

1. Ingest ``examples/docs``; build the plain QA dataset and the RAFT dataset with the same
   seed (same questions and split; the RAFT one has k-1 retrieved distractors per question
   and the oracle left out in 20 % of examples).
2. Train two LoRA adapters with CPU-sized budgets: a *knowledge* adapter on the QA pairs
   (``ft``) and a RAFT adapter on the RAFT examples.
3. Answer every question of ``examples/eval.jsonl`` with rag (base model), ft+rag (knowledge
   adapter) and raft+rag (RAFT adapter): same retriever, same k, same prompt builder, greedy.
   Scored: token F1 against the gold answer (answerable questions; [n] markers removed),
   citation precision (share of an answer's cited chunks whose document is one of the
   question's source documents; answers with citations), the share of answers with a
   model-written [n] marker, abstention accuracy (unanswerable questions answered "I cannot
   answer from the documents") and false abstention (answerable ones refused).
   Model only: the evidence gate is off, so the numbers are the model's own behaviour. With
   the gate: the shipped evidence threshold applied to the same answers (the gate decides
   from retrieval alone, before the model runs, so this equals a gated run).
   95 % bootstrap intervals over questions; paired differences against rag.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import REPO, load_jsonl, save, token_f1
from ragtune.evaluation.stats import bootstrap_ci, paired_difference
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.data import build_dataset, load_split
from ragtune.finetune.raft import build_raft_dataset
from ragtune.finetune.train import train
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.project import Project
from ragtune.retrieval.answerability import resolve_threshold
from ragtune.types import Answer

NAN = float("nan")
_MARKER = re.compile(r"\[\d+(?:\s*[,;]\s*\d+)*\]")
STRATEGIES = (("rag", None), ("ft+rag", "ft-knowledge"), ("raft+rag", "raft"))


def abstained(text: str) -> bool:
    return CANNOT_ANSWER.rstrip(".").lower() in text.lower()


def scores(answer: Answer, q: dict[str, Any], gate: float | None) -> dict[str, float]:
    """Per-question metrics (NaN where one does not apply); ``gate`` = evidence threshold."""
    gated = gate is not None and answer.support is not None and answer.support < gate
    text = CANNOT_ANSWER if gated else answer.text
    citations = [] if gated or abstained(text) else answer.citations
    refused = abstained(text)
    if q["unanswerable"]:
        return {"token_f1": NAN, "citation_precision": NAN, "model_cited": NAN,
                "abstention": float(refused), "false_abstention": NAN}  # fmt: skip
    sources = set(q["source_docs"])
    precision = (sum(c.doc_id in sources for c in citations) / len(citations)
                 if citations else NAN)  # fmt: skip
    return {
        "token_f1": token_f1(_MARKER.sub(" ", text), q["answer"]),
        "citation_precision": precision,
        "model_cited": float(any(not c.inferred for c in citations)),
        "abstention": NAN,
        "false_abstention": float(refused),
    }


def summarise(rows: list[dict[str, float]], base: list[dict[str, float]] | None) -> dict:
    out: dict[str, Any] = {}
    for metric in rows[0]:
        values = [r[metric] for r in rows]
        out[metric] = bootstrap_ci(values, seed=0).to_dict()
        if base is not None:
            diff = paired_difference(values, [r[metric] for r in base], seed=0)
            out[metric]["vs_rag"] = diff.to_dict()
    return out


def build_data(project: Project, k: int, p_missing: float) -> dict[str, Any]:
    started = time.perf_counter()
    qa = build_dataset(project, name="qa", seed=0)
    raft, record = build_raft_dataset(project, name="raft", seed=0, k=k - 1, p_missing=p_missing)
    for split in ("train", "validation", "test"):
        plain = {r.user_text for r in load_split(project, "qa", split)}
        ours = {r.question for r in load_split(project, "raft", split)}
        assert plain == ours, f"RAFT {split} questions differ from the plain split"
    record = {k: v for k, v in record.items() if k not in ("method", "prompt")}
    return {"qa_counts": qa.counts, "raft_counts": raft.counts, "raft": record,
            "seconds": time.perf_counter() - started}  # fmt: skip


def train_only(project: Project, dataset: str) -> str:
    """A copy of ``dataset`` without validation rows: with a fixed step budget under one
    epoch there is nothing for early stopping to choose, and validating long RAFT prompts
    would cost more CPU time than the training itself."""
    folder = project.state_dir / "datasets" / f"{dataset}-train"
    folder.mkdir(parents=True, exist_ok=True)
    source = project.state_dir / "datasets" / dataset
    (folder / "train.jsonl").write_bytes((source / "train.jsonl").read_bytes())
    (folder / "validation.jsonl").write_text("")
    (folder / "test.jsonl").write_text("")
    return folder.name


def train_adapters(project: Project, ft_steps: int, raft_steps: int) -> dict[str, Any]:
    import ragtune.finetune.train as training

    # The forgetting probe is measured by bench/finetune_sample.py; here it would only add
    # minutes of generation to each training run.
    training._forgetting = lambda *args: {}  # type: ignore[assignment]
    out = {}
    for name, dataset, steps, batch, length in (
        ("ft-knowledge", train_only(project, "qa"), ft_steps, 4, 128),
        ("raft", train_only(project, "raft"), raft_steps, 2, 768),
    ):
        config = TuneConfig(name=name, dataset=dataset, max_steps=steps, batch_size=batch,
                            max_length=length, learning_rate=2e-3, seed=0)  # fmt: skip
        info = train(project, config, force=True)
        out[name] = {
            "steps": info.steps, "examples_seen": steps * batch,
            "train_examples": info.train_examples, "epochs": info.epochs,
            "loss_first": info.train_losses[0], "loss_last": info.train_losses[-1],
            "eval_losses": info.eval_losses, "wall_s": info.wall_time_s,
        }  # fmt: skip
        print(name, out[name], flush=True)
    return out


def evaluate(project: Project, questions: list[dict[str, Any]], tokens: int) -> dict[str, Any]:
    project.settings.abstention.enabled = False  # the model's own behaviour; gate applied below
    gate, gate_source = resolve_threshold(project.settings.abstention.threshold,
                                          project.state_dir)  # fmt: skip
    per: dict[str, list[Answer]] = {}
    seconds: dict[str, float] = {}
    for strategy, adapter in STRATEGIES:
        system = project.answer_system(strategy, adapter=adapter,
                                       options={"max_new_tokens": tokens})  # fmt: skip
        started = time.perf_counter()
        per[strategy] = system.answer_many([q["question"] for q in questions])
        seconds[strategy] = time.perf_counter() - started
        print(strategy, f"{seconds[strategy]:.0f} s", flush=True)
    result: dict[str, Any] = {"gate_threshold": gate, "gate_source": gate_source,
                              "seconds": seconds, "examples": {}}  # fmt: skip
    for label, threshold in (("model_only", None), ("with_gate", gate)):
        rows = {s: [scores(a, q, threshold) for a, q in zip(per[s], questions, strict=True)]
                for s, _ in STRATEGIES}  # fmt: skip
        result[label] = {
            s: summarise(rows[s], None if s == "rag" else rows["rag"]) for s, _ in STRATEGIES
        }
    for s, _ in STRATEGIES:  # a few answers to read, not to score
        result["examples"][s] = [
            {"question": q["question"], "gold": q["answer"], "answer": a.text}
            for a, q in list(zip(per[s], questions, strict=True))[:3] + [
                (a, q) for a, q in zip(per[s], questions, strict=True) if q["unanswerable"]][:2]
        ]  # fmt: skip
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--k", type=int, default=3, help="passages per prompt (all strategies)")
    parser.add_argument("--p-missing", type=float, default=0.2)
    parser.add_argument("--ft-steps", type=int, default=60, help="knowledge LoRA, batch 4")
    parser.add_argument("--raft-steps", type=int, default=30, help="RAFT LoRA, batch 2")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--questions", type=int, default=0, help="limit (0 = all)")
    parser.add_argument("--workdir", default="", help="keep the project here; a rerun on a "
                        "trained one only evaluates again")  # fmt: skip
    args = parser.parse_args()
    questions = load_jsonl(REPO / "examples" / "eval.jsonl")
    if args.questions:
        questions = questions[: args.questions]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.workdir or tmp) / "p"
        fresh = not (root / ".ragtune" / "adapters" / "raft").is_dir()
        project = Project.init(root)
        project.settings.retrieval.k = args.k
        if not fresh:  # --workdir of a finished training: evaluate again only
            out = json.loads((root / "bench-training.json").read_text())
            out["eval"] = evaluate(project, questions, args.max_new_tokens)
            finish(out, started)
            return
        project.ingest([REPO / "examples" / "docs"])
        out: dict[str, Any] = {"k": args.k, "n_questions": len(questions),
                               "n_unanswerable": sum(q["unanswerable"] for q in questions),
                               "max_new_tokens": args.max_new_tokens}  # fmt: skip
        out["data"] = build_data(project, args.k, args.p_missing)
        trained = {r.user_text.lower() for s in ("train", "validation")
                   for r in load_split(project, "qa", s)}  # fmt: skip
        out["eval_questions_in_training"] = sum(q["question"].lower() in trained
                                                for q in questions)  # fmt: skip
        print("data", out["data"], flush=True)
        out["training"] = train_adapters(project, args.ft_steps, args.raft_steps)
        out["train_wall_s"] = time.perf_counter() - started
        (root / "bench-training.json").write_text(json.dumps(out))
        out["eval"] = evaluate(project, questions, args.max_new_tokens)
        finish(out, started)


def finish(out: dict[str, Any], started: float) -> None:
    out["wall_s"] = out.get("train_wall_s", 0.0) + time.perf_counter() - started
    argv = sys.argv[1:]
    # The reproducing command, without --workdir.
    keep = [
        a for i, a in enumerate(argv)
        if not a.startswith("--workdir") and (i == 0 or argv[i - 1] != "--workdir")
    ]  # fmt: skip
    out["command"] = "python bench/hybrids_sample.py " + " ".join(keep)
    print(f"wrote {save('hybrids_sample', out)} ({out['wall_s']:.0f} s)")


if __name__ == "__main__":
    main()
