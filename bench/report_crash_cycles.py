"""The RESULTS.md section for ``bench/crash_cycles.py`` (kill -9 and resume)."""

from __future__ import annotations

from typing import Any

CHECKED = {
    "ingest": "after the kill: `PRAGMA integrity_check`, every stored document holds the chunk "
    "count its version recorded, FTS rows = chunks, every stored document is one whole version "
    "(v1 or v2, never a mix) and no v1 document is lost; after the rerun: the same documents, "
    "fingerprints and chunk counts as a clean run, integrity again",
    "tune": "after the kill: every adapter `adapters list` shows has its metadata, PEFT config "
    "and fully readable safetensors weights, and a replaced adapter never vanishes; after the "
    "rerun (`--resume` when a checkpoint exists): same steps and bit-identical LoRA weights as "
    "the clean run, loads with PEFT, registry whole",
    "compare": "after the kill: the run's records.sqlite passes `integrity_check`, results.json "
    "(if written) is whole JSON, the project store is intact; after the rerun (same command): "
    "metrics, paired differences and judge numbers equal the uninterrupted run's",
}


def crash_cycles_section(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Crash cycles: kill -9 and resume (`bench/crash_cycles.py`)",
        "",
        f"{data['cycles_per_command']} cycles per command (seed {data['seed']}, "
        f"{data['wall_s']:.0f} s in all): start the CLI, SIGKILL it after a delay drawn "
        "uniformly in each of N equal slices of a clean run's wall time, check what it left, "
        "rerun to completion, compare with the clean run. Cheapest real paths: hash "
        "embedder; tune = LoRA through PEFT + Trainer on a tiny random Llama (2 epochs x 2 "
        "steps, a checkpoint mid-run); compare = base, rag, extract on 20 questions with the "
        "deterministic `eval-fake` generator.",
        "",
        "| command | clean run | cycles | killed while running | stage at the kill | "
        "checks passed | cycles all passed |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in data["commands"]:
        stages = ", ".join(f"{k}: {v}" for k, v in sorted(r["stages"].items()))
        lines.append(
            f"| {r['command']} | {r['clean_run_s']:.1f} s | {r['cycles']} | {r['killed']} | "
            f"{stages} | {r['checks_passed']}/{r['checks_run']} | "
            f"{r['cycles_all_passed']}/{r['cycles']} |"
        )
    lines.append("")
    for r in data["commands"]:
        per = ", ".join(f"{k} {v}" for k, v in r["per_check"].items())
        lines.append(f"- **{r['command']}** checked {CHECKED.get(r['command'], '')}. ({per})")
    problems = [f"{r['command']} {p}" for r in data["commands"] for p in r["problems"]]
    lines += ["", "Problems: " + ("; ".join(problems[:10]) if problems else "none."), ""]
    return lines
