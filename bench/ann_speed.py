"""Approximate (HNSW) vs exact dense search, same stores, same run (issue 22, item 4).

    nice .venv/bin/python bench/ann_speed.py [--queries 100] [--million]

1. The 100k-chunk store of ``bench/retrieval_speed.py`` (hashing vectors; reused when it is
   there): building the graph, loading it, following a one-document update; dense search
   alone (the query vector given) and restricted by a filter to half the chunks, exact
   vs HNSW, with recall of HNSW's top-10 / top-50 against exact search's; then hybrid
   search through ``Project.search`` with the MiniLM query embedding included, exact vs
   HNSW (both with the query embedded while BM25 ranks).
2. The Python FAQ store of ``bench/retrieval_faq.py`` (MiniLM vectors, real questions): the
   same recall, where it matters (real embeddings, not hashing), and how many of hybrid
   search's top-10 chunks agree between exact and HNSW dense search.
3. ``--million``: the graph alone at 1M vectors (the 100k store's vectors, ten noisy copies;
   ingesting 1M chunks takes hours): build, p50, recall against exact search.

Writes bench/results/ann_speed.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import load_jsonl, save
from ragtune.config import Settings
from ragtune.project import Project
from ragtune.retrieval.filters import Where
from ragtune.store import ann
from ragtune.store.vectors import DenseIndex
from retrieval_speed import BENCHDATA, DATA, open_project, percentiles

FAQ_STORE = DATA / "faq_retrieval_ref_plus_faq"


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def _recall(got: list[tuple[int, float]], want: list[tuple[int, float]]) -> float:
    return len({r for r, _ in got} & {r for r, _ in want}) / max(len(want), 1)


def dense_paths(project: Project, vectors: np.ndarray, allowed: np.ndarray | None) -> dict:
    """Exact vs graph for each query vector, alternating; times and recall@10/@50."""
    index = project.dense_index
    times: dict[str, list[float]] = {"exact": [], "hnsw": []}
    r10, r50 = [], []
    for v in vectors:
        want, t = _timed(lambda v=v: index.exact(v, 50, allowed))
        times["exact"].append(t)
        got, t = _timed(lambda v=v: index.search(v, 50, allowed))
        times["hnsw"].append(t)
        r10.append(_recall(got[:10], want[:10]))
        r50.append(_recall(got, want))
    out: dict[str, Any] = {name: percentiles(ts) for name, ts in times.items()}
    out["recall@10"], out["recall@50"] = float(np.mean(r10)), float(np.mean(r50))
    return out


def at_100k(root: Path, questions: list[str]) -> dict[str, Any]:
    for name in ("hnsw.faiss", "hnsw_rows.npz", "hnsw.json"):
        (root / ".ragtune" / "index" / name).unlink(missing_ok=True)
    project = open_project(root)  # the store's own (hashing) embedder: recall in its space
    project.dense_index.method = "hnsw"
    out: dict[str, Any] = {"chunks": project.store.count_chunks()}
    _, out["build_s"] = _timed(project.dense_index.refresh)
    out["graph_mb"] = (root / ".ragtune" / "index" / "hnsw.faiss").stat().st_size / 1e6
    fresh = DenseIndex(project.store, root / ".ragtune" / "index", method="hnsw")
    _, out["load_s"] = _timed(fresh.refresh)
    vectors = np.stack([project.embedder.embed_query(q) for q in questions])
    out["dense"] = dense_paths(project, vectors, None)
    # the store's documents are all public: a filter stands for a caller who may read half
    ids = project.store.document_ids()
    allowed = project.store.allowed_rowids(Where("d.id < ?", [ids[len(ids) // 2]]))
    out["dense_filtered"] = dense_paths(project, vectors, allowed)
    out["allowed_share"] = len(allowed) / out["chunks"]
    store = project.store
    doc = store.conn.execute("SELECT id FROM documents ORDER BY id LIMIT 1").fetchone()[0]
    chunks = store.chunks_of(doc)
    stored = np.stack([v for *_, v in store.stored_vectors(doc)])
    store.upsert_document(store.get_document(doc), "bench-changed", chunks, stored)
    _, out["update_one_document_s"] = _timed(project.dense_index.refresh)
    out["update_chunks"] = len(chunks)
    project.close()
    return out


def hybrid(root: Path, questions: list[str], k: int, config: Path | None = None) -> dict:
    """Hybrid search both ways, through ``Project.search`` (the query embedded by MiniLM;
    on the 100k store its vectors are hashing ones, so only the times mean something)."""
    out: dict[str, Any] = {}
    tops: dict[str, list[list[str]]] = {}
    for method in ("exact", "hnsw"):
        settings = Settings.load(config, retrieval={"dense_index": method})
        project = Project.open(root, settings)
        project.search(questions[0], mode="hybrid", k=k)  # MiniLM, vectors, graph loaded
        times, tops[method] = [], []
        for q in questions:
            hits, t = _timed(lambda q=q, p=project: p.search(q, mode="hybrid", k=k))
            times.append(t)
            tops[method].append([h.chunk.id for h in hits])
        out[method] = percentiles(times)
        embedder = project.embedder
        embed = [_timed(lambda q=q, e=embedder: e.embed_query(q))[1] for q in questions]
        out[f"{method}_embed_query"] = percentiles(embed)
        project.close()
    pairs = zip(tops["exact"], tops["hnsw"], strict=True)
    out["top10_agreement"] = float(np.mean([len(set(a) & set(b)) / k for a, b in pairs]))
    return out


def faq_store(questions: list[str]) -> dict[str, Any] | None:
    if not (FAQ_STORE / ".ragtune").is_dir():
        print(f"skipped: {FAQ_STORE} is missing (bench/retrieval_faq.py builds it)")
        return None
    settings = Settings.load(FAQ_STORE, retrieval={"dense_index": "hnsw"})
    project = Project.open(FAQ_STORE, settings)
    out: dict[str, Any] = {"chunks": project.store.count_chunks()}
    _, out["build_s"] = _timed(project.dense_index.refresh)
    vectors = np.stack([project.embedder.embed_query(q) for q in questions])
    out["dense"] = dense_paths(project, vectors, None)
    project.close()
    out["hybrid"] = hybrid(FAQ_STORE, questions, 10, config=FAQ_STORE)
    return out


def ef_sweep(graph: ann.HnswGraph, big: np.ndarray, queries: np.ndarray) -> list[dict]:
    """Top-50 recall and latency of fixed candidate lists: the evidence for ann.ef_for."""
    faiss = ann.faiss_module()
    rows = []
    for ef in (384, 800, 1600):
        params = faiss.SearchParametersHNSW()
        params.efSearch = ef
        times, r10, r50 = [], [], []
        for q in queries:
            scores = big @ q
            top = np.argpartition(-scores, 50)[:50]
            want = [(int(i), float(scores[i])) for i in top[np.argsort(-scores[top])]]
            q32 = np.asarray(q, dtype=np.float32).reshape(1, -1)
            (dist, found), t = _timed(
                lambda q32=q32, p=params: graph._graph.search(q32, 50, params=p)
            )
            times.append(t)
            got = [(int(i), float(d)) for i, d in zip(found[0], dist[0], strict=True)]
            r10.append(_recall(got[:10], want[:10]))
            r50.append(_recall(got, want))
        rows.append(
            {
                "ef": ef,
                "p50_ms": percentiles(times)["p50_ms"],
                "recall@10": float(np.mean(r10)),
                "recall@50": float(np.mean(r50)),
            }
        )
    return rows


def million(root: Path, n_queries: int) -> dict[str, Any]:
    matrix = np.load(root / ".ragtune" / "index" / "vectors.npy")
    rng = np.random.default_rng(0)
    copies = [matrix]
    for _ in range(9):
        noisy = matrix + rng.normal(0, 0.05, matrix.shape).astype(np.float32)
        copies.append(noisy / np.linalg.norm(noisy, axis=1, keepdims=True))
    big = np.concatenate(copies).astype(np.float32)
    del copies
    out: dict[str, Any] = {"vectors": len(big)}
    graph = ann.HnswGraph(DATA / "ann_million", Settings().retrieval.hnsw_ef_search)
    _, out["build_s"] = _timed(lambda: graph.build(np.arange(len(big)), big))
    queries = big[rng.choice(len(big), n_queries, replace=False)]
    queries = queries + rng.normal(0, 0.05, queries.shape).astype(np.float32)
    times: dict[str, list[float]] = {"exact": [], "hnsw": []}
    r10, r50 = [], []
    for q in queries:
        scores, t = _timed(lambda q=q: big @ q)
        top = np.argpartition(-scores, 50)[:50]
        want = [(int(i), float(scores[i])) for i in top[np.argsort(-scores[top])]]
        times["exact"].append(t)
        got, t = _timed(lambda q=q: graph.search(q, 50))
        times["hnsw"].append(t)
        r10.append(_recall(got[:10], want[:10]))
        r50.append(_recall(got, want))
    out.update({name: percentiles(ts) for name, ts in times.items()})
    out["recall@10"], out["recall@50"] = float(np.mean(r10)), float(np.mean(r50))
    out["ef_sweep"] = ef_sweep(graph, big, queries)
    shutil.rmtree(DATA / "ann_million", ignore_errors=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=100, help="FAQ questions timed")
    ap.add_argument("--million", action="store_true", help="also the graph at 1M vectors")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()
    questions = [r["question"] for r in load_jsonl(BENCHDATA / "qa.jsonl")]
    root = DATA / "speed_project"
    if not (root / ".ragtune").is_dir():
        sys.exit("run bench/bm25_speed.py first: it builds the 100k store")
    result: dict[str, Any] = {"ef_search": Settings().retrieval.hnsw_ef_search, "m": ann.M}
    result["100k"] = at_100k(root, questions[: args.queries])
    result["hybrid_100k"] = hybrid(root, questions[: args.queries], args.k)
    result["faq"] = faq_store(questions)
    if args.million:
        result["1M"] = million(root, args.queries)
    print(save("ann_speed", result))


if __name__ == "__main__":
    main()
