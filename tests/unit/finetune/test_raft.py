"""RAFT data: the plain QA split kept, oracle share, retrieved distractors, serving prompts."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import write
from tests.helpers.fakes import QueuedGenerator

from ragtune.errors import UsageError
from ragtune.finetune.data import SPLITS, build_dataset, load_split
from ragtune.finetune.imports import supported
from ragtune.finetune.raft import build_raft_dataset, cite
from ragtune.finetune.train import load_examples
from ragtune.generate.prompts import CANNOT_ANSWER, PromptBuilder
from ragtune.project import Project
from ragtune.types import ScoredChunk

DOCS = {
    "hr/leave.md": "# Leave Policy\n\n## Entitlement\n\nA full-time employee is entitled to 25 "
    "working days of paid annual leave per leave year.\n\n## Carry over\n\nUp to 5 days of "
    "unused leave may be carried over into the next leave year.\n\n## Sick leave\n\nSick leave "
    "of more than 3 days needs a doctor's note.\n",
    "hr/requests.md": "# Leave Requests\n\nManagers should approve or decline a request within 3 "
    "working days.\n\nEmployees must give at least 10 working days of notice for long absences.\n",
    "it/vpn.md": "# VPN Guide\n\nThe VPN disconnects idle sessions after 30 minutes.\n\n"
    "Passwords must contain at least 14 characters.\n\nA new laptop is issued every 3 years.\n",
    "finance/expenses.md": "# Expense Policy\n\nExpense claims must be submitted within 60 days "
    "of the date the expense was incurred.\n\nClaims over EUR 1,000 also require approval from "
    "the Head of Department.\n\nThe mileage rate is EUR 0.30 per km.\n",
    "product/api.md": "# API Reference\n\nThe API allows 600 requests per minute per token.\n\n"
    "Cursors expire after 15 minutes.\n\nWebhooks are retried up to 8 times.\n",
    "product/sla.md": "# Support SLA\n\nUrgent tickets receive a first response within 2 hours."
    "\n\nThe uptime commitment is 99.9 percent of each calendar month.\n",
    "legal/retention.md": "# Data Retention\n\nSupport tickets are kept for 36 months after "
    "closing.\n\nInvoices are kept for 10 years.\n",
    # Restates leave facts: its chunks support those answers, so they are never distractors.
    "hr/faq.md": "# People FAQ\n\nHow much leave do I get? A full-time employee is entitled to 25 "
    "working days of paid annual leave per leave year. Up to 5 days of unused leave may be "
    "carried over into the next leave year.\n",
    "hr/salary.md": "---\ngroups: [hr]\n---\n# Salary Bands\n\nThe merit budget is 4 percent of "
    "total base payroll.\n\nPromotions come with a raise of at least 8 percent of salary.\n",
}


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    for name, text in DOCS.items():
        write(tmp_path / "docs" / name, text)
    assert not hash_project.ingest([tmp_path / "docs"]).by_status("failed")
    return hash_project


@pytest.fixture
def builder() -> PromptBuilder:
    gen = QueuedGenerator([])
    return PromptBuilder(gen.count_tokens, 4096, 64, "SYS", "BASE", 500)


def raft(project: Project, builder: PromptBuilder, **kw: Any) -> dict[str, list[dict]]:
    kw = {"name": "raft", "seed": 3, "k": 2, **kw}
    build_raft_dataset(project, builder=builder, **kw)
    return {s: load_split(project, kw["name"], s) for s in SPLITS}


def hits_of(project: Project, chunk_ids: list[str]) -> list[ScoredChunk]:
    by_id = {}
    for doc in project.documents():
        for c in project.store.chunks_of(doc.id):
            meta = {**doc.metadata, "groups": list(doc.groups), "format": doc.format}
            by_id[c.id] = ScoredChunk(c, 1.0, doc.title, metadata=meta)
    return [by_id[i] for i in chunk_ids]


def test_same_questions_and_split_as_the_plain_dataset(
    project: Project, builder: PromptBuilder
) -> None:
    build_dataset(project, name="plain", seed=3)
    rows = raft(project, builder)
    for split in SPLITS:
        plain = {(r.fact_id, r.user_text, r.test_kind)
                 for r in load_split(project, "plain", split)}  # fmt: skip
        ours = {(r.fact_id, r.question, r.test_kind) for r in rows[split]}
        assert ours == plain and ours, split
    trained = {r.question for s in ("train", "validation") for r in rows[s]}
    assert not trained & {r.question for r in rows["test"]}  # no test question trained on
    held = {r.doc_id for r in rows["test"] if r.test_kind == "heldout_doc"}
    assert held
    doc_of = {c.id: d.id for d in project.documents() for c in project.store.chunks_of(d.id)}
    seen = {doc_of[i] for s in ("train", "validation") for r in rows[s]
            for i in r.extra["raft"]["chunk_ids"]}  # fmt: skip
    assert not seen & held  # held-out documents are not even shown as distractors


def test_oracle_share_targets_and_serving_prompt(project: Project, builder: PromptBuilder) -> None:
    rows = raft(project, builder, p_missing=0.25)
    card = json.loads((project.state_dir / "datasets" / "raft" / "card.json").read_text())
    record = card["raft"]
    assert record["k"] == 2 and record["p_missing"] == 0.25
    for split in SPLITS:
        missing = [r for r in rows[split] if not r.extra["raft"]["oracle"]]
        assert len(missing) == round(len(rows[split]) * 0.25) == record["oracle_missing"][split]
        assert len(rows[split]) - len(missing) == record["oracle_present"][split]
    all_rows = [r for s in SPLITS for r in rows[s]]
    assert len({tuple(r.extra["raft"]["chunk_ids"]) for r in all_rows}) > 1
    for r in all_rows:
        ids, info, target = r.extra["raft"]["chunk_ids"], r.extra["raft"], r.answer
        hits = hits_of(project, ids)
        # The exact prompt the rag strategy builds for these passages.
        assert r.messages[:-1] == builder.rag(r.question, hits).messages
        assert r.messages[0] == {"role": "system", "content": "SYS"}
        oracle = r.source["chunk_id"]
        if info["oracle"]:
            assert ids[info["marker"] - 1] == oracle and ids.count(oracle) == 1
            assert target == cite(info["answer"], info["marker"])
            assert f"[{info['marker']}]" in target
        else:
            assert oracle not in ids and info["marker"] is None and target == CANNOT_ANSWER
        others = [h for h in hits if h.chunk.id != oracle]
        assert len(others) <= 2
        assert not any(supported(info["answer"], h.chunk.text) for h in others)


def test_distractors_come_from_the_retriever_and_skip_restricted(
    project: Project, builder: PromptBuilder
) -> None:
    rows = raft(project, builder, k=3, p_missing=0.0)
    restricted = {d.id for d in project.documents() if d.groups}
    doc_of = {c.id: d.id for d in project.documents() for c in project.store.chunks_of(d.id)}
    for r in rows["train"]:
        assert r.extra["raft"]["oracle"]
        found = project.search(r.question, k=19, groups=[])
        retrieved = {h.chunk.id for h in found}
        others = [i for i in r.extra["raft"]["chunk_ids"] if i != r.source["chunk_id"]]
        assert set(others) <= retrieved
        assert not {doc_of[i] for i in others} & restricted
    everyone = raft(project, builder, name="all", k=3, include_restricted=True)
    seen = {doc_of[i] for s in SPLITS for r in everyone[s] for i in r.extra["raft"]["chunk_ids"]}
    assert seen & restricted


def test_seeded_and_all_or_nothing_shares(project: Project, builder: PromptBuilder) -> None:
    card1, _ = build_raft_dataset(project, name="a", seed=1, k=2, builder=builder)
    card2, _ = build_raft_dataset(project, name="b", seed=1, k=2, builder=builder)
    card3, _ = build_raft_dataset(project, name="c", seed=2, k=2, builder=builder)
    assert card1.files_sha256 == card2.files_sha256 != card3.files_sha256
    none = raft(project, builder, name="none", p_missing=0.0)
    assert all(r.extra["raft"]["oracle"] for s in SPLITS for r in none[s])
    allgone = raft(project, builder, name="allgone", p_missing=1.0)
    assert all(r.answer == CANNOT_ANSWER for s in SPLITS for r in allgone[s])
    names = [p.name for p in (project.state_dir / "datasets").iterdir()]
    assert not [n for n in names if n.startswith("raft-source")]  # the temporary is removed


def test_rows_train_unchanged(project: Project, builder: PromptBuilder) -> None:
    raft(project, builder)
    rows = load_examples(project, "raft", "train", ("qa", "style", "import", "raw"))
    assert rows and all(r.messages[0]["role"] == "system" for r in rows)
    assert all(r.messages[-1]["role"] == "assistant" for r in rows)


def test_bad_options_refused(project: Project, builder: PromptBuilder) -> None:
    for kw, message in [
        ({"k": 0}, "--raft-k must be between 1 and 20, got 0"),
        ({"p_missing": 1.5}, "--raft-p-missing must be in [0, 1], got 1.5"),
        ({"name": "bad name"}, "bad dataset name 'bad name'"),
    ]:
        with pytest.raises(UsageError, match=re.escape(message)):
            build_raft_dataset(project, builder=builder, **kw)
    build_raft_dataset(project, name="x", builder=builder, k=1)
    with pytest.raises(UsageError, match="dataset 'x' already exists"):
        build_raft_dataset(project, name="x", builder=builder, k=1)


def test_cite_puts_the_marker_inside_the_sentence() -> None:
    assert cite("New hires get 25 days.", 2) == "New hires get 25 days [2]."
    assert cite("Is it allowed?", 1) == "Is it allowed [1]?"
    assert cite("A list item;", 3) == "A list item [3]."
    assert cite("No stop", 1) == "No stop [1]."
