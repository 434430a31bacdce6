"""Freshness: apply a document update to a *copy* of the project and measure what changes.

The user's project is never modified: its ``.ragtune`` state (database, index, datasets) is
copied into the run folder (adapters are linked, read-only) and the update is ingested there
with ``sync`` (the update folder is the complete new state, like ``ragtune ingest --sync``).
The re-index wall time is the time-to-fresh of every retrieving strategy. Example::

    copy, seconds = updated_copy(project, run_dir, Path("examples/v2"))
    fact_state("It is now 27 working days.", "25 working days", "27 working days")  # "new"
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.generate.citations import content_words
from ragtune.text.words import numbers
from ragtune.text.words import squad_normalise as normalize

if TYPE_CHECKING:
    from ragtune.project import Project

FRESH_DIR = "updated"
_LINKED = ("adapters",)
_SKIPPED = ("runs", "ragtune.db", "ragtune.db-wal", "ragtune.db-shm")


def _distinct(a: str, b: str) -> set[str]:
    """Words and numbers of ``a`` that ``b`` lacks: what tells the two facts apart."""
    wa, wb = content_words(a) | numbers(a), content_words(b) | numbers(b)
    return wa - wb


def states_fact(answer: str, fact: str, other: str) -> bool:
    """True when ``answer`` states ``fact`` rather than ``other``: it holds every word/number
    that distinguishes ``fact`` from ``other`` (or the whole normalised fact)."""
    key = _distinct(fact, other)
    have = content_words(answer) | numbers(answer)
    if key:
        return key <= have
    return normalize(fact) in normalize(answer)


def fact_state(answer: str, old: str, new: str) -> str:
    """``new``, ``stale`` (the old fact), or ``other`` (neither or both). When one fact
    holds the other ("-i" became "-i and -E"), an answer stating the longer one states
    the shorter too; it counts as the longer."""
    is_new, is_old = states_fact(answer, new, old), states_fact(answer, old, new)
    if is_new and (not is_old or not _distinct(old, new)):
        return "new"
    if is_old and (not is_new or not _distinct(new, old)):
        return "stale"
    return "other"


def link_adapters(project: Project, copy: Project) -> None:
    """Link into ``copy`` the adapters of ``project`` it lacks: per entry, so an adapter
    retrained in the copy lands there only; again later for adapters trained since (the
    pilot re-indexes while its LoRA runs train)."""
    for name in _LINKED:
        src, dest = project.state_dir / name, copy.state_dir / name
        if not src.is_dir():
            continue
        dest.mkdir(exist_ok=True)
        for entry in src.iterdir():
            link = dest / entry.name
            if not (link.is_symlink() or link.exists()):
                link.symlink_to(entry.resolve())


def _copy_state(project: Project, target: Path) -> None:
    from ragtune.project import Project

    src = project.state_dir
    dest = target / src.name
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(*_SKIPPED, *_LINKED))
    link_adapters(project, Project(target, project.settings))
    if project.db_path.exists():  # a consistent snapshot even while the store is open
        with sqlite3.connect(project.db_path) as s, sqlite3.connect(dest / "ragtune.db") as d:
            s.backup(d)
    config = project.root / "ragtune.toml"
    if config.exists():
        shutil.copy2(config, target / "ragtune.toml")


def updated_copy(
    project: Project, run_dir: Path, update: Path, progress: Any = None
) -> tuple[Project, dict[str, Any]]:
    """(the updated copy, {"seconds": re-index wall time, "counts": ingest outcome counts}).

    A copy whose update finished earlier (``update.json`` present) is reused; a partial one
    (the run was killed while ingesting) is rebuilt from scratch."""
    import json

    from ragtune.project import Project

    target = run_dir / FRESH_DIR
    done = target / "update.json"
    if done.exists():
        return Project(target, project.settings), json.loads(done.read_text())
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    _copy_state(project, target)
    copy = Project(target, project.settings)
    started = time.perf_counter()
    report = copy.ingest([update], sync=True, progress=progress)
    info = {
        "seconds": time.perf_counter() - started,
        "counts": report.counts(),
        "update": str(update),
    }
    done.write_text(json.dumps(info, sort_keys=True))
    return copy, info


def retrain(project: Project, adapter: str, seed: int) -> tuple[str, float]:
    """Rebuild the training data from the updated copy and retrain ``adapter`` with its
    recorded configuration; returns (new adapter name, wall seconds incl. the data build)."""
    from dataclasses import fields

    from ragtune.finetune.adapters import load_info
    from ragtune.finetune.config import TuneConfig
    from ragtune.finetune.data import build_dataset
    from ragtune.finetune.train import train

    info = load_info(project, adapter)
    name = f"{adapter}-fresh"
    known = {f.name for f in fields(TuneConfig)}
    values = {k: v for k, v in info.config.items() if k in known}
    for key in ("kinds", "target_modules"):
        if key in values:
            values[key] = tuple(values[key])
    started = time.perf_counter()
    build_dataset(project, name="fresh", seed=seed, force=True)
    train(project, TuneConfig(**{**values, "name": name, "dataset": "fresh"}), force=True)
    return name, time.perf_counter() - started
