"""The offline judge's claims and support: an answer's sentences as claims, their coverage
by a context, and the contradiction check (words, numbers, markers, stop words and the
coverage rule itself come from :mod:`ragtune.text`).

The offline judge's rule lives here (:func:`supported`), so faithfulness, context precision,
context recall and citation support all use the same definition. Word coverage cannot see a
contradiction ("Leave is not paid" has every word of "Leave is paid"), so a claim is also
checked against the context sentence it matches best (:func:`contradicted`, rules in
:mod:`ragtune.text.contradiction`). Example::

    supported("Leave is 27 days.", ["Employees get 25 days of leave."])  # False: 27 is missing
    supported("Leave is not paid.", ["Leave is paid in full."])         # False: negated
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from ragtune.generate.citations import content_words
from ragtune.text.contradiction import contradiction, overlap
from ragtune.text.markers import strip_markers
from ragtune.text.sentences import CODE, SENTENCE, clean, units
from ragtune.text.support import GROUNDED_MIN_SHARE, JUDGE_MIN_SHARE, share_held
from ragtune.text.words import numbers


def sentences(text: str) -> list[str]:
    """Sentences (citation markers removed) with at least one content word or number. The
    project's splitter (:func:`ragtune.text.sentences.units`) keeps "SAML 2.0" and
    "Ltd. buys" whole, where a split at every period made claims of the fragments."""
    found = (clean(u.text) for u in units(strip_markers(text)))
    return [s for s in found if content_words(s) or numbers(s)]


def coverage(claim: str, context: str) -> float:
    """Share of the claim's content words (numbers included) that occur in ``context``."""
    return share_held(
        content_words(claim) | numbers(claim), content_words(context) | numbers(context)
    )


@lru_cache(maxsize=4096)
def _context_sentences(context: str) -> tuple[str, ...]:
    """A passage's sentences and table/code lines as plain text (cached: every claim of
    every answer is matched against the same few passages)."""
    return tuple(clean(u.text) for u in units(context) if u.kind in (SENTENCE, CODE))


def contradicted(claim: str, contexts: Sequence[str]) -> str | None:
    """Why the context sentence that ``claim`` matches best contradicts it, or None: no
    sentence is about the claim, or one as good as the best agrees with it. Example::

        contradicted("Leave is not paid.", ["Leave is paid in full. Ask HR."])
        # "negation: 'paid' is negated in the claim but not in the context"
    """
    scored = [(overlap(claim, s), s) for ctx in contexts for s in _context_sentences(ctx)]
    best = max((o for o, _ in scored), default=0.0)
    if best <= 0.0:
        return None
    reasons = [contradiction(claim, s) for o, s in scored if o == best]
    return None if None in reasons else reasons[0]


def supported(claim: str, contexts: Sequence[str]) -> bool:
    """The offline judge: a claim is supported when one context holds every number in it and
    at least ``JUDGE_MIN_SHARE`` of its content words, and the context sentence it
    matches best does not contradict it (a negation, a changed number or unit, an antonym,
    another quantifier)."""
    need = numbers(claim)
    for ctx in contexts:
        if need <= numbers(ctx) and coverage(claim, ctx) >= JUDGE_MIN_SHARE:
            return contradicted(claim, contexts) is None
    return False


def ungrounded(answer: str, contexts: Sequence[str]) -> bool:
    """Whether an answer is not drawn from the contexts: one of its sentences is contradicted
    by the context sentence it matches best (:func:`contradicted`), or under
    ``GROUNDED_MIN_SHARE`` of its content words occur in them at all. Looser than
    :func:`supported`, so a paraphrase ("25 days a year." over "New hires get 25 days of
    annual leave.") stands; code or prose written from a model's own memory does not."""
    claims = sentences(answer)
    if not claims:
        return False
    if any(contradicted(claim, contexts) is not None for claim in claims):
        return True
    return coverage(strip_markers(answer), "\n".join(contexts)) < GROUNDED_MIN_SHARE
