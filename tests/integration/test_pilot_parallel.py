"""The pilot's LoRA runs in a pool of two worker processes (spawned, one torch thread each),
with the real packaged SmolLM2: both adapters are registered, progress reaches the parent,
and a failing job's error comes back as the same one-line ragtune error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import EXAMPLES

from ragtune.errors import RagtuneError
from ragtune.finetune.adapters import list_adapters
from ragtune.pilot.parallel import TuneJob, auto_workers, tune_in_worker
from ragtune.project import Project
from ragtune.workers import Job, Pool, Progress

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _style_dataset(project: Project, name: str, rows: list[dict[str, Any]]) -> None:
    folder = project.state_dir / "datasets" / name
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        json.dumps({"id": f"{name}{i}", "kind": "style", "fact_id": f"{name}{i}",
                    "source": None, "test_kind": None,
                    "messages": [{"role": "user", "content": r["question"]},
                                 {"role": "assistant", "content": r["answer"]}]})
        for i, r in enumerate(rows)
    ]  # fmt: skip
    (folder / "train.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "validation.jsonl").write_text("")
    (folder / "test.jsonl").write_text("")


def test_two_lora_runs_in_two_processes(tmp_path: Path) -> None:
    rows = [json.loads(x) for x in (EXAMPLES / "style.jsonl").read_text().splitlines()]
    project = Project.init(tmp_path / "p")
    # the pilot's dataset names (they pick the batch shape); both hold style rows here
    _style_dataset(project, "style", rows[:8])
    _style_dataset(project, "default", rows[8:16])
    jobs = [TuneJob("tune one", "a-one", "style", 2, ("style",), 0),
            TuneJob("tune two", "a-two", "default", 2, ("style",), 0)]  # fmt: skip
    ticks: dict[str, list[tuple[int, int]]] = {job.stage: [] for job in jobs}
    done: dict[str, dict[str, Any]] = {}

    def run(jobs: list[TuneJob]) -> None:
        with Pool(2) as pool:
            for job in jobs:
                pool.submit(Job(tune_in_worker, (str(project.root), job),
                                on_message=ticks.setdefault(job.stage, []).append,
                                on_done=lambda out, j=job: done.update({j.name: out})))  # fmt: skip
            pool.wait()

    run(jobs)
    assert set(done) == {"a-one", "a-two"}
    assert all(out["created"].startswith(name + "@") and out["cpu_s"] > 0
               for name, out in done.items())  # fmt: skip
    assert {a.name for a in list_adapters(project)} == {"a-one", "a-two"}
    assert all(seen and seen[-1] == Progress(2, 2) for seen in ticks.values()), ticks

    (project.state_dir / "datasets" / "raft").mkdir()  # no train.jsonl
    with pytest.raises(RagtuneError, match="raft"):
        run([TuneJob("tune bad", "a-bad", "raft", 2, ("qa",), 0)])
    project.close()


def test_auto_workers() -> None:
    assert auto_workers(3, 2) == 2 and auto_workers(1, 3) == 1
    assert auto_workers(0, 1) == 1  # one job: nothing to run beside it
