"""The sentence rules of the offline QA builder: a quantity or a definition asked about.

``quantity_questions`` turns a sentence stating a number, amount, percentage or date into
questions whose answer it is ("Up to 5 days of unused leave may be carried over ..." ->
"How many days of unused leave may be carried over ...?"); ``definition_questions`` asks
about ``X is a Y`` and ``Term: the ...`` sentences. Both read a :class:`DocContext` for the
document's topic and names; :mod:`ragtune.finetune.qa_offline` runs them. Example::

    quantity_questions("Cursors expire after 15 minutes.", DocContext(doc))
    # ["After how many minutes do cursors expire?", ...]
"""

from __future__ import annotations

import re

from ragtune.finetune.qa_context import DocContext
from ragtune.text.stopwords import QA as QA_STOPWORDS

# fmt: off
_PRONOUN_START = frozenset("this these those that it its they their there here he she such".split())
# Words that open a clause or phrase, never a subject (qa_offline uses them for headings too).
SUBORDINATE = frozenset(
    "if when for to as where although because unless after before once while in on at by during "
    "from with without under over within since until each every all any between across per via "
    "through".split())
_AUX = frozenset("is are was were may must can could should will would shall might has have"
                 .split())
_DETERMINERS = frozenset("the these those its their his her our your first last next every"
                         .split())
_PIED = frozenset("within after for by in on during before until from".split())  # fronted preps
_EXT_STOP = _PIED | _AUX | frozenset(
    "per to at into through with without and or but that when where if unless while".split())
_IMPERATIVE = frozenset(
    "add ask book check click confirm contact copy create delete do enter ensure follow give go "
    "install keep make note open read record remove report request restart review run select "
    "send set submit take tell update use verify wait".split())
_MODIFIERS = frozenset(
    "working calendar business consecutive additional extra full further paid unpaid separate "
    "new more free optional rolling whole complete".split())
_UNITS = frozenset(
    "day week month year hour minute second night km mile person user request token time seat "
    "page".split())
_MONTHS = frozenset(
    "january february march april may june july august september october november december"
    .split())
# fmt: on
_NUMWORDS = "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty"
_QUAL_MAX = ("up to", "at most", "no more than", "a maximum of", "maximum of")
_QUAL_MIN = ("at least", "no fewer than", "no less than", "a minimum of", "minimum of")
_COMPARATIVE = ("more than", "fewer than", "less than")
_QUAL_DROP = ("about", "around", "approximately")
_QUALS = "|".join(re.escape(q) for q in (
    *_QUAL_MAX, *_QUAL_MIN, *_QUAL_DROP, *_COMPARATIVE, "over", "under"))  # fmt: skip
_QTY = re.compile(
    rf"(?:\b(?P<qual>{_QUALS})\s+)?(?P<num>(?:EUR|USD|GBP|€|\$|£)\s?\d+(?:,\d{{3}})*(?:\.\d+)?"
    rf"|(?<![\w.-])\d+(?:,\d{{3}})*(?:\.\d+)?(?![\d,.:/]*\d)(?:\s?%)?"
    rf"|\b(?:{_NUMWORDS.replace(' ', '|')})\b)",
    re.IGNORECASE,
)
_RANGE_END = re.compile(  # "1 to", "March -", "five or": the number after it ends a range
    rf"(?:\d|\b(?:{'|'.join([*_NUMWORDS.split(), *sorted(_MONTHS)])}))\s*(?:to|and|or|-|–|,|/)$"
)
_ORDINAL = re.compile(r"\bthe (\d{1,2})(?:st|nd|rd|th)\b")
_UNIT = re.compile(rf"((?:\s+(?:{'|'.join(sorted(_MODIFIERS))})\b){{0,2}})\s+([A-Za-z][\w-]*)")
_DEFINITION = re.compile(
    r"^(?P<term>(?:(?:The|A|An) )?[\w'’-]+(?: [\w'’-]+){0,3}?) (?P<verb>is|are) "
    r"(?P<def>(?:a|an|the|one of) .+|[A-Z].+)$"
)
_COLON_DEF = re.compile(r"^(?P<term>[A-Z][\w'’-]*(?: [\w'’-]+){0,2}): (?P<def>(?:a|an|the) .+)$")


def quantity_questions(sentence: str, ctx: DocContext) -> list[str]:
    """Questions whose answer is the number, amount, percentage or date in ``sentence``."""
    s = sentence.rstrip(" .;:!")
    target = _target(s)
    vague = s.split(" ", 1)[0].lower() in _PRONOUN_START or s.lower().startswith("for example")
    if target is None or vague or ": " in s:
        return []  # context-dependent, or a "label: value" line without a verb
    qstart, qual, wh, ext_end, kind, raw_qual = target
    words, post = s[:qstart].split(), s[ext_end:]
    prep = words.pop() if words and words[-1].lower() in _PIED else ""
    whp = " ".join(p for p in (prep.lower(), qual, wh) if p)
    parts = None if qual in _COMPARATIVE else _clause(words, ctx)
    clause = ""  # the sentence minus the quantity, in statement order, for "that ..." forms
    if not words:
        out = [_q(whp + post), _q("Can you tell me " + whp + post)]
        clause = post if post.split()[:1] and post.split()[0] in _AUX else ""
    elif parts is not None:
        subj, aux, mid, inverted = parts
        clause = f" {subj} {aux}{mid}{post}"
        out = [_q(f"{whp} {inverted}{mid}{post}"), _q(f"Can you tell me {whp}{clause}")]
    else:
        out = [_q(f"{' '.join(words)} {whp}{post}")]
    if kind == "count" and not prep and clause and raw_qual in (*_QUAL_MAX, *_QUAL_MIN):
        size = "maximum" if raw_qual in _QUAL_MAX else "minimum"
        out.append(_q(f"What is the {size} number of {wh.removeprefix('how many ')} that{clause}"))
    return (
        [*out, _q(f"According to {ctx.the_topic}, {ctx.lc(out[0][:-1])}")] if ctx.the_topic else out
    )


def _target(s: str) -> tuple[int, str, str, int, str, str] | None:
    """(start, kept qualifier, wh-phrase, end of the phrase it replaces, kind, raw qualifier)."""
    found = [p for m in _QTY.finditer(s) if (p := _parse_quantity(s, m)) is not None]
    for m in _ORDINAL.finditer(s):
        unit, end = _unit(s, m.end())
        if not unit or unit[-1].lower() in QA_STOPWORDS or not unit[-1].islower():
            unit, end = ["day"], m.end()
        ext = _extension(s, end, _EXT_STOP)
        found.append((m.start(), "", f"which {' '.join(unit)}{s[end:ext]}", ext, "ordinal", ""))
    return min(found, key=lambda f: (not f[5], f[0])) if found else None  # qualified first


def _parse_quantity(s: str, m: re.Match[str]) -> tuple[int, str, str, int, str, str] | None:
    num, raw_qual = m.group("num"), (m.group("qual") or "").lower()
    head = s[: m.start("num")].rstrip()
    lead, after = head.lower(), s[m.end() :]
    if lead.split()[-1:] and lead.split()[-1] in _DETERMINERS:
        return None  # "the three days" refers back to something said before
    if num[0].isdigit() and not raw_qual and re.search(r"\S\s+[A-Z][\w-]*$", head):
        return None  # "RHEL 8", "Relay 3": a version or a name, not a quantity
    if _RANGE_END.search(lead) or re.match(r"\s*(?:to|-|–|and|or|,)\s*\d", after):
        return None  # part of a range or a list of numbers: ambiguous target
    words = s[: m.start()].split()
    if words and words[-1].lower() in _PIED:
        words.pop()
    stops = _EXT_STOP - _AUX if words else _EXT_STOP  # after a subject, "was" ends no phrase
    qual = "" if raw_qual in _QUAL_DROP else raw_qual
    if num[0] in "€$£" or num[:3].upper() in ("EUR", "USD", "GBP"):
        return m.start(), qual, "how much", m.end(), "money", raw_qual
    if num.endswith("%") or re.match(r" percent\b", after, re.IGNORECASE):
        end = m.end() + (len(" percent") if not num.endswith("%") else 0)
        ext = _extension(s, end, stops)
        return m.start(), qual, "what percentage" + s[end:ext], ext, "percent", raw_qual
    if re.fullmatch(r"(?:19|20)\d\d", num) or (not lead and num.lower() in ("1", "one")):
        return None  # a year, or "One day equals ...": a unit being defined
    unit, end = _unit(s, m.end())
    if unit and unit[-1].lower() in _MONTHS and num.isdigit():
        if re.match(r"\s+(?:to|-|–|and)\s+\d", s[end:]):
            return None
        year = re.match(r"\s+\d{4}\b", s[end:])
        end += year.end() if year else 0
        return m.start(), "", "what date", end, "date", ""
    if not unit or not _is_unit(unit[-1], num):
        return None
    if re.match(r"\s+(?:the|a|an|its|their|this|that|these|those)\b", s[end:]):
        return None  # "5 describes the ...": a verb, so the number names something (PEP 5)
    qual = "" if raw_qual in _QUAL_MAX else qual
    ext = _extension(s, end, stops)
    noun = " ".join([*unit[:-1], _plural(unit[-1])])
    return m.start(), qual, f"how many {noun}{s[end:ext]}", ext, "count", raw_qual


def _unit(s: str, pos: int) -> tuple[list[str], int]:
    """The words naming what is counted after a number ("working days") and where they end."""
    m = _UNIT.match(s, pos)
    return ([*m.group(1).split(), m.group(2)], m.end()) if m else ([], pos)


def _is_unit(word: str, num: str) -> bool:
    low = word.lower()
    if low in _MONTHS:
        return True
    if not word[0].islower() or low in QA_STOPWORDS or low.endswith(("ss", "ous", "us")):
        return low in _UNITS
    return low.endswith("s") or (low in _UNITS and num.lower() in ("1", "one"))


def _plural(word: str) -> str:
    if word.endswith("s") or word == "person":
        return "people" if word == "person" else word
    if word.endswith("y") and word[-2:-1] not in "aeiou":
        return word[:-1] + "ies"
    return word + ("es" if word.endswith(("ch", "sh", "x")) else "s")


def _extension(s: str, pos: int, stops: frozenset[str]) -> int:
    """End of an ``of ...`` phrase right after ``pos`` (it moves with the wh-phrase)."""
    stop = "|".join(sorted(stops))
    m = re.match(rf" of((?: [\w'’-]+)+?)(?= (?:{stop})\b|[,;:()]|$)", s[pos:])
    return pos + m.end() if m else pos


def _clause(words: list[str], ctx: DocContext) -> tuple[str, str, str, str] | None:
    """Split ``Subject AUX middle`` (or ``Subject verb-s``) into (subject, aux, middle,
    inverted 'aux subject'); None when the sentence does not have that simple shape."""
    if not words or any(re.search(r"^(?:not|cannot)$|n't$|[,;]$", w.lower()) for w in words):
        return None  # negations and clauses joined by commas do not invert safely
    auxes = [i for i, w in enumerate(words) if w.lower() in _AUX]
    if len(auxes) > 1:
        return None  # "The longest lifetime a user can choose is ...": no simple subject
    aux_at = auxes[0] if auxes else None
    if aux_at is not None:
        subj_words, aux, mid = words[:aux_at], words[aux_at].lower(), words[aux_at + 1 :]
    elif len(words) >= 2 and re.fullmatch(r"[a-z]+[^s]s", words[-1]):
        subj_words, aux, mid = words[:-1], "does", [_lemma(words[-1])]
    else:
        return None
    first = subj_words[0].lower() if subj_words else ""
    if not 1 <= len(subj_words) <= 8 or first in SUBORDINATE | _PRONOUN_START | _IMPERATIVE:
        return None
    if len(mid) > 6:
        return None  # a long verb phrase: the echo question reads better
    subj = ctx.lc(" ".join(subj_words))
    middle = "".join(" " + w for w in mid)
    if aux == "does":  # embedded order keeps the verb as written
        return subj, words[-1], "", f"does {subj}{middle}"
    return subj, aux, middle, f"{aux} {subj}"


def _lemma(verb: str) -> str:
    if verb.endswith("ies"):
        return verb[:-3] + "y"
    if verb.endswith(("ches", "shes", "sses", "xes", "zes", "oes")):
        return verb[:-2]
    return {"has": "have"}.get(verb, verb[:-1])


def _q(text: str) -> str:
    text = re.sub(r"\s+([,;:])", r"\1", " ".join(text.split())).rstrip(" ,;:.")
    return text[:1].upper() + text[1:] + "?"


def definition_questions(sentence: str, ctx: DocContext) -> list[str]:
    """Questions for ``X is a Y`` and ``Term: the ...`` sentences."""
    s, t = sentence.rstrip(" .;"), ctx.the_topic
    m = _DEFINITION.match(s)
    if m and _good_term(m.group("term")):
        term, v = ctx.lc(m.group("term")), m.group("verb")
        wh = "who" if re.match(r"the [A-Z]", m.group("def")) else "what"
        out = [_q(f"{wh} {v} {term}"), _q(f"Can you tell me {wh} {term} {v}")]
        return [*out, _q(f"According to {t}, {wh} {v} {term}")] if t else out
    m = _COLON_DEF.match(s)
    verb = m is not None and _AUX & set(m.group("def").split()[:6])  # a rule, not a definition
    if m and not verb and _good_term(m.group(1)) and not re.search(r"\d|\b(and|or|The)\b", m[1]):
        term = m.group("term")
        if not t:
            return [f"What does {term} mean?", f"How is {term} defined?",
                    f"Can you explain what {term} is?"]  # fmt: skip
        return [f"What does {term} mean in {t}?", f"How does {t} define {term}?",
                f"Can you explain what {term} is?"]  # fmt: skip
    return []


def _good_term(term: str) -> bool:
    """A name or short noun phrase, not a pronoun, clause opener or imperative verb."""
    words = term.split()
    if words[0].lower() in _PRONOUN_START | SUBORDINATE | _IMPERATIVE | {"then", "also"}:
        return False
    if {"below", "above", "following"} & {w.lower() for w in words}:
        return False  # points at text the question cannot show
    if words[0] in ("The", "A", "An"):
        return 2 <= len(words) <= 3 and words[1].lower() not in ("most", "main", "only", "other")
    return len(words) <= 2 or all(w[:1].isupper() for w in words)
