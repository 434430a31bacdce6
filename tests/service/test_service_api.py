"""The HTTP API end to end on a real loopback server (hash embedder, echo generator)."""

from __future__ import annotations

import json

from tests.service.conftest import Service

PROTECTED = [
    ("GET", "/v1/models"), ("POST", "/v1/search"), ("POST", "/v1/ask"),
    ("POST", "/v1/chat/completions"), ("GET", "/v1/documents"),
    ("GET", "/v1/documents/public/holidays.md"), ("POST", "/v1/documents"),
    ("DELETE", "/v1/documents/x.md"), ("POST", "/v1/feedback"), ("GET", "/v1/feedback"),
    ("GET", "/metrics"), ("GET", "/v1/me"), ("GET", "/v1/report"),
]  # fmt: skip


def test_healthz_needs_no_key_and_everything_else_does(service: Service) -> None:
    with service.client(None) as anon:
        assert anon.get("/healthz").json()["status"] == "ok"
        for method, path in PROTECTED:
            r = anon.request(method, path, json={})
            assert r.status_code == 401, (method, path, r.text)
            assert r.json()["error"]["type"] == "unauthorized"
    bad = "rt_0123456789ab_" + "x" * 43
    for key in ("nonsense", bad, service.keys.admin + "x"):
        with service.client(key) as c:
            assert c.get("/v1/models").status_code == 401


def test_either_key_header_works_and_two_different_keys_are_refused(service: Service) -> None:
    with service.client(None) as anon:
        assert anon.get("/v1/me", headers={"X-API-Key": service.keys.a}).status_code == 200
        both = {"Authorization": f"Bearer {service.keys.a}", "X-API-Key": service.keys.a}
        assert anon.get("/v1/me", headers=both).status_code == 200
        for other in (service.keys.admin, "nonsense"):  # never trust either one of the two
            r = anon.get("/v1/me", headers={**both, "X-API-Key": other})
            assert r.status_code == 401, r.text
            assert "two different API keys" in r.json()["error"]["message"]


def test_search_ask_and_models(service: Service) -> None:
    with service.client(service.keys.a) as c:
        ids = [m["id"] for m in c.get("/v1/models").json()["data"]]
        assert ids[0] == "rag" and {"base", "extract"} <= set(ids)
        assert not [i for i in ids if i.startswith(("ft", "raft"))]  # no adapters trained
        hits = c.post("/v1/search", json={"query": "salary bands", "k": 3}).json()["data"]
        assert hits and hits[0]["chunk"]["doc_id"] == "alpha/salaries.md"
        r = c.post("/v1/ask", json={"question": "When are salary bands reviewed?"})
        assert r.status_code == 200, r.text
        answer = r.json()
        assert "[1]" in answer["text"] and answer["citations"]
        assert answer["citations"][0]["doc_id"] == answer["contexts"][0]["chunk"]["doc_id"]
        assert {"retrieve", "generate", "queue"} <= set(answer["timings"])
        assert answer["id"]
        r = c.post("/v1/ask", json={"question": "salary bands", "model": "extract", "stream": True})
        assert r.status_code == 200 and '"type": "answer"' in r.text  # no model, no tokens


def test_ask_streams_tokens_then_the_answer(service: Service) -> None:
    with (
        service.client(service.keys.a) as c,
        c.stream("POST", "/v1/ask", json={"question": "vacation days", "stream": True}) as r,
    ):
        assert r.status_code == 200
        events = [json.loads(line[6:]) for line in r.iter_lines() if line.startswith("data: ")]
    tokens = [e["text"] for e in events if e["type"] == "token"]
    assert len(tokens) > 3 and events[-1]["type"] == "answer"
    assert "".join(tokens).strip() == events[-1]["answer"]["text"]


def test_unknown_model_filter_and_bad_json_are_clear_errors(service: Service) -> None:
    with service.client(service.keys.a) as c:
        r = c.post("/v1/chat/completions", json={
            "model": "nope", "messages": [{"role": "user", "content": "hi"}]})  # fmt: skip
        assert r.status_code == 404 and "GET /v1/models lists" in r.json()["error"]["hint"]
        r = c.post("/v1/search", json={"query": "x", "filters": ["owner ~ alice"]})
        assert r.status_code == 400 and "malformed filter" in r.json()["error"]["message"]
        r = c.post("/v1/search", content=b"{not json", headers={"content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"]["message"]
        r = c.post("/v1/search", json={"query": "x", "groups": ["b"]})  # cannot widen rights
        assert r.status_code == 422 and "groups" in r.json()["error"]["message"]
        r = c.post("/v1/ask", json={"question": "q" * 2001})
        assert r.status_code == 422 and "over the 2000 limit" in r.json()["error"]["message"]
        r = c.post("/v1/ask", json={"question": "x", "temperature": 9})
        assert r.status_code == 422


def test_documents_upload_is_indexed_before_the_response(service: Service) -> None:
    with service.client(service.keys.admin) as adm, service.client(service.keys.a) as a:
        r = adm.post("/v1/documents", json={
            "id": "alpha/wombat.md", "text": "The wombat parking rule allows two bikes.",
            "groups": ["a"], "metadata": {"dept": "ops"}, "title": "Wombat rules"})  # fmt: skip
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "added" and r.json()["title"] == "Wombat rules"
        hits = a.post("/v1/search", json={"query": "wombat parking"}).json()["data"]
        assert hits[0]["chunk"]["doc_id"] == "alpha/wombat.md"
        r = adm.post("/v1/documents", json={
            "id": "alpha/wombat.md", "text": "The wombat parking rule allows two bikes.",
            "groups": ["a"], "metadata": {"dept": "desk"}, "title": "Wombat rules"})  # fmt: skip
        assert r.status_code == 201, r.text  # new metadata, same text: the vector is kept
        assert r.json()["status"] == "updated" and r.json()["chunks_reused"] == 1
        files = {"file": ("notes.txt", b"Koala notes: the koala room is on floor 3.")}
        r = adm.post("/v1/documents", files=files, data={"id": "public/koala.txt",
                                                        "metadata": '{"dept": "it"}'})  # fmt: skip
        assert r.status_code == 201, r.text
        doc = a.get("/v1/documents/public/koala.txt").json()
        assert "koala room" in doc["text"] and doc["metadata"]["dept"] == "it"
        listed = [d["id"] for d in a.get("/v1/documents").json()["data"]]
        assert "public/koala.txt" in listed and "alpha/wombat.md" in listed
        assert a.delete("/v1/documents/public/koala.txt").status_code == 403
        assert a.post("/v1/documents", json={"id": "x.md", "text": "x"}).status_code == 403
        assert adm.delete("/v1/documents/public/koala.txt").json()["deleted"] is True
        assert a.get("/v1/documents/public/koala.txt").status_code == 404
        assert adm.delete("/v1/documents/public/koala.txt").status_code == 404
        assert not a.post("/v1/search", json={"query": "koala room"}).json()["data"] or all(
            h["chunk"]["doc_id"] != "public/koala.txt"
            for h in a.post("/v1/search", json={"query": "koala room"}).json()["data"]
        )


def test_bad_uploads_are_refused_and_nothing_is_lost(service: Service) -> None:
    with service.client(service.keys.admin) as adm:
        before = adm.get("/v1/documents").json()["data"]
        for bad_id in ("../escape.md", "/etc/passwd", "a/../../x.md", "..", "a\\b.md",
                       ".hidden.md", "a//b.md", "x\x00.md"):  # fmt: skip
            r = adm.post("/v1/documents", json={"id": bad_id, "text": "pwned"})
            assert r.status_code == 400, (bad_id, r.text)
            assert "refused document id" in r.json()["error"]["message"]
            files = {"file": (bad_id, b"pwned")}
            r = adm.post("/v1/documents", files=files)
            assert r.status_code in (400, 422), (bad_id, r.text)
        r = adm.post("/v1/documents", files={"file": ("bin.md", b"\x00\x01binary")})
        assert r.status_code == 422 and "binary" in r.json()["error"]["message"]
        r = adm.post("/v1/documents", files={"file": ("x.exe", b"MZ")})
        assert r.status_code == 422
        for path in ("/v1/documents/..%2F..%2Fetc%2Fpasswd", "/v1/documents/%2e%2e/x"):
            assert adm.get(path).status_code in (400, 404)
        assert adm.get("/v1/documents").json()["data"] == before
        uploads = service.project.state_dir / "uploads"
        assert not list(service.project.root.parent.glob("escape.md"))
        assert not uploads.exists() or all(".." not in str(p) for p in uploads.rglob("*"))


def test_oversized_body_is_413(service: Service) -> None:
    with service.client(service.keys.admin) as adm:
        big = b"x" * (70 * 1024)
        r = adm.post("/v1/documents", files={"file": ("big.txt", big)})
        assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"

        def chunks():  # no Content-Length: counted as it arrives
            for _ in range(70):
                yield b"y" * 1024

        r = adm.post("/v1/search", content=chunks(), headers={"content-type": "application/json"})
        assert r.status_code == 413


def test_feedback_roundtrip_and_metrics(service: Service) -> None:
    with service.client(service.keys.a) as a, service.client(service.keys.admin) as adm:
        answer = a.post("/v1/ask", json={"question": "vacation carry-over"}).json()
        r = a.post("/v1/feedback", json={"answer_id": answer["id"], "rating": "up",
                                         "comment": "right"})  # fmt: skip
        assert r.status_code == 201, r.text
        r = a.post("/v1/feedback", json={"answer_id": answer["id"], "rating": "down"})
        assert r.status_code == 201  # replaces
        mine = a.get("/v1/feedback").json()["data"]
        assert [(f["answer_id"], f["rating"]) for f in mine] == [(answer["id"], "down")]
        assert mine[0]["question"] == "vacation carry-over"
        assert a.post("/v1/feedback", json={"answer_id": "nope", "rating": "up"}).status_code == 404
        r = a.post("/v1/feedback", json={"answer_id": answer["id"], "rating": "meh"})
        assert r.status_code == 422
        assert any(f["answer_id"] == answer["id"] for f in adm.get("/v1/feedback").json()["data"])
        text = a.get("/metrics").text
        assert 'ragtune_http_requests_total{method="POST",route="/v1/ask",status="200"}' in text
        assert "ragtune_feedback_total" in text and "ragtune_answers_in_flight" in text
