"""The LLM judge across calls: its verdicts cached in the run store, and its run-to-run
agreement.

A model judge is not a function of its input: a server samples, batches change numerics,
a reply sometimes does not parse. So the self-test's verdicts are stored like the run's own
(a resumed or re-scored run asks nothing twice and gives the same numbers), and a small
seeded sample of answers is judged a second time: the share of judgements that came out the
same is the judge's run-to-run agreement. A judgement that did not parse never agrees, and
both runs' unparsable judgements are counted. Example::

    judging = stored(lambda: LLMJudge(generator), runner.store, "openai")
    agreement(judged, judging, seed=0, n=10)
    # Agreement(answers=10, judgements=31, agreement={"faithfulness": Interval(..), "all": ..},
    #           unparsable={"first": 0, "second": 2})
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ragtune.evaluation.metrics.ragas import RAGAS_METRICS, Verdict
from ragtune.evaluation.sections import Agreement
from ragtune.evaluation.selftest import Job, Judged, Judging
from ragtune.evaluation.stats import bootstrap_ci

if TYPE_CHECKING:
    from ragtune.evaluation.store import RunStore

DEFAULT_REPEAT = 10  # answers judged twice: enough to see a judge that swings, cheap


def stored(make: Callable[[], Any], store: RunStore, name: str) -> Judging:
    """A judging whose verdicts live in ``store`` under judge ``name``, the phase and each
    job's strategy and key; only the ones not stored yet are judged, in one batch, by the
    judge ``make()`` builds (only then: loading a model for a cached run is wasted time)."""

    def run(phase: str, jobs: Sequence[Job], metrics: Collection[str] | None) -> list[Verdict]:
        cached: dict[str, dict[str, Any]] = {}
        for label in {label for label, _, _ in jobs}:
            cached[label] = store.judgements(name, phase, label)
        todo = [j for j in jobs if j[1] not in cached[j[0]]]
        fresh = make().judge([given for _, _, given in todo], metrics) if todo else []
        new: dict[str, dict[str, Any]] = {}
        for (label, key, _), verdict in zip(todo, fresh, strict=True):
            new.setdefault(label, {})[key] = verdict.to_dict()
        for label, verdicts in new.items():
            store.put_judgements(name, phase, label, verdicts)
            cached[label].update(verdicts)
        return [Verdict.from_dict(cached[label][key]) for label, key, _ in jobs]

    return run


def _same(first: Verdict, second: Verdict, metric: str) -> float | None:
    """1.0 when both judgements gave the same score, 0.0 when they differ or one did not
    parse, None when the metric does not apply (NaN both times, nothing failed)."""
    failed = metric in first.failed or metric in second.failed
    a = first.scores.get(metric, math.nan)
    b = second.scores.get(metric, math.nan)
    if failed:
        return 0.0
    if math.isnan(a) and math.isnan(b):
        return None
    return float(not math.isnan(a) and not math.isnan(b) and abs(a - b) < 1e-9)


def agreement(
    judged: Mapping[str, Sequence[Judged]],
    judging: Judging,
    *,
    seed: int = 0,
    n: int = DEFAULT_REPEAT,
    resamples: int = 2000,
) -> Agreement | None:
    """Judge ``n`` seeded answers (all strategies pooled) a second time and compare every
    metric with the first verdict; None when ``n`` is 0 or nothing was answered."""
    pool = [c for cases in judged.values() for c in cases if not c.given.abstained]
    if n <= 0 or not pool:
        return None
    chosen = random.Random(f"repeat:{seed}").sample(pool, min(n, len(pool)))
    again = judging("repeat", [(c.label, c.id, c.given) for c in chosen], None)
    values: dict[str, list[float]] = {m: [] for m in RAGAS_METRICS}
    first = second = 0
    for case, verdict in zip(chosen, again, strict=True):
        for metric in RAGAS_METRICS:
            same = _same(case.verdict, verdict, metric)
            if same is not None:
                values[metric].append(same)
            first += metric in case.verdict.failed
            second += metric in verdict.failed
    pooled = [v for vs in values.values() for v in vs]
    return Agreement(
        answers=len(chosen),
        judgements=len(pooled),
        agreement={
            m: bootstrap_ci(v, seed=seed, n_resamples=resamples)
            for m, v in [*values.items(), ("all", pooled)]
        },
        unparsable={"first": first, "second": second},
    )
