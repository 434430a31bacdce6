"""Offline QA from documentation-shaped text: reST with directives and numbered sections,
Sphinx-style HTML with permalinks, titles that are file names. No question may name the
file, a section number or markup, or point at something it does not name."""

import re
from collections import Counter
from pathlib import Path

import pytest
from tests.conftest import write

from ragtune.finetune.data import SPLITS, build_dataset, load_split
from ragtune.finetune.qa_check import file_tokens, question_problems
from ragtune.finetune.qa_context import DocContext, api_name, passages, resolve, strip_numbering
from ragtune.finetune.qa_offline import facts_from_document, section_questions
from ragtune.ingest.chunking import chunk_text
from ragtune.project import Project
from ragtune.types import Document

# Our own text, shaped like real reference documentation.
RST = """\
.. _netconf:

=====================
Network Configuration
=====================

This chapter explains how the ``netplumb`` daemon configures network interfaces on a
workstation. See Chapter 3 for installing the daemon.

5.2. Interface names
--------------------

Interface names are assigned by the kernel at boot. The daemon renames an interface only
when a rule in :file:`/etc/netplumb/rules.conf` matches it.

5.2.1. GUI network configuration tools
--------------------------------------

The Network Panel is a graphical front end for :program:`netplumb`. It shows every
interface with its state and lets an administrator switch it on or off.

Up to 8 profiles can be stored per user.

Arguments
---------

The 1st argument is the name of the interface. The second argument is the address in
CIDR notation. The following options are accepted:

+-----------+---------------------------+
| Option    | Meaning                   |
+===========+===========================+
| ``-v``    | print every step          |
+-----------+---------------------------+

Functions
---------

.. function:: np_connect(iface, address, timeout=30)

   Bring the interface *iface* up and assign *address* to it. This function blocks for at
   most 30 seconds before it gives up.

   The 1st argument must name an existing interface.

.. function:: np_release(iface)

   Release every address held by *iface* and take the interface down.

.. data:: NP_MAX_PROFILES

   The largest number of stored profiles a single user may keep.

.. class:: Profile(name)

   A named set of interface settings that an administrator can apply in one step.

   .. attribute:: name

      The label shown for the profile in the Network Panel.
"""

HTML = """\
<html><head><title>5. Backups and Restores &mdash; Workstation Manual 2.1</title></head>
<body>
<h1>5. Backups and Restores<a class="headerlink" href="#backups">&para;</a></h1>
<p>The backup service copies home folders to the file server every night at 01:00.</p>
<h2>5.1. Retention<a class="headerlink" href="#retention">&para;</a></h2>
<p>Nightly snapshots are kept for 30 days. Monthly snapshots are kept for at least 12
months. See section 5.3 for restores.</p>
<h2>5.2. What is backed up?<a class="headerlink" href="#what">&para;</a></h2>
<p>Only files under the home folder are copied; caches and downloads are skipped.</p>
<h2>5.3. Restoring a file<a class="headerlink" href="#restore">&para;</a></h2>
<p>Use the restore command with two arguments:</p>
<ul><li>The first argument is the path of the lost file.</li>
<li>The second argument is the date of the snapshot to restore from.</li></ul>
<p>It prints the restored path when it finishes.</p>
<table><tr><th>Flag</th><th>Effect</th></tr>
<tr><td>--dry-run</td><td>show what would be restored</td></tr></table>
</body></html>
"""

# A plain-text file without a heading: its title can only be its file name ("Ch07").
TXT = """\
Staff connect to the office network through the VPN gateway, which allows up to 4 devices per
person. Idle sessions are closed after 20 minutes.

It keeps the last 90 days of connection logs.
"""

# Independent of the validator: what the issue saw in real output.
LEAKS = re.compile(r"ch0\d|\.html|\.rst|\.txt|index|\d\.\d|chapter|section \d|¶|`|\||:\w+:", re.I)
DANGLING = re.compile(r"\b(?:the (?:1st|first|second) argument|this function|the above|"
                      r"the following)\b|^(?:what|how) (?:does|is) it\b", re.I)  # fmt: skip


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    write(tmp_path / "docs" / "net" / "ch05.rst.txt", RST)
    write(tmp_path / "docs" / "backup" / "index.html", HTML)
    write(tmp_path / "docs" / "notes" / "ch07.txt", TXT)
    report = hash_project.ingest([tmp_path / "docs"])
    assert not report.by_status("failed")
    return hash_project


def test_no_built_question_has_a_problem(project: Project) -> None:
    card = build_dataset(project, name="docs", heldout_docs=0.0)
    rows = [r for s in SPLITS for r in load_split(project, "docs", s)]
    assert len(rows) >= 20
    for row in rows:
        q, doc = row.user_text, project.document(row.doc_id)
        assert question_problems(q, file_tokens(doc.id, doc.title, doc.text)) == [], q
        assert not LEAKS.search(q) and not DANGLING.search(q), q
    # the sample provokes bad questions ("What is the 1st argument?"): skipped and counted
    assert card.filters["dropped_unclear_questions"] > 0
    assert card.filters["dropped_unclear_passages"] > 0


def test_subjects_come_from_the_text(project: Project) -> None:
    doc = project.document("net/ch05.rst.txt")
    facts = facts_from_document(doc, project.store.chunks_of(doc.id))
    questions = {q for f in facts for q in f.questions}
    rules = Counter(f.rule for f in facts)
    assert rules["api"] >= 3 and rules["quantity"] >= 2
    # the document's own heading is a chapter's name, asked about as a subject, never as a
    # container ("What does the Network Configuration documentation say about ...?");
    # reference entries by the object's name
    assert "Can you give me an overview of Network Configuration?" in questions
    assert not any("documentation" in q or q.startswith("According to") for q in questions)
    assert "What does np_connect() do?" in questions
    assert "What does np_release() do?" in questions
    assert "What is NP_MAX_PROFILES?" in questions
    # "This function blocks ..." asked about the function it belongs to
    assert "For how many seconds does np_connect() block before it gives up?" in questions
    assert "How many profiles can be stored per user?" in questions
    # numbered headings lose their numbers
    assert "What should I know about interface names?" in questions
    answers = {f.answer for f in facts}
    assert "Bring the interface iface up and assign address to it." in answers  # markup gone
    html = project.document("backup/index.html")
    questions = {q for f in facts_from_document(html, project.store.chunks_of(html.id))
                 for q in f.questions}  # fmt: skip
    assert "For how many days are nightly snapshots kept?" in questions
    assert not any("Backups and Restores" in q for q in questions)
    txt = project.document("notes/ch07.txt")
    assert txt.title == "Ch07" and DocContext(txt).topic == ""  # the loader's fallback
    questions = {q for f in facts_from_document(txt, project.store.chunks_of(txt.id))
                 for q in f.questions}  # fmt: skip
    assert "After how many minutes are idle sessions closed?" in questions
    assert not any("ch07" in q.lower() or q.startswith("According to") for q in questions)


def test_strip_numbering_and_api_names() -> None:
    assert strip_numbering("5.2.1. GUI network configuration tools") == (
        "GUI network configuration tools"
    )
    assert strip_numbering("Chapter 3: Installing") == "Installing"
    assert strip_numbering("§ 4 Refunds") == "Refunds"
    assert strip_numbering("A.1) Appendix notes") == "Appendix notes"
    assert strip_numbering("Retention ¶") == "Retention"
    assert strip_numbering("5. Network setup — Debian Reference") == "Network setup"
    assert strip_numbering("2024 Annual Report") == "2024 Annual Report"  # a year, not a number
    assert api_name("function", "void PyErr_Clear()") == "PyErr_Clear()"
    assert api_name("function", "PyObject* PyErr_Occurred(void)") == "PyErr_Occurred()"
    assert api_name("type", "PyObject") == "PyObject"
    assert api_name("function", "-x") == ""


def test_passages_know_their_heading_and_subject() -> None:
    found = {p.text: p for p in passages(RST)}
    entry = found["Release every address held by iface and take the interface down."]
    assert (entry.subject, entry.kind, entry.opens) == ("np_release()", "function", True)
    member = found["The label shown for the profile in the Network Panel."]
    assert member.subject == "Profile.name"  # a member is named with its class
    boot = found["Interface names are assigned by the kernel at boot."]
    assert (boot.section, boot.subject, boot.opens) == ("Interface names", "", True)
    assert RST[boot.start : boot.end] == "Interface names are assigned by the kernel at boot."
    # a list item keeps exact offsets without its marker
    item = passages("Intro\n\n- First point of the list here.\n")[-1]
    assert item.text == "First point of the list here." and item.start == 9


def test_resolve_names_the_entrys_object() -> None:
    assert resolve("This function blocks for 30 seconds.", "np_connect()") == (
        "np_connect() blocks for 30 seconds."
    )
    assert resolve("The 1st argument must name an interface.", "np_connect()") == (
        "The 1st argument of np_connect() must name an interface."
    )
    assert resolve("The first argument of f is x.", "g()") == "The first argument of f is x."
    assert resolve("This function blocks.", "") == "This function blocks."


def test_a_file_named_title_is_never_the_topic() -> None:
    text = "Why is the sky blue?\n" + "-" * 20 + "\n\nBecause air scatters blue light more.\n"
    doc = Document("faq__design.rst.txt", "Faq  design", text, "h")  # a loader's fallback title
    chunks = chunk_text(doc.id, text, lambda texts: [len(t.split()) for t in texts])
    ctx = DocContext(doc)
    # the title is the file name and the only heading is a question: no topic at all
    assert ctx.topic == "" and "Faq  design" in ctx.forbidden
    questions = [q for f in facts_from_document(doc, chunks) for q in f.questions]
    assert questions == ["Quick question: why is the sky blue?",
                         "I'd like to know: why is the sky blue?"]  # fmt: skip


def _ctx(text: str, title: str = "How to use Django with Uvicorn") -> DocContext:
    return DocContext(Document(id="howto/asgi.html", title=title, text=text, content_hash=""))


@pytest.mark.parametrize(
    "heading, expected",
    [
        ("Running Django in Uvicorn", "What should I know about running Django in Uvicorn?"),
        ("Customize the admin form", "How do I customize the admin form?"),
        ("Write your views", "How do I write my views?"),
        ("How to install Django on Windows", "How do I install Django on Windows?"),
        ("Gunicorn", "What should I know about Gunicorn?"),  # a name stands alone
        ("We identify a bug", None),  # a sentence, not a subject
        ("Tests will save you time", None),
        ("For distributors", None),
        ("Learn more", None),
        ("A quick overview", None),
        ("Security", None),  # of what? a lone common word needs its chapter
        ("That's it!", None),
    ],
)
def test_headings_are_asked_about_without_their_chapter(heading: str, expected: str | None) -> None:
    ctx = _ctx("Deploy it with an ASGI server. Good security matters: run it as a user.\n")
    assert ctx.the_topic == ""  # a chapter's name never frames a question
    _, questions = section_questions(heading, ctx)
    if expected is None:
        assert questions == []
    else:
        assert questions[0] == expected
    assert not any("documentation" in q or "Uvicorn documentation" in q for q in questions)


def test_named_documents_still_frame_questions() -> None:
    ctx = _ctx("Staff may carry over 5 days.\n", title="Leave Policy")
    assert ctx.the_topic == "the Leave Policy"
    assert section_questions("Carrying over days", ctx)[1][0] == (
        "What does the Leave Policy say about carrying over days?"
    )
    assert _ctx("x\n", title="FAQ: General").the_topic == ""


def test_a_paragraph_wrapped_early_is_not_a_heading_where_headings_are_marked() -> None:
    text = (
        "# Editing views\n\nSee also\n\nThe messages framework contains\nSuccessMessageMixin, "
        "which presents messages about successful form submissions.\n"
    )
    sections = {p.section for p in passages(text)}
    assert sections == {"Editing views"}
    # In a PDF's text, where nothing is marked, a short title line still opens a section.
    pdf = "Leave Policy\nStaff may carry over five days of leave into the next year.\n"
    assert passages(pdf)[0].section == "Leave Policy"
