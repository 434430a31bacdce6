"""The RESULTS.md section for ``bench/hybrids_sample.py`` (rag vs ft+rag vs raft+rag)."""

from __future__ import annotations

from typing import Any

METRICS = (
    ("token_f1", "token F1"),
    ("citation_precision", "citation precision"),
    ("model_cited", "model-written [n]"),
    ("abstention", "abstention (unanswerable)"),
    ("false_abstention", "false abstention"),
)


def _ci(m: dict[str, Any]) -> str:
    if not m.get("n") or m.get("mean") is None:
        return "n/a"
    return f"{m['mean']:.3f} [{m['low']:.3f}, {m['high']:.3f}]"


def _diff(m: dict[str, Any]) -> str:
    d = m.get("vs_rag")
    if not d or d.get("mean") is None:
        return ""
    flag = " *" if d.get("significant") else ""
    return f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]{flag}"


def _table(block: dict[str, Any]) -> list[str]:
    lines = [
        "| strategy | " + " | ".join(label for _, label in METRICS) + " |",
        "|---" * (len(METRICS) + 1) + "|",
    ]
    for strategy, metrics in block.items():
        lines.append(f"| {strategy} | " + " | ".join(_ci(metrics[m]) for m, _ in METRICS) + " |")
    return lines


def _diffs(block: dict[str, Any]) -> list[str]:
    lines = [
        "| difference vs rag | " + " | ".join(label for _, label in METRICS) + " |",
        "|---" * (len(METRICS) + 1) + "|",
    ]
    for strategy, metrics in block.items():
        if strategy != "rag":
            lines.append(
                f"| {strategy} − rag | " + " | ".join(_diff(metrics[m]) for m, _ in METRICS) + " |"
            )
    return lines


def hybrids_section(data: dict[str, Any]) -> list[str]:
    d, t, e = data["data"], data["training"], data["eval"]
    raft = d["raft"]
    ft, rf = t["ft-knowledge"], t["raft"]
    n_ans = data["n_questions"] - data["n_unanswerable"]
    return [
        "## Hybrids: rag vs ft+rag vs raft+rag on the sample (`bench/hybrids_sample.py`)",
        "",
        f"`{data['command'].strip()}` — {data['wall_s'] / 60:.0f} min wall on this machine, one "
        f"run. All strategies use the same retriever, k = {data['k']} passages, the same prompt "
        f"builder, greedy decoding, {data['max_new_tokens']} new tokens. "
        f"{data['n_questions']} questions of `examples/eval.jsonl` ({n_ans} answerable, "
        f"{data['n_unanswerable']} unanswerable; {data['eval_questions_in_training']} of them "
        "appear verbatim in the training data).",
        "",
        f"Data (seed 0, same questions and split): plain QA train {d['qa_counts']['train']} / "
        f"validation {d['qa_counts']['validation']} / test {d['qa_counts']['test']}; RAFT the "
        f"same, with {raft['k']} retrieved distractors per question and the oracle left out in "
        f"{raft['oracle_missing']['train']} of {raft['oracle_missing']['train'] + raft['oracle_present']['train']}"  # noqa: E501
        " train examples.",
        "",
        "Training (LoRA r=16 all-linear, lr 2e-3 for both): "
        f"ft-knowledge {ft['steps']} steps x batch 4 on "
        f"QA pairs ({ft['epochs']:.2f} epochs, loss {ft['loss_first']:.2f} -> "
        f"{ft['loss_last']:.2f}, {ft['wall_s']:.0f} s); raft {rf['steps']} steps x batch 2 on "
        f"RAFT examples ({rf['epochs']:.2f} epochs, loss {rf['loss_first']:.2f} -> "
        f"{rf['loss_last']:.2f}, {rf['wall_s']:.0f} s).",
        "",
        "Model only (evidence gate off: the model's own answers). Mean [95 % bootstrap CI]; "
        "citation precision over answers that cite; token F1 with [n] markers removed:",
        "",
        *_table(e["model_only"]),
        "",
        *_diffs(e["model_only"]),
        "",
        f"With the shipped evidence gate (threshold {e['gate_threshold']:.2f}, "
        f"{e['gate_source']}; it was chosen on these same questions, so its abstention numbers "
        "are optimistic):",
        "",
        *_table(e["with_gate"]),
        "",
        "`*` = the paired 95 % interval excludes 0. Generation time: "
        + ", ".join(f"{s} {v:.0f} s" for s, v in e["seconds"].items())
        + ".",
        "",
    ]
