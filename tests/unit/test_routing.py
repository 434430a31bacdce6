"""Routing: request field or document metadata -> adapter; unknown values fall back, logged."""

import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.conftest import write
from tests.helpers.fakes import QueuedGenerator

from ragtune.cli.main import cli
from ragtune.config import RoutingSettings, Settings
from ragtune.errors import ConfigError, UsageError
from ragtune.generate.base import GenerationOptions
from ragtune.generate.prompts import PromptBuilder
from ragtune.project import Project
from ragtune.routing import Route, Router, strategy_for
from ragtune.strategies import AnswerSystem

ROUTES = {"hr": "hr-lora", "it": "it-lora"}


@pytest.fixture
def project(hash_project: Project, tmp_path: Path) -> Project:
    write(tmp_path / "d" / "leave.md", "---\ndepartment: hr\n---\n# Leave\n\nNew hires get 25 "
          "days of annual leave.\n")  # fmt: skip
    write(tmp_path / "d" / "vpn.md", "---\ndepartment: it\n---\n# VPN\n\nThe VPN uses port 443.\n")
    write(tmp_path / "d" / "misc.md", "# Canteen\n\nThe canteen opens at noon.\n")
    hash_project.ingest([tmp_path / "d"])
    return hash_project


def router(project: Project, built: list[tuple[str, str]], **settings: Any) -> Router:
    """A router whose systems answer with the adapter's name, so outputs differ."""

    def make(strategy: str, adapter: str) -> AnswerSystem:
        built.append((strategy, adapter))
        gen = QueuedGenerator([f"answer from {adapter or 'base'} [1]."] * 3)
        builder = PromptBuilder(gen.count_tokens, 4096, 64, "SYS", "BASE", 500)
        retriever = None if strategy in ("base", "ft") else project.retriever
        return AnswerSystem(strategy, gen, builder, GenerationOptions(), retriever, k=2,
                            adapter=adapter)  # fmt: skip

    return Router(project, RoutingSettings(**settings), systems=make, check=False)


def test_request_field_picks_the_mapped_adapter(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    built: list[tuple[str, str]] = []
    r = router(project, built, field="department", routes=ROUTES, default="it-lora")
    assert r.resolve({"department": "hr"}) == Route("hr-lora", "department", "hr", True, "request")
    route, answer = r.answer("How much leave do new hires get?", {"department": "hr"})
    assert answer.text == "answer from hr-lora [1]." and answer.adapter == "hr-lora"
    assert answer.strategy == "ft+rag" and built[-1] == ("ft+rag", "hr-lora")
    assert answer.citations and answer.citations[0].doc_id == "leave.md"
    with caplog.at_level(logging.WARNING, logger="ragtune.routing"):
        route, answer = r.answer("leave", {"department": "legal"})
    assert (route.adapter, route.matched, route.value) == ("it-lora", False, "legal")
    assert "no route for department='legal'" in caplog.text and "'it-lora'" in caplog.text
    assert answer.text == "answer from it-lora [1]."
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ragtune.routing"):
        route, _ = r.answer("leave")  # no department at all
    assert route.value is None and "department=None" in caplog.text


def test_unknown_route_without_default_is_plain_rag(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    built: list[tuple[str, str]] = []
    r = router(project, built, field="department", routes=ROUTES)
    with caplog.at_level(logging.WARNING, logger="ragtune.routing"):
        route, answer = r.answer("leave", {"department": "sales"}, strategy="raft+rag")
    assert route.adapter == "" and answer.strategy == "rag" and built == [("rag", "")]
    assert "(none: plain rag)" in caplog.text
    assert answer.text == "answer from base [1]."


def test_metadata_of_the_top_chunk_picks_the_adapter(project: Project) -> None:
    built: list[tuple[str, str]] = []
    r = router(project, built, metadata_key="department", routes=ROUTES)
    assert r.resolve(None, "VPN port 443").adapter == "it-lora"
    assert r.resolve(None, "annual leave new hires days").adapter == "hr-lora"
    unmatched = r.resolve(None, "canteen opens noon")
    assert unmatched == Route("", "department", None, False, "metadata")
    # The metadata is read with the caller's filters: only 'it' documents can be on top.
    assert r.resolve(None, "annual leave", filters="department = it").adapter == "it-lora"
    with pytest.raises(UsageError, match="routing uses document metadata"):
        r.resolve({"department": "hr"}, "leave")


def test_routing_off_and_strategy_table(project: Project) -> None:
    built: list[tuple[str, str]] = []
    r = router(project, built)
    assert not r.enabled and r.resolve({"department": "hr"}) == Route("")
    assert strategy_for("rag", "a") == "ft+rag" and strategy_for("base", "a") == "ft"
    assert strategy_for("raft+rag", "a") == "raft+rag" and strategy_for("raft+rag", "") == "rag"
    assert strategy_for("ft", "") == "base" and strategy_for("rag", "") == "rag"


def test_bad_config_refused_with_where(project: Project) -> None:
    with pytest.raises(ConfigError, match=r"routing.field or routing.metadata_key, not both"):
        Settings.load(None, routing={"field": "a", "metadata_key": "b"})
    with pytest.raises(ConfigError, match=r"routing.routes needs routing.field"):
        Settings.load(None, routing={"routes": ROUTES})
    settings = RoutingSettings(field="department", routes={"hr": "ghost"})
    with pytest.raises(ConfigError, match=r"routing.routes.hr names adapter 'ghost'"):
        Router(project, settings)
    with pytest.raises(ConfigError, match=r"routing.default names adapter 'nope'"):
        Router(project, RoutingSettings(field="department", default="nope"))


def run(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["-C", str(root), *args])
    return result.exit_code, result.output


def test_ask_route_errors(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAGTUNE_EMBEDDER__NAME", "hash")
    root = project.root
    code, out = run(root, "ask", "leave?", "--route", "department=hr")
    assert code == 2 and "--route needs a [routing] section with routes" in out
    (root / "ragtune.toml").write_text(
        '[routing]\nfield = "department"\n[routing.routes]\nhr = "ghost"\n'
    )
    for args, message in [
        (("--route", "team=hr"), "--route team=...: routing.field is 'department'"),
        (("--route", "department"), "--route expects KEY=VALUE, got 'department'"),
        (("--route", "department=hr", "--adapter", "x"), "--route and --adapter exclude"),
        (("--route", "department=hr"), "routing.routes.hr names adapter 'ghost'"),
    ]:
        code, out = run(root, "ask", "leave?", *args)
        assert code != 0 and message in out and "Traceback" not in out, out


def test_the_routed_strategy_routes_each_question_of_a_batch(project: Project) -> None:
    """RoutedSystem (the `routed` strategy): per question by document metadata, one batch per
    adapter, answers back in the questions' order; options and thresholds reach every system."""
    from ragtune.routing import RoutedSystem

    built: list[tuple[str, str]] = []
    routed = RoutedSystem(router(project, built, metadata_key="department", routes=ROUTES))
    routed.options = routed.options.merged({"max_new_tokens": 7})
    questions = ["What port does the VPN use?", "How much annual leave?", "When does it open?"]
    answers = routed.answer_many(questions)
    assert [a.adapter for a in answers] == ["it-lora", "hr-lora", ""]
    assert [a.text for a in answers] == ["answer from it-lora [1].", "answer from hr-lora [1].",
                                         "answer from base [1]."]  # fmt: skip
    assert sorted(built) == [("ft+rag", "hr-lora"), ("ft+rag", "it-lora"), ("rag", "")]
    assert all(s.options.max_new_tokens == 7 for s in routed._systems.values())
    one = routed.answer("What port does the VPN use?")
    assert one.adapter == "it-lora" and len(built) == 3  # systems are built once per adapter


def test_the_routed_strategy_is_built_like_any_other(project: Project) -> None:
    """project.answer_system("routed"): without [routing] routes it answers as rag does; a
    batch cannot route on request fields, which it has none of."""
    from ragtune.routing import RoutedSystem

    plain = project.answer_system("routed")
    assert isinstance(plain, RoutedSystem)
    assert plain.answer("How much annual leave?").strategy == "rag"
    built: list[tuple[str, str]] = []
    by_field = RoutedSystem(router(project, built, field="department", routes=ROUTES))
    assert by_field.answer("leave", request={"department": "hr"}).adapter == "hr-lora"
    with pytest.raises(UsageError, match=r"routing\.field"):
        by_field.answer_many(["leave"])
