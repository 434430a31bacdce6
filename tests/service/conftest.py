"""Fixtures for service tests: a project with public, group-A and group-B documents."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.conftest import write
from tests.helpers.service import echo_settings, serve_app

from ragtune.project import Project
from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig
from ragtune.store.keys import create_key

# Tokens that exist only in group B's document: any of them in a group-A response is a leak
# (unless the probe itself sent it). "wallaby7731" is never sent by any probe.
B_SECRETS = ("wallaby7731", "zanzibar", "quokka", "b-secret-plan", "B_ONLY_FIELD", "Nightjar")

DOCS = {
    "public/holidays.md": "# Holidays\n\nThe office closes for the spring holiday. Vacation "
    "days for new hires are 25 per year.\n",
    "alpha/salaries.md": "---\ngroups: [a]\nowner: alice\n---\n# Salary bands\n\nAlpha salary "
    "bands are reviewed in March. The vacation carry-over limit is 5 days.\n",
    "beta/b-secret-plan.md": "---\ngroups: [b]\nB_ONLY_FIELD: 42\ntitle: Project Nightjar\n---\n"
    "# Nightjar\n\nThe zanzibar merger (code wallaby7731) closes in June. The quokka budget for "
    "vacation days is 90 days. Salary bands for zanzibar staff are secret: wallaby7731.\n",
}


@dataclass
class Keys:
    admin: str
    a: str
    b: str
    none: str


def make_project(root: Path, **generator: str) -> Project:
    project = Project.init(root, echo_settings(**generator))
    for rel, text in DOCS.items():
        write(root / "docs" / rel, text)
    report = project.ingest([root / "docs"])
    assert not report.by_status("failed"), report.to_dict()
    return project


def make_keys(project: Project) -> Keys:
    store = project.store
    return Keys(
        admin=create_key(store, "root", [], admin=True)[0],
        a=create_key(store, "alice", ["a"])[0],
        b=create_key(store, "bob", ["b"])[0],
        none=create_key(store, "nobody", [])[0],
    )


@dataclass
class Service:
    url: str
    keys: Keys
    project: Project

    def client(self, key: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=60)


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    """One server per test module (the echo generator, the hash embedder)."""
    project = make_project(tmp_path_factory.mktemp("svc") / "proj")
    keys = make_keys(project)
    config = ServiceConfig(max_body_bytes=64 * 1024, generation_timeout_s=20)
    with serve_app(create_app(project, config)) as url:
        yield Service(url, keys, project)
    project.close()
