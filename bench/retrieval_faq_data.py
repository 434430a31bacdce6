"""Corpus variants, cached ragtune projects and relevance labels for ``retrieval_faq.py``.

Document ids are paths relative to the benchdata ``corpus/`` folder (``faq/design.rst.txt``):
each variant is a folder of symlinks laid out like ``corpus/``, so ragtune's document id
(the path under the ingested folder) is the benchdata path minus ``corpus/``.
"""

from __future__ import annotations

import json
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from common import BENCH, load_jsonl
from ragtune.project import Project

CACHE = BENCH / ".data"
VARIANTS = ("ref_plus_faq", "ref_only")
_WORD = re.compile(r"\w+")


def doc_id(benchdata_path: str) -> str:
    return benchdata_path.removeprefix("corpus/")


def corpus_folder(data: Path, variant: str, prefix: str = "faq_retrieval") -> Path:
    """A folder of symlinks to the variant's files, laid out like ``corpus/``."""
    folder = CACHE / f"{prefix}_corpus_{variant}"
    wanted = (data / "variants" / f"{variant}.txt").read_text().split()
    if folder.exists() and sorted(
        p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_symlink()
    ) == sorted(doc_id(w) for w in wanted):
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    for rel in wanted:
        link = folder / doc_id(rel)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to((data / rel).resolve())
    return folder


def project_for(
    data: Path, variant: str, prefix: str = "faq_retrieval"
) -> tuple[Project, dict[str, Any]]:
    """The cached, up-to-date ragtune project for ``variant`` and how it was made.

    ``ref_only`` starts as a copy of the ``ref_plus_faq`` project and is synced to the
    ref-only folder by ragtune's own incremental ingest: the 9 FAQ documents are removed and
    every other document is unchanged (same file, same chunking fingerprint), so its chunks
    are exactly those a fresh ingest would make, without embedding the whole corpus twice.
    ``prefix`` names the cache folders (another FAQ set, laid out the same way, gets its own).
    """
    root = CACHE / f"{prefix}_{variant}"
    how = "cached; incremental ingest" if root.exists() else "ingested"
    if variant == "ref_only" and not root.exists():
        source, _ = project_for(data, "ref_plus_faq", prefix)
        source.close()
        shutil.copytree(CACHE / f"{prefix}_ref_plus_faq", root)
        how = "copied from ref_plus_faq, then synced (FAQ pages removed)"
    project = Project.init(root)
    # ragtune skips names starting with "_" by default; the docs have __main__.rst.txt,
    # _thread.rst.txt (a gold document) and two more, so only hidden files stay excluded.
    project.settings.ingest.exclude = [".*"]
    started = time.perf_counter()
    report = project.ingest([corpus_folder(data, variant, prefix)], sync=True)
    counts = report.counts()
    record = root / "bench_ingest.json"  # what building the cache cost, kept for reruns
    if counts["added"] or counts["updated"] or counts["removed"]:
        made: dict[str, Any] = json.loads(record.read_text()) if record.exists() else {"how": how}
        made["seconds"] = round(made.get("seconds", 0) + time.perf_counter() - started, 1)
        made["chunks_written"] = made.get("chunks_written", 0) + report.n_chunks
        record.write_text(json.dumps(made, sort_keys=True))
    info = {
        "how": how,
        "ingest_s_this_run": round(time.perf_counter() - started, 2),
        "ingest_counts_this_run": counts,
        "cache_built": json.loads(record.read_text()) if record.exists() else None,
        "failed": {o.doc_id: o.reason for o in report.by_status("failed")},
        "documents": len(project.store.document_ids()),
        "chunks": project.store.count_chunks(),
    }
    return project, info


@dataclass(frozen=True)
class ChunkRow:
    rowid: int
    id: str
    doc_id: str
    text: str  # what ragtune embedded: heading path + chunk text (peers index this too)
    raw: str  # the chunk's own text, a slice of the document


def read_chunks(project: Project) -> tuple[list[ChunkRow], np.ndarray]:
    """All chunks from the project's SQLite store and their stored vectors, in rowid order."""
    from ragtune.ingest.pipeline import _embedding_text

    rowids, vectors = project.store.iter_vectors()
    rows = []
    for start in range(0, len(rowids), 5000):  # stay under SQLite's bound-variable limit
        batch = [int(r) for r in rowids[start : start + 5000]]
        found = project.store.chunks_by_rowid(batch)
        for rid in batch:
            chunk, doc = found[rid]
            text = _embedding_text(doc.title, chunk.section, chunk.text)
            rows.append(ChunkRow(rid, chunk.id, chunk.doc_id, text, chunk.text))
    return rows, vectors


def normalise(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def answer_head(answer: str, words: int = 12) -> str:
    """The first ``words`` words of the reST answer, normalised (markup-insensitive)."""
    return " ".join(normalise(answer).split()[:words])


def token_share(needle: str, hay: set[str]) -> float:
    tokens = normalise(needle).split()
    return sum(t in hay for t in tokens) / len(tokens) if tokens else 0.0


def answer_chunks(
    qa: list[dict[str, Any]], chunks: list[ChunkRow], min_share: float = 0.8
) -> tuple[list[set[str]], dict[str, int]]:
    """Chunk-level gold labels: the chunks of the question's FAQ page that hold the start of
    its answer. A chunk qualifies when it contains the answer's first 12 words (normalised,
    so markup and line breaks do not matter); failing that for every chunk of the page, the
    chunks holding at least ``min_share`` of the tokens of ``answer_first_sentence``. Chunks
    overlap by 32 tokens, so one answer may have two gold chunks: they are alternatives,
    and the caller scores a hit on either as one relevant item."""
    by_doc: dict[str, list[tuple[str, str, set[str]]]] = {}
    for c in chunks:
        norm = normalise(c.raw)
        by_doc.setdefault(c.doc_id, []).append((c.id, norm, set(norm.split())))
    gold, how = [], {"head": 0, "token_share": 0, "none": 0}
    for row in qa:
        page = by_doc.get(doc_id(row["source_doc"]), [])
        head = answer_head(row["answer"])
        found = {cid for cid, norm, _ in page if head and head in norm}
        kind = "head"
        if not found:
            found = {
                cid
                for cid, _, toks in page
                if token_share(row["answer_first_sentence"], toks) >= min_share
            }
            kind = "token_share"
        how[kind if found else "none"] += 1
        gold.append(found)
    return gold, how


def load_qa(data: Path) -> list[dict[str, Any]]:
    """The FAQ rows; a set that names the whole answer ``answer_plain`` (bench/django_faq.py)
    gets it as ``answer`` too, as benchdata names it."""
    rows = load_jsonl(data / "qa.jsonl")
    for row in rows:
        row.setdefault("answer", row.get("answer_plain", ""))
    return rows
