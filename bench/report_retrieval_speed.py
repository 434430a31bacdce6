"""RESULTS.md section for bench/retrieval_speed.py (see that script for the method)."""

from __future__ import annotations

from typing import Any

P50_TARGET_MS = 20.0  # hybrid p50 at 100k chunks
BM25S_RATIO_TARGET = 2.0  # hybrid p50 / bm25s p50


def _ms(row: dict[str, Any]) -> str:
    if "error" in row:
        return f"error: {row['error']}"
    return f"{row['p50_ms']:.1f} / {row['p95_ms']:.1f}"


def retrieval_speed_section(data: dict[str, Any]) -> list[str]:
    corpus = data["corpus"]
    lines = [
        "## Retrieval speed at 10k and 100k chunks (`bench/retrieval_speed.py`)",
        "",
        f"Corpus: the Python 3.11 docs, then docstrings of the packages installed in the "
        f"virtualenv ({corpus['files']} files, {corpus['mb']:.0f} MB of real documentation "
        "text, no copies), ingested by ragtune's pipeline into one growing project; each size "
        "is a prefix. Vectors are 384-dim hashing vectors (MiniLM on 100k chunks takes over "
        "an hour here; exact search costs the same whatever the values); queries are the "
        f"FAQ questions, embedded by the real MiniLM in ragtune's dense and hybrid modes. "
        "p50 / p95 ms per query, k = 10, warm process, one query at a time. bm25s and numpy "
        "search the same chunk texts and vectors, each in its own process (peak RSS is its "
        "own); numpy's time excludes embedding the query (its vectors are given).",
        "",
        "| chunks | ragtune bm25 | ragtune dense | ragtune hybrid | MiniLM query embedding "
        "| bm25s | numpy exact | hybrid / bm25s (p50) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in data["sizes"].values():
        rt, b = row["ragtune"], row["bm25s"]
        ratio = rt["hybrid"]["p50_ms"] / b["p50_ms"] if "p50_ms" in b else float("nan")
        lines.append(
            f"| {row['chunks']} | {_ms(rt['bm25'])} | {_ms(rt['dense'])} | {_ms(rt['hybrid'])} "
            f"| {_ms(rt['embed_query'])} | {_ms(b)} | {_ms(row['numpy'])} | {ratio:.1f}x |"
        )
    lines += [
        "",
        "| chunks | ragtune ingest s (cumulative, no embedding) | first query s (loads "
        "vectors + MiniLM) | ragtune peak RSS MB | bm25s build s | bm25s peak RSS MB "
        "| numpy load s | numpy peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in data["sizes"].values():
        rt, b, n = row["ragtune"], row["bm25s"], row["numpy"]
        lines.append(
            f"| {row['chunks']} | {row['ingest_s_cumulative']:.0f} | {rt['first_query_s']:.1f} "
            f"| {rt['peak_rss_mb']:.0f} | {b.get('build_s', float('nan')):.1f} "
            f"| {b.get('peak_rss_mb', float('nan')):.0f} | {n.get('build_s', float('nan')):.2f} "
            f"| {n.get('peak_rss_mb', float('nan')):.0f} |"
        )
    largest = max(data["sizes"].values(), key=lambda r: r["chunks"])
    hybrid = largest["ragtune"]["hybrid"]["p50_ms"]
    bm25s = largest["bm25s"].get("p50_ms", float("nan"))
    met_abs = "met" if hybrid <= P50_TARGET_MS else "not met"
    met_rel = "met" if hybrid <= BM25S_RATIO_TARGET * bm25s else "not met"
    lines += [
        "",
        f"Targets at {largest['chunks']} chunks: hybrid p50 <= {P50_TARGET_MS:g} ms: "
        f"**{met_abs}** ({hybrid:.1f} ms); hybrid p50 <= {BM25S_RATIO_TARGET:g}x bm25s: "
        f"**{met_rel}** ({hybrid / bm25s:.1f}x).",
        "",
    ]
    return lines
