"""Turns a run's stored answers into the results: every metric with a bootstrap CI per
strategy, paired differences between strategies, performance, cost, freshness, forgetting,
the pathology flags (strategies whose answers echo the question, copy labels, refuse, are
empty or repeat themselves more than 10 % of the time) and the judge's self-test (how often it
caught edited answers, :mod:`ragtune.evaluation.selftest`; an LLM judge's run-to-run
agreement, :mod:`ragtune.evaluation.judging`).

Everything but the timing-based numbers (latency, compute, cost, re-index and wall time,
memory) is a pure function of the stored answers and the seed, so a rerun or a resumed run
gives identical quality numbers. Example::

    results = build_results(runner)                       # a Results (evaluation/results.py)
    results.metric("answers", "f1", "rag")                # Interval(mean=.., low=.., ...)
    results.difference("answers", "f1", "rag", "base")    # PairedDifference
    results.judge.selftest.caught["negated"]["all"]       # share caught, with its CI
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING, Any

from ragtune.evaluation import cost as costs
from ragtune.evaluation.metrics.answers import ANSWER_METRICS, EmbedderEncoder
from ragtune.evaluation.metrics.citations import CITATION_METRICS
from ragtune.evaluation.metrics.ragas import (
    RAGAS_METRICS,
    LLMJudge,
    OfflineJudge,
    Verdict,
    withhold_credit,
)
from ragtune.evaluation.metrics.retrieval import RETRIEVAL_METRICS
from ragtune.evaluation.pathologies import PATHOLOGY_METRICS, summary
from ragtune.evaluation.results import (
    Comparison,
    Cost,
    Judge,
    Percentiles,
    Performance,
    Results,
    RunInfo,
    clean,
)
from ragtune.evaluation.scoring import (
    ROBUSTNESS_METRICS,
    answers_of,
    judge_inputs,
    score_answers,
)
from ragtune.evaluation.sections import (
    Agreement,
    CrossFitSummary,
    Forgetting,
    Freshness,
    FreshRow,
    SelfTest,
    TimeToFresh,
)
from ragtune.evaluation.selftest import Judged, direct, run_selftest
from ragtune.evaluation.stats import Interval, bootstrap_ci, paired_difference, percentile_ci
from ragtune.evaluation.store import CROSSFIT_META

if TYPE_CHECKING:
    from ragtune.evaluation.runner import Runner

GROUPS: dict[str, dict[str, str]] = {
    "answers": ANSWER_METRICS,
    "retrieval": RETRIEVAL_METRICS,
    "ragas": RAGAS_METRICS,
    "citations": CITATION_METRICS,
    "robustness": ROBUSTNESS_METRICS,
    "pathologies": PATHOLOGY_METRICS,
}
FRESH_STATES = ("new", "stale", "other")


def _verdicts(
    runner: Runner, phase: str, label: str, inputs: Sequence[Any], encoder: EmbedderEncoder
) -> list[Verdict]:
    cfg, store, items = runner.config, runner.store, runner.items
    if cfg.judge == "offline":
        return OfflineJudge(encoder).judge(inputs)
    cached = store.judgements(cfg.judge, phase, label)
    todo = [n for n, i in enumerate(items) if i.id not in cached]
    if todo:
        generator = runner.project.generator(cfg.judge, cfg.judge_model)
        fresh = LLMJudge(generator).judge([inputs[n] for n in todo])
        new = {items[n].id: v.to_dict() for n, v in zip(todo, fresh, strict=True)}
        store.put_judgements(cfg.judge, phase, label, new)
        cached.update(new)
    # Verdicts cached before the no-credit rule existed get it too (it is idempotent).
    return [
        withhold_credit(given, Verdict.from_dict(cached[i.id]))
        for i, given in zip(items, inputs, strict=True)
    ]


def _selftest(
    runner: Runner, judged: dict[str, list[Judged]], encoder: EmbedderEncoder
) -> tuple[SelfTest | None, Agreement | None]:
    """The judge's self-test and, for an LLM judge, its run-to-run agreement (both cached
    in the store like the run's own verdicts, so re-scoring asks the model nothing twice)."""
    from ragtune.evaluation import judging

    cfg = runner.config
    if cfg.judge == "offline":
        run = direct(OfflineJudge(encoder))  # its cache holds the questions already
    else:
        project = runner.project
        run = judging.stored(
            lambda: LLMJudge(project.generator(cfg.judge, cfg.judge_model)), runner.store, cfg.judge
        )
    test = agree = None
    if cfg.selftest_sample > 0:
        test = run_selftest(
            judged, run, seed=cfg.seed, sample_size=cfg.selftest_sample, resamples=cfg.resamples
        )
    if cfg.judge != "offline":  # the offline judge is deterministic: nothing to repeat
        agree = judging.agreement(
            judged, run, seed=cfg.seed, n=cfg.judge_repeat, resamples=cfg.resamples
        )
    return test, agree


def _intervals(
    per: Mapping[str, Mapping[str, Sequence[float]]], metrics: Sequence[str], seed: int, n: int
) -> tuple[dict[str, dict[str, Interval]], dict[str, list[Comparison]]]:
    values: dict[str, dict[str, Interval]] = {}
    paired: dict[str, list[Comparison]] = {}
    for m in metrics:
        values[m] = {s: bootstrap_ci(per[s][m], seed=seed, n_resamples=n) for s in per}
        paired[m] = []
        for a, b in combinations(per, 2):
            d = paired_difference(per[a][m], per[b][m], seed=seed, n_resamples=n)
            if d.n:
                paired[m].append(Comparison(a, b, d))
    return values, paired


def _performance(
    runner: Runner, per: Mapping[str, Mapping[str, Sequence[float]]]
) -> dict[str, Performance]:
    seed, n = runner.config.seed, runner.config.resamples

    def ci(values: Sequence[float]) -> Interval:
        return bootstrap_ci(values, seed=seed, n_resamples=n)

    out: dict[str, Performance] = {}
    for label, scores in per.items():
        lat = {}
        for key in (k for k in scores if k.startswith("latency_")):
            stage, v = key.removeprefix("latency_"), scores[key]
            p50 = percentile_ci(v, 50, seed=seed, n_resamples=n)
            if p50.n:
                lat[stage] = Percentiles(p50, percentile_ci(v, 95, seed=seed, n_resamples=n))
        out[label] = Performance(
            latency_s=lat,
            tokens_in=ci(scores["tokens_in"]),
            tokens_out=ci(scores["tokens_out"]),
            compute_s_per_query=ci(scores["compute_s"]),
            peak_rss_mb=runner.store.meta(f"rss:{label}"),
            training_wall_s=_training_s(runner, label),
        )
    return out


def _training_s(runner: Runner, label: str) -> float:
    spec = next(s for s in runner.config.strategies if s.label == label)
    if not spec.adapter:
        return 0.0
    from ragtune.finetune.adapters import load_info

    return float(load_info(runner.project, spec.adapter).wall_time_s)


def _mean(stat: Interval) -> float:
    return stat.mean if stat.measured else 0.0


def _cost(runner: Runner, perf: Mapping[str, Performance]) -> Cost:
    pricing = runner.project.settings.pricing
    hardware, hourly = costs.hour_price(pricing)
    per = {
        label: costs.strategy_cost(
            pricing,
            _mean(p.compute_s_per_query),
            _mean(p.tokens_in),
            _mean(p.tokens_out),
            p.training_wall_s,
        )
        for label, p in perf.items()
    }
    return Cost(hardware, hourly, pricing.model_dump(), per, costs.break_even(per))


def _freshness(runner: Runner) -> Freshness | None:
    from ragtune.evaluation.freshness import fact_state

    store, cfg = runner.store, runner.config
    if cfg.update is None:
        return None
    changed = [i for i in runner.items if i.changes]
    reindex = store.meta("fresh:reindex") or {}
    out = Freshness(
        update=str(cfg.update),
        questions=len(changed),
        reindex_s=reindex.get("seconds"),
        ingest=reindex.get("counts"),
        strategies={},
    )
    for spec in cfg.strategies:
        row: dict[str, dict[str, Interval]] = {}
        for phase in ("main", "fresh"):
            answers = answers_of(changed, store.answers(phase, spec.label))
            states = [
                fact_state(a.text, i.old_answer or "", i.new_answer or "")
                for i, a in zip(changed, answers, strict=True)
            ]
            row[phase] = {
                s: bootstrap_ci(
                    [float(x == s) for x in states], seed=cfg.seed, n_resamples=cfg.resamples
                )
                for s in FRESH_STATES
            }
        ttf = _time_to_fresh(runner, spec, reindex.get("seconds"))
        out.strategies[spec.label] = FreshRow(row["main"], row["fresh"], ttf)
    return out


def _time_to_fresh(runner: Runner, spec: Any, reindex_s: float | None) -> TimeToFresh:
    retrieves = bool(runner.store.meta(f"retrieves:{spec.label}"))
    if spec.adapter and not retrieves:
        measured = runner.store.meta(f"fresh:retrain:{spec.adapter}")
        if measured:
            return TimeToFresh(measured["seconds"], "retrained (measured)")
        return TimeToFresh(
            _training_s(runner, spec.label),
            "retraining, estimated from the adapter's recorded training time",
        )
    if retrieves:
        return TimeToFresh(reindex_s, "re-index (measured)")
    return TimeToFresh(None, "never: no document knowledge to update")


def _forgetting(runner: Runner) -> dict[str, Forgetting]:
    from ragtune.finetune.adapters import load_info

    out: dict[str, Forgetting] = {}
    for adapter in sorted({s.adapter for s in runner.config.strategies if s.adapter}):
        probe = load_info(runner.project, adapter).forgetting
        out[adapter] = (
            Forgetting(probe=dict(probe)) if probe
            else Forgetting(note="no probe recorded for this adapter")
        )  # fmt: skip
    return out


def _calibration(runner: Runner) -> CrossFitSummary | None:
    """How the run's abstention thresholds were chosen (cross-fitted, see the runner); None
    when the project's threshold was used for every question."""
    stored = runner.store.meta(CROSSFIT_META) or {}
    return CrossFitSummary.from_dict(stored) if stored else None


def build_results(runner: Runner) -> Results:
    """The full results of a run whose answers are all stored (see the module docstring)."""
    cfg, store, items = runner.config, runner.store, runner.items
    encoder = EmbedderEncoder(runner.project.embedder)
    k = runner.project.settings.retrieval.k
    per: dict[str, dict[str, list[float]]] = {}
    failures: dict[str, dict[str, int]] = {}
    judged: dict[str, list[Judged]] = {}
    for spec in cfg.strategies:
        records = store.answers("main", spec.label)
        inputs = judge_inputs(items, answers_of(items, records), records)
        verdicts = _verdicts(runner, "main", spec.label, inputs, encoder)
        judged[spec.label] = [
            Judged(spec.label, i.id, g, v) for i, g, v in zip(items, inputs, verdicts, strict=True)
        ]
        failures[spec.label] = {m: sum(m in v.failed for v in verdicts) for m in RAGAS_METRICS}
        per[spec.label] = score_answers(
            items,
            records,
            verdicts,
            encoder,
            retrieves=bool(store.meta(f"retrieves:{spec.label}")),
            k=k,
        )
    metrics, paired = {}, {}
    for group, defs in GROUPS.items():
        metrics[group], paired[group] = _intervals(per, list(defs), cfg.seed, cfg.resamples)
    perf = _performance(runner, per)
    began = time.perf_counter()
    selftest, agreement = _selftest(runner, judged, encoder)
    ids = [i.id for i in items]
    return Results(
        run=RunInfo(
            id=runner.run_id,
            folder=str(store.folder),
            questions=len(items),
            settings=dict(store.config),
            judge_selftest_s=time.perf_counter() - began,  # not under "judge": timing
        ),
        definitions={g: dict(d) for g, d in GROUPS.items()},
        metrics=metrics,
        paired=paired,
        judge=Judge(cfg.judge, failures, {s: len(items) for s in per}, selftest, agreement),
        performance=perf,
        cost=_cost(runner, perf),
        freshness=_freshness(runner),
        forgetting=_forgetting(runner),
        pathologies=summary(per, ids),
        calibration=_calibration(runner),
        per_question={s: clean({"ids": ids, **v}) for s, v in per.items()},
    )
