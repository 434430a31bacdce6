"""`ragtune calibrate` and `ask --strategy extract` through the CLI (hash embedder)."""

import json
from pathlib import Path

from tests.cli.test_cli import project_dir, run  # noqa: F401  (fixture)
from tests.conftest import write


def test_calibrate_then_extract_and_abstain(project_dir: Path) -> None:  # noqa: F811
    assert run(project_dir, "ingest", str(project_dir / "docs"))[0] == 0
    lines = [
        {"question": "How often are laptops replaced?", "answer": "every 3 years"},
        {"question": "Laptops replaced how many years?", "answer": "every 3 years"},
        {"question": "What is the gym membership refund?", "unanswerable": True},
    ]
    write(project_dir / "eval.jsonl", "\n".join(json.dumps(x) for x in lines) + "\n")
    code, out = run(project_dir, "calibrate", "--eval", str(project_dir / "eval.jsonl"), "--json")
    assert code == 0, out
    cal = json.loads(out)
    assert cal["n_unanswerable"] == 1 and cal["abstention_rate"] == 1.0
    assert (project_dir / ".ragtune" / "abstention.json").exists()
    code, out = run(project_dir, "ask", "How often are laptops replaced?", "--strategy", "extract")
    assert code == 0 and "Laptops are replaced every 3 years. [1]" in out, out
    assert "it.txt" in out and "extractive, no model" in out
    code, out = run(project_dir, "ask", "gym membership refund?", "--strategy", "extract")
    assert code == 0 and "I cannot answer from the documents." in out and "abstained" in out


def test_calibrate_errors_are_one_line(project_dir: Path) -> None:  # noqa: F811
    code, out = run(project_dir, "calibrate", "--eval", str(project_dir / "missing.jsonl"))
    assert code != 0 and "cannot read evaluation set" in out and "Traceback" not in out
    write(project_dir / "bad.jsonl", '{"question": "q"}\nnot json\n')
    code, out = run(project_dir, "calibrate", "--eval", str(project_dir / "bad.jsonl"))
    assert code != 0 and "bad.jsonl:2" in out, out
    code, out = run(project_dir, "calibrate")  # no dataset built yet
    assert code != 0 and "data build" in out, out
