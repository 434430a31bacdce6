"""Fill-in-the-blank questions matched against the sentence they quote."""

from __future__ import annotations

import pytest

from ragtune.text.cloze import find_fill, is_cloze

LUA = (
    "### lua_pushliteral\n\n[-0, +1, e]\n\nconst char *lua_pushliteral (lua_State *L, "
    "const char *s);\n\nThis macro is equivalent to lua_pushlstring.\n\n"
    "When a C function calls `lua_yieldk` in that way, the running coroutine suspends its\n"
    "execution, and the call to lua_resume that started this coroutine returns.\n\n"
    "To find a loader, require is guided by the package.searchers sequence. If that also "
    "fails, it tries an all-in-one loader (see package.searchers).\n"
)
LEAD = "According to the Lua reference manual, fill in the blank: "


@pytest.mark.parametrize(
    ("quoted", "fill"),
    [
        # the blank inside a sentence wrapped over two lines, the word in a code span
        (
            "When a C function calls ____ in that way, the running coroutine suspends its "
            "execution",
            "lua_yieldk",
        ),
        # the blank opens the line; the fill keeps its punctuation
        ("____ lua_pushliteral (lua_State *L, const char *s);", "const char *"),
        # the blank ends the sentence: not cut at the first dot of a dotted name
        ("To find a loader, require is guided by the ____.", "package.searchers sequence"),
        ("If that also fails, it tries an all-in-one loader (see ____).", "package.searchers"),
    ],
)
def test_the_fill_is_what_stands_in_the_blank(quoted: str, fill: str) -> None:
    question = LEAD + quoted
    assert is_cloze(question)
    found = find_fill(question, LUA)
    assert found is not None and found.text == fill
    assert LUA[found.start : found.end] == fill
    assert found.match_start <= found.start < found.end <= found.match_end


@pytest.mark.parametrize(
    "question",
    [
        "What does lua_yieldk do?",  # no blank
        LEAD + "____ ____ lua_pushliteral (lua_State *L",  # two blanks
        LEAD + "calls ____",  # too little around the blank
        LEAD + "When a C function calls ____ in some other way entirely",  # not in the text
    ],
)
def test_no_fill_without_one_blank_and_its_sentence(question: str) -> None:
    assert find_fill(question, LUA) is None


def test_the_quoted_sentence_is_the_search_query() -> None:
    from ragtune.text.cloze import quoted_text

    question = LEAD + "To find a loader, require is guided by the ____."
    assert quoted_text(question) == "To find a loader, require is guided by the ."
    assert quoted_text("No blank here?") == "No blank here?"
