"""The false-abstention check and its guard, with a fake generator refusing a known share."""

import json
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.conftest import write
from tests.helpers.fakes import QueuedGenerator

from ragtune.cli.main import cli
from ragtune.errors import ConfigError
from ragtune.finetune import abstention
from ragtune.finetune.abstention import (
    FalseAbstentionError,
    check_adapter,
    check_limit,
    describe,
    judge,
    measure,
    probes,
    teaches_abstention,
)
from ragtune.finetune.adapters import AdapterInfo, adapter_dir, load_info, save_metadata
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.rows import TrainingRow
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.project import Project

LEAVE = "# Leave\n\nA full-time employee gets 25 days of paid annual leave per year.\n"
VPN = "# VPN\n\nThe VPN disconnects idle sessions after 30 minutes.\n"
QUESTIONS = [
    "How many days of annual leave do I get?",
    "When does the VPN disconnect idle sessions?",
    "How much paid leave does a full-time employee get?",
    "After how long are idle VPN sessions cut?",
]


def raft_row(question: str, answer: str, oracle: bool = True) -> dict[str, Any]:
    """A RAFT validation row as build_raft_dataset writes it (prompt abbreviated)."""
    messages = [
        {"role": "system", "content": "SYS"},
        {"role": "user", "content": f"[1] passage\n\nQuestion: {question}"},
        {"role": "assistant", "content": answer if oracle else CANNOT_ANSWER},
    ]
    return {"id": question, "kind": "qa", "messages": messages, "question": question,
            "raft": {"oracle": oracle, "marker": 1 if oracle else None}}  # fmt: skip


def rows() -> list[TrainingRow]:
    answerable = [raft_row(q, "An answer [1].") for q in QUESTIONS]
    dicts = answerable + [raft_row(q, "", oracle=False) for q in QUESTIONS[:2]]
    return [TrainingRow.from_dict(r) for r in dicts]


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    write(tmp_path / "docs" / "leave.md", LEAVE)
    write(tmp_path / "docs" / "vpn.md", VPN)
    assert not hash_project.ingest([tmp_path / "docs"]).by_status("failed")
    hash_project.settings.abstention.enabled = False  # every question reaches the model
    return hash_project


def fake(replies: list[str]) -> QueuedGenerator:
    return QueuedGenerator(replies)


def test_probes_ask_raft_questions_and_replay_oracle_free_prompts() -> None:
    plain = TrainingRow("p", "qa", "p", [{"role": "user", "content": "q?"},
                                         {"role": "assistant", "content": "a."}])  # fmt: skip
    items = probes([*rows(), plain, TrainingRow("x", "raw", "x", text="x")], "BASE", cap=3)
    assert [(p.question, p.answerable, p.messages is None) for p in items] == [
        (QUESTIONS[0], True, True), (QUESTIONS[1], True, True), (QUESTIONS[2], True, True),
        (QUESTIONS[0], False, False),  # a quarter of the cap, at least one
    ]  # fmt: skip
    assert len(probes(rows(), "BASE", cap=8)) == 4 + 2
    assert items[3].messages == (rows()[4].messages or [])[:-1]  # the prompt without its oracle
    # A non-RAFT example is replayed with the system message training gave it.
    (only,) = probes([plain], "BASE", cap=5)
    assert only.messages == [{"role": "system", "content": "BASE"}, (plain.messages or [])[0]]
    assert teaches_abstention(rows()) and not teaches_abstention([*rows()[:4], plain])


def test_measure_counts_a_known_share_of_refusals(project: Project) -> None:
    # 1 of 4 answerable questions refused (25 %), 1 of 2 oracle-free prompts refused (50 %).
    gen = fake([CANNOT_ANSWER, "25 days [1].", "After 30 minutes [1].", "25 days [1].",
                CANNOT_ANSWER, "Maybe 30 minutes."])  # fmt: skip
    record = measure(project, "raft-a", rows(), make_generator=lambda: gen)
    assert record["answerable"] == 4 and record["false_abstentions"] == 1
    assert record["false_abstention"] == 0.25 and record["by_threshold"] == 0
    assert record["oracle_free"] == 2 and record["true_abstention"] == 0.5
    assert record["refused_examples"] == [QUESTIONS[0]]
    # One batch, answerable questions first: raft+rag's own prompt (retrieved passages), then
    # the stored oracle-free prompts as they were built.
    assert len(gen.prompts) == 6 and not gen.replies
    assert "25 days of paid annual leave" in gen.prompts[0][-1]["content"]
    assert gen.prompts[4] == (rows()[4].messages or [])[:-1]


def test_threshold_refusals_are_told_apart_and_not_the_adapters(project: Project) -> None:
    project.settings.abstention.enabled = True
    project.settings.abstention.threshold = 1.0  # no evidence is that good: all refused
    gen = fake(["x", CANNOT_ANSWER])  # only the two oracle-free prompts reach the model
    record = measure(project, "raft-a", rows(), make_generator=lambda: gen)
    assert record["false_abstention"] == 1.0 and record["by_threshold"] == 4
    assert record["true_abstention"] == 0.5 and len(gen.prompts) == 2
    assert "4 of them by the retrieval abstention threshold" in describe(record)
    judged = judge(record, 10.0)
    # Nothing answerable reached the model: the threshold refused it all, as it would for rag.
    assert judged["passed"] is None and judged["model_false_abstention"] is None
    check_limit(AdapterInfo(name="r", method="lora", base_model="b", base_model_path="/b",
                            dataset="raft", abstention=judged))  # fmt: skip
    # The adapter's own refusals of what reached it are what the guard judges.
    mixed = {**record, "false_abstentions": 5}  # 4 by threshold of 6 asked, 1 of 2 by the model
    mixed["answerable"] = 6
    judged = judge(mixed, 10.0)
    assert judged["passed"] is False and judged["model_false_abstention"] == 0.5
    info = AdapterInfo(name="r", method="lora", base_model="b", base_model_path="/b",
                       dataset="raft", abstention=judged)  # fmt: skip
    with pytest.raises(FalseAbstentionError, match=r"lower abstention\.threshold"):
        check_limit(info)


def test_guard_limits_and_messages() -> None:
    record = {"answerable": 4, "false_abstentions": 1, "false_abstention": 0.25,
              "by_threshold": 0, "oracle_free": 2, "true_abstentions": 1,
              "true_abstention": 0.5}  # fmt: skip
    assert judge(record, 30.0)["passed"] is True
    assert judge(record, 25.0)["passed"] is True  # the limit itself is allowed
    at = {**record, "answerable": 50, "false_abstentions": 7, "false_abstention": 7 / 50}
    assert judge(at, 14.0)["passed"] is True  # 100 * (7 / 50) > 14 in floating point
    assert judge({**at, "false_abstentions": 8}, 14.0)["passed"] is False
    assert judge(record, None)["passed"] is None
    assert judge({**record, "answerable": 0, "false_abstention": None}, 10.0)["passed"] is None
    info = AdapterInfo(name="r", method="lora", base_model="b", base_model_path="/b",
                       dataset="raft", abstention=judge(record, 10.0))  # fmt: skip
    with pytest.raises(FalseAbstentionError) as caught:
        check_limit(info)
    text = str(caught.value)
    assert "adapter 'r' saved but fails the false-abstention check" in text
    assert "refused 1/4 answerable validation questions (25 %, limit 10 %)" in text
    assert "refused 1/2 oracle-free prompts (50 %)" in text
    assert "--max-steps" in text and "--raft-p-missing" in text and "--lr" in text
    assert "\n" not in text and caught.value.info is info
    check_limit(AdapterInfo(name="r", method="lora", base_model="b", base_model_path="/b",
                            dataset="raft", abstention=judge(record, 30.0)))  # fmt: skip
    with pytest.raises(ConfigError, match="max_false_abstention"):
        TuneConfig(name="a", max_false_abstention=150)
    assert TuneConfig(name="a").max_false_abstention == 10.0


def test_failing_adapter_is_saved_and_flagged(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = AdapterInfo(name="raft-a", method="lora", base_model="b", base_model_path="/b",
                       dataset="raft")  # fmt: skip
    adapter_dir(project, "raft-a").mkdir(parents=True)
    save_metadata(adapter_dir(project, "raft-a"), info)
    gen = fake([CANNOT_ANSWER] * 3 + ["25 days [1].", CANNOT_ANSWER, CANNOT_ANSWER])
    monkeypatch.setattr(abstention, "measure", partial(measure, make_generator=lambda: gen))
    config = TuneConfig(name="raft-a", dataset="raft")
    with pytest.raises(FalseAbstentionError, match=r"refused 3/4 .* \(75 %, limit 10 %\)"):
        check_adapter(project, config, info, rows())
    saved = load_info(project, "raft-a").abstention
    assert saved["passed"] is False and saved["false_abstention"] == 0.75
    assert saved["true_abstention"] == 1.0 and saved["max_false_abstention_pct"] == 10.0
    listed = CliRunner().invoke(cli, ["-C", str(project.root), "adapters", "list"])
    assert " 75 % > 10 % " in listed.output and "1 adapters" in listed.output, listed.output


def test_tune_cli_passes_the_limit_and_prints_the_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Project.init(tmp_path / "p").close()
    seen: list[TuneConfig] = []
    record = judge({"answerable": 8, "false_abstentions": 6, "false_abstention": 0.75,
                    "by_threshold": 0, "oracle_free": 0, "true_abstentions": 0,
                    "true_abstention": None}, 5.0)  # fmt: skip

    def train(_project: Project, config: TuneConfig, **_kw: Any) -> AdapterInfo:
        seen.append(config)
        raise FalseAbstentionError(AdapterInfo(name=config.name, method="lora", base_model="b",
                                               base_model_path="/b", dataset="raft",
                                               abstention=record))  # fmt: skip

    monkeypatch.setattr("ragtune.finetune.train.train", train)
    args = ["-C", str(tmp_path / "p"), "tune", "--name", "r", "--dataset", "raft"]
    result = CliRunner().invoke(cli, [*args, "--max-false-abstention", "5"])
    assert result.exit_code == 1 and seen[-1].max_false_abstention == 5.0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "refused 6/8 answerable validation questions (75 %" in lines[0]
    result = CliRunner().invoke(cli, [*args, "--max-false-abstention", "101"])
    assert result.exit_code == 2 and "101" in result.output


def test_pilot_records_the_check_and_keeps_a_failing_adapter(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ragtune.cli.pilot import _abstention_line
    from ragtune.pilot import steps
    from ragtune.pilot.run import RAFT

    record = judge({"answerable": 4, "false_abstentions": 3, "false_abstention": 0.75,
                    "by_threshold": 0, "oracle_free": 0, "true_abstentions": 0,
                    "true_abstention": None}, 10.0)  # fmt: skip
    info = AdapterInfo(name=RAFT, method="lora", base_model="b", base_model_path="/b",
                       dataset="raft-train", abstention=record)  # fmt: skip
    seen: list[TuneConfig] = []

    def train(_project: Project, config: TuneConfig, **_kw: Any) -> AdapterInfo:
        seen.append(config)
        adapter_dir(project, RAFT).mkdir(parents=True)
        save_metadata(adapter_dir(project, RAFT), info)
        raise FalseAbstentionError(info)

    monkeypatch.setattr("ragtune.finetune.train.train", train)
    folder = project.state_dir / "datasets" / "raft"
    write(folder / "train.jsonl", "".join(json.dumps(r.to_dict()) + "\n" for r in rows()))
    out = steps.tune(project, RAFT, "raft", 2, ("qa",), 0, lambda _d, _t: None)
    assert out["created"] == f"{RAFT}@{info.created}"  # the pilot goes on with it
    assert seen[0].abstention_dataset == "raft" and seen[0].dataset == "raft-train"
    assert seen[0].max_false_abstention == 10.0
    checks = steps.abstention_checks(project, ("rag", "ft", "raft+rag"))
    assert checks == {RAFT: record}  # pilot-knowledge: not trained, so not listed
    assert "FAILS the limit" in _abstention_line(RAFT, record)
    assert steps.recipe("raft")["abstention"] == {"limit_pct": 10.0, "questions": 32}
    assert "abstention" not in steps.recipe("default")
