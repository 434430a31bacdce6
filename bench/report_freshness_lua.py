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
    ]
