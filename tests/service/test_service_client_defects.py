"""Defects real clients found (issue 25), each through a real loopback server: a client that
goes away stops its answer, OpenAI-valid finish reasons, lone surrogates, long filters, and
OpenAI options ragtune cannot honour."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from tests.helpers.service import serve_app
from tests.service.conftest import Service, make_keys, make_project

from ragtune.generate.base import GenerationOptions
from ragtune.retrieval.filters import MAX_CLAUSES
from ragtune.service.app import create_app
from ragtune.service.compat import openai_finish_reason
from ragtune.service.deps import ServiceConfig

CHAT = "/v1/chat/completions"


def _chat(content: str = "vacation days", **extra: Any) -> dict[str, Any]:
    return {"model": "rag", "messages": [{"role": "user", "content": content}], **extra}


def _answers(service: Service) -> int:
    return int(service.project.store.conn.execute("SELECT COUNT(*) FROM answers").fetchone()[0])


# -- 2. a client that goes away stops its answer ---------------------------------------------
@pytest.fixture(scope="module")
def slow_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """The echo generator at 0.05 s a word: a whole answer (~77 words) takes ~4 s."""
    project = make_project(tmp_path_factory.mktemp("slow") / "proj", model="delay=0.05")
    keys = make_keys(project)
    with serve_app(create_app(project, ServiceConfig(generation_timeout_s=60))) as url:
        service = Service(url, keys, project)
        with service.client(keys.a) as c:  # the first retrieval warms up; keep it out of timings
            assert c.post("/v1/ask", json={"question": "vacation", "model": "extract"}).is_success
        yield service
    project.close()


def _abandon(service: Service, path: str, body: dict[str, Any]) -> None:
    """Send ``body`` and go away mid-answer: a plain request by timing out, a streamed one by
    closing the connection after a few events."""
    if not body.get("stream"):
        with service.client(service.keys.a) as c, pytest.raises(httpx.ReadTimeout):
            c.post(path, json=body, timeout=0.6)
        return
    with service.client(service.keys.a) as c, c.stream("POST", path, json=body) as r:
        assert r.status_code == 200
        lines = r.iter_lines()
        for _ in range(4):
            next(lines)
    # Leaving both blocks unread closes the connection: the client went away.


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/ask", {"question": "vacation days"}),
        (CHAT, _chat()),
        ("/v1/ask", {"question": "vacation days", "stream": True}),
        (CHAT, _chat(stream=True)),
    ],
    ids=["ask", "chat", "ask-stream", "chat-stream"],
)
def test_a_client_that_goes_away_stops_its_answer(
    slow_service: Service, path: str, body: dict[str, Any]
) -> None:
    before = _answers(slow_service)
    _abandon(slow_service, path, body)
    with slow_service.client(slow_service.keys.a) as c:
        started = time.perf_counter()
        r = c.post("/v1/ask", json={"question": "vacation", "model": "extract"})
        waited = time.perf_counter() - started
    assert r.status_code == 200, r.text
    # Answers run one at a time: had the abandoned one gone on, this waited ~3 s for it.
    assert waited < 1.5, f"waited {waited:.2f} s for an answer nobody reads"
    assert _answers(slow_service) == before + 1  # the abandoned answer never completed


@pytest.mark.parametrize("stream", [False, True], ids=["plain", "stream"])
def test_a_queued_answer_whose_client_gave_up_never_runs(
    slow_service: Service, stream: bool
) -> None:
    """A client gives up while its answer waits behind another one: the answer is dropped
    from the queue. (A plain one used to run whole once its turn came, so the next request
    waited for two answers; a stream, which sends no headers before its first token, used to
    cost its prompt's prefill and a token.)"""
    before = _answers(slow_service)

    def front() -> None:  # ~4 s on the model thread
        with slow_service.client(slow_service.keys.a) as c:
            assert c.post("/v1/ask", json={"question": "vacation days"}).is_success

    thread = threading.Thread(target=front)
    thread.start()
    time.sleep(0.3)
    with (
        slow_service.client(slow_service.keys.a) as c,
        pytest.raises(httpx.ReadTimeout),
        c.stream("POST", CHAT, json=_chat(stream=stream), timeout=0.5) as r,
    ):
        r.read()
    with slow_service.client(slow_service.keys.a) as c:
        started = time.perf_counter()
        r = c.post("/v1/ask", json={"question": "vacation", "model": "extract"})
        waited = time.perf_counter() - started
    thread.join()
    assert r.status_code == 200, r.text
    assert waited < 5.5, f"waited {waited:.2f} s: the abandoned answer ran after the first"
    assert _answers(slow_service) == before + 2  # the first answer and this one


@pytest.mark.slow
def test_closing_a_transformers_stream_stops_decoding(smollm2: Any) -> None:
    """Closing the stream (what the service does when a client goes away) stops the model;
    it used to decode on in the background, holding the model lock, so the next request
    waited seconds for an answer nobody would read."""
    prompt = [{"role": "user", "content": "Count from 1 to 500, one number per line."}]
    stream = smollm2.stream(prompt, GenerationOptions(max_new_tokens=120))  # ~50 tokens, ~5 s
    assert [next(stream) for _ in range(3)]
    stream.close()
    started = time.perf_counter()
    assert smollm2._lock.acquire(timeout=10)
    smollm2._lock.release()
    assert time.perf_counter() - started < 1.0


# -- 3. OpenAI-valid finish reasons ---------------------------------------------------------
def test_extract_finish_reason_is_one_openai_accepts(service: Service) -> None:
    body = _chat("When are salary bands reviewed?", model="extract")
    with service.client(service.keys.a) as c:
        plain = c.post(CHAT, json=body)
        assert plain.status_code == 200, plain.text
        completion = ChatCompletion.model_validate(plain.json())  # raised on "extracted"
        with c.stream("POST", CHAT, json={**body, "stream": True}) as r:
            events = [x[6:] for x in r.iter_lines() if x.startswith("data: ")]
    assert completion.choices[0].finish_reason == "stop"
    assert (completion.model_extra or {})["ragtune_finish_reason"] == "extracted"
    assert events[-1] == "[DONE]"
    chunks = [ChatCompletionChunk.model_validate(json.loads(e)) for e in events[:-1]]
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert (chunks[-1].model_extra or {})["ragtune_finish_reason"] == "extracted"

    client = openai.OpenAI(base_url=f"{service.url}/v1", api_key=service.keys.a)
    reply = client.chat.completions.create(**body)
    assert reply.choices[0].finish_reason == "stop"
    assert (reply.model_extra or {})["citations"]
    assert [openai_finish_reason(r) for r in ("abstained", "length", None)] == [
        "stop", "length", "stop"
    ]  # fmt: skip


# -- 4. a lone surrogate is a 422, never a 500 ----------------------------------------------
@pytest.mark.parametrize(
    ("raw", "where"),
    [
        (b'{"model":"rag","messages":[{"role":"user","content":"vacation \\ud800 days"}]}',
         "messages.0.content"),
        (b'{"model":"rag","stream":true,"messages":[{"role":"user","content":"x \\udfff"}]}',
         "messages.0.content"),
        (b'{"model":"rag","messages":[{"role":"user","content":[{"type":"text","text":"\\ud800"}]}]}',
         "messages.0.content.0.text"),
        (b'{"model":"rag","stop":"\\ud800","messages":[{"role":"user","content":"x"}]}', "stop"),
    ],
    ids=["content", "streamed", "content-part", "stop"],
)  # fmt: skip
def test_a_lone_surrogate_in_a_chat_request_is_422(
    service: Service, raw: bytes, where: str
) -> None:
    headers = {"content-type": "application/json"}
    with service.client(service.keys.a) as c:
        r = c.post(CHAT, content=raw, headers=headers)
        assert r.status_code == 422, r.text
        message = r.json()["error"]["message"]
        assert where in message and "not valid Unicode" in message
        # like search and ask, which pydantic's str fields already refused
        r = c.post("/v1/search", content=b'{"query":"x \\ud800"}', headers=headers)
        assert r.status_code == 422


# -- 5. long filters: clear 4xx errors, never SQLite's 500 ----------------------------------
def test_long_filters_are_clear_4xx_errors(service: Service) -> None:
    eighty = " and ".join(["id != x"] * 80)  # 875 characters: under the length limit
    fifty = " and ".join(["id != x"] * 50)
    over = "title != " + "x" * (1001 - len("title != "))
    assert len(eighty) < 1000 and len(over) == 1001
    bodies = {
        "/v1/search": lambda f: {"query": "vacation", "filters": f},
        "/v1/ask": lambda f: {"question": "vacation", "filters": f},
        CHAT: lambda f: _chat(filters=f),
    }
    with service.client(service.keys.a) as c:
        for path, body in bodies.items():
            for filters in ([eighty], [fifty] * 4):  # 80 and 200 clauses
                r = c.post(path, json=body(filters))
                assert r.status_code == 400, (path, r.text)
                assert f"over the limit of {MAX_CLAUSES}" in r.json()["error"]["message"]
            r = c.post(path, json=body([over]))
            assert r.status_code == 422, (path, r.text)
            assert "at most 1000 characters" in r.json()["error"]["message"]
            assert c.post(path, json=body([fifty])).status_code == 200  # the limit itself works
        answer = c.post(CHAT, json=_chat(filters=["id = public/holidays.md"])).json()
        assert {x["doc_id"] for x in answer["citations"]} == {"public/holidays.md"}


# -- 10. OpenAI options ragtune cannot honour are refused, not ignored ----------------------
def test_unsupported_openai_options_are_refused(service: Service) -> None:
    client = openai.OpenAI(base_url=f"{service.url}/v1", api_key=service.keys.a)
    messages = _chat()["messages"]
    refused: list[tuple[dict[str, Any], str]] = [
        ({"n": 2}, "n=2"),
        ({"tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
         "tools="),
        ({"response_format": {"type": "json_object"}}, "response_format="),
        ({"logprobs": True, "top_logprobs": 2}, "logprobs=true"),
        ({"tool_choice": "required"}, "tool_choice="),
        ({"logit_bias": {"50256": -100}}, "logit_bias="),
        ({"presence_penalty": 1.5}, "presence_penalty="),
        ({"extra_body": {"top_k": 5}}, "top_k is not supported"),
    ]  # fmt: skip
    for options, named in refused:
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="rag", messages=messages, **options)
        assert named in str(caught.value) and "not supported" in str(caught.value), options
    harmless: dict[str, Any] = {
        "n": 1, "logprobs": False, "tools": [], "response_format": {"type": "text"},
        "user": "ann", "metadata": {"team": "hr"}, "presence_penalty": 0,
        "frequency_penalty": 0.0, "tool_choice": "none", "store": False,
    }  # fmt: skip
    reply = client.chat.completions.create(model="rag", messages=messages, **harmless)
    assert reply.choices[0].message.content
    stream = client.chat.completions.create(
        model="rag", messages=messages, stream=True, stream_options={"include_usage": True}
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    with service.client(service.keys.a) as c:  # null means "the default": accepted
        assert c.post(CHAT, json=_chat(n=None, tools=None, logprobs=None)).status_code == 200
        r = c.post(CHAT, json=_chat(n=3, functions=[{"name": "f"}]))
        error = r.json()["error"]
        assert r.status_code == 400 and error["type"] == "invalid_request"
        message = error["message"]
        assert message.startswith("unsupported options: n=3") and "functions" in message
        assert "remove them" in error["hint"]
