"""The adapter registry after a kill at each step of saving an adapter (issue 24, item 4).

A kill -9 cannot be aimed at one line from outside, so each test builds the folders a kill
at that point leaves on disk and checks what the registry then lists.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers.crash import adapter_problems

from ragtune.finetune.adapters import (
    AdapterInfo,
    install,
    list_adapters,
    load_info,
    save_metadata,
)
from ragtune.project import Project


def _adapter(folder: Path, name: str, steps: int) -> Path:
    """A complete adapter folder as training writes it (weights, PEFT config, metadata)."""
    import numpy as np
    from safetensors.numpy import save_file

    folder.mkdir(parents=True)
    save_file(
        {"w": np.full((2, 2), steps, dtype=np.float32)}, str(folder / "adapter_model.safetensors")
    )
    (folder / "adapter_config.json").write_text("{}")
    save_metadata(folder, AdapterInfo(name=name, method="lora", base_model="b",
                                      base_model_path="", dataset="d", steps=steps))  # fmt: skip
    return folder


@pytest.fixture
def project(hash_project: Project) -> Project:
    (hash_project.state_dir / "adapters").mkdir(parents=True, exist_ok=True)
    return hash_project


def test_install_replaces_an_adapter_whole(project: Project) -> None:
    root = project.state_dir / "adapters"
    _adapter(root / "a", "a", 1)
    install(_adapter(root / ".a.tmp", "a", 2), root / "a")
    assert [(i.name, i.steps) for i in list_adapters(project)] == [("a", 2)]
    assert sorted(p.name for p in root.iterdir()) == ["a"]
    assert adapter_problems(project.state_dir) == []


def test_a_written_but_uninstalled_adapter_is_not_listed(project: Project) -> None:
    """Killed after the new folder (metadata included) was written, before its rename:
    the hidden folder is not a second adapter, and the old one is still there."""
    root = project.state_dir / "adapters"
    _adapter(root / "a", "a", 1)
    _adapter(root / ".a.tmp", "a", 2)
    assert [(i.name, i.steps) for i in list_adapters(project)] == [("a", 1)]


def test_killed_between_the_two_renames_keeps_the_old_adapter(project: Project) -> None:
    root = project.state_dir / "adapters"
    _adapter(root / ".a.old", "a", 1)  # the old one renamed aside ...
    _adapter(root / ".a.tmp", "a", 2)  # ... the new one not yet renamed in
    assert load_info(project, "a").steps == 1
    assert [(i.name, i.steps) for i in list_adapters(project)] == [("a", 1)]
    assert not (root / ".a.old").exists()
    assert adapter_problems(project.state_dir) == []
    install(root / ".a.tmp", root / "a")  # the rerun's install still works afterwards
    assert load_info(project, "a").steps == 2


def test_killed_while_deleting_the_old_adapter(project: Project) -> None:
    """The new adapter is in place; the old one half deleted aside is no adapter."""
    root = project.state_dir / "adapters"
    _adapter(root / "a", "a", 2)
    (_adapter(root / ".a.old", "a", 1) / "adapter_model.safetensors").unlink()
    assert [(i.name, i.steps) for i in list_adapters(project)] == [("a", 2)]
    assert adapter_problems(project.state_dir) == []


def test_metadata_is_replaced_not_rewritten_in_place(project: Project) -> None:
    folder = _adapter(project.state_dir / "adapters" / "a", "a", 1)
    info = load_info(project, "a")
    info.steps = 5
    save_metadata(folder, info)
    assert json.loads((folder / "ragtune.json").read_text())["steps"] == 5
    assert sorted(p.name for p in folder.iterdir()) == [
        "adapter_config.json", "adapter_model.safetensors", "ragtune.json"]  # fmt: skip


def test_a_torn_weights_file_is_reported(project: Project) -> None:
    folder = _adapter(project.state_dir / "adapters" / "a", "a", 1)
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-5])
    assert adapter_problems(project.state_dir)[0].startswith("a: weights unreadable")
