"""The comparison runner: every strategy answers the same questions, batch by batch, into the
run store; a killed run resumes where it stopped. Example::

    specs, skipped = plan_strategies(project, ["base", "rag"], adapters=[])
    config = CompareConfig(specs, seed=0, options={"max_new_tokens": 48})
    runner = Runner(project, load_eval_file("examples/eval.jsonl"), config)
    results = runner.run()              # see ragtune.evaluation.report.build_results
    results["metrics"]["answers"]["f1"]["rag"]["mean"]
"""

from __future__ import annotations

import resource
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ragtune.builtin_strategies  # noqa: F401  (defines the built-in strategies)
import ragtune.strategy_table as strategy_table
from ragtune.errors import UsageError
from ragtune.evaluation.datasets import EvalItem, items_hash
from ragtune.evaluation.parallel import answer_batches, answer_jobs
from ragtune.evaluation.store import CROSSFIT_META, RunStore
from ragtune.types import content_hash

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results
    from ragtune.project import Project

Progress = Callable[[str, int, int], None]  # (label, done, total)


@dataclass(frozen=True)
class StrategySpec:
    name: str
    adapter: str | None = None

    @property
    def label(self) -> str:
        return strategy_table.label(self.name, self.adapter)


@dataclass
class CompareConfig:
    """What a run does; everything but ``progress`` is part of the run's identity."""

    strategies: list[StrategySpec]
    backend: str | None = None
    model: str | None = None
    options: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    judge: str = "offline"  # offline, or a generator backend name for the LLM judge
    judge_model: str | None = None
    update: Path | None = None
    retrain: bool = False
    batch_size: int = 16
    resamples: int = 2000
    latency_sample: int = 8  # questions answered alone per strategy; their timings = latency
    workers: int = 1  # strategies answered at once (processes); not part of the identity
    # The judge's self-test (ragtune.evaluation.selftest): answers per strategy it edits and
    # re-judges (0: off), and answers the LLM judge judges twice. Not part of the identity:
    # they change no answer, and the results are re-scored from the store on every finish.
    selftest_sample: int = 30
    judge_repeat: int = 10
    # Abstention thresholds cross-fitted on the run's own questions (see
    # ragtune.retrieval.answerability.crossfit) when they include unanswerable ones.
    crossfit: bool = True

    def identity(self, items: Sequence[EvalItem]) -> dict[str, Any]:
        return {
            "strategies": [s.label for s in self.strategies],
            "backend": self.backend,
            "model": self.model,
            "options": {k: str(v) for k, v in sorted(self.options.items())},
            "seed": self.seed,
            "judge": self.judge,
            "judge_model": self.judge_model,
            "update": str(self.update.resolve()) if self.update else None,
            "retrain": self.retrain,
            "latency_sample": self.latency_sample,
            "crossfit": self.crossfit,
            "eval_hash": items_hash(items),
            "n_items": len(items),
        }


def _is_raft(project: Project, name: str) -> bool:
    from ragtune.finetune.adapters import load_info

    info = load_info(project, name)
    return "raft" in f"{info.name} {info.dataset} {info.config.get('extra', '')}".lower()


def _adapters_for(project: Project, strategy: str, explicit: dict[str, str], plain: list[str]):
    if strategy in explicit:
        return [explicit[strategy]]
    if not plain:
        from ragtune.finetune.adapters import list_adapters

        plain = [a.name for a in list_adapters(project)]
    raft = [a for a in plain if _is_raft(project, a)]
    other = [a for a in plain if a not in raft]
    wants = strategy_table.info(strategy)
    return raft if wants is not None and wants.adapter_kind == "raft" else other


def plan_strategies(
    project: Project, requested: Sequence[str] | None, adapters: Sequence[str]
) -> tuple[list[StrategySpec], list[str]]:
    """The runnable strategies and a reason for each one skipped. ``adapters`` holds names
    (used by every adapter strategy; RAFT-trained ones go to raft+rag) or ``strategy=NAME``."""
    known = strategy_table.names()
    explicit = {k: v for k, _, v in (a.partition("=") for a in adapters if "=" in a)}
    plain = [a for a in adapters if "=" not in a]
    names = list(requested) if requested else list(strategy_table.names(default_only=True))
    unknown = [n for n in names if n not in known]
    if requested and unknown:
        raise UsageError(f"unknown strategy {unknown[0]!r}", f"choose from {', '.join(known)}")
    skipped = [f"{n}: not available in this installation" for n in unknown]
    specs: list[StrategySpec] = []
    for name in (n for n in names if n in known):
        if name not in strategy_table.needing_adapter():
            specs.append(StrategySpec(name))
            continue
        chosen = _adapters_for(project, name, explicit, plain)
        if not chosen:
            skipped.append(
                f"{name}: needs an adapter; none given or registered "
                "(train one with `ragtune tune`, or pass --adapter NAME)"
            )
        specs += [StrategySpec(name, a) for a in chosen]
    if not specs:
        raise UsageError("no strategy to run", "; ".join(skipped) or None)
    return specs, skipped


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


class Runner:
    """Runs one comparison into ``.ragtune/runs/<id>/`` (id from the config unless given)."""

    def __init__(
        self,
        project: Project,
        items: Sequence[EvalItem],
        config: CompareConfig,
        *,
        run_id: str | None = None,
        fresh: bool = False,
        progress: Progress | None = None,
    ) -> None:
        self.project, self.items, self.config = project, list(items), config
        identity = config.identity(self.items)
        import json

        self.run_id = run_id or content_hash(json.dumps(identity, sort_keys=True))[:12]
        folder = project.paths.run(f"compare-{self.run_id}")
        if fresh:
            shutil.rmtree(folder, ignore_errors=True)
        self.store = RunStore.open(folder, identity)
        self.progress = progress
        self.cpu_s = 0.0  # CPU seconds of the pieces answered in worker processes

    @property
    def folder(self) -> Path:
        return self.store.folder

    @property
    def thresholds(self) -> dict[str, float]:
        """Question -> abstention threshold from the cross-fitted calibration (empty: the
        project's threshold for all). Chosen once per run and kept in the run store, so a
        resumed run answers with the same thresholds."""
        if not self.config.crossfit:
            return {}
        stored = self.store.meta(CROSSFIT_META)
        if stored is None:
            from ragtune.retrieval.answerability import crossfit_project

            if self.progress:
                self.progress("abstention calibration", 0, len(self.items))
            fit = crossfit_project(self.project, self.items, self.config.seed)
            if self.progress:
                self.progress("abstention calibration", len(self.items), len(self.items))
            stored = {"thresholds": fit.thresholds, **fit.to_dict()} if fit else {}
            self.store.put_meta(CROSSFIT_META, stored)
        thresholds: dict[str, float] = stored.get("thresholds", {})
        return thresholds

    def _options(self) -> dict[str, Any]:
        return {"seed": self.config.seed, **self.config.options}

    def pending(
        self, phase: str, items: Sequence[EvalItem], specs: Sequence[StrategySpec] | None = None
    ) -> list[tuple[StrategySpec, list[EvalItem]]]:
        """(strategy, its questions not stored yet) for each strategy with any left."""
        work = []
        for spec in self.config.strategies if specs is None else specs:
            done = self.store.answered(phase, spec.label)
            todo = [i for i in items if i.id not in done]
            if todo:
                work.append((spec, todo))
        return work

    def latency_ids(self, phase: str, items: Sequence[EvalItem]) -> set[str]:
        """Latency is measured on the main phase's first questions, answered alone (the
        re-asked changed facts measure freshness, not speed)."""
        return {i.id for i in items[: self.config.latency_sample]} if phase == "main" else set()

    def answer_phase(
        self, project: Project, phase: str, items: Sequence[EvalItem], adapters: dict[str, str]
    ) -> None:
        """Answer ``items`` with every strategy; questions already stored are skipped."""
        work = self.pending(phase, items)
        alone = self.latency_ids(phase, items)
        thresholds = self.thresholds if work else {}
        if self.config.workers > 1 and len(work) > 1:
            from ragtune.workers import Pool

            workers = min(self.config.workers, len(work))
            with Pool(workers) as pool:
                for job in answer_jobs(self, project, phase, work, adapters, workers, len(items),
                                       alone):  # fmt: skip
                    pool.submit(job)
                pool.wait()
            return
        for spec, todo in work:
            system = project.answer_system(
                spec.name,
                self.config.backend,
                self.config.model,
                self._options(),
                adapters.get(spec.label, spec.adapter),
            )
            system.thresholds = thresholds
            self.store.put_meta(
                f"retrieves:{spec.label}", getattr(system, "retriever", None) is not None
            )
            count = len(items) - len(todo)
            if self.progress:
                self.progress(f"{phase} {spec.label}", count, len(items))
            questions = [(i.id, i.question) for i in todo]
            for records in answer_batches(system, questions, self.config.batch_size, alone):
                self.store.put_answers(phase, spec.label, records)
                count += len(records)
                if self.progress:
                    self.progress(f"{phase} {spec.label}", count, len(items))
            rss = max(_peak_rss_mb(), self.store.meta(f"rss:{spec.label}", 0.0))
            self.store.put_meta(f"rss:{spec.label}", rss)

    @property
    def changed(self) -> list[EvalItem]:
        """The questions whose facts the update changes: the fresh phase asks them again."""
        return [i for i in self.items if i.changes]

    def fresh_copy(self) -> Project:
        """The project with the update applied, in the run folder (see ``freshness``)."""
        from ragtune.evaluation import freshness

        assert self.config.update is not None
        if not self.changed:
            self.store.put_meta("fresh:skipped", "the evaluation set has no changed facts")
        copy, info = freshness.updated_copy(self.project, self.folder, self.config.update)
        self.store.put_meta("fresh:reindex", info)
        return copy

    def reuse_for_fresh(self, spec: StrategySpec) -> bool:
        """A strategy that does not retrieve gives the same answers after the update (same
        model, same prompt): its main answers are stored as its fresh ones. Call once its
        main phase is answered; False when it retrieves."""
        if self.store.meta(f"retrieves:{spec.label}"):
            return False
        main = self.store.answers("main", spec.label)
        reused = {i.id: {**main[i.id], "reused": True} for i in self.changed if i.id in main}
        self.store.put_answers("fresh", spec.label, reused)
        return True

    def _fresh_phase(self) -> None:
        from ragtune.evaluation import freshness

        copy = self.fresh_copy()
        adapters: dict[str, str] = {}
        if self.config.retrain:
            specs = self.config.strategies
            for adapter in sorted({s.adapter for s in specs if s.adapter}):
                key = f"fresh:retrain:{adapter}"
                if self.store.meta(key) is None:
                    name, seconds = freshness.retrain(copy, adapter, self.config.seed)
                    self.store.put_meta(key, {"adapter": name, "seconds": seconds})
            adapters = {s.label: self.store.meta(f"fresh:retrain:{s.adapter}")["adapter"]
                        for s in specs if s.adapter}  # fmt: skip
        for spec in self.config.strategies:
            if spec.label not in adapters:
                self.reuse_for_fresh(spec)
        try:
            self.answer_phase(copy, "fresh", self.changed, adapters)
        finally:
            copy.close()

    def run(self) -> Results:
        """Answer, judge, score; returns the full results (also written to results.json)."""
        started = time.perf_counter()
        self.answer_phase(self.project, "main", self.items, {})
        if self.config.update is not None:
            self._fresh_phase()
        return self.finish(started)

    def finish(self, started: float) -> Results:
        """Judge and score the stored answers (all answered by now); ``started``: when this
        session of the run began (``time.perf_counter()``), for the run's wall time."""
        from ragtune.evaluation.report import build_results

        results = build_results(self)
        wall = self.store.meta("wall_s", 0.0) + time.perf_counter() - started
        self.store.put_meta("wall_s", wall)
        results.run.wall_s = wall
        self.store.write_results(results)
        return results

    def close(self) -> None:
        self.store.close()
