"""File loaders, chosen by suffix: bytes in, text + title + metadata out.

Every failure raises :class:`LoadError` with a message a user can act on; the pipeline
records it for that one file and carries on with the rest.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ragtune.errors import LoadError

FRONT_MATTER = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)", re.S)
_DROP_HTML_TAGS = ["script", "style", "noscript", "nav", "footer", "template", "svg", "iframe"]
_BLOCK_TAGS = ["p", "div", "section", "article", "main", "ul", "ol", "table", "pre",
               "blockquote", "dl", "dd", "dt", "header", "br", "hr"]  # fmt: skip
_FIELD = re.compile(r"^:[\w-]+:(?:\s|$)")
_NOT_CONTENT_ROLES = {"navigation", "search", "banner", "contentinfo"}
_PERMALINK_TEXT = {"¶", "#", "§", "🔗"}
# Front matter is a handful of key: value lines; these bound what YAML aliases can expand to.
MAX_FRONT_MATTER_VALUES = 10_000
MAX_FRONT_MATTER_DEPTH = 20
# Far deeper than any real page; deeper markup makes bs4's tree edits quadratic (minutes for
# a 100 kB file of nested <div>s) and is refused.
MAX_HTML_DEPTH = 1000
_IGNORED_META = {"viewport", "generator", "robots", "charset", "referrer", "theme-color"}
# PDF info keys that describe the file, not the document's subject matter.
_PDF_STANDARD_KEYS = {"/Author", "/Creator", "/Producer", "/CreationDate", "/ModDate",
                      "/Trapped", "/Title", "/Subject", "/Keywords"}  # fmt: skip


@dataclass
class Loaded:
    text: str
    title: str
    format: str
    metadata: dict[str, Any] = field(default_factory=dict)
    # None: the file says nothing about access; () : it declares itself public.
    groups: tuple[str, ...] | None = None


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM) or BOM-marked UTF-16; anything else is refused."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:  # an odd byte count, a lone surrogate
            raise LoadError(f"not valid UTF-16 ({exc.reason} at offset {exc.start})",
                            "re-save the file as UTF-8") from None  # fmt: skip
    if b"\x00" in data[:8192]:
        raise LoadError("binary data (NUL bytes), not text", "is the suffix wrong?")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise LoadError(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})",
            "re-save the file as UTF-8",
        ) from None


def _plain(value: Any, budget: list[int], depth: int = 0, in_json: bool = False) -> Any:
    """YAML values -> JSON-safe scalars (dates become ISO strings, a mapping one JSON string).
    YAML aliases share one object, so 300 bytes of anchors can stand for a million values
    (or a list that holds itself): ``budget`` counts the values produced, and running out
    is a LoadError."""
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_FRONT_MATTER_DEPTH:
        raise LoadError(
            f"YAML front matter is too large or too deeply nested (over "
            f"{MAX_FRONT_MATTER_VALUES} values or {MAX_FRONT_MATTER_DEPTH} levels)",
            "front matter holds a few key: value lines; do YAML anchors (&a, *a) repeat it?",
        )
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [_plain(v, budget, depth + 1, in_json) for v in value]
    if isinstance(value, dict):  # keys as text: json.dumps cannot sort mixed int/str keys
        plain = {str(k): _plain(v, budget, depth + 1, True) for k, v in value.items()}
        return plain if in_json else json.dumps(plain, sort_keys=True, default=str)
    return value


def parse_groups(value: Any) -> tuple[str, ...]:
    """``"hr, eng"`` or ``["hr", "eng"]`` -> ``("eng", "hr")``; empty means public."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple) and all(isinstance(v, str | int) for v in value):
        items = [str(v) for v in value]
    else:  # a number, a mapping, nested lists: say so rather than guess the groups
        raise LoadError(f"groups must be a list of group names, got {value!r:.80}",
                        "write groups: [hr, managers] or groups: hr, managers")  # fmt: skip
    return tuple(sorted({i.strip() for i in items if i.strip()}))


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """YAML front matter between ``---`` lines -> (metadata, body). A broken block is an
    error, not ignored: it may hold access groups, and dropping them would leak the file."""
    match = FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        data = yaml.safe_load(match.group(1)) or {}
    except yaml.YAMLError as exc:
        raise LoadError(f"invalid YAML front matter: {str(exc).splitlines()[0]}") from None
    except RecursionError:  # PyYAML's composer recurses once per level of nesting
        raise LoadError("YAML front matter is nested too deeply") from None
    if not isinstance(data, dict):
        raise LoadError("YAML front matter must be a mapping of key: value lines")
    # Blank the block out instead of cutting it, so character offsets still match the file.
    body = re.sub(r"[^\n]", " ", text[: match.end()]) + text[match.end() :]
    budget = [MAX_FRONT_MATTER_VALUES]
    return {str(k): _plain(v, budget) for k, v in data.items()}, body


def _finish(text: str, title: str, fmt: str, meta: dict[str, Any]) -> Loaded:
    if not text.strip():
        raise LoadError("no text content (empty file?)")
    meta = dict(meta)
    title = str(meta.pop("title", "") or title).strip()
    groups = parse_groups(meta.pop("groups")) if "groups" in meta else None
    return Loaded(text=text, title=title, format=fmt, metadata=meta, groups=groups)


def load_markdown(data: bytes, path: Path) -> Loaded:
    meta, body = split_front_matter(decode_text(data))
    heading = re.search(r"^#\s+(.+)$", body, re.M)
    return _finish(body, heading.group(1) if heading else _title_from(path), "md", meta)


def load_text(data: bytes, path: Path) -> Loaded:
    meta, body = split_front_matter(decode_text(data))
    return _finish(body, _underlined_title(body) or _title_from(path), "txt", meta)


def _underlined_title(body: str) -> str:
    """The document title of reStructuredText / setext text: its first content is a line
    under- (and maybe over-) lined with ``=-~^*#``. A file name ("Memory.rst") says less,
    and as a weighted BM25 field it pulled reference pages above the right answer."""
    lines = [ln.strip() for ln in body.splitlines()]
    # directives, comments and leading field lists (":tocdepth: 2") are not content
    lines = [ln for ln in lines if ln and not ln.startswith("..") and not _FIELD.match(ln)][:3]
    underline = re.compile(r"^([=\-~^*#])\1{2,}$")
    if len(lines) >= 2 and underline.match(lines[0]) and not underline.match(lines[1]):
        lines = lines[1:]  # an overline
    if len(lines) >= 2 and underline.match(lines[1]) and not underline.match(lines[0]):
        return lines[0][:200]
    return ""


def load_html(data: bytes, path: Path) -> Loaded:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(data, "html.parser")  # detects the encoding from bytes / meta
    if _depth(soup) > MAX_HTML_DEPTH:
        raise LoadError(f"HTML nested more than {MAX_HTML_DEPTH} elements deep",
                        "is it generated? convert it to text or Markdown first")  # fmt: skip
    meta: dict[str, Any] = {}
    for tag in soup.find_all("meta"):
        name, content = tag.get("name"), tag.get("content")
        if isinstance(name, str) and isinstance(content, str) and name not in _IGNORED_META:
            meta[name.strip().lower()] = content.strip()
    title_tag = soup.find("title")
    full_title = title_tag.get_text(" ", strip=True) if title_tag else ""
    title = _page_title(full_title, soup)
    if title != full_title:  # the rest of <title> is the site; its <h1> banner is chrome
        rest = (
            full_title[len(title) :] if full_title.startswith(title) else full_title[: -len(title)]
        )
        site = _TITLE_SEPARATOR_EDGE.sub("", rest).casefold()
        for h1 in soup.find_all("h1"):
            if _heading_text(h1).casefold() == site:
                h1.decompose()
    for tag in soup.find_all(_DROP_HTML_TAGS):
        if not tag.decomposed:
            tag.decompose()
    # Landmarks that are not content (Sphinx and most generators mark their sidebars and
    # search boxes this way), and permalink anchors ("¶") that would end every heading.
    # find_all lists descendants too: one inside a removed landmark is already gone.
    for tag in soup.find_all(role=True):
        if not tag.decomposed and tag.get("role") in _NOT_CONTENT_ROLES:
            tag.decompose()
    for tag in soup.find_all("a"):
        if not tag.decomposed and tag.get_text(strip=True) in _PERMALINK_TEXT:
            tag.decompose()
    _drop_link_bars(soup)
    if soup.head:
        soup.head.decompose()
    _mark_structure(soup)
    text = _tidy(_text_with_blocks(soup))
    return _finish(text, title or _title_from(path), "html", meta)


# What stands between the links of a navigation bar: "Home | Index", "« previous | up".
_BAR_SEPARATORS = re.compile(r"[\s|«»‹›<>·•/:–—-]+")
_BAR_LINK_WORDS = 5  # a bar's links are short ("Table of contents", "next »")
_STRUCTURE_TAGS = ["h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "dl", "table", "pre"]


def _drop_link_bars(soup: Any) -> None:
    """Blocks made only of short links and separators: a page's navigation where the theme
    does not mark it (Django's docs start every page with "Home | Table of contents | Index
    | Modules « previous | up | next »"). A block with headings, lists or tables is content
    even when every word of it links somewhere (an index page, a class's list of methods)."""
    for tag in soup.find_all(["div", "p", "td"]):
        if tag.decomposed or tag.find(_STRUCTURE_TAGS) is not None:
            continue
        links = tag.find_all("a")
        if len(links) < 2:
            continue
        names = [a.get_text(" ", strip=True) for a in links]
        if any(len(n.split()) > _BAR_LINK_WORDS for n in names):
            continue
        rest = tag.get_text(" ", strip=True)
        for name in names:
            rest = rest.replace(name, " ", 1)
        if not _BAR_SEPARATORS.sub("", rest):
            tag.decompose()


_TITLE_SEPARATOR = re.compile(r"\s+[—–|·-]\s+")
_TITLE_SEPARATOR_EDGE = re.compile(r"^\s+[—–|·-]\s+|\s+[—–|·-]\s+$")


def _heading_text(tag: Any) -> str:
    return " ".join(tag.get_text(" ", strip=True).rstrip("¶#").split())


def _page_title(title: str, soup: Any) -> str:
    """The page's own name: generators add the site to ``<title>`` ("Admin actions — Django
    3.2.25 documentation"). The name is the ``<h1>`` the title starts (else ends) with, next
    to a separator; the site's header may be an ``<h1>`` too, and page names come first."""
    folded = title.casefold()
    ends = []
    for h1 in soup.find_all("h1"):
        name = _heading_text(h1)
        n = len(name)
        if not name or n >= len(title):
            continue
        if folded.startswith(name.casefold()) and _TITLE_SEPARATOR.match(title, n):
            return title[:n]
        head = title[: len(title) - n]
        if folded.endswith(name.casefold()) and _TITLE_SEPARATOR_EDGE.search(head):
            ends.append(title[len(title) - n :])
    return ends[0] if ends else title


def _depth(soup: Any) -> int:
    """How deeply the elements nest (iterative: the tree may be deeper than the stack)."""
    from bs4 import Tag

    deepest, todo = 0, [(soup, 0)]
    while todo:
        tag, depth = todo.pop()
        deepest = max(deepest, depth)
        todo.extend((c, depth + 1) for c in tag.contents if isinstance(c, Tag))
    return deepest


def _text_with_blocks(soup: Any) -> str:
    """``soup.get_text()`` with a blank line after each block element, in one walk of the
    tree. Inserting the blank lines into the tree instead costs bs4 a walk to the last
    descendant per insert: quadratic in the nesting depth."""
    from bs4 import CData, NavigableString, Tag

    out: list[str] = []
    stack: list[tuple[Any, bool]] = [(iter(soup.contents), False)]
    while stack:
        node = next(stack[-1][0], None)
        if node is None:
            if stack.pop()[1]:
                out.append("\n\n")
        elif isinstance(node, Tag):
            stack.append((iter(node.contents), node.name in _BLOCK_TAGS))
        elif type(node) in (NavigableString, CData):  # as get_text(): no comments, doctypes
            out.append(str(node))
    return "".join(out)


def _mark_structure(soup: Any) -> None:
    """Turn headings, list items and table rows into Markdown-like text so the chunker can
    follow sections the same way for every format."""
    for tag in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        tag.replace_with(f"\n\n{'#' * int(tag.name[1])} {tag.get_text(' ', strip=True)}\n\n")
    for tag in soup.find_all("pre"):  # code stays code: fenced, so it is never a sentence
        tag.replace_with(f"\n\n```\n{tag.get_text().strip(chr(10))}\n```\n\n")
    for tag in soup.find_all("tr"):
        cells = [c.get_text(" ", strip=True) for c in tag.find_all(["td", "th"])]
        tag.replace_with("\n" + " | ".join(cells) + "\n")
    for tag in soup.find_all("li"):
        tag.insert_before("\n- ")


def _tidy(text: str) -> str:
    lines = [re.sub(r"[ \t\u00a0]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def load_pdf(data: bytes, path: Path) -> Loaded:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("the PDF is password-protected", "remove the password first")
        pages = [page.extract_text() or "" for page in reader.pages]
        info: dict[str, Any] = dict(reader.metadata or {})
    except LoadError:
        raise
    except PyPdfError as exc:
        raise LoadError(f"corrupt or unreadable PDF: {exc}") from None
    except Exception as exc:
        # pypdf reads untrusted bytes and a damaged file surfaces as almost anything
        # (NotImplementedError for an unknown filter, AttributeError, RecursionError, ...):
        # each is this file's problem, never the run's.
        raise LoadError(f"corrupt or unreadable PDF: {type(exc).__name__}: {exc}") from None
    text = "\n\n".join(p.strip() for p in pages if p.strip())
    if not text.strip():
        raise LoadError("no extractable text in the PDF", "scanned pages need OCR first")
    meta = {
        str(k).lstrip("/").lower(): str(v) for k, v in info.items() if k not in _PDF_STANDARD_KEYS
    }
    title = str(info.get("/Title") or "") or _title_from(path)
    return _finish(_tidy(text), title, "pdf", meta)


# Source formats that hide inside another extension (Sphinx ships "memory.rst.txt").
_INNER_SUFFIXES = {".rst", ".md", ".markdown", ".txt", ".html", ".htm", ".adoc"}


def _title_from(path: Path) -> str:
    stem = Path(path.stem)
    while stem.suffix.lower() in _INNER_SUFFIXES:
        stem = Path(stem.stem)
    return str(stem).replace("-", " ").replace("_", " ").strip().capitalize()


LOADERS: dict[str, Callable[[bytes, Path], Loaded]] = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".txt": load_text,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
}


def load_bytes(data: bytes, path: Path) -> Loaded:
    """Dispatch on the suffix; an unsupported suffix is a :class:`LoadError`."""
    loader = LOADERS.get(path.suffix.lower())
    if loader is None:
        raise LoadError(
            f"unsupported file type {path.suffix or '(none)'}",
            f"supported: {', '.join(sorted(LOADERS))}",
        )
    if not data:
        raise LoadError("empty file")
    return loader(data, path)
