"""``ensure_gguf``: an adapter's GGUF export is reused while it is newer than the adapter's
weights and converted again once the adapter is retrained (the converter itself runs in
tests/integration/test_llamacpp_real.py, when llama.cpp is installed)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ragtune.finetune import export
from ragtune.finetune.adapters import adapter_dir
from ragtune.project import Project


def test_gguf_export_is_redone_only_after_retraining(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = Project.init(tmp_path / "p")
    folder = adapter_dir(project, "a")
    folder.mkdir(parents=True)
    weights = folder / "adapter_model.safetensors"
    weights.write_bytes(b"w1")
    calls: list[str] = []

    def fake_export(_project: Project, name: str) -> Path:
        calls.append(name)
        out = adapter_dir(_project, name) / export.GGUF_NAME
        out.write_bytes(b"GGUF")
        return out

    monkeypatch.setattr(export, "export_gguf", fake_export)
    try:
        first = export.ensure_gguf(project, "a")
        assert export.ensure_gguf(project, "a") == first and calls == ["a"]
        later = first.stat().st_mtime + 5
        os.utime(weights, (later, later))  # retrained after the export
        export.ensure_gguf(project, "a")
        assert calls == ["a", "a"]
    finally:
        project.close()
