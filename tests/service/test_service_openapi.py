"""The OpenAPI schema tells a generated client how to authenticate and what to upload."""

from __future__ import annotations

import httpx
from tests.service.conftest import Service

OPEN = {"/healthz", "/", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _schema(service: Service) -> dict:
    r = httpx.get(f"{service.url}/openapi.json", timeout=30)
    assert r.status_code == 200
    return r.json()


def test_every_keyed_endpoint_declares_the_api_key_schemes(service: Service) -> None:
    schema = _schema(service)
    schemes = schema["components"]["securitySchemes"]
    assert {"type": "http", "scheme": "bearer"}.items() <= next(
        s for s in schemes.values() if s["type"] == "http"
    ).items()
    assert any(s["type"] == "apiKey" and s["name"] == "X-API-Key" for s in schemes.values())
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            if path in OPEN:
                continue
            names = {name for req in op.get("security", []) for name in req}
            assert names == set(schemes), f"{method.upper()} {path} declares {names}"


def test_a_client_built_from_the_schema_alone_can_upload(service: Service) -> None:
    """Read the upload's body and auth from the schema, send both kinds, get 201."""
    schema = _schema(service)
    op = schema["paths"]["/v1/documents"]["post"]
    content = op["requestBody"]["content"]
    bearer = next(
        n for n, s in schema["components"]["securitySchemes"].items() if s["type"] == "http"
    )
    assert {"HTTPBearer": []} in op["security"] and bearer == "HTTPBearer"
    headers = {"Authorization": f"Bearer {service.keys.admin}"}
    form = content["multipart/form-data"]["schema"]
    assert form["properties"]["file"]["format"] == "binary" and form["required"] == ["file"]
    files = {"file": ("schema-form.md", b"# Form\n\nsent as the schema says\n")}
    r = httpx.post(f"{service.url}/v1/documents", headers=headers, files=files, timeout=30)
    assert r.status_code == 201, r.text
    body_schema = content["application/json"]["schema"]
    body = {
        name: "schema/json.md" if name == "id" else "# Json\n\nok\n"
        for name in body_schema["required"]
    }
    assert set(body) == {"id", "text"}
    r = httpx.post(f"{service.url}/v1/documents", headers=headers, json=body, timeout=30)
    assert r.status_code == 201, r.text
