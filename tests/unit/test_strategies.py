"""AnswerSystem composition with the real store and retriever, and a queued fake generator."""

from pathlib import Path

import pytest
from tests.conftest import write
from tests.helpers.fakes import QueuedGenerator

from ragtune.generate.base import GenerationOptions
from ragtune.generate.prompts import PromptBuilder
from ragtune.project import Project
from ragtune.strategies import AnswerSystem


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    write(tmp_path / "d" / "leave.md", "# Leave\n\nNew hires get 25 days of annual leave.\n")
    write(tmp_path / "d" / "vpn.md", "---\ngroups: [it]\n---\n# VPN\n\nThe VPN uses port 443.\n")
    hash_project.ingest([tmp_path / "d"])
    return hash_project


def system(project: Project, replies: list[str], strategy: str = "rag") -> AnswerSystem:
    gen = QueuedGenerator(replies)
    builder = PromptBuilder(gen.count_tokens, 4096, 64, "SYS", "BASE", 500)
    retriever = project.retriever if strategy == "rag" else None
    return AnswerSystem(strategy, gen, builder, GenerationOptions(), retriever, k=2)


def test_rag_answer_has_citations_to_stored_chunks(project: Project) -> None:
    answer = system(project, ["New hires get 25 days [1]."]).answer("annual leave days new hires")
    assert answer.strategy == "rag" and answer.model == "queued-model"
    assert answer.citations and answer.citations[0].doc_id == "leave.md"
    c = answer.citations[0]
    assert project.document(c.doc_id).text[c.start : c.end] == c.quote
    assert {"retrieve", "rerank", "prompt", "generate"} <= set(answer.timings)
    assert answer.tokens_in > 0 and answer.tokens_out == 6  # words, for the fake


def test_acl_reaches_the_prompt(project: Project) -> None:
    s = system(project, ["x", "y"])
    s.answer("VPN port", groups=["hr"])
    s.answer("VPN port", groups=["it"])
    gen = s.generator
    assert isinstance(gen, QueuedGenerator)
    assert "443" not in gen.prompts[0][1]["content"] and "443" in gen.prompts[1][1]["content"]


def test_no_marker_gets_inferred_citation_but_abstention_does_not(project: Project) -> None:
    s = system(project, ["The VPN uses port 443.", "I cannot answer from the documents."])
    inferred = s.answer("VPN port")
    assert inferred.citations and all(c.inferred for c in inferred.citations)
    abstained = s.answer("VPN port")
    assert abstained.citations == []


def test_invalid_markers_flagged(project: Project) -> None:
    answer = system(project, ["25 days [1] [9]."]).answer("leave")
    assert answer.invalid_markers == [9] and [c.marker for c in answer.citations] == [1]


def test_base_has_no_retrieval_and_streaming_works(project: Project) -> None:
    s = system(project, ["Paris is the capital."], strategy="base")
    pieces: list[str] = []
    answer = s.answer("Capital of France?", on_token=pieces.append)
    assert answer.text == "Paris is the capital." and "".join(pieces).strip() == answer.text
    assert answer.contexts == [] and answer.citations == [] and "retrieve" not in answer.timings


def test_streamed_rag_answer_never_shows_a_copied_label(project: Project) -> None:
    s = system(project, ["[1] Leave Leave New hires get 25 days of annual leave. Ask HR."])
    pieces: list[str] = []
    answer = s.answer("annual leave days new hires", on_token=pieces.append)
    assert answer.text == "New hires get 25 days of annual leave. Ask HR. [1]"
    assert "".join(pieces).strip() == answer.text


def test_answer_many_batches(project: Project) -> None:
    s = system(project, ["Alpha [1]", "Beta [1]", "Gamma"])
    answers = s.answer_many(["leave", "vpn", "days"])
    assert [a.text for a in answers] == ["Alpha [1]", "Beta [1]", "Gamma"]
    assert len(s.generator.prompts) == 3  # type: ignore[attr-defined]


def test_answer_round_trips(project: Project) -> None:
    from ragtune.types import Answer

    answer = system(project, ["25 days [1]."]).answer("leave")
    assert Answer.from_dict(answer.to_dict()) == answer


def _rag_with_evidence(project: Project, replies: list[str]) -> AnswerSystem:
    from ragtune.retrieval.evidence import EvidenceScorer

    gen = QueuedGenerator(replies)
    builder = PromptBuilder(gen.count_tokens, 4096, 64, "SYS", "BASE", 500)
    evidence = EvidenceScorer(project.embedder, project.store)
    return AnswerSystem(
        "rag", gen, builder, GenerationOptions(), project.retriever, k=2, evidence=evidence,
        threshold=0.0,
    )  # fmt: skip


@pytest.mark.parametrize(
    "reply",
    [
        "The answer to the question is: [1] Leave",  # a preamble and a copied label
        'The answer to the question "How many days of annual leave?" is:',
        "How many days of annual leave do new hires get? [1]",  # the question again
        "The answer lies in the context passages.",
        "",
    ],
)
def test_rag_answers_that_say_nothing_fall_back_to_the_evidence(
    project: Project, reply: str
) -> None:
    answer = _rag_with_evidence(project, [reply]).answer(
        "How many days of annual leave do new hires get?"
    )
    assert answer.finish_reason == "fallback"
    assert answer.text == "New hires get 25 days of annual leave. [1]"
    (c,) = answer.citations
    assert project.document(c.doc_id).text[c.start : c.end] == c.quote


@pytest.mark.parametrize(
    "reply",
    [
        "New hires do not get annual leave.",  # the passage says the opposite
        "```python\ndef leave(days):\n    return max(days, 30)\n```",  # from the model's memory
    ],
)
def test_rag_answers_the_passages_do_not_hold_fall_back_to_the_evidence(
    project: Project, reply: str
) -> None:
    answer = _rag_with_evidence(project, [reply]).answer(
        "How many days of annual leave do new hires get?"
    )
    assert answer.finish_reason == "ungrounded" and answer.replaced == reply
    assert answer.text == "New hires get 25 days of annual leave. [1]"


def test_rag_keeps_a_real_answer_and_strips_what_it_copied(project: Project) -> None:
    system = _rag_with_evidence(project, ["[1] Leave — The answer is: 25 days a year."])
    answer = system.answer("How many days of annual leave do new hires get?")
    assert answer.finish_reason == "stop" and answer.text == "25 days a year. [1]"
    assert answer.citations and answer.citations[0].doc_id == "leave.md"


def test_a_fill_in_the_blank_question_is_answered_from_its_sentence_without_the_model(
    project: Project,
) -> None:
    s = _rag_with_evidence(project, ["New hires get 25 days."])
    question = "Fill in the blank: New hires get ____ of annual leave."
    answer = s.answer(question)
    assert answer.text == "25 days [1]" and answer.finish_reason == "quoted"
    (c,) = answer.citations
    assert project.document(c.doc_id).text[c.start : c.end] == c.quote
    assert s.generator.prompts == []  # type: ignore[attr-defined]
    pieces: list[str] = []
    assert s.answer(question, on_token=pieces.append).text == "".join(pieces) == answer.text
    # A blank the documents do not hold goes to the model as any question does.
    assert s.answer("Fill in the blank: New hires get ____ of sick leave.").text == (
        "New hires get 25 days."
    )


def test_a_cloze_whose_sentence_is_found_is_answered_whatever_the_threshold(
    project: Project,
) -> None:
    """The blank takes the rare word out of the question, so its evidence score can fall
    below the abstention threshold; the passage holding the quoted sentence answers it."""
    from ragtune.generate.prompts import CANNOT_ANSWER

    s = _rag_with_evidence(project, ["New hires get 25 days.", "x"])
    s.threshold = 2.0  # above any evidence score
    found = s.answer("Fill in the blank: New hires get ____ of annual leave.")
    assert found.text == "25 days [1]" and found.finish_reason == "quoted"
    missing = s.answer("Fill in the blank: Contractors get ____ of unpaid leave.")
    assert missing.text == CANNOT_ANSWER and missing.finish_reason == "abstained"


@pytest.mark.parametrize("reply", ["Django's prerequisites are the following:", "the"])
def test_an_answer_that_says_nothing_without_a_span_to_fall_back_on_is_a_refusal(
    project: Project, reply: str
) -> None:
    from ragtune.generate.prompts import CANNOT_ANSWER

    answer = system(project, [reply], strategy="base").answer("What are Django's prerequisites?")
    assert answer.text == CANNOT_ANSWER and answer.abstained
    assert answer.finish_reason == "no_answer" and answer.tokens_out > 0  # the model did run


def test_a_cloze_sentence_the_search_missed_is_looked_for_by_itself(
    project: Project, tmp_path: Path
) -> None:
    from ragtune.retrieval.evidence import EvidenceScorer

    write(
        tmp_path / "noise" / "manual.md",
        "# Reference manual\n\nAccording to the reference manual, fill in the blank questions "
        "quote the reference manual. The Lua reference manual has blanks to fill in.\n",
    )
    project.ingest([tmp_path / "noise"])
    gen = QueuedGenerator(["the model's reply"])
    builder = PromptBuilder(gen.count_tokens, 4096, 64, "SYS", "BASE", 500)
    evidence = EvidenceScorer(project.embedder, project.store)
    s = AnswerSystem("rag", gen, builder, GenerationOptions(), project.retriever, k=1,
                     evidence=evidence, threshold=0.0)  # fmt: skip
    question = (
        "According to the Lua reference manual, fill in the blank: New hires get ____ of "
        "annual leave."
    )
    assert project.retriever.search(question, k=1)[0].chunk.doc_id == "manual.md"
    answer = s.answer(question)
    assert answer.text == "25 days [1]" and answer.finish_reason == "quoted"
    assert answer.citations[0].doc_id == "leave.md"
