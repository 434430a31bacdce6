"""RESULTS.md section for bench/judge_trust_pilot.py (issue 21: the judge on real pilots)."""

from __future__ import annotations

from typing import Any

KINDS = ("off_topic", "negated", "number", "question")
PATHOLOGIES = ("echo", "label", "refusal", "empty", "repetition")
METRICS = ("exact_match", "contains", "f1", "rouge_l", "cosine", "bertscore")


def _rate(cell: list[Any]) -> str:
    ci, n = cell
    return "–" if not n or ci is None else f"{ci[0]:.0%} of {n}".replace("%", " %")


def _share(ci: list[float] | None) -> str:
    if ci is None:
        return "–"
    text = f"{ci[0]:.0%}".replace("%", " %")
    return f"**{text}**" if ci[0] > 0.10 else text


def judge_trust_section(data: dict[str, Any]) -> list[str]:
    pooled = ", ".join(f"{k} {_rate(data['selftest_pooled'][k])}" for k in KINDS)
    lines = [
        f"## The judge on a real pilot: {data['set']} (issue 21; `bench/judge_trust_pilot.py`)",
        "",
        "Read from the run store of `bench/pilot_real.py` (`ragtune pilot` on real documentation "
        "and its own FAQ). Self-test: the share of edited answers the offline judge caught, per "
        "edit kind (compare's own self-test, 30 credited answers per strategy). Pathologies: "
        "share of answers, bold above the 10 % flag. AUC: each answered, answerable question "
        "scored against its own gold vs 8 other questions' golds (0.5 = blind to the gold).",
        f"Pooled self-test of the first run: {pooled}.",
        "",
    ]
    lines += [
            "| strategy | answered | " + " | ".join(KINDS) + " | " + " | ".join(PATHOLOGIES)
            + " | " + " | ".join(f"AUC {m}" for m in METRICS) + " |",
            "|---" * (2 + len(KINDS) + len(PATHOLOGIES) + len(METRICS)) + "|",
    ]  # fmt: skip
    for strategy, s in data["strategies"].items():
        cells = [_rate(s["selftest"][k]) for k in KINDS]
        cells += [_share(s["pathologies"][k]) for k in PATHOLOGIES]
        cells += [f"{s['auc'][m]:.2f}" if m in s["auc"] else "–" for m in METRICS]
        lines.append(f"| {strategy} | {s['answered']} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Runs: " + ", ".join(f"`bench/{r.split('/bench/')[-1]}`" for r in data["runs"]),
        "",
    ]
    return lines
