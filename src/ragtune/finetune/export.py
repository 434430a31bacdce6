"""``adapters export-gguf``: a LoRA adapter as a GGUF file for llama.cpp (``lora_path``).

The converter is llama.cpp's own ``convert_lora_to_gguf.py``. It is not in the
llama-cpp-python wheel, so the first export fetches the matching llama-cpp-python sdist from
the package registry and keeps just the converter, its ``conversion`` package and ``gguf-py``
in the cache folder.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ragtune.errors import ModelUnavailableError, RagtuneError
from ragtune.finetune.adapters import adapter_dir, load_info
from ragtune.models import cache_dir, hf_folder

if TYPE_CHECKING:
    from ragtune.project import Project

GGUF_NAME = "adapter.gguf"
_KEEP = ("convert_lora_to_gguf.py", "convert_hf_to_gguf.py", "conversion/", "gguf-py/")


def llama_cpp_version() -> str:
    try:
        return importlib.metadata.version("llama-cpp-python")
    except importlib.metadata.PackageNotFoundError:
        raise ModelUnavailableError(
            "exporting to GGUF needs the llamacpp extra",
            "pip install 'ragtune[llamacpp]' (compiles llama.cpp, ~12 min)",
        ) from None


def converter_dir(say: Callable[[str], None] | None = None) -> Path:
    """Folder holding llama.cpp's LoRA converter for the installed llama-cpp-python."""
    version = llama_cpp_version()
    target = cache_dir() / f"llama.cpp-{version}"
    if (target / "convert_lora_to_gguf.py").exists():
        return target
    (say or _stderr)(f"Fetching llama.cpp's converter (llama-cpp-python {version} sdist, once) ...")
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--no-binary", ":all:", f"llama-cpp-python=={version}", "-d", tmp]  # fmt: skip
        if subprocess.run(cmd, capture_output=True, text=True).returncode != 0:
            raise RagtuneError(
                f"could not download the llama-cpp-python {version} sdist",
                "check access to the package registry",
            )
        sdist = next(Path(tmp).glob("llama_cpp_python-*.tar.gz"))
        prefix = f"{sdist.name.removesuffix('.tar.gz')}/vendor/llama.cpp/"
        cache_dir().mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache_dir()))  # same filesystem: atomic rename
        with tarfile.open(sdist) as tar:
            members = [m for m in tar.getmembers() if m.name.startswith(prefix)
                       and m.name[len(prefix):].startswith(_KEEP)]  # fmt: skip
            for member in members:
                member.name = member.name[len(prefix) :]
            tar.extractall(staging, members=members, filter="data")
        os.replace(staging, target)
    return target


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def export_gguf(project: Project, name: str, out: Path | None = None) -> Path:
    """Convert LoRA adapter ``name`` to GGUF (default: inside the adapter folder)."""
    info = load_info(project, name)
    if info.method not in ("lora", "qlora"):
        raise RagtuneError(f"only LoRA adapters convert to GGUF; {name!r} is {info.method}")
    tools = converter_dir()
    spec = "" if info.base_model == "packaged:smollm2" else info.base_model
    out = out or adapter_dir(project, name) / GGUF_NAME
    cmd = [sys.executable, str(tools / "convert_lora_to_gguf.py"), "--base", str(hf_folder(spec)),
           "--outfile", str(out), str(adapter_dir(project, name))]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(tools / "gguf-py")}
    done = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if done.returncode != 0 or not out.exists():
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise RagtuneError(f"GGUF conversion of {name!r} failed: {tail[0]}")
    return out


def ensure_gguf(project: Project, name: str) -> Path:
    """The adapter's GGUF export, converted again when the adapter was saved after it."""
    folder = adapter_dir(project, name)
    gguf = folder / GGUF_NAME
    weights = [p for p in folder.glob("adapter_model.*") if p.is_file()]
    newest = max((p.stat().st_mtime for p in weights), default=0.0)
    if gguf.is_file() and gguf.stat().st_mtime >= newest:
        return gguf
    return export_gguf(project, name)
