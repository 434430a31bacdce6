import io
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

from ragtune.errors import LoadError
from ragtune.ingest.loaders import load_bytes, parse_groups


def make_pdf(text: str, meta: dict[str, str] | None = None) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, text)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(bytes(pdf.output()))))
    if meta:
        writer.add_metadata(meta)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_markdown_front_matter_and_offsets() -> None:
    raw = (
        "---\ntitle: Leave\ngroups: [hr, managers]\neffective_date: 2026-01-01\n---\n"
        "# Leave\n\nBody.\n"
    )
    doc = load_bytes(raw.encode(), Path("x.md"))
    assert doc.title == "Leave" and doc.groups == ("hr", "managers")
    assert doc.metadata == {"effective_date": "2026-01-01"}
    # Front matter is blanked, not cut: offsets in the stored text match the file.
    assert doc.text.index("Body.") == raw.index("Body.")


def test_txt_title_from_filename() -> None:
    doc = load_bytes(b"Plain words here.\n", Path("on-call_rota.txt"))
    assert doc.title == "On call rota" and doc.format == "txt"
    # A source extension inside the file name is not part of the title; other dots are.
    assert load_bytes(b"Words.\n", Path("c-api/memory.rst.txt")).title == "Memory"
    assert load_bytes(b"Words.\n", Path("release-v1.2.txt")).title == "Release v1.2"


def test_html_meta_structure_and_boilerplate() -> None:
    html = b"""<html><head><title>Payroll</title><meta name="department" content="finance">
    <meta name="groups" content="finance, hr"><script>var x = 'tracking';</script></head>
    <body><nav>Home | About</nav><h1>Payroll</h1><p>Paid on the 25th.</p>
    <h2>Table</h2><table><tr><th>Month</th><th>Day</th></tr><tr><td>Jan</td><td>24</td></tr></table>
    <ul><li>one</li><li>two</li></ul><footer>(c) footer</footer></body></html>"""
    doc = load_bytes(html, Path("p.html"))
    assert doc.title == "Payroll" and doc.metadata["department"] == "finance"
    assert doc.groups == ("finance", "hr")
    assert "# Payroll" in doc.text and "## Table" in doc.text and "Jan | 24" in doc.text
    assert "- one" in doc.text
    assert "tracking" not in doc.text and "footer" not in doc.text and "Home" not in doc.text


def test_pdf_text_and_info_metadata() -> None:
    data = make_pdf("Refunds take 14 days.", {"/Title": "Refunds", "/department": "support",
                                              "/groups": "support"})  # fmt: skip
    doc = load_bytes(data, Path("r.pdf"))
    assert "14 days" in doc.text and doc.title == "Refunds"
    assert doc.metadata == {"department": "support"} and doc.groups == ("support",)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bin.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("empty.md", b"", "empty"),
        ("blank.md", b"   \n\n", "no text"),
        ("latin1.txt", "Caf\xe9 cr\xe8me".encode("latin-1"), "not valid UTF-8"),
        ("bad.pdf", b"%PDF-1.4\n garbage garbage", "PDF"),
        ("trunc.pdf", make_pdf("hello")[:200], "PDF"),
        ("fm.md", b"---\ntitle: [unclosed\n---\nBody\n", "front matter"),
        ("x.docx", b"PK\x03\x04", "unsupported file type"),
    ],
)
def test_bad_files_raise_clear_errors(name: str, data: bytes, message: str) -> None:
    with pytest.raises(LoadError, match=message):
        load_bytes(data, Path(name))


def test_utf16_with_bom_is_accepted() -> None:
    doc = load_bytes("Hello wörld".encode("utf-16"), Path("u.txt"))
    assert "wörld" in doc.text


def test_parse_groups() -> None:
    assert parse_groups("b, a,,a") == ("a", "b")
    assert parse_groups(None) == () and parse_groups([]) == ()


def test_rest_title_comes_from_the_first_underlined_heading() -> None:
    text = b".. _memory:\n\n*****************\nMemory Management\n*****************\n\nWords.\n"
    assert load_bytes(text, Path("c-api/memory.rst.txt")).title == "Memory Management"
    setext = b":tocdepth: 2\n\nDesign and History FAQ\n======================\n\nWords.\n"
    assert load_bytes(setext, Path("faq/design.rst.txt")).title == "Design and History FAQ"
    late = b"Intro words first.\n\nLater heading\n-------------\n"
    assert load_bytes(late, Path("notes.txt")).title == "Notes"


def test_html_sidebars_permalinks_and_code_blocks() -> None:
    html = (
        '<html><body><div role="navigation"><a href="#">Previous page</a> Quick search</div>'
        '<div class="body"><h2>Is it free?<a class="headerlink" href="#x">¶</a></h2>'
        "<p>Yes, it is free.</p><pre>&gt;&gt;&gt; free()\n  True</pre></div>"
        '<div role="search">Search box</div></body></html>'
    ).encode()
    doc = load_bytes(html, Path("faq/general.html"))
    assert "## Is it free?\n" in doc.text and "¶" not in doc.text
    assert "Previous page" not in doc.text and "Search box" not in doc.text
    assert "```\n>>> free()\nTrue\n```" in doc.text  # code stays code (fenced)


def test_html_title_without_the_site_suffix() -> None:
    def title(head: str, h1: str) -> str:
        html = f"<html><head><title>{head}</title></head><body><h1>{h1}</h1><p>x.</p></body>"
        return load_bytes(html.encode(), Path("docs/page.html")).title

    sphinx = "Admin actions — Django 3.2.25 documentation"
    assert title(sphinx, 'Admin actions<a class="headerlink">¶</a>') == "Admin actions"
    # Django's theme: the site's name is an <h1> in the header too; the page's name wins
    site = "<a href='/'>Django 3.2.25 documentation</a></h1><h1>Admin actions"
    assert title(sphinx, site) == "Admin actions"
    # ... and that banner is site chrome, not the page's first heading
    html = f"<html><head><title>{sphinx}</title></head><body><h1>{site}</h1><p>x.</p></body>"
    assert load_bytes(html.encode(), Path("a.html")).text == "# Admin actions\n\nx.\n"
    # only the site's name is chrome: a heading that is part of the page's name stays
    flat = (
        "<head><title>Views - index — Site</title></head><body><h1>Views - index</h1><h1>Views</h1>"
    )
    assert load_bytes(flat.encode(), Path("b.html")).text == "# Views - index\n\n# Views\n"
    flat = "Generic views - flattened index — Django docs"  # a separator inside the name
    assert title(flat, "Generic views - flattened index") == "Generic views - flattened index"
    assert title("Docs | Getting started", "Getting started") == "Getting started"  # site first
    # no h1 that names a part: the title stays whole, separators and all
    assert title(sphinx, "Something else") == sphinx
    assert title("Pre-release notes", "Pre") == "Pre-release notes"  # a hyphen is no separator


def test_html_landmarks_nested_in_landmarks() -> None:
    """Django's Sphinx theme nests a search box (role=search) inside the navigation, and a
    footer inside a dropped nav: each inner tag is gone with its outer one."""
    html = (
        '<html><body><div role="navigation"><div role="search"><a>Go</a></div>'
        '<a class="headerlink">¶</a></div><nav><footer>Footer</footer></nav>'
        "<h1>Title<a>¶</a></h1><p>Body text.</p></body></html>"
    ).encode()
    doc = load_bytes(html, Path("docs/page.html"))
    assert doc.text == "# Title\n\nBody text.\n"


def test_html_unmarked_link_bars_are_dropped_and_content_kept() -> None:
    """Django's theme starts every page with two bars of links in plain <div>s; the bars go,
    a paragraph that mentions links and an all-link index with a heading stay."""
    html = (
        b'<html><body><div id="global-nav"><a href="/">Home</a> | <a href="/c">Table of '
        b'contents</a> | <a href="/i">Index</a></div><div class="nav"><a href="p">&laquo; '
        b'previous</a> | <a href="u">up</a> | <a href="n">next &raquo;</a></div>'
        b"<h1>Admin actions</h1><p>See <a>actions</a> and <a>views</a> for more.</p>"
        b"<div><h2><a>CreateView</a></h2><ul><li><a>get()</a></li><li><a>post()</a></li></ul>"
        b"</div></body></html>"
    )
    doc = load_bytes(html, Path("docs/page.html"))
    assert doc.text.startswith("# Admin actions\n\nSee actions and views for more.")
    assert "Home" not in doc.text and "previous" not in doc.text
    assert "CreateView" in doc.text and "get()" in doc.text and "post()" in doc.text
