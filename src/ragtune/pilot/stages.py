"""Stage bookkeeping for the pilot: input hashes (a stage whose inputs did not change is
skipped), recorded durations (the next run's time estimates) and the progress display.

State lives in ``.ragtune/pilot/stages.json`` (sorted keys). Example::

    book = StageBook(project.paths.pilot)
    key = book.key({"docs": tree_hash(docs), "seed": 0})
    if book.fresh("ingest", key):
        ...skip...
    book.done("ingest", key, seconds=12.3, outputs={"documents": 32})
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Tick = Callable[[int, int], None]  # (done, total) inside a stage


def file_hash(path: Path | str | None) -> str:
    if not path:
        return ""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def tree_hash(root: Path | str | None) -> str:
    """SHA-256 over every file's relative path and bytes (hidden files skipped)."""
    if not root:
        return ""
    root = Path(root)
    if root.is_file():
        return file_hash(root)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(root).as_posix()
        if any(part.startswith(".") for part in rel.split("/")):
            continue
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class StageBook:
    """Which stages ran with which inputs, how long they took, what they produced."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.path = self.folder / "stages.json"
        self.state: dict[str, Any] = {}
        if self.path.is_file():
            self.state = json.loads(self.path.read_text(encoding="utf-8"))

    @staticmethod
    def key(inputs: Mapping[str, Any]) -> str:
        return hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()

    def fresh(self, stage: str, key: str) -> bool:
        return self.state.get(stage, {}).get("key") == key

    def outputs(self, stage: str) -> dict[str, Any]:
        return dict(self.state.get(stage, {}).get("outputs") or {})

    def seconds(self, stage: str) -> float | None:
        return self.state.get(stage, {}).get("seconds")

    def done(self, stage: str, key: str, seconds: float, outputs: Mapping[str, Any]) -> None:
        self.state[stage] = {"key": key, "seconds": seconds, "outputs": dict(outputs)}
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.state, indent=1, sort_keys=True, default=str))
        tmp.replace(self.path)


class Display:
    """One progress row per stage (rich), with its estimate; quiet when ``enabled`` is False."""

    def __init__(self, stages: Mapping[str, float], enabled: bool = True) -> None:
        self.estimates = dict(stages)
        self.enabled = enabled
        self.log: list[dict[str, Any]] = []
        self._bar: Any = None
        self._tasks: dict[str, Any] = {}
        self._started: dict[str, float] = {}

    @contextmanager
    def running(self) -> Iterator[Display]:
        if not self.enabled:
            yield self
            return
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (
            TextColumn("{task.description:<34}"),
            BarColumn(),
            TextColumn("{task.fields[note]}"),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
            self._bar = bar
            for name, est in self.estimates.items():
                self._tasks[name] = bar.add_task(
                    name, total=None, start=False, note=f"est. ~{_human(est)}"
                )
            yield self
        self._bar = None

    @contextmanager
    def stage(self, name: str) -> Iterator[Tick]:
        cpu = _cpu_seconds()
        tick = self.begin(name)
        yield tick
        # CPU seconds (all threads, and worker processes) too: on a shared machine wall
        # time says little.
        self.end(name, _cpu_seconds() - cpu)

    def begin(self, name: str) -> Tick:
        """Start a stage's row and clock; stages may overlap (parallel LoRA runs)."""
        self._started[name] = time.perf_counter()
        task = self._tasks.get(name)
        if self._bar is not None and task is not None:
            self._bar.start_task(task)

        def tick(done: int, total: int) -> None:
            if self._bar is not None and task is not None:
                self._bar.update(task, completed=done, total=max(total, 1))

        return tick

    def end(self, name: str, cpu_s: float) -> float:
        """Close a stage begun with :meth:`begin`; returns its wall seconds."""
        seconds = time.perf_counter() - self._started.pop(name)
        self.log.append({"stage": name, "seconds": seconds, "cpu_s": cpu_s, "skipped": False})
        task = self._tasks.get(name)
        if self._bar is not None and task is not None:
            self._bar.update(task, completed=1, total=1, note=f"done in {_human(seconds)}")
            self._bar.stop_task(task)
        return seconds

    def skipped(self, name: str, why: str = "inputs unchanged") -> None:
        self.log.append({"stage": name, "seconds": 0.0, "cpu_s": 0.0, "skipped": True})
        task = self._tasks.get(name)
        if self._bar is not None and task is not None:
            self._bar.update(task, completed=1, total=1, note=f"skipped: {why}")


def _cpu_seconds() -> float:
    """This process's CPU time plus that of its finished worker processes."""
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _human(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"
