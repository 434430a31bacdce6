"""Build a Django 3.2 documentation QA benchmark from Debian's ``python-django-doc``.

A second real-documentation set next to ``../shared/benchdata`` (Python FAQ): every question
of the Django FAQ (``html/faq/*.html``) with its verbatim answer, a corpus of the FAQ pages
plus reference pages (HTML, same tree as the package), and hand-written unanswerable
questions (``bench/data/unanswerable_django.jsonl``, copied into the output).

    python bench/django_faq.py --out bench/.data/djangofaq [--mb 3]

Output (all paths inside the files are relative to ``--out``; the same input gives identical
files):

- ``qa.jsonl``: ``id`` (``django32-faq/<page>#<section anchor>``), ``question`` (the heading,
  verbatim), ``answer_plain``, ``answer_first_sentence``, ``source_doc``, ``source_section``
  (page title), ``heading_form`` (``question`` / ``problem_statement``),
  ``answer_links_in_ref`` (reference pages of the built corpus that the answer links to),
  ``answer_links_all`` (the same, before the ``--mb`` cap), ``answerable: true``.
- ``unanswerable.jsonl``: copy of ``bench/data/unanswerable_django.jsonl``.
- ``corpus/``: the HTML files; ``corpus/manifest.jsonl``: ``id, path, group, title``.
- ``variants/ref_only.txt``, ``variants/ref_plus_faq.txt``: lists of corpus files, as in
  benchdata.
- ``SOURCES.md``: package version, licence, counts.

Needs only the standard library and beautifulsoup4. Django's documentation is BSD-3-Clause
(Django Software Foundation and individual contributors): the built data stays in the
git-ignored ``bench/.data``; never copy it into tests/ or examples/.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bs4 import BeautifulSoup, NavigableString, Tag

PACKAGE = "python-django-doc"
HTML = Path("/usr/share/doc/python-django-doc/html")
COPYRIGHT = Path("/usr/share/doc/python-django-doc/copyright")
BENCH = Path(__file__).resolve().parent
UNANSWERABLE = BENCH / "data" / "unanswerable_django.jsonl"
CORPUS_DIRS = ("faq", "howto", "intro", "misc", "ref", "topics")
SKIP_NAMES = {"genindex.html", "search.html", "py-modindex.html"}
ID_PREFIX = "django32-faq"
# A heading without "?" still counts as a question when it is a full sentence that reports
# a problem ("Some objects aren't appearing in the admin."): the answer is the fix.
MIN_STATEMENT_WORDS = 5
# An answer that only points elsewhere ("See the next question.", "See <doc>.", "Detailed
# instructions ... can be found in <doc>.") gives nothing to grade against: skipped when short.
POINTER = re.compile(
    r"^(?:(?:See|Refer to|Read)\b|[^.!?]*\bcan be found in\b"
    r"|.*\bdocument devoted to this question\b)",
    re.IGNORECASE,
)
POINTER_MAX_CHARS = 200


# --- text ---------------------------------------------------------------------------------

BLOCK_TAGS = {
    "p",
    "pre",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "table",
    "tr",
    "blockquote",
    "div",
    "section",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "figure",
    "aside",
}


def inline_text(el: Tag) -> str:
    return " ".join(el.get_text().split())


def has_block(el: Tag) -> bool:
    return any(isinstance(c, Tag) and c.name in BLOCK_TAGS for c in el.descendants)


def code_text(pre: Tag) -> str:
    return "\n".join(line.rstrip() for line in pre.get_text().strip("\n").splitlines())


def blocks(el: Tag) -> list[tuple[str, str]]:
    """Text blocks of an element as ``(text, kind)``: ``prose`` (whitespace collapsed),
    ``code`` (``pre``, lines kept), ``list`` (one item a line, ``- `` or ``1. ``), ``table``
    (one row a line, cells joined by `` | ``). Nested sections are left out."""
    out: list[tuple[str, str]] = []
    loose: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(loose).split())
        if text:
            out.append((text, "prose"))
        loose.clear()

    for child in el.children:
        if isinstance(child, NavigableString):
            if type(child) is NavigableString:  # not a comment / doctype
                loose.append(str(child))
            continue
        if not isinstance(child, Tag):
            continue
        if child.name not in BLOCK_TAGS:
            loose.append(child.get_text())
            continue
        flush()
        if is_section(child):
            continue
        if child.name == "pre":
            code = code_text(child)
            if code.strip():
                out.append((code, "code"))
        elif child.name in ("ul", "ol"):
            items = []
            for n, li in enumerate(child.find_all("li", recursive=False), 1):
                inner = blocks(li) if has_block(li) else [(inline_text(li), "prose")]
                text = "\n".join(b[0] for b in inner if b[0])
                if text:
                    items.append((f"{n}. " if child.name == "ol" else "- ") + text)
            if items:
                out.append(("\n".join(items), "list"))
        elif child.name == "table":
            rows = [
                " | ".join(inline_text(c) for c in tr.find_all(["th", "td"]))
                for tr in child.find_all("tr")
            ]
            if rows:
                out.append(("\n".join(rows), "table"))
        elif has_block(child):
            out.extend(blocks(child))
        else:
            text = inline_text(child)
            if text:
                out.append((text, "prose"))
    flush()
    return out


LIST_MARKER = re.compile(r"(?m)^(?:- |\d+\. )")


# Never the end of a sentence: "e.g.", "i.e.", "cf.", "vs.", titles, single initials.
NON_TERMINAL = re.compile(
    r"(?:\b(?:e\.g|i\.e|cf|vs|viz|approx|Mr|Mrs|Ms|Dr|Fig|al|Jr|Sr)|\b[A-Z])\.$",
    re.IGNORECASE,
)
SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9<`])")


def sentences(text: str) -> list[str]:
    """Split prose into sentences. A break needs ``.``/``!``/``?`` then whitespace and an upper
    case letter, digit or quote, so "3.2", "settings.py", "django.contrib" never split;
    "e.g.", "i.e.", "cf.", "vs." and single initials never end a sentence."""
    t = " ".join(text.split())
    out, start = [], 0
    for m in SENTENCE_END.finditer(t):
        head = t[start : m.end()]
        if NON_TERMINAL.search(head.rstrip("\"'”’)]")):
            continue
        out.append(head.strip())
        start = m.end()
    if t[start:].strip():
        out.append(t[start:].strip())
    return out


def first_sentence(answer_blocks: list[tuple[str, str]]) -> str:
    """First sentence of the first prose or list block (code and tables are passed over; a
    list counts as its items' text). A one- or two-word opener ("Yes.", "Nope.",
    "Sorry, no.") or a short lead-in ending in ":" is joined with the next sentence so that
    it carries the answer."""
    texts = [
        LIST_MARKER.sub("", t) if kind == "list" else t
        for t, kind in answer_blocks
        if kind in ("prose", "list")
    ]
    parts = [s for t in texts[:2] for s in sentences(t)]
    if not parts:
        return ""
    s = parts[0]
    short_lead_in = s.endswith(":") and len(s) < 40  # "Make sure that:" before a list
    if (len(s.split()) <= 2 or short_lead_in) and len(parts) > 1:
        s = f"{s} {parts[1]}"
    return s[:600]


# --- pages --------------------------------------------------------------------------------


def read_page(path: Path) -> BeautifulSoup:
    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    for link in soup.select("a.headerlink"):
        link.decompose()
    return soup


def page_body(soup: BeautifulSoup) -> Tag:
    body = soup.select_one("div.yui-g") or soup.select_one("div.body") or soup.body
    if body is None:
        raise ValueError("no page body")
    return body


def page_title(soup: BeautifulSoup, fallback: str) -> str:
    h1 = page_body(soup).find("h1")
    if h1:
        return " ".join(h1.get_text().replace("¶", "").split())
    title = soup.find("title")
    if title:
        return title.get_text().split(" — ")[0].strip()
    return fallback


def is_section(el: Tag) -> bool:
    return el.name == "section" or (el.name == "div" and "section" in (el.get("class") or []))


def section_anchor(sec: Tag) -> str:
    """The anchor Sphinx links to: Django's theme gives the section the id ``s-<anchor>`` and
    puts ``<span id="<anchor>">`` before the heading."""
    return str(sec.get("id", "")).removeprefix("s-")


def heading_form(text: str) -> str | None:
    if "?" in text:
        return "question"
    if text.endswith(".") and len(text.split()) >= MIN_STATEMENT_WORDS:
        return "problem_statement"
    return None


def resolve_link(page_rel: str, href: str) -> str | None:
    """Corpus-relative path of an internal link target (``ref/models/fields.html``)."""
    if not href or re.match(r"^[a-z][a-z0-9+.-]*:", href) or href.startswith("#"):
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(page_rel), href.split("#")[0]))
    return target if target.endswith(".html") else None


def faq_entries(page_rel: str, soup: BeautifulSoup, skipped: list[str]):
    body = page_body(soup)
    for heading in body.find_all(["h2", "h3"]):
        sec = heading.parent
        if not is_section(sec):
            continue
        text = " ".join(heading.get_text().replace("¶", "").split())
        form = heading_form(text)
        if form is None:
            skipped.append(f"{page_rel}: {text!r} (not a question)")
            continue
        answer = [b for b in blocks(sec) if b != (text, "prose")]
        plain = "\n\n".join(b[0] for b in answer).strip()
        if not plain:
            skipped.append(f"{page_rel}: {text!r} (empty answer)")
            continue
        if len(plain) < POINTER_MAX_CHARS and POINTER.match(plain):
            skipped.append(f"{page_rel}: {text!r} (pointer answer: {plain!r})")
            continue
        links = []
        for a in sec.find_all("a", href=True):
            if a.find_parent(is_section) is not sec:  # a link of a nested section
                continue
            target = resolve_link(page_rel, a["href"])
            if target and target.split("/")[0] in CORPUS_DIRS and not target.startswith("faq/"):
                links.append(target)
        yield {
            "anchor": section_anchor(sec),
            "question": text,
            "heading_form": form,
            "answer_plain": plain,
            "answer_first_sentence": first_sentence(answer),
            "links": sorted(set(links)),
        }


# --- build --------------------------------------------------------------------------------


def installed_version() -> str | None:
    try:
        result = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", PACKAGE],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError:
        return None
    return result.stdout.strip() or None


def licence_line() -> str:
    text = COPYRIGHT.read_text(encoding="utf-8") if COPYRIGHT.exists() else ""
    m = re.search(
        r"^Files: \*\nCopyright: (.+?)\n(?:Comment:.*?\n(?: .*\n)*)?License: (\S+)",
        text,
        re.MULTILINE,
    )
    if not m:
        return "BSD-3-Clause (see /usr/share/doc/python-django-doc/copyright)"
    return f"{m.group(2)}, Copyright {m.group(1).strip()}"


def corpus_files() -> tuple[list[str], list[str]]:
    faq, ref = [], []
    for top in CORPUS_DIRS:
        for path in sorted((HTML / top).rglob("*.html")):
            rel = path.relative_to(HTML).as_posix()
            if path.name in SKIP_NAMES or path.is_symlink():
                continue
            (faq if top == "faq" else ref).append(rel)
    return sorted(faq), sorted(ref)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")


def build(out: Path, budget_mb: float, version: str) -> dict:
    faq, ref = corpus_files()
    chosen_ref, total = [], 0
    for rel in ref:
        size = (HTML / rel).stat().st_size
        if total + size > budget_mb * 1e6:
            break
        chosen_ref.append(rel)
        total += size
    files = faq + chosen_ref

    corpus = out / "corpus"
    for sub in ("corpus", "variants"):
        if (out / sub).exists():
            shutil.rmtree(out / sub)
    manifest = []
    for rel in sorted(files):
        dest = corpus / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HTML / rel, dest)
        soup = BeautifulSoup((HTML / rel).read_text(encoding="utf-8"), "html.parser")
        manifest.append(
            {
                "id": rel.removesuffix(".html"),
                "path": f"corpus/{rel}",
                "group": "faq" if rel.startswith("faq/") else "ref",
                "title": page_title(soup, rel),
            }
        )
    write_jsonl(corpus / "manifest.jsonl", manifest)
    (out / "variants").mkdir()
    for name, group in (("ref_only", {"ref"}), ("ref_plus_faq", {"ref", "faq"})):
        paths = [m["path"] for m in manifest if m["group"] in group]
        (out / "variants" / f"{name}.txt").write_text("\n".join(paths) + "\n", encoding="utf-8")

    in_corpus = set(chosen_ref)
    rows, skipped, seen = [], [], set()
    for rel in faq:
        if rel == "faq/index.html":
            continue
        soup = read_page(HTML / rel)
        title = page_title(soup, rel)
        page = rel.removeprefix("faq/").removesuffix(".html")
        for entry in faq_entries(rel, soup, skipped):
            qid = f"{ID_PREFIX}/{page}#{entry['anchor']}"
            if qid in seen:
                raise ValueError(f"duplicate id {qid}")
            seen.add(qid)
            rows.append(
                {
                    "id": qid,
                    "question": entry["question"],
                    "answer_plain": entry["answer_plain"],
                    "answer_first_sentence": entry["answer_first_sentence"],
                    "source_doc": f"corpus/{rel}",
                    "source_section": title,
                    "heading_form": entry["heading_form"],
                    "answer_links_in_ref": [
                        f"corpus/{x}" for x in entry["links"] if x in in_corpus
                    ],
                    "answer_links_all": [f"corpus/{x}" for x in entry["links"]],
                    "answerable": True,
                }
            )
    write_jsonl(out / "qa.jsonl", rows)

    unanswerable = [
        json.loads(line)
        for line in UNANSWERABLE.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    write_jsonl(out / "unanswerable.jsonl", unanswerable)

    faq_bytes = sum((HTML / r).stat().st_size for r in faq)
    counts = {
        "questions": len(rows),
        "problem_statements": sum(r["heading_form"] == "problem_statement" for r in rows),
        "with_links_in_corpus": sum(bool(r["answer_links_in_ref"]) for r in rows),
        "with_links_any": sum(bool(r["answer_links_all"]) for r in rows),
        "unanswerable": len(unanswerable),
        "faq_files": len(faq),
        "ref_files": len(chosen_ref),
        "ref_files_available": len(ref),
        "mb": round((faq_bytes + total) / 1e6, 2),
        "ref_mb_available": round(sum((HTML / r).stat().st_size for r in ref) / 1e6, 2),
    }
    per_page: dict[str, int] = {}
    for r in rows:
        page = r["id"].split("/", 1)[1].split("#")[0]
        per_page[page] = per_page.get(page, 0) + 1
    (out / "SOURCES.md").write_text(
        sources_md(version, budget_mb, counts, per_page, skipped), encoding="utf-8"
    )
    return {"counts": counts, "skipped": skipped}


def sources_md(version: str, budget_mb: float, c: dict, per_page: dict, skipped: list[str]) -> str:
    pages = ", ".join(
        f"{k} {v}" for k, v in sorted(per_page.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    files = c["faq_files"] + c["ref_files"]
    lines = [
        "# Sources",
        "",
        f'Built by `bench/django_faq.py` from the Debian 12 ("bookworm") package `{PACKAGE}`'
        " (Django 3.2 documentation, HTML). Questions, answers and corpus pages are copied"
        " verbatim from upstream; the only text written for this benchmark is"
        ' `unanswerable.jsonl` (`question_author: "ragtune-bench"`).',
        "",
        "| package | version | licence |",
        "|---|---|---|",
        f"| {PACKAGE} | {version} | {licence_line()} |",
        "",
        f"The licence text is in `{COPYRIGHT}`. If you redistribute the built data, keep this"
        " file and that copyright notice with it.",
        "",
        "## What was built",
        "",
        f"- `qa.jsonl`: {c['questions']} question/answer pairs from the Django FAQ"
        f" (`html/faq/*.html`): {pages}.",
        f"- {c['problem_statements']} question headings are problem statements without a"
        " question mark (`heading_form: problem_statement`).",
        f"- {c['with_links_in_corpus']} answers link to a reference page of this corpus"
        f" ({c['with_links_any']} before the `--mb` cap).",
        f"- `unanswerable.jsonl`: {c['unanswerable']} hand-written questions that the Django 3.2"
        " documentation does not answer.",
        f"- `corpus/`: {files} HTML files, {c['mb']} MB: {c['faq_files']} FAQ pages and"
        f" {c['ref_files']} of {c['ref_files_available']} reference pages"
        f" ({c['ref_mb_available']} MB available; `--mb {budget_mb:g}`, taken in path order"
        " until the budget). `corpus/manifest.jsonl`: id, path, group, title of each file.",
        "- `variants/ref_only.txt`, `variants/ref_plus_faq.txt`: lists of corpus files.",
        "",
        "## FAQ headings left out",
        "",
        *(f"- {s}" for s in skipped),
        *(["- none"] if not skipped else []),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--mb",
        type=float,
        default=3.0,
        help="cap on the reference pages' total size in MB (FAQ pages always in)",
    )
    args = parser.parse_args()
    if not (HTML / "faq").is_dir():
        sys.exit(f"{HTML} not found: apt-get install -y --no-install-recommends {PACKAGE}")
    started = time.perf_counter()
    version = installed_version() or "unknown"
    args.out.mkdir(parents=True, exist_ok=True)
    result = build(args.out, args.mb, version)
    c = result["counts"]
    for s in result["skipped"]:
        print(f"skipped {s}")
    print(
        f"{c['questions']} questions ({c['problem_statements']} problem statements), "
        f"{c['unanswerable']} unanswerable, {c['faq_files'] + c['ref_files']} files "
        f"({c['faq_files']} faq + {c['ref_files']}/{c['ref_files_available']} ref), "
        f"{c['mb']} MB, {time.perf_counter() - started:.1f} s -> {args.out}"
    )


if __name__ == "__main__":
    main()
