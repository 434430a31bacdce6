"""What a question about a sentence may name: the document's topic, the section heading and
the API object a reference entry documents — taken from the text, never from the file name.

Documentation titles are often file names ("c-api__init.rst.txt" becomes "C api  init"),
headings carry numbers ("5.2.1. GUI tools") and reference entries describe an object whose
name sits in a directive line the reader never sees (``.. c:function:: void PyErr_Clear()``
followed by "Clear the error indicator."). :func:`passages` returns every sentence with its
clean heading and subject; :class:`DocContext` holds the document's topic ("Design and
History FAQ", from its first heading when the title is a file name). Example::

    ctx = DocContext(doc)
    for p in passages(doc.text):
        p.text, p.section, p.subject       # "Clear the error indicator.", "...", "PyErr_Clear()"
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ragtune.finetune.qa_check import file_tokens, is_file_title, question_problems
from ragtune.text.sentences import HEADING, SENTENCE, clean, units
from ragtune.types import Document

# Sphinx object directives whose indented body describes the named object.
_DIRECTIVE = re.compile(
    r"^([ \t]*)\.\.\s+(?:(?:c|py|cpp|js):)?(function|method|classmethod|staticmethod|decorator|"
    r"macro|class|exception|type|struct|union|enum|enumerator|data|var|member|attribute|"
    r"property|envvar)::[ \t]*(\S.*?)[ \t]*$",
    re.M,
)
_MEMBERS = frozenset("member attribute data var enumerator property method".split())
CALLABLE = frozenset("function method classmethod staticmethod decorator".split())
_IDENT = re.compile(r"[A-Za-z_][\w.]*")
_CODE_HEADING = re.compile(r"([A-Za-z_][\w.]*)\s*(\(.*\))?")
_LINE = re.compile(r"[^\n]*\n?")
_LIST_MARK = re.compile(r"(?:[-*+•]|\d{1,2}[.)]|#\.|\([a-z0-9]\))\s+")
_NUMBER_PREFIX = re.compile(
    r"^\s*(?:(?:chapter|chap\.|section|sect\.|appendix|part)\s+(?:\d+|[IVXLC]+|[A-Z])\b[.:)]?"
    r"\s*(?:[-—–]\s*)?|§\s*\d+(?:\.\d+)*\.?\s*|\d+(?:\.\d+)+\.?\s+|\d{1,3}[.)]\s+"
    r"|(?:[A-Z]|[IVXLC]+)(?:\.\d+)*[.)]\s+)",
    re.I,
)
# Titles that end (or start) with one of these read as a document: "the Leave Policy".
_DOC_NOUNS = frozenset(
    "faq faqs questions policy policies guide guidelines manual handbook reference tutorial "
    "howto overview glossary notes specification spec sla agreement procedure procedures rules "
    "checklist documentation docs conduct plan plans runbook playbook standard standards terms "
    "charter readme instructions calendar process handbook".split()
)


@dataclass(frozen=True)
class Passage:
    """One sentence at ``text[start:end]`` and what a question about it may name."""

    start: int
    end: int
    text: str  # the sentence as plain prose (markup removed)
    section: str  # the nearest heading above it, cleaned and without its number
    subject: str  # the API object it documents ("PyErr_Clear()"), or ""
    kind: str  # the directive kind of ``subject`` ("function", "type", ...), or ""
    opens: bool  # the first sentence under its heading or of its reference entry


def strip_numbering(heading: str) -> str:
    """``"5.2.1. GUI tools"`` -> ``"GUI tools"``; also "Chapter 3:", "§4", "A.1", "IV.", a
    trailing "¶" and a site name after " — " ("Network setup — Debian Reference")."""
    text = re.split(r"\s+[—–|]\s+|\s+-\s+", heading.strip())[0]
    text = re.sub(r"\s*[¶#]+\s*$", "", text)
    return _NUMBER_PREFIX.sub("", text, count=1).strip()


def passages(text: str) -> list[Passage]:
    """Every sentence of ``text`` (split by :func:`ragtune.text.sentences.units`) with its
    heading and subject, exact offsets without list markers."""
    blocks = _blocks(text)
    out: list[Passage] = []
    section, opened, seen_blocks = "", True, set()
    every = units(text)
    # Unmarked title lines are a PDF's; where the text marks its headings (HTML, Markdown,
    # reST), a short first line is a paragraph wrapped early ("The messages framework contains").
    marked = any(u.kind == HEADING for u in every)
    for unit in every:
        if unit.kind == HEADING:
            section, opened = strip_numbering(clean_heading(unit.text)), True
            continue
        if unit.kind != SENTENCE:
            continue
        start, end = unit.start, unit.end
        title = None if marked else _untitled_heading(text, start, end)
        if title is not None:  # a PDF title line the splitter joined to the first sentence
            section, opened, start = title[0], True, title[1]
        mark = _LIST_MARK.match(text, start, end)
        start = mark.end() if mark else start
        inside = [b for b in blocks if b[0] <= start < b[1]]
        block = max(inside) if inside else None  # the innermost: a method inside its class
        subject, kind = (block[2], block[3]) if block else _heading_subject(section)
        opens = opened or (block is not None and block[0] not in seen_blocks)
        if block is not None:
            seen_blocks.add(block[0])
        out.append(Passage(start, end, clean(text[start:end]), section, subject, kind, opens))
        opened = False
    return out


def clean_heading(text: str) -> str:
    """A heading as plain text: markup removed, code-ish names kept."""
    return clean(text).rstrip(":").strip()


def _blocks(text: str) -> list[tuple[int, int, str, str]]:
    """(start, end, subject, kind) of each reference entry: a directive and its indented body.
    A member named inside its type's entry is named with the type ("Py_buffer.len"); a bare
    common word with no such parent ("len", "obj") names nothing a reader could look up."""
    out: list[tuple[int, int, str, str]] = []
    for m in _DIRECTIVE.finditer(text):
        name = api_name(m.group(2), m.group(3))
        indent, end = len(m.group(1).expandtabs()), m.end()
        for line in _LINE.finditer(text, m.end()):
            body = line.group().rstrip("\n")
            if not line.group() or (body.strip() and len(body) - len(body.lstrip()) <= indent):
                break
            end = line.end()
        parents = [b for b in out if b[0] < m.start() < b[1] and b[2]]
        if name and "." not in name and m.group(2) in _MEMBERS and parents:
            name = f"{max(parents)[2].removesuffix('()')}.{name}"
        elif not re.search(r"[_.(A-Z]", name):
            name = ""
        out.append((m.start(), end, name, m.group(2)))
    return [b for b in out if b[2]]


def api_name(kind: str, signature: str) -> str:
    """The documented name in a directive's signature: ``("function", "void PyErr_Clear()")``
    -> ``"PyErr_Clear()"``; ``""`` when there is no plain identifier."""
    head = re.sub(r"\s*->.*$", "", signature).split("(", 1)[0].strip()
    words = head.replace("*", " ").replace("&", " ").split()
    name = words[-1] if words else ""
    if not _IDENT.fullmatch(name) or len(name) < 2:
        return ""
    return name + "()" if "(" in signature and (kind in CALLABLE or kind == "macro") else name


def _heading_subject(section: str) -> tuple[str, str]:
    """A heading that is a code name ("get_user(id)", "PyErr_Clear()") is the subject of
    the text beneath it."""
    m = _CODE_HEADING.fullmatch(section)
    if m is None or not re.search(r"_|\w\.\w|\(|[a-z][A-Z]", section) or section.endswith("."):
        return "", ""
    return (m.group(1) + "()", "function") if m.group(2) is not None else (m.group(1), "data")


def _untitled_heading(text: str, start: int, end: int) -> tuple[str, int] | None:
    """(heading, new start) when the paragraph opening at ``start`` begins with a short line
    without punctuation followed by a capitalised line: a title the markup did not mark."""
    if text[:start].rstrip(" \t")[-2:] not in ("\n\n", "") and start > 0:
        return None
    first, _, rest = text[start:end].partition("\n")
    words, nxt = first.split(), rest.lstrip()
    if not rest or not 0 < len(words) <= 8 or first.rstrip()[-1] in ".!?:;,)":
        return None
    if not first.lstrip()[:1].isupper() and not first.lstrip()[:1].isdigit():
        return None  # a paragraph wrapped after a few words ("give your model a\nForeignKey")
    return (strip_numbering(clean_heading(first)), end - len(nxt)) if nxt[:1].isupper() else None


def resolve(sentence: str, subject: str) -> str:
    """``sentence`` with references to the entry's own object named: "This function returns
    ..." -> "PyErr_Occurred() returns ...", "the first argument" -> "the first argument of
    PyArg_Parse()". Used to write questions; the answer stays the sentence as written."""
    if not subject:
        return sentence
    out = re.sub(r"^(?:This|The) (?:function|method|macro|call|routine|type|object|class|"
                 r"structure|variable|attribute|member|field)\b", subject, sentence)  # fmt: skip
    ordinal = r"(?:\d+(?:st|nd|rd|th)|first|second|third|fourth|fifth|last)"
    return re.sub(
        rf"\b(the (?:{ordinal} )?(?:argument|parameter|result|return value)s?)\b"
        r"(?!\s+(?:of|to|for|in|from)\b)",
        rf"\1 of {subject}", out, flags=re.I,
    )  # fmt: skip


class DocContext:
    """What the rules need to know about a document: its topic, the names in it, and the
    file names a question must not contain."""

    def __init__(self, doc: Document) -> None:
        self.forbidden = file_tokens(doc.id, doc.title, doc.text)
        self.topic = document_topic(doc, self.forbidden)
        # A named document ("the Leave Policy") may frame a question; a chapter's name not.
        self.the_topic = _the(self.topic) if self.topic else ""
        # Capitalised words after a lower-case word are names; sentence starts prove nothing.
        self.names = frozenset(re.findall(r"(?<=[a-z,;] )[A-Z][\w'-]*", doc.text))
        # Words the text also writes in lower case are common words ("Objects" in a heading).
        self.common = frozenset(re.findall(r"(?<![\w.])[a-z][a-z'-]+(?![\w(])", doc.text))

    def lc(self, text: str) -> str:
        """``text`` with its first word lower-cased unless that word looks like a name."""
        word = text.split(" ", 1)[0]
        if (
            word in self.names
            or re.match(r"I(?:$|['’])", word)
            or (word.isupper() and len(word) > 1)
        ):
            return text
        if re.search(r"[_.(]|\w[A-Z]", word):  # an identifier: PyErr_Clear(), sys.exit, iOS
            return text
        return text[:1].lower() + text[1:]

    def is_common(self, word: str) -> bool:
        """A common word: the text also writes it in lower case ("Security"), not a name."""
        return word[1:].islower() and word.lower() in self.common and word not in self.names

    def lc_heading(self, heading: str) -> str:
        """A heading as a phrase inside a question: "Exception Objects" -> "exception
        objects", names and acronyms kept ("Unicode", "API")."""
        if heading.isupper():
            return heading.lower()
        words = heading.split(" ")
        lowered = [w.lower() if self.is_common(w) else w for w in words]
        return " ".join([self.lc(lowered[0]), *lowered[1:]])


def document_topic(doc: Document, forbidden: list[str]) -> str:
    """The document's name for questions: its title unless that is a file name or carries
    numbers or markup, else its first heading; ``""`` when neither will do."""
    first = next((u for u in units(doc.text[:20000]) if u.kind == HEADING), None)
    candidates = [clean_heading(first.text)] if first is not None else []
    if not is_file_title(doc.title, doc.id):
        candidates.insert(0, doc.title)
    elif doc.title in doc.text:  # the file is named after what the text calls itself
        candidates.append(doc.title)
    for title in candidates:
        topic = strip_numbering(title)
        if topic and len(topic.split()) <= 10 and not question_problems(f"What is {topic}?",
                                                                        forbidden):  # fmt: skip
            return topic  # not "About these documents", not a file name, no markup
    return ""


def _the(topic: str) -> str:
    """The topic as a document a user would name ("the Leave Policy"), or ``""`` when it is
    a chapter's name ("Custom template tags and filters", "FAQ: General"): users do not ask
    "according to the Custom template tags and filters documentation"."""
    words = topic.lower().split()
    if ":" in topic or words[-1] in ("documentation", "docs"):
        return ""
    if words[-1] in _DOC_NOUNS or words[0] in _DOC_NOUNS:
        return topic if words[0] == "the" else f"the {topic}"
    return ""
