"""Abstention: answer "not found in the documents" when the retrieved evidence is weak.

The evidence score (see :mod:`ragtune.retrieval.evidence`) of the best retrieved sentence is
compared with a threshold. ``ragtune calibrate`` chooses the threshold on the project's own
evaluation questions and saves it, with how it was chosen, to
``.ragtune/abstention.json``:

- with unanswerable questions: the threshold that abstains on the most unanswerable ones while
  refusing at most ``max_false_abstention`` of the answerable ones;
- without: the ``max_false_abstention`` quantile of the answerable questions' scores (so about
  that share of answerable questions would be refused, and anything weaker than them is).

Example::

    cal = calibrate(answerable_scores, unanswerable_scores, max_false_abstention=0.1)
    cal.save(project.state_dir / CALIBRATION_FILE)
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.errors import LoadError, UsageError

if TYPE_CHECKING:
    from ragtune.project import Project

CALIBRATION_FILE = "abstention.json"
FORMAT_VERSION = 1
# Measured on the bundled sample (85 questions, 10 unanswerable) with the packaged MiniLM and
# cosine_weight 0.5: abstains on 7/10 unanswerable, refuses 5/75 answerable (bench/small_model.py).
# A project's own calibration replaces it.
DEFAULT_THRESHOLD = 0.40


@dataclass
class Calibration:
    """A chosen threshold and the evidence behind it."""

    threshold: float
    method: str
    n_answerable: int
    n_unanswerable: int
    abstention_rate: float | None  # on unanswerable questions (None: there were none)
    false_abstention_rate: float  # on answerable questions
    max_false_abstention: float
    cosine_weight: float = 0.5
    source: str = ""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    version: int = FORMAT_VERSION

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2, sort_keys=True))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Calibration:
        try:
            data: dict[str, Any] = json.loads(path.read_text())
            if data.get("version") != FORMAT_VERSION:
                raise ValueError(f"format version {data.get('version')}, expected 1")
            return cls(**data)
        except (OSError, ValueError, TypeError) as exc:
            raise LoadError(
                f"cannot read the abstention calibration {path}: {exc}",
                "run `ragtune calibrate` again",
            ) from None

    def describe(self) -> str:
        if self.abstention_rate is None:
            return (
                f"threshold {self.threshold:.3f}: {self.method} "
                f"({self.n_answerable} answerable questions, "
                f"{self.false_abstention_rate:.0%} of them refused)"
            )
        return (
            f"threshold {self.threshold:.3f}: {self.method}; abstains on "
            f"{self.abstention_rate:.0%} of {self.n_unanswerable} unanswerable and "
            f"{self.false_abstention_rate:.0%} of {self.n_answerable} answerable questions"
        )


def calibrate(
    answerable: Sequence[float],
    unanswerable: Sequence[float],
    max_false_abstention: float = 0.10,
    cosine_weight: float = 0.5,
    source: str = "",
) -> Calibration:
    """Choose the threshold (see the module docs); scores are best-sentence evidence scores."""
    if not answerable:
        raise UsageError(
            "calibration needs answerable questions", "use an evaluation file with answers"
        )
    ans = np.asarray(answerable, dtype=float)
    una = np.asarray(unanswerable, dtype=float)
    if una.size == 0:
        threshold = float(np.quantile(ans, max_false_abstention, method="lower"))
        method = f"{max_false_abstention:.0%} quantile of answerable scores"
    else:
        threshold, best = 0.0, -1.0
        # Candidates midway between observed scores, so ties do not decide by float noise.
        scores = np.unique(np.concatenate([ans, una]))
        candidates = np.concatenate([[0.0], (scores[:-1] + scores[1:]) / 2, [scores[-1] + 1e-6]])
        for t in candidates:
            if float(np.mean(ans < t)) <= max_false_abstention and float(np.mean(una < t)) > best:
                threshold, best = float(t), float(np.mean(una < t))
        method = f"most unanswerable refused with <= {max_false_abstention:.0%} answerable refused"
    return Calibration(
        threshold=round(threshold, 6), method=method, n_answerable=int(ans.size),
        n_unanswerable=int(una.size),
        abstention_rate=float(np.mean(una < threshold)) if una.size else None,
        false_abstention_rate=float(np.mean(ans < threshold)),
        max_false_abstention=max_false_abstention, cosine_weight=cosine_weight, source=source,
    )  # fmt: skip


def resolve_threshold(configured: float | None, state_dir: Path) -> tuple[float, str]:
    """(threshold, where it came from): the setting, else the calibration, else the default."""
    if configured is not None:
        return configured, "abstention.threshold in ragtune.toml"
    path = state_dir / CALIBRATION_FILE
    if path.exists():
        return Calibration.load(path).threshold, f"calibrated ({path})"
    return DEFAULT_THRESHOLD, "built-in default (measured on the bundled sample)"


def evidence_scores(project: Project, questions: Sequence[str]) -> list[float]:
    """Each question's evidence score through the same path ``rag``/``extract`` use."""
    system = project.answer_system("extract")
    system.threshold = None
    return [system.prepare(q, None, None, None).support or 0.0 for q in questions]


def calibrate_project(
    project: Project, items: Sequence[Any], source: str = ""
) -> tuple[Calibration, list[float]]:
    """Calibrate on evaluation items (with ``question`` and ``unanswerable``) and save the
    result to ``.ragtune/abstention.json``; returns it with the per-item scores."""
    a = project.settings.abstention
    scores = evidence_scores(project, [i.question for i in items])
    answerable = [s for s, i in zip(scores, items, strict=True) if not i.unanswerable]
    unanswerable = [s for s, i in zip(scores, items, strict=True) if i.unanswerable]
    cal = calibrate(answerable, unanswerable, a.max_false_abstention, a.cosine_weight, source)
    cal.save(project.state_dir / CALIBRATION_FILE)
    return cal, scores
