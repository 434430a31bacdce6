"""The style check: does a style adapter reproduce the house format better than prompting
the base model with examples of it?

The format is learned from the style examples themselves, not hard-coded: a feature is kept
when at least 80 % of the training answers have it (the first line's ``Label:`` prefix, other
line prefixes such as ``Details:`` or ``- ``, an identical last line such as a sign-off). On
held-out style questions, *prompting* (the base model with two training examples shown in the
prompt) and the *adapter* (no examples) are scored by the share of answers with every
feature, with bootstrap CIs and the paired difference. Example::

    feats = format_features(["Short answer: Yes.\\nSource: Leave policy\\n-- Desk", ...])
    format_score("Short answer: No.\\nSource: X\\n-- Desk", feats)   # (True, 1.0)
    check = style_check(project, "style", "style", max_new_tokens=96)

The pilot runs the two generations as separate pool jobs (``plan_style``,
``generate_texts``, ``score_style``): prompting needs no adapter, so it starts at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragtune.evaluation.sections import StyleCheck
from ragtune.evaluation.stats import bootstrap_ci, paired_difference
from ragtune.workers import Channel, Started

if TYPE_CHECKING:
    from ragtune.finetune.rows import TrainingRow
    from ragtune.generate.base import Message
    from ragtune.project import Project

SHARE = 0.8
SHOTS = 2
MAX_NEW_TOKENS = 96
_PREFIX = re.compile(r"^([A-Z][\w ]{0,24}:|[-*] )")


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()]


def _features_of(text: str) -> set[tuple[str, str]]:
    lines = _lines(text)
    if not lines:
        return set()
    out = {("last", lines[-1])}
    first = _PREFIX.match(lines[0])
    if first:
        out.add(("first", first.group(1)))
    out |= {("line", m.group(1)) for line in lines[1:] if (m := _PREFIX.match(line))}
    return out


def format_features(answers: Sequence[str]) -> list[tuple[str, str]]:
    """Features shared by at least 80 % of ``answers`` (see the module docstring)."""
    counts: Counter[tuple[str, str]] = Counter()
    for a in answers:
        counts.update(_features_of(a))
    need = SHARE * max(len(answers), 1)
    return sorted(f for f, n in counts.items() if n >= need)


def describe(feature: tuple[str, str]) -> str:
    kind, value = feature
    if kind == "first":
        return f"starts with {value!r}"
    if kind == "last":
        return f"ends with {value!r}"
    return f"has a line starting {value!r}"


def format_score(text: str, features: Sequence[tuple[str, str]]) -> tuple[bool, float]:
    """(has every feature, share of features present)."""
    if not features:
        return False, 0.0
    have = _features_of(text)
    hits = sum(f in have for f in features)
    return hits == len(features), hits / len(features)


def _question(row: TrainingRow) -> dict[str, str]:
    return next(m for m in reversed(row.messages or []) if m["role"] == "user")


@dataclass
class StylePlan:
    """The style check's inputs: held-out rows, the learned format and both prompt sets."""

    adapter: str
    dataset: str
    test: list[TrainingRow]
    features: list[tuple[str, str]]
    prompted: list[list[Message]]  # the base model, shown SHOTS training examples
    tuned: list[list[Message]]  # the adapter, no examples


def plan_style(project: Project, adapter: str, dataset: str) -> StylePlan:
    from ragtune.finetune.data import load_split

    train = [r for r in load_split(project, dataset, "train") if r.kind == "style"]
    test = [r for r in load_split(project, dataset, "test") if r.kind == "style"]
    test += [r for r in load_split(project, dataset, "validation") if r.kind == "style"]
    system = {"role": "system", "content": project.settings.prompt.base_system}
    shots = [m for r in train[:SHOTS] for m in (_question(r), (r.messages or [])[-1])]
    return StylePlan(
        adapter,
        dataset,
        test,
        format_features([r.answer for r in train]),
        [[system, *shots, _question(r)] for r in test],
        [[system, _question(r)] for r in test],
    )


def score_style(
    plan: StylePlan, prompted: Sequence[str], tuned: Sequence[str], seed: int = 0
) -> StyleCheck:
    """The check's outcome from both sets of answers (in ``plan.test`` order)."""
    scores = {
        "base": [format_score(text, plan.features) for text in prompted],
        "adapter": [format_score(text, plan.features) for text in tuned],
    }
    passes = {k: [float(ok) for ok, _ in v] for k, v in scores.items()}
    return StyleCheck(
        adapter=plan.adapter,
        dataset=plan.dataset,
        n=len(plan.test),
        shots=SHOTS,
        features=[describe(f) for f in plan.features],
        format_pass={k: bootstrap_ci(v, seed=seed) for k, v in passes.items()},
        format_parts={k: bootstrap_ci([p for _, p in v], seed=seed) for k, v in scores.items()},
        difference=paired_difference(passes["adapter"], passes["base"], seed=seed),
        examples=[
            {"question": _question(r)["content"], "gold": r.answer, "base": p, "adapter": t}
            for r, p, t in list(zip(plan.test, prompted, tuned, strict=True))[:3]
        ],
    )


def style_check(
    project: Project,
    adapter: str,
    dataset: str,
    *,
    max_new_tokens: int = MAX_NEW_TOKENS,
    seed: int = 0,
    backend: str | None = None,
) -> StyleCheck:
    """Prompting with examples vs the style adapter on the dataset's held-out style rows."""
    from ragtune.generate.base import GenerationOptions

    plan = plan_style(project, adapter, dataset)
    options = GenerationOptions(max_new_tokens=max_new_tokens, seed=seed)
    prompted = project.generator(backend).generate(plan.prompted, options)
    tuned = project.adapter_generator(adapter, backend).generate(plan.tuned, options)
    return score_style(plan, [g.text for g in prompted], [g.text for g in tuned], seed)


def generate_texts(
    root: str,
    settings: str,
    backend: str | None,
    adapter: str | None,
    prompts: list[list[Message]],
    options: dict[str, Any],
    channel: Channel,
) -> dict[str, Any]:
    """A pool job (``ragtune.workers``): the texts ``prompts`` get from the base model or
    ``adapter``, and the CPU seconds spent."""
    import time

    from ragtune.evaluation.parallel import worker_project
    from ragtune.generate.base import GenerationOptions

    cpu = time.process_time()
    channel.use_threads()
    channel.put(Started())
    project = worker_project(root, settings)
    generator = (
        project.adapter_generator(adapter, backend) if adapter else project.generator(backend)
    )
    out = generator.generate(prompts, GenerationOptions(**options))
    return {"texts": [g.text for g in out], "cpu_s": time.process_time() - cpu}
