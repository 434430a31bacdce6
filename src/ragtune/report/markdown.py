"""The Markdown version of the pilot report (no charts; tables with CIs). Example::

text = render_markdown(context(results, rec, style))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return [*out, ""]


def _recommendation(rec: Any) -> list[str]:
    lines = [
        f"## Recommendation: **{rec.choice}** (confidence: {rec.confidence})",
        "",
        f"Measured strategy: `{rec.strategy or '—'}`"
        + (f" + style adapter `{rec.style_adapter}`" if rec.style_adapter else ""),
        "",
        "### The facts that drove it",
        "",
    ]
    lines += [f"{n}. {f}" for n, f in enumerate(rec.facts, start=1)] + ["", "### Reasons", ""]
    lines += [f"- {r}" for r in rec.reasons] + [""]
    if rec.contradictions:
        lines += ["### Contradictions with the rules of thumb", ""]
        lines += [f"- {c}" for c in rec.contradictions] + [""]
    if rec.next_steps:
        lines += ["### What to measure next", ""] + [f"- {s}" for s in rec.next_steps] + [""]
    return lines


def _pathologies(ctx: Mapping[str, Any]) -> list[str]:
    limit = f"{ctx['pathology_threshold']:.0%}".replace("%", " %")
    flags = ctx["pathology_flags"]
    if not flags:
        return [f"No strategy is above {limit} of its answers in any pathology.", ""]
    lines = [
        f"- ⚠ **{f['label']}**: {f['text']} of its answers (flagged above {limit})"
        + "".join(f"; {k}: {', '.join(ids)}" for k, ids in f["examples"].items() if ids)
        for f in flags
    ]
    return [*lines, ""]


def _selftest(ctx: Mapping[str, Any]) -> list[str]:
    test = ctx.get("selftest")
    if not test:
        return []
    lines = ["## Judge self-test", ""]
    if test["rows"]:
        lines += [
            f"Answers the judge credited (up to {test['sample']} per strategy) were edited to "
            f"be wrong and judged again: the share it caught (mean [95 % CI]; goal ≥ "
            f"{test['goal']}).",
            "",
        ]
        lines += _table(
            ["edit", *ctx["labels"], "all strategies", "n"],
            [
                [r["name"], *r["cells"], r["all"] + (" ⚠" if r["weak"] else ""), r["n"]]
                for r in test["rows"]
            ],
        )
    lines += [f"- ⚠ below {test['goal']}: {w}" for w in test["weak"]]
    lines += [f"- {test['unparsable']}"] + ([f"- {test['agreement']}"] if test["agreement"] else [])
    return [*lines, ""]


def render_markdown(ctx: Mapping[str, Any]) -> str:
    rec, labels = ctx["rec"], ctx["labels"]
    results: Results = ctx["results"]
    run = results.run
    lines = [
        "# ragtune pilot report",
        "",
        f"Run `{run.id}`, {run.questions} questions, strategies "
        f"{', '.join(labels)}; generated {ctx['generated']}.",
        "",
    ]
    lines += _recommendation(rec)
    lines += ["## Decision steps", ""]
    lines += _table(
        ["question", "answer", "rule of thumb", "measured"],
        [
            [
                s.question,
                s.answer,
                s.rule,
                s.evidence + (f" **Contradiction:** {s.contradiction}" if s.contradiction else ""),
            ]
            for s in rec.steps
        ],
    )
    lines += ["## Metrics (mean [95 % CI]; ▲/▼ = differs from " + labels[0] + ")", ""]
    for group, rows in ctx["tables"].items():
        if rows:
            lines += [f"### {group}", ""]
            lines += _table(
                ["metric", *labels, "n"],
                [
                    [
                        r["name"],
                        *(c["text"] + (" " + c["flag"] if c["flag"] else "") for c in r["cells"]),
                        r["n"],
                    ]
                    for r in rows
                ],
            )
        if group == "pathologies":
            lines += _pathologies(ctx)
        if group == "answers" and ctx.get("calibration"):
            lines += [ctx["calibration"], ""]
    lines += _selftest(ctx)
    if ctx["perf_rows"]:
        lines += ["## Latency and cost", ""]
        lines += _table(["measure", *labels], [[r["name"], *r["cells"]] for r in ctx["perf_rows"]])
        lines += [f"- {b}" for b in ctx["break_even"]] + [""]
    if ctx["fresh_rows"]:
        lines += ["## Freshness", ""]
        lines += _table(
            ["strategy", "new fact before", "new fact after", "stale after", "time to fresh"],
            [
                [r["label"], r["before"], r["after"], r["stale"], r["ttf"]]
                for r in ctx["fresh_rows"]
            ],
        )
    if ctx["forget_rows"]:
        lines += ["## Forgetting", ""]
        lines += _table(
            ["adapter", "perplexity base → adapter", "probe accuracy"],
            [[r["name"], r["ppl"], r["acc"]] for r in ctx["forget_rows"]],
        )
    style = ctx.get("style")
    if style:
        lines += [
            "## House style",
            "",
            f"{style.n} held-out style questions; format check: " + " · ".join(style.features),
            "",
        ]
    lines += [
        f"The per-question drill-down ({len(ctx['questions'])} questions) is in the HTML report.",
        "",
    ]
    return "\n".join(lines)
