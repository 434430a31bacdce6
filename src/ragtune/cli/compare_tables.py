"""Rich tables for ``ragtune compare`` results (one per metric group, with CIs)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from ragtune.evaluation.pathologies import FLAG_SHARE, flag_text, flagged
from ragtune.evaluation.report import latency_unit
from ragtune.evaluation.selftest import CATCH_MIN, NAMES, rate_text
from ragtune.evaluation.stats import fmt_interval, significant_sign


def _flag(paired: list[dict[str, Any]], ref: str, label: str) -> str:
    return {1: " ▲", -1: " ▼", 0: ""}[significant_sign(paired, ref, label)]


def _group(out: Console, results: dict[str, Any], group: str, labels: list[str]) -> None:
    metrics = results["metrics"][group]
    table = Table(title=f"{group} (mean [95 % CI]; ▲/▼ = differs from {labels[0]})")
    table.add_column("metric")
    for label in labels:
        table.add_column(label, justify="right")
    table.add_column("n", justify="right")
    for name, per in metrics.items():
        if all(not per[s].get("n") for s in labels):
            continue
        paired = results["paired"][group][name]
        cells = [
            fmt_interval(per[s]) + (_flag(paired, labels[0], s) if s != labels[0] else "")
            for s in labels
        ]
        table.add_row(name, *cells, "/".join(str(per[s].get("n") or 0) for s in labels))
    out.print(table)


def _performance(out: Console, results: dict[str, Any], labels: list[str]) -> None:
    perf, cost = results["performance"], results["cost"]
    table = Table(title=f"performance and cost ({cost['hardware']}, {cost['hour_price']:g} USD/h)")
    table.add_column("measure")
    for label in labels:
        table.add_column(label, justify="right")
    stages = sorted({st for s in labels for st in perf[s]["latency_s"]})
    unit = latency_unit(results)
    for stage in stages:
        for q in ("p50", "p95"):
            table.add_row(
                f"latency {stage} {q} ({unit})",
                *[fmt_interval(perf[s]["latency_s"].get(stage, {}).get(q), 2) for s in labels],
            )
    for key in ("tokens_in", "tokens_out", "compute_s_per_query"):
        table.add_row(key, *[fmt_interval(perf[s][key], 2) for s in labels])
    table.add_row("peak RSS (MB, process)", *[f"{perf[s]['peak_rss_mb'] or 0:.0f}" for s in labels])
    table.add_row("training wall (s)", *[f"{perf[s]['training_wall_s']:.0f}" for s in labels])
    per = cost["strategies"]
    table.add_row("USD per 1k queries", *[f"{per[s]['per_1k_queries']:.4f}" for s in labels])
    table.add_row("USD training (one-off)", *[f"{per[s]['training']:.4f}" for s in labels])
    out.print(table)
    if not cost["break_even"]:
        out.print("break-even: no strategy here has a one-off training cost", markup=False)
    for b in cost["break_even"]:
        when = (
            f"after {b['queries']:,.0f} queries" if b["queries"] else "never (no saving per query)"
        )
        out.print(f"break-even: {b['a']} pays back its training vs {b['b']} {when}", markup=False)


def _freshness(out: Console, fresh: dict[str, Any]) -> None:
    table = Table(
        title=f"freshness after update {fresh['update']} ({fresh['questions']} "
        f"changed-fact questions; re-index {fresh['reindex_s']:.1f} s)"
    )
    cols = ("strategy", "new before", "stale before", "new after", "stale after", "time to fresh")
    for col in cols:
        table.add_column(col, justify="left" if col == "strategy" else "right")
    for label, row in fresh["strategies"].items():
        ttf = row["time_to_fresh"]
        secs = "—" if ttf["seconds"] is None else f"{ttf['seconds']:.1f} s"
        states = [fmt_interval(row[p][k], 2) for p in ("main", "fresh") for k in ("new", "stale")]
        table.add_row(label, *states, f"{secs} ({ttf['how']})")
    out.print(table)


def _forgetting(out: Console, forgetting: dict[str, Any]) -> None:
    if not forgetting:
        return
    table = Table(title="forgetting (general probe: base vs adapter)")
    for col in ("adapter", "perplexity base → adapter", "probe accuracy base → adapter"):
        table.add_column(col)
    for name, f in forgetting.items():
        if "base_perplexity" not in f:
            table.add_row(name, f.get("note", "n/a"), "")
            continue
        table.add_row(
            name,
            f"{f['base_perplexity']:.2f} → {f['adapter_perplexity']:.2f} "
            f"({f['perplexity_increase_pct']:+.1f} %)",
            f"{f['base_accuracy']:.2f} → {f['adapter_accuracy']:.2f}",
        )
    out.print(table)


def _pathologies(out: Console, results: dict[str, Any]) -> None:
    limit = (results.get("pathologies") or {}).get("threshold", FLAG_SHARE)
    flags = flagged(results)
    if not flags and "pathologies" not in results["metrics"]:
        return  # results from before pathologies were measured
    text = "; ".join(f"{s} {flag_text(k)}" for s, k in flags.items())
    out.print(
        f"pathologies above {limit:.0%} of answers: ".replace("%", " %") + (text or "none"),
        markup=False,
    )


def _selftest(out: Console, results: dict[str, Any], labels: list[str]) -> None:
    """The judge's self-test: share of edited answers caught per kind and strategy (⚠ under
    the goal), how long it took, unparsable judgements, an LLM judge's agreement."""
    judge = results["judge"]
    test = judge.get("selftest")
    if test:
        limit = test.get("threshold", CATCH_MIN)
        table = Table(
            title=f"judge self-test: share of edited answers caught (mean [95 % CI]; ⚠ below "
            f"{limit * 100:.0f} %; up to {test['sample']} answers per strategy)"
        )
        for col in ("edit", *labels, "all strategies", "n"):
            table.add_column(col, justify="left" if col == "edit" else "right")
        for kind, per in test["caught"].items():
            cells = [fmt_interval(per.get(s), 2) for s in [*labels, "all"]]
            pooled = per.get("all") or {}
            if pooled.get("n") and pooled["mean"] < limit:
                cells[-1] += " ⚠"
            n = "/".join(str((per.get(s) or {}).get("n") or 0) for s in labels)
            table.add_row(NAMES.get(kind, kind), *cells, n)
        out.print(table)
        lost = sum(n for per in test["unparsable"].values() for n in per.values())
        secs = (results.get("run") or {}).get("judge_selftest_s")
        took = f"{secs:.1f} s; " if secs is not None else ""
        out.print(f"judge self-test: {took}unparsable judgements: {lost}", markup=False)
    agree = judge.get("agreement")
    if agree:
        bad = agree["unparsable"]
        out.print(
            f"judge run-to-run agreement ({agree['answers']} answers judged twice): "
            f"{rate_text(agree['agreement']['all'])} judgements the same; unparsable: "
            f"{bad['first']} first time, {bad['second']} second time",
            markup=False,
        )


def print_results(results: dict[str, Any], out: Console) -> None:
    """All tables, then where the full results are."""
    labels = list(results["per_question"])
    from ragtune.report.html import calibration_text

    for group in results["metrics"]:
        _group(out, results, group, labels)
        if group == "answers" and results.get("calibration"):
            out.print(calibration_text(results), markup=False)
    _pathologies(out, results)
    failures = results["judge"]["failures"]
    failed = {s: sum(v.values()) for s, v in failures.items() if sum(v.values())}
    out.print(
        f"judge: {results['judge']['name']}; failed judgements: "
        + (", ".join(f"{s} {n}" for s, n in failed.items()) or "none"),
        markup=False,
    )
    _selftest(out, results, labels)
    _performance(out, results, labels)
    if results.get("freshness"):
        _freshness(out, results["freshness"])
    _forgetting(out, results.get("forgetting") or {})
    run = results["run"]
    out.print(
        f"{run['questions']} questions; run {run['id']} ({run['wall_s']:.0f} s of answering "
        f"and scoring); full results: {run['folder']}/results.json",
        markup=False,
    )
