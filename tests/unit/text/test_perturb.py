"""The self-test's edits: each turns a true sentence into a wrong one, or gives None rather
than a garbled sentence."""

from __future__ import annotations

import random
import re

import pytest

from ragtune.text.perturb import append_sentence, change_number, negate, sentences_of


@pytest.mark.parametrize(
    ("sentence", "negated"),
    [
        ("Unused leave is carried over to the next year.", "Unused leave is not carried over"),
        ("Parking is not free for employees.", "Parking is free for employees."),
        ("Backups cannot be restored by users.", "Backups can be restored by users."),
        ("You don't need a VPN for webmail.", "You do need a VPN for webmail."),
        ("Relays never send data to the cloud.", "Relays send data to the cloud."),
        # the first auxiliary with a verb after it: "does," has its verb elided
        ("Anyone whose partner does, is entitled to leave.", "is not entitled to leave"),
    ],
)
def test_negate_turns_the_meaning_around(sentence: str, negated: str) -> None:
    out = negate(sentence)
    assert out is not None and negated in out and out != sentence


@pytest.mark.parametrize(
    "sentence",
    [
        "Employees get 25 days of leave.",  # no auxiliary to hang "not" on
        "It is not only fast but also cheap.",  # "not only" asserts; removing it garbles
        "Is annual leave paid in full?",  # a question states nothing
        "Claims of no more than 50 EUR need no receipt.",  # a bound, not a negation
    ],
)
def test_negate_refuses_what_it_cannot_edit_safely(sentence: str) -> None:
    assert negate(sentence) is None


def test_change_number_picks_a_value_the_context_does_not_hold() -> None:
    context = {"5", "25", "6"}
    for seed in range(20):
        out = change_number("Up to 5 days carry over, 25 in all.", context, random.Random(seed))
        assert out is not None
        found = re.findall(r"\d+", out)
        assert len(found) == 2 and len(set(found) - context) == 1  # one changed, to a new value
    year = change_number("The policy dates from 2019 onwards.", {"2019"}, random.Random(0))
    assert year in ("The policy dates from 2020 onwards.", "The policy dates from 2018 onwards.")


@pytest.mark.parametrize(
    "sentence",
    ["Python 3.11 is required.", "Meet at 09:30 sharp.", "No numbers here at all.", "1. Step."],
)
def test_change_number_leaves_versions_times_and_list_numbers(sentence: str) -> None:
    assert change_number(sentence, set(), random.Random(0)) is None


def test_append_sentence_keeps_the_claims_apart() -> None:
    assert append_sentence("It is 25 days [1]", "Parking is free.") == (
        "It is 25 days [1]. Parking is free."
    )
    assert append_sentence("It is 25 days. [1]", "the rate is below 1 %;") == (
        "It is 25 days. [1] The rate is below 1 %."
    )
    assert append_sentence("", "Parking is free.") == "Parking is free."


def test_sentences_of_skips_headings_stubs_and_questions() -> None:
    text = "Leave\n=====\n\nYou get 25 days of paid leave a year. Ask HR.\n\nIs leave paid in full?"
    assert sentences_of(text) == ["You get 25 days of paid leave a year."]
