"""Sentences that survive wrapping and markup (reST, Markdown, AsciiDoc, man pages, tables)."""

from __future__ import annotations

from ragtune.text.sentences import CODE, HEADING, SENTENCE, clean, units


def kinds(text: str) -> list[tuple[str, str]]:
    out = []
    for u in units(text):
        assert text[u.start : u.end].strip() == text[u.start : u.end]  # exact, trimmed spans
        out.append((u.kind, clean(u.text)))
    return out


def test_rest_headings_wrapped_lines_roles_and_literal_blocks() -> None:
    text = (
        "Why is the sky blue?\n--------------------\n\nBecause air scatters short\n"
        "wavelengths more, see :func:`scatter` and ``sky.blue()``.  It is not\n"
        "a bug in :mod:`os.path`. Example::\n\n   >>> sky()\n   'blue'\n\nThe end.\n"
    )
    assert kinds(text) == [
        (HEADING, "Why is the sky blue?"),
        (SENTENCE, "Because air scatters short wavelengths more, see scatter and sky.blue()."),
        (SENTENCE, "It is not a bug in os.path."),
        (SENTENCE, "Example:"),
        (CODE, ">>> sky()"),
        (CODE, "'blue'"),
        (SENTENCE, "The end."),
    ]


def test_overlined_title_directives_and_abbreviations() -> None:
    text = (
        "=====\nTitle\n=====\n\n.. contents::\n\n.. note::\n\n   Use e.g. the 3.2 release, "
        "i.e. the newest (a.k.a. latest). Then stop.\n"
    )
    assert kinds(text) == [
        (HEADING, "Title"),
        (SENTENCE, "Use e.g. the 3.2 release, i.e. the newest (a.k.a. latest)."),
        (SENTENCE, "Then stop."),
    ]


def test_markdown_asciidoc_fences_tables_and_lists() -> None:
    text = (
        "# Install\n\nRun the `setup` step first.\n\n```sh\nmake install\n```\n\n"
        "== Options\n\n| flag | meaning |\n|---|---|\n| -v | verbose |\n\n"
        "- one item\n  wrapped.\n- two\n"
    )
    assert kinds(text) == [
        (HEADING, "Install"),
        (SENTENCE, "Run the setup step first."),
        (CODE, "make install"),
        (HEADING, "Options"),
        (CODE, "| flag | meaning |"),
        (CODE, "| -v | verbose |"),
        (SENTENCE, "one item wrapped."),
        (SENTENCE, "two"),
    ]


def test_man_page_text_keeps_indented_prose_whole() -> None:
    text = "NAME\n       ls - list directory contents\n\nDESCRIPTION\n       List information "
    text += "about the FILEs (the current\n       directory by default).  Sort entries.\n"
    got = kinds(text)
    assert (SENTENCE, "List information about the FILEs (the current directory by default).") in got
    assert (SENTENCE, "Sort entries.") in got


def test_nothing_is_lost_on_odd_input() -> None:
    for text in ("", "\n\n", "::\n", "====\n", "a", "```\nunclosed", "x. y. z.", "Q?\n--\n"):
        for u in units(text):
            assert 0 <= u.start < u.end <= len(text)
