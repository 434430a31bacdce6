"""``extract`` on FAQ-style documents: never the question itself, the text beneath it."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import write

from ragtune.project import Project
from ragtune.retrieval.extract import MAX_WORDS, beneath, choose
from ragtune.text.echo import is_label, restates, strip_preamble
from ragtune.text.sentences import HEADING, SENTENCE
from ragtune.types import Chunk, ScoredChunk

FAQ = (
    "Walrus FAQ\n==========\n\nWhy do walruses have tusks?\n---------------------------\n\n"
    "Walruses use their tusks to haul out onto the ice and to fight rivals during the\n"
    "breeding season.  Both sexes grow them.\n\n"
    "How long do walruses live?\n--------------------------\n\n"
    "About forty years in the wild.  Captive animals live slightly longer, though the\n"
    "records are sparse.\n\n"
    "Where do walruses sleep?\n------------------------\n\n"
)


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    write(tmp_path / "d" / "faq.rst.txt", FAQ)
    write(tmp_path / "d" / "md.md", "# Zebra notes\n\n## Do zebras sleep standing?\n\nYes, they"
          " doze standing up and lie down for deep sleep.\n")  # fmt: skip
    hash_project.ingest([tmp_path / "d"])
    hash_project.settings.abstention.threshold = 0.0
    return hash_project


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("Why do walruses have tusks?", "Walruses use their tusks to haul out onto the ice"),
        ("How long do walruses live?", "About forty years in the wild. Captive animals"),
        ("Do zebras sleep standing?", "Yes, they doze standing up"),
    ],
)
def test_the_answer_is_the_text_under_the_matching_heading(
    project: Project, question: str, expected: str
) -> None:
    answer = project.answer_system("extract").answer(question)
    assert answer.text.startswith(expected), answer.text
    assert not restates(question, answer.text)
    (c,) = answer.citations
    assert project.document(c.doc_id).text[c.start : c.end] == c.quote
    assert c.quote.replace("\n", " ").replace("  ", " ").startswith(expected)


def test_an_empty_section_is_not_answered_with_the_next_question(project: Project) -> None:
    answer = project.answer_system("extract").answer("Where do walruses sleep?")
    assert "?" not in answer.text.replace("[1]", "")  # never a heading or question


def _sentence(text: str, kind: str, chunk: Chunk, score: float = 1.0) -> object:
    class S:  # the fields choose() reads from an evidence Sentence
        pass

    s = S()
    at = chunk.text.index(text)
    s.text, s.kind, s.start, s.end = text, kind, chunk.start + at, chunk.start + at + len(text)
    s.hit, s.score = ScoredChunk(chunk=chunk, score=1.0, title="T"), score
    return s


def test_a_how_question_prefers_an_instruction_a_hair_behind() -> None:
    """The Lua 5.2 manual: "C functions no longer have environments." scored 0.567 and
    "To set the environment of a Lua function, use the variable _ENV ..." 0.558 for *How
    do you change the environment of a function?*; only the second tells how."""
    text = (
        "C functions no longer have environments. To set the environment of a Lua function,"
        " use the variable _ENV or the function load."
    )
    chunk = Chunk("c", "d", text, 0, len(text))
    statement = _sentence("C functions no longer have environments.", SENTENCE, chunk, 0.567)
    instruction = _sentence(text[text.index("To set") :], SENTENCE, chunk, 0.558)
    how = choose("How do you change the environment of a function?", [statement, instruction])
    assert how is not None and how.text.startswith("To set the environment")
    what = choose("What changed about function environments?", [statement, instruction])
    assert what is not None and what.text.startswith("C functions")  # not a how-question
    far = _sentence(text[text.index("To set") :], SENTENCE, chunk, 0.40)
    how = choose("How do you change the environment of a function?", [statement, far])
    assert how is not None and how.text.startswith("C functions")  # a bonus, not a rule


def test_heading_at_a_chunk_end_takes_the_next_chunk_and_the_budget_holds() -> None:
    first = Chunk("c1", "d", "Intro.\n\nIs it big?\n----------\n", 0, 30, ordinal=0)
    long = " ".join(["word"] * 30) + ". More " + " ".join(["more"] * 40) + ". Third one."
    second = Chunk("c2", "d", long, 30, 30 + len(long), ordinal=1)
    heading = _sentence("Is it big?", HEADING, first)
    span = beneath(heading, lambda c: second if c.id == "c1" else None)
    assert span is not None and span.chunk.id == "c2"
    assert len(span.text.split()) <= MAX_WORDS and span.text.endswith("word.")
    assert beneath(heading) is None
    echo = _sentence("Intro.", SENTENCE, first)
    assert choose("Intro?", [echo]) is None  # an echo is never an answer


def test_echo_label_and_preamble_helpers() -> None:
    assert restates("Why are strings immutable?", "Why are Python strings immutable? [1]")
    assert not restates("Why are strings immutable?", "Strings are immutable for speed. [1]")
    assert restates("What is X?", "[1]")
    assert strip_preamble("The answer to the question is: 42 days") == "42 days"
    assert strip_preamble("According to the context [1], it is 5.") == "It is 5."
    labels = ["[1] Ch02 — 2.5. Why does it fail?", "[2] Leave policy"]
    assert is_label("The answer to the question is: [1] Ch02 — 2.5. Why does it fail?", labels)
    assert is_label("Leave policy [2]", labels)
    assert not is_label("Leave policy: 25 days a year [2]", labels)


def test_a_statement_answers_a_yes_no_question() -> None:
    assert not restates("Is leave paid?", "Leave is paid. [1]")
    assert restates("Is leave paid?", "Is leave paid? [1]")  # a heading, not an answer
    assert restates("Why are strings immutable?", "Strings are immutable.")  # says nothing new


def _manual(project: Project, tmp_path: Path, text: str) -> None:
    """A one-file manual in ``project``, every question answered (no abstention)."""
    write(tmp_path / "lua" / "manual.txt", text)
    project.ingest([tmp_path / "lua"])
    project.settings.abstention.threshold = 0.0


def test_a_fill_in_the_blank_question_is_answered_from_the_sentence_it_quotes(
    hash_project: Project, tmp_path: Path
) -> None:
    _manual(
        hash_project,
        tmp_path,
        "## lua_yieldk\n\nYields a coroutine. When a C function calls lua_yieldk in that way,\n"
        "the running coroutine suspends its execution, and the call to lua_resume that started "
        "this coroutine returns.\n",
    )
    question = (
        "According to the Lua reference manual, fill in the blank: When a C function calls "
        "____ in that way, the running coroutine suspends its execution"
    )
    answer = hash_project.answer_system("extract").answer(question)
    assert answer.text == "lua_yieldk [1]"
    (c,) = answer.citations
    assert hash_project.document(c.doc_id).text[c.start : c.end] == c.quote
    assert c.quote.startswith("When a C function calls lua_yieldk in that way")


def test_a_reference_entry_is_answered_with_its_name(hash_project: Project, tmp_path: Path) -> None:
    _manual(
        hash_project,
        tmp_path,
        "## 6.5 – Table Manipulation\n\n### table.unpack (list [, i [, j]])\n\n"
        "Returns the elements from the given table.\n\n### Using tables\n\n"
        "A table is created with a constructor expression such as {}.\n",
    )
    system = hash_project.answer_system("extract")
    answer = system.answer("Which function returns the elements from a given table?")
    assert answer.text.startswith("table.unpack (list [, i [, j]]): Returns the elements"), answer
    (c,) = answer.citations
    assert hash_project.document(c.doc_id).text[c.start : c.end] == c.quote
    # A heading that is not an entry's name ("Using tables") is not put before its text.
    plain = system.answer("How is a table created?")
    assert plain.text.startswith("A table is created with a constructor"), plain


def test_an_entry_name_reaches_past_its_prototype(hash_project: Project, tmp_path: Path) -> None:
    """A C API entry puts stack notation and a prototype between its name and its first
    sentence; the first sentence is still answered with the name. A later sentence is not."""
    _manual(
        hash_project,
        tmp_path,
        "### luaL_loadstring\n\n[-0, +1, –]\n\n"
        "int luaL_loadstring (lua_State *L, const char *s);\n\n"
        "Loads a string as a Lua chunk. This function uses lua_load to load the chunk.\n",
    )
    system = hash_project.answer_system("extract")
    answer = system.answer("Which function loads a Lua chunk from a string?")
    assert answer.text.startswith("luaL_loadstring: Loads a string as a Lua chunk."), answer
    (c,) = answer.citations
    assert hash_project.document(c.doc_id).text[c.start : c.end] == c.quote
    assert c.quote.startswith("### luaL_loadstring") or c.quote.startswith("luaL_loadstring")
    later = system.answer("What does this function use lua_load for?")
    assert not later.text.startswith("luaL_loadstring"), later
