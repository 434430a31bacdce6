"""Question/answer pairs from document text by rules, without a language model.

A *fact* is one sentence of a document (its exact character span is kept) asked as several
questions whose answer is that sentence. Rules, in order of preference: quantities (numbers,
amounts, percentages, dates: "Up to 5 days of unused leave may be carried over ..." ->
"How many days of unused leave may be carried over ...?"), definitions ("X is a Y",
"Term: the ..."; both in :mod:`ragtune.finetune.qa_rules`), FAQ headings, and section
headings with the section's key sentence.
The phrasings of a fact differ in template ("How many ...", "Can you tell me how many ...",
"What is the maximum number of ...", "According to the <topic>, ..."), so a held-out phrasing
tests more than recall of the training question. Reference entries (a Sphinx directive and
its body) are asked about by the object's name ("What does PyErr_Clear() do?"). Questions
name subjects from the text (:mod:`ragtune.finetune.qa_context`), never the file, and each
must pass :func:`ragtune.finetune.qa_check.question_problems`; a sentence whose questions
all fail is skipped and counted. Example::

    facts = facts_from_document(doc, project.store.chunks_of(doc.id))
    facts[0].questions[0], facts[0].answer, doc.text[facts[0].start : facts[0].end]
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ragtune.finetune.qa_check import gate, label_problems
from ragtune.finetune.qa_context import CALLABLE, DocContext, Passage, passages, resolve
from ragtune.finetune.qa_rules import SUBORDINATE, definition_questions, quantity_questions
from ragtune.text.sentences import clean
from ragtune.types import Chunk, Document


@dataclass(frozen=True)
class Fact:
    """One answer (a sentence at ``doc.text[start:end]``) and the questions it answers."""

    doc_id: str
    chunk_id: str
    start: int
    end: int
    answer: str
    questions: tuple[str, ...]
    rule: str  # quantity | definition | api | faq | section | overview | model


def clean_text(text: str) -> str:
    """A sentence span as plain prose (markup unwrapped, lines joined): how answers are
    written, by :func:`ragtune.text.sentences.clean`."""
    return clean(text)


# -- heading and reference-entry rules -----------------------------------------------------
_GENERIC_HEADINGS = frozenset(
    "introduction overview summary details notes examples example usage background description "
    "synopsis parameters arguments returns options contents history references footnotes "
    "limitations caveats requirements prerequisites troubleshooting".split()
) | {
    "see also",
    "learn more",
    "quick overview",
    "a quick overview",
    "how it works",
    "what's next",
    "what’s next",
    "next steps",
    "getting started",
    "further reading",
    "more information",
}


def section_questions(section: str, ctx: DocContext) -> tuple[str, list[str]]:
    """(rule, questions) for a section heading: FAQ headings are questions already."""
    name, t = section.strip(), ctx.the_topic
    if re.search(r"\?\s*\([^()]*\)$", name):  # "How do I delete a file? (And other ...)"
        name = re.sub(r"\s*\([^()]*\)$", "", name)
    if not re.search(r"[A-Za-z]{2}", name) or ":" in name or len(name.split()) > 12 or "--" in name:
        return "", []
    if label_problems(name + "?", ctx.forbidden):
        return "", []  # a heading that is a file name or still carries markup
    if name.endswith("?"):
        q = ctx.lc(name)
        out = [f"Quick question: {q}", f"I'd like to know: {q}"]
        return "faq", [f"According to {t}, {q}", *out] if t else out
    if ctx.topic and name.lower() == ctx.topic.lower():
        if t:
            return "overview", [f"What is {t} about?", f"What does {t} cover?",
                                f"Can you give me an overview of {t}?"]  # fmt: skip
        return "overview", _subject_questions(name, ctx, overview=True)
    x = ctx.lc_heading(name)
    if t:  # "Who can use this policy" under the Speak Up Policy: the policy is named
        x = re.sub(r"\bthis (policy|guide|document|code|procedure|manual|handbook)\b", r"the \1",
                   x, flags=re.I)  # fmt: skip
        return "section", [
            f"What does {t} say about {x}?",
            f"What should I know about {x} according to {t}?",
            f"Can you summarise what {t} says about {x}?",
        ]
    questions = _subject_questions(name, ctx)
    return ("section", questions) if questions else ("", [])


_HOW_TO = re.compile(r"how\s+to\s+(\w.*)", re.IGNORECASE)
_NOT_A_SUBJECT = frozenset("we you i it they he she this these that there here".split())
_FINITE = frozenset(
    "is are was were will would can could should shall may might must has have had does do "
    "did isn't aren't won't can't don't doesn't".split()
)
# Headings that tell the reader what to do: asked as "How do I ...?".
_INSTRUCTION = frozenset(
    "add build change check choose configure create customize customise define deploy disable "
    "enable extend give install integrate keep make migrate override provide register remove "
    "run serve set test upgrade use write".split()
)


def _subject_questions(name: str, ctx: DocContext, overview: bool = False) -> list[str]:
    """Questions that name a heading alone, so each stands without its chapter: "How do I
    customize the admin form?", "What should I know about running Django in Uvicorn?".
    None for headings that do not name a subject a reader could ask about: generic ones
    ("Examples"), a lone common word ("Security": of what?), a sentence ("We identify a
    bug", "Tests will save you time")."""
    how = _HOW_TO.fullmatch(name.rstrip("."))
    if how:
        return [f"How do I {how.group(1)}?", f"How can I {how.group(1)}?"]
    words = name.split()
    lowered = [w.lower().strip(",;") for w in words]
    if name.lower() in _GENERIC_HEADINGS or not name[:1].isalnum():
        return []
    if lowered[0] in _NOT_A_SUBJECT | SUBORDINATE or _FINITE & set(lowered):
        return []  # "We identify a bug", "For distributors": a sentence or a fragment
    if name.endswith((".", "!")):
        return []
    if len(words) == 1 and ctx.is_common(name):
        return []
    x = name if len(words) == 1 else ctx.lc_heading(name)  # one uncommon word: a name
    if lowered[0] in _INSTRUCTION and len(words) >= 2:
        mine = re.sub(r"\byour(self)?\b", lambda m: "myself" if m[1] else "my", x)
        return [f"How do I {mine}?", f"How can I {mine}?"]  # "Write your view" -> my view
    if overview:
        x = re.sub(r"^The ", "the ", x)
        return [f"Can you give me an overview of {x}?", f"What should I know about {x}?"]
    return [f"What should I know about {x}?", f"Can you explain {x}?",
            f"Can you summarise the main point about {x}?"]  # fmt: skip


def api_questions(subject: str, kind: str, sentence: str) -> list[str]:
    """Questions about the object a reference entry documents, answered by its first
    sentence ("Clear the error indicator." -> "What does PyErr_Clear() do?")."""
    if kind in CALLABLE or subject.endswith("()"):
        returns = sentence.split(" ", 1)[0].lower() in ("return", "returns")
        return [*(["What does " + subject + " return?"] if returns else []),
                f"What does {subject} do?", f"What is {subject} used for?",
                f"Can you explain what {subject} does?"]  # fmt: skip
    return [f"What is {subject}?", f"What is {subject} used for?", f"Can you explain {subject}?"]


# -- per document ------------------------------------------------------------------------
_PRIORITY = {"quantity": 0, "definition": 1, "api": 1, "faq": 2, "overview": 2, "section": 3}
_QUOTA = {"quantity": 6, "definition": 3, "api": 4, "faq": 3, "overview": 1, "section": 2}


def facts_from_document(
    doc: Document, chunks: Sequence[Chunk], max_facts: int = 10, stats: Counter[str] | None = None
) -> list[Fact]:
    """Up to ``max_facts`` facts of ``doc``, quantities first, in document order.

    Every question passes :func:`~ragtune.finetune.qa_check.question_problems`; ``stats``
    counts the questions dropped (``unclear_questions``) and the sentences left without one
    (``unclear_passages``)."""
    ctx, stats = DocContext(doc), Counter() if stats is None else stats
    facts: list[tuple[int, Fact]] = []
    for p in passages(doc.text):
        chunk = next((c for c in chunks if c.start <= p.start and p.end <= c.end), None)
        words = len(p.text.split())
        if chunk is None or not 3 <= words <= 60 or "|" in p.text:
            continue
        if re.match(r"(?:XXX|TODO|FIXME)\b", p.text):
            continue  # an editor's note ("XXX need review for Python 3."), not a fact
        if not re.search(r"[.!?;][\"')]?$", p.text) or p.text.count("(") != p.text.count(")"):
            continue  # a fragment, or a sentence cut inside "(a.k.a. ...)"
        rule, questions = _questions(p, ctx, words, stats)
        # Support and copy checks happen in data.py, which counts what they drop.
        if questions:
            fact = Fact(doc.id, chunk.id, p.start, p.end, p.text, tuple(questions), rule)
            facts.append((_PRIORITY[rule], fact))
    return _choose([f for _, f in sorted(facts, key=lambda pf: (pf[0], pf[1].start))], max_facts)


def _questions(
    p: Passage, ctx: DocContext, words: int, stats: Counter[str]
) -> tuple[str, list[str]]:
    """(rule, questions) of the first rule whose questions pass the gate; what the gate
    drops is counted, and so is a sentence a rule wrote for but none passed."""
    asked = resolve(p.text, p.subject)  # "This function ..." -> "PyErr_Clear() ..."
    tries: list[Callable[[], tuple[str, list[str]]]] = []
    if p.opens and p.subject and len(re.findall(r"\b[A-Za-z]{2,}\b", p.text)) >= 4:
        # A reference entry's first sentence describes its object (when it is prose).
        tries.append(lambda: ("api", api_questions(p.subject, p.kind, p.text)))
    if words >= 5:
        tries.append(lambda: ("quantity", quantity_questions(asked, ctx)))
    # In a reference entry "args is a tuple" defines a parameter: "What is args?" of what?
    if words >= 5 and not (p.subject and re.match(r"[a-z_]\w*\s", p.text)):
        tries.append(lambda: ("definition", definition_questions(asked, ctx)))
    if p.opens and not p.subject and words >= 5:
        tries.append(lambda: section_questions(p.section or ctx.topic, ctx))
    wrote = False
    for make in tries:
        rule, written = make()
        kept, dropped = gate(list(dict.fromkeys(written)), ctx.forbidden)
        stats["unclear_questions"] += dropped
        wrote = wrote or bool(written)
        if kept:
            return rule, kept
    stats["unclear_passages"] += wrote
    return "", []


def _choose(ranked: list[Fact], max_facts: int) -> list[Fact]:
    """Best-ranked facts with a quota per rule (so one rule cannot crowd out the others),
    topped up from the rest; returned in document order."""
    chosen: list[Fact] = []
    for fact in ranked:
        if sum(f.rule == fact.rule for f in chosen) < _QUOTA[fact.rule] and len(chosen) < max_facts:
            chosen.append(fact)
    chosen += [f for f in ranked if f not in chosen][: max_facts - len(chosen)]
    return sorted(chosen, key=lambda f: f.start)
