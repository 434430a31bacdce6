"""kill -9 cycles and concurrent writers (issue 24, item 4), in miniature.

A few of bench/crash_cycles.py's cycles (same scenarios and checks,
tests/helpers/crash_scenarios.py): ingest into an empty project and over a stored version,
one compare run; plus two `ragtune ingest` processes and a live server searching the same
project at once. The tune cycles (~20 s each on 2 shared cores) run in the bench only; the
adapter registry's crash states are built directly in tests/unit/finetune/test_adapter_install.py.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path

import httpx
import tests.unit.evaluation.fake_backend  # noqa: F401  (the projects' generator)
from tests.helpers import crash
from tests.helpers.crash_scenarios import (
    CLI,
    CompareScenario,
    IngestScenario,
    _env,
    _init,
    _tiny_base,
    delays,
)
from tests.helpers.service import serve_app

from ragtune.project import Project
from ragtune.service.app import create_app
from ragtune.store.keys import create_key


def _assert_passed(records: list[dict]) -> None:
    problems = [f"cycle {r['cycle']} ({r['stage']}): {p}" for r in records for p in r["problems"]]
    assert not problems, "\n".join(problems)


def test_ingest_kill_cycles_leave_whole_documents_and_resume(tmp_path: Path) -> None:
    scenario = IngestScenario(tmp_path, n_docs=400)
    scenario.setup()
    # Kills in the middle three fifths of a run: the start is all imports, the end exit.
    spread = [0.2 * scenario.clean_seconds + d * 0.6 for d in delays(4, scenario.clean_seconds, 1)]
    records = [scenario.cycle(i, delay) for i, delay in enumerate(spread)]
    _assert_passed(records)
    assert sum(r["killed"] for r in records) >= 2, records  # the kills did land mid-run


def test_compare_killed_midway_resumes_to_the_same_numbers(tmp_path: Path) -> None:
    scenario = CompareScenario(tmp_path, n_questions=8, delay_per_batch=0.3)
    scenario.setup()
    record = scenario.cycle(0, 0.7 * scenario.clean_seconds)
    _assert_passed([record])


def _write_docs(folder: Path, tag: str, n: int) -> None:
    folder.mkdir(parents=True)
    for i in range(n):
        body = "\n\n".join(
            f"Note {j} on {tag}{i:03d}word and shared topic {i % 7}." for j in range(30)
        )
        (folder / f"{tag}{i:03d}.md").write_text(f"# {tag} {i}\n\n{body}\n")


def test_two_ingests_and_a_live_server_share_one_project(tmp_path: Path) -> None:
    root = _init(tmp_path / "proj")
    n = 150
    for tag in ("alpha", "beta"):
        _write_docs(tmp_path / tag, tag, n)
    project = Project(root)
    key = create_key(project.store, "root", [], admin=True)[0]
    searches: list[int] = []
    errors: list[str] = []
    stop = threading.Event()

    def search_loop(url: str) -> None:
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"},
                          timeout=60) as client:  # fmt: skip
            while not stop.is_set():
                r = client.post("/v1/search", json={"query": f"shared topic {len(searches) % 7}"})
                searches.append(r.status_code)
                if r.status_code != 200:
                    errors.append(f"{r.status_code} {r.text[:300]}")

    with serve_app(create_app(project)) as url:
        searcher = threading.Thread(target=search_loop, args=(url,))
        searcher.start()
        procs = [
            subprocess.Popen(
                [*CLI, "-C", str(root), "ingest", str(tmp_path / tag)],
                env=_env(),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for tag in ("alpha", "beta")
        ]
        outputs = [p.communicate(timeout=240) for p in procs]
        stop.set()
        searcher.join(60)
        for proc, (out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err
            assert "locked" not in err and "Traceback" not in err, err
            assert f"{n} added" in out, out
        assert not errors and len(searches) >= 3, (errors, len(searches))
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}) as client:
            for tag in ("alpha", "beta"):  # every document is searchable by its own word
                for i in range(0, n, 10):
                    r = client.post("/v1/search", json={"query": f"{tag}{i:03d}word", "k": 1,
                                                        "mode": "bm25"})  # fmt: skip
                    assert r.json()["data"][0]["chunk"]["doc_id"] == f"{tag}{i:03d}.md"
    project.close()
    db = root / ".ragtune" / "ragtune.db"
    assert crash.store_problems(db) == []
    assert len(crash.store_state(db)) == 2 * n


def test_same_seed_trains_the_same_adapter(tmp_path: Path) -> None:
    """A rerun after a kill before the first checkpoint starts over: it must train the
    adapter the uninterrupted run would have (the LoRA initialisation was once unseeded)."""
    import torch
    from safetensors.torch import load_file

    from ragtune.finetune.config import TuneConfig
    from ragtune.finetune.train import train

    base = tmp_path / "tiny"
    rows = [{"kind": "style", "messages": [{"role": "user", "content": f"question {i} ?"},
             {"role": "assistant", "content": f"answer {i} ."}]} for i in range(6)]  # fmt: skip
    _tiny_base(base, " ".join(f"question answer {i} ? ." for i in range(6)) + " system user")
    project = Project.init(tmp_path / "p")
    data = project.state_dir / "datasets" / "d"
    data.mkdir(parents=True)
    for split, part in (("train", rows), ("validation", []), ("test", [])):
        (data / f"{split}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in part))
    weights = []
    for name in ("one", "two"):
        train(project, TuneConfig(name=name, dataset="d", base_model=str(base), max_steps=2,
                                  batch_size=2, lora_r=2, lora_alpha=4))  # fmt: skip
        weights.append(load_file(str(project.state_dir / "adapters" / name /
                                     "adapter_model.safetensors")))  # fmt: skip
    assert weights[0].keys() == weights[1].keys()
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])
    project.close()
