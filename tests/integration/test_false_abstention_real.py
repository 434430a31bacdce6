"""The false-abstention check through the real path: RAFT data with oracle-free examples, one
training step of the packaged SmolLM2, then the validation questions answered by the saved
adapter through raft+rag; the rates land in the adapter's metadata."""

from pathlib import Path

import pytest
import torch
from tests.conftest import write
from tests.unit.finetune.test_raft import DOCS

from ragtune.config import Settings
from ragtune.finetune.abstention import is_abstention
from ragtune.finetune.adapters import load_info
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.data import load_split
from ragtune.finetune.raft import build_raft_dataset
from ragtune.finetune.train import train
from ragtune.pilot.run import set_threads
from ragtune.pilot.steps import train_only
from ragtune.project import Project

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]  # real training; slow under load


def test_training_on_raft_data_records_the_abstention_rates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, text in DOCS.items():
        write(tmp_path / "docs" / name, text)
    # The hash embedder and k = 2 keep ingest and prompts short; the model is the real one.
    settings = Settings.load(None, embedder={"name": "hash"}, chunking={"size": 64, "overlap": 8},
                             retrieval={"k": 2})  # fmt: skip
    project = Project.init(tmp_path / "p", settings)
    assert not project.ingest([tmp_path / "docs"]).by_status("failed")
    build_raft_dataset(project, name="raft", seed=0, k=1, p_missing=0.5, split=(0.5, 0.4, 0.1))
    val = load_split(project, "raft", "validation")
    free = sum(is_abstention(r) for r in val)
    assert free and len(val) - free >= 3  # both kinds to ask
    # The forgetting probe is tested in test_finetune_real; here it would double the time.
    monkeypatch.setattr("ragtune.finetune.train._forgetting", lambda *a: {})
    # As the pilot does: train on a copy without validation rows (the Trainer's evaluation
    # took half the time) and ask the source dataset's validation questions.
    config = TuneConfig(name="r", dataset=train_only(project, "raft"), max_steps=1,
                        batch_size=2, max_length=256, abstention_dataset="raft",
                        abstention_questions=3, max_false_abstention=100.0)  # fmt: skip
    threads = torch.get_num_threads()
    set_threads(0)  # 1 thread on a busy machine: 2 spinning threads were ~5x slower here
    try:
        info = train(project, config)
    finally:
        torch.set_num_threads(threads)
    record = info.abstention
    assert load_info(project, "r").abstention == record  # in the registry's metadata
    assert record["answerable"] == 3 and record["oracle_free"] == 1  # 3 // 4, at least 1
    assert record["false_abstentions"] == round(record["false_abstention"] * 3)
    assert record["true_abstentions"] == round(record["true_abstention"] * 1)
    assert record["max_false_abstention_pct"] == 100.0 and record["passed"] is (
        True if record["answerable"] > record["by_threshold"] else None
    )
    assert record["seconds"] > 0 and record["max_new_tokens"] == 24
    project.close()
