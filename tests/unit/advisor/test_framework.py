"""The decision framework on hand-made compare results: which strategy, why, how sure."""

from __future__ import annotations

from dataclasses import asdict

from tests.helpers.pilot_results import make_results, make_style

from ragtune.advisor.framework import advise
from ragtune.advisor.profile import Profile
from ragtune.evaluation.results import Results
from ragtune.evaluation.sections import Agreement, CrossFitSummary
from ragtune.retrieval.answerability import Calibration


def _profile(**kw: object) -> Profile:
    return Profile.model_validate(kw)


def test_knowledge_with_citations_picks_rag_and_quotes_numbers() -> None:
    rec = advise(make_results(), _profile(need="knowledge", citations_required=True))
    assert rec.choice == "RAG"
    assert rec.strategy in ("rag", "extract")
    assert any("token F1" in r and "[" in r for r in rec.reasons)  # numbers with CIs
    assert len(rec.facts) == 3
    assert rec.confidence in ("high", "medium", "low")


def test_simpler_strategy_wins_without_a_significant_difference() -> None:
    # rag 0.45 vs extract 0.44: indistinguishable, extract is simpler (no generator).
    results = make_results({"base": 0.1, "rag": 0.45, "extract": 0.44})
    rec = advise(results, _profile())
    assert rec.strategy == "extract"
    assert any("not significantly better" in r for r in rec.reasons)


def test_style_need_with_a_helpful_adapter_gives_the_hybrid() -> None:
    rec = advise(make_results(), _profile(need="both"), style=make_style(0.75, 0.0))
    assert rec.choice == "hybrid: RAG + style adapter"
    assert rec.style_adapter == "pilot-style"
    assert any("house style" in r for r in rec.reasons)


def test_style_adapter_that_does_not_help_is_a_contradiction() -> None:
    rec = advise(make_results(), _profile(need="both"), style=make_style(0.1, 0.1))
    assert rec.style_adapter is None
    assert any("not significant" in c for c in rec.contradictions)


def test_latency_contradiction_when_ft_is_not_faster() -> None:
    p95 = {"base": 0.4, "rag": 0.8, "extract": 0.1, "ft:k": 1.5}
    rec = advise(make_results(p95=p95), _profile())
    assert any("fine-tuning was expected to help latency" in c and "1.50" in c
               for c in rec.contradictions)  # fmt: skip


def test_latency_budget_drops_slow_strategies() -> None:
    p95 = {"base": 0.4, "rag": 9.0, "extract": 0.1, "ft:k": 0.4}
    rec = advise(make_results(p95=p95), _profile(latency_budget_ms=2000))
    assert rec.strategy == "extract"
    assert any("latency over 2 s" in r for r in rec.reasons)


def test_static_knowledge_without_citations_can_choose_fine_tuning() -> None:
    f1 = {"base": 0.1, "rag": 0.2, "ft:k": 0.6}
    rec = advise(make_results(f1), _profile(knowledge_change="static", citations_required=False))
    assert rec.choice == "fine-tuning" and rec.strategy == "ft:k"


def test_freshness_contradiction_when_retrieval_does_not_follow_the_update() -> None:
    fresh = {"base": 0.0, "rag": 0.0, "extract": 0.0, "ft:k": 0.0}
    rec = advise(make_results(fresh_new=fresh), _profile(knowledge_change="daily"))
    assert any("retrieval was expected to pick up the update" in c for c in rec.contradictions)


def test_few_questions_mean_low_confidence_and_next_steps() -> None:
    rec = advise(make_results(n=8), _profile())
    assert rec.confidence == "low"
    assert any("measure more questions" in s for s in rec.next_steps)


def test_style_need_without_style_evidence_says_what_to_measure() -> None:
    rec = advise(make_results(), _profile(need="style"))
    assert any("--style" in s for s in rec.next_steps)
    assert rec.to_dict()["steps"][0]["key"] == "knowledge_change"


def test_extract_with_style_points_the_style_at_the_generative_path() -> None:
    results = make_results({"base": 0.1, "rag": 0.2, "extract": 0.5})
    rec = advise(results, _profile(need="both"), style=make_style(0.75, 0.0))
    assert rec.strategy == "extract" and rec.choice == "hybrid: RAG + style adapter"
    assert "ft+rag=pilot-style" in rec.next_steps[0]


def test_a_strategy_with_pathologies_is_named_and_lowers_confidence() -> None:
    profile = _profile(need="knowledge", citations_required=True)
    clean = advise(make_results(), profile)
    flags = {clean.strategy: {"echo": 0.3}, "base": {"refusal": 0.2, "label": 0.05}}
    rec = advise(make_results(pathologies=flags), profile)
    assert rec.strategy == clean.strategy  # flags do not change the choice ...
    lowered = {"high": "medium", "medium": "low", "low": "low"}
    assert rec.confidence == lowered[clean.confidence]  # ... but how sure it is
    text = " ".join(rec.reasons)
    assert f"⚠ {rec.strategy}: echo 30 %" in text and "confidence lowered" in text
    assert "⚠ base: refusal 20 %" in text and "label" not in text  # 5 %: under the bar
    assert any("flagged answers" in s and "base" in s for s in rec.next_steps)
    assert not any("⚠" in r for r in clean.reasons)


def test_pathologies_of_another_strategy_leave_confidence_alone() -> None:
    profile = _profile(need="knowledge", citations_required=True)
    clean = advise(make_results(), profile)
    rec = advise(make_results(pathologies={"ft:k": {"repetition": 0.5}}), profile)
    assert rec.confidence == clean.confidence
    assert any(r.startswith("⚠ ft:k: repetition 50 %") for r in rec.reasons)


def test_a_weak_judge_lowers_confidence_and_says_so() -> None:
    from tests.helpers.judged import YesJudge, small_run

    from ragtune.evaluation.selftest import direct, run_selftest

    profile = _profile(need="knowledge", citations_required=True)
    clean = advise(make_results(), profile)
    assert not any("judge self-test" in r for r in clean.reasons)
    weak = make_results()
    weak.judge.selftest = run_selftest(small_run(), direct(YesJudge()), resamples=200)
    rec = advise(weak, profile)
    lowered = {"high": "medium", "medium": "low", "low": "low"}
    assert rec.strategy == clean.strategy and rec.confidence == lowered[clean.confidence]
    text = " ".join(rec.reasons)
    assert "⚠ judge self-test below 90 %: off-topic sentence 0 %" in text
    assert "negated sentence 0 % [0 %, 0 %] of 6" in text and "confidence lowered" in text
    assert any("judge.selftest.missed" in s for s in rec.next_steps)


def test_one_weak_kind_or_low_agreement_is_enough() -> None:
    profile = _profile(need="knowledge", citations_required=True)
    clean = advise(make_results(), profile)
    rec = advise(make_results(caught={"number": 0.8}), profile)
    text = " ".join(rec.reasons)
    assert "changed number 80 %" in text and "negated" not in text
    assert rec.confidence != clean.confidence or clean.confidence == "low"
    swinging = make_results()
    swinging.judge.agreement = Agreement.from_dict({
        "answers": 10, "judgements": 40, "unparsable": {"first": 0, "second": 3},
        "agreement": {"all": {"mean": 0.7, "low": 0.55, "high": 0.82, "n": 40}}})  # fmt: skip
    assert any("run-to-run agreement 70 %" in r for r in advise(swinging, profile).reasons)


def test_a_cross_fitted_run_says_which_threshold_to_serve_with() -> None:
    results = make_results()
    assert not any("ragtune calibrate" in s for s in advise(results, _profile()).next_steps)
    deploy = Calibration(0.7443, "crossfit", 47, 25, 0.8, 0.05, 0.1)
    results.calibration = CrossFitSummary("crossfit", [0.74, 0.71], asdict(deploy))
    steps = advise(results, _profile()).next_steps
    assert any("47 + 25 questions (0.744" in s and "ragtune calibrate" in s for s in steps)


def test_results_with_nothing_measured_follow_the_rules_of_thumb() -> None:
    rec = advise(Results.from_dict({}), _profile(need="knowledge"))
    assert rec.choice == "RAG" and rec.strategy == "" and rec.confidence == "low"
    assert any("--update DIR" in s for s in rec.next_steps)
