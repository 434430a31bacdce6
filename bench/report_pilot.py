"""RESULTS.md section for bench/pilot_sample.py (the pilot's full comparison on the sample)."""

from __future__ import annotations

from typing import Any

ORDER = (
    "answers.f1", "answers.rouge_l", "citations.citation_precision", "citations.citation_recall",
    "ragas.faithfulness", "answers.abstain_unanswerable", "answers.false_abstain",
    "retrieval.recall@k",
)  # fmt: skip


def _ci(c: dict[str, Any] | None) -> str:
    if not c or c.get("mean") is None:
        return "–"
    return f"{c['mean']:.2f} [{c['low']:.2f}, {c['high']:.2f}]"


def pilot_section(data: dict[str, Any]) -> list[str]:
    run, metrics = data["run"], data["metrics"]
    names = [n for n in ORDER if n in metrics]
    lines = [
        "## Pilot comparison on the bundled sample (`bench/pilot_sample.py`)",
        "",
        f"`ragtune pilot` (`DEMO_QUESTIONS={run['questions']} make demo`): v1 of `examples/docs`, "
        f"{run['questions']} evaluation questions, seed {run['seed']}, every strategy on the same "
        "questions; 95 % bootstrap intervals over questions. Compare stage wall time "
        f"{run['wall_s']:.0f} s on 2 cores.",
        "",
        "| strategy | " + " | ".join(n.split(".", 1)[1] for n in names) + " |",
        "|---" * (len(names) + 1) + "|",
    ]
    for s in run["strategies"]:
        cells = [_ci(metrics[n].get(s)) for n in names]
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"Freshness: after the v2 update (re-index {data['reindex_s']:.0f} s), share of the "
        "changed-fact questions answered with the new fact / the stale one:",
        "",
        "| strategy | new fact | stale fact |",
        "|---|---|---|",
    ]
    for s, f in data["freshness"].items():
        lines.append(f"| {s} | {_ci(f.get('new'))} | {_ci(f.get('stale'))} |")
    lines += ["", "Forgetting (general probe, base vs adapter):", ""]
    lines += [
        "| adapter | base accuracy | adapter accuracy | perplexity change |",
        "|---|---|---|---|",
    ]
    for name, f in data["forgetting"].items():
        lines.append(
            f"| {name} | {f['base_accuracy']:.2f} | {f['adapter_accuracy']:.2f} "
            f"| {f['perplexity_increase_pct']:+.1f} % |"
        )
    stages = ", ".join(f"{k} {v:.0f} s" for k, v in data["stages_s"].items() if v is not None)
    lines += ["", f"Pilot stages (this project folder, latest run of each): {stages}.", ""]
    return lines
