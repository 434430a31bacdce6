"""Contradiction rules, kind by kind: each with cases it must catch and paraphrases (or
unrelated sentences) it must leave alone."""

from __future__ import annotations

import pytest

from ragtune.text.contradiction import KINDS, contradiction, overlap

CONTEXT = "A full-time employee is entitled to 25 working days of paid annual leave per year."

CAUGHT = {
    "negation": [
        ("Leave is not paid.", "Leave is paid in full."),
        ("The API is never rate limited.", "The API is rate limited per key."),
        ("Leave can no longer be carried over.", "Leave can be carried over to the next year."),
        ("Admins cannot delete workspaces.", "Admins can delete workspaces."),
        ("Admins can't delete workspaces.", "Admins can delete workspaces."),
        ("Contractors are covered by the policy.", "Contractors are not covered by the policy."),
        (
            "During probation the notice period is never 2 weeks.",
            "During probation the notice period is 2 weeks.",
        ),
        ("The office is open, but parking is not free.", "The office is open and parking is free."),
        ("Claims with receipts are refunded.", "Claims without receipts are refunded."),
    ],
    "number": [
        ("A full-time employee is entitled to 52 working days of leave.", CONTEXT),
        ("The policy changed in 2021.", "The policy changed in 2019, after the review."),
        ("Employees get three extra days.", "Employees get 2 extra days."),
        ("A full-time employee is entitled to twenty-two working days of leave.", CONTEXT),
        ("Outbound HTTPS uses TCP port 344.", "Outbound HTTPS uses TCP port 443."),
        ("Backups run weekly.", "Backups run daily at 02:00."),
        ("Reviews happen every March.", "Reviews happen every April."),
    ],
    "unit": [
        ("Uploads are limited to 10 GB.", "Uploads are limited to 10 MB."),
        ("Wait for 30 hours before retrying.", "Wait for 30 minutes before retrying."),
        ("Leave is 25 working weeks a year.", CONTEXT),
    ],
    "antonym": [
        ("Submit the form after the leave starts.", "Submit the form before the leave starts."),
        ("The setting increases memory use.", "The setting decreases memory use."),
        ("Python strings are immutable.", "Strings in Python are mutable."),
        ("Approval is required for one day.", "Approval is optional for one day."),
        ("Refunds are unavailable after 30 days.", "Refunds are available after 30 days."),
        (
            "The band has a maximum, a midpoint and a maximum.",
            "The band has a minimum, a midpoint and a maximum.",
        ),
        ("Admins disable the export.", "Admins enable the export."),
    ],
    "quantifier": [
        ("All employees must submit the form.", "Some employees must submit the form."),
        ("Backups always succeed on the first try.", "Backups sometimes succeed on the first try."),
        ("All people learn to love this feature.", "Most people learn to love this feature."),
        ("Few tickets are escalated to engineering.", "Most tickets are escalated to engineering."),
    ],
}

AGREE = [  # paraphrases, restatements, unrelated sentences and list numbers: no alarm
    ("Employees receive paid leave.", "Leave is paid in full."),
    ("A full-time employee gets 25 working days of leave.", CONTEXT),
    ("Full-timers get twenty-five days.", CONTEXT),
    ("A full-time employee is entitled to twenty-five working days of leave.", CONTEXT),
    ("No VPN is required for the wiki.", "The wiki does not require a VPN."),
    ("A VPN is not required for the wiki.", "The wiki does not require a VPN."),
    ("Approval is not required for one day.", "Approval is optional for one day."),
    ("Cats and dogs are not allowed.", "Dogs and cats are not allowed."),
    ("The office is open.", "The office is open, but parking is not free."),
    ("No, refunds are not available after 30 days.", "Refunds are not available after 30 days."),
    ("Every employee must submit the form.", "All employees must submit the form."),
    ("Employees get two extra days.", "Employees get 2 extra days."),
    ("Uploads are limited to 10 megabytes.", "Uploads are limited to 10 MB."),
    ("Wait for 30 mins.", "Wait for 30 minutes."),
    ("The file is 2 million bytes.", "The file is 2,000,000 bytes."),
    ("Restart the server.", "3. Restart the server."),
    ("3. Restart the server.", "2. Restart the server."),  # list indices are not facts
    ("The limit is no more than 5 requests.", "The limit is 5 requests per minute."),
    ("Since 2019, leave is 25 days.", "Leave is 25 days."),
    ("Leave is 25 days.", "Since 2019, leave is 25 days, and 1 day more after 5 years."),
    (
        "3 missed heartbeats, sent every 30 seconds, mark a relay offline.",
        "A relay is offline after 3 missed heartbeats and raises an alert after 5 minutes.",
    ),
    ("The most used keys are listed below.", "Some keys are listed below."),
    ("Leave is not paid.", "Parking costs EUR 12 a day."),  # unrelated: no opinion
    ("Parking costs EUR 15 a day.", "Leave is 25 days a year."),  # unrelated numbers
    ("Claims are paid within 60 days.", "Claims are paid within 60 days of the expense."),
]


@pytest.mark.parametrize(
    ("kind", "claim", "sentence"),
    [(kind, c, s) for kind, cases in CAUGHT.items() for c, s in cases],
)
def test_each_kind_is_caught(kind: str, claim: str, sentence: str) -> None:
    reason = contradiction(claim, sentence)
    assert reason is not None and reason.split(":")[0] == kind, reason
    assert kind in KINDS


@pytest.mark.parametrize(("claim", "sentence"), AGREE)
def test_paraphrases_and_unrelated_sentences_do_not_alarm(claim: str, sentence: str) -> None:
    assert contradiction(claim, sentence) is None


def test_the_sentence_itself_never_contradicts() -> None:
    for cases in CAUGHT.values():
        for claim, sentence in cases:
            assert contradiction(sentence, sentence) is None
            assert contradiction(claim, claim) is None


def test_reason_names_what_changed() -> None:
    assert contradiction("Leave is 52 days.", "Employees get 25 days of leave.") == (
        "number: 52 where the context says 25"
    )
    assert "'paid'" in (contradiction("Leave is not paid.", "Leave is paid in full.") or "")


def test_overlap_picks_the_sentence_a_claim_is_about() -> None:
    assert overlap("Leave is 25 days.", "Employees get 25 days of leave.") == 1.0
    assert overlap("Leave is 25 days.", "Parking costs EUR 12.") == 0.0
