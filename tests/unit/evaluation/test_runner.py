from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import tests.unit.evaluation.fake_backend as fake
from tests.conftest import EXAMPLES

from ragtune.config import Settings
from ragtune.errors import UsageError
from ragtune.evaluation.datasets import load_eval_file
from ragtune.evaluation.results import Results
from ragtune.evaluation.runner import CompareConfig, Runner, StrategySpec, plan_strategies
from ragtune.project import Project
from ragtune.retrieval.answerability import DEFAULT_THRESHOLD

FOLDERS = ("hr", "finance")


def _subset(src: Path, dest: Path) -> Path:
    for folder in FOLDERS:
        for f in (src / folder).iterdir():
            (dest / folder).mkdir(parents=True, exist_ok=True)
            (dest / folder / f.name).write_bytes(f.read_bytes())
    return dest


@pytest.fixture
def eval_project(tmp_path: Path) -> Iterator[Project]:
    settings = Settings.load(None, embedder={"name": "hash"}, generator={"backend": fake.NAME})
    project = Project.init(tmp_path / "proj", settings)
    project.ingest([_subset(EXAMPLES / "docs", tmp_path / "v1")])
    yield project
    project.close()


def _items() -> list:
    items = load_eval_file(EXAMPLES / "eval.jsonl")
    keep = [
        i for i in items if i.unanswerable or any(d.split("/")[0] in FOLDERS for d in i.source_docs)
    ]
    return keep[:24]


def _config(**kw: object) -> CompareConfig:
    specs = [StrategySpec("base"), StrategySpec("rag")]
    return CompareConfig(specs, seed=1, batch_size=4, resamples=200, **kw)  # type: ignore[arg-type]


QUALITY = ("metrics", "paired", "judge", "freshness")


def _quality(results: Results) -> dict:
    data = results.to_dict()
    out = {k: data[k] for k in QUALITY if k != "freshness"}
    if data["freshness"]:
        out["freshness"] = {
            s: {p: v[p] for p in ("main", "fresh")}
            for s, v in data["freshness"]["strategies"].items()
        }
    return json.loads(json.dumps(out))


def test_run_scores_and_resumes_from_store(eval_project: Project, tmp_path: Path) -> None:
    items = _items()
    runner = Runner(eval_project, items, _config())
    results = runner.run()
    m = results.metrics
    assert m["retrieval"]["recall@k"]["base"].n == 0  # base does not retrieve
    assert results.metric("retrieval", "recall@k", "base") is None
    assert m["retrieval"]["recall@k"]["rag"].mean > 0.5
    assert m["citations"]["citation_precision"]["rag"].n > 0
    assert m["answers"]["f1"]["rag"].n == sum(not i.unanswerable for i in items)
    assert m["answers"]["abstain_unanswerable"]["rag"].n == sum(i.unanswerable for i in items)
    assert {p.a + p.b for p in results.paired["answers"]["f1"]} == {"baserag"}
    # latency comes from the first 8 questions, answered one request at a time
    assert results.performance["rag"].latency_s["retrieve"].p95.n == 8
    assert "retrieve" not in results.performance["base"].latency_s
    assert results.cost is not None and results.cost.strategies["rag"].per_1k_queries >= 0
    stored = Results.load(runner.folder / "results.json")
    assert stored.run.id == runner.run_id
    assert stored.to_dict() == json.loads(json.dumps(results.to_dict()))  # the file round-trips
    # The judge's self-test ran on the run's own answers, offline: no agreement to measure.
    test = results.judge.selftest
    assert test is not None
    assert test.caught["negated"]["rag"].n > 0 and test.caught["question"]["all"].n
    assert test.caught["negated"]["base"].n == 0  # no passages to contradict
    assert results.judge.agreement is None
    assert results.run.judge_selftest_s is not None and results.run.judge_selftest_s < 30
    runner.close()
    # Same config -> same run folder; nothing is answered again; same numbers.
    again = Runner(eval_project, items, _config())
    assert again.folder == runner.folder
    assert len(again.store.answered("main", "rag")) == len(items)
    assert _quality(again.run()) == _quality(results)
    again.close()


def test_same_seed_in_a_new_run_gives_identical_quality(eval_project: Project) -> None:
    items = _items()[:10]
    a = Runner(eval_project, items, _config(), run_id="one")
    b = Runner(eval_project, items, _config(), run_id="two")
    assert _quality(a.run()) == _quality(b.run())
    a.close()
    b.close()


def test_run_with_other_settings_refuses_the_folder(eval_project: Project) -> None:
    items = _items()[:4]
    Runner(eval_project, items, _config(), run_id="x").close()
    with pytest.raises(UsageError, match="different settings"):
        Runner(eval_project, items, _config(options={"max_new_tokens": 8}), run_id="x")
    Runner(
        eval_project, items, _config(options={"max_new_tokens": 8}), run_id="x", fresh=True
    ).close()


def test_freshness_on_a_copy(eval_project: Project, tmp_path: Path) -> None:
    v2 = _subset(EXAMPLES / "v2", tmp_path / "v2")
    before = {d.id: d.content_hash for d in eval_project.documents()}
    items = [i for i in _items() if i.changes][:6]
    assert items
    runner = Runner(eval_project, items, _config(update=v2))
    fresh = runner.run().freshness
    assert fresh is not None
    assert {d.id: d.content_hash for d in eval_project.documents()} == before  # untouched
    assert fresh.reindex_s and fresh.reindex_s > 0 and fresh.ingest and fresh.ingest["updated"] >= 1
    rag, base = fresh.strategies["rag"], fresh.strategies["base"]
    assert rag.fresh["new"].mean > rag.main["new"].mean
    assert rag.main["stale"].mean > rag.fresh["stale"].mean
    assert base.fresh == base.main  # no retrieval: answers reused, cannot change
    assert rag.time_to_fresh.how == "re-index (measured)"
    assert base.time_to_fresh.seconds is None
    runner.close()


def test_plan_strategies_skips_adapter_ones_without_adapters(eval_project: Project) -> None:
    specs, skipped = plan_strategies(eval_project, None, [])
    labels = [s.label for s in specs]
    assert "base" in labels and "rag" in labels and "ft" not in labels
    assert any(s.startswith("ft: needs an adapter") for s in skipped)
    with pytest.raises(UsageError, match="unknown strategy 'nope'"):
        plan_strategies(eval_project, ["nope"], [])
    specs, _ = plan_strategies(eval_project, ["rag", "ft"], ["ft=my-lora", "x"])
    assert [s.label for s in specs] == ["rag", "ft:my-lora"]


def test_llm_judge_failures_are_counted_and_cached(eval_project: Project) -> None:
    items = _items()[:6]
    # The fake backend answers with a passage sentence, never "1: yes": every judgement fails.
    runner = Runner(eval_project, items, _config(judge=fake.NAME))
    results = runner.run()
    failures = results.judge.failures["rag"]
    assert failures["faithfulness"] > 0 and failures["context_recall"] > 0
    assert results.metrics["ragas"]["faithfulness"]["rag"].n == 0
    cached = runner.store.judgements(fake.NAME, "main", "rag")
    assert set(cached) == {i.id for i in items}
    # Judged twice: every unparsable reply is counted, and never agrees.
    agree = results.judge.agreement
    assert agree is not None
    assert agree.answers == 10 and agree.unparsable["second"] > 0  # of 12, pooled
    assert 0 < agree.unparsable["first"] <= sum(
        sum(f.values()) for f in results.judge.failures.values())  # fmt: skip
    assert agree.agreement["all"].mean < 1.0
    assert runner.store.judgements(fake.NAME, "repeat", "rag") or runner.store.judgements(
        fake.NAME, "repeat", "base"
    )
    runner.close()


def test_latency_is_measured_on_questions_answered_alone(
    eval_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []
    original = fake.EchoGenerator.generate

    def recording(self, prompts, options):  # type: ignore[no-untyped-def]
        sizes.append(len(prompts))
        return original(self, prompts, options)

    monkeypatch.setattr(fake.EchoGenerator, "generate", recording)
    eval_project.settings.abstention.enabled = False  # every question reaches the model
    items = [i for i in _items() if not i.unanswerable][:11]
    specs = [StrategySpec("rag")]
    runner = Runner(eval_project, items, CompareConfig(specs, batch_size=4, latency_sample=3))
    results = runner.run()
    assert sizes == [1, 1, 1, 4, 4]  # three alone, then the other eight in batches
    stored = runner.store.answers("main", "rag")
    assert [stored[i.id]["alone"] for i in items] == [True] * 3 + [False] * 8
    assert results.performance["rag"].latency_s["total"].p50.n == 3
    assert results.metrics["answers"]["f1"]["rag"].n == 11  # quality counts every answer
    runner.close()
    sizes.clear()
    every = Runner(eval_project, items, CompareConfig(specs, batch_size=4, latency_sample=0))
    results = every.run()
    assert sizes == [4, 4, 3]
    assert results.performance["rag"].latency_s["total"].p50.n == 11
    every.close()


# Made-up questions the HR and finance documents cannot answer, beside the sample's own 10:
# cross-fitting needs 10 unanswerable questions a fold.
_OFF_TOPIC = ("the boiling point of tungsten", "the orbit of Europa", "knitting a scarf",
              "the rules of cricket", "tuning a violin", "the plot of Hamlet",
              "baking sourdough", "the height of Everest", "repairing a bicycle chain",
              "the migration of eels")  # fmt: skip


def _crossfit_items() -> list:
    from ragtune.evaluation.datasets import EvalItem

    every = load_eval_file(EXAMPLES / "eval.jsonl")
    made_up = [EvalItem(f"off-{n}", f"What do you know about {topic}?", unanswerable=True)
               for n, topic in enumerate(_OFF_TOPIC)]  # fmt: skip
    return _items()[:20] + [i for i in every if i.unanswerable] + made_up


def test_crossfit_thresholds_are_chosen_once_and_answered_with(
    eval_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ragtune.retrieval.answerability as answerability

    items = _crossfit_items()
    specs = [StrategySpec("extract")]
    runner = Runner(eval_project, items, CompareConfig(specs, seed=1, resamples=200))
    results = runner.run()
    calibration = results.calibration
    assert calibration is not None and len(calibration.fold_thresholds) == 2
    assert calibration.deploy["n_unanswerable"] == 20
    thresholds = runner.thresholds
    assert set(thresholds) == {i.question for i in items}
    assert set(thresholds.values()) <= set(calibration.fold_thresholds)
    # Some answers fall between a fold threshold and the project's: the check below tells
    # the two apart.
    supports = [a["answer"]["support"] for a in runner.store.answers("main", "extract").values()]
    assert any(min(thresholds.values()) <= s < DEFAULT_THRESHOLD for s in supports)
    for item in items:
        answer = runner.store.answers("main", "extract")[item.id]["answer"]
        below = answer["support"] < thresholds[item.question]
        assert below == (answer["finish_reason"] == "abstained"), (item.question, answer)
    runner.close()

    # A resumed run answers with the stored thresholds: nothing is scored again.
    def fail(*_a: object, **_k: object) -> None:
        raise AssertionError("the thresholds were chosen again")

    monkeypatch.setattr(answerability, "crossfit_project", fail)
    again = Runner(eval_project, items, CompareConfig(specs, seed=1, resamples=200))
    assert again.thresholds == thresholds
    again.close()

    plain = Runner(eval_project, items, CompareConfig(specs, seed=1, resamples=200, crossfit=False))
    assert plain.run_id != runner.run_id
    assert plain.run().calibration is None and plain.thresholds == {}
    plain.close()


def test_crossfit_is_skipped_when_the_threshold_is_set(eval_project: Project) -> None:
    eval_project.settings.abstention.threshold = 0.3
    items = _crossfit_items()
    runner = Runner(eval_project, items, CompareConfig([StrategySpec("extract")], resamples=200))
    assert runner.thresholds == {} and runner.run().calibration is None
    runner.close()


def test_too_few_unanswerable_questions_keep_the_project_threshold(eval_project: Project) -> None:
    items = _crossfit_items()[:-1]  # 19 unanswerable: 9 in one fold
    runner = Runner(eval_project, items, CompareConfig([StrategySpec("extract")], resamples=200))
    assert runner.run().calibration is None and runner.thresholds == {}
    runner.close()
