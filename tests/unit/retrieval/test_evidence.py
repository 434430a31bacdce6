"""Evidence scoring, calibration and the extract strategy (fast: hash embedder, real store)."""

from pathlib import Path

import pytest
from tests.conftest import write

from ragtune.errors import LoadError, UsageError
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.paths import ProjectPaths
from ragtune.project import Project
from ragtune.retrieval.answerability import (
    DEFAULT_THRESHOLD,
    Calibration,
    calibrate,
    resolve_threshold,
)
from ragtune.retrieval.evidence import EvidenceScorer, split_sentences, stem


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    write(
        tmp_path / "d" / "leave.md",
        "# Leave\n\nNew hires get 25 days of annual leave. Unused days expire in March.\n",
    )
    write(tmp_path / "d" / "vpn.md", "# VPN\n\nThe VPN uses port 443. Ask IT for access.\n")
    hash_project.ingest([tmp_path / "d"])
    return hash_project


def test_sentences_keep_offsets() -> None:
    text = "First one. Second one!\n- a list item\n- wrapped\n  item\n\nNo end"
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "First one.", "Second one!", "- a list item", "- wrapped\n  item", "No end"
    ]  # fmt: skip
    assert stem("claims") == "claim" and stem("approved") == "approv" and stem("is") == "is"


def test_rare_question_words_decide_support(project: Project) -> None:
    scorer = EvidenceScorer(project.embedder, project.store, cosine_weight=0.0)
    hits = project.search("annual leave days new hires", k=2)
    best = scorer.rank("How many days of annual leave do new hires get?", hits)[0]
    assert best.text == "New hires get 25 days of annual leave." and best.coverage == 1.0
    doc = project.document(best.hit.chunk.doc_id)
    assert doc.text[best.start : best.end] == best.text
    missing = scorer.support("How much is the gym membership refund?", hits)
    assert missing < 0.2 < best.score


def test_extract_answers_with_a_cited_sentence(project: Project) -> None:
    project.settings.abstention.threshold = 0.0
    system = project.answer_system("extract")
    answer = system.answer("Which port does the VPN use?")
    assert answer.text == "The VPN uses port 443. [1]" and answer.model == ""
    (c,) = answer.citations
    assert c.quote == "The VPN uses port 443." and not c.inferred
    assert project.document(c.doc_id).text[c.start : c.end] == c.quote
    assert answer.support is not None and not answer.abstained


def test_weak_evidence_abstains_without_the_model(project: Project) -> None:
    project.settings.abstention.threshold = 0.99
    for strategy in ("extract", "rag"):
        # rag would need the real model to answer; abstention must not even load it
        system = project.answer_system(strategy, backend="openai", model="never-called")
        answer = system.answer("Which port does the VPN use?")
        assert answer.text == CANNOT_ANSWER and answer.abstained
        assert answer.citations == [] and answer.finish_reason == "abstained"
        assert "generate" not in answer.timings
    project.settings.abstention.enabled = False
    system = project.answer_system("extract")
    assert system.threshold is None and not system.answer("VPN port?").abstained
    rag = project.answer_system("rag", backend="openai", model="never-called")
    assert rag.evidence is None  # off means no sentence embedding on the hot path


def test_extract_refuses_an_adapter(project: Project) -> None:
    with pytest.raises(UsageError, match="takes no adapter"):
        project.answer_system("extract", adapter="x")
    with pytest.raises(UsageError, match="needs an adapter"):
        project.answer_system("ft+rag")


def test_calibration_with_and_without_unanswerable() -> None:
    cal = calibrate([0.5, 0.6, 0.7, 0.8, 0.9] * 2, [0.1, 0.2, 0.55], max_false_abstention=0.1)
    assert 0.2 < cal.threshold <= 0.5 and cal.abstention_rate == pytest.approx(2 / 3)
    assert cal.false_abstention_rate <= 0.1
    strict = calibrate([0.5, 0.6, 0.7, 0.8, 0.9] * 2, [0.1, 0.2, 0.55], max_false_abstention=0.2)
    assert strict.abstention_rate == 1.0 and strict.false_abstention_rate == 0.2
    only = calibrate([0.1 * i for i in range(1, 11)], [], max_false_abstention=0.1)
    assert only.abstention_rate is None and only.threshold == pytest.approx(0.1)
    with pytest.raises(UsageError):
        calibrate([], [0.1])


def test_threshold_resolution_order(tmp_path: Path) -> None:
    value, where = resolve_threshold(None, tmp_path)
    assert value == DEFAULT_THRESHOLD and "built-in default" in where
    calibrate([0.5, 0.6], [0.1]).save(ProjectPaths(tmp_path).calibration)
    value, where = resolve_threshold(None, tmp_path)
    assert (
        value == Calibration.load(ProjectPaths(tmp_path).calibration).threshold
        and "calibrated" in where
    )
    assert resolve_threshold(0.3, tmp_path)[0] == 0.3
    (ProjectPaths(tmp_path).calibration).write_text("{not json")
    with pytest.raises(LoadError, match="ragtune calibrate"):
        resolve_threshold(None, tmp_path)
