"""False-abstention check: does an adapter trained to abstain refuse answerable questions?

RAFT data (:mod:`ragtune.finetune.raft`) teaches a model to say :data:`CANNOT_ANSWER` when the
oracle passage is missing. Too large a share of those targets, too few steps or a harsh
learning rate, and the adapter refuses nearly everything: on real documents the pilot's
``raft+rag`` said it to 77 % of *answerable* questions. So after training on data with
abstention targets, :func:`measure` asks the validation split's answerable questions through
the ``raft+rag`` answering path (retrieval, the abstention threshold, the rag prompt, one
batched generation, the answer clean-up) and shows the model the oracle-free validation
prompts as they were built (retrieval would find the oracle again); :func:`check_limit` is
the ``--max-false-abstention`` guard. Example::

    record = judge(measure(project, "raft-a", validation_rows), limit_pct=10.0)
    record["false_abstention"], record["true_abstention"], record["passed"]
    check_limit(info)  # raises FalseAbstentionError when record["passed"] is False
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ragtune.errors import RagtuneError
from ragtune.finetune.config import ABSTENTION_QUESTIONS, TuneConfig
from ragtune.generate.prompts import CANNOT_ANSWER, Prompt

if TYPE_CHECKING:
    from ragtune.finetune.adapters import AdapterInfo
    from ragtune.finetune.rows import TrainingRow
    from ragtune.generate.base import Generator, Message
    from ragtune.project import Project
    from ragtune.strategies import AnswerSystem
    from ragtune.types import Answer

# The refusal is 7 tokens and comes first when the model refuses; an answer that only gets
# to it after 24 tokens has answered something, and longer answers cost CPU time for nothing.
ANSWER_TOKENS = 24
FIX = (
    "train longer (--max-steps/--epochs), lower the share of oracle-free examples "
    "(data build --raft-p-missing), or try another --lr"
)


class FalseAbstentionError(RagtuneError):
    """The adapter refused too many answerable questions; it is saved and flagged
    (``abstention.passed`` false in its metadata), and ``info`` is its metadata."""

    def __init__(self, info: AdapterInfo) -> None:
        self.info = info
        super().__init__(
            f"adapter {info.name!r} saved but fails the false-abstention check: "
            + describe(info.abstention),
            FIX + _threshold_hint(info.abstention) + "; --max-false-abstention 100 turns the "
            "check off",
        )


def _threshold_hint(record: Mapping[str, Any]) -> str:
    """Refusals made before the model ran are the retrieval threshold's, not the adapter's."""
    if not record.get("by_threshold"):
        return ""
    return "; or lower abstention.threshold (`ragtune calibrate`), which made some of them"


@dataclass(frozen=True)
class Probe:
    """One validation example: a question to retrieve for (``messages`` None), or the
    stored prompt of an example whose context was built without its oracle passage."""

    question: str
    answerable: bool
    messages: list[Message] | None = None


def is_abstention(row: TrainingRow) -> bool:
    return bool(row.messages) and row.answer.strip() == CANNOT_ANSWER


def teaches_abstention(rows: Sequence[TrainingRow]) -> bool:
    """Whether training on ``rows`` can teach the refusal (RAFT's oracle-free examples)."""
    return any(is_abstention(r) for r in rows)


def probes(rows: Sequence[TrainingRow], system: str, cap: int) -> list[Probe]:
    """Up to ``cap`` answerable and ``cap // 4`` (at least 1) oracle-free probes from
    validation ``rows``, in file order (ids are content hashes, so that order is not the
    documents'). The guard is on the answerable ones; the oracle-free ones (RAFT leaves the
    oracle out of 20 % by default) are a check that the refusal was learnt at all, and each
    long prompt costs ~4 s of CPU prefill."""
    chats = [r for r in rows if r.messages]
    answerable = [r for r in chats if not is_abstention(r)][:cap]
    missing = [r for r in chats if is_abstention(r)][: max(1, cap // 4)]
    return [_probe(r, True, system) for r in answerable] + [
        _probe(r, False, system) for r in missing
    ]


def _probe(row: TrainingRow, answerable: bool, system: str) -> Probe:
    messages = list((row.messages or [])[:-1])
    users = [m["content"] for m in messages if m["role"] == "user"]
    question = str(row.extra.get("question") or (users[-1] if users else ""))
    if answerable and row.extra.get("raft") and row.extra.get("question"):
        return Probe(question, True)  # a RAFT question: served as raft+rag serves it
    if not messages or messages[0]["role"] != "system":
        messages = [{"role": "system", "content": system}, *messages]  # as training saw it
    return Probe(question, answerable, messages)


def measure(
    project: Project,
    adapter: str,
    rows: Sequence[TrainingRow],
    cap: int = ABSTENTION_QUESTIONS,
    make_generator: Callable[[], Generator] | None = None,
) -> dict[str, Any]:
    """False abstention (answerable questions refused) and true abstention (oracle-free
    prompts refused) of a registered adapter on validation ``rows``; see the module doc.
    ``make_generator`` replaces the adapter's own generator (tests)."""
    from ragtune.strategies import Prepared

    items = probes(rows, project.settings.prompt.base_system, cap)
    if not items:
        return summarize([], [])  # nothing to ask: no model to load
    started = time.perf_counter()
    system = answer_system(project, adapter, make_generator)
    prepared = [
        system.prepare(p.question, None, None, None)
        if p.messages is None
        else Prepared(p.question, prompt=Prompt(p.messages))
        for p in items
    ]
    answers = system.respond(prepared)  # one batched generation for all of them
    record = summarize(items, answers)
    record.update(max_new_tokens=ANSWER_TOKENS, seconds=round(time.perf_counter() - started, 1))
    return record


def answer_system(
    project: Project, adapter: str, make_generator: Callable[[], Generator] | None
) -> AnswerSystem:
    """The raft+rag system for ``adapter``; a LoRA gets a base model of its own, since the
    project's cached one may hold an older adapter of the same name (``--force``)."""
    from ragtune.registry import generators, strategies

    def make() -> Generator:
        if make_generator is not None:
            return make_generator()
        from ragtune.finetune.adapters import adapter_dir, load_info
        from ragtune.generate.transformers_local import AdapterView, TransformersGenerator

        info = load_info(project, adapter)
        if info.method not in ("lora", "qlora"):  # an own model per adapter, as served
            return project.adapter_generator(adapter, "transformers")
        spec = "" if info.base_model == "packaged:smollm2" else info.base_model
        g = project.settings.generator.model_copy(update={"backend": "transformers", "model": spec})
        base = generators.create(
            "transformers", project.settings.model_copy(update={"generator": g})
        )
        assert isinstance(base, TransformersGenerator)
        return AdapterView(base, adapter, adapter_dir(project, adapter))

    system: AnswerSystem = strategies.create("raft+rag", project, make)
    system.options = system.options.merged({"max_new_tokens": ANSWER_TOKENS})
    system.adapter = adapter
    return system


def summarize(items: Sequence[Probe], answers: Sequence[Answer]) -> dict[str, Any]:
    """Counts and rates (None when there was nothing to ask) from probes and their answers;
    ``by_threshold``: refusals the retrieval threshold made before the model ran."""
    asked = [a for p, a in zip(items, answers, strict=True) if p.answerable]
    free = [a for p, a in zip(items, answers, strict=True) if not p.answerable]
    refused = [a for a in asked if a.abstained]
    kept_out = sum(a.abstained for a in free)
    return {
        "split": "validation",
        "answerable": len(asked),
        "false_abstentions": len(refused),
        "false_abstention": len(refused) / len(asked) if asked else None,
        "by_threshold": sum(a.finish_reason == "abstained" for a in refused),
        "oracle_free": len(free),
        "true_abstentions": kept_out,
        "true_abstention": kept_out / len(free) if free else None,
        "refused_examples": [a.question for a in refused[:3]],
    }


def judge(record: dict[str, Any], limit_pct: float | None) -> dict[str, Any]:
    """``record`` with the limit and ``passed`` (None: no limit, or nothing reached the
    model). The guard judges the adapter: refusals the retrieval threshold made before the
    model ran are the same for rag and raft+rag, so they are reported (``by_threshold``) but
    neither counted against the adapter nor fixed by more steps."""
    passed = None
    refused = record.get("false_abstentions", 0) - record.get("by_threshold", 0)
    reached = record.get("answerable", 0) - record.get("by_threshold", 0)
    if limit_pct is not None and reached > 0:
        # Counts, not the rate: 100 * (7 / 50) is 14.000000000000002, over a 14 % limit.
        passed = 100 * refused <= limit_pct * reached
    return {
        **record,
        "model_false_abstentions": refused,
        "model_false_abstention": refused / reached if reached > 0 else None,
        "max_false_abstention_pct": limit_pct,
        "passed": passed,
    }


def check_adapter(
    project: Project, config: TuneConfig, info: AdapterInfo, rows: Sequence[TrainingRow]
) -> None:
    """Measure a just-registered adapter, record the result in its metadata, then apply
    ``config.max_false_abstention``. Unlike ``--max-forgetting`` (checked before the adapter
    is registered) this runs after: the answers come from the registered adapter through
    raft+rag, and an over-refusing adapter is still worth a look; ``passed: false`` in its
    metadata marks it, and the pilot still compares it so the report shows the cost."""
    from ragtune.finetune.adapters import adapter_dir, save_metadata

    record = measure(project, config.name, rows, config.abstention_questions)
    info.abstention = judge(record, config.max_false_abstention)
    save_metadata(adapter_dir(project, config.name), info)
    check_limit(info)


def check_limit(info: AdapterInfo) -> None:
    """The ``--max-false-abstention`` guard: raise when the recorded check failed."""
    if info.abstention.get("passed") is False:
        raise FalseAbstentionError(info)


def describe(record: Mapping[str, Any]) -> str:
    """One line: ``refused 3/32 answerable validation questions (9 %, limit 10 %); ...``."""
    if not record:
        return "not measured"
    n, rate = record.get("answerable", 0), record.get("false_abstention")
    if rate is None:
        text = "no answerable validation questions to measure false abstention on"
    else:
        limit = record.get("max_false_abstention_pct")
        text = (
            f"refused {record['false_abstentions']}/{n} answerable validation questions "
            f"({100 * rate:.0f} %" + (f", limit {limit:g} %)" if limit is not None else ")")
        )
        if record.get("by_threshold"):
            reached = n - record["by_threshold"]
            text += (
                f"; {record['by_threshold']} of them by the retrieval abstention threshold "
                f"(not the adapter's), the adapter refused "
                f"{record.get('model_false_abstentions', '?')}/{reached} it answered"
            )
    if record.get("true_abstention") is not None:
        text += (
            f"; refused {record['true_abstentions']}/{record['oracle_free']} oracle-free "
            f"prompts ({100 * record['true_abstention']:.0f} %)"
        )
    return text
