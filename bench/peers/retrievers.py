"""Peer retrievers over ragtune's chunks; runs inside ``bench/.venv-peers`` (no torch there).

    bench/.venv-peers/bin/python bench/peers/retrievers.py IN_DIR OUT_JSON [--k 10] [--depth 50]

IN_DIR holds ``chunks.jsonl`` (``id``, ``text``, ``doc_id``), ``chunk_vectors.npy`` (rows in
the same order, L2-normalised all-MiniLM-L6-v2), ``queries.jsonl`` (``question``) and
``query_vectors.npy``. Every peer gets the same texts and the same vectors and does its own
BM25, its own vector search and its own fusion, configured the way its docs show:

- bm25s: ``bm25s.tokenize(stopwords="en", stemmer=PyStemmer english)``, ``BM25()`` defaults;
- rank-bm25: ``BM25Okapi`` over lower-cased ``\\w+`` tokens (it ships no tokenizer);
- LlamaIndex: ``VectorStoreIndex`` (nodes carry the vectors, queries carry theirs) +
  ``BM25Retriever.from_defaults`` fused by ``QueryFusionRetriever(mode="reciprocal_rerank",
  num_queries=1)``;
- Haystack: ``InMemoryDocumentStore(embedding_similarity_function="cosine")`` +
  ``InMemoryBM25Retriever`` and ``InMemoryEmbeddingRetriever`` joined by
  ``DocumentJoiner(join_mode="reciprocal_rank_fusion")`` in a ``Pipeline``.

Hybrids take ``depth`` candidates from each retriever (ragtune's default is 50) and keep
``k``. Output: ``{system: {"ranked": [[chunk_id, ...] per query], "build_s", "query_s"}}``,
or ``{"error": "..."}`` for a peer that could not be imported or failed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

os.environ.setdefault("HAYSTACK_TELEMETRY_ENABLED", "False")

Ranked = list[list[str]]
Runs = dict[str, Callable[[], Ranked]]


class Inputs:
    def __init__(self, folder: Path) -> None:
        with open(folder / "chunks.jsonl", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        with open(folder / "queries.jsonl", encoding="utf-8") as fh:
            self.questions: list[str] = [json.loads(line)["question"] for line in fh]
        self.ids: list[str] = [r["id"] for r in rows]
        self.texts: list[str] = [r["text"] for r in rows]
        self.doc_ids: list[str] = [r["doc_id"] for r in rows]
        self.vectors = np.load(folder / "chunk_vectors.npy")
        self.query_vectors = np.load(folder / "query_vectors.npy")
        if len(self.vectors) != len(self.ids) or len(self.query_vectors) != len(self.questions):
            raise SystemExit("inputs disagree: vectors and rows differ in number")


def bm25s_runs(x: Inputs, k: int, depth: int) -> Runs:
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    retriever = bm25s.BM25()
    corpus = bm25s.tokenize(x.texts, stopwords="en", stemmer=stemmer, show_progress=False)
    retriever.index(corpus, show_progress=False)

    def run() -> Ranked:
        tokens = bm25s.tokenize(x.questions, stopwords="en", stemmer=stemmer, show_progress=False)
        docs, _ = retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1)
        return [[x.ids[int(i)] for i in row] for row in docs]

    return {"bm25s": run}


def rank_bm25_runs(x: Inputs, k: int, depth: int) -> Runs:
    from rank_bm25 import BM25Okapi

    word = re.compile(r"\w+")
    index = BM25Okapi([word.findall(t.lower()) for t in x.texts])

    def run() -> Ranked:
        out = []
        for q in x.questions:
            scores = index.get_scores(word.findall(q.lower()))
            out.append([x.ids[int(i)] for i in np.argsort(-scores, kind="stable")[:k]])
        return out

    return {"rank-bm25": run}


def llamaindex_runs(x: Inputs, k: int, depth: int) -> Runs:
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import BaseEmbedding
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever
    from llama_index.core.schema import QueryBundle, TextNode
    from llama_index.retrievers.bm25 import BM25Retriever

    class PrecomputedOnly(BaseEmbedding):
        """Every node and query arrives with its vector; embedding anything is a bug."""

        def _get_query_embedding(self, query: str) -> list[float]:
            raise RuntimeError("query embedding requested; queries must carry their vectors")

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            raise RuntimeError("text embedding requested; nodes must carry their vectors")

    nodes = [
        TextNode(
            id_=cid,
            text=text,
            embedding=vec.tolist(),
            metadata={"doc_id": doc},
            excluded_embed_metadata_keys=["doc_id"],
            excluded_llm_metadata_keys=["doc_id"],
        )
        for cid, text, doc, vec in zip(x.ids, x.texts, x.doc_ids, x.vectors, strict=True)
    ]
    index = VectorStoreIndex(nodes, embed_model=PrecomputedOnly())
    dense_k, bm25_k = (
        index.as_retriever(similarity_top_k=k),
        BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=k),
    )
    fusion = QueryFusionRetriever(
        [index.as_retriever(similarity_top_k=depth),
         BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=depth)],
        llm=MockLLM(), mode="reciprocal_rerank", similarity_top_k=k, num_queries=1,
        use_async=False,
    )  # fmt: skip

    def runner(retriever: Any) -> Callable[[], Ranked]:
        def run() -> Ranked:
            return [
                [
                    hit.node.node_id
                    for hit in retriever.retrieve(QueryBundle(q, embedding=v.tolist()))
                ]
                for q, v in zip(x.questions, x.query_vectors, strict=True)
            ]

        return run

    return {
        "llamaindex bm25": runner(bm25_k),
        "llamaindex dense": runner(dense_k),
        "llamaindex hybrid": runner(fusion),
    }


def haystack_runs(x: Inputs, k: int, depth: int) -> Runs:
    from haystack import Document, Pipeline
    from haystack.components.joiners import DocumentJoiner
    from haystack.components.retrievers.in_memory import (
        InMemoryBM25Retriever,
        InMemoryEmbeddingRetriever,
    )
    from haystack.document_stores.in_memory import InMemoryDocumentStore

    store = InMemoryDocumentStore(embedding_similarity_function="cosine")
    store.write_documents(
        [
            Document(id=cid, content=text, embedding=vec.tolist(), meta={"doc_id": doc})
            for cid, text, doc, vec in zip(x.ids, x.texts, x.doc_ids, x.vectors, strict=True)
        ]
    )
    pipe = Pipeline()
    pipe.add_component("bm25", InMemoryBM25Retriever(store, top_k=depth))
    pipe.add_component("dense", InMemoryEmbeddingRetriever(store, top_k=depth))
    pipe.add_component("join", DocumentJoiner(join_mode="reciprocal_rank_fusion", top_k=k))
    pipe.connect("bm25", "join")
    pipe.connect("dense", "join")
    bm25, dense = InMemoryBM25Retriever(store, top_k=k), InMemoryEmbeddingRetriever(store, top_k=k)
    pairs = list(zip(x.questions, x.query_vectors, strict=True))

    def hybrid() -> Ranked:
        out = []
        for q, v in pairs:
            res = pipe.run({"bm25": {"query": q}, "dense": {"query_embedding": v.tolist()}})
            out.append([d.id for d in res["join"]["documents"]])
        return out

    return {
        "haystack bm25": lambda: [[d.id for d in bm25.run(query=q)["documents"]] for q, _ in pairs],
        "haystack dense": lambda: [
            [d.id for d in dense.run(query_embedding=v.tolist())["documents"]] for _, v in pairs
        ],
        "haystack hybrid": hybrid,
    }


PEERS: dict[str, tuple[tuple[str, ...], Callable[[Inputs, int, int], Runs]]] = {
    "bm25s": (("bm25s",), bm25s_runs),
    "rank-bm25": (("rank-bm25",), rank_bm25_runs),
    "llamaindex": (("llamaindex bm25", "llamaindex dense", "llamaindex hybrid"), llamaindex_runs),
    "haystack": (("haystack bm25", "haystack dense", "haystack hybrid"), haystack_runs),
}


def _error(exc: BaseException) -> str:
    last = traceback.extract_tb(exc.__traceback__)[-1:]
    where = f" at {Path(last[0].filename).name}:{last[0].lineno}" if last else ""
    return f"{type(exc).__name__}: {exc}{where}"


def run_peer(x: Inputs, name: str, k: int, depth: int) -> dict[str, dict[str, Any]]:
    systems, build = PEERS[name]
    started = time.perf_counter()
    try:
        runs = build(x, k, depth)
    except Exception as exc:  # a peer that cannot be built is a result row, not a crash
        return {s: {"error": _error(exc)} for s in systems}
    build_s = time.perf_counter() - started
    out: dict[str, dict[str, Any]] = {}
    for system, run in runs.items():
        started = time.perf_counter()
        try:
            ranked = run()
        except Exception as exc:
            out[system] = {"error": _error(exc)}
            continue
        out[system] = {
            "ranked": ranked,
            "build_s": build_s,
            "query_s": time.perf_counter() - started,
        }
    return out


def versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for dist in ("bm25s", "rank-bm25", "llama-index-core", "llama-index-retrievers-bm25",
                 "haystack-ai", "numpy", "PyStemmer"):  # fmt: skip
        try:
            out[dist] = version(dist)
        except PackageNotFoundError:
            out[dist] = "not installed"
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("inputs", type=Path)
    parser.add_argument("output", type=Path)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--depth", type=int, default=50)
    parser.add_argument("--only", nargs="*", choices=sorted(PEERS), default=sorted(PEERS))
    args = parser.parse_args()
    x = Inputs(args.inputs)
    results: dict[str, Any] = {}
    for name in args.only:
        results.update(run_peer(x, name, args.k, args.depth))
        print(f"{name}: done", file=sys.stderr, flush=True)
    args.output.write_text(json.dumps({"systems": results, "versions": versions()}))


if __name__ == "__main__":
    main()
