"""Shared prompt prefixes evaluated once: the KV cache of the tokens every prompt of a batch
starts with (the chat template and system prompt; with few-shot prompts, the examples too)
is computed on one row, kept, and copied to each row of the batch.

Prompt evaluation is most of a RAG answer's CPU time (bench/NOTES.md, "generation"), and
every RAG prompt opens with the same ~48 tokens; the style check's prompted answers share
~90 % of their tokens. A batch then holds ``prefix | left padding | own tokens`` per row:
the attention mask hides the padding and transformers numbers positions from the mask, so
each row's own tokens continue at the prefix's length, as in the unsplit prompt. Example::

    cache = PrefixCache()
    n = cache.prefix_len(rows, state=None)        # 0: nothing worth sharing
    kv = cache.expanded(model, None, rows[0][:n], len(rows))
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from typing import Any

# Shorter shared prefixes save less than the extra forward pass and cache copy cost.
MIN_PREFIX = 16


def shared_prefix(rows: Sequence[Sequence[int]]) -> int:
    """How many leading tokens all ``rows`` share, leaving each row at least one of its own
    (generation needs a last prompt token to start from)."""
    limit = max(min(len(r) for r in rows) - 1, 0)
    first = rows[0]
    for i in range(limit):
        if any(r[i] != first[i] for r in rows[1:]):
            return i
    return limit


class PrefixCache:
    """KV caches of prompt prefixes for one model, by (weights state, prefix tokens); the
    state names what the weights are now (e.g. the merged adapter), since a prefix's keys
    and values change with them. The ``size`` most recently used are kept."""

    def __init__(self, size: int = 8) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Hashable, tuple[int, ...]], Any] = OrderedDict()

    def prefix_len(self, rows: Sequence[Sequence[int]], state: Hashable) -> int:
        """The prefix to share for ``rows`` (0 = none): what a batch's rows share; for a
        single row, the longest kept prefix it starts with."""
        if len(rows) > 1:
            n = shared_prefix(rows)
        else:
            row = tuple(rows[0])
            n = max(
                (len(p) for s, p in self._entries if s == state and len(p) < len(row)
                 and row[: len(p)] == p),
                default=0,
            )  # fmt: skip
        return n if n >= MIN_PREFIX else 0

    def expanded(self, model: Any, state: Hashable, prefix: Sequence[int], rows: int) -> Any:
        """A cache holding ``prefix``'s keys and values once per row, for ``generate``."""
        key = (state, tuple(prefix))
        if key in self._entries:
            self._entries.move_to_end(key)
        else:
            import torch

            with torch.inference_mode():
                out = model(input_ids=torch.tensor([list(prefix)]), use_cache=True)
            self._entries[key] = getattr(out, "cache", None) or out.past_key_values
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        cache = copy.deepcopy(self._entries[key])
        for layer in cache.layers:
            layer.batch_repeat_interleave(rows)
        return cache

    def clear(self) -> None:
        self._entries.clear()


def cache_argument(model: Any) -> str:
    """The keyword ``generate`` takes a cache by: ``cache`` in newer transformers,
    ``past_key_values`` before."""
    import inspect

    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # PEFT
    names = inspect.signature(base.prepare_inputs_for_generation).parameters
    return "cache" if "cache" in names else "past_key_values"
