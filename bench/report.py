"""Regenerate bench/RESULTS.md from the JSON files in bench/results/.

.venv/bin/python bench/report.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, RESULTS_DIR
from report_crash_cycles import crash_cycles_section
from report_freshness_lua import freshness_lua_section
from report_hybrids import hybrids_section
from report_judge_trust import judge_trust_section
from report_pilot import pilot_section
from report_real_answers import real_answers_section, scoped_bm25_section
from report_retrieval_faq import retrieval_faq_section
from report_retrieval_speed import retrieval_speed_section
from report_scale import (
    ann_speed_section,
    backends_speed_section,
    ray_ingest_section,
    ray_pilot_section,
)
from report_small_model import small_model_section
from report_targets import SOURCES, demo_row, generation_row, targets_section


def load(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def retrieval_section(data: dict[str, Any]) -> list[str]:
    best_single = max(data["all"]["bm25"]["mrr@10"], data["all"]["dense"]["mrr@10"])
    lines = [
        "## Retrieval quality on the bundled sample (`bench/retrieval_sample.py`)",
        "",
        f"{data['n_questions']} answerable questions of `examples/eval.jsonl`, document-level "
        "relevance. Ratio = MRR@10 / best single retriever's MRR@10, same run.",
        "",
        "| run | recall@5 | MRR@10 | nDCG@10 | MRR ratio vs best single | MRR@10 odd half |",
        "|---|---|---|---|---|---|",
    ]
    for name, m in data["all"].items():
        odd = data["odd_half"].get(name, {}).get("mrr@10")
        odd_s = f"{odd:.3f}" if odd is not None else ""
        lines.append(
            f"| {name} | {m['recall@5']:.3f} | {m['mrr@10']:.3f} | {m['ndcg@10']:.3f} "
            f"| {m['mrr@10'] / best_single:.3f} | {odd_s} |"
        )
    lines += [
        "",
        f"Convex weight tuned on even-numbered questions: alpha = {data['best_alpha']} "
        "(dense share); the odd half is held out.",
        "",
    ]
    return lines


def ingest_section(data: dict[str, Any]) -> list[str]:
    lat = data["search_latency"]
    return [
        "## Ingest throughput and search latency on real docs (`bench/ingest_speed.py`)",
        "",
        f"Slice of the Python 3.11 docs from `../shared/benchdata`: {data['files']} files, "
        f"{data['mb']} MB, {data['chunks']} chunks.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| ragtune ingest (load + chunk + embed + SQLite) | {data['ingest_chunks_per_s']} "
        f"chunks/s ({data['ingest_s']} s) |",
        f"| raw `SentenceTransformer.encode`, same chunk texts, batch 32 | "
        f"{data['raw_encode_chunks_per_s']} chunks/s ({data['raw_encode_s']} s) |",
        f"| **ratio ingest / raw encode** | **{data['ratio_vs_raw_encode']}** |",
        f"| share of ingest time spent in the embedder | {data['embed_share_of_ingest']} |",
        "",
        f"Search latency over {data['n_queries']} FAQ questions, k = 10, warm process:",
        "",
        "| mode | p50 ms | p95 ms |",
        "|---|---|---|",
        *(f"| {m} | {v['p50_ms']:.1f} | {v['p95_ms']:.1f} |" for m, v in lat.items()),
        "",
    ]


def demo_section(data: dict[str, Any]) -> list[str]:
    rec = data.get("recommendation") or {}
    _, _, ratio, met = demo_row(data)
    stages = ", ".join(f"{k} {v:.0f}" for k, v in data["stages_s"].items())
    gflops = data.get("gemm_gflops_1_thread")
    gemm = f", one core's fp32 GEMM {gflops:.0f} GFLOP/s" if gflops else ""
    if data.get("note"):
        gemm += f" ({data['note']})"
    return [
        "## `make demo` wall time (`bench/demo_time.py`)",
        "",
        f"`examples/demo.sh` (what `make demo` runs after `make setup`) into a fresh project on "
        f"{data['cores']} cores, load average {data['load_before']:.1f}"
        f"{gemm} before the run: "
        f"**{data['wall_s']:.0f} s** for the pilot; budget {data['budget_s']} s: "
        f"**{'met' if met else 'not met'}** ({ratio}). Stages (s; the LoRA runs, answers "
        f"and the style check share two worker processes, so their seconds overlap): "
        f"{stages}. "
        f"Recommendation: {rec.get('choice')} via `{rec.get('strategy')}`, confidence "
        f"{rec.get('confidence')}.",
        "",
    ]


def generation_target(speed: dict[str, Any]) -> list[str]:
    """The issue's target (the same row as in the targets table), with the end-to-end ratio."""
    target, measured, ratio, met = generation_row({"speed": speed})
    if met is None:
        return ["", f"Target ({target}): not measured ({measured})."]
    default = next(k for k in speed if k.startswith("transformers_default"))
    e2e = speed[default]["tok_per_s"] / speed["llamacpp"]["tok_per_s"]
    return [
        "",
        f"Target ({target}): **{'met' if met else 'not met'}** — {default} decodes at {ratio} "
        f"llama.cpp's tokens/s ({measured}; end to end, prefill included: {e2e:.2f}x).",
    ]


def generation_section(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Generation speed and answer accuracy (`bench/generation.py`)",
        "",
        f"Same {data.get('prompts', 8)} RAG prompts from the sample (top-3 passages), greedy, "
        "48 new tokens. Decode tokens/s takes out prefill time, measured by a 1-token run of "
        "the same prompts. Ratios against transformers sequential, same run.",
        "",
        "| backend | end-to-end tok/s | ratio | decode tok/s | decode ratio "
        "| prefill s (all prompts) |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in data["speed"].items():
        lines.append(
            f"| {name} | {r['tok_per_s']:.1f} | {r['ratio_vs_sequential']:.2f} "
            f"| {r['decode_tok_per_s']:.1f} | {r['decode_ratio_vs_sequential']:.2f} "
            f"| {r['prefill_s']:.1f} |"
        )
    lines += generation_target(data["speed"])
    if "accuracy" in data:
        lines += [
            "",
            f"Answer accuracy on the {data['n_questions']} answerable sample questions "
            f"(SmolLM2-135M, transformers, greedy, k = {data.get('k', 5)} retrieved, "
            f"{data.get('context_tokens', 1024)} context tokens; the product defaults):",
            "",
            "| strategy | token F1 | contains gold | any citation | model-given citation |",
            "|---|---|---|---|---|",
        ]
        for name, r in data["accuracy"].items():
            lines.append(
                f"| {name} | {r['token_f1']:.3f} | {r['contains_gold']:.3f} "
                f"| {r['with_citation']:.2f} | {r['model_cited']:.2f} |"
            )
    return [*lines, ""]


def finetune_section(data: dict[str, Any]) -> list[str]:
    lines = ["## Fine-tuning on the sample (`bench/finetune_sample.py`)", ""]
    if "style" in data:
        st = data["style"]
        lines += [
            f"House style: LoRA trained on the style split of `examples/style.jsonl`; "
            f"{st['n_test']} held-out style questions; base and adapter get the same "
            "instructions describing the format. Format check = all five parts in order.",
            "",
            "| model | format pass | parts present |",
            "|---|---|---|",
            f"| base + instructions | {st['base']['format_pass']:.2f} "
            f"| {st['base']['format_parts']:.2f} |",
            f"| LoRA + instructions | {st['lora']['format_pass']:.2f} "
            f"| {st['lora']['format_parts']:.2f} |",
            "",
        ]
    if "facts" in data:
        fa = data["facts"]
        lines += [
            f"Facts: LoRA trained on offline QA pairs for {fa['facts']} facts; token F1 of the "
            "answer on the trained phrasings vs held-out phrasings of the same facts.",
            "",
            "| model | trained phrasings F1 | held-out phrasings F1 |",
            "|---|---|---|",
        ]
        for label in ("base", "lora"):
            r = fa[label]
            lines.append(
                f"| {label} | {r['trained_phrasings']['token_f1']:.3f} "
                f"(n={r['trained_phrasings']['n']}) | {r['held_out_phrasings']['token_f1']:.3f} "
                f"(n={r['held_out_phrasings']['n']}) |"
            )
        lines.append("")
    if "speed" in data:
        sp = data["speed"]
        lines += [
            f"Training speed: `ragtune tune` vs a plain PEFT + Trainer script "
            f"(`bench/peers/plain_peft_train.py`), same data, {sp['steps']} steps, LoRA r=16 "
            "all-linear, batch 4, each in its own process. ragtune's run includes its "
            "per-epoch validation, checkpoints and the forgetting probe's load; it batches "
            "examples of similar length (`ragtune.finetune.sampler`), the script at random. "
            "Tokens/s counts real (unpadded) tokens.",
            "",
            "| run | tokens/s | peak RSS MB |",
            "|---|---|---|",
            f"| ragtune tune | {sp['ragtune']['tokens_per_s']:.0f} "
            f"| {sp['ragtune']['peak_rss_mb']:.0f} |",
            f"| plain PEFT script | {sp['plain_peft']['tokens_per_s']:.0f} "
            f"| {sp['plain_peft']['peak_rss_mb']:.0f} |",
            f"| **ratio** | **{sp['tokens_per_s_ratio']:.2f}** | **{sp['peak_rss_ratio']:.2f}** |",
            "",
        ]
    return lines


def service_section(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Service under load (`bench/service_load.py`)",
        "",
        f"`ragtune serve` as its own process on loopback: {data['docs']}. Clients are threads "
        "with keep-alive connections, each sending its requests one after another; the "
        f"evaluation questions of the sample in turn. Answers: max_tokens {data['max_tokens']}, "
        "generated one at a time by design (the model thread), so their latency includes "
        "queueing behind the other clients' answers.",
        "",
        "Searches run twice in the same run: against a server that embeds each query alone "
        "(`--query-batch 1`, the baseline) and one that embeds the queries arriving together "
        "in one batch (the default).",
        "",
        "| endpoint | server | clients | requests | errors | p50 ms | p95 ms | p99 ms "
        "| requests/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    rows = [("search", "search_baseline", "one query at a time"),
            ("search", "search_batched", "micro-batched"), ("ask", "ask", "")]  # fmt: skip
    for endpoint, key, server in rows:
        if key not in data:  # a result file from before the baseline was added
            key = endpoint if key != "search_baseline" else ""
        r = data.get(key)
        if r is None:
            continue
        lines.append(
            f"| /v1/{endpoint} | {server} | {r['clients']} | {r['requests']} | {r['errors']} "
            f"| {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['p99_ms']:.0f} | {r['per_s']:.1f} |"
        )
    if "ratios" in data:
        ratios = data["ratios"]
        lines += [
            "",
            f"Batched over baseline: p95 x{ratios['p95_batched_over_baseline']:.2f}, "
            f"throughput x{ratios['throughput_batched_over_baseline']:.2f}.",
        ]
    return [*lines, ""]


def bm25_speed_section(data: dict[str, Any]) -> list[str]:
    h = data["hybrid"]
    lines = [
        "## BM25 from the in-memory index vs FTS5 (`bench/bm25_speed.py`)",
        "",
        f"The `retrieval_speed.py` store ({data['chunks']} chunks: the Python docs, then "
        "docstrings of the installed packages; hashing vectors), 100 FAQ questions, k = 10, "
        "both paths on the same store in the same run, alternating per query. ACL: restricted "
        "to public documents (FTS5 side: the scoped SQL BM25). Hybrid includes the MiniLM "
        "query embedding.",
        "",
        "| path | p50 ms | p95 ms |",
        "|---|---|---|",
    ]
    for name in ("fts5", "index", "fts5 acl", "index acl"):
        lines.append(f"| {name} | {data[name]['p50_ms']:.2f} | {data[name]['p95_ms']:.2f} |")
    for name in ("fts5", "index"):
        lines.append(
            f"| hybrid, bm25 by {name} | {h[name]['p50_ms']:.2f} | {h[name]['p95_ms']:.2f} |"
        )
    ratio = data["index"]["p50_ms"] / data["fts5"]["p50_ms"]
    acl = data["index acl"]["p50_ms"] / data["fts5 acl"]["p50_ms"]
    lines += [
        "",
        f"p50 ratio index / FTS5: **{ratio:.3f}** (ACL: {acl:.3f}). Queries whose top-10 "
        f"scores differ: {data['differing_scores']}; same scores with rows of equal score in "
        f"another order: {data['tie_order_only']}. Index: {data['index_terms']} terms, "
        f"{data['index_postings']} postings, {data['cache_mb']:.1f} MB file; built from "
        f"nothing in {data['build_s']:.1f} s, loaded by a new process in "
        f"{data['load_s']:.2f} s, brought up to date after one document "
        f"({data['update_chunks']} chunks) changed in {data['update_one_document_s']:.2f} s. "
        "The restricted index path reads the allowed rows once per store generation and "
        "condition (a service's keys ask with the same groups again and again); before that "
        "cache, the run just before measured 300 ms p50, nearly all of it that SQL query.",
        "",
    ]
    return lines


def backends_faq_section(data: dict[str, Any]) -> list[str]:
    lines = [
        "## The Python FAQ retrieval benchmark on SQLite and PostgreSQL (`bench/backends_faq.py`)",
        "",
        "The cached SQLite projects copied into PostgreSQL 16 + pgvector through the store "
        "API (same chunks and vectors), then searched through `Project.search`; scored as in "
        "`retrieval_faq.py`. Difference = PostgreSQL - SQLite.",
        "",
        "| variant / level | system | recall@10 | MRR@10 | d recall@10 | d MRR@10 |",
        "|---|---|---|---|---|---|",
    ]
    for variant, res in data.items():
        if not isinstance(res, dict) or "levels" not in res:
            continue
        for level, block in res["levels"].items():
            systems = block["systems"]
            for name, m in systems.items():
                twin = systems.get(name.replace("postgres", "sqlite").replace(" (hnsw)", ""))
                d = ("–", "–") if twin is None or twin is m else (
                    f"{m['recall@10'] - twin['recall@10']:+.4f}",
                    f"{m['mrr@10'] - twin['mrr@10']:+.4f}")  # fmt: skip
                scores = f"{m['recall@10']:.3f} | {m['mrr@10']:.3f} | {d[0]} | {d[1]}"
                lines.append(
                    f"| {variant} / {level} | {name.removeprefix('ragtune ')} | {scores} |"
                )
    lines.append("")
    return lines


def reindex_section(data: dict[str, Any]) -> list[str]:
    lines = [
        "## Re-indexing an update (`bench/reindex.py`)",
        "",
        "`ingest --sync` from the old version to the new on a fresh copy of the old project, "
        "two ways alternating: every chunk of a changed document embedded again (the "
        "baseline: the store's vectors hidden from the ingestor, as before issue 22's item "
        "5), and ragtune's default, which keeps the vector of a chunk whose embedded text "
        "(title, heading path, text) is unchanged. Median wall time of the repeats.",
        "",
        "| update | documents changed | chunks written | re-embedded | kept | re-embed all s "
        "| keep unchanged s | ratio | same chunks, max vector diff |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for label, r in data.items():
        if label == "env":
            continue
        keep, base = r["keep unchanged"], r["re-embed all"]
        lines.append(
            f"| {label} | {keep['documents_updated']} | {keep['chunks_written']} "
            f"| {keep['chunks_embedded']} | {keep['chunks_kept']} | {base['median_s']:.2f} "
            f"| {keep['median_s']:.2f} | **{r['ratio_keep_vs_all']:.2f}** "
            f"| {r['same_chunks']}, {r['max_vector_diff']:.1e} |"
        )
    lines += [
        "",
        'The Lua 5.2 manual renumbered and renamed its chapters ("2 - The Language" became '
        '"2 – Basic Concepts"), so every chunk\'s heading path changed and none keeps its '
        "vector (40 of its 474 chunk texts are word for word in 5.1, under other headings); "
        "there the two ways cost the same, as they should.",
        "",
    ]
    return lines


def earlier_sections(path: Path) -> dict[str, str]:
    """Sections of an existing RESULTS.md by script name (the `bench/NAME.py` in the
    heading), so a partial `make bench` run or a single script does not erase the others."""
    if not path.exists():
        return {}
    out: dict[str, str] = {}
    for block in path.read_text().split("\n## ")[1:]:
        heading = block.split("\n", 1)[0]
        if "`bench/" in heading and ".py`" in heading:
            name = heading.split("`bench/", 1)[1].split(".py`", 1)[0]
            out[name] = "## " + block
    return out


def main() -> None:
    lines = [
        "# Benchmark results",
        "",
        "Regenerated by `make bench` (`bench/report.py`) from `bench/results/*.json`. Machine: "
        "2 CPU cores, no GPU. Ratios compare against a baseline measured in the same run.",
        "",
    ]
    sections = (
        ("retrieval_sample", retrieval_section),
        ("retrieval_faq", retrieval_faq_section),
        ("retrieval_speed", retrieval_speed_section),
        ("ingest_speed", ingest_section),
        ("reindex", reindex_section),
        ("bm25_speed", bm25_speed_section),
        ("ann_speed", ann_speed_section),
        ("backends_faq", backends_faq_section),
        ("backends_speed", backends_speed_section),
        ("ray_ingest", ray_ingest_section),
        ("ray_pilot", ray_pilot_section),
        ("generation", generation_section),
        ("finetune_sample", finetune_section),
        ("service_load", service_section),
        ("hybrids_sample", hybrids_section),
        ("small_model", small_model_section),
        ("real_answers", real_answers_section),
        ("scoped_bm25", scoped_bm25_section),
        ("pilot_sample", pilot_section),
        ("freshness_lua", freshness_lua_section),
        ("demo_time", demo_section),
        ("crash_cycles", crash_cycles_section),
        ("judge_trust_python", judge_trust_section),
        ("judge_trust_django", judge_trust_section),
    )
    lines += targets_section({name: load(name) for name, _ in SOURCES})
    earlier = earlier_sections(BENCH / "RESULTS.md")
    for name, render in sections:
        data = load(name)
        if data:
            lines += render(data)
            lines.append(
                f"_{name}: commit {data['env']['commit']}, Python {data['env']['python']}_"
            )
            lines.append("")
        elif name in earlier:  # not rerun this time: keep what an earlier run measured
            lines += [earlier[name].rstrip(), ""]
    notes = BENCH / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().strip(), ""]
    (BENCH / "RESULTS.md").write_text("\n".join(lines))
    print(f"wrote {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
