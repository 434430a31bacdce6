"""Forgetting probe: does an adapter hurt what the base model could already do?

Two measurements on a small bundled probe (our own writing, ``probe/``): perplexity on a
general text, and accuracy on simple general-knowledge questions. Both run on the base model
and on the adapted one; the difference is stored in the adapter's metadata.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from ragtune.errors import RagtuneError
from ragtune.models import cache_dir


@dataclass(frozen=True)
class ProbeScore:
    perplexity: float
    accuracy: float


def probe_questions() -> list[dict[str, str]]:
    text = resources.files("ragtune.finetune.probe").joinpath("general_questions.jsonl")
    return [json.loads(line) for line in text.read_text(encoding="utf-8").splitlines() if line]


def probe_text() -> str:
    return resources.files("ragtune.finetune.probe").joinpath("general_text.txt").read_text()


def perplexity(model: Any, tokenizer: Any, text: str, max_tokens: int = 512) -> float:
    import torch

    ids = tokenizer(text, return_tensors="pt", add_special_tokens=False)["input_ids"][
        :, :max_tokens
    ]
    with torch.no_grad():
        loss = model(input_ids=ids, labels=ids).loss
    return float(math.exp(float(loss)))


def accuracy(model: Any, tokenizer: Any, system: str, max_new_tokens: int = 16) -> float:
    import torch

    questions = probe_questions()
    prompts = [
        tokenizer.apply_chat_template(
            [{"role": "system", "content": system}, {"role": "user", "content": q["question"]}],
            add_generation_prompt=True,
            tokenize=False,
        )
        for q in questions
    ]
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"
    try:
        enc = tokenizer(prompts, return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.no_grad():
            out = model.generate(
                **enc, max_new_tokens=max_new_tokens, do_sample=False,
                pad_token_id=tokenizer.pad_token_id,
            )  # fmt: skip
    finally:
        tokenizer.padding_side = side
    texts = tokenizer.batch_decode(out[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
    hits = 0
    for q, text in zip(questions, texts, strict=True):
        hits += any(alt.lower() in text.lower() for alt in q["answer"].split("|"))
    return hits / len(questions)


def score(model: Any, tokenizer: Any, system: str) -> ProbeScore:
    model.eval()
    return ProbeScore(
        perplexity(model, tokenizer, probe_text()), accuracy(model, tokenizer, system)
    )


def base_score(
    folder: Path, method: str, system: str, compute: Callable[[], ProbeScore]
) -> ProbeScore:
    """The base model's probe score, from the user cache when this model folder (same
    weight files), precision and system message were probed before: greedy decoding makes
    it the same every time, and every adapter trained on that base needs it."""
    path = cache_dir() / "probe" / f"{_probe_key(folder, method, system)}.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return ProbeScore(float(data["perplexity"]), float(data["accuracy"]))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # not cached yet (or unreadable): measure it
    score = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    tmp.write_text(json.dumps(asdict(score)), encoding="utf-8")
    tmp.replace(path)
    return score


def _probe_key(folder: Path, method: str, system: str) -> str:
    weights = sorted(
        (p.name, p.stat().st_size, p.stat().st_mtime_ns)
        for p in Path(folder).iterdir()
        if p.suffix in (".safetensors", ".bin", ".gguf")
    )
    data = {
        "version": 1,
        "folder": str(Path(folder).resolve()),
        "weights": weights,
        "precision": "4bit" if method == "qlora" else "fp32",
        "system": system,
        "text": probe_text(),
        "questions": probe_questions(),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:32]


def report(base: ProbeScore, adapted: ProbeScore) -> dict[str, float]:
    return {
        "base_perplexity": base.perplexity,
        "adapter_perplexity": adapted.perplexity,
        "perplexity_increase_pct": 100.0 * (adapted.perplexity / base.perplexity - 1.0),
        "base_accuracy": base.accuracy,
        "adapter_accuracy": adapted.accuracy,
        "accuracy_drop": base.accuracy - adapted.accuracy,
    }


def check_limit(name: str, result: dict[str, float], max_increase_pct: float | None) -> None:
    """Refuse an adapter whose probe perplexity rose more than ``max_increase_pct`` %."""
    if max_increase_pct is None or result["perplexity_increase_pct"] <= max_increase_pct:
        return
    raise RagtuneError(
        f"adapter {name!r} not registered: general-text perplexity rose "
        f"{result['perplexity_increase_pct']:.1f} % ({result['base_perplexity']:.2f} -> "
        f"{result['adapter_perplexity']:.2f}), over --max-forgetting {max_increase_pct:g} %; "
        f"probe accuracy {result['base_accuracy']:.2f} -> {result['adapter_accuracy']:.2f}",
        "lower the learning rate or epochs, or mix general examples into the data",
    )
