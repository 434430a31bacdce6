"""The web UI in real headless Chromium (Debian's, driven by Playwright): ask, watch the
answer stream in, open a citation, give feedback, and check it is stored."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.service import serve_app
from tests.service.conftest import Service, make_keys, make_project

from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig
from ragtune.store.feedback import list_feedback

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture
def ui_service(tmp_path: Path) -> Iterator[Service]:
    # The echo generator with a small per-word delay: the answer visibly streams, cites [1].
    project = make_project(tmp_path / "proj", model="delay=0.01")
    keys = make_keys(project)
    (project.state_dir / "reports").mkdir()
    (project.state_dir / "reports" / "pilot.html").write_text("<h1>Pilot report 42</h1>")
    with serve_app(create_app(project, ServiceConfig())) as url:
        yield Service(url, keys, project)
    project.close()


def test_ask_stream_cite_feedback_in_chromium(ui_service: Service) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is missing: make setup installs it"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page()
        page.goto(ui_service.url + "/")
        page.fill("#key", ui_service.keys.a)
        page.click("#save-key")
        page.wait_for_function("document.querySelector('#whoami').textContent.includes('alice')")
        page.fill("#question", "When are salary bands reviewed?")
        page.click("#ask")
        # Streaming: text is on screen while the answer is still being generated.
        page.wait_for_function(
            "(() => { const a = document.querySelector('#answer');"
            " return a.classList.contains('streaming') && a.textContent.length > 20; })()"
        )
        page.wait_for_selector("#citations button.citation")
        assert page.locator("#answer a.marker").count() >= 1
        page.locator("#answer a.marker").first.click()
        mark = page.locator("#passage mark")
        mark.wait_for()
        assert "salary" in mark.inner_text().lower()
        assert "alpha/salaries.md" in page.inner_text("#passage-title")
        page.click("#up")
        page.fill("#comment", "clear and cited")
        page.click("#send-feedback")
        page.wait_for_function(
            "document.querySelector('#feedback-status').textContent.includes('stored')"
        )
        # A non-admin key cannot open the pilot report; the UI says so.
        page.click("#report-link")
        page.wait_for_function("document.querySelector('#error').textContent.includes('admin')")
        browser.close()
    stored = list_feedback(ui_service.project.store)
    assert [(f.rating, f.comment, f.question) for f in stored] == [
        ("up", "clear and cited", "When are salary bands reviewed?")
    ]
    assert stored[0].citations and stored[0].citations[0]["doc_id"] == "alpha/salaries.md"
