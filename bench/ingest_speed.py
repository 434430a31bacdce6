"""Ingest throughput and search latency on real documentation (../shared/benchdata).

    .venv/bin/python bench/ingest_speed.py [--mb 1.0]

Ingests a slice of the Python 3.11 docs (the FAQ pages plus reference pages, in name order,
up to --mb megabytes) with ragtune, then embeds *the same chunk texts* with a bare
``SentenceTransformer.encode`` in the same run: the ratio says how close ingestion gets to
the embedder's own speed, and the stage breakdown says where the rest goes. Then times
queries (the FAQ questions) per search mode.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import benchdata, load_jsonl, pick_files, save
from ragtune.project import Project


class TimedEmbedder:
    """Wraps the project's embedder to separate embedding time from everything else."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    def embed(self, texts: list[str], **kw: object) -> np.ndarray:
        started = time.perf_counter()
        out = self.inner.embed(texts, **kw)  # type: ignore[attr-defined]
        self.seconds += time.perf_counter() - started
        self.texts.extend(texts)
        return out  # type: ignore[no-any-return]


def encode_seconds(model: object, texts: list[str]) -> float:
    started = time.perf_counter()
    model.encode(texts, batch_size=32, normalize_embeddings=True)  # type: ignore[attr-defined]
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.array(values) * 1000, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=float, default=1.0, help="corpus slice size in MB")
    args = parser.parse_args()
    data = benchdata()
    files = pick_files(data, args.mb)
    questions = [q["question"] for q in load_jsonl(data / "qa.jsonl")][:100]
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus"
        for path in files:
            target = corpus / path.relative_to(data / "corpus")
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
        project = Project.init(Path(tmp) / "proj")
        timed = TimedEmbedder(project.embedder)
        _ = project.embedder.dim  # load the model outside the timed region, as encode's is
        project.__dict__["embedder"] = timed
        started = time.perf_counter()
        report = project.ingest([corpus])
        ingest_s = time.perf_counter() - started
        n_chunks = report.n_chunks

        # The baseline runs once after ingest and once more after the latency runs; the mean
        # damps drift from other load on a shared machine.
        model = timed.inner.model  # type: ignore[attr-defined]
        raw_runs = [encode_seconds(model, timed.texts)]

        latency: dict[str, dict[str, float]] = {}
        for mode in ("bm25", "dense", "hybrid"):
            project.search(questions[0], mode=mode, k=10)  # warm caches
            times = []
            for q in questions:
                t0 = time.perf_counter()
                project.search(q, mode=mode, k=10)
                times.append(time.perf_counter() - t0)
            latency[mode] = {"p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}
        raw_runs.append(encode_seconds(model, timed.texts))
    raw_s = sum(raw_runs) / len(raw_runs)
    result = {
        "files": len(files),
        "mb": round(sum(p.stat().st_size for p in files) / 1e6, 2),
        "chunks": n_chunks,
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(n_chunks / ingest_s, 2),
        "raw_encode_s": round(raw_s, 2),
        "raw_encode_runs_s": [round(r, 2) for r in raw_runs],
        "raw_encode_chunks_per_s": round(n_chunks / raw_s, 2),
        "ratio_vs_raw_encode": round(raw_s / ingest_s, 3),
        "embed_share_of_ingest": round(timed.seconds / ingest_s, 3),
        "search_latency": latency,
        "n_queries": len(questions),
    }
    for key, value in result.items():
        print(f"{key:26s} {value}")
    print(f"wrote {save('ingest_speed', result)}")


if __name__ == "__main__":
    main()
