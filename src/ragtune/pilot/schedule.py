"""The pilot's tune, compare and style-check stages as one pool of worker processes.

Each piece of work starts as soon as what it needs exists, not when the stage before it
ends: prompting-only strategies (base, rag, extract) and the prompted half of the style
check answer while the LoRA runs train; a strategy's questions go out the moment its adapter
is saved; its re-asked changed facts go out once its main answers are in and the parent
process has re-indexed the update (on a thread, meanwhile). Stages one after another left a
core idle at each stage's tail, re-spawned workers (imports and model loads, ~15 s of CPU
each) for every stage and ran the style check on two threads of one process: the sample
pilot's `make demo` took 697 s that way, 450 s now (bench/NOTES.md, "One pool").

Each stage keeps its own key in the stage book, so a re-run skips what did not change;
compare's key holds the LoRA runs' *keys* (their inputs) rather than the adapters they made,
since it is fixed before they exist. Example::

    with Pool(2) as pool:
        results, style = Schedule(pilot, pool, data).run()
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.evaluation.results import Results
from ragtune.evaluation.sections import StyleCheck
from ragtune.pilot.parallel import TuneJob
from ragtune.pilot.stages import tree_hash
from ragtune.workers import Job, Pool, Progress, Started

if TYPE_CHECKING:
    from ragtune.evaluation.runner import Runner, StrategySpec
    from ragtune.pilot.run import Pilot
    from ragtune.project import Project


class Schedule:
    """The stages after the data build, for one run of the pilot; see the module docstring."""

    def __init__(self, pilot: Pilot, pool: Pool, data: dict[str, Any]) -> None:
        self.pilot, self.pool, self.data = pilot, pool, data
        self.project, self.cfg, self.book = pilot.project, pilot.config, pilot.book
        self.display = pilot.display
        self.settings = self.project.settings.model_dump_json()
        self.adapters: dict[str, str] = {}  # name -> "name@created", once trained
        self._waiting: dict[str, list[Callable[[], None]]] = {}
        self.tune_keys: dict[str, str] = {}  # adapter name -> its LoRA run's stage key
        self.results: Results | None = None  # compare's, passed on (read back when skipped)
        self.style: StyleCheck | None = None

    def run(self) -> tuple[Results, StyleCheck | None]:
        """(compare's results, the style check or None) once every stage is done."""
        from ragtune.pilot.config import stage_names

        names = stage_names(self.cfg)
        jobs = self._tune_jobs(names)
        self._compare()
        if "style check" in names:
            self._style_check()
        for job in jobs:
            self._tune(job)
        self.pool.wait()
        assert self.results is not None
        return self.results, self.style

    # -- adapters --------------------------------------------------------------------------
    def when_ready(self, adapter: str | None, then: Callable[[], None]) -> None:
        """``then()`` now when ``adapter`` is None or trained, else once it is."""
        if adapter is None or adapter in self.adapters:
            then()
        else:
            self._waiting.setdefault(adapter, []).append(then)

    def _trained(self, name: str, created: str) -> None:
        if self.pilot.backend == "llamacpp":
            from ragtune.finetune.export import ensure_gguf

            ensure_gguf(self.project, name)
        self.adapters[name] = created
        for then in self._waiting.pop(name, []):
            then()

    def _tune_jobs(self, names: list[str]) -> list[TuneJob]:
        from ragtune.pilot import steps
        from ragtune.pilot.config import KNOWLEDGE, RAFT, STYLE

        cfg = self.cfg
        jobs = [
            TuneJob(stage, name, dataset, n, kinds, cfg.seed)
            for stage, name, dataset, n, kinds in (
                ("tune RAFT LoRA", RAFT, "raft", cfg.raft_steps, ("qa",)),
                ("tune knowledge LoRA", KNOWLEDGE, "default", cfg.knowledge_steps, ("qa",)),
                ("tune style LoRA", STYLE, "style", cfg.style_steps, ("style",)),
            )
            if stage in names
        ]
        for job in jobs:
            inputs = {"data": self.data.get(job.dataset), "steps": job.steps, "seed": cfg.seed,
                      "recipe": steps.recipe(job.dataset)}  # fmt: skip
            self.tune_keys[job.name] = self.book.key(inputs)
        return jobs

    def _tune(self, job: TuneJob) -> None:
        from ragtune.pilot.parallel import tune_in_worker

        key = self.tune_keys[job.name]
        created = self.book.outputs(job.stage).get("created", "")
        if self.book.fresh(job.stage, key) and _exists(self.project, created):
            self.display.skipped(job.stage)
            self._trained(job.name, created)
            return
        ticks: list[Callable[[int, int], None]] = []

        def message(msg: Progress) -> None:
            if not ticks:  # the first message: a worker has started the run
                ticks.append(self.display.begin(job.stage))
            ticks[0](msg.done, msg.total)

        def finished(out: dict[str, Any]) -> None:
            seconds = self.display.end(job.stage, out.pop("cpu_s", 0.0))
            self.book.done(job.stage, key, seconds, out)
            self._trained(job.name, out["created"])

        cost = self.display.estimates.get(job.stage, 60.0)
        args = (str(self.project.root), job)
        self.pool.submit(Job(tune_in_worker, args, cost, message, finished))

    # -- compare ---------------------------------------------------------------------------
    def _compare(self) -> None:
        from ragtune.evaluation.datasets import items_hash
        from ragtune.pilot import steps

        cfg, pilot = self.cfg, self.pilot
        inputs = {
            "items": items_hash(pilot.items),
            "adapters": self.tune_keys,
            "update": tree_hash(cfg.update),
            "strategies": list(cfg.strategies),
            "tokens": cfg.max_new_tokens,
            "seed": cfg.seed,
            "resamples": cfg.resamples,
            "latency_sample": cfg.latency_sample,
            "crossfit": cfg.crossfit,
            "retrieval": dict(self.project.settings.retrieval.model_dump()),
            "backend": pilot.backend,
        }
        key = self.book.key(inputs)
        stored = self.book.outputs("compare").get("results", "")
        if self.book.fresh("compare", key) and stored and Path(stored).is_file():
            self.display.skipped("compare")
            self.results = Results.load(stored)
            return
        tick = self.display.begin("compare")
        runner = steps.compare_runner(self.project, pilot.items, cfg, "pilot-" + key[:10], tick,
                                      pilot.backend)  # fmt: skip
        _Compare(self, runner, key).start()

    # -- style check -----------------------------------------------------------------------
    def _style_check(self) -> None:
        from ragtune.pilot.config import STYLE
        from ragtune.pilot.style import MAX_NEW_TOKENS, generate_texts, plan_style, score_style

        seed, backend = self.cfg.seed, self.pilot.backend
        key = self.book.key({"adapter": self.tune_keys.get(STYLE), "seed": seed,
                             "backend": backend})  # fmt: skip
        path = self.project.paths.pilot / "style.json"
        if self.book.fresh("style check", key) and path.is_file():
            self.display.skipped("style check")
            self.style = StyleCheck.from_dict(json.loads(path.read_text(encoding="utf-8")))
            return
        plan = plan_style(self.project, STYLE, "style")
        options = {"max_new_tokens": MAX_NEW_TOKENS, "seed": seed}
        texts: dict[str, list[str]] = {}
        cpu: list[float] = []
        began: list[bool] = []
        cost = self.display.estimates.get("style check", 60.0) / 2

        def message(_msg: Started | None) -> None:  # a worker started one of the two
            if not began:
                began.append(True)
                self.display.begin("style check")

        def got(kind: str) -> Callable[[dict[str, Any]], None]:
            def done(out: dict[str, Any]) -> None:
                message(None)  # its Started message is drained before this, but be sure
                texts[kind] = out["texts"]
                cpu.append(out["cpu_s"])
                if len(texts) == 2:
                    self.style = score_style(plan, texts["base"], texts["adapter"], seed)
                    path.write_text(json.dumps(self.style.to_dict(), indent=1, sort_keys=True))
                    seconds = self.display.end("style check", sum(cpu))
                    self.book.done("style check", key, seconds, {"path": str(path)})

            return done

        def job(adapter: str | None, prompts: Any, kind: str) -> Job:
            args = (str(self.project.root), self.settings, backend, adapter, prompts, options)
            return Job(generate_texts, args, cost, message, got(kind))

        self.pool.submit(job(None, plan.prompted, "base"))
        self.when_ready(STYLE, lambda: self.pool.submit(job(STYLE, plan.tuned, "adapter")))


class _Compare:
    """One compare run spread over the pool: main answers per strategy once its adapter is
    trained, fresh answers once those are in and the update is re-indexed, then scoring."""

    def __init__(self, schedule: Schedule, runner: Runner, key: str) -> None:
        self.s, self.runner, self.key = schedule, runner, key
        self.items = schedule.pilot.items
        self.copy: Project | None = None
        self._after_copy: list[Callable[[], None]] = []
        phases = ("main", "fresh") if runner.config.update is not None else ("main",)
        self.left = {(phase, spec.label) for spec in runner.config.strategies for phase in phases}
        self.started = time.perf_counter()
        self.cpu = time.process_time()
        self.scoring = False

    def start(self) -> None:
        from ragtune.report.drilldown import save_items

        save_items(self.runner.folder, self.items)
        # Here, in the thread that opened the project's store: the cross-fitted abstention
        # thresholds score every question's evidence through it (the jobs carry the result).
        _ = self.runner.thresholds
        for spec in self.runner.config.strategies:
            self.s.when_ready(spec.adapter, partial(self._main, spec))
        if self.runner.config.update is not None:
            self.s.pool.local(self._reindex, self._copied)

    def _reindex(self) -> Project:
        """On the pool's thread: the updated copy, its store closed again in this thread
        (SQLite connections stay in the thread that opened them); workers open their own."""
        copy = self.runner.fresh_copy()
        copy.close()
        return copy

    def _submit(self, project: Project, phase: str, spec: StrategySpec) -> None:
        from ragtune.evaluation.parallel import answer_jobs

        items = self.items if phase == "main" else self.runner.changed
        work = self.runner.pending(phase, items, [spec])
        if not work:
            self._done(phase, spec)
            return
        alone = self.runner.latency_ids(phase, items)
        workers = self.s.pool.workers
        for job in answer_jobs(self.runner, project, phase, work, {}, workers, len(items), alone,
                               on_spec_done=lambda sp: self._done(phase, sp)):  # fmt: skip
            self.s.pool.submit(job)

    def _main(self, spec: StrategySpec) -> None:
        self._submit(self.s.project, "main", spec)

    def _copied(self, copy: Project) -> None:
        self.copy = copy
        for then in self._after_copy:
            then()
        self._after_copy.clear()

    def _fresh(self, spec: StrategySpec) -> None:
        if self.copy is None:
            self._after_copy.append(lambda: self._fresh(spec))
            return
        from ragtune.evaluation.freshness import link_adapters

        if self.runner.reuse_for_fresh(spec):
            self._done("fresh", spec)
            return
        link_adapters(self.s.project, self.copy)  # adapters trained after the copy was made
        self._submit(self.copy, "fresh", spec)

    def _done(self, phase: str, spec: StrategySpec) -> None:
        self.left.discard((phase, spec.label))
        if phase == "main" and self.runner.config.update is not None:
            self._fresh(spec)  # its own _done call scores the run when it was the last
        elif not self.left and not self.scoring:
            self.scoring = True
            self.s.pool.local(lambda: self.runner.finish(self.started), self._finished)

    def _finished(self, results: Results) -> None:
        self.runner.close()
        cpu = self.runner.cpu_s + time.process_time() - self.cpu
        seconds = self.s.display.end("compare", cpu)
        outputs = {"results": str(self.runner.folder / "results.json"),
                   "run_id": self.runner.run_id}  # fmt: skip
        self.s.book.done("compare", self.key, seconds, outputs)
        self.s.results = results


def _exists(project: Project, created: str) -> bool:
    """The adapter a recorded LoRA run made ("name@created") is still there, unchanged."""
    from ragtune.errors import RagtuneError
    from ragtune.finetune.adapters import load_info

    name, _, stamp = created.partition("@")
    try:
        return bool(name) and str(load_info(project, name).created) == stamp
    except RagtuneError:  # missing or unreadable: train it again
        return False
