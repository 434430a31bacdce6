"""``ragtune pilot`` through the real path (MiniLM, SmolLM2, the compare runner with the
update) on a slice of the sample: every stage runs, the report is written, and a re-run
skips every stage whose inputs did not change. One short LoRA run (the style LoRA, 2 steps
on 6 lines, checked on 4 held-out ones) runs in the pool beside the answers; no adapter
strategy: their LoRA runs plus the forgetting probe would take minutes on a busy 2-core
machine; `make demo` runs those stages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.conftest import EXAMPLES

from ragtune.pilot.run import PilotConfig, run_pilot
from ragtune.project import Project

DOCS = ("hr/annual-leave.md", "finance/purchasing-approval.md")


def _slice(root: Path, version: str) -> Path:
    for doc in DOCS:
        target = root / version / doc
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((EXAMPLES / version / doc).read_bytes())
    return root / version


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_pilot_runs_every_stage_then_skips_them(tmp_path: Path) -> None:
    docs, update = _slice(tmp_path, "docs"), _slice(tmp_path, "v2")
    rows = [json.loads(line) for line in (EXAMPLES / "eval.jsonl").read_text().splitlines()]
    picked = [r for r in rows if set(r["source_docs"]) & set(DOCS)][:3]
    picked.append(next(r for r in rows if r["unanswerable"]))
    eval_file = tmp_path / "eval.jsonl"
    eval_file.write_text("".join(json.dumps(r) + "\n" for r in picked))
    style = tmp_path / "style.jsonl"
    style.write_text("".join((EXAMPLES / "style.jsonl").read_text().splitlines(True)[:10]))
    config = PilotConfig(docs=docs, eval_file=eval_file, update=update, style=style,
                         strategies=("base", "rag", "extract"), max_new_tokens=8, style_steps=2,
                         resamples=100)  # fmt: skip
    project = Project.init(tmp_path / "proj")
    try:
        first = run_pilot(project, config, progress=False)
        again = run_pilot(project, config, progress=False)
    finally:
        project.close()
    ran = {s["stage"]: s["skipped"] for s in first["stages"]}
    assert ran == dict.fromkeys(["ingest", "data", "tune style LoRA", "compare", "style check",
                                 "advise + report"], False)  # fmt: skip
    skipped = {s["stage"] for s in again["stages"] if s["skipped"]}
    assert skipped == set(ran) - {"advise + report"}
    html = Path(first["report"]["html"]).read_text()
    assert first["recommendation"]["choice"] in html and "<svg" in html
    results = json.loads(Path(first["results"]).read_text())
    assert set(results["per_question"]) == {"base", "rag", "extract"}
    assert results["freshness"]["questions"] >= 1
    style_check = json.loads((project.state_dir / "pilot" / "style.json").read_text())
    assert style_check["n"] == 4 and set(style_check["format_pass"]) == {"base", "adapter"}
    assert "style" in html.lower()
    lora = json.loads((project.state_dir / "adapters" / "pilot-style" / "adapter_config.json")
                      .read_text())  # fmt: skip
    assert lora["layers_to_transform"] is None  # every layer (pilot.steps.SHAPES)
