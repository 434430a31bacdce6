"""`ragtune data build`: offline QA, imports, filters, seeded splits and the file contract."""

import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest
from tests.conftest import write
from tests.helpers.fakes import QueuedGenerator

from ragtune.errors import NotFoundError, RagtuneError, UsageError
from ragtune.finetune.data import (
    SPLITS,
    build_dataset,
    check_leakage,
    list_datasets,
    load_card,
    load_split,
)
from ragtune.finetune.imports import parse_qa_reply, supported
from ragtune.finetune.qa_offline import clean_text, facts_from_document
from ragtune.project import Project

DOCS = {
    "hr/leave.md": "# Leave Policy\n\n## Entitlement\n\nA full-time employee is entitled to 25 "
    "working days of paid annual leave per leave year.\n\n## Carry over\n\nUp to 5 days of "
    "unused leave may be carried over into the next leave year.\n",
    "hr/requests.md": "# Leave Requests\n\nManagers should approve or decline a request within 3 "
    "working days.\n\nEmployees must give at least 10 working days of notice for long absences.\n",
    "it/vpn.md": "# VPN Guide\n\nThe VPN disconnects idle sessions after 30 minutes.\n\n"
    "Passwords must contain at least 14 characters.\n",
    "finance/expenses.md": "# Expense Policy\n\nExpense claims must be submitted within 60 days "
    "of the date the expense was incurred.\n\nClaims over EUR 1,000 also require approval from "
    "the Head of Department.\n",
    "product/api.md": "# API Reference\n\nThe API allows 600 requests per minute per token.\n\n"
    "Cursors expire after 15 minutes.\n",
    "product/sla.md": "# Support SLA\n\nUrgent tickets receive a first response within 2 hours."
    "\n\nThe uptime commitment is 99.9 percent of each calendar month.\n",
    "hr/salary.md": "---\ngroups: [hr]\n---\n# Salary Bands\n\nThe merit budget is 4 percent of "
    "total base payroll.\n\nPromotions come with a raise of at least 8 percent of salary.\n",
}
KEYS = {"id", "kind", "messages", "fact_id", "source", "test_kind"}


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    for name, text in DOCS.items():
        write(tmp_path / "docs" / name, text)
    report = hash_project.ingest([tmp_path / "docs"])
    assert not report.by_status("failed")
    return hash_project


def lines(card_path: Path, split: str) -> list[str]:
    return (card_path / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()


def jsonl(path: Path, rows: list[object]) -> Path:
    return write(path, "".join(json.dumps(r) + "\n" for r in rows))


def test_files_follow_the_contract(project: Project) -> None:
    card = build_dataset(project, name="d", seed=0)
    assert card.path == project.state_dir / "datasets" / "d"
    ids = []
    for split in SPLITS:
        for line in lines(card.path, split):
            row = json.loads(line)
            assert line == json.dumps(row, sort_keys=True, ensure_ascii=False)
            assert set(row) == KEYS and row["kind"] == "qa" and row["id"].startswith("qa-")
            assert [m["role"] for m in row["messages"]] == ["user", "assistant"]
            assert set(row["source"]) == {"doc_id", "chunk_id", "start", "end"}
            assert (row["test_kind"] is None) == (split != "test")
            ids.append(row["id"])
    assert len(ids) == len(set(ids)) == sum(card.counts[s] for s in SPLITS)
    saved = json.loads((card.path / "card.json").read_text())
    assert saved == card.to_dict() and saved["schema_version"] == 1
    assert set(saved) == {"schema_version", "name", "created", "seed", "split_method", "counts",
                          "sources", "filters", "files_sha256", "hash", "generator"}  # fmt: skip
    shas = {f"{s}.jsonl": hashlib.sha256((card.path / f"{s}.jsonl").read_bytes()).hexdigest()
            for s in SPLITS}  # fmt: skip
    assert saved["files_sha256"] == shas and saved["generator"] == "offline"
    assert saved["sources"] == {"qa_offline": len(ids), "style": 0, "import": 0, "raw": 0}
    assert card.counts["test"] == card.counts["test_paraphrase"] + card.counts["test_heldout_doc"]
    assert [c.name for c in list_datasets(project)] == ["d"]
    assert load_card(project, "d").hash == card.hash


def test_same_seed_same_bytes_other_seed_other_split(project: Project) -> None:
    a = build_dataset(project, name="a", seed=0)
    b = build_dataset(project, name="b", seed=0)
    c = build_dataset(project, name="c", seed=1)
    for split in SPLITS:
        assert (a.path / f"{split}.jsonl").read_bytes() == (b.path / f"{split}.jsonl").read_bytes()
    assert a.hash == b.hash and a.files_sha256 == b.files_sha256
    assert c.hash != a.hash
    assert sorted(r.id for s in SPLITS for r in load_split(project, "c", s)) == sorted(
        r.id for s in SPLITS for r in load_split(project, "a", s)
    )  # the same examples, distributed differently


def test_paraphrases_of_trained_facts_and_unseen_documents(project: Project) -> None:
    build_dataset(project, name="d", seed=0)
    train, val, test = (load_split(project, "d", s) for s in SPLITS)
    trained_facts = {r.fact_id for r in train}
    paraphrase = [r for r in test if r.test_kind == "paraphrase"]
    heldout = [r for r in test if r.test_kind == "heldout_doc"]
    assert paraphrase and heldout and len(paraphrase) + len(heldout) == len(test)
    assert all(r.fact_id in trained_facts for r in paraphrase)
    held_docs = {r.doc_id for r in heldout}
    assert held_docs and not held_docs & {r.doc_id for r in train + val}
    assert not {r.fact_id for r in heldout} & trained_facts
    seen = {r.user_text.lower() for r in train + val}
    assert not any(r.user_text.lower() in seen for r in test)


def test_every_answer_is_supported_by_an_exact_source_span(project: Project) -> None:
    build_dataset(project, name="d")
    rows = [r for s in SPLITS for r in load_split(project, "d", s)]
    assert len({r.fact_id for r in rows}) >= 8
    for row in rows:
        src, answer = row.source, row.answer
        doc = project.document(src["doc_id"])
        chunk = next(c for c in project.store.chunks_of(doc.id) if c.id == src["chunk_id"])
        assert chunk.start <= src["start"] < src["end"] <= chunk.end
        assert clean_text(doc.text[src["start"] : src["end"]]) == answer
        assert supported(answer, chunk.text)
        assert _words(row.user_text) not in _words(chunk.text)  # not copied verbatim


def _words(text: str) -> str:
    return " " + " ".join("".join(c if c.isalnum() else " " for c in text.lower()).split()) + " "


def test_offline_questions_read_like_questions(project: Project) -> None:
    doc = project.document("hr/leave.md")
    facts = facts_from_document(doc, project.store.chunks_of(doc.id))
    questions = {q for f in facts for q in f.questions}
    assert "How many days of unused leave may be carried over into the next leave year?" in (
        questions
    )
    assert (
        "What is the maximum number of days of unused leave that may be carried over into the "
        "next leave year?" in questions
    )
    assert (
        "How many working days of paid annual leave is a full-time employee entitled to per "
        "leave year?" in questions
    )
    assert any(q.startswith("According to the Leave Policy, ") for q in questions)


def test_leakage_check_raises_on_a_crafted_leak(project: Project) -> None:
    build_dataset(project, name="d")
    splits = {s: load_split(project, "d", s) for s in SPLITS}
    check_leakage(splits)  # the built dataset is clean
    paraphrase = next(r for r in splits["test"] if r.test_kind == "paraphrase")
    leaked = {**splits, "train": [*splits["train"], paraphrase.tested_as(None)]}
    with pytest.raises(RagtuneError, match="leakage: 1 test item"):
        check_leakage(leaked)
    heldout = next(r for r in splits["test"] if r.test_kind == "heldout_doc")
    messages = [{"role": "user", "content": "A different question here?"}, heldout.messages[-1]]
    other = replace(heldout, messages=messages)
    with pytest.raises(RagtuneError, match="leakage"):
        check_leakage({**splits, "validation": [*splits["validation"], other]})


def test_restricted_documents_are_skipped_unless_included(project: Project) -> None:
    card = build_dataset(project, name="public")
    docs = {r.doc_id for s in SPLITS for r in load_split(project, "public", s)}
    assert "hr/salary.md" not in docs and "restricted" in card.warnings[0]
    build_dataset(project, name="all", include_restricted=True)
    docs = {r.doc_id for s in SPLITS for r in load_split(project, "all", s)}
    assert "hr/salary.md" in docs


def test_import_schemas(project: Project, tmp_path: Path) -> None:
    path = jsonl(tmp_path / "mine.jsonl", [
        {"question": "Where is the head office?", "answer": "In Harrowgate."},
        {"instruction": "Summarise the text below.", "input": "Leave is 25 days.",
         "output": "Twenty-five days of leave."},
        {"instruction": "Name the VPN client in one word.", "input": "", "output": "Tunnelblick."},
        {"messages": [{"role": "system", "content": "Be brief."},
                      {"role": "user", "content": "Who owns the leave policy?"},
                      {"role": "assistant", "content": "The Chief People Officer."}]},
    ])  # fmt: skip
    card = build_dataset(project, name="imp", imports=[path], qa=False)
    rows = {r.user_text: r for s in SPLITS for r in load_split(project, "imp", s)}
    assert card.sources["import"] == 4 == len(rows) and card.sources["qa_offline"] == 0
    assert rows["Summarise the text below.\n\nLeave is 25 days."].messages[1]["content"] == (
        "Twenty-five days of leave."
    )
    assert "Name the VPN client in one word." in rows
    system = rows["Who owns the leave policy?"].messages
    assert [m["role"] for m in system] == ["system", "user", "assistant"]
    row = rows["Where is the head office?"]
    assert row.kind == "import" and row.source is None and row.id.startswith("import-")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{bad json", "invalid JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ('{"question": "Why?"}', "field 'answer' is missing"),
        ('{"question": "  ", "answer": "Because."}', "field 'question' is empty"),
        ('{"question": 5, "answer": "Because."}', "field 'question' must be a string, got int"),
        ('{"instruction": "Do it.", "output": ["x"]}', "field 'output' must be a string, got list"),
        ('{"messages": []}', "field 'messages' must be a non-empty list"),
        ('{"messages": [{"role": "bot", "content": "hi"}]}', "messages[0]: unknown role 'bot'"),
        (
            '{"messages": [{"role": "user", "content": "hi"}]}',
            "the last message must be from the assistant, got 'user'",
        ),
        (
            '{"messages": [{"role": "user"}, {"role": "assistant", "content": "x"}]}',
            "messages[0]: field 'content' is missing",
        ),
        ('{"prompt": "x", "completion": "y"}', "unknown schema (keys: completion, prompt)"),
    ],
)
def test_each_bad_import_line_is_reported_with_its_number(
    project: Project, tmp_path: Path, line: str, message: str
) -> None:
    good = json.dumps({"question": "Where is the office?", "answer": "Harrowgate."})
    path = write(tmp_path / "bad.jsonl", f"{good}\n{line}\n{good}\n")
    with pytest.raises(UsageError) as err:
        build_dataset(project, name="x", imports=[path])
    assert f"1 invalid line(s) in {path}: {path}:2: {message}" in str(err.value)
    assert "--skip-invalid" in str(err.value)


def test_many_errors_are_listed_with_a_count(project: Project, tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", "{oops\n" * 25)
    with pytest.raises(UsageError, match=r"25 invalid line\(s\).*:20: .*\.\.\. and 5 more"):
        build_dataset(project, name="x", imports=[path])


def test_skip_invalid_keeps_the_good_lines(project: Project, tmp_path: Path) -> None:
    good = [{"question": f"What is rule number {i}?", "answer": f"Rule {i}."} for i in range(5)]
    path = write(tmp_path / "m.jsonl", "\n".join([json.dumps(good[0]), '{"question": "Q?"}',
                 *map(json.dumps, good[1:])]) + "\n")  # fmt: skip
    card = build_dataset(project, name="x", imports=[path], skip_invalid=True)
    assert card.sources["import"] == 5
    assert any(f"{path}:2: field 'answer' is missing" in w for w in card.warnings)


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_empty_import_file(project: Project, tmp_path: Path, text: str) -> None:
    path = write(tmp_path / "empty.jsonl", text)
    with pytest.raises(UsageError, match="holds no training examples: it is empty"):
        build_dataset(project, name="x", imports=[path])
    with pytest.raises(NotFoundError, match="import file not found"):
        build_dataset(project, name="x", imports=[tmp_path / "missing.jsonl"])


def test_too_small_dataset(hash_project: Project, tmp_path: Path) -> None:
    pairs = [{"question": f"What is item number {i}?", "answer": "An item."} for i in range(2)]
    path = jsonl(tmp_path / "two.jsonl", pairs)
    with pytest.raises(
        UsageError, match=r"too few examples to split: 2 \(train 0, validation 1, test 1\)"
    ):
        build_dataset(hash_project, name="x", imports=[path], qa=False)
    with pytest.raises(UsageError, match="no documents are ingested"):
        build_dataset(hash_project, name="x")


def test_filters_are_counted(project: Project, tmp_path: Path) -> None:
    long_q = "How many days of paid annual leave does a full time employee of the company get "
    long_q += "each year in total when the year is a normal one"
    rows = [
        {"question": "What colour is the office door?", "answer": "Blue."},
        {"question": "what colour is the office door", "answer": "Blue, again."},  # duplicate
        {"question": long_q + " here?", "answer": "25 days.", "fact_id": "f1"},
        {"question": long_q + " there?", "answer": "25 days.", "fact_id": "f1"},  # same fact
        {"question": long_q + " overall?", "answer": "25 days.", "fact_id": "f2"},  # near dup
        {"question": "Leave?", "answer": "Yes."},  # question too short
        {"question": "Tell me everything about leave?", "answer": "word " * 600},  # too long
        *(
            {"question": f"Which rule has the number {i}?", "answer": f"Rule {i}."}
            for i in range(6)
        ),
    ]
    card = build_dataset(project, name="x", imports=[jsonl(tmp_path / "f.jsonl", rows)], qa=False)
    assert card.filters == {"dropped_duplicates": 1, "dropped_near_duplicates": 1,
                            "dropped_length": 2, "dropped_unsupported": 0,
                            "dropped_unclear_questions": 0,  # imports are the user's own
                            "dropped_unclear_passages": 0}  # fmt: skip
    assert card.sources["import"] == 9


def test_style_and_raw_kinds(project: Project, tmp_path: Path) -> None:
    style = jsonl(tmp_path / "style.jsonl", [
        {"question": f"Can I do thing number {i}?", "answer": f"Short answer: yes ({i})."}
        for i in range(10)
    ])  # fmt: skip
    card = build_dataset(project, name="x", style=style, raw=True)
    splits = {s: load_split(project, "x", s) for s in SPLITS}
    styles = [r for rows in splits.values() for r in rows if r.kind == "style"]
    assert len(styles) == 10 == card.sources["style"] == len({r.fact_id for r in styles})
    assert all(r.source is None and r.id.startswith("style-") for r in styles)
    raw = [r for rows in splits.values() for r in rows if r.kind == "raw"]
    assert raw and not any(r.kind == "raw" for r in splits["test"])
    assert all(r.messages is None and r.text and r.source["chunk_id"] for r in raw)
    held = {r.doc_id for r in splits["test"] if r.test_kind == "heldout_doc"}
    assert held and not held & {r.doc_id for r in raw}
    assert card.sources["raw"] == len(raw) < project.store.count_chunks()


def test_existing_dataset_needs_force(project: Project) -> None:
    first = build_dataset(project, name="d")
    with pytest.raises(UsageError, match="dataset 'd' already exists"):
        build_dataset(project, name="d")
    again = build_dataset(project, name="d", force=True)
    assert again.hash == first.hash


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"name": "../evil"}, "bad dataset name"),
        ({"phrasings": 0}, "phrasings must be between 1 and 10"),
        ({"heldout_docs": 1.5}, "heldout_docs must be in"),
        ({"split": (0.5, 0.1, 0.1)}, "split must be 3 fractions"),
    ],
)
def test_bad_options(project: Project, options: dict, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_dataset(project, **{"name": "x", **options})


def test_load_errors(project: Project) -> None:
    with pytest.raises(NotFoundError, match="no dataset named 'nope'"):
        load_split(project, "nope", "train")
    build_dataset(project, name="d")
    with pytest.raises(UsageError, match="unknown split 'dev'"):
        load_split(project, "d", "dev")


def test_parse_qa_reply() -> None:
    reply = (
        "Here you go:\nQ: How long?\nQ2: For how long?\nA: Ten days.\n\n1. Q: Who?\nA: Ann.\nA: x"
    )
    assert parse_qa_reply(reply) == [
        (["How long?", "For how long?"], "Ten days."),
        (["Who?"], "Ann."),
    ]


def test_a_model_can_write_the_pairs(project: Project) -> None:
    docs = [d for d in project.documents() if not d.groups]
    replies = []
    for doc in docs:
        for chunk in project.store.chunks_of(doc.id):
            sentence = chunk.text.strip().splitlines()[-1]
            replies.append(
                f"Q: What does {doc.title} state, first?\nQ: Can you tell me what "
                f"the 1st argument is?\nQ: What does {doc.title} state, second?\n"
                f"A: {sentence}\n\nQ: What is on the moon?\nA: Cheese worth EUR 99."
                f"\n\nQ: {sentence.rstrip('.')}?\nA: {sentence}\n\n"
                f"Q: What does the {doc.id} file say in 5.2.1. Intro?\nA: {sentence}"
            )
    gen = QueuedGenerator(replies)
    card = build_dataset(project, name="m", generator=gen, phrasings=2)  # type: ignore[arg-type]
    assert not gen.replies and "Passage from" in gen.prompts[0][-1]["content"]
    assert "make sense on its own" in gen.prompts[0][-1]["content"]
    assert card.generator == "queued:queued-model" and card.sources["qa_offline"] == 0
    assert card.sources["qa_model"] == 2 * len(replies)
    assert card.filters["dropped_unsupported"] == 2 * len(replies)  # moon answers, copies
    # "the 1st argument" (the third phrasing stands in) and the file-name question
    assert card.filters["dropped_unclear_questions"] == 2 * len(replies)
    assert card.filters["dropped_unclear_passages"] == len(replies)  # the file-name fact
    rows = [r for s in SPLITS for r in load_split(project, "m", s)]
    assert all("moon" not in r.user_text and "1st" not in r.user_text for r in rows)
    assert {r.test_kind for r in rows} == {None, "paraphrase", "heldout_doc"}


@pytest.mark.slow
def test_the_bundled_sample(sample_project: Project) -> None:
    card = build_dataset(sample_project, name="sample-test", force=True)
    rows = [r for s in SPLITS for r in load_split(sample_project, "sample-test", s)]
    assert card.sources["qa_offline"] == len(rows) >= 100
    assert card.counts["test_paraphrase"] > 0 and card.counts["test_heldout_doc"] > 0
    restricted = {d.id for d in sample_project.documents() if d.groups}
    chunks = {c.id: c for d in sample_project.documents() for c in
              sample_project.store.chunks_of(d.id)}  # fmt: skip
    for row in rows:
        src, answer = row.source, row.answer
        assert src["doc_id"] not in restricted
        assert supported(answer, chunks[src["chunk_id"]].text)
        text = sample_project.document(src["doc_id"]).text
        assert clean_text(text[src["start"] : src["end"]]) == answer
    per_doc: dict[str, set[str]] = {}
    for row in rows:
        per_doc.setdefault(row.doc_id, set()).add(row.fact_id)
    assert 3 <= sum(map(len, per_doc.values())) / len(per_doc) <= 10
