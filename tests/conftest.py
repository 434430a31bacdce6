"""Shared fixtures. Every test gets its own project folder; no test touches ~/ or the repo."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ragtune.config import Settings
from ragtune.project import Project

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted-model cache per test session (the GGUF -> HF conversion takes ~30 s)."""
    return tmp_path_factory.mktemp("model-cache")


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, model_cache: Path) -> None:
    for key in list(os.environ):
        if key.startswith("RAGTUNE_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RAGTUNE_CACHE", str(model_cache))


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def hash_project(tmp_path: Path) -> Iterator[Project]:
    """A project with the fast hash embedder (unit speed; not semantic)."""
    settings = Settings.load(None, embedder={"name": "hash"}, chunking={"size": 64, "overlap": 8})
    project = Project.init(tmp_path / "proj", settings)
    yield project
    project.close()


@pytest.fixture(scope="session")
def sample_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Project]:
    """The bundled sample ingested once with the real packaged embedder."""
    root = tmp_path_factory.mktemp("sample")
    project = Project.init(root)
    report = project.ingest([EXAMPLES / "docs"])
    assert not report.by_status("failed"), report.by_status("failed")
    yield project
    project.close()


@pytest.fixture(scope="session")
def smollm2(model_cache: Path) -> Iterator[object]:
    """The real packaged SmolLM2 through the transformers backend, loaded once."""
    os.environ["RAGTUNE_CACHE"] = str(model_cache)
    from ragtune.generate.transformers_local import TransformersGenerator

    yield TransformersGenerator(batch_size=8)
