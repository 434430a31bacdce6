"""Two ``ragtune serve`` replicas (real HTTP servers on loopback, separate project folders)
on one PostgreSQL store: what one replica writes, the other serves at once, and the ACL
holds on both. This is how several replicas share one store (issue 22, item 6)."""

from __future__ import annotations

from pathlib import Path

import httpx
from tests.conftest import write
from tests.helpers.postgres import PgServer
from tests.helpers.service import serve_app
from tests.service.conftest import B_SECRETS, DOCS, make_keys

from ragtune.config import Settings
from ragtune.project import Project
from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig
from ragtune.store.keys import revoke_key


def _client(url: str, key: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60)


def _doc_ids(response: httpx.Response) -> set[str]:
    assert response.status_code == 200, response.text
    return {h["chunk"]["doc_id"] for h in response.json()["data"]}


def test_replicas_share_documents_keys_and_feedback(tmp_path: Path, postgres: PgServer) -> None:
    settings = Settings.load(
        None, embedder={"name": "hash"}, chunking={"size": 64, "overlap": 8},
        generator={"backend": "echo"},
        store={"backend": "postgres", "dsn": postgres.new_database()},
    )  # fmt: skip
    first, second = (Project.init(tmp_path / name, settings) for name in ("a", "b"))
    for rel, text in DOCS.items():
        write(tmp_path / "docs" / rel, text)
    assert not first.ingest([tmp_path / "docs"]).by_status("failed")
    keys = make_keys(first)  # created through one replica's store, valid on both
    config = ServiceConfig(max_body_bytes=64 * 1024, generation_timeout_s=20)
    with (
        serve_app(create_app(first, config)) as url_a,
        serve_app(create_app(second, config)) as url_b,
    ):
        with _client(url_b, keys.a) as a_on_b, _client(url_a, keys.admin) as admin_on_a:
            found = _doc_ids(a_on_b.post("/v1/search", json={"query": "salary bands", "k": 5}))
            assert "alpha/salaries.md" in found and "beta/b-secret-plan.md" not in found
            # group b's document is about vacation days too: none of it may reach key a
            answer = a_on_b.post("/v1/ask", json={"question": "vacation days budget"})
            assert answer.status_code == 200
            assert not any(secret in answer.text for secret in B_SECRETS)
            # an upload through A is served by B, before A's response returns
            wombat = {"id": "public/wombat.md", "text": "# Wombats\n\nWombat parking: level 2."}
            r = admin_on_a.post("/v1/documents", json=wombat)
            assert r.status_code in (200, 201), r.text
            found = _doc_ids(a_on_b.post("/v1/search", json={"query": "wombat parking"}))
            assert "public/wombat.md" in found
            # feedback given on B to an answer B gave is listed by A
            answer_id = answer.json()["id"]
            r = a_on_b.post("/v1/feedback", json={"answer_id": answer_id, "rating": "up"})
            assert r.status_code == 201, r.text
            listed = admin_on_a.get("/v1/feedback").json()["data"]
            assert [f["answer_id"] for f in listed] == [answer_id]
            # a delete through B is gone from A
            with _client(url_b, keys.admin) as admin_on_b:
                assert admin_on_b.delete("/v1/documents/public/wombat.md").status_code in (200, 204)
            found = _doc_ids(admin_on_a.post("/v1/search", json={"query": "wombat parking"}))
            assert "public/wombat.md" not in found
        # a key revoked in the shared store is refused by both replicas at once
        revoke_key(first.store, "alice")
        for url in (url_a, url_b):
            with _client(url, keys.a) as c:
                assert c.get("/v1/me").status_code == 401
    first.close()
    second.close()
