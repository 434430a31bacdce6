"""The main job: init -> ingest -> data build -> tune (knowledge LoRA, style LoRA, RAFT) ->
compare -> style check -> advise -> report, each stage skipped when its inputs (file hashes,
settings, upstream outputs) did not change since the last run. Example::

    config = PilotConfig(docs=Path("examples/docs"), eval_file=Path("examples/eval.jsonl"),
                         update=Path("examples/v2"), style=Path("examples/style.jsonl"))
    outcome = run_pilot(project, config)
    outcome["report"]["html"], outcome["recommendation"]["choice"]
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.pilot.config import RAFT, PilotConfig, stage_names, uses
from ragtune.pilot.stages import Display, StageBook, file_hash, tree_hash
from ragtune.strategy_table import generative

if TYPE_CHECKING:
    from ragtune.evaluation.datasets import EvalItem
    from ragtune.evaluation.results import Results
    from ragtune.evaluation.sections import StyleCheck
    from ragtune.project import Project


def pick_items(items: list[EvalItem], n: int) -> list[EvalItem]:
    """``n`` items, taken in turn from changed-fact, unanswerable and other questions (each
    in file order), returned in file order; all of them when ``n`` is 0 or too large."""
    if not n or n >= len(items):
        return list(items)
    buckets = [
        [i for i in items if i.changes],
        [i for i in items if i.unanswerable],
        [i for i in items if not i.changes and not i.unanswerable],
    ]
    chosen: set[str] = set()
    while len(chosen) < n:
        for bucket in buckets:
            if bucket and len(chosen) < n:
                chosen.add(bucket.pop(0).id)
    return [i for i in items if i.id in chosen]


def estimates(config: PilotConfig, book: StageBook, n_questions: int) -> dict[str, float]:
    """Seconds per stage: last run's time when there is one, else a rough model of 2 cores."""
    gen = [s for s in config.strategies if generative(s)]
    guess = {
        "ingest": 40.0,
        "data": 10.0 + (20.0 if uses(config.strategies, RAFT) else 0.0),
        "tune knowledge LoRA": 25 + 2.5 * config.knowledge_steps,
        "tune style LoRA": 25 + 3.0 * config.style_steps,
        # + the false-abstention check: up to 40 long prompts answered (~4 s each, 1 thread)
        "tune RAFT LoRA": 25 + 6.0 * config.raft_steps + 90,
        "compare": 30
        + n_questions
        * (0.7 * len(gen) + 0.1)
        * (1 + config.max_new_tokens / 64)
        * (1.3 if config.update else 1.0),
        "style check": 40.0,
        "advise + report": 10.0,
    }
    wanted = stage_names(config)
    return {s: book.seconds(s) or guess[s] for s in wanted}


class Pilot:
    """Runs the stages of one pilot on a project; see the module docstring."""

    def __init__(self, project: Project, config: PilotConfig, progress: bool = True) -> None:
        if config.k is not None:  # shorter prompts: prefill dominates CPU latency
            project = project.with_settings(retrieval={"k": config.k})
        self.project, self.config = project, config
        self.book = StageBook(project.paths.pilot)
        self.workers = 1  # processes for LoRA runs and strategies; set when run() starts
        self.backend = config.backend or project.settings.generator.backend
        self.items = self._items()
        self.display = Display(estimates(config, self.book, len(self.items)), progress)

    def _items(self) -> list[EvalItem]:
        from ragtune.evaluation.datasets import load_eval_file

        if self.config.eval_file is None:
            return []  # the test split of the data stage, loaded after it
        return pick_items(load_eval_file(self.config.eval_file), self.config.questions)

    def _stage(self, name: str, inputs: dict[str, Any], work: Any) -> dict[str, Any]:
        key = self.book.key(inputs)
        if self.book.fresh(name, key):
            self.display.skipped(name)
            return self.book.outputs(name)
        with self.display.stage(name) as tick:
            started = time.perf_counter()
            outputs = work(tick)
            self.book.done(name, key, time.perf_counter() - started, outputs)
        return dict(outputs)

    def run(self) -> dict[str, Any]:
        from ragtune.pilot import steps
        from ragtune.pilot.parallel import auto_workers
        from ragtune.pilot.schedule import Schedule
        from ragtune.workers import Pool

        cfg = self.config
        started = time.perf_counter()
        threads = set_threads(cfg.threads)
        if cfg.ray:
            from ragtune.distributed.ray_pool import RayPool

            pool: Pool = RayPool(cfg.ray, cfg.workers)  # one job per CPU of the cluster
        else:
            # Decided once, before the pilot's own work raises the load average.
            pool = Pool(auto_workers(cfg.workers, 2))
        self.workers = pool.workers
        if self.backend == "llamacpp" and self.workers > 1:
            # llama.cpp fixes its threads when a model loads: one per worker process.
            self.project = self.project.with_settings(generator={"threads": 1})

        with self.display.running(), pool:
            docs = self._stage(
                "ingest",
                {"docs": tree_hash(cfg.docs), **self._settings()},
                lambda tick: steps.ingest(self.project, cfg.docs, tick),
            )
            data = self._stage(
                "data",
                {
                    "docs": docs,
                    "style": file_hash(cfg.style),
                    "seed": cfg.seed,
                    "raft": cfg.raft_missing if uses(cfg.strategies, RAFT) else False,
                    "retrieval": self._retrieval(),
                },
                lambda tick: steps.build_data(self.project, cfg),
            )
            if not self.items:
                from ragtune.evaluation.datasets import load_test_split

                self.items = pick_items(load_test_split(self.project, "default"), cfg.questions)
            results, style = Schedule(self, pool, data).run()
            # Into the report's JSON (pilot.json) and the outcome: raft+rag's refusals of
            # answerable validation questions, measured when its adapter was trained.
            results.abstention = steps.abstention_checks(self.project, cfg.strategies)
            out = self._advise(results, style)
            out["abstention"] = results.abstention
        out["stages"] = self.display.log
        out["torch_threads"] = threads
        out["workers"] = self.workers
        out["ray"] = cfg.ray or None
        out["wall_s"] = time.perf_counter() - started
        return out

    def _retrieval(self) -> dict[str, Any]:
        return dict(self.project.settings.retrieval.model_dump())

    def _settings(self) -> dict[str, Any]:
        s = self.project.settings
        return {"chunking": s.chunking.model_dump(), "embedder": s.embedder.model_dump()}

    def _advise(self, results: Results, style: StyleCheck | None) -> dict[str, Any]:
        from ragtune.advisor.framework import advise
        from ragtune.advisor.profile import resolve_profile
        from ragtune.report.html import write_report

        with self.display.stage("advise + report"):
            profile, source = resolve_profile(self.config.profile, prompt=False)
            rec = advise(results, profile, style)
            paths = write_report(
                results, rec, self.project.paths.reports, style=style, items=self.items
            )
        return {
            "recommendation": rec.to_dict(),
            "profile_source": source,
            "report": {k: str(v) for k, v in paths.items()},
            "results": str(Path(results.run.folder) / "results.json"),
            "config": {
                k: str(v) if isinstance(v, Path) else v for k, v in asdict(self.config).items()
            },
        }


def set_threads(wanted: int) -> int:
    """Torch intra-op threads for this process. Auto: 1 when the load average is at least the
    core count, since two threads that spin-wait for each other while other processes hold the
    cores are slower than one (measured on 2 cores at load 9: MiniLM 10 vs 29 queries/s)."""
    import os

    import torch

    if wanted <= 0:
        busy = os.getloadavg()[0] >= (os.cpu_count() or 1)
        wanted = 1 if busy else torch.get_num_threads()
    torch.set_num_threads(wanted)
    return wanted


def run_pilot(project: Project, config: PilotConfig, progress: bool = True) -> dict[str, Any]:
    pilot = Pilot(project, config, progress)
    try:
        return pilot.run()
    finally:
        if pilot.project is not project:  # its own copy (changed settings): its connection
            pilot.project.close()
