"""Helpers shared by the commands: opening the project, console, JSON output."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
from rich.console import Console

from ragtune.errors import UsageError
from ragtune.evaluation.runner import CompareConfig
from ragtune.project import Project

F = TypeVar("F", bound=Callable[..., Any])


def open_project(ctx: click.Context) -> Project:
    return Project.open(ctx.obj["project_dir"])


def console(err: bool = False) -> Console:
    return Console(stderr=err, highlight=False, soft_wrap=True)


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str))


def split_csv(values: tuple[str, ...]) -> list[str]:
    """``("hr,eng", "ops")`` -> ``["hr", "eng", "ops"]`` for repeatable comma options."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def parse_pairs(values: tuple[str, ...], flag: str) -> dict[str, str]:
    """``("k=v", ...)`` from a repeatable option -> dict; a malformed item names the flag.
    Values are kept as given (a stop sequence may be whitespace)."""
    pairs: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} expects KEY=VALUE, got {item!r}")
        pairs[key.strip()] = value
    return pairs


def json_option(what: str = "", note: str = "") -> Callable[[F], F]:
    """``--json`` (into ``as_json``), the same flag on every command that prints a result."""
    target = f" {what}" if what else ""
    return click.option("--json", "as_json", is_flag=True, help=f"Print{target} as JSON{note}.")


def seed_option(help: str, default: int = 0) -> Callable[[F], F]:
    return click.option("--seed", type=int, default=default, show_default=True, help=help)


def resamples_option(default: int) -> Callable[[F], F]:
    """``--resamples``; ``default`` comes from the command's config class."""
    return click.option(
        "--resamples",
        type=click.IntRange(min=1),
        default=default,
        show_default=True,
        help="Bootstrap resamples behind every confidence interval. compare defaults to "
        "2000; the pilot to 1000, which keeps its scoring stage short (on the demo's 36 "
        "questions no interval end moved by more than 0.005 between the two).",
    )


# compare and pilot take the same options (see CompareConfig.latency_sample and .crossfit).
crossfit_option = click.option(
    "--crossfit/--no-crossfit",
    default=True,
    show_default=True,
    help="When the questions include at least 20 unanswerable and 20 answerable ones and "
    "ragtune.toml sets no abstention.threshold: split them in two halves, calibrate the "
    "abstention threshold on each and answer every question with the other half's "
    "threshold, so the abstention rates measured are those of a calibrated project on "
    "unseen questions. The report gives the threshold calibrated on all of them "
    "(`ragtune calibrate` saves it). With fewer, or --no-crossfit, the project's threshold "
    "answers (halves of 5 unanswerable questions gave thresholds that refused 23 % of the "
    "answerable ones).",
)
latency_sample_option = click.option(
    "--latency-sample",
    type=click.IntRange(min=0),
    default=CompareConfig.latency_sample,
    show_default=True,
    help="Questions (the first N) each strategy answers one request at a time; latency "
    "p50/p95 come from these (a batched answer's timings are its whole batch's wall time). "
    "0 = latency from the batches.",
)
