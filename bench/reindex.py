"""Re-indexing a new release (issue 22, item 5): the Lua 5.1 -> 5.2 reference manual, and
the bundled sample's v1 -> v2 update.

    nice .venv/bin/python bench/reindex.py [--repeats 2]

Per case, ingests the old version into a project, then updates it to the new one (same file
names, ``ingest --sync``) two ways, alternating, each on a fresh copy of the old project:

- ``re-embed all``: the baseline, every chunk of the changed document embedded again (the
  store's previous vectors hidden from the ingestor, which is what ragtune did before);
- ``keep unchanged``: ragtune's default, chunks whose embedded text is unchanged keep their
  stored vector.

Reports the update's wall time (median of the repeats) and the ratio, chunks written and
kept, and checks that both ways end with the same chunks and vectors within float noise.
The 5.2 manual renumbered its chapters ("2 - The Language" became "2 – Basic Concepts"), and
a chunk is embedded with its heading path, so there no chunk is unchanged; the sample's
update changes a few paragraphs of 10 of its 39 files.
Writes bench/results/reindex.json.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH, REPO, benchdata, save


def _folder(work: Path, data: Path, version: str) -> Path:
    folder = work / f"lua-{version}"
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(data / "freshness" / version / "lua-manual.txt", folder / "lua-manual.txt")
    return folder


def _vectors(project: Any) -> dict[str, np.ndarray]:
    out = {}
    for doc_id in project.store.document_ids():
        chunks = project.store.chunks_of(doc_id)
        stored = project.store.stored_vectors(doc_id)
        out.update({c.id: v for c, (_, _, _, v) in zip(chunks, stored, strict=True)})
    return out


def update(base: Path, target: Path, new: Path, reuse: bool) -> dict[str, Any]:
    from ragtune.project import Project

    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(base, target)
    project = Project.open(target)
    try:
        project.embedder.embed(["warm-up"])  # load the model outside the timed update
        if not reuse:
            project.store.stored_vectors = lambda doc_id: []  # type: ignore[method-assign]
        started = time.perf_counter()
        report = project.ingest([new], sync=True)
        seconds = time.perf_counter() - started
        if not reuse:
            del project.store.stored_vectors  # the real method again, to read the result
        vectors = _vectors(project)
    finally:
        project.close()
    return {"seconds": seconds, "written": report.n_chunks, "kept": report.n_reused,
            "updated": report.counts()["updated"], "vectors": vectors}  # fmt: skip


def case(work: Path, old: Path, new: Path, repeats: int) -> dict[str, Any]:
    from ragtune.project import Project

    base = work / "project-old"
    project = Project.init(base)
    started = time.perf_counter()
    first = project.ingest([old])
    ingest_s = time.perf_counter() - started
    project.close()
    runs: dict[str, list[dict[str, Any]]] = {"re-embed all": [], "keep unchanged": []}
    for _ in range(repeats):
        for name, reuse in (("re-embed all", False), ("keep unchanged", True)):
            runs[name].append(update(base, work / "copy", new, reuse))
    a, b = runs["re-embed all"][-1]["vectors"], runs["keep unchanged"][-1]["vectors"]
    same_chunks = a.keys() == b.keys()
    diff = max(float(np.abs(a[k] - b[k]).max()) for k in a) if same_chunks else None
    out: dict[str, Any] = {
        "chunks_old": first.n_chunks,
        "ingest_old_s": round(ingest_s, 1),
        "same_chunks": same_chunks,
        "max_vector_diff": diff,
        "repeats": repeats,
    }
    for name, rows in runs.items():
        out[name] = {
            "seconds": [round(r["seconds"], 2) for r in rows],
            "median_s": round(statistics.median(r["seconds"] for r in rows), 2),
            "documents_updated": rows[-1]["updated"],
            "chunks_written": rows[-1]["written"],
            "chunks_embedded": rows[-1]["written"] - rows[-1]["kept"],
            "chunks_kept": rows[-1]["kept"],
        }
    out["ratio_keep_vs_all"] = round(
        out["keep unchanged"]["median_s"] / out["re-embed all"]["median_s"], 3
    )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    data = benchdata()
    work = BENCH / ".data" / "reindex"
    shutil.rmtree(work, ignore_errors=True)
    cases = {
        "lua 5.1 -> 5.2": (_folder(work, data, "old"), _folder(work, data, "new")),
        "sample v1 -> v2": (REPO / "examples" / "docs", REPO / "examples" / "v2"),
    }
    out: dict[str, Any] = {}
    for label, (old, new) in cases.items():
        out[label] = case(work / label.split()[0], old, new, args.repeats)
        r = out[label]
        for name in ("re-embed all", "keep unchanged"):
            x = r[name]
            print(f"{label:16s} {name:15s} {x['median_s']:6.2f} s  written {x['chunks_written']}, "
                  f"embedded {x['chunks_embedded']}, kept {x['chunks_kept']}")  # fmt: skip
        print(f"{label:16s} ratio {r['ratio_keep_vs_all']}; same chunks {r['same_chunks']}; "
              f"max |diff| {r['max_vector_diff']}")  # fmt: skip
    save("reindex", out)


if __name__ == "__main__":
    main()
