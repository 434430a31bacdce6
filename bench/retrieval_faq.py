"""Retrieval quality on the Python FAQ set: ragtune bm25 / dense / hybrid vs peers.

    nice -n 10 .venv/bin/python bench/retrieval_faq.py [--variants ref_plus_faq ref_only]

Questions: the 177 Python 3.11 FAQ questions of ``../shared/benchdata``. Two corpus variants:

- ``ref_plus_faq`` (reference docs + the 9 FAQ pages). Document level (gold = the FAQ page the
  question comes from) is nearly free: the question is a heading on that page, and only 8
  pages hold questions. So the chunk level is reported too and is the informative one: gold
  = the chunks of that page holding the start of the answer (its first 12 words, markup
  and line breaks ignored; failing that, >= 80 % of the tokens of ``answer_first_sentence``).
- ``ref_only`` (FAQ pages left out): the 85 questions whose answers link to reference docs;
  gold = those docs (document level).

Systems: ragtune through its Project API (``project.search(mode=...)``, defaults: RRF,
50 candidates per retriever) vs bm25s, rank-bm25, LlamaIndex and Haystack (see
``bench/peers/retrievers.py``), run in their own venv ``bench/.venv-peers`` (created from
``bench/peers/requirements.txt``; no torch). All systems search the same units: ragtune's
chunks, read back from its SQLite store, as the text ragtune embeds (heading path + chunk),
with the vectors ragtune stored for them (bare SentenceTransformer output of the packaged
all-MiniLM-L6-v2; a sample is re-encoded here to check that). Query vectors for the peers
come from the same model. The ragtune projects are cached under ``bench/.data``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, benchdata, save
from peers.retrievers import PEERS
from ragtune.project import Project
from retrieval_faq_data import (
    CACHE,
    VARIANTS,
    ChunkRow,
    answer_chunks,
    doc_id,
    load_qa,
    project_for,
    read_chunks,
)
from retrieval_faq_scores import (
    ANSWER,
    METRICS,
    K,
    as_answer,
    as_docs,
    dense_agreement,
    score_level,
)

PEERS_VENV = BENCH / ".venv-peers"
REQUIREMENTS = BENCH / "peers" / "requirements.txt"
PEER_SYSTEMS = [s for systems, _ in PEERS.values() for s in systems]
Rankings = dict[str, list[list[str]] | str]


def ragtune_runs(project: Project, questions: list[str]) -> tuple[Rankings, dict[str, Any]]:
    ranked: Rankings = {}
    timings: dict[str, Any] = {}
    for mode in ("bm25", "dense", "hybrid"):
        project.search(questions[0], mode=mode, k=K)  # load the model, warm the caches
        started = time.perf_counter()
        ranked[f"ragtune {mode}"] = [
            [hit.chunk.id for hit in project.search(q, mode=mode, k=K)] for q in questions
        ]
        timings[f"ragtune {mode}"] = {"query_s": round(time.perf_counter() - started, 2)}
    return ranked, timings


def check_vectors(project: Project, chunks: list[ChunkRow], vectors: np.ndarray) -> float:
    """Largest |difference| between stored vectors and a fresh bare encode of 32 chunks."""
    step = max(1, len(chunks) // 32)
    sample = list(range(0, len(chunks), step))[:32]
    model = project.embedder.model
    fresh = model.encode([chunks[i].text for i in sample], batch_size=32, normalize_embeddings=True)
    return float(np.abs(np.asarray(fresh) - vectors[sample]).max())


def write_inputs(
    folder: Path, chunks: list[ChunkRow], vectors: np.ndarray, questions: list[str], qv: np.ndarray
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for c in chunks:
            fh.write(json.dumps({"id": c.id, "text": c.text, "doc_id": c.doc_id}) + "\n")
    with open(folder / "queries.jsonl", "w", encoding="utf-8") as fh:
        for q in questions:
            fh.write(json.dumps({"question": q}) + "\n")
    np.save(folder / "chunk_vectors.npy", vectors.astype(np.float32))
    np.save(folder / "query_vectors.npy", qv.astype(np.float32))


def _tail(text: str, lines: int = 6) -> str:
    return " | ".join(text.strip().splitlines()[-lines:])


def peers_python() -> tuple[Path | None, str]:
    """The peers venv's python, (re)installed when requirements.txt changed; else the reason."""
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / "requirements.sha256"
    want = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == want:
        return python, ""
    steps = [] if python.exists() else [[sys.executable, "-m", "venv", str(PEERS_VENV)]]
    steps.append([str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)])
    for cmd in steps:
        print("$", " ".join(cmd), flush=True)
        result = subprocess.run(cmd, capture_output=True, text=True)
        if result.returncode != 0:
            return None, f"`{' '.join(cmd[1:4])}` failed: {_tail(result.stderr)}"
    stamp.write_text(want)
    return python, ""


def run_peers(folder: Path, depth: int) -> tuple[Rankings, dict[str, Any], dict[str, str]]:
    python, why = peers_python()
    if python is None:
        return dict.fromkeys(PEER_SYSTEMS, why), {}, {}
    out = folder / "peers_out.json"
    out.unlink(missing_ok=True)
    cmd = [str(python), str(BENCH / "peers" / "retrievers.py"), str(folder), str(out),
           "--k", str(K), "--depth", str(depth)]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0 or not out.exists():
        why = f"peers process exited {result.returncode}: {_tail(result.stderr)}"
        return dict.fromkeys(PEER_SYSTEMS, why), {}, {}
    data = json.loads(out.read_text())
    ranked: Rankings = {}
    timings: dict[str, Any] = {}
    for name in PEER_SYSTEMS:
        row = data["systems"].get(name, {"error": "no result from the peers process"})
        ranked[name] = row.get("error") or row["ranked"]
        if "error" not in row:
            timings[name] = {
                "build_s": round(row["build_s"], 2),
                "query_s": round(row["query_s"], 2),
            }
    return ranked, timings, data["versions"]


def mapped(ranked: Rankings, fn: Any) -> Rankings:
    return {n: r if isinstance(r, str) else fn(r) for n, r in ranked.items()}


def run_variant(
    data: Path, variant: str, qa: list[dict[str, Any]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Results for one corpus variant, and its chunk id -> document id map."""
    started = time.perf_counter()
    project, info = project_for(data, variant)
    chunks, vectors = read_chunks(project)
    rows = qa if variant == "ref_plus_faq" else [r for r in qa if r["answer_links_in_ref"]]
    questions = [r["question"] for r in rows]
    print(f"{variant}: {info['documents']} docs, {len(chunks)} chunks, {len(rows)} questions")
    ranked, timings = ragtune_runs(project, questions)
    t0 = time.perf_counter()
    qv = project.embedder.model.encode(questions, batch_size=32, normalize_embeddings=True)
    embed_s = time.perf_counter() - t0
    vector_diff = check_vectors(project, chunks, vectors)
    depth = project.settings.retrieval.candidates
    project.close()
    folder = CACHE / f"faq_retrieval_peers_{variant}"
    write_inputs(folder, chunks, vectors, questions, np.asarray(qv))
    peer_ranked, peer_timings, versions = run_peers(folder, depth)
    ranked.update(peer_ranked)
    timings.update(peer_timings)
    for t in timings.values():
        t["ms_per_query"] = round(1000 * t["query_s"] / len(questions), 1)
    doc_of = {c.id: c.doc_id for c in chunks}
    result = {
        "project": info,
        "chunks": len(chunks),
        "n_questions": len(rows),
        "candidates_per_retriever": depth,
        "vector_check_max_abs_diff": round(vector_diff, 7),
        "query_embed_s": round(embed_s, 2),
        "dense_agreement_with_ragtune": dense_agreement(ranked),
        "levels": levels(variant, rows, chunks, ranked, doc_of),
        "timings": timings,
        "peer_versions": versions,
        "wall_s": round(time.perf_counter() - started, 1),
    }
    return result, doc_of


def levels(
    variant: str,
    rows: list[dict[str, Any]],
    chunks: list[ChunkRow],
    ranked: Rankings,
    doc_of: dict[str, str],
) -> dict[str, Any]:
    docs = mapped(ranked, lambda r: as_docs(r, doc_of))
    out: dict[str, Any] = {}
    if variant == "ref_only":
        rel = [{doc_id(p) for p in r["answer_links_in_ref"]} for r in rows]
        out["doc"] = score_level(docs, rel, "documents = the reference docs the answer links to")
        out["doc"]["gold_docs_missing"] = sorted(set().union(*rel) - set(doc_of.values()))
        return out
    rel = [{doc_id(r["source_doc"])} for r in rows]
    out["doc"] = score_level(docs, rel, "document = the question's FAQ page")
    gold, how = answer_chunks(rows, chunks)
    keep = [i for i, g in enumerate(gold) if g]
    answer = mapped(ranked, lambda r: as_answer([r[i] for i in keep], [gold[i] for i in keep]))
    out["chunk"] = score_level(
        answer, [{ANSWER}] * len(keep),
        "chunk = a chunk of the FAQ page holding the start of the answer",
    )  # fmt: skip
    out["chunk"]["gold_found_by"] = how
    out["chunk"]["gold_chunks_per_question"] = round(sum(len(gold[i]) for i in keep) / len(keep), 2)
    return out


def print_variant(variant: str, res: dict[str, Any]) -> None:
    for level, block in res["levels"].items():
        print(f"\n{variant} / {level} level: {block['n']} questions; {block['relevance']}")
        print(f"{'system':20s} {'R@10':>6s} {'MRR@10':>7s} {'nDCG@10':>8s} "
              f"{'dR best1':>9s} {'dR bm25s':>9s} {'ms/q':>7s}")  # fmt: skip
        for name, m in block["systems"].items():
            if "error" in m:
                print(f"{name:20s} ERROR {m['error'][:100]}")
                continue
            ms = res["timings"].get(name, {}).get("ms_per_query", float("nan"))
            vs = m.get("pts_vs_bm25s", {}).get(METRICS[0], float("nan"))
            print(f"{name:20s} {m[METRICS[0]]:6.3f} {m[METRICS[1]]:7.3f} {m[METRICS[2]]:8.3f} "
                  f"{m['pts_vs_best_single'][METRICS[0]]:+9.1f} {vs:+9.1f} {ms:7.1f}")  # fmt: skip
        t = block["target"]
        print(f"best single: {block['best_single']}; target (hybrid R@10 >= best single + 3 pts): "
              f"{t['status']} ({t.get('gain_pts', 'n/a')} pts)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    args = parser.parse_args()
    started = time.perf_counter()
    load_start = [round(x, 2) for x in os.getloadavg()]  # the machine may be shared
    data = benchdata()
    qa = load_qa(data)
    results: dict[str, Any] = {}
    maps: dict[str, dict[str, str]] = {}
    for variant in args.variants:
        results[variant], maps[variant] = run_variant(data, variant, qa)
        print_variant(variant, results[variant])
    if set(maps) == set(VARIANTS):
        # ref_only's project is ref_plus_faq's, synced: its chunks must be exactly
        # ref_plus_faq's chunks minus those of the FAQ pages.
        expected = {c: d for c, d in maps["ref_plus_faq"].items() if not d.startswith("faq/")}
        results["ref_only"]["same_chunks_as_ref_plus_faq_minus_faq"] = expected == maps["ref_only"]
    out = {
        "k": K,
        "variants": results,
        "wall_s": round(time.perf_counter() - started, 1),
        "loadavg_start_end": [load_start, [round(x, 2) for x in os.getloadavg()]],
    }
    print(f"\nwall time {out['wall_s']} s; wrote {save('retrieval_faq', out)}")


if __name__ == "__main__":
    main()
