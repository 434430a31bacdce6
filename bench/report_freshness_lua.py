"""RESULTS.md section for bench/freshness_lua.py (Lua 5.1 -> 5.2 freshness)."""

from __future__ import annotations

from typing import Any


def _ci(stat: dict[str, Any]) -> str:
    return f"{stat['mean']:.2f} [{stat['low']:.2f}, {stat['high']:.2f}]"


def freshness_lua_section(data: dict[str, Any]) -> list[str]:
    rows = data["strategies"]
    return [
        "## Freshness on real data: Lua 5.1 -> 5.2 (`bench/freshness_lua.py`)",
        "",
        f"`ragtune pilot` on the Lua 5.1 reference manual, then the 5.2 manual as the update; "
        f"{data['questions']} benchdata freshness questions (12 hand-written, 16 cloze) whose "
        f"answer changed, {data['changed_questions']} scored. The knowledge LoRA (`ft`, "
        f"`ft+rag`) was trained on the {data['qa_pairs_for_training']} QA pairs ragtune's "
        f"offline builder made from the 5.1 manual ({data['knowledge_steps']} steps): the "
        f"stale adapter. k = 2 passages, {data['max_new_tokens']} new tokens, greedy. A "
        f"new-fact answer holds every word that tells the 5.2 answer from the 5.1 one; 95 % "
        f"bootstrap intervals over questions. Re-index after the update "
        f"{data['reindex_s']:.1f} s; pilot stages (s): "
        + ", ".join(f"{k} {v:.0f}" for k, v in data["stages_s"].items())
        + ".",
        "",
        "| strategy | 5.2 fact after update | 5.1 fact after update (stale) | 5.1 fact before |",
        "|---|---|---|---|",
        *(
            f"| {label} | {_ci(r['fresh']['new'])} | {_ci(r['fresh']['stale'])} | "
            f"{_ci(r['main']['stale'])} |"
            for label, r in rows.items()
        ),
        "",
        *_by_kind(data.get("by_kind") or {}),
    ]


def _all(k: dict[str, Any]) -> dict[str, int]:
    return {x: k["cloze"][x] + k["curated"][x] for x in ("new", "of")}


def _by_kind(kinds: dict[str, Any]) -> list[str]:
    if not kinds:
        return []

    def cell(c: dict[str, int]) -> str:
        return f"{c['new']}/{c['of']} ({c['new'] / c['of']:.0%})" if c["of"] else "—"

    return [
        "By kind, after the update (new fact stated / answers). A curated item's benchdata "
        "answer is a window of whole paragraphs around the changed entry; scored on the "
        "entry's heading line instead (`new_anchor` vs `old_anchor`), a new-fact answer names "
        "the new entry.",
        "",
        "| strategy | cloze | curated (window) | curated (heading line) | all (window) |",
        "|---|---|---|---|---|",
        *(
            f"| {label} | {cell(k['cloze'])} | {cell(k['curated'])} | "
            f"{cell(k['curated_anchor'])} | {cell(_all(k))} |"
            for label, k in kinds.items()
        ),
        "",
        "Answers after the update (first of each strategy):",
        "",
        *(
            f'- {label}: *{k["examples"][0]["question"]}* → "{k["examples"][0]["answer"]}"'
            for label, k in kinds.items()
            if k.get("examples")
        ),
        "",
    ]
