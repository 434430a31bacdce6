"""Property tests for the document loaders: any bytes under any supported suffix either
load or raise LoadError (the pipeline reports it for that one file). Never another
exception, and never a hang on a small file."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.unit.ingest.test_loaders import make_pdf

from ragtune.errors import LoadError
from ragtune.ingest.loaders import LOADERS, Loaded, load_bytes

FAST = settings(max_examples=3000, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
SUFFIXES = st.sampled_from(sorted(LOADERS))


def _load(data: bytes, name: str) -> Loaded | None:
    started = time.perf_counter()
    try:
        loaded = load_bytes(data, Path(name))
    except LoadError as exc:
        assert str(exc)
        return None
    finally:
        assert time.perf_counter() - started < 10, f"{name}: {len(data)} bytes took too long"
    assert loaded.text.strip()
    loaded.text.encode("utf-8")  # storable
    return loaded


@FAST
@given(st.binary(max_size=400), SUFFIXES)
def test_any_bytes_load_or_raise_load_error(data: bytes, suffix: str) -> None:
    _load(data, f"doc{suffix}")


# Markdown and text with front matter: YAML scalars, tags, anchors, flow collections.
YAMLISH = st.text(alphabet="abgroupstile:-[]{}&*!,.'\"#\n 0123456789\t?|>@%", max_size=80)


@FAST
@given(YAMLISH, st.text(max_size=40), st.sampled_from([".md", ".txt"]))
def test_any_front_matter_loads_or_raises_load_error(head: str, body: str, suffix: str) -> None:
    _load(f"---\n{head}\n---\n{body or 'x'}".encode("utf-8", "surrogatepass"), f"d{suffix}")


HTMLISH = st.lists(st.sampled_from(["<div>", "</div>", "<h2>", "</h2>", "<pre>", "<tr><td>",
                                    "<li>", "<![CDATA[", "<!", "<?", "]]>", "-->", "<!--",
                                    "<meta name=x content=y>", "<a>¶</a>", "&#0;", "&#xffffff;",
                                    "<title>", "<nav role=search>", "<div role=navigation>",
                                    "<footer>", "</footer>", "text", "\x00", "<"]),
                   max_size=30).map("".join)  # fmt: skip


@FAST
@given(HTMLISH)
def test_any_html_loads_or_raises_load_error(markup: str) -> None:
    _load(markup.encode("utf-8", "surrogatepass"), "d.html")


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return make_pdf("A real page of text.\n" * 5, {"/Dept": "hr"})


@FAST
@given(st.data())
def test_a_damaged_pdf_loads_or_raises_load_error(pdf: bytes, data: st.DataObject) -> None:
    """A real PDF with a few bytes changed, cut or inserted: deep inside pypdf's parser."""
    damaged = bytearray(pdf)
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(damaged) - 1))
        action = data.draw(st.sampled_from(["flip", "cut", "insert"]))
        if action == "flip":
            damaged[at] = data.draw(st.integers(0, 255))
        elif action == "cut":
            del damaged[at : at + data.draw(st.integers(1, 200))]
        else:
            damaged[at:at] = data.draw(st.binary(min_size=1, max_size=20))
    _load(bytes(damaged), "d.pdf")


def _bomb(levels: int) -> bytes:
    lines = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return ("---\n" + "\n".join(lines) + "\n---\nbody").encode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("odd.md", b"\xff\xfeA"),  # a UTF-16 BOM, then half a character
        ("lone.txt", b"\xff\xfe\x00\xd8A\x00"),  # UTF-16 with a lone surrogate
        ("self.md", b"---\na: &a [*a]\n---\nbody"),  # a list that contains itself
        ("groups.md", b"---\ngroups: 5\n---\nbody"),  # not a list of group names
        ("groups2.md", b"---\ngroups: [[a, b], {c: d}]\n---\nbody"),
        ("bomb.md", _bomb(levels=8)),  # 10^8 values from 400 bytes of YAML aliases
        ("mixed.md", b"---\na: {1: x, b: y}\n---\nbody"),  # keys json.dumps cannot sort
        ("deep.md", b"---\na: " + b"[" * 5000 + b"]" * 5000 + b"\n---\nbody"),
        ("deep.html", b"<div>" * 20_000 + b"x"),
    ],
)
def test_hostile_files_raise_load_error_quickly(name: str, data: bytes) -> None:
    _load(data, name)


def test_a_pdf_with_an_unknown_filter_is_a_load_error(pdf: bytes) -> None:
    """Found by the fuzz test above: pypdf raised NotImplementedError."""
    damaged = pdf.replace(b"/FlateDecode", b"/FlateDecodX")
    assert damaged != pdf
    with pytest.raises(LoadError, match="corrupt or unreadable PDF"):
        load_bytes(damaged, Path("d.pdf"))
