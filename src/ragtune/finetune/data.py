"""Versioned training and evaluation datasets (``ragtune data build``).

A dataset is a folder ``.ragtune/datasets/NAME/`` with ``train.jsonl``, ``validation.jsonl``,
``test.jsonl`` (one example per line, JSON with sorted keys) and ``card.json`` (counts,
sources, filters, seed, file hashes). Examples come from the ingested documents (question/
answer pairs written by rules, or by a model), from imported JSONL, from style examples, and
optionally raw chunk text for continued pre-training. Example::

    from ragtune.finetune.data import build_dataset, load_split
    card = build_dataset(project, name="handbook", seed=0)
    card.counts      # {"train": ..., "validation": ..., "test": ..., "test_paraphrase": ...}
    test = load_split(project, "handbook", "test")
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import NotFoundError, RagtuneError, UsageError
from ragtune.finetune.imports import read_rows
from ragtune.finetune.qa_pairs import qa_rows
from ragtune.finetune.rows import TrainingRow, make_row, source_of
from ragtune.text.words import normalise
from ragtune.types import Document, content_hash

if TYPE_CHECKING:
    from ragtune.finetune.imports import Progress
    from ragtune.generate.base import Generator
    from ragtune.project import Project

SPLITS = ("train", "validation", "test")
SCHEMA_VERSION = 1
MAX_ANSWER_WORDS = 512
MIN_QUESTION_WORDS = 3
NEAR_DUPLICATE = 0.9  # Jaccard of word 3-shingles between questions of different facts
# unclear_*: questions that do not stand alone (qa_check), and the facts left without one.
FILTERS = ("dropped_duplicates", "dropped_near_duplicates", "dropped_length", "dropped_unsupported",
           "dropped_unclear_questions", "dropped_unclear_passages")  # fmt: skip
SPLIT_METHOD = (
    "Seeded. A share of the documents (heldout_docs) is held out whole: all their questions go "
    "to test as 'heldout_doc' and none of their text is trained on. From the other facts, "
    "seeded picks move one phrasing each to test ('paraphrase': the fact is trained on in other "
    "words) until test holds the test fraction of those examples, and likewise to validation; "
    "every fact keeps a phrasing in train. Style and imported examples without shared fact ids "
    "are split line by line; raw text goes to train and validation only."
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


@dataclass
class DatasetCard:
    """What ``card.json`` records about a built dataset."""

    name: str
    created: str
    seed: int
    split_method: str
    counts: dict[str, int]
    sources: dict[str, int]
    filters: dict[str, int]
    files_sha256: dict[str, str]
    hash: str
    generator: str
    schema_version: int = SCHEMA_VERSION
    path: Path | None = field(default=None, compare=False)
    warnings: list[str] = field(default_factory=list, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("path", "warnings")}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], path: Path | None = None) -> DatasetCard:
        known = {f.name for f in fields(cls)} - {"path", "warnings"}
        return cls(**{k: v for k, v in data.items() if k in known}, path=path)


def dataset_dir(project: Project, name: str) -> Path:
    return project.paths.dataset(name)


# -- building ------------------------------------------------------------------------------
def build_dataset(
    project: Project,
    *,
    name: str = "default",
    seed: int = 0,
    imports: Iterable[Path | str] = (),
    style: Path | str | None = None,
    raw: bool = False,
    qa: bool = True,
    phrasings: int = 3,
    heldout_docs: float = 0.15,
    split: tuple[float, float, float] = (0.8, 0.1, 0.1),
    generator: Generator | None = None,
    include_restricted: bool = False,
    skip_invalid: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> DatasetCard:
    """Build dataset ``name`` from the project's documents and the given files, and write it.

    Restricted documents (non-empty ``groups``) are skipped unless ``include_restricted``:
    what a model is trained on can be drawn out of it by anyone who can query it. The same
    inputs and ``seed`` give byte-identical JSONL files.
    """
    _check_options(name, phrasings, heldout_docs, split)
    folder = dataset_dir(project, name)
    if folder.exists() and not force:
        raise UsageError(f"dataset {name!r} already exists ({folder})", "pass --force to rebuild")
    warnings: list[str] = []
    rows = [r for path in imports for r in read_rows(Path(path), "import", skip_invalid, warnings)]
    if style is not None:
        rows += read_rows(Path(style), "style", skip_invalid, warnings)
    drops: Counter[str] = Counter()
    if qa or raw:
        docs = _documents(project, include_restricted, bool(rows), warnings)
        if qa:
            rows += qa_rows(project, docs, phrasings, generator, drops, progress)
        if raw:
            for c in [c for d in docs for c in project.store.chunks_of(d.id)]:
                rows.append(make_row("raw", f"raw-{c.id}", text=c.text, source=source_of(c)))
    kept, filters = filter_rows(rows)
    for gate in ("unsupported", "unclear_questions", "unclear_passages"):
        filters[f"dropped_{gate}"] += drops[gate]
    splits = split_rows(kept, seed=seed, heldout_docs=heldout_docs, split=split)
    _check_sizes(splits)
    check_leakage(splits)
    gen_name = "offline" if generator is None else f"{generator.name}:{generator.model_name}"
    card = _write(folder, splits, name=name, seed=seed, filters=filters, generator=gen_name)
    card.warnings = warnings
    return card


def _check_options(
    name: str, phrasings: int, heldout_docs: float, split: tuple[float, float, float]
) -> None:
    if not _NAME.fullmatch(name):
        raise UsageError(f"bad dataset name {name!r}", "use letters, digits, '.', '_' or '-'")
    if not 1 <= phrasings <= 10:
        raise UsageError(f"phrasings must be between 1 and 10, got {phrasings}")
    if not 0.0 <= heldout_docs < 1.0:
        raise UsageError(f"heldout_docs must be in [0, 1), got {heldout_docs}")
    if len(split) != 3 or min(split) < 0 or split[0] <= 0 or abs(sum(split) - 1.0) > 1e-6:
        raise UsageError(
            f"split must be 3 fractions (train, validation, test) summing to 1, got {split}"
        )


def _documents(
    project: Project, include_restricted: bool, have_rows: bool, warnings: list[str]
) -> list[Document]:
    docs = project.store.list_documents()
    allowed = [d for d in docs if include_restricted or not d.groups]
    if len(allowed) < len(docs):
        warnings.append(f"skipped {len(docs) - len(allowed)} restricted document(s) (groups set); "
                        "--include-restricted trains on them")  # fmt: skip
    if not allowed and not have_rows:
        if docs:
            raise UsageError(f"all {len(docs)} documents are restricted (they have groups)",
                             "pass --include-restricted, or --import your own data")  # fmt: skip
        raise UsageError("no documents are ingested", "run `ragtune ingest DOCS` first, or "
                         "build from files with --import/--style and --no-qa")  # fmt: skip
    return allowed


# -- filtering and splitting ---------------------------------------------------------------
def _shingles(norm: str) -> set[tuple[str, ...]]:
    words = norm.split()
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def filter_rows(rows: Sequence[TrainingRow]) -> tuple[list[TrainingRow], dict[str, int]]:
    """Drop too-short questions and too-long answers, exact duplicates and near-duplicates
    of another fact's question (phrasings of one fact may be similar). Earlier rows win."""
    filters = dict.fromkeys(FILTERS, 0)
    kept: list[TrainingRow] = []
    seen: set[str] = set()
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    shingles: list[set[tuple[str, ...]]] = []
    for row in rows:
        raw = row.kind == "raw"
        key = normalise(row.text or "" if raw else row.user_text)
        answer = "" if raw else row.answer
        if not raw and (
            len(key.split()) < MIN_QUESTION_WORDS or len(answer.split()) > MAX_ANSWER_WORDS
        ):
            filters["dropped_length"] += 1
            continue
        if key in seen:
            filters["dropped_duplicates"] += 1
            continue
        sh = set() if raw else _shingles(key)
        overlaps = Counter(i for s in sh for i in index[s])
        if any(kept[i].fact_id != row.fact_id
               and n / (len(sh) + len(shingles[i]) - n) >= NEAR_DUPLICATE
               for i, n in overlaps.items()):  # fmt: skip
            filters["dropped_near_duplicates"] += 1
            continue
        seen.add(key)
        for s in sh:
            index[s].append(len(kept))
        shingles.append(sh)
        kept.append(row)
    return kept, filters


def split_rows(
    rows: Sequence[TrainingRow], *, seed: int, heldout_docs: float, split: Sequence[float]
) -> dict[str, list[TrainingRow]]:
    """Seeded train/validation/test split; see :data:`SPLIT_METHOD`."""
    rng = random.Random(seed)
    out: dict[str, list[TrainingRow]] = {s: [] for s in SPLITS}
    qa_docs = sorted({r.doc_id for r in rows if r.kind == "qa" and r.doc_id is not None})
    held = set(rng.sample(qa_docs, _n_heldout(len(qa_docs), heldout_docs)))
    for kind in ("qa", "style", "import"):
        pool = [r for r in rows if r.kind == kind]
        is_held = [kind == "qa" and r.doc_id in held for r in pool]
        out["test"] += [r.tested_as("heldout_doc") for r, h in zip(pool, is_held, strict=True) if h]
        rest = [r for r, h in zip(pool, is_held, strict=True) if not h]
        _split_groups(rest, rng, split, out, kind == "qa")
    raw = [r for r in rows if r.kind == "raw" and r.doc_id not in held]
    rng.shuffle(raw)
    n_val = _portion(len(raw), split[1])
    out["validation"] += raw[:n_val]
    out["train"] += raw[n_val:]
    return {s: sorted(rs, key=lambda r: r.id) for s, rs in out.items()}


def _split_groups(
    rows: list[TrainingRow],
    rng: random.Random,
    split: Sequence[float],
    out: dict[str, list[TrainingRow]],
    qa: bool,
) -> None:
    groups: dict[str, list[TrainingRow]] = {}
    for row in rows:
        groups.setdefault(row.fact_id, []).append(row)
    order = sorted(groups)
    rng.shuffle(order)
    for target, frac in (("test", split[2]), ("validation", split[1])):
        want = _portion(len(rows), frac)
        for fact_id in order:
            group = groups[fact_id]
            if want <= 0 or not group or (qa and len(group) < 2):
                continue  # a qa fact keeps one phrasing in train; test is about recall
            # A phrasing of a fact trained on in other words, or a whole single example.
            paraphrase = len(group) >= 2 and target == "test"
            row = group.pop(rng.randrange(len(group)))
            out[target].append(row.tested_as("paraphrase" if paraphrase else None))
            want -= 1
    out["train"] += [r for fact_id in sorted(groups) for r in groups[fact_id]]


def _n_heldout(n_docs: int, frac: float) -> int:
    return 0 if frac <= 0 or n_docs < 2 else max(1, min(round(n_docs * frac), n_docs - 1))


def _portion(n: int, frac: float) -> int:
    return 0 if frac <= 0 or n < 2 else max(1, round(n * frac))


def _check_sizes(splits: Mapping[str, Sequence[TrainingRow]]) -> None:
    sizes = {s: len(rows) for s, rows in splits.items()}
    total = sum(sizes.values())
    if total < 3 or min(sizes.values()) == 0:
        shown = ", ".join(f"{s} {n}" for s, n in sizes.items())
        raise UsageError(
            f"too few examples to split: {total} ({shown}); every split needs at least one, so "
            "at least 3 examples, and qa facts need 2+ phrasings to reach test",
            "ingest more documents, add --import/--style files, or raise --phrasings",
        )


def check_leakage(splits: Mapping[str, Sequence[TrainingRow]]) -> None:
    """Raise when a test question is also trained on, or a held-out document is."""
    trained = [r for s in ("train", "validation") for r in splits[s]]
    seen = {normalise(r.user_text) for r in trained if r.messages}
    leaked = [r.user_text for r in splits["test"] if r.messages
              and normalise(r.user_text) in seen]  # fmt: skip
    held = {r.doc_id for r in splits["test"] if r.test_kind == "heldout_doc"}
    leaked += [r.id for r in trained if r.doc_id is not None and r.doc_id in held]
    if leaked:
        raise RagtuneError(
            f"leakage: {len(leaked)} test item(s) also in train/validation, e.g. {leaked[0]!r}",
            "this is a bug in the split; please report it",
        )


# -- files ---------------------------------------------------------------------------------
def _write(folder: Path, splits: Mapping[str, Sequence[TrainingRow]], **meta: Any) -> DatasetCard:
    tmp = folder.with_name(f".{folder.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    shas = {}
    for s in SPLITS:
        data = "".join(
            json.dumps(r.to_dict(), sort_keys=True, ensure_ascii=False) + "\n" for r in splits[s]
        )
        (tmp / f"{s}.jsonl").write_bytes(data.encode("utf-8"))
        shas[f"{s}.jsonl"] = hashlib.sha256(data.encode("utf-8")).hexdigest()
    test = splits["test"]
    kinds = Counter(r.kind for rows in splits.values() for r in rows)
    sources = {"qa_offline": kinds["qa"] if meta["generator"] == "offline" else 0,
               "style": kinds["style"], "import": kinds["import"], "raw": kinds["raw"]}  # fmt: skip
    if meta["generator"] != "offline":
        sources["qa_model"] = kinds["qa"]
    card = DatasetCard(
        name=meta["name"], created=datetime.now(UTC).isoformat(timespec="seconds"),
        seed=meta["seed"], split_method=SPLIT_METHOD,
        counts={**{s: len(rows) for s, rows in splits.items()},
                "test_paraphrase": sum(r.test_kind == "paraphrase" for r in test),
                "test_heldout_doc": sum(r.test_kind == "heldout_doc" for r in test)},
        sources=sources, filters=meta["filters"], files_sha256=shas,
        hash=content_hash("".join(f"{f}:{h}\n" for f, h in shas.items())),
        generator=meta["generator"], path=folder,
    )  # fmt: skip
    (tmp / "card.json").write_text(json.dumps(card.to_dict(), indent=2, sort_keys=True) + "\n")
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(tmp, folder)
    return card


def load_card(project: Project, name: str) -> DatasetCard:
    """The card of dataset ``name``; :class:`NotFoundError` when there is none."""
    path = dataset_dir(project, name) / "card.json"
    if not path.is_file():
        hint = "see `ragtune data list`, or build it with `ragtune data build --name NAME`"
        raise NotFoundError(f"no dataset named {name!r}", hint)
    try:
        return DatasetCard.from_dict(json.loads(path.read_text(encoding="utf-8")), path.parent)
    except (ValueError, TypeError) as exc:
        raise RagtuneError(f"unreadable dataset card {path}: {exc}",
                           "rebuild it with `ragtune data build --force`") from None  # fmt: skip


def load_split(project: Project, name: str, split: str) -> list[TrainingRow]:
    """The examples of one split (``train``, ``validation`` or ``test``)."""
    if split not in SPLITS:
        raise UsageError(f"unknown split {split!r}", f"choose one of {', '.join(SPLITS)}")
    folder = load_card(project, name).path or dataset_dir(project, name)
    with open(folder / f"{split}.jsonl", encoding="utf-8") as fh:
        return [TrainingRow.from_dict(json.loads(line)) for line in fh if line.strip()]


def list_datasets(project: Project) -> list[DatasetCard]:
    """Every built dataset of the project, by name."""
    root = project.paths.datasets
    if not root.is_dir():
        return []
    names = sorted(p.name for p in root.iterdir() if (p / "card.json").is_file())
    return [load_card(project, n) for n in names if not n.startswith(".")]
