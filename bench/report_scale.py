"""RESULTS.md sections for the scale-out work (issue 22): approximate dense search, the
PostgreSQL backend's speed, and Ray for ingest and the pilot."""

from __future__ import annotations

from typing import Any


def ann_speed_section(data: dict[str, Any]) -> list[str]:
    k100, faq = data["100k"], data["faq"]
    lines = [
        "## Approximate (HNSW) vs exact dense search (`bench/ann_speed.py`)",
        "",
        f"faiss HNSW, M = {data['m']}; candidate list (ef) = max({data['ef_search']}, 16 k "
        "(1 + log10(n / 100k))) for a top-k search among n vectors (`store.ann.ef_for`: 800 "
        "for the top-50 at 100k, 1600 at 1M); exact = every vector "
        "scored (torch). Per query both paths, alternating; recall = share of exact search's "
        "top-10 / top-50 that HNSW returns. 100k: the `retrieval_speed.py` store (hashing "
        "vectors, hashed FAQ questions); filtered: a filter allowing "
        f"{100 * k100['allowed_share']:.0f} % of the chunks. FAQ: the Python docs store "
        "(MiniLM vectors, the 177 FAQ questions).",
        "",
        "| store | path | exact p50 ms | HNSW p50 ms | recall@10 | recall@50 |",
        "|---|---|---|---|---|---|",
    ]
    rows = [(f"100k ({k100['chunks']})", "dense", k100["dense"]),
            (f"100k ({k100['chunks']})", "dense, filtered", k100["dense_filtered"]),
            (f"Python docs ({faq['chunks']})", "dense", faq["dense"])]  # fmt: skip
    if "1M" in data:
        rows.append((f"1M ({data['1M']['vectors']}, graph only)", "dense", data["1M"]))
    for store, path, r in rows:
        times = f"{r['exact']['p50_ms']:.2f} | {r['hnsw']['p50_ms']:.2f}"
        lines.append(
            f"| {store} | {path} | {times} | {r['recall@10']:.3f} | {r['recall@50']:.3f} |"
        )
    if data.get("1M", {}).get("ef_sweep"):
        lines += [
            "",
            "1M vectors, top-50, fixed candidate lists (the evidence for `ef_for`):",
            "",
            "| ef | HNSW p50 ms | recall@10 | recall@50 |",
            "|---|---|---|---|",
        ]
        lines += [f"| {r['ef']} | {r['p50_ms']:.2f} | {r['recall@10']:.3f} | "
                  f"{r['recall@50']:.3f} |" for r in data["1M"]["ef_sweep"]]  # fmt: skip
    h, fh = data["hybrid_100k"], faq["hybrid"]
    lines += [
        "",
        "Hybrid search through `Project.search` (MiniLM query embedding included, embedded "
        "while BM25 ranks), p50 / p95 ms:",
        "",
        "| store | exact dense | HNSW dense | query embedding alone | top-10 agreement |",
        "|---|---|---|---|---|",
        f"| 100k | {h['exact']['p50_ms']:.1f} / {h['exact']['p95_ms']:.1f} | "
        f"{h['hnsw']['p50_ms']:.1f} / {h['hnsw']['p95_ms']:.1f} | "
        f"{h['hnsw_embed_query']['p50_ms']:.1f} | (hashing store vectors: not meaningful) |",
        f"| Python docs | {fh['exact']['p50_ms']:.1f} / {fh['exact']['p95_ms']:.1f} | "
        f"{fh['hnsw']['p50_ms']:.1f} / {fh['hnsw']['p95_ms']:.1f} | "
        f"{fh['hnsw_embed_query']['p50_ms']:.1f} | {fh['top10_agreement']:.3f} |",
        "",
        f"100k graph: built in {k100['build_s']:.1f} s ({k100['graph_mb']:.0f} MB file), "
        f"loaded by a new index in {k100['load_s']:.2f} s, brought up to date after one "
        f"document ({k100['update_chunks']} chunks) changed in "
        f"{k100['update_one_document_s']:.2f} s (most of it re-reading the exact vectors)."
        + (f" 1M graph built in {data['1M']['build_s']:.0f} s." if "1M" in data else ""),
        "",
    ]
    return lines


def backends_speed_section(data: dict[str, Any]) -> list[str]:
    setup = data["postgres_setup"]
    lines = [
        "## Search at 100k chunks on SQLite and PostgreSQL (`bench/backends_speed.py`)",
        "",
        f"The `retrieval_speed.py` store ({setup['chunks']} chunks, hashing vectors) copied "
        "into PostgreSQL 16 + pgvector through the store API; 100 FAQ questions, k = 10, p50 "
        "ms. Approximate dense search: SQLite's faiss HNSW graph vs pgvector's HNSW index "
        "(the same candidate list on both, `store.ann.ef_for`; pgvector caps it at 1000); "
        "recall against each backend's exact search. Hybrid through "
        "`Project.search`, MiniLM query embedding included.",
        "",
        "| backend | BM25 | dense exact | dense HNSW | recall@10 | recall@50 | hybrid p50 / p95 "
        "| query embedding |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name in ("sqlite", "postgres"):
        r = data[name]
        d = r["dense"]
        lines.append(
            f"| {name} | {r['bm25']['p50_ms']:.1f} | {d['exact']['p50_ms']:.1f} | "
            f"{d['hnsw']['p50_ms']:.1f} | {d['recall@10']:.3f} | {d['recall@50']:.3f} | "
            f"{r['hybrid']['p50_ms']:.1f} / {r['hybrid']['p95_ms']:.1f} | "
            f"{r['embed_query']['p50_ms']:.1f} |"
        )
    if "dense_filtered" in data["postgres"]:
        lines += ["", "Dense search (HNSW, top-50) under a filter allowing "
                  f"{100 * data['postgres']['dense_filtered']['allowed_share']:.0f} % of the "
                  "chunks: given as the allowed rowids (`rowid = ANY(...)` on PostgreSQL) vs as "
                  "the condition inside the engine's query (`search_where`, what "
                  "`Store.search` does), p50 ms:", "",
                  "| backend | allowed rowids | condition in the query | overlap@50 |",
                  "|---|---|---|---|"]  # fmt: skip
        for name in ("sqlite", "postgres"):
            f = data[name]["dense_filtered"]
            lines.append(f"| {name} | {f['rowids']['p50_ms']:.1f} | "
                         f"{f['condition']['p50_ms']:.1f} | {f['overlap@50']:.3f} |")  # fmt: skip
    lines += ["", "PostgreSQL setup (this run): " + ", ".join(
        f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in setup.items()
    ) + " (seconds; a copy or index already there is reused).", ""]  # fmt: skip
    return lines


def ray_ingest_section(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Ingest on a local Ray cluster vs the single-process pipeline (`bench/ray_ingest.py`)",
        "",
        f"{data['files']} files of the Python library docs, packaged MiniLM, shards of "
        f"{data['shard']} chunk texts, same 2 cores, same run (models loaded before timing).",
        "",
        "| run | chunks | seconds | chunks/s | vs plain |",
        "|---|---|---|---|---|",
        f"| plain pipeline | {data['plain']['chunks']} | {data['plain']['seconds']:.1f} | "
        f"{data['plain']['chunks_per_s']:.1f} | 1.00 |",
    ]
    for key, label in (
        ("ray_1_node", "Ray, 1 node x 2 CPUs"),
        ("ray_2_nodes", "Ray, 2 nodes x 1 CPU"),
    ):
        r = data[key]
        lines.append(f"| {label} | {r['chunks']} | {r['seconds']:.1f} | "
                     f"{r['chunks_per_s']:.1f} | {r['ratio_vs_plain']:.2f} |")  # fmt: skip
    per_node = data["ray_2_nodes"]["per_node"]
    shards = "; ".join(
        f"node {n}: {v['shards']} shards, {v['chunks']} chunks, {v['seconds']:.1f} s embedding"
        for n, v in per_node.items()
    )
    paper = sorted(data["paper_1M_chunks_hours"].items(), key=lambda item: int(item[0]))
    hours = ", ".join(f"{n} machine(s): {h} h" for n, h in paper)
    lines += [
        "",
        f"Per shard (2 nodes): {shards}. Median shard rate "
        f"{data['per_cpu_chunks_per_s']:.1f} chunks/s per CPU; on paper, 1M chunks with "
        f"2-CPU machines: {hours} (embedding only; the driver's writes are not the limit "
        "here).",
        "",
    ]
    return lines


def ray_pilot_section(data: dict[str, Any]) -> list[str]:
    local, ray = data["local"], data["ray"]
    lines = [
        "## The pilot's jobs in the local pool vs as Ray tasks (`bench/ray_pilot.py`)",
        "",
        "One short pilot on the bundled sample (12 questions, 10 knowledge and RAFT LoRA "
        "steps, seed 0), run twice in fresh projects on the same 2 cores: the local pool of "
        "two 1-thread processes, then `--ray local` (one Ray node, 2 CPUs, one task per CPU).",
        "",
        "| run | wall s | " + " | ".join(local["stages"]) + " |",
        "|---|---|" + "---|" * len(local["stages"]),
    ]
    for name, run in (("local pool", local), ("Ray", ray)):
        stages = " | ".join(f"{run['stages'].get(s, 0):.0f}" for s in local["stages"])
        lines.append(f"| {name} | {run['wall_s']:.0f} | {stages} |")
    differ = data["differing_scores"]
    lines += [
        "",
        f"Ray / local: {data['ray_over_local']:.2f}x the wall time. Recommendation: "
        f"{' / '.join(data['recommendations'])}. Of {data['scores_compared']} metric cells "
        f"(every strategy and metric of results.json), {len(differ)} differ"
        + (": " + ", ".join(differ) if differ else "")
        + ".",
        "",
    ]
    return lines
