"""Every kind of project state has one named place (ragtune.paths), and the project and the
modules that write state agree on it."""

from __future__ import annotations

from pathlib import Path

from ragtune.config import Settings
from ragtune.finetune.adapters import adapters_root
from ragtune.paths import ProjectPaths
from ragtune.project import Project


def test_the_places_are_named_once_under_the_state_folder(tmp_path: Path) -> None:
    paths = ProjectPaths(tmp_path / ".ragtune")
    places = [paths.db, paths.index, paths.adapters, paths.datasets, paths.runs,
              paths.reports, paths.pilot, paths.uploads, paths.calibration]  # fmt: skip
    assert len(set(places)) == len(places)
    assert all(p.parent == paths.state for p in places)
    assert paths.dataset("raft") == paths.datasets / "raft"
    assert paths.run("compare-1") == paths.runs / "compare-1"


def test_a_project_uses_them(tmp_path: Path) -> None:
    project = Project.init(tmp_path / "p", Settings.load(None, embedder={"name": "hash"}))
    assert project.paths.state == project.state_dir
    project.store.count_chunks()  # the store opens (and creates its file) on first use
    assert project.db_path == project.paths.db and project.db_path.exists()
    assert project.index_dir == project.paths.index
    assert adapters_root(project) == project.paths.adapters
    project.close()
