"""Profile files: formats, defaults and one-line errors that name the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from ragtune.advisor.profile import Profile, load_profile, resolve_profile
from ragtune.errors import UsageError


def test_toml_json_yaml_load(tmp_path: Path) -> None:
    (tmp_path / "p.toml").write_text('[profile]\nneed = "both"\nlabelled_examples = 40\n')
    (tmp_path / "p.json").write_text('{"knowledge_change": "daily"}')
    (tmp_path / "p.yaml").write_text("citations_required: false\n")
    assert load_profile(tmp_path / "p.toml").need == "both"
    assert load_profile(tmp_path / "p.json").needs_fresh_knowledge
    assert load_profile(tmp_path / "p.yaml").citations_required is False


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ('need = "vibes"', "need"),
        ("labelled_examples = -3", "labelled_examples"),
        ("latency = 3", "latency"),  # unknown field: the hint lists the known ones
        ("need = ", "cannot parse"),
    ],
)
def test_bad_profiles_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text + "\n")
    with pytest.raises(UsageError) as exc:
        load_profile(path)
    assert needle in str(exc.value) and "\n" not in str(exc.value)


def test_missing_file_and_unknown_suffix(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="not found"):
        load_profile(tmp_path / "nope.toml")
    (tmp_path / "p.ini").write_text("x")
    with pytest.raises(UsageError, match="unknown format"):
        load_profile(tmp_path / "p.ini")


def test_no_file_and_no_terminal_gives_defaults() -> None:
    profile, source = resolve_profile(None)  # pytest's stdin is not a terminal
    assert profile == Profile.model_validate({}) and "defaults" in source


def test_interactive_answers_are_validated() -> None:
    from click.testing import CliRunner

    from ragtune.advisor.profile import ask_profile

    answers = "daily\nn\nboth\n120\n3000\ngeneral\n50000\n25\n"
    with CliRunner().isolation(input=answers):
        profile = ask_profile()
    assert profile.knowledge_change == "daily" and profile.citations_required is False
    assert profile.labelled_examples == 120 and profile.monthly_budget_usd == 25.0
