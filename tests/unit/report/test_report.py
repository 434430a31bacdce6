"""The report: self-contained HTML (no network references), Markdown, JSON, charts, and a
drill-down read from a real run store (fake generator, hash embedder)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers.pilot_results import make_results, make_style, run_fake_compare

from ragtune.advisor.framework import Recommendation, advise
from ragtune.advisor.profile import Profile
from ragtune.evaluation.results import Results
from ragtune.evaluation.sections import Agreement, CrossFitSummary
from ragtune.evaluation.stats import Interval
from ragtune.report import plots
from ragtune.report.drilldown import collect
from ragtune.report.html import write_report

NETWORK = re.compile(r"""(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?https?:""")


def _rec(results: Results, style: dict | None = None) -> Recommendation:
    return advise(results, Profile.model_validate({"need": "both"}), style)


def test_html_is_self_contained_with_charts(tmp_path: Path) -> None:
    results, style = make_results(), make_style()
    paths = write_report(results, _rec(results, style), tmp_path, style=style)
    html = paths["html"].read_text()
    assert not NETWORK.search(html), NETWORK.search(html)
    assert "<link" not in html and "<script src" not in html
    assert "built-in method" not in html and "object at 0x" not in html
    assert html.count("<svg") >= 5  # metric groups, latency, cost, freshness, forgetting, style
    assert "hybrid: RAG + style adapter" in html and "3,300" in html  # break-even
    md = paths["md"].read_text()
    assert md.startswith("# ragtune pilot report") and "| metric |" in md
    data = json.loads(paths["json"].read_text())
    assert data["recommendation"]["choice"] == "hybrid: RAG + style adapter"


def test_pathology_flags_in_html_and_markdown(tmp_path: Path) -> None:
    results = make_results(pathologies={"rag": {"echo": 0.3, "label": 0.2}})
    paths = write_report(results, _rec(results), tmp_path)
    html = paths["html"].read_text()
    flags = html[html.index('id="pathology-flags"') :][:600]
    assert "⚠ <b>rag</b>: echo 30 %, label 20 %" in flags and "q000, q001" in flags
    assert "extract" not in flags  # nothing flagged there
    assert "a pathology" in html and "⚠ rag: echo 30 %" in html  # filter; advisor's reason
    md = paths["md"].read_text()
    assert "### pathologies" in md and "- ⚠ **rag**: echo 30 %, label 20 %" in md
    quiet = make_results()
    html = write_report(quiet, _rec(quiet), tmp_path / "q")["html"].read_text()
    assert "no strategy above 10 % of its answers" in html


def test_charts_are_empty_when_nothing_was_measured() -> None:
    results = make_results()
    results.freshness, results.cost, results.forgetting = None, None, {}
    assert plots.freshness_chart(results) == ""
    assert plots.cost_chart(results) == ""
    assert plots.forgetting_chart(results) == ""
    assert plots.cost_chart(Results.from_dict({})) == ""
    assert plots.style_chart(None) == ""
    assert plots.metric_chart(make_results(), "answers").startswith("<svg")


@pytest.fixture
def fake_run(tmp_path: Path) -> Iterator[Results]:
    project, results = run_fake_compare(tmp_path)
    yield results
    project.close()


def test_drilldown_reads_answers_passages_and_gold(fake_run: Results, tmp_path: Path) -> None:
    rows = collect(fake_run)
    assert len(rows) == 6
    assert all(isinstance(a["pathologies"], list) for r in rows for a in r["answers"].values())
    row = next(r for r in rows if not r["unanswerable"])
    assert row["gold"] and set(row["answers"]) == {"base", "rag"}
    assert row["answers"]["rag"]["passages"] and not row["answers"]["base"]["passages"]
    assert row["answers"]["rag"]["f1"] is not None
    html = write_report(fake_run, _rec(fake_run), tmp_path)["html"].read_text()
    assert row["question"].split()[0] in html and 'class="q"' in html


def test_drilldown_shows_the_model_answer_a_fallback_replaced(
    fake_run: Results, tmp_path: Path
) -> None:
    import json
    import sqlite3

    db = Path(fake_run.run.folder) / "records.sqlite"
    with sqlite3.connect(db) as con:
        item_id, data = con.execute(
            "SELECT item_id, data FROM answers WHERE strategy = 'rag' AND phase = 'main'"
        ).fetchone()
        record = json.loads(data)
        record["answer"].update(replaced="Python has no GIL.", finish_reason="ungrounded")
        con.execute(
            "UPDATE answers SET data = ? WHERE strategy = 'rag' AND item_id = ? AND phase = 'main'",
            (json.dumps(record), item_id),
        )
    answers = [r["answers"]["rag"] for r in collect(fake_run) if "rag" in r["answers"]]
    assert [a["finish_reason"] for a in answers if a["replaced"]] == ["ungrounded"]
    html = write_report(fake_run, _rec(fake_run), tmp_path)["html"].read_text()
    assert "the model said “Python has no GIL.”, replaced by the evidence span (ungrounded)" in html


def test_judge_self_test_section_in_html_and_markdown(tmp_path: Path) -> None:
    results = make_results(caught={"negated": 0.5})
    paths = write_report(results, _rec(results), tmp_path)
    html = paths["html"].read_text()
    section = html[html.index('id="judge-selftest"') :][:4000]
    wanted = [
        "Judge self-test",
        "off-topic sentence",
        "negated sentence",
        "changed number",
        "question as answer",
        "goal ≥ 90 %",
        "unparsable judgements: 0 in the run",
    ]
    for text in wanted:
        assert text in section, text
    assert "0.50 [" in section and "⚠ below 90 %: negated sentence 50 %" in section
    assert "⚠ judge self-test below 90 %" in html  # the advisor's reason
    md = paths["md"].read_text()
    assert "## Judge self-test" in md and "| negated sentence |" in md
    assert "- ⚠ below 90 %: negated sentence 50 %" in md
    old = make_results()
    old.judge.selftest = old.judge.agreement = None  # results from before the test
    html = write_report(old, _rec(old), tmp_path / "old")["html"].read_text()
    assert 'id="judge-selftest"' not in html
    twice = make_results()
    twice.judge.selftest = None  # an LLM judge asked twice, the self-test off
    twice.judge.agreement = Agreement(10, 40, {"all": Interval(0.7, 0.55, 0.82, 40)}, {"second": 3})
    md = write_report(twice, _rec(twice), tmp_path / "twice")["md"].read_text()
    assert "0 in the self-test, 3 when judged again" in md
    assert "run-to-run agreement (10 answers judged twice): 70 % [55 %, 82 %] of 40" in md


def test_crossfitted_abstention_is_explained(tmp_path: Path) -> None:
    from dataclasses import asdict

    from ragtune.retrieval.answerability import calibrate

    deploy = calibrate([0.7, 0.8, 0.9] * 4, [0.1, 0.2, 0.3] * 2, 0.1, source="the run's questions")
    results = make_results()
    folds = [0.31, 0.42]
    results.calibration = CrossFitSummary("cross-fitted over 2 folds", folds, asdict(deploy))
    paths = write_report(results, _rec(results), tmp_path)
    html = paths["html"].read_text()
    said = html[html.index('id="abstention-calibration"') :][:700]
    assert "thresholds 0.310 and 0.420" in said and "ragtune calibrate --eval FILE" in said
    assert "abstains on 100% of 6 unanswerable and 0% of 12 answerable" in said
    assert "thresholds 0.310 and 0.420" in paths["md"].read_text()
    results.calibration = None
    html = write_report(results, _rec(results), tmp_path / "plain")["html"].read_text()
    assert 'id="abstention-calibration"' not in html
