"""BM25 from ragtune's in-memory index vs FTS5 itself, same store, same run (issue 22, item 4).

    nice .venv/bin/python bench/bm25_speed.py [--size 100000] [--queries 100]

The store is ``bench/retrieval_speed.py``'s (the Python docs, then docstrings of the
installed packages, hashing vectors; reused when it is already there). Per query, both
paths answer, alternating, on one connection each: the FTS5 OR-query (``bm25_index =
false``) and the index; also restricted to a group (the ACL path: the scoped SQL BM25 vs
the index with the allowed rows' statistics) and hybrid (MiniLM query embedding included).
Checked: the same top-10 scores on every query (rows of equal score may come in another
order: FTS5 leaves it open, the index puts the lower rowid first). Also measured: building the index
from nothing, loading it from its file in a new process, and bringing it up to date after
one document changes. Writes bench/results/bm25_speed.json.
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
from ragtune.retrieval.filters import acl_where
from ragtune.store.sqlite import SQLiteStore
from retrieval_speed import (
    BENCHDATA,
    DATA,
    build_corpus,
    ingest_until,
    open_project,
    percentiles,
)


def _timed(fn: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def compare(root: Path, questions: list[str], k: int) -> dict[str, Any]:
    db = root / ".ragtune" / "ragtune.db"
    cache = root / ".ragtune" / "index" / "bm25.npz"
    cache.unlink(missing_ok=True)
    indexed, fts5 = SQLiteStore(db), SQLiteStore(db, bm25_index=False)
    _, build_s = _timed(lambda: indexed.bm25_search(questions[0], k, None))
    assert indexed._bm25 is not None
    out: dict[str, Any] = {"chunks": indexed.count_chunks(), "build_s": build_s,
                           "index_terms": len(indexed._bm25._vocab),
                           "index_postings": len(indexed._bm25._terms),
                           "cache_mb": cache.stat().st_size / 1e6}  # fmt: skip
    reloaded = SQLiteStore(db)
    _, out["load_s"] = _timed(lambda: reloaded.bm25_search(questions[0], k, None))
    reloaded.close()
    public = acl_where([])
    ways = (("fts5", fts5, None), ("index", indexed, None), ("fts5 acl", fts5, public),
            ("index acl", indexed, public))  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name, _, _ in ways}
    differ = ties = 0
    for q in questions:
        for name, store, where in ways:
            started = time.perf_counter()
            hits = store.bm25_search(q, k, where)
            times[name].append(time.perf_counter() - started)
            if name.startswith("fts5"):
                want = hits
            elif len(hits) != len(want) or not np.allclose(
                [s for _, s in hits], [s for _, s in want], rtol=1e-9
            ):
                differ += 1  # other scores: a real difference
            elif [r for r, _ in hits] != [r for r, _ in want]:
                ties += 1  # same scores, rows of equal score in another order
    out["differing_scores"], out["tie_order_only"] = differ, ties
    for name, ts in times.items():
        out[name] = percentiles(ts)
    doc = indexed.conn.execute("SELECT id FROM documents ORDER BY id LIMIT 1").fetchone()[0]
    chunks = indexed.chunks_of(doc)
    vectors = np.stack([v for *_, v in indexed.stored_vectors(doc)])
    document = indexed.get_document(doc)
    indexed.upsert_document(document, "bench-changed", chunks, vectors)  # new rowids
    _, out["update_one_document_s"] = _timed(lambda: indexed.bm25_search(questions[1], k, None))
    out["update_chunks"] = len(chunks)
    indexed.close()
    fts5.close()
    return out


def hybrid(root: Path, questions: list[str], k: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for flag in (False, True):
        settings = Settings.load(None, retrieval={"bm25_index": flag})
        project = Project.open(root, settings)
        project.search(questions[0], mode="hybrid", k=k)  # MiniLM, vectors, index loaded
        times = []
        for q in questions:
            started = time.perf_counter()
            project.search(q, mode="hybrid", k=k)
            times.append(time.perf_counter() - started)
        out["index" if flag else "fts5"] = percentiles(times)
        project.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=100_000, help="chunks in the store")
    ap.add_argument("--queries", type=int, default=100, help="FAQ questions timed")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()
    questions = [r["question"] for r in load_jsonl(BENCHDATA / "qa.jsonl")][: args.queries]
    groups = build_corpus(DATA / "speed_corpus", 60.0)
    root = DATA / "speed_project"
    project = open_project(root)
    if project.store.count_chunks() < args.size:  # (re)build it: a prefix of the corpus
        project.close()
        shutil.rmtree(root)
        project = open_project(root)
        ingest_until(project, groups, args.size, f"ingesting to {args.size}")
    project.close()
    result = compare(root, questions, args.k)
    result["hybrid"] = hybrid(root, questions, args.k)
    print(save("bm25_speed", result))
    for name in ("fts5", "index", "fts5 acl", "index acl"):
        r = result[name]
        print(f"{name:10s} p50 {r['p50_ms']:7.2f} ms  p95 {r['p95_ms']:7.2f} ms")
    print({k: v for k, v in result.items() if not isinstance(v, dict)})
    print("hybrid", result["hybrid"])


if __name__ == "__main__":
    main()
