"""The last gate every generated training question passes: does it stand alone, as a user
would ask it?

Questions written from documentation went wrong in recognisable ways: they named the
container instead of the subject ("What does the Ch05 say about 5.2.1. GUI network
configuration tools?"), carried markup (":c:func:`PyErr_Clear`", "``x``", table pipes,
"¶"), or pointed at text the reader cannot see ("Can you tell me what the 1st argument
is?" — of what?). :func:`question_problems` names each such problem; the offline rules and
model-written pairs (``ragtune data build --backend ...``) keep only questions without one.
Example::

    question_problems("What does the Ch05 say about 5.2.1. GUI tools?")
    # ["file name: 'Ch05'", "section number: '5.2.1.'"]
    question_problems("What does PyErr_Clear() do?")   # []
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import PurePosixPath

from ragtune.text.echo import content

MIN_WORDS, MAX_WORDS = 3, 40
# Document formats: a question naming one names the container, not the subject. Source
# files (math.py, stdio.h) are left alone: documentation discusses them as subjects.
_DOC_EXT = r"(?:rst|txt|md|markdown|html?|xhtml|pdf|adoc|asciidoc|docx?|odt|rtf|tex|epub|man)"
_FILE = re.compile(rf"(?<![\w/.-])[\w-]+(?:\.[\w-]+)*\.{_DOC_EXT}(?![\w-])", re.I)
_PATH = re.compile(
    r"(?<![\w.:/-])(?:~|\.{1,2})?/[\w.-]+(?:/[\w.-]*)*"  # /etc/x, ./docs, ~/x
    r"|(?<![\w/-])[\w.-]+/[\w.-]+\.\w{1,5}\b"  # docs/ch05.html
    r"|\b[A-Za-z]:\\|\w\\\w"  # C:\ and dir\file
)
_CHAPTER_FILE = re.compile(r"\b(?:ch|chap|sec|sect|app)[-_]?\d+\w*\b", re.I)  # ch05, sec3-2
_EXTENSION = re.compile(rf"(?<![\w.])\.{_DOC_EXT}\b", re.I)  # "a .pdf file"
_CHAPTER = re.compile(  # the keyword in any case, a letter only as a capital ("Part A")
    r"(?i:\b(?:chapter|chap\.|section|sect\.|appendix|part)\s*)"
    r"(?:\d+(?:\.\d+)*\b|[IVXLC]+\b|[A-Z]\b(?!['’]))"
    r"|(?i:\b(?:figure|fig\.|table|page|p\.)\s*)\d+\b|§"
)
_NUMBERING = re.compile(  # "5.2.1. GUI", "3. Install"; "about 5.2 GUI"
    r"(?<![\w.,])(\d{1,3}(?:\.\d{1,3})*\.)(?=\s+[A-Z(])"
    r"|\b(?:about|on|of|in|see) (\d{1,3}(?:\.\d{1,3})+)(?=\s+[A-Z])"
)
_MARKUP = re.compile(
    r"(?<!:):[a-z][\w+.-]*(?::[a-z][\w+.-]*)*:(?=[`\w])"  # reST role :c:func:
    r"|(?:^|(?<=\s)):[a-z][\w -]*:(?=\s|$)"  # reST field ":tocdepth: 2"
    r"|`|\||¶|\\\*|(?<!\w)\.\.\s|::(?=\s|$|\?)|\[\d+\]|\]\(|</?[a-z][^>]*>|&(?:[a-z]+|#\d+);"
    r"|\*\*[^*\s][^*]*\*\*|(?<![\w*])\*[^*\s][^*]*[^*\s]\*(?![\w*])|[=~^#-]{3,}",
    re.I,
)
_PREFIX = re.compile(  # a named document or topic in front of the question proper
    r"^(?:according to [^,]+,|i have a question about [^:]+:|quick question(?: about [^:]+)?:"
    r"|i'd like to know:|in [^,]+,)\s*",
    re.I,
)
_WH = frozenset("what which who whom whose when where why how".split())
_AUX = frozenset(
    "is are was were do does did can could should would will shall may might must has have had "
    "isn't aren't doesn't don't can't won't".split()
)
_QUESTION_OPENERS = _WH | _AUX | frozenset("according i in quick tell".split())
# Words that open a sentence with no subject: API reference fragments ("Return the ...",
# "Identical to ...") turned into questions lose what they are about.
_SUBJECTLESS = frozenset(
    "return returns retrieve retrieves set sets get gets clear clears create creates call calls "
    "raise raises print prints convert converts parse parses add adds remove removes release "
    "releases allocate allocates initialize initializes initialise initialises register "
    "registers compute computes check checks test tests store stores write writes read reads "
    "same identical similar equivalent analogous like alias used called invoked defined "
    "also only see use note otherwise then thus hence".split()
)
# A statement turned into a question must not open by linking to the sentence before it.
_CLAUSE_OPENERS = frozenset(
    "so but and or unfortunately fortunately however moreover furthermore therefore thus "
    "otherwise instead similarly likewise additionally conversely consequently finally first "
    "second note".split()
)
# Instructions ("..., give at least how many weeks of notice?") have no subject either.
_IMPERATIVES = _SUBJECTLESS | frozenset(
    "give report send contact ask book email enter ensure follow keep make open submit tell "
    "update wait generate run install select choose apply pay".split()
)
_PRONOUN = re.compile(r"\b(it|its|they|them|their|theirs|he|him|his|she|her|hers)\b", re.I)
_EXPLETIVE_IT = re.compile(  # "is it possible to", "it is safe to": no referent needed
    r"\b(?:is|was|isn't|wasn't|does|doesn't|would|will) it\s+(?:\S+\s+){0,3}?(?:to|that|if|when|"
    r"whether|for)\b|\bit (?:is|was)\s+(?:\S+\s+){0,2}?(?:to|that)\b|\bmake it possible\b",
    re.I,
)
_DEMONSTRATIVE = re.compile(
    r"\b(?:this|these|those)\s+(?!is\b|are\b|was\b|were\b|do\b|does\b|can\b|mean\b)(\w+)"
    r"|\bthat\s+(?:function|method|macro|class|type|object|value|module|file|example|case|"
    r"call|argument|parameter|field|variable|command|option|setting|step)\b",
    re.I,
)
_TIME = r"(?:day|week|month|year|quarter|morning|evening|night|season|release|version)s?\b"
_POINTER = re.compile(  # text the reader of the question cannot see
    r"\b(?:aforementioned|foregoing|herein|hereafter)\b|\bas follows\b"
    r"|\b(?:the|see|shown|described|listed|mentioned|given|as|explained|noted|defined) "
    r"(?:above|below)\b|\b(?:above|below)(?=\s*(?:[?,.;:]|$))"  # not "above 5%"
    rf"|\bthe following\b(?!\s+(?:working |business )?{_TIME})|\bthe (?:latter|former)\b"
    r"|\bthe (?:next|previous|preceding|last) (?:question|section|chapter|example|paragraph|"
    r"page|step|item|entry|table|figure|one|sentence|list|point)\b"
    r"|\b(?:the|this) (?:passage|text|excerpt|snippet|paragraph|context|article|chapter|"
    r"section|page|document|author)s?\b(?!\s+(?:of|on|about)\b)",  # "the section of the X on"
    re.I,
)
_ORDINAL = (
    r"(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|last|final|other|remaining)"
)
# Nouns that need an owner ("the result" of what?), with or without a modifier ("the id
# argument"); and nouns a modifier names ("the pdb module", "the print function").
_OWNED = (
    r"(?:argument|arg|parameter|param|result|return value|value|name|handler|callback|caller|"
    r"callee|pointer|buffer|field|instance|default|input|output|item|key|entry|element|member|"
    r"operand|column|row|string|list|error|code|example|call)s?"
)
_KINDS = (
    r"(?:function|method|macro|object|flag|type|variable|exception|command|program|script|"
    r"module|class|file|option)s?"
)
# "the result of X" says whose; "the result is" / "the result?" does not.
_UNQUALIFIED = (
    r"(?=\s*(?:[?,;.]|$)|\s+(?:is|are|was|were|do|does|did|can|could|should|must|will|would|"
    r"may|might|has|have|had|be|take|takes|mean|means|contain|contains|return|returns|hold|"
    r"holds|point|points|expect|expects|need|needs|get|gets|set)\b)"
)
_OWNER = r"(?!\s+(?:of|to|for|in|from|passed|given|returned)\b)"  # "the 1st argument of X"
_ORDINAL_REF = re.compile(rf"\bthe {_ORDINAL} (?:{_OWNED}|{_KINDS})\b{_OWNER}", re.I)
_GENERIC_REF = re.compile(rf"\bthe (?:(?:\w+ )?{_OWNED}|{_KINDS})\b{_UNQUALIFIED}", re.I)
# A name the question is about: an identifier (PyErr_Clear(), sys.exit, __init__,
# CamelCase), a capitalised word past the first, a quoted term.
_NAMED = re.compile(
    r"\w+\(\)|\b\w+[._]\w+|\b[A-Z]\w*[A-Z]\w*|(?<=\s)[A-Z][\w'-]*|[\"“'‘][^\"”'’]{2,}[\"”'’]"
)
_ANTECEDENT = re.compile(r"\b(?:a|an|the|each|every|any|all|my|our|your)\s+[\w-]+|\b\w{4,}s\b")


def question_problems(question: str, forbidden: Iterable[str] = ()) -> list[str]:
    """What keeps ``question`` from standing alone as a user's question; ``[]`` when nothing.

    ``forbidden`` adds strings it must not contain (a document's file name and the title
    made from it). Each problem reads ``"kind: 'evidence'"``. Example::

        question_problems("Can you tell me what the 1st argument is?")
        # ["dangling reference: 'the 1st argument'"]
    """
    q = question.strip()
    found = _shape(q) + label_problems(q, forbidden)
    found += [f"dangling reference: {m.group()!r}" for m in _POINTER.finditer(q)]
    return list(dict.fromkeys(found + _dangling(_PREFIX.sub("", q))))


def label_problems(text: str, forbidden: Iterable[str] = ()) -> list[str]:
    """File names, section numbers and markup in ``text`` (a question, or a title or heading
    a question would quote)."""
    return _containers(text, forbidden) + _markup(text)


def _shape(q: str) -> list[str]:
    words = q.split()
    out = [] if q.endswith("?") else ["not a question: no '?' at the end"]
    if re.search(r"[.,;:]\s*\?$", q):
        out.append(f"not a question: {q[-2:]!r} at the end")
    if not MIN_WORDS <= len(words) <= MAX_WORDS:
        out.append(f"length: {len(words)} words (want {MIN_WORDS}-{MAX_WORDS})")
    if "  " in q or "\n" in q:
        out.append("stray whitespace: a title made from a file name?")
    asks = re.search(r"\b(?:how|what|which|who|when|where|why)\b[^;]*;", q, re.I)
    if asks or "?" in q[:-1]:  # "By what date ...; any days not used are lost?"
        out.append("not one question: a second sentence after it")
    if re.search(r"\([^)]*\b(?:how|what|which)\b[^)]*\)", q, re.I):
        out.append("question word inside parentheses")
    return out


def _containers(q: str, forbidden: Iterable[str]) -> list[str]:
    out = [f"file name: {m.group()!r}" for m in _FILE.finditer(q)]
    out += [f"path: {m.group()!r}" for m in _PATH.finditer(q) if not _FILE.fullmatch(m.group())]
    out += [f"file name: {m.group()!r}" for m in _CHAPTER_FILE.finditer(q)]
    out += [f"section number: {m.group().strip()!r}" for m in _CHAPTER.finditer(q)]
    out += [f"file extension: {m.group()!r}" for m in _EXTENSION.finditer(q)]
    out += [f"section number: {(m.group(1) or m.group(2))!r}" for m in _NUMBERING.finditer(q)]
    low = " ".join(q.lower().split())  # "C api  init" and "C api init" alike
    for name in forbidden:
        name = " ".join(name.split())
        if name and re.search(rf"(?<!\w){re.escape(name.lower())}(?!\w)", low):
            out.append(f"file name: {name!r}")
    return list(dict.fromkeys(out))


def _markup(q: str) -> list[str]:
    return [f"markup: {m.group()!r}" for m in _MARKUP.finditer(q)][:3]


def _dangling(core: str) -> list[str]:
    """References to something the question does not name."""
    out = [f"dangling reference: {m.group()!r}" for m in _DEMONSTRATIVE.finditer(core)]
    if not _named(core):  # "the 1st argument" of what? Fine once the question names it
        refs = [*_ORDINAL_REF.finditer(core), *_GENERIC_REF.finditer(core)]
        out += [f"dangling reference: {m.group()!r}" for m in sorted(refs, key=lambda m: m.start())]
    expletive = {m.start() for m in _EXPLETIVE_IT.finditer(core)}
    for m in _PRONOUN.finditer(core):
        before = core[: m.start()]
        if m.group().isupper() and len(m.group()) > 1:
            continue  # "IT" the department, not "it"
        if m.group().lower() == "it" and any(s <= m.start() <= s + 12 for s in expletive):
            continue
        if not (_named(core) or _ANTECEDENT.search(before)):  # "Why is it called Python?"
            out.append(f"dangling reference: {m.group()!r} (what is it?)")
            break
    words = [w.lower().strip("\"'(,") for w in core.split()]
    first = words[0] if words else ""
    echo = not _WH & set(words[:3]) and first not in _QUESTION_OPENERS  # "X takes how many ...?"
    main = core.split(", ", 1)[1].split() if echo and ", " in core else []  # after "If ..., "
    if first in _SUBJECTLESS or (echo and first in _CLAUSE_OPENERS):
        out.append(f"no subject: starts with {core.split()[0]!r}")
    elif main and main[0].lower() in _IMPERATIVES:
        out.append(f"no subject: an instruction ({main[0]!r})")
    elif not content(core):
        out.append("no subject: only function words")
    return list(dict.fromkeys(out))


def _named(text: str) -> bool:
    return any(m.group().split()[0].lower() not in _QUESTION_OPENERS for m in _NAMED.finditer(text))


def file_tokens(doc_id: str, title: str = "", text: str = "") -> list[str]:
    """Strings a question about document ``doc_id`` must not contain: its path, file name
    and stem, and ``title`` when that title was made from the file name ("Ch05", "C api
    abstract") and ``text`` never says it. A plain word stem ("leave") is left out: it can be
    a subject in its own right, and so can a title the text itself uses ("Code of Conduct")."""
    path = PurePosixPath(doc_id)
    stem = path.name.split(".")[0]
    out = [doc_id, path.name]
    if _file_like(stem):
        out.append(stem)
    said = " ".join(title.split()) in " ".join(text.split())
    if title and is_file_title(title, doc_id) and _file_like(title) and not said:
        out.append(title)
    return list(dict.fromkeys(t for t in out if t))


def is_file_title(title: str, doc_id: str) -> bool:
    """Whether ``title`` is only the file name of ``doc_id`` respelled (the loaders' fallback
    for formats without a title: "c-api__init.rst.txt" -> "C api  init")."""
    stem = PurePosixPath(doc_id).name.split(".")[0]
    return _letters(title) == _letters(stem) or bool(_FILE.search(title))


def _letters(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def _file_like(token: str) -> bool:
    return bool(re.search(r"\d|[._\s-]", token))


def gate(questions: Sequence[str], forbidden: Iterable[str] = ()) -> tuple[list[str], int]:
    """(the questions without a problem, how many were dropped)."""
    names = list(forbidden)
    kept = [q for q in questions if not question_problems(q, names)]
    return kept, len(questions) - len(kept)
