"""Retrieval speed at ~10k and ~100k chunks: ragtune bm25 / dense / hybrid vs bm25s and numpy
exact search, with index build time and memory.

    .venv/bin/python bench/retrieval_speed.py [--sizes 10000,100000] [--queries 100]

Corpus, all real documentation text, no copies: the Python 3.11 docs from
``../shared/benchdata`` (~22k chunks), then the docstrings of the Python packages installed
in this virtualenv (torch, transformers, numpy, ...), one Markdown file per module, until the
size is reached. Each size is ingested by ragtune's own pipeline (load, chunk with MiniLM's
tokenizer, SQLite + FTS5) with one exception: the vectors. Embedding 100k chunks with MiniLM
takes over an hour on 2 CPU cores, so chunks get 384-dim hashing vectors; exact search costs
the same whatever the values, and queries are embedded by the real MiniLM, as in use.
Quality at this scale is not measured here (see retrieval_faq.py). Queries: the FAQ
questions. bm25s (its documented tokenizer + stemmer, default BM25) and numpy (one
matrix-vector product + argpartition over the same vectors) run in bench/.venv-peers, each
in its own process so peak RSS is its own.
"""

from __future__ import annotations

import argparse
import ast
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, load_jsonl, save
from ragtune.config import Settings
from ragtune.embed.base import HashEmbedder
from ragtune.embed.sentence_transformers import SentenceTransformerEmbedder, packaged_minilm_path
from ragtune.project import Project
from ragtune.registry import embedders

DATA = BENCH / ".data"
BENCHDATA = DATA / "benchdata"
PEERS_PY = BENCH / ".venv-peers" / "bin" / "python"
SITE = Path(np.__file__).resolve().parents[1]  # this venv's site-packages


class HashWithMiniLMTokens(HashEmbedder):
    """Hashing vectors at MiniLM's width, chunk sizes counted with MiniLM's tokenizer (so
    the chunks are the ones a real ingest makes)."""

    name = "bench-hash384"

    def __init__(self) -> None:
        super().__init__(384)
        self._real = SentenceTransformerEmbedder(packaged_minilm_path(), "minilm")
        self.max_tokens = self._real.max_tokens

    def count_tokens(self, texts: Any) -> list[int]:
        return self._real.count_tokens(texts)


if "bench-hash384" not in embedders:
    embedders.register("bench-hash384")(lambda settings: HashWithMiniLMTokens())


def docstring_markdown(path: Path, module: str) -> str:
    """A module's docstrings as Markdown: the module's, then each class and function's."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
    except (SyntaxError, ValueError):
        return ""
    parts = []
    doc = ast.get_docstring(tree)
    if doc:
        parts.append(doc)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            text = ast.get_docstring(node)
            if text and len(text) > 80:
                parts.append(f"## {node.name}\n\n{text}")
    return f"# {module}\n\n" + "\n\n".join(parts) + "\n" if parts else ""


def corpus_files(extra_mb: float) -> list[tuple[str, bytes]]:
    """(relative path, content): the Python docs, then ``extra_mb`` of package docstrings."""
    out = [
        ("python-docs/" + f.relative_to(BENCHDATA / "corpus").as_posix(), f.read_bytes())
        for f in sorted((BENCHDATA / "corpus").rglob("*.txt"))
    ]
    written = 0
    for path in sorted(SITE.rglob("*.py")):
        if written >= extra_mb * 1e6:
            break
        rel = path.relative_to(SITE)
        if rel.parts[0].endswith((".dist-info", "-stubs")) or "tests" in rel.parts:
            continue
        module = ".".join(rel.with_suffix("").parts)
        text = docstring_markdown(path, module)
        if len(text) >= 400:  # named so that ingest.exclude ("_*") skips none of them
            out.append((f"docstrings/pkg-{rel.parts[0]}/m-{module}.md", text.encode()))
            written += len(text.encode())
    return out


def build_corpus(folder: Path, extra_mb: float, per_group: int = 20) -> list[Path]:
    """The corpus in numbered group folders of ``per_group`` files, in corpus order; a
    document's id (its path under its group) is its path in the corpus, so ids are unique."""
    import shutil

    marker = folder / "corpus.json"
    if not marker.is_file() or json.loads(marker.read_text())["extra_mb"] != extra_mb:
        shutil.rmtree(folder, ignore_errors=True)
        files = corpus_files(extra_mb)
        for i, (rel, data) in enumerate(files):
            dest = folder / f"{i // per_group:05d}" / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(data)
        mb = sum(len(d) for _, d in files) / 1e6
        info = {"extra_mb": extra_mb, "files": len(files), "mb": mb}
        marker.write_text(json.dumps(info))
    return sorted(p for p in folder.iterdir() if p.is_dir())


def open_project(root: Path) -> Project:
    settings = Settings.load(None, embedder={"name": "bench-hash384"})
    settings.ingest.max_file_mb = 50
    if (root / ".ragtune").is_dir():
        return Project.open(root, settings)
    return Project.init(root, settings)


def ingest_until(project: Project, groups: list[Path], size: int, progress: str) -> float:
    """Ingest the next group folders (popped from the front of ``groups``) until the store
    holds ``size`` chunks; returns the seconds spent (no embedding: hashing vectors)."""
    started = time.perf_counter()
    while groups and project.store.count_chunks() < size:
        project.ingest([groups.pop(0)])
        print(f"\r{progress}: {project.store.count_chunks()} chunks", end="", flush=True)
    print(flush=True)
    return time.perf_counter() - started


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM; ru_maxrss would include a parent's from before
    exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def percentiles(times: list[float]) -> dict[str, float]:
    ms = np.array(times) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}


def ragtune_queries(root: Path, questions: list[str], k: int) -> dict[str, Any]:
    """Open the project with the real MiniLM (queries embedded as in use) and time each mode."""
    settings = Settings.load(None)
    project = Project.open(root, settings)
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    project.search(questions[0], mode="hybrid", k=k)  # loads MiniLM and the vector cache
    first_s = time.perf_counter() - started
    out: dict[str, Any] = {"first_query_s": first_s}
    for mode in ("bm25", "dense", "hybrid"):
        times = []
        for q in questions:
            t = time.perf_counter()
            project.search(q, mode=mode, k=k)
            times.append(time.perf_counter() - t)
        out[mode] = percentiles(times)
    embed = []
    for q in questions:
        t = time.perf_counter()
        project.embedder.embed_query(q)
        embed.append(time.perf_counter() - t)
    out["embed_query"] = percentiles(embed)
    out["peak_rss_mb"] = peak_rss_mb()
    out["rss_before_search_mb"] = rss_before
    export = root / "export"
    export.mkdir(exist_ok=True)
    rows = project.store.conn.execute("SELECT rowid, text FROM chunks ORDER BY rowid").fetchall()
    with open(export / "chunks.jsonl", "w", encoding="utf-8") as fh:
        for rowid, text in rows:
            fh.write(json.dumps({"id": str(rowid), "text": text}) + "\n")
    _, matrix = project.store.iter_vectors()
    np.save(export / "vectors.npy", np.asarray(matrix, dtype=np.float32))
    np.save(export / "queries.npy", np.stack([project.embedder.embed_query(q) for q in questions]))
    with open(export / "queries.jsonl", "w", encoding="utf-8") as fh:
        for q in questions:
            fh.write(json.dumps({"question": q}) + "\n")
    project.close()
    return out


PEER_SCRIPT = r"""
import json, resource, sys, time
import numpy as np
folder, system, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
questions = [json.loads(l)["question"] for l in open(folder + "/queries.jsonl")]
def pct(ts):
    ms = np.array(ts) * 1000
    return {"p50_ms": float(np.percentile(ms, 50)), "p95_ms": float(np.percentile(ms, 95))}
out = {}
if system == "bm25s":
    import bm25s, Stemmer
    texts = [json.loads(l)["text"] for l in open(folder + "/chunks.jsonl")]
    stemmer = Stemmer.Stemmer("english")
    t = time.perf_counter()
    tokens = bm25s.tokenize(texts, stopwords="en", stemmer=stemmer, show_progress=False)
    index = bm25s.BM25()
    index.index(tokens, show_progress=False)
    out["build_s"] = time.perf_counter() - t
    del texts, tokens
    times = []
    for q in questions:
        t = time.perf_counter()
        qt = bm25s.tokenize([q], stopwords="en", stemmer=stemmer, show_progress=False)
        index.retrieve(qt, k=k, show_progress=False, n_threads=1)
        times.append(time.perf_counter() - t)
else:
    t = time.perf_counter()
    matrix = np.load(folder + "/vectors.npy")
    out["build_s"] = time.perf_counter() - t
    qv = np.load(folder + "/queries.npy")
    times = []
    for v in qv:
        t = time.perf_counter()
        scores = matrix @ v
        top = np.argpartition(-scores, k)[:k]
        top[np.argsort(-scores[top])]
        times.append(time.perf_counter() - t)
out.update(pct(times))
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")]
out["peak_rss_mb"] = int(hwm[0].split()[1]) / 1024
print(json.dumps(out))
"""


def peer(folder: Path, system: str, k: int) -> dict[str, Any]:
    if not PEERS_PY.is_file():
        return {"error": "bench/.venv-peers missing: run bench/retrieval_faq.py once"}
    proc = subprocess.run(
        [str(PEERS_PY), "-c", PEER_SCRIPT, str(folder), system, str(k)],
        capture_output=True, text=True, timeout=3600,
    )  # fmt: skip
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr else "failed"}
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def in_own_process(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` in a fresh spawned interpreter, so its peak RSS is its own."""
    import multiprocessing

    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10000,100000", help="chunk counts, comma-separated")
    ap.add_argument("--queries", type=int, default=100, help="FAQ questions timed")
    ap.add_argument("--extra-mb", type=float, default=60.0, help="docstring text to add")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()
    if not (BENCHDATA / "qa.jsonl").is_file():
        sys.exit("../shared/benchdata is not built: run bench/retrieval_faq.py once (it says how)")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    corpus = DATA / "speed_corpus"
    groups = build_corpus(corpus, args.extra_mb)
    info = json.loads((corpus / "corpus.json").read_text())
    questions = [r["question"] for r in load_jsonl(BENCHDATA / "qa.jsonl")][: args.queries]
    result: dict[str, Any] = {"corpus": info, "sizes": {}}
    import shutil

    root = DATA / "speed_project"
    shutil.rmtree(root, ignore_errors=True)
    project = open_project(root)
    ingest_s = 0.0
    for size in sizes:  # one growing project: each size is a prefix of the corpus
        ingest_s += ingest_until(project, groups, size, f"ingesting to {size}")
        chunks = project.store.count_chunks()
        project.close()
        row: dict[str, Any] = {"chunks": chunks, "ingest_s_cumulative": ingest_s}
        row["ragtune"] = in_own_process(ragtune_queries, root, questions, args.k)
        export = root / "export"
        row["bm25s"] = peer(export, "bm25s", args.k)
        row["numpy"] = peer(export, "numpy", args.k)
        result["sizes"][str(size)] = row
        print(json.dumps(row, indent=1), flush=True)
        project = open_project(root)
    project.close()
    print(save("retrieval_speed", result))


if __name__ == "__main__":
    main()
