"""``POST /v1/embeddings`` over HTTP (hash embedder, for speed): the OpenAI shape, the key,
and a clear 4xx for every input it cannot embed. The real MiniLM path and the framework
clients are in ``test_service_frameworks.py``."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from tests.service.conftest import Service

from ragtune.embed.base import HashEmbedder
from ragtune.service.routes.embeddings import MAX_INPUT_CHARS, MAX_INPUTS

PATH = "/v1/embeddings"


def _post(service: Service, body: dict[str, Any], key: str | None = "a") -> Any:
    token = getattr(service.keys, key) if key else None
    with service.client(token) as c:
        return c.post(PATH, json=body)


def test_a_list_of_texts_in_the_openai_shape(service: Service) -> None:
    texts = ["vacation days for new hires", "salary bands", "spring holiday"]
    r = _post(service, {"model": "hash", "input": texts})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "list" and body["model"] == "hash"
    assert [d["index"] for d in body["data"]] == [0, 1, 2]
    assert {d["object"] for d in body["data"]} == {"embedding"}
    expected = HashEmbedder().embed(texts)  # the project's embedder, computed independently
    got = np.asarray([d["embedding"] for d in body["data"]], dtype=np.float32)
    assert got.shape == (3, 256) and np.allclose(got, expected)
    assert body["usage"] == {"prompt_tokens": 5 + 2 + 2, "total_tokens": 9}
    assert body["ragtune_truncated"] == []


def test_one_string_default_model_and_its_own_dimensions(service: Service) -> None:
    r = _post(service, {"model": "default", "input": "salary bands", "dimensions": 256})
    assert r.status_code == 200, r.text
    [item] = r.json()["data"]
    assert np.allclose(item["embedding"], HashEmbedder().embed_query("salary bands"))


def test_the_key_is_required(service: Service) -> None:
    assert _post(service, {"model": "hash", "input": "x"}, key=None).status_code == 401
    with service.client("rt_not_a_key") as c:
        assert c.post(PATH, json={"model": "hash", "input": "x"}).status_code == 401


def _error(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    error: dict[str, Any] = r.json()["error"]
    return error


@pytest.mark.parametrize(
    ("body", "message", "hint"),
    [
        ({"input": []}, "input is an empty list", "a text or a list"),
        ({"input": ["ok", "  "]}, "input[1] is empty", "non-blank"),
        ({"input": [[101, 2023], [7]]}, "token ids", "check_embedding_ctx_length=False"),
        ({"input": [101, 2023]}, "token ids", "send strings"),
        ({"input": ["x"] * (MAX_INPUTS + 1)}, f"over the {MAX_INPUTS} limit", "several"),
        ({"input": "y" * (MAX_INPUT_CHARS + 1)}, "input[0] is 32001 characters", "split"),
        ({"input": "x", "dimensions": 64}, "dimensions=64 is not supported", "send 256"),
    ],
)
def test_input_it_cannot_embed_is_a_clear_400(
    service: Service, body: dict[str, Any], message: str, hint: str
) -> None:
    error = _error(_post(service, {"model": "hash", **body}), 400)
    assert message in error["message"] and hint in error["hint"]
    assert error["type"] == "invalid_request"


def test_another_model_name_is_a_404_naming_the_served_one(service: Service) -> None:
    error = _error(_post(service, {"model": "text-embedding-3-small", "input": "x"}), 404)
    assert "text-embedding-3-small" in error["message"] and "'hash'" in error["hint"]


@pytest.mark.parametrize(
    "body",
    [
        {"model": "hash", "input": "x", "encoding_format": "int8"},
        {"model": "hash", "input": "x", "temperature": 1},  # not an embeddings option
        {"model": "hash", "input": [{"text": "x"}]},
        {"input": "x"},
    ],
)
def test_malformed_requests_are_422(service: Service, body: dict[str, Any]) -> None:
    _error(_post(service, body), 422)


def test_a_lone_surrogate_is_a_422_naming_where(service: Service) -> None:
    raw = b'{"model": "hash", "input": ["ok", "x \\ud800"]}'  # JSON escape: no UTF-8 form
    headers = {"Authorization": f"Bearer {service.keys.a}", "Content-Type": "application/json"}
    with service.client(None) as c:
        error = _error(c.post(PATH, content=raw, headers=headers), 422)
    assert "input.1 is not valid Unicode" in error["message"]
