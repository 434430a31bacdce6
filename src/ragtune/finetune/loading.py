"""Running a registered adapter: which backend runs which kind of adapter, what is shared
between them (LoRA adapters switch per request on one base model; prefix, prompt and full
ones get a model of their own), and loading one into PEFT to merge it. Example::

    gen = generator(project, "pilot-knowledge")          # or project.adapter_generator(...)
    merge_adapter(project, "pilot-knowledge", Path("merged"))   # a standalone HF folder
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import RagtuneError, UsageError
from ragtune.finetune.adapters import adapter_dir, check_base, load_info

if TYPE_CHECKING:
    from ragtune.generate.base import Generator
    from ragtune.project import Project


def generator(project: Project, adapter: str, backend: str | None = None) -> Generator:
    """A generator running a registered adapter. LoRA adapters share one base model and
    are switched per request; prefix/prompt/full ones get their own model."""
    from ragtune.generate.transformers_local import AdapterView, TransformersGenerator
    from ragtune.models import hf_folder

    info = load_info(project, adapter)
    spec = "" if info.base_model == "packaged:smollm2" else info.base_model
    path = adapter_dir(project, adapter)
    if info.method != "full":
        check_base(info, hf_folder(spec))  # a clear error, not a tensor-shape traceback
    backend = backend or project.settings.generator.backend
    if backend == "llamacpp":
        return _llamacpp(project, adapter, spec, path)
    if backend == "openai":
        # The server runs the adapter, asked for by its registry name: vLLM serves it
        # with `--enable-lora --lora-modules NAME=.ragtune/adapters/NAME`.
        if info.method not in ("lora", "qlora"):
            raise UsageError(
                f"adapter {adapter!r} is {info.method}: an OpenAI-compatible server "
                "serves LoRA adapters only", "use --backend transformers",
            )  # fmt: skip
        return project.generator("openai", adapter)
    if backend != "transformers":
        raise UsageError(
            f"adapters run on the transformers, llamacpp or openai backend, not {backend}",
            "use --backend transformers",
        )
    if info.method in ("lora", "qlora"):
        base = project.generator("transformers", spec)
        if not isinstance(base, TransformersGenerator):
            raise UsageError(f"adapter {adapter!r} needs the transformers backend")
        return AdapterView(base, adapter, path)
    cache: dict[str, Generator] = project.__dict__.setdefault("_own_adapters", {})
    if adapter not in cache:
        g = project.settings.generator
        if info.method == "full":
            cache[adapter] = TransformersGenerator(str(path), g.batch_size, g.threads)
        else:
            own = TransformersGenerator(spec, g.batch_size, g.threads)
            own.add_adapter(adapter, path)
            cache[adapter] = AdapterView(own, adapter, path)
    return cache[adapter]


def _llamacpp(project: Project, adapter: str, spec: str, path: Path) -> Generator:
    from ragtune.finetune.export import GGUF_NAME
    from ragtune.generate.llamacpp import LlamaCppGenerator

    gguf = path / GGUF_NAME
    if not gguf.exists():
        raise UsageError(
            f"adapter {adapter!r} has no GGUF export for llama.cpp",
            f"run `ragtune adapters export-gguf {adapter}` first",
        )
    g = project.settings.generator
    gen = LlamaCppGenerator(spec, g.threads, g.context_window, lora_path=str(gguf))
    gen.model_name = f"{gen.model_name}+{adapter}"
    return gen


def merge_adapter(project: Project, name: str, out: Path) -> Path:
    """Fold a LoRA adapter into the base weights: a standalone HF model folder."""
    info = load_info(project, name)
    if info.method not in ("lora", "qlora"):
        raise RagtuneError(f"only LoRA adapters can be merged; {name!r} is {info.method}")
    if out.exists() and any(out.iterdir()):
        raise RagtuneError(f"{out} exists and is not empty", "choose an empty folder")
    model, tokenizer = load_with_adapter(project, name)
    merged = model.merge_and_unload()
    merged.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def load_with_adapter(project: Project, name: str) -> tuple[Any, Any]:
    """(PeftModel on its base, tokenizer); refuses an adapter made for another base."""
    from peft import PeftModel

    from ragtune.finetune.train import load_base

    info = load_info(project, name)
    spec = "" if info.base_model == "packaged:smollm2" else info.base_model
    base, tokenizer, folder = load_base(spec, "lora")
    check_base(info, folder)
    return PeftModel.from_pretrained(base, adapter_dir(project, name)), tokenizer
