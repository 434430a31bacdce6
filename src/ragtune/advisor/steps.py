"""The decision steps: each states the rule of thumb, quotes what was measured (with its
95 % interval) and records a contradiction where the two disagree. Example::

    steps = [fn(Evidence(results), Profile.model_validate({})) for fn in STEPS]
    [s.contradiction for s in steps if s.contradiction]
"""

from __future__ import annotations

from dataclasses import dataclass

from ragtune.advisor.evidence import Evidence, adapter_of, family, fmt, retrieves
from ragtune.advisor.profile import Profile
from ragtune.evaluation.stats import Interval


@dataclass
class Step:
    """One decision step: the question, the user's answer, the rule, the measurement."""

    key: str
    question: str
    answer: str
    rule: str
    evidence: str = "not measured"
    contradiction: str | None = None
    weight: float = 0.0  # how much this step drove the choice (for the top facts)


def quality_text(ev: Evidence, label: str) -> str:
    return f"token F1 {fmt(ev.metric('answers', 'f1', label))}"


def _step_change(ev: Evidence, p: Profile) -> Step:
    step = Step(
        "knowledge_change",
        "How often does the knowledge change?",
        p.knowledge_change,
        "weekly or faster: retrieval (re-indexing takes seconds, retraining minutes "
        "to hours); static knowledge may be trained in",
    )
    fresh = ev.results.freshness
    if fresh is None:
        return step
    rows = {s: v for s in ev.labels if (v := ev.fresh_new(s)) is not None}
    parts = [f"{s} {fmt(v, 2)}" for s, v in rows.items()]
    ttf = {s: r.time_to_fresh.seconds for s in ev.labels if (r := ev.freshness(s)) is not None}
    fast = [f"{s} {v:.0f} s" for s, v in ttf.items() if v is not None]
    step.evidence = (
        f"share of {fresh.questions} changed-fact answers stating the new fact "
        f"after the update: {', '.join(parts)}; time to fresh: {', '.join(fast)}"
    )
    step.weight = 3.0 if p.needs_fresh_knowledge else 2.0
    measured = {s: v.mean for s, v in rows.items() if v.measured}
    best_ret = max((v for s, v in measured.items() if retrieves(s)), default=None)
    best_other = max((v for s, v in measured.items() if not retrieves(s)), default=None)
    if best_ret is not None and best_other is not None and best_ret <= best_other:
        step.contradiction = (
            f"retrieval was expected to pick up the update, but no retrieving strategy stated "
            f"the new fact more often ({best_ret:.2f}) than one without retrieval "
            f"({best_other:.2f}): the generator, not the index, is the bottleneck"
        )
    return step


def _step_citations(ev: Evidence, p: Profile) -> Step:
    step = Step(
        "citations",
        "Are source citations required?",
        "yes" if p.citations_required else "no",
        "required: only retrieving strategies can point at a source passage",
    )
    cites = {s: ev.metric("citations", "citation_precision", s) for s in ev.labels}
    measured = {s: v for s, v in cites.items() if v is not None}
    if measured:
        inferred = {s: ev.mean("citations", "citation_inferred", s) for s in measured}
        step.evidence = "citation precision " + ", ".join(
            f"{s} {fmt(v, 2)}" + (f" ({inferred[s]:.0%} inferred)" if inferred[s] else "")
            for s, v in measured.items()
        )
    step.weight = 1.8 if p.citations_required else 0.0
    return step


def _step_need(ev: Evidence, p: Profile) -> Step:
    step = Step(
        "need",
        "Behaviour/style or knowledge?",
        p.need,
        "style and format: an adapter learns them; knowledge: retrieval",
    )
    if not ev.style:
        return step
    base, tuned, diff = ev.style_pass("base"), ev.style_pass("adapter"), ev.style_diff()
    step.evidence = (
        f"house-format pass rate on {ev.style.n} held-out style "
        f"questions: base {fmt(base, 2)}, style adapter {fmt(tuned, 2)}; "
        f"paired difference {fmt(diff, 2)}"
    )
    step.weight = 3.0 if p.wants_style else 0.5
    if diff is not None and diff.n and not diff.significant:
        step.contradiction = (
            "an adapter was expected to learn the house style, but the measured difference "
            f"in format pass rate {fmt(diff, 2)} is not significant"
        )
    return step


def _step_examples(ev: Evidence, p: Profile) -> Step:
    step = Step(
        "labelled_examples",
        "How many curated labelled examples exist?",
        str(p.labelled_examples),
        "under ~100: do not rely on fine-tuning for knowledge; 1000+: it becomes an option",
    )
    ft = [s for s in ev.labels if family(s) == "fine-tuning"]
    if not ft or "rag" not in ev.labels:
        return step
    f = ft[0]
    orig = ev.metric("robustness", "f1_original", f)
    alt = ev.metric("robustness", "f1_alternative", f)
    step.evidence = f"{f}: {quality_text(ev, f)} vs rag {quality_text(ev, 'rag')}"
    if orig is not None and alt is not None:
        step.evidence += f"; first phrasing {fmt(orig, 2)} vs other phrasings {fmt(alt, 2)}"
    step.weight = 1.5
    if p.labelled_examples >= 1000 and ev.better(f, "rag") is False:
        step.contradiction = (
            f"with {p.labelled_examples} examples fine-tuning was expected to compete, but "
            f"{f} is significantly below rag ({quality_text(ev, f)} vs {quality_text(ev, 'rag')})"
        )
    return step


def _step_latency(ev: Evidence, p: Profile) -> Step:
    budget = p.latency_budget_ms / 1000
    step = Step(
        "latency",
        "What is the latency budget?",
        f"p95 <= {budget:g} s",
        "fine-tuning answers without retrieval and with a short prompt, so it is "
        "expected to be fastest",
    )
    p95: dict[str, Interval] = {s: v for s in ev.labels if (v := ev.latency_p95(s)) is not None}
    if not p95:
        return step
    over = [s for s, v in p95.items() if v.mean > budget]
    step.evidence = "p95 latency (s) " + ", ".join(f"{s} {fmt(v, 2)}" for s, v in p95.items())
    if over:
        step.evidence += f"; over budget: {', '.join(over)}"
        step.weight = 2.0
    ft = [s for s in p95 if family(s) == "fine-tuning"]
    rag = p95.get("rag")
    if ft and rag is not None and p95[ft[0]].mean >= rag.mean:
        step.contradiction = (
            f"fine-tuning was expected to help latency, but measured p95 is "
            f"{fmt(p95[ft[0]], 2)} s for {ft[0]} vs {fmt(rag, 2)} s for rag"
        )
    return step


def _step_domain(ev: Evidence, p: Profile) -> Step:
    step = Step(
        "domain",
        "How specialised is the domain?",
        p.domain,
        "specialised vocabulary favours some fine-tuning; general domains rarely need it",
    )
    tuned = [s for s in ev.labels if adapter_of(s)]
    parts = []
    for s in tuned:
        probe = ev.forgetting(s)
        if probe is not None:
            parts.append(
                f"{s}: general-text perplexity {probe.perplexity_increase_pct:+.1f} % (forgetting)"
            )
    if "base" in ev.labels and tuned:
        parts.insert(0, f"base {quality_text(ev, 'base')}")
    step.evidence = "; ".join(parts) or step.evidence
    step.weight = 0.5
    return step


def _step_cost(ev: Evidence, p: Profile) -> Step:
    q = p.queries_per_month
    budget = "no limit" if p.monthly_budget_usd is None else f"{p.monthly_budget_usd:g} USD"
    step = Step(
        "budget",
        "Budget and query volume?",
        f"{q:,} queries/month, {budget}",
        "at high volume a one-off training cost can pay back through cheaper "
        "queries (shorter prompts)",
    )
    monthly = {s: ev.monthly_cost(s, q) for s in ev.labels}
    if not any(v is not None for v in monthly.values()):
        return step
    step.evidence = "serving cost per month " + ", ".join(
        f"{s} {v:.2f} USD" for s, v in monthly.items() if v is not None
    )
    paying = [b for b in ev.break_even() if b.queries]
    if paying:
        b = min(paying, key=lambda b: b.queries or 0.0)
        step.evidence += f"; {b.a} pays back its training vs {b.b} after {b.queries:,.0f} queries"
    return step


STEPS = (
    _step_change,
    _step_citations,
    _step_need,
    _step_examples,
    _step_latency,
    _step_domain,
    _step_cost,
)
