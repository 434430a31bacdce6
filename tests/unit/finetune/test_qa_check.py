"""The gate every generated training question passes: it must stand alone."""

import pytest

from ragtune.finetune.qa_check import file_tokens, gate, is_file_title, question_problems

BAD = [
    # the questions from the issue, written from real documentation
    ("What does the Ch05 say about 5.2.1. GUI network configuration tools?", "section number"),
    ("What does the Ch05 say about 5.2.1. GUI network configuration tools?", "file name"),
    ("Can you tell me what the 1st argument is?", "dangling reference: 'the 1st argument'"),
    # file names, paths, extensions
    ("What does foo.rst.txt say about leave?", "file name: 'foo.rst.txt'"),
    ("What is explained in index.html?", "file name: 'index.html'"),
    ("What does docs/ch05.html cover?", "path"),
    ("Where does the guide live under /usr/share/doc?", "path"),
    ("How do I open a .pdf file?", "file extension"),
    ("What should I know about networking according to the C api  init?", "stray whitespace"),
    # chapter and section numbers
    ("What does Chapter 3 say about backups?", "section number: 'Chapter 3'"),
    ("What does §4 say about refunds?", "section number"),
    ("What is in Section 2.1 of the handbook?", "section number"),
    ("What should I know about 3. Installing the agent?", "section number: '3.'"),
    # markup
    ("What does :func:`len` return?", "markup: ':func:'"),
    ("Identical to:c:func:PyBytes_FromFormat except how many arguments?", "markup: ':c:func:'"),
    ("How do I call ``len``?", "markup: '`'"),
    ("What does the | table show?", "markup: '|'"),
    ("What are retention rules ¶?", "markup: '¶'"),
    ("What does **bold** mean here?", "markup"),
    ("According to the :tocdepth: 2 documentation, what is Python?", "markup: ':tocdepth:'"),
    # dangling references
    ("What does this function do?", "dangling reference: 'this function'"),
    ("What does it return?", "dangling reference: 'it'"),
    ("What is described above?", "dangling reference: 'described above'"),
    ("Which of the following options is the default?", "dangling reference: 'the following'"),
    ("According to the passage, how many days of leave are there?", "the passage"),
    ("What does the text say about the VPN?", "dangling reference: 'the text'"),
    ("What is the result?", "dangling reference: 'the result'"),
    ("Can you tell me what the return value is?", "dangling reference: 'the return value'"),
    ("How many arguments does the function take?", "dangling reference: 'the function'"),
    ("What is the id argument?", "dangling reference: 'the id argument'"),
    ("What is the second argument?", "dangling reference: 'the second argument'"),
    ("What are they?", "dangling reference"),
    # statements that lost their subject, or are not one question
    ("Retrieve the error indicator into how many variables?", "no subject"),
    ("However, the limit is how many requests?", "no subject"),
    ("For long absences, give at least how many weeks of notice?", "no subject: an instruction"),
    ("By what date must days be used; any days not used are lost?", "not one question"),
    ("The letter 'h' reads one short integer ( how many bytes)?", "inside parentheses"),
    ("The VPN disconnects idle sessions after 30 minutes.", "not a question"),
    ("What is CEO.?", "not a question"),
    ("Leave?", "length"),
]

GOOD = [
    "How many days of unused leave may be carried over into the next leave year?",
    "According to the Leave Policy, how many days of unused leave may be carried over?",
    "What does PyErr_Clear() do?",
    "What is the result of PyNumber_Add()?",
    "What is the first argument of np_connect()?",
    "Why does Python use indentation for grouping of statements?",
    "Why is it called Python?",  # "it" is named in the question
    "Is it possible to write obfuscated one-liners in Python?",
    "Where is the math.py (socket.py, regex.py, etc.) source file?",  # a subject, not the container
    "How do I tell 'incomplete input' from 'invalid input'?",
    "What does the error indicator consist of?",
    "What is the unittest module?",
    "Can you tell me what IDLE is?",
    "Writing C is hard; are there any alternatives?",
    "After 10 failed sign-in attempts, an account is locked for how many minutes?",
    "On which working day of the following month is the month-end close completed?",
    "Does the IT Service Desk replace laptops older than four years?",
    "What percentage of tickets must meet the response target when the error rate is above 5%?",
    "How can I find the methods or attributes of an object?",
    "What does the Annual Leave Policy say about carrying over days?",
    "Can you summarise the section of the Code of Conduct on gifts?",
]


@pytest.mark.parametrize(("question", "problem"), BAD)
def test_bad_questions_are_flagged(question: str, problem: str) -> None:
    problems = question_problems(question)
    assert any(problem in p for p in problems), problems


@pytest.mark.parametrize("question", GOOD)
def test_good_questions_pass(question: str) -> None:
    assert question_problems(question) == []


def test_a_documents_own_file_names_are_forbidden() -> None:
    tokens = file_tokens("c-api/ch05.rst.txt", "Ch05")
    assert tokens == ["c-api/ch05.rst.txt", "ch05.rst.txt", "ch05", "Ch05"]
    assert set(question_problems("What does the Ch05 guide say about DNS?", tokens)) == {
        "file name: 'Ch05'",
        "file name: 'ch05'",
    }
    # whitespace differences do not hide a file-made title
    made = file_tokens("faq__design.rst.txt", "Faq  design")
    assert "file name: 'Faq design'" in question_problems("What does the Faq design say?", made)
    # a plain-word stem and a title the text itself uses stay usable subjects
    assert file_tokens("hr/leave.md", "Leave Policy") == ["hr/leave.md", "leave.md"]
    conduct = file_tokens("code-of-conduct.md", "Code of Conduct", "# Code of Conduct\n\nBe kind.")
    assert question_problems("What does the Code of Conduct say about gifts?", conduct) == []


def test_is_file_title() -> None:
    assert is_file_title("C api  init", "c-api__init.rst.txt")
    assert is_file_title("Ch05", "docs/ch05.html")
    assert is_file_title("notes.md", "notes.md")
    assert not is_file_title("Network Configuration", "docs/ch05.html")


def test_gate_keeps_the_good_and_counts_the_rest() -> None:
    kept, dropped = gate(["What does it do?", "What does np_release() do?", "See Chapter 2?"])
    assert kept == ["What does np_release() do?"] and dropped == 2
