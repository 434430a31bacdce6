"""RESULTS.md section for bench/small_model.py (kept apart so report.py stays short)."""

from __future__ import annotations

from typing import Any


def _ci(d: dict[str, Any]) -> str:
    return f"{d['mean']:.3f} [{d['low']:.3f}, {d['high']:.3f}]"


def _diff(d: dict[str, Any]) -> str:
    flag = " (CI excludes 0)" if d.get("significant") else ""
    return f"{d['mean']:+.3f} [{d['low']:+.3f}, {d['high']:+.3f}]{flag}"


def small_model_section(data: dict[str, Any]) -> list[str]:
    lines = ["## Small-model strategies (`bench/small_model.py`)", ""]
    faq = data.get("faq")
    if faq:
        lines += [
            f"Python FAQ, {faq['n']} questions (seeded sample), corpus = the FAQ pages plus "
            f"reference pages: {faq['files']} files, {faq['chunks']} chunks. Gold = the FAQ "
            "answer's first sentence. `plain` = bench/peers/plain_rag.py (BM25 top-3 "
            "~150-word chunks + the same SmolLM2-135M, greedy, 64 new tokens). 95 % bootstrap "
            "CIs; paired differences against `plain` on the same questions.",
            "",
            "| system | token F1 | ROUGE-L | F1 - plain | ROUGE-L - plain | "
            "answering s (this run; cached answers cost 0) |",
            "|---|---|---|---|---|---|",
        ]
        for name, r in faq["results"].items():
            vs = r.get("vs_plain", {})
            f1d = _diff(vs["f1"]) if vs else "—"
            rld = _diff(vs["rouge_l"]) if vs else "—"
            secs = faq["seconds"].get(name)
            wall = f"{secs:.0f}" if secs is not None else "(same answers)"
            lines.append(
                f"| {name} | {_ci(r['f1'])} | {_ci(r['rouge_l'])} | {f1d} | {rld} | {wall} |"
            )
        refused = faq.get("false_abstention", {})
        if refused:
            shares = ", ".join(f"{k} {v:.0%}" for k, v in refused.items())
            lines += ["", f"Share of FAQ questions the default threshold would refuse: {shares}."]
        lines.append("")
    sweep = data.get("sweep_sample")
    if sweep:
        lines += [
            "`rag` defaults, a few knobs at a time, on the bundled sample's answerable "
            "questions (token F1 vs the eval answers; paired difference vs the first row, or "
            "the row named; rp = repetition penalty, on prompt and answer tokens unless "
            "said):",
            "",
            "| config | token F1 | ROUGE-L | F1 difference | words | wall s |",
            "|---|---|---|---|---|---|",
        ]
        for row in sweep:
            vs = _diff(row["f1_vs_before"]) if "f1_vs_before" in row else "—"
            if row.get("paired_with") and row["paired_with"] != sweep[0]["config"]:
                vs += f" vs '{row['paired_with']}'"
            words = f"{row['words']:.0f}" if "words" in row else "—"
            lines.append(
                f"| {row['config']} | {_ci(row['f1'])} | {_ci(row['rouge_l'])} | {vs} | "
                f"{words} | {row['seconds']:.0f} |"
            )
        lines.append("")
    ab = data.get("abstention_sample")
    if ab:
        lines += [
            f"Abstention on the sample ({ab['n_unanswerable']} unanswerable, "
            f"{ab['n_answerable']} answerable questions), threshold on the evidence score:",
            "",
            "| threshold from | threshold | unanswerable refused | answerable refused |",
            "|---|---|---|---|",
        ]
        for i, f in enumerate(ab["folds"]):
            lines.append(
                f"| calibrated on half {i + 1}, judged on the other | {f['threshold']:.3f} | "
                f"{f['abstain_unanswerable']:.0%} | {f['false_abstain']:.0%} |"
            )
        d = ab["default"]
        lines.append(
            f"| built-in default, whole set | {d['threshold']:.3f} | "
            f"{d['abstain_unanswerable']:.0%} | {d['false_abstain']:.0%} |"
        )
        lines.append("")
    return lines
