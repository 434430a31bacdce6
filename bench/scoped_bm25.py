"""What scoping BM25 statistics to a caller's documents costs: FTS5's bm25() over the whole
index (the owner, no ACL) vs the scoped formula a restricted key gets, same queries.

    .venv/bin/python bench/scoped_bm25.py [--project DIR] [--queries 177]

Uses the project bench/real_answers.py builds for the Python FAQ set (FAQ pages + reference
pages); every query is a Python FAQ question. A third of the documents are given a group
first, so the scoped path really filters. Prints p50/p95 ms per query and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, benchdata, load_jsonl, save
from ragtune.project import Project
from ragtune.retrieval.filters import acl_where


def timed(fn, queries: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    out = []
    for q in queries:
        started = time.perf_counter()
        fn(q)
        out.append((time.perf_counter() - started) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", type=Path, default=BENCH / ".data" / "real_answers_python_0.5")
    ap.add_argument("--queries", type=int, default=177)
    args = ap.parse_args()
    project = Project(args.project)
    store = project.store
    ids = store.document_ids()
    with store.transaction() as conn:  # restrict every third document (restored below)
        conn.executemany(
            "INSERT OR IGNORE INTO doc_groups(doc_id, grp) VALUES (?, 'bench')",
            [(d,) for d in ids[::3]],
        )
    try:
        queries = [r["question"] for r in load_jsonl(benchdata() / "qa.jsonl")][: args.queries]
        where = acl_where([])
        assert where is not None
        for q in queries[:5]:  # warm both paths (temp tables, caches)
            store.bm25_search(q, 50, None)
            store.bm25_search(q, 50, where)
        whole = timed(lambda q: store.bm25_search(q, 50, None), queries)
        scoped = timed(lambda q: store.bm25_search(q, 50, where), queries)
    finally:
        with store.transaction() as conn:
            conn.execute("DELETE FROM doc_groups WHERE grp = 'bench'")
    rows = {}
    for name, ms in (("fts5 bm25 (whole index)", whole), ("scoped bm25 (public view)", scoped)):
        p50, p95 = statistics.median(ms), sorted(ms)[int(0.95 * (len(ms) - 1))]
        rows[name] = {"p50_ms": p50, "p95_ms": p95}
        print(f"{name:28s} p50 {p50:6.2f} ms  p95 {p95:6.2f} ms")
    ratio = rows["scoped bm25 (public view)"]["p50_ms"] / rows["fts5 bm25 (whole index)"]["p50_ms"]
    print(f"scoped / whole p50: {ratio:.2f}x over {store.count_chunks()} chunks, {len(queries)} q")
    save("scoped_bm25", {"rows": rows, "ratio_p50": ratio, "chunks": store.count_chunks()})


if __name__ == "__main__":
    main()
