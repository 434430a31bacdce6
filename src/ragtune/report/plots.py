"""Charts for the pilot report: matplotlib (Agg) rendered to inline SVG strings, so the HTML
file needs nothing from the network. Each function returns ``""`` when there is nothing to
draw. Example::

    svg = metric_chart(results, "answers")     # '<svg ...>...</svg>'
    html = f"<figure>{svg}</figure>"
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ragtune.evaluation.sections import StyleCheck
from ragtune.evaluation.stats import Interval

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results

PALETTE = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3")


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update(
        {
            "svg.fonttype": "none",
            "font.size": 9,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "svg.hashsalt": "ragtune",
        }
    )
    return plt


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    _plt().close(fig)
    text = buf.getvalue()
    return text[text.index("<svg") :]


def _bars(
    title: str,
    rows: Sequence[str],
    series: Mapping[str, Sequence[Interval | None]],
    xlabel: str,
) -> str:
    """Horizontal grouped bars with 95 % interval whiskers: one group per row."""
    plt = _plt()
    n = max(len(series), 1)
    height = 0.8 / n
    fig, ax = plt.subplots(figsize=(7.5, 0.45 + 0.32 * len(rows) * n))
    for k, (label, stats) in enumerate(series.items()):
        ys: list[float] = []
        means: list[float] = []
        errs: list[list[float]] = [[], []]
        for r, stat in enumerate(stats):
            if stat is None or not stat.measured:
                continue
            ys.append(r + k * height)
            means.append(stat.mean)
            errs[0].append(max(stat.mean - stat.low, 0))
            errs[1].append(max(stat.high - stat.mean, 0))
        ax.barh(
            ys,
            means,
            height=height * 0.9,
            xerr=errs,
            label=label,
            color=PALETTE[k % len(PALETTE)],
            error_kw={"elinewidth": 1, "capsize": 2},
        )
    ax.set_yticks([r + height * (n - 1) / 2 for r in range(len(rows))], rows)
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.set_title(title, loc="left")
    ax.legend(fontsize=7, loc="best", frameon=True, framealpha=0.8)
    return _svg(fig)


def metric_chart(results: Results, group: str) -> str:
    """Mean and 95 % CI of every measured metric of ``group``, per strategy."""
    labels = results.labels
    rows = [
        m
        for m in results.metrics.get(group, {})
        if any(results.metric(group, m, s) is not None for s in labels)
    ]
    if not rows:
        return ""
    series = {s: [results.metric(group, m, s) for m in rows] for s in labels}
    return _bars(f"{group} (mean, 95 % CI)", rows, series, "score")


def latency_chart(results: Results) -> str:
    """Distribution of end-to-end latency per question, per strategy (box + points)."""
    data = {
        s: [v for v in results.scores(s, "latency_total") if v is not None and not math.isnan(v)]
        for s in results.labels
    }
    data = {s: v for s, v in data.items() if v}
    if not data:
        return ""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.4 * len(data)))
    ax.boxplot(list(data.values()), vert=False, widths=0.5, showfliers=False)
    for k, values in enumerate(data.values(), start=1):
        jitter = [k + 0.18 * math.sin(i * 2.39) for i in range(len(values))]
        ax.scatter(values, jitter, s=6, alpha=0.5, color=PALETTE[(k - 1) % len(PALETTE)])
    ax.set_yticks(range(1, len(data) + 1), list(data))
    ax.invert_yaxis()
    ax.set_xlabel("seconds per answer (retrieve + prompt + generate; batch share)")
    ax.set_title("latency distribution", loc="left")
    return _svg(fig)


def cost_chart(results: Results, volume: int | None = None) -> str:
    """Total cost (one-off training + per-query) against query volume; break-even marked."""
    cost = results.cost
    if cost is None or not cost.strategies:
        return ""
    per = cost.strategies
    points = [b.queries for b in cost.break_even if b.queries]
    top = max([volume or 0, 10_000, *(2 * p for p in points)])
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    xs = [top * i / 50 for i in range(51)]
    for k, (label, c) in enumerate(results.by_label(per)):
        ax.plot(
            xs,
            [c.training + c.per_query * x for x in xs],
            label=label,
            color=PALETTE[k % len(PALETTE)],
        )
    for b in cost.break_even:
        if b.queries:
            q = b.queries
            y = per[b.a].training + per[b.a].per_query * q
            ax.plot([q], [y], "ko", ms=4)
            ax.annotate(
                f"{b.a} = {b.b}\n{q:,.0f} q",
                (q, y),
                fontsize=7,
                xytext=(4, 4),
                textcoords="offset points",
            )
    if volume:
        ax.axvline(volume, color="grey", ls=":", lw=1)
    ax.set_xlabel("queries")
    ax.set_ylabel("USD (training + serving)")
    ax.set_title(
        f"cost vs query volume ({cost.hardware}, {cost.hour_price:g} USD/h)",
        loc="left",
    )
    ax.legend(fontsize=7, frameon=False)
    return _svg(fig)


def freshness_chart(results: Results) -> str:
    fresh = results.freshness
    if fresh is None or not fresh.strategies:
        return ""
    rows = fresh.strategies
    labels = [s for s, _ in results.by_label(rows)]
    series = {
        "new fact, before update": [rows[s].new_before for s in labels],
        "new fact, after update": [rows[s].new_after for s in labels],
        "stale fact, after update": [rows[s].stale_after for s in labels],
    }
    return _bars(
        f"freshness: {fresh.questions} changed-fact questions",
        labels,
        series,
        "share of answers",
    )


def forgetting_chart(results: Results) -> str:
    probes = {a: f for a, f in results.forgetting.items() if f.measured}
    if not probes:
        return ""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(7.5, 0.6 + 0.4 * len(probes)))
    values = [f.perplexity_increase_pct for f in probes.values()]
    ax.barh(list(probes), values, color=[PALETTE[3] if v > 0 else PALETTE[2] for v in values])
    ax.axvline(0, color="black", lw=0.8)
    ax.invert_yaxis()
    ax.set_xlabel("general-text perplexity change vs base model (%)")
    ax.set_title("forgetting (bundled general probe)", loc="left")
    return _svg(fig)


def style_chart(style: StyleCheck | None) -> str:
    """The pilot's style check."""
    if style is None or not style.format_pass:
        return ""
    keys = list(style.format_pass)
    series: dict[str, list[Interval | None]] = {
        "all format parts": [style.format_pass[k] for k in keys],
        "share of parts": [style.format_parts.get(k) for k in keys],
    }
    return _bars(f"house style on {style.n} held-out questions", keys, series, "share")
