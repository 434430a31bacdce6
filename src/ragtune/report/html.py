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

from ragtune.advisor.evidence import fmt
from ragtune.advisor.framework import Recommendation
from ragtune.evaluation.datasets import EvalItem
from ragtune.evaluation.pathologies import flag_text, flagged
from ragtune.evaluation.report import latency_unit
from ragtune.evaluation.selftest import CATCH_MIN, NAMES, rate_text, weak_spots
from ragtune.evaluation.stats import significant_sign
from ragtune.report import plots
from ragtune.report.drilldown import collect


def _flag(results: Mapping[str, Any], group: str, metric: str, ref: str, label: str) -> str:
    paired = results.get("paired", {}).get(group, {}).get(metric, [])
    return {1: "▲", -1: "▼", 0: ""}[significant_sign(paired, ref, label)]


def metric_tables(results: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """{group: [{"name", "help", "cells": [{"text", "flag"}], "n"}]} for measured metrics."""
    labels = list(results.get("per_question") or {})
    defs = results.get("definitions") or {}
    out: dict[str, list[dict[str, Any]]] = {}
    for group, metrics in (results.get("metrics") or {}).items():
        rows = []
        for name, per in metrics.items():
            if all(not (per.get(s) or {}).get("n") for s in labels):
                continue
            cells = [
                {
                    "text": fmt(per.get(s)),
                    "flag": _flag(results, group, name, labels[0], s) if k else "",
                }
                for k, s in enumerate(labels)
            ]
            rows.append(
                {
                    "name": name,
                    "help": defs.get(group, {}).get(name, ""),
                    "cells": cells,
                    "n": "/".join(str((per.get(s) or {}).get("n") or 0) for s in labels),
                }
            )
        out[group] = rows
    return out


def _perf_rows(results: Mapping[str, Any], labels: list[str]) -> list[dict[str, Any]]:
    perf, cost = results.get("performance") or {}, results.get("cost") or {}
    if not perf:
        return []
    rows = []
    stages = sorted({st for s in labels for st in perf.get(s, {}).get("latency_s", {})})
    unit = latency_unit(results)
    for stage in stages:
        for q in ("p50", "p95"):
            rows.append(
                {
                    "name": f"latency {stage} {q} ({unit})",
                    "cells": [fmt(perf[s]["latency_s"].get(stage, {}).get(q), 2) for s in labels],
                }
            )
    for key in ("tokens_in", "tokens_out", "compute_s_per_query"):
        rows.append({"name": key, "cells": [fmt(perf[s].get(key), 2) for s in labels]})
    rows.append(
        {
            "name": "training wall (s)",
            "cells": [f"{perf[s].get('training_wall_s') or 0:.0f}" for s in labels],
        }
    )
    per = cost.get("strategies") or {}
    if per:
        rows.append(
            {
                "name": "USD per 1k queries",
                "cells": [f"{per[s]['per_1k_queries']:.4f}" for s in labels],
            }
        )
        rows.append(
            {
                "name": "USD training (one-off)",
                "cells": [f"{per[s]['training']:.4f}" for s in labels],
            }
        )
    return rows


def _break_even(results: Mapping[str, Any]) -> list[str]:
    out = []
    for b in (results.get("cost") or {}).get("break_even") or []:
        when = f"after {b['queries']:,.0f} queries" if b.get("queries") else "never"
        out.append(f"{b['a']} pays back its training vs {b['b']} {when}")
    return out


def _fresh_rows(results: Mapping[str, Any]) -> list[dict[str, str]]:
    fresh = results.get("freshness") or {}
    rows = []
    for label, r in (fresh.get("strategies") or {}).items():
        ttf = r.get("time_to_fresh") or {}
        secs = "—" if ttf.get("seconds") is None else f"{ttf['seconds']:.1f} s"
        rows.append(
            {
                "label": label,
                "before": fmt(r["main"].get("new"), 2),
                "after": fmt(r["fresh"].get("new"), 2),
                "stale": fmt(r["fresh"].get("stale"), 2),
                "ttf": f"{secs} ({ttf.get('how', '')})",
            }
        )
    return rows


def _forget_rows(results: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for name, f in (results.get("forgetting") or {}).items():
        if "base_perplexity" not in f:
            rows.append({"name": name, "ppl": f.get("note", "n/a"), "acc": ""})
            continue
        rows.append(
            {
                "name": name,
                "ppl": f"{f['base_perplexity']:.2f} → {f['adapter_perplexity']:.2f} "
                f"({f['perplexity_increase_pct']:+.1f} %)",
                "acc": f"{f['base_accuracy']:.2f} → {f['adapter_accuracy']:.2f}",
            }
        )
    return rows


def pathology_flags(results: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per flagged strategy: ``{"label", "text", "examples"}`` (kinds above the
    threshold, and the first question ids of each, for the drill-down)."""
    examples = (results.get("pathologies") or {}).get("examples") or {}
    return [
        {
            "label": label,
            "text": flag_text(kinds),
            "examples": {k: (examples.get(label) or {}).get(k, []) for k in kinds},
        }
        for label, kinds in flagged(results).items()
    ]


def selftest_view(results: Mapping[str, Any]) -> dict[str, Any] | None:
    """The judge's self-test as the report shows it: one row per kind of edit (share caught
    per strategy and pooled, ⚠ under the goal), unparsable judgements of the run, the
    self-test and the repeat, and an LLM judge's run-to-run agreement; None for results
    from before the self-test."""
    judge = results.get("judge") or {}
    test, agree = judge.get("selftest") or {}, judge.get("agreement")
    if not test and not agree:
        return None
    labels = list(results.get("per_question") or {})
    rows = []
    goal = test.get("threshold", CATCH_MIN)
    for kind, per in (test.get("caught") or {}).items():
        pooled = per.get("all") or {}
        rows.append(
            {
                "name": NAMES.get(kind, kind),
                "help": (test.get("definitions") or {}).get(kind, ""),
                "cells": [fmt(per.get(s), 2) for s in labels],
                "all": fmt(pooled, 2),
                "weak": bool(pooled.get("n")) and (pooled.get("mean") or 0.0) < goal,
                "n": "/".join(str((per.get(s) or {}).get("n") or 0) for s in labels),
            }
        )
    main = sum(sum(v.values()) for v in (judge.get("failures") or {}).values())
    edited = sum(sum(v.values()) for v in (test.get("unparsable") or {}).values())
    twice = (agree or {}).get("unparsable") or {}
    lost = f"unparsable judgements: {main} in the run, {edited} in the self-test"
    if agree:
        lost += f", {twice.get('second', 0)} when judged again"
    return {
        "rows": rows,
        "sample": test.get("sample") or 0,
        "goal": f"{goal * 100:.0f} %",
        "unparsable": lost,
        "agreement": (
            f"run-to-run agreement ({agree['answers']} answers judged twice): "
            f"{rate_text(agree['agreement']['all'])} judgements the same"
            if agree
            else ""
        ),
        "weak": weak_spots(results),
    }


def _questions(results: Mapping[str, Any], items: Sequence[EvalItem] | None) -> list[dict]:
    rows = collect(results, items)
    for row in rows:
        texts = {" ".join(a["text"].lower().split()) for a in row["answers"].values()}
        row["disagree"] = len(texts) > 1
    return rows


def context(
    results: Mapping[str, Any],
    rec: Recommendation,
    style: Mapping[str, Any] | None = None,
    items: Sequence[EvalItem] | None = None,
) -> dict[str, Any]:
    """Everything the template and the Markdown need."""
    labels = list(results.get("per_question") or {})
    volume = int(rec.profile.get("queries_per_month") or 0) or None
    charts = {
        "metrics": {g: plots.metric_chart(results, g) for g in results.get("metrics") or {}},
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
        "pathology_threshold": (results.get("pathologies") or {}).get("threshold", 0.1),
        "selftest": selftest_view(results),
        "calibration": calibration_text(results),
        "charts": charts,
        "questions": _questions(results, items),
        "generated": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def calibration_text(results: Mapping[str, Any]) -> str:
    """How the abstention thresholds were chosen, in words ("" for the project's own)."""
    from ragtune.retrieval.answerability import Calibration

    cal = results.get("calibration")
    if not cal:
        return ""
    folds = " and ".join(f"{t:.3f}" for t in cal["fold_thresholds"])
    deploy = Calibration(**cal["deploy"]).describe()
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
    results: Mapping[str, Any],
    rec: Recommendation,
    out_dir: Path | str,
    *,
    style: Mapping[str, Any] | None = None,
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
        "style": style,
        "results": results,
        "questions": ctx["questions"],
    }
    paths["json"].write_text(
        json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False, default=str),
        encoding="utf-8",
    )
    return paths
