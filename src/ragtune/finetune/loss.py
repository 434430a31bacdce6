"""Causal-LM loss that projects only the labelled positions onto the vocabulary.

The default loss computes logits for every position, though only answer tokens carry labels
(the prompt, retrieved passages and padding are -100). With SmolLM2's 49k-token vocabulary
the projection and softmax over the other positions are a large share of a training step:
a RAFT example is ~500 tokens for a ~30-token answer. Selecting the positions first
(``logits_to_keep`` with a boolean mask, transformers >= 5) gives the same loss — the same
sum over the same tokens, divided by the same count — for less work. Example::

    loss, outputs = answer_loss(model, {"input_ids": ids, "attention_mask": mask, "labels": labels})
"""

from __future__ import annotations

from typing import Any

# Methods whose forward takes the sequence as is; prompt learning (prefix, prompt tuning)
# prepends virtual tokens inside PEFT, so a mask over the input positions would not fit.
METHODS = ("lora", "qlora", "full")


def labelled_positions(labels: Any) -> Any:
    """Positions whose *next* token has a label: the ones whose logits the loss reads."""
    import torch

    keep = torch.zeros_like(labels, dtype=torch.bool)
    keep[:, :-1] = labels[:, 1:] != -100
    return keep


def answer_loss(
    model: Any, inputs: dict[str, Any], num_items_in_batch: Any = None
) -> tuple[Any, Any]:
    """(loss, model outputs). The loss is next-token cross-entropy over the labelled tokens
    as transformers computes it: summed, then divided by ``num_items_in_batch`` when the
    Trainer passes it (gradient accumulation), else by this batch's labelled-token count."""
    import torch.nn.functional as F

    labels = inputs["labels"]
    keep = labelled_positions(labels)
    rest = {k: v for k, v in inputs.items() if k != "labels"}
    out = model(**rest, logits_to_keep=keep, use_cache=False)
    targets = labels[:, 1:][keep[:, :-1]]
    total = F.cross_entropy(out.logits.float(), targets, reduction="sum")
    count = num_items_in_batch if num_items_in_batch is not None else targets.numel()
    if isinstance(count, int):
        return total / max(count, 1), out
    return total / count.to(total.device).clamp(min=1), out
