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
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import UsageError
from ragtune.finetune.config import PILOT_P_MISSING
from ragtune.pilot.stages import Display, StageBook, file_hash, tree_hash

if TYPE_CHECKING:
    from ragtune.evaluation.datasets import EvalItem
    from ragtune.project import Project

ALL = ("base", "rag", "extract", "ft", "ft+rag", "raft+rag")
KNOWLEDGE, STYLE, RAFT = "pilot-knowledge", "pilot-style", "pilot-raft"
# "" = the project's generator.backend. The openai backend cannot run our adapters.
BACKENDS = ("", "transformers", "llamacpp")


@dataclass
class PilotConfig:
    """The pilot's knobs. Defaults suit the packaged 135M model on 2 CPU cores."""

    docs: Path
    eval_file: Path | None = None
    update: Path | None = None
    style: Path | None = None
    profile: Path | None = None
    strategies: tuple[str, ...] = ALL
    questions: int = 0  # 0 = all; else a subset keeping changed and unanswerable ones
    max_new_tokens: int = 32
    knowledge_steps: int = 40
    style_steps: int = 24
    raft_steps: int = 24
    # Share of RAFT examples without the oracle passage (target: the abstention); see
    # ragtune.finetune.config.PILOT_P_MISSING for why it is 0.
    raft_missing: float = PILOT_P_MISSING
    k: int | None = None  # passages per prompt (retrieval.k); None = the project's setting
    threads: int = 0  # torch intra-op threads; 0 = auto (1 on a busy machine, else default)
    workers: int = 0  # parallel LoRA runs; 0 = auto (2 on an idle machine with >= 2 cores)
    seed: int = 0
    resamples: int = 1000
    batch_size: int = 16  # questions per stored batch (see generator.batch_size)
    latency_sample: int = 8  # questions answered alone per strategy, for latency
    crossfit: bool = True  # abstention thresholds cross-fitted on the questions (compare)
    backend: str = ""  # generator for compare and the style check; "" = the project's
    ray: str = ""  # a Ray cluster for the jobs (ragtune.distributed.ray_pool); "" = local
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = [s for s in self.strategies if s not in ALL]
        if unknown:
            raise UsageError(f"unknown strategy {unknown[0]!r}", f"choose from {', '.join(ALL)}")
        if not Path(self.docs).exists():
            raise UsageError(f"documents folder {self.docs} not found")
        for name in ("eval_file", "update", "style", "profile"):
            value = getattr(self, name)
            if value is not None and not Path(value).exists():
                raise UsageError(f"--{name.replace('_file', '')} {value} not found")
        if self.k is not None and self.k < 1:
            raise UsageError(f"--k must be >= 1, got {self.k}")
        if not 0.0 <= self.raft_missing <= 0.5:
            raise UsageError(f"--raft-missing must be between 0 and 0.5, got {self.raft_missing}")
        if self.questions < 0 or self.max_new_tokens < 1:
            raise UsageError("--questions must be >= 0 and --max-new-tokens >= 1")
        if self.backend not in BACKENDS:
            raise UsageError(f"unknown backend {self.backend!r}", "choose transformers or llamacpp")
        if self.backend == "llamacpp":
            check_llamacpp()


def check_llamacpp() -> None:
    """A clear error before any stage runs, not one after the LoRA runs."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise UsageError(
            "--backend llamacpp needs llama-cpp-python, which is not installed",
            "run `make setup-llamacpp` (or pip install 'ragtune[llamacpp]'; it compiles "
            "llama.cpp, ~12 min once), or use --backend transformers",
        )


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
    gen = [s for s in config.strategies if s != "extract"]
    guess = {
        "ingest": 40.0,
        "data": 10.0 + (20.0 if "raft+rag" in config.strategies else 0.0),
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


def stage_names(config: PilotConfig) -> list[str]:
    names = ["ingest", "data"]
    if {"ft", "ft+rag"} & set(config.strategies):
        names.append("tune knowledge LoRA")
    if config.style:
        names.append("tune style LoRA")
    if "raft+rag" in config.strategies:
        names.append("tune RAFT LoRA")
    names.append("compare")
    if config.style:
        names.append("style check")
    return [*names, "advise + report"]


class Pilot:
    """Runs the stages of one pilot on a project; see the module docstring."""

    def __init__(self, project: Project, config: PilotConfig, progress: bool = True) -> None:
        self.project, self.config = project, config
        if config.k is not None:  # shorter prompts: prefill dominates CPU latency
            project.settings.retrieval.k = config.k
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
            self.project.settings.generator.threads = 1

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
                    "raft": cfg.raft_missing if "raft+rag" in cfg.strategies else False,
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
            results["abstention"] = steps.abstention_checks(self.project, cfg.strategies)
            out = self._advise(results, style)
            out["abstention"] = results["abstention"]
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

    def _advise(self, results: dict[str, Any], style: dict[str, Any] | None) -> dict[str, Any]:
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
            "results": str(Path(results["run"]["folder"]) / "results.json"),
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
    return Pilot(project, config, progress).run()
