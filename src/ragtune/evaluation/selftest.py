"""The judge's self-test, run in every ``compare``: how often does the judge notice a wrong
answer? Users act on faithfulness and relevancy, so each run measures its own judge.

A seeded sample of the run's *own* answers that the judge credited (faithfulness at least
:data:`SUPPORTED_MIN` where there is a context, else relevancy above 0) is edited four ways
(:data:`KINDS`) and judged again:

- ``off_topic``: a sentence from another question's passages appended;
- ``negated``: a sentence of the answer's own passages appended with its meaning negated;
- ``number``: a sentence of its passages appended with a number changed (where they have one);
- ``question``: the answer replaced by the question.

An edit is *caught* when faithfulness (relevancy for ``question``) fell below the original
score. Per kind and strategy the share caught comes with a bootstrap CI; a judgement that
did not parse (LLM judge) counts as missed and is counted. The LLM judge also judges a few
answers a second time: its run-to-run agreement (:mod:`ragtune.evaluation.judging`). The
advisor lowers its confidence when a rate is below :data:`CATCH_MIN`. Example::

    test = run_selftest({"rag": judged}, direct(OfflineJudge(encoder)), sample_size=30)
    test["caught"]["negated"]["all"]     # {"mean": 0.97, "low": .., "high": .., "n": 30}
    weak_spots(results)                  # ["negated sentence 62 % [50 %, 74 %] of 90"]
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ragtune.evaluation.metrics.ragas import JudgeInput, Verdict
from ragtune.evaluation.sections import SelfTest
from ragtune.evaluation.stats import Interval, bootstrap_ci
from ragtune.text.perturb import append_sentence, change_number, negate, sentences_of
from ragtune.types import content_hash

if TYPE_CHECKING:
    from ragtune.evaluation.results import Results

KINDS = {
    "off_topic": "a sentence from another question's passages appended: faithfulness fell",
    "negated": "a sentence of the answer's passages appended, its meaning negated: "
    "faithfulness fell",
    "number": "a sentence of the answer's passages appended with a number changed: "
    "faithfulness fell",
    "question": "the answer replaced by the question: answer relevancy fell",
}
NAMES = {
    "off_topic": "off-topic sentence",
    "negated": "negated sentence",
    "number": "changed number",
    "question": "question as answer",
}
CATCH_MIN = 0.90  # below this share caught, the judge's numbers say less: the advisor says so
SUPPORTED_MIN = 0.5  # an answer the judge already doubts shows little about one more bad claim
DEFAULT_SAMPLE = 30  # answers per strategy: ~±10 % on a rate near 90 %, seconds offline
MISSED = 5  # question ids kept per kind and strategy, to read what the judge let through
_TRIES = 10  # off-topic draws before giving up on an answer (its passages cover the rest)
_DIGITS = re.compile(r"\d+")

Job = tuple[str, str, JudgeInput]  # (strategy, key for a verdict cache, what to judge)
Judging = Callable[[str, Sequence[Job], Collection[str] | None], list[Verdict]]


@dataclass(frozen=True)
class Judged:
    """One answer of the run as the judge saw it (``given``) and scored it."""

    label: str
    id: str
    given: JudgeInput
    verdict: Verdict


@dataclass(frozen=True)
class Probe:
    """One edited answer: ``kind`` of :data:`KINDS`, the input the judge gets instead."""

    case: Judged
    kind: str
    given: JudgeInput

    @property
    def metric(self) -> str:
        return "answer_relevancy" if self.kind == "question" else "faithfulness"

    @property
    def key(self) -> str:
        """Cache key of its verdict: the edited text is in it, so a changed edit (another
        sample size, a new rule) is judged anew instead of reusing a stale verdict."""
        return f"{self.case.id}#{self.kind}#{content_hash(self.given.answer)[:10]}"


def direct(judge: Any) -> Judging:
    """A :data:`Judging` over a judge object (``judge.judge(inputs, metrics)``), uncached:
    the offline judge is deterministic and cheap. Example::

        judging = direct(OfflineJudge(encoder))
    """

    def run(phase: str, jobs: Sequence[Job], metrics: Collection[str] | None) -> list[Verdict]:
        return list(judge.judge([given for _, _, given in jobs], metrics)) if jobs else []

    return run


def score(verdict: Verdict, metric: str) -> float | None:
    """The verdict's value of ``metric``; None when it is NaN or its judgement failed."""
    value = verdict.scores.get(metric, math.nan)
    return None if metric in verdict.failed or math.isnan(value) else value


def credited(case: Judged) -> bool:
    """Whether the judge credited the answer: the self-test samples these."""
    if case.given.abstained:
        return False
    if case.given.contexts:
        faith = score(case.verdict, "faithfulness")
        return faith is not None and faith >= SUPPORTED_MIN
    relevancy = score(case.verdict, "answer_relevancy")
    return relevancy is not None and relevancy > 0.0


@lru_cache(maxsize=4096)
def _sentences(passage: str) -> tuple[str, ...]:
    return tuple(sentences_of(passage))  # cached: strategies share most passages


def _squash(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


class _Editor:
    """Builds the edits of one run; ``passages`` maps question ids to their passages (the
    off-topic sentences come from another question's)."""

    def __init__(self, passages: Mapping[str, Sequence[str]], seed: int) -> None:
        self.passages, self.seed = passages, seed
        self.ids = sorted(i for i, p in passages.items() if p)

    def rng(self, case: Judged, kind: str) -> random.Random:
        # One generator per answer and kind: an answer's edits do not depend on the sample.
        return random.Random(f"selftest:{self.seed}:{case.label}:{case.id}:{kind}")

    def off_topic(self, case: Judged) -> str | None:
        rng, own = self.rng(case, "off_topic"), [_squash(c) for c in case.given.contexts]
        others = [i for i in self.ids if i != case.id]
        for _ in range(_TRIES if others else 0):
            found = _sentences(rng.choice(self.passages[rng.choice(others)]))
            sentence = rng.choice(found) if found else ""
            if sentence and not any(_squash(sentence) in c for c in own):
                return sentence  # not in its own passages: unsupported by construction
        return None

    def negated(self, case: Judged) -> str | None:
        found = [n for c in case.given.contexts for s in _sentences(c) if (n := negate(s))]
        return self.rng(case, "negated").choice(found) if found else None

    def number(self, case: Judged) -> str | None:
        avoid = {d.lstrip("0") or "0" for c in case.given.contexts for d in _DIGITS.findall(c)}
        rng = self.rng(case, "number")
        found = [s for c in case.given.contexts for s in _sentences(c) if _DIGITS.search(s)]
        rng.shuffle(found)
        return next((e for s in found if (e := change_number(s, avoid, rng))), None)

    def probes(self, case: Judged) -> list[Probe]:
        given, out = case.given, []
        if given.contexts:
            for kind, make in (("off_topic", self.off_topic), ("negated", self.negated),
                               ("number", self.number)):  # fmt: skip
                sentence = make(case)
                if sentence:
                    edited = replace(given, answer=append_sentence(given.answer, sentence))
                    out.append(Probe(case, kind, edited))
        if (score(case.verdict, "answer_relevancy") or 0.0) > 0.0:
            out.append(Probe(case, "question", replace(given, answer=given.question)))
        return out


def sample(judged: Sequence[Judged], n: int, seed: int) -> list[Judged]:
    """Up to ``n`` credited answers of one strategy, seeded, in question order."""
    pool = [c for c in judged if credited(c)]
    if not pool:
        return []
    rng = random.Random(f"selftest:{seed}:{pool[0].label}")
    chosen = {id(c) for c in rng.sample(pool, min(n, len(pool)))}
    return [c for c in pool if id(c) in chosen]


def make_probes(judged: Mapping[str, Sequence[Judged]], n: int, seed: int) -> list[Probe]:
    """The edited answers of every strategy's sample (see the module docs)."""
    passages: dict[str, list[str]] = {}
    for cases in judged.values():
        for c in cases:
            have = passages.setdefault(c.id, [])
            have += [p for p in c.given.contexts if p not in have]
    editor = _Editor(passages, seed)
    return [
        p for cases in judged.values() for c in sample(cases, n, seed) for p in editor.probes(c)
    ]


def _judge(probes: Sequence[Probe], judging: Judging) -> list[Verdict]:
    """All probes judged in two batches (one metric each): the offline judge embeds once."""
    out: dict[int, Verdict] = {}
    for metric in ("faithfulness", "answer_relevancy"):
        todo = [n for n, p in enumerate(probes) if p.metric == metric]
        jobs = [(probes[n].case.label, probes[n].key, probes[n].given) for n in todo]
        out.update(zip(todo, judging("selftest", jobs, [metric]), strict=True))
    return [out[n] for n in range(len(probes))]


def caught(probe: Probe, verdict: Verdict) -> bool:
    """Whether the judge's score of the edited answer fell below the original one (an
    unparsable or missing score did not catch anything)."""
    after, before = score(verdict, probe.metric), score(probe.case.verdict, probe.metric)
    return after is not None and before is not None and after < before


def run_selftest(
    judged: Mapping[str, Sequence[Judged]],
    judging: Judging,
    *,
    seed: int = 0,
    sample_size: int = DEFAULT_SAMPLE,
    resamples: int = 2000,
) -> SelfTest:
    """The self-test of one run: ``judged`` holds every strategy's judged answers. Returns
    per kind of edit the share caught (per strategy and ``"all"``), the verdicts the judge
    failed to give and the first missed question ids. Example::

        run_selftest({"rag": judged}, direct(judge)).caught["number"]["rag"].mean
    """
    probes = make_probes(judged, sample_size, seed)
    verdicts = _judge(probes, judging)
    labels = list(judged)
    hits: dict[str, dict[str, list[float]]] = {k: {s: [] for s in labels} for k in KINDS}
    out = SelfTest(
        sample=sample_size,
        threshold=CATCH_MIN,
        supported_min=SUPPORTED_MIN,
        definitions=dict(KINDS),
        answers={s: len({p.case.id for p in probes if p.case.label == s}) for s in labels},
        caught={},
        unparsable={k: dict.fromkeys(labels, 0) for k in KINDS},
        missed={k: {s: [] for s in labels} for k in KINDS},
    )
    for probe, verdict in zip(probes, verdicts, strict=True):
        kind, label = probe.kind, probe.case.label
        hit = caught(probe, verdict)
        hits[kind][label].append(float(hit))
        out.unparsable[kind][label] += probe.metric in verdict.failed
        if not hit and len(out.missed[kind][label]) < MISSED:
            out.missed[kind][label].append(probe.case.id)
    for kind, per in hits.items():
        pooled = [v for s in labels for v in per[s]]
        out.caught[kind] = {
            s: bootstrap_ci(v, seed=seed, n_resamples=resamples)
            for s, v in [*per.items(), ("all", pooled)]
        }
    return out


def _pct(value: float) -> str:
    return f"{value:.0%}".replace("%", " %")


def rate_text(stat: Interval | None) -> str:
    """``"62 % [50 %, 74 %] of 90"``; ``"n/a"`` when nothing was tested."""
    if stat is None or not stat.measured:
        return "n/a"
    return f"{_pct(stat.mean)} [{_pct(stat.low)}, {_pct(stat.high)}] of {stat.n}"


def weak_spots(results: Results) -> list[str]:
    """What the self-test found below :data:`CATCH_MIN`, each as ``"negated sentence 62 %
    [50 %, 74 %] of 90"`` (every strategy pooled), and the LLM judge's run-to-run agreement
    when it is below too; ``[]`` when all is well or nothing was tested (older results)."""
    test, agree = results.judge.selftest, results.judge.agreement
    limit = test.threshold if test else CATCH_MIN
    out = []
    for kind in test.caught if test else ():
        stat = test.pooled(kind) if test else None
        if stat is not None and stat.measured and stat.mean < limit:
            out.append(f"{NAMES.get(kind, kind)} {rate_text(stat)}")
    pooled = agree.overall if agree else None
    if pooled is not None and pooled.measured and pooled.mean < limit:
        out.append(f"run-to-run agreement {rate_text(pooled)}")
    return out
