"""TuneConfig: everything one training run needs, validated up front.

Defaults are for the packaged 135M model on 2 CPU cores: LoRA on all linear layers (on
attention alone it barely moved facts here), dynamic padding, a few epochs with early stopping.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any

from ragtune.errors import ConfigError

METHODS = ("lora", "qlora", "prefix", "prompt", "full")
DEFAULT_LR = {"lora": 5e-4, "qlora": 5e-4, "prefix": 5e-3, "prompt": 3e-2, "full": 5e-5}
# issue 20: raft+rag may refuse at most 10 % of answerable questions (ragtune.finetune.abstention)
MAX_FALSE_ABSTENTION = 10.0
# Answerable validation questions the check asks (and a quarter as many oracle-free prompts):
# 8 prompts of ~680 tokens took 36 s on 1 busy thread, so 40 RAFT prompts take ~1-3 min.
ABSTENTION_QUESTIONS = 32
# Share of RAFT examples, per split, without the oracle passage (their target: the
# abstention) for `data build --raft`. 0.2 taught the packaged 135M model to refuse 65 % of
# answerable Python FAQ questions in the pilot (raft+rag token F1 0.19); 0.1 refused none
# and scored 0.57 (bench/NOTES.md, "RAFT recipe on real documentation").
DEFAULT_P_MISSING = 0.1
# The pilot trains no refusal at all: at 0.1 the packaged model refused 0 of 8 (Python FAQ)
# and 1 of 8 (Django FAQ) oracle-free validation prompts, so it had not learnt *when* to
# refuse, only to refuse now and then: 43 % of answerable Django questions in compare (token
# F1 0.24). With 0.0 the same run refused none and scored 0.57; unanswerable questions are
# still declined by the retrieval threshold, as rag's are (bench/NOTES.md, "RAFT recipe").
PILOT_P_MISSING = 0.0
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


@dataclass
class TuneConfig:
    """One training run. ``learning_rate=0`` picks the method's default."""

    name: str
    method: str = "lora"
    dataset: str = "default"
    kinds: tuple[str, ...] = ("qa", "style", "import", "raw")
    epochs: float = 3.0
    max_steps: int = -1  # > 0 overrides epochs (handy for smoke tests)
    learning_rate: float = 0.0
    batch_size: int = 4
    grad_accum: int = 1
    max_length: int = 256
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    target_modules: tuple[str, ...] = ("all-linear",)
    # LoRA on the top N transformer layers only (0 = all): backpropagation then stops at
    # the lowest adapted layer, so the layers below cost a forward pass and no backward.
    top_layers: int = 0
    virtual_tokens: int = 16
    early_stopping_patience: int = 2
    group_lengths: bool = True  # batches of similar length (ragtune.finetune.sampler)
    seed: int = 0
    base_model: str = ""  # "" = the packaged SmolLM2
    max_forgetting: float | None = None  # max % rise of probe perplexity; None = no limit
    # Max % of answerable validation questions the adapter may refuse (CANNOT_ANSWER); checked
    # only when the training data has abstention targets (RAFT); None = measured, no limit.
    max_false_abstention: float | None = MAX_FALSE_ABSTENTION
    abstention_questions: int = ABSTENTION_QUESTIONS
    abstention_dataset: str = ""  # whose validation split is asked; "" = dataset
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ConfigError(
                f"invalid adapter name {self.name!r}",
                "use letters, digits, '.', '_' or '-', up to 64 characters",
            )
        if self.method not in METHODS:
            raise ConfigError(
                f"unknown method {self.method!r}", f"choose one of: {', '.join(METHODS)}"
            )
        checks = [
            (self.epochs > 0 or self.max_steps > 0, "epochs must be > 0"),
            (self.batch_size >= 1, "batch_size must be >= 1"),
            (self.grad_accum >= 1, "grad_accum must be >= 1"),
            (32 <= self.max_length <= 8192, "max_length must be in [32, 8192]"),
            (self.lora_r >= 1, "lora_r must be >= 1"),
            (self.top_layers >= 0, "top_layers must be >= 0 (0 = every layer)"),
            (0 <= self.lora_dropout < 1, "lora_dropout must be in [0, 1)"),
            (self.virtual_tokens >= 1, "virtual_tokens must be >= 1"),
            (self.learning_rate >= 0, "learning_rate must be >= 0"),
            (bool(self.kinds), "kinds must not be empty"),
            (
                self.max_false_abstention is None or 0 <= self.max_false_abstention <= 100,
                f"max_false_abstention must be in [0, 100] %, got {self.max_false_abstention}",
            ),
            (self.abstention_questions >= 1, "abstention_questions must be >= 1"),
        ]
        for ok, message in checks:
            if not ok:
                raise ConfigError(message)
        if self.learning_rate == 0:
            self.learning_rate = DEFAULT_LR[self.method]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        data["target_modules"] = list(self.target_modules)
        return data
