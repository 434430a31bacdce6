"""What one pilot run is asked to do: :class:`PilotConfig` (checked on construction), the
strategies and backends it knows, its adapters' names and the stages it will run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ragtune.builtin_strategies  # noqa: F401  (defines the built-in strategies)
import ragtune.strategy_table as strategy_table
from ragtune.errors import UsageError
from ragtune.finetune.config import PILOT_P_MISSING

KNOWLEDGE, STYLE, RAFT = "pilot-knowledge", "pilot-style", "pilot-raft"
# The adapter the pilot trains for each kind a strategy runs (strategy_table.adapter_kind).
ADAPTERS = {"knowledge": KNOWLEDGE, "raft": RAFT}
ALL = strategy_table.names(default_only=True)
# "" = the project's generator.backend. The openai backend cannot run our adapters.
BACKENDS = ("", "transformers", "llamacpp")


@dataclass
class PilotConfig:
    """The pilot's knobs. Defaults suit the packaged 135M model on 2 CPU cores."""

    docs: Path
    eval_file: Path | None = None
    update: Path | None = None
    style: Path | None = None
    profile: Path | None = None
    strategies: tuple[str, ...] = ALL
    questions: int = 0  # 0 = all; else a subset keeping changed and unanswerable ones
    max_new_tokens: int = 32
    knowledge_steps: int = 40
    style_steps: int = 24
    raft_steps: int = 24
    # Share of RAFT examples without the oracle passage (target: the abstention); see
    # ragtune.finetune.config.PILOT_P_MISSING for why it is 0.
    raft_missing: float = PILOT_P_MISSING
    k: int | None = None  # passages per prompt (retrieval.k); None = the project's setting
    threads: int = 0  # torch intra-op threads; 0 = auto (1 on a busy machine, else default)
    workers: int = 0  # parallel LoRA runs; 0 = auto (2 on an idle machine with >= 2 cores)
    seed: int = 0
    # Half compare's 2000, to keep the scoring stage short: on the demo's 36 questions no
    # interval end (f1, faithfulness, citations, contains) moved by more than 0.0044.
    resamples: int = 1000
    batch_size: int = 16  # questions per stored batch (see generator.batch_size)
    latency_sample: int = 8  # questions answered alone per strategy, for latency
    crossfit: bool = True  # abstention thresholds cross-fitted on the questions (compare)
    backend: str = ""  # generator for compare and the style check; "" = the project's
    ray: str = ""  # a Ray cluster for the jobs (ragtune.distributed.ray_pool); "" = local
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        runnable = [s for s in strategy_table.names() if _runnable(s)]
        unknown = [s for s in self.strategies if s not in runnable]
        if unknown:
            raise UsageError(
                f"unknown strategy {unknown[0]!r}", f"choose from {', '.join(runnable)}"
            )
        if not Path(self.docs).exists():
            raise UsageError(f"documents folder {self.docs} not found")
        for name in ("eval_file", "update", "style", "profile"):
            value = getattr(self, name)
            if value is not None and not Path(value).exists():
                raise UsageError(f"--{name.replace('_file', '')} {value} not found")
        if self.k is not None and self.k < 1:
            raise UsageError(f"--k must be >= 1, got {self.k}")
        if not 0.0 <= self.raft_missing <= 0.5:
            raise UsageError(f"--raft-missing must be between 0 and 0.5, got {self.raft_missing}")
        if self.questions < 0 or self.max_new_tokens < 1:
            raise UsageError("--questions must be >= 0 and --max-new-tokens >= 1")
        if self.backend not in BACKENDS:
            raise UsageError(f"unknown backend {self.backend!r}", "choose transformers or llamacpp")
        if self.backend == "llamacpp":
            check_llamacpp()


def check_llamacpp() -> None:
    """A clear error before any stage runs, not one after the LoRA runs."""
    import importlib.util

    if importlib.util.find_spec("llama_cpp") is None:
        raise UsageError(
            "--backend llamacpp needs llama-cpp-python, which is not installed",
            "run `make setup-llamacpp` (or pip install 'ragtune[llamacpp]'; it compiles "
            "llama.cpp, ~12 min once), or use --backend transformers",
        )


def _runnable(strategy: str) -> bool:
    """The pilot can run it: it needs no adapter, or one of a kind the pilot trains."""
    known = strategy_table.info(strategy)
    return known is not None and (not known.needs_adapter or known.adapter_kind in ADAPTERS)


def pilot_adapter(strategy: str) -> str | None:
    """The pilot's adapter a strategy runs (None: it runs none)."""
    known = strategy_table.info(strategy)
    if known is None or not known.needs_adapter or known.adapter_kind is None:
        return None
    return ADAPTERS.get(known.adapter_kind)


def uses(strategies: tuple[str, ...] | list[str], adapter: str) -> bool:
    """Whether any of ``strategies`` runs the pilot's ``adapter`` (so it must be trained)."""
    return any(pilot_adapter(s) == adapter for s in strategies)


def stage_names(config: PilotConfig) -> list[str]:
    names = ["ingest", "data"]
    if uses(config.strategies, KNOWLEDGE):
        names.append("tune knowledge LoRA")
    if config.style:
        names.append("tune style LoRA")
    if uses(config.strategies, RAFT):
        names.append("tune RAFT LoRA")
    names.append("compare")
    if config.style:
        names.append("style check")
    return [*names, "advise + report"]
