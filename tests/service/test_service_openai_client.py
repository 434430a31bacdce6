"""The official ``openai`` client, unchanged, against a real server on loopback, with the
real packaged models (MiniLM embedder, SmolLM2 through transformers)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest
from tests.conftest import write
from tests.helpers.service import serve_app
from tests.service.conftest import DOCS, Keys, Service, make_keys

from ragtune.config import Settings
from ragtune.project import Project
from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig

QUESTION = "How many vacation days do new hires get?"


@pytest.fixture(scope="module")
def real_service(tmp_path_factory: pytest.TempPathFactory, model_cache: Path) -> Iterator[Service]:
    os.environ["RAGTUNE_CACHE"] = str(model_cache)  # module fixtures run before the autouse one
    root = tmp_path_factory.mktemp("real") / "proj"
    project = Project.init(root, Settings.load(None, generator={"max_new_tokens": 24}))
    for rel, text in DOCS.items():
        write(root / "docs" / rel, text)
    project.ingest([root / "docs"])
    keys: Keys = make_keys(project)
    with serve_app(create_app(project, ServiceConfig(generation_timeout_s=600))) as url:
        yield Service(url, keys, project)
    project.close()


@pytest.mark.slow
def test_openai_client_chat_plain_and_streamed(real_service: Service) -> None:
    client = openai.OpenAI(base_url=f"{real_service.url}/v1", api_key=real_service.keys.a)
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "rag" and "base" in ids
    messages = [{"role": "user", "content": QUESTION}]
    plain = client.chat.completions.create(model="rag", messages=messages, max_tokens=24)  # type: ignore[arg-type]
    text = plain.choices[0].message.content
    assert text and plain.usage and plain.usage.completion_tokens > 0
    extra = plain.model_extra or {}
    assert extra["answer_id"] and isinstance(extra["citations"], list)
    assert all(c["doc_id"] != "beta/b-secret-plan.md" for c in extra["citations"])

    stream = client.chat.completions.create(
        model="rag",
        messages=messages,
        max_tokens=24,
        stream=True,  # type: ignore[arg-type]
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content or "" for c in chunks if c.choices]
    assert len([p for p in pieces if p]) > 3  # really streamed, token by token
    # Greedy: the same model answer both ways. A plain answer is checked whole and may be
    # the evidence span instead; a streamed one cannot be taken back, so it is not.
    model_said = extra.get("replaced", text)
    assert extra["ragtune_finish_reason"] != "ungrounded" or model_said != text
    assert "".join(pieces).strip() == model_said
    final = chunks[-1]
    assert final.choices[0].finish_reason == "stop"
    if "replaced" not in extra:  # the same answer, so the same sources
        assert (final.model_extra or {})["citations"] == extra["citations"]

    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{real_service.url}/v1", api_key="rt_bad").models.list()
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4", messages=messages)  # type: ignore[arg-type]


@pytest.mark.slow
def test_real_path_acl_probe(real_service: Service) -> None:
    """Through the real embedder and model: A's answer about B's topic never sees B."""
    question = {"question": "What is the code of the zanzibar merger?", "max_tokens": 16}
    with httpx.Client(base_url=real_service.url, timeout=600) as c:
        a = c.post("/v1/ask", json=question,
                   headers={"Authorization": f"Bearer {real_service.keys.a}"}).json()  # fmt: skip
        b = c.post("/v1/ask", json=question,
                   headers={"Authorization": f"Bearer {real_service.keys.b}"}).json()  # fmt: skip
    a_docs = {p["chunk"]["doc_id"] for p in a["contexts"]}
    assert a_docs and "beta/b-secret-plan.md" not in a_docs
    assert "wallaby7731" not in str(a).lower() and "quokka" not in str(a).lower()
    assert "beta/b-secret-plan.md" in {p["chunk"]["doc_id"] for p in b["contexts"]}  # control
