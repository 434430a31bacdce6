"""Rich tables for ``ragtune compare`` results (one per metric group, with CIs)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from ragtune.evaluation.pathologies import flag_text, flagged
from ragtune.evaluation.results import Cost, Results
from ragtune.evaluation.sections import Forgetting, Freshness, FreshRow
from ragtune.evaluation.selftest import NAMES, rate_text
from ragtune.evaluation.stats import Interval, fmt_interval

POOLED = "all"  # the self-test's column of every strategy together
_ARROW = {1: " ▲", -1: " ▼", 0: ""}


def _n(stat: Interval | None) -> int:
    return 0 if stat is None else stat.n


def _group(
    out: Console, results: Results, group: str, metrics: dict[str, dict[str, Interval]]
) -> None:
    labels = results.labels
    table = Table(title=f"{group} (mean [95 % CI]; ▲/▼ = differs from {labels[0]})")
    table.add_column("metric")
    for label in labels:
        table.add_column(label, justify="right")
    table.add_column("n", justify="right")
    for name, per in metrics.items():
        if all(not _n(per.get(s)) for s in labels):
            continue
        cells = [
            fmt_interval(per.get(s))
            + (
                _ARROW[results.significant_sign(group, name, labels[0], s)]
                if s != labels[0]
                else ""
            )
            for s in labels
        ]
        table.add_row(name, *cells, "/".join(str(_n(per.get(s))) for s in labels))
    out.print(table)


def _performance(out: Console, results: Results) -> None:
    labels, cost = results.labels, results.cost
    perf = [results.performance[s] for s in labels]
    where = f" ({cost.hardware}, {cost.hour_price:g} USD/h)" if cost else ""
    table = Table(title=f"performance and cost{where}")
    table.add_column("measure")
    for label in labels:
        table.add_column(label, justify="right")
    stages = sorted({st for p in perf for st in p.latency_s})
    unit = results.latency_unit()
    for stage in stages:
        pcts = [p.latency_s.get(stage) for p in perf]
        for name in ("p50", "p95"):
            cells = [fmt_interval(None if q is None else q.named()[name], 2) for q in pcts]
            table.add_row(f"latency {stage} {name} ({unit})", *cells)
    for key in ("tokens_in", "tokens_out", "compute_s_per_query"):
        table.add_row(key, *[fmt_interval(p.per_query()[key], 2) for p in perf])
    table.add_row("peak RSS (MB, process)", *[f"{p.peak_rss_mb or 0:.0f}" for p in perf])
    table.add_row("training wall (s)", *[f"{p.training_wall_s:.0f}" for p in perf])
    if cost is not None:
        _cost_rows(table, cost, labels)
    out.print(table)
    if cost is not None:
        _break_even(out, cost)


def _cost_rows(table: Table, cost: Cost, labels: list[str]) -> None:
    per = [cost.strategies[s] for s in labels]
    table.add_row("USD per 1k queries", *[f"{c.per_1k_queries:.4f}" for c in per])
    table.add_row("USD training (one-off)", *[f"{c.training:.4f}" for c in per])


def _break_even(out: Console, cost: Cost) -> None:
    if not cost.break_even:
        out.print("break-even: no strategy here has a one-off training cost", markup=False)
    for b in cost.break_even:
        when = f"after {b.queries:,.0f} queries" if b.queries else "never (no saving per query)"
        out.print(f"break-even: {b.a} pays back its training vs {b.b} {when}", markup=False)


def _states(row: FreshRow) -> list[Interval | None]:
    return [row.new_before, row.stale_before, row.new_after, row.stale_after]


def _freshness(out: Console, results: Results, fresh: Freshness) -> None:
    table = Table(
        title=f"freshness after update {fresh.update} ({fresh.questions} "
        f"changed-fact questions; re-index {fresh.reindex_s:.1f} s)"
    )
    cols = ("strategy", "new before", "stale before", "new after", "stale after", "time to fresh")
    for col in cols:
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for label, row in results.by_label(fresh.strategies):
        ttf = row.time_to_fresh
        secs = "—" if ttf.seconds is None else f"{ttf.seconds:.1f} s"
        states = [fmt_interval(stat, 2) for stat in _states(row)]
        table.add_row(label, *states, f"{secs} ({ttf.how})")
    out.print(table)


def _forgetting(out: Console, forgetting: dict[str, Forgetting]) -> None:
    if not forgetting:
        return
    table = Table(title="forgetting (general probe: base vs adapter)")
    for col in ("adapter", "perplexity base → adapter", "probe accuracy base → adapter"):
        table.add_column(col)
    for name, f in forgetting.items():
        if not f.measured:
            table.add_row(name, f.note or "n/a", "")
            continue
        table.add_row(
            name,
            f"{f.base_perplexity:.2f} → {f.adapter_perplexity:.2f} "
            f"({f.perplexity_increase_pct:+.1f} %)",
            f"{f.base_accuracy:.2f} → {f.adapter_accuracy:.2f}",
        )
    out.print(table)


def _pathologies(out: Console, results: Results) -> None:
    limit = results.pathologies.threshold
    flags = flagged(results)
    if not flags and "pathologies" not in results.metrics:
        return  # results from before pathologies were measured
    text = "; ".join(f"{s} {flag_text(k)}" for s, k in flags.items())
    out.print(
        f"pathologies above {limit:.0%} of answers: ".replace("%", " %") + (text or "none"),
        markup=False,
    )


def _selftest(out: Console, results: Results) -> None:
    """The judge's self-test: share of edited answers caught per kind and strategy (⚠ under
    the goal), how long it took, unparsable judgements, an LLM judge's agreement."""
    labels, judge = results.labels, results.judge
    test = judge.selftest
    if test is not None:
        limit = test.threshold
        table = Table(
            title=f"judge self-test: share of edited answers caught (mean [95 % CI]; ⚠ below "
            f"{limit * 100:.0f} %; up to {test.sample} answers per strategy)"
        )
        for col in ("edit", *labels, "all strategies", "n"):
            table.add_column(col, justify="left" if col == "edit" else "right")
        for kind, per in test.caught.items():
            cells = [fmt_interval(per.get(s), 2) for s in [*labels, POOLED]]
            pooled = per.get(POOLED)
            if pooled is not None and pooled.n and pooled.mean < limit:
                cells[-1] += " ⚠"
            n = "/".join(str(_n(per.get(s))) for s in labels)
            table.add_row(NAMES.get(kind, kind), *cells, n)
        out.print(table)
        lost = sum(n for per in test.unparsable.values() for n in per.values())
        secs = results.run.judge_selftest_s
        took = f"{secs:.1f} s; " if secs is not None else ""
        out.print(f"judge self-test: {took}unparsable judgements: {lost}", markup=False)
    agree = judge.agreement
    if agree is not None:
        bad = ", ".join(f"{n} {when} time" for when, n in agree.unparsable.items())
        out.print(
            f"judge run-to-run agreement ({agree.answers} answers judged twice): "
            f"{rate_text(agree.overall)} judgements the same; unparsable: {bad}",
            markup=False,
        )


def print_results(results: Results, out: Console) -> None:
    """All tables, then where the full results are."""
    from ragtune.report.html import calibration_text

    for group, metrics in results.metrics.items():
        _group(out, results, group, metrics)
        if group == "answers" and results.calibration is not None:
            out.print(calibration_text(results), markup=False)
    _pathologies(out, results)
    failed = {s: sum(v.values()) for s, v in results.judge.failures.items() if sum(v.values())}
    out.print(
        f"judge: {results.judge.name}; failed judgements: "
        + (", ".join(f"{s} {n}" for s, n in failed.items()) or "none"),
        markup=False,
    )
    _selftest(out, results)
    _performance(out, results)
    if results.freshness is not None:
        _freshness(out, results, results.freshness)
    _forgetting(out, results.forgetting)
    run = results.run
    out.print(
        f"{run.questions} questions; run {run.id} ({run.wall_s:.0f} s of answering "
        f"and scoring); full results: {run.folder}/results.json",
        markup=False,
    )
