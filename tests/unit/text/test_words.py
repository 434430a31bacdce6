"""The one word tokenisation texts are compared by."""

from __future__ import annotations

from ragtune.text.words import normalise, words


def test_words_are_lower_cased_unicode_word_runs() -> None:
    assert words("Don't PANIC: 42 cafés_au-lait!") == [
        "don",
        "t",
        "panic",
        "42",
        "cafés_au",
        "lait",
    ]
    assert words("  ...  ") == []


def test_texts_differing_in_case_punctuation_or_spacing_normalise_the_same() -> None:
    assert normalise("How do I  make an *executable*?") == normalise("how do i make an executable")
    assert normalise("a-b") == "a b" and normalise("") == ""
