"""Run the README's Python blocks against a test server, so documented code cannot drift
from what works."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

README = Path(__file__).resolve().parents[2] / "README.md"
README_URL = "http://127.0.0.1:8000"  # the address the README's blocks use


def readme_block(marker: str) -> str:
    """The README's ```python block that contains ``marker``, dedented."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"^( *)```python\n(.*?)^\1```", text, flags=re.S | re.M)
    found = [textwrap.dedent(body) for _, body in blocks if marker in body]
    assert len(found) == 1, f"expected one README block with {marker!r}, found {len(found)}"
    return found[0]


def run_readme_block(marker: str, url: str, key: str) -> dict[str, Any]:
    """Runs the block containing ``marker`` against ``url`` with ``KEY = key``; returns
    its namespace."""
    code = readme_block(marker).replace(README_URL, url)
    namespace: dict[str, Any] = {"KEY": key, "__name__": "readme_block"}
    exec(compile(code, "README.md", "exec"), namespace)
    return namespace
