"""The advice profile: the practitioner's decision questions, answered once per project.

A profile is a small TOML, JSON or YAML file (every field optional; defaults below) or the
answers to interactive prompts, asked only when stdin is a terminal. Example::

    # profile.toml
    knowledge_change = "weekly"     # static | yearly | monthly | weekly | daily
    citations_required = true
    need = "both"                   # knowledge | style | both
    labelled_examples = 40
    latency_budget_ms = 3000        # p95 per answer
    domain = "specialised"          # general | specialised | highly_specialised
    queries_per_month = 20000
    monthly_budget_usd = 50

    profile = load_profile("profile.toml")        # UsageError naming the bad field
    profile.needs_fresh_knowledge                 # True (weekly)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ragtune.errors import UsageError

Change = Literal["static", "yearly", "monthly", "weekly", "daily"]
Need = Literal["knowledge", "style", "both"]
Domain = Literal["general", "specialised", "highly_specialised"]
FAST_CHANGE = ("weekly", "daily")


class Profile(BaseModel):
    """Answers to the decision steps; each field's description is its prompt."""

    model_config = ConfigDict(extra="forbid")

    knowledge_change: Change = Field("monthly", description="How often does the knowledge change?")
    citations_required: bool = Field(True, description="Are source citations required?")
    need: Need = Field(
        "knowledge", description="Is the need knowledge (facts), style (behaviour) or both?"
    )
    labelled_examples: int = Field(
        0, ge=0, description="How many curated, labelled question-answer examples exist?"
    )
    latency_budget_ms: int = Field(
        5000, gt=0, description="Latency budget per answer (p95, milliseconds)?"
    )
    domain: Domain = Field("specialised", description="How specialised is the domain?")
    queries_per_month: int = Field(10000, ge=0, description="Expected queries per month?")
    monthly_budget_usd: float | None = Field(
        None, ge=0, description="Monthly budget for serving, USD (empty = no limit)?"
    )

    @property
    def needs_fresh_knowledge(self) -> bool:
        return self.knowledge_change in FAST_CHANGE

    @property
    def wants_style(self) -> bool:
        return self.need in ("style", "both")

    @property
    def wants_knowledge(self) -> bool:
        return self.need in ("knowledge", "both")


def _parse(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return json.loads(text)
    if suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text) or {}
    if suffix == ".toml":
        import tomllib

        data = tomllib.loads(text)
        return data.get("profile", data)  # a [profile] table or top-level keys
    raise UsageError(f"profile {path}: unknown format {suffix!r}", "use .toml, .json or .yaml")


def load_profile(path: Path | str) -> Profile:
    """Read and validate a profile file; every problem is one line naming the field."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"profile {path} not found", "pass an existing --profile FILE")
    try:
        data = _parse(path)
    except UsageError:
        raise
    except Exception as exc:  # json, yaml and toml raise different types
        raise UsageError(f"profile {path}: cannot parse ({exc})") from None
    if not isinstance(data, dict):
        raise UsageError(f"profile {path}: expected a table of answers, got {type(data).__name__}")
    return validate_profile(data, str(path))


def validate_profile(data: dict[str, Any], where: str = "profile") -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "(root)"
        known = ", ".join(Profile.model_fields)
        hint = f"fields: {known}" if first["type"] == "extra_forbidden" else None
        raise UsageError(f"{where}: {field}: {first['msg']}", hint) from None


def _choices(annotation: Any) -> list[str] | None:
    args = getattr(annotation, "__args__", None)
    return [str(a) for a in args] if args and all(isinstance(a, str) for a in args) else None


def ask_profile(defaults: Profile | None = None) -> Profile:
    """Prompt for each answer (click), starting from ``defaults``; only call on a TTY."""
    import click

    base = (defaults or Profile.model_validate({})).model_dump()
    answers: dict[str, Any] = {}
    for name, info in Profile.model_fields.items():
        choices = _choices(info.annotation)
        default = base[name]
        if choices:
            kind: Any = click.Choice(choices)
        elif isinstance(default, bool):
            kind = bool
        elif name == "monthly_budget_usd":
            value = click.prompt(info.description or name, default="", show_default=False)
            answers[name] = float(value) if str(value).strip() else None
            continue
        else:
            kind = int
        answers[name] = click.prompt(info.description or name, default=default, type=kind)
    return validate_profile(answers, "answers")


def interactive() -> bool:
    return sys.stdin is not None and sys.stdin.isatty()


def resolve_profile(path: Path | str | None, prompt: bool = True) -> tuple[Profile, str]:
    """(profile, where it came from): the file, else prompts on a TTY, else the defaults."""
    if path:
        return load_profile(path), str(path)
    if prompt and interactive():
        return ask_profile(), "interactive answers"
    return Profile.model_validate({}), "defaults (no --profile, stdin is not a terminal)"
