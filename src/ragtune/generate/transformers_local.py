"""transformers backend: any local causal LM folder or GGUF file (default: packaged SmolLM2).

Batched generation pads on the left, so every prompt's last token sits in the same column
and one forward pass per step serves the whole batch.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ragtune.config import Settings
from ragtune.errors import GenerationError
from ragtune.generate.base import Generation, GenerationOptions, Message, cut_at_stop
from ragtune.generate.prefix_cache import PrefixCache, cache_argument
from ragtune.registry import generators

# One decoding step of a batch costs about as much CPU time as evaluating this many prompt
# tokens (1 thread, SmolLM2-135M: a step 0.131 s, a prompt token 5.6 ms), whatever the batch
# size: each step streams all the weights once. See plan_batches.
DECODE_STEP_TOKENS = 24


def plan_batches(lengths: Sequence[int], batch_size: int, group_cost: float) -> list[list[int]]:
    """Prompt indices in the groups to generate together, at most ``batch_size`` each.

    A batch is left-padded to its longest prompt and every padded position costs a prompt
    token's work; each extra group costs one more run of decoding steps (``group_cost``, in
    prompt tokens). Prompts sorted by length are cut where that total is lowest (dynamic
    programming over the cut points), so a batch of similar lengths stays whole and one of a
    short unanswerable prompt next to long RAG prompts is split (on the sample pilot's RAG
    batches padding was 48 % of the prompt tokens)."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    sizes = [lengths[i] for i in order]
    best = [0.0] + [float("inf")] * len(sizes)
    cut = [0] * (len(sizes) + 1)
    for end in range(1, len(sizes) + 1):
        for start in range(end - 1, max(0, end - batch_size) - 1, -1):  # ties: full groups first
            cost = best[start] + (end - start) * sizes[end - 1] + group_cost
            if cost < best[end]:
                best[end], cut[end] = cost, start
    groups, end = [], len(sizes)
    while end > 0:
        groups.append(order[cut[end] : end])
        end = cut[end]
    return groups[::-1]


class TransformersGenerator:
    name = "transformers"

    def __init__(
        self,
        model: str = "",
        batch_size: int = 8,
        threads: int = 0,
        context_window: int = 0,
        share_prefix: bool = True,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        from ragtune.models import resolve_model

        self.spec = model
        self.path = resolve_model(model)  # fail fast on a missing or invalid model
        self.model_name = self.path.stem if self.path.is_file() else self.path.name
        self.batch_size = batch_size
        self.threads = threads
        self._context_override = context_window
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()  # one generate() at a time per loaded model
        self._adapters: dict[str, Path] = {}  # LoRA adapters sharing this base model
        self._merged: str | None = None  # the adapter folded into the base weights now
        self._pristine: dict[str, Any] = {}  # base weights of the adapted layers, unmerged
        # Shared prompt prefixes' keys and values (see ragtune.generate.prefix_cache).
        self._prefixes = PrefixCache() if share_prefix else None

    def _load(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from ragtune.models import hf_folder

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
        if self.threads:
            torch.set_num_threads(self.threads)
        folder: Path = hf_folder(self.spec)
        tokenizer = AutoTokenizer.from_pretrained(folder)
        tokenizer.padding_side = "left"
        if tokenizer.pad_token is None:
            tokenizer.pad_token = tokenizer.eos_token
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
        model.eval()
        self._tokenizer, self._model = tokenizer, model

    def add_adapter(self, name: str, path: Path) -> None:
        """Load a LoRA adapter next to the others; the base weights are loaded only once."""
        self._load()
        if name in self._adapters:
            return
        from peft import PeftModel

        with self._lock:
            self._unmerge()
            if isinstance(self._model, PeftModel):
                self._model.load_adapter(str(path), adapter_name=name)
            else:
                self._model = PeftModel.from_pretrained(self._model, str(path), adapter_name=name)
            self._model.eval()
            self._adapters[name] = path
            self._pristine = {}  # it may adapt more layers: saved again at the next merge

    def _activate(self, adapter: str | None) -> Any:
        """Select ``adapter`` (None = the bare base model); returns a context manager.

        The adapter is merged into the base weights and stays merged until another one (or
        the base) is asked for: an unmerged LoRA adds two small products to every adapted
        layer at every step (28 sample RAG answers with the knowledge LoRA: 76.6 s unmerged,
        61.1 s merged, same answers). Switching restores the saved base weights exactly, so
        the base model's answers never drift through merge/unmerge rounding."""
        import contextlib

        if adapter is not None and adapter not in self._adapters:
            raise GenerationError(f"adapter {adapter!r} is not loaded")
        if not self._adapters:
            return contextlib.nullcontext()
        if adapter is None:
            self._unmerge()
            return self._model.disable_adapter()
        if self._merged != adapter:
            self._unmerge()
            self._model.set_adapter(adapter)
            if self._is_lora(adapter):  # prefix / prompt tuning has nothing to merge
                self._save_pristine()
                self._model.merge_adapter()
                self._merged = adapter
        return contextlib.nullcontext()

    def _is_lora(self, adapter: str) -> bool:
        from peft import PeftType

        return getattr(self._model.peft_config.get(adapter), "peft_type", None) == PeftType.LORA

    def _adapted_layers(self) -> dict[str, Any]:
        from peft.tuners.lora import LoraLayer

        return {n: m for n, m in self._model.named_modules() if isinstance(m, LoraLayer)}

    def _save_pristine(self) -> None:
        if not self._pristine:
            self._pristine = {
                name: layer.get_base_layer().weight.detach().clone()
                for name, layer in self._adapted_layers().items()
            }

    def _unmerge(self) -> None:
        if self._merged is None:
            return
        import warnings

        import torch

        with warnings.catch_warnings():  # layers only another adapter adapts: "Already
            warnings.simplefilter("ignore", UserWarning)  # unmerged" from each, harmless
            self._model.unmerge_adapter()  # PEFT's bookkeeping; weights come from the copy
        with torch.no_grad():
            for name, layer in self._adapted_layers().items():
                layer.get_base_layer().weight.copy_(self._pristine[name])
        self._merged = None

    @property
    def tokenizer(self) -> Any:
        self._load()
        return self._tokenizer

    @property
    def context_window(self) -> int:
        if self._context_override:
            return self._context_override
        self._load()
        return int(getattr(self._model.config, "max_position_embeddings", 2048))

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def render(self, prompt: list[Message]) -> str:
        """The chat template applied; a model without one gets plain 'role: text' turns."""
        tok = self.tokenizer
        if tok.chat_template:
            return str(tok.apply_chat_template(prompt, add_generation_prompt=True, tokenize=False))
        turns = [f"{m['role'].capitalize()}: {m['content']}" for m in prompt]
        return "\n\n".join([*turns, "Assistant:"])

    def _generate_kwargs(self, options: GenerationOptions, prompt_width: int) -> dict[str, Any]:
        """``prompt_width``: the (left-padded) prompt length, where the answer starts."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": options.max_new_tokens,
            "pad_token_id": self.tokenizer.pad_token_id,
            "do_sample": not options.greedy,
        }
        if options.penalize_prompt or options.repetition_penalty == 1.0:
            kwargs["repetition_penalty"] = options.repetition_penalty
        else:
            from transformers import LogitsProcessorList, RepetitionPenaltyLogitsProcessor

            penalty = RepetitionPenaltyLogitsProcessor(
                options.repetition_penalty, prompt_ignore_length=prompt_width
            )
            kwargs.update(repetition_penalty=1.0, logits_processor=LogitsProcessorList([penalty]))
        if options.greedy:
            kwargs.update(temperature=None, top_p=None, top_k=None)
        else:
            kwargs.update(temperature=options.temperature, top_p=options.top_p)
        if options.stop:
            kwargs.update(stop_strings=list(options.stop), tokenizer=self.tokenizer)
        return kwargs

    def generate(
        self,
        prompts: Sequence[list[Message]],
        options: GenerationOptions,
        adapter: str | None = None,
    ) -> list[Generation]:
        """Generate for all prompts in batches of similar length (see ``plan_batches``), with
        a loaded LoRA ``adapter`` active (None = the base model)."""
        import torch

        self._load()
        texts = [self.render(p) for p in prompts]
        encoded = self._tokenizer(texts, add_special_tokens=False)["input_ids"]
        lengths = [len(ids) for ids in encoded]
        groups = plan_batches(lengths, self.batch_size, DECODE_STEP_TOKENS * options.max_new_tokens)
        results: list[Generation | None] = [None] * len(texts)
        # Prefix / prompt tuning feed their own cache to the model: no shared prefix there.
        state = adapter if adapter is None or self._is_lora(adapter) else False
        with self._lock, self._activate(adapter), torch.inference_mode():
            if not options.greedy:
                torch.manual_seed(options.seed)
            for idx in groups:
                rows = [encoded[i] for i in idx]
                for i, gen in zip(idx, self._batch(rows, options, state), strict=True):
                    results[i] = gen
        return [r for r in results if r is not None]

    def _batch(
        self, rows: list[list[int]], options: GenerationOptions, state: str | bool | None
    ) -> list[Generation]:
        """Generate for token ``rows`` together; ``state``: the adapter merged now (None =
        base weights), or False when no prefix may be shared (see ``prefix_cache``)."""
        import torch

        tok = self._tokenizer
        prefixes = self._prefixes if state is not False else None
        shared = prefixes.prefix_len(rows, state) if prefixes is not None else 0
        longest = max(len(r) for r in rows)
        pad = tok.pad_token_id
        ids = torch.tensor([r[:shared] + [pad] * (longest - len(r)) + r[shared:] for r in rows])
        mask = torch.tensor(
            [[1] * shared + [0] * (longest - len(r)) + [1] * (len(r) - shared) for r in rows]
        )
        kwargs = self._generate_kwargs(options, ids.shape[1])
        if prefixes is not None and shared:
            kwargs[cache_argument(self._model)] = prefixes.expanded(
                self._model, state, rows[0][:shared], len(rows)
            )
        started = time.perf_counter()
        try:
            out = self._model.generate(input_ids=ids, attention_mask=mask, **kwargs)
        except RuntimeError as exc:  # e.g. out of memory on a huge batch
            raise GenerationError(
                f"generation failed: {exc}", "lower generator.batch_size"
            ) from None
        seconds = time.perf_counter() - started
        width = ids.shape[1]
        eos = {tok.eos_token_id, tok.pad_token_id}
        generations = []
        for row, prompt in zip(out, rows, strict=True):
            new = row[width:].tolist()
            n_out = next((i + 1 for i, t in enumerate(new) if t in eos), len(new))
            text = tok.decode(new[:n_out], skip_special_tokens=True)
            text, stopped = cut_at_stop(text, options.stop)
            finished = stopped or (n_out < len(new) or (new and new[-1] in eos))
            generations.append(
                Generation(text.strip(), len(prompt), n_out, seconds,
                           "stop" if finished else "length")
            )  # fmt: skip
        return generations

    def stream(
        self, prompt: list[Message], options: GenerationOptions, adapter: str | None = None
    ) -> Iterator[str]:
        """Yield text pieces as they are decoded (one prompt). Closing the iterator early
        (the consumer stopped: a client went away) stops the model at its next step."""
        from transformers import StoppingCriteriaList, TextIteratorStreamer

        self._load()
        enc = self._tokenizer(self.render(prompt), return_tensors="pt", add_special_tokens=False)
        streamer = TextIteratorStreamer(self._tokenizer, skip_prompt=True, skip_special_tokens=True)
        width = enc["input_ids"].shape[1]
        halt = threading.Event()
        kwargs = {**enc, **self._generate_kwargs(options, width), "streamer": streamer,
                  "stopping_criteria": StoppingCriteriaList([_Halt(halt)])}  # fmt: skip
        errors: list[BaseException] = []

        def run() -> None:
            try:
                with self._lock, self._activate(adapter):
                    self._model.generate(**kwargs)
            except BaseException as exc:  # surfaced in the caller's thread below
                errors.append(exc)
                streamer.end()

        thread = threading.Thread(target=run, daemon=True)
        thread.start()
        emitted = ""
        try:
            for piece in streamer:
                candidate, stopped = cut_at_stop(emitted + piece, options.stop)
                if len(candidate) > len(emitted):
                    yield candidate[len(emitted) :]
                    emitted = candidate
                if stopped:
                    break
        finally:
            # Without this, an abandoned stream decoded on to max_new_tokens in the background,
            # holding the model lock: the next request waited for it.
            halt.set()
            thread.join()
        if errors:
            raise GenerationError(f"generation failed: {errors[0]}")


class _Halt:
    """A transformers stopping criterion: stop every sequence once ``event`` is set."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        stop = self.event.is_set()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


class AdapterView:
    """A :class:`Generator` that runs one LoRA adapter on a shared TransformersGenerator, so
    several adapters (one per department, say) share one copy of the base weights and are
    switched per request."""

    name = "transformers"

    def __init__(self, base: TransformersGenerator, adapter: str, path: Path) -> None:
        base.add_adapter(adapter, path)
        self.base = base
        self.adapter = adapter
        self.model_name = f"{base.model_name}+{adapter}"

    @property
    def context_window(self) -> int:
        return self.base.context_window

    def count_tokens(self, text: str) -> int:
        return self.base.count_tokens(text)

    def generate(
        self, prompts: Sequence[list[Message]], options: GenerationOptions
    ) -> list[Generation]:
        return self.base.generate(prompts, options, adapter=self.adapter)

    def stream(self, prompt: list[Message], options: GenerationOptions) -> Iterator[str]:
        return self.base.stream(prompt, options, adapter=self.adapter)


@generators.register("transformers")
def _make(settings: Settings) -> TransformersGenerator:
    g = settings.generator
    return TransformersGenerator(g.model, g.batch_size, g.threads, g.context_window)
