"""Abstention: answer "not found in the documents" when the retrieved evidence is weak.

The evidence score (see :mod:`ragtune.retrieval.evidence`) of the best retrieved sentence is
compared with a threshold. ``ragtune calibrate`` chooses the threshold on the project's own
evaluation questions and saves it, with how it was chosen, to
``.ragtune/abstention.json``:

- with unanswerable questions: the threshold that abstains on the most unanswerable ones while
  refusing at most ``max_false_abstention`` of the answerable ones;
- without: the ``max_false_abstention`` quantile of the answerable questions' scores (so about
  that share of answerable questions would be refused, and anything weaker than them is).

A pilot that measures abstention on the same questions cannot calibrate on them and keep
the measure honest, so it *cross-fits* (:func:`crossfit`): the questions are split into two
folds, each half calibrated, and every question answered with the threshold chosen on the
other half. The measured rates are then what a calibrated project can expect on questions it
has not seen; the threshold calibrated on all of them is reported as the one to deploy.

Example::

    cal = calibrate(answerable_scores, unanswerable_scores, max_false_abstention=0.1)
    cal.save(project.paths.calibration)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ragtune.errors import LoadError, UsageError
from ragtune.paths import ProjectPaths

if TYPE_CHECKING:
    from ragtune.project import Project

FORMAT_VERSION = 1
# Measured on the bundled sample (85 questions, 10 unanswerable) with the packaged MiniLM and
# cosine_weight 0.5: abstains on 7/10 unanswerable, refuses 5/75 answerable (bench/small_model.py).
# A project's own calibration replaces it.
DEFAULT_THRESHOLD = 0.40
# Cross-fitting needs this many answerable and unanswerable questions in each fold; with fewer
# a fold's calibration is noise, and the project's threshold is used instead. Measured: the
# demo's 36 questions (10 unanswerable, 5 a fold) cross-fitted refused 6 of 26 answerable
# ones (23 %; the built-in 0.40 refuses about 7 %); 25 unanswerable (12-13 a fold) on the
# Python and Django FAQ sets refused none.
CROSSFIT_FOLDS = 2
CROSSFIT_MIN_PER_FOLD = 10


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
    path = ProjectPaths(state_dir).calibration
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
    cal.save(project.paths.calibration)
    return cal, scores


@dataclass
class CrossFit:
    """Per-question thresholds, each calibrated on the other fold (see the module docs)."""

    thresholds: dict[str, float]  # question text -> threshold it is answered with
    folds: list[Calibration]  # folds[j] was calibrated on fold j, applied to the others
    full: Calibration  # on every question: the threshold to deploy

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": f"cross-fitted over {len(self.folds)} folds",
            "fold_thresholds": [f.threshold for f in self.folds],
            "deploy": asdict(self.full),
        }


def _fold(text: str, seed: int) -> str:
    return hashlib.sha256(f"{seed}:{text}".encode()).hexdigest()


def crossfit(
    questions: Sequence[str],
    scores: Sequence[float],
    unanswerable: Sequence[bool],
    max_false_abstention: float = 0.10,
    cosine_weight: float = 0.5,
    seed: int = 0,
    source: str = "",
    min_per_fold: int = CROSSFIT_MIN_PER_FOLD,
) -> CrossFit | None:
    """Cross-fitted thresholds for ``questions`` (with their evidence scores); None when a
    fold would hold fewer than ``min_per_fold`` of either kind. The folds are
    stratified (answerable and unanswerable dealt out in turn, in a seeded hash order) and a
    repeated question always lands in one fold."""
    first: dict[str, tuple[float, bool]] = {}
    for q, s, u in zip(questions, scores, unanswerable, strict=True):
        first.setdefault(q, (float(s), bool(u)))
    fold_of: dict[str, int] = {}
    for kind in (False, True):
        texts = [q for q, (_, u) in first.items() if u is kind]
        texts.sort(key=lambda q: _fold(q, seed))
        if len(texts) < CROSSFIT_FOLDS * min_per_fold:
            return None
        fold_of.update({q: n % CROSSFIT_FOLDS for n, q in enumerate(texts)})

    def fit(texts: Sequence[str], where: str) -> Calibration:
        ans = [first[q][0] for q in texts if not first[q][1]]
        una = [first[q][0] for q in texts if first[q][1]]
        return calibrate(ans, una, max_false_abstention, cosine_weight, where)

    folds = [
        fit([q for q, f in fold_of.items() if f == j], f"{source} (fold {j + 1})")
        for j in range(CROSSFIT_FOLDS)
    ]
    # Two folds: each question gets the other fold's threshold; more: the mean of the others'.
    thresholds = {
        q: float(np.mean([c.threshold for j, c in enumerate(folds) if j != f]))
        for q, f in fold_of.items()
    }
    return CrossFit(thresholds, folds, fit(list(first), source))


def crossfit_project(project: Project, items: Sequence[Any], seed: int = 0) -> CrossFit | None:
    """:func:`crossfit` on evaluation items with the project's settings; None when abstention
    is off, its threshold is set in ragtune.toml (the user's choice wins) or there are too
    few questions of either kind. Nothing is saved: ``ragtune calibrate`` does that."""
    a = project.settings.abstention
    if not a.enabled or a.threshold is not None:
        return None
    if sum(bool(i.unanswerable) for i in items) < CROSSFIT_FOLDS * CROSSFIT_MIN_PER_FOLD:
        return None  # before spending time on the scores
    questions = [i.question for i in items]
    scores = evidence_scores(project, questions)
    flags = [bool(i.unanswerable) for i in items]
    return crossfit(
        questions,
        scores,
        flags,
        a.max_false_abstention,
        a.cosine_weight,
        seed,
        "the run's questions",
    )
