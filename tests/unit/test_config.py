import re
from pathlib import Path

import pytest

from ragtune.config import Settings, default_toml
from ragtune.errors import ConfigError
from ragtune.registry import Registry


def test_defaults() -> None:
    s = Settings.load(None)
    assert s.retrieval.mode == "hybrid" and s.chunking.size == 192


def test_toml_then_env_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ragtune.toml").write_text('[retrieval]\nmode = "bm25"\nk = 7\n')
    s = Settings.load(tmp_path)
    assert s.retrieval.mode == "bm25" and s.retrieval.k == 7
    monkeypatch.setenv("RAGTUNE_RETRIEVAL__MODE", "dense")
    assert Settings.load(tmp_path).retrieval.mode == "dense"


def test_unknown_key_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "ragtune.toml").write_text("[retrieval]\nmood = 1\n")
    with pytest.raises(ConfigError, match=r"retrieval\.mood"):
        Settings.load(tmp_path)


def test_impossible_combination(tmp_path: Path) -> None:
    (tmp_path / "ragtune.toml").write_text("[chunking]\nsize = 50\noverlap = 60\n")
    with pytest.raises(ConfigError, match="overlap"):
        Settings.load(tmp_path)


def test_broken_toml(tmp_path: Path) -> None:
    (tmp_path / "ragtune.toml").write_text("[retrieval\n")
    with pytest.raises(ConfigError, match=r"ragtune\.toml"):
        Settings.load(tmp_path)


def test_default_toml_is_valid_and_commented(tmp_path: Path) -> None:
    text = default_toml()
    assert '# mode = "hybrid"' in text
    (tmp_path / "ragtune.toml").write_text(text)
    assert Settings.load(tmp_path).model_dump() == Settings.load(None).model_dump()


def test_registry_lists_choices() -> None:
    reg: Registry[int] = Registry("thing")
    reg.register("one")(lambda: 1)
    assert reg.create("one") == 1
    with pytest.raises(ConfigError, match="choose one of: one"):
        reg.create("two")


def test_default_toml_uncommented_gives_the_defaults(tmp_path: Path) -> None:
    """Every commented default is valid TOML for its key (a stop of "\\n\\n" stays escaped)."""
    setting = re.compile(r"^# ([a-z][a-z_0-9]* = .*)$")
    lines = []
    for line in default_toml().splitlines():
        if (m := setting.match(line)) and "(unset)" not in line:
            lines.append(m.group(1))
        elif line.startswith("["):
            lines.append(line)
    (tmp_path / "ragtune.toml").write_text("\n".join(lines) + "\n")
    assert 'stop = ["\\n\\n"]' in lines
    assert Settings.load(tmp_path).model_dump() == Settings.load(None).model_dump()
