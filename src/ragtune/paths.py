"""Every place a project keeps state under ``.ragtune/``: the one list of them, so a folder
is named once and a new kind of state is added here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ProjectPaths:
    """``state``: the project's ``.ragtune`` folder. Nothing is created here; each writer
    creates its folder when it first writes."""

    state: Path

    @property
    def db(self) -> Path:
        """The SQLite store (the system of record unless store.backend is postgres)."""
        return self.state / "ragtune.db"

    @property
    def index(self) -> Path:
        """Derived search indexes (dense vectors, HNSW graph, BM25), rebuilt when stale."""
        return self.state / "index"

    @property
    def adapters(self) -> Path:
        return self.state / "adapters"

    @property
    def datasets(self) -> Path:
        return self.state / "datasets"

    def dataset(self, name: str) -> Path:
        return self.datasets / name

    @property
    def runs(self) -> Path:
        """Training runs (checkpoints) and compare runs (``compare-<id>``)."""
        return self.state / "runs"

    def run(self, name: str) -> Path:
        return self.runs / name

    @property
    def reports(self) -> Path:
        return self.state / "reports"

    @property
    def pilot(self) -> Path:
        """The pilot's stage book and the style check's results."""
        return self.state / "pilot"

    @property
    def uploads(self) -> Path:
        """Files uploaded through the service (and its journal of pending ones)."""
        return self.state / "uploads"

    @property
    def calibration(self) -> Path:
        """The abstention threshold saved by ``ragtune calibrate``."""
        return self.state / "abstention.json"
