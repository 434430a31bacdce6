"""SIGKILL in the middle of an upload leaves no orphan file once the service starts again."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from tests.helpers.service import echo_settings, serve_app
from tests.service.conftest import make_keys

from ragtune.project import Project
from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig

# Runs in a child process: upload once normally, then die by SIGKILL inside the ingest of
# the next upload (after its file is written, before the store commits).
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    from ragtune.project import Project
    from ragtune.service import documents
    from tests.helpers.service import echo_settings

    project = Project(sys.argv[1], echo_settings())
    doc_id, text, first = sys.argv[2], sys.argv[3], sys.argv[4] == "first"
    if first:
        documents.ingest_upload(project, doc_id, b"# Kept\\n\\nversion one\\n", {}, None)
    project.ingest = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
    documents.ingest_upload(project, doc_id, text.encode(), {}, None)
    """
)


def _kill_mid_upload(root: Path, doc_id: str, text: str, first: bool) -> None:
    args = [sys.executable, "-c", CHILD, str(root), doc_id, text, "first" if first else "-"]
    done = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert done.returncode == -9, done.stderr  # really killed, not a clean error


def test_a_killed_upload_is_settled_when_the_service_starts(tmp_path: Path) -> None:
    root = tmp_path / "p"
    Project.init(root, echo_settings()).close()
    uploads = root / ".ragtune" / "uploads"
    _kill_mid_upload(root, "crash/new.md", "# New\n\nnever committed\n", first=False)
    _kill_mid_upload(root, "crash/kept.md", "# Kept\n\nversion two\n", first=True)
    assert (uploads / "crash/new.md").exists()  # the orphan the crash left
    assert "version two" in (uploads / "crash/kept.md").read_text()
    (uploads / "crash").mkdir(exist_ok=True)
    (uploads / "crash/stray.md").write_text("a file with no document and no record\n")

    project = Project(root, echo_settings())
    keys = make_keys(project)
    with serve_app(create_app(project, ServiceConfig())) as url:
        assert not (uploads / "crash/new.md").exists()
        assert "version one" in (uploads / "crash/kept.md").read_text()
        assert not list((uploads / ".pending").iterdir())
        import httpx

        headers = {"Authorization": f"Bearer {keys.admin}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as c:
            doc = c.get("/v1/documents/crash/kept.md").json()
            assert "version one" in doc["text"]
            assert c.get("/v1/documents/crash/new.md").status_code == 404
            assert c.delete("/v1/documents/crash/stray.md").status_code == 200
            assert not (uploads / "crash/stray.md").exists()
            assert c.delete("/v1/documents/crash/stray.md").status_code == 404
    project.close()
