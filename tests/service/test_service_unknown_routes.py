"""Unknown routes and methods answer 404/405 with the usual JSON error body, never a 500."""

from __future__ import annotations

import httpx
import pytest
from tests.service.conftest import Service


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/nope", 404),
        ("GET", "/nope", 404),
        ("GET", "/favicon.ico", 404),
        ("POST", "/v1/completions", 404),
        ("GET", "/v1/models/x", 404),
        ("DELETE", "/v1/search", 405),
        ("PUT", "/v1/chat/completions", 405),
    ],
)
def test_unknown_routes_are_clear_4xx(
    service: Service, method: str, path: str, status: int
) -> None:
    with service.client(service.keys.a) as c:
        r = c.request(method, path)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == status and error["message"]


def test_a_normalised_traversal_is_a_404(service: Service) -> None:
    r = httpx.get(f"{service.url}/v1/documents/../../x", timeout=30)  # httpx normalises it
    assert r.status_code == 404 and "error" in r.json()
