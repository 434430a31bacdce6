"""The decision framework: the practitioner's rules of thumb, each checked against what the
pilot measured, combined into one :class:`Recommendation`.

Steps (the classic ones): (1) how often the knowledge changes, (2) citations, (3) behaviour
or knowledge, (4) labelled examples, (5) latency budget, (6) domain specialisation, plus
(7) budget and query volume. Each step records what the rule says, what was measured (with
its 95 % interval) and, where they disagree, a *contradiction*. The choice itself:

1. eligible strategies: retrieving ones when knowledge changes weekly or faster or citations
   are required; within the latency and cost budgets where those were measured;
2. best on token F1 among them; a simpler strategy replaces it when the paired difference
   is not significant (no complexity without measured benefit);
3. a style adapter is added when style is needed and the style check shows it helps;
4. pathology flags: a strategy whose answers echo the question, copy a label, refuse, are
   empty or repeat themselves more than 10 % of the time is named in the reasons, and when
   it is the chosen one the confidence drops a level;
5. the judge's self-test: when the judge caught fewer than 90 % of some kind of edited
   answer (or an LLM judge agreed with itself less often), the reasons say so and the
   confidence drops a level: faithfulness and relevancy then say less than they seem to.

Example::

    rec = advise(results, Profile(need="both"), style=style_check)
    rec.choice, rec.strategy, rec.confidence    # "hybrid: RAG + style adapter", ...
    rec.facts                                   # the three facts that drove it
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ragtune.advisor.evidence import (
    Evidence,
    adapter_of,
    complexity,
    family,
    fmt,
    recommended_as,
    retrieves,
    strategy_of,
)
from ragtune.advisor.profile import Profile
from ragtune.advisor.steps import STEPS, Step, quality_text
from ragtune.evaluation.pathologies import flag_text, flagged
from ragtune.evaluation.results import Results
from ragtune.evaluation.sections import StyleCheck
from ragtune.evaluation.selftest import CATCH_MIN, weak_spots
from ragtune.strategy_table import generative

MIN_N = 20  # below this many questions every conclusion is low-confidence


@dataclass
class Recommendation:
    choice: str  # prompting only | RAG | fine-tuning | hybrid: ...
    strategy: str  # the measured strategy label behind it, e.g. "rag"
    style_adapter: str | None
    confidence: str  # high | medium | low
    reasons: list[str]
    facts: list[str]
    contradictions: list[str]
    next_steps: list[str]
    steps: list[Step] = field(default_factory=list)
    profile: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _eligible(ev: Evidence, p: Profile, notes: list[str]) -> list[str]:
    labels = [s for s in ev.labels if ev.quality(s) is not None]
    style = ev.style.adapter if ev.style else None
    labels = [s for s in labels if not style or adapter_of(s) != style]  # style is added later
    if p.needs_fresh_knowledge or p.citations_required:
        kept = [s for s in labels if retrieves(s)]
        why = "citations are required" if p.citations_required else "knowledge changes often"
        if kept and len(kept) < len(labels):
            notes.append(f"only retrieving strategies considered: {why}")
            labels = kept
    budget = p.latency_budget_ms / 1000
    fast = [s for s in labels if _p95_mean(ev, s) <= budget]
    if fast and len(fast) < len(labels):
        notes.append(
            f"dropped for p95 latency over {budget:g} s: "
            + ", ".join(s for s in labels if s not in fast)
        )
        labels = fast
    if p.monthly_budget_usd is not None:
        cheap = [
            s
            for s in labels
            if (ev.monthly_cost(s, p.queries_per_month) or 0) <= p.monthly_budget_usd
        ]
        if cheap and len(cheap) < len(labels):
            notes.append(
                "dropped for cost over budget: " + ", ".join(s for s in labels if s not in cheap)
            )
            labels = cheap
    return labels


def _p95_mean(ev: Evidence, label: str) -> float:
    p95 = ev.latency_p95(label)
    return 0.0 if p95 is None else p95.mean


def _pick(ev: Evidence, labels: list[str], reasons: list[str]) -> tuple[str, bool]:
    """(chosen label, whether its lead over the runner-up is significant)."""
    # Equal quality: the simpler first, so the choice never depends on the labels' order.
    ranked = sorted(labels, key=lambda s: (-(ev.quality(s) or 0.0), complexity(s)))
    best = ranked[0]
    simpler = [s for s in ranked[1:] if complexity(s) < complexity(best)]
    for s in sorted(simpler, key=complexity):
        if ev.better(best, s) is None:
            reasons.append(
                f"{best} ({quality_text(ev, best)}) is not significantly better than the "
                f"simpler {s} ({quality_text(ev, s)}), so {s} is preferred"
            )
            return s, False
    runner = ranked[1] if len(ranked) > 1 else None
    if runner is None:
        reasons.append(f"{best} is the only eligible strategy: {quality_text(ev, best)}")
        return best, False
    lead = ev.better(best, runner)
    d = ev.diff("answers", "f1", best, runner)
    reasons.append(
        f"{best} has the best {quality_text(ev, best)}; vs {runner}: difference "
        f"{fmt(d)}" + (" (significant)" if lead else " (not significant)")
    )
    return best, bool(lead)


def _name(label: str, style: str | None) -> str:
    if style and retrieves(label):
        return "hybrid: RAG + style adapter"
    if style and family(label) == "prompting only":
        return "fine-tuning (style adapter)"
    return recommended_as(label)


def _next_steps(ev: Evidence, p: Profile, significant: bool, steps: list[Step]) -> list[str]:
    out = []
    if ev.n < MIN_N or not significant:
        out.append(
            f"measure more questions: {ev.n} gave intervals that do not separate the "
            "leaders; about 4x the questions halves an interval's width"
        )
    if ev.results.freshness is None:
        out.append("measure freshness: rerun compare with --update DIR (the next document version)")
    if p.wants_style and not ev.style:
        out.append("measure style: give the pilot --style FILE with examples of the house format")
    if ev.results.judge.name == "offline":
        out.append(
            "confirm faithfulness with an LLM judge (compare --judge BACKEND) if one is available"
        )
    best = max((ev.quality(s) or 0.0) for s in ev.labels) if ev.labels else 0.0
    if best < 0.3:
        out.append(
            f"the best token F1 is {best:.2f}: the small generator limits every "
            "generative strategy; try a larger model (--model / --backend openai)"
        )
    if any(s.contradiction for s in steps):
        out.append("look into each contradiction above before relying on the rule of thumb")
    cal = ev.results.calibration
    if cal is not None and cal.threshold is not None:
        from ragtune.retrieval.answerability import Calibration

        deploy = Calibration(**cal.deploy)
        out.append(
            f"serve with the abstention threshold calibrated on all {deploy.n_answerable} + "
            f"{deploy.n_unanswerable} questions ({deploy.threshold:.3f}; the rates above "
            "are cross-fitted): `ragtune calibrate --eval FILE` saves it"
        )
    return out


def _confidence(ev: Evidence, significant: bool, contradictions: list[str]) -> str:
    if ev.n < MIN_N:
        return "low"
    if significant and not contradictions:
        return "high"
    return "medium" if significant or len(contradictions) <= 1 else "low"


_LOWER = {"high": "medium", "medium": "low", "low": "low"}


def _pathologies(ev: Evidence, chosen: str, reasons: list[str], next_steps: list[str]) -> bool:
    """Name every flagged strategy (the chosen one first); True when the chosen is one."""
    flags = flagged(ev.results)
    limit = f"{ev.results.pathologies.threshold:.0%}"
    limit = limit.replace("%", " %")
    for label in sorted(flags, key=lambda s: s != chosen):
        what = f"⚠ {label}: {flag_text(flags[label])} of its answers (flagged above {limit})"
        if label == chosen:
            what += "; confidence lowered one level: its scores say less with so many of these"
        reasons.append(what)
    if flags:
        next_steps.append(
            "read the flagged answers (report drill-down: 'an answer with a pathology') "
            "before trusting the scores of " + ", ".join(flags)
        )
    return chosen in flags


def _weak_judge(ev: Evidence, reasons: list[str], next_steps: list[str]) -> bool:
    """Say where the judge's self-test fell short; True when it did (see the module docs)."""
    weak = weak_spots(ev.results)
    if not weak:
        return False
    test = ev.results.judge.selftest
    goal = f"{(CATCH_MIN if test is None else test.threshold) * 100:.0f} %"
    reasons.append(
        f"⚠ judge self-test below {goal}: {'; '.join(weak)} (edited answers caught); "
        "confidence lowered one level: the faithfulness and relevancy numbers are less "
        "trustworthy than they look"
    )
    next_steps.append(
        "check the judge: read the edited answers it missed (results.json: "
        "judge.selftest.missed), or confirm with another judge (compare --judge BACKEND)"
    )
    return True


def advise(results: Results, profile: Profile, style: StyleCheck | None = None) -> Recommendation:
    """Combine the profile's answers with the measurements (see the module docstring)."""
    ev = Evidence(results, style)
    steps = [fn(ev, profile) for fn in STEPS]
    reasons: list[str] = []
    labels = _eligible(ev, profile, reasons)
    if not labels:
        return _unmeasured(ev, profile, steps)
    chosen, significant = _pick(ev, labels, reasons)
    quality = reasons[-1:]  # the quality comparison that picked the strategy
    style_adapter = None
    diff = ev.style_diff()
    if profile.wants_style and ev.style and diff and diff.significant and diff.mean > 0:
        style_adapter = ev.style.adapter
        reasons.append(
            f"house style: the style adapter passes the format check "
            f"{fmt(ev.style_pass('adapter'), 2)} vs base {fmt(ev.style_pass('base'), 2)}"
        )
    next_steps = _next_steps(ev, profile, significant, steps)
    if style_adapter and not generative(chosen):
        reasons.append(
            f"{strategy_of(chosen)} quotes a passage and runs no model, so the house style "
            "needs the generative path: rag with the style adapter"
        )
        next_steps.insert(
            0,
            f"measure the facts of rag with the style adapter: ragtune "
            f"compare -s ft+rag --adapter ft+rag={style_adapter}",
        )
    contradictions = [s.contradiction for s in steps if s.contradiction]
    confidence = _confidence(ev, significant, contradictions)
    if _pathologies(ev, chosen, reasons, next_steps):
        confidence = _LOWER[confidence]
    if _weak_judge(ev, reasons, next_steps):
        confidence = _LOWER[confidence]
    ranked = sorted(steps, key=lambda s: -s.weight)
    facts = (
        quality
        + [
            f"{s.question} {s.answer} -> {s.evidence}"
            for s in ranked
            if s.weight > 0 and s.evidence != "not measured"
        ][: 3 - len(quality)]
    )
    return Recommendation(
        choice=_name(chosen, style_adapter),
        strategy=chosen,
        style_adapter=style_adapter,
        confidence=confidence,
        reasons=reasons,
        facts=facts,
        contradictions=contradictions,
        next_steps=next_steps,
        steps=steps,
        profile=profile.model_dump(),
    )


def _unmeasured(ev: Evidence, p: Profile, steps: list[Step]) -> Recommendation:
    rule = "RAG" if p.wants_knowledge else "fine-tuning (style adapter)"
    return Recommendation(
        choice=rule,
        strategy="",
        style_adapter=None,
        confidence="low",
        reasons=["no strategy has a measured quality; this follows the rules of thumb only"],
        facts=[],
        contradictions=[],
        next_steps=_next_steps(ev, p, False, steps),
        steps=steps,
        profile=p.model_dump(),
    )
