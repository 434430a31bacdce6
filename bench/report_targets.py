"""The issue's targets in one table at the top of RESULTS.md: each one met or not, with the
measured value and its ratio, from whichever result files exist (a target whose benchmark
has not run says so)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from report_retrieval_speed import BM25S_RATIO_TARGET, P50_TARGET_MS

Row = tuple[str, str, str, bool | None]  # target, measured, ratio, met (None: not measured)


def _faq(d: dict[str, Any]) -> Row:
    blocks = [b["target"] for r in d["variants"].values() for b in r["levels"].values()]
    judged = [t for t in blocks if not t["status"].startswith("ceiling")]
    gains = ", ".join(f"{t['gain_pts']:+.1f}" for t in judged)
    met = bool(judged) and all(t["status"] == "met" for t in judged)
    return (
        "hybrid recall@10 >= best single retriever + 3 points (FAQ), never below",
        f"gain per judged level: {gains} points",
        "",
        met,
    )


def _speed(d: dict[str, Any]) -> list[Row]:
    big = max(d["sizes"].values(), key=lambda r: r["chunks"])
    hybrid, bm25s = big["ragtune"]["hybrid"]["p50_ms"], big["bm25s"]["p50_ms"]
    return [
        (
            f"hybrid p50 <= {P50_TARGET_MS:g} ms at {big['chunks']} chunks",
            f"{hybrid:.1f} ms",
            f"{hybrid / P50_TARGET_MS:.1f}x the target",
            hybrid <= P50_TARGET_MS,
        ),
        (
            f"hybrid p50 <= {BM25S_RATIO_TARGET:g}x bm25s",
            f"{hybrid:.1f} vs {bm25s:.1f} ms",
            f"{hybrid / bm25s:.1f}x",
            hybrid <= BM25S_RATIO_TARGET * bm25s,
        ),
    ]


def _ingest(d: dict[str, Any]) -> Row:
    r = d["ratio_vs_raw_encode"]
    return (
        ">= 3x the sentence-transformers fp32 ingest throughput",
        f"{d['ingest_chunks_per_s']} vs {d['raw_encode_chunks_per_s']} chunks/s",
        f"{r:.2f}x",
        r >= 3,
    )


def generation_row(d: dict[str, Any]) -> Row:
    speed = d["speed"]
    default = next((k for k in speed if k.startswith("transformers_default")), None)
    if default is None or "llamacpp" not in speed:
        return (">= 80 % of llama.cpp decode speed", "llama.cpp not measured", "", None)
    ours, llama = speed[default]["decode_tok_per_s"], speed["llamacpp"]["decode_tok_per_s"]
    return (
        ">= 80 % of llama.cpp decode speed (default backend)",
        f"{ours:.1f} vs {llama:.1f} tok/s",
        f"{ours / llama:.2f}x",
        ours >= 0.8 * llama,
    )


def _training(d: dict[str, Any]) -> list[Row]:
    s = d.get("speed")
    if not s:
        return [("tuning >= 1.0x plain PEFT tokens/s", "not measured", "", None)]
    ours, peer = s["ragtune"], s["plain_peft"]
    return [
        (
            "`ragtune tune` >= 1.0x a plain PEFT + Trainer script's tokens/s",
            f"{ours['tokens_per_s']:.0f} vs {peer['tokens_per_s']:.0f} tok/s",
            f"{s['tokens_per_s_ratio']:.2f}x",
            s["tokens_per_s_ratio"] >= 1.0,
        ),
        (
            "tuning peak RSS <= 2 GB (135M model)",
            f"{ours['peak_rss_mb']:.0f} MB (plain script {peer['peak_rss_mb']:.0f} MB)",
            f"{ours['peak_rss_mb'] / 2048:.2f}x the target",
            ours["peak_rss_mb"] <= 2048,
        ),
    ]


def demo_row(d: dict[str, Any]) -> Row:
    return (
        f"`make demo` <= {d['budget_s']} s after set-up (issue 7)",
        f"{d['wall_s']:.0f} s",
        f"{d['wall_s'] / d['budget_s']:.2f}x the budget",
        d["wall_s"] <= d["budget_s"],
    )


SOURCES: tuple[tuple[str, Callable[[dict[str, Any]], Row | list[Row]]], ...] = (
    ("retrieval_faq", _faq),
    ("retrieval_speed", _speed),
    ("ingest_speed", _ingest),
    ("generation", generation_row),
    ("finetune_sample", _training),
    ("demo_time", demo_row),
)


def targets_section(results: dict[str, dict[str, Any] | None]) -> list[str]:
    lines = [
        "## Targets",
        "",
        "| target | measured | ratio | status | benchmark |",
        "|---|---|---|---|---|",
    ]
    for name, rows_of in SOURCES:
        data = results.get(name)
        if not data:
            lines.append(f"| (see `bench/{name}.py`) | not run | | not measured | {name} |")
            continue
        rows = rows_of(data)
        for target, measured, ratio, met in rows if isinstance(rows, list) else [rows]:
            status = "not measured" if met is None else ("**met**" if met else "**not met**")
            lines.append(f"| {target} | {measured} | {ratio} | {status} | `{name}` |")
    lines += [
        "",
        "Where a target is missed, the benchmark's section and *Reading the numbers* below say "
        "where the time goes and what would close the gap.",
        "",
    ]
    return lines
