"""Every way a document enters or changes keeps or explicitly sets its groups.

Through the real HTTP server: an upload with a title used to push the file's own front
matter (its ``groups:`` included) into the body, publishing a restricted document; a
re-upload without ``groups`` used to make a restricted document public.
"""

from __future__ import annotations

import itertools
import re

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.service.conftest import Service

WALRUS = "---\ngroups: [hr]\n---\n# Walrus\n\nThe walrus vault code is 5521.\n"
PLAIN = "# Walrus\n\nThe walrus vault code is 5521.\n"


def _form(service: Service, doc_id: str, text: str, **fields: str) -> httpx.Response:
    with service.client(service.keys.admin) as c:
        files = {"file": (doc_id.rsplit("/", 1)[-1], text.encode(), "text/markdown")}
        return c.post("/v1/documents", files=files, data={"id": doc_id, **fields})


def _json(service: Service, doc_id: str, text: str, **fields: object) -> httpx.Response:
    with service.client(service.keys.admin) as c:
        return c.post("/v1/documents", json={"id": doc_id, "text": text, **fields})


def _sees(service: Service, key: str, doc_id: str, secret: str) -> bool:
    """Whether ``key`` can read ``doc_id`` or find ``secret`` through any search mode."""
    with service.client(key) as c:
        if c.get(f"/v1/documents/{doc_id}").status_code != 404:
            return True
        for mode in ("bm25", "dense", "hybrid"):
            r = c.post("/v1/search", json={"query": f"walrus vault {secret}", "mode": mode})
            assert r.status_code == 200, r.text
            # As a word: a score such as 0.05521 must not count as the secret 5521.
            if re.search(rf"(?<![\w.]){re.escape(secret)}(?!\w)", r.text):
                return True
    return False


def test_upload_with_title_keeps_the_files_groups(service: Service) -> None:
    r = _form(service, "zz/walrus.md", WALRUS, title="Walrus vault")
    assert r.status_code == 201, r.text
    assert r.json()["groups"] == ["hr"] and r.json()["title"] == "Walrus vault"
    assert not _sees(service, service.keys.none, "zz/walrus.md", "5521")
    r = _json(service, "zz/walrus-json.md", WALRUS.replace("5521", "5522"), title="W")
    assert r.status_code == 201 and r.json()["groups"] == ["hr"], r.text
    assert not _sees(service, service.keys.none, "zz/walrus-json.md", "5522")
    with service.client(service.keys.admin) as c:
        text = c.get("/v1/documents/zz/walrus.md").json()["text"]
    assert "groups" not in text and "hr]" not in text  # the front matter is not body text


def test_reupload_without_groups_keeps_them_and_empty_groups_publish(service: Service) -> None:
    assert _form(service, "zz/otter.md", PLAIN, groups="hr").json()["groups"] == ["hr"]
    for send in (
        lambda: _form(service, "zz/otter.md", PLAIN + "\nMore.\n"),
        lambda: _form(service, "zz/otter.md", PLAIN + "\nEven more.\n", title="Otter"),
        lambda: _json(service, "zz/otter.md", PLAIN + "\nJSON.\n"),
    ):
        r = send()
        assert r.status_code == 201 and r.json()["groups"] == ["hr"], r.text
        assert not _sees(service, service.keys.none, "zz/otter.md", "5521")
    r = _json(service, "zz/otter.md", PLAIN, groups=[])  # explicit: public
    assert r.json()["groups"] == []
    assert _sees(service, service.keys.none, "zz/otter.md", "5521")  # positive control
    r = _form(service, "zz/otter.md", PLAIN + "\nx\n", groups="a")
    assert r.json()["groups"] == ["a"]
    r = _form(service, "zz/otter.md", PLAIN + "\ny\n", groups="")  # an empty field: public
    assert r.json()["groups"] == []


def test_a_broken_front_matter_with_a_title_is_refused(service: Service) -> None:
    r = _form(service, "zz/broken.md", "---\ngroups: [hr\n---\nbody\n", title="T")
    assert r.status_code == 422 and "front matter" in r.text
    with service.client(service.keys.admin) as c:
        assert c.get("/v1/documents/zz/broken.md").status_code == 404


_counter = itertools.count()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    file_groups=st.sampled_from([None, [], ["hr"], ["a"], ["hr", "b"]]),
    sent_groups=st.sampled_from([None, [], ["hr"], ["a"]]),
    title=st.sampled_from([None, "A title"]),
    via=st.sampled_from(["form", "json"]),
    replace=st.sampled_from([None, ["hr"], []]),
)
def test_property_uploads_never_leak(
    service: Service,
    file_groups: list[str] | None,
    sent_groups: list[str] | None,
    title: str | None,
    via: str,
    replace: list[str] | None,
) -> None:
    """Random (front matter, groups field, title, form/JSON, replacing a document with
    groups): the stored groups are what the rules say, and a no-group key reads the
    document exactly when it ends up public."""
    n = next(_counter)
    doc_id, secret = f"prop/doc{n}.md", f"kiwi{n}x"
    if replace is not None:  # an earlier version with these groups
        _json(service, doc_id, f"# Old\n\nold {secret}\n", groups=replace).raise_for_status()
    head = "" if file_groups is None else f"---\ngroups: {file_groups}\n---\n"
    text = f"{head}# Doc\n\nThe walrus vault code is {secret}.\n"
    fields: dict[str, object] = {}
    if title:
        fields["title"] = title
    if sent_groups is not None:
        fields["groups"] = sent_groups if via == "json" else ",".join(sent_groups)
    r = (
        _json(service, doc_id, text, **fields)
        if via == "json"
        else _form(service, doc_id, text, **{k: str(v) for k, v in fields.items()})
    )
    assert r.status_code == 201, r.text
    if file_groups is not None:
        expected = sorted(set(file_groups))
    elif sent_groups is not None:
        expected = sorted(set(sent_groups))
    else:
        expected = sorted(replace or [])
    assert r.json()["groups"] == expected
    assert _sees(service, service.keys.none, doc_id, secret) == (not expected)


def test_scores_do_not_depend_on_documents_a_key_cannot_read(service: Service) -> None:
    """A key with no group must not be able to tell from scores whether a word occurs in
    restricted documents: BM25 and evidence statistics are counted over what it may read."""

    def observe(key: str) -> list[object]:
        seen: list[object] = []
        with service.client(key) as c:
            for mode in ("bm25", "hybrid"):
                r = c.post("/v1/search", json={"query": "vacation days spring", "mode": mode})
                assert r.status_code == 200, r.text
                seen.append([(h["chunk"]["id"], round(h["score"], 9)) for h in r.json()["data"]])
            r = c.post("/v1/ask", json={"question": "Vacation days in spring?", "model": "rag"})
            assert r.status_code == 200, r.text
            seen.append(round(r.json()["support"], 9))
        return seen

    before, before_b = observe(service.keys.none), observe(service.keys.b)
    flood = "vacation " * 40 + "days spring"
    r = _json(service, "zz/flood.md", f"# Vacation days\n\n{flood}\n", groups=["hr"])
    assert r.status_code == 201, r.text
    assert observe(service.keys.none) == before
    assert observe(service.keys.b) == before_b
    with service.client(service.keys.admin) as c:  # control: an admin sees the change
        c.delete("/v1/documents/zz/flood.md").raise_for_status()
