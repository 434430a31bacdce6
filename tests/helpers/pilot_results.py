"""Small, hand-made ``ragtune compare`` results for advisor and report unit tests: means with
CIs computed from per-question values, so the paired differences are real.
:func:`make_results` returns a :class:`~ragtune.evaluation.results.Results`;
:func:`make_results_dict` the same as the ``results.json`` mapping."""

from __future__ import annotations

from typing import Any

from ragtune.evaluation.pathologies import summary
from ragtune.evaluation.results import Results
from ragtune.evaluation.sections import StyleCheck
from ragtune.evaluation.selftest import KINDS
from ragtune.evaluation.stats import bootstrap_ci, paired_difference

N = 30


def _values(mean: float, n: int = N, salt: int = 0) -> list[float]:
    """n per-question scores in [0, 1] around the given mean; ``salt`` varies the spread so
    that two strategies' paired differences are not constant."""
    spread = [((k * (7 + salt)) % 11 - 5) / 25 for k in range(n)]
    return [min(1.0, max(0.0, mean + s)) for s in spread]


def _ci(values: list[float]) -> dict[str, Any]:
    return bootstrap_ci(values, seed=0, n_resamples=300).to_dict()


def make_selftest(labels: list[str], caught: dict[str, float] | None = None) -> dict[str, Any]:
    """A judge self-test (the shape of ``run_selftest``): every strategy had 30 answers
    edited each way; ``caught``: {kind: share caught}, every other kind all caught."""
    rates = {**dict.fromkeys(KINDS, 1.0), **(caught or {})}
    out: dict[str, Any] = {
        "sample": 30, "threshold": 0.9, "supported_min": 0.5, "definitions": dict(KINDS),
        "answers": dict.fromkeys(labels, 30), "caught": {},
        "unparsable": {k: dict.fromkeys(labels, 0) for k in KINDS},
        "missed": {k: {s: ["q001"] if rates[k] < 1 else [] for s in labels} for k in KINDS},
    }  # fmt: skip
    for kind, rate in rates.items():
        per = {s: [1.0 if k < round(rate * 30) else 0.0 for k in range(30)] for s in labels}
        pooled = [v for vs in per.values() for v in vs]
        out["caught"][kind] = {s: _ci(v) for s, v in [*per.items(), ("all", pooled)]}
    return out


def make_results(*args: Any, **kw: Any) -> Results:
    """The results of :func:`make_results_dict` (same arguments), typed."""
    return Results.from_dict(make_results_dict(*args, **kw))


def make_results_dict(
    f1: dict[str, float] | None = None,
    p95: dict[str, float] | None = None,
    fresh_new: dict[str, float] | None = None,
    n: int = N,
    folder: str = "",
    pathologies: dict[str, dict[str, float]] | None = None,
    caught: dict[str, float] | None = None,
) -> dict[str, Any]:
    """``pathologies``: {strategy: {kind: share}}; every other kind and strategy has none.
    ``caught``: the judge self-test's share caught per kind (default: all caught)."""
    f1 = f1 or {"base": 0.10, "rag": 0.45, "extract": 0.40, "ft:k": 0.15}
    p95 = p95 or {s: (0.8 if "rag" in s or s == "extract" else 0.4) for s in f1}
    labels = list(f1)
    per = {
        s: {"f1": _values(f1[s], n, k), "latency_total": _values(p95[s] / 1.5, n)}
        for k, s in enumerate(labels)
    }
    metrics: dict[str, Any] = {"answers": {"f1": {}, "contains": {}}, "citations": {
        "citation_precision": {}, "citation_inferred": {}}}  # fmt: skip
    paired: dict[str, Any] = {"answers": {"f1": [], "contains": []}, "citations": {
        "citation_precision": [], "citation_inferred": []}}  # fmt: skip
    for s in labels:
        metrics["answers"]["f1"][s] = _ci(per[s]["f1"])
        metrics["answers"]["contains"][s] = _ci(_values(f1[s] / 2, n))
        cites = _values(0.7, n) if "rag" in s or s == "extract" else [float("nan")] * n
        metrics["citations"]["citation_precision"][s] = _ci(cites)
        metrics["citations"]["citation_inferred"][s] = _ci(cites)
    metrics["pathologies"], paired["pathologies"] = {}, {}
    for kind in ("echo", "label", "refusal", "empty", "repetition"):
        metrics["pathologies"][kind], paired["pathologies"][kind] = {}, []
        for s in labels:
            share = (pathologies or {}).get(s, {}).get(kind, 0.0)
            hits = round(share * n)
            per[s][kind] = [1.0 if k < hits else 0.0 for k in range(n)]
            metrics["pathologies"][kind][s] = _ci(per[s][kind])
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            d = paired_difference(per[a]["f1"], per[b]["f1"], seed=0, n_resamples=300)
            paired["answers"]["f1"].append({"a": a, "b": b, **d.to_dict()})
    ids = [f"q{k:03d}" for k in range(n)]
    perf = {s: {"latency_s": {"total": {"p50": _ci(per[s]["latency_total"]),
                                        "p95": {**_ci(per[s]["latency_total"]), "mean": p95[s]}}},
                "tokens_in": _ci([300.0] * n), "tokens_out": _ci([20.0] * n),
                "compute_s_per_query": _ci([p95[s] / 2] * n), "peak_rss_mb": 900.0,
                "training_wall_s": 120.0 if ":" in s else 0.0} for s in labels}  # fmt: skip
    cost = {"hardware": "cpu", "hour_price": 0.1, "pricing": {}, "break_even": [
        {"a": "ft:k", "b": "rag", "extra_training_usd": 0.0033, "saving_per_query_usd": 1e-6,
         "queries": 3300.0}] if "ft:k" in labels and "rag" in labels else [],
        "strategies": {s: {"per_query": p95[s] / 2 / 3600 * 0.1,
                           "training": (120.0 if ":" in s else 0.0) / 3600 * 0.1,
                           "per_1k_queries": p95[s] / 2 / 3.6 * 0.1} for s in labels}}  # fmt: skip
    fresh_new = fresh_new or {s: (0.8 if "rag" in s or s == "extract" else 0.0) for s in labels}
    freshness = {"update": "v2", "questions": 10, "reindex_s": 3.2, "ingest": {}, "strategies": {
        s: {"main": {"new": _ci([0.0] * 10)},
            "fresh": {"new": _ci(_values(fresh_new[s], 10)), "stale": _ci(_values(0.1, 10))},
            "time_to_fresh": {"seconds": 3.2 if "rag" in s or s == "extract" else 120.0,
                              "how": "re-index (measured)"}} for s in labels}}  # fmt: skip
    forgetting = {"k": {"base_perplexity": 10.0, "adapter_perplexity": 11.0,
                        "perplexity_increase_pct": 10.0, "base_accuracy": 0.5,
                        "adapter_accuracy": 0.4}}  # fmt: skip
    return {
        "run": {"id": "fake", "folder": folder, "questions": n, "wall_s": 1.0},
        "definitions": {"answers": {"f1": "token F1", "contains": "gold inside answer"}},
        "metrics": metrics, "paired": paired,
        "judge": {"name": "offline", "failures": {}, "judged": {},
                  "selftest": make_selftest(labels, caught), "agreement": None},
        "performance": perf, "cost": cost, "freshness": freshness, "forgetting": forgetting,
        "pathologies": summary(per, ids).to_dict(),
        "per_question": {s: {"ids": ids, **per[s]} for s in labels},
    }  # fmt: skip


def make_style(adapter_pass: float = 0.75, base_pass: float = 0.0, n: int = 16) -> StyleCheck:
    a = [1.0 if k < adapter_pass * n else 0.0 for k in range(n)]
    b = [1.0 if k < base_pass * n else 0.0 for k in range(n)]
    return StyleCheck.from_dict({
        "adapter": "pilot-style", "n": n, "features": ["starts with 'Short answer:'"],
        "format_pass": {"base": _ci(b), "adapter": _ci(a)},
        "format_parts": {"base": _ci(b), "adapter": _ci(a)},
        "difference": paired_difference(a, b, seed=0, n_resamples=300).to_dict(),
    })  # fmt: skip


def run_fake_compare(root: Any) -> tuple[Any, Results]:
    """A real compare run (base, rag) on two sample documents with the hash embedder and the
    eval-fake generator; returns (project, results). Close the project when done."""
    from pathlib import Path

    import tests.unit.evaluation.fake_backend as fake
    from tests.conftest import EXAMPLES

    from ragtune.config import Settings
    from ragtune.evaluation.datasets import load_eval_file
    from ragtune.evaluation.runner import CompareConfig, Runner, StrategySpec
    from ragtune.project import Project
    from ragtune.report.drilldown import save_items

    docs = Path(root) / "docs" / "hr"
    docs.mkdir(parents=True)
    for name in ("annual-leave.md", "hr-faq.md"):
        (docs / name).write_bytes((EXAMPLES / "docs" / "hr" / name).read_bytes())
    settings = Settings.load(None, embedder={"name": "hash"}, generator={"backend": fake.NAME})
    project = Project.init(Path(root) / "proj", settings)
    project.ingest([docs.parent])
    wanted = {"hr/annual-leave.md", "hr/hr-faq.md"}
    items = [i for i in load_eval_file(EXAMPLES / "eval.jsonl")
             if i.unanswerable or set(i.source_docs) & wanted][:6]  # fmt: skip
    config = CompareConfig([StrategySpec("base"), StrategySpec("rag")], seed=0, batch_size=3,
                           resamples=100)  # fmt: skip
    runner = Runner(project, items, config, run_id="fake")
    save_items(runner.folder, items)
    results = runner.run()
    runner.close()
    return project, results
