"""Malformed requests, named one by one (the fuzzer in test_service_fuzz.py finds the rest):
each gets a 4xx with the usual JSON error body, never a 5xx or a dropped connection, and the
server answers normally afterwards."""

from __future__ import annotations

import json

import httpx
import pytest
from tests.service.conftest import Service

ENDPOINTS = ["/v1/search", "/v1/ask", "/v1/chat/completions", "/v1/embeddings",
             "/v1/feedback", "/v1/documents"]  # fmt: skip
DEEP = "[" * 50_000 + "]" * 50_000

# (name, body bytes) sent to every endpoint above as application/json.
RAW_BODIES = [
    ("empty body", b""),
    ("invalid UTF-8", b'{"query": "\xff\xfe caf\xe9"}'),
    ("truncated JSON", b'{"query": "vacation'),
    ("a JSON array", b"[1, 2, 3]"),
    ("JSON null", b"null"),
    ("NaN", b'{"query": NaN, "question": NaN, "input": NaN}'),
    ("deeply nested JSON", ('{"query": ' + DEEP + "}").encode()),
    ("lone surrogate", b'{"query": "\\ud800", "question": "\\ud800", "input": "\\ud800",'
                       b' "messages": [{"role": "user", "content": "\\ud800"}]}'),
]  # fmt: skip

# (name, endpoint, JSON body): wrong types and out-of-range values, per endpoint.
BAD_FIELDS = [
    ("query a number", "/v1/search", {"query": 5}),
    ("k huge", "/v1/search", {"query": "vacation", "k": 10**12}),
    ("k negative", "/v1/search", {"query": "vacation", "k": -1}),
    ("k a string", "/v1/search", {"query": "vacation", "k": "ten"}),
    ("100 kB filter", "/v1/search", {"query": "vacation", "filters": ["a = " + "x" * 100_000]}),
    ("1,000 filters", "/v1/search", {"query": "vacation", "filters": ["a = 1"] * 1000}),
    ("filters not a list", "/v1/search", {"query": "vacation", "filters": {"a": 1}}),
    ("unknown mode", "/v1/search", {"query": "vacation", "mode": "magic"}),
    ("unknown field", "/v1/search", {"query": "vacation", "groups": ["b"]}),
    ("empty question", "/v1/ask", {"question": ""}),
    ("unknown model", "/v1/ask", {"question": "vacation?", "model": "gpt-9"}),
    ("unknown adapter", "/v1/ask", {"question": "vacation?", "model": "ft:nope"}),
    ("temperature a list", "/v1/ask", {"question": "vacation?", "temperature": [1]}),
    ("no messages", "/v1/chat/completions", {"model": "rag", "messages": []}),
    ("message without content", "/v1/chat/completions",
     {"model": "rag", "messages": [{"role": "user"}]}),
    ("unknown role", "/v1/chat/completions",
     {"model": "rag", "messages": [{"role": "wizard", "content": "hi"}]}),
    ("unknown model id", "/v1/chat/completions",
     {"model": "nope", "messages": [{"role": "user", "content": "hi"}]}),
    ("content a number", "/v1/chat/completions",
     {"model": "rag", "messages": [{"role": "user", "content": 5}]}),
    ("n = 5", "/v1/chat/completions",
     {"model": "rag", "n": 5, "messages": [{"role": "user", "content": "hi"}]}),
    ("input empty list", "/v1/embeddings", {"model": "default", "input": []}),
    ("token ids", "/v1/embeddings", {"model": "default", "input": [[1, 2, 3]]}),
    ("unknown embedder", "/v1/embeddings", {"model": "ada-002", "input": "hi"}),
    ("rating out of range", "/v1/feedback", {"answer_id": "x", "rating": 7}),
    ("document id traversal", "/v1/documents", {"id": "../../etc/passwd", "text": "x"}),
    ("document text a list", "/v1/documents", {"id": "a.md", "text": ["x"]}),
]  # fmt: skip


def assert_clear_4xx(r: httpx.Response, what: str) -> None:
    assert 400 <= r.status_code < 500, (what, r.status_code, r.text[:300])
    error = r.json()["error"]
    assert error["code"] == r.status_code and error["message"], (what, error)


@pytest.mark.parametrize(("name", "body"), RAW_BODIES, ids=[n for n, _ in RAW_BODIES])
def test_unparsable_bodies_are_4xx_on_every_endpoint(
    service: Service, name: str, body: bytes
) -> None:
    with service.client(service.keys.admin) as c:
        for path in ENDPOINTS:
            r = c.post(path, content=body, headers={"Content-Type": "application/json"})
            assert_clear_4xx(r, f"{name} -> {path}")
        assert c.get("/healthz").status_code == 200


@pytest.mark.parametrize(("name", "path", "body"), BAD_FIELDS, ids=[n for n, _, _ in BAD_FIELDS])
def test_wrong_fields_are_4xx(service: Service, name: str, path: str, body: object) -> None:
    with service.client(service.keys.admin) as c:
        r = c.post(path, content=json.dumps(body), headers={"Content-Type": "application/json"})
        assert_clear_4xx(r, name)


def test_wrong_content_type_and_bad_headers_are_4xx(service: Service) -> None:
    with service.client(service.keys.admin) as c:
        r = c.post("/v1/search", content=b"query=vacation",
                   headers={"Content-Type": "application/x-www-form-urlencoded"})  # fmt: skip
        assert_clear_4xx(r, "form body")
        # A huge max_tokens is not an error: the server caps it (ServiceConfig.max_new_tokens).
        r = c.post("/v1/ask", json={"question": "vacation?", "max_tokens": 10**12})
        assert r.status_code == 200, r.text
    r = httpx.get(f"{service.url}/v1/me", headers={"Authorization": b"Bearer \xe9\xe9"})
    assert_clear_4xx(r, "a key that is not ASCII")
