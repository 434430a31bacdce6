"""``ragtune compare`` through the CLI with the hash embedder and a deterministic fake
generator; includes the SIGKILL-and-resume trust check."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tests.unit.evaluation.fake_backend as fake
from click.testing import CliRunner
from tests.conftest import EXAMPLES, REPO

from ragtune.cli.main import cli

TOML = f'[embedder]\nname = "hash"\n[generator]\nbackend = "{fake.NAME}"\n'
FOLDERS = ("hr", "legal")


@pytest.fixture
def proj(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "ragtune.toml").write_text(TOML)
    docs = tmp_path / "docs"
    for folder in FOLDERS:
        (docs / folder).mkdir(parents=True)
        for f in (EXAMPLES / "docs" / folder).iterdir():
            (docs / folder / f.name).write_bytes(f.read_bytes())
    evals = [json.loads(line) for line in (EXAMPLES / "eval.jsonl").read_text().splitlines()]
    keep = [
        e for e in evals if not e["unanswerable"] and e["source_docs"][0].split("/")[0] in FOLDERS
    ]
    # 20 unanswerable questions (10 made up): enough for cross-fitted abstention thresholds.
    made_up = [{"question": f"What do you know about {topic}?", "unanswerable": True}
               for topic in ("tungsten", "Europa", "knitting", "cricket", "violins", "Hamlet",
                             "sourdough", "Everest", "bicycle chains", "eels")]  # fmt: skip
    keep = keep[:20] + [e for e in evals if e["unanswerable"]] + made_up
    (tmp_path / "eval.jsonl").write_text("".join(json.dumps(e) + "\n" for e in keep))
    result = CliRunner().invoke(cli, ["-C", str(root), "ingest", str(docs)])
    assert result.exit_code == 0, result.output
    return root


def _compare(proj: Path, *args: str) -> dict:
    eval_file = str(proj.parent / "eval.jsonl")
    result = CliRunner().invoke(
        cli, ["-C", str(proj), "compare", "--eval", eval_file, "-s", "base,rag", "--json",
              "--resamples", "200", "--batch-size", "4", *args],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{") :])


def _quality(r: dict) -> str:
    return json.dumps({k: r[k] for k in ("metrics", "paired", "judge")}, sort_keys=True)


def test_compare_tables_and_json(proj: Path) -> None:
    eval_file = str(proj.parent / "eval.jsonl")
    result = CliRunner().invoke(
        cli, ["-C", str(proj), "compare", "--eval", eval_file, "--resamples", "100"]
    )
    assert result.exit_code == 0, result.output
    for text in ("answers (mean [95 % CI]", "retrieval", "citations", "latency", "break-even",
                 "skipped ft: needs an adapter", "pathologies (mean", "any_pathology",
                 "pathologies above 10 % of answers:", "judge self-test: share of edited",
                 "off-topic", "negated", "unparsable judgements: 0",
                 "Abstention was cross-fitted"):  # fmt: skip
        assert text in result.output, text
    data = _compare(proj, "--run-id", "j")
    assert set(data["metrics"]) == {
        "answers", "retrieval", "ragas", "citations", "robustness", "pathologies"}  # fmt: skip
    assert data["pathologies"]["threshold"] == 0.1
    shares = {k: v["rag"]["mean"] for k, v in data["metrics"]["pathologies"].items()}
    assert set(shares) >= {"echo", "label", "refusal", "empty", "repetition"}
    assert all(0.0 <= v <= 1.0 for v in shares.values())
    assert data["run"]["skipped"] == []
    assert len(data["calibration"]["fold_thresholds"]) == 2
    assert _compare(proj, "--run-id", "plain", "--no-crossfit")["calibration"] is None
    assert set(data["judge"]["selftest"]["caught"]) == {"off_topic", "negated", "number",
                                                        "question"}  # fmt: skip
    assert data["judge"]["selftest"]["sample"] == 30
    off = _compare(proj, "--run-id", "j", "--judge-selftest", "0")  # same run, re-scored
    assert off["judge"]["selftest"] is None and off["metrics"] == data["metrics"]


def test_tables_of_hand_made_results() -> None:
    """The sections a plain compare run does not fill: freshness, forgetting, agreement."""
    import io

    from rich.console import Console
    from tests.helpers.pilot_results import make_results

    from ragtune.cli.compare_tables import print_results
    from ragtune.evaluation.sections import Agreement

    results = make_results(pathologies={"rag": {"echo": 0.3}})
    results.judge.agreement = Agreement.from_dict({
        "answers": 10, "judgements": 40, "unparsable": {"first": 0, "second": 3},
        "agreement": {"all": {"mean": 0.7, "low": 0.55, "high": 0.82, "n": 40}}})  # fmt: skip
    buf = io.StringIO()
    print_results(results, Console(file=buf, width=250, color_system=None))
    text = buf.getvalue()
    for needle in (
        "freshness after update v2 (10 changed-fact questions; re-index 3.2 s)",
        "10.00 → 11.00 (+10.0 %)",
        "0.50 → 0.40",
        "pathologies above 10 % of answers: rag echo 30 %",
        "re-index (measured)",
        "0.446 [0.403, 0.489] ▲",
        "break-even: ft:k pays back its training vs rag after 3,300 queries",
        "unparsable: 0 first time, 3 second time",
        "latency total p95 (s, batch",
    ):
        assert needle in text, needle


def test_bad_eval_file_is_one_line_error(proj: Path) -> None:
    bad = proj.parent / "bad.jsonl"
    bad.write_text('{"question": "x?"}\n')
    result = CliRunner().invoke(cli, ["-C", str(proj), "compare", "--eval", str(bad)])
    assert result.exit_code == 2
    assert "bad.jsonl:1: 'answer' is missing" in result.output
    assert "Traceback" not in result.output
    good = str(proj.parent / "eval.jsonl")
    result = CliRunner().invoke(cli, ["-C", str(proj), "compare", "--eval", good, "-s", "nope"])
    assert result.exit_code == 2 and "unknown strategy 'nope'" in result.output
    result = CliRunner().invoke(cli, ["-C", str(proj), "compare"])
    assert result.exit_code == 1 and "no dataset named 'default'" in result.output


def _rows(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM answers").fetchone()[0])
    except sqlite3.Error:
        return 0


def test_sigkill_midway_resumes_to_the_same_numbers(proj: Path) -> None:
    expected = _compare(proj, "--run-id", "whole")
    total = 2 * expected["run"]["questions"]
    code = f"import {fake.__name__}; from ragtune.cli.main import main; main()"
    args = [sys.executable, "-c", code, "-C", str(proj), "compare", "--eval",
            str(proj.parent / "eval.jsonl"), "-s", "base,rag", "--resamples", "200",
            "--batch-size", "4", "--run-id", "killed", "--json"]  # fmt: skip
    env = {**os.environ, "RAGTUNE_FAKE_DELAY": "0.4", "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(args, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    db = proj / ".ragtune" / "runs" / "compare-killed" / "records.sqlite"
    deadline = time.monotonic() + 120
    while _rows(db) < 8 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = _rows(db)
    assert 0 < done < total, f"killed at {done} of {total}"
    resumed = _compare(proj, "--run-id", "killed")
    assert _rows(db) == total
    assert _quality(resumed) == _quality(expected)
