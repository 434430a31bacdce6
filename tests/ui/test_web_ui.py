"""The web UI in real headless Chromium (Debian's, driven by Playwright): ask, watch the
answer stream in, open a citation, give feedback, and check it is stored; switching keys,
a refused key and signing out leave nothing of the previous user on screen.

``UI_SCREENSHOTS=docs/screenshots pytest tests/ui/test_web_ui.py`` also saves the
screenshots of the README (after a key switch, after a refused key) into that folder.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from tests.helpers.service import serve_app
from tests.service.conftest import Service, make_keys, make_project

from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig
from ragtune.store.feedback import list_feedback

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is missing: make setup installs it"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh browser profile per test: its own localStorage."""
    context = browser.new_context(viewport={"width": 1100, "height": 640})
    yield context.new_page()
    context.close()


def sign_in(page: Page, key: str, name: str) -> None:
    page.fill("#key", key)
    page.click("#save-key")
    page.wait_for_function(f"document.querySelector('#whoami').textContent.includes('{name}')")


def ask_and_open_passage(page: Page, question: str) -> None:
    """Asks, waits for the cited answer, opens the first cited passage."""
    page.fill("#question", question)
    page.click("#ask")
    page.wait_for_selector("#citations button.citation")
    page.locator("#answer a.marker").first.click()
    page.locator("#passage mark").wait_for()


def stored_key(page: Page) -> str | None:
    key: str | None = page.evaluate("localStorage.getItem('ragtune-key')")
    return key


def screen_text(page: Page) -> str:
    """Everything a user's session can put on screen (the passage viewer included)."""
    ids = ["answer", "citations", "passage", "passage-title", "feedback-status", "upload-status"]
    return " ".join(page.inner_text(f"#{i}") for i in ids) + page.input_value("#question")


def screenshot(page: Page, name: str) -> None:
    # Not a RAGTUNE_* variable: the autouse fixture clears those for every test.
    folder = os.environ.get("UI_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / name))


def test_ask_stream_cite_feedback_in_chromium(ui_service: Service, page: Page) -> None:
    page.goto(ui_service.url + "/")
    sign_in(page, ui_service.keys.a, "alice")
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
    stored = list_feedback(ui_service.project.store)
    assert [(f.rating, f.comment, f.question) for f in stored] == [
        ("up", "clear and cited", "When are salary bands reviewed?")
    ]
    assert stored[0].citations and stored[0].citations[0]["doc_id"] == "alpha/salaries.md"


def test_model_box_hints_at_a_key_until_one_is_accepted(ui_service: Service, page: Page) -> None:
    page.goto(ui_service.url + "/")
    model = page.locator("#model")
    assert model.is_disabled() and page.locator("#ask").is_disabled()
    assert "enter an API key to see the models" in model.inner_text()
    sign_in(page, ui_service.keys.a, "alice")
    assert model.is_enabled() and page.locator("#ask").is_enabled()
    assert "rag" in page.eval_on_selector_all("#model option", "os => os.map(o => o.value)")
    # A saved key the server now refuses (revoked, say) is forgotten on the next visit.
    page.evaluate("localStorage.setItem('ragtune-key', 'rt_revoked')")
    page.reload()
    page.wait_for_function("document.querySelector('#error').textContent.includes('refused')")
    assert stored_key(page) is None
    assert model.is_disabled() and "enter an API key" in model.inner_text()


def test_key_switch_clears_the_previous_users_screen(ui_service: Service, page: Page) -> None:
    keys = ui_service.keys
    page.goto(ui_service.url + "/")
    sign_in(page, keys.a, "alice")
    ask_and_open_passage(page, "When are salary bands reviewed?")
    assert "salary" in screen_text(page).lower()
    sign_in(page, keys.b, "bob")
    assert stored_key(page) == keys.b
    assert screen_text(page).strip() == ""
    assert page.locator("#viewer").is_hidden() and page.locator("#feedback").is_hidden()
    screenshot(page, "ui-key-switch.png")
    # A switch while an answer still streams: the old stream stops writing to the screen.
    page.fill("#question", "What is the zanzibar merger?")
    page.click("#ask")
    page.wait_for_function("document.querySelector('#answer').textContent.length > 20")
    sign_in(page, keys.a, "alice")
    page.wait_for_timeout(600)  # the echo stream runs ~3 s more: its tokens would show
    assert screen_text(page).strip() == ""
    assert page.locator("#ask").is_enabled()


def test_refused_key_is_not_stored_and_clears_the_screen(ui_service: Service, page: Page) -> None:
    keys = ui_service.keys
    page.goto(ui_service.url + "/")
    page.fill("#key", "rt_typo")  # no key saved yet: refused, nothing saved, still no models
    page.click("#save-key")
    page.wait_for_function("document.querySelector('#error').textContent.includes('refused')")
    assert stored_key(page) is None and "not signed in" in page.inner_text("#whoami")
    assert page.locator("#model").is_disabled() and page.locator("#ask").is_disabled()
    sign_in(page, keys.a, "alice")
    ask_and_open_passage(page, "When are salary bands reviewed?")
    page.fill("#key", "rt_this-key-does-not-exist")
    page.click("#save-key")
    page.wait_for_function("document.querySelector('#error').textContent.includes('invalid')")
    assert stored_key(page) == keys.a  # the refused key did not replace the valid one
    error = page.inner_text("#error")
    assert "key refused: invalid or revoked API key" in error and "alice" in error
    assert "alice" in page.inner_text("#whoami")
    assert screen_text(page).strip() == "" and page.locator("#viewer").is_hidden()
    assert page.input_value("#key") == ""  # the typed key does not linger in the field
    screenshot(page, "ui-invalid-key.png")
    page.reload()
    page.wait_for_function("document.querySelector('#whoami').textContent.includes('alice')")


def test_sign_out_forgets_the_key_and_clears_the_screen(ui_service: Service, page: Page) -> None:
    page.goto(ui_service.url + "/")
    assert page.locator("#sign-out").is_hidden()
    sign_in(page, ui_service.keys.a, "alice")
    ask_and_open_passage(page, "When are salary bands reviewed?")
    page.click("#sign-out")
    assert stored_key(page) is None
    assert "signed out" in page.inner_text("#whoami")
    assert screen_text(page).strip() == "" and page.locator("#viewer").is_hidden()
    assert page.locator("#model").is_disabled() and page.locator("#sign-out").is_hidden()
    page.reload()
    assert "not signed in" in page.inner_text("#whoami") and stored_key(page) is None


def test_upload_with_an_empty_groups_box_keeps_a_documents_groups(
    ui_service: Service, page: Page, tmp_path: Path
) -> None:
    """Replacing a restricted document from the UI without typing groups must not publish
    it (the box used to be sent empty, which the service reads as 'public')."""
    page.goto(ui_service.url)
    sign_in(page, ui_service.keys.admin, "root")
    doc = tmp_path / "salaries.md"
    doc.write_text("# Salary bands\n\nAlpha salary bands are reviewed in April.\n")
    page.set_input_files("#upload-file", str(doc))
    page.fill("#upload-id", "alpha/salaries.md")
    page.click("#upload button")
    page.wait_for_function(
        "document.querySelector('#upload-status').textContent.includes('chunks')"
    )
    assert "groups: a" in page.inner_text("#upload-status")
    assert ui_service.project.store.get_groups("alpha/salaries.md") == ("a",)
