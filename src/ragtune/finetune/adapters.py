"""The adapter registry: ``.ragtune/adapters/NAME/`` is a plain PEFT folder (loadable by
``PeftModel.from_pretrained`` alone) plus ``ragtune.json`` with how it was made."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ragtune.errors import NotFoundError, RagtuneError
from ragtune.types import SCHEMA_VERSION

if TYPE_CHECKING:
    from ragtune.project import Project

META_FILE = "ragtune.json"


@dataclass
class AdapterInfo:
    name: str
    method: str
    base_model: str
    base_model_path: str
    dataset: str
    dataset_hash: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    train_losses: list[float] = field(default_factory=list)
    eval_losses: list[float] = field(default_factory=list)
    steps: int = 0
    epochs: float = 0.0
    train_examples: int = 0
    wall_time_s: float = 0.0
    tokens_per_s: float = 0.0
    peak_rss_mb: float = 0.0
    forgetting: dict[str, float] = field(default_factory=dict)
    # False/true abstention on validation (ragtune.finetune.abstention); {} = data without
    # abstention targets. "passed": false marks an adapter saved despite failing the guard.
    abstention: dict[str, Any] = field(default_factory=dict)
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    ragtune_version: str = ""
    schema_version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        if not self.ragtune_version:
            from ragtune.version import __version__

            self.ragtune_version = __version__

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AdapterInfo:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def adapters_root(project: Project) -> Path:
    return project.paths.adapters


def adapter_dir(project: Project, name: str) -> Path:
    return adapters_root(project) / name


def save_metadata(folder: Path, info: AdapterInfo) -> None:
    # Written aside, then renamed: a kill mid-write must not leave a torn ragtune.json that
    # makes `adapters list` fail (the abstention check rewrites it in a registered adapter).
    tmp = folder / f".{META_FILE}.{os.getpid()}"
    tmp.write_text(json.dumps(info.to_dict(), indent=2, sort_keys=True))
    os.replace(tmp, folder / META_FILE)


def install(tmp: Path, out_dir: Path) -> None:
    """Put the fully written adapter folder ``tmp`` in the registry as ``out_dir``.

    A folder cannot be renamed over a non-empty one, and deleting the old adapter first
    would let a kill leave a half-deleted one listed (its ragtune.json outliving its
    weights). So the old folder is renamed aside, the new one renamed in, and the old one
    deleted. A kill between the two renames leaves only ``.NAME.old``: :func:`_recover`
    puts it back, so the registry holds the old adapter or the new one, never neither."""
    old = _old_dir(out_dir)
    shutil.rmtree(old, ignore_errors=True)
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _old_dir(out_dir: Path) -> Path:
    return out_dir.with_name(f".{out_dir.name}.old")


def _recover(folder: Path) -> None:
    """Undo an :func:`install` killed between its two renames (see there)."""
    old = _old_dir(folder)
    if not folder.exists() and (old / META_FILE).is_file():
        with contextlib.suppress(OSError):  # another process recovered it first
            os.replace(old, folder)


def load_info(project: Project, name: str) -> AdapterInfo:
    _recover(adapter_dir(project, name))
    path = adapter_dir(project, name) / META_FILE
    if not path.exists():
        raise NotFoundError(f"no adapter named {name!r}", "see `ragtune adapters list`")
    try:
        return AdapterInfo.from_dict(json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise RagtuneError(f"adapter {name!r} has unreadable metadata: {exc}") from None


def list_adapters(project: Project) -> list[AdapterInfo]:
    root = adapters_root(project)
    if not root.exists():
        return []
    for old in root.glob(".*.old"):
        _recover(old.with_name(old.name[1:-4]))
    # Hidden folders are an adapter being written (.NAME.tmp) or replaced (.NAME.old): a
    # finished-looking ragtune.json inside them is not a registered adapter.
    return [
        load_info(project, p.name)
        for p in sorted(root.iterdir())
        if not p.name.startswith(".") and (p / META_FILE).exists()
    ]


def remove_adapter(project: Project, name: str) -> None:
    load_info(project, name)
    shutil.rmtree(adapter_dir(project, name))
    shutil.rmtree(project.paths.run(name), ignore_errors=True)


def check_base(info: AdapterInfo, folder: Path) -> None:
    """An adapter only fits the model it was trained on (shapes and meaning of weights)."""
    import json as _json

    want = Path(info.base_model_path) / "config.json"
    have = folder / "config.json"
    keys = ("model_type", "hidden_size", "num_hidden_layers", "vocab_size")
    try:
        a, b = _json.loads(want.read_text()), _json.loads(have.read_text())
    except OSError:
        return  # the original folder moved; shapes are still checked when PEFT loads
    if [a.get(k) for k in keys] != [b.get(k) for k in keys]:
        raise RagtuneError(
            f"adapter {info.name!r} was trained on {info.base_model} "
            f"({a.get('model_type')}, hidden {a.get('hidden_size')}), not on this base model "
            f"({b.get('model_type')}, hidden {b.get('hidden_size')})",
            "use the base model it was trained on, or train a new adapter",
        )
