"""Hybrids on the real packaged models: RAFT data -> a RAFT LoRA, routing between adapters on
one shared base model, and ft+rag / raft+rag answers whose citations resolve to stored text."""

import json
import logging

import httpx
import pytest
from tests.conftest import EXAMPLES
from tests.helpers.service import serve_app
from tests.integration.test_finetune_real import style_rows, write_dataset

from ragtune.config import RoutingSettings, Settings
from ragtune.evaluation.datasets import EvalItem
from ragtune.evaluation.runner import CompareConfig, Runner, StrategySpec
from ragtune.finetune.config import TuneConfig
from ragtune.finetune.data import load_split
from ragtune.finetune.raft import build_raft_dataset
from ragtune.finetune.rows import TrainingRow
from ragtune.finetune.train import train
from ragtune.generate.prompts import CANNOT_ANSWER
from ragtune.project import Project
from ragtune.registry import strategies
from ragtune.routing import Router
from ragtune.service.app import create_app
from ragtune.service.deps import ServiceConfig
from ragtune.store.keys import create_key
from ragtune.types import Answer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # real training; slow under load
DOCS = ("hr/annual-leave.md", "it/password-mfa-policy.md", "company/remote-work.md")
QUESTION = "How many days of unused annual leave can be carried over?"
SHORT = {"max_new_tokens": 20}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Project:
    """Three sample documents in small chunks, a RAFT adapter and a 'ZEBRA' adapter."""
    root = tmp_path_factory.mktemp("hybrid")
    # Small chunks and k = 2 keep RAFT prompts short: CPU training time grows with length.
    settings = Settings.load(None, chunking={"size": 80, "overlap": 8}, retrieval={"k": 2})
    p = Project.init(root / "p", settings)
    assert not p.ingest([EXAMPLES / "docs" / d for d in DOCS]).by_status("failed")
    # Oracle always present: 4 steps on examples with 20 % abstention targets taught the 135M
    # model to abstain on everything (seen here). The share is tested on the data itself.
    _, record = build_raft_dataset(p, name="raft", seed=0, k=1, p_missing=0.0)
    assert record["oracle_missing"]["train"] == 0 and record["oracle_present"]["train"] > 0
    write_dataset(p, "shout", [(r["question"], "ZEBRA ZEBRA ZEBRA.") for r in style_rows()[:10]])
    with pytest.MonkeyPatch.context() as mp:
        # The forgetting probe (tested in test_finetune_real) would double the training time.
        mp.setattr("ragtune.finetune.train._forgetting", lambda *a: {})
        for name, dataset, length in (("raft-a", "raft", 384), ("zebra", "shout", 96)):
            # Random batch order, as before length grouping: with 4 steps at lr 1e-2 the grouped
            # order gave a RAFT adapter whose raft+rag answer was empty (EOS first) under the
            # full suite's threads. The product trains at 5e-4 / 1e-3, where grouping was
            # measured (bench/NOTES.md); this test is about hybrids, not batching.
            config = TuneConfig(name=name, dataset=dataset, max_steps=4, learning_rate=1e-2,
                                batch_size=2, max_length=length, group_lengths=False)  # fmt: skip
            train(p, config)
            base, tuned = loss_on_training_rows(p, name, dataset, length)
            assert tuned < base, (name, base, tuned)
    return p


def loss_on_training_rows(
    project: Project, name: str, dataset: str, length: int
) -> tuple[float, float]:
    """(base, adapter) answer loss on the same four training rows: the per-step losses of a
    run come from different batches, so comparing them does not show learning."""
    import torch
    from transformers import DataCollatorForSeq2Seq

    from ragtune.finetune.loading import load_with_adapter
    from ragtune.finetune.loss import answer_loss
    from ragtune.finetune.train import ExampleEncoder

    model, tok = load_with_adapter(project, name)
    model.eval()
    encoder = ExampleEncoder(tok, length, project.settings.prompt.base_system)
    lines = (project.state_dir / "datasets" / dataset / "train.jsonl").read_text().splitlines()
    rows = [encoder(TrainingRow.from_dict(json.loads(line))) for line in lines[:4]]
    batch = dict(DataCollatorForSeq2Seq(tok, padding=True, label_pad_token_id=-100)(rows))
    with torch.no_grad():
        tuned = float(answer_loss(model, batch)[0])
        with model.disable_adapter():
            base = float(answer_loss(model, batch)[0])
    return base, tuned


def resolves(project: Project, answer: Answer) -> bool:
    """Every citation points at a stored chunk of its document, and its quote is the text."""
    for c in answer.citations:
        chunks = {ch.id: ch for ch in project.store.chunks_of(c.doc_id)}
        chunk = chunks.get(c.chunk_id)
        text = project.document(c.doc_id).text
        if chunk is None or not chunk.start <= c.start <= c.end <= chunk.end:
            return False
        if text[c.start : c.end] != c.quote:
            return False
    return True


def test_raft_training_rows_are_the_serving_prompt(project: Project) -> None:
    system = project.answer_system("rag")
    assert system.builder is not None
    for row in load_split(project, "raft", "train")[:5]:
        ids = row.extra["raft"]["chunk_ids"]
        hits = [h for h in project.search(row.question, k=50) if h.chunk.id in ids]
        if len(hits) != len(ids):
            continue  # the oracle may rank below 50 for a hard question
        hits.sort(key=lambda h: ids.index(h.chunk.id))
        assert system.builder.rag(row.question, hits).messages == (row.messages or [])[:-1]


def test_ft_rag_and_raft_rag_cite_stored_chunks(project: Project) -> None:
    assert {"ft+rag", "raft+rag"} <= set(strategies.names())
    # ft+rag takes any adapter; here the RAFT one, so both must cite (and do identically).
    for strategy, adapter in (("raft+rag", "raft-a"), ("ft+rag", "raft-a")):
        answer = project.ask(QUESTION, strategy=strategy, adapter=adapter, options=SHORT)
        assert answer.strategy == strategy and answer.adapter == adapter
        assert answer.text and answer.text != CANNOT_ANSWER, answer.text
        assert answer.citations and resolves(project, answer), (answer.text, answer.citations)
    # Whether 4 training steps teach the model to write [n] itself varies with float rounding
    # (thread counts) — seen both ways on the same seed — so that is a bench number
    # (bench/hybrids_sample.py), not a test assertion; the citations above must resolve always.


def test_routing_picks_the_mapped_adapter(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    settings = RoutingSettings(field="department", routes={"it": "zebra", "hr": "raft-a"})
    router = Router(project, settings)
    answers = {}
    for dept in ("it", "hr", "legal"):
        with caplog.at_level(logging.WARNING, logger="ragtune.routing"):
            route, answer = router.answer(QUESTION, {"department": dept}, options=SHORT)
        answers[dept] = answer
        assert answer.adapter == route.adapter
    assert answers["it"].strategy == answers["hr"].strategy == "ft+rag"
    assert answers["legal"].strategy == "rag" and answers["legal"].adapter == ""
    assert "no route for department='legal'" in caplog.text
    # What each model wrote (an answer the passages do not hold is then replaced by the
    # evidence span, which is the same whatever the adapter).
    texts = {d: a.replaced or a.text for d, a in answers.items()}
    assert len(set(texts.values())) == 3, texts
    assert "ZEBRA" in texts["it"] and "ZEBRA" not in texts["hr"] + texts["legal"]
    # One shared base model; switching back gives the same output again.
    zebra, raft = project.adapter_generator("zebra"), project.adapter_generator("raft-a")
    assert zebra.base is raft.base  # type: ignore[attr-defined]
    _, again = router.answer(QUESTION, {"department": "it"}, options=SHORT)
    assert (again.replaced or again.text) == texts["it"]


def test_routing_by_document_metadata(project: Project) -> None:
    settings = RoutingSettings(metadata_key="department", routes={"it": "zebra"},
                               default="raft-a")  # fmt: skip
    router = Router(project, settings)
    route, answer = router.answer("What is the minimum password length?", options=SHORT)
    assert (route.source, route.value, route.adapter) == ("metadata", "it", "zebra")
    assert "ZEBRA" in (answer.replaced or answer.text)
    route, answer = router.answer(QUESTION, options=SHORT)
    assert (route.value, route.adapter, route.matched) == ("hr", "raft-a", False)
    assert answer.adapter == "raft-a" and "ZEBRA" not in answer.text


def test_the_routed_strategy_in_compare_and_the_service(project: Project) -> None:
    """Routing as the `routed` strategy, built by project.answer_system like the others:
    compare answers each question with its document's adapter (metadata routing), and the
    service routes a request on its `route` fields."""
    by_doc = project.with_settings(
        routing={"metadata_key": "department", "routes": {"it": "zebra"}, "default": "raft-a"}
    )
    items = [EvalItem("pw", "What is the minimum password length?"), EvalItem("leave", QUESTION)]
    config = CompareConfig([StrategySpec("routed")], options=SHORT, resamples=50,
                           latency_sample=0, selftest_sample=0)  # fmt: skip
    runner = Runner(by_doc, items, config)
    results = runner.run()
    stored = {i: r["answer"] for i, r in runner.store.answers("main", "routed").items()}
    runner.close()
    assert results.labels == ["routed"]
    assert {i: a["adapter"] for i, a in stored.items()} == {"pw": "zebra", "leave": "raft-a"}
    assert "ZEBRA" in (stored["pw"]["replaced"] or stored["pw"]["text"])
    assert "ZEBRA" not in (stored["leave"]["replaced"] or stored["leave"]["text"])

    by_field = project.with_settings(routing={"field": "department", "routes": {"it": "zebra"}})
    key = create_key(by_field.store, "root", [], admin=True)[0]
    headers = {"Authorization": f"Bearer {key}"}
    with serve_app(create_app(by_field, ServiceConfig(warm=False))) as url:

        def ask(model: str, department: str) -> httpx.Response:
            body = {"question": QUESTION, "max_tokens": 20, "model": model,
                    "route": {"department": department}}  # fmt: skip
            return httpx.post(f"{url}/v1/ask", headers=headers, json=body, timeout=600)

        models = httpx.get(f"{url}/v1/models", headers=headers, timeout=60).json()
        assert "routed" in [m["id"] for m in models["data"]]
        it, legal = ask("routed", "it"), ask("routed", "legal")
        assert it.status_code == legal.status_code == 200, (it.text, legal.text)
        assert it.json()["adapter"] == "zebra" and legal.json()["adapter"] == ""
        assert "ZEBRA" in (it.json()["replaced"] or it.json()["text"])
        wrong = ask("rag", "it")
        assert wrong.status_code == 400 and "routed" in wrong.text
