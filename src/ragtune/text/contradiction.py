"""Does a claim contradict the context sentence it matches best? Word coverage cannot see it.

The offline judge supported a claim when a passage held its numbers and most of its words,
so "Leave is not paid" passed against "Leave is paid" (every word is there). This module
compares a claim with one context sentence and names the first contradiction it finds:

- ``negation``: a word both share is negated in one and not the other ("not", "never",
  "no longer", "cannot", "n't", "without", ...), and the clauses holding it differ in their
  number of negations (so "no VPN is required" = "a VPN is not required");
- ``number``: the claim has a number, date or time the sentence lacks, and the sentence has
  one of the same kind (a year for a year, a size for a size) the claim lacks; or a month /
  weekday / frequency (monthly vs weekly) replaced by another;
- ``unit``: the same number with another unit of the same family (MB vs GB, days vs weeks);
- ``antonym``: a word replaced by its opposite (increase/decrease, before/after, allow/deny,
  ``un``/``non`` prefixes...), unless one of the two is negated ("not required" = "optional");
- ``quantifier``: all/every/always vs some/sometimes vs most/usually vs few/rarely.

Checks run only when the two are about the same thing: most of the claim's words (numbers
aside) must be in the sentence, so unrelated sentences and list numbers never alarm. A rule
engine, not a model: it catches the edits a generator makes to a sentence it read, and leaves
real paraphrase alone. Example::

    contradiction("Leave is not paid.", "Leave is paid in full.")
    # "negation: 'paid' is negated in the claim but not in the context"
    contradiction("Leave is 52 days.", "Employees get 25 days of leave.")
    # "number: 52 where the context says 25"
    contradiction("Employees receive paid leave.", "Leave is paid in full.")   # None
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from ragtune.text.echo import content
from ragtune.text.opposites import (
    ANTONYMS,
    BOUND_AFTER,
    BOUNDS,
    CUES,
    NUM_WORDS,
    PREFIX_STOP,
    PREFIXES,
    QUANT,
    SCALE,
    SET_OF,
    UNIT_SKIP,
    UNITS,
)

KINDS = ("negation", "number", "unit", "antonym", "quantifier")
ALIGN_MIN = 0.5  # share of the claim's words (numbers aside) the sentence must hold
CLAUSE_MIN = 0.75  # share of the contradicting clause's words the sentence must hold

_TOKEN = re.compile(
    r"\d+(?:[.,:]\d+)*|[a-z]+(?:'[a-z]+)?|[%$€£]|[,;:()!?]|\.(?=\s|$)|\s[-–—]\s|\[\d+\]"
)
_ENUM = re.compile(r"^\s*(?:\(?\d+[.)]|\(?[a-z][.)]|\d+(?:\.\d+)+\.?)\s+", re.I)


@dataclass
class _Word:
    norm: str
    text: str
    clause: int
    negated: bool
    quant: str = ""  # quantifier class (every | some | most | few) or ""


@dataclass
class _Num:
    value: str
    text: str
    kind: str  # year | time | plain
    unit: str = ""


@dataclass
class _Parsed:
    words: list[_Word] = field(default_factory=list)
    nums: list[_Num] = field(default_factory=list)
    parity: dict[int, int] = field(default_factory=dict)  # clause -> negations mod 2

    @property
    def vocab(self) -> set[str]:
        return {w.norm for w in self.words}


@lru_cache(maxsize=8192)
def _norm(word: str) -> str:
    """A word's stem as the echo helpers make it, minus a final e ("enable" = "enabled")."""
    stems = content(word)
    return (stems[0] if stems else word).removesuffix("e")


def _value(token: str) -> str:
    """Numbers compare by value: "2,000" = "2000", "3.0" = "3"; versions stay strings."""
    plain = token.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3})+", token) else token
    try:
        return f"{float(plain):.12g}"
    except ValueError:
        return plain


def _tokens(text: str) -> list[str]:
    text = _ENUM.sub("", text.replace("’", "'").lower())
    return [t.strip() for t in _TOKEN.findall(text) if not t.startswith("[")]


def _is_cue(toks: list[str], i: int, neither: bool) -> bool:
    tok, nxt = toks[i], toks[i + 1] if i + 1 < len(toks) else ""
    if tok.endswith("n't"):
        return True
    if tok not in CUES:
        return False
    if tok == "not" and nxt in ("only", "just"):
        return False  # "not only X but Y" asserts X
    after = toks[i + 2] if i + 2 < len(toks) else ""
    if tok in ("no", "not") and nxt in BOUND_AFTER and (nxt != "longer" or after == "than"):
        return False  # "no more than 5" is a bound, not a negation; "no longer" negates
    if tok == "no" and (not nxt or not nxt[0].isalnum()):
        return False  # "No, ..." answers a question
    return not (tok == "nor" and neither)


def _parse(text: str) -> _Parsed:
    toks = _tokens(text)
    out = _Parsed()
    clause, open_cues = 0, 0  # negations whose scope is still open in this clause
    neither = "neither" in toks
    taken: set[int] = set()  # tokens a number consumed ("10 working days"): not words
    for i, tok in enumerate(toks):
        if i in taken:
            continue
        if (not tok[0].isalnum() and tok not in "%$€£") or tok in BOUNDS:
            clause, open_cues = clause + 1, 0
            continue
        if _is_cue(toks, i, neither):
            open_cues += 1
            out.parity[clause] = out.parity.get(clause, 0) ^ 1
            continue
        if tok == "longer" and i and toks[i - 1] == "no":
            continue
        if tok[0].isdigit() or tok in NUM_WORDS:
            num, used = _number(toks, i)
            out.nums.append(num)
            taken.update(range(i + 1, i + 1 + used))
            continue
        if content(tok) or tok in QUANT:
            out.words.append(
                _Word(_norm(tok), tok, clause, open_cues % 2 == 1, _quantifier_class(toks, i))
            )
    return out


def _quantifier_class(toks: list[str], i: int) -> str:
    prev = toks[i - 1] if i else ""
    if toks[i] == "most" and prev in ("the", "at"):
        return ""  # "the most recent", "at most 5": a superlative or a bound
    if toks[i] == "few" and prev == "a":
        return "some"
    return QUANT.get(toks[i], "")


def _number(toks: list[str], i: int) -> tuple[_Num, int]:
    """The number at ``toks[i]`` and how many tokens after it belong to it."""
    tok = toks[i]
    value = str(NUM_WORDS[tok]) if tok in NUM_WORDS else _value(tok)
    kind = "time" if ":" in tok else "plain"
    if re.fullmatch(r"(19|20)\d\d", tok):
        kind = "year"
    after, used = toks[i + 1 : i + 4], 0
    if tok in NUM_WORDS and NUM_WORDS[tok] >= 20 and after and NUM_WORDS.get(after[0], 10) < 10:
        value = str(NUM_WORDS[tok] + NUM_WORDS[after[0]])  # twenty-five
        after, used = after[1:], used + 1
    if after and after[0] in SCALE:
        value = _value(str(float(value) * SCALE[after[0]])) if value[0].isdigit() else value
        after, used = after[1:], used + 1
    skip = 1 if after and after[0] in UNIT_SKIP else 0
    unit = ""
    if len(after) > skip and after[skip] in UNITS:
        unit, used = after[skip], used + skip + 1
    elif i and UNITS.get(toks[i - 1], ("",))[0] == "money":
        unit = toks[i - 1]  # EUR 150, $20
    if unit:
        kind = "plain"  # "2020 MB" is a size, not a year
    return _Num(value, tok, kind, unit), used


def _share(words: set[str], vocab: set[str]) -> float:
    return len(words & vocab) / len(words) if words else 0.0


def _aligned(claim: _Parsed, sent: _Parsed) -> bool:
    words = claim.vocab
    shared = len(words & sent.vocab)
    return shared >= min(2, len(words)) and _share(words, sent.vocab) >= ALIGN_MIN


def _clause_covered(claim: _Parsed, clause: int, sent: _Parsed, skip: str = "") -> bool:
    words = {w.norm for w in claim.words if w.clause == clause and w.norm != skip}
    if not words:
        return True  # the clause is the changed word alone ("Always.")
    return len(words & sent.vocab) >= min(2, len(words)) and _share(words, sent.vocab) >= (
        CLAUSE_MIN
    )


def _negation(claim: _Parsed, sent: _Parsed) -> str | None:
    for norm in sorted(claim.vocab & sent.vocab):
        mine = [w for w in claim.words if w.norm == norm]
        theirs = [w for w in sent.words if w.norm == norm]
        pol_c, pol_s = {w.negated for w in mine}, {w.negated for w in theirs}
        par_c = {claim.parity.get(w.clause, 0) for w in mine}
        par_s = {sent.parity.get(w.clause, 0) for w in theirs}
        if len(pol_c) == len(pol_s) == len(par_c) == len(par_s) == 1 and pol_c != pol_s:
            clause = mine[0].clause
            if par_c != par_s and _clause_covered(claim, clause, sent):
                if _flipped(claim, clause, sent):
                    continue  # "not required" where the context says "optional": agrees
                side = "the claim" if mine[0].negated else "the context"
                other = "the context" if mine[0].negated else "the claim"
                return f"negation: '{mine[0].text}' is negated in {side} but not in {other}"
    return _negated_clause(claim, sent)


def _clauses(parsed: _Parsed) -> dict[int, set[str]]:
    out: dict[int, set[str]] = {}
    for w in parsed.words:
        out.setdefault(w.clause, set()).add(w.norm)
    return out


def _negated_clause(claim: _Parsed, sent: _Parsed) -> str | None:
    """A negation that governs no shared word ("the notice period is never 2 weeks"): two
    clauses with the same words (both ways) and a different number of negations."""
    theirs = _clauses(sent)
    for clause, words in _clauses(claim).items():
        if len(words) < 2 or _flipped(claim, clause, sent):
            continue
        for k, other in theirs.items():
            both = len(words & other)
            if (
                both / len(words) >= CLAUSE_MIN
                and both / len(other) >= CLAUSE_MIN
                and claim.parity.get(clause, 0) != sent.parity.get(k, 0)
            ):
                side = "the claim" if claim.parity.get(clause, 0) else "the context"
                return f"negation: {side} negates '{' '.join(sorted(words & other))}'"
    return None


def _numbers(claim: _Parsed, sent: _Parsed) -> str | None:
    extra_c = Counter(n.value for n in claim.nums) - Counter(n.value for n in sent.nums)
    extra_s = Counter(n.value for n in sent.nums) - Counter(n.value for n in claim.nums)
    for c in (n for n in claim.nums if n.value in extra_c):
        for s in (n for n in sent.nums if n.value in extra_s):
            # "30 seconds" vs "5 minutes" are two quantities, not one changed
            same_unit = not (c.unit and s.unit) or UNITS[c.unit] == UNITS[s.unit]
            if c.kind == s.kind and same_unit:
                return f"number: {c.text} where the context says {s.text}"
    for c in (n for n in claim.nums if n.unit):
        family, name = UNITS[c.unit]
        theirs = {UNITS[s.unit]: s.unit for s in sent.nums if s.value == c.value and s.unit}
        other = [u for (fam, n), u in theirs.items() if fam == family and n != name]
        if other and (family, name) not in theirs:
            return f"unit: {c.text} {c.unit} where the context says {c.text} {other[0]}"
    return _value_sets(claim, sent)


def _value_sets(claim: _Parsed, sent: _Parsed) -> str | None:
    for w in claim.words:
        if w.text in SET_OF and w.text not in {x.text for x in sent.words}:
            for s in sent.words:
                if SET_OF.get(s.text) == SET_OF[w.text] and s.text not in {
                    x.text for x in claim.words
                }:
                    return f"number: '{w.text}' where the context says '{s.text}'"
    return None


def _opposites(norm: str, text: str) -> set[str]:
    """Normalised opposites of a word: listed pairs, and un-/non- prefixes either way (on
    the word as written: "unused" stems to "unus", "used" to "used")."""
    out = {b for a, b in _PAIRS if a == norm} | {a for a, b in _PAIRS if b == norm}
    if text not in PREFIX_STOP:
        for p in PREFIXES:
            if text.startswith(p) and len(text) - len(p) >= 4:
                out.add(_norm(text[len(p) :]))
            elif len(text) >= 4:
                out.add(_norm(p + text))
    return out


_PAIRS = [(_norm(a), _norm(b)) for a, b in ANTONYMS]


def _flipped(claim: _Parsed, clause: int, sent: _Parsed) -> bool:
    """Whether a word of the claim's clause is replaced by its opposite in the sentence."""
    return any(
        w.clause == clause and w.norm not in sent.vocab and _opposites(w.norm, w.text) & sent.vocab
        for w in claim.words
    )


def _antonym(claim: _Parsed, sent: _Parsed) -> str | None:
    # Counts, not sets: "after 3 misses, that is before 90 s, ... after 5 min" against
    # "after ..., after ..., after ..." has one "before" too many and one "after" too few.
    mine = Counter(w.norm for w in claim.words)
    theirs = Counter(w.norm for w in sent.words)
    for w in claim.words:
        if mine[w.norm] <= theirs[w.norm]:
            continue
        for s in sent.words:
            if (
                s.norm in _opposites(w.norm, w.text)
                and theirs[s.norm] > mine[s.norm]
                and w.negated == s.negated  # "not required" = "optional"
                and _clause_covered(claim, w.clause, sent, skip=w.norm)
            ):
                return f"antonym: '{w.text}' where the context says '{s.text}'"
    return None


def _quantifier(claim: _Parsed, sent: _Parsed) -> str | None:
    said = {w.quant for w in sent.words if w.quant}
    for w in claim.words:
        if not w.quant or w.negated or w.quant in said:
            continue
        for s in sent.words:
            if (
                s.quant
                and s.quant != w.quant
                and not s.negated
                and _clause_covered(claim, w.clause, sent, skip=w.norm)
            ):
                return f"quantifier: '{w.text}' where the context says '{s.text}'"
    return None


def overlap(claim: str, sentence: str) -> float:
    """Share of the claim's content words (numbers included) found in ``sentence``: how
    the judge picks the context sentence a claim is about. Example::

        overlap("Leave is 25 days.", "Employees get 25 days of leave.")   # 1.0
    """
    mine = _words(claim)
    return len(mine & _words(sentence)) / len(mine) if mine else 0.0


@lru_cache(maxsize=16384)
def _words(text: str) -> frozenset[str]:
    # Cached: every claim is matched against every sentence of the same few passages, and
    # stemming them again for each claim was most of the judge's time.
    return frozenset(content(text))


def contradiction(claim: str, sentence: str) -> str | None:
    """The first contradiction between ``claim`` and the context ``sentence`` it is about,
    as ``"kind: detail"`` (kind one of :data:`KINDS`), or None (see the module docs).

    Example::

        contradiction("The API is not rate limited.", "The API is rate limited.")
        # "negation: 'limited' is negated in the claim but not in the context"
        contradiction("Backups run weekly.", "Backups run daily at 02:00.")
        # "number: 'weekly' where the context says 'daily'"
    """
    c, s = _parse(claim), _parse(sentence)
    if not _aligned(c, s):
        return None
    for check in (_negation, _numbers, _antonym, _quantifier):
        reason = check(c, s)
        if reason:
            return reason
    return None
