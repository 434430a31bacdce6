"""The clients people use, unchanged, against a real server on loopback: LangChain's
``ChatOpenAI`` and ``OpenAIEmbeddings``, LlamaIndex's ``OpenAILike`` and
``OpenAILikeEmbedding``, plain and streamed. The embedder is the real packaged MiniLM (the
vectors must be ragtune's own); the generator is the echo one, so the answers are
deterministic and fast (the real model is driven by ``test_service_openai_client.py``).
The README's LlamaIndex and embeddings blocks are run as written."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from tests.conftest import write
from tests.helpers.readme import run_readme_block
from tests.helpers.service import serve_app
from tests.service.conftest import DOCS, Service, make_keys

from ragtune.config import Settings
from ragtune.project import Project
from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig

pytestmark = pytest.mark.slow  # the packaged MiniLM embedder

QUESTION = "How many vacation days do new hires get?"
HIDDEN = "beta/b-secret-plan.md"  # group B's: never cited to group A's key


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    root = tmp_path_factory.mktemp("frameworks") / "proj"
    project = Project.init(root, Settings.load(None, generator={"backend": "echo"}))
    for rel, text in DOCS.items():
        write(root / "docs" / rel, text)
    report = project.ingest([root / "docs"])
    assert not report.by_status("failed"), report.to_dict()
    keys = make_keys(project)
    with serve_app(create_app(project, ServiceConfig())) as url:
        yield Service(url, keys, project)
    project.close()


@pytest.fixture(scope="module")
def plain_chat(server: Service) -> dict[str, Any]:
    """The chat completion for QUESTION over plain HTTP: what every client should see."""
    body = {"model": "rag", "messages": [{"role": "user", "content": QUESTION}]}
    with server.client(server.keys.a) as c:
        r = c.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    reply: dict[str, Any] = r.json()
    assert reply["usage"]["prompt_tokens"] > 0 and reply["usage"]["completion_tokens"] > 0
    assert reply["citations"] and HIDDEN not in _doc_ids(reply["citations"])
    return reply


def _doc_ids(citations: Sequence[dict[str, Any]]) -> set[str]:
    return {c["doc_id"] for c in citations}


def _cosine(a: Sequence[float], b: np.ndarray) -> float:
    va = np.asarray(a, dtype=np.float64)
    return float(va @ b / (np.linalg.norm(va) * np.linalg.norm(b)))


def _own(server: Service, text: str) -> np.ndarray:
    """ragtune's own query vector for ``text`` (the one its dense search uses)."""
    return np.asarray(server.project.embedder.embed_query(text), dtype=np.float64)


def test_langchain_chat_openai_invoke_and_stream(
    server: Service, plain_chat: dict[str, Any]
) -> None:
    from langchain_openai import ChatOpenAI

    llm = ChatOpenAI(base_url=server.url + "/v1", api_key=server.keys.a, model="rag")
    usage = plain_chat["usage"]
    expected = {"input_tokens": usage["prompt_tokens"],
                "output_tokens": usage["completion_tokens"],
                "total_tokens": usage["total_tokens"]}  # fmt: skip
    reply = llm.invoke(QUESTION)
    assert reply.content == plain_chat["choices"][0]["message"]["content"]
    assert "[1]" in str(reply.content)
    assert reply.usage_metadata is not None
    assert expected.items() <= dict(reply.usage_metadata).items()
    whole: Any = None
    pieces = 0
    for chunk in llm.stream(QUESTION):
        whole = chunk if whole is None else whole + chunk
        pieces += bool(chunk.content)
    # Really streamed, and the same answer (the streamed tokens keep their trailing space).
    assert pieces > 3 and whole.content.strip() == reply.content
    assert expected.items() <= dict(whole.usage_metadata).items()  # from the last chunk


def test_llamaindex_openai_like_readme_block_and_the_rest(
    server: Service, plain_chat: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    from llama_index.core.llms import ChatMessage

    ns = run_readme_block("from llama_index.llms.openai_like", server.url, server.keys.a)
    assert "public/holidays.md" in capsys.readouterr().out  # its print() calls ran
    llm, reply, last = ns["llm"], ns["reply"], ns["last"]
    text = plain_chat["choices"][0]["message"]["content"]
    citations = plain_chat["citations"]
    usage = {k: plain_chat["usage"][k] for k in ("prompt_tokens", "completion_tokens")}
    assert reply.text == text and reply.raw.model_extra["citations"] == citations
    assert usage.items() <= reply.additional_kwargs.items()
    assert last.message.content.strip() == text
    assert last.raw.model_extra["citations"] == citations
    assert usage.items() <= last.additional_kwargs.items()

    chat = llm.chat([ChatMessage(role="user", content=QUESTION)])
    assert chat.message.content == text and chat.raw.model_extra["citations"] == citations
    streamed = list(llm.stream_complete(QUESTION))
    assert sum(bool(s.delta) for s in streamed) > 3 and streamed[-1].text.strip() == text
    assert streamed[-1].raw.model_extra["citations"] == citations


def test_langchain_openai_embeddings(server: Service) -> None:
    from langchain_openai import OpenAIEmbeddings

    emb = OpenAIEmbeddings(model="minilm", base_url=server.url + "/v1", api_key=server.keys.a,
                           check_embedding_ctx_length=False)  # fmt: skip
    query = emb.embed_query(QUESTION)
    assert len(query) == server.project.embedder.dim == 384
    assert _cosine(query, _own(server, QUESTION)) > 0.9999
    texts = [DOCS["alpha/salaries.md"], DOCS["public/holidays.md"]]
    documents = emb.embed_documents(texts)
    for text, vector in zip(texts, documents, strict=True):  # the order is kept
        assert _cosine(vector, _own(server, text)) > 0.9999
    scores = [_cosine(query, np.asarray(v)) for v in documents]
    assert scores[1] > scores[0]  # semantic: the vacation question finds the holidays text


def test_llamaindex_embedding_readme_block(
    server: Service, capsys: pytest.CaptureFixture[str]
) -> None:
    ns = run_readme_block("OpenAILikeEmbedding(", server.url, server.keys.a)
    assert capsys.readouterr().out.split() == ["384", "384"]
    assert _cosine(ns["query"], _own(server, QUESTION)) > 0.9999
    text = "Vacation days for new hires are 25 per year."
    assert _cosine(ns["vectors"][0], _own(server, text)) > 0.9999
    texts = ["salary bands", "spring holiday"]
    batch = ns["li"].get_text_embedding_batch(texts)
    assert len(batch) == 2
    for text, vector in zip(texts, batch, strict=True):
        assert _cosine(vector, _own(server, text)) > 0.9999


def test_embeddings_usage_truncation_and_base64_with_the_real_embedder(server: Service) -> None:
    long_text = " ".join(f"word{i}" for i in range(400))  # far over MiniLM's 256 tokens
    body = {"model": "default", "input": ["salary bands", long_text]}
    with server.client(server.keys.a) as c:
        floats = c.post("/v1/embeddings", json=body).json()
        packed = c.post("/v1/embeddings", json={**body, "encoding_format": "base64"}).json()
    tokens = server.project.embedder.count_tokens(body["input"])
    assert floats["usage"] == {"prompt_tokens": sum(tokens), "total_tokens": sum(tokens)}
    assert floats["ragtune_truncated"] == [1] and floats["model"] == "minilm"
    import base64

    decoded = np.frombuffer(base64.b64decode(packed["data"][1]["embedding"]), dtype="<f4")
    assert np.array_equal(decoded, np.asarray(floats["data"][1]["embedding"], dtype=np.float32))


def test_openai_client_embeddings_with_its_default_base64(server: Service) -> None:
    import openai

    client = openai.OpenAI(base_url=server.url + "/v1", api_key=server.keys.a)
    reply = client.embeddings.create(model="minilm", input=[QUESTION])  # asks for base64
    assert _cosine(reply.data[0].embedding, _own(server, QUESTION)) > 0.9999
    with pytest.raises(openai.NotFoundError, match="minilm"):
        client.embeddings.create(model="text-embedding-3-small", input=QUESTION)
    bad = openai.OpenAI(base_url=server.url + "/v1", api_key="rt_nope")
    with pytest.raises(openai.AuthenticationError):
        bad.embeddings.create(model="minilm", input=QUESTION)
