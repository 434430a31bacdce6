"""`ragtune data build --backend openai`: a model writes the QA pairs over real HTTP.

The server is `ragtune serve` itself (an OpenAI-compatible API) on 127.0.0.1, answering with
the `base` strategy through a scripted writer behind it; the client is the real `openai`
package inside ragtune's openai backend. What the writer returns goes through the same gate
as the offline rules: its dangling and file-name questions must not reach the dataset.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import ClassVar

import pytest
from click.testing import CliRunner
from tests.conftest import write
from tests.helpers.service import serve_app

from ragtune.cli.main import cli
from ragtune.config import Settings
from ragtune.finetune.qa_check import question_problems
from ragtune.generate.base import Generation, GenerationOptions, Message
from ragtune.project import Project
from ragtune.registry import generators
from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig
from ragtune.store.keys import create_key

DOCS = {
    "net/ch05.rst.txt": "=====================\nNetwork Configuration\n=====================\n\n"
    "5.2. Interface names\n--------------------\n\nInterface names are assigned by the kernel "
    "at boot. The daemon renames an interface when a rule in :file:`rules.conf` matches.\n\n"
    ".. function:: np_release(iface)\n\n   Release every address held by *iface* and take the "
    "interface down.\n",
    "hr/leave.md": "# Leave Policy\n\nUp to 5 days of unused leave may be carried over into the "
    "next leave year.\n\nManagers should approve or decline a request within 3 working days.\n",
    "it/vpn.md": "# VPN Guide\n\nThe VPN disconnects idle sessions after 30 minutes.\n\n"
    "Passwords must contain at least 14 characters.\n",
    "product/api.md": "# API Reference\n\nThe API allows 600 requests per minute per token.\n",
}
BAD = ("Can you tell me what the 1st argument is?", "What does ch05.rst.txt say in 5.2.1. Setup?")


class QAWriter:
    """Writes a fact for the first sentence of the passage it is shown: two questions that
    stand alone and the two kinds the issue saw. Records every prompt it receives."""

    name = "qa-writer"
    model_name = "qa-writer"
    context_window = 32768
    prompts: ClassVar[list[list[Message]]] = []
    _lock = threading.Lock()

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def _reply(self, prompt: list[Message]) -> str:
        with self._lock:
            QAWriter.prompts.append(prompt)
        task = prompt[-1]["content"]
        passage = task.split(":\n", 1)[1].split("\n\nWrite up to", 1)[0]
        sentence = next(s for s in passage.splitlines() if len(s.split()) >= 5)
        words = sorted(set(re.findall(r"[a-z]{4,}", sentence.lower())), key=lambda w: (-len(w), w))
        a, b = words[:2]
        # Numbered, as models often write it: `ragtune serve` drops leading lines of an answer
        # that restate the prompt, and a bare first "Q: ..." line about the passage does.
        return (f"1. Q: What does the documentation say about {a} and {b}?\nQ: {BAD[0]}\n"
                f"Q: {BAD[1]}\nQ: Which rule covers {a} and {b}?\nA: {sentence}")  # fmt: skip

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]:
        return [Generation(self._reply(p), 10, 10, 0.0, "stop") for p in prompts]

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]:
        yield self._reply(prompt)


if "qa-writer" not in generators:
    generators.register("qa-writer")(lambda settings: QAWriter())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, API key) of `ragtune serve` on loopback with the writer behind it."""
    settings = Settings.load(None, embedder={"name": "hash"}, generator={"backend": "qa-writer"})
    project = Project.init(tmp_path / "server", settings)
    key = create_key(project.store, "trainer", [])[0]
    config = ServiceConfig(strategy="base", max_question_chars=20000, generation_timeout_s=30)
    with serve_app(create_app(project, config)) as url:
        yield url, key
    project.close()


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-C", str(root), *args])
    return result.exit_code, result.output


def test_model_written_pairs_pass_the_same_gate(
    server: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url, key = server
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    monkeypatch.setenv("RAGTUNE_GENERATOR__OPENAI_BASE_URL", f"{url}/v1")
    monkeypatch.setenv("RAGTUNE_GENERATOR__OPENAI_API_KEY_ENV", "QA_TEST_RAGTUNE_KEY")
    root = tmp_path / "client"
    assert run(root, "init")[0] == 0
    for name, text in DOCS.items():
        write(root / "docs" / name, text)
    assert run(root, "ingest", str(root / "docs"))[0] == 0
    QAWriter.prompts.clear()
    # no key: the server refuses, and the build says so in one line
    code, out = run(root, "data", "build", "--backend", "openai", "--model", "base")
    assert code != 0 and "rejected the API key" in out and "Traceback" not in out

    monkeypatch.setenv("QA_TEST_RAGTUNE_KEY", key)
    args = ("data", "build", "--backend", "openai", "--model", "base", "-p", "2", "--json")
    code, out = run(root, *args)
    assert code == 0, out
    card = json.loads(out)
    assert card["generator"] == "openai:base" and card["sources"]["qa_offline"] == 0
    facts = len(QAWriter.prompts)  # one fact per passage the server was shown
    assert facts >= len(DOCS)
    assert card["filters"]["dropped_unclear_questions"] == 2 * facts  # BAD, every time
    assert card["filters"]["dropped_unclear_passages"] == 0
    # the prompt that crossed HTTP: ragtune's instructions, the passage without markup
    task = QAWriter.prompts[0][-1]["content"]
    assert "make sense on its own" in task and "Passage from" in task
    assert not any(":file:" in p[-1]["content"] or "``" in p[-1]["content"]
                   for p in QAWriter.prompts)  # fmt: skip
    assert not any("Ch05" in p[-1]["content"] for p in QAWriter.prompts)  # file title unused
    rows = [json.loads(line) for s in ("train", "validation", "test")
            for line in (Path(card["path"]) / f"{s}.jsonl").read_text().splitlines()]  # fmt: skip
    questions = [r["messages"][0]["content"] for r in rows]
    assert len(questions) == card["sources"]["qa_model"] > 0
    assert not set(BAD) & set(questions)
    assert all(question_problems(q) == [] for q in questions)
    assert any(q.startswith("Which rule covers ") for q in questions)  # the stand-in phrasing
