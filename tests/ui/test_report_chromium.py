"""The pilot report in real headless Chromium (Debian's, driven by Playwright), opened from
disk with the network blocked: it renders, its charts are drawn, the first screen is not
blank, and the drill-down filter works."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from tests.helpers.pilot_results import make_style, run_fake_compare

from ragtune.advisor.framework import advise
from ragtune.advisor.profile import Profile
from ragtune.report.html import write_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def _distinct_colours(png: bytes) -> int:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB").resize((160, 100))
    return len(set(image.getdata()))


def test_report_renders_offline_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian chromium is missing: make setup installs it"
    project, results = run_fake_compare(tmp_path)
    try:
        style = make_style()
        rec = advise(results, Profile.model_validate({"need": "both"}), style)
        html = write_report(results, rec, tmp_path / "reports", style=style)["html"]
    finally:
        project.close()
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.goto(html.as_uri())
        assert page.locator("#choice").inner_text() == rec.choice
        assert page.locator("figure svg").count() >= 4
        shot = page.screenshot()
        assert _distinct_colours(shot) > 20, "the first screen looks blank"
        total = page.locator("details.q").count()
        assert total == 6
        page.select_option("#q-kind", "unanswerable")
        shown = page.locator("details.q:visible").count()
        assert 0 < shown < total
        assert page.locator("#q-count").inner_text() == f"{shown} shown"
        page.select_option("#q-kind", "all")
        page.fill("#q-filter", "zzzz-no-such-text")
        assert page.locator("details.q:visible").count() == 0
        browser.close()
    assert all(u.startswith("file://") for u in requests), requests
