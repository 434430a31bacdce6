"""Build the committed real-answers fixture of the judge trust tests (issue 21, item 4).

    nice .venv/bin/python bench/build_real_answers_fixture.py corpus    # needs the Debian doc
    nice .venv/bin/python bench/build_real_answers_fixture.py answers   # needs the models

Two steps, both writing under ``tests/data/django_faq/`` (read by
``tests/unit/evaluation/test_judge_trust_real.py``; tests never rebuild it):

- ``corpus``: the text of the Django 3.2 FAQ pages shipped by Debian's
  ``python-django-doc`` (``/usr/share/doc/python-django-doc/html/faq/*.html``) as Markdown,
  one file a page (``corpus/``), and every FAQ question with the first sentence of its
  answer as gold (``qa.jsonl``), parsed by ``bench/django_faq.py``. BSD-3-Clause: see
  ``tests/data/django_faq/README.md``.
- ``answers``: ingests ``corpus/`` into a throw-away project with the packaged MiniLM and
  answers every question with ``extract``, ``rag`` and ``base`` (packaged SmolLM2, default
  generation settings: greedy, 64 new tokens). Abstention is off: these are all answerable
  questions and the tests judge answers, not refusals. Writes ``real_answers.json``:
  question, gold, each strategy's answer text, and the passages the judge sees (the
  answer's retrieved chunks, as ``compare`` hands them to the judge) with their labels.

The script lives in bench/ rather than tests/ because, like the benchmarks, it needs the
Debian package (step 1) and minutes of real model time (step 2), and it reuses the FAQ
parser of ``bench/django_faq.py``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bs4 import Tag

sys.path.insert(0, str(Path(__file__).resolve().parent))

from django_faq import (  # bench scripts import their siblings this way (see common)
    HTML,
    PACKAGE,
    blocks,
    faq_entries,
    installed_version,
    is_section,
    licence_line,
    page_body,
    read_page,
)

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "tests" / "data" / "django_faq"
FORMAT = 1  # version stamp of real_answers.json; bump when its shape changes
STRATEGIES = ("extract", "rag", "base")
BATCH = 16  # the generator's default batch size: one batched generation per 16 questions


# --- step 1: corpus and questions from the Debian package ---------------------------------


def _heading(sec: Tag) -> str:
    h = sec.find(["h1", "h2", "h3", "h4", "h5", "h6"])
    return " ".join(h.get_text().replace("¶", "").split()) if h else ""


def _markdown(sec: Tag, level: int) -> list[str]:
    """A section as Markdown: its heading, its own blocks (code fenced), then its
    subsections one level down. Sphinx chrome (navigation, search) is never inside."""
    title = _heading(sec)
    out = [f"{'#' * level} {title}"] if title else []
    for text, kind in blocks(sec):
        if (text, kind) == (title, "prose"):
            continue  # the heading again
        out.append(f"```\n{text}\n```" if kind == "code" else text)
    for child in sec.find_all(is_section):
        if child.find_parent(is_section) is sec:
            out += _markdown(child, level + 1)
    return out


def build_corpus(out: Path) -> dict[str, Any]:
    """``corpus/<page>.md`` and ``qa.jsonl`` from the installed package's FAQ pages."""
    pages = sorted(p for p in (HTML / "faq").glob("*.html") if p.name != "index.html")
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    skipped: list[str] = []
    for path in pages:
        soup = read_page(path)
        top = page_body(soup).find(is_section)
        if not isinstance(top, Tag):
            raise ValueError(f"{path}: no top section")
        text = "\n\n".join(_markdown(top, 1)) + "\n"
        (corpus / f"{path.stem}.md").write_text(text, encoding="utf-8")
        for entry in faq_entries(f"faq/{path.name}", soup, skipped):
            gold = entry["answer_first_sentence"].strip()
            if gold:
                rows.append({"id": f"{path.stem}#{entry['anchor']}", "page": f"{path.stem}.md",
                             "question": entry["question"], "gold": gold})  # fmt: skip
    with (out / "qa.jsonl").open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n")
    size = sum(f.stat().st_size for f in corpus.glob("*.md"))
    return {"pages": len(pages), "questions": len(rows), "bytes": size, "skipped": skipped}


# --- step 2: real answers ----------------------------------------------------------------


def _commit() -> str:
    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=REPO, check=False)  # fmt: skip
    return run.stdout.strip()


def answer_all(out: Path) -> dict[str, Any]:
    """Every question of ``qa.jsonl`` answered by each strategy (see the module docs)."""
    from ragtune.config import Settings
    from ragtune.evaluation.scoring import passage_labels
    from ragtune.project import Project

    qa = [json.loads(line) for line in (out / "qa.jsonl").read_text().splitlines() if line]
    questions = [q["question"] for q in qa]
    settings = Settings.load(None, abstention={"enabled": False})
    passages: dict[str, dict[str, str]] = {}
    answers: dict[str, list[dict[str, Any]]] = {}
    meta: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp, Project.init(Path(tmp), settings) as project:
        report = project.ingest([out / "corpus"])
        meta["ingest"] = report.counts()
        for strategy in STRATEGIES:
            system = project.answer_system(strategy)
            began, got = time.perf_counter(), []
            for at in range(0, len(questions), BATCH):
                got += system.answer_many(questions[at : at + BATCH])
            meta[strategy] = {"seconds": round(time.perf_counter() - began, 1),
                              "model": system.model_name}  # fmt: skip
            print(f"{strategy}: {len(got)} answers in {meta[strategy]['seconds']} s", flush=True)
            rows = []
            for a in got:
                for hit in a.contexts:
                    passages[hit.chunk.id] = {"doc": hit.chunk.doc_id, "text": hit.chunk.text}
                rows.append({"text": a.text, "abstained": a.abstained,
                             "finish_reason": a.finish_reason,
                             "contexts": [hit.chunk.id for hit in a.contexts],
                             "labels": passage_labels(a)})  # fmt: skip
            answers[strategy] = rows
    g = settings.generator
    source = {"package": PACKAGE, "version": installed_version() or "unknown",
              "licence": licence_line()}  # fmt: skip
    built = {"commit": _commit(), "by": "bench/build_real_answers_fixture.py answers",
             "backend": g.backend, "max_new_tokens": g.max_new_tokens,
             "temperature": g.temperature, "abstention": False, **meta}  # fmt: skip
    return {
        "format": FORMAT,
        "source": source,
        "built": built,
        "questions": [
            {**q, "answers": {s: answers[s][n] for s in STRATEGIES}} for n, q in enumerate(qa)
        ],
        "passages": passages,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=["corpus", "answers"])
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args()
    if args.step == "corpus":
        if not (HTML / "faq").is_dir():
            sys.exit(f"{HTML} not found: apt-get install -y --no-install-recommends {PACKAGE}")
        made = build_corpus(args.out)
        for s in made.pop("skipped"):
            print("skipped", s)
        print(made, "->", args.out)
        return
    data = answer_all(args.out)
    path = args.out / "real_answers.json"
    path.write_text(json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"{len(data['questions'])} questions, {len(data['passages'])} passages -> {path}")


if __name__ == "__main__":
    main()
