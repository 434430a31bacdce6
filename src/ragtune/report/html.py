"""The pilot report: one self-contained HTML file (CSS, script and SVG charts inline; nothing
from the network), a Markdown summary and the JSON behind both. Example::

    rec = advise(results, profile, style)
    paths = write_report(results, rec, project.paths.reports, style=style)
    paths["html"]        # .ragtune/reports/pilot.html
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ragtune.advisor.framework import Recommendation
from ragtune.evaluation.datasets import EvalItem
from ragtune.evaluation.pathologies import flag_text, flagged
from ragtune.evaluation.results import Results
from ragtune.evaluation.sections import StyleCheck
from ragtune.evaluation.selftest import CATCH_MIN, NAMES, rate_text, weak_spots
from ragtune.evaluation.stats import Interval
from ragtune.evaluation.stats import fmt_interval as fmt
from ragtune.report import plots
from ragtune.report.drilldown import collect


def _flag(results: Results, group: str, metric: str, ref: str, label: str) -> str:
    return {1: "▲", -1: "▼", 0: ""}[results.significant_sign(group, metric, ref, label)]


def _count(stat: Interval | None) -> str:
    return str(stat.n if stat is not None else 0)


def metric_tables(results: Results) -> dict[str, list[dict[str, Any]]]:
    """{group: [{"name", "help", "cells": [{"text", "flag"}], "n"}]} for measured metrics."""
    labels = results.labels
    out: dict[str, list[dict[str, Any]]] = {}
    for group, metrics in results.metrics.items():
        rows = []
        for name in metrics:
            stats = [results.metric(group, name, s) for s in labels]
            if all(stat is None for stat in stats):
                continue
            cells = [
                {"text": fmt(stat), "flag": _flag(results, group, name, labels[0], s) if k else ""}
                for k, (s, stat) in enumerate(zip(labels, stats, strict=True))
            ]
            rows.append(
                {
                    "name": name,
                    "help": results.definitions.get(group, {}).get(name, ""),
                    "cells": cells,
                    "n": "/".join(_count(stat) for stat in stats),
                }
            )
        out[group] = rows
    return out


def _perf_rows(results: Results, labels: list[str]) -> list[dict[str, Any]]:
    perf = results.performance
    if not perf:
        return []
    rows = []
    stages = sorted({st for s in labels if s in perf for st in perf[s].latency_s})
    unit = results.latency_unit()
    for stage in stages:
        pcts = [perf[s].latency_s.get(stage) for s in labels]
        for q in ("p50", "p95"):
            cells = [fmt(p.named()[q] if p is not None else None, 2) for p in pcts]
            rows.append({"name": f"latency {stage} {q} ({unit})", "cells": cells})
    for key in ("tokens_in", "tokens_out", "compute_s_per_query"):
        rows.append({"name": key, "cells": [fmt(perf[s].per_query()[key], 2) for s in labels]})
    rows.append(
        {
            "name": "training wall (s)",
            "cells": [f"{perf[s].training_wall_s:.0f}" for s in labels],
        }
    )
    per = results.cost.strategies if results.cost else {}
    if per:
        rows.append(
            {
                "name": "USD per 1k queries",
                "cells": [f"{per[s].per_1k_queries:.4f}" for s in labels],
            }
        )
        rows.append(
            {
                "name": "USD training (one-off)",
                "cells": [f"{per[s].training:.4f}" for s in labels],
            }
        )
    return rows


def _break_even(results: Results) -> list[str]:
    out = []
    for b in results.cost.break_even if results.cost else []:
        when = f"after {b.queries:,.0f} queries" if b.queries else "never"
        out.append(f"{b.a} pays back its training vs {b.b} {when}")
    return out


def _fresh_rows(results: Results) -> list[dict[str, str]]:
    rows = []
    for label, r in results.by_label(results.freshness.strategies if results.freshness else {}):
        ttf = r.time_to_fresh
        secs = "—" if ttf.seconds is None else f"{ttf.seconds:.1f} s"
        rows.append(
            {
                "label": label,
                "before": fmt(r.new_before, 2),
                "after": fmt(r.new_after, 2),
                "stale": fmt(r.stale_after, 2),
                "ttf": f"{secs} ({ttf.how})",
            }
        )
    return rows


def _forget_rows(results: Results) -> list[dict[str, str]]:
    rows = []
    for name, f in results.forgetting.items():
        if not f.measured:
            rows.append({"name": name, "ppl": "n/a" if f.note is None else f.note, "acc": ""})
            continue
        rows.append(
            {
                "name": name,
                "ppl": f"{f.base_perplexity:.2f} → {f.adapter_perplexity:.2f} "
                f"({f.perplexity_increase_pct:+.1f} %)",
                "acc": f"{f.base_accuracy:.2f} → {f.adapter_accuracy:.2f}",
            }
        )
    return rows


def pathology_flags(results: Results) -> list[dict[str, Any]]:
    """One row per flagged strategy: ``{"label", "text", "examples"}`` (kinds above the
    threshold, and the first question ids of each, for the drill-down)."""
    examples = results.pathologies.examples
    return [
        {
            "label": label,
            "text": flag_text(kinds),
            "examples": {k: examples.get(label, {}).get(k, []) for k in kinds},
        }
        for label, kinds in flagged(results).items()
    ]


def selftest_view(results: Results) -> dict[str, Any] | None:
    """The judge's self-test as the report shows it: one row per kind of edit (share caught
    per strategy and pooled, ⚠ under the goal), unparsable judgements of the run, the
    self-test and the repeat, and an LLM judge's run-to-run agreement; None for results
    from before the self-test."""
    judge = results.judge
    test, agree = judge.selftest, judge.agreement
    if test is None and agree is None:
        return None
    labels = results.labels
    rows = []
    goal = test.threshold if test else CATCH_MIN
    for kind, per in (test.caught if test else {}).items():
        pooled = test.pooled(kind) if test else None
        stats = [per.get(s) for s in labels]
        rows.append(
            {
                "name": NAMES.get(kind, kind),
                "help": test.definitions.get(kind, "") if test else "",
                "cells": [fmt(stat, 2) for stat in stats],
                "all": fmt(pooled, 2),
                "weak": pooled is not None and pooled.measured and pooled.mean < goal,
                "n": "/".join(_count(stat) for stat in stats),
            }
        )
    main = sum(sum(v.values()) for v in judge.failures.values())
    edited = sum(sum(v.values()) for v in test.unparsable.values()) if test else 0
    lost = f"unparsable judgements: {main} in the run, {edited} in the self-test"
    if agree:
        lost += f", {agree.unparsable_again} when judged again"
    return {
        "rows": rows,
        "sample": test.sample if test else 0,
        "goal": f"{goal * 100:.0f} %",
        "unparsable": lost,
        "agreement": (
            f"run-to-run agreement ({agree.answers} answers judged twice): "
            f"{rate_text(agree.overall)} judgements the same"
            if agree
            else ""
        ),
        "weak": weak_spots(results),
    }


def _questions(results: Results, items: Sequence[EvalItem] | None) -> list[dict]:
    rows = collect(results, items)
    for row in rows:
        texts = {" ".join(a["text"].lower().split()) for a in row["answers"].values()}
        row["disagree"] = len(texts) > 1
    return rows


def context(
    results: Results,
    rec: Recommendation,
    style: StyleCheck | None = None,
    items: Sequence[EvalItem] | None = None,
) -> dict[str, Any]:
    """Everything the template and the Markdown need."""
    labels = results.labels
    volume = int(rec.profile.get("queries_per_month") or 0) or None
    charts = {
        "metrics": {g: plots.metric_chart(results, g) for g in results.metrics},
        "latency": plots.latency_chart(results),
        "cost": plots.cost_chart(results, volume),
        "freshness": plots.freshness_chart(results),
        "forgetting": plots.forgetting_chart(results),
        "style": plots.style_chart(style),
    }
    return {
        "results": results,
        "rec": rec,
        "labels": labels,
        "style": style,
        "tables": metric_tables(results),
        "perf_rows": _perf_rows(results, labels),
        "break_even": _break_even(results),
        "fresh_rows": _fresh_rows(results),
        "forget_rows": _forget_rows(results),
        "pathology_flags": pathology_flags(results),
        "pathology_threshold": results.pathologies.threshold,
        "selftest": selftest_view(results),
        "calibration": calibration_text(results),
        "charts": charts,
        "questions": _questions(results, items),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def calibration_text(results: Results) -> str:
    """How the abstention thresholds were chosen, in words ("" for the project's own)."""
    from ragtune.retrieval.answerability import Calibration

    cal = results.calibration
    if cal is None:
        return ""
    folds = " and ".join(f"{t:.3f}" for t in cal.fold_thresholds)
    deploy = Calibration(**cal.deploy).describe()
    return (
        f"Abstention was cross-fitted on these questions: each half calibrated (thresholds "
        f"{folds}) and every question answered with the other half's threshold, so the "
        f"abstention rates are those of a calibrated project on questions it has not seen. "
        f"Calibrated on all of them: {deploy}; `ragtune calibrate --eval FILE` saves it for "
        f"serving."
    )


def render_html(ctx: Mapping[str, Any]) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("ragtune.report", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        undefined=StrictUndefined,
    )
    return env.get_template("report.html.j2").render(**ctx)


def write_report(
    results: Results,
    rec: Recommendation,
    out_dir: Path | str,
    *,
    style: StyleCheck | None = None,
    items: Sequence[EvalItem] | None = None,
    name: str = "pilot",
) -> dict[str, Path]:
    """Write ``NAME.html``, ``NAME.md`` and ``NAME.json`` into ``out_dir``; returns paths."""
    from ragtune.report.markdown import render_markdown

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = context(results, rec, style, items)
    paths = {"html": out / f"{name}.html", "md": out / f"{name}.md", "json": out / f"{name}.json"}
    paths["html"].write_text(render_html(ctx), encoding="utf-8")
    paths["md"].write_text(render_markdown(ctx), encoding="utf-8")
    data = {
        "recommendation": rec.to_dict(),
        "style": None if style is None else style.to_dict(),
        "results": results.to_dict(),
        "questions": ctx["questions"],
    }
    paths["json"].write_text(
        json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str),
        encoding="utf-8",
    )
    return paths
