"""What LangChain, a client interface of ragtune's API, keeps of its citations, against a real
loopback server: plain ``ChatOpenAI`` drops them (as the README says), and the
``RagtuneChatOpenAI`` subclass printed in the README keeps them. The README's block itself
is run here, so the documented code cannot drift from what works. (The openai client is
covered in ``tests/service/test_service_openai_client.py``.)"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from tests.helpers.readme import run_readme_block
from tests.helpers.service import serve_app
from tests.service.conftest import Service, make_keys, make_project

from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig

QUESTION = "When are salary bands reviewed?"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    project = make_project(tmp_path_factory.mktemp("lc") / "proj")
    keys = make_keys(project)
    with serve_app(create_app(project, ServiceConfig())) as url:
        yield Service(url, keys, project)
    project.close()


def run_readme_langchain(server: Service) -> dict[str, Any]:
    """Runs the README's LangChain block against ``server``; returns its namespace."""
    return run_readme_block("class RagtuneChatOpenAI", server.url, server.keys.a)


def doc_ids(metadata: dict[str, Any]) -> list[str]:
    return [c["doc_id"] for c in metadata["citations"]]


def test_plain_langchain_chat_openai_drops_the_citations(server: Service) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=server.url + "/v1", api_key=server.keys.a, model="rag")
    reply = llm.invoke(QUESTION)
    assert "[1]" in str(reply.content)
    # If a LangChain release starts keeping them, the README's advice needs updating.
    assert "citations" not in reply.response_metadata
    assert "citations" not in reply.additional_kwargs
    assert str(reply.response_metadata["id"]).startswith("chatcmpl-")


def test_readme_langchain_subclass_keeps_citations(
    server: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = run_readme_langchain(server)
    printed = capsys.readouterr().out
    assert "alpha/salaries.md" in printed  # both print() calls of the README block ran
    reply, whole = ns["reply"], ns["whole"]
    for metadata in (reply.response_metadata, whole.response_metadata):
        assert "alpha/salaries.md" in doc_ids(metadata)
        assert metadata["citations"][0]["marker"] == 1 and metadata["answer_id"]
    assert reply.response_metadata["id"] == f"chatcmpl-{reply.response_metadata['answer_id']}"
    # The citations point into the document: the quoted span is the document's text there.
    for cited in reply.response_metadata["citations"]:
        text = server.project.store.get_document(cited["doc_id"]).text
        assert text[cited["start"] : cited["end"]] == cited["quote"]


def test_readme_langchain_subclass_async_and_in_a_chain(server: Service) -> None:
    from langchain_core.prompts import ChatPromptTemplate

    llm = run_readme_langchain(server)["llm"]

    async def both() -> tuple[Any, Any]:
        reply = await llm.ainvoke(QUESTION)
        whole = None
        async for chunk in llm.astream(QUESTION):
            whole = chunk if whole is None else whole + chunk
        return reply, whole

    reply, whole = asyncio.run(both())
    assert "alpha/salaries.md" in doc_ids(reply.response_metadata)
    assert "alpha/salaries.md" in doc_ids(whole.response_metadata)
    chain = ChatPromptTemplate.from_messages([("user", "{question}")]) | llm
    assert "alpha/salaries.md" in doc_ids(chain.invoke({"question": QUESTION}).response_metadata)
